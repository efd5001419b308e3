//! The error type of search runs.

/// What stops a search run before or while it runs. A design that fails to evaluate is
/// never an error: it is a recorded result with its reason.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A config (or a run folder's file) that does not parse or check, with its location
    /// (line and column 0 when there is none).
    #[error("{}: {message}", located(file, *line, *column))]
    Config {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The search core refused something (an option, a shard).
    #[error(transparent)]
    Search(#[from] tessera_search::SearchError),
    /// A file of the run folder that cannot be written or read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// The evaluator cannot start (a network or kernel that does not load, a command that
    /// does not run).
    #[error("evaluator: {0}")]
    Evaluator(String),
    /// `--resume` on a folder written by another config, seed or shard.
    #[error("{0}")]
    Resume(String),
    /// Worker threads could not be started.
    #[error("cannot start {threads} threads: {message}")]
    Threads { threads: usize, message: String },
}

impl StudyError {
    /// Whether the user's input caused it (the CLI's exit code 2).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, StudyError::Threads { .. })
    }

    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> StudyError {
        StudyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// `file:line:column`, or just `file` when there is no position (line 0).
fn located(file: &str, line: usize, column: usize) -> String {
    if line == 0 {
        file.to_string()
    } else {
        format!("{file}:{line}:{column}")
    }
}
