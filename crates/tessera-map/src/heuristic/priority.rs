//! Recurrence-first priority order for the placer, after swing modulo scheduling (Llosa,
//! González, Ayguadé and Valero, "Swing Modulo Scheduling: A Lifetime-Sensitive Approach",
//! PACT 1996) and the recurrence-first ordering of Rau's iterative modulo scheduling
//! (MICRO 1994).
//!
//! At an II close to the recurrence bound the ops of a critical recurrence have (almost)
//! fixed times relative to each other: once one of them is placed, the others must take
//! their functional-unit and bank-port slots at those times. Placing the rest of the DFG
//! first fills exactly those slots, and the recurrence then closes only through evictions.
//! This order places the strongly connected components (SCCs) of the scheduling
//! constraint graph first, tightest first (least cycle slack `d * II - latency` at this II),
//! each together with the nodes on paths between it and what is already ordered; the
//! remaining nodes follow. Inside every set, nodes are taken in alternating sweeps along
//! the edges (top-down by height, bottom-up by depth, ties by least mobility) so that a node
//! is ordered next to a neighbour already ordered — the placer then puts it close in space
//! and time, and the loop-carried edge of a recurrence has a short route back.

use super::{Bounds, NEG, Problem};
use std::collections::BTreeSet;

/// Slack of the tightest cycle through each node at this II (`None`: on no cycle).
pub(super) fn cycle_slack(b: &Bounds, v: usize) -> Option<i64> {
    let d = b.d(v, v);
    (d != NEG).then_some(-d)
}

/// Whether the constraint graph has a cycle whose slack at this II is at most `max_slack`.
pub(super) fn has_tight_recurrence(b: &Bounds, max_slack: i64) -> bool {
    b.idx
        .iter()
        .any(|&v| cycle_slack(b, v).is_some_and(|s| s <= max_slack))
}

/// The recurrence-first order of the non-immediate nodes; `tie[v]` breaks remaining ties.
pub(super) fn recurrence_first(p: &Problem, b: &Bounds, tie: &[u32]) -> Vec<usize> {
    let nodes = &b.idx;
    let reach = |u: usize, v: usize| b.d(u, v) != NEG;
    // Immediate neighbours over every scheduling constraint (value and order edges).
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); p.n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); p.n];
    for &(u, v, _, _) in &p.constraints {
        if u != v && !p.immediate[u] && !p.immediate[v] {
            succs[u].push(v);
            preds[v].push(u);
        }
    }
    let horizon = nodes
        .iter()
        .map(|&v| b.asap[v] + b.height[v])
        .max()
        .unwrap_or(0);
    let mobility = |v: usize| horizon - b.asap[v] - b.height[v];

    // SCCs with a cycle: nodes u, v share one when each reaches the other.
    let mut comp = vec![usize::MAX; p.n];
    let mut sccs: Vec<Vec<usize>> = Vec::new();
    for &v in nodes {
        if comp[v] != usize::MAX || !reach(v, v) {
            continue;
        }
        let members: Vec<usize> = nodes
            .iter()
            .copied()
            .filter(|&w| reach(v, w) && reach(w, v))
            .collect();
        for &w in &members {
            comp[w] = sccs.len();
        }
        sccs.push(members);
    }
    // Tightest first: least slack of a cycle in the SCC, then larger SCCs, then index.
    let key = |s: &Vec<usize>| {
        let slack = s
            .iter()
            .filter_map(|&v| cycle_slack(b, v))
            .min()
            .unwrap_or(i64::MAX);
        (slack, std::cmp::Reverse(s.len()), s[0])
    };
    sccs.sort_by_key(key);

    let mut order: Vec<usize> = Vec::with_capacity(nodes.len());
    let mut ordered = vec![false; p.n];
    for scc in &sccs {
        let mut set: BTreeSet<usize> = scc.iter().copied().filter(|&v| !ordered[v]).collect();
        if !order.is_empty() {
            // Nodes on paths between this SCC and the nodes already ordered.
            for &w in nodes {
                if ordered[w] || set.contains(&w) {
                    continue;
                }
                let from_scc = scc.iter().any(|&s| reach(s, w));
                let to_scc = scc.iter().any(|&s| reach(w, s));
                let from_o = order.iter().any(|&o| reach(o, w));
                let to_o = order.iter().any(|&o| reach(w, o));
                if (from_scc && to_o) || (from_o && to_scc) {
                    set.insert(w);
                }
            }
        }
        sweep(
            set,
            &mut order,
            &mut ordered,
            &preds,
            &succs,
            b,
            tie,
            &mobility,
        );
    }
    let rest: BTreeSet<usize> = nodes.iter().copied().filter(|&v| !ordered[v]).collect();
    sweep(
        rest,
        &mut order,
        &mut ordered,
        &preds,
        &succs,
        b,
        tie,
        &mobility,
    );
    order
}

