//! **compose** — COMPOSE chaining for the heuristic mapper (a pass between *bounds* and
//! *place and route*).
//!
//! When the array has composition enabled and an II is below the baseline recurrence bound
//! (the longest-path bounds find a positive cycle with `latency - distance * II` weights),
//! this pass picks value edges to *chain*: the consumer may then run in the same absolute
//! cycle as the producer (`t_v + d * II = t_u`, also across a loop-carried edge), reading
//! the producer's combinational result one hop away (`Loc::Comb`, see [`crate::mapping`]).
//! A chained edge weighs 0 instead of the producer's latency in the scheduling constraints.
//!
//! The plan is greedy: while a positive cycle remains, chain one edge of it, the one that
//! leaves the most timing slack; an edge is eligible when its producer is single-cycle, the
//! chained edges stay acyclic, every connected group of chained edges (a virtual PE, as the
//! checker counts it) has at most `compose.max_virtual_pe` nodes, and the static timing
//! fits: with `S(v)` the planned start of `v` (`clk_to_q + hops` of its registered inputs,
//! or `S(u) + delay(u) + hop_delay` after each chained producer `u`), every op needs
//! `S(v) + delay(v) + setup <= latency(v) * clock_period`. Registered inputs of a chained
//! op may then use only the hops that arrive by `S(v)`. Chain heads first get one hop for
//! their registered inputs; a group whose timing only fits without it gets none.
//!
//! Chained edges keep their freedom: the placer may still put the consumer in a later
//! cycle (a registered route) when that is cheaper, which only makes the timing easier.
//! At extraction every op's `start_ps` is recomputed from its actual routes, and a result
//! read only combinationally (and not a live-out) is left unregistered (deferred
//! registration).
//!
//! Mapping time: IIs below the baseline bound often fail, so a chained II gets a smaller
//! search than a baseline one ([`CHAINED_ATTEMPTS`], [`PLAN_RETRIES`],
//! [`CHAINED_STAGNATION_ROUNDS`], [`CHAINED_PLACEMENT_BUDGET`], [`CHAINED_DRIFT_IIS`]).
//! Chained attempts always place in the recurrence-first order (`priority`): the plan
//! leaves the chained recurrences without slack, the case that order is for. The planner
//! evaluates a candidate edge on the virtual PE it would grow only ([`StepState`]). See
//! "COMPOSE mapping time" in `docs/PERFORMANCE.md` for the measurements behind these.

use super::rrg::{INF, Place, Step, owner};
use super::{Bounds, Mapper, Problem, Routed};
use crate::mapping::Placement;
use petgraph::visit::EdgeRef;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tessera_arch::cgra::{CgraSpec, PeId, Topology};
use tessera_ir::Kernel;

/// Seeded attempts per II below the baseline recurrence bound (fewer than the baseline's:
/// such IIs often fail, and the mapping time with composition should stay close to the
/// baseline's). On `workloads/kernels` (compose-4x4, seed 1) every chained II that maps
/// does so by attempt 1; attempts 2 and 3 only ever failed (measured, 2026-11-25).
const CHAINED_ATTEMPTS: u32 = 2;
/// PathFinder rounds per chained attempt, at most.
const CHAINED_ROUNDS: u32 = 40;
/// Negotiation rounds without a new lowest overuse before a chained attempt gives up (the
/// baseline waits 12). On `workloads/kernels` (compose-4x4, seed 1) every chained attempt
/// that mapped did so with this limit, and with 3 two kernels lost their II (measured,
/// 2026-11-25); failing attempts at hopeless IIs spent most of their time waiting out the
/// longer limit.
const CHAINED_STAGNATION_ROUNDS: u32 = 6;
/// Placements per `place_all` call before evictions stop (`a * nodes + b`; the baseline
/// allows `(10, 100)`): a chained II that needs more eviction rounds rarely maps.
const CHAINED_PLACEMENT_BUDGET: (usize, usize) = (4, 40);
/// Chained attempts give up when an op would start more than this many IIs after the
/// latest ASAP start (the critical path). Measured without the limit on the Morpher corpus
/// and `workloads/kernels` (both COMPOSE presets, seed 1, 2026-12-06): of 64 chained
/// attempts that mapped, 63 placed no op more than 3 IIs past it and one went 17 IIs
/// past (`histogram`, 6 ops, II 2 on compose-4x4: with the limit it maps at II 3, as
/// without composition); of 218 that failed, half went past 3 IIs and a tenth past 16
/// (up to 47), evicting and re-placing ops ever later. See docs/PERFORMANCE.md, "COMPOSE
/// mapping time".
const CHAINED_DRIFT_IIS: i64 = 6;
/// Extra cost of placing an op so that a chained neighbour not yet placed, which must run
/// in the same cycle between this op and another placed one, has no PE one link from both
/// (two adjacent mesh PEs have no common neighbour). Without it, placing a chain's ends
/// before its middle left the middle op nowhere to go, and each retry shifted the whole
/// chain a cycle later (`crc32` at II 10 on compose-4x4). Chosen among 0.3, 1, 3, 8 and
/// 1000 on `workloads/kernels`, mapper seeds 1-3 (docs/PERFORMANCE.md, "COMPOSE mapping
/// time", 2026-12-06 late): 8 (twice the eviction cost) lowered `crc32`'s II at every seed
/// on compose-hycube-4x4 and at seeds 2 and 3 on compose-4x4, and raised no II there; 1
/// and 1000 raised `mandelbrot` on compose-4x4 from 3 to 5.
const CHAIN_LOOKAHEAD_COST: f32 = 8.0;
/// Starting PathFinder present-congestion factor of a chained attempt (the baseline starts
/// at 0.5, `rrg::Occ::new`). At 0.5 sharing a PE is cheap during the first placement, and
/// the ops of a chained recurrence piled onto two PEs (traced on `crc32` at II 10 on
/// compose-4x4): their chained neighbours then had no free PE next to them, and each
/// eviction shifted the whole chain a cycle later. Chosen among 0.5, 2, 4 and 8 on
/// `workloads/kernels` (mapper seeds 1-3) and the Morpher corpus (seed 1), both COMPOSE
/// presets (docs/PERFORMANCE.md, "COMPOSE mapping time", 2026-12-06/07): 4 kept every
/// speedup geometric mean within 0.08 of 0.5's and cut the chained attempts that fail; 8
/// cut more but lost corpus IIs on the mesh (speedup 1.10x -> 1.07x).
const CHAINED_PRESENT_FACTOR: f32 = 4.0;
/// Plans tried per attempt (the greedy one, then randomised tie-breaking) when a plan
/// finds no edge to chain. On `workloads/kernels` every plan that led to a mapping was the
/// first or second one tried (measured, 2026-11-25); a plan that fails costs a few
/// Bellman-Ford passes per chained edge, and at a hopeless II all of them fail.
const PLAN_RETRIES: u32 = 2;
/// Plan numbers (and so plan seeds) reserved per attempt: plan `k = attempt * stride +
/// retry`. Kept at the earlier 8 retries per attempt so that the plans tried, and hence the
/// mappings found, stay those of before the retries were cut.
const PLAN_SEED_STRIDE: u32 = 8;

