//! Cycle-level CGRA simulator speed on a 4x4 array (hycube-4x4), for kernels mapped by the
//! heuristic mapper (seed 1): simulation alone (`Simulator::run`, no verification) with
//! throughput in simulated PE-cycles (cycles x 16 PEs), and the reference interpreter on the
//! same inputs for the simulation/interpreter time ratio. See docs/PERFORMANCE.md, section
//! Simulator. The `--param n=...` sizes are raised so one run lasts long enough to time.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_sim::Simulator;

fn bench(c: &mut Criterion) {
    let arch = CgraSpec::preset("hycube-4x4").expect("preset");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, n) in [
        ("fir.tk", 4096i64),
        ("adpcm_decode.tk", 4096),
        ("dot.tk", 8192),
    ] {
        let kernel = tessera_ir::load_kernel(
            &root.join("workloads/kernels").join(file),
            &[("n".to_string(), n)],
        )
        .expect("kernel loads");
        let opts = MapOptions {
            seed: 1,
            time_limit_s: 30.0,
            ..MapOptions::default()
        };
        let mapping = map_kernel(&kernel, &arch, &opts)
            .expect("kernel maps")
            .mapping;
        let sim = Simulator::new(&mapping).expect("simulator accepts the mapping");
        let inputs = tessera_ir::interp::random_inputs(&kernel, 7);
        let check = sim.simulate_inputs(&inputs, false).expect("runs").0;
        assert!(
            check.verification.matched,
            "{:?}",
            check.verification.mismatch
        );
        let cycles = sim.run(&inputs).expect("runs").stats.total_cycles;
        let pe_cycles = cycles * arch.pe_count() as u64;
        eprintln!(
            "{}: II {}, {} iterations, {cycles} cycles, {pe_cycles} PE-cycles per run",
            kernel.name, mapping.ii, kernel.trip_count
        );
        let mut g = c.benchmark_group(format!("sim_{}", kernel.name));
        g.sample_size(20);
        g.throughput(Throughput::Elements(pe_cycles));
        g.bench_function("simulate", |b| {
            b.iter(|| black_box(sim.run(black_box(&inputs)).expect("runs")))
        });
        g.bench_function("interpreter", |b| {
            b.iter(|| {
                black_box(
                    tessera_ir::interp::run(black_box(&kernel), black_box(&inputs)).expect("runs"),
                )
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
