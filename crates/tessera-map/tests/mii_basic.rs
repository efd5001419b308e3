//! MII values of small kernels built with the IR API, computed by hand in each test.

use tessera_arch::Spec;
use tessera_arch::cgra::{CgraSpec, PeKind};
use tessera_ir::{Kernel, KernelSource, Node, NodeId, Op, OpClass, Operand, Slot, Width};
use tessera_map::error::MapError;
use tessera_map::mii::analyze;

fn hycube() -> CgraSpec {
    CgraSpec::preset("hycube-4x4").unwrap()
}

const LOAD: Op = Op::Load {
    width: Width::Word,
    signed: true,
};
const STORE: Op = Op::Store { width: Width::Word };

fn order(distance: u32) -> Operand {
    Operand {
        slot: Slot::Order,
        distance,
        init: 0,
    }
}

/// `n` independent loads from immediate addresses, each added to a constant, and the sums
/// stored: n loads + n adds + n stores.
fn streaming(n: usize) -> Kernel {
    let mut k = Kernel::new("stream", KernelSource::Built);
    for i in 0..n {
        let ld = k.add_node(Node::new(LOAD).with_imm(4 * i as i32));
        let add = k.add_node(Node::new(Op::Add).with_imm(1));
        k.add_edge(ld, add, Operand::data(0));
        let st = k.add_node(Node::new(STORE).with_imm(400 + 4 * i as i32));
        k.add_edge(add, st, Operand::data(0));
    }
    k
}

#[test]
fn memory_ops_are_bound_by_the_four_left_column_pes() {
    // 5 loads + 5 stores = 10 memory ops on 4 memory PEs: ceil(10/4) = 3.
    // 5 adds + 10 memory ops = 15 FU ops on 16 PEs: 1. No recurrence.
    let r = analyze(&streaming(5), &hycube()).unwrap();
    assert_eq!(r.res_mii, 3);
    assert_eq!(r.rec_mii, 0);
    assert_eq!(r.mii, 3);
    let mem = r
        .per_class
        .iter()
        .find(|l| l.resource == "memory (load+store)")
        .unwrap();
    assert_eq!((mem.ops, mem.units, mem.mii), (10, 4, 3));
    let load = r.per_class.iter().find(|l| l.resource == "load").unwrap();
    assert_eq!((load.ops, load.units, load.mii), (5, 4, 2));
    let ports = r
        .per_class
        .iter()
        .find(|l| l.resource.starts_with("bank ports"))
        .unwrap();
    assert_eq!((ports.units, ports.mii), (4, 3));
    assert!(r.explain(&streaming(5)).contains("<- ResMII"));
}

#[test]
fn alu_ops_share_all_sixteen_pes() {
    // 1 load + 1 add + 1 store per lane, 8 lanes: 24 FU ops / 16 PEs = 2; memory 16/4 = 4.
    let r = analyze(&streaming(8), &hycube()).unwrap();
    let all = r
        .per_class
        .iter()
        .find(|l| l.resource == "all FU ops")
        .unwrap();
    assert_eq!((all.ops, all.units, all.mii), (24, 16, 2));
    assert_eq!(r.res_mii, 4);
    // On mesh-8x8 the 8 left-column PEs reach memory: ceil(16/8) = 2.
    let r8 = analyze(&streaming(8), &CgraSpec::preset("mesh-8x8").unwrap()).unwrap();
    assert_eq!(r8.res_mii, 2);
}

#[test]
fn consts_and_inputs_are_not_counted() {
    let mut k = Kernel::new("c", KernelSource::Built);
    let mut prev: Option<NodeId> = None;
    for i in 0..40 {
        let c = k.add_node(Node::new(Op::Const).with_imm(i));
        if let Some(p) = prev {
            let a = k.add_node(Node::new(Op::Add));
            k.add_edge(p, a, Operand::data(0));
            k.add_edge(c, a, Operand::data(1));
            prev = Some(a);
        } else {
            prev = Some(c);
        }
    }
    // 39 adds on 16 PEs: ceil(39/16) = 3 (the 40 consts are immediates).
    let r = analyze(&k, &hycube()).unwrap();
    assert_eq!(r.fu_ops, 39);
    assert_eq!(r.res_mii, 3);
}

