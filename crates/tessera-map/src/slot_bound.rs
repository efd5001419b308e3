//! A lower bound on the II from the interaction of recurrences and modulo slots.
//!
//! At an II where some recurrence has zero slack (`sum latency = distance * II`), the
//! schedule constraints of [`crate::mapping`] (`t_v + d * II >= t_u + w`) fix the time
//! differences of the ops on such recurrences exactly: with longest-path potentials `pi`
//! of the graph weighted `w - d * II` (no positive cycle once `II >= RecMII`), every edge of
//! a zero-weight cycle is tight (`pi_v = pi_u + w - d * II`), and in a strongly connected
//! component of tight edges each pair `u, v` has `t_v - t_u >= pi_v - pi_u` one way round
//! and `t_u - t_v >= pi_u - pi_v` the other, so `t_v - t_u = pi_v - pi_u`. The ops of one
//! such *rigid* component therefore occupy modulo slots `(pi_v + s) mod II` for one common
//! shift `s`. If in some slot they need more functional units of a kind than the array has
//! (Hall's condition per set of PEs able to run them: more ops whose PEs all lie in a set
//! than PEs in that set), or more accesses to one array than a bank has ports (an array
//! lives in one bank; read-only arrays that may be replicated are not counted), no mapping
//! exists at that II, whatever the placement and routing. This is the
//! "resource-constrained recurrence" effect iterative modulo schedulers hit at II = MII
//! (Rau, MICRO 1994, section 4); the MII analysis uses it to skip such IIs (see
//! [`crate::mii::MiiReport::slot_mii`]).
//!
//! Only meaningful without COMPOSE chaining (chained ops share a cycle and the latency
//! model above does not hold); callers skip it when `arch.compose.enabled`.
//! `Const`/`Input` nodes without a value operand may be immediates: they and their edges
//! are left out, which only relaxes the constraints (the bound stays valid).

use petgraph::visit::EdgeRef;
use std::collections::BTreeMap;
use tessera_arch::cgra::{CgraSpec, PeId};
use tessera_ir::{ArrayDir, Kernel, OpClass, Slot};

/// The first II in `from..=max_ii` at which no rigid recurrence overfills a modulo slot,
/// with the reason each lower II of that range is infeasible. Returns `from` (and no
/// reasons) when COMPOSE is enabled or nothing conflicts.
pub fn first_feasible(
    kernel: &Kernel,
    arch: &CgraSpec,
    replicate: bool,
    from: u32,
    max_ii: u32,
) -> (u32, Vec<(u32, String)>) {
    let mut reasons = Vec::new();
    if arch.compose.enabled {
        return (from, reasons);
    }
    let mut ii = from.max(1);
    while ii < max_ii {
        match conflict(kernel, arch, replicate, ii) {
            Some(why) => {
                reasons.push((ii, why));
                ii += 1;
            }
            None => break,
        }
    }
    (ii, reasons)
}

