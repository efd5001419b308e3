//! The ordering edges the front end emits are enough for overlapped execution: each kernel
//! is modulo-scheduled here (every edge of distance d demands
//! `t(consumer) + II*d >= t(producer) + 1`), iterations are executed overlapped in order of
//! absolute time (ties broken adversarially), and the outputs must equal the reference
//! interpreter's. A missing memory-ordering edge shows up as a mismatch.

use petgraph::visit::EdgeRef;
use tessera_ir::interp::{self, Memory, Outputs};
use tessera_ir::{Kernel, Op, Slot, lang};

/// Smallest II with a feasible schedule and the schedule times, by longest paths
/// (Bellman-Ford) over edges weighted `1 - II*d`.
fn modulo_schedule(k: &Kernel, min_ii: u32) -> (u32, Vec<i64>) {
    let n = k.node_count();
    let edges: Vec<(usize, usize, u32)> = k
        .graph
        .edge_references()
        .map(|e| (e.source().index(), e.target().index(), e.weight().distance))
        .collect();
    'ii: for ii in min_ii.max(1)..=4 * n as u32 + 4 {
        let mut t = vec![0i64; n];
        for _ in 0..=n {
            let mut changed = false;
            for &(u, v, d) in &edges {
                let need = t[u] + 1 - ii as i64 * d as i64;
                if t[v] < need {
                    t[v] = need;
                    changed = true;
                }
            }
            if !changed {
                return (ii, t);
            }
        }
        continue 'ii;
    }
    panic!("no feasible II for {}", k.name);
}

/// Run the kernel with iterations overlapped according to a schedule.
fn run_overlapped(
    k: &Kernel,
    inputs: &interp::Inputs,
    ii: u32,
    t: &[i64],
    reverse_ties: bool,
) -> Outputs {
    let n = k.node_count();
    let trip = k.trip_count as usize;
    let mut mem = Memory::new(k, inputs).unwrap();
    let mut vals = vec![vec![0i32; n]; trip];
    let mut valid = vec![vec![false; n]; trip];
    let mut done = vec![vec![false; n]; trip];
    let mut events: Vec<(i64, i64, usize)> = Vec::new();
    for it in 0..trip {
        for (v, tv) in t.iter().enumerate() {
            let tie = if reverse_ties { -(v as i64) } else { v as i64 };
            events.push((it as i64 * ii as i64 + tv, tie, it * n + v));
        }
    }
    events.sort();
    let operands: Vec<Vec<(usize, tessera_ir::Operand)>> = k
        .graph
        .node_indices()
        .map(|id| {
            k.operands(id)
                .into_iter()
                .map(|(s, o)| (s.index(), o))
                .collect()
        })
        .collect();
    for (_, _, ev) in events {
        let (it, v) = (ev / n, ev % n);
        let node = &k.graph[petgraph::graph::NodeIndex::new(v)];
        let read =
            |src: usize, o: &tessera_ir::Operand, vals: &Vec<Vec<i32>>, valid: &Vec<Vec<bool>>| {
                if (it as u32) < o.distance {
                    (o.init, true)
                } else {
                    let j = it - o.distance as usize;
                    assert!(
                        done[j][src],
                        "{}: operand n{src}@{j} read before it ran (n{v}@{it})",
                        k.name
                    );
                    (vals[j][src], valid[j][src])
                }
            };
        let mut args = Vec::new();
        let mut arg_ok = Vec::new();
        let mut enabled = true;
        for (src, o) in &operands[v] {
            match o.slot {
                Slot::Data(_) => {
                    let (x, ok) = read(*src, o, &vals, &valid);
                    args.push(x);
                    arg_ok.push(ok);
                }
                Slot::Pred { negated } => {
                    let (p, ok) = read(*src, o, &vals, &valid);
                    enabled = ok && ((p != 0) != negated);
                }
                Slot::Order => {
                    if (it as u32) >= o.distance {
                        let j = it - o.distance as usize;
                        assert!(done[j][*src], "{}: order edge violated", k.name);
                    }
                }
            }
        }
        done[it][v] = true;
        if !enabled {
            continue;
        }
        let value = match node.op {
            Op::Const => node.imm.unwrap(),
            Op::Input(s) => inputs.scalars[s as usize],
            Op::Load { width, signed } => {
                let addr = args
                    .first()
                    .copied()
                    .unwrap_or(0)
                    .wrapping_add(node.imm.unwrap_or(0)) as u32;
                interp::check_access(
                    k,
                    petgraph::graph::NodeIndex::new(v),
                    it as u32,
                    addr,
                    width,
                )
                .unwrap();
                mem.read(addr, width, signed)
            }
            Op::Store { width } => {
                let (addr, x) = if args.len() == 2 {
                    (args[0].wrapping_add(node.imm.unwrap_or(0)) as u32, args[1])
                } else {
                    (node.imm.unwrap_or(0) as u32, args[0])
                };
                interp::check_access(
                    k,
                    petgraph::graph::NodeIndex::new(v),
                    it as u32,
                    addr,
                    width,
                )
                .unwrap();
                mem.write(addr, width, x);
                x
            }
            Op::Merge => args[arg_ok.iter().position(|ok| *ok).unwrap_or(args.len() - 1)],
            op => {
                if let Some(imm) = node.imm
                    && args.len() < op.arity().max
                {
                    args.push(imm);
                }
                op.eval(&args).unwrap()
            }
        };
        vals[it][v] = value;
        valid[it][v] = true;
    }
    Outputs {
        arrays: mem.output_arrays(k),
        live_outs: k
            .live_outs
            .iter()
            .map(|l| {
                let v = if trip == 0 {
                    l.init
                } else {
                    vals[trip - 1][l.node.index()]
                };
                (l.name.clone(), v)
            })
            .collect(),
    }
}

