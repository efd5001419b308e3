//! Hand-built mappings of tiny kernels: verification against the interpreter, a hand-computed
//! energy, corrupted mappings caught, predication and Merge, bank-conflict stalls, COMPOSE
//! chains and VCD output.

use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::Spec;
use tessera_ir::kernel::{ArrayDir, KernelSource, LiveOut, ScalarDecl};
use tessera_ir::{Kernel, Node, NodeId, Op, Operand, Slot, Width};
use tessera_map::mapping::{
    Loc, MAPPING_FORMAT_VERSION, Mapping, Placement, Provenance, Route, Segment,
};
use tessera_sim::{SimError, Simulator};

mod common;
use common::*;

const IMM: Placement = Placement {
    pe: None,
    cycle: 0,
    start_ps: 0,
    registered: false,
};

fn mapping(
    kernel: Kernel,
    arch: CgraSpec,
    ii: u32,
    placements: Vec<Placement>,
    routes: Vec<Route>,
    banks: Vec<u16>,
) -> Mapping {
    Mapping {
        format_version: MAPPING_FORMAT_VERSION,
        kernel,
        arch,
        ii,
        placements,
        routes,
        array_banks: banks,
        array_replicas: vec![],
        access_banks: vec![],
        provenance: Provenance {
            mapper: "hand".into(),
            seed: 0,
            mii: ii,
            time_ms: 0.0,
            failed_iis: vec![],
            tool_version: "test".into(),
            judge_seed: None,
        },
    }
}

/// `b[i] = a[i] * k; sum += a[i] * k` over 8 iterations, II 3 on mesh-4x4:
/// n0 `i += 4` on PE 1 @0, n1 load a[i] on PE 0 @1, n2 input k (immediate),
/// n3 mul on PE 4 @2, n4 store b[i] on PE 0 @3, n5 sum on PE 5 @4 (operand via Reg(5, 0)).
struct ScaleAcc {
    m: Mapping,
    /// Route index of the n3 -> n5 edge.
    r_mul_sum: usize,
}

fn scale_acc() -> ScaleAcc {
    let mut k = Kernel::new("scale_acc", KernelSource::Built);
    k.arrays.push(word_array("a", 8, 0, ArrayDir::In));
    k.arrays.push(word_array("b", 8, 32, ArrayDir::Out));
    k.scalars.push(ScalarDecl {
        name: "k".into(),
        default: 3,
        random_range: Some((-50, 50)),
        elem: Default::default(),
    });
    k.trip_count = 8;
    let n0 = k.add_node(Node::new(Op::Add).with_imm(4).with_label("i"));
    let n1 = k.add_node(
        Node::new(Op::Load {
            width: Width::Word,
            signed: true,
        })
        .with_array(0),
    );
    let n2 = k.add_node(Node::new(Op::Input(0)));
    let n3 = k.add_node(Node::new(Op::Mul));
    let n4 = k.add_node(
        Node::new(Op::Store { width: Width::Word })
            .with_imm(32)
            .with_array(1),
    );
    let n5 = k.add_node(Node::new(Op::Add).with_label("sum"));
    let e_i = k.add_edge(n0, n0, Operand::carried(0, 1, -4));
    let e_ld = k.add_edge(n0, n1, Operand::data(0));
    let _e_k = k.add_edge(n2, n3, Operand::data(1));
    let e_mul = k.add_edge(n1, n3, Operand::data(0));
    let e_addr = k.add_edge(n0, n4, Operand::data(0));
    let e_val = k.add_edge(n3, n4, Operand::data(1));
    let e_sum = k.add_edge(n5, n5, Operand::carried(0, 1, 0));
    let e_ms = k.add_edge(n3, n5, Operand::data(1));
    k.live_outs.push(LiveOut {
        name: "sum".into(),
        node: n5,
        init: 0,
    });
    k.validate().unwrap();
    let arch = CgraSpec::preset("mesh-4x4").unwrap();
    let placements = vec![
        place(1, 0),
        place(0, 1),
        IMM,
        place(4, 2),
        place(0, 3),
        place(5, 4),
    ];
    let r = |e: petgraph::graph::EdgeIndex<u32>, segs: Vec<Segment>| Route {
        edge: e.index() as u32,
        segments: segs,
    };
    let routes = vec![
        r(e_i, vec![seg(3, out(1), &[], opnd(1))]),
        r(e_ld, vec![seg(1, out(1), &[0], opnd(0))]),
        r(e_mul, vec![seg(2, out(0), &[4], opnd(4))]),
        r(e_addr, vec![seg(3, out(1), &[0], opnd(0))]),
        r(e_val, vec![seg(3, out(4), &[0], opnd(0))]),
        r(e_sum, vec![seg(7, out(5), &[], opnd(5))]),
        r(
            e_ms,
            vec![
                seg(3, out(4), &[5], reg(5, 0)),
                seg(4, reg(5, 0), &[], opnd(5)),
            ],
        ),
    ];
    let _ = (n3, n4, NodeId::new(0));
    ScaleAcc {
        m: mapping(k, arch, 3, placements, routes, vec![0, 1]),
        r_mul_sum: 6,
    }
}

