//! Errors for reading networks and topology files, with file and line.

/// A network or topology file that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccelError {
    #[error("{file}: cannot read: {msg}")]
    Io { file: String, msg: String },
    #[error("{file}:{line}:{col}: {msg}")]
    Parse {
        file: String,
        line: usize,
        col: usize,
        msg: String,
    },
    #[error("{file}: layer `{layer}`: {msg}")]
    Layer {
        file: String,
        layer: String,
        msg: String,
    },
    #[error("{file}:{line}: {msg}")]
    Csv {
        file: String,
        line: usize,
        msg: String,
    },
    #[error("unknown network `{name}`; built-in networks: {known}")]
    UnknownNetwork { name: String, known: String },
}
