//! The exact mapper: a MILP (through `good_lp`, microlp solver) at a fixed II, combined
//! with a routing stage, that either proves the II infeasible or returns a mapping the
//! checker accepts.
//!
//! # Formulation (compact: issue stage + modulo slot)
//!
//! For every node that needs a PE (all but operand-less `Const`/`Input`, which become
//! immediates) binaries `x[v][p][s]` place it on PE `p` in modulo slot `s`, and an integer
//! stage `k[v]` gives its cycle `t_v = II * k_v + s`. Constraints:
//!
//! * one (PE, slot) per node, only PEs whose kind supports the class (memory ops: PEs
//!   wired to a bank); one op per PE per slot;
//! * an array-to-bank choice per array, memory ops on PEs wired to their array's bank,
//!   and per bank and slot at most `ports` accesses to the arrays it holds. The exact mode
//!   maps **without read-only array replication** (`Mapping::array_replicas` stays empty),
//!   so its proofs of infeasibility hold for mappings without replication; compare it with
//!   `mii::analyze_with(.., false)`;
//! * value edges `u -> v` (distance `d`): `t_v + d * II >= t_u + L_u + ceil(h / H) - 1`,
//!   where `h` is the hop distance between the two PEs (BFS over the topology's links) and
//!   `H` the hops per cycle, written as neighbourhood constraints: for every PE `p` of `u`
//!   and every `j`, `(j + 1) * (y_u[p] - y_v(N_(j+1)H(p))) <= slack`, where `N_r(p)` are the
//!   PEs within `r` hops of `p` and `y` sums `x` over slots (exact for integral `y`, and a
//!   much tighter LP relaxation than coordinate differences). With COMPOSE on, `L_u = 0`
//!   (a result may chain);
//! * order edges: `t_v + d * II >= t_u + 1` after a store, else `>= t_u`.
//!
//! Every mapping the checker accepts satisfies these constraints (they drop only register,
//! output-register and link capacities), and stages are bounded by `K` with
//! `K * II >= n * (w_max + II)`, which loses no schedule: any gap wider than `w_max + II`
//! between consecutive issue times can be closed by moving all later nodes down a multiple
//! of II without breaking a constraint. So **an infeasible MILP proves that no mapping
//! exists at this II.**
//!
//! # Routing
//!
//! A MILP solution fixes placement and schedule. The schedule is first compacted: the
//! earliest schedule with the same PEs and modulo slots that meets the MILP's own edge
//! constraints (the MILP has no objective, so its stages can leave values waiting for
//! hundreds of cycles). Routes are then searched in the time-extended modulo routing graph
//! (output registers, register files, links, at most `H` hops per cycle, per-slot
//! occupancy with fan-out sharing) edge by edge, in several seeded orders, each retried
//! with the edge that failed moved to the front; if that fails, a PathFinder-style
//! negotiated router (McMurchie and Ebeling, FPGA 1995) rips up and re-routes every edge
//! with rising costs on overused resources. When the MILP returned the MIP start's
//! placement (same PE and slot for every node) and both routers fail, the MIP start's own
//! routes — a mapping the checker accepted — are used (provenance `exact-milp (routes of
//! the MIP start)`). If nothing routes, that placement is excluded by a no-good cut and the
//! MILP is solved again; from then on an infeasible MILP is no longer a proof (the cut may
//! exclude routable schedules with other stages), and the outcome says so.
//!
//! The MILP also keeps one routed result per output register and slot (`t + L` of two
//! producers on one PE in different slots of their FU may still collide): every mapping
//! the checker accepts satisfies it (without COMPOSE, where every result is registered).

// Dense per-node and per-slot tables are indexed in parallel; index loops read clearer.
#![allow(clippy::needless_range_loop)]

use crate::check;
use crate::error::MapError;
use crate::mapping::{Loc, MAPPING_FORMAT_VERSION, Mapping, Placement, Provenance, Route, Segment};
use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolverModel, Variable,
    WithInitialSolution, WithMipGap, WithTimeLimit, microlp, variable,
};
use petgraph::visit::EdgeRef;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use tessera_arch::cgra::{CgraSpec, PeId};
use tessera_ir::{Kernel, OpClass, Slot};

/// Options of the exact mapper.
#[derive(Debug, Clone)]
pub struct ExactOptions {
    /// Wall-time budget in seconds for this II.
    pub time_limit_s: f64,
    /// Seed of the routing orders tried.
    pub seed: u64,
    /// Edge orders tried when routing one MILP solution.
    pub routing_orders: u32,
    /// Placements excluded by no-good cuts before giving up.
    pub max_cuts: u32,
    /// A known mapping at this II (e.g. the heuristic's) given to the solver as a MIP start
    /// (placement, stages and banks). It only speeds up finding a feasible point; proofs
    /// of infeasibility at other IIs do not depend on it.
    pub hint: Option<Mapping>,
}

impl Default for ExactOptions {
    fn default() -> Self {
        Self {
            time_limit_s: 60.0,
            seed: 1,
            routing_orders: 8,
            max_cuts: 200,
            hint: None,
        }
    }
}

/// What the exact mapper concluded at one II.
#[derive(Debug, Clone)]
pub enum ExactOutcome {
    /// A mapping (already accepted by the checker).
    Mapped(Box<Mapping>),
    /// Proved: no mapping exists at this II.
    Infeasible,
    /// The time limit was reached without a mapping or a proof.
    TimedOut,
    /// Stopped without proof for another reason (e.g. routing cuts made the MILP
    /// infeasible, which proves nothing); the string says why.
    NoProof(String),
}