#[test]
fn scale_acc_matches_interpreter_on_three_seeds() {
    let sa = scale_acc();
    let sim = Simulator::new(&sa.m).unwrap();
    for seed in [0, 1, 2] {
        let (rep, _) = sim.simulate_seed(seed, false).unwrap();
        assert!(
            rep.verification.matched,
            "seed {seed}: {:?}",
            rep.verification.mismatch
        );
        assert_eq!(rep.verification.live_outs_compared, 1);
        assert_eq!(rep.verification.arrays_compared, 1);
    }
}

#[test]
fn scale_acc_counts_and_energy_equal_hand_computation() {
    let sa = scale_acc();
    let sim = Simulator::new(&sa.m).unwrap();
    let (rep, _) = sim.simulate_seed(7, false).unwrap();
    let s = &rep.stats;
    // (8 - 1) * II 3 + (n5 at cycle 4 + latency 1).
    assert_eq!(s.schedule_cycles, 26);
    assert_eq!(s.stall_cycles, 0);
    assert_eq!(s.ops_issued, 5 * 8);
    assert_eq!(s.ops_squashed, 0);
    // Hops per iteration: n0->n1, n1->n3, n0->n4, n3->n4, n3->n5 = 5.
    assert_eq!(s.link_hops, 40);
    assert_eq!(s.rf_writes, 8);
    assert_eq!(s.rf_reads, 8);
    assert_eq!(s.out_reg_writes, 40);
    assert_eq!(s.loads, 8);
    assert_eq!(s.stores, 8);
    assert_eq!(s.pe_busy_cycles[0], 16);
    assert_eq!(s.pe_busy_cycles[1], 8);
    assert_eq!(s.pe_busy_cycles[2], 0);
    // mesh-4x4 energies: arith 0.1, mul 3.1, load/store 0 (+ mem 5.0 per access), RF read 0.5,
    // RF write 0.6, out-reg 0.2, hop 0.4, config 12 and idle 3 per PE per cycle.
    let ops = 8.0 * 0.1 + 8.0 * 3.1 + 8.0 * 0.1; // 26.4
    let rf = 8.0 * 0.5 + 8.0 * 0.6; // 8.8
    let outr = 40.0 * 0.2; // 8
    let hops = 40.0 * 0.4; // 16
    let mem = 16.0 * 5.0; // 80
    let config = 16.0 * 26.0 * 12.0; // 4992
    let idle = 16.0 * 26.0 * 3.0; // 1248
    let total = ops + rf + outr + hops + mem + config + idle;
    assert!((total - 6379.2f64).abs() < 1e-9);
    let e = &rep.energy;
    assert!((e.ops_pj - ops).abs() < 1e-9, "{e:?}");
    assert!((e.rf_read_pj + e.rf_write_pj - rf).abs() < 1e-9);
    assert!((e.config_pj - config).abs() < 1e-9);
    assert!(
        (e.total_pj - total).abs() < 1e-9,
        "{} vs {total}",
        e.total_pj
    );
    // 26 cycles at 1000 ps = 26 ns; power = pJ / ns = mW.
    assert!((rep.time_ns - 26.0).abs() < 1e-12);
    assert!((rep.power_mw - total / 26.0).abs() < 1e-9);
    assert!((rep.edp_pj_ns - total * 26.0).abs() < 1e-6);
    assert!((rep.utilisation - 40.0 / (16.0 * 26.0)).abs() < 1e-12);
}

