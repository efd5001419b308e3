//! The ask/tell core: a [`Strategy`] hands out [`Candidate`]s and is told each one's
//! [`Outcome`], in any order and from anywhere (threads, processes, a replayed
//! `results.jsonl`), in the style of Optuna's `study.ask()` / `study.tell()`.
//!
//! Determinism contract, for every strategy:
//! - the candidates (ids and genes) depend only on the spec, the space, the seed, the shard
//!   and the outcomes told — never on how `ask`'s `max` splits the batches, on the order of
//!   tells within a generation, or on wall time;
//! - ids are dense from 0 in ask order, so a resumed run that replays the recorded tells
//!   reproduces the same sequence.

mod evolution;
pub mod grid;
pub mod nsga2;
pub mod nsga3;
pub(crate) mod operators;
pub mod random;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::SearchError;
use crate::space::{Genotype, Space};

pub use grid::{GridOptions, GridSearch, grid_count};
pub use nsga2::{Crowding, Nsga2, Nsga2Options, Tournament};
pub use nsga3::{Nsga3, Nsga3Options, das_dennis, default_partitions, reference_directions};
pub use operators::SbxBounds;
pub use random::RandomSearch;

/// A design to evaluate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Dense from 0 in ask order, per strategy instance (so per shard). Tell with this id.
    pub id: u64,
    /// The design's position in the unsharded sequence (random and grid: `K + id * N` for
    /// shard `K/N`, so merged shards can be put back in single-run order; NSGA islands and
    /// unsharded runs: equal to `id`).
    pub global_index: u64,
    /// One gene per dimension of the space.
    pub genes: Genotype,
}

/// The result of evaluating a candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The evaluation produced metrics.
    Scored {
        /// One value per objective, all minimised (the caller negates maximised ones).
        objectives: Vec<f64>,
        /// 0 = feasible; > 0 = summed normalised constraint violation (Deb 2002); `+inf`
        /// allowed. A NaN or negative violation, or a non-finite objective, is treated as
        /// [`Outcome::Failed`].
        violation: f64,
    },
    /// The evaluation failed (crash, timeout, simulation mismatch): treated as the worst
    /// design, infeasible with violation `+inf`.
    Failed,
}

impl Outcome {
    /// A feasible result.
    pub fn feasible(objectives: Vec<f64>) -> Outcome {
        Outcome::Scored {
            objectives,
            violation: 0.0,
        }
    }
}

/// An ask/tell optimiser.
pub trait Strategy: Send {
    /// Up to `max` candidates ready now (NSGA: what is left of the current generation;
    /// random/grid: the next `max`). Empty = waiting for tells, or exhausted (see
    /// [`Strategy::is_exhausted`]).
    fn ask(&mut self, max: usize) -> Vec<Candidate>;
    /// The outcome of candidate `id`. Tells may come in any order; a strategy stores them
    /// by id and acts, in id order, once a generation is complete. Refuses an id never
    /// asked, a second tell for an id, and a wrong number of objectives.
    fn tell(&mut self, id: u64, outcome: Outcome) -> Result<(), SearchError>;
    /// No candidate will ever come again (grid: all handed out; NSGA: no offspring that is
    /// not a duplicate could be bred).
    fn is_exhausted(&self) -> bool;
    /// Whether `ask` hands out the same candidates whether or not the earlier ones have been
    /// told (random, grid): a run may then evaluate the next batch while it records the
    /// last one.
    fn asks_ahead(&self) -> bool {
        false
    }
    /// How many candidates this strategy will hand out in total, when known up front (grid).
    fn planned_count(&self) -> Option<u64> {
        None
    }
    /// Ids of the current population (NSGA: the survivors of the last complete
    /// generation); empty for strategies without one.
    fn population_ids(&self) -> Vec<u64> {
        Vec::new()
    }
    /// The strategy's name (`"random"`, `"grid"`, `"nsga2"`, `"nsga3"`).
    fn name(&self) -> &'static str;
}

/// Which strategy to run, with its options. Serde names are snake case; option structs
/// take defaults for missing fields and refuse unknown ones (JSON: `"random"`,
/// `{"grid": {"points": 5}}`, `{"nsga2": {}}`, `{"nsga3": {"partitions": 12}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategySpec {
    Random,
    Grid(GridOptions),
    Nsga2(Nsga2Options),
    Nsga3(Nsga3Options),
}

