//! Errors (bad input, with file and line where the input has them) and infeasible genotypes.

use serde::{Deserialize, Serialize};

/// Input that could not be read: a data set, a genotype, a weights file, a benchmark table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NnError {
    #[error("{file}: cannot read: {msg}")]
    Io { file: String, msg: String },
    /// A malformed CSV row: the 1-based line and what was expected there.
    #[error("{file}:{line}: {msg}")]
    Csv {
        file: String,
        line: usize,
        msg: String,
    },
    /// A RON syntax or schema error with its 1-based line and column.
    #[error("{file}:{line}:{col}: {msg}")]
    Ron {
        file: String,
        line: usize,
        col: usize,
        msg: String,
    },
    /// A weights file that does not fit the network it is loaded into.
    #[error("{file}: {msg}")]
    Weights { file: String, msg: String },
    /// A data set or split that cannot be used (too few samples, one class).
    #[error("data: {0}")]
    Data(String),
    /// A genotype that parsed but cannot be built.
    #[error("{file}: infeasible network: {reason}")]
    Infeasible { file: String, reason: Infeasible },
    /// The simulator disagreed with the integer reference.
    #[error("{0}")]
    Mismatch(String),
    /// A NAS-Bench-201 architecture string that does not parse or is not in the table.
    #[error("NAS-Bench-201: {0}")]
    Nas(String),
}

/// Why a genotype cannot be built or trained: a value with a reason, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}")]
pub struct Infeasible {
    pub reason: String,
}

impl Infeasible {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}
