//! Five-seed medians of the hypervolume reached by NSGA-II on ZDT1/2/3 (population 100,
//! 20,000 evaluations) and NSGA-III on DTLZ2 (population 92, 18,400 evaluations), with the
//! wall time of each run (ask/tell loop with the evaluation inline, one thread).
//!
//! `cargo run --release -p tessera-search --example hv_medians [-- SEEDS [PROBLEMS [PM [CROWDING [ETA_C [TOURNAMENT [SBX]]]]]]]`,
//! e.g. `-- 1,2,3,4,5 zdt1,dtlz2` (defaults: seeds 1 to 5, every problem). `PM` sets the
//! per-gene mutation probability to `PM / n_vars` instead of the default `1 / n_vars`
//! (`0.9` reproduces pymoo's effective rate, see docs/PERFORMANCE.md; `-` keeps the
//! default). `CROWDING` is NSGA-II's cut of the last front: `pruning` (the default) or
//! `standard` (Deb et al. 2002). `ETA_C` is NSGA-II's SBX distribution index (`-` keeps the
//! default 15; Deb et al. 2002 used 20). `TOURNAMENT` is NSGA-II's mating tournament:
//! `crowded` (the default, Deb et al. 2002's crowded comparison) or `dominance` (Deb's
//! reference C code and pymoo's default). `SBX` is how SBX keeps children within bounds:
//! `clip` (the default) or `truncated` (Deb's reference C code and pymoo; NSGA-II and
//! NSGA-III alike). Any argument may be `-` for its default.
//! Two hypervolumes are printed per run, both at the reference point 1.1 per objective:
//! `final` = the first front of the final population (what pymoo's `res.F` holds for
//! NSGA-II), `archive` = the front of every evaluation made. Besides wall time, the CPU
//! time of the run's thread is printed where Linux reports it (`/proc/thread-self/schedstat`),
//! which other processes on a loaded machine inflate far less than wall time. The last
//! column, `converged`, splits the final figure into spread and convergence: the
//! hypervolume of the same final front with every distance variable set to its optimum
//! (ZDT: `x2..xn = 0`; DTLZ2: `x3..x12 = 0.5`) and the position variables kept, i.e. each
//! member moved onto the true front; `converged - final` is what convergence still costs.

use std::time::Instant;

use tessera_search::{
    Crowding, Nsga2Options, Nsga3Options, Outcome, SbxBounds, StrategySpec, TestProblem,
    Tournament, hypervolume, make_strategy, pareto_front,
};

