//! Train the reference networks at every bit-width and print accuracies and times
//! (`cargo run --release -p tessera-nn --example probe -- [NET.ron ...]`).

use tessera_nn::genotype::{Block, NetGenotype};
use tessera_nn::{BitWidth, Split, TrainConfig, data, eval};

fn with_bits(g: &NetGenotype, w: BitWidth, a: BitWidth) -> NetGenotype {
    let mut g = g.clone();
    for b in &mut g.blocks {
        match b {
            Block::Conv {
                weight_bits,
                act_bits,
                ..
            }
            | Block::DepthwiseSeparable {
                weight_bits,
                act_bits,
                ..
            }
            | Block::Fc {
                weight_bits,
                act_bits,
                ..
            } => {
                *weight_bits = w;
                *act_bits = a;
            }
            _ => {}
        }
    }
    g
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let d = data::digits();
    let split = Split::standard(&d, 0).unwrap();
    let cfg = TrainConfig::default();
    for f in &files {
        let g = NetGenotype::load(std::path::Path::new(f)).unwrap();
        for (w, a) in [
            (BitWidth::Float, BitWidth::Float),
            (BitWidth::Int16, BitWidth::Int16),
            (BitWidth::Int8, BitWidth::Int8),
            (BitWidth::Int4, BitWidth::Int8),
            (BitWidth::Int4, BitWidth::Int4),
            (BitWidth::Int2, BitWidth::Int8),
            (BitWidth::Ternary, BitWidth::Int8),
            (BitWidth::Ternary, BitWidth::Int4),
        ] {
            for seed in 0..3u64 {
                let gg = with_bits(&g, w, a);
                match eval::train_and_evaluate(&gg, &d, &split, &cfg, seed) {
                    Ok(e) => println!(
                        "{:<22} w {:<8} a {:<6} seed {seed}: float {:.4} fq {:.4} int {:?} epochs {}+{} {:.0} ms",
                        g.name,
                        w.label(),
                        a.label(),
                        e.float_accuracy,
                        e.fake_quant_accuracy,
                        e.quantized_accuracy.map(|v| (v * 1e4).round() / 1e4),
                        e.epochs,
                        e.qat_epochs,
                        e.train_ms
                    ),
                    Err(e) => println!("{} {w:?} {a:?}: infeasible: {e}", g.name),
                }
            }
        }
    }
}
