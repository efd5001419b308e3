//! The loop-kernel IR of Tessera: a data-flow graph of one innermost counted loop with
//! typed ops of exact semantics, loop-carried edges, live-ins, live-outs and a byte-addressed
//! memory image; front ends (the `.tk` kernel language, Morpher XML and CGRA-ME DOT
//! importers), a DOT exporter, and the reference interpreter every mapping is checked against.
//!
//! Architecture invariant: this crate knows nothing about hardware. Start reading at
//! [`kernel::Kernel`] and [`op`].

pub mod error;
pub mod export;
pub mod footprint;
pub mod import;
pub mod input_ranges;
pub mod interp;
pub mod kernel;
pub mod lang;
pub mod load;
pub mod op;

pub use error::{IrError, SourceLoc};
pub use interp::{Inputs, Outputs};
pub use kernel::{
    ArrayDecl, ArrayDir, ElemType, Kernel, KernelSource, LiveOut, Node, NodeId, Operand,
    ScalarDecl, Slot,
};
pub use load::load_kernel;
pub use op::{Op, OpClass, Width};
