//! NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEVC 6(2), 2002).
//!
//! - Survival: (mu + lambda) — parents and offspring are sorted into fronts under
//!   constraint-domination (feasible fronts by fast non-dominated sorting, then infeasible
//!   designs by increasing violation), fronts are taken whole while they fit, and the
//!   front that does not fit is cut by decreasing crowding distance (ties: sort order).
//! - Mating selection: binary tournaments with Deb's crowded comparison under
//!   constraint-domination: if either entrant is infeasible, the smaller violation wins;
//!   otherwise the lower front, then the larger crowding distance; a full tie is a coin flip.
//! - Variation: SBX + polynomial mutation on numeric genes, uniform crossover + resampling
//!   mutation on categorical genes (see `operators.rs`).
//!
//! Defaults are Deb's and pymoo's (0.6.2): population 100, offspring = population,
//! crossover probability 0.9, eta_c = 15, eta_m = 20, per-gene mutation probability
//! `min(0.5, 1/n)` over the numeric genes (likewise over the categorical genes), duplicate
//! elimination on. One difference from pymoo: pymoo applies its polynomial mutation to an
//! individual with probability 0.9 (its `PM(prob=0.9)`), Deb's rule used here considers
//! every individual.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::evolution::{Evolution, Pop, Settings, Survival, tournament};
use super::operators::{Encoding, Variation};
use super::{Candidate, Outcome, Strategy, stream_rng};
use crate::error::SearchError;
use crate::pareto::{constrained_non_dominated_sort, crowding_into, pruning_crowding};
use crate::space::Space;

/// Options of NSGA-II. Every field has a default (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Nsga2Options {
    /// Population size mu.
    pub pop_size: usize,
    /// Offspring per generation lambda; `None` = `pop_size`.
    pub offspring: Option<usize>,
    /// Probability that a mating recombines.
    pub crossover_prob: f64,
    /// SBX distribution index.
    pub eta_c: f64,
    /// Polynomial mutation distribution index.
    pub eta_m: f64,
    /// Per-gene mutation probability of numeric genes; `None` = `min(0.5, 1/n_numeric)`.
    pub mutation_prob: Option<f64>,
    /// Per-gene mutation probability of categorical genes; `None` = `min(0.5, 1/n_cat)`.
    pub cat_mutation_prob: Option<f64>,
    /// Re-breed offspring that duplicate a known design.
    pub eliminate_duplicates: bool,
    /// How the front that does not fit is cut (see [`Crowding`]).
    pub crowding: Crowding,
}

/// How NSGA-II cuts the last front that does not fit into the population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Crowding {
    /// Deb et al. 2002: crowding distances computed once, the largest kept.
    Standard,
    /// Kukkonen & Deb 2006 (pymoo's `crowding_func="pcd"`): the most crowded member is
    /// removed one at a time and its neighbours' distances recomputed after each removal.
    #[default]
    Pruning,
}

impl Default for Nsga2Options {
    fn default() -> Self {
        Nsga2Options {
            pop_size: 100,
            offspring: None,
            crossover_prob: 0.9,
            eta_c: 15.0,
            eta_m: 20.0,
            mutation_prob: None,
            cat_mutation_prob: None,
            eliminate_duplicates: true,
            crowding: Crowding::default(),
        }
    }
}

/// Checks the shared evolutionary options and turns them into settings.
#[allow(clippy::too_many_arguments)]
pub(crate) fn settings(
    strategy: &'static str,
    enc: &Encoding,
    pop_size: usize,
    offspring: Option<usize>,
    crossover_prob: f64,
    eta_c: f64,
    eta_m: f64,
    mutation_prob: Option<f64>,
    cat_mutation_prob: Option<f64>,
    eliminate_duplicates: bool,
) -> Result<Settings, SearchError> {
    let bad = |reason: String| Err(SearchError::InvalidOption { strategy, reason });
    if pop_size < 2 {
        return bad(format!("pop_size must be >= 2, got {pop_size}"));
    }
    let offspring = offspring.unwrap_or(pop_size);
    if offspring < 1 {
        return bad("offspring must be >= 1".into());
    }
    for (name, p) in [
        ("crossover_prob", Some(crossover_prob)),
        ("mutation_prob", mutation_prob),
        ("cat_mutation_prob", cat_mutation_prob),
    ] {
        if let Some(p) = p
            && !(0.0..=1.0).contains(&p)
        {
            return bad(format!("{name} must be in [0, 1], got {p}"));
        }
    }
    for (name, eta) in [("eta_c", eta_c), ("eta_m", eta_m)] {
        if !(eta >= 0.0 && eta.is_finite()) {
            return bad(format!("{name} must be finite and >= 0, got {eta}"));
        }
    }
    let default_prob = |n: usize| {
        if n == 0 {
            0.0
        } else {
            (1.0 / n as f64).min(0.5)
        }
    };
    Ok(Settings {
        pop_size,
        offspring,
        variation: Variation {
            crossover_prob,
            eta_c,
            eta_m,
            mutation_prob: mutation_prob.unwrap_or(default_prob(enc.numeric.len())),
            cat_mutation_prob: cat_mutation_prob.unwrap_or(default_prob(enc.categorical.len())),
        },
        eliminate_duplicates,
    })
}

