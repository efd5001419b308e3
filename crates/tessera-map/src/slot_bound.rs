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
    for &(u, v, w) in &edges {
        if u != v && pi[u] + w == pi[v] {
            tight[u].push(v);
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
    let max_ports = arch.max_bank_ports() as usize;
    for members in groups.values() {
        // A lone op (at most a self-loop) shares its slot with nothing.
        if members.len() < 2 {
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
                    let replicable =
                        replicate && kernel.arrays[a].dir == ArrayDir::In && !stored[a];
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
    // Beyond rigid components: the memory ops of one strongly connected component, each in
    // its time window relative to one of them, by exhaustive search.
    let mem_cap = (0..pes)
        .filter(|&p| {
            mem_wired[p]
                && OpClass::ALL
                    .iter()
                    .any(|c| c.is_memory() && arch.supports(p as PeId, *c))
        })
        .count();
    let port_array: Vec<Option<usize>> = g
        .node_indices()
        .map(|v| {
            let node = &g[v];
            node.array
                .map(|a| a as usize)
                .filter(|&a| a < arrays && node.op.is_memory())
                .filter(|&a| !(replicate && kernel.arrays[a].dir == ArrayDir::In && !stored[a]))
        })
        .collect();
    let mem: Vec<bool> = g
        .node_indices()
        .map(|v| fu[v.index()] && g[v].op.is_memory())
        .collect();
    windows_conflict(ii, &edges, &mem, &port_array, mem_cap, max_ports)
}

/// FU nodes at most for the window search (it needs all-pairs longest paths).
const WINDOW_MAX_NODES: usize = 400;
/// Search nodes per component before the window search gives up (no verdict).
const WINDOW_MAX_STEPS: usize = 200_000;

/// The window search: `edges` are the constraints `(u, v, w - d * II)`; `mem` marks memory
/// ops, `port_array` the single-bank array each one accesses. Within a strongly connected
/// component, node `b` lies in `[D(r, b), -D(b, r)]` relative to any member `r` (`D`: longest
/// path), and every pair keeps `t_b - t_c >= D(c, b)`; slots hold at most `mem_cap` memory
/// ops and `ports` accesses per array. These are necessary conditions of every mapping
/// (slots repeat every II and capacities are the same in every slot, so fixing `t_r = 0`
/// loses nothing); when no assignment meets them the II is infeasible.
fn windows_conflict(
    ii: i64,
    edges: &[(usize, usize, i64)],
    mem: &[bool],
    port_array: &[Option<usize>],
    mem_cap: usize,
    ports: usize,
) -> Option<String> {
    let ops: Vec<usize> = (0..mem.len()).filter(|&v| mem[v]).collect();
    if ops.len() <= 1 || mem.len() > WINDOW_MAX_NODES {
        return None;
    }
    // All-pairs longest paths over every node (paths may pass through non-memory ops).
    let n = mem.len();
    const NONE: i64 = i64::MIN / 4;
    let mut d = vec![NONE; n * n];
    for &(u, v, w) in edges {
        d[u * n + v] = d[u * n + v].max(w);
    }
    for k in 0..n {
        for a in 0..n {
            let ak = d[a * n + k];
            if ak == NONE {
                continue;
            }
            for b in 0..n {
                let kb = d[k * n + b];
                if kb != NONE && ak + kb > d[a * n + b] {
                    d[a * n + b] = ak + kb;
                }
            }
        }
    }
    if (0..n).any(|a| d[a * n + a] > 0) {
        return None;
    }
    let dd = |a: usize, b: usize| d[a * n + b];
    let mut done = vec![false; n];
    for &r in &ops {
        if done[r] {
            continue;
        }
        let group: Vec<usize> = ops
            .iter()
            .copied()
            .filter(|&b| b == r || (dd(r, b) != NONE && dd(b, r) != NONE))
            .collect();
        for &b in &group {
            done[b] = true;
        }
        let mut per_array: BTreeMap<usize, usize> = BTreeMap::new();
        for &b in &group {
            if let Some(a) = port_array[b] {
                *per_array.entry(a).or_default() += 1;
            }
        }
        if group.len() <= mem_cap && per_array.values().all(|&c| c <= ports) {
            continue;
        }
        let lo = |b: usize| if b == r { 0 } else { dd(r, b) };
        let hi = |b: usize| if b == r { 0 } else { -dd(b, r) };
        let mut order = group.clone();
        order.sort_by_key(|&b| (hi(b) - lo(b), b));
        let k = order.len();
        let mut search = Search {
            ii,
            lo: order.iter().map(|&b| lo(b)).collect(),
            hi: order.iter().map(|&b| hi(b)).collect(),
            d: (0..k * k).map(|x| dd(order[x / k], order[x % k])).collect(),
            array: order.iter().map(|&b| port_array[b]).collect(),
            time: Vec::with_capacity(k),
            mem_used: vec![0; ii as usize],
            port_used: BTreeMap::new(),
            steps: 0,
            mem_cap,
            ports,
        };
        if search.run() == Some(false) {
            return Some(format!(
                "the {} memory ops of one recurrence component (nodes {}) find no times within their windows that fit {mem_cap} memory PEs and {ports} bank port(s) per array in every modulo slot (exhaustive search)",
                group.len(),
                list(&group)
            ));
        }
    }
    None
}

/// Backtracking state of the window search (members in search order).
struct Search {
    ii: i64,
    lo: Vec<i64>,
    hi: Vec<i64>,
    /// Longest paths between members, `d[a * k + b]` (`i64::MIN / 4`: none).
    d: Vec<i64>,
    array: Vec<Option<usize>>,
    time: Vec<i64>,
    mem_used: Vec<usize>,
    port_used: BTreeMap<(usize, usize), usize>,
    steps: usize,
    mem_cap: usize,
    ports: usize,
}

impl Search {
    /// `Some(true)`: an assignment exists; `Some(false)`: none; `None`: step budget spent.
    fn run(&mut self) -> Option<bool> {
        let i = self.time.len();
        let k = self.lo.len();
        if i == k {
            return Some(true);
        }
        for x in self.lo[i]..=self.hi[i] {
            self.steps += 1;
            if self.steps > WINDOW_MAX_STEPS {
                return None;
            }
            let none = i64::MIN / 4;
            let fits = (0..i).all(|c| {
                let (dcb, dbc) = (self.d[c * k + i], self.d[i * k + c]);
                (dcb == none || x - self.time[c] >= dcb) && (dbc == none || self.time[c] - x >= dbc)
            });
            if !fits {
                continue;
            }
            let slot = x.rem_euclid(self.ii) as usize;
            if self.mem_used[slot] >= self.mem_cap {
                continue;
            }
            let port = self.array[i].map(|a| (a, slot));
            if let Some(key) = port
                && self.port_used.get(&key).copied().unwrap_or(0) >= self.ports
            {
                continue;
            }
            self.time.push(x);
            self.mem_used[slot] += 1;
            if let Some(key) = port {
                *self.port_used.entry(key).or_default() += 1;
            }
            let r = self.run();
            self.time.pop();
            self.mem_used[slot] -= 1;
            if let Some(key) = port {
                *self.port_used.entry(key).or_default() -= 1;
            }
            match r {
                Some(false) => {}
                other => return other,
            }
        }
        Some(false)
    }
}

fn list(nodes: &[usize]) -> String {
    nodes
        .iter()
        .map(|v| format!("n{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Component id of every node (strongly connected components by petgraph's Tarjan).
fn tarjan(adj: &[Vec<usize>]) -> Vec<usize> {
    let mut g = petgraph::graph::DiGraph::<(), ()>::with_capacity(adj.len(), 0);
    for _ in 0..adj.len() {
        g.add_node(());
    }
    for (v, ws) in adj.iter().enumerate() {
        for &w in ws {
            g.add_edge(
                petgraph::graph::NodeIndex::new(v),
                petgraph::graph::NodeIndex::new(w),
                (),
            );
        }
    }
    let mut comp = vec![usize::MAX; adj.len()];
    for (id, members) in petgraph::algo::tarjan_scc(&g).into_iter().enumerate() {
        for v in members {
            comp[v.index()] = id;
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
            elem: Default::default(),
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
        let out = array(&mut k, "o", 2048, ArrayDir::Out);
        let s = k.add_node(
            Node::new(Op::Store { width: Width::Word })
                .with_imm(2048)
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
            let a =
                one.unwrap_or_else(|| array(&mut k, &format!("a{i}"), 64 * i as u32, ArrayDir::In));
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

    #[test]
    fn the_mii_skips_a_slot_conflict_and_the_driver_maps_there() {
        let (k, arch) = (fan(5, false), hycube());
        let r = crate::mii::analyze(&k, &arch).unwrap();
        assert_eq!((r.res_mii.max(r.rec_mii), r.slot_mii, r.mii), (2, 3, 3));
        assert_eq!(r.slot_conflicts.len(), 1);
        assert!(r.explain(&k).contains("Slot bound: II 2"));
        let opts = crate::driver::MapOptions::default();
        let why = crate::heuristic::map_at_ii(&k, &arch, 2, &opts).unwrap_err();
        assert!(why.contains("no mapping exists"), "{why}");
        let out = crate::driver::map_kernel(&k, &arch, &opts).unwrap();
        assert_eq!(out.mapping.ii, 3);
        crate::check::check(&out.mapping).unwrap();
    }

    #[test]
    fn loads_with_one_cycle_of_slack_still_overfill_the_memory_pes() {
        // At II 3 every recurrence has 1 cycle of slack (no rigid component), but the 9
        // loads must lie within 2 consecutive cycles of each other: 2 slots x 4 memory PEs.
        let (k, arch) = (fan(9, false), hycube());
        let why = conflict(&k, &arch, true, 3).expect("9 loads in 2 slots of 4 PEs");
        assert!(why.contains("exhaustive search"), "{why}");
        assert_eq!(conflict(&k, &arch, true, 4), None);
        let r = crate::mii::analyze(&k, &arch).unwrap();
        assert_eq!((r.res_mii.max(r.rec_mii), r.mii), (3, 4));
        let out = crate::driver::map_kernel(&k, &arch, &Default::default()).unwrap();
        assert_eq!(out.mapping.ii, 4);
    }
}
