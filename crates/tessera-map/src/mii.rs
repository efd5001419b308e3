//! MII analysis: the lower bound on the initiation interval of a kernel on an array.
//!
//! * **ResMII** — for every set `S` of op classes present in the kernel, the ops of those
//!   classes need `n_S` functional-unit slots per iteration and can only use the PEs that
//!   support some class of `S` (memory ops: only PEs wired to a bank), one op per PE per
//!   cycle, so `II >= ceil(n_S / pes_S)`. All subsets are tried (there are at most 2^8);
//!   the report lists each class, memory ops together, all FU ops, and the binding subset.
//!   Memory accesses also need bank ports: `II >= ceil(memory ops / total ports)`, and
//!   since an array lives in one bank (`Mapping::array_banks`), the accesses to the busiest
//!   array need `II >= ceil(accesses / ports of one bank)`.
//!   `Const` and `Input` nodes are not counted (they may be immediates) unless they have
//!   an operand (a predicate), which needs a PE.
//! * **RecMII** — every edge `u -> v` with distance `d` constrains the schedule by
//!   `t_v + d * II >= t_u + w(u -> v)` (value edges: `w = latency(u)`; order edges:
//!   `w = 1` after a store, else 0, as in [`crate::mapping`]). RecMII is the smallest II for
//!   which the graph with weights `w - II * d` has no positive cycle, i.e.
//!   `max over cycles ceil(sum w / sum d)`. It is found by binary search on II with
//!   Bellman-Ford positive-cycle detection (polynomial, fine on hundreds of nodes and any
//!   number of cycles); the cycle Bellman-Ford exposes just below RecMII is the critical
//!   recurrence.
//! * **COMPOSE** — with composition enabled, dependent ops may chain within one cycle, so a
//!   recurrence costs time in picoseconds: each op consumes its combinational delay of the
//!   usable budget `B = clock_period - setup - clk_to_q` per cycle (a multi-cycle op consumes
//!   `(latency - 1) * B + min(delay, B)`), and `II >= ceil(sum delay / (B * sum d))`.
//!   This is a lower bound (hop delays are not counted).
//!
//! Elementary recurrences are also enumerated (Johnson's algorithm, bounded by a step and
//! count budget) for the listing in the report.

use crate::error::MapError;
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};
use tessera_arch::cgra::{CgraSpec, PeId};
use tessera_ir::{Kernel, OpClass, Slot};

/// Recurrences kept in [`MiiReport::recurrences`] (the highest-MII ones).
pub const MAX_LISTED_RECURRENCES: usize = 32;
/// Elementary cycles enumerated at most before the listing is marked truncated.
const MAX_ENUMERATED: usize = 2_000;
/// Work budget (edge visits) of the enumeration.
const MAX_ENUMERATION_STEPS: usize = 500_000;

/// The MII breakdown of one kernel on one architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MiiReport {
    pub res_mii: u32,
    pub rec_mii: u32,
    /// `max(res_mii, rec_mii, 1)`.
    pub mii: u32,
    /// One line per resource bound considered.
    pub per_class: Vec<ResourceLine>,
    /// Elementary recurrences, highest MII first (at most [`MAX_LISTED_RECURRENCES`]).
    pub recurrences: Vec<Recurrence>,
    /// A recurrence that reaches `rec_mii` (found by the cycle-ratio search itself, so it
    /// is present even when the enumeration was truncated).
    pub critical: Option<Recurrence>,
    /// Elementary recurrences found by the enumeration.
    pub recurrences_found: usize,
    /// True when the enumeration stopped at its budget (more recurrences may exist; RecMII
    /// is exact regardless).
    pub recurrences_truncated: bool,
    /// Whether the COMPOSE (ps-time) recurrence model was used.
    pub compose: bool,
    /// Nodes counted for ResMII (all but operand-less `Const`/`Input` immediates).
    pub fu_ops: u32,
}

/// One resource bound: `ops` ops compete for `units` slots per cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceLine {
    /// e.g. `mul`, `memory (load+store)`, `all FU ops`, `bank ports`.
    pub resource: String,
    pub classes: Vec<OpClass>,
    pub ops: u32,
    /// PEs (or ports) able to serve these ops each cycle.
    pub units: u32,
    /// `ceil(ops / units)`.
    pub mii: u32,
}

