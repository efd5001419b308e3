//! Measurement harness (ignored by default): maps every kernel of `workloads/kernels` and
//! the Morpher corpus with the heuristic mapper from the MII up, and prints one line per
//! kernel. Run in release:
//! `cargo test -p tessera-map --release --test heuristic_corpus -- --ignored --nocapture`
//! Set `TESSERA_ARCH` (default `hycube-4x4`) and `TESSERA_ONLY` (substring filter).

use std::path::{Path, PathBuf};
use std::time::Instant;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_map::mii::analyze;

fn kernels() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in [
        root.join("workloads/kernels"),
        root.join("workloads/corpus/cgra/morpher-xml"),
    ] {
        let rd = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        {
            let mut v: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("tk" | "xml")))
                .collect();
            v.sort();
            files.extend(v);
        }
    }
    files
}

#[test]
#[ignore]
fn corpus_table() {
    let arch_name = std::env::var("TESSERA_ARCH").unwrap_or_else(|_| "hycube-4x4".into());
    let only = std::env::var("TESSERA_ONLY").unwrap_or_default();
    let spec = CgraSpec::load(&arch_name).unwrap();
    let mut opts = MapOptions::default();
    if let Ok(a) = std::env::var("TESSERA_ATTEMPTS") {
        opts.attempts_per_ii = a.parse().unwrap();
    }
    if let Ok(a) = std::env::var("TESSERA_ROUNDS") {
        opts.negotiation_rounds = a.parse().unwrap();
    }
    let (mut mapped, mut total, mut at_mii) = (0, 0, 0);
    let mut ratios = Vec::new();
    let mut times = Vec::new();
    for f in kernels() {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if !name.contains(&only) {
            continue;
        }
        let k = match tessera_ir::load_kernel(&f, &[]) {
            Ok(k) => k,
            Err(e) => {
                println!("{name}: load error {e}");
                continue;
            }
        };
        total += 1;
        let mii = match analyze(&k, &spec) {
            Ok(r) => r.mii.max(1),
            Err(e) => {
                println!("{name}: mii error {e}");
                continue;
            }
        };
        // Per-array bank-port bound: arrays live in one bank each (longest-processing-time
        // assignment, as the mapper does); accesses to one bank share its ports.
        let mut acc = vec![0u32; k.arrays.len()];
        for (_, n) in k.nodes() {
            if let Some(a) = n.array.filter(|_| n.op.is_memory()) {
                acc[a as usize] += 1;
            }
        }
        acc.sort_by(|a, b| b.cmp(a));
        let mut load = vec![0u32; spec.memory.banks.len()];
        for a in acc {
            let b = (0..load.len()).min_by_key(|&b| (load[b], b)).unwrap();
            load[b] += a;
        }
        let bank_mii = load
            .iter()
            .zip(&spec.memory.banks)
            .map(|(l, b)| l.div_ceil(b.ports as u32))
            .max()
            .unwrap_or(0);
        let t0 = Instant::now();
        let res = map_kernel(&k, &spec, &opts);
        let dt = t0.elapsed().as_secs_f64();
        times.push(dt);
        match res {
            Ok(out) => {
                mapped += 1;
                let m = &out.mapping;
                if m.ii == mii {
                    at_mii += 1;
                }
                ratios.push(m.ii as f64 / mii as f64);
                println!(
                    "{name:90} n={:4} MII={mii:3} bankMII={bank_mii:3} II={:3} {dt:7.3}s {}",
                    k.node_count(),
                    m.ii,
                    if std::env::var("TESSERA_ALL_REASONS").is_ok() {
                        out.failed_iis
                            .iter()
                            .map(|(ii, w)| format!("\n    II {ii}: {w}"))
                            .collect::<String>()
                    } else {
                        out.failed_iis
                            .first()
                            .map(|(ii, w)| format!("II {ii}: {w}"))
                            .unwrap_or_default()
                    }
                );
            }
            Err(e) => println!(
                "{name:90} n={:4} MII={mii:3} FAILED {dt:.3}s {e}",
                k.node_count()
            ),
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len().max(1) as f64).exp();
    let med = times.get(times.len() / 2).copied().unwrap_or(0.0);
    let p95 = times
        .get((times.len() * 95).div_ceil(100).saturating_sub(1))
        .copied()
        .unwrap_or(0.0);
    println!(
        "mapped {mapped}/{total}, at MII {at_mii}, geomean II/MII {geo:.3}, median {med:.3}s, p95 {p95:.3}s"
    );
}
