//! The operator space and the variation operators.
//!
//! Every gene lives in the optimisers as one `f64` coordinate:
//! - a real gene as its value, or `ln` of it on a log scale;
//! - an integer gene as its step index `(v - lo) / step` (a real relaxation, rounded back to
//!   the grid after every operator), or `ln v` on a log scale (rounded in value space);
//! - a categorical gene as its choice index.
//!
//! Numeric coordinates are varied by SBX (Deb & Agrawal, Complex Systems 9, 1995), by
//! default with children clipped into the bounds, optionally in the truncated form of Deb's
//! NSGA-II reference code ([`SbxBounds`]), and by polynomial mutation (Deb & Goyal, 1996) in
//! the bounded form of the reference code. Categorical coordinates get uniform crossover and a mutation
//! that moves to one of the other choices, uniformly.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::space::{Dim, Gene, Genotype, Space};

#[derive(Debug, Clone, Copy)]
enum Coord {
    Real { log: bool, lo: f64, hi: f64 },
    Int { lo: i64, step: i64 },
    IntLog { lo: i64, hi: i64 },
    Cat { n: usize },
}

/// Maps genotypes to and from the operator space.
#[derive(Debug, Clone)]
pub(crate) struct Encoding {
    coords: Vec<Coord>,
    /// Operator-space bounds per coordinate.
    pub(crate) lower: Vec<f64>,
    pub(crate) upper: Vec<f64>,
    /// Indices of numeric (real and integer) and of categorical coordinates.
    pub(crate) numeric: Vec<usize>,
    pub(crate) categorical: Vec<usize>,
    /// Whether any coordinate needs rounding after variation.
    has_int: bool,
}

impl Encoding {
    /// The encoding of a validated space.
    pub(crate) fn new(space: &Space) -> Encoding {
        let mut e = Encoding {
            coords: Vec::with_capacity(space.len()),
            lower: Vec::with_capacity(space.len()),
            upper: Vec::with_capacity(space.len()),
            numeric: Vec::new(),
            categorical: Vec::new(),
            has_int: false,
        };
        for (j, d) in space.dims.iter().enumerate() {
            let (coord, lo, hi) = match *d {
                Dim::Real { lo, hi, log } => {
                    let (a, b) = if log { (lo.ln(), hi.ln()) } else { (lo, hi) };
                    (Coord::Real { log, lo, hi }, a, b)
                }
                Dim::Int {
                    lo,
                    hi,
                    step,
                    log: false,
                } => (
                    Coord::Int { lo, step },
                    0.0,
                    ((hi as i128 - lo as i128) / step as i128) as f64,
                ),
                Dim::Int {
                    lo, hi, log: true, ..
                } => (Coord::IntLog { lo, hi }, (lo as f64).ln(), (hi as f64).ln()),
                Dim::Cat { n } => (Coord::Cat { n }, 0.0, (n - 1) as f64),
            };
            match coord {
                Coord::Cat { .. } => e.categorical.push(j),
                Coord::Int { .. } | Coord::IntLog { .. } => {
                    e.numeric.push(j);
                    e.has_int = true;
                }
                Coord::Real { .. } => e.numeric.push(j),
            }
            e.coords.push(coord);
            e.lower.push(lo);
            e.upper.push(hi);
        }
        e
    }

    /// Number of coordinates.
    pub(crate) fn len(&self) -> usize {
        self.coords.len()
    }