/// Why `ii` is infeasible because a rigid (zero-slack) recurrence overfills a modulo slot,
/// or `None`. Also `None` when `ii` is below the recurrence bound (a positive cycle; the
/// RecMII reports that) or COMPOSE is enabled.
pub fn conflict(kernel: &Kernel, arch: &CgraSpec, replicate: bool, ii: u32) -> Option<String> {
    if arch.compose.enabled || ii == 0 {
        return None;
    }
    let g = &kernel.graph;
    let n = kernel.node_count();
    let ii = ii as i64;
    // Nodes that need a PE (as in the ResMII count).
    let fu: Vec<bool> = g
        .node_indices()
        .map(|v| {
            let class = g[v].op.class();
            !matches!(class, OpClass::Const | OpClass::Input)
                || g.edges_directed(v, petgraph::Direction::Incoming)
                    .any(|e| e.weight().carries_value())
        })
        .collect();
    let latency = |class: OpClass| -> i64 {
        arch.op_cost(class)
            .map(|c| c.latency_cycles as i64)
            .unwrap_or(1)
    };
    // Constraints (u, v, w - d * II) between FU nodes.
    let mut edges: Vec<(usize, usize, i64)> = Vec::new();
    for e in g.edge_references() {
        let (u, v) = (e.source().index(), e.target().index());
        if !fu[u] || !fu[v] {
            continue;
        }
        let op = g[e.source()].op;
        let w = match e.weight().slot {
            Slot::Order => i64::from(op.is_store()),
            _ => latency(op.class()),
        };
        edges.push((u, v, w - e.weight().distance as i64 * ii));
    }
    // Longest-path potentials from a virtual source (Bellman-Ford); a positive cycle
    // (II below RecMII) shows as no convergence.
    let mut pi = vec![0i64; n];
    let mut converged = false;
    for _ in 0..=n {
        let mut changed = false;
        for &(u, v, w) in &edges {
            if pi[u] + w > pi[v] {
                pi[v] = pi[u] + w;
                changed = true;
            }
        }
        if !changed {
            converged = true;
            break;
        }
    }
    if !converged {
        return None;
    }
    // Strongly connected components of the tight edges (Tarjan's algorithm, iterative).
    let mut tight: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut self_tight = vec![false; n];
    for &(u, v, w) in &edges {
        if pi[u] + w == pi[v] {
            if u == v {
                self_tight[u] = true;
            } else {
                tight[u].push(v);
            }
        }
    }
    let comp = tarjan(&tight);
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for v in 0..n {
        if fu[v] {
            groups.entry(comp[v]).or_default().push(v);
        }
    }
    let pes = arch.pe_count();
    let mem_wired: Vec<bool> = (0..pes)
        .map(|p| !arch.banks_of(p as PeId).is_empty())
        .collect();
    let pe_set = |class: OpClass| -> Vec<bool> {
        (0..pes)
            .map(|p| arch.supports(p as PeId, class) && (!class.is_memory() || mem_wired[p]))
            .collect()
    };
    let arrays = kernel.arrays.len();
    let mut stored = vec![false; arrays];
    for v in g.node_indices() {
        if g[v].op.is_store()
            && let Some(a) = g[v].array.map(|a| a as usize).filter(|&a| a < arrays)
        {
            stored[a] = true;
        }
    }
    let max_ports = arch
        .memory
        .banks
        .iter()
        .map(|b| b.ports as usize)
        .max()
        .unwrap_or(1)
        .max(1);
    for members in groups.values() {
        let rigid = members.len() > 1 || self_tight[members[0]];
        if !rigid || members.len() < 2 {
            continue;
        }
        let mut by_slot: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for &v in members {
            by_slot.entry(pi[v].rem_euclid(ii)).or_default().push(v);
        }
        for ops in by_slot.values() {
            // Hall's condition on each set of PEs some op of the slot can use.
            let sets: Vec<Vec<bool>> = ops
                .iter()
                .map(|&v| pe_set(g[petgraph::graph::NodeIndex::new(v)].op.class()))
                .collect();
            for s in &sets {
                let inside = sets
                    .iter()
                    .filter(|t| t.iter().zip(s).all(|(a, b)| !*a || *b))
                    .count();
                let units = s.iter().filter(|x| **x).count();
                if inside > units {
                    return Some(format!(
                        "{inside} ops of a zero-slack recurrence (nodes {}) must share one modulo slot but only {units} PEs can run them",
                        list(ops)
                    ));
                }
            }
            // Accesses to one array share its bank's ports.
            let mut per_array: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for &v in ops {
                let node = &g[petgraph::graph::NodeIndex::new(v)];
                if let Some(a) = node.array.map(|a| a as usize).filter(|&a| a < arrays)
                    && node.op.is_memory()
                {
                    let replicable = replicate && kernel.arrays[a].dir == ArrayDir::In && !stored[a];
                    if !replicable {
                        per_array.entry(a).or_default().push(v);
                    }
                }
            }
            for (a, acc) in per_array {
                if acc.len() > max_ports {
                    return Some(format!(
                        "{} accesses to array `{}` on a zero-slack recurrence (nodes {}) must share one modulo slot but a bank has at most {max_ports} port(s)",
                        acc.len(),
                        kernel.arrays[a].name,
                        list(&acc)
                    ));
                }
            }
        }
    }
    None
}

