//! Typed design spaces: continuous ranges (optionally log-scale), integer ranges with a
//! step (optionally log-scale), and categorical choices (a boolean is a categorical of two).
//!
//! A design is a [`Genotype`]: one [`Gene`] per dimension, in the order of [`Space::dims`].
//! What a gene *means* (an array size, a dataflow name, a bit width) is the run layer's
//! business; this module only knows ranges and choices.

use serde::{Deserialize, Serialize};

use crate::error::SearchError;

/// Integer ranges are searched through an `f64` relaxation of their step index; beyond
/// 2^53 steps that relaxation would no longer hit every value exactly.
const MAX_INT_STEPS: i128 = 1 << 53;

/// One dimension of a design space.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// A continuous range `[lo, hi]`; with `log`, sampled and varied on `ln x` (needs `lo > 0`).
    Real {
        lo: f64,
        hi: f64,
        #[serde(default)]
        log: bool,
    },
    /// The integers `lo, lo + step, ..., hi` (`hi - lo` must be a multiple of `step`).
    /// With `log` (needs `lo >= 1` and `step = 1`, as in Optuna), sampled log-uniformly and
    /// varied on `ln x`.
    Int {
        lo: i64,
        hi: i64,
        #[serde(default = "one")]
        step: i64,
        #[serde(default)]
        log: bool,
    },
    /// `n` unordered choices, numbered `0..n` (a boolean is `Cat { n: 2 }`, 0 = false).
    Cat { n: usize },
}

fn one() -> i64 {
    1
}

/// The value of one dimension in one design.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gene {
    Real(f64),
    Int(i64),
    Cat(usize),
}

impl Gene {
    /// The gene as a number (a categorical gives its index), for evaluators that take a
    /// plain vector.
    pub fn as_f64(&self) -> f64 {
        match *self {
            Gene::Real(x) => x,
            Gene::Int(v) => v as f64,
            Gene::Cat(c) => c as f64,
        }
    }
}

/// One design: a gene per dimension of the space.
pub type Genotype = Vec<Gene>;

impl Dim {
    /// A boolean choice (`Cat { n: 2 }`; gene 0 = false, 1 = true).
    pub fn boolean() -> Dim {
        Dim::Cat { n: 2 }
    }

    /// Refuses a dimension that contradicts itself, with a message saying what to change.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Dim::Real { lo, hi, log } => {
                if !lo.is_finite() || !hi.is_finite() {
                    return Err(format!("real range [{lo}, {hi}] must have finite bounds"));
                }
                if lo >= hi {
                    return Err(format!(
                        "real range needs lo < hi, got lo = {lo}, hi = {hi}"
                    ));
                }
                if log && lo <= 0.0 {
                    return Err(format!("a log-scale range needs lo > 0, got lo = {lo}"));
                }
                Ok(())
            }
            Dim::Int { lo, hi, step, log } => {
                if lo >= hi {
                    return Err(format!(
                        "integer range needs lo < hi, got lo = {lo}, hi = {hi}"
                    ));
                }
                if step < 1 {
                    return Err(format!("integer step must be >= 1, got {step}"));
                }
                let span = hi as i128 - lo as i128;
                if span % step as i128 != 0 {
                    let top = lo as i128 + span / step as i128 * step as i128;
                    return Err(format!(
                        "hi = {hi} is not lo + k * step (lo = {lo}, step = {step}); the largest \
                         value on the grid is {top}: use hi = {top}"
                    ));
                }
                if span / step as i128 > MAX_INT_STEPS {
                    return Err(format!(
                        "integer range has {} steps, more than 2^53",
                        span / step as i128
                    ));
                }
                if log && lo < 1 {
                    return Err(format!(
                        "a log-scale integer range needs lo >= 1, got lo = {lo}"
                    ));
                }
                if log && step != 1 {
                    return Err(format!(
                        "a log-scale integer range cannot have a step (got step = {step}); a \
                         log scale and an evenly spaced grid contradict each other"
                    ));
                }
                Ok(())
            }
            Dim::Cat { n } => {
                if n < 2 {
                    return Err(format!(
                        "a categorical dimension needs at least 2 choices, got {n} (a single \
                         choice is a constant: leave it out of the space)"
                    ));
                }
                Ok(())
            }
        }
    }

    /// The number of values of a discrete dimension; `None` for a continuous one.
    pub fn count(&self) -> Option<u128> {
        match *self {
            Dim::Real { .. } => None,
            Dim::Int { lo, hi, step, .. } => {
                Some(((hi as i128 - lo as i128) / step as i128) as u128 + 1)
            }
            Dim::Cat { n } => Some(n as u128),
        }
    }

    /// Whether `gene` is a value of this dimension (right kind, in range, on the step grid).
    pub fn contains(&self, gene: &Gene) -> bool {
        match (*self, *gene) {
            (Dim::Real { lo, hi, .. }, Gene::Real(x)) => x >= lo && x <= hi,
            (Dim::Int { lo, hi, step, .. }, Gene::Int(v)) => {
                v >= lo && v <= hi && (v as i128 - lo as i128) % step as i128 == 0
            }
            (Dim::Cat { n }, Gene::Cat(c)) => c < n,
            _ => false,
        }
    }
}

