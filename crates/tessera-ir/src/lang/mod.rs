//! The `.tk` kernel language: lexer, parser and lowering to the DFG.
//!
//! A `.tk` file describes one innermost counted loop: compile-time parameters, arrays and
//! scalar live-ins, loop-carried variables, the loop body and the results. The grammar and
//! the lowering conventions (memory layout, immediates, ordering edges) are documented in
//! `docs/kernel-language.md`. Every syntax or semantic error is an [`IrError::Parse`] with
//! file, line and column; no input makes the front end panic.

mod lexer;
mod lower;
mod parser;

use crate::{IrError, Kernel};
use std::path::Path;

pub use parser::is_keyword;

/// Parse a `.tk` file, with parameter overrides `name=value`.
pub fn parse_file(path: &Path, params: &[(String, i64)]) -> Result<Kernel, IrError> {
    let text = std::fs::read_to_string(path).map_err(|e| IrError::Io {
        file: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_str(&text, &path.display().to_string(), params)
}

/// Parse kernel-language text; `file` names it in errors. `params` override the kernel's
/// parameter defaults (an unknown name is an error).
pub fn parse_str(text: &str, file: &str, params: &[(String, i64)]) -> Result<Kernel, IrError> {
    let toks = lexer::lex(text, file)?;
    let ast = parser::Parser::new(&toks, file).kernel()?;
    lower::lower(&ast, file, params)
}
