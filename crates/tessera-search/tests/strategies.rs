//! The ask/tell contract of every strategy: determinism from the seed, independence from
//! ask slicing and tell order, shards, grid enumeration, refusals, failures and constraints.

use proptest::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use tessera_search::{
    Candidate, Dim, Gene, GridOptions, Nsga2Options, Nsga3Options, Outcome, SearchError, Space,
    Strategy, StrategySpec, grid_count, make_strategy,
};

/// A space with every kind of dimension.
fn mixed_space() -> Space {
    Space::new(vec![
        Dim::Real {
            lo: 0.0,
            hi: 1.0,
            log: false,
        },
        Dim::Real {
            lo: 1e-2,
            hi: 1e2,
            log: true,
        },
        Dim::Int {
            lo: 0,
            hi: 20,
            step: 2,
            log: false,
        },
        Dim::Int {
            lo: 1,
            hi: 512,
            step: 1,
            log: true,
        },
        Dim::Cat { n: 3 },
        Dim::boolean(),
    ])
    .unwrap()
}

/// Two objectives and a constraint (`x0 >= 0.3`) on the mixed space; a few designs fail.
fn mixed_eval(g: &[Gene]) -> Outcome {
    let x = |i: usize| g[i].as_f64();
    let a = x(0);
    let b = x(1).ln() / 100f64.ln();
    let c = x(2) / 20.0;
    let d = x(3).log2() / 9.0;
    if (x(3) as i64) == 7 {
        return Outcome::Failed;
    }
    let f1 = a + 0.1 * (c - 0.4).powi(2) + if x(4) == 1.0 { 0.0 } else { 0.1 };
    let f2 = 1.0 - a.sqrt()
        + (b - 0.2).powi(2)
        + (d - 0.5).powi(2)
        + if x(5) == 0.0 { 0.1 } else { 0.0 };
    Outcome::Scored {
        objectives: vec![f1, f2],
        violation: (0.3 - a).max(0.0),
    }
}

/// Drives a strategy for `budget` evaluations: asks `chunk` at a time until the strategy
/// waits, then tells everything pending in an order given by `order_seed` (None = ask
/// order). Returns every candidate in ask order.
fn drive(
    s: &mut dyn Strategy,
    budget: usize,
    chunk: usize,
    order_seed: Option<u64>,
    eval: &dyn Fn(&[Gene]) -> Outcome,
) -> Vec<Candidate> {
    let mut all: Vec<Candidate> = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(order_seed.unwrap_or(0));
    while all.len() < budget && !s.is_exhausted() {
        let mut pending = Vec::new();
        loop {
            let got = s.ask(chunk.min(budget - all.len() - pending.len()));
            if got.is_empty() {
                break;
            }
            pending.extend(got);
            if all.len() + pending.len() == budget {
                break;
            }
        }
        let mut order: Vec<usize> = (0..pending.len()).collect();
        if order_seed.is_some() {
            order.shuffle(&mut rng);
        }
        for &i in &order {
            s.tell(pending[i].id, eval(&pending[i].genes)).unwrap();
        }
        all.extend(pending);
    }
    all
}

fn specs() -> Vec<StrategySpec> {
    vec![
        StrategySpec::Random,
        StrategySpec::Grid(GridOptions {
            points: Some(3),
            ..Default::default()
        }),
        StrategySpec::Nsga2(Nsga2Options {
            pop_size: 24,
            ..Default::default()
        }),
        StrategySpec::Nsga3(Nsga3Options {
            partitions: Some(9),
            ..Default::default()
        }),
    ]
}

#[test]
fn same_seed_same_candidates_whatever_the_ask_slices_and_tell_order() {
    let space = mixed_space();
    for spec in specs() {
        let mut a = make_strategy(&spec, &space, 2, 11, None).unwrap();
        let mut b = make_strategy(&spec, &space, 2, 11, None).unwrap();
        let ra = drive(a.as_mut(), 400, 1, None, &mixed_eval);
        let rb = drive(b.as_mut(), 400, 7, Some(99), &mixed_eval);
        assert_eq!(ra.len(), 400, "{spec:?}");
        assert_eq!(ra, rb, "{spec:?}");
        assert_eq!(a.population_ids(), b.population_ids());
        for (i, c) in ra.iter().enumerate() {
            assert_eq!(c.id, i as u64, "ids are dense in ask order");
            assert!(space.contains(&c.genes), "{spec:?}: {:?}", c.genes);
        }
        // Another seed gives other designs (grid has no seed).
        if !matches!(spec, StrategySpec::Grid(_)) {
            let mut other = make_strategy(&spec, &space, 2, 12, None).unwrap();
            let rc = drive(other.as_mut(), 400, 400, None, &mixed_eval);
            assert_ne!(ra, rc, "{spec:?}");
        }
    }
}