/// Map `kernel` at exactly `ii` with the MILP; see the module docs.
pub fn map_exact(
    kernel: &Kernel,
    arch: &CgraSpec,
    ii: u32,
    opts: &ExactOptions,
) -> Result<ExactOutcome, MapError> {
    let t0 = Instant::now();
    if ii == 0 {
        return Err(MapError::Internal("II 0".into()));
    }
    kernel
        .validate()
        .map_err(|e| MapError::InvalidKernel(e.to_string()))?;
    let model = Model::new(kernel, arch, ii)?;
    let mut cuts: Vec<Vec<(usize, usize, usize)>> = Vec::new();
    loop {
        let left = opts.time_limit_s - t0.elapsed().as_secs_f64();
        if left <= 0.0 {
            return Ok(ExactOutcome::TimedOut);
        }
        let hint = opts.hint.as_ref().filter(|h| h.ii == ii && cuts.is_empty());
        match model.solve(&cuts, left, hint)? {
            Solved::Infeasible => {
                return Ok(if cuts.is_empty() {
                    ExactOutcome::Infeasible
                } else {
                    ExactOutcome::NoProof(format!(
                        "the MILP became infeasible after {} unroutable placement(s) were cut; cuts prove nothing",
                        cuts.len()
                    ))
                });
            }
            Solved::TimedOut => return Ok(ExactOutcome::TimedOut),
            Solved::Placed(sol) => {
                if let Some(mut m) = model.route(&sol, opts, t0) {
                    m.provenance.time_ms = t0.elapsed().as_secs_f64() * 1e3;
                    m.provenance.seed = opts.seed;
                    return Ok(ExactOutcome::Mapped(Box::new(m)));
                }
                // The MILP returned the MIP start's placement (same PE and modulo slot for
                // every node): its routes, already accepted by the checker, route it.
                if let Some(h) = hint
                    && (0..model.n).all(|v| {
                        !model.placed[v]
                            || (h.placements[v].pe.map(|p| p as usize) == sol.pe[v]
                                && h.placements[v].cycle as i64 % ii as i64
                                    == sol.time[v].rem_euclid(ii as i64))
                    })
                    && model
                        .arrays
                        .iter()
                        .all(|(a, _)| h.array_banks.get(*a) == sol.array_banks.get(*a))
                    && h.array_replicas.iter().all(|r| r.is_empty())
                    && check::check(h).is_ok()
                {
                    let mut m = h.clone();
                    m.provenance.mapper = "exact-milp (routes of the MIP start)".into();
                    m.provenance.time_ms = t0.elapsed().as_secs_f64() * 1e3;
                    m.provenance.seed = opts.seed;
                    return Ok(ExactOutcome::Mapped(Box::new(m)));
                }
                if cuts.len() as u32 >= opts.max_cuts {
                    return Ok(ExactOutcome::NoProof(format!(
                        "{} placements satisfied the MILP but none routed",
                        cuts.len() + 1
                    )));
                }
                cuts.push(sol.chosen.clone());
            }
        }
    }
}

/// A placed value edge.
#[derive(Debug, Clone, Copy)]
struct VEdge {
    edge: u32,
    src: usize,
    dst: usize,
    distance: u32,
}

struct Model<'a> {
    kernel: &'a Kernel,
    arch: &'a CgraSpec,
    ii: u32,
    n: usize,
    /// Needs a PE.
    placed: Vec<bool>,
    /// Allowed PEs per node.
    allowed: Vec<Vec<usize>>,
    latency: Vec<u32>,
    vedges: Vec<VEdge>,
    /// Order edges between placed nodes: (src, dst, distance, gap).
    orders: Vec<(usize, usize, u32, i64)>,
    /// Arrays with known-array memory ops, and those ops.
    arrays: Vec<(usize, Vec<usize>)>,
    k_max: i32,
    /// Shortest hop count between PEs (BFS over the topology's links).
    hop_dist: Vec<Vec<u32>>,
}

struct PlacedSolution {
    pe: Vec<Option<usize>>,
    time: Vec<i64>,
    /// (node, pe, slot) chosen, for cuts.
    chosen: Vec<(usize, usize, usize)>,
    array_banks: Vec<u16>,
}

enum Solved {
    Placed(PlacedSolution),
    Infeasible,
    TimedOut,
}

fn hop_bound(arch: &CgraSpec) -> u32 {
    arch.interconnect.max_hops_per_cycle.max(1) as u32
}

impl<'a> Model<'a> {
    fn new(kernel: &'a Kernel, arch: &'a CgraSpec, ii: u32) -> Result<Self, MapError> {
        let n = kernel.node_count();
        let pes = arch.pe_count();
        let mut placed = vec![false; n];
        let mut allowed = vec![Vec::new(); n];
        let mut latency = vec![1u32; n];
        for (id, node) in kernel.nodes() {
            let i = id.index();
            let class = node.op.class();
            latency[i] = arch.op_cost(class).map_or(1, |c| c.latency_cycles as u32);
            let has_operand = kernel
                .graph
                .edges_directed(id, petgraph::Direction::Incoming)
                .any(|e| e.weight().carries_value());
            if matches!(class, OpClass::Const | OpClass::Input) && !has_operand {
                continue;
            }
            placed[i] = true;
            allowed[i] = (0..pes)
                .filter(|&p| {
                    arch.supports(p as PeId, class)
                        && (!class.is_memory() || !arch.banks_of(p as PeId).is_empty())
                })
                .collect();
            if allowed[i].is_empty() {
                return Err(MapError::Unsupported {
                    node: i as u32,
                    op: node.op.mnemonic(),
                    reason: format!("no PE of `{}` supports op class `{class}`", arch.name),
                });
            }
        }
        let mut vedges = Vec::new();
        let mut orders = Vec::new();
        for e in kernel.graph.edge_references() {
            let (u, v) = (e.source().index(), e.target().index());
            let w = e.weight();
            if !placed[u] {
                continue;
            }
            if matches!(w.slot, Slot::Order) {
                if placed[v] {
                    let gap = if kernel.graph[e.source()].op.is_store() {
                        1
                    } else {
                        0
                    };
                    orders.push((u, v, w.distance, gap));
                }
            } else {
                vedges.push(VEdge {
                    edge: e.id().index() as u32,
                    src: u,
                    dst: v,
                    distance: w.distance,
                });
            }
        }
        let mut arrays: Vec<(usize, Vec<usize>)> = Vec::new();
        for (id, node) in kernel.nodes() {
            if let (true, Some(a)) = (node.op.is_memory(), node.array) {
                match arrays.iter_mut().find(|(x, _)| *x == a as usize) {
                    Some((_, ops)) => ops.push(id.index()),
                    None => arrays.push((a as usize, vec![id.index()])),
                }
            }
        }
        let w_max = latency.iter().copied().max().unwrap_or(1) as i64 + pes as i64 + 1;
        let k_max =
            ((n as i64 * (w_max + ii as i64)) / ii as i64 + 1).min(i32::MAX as i64 / 2) as i32;
        let hop_dist = (0..pes)
            .map(|src| {
                let mut d = vec![u32::MAX; pes];
                d[src] = 0;
                let mut queue = std::collections::VecDeque::from([src]);
                while let Some(a) = queue.pop_front() {
                    for b in arch.neighbours(a as PeId) {
                        if d[b as usize] == u32::MAX {
                            d[b as usize] = d[a] + 1;
                            queue.push_back(b as usize);
                        }
                    }
                }
                d
            })
            .collect();
        Ok(Self {
            hop_dist,
            kernel,
            arch,
            ii,
            n,
            placed,
            allowed,
            latency,
            vedges,
            orders,
            arrays,
            k_max,
        })
    }

