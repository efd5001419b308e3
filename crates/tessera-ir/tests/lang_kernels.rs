//! The bundled kernel suite parses and validates, enough of it is recurrence-bound, and the
//! lowering follows the documented conventions (layout, immediates, induction variable,
//! loop-carried values, predication, memory ordering).

use petgraph::visit::EdgeRef;
use std::path::PathBuf;
use tessera_ir::interp;
use tessera_ir::{Kernel, NodeId, Op, Slot, Width, lang};

fn kernels_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels")
}

fn suite() -> Vec<(String, Kernel)> {
    let mut paths: Vec<_> = std::fs::read_dir(kernels_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tk"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let k = tessera_ir::load_kernel(p, &[]).unwrap_or_else(|e| panic!("{e}"));
            (p.file_stem().unwrap().to_string_lossy().into_owned(), k)
        })
        .collect()
}

/// Size of the largest strongly connected component over value-carrying edges (a
/// recurrence of that many ops); 1 for a self loop, 0 when there is none.
fn largest_value_recurrence(k: &Kernel) -> usize {
    let mut g = petgraph::graph::DiGraph::<(), ()>::new();
    for _ in 0..k.node_count() {
        g.add_node(());
    }
    for e in k.graph.edge_references() {
        if e.weight().carries_value() {
            g.add_edge(e.source(), e.target(), ());
        }
    }
    petgraph::algo::tarjan_scc(&g)
        .into_iter()
        .map(|scc| {
            if scc.len() > 1 {
                scc.len()
            } else if g.find_edge(scc[0], scc[0]).is_some() {
                1
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn suite_parses_validates_runs_and_has_recurrences() {
    let suite = suite();
    assert!(suite.len() >= 16, "only {} kernels", suite.len());
    let required = [
        "dot",
        "fir",
        "conv1d",
        "conv2d",
        "gemm",
        "saxpy",
        "histogram",
        "prefix_sum",
        "iir_biquad",
        "horner",
        "crc32",
        "lfsr",
        "adpcm_decode",
        "mandelbrot",
        "matvec",
        "minmax",
        "sort4",
    ];
    for r in required {
        assert!(suite.iter().any(|(n, _)| n == r), "missing kernel {r}");
    }
    let mut recurrence_bound = Vec::new();
    for (name, k) in &suite {
        k.validate().unwrap();
        assert!(
            (64..=256).contains(&k.trip_count),
            "{name}: trip count {}",
            k.trip_count
        );
        let text = std::fs::read_to_string(kernels_dir().join(format!("{name}.tk"))).unwrap();
        assert!(text.starts_with("//"), "{name} needs a header comment");
        interp::run(k, &interp::random_inputs(k, 3)).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Same check as the IR offers, restricted to value edges: >= 2 ops on a cycle.
        if largest_value_recurrence(k) >= 2 {
            assert!(!k.nodes_on_recurrences().is_empty());
            recurrence_bound.push(name.clone());
        }
    }
    assert!(
        recurrence_bound.len() >= 6,
        "recurrence-bound kernels: {recurrence_bound:?}"
    );
    for must in [
        "iir_biquad",
        "horner",
        "crc32",
        "lfsr",
        "adpcm_decode",
        "mandelbrot",
    ] {
        assert!(
            recurrence_bound.iter().any(|n| n == must),
            "{must} should be recurrence-bound"
        );
    }
}

fn parse(text: &str) -> Kernel {
    lang::parse_str(text, "t.tk", &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn find(k: &Kernel, pred: impl Fn(&tessera_ir::Node) -> bool) -> Vec<NodeId> {
    k.nodes().filter(|(_, n)| pred(n)).map(|(i, _)| i).collect()
}

#[test]
fn layout_addresses_and_shared_index_nodes() {
    let k = parse(
        "kernel t(n = 8) {
            in u8 b[5];
            in i32 x[n + 2];
            out i16 y[n];
            for i in 0..n { y[i] = x[i] + x[i + 1] + x[i + 2] + b[3]; }
        }",
    );
    // Bases: b at 0 (5 bytes), x aligned to 8, y after 10 words at 48.
    assert_eq!(
        k.arrays.iter().map(|a| a.base).collect::<Vec<_>>(),
        vec![0, 8, 48]
    );
    let loads = find(&k, |n| n.op.is_load());
    assert_eq!(loads.len(), 4);
    let imms: Vec<i32> = loads.iter().map(|l| k.node(*l).imm.unwrap()).collect();
    assert_eq!(imms, vec![8, 12, 16, 3]);
    // The three x loads share one `i << 2` address node; b[3] has no address operand.
    let addr: Vec<Vec<NodeId>> = loads
        .iter()
        .map(|l| k.operands(*l).iter().map(|(s, _)| *s).collect())
        .collect();
    assert_eq!(addr[0], addr[1]);
    assert_eq!(addr[1], addr[2]);
    assert!(addr[3].is_empty());
    let shl = k.node(addr[0][0]);
    assert_eq!((shl.op, shl.imm), (Op::Shl, Some(2)));
    assert_eq!(k.node(loads[0]).array, Some(1));
    // The store is a half-word store to y with `i << 1`.
    let st = find(&k, |n| n.op.is_store());
    assert_eq!(k.node(st[0]).op, Op::Store { width: Width::Half });
    assert_eq!(k.node(st[0]).imm, Some(48));
}

#[test]
fn induction_variable_and_trip_count() {
    let k = parse("kernel t() { out i32 y[40]; for i in 3..40 step 4 { y[i] = i; } }");
    assert_eq!(k.trip_count, 10); // 3, 7, ..., 39
    let iv = find(&k, |n| n.label == "i" && n.op == Op::Add);
    assert_eq!(iv.len(), 1);
    assert_eq!(k.node(iv[0]).imm, Some(4));
    let ops = k.operands(iv[0]);
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].0, ops[0].1.distance, ops[0].1.init), (iv[0], 1, -1));
    let out = interp::run(&k, &interp::random_inputs(&k, 1)).unwrap();
    for i in (3..40).step_by(4) {
        assert_eq!(out.arrays[0].values[i], i as i32);
    }
    let down = parse("kernel t() { out i32 y[10]; for i in 9..-1 step -3 { y[i] = i; } }");
    assert_eq!(down.trip_count, 4); // 9, 6, 3, 0
    let empty =
        parse("kernel t() { out i32 y[10]; var s = 5; for i in 4..4 { s += 1; } return s; }");
    assert_eq!(empty.trip_count, 0);
    let out = interp::run(&empty, &interp::random_inputs(&empty, 1)).unwrap();
    assert_eq!(out.live_outs, vec![("s".to_string(), 5)]);
}

#[test]
fn loop_carried_uses_read_previous_iteration() {
    // `a` is read before and after its assignment in the body.
    let k = parse(
        "kernel t() {
            out i32 y[8]; out i32 z[8];
            var a = 10;
            for i in 0..8 { y[i] = a; a = a * 3 + 1; z[i] = a; }
            return a as final;
        }",
    );
    let out = interp::run(&k, &interp::random_inputs(&k, 1)).unwrap();
    let mut a = 10i32;
    for i in 0..8 {
        assert_eq!(out.arrays[0].values[i], a);
        a = a.wrapping_mul(3).wrapping_add(1);
        assert_eq!(out.arrays[1].values[i], a);
    }
    assert_eq!(out.live_outs, vec![("final".to_string(), a)]);
    assert_eq!(k.live_outs[0].init, 10);
    // Variables swapped every iteration, and one never changed.
    let k = parse(
        "kernel t() {
            out i32 y[7];
            var p = 1; var q = 2; var c = 9;
            for i in 0..7 { let t = p; p = q; q = t; y[i] = p * 10 + c; }
            return p, q, c;
        }",
    );
    let out = interp::run(&k, &interp::random_inputs(&k, 1)).unwrap();
    assert_eq!(out.arrays[0].values, vec![29, 19, 29, 19, 29, 19, 29]);
    assert_eq!(
        out.live_outs,
        vec![("p".into(), 2), ("q".into(), 1), ("c".into(), 9)]
    );
}

