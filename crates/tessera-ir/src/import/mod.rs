//! Importers for third-party DFG formats: Morpher XML and CGRA-ME / Pillars DOT.

pub mod dot;
pub mod morpher;
pub mod xml;
