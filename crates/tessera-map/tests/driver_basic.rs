//! The driver: MII first, then II upwards; every mapping it returns passes the checker;
//! infeasible IIs come back with reasons; results depend only on the seed.

use proptest::prelude::*;
use std::path::Path;
use tessera_arch::Spec;
use tessera_arch::cgra::{BankSpec, CgraSpec, Topology};
use tessera_ir::{ArrayDecl, ArrayDir, Kernel, KernelSource, Node, Op, Operand, Slot, Width};
use tessera_map::check::check;
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_map::error::MapError;

fn quick_opts() -> MapOptions {
    MapOptions {
        time_limit_s: 60.0,
        ..MapOptions::default()
    }
}

#[test]
fn workload_kernels_map_near_mii_and_pass_the_checker() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels");
    let spec = CgraSpec::preset("hycube-4x4").unwrap();
    let mut mapped = 0;
    // Small kernels only: debug builds are slow; the suite covers the rest in release.
    for name in [
        "dot",
        "horner",
        "histogram",
        "prefix_sum",
        "saxpy",
        "minmax",
        "iir_biquad",
    ] {
        let path = dir.join(format!("{name}.tk"));
        let Ok(k) = tessera_ir::load_kernel(&path, &[]) else {
            continue; // the kernel language is built by another engineer
        };
        let out = map_kernel(&k, &spec, &quick_opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
        check(&out.mapping).unwrap();
        assert!(
            out.mapping.ii <= out.mii.mii + 1,
            "{name}: II {} vs MII {}",
            out.mapping.ii,
            out.mii.mii
        );
        assert_eq!(out.mapping.provenance.mii, out.mii.mii);
        assert_eq!(out.mapping.provenance.failed_iis, out.failed_iis);
        assert_eq!(
            out.failed_iis.len() as u32,
            out.mapping.ii - out.mii.mii.max(1)
        );
        mapped += 1;
    }
    assert!(mapped >= 1 || !dir.join("dot.tk").exists());
}

fn accumulate() -> Kernel {
    // acc = acc + (a[i] * 3): an accumulation recurrence of one op.
    let mut k = Kernel::new("acc", KernelSource::Built);
    let i = k.add_node(Node::new(Op::Add).with_imm(4));
    k.add_edge(i, i, Operand::carried(0, 1, 0));
    let ld = k.add_node(
        Node::new(Op::Load {
            width: Width::Word,
            signed: true,
        })
        .with_imm(0),
    );
    k.add_edge(i, ld, Operand::data(0));
    let m = k.add_node(Node::new(Op::Mul).with_imm(3));
    k.add_edge(ld, m, Operand::data(0));
    let acc = k.add_node(Node::new(Op::Add));
    k.add_edge(acc, acc, Operand::carried(0, 1, 0));
    k.add_edge(m, acc, Operand::data(1));
    k.live_outs.push(tessera_ir::LiveOut {
        name: "acc".into(),
        node: acc,
        init: 0,
    });
    k.trip_count = 10;
    k
}

#[test]
fn same_seed_same_mapping_and_fixed_ii_is_honoured() {
    let spec = CgraSpec::preset("mesh-4x4").unwrap();
    let k = accumulate();
    let a = map_kernel(&k, &spec, &quick_opts()).unwrap();
    let b = map_kernel(&k, &spec, &quick_opts()).unwrap();
    assert_eq!(a.mapping.placements, b.mapping.placements);
    assert_eq!(a.mapping.routes, b.mapping.routes);
    let fixed = MapOptions {
        fixed_ii: Some(a.mapping.ii + 2),
        ..quick_opts()
    };
    let c = map_kernel(&k, &spec, &fixed).unwrap();
    assert_eq!(c.mapping.ii, a.mapping.ii + 2);
    check(&c.mapping).unwrap();
}

#[test]
fn ii_above_the_configuration_depth_is_infeasible_with_a_reason() {
    let mut spec = CgraSpec::preset("hycube-4x4").unwrap();
    // 5 loads on 4 memory PEs need II 2; a configuration memory of depth 1 cannot hold it.
    let mut k = Kernel::new("five", KernelSource::Built);
    for j in 0..5 {
        let ld = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_imm(4 * j),
        );
        let st = k.add_node(Node::new(Op::Store { width: Width::Word }).with_imm(100 + 4 * j));
        k.add_edge(ld, st, Operand::data(0));
    }
    spec.max_ii = 1;
    match map_kernel(&k, &spec, &quick_opts()) {
        Err(MapError::Infeasible { reasons, .. }) => {
            assert!(!reasons.is_empty());
            assert!(reasons[0].1.contains("exceeds"), "{reasons:?}");
        }
        other => panic!("expected Infeasible, got {other:?}"),
    }
}