fn list(nodes: &[usize]) -> String {
    nodes
        .iter()
        .map(|v| format!("n{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Component id of every node (Tarjan's SCC algorithm without recursion).
fn tarjan(adj: &[Vec<usize>]) -> Vec<usize> {
    let n = adj.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![usize::MAX; n];
    let mut stack = Vec::new();
    let mut next = 0usize;
    let mut comps = 0usize;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next neighbour position)
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = call.last_mut() {
            if *i < adj[v].len() {
                let w = adj[v][*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = comps;
                        if w == v {
                            break;
                        }
                    }
                    comps += 1;
                }
            }
        }
    }
    comp
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;
    use tessera_ir::{ArrayDecl, KernelSource, Node, Op, Operand, Width};

    fn array(k: &mut Kernel, name: &str, base: u32, dir: ArrayDir) -> u16 {
        k.arrays.push(ArrayDecl {
            name: name.into(),
            width: Width::Word,
            signed: true,
            len: 4,
            base,
            dir,
            init_range: None,
        });
        (k.arrays.len() - 1) as u16
    }

    fn order(distance: u32) -> Operand {
        Operand {
            slot: Slot::Order,
            distance,
            init: 0,
        }
    }

    /// `loads` loads `L_i` (of array `shared` or of one array each) feed adds `N_i`, each
    /// ordered before one store `S`, which is ordered before every load of the next
    /// iteration: every recurrence `L_i -> N_i -> S -> L_i` has latency 1 + 0 + 1 = 2
    /// at distance 1 (RecMII 2), and at II 2 all loads are rigid in one slot.
    fn fan(loads: usize, shared: bool) -> Kernel {
        let mut k = Kernel::new("fan", KernelSource::Built);
        let out = array(&mut k, "o", 512, ArrayDir::Out);
        let s = k.add_node(
            Node::new(Op::Store { width: Width::Word })
                .with_imm(512)
                .with_array(out),
        );
        let c = k.add_node(Node::new(Op::Const).with_imm(1));
        k.add_edge(c, s, Operand::data(0));
        let one = if shared {
            Some(array(&mut k, "a", 0, ArrayDir::InOut))
        } else {
            None
        };
        for i in 0..loads {
            let a = one.unwrap_or_else(|| array(&mut k, &format!("a{i}"), 64 * i as u32, ArrayDir::In));
            let base = k.arrays[a as usize].base as i32;
            let l = k.add_node(
                Node::new(Op::Load {
                    width: Width::Word,
                    signed: true,
                })
                .with_imm(base)
                .with_array(a),
            );
            let nn = k.add_node(Node::new(Op::Add));
            k.add_edge(l, nn, Operand::data(0));
            k.add_edge(c, nn, Operand::data(1));
            k.add_edge(nn, s, order(0));
            k.add_edge(s, l, order(1));
        }
        k.trip_count = 4;
        k.validate().unwrap();
        k
    }

    fn hycube() -> CgraSpec {
        CgraSpec::load("hycube-4x4").unwrap()
    }

    #[test]
    fn five_rigid_loads_overfill_four_memory_pes() {
        let (k, arch) = (fan(5, false), hycube());
        let why = conflict(&k, &arch, true, 2).expect("5 loads in one slot, 4 memory PEs");
        assert!(why.contains("5 ops") && why.contains("only 4 PEs"), "{why}");
        // One more cycle of slack frees the loads' slots.
        assert_eq!(conflict(&k, &arch, true, 3), None);
        assert_eq!(first_feasible(&k, &arch, true, 2, 32).0, 3);
        // Four loads fit the four memory PEs.
        assert_eq!(conflict(&fan(4, false), &arch, true, 2), None);
    }

    #[test]
    fn rigid_accesses_to_one_array_overfill_its_bank_port() {
        let (k, arch) = (fan(2, true), hycube());
        let why = conflict(&k, &arch, true, 2).expect("2 accesses of `a` in one slot, 1 port");
        assert!(why.contains("array `a`"), "{why}");
        let (ii, reasons) = first_feasible(&k, &arch, true, 2, 32);
        assert_eq!((ii, reasons.len()), (3, 1));
    }

    #[test]
    fn below_the_recurrence_bound_or_with_compose_there_is_no_verdict() {
        let (k, mut arch) = (fan(5, false), hycube());
        assert_eq!(conflict(&k, &arch, true, 1), None);
        arch.compose.enabled = true;
        assert_eq!(conflict(&k, &arch, true, 2), None);
        assert_eq!(first_feasible(&k, &arch, true, 2, 32), (2, Vec::new()));
    }
}
