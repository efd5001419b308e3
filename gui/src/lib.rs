//! Tessera's desktop GUI (`tessera-gui`): opens mappings, kernels, simulation and compare
//! reports and co-search run folders, and draws them — the schedule on the array's real
//! topology with its modulo reservation table, the kernel's DFG with the critical
//! recurrence, the Pareto front of a search (refreshed live while it runs) — with one
//! selection shared by every view. It maps and simulates from the window through
//! `tessera-flow`, `tessera-map` and `tessera-sim`, on background threads.
//!
//! **Architecture invariant:** the GUI only orchestrates and renders. It reads the library
//! crates' serde types and calls the same library functions as the CLI; no mapping,
//! simulation or search logic lives here. It never panics on bad input: a file it cannot
//! read is a message in the window that names the file (and line, where there is one).
//!
//! Organisation (after the egui demo app and the Rerun viewer): one [`App`] owns the open
//! documents, the per-view state and the single [`Selection`]; each frame, every panel gets
//! a borrowed [`app::ViewCtx`] and pushes [`app::Command`]s, applied at the end of the
//! frame. Long work runs in [`jobs`], reporting over a channel.

pub mod app;
pub mod canvas;
pub mod docs;
pub mod jobs;
pub mod layout;
pub mod selection;
pub mod svg;
pub mod views;

pub use app::{App, Command, View};
pub use selection::Selection;