    /// A uniform sample of the space (log-uniform on log scales) into `out`.
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng, out: &mut [f64]) {
        for (j, c) in self.coords.iter().enumerate() {
            out[j] = match *c {
                Coord::Real { .. } => {
                    let (a, b) = (self.lower[j], self.upper[j]);
                    (a + rng.random::<f64>() * (b - a)).min(b)
                }
                Coord::Int { .. } => rng.random_range(0..=self.upper[j] as u64) as f64,
                // Log-uniform over [lo - 1/2, hi + 1/2], then rounded: each integer gets the
                // log-width of its rounding cell (Optuna's IntDistribution(log=True) rule).
                Coord::IntLog { lo, hi } => {
                    let (a, b) = ((lo as f64 - 0.5).ln(), (hi as f64 + 0.5).ln());
                    let v = (a + rng.random::<f64>() * (b - a))
                        .exp()
                        .round()
                        .clamp(lo as f64, hi as f64);
                    v.ln()
                }
                Coord::Cat { n } => rng.random_range(0..n) as f64,
            };
        }
    }

    /// Brings integer coordinates back onto their grid and every coordinate into bounds.
    #[inline]
    pub(crate) fn canonicalise(&self, u: &mut [f64]) {
        if !self.has_int {
            for ((v, &lo), &hi) in u.iter_mut().zip(&self.lower).zip(&self.upper) {
                *v = v.clamp(lo, hi);
            }
            return;
        }
        for (j, c) in self.coords.iter().enumerate() {
            u[j] = match *c {
                Coord::Real { .. } | Coord::Cat { .. } => u[j].clamp(self.lower[j], self.upper[j]),
                Coord::Int { .. } => u[j].round().clamp(0.0, self.upper[j]),
                Coord::IntLog { lo, hi } => u[j].exp().round().clamp(lo as f64, hi as f64).ln(),
            };
        }
    }

    /// The genotype of an operator-space point (canonical, as produced by this module).
    pub(crate) fn decode(&self, u: &[f64]) -> Genotype {
        self.coords
            .iter()
            .enumerate()
            .map(|(j, c)| match *c {
                Coord::Real { log: false, .. } => Gene::Real(u[j]),
                Coord::Real { log: true, lo, hi } => Gene::Real(if u[j] <= self.lower[j] {
                    lo
                } else if u[j] >= self.upper[j] {
                    hi
                } else {
                    u[j].exp().clamp(lo, hi)
                }),
                // In i128: lo + k * step <= hi fits i64, but k * step alone may not.
                Coord::Int { lo, step } => {
                    Gene::Int((lo as i128 + u[j] as i128 * step as i128) as i64)
                }
                Coord::IntLog { lo, hi } => Gene::Int((u[j].exp().round() as i64).clamp(lo, hi)),
                Coord::Cat { .. } => Gene::Cat(u[j] as usize),
            })
            .collect()
    }
}

/// Parameters of the variation operators.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Variation {
    /// Probability that a mating recombines (otherwise the children copy the parents).
    pub(crate) crossover_prob: f64,
    /// SBX distribution index.
    pub(crate) eta_c: f64,
    /// Polynomial mutation distribution index.
    pub(crate) eta_m: f64,
    /// Per-gene mutation probability of numeric genes.
    pub(crate) mutation_prob: f64,
    /// Per-gene mutation probability of categorical genes.
    pub(crate) cat_mutation_prob: f64,
    /// How SBX keeps children within the bounds.
    pub(crate) sbx_bounds: SbxBounds,
}

/// How simulated binary crossover keeps a child within its variable's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SbxBounds {
    /// The spread factor of Deb & Agrawal (Complex Systems 9, 1995), whose distribution has
    /// no bounds, with each child then clipped into them, as moors 0.2.11 and DEAP's
    /// `cxSimulatedBinary` with a bounds check do. A child that would leave the range lands
    /// on its bound, so a bound is reached with positive probability.
    #[default]
    Clip,
    /// Deb's reference C code (NSGA-II revision 1.1.6, `realcross.c`) and pymoo 0.6.2: the
    /// spread factor's distribution is truncated on each side to the room left to that
    /// side's bound, so a child never leaves the range and almost never lands on a bound.
    Truncated,
}

/// Each numeric variable of a recombining mating goes through SBX with this probability,
/// and each categorical one is swapped with it (Deb's reference code; pymoo's `prob_var`).
const PER_VARIABLE_CROSSOVER: f64 = 0.5;
/// Parents closer than this in a variable are copied, not recombined (Deb's reference code).
const SBX_TOO_CLOSE: f64 = 1e-14;