    fn solve(
        &self,
        cuts: &[Vec<(usize, usize, usize)>],
        time_left_s: f64,
        hint: Option<&Mapping>,
    ) -> Result<Solved, MapError> {
        let arch = self.arch;
        let ii = self.ii as usize;
        let mut vars = ProblemVariables::new();
        let mut x: Vec<BTreeMap<(usize, usize), Variable>> = vec![BTreeMap::new(); self.n];
        let mut k: Vec<Option<Variable>> = vec![None; self.n];
        for v in 0..self.n {
            if !self.placed[v] {
                continue;
            }
            for &p in &self.allowed[v] {
                for s in 0..ii {
                    x[v].insert((p, s), vars.add(variable().binary()));
                }
            }
            k[v] = Some(vars.add(variable().integer().min(0).max(self.k_max)));
        }
        let time = |v: usize| -> Expression {
            let mut e: Expression = (self.ii as f64) * k[v].expect("placed");
            for (&(_, s), &var) in &x[v] {
                e.add_mul(s as f64, var);
            }
            e
        };
        let occupancy = |v: usize, p: usize| -> Expression {
            let mut e = Expression::from(0.0);
            for s in 0..ii {
                if let Some(&var) = x[v].get(&(p, s)) {
                    e.add_mul(1.0, var);
                }
            }
            e
        };
        // A pure feasibility problem: with an objective (e.g. the sum of stages) microlp
        // took over 20 s to find a first point on a 16-node DFG on mesh-4x4 that it finds
        // in about 1.5 s without one (measured in debug builds).
        let objective = Expression::from(0.0);
        // Array-to-bank choice.
        let banks = arch.memory.banks.len();
        let mut bsel: Vec<Vec<Variable>> = Vec::new();
        let mut wport: Vec<Vec<Vec<Variable>>> = Vec::new();
        for _ in &self.arrays {
            bsel.push((0..banks).map(|_| vars.add(variable().binary())).collect());
            wport.push(
                (0..banks)
                    .map(|_| (0..ii).map(|_| vars.add(variable().min(0.0))).collect())
                    .collect(),
            );
        }
        let mut problem = vars
            .minimise(objective)
            .using(microlp)
            .with_time_limit(time_left_s.max(0.01));
        if let Some(h) = hint {
            let mut start: Vec<(Variable, f64)> = Vec::new();
            for v in 0..self.n {
                let (Some(pe), Some(kv)) = (h.placements.get(v).and_then(|p| p.pe), k[v]) else {
                    continue;
                };
                let c = h.placements[v].cycle as usize;
                for (&(p, s), &var) in &x[v] {
                    start.push((
                        var,
                        if p == pe as usize && s == c % ii {
                            1.0
                        } else {
                            0.0
                        },
                    ));
                }
                start.push((kv, (c / ii) as f64));
            }
            for (ai, (a, _)) in self.arrays.iter().enumerate() {
                let b = h.array_banks.get(*a).copied().unwrap_or(0) as usize;
                for (bi, &var) in bsel[ai].iter().enumerate() {
                    start.push((var, if bi == b { 1.0 } else { 0.0 }));
                }
            }
            problem = problem.with_initial_solution(start);
        }
        problem = problem
            .with_mip_gap(1e6)
            .map_err(|e| MapError::Internal(format!("mip gap: {e:?}")))?;
        // One (PE, slot) per node.
        for v in 0..self.n {
            if !self.placed[v] {
                continue;
            }
            let mut e = Expression::from(0.0);
            for &var in x[v].values() {
                e.add_mul(1.0, var);
            }
            problem.add_constraint(e.eq(1.0));
        }
        // One op per PE per slot.
        let mut fu: HashMap<(usize, usize), Expression> = HashMap::new();
        for xv in &x {
            for (&(p, s), &var) in xv {
                fu.entry((p, s))
                    .or_insert_with(|| Expression::from(0.0))
                    .add_mul(1.0, var);
            }
        }
        let mut fu_keys: Vec<_> = fu.keys().copied().collect();
        fu_keys.sort();
        for key in fu_keys {
            let e = fu.remove(&key).expect("key");
            problem.add_constraint(e.leq(1.0));
        }
        // One result per output register per slot: a value is in its producer's output
        // register at least in cycle t + L, so two producers on one PE may not write it in
        // the same slot (implied by the FU rule when all latencies are equal). Only for
        // nodes whose value is routed, and not with COMPOSE (results may stay unregistered).
        if !arch.compose.enabled {
            let mut produces = vec![false; self.n];
            for e in &self.vedges {
                produces[e.src] = true;
            }
            let mut outreg: BTreeMap<(usize, usize), Expression> = BTreeMap::new();
            for v in (0..self.n).filter(|&v| produces[v] && self.placed[v]) {
                for (&(p, s), &var) in &x[v] {
                    outreg
                        .entry((p, (s + self.latency[v] as usize) % ii))
                        .or_insert_with(|| Expression::from(0.0))
                        .add_mul(1.0, var);
                }
            }
            for (_, e) in outreg {
                problem.add_constraint(e.leq(1.0));
            }
        }
        // Dependences with hop distance.
        let compose = arch.compose.enabled;
        for e in &self.vedges {
            if !self.placed[e.dst] {
                continue;
            }
            let lat = if compose && self.latency[e.src] == 1 {
                0.0
            } else {
                self.latency[e.src] as f64
            };
            // slack = t_v + d*II - t_u - L >= 0
            let slack = time(e.dst) + (e.distance as f64 * self.ii as f64) - time(e.src) - lat;
            if e.src == e.dst {
                problem.add_constraint(slack.geq(0.0));
                continue;
            }
            problem.add_constraint(slack.clone().geq(0.0));
            // Neighbourhood constraints: if u sits on p and v lies outside the PEs within
            // (j + 1) * H hops of p, the route needs at least j + 1 extra cycles:
            // (j + 1) * (y_u[p] - y_v(N_(j+1)H(p))) <= slack.
            for &p in &self.allowed[e.src] {
                for j in 0..self.hop_dist.len() {
                    let radius = (j as u32 + 1) * hop_bound(arch);
                    let outside: Vec<usize> = self.allowed[e.dst]
                        .iter()
                        .copied()
                        .filter(|&q| self.hop_dist[p][q] > radius)
                        .collect();
                    if outside.is_empty() {
                        break;
                    }
                    let f = (j + 1) as f64;
                    // y_v(N(p)) = 1 - y_v(outside)
                    let mut lhs = f * occupancy(e.src, p) - f;
                    for &q in &outside {
                        lhs += f * occupancy(e.dst, q);
                    }
                    problem.add_constraint((lhs - slack.clone()).leq(0.0));
                }
            }
        }
        for &(u, v, d, gap) in &self.orders {
            let slack = time(v) + (d as f64 * self.ii as f64) - time(u) - gap as f64;
            problem.add_constraint(slack.geq(0.0));
        }
        // Banks.
        for (ai, (_, ops)) in self.arrays.iter().enumerate() {
            let mut one = Expression::from(0.0);
            for &b in &bsel[ai] {
                one.add_mul(1.0, b);
            }
            problem.add_constraint(one.eq(1.0));
            for &v in ops {
                if !self.placed[v] {
                    continue;
                }
                let pes: Vec<usize> = x[v]
                    .keys()
                    .map(|&(p, _)| p)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                for p in pes {
                    let wired = arch.banks_of(p as PeId);
                    if wired.len() == banks {
                        continue;
                    }
                    let mut lhs = Expression::from(0.0);
                    for s in 0..ii {
                        if let Some(&var) = x[v].get(&(p, s)) {
                            lhs.add_mul(1.0, var);
                        }
                    }
                    for &b in &wired {
                        lhs.add_mul(-1.0, bsel[ai][b]);
                    }
                    problem.add_constraint(lhs.leq(0.0));
                }
            }
            let big = ops.len() as f64;
            for s in 0..ii {
                let mut cnt = Expression::from(0.0);
                for &v in ops {
                    for (&(_, slot), &var) in &x[v] {
                        if slot == s {
                            cnt.add_mul(1.0, var);
                        }
                    }
                }
                for b in 0..banks {
                    // w >= cnt - big * (1 - bsel)
                    let e =
                        Expression::from(wport[ai][b][s]) - cnt.clone() + big - big * bsel[ai][b];
                    problem.add_constraint(e.geq(0.0));
                }
            }
        }
        for b in 0..banks {
            for s in 0..ii {
                if self.arrays.is_empty() {
                    break;
                }
                let mut e = Expression::from(0.0);
                for w in &wport {
                    e.add_mul(1.0, w[b][s]);
                }
                problem.add_constraint(e.leq(arch.memory.banks[b].ports as f64));
            }
        }
        // No-good cuts.
        for cut in cuts {
            let mut e = Expression::from(0.0);
            for &(v, p, s) in cut {
                if let Some(&var) = x[v].get(&(p, s)) {
                    e.add_mul(1.0, var);
                }
            }
            problem.add_constraint(e.leq(cut.len() as f64 - 1.0));
        }
        let sol = match problem.solve() {
            Ok(s) => s,
            Err(ResolutionError::Infeasible) => return Ok(Solved::Infeasible),
            Err(ResolutionError::Other(msg)) if msg.contains("Time limit") => {
                return Ok(Solved::TimedOut);
            }
            Err(e) => return Err(MapError::Internal(format!("MILP solver: {e}"))),
        };
        let mut pe = vec![None; self.n];
        let mut t = vec![0i64; self.n];
        let mut chosen = Vec::new();
        for v in 0..self.n {
            if !self.placed[v] {
                continue;
            }
            let mut best: Option<((usize, usize), f64)> = None;
            for (&key, &var) in &x[v] {
                let val = sol.value(var);
                if best.is_none_or(|(_, b)| val > b) {
                    best = Some((key, val));
                }
            }
            let ((p, s), _) = best.expect("placed node has variables");
            let kv = sol.value(k[v].expect("placed")).round() as i64;
            pe[v] = Some(p);
            t[v] = kv * self.ii as i64 + s as i64;
            chosen.push((v, p, s));
        }
        let mut array_banks = vec![0u16; self.kernel.arrays.len()];
        for (ai, (a, _)) in self.arrays.iter().enumerate() {
            let b = (0..banks)
                .max_by(|&i, &j| sol.value(bsel[ai][i]).total_cmp(&sol.value(bsel[ai][j])))
                .unwrap_or(0);
            array_banks[*a] = b as u16;
        }
        // Normalise: shift so the earliest op starts at cycle 0..II-1 (keeps slots).
        if let Some(min_t) = (0..self.n).filter(|&v| self.placed[v]).map(|v| t[v]).min() {
            let shift = (min_t / self.ii as i64) * self.ii as i64;
            for v in 0..self.n {
                if self.placed[v] {
                    t[v] -= shift;
                }
            }
        }
        self.compact(&pe, &mut t);
        Ok(Solved::Placed(PlacedSolution {
            pe,
            time: t,
            chosen,
            array_banks,
        }))
    }