#[test]
fn subset_bound_beats_every_single_class() {
    // A made-up array: 4 PEs run load and mul only, 12 PEs run arith only.
    // 4 loads + 4 muls: load 4/4 = 1, mul 4/4 = 1, all FU ops 8/16 = 1,
    // but {load, mul} together have only the 4 PEs: 8/4 = 2.
    let mut arch = hycube();
    arch.pe_kinds.insert(
        'M',
        PeKind {
            name: "mem+mul".into(),
            classes: vec![OpClass::Const, OpClass::Load, OpClass::Mul],
        },
    );
    arch.pe_kinds.insert(
        'A',
        PeKind {
            name: "alu".into(),
            classes: vec![OpClass::Const, OpClass::Arith],
        },
    );
    arch.validate().unwrap();
    let mut k = Kernel::new("lm", KernelSource::Built);
    for i in 0..4 {
        let ld = k.add_node(Node::new(LOAD).with_imm(4 * i));
        let m = k.add_node(Node::new(Op::Mul).with_imm(3));
        k.add_edge(ld, m, Operand::data(0));
    }
    let r = analyze(&k, &arch).unwrap();
    assert_eq!(r.res_mii, 2);
    let binding = r.per_class.iter().find(|l| l.mii == 2).unwrap();
    assert_eq!(binding.classes, vec![OpClass::Mul, OpClass::Load]);
}

/// A cycle of `len` adds closed by one edge of distance `d`.
fn ring(len: usize, d: u32) -> (Kernel, Vec<NodeId>) {
    let mut k = Kernel::new("ring", KernelSource::Built);
    let nodes: Vec<NodeId> = (0..len)
        .map(|i| k.add_node(Node::new(Op::Add).with_imm(i as i32)))
        .collect();
    for w in nodes.windows(2) {
        k.add_edge(w[0], w[1], Operand::data(0));
    }
    k.add_edge(nodes[len - 1], nodes[0], Operand::carried(0, d, 0));
    (k, nodes)
}

#[test]
fn recurrence_mii_is_latency_over_distance() {
    // 3 single-cycle adds around a distance-1 edge: RecMII 3; distance 2: ceil(3/2) = 2.
    let (k, nodes) = ring(3, 1);
    let r = analyze(&k, &hycube()).unwrap();
    assert_eq!(r.rec_mii, 3);
    assert_eq!(r.mii, 3);
    let c = r.critical.clone().unwrap();
    assert_eq!(
        c.nodes,
        nodes.iter().map(|n| n.index() as u32).collect::<Vec<_>>()
    );
    assert_eq!((c.latency_cycles, c.distance, c.mii), (3, 1, 3));
    assert_eq!(r.recurrences_found, 1);
    let (k2, _) = ring(3, 2);
    assert_eq!(analyze(&k2, &hycube()).unwrap().rec_mii, 2);
    // Self loop (an accumulator): 1.
    let (k3, _) = ring(1, 1);
    assert_eq!(analyze(&k3, &hycube()).unwrap().rec_mii, 1);
}

#[test]
fn critical_recurrence_is_the_worst_of_several() {
    // Ring A: 2 adds, distance 1 -> 2. Ring B: 5 adds, distance 2 -> 3. Joined by a
    // forward edge (no new cycle). RecMII 3, critical = ring B.
    let (mut k, a) = ring(2, 1);
    let b: Vec<NodeId> = (0..5)
        .map(|_| k.add_node(Node::new(Op::Add).with_imm(1)))
        .collect();
    for w in b.windows(2) {
        k.add_edge(w[0], w[1], Operand::data(0));
    }
    k.add_edge(b[4], b[0], Operand::carried(0, 2, 0));
    k.add_edge(a[1], b[2], Operand::data(1));
    let r = analyze(&k, &hycube()).unwrap();
    assert_eq!(r.rec_mii, 3);
    assert_eq!(r.recurrences_found, 2);
    assert_eq!(r.recurrences[0].mii, 3);
    assert_eq!(r.recurrences[1].mii, 2);
    let c = r.critical.unwrap();
    assert_eq!(c.nodes.len(), 5);
    assert_eq!(c.nodes[0], b[0].index() as u32);
    assert_eq!(c.distance, 2);
}

