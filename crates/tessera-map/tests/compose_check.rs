//! The checker's COMPOSE timing rule at its edge: a hand-built chained mapping whose chain
//! ends exactly at the clock period is accepted, and the same chain 1 ps longer is refused.
//!
//! Kernel: `x = ((x + 3) * 5) >> 1` (add -> mul -> ashr -> add of the next iteration) at
//! II 2 on compose-4x4 (clk-to-q 50 ps, setup 35 ps, hop 80 ps, period 1000 ps):
//! add on PE 5 @0, mul on PE 5 @1, ashr on PE 6 @2 chained into the next iteration's add
//! (PE 6 -> PE 5 in cycle 2 = 0 + 1 x II). The ashr starts at 50 + 80 = 130 ps (its input
//! crosses one hop), so the add's operand arrives at 130 + 200 + 80 = 410 ps and the add
//! ends at 410 + delay(add) + 35: with an add of 555 ps that is exactly 1000 ps.

use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::Spec;
use tessera_ir::kernel::{KernelSource, LiveOut};
use tessera_ir::{Kernel, Node, Op, OpClass, Operand};
use tessera_map::check::{CheckViolation, check};
use tessera_map::mapping::{
    Loc, MAPPING_FORMAT_VERSION, Mapping, Placement, Provenance, Route, Segment,
};

fn kernel() -> Kernel {
    let mut k = Kernel::new("rec3", KernelSource::Built);
    k.trip_count = 8;
    let add = k.add_node(Node::new(Op::Add).with_imm(3));
    let mul = k.add_node(Node::new(Op::Mul).with_imm(5));
    let sh = k.add_node(Node::new(Op::Ashr).with_imm(1));
    k.add_edge(add, mul, Operand::data(0));
    k.add_edge(mul, sh, Operand::data(0));
    k.add_edge(sh, add, Operand::carried(0, 1, 7));
    k.live_outs.push(LiveOut {
        name: "x".into(),
        node: sh,
        init: 7,
    });
    k
}

fn place(pe: u16, cycle: u32, start_ps: u32) -> Placement {
    Placement {
        pe: Some(pe),
        cycle,
        start_ps,
        registered: true,
    }
}

fn seg(cycle: u32, from: Loc, path: &[u16], to: Loc) -> Segment {
    Segment {
        cycle,
        from,
        path: path.to_vec(),
        to,
    }
}

/// The chained mapping with an add of `add_delay_ps` (ashr 200 ps).
fn mapping(add_delay_ps: u32) -> Mapping {
    let mut arch = CgraSpec::preset("compose-4x4").unwrap();
    arch.ops.get_mut(&OpClass::Arith).unwrap().delay_ps = add_delay_ps;
    arch.ops.get_mut(&OpClass::Shift).unwrap().delay_ps = 200;
    assert!(arch.compose.enabled);
    assert_eq!(
        (
            arch.timing.clock_period_ps,
            arch.timing.clk_to_q_ps,
            arch.timing.setup_ps,
            arch.timing.hop_delay_ps
        ),
        (1000, 50, 35, 80)
    );
    Mapping {
        format_version: MAPPING_FORMAT_VERSION,
        kernel: kernel(),
        arch,
        ii: 2,
        placements: vec![place(5, 0, 410), place(5, 1, 50), place(6, 2, 130)],
        routes: vec![
            Route {
                edge: 0,
                segments: vec![seg(1, Loc::Out { pe: 5 }, &[], Loc::Operand { pe: 5 })],
            },
            Route {
                edge: 1,
                segments: vec![seg(2, Loc::Out { pe: 5 }, &[6], Loc::Operand { pe: 6 })],
            },
            Route {
                edge: 2,
                segments: vec![seg(2, Loc::Comb { pe: 6 }, &[5], Loc::Operand { pe: 5 })],
            },
        ],
        array_banks: vec![],
        array_replicas: vec![],
        access_banks: vec![],
        provenance: Provenance {
            mapper: "hand".into(),
            seed: 0,
            mii: 2,
            time_ms: 0.0,
            failed_iis: vec![],
            tool_version: "test".into(),
            judge_seed: None,
        },
    }
}

#[test]
fn chain_ending_exactly_at_the_period_is_accepted() {
    // 50 + 80 + 200 + 80 + 555 + 35 = 1000 ps.
    let m = mapping(555);
    if let Err(v) = check(&m) {
        panic!(
            "{}",
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn chain_one_ps_over_the_period_is_refused() {
    // 1001 ps: the add (node 0) misses the period by 1 ps.
    let m = mapping(556);
    let v = check(&m).expect_err("a chain 1 ps too long was accepted");
    assert!(
        v.iter().any(|x| matches!(
            x,
            CheckViolation::ChainTiming { node: 0, reason, .. } if reason.contains("1001 ps exceeds 1000 ps")
        )),
        "{v:?}"
    );
    assert_eq!(v.len(), 1, "{v:?}");
}

#[test]
fn chain_one_ps_over_through_a_longer_hop_is_refused() {
    // The same chain with the hop 1 ps slower: the shift starts at 131 ps, the add's
    // operand arrives at 412 ps; starting the add at 412 ends at 1002 ps, and starting it
    // at 410 is before its operand arrives.
    let mut m = mapping(555);
    m.arch.timing.hop_delay_ps = 81;
    m.placements[2].start_ps = 131;
    m.placements[0].start_ps = 412;
    let v = check(&m).expect_err("accepted");
    assert!(
        v.iter()
            .any(|x| matches!(x, CheckViolation::ChainTiming { node: 0, reason, .. } if reason.contains("exceeds"))),
        "{v:?}"
    );
    m.placements[0].start_ps = 410;
    let v = check(&m).expect_err("accepted");
    assert!(
        v.iter()
            .any(|x| matches!(x, CheckViolation::ChainTiming { node: 0, reason, .. } if reason.contains("arrives at 412"))),
        "{v:?}"
    );
}