#[test]
fn if_else_becomes_select_and_predicated_stores() {
    let k = parse(
        "kernel t() {
            in i32 x[16] range -50..50; out i32 y[16] range 0..0;
            var s = 0;
            for i in 0..16 {
                if x[i] > 0 { s += x[i]; y[i] = 1; } else { y[i] = 2; }
            }
            return s;
        }",
    );
    let sel = find(&k, |n| n.op == Op::Select);
    assert_eq!(sel.len(), 1);
    let stores = find(&k, |n| n.op.is_store());
    let preds: Vec<Slot> = stores
        .iter()
        .map(|s| {
            k.operands(*s)
                .iter()
                .find(|(_, o)| matches!(o.slot, Slot::Pred { .. }))
                .expect("predicated")
                .1
                .slot
        })
        .collect();
    assert_eq!(
        preds,
        vec![Slot::Pred { negated: false }, Slot::Pred { negated: true }]
    );
    for seed in 1..4 {
        let inp = interp::random_inputs(&k, seed);
        let out = interp::run(&k, &inp).unwrap();
        let x = &inp.arrays[0];
        let s: i32 = x.iter().filter(|v| **v > 0).sum();
        assert_eq!(out.live_outs[0].1, s);
        let y: Vec<i32> = x.iter().map(|v| if *v > 0 { 1 } else { 2 }).collect();
        assert_eq!(out.arrays[0].values, y);
    }
}