/// A design space: the dimensions, in genotype order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Space {
    pub dims: Vec<Dim>,
}

impl Space {
    /// A validated space.
    pub fn new(dims: Vec<Dim>) -> Result<Space, SearchError> {
        let space = Space { dims };
        space.validate()?;
        Ok(space)
    }

    /// Refuses an empty space or a contradictory dimension (the first one found).
    pub fn validate(&self) -> Result<(), SearchError> {
        if self.dims.is_empty() {
            return Err(SearchError::EmptySpace);
        }
        for (dim, d) in self.dims.iter().enumerate() {
            d.validate()
                .map_err(|reason| SearchError::InvalidDim { dim, reason })?;
        }
        Ok(())
    }

    /// Number of dimensions (= genes per design).
    pub fn len(&self) -> usize {
        self.dims.len()
    }

    /// Whether the space has no dimensions (never true for a validated space).
    pub fn is_empty(&self) -> bool {
        self.dims.is_empty()
    }

    /// The number of distinct designs: `None` if a dimension is continuous or the count
    /// exceeds `u128`.
    pub fn size(&self) -> Option<u128> {
        self.dims
            .iter()
            .try_fold(1u128, |acc, d| acc.checked_mul(d.count()?))
    }

    /// Whether `genes` is a design of this space.
    pub fn contains(&self, genes: &[Gene]) -> bool {
        genes.len() == self.dims.len() && self.dims.iter().zip(genes).all(|(d, g)| d.contains(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_refuses_contradictions_with_a_fix() {
        let bad = [
            Dim::Real {
                lo: 1.0,
                hi: 1.0,
                log: false,
            },
            Dim::Real {
                lo: 0.0,
                hi: 1.0,
                log: true,
            },
            Dim::Real {
                lo: f64::NAN,
                hi: 1.0,
                log: false,
            },
            Dim::Int {
                lo: 0,
                hi: 10,
                step: 0,
                log: false,
            },
            Dim::Int {
                lo: 0,
                hi: 10,
                step: 3,
                log: false,
            },
            Dim::Int {
                lo: 0,
                hi: 10,
                step: 1,
                log: true,
            },
            Dim::Int {
                lo: 1,
                hi: 9,
                step: 2,
                log: true,
            },
            Dim::Int {
                lo: 5,
                hi: 5,
                step: 1,
                log: false,
            },
            Dim::Cat { n: 1 },
        ];
        for d in bad {
            assert!(d.validate().is_err(), "{d:?} accepted");
        }
        let msg = Dim::Int {
            lo: 0,
            hi: 10,
            step: 3,
            log: false,
        }
        .validate()
        .unwrap_err();
        assert!(msg.contains("use hi = 9"), "{msg}");
        let space = Space {
            dims: vec![Dim::boolean(), Dim::Cat { n: 0 }],
        };
        assert_eq!(
            space.validate().unwrap_err(),
            SearchError::InvalidDim {
                dim: 1,
                reason: Dim::Cat { n: 0 }.validate().unwrap_err()
            }
        );
        assert_eq!(
            Space { dims: vec![] }.validate(),
            Err(SearchError::EmptySpace)
        );
    }

    #[test]
    fn size_and_membership() {
        let space = Space::new(vec![
            Dim::Int {
                lo: 8,
                hi: 64,
                step: 8,
                log: false,
            },
            Dim::boolean(),
            Dim::Cat { n: 3 },
        ])
        .unwrap();
        assert_eq!(space.size(), Some(8 * 2 * 3));
        assert!(space.contains(&[Gene::Int(16), Gene::Cat(1), Gene::Cat(2)]));
        assert!(!space.contains(&[Gene::Int(17), Gene::Cat(1), Gene::Cat(2)]));
        assert!(!space.contains(&[Gene::Int(16), Gene::Cat(2), Gene::Cat(2)]));
        assert!(!space.contains(&[Gene::Real(16.0), Gene::Cat(1), Gene::Cat(2)]));
        let with_real = Space::new(vec![
            Dim::Real {
                lo: 0.0,
                hi: 1.0,
                log: false,
            },
            Dim::boolean(),
        ])
        .unwrap();
        assert_eq!(with_real.size(), None);
        let huge = Space::new(vec![
            Dim::Int {
                lo: 0,
                hi: 1 << 40,
                step: 1,
                log: false
            };
            4
        ])
        .unwrap();
        assert_eq!(huge.size(), None, "overflows u128");
    }

    #[test]
    fn genes_serialise_readably() {
        let g = vec![Gene::Real(0.5), Gene::Int(3), Gene::Cat(1)];
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json, r#"[{"real":0.5},{"int":3},{"cat":1}]"#);
        let back: Vec<Gene> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, g);
    }
}