#[test]
fn evolution_survives_and_selects_from_the_told_outcomes() {
    // Telling different outcomes must change what NSGA breeds next (it is not ignoring them).
    let space = mixed_space();
    let spec = &specs()[2];
    let mut a = make_strategy(spec, &space, 2, 5, None).unwrap();
    let mut b = make_strategy(spec, &space, 2, 5, None).unwrap();
    let ra = drive(a.as_mut(), 48, 48, None, &mixed_eval);
    let flipped = |g: &[Gene]| match mixed_eval(g) {
        Outcome::Scored {
            objectives,
            violation,
        } => Outcome::Scored {
            objectives: objectives.iter().map(|v| -v).collect(),
            violation,
        },
        o => o,
    };
    let rb = drive(b.as_mut(), 48, 48, None, &flipped);
    assert_eq!(
        ra[..24],
        rb[..24],
        "the initial sample does not depend on outcomes"
    );
    assert_ne!(ra[24..], rb[24..]);
}

#[test]
fn tell_refuses_unknown_repeated_and_malformed() {
    for spec in specs() {
        let mut s = make_strategy(&spec, &mixed_space(), 2, 1, None).unwrap();
        let c = s.ask(2);
        assert_eq!(
            s.tell(5, Outcome::Failed),
            Err(SearchError::UnknownCandidate { id: 5 }),
            "{spec:?}"
        );
        assert_eq!(
            s.tell(c[0].id, Outcome::feasible(vec![1.0])),
            Err(SearchError::ObjectiveCount {
                id: 0,
                expected: 2,
                got: 1
            })
        );
        s.tell(c[0].id, Outcome::feasible(vec![1.0, 2.0])).unwrap();
        assert_eq!(
            s.tell(c[0].id, Outcome::Failed),
            Err(SearchError::AlreadyTold { id: 0 })
        );
        // NaN objectives and negative violations count as failures, not errors.
        s.tell(
            c[1].id,
            Outcome::Scored {
                objectives: vec![f64::NAN, 0.0],
                violation: 0.0,
            },
        )
        .unwrap();
    }
}

#[test]
fn options_and_shards_are_validated() {
    let space = mixed_space();
    let bad = [
        StrategySpec::Nsga2(Nsga2Options {
            pop_size: 1,
            ..Default::default()
        }),
        StrategySpec::Nsga2(Nsga2Options {
            crossover_prob: 1.5,
            ..Default::default()
        }),
        StrategySpec::Nsga2(Nsga2Options {
            eta_c: f64::NAN,
            ..Default::default()
        }),
        StrategySpec::Nsga3(Nsga3Options {
            partitions: Some(0),
            ..Default::default()
        }),
        StrategySpec::Nsga3(Nsga3Options {
            inner_partitions: Some(2),
            ..Default::default()
        }),
        StrategySpec::Grid(GridOptions {
            points: Some(1),
            ..Default::default()
        }),
    ];
    for spec in bad {
        assert!(
            matches!(
                make_strategy(&spec, &space, 2, 0, None),
                Err(SearchError::InvalidOption { .. })
            ),
            "{spec:?}"
        );
    }
    let nsga3_one_objective = make_strategy(
        &StrategySpec::Nsga3(Nsga3Options::default()),
        &space,
        1,
        0,
        None,
    );
    assert!(matches!(
        nsga3_one_objective,
        Err(SearchError::InvalidOption { .. })
    ));
    assert_eq!(
        make_strategy(&StrategySpec::Random, &space, 2, 0, Some((3, 3))).err(),
        Some(SearchError::InvalidShard { k: 3, n: 3 })
    );
    assert_eq!(
        make_strategy(
            &StrategySpec::Grid(GridOptions::default()),
            &space,
            2,
            0,
            None
        )
        .err(),
        Some(SearchError::GridNeedsPoints { dim: 0 })
    );
    let unvalidated = Space {
        dims: vec![Dim::Int {
            lo: 3,
            hi: 1,
            step: 1,
            log: false,
        }],
    };
    assert!(matches!(
        make_strategy(&StrategySpec::Random, &unvalidated, 2, 0, None),
        Err(SearchError::InvalidDim { dim: 0, .. })
    ));
}