fn main() {
    let seeds: Vec<u64> = std::env::args()
        .nth(1)
        .filter(|s| s != "-")
        .map(|s| {
            s.split(',')
                .map(|t| t.trim().parse().expect("seed list like 1,2,3"))
                .collect()
        })
        .unwrap_or_else(|| vec![1, 2, 3, 4, 5]);
    let problems: Vec<TestProblem> = std::env::args()
        .nth(2)
        .filter(|s| s != "-")
        .map(|s| {
            s.split(',')
                .map(|t| TestProblem::from_name(t.trim()).expect("zdt1, zdt2, zdt3 or dtlz2"))
                .collect()
        })
        .unwrap_or_else(|| TestProblem::ALL.to_vec());
    let pm_scale: Option<f64> = std::env::args()
        .nth(3)
        .filter(|s| s != "-")
        .map(|s| s.parse().expect("PM is a number"));
    let crowding = match std::env::args().nth(4).as_deref() {
        None | Some("pruning") | Some("-") => Crowding::Pruning,
        Some("standard") => Crowding::Standard,
        Some(other) => panic!("CROWDING is `standard` or `pruning`, not `{other}`"),
    };
    let eta_c: f64 = std::env::args()
        .nth(5)
        .filter(|s| s != "-")
        .map(|s| s.parse().expect("ETA_C is a number"))
        .unwrap_or(Nsga2Options::default().eta_c);
    let tournament = match std::env::args().nth(6).as_deref() {
        None | Some("crowded") | Some("-") => Tournament::CrowdedComparison,
        Some("dominance") => Tournament::Dominance,
        Some(other) => panic!("TOURNAMENT is `crowded` or `dominance`, not `{other}`"),
    };
    let sbx_bounds = match std::env::args().nth(7).as_deref() {
        None | Some("clip") | Some("-") => SbxBounds::Clip,
        Some("truncated") => SbxBounds::Truncated,
        Some(other) => panic!("SBX is `clip` or `truncated`, not `{other}`"),
    };
    println!("problem strategy seed evals hv_final hv_archive wall_ms cpu_ms converged");
    for problem in problems {
        let mutation_prob = pm_scale.map(|k| k / problem.n_vars() as f64);
        let (spec, budget) = match problem {
            TestProblem::Dtlz2 => (
                StrategySpec::Nsga3(Nsga3Options {
                    mutation_prob,
                    sbx_bounds,
                    ..Default::default()
                }),
                18_400,
            ),
            _ => (
                StrategySpec::Nsga2(Nsga2Options {
                    mutation_prob,
                    crowding,
                    eta_c,
                    tournament,
                    sbx_bounds,
                    ..Default::default()
                }),
                20_000,
            ),
        };
        let m = problem.n_objectives();
        let reference = problem.reference_point();
        let (mut finals, mut archives) = (Vec::new(), Vec::new());
        let (mut walls, mut cpus, mut converged) = (Vec::new(), Vec::new(), Vec::new());
        for &seed in &seeds {
            // Every design's variables, for `converged`: allocated and touched before the
            // clocks start, so that keeping them costs the timed loop only the copies.
            let n = problem.n_vars();
            let mut designs = vec![0.0; budget * n];
            let start = Instant::now();
            let cpu_start = thread_cpu_ns();
            let mut strategy = make_strategy(&spec, &problem.space(), m, seed, None).unwrap();
            let mut all = Vec::with_capacity(budget * m);
            let mut f = vec![0.0; m];
            while all.len() < budget * m {
                let batch = strategy.ask(budget - all.len() / m);
                for c in batch {
                    problem.evaluate_genes(&c.genes, &mut f);
                    all.extend_from_slice(&f);
                    strategy.tell(c.id, Outcome::feasible(f.clone())).unwrap();
                    let at = c.id as usize * n;
                    for (slot, g) in designs[at..at + n].iter_mut().zip(&c.genes) {
                        *slot = g.as_f64();
                    }
                }
            }
            let wall_ms = start.elapsed().as_secs_f64() * 1e3;
            let cpu_ms = match (cpu_start, thread_cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64 / 1e6,
                _ => f64::NAN,
            };
            let ids = strategy.population_ids();
            let pop: Vec<f64> = ids
                .iter()
                .flat_map(|&id| all[id as usize * m..(id as usize + 1) * m].to_vec())
                .collect();
            let n_pop = pop.len() / m;
            let front = pareto_front(&pop, &vec![0.0; n_pop], m);
            let front_pts: Vec<f64> = front
                .indices
                .iter()
                .flat_map(|&i| pop[i * m..(i + 1) * m].to_vec())
                .collect();
            let hv_final = hypervolume(&front_pts, &reference).unwrap();
            let moved: Vec<f64> = front
                .indices
                .iter()
                .flat_map(|&i| {
                    let at = ids[i] as usize * n;
                    let mut x = designs[at..at + n].to_vec();
                    let (first, optimum) = match problem {
                        TestProblem::Dtlz2 => (m - 1, 0.5),
                        _ => (1, 0.0),
                    };
                    x[first..].fill(optimum);
                    let mut out = vec![0.0; m];
                    problem.evaluate(&x, &mut out);
                    out
                })
                .collect();
            let hv_converged = hypervolume(&moved, &reference).unwrap();
            let hv_archive = hypervolume(&all, &reference).unwrap();
            println!(
                "{} {} {seed} {} {hv_final:.4} {hv_archive:.4} {wall_ms:.1} {cpu_ms:.1} {hv_converged:.4}",
                problem.name(),
                strategy.name(),
                all.len() / m
            );
            finals.push(hv_final);
            archives.push(hv_archive);
            walls.push(wall_ms);
            cpus.push(cpu_ms);
            converged.push(hv_converged);
        }
        println!(
            "{} median: hv_final {:.4} hv_archive {:.4} wall {:.1} ms (min {:.1}, max {:.1}) cpu {:.1} ms; converged {:.4}; ideal {:.4}",
            problem.name(),
            median(&mut finals),
            median(&mut archives),
            median(&mut walls),
            walls.iter().copied().fold(f64::INFINITY, f64::min),
            walls.iter().copied().fold(0.0, f64::max),
            median(&mut cpus),
            median(&mut converged),
            problem.ideal_hypervolume()
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// On-CPU time of the current thread in ns (first field of Linux's schedstat).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