/// Static timing numbers of the array, in ps.
#[derive(Debug, Clone, Copy)]
struct Timing {
    period: i64,
    ctq: i64,
    setup: i64,
    hop: i64,
    max_hops: usize,
    max_vpe: usize,
    /// Require the planned chained edges to form a bipartite graph. On a bipartite link
    /// graph (mesh, even torus) ops chained to each other in one cycle sit on PEs one link
    /// apart, so an odd cycle of chained edges cannot all chain; the placer may still
    /// register one of its edges, so plans that break this are tried too.
    bipartite: bool,
}

impl Timing {
    fn of(arch: &CgraSpec) -> Self {
        let t = &arch.timing;
        Self {
            period: t.clock_period_ps as i64,
            ctq: t.clk_to_q_ps as i64,
            setup: t.setup_ps as i64,
            hop: t.hop_delay_ps as i64,
            max_hops: arch.interconnect.max_hops_per_cycle.max(1) as usize,
            max_vpe: arch.compose.max_virtual_pe as usize,
            bipartite: match arch.interconnect.topology {
                Topology::Mesh => true,
                Topology::Torus => arch.rows.is_multiple_of(2) && arch.cols.is_multiple_of(2),
                Topology::MeshDiagonal => false,
            },
        }
    }
}

/// Combinational delay of every node, in ps.
fn delays(kernel: &Kernel, arch: &CgraSpec) -> Vec<i64> {
    kernel
        .graph
        .node_indices()
        .map(|v| {
            arch.op_cost(kernel.graph[v].op.class())
                .map_or(0, |c| c.delay_ps as i64)
        })
        .collect()
}

/// For every scheduling constraint of `p`, the value edge it stands for (`None`: an order
/// edge). Follows the edge order of `prepare`.
fn constraint_vedges(kernel: &Kernel, p: &Problem) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(p.constraints.len());
    let mut next = 0usize;
    for e in kernel.graph.edge_references() {
        if p.immediate[e.source().index()] {
            continue;
        }
        if e.weight().carries_value() {
            out.push(Some(next));
            next += 1;
        } else {
            out.push(None);
        }
    }
    debug_assert_eq!(out.len(), p.constraints.len());
    debug_assert_eq!(next, p.vedges.len());
    out
}

/// What planning needs of the kernel and array, computed once per II.
struct Ctx {
    tm: Timing,
    /// Combinational delay of every node ([`delays`]).
    delay: Vec<i64>,
    /// The value edge of every scheduling constraint ([`constraint_vedges`]).
    cv: Vec<Option<usize>>,
}

impl Ctx {
    fn new(kernel: &Kernel, arch: &CgraSpec, p: &Problem) -> Self {
        Self {
            tm: Timing::of(arch),
            delay: delays(kernel, arch),
            cv: constraint_vedges(kernel, p),
        }
    }
}

/// The planned chains at one II.
struct Plan {
    chain: Vec<bool>,
    head_hops: Vec<usize>,
}