fn check_overlapped(k: &Kernel) {
    let (min_ii, _) = modulo_schedule(k, 1);
    for ii in [min_ii, min_ii + 1, min_ii + 3] {
        let (ii, t) = modulo_schedule(k, ii);
        for seed in [1, 2, 3] {
            let inp = interp::random_inputs(k, seed);
            let want = interp::run(k, &inp).unwrap();
            for reverse in [false, true] {
                let got = run_overlapped(k, &inp, ii, &t, reverse);
                if let Some(d) = want.first_divergence(&got) {
                    panic!("{} at II={ii} seed {seed} reverse={reverse}: {d}", k.name);
                }
            }
        }
    }
}

#[test]
fn bundled_kernels_survive_overlapped_execution() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tk"))
        .collect();
    paths.sort();
    for p in paths {
        // Small sizes keep the test fast; the dependence structure is the same.
        let text = std::fs::read_to_string(&p).unwrap();
        let k = lang::parse_str(&text, &p.display().to_string(), &[]).unwrap();
        check_overlapped(&k);
    }
}

#[test]
fn tricky_memory_patterns_survive_overlapped_execution() {
    let cases = [
        // Flow dependence at distance 1 and 3.
        "kernel t() { inout i32 y[40]; for i in 1..40 { y[i] = y[i - 1] + 1; } }",
        "kernel t() { inout i32 y[40]; for i in 3..40 { y[i] = y[i - 3] * 3 + y[i - 1]; } }",
        // Anti dependence (read ahead, write behind) and output dependences.
        "kernel t() { inout i32 y[42]; for i in 0..40 { y[i] = y[i + 2] + 1; y[i + 1] = 7; } }",
        // Everything into one element, under a condition.
        "kernel t() { in i32 x[32]; inout i32 acc[2] range 0..0;
           for i in 0..32 { if x[i] > 0 { acc[0] += x[i]; } else { acc[1] = acc[1] + acc[0]; } } }",
        // Reversed traversal against forward traversal (different coefficients).
        "kernel t() { inout i32 y[32]; for i in 0..32 { y[i] = y[31 - i] + i; } }",
        // Indirect read-modify-write and an indirect store after a direct load.
        "kernel t() { in u8 x[48] range 0..15; inout i32 h[16]; for i in 0..48 { h[x[i]] += 1; h[i & 15] = h[(i + 3) & 15] ^ i; } }",
        // Index from loop-carried state.
        "kernel t() { inout u8 y[64]; var j = 0; for i in 0..64 { y[j] = y[(j + 5) & 63] + 1; j = (j + 7) & 63; } }",
        // Strided, interleaved halves of one array.
        "kernel t() { inout i16 y[64]; for i in 0..32 { y[2 * i] = y[2 * i + 1] + y[2 * i]; y[2 * i + 1] = 1; } }",
    ];
    for text in cases {
        let k = lang::parse_str(text, "case.tk", &[]).unwrap_or_else(|e| panic!("{e}\n{text}"));
        check_overlapped(&k);
    }
}