/// Order the nodes of `set` after `order` in alternating top-down / bottom-up sweeps (the
/// ordering phase of swing modulo scheduling).
#[allow(clippy::too_many_arguments)]
fn sweep(
    mut set: BTreeSet<usize>,
    order: &mut Vec<usize>,
    ordered: &mut [bool],
    preds: &[Vec<usize>],
    succs: &[Vec<usize>],
    b: &Bounds,
    tie: &[u32],
    mobility: &dyn Fn(usize) -> i64,
) {
    let neighbours_in_set = |list: &[usize], set: &BTreeSet<usize>, ordered: &[bool]| {
        let mut r = BTreeSet::new();
        for &o in list {
            if ordered[o] {
                continue;
            }
            if set.contains(&o) {
                r.insert(o);
            }
        }
        r
    };
    while !set.is_empty() {
        // Start next to what is ordered: its predecessors bottom-up, else its successors
        // top-down; a set unconnected to the order starts bottom-up from its deepest node.
        let pred_of_o: Vec<usize> = order.iter().flat_map(|&o| preds[o].clone()).collect();
        let succ_of_o: Vec<usize> = order.iter().flat_map(|&o| succs[o].clone()).collect();
        let mut r = neighbours_in_set(&pred_of_o, &set, ordered);
        let mut top_down = false;
        if r.is_empty() {
            r = neighbours_in_set(&succ_of_o, &set, ordered);
            top_down = true;
        }
        if r.is_empty() {
            let start = *set
                .iter()
                .max_by_key(|&&v| {
                    (
                        b.asap[v],
                        std::cmp::Reverse(mobility(v)),
                        std::cmp::Reverse(tie[v]),
                        std::cmp::Reverse(v),
                    )
                })
                .expect("set is not empty");
            r.insert(start);
            top_down = false;
        }
        // Alternate sweeps until this connected part of the set is ordered.
        while !r.is_empty() {
            while !r.is_empty() {
                let v = *r
                    .iter()
                    .max_by_key(|&&v| {
                        let depth_or_height = if top_down { b.height[v] } else { b.asap[v] };
                        (
                            depth_or_height,
                            std::cmp::Reverse(mobility(v)),
                            std::cmp::Reverse(tie[v]),
                            std::cmp::Reverse(v),
                        )
                    })
                    .expect("r is not empty");
                r.remove(&v);
                set.remove(&v);
                ordered[v] = true;
                order.push(v);
                let next = if top_down { &succs[v] } else { &preds[v] };
                for &w in next {
                    if set.contains(&w) {
                        r.insert(w);
                    }
                }
            }
            top_down = !top_down;
            let frontier: Vec<usize> = if top_down {
                order.iter().flat_map(|&o| succs[o].clone()).collect()
            } else {
                order.iter().flat_map(|&o| preds[o].clone()).collect()
            };
            r = neighbours_in_set(&frontier, &set, ordered);
        }
    }
}

/// Whether attempt `attempt` of an II uses the recurrence-first order: attempts 2, 3, 6, 7,
/// ... (pairs, so that on large arrays both the confined and the full region get it; the
/// other attempts keep the topological order).
pub(super) fn recurrence_attempt(attempt: u32) -> bool {
    (attempt / 2) % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::super::{Bounds, prepare};
    use super::*;
    use tessera_arch::Spec;
    use tessera_arch::cgra::CgraSpec;
    use tessera_ir::{Kernel, KernelSource, Node, Op, Operand};

    /// A chain `x1 .. x5` feeding a recurrence `r0 -> r1 -> r2 -> r0` (distance 1,
    /// latency 3): the topological order starts with the chain, the recurrence-first order
    /// with the recurrence.
    #[test]
    fn the_recurrence_comes_first_then_every_node_once() {
        let mut k = Kernel::new("rec", KernelSource::Built);
        let c = k.add_node(Node::new(Op::Const).with_imm(1));
        let mut prev = c;
        let mut chain = Vec::new();
        for _ in 0..5 {
            let x = k.add_node(Node::new(Op::Add));
            k.add_edge(prev, x, Operand::data(0));
            k.add_edge(c, x, Operand::data(1));
            chain.push(x);
            prev = x;
        }
        let r0 = k.add_node(Node::new(Op::Add));
        let r1 = k.add_node(Node::new(Op::Add));
        let r2 = k.add_node(Node::new(Op::Add));
        k.add_edge(r2, r0, Operand::carried(0, 1, 0));
        k.add_edge(c, r0, Operand::data(1));
        k.add_edge(r0, r1, Operand::data(0));
        k.add_edge(c, r1, Operand::data(1));
        k.add_edge(r1, r2, Operand::data(0));
        k.add_edge(prev, r2, Operand::data(1));
        k.trip_count = 4;
        k.validate().unwrap();
        let arch = CgraSpec::load("hycube-4x4").unwrap();
        let p = prepare(&k, &arch, false).unwrap();
        let b = Bounds::compute(&p, 3).unwrap();
        assert!(has_tight_recurrence(&b, 0));
        assert_eq!(cycle_slack(&b, chain[0].index()), None);
        let order = recurrence_first(&p, &b, &vec![0; p.n]);
        let mut first: Vec<usize> = order[..3].to_vec();
        first.sort_unstable();
        assert_eq!(first, vec![r0.index(), r1.index(), r2.index()]);
        let mut all = order.clone();
        all.sort_unstable();
        assert_eq!(all, b.idx);
        // At II 4 the recurrence has one cycle of slack.
        let b4 = Bounds::compute(&p, 4).unwrap();
        assert!(!has_tight_recurrence(&b4, 0) && has_tight_recurrence(&b4, 1));
    }
}
