//! Property: random small DFGs on random small arrays always give either a mapping the
//! independent checker accepts (at an II no lower than the MII), or a clear "no mapping at
//! any II up to the limit" result with a reason per II tried.

use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tessera_arch::Spec;
use tessera_arch::cgra::{CgraSpec, Topology};
use tessera_ir::{
    ArrayDecl, ArrayDir, Kernel, KernelSource, LiveOut, Node, NodeId, Op, Operand, ScalarDecl,
    Slot, Width,
};
use tessera_map::check::check;
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_map::error::MapError;

fn random_arch(rng: &mut ChaCha8Rng) -> CgraSpec {
    let mut a = CgraSpec::preset("mesh-4x4").unwrap();
    a.rows = rng.random_range(2..=4);
    a.cols = rng.random_range(2..=4);
    a.layout = (0..a.rows)
        .map(|_| {
            let mut row = String::from("M");
            row.push_str(&"A".repeat(a.cols as usize - 1));
            row
        })
        .collect();
    let left: Vec<(u16, u16)> = (0..a.rows).map(|r| (r, 0)).collect();
    for b in &mut a.memory.banks {
        b.pes = left.clone();
    }
    a.interconnect.topology = match rng.random_range(0..3) {
        0 => Topology::Mesh,
        1 => Topology::MeshDiagonal,
        _ => Topology::Torus,
    };
    a.interconnect.max_hops_per_cycle = rng.random_range(1..=2);
    a.rf_size = rng.random_range(1..=4);
    a.name = format!("random-{}x{}", a.rows, a.cols);
    a.validate().unwrap();
    a
}