/// Builds a strategy. `shard = Some((k, n))` runs part `k` (from 0) of `n`: random and grid
/// take every design whose global index is `k` mod `n`; NSGA-II/III run island `k`, seeded
/// from `(seed, k)`.
pub fn make_strategy(
    spec: &StrategySpec,
    space: &Space,
    n_objectives: usize,
    seed: u64,
    shard: Option<(u32, u32)>,
) -> Result<Box<dyn Strategy>, SearchError> {
    space.validate()?;
    if n_objectives == 0 {
        return Err(SearchError::InvalidOption {
            strategy: "search",
            reason: "at least one objective is needed".into(),
        });
    }
    let shard = check_shard(shard)?;
    Ok(match spec {
        StrategySpec::Random => Box::new(RandomSearch::new(space, n_objectives, seed, shard)?),
        StrategySpec::Grid(o) => Box::new(GridSearch::new(space, o, n_objectives, shard)?),
        StrategySpec::Nsga2(o) => Box::new(Nsga2::new(space, o, n_objectives, seed, shard.0)?),
        StrategySpec::Nsga3(o) => Box::new(Nsga3::new(space, o, n_objectives, seed, shard.0)?),
    })
}

/// `None` -> `(0, 1)`; refuses `n = 0` and `k >= n`.
pub(crate) fn check_shard(shard: Option<(u32, u32)>) -> Result<(u32, u32), SearchError> {
    let (k, n) = shard.unwrap_or((0, 1));
    if n == 0 || k >= n {
        return Err(SearchError::InvalidShard { k, n });
    }
    Ok((k, n))
}

/// The generator of stream `stream` for `seed`: ChaCha8 keyed by `seed` (expanded by
/// `SeedableRng::seed_from_u64`), on its 64-bit stream (nonce) `stream`, from position 0.
/// Random search gives each global index its own stream; NSGA gives each island one.
pub(crate) fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Which ids have been told, one bit each (ids are dense).
#[derive(Debug, Clone, Default)]
pub(crate) struct ToldSet {
    bits: Vec<u64>,
}

impl ToldSet {
    /// Marks `id`; refuses an id at or above `asked` and a second mark.
    pub(crate) fn mark(&mut self, id: u64, asked: u64) -> Result<(), SearchError> {
        if id >= asked {
            return Err(SearchError::UnknownCandidate { id });
        }
        let (word, bit) = ((id / 64) as usize, id % 64);
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] >> bit & 1 == 1 {
            return Err(SearchError::AlreadyTold { id });
        }
        self.bits[word] |= 1 << bit;
        Ok(())
    }
}

/// Checks the objective count of an outcome and turns it into `(objectives, violation)`,
/// with failed and malformed results as `(+inf..., +inf)`.
pub(crate) fn normalise_outcome(
    id: u64,
    outcome: &Outcome,
    m: usize,
) -> Result<(&[f64], f64), SearchError> {
    const FAILED: [f64; 0] = [];
    match outcome {
        Outcome::Failed => Ok((&FAILED, f64::INFINITY)),
        Outcome::Scored {
            objectives,
            violation,
        } => {
            if objectives.len() != m {
                return Err(SearchError::ObjectiveCount {
                    id,
                    expected: m,
                    got: objectives.len(),
                });
            }
            if violation.is_nan() || *violation < 0.0 || objectives.iter().any(|v| !v.is_finite()) {
                return Ok((&FAILED, f64::INFINITY));
            }
            Ok((objectives, *violation))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_read_from_json_with_defaults() {
        let read = |s: &str| serde_json::from_str::<StrategySpec>(s);
        assert_eq!(read(r#""random""#).unwrap(), StrategySpec::Random);
        assert_eq!(
            read(r#"{"nsga2": {}}"#).unwrap(),
            StrategySpec::Nsga2(Nsga2Options::default())
        );
        assert_eq!(
            read(r#"{"nsga2": {"pop_size": 50}}"#).unwrap(),
            StrategySpec::Nsga2(Nsga2Options {
                pop_size: 50,
                ..Default::default()
            })
        );
        assert_eq!(
            read(r#"{"grid": {"points": 5}}"#).unwrap(),
            StrategySpec::Grid(GridOptions {
                points: Some(5),
                ..Default::default()
            })
        );
        assert!(
            read(r#"{"nsga2": {"popsize": 50}}"#).is_err(),
            "unknown option refused"
        );
        let spec = StrategySpec::Nsga3(Nsga3Options {
            partitions: Some(6),
            ..Default::default()
        });
        assert_eq!(read(&serde_json::to_string(&spec).unwrap()).unwrap(), spec);
    }
}
