//! NSGA-III (Deb & Jain, IEEE TEVC 18(4), 2014; constraint handling as in Jain & Deb,
//! part II of the same issue), for three or more objectives.
//!
//! - Reference directions: Das & Dennis (SIAM J. Optim. 8(3), 1998) points on the unit
//!   simplex with `p` partitions, or two layers (boundary `p1`, inner `p2` shrunk halfway to
//!   the centroid) for many objectives, following Deb & Jain's Table I.
//! - Survival: (mu + lambda). Fronts under constraint-domination are taken whole while they
//!   fit (infeasible designs only when fewer than mu are feasible, by increasing
//!   violation). The front that does not fit is cut by niching: objectives are normalised
//!   by the ideal point and the intercepts of the hyperplane through the extreme points
//!   (found with the achievement scalarising function, weights 1e-6 off the axis), every
//!   member is associated with the reference line nearest in perpendicular distance, and
//!   members of the last front are added one at a time to the least-crowded niches (a
//!   niche with no member yet takes its nearest candidate, otherwise a random one).
//! - Normalisation state carried across generations (the refinements of Blank, Deb & Roy,
//!   EMO 2019, as in pymoo): the ideal and worst points are running extremes, the extreme
//!   points of the last generation compete with the current front, and when the hyperplane
//!   is degenerate (singular, or an intercept <= 1e-6) the nadir falls back to the worst
//!   point of the first front; an intercept beyond the worst point seen is clipped to it,
//!   and an objective whose range would be <= 1e-6 uses the worst of the population.
//! - Mating: binary tournaments that prefer the smaller violation and are otherwise random
//!   (pymoo's `comp_by_cv_then_random`; Deb & Jain select parents at random).
//! - Defaults (Deb & Jain; pymoo 0.6.2): SBX with probability 1.0 and eta_c = 30,
//!   polynomial mutation eta_m = 20 with per-gene probability `min(0.5, 1/n)`, duplicate
//!   elimination on, population = the smallest multiple of 4 not below the number of
//!   reference directions (92 for 91 directions). SBX clips its children into the bounds
//!   as NSGA-II does ([`SbxBounds`]; pymoo truncates).

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::evolution::{Evolution, Pop, Survival, shuffle_into, tournament};
use super::nsga2::settings;
use super::operators::{Encoding, SbxBounds};
use super::{Candidate, Outcome, Strategy, stream_rng};
use crate::error::SearchError;
use crate::pareto::constrained_non_dominated_sort;
use crate::space::Space;

/// Options of NSGA-III. Every field has a default (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Nsga3Options {
    /// Population size; `None` = smallest multiple of 4 >= number of reference directions.
    pub pop_size: Option<usize>,
    /// Offspring per generation; `None` = population size.
    pub offspring: Option<usize>,
    /// Das–Dennis partitions (outer layer); `None` = [`default_partitions`].
    pub partitions: Option<usize>,
    /// Partitions of a second, inner layer; `None` = the default for `m` when `partitions`
    /// is also `None`, else one layer.
    pub inner_partitions: Option<usize>,
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
    /// How SBX keeps children within the bounds (see [`SbxBounds`]).
    pub sbx_bounds: SbxBounds,
}

impl Default for Nsga3Options {
    fn default() -> Self {
        Nsga3Options {
            pop_size: None,
            offspring: None,
            partitions: None,
            inner_partitions: None,
            crossover_prob: 1.0,
            eta_c: 30.0,
            eta_m: 20.0,
            mutation_prob: None,
            cat_mutation_prob: None,
            eliminate_duplicates: true,
            sbx_bounds: SbxBounds::default(),
        }
    }
}

