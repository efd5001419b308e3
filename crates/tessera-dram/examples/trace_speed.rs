//! One-shot speed measurement of the trace simulator (release): 5 M requests, 80 % reads,
//! streaming and random. `cargo run --release -p tessera-dram --example trace_speed`
//! This example prints (it is a program, not the library).

use std::time::Instant;
use tessera_arch::Spec;
use tessera_arch::dram::DramSpec;
use tessera_dram::trace::{Pattern, SyntheticTrace};
use tessera_dram::{ControllerConfig, MemorySystem};

/// CPU seconds used by this process so far (user + system, from /proc/self/stat; Linux only,
/// 0 elsewhere). Wall time overstates the cost on a shared machine; both are printed.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let spec = DramSpec::preset("DDR4_2400R").expect("preset");
    let n = 5_000_000u64;
    for (name, pattern) in [
        ("streaming", Pattern::Streaming),
        ("random", Pattern::Random),
    ] {
        let t0 = Instant::now();
        let c0 = cpu_seconds();
        let sys = MemorySystem::new(&spec, &ControllerConfig::default()).expect("config");
        let r = sys.run(SyntheticTrace::new(&spec, pattern, n, 0.8, 1));
        let s = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - c0;
        println!(
            "{name}: {n} requests, {} DRAM cycles; wall {s:.3} s -> {:.2} M cycles/s, {:.2} M \
             req/s; CPU {cpu:.2} s -> {:.2} M cycles/s, {:.2} M req/s (bandwidth {:.2} GB/s, \
             row hit rate {:.3})",
            r.cycles,
            r.cycles as f64 / s / 1e6,
            n as f64 / s / 1e6,
            r.cycles as f64 / cpu / 1e6,
            n as f64 / cpu / 1e6,
            r.bandwidth_gbs,
            r.row_hit_rate
        );
    }
}