/// Planned start of every node (ps), or `None` when the chained edges form a cycle.
fn starts(p: &Problem, tm: Timing, delay: &[i64], plan: &Plan) -> Option<Vec<i64>> {
    let n = p.n;
    let chained: Vec<(usize, usize)> = p
        .vedges
        .iter()
        .zip(&plan.chain)
        .filter(|&(_, &c)| c)
        .map(|(ve, _)| (ve.src, ve.dst))
        .collect();
    let mut s: Vec<i64> = (0..n)
        .map(|v| tm.ctq + plan.head_hops[v] as i64 * tm.hop)
        .collect();
    // Longest paths over the chained edges: with no cycle they settle within one pass per
    // edge of the longest chain (at most `chained.len()` passes); on a cycle the depth (in
    // edges) never settles, even when its delays are 0.
    let mut depth = vec![0usize; n];
    for _ in 0..=chained.len() {
        let mut changed = false;
        for &(u, v) in &chained {
            let at = s[u] + delay[u] + tm.hop;
            if at > s[v] {
                s[v] = at;
                changed = true;
            }
            if depth[u] + 1 > depth[v] {
                depth[v] = depth[u] + 1;
                changed = true;
            }
        }
        if !changed {
            return Some(s);
        }
    }
    None
}

/// Smallest timing slack (ps) over the nodes of chained groups, or `None` when some op
/// misses the period. Also checks the virtual-PE size of every group. (The planner uses
/// the group-local [`StepState::slack_with`]; debug builds check it against this.)
#[cfg_attr(not(debug_assertions), allow(dead_code))]
fn slack(p: &Problem, tm: Timing, delay: &[i64], plan: &Plan, group: &[usize]) -> Option<i64> {
    let s = starts(p, tm, delay, plan)?;
    if tm.bipartite && !two_colourable(p, &plan.chain) {
        return None;
    }
    let mut sizes = vec![0usize; p.n];
    for v in 0..p.n {
        sizes[group[v]] += 1;
    }
    let mut worst = i64::MAX;
    for v in 0..p.n {
        if sizes[group[v]] < 2 {
            continue;
        }
        if sizes[group[v]] > tm.max_vpe {
            return None;
        }
        let room = p.lat[v].max(1) * tm.period - (s[v] + delay[v] + tm.setup);
        if room < 0 {
            return None;
        }
        worst = worst.min(room);
    }
    Some(worst)
}

/// Can the nodes be 2-coloured so that every chained edge joins two colours? (Chained ops
/// run in one cycle on PEs one link apart; on a bipartite link graph an odd cycle of
/// chained edges has no placement.)
#[cfg_attr(not(debug_assertions), allow(dead_code))]
fn two_colourable(p: &Problem, chain: &[bool]) -> bool {
    // Union-find with the parity of every node relative to its representative.
    let mut parent: Vec<usize> = (0..p.n).collect();
    let mut parity = vec![0u8; p.n];
    fn find(parent: &mut [usize], parity: &mut [u8], x: usize) -> (usize, u8) {
        let mut root = x;
        let mut par = 0u8;
        while parent[root] != root {
            par ^= parity[root];
            root = parent[root];
        }
        // Path compression, keeping parities relative to the root.
        let (mut y, mut py) = (x, par);
        while parent[y] != root {
            let next = parent[y];
            let pn = py ^ parity[y];
            parent[y] = root;
            parity[y] = py;
            y = next;
            py = pn;
        }
        (root, par)
    }
    for (e, ve) in p.vedges.iter().enumerate() {
        if !chain[e] {
            continue;
        }
        let (ra, pa) = find(&mut parent, &mut parity, ve.src);
        let (rb, pb) = find(&mut parent, &mut parity, ve.dst);
        if ra == rb {
            if pa == pb {
                return false;
            }
        } else {
            parent[ra] = rb;
            parity[ra] = pa ^ pb ^ 1;
        }
    }
    true
}

/// Connected groups of the chained edges (a representative per node).
fn groups(p: &Problem, chain: &[bool]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..p.n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (e, ve) in p.vedges.iter().enumerate() {
        if chain[e] {
            let (a, b) = (find(&mut parent, ve.src), find(&mut parent, ve.dst));
            parent[a] = b;
        }
    }
    (0..p.n).map(|v| find(&mut parent, v)).collect()
}

/// A cycle with positive weight `w - d * II` (constraint indices), if any.
fn positive_cycle(p: &Problem, weights: &[i64], ii: i64) -> Option<Vec<usize>> {
    let n = p.n;
    // The passes read only (from, to, w - d * II), packed: the same relaxations in the same
    // order as over `p.constraints`, so the same cycle, at about 3/4 of the time.
    let arcs: Vec<(u32, u32, i64)> = p
        .constraints
        .iter()
        .zip(weights)
        .map(|(&(u, v, _, d), &w)| (u as u32, v as u32, w - d * ii))
        .collect();
    let mut dist = vec![0i64; n];
    let mut pred = vec![u32::MAX; n];
    let mut last = None;
    for _ in 0..n {
        last = None;
        for (c, &(u, v, w)) in arcs.iter().enumerate() {
            let cand = dist[u as usize] + w;
            if cand > dist[v as usize] {
                dist[v as usize] = cand;
                pred[v as usize] = c as u32;
                last = Some(v as usize);
            }
        }
        last?;
    }
    let pred_of = |v: usize| (pred[v] != u32::MAX).then_some(pred[v] as usize);
    let mut v = last?;
    for _ in 0..n {
        v = p.constraints[pred_of(v)?].0;
    }
    let start = v;
    let mut cycle = Vec::new();
    loop {
        let c = pred_of(v)?;
        cycle.push(c);
        v = p.constraints[c].0;
        if v == start || cycle.len() > n {
            break;
        }
    }
    Some(cycle)
}

