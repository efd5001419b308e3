//! COMPOSE end to end on the issue's example: a recurrence of three single-cycle ops with
//! delays 300 + 700 + 200 ps on a 1000 ps clock. Baseline RecMII 3 (three cycles); with the
//! timing-aware model (one hop of 80 ps per chained edge, clk-to-q 50 ps and setup 35 ps
//! per cycle, see `mii.rs`) it is `ceil((1200 + 3 * 80) / (1000 - 50 - 35 + 80)) = 2`. The
//! mapper reaches II 2 by chaining the shift into the next iteration's add (across the
//! loop-carried edge), and the simulator, checked against the interpreter, runs it in the
//! cycles of II 2.

use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::Spec;
use tessera_ir::kernel::{KernelSource, LiveOut};
use tessera_ir::{Kernel, Node, Op, Operand};
use tessera_map::check::check;
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_map::mapping::Loc;
use tessera_map::mii::analyze;
use tessera_sim::Simulator;

const TRIP: u32 = 24;

/// `x = ((x + 3) * 5) >> 1` carried across iterations: add (arith) -> mul -> ashr (shift)
/// -> add of the next iteration.
fn kernel() -> Kernel {
    let mut k = Kernel::new("rec3", KernelSource::Built);
    k.trip_count = TRIP;
    let add = k.add_node(Node::new(Op::Add).with_imm(3).with_label("x+3"));
    let mul = k.add_node(Node::new(Op::Mul).with_imm(5));
    let sh = k.add_node(Node::new(Op::Ashr).with_imm(1).with_label("x"));
    k.add_edge(add, mul, Operand::data(0));
    k.add_edge(mul, sh, Operand::data(0));
    k.add_edge(sh, add, Operand::carried(0, 1, 7));
    k.live_outs.push(LiveOut {
        name: "x".into(),
        node: sh,
        init: 7,
    });
    k.validate().unwrap();
    k
}

/// compose-4x4 with the op delays of the example (an override of the preset, as a user
/// would write it).
fn arch(compose: bool) -> CgraSpec {
    let text = format!(
        r#"(preset: "compose-4x4", set: {{"ops.arith.delay_ps": 300, "ops.mul.delay_ps": 700, "ops.shift.delay_ps": 200, "compose.enabled": {compose}}})"#
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-compose-rec3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One file per call: the tests run in parallel threads.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("arch-{compose}-{call}.ron"));
    std::fs::write(&path, text).unwrap();
    let a = CgraSpec::load(path.to_str().unwrap()).unwrap();
    assert_eq!(a.timing.clock_period_ps, 1000);
    assert_eq!(a.compose.enabled, compose);
    a
}

#[test]
fn three_op_recurrence_has_baseline_recmii_3_and_timing_aware_recmii_2() {
    let k = kernel();
    let on = analyze(&k, &arch(true)).unwrap();
    assert_eq!(on.rec_mii_baseline, 3);
    assert_eq!(on.rec_mii_timed, 2);
    assert_eq!(on.rec_mii, 2);
    assert_eq!(on.mii, 2);
    let c = on.critical.as_ref().unwrap();
    assert_eq!((c.mii_baseline, c.mii_timed, c.mii), (3, 2, 2));
    assert_eq!(c.delay_ps, 1200);
    assert_eq!(c.time_ps, 1200 + 3 * 80);
    assert_eq!(on.cycle_budget_ps, 1000 - 50 - 35 + 80);
    assert!(on.recurrences.iter().all(|r| r.mii_timed <= r.mii_baseline));
    let text = on.explain(&k);
    assert!(
        text.contains("baseline 3") && text.contains("timing-aware 2"),
        "{text}"
    );
    // Without composition the same numbers are reported, the baseline one in force.
    let off = analyze(&k, &arch(false)).unwrap();
    assert_eq!(
        (
            off.rec_mii,
            off.rec_mii_baseline,
            off.rec_mii_timed,
            off.mii
        ),
        (3, 3, 2, 3)
    );
}

#[test]
fn composed_mapping_runs_at_ii_2_and_simulates_in_its_cycles() {
    let k = kernel();
    let opts = MapOptions {
        seed: 3,
        time_limit_s: 20.0,
        ..MapOptions::default()
    };
    let on = map_kernel(&k, &arch(true), &opts).unwrap();
    let off = map_kernel(&k, &arch(false), &opts).unwrap();
    assert_eq!(on.mapping.ii, 2, "failed IIs: {:?}", on.failed_iis);
    assert_eq!(off.mapping.ii, 3);
    check(&on.mapping).unwrap();
    // The shift feeds the next iteration's add combinationally, and the add starts after
    // the shift's delay plus one hop.
    let comb: Vec<_> = on
        .mapping
        .routes
        .iter()
        .filter(|r| matches!(r.segments[0].from, Loc::Comb { .. }))
        .collect();
    assert!(!comb.is_empty());
    let add = on.mapping.placements[0];
    let sh = on.mapping.placements[2];
    assert!(add.start_ps >= sh.start_ps + 200 + 80);
    assert!(add.start_ps + 300 + 35 <= 1000);
    for (m, ii) in [(&on.mapping, 2u64), (&off.mapping, 3u64)] {
        let sim = Simulator::new(m).unwrap();
        let (rep, _) = sim.simulate_seed(11, false).unwrap();
        assert!(
            rep.verification.matched,
            "{:?}",
            rep.verification.mismatch.map(|x| x.message)
        );
        assert_eq!(rep.ii as u64, ii);
        assert_eq!(rep.stall_cycles, 0);
        // (trip - 1) * II + schedule length of one iteration.
        assert_eq!(
            rep.total_cycles,
            (TRIP as u64 - 1) * ii + m.schedule_length() as u64
        );
        assert_eq!(rep.total_cycles, m.total_cycles());
    }
    let (on_rep, _) = Simulator::new(&on.mapping)
        .unwrap()
        .simulate_seed(11, false)
        .unwrap();
    let (off_rep, _) = Simulator::new(&off.mapping)
        .unwrap()
        .simulate_seed(11, false)
        .unwrap();
    assert!(on_rep.total_cycles < off_rep.total_cycles);
    // (TRIP - 1) more cycles saved by II 2 than any schedule-length difference could cost.
    assert!(off_rep.total_cycles - on_rep.total_cycles >= (TRIP as u64 - 1) - 3);
}
