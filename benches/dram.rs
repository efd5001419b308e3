//! Trace-simulation speed of the DRAM model: 5 M requests (80 % reads), streaming and
//! uniform random, DDR4-2400R, FR-FCFS open page. Throughput is reported in requests/s;
//! the simulated DRAM cycles of each run are printed once so cycles/s can be derived
//! (simulated cycles / time per iteration). See docs/PERFORMANCE.md, section DRAM. Built both
//! by the `tessera` package and by `tessera-dram` (`cargo bench -p tessera-dram --bench dram`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tessera_arch::Spec;
use tessera_arch::dram::DramSpec;
use tessera_dram::trace::{Pattern, SyntheticTrace};
use tessera_dram::{ControllerConfig, MemorySystem};

const REQUESTS: u64 = 5_000_000;

fn run(spec: &DramSpec, pattern: Pattern) -> u64 {
    let sys = MemorySystem::new(spec, &ControllerConfig::default()).expect("valid config");
    let report = sys.run(SyntheticTrace::new(spec, pattern, REQUESTS, 0.8, 1));
    report.cycles
}

fn bench(c: &mut Criterion) {
    let spec = DramSpec::preset("DDR4_2400R").expect("preset");
    let mut g = c.benchmark_group("dram_trace_5M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REQUESTS));
    for (name, pattern) in [
        ("streaming", Pattern::Streaming),
        ("random", Pattern::Random),
    ] {
        eprintln!(
            "{name}: {} simulated DRAM cycles per run",
            run(&spec, pattern)
        );
        g.bench_function(name, |b| b.iter(|| black_box(run(&spec, pattern))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