#[test]
fn order_edges_weigh_one_after_a_store_else_zero() {
    // load -> add -> store (values), store -order d=1-> load: 1 + 1 + 1 = 3.
    let mut k = Kernel::new("mem", KernelSource::Built);
    let ld = k.add_node(Node::new(LOAD).with_imm(0));
    let add = k.add_node(Node::new(Op::Add).with_imm(1));
    let st = k.add_node(Node::new(STORE).with_imm(0));
    k.add_edge(ld, add, Operand::data(0));
    k.add_edge(add, st, Operand::data(0));
    k.add_edge(st, ld, order(1));
    assert_eq!(analyze(&k, &hycube()).unwrap().rec_mii, 3);
    // load -order-> store (d=0) and store -order-> load (d=1): 0 + 1 = 1.
    let mut k = Kernel::new("mem2", KernelSource::Built);
    let ld = k.add_node(Node::new(LOAD).with_imm(0));
    let st = k.add_node(Node::new(STORE).with_imm(8));
    let c = k.add_node(Node::new(Op::Const).with_imm(1));
    k.add_edge(c, st, Operand::data(0));
    k.add_edge(ld, st, order(0));
    k.add_edge(st, ld, order(1));
    let r = analyze(&k, &hycube()).unwrap();
    assert_eq!(r.rec_mii, 1);
    assert_eq!(r.critical.unwrap().latency_cycles, 1);
}

#[test]
fn compose_counts_recurrence_time_in_picoseconds() {
    // compose-4x4: budget per cycle = 1000 - 35 (setup) - 50 (clk-to-q) = 915 ps.
    // add(200) -> mul(550) -> add(200) around distance 1: 950 ps -> 2 cycles (3 without).
    let mut k = Kernel::new("cmp", KernelSource::Built);
    let a = k.add_node(Node::new(Op::Add).with_imm(1));
    let m = k.add_node(Node::new(Op::Mul).with_imm(3));
    let b = k.add_node(Node::new(Op::Add).with_imm(1));
    k.add_edge(a, m, Operand::data(0));
    k.add_edge(m, b, Operand::data(0));
    k.add_edge(b, a, Operand::carried(0, 1, 0));
    let compose = CgraSpec::preset("compose-4x4").unwrap();
    let r = analyze(&k, &compose).unwrap();
    assert!(r.compose);
    assert_eq!(r.rec_mii, 2);
    assert_eq!(r.critical.unwrap().delay_ps, 950);
    let mut off = compose.clone();
    off.compose.enabled = false;
    off.compose.max_virtual_pe = 1;
    assert_eq!(analyze(&k, &off).unwrap().rec_mii, 3);
    // Two adds (400 ps) fit one cycle.
    let (k2, _) = ring(2, 1);
    assert_eq!(analyze(&k2, &compose).unwrap().rec_mii, 1);
}