/// Rank-and-crowding survival and crowded binary tournaments.
#[derive(Debug, Default)]
pub(crate) struct RankAndCrowding {
    pub(crate) kind: Crowding,
    rank: Vec<usize>,
    crowding: Vec<f64>,
    order: Vec<usize>,
    cd: Vec<f64>,
    perm: Vec<usize>,
}

impl Survival for RankAndCrowding {
    fn survive(&mut self, pop: &Pop, mu: usize, _rng: &mut ChaCha8Rng) -> Vec<usize> {
        let m = pop.m;
        let fronts = constrained_non_dominated_sort(&pop.f, &pop.cv, m);
        let mut keep = Vec::with_capacity(mu);
        self.rank.clear();
        self.crowding.clear();
        for (r, front) in fronts.iter().enumerate() {
            if keep.len() >= mu {
                break;
            }
            self.cd.clear();
            self.cd.resize(front.len(), 0.0);
            if pop.cv[front[0]] <= 0.0 {
                crowding_into(&pop.f, m, front, &mut self.order, &mut self.cd);
            }
            let room = mu - keep.len();
            if front.len() <= room {
                keep.extend_from_slice(front);
                self.rank.extend(std::iter::repeat_n(r, front.len()));
                self.crowding.extend_from_slice(&self.cd);
            } else if self.kind == Crowding::Pruning && pop.cv[front[0]] <= 0.0 {
                let kept = pruning_crowding(&pop.f, m, front, front.len() - room);
                for (w, d) in kept.iter().enumerate() {
                    if let Some(d) = d {
                        keep.push(front[w]);
                        self.rank.push(r);
                        self.crowding.push(*d);
                    }
                }
            } else {
                let mut by_crowding: Vec<usize> = (0..front.len()).collect();
                by_crowding.sort_by(|&a, &b| self.cd[b].total_cmp(&self.cd[a]).then(a.cmp(&b)));
                for &w in &by_crowding[..room] {
                    keep.push(front[w]);
                    self.rank.push(r);
                    self.crowding.push(self.cd[w]);
                }
            }
        }
        keep
    }

    fn select(&mut self, pop: &Pop, n: usize, rng: &mut ChaCha8Rng, out: &mut Vec<usize>) {
        let (rank, crowding, cv) = (&self.rank, &self.crowding, &pop.cv);
        tournament(pop.len(), n, &mut self.perm, rng, out, |a, b, rng| {
            let coin = |rng: &mut ChaCha8Rng| {
                if rand::RngExt::random::<bool>(rng) {
                    a
                } else {
                    b
                }
            };
            if cv[a] > 0.0 || cv[b] > 0.0 {
                return match cv[a].total_cmp(&cv[b]) {
                    std::cmp::Ordering::Less => a,
                    std::cmp::Ordering::Greater => b,
                    std::cmp::Ordering::Equal => coin(rng),
                };
            }
            match rank[a].cmp(&rank[b]) {
                std::cmp::Ordering::Less => a,
                std::cmp::Ordering::Greater => b,
                std::cmp::Ordering::Equal => match crowding[a].total_cmp(&crowding[b]) {
                    std::cmp::Ordering::Greater => a,
                    std::cmp::Ordering::Less => b,
                    std::cmp::Ordering::Equal => coin(rng),
                },
            }
        });
    }
}

/// NSGA-II as an ask/tell [`Strategy`].
pub struct Nsga2 {
    evo: Evolution<RankAndCrowding>,
}

impl Nsga2 {
    /// NSGA-II over `space` for `m` objectives. `island` selects the generator stream (0
    /// for an unsharded run, `K` for island `K` of a sharded one).
    pub fn new(
        space: &Space,
        options: &Nsga2Options,
        m: usize,
        seed: u64,
        island: u32,
    ) -> Result<Nsga2, SearchError> {
        space.validate()?;
        let enc = Encoding::new(space);
        let o = options;
        let settings = settings(
            "nsga2",
            &enc,
            o.pop_size,
            o.offspring,
            o.crossover_prob,
            o.eta_c,
            o.eta_m,
            o.mutation_prob,
            o.cat_mutation_prob,
            o.eliminate_duplicates,
        )?;
        if m == 0 {
            return Err(SearchError::InvalidOption {
                strategy: "nsga2",
                reason: "at least one objective is needed".into(),
            });
        }
        let rng = stream_rng(seed, island as u64);
        Ok(Nsga2 {
            evo: Evolution::new(
                enc,
                m,
                settings,
                rng,
                RankAndCrowding {
                    kind: o.crowding,
                    ..Default::default()
                },
            ),
        })
    }
}

impl Strategy for Nsga2 {
    fn ask(&mut self, max: usize) -> Vec<Candidate> {
        self.evo.ask(max)
    }
    fn tell(&mut self, id: u64, outcome: Outcome) -> Result<(), SearchError> {
        self.evo.tell(id, outcome)
    }
    fn is_exhausted(&self) -> bool {
        self.evo.is_exhausted()
    }
    fn population_ids(&self) -> Vec<u64> {
        self.evo.population_ids()
    }
    fn name(&self) -> &'static str {
        "nsga2"
    }
}
