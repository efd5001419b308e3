//! Accelerator templates for Tessera: how fast, how costly in energy and how large a
//! systolic array (output-, weight- or input-stationary, described by
//! [`tessera_arch::accel::AccelSpec`]) runs DNN layers — convolutions (strided, padded,
//! grouped, depthwise), fully connected layers, GEMMs and attention matmuls. Networks come
//! as RON layer lists or SCALE-Sim topology CSV files.
//!
//! The analytical model ([`model::Accelerator`]) gives per layer the folds, compute and
//! stall cycles (double-buffered refills at the DRAM bandwidth), utilisation, SRAM and DRAM
//! traffic per operand, energy and area, with every constant cited in the spec's
//! `TechParams`. It is pure and O(1) per layer, for co-search loops. A cycle-stepped
//! simulator ([`systolic_sim`]) that moves real values PE to PE checks its compute cycles.
//!
//! A co-search scores a design like this (lower the network once, then one O(1) call per
//! layer, no allocation):
//!
//! ```
//! use tessera_accel::{Accelerator, networks};
//! use tessera_arch::{Spec, accel::AccelSpec};
//! let shapes = networks::builtin("mobilenet_v2").unwrap().lower().unwrap();
//! let mut spec = AccelSpec::preset("edge-os-16x16").unwrap();
//! spec.rows = 32;
//! let totals = Accelerator::new(&spec).totals(&shapes).expect("feasible");
//! assert!(totals.utilisation > 0.0 && totals.utilisation <= 1.0);
//! assert_eq!(totals.total_cycles, totals.compute_cycles + totals.stall_cycles);
//! ```
//!
//! Architecture invariant: this crate never prints and never reads the file system except
//! in [`layer::Network::load`] and [`networks::load`]; an infeasible design is a value
//! ([`model::Infeasible`]), never a panic.

pub mod error;
pub mod layer;
pub mod model;
pub mod networks;
pub mod scalesim;
pub mod systolic_sim;

pub use error::AccelError;
pub use layer::{GemmShape, Layer, LayerPrecision, Network, Op};
pub use model::{Accelerator, Infeasible, LayerPerf, NetworkReport, NetworkTotals};
