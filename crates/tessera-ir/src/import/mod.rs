//! Importers for third-party DFG formats: Morpher XML and DOT (CGRA-ME, OpenCGRA /
//! CGRA-Flow, SAT-MapIt).

pub mod dot;
mod dot_opencgra;
mod dot_satmapit;
pub mod morpher;
pub mod xml;
