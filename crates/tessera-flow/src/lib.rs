//! The flows that every Tessera front end runs (the `tessera` CLI, the co-search and the
//! GUI): load kernels and CGRA specs, map a kernel (MII analysis, mapper, independent
//! checker), simulate the mapping and verify it against the reference interpreter, and
//! compare configurations (ratios, geometric means). Results are serde report types; the
//! front ends only render them.
//!
//! **Architecture invariant:** this crate never prints and never touches a terminal; long
//! flows report progress through a callback ([`Progress`]) that a front end may draw.

pub mod compare;
pub mod error;
pub mod exact;
pub mod load;
pub mod stats;
pub mod suite;
pub mod verify;

pub use error::FlowError;

/// One step of a long flow: `done` of `total` tasks finished; `message` names the task
/// that just started or finished, for people.
#[derive(Debug, Clone)]
pub struct ProgressEvent<'a> {
    pub done: u64,
    pub total: u64,
    pub message: &'a str,
}

/// A progress callback; called from worker threads when a flow runs in parallel.
pub type Progress<'a> = &'a (dyn Fn(ProgressEvent<'_>) + Sync);

/// A progress callback that ignores every event.
pub fn no_progress(_: ProgressEvent<'_>) {}

/// Run `f` on every item with `jobs` rayon threads (1 = one after another on this thread),
/// keeping the input order in the output.
pub fn run_jobs<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> R + Sync + Send,
) -> Result<Vec<R>, FlowError> {
    use rayon::prelude::*;
    let jobs = jobs.max(1);
    if jobs == 1 {
        return Ok(items.iter().map(f).collect());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| FlowError::Threads {
            jobs,
            message: e.to_string(),
        })?;
    Ok(pool.install(|| items.par_iter().map(f).collect()))
}
