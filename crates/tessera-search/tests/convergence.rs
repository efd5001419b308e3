//! The optimisers on the standard test problems. The default tests use modest budgets so
//! they stay within a few seconds in debug builds; the full-budget checks of
//! docs/PERFORMANCE.md (5 seeds, 20,000 / 18,400 evaluations) are `#[ignore]`d and meant
//! for release builds:
//! `cargo test --release -p tessera-search --test convergence -- --ignored`.

use tessera_search::{
    Crowding, Nsga2Options, Nsga3Options, Outcome, SbxBounds, StrategySpec, TestProblem,
    Tournament, hypervolume, igd_plus, make_strategy, pareto_front,
};

/// Runs `spec` on `problem` for `budget` evaluations; returns (final-population front HV,
/// archive HV, IGD+ of the final population's front against the true front).
fn run(problem: TestProblem, spec: &StrategySpec, budget: usize, seed: u64) -> (f64, f64, f64) {
    let m = problem.n_objectives();
    let mut s = make_strategy(spec, &problem.space(), m, seed, None).unwrap();
    let mut all = Vec::with_capacity(budget * m);
    let mut f = vec![0.0; m];
    while all.len() < budget * m {
        let batch = s.ask(budget - all.len() / m);
        assert!(!batch.is_empty());
        for c in batch {
            problem.evaluate_genes(&c.genes, &mut f);
            all.extend_from_slice(&f);
            s.tell(c.id, Outcome::feasible(f.clone())).unwrap();
        }
    }
    let pop: Vec<f64> = s
        .population_ids()
        .iter()
        .flat_map(|&id| all[id as usize * m..(id as usize + 1) * m].to_vec())
        .collect();
    let front = pareto_front(&pop, &vec![0.0; pop.len() / m], m);
    let front_pts: Vec<f64> = front
        .indices
        .iter()
        .flat_map(|&i| pop[i * m..(i + 1) * m].to_vec())
        .collect();
    let reference = problem.reference_point();
    (
        hypervolume(&front_pts, &reference).unwrap(),
        hypervolume(&all, &reference).unwrap(),
        igd_plus(&front_pts, &problem.true_front(1000), m).unwrap(),
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The median over seeds 1 to 5 of the final population's front hypervolume.
fn final_median_of_seeds_1_to_5(problem: TestProblem, spec: &StrategySpec, budget: usize) -> f64 {
    median(
        (1..=5)
            .map(|seed| run(problem, spec, budget, seed).0)
            .collect(),
    )
}

#[test]
fn nsga2_approaches_the_zdt1_front_in_a_modest_budget() {
    // 100 generations of 100. Random search with the same budget stays far off (checked below).
    let spec = StrategySpec::Nsga2(Nsga2Options::default());
    let (hv, _, igdp) = run(TestProblem::Zdt1, &spec, 10_000, 1);
    assert!(hv > 0.80, "hv {hv}");
    assert!(igdp < 0.05, "IGD+ {igdp}");
    let (_, random_hv, _) = run(TestProblem::Zdt1, &StrategySpec::Random, 10_000, 1);
    assert!(random_hv < 0.5 * hv, "random {random_hv} vs nsga2 {hv}");
}

#[test]
fn nsga3_approaches_the_dtlz2_front_in_a_modest_budget() {
    // 60 generations of 92.
    let spec = StrategySpec::Nsga3(Nsga3Options::default());
    let (hv, _, igdp) = run(TestProblem::Dtlz2, &spec, 5_520, 1);
    assert!(hv > 0.70, "hv {hv}");
    assert!(igdp < 0.05, "IGD+ {igdp}");
}

/// The five-seed medians at the full budgets, with the default options, against the
/// figures issue 18 asks for (population 100, reference point 1.1 per objective):
/// ZDT1 >= 0.8703, ZDT2 >= 0.5341, ZDT3 >= 1.3259 at 20,000 evaluations; DTLZ2 >= 0.744 at
/// 18,400. ZDT1's goal is what moors 0.2.11 reached, the others pymoo's level
/// (docs/PERFORMANCE.md, "Session 9").
#[test]
fn full_budget_medians_reach_the_issue_figures() {
    let nsga2 = StrategySpec::Nsga2(Nsga2Options::default());
    let nsga3 = StrategySpec::Nsga3(Nsga3Options::default());
    for (problem, spec, budget, goal) in [
        (TestProblem::Zdt1, &nsga2, 20_000, 0.8703),
        (TestProblem::Zdt2, &nsga2, 20_000, 0.5341),
        (TestProblem::Zdt3, &nsga2, 20_000, 1.3259),
        (TestProblem::Dtlz2, &nsga3, 18_400, 0.744),
    ] {
        let hv = final_median_of_seeds_1_to_5(problem, spec, budget);
        assert!(hv >= goal, "{}: median {hv} vs goal {goal}", problem.name());
    }
}

/// Medians of seeds 1 to 5 at the full budgets against pymoo 0.6.2's medians for the same
/// seeds, measured side by side (docs/PERFORMANCE.md, "Co-search optimiser"): at least
/// pymoo's median less 0.001, about the spread between seeds. The operators are set to
/// pymoo's: SBX truncated at the bounds ([`SbxBounds::Truncated`]). (On DTLZ2 this crate's
/// median sits 0.0005 below pymoo's: pymoo mutates an individual with probability 0.9,
/// this crate every individual, at 1/n per gene.) NSGA-II is checked with both cuts of the
/// last front against pymoo's matching `crowding_func`: `cd` for [`Crowding::Standard`],
/// `pcd` for [`Crowding::Pruning`] (the default); and with pymoo's own tournament
/// ([`Tournament::Dominance`], pymoo's `comp_by_dom_and_crowding`) against `pcd`, the
/// configuration closest to pymoo's (docs/PERFORMANCE.md, "Session 8").
#[test]
#[ignore = "full budget, 5 seeds per problem: run with --release"]
fn full_budget_medians_reach_pymoo() {
    let truncated = Nsga2Options {
        sbx_bounds: SbxBounds::Truncated,
        ..Default::default()
    };
    let pruning = StrategySpec::Nsga2(truncated.clone());
    let standard = StrategySpec::Nsga2(Nsga2Options {
        crowding: Crowding::Standard,
        ..truncated.clone()
    });
    let dominance = StrategySpec::Nsga2(Nsga2Options {
        tournament: Tournament::Dominance,
        ..truncated
    });
    let nsga3 = StrategySpec::Nsga3(Nsga3Options {
        sbx_bounds: SbxBounds::Truncated,
        ..Default::default()
    });
    for (problem, spec, budget, pymoo_median) in [
        (TestProblem::Zdt1, &standard, 20_000, 0.8680),
        (TestProblem::Zdt2, &standard, 20_000, 0.5344),
        (TestProblem::Zdt3, &standard, 20_000, 1.3261),
        (TestProblem::Zdt1, &pruning, 20_000, 0.8697),
        (TestProblem::Zdt2, &pruning, 20_000, 0.5353),
        (TestProblem::Zdt3, &pruning, 20_000, 1.3262),
        (TestProblem::Zdt1, &dominance, 20_000, 0.8697),
        (TestProblem::Zdt2, &dominance, 20_000, 0.5353),
        (TestProblem::Zdt3, &dominance, 20_000, 1.3262),
        (TestProblem::Dtlz2, &nsga3, 18_400, 0.7433),
    ] {
        let hv = final_median_of_seeds_1_to_5(problem, spec, budget);
        assert!(
            hv >= pymoo_median - 0.001,
            "{}: median {hv} vs pymoo {pymoo_median}",
            problem.name()
        );
    }
}
