//! Speed of the network evaluator: one training step (the numeric basis), training the
//! reference networks, training candidates of the digits search space, and lowering plus
//! accelerator scoring of all 15,625 NAS-Bench-201 architectures.
//!
//! Run: `cargo bench -p tessera-nn --bench nn` (on 2 cores; results in docs/PERFORMANCE.md).

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tessera_accel::Accelerator;
use tessera_arch::Spec;
use tessera_arch::accel::AccelSpec;
use tessera_nn::data::Normaliser;
use tessera_nn::eval::DigitsSpace;
use tessera_nn::net::{Params, loss_and_grad};
use tessera_nn::{NetGenotype, Split, TrainConfig, data, nas201, train_and_evaluate};

fn network(file: &str) -> NetGenotype {
    let path = format!(
        "{}/../../workloads/networks/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    NetGenotype::load(std::path::Path::new(&path)).expect("bundled network")
}

/// One SGD step's forward and backward pass over a 32-image batch in 8-image chunks,
/// single-threaded (the probe's MLP figure was 15 us per step with ndarray).
fn steps(c: &mut Criterion) {
    let d = data::digits();
    let split = Split::standard(&d, 0).expect("split");
    let norm = Normaliser::fit(&d, &split.train);
    let rows: Vec<usize> = split.train[..32].to_vec();
    let x = norm.rows(&d, &rows);
    let y: Vec<u32> = rows.iter().map(|&i| d.y[i]).collect();
    for file in ["digits-mlp.ron", "digits-cnn.ron"] {
        let g = network(file);
        let plan = g.plan(d.input_shape(), 10).expect("feasible");
        let params = Params::init(&plan, 1);
        c.bench_function(&format!("nn/step_batch32/{}", g.name), |b| {
            b.iter(|| {
                for chunk in 0..4 {
                    let (lo, hi) = (chunk * 8, chunk * 8 + 8);
                    black_box(loss_and_grad(
                        &plan,
                        &params,
                        None,
                        &x[lo * 64..hi * 64],
                        &y[lo..hi],
                        32.0,
                    ));
                }
            })
        });
    }
}

fn reference_training(c: &mut Criterion) {
    let d = data::digits();
    let split = Split::standard(&d, 0).expect("split");
    let mut group = c.benchmark_group("nn/train_reference");
    group.sample_size(10);
    for file in ["digits-mlp.ron", "digits-cnn.ron", "digits-cnn-ternary.ron"] {
        let g = network(file);
        group.bench_function(&g.name, |b| {
            b.iter(|| {
                train_and_evaluate(&g, &d, &split, &TrainConfig::default(), 0).expect("trains")
            })
        });
    }
    group.finish();
}

/// The 1-, 5- and 15-minute load averages (others' builds share the cores).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Training one candidate of the digits search space with the search budget
/// (`TrainConfig::search()`, split seed 0): each iteration trains the next of `CANDIDATES`
/// seeded random candidates (seed 2026, the `space_timing` example's), training seed = the
/// candidate's index. Criterion's figure is the mean over the rotation; the per-candidate
/// median and 95th percentile (each candidate's own median time, then quantiles over the
/// candidates) are printed after the group, with the load average.
fn search_candidates(c: &mut Criterion) {
    const CANDIDATES: usize = 40;
    let d = data::digits();
    let split = Split::standard(&d, 0).expect("split");
    let space = DigitsSpace::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let genotypes: Vec<NetGenotype> = (0..CANDIDATES)
        .map(|_| space.sample(&mut rng).genotype())
        .collect();
    let cfg = TrainConfig::search();
    let times: std::cell::RefCell<Vec<Vec<f64>>> =
        std::cell::RefCell::new(vec![Vec::new(); CANDIDATES]);
    let mut next = 0usize;
    let load_before = loadavg();
    let mut group = c.benchmark_group("nn/train_search_candidate");
    group.sample_size(10);
    group.sampling_mode(criterion::SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(90));
    group.bench_function("digits_space", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let i = next % CANDIDATES;
                next += 1;
                let t = Instant::now();
                black_box(train_and_evaluate(&genotypes[i], &d, &split, &cfg, i as u64).ok());
                let e = t.elapsed();
                times.borrow_mut()[i].push(e.as_secs_f64() * 1e3);
                total += e;
            }
            total
        })
    });
    group.finish();
    let mut medians: Vec<f64> = times
        .into_inner()
        .into_iter()
        .filter(|v| !v.is_empty())
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    let q = |p: f64| medians[((medians.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "nn/train_search_candidate/digits_space: {} candidates, per-candidate median time: \
         median {:.0} ms, p95 {:.0} ms, max {:.0} ms; rayon threads {}; load average {} before, {} after",
        medians.len(),
        q(0.5),
        q(0.95),
        q(1.0),
        rayon::current_num_threads(),
        load_before,
        loadavg()
    );
}

fn nasbench201(c: &mut Criterion) {
    let table = nas201::table();
    let mut group = c.benchmark_group("nn/nasbench201");
    group.sample_size(10);
    for preset in ["edge-os-16x16", "tpu-v1-like-ws-128x128"] {
        let spec = AccelSpec::preset(preset).expect("preset");
        let acc = Accelerator::new(&spec);
        group.bench_function(format!("lower_and_score_all_15625/{preset}"), |b| {
            b.iter(|| {
                let mut latency = 0.0;
                for e in table {
                    let shapes = nas201::lower(&e.cell, 10, None)
                        .lower()
                        .expect("valid shapes");
                    latency += acc.totals(&shapes).map(|t| t.latency_ns).unwrap_or(0.0);
                }
                black_box(latency)
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    steps,
    nasbench201,
    reference_training,
    search_candidates
);
criterion_main!(benches);