/// (from, to, distance) of every ordering edge, as node labels.
fn order_edges(k: &Kernel) -> Vec<(String, String, u32)> {
    let mut v: Vec<_> = k
        .graph
        .edge_references()
        .filter(|e| e.weight().slot == Slot::Order)
        .map(|e| {
            let name = |n: NodeId| {
                let node = k.node(n);
                format!("{}{}", node.label, node.imm.unwrap_or(0))
            };
            (name(e.source()), name(e.target()), e.weight().distance)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn memory_ordering_edges() {
    // Independent streams: no ordering at all.
    let k = parse("kernel t() { in i32 x[8]; out i32 y[8]; for i in 0..8 { y[i] = x[i]; } }");
    assert!(order_edges(&k).is_empty());
    // Read-modify-write of the same element: load -> store within the iteration only.
    let k = parse("kernel t() { inout i32 y[8]; for i in 0..8 { y[i] += 1; } }");
    assert_eq!(order_edges(&k), vec![("y0".into(), "y=0".into(), 0)]);
    // y[i] written, y[i-1] read in the next iteration: store -> load at distance 1.
    let k = parse("kernel t() { inout i32 y[9]; for i in 1..9 { y[i] = y[i - 1] + 1; } }");
    assert_eq!(order_edges(&k), vec![("y=0".into(), "y-4".into(), 1)]);
    let out = interp::run(&k, &interp::random_inputs(&k, 1)).unwrap();
    let y = &out.arrays[0].values;
    assert!(y.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
    // Reading ahead (y[i+2]) then writing y[i]: the load of iteration k must precede the
    // store of iteration k+2 (WAR at distance 2), and nothing within an iteration.
    let k = parse("kernel t() { inout i32 y[10]; for i in 0..8 { y[i] = y[i + 2]; } }");
    assert_eq!(order_edges(&k), vec![("y8".into(), "y=0".into(), 2)]);
    // Indirect: load -> store (0) and store -> load (1).
    let k = parse("kernel t() { in u8 x[8]; inout i32 h[256]; for i in 0..8 { h[x[i]] += 1; } }");
    assert_eq!(
        order_edges(&k),
        vec![
            ("h8".into(), "h=8".into(), 0),
            ("h=8".into(), "h8".into(), 1)
        ]
    );
    // Even and odd elements never alias.
    let k = parse("kernel t() { inout i32 y[16]; for i in 0..8 { y[2 * i] = y[2 * i + 1]; } }");
    assert!(order_edges(&k).is_empty());
}

#[test]
fn constant_folding_cse_and_immediates() {
    let k = parse(
        "kernel t(n = 8) {
            in i32 x[n]; out i32 y[n];
            for i in 0..n { y[i] = (x[i] * (2 + 2)) + (x[i] * 4) + (n - 8) + 3 - 3; }
        }",
    );
    // One load, one mul (CSE), one add: x*4 + x*4; no const nodes (4 is an immediate).
    let h = k.op_histogram();
    assert_eq!(h.get("load"), Some(&1));
    assert_eq!(h.get("mul"), Some(&1));
    assert_eq!(h.get("const"), None);
    let mul = find(&k, |n| n.op == Op::Mul);
    assert_eq!(k.node(mul[0]).imm, Some(4));
    // `3 - x` needs a constant node for the first operand.
    let k = parse("kernel t() { in i32 x[4]; out i32 y[4]; for i in 0..4 { y[i] = 3 - x[i]; } }");
    assert_eq!(k.op_histogram().get("const"), Some(&1));
    let inp = interp::random_inputs(&k, 5);
    let out = interp::run(&k, &inp).unwrap();
    let want: Vec<i32> = inp.arrays[0]
        .iter()
        .map(|v| 3i32.wrapping_sub(*v))
        .collect();
    assert_eq!(out.arrays[0].values, want);
}

#[test]
fn operators_match_their_definitions() {
    let k = parse(
        "kernel t() {
            in i32 a[32]; in i32 b[32] range -40..40; out i32 y[32 * 20];
            for i in 0..32 {
                let x = a[i]; let s = b[i];
                y[20 * i] = x / s; y[20 * i + 1] = x % s; y[20 * i + 2] = x >> s; y[20 * i + 3] = x >>> s;
                y[20 * i + 4] = x << s; y[20 * i + 5] = ~x ^ s; y[20 * i + 6] = !x + (x && s) * 2 + (x || s) * 4;
                y[20 * i + 7] = -x | s & 7; y[20 * i + 8] = x < s ? abs(x) : sext8(x);
                y[20 * i + 9] = sext16(x) + zext8(x) + zext16(x); y[20 * i + 10] = ltu(x, s) + 2 * gtu(x, s);
                y[20 * i + 11] = leu(x, s) + 2 * geu(x, s); y[20 * i + 12] = divu(x, s);
                y[20 * i + 13] = remu(x, s); y[20 * i + 14] = clamp(x, -5, s);
                y[20 * i + 15] = (x == s) + (x != s) * 2 + (x <= s) * 4 + (x >= s) * 8 + (x > s) * 16;
            }
        }",
    );
    for seed in 1..5 {
        let inp = interp::random_inputs(&k, seed);
        let out = interp::run(&k, &inp).unwrap();
        let y = &out.arrays[0].values;
        for i in 0..32 {
            let (x, s) = (inp.arrays[0][i], inp.arrays[1][i]);
            let div = if s == 0 { -1 } else { x.wrapping_div(s) };
            let rem = if s == 0 { x } else { x.wrapping_rem(s) };
            let (xu, su) = (x as u32, s as u32);
            let want = [
                div,
                rem,
                x >> (s & 31),
                (xu >> (s & 31)) as i32,
                x.wrapping_shl(s as u32 & 31),
                !x ^ s,
                (x == 0) as i32 + (x != 0 && s != 0) as i32 * 2 + (x != 0 || s != 0) as i32 * 4,
                x.wrapping_neg() | (s & 7),
                if x < s {
                    x.wrapping_abs()
                } else {
                    x as i8 as i32
                },
                (x as i16 as i32)
                    .wrapping_add(x as u8 as i32)
                    .wrapping_add(x as u16 as i32),
                (xu < su) as i32 + 2 * (xu > su) as i32,
                (xu <= su) as i32 + 2 * (xu >= su) as i32,
                xu.checked_div(su).map_or(-1, |q| q as i32),
                if su == 0 { x } else { (xu % su) as i32 },
                x.max(-5).min(s),
                (x == s) as i32
                    + (x != s) as i32 * 2
                    + (x <= s) as i32 * 4
                    + (x >= s) as i32 * 8
                    + (x > s) as i32 * 16,
            ];
            assert_eq!(
                &y[20 * i..20 * i + 16],
                &want[..],
                "seed {seed} element {i}: x={x} s={s}"
            );
        }
    }
}

#[test]
fn multi_dimensional_arrays_are_row_major() {
    let k = parse(
        "kernel t(r = 4, c = 5) {
            in i32 m[r][c]; out i32 y[r][c];
            for i in 0..r { y[i][0] = m[i][c - 1]; y[i][2] = m[r - 1 - i][1] + m[i][0]; }
        }",
    );
    assert_eq!(k.arrays[0].len, 20);
    for seed in 1..4 {
        let inp = interp::random_inputs(&k, seed);
        let out = interp::run(&k, &inp).unwrap();
        let (m, mut y) = (&inp.arrays[0], inp.arrays[1].clone());
        for i in 0..4 {
            y[i * 5] = m[i * 5 + 4];
            y[i * 5 + 2] = m[(3 - i) * 5 + 1].wrapping_add(m[i * 5]);
        }
        assert_eq!(out.arrays[0].values, y);
    }
    let e = lang::parse_str(
        "kernel t() { in i32 m[4][4]; out i32 y[4]; for i in 0..4 { y[i] = m[i]; } }",
        "t.tk",
        &[],
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("t.tk:1:67: `m` has 2 dimension(s); expected 2 index(es), found 1"),
        "{e}"
    );
    // Per-dimension bounds: m[i][4] stays inside the flattened array for i < 3 but not in
    // its row.
    let e = lang::parse_str(
        "kernel t() { in i32 m[4][4]; out i32 y[4]; for i in 0..3 { y[i] = m[i][4]; } }",
        "t.tk",
        &[],
    )
    .unwrap_err();
    assert!(e.to_string().contains("index 2 of `m` is 4"), "{e}");
}
