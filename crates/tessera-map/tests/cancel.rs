//! Cooperative cancel of a mapping (`MapOptions::cancel`): a flag set before the mapping
//! starts, or by another thread while it runs, stops it with `MapError::Cancelled`.

use std::time::{Duration, Instant};
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_map::driver::{CancelFlag, MapOptions, map_kernel};
use tessera_map::error::MapError;
use tessera_map::heuristic::map_at_ii;

/// One load fanned out to 100 multiplies summed by 99 adds: 201 ops on a 4x4 array. The
/// heuristic fails at every II from the MII of 13 up to 32 (output registers and links stay
/// oversubscribed), which took 39 s in a release build (`tessera map --arch mesh-4x4
/// --time-limit 120`, 2026-12-07): without cancel this test's mapping never ends within
/// the second it waits.
fn big_kernel() -> tessera_ir::Kernel {
    let sum: Vec<String> = (0..100).map(|t| format!("v * {}", 2 * t + 3)).collect();
    let text = format!(
        "kernel fanout100(n = 64) {{\n    in i32 x[n];\n    out i32 y[n];\n    for i in 0..n {{\n        let v = x[i];\n        y[i] = {};\n    }}\n}}\n",
        sum.join(" + ")
    );
    tessera_ir::lang::parse_str(&text, "fanout100.tk", &[]).unwrap()
}

fn fir() -> tessera_ir::Kernel {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels/fir.tk");
    tessera_ir::load_kernel(&path, &[]).unwrap()
}

#[test]
fn a_flag_set_before_the_start_cancels() {
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let opts = MapOptions::default();
    // The same options without the flag map fir.
    assert!(map_kernel(&fir(), &arch, &opts).is_ok());
    opts.cancel.cancel();
    assert_eq!(
        map_kernel(&fir(), &arch, &opts).unwrap_err(),
        MapError::Cancelled
    );
    // The heuristic alone stops before its first placement attempt.
    let err = map_at_ii(&fir(), &arch, 4, &opts).unwrap_err();
    assert_eq!(err, tessera_map::heuristic::CANCELLED);
    // COMPOSE's search too.
    let compose = CgraSpec::preset("compose-4x4").unwrap();
    assert_eq!(
        map_kernel(&fir(), &compose, &opts).unwrap_err(),
        MapError::Cancelled
    );
}

#[test]
fn cancelling_a_running_mapping_stops_it() {
    let kernel = big_kernel();
    let arch = CgraSpec::preset("mesh-4x4").unwrap();
    let cancel = CancelFlag::default();
    let opts = MapOptions {
        time_limit_s: 600.0,
        cancel: cancel.clone(),
        ..MapOptions::default()
    };
    let t0 = Instant::now();
    let worker = std::thread::spawn(move || map_kernel(&kernel, &arch, &opts));
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        !worker.is_finished(),
        "the mapping ended before it was cancelled: no test of cancel"
    );
    cancel.cancel();
    let cancelled_at = t0.elapsed();
    let out = worker.join().unwrap();
    let stop = t0.elapsed() - cancelled_at;
    assert_eq!(out.unwrap_err(), MapError::Cancelled);
    // Stopped within one negotiation round or placement attempt, far inside the budget.
    assert!(
        stop < Duration::from_secs(30),
        "stopped {stop:?} after cancel"
    );
}