/// The plan's virtual PEs and their timing before one planning step. A candidate edge
/// changes only the group(s) of its two ends, so [`StepState::slack_with`] evaluates the
/// plan with that edge chained on the merged group alone; the result equals [`slack`] on the
/// whole plan (checked in debug builds), at a fraction of the cost.
struct StepState {
    /// Representative of every node's group.
    group: Vec<usize>,
    /// Nodes of each group, by representative.
    members: Vec<Vec<usize>>,
    /// Chained value edges inside each group, by representative.
    chained: Vec<Vec<usize>>,
    /// Groups of two or more nodes by their smallest timing slack (ps), ascending.
    worst: Vec<(i64, usize)>,
}

/// Per-node buffers of [`StepState::slack_with`] (only the merged group's entries are used).
struct Scratch {
    start: Vec<i64>,
    depth: Vec<usize>,
    parent: Vec<usize>,
    parity: Vec<u8>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Self {
            start: vec![0; n],
            depth: vec![0; n],
            parent: (0..n).collect(),
            parity: vec![0; n],
        }
    }
}

impl StepState {
    fn new(p: &Problem, tm: Timing, delay: &[i64], plan: &Plan) -> Self {
        let group = groups(p, &plan.chain);
        let mut members = vec![Vec::new(); p.n];
        for v in 0..p.n {
            members[group[v]].push(v);
        }
        let mut chained = vec![Vec::new(); p.n];
        for (e, ve) in p.vedges.iter().enumerate() {
            if plan.chain[e] {
                chained[group[ve.src]].push(e);
            }
        }
        // Every accepted step kept the plan acyclic and within the period.
        let s = starts(p, tm, delay, plan).expect("planned chains are acyclic");
        let mut worst = Vec::new();
        for (g, m) in members.iter().enumerate() {
            if m.len() >= 2 {
                let w = m
                    .iter()
                    .map(|&v| p.lat[v].max(1) * tm.period - (s[v] + delay[v] + tm.setup))
                    .min()
                    .unwrap_or(i64::MAX);
                worst.push((w, g));
            }
        }
        worst.sort_unstable();
        Self {
            group,
            members,
            chained,
            worst,
        }
    }

    /// The nodes of groups `a` and `b`.
    fn merged_members(&self, a: usize, b: usize) -> Vec<usize> {
        let mut m = self.members[a].clone();
        if b != a {
            m.extend_from_slice(&self.members[b]);
        }
        m
    }

    /// [`slack`] of the plan with value edge `e` chained too (`zero_heads`: the merged
    /// group's nodes get no input hops).
    #[allow(clippy::too_many_arguments)]
    fn slack_with(
        &self,
        p: &Problem,
        tm: Timing,
        delay: &[i64],
        plan: &Plan,
        e: usize,
        zero_heads: bool,
        sc: &mut Scratch,
    ) -> Option<i64> {
        let ve = p.vedges[e];
        let (a, b) = (self.group[ve.src], self.group[ve.dst]);
        let other: &[usize] = if b != a { &self.members[b] } else { &[] };
        let nodes = || self.members[a].iter().chain(other.iter()).copied();
        let other_edges: &[usize] = if b != a { &self.chained[b] } else { &[] };
        let edges = || {
            self.chained[a]
                .iter()
                .chain(other_edges.iter())
                .copied()
                .chain(std::iter::once(e))
        };
        if nodes().count() > tm.max_vpe {
            return None;
        }
        // Longest paths over the group's chained edges, as in `starts`.
        for v in nodes() {
            let hops = if zero_heads { 0 } else { plan.head_hops[v] };
            sc.start[v] = tm.ctq + hops as i64 * tm.hop;
            sc.depth[v] = 0;
        }
        let n_edges = edges().count();
        let mut settled = false;
        for _ in 0..=n_edges {
            let mut changed = false;
            for x in edges() {
                let (u, v) = (p.vedges[x].src, p.vedges[x].dst);
                let at = sc.start[u] + delay[u] + tm.hop;
                if at > sc.start[v] {
                    sc.start[v] = at;
                    changed = true;
                }
                if sc.depth[u] + 1 > sc.depth[v] {
                    sc.depth[v] = sc.depth[u] + 1;
                    changed = true;
                }
            }
            if !changed {
                settled = true;
                break;
            }
        }
        if !settled {
            return None;
        }
        if tm.bipartite {
            // Two-colouring of the group's chained edges (the other groups already are).
            for v in nodes() {
                sc.parent[v] = v;
                sc.parity[v] = 0;
            }
            fn find(parent: &[usize], parity: &[u8], x: usize) -> (usize, u8) {
                let (mut root, mut par) = (x, 0u8);
                while parent[root] != root {
                    par ^= parity[root];
                    root = parent[root];
                }
                (root, par)
            }
            for x in edges() {
                let (u, v) = (p.vedges[x].src, p.vedges[x].dst);
                let (ru, pu) = find(&sc.parent, &sc.parity, u);
                let (rv, pv) = find(&sc.parent, &sc.parity, v);
                if ru == rv {
                    if pu == pv {
                        return None;
                    }
                } else {
                    sc.parent[ru] = rv;
                    sc.parity[ru] = pu ^ pv ^ 1;
                }
            }
        }
        let mut worst = self
            .worst
            .iter()
            .find(|&&(_, g)| g != a && g != b)
            .map_or(i64::MAX, |w| w.0);
        for v in nodes() {
            let room = p.lat[v].max(1) * tm.period - (sc.start[v] + delay[v] + tm.setup);
            if room < 0 {
                return None;
            }
            worst = worst.min(room);
        }
        Some(worst)
    }
}

