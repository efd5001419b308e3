//! Standard multi-objective test problems with their true Pareto fronts: ZDT1, ZDT2, ZDT3
//! (Zitzler, Deb & Thiele, Evolutionary Computation 8(2), 2000; 30 variables, 2 objectives)
//! and DTLZ2 (Deb, Thiele, Laumanns & Zitzler, CEC 2002; 3 objectives, 12 variables, k = 10).
//! All variables lie in `[0, 1]`; all objectives are minimised.
//!
//! Ideal hypervolumes at the reference point 1.1 per objective (the figure every report of
//! this crate uses):
//! - ZDT1 (front `f2 = 1 - sqrt(f1)`): `0.1 + 2/3` under the front on `[0, 1]` plus the strip
//!   `0.1 x 1.1` right of it, `0.21 + 2/3 = 0.876667`.
//! - ZDT2 (front `f2 = 1 - f1^2`): `0.21 + 1/3 = 0.543333`.
//! - ZDT3 (disconnected front): no closed form; integrated numerically from the running
//!   minimum of `1 - sqrt(t) - t sin(10 pi t)` (see [`TestProblem::ideal_hypervolume`]):
//!   1.331763 (a separate 2·10^7-point trapezoid integration in numpy gave 1.3317629).
//!
//! (pymoo's `pareto_front()` samples of 100 points give 0.8714, 0.5383 and 1.3291 for the
//! ZDT problems: a finite sample lies inside the continuous front.)
//! - DTLZ2 (front: the unit sphere in the positive octant): the box `1.1^3` minus the eighth
//!   of the unit ball, `1.331 - pi/6 = 0.807401`.

use std::f64::consts::{FRAC_PI_2, PI};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::pareto::non_dominated_sort;
use crate::space::{Dim, Gene, Space};
use crate::strategy::nsga3::das_dennis;

/// A test problem with a known Pareto front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestProblem {
    Zdt1,
    Zdt2,
    Zdt3,
    Dtlz2,
}

/// The reference point coordinate used for every test problem's hypervolume.
pub const REFERENCE_COORD: f64 = 1.1;

impl TestProblem {
    /// Every problem, in a fixed order.
    pub const ALL: [TestProblem; 4] = [
        TestProblem::Zdt1,
        TestProblem::Zdt2,
        TestProblem::Zdt3,
        TestProblem::Dtlz2,
    ];

