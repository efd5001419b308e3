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

/// CPU time of this thread in seconds (utime + stime from /proc, 10 ms ticks on Linux), to
/// report speed per CPU-second next to criterion's wall-clock figures on a shared machine.
fn thread_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: field 3 is state, so utime (14) and stime (15) are f[11], f[12].
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Run `f` for about `secs` of wall time; return (runs, wall s, CPU s).
fn timed(secs: f64, mut f: impl FnMut()) -> (u64, f64, Option<f64>) {
    let cpu0 = thread_cpu_s();
    let t0 = std::time::Instant::now();
    let mut runs = 0;
    while t0.elapsed().as_secs_f64() < secs {
        f();
        runs += 1;
    }
    let wall = t0.elapsed().as_secs_f64();
    (
        runs,
        wall,
        cpu0.and_then(|c0| thread_cpu_s().map(|c1| c1 - c0)),
    )
}

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
        let (runs, wall, cpu) = timed(2.0, || {
            black_box(sim.run(black_box(&inputs)).expect("runs"));
        });
        let (iruns, iwall, icpu) = timed(2.0, || {
            black_box(
                tessera_ir::interp::run(black_box(&kernel), black_box(&inputs)).expect("runs"),
            );
        });
        if let (Some(cpu), Some(icpu)) = (cpu, icpu) {
            eprintln!(
                "{}: simulate {:.3} ms/run CPU ({:.1} M PE-cycles per CPU-second; wall {:.3} ms/run), interpreter {:.3} ms/run CPU (wall {:.3}), sim/interp CPU ratio {:.2}",
                kernel.name,
                cpu / runs as f64 * 1e3,
                (pe_cycles * runs) as f64 / cpu / 1e6,
                wall / runs as f64 * 1e3,
                icpu / iruns as f64 * 1e3,
                iwall / iruns as f64 * 1e3,
                (cpu / runs as f64) / (icpu / iruns as f64)
            );
        }
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
