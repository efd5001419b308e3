//! Property: every mapping of a random kernel that the checker accepts (the driver returns
//! only those) simulates to the interpreter's outputs.

use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::Spec;
use tessera_ir::kernel::{ArrayDecl, ArrayDir, KernelSource, LiveOut, ScalarDecl};
use tessera_ir::{Kernel, Node, NodeId, Op, Operand, Slot, Width};
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_sim::Simulator;

/// A random valid kernel: a counter, two loads, a random DAG of compute ops over them, an
/// optional accumulator (loop-carried), an optional recurrence of 2 to 4 ops (which
/// COMPOSE may chain within a cycle and across iterations), an optional predicated if/else
/// joined by Merge, a store and live-outs.
fn random_kernel(seed: u64) -> Kernel {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let trip: u32 = rng.random_range(1..=10);
    let mut k = Kernel::new(format!("rand{seed}"), KernelSource::Built);
    let arr = |name: &str, width: Width, base: u32, dir| ArrayDecl {
        name: name.into(),
        width,
        signed: true,
        len: trip,
        base,
        dir,
        init_range: Some((-100, 100)),
        elem: Default::default(),
    };
    k.arrays.push(arr("a", Width::Word, 0, ArrayDir::In));
    k.arrays.push(arr("b", Width::Half, 4 * trip, ArrayDir::In));
    k.arrays
        .push(arr("y", Width::Word, 6 * trip, ArrayDir::Out));
    k.scalars.push(ScalarDecl {
        name: "s".into(),
        default: 5,
        random_range: Some((-20, 20)),
        elem: Default::default(),
    });
    k.trip_count = trip;
    let i = k.add_node(Node::new(Op::Add).with_imm(1).with_label("i"));
    k.add_edge(i, i, Operand::carried(0, 1, -1));
    let a_off = k.add_node(Node::new(Op::Shl).with_imm(2));
    k.add_edge(i, a_off, Operand::data(0));
    let b_off = k.add_node(Node::new(Op::Shl).with_imm(1));
    k.add_edge(i, b_off, Operand::data(0));
    let la = k.add_node(
        Node::new(Op::Load {
            width: Width::Word,
            signed: true,
        })
        .with_imm(0)
        .with_array(0),
    );
    k.add_edge(a_off, la, Operand::data(0));
    let lb = k.add_node(
        Node::new(Op::Load {
            width: Width::Half,
            signed: true,
        })
        .with_imm(4 * trip as i32)
        .with_array(1),
    );
    k.add_edge(b_off, lb, Operand::data(0));
    let s = k.add_node(Node::new(Op::Input(0)));
    let c = k.add_node(Node::new(Op::Const).with_imm(rng.random_range(-9..=9)));
    let mut pool: Vec<NodeId> = vec![la, lb, i, s, c];
    let binary = [
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::And,
        Op::Or,
        Op::Xor,
        Op::Shl,
        Op::Ashr,
        Op::Lt,
        Op::Min,
        Op::Max,
    ];
    let unary = [Op::Abs, Op::Not, Op::Sext8, Op::Move];
    let n_ops = rng.random_range(2..=7);
    for _ in 0..n_ops {
        let pick = |rng: &mut ChaCha8Rng, pool: &Vec<NodeId>| pool[rng.random_range(0..pool.len())];
        let kind = rng.random_range(0..10);
        let node = if kind < 7 {
            let op = binary[rng.random_range(0..binary.len())];
            let x = pick(&mut rng, &pool);
            if rng.random_bool(0.3) {
                let n = k.add_node(Node::new(op).with_imm(rng.random_range(-7..=7)));
                k.add_edge(x, n, Operand::data(0));
                n
            } else {
                let y = pick(&mut rng, &pool);
                let n = k.add_node(Node::new(op));
                k.add_edge(x, n, Operand::data(0));
                k.add_edge(y, n, Operand::data(1));
                n
            }
        } else if kind < 9 {
            let n = k.add_node(Node::new(unary[rng.random_range(0..unary.len())]));
            k.add_edge(pick(&mut rng, &pool), n, Operand::data(0));
            n
        } else {
            let n = k.add_node(Node::new(Op::Select));
            for slot in 0..3 {
                k.add_edge(pick(&mut rng, &pool), n, Operand::data(slot));
            }
            n
        };
        pool.push(node);
    }
    let last = *pool.last().unwrap();
    let mut result = last;
    if rng.random_bool(0.5) {
        // if (x < y) r = x + imm else r = y - imm
        let x = pool[rng.random_range(0..pool.len())];
        let y = pool[rng.random_range(0..pool.len())];
        let cond = k.add_node(Node::new(Op::Lt));
        k.add_edge(x, cond, Operand::data(0));
        k.add_edge(y, cond, Operand::data(1));
        let t = k.add_node(Node::new(Op::Add).with_imm(3));
        k.add_edge(x, t, Operand::data(0));
        k.add_edge(
            cond,
            t,
            Operand {
                slot: Slot::Pred { negated: false },
                distance: 0,
                init: 0,
            },
        );
        let f = k.add_node(Node::new(Op::Sub).with_imm(2));
        k.add_edge(result, f, Operand::data(0));
        k.add_edge(
            cond,
            f,
            Operand {
                slot: Slot::Pred { negated: true },
                distance: 0,
                init: 0,
            },
        );
        let m = k.add_node(Node::new(Op::Merge));
        k.add_edge(t, m, Operand::data(0));
        k.add_edge(f, m, Operand::data(1));
        result = m;
    }
    let y_off = k.add_node(Node::new(Op::Shl).with_imm(2));
    k.add_edge(i, y_off, Operand::data(0));
    let st = k.add_node(
        Node::new(Op::Store { width: Width::Word })
            .with_imm(6 * trip as i32)
            .with_array(2),
    );
    k.add_edge(y_off, st, Operand::data(0));
    k.add_edge(result, st, Operand::data(1));
    k.live_outs.push(LiveOut {
        name: "last".into(),
        node: result,
        init: 0,
    });
    if rng.random_bool(0.6) {
        // acc = acc(k - d) + result, d in 1..=2
        let d = rng.random_range(1..=2);
        let acc = k.add_node(Node::new(Op::Add).with_label("acc"));
        k.add_edge(acc, acc, Operand::carried(0, d, rng.random_range(-5..=5)));
        k.add_edge(result, acc, Operand::data(1));
        k.live_outs.push(LiveOut {
            name: "acc".into(),
            node: acc,
            init: 0,
        });
    }
    if rng.random_bool(0.6) {
        // r = f_n(... f_2(f_1(r(k - d), x)) ...), d in 1..=2.
        let len = rng.random_range(2..=4);
        let ops = [
            Op::Add,
            Op::Sub,
            Op::Xor,
            Op::Or,
            Op::Mul,
            Op::Ashr,
            Op::Shl,
            Op::Max,
        ];
        let x = pool[rng.random_range(0..pool.len())];
        let first = k.add_node(Node::new(ops[rng.random_range(0..4)]).with_label("r0"));
        k.add_edge(x, first, Operand::data(1));
        let mut last = first;
        for _ in 1..len {
            let op = ops[rng.random_range(0..ops.len())];
            let imm = if matches!(op, Op::Ashr | Op::Shl) {
                rng.random_range(0..=3)
            } else {
                rng.random_range(-7..=7)
            };
            let n = k.add_node(Node::new(op).with_imm(imm));
            k.add_edge(last, n, Operand::data(0));
            last = n;
        }
        let d = if rng.random_bool(0.8) { 1 } else { 2 };
        k.add_edge(
            last,
            first,
            Operand::carried(0, d, rng.random_range(-5..=5)),
        );
        k.live_outs.push(LiveOut {
            name: "r".into(),
            node: last,
            init: 0,
        });
    }
    k.validate().expect("generator makes valid kernels");
    k
}