    /// Replace the MILP's schedule by the earliest one with the same PEs and modulo slots
    /// that meets every constraint of the MILP (value edges with their hop distances,
    /// order edges). The MILP has no objective, so its stages may leave values waiting
    /// hundreds of cycles, which only makes routing harder. The least fixpoint of the
    /// raise-to-the-next-cycle-of-the-same-slot iteration lies below the MILP's own
    /// feasible schedule, so it exists and the iteration reaches it.
    fn compact(&self, pe: &[Option<usize>], t: &mut [i64]) {
        let ii = self.ii as i64;
        let h = hop_bound(self.arch) as i64;
        let compose = self.arch.compose.enabled;
        let mut c: Vec<i64> = t.iter().map(|x| x.rem_euclid(ii)).collect();
        let mut rules: Vec<(usize, usize, i64)> = Vec::new(); // t_v >= t_u + w
        for e in &self.vedges {
            let (Some(pu), Some(pv)) = (pe[e.src], pe[e.dst]) else {
                continue;
            };
            let lat = if compose && self.latency[e.src] == 1 {
                0
            } else {
                self.latency[e.src] as i64
            };
            let hops = self.hop_dist[pu][pv] as i64;
            let extra = if e.src == e.dst {
                0
            } else {
                ((hops + h - 1) / h - 1).max(0)
            };
            rules.push((e.src, e.dst, lat + extra - e.distance as i64 * ii));
        }
        for &(u, v, d, gap) in &self.orders {
            if pe[u].is_some() && pe[v].is_some() {
                rules.push((u, v, gap - d as i64 * ii));
            }
        }
        for _ in 0..=(self.n * rules.len().max(1)) {
            let mut changed = false;
            for &(u, v, w) in &rules {
                let need = c[u] + w;
                if c[v] < need {
                    c[v] += (need - c[v] + ii - 1) / ii * ii;
                    changed = true;
                }
            }
            if !changed {
                // Keep the MILP's schedule if the iteration went above it anywhere (it
                // cannot, but a wrong compaction must never reach the router).
                if (0..t.len()).all(|v| pe[v].is_none() || c[v] <= t[v]) {
                    t.copy_from_slice(&c);
                }
                return;
            }
        }
    }

    /// Route every value edge for a fixed placement; `None` if no order tried routes.
    fn route(&self, sol: &PlacedSolution, opts: &ExactOptions, t0: Instant) -> Option<Mapping> {
        let mut order: Vec<usize> = (0..self.vedges.len()).collect();
        // First order: tightest edges (least slack) first.
        let slack = |e: &VEdge| -> i64 {
            sol.time[e.dst] + e.distance as i64 * self.ii as i64
                - sol.time[e.src]
                - self.latency[e.src] as i64
        };
        order.sort_by_key(|&i| (slack(&self.vedges[i]), i));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
        for attempt in 0..opts.routing_orders.max(1) {
            if attempt > 0 {
                if t0.elapsed().as_secs_f64() > opts.time_limit_s {
                    return None;
                }
                order.shuffle(&mut rng);
            }
            // Rip-up and re-route by order: an edge the sequential router cannot route
            // goes to the front of the order and everything is routed again (the classic
            // "route the failing net first" loop), a bounded number of times per order.
            let mut promoted = 0;
            loop {
                match self.route_in_order(sol, &order) {
                    // A routed mapping the checker rejects (e.g. a value meeting itself
                    // on a link one II later, which the router does not track) counts as
                    // not routed.
                    Ok(m) => {
                        if check::check(&m).is_ok() {
                            return Some(m);
                        }
                        break;
                    }
                    Err(Some(failed)) if promoted < PROMOTIONS_PER_ORDER => {
                        let at = order.iter().position(|&e| e == failed).unwrap_or(0);
                        if at == 0 || t0.elapsed().as_secs_f64() > opts.time_limit_s {
                            break;
                        }
                        let e = order.remove(at);
                        order.insert(0, e);
                        promoted += 1;
                    }
                    Err(_) => break,
                }
            }
        }
        self.route_negotiated(sol, opts, t0)
    }

