//! Co-search runs (`tessera search`): a RON config names an evaluator, a design space,
//! objectives, constraints, a budget, a strategy of `tessera-search` and a seed; a run
//! evaluates designs in parallel and records every result, so it can stop, resume and be
//! split into shards and merged, and ends with the Pareto front, hypervolume and plots.
//!
//! Where to start: [`config::LoadedConfig`] (the config format), [`evaluate`] (test
//! problems, the accelerator model, the CGRA mapper and simulator, external commands),
//! [`run::run`] (the loop and its files), [`merge::merge`], [`report`].
//!
//! **Architecture invariant:** never prints; progress goes to a callback and a stop flag
//! ends a run cleanly. The optimisation itself (strategies, Pareto, hypervolume) lives in
//! `tessera-search`, which reads no files and no clock; this crate adds the files, the
//! clock and the threads.

pub mod config;
pub mod emit;
pub mod error;
pub mod evaluate;
pub mod journal;
pub mod merge;
pub mod plot;
pub mod report;
pub mod run;
pub mod sequential;

pub use error::StudyError;