#[test]
fn grid_enumerates_every_design_once_in_order() {
    let space = Space::new(vec![
        Dim::Int {
            lo: 8,
            hi: 32,
            step: 8,
            log: false,
        },
        Dim::Cat { n: 3 },
        Dim::Real {
            lo: 1.0,
            hi: 100.0,
            log: true,
        },
        Dim::boolean(),
    ])
    .unwrap();
    let options = GridOptions {
        points: Some(3),
        ..Default::default()
    };
    assert_eq!(grid_count(&space, &options).unwrap(), 4 * 3 * 3 * 2);
    let mut s = make_strategy(&StrategySpec::Grid(options.clone()), &space, 1, 0, None).unwrap();
    assert_eq!(s.planned_count(), Some(72));
    let all = s.ask(1000);
    assert_eq!(all.len(), 72);
    assert!(s.is_exhausted());
    // Nested loops in genotype order, the last dimension fastest.
    let mut expected = Vec::new();
    for a in [8, 16, 24, 32] {
        for b in 0..3 {
            for c in [1.0, 10.0, 100.0] {
                for d in 0..2 {
                    expected.push(vec![
                        Gene::Int(a),
                        Gene::Cat(b),
                        Gene::Real(c),
                        Gene::Cat(d),
                    ]);
                }
            }
        }
    }
    let got: Vec<Vec<Gene>> = all.iter().map(|c| c.genes.clone()).collect();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g[0], e[0]);
        assert_eq!(g[1], e[1]);
        assert_eq!(g[3], e[3]);
        match (g[2], e[2]) {
            (Gene::Real(x), Gene::Real(y)) => assert!((x - y).abs() < 1e-12 * y, "{x} vs {y}"),
            _ => panic!("real gene expected"),
        }
    }
}

#[test]
fn grid_points_per_dimension_override_the_shared_count() {
    let real = |lo: f64, hi: f64| Dim::Real { lo, hi, log: false };
    let space = Space::new(vec![real(0.0, 1.0), Dim::Cat { n: 2 }, real(10.0, 20.0)]).unwrap();
    let options = GridOptions {
        points: Some(2),
        points_per_dim: vec![Some(5)],
    };
    // 5 values on the first range, 2 choices, the shared 2 on the last range.
    assert_eq!(grid_count(&space, &options).unwrap(), 5 * 2 * 2);
    let mut s = make_strategy(&StrategySpec::Grid(options), &space, 1, 0, None).unwrap();
    let firsts: Vec<Gene> = s.ask(100).iter().step_by(4).map(|c| c.genes[0]).collect();
    assert_eq!(firsts, [0.0, 0.25, 0.5, 0.75, 1.0].map(Gene::Real).to_vec());
    // Without a shared count, every range needs its own.
    let partial = GridOptions {
        points: None,
        points_per_dim: vec![Some(3), None, None],
    };
    assert!(grid_count(&space, &partial).is_err());
    let full = GridOptions {
        points: None,
        points_per_dim: vec![Some(3), None, Some(4)],
    };
    assert_eq!(grid_count(&space, &full).unwrap(), 3 * 2 * 4);
    // A count on a discrete dimension, a count below 2, too many entries: refused.
    for bad in [
        vec![None, Some(2)],
        vec![Some(1)],
        vec![None, None, None, Some(3)],
    ] {
        let o = GridOptions {
            points: Some(2),
            points_per_dim: bad.clone(),
        };
        assert!(grid_count(&space, &o).is_err(), "{bad:?}");
    }
}