    /// PathFinder-style negotiated routing (McMurchie and Ebeling, FPGA 1995) of one
    /// placement, tried when the sequential router failed in every order: every edge is
    /// routed at the lowest cost in the time-extended graph, where a resource held by
    /// another value (or another iteration of the same value) costs more the more it is
    /// overused and the more often it was overused before; edges are ripped up and routed
    /// again until nothing is overused or the round budget runs out.
    fn route_negotiated(
        &self,
        sol: &PlacedSolution,
        opts: &ExactOptions,
        t0: Instant,
    ) -> Option<Mapping> {
        let ii = self.ii as i64;
        let mut neg = Negotiation::new(self.arch, self.ii);
        for v in 0..self.n {
            if let Some(p) = sol.pe[v].filter(|_| self.vedges.iter().any(|e| e.src == v)) {
                let c = sol.time[v] + self.latency[v] as i64;
                neg.add(NegKey::Out(p, c.rem_euclid(ii)), (v, c));
            }
        }
        let slack = |e: &VEdge| -> i64 {
            sol.time[e.dst] + e.distance as i64 * ii - sol.time[e.src] - self.latency[e.src] as i64
        };
        let mut order: Vec<usize> = (0..self.vedges.len()).collect();
        order.sort_by_key(|&i| (slack(&self.vedges[i]), i));
        let mut routed: Vec<Option<(Vec<Step>, Vec<NegClaim>)>> = vec![None; self.vedges.len()];
        for round in 0..NEGOTIATION_ROUNDS {
            if t0.elapsed().as_secs_f64() > opts.time_limit_s {
                return None;
            }
            for &ei in &order {
                if let Some((_, claims)) = routed[ei].take() {
                    for (k, o) in claims {
                        neg.remove(k, o);
                    }
                }
                let e = self.vedges[ei];
                let pu = sol.pe[e.src]?;
                let pv = sol.pe[e.dst]?;
                let ready = sol.time[e.src] + self.latency[e.src] as i64;
                let deadline = sol.time[e.dst] + e.distance as i64 * ii;
                let (steps, claims) = neg.route(e.src, pu, ready, pv, deadline)?;
                for &(k, o) in &claims {
                    neg.add(k, o);
                }
                routed[ei] = Some((steps, claims));
            }
            if !neg.overused() {
                // Replay the routes on the sequential router's tables (register
                // assignment, output-register spans) and build the mapping.
                let mut r = Router::new(self.arch, self.ii);
                for v in 0..self.n {
                    if let Some(p) = sol.pe[v].filter(|_| self.vedges.iter().any(|e| e.src == v)) {
                        r.claim_out(p, v, sol.time[v] + self.latency[v] as i64)?;
                    }
                }
                let mut paths: Vec<Option<Vec<Step>>> = Vec::with_capacity(routed.len());
                for (ei, rt) in routed.iter().enumerate() {
                    let e = self.vedges[ei];
                    let (steps, _) = rt.as_ref()?;
                    let ready = sol.time[e.src] + self.latency[e.src] as i64;
                    r.claim(e.src, sol.pe[e.src]?, ready, steps);
                    paths.push(Some(steps.clone()));
                }
                let m = self.build_mapping(sol, &r, &paths)?;
                return check::check(&m).is_ok().then_some(m);
            }
            neg.next_round(round);
        }
        None
    }

    /// Route every edge in `order`; `Err(Some(edge))` names the first edge that found no
    /// route, `Err(None)` another failure.
    fn route_in_order(
        &self,
        sol: &PlacedSolution,
        order: &[usize],
    ) -> Result<Mapping, Option<usize>> {
        let arch = self.arch;
        let ii = self.ii as i64;
        let mut r = Router::new(arch, self.ii);
        // Every routed result is written to its PE's output register at t + L.
        for v in 0..self.n {
            if let Some(p) = sol.pe[v].filter(|_| self.vedges.iter().any(|e| e.src == v)) {
                r.claim_out(p, v, sol.time[v] + self.latency[v] as i64)
                    .ok_or(None)?;
            }
        }
        let mut paths: Vec<Option<Vec<Step>>> = vec![None; self.vedges.len()];
        for &ei in order {
            let e = self.vedges[ei];
            let pu = sol.pe[e.src].expect("placed");
            let pv = sol.pe[e.dst].ok_or(None)?;
            let ready = sol.time[e.src] + self.latency[e.src] as i64;
            let deadline = sol.time[e.dst] + e.distance as i64 * ii;
            let steps = r.route(e.src, pu, ready, pv, deadline).ok_or(Some(ei))?;
            paths[ei] = Some(steps);
        }
        self.build_mapping(sol, &r, &paths).ok_or(None)
    }

    fn build_mapping(
        &self,
        sol: &PlacedSolution,
        r: &Router,
        paths: &[Option<Vec<Step>>],
    ) -> Option<Mapping> {
        let arch = self.arch;
        // Register indices per (PE, slot), keeping a value in one register when possible.
        let regs = r.assign_registers()?;
        let mut routes = Vec::new();
        for (ei, steps) in paths.iter().enumerate() {
            let e = self.vedges[ei];
            let steps = steps.as_ref()?;
            let pu = sol.pe[e.src].expect("placed") as PeId;
            let pv = sol.pe[e.dst].expect("placed") as PeId;
            let mut segments: Vec<Segment> = Vec::new();
            let mut at = Loc::Out { pe: pu };
            for st in steps {
                match st {
                    Step::Hold { pe, cycle } => {
                        // Held in the RF of `pe` from `cycle` on; a register change is a move.
                        let want = regs[&(e.src, *pe, *cycle)];
                        if let Loc::Reg { pe: cur_pe, reg } = at
                            && cur_pe as usize == *pe
                            && reg != want
                        {
                            let to = Loc::Reg {
                                pe: cur_pe,
                                reg: want,
                            };
                            segments.push(Segment {
                                cycle: (*cycle - 1) as u32,
                                from: at,
                                path: vec![],
                                to,
                            });
                            at = to;
                        }
                    }
                    Step::Move {
                        cycle,
                        path,
                        to_reg,
                    } => {
                        let end_pe = path.last().copied().unwrap_or(at.pe() as usize);
                        let to = if *to_reg {
                            Loc::Reg {
                                pe: end_pe as PeId,
                                reg: regs[&(e.src, end_pe, *cycle + 1)],
                            }
                        } else {
                            Loc::Operand { pe: pv }
                        };
                        segments.push(Segment {
                            cycle: *cycle as u32,
                            from: at,
                            path: path.iter().map(|&q| q as PeId).collect(),
                            to,
                        });
                        at = to;
                    }
                }
            }
            routes.push(Route {
                edge: e.edge,
                segments,
            });
        }
        routes.sort_by_key(|r| r.edge);
        let timing = arch.timing;
        let mut max_hops_in = vec![0usize; self.n];
        for rt in &routes {
            let dst = self
                .vedges
                .iter()
                .find(|e| e.edge == rt.edge)
                .map(|e| e.dst)
                .expect("edge");
            if let Some(last) = rt.segments.last() {
                max_hops_in[dst] = max_hops_in[dst].max(last.path.len());
            }
        }
        let placements = (0..self.n)
            .map(|v| match sol.pe[v] {
                Some(p) => Placement {
                    pe: Some(p as PeId),
                    cycle: sol.time[v] as u32,
                    start_ps: timing.clk_to_q_ps + max_hops_in[v] as u32 * timing.hop_delay_ps,
                    registered: true,
                },
                None => Placement {
                    pe: None,
                    cycle: 0,
                    start_ps: 0,
                    registered: false,
                },
            })
            .collect();
        Some(Mapping {
            format_version: MAPPING_FORMAT_VERSION,
            kernel: self.kernel.clone(),
            arch: arch.clone(),
            ii: self.ii,
            placements,
            routes,
            array_banks: sol.array_banks.clone(),
            // The exact mode maps without read-only array replication.
            array_replicas: Vec::new(),
            access_banks: Vec::new(),
            provenance: Provenance {
                mapper: "exact-milp".into(),
                seed: 0,
                mii: 0,
                time_ms: 0.0,
                failed_iis: Vec::new(),
                tool_version: env!("CARGO_PKG_VERSION").into(),
                judge_seed: None,
            },
        })
    }
}

