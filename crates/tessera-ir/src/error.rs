//! Errors of the IR crate. Every error that comes from an input file names the file and,
//! where the format has them, the line and column, and says what was expected.

use std::fmt;

/// A position in an input file (1-based line and column; column 0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct SourceLoc {
    pub file: String,
    pub line: usize,
    pub col: usize,
}

impl SourceLoc {
    pub fn new(file: impl Into<String>, line: usize, col: usize) -> Self {
        Self {
            file: file.into(),
            line,
            col,
        }
    }
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.col) {
            (0, _) => write!(f, "{}", self.file),
            (l, 0) => write!(f, "{}:{}", self.file, l),
            (l, c) => write!(f, "{}:{}:{}", self.file, l, c),
        }
    }
}

/// Errors from parsing, importing, validating or interpreting kernels.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IrError {
    /// A file could not be read.
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    /// A file whose name says no kernel format Tessera reads.
    #[error(
        "{file}: unrecognised kernel file{found}: expected .tk (kernel language), .xml (Morpher DFG), .dot/.gv (CGRA-ME DFG) or .json (Tessera kernel)"
    )]
    UnknownFileKind {
        file: String,
        /// ` (extension .x)` or ` (no extension)`.
        found: String,
    },
    /// Syntax error: what was found and what was expected there.
    #[error("{loc}: {message}")]
    Parse { loc: SourceLoc, message: String },
    /// An op name the IR has no semantics for.
    #[error("{loc}: unsupported op `{op}`{hint}")]
    UnsupportedOp {
        loc: SourceLoc,
        op: String,
        hint: String,
    },
    /// The kernel is structurally wrong (arity, dangling edge, combinational cycle, ...).
    #[error("kernel `{kernel}`: {message}")]
    Invalid { kernel: String, message: String },
    /// Something went wrong while running a kernel (out-of-range access, bad inputs).
    #[error("kernel `{kernel}`: {message}")]
    Run { kernel: String, message: String },
}

impl IrError {
    pub fn parse(loc: SourceLoc, message: impl Into<String>) -> Self {
        IrError::Parse {
            loc,
            message: message.into(),
        }
    }
    pub fn invalid(kernel: &str, message: impl Into<String>) -> Self {
        IrError::Invalid {
            kernel: kernel.to_string(),
            message: message.into(),
        }
    }
    pub fn run(kernel: &str, message: impl Into<String>) -> Self {
        IrError::Run {
            kernel: kernel.to_string(),
            message: message.into(),
        }
    }
}
