//! The heuristic mapper on small kernels built with the IR API: it must reach the MII on
//! easy kernels and every mapping must pass the independent checker.

use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::{Kernel, KernelSource, Node, Op, Operand, Slot, Width};
use tessera_map::check::check;
use tessera_map::heuristic::{MapOptions, map_at_ii};
use tessera_map::mii::analyze;

const LOAD: Op = Op::Load {
    width: Width::Word,
    signed: true,
};
const STORE: Op = Op::Store { width: Width::Word };

/// `c[i] = a[i] + b[i]` with an induction variable `i` (self loop, distance 1).
fn vadd() -> Kernel {
    let mut k = Kernel::new("vadd", KernelSource::Built);
    let i = k.add_node(Node::new(Op::Add).with_imm(4));
    k.add_edge(i, i, Operand::carried(0, 1, 0));
    let la = k.add_node(Node::new(LOAD).with_imm(0));
    k.add_edge(i, la, Operand::data(0));
    let lb = k.add_node(Node::new(LOAD).with_imm(400));
    k.add_edge(i, lb, Operand::data(0));
    let s = k.add_node(Node::new(Op::Add));
    k.add_edge(la, s, Operand::data(0));
    k.add_edge(lb, s, Operand::data(1));
    let st = k.add_node(Node::new(STORE).with_imm(800));
    k.add_edge(i, st, Operand::data(0));
    k.add_edge(s, st, Operand::data(1));
    k.trip_count = 16;
    k
}

/// `acc = acc * x + a[i]` (Horner-like recurrence through two ops) with a constant routed.
fn recurrence() -> Kernel {
    let mut k = Kernel::new("rec", KernelSource::Built);
    let i = k.add_node(Node::new(Op::Add).with_imm(4));
    k.add_edge(i, i, Operand::carried(0, 1, 0));
    let ld = k.add_node(Node::new(LOAD).with_imm(0));
    k.add_edge(i, ld, Operand::data(0));
    let c = k.add_node(Node::new(Op::Const).with_imm(3));
    let m = k.add_node(Node::new(Op::Mul));
    let a = k.add_node(Node::new(Op::Add));
    k.add_edge(a, m, Operand::carried(0, 1, 7));
    k.add_edge(c, m, Operand::data(1));
    k.add_edge(m, a, Operand::data(0));
    k.add_edge(ld, a, Operand::data(1));
    let cmp = k.add_node(Node::new(Op::Gt).with_imm(100));
    k.add_edge(a, cmp, Operand::data(0));
    let st = k.add_node(Node::new(STORE).with_imm(800));
    k.add_edge(i, st, Operand::data(0));
    k.add_edge(a, st, Operand::data(1));
    k.add_edge(
        cmp,
        st,
        Operand {
            slot: Slot::Pred { negated: false },
            distance: 0,
            init: 0,
        },
    );
    k.trip_count = 16;
    k
}

/// A wide tree: `n` loads summed pairwise, the sum stored.
fn tree(n: usize) -> Kernel {
    let mut k = Kernel::new("tree", KernelSource::Built);
    let i = k.add_node(Node::new(Op::Add).with_imm(4));
    k.add_edge(i, i, Operand::carried(0, 1, 0));
    let mut level: Vec<_> = (0..n)
        .map(|j| {
            let ld = k.add_node(Node::new(LOAD).with_imm(64 * j as i32));
            k.add_edge(i, ld, Operand::data(0));
            ld
        })
        .collect();
    while level.len() > 1 {
        let mut next = Vec::new();
        for pair in level.chunks(2) {
            if pair.len() == 2 {
                let a = k.add_node(Node::new(Op::Add));
                k.add_edge(pair[0], a, Operand::data(0));
                k.add_edge(pair[1], a, Operand::data(1));
                next.push(a);
            } else {
                next.push(pair[0]);
            }
        }
        level = next;
    }
    let st = k.add_node(Node::new(STORE).with_imm(2000));
    k.add_edge(i, st, Operand::data(0));
    k.add_edge(level[0], st, Operand::data(1));
    k.trip_count = 8;
    k
}

fn map_at_mii(k: &Kernel, arch: &str) -> (u32, tessera_map::Mapping) {
    let spec = CgraSpec::preset(arch).unwrap();
    let mii = analyze(k, &spec).unwrap().mii;
    let opts = MapOptions::default();
    for ii in mii..mii + 3 {
        if let Ok(m) = map_at_ii(k, &spec, ii, &opts) {
            return (mii, m);
        }
    }
    panic!("{} did not map on {arch} at II {mii}..{}", k.name, mii + 2);
}