#[test]
fn wrong_route_register_is_caught_as_named_mismatch() {
    let mut sa = scale_acc();
    // Read register 1 of PE 5, which nothing writes, instead of register 0.
    sa.m.routes[sa.r_mul_sum].segments[1].from = reg(5, 1);
    let sim = Simulator::new(&sa.m).unwrap();
    let (rep, _) = sim.simulate_seed(3, false).unwrap();
    assert!(!rep.verification.matched);
    let mm = rep.verification.mismatch.unwrap();
    assert!(
        mm.message.starts_with("live-out sum: expected"),
        "{}",
        mm.message
    );
    let p = mm.producer.expect("producer named");
    assert_eq!((p.pe, p.node, p.iteration), (5, 5, 7));
    // Last iteration 7 runs n5 at 7 * 3 + 4.
    assert_eq!(p.cycle, 25);
    assert!(mm.message.contains("PE 5"), "{}", mm.message);
}

#[test]
fn wrong_route_to_array_names_element_and_store() {
    let mut sa = scale_acc();
    // Route the store's value (edge n3 -> n4, route 4) from the loop counter's output
    // register (PE 1) instead of the multiplier's (PE 4): valid links and registers, wrong
    // value. Link 1 -> 0 carries the address in cycle 3, so go through PE 0's register 0.
    sa.m.routes[4].segments = vec![
        seg(2, out(1), &[0], reg(0, 0)),
        seg(3, reg(0, 0), &[], opnd(0)),
    ];
    let sim = Simulator::new(&sa.m).unwrap();
    let (rep, _) = sim.simulate_seed(4, false).unwrap();
    let mm = rep.verification.mismatch.expect("mismatch");
    match &mm.divergence {
        tessera_ir::interp::Divergence::Array { array, index, .. } => {
            assert_eq!(array, "b");
            assert_eq!(*index, 0);
        }
        d => panic!("expected an array divergence, got {d:?}"),
    }
    let p = mm.producer.expect("store named");
    assert_eq!((p.pe, p.node, p.iteration, p.cycle), (0, 4, 0, 3));
    assert!(mm.message.contains("b[0]"), "{}", mm.message);
}