/// Das–Dennis points: every `m`-vector `(k_1, ..., k_m) / p` with non-negative integers
/// summing to `p`, in lexicographic order of `k` (descending from `(p, 0, ..., 0)`),
/// row-major. There are `C(p + m - 1, m - 1)` of them.
pub fn das_dennis(m: usize, p: usize) -> Vec<f64> {
    fn rec(m: usize, p: usize, left: usize, prefix: &mut Vec<usize>, out: &mut Vec<f64>) {
        if prefix.len() == m - 1 {
            prefix.push(left);
            out.extend(prefix.iter().map(|&k| {
                if p == 0 {
                    1.0 / m as f64
                } else {
                    k as f64 / p as f64
                }
            }));
            prefix.pop();
            return;
        }
        for k in (0..=left).rev() {
            prefix.push(k);
            rec(m, p, left - k, prefix, out);
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    if m == 0 {
        return out;
    }
    rec(m, p, p, &mut Vec::with_capacity(m), &mut out);
    out
}

/// Deb & Jain's partitions for `m` objectives (their Table I where it has a row; between
/// its rows, the nearest setting of about the same size): `(p1, Some(p2))` for two layers.
/// `m = 2`: 99 (100 directions); 3: 12 (91); 4: 8 (165); 5: 6 (210); 6: (4, 1) (132);
/// 7: (3, 2) (112); 8: (3, 2) (156); 9: (3, 2) (210); 10: (3, 2) (275); 11 and more: (2, 1)
/// (135 for 15).
pub fn default_partitions(m: usize) -> (usize, Option<usize>) {
    match m {
        0..=2 => (99, None),
        3 => (12, None),
        4 => (8, None),
        5 => (6, None),
        6 => (4, Some(1)),
        7..=10 => (3, Some(2)),
        _ => (2, Some(1)),
    }
}

/// Reference directions for `m` objectives: Das–Dennis with `outer` partitions, plus, with
/// `inner`, a second Das–Dennis layer shrunk halfway towards the centroid
/// (`w' = w / 2 + 1 / (2m)`, Deb & Jain section IV-B). Row-major.
pub fn reference_directions(m: usize, outer: usize, inner: Option<usize>) -> Vec<f64> {
    let mut dirs = das_dennis(m, outer);
    if let Some(p2) = inner {
        let centre = 1.0 / m as f64;
        dirs.extend(das_dennis(m, p2).iter().map(|w| 0.5 * w + 0.5 * centre));
    }
    dirs
}

/// Reference-direction survival and violation-then-random tournaments.
pub(crate) struct ReferenceSurvival {
    m: usize,
    /// Unit-length reference directions, row-major.
    dirs: Vec<f64>,
    n_dirs: usize,
    ideal: Vec<f64>,
    worst: Vec<f64>,
    /// Extreme points of the previous generation (`m` rows), once known.
    extremes: Option<Vec<f64>>,
    perm: Vec<usize>,
}

impl ReferenceSurvival {
    fn new(m: usize, dirs: &[f64]) -> ReferenceSurvival {
        let mut unit = dirs.to_vec();
        for w in unit.chunks_exact_mut(m) {
            let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
            w.iter_mut().for_each(|v| *v /= norm);
        }
        ReferenceSurvival {
            m,
            n_dirs: dirs.len() / m,
            dirs: unit,
            ideal: vec![f64::INFINITY; m],
            worst: vec![f64::NEG_INFINITY; m],
            extremes: None,
            perm: Vec::new(),
        }
    }

    /// Updates the normalisation from the feasible rows `feasible` (with `front0` the first
    /// front) and returns `(ideal, nadir)`.
    fn normalisation(
        &mut self,
        pop: &Pop,
        feasible: &[usize],
        front0: &[usize],
    ) -> (Vec<f64>, Vec<f64>) {
        let m = self.m;
        for &i in feasible {
            for (j, &v) in pop.f_row(i).iter().enumerate() {
                self.ideal[j] = self.ideal[j].min(v);
                self.worst[j] = self.worst[j].max(v);
            }
        }
        // Extreme point per axis: the minimiser of the achievement scalarising function
        // max_j (f_j - z_j) / w_j with w = e_axis (1e-6 off the axis), over the previous
        // extremes and the first front.
        let mut candidates: Vec<f64> = self.extremes.take().unwrap_or_default();
        for &i in front0 {
            candidates.extend_from_slice(pop.f_row(i));
        }
        let mut extremes = Vec::with_capacity(m * m);
        for axis in 0..m {
            let asf = |p: &[f64]| {
                (0..m)
                    .map(|j| (p[j] - self.ideal[j]) / if j == axis { 1.0 } else { 1e-6 })
                    .fold(f64::NEG_INFINITY, f64::max)
            };
            let best = candidates
                .chunks_exact(m)
                .min_by(|a, b| asf(a).total_cmp(&asf(b)))
                .expect("the first front is not empty");
            extremes.extend_from_slice(best);
        }
        let worst_of_front = column_max(pop, front0, m);
        let worst_of_population = column_max(pop, feasible, m);
        let mut nadir = match hyperplane_intercepts(&extremes, &self.ideal, m) {
            Some(intercepts) => (0..m)
                .map(|j| (self.ideal[j] + intercepts[j]).min(self.worst[j]))
                .collect(),
            None => worst_of_front,
        };
        for j in 0..m {
            if nadir[j] - self.ideal[j] <= 1e-6 {
                nadir[j] = worst_of_population[j];
            }
        }
        self.extremes = Some(extremes);
        (self.ideal.clone(), nadir)
    }
}

fn column_max(pop: &Pop, rows: &[usize], m: usize) -> Vec<f64> {
    let mut out = vec![f64::NEG_INFINITY; m];
    for &i in rows {
        for (j, &v) in pop.f_row(i).iter().enumerate() {
            out[j] = out[j].max(v);
        }
    }
    out
}

/// Intercepts of the hyperplane through the `m` extreme points (translated by the ideal
/// point) with the axes: solve `E b = 1` by Gaussian elimination with partial pivoting,
/// intercept `j` = `1 / b_j`. `None` when the system is singular or an intercept is not a
/// finite number above 1e-6.
fn hyperplane_intercepts(extremes: &[f64], ideal: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut a: Vec<f64> = (0..m * m).map(|k| extremes[k] - ideal[k % m]).collect();
    let mut b = vec![1.0; m];
    for col in 0..m {
        let pivot =
            (col..m).max_by(|&r, &s| a[r * m + col].abs().total_cmp(&a[s * m + col].abs()))?;
        if a[pivot * m + col].abs() < 1e-12 {
            return None;
        }
        if pivot != col {
            for k in 0..m {
                a.swap(pivot * m + k, col * m + k);
            }
            b.swap(pivot, col);
        }
        for r in col + 1..m {
            let factor = a[r * m + col] / a[col * m + col];
            for k in col..m {
                a[r * m + k] -= factor * a[col * m + k];
            }
            b[r] -= factor * b[col];
        }
    }
    let mut plane = vec![0.0; m];
    for r in (0..m).rev() {
        let tail: f64 = (r + 1..m).map(|k| a[r * m + k] * plane[k]).sum();
        plane[r] = (b[r] - tail) / a[r * m + r];
    }
    let intercepts: Vec<f64> = plane.iter().map(|p| 1.0 / p).collect();
    intercepts
        .iter()
        .all(|v| v.is_finite() && *v > 1e-6)
        .then_some(intercepts)
}

impl Survival for ReferenceSurvival {
    fn survive(&mut self, pop: &Pop, mu: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
        let m = self.m;
        let fronts = constrained_non_dominated_sort(&pop.f, &pop.cv, m);
        let n_feasible_fronts = fronts.iter().take_while(|f| pop.cv[f[0]] <= 0.0).count();
        let feasible: Vec<usize> = fronts[..n_feasible_fronts].concat();
        let mut keep: Vec<usize> = Vec::with_capacity(mu);
        if feasible.len() <= mu {
            // Every feasible design survives; the rest is filled by increasing violation.
            if !feasible.is_empty() {
                self.normalisation(pop, &feasible, &fronts[0]);
            }
            for front in &fronts {
                let room = mu - keep.len();
                keep.extend(front.iter().take(room));
                if keep.len() == mu {
                    break;
                }
            }
            return keep;
        }
        let (ideal, nadir) = self.normalisation(pop, &feasible, &fronts[0]);
        // S_t: whole fronts until at least mu members; the last one is split by niching.
        let mut last = 0;
        while keep.len() + fronts[last].len() < mu {
            keep.extend_from_slice(&fronts[last]);
            last += 1;
        }
        if keep.len() + fronts[last].len() == mu {
            keep.extend_from_slice(&fronts[last]);
            return keep;
        }
        let denom: Vec<f64> = (0..m)
            .map(|j| {
                let d = nadir[j] - ideal[j];
                if d == 0.0 { 1e-12 } else { d }
            })
            .collect();
        let associate = |i: usize| -> (usize, f64) {
            let f = pop.f_row(i);
            let mut best = (0, f64::INFINITY);
            for (k, w) in self.dirs.chunks_exact(m).enumerate() {
                let proj: f64 = (0..m).map(|j| (f[j] - ideal[j]) / denom[j] * w[j]).sum();
                let d2: f64 = (0..m)
                    .map(|j| ((f[j] - ideal[j]) / denom[j] - proj * w[j]).powi(2))
                    .sum();
                if d2 < best.1 {
                    best = (k, d2);
                }
            }
            best
        };
        let mut niche_count = vec![0usize; self.n_dirs];
        for &i in &keep {
            niche_count[associate(i).0] += 1;
        }
        // Last-front members grouped by niche, with their distances.
        let candidates: Vec<(usize, usize, f64)> = fronts[last]
            .iter()
            .map(|&i| {
                let (k, d2) = associate(i);
                (i, k, d2)
            })
            .collect();
        let mut by_niche: Vec<Vec<usize>> = vec![Vec::new(); self.n_dirs];
        for (c, &(_, k, _)) in candidates.iter().enumerate() {
            by_niche[k].push(c);
        }
        let mut open: Vec<usize> = (0..self.n_dirs)
            .filter(|&k| !by_niche[k].is_empty())
            .collect();
        while keep.len() < mu {
            let min_count = open
                .iter()
                .map(|&k| niche_count[k])
                .min()
                .expect("candidates remain");
            let mut chosen: Vec<usize> = open
                .iter()
                .copied()
                .filter(|&k| niche_count[k] == min_count)
                .collect();
            // A random order of the least crowded niches, cut to what is still needed.
            shuffle_into(&mut self.perm, chosen.len(), rng);
            chosen = self.perm.iter().map(|&p| chosen[p]).collect();
            chosen.truncate(mu - keep.len());
            for k in chosen {
                let members = &mut by_niche[k];
                let pick = if niche_count[k] == 0 {
                    // The nearest candidate (ties broken by a random order).
                    shuffle_into(&mut self.perm, members.len(), rng);
                    let order: Vec<usize> = self.perm.clone();
                    *order
                        .iter()
                        .min_by(|&&a, &&b| {
                            candidates[members[a]]
                                .2
                                .total_cmp(&candidates[members[b]].2)
                        })
                        .expect("niche has candidates")
                } else {
                    rng.random_range(0..members.len())
                };
                let c = members.swap_remove(pick);
                keep.push(candidates[c].0);
                niche_count[k] += 1;
            }
            open.retain(|&k| !by_niche[k].is_empty());
        }
        keep
    }

    fn select(&mut self, pop: &Pop, n: usize, rng: &mut ChaCha8Rng, out: &mut Vec<usize>) {
        let cv = &pop.cv;
        tournament(pop.len(), n, &mut self.perm, rng, out, |a, b, rng| {
            if (cv[a] > 0.0 || cv[b] > 0.0) && cv[a] != cv[b] {
                if cv[a] < cv[b] { a } else { b }
            } else if rng.random::<bool>() {
                a
            } else {
                b
            }
        });
    }
}

/// NSGA-III as an ask/tell [`Strategy`].
pub struct Nsga3 {
    evo: Evolution<ReferenceSurvival>,
    n_dirs: usize,
}

impl Nsga3 {
    /// NSGA-III over `space` for `m >= 2` objectives. `island` selects the generator stream
    /// (0 for an unsharded run, `K` for island `K` of a sharded one).
    pub fn new(
        space: &Space,
        options: &Nsga3Options,
        m: usize,
        seed: u64,
        island: u32,
    ) -> Result<Nsga3, SearchError> {
        space.validate()?;
        let bad = |reason: String| {
            Err(SearchError::InvalidOption {
                strategy: "nsga3",
                reason,
            })
        };
        if m < 2 {
            return bad(format!(
                "NSGA-III needs at least 2 objectives (got {m}); use nsga2"
            ));
        }
        let (outer, inner) = match (options.partitions, options.inner_partitions) {
            (None, None) => default_partitions(m),
            (None, Some(_)) => return bad("inner_partitions needs partitions".into()),
            (Some(p), inner) => (p, inner),
        };
        if outer == 0 || inner == Some(0) {
            return bad("partitions must be >= 1".into());
        }
        let dirs = reference_directions(m, outer, inner);
        let n_dirs = dirs.len() / m;
        let pop_size = options.pop_size.unwrap_or(n_dirs.div_ceil(4) * 4);
        let enc = Encoding::new(space);
        let o = options;
        let settings = settings(
            "nsga3",
            &enc,
            pop_size,
            o.offspring,
            o.crossover_prob,
            o.eta_c,
            o.eta_m,
            o.mutation_prob,
            o.cat_mutation_prob,
            o.eliminate_duplicates,
            o.sbx_bounds,
        )?;
        let rng = stream_rng(seed, island as u64);
        Ok(Nsga3 {
            evo: Evolution::new(enc, m, settings, rng, ReferenceSurvival::new(m, &dirs)),
            n_dirs,
        })
    }

    /// The number of reference directions.
    pub fn n_directions(&self) -> usize {
        self.n_dirs
    }
}

impl Strategy for Nsga3 {
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
        "nsga3"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn das_dennis_counts_and_sums() {
        let d = das_dennis(3, 12);
        assert_eq!(d.len() / 3, 91);
        for w in d.chunks_exact(3) {
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(w.iter().all(|&v| v >= 0.0));
        }
        assert_eq!(
            das_dennis(2, 3),
            vec![
                1.0,
                0.0,
                2.0 / 3.0,
                1.0 / 3.0,
                1.0 / 3.0,
                2.0 / 3.0,
                0.0,
                1.0
            ]
        );
        // Deb & Jain Table I: 8 objectives with (3, 2) give 120 + 36 = 156 directions,
        // 15 objectives with (2, 1) give 120 + 15 = 135.
        let (p1, p2) = default_partitions(8);
        assert_eq!(reference_directions(8, p1, p2).len() / 8, 156);
        let (p1, p2) = default_partitions(15);
        assert_eq!(reference_directions(15, p1, p2).len() / 15, 135);
        let (p1, p2) = default_partitions(5);
        assert_eq!(reference_directions(5, p1, p2).len() / 5, 210);
    }

    #[test]
    fn inner_layer_is_shrunk_to_the_centroid() {
        let d = reference_directions(3, 1, Some(1));
        // outer: the 3 unit vectors; inner: (1/2 + 1/6, 1/6, 1/6) and permutations
        assert_eq!(d.len(), 18);
        assert!((d[9] - 2.0 / 3.0).abs() < 1e-12 && (d[10] - 1.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn intercepts_of_a_simplex_and_degenerate_planes() {
        // Extremes on the axes at 2, 3, 4: intercepts 2, 3, 4.
        let e = [2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 4.0];
        let a = hyperplane_intercepts(&e, &[0.0; 3], 3).unwrap();
        assert!(
            (a[0] - 2.0).abs() < 1e-12 && (a[1] - 3.0).abs() < 1e-12 && (a[2] - 4.0).abs() < 1e-12
        );
        // Two identical extremes: singular.
        let e = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        assert!(hyperplane_intercepts(&e, &[0.0; 3], 3).is_none());
        // A plane with a negative intercept.
        let e = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 1.0];
        assert!(hyperplane_intercepts(&e, &[0.0; 3], 3).is_none());
    }
}