/// Rip-up and re-route rounds of the negotiated router per placement.
const NEGOTIATION_ROUNDS: u32 = 60;

/// A routing resource of one modulo slot: output register, directed link, register file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum NegKey {
    Out(usize, i64),
    Link(usize, usize, i64),
    Rf(usize, i64),
}

/// An occupant: (value = producer node, absolute cycle). Equal occupants share.
type NegOcc = (usize, i64);
type NegClaim = (NegKey, NegOcc);
/// Cheapest way found to a location: (cost, previous location, hops taken to it).
type NegPred = (f32, usize, Vec<usize>);

/// Negotiated-congestion state of the exact mode's fallback router.
struct Negotiation<'a> {
    arch: &'a CgraSpec,
    ii: i64,
    /// Occupants per resource with their use counts.
    occ: HashMap<NegKey, Vec<(NegOcc, u32)>>,
    history: HashMap<NegKey, f32>,
    present_factor: f32,
    neighbours: Vec<Vec<usize>>,
    max_hops: usize,
}

impl<'a> Negotiation<'a> {
    fn new(arch: &'a CgraSpec, ii: u32) -> Self {
        Self {
            arch,
            ii: ii as i64,
            occ: HashMap::new(),
            history: HashMap::new(),
            present_factor: 0.5,
            neighbours: (0..arch.pe_count())
                .map(|p| {
                    arch.neighbours(p as PeId)
                        .into_iter()
                        .map(|q| q as usize)
                        .collect()
                })
                .collect(),
            max_hops: arch.interconnect.max_hops_per_cycle.max(1) as usize,
        }
    }

    fn capacity(&self, k: NegKey) -> usize {
        match k {
            NegKey::Rf(..) => self.arch.rf_size as usize,
            _ => 1,
        }
    }

    fn add(&mut self, k: NegKey, o: NegOcc) {
        let list = self.occ.entry(k).or_default();
        match list.iter_mut().find(|(x, _)| *x == o) {
            Some((_, n)) => *n += 1,
            None => list.push((o, 1)),
        }
    }

    fn remove(&mut self, k: NegKey, o: NegOcc) {
        if let Some(list) = self.occ.get_mut(&k)
            && let Some(i) = list.iter().position(|(x, _)| *x == o)
        {
            list[i].1 -= 1;
            if list[i].1 == 0 {
                list.swap_remove(i);
            }
        }
    }

    fn overused(&self) -> bool {
        self.occ.iter().any(|(k, l)| l.len() > self.capacity(*k))
    }

    /// Raise the history cost of every overused resource and the present-congestion
    /// factor (the usual PathFinder schedule).
    fn next_round(&mut self, _round: u32) {
        for (k, l) in &self.occ {
            let over = l.len().saturating_sub(self.capacity(*k));
            if over > 0 {
                *self.history.entry(*k).or_insert(0.0) += over as f32;
            }
        }
        self.present_factor *= 1.6;
    }

    /// Cost of adding occupant `o` to resource `k`: 0 when `o` already holds it (fan-out
    /// of the same value in the same cycle), else the base cost scaled by history and by
    /// the overuse it would cause.
    fn cost(&self, k: NegKey, o: NegOcc, base: f32) -> f32 {
        let list = self.occ.get(&k);
        if list.is_some_and(|l| l.iter().any(|(x, _)| *x == o)) {
            return 0.0;
        }
        let n = list.map_or(0, |l| l.len());
        let over = (n + 1).saturating_sub(self.capacity(k));
        let h = self.history.get(&k).copied().unwrap_or(0.0);
        base * (1.0 + h) * (1.0 + self.present_factor * over as f32)
    }

    fn slot(&self, c: i64) -> i64 {
        c.rem_euclid(self.ii)
    }

