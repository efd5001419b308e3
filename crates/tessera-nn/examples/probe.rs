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
    let split = Split::standard(
        &d,
        std::env::var("SPLIT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
    .unwrap();
    if let Ok(path) = std::env::var("DUMP") {
        let line = |v: &[usize]| {
            v.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        std::fs::write(
            path,
            format!(
                "{}\n{}\n{}\n",
                line(&split.train),
                line(&split.validation),
                line(&split.test)
            ),
        )
        .unwrap();
    }
    let env = |k: &str, d: f64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    // Every setting defaults to `TrainConfig::default()`; the environment overrides.
    let base = TrainConfig::default();
    let base_lr = match base.optimizer {
        tessera_nn::Optimizer::Adam { lr } | tessera_nn::Optimizer::Sgd { lr, .. } => lr,
    };
    let cfg = TrainConfig {
        optimizer: tessera_nn::Optimizer::Adam {
            lr: env("LR", f64::from(base_lr)) as f32,
        },
        max_epochs: env("EPOCHS", f64::from(base.max_epochs)) as u32,
        patience: env("PAT", f64::from(base.patience)) as u32,
        weight_decay: env("WD", f64::from(base.weight_decay)) as f32,
        cosine: env("COS", f64::from(u8::from(base.cosine))) > 0.0,
        batch: env("BATCH", base.batch as f64) as usize,
        qat_epochs: env("QAT", f64::from(base.qat_epochs)) as u32,
        augment_shift: env("SHIFT", base.augment_shift as f64) as usize,
        augment_prob: env("SHIFTP", f64::from(base.augment_prob)) as f32,
        label_smoothing: env("LS", f64::from(base.label_smoothing)) as f32,
        ..base
    };
    println!("split seed {}; {cfg:?}", split.seed);
    let only: Option<usize> = std::env::var("ONLY").ok().and_then(|v| v.parse().ok());
    let seeds = env("SEEDS", 3.0) as u64;
    for f in &files {
        let g = NetGenotype::load(std::path::Path::new(f)).unwrap();
        let combos = [
            (BitWidth::Float, BitWidth::Float),
            (BitWidth::Int16, BitWidth::Int16),
            (BitWidth::Int16, BitWidth::Int8),
            (BitWidth::Int8, BitWidth::Int8),
            (BitWidth::Int4, BitWidth::Int8),
            (BitWidth::Int2, BitWidth::Int8),
            (BitWidth::Ternary, BitWidth::Int8),
            (BitWidth::Int8, BitWidth::Int4),
            (BitWidth::Int4, BitWidth::Int4),
            (BitWidth::Ternary, BitWidth::Int4),
        ];
        for (w, a) in combos
            .into_iter()
            .enumerate()
            .filter(|(i, _)| only.is_none_or(|o| o == *i))
            .map(|(_, p)| p)
        {
            let mut sums = (0.0, 0.0, 0.0, 0usize);
            for seed in 0..seeds {
                let gg = with_bits(&g, w, a);
                match eval::train_and_evaluate(&gg, &d, &split, &cfg, seed) {
                    Ok(e) => {
                        sums.0 += e.float_accuracy;
                        sums.1 += e.accuracy;
                        sums.2 += e.train_ms;
                        sums.3 += 1;
                        println!(
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
                        );
                    }
                    Err(e) => println!("{} {w:?} {a:?}: infeasible: {e}", g.name),
                }
            }
            let k = sums.3.max(1) as f64;
            println!(
                "MEAN {:<18} w {:<8} a {:<6} float {:.2} % deployed {:.2} % drop {:+.2} points, {:.0} ms ({} seeds)",
                g.name,
                w.label(),
                a.label(),
                100.0 * sums.0 / k,
                100.0 * sums.1 / k,
                100.0 * (sums.1 - sums.0) / k,
                sums.2 / k,
                sums.3
            );
        }
    }
}