/// The architectures the property runs on: two baselines and two COMPOSE arrays (the
/// preset, and one with two hops per cycle and virtual PEs of 3 PEs).
fn arch(pick: usize) -> CgraSpec {
    match pick {
        0 => CgraSpec::preset("hycube-4x4").unwrap(),
        1 => CgraSpec::preset("mesh-4x4").unwrap(),
        2 => CgraSpec::preset("compose-4x4").unwrap(),
        _ => {
            let mut a = CgraSpec::preset("compose-4x4").unwrap();
            a.name = "compose-4x4-2hop".into();
            a.interconnect.max_hops_per_cycle = 2;
            a.compose.max_virtual_pe = 3;
            a.validate().unwrap();
            a
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn accepted_mappings_simulate_to_interpreter_outputs(seed in any::<u64>(), arch_pick in 0usize..4) {
        let arch = arch(arch_pick);
        let kernel = random_kernel(seed);
        let opts = MapOptions { seed, time_limit_s: 1.0, ..MapOptions::default() };
        if let Ok(outcome) = map_kernel(&kernel, &arch, &opts) {
            let sim = Simulator::new(&outcome.mapping).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for input_seed in [seed, seed ^ 0x5eed] {
                let (rep, _) = sim.simulate_seed(input_seed, false).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(
                    rep.verification.matched,
                    "kernel seed {} on {} (II {}), input seed {}: {}",
                    seed,
                    arch.name,
                    outcome.mapping.ii,
                    input_seed,
                    rep.verification.mismatch.map(|m| m.message).unwrap_or_default()
                );
            }
        }
    }
}

#[test]
fn compose_chains_some_random_kernels() {
    // Guard against a vacuous COMPOSE property: some random kernels must map with chained
    // (combinational) routes, and those mappings must simulate correctly.
    let arch = arch(2);
    let mut chained = 0;
    for s in 0..12u64 {
        let opts = MapOptions {
            seed: s,
            time_limit_s: 1.0,
            ..MapOptions::default()
        };
        let Ok(out) = map_kernel(&random_kernel(s), &arch, &opts) else {
            continue;
        };
        let comb = out
            .mapping
            .routes
            .iter()
            .any(|r| matches!(r.segments[0].from, tessera_map::mapping::Loc::Comb { .. }));
        if comb {
            chained += 1;
            let sim = Simulator::new(&out.mapping).unwrap();
            let (rep, _) = sim.simulate_seed(s, false).unwrap();
            assert!(rep.verification.matched, "kernel seed {s}");
        }
    }
    assert!(chained >= 2, "only {chained} of 12 random kernels chained");
}

#[test]
fn generator_kernels_map_often_enough() {
    // Guard against a vacuous property: most small random kernels must map.
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let mapped = (0..8u64)
        .filter(|&s| {
            let opts = MapOptions {
                seed: s,
                time_limit_s: 1.0,
                ..MapOptions::default()
            };
            map_kernel(&random_kernel(s), &arch, &opts).is_ok()
        })
        .count();
    assert!(mapped >= 4, "only {mapped} of 8 random kernels mapped");
}
