//! The optimisation core of Tessera's co-search: typed design spaces, deterministic ask/tell
//! strategies (random, grid, NSGA-II, NSGA-III), Pareto fronts with constraint-domination,
//! exact hypervolume (2-D, 3-D and WFG for more objectives), IGD and IGD+, and the ZDT/DTLZ
//! test problems with their true fronts. It is pure and single-threaded: evaluating
//! designs, running them in parallel, recording and resuming runs belong to the run layer
//! built on top of it.
//!
//! # The loop
//!
//! ```
//! use tessera_search::{
//!     Nsga2Options, Outcome, StrategySpec, TestProblem, hypervolume, make_strategy, pareto_front,
//! };
//! let problem = TestProblem::Zdt1;
//! let spec = StrategySpec::Nsga2(Nsga2Options { pop_size: 20, ..Default::default() });
//! let mut strategy = make_strategy(&spec, &problem.space(), 2, 7, None).unwrap();
//! let (mut objectives, mut violations) = (Vec::new(), Vec::new());
//! while objectives.len() < 2_000 * 2 {
//!     for c in strategy.ask(8) {
//!         let mut f = [0.0; 2];
//!         problem.evaluate_genes(&c.genes, &mut f);
//!         objectives.extend_from_slice(&f); // ids are dense and asked in order
//!         violations.push(0.0);
//!         strategy.tell(c.id, Outcome::feasible(f.to_vec())).unwrap();
//!     }
//! }
//! let front = pareto_front(&objectives, &violations, 2);
//! assert!(front.feasible && !front.indices.is_empty());
//! assert!(hypervolume(&objectives, &problem.reference_point()).unwrap() > 0.0);
//! ```
//!
//! # API
//!
//! - [`space`]: [`Dim`] (`Real { lo, hi, log }`, `Int { lo, hi, step, log }`, `Cat { n }`),
//!   [`Gene`], [`Genotype`] (= `Vec<Gene>`), [`Space`] (`validate`, `size`, `contains`).
//! - [`strategy`]: the [`Strategy`] trait (`ask(max) -> Vec<Candidate>`,
//!   `tell(id, Outcome) -> Result<(), SearchError>`, `is_exhausted`, `planned_count`,
//!   `population_ids`), [`Candidate`] (`id`, `global_index`, `genes`), [`Outcome`]
//!   (`Scored { objectives, violation }` or `Failed`), [`StrategySpec`] and
//!   [`make_strategy`]`(spec, space, n_objectives, seed, shard) -> Box<dyn Strategy>`;
//!   [`grid_count`] for the count a grid search will visit.
//! - [`pareto`]: [`dominates`], [`constrained_dominates`], [`non_dominated_sort`],
//!   [`constrained_non_dominated_sort`], [`crowding_distance`], [`pareto_front`] ([`Front`]).
//! - [`hypervolume`](mod@hypervolume): [`hypervolume()`], [`hypervolume_wfg`], [`Staircase`].
//! - [`indicator`]: [`igd`], [`igd_plus`], [`hypervolume_trace`], [`HypervolumeTrace`].
//! - [`problems`]: [`TestProblem`] (ZDT1, ZDT2, ZDT3, DTLZ2) with `evaluate`, `true_front`,
//!   `ideal_hypervolume`.
//!
//! Every objective is minimised (negate a maximised one). A violation is Deb's summed
//! normalised constraint violation: 0 feasible, > 0 infeasible, `+inf` for a failed
//! evaluation.
//!
//! # Resume, shards, parallel workers
//!
//! A run is resumed by building the strategy again with the same spec, space, seed and
//! shard, and replaying the recorded results: ask, tell each recorded outcome, evaluate
//! whatever was asked but not recorded. The objectives must come back bit for bit, so a
//! JSON record needs serde_json's `float_roundtrip` feature (its default parser can be one
//! ulp off). Workers may evaluate a generation in any order and in any slices; see
//! [`strategy`] for the determinism contract.
//!
//! # Why not the `moors` crate
//!
//! The issue asked for `moors` (0.2.11) to be evaluated first. It has NSGA-II and NSGA-III
//! with constraint handling and is fast and deterministic, but `run()` owns the loop: the
//! per-generation step is private and evaluation goes through one blocking batch callback,
//! so there is no ask/tell and hence no resume by replaying recorded results, no shards fed
//! from outside, and no live view; it also re-evaluates the parents every generation
//! (40,100 evaluations for a 20,100-evaluation ZDT1 run), has no polynomial mutation and no
//! hypervolume metric, and takes one scalar bound for all genes (findings in
//! `../shared/DEPENDENCIES-probe.md`, row 4). This crate writes the algorithms from the
//! papers instead, around an ask/tell core.
//!
//! Architecture invariant: this crate never prints, never reads files or the clock, and
//! never spawns threads; the same inputs give the same candidates on every machine.

pub mod error;
pub mod hypervolume;
pub mod indicator;
pub mod pareto;
pub mod problems;
pub mod space;
pub mod strategy;

pub use error::SearchError;
pub use hypervolume::{Staircase, hypervolume, hypervolume_wfg};
pub use indicator::{HypervolumeTrace, hypervolume_trace, igd, igd_plus};
pub use pareto::{
    Front, constrained_dominates, constrained_non_dominated_sort, crowding_distance, dominates,
    non_dominated_ranks, non_dominated_sort, pareto_front,
};
pub use problems::TestProblem;
pub use space::{Dim, Gene, Genotype, Space};
pub use strategy::{
    Candidate, Crowding, GridOptions, GridSearch, Nsga2, Nsga2Options, Nsga3, Nsga3Options,
    Outcome, RandomSearch, SbxBounds, Strategy, StrategySpec, Tournament, grid_count,
    make_strategy,
};
