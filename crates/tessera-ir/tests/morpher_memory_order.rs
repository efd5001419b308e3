//! Memory order of imported Morpher DFGs: every pair of accesses that touch a common byte
//! in an interpreter run (at least one a store) must be ordered by the kernel's order edges
//! — within an iteration by a distance-0 chain, across iterations by a chain whose total
//! distance is at most the iteration gap — so that any schedule respecting the edges
//! performs them in the interpreter's order. The accesses are traced by a small
//! instrumented copy of the interpreter's evaluation loop (same order, same operands).

use petgraph::Direction;
use petgraph::visit::EdgeRef;
use std::collections::{HashMap, VecDeque};
use tessera_ir::interp::{Memory, random_inputs};
use tessera_ir::kernel::{NodeId, Slot};
use tessera_ir::{Kernel, Op};

/// One access: (iteration, node, is store).
type Access = (u32, usize, bool);

/// Run the kernel on `seed` and return the dependences seen: (earlier, later) access pairs
/// that touched a common byte, at least one a store (nearest ones only: last store before
/// an access, and loads since the last store before a store). `None` when the run fails.
fn dynamic_dependences(k: &Kernel, seed: u64) -> Option<Vec<(Access, Access)>> {
    let inputs = random_inputs(k, seed);
    let mut mem = Memory::new(k, &inputs).ok()?;
    let order = k.topo_order().ok()?;
    let n = k.node_count();
    let depth = k.max_distance() as usize + 1;
    let mut vals = vec![0i32; n * depth];
    let mut valid = vec![true; n * depth];
    let mut last_store: HashMap<u32, Access> = HashMap::new();
    let mut loads_since: HashMap<u32, Vec<Access>> = HashMap::new();
    let mut deps = Vec::new();
    for it in 0..k.trip_count {
        let row = (it as usize % depth) * n;
        for &id in &order {
            let i = id.index();
            let node = &k.graph[id];
            let mut ins: Vec<_> = k
                .graph
                .edges_directed(id, Direction::Incoming)
                .map(|e| (e.source().index(), *e.weight()))
                .collect();
            ins.sort_by_key(|(_, o)| o.slot);
            let read = |src: usize, d: u32, init: i32| -> (i32, bool) {
                if d == 0 {
                    (vals[row + src], valid[row + src])
                } else if it < d {
                    (init, true)
                } else {
                    let r = ((it - d) as usize % depth) * n;
                    (vals[r + src], valid[r + src])
                }
            };
            let mut enabled = true;
            let (mut args, mut arg_ok) = (Vec::new(), Vec::new());
            for (s, o) in &ins {
                match o.slot {
                    Slot::Pred { negated } => {
                        let (p, ok) = read(*s, o.distance, o.init);
                        enabled = ok && ((p != 0) != negated);
                    }
                    Slot::Data(_) => {
                        let (v, ok) = read(*s, o.distance, o.init);
                        args.push(v);
                        arg_ok.push(ok);
                    }
                    Slot::Order => {}
                }
            }
            if !enabled {
                vals[row + i] = 0;
                valid[row + i] = false;
                continue;
            }
            let mut touch = |addr: u32, bytes: u32, store: bool| {
                let me = (it, i, store);
                for b in addr..addr + bytes {
                    if let Some(&w) = last_store.get(&b) {
                        deps.push((w, me));
                    }
                    if store {
                        for &l in loads_since.get(&b).map(|v| v.as_slice()).unwrap_or(&[]) {
                            deps.push((l, me));
                        }
                        last_store.insert(b, me);
                        loads_since.remove(&b);
                    } else {
                        loads_since.entry(b).or_default().push(me);
                    }
                }
            };
            let value = match node.op {
                Op::Const => node.imm.unwrap_or(0),
                Op::Input(s) => inputs.scalars[s as usize],
                Op::Load { width, signed } => {
                    let addr = args
                        .first()
                        .copied()
                        .unwrap_or(0)
                        .wrapping_add(node.imm.unwrap_or(0)) as u32;
                    k.array_at(addr, width.bytes())?;
                    touch(addr, width.bytes(), false);
                    mem.read(addr, width, signed)
                }
                Op::Store { width } => {
                    let (addr, v) = if args.len() == 2 {
                        (args[0].wrapping_add(node.imm.unwrap_or(0)) as u32, args[1])
                    } else {
                        (node.imm.unwrap_or(0) as u32, args[0])
                    };
                    k.array_at(addr, width.bytes())?;
                    touch(addr, width.bytes(), true);
                    mem.write(addr, width, v);
                    v
                }
                Op::Merge => {
                    let pick = arg_ok.iter().position(|ok| *ok).unwrap_or(args.len() - 1);
                    args[pick]
                }
                op => {
                    if let Some(imm) = node.imm
                        && args.len() < op.arity().max
                    {
                        args.push(imm);
                    }
                    op.eval(&args)?
                }
            };
            vals[row + i] = value;
            valid[row + i] = true;
        }
    }
    deps.sort();
    deps.dedup();
    Some(deps)
}

