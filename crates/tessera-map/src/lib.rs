//! CGRA mapping for Tessera: MII analysis, modulo scheduling with placement and routing,
//! an exact MILP mode, COMPOSE timing-driven composition, and an independent mapping
//! checker. The [`mapping::Mapping`] type defined here is what the simulator runs and the
//! GUI draws.
//!
//! Architecture invariant: the checker shares no code with the mappers beyond the
//! `Mapping` type itself.

pub mod check;
pub mod driver;
mod embed;
pub mod error;
pub mod exact;
pub mod heuristic;
pub mod mapping;
pub mod mii;
pub mod slot_bound;

pub use mapping::{Loc, Mapping, Placement, Route, Segment};