#[test]
fn without_ordering_edges_overlap_breaks_a_recurrence_through_memory() {
    // The check above can fail: remove the ordering edges of a memory recurrence and the
    // overlapped run diverges from the interpreter.
    let mut k = lang::parse_str(
        "kernel t() { inout i32 y[40]; for i in 1..40 { y[i] = y[i - 1] * 2 + 1; } }",
        "t.tk",
        &[],
    )
    .unwrap();
    k.graph.retain_edges(|g, e| g[e].slot != Slot::Order);
    let (ii, t) = modulo_schedule(&k, 1);
    let inp = interp::random_inputs(&k, 1);
    let want = interp::run(&k, &inp).unwrap();
    let got = run_overlapped(&k, &inp, ii, &t, false);
    assert!(want.first_divergence(&got).is_some());
}

/// An index into a 64-element array for `i` in 8..24: affine `c1*i + c0` kept in bounds,
/// or an indirect / state-dependent one.
fn index_text(kind: u8, c1: i32, c0: i32) -> String {
    match kind % 5 {
        0..=2 => {
            let (lo, hi) = if c1 >= 0 {
                (c1 * 8, c1 * 23)
            } else {
                (c1 * 23, c1 * 8)
            };
            // Place c0 so that lo + c0 >= 0 and hi + c0 <= 63.
            let span = 63 - (hi - lo);
            let c0 = c0.rem_euclid(span + 1) - lo;
            format!("{c1} * i + {c0}")
        }
        3 => "x[i]".to_string(),
        _ => "(s & 63)".to_string(),
    }
}

fn random_kernel(stmts: &[(u8, u8, i32, i32, u8, i32, i32)]) -> String {
    let mut body = String::new();
    for &(what, k1, a1, b1, k2, a2, b2) in stmts {
        let (arr1, arr2) = if what & 8 == 0 {
            ("a", "b")
        } else {
            ("b", "a")
        };
        let p = index_text(k1, a1, b1);
        let q = index_text(k2, a2, b2);
        body.push_str(&match what % 6 {
            0 => format!("    {arr1}[{p}] = {arr2}[{q}] + {};\n", a1 & 7),
            1 => format!("    s = s + {arr1}[{p}];\n"),
            2 => format!("    {arr1}[{p}] += 1;\n"),
            3 => format!(
                "    if {arr1}[{p}] > 0 {{ {arr1}[{q}] = s ^ i; }} else {{ {arr2}[{p}] = {arr1}[{q}] * 3; }}\n"
            ),
            4 => format!("    {arr1}[{p}] = {arr1}[{q}] - {arr2}[{p}];\n"),
            _ => format!("    s = s * 3 + {arr2}[{q}];\n    {arr1}[{p}] = s;\n"),
        });
    }
    format!(
        "kernel r() {{\n  in u8 x[64] range 0..63;\n  inout i32 a[64] range -5..5;\n  inout i32 b[64] range -5..5;\n  \
         var s = 0;\n  for i in 8..24 {{\n{body}  }}\n  return s;\n}}\n"
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    /// Random kernels mixing affine, indirect and state-dependent accesses, conditional
    /// stores and read-modify-writes: overlapped execution equals the interpreter.
    #[test]
    fn random_memory_kernels_survive_overlapped_execution(
        stmts in proptest::collection::vec(
            (0u8..12, 0u8..5, -2i32..3, 0i32..64, 0u8..5, -2i32..3, 0i32..64),
            1..6,
        ),
    ) {
        let text = random_kernel(&stmts);
        let k = lang::parse_str(&text, "r.tk", &[]).unwrap_or_else(|e| panic!("{e}\n{text}"));
        check_overlapped(&k);
    }
}