fn random_kernel(rng: &mut ChaCha8Rng) -> Kernel {
    let mut k = Kernel::new("random", KernelSource::Built);
    k.arrays.push(ArrayDecl {
        name: "a".into(),
        width: Width::Word,
        signed: true,
        len: 64,
        base: 0,
        dir: ArrayDir::InOut,
        init_range: None,
        elem: Default::default(),
    });
    k.scalars.push(ScalarDecl {
        name: "s".into(),
        default: 3,
        random_range: None,
        elem: Default::default(),
    });
    k.trip_count = 8;
    let n = rng.random_range(2..=12usize);
    let mut nodes: Vec<NodeId> = vec![k.add_node(Node::new(Op::Input(0)))];
    // Loop-carried edges to add once all nodes exist: (from-later, to, slot).
    let mut carried: Vec<(NodeId, u8)> = Vec::new();
    for _ in 1..n {
        let pick = |rng: &mut ChaCha8Rng, nodes: &[NodeId]| nodes[rng.random_range(0..nodes.len())];
        let id = match rng.random_range(0..7) {
            0..=3 => {
                let op = [Op::Add, Op::Sub, Op::Mul, Op::Xor][rng.random_range(0..4)];
                let a = pick(rng, &nodes);
                if rng.random_bool(0.3) {
                    let v = k.add_node(Node::new(op));
                    k.add_edge(a, v, Operand::data(0));
                    carried.push((v, 1));
                    v
                } else if rng.random_bool(0.5) {
                    let v = k.add_node(Node::new(op));
                    let b = pick(rng, &nodes);
                    k.add_edge(a, v, Operand::data(0));
                    k.add_edge(b, v, Operand::data(1));
                    v
                } else {
                    let v = k.add_node(Node::new(op).with_imm(rng.random_range(1..5)));
                    k.add_edge(a, v, Operand::data(0));
                    v
                }
            }
            4 | 5 => k.add_node(
                Node::new(Op::Load {
                    width: Width::Word,
                    signed: true,
                })
                .with_imm(4 * rng.random_range(0..16))
                .with_array(0),
            ),
            _ => {
                let value = pick(rng, &nodes);
                let v = k.add_node(
                    Node::new(Op::Store { width: Width::Word })
                        .with_imm(4 * rng.random_range(16..32))
                        .with_array(0),
                );
                k.add_edge(value, v, Operand::data(0));
                v
            }
        };
        nodes.push(id);
    }
    for (v, slot) in carried {
        let from = nodes[rng.random_range(0..nodes.len())];
        let d = rng.random_range(1..=2);
        k.add_edge(from, v, Operand::carried(slot, d, 0));
    }
    // Order stores before later loads of the next iteration.
    let stores: Vec<NodeId> = nodes
        .iter()
        .copied()
        .filter(|&v| k.node(v).op.is_store())
        .collect();
    let loads: Vec<NodeId> = nodes
        .iter()
        .copied()
        .filter(|&v| k.node(v).op.is_load())
        .collect();
    if let (Some(&s), Some(&l)) = (stores.first(), loads.first()) {
        k.add_edge(
            s,
            l,
            Operand {
                slot: Slot::Order,
                distance: 1,
                init: 0,
            },
        );
    }
    k.live_outs.push(LiveOut {
        name: "last".into(),
        node: *nodes.last().unwrap(),
        init: 0,
    });
    k.validate().unwrap();
    k
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn mapping_is_checked_or_infeasible_everywhere(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let arch = random_arch(&mut rng);
        let kernel = random_kernel(&mut rng);
        // Sometimes a limit below the MII, so both outcomes occur.
        let max_ii = rng.random_range(1..=6u32);
        let opts = MapOptions {
            seed,
            max_ii: Some(max_ii),
            time_limit_s: 5.0,
            ..MapOptions::default()
        };
        let r = map_kernel(&kernel, &arch, &opts);
        match r {
            Ok(out) => {
                prop_assert!(check(&out.mapping).is_ok(), "{:?}", check(&out.mapping));
                prop_assert!(out.mapping.ii >= out.mii.mii);
                prop_assert!(out.mapping.ii <= max_ii);
                prop_assert_eq!(out.failed_iis.len() as u32, out.mapping.ii - out.mii.mii);
            }
            Err(e @ MapError::Infeasible { .. }) => {
                let MapError::Infeasible { max_ii: limit, reasons } = &e else { unreachable!() };
                prop_assert!(*limit <= max_ii.max(1));
                let mii = tessera_map::mii::analyze(&kernel, &arch).unwrap().mii;
                prop_assert!(reasons.iter().all(|(ii, _)| *ii >= mii));
                prop_assert!(!reasons.is_empty());
                prop_assert!(reasons.iter().all(|(_, why)| !why.is_empty()));
                prop_assert!(e.to_string().starts_with("no mapping at any II up to"), "{}", e);
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Cross-check of the two mappers: the exact MILP never "proves" infeasible an II at
    /// which the heuristic found a checked mapping, and every mapping it returns passes the
    /// checker.
    #[test]
    fn exact_never_refutes_a_heuristic_mapping(seed in any::<u64>()) {
        use tessera_map::exact::{ExactOptions, ExactOutcome, map_exact};
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let arch = random_arch(&mut rng);
        let kernel = random_kernel(&mut rng);
        let opts = MapOptions { seed, max_ii: Some(6), time_limit_s: 5.0, ..MapOptions::default() };
        let Ok(out) = map_kernel(&kernel, &arch, &opts) else { return Ok(()) };
        let ii = out.mapping.ii;
        let eopts = ExactOptions { time_limit_s: 2.0, seed, ..ExactOptions::default() };
        let at = map_exact(&kernel, &arch, ii, &eopts).unwrap();
        prop_assert!(!matches!(at, ExactOutcome::Infeasible), "exact refutes II {} the heuristic mapped", ii);
        if let ExactOutcome::Mapped(m) = at {
            prop_assert!(check(&m).is_ok());
            prop_assert_eq!(m.ii, ii);
        }
        if ii > 1
            && let ExactOutcome::Mapped(m) = map_exact(&kernel, &arch, ii - 1, &eopts).unwrap()
        {
            prop_assert!(check(&m).is_ok());
        }
    }
}