/// One elementary recurrence (a cycle of the DFG through loop-carried edges).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recurrence {
    /// Node indices in cycle order.
    pub nodes: Vec<u32>,
    /// Edge indices in cycle order (`edges[i]` leaves `nodes[i]`).
    pub edges: Vec<u32>,
    /// Mnemonics of the ops, in cycle order.
    pub ops: Vec<String>,
    /// Sum of the edge weights in cycles (latencies; order edges 0 or 1).
    pub latency_cycles: u32,
    /// Sum of the COMPOSE weights in ps (see the module docs).
    pub delay_ps: u64,
    /// Sum of the iteration distances.
    pub distance: u32,
    /// The II this recurrence alone forces.
    pub mii: u32,
}

/// Per-edge weights of the recurrence model.
struct EdgeModel {
    src: usize,
    dst: usize,
    edge: u32,
    distance: i64,
    latency_cycles: i64,
    delay_ps: i64,
}

/// Compute the MII breakdown.
pub fn analyze(kernel: &Kernel, arch: &CgraSpec) -> Result<MiiReport, MapError> {
    kernel
        .topo_order()
        .map_err(|e| MapError::InvalidKernel(e.to_string()))?;
    let pe_count = arch.pe_count();
    let mem_wired: Vec<bool> = (0..pe_count)
        .map(|p| !arch.banks_of(p as PeId).is_empty())
        .collect();
    let can_run = |pe: usize, class: OpClass| {
        arch.supports(pe as PeId, class) && (!class.is_memory() || mem_wired[pe])
    };

    // Count FU ops per class and refuse nodes nothing can run.
    let mut counts: Vec<(OpClass, u32)> = Vec::new();
    for (id, node) in kernel.nodes() {
        let class = node.op.class();
        // A const/input is an immediate unless it has an operand (a predicate), which
        // only a PE can evaluate.
        let has_operand = kernel
            .graph
            .edges_directed(id, petgraph::Direction::Incoming)
            .any(|e| e.weight().carries_value());
        if matches!(class, OpClass::Const | OpClass::Input) && !has_operand {
            continue;
        }
        if !(0..pe_count).any(|p| can_run(p, class)) {
            let reason =
                if class.is_memory() && (0..pe_count).any(|p| arch.supports(p as PeId, class)) {
                    format!(
                        "`{}` has PEs supporting {class} but none is wired to a memory bank",
                        arch.name
                    )
                } else {
                    format!("no PE of `{}` supports op class `{class}`", arch.name)
                };
            return Err(MapError::Unsupported {
                node: id.index() as u32,
                op: node.op.mnemonic(),
                reason,
            });
        }
        match counts.iter_mut().find(|(c, _)| *c == class) {
            Some((_, n)) => *n += 1,
            None => counts.push((class, 1)),
        }
    }
    counts.sort();
    let fu_ops: u32 = counts.iter().map(|(_, n)| *n).sum();

    let units_for = |classes: &[OpClass]| -> u32 {
        (0..pe_count)
            .filter(|&p| classes.iter().any(|&c| can_run(p, c)))
            .count() as u32
    };
    let line = |resource: String, classes: Vec<OpClass>| -> ResourceLine {
        let ops: u32 = counts
            .iter()
            .filter(|(c, _)| classes.contains(c))
            .map(|(_, n)| *n)
            .sum();
        let units = units_for(&classes);
        ResourceLine {
            resource,
            classes,
            ops,
            units,
            mii: ops.div_ceil(units.max(1)),
        }
    };

    let mut per_class: Vec<ResourceLine> = counts
        .iter()
        .map(|(c, _)| line(c.name().to_string(), vec![*c]))
        .collect();
    let mem_classes: Vec<OpClass> = counts
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| c.is_memory())
        .collect();
    if mem_classes.len() > 1 {
        per_class.push(line("memory (load+store)".to_string(), mem_classes.clone()));
    }
    let mem_ops: u32 = counts
        .iter()
        .filter(|(c, _)| c.is_memory())
        .map(|(_, n)| *n)
        .sum();
    if mem_ops > 0 {
        let ports: u32 = arch.memory.banks.iter().map(|b| b.ports as u32).sum();
        per_class.push(ResourceLine {
            resource: format!("bank ports ({} banks)", arch.memory.banks.len()),
            classes: mem_classes,
            ops: mem_ops,
            units: ports,
            mii: mem_ops.div_ceil(ports.max(1)),
        });
    }
    // An array lives in one bank (`Mapping::array_banks`), so all its accesses share that
    // bank's ports: II >= ceil(accesses / ports of the widest bank). Listed for the busiest
    // array.
    let mut per_array = vec![0u32; kernel.arrays.len()];
    for (_, node) in kernel.nodes() {
        if let (true, Some(a)) = (node.op.is_memory(), node.array)
            && let Some(c) = per_array.get_mut(a as usize)
        {
            *c += 1;
        }
    }
    if let Some((a, &acc)) = per_array
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
        && acc > 0
    {
        let ports = arch
            .memory
            .banks
            .iter()
            .map(|b| b.ports as u32)
            .max()
            .unwrap_or(1)
            .max(1);
        per_class.push(ResourceLine {
            resource: format!("bank ports of array `{}`", kernel.arrays[a].name),
            classes: counts
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| c.is_memory())
                .collect(),
            ops: acc,
            units: ports,
            mii: acc.div_ceil(ports),
        });
    }
    if counts.len() > 1 {
        per_class.push(line(
            "all FU ops".to_string(),
            counts.iter().map(|(c, _)| *c).collect(),
        ));
    }
    // Every subset of the present classes (Hall-type bound); add the binding one if it is
    // stronger than every line above.
    let best_listed = per_class.iter().map(|l| l.mii).max().unwrap_or(0);
    let k = counts.len();
    let mut best_subset: Option<ResourceLine> = None;
    for mask in 1u32..(1u32 << k) {
        let classes: Vec<OpClass> = (0..k)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| counts[i].0)
            .collect();
        let l = line(String::new(), classes);
        if l.mii > best_listed && best_subset.as_ref().is_none_or(|b| l.mii > b.mii) {
            best_subset = Some(l);
        }
    }
    if let Some(mut l) = best_subset {
        l.resource = format!(
            "classes {}",
            l.classes
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join("+")
        );
        per_class.push(l);
    }
    let res_mii = per_class.iter().map(|l| l.mii).max().unwrap_or(0);

    // Recurrences.
    let compose = arch.compose.enabled;
    let budget_ps = (arch.timing.clock_period_ps as i64
        - arch.timing.setup_ps as i64
        - arch.timing.clk_to_q_ps as i64)
        .max(1);
    let latency = |class: OpClass| -> i64 {
        arch.op_cost(class)
            .map(|c| c.latency_cycles as i64)
            .unwrap_or(1)
    };
    let compose_cost = |class: OpClass| -> i64 {
        let (lat, delay) = arch
            .op_cost(class)
            .map(|c| (c.latency_cycles.max(1) as i64, c.delay_ps as i64))
            .unwrap_or((1, budget_ps));
        (lat - 1) * budget_ps + delay.min(budget_ps)
    };
    let edges: Vec<EdgeModel> = kernel
        .graph
        .edge_references()
        .map(|e| {
            let src_op = kernel.graph[e.source()].op;
            let class = src_op.class();
            let (lat, ps) = if matches!(e.weight().slot, Slot::Order) {
                if src_op.is_store() {
                    (1, compose_cost(class))
                } else {
                    (0, 0)
                }
            } else {
                (latency(class), compose_cost(class))
            };
            EdgeModel {
                src: e.source().index(),
                dst: e.target().index(),
                edge: e.id().index() as u32,
                distance: e.weight().distance as i64,
                latency_cycles: lat,
                delay_ps: ps,
            }
        })
        .collect();
    let weight = |e: &EdgeModel| {
        if compose {
            e.delay_ps
        } else {
            e.latency_cycles
        }
    };
    let scale = if compose { budget_ps } else { 1 };
    let recurrence_mii = |w: i64, d: i64| -> u32 {
        if d <= 0 {
            u32::MAX
        } else {
            (w.max(0) as u64).div_ceil((d * scale) as u64) as u32
        }
    };

    let n = kernel.node_count();
    let cyc = CycleGraph::new(n, &edges);
    let (rec_mii, critical_edges) = if cyc.edges.is_empty() {
        (0, None)
    } else {
        let total_w: i64 = cyc.edges.iter().map(|&i| weight(&edges[i]).max(0)).sum();
        // Feasible(ii): no cycle with sum(w) - ii*scale*sum(d) > 0.
        let mut lo = 0u64; // infeasible or trivially 0
        let mut hi = (total_w as u64).div_ceil(scale as u64).max(1);
        if cyc.positive_cycle(&edges, &weight, 0).is_none() {
            (0, None)
        } else {
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if cyc
                    .positive_cycle(&edges, &weight, (mid as i64) * scale)
                    .is_some()
                {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let crit = cyc.positive_cycle(&edges, &weight, (lo as i64) * scale);
            (hi as u32, crit)
        }
    };

    let make_rec = |path: &[usize]| -> Recurrence {
        let lat: i64 = path.iter().map(|&i| edges[i].latency_cycles).sum();
        let ps: i64 = path.iter().map(|&i| edges[i].delay_ps).sum();
        let d: i64 = path.iter().map(|&i| edges[i].distance).sum();
        let nodes: Vec<u32> = path.iter().map(|&i| edges[i].src as u32).collect();
        Recurrence {
            ops: nodes
                .iter()
                .map(|&v| {
                    kernel.graph[petgraph::graph::NodeIndex::new(v as usize)]
                        .op
                        .mnemonic()
                })
                .collect(),
            nodes,
            edges: path.iter().map(|&i| edges[i].edge).collect(),
            latency_cycles: lat.max(0) as u32,
            delay_ps: ps.max(0) as u64,
            distance: d.max(0) as u32,
            mii: recurrence_mii(if compose { ps } else { lat }, d),
        }
    };

    let (found, truncated) = cyc.enumerate(&edges, n);
    let recurrences_found = found.len();
    // Rank cheaply (sums only), then build the listed ones.
    let mut ranked: Vec<(u32, i64, &Vec<usize>)> = found
        .iter()
        .map(|p| {
            let lat: i64 = p.iter().map(|&i| edges[i].latency_cycles).sum();
            let ps: i64 = p.iter().map(|&i| edges[i].delay_ps).sum();
            let d: i64 = p.iter().map(|&i| edges[i].distance).sum();
            (recurrence_mii(if compose { ps } else { lat }, d), lat, p)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    ranked.truncate(MAX_LISTED_RECURRENCES);
    let mut recurrences: Vec<Recurrence> = ranked.iter().map(|(_, _, p)| make_rec(p)).collect();
    recurrences.sort_by(|a, b| {
        b.mii
            .cmp(&a.mii)
            .then(b.latency_cycles.cmp(&a.latency_cycles))
            .then(a.nodes.cmp(&b.nodes))
    });

    let mut critical = critical_edges.map(|p| make_rec(&rotate_to_min(&p, &edges)));
    if critical.as_ref().is_none_or(|c| c.mii != rec_mii) {
        // Fall back to the listing (only reachable if the extracted cycle were not
        // critical, which Bellman-Ford guarantees it is; kept as a safety net).
        critical = recurrences.first().filter(|r| r.mii == rec_mii).cloned();
    }

    let mii = res_mii.max(rec_mii).max(1);
    Ok(MiiReport {
        res_mii,
        rec_mii,
        mii,
        per_class,
        recurrences,
        critical,
        recurrences_found,
        recurrences_truncated: truncated,
        compose,
        fu_ops,
    })
}

/// Rotate a cycle (edge list) so that it starts at its lowest node index.
fn rotate_to_min(path: &[usize], edges: &[EdgeModel]) -> Vec<usize> {
    let start = (0..path.len())
        .min_by_key(|&i| edges[path[i]].src)
        .unwrap_or(0);
    path[start..]
        .iter()
        .chain(&path[..start])
        .copied()
        .collect()
}

/// The part of the DFG that can lie on cycles: edges inside strongly connected components.
struct CycleGraph {
    n: usize,
    /// Indices into the edge model of edges inside an SCC.
    edges: Vec<usize>,
    /// Outgoing cycle edges per node.
    out: Vec<Vec<usize>>,
}

impl CycleGraph {
    fn new(n: usize, edges: &[EdgeModel]) -> Self {
        let comp = scc_ids(n, edges, |_| true);
        let cyc: Vec<usize> = (0..edges.len())
            .filter(|&i| comp[edges[i].src] == comp[edges[i].dst])
            .collect();
        let mut out = vec![Vec::new(); n];
        for &i in &cyc {
            out[edges[i].src].push(i);
        }
        Self { n, edges: cyc, out }
    }

    /// A cycle with `sum(w) - offset * sum(d) > 0`, as a list of edge indices, if any
    /// (longest-path Bellman-Ford from a virtual source).
    fn positive_cycle(
        &self,
        edges: &[EdgeModel],
        weight: &dyn Fn(&EdgeModel) -> i64,
        offset: i64,
    ) -> Option<Vec<usize>> {
        let n = self.n;
        let mut dist = vec![0i64; n];
        let mut pred: Vec<Option<usize>> = vec![None; n];
        let mut last_changed = None;
        for _round in 0..n {
            last_changed = None;
            for &i in &self.edges {
                let e = &edges[i];
                let cand = dist[e.src] + weight(e) - offset * e.distance;
                if cand > dist[e.dst] {
                    dist[e.dst] = cand;
                    pred[e.dst] = Some(i);
                    last_changed = Some(e.dst);
                }
            }
            last_changed?;
        }
        // Still relaxing after n rounds: a positive cycle exists in the predecessor graph.
        let mut v = last_changed?;
        for _ in 0..n {
            v = edges[pred[v]?].src;
        }
        let start = v;
        let mut cycle = Vec::new();
        loop {
            let e = pred[v]?;
            cycle.push(e);
            v = edges[e].src;
            if v == start || cycle.len() > n {
                break;
            }
        }
        cycle.reverse();
        Some(cycle)
    }

    /// Elementary cycles (Johnson), bounded; parallel edges collapsed to the one with the
    /// smallest distance (then largest latency). Returns the cycles and whether the budget
    /// stopped the enumeration.
    fn enumerate(&self, edges: &[EdgeModel], n: usize) -> (Vec<Vec<usize>>, bool) {
        // Collapsed adjacency: (target, edge index).
        let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (slot_v, out_v) in adj.iter_mut().zip(&self.out) {
            let mut best: Vec<(usize, usize)> = Vec::new();
            for &i in out_v {
                let e = &edges[i];
                match best.iter_mut().find(|(t, _)| *t == e.dst) {
                    Some(slot) => {
                        let cur = &edges[slot.1];
                        if (e.distance, -e.latency_cycles) < (cur.distance, -cur.latency_cycles) {
                            slot.1 = i;
                        }
                    }
                    None => best.push((e.dst, i)),
                }
            }
            best.sort();
            *slot_v = best;
        }
        let mut cycles = Vec::new();
        let mut steps = 0usize;
        let mut blocked = vec![false; n];
        let mut bset: Vec<Vec<usize>> = vec![Vec::new(); n];
        for s in 0..n {
            if adj[s].is_empty() {
                continue;
            }
            // SCC of s among nodes >= s.
            let comp = scc_ids_adj(n, &adj, |v| v >= s);
            let in_comp: Vec<bool> = (0..n).map(|v| v >= s && comp[v] == comp[s]).collect();
            if !adj[s].iter().any(|&(w, _)| in_comp[w]) {
                continue;
            }
            for v in 0..n {
                if in_comp[v] {
                    blocked[v] = false;
                    bset[v].clear();
                }
            }
            // Frames: (node, next adjacency index, found a cycle).
            let mut stack: Vec<(usize, usize, bool)> = vec![(s, 0, false)];
            let mut path: Vec<usize> = Vec::new();
            blocked[s] = true;
            while let Some(&mut (v, ref mut next, ref mut found)) = stack.last_mut() {
                steps += 1;
                if steps > MAX_ENUMERATION_STEPS {
                    return (cycles, true);
                }
                if *next < adj[v].len() {
                    let (w, e) = adj[v][*next];
                    *next += 1;
                    if !in_comp[w] {
                        continue;
                    }
                    if w == s {
                        *found = true;
                        let mut c = path.clone();
                        c.push(e);
                        cycles.push(c);
                        if cycles.len() >= MAX_ENUMERATED {
                            return (cycles, true);
                        }
                    } else if !blocked[w] {
                        blocked[w] = true;
                        path.push(e);
                        stack.push((w, 0, false));
                    }
                } else {
                    let f = *found;
                    if f {
                        unblock(v, &mut blocked, &mut bset);
                    } else {
                        for &(w, _) in &adj[v] {
                            if in_comp[w] && !bset[w].contains(&v) {
                                bset[w].push(v);
                            }
                        }
                    }
                    stack.pop();
                    path.pop();
                    if let Some(parent) = stack.last_mut() {
                        parent.2 |= f;
                    }
                }
            }
        }
        (cycles, false)
    }
}

fn unblock(u: usize, blocked: &mut [bool], bset: &mut [Vec<usize>]) {
    let mut work = vec![u];
    while let Some(x) = work.pop() {
        if !blocked[x] {
            continue;
        }
        blocked[x] = false;
        for w in std::mem::take(&mut bset[x]) {
            if blocked[w] {
                work.push(w);
            }
        }
    }
}

fn scc_ids(n: usize, edges: &[EdgeModel], keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, e) in edges.iter().enumerate() {
        adj[e.src].push((e.dst, i));
    }
    scc_ids_adj(n, &adj, keep)
}

/// Strongly connected component id of every node (iterative Tarjan) in the subgraph of
/// nodes `keep` accepts; other nodes get unique ids.
fn scc_ids_adj(n: usize, adj: &[Vec<(usize, usize)>], keep: impl Fn(usize) -> bool) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let mut index = vec![NONE; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![NONE; n];
    let mut stack = Vec::new();
    let mut counter = 0;
    let mut ncomp = 0;
    for root in 0..n {
        if index[root] != NONE || !keep(root) {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = call.last_mut() {
            if *i < adj[v].len() {
                let w = adj[v][*i].0;
                *i += 1;
                if !keep(w) {
                    continue;
                }
                if index[w] == NONE {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(p, _)) = call.last() {
                    low[p] = low[p].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = ncomp;
                        if w == v {
                            break;
                        }
                    }
                    ncomp += 1;
                }
            }
        }
    }
    for c in comp.iter_mut() {
        if *c == NONE {
            *c = ncomp;
            ncomp += 1;
        }
    }
    comp
}

impl MiiReport {
    /// A readable multi-line breakdown.
    pub fn explain(&self, kernel: &Kernel) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "MII = {} (ResMII {}, RecMII {}{})\n",
            self.mii,
            self.res_mii,
            self.rec_mii,
            if self.compose {
                ", COMPOSE ps-time model"
            } else {
                ""
            }
        ));
        s.push_str(&format!(
            "Resource bounds ({} FU ops; operand-less const/input nodes are immediates, not counted):\n",
            self.fu_ops
        ));
        let binding = self.per_class.iter().position(|l| l.mii == self.res_mii);
        for (i, l) in self.per_class.iter().enumerate() {
            s.push_str(&format!(
                "  {:<36} {:>4} ops / {:>3} units -> {}{}\n",
                l.resource,
                l.ops,
                l.units,
                l.mii,
                if Some(i) == binding && self.res_mii > 0 {
                    "  <- ResMII"
                } else {
                    ""
                }
            ));
        }
        if self.recurrences_found == 0 && self.critical.is_none() {
            s.push_str("Recurrences: none (no loop-carried cycle)\n");
        } else {
            s.push_str(&format!(
                "Recurrences: {}{} elementary, {} listed (highest first):\n",
                self.recurrences_found,
                if self.recurrences_truncated {
                    "+ (enumeration budget reached)"
                } else {
                    ""
                },
                self.recurrences.len()
            ));
            for r in self.recurrences.iter().take(10) {
                s.push_str(&format!("  {}\n", r.describe(kernel, self.compose)));
            }
            if self.recurrences.len() > 10 {
                s.push_str(&format!(
                    "  ... {} more listed in --json\n",
                    self.recurrences.len() - 10
                ));
            }
        }
        if let Some(c) = &self.critical {
            s.push_str(&format!(
                "Critical recurrence: {}\n",
                c.describe(kernel, self.compose)
            ));
        }
        s
    }
}

impl Recurrence {
    /// One line: `II>=3: n4 add -> n7 mul -> (n4) | latency 3 / distance 1`.
    pub fn describe(&self, kernel: &Kernel, compose: bool) -> String {
        let mut path: Vec<String> = self
            .nodes
            .iter()
            .zip(&self.ops)
            .map(|(n, op)| {
                let label = &kernel.graph[petgraph::graph::NodeIndex::new(*n as usize)].label;
                if label.is_empty() {
                    format!("n{n} {op}")
                } else {
                    format!("n{n} {op} `{label}`")
                }
            })
            .collect();
        if let Some(first) = self.nodes.first() {
            path.push(format!("(n{first})"));
        }
        if compose {
            format!(
                "II>={}: {} | {} ps / distance {}",
                self.mii,
                path.join(" -> "),
                self.delay_ps,
                self.distance
            )
        } else {
            format!(
                "II>={}: {} | latency {} / distance {}",
                self.mii,
                path.join(" -> "),
                self.latency_cycles,
                self.distance
            )
        }
    }
}
