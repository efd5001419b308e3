//! Exporters: the DOT (Graphviz) view of any kernel.

mod dot;

pub use dot::to_dot;