#[test]
fn grid_shards_partition_the_grid() {
    let space = Space::new(vec![
        Dim::Int {
            lo: 0,
            hi: 6,
            step: 1,
            log: false,
        },
        Dim::Cat { n: 3 },
    ])
    .unwrap();
    let spec = StrategySpec::Grid(GridOptions::default());
    let whole = make_strategy(&spec, &space, 1, 0, None)
        .unwrap()
        .ask(usize::MAX);
    for n in 1..=5u32 {
        let mut merged: Vec<Candidate> = Vec::new();
        for k in 0..n {
            let mut s = make_strategy(&spec, &space, 1, 0, Some((k, n))).unwrap();
            let part = s.ask(usize::MAX);
            assert_eq!(Some(part.len() as u64), s.planned_count());
            assert!(s.is_exhausted());
            merged.extend(part);
        }
        merged.sort_by_key(|c| c.global_index);
        let genes: Vec<_> = merged
            .iter()
            .map(|c| (c.global_index, c.genes.clone()))
            .collect();
        let expect: Vec<_> = whole
            .iter()
            .map(|c| (c.global_index, c.genes.clone()))
            .collect();
        assert_eq!(genes, expect, "N = {n}");
    }
    // More shards than designs: the surplus shards are empty and exhausted at once.
    let mut s = make_strategy(&spec, &space, 1, 0, Some((30, 40))).unwrap();
    assert!(s.ask(10).is_empty() && s.is_exhausted());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_shards_merge_to_the_unsharded_run(
        seed in any::<u64>(),
        n in 1u32..6,
        total in 1usize..80,
    ) {
        let space = mixed_space();
        let whole = make_strategy(&StrategySpec::Random, &space, 2, seed, None).unwrap().ask(total);
        let mut merged: Vec<Candidate> = Vec::new();
        for k in 0..n {
            let mut s = make_strategy(&StrategySpec::Random, &space, 2, seed, Some((k, n))).unwrap();
            // Shard k's share of the first `total` global indices.
            let share = (total as u64).saturating_sub(k as u64).div_ceil(n as u64) as usize;
            // Asked in uneven slices: the slicing must not matter either.
            let mut part = s.ask(share / 2);
            part.extend(s.ask(share - share / 2));
            merged.extend(part);
        }
        merged.sort_by_key(|c| c.global_index);
        let a: Vec<_> = merged.iter().map(|c| (c.global_index, &c.genes)).collect();
        let b: Vec<_> = whole.iter().map(|c| (c.global_index, &c.genes)).collect();
        prop_assert_eq!(a, b);
    }
}

#[test]
fn nsga_islands_are_seeded_by_shard() {
    let space = mixed_space();
    for spec in [&specs()[2], &specs()[3]] {
        let whole = drive(
            make_strategy(spec, &space, 2, 3, None).unwrap().as_mut(),
            100,
            100,
            None,
            &mixed_eval,
        );
        let island0 = drive(
            make_strategy(spec, &space, 2, 3, Some((0, 4)))
                .unwrap()
                .as_mut(),
            100,
            100,
            None,
            &mixed_eval,
        );
        let island1 = drive(
            make_strategy(spec, &space, 2, 3, Some((1, 4)))
                .unwrap()
                .as_mut(),
            100,
            100,
            None,
            &mixed_eval,
        );
        assert_eq!(whole, island0, "island 0 is the unsharded run");
        assert_ne!(island0, island1);
    }
}

#[test]
fn nsga_breeds_no_duplicates_and_exhausts_a_tiny_space() {
    // 2 x 3 x 2 = 12 designs.
    let space = Space::new(vec![
        Dim::boolean(),
        Dim::Cat { n: 3 },
        Dim::Int {
            lo: 0,
            hi: 1,
            step: 1,
            log: false,
        },
    ])
    .unwrap();
    let eval = |g: &[Gene]| Outcome::feasible(vec![g[0].as_f64() + g[2].as_f64(), g[1].as_f64()]);
    let key = |c: &Candidate| format!("{:?}", c.genes);
    for pop_size in [8usize, 12] {
        for spec in [
            StrategySpec::Nsga2(Nsga2Options {
                pop_size,
                ..Default::default()
            }),
            StrategySpec::Nsga3(Nsga3Options {
                pop_size: Some(pop_size),
                partitions: Some(4),
                ..Default::default()
            }),
        ] {
            let mut s = make_strategy(&spec, &space, 2, 4, None).unwrap();
            let mut seen: Vec<Candidate> = Vec::new();
            let mut generations = 0;
            while !s.is_exhausted() && generations < 30 {
                let population: Vec<String> = s
                    .population_ids()
                    .iter()
                    .map(|&id| key(&seen[id as usize]))
                    .collect();
                let g = s.ask(usize::MAX);
                assert!(!g.is_empty(), "waiting with nothing pending");
                let mut genes: Vec<String> = g.iter().map(key).collect();
                assert!(
                    genes.iter().all(|k| !population.contains(k)),
                    "offspring duplicates a member"
                );
                genes.sort();
                genes.dedup();
                assert_eq!(genes.len(), g.len(), "no duplicates within a generation");
                for c in &g {
                    s.tell(c.id, eval(&c.genes)).unwrap();
                }
                seen.extend(g);
                generations += 1;
            }
            if pop_size == 12 {
                // The initial sample is the whole space; no offspring can be new.
                assert_eq!(seen.len(), 12, "{spec:?}");
                assert!(s.is_exhausted() && s.ask(10).is_empty());
            } else {
                // Designs outside the population of 8 can always be bred again.
                assert_eq!(generations, 30, "{spec:?}");
            }
        }
    }
}