impl Variation {
    /// Two children of two parents: recombination with probability `crossover_prob`, then
    /// mutation of each child, then rounding back onto the grid.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn breed(
        &self,
        enc: &Encoding,
        p1: &[f64],
        p2: &[f64],
        c1: &mut [f64],
        c2: &mut [f64],
        rng: &mut ChaCha8Rng,
    ) {
        c1.copy_from_slice(p1);
        c2.copy_from_slice(p2);
        if rng.random::<f64>() < self.crossover_prob {
            self.crossover(enc, p1, p2, c1, c2, rng);
        }
        self.mutate(enc, c1, rng);
        self.mutate(enc, c2, rng);
        enc.canonicalise(c1);
        enc.canonicalise(c2);
    }

    fn crossover(
        &self,
        enc: &Encoding,
        p1: &[f64],
        p2: &[f64],
        c1: &mut [f64],
        c2: &mut [f64],
        rng: &mut ChaCha8Rng,
    ) {
        let exponent = 1.0 / (self.eta_c + 1.0);
        for &j in &enc.numeric {
            if rng.random::<f64>() >= PER_VARIABLE_CROSSOVER {
                continue;
            }
            let (x1, x2) = (p1[j], p2[j]);
            if (x1 - x2).abs() <= SBX_TOO_CLOSE {
                continue;
            }
            let (y1, y2) = if x1 < x2 { (x1, x2) } else { (x2, x1) };
            let (lo, hi) = (enc.lower[j], enc.upper[j]);
            let delta = y2 - y1;
            let r = rng.random::<f64>();
            // The spread factor. With `Truncated` the distribution is cut to keep the child within the bound on
            // its side (beta measures the room to the bound in units of delta/2); alpha = 2
            // is the distribution without bounds.
            let betaq = |alpha: f64| {
                if r <= 1.0 / alpha {
                    (r * alpha).powf(exponent)
                } else {
                    (1.0 / (2.0 - r * alpha)).powf(exponent)
                }
            };
            let (low_beta, high_beta) = match self.sbx_bounds {
                SbxBounds::Clip => {
                    let b = betaq(2.0);
                    (b, b)
                }
                SbxBounds::Truncated => {
                    let alpha = |beta: f64| 2.0 - beta.powf(-(self.eta_c + 1.0));
                    (
                        betaq(alpha(1.0 + 2.0 * (y1 - lo) / delta)),
                        betaq(alpha(1.0 + 2.0 * (hi - y2) / delta)),
                    )
                }
            };
            let low_child = 0.5 * ((y1 + y2) - low_beta * delta);
            let high_child = 0.5 * ((y1 + y2) + high_beta * delta);
            let (low_child, high_child) = (low_child.clamp(lo, hi), high_child.clamp(lo, hi));
            if rng.random::<f64>() < 0.5 {
                c1[j] = high_child;
                c2[j] = low_child;
            } else {
                c1[j] = low_child;
                c2[j] = high_child;
            }
        }
        for &j in &enc.categorical {
            if rng.random::<f64>() < PER_VARIABLE_CROSSOVER {
                c1[j] = p2[j];
                c2[j] = p1[j];
            }
        }
    }

    fn mutate(&self, enc: &Encoding, c: &mut [f64], rng: &mut ChaCha8Rng) {
        let exponent = 1.0 / (self.eta_m + 1.0);
        for &j in &enc.numeric {
            if rng.random::<f64>() >= self.mutation_prob {
                continue;
            }
            let (lo, hi) = (enc.lower[j], enc.upper[j]);
            let range = hi - lo;
            let y = c[j];
            let r = rng.random::<f64>();
            // Bounded polynomial mutation: the perturbation's distribution is scaled so the
            // child stays within [lo, hi] (delta1/delta2: room to each bound).
            let deltaq = if r <= 0.5 {
                let xy = 1.0 - (y - lo) / range;
                let val = 2.0 * r + (1.0 - 2.0 * r) * xy.powf(self.eta_m + 1.0);
                val.powf(exponent) - 1.0
            } else {
                let xy = 1.0 - (hi - y) / range;
                let val = 2.0 * (1.0 - r) + 2.0 * (r - 0.5) * xy.powf(self.eta_m + 1.0);
                1.0 - val.powf(exponent)
            };
            c[j] = (y + deltaq * range).clamp(lo, hi);
        }
        for &j in &enc.categorical {
            if rng.random::<f64>() >= self.cat_mutation_prob {
                continue;
            }
            let n = enc.upper[j] as usize + 1;
            let mut v = rng.random_range(0..n - 1);
            if v >= c[j] as usize {
                v += 1;
            }
            c[j] = v as f64;
        }
    }
}

