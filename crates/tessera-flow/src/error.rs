//! Errors of the flows. Every variant is caused by the user's input (a file, a spec, an
//! option) except [`FlowError::Threads`].

/// What went wrong before a flow could run.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// A kernel file or folder that does not load.
    #[error("{0}")]
    Kernel(String),
    /// An architecture spec that does not load or validate.
    #[error("{0}")]
    Arch(String),
    /// An option with a value the flow cannot use.
    #[error("{0}")]
    Option(String),
    /// The worker threads could not be started.
    #[error("cannot start {jobs} threads: {message}")]
    Threads { jobs: usize, message: String },
    /// The flow was cancelled (its `CancelFlag` was set) before it finished.
    #[error("cancelled")]
    Cancelled,
}

impl FlowError {
    /// Whether the user's input caused the error (the CLI's exit code 2).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, FlowError::Threads { .. } | FlowError::Cancelled)
    }
}