    /// Lower-case name (`"zdt1"`, ..., `"dtlz2"`).
    pub fn name(self) -> &'static str {
        match self {
            TestProblem::Zdt1 => "zdt1",
            TestProblem::Zdt2 => "zdt2",
            TestProblem::Zdt3 => "zdt3",
            TestProblem::Dtlz2 => "dtlz2",
        }
    }

    /// The problem of a name given by [`TestProblem::name`] (case-insensitive).
    pub fn from_name(name: &str) -> Option<TestProblem> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// Number of decision variables.
    pub fn n_vars(self) -> usize {
        match self {
            TestProblem::Dtlz2 => 12,
            _ => 30,
        }
    }

    /// Number of objectives.
    pub fn n_objectives(self) -> usize {
        match self {
            TestProblem::Dtlz2 => 3,
            _ => 2,
        }
    }

    /// The decision space: `n_vars` real variables in `[0, 1]`.
    pub fn space(self) -> Space {
        Space {
            dims: vec![
                Dim::Real {
                    lo: 0.0,
                    hi: 1.0,
                    log: false
                };
                self.n_vars()
            ],
        }
    }

    /// `(1.1, ..., 1.1)`.
    pub fn reference_point(self) -> Vec<f64> {
        vec![REFERENCE_COORD; self.n_objectives()]
    }

    /// Evaluates `x` (length `n_vars`) into `out` (length `n_objectives`).
    pub fn evaluate(self, x: &[f64], out: &mut [f64]) {
        self.evaluate_by(x.len(), |i| x[i], out)
    }

    /// Evaluates a genotype of real genes (as handed out by a strategy on [`Self::space`]).
    pub fn evaluate_genes(self, genes: &[Gene], out: &mut [f64]) {
        self.evaluate_by(genes.len(), |i| genes[i].as_f64(), out)
    }

    fn evaluate_by(self, n: usize, x: impl Fn(usize) -> f64, out: &mut [f64]) {
        assert_eq!(
            n,
            self.n_vars(),
            "{}: wrong number of variables",
            self.name()
        );
        assert_eq!(
            out.len(),
            self.n_objectives(),
            "{}: wrong number of objectives",
            self.name()
        );
        match self {
            TestProblem::Zdt1 | TestProblem::Zdt2 | TestProblem::Zdt3 => {
                let f1 = x(0);
                let tail: f64 = (1..n).map(&x).sum();
                let g = 1.0 + 9.0 * tail / (n - 1) as f64;
                let r = f1 / g;
                let h = match self {
                    TestProblem::Zdt1 => 1.0 - r.sqrt(),
                    TestProblem::Zdt2 => 1.0 - r * r,
                    _ => 1.0 - r.sqrt() - r * (10.0 * PI * f1).sin(),
                };
                out[0] = f1;
                out[1] = g * h;
            }
            TestProblem::Dtlz2 => {
                let m = 3;
                let g: f64 = (m - 1..n).map(|i| (x(i) - 0.5).powi(2)).sum();
                // f_j = (1 + g) prod_{i < m-1-j} cos(x_i pi/2) * (j > 0 ? sin(x_{m-1-j} pi/2) : 1)
                for (j, o) in out.iter_mut().enumerate() {
                    let mut v = 1.0 + g;
                    for i in 0..m - 1 - j {
                        v *= (x(i) * FRAC_PI_2).cos();
                    }
                    if j > 0 {
                        v *= (x(m - 1 - j) * FRAC_PI_2).sin();
                    }
                    *o = v;
                }
            }
        }
    }

    /// Points of the true Pareto front, row-major. ZDT problems: exactly `n` points (`n >= 2`)
    /// spread evenly along `f1` over the front (for ZDT3, over its five pieces, found by a
    /// non-dominated filter of a dense sample of the `g = 1` curve). DTLZ2: the Das–Dennis
    /// directions with the fewest partitions giving at least `n` points, scaled onto the
    /// unit sphere.
    pub fn true_front(self, n: usize) -> Vec<f64> {
        let n = n.max(2);
        match self {
            TestProblem::Zdt1 | TestProblem::Zdt2 => (0..n)
                .flat_map(|i| {
                    let f1 = i as f64 / (n - 1) as f64;
                    let f2 = if self == TestProblem::Zdt1 {
                        1.0 - f1.sqrt()
                    } else {
                        1.0 - f1 * f1
                    };
                    [f1, f2]
                })
                .collect(),
            TestProblem::Zdt3 => {
                let dense = (100 * n).max(100_000);
                let curve: Vec<f64> = (0..dense)
                    .flat_map(|i| {
                        let f1 = i as f64 / (dense - 1) as f64;
                        [f1, zdt3_front_f2(f1)]
                    })
                    .collect();
                let mut front = non_dominated_sort(&curve, 2).swap_remove(0);
                front.sort_unstable();
                let k = front.len();
                (0..n)
                    .flat_map(|i| {
                        let j = front[(i * (k - 1)) / (n - 1)];
                        [curve[2 * j], curve[2 * j + 1]]
                    })
                    .collect()
            }
            TestProblem::Dtlz2 => {
                let mut p = 1;
                while binomial(p + 2, 2) < n {
                    p += 1;
                }
                let mut dirs = das_dennis(3, p);
                for w in dirs.chunks_exact_mut(3) {
                    let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
                    w.iter_mut().for_each(|v| *v /= norm);
                }
                dirs
            }
        }
    }

    /// The hypervolume of the whole true front at [`Self::reference_point`] (see the module
    /// documentation for the derivations).
    pub fn ideal_hypervolume(self) -> f64 {
        let r = REFERENCE_COORD;
        match self {
            // (r - 1) * 1 + integral_0^1 (r - 1 + sqrt t) dt, plus (r - 1) * r to the right.
            TestProblem::Zdt1 => (r - 1.0) + 2.0 / 3.0 + (r - 1.0) * r,
            TestProblem::Zdt2 => (r - 1.0) + 1.0 / 3.0 + (r - 1.0) * r,
            TestProblem::Zdt3 => {
                static ZDT3: OnceLock<f64> = OnceLock::new();
                *ZDT3.get_or_init(|| zdt3_ideal_hv(r))
            }
            TestProblem::Dtlz2 => r * r * r - PI / 6.0,
        }
    }
}