/// Smallest total distance of a path of order edges from `from` to `to` (0-1 BFS), or
/// `None` when there is none.
fn order_distance(k: &Kernel, from: usize, to: usize) -> Option<u32> {
    let mut best = vec![u32::MAX; k.node_count()];
    let mut q = VecDeque::new();
    best[from] = 0;
    q.push_back(from);
    while let Some(u) = q.pop_front() {
        for e in k.graph.edges_directed(NodeId::new(u), Direction::Outgoing) {
            if e.weight().slot != Slot::Order {
                continue;
            }
            let v = e.target().index();
            let d = best[u] + e.weight().distance;
            if d < best[v] {
                best[v] = d;
                if e.weight().distance == 0 {
                    q.push_front(v);
                } else {
                    q.push_back(v);
                }
            }
        }
    }
    (best[to] != u32::MAX).then_some(best[to])
}

fn corpus() -> Vec<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../workloads/corpus/cgra/morpher-xml");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .expect("vendored corpus folder workloads/corpus/cgra/morpher-xml")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_observed_memory_dependence_is_ordered_by_edges() {
    let mut checked_kernels = 0;
    let mut checked_deps = 0;
    let mut cross = 0;
    let mut failures = Vec::new();
    for p in corpus() {
        let Ok(k) = tessera_ir::load_kernel(&p, &[]) else {
            continue;
        };
        let mut ran = false;
        for seed in [1u64, 2] {
            let Some(deps) = dynamic_dependences(&k, seed) else {
                continue;
            };
            ran = true;
            for ((ia, a, _), (ib, b, _)) in deps {
                if a == b && ia < ib {
                    // The same access in a later iteration: any modulo schedule keeps it
                    // in order (ii >= 1).
                    continue;
                }
                checked_deps += 1;
                cross += usize::from(ia != ib);
                let gap = ib - ia;
                match order_distance(&k, a, b) {
                    Some(d) if d <= gap => {}
                    got => failures.push(format!(
                        "{}: n{a} `{}` (iteration {ia}) -> n{b} `{}` (iteration {ib}): order path distance {got:?}",
                        k.name, k.graph[NodeId::new(a)].label, k.graph[NodeId::new(b)].label
                    )),
                }
            }
        }
        checked_kernels += usize::from(ran);
    }
    eprintln!("{checked_kernels} kernels, {checked_deps} dependences ({cross} across iterations)");
    assert!(checked_kernels >= 45, "only {checked_kernels} kernels ran");
    assert!(
        cross > 100,
        "too few cross-iteration dependences to test: {cross}"
    );
    failures.truncate(20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn order_edges_keep_the_evaluation_order_and_never_join_two_loads() {
    use tessera_ir::import::morpher::{ImportOptions, import_str_with};
    let mut with_edges = 0;
    for p in corpus() {
        let text = std::fs::read_to_string(&p).unwrap();
        let file = p.display().to_string();
        let Ok(k) = import_str_with(&text, &file, &ImportOptions::default()) else {
            continue;
        };
        let without = ImportOptions {
            memory_order: false,
            ..ImportOptions::default()
        };
        let plain = import_str_with(&text, &file, &without).unwrap();
        assert_eq!(k.node_count(), plain.node_count());
        let added = k.graph.edge_count() - plain.graph.edge_count();
        with_edges += usize::from(added > 0);
        // Same nodes, same edges first; the added ones are order edges between two
        // accesses, at least one a store, with distance 0 or 1.
        for e in k.graph.edge_references().skip(plain.graph.edge_count()) {
            let (s, t, o) = (&k.graph[e.source()], &k.graph[e.target()], e.weight());
            assert_eq!(o.slot, Slot::Order, "{}", k.name);
            assert!(s.op.is_memory() && t.op.is_memory(), "{}", k.name);
            assert!(
                s.op.is_store() || t.op.is_store(),
                "{}: {} -> {}",
                k.name,
                s.label,
                t.label
            );
            assert!(o.distance <= 1, "{}", k.name);
        }
        assert_eq!(
            k.topo_order().unwrap(),
            plain.topo_order().unwrap(),
            "{}: evaluation order changed",
            k.name
        );
        // Same outputs on the reference interpreter.
        let inputs = random_inputs(&k, 5);
        if let Ok(out) = tessera_ir::interp::run(&plain, &inputs) {
            assert_eq!(
                tessera_ir::interp::run(&k, &inputs).unwrap(),
                out,
                "{}",
                k.name
            );
        }
    }
    assert!(
        with_edges >= 40,
        "only {with_edges} kernels got order edges"
    );
}

#[test]
fn long_trip_counts_stay_ordered() {
    // 200 iterations: past the rounds after which the range analysis widens.
    use tessera_ir::import::morpher::{ImportOptions, import_str_with};
    let opts = ImportOptions {
        trip_count: 200,
        ..ImportOptions::default()
    };
    let (mut ran, mut deps_seen) = (0, 0);
    for p in corpus() {
        let text = std::fs::read_to_string(&p).unwrap();
        let Ok(k) = import_str_with(&text, &p.display().to_string(), &opts) else {
            continue;
        };
        let Some(deps) = dynamic_dependences(&k, 1) else {
            continue;
        };
        ran += 1;
        for ((ia, a, _), (ib, b, _)) in deps {
            if a == b && ia < ib {
                continue;
            }
            deps_seen += 1;
            let d = order_distance(&k, a, b);
            assert!(
                d.is_some_and(|d| d <= ib - ia),
                "{}: n{a} (iteration {ia}) -> n{b} (iteration {ib}): order path distance {d:?}",
                k.name
            );
        }
    }
    assert!(
        ran >= 10 && deps_seen > 1000,
        "{ran} kernels ran, {deps_seen} dependences"
    );
}
