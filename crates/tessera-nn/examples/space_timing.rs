//! Train random candidates of the digits search space and print the time and accuracy of
//! each, then the median and 95th percentile of the training time
//! (`cargo run --release -p tessera-nn --example space_timing -- [N] [search|default]`).

use rand::SeedableRng;
use tessera_nn::eval::DigitsSpace;
use tessera_nn::{Split, TrainConfig, data, train_and_evaluate};

/// On-CPU time of every thread of this process so far, ms (Linux schedstat; 0 elsewhere):
/// unlike wall time, it hardly moves when other processes share the cores.
fn cpu_ms() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    dir.filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .sum::<f64>()
        / 1e6
}

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
    let mut cpu = Vec::new();
    for i in 0..n {
        let genes = space.sample(&mut rng);
        let g = genes.genotype();
        let c0 = cpu_ms();
        match train_and_evaluate(&g, &d, &split, &cfg, i as u64) {
            Ok(e) => {
                let c = cpu_ms() - c0;
                cpu.push(c);
                println!(
                    "{:<48} {:>8.1} ms (cpu {c:>7.1} ms)  epochs {:>2}+{:<2} float {:.4} int {:.4} macs {:>7} params {:>6}",
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
    cpu.sort_by(f64::total_cmp);
    let q = |v: &[f64], p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{} candidates: wall median {:.1} ms, p95 {:.1} ms, max {:.1} ms; cpu (all threads) \
         median {:.1} ms, p95 {:.1} ms; {} rayon threads (space of {} points)",
        times.len(),
        q(&times, 0.5),
        q(&times, 0.95),
        q(&times, 1.0),
        q(&cpu, 0.5),
        q(&cpu, 0.95),
        rayon::current_num_threads(),
        space.size()
    );
}