#[test]
fn wrong_slot_is_caught() {
    // Same slot, later stage: the multiply of iteration k now runs in cycle 5 + 3k, where the
    // route of iteration k + 1 drives its port; in the last iteration nothing drives it.
    let mut sa = scale_acc();
    sa.m.placements[3].cycle = 5;
    let sim = Simulator::new(&sa.m).unwrap();
    let err = sim.simulate_seed(0, false).unwrap_err();
    assert!(err.is_run_fault());
    let msg = err.to_string();
    assert!(msg.contains("node 3 (mul)"), "{msg}");
    assert!(
        msg.contains("data operand 0") && msg.contains("not driven"),
        "{msg}"
    );
    assert!(
        msg.contains("cycle 26") && msg.contains("iteration 7"),
        "{msg}"
    );

    // Into an occupied slot: two ops on PE 0 in slot 1.
    let mut sa = scale_acc();
    sa.m.placements[4].cycle = 4;
    let err = Simulator::new(&sa.m).unwrap_err();
    assert!(matches!(err, SimError::Refused { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("PE 0 runs node")
            && msg.contains("node 1 (load)")
            && msg.contains("same slot 1"),
        "{msg}"
    );
}

#[test]
fn structural_problems_are_all_listed() {
    let mut sa = scale_acc();
    sa.m.routes[1].segments[0].path = vec![6]; // 1 -> 6 is diagonal: not a mesh link
    sa.m.routes[6].segments[0].to = reg(5, 9); // rf_size is 4
    sa.m.routes.remove(0); // the loop counter loses its route
    let err = Simulator::new(&sa.m).unwrap_err();
    let SimError::Refused { problems, .. } = &err else {
        panic!("{err}")
    };
    let all = problems.join("\n");
    assert!(all.contains("has no route"), "{all}");
    assert!(all.contains("PE 1 -> PE 6 is not a link"), "{all}");
    assert!(all.contains("Reg(PE 5, r9)"), "{all}");
}

/// `b[i] = a[i] < 0 ? -a[i] : a[i]` with predication and Merge; `neg` counts negatives.
#[allow(clippy::vec_init_then_push)] // numbered edges read better one per line
fn abs_merge() -> Mapping {
    let mut k = Kernel::new("abs_merge", KernelSource::Built);
    k.arrays.push(word_array("a", 6, 0, ArrayDir::In));
    k.arrays.push(word_array("b", 6, 24, ArrayDir::Out));
    k.trip_count = 6;
    let i = k.add_node(Node::new(Op::Add).with_imm(4)); // 0
    let ld = k.add_node(
        Node::new(Op::Load {
            width: Width::Word,
            signed: true,
        })
        .with_array(0),
    ); // 1
    let lt = k.add_node(Node::new(Op::Lt).with_imm(0)); // 2
    let neg = k.add_node(Node::new(Op::Mul).with_imm(-1)); // 3 (pred: lt)
    let pos = k.add_node(Node::new(Op::Move)); // 4 (pred: !lt)
    let mg = k.add_node(Node::new(Op::Merge)); // 5
    let st = k.add_node(
        Node::new(Op::Store { width: Width::Word })
            .with_imm(24)
            .with_array(1),
    ); // 6
    let cnt = k.add_node(Node::new(Op::Add)); // 7
    let mut e = Vec::new();
    e.push(k.add_edge(i, i, Operand::carried(0, 1, -4))); // 0
    e.push(k.add_edge(i, ld, Operand::data(0))); // 1
    e.push(k.add_edge(ld, lt, Operand::data(0))); // 2
    e.push(k.add_edge(ld, neg, Operand::data(0))); // 3
    e.push(k.add_edge(
        lt,
        neg,
        Operand {
            slot: Slot::Pred { negated: false },
            distance: 0,
            init: 0,
        },
    )); // 4
    e.push(k.add_edge(ld, pos, Operand::data(0))); // 5
    e.push(k.add_edge(
        lt,
        pos,
        Operand {
            slot: Slot::Pred { negated: true },
            distance: 0,
            init: 0,
        },
    )); // 6
    e.push(k.add_edge(neg, mg, Operand::data(0))); // 7
    e.push(k.add_edge(pos, mg, Operand::data(1))); // 8
    e.push(k.add_edge(i, st, Operand::data(0))); // 9
    e.push(k.add_edge(mg, st, Operand::data(1))); // 10
    e.push(k.add_edge(cnt, cnt, Operand::carried(0, 1, 0))); // 11
    e.push(k.add_edge(lt, cnt, Operand::data(1))); // 12
    k.live_outs.push(LiveOut {
        name: "negatives".into(),
        node: cnt,
        init: 0,
    });
    k.validate().unwrap();
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    // hycube: 4 hops per cycle. PE 0 mem, PE 1..3 ALUs on row 0, PE 5.. row 1.
    // II 4. i@PE1 c0; ld@PE0 c1; lt@PE2 c2; neg@PE5 c3; pos@PE6 c3; mg@PE1 c4 (slot 0 is
    // taken by i on PE 1 -> use PE 3); st@PE0 c5 (slot 1 taken by ld -> c6, slot 2); cnt@PE7 c3.
    let pl = vec![
        place(1, 0),
        place(0, 1),
        place(2, 2),
        place(5, 3),
        place(6, 3),
        place(3, 4),
        Placement {
            registered: false, // the store's result is unused; PE 0's output keeps the load
            ..place(0, 6)
        },
        place(7, 3),
    ];
    let r = |ei: usize, segs: Vec<Segment>| Route {
        edge: e[ei].index() as u32,
        segments: segs,
    };
    let routes = vec![
        r(0, vec![seg(4, out(1), &[], opnd(1))]),
        r(1, vec![seg(1, out(1), &[0], opnd(0))]),
        r(2, vec![seg(2, out(0), &[1, 2], opnd(2))]),
        // ld result is overwritten? PE 0 runs only ld (slot 1) and st (slot 2): Out(0) holds
        // ld from 2 until st writes at 7; read it at 3.
        r(3, vec![seg(3, out(0), &[4, 5], opnd(5))]),
        r(4, vec![seg(3, out(2), &[6, 5], opnd(5))]),
        r(5, vec![seg(3, out(0), &[4, 5, 6], opnd(6))]),
        r(6, vec![seg(3, out(2), &[6], opnd(6))]),
        r(7, vec![seg(4, out(5), &[6, 7, 3], opnd(3))]),
        r(8, vec![seg(4, out(6), &[2, 3], opnd(3))]),
        // i: Out(1) holds it in 1..4; park it in PE 0's register 0 for the store at 6.
        r(
            9,
            vec![
                seg(4, out(1), &[0], reg(0, 0)),
                seg(6, reg(0, 0), &[], opnd(0)),
            ],
        ),
        r(10, vec![seg(6, out(3), &[2, 1, 0], opnd(0))]),
        r(11, vec![seg(7, out(7), &[], opnd(7))]),
        r(12, vec![seg(3, out(2), &[3, 7], opnd(7))]),
    ];
    mapping(k, arch, 4, pl, routes, vec![0, 1])
}

#[test]
fn predication_and_merge_follow_ir_semantics() {
    let m = abs_merge();
    let sim = Simulator::new(&m).unwrap();
    let mut squashed = 0;
    for seed in [0, 1, 2, 3] {
        let (rep, _) = sim.simulate_seed(seed, false).unwrap();
        assert!(
            rep.verification.matched,
            "seed {seed}: {:?}",
            rep.verification.mismatch
        );
        squashed += rep.stats.ops_squashed;
        // Exactly one of neg/pos is squashed per iteration.
        assert_eq!(rep.stats.ops_squashed, 6);
    }
    assert_eq!(squashed, 24);
}

#[test]
fn bank_conflicts_stall_the_array_without_changing_values() {
    // c[i] = a[i] + b[i]: two loads in the same cycle on PE 0 and PE 4.
    let build = |same_bank: bool| {
        let mut k = Kernel::new("vadd", KernelSource::Built);
        k.arrays.push(word_array("a", 5, 0, ArrayDir::In));
        k.arrays.push(word_array("b", 5, 20, ArrayDir::In));
        k.arrays.push(word_array("c", 5, 40, ArrayDir::Out));
        k.trip_count = 5;
        let ld = |arr: u16, base: i32| {
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_imm(base)
            .with_array(arr)
        };
        let i = k.add_node(Node::new(Op::Add).with_imm(4)); // PE 1 @0
        let la = k.add_node(ld(0, 0)); // PE 0 @1
        let lb = k.add_node(ld(1, 20)); // PE 4 @1
        let add = k.add_node(Node::new(Op::Add)); // PE 5 @2
        let st = k.add_node(
            Node::new(Op::Store { width: Width::Word })
                .with_imm(40)
                .with_array(2),
        ); // PE 8 @3
        let e0 = k.add_edge(i, i, Operand::carried(0, 1, -4));
        let e1 = k.add_edge(i, la, Operand::data(0));
        let e2 = k.add_edge(i, lb, Operand::data(0));
        let e3 = k.add_edge(la, add, Operand::data(0));
        let e4 = k.add_edge(lb, add, Operand::data(1));
        let e5 = k.add_edge(i, st, Operand::data(0));
        let e6 = k.add_edge(add, st, Operand::data(1));
        let arch = CgraSpec::preset("hycube-4x4").unwrap();
        let r = |e: petgraph::graph::EdgeIndex<u32>, segs| Route {
            edge: e.index() as u32,
            segments: segs,
        };
        let routes = vec![
            r(e0, vec![seg(2, out(1), &[], opnd(1))]),
            r(e1, vec![seg(1, out(1), &[0], opnd(0))]),
            r(e2, vec![seg(1, out(1), &[5, 4], opnd(4))]),
            r(e3, vec![seg(2, out(0), &[1, 5], opnd(5))]),
            r(e4, vec![seg(2, out(4), &[5], opnd(5))]),
            r(
                e5,
                vec![
                    seg(1, out(1), &[0, 4, 8], reg(8, 0)),
                    seg(3, reg(8, 0), &[], opnd(8)),
                ],
            ),
            r(e6, vec![seg(3, out(5), &[9, 8], opnd(8))]),
        ];
        let banks = if same_bank {
            vec![0, 0, 1]
        } else {
            vec![0, 1, 2]
        };
        mapping(
            k,
            arch,
            2,
            vec![
                place(1, 0),
                place(0, 1),
                place(4, 1),
                place(5, 2),
                place(8, 3),
            ],
            routes,
            banks,
        )
    };
    let apart = Simulator::new(&build(false))
        .unwrap()
        .simulate_seed(5, false)
        .unwrap()
        .0;
    assert!(
        apart.verification.matched,
        "{:?}",
        apart.verification.mismatch
    );
    assert_eq!((apart.stall_cycles, apart.stats.bank_conflicts), (0, 0));
    let (together, vcd) = Simulator::new(&build(true))
        .unwrap()
        .simulate_seed(5, true)
        .unwrap();
    assert!(
        together.verification.matched,
        "{:?}",
        together.verification.mismatch
    );
    // One conflict (2 accesses, 1 port) per iteration: one stall cycle each.
    assert_eq!(together.stats.bank_conflicts, 5);
    assert_eq!(together.stall_cycles, 5);
    assert_eq!(together.total_cycles, apart.total_cycles + 5);
    assert_eq!(together.stats.bank_accesses[0], 10);
    assert!(together.energy.total_pj > apart.energy.total_pj);
    let vcd = vcd.unwrap();
    assert!(
        vcd.lines().any(|l| l == "1#"),
        "stall signal (id `#`) must rise"
    );
    check_vcd(
        &vcd,
        16,
        CgraSpec::preset("hycube-4x4").unwrap().rf_size.into(),
    );

    // Memory order: store a[i + 1] instead of c[i]. Iteration k + 1 loads a[i + 1] in the
    // very cycle iteration k stores it (loads read first), so the array sees the old value
    // where the interpreter sees the stored one. The kernel states no dependence; the
    // simulator must name the reordered access.
    let mut m = build(false);
    m.kernel.trip_count = 4;
    m.kernel.arrays[0].dir = ArrayDir::InOut;
    let st = petgraph::graph::NodeIndex::new(4);
    m.kernel.graph[st].imm = Some(4);
    m.kernel.graph[st].array = Some(0);
    let rep = Simulator::new(&m)
        .unwrap()
        .simulate_seed(2, false)
        .unwrap()
        .0;
    assert!(rep.stats.memory_order_violations > 0);
    let mm = rep.verification.mismatch.expect("stale loads change a[]");
    assert!(mm.message.contains("a["), "{}", mm.message);
    assert!(
        mm.message.contains("store node 4") && mm.message.contains("after load node 1"),
        "{}",
        mm.message
    );
}

/// Structural VCD check (`vcd::check_structure`: header, scopes, ids, increasing
/// timestamps, typed value changes) plus the signals this simulator declares.
fn check_vcd(vcd: &str, pes: usize, rf: usize) {
    let info = tessera_sim::vcd::check_structure(vcd).unwrap_or_else(|e| panic!("bad VCD: {e}"));
    assert!(vcd.contains("$timescale 1ps $end"));
    // clk, cycle, stall; per PE op, res, out, iter and its register file.
    assert_eq!(info.vars.len(), 3 + (4 + rf) * pes);
    assert!(info.timestamps > 0 && info.changes > info.timestamps);
}

#[test]
fn compose_chain_runs_combinationally_in_one_cycle() {
    // y[i] = (a[i] + 5) * 3, with the add and the multiply chained in one cycle on a composed
    // pair of PEs (PE 1 -> PE 2 via Comb), and the sum carried: s += (a[i] + 5) through a
    // loop-carried combinational read is not used; plain chain.
    let (k, [e0, e1, e2, e3, e4, e5]) = affine_chain_kernel(4);
    let arch = CgraSpec::preset("compose-4x4").unwrap();
    let r = |e: petgraph::graph::EdgeIndex<u32>, segs| Route {
        edge: e.index() as u32,
        segments: segs,
    };
    let mut pl = vec![
        place(1, 0),
        place(0, 1),
        place(4, 2),
        place(5, 2),
        place(4, 3),
    ];
    pl[2].registered = false; // deferred registration: only the chain reads the add
    let routes = vec![
        r(e0, vec![seg(2, out(1), &[], opnd(1))]),
        r(e1, vec![seg(1, out(1), &[0], opnd(0))]),
        r(e2, vec![seg(2, out(0), &[4], opnd(4))]),
        r(e3, vec![seg(2, Loc::Comb { pe: 4 }, &[5], opnd(5))]),
        r(
            e4,
            vec![
                seg(1, out(1), &[0], reg(0, 0)),
                seg(3, reg(0, 0), &[4], opnd(4)),
            ],
        ),
        r(e5, vec![seg(3, out(5), &[4], opnd(4))]),
    ];
    let m = mapping(k, arch, 2, pl, routes, vec![0, 1]);
    let sim = Simulator::new(&m).unwrap();
    for seed in 0..3 {
        let (rep, _) = sim.simulate_seed(seed, false).unwrap();
        assert!(rep.verification.matched, "{:?}", rep.verification.mismatch);
        // Four ops registered per iteration (i, ld, mul, st), the chained add is not.
        assert_eq!(rep.stats.out_reg_writes, 4 * 4);
        assert!(rep.energy.compose_bypass_pj > 0.0);
    }
    // The same mapping on an array without composition is refused.
    let mut m2 = m.clone();
    m2.arch = CgraSpec::preset("mesh-4x4").unwrap();
    let err = Simulator::new(&m2).unwrap_err().to_string();
    assert!(err.contains("composition"), "{err}");
}

#[test]
fn empty_loop_gives_initial_values() {
    let mut sa = scale_acc();
    sa.m.kernel.trip_count = 0;
    let (rep, _) = Simulator::new(&sa.m)
        .unwrap()
        .simulate_seed(1, false)
        .unwrap();
    assert!(rep.verification.matched, "{:?}", rep.verification.mismatch);
    assert_eq!(rep.total_cycles, 0);
    assert_eq!(rep.stats.ops_issued, 0);
}

#[test]
fn report_round_trips_through_json_with_its_version() {
    let mut sa = scale_acc();
    sa.m.routes[sa.r_mul_sum].segments[1].from = reg(5, 1);
    let (rep, _) = Simulator::new(&sa.m)
        .unwrap()
        .simulate_seed(3, false)
        .unwrap();
    let json = serde_json::to_string(&rep).unwrap();
    let back: tessera_sim::SimReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.format_version, tessera_sim::SIM_REPORT_FORMAT_VERSION);
    assert_eq!(back.stats, rep.stats);
    assert_eq!(back.verification, rep.verification);
    assert!(!back.verification.matched);
    // serde_json parses floats to within one ulp.
    assert!((back.energy.total_pj - rep.energy.total_pj).abs() < 1e-9);
    assert!((back.edp_pj_ns - rep.edp_pj_ns).abs() < 1e-6);
}