#[test]
fn small_kernels_map_at_mii_on_every_preset() {
    for arch in ["hycube-4x4", "mesh-4x4", "mesh-8x8", "torus-8x8"] {
        for k in [vadd(), recurrence(), tree(6)] {
            let (mii, m) = map_at_mii(&k, arch);
            // At MII on the multi-hop array; on 1-hop meshes a 7-way fan-out at II 1 may
            // need one more cycle.
            if arch == "hycube-4x4" {
                assert_eq!(m.ii, mii, "{} on {arch}", k.name);
            } else {
                assert!(
                    m.ii <= mii + 1,
                    "{} on {arch}: II {} vs MII {mii}",
                    k.name,
                    m.ii
                );
            }
            if let Err(v) = check(&m) {
                panic!(
                    "{} on {arch}: checker rejects: {:?}",
                    k.name,
                    v.iter().map(|x| x.to_string()).collect::<Vec<_>>()
                );
            }
            assert_eq!(m.placements.len(), k.node_count());
            let value_edges = k
                .graph
                .edge_indices()
                .filter(|e| {
                    let (s, _) = k.graph.edge_endpoints(*e).unwrap();
                    k.graph[*e].carries_value() && m.placements[s.index()].pe.is_some()
                })
                .count();
            assert_eq!(m.routes.len(), value_edges, "{} on {arch}", k.name);
            for r in &m.routes {
                assert!(matches!(
                    r.segments.last().unwrap().to,
                    tessera_map::Loc::Operand { .. }
                ));
            }
        }
    }
}

#[test]
fn ii_below_recurrence_bound_is_refused_with_a_reason() {
    let spec = CgraSpec::preset("hycube-4x4").unwrap();
    // acc -> mul -> add -> acc: 2 cycles per iteration, so II 1 is impossible.
    let e = map_at_ii(&recurrence(), &spec, 1, &MapOptions::default()).unwrap_err();
    assert!(e.contains("recurrence"), "{e}");
}

#[test]
fn long_lived_values_use_register_files_and_rotate_safely() {
    // A value consumed 3 iterations later (distance 3) must outlive II cycles: it cannot
    // stay in one register of the producer longer than II, so the route moves it.
    let mut k = Kernel::new("longlived", KernelSource::Built);
    let i = k.add_node(Node::new(Op::Add).with_imm(4));
    k.add_edge(i, i, Operand::carried(0, 1, 0));
    let ld = k.add_node(Node::new(LOAD).with_imm(0));
    k.add_edge(i, ld, Operand::data(0));
    let sub = k.add_node(Node::new(Op::Sub));
    k.add_edge(ld, sub, Operand::data(0));
    k.add_edge(ld, sub, Operand::carried(1, 3, 5));
    let st = k.add_node(Node::new(STORE).with_imm(800));
    k.add_edge(i, st, Operand::data(0));
    k.add_edge(sub, st, Operand::data(1));
    k.trip_count = 16;
    for arch in ["hycube-4x4", "mesh-4x4"] {
        let (mii, m) = map_at_mii(&k, arch);
        assert_eq!(m.ii, mii);
        check(&m).unwrap_or_else(|v| {
            panic!(
                "{arch}: {:?}",
                v.iter().map(|x| x.to_string()).collect::<Vec<_>>()
            )
        });
        let carried = m
            .routes
            .iter()
            .find(|r| k.graph[petgraph::graph::EdgeIndex::new(r.edge as usize)].distance == 3)
            .unwrap();
        let first = carried.segments.first().unwrap().cycle;
        let last = carried.segments.last().unwrap().cycle;
        assert!(
            last - first >= 3 * m.ii - 2,
            "route spans {first}..{last} at II {}",
            m.ii
        );
        assert!(
            carried.segments.len() >= 2,
            "a value living {} cycles at II {} must move",
            last - first,
            m.ii
        );
    }
}

#[test]
fn memory_ops_sit_on_memory_pes_and_arrays_spread_over_banks() {
    // Two arrays, two accesses each: with one single-port bank per array they fit II 2;
    // in one bank they would need II 4.
    let mut k = Kernel::new("banks", KernelSource::Built);
    for a in 0..2u16 {
        k.arrays.push(tessera_ir::ArrayDecl {
            name: format!("a{a}"),
            width: Width::Word,
            signed: true,
            len: 16,
            base: 64 * a as u32,
            dir: tessera_ir::ArrayDir::InOut,
            init_range: None,
            elem: Default::default(),
        });
    }
    let i = k.add_node(Node::new(Op::Add).with_imm(4));
    k.add_edge(i, i, Operand::carried(0, 1, 0));
    for a in 0..2u16 {
        let ld = k.add_node(Node::new(LOAD).with_imm(64 * a as i32).with_array(a));
        k.add_edge(i, ld, Operand::data(0));
        let inc = k.add_node(Node::new(Op::Add).with_imm(1));
        k.add_edge(ld, inc, Operand::data(0));
        let st = k.add_node(Node::new(STORE).with_imm(64 * a as i32).with_array(a));
        k.add_edge(i, st, Operand::data(0));
        k.add_edge(inc, st, Operand::data(1));
    }
    k.trip_count = 16;
    let spec = CgraSpec::preset("hycube-4x4").unwrap();
    let m = map_at_ii(&k, &spec, 2, &MapOptions::default()).unwrap();
    check(&m).unwrap();
    assert_ne!(m.array_banks[0], m.array_banks[1]);
    for (v, node) in k.nodes() {
        if node.op.is_memory() {
            let pe = m.placements[v.index()].pe.unwrap();
            assert_eq!(pe % 4, 0, "memory op on PE {pe}, outside the left column");
        }
    }
    // One bank cannot serve 4 accesses at II 3: the reason names bank ports.
    let mut spec1 = spec.clone();
    spec1.memory.banks.truncate(1);
    let e = map_at_ii(&k, &spec1, 3, &MapOptions::default()).unwrap_err();
    assert!(e.contains("bank ports"), "{e}");
}
