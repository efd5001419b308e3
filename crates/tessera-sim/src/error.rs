//! Errors of the simulator: a mapping it refuses to run (with every problem found), a run
//! that fails on the array (with the cycle, PE, node and iteration), or a reference run that
//! cannot be made.

use serde::Serialize;

/// Where on the array and when a run failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunFault {
    /// Array cycle (stall cycles included) of the failure.
    pub cycle: u64,
    pub pe: u16,
    /// Kernel node that was executing or whose value was moving.
    pub node: u32,
    /// The node's op mnemonic and label, for people.
    pub node_desc: String,
    /// Iteration of that node.
    pub iteration: u64,
    pub message: String,
}

impl std::fmt::Display for RunFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cycle {}, PE {}, node {} ({}), iteration {}: {}",
            self.cycle, self.pe, self.node, self.node_desc, self.iteration, self.message
        )
    }
}

/// Errors from compiling or running a mapping.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SimError {
    /// The mapping cannot be executed on its architecture (structural problems found before
    /// the first cycle). Every problem is listed.
    #[error(
        "mapping of kernel `{kernel}` cannot run on `{arch}` ({} problem{}):\n  - {}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.join("\n  - ")
    )]
    Refused {
        kernel: String,
        arch: String,
        problems: Vec<String>,
    },
    /// The array did something the mapping cannot mean (an operand nobody drives, two values
    /// on one port, an access outside every array, a bank the PE is not wired to).
    #[error("kernel `{kernel}` failed on the array at {fault}")]
    Fault { kernel: String, fault: RunFault },
    /// The reference interpreter (or the inputs) failed; nothing can be verified.
    #[error("reference run failed: {0}")]
    Reference(#[from] tessera_ir::IrError),
}

impl SimError {
    /// True when the mapping itself is at fault at run time (a failed check, exit code 1),
    /// as opposed to a mapping refused before it runs (bad input, exit code 2).
    pub fn is_run_fault(&self) -> bool {
        matches!(self, SimError::Fault { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::SimError;

    #[test]
    fn a_refusal_lists_one_problem_per_line() {
        let e = SimError::Refused {
            kernel: "k".into(),
            arch: "a".into(),
            problems: (0..40)
                .map(|i| format!("node {i}: operand 0 is not routed"))
                .collect(),
        };
        let text = e.to_string();
        assert_eq!(text.lines().count(), 41);
        assert!(text.lines().all(|l| l.len() < 100), "{text}");
        assert!(text.starts_with("mapping of kernel `k` cannot run on `a` (40 problems):"));
    }
}
