//! Accelerator-only scoring rate of the co-search (issue: >= 200,000 MobileNetV2 designs/s
//! on 2 cores; MAESTRO's published DSE rate is about 0.17 M/s): the evaluator (spec built
//! from a design's values, validated, the network's totals) on pre-drawn designs of
//! `workloads/searches/accel-mobilenetv2.ron`, one thread; and the model alone on the same
//! specs; and a whole run (ask, evaluate, record `results.jsonl`, summary, front, plots) of
//! 20,000 designs on 2 threads. `cargo bench -p tessera-study --bench study`.

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

    // A whole run, as `tessera search ... --threads 2` does it, on a tenth of the budget.
    let text = std::fs::read_to_string(root.join("workloads/searches/accel-mobilenetv2.ron"))
        .unwrap()
        .replace("evaluations: 200000", "evaluations: 20000");
    let small = LoadedConfig::from_str(&text, "accel-mobilenetv2.ron").unwrap();
    let dir = std::env::temp_dir().join(format!("tessera-bench-run-{}", std::process::id()));
    let mut g = c.benchmark_group("accel-mobilenetv2 run");
    g.throughput(Throughput::Elements(20_000));
    g.sample_size(10);
    g.bench_function("20,000 designs, 2 threads", |b| {
        b.iter(|| {
            let _ = std::fs::remove_dir_all(&dir);
            let opts = tessera_study::run::RunOptions {
                dir: dir.clone(),
                threads: 2,
                resume: false,
                shard: None,
                tool_version: "bench".into(),
                sequential: None,
            };
            let stop = std::sync::atomic::AtomicBool::new(false);
            let s = tessera_study::run::run(&small, &opts, &stop, &|_| {}).unwrap();
            black_box(s.evaluations)
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
