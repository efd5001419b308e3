//! Mapper speed: MII analysis, the heuristic mapper (driver: MII, map, check), the
//! independent checker, and the exact MILP mapper, on bundled kernels and Morpher corpus
//! DFGs (when the corpus folder is present). See docs/PERFORMANCE.md, section Mapper.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_map::exact::{ExactOptions, map_exact};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/workloads/corpus/cgra/morpher-xml"
);

fn load(path: &str) -> Option<Kernel> {
    let p = Path::new(path);
    if !p.exists() {
        eprintln!("skipping {path}: not found");
        return None;
    }
    tessera_ir::load_kernel(p, &[]).ok()
}

fn kernels() -> Vec<(&'static str, Kernel)> {
    let mut v = Vec::new();
    for (name, path) in [
        ("fir.tk", "workloads/kernels/fir.tk".to_string()),
        ("gemm.tk", "workloads/kernels/gemm.tk".to_string()),
        (
            "aes_encrypt (132 nodes)",
            format!("{CORPUS}/sample_xmls__encrypt_INNERMOST_LN1_DFG.xml"),
        ),
        (
            "adpcm_coder (121 nodes)",
            format!("{CORPUS}/adpcm_coder__adpcm_coder_INNERMOST_LN1_PartPred_DFG.xml"),
        ),
    ] {
        if let Some(k) = load(&path) {
            v.push((name, k));
        }
    }
    v
}

fn bench(c: &mut Criterion) {
    let arch = CgraSpec::preset("hycube-4x4").expect("preset");
    let ks = kernels();

    let mut g = c.benchmark_group("mii_analyze");
    for (name, k) in &ks {
        g.bench_function(*name, |b| {
            b.iter(|| tessera_map::mii::analyze(black_box(k), &arch).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("map_kernel_hycube");
    g.sample_size(10);
    let opts = MapOptions {
        seed: 1,
        time_limit_s: 10.0,
        ..MapOptions::default()
    };
    for (name, k) in &ks {
        if let Ok(o) = map_kernel(k, &arch, &opts) {
            eprintln!("{name}: MII {} -> II {}", o.mii.mii, o.mapping.ii);
        }
        g.bench_function(*name, |b| {
            b.iter(|| map_kernel(black_box(k), &arch, &opts).map(|o| o.mapping.ii))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("check");
    for (name, k) in &ks {
        if let Ok(o) = map_kernel(k, &arch, &opts) {
            let m = o.mapping;
            g.bench_function(*name, |b| {
                b.iter(|| tessera_map::check::check(black_box(&m)).is_ok())
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("map_exact_hycube");
    g.sample_size(10);
    let small = [
        "cgra_me_bench__accumulate__main_INNERMOST_LN1_noSemiOLOAD_PartPred_DFG.xml",
        "array_add__array_add_INNERMOST_LN1_PartPred_DFG.xml",
    ];
    let eopts = ExactOptions {
        time_limit_s: 60.0,
        ..ExactOptions::default()
    };
    for file in small {
        if let Some(k) = load(&format!("{CORPUS}/{file}")) {
            let mii = tessera_map::mii::analyze(&k, &arch).unwrap().mii;
            let name = format!(
                "{} ({} nodes, II {mii})",
                &file[..file.find("__").unwrap_or(file.len())],
                k.node_count()
            );
            g.bench_function(name, |b| {
                b.iter(|| {
                    map_exact(black_box(&k), &arch, mii, &eopts)
                        .map(|o| matches!(o, tessera_map::exact::ExactOutcome::Mapped(_)))
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