/// A small array: `rows x cols`, left column memory-capable, `banks` single-port banks.
fn small_array(rows: u16, cols: u16, hops: u16, rf: u16, topo: Topology, banks: usize) -> CgraSpec {
    let mut s = CgraSpec::preset("mesh-4x4").unwrap();
    s.name = format!("test-{rows}x{cols}");
    s.rows = rows;
    s.cols = cols;
    s.layout = (0..rows)
        .map(|_| std::iter::once('M').chain((1..cols).map(|_| 'A')).collect())
        .collect();
    s.memory.banks = (0..banks)
        .map(|_| BankSpec {
            size_bytes: 4096,
            ports: 1,
            pes: (0..rows).map(|r| (r, 0)).collect(),
        })
        .collect();
    s.interconnect.topology = topo;
    s.interconnect.max_hops_per_cycle = hops;
    s.rf_size = rf;
    s.max_ii = 12;
    s.validate().unwrap_or_else(|e| panic!("{e:?}"));
    s
}

/// A random valid kernel: every data operand comes from an earlier node (distance 0) or
/// from any node one or two iterations back; some predicates and memory order edges.
fn random_kernel(choices: &[(u8, u8, u8, u8)]) -> Kernel {
    let mut k = Kernel::new("random", KernelSource::Built);
    for a in 0..2u32 {
        k.arrays.push(ArrayDecl {
            name: format!("a{a}"),
            width: Width::Word,
            signed: true,
            len: 16,
            base: 64 * a,
            dir: ArrayDir::InOut,
            init_range: None,
            elem: Default::default(),
        });
    }
    let mut nodes = Vec::new();
    let mut last_mem = None;
    for (i, &(op, x, y, z)) in choices.iter().enumerate() {
        let pick = |r: u8, k: &Kernel| -> (usize, u32) {
            if i == 0 || r.is_multiple_of(5) {
                ((r as usize / 5) % k.node_count().max(1), 1 + (r as u32 % 2))
            } else {
                (r as usize % i, 0)
            }
        };
        let (node, arity) = match op % 9 {
            0 => (Node::new(Op::Const).with_imm(x as i32), 0),
            1 => (Node::new(Op::Add), 2),
            2 => (Node::new(Op::Mul), 2),
            3 => (Node::new(Op::Xor).with_imm(7), 1),
            4 => (Node::new(Op::Select), 3),
            5 => (Node::new(Op::Lt), 2),
            6 => (
                Node::new(Op::Load {
                    width: Width::Word,
                    signed: true,
                })
                .with_imm(0)
                .with_array((x % 2) as u16),
                1,
            ),
            7 => (
                Node::new(Op::Store { width: Width::Word })
                    .with_imm(0)
                    .with_array((x % 2) as u16),
                2,
            ),
            _ => (Node::new(Op::Shl).with_imm(2), 1),
        };
        let is_mem = node.op.is_memory();
        let id = k.add_node(node);
        for (slot, r) in [x, y, z].into_iter().take(arity).enumerate() {
            let (src, d) = pick(r, &k);
            // Carried operands may come from any node, including this one (a self loop).
            let src = if src < nodes.len() { nodes[src] } else { id };
            k.add_edge(src, id, Operand::carried(slot as u8, d, 0));
        }
        if z.is_multiple_of(7) && i > 0 {
            k.add_edge(
                nodes[(z as usize) % i],
                id,
                Operand {
                    slot: Slot::Pred {
                        negated: z.is_multiple_of(2),
                    },
                    distance: 0,
                    init: 0,
                },
            );
        }
        if is_mem {
            if let Some(prev) = last_mem {
                k.add_edge(
                    prev,
                    id,
                    Operand {
                        slot: Slot::Order,
                        distance: 0,
                        init: 0,
                    },
                );
            }
            last_mem = Some(id);
        }
        nodes.push(id);
    }
    k.trip_count = 8;
    k
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_dfgs_on_random_arrays_map_correctly_or_say_why_not(
        choices in prop::collection::vec((0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255), 2..14),
        rows in 2u16..=4,
        cols in 2u16..=4,
        hops in 1u16..=3,
        rf in 1u16..=4,
        topo in prop::sample::select(vec![Topology::Mesh, Topology::MeshDiagonal, Topology::Torus]),
        banks in 1usize..=3,
        seed in 0u64..1000,
    ) {
        let k = random_kernel(&choices);
        prop_assume!(k.validate().is_ok());
        let spec = small_array(rows, cols, hops, rf, topo, banks);
        let opts = MapOptions { seed, time_limit_s: 60.0, attempts_per_ii: 3, negotiation_rounds: 20, ..MapOptions::default() };
        match map_kernel(&k, &spec, &opts) {
            Ok(out) => {
                prop_assert!(check(&out.mapping).is_ok());
                prop_assert!(out.mapping.ii >= out.mii.mii);
                for (_, why) in &out.failed_iis {
                    prop_assert!(!why.contains("mapper bug"), "{}", why);
                }
            }
            Err(MapError::Infeasible { reasons, .. }) => {
                prop_assert!(!reasons.is_empty());
                for (_, why) in &reasons {
                    prop_assert!(!why.contains("mapper bug"), "{}", why);
                }
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}
