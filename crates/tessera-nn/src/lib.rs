//! Candidate networks for Tessera's co-search: this crate reads network genotypes (RON),
//! trains them deterministically on real data (the embedded UCI digits, or a user CSV),
//! quantises them down to ternary weights, and measures the accuracy that counts, that of
//! the integer-arithmetic network. It lowers a trained network to `tessera_accel` layers
//! with its real shapes and per-layer precisions, checks its integer inference on the
//! cycle-level systolic simulator, exports weights as safetensors, and scores the
//! NAS-Bench-201 table without training.
//!
//! Architecture invariant: the crate never prints; bad input is a typed error
//! ([`NnError`]) naming the file and line, and a genotype that cannot be built is a value
//! ([`Infeasible`]) with the reason, never a panic. Every random choice comes from an
//! explicit seed, and results are bit-identical for any rayon thread count.

pub mod data;
pub mod error;
pub mod eval;
pub mod export;
pub mod genotype;
pub mod lower;
pub mod nas201;
pub mod net;
pub mod quant;
pub mod train;
pub mod verify;

pub use data::{Dataset, Split};
pub use error::{Infeasible, NnError};
pub use eval::{DigitsGenes, NetEvaluation, train_and_evaluate};
pub use genotype::{Activation, BitWidth, Block, NetGenotype, Plan};
pub use train::{Optimizer, TrainConfig};