/// Plan the chained edges that let `ii` meet the recurrences. `Ok(None)`: no chaining is
/// needed at this II. `attempt > 0` breaks ties between candidate edges at random.
fn plan(
    ctx: &Ctx,
    p: &Problem,
    ii: i64,
    attempt: u32,
    seed: u64,
    strict: bool,
) -> Result<Option<Plan>, String> {
    let mut tm = ctx.tm;
    tm.bipartite &= strict;
    let (delay, cv) = (&ctx.delay, &ctx.cv);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut plan = Plan {
        chain: vec![false; p.vedges.len()],
        head_hops: vec![1.min(tm.max_hops); p.n],
    };
    let mut weights: Vec<i64> = p.constraints.iter().map(|c| c.2).collect();
    let mut any = false;
    let mut scratch = Scratch::new(p.n);
    for _ in 0..=p.vedges.len() {
        let Some(cycle) = positive_cycle(p, &weights, ii) else {
            return Ok(any.then_some(plan));
        };
        let mut best: Option<(f64, usize, Vec<usize>)> = None;
        let state = StepState::new(p, tm, delay, &plan);
        for &c in &cycle {
            let Some(e) = cv[c] else { continue };
            let ve = p.vedges[e];
            if plan.chain[e] || ve.src == ve.dst || p.lat[ve.src] != 1 {
                continue;
            }
            // Virtual-PE size first: an edge whose two groups together exceed the limit is
            // refused without the timing computation.
            let (gs, gd) = (state.group[ve.src], state.group[ve.dst]);
            let merged = if gs == gd {
                state.members[gs].len()
            } else {
                state.members[gs].len() + state.members[gd].len()
            };
            if merged > tm.max_vpe {
                continue;
            }
            let mut fit = state
                .slack_with(p, tm, delay, &plan, e, false, &mut scratch)
                .map(|s| (s, Vec::new()));
            if fit.is_none() {
                // Heads of this group without input hops.
                fit = state
                    .slack_with(p, tm, delay, &plan, e, true, &mut scratch)
                    .map(|s| (s, state.merged_members(gs, gd)));
            }
            #[cfg(debug_assertions)]
            {
                // The group-local evaluation equals `slack` on the whole plan.
                let mut whole = Plan {
                    chain: plan.chain.clone(),
                    head_hops: plan.head_hops.clone(),
                };
                whole.chain[e] = true;
                let group = groups(p, &whole.chain);
                let mut expect = slack(p, tm, delay, &whole, &group).map(|s| (s, Vec::new()));
                if expect.is_none() {
                    let members: Vec<usize> =
                        (0..p.n).filter(|&v| group[v] == group[ve.src]).collect();
                    for &v in &members {
                        whole.head_hops[v] = 0;
                    }
                    expect = slack(p, tm, delay, &whole, &group).map(|s| (s, members));
                }
                let sorted = |f: &Option<(i64, Vec<usize>)>| {
                    f.clone().map(|(s, mut m)| {
                        m.sort_unstable();
                        (s, m)
                    })
                };
                debug_assert_eq!(sorted(&fit), sorted(&expect), "edge {e}");
            }
            if let Some((s, zero)) = fit {
                let noise = if attempt == 0 {
                    0.0
                } else {
                    rng.random_range(0.0..(tm.period as f64))
                };
                // Small virtual PEs first (they leave room for the rest of the
                // recurrence), then the most slack.
                let score = s as f64 + noise - (merged as f64) * 4.0 * tm.period as f64;
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, e, zero));
                }
            }
        }
        let Some((_, e, zero)) = best else {
            let nodes: Vec<usize> = cycle.iter().map(|&c| p.constraints[c].0).collect();
            return Err(format!(
                "II {ii} is below the recurrence bound and the recurrence through nodes {nodes:?} cannot be chained within the {} ps clock period and virtual PEs of {} PEs",
                tm.period, tm.max_vpe
            ));
        };
        plan.chain[e] = true;
        for v in zero {
            plan.head_hops[v] = 0;
        }
        for (c, ce) in cv.iter().enumerate() {
            if *ce == Some(e) {
                weights[c] = 0;
            }
        }
        any = true;
    }
    Err(format!("II {ii}: chaining did not converge"))
}

/// The problem with the planned chains: chained edges weigh 0 in the scheduling
/// constraints, and registered inputs of chained ops get only the hops that arrive by the
/// op's planned start.
fn chained_problem(kernel: &Kernel, arch: &CgraSpec, p: &Problem, plan: &Plan) -> Problem {
    let tm = Timing::of(arch);
    let delay = delays(kernel, arch);
    let cv = constraint_vedges(kernel, p);
    let mut q = p.clone();
    for (c, ce) in cv.iter().enumerate() {
        if let Some(e) = *ce
            && plan.chain[e]
        {
            q.constraints[c].2 = 0;
        }
    }
    let s = starts(p, tm, &delay, plan).expect("planned chains are acyclic");
    let group = groups(p, &plan.chain);
    let mut sizes = vec![0usize; p.n];
    for v in 0..p.n {
        sizes[group[v]] += 1;
    }
    for v in 0..p.n {
        if sizes[group[v]] >= 2 {
            let by_time = if tm.hop == 0 {
                tm.max_hops
            } else {
                ((s[v] - tm.ctq).max(0) / tm.hop) as usize
            };
            q.op_hops[v] = q.op_hops[v].min(by_time);
        }
    }
    q.chain = plan.chain.clone();
    q
}

