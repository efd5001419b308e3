//! The SAT-MapIt DOT dialect: recognised (labels `<id> <LLVM instruction>`, back edges
//! `color=red`), not imported yet; such files get an error that says so.

use super::dot::Graph;
use crate::error::IrError;

/// Whether a label reads `<id> <LLVM instruction>` as SAT-MapIt writes it.
pub(super) fn is_instruction_label(label: &str) -> bool {
    let mut w = label.split_whitespace();
    let id = w.next().unwrap_or("");
    let rest: Vec<&str> = w.collect();
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_digit())
        && rest.len() >= 3
        && rest[0].starts_with('%')
        && rest[1] == "="
}

pub(super) fn normalize(
    g: &mut Graph,
    _file: &str,
    _notes: &mut Vec<String>,
) -> Result<(), IrError> {
    let loc = g.nodes.first().map(|d| d.loc.clone()).unwrap_or_default();
    Err(IrError::parse(
        loc,
        "this looks like SAT-MapIt DOT (labels `<id> <LLVM instruction>`); that dialect is recognised but not imported yet (issue 17 item 6)",
    ))
}
