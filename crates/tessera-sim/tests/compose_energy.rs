//! COMPOSE energy accounting on a hand-built chained mapping: the energy report equals a
//! hand computation, including the output-register write saved by deferred registration,
//! the bypass-path power overhead and the area with its bypass overhead.

use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::Spec;
use tessera_map::mapping::{Loc, MAPPING_FORMAT_VERSION, Mapping, Provenance, Route};
use tessera_sim::Simulator;

mod common;
use common::*;

const TRIP: u32 = 4;
const II: u32 = 2;

/// `y[i] = (a[i] + 5) * 3` over 4 iterations at II 2 on compose-4x4: `i += 4` on PE 1 @0,
/// load on PE 0 @1, add on PE 4 @2 chained combinationally into the mul on PE 5 @2, store on
/// PE 4 @3 (its address through register 0 of PE 0). With `deferred`, the add's result is
/// not registered.
fn chain(deferred: bool) -> Mapping {
    let (k, edges) = affine_chain_kernel(TRIP);
    let mut placements = vec![
        place(1, 0),
        place(0, 1),
        place(4, 2),
        place(5, 2),
        place(4, 3),
    ];
    placements[2].registered = !deferred;
    let reg0 = Loc::Reg { pe: 0, reg: 0 };
    let segments = vec![
        vec![seg(2, out(1), &[], opnd(1))],
        vec![seg(1, out(1), &[0], opnd(0))],
        vec![seg(2, out(0), &[4], opnd(4))],
        vec![seg(2, Loc::Comb { pe: 4 }, &[5], opnd(5))],
        vec![seg(1, out(1), &[0], reg0), seg(3, reg0, &[4], opnd(4))],
        vec![seg(3, out(5), &[4], opnd(4))],
    ];
    let routes = edges
        .iter()
        .zip(segments)
        .map(|(e, segments)| Route {
            edge: e.index() as u32,
            segments,
        })
        .collect();
    Mapping {
        format_version: MAPPING_FORMAT_VERSION,
        kernel: k,
        arch: CgraSpec::preset("compose-4x4").unwrap(),
        ii: II,
        placements,
        routes,
        array_banks: vec![0, 1],
        array_replicas: vec![],
        access_banks: vec![],
        provenance: Provenance {
            mapper: "hand".into(),
            seed: 0,
            mii: II,
            time_ms: 0.0,
            failed_iis: vec![],
            tool_version: "test".into(),
            judge_seed: None,
        },
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn compose_energy_matches_hand_computation_with_saved_register_write() {
    let m = chain(true);
    let arch = m.arch.clone();
    let (rep, _) = Simulator::new(&m).unwrap().simulate_seed(7, false).unwrap();
    assert!(rep.verification.matched, "{:?}", rep.verification.mismatch);

    // Hand counts. Cycles: (trip - 1) * II + schedule length 4 (store at cycle 3, latency 1).
    let cycles = ((TRIP - 1) * II + 4) as u64;
    let trip = TRIP as u64;
    assert_eq!(rep.total_cycles, cycles);
    // Registered per iteration: i, load, mul, store; the chained add is deferred.
    assert_eq!(rep.stats.out_reg_writes, 4 * trip);
    assert_eq!(rep.stats.deferred_registrations, trip);
    // Hops per iteration: i->ld and i->st share the hop PE 1 -> PE 0 in cycle 1 (same value,
    // same link, same cycle: one hop), then ld->add 1, add->mul 1 (Comb), reg->st 1,
    // mul->st 1.
    assert_eq!(rep.stats.link_hops, 5 * trip);
    assert_eq!(rep.stats.rf_writes, trip);
    assert_eq!(rep.stats.rf_reads, trip);
    assert_eq!(rep.stats.mem_accesses, 2 * trip);

    let e = &arch.energy;
    let op = |c: tessera_ir::OpClass| arch.op_cost(c).unwrap().energy_pj;
    use tessera_ir::OpClass::*;
    // Per iteration: two adds, one mul, one load, one store.
    let ops = trip as f64 * (2.0 * op(Arith) + op(Mul) + op(Load) + op(Store));
    let pe_cycles = 16.0 * cycles as f64;
    let pe_array = ops
        + trip as f64 * (e.rf_read_pj + e.rf_write_pj)
        + 4.0 * trip as f64 * e.out_reg_write_pj
        + 5.0 * trip as f64 * e.hop_pj
        + pe_cycles * (e.config_per_pe_cycle_pj + e.idle_per_pe_cycle_pj);
    // Bypass leakage: every PE, every cycle, uW x ps = 1e-6 pJ.
    let bypass = pe_cycles
        * arch.compose.bypass_leakage_uw_per_pe
        * 1e-6
        * arch.timing.clock_period_ps as f64;
    let total = pe_array + 2.0 * trip as f64 * e.mem_access_pj + bypass;
    let saved = trip as f64 * e.out_reg_write_pj;
    assert!(bypass > 0.0 && saved > 0.0);
    assert!(
        close(rep.energy.ops_pj, ops),
        "{} vs {ops}",
        rep.energy.ops_pj
    );
    assert!(close(rep.energy.pe_array_pj(), pe_array));
    assert!(close(rep.energy.compose_bypass_pj, bypass));
    assert!(close(rep.energy.saved_out_reg_pj, saved));
    assert!(
        close(rep.energy.total_pj, total),
        "{} vs {total}",
        rep.energy.total_pj
    );
    let by_category: f64 = rep.energy.categories().iter().map(|(_, pj)| pj).sum();
    assert!(close(by_category, total));
    // With the numbers of compose-4x4, written out: ops 4 x 3.3, RF 4 x 1.1, out-reg 16 x 0.2,
    // hops 20 x 0.4, config+idle 160 x 15, memory 8 x 5, bypass 160 PE-cycles x 18.41 uW
    // x 1 ns.
    assert!(close(
        total,
        13.2 + 4.4 + 3.2 + 8.0 + 2400.0 + 40.0 + 160.0 * 18.41e-3
    ));

    // Power and EDP follow from the energy and the clock.
    let time_ns = cycles as f64 * arch.timing.clock_period_ps as f64 / 1000.0;
    assert!(close(rep.edp_pj_ns, total * time_ns));
    assert!(close(rep.power_mw, total / time_ns));

    // Area: 16 PEs x (PE + 4 registers + bypass), 4 memory PEs, 4 banks of 4 KiB.
    let pe_area = 16.0
        * (arch.area.pe_um2 + 4.0 * arch.area.rf_per_reg_um2 + arch.compose.bypass_area_um2_per_pe);
    let area = pe_area + 4.0 * arch.area.mem_pe_extra_um2 + 16.0 * arch.area.memory_per_kib_um2;
    assert!(close(rep.area_um2, area), "{} vs {area}", rep.area_um2);
    assert!(rep.summary().contains("output-register writes saved"));
}

#[test]
fn registering_the_chained_value_costs_exactly_the_saved_write() {
    let sim = |deferred| {
        Simulator::new(&chain(deferred))
            .unwrap()
            .simulate_seed(3, false)
            .unwrap()
            .0
    };
    let (d, r) = (sim(true), sim(false));
    assert!(d.verification.matched && r.verification.matched);
    assert_eq!(r.stats.deferred_registrations, 0);
    assert_eq!(r.energy.saved_out_reg_pj, 0.0);
    assert_eq!(
        r.stats.out_reg_writes,
        d.stats.out_reg_writes + d.stats.deferred_registrations
    );
    // Same cycles, so the same bypass leakage: the difference is exactly the saved writes.
    let arch = CgraSpec::preset("compose-4x4").unwrap();
    assert_eq!(d.total_cycles, r.total_cycles);
    assert!(close(
        r.energy.compose_bypass_pj,
        d.energy.compose_bypass_pj
    ));
    assert!(close(
        r.energy.total_pj - d.energy.total_pj,
        d.energy.saved_out_reg_pj
    ));
    // Without composition, the array has no bypass energy and no bypass area.
    assert!(r.area_um2 > 0.0);
    let mut mesh = arch.clone();
    mesh.compose.enabled = false;
    assert!(mesh.total_area_um2() < r.area_um2);
}
