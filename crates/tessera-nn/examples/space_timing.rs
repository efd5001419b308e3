//! Train random candidates of the digits search space and print the time and accuracy of
//! each, then the median and 95th percentile of the training time
//! (`cargo run --release -p tessera-nn --example space_timing -- [N] [search|default]`).

use rand::SeedableRng;
use tessera_nn::eval::DigitsSpace;
use tessera_nn::{Split, TrainConfig, data, train_and_evaluate};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(40);
    let mut cfg = match args.get(2).map(String::as_str) {
        Some("default") => TrainConfig::default(),
        _ => TrainConfig::search(),
    };
    if let Some(c) = std::env::var("CHUNK").ok().and_then(|v| v.parse().ok()) {
        cfg.chunk = c;
    }
    let d = data::digits();
    let split = Split::standard(&d, 0).unwrap();
    let space = DigitsSpace::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut times = Vec::new();
    for i in 0..n {
        let genes = space.sample(&mut rng);
        let g = genes.genotype();
        match train_and_evaluate(&g, &d, &split, &cfg, i as u64) {
            Ok(e) => {
                println!(
                    "{:<48} {:>8.1} ms  epochs {:>2}+{:<2} float {:.4} int {:.4} macs {:>7} params {:>6}",
                    g.name,
                    e.train_ms,
                    e.epochs,
                    e.qat_epochs,
                    e.float_accuracy,
                    e.accuracy,
                    e.macs,
                    e.params
                );
                times.push(e.train_ms);
            }
            Err(e) => println!("{:<48} infeasible: {e}", g.name),
        }
    }
    times.sort_by(f64::total_cmp);
    let q = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{} candidates: median {:.1} ms, p95 {:.1} ms, max {:.1} ms (space of {} points)",
        times.len(),
        q(0.5),
        q(0.95),
        q(1.0),
        space.size()
    );
}
