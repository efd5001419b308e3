//! Criterion benches of the search core: one whole NSGA-II run on ZDT1 (population 100,
//! 20,000 evaluations, the ZDT1 evaluation inline in the ask/tell loop, one thread), one
//! NSGA-III run on DTLZ2 (population 92, 18,400 evaluations), and the hypervolume kernels.
//! Figures and the side-by-side comparison with pymoo and moors: docs/PERFORMANCE.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_search::{
    Nsga2Options, Nsga3Options, Outcome, StrategySpec, TestProblem, hypervolume, make_strategy,
};

/// Runs `spec` on `problem` for `budget` evaluations; returns the objectives in id order.
fn run(problem: TestProblem, spec: &StrategySpec, budget: usize, seed: u64) -> Vec<f64> {
    let m = problem.n_objectives();
    let mut strategy = make_strategy(spec, &problem.space(), m, seed, None).unwrap();
    let mut all = Vec::with_capacity(budget * m);
    let mut f = vec![0.0; m];
    while all.len() < budget * m {
        let batch = strategy.ask(budget - all.len() / m);
        assert!(!batch.is_empty());
        for c in batch {
            problem.evaluate_genes(&c.genes, &mut f);
            all.extend_from_slice(&f);
            strategy.tell(c.id, Outcome::feasible(f.clone())).unwrap();
        }
    }
    all
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("search");
    g.sample_size(20);
    let nsga2 = StrategySpec::Nsga2(Nsga2Options::default());
    g.bench_function("nsga2_zdt1_pop100_20000evals", |b| {
        b.iter(|| black_box(run(TestProblem::Zdt1, &nsga2, 20_000, 1)))
    });
    let nsga3 = StrategySpec::Nsga3(Nsga3Options::default());
    g.bench_function("nsga3_dtlz2_pop92_18400evals", |b| {
        b.iter(|| black_box(run(TestProblem::Dtlz2, &nsga3, 18_400, 1)))
    });
    let pts2 = run(TestProblem::Zdt1, &nsga2, 20_000, 2);
    g.bench_function("hv2d_20000_points", |b| {
        b.iter(|| black_box(hypervolume(&pts2, &[1.1, 1.1]).unwrap()))
    });
    let pts3 = run(TestProblem::Dtlz2, &nsga3, 18_400, 2);
    g.bench_function("hv3d_18400_points", |b| {
        b.iter(|| black_box(hypervolume(&pts3, &[1.1, 1.1, 1.1]).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