/// Map at `ii` with chaining (the II is below the baseline recurrence bound). One plan per
/// attempt (ties broken by the attempt's seed).
pub(super) fn map_chained(
    kernel: &Kernel,
    arch: &CgraSpec,
    prob: &Problem,
    ii: u32,
    opts: &super::MapOptions,
    deadline: Option<std::time::Instant>,
) -> Result<crate::mapping::Mapping, String> {
    let fabric = super::rrg::Fabric::new(arch);
    let ctx = Ctx::new(kernel, arch, prob);
    let mut last_reason = String::from("no attempt ran");
    for attempt in 0..opts.attempts_per_ii.clamp(1, CHAINED_ATTEMPTS) {
        if opts.cancel.is_cancelled() {
            return Err(super::CANCELLED.into());
        }
        if attempt > 0 && deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            last_reason = format!("{last_reason} (time budget spent after {attempt} attempts)");
            break;
        }
        let seed = opts
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(((ii as u64) << 20) ^ attempt as u64);
        // A greedy plan that fails is retried with random tie-breaking a few times.
        let mut planned = Err(String::new());
        // Odd attempts first try plans whose chains can all be placed on a bipartite link
        // graph (see `Timing::bipartite`); every attempt then tries unrestricted plans.
        let stricts: &[bool] = if attempt % 2 == 1 {
            &[true, false]
        } else {
            &[false]
        };
        'plans: for &strict in stricts {
            for retry in 0..PLAN_RETRIES {
                let k = attempt * PLAN_SEED_STRIDE + retry;
                let s = seed ^ 0xC0_4905E ^ k as u64;
                planned = plan(&ctx, prob, ii as i64, k, s, strict);
                if planned.is_ok() {
                    break 'plans;
                }
            }
        }
        let plan = match planned {
            Ok(Some(plan)) => plan,
            Ok(None) => return Err(format!("II {ii} needs no chaining")),
            Err(why) => return Err(why),
        };
        let q = chained_problem(kernel, arch, prob, &plan);
        let bounds = match Bounds::compute(&q, ii as i64) {
            Ok(b) => b,
            Err(why) => {
                last_reason = why;
                continue;
            }
        };
        let mut m = Mapper::new(&q, &bounds, &fabric, arch, ii as usize, seed, attempt);
        m.placement_budget = CHAINED_PLACEMENT_BUDGET;
        m.chain_lookahead = CHAIN_LOOKAHEAD_COST;
        m.occ.present_factor = CHAINED_PRESENT_FACTOR;
        m.stagnation_rounds = CHAINED_STAGNATION_ROUNDS;
        let critical = bounds.asap.iter().copied().max().unwrap_or(0);
        m.latest_start = Some(critical + CHAINED_DRIFT_IIS * ii as i64);
        match m.run(
            opts.negotiation_rounds.min(CHAINED_ROUNDS),
            deadline,
            &opts.cancel,
        ) {
            Ok(()) => return Ok(m.extract(kernel, arch)),
            Err(why) => last_reason = format!("with chaining: {why}"),
        }
    }
    Err(last_reason)
}

