//! NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEVC 6(2), 2002).
//!
//! - Survival: (mu + lambda) — parents and offspring are sorted into fronts under
//!   constraint-domination (feasible fronts by fast non-dominated sorting, then infeasible
//!   designs by increasing violation), fronts are taken whole while they fit, and the
//!   front that does not fit is cut by decreasing crowding distance (ties: sort order).
//! - Mating selection: binary tournaments with Deb's crowded comparison under
//!   constraint-domination: if either entrant is infeasible, the smaller violation wins;
//!   otherwise the lower front, then the larger crowding distance; a full tie is a coin flip.
//!   [`Tournament::Dominance`] instead compares two feasible entrants by Pareto dominance
//!   before crowding (Deb's reference C code and pymoo); it scored lower on ZDT1 and ZDT2
//!   here and on ZDT2 in pymoo (docs/PERFORMANCE.md, "Session 8"), so it is not the
//!   default.
//! - Variation: SBX + polynomial mutation on numeric genes, uniform crossover + resampling
//!   mutation on categorical genes (see `operators.rs`). SBX's children are clipped into
//!   the bounds by default ([`SbxBounds::Clip`], as moors and DEAP do); pymoo and Deb's
//!   reference code truncate the spread distribution instead ([`SbxBounds::Truncated`]).
//!   Clipping scored higher on every test problem here, also with the optimum moved off
//!   the bounds (docs/PERFORMANCE.md, "Session 9").
//!
//! Defaults are Deb's and pymoo's (0.6.2): population 100, offspring = population,
//! crossover probability 0.9, eta_c = 15, eta_m = 20, per-gene mutation probability
//! `min(0.5, 1/n)` over the numeric genes (likewise over the categorical genes), duplicate
//! elimination on. One difference from pymoo: pymoo applies its polynomial mutation to an
//! individual with probability 0.9 (its `PM(prob=0.9)`), Deb's rule used here considers
//! every individual. eta_c = 15 is pymoo's; Deb et al. 2002 ran with eta_c = 20, which
//! moved the ZDT1-3 medians by no more than the spread between seeds, here and in pymoo
//! (docs/PERFORMANCE.md, "Session 8"), so the default was left alone.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::evolution::{Evolution, Pop, Settings, Survival, tournament};
use super::operators::{Encoding, SbxBounds, Variation};
use super::{Candidate, Outcome, Strategy, stream_rng};
use crate::error::SearchError;
use crate::pareto::{constrained_non_dominated_sort, crowding_into, dominates, pruning_crowding};
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
    /// How a binary tournament between two feasible parents is decided (see [`Tournament`]).
    pub tournament: Tournament,
    /// How SBX keeps children within the bounds (see [`SbxBounds`]).
    pub sbx_bounds: SbxBounds,
}

/// How NSGA-II's binary tournament picks between two feasible entrants (an infeasible
/// entrant always loses to a less violating one, Deb's constraint-domination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tournament {
    /// The crowded-comparison operator of Deb et al. 2002 (section III-C): the lower front
    /// wins, then the larger crowding distance; a full tie is a coin flip.
    #[default]
    CrowdedComparison,
    /// Deb's reference C code (NSGA-II revision 1.1.6, `tournament()`) and pymoo 0.6.2's
    /// default (`comp_by_dom_and_crowding`): the entrant that Pareto-dominates the other
    /// wins, otherwise the larger crowding distance; a full tie is a coin flip.
    Dominance,
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
            tournament: Tournament::default(),
            sbx_bounds: SbxBounds::default(),
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
    sbx_bounds: SbxBounds,
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
            sbx_bounds,
        },
        eliminate_duplicates,
    })
}

/// Rank-and-crowding survival and crowded binary tournaments.
#[derive(Debug, Default)]
pub(crate) struct RankAndCrowding {
    pub(crate) kind: Crowding,
    pub(crate) tournament: Tournament,
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
        let by_dominance = self.tournament == Tournament::Dominance;
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
            let first = if by_dominance {
                if dominates(pop.f_row(a), pop.f_row(b)) {
                    std::cmp::Ordering::Less
                } else if dominates(pop.f_row(b), pop.f_row(a)) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            } else {
                rank[a].cmp(&rank[b])
            };
            match first {
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
            o.sbx_bounds,
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
                    tournament: o.tournament,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Three members on the first front, (0, 3), (1, 1), (3, 0), and (2, 2) on the second:
    /// dominated by (1, 1) only, incomparable with the two extremes. Returns how often the
    /// second-front member wins one of 4000 tournaments.
    fn second_front_wins(tournament: Tournament) -> usize {
        let f = vec![0.0, 3.0, 1.0, 1.0, 3.0, 0.0, 2.0, 2.0];
        let pop = Pop {
            d: 1,
            m: 2,
            x: vec![0.0, 1.0, 2.0, 3.0],
            f,
            cv: vec![0.0; 4],
            id: vec![0, 1, 2, 3],
            hash: vec![0, 1, 2, 3],
        };
        let mut survival = RankAndCrowding {
            tournament,
            ..Default::default()
        };
        let mut rng = stream_rng(11, 0);
        // Fronts in lexicographic order: the population is already in survival order.
        assert_eq!(survival.survive(&pop, 4, &mut rng), vec![0, 1, 2, 3]);
        let mut out = Vec::new();
        survival.select(&pop, 4000, &mut rng, &mut out);
        out.iter().filter(|&&w| w == 3).count()
    }

    #[test]
    fn crowded_comparison_prefers_the_lower_front_dominance_only_a_dominating_entrant() {
        // Deb et al. 2002: the lower front always wins, so (2, 2) never does (an even
        // population pairs distinct members).
        assert_eq!(second_front_wins(Tournament::CrowdedComparison), 0);
        // Dominance: (2, 2) loses to (1, 1), which dominates it, but is incomparable with an
        // extreme and both have infinite crowding distance, so it wins half of those.
        let wins = second_front_wins(Tournament::Dominance);
        // Each tournament has (2, 2) as an entrant with probability 1/2; its opponent is
        // an extreme with probability 2/3, and it then wins with probability 1/2.
        let expected = 4000.0 * 0.5 * (2.0 / 3.0) * 0.5;
        assert!(
            (wins as f64 - expected).abs() < 0.15 * expected,
            "{wins} wins, expected about {expected}"
        );
    }
}
