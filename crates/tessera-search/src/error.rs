//! The one error type of the search core.

use thiserror::Error;

/// Everything the search core can refuse. Messages say what was wrong and, where there is
/// one, what to write instead.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SearchError {
    /// A dimension of the space contradicts itself (`lo >= hi`, a log scale over a range
    /// that reaches zero, a step that does not divide the range, ...).
    #[error("search space, dimension {dim}: {reason}")]
    InvalidDim { dim: usize, reason: String },
    /// A space without dimensions has nothing to search.
    #[error("search space has no dimensions")]
    EmptySpace,
    /// A strategy option is out of its range.
    #[error("{strategy}: {reason}")]
    InvalidOption {
        strategy: &'static str,
        reason: String,
    },
    /// Grid search met a continuous dimension and was not told how to sample it.
    #[error(
        "grid search: dimension {dim} is a continuous range; give the grid `points: n` \
         (n >= 2) to take n evenly spaced values of every continuous dimension, or use \
         another strategy"
    )]
    GridNeedsPoints { dim: usize },
    /// The grid has more designs than can be numbered with a `u64`.
    #[error("grid search: the grid has {count} designs, more than 2^64 - 1")]
    GridTooLarge { count: String },
    /// `--shard K/N` with `K >= N` or `N = 0` (K counts from 0).
    #[error("shard {k}/{n}: need 0 <= K < N (K counts from 0)")]
    InvalidShard { k: u32, n: u32 },
    /// A tell for an id that this strategy has not handed out.
    #[error("tell: candidate {id} was never asked")]
    UnknownCandidate { id: u64 },
    /// A second tell for the same id.
    #[error("tell: candidate {id} was already told")]
    AlreadyTold { id: u64 },
    /// A tell whose objective vector has the wrong length.
    #[error("tell: candidate {id} has {got} objectives, the search has {expected}")]
    ObjectiveCount {
        id: u64,
        expected: usize,
        got: usize,
    },
    /// Point sets and reference points of different dimension, or an empty dimension.
    #[error("indicator: {0}")]
    Shape(String),
}
