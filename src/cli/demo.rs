//! `tessera demo`: the kernel flow on bundled defaults. Two bundled kernels (embedded in the
//! binary, so the demo runs from anywhere) are mapped on three bundled CGRA presets,
//! simulated cycle by cycle on seeded inputs and checked against the reference interpreter.

use super::{Outcome, bad_input, print_json};
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_map::driver::{Judge, MapOptions, map_kernel_judged};

#[derive(clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub seeds: super::Seeds,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

const KERNELS: &[(&str, &str)] = &[
    ("fir.tk", include_str!("../../workloads/kernels/fir.tk")),
    (
        "iir_biquad.tk",
        include_str!("../../workloads/kernels/iir_biquad.tk"),
    ),
];
const ARCHS: &[&str] = &["hycube-4x4", "mesh-4x4", "compose-4x4"];

#[derive(serde::Serialize)]
struct DemoRow {
    kernel: String,
    arch: String,
    nodes: usize,
    mii: u32,
    ii: u32,
    map_ms: f64,
    cycles: u64,
    energy_pj: f64,
    edp_pj_ns: f64,
    matched: bool,
}

pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    args.seeds.refuse_plain_seed()?;
    let (map_seed, input_seed) = (args.seeds.map_seed, args.seeds.input_seed);
    let mut rows = Vec::new();
    for (file, text) in KERNELS {
        let kernel = tessera_ir::lang::parse_str(text, file, &[]).map_err(bad_input)?;
        for arch_name in ARCHS {
            let spin = super::spinner(format!("{} on {arch_name}", kernel.name));
            let arch = CgraSpec::preset(arch_name).map_err(bad_input)?;
            let opts = MapOptions {
                seed: map_seed,
                ..MapOptions::default()
            };
            let judge = |m: &tessera_map::Mapping| tessera_sim::judged_cycles(m, input_seed);
            let mapped = map_kernel_judged(
                &kernel,
                &arch,
                &opts,
                Some(Judge {
                    seed: input_seed,
                    cycles: &judge,
                }),
            )?;
            let report = tessera_sim::simulate(&mapped.mapping, input_seed)?;
            spin.finish_and_clear();
            rows.push(DemoRow {
                kernel: kernel.name.clone(),
                arch: arch_name.to_string(),
                nodes: kernel.node_count(),
                mii: mapped.mii.mii,
                ii: mapped.mapping.ii,
                map_ms: mapped.time_ms,
                cycles: report.total_cycles,
                energy_pj: report.energy.total_pj,
                edp_pj_ns: report.edp_pj_ns,
                matched: report.verification.matched,
            });
        }
    }
    let all_matched = rows.iter().all(|r| r.matched);
    if args.json {
        print_json(&serde_json::json!({
            "map_seed": map_seed,
            "input_seed": input_seed,
            "runs": rows
        }))?;
    } else {
        println!(
            "tessera demo: map + cycle-level simulation + check against the interpreter (mapper seed {map_seed}, input seed {input_seed})\n"
        );
        println!(
            "{:<12} {:<11} {:>5} {:>4} {:>4} {:>9} {:>8} {:>12} {:>14}  result",
            "kernel", "arch", "nodes", "MII", "II", "map ms", "cycles", "energy pJ", "EDP pJ*ns"
        );
        for r in &rows {
            println!(
                "{:<12} {:<11} {:>5} {:>4} {:>4} {:>9.1} {:>8} {:>12.1} {:>14.3e}  {}",
                r.kernel,
                r.arch,
                r.nodes,
                r.mii,
                r.ii,
                r.map_ms,
                r.cycles,
                r.energy_pj,
                r.edp_pj_ns,
                if r.matched {
                    "matches interpreter"
                } else {
                    "MISMATCH"
                }
            );
        }
        println!(
            "\nNext: `tessera map FILE --arch PRESET --explain`, `tessera suite workloads/kernels --arch hycube-4x4`,"
        );
        println!(
            "`tessera compare workloads/kernels --arch mesh-4x4 --arch compose-4x4`, `tessera dram --help`,"
        );
        println!("`tessera accel run workloads/networks/resnet50.ron --arch edge-os-16x16`.");
        println!(
            "Co-search: `tessera search workloads/searches/cgra-kernels.ron -o runs/cgra --threads 2` (docs/search.md);"
        );
        println!(
            "the GUI: `cargo run --release -p tessera-gui -- --view search runs/cgra` (docs/gui/README.md)."
        );
    }
    Ok(if all_matched {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
