//! Accelerator-only scoring rate of the co-search (issue: >= 200,000 MobileNetV2 designs/s
//! on 2 cores; MAESTRO's published DSE rate is about 0.17 M/s): the evaluator (spec built
//! from a design's values, validated, the network's totals) on pre-drawn designs of
//! `workloads/searches/accel-mobilenetv2.ron`, one thread; and the model alone on the same
//! specs. `cargo bench -p tessera-study --bench study`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tessera_search::{RandomSearch, Strategy};
use tessera_study::config::LoadedConfig;
use tessera_study::evaluate::{DesignRef, Evaluation, build};

fn bench(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::set_current_dir(&root).unwrap();
    let cfg = LoadedConfig::load(&root.join("workloads/searches/accel-mobilenetv2.ron")).unwrap();
    let ev = build(&cfg, &std::env::temp_dir()).unwrap();
    let mut s = RandomSearch::new(&cfg.space, cfg.config.objectives.len(), 1, (0, 1)).unwrap();
    let designs: Vec<_> = s
        .ask(1000)
        .into_iter()
        .map(|cand| {
            let values = tessera_study::run::design_map(&cfg, &cand);
            (cand, values)
        })
        .collect();
    let mut g = c.benchmark_group("accel-mobilenetv2");
    g.throughput(Throughput::Elements(designs.len() as u64));
    g.bench_function("evaluator, 1000 designs", |b| {
        b.iter(|| {
            let mut ok = 0;
            for (cand, values) in &designs {
                let d = DesignRef {
                    id: cand.id,
                    genes: &cand.genes,
                    values,
                };
                if matches!(ev.evaluate(&d, 0), Evaluation::Metrics(_)) {
                    ok += 1;
                }
            }
            black_box(ok)
        })
    });
    // Both cores: the designs split between two rayon workers (as `--threads 2` does).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    g.bench_function("evaluator, 1000 designs, 2 threads", |b| {
        b.iter(|| {
            use rayon::prelude::*;
            pool.install(|| {
                designs
                    .par_iter()
                    .filter(|(cand, values)| {
                        let d = DesignRef {
                            id: cand.id,
                            genes: &cand.genes,
                            values,
                        };
                        matches!(ev.evaluate(&d, 0), Evaluation::Metrics(_))
                    })
                    .count()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