#[test]
fn unsupported_op_is_a_typed_error() {
    let mut k = Kernel::new("div", KernelSource::Built);
    let a = k.add_node(Node::new(Op::Input(0)));
    let d = k.add_node(Node::new(Op::Div).with_imm(3));
    k.add_edge(a, d, Operand::data(0));
    match analyze(&k, &hycube()) {
        Err(MapError::Unsupported { node, op, reason }) => {
            assert_eq!(node, 1);
            assert_eq!(op, "div");
            assert!(reason.contains("div"), "{reason}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn many_cycles_enumeration_is_bounded_but_rec_mii_exact() {
    // A ladder: v0 .. v20, each step v_i -> v_{i+1} directly and through m_i; back edge
    // v20 -> v0 with distance 1. 2^20 elementary cycles; the longest goes through every
    // m_i: 2*20 + 1 = 41 single-cycle edges.
    let k_steps = 20;
    let mut k = Kernel::new("ladder", KernelSource::Built);
    let v: Vec<NodeId> = (0..=k_steps)
        .map(|_| k.add_node(Node::new(Op::Add).with_imm(1)))
        .collect();
    for i in 0..k_steps {
        let m = k.add_node(Node::new(Op::Move));
        k.add_edge(v[i], m, Operand::data(0));
        k.add_edge(m, v[i + 1], Operand::data(0));
        k.add_edge(v[i], v[i + 1], Operand::data(1));
    }
    k.add_edge(v[k_steps], v[0], Operand::carried(1, 1, 0));
    let r = analyze(&k, &CgraSpec::preset("mesh-8x8").unwrap()).unwrap();
    assert_eq!(r.rec_mii, 41);
    assert!(r.recurrences_truncated);
    let c = r.critical.unwrap();
    assert_eq!((c.latency_cycles, c.distance, c.nodes.len()), (41, 1, 41));
}

#[test]
fn hundreds_of_nodes_and_cycles() {
    // 300 rings of 2..=4 adds, distance 1 each, chained forward: RecMII 4, ResMII ceil(900/64).
    let mut k = Kernel::new("big", KernelSource::Built);
    let mut prev: Option<NodeId> = None;
    let mut count = 0;
    for i in 0..300 {
        let len = 2 + i % 3;
        let nodes: Vec<NodeId> = (0..len)
            .map(|_| k.add_node(Node::new(Op::Add).with_imm(1)))
            .collect();
        count += len;
        for w in nodes.windows(2) {
            k.add_edge(w[0], w[1], Operand::data(0));
        }
        k.add_edge(nodes[len - 1], nodes[0], Operand::carried(1, 1, 0));
        if let Some(p) = prev {
            k.add_edge(p, nodes[0], Operand::data(1));
        }
        prev = Some(nodes[len - 1]);
    }
    let r = analyze(&k, &CgraSpec::preset("mesh-8x8").unwrap()).unwrap();
    assert_eq!(count, 900);
    assert_eq!(r.rec_mii, 4);
    assert_eq!(r.res_mii, 900u32.div_ceil(64));
    assert_eq!(r.recurrences_found, 300);
    assert_eq!(r.mii, 15);
    let json = serde_json::to_string(&r).unwrap();
    let back: tessera_map::mii::MiiReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn one_array_lives_in_one_single_port_bank() {
    // 7 loads of array `x` and 2 stores to array `y`: 9 memory ops / 4 PEs = 3, but `x`
    // sits in one bank with 1 port: 7 accesses need II >= 7.
    let mut k = Kernel::new("arr", KernelSource::Built);
    for (name, base) in [("x", 0u32), ("y", 256)] {
        k.arrays.push(tessera_ir::ArrayDecl {
            name: name.into(),
            width: Width::Word,
            signed: true,
            len: 16,
            base,
            dir: tessera_ir::ArrayDir::InOut,
            init_range: None,
            elem: Default::default(),
        });
    }
    for i in 0..7 {
        k.add_node(Node::new(LOAD).with_imm(4 * i).with_array(0));
    }
    for i in 0..2 {
        let c = k.add_node(Node::new(Op::Const).with_imm(i));
        let st = k.add_node(Node::new(STORE).with_imm(256 + 4 * i).with_array(1));
        k.add_edge(c, st, Operand::data(0));
    }
    let r = analyze(&k, &hycube()).unwrap();
    let line = r
        .per_class
        .iter()
        .find(|l| l.resource == "bank ports of array `x`")
        .unwrap();
    assert_eq!((line.ops, line.units, line.mii), (7, 1, 7));
    assert_eq!(r.res_mii, 7);
}

/// x * y + z, x, y, z constants: one FMul, one FAdd (and `div` adds an FDiv of the sum).
fn float_kernel(div: bool) -> Kernel {
    let mut k = Kernel::new("float", KernelSource::Built);
    let c = |k: &mut Kernel, v: f32| k.add_node(Node::new(Op::Const).with_imm(v.to_bits() as i32));
    let (x, y, z) = (c(&mut k, 1.5), c(&mut k, 2.0), c(&mut k, 0.25));
    let m = k.add_node(Node::new(Op::FMul));
    k.add_edge(x, m, Operand::data(0));
    k.add_edge(y, m, Operand::data(1));
    let a = k.add_node(Node::new(Op::FAdd));
    k.add_edge(m, a, Operand::data(0));
    k.add_edge(z, a, Operand::data(1));
    if div {
        let d = k.add_node(Node::new(Op::FDiv));
        k.add_edge(a, d, Operand::data(0));
        k.add_edge(z, d, Operand::data(1));
    }
    k
}

#[test]
fn a_spec_without_fp_units_refuses_a_float_kernel_naming_op_and_class() {
    let e = analyze(&float_kernel(false), &hycube()).unwrap_err();
    let MapError::Unsupported { op, reason, .. } = &e else {
        panic!("{e}");
    };
    assert_eq!(op, "fmul");
    assert!(
        reason.contains("`fp_mul`")
            && reason.contains("no floating-point unit")
            && reason.contains("hycube-4x4-fp"),
        "{reason}"
    );
    // On the FP preset the same kernel is fine; its FP ops take the preset's 3 cycles.
    let fp = CgraSpec::preset("hycube-4x4-fp").unwrap();
    let r = analyze(&float_kernel(false), &fp).unwrap();
    assert_eq!(r.mii, 1);
    assert_eq!(fp.op_cost(OpClass::FpAdd).unwrap().latency_cycles, 3);
    // It has no divider: fdiv is refused, naming what the PEs do have.
    let e = analyze(&float_kernel(true), &fp).unwrap_err();
    let MapError::Unsupported { op, reason, .. } = &e else {
        panic!("{e}");
    };
    assert_eq!(op, "fdiv");
    assert!(
        reason.contains("`fp_div`") && reason.contains("only fp_add, fp_mul"),
        "{reason}"
    );
}