    /// Cheapest route of `value` from the output register of `pu` (from cycle `ready`)
    /// to the operand on `pv` read in cycle `deadline`, with the claims it makes.
    fn route(
        &self,
        value: usize,
        pu: usize,
        ready: i64,
        pv: usize,
        deadline: i64,
    ) -> Option<(Vec<Step>, Vec<NegClaim>)> {
        if deadline < ready {
            return None;
        }
        let pes = self.arch.pe_count();
        let out_loc = pes;
        let span = (deadline - ready) as usize;
        // best[ci][loc]: (cost, predecessor loc, hop path taken in the previous cycle).
        let mut best: Vec<Vec<Option<NegPred>>> = vec![vec![None; pes + 1]; span + 1];
        best[0][out_loc] = Some((0.0, usize::MAX, vec![]));
        let hops_from = |at: usize, c: i64| -> Vec<Option<(f32, Vec<usize>)>> {
            // Cheapest path with at most `max_hops` links to every PE within cycle `c`.
            let mut reach: Vec<Option<(f32, Vec<usize>)>> = vec![None; pes];
            reach[at] = Some((0.0, vec![]));
            let mut frontier = vec![at];
            for _ in 0..self.max_hops {
                let mut next = Vec::new();
                for &a in &frontier {
                    let (ca, pa) = reach[a].clone().expect("reached");
                    for &b in &self.neighbours[a] {
                        let cb = ca + self.cost(NegKey::Link(a, b, self.slot(c)), (value, c), 1.0);
                        if reach[b].as_ref().is_none_or(|(x, _)| cb < *x) {
                            let mut pb = pa.clone();
                            pb.push(b);
                            reach[b] = Some((cb, pb));
                            next.push(b);
                        }
                    }
                }
                frontier = next;
            }
            reach
        };
        let mut final_best: Option<NegPred> = None;
        for ci in 0..=span {
            let c = ready + ci as i64;
            for loc in 0..=pes {
                let Some((cost, _, _)) = best[ci][loc].clone() else {
                    continue;
                };
                let at = if loc == out_loc { pu } else { loc };
                let reach = hops_from(at, c);
                if ci == span {
                    if let Some((cl, path)) = &reach[pv]
                        && final_best.as_ref().is_none_or(|(x, _, _)| cost + cl < *x)
                    {
                        final_best = Some((cost + cl, loc, path.clone()));
                    }
                    continue;
                }
                // Stay in the output register (at most II cycles: the next iteration's
                // result arrives in it) or in the same register file.
                let stay = if loc == out_loc {
                    (c + 1 < ready + self.ii)
                        .then(|| self.cost(NegKey::Out(pu, self.slot(c + 1)), (value, c + 1), 0.5))
                } else {
                    Some(self.cost(NegKey::Rf(loc, self.slot(c + 1)), (value, c + 1), 1.0))
                };
                if let Some(sc) = stay
                    && best[ci + 1][loc]
                        .as_ref()
                        .is_none_or(|(x, _, _)| cost + sc < *x)
                {
                    best[ci + 1][loc] = Some((cost + sc, loc, vec![]));
                }
                // Move into a register file, held from c + 1.
                for (q, r) in reach.iter().enumerate() {
                    let Some((cl, path)) = r else { continue };
                    if loc != out_loc && q == loc && path.is_empty() {
                        continue;
                    }
                    let x = cost
                        + cl
                        + 0.1
                        + self.cost(NegKey::Rf(q, self.slot(c + 1)), (value, c + 1), 1.0);
                    if best[ci + 1][q].as_ref().is_none_or(|(y, _, _)| x < *y) {
                        best[ci + 1][q] = Some((x, loc, path.clone()));
                    }
                }
            }
        }
        let (_, mut loc, last_path) = final_best?;
        let mut steps = vec![Step::Move {
            cycle: deadline,
            path: last_path.clone(),
            to_reg: false,
        }];
        let mut claims: Vec<NegClaim> = Vec::new();
        let mut a = if loc == out_loc { pu } else { loc };
        for &b in &last_path {
            claims.push((NegKey::Link(a, b, self.slot(deadline)), (value, deadline)));
            a = b;
        }
        let mut ci = span;
        while ci > 0 {
            let c = ready + ci as i64;
            let (_, from, path) = best[ci][loc].clone().expect("reached");
            if loc == out_loc {
                claims.push((NegKey::Out(pu, self.slot(c)), (value, c)));
            } else {
                steps.push(Step::Hold { pe: loc, cycle: c });
                claims.push((NegKey::Rf(loc, self.slot(c)), (value, c)));
                if !(from == loc && path.is_empty()) {
                    steps.push(Step::Move {
                        cycle: c - 1,
                        path: path.clone(),
                        to_reg: true,
                    });
                    let mut a = if from == out_loc { pu } else { from };
                    for &b in &path {
                        claims.push((NegKey::Link(a, b, self.slot(c - 1)), (value, c - 1)));
                        a = b;
                    }
                }
            }
            loc = from;
            ci -= 1;
        }
        steps.reverse();
        Some((normalise(steps), claims))
    }
}

/// Times the failing edge is moved to the front of one routing order.
const PROMOTIONS_PER_ORDER: u32 = 40;

/// One step of a route found by the router.
#[derive(Debug, Clone)]
enum Step {
    /// In cycle `cycle`, move along `path` (PEs after the start) into the RF of the last
    /// PE (`to_reg`) or into the consumer's operand.
    Move {
        cycle: i64,
        path: Vec<usize>,
        to_reg: bool,
    },
    /// The value is held in the RF of `pe` during `cycle`.
    Hold { pe: usize, cycle: i64 },
}

/// Occupancy of the modulo routing resources, owned by (value, absolute cycle).
struct Router<'a> {
    arch: &'a CgraSpec,
    ii: i64,
    out: HashMap<(usize, i64), (usize, i64)>,
    /// Values held in each PE's RF per slot.
    rf: HashMap<(usize, i64), Vec<(usize, i64)>>,
    links: HashMap<(usize, usize, i64), (usize, i64)>,
    neighbours: Vec<Vec<usize>>,
    max_hops: usize,
}

impl<'a> Router<'a> {
    fn new(arch: &'a CgraSpec, ii: u32) -> Self {
        let neighbours = (0..arch.pe_count())
            .map(|p| {
                arch.neighbours(p as PeId)
                    .into_iter()
                    .map(|q| q as usize)
                    .collect()
            })
            .collect();
        Self {
            arch,
            ii: ii as i64,
            out: HashMap::new(),
            rf: HashMap::new(),
            links: HashMap::new(),
            neighbours,
            max_hops: arch.interconnect.max_hops_per_cycle.max(1) as usize,
        }
    }

    fn slot(&self, c: i64) -> i64 {
        c.rem_euclid(self.ii)
    }

    fn out_free(&self, p: usize, value: usize, c: i64) -> bool {
        match self.out.get(&(p, self.slot(c))) {
            None => true,
            Some(&(v, cc)) => v == value && cc == c,
        }
    }

    fn claim_out(&mut self, p: usize, value: usize, c: i64) -> Option<()> {
        if !self.out_free(p, value, c) {
            return None;
        }
        let s = self.slot(c);
        self.out.insert((p, s), (value, c));
        Some(())
    }

    /// Is there a register for `value` at `p` in cycle `c`, keeping `reserve` registers
    /// free for copies of the same value from other iterations (a value alive longer than
    /// II occupies the same slot more than once; the search does not track its own path).
    fn rf_free(&self, p: usize, value: usize, c: i64, reserve: usize) -> bool {
        let cap = self.arch.rf_size as usize;
        match self.rf.get(&(p, self.slot(c))) {
            None => reserve < cap,
            Some(held) => held.contains(&(value, c)) || held.len() + reserve < cap,
        }
    }

    fn link_free(&self, a: usize, b: usize, value: usize, c: i64) -> bool {
        match self.links.get(&(a, b, self.slot(c))) {
            None => true,
            Some(&(v, cc)) => v == value && cc == c,
        }
    }

