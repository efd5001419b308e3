//! Grid search: every design of a finite space, in a fixed order.
//!
//! Design `i` is the mixed-radix number `i` over the dimensions' value lists, the last
//! dimension varying fastest (like nested loops in genotype order). Integer ranges take
//! every value of their step grid, categoricals every choice, and continuous ranges — only
//! when the options give `points: n` — `n` evenly spaced values including both bounds
//! (geometrically spaced on a log scale). Shard `K/N` takes the designs `i = K mod N`.

use serde::{Deserialize, Serialize};

use super::{Candidate, Outcome, Strategy, ToldSet, check_shard, normalise_outcome};
use crate::error::SearchError;
use crate::space::{Dim, Gene, Space};

/// Options of grid search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridOptions {
    /// Values taken on every continuous dimension (>= 2, bounds included). Without it a
    /// space with a continuous dimension is refused.
    pub points: Option<u32>,
    /// Values taken on continuous dimension `i` when entry `i` is set (>= 2, bounds
    /// included), instead of `points`. Entries for discrete dimensions must be unset.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub points_per_dim: Vec<Option<u32>>,
}

/// One dimension of the grid: its value count and how to compute value `k`.
#[derive(Debug, Clone, Copy)]
struct Axis {
    dim: Dim,
    len: u128,
}

impl Axis {
    fn value(&self, k: u128) -> Gene {
        match self.dim {
            Dim::Real { lo, hi, log } => {
                let last = self.len - 1;
                Gene::Real(if k == 0 {
                    lo
                } else if k == last {
                    hi
                } else {
                    let t = k as f64 / last as f64;
                    if log {
                        (lo.ln() + t * (hi.ln() - lo.ln())).exp()
                    } else {
                        lo + t * (hi - lo)
                    }
                })
            }
            Dim::Int { lo, step, .. } => Gene::Int((lo as i128 + k as i128 * step as i128) as i64),
            Dim::Cat { .. } => Gene::Cat(k as usize),
        }
    }
}

/// The axes of the grid, or the error for a continuous dimension without `points`.
fn axes(space: &Space, options: &GridOptions) -> Result<Vec<Axis>, SearchError> {
    space.validate()?;
    let bad = |reason: String| SearchError::InvalidOption {
        strategy: "grid",
        reason,
    };
    if let Some(p) = options.points
        && p < 2
    {
        return Err(bad(format!(
            "points must be >= 2 (both bounds are included), got {p}"
        )));
    }
    if options.points_per_dim.len() > space.dims.len() {
        return Err(bad(format!(
            "points_per_dim has {} entries for {} dimensions",
            options.points_per_dim.len(),
            space.dims.len()
        )));
    }
    space
        .dims
        .iter()
        .enumerate()
        .map(|(dim, d)| {
            let own = options.points_per_dim.get(dim).copied().flatten();
            let len = match (d.count(), own) {
                (Some(_), Some(_)) => {
                    return Err(bad(format!(
                        "dimension {dim} is discrete: the grid takes all its values, it takes no point count"
                    )));
                }
                (_, Some(p)) if p < 2 => {
                    return Err(bad(format!(
                        "dimension {dim}: points must be >= 2 (both bounds are included), got {p}"
                    )));
                }
                (Some(c), None) => c,
                (None, Some(p)) => p as u128,
                (None, None) => {
                    options.points.ok_or(SearchError::GridNeedsPoints { dim })? as u128
                }
            };
            Ok(Axis { dim: *d, len })
        })
        .collect()
}

/// The number of designs grid search would visit (before sharding).
pub fn grid_count(space: &Space, options: &GridOptions) -> Result<u128, SearchError> {
    let mut count: u128 = 1;
    for a in axes(space, options)? {
        count = count
            .checked_mul(a.len)
            .ok_or_else(|| SearchError::GridTooLarge {
                count: "more than 2^128".into(),
            })?;
    }
    Ok(count)
}

/// Exhaustive search over a finite grid.
#[derive(Debug, Clone)]
pub struct GridSearch {
    axes: Vec<Axis>,
    total: u64,
    shard: (u32, u32),
    m: usize,
    local_count: u64,
    asked: u64,
    told: ToldSet,
}

impl GridSearch {
    /// Grid search over `space` for `m` objectives; `shard` as in [`super::make_strategy`].
    pub fn new(
        space: &Space,
        options: &GridOptions,
        m: usize,
        shard: (u32, u32),
    ) -> Result<GridSearch, SearchError> {
        let shard = check_shard(Some(shard))?;
        let count = grid_count(space, options)?;
        let total = u64::try_from(count).map_err(|_| SearchError::GridTooLarge {
            count: count.to_string(),
        })?;
        let (k, n) = (shard.0 as u64, shard.1 as u64);
        let local_count = if k < total {
            (total - k).div_ceil(n)
        } else {
            0
        };
        Ok(GridSearch {
            axes: axes(space, options)?,
            total,
            shard,
            m,
            local_count,
            asked: 0,
            told: ToldSet::default(),
        })
    }

    /// Designs in the whole grid (all shards).
    pub fn total_count(&self) -> u64 {
        self.total
    }

    /// The design with global index `i` (`i < total_count()`).
    pub fn design(&self, mut i: u64) -> Vec<Gene> {
        let mut genes = vec![Gene::Cat(0); self.axes.len()];
        for (g, axis) in genes.iter_mut().zip(&self.axes).rev() {
            // Every axis length divides into a total that fits u64, so each fits u64.
            let len = axis.len as u64;
            *g = axis.value((i % len) as u128);
            i /= len;
        }
        genes
    }
}

impl Strategy for GridSearch {
    fn asks_ahead(&self) -> bool {
        true
    }
    fn ask(&mut self, max: usize) -> Vec<Candidate> {
        let n = (max as u64).min(self.local_count - self.asked);
        (0..n)
            .map(|_| {
                let id = self.asked;
                self.asked += 1;
                let global_index = self.shard.0 as u64 + id * self.shard.1 as u64;
                Candidate {
                    id,
                    global_index,
                    genes: self.design(global_index),
                }
            })
            .collect()
    }

    fn tell(&mut self, id: u64, outcome: Outcome) -> Result<(), SearchError> {
        if id < self.asked {
            normalise_outcome(id, &outcome, self.m)?;
        }
        self.told.mark(id, self.asked)
    }

    fn is_exhausted(&self) -> bool {
        self.asked == self.local_count
    }

    fn planned_count(&self) -> Option<u64> {
        Some(self.local_count)
    }

    fn name(&self) -> &'static str {
        "grid"
    }
}
