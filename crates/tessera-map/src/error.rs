//! Errors of the mapping crate.

use serde::Serialize;

/// Why a kernel could not be analysed or mapped.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
pub enum MapError {
    /// A node can run on no PE of the architecture.
    #[error("node {node} ({op}) cannot be mapped: {reason}")]
    Unsupported {
        node: u32,
        op: String,
        reason: String,
    },
    /// No II up to `max_ii` gave a mapping; `reasons` says why each II failed.
    #[error("no mapping at any II up to {max_ii}{}", summarize_reasons(.reasons))]
    Infeasible {
        max_ii: u32,
        reasons: Vec<(u32, String)>,
    },
    /// The kernel itself is malformed (e.g. a cycle without a loop-carried edge).
    #[error("invalid kernel: {0}")]
    InvalidKernel(String),
    /// An option the architecture cannot honour (e.g. a highest II above the array's
    /// configuration depth); the message says what to change.
    #[error("{0}")]
    BadOption(String),
    /// The mapping was stopped through its `CancelFlag` (`MapOptions::cancel`) before it
    /// finished; nothing is returned.
    #[error("mapping cancelled")]
    Cancelled,
    /// The solver or a mapper stage failed in a way that is a bug or a tool limit.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summarize_reasons(reasons: &[(u32, String)]) -> String {
    if reasons.is_empty() {
        return String::new();
    }
    let mut s = String::from(":");
    for (ii, why) in reasons.iter().take(6) {
        s.push_str(&format!(" II={ii}: {why};"));
    }
    if reasons.len() > 6 {
        s.push_str(&format!(" ... ({} more)", reasons.len() - 6));
    } else {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infeasible_lists_reasons() {
        let e = MapError::Infeasible {
            max_ii: 3,
            reasons: vec![(2, "no route".into()), (3, "no slot".into())],
        };
        assert_eq!(
            e.to_string(),
            "no mapping at any II up to 3: II=2: no route; II=3: no slot"
        );
    }
}