#[test]
fn constraint_domination_steers_the_population_to_the_feasible_region() {
    // Feasible only where x0 >= 0.9 (a tenth of the range): every survivor must end feasible,
    // even though infeasible designs have better objectives.
    let space = Space::new(vec![
        Dim::Real {
            lo: 0.0,
            hi: 1.0,
            log: false
        };
        4
    ])
    .unwrap();
    let eval = |g: &[Gene]| {
        let x: Vec<f64> = g.iter().map(|v| v.as_f64()).collect();
        let tail: f64 = x[1..].iter().sum();
        Outcome::Scored {
            objectives: vec![x[0] + tail, 1.0 - x[0] + tail],
            violation: (0.9 - x[0]).max(0.0),
        }
    };
    for spec in [
        StrategySpec::Nsga2(Nsga2Options {
            pop_size: 20,
            ..Default::default()
        }),
        StrategySpec::Nsga3(Nsga3Options {
            pop_size: Some(20),
            partitions: Some(19),
            ..Default::default()
        }),
    ] {
        let mut s = make_strategy(&spec, &space, 2, 8, None).unwrap();
        let all = drive(s.as_mut(), 600, 600, None, &eval);
        let by_id = |id: u64| match eval(&all[id as usize].genes) {
            Outcome::Scored { violation, .. } => violation,
            Outcome::Failed => f64::INFINITY,
        };
        let pop = s.population_ids();
        assert_eq!(pop.len(), 20);
        assert!(
            pop.iter().all(|&id| by_id(id) == 0.0),
            "{spec:?}: infeasible survivors"
        );
    }
}

#[test]
fn failed_evaluations_are_survivable_and_lose() {
    // Half the designs fail: the run continues, and failures never survive while enough
    // scored designs exist.
    let space = Space::new(vec![
        Dim::Real {
            lo: 0.0,
            hi: 1.0,
            log: false
        };
        3
    ])
    .unwrap();
    let eval = |g: &[Gene]| {
        let x0 = g[0].as_f64();
        if x0 < 0.5 {
            Outcome::Failed
        } else {
            Outcome::feasible(vec![x0, 1.0 - x0 + g[1].as_f64()])
        }
    };
    let mut s = make_strategy(
        &StrategySpec::Nsga2(Nsga2Options {
            pop_size: 10,
            ..Default::default()
        }),
        &space,
        2,
        2,
        None,
    )
    .unwrap();
    let all = drive(s.as_mut(), 300, 300, None, &eval);
    assert_eq!(all.len(), 300);
    for id in s.population_ids() {
        assert!(matches!(
            eval(&all[id as usize].genes),
            Outcome::Scored { .. }
        ));
    }
}

#[test]
fn random_samples_cover_discrete_values_uniformly() {
    let space = Space::new(vec![
        Dim::Int {
            lo: 0,
            hi: 9,
            step: 1,
            log: false,
        },
        Dim::Cat { n: 4 },
    ])
    .unwrap();
    let mut s = make_strategy(&StrategySpec::Random, &space, 1, 77, None).unwrap();
    let mut counts = [[0usize; 4]; 10];
    for c in s.ask(8000) {
        let (Gene::Int(i), Gene::Cat(k)) = (c.genes[0], c.genes[1]) else {
            panic!()
        };
        counts[i as usize][k] += 1;
    }
    // 40 cells, 200 expected each; a 5-sigma band.
    for row in counts {
        for k in row {
            assert!((130..=270).contains(&k), "{counts:?}");
        }
    }
}

