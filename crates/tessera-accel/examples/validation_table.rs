//! Prints the markdown tables of `docs/accel-validation.md`: compute cycles of the shipped
//! networks under each dataflow, against SCALE-Sim's closed forms, with the difference split
//! into its two known causes.
//!
//! `cargo run -p tessera-accel --example validation_table`

use tessera_accel::model::{Accelerator, scalesim_compute_cycles, spatial_temporal};
use tessera_accel::networks;
use tessera_arch::Spec;
use tessera_arch::accel::{AccelSpec, Dataflow};

fn main() {
    for (rows, cols) in [(16u32, 16u32), (128, 128)] {
        println!("\n#### {rows}x{cols} array\n");
        println!(
            "| network | dataflow | folds | Tessera compute cycles | SCALE-Sim v2 closed form | difference | partial-fold padding | OS drain (R per fold) |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---:|");
        for name in networks::builtin_names() {
            let net = networks::builtin(name).expect("built-in");
            for df in Dataflow::ALL {
                let mut spec = AccelSpec::preset("edge-os-16x16").expect("preset");
                spec.rows = rows;
                spec.cols = cols;
                spec.dataflow = df;
                let acc = Accelerator::new(&spec);
                let (r, c) = (u64::from(rows), u64::from(cols));
                let (mut ours, mut theirs, mut folds, mut pad) = (0u64, 0u64, 0u64, 0u64);
                for l in &net.layers {
                    let g = l.op.lower(net.batch).expect("lowers");
                    ours += acc.compute_cycles(g.m, g.n, g.k, g.groups).expect("cycles");
                    theirs += scalesim_compute_cycles(df, r, c, g.m, g.n, g.k, g.groups);
                    let (sr, sc, _) = spatial_temporal(df, g.m, g.n, g.k);
                    let (fr, fc) = (sr.div_ceil(r), sc.div_ceil(c));
                    folds += g.groups * fr * fc;
                    pad += g.groups * (fr * fc * (r + c) - fc * sr - fr * sc);
                }
                let drain = if df == Dataflow::OutputStationary {
                    folds * r
                } else {
                    0
                };
                let diff = ours as i128 - theirs as i128;
                assert_eq!(diff, drain as i128 - pad as i128, "identity");
                println!(
                    "| {name} | {} | {folds} | {ours} | {theirs} | {diff:+} ({:+.2} %) | -{pad} | +{drain} |",
                    df.short().to_uppercase(),
                    100.0 * diff as f64 / theirs as f64
                );
            }
        }
    }
}