impl Mapper<'_> {
    /// Is value edge `e` planned as chainable?
    pub(super) fn chainable(&self, e: usize) -> bool {
        self.p.chain.get(e).copied().unwrap_or(false)
    }

    /// Cost of the one-hop combinational route of value `u` from `from` to `to` in `cycle`
    /// (`INF` when the PEs are not neighbours).
    pub(super) fn comb_cost(&self, u: usize, from: usize, to: usize, cycle: i64) -> f32 {
        match self.f.out_links[from].iter().find(|&&(_, q)| q == to) {
            Some(&(l, _)) => self.occ.cost(self.occ.link(l, cycle), owner(u, cycle)),
            None => INF,
        }
    }

    /// Route value edge `e` combinationally (its consumer runs in the producer's cycle).
    pub(super) fn route_comb(&mut self, e: usize) -> Result<(), String> {
        let ve = self.p.vedges[e];
        let (spe, dpe) = (
            self.pe[ve.src].expect("placed"),
            self.pe[ve.dst].expect("placed"),
        );
        let cycle = self.time[ve.src];
        let Some(&(l, _)) = self.f.out_links[spe].iter().find(|&&(_, q)| q == dpe) else {
            return Err(format!(
                "edge {} ({} -> {}): chained ops on PEs {spe} and {dpe}, which are not neighbours",
                ve.edge, ve.src, ve.dst
            ));
        };
        let res = vec![(self.occ.link(l, cycle), owner(ve.src, cycle))];
        for &(r, w) in &res {
            self.occ.add(r, w);
        }
        self.routes[e] = Some(Routed {
            steps: vec![Step {
                cycle,
                from: Place::Out,
                path: vec![dpe],
                to: None,
            }],
            res,
            comb: true,
        });
        Ok(())
    }

    /// Final `start_ps` and `registered` of every node from the committed routes:
    /// `clk_to_q + hops` of the registered inputs, `start + delay + hops * hop_delay` after
    /// chained producers; a result whose every route is combinational (and that is no
    /// live-out) stays unregistered.
    pub(super) fn timing(
        &self,
        kernel: &Kernel,
        arch: &CgraSpec,
        max_hops_in: &[usize],
    ) -> Vec<Placement> {
        let tm = Timing::of(arch);
        let delay = delays(kernel, arch);
        let n = self.p.n;
        let mut start: Vec<i64> = (0..n)
            .map(|v| tm.ctq + max_hops_in[v] as i64 * tm.hop)
            .collect();
        let mut comb_in: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        let mut has_reg_out = vec![false; n];
        let mut has_comb_out = vec![false; n];
        for (e, r) in self.routes.iter().enumerate() {
            let Some(r) = r else { continue };
            let ve = self.p.vedges[e];
            if r.comb {
                comb_in[ve.dst].push((ve.src, r.steps[0].path.len()));
                has_comb_out[ve.src] = true;
            } else {
                has_reg_out[ve.src] = true;
            }
        }
        // Chained edges are acyclic (planned so): relax until stable.
        for _ in 0..n {
            let mut changed = false;
            for v in 0..n {
                for &(u, hops) in &comb_in[v] {
                    let at = start[u] + delay[u] + hops as i64 * tm.hop;
                    if at > start[v] {
                        start[v] = at;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let live_out: Vec<bool> = {
            let mut l = vec![false; n];
            for lo in &kernel.live_outs {
                if lo.node.index() < n {
                    l[lo.node.index()] = true;
                }
            }
            l
        };
        (0..n)
            .map(|v| match self.pe[v] {
                Some(pe) => Placement {
                    pe: Some(pe as PeId),
                    cycle: self.time[v] as u32,
                    start_ps: start[v].max(0) as u32,
                    registered: !(has_comb_out[v] && !has_reg_out[v] && !live_out[v]),
                },
                None => Placement {
                    pe: None,
                    cycle: 0,
                    start_ps: 0,
                    registered: false,
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::spec_io::Spec;
    use tessera_ir::kernel::KernelSource;
    use tessera_ir::{Node, Op, Operand};

    /// A ring of `len` adds, the last carried into the first with distance 1.
    fn ring(len: usize) -> Kernel {
        let mut k = Kernel::new("ring", KernelSource::Built);
        let nodes: Vec<_> = (0..len)
            .map(|_| k.add_node(Node::new(Op::Add).with_imm(1)))
            .collect();
        for w in nodes.windows(2) {
            k.add_edge(w[0], w[1], Operand::data(0));
        }
        k.add_edge(nodes[len - 1], nodes[0], Operand::carried(0, 1, 0));
        k.validate().unwrap();
        k
    }

    /// The value edge from `src` to `dst`.
    fn vedge(p: &Problem, src: usize, dst: usize) -> usize {
        p.vedges
            .iter()
            .position(|ve| ve.src == src && ve.dst == dst)
            .unwrap()
    }

    fn setup(len: usize) -> (Kernel, CgraSpec, Problem) {
        let arch = CgraSpec::preset("compose-4x4").unwrap();
        let k = ring(len);
        let p = super::super::prepare(&k, &arch, false).unwrap();
        (k, arch, p)
    }

    #[test]
    fn odd_chained_cycle_is_not_two_colourable_even_one_is() {
        let (_, _, p3) = setup(3);
        let mut chain = vec![false; p3.vedges.len()];
        chain[vedge(&p3, 0, 1)] = true;
        chain[vedge(&p3, 1, 2)] = true;
        assert!(two_colourable(&p3, &chain));
        chain[vedge(&p3, 2, 0)] = true;
        assert!(!two_colourable(&p3, &chain));

        let (_, _, p4) = setup(4);
        let mut chain = vec![true; p4.vedges.len()];
        assert!(two_colourable(&p4, &chain));
        // A path of three chained edges plus an unchained one: still colourable.
        chain[vedge(&p4, 3, 0)] = false;
        assert!(two_colourable(&p4, &chain));
    }

    #[test]
    fn starts_follow_chains_and_reject_chained_cycles() {
        let (k, arch, p) = setup(3);
        let ctx = Ctx::new(&k, &arch, &p);
        let tm = ctx.tm;
        let mut plan = Plan {
            chain: vec![false; p.vedges.len()],
            head_hops: vec![1; p.n],
        };
        plan.chain[vedge(&p, 0, 1)] = true;
        plan.chain[vedge(&p, 1, 2)] = true;
        let s = starts(&p, tm, &ctx.delay, &plan).unwrap();
        let head = tm.ctq + tm.hop;
        assert_eq!(s[0], head);
        assert_eq!(s[1], head + ctx.delay[0] + tm.hop);
        assert_eq!(s[2], s[1] + ctx.delay[1] + tm.hop);
        plan.chain[vedge(&p, 2, 0)] = true;
        assert!(starts(&p, tm, &ctx.delay, &plan).is_none());
        // A chained cycle is rejected even when no delay accumulates along it.
        let zero = Timing { hop: 0, ..tm };
        assert!(starts(&p, zero, &[0, 0, 0], &plan).is_none());
    }

    /// The group-local evaluation of the planner equals [`slack`] on the whole plan for
    /// every candidate edge, with and without input hops on the merged group, strict
    /// (bipartite) or not, while the plan grows edge by edge on rings of 3 to 9 ops.
    #[test]
    fn step_state_slack_equals_whole_plan_slack() {
        let mut compared = 0;
        for len in 3..=9 {
            let (k, arch, p) = setup(len);
            let ctx = Ctx::new(&k, &arch, &p);
            for strict in [false, true] {
                let mut tm = ctx.tm;
                tm.bipartite &= strict;
                let mut plan = Plan {
                    chain: vec![false; p.vedges.len()],
                    head_hops: vec![1; p.n],
                };
                let mut scratch = Scratch::new(p.n);
                for e in 0..p.vedges.len() {
                    let state = StepState::new(&p, tm, &ctx.delay, &plan);
                    let ve = p.vedges[e];
                    let (ga, gb) = (state.group[ve.src], state.group[ve.dst]);
                    let mut whole = Plan {
                        chain: plan.chain.clone(),
                        head_hops: plan.head_hops.clone(),
                    };
                    whole.chain[e] = true;
                    let group = groups(&p, &whole.chain);
                    let expect = slack(&p, tm, &ctx.delay, &whole, &group);
                    let got = state.slack_with(&p, tm, &ctx.delay, &plan, e, false, &mut scratch);
                    assert_eq!(got, expect, "ring {len}, edge {e}, strict {strict}");
                    for v in state.merged_members(ga, gb) {
                        whole.head_hops[v] = 0;
                    }
                    let expect0 = slack(&p, tm, &ctx.delay, &whole, &group);
                    let got0 = state.slack_with(&p, tm, &ctx.delay, &plan, e, true, &mut scratch);
                    assert_eq!(
                        got0, expect0,
                        "ring {len}, edge {e}, strict {strict}, no hops"
                    );
                    compared += 2;
                    if got.is_some() {
                        plan.chain[e] = true;
                    }
                }
                // Groups grew up to the virtual-PE limit, so some candidates were refused.
                assert!(plan.chain.iter().any(|&c| c));
            }
        }
        assert_eq!(compared, 2 * 2 * (3..=9).sum::<usize>());
    }

    /// A chained attempt's placement limit: an op may not start later than
    /// `latest_start`; with the limit below the critical path nothing can be placed, and
    /// with the driver's limit the same ring maps.
    #[test]
    fn placement_past_the_drift_limit_gives_up() {
        let (_, arch, p) = setup(3);
        let fabric = super::super::rrg::Fabric::new(&arch);
        let ii = 3;
        let bounds = Bounds::compute(&p, ii).unwrap();
        let critical = bounds.asap.iter().copied().max().unwrap();
        assert!(critical > 0);
        let mut m = Mapper::new(&p, &bounds, &fabric, &arch, ii as usize, 1, 0);
        m.latest_start = Some(critical - 1);
        let err = m
            .run(40, None, &crate::heuristic::CancelFlag::default())
            .unwrap_err();
        assert!(err.contains("placement drifted"), "{err}");
        let mut m = Mapper::new(&p, &bounds, &fabric, &arch, ii as usize, 1, 0);
        m.latest_start = Some(critical + CHAINED_DRIFT_IIS * ii);
        m.run(40, None, &crate::heuristic::CancelFlag::default())
            .unwrap();
    }

    /// The chained-middle lookahead: with `0 -> 1 -> 2` chained in one cycle and op 0 on
    /// PE 5 (row 1, column 1) of the 4x4 mesh, op 2 leaves op 1 a PE one link from both
    /// only two links away from PE 5 (on PE 7, with PE 6 between); on a neighbour of PE 5
    /// (no common neighbour on a mesh) or three links away it does not. In another cycle
    /// than op 0's the two chains cannot both hold, and nothing is checked.
    #[test]
    fn chain_middle_needs_a_pe_next_to_both_ends() {
        let (k, arch, p) = setup(3);
        let mut plan = Plan {
            chain: vec![false; p.vedges.len()],
            head_hops: vec![1; p.n],
        };
        plan.chain[vedge(&p, 0, 1)] = true;
        plan.chain[vedge(&p, 1, 2)] = true;
        let q = chained_problem(&k, &arch, &p, &plan);
        let fabric = super::super::rrg::Fabric::new(&arch);
        let ii = 2;
        let bounds = Bounds::compute(&q, ii).unwrap();
        let mut m = Mapper::new(&q, &bounds, &fabric, &arch, ii as usize, 1, 0);
        m.chain_lookahead = CHAIN_LOOKAHEAD_COST;
        let t0 = bounds.asap[0];
        m.commit(0, 5, t0).unwrap();
        let (e12, e01) = ((vedge(&q, 1, 2), 1), (vedge(&q, 0, 1), 0));
        assert!(m.chain_middle_fits(2, 7, t0, e12, e01));
        assert!(m.chain_middle_fits(2, 13, t0, e12, e01));
        assert!(!m.chain_middle_fits(2, 6, t0, e12, e01));
        assert!(!m.chain_middle_fits(2, 9, t0, e12, e01));
        assert!(!m.chain_middle_fits(2, 15, t0, e12, e01));
        assert!(m.chain_middle_fits(2, 6, t0 + 1, e12, e01));
    }
}