#[test]
fn resume_by_replaying_recorded_json_reproduces_the_run() {
    // Run A records every tell as a JSON line; run B replays the first part of the record
    // (ask, then tell the recorded outcome) and continues live. B must hand out exactly
    // A's candidates. Objectives with many significant digits check that the JSON round
    // trip of f64 is exact (serde_json writes the shortest representation that parses
    // back to the same bits).
    let space = mixed_space();
    let noisy = |g: &[Gene]| match mixed_eval(g) {
        Outcome::Scored {
            objectives,
            violation,
        } => Outcome::Scored {
            objectives: objectives
                .iter()
                .map(|v| v * std::f64::consts::PI / 3.0 + 1e-9 * v.sin())
                .collect(),
            violation: violation / 7.0,
        },
        o => o,
    };
    for spec in &specs()[2..] {
        let mut a = make_strategy(spec, &space, 2, 21, None).unwrap();
        let run_a = drive(a.as_mut(), 600, 600, Some(3), &noisy);
        let record: Vec<String> = run_a
            .iter()
            .map(|c| serde_json::to_string(&(c.id, noisy(&c.genes))).unwrap())
            .collect();
        // The resumed run: a new strategy, fed the record up to the cut (in id order, not
        // the order run A told them in); candidates asked past the cut were in flight at the
        // kill and are evaluated live.
        let mut b = make_strategy(spec, &space, 2, 21, None).unwrap();
        let mut run_b: Vec<Candidate> = Vec::new();
        let cut = 337; // inside a generation
        let mut replayed = 0;
        while replayed < cut {
            let got = b.ask(usize::MAX);
            assert!(!got.is_empty());
            run_b.extend(got);
            while replayed < cut.min(run_b.len()) {
                let (id, outcome): (u64, Outcome) =
                    serde_json::from_str(&record[replayed]).unwrap();
                assert_eq!(id, run_b[replayed].id);
                b.tell(id, outcome).unwrap();
                replayed += 1;
            }
        }
        for c in &run_b[cut..] {
            b.tell(c.id, noisy(&c.genes)).unwrap();
        }
        run_b.extend(drive(b.as_mut(), 600 - run_b.len(), 600, Some(3), &noisy));
        for (c, line) in run_a.iter().zip(&record) {
            let (_, outcome): (u64, Outcome) = serde_json::from_str(line).unwrap();
            // Needs serde_json's `float_roundtrip` feature (see Cargo.toml).
            assert_eq!(outcome, noisy(&c.genes), "JSON round trip of {line}");
        }
        let first_diff = run_a.iter().zip(&run_b).position(|(x, y)| x != y);
        assert_eq!(first_diff, None, "{spec:?}");
        assert_eq!(run_a.len(), run_b.len());
    }
}

#[test]
fn nsga3_runs_many_objectives_with_two_layers() {
    // 8 objectives: Deb & Jain's two-layer setting (3, 2) gives 156 directions, so a
    // population of 156. A linear problem (DTLZ1-like, front on the simplex) for a few
    // generations: the survivors stay one population and every design stays in the space.
    let m = 8;
    let space = Space::new(vec![
        Dim::Real {
            lo: 0.0,
            hi: 1.0,
            log: false
        };
        m + 4
    ])
    .unwrap();
    let eval = |g: &[Gene]| {
        let x: Vec<f64> = g.iter().map(|v| v.as_f64()).collect();
        let gsum: f64 = x[m - 1..].iter().map(|v| (v - 0.5).powi(2)).sum();
        let f: Vec<f64> = (0..m)
            .map(|j| {
                let mut v = 0.5 * (1.0 + gsum);
                for xi in &x[..m - 1 - j] {
                    v *= xi;
                }
                if j > 0 {
                    v *= 1.0 - x[m - 1 - j];
                }
                v
            })
            .collect();
        Outcome::feasible(f)
    };
    let mut s = make_strategy(
        &StrategySpec::Nsga3(Nsga3Options::default()),
        &space,
        m,
        1,
        None,
    )
    .unwrap();
    let all = drive(s.as_mut(), 156 * 4, 156 * 4, None, &eval);
    assert_eq!(all.len(), 624);
    assert_eq!(s.population_ids().len(), 156);
    assert!(all.iter().all(|c| space.contains(&c.genes)));
}
