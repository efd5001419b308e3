//! Architecture specs for Tessera, read from RON: CGRA arrays (with COMPOSE options), DRAM
//! devices and accelerator templates. Each spec kind has named presets (bundled from
//! `arch-specs/`), field overrides by dotted path, and a `validate()` that refuses
//! contradictions with a message a user can act on.
//!
//! Architecture invariant: this crate describes hardware; it never maps, simulates or prints.

pub mod accel;
pub mod cgra;
pub mod dram;
pub mod error;
pub mod spec_io;

pub use error::{SpecError, SpecErrorKind};
pub use spec_io::Spec;