fn zdt3_front_f2(f1: f64) -> f64 {
    1.0 - f1.sqrt() - f1 * (10.0 * PI * f1).sin()
}

/// `integral_0^r (r - h(x)) dx` with `h(x) = min_{t <= min(x, 1)} f(t)` the lower envelope
/// of the `g = 1` curve, by the trapezoid rule on 2^21 intervals of `[0, 1]` (the envelope
/// is continuous and piecewise smooth; the error is far below the printed digits), plus the
/// rectangle right of `f1 = 1`.
fn zdt3_ideal_hv(r: f64) -> f64 {
    let steps = 1usize << 21;
    let dx = 1.0 / steps as f64;
    let mut envelope = zdt3_front_f2(0.0);
    let mut prev = r - envelope;
    let mut area = 0.0;
    for i in 1..=steps {
        envelope = envelope.min(zdt3_front_f2(i as f64 * dx));
        let cur = r - envelope;
        area += 0.5 * (prev + cur) * dx;
        prev = cur;
    }
    area + (r - 1.0) * (r - envelope)
}

fn binomial(n: usize, k: usize) -> usize {
    (0..k).fold(1usize, |acc, i| acc * (n - i) / (i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hypervolume::hypervolume;

    #[test]
    fn true_fronts_lie_on_the_problem_and_match_the_ideal_hypervolume() {
        for p in TestProblem::ALL {
            let front = p.true_front(2000);
            let m = p.n_objectives();
            let hv = hypervolume(&front, &p.reference_point()).unwrap();
            let ideal = p.ideal_hypervolume();
            // A finite sample's staircase lies just inside the continuous front.
            let tol = if m == 2 { 2e-3 } else { 2e-2 };
            assert!(
                hv <= ideal + 1e-9 && ideal - hv < tol,
                "{}: sample {hv} vs ideal {ideal}",
                p.name()
            );
            assert_eq!(front.len() % m, 0);
        }
        assert!((TestProblem::Zdt1.ideal_hypervolume() - 0.876_667).abs() < 1e-6);
        assert!((TestProblem::Dtlz2.ideal_hypervolume() - 0.807_401).abs() < 1e-6);
        // Independent numpy integration of the same envelope (2e7 points): 1.3317629.
        assert!((TestProblem::Zdt3.ideal_hypervolume() - 1.331_763).abs() < 2e-6);
    }

    #[test]
    fn optimal_decisions_reach_the_front() {
        // ZDT: x1 free, the rest 0 gives g = 1. DTLZ2: the last k variables at 0.5.
        let mut out = [0.0; 3];
        let mut x = vec![0.0; 30];
        x[0] = 0.25;
        TestProblem::Zdt1.evaluate(&x, &mut out[..2]);
        assert!((out[1] - 0.5).abs() < 1e-12);
        TestProblem::Zdt2.evaluate(&x, &mut out[..2]);
        assert!((out[1] - 0.9375).abs() < 1e-12);
        TestProblem::Zdt3.evaluate(&x, &mut out[..2]);
        assert!((out[1] - zdt3_front_f2(0.25)).abs() < 1e-12);
        let mut y = vec![0.5; 12];
        y[0] = 0.3;
        y[1] = 0.8;
        TestProblem::Dtlz2.evaluate(&y, &mut out);
        let norm: f64 = out.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-12);
        // Away from the optimum, g > 0 scales the point off the sphere.
        y[5] = 1.0;
        TestProblem::Dtlz2.evaluate(&y, &mut out);
        let norm: f64 = out.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.25).abs() < 1e-12);
    }

    #[test]
    fn zdt3_front_has_five_pieces() {
        let front = TestProblem::Zdt3.true_front(5000);
        let gaps = front
            .chunks_exact(2)
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[1][0] - w[0][0] > 0.01)
            .count();
        assert_eq!(gaps, 4);
        assert_eq!(TestProblem::from_name("ZDT3"), Some(TestProblem::Zdt3));
    }
}