    /// Route `value` from the output register of `pu` (ready at `ready`) to the operand
    /// of the consumer on `pv` read in cycle `deadline`; claims resources on success.
    fn route(
        &mut self,
        value: usize,
        pu: usize,
        ready: i64,
        pv: usize,
        deadline: i64,
    ) -> Option<Vec<Step>> {
        if deadline < ready {
            return None;
        }
        let pes = self.arch.pe_count();
        // State per cycle: where the value can be *during* cycle c: None = output register
        // of pu (index pes), or RF of PE q. best[c][loc] = predecessor info.
        #[derive(Clone)]
        struct Pred {
            from: usize,
            path: Vec<usize>,
            cost: u32,
        }
        let span = (deadline - ready + 1) as usize;
        let reserve = ((deadline - ready) / self.ii) as usize;
        let mut reach: Vec<Vec<Option<Pred>>> = vec![vec![None; pes + 1]; span + 1];
        let out_loc = pes;
        // The output register holds the value at `ready` (claimed already).
        reach[0][out_loc] = Some(Pred {
            from: usize::MAX,
            path: vec![],
            cost: 0,
        });
        for ci in 0..span {
            let c = ready + ci as i64;
            for loc in 0..=pes {
                let Some(pred) = reach[ci][loc].clone() else {
                    continue;
                };
                let at_pe = if loc == out_loc { pu } else { loc };
                // Within-cycle BFS over free links, up to max_hops.
                let mut seen: Vec<Option<Vec<usize>>> = vec![None; pes];
                seen[at_pe] = Some(vec![]);
                let mut frontier = vec![at_pe];
                for _ in 0..self.max_hops {
                    let mut next = Vec::new();
                    for &a in &frontier {
                        let pa = seen[a].clone().expect("seen");
                        for &b in &self.neighbours[a] {
                            if seen[b].is_none() && self.link_free(a, b, value, c) {
                                let mut pb = pa.clone();
                                pb.push(b);
                                seen[b] = Some(pb);
                                next.push(b);
                            }
                        }
                    }
                    frontier = next;
                }
                if c == deadline {
                    if let Some(path) = &seen[pv] {
                        // Deliver: reconstruct.
                        let mut steps = vec![Step::Move {
                            cycle: c,
                            path: path.clone(),
                            to_reg: false,
                        }];
                        let mut cur = (ci, loc);
                        loop {
                            let p = reach[cur.0][cur.1].as_ref().expect("reached");
                            if p.from == usize::MAX {
                                break;
                            }
                            let prev = (cur.0 - 1, p.from);
                            if p.from == cur.1 && p.path.is_empty() && cur.1 != out_loc {
                                steps.push(Step::Hold {
                                    pe: cur.1,
                                    cycle: ready + cur.0 as i64,
                                });
                            } else if cur.1 == out_loc {
                                // stayed in the output register
                            } else {
                                steps.push(Step::Hold {
                                    pe: cur.1,
                                    cycle: ready + cur.0 as i64,
                                });
                                steps.push(Step::Move {
                                    cycle: ready + prev.0 as i64,
                                    path: p.path.clone(),
                                    to_reg: true,
                                });
                            }
                            cur = prev;
                        }
                        steps.reverse();
                        let steps = normalise(steps);
                        self.claim(value, pu, ready, &steps);
                        return Some(steps);
                    }
                    continue;
                }
                // Stay: output register (if not overwritten) or the same RF.
                let stay_ok = if loc == out_loc {
                    self.out_free(pu, value, c + 1)
                } else {
                    self.rf_free(loc, value, c + 1, reserve)
                };
                let cost = pred.cost;
                // Register-file entries are the scarce resource: waiting in the producer's
                // output register costs less than waiting in a register file.
                let stay = if loc == out_loc { 1 } else { 2 };
                if stay_ok
                    && reach[ci + 1][loc]
                        .as_ref()
                        .is_none_or(|q| q.cost > cost + stay)
                {
                    reach[ci + 1][loc] = Some(Pred {
                        from: loc,
                        path: vec![],
                        cost: cost + stay,
                    });
                }
                // Move into an RF (written at the end of c, held from c + 1).
                for (q, path) in seen.iter().enumerate() {
                    let Some(path) = path else { continue };
                    if loc != out_loc && q == loc && path.is_empty() {
                        continue;
                    }
                    if !self.rf_free(q, value, c + 1, reserve) {
                        continue;
                    }
                    let cst = cost + 2 + path.len() as u32;
                    if reach[ci + 1][q].as_ref().is_none_or(|x| x.cost > cst) {
                        reach[ci + 1][q] = Some(Pred {
                            from: loc,
                            path: path.clone(),
                            cost: cst,
                        });
                    }
                }
            }
        }
        None
    }

    /// Record the resources of a found route.
    fn claim(&mut self, value: usize, pu: usize, ready: i64, steps: &[Step]) {
        let mut at = pu;
        let mut in_out = true;
        let mut last_out = ready;
        for st in steps {
            match st {
                Step::Move {
                    cycle,
                    path,
                    to_reg,
                } => {
                    if in_out {
                        last_out = last_out.max(*cycle);
                    }
                    let mut a = at;
                    for &b in path {
                        let s = self.slot(*cycle);
                        self.links.insert((a, b, s), (value, *cycle));
                        a = b;
                    }
                    at = a;
                    in_out = false;
                    if *to_reg {
                        self.hold_rf(at, value, cycle + 1);
                    }
                }
                Step::Hold { pe, cycle } => {
                    self.hold_rf(*pe, value, *cycle);
                }
            }
        }
        for c in ready..=last_out {
            let s = self.slot(c);
            self.out.insert((pu, s), (value, c));
        }
    }

    fn hold_rf(&mut self, p: usize, value: usize, c: i64) {
        let s = self.slot(c);
        let held = self.rf.entry((p, s)).or_default();
        if !held.contains(&(value, c)) {
            held.push((value, c));
        }
    }

    /// Register index for every (value, PE, cycle) held, at most `rf_size` per PE slot,
    /// keeping a value's index from one cycle to the next where possible.
    fn assign_registers(&self) -> Option<HashMap<(usize, usize, i64), u16>> {
        let mut items: Vec<(usize, i64, usize)> = Vec::new(); // (pe, cycle, value)
        for (&(p, _), held) in &self.rf {
            for &(v, c) in held {
                items.push((p, c, v));
            }
        }
        items.sort();
        let mut used: HashMap<(usize, i64), u64> = HashMap::new();
        let mut out: HashMap<(usize, usize, i64), u16> = HashMap::new();
        let rf = self.arch.rf_size.min(64);
        for (p, c, v) in items {
            let key = (p, self.slot(c));
            let mask = *used.get(&key).unwrap_or(&0);
            let prev = out.get(&(v, p, c - 1)).copied();
            let r = match prev {
                Some(r) if mask & (1 << r) == 0 => r,
                _ => (0..rf).find(|&r| mask & (1 << r) == 0)?,
            };
            used.insert(key, mask | (1 << r));
            out.insert((v, p, c), r);
        }
        Some(out)
    }
}

/// Order steps by time: holds and moves interleave as produced by the back-trace.
fn normalise(mut steps: Vec<Step>) -> Vec<Step> {
    let key = |s: &Step| match s {
        Step::Hold { cycle, .. } => (*cycle, 0),
        Step::Move { cycle, .. } => (*cycle, 1),
    };
    steps.sort_by_key(key);
    steps
}
