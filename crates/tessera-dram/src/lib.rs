//! DRAM device and controller model plus Processing-in-DRAM (PiD) security primitives.
//! It simulates DDR4/DDR5 channels with every JEDEC timing enforced by per-bank state
//! machines, runs memory traces through an event-driven FR-FCFS controller (bandwidth,
//! latency distribution, row-buffer hit rate, IDD energy), and executes command-level PiD
//! programs that break timing on purpose (flagging every violation) on a seeded cell-variation
//! model to study TRNGs, PUFs, read disturbance and timing channels; user programs of such
//! commands (explicit gaps in ns) run through [`program`]. It also holds the NIST
//! SP 800-22 / SP 800-90B randomness tests. It never prints: callers get values and errors.

/// Format version of the JSON reports (`tessera dram hammer|trng|puf|nist --json`): the
/// `format_version` field of [`disturb::HammerReport`], [`trng::TrngReport`],
/// [`puf::PufReport`] and [`nist::NistReport`]. Readers (the GUI) refuse other versions.
/// Version 1 added the per-row flip map, the per-bitline entropies and the PUF distance
/// samples.
pub const REPORT_FORMAT_VERSION: u32 = 1;

pub mod cells;
pub mod channel;
pub mod config;
pub mod controller;
pub mod device;
pub mod disturb;
pub mod energy;
pub mod nist;
pub mod pid;
pub mod program;
pub mod puf;
pub mod trace;
pub mod trng;

pub use controller::{ControllerConfig, MemorySystem, PagePolicy, Request, SimReport};
pub use device::{BankId, Cmd, Constraint, Device};