/// A hash of an operator-space point (for duplicate detection; `-0.0` = `0.0`).
#[inline]
pub(crate) fn hash_point(u: &[f64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &v in u {
        let bits = if v == 0.0 { 0 } else { v.to_bits() };
        h = (h ^ bits).wrapping_mul(0x0000_0100_0000_01b3);
        h ^= h >> 29;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::stream_rng;

    fn mixed_space() -> Space {
        Space::new(vec![
            Dim::Real {
                lo: -1.0,
                hi: 3.0,
                log: false,
            },
            Dim::Real {
                lo: 1e-3,
                hi: 10.0,
                log: true,
            },
            Dim::Int {
                lo: 8,
                hi: 64,
                step: 8,
                log: false,
            },
            Dim::Int {
                lo: 1,
                hi: 1024,
                step: 1,
                log: true,
            },
            Dim::Cat { n: 3 },
        ])
        .unwrap()
    }

    #[test]
    fn samples_and_offspring_stay_in_the_space() {
        let space = mixed_space();
        let enc = Encoding::new(&space);
        for sbx_bounds in [SbxBounds::Clip, SbxBounds::Truncated] {
            let var = Variation {
                crossover_prob: 1.0,
                eta_c: 2.0,
                eta_m: 2.0,
                mutation_prob: 0.5,
                cat_mutation_prob: 0.5,
                sbx_bounds,
            };
            let mut rng = stream_rng(3, 0);
            let (mut p1, mut p2) = (vec![0.0; 5], vec![0.0; 5]);
            let (mut c1, mut c2) = (vec![0.0; 5], vec![0.0; 5]);
            for _ in 0..2000 {
                enc.sample(&mut rng, &mut p1);
                enc.sample(&mut rng, &mut p2);
                assert!(space.contains(&enc.decode(&p1)), "{:?}", enc.decode(&p1));
                var.breed(&enc, &p1, &p2, &mut c1, &mut c2, &mut rng);
                for c in [&c1, &c2] {
                    let g = enc.decode(c);
                    assert!(space.contains(&g), "{g:?}");
                    // Canonical: decoding and re-canonicalising changes nothing.
                    let mut again = c.clone();
                    enc.canonicalise(&mut again);
                    assert_eq!(&again, c);
                }
            }
        }
    }

    #[test]
    fn integer_ranges_spanning_most_of_i64_decode_without_overflow() {
        let (lo, hi) = (-(1i64 << 62), 1i64 << 62);
        let space = Space::new(vec![Dim::Int {
            lo,
            hi,
            step: 1 << 10,
            log: false,
        }])
        .unwrap();
        let enc = Encoding::new(&space);
        assert_eq!(enc.decode(&[enc.upper[0]]), vec![Gene::Int(hi)]);
        assert_eq!(enc.decode(&[0.0]), vec![Gene::Int(lo)]);
        let mut rng = stream_rng(5, 0);
        let mut u = [0.0];
        for _ in 0..100 {
            enc.sample(&mut rng, &mut u);
            assert!(space.contains(&enc.decode(&u)));
        }
    }

    #[test]
    fn log_sampling_is_log_uniform() {
        let space = Space::new(vec![Dim::Real {
            lo: 1.0,
            hi: 10_000.0,
            log: true,
        }])
        .unwrap();
        let enc = Encoding::new(&space);
        let mut rng = stream_rng(1, 0);
        let mut u = [0.0];
        let n = 20_000;
        let below_100 = (0..n)
            .filter(|_| {
                enc.sample(&mut rng, &mut u);
                matches!(enc.decode(&u)[0], Gene::Real(x) if x < 100.0)
            })
            .count();
        // Half the decades lie below 100.
        assert!(
            (below_100 as f64 / n as f64 - 0.5).abs() < 0.02,
            "{below_100}"
        );
    }

    #[test]
    fn categorical_mutation_always_changes_the_choice() {
        let space = Space::new(vec![Dim::Cat { n: 4 }]).unwrap();
        let enc = Encoding::new(&space);
        let var = Variation {
            crossover_prob: 0.0,
            eta_c: 15.0,
            eta_m: 20.0,
            mutation_prob: 0.0,
            cat_mutation_prob: 1.0,
            sbx_bounds: SbxBounds::Clip,
        };
        let mut rng = stream_rng(2, 0);
        let mut seen = [0usize; 4];
        for _ in 0..4000 {
            let mut c = [1.0];
            var.mutate(&enc, &mut c, &mut rng);
            assert_ne!(c[0], 1.0);
            seen[c[0] as usize] += 1;
        }
        assert_eq!(seen[1], 0);
        assert!(
            seen.iter().enumerate().all(|(i, &k)| i == 1 || k > 1200),
            "{seen:?}"
        );
    }

    /// Every mating recombines (SBX, eta_c 15); no mutation.
    fn sbx_only(sbx_bounds: SbxBounds) -> Variation {
        Variation {
            crossover_prob: 1.0,
            eta_c: 15.0,
            eta_m: 20.0,
            mutation_prob: 0.0,
            cat_mutation_prob: 0.0,
            sbx_bounds,
        }
    }

    #[test]
    fn sbx_children_are_symmetric_about_the_parents_mean_away_from_bounds() {
        // Far from the bounds beta ~ infinity, so both children use the same spread factor:
        // c1 + c2 = p1 + p2.
        let space = Space::new(vec![Dim::Real {
            lo: -1e6,
            hi: 1e6,
            log: false,
        }])
        .unwrap();
        let enc = Encoding::new(&space);
        let var = sbx_only(SbxBounds::Clip);
        let mut rng = stream_rng(4, 0);
        let (mut c1, mut c2) = ([0.0], [0.0]);
        let mut changed = 0;
        for _ in 0..1000 {
            var.breed(&enc, &[1.0], &[2.0], &mut c1, &mut c2, &mut rng);
            assert!((c1[0] + c2[0] - 3.0).abs() < 1e-9);
            changed += usize::from(c1[0] != 1.0 && c1[0] != 2.0);
        }
        // Each variable recombines with probability 1/2.
        assert!((400..600).contains(&changed), "{changed}");
    }

    /// Parents near the lower bound of [0, 1]: how often the lower child lands exactly on
    /// the bound. Without bounds, SBX's spread factor exceeds `b` with probability
    /// `1 / (2 b^(eta_c + 1))`, and the lower child leaves the range when
    /// `beta > (p1 + p2) / (p2 - p1)`.
    fn children_on_the_lower_bound(sbx_bounds: SbxBounds) -> (usize, usize) {
        let space = Space::new(vec![Dim::Real {
            lo: 0.0,
            hi: 1.0,
            log: false,
        }])
        .unwrap();
        let enc = Encoding::new(&space);
        let var = sbx_only(sbx_bounds);
        let mut rng = stream_rng(6, 0);
        let (mut c1, mut c2) = ([0.0], [0.0]);
        let (mut on_bound, n) = (0, 20_000);
        for _ in 0..n {
            var.breed(&enc, &[0.01], &[0.2], &mut c1, &mut c2, &mut rng);
            for c in [c1[0], c2[0]] {
                assert!((0.0..=1.0).contains(&c), "{c}");
            }
            on_bound += usize::from(c1[0] == 0.0 || c2[0] == 0.0);
        }
        (on_bound, n)
    }

    #[test]
    fn clipped_sbx_reaches_the_bound_as_often_as_the_spread_factor_predicts() {
        let (on_bound, n) = children_on_the_lower_bound(SbxBounds::Clip);
        let b: f64 = 0.21 / 0.19;
        // A variable recombines with probability 1/2.
        let expected = 0.5 / (2.0 * b.powf(16.0));
        let share = on_bound as f64 / n as f64;
        assert!((share - expected).abs() < 0.01, "{share} vs {expected}");
    }

    #[test]
    fn truncated_sbx_keeps_children_off_the_bound() {
        let (on_bound, _) = children_on_the_lower_bound(SbxBounds::Truncated);
        assert_eq!(on_bound, 0);
    }
}
