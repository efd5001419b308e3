//! The heuristic mapper for one II: modulo scheduling, placement and routing in one pass
//! over the modulo routing resource graph, with negotiated congestion.
//!
//! Stages (each in its own function, named like the passes of the mapper):
//! 1. **prepare** — immediates (`Const`/`Input` without inputs), candidate PEs per node
//!    (op class support, memory bank wiring), array-to-bank assignment balancing accesses,
//!    and the hop budget of every consumer's last route segment (clock period minus its delay).
//! 2. **bounds** — all-pairs longest paths with weights `latency - distance * II` (the
//!    modulo scheduling constraints of Rau's iterative modulo scheduling, MICRO 1994); a
//!    positive cycle means II < RecMII. They give every node its time window given the nodes
//!    already placed, so recurrences are never broken by a placement.
//!
//!    **compose** (between 2 and 3; only with `arch.compose.enabled`, only at an II below
//!    the baseline recurrence bound) — plan chained edges (a consumer in its producer's
//!    absolute cycle, also across loop-carried edges) within the clock period and the
//!    virtual-PE size, so the bounds admit the II; chained routes are one-hop `Loc::Comb`
//!    segments and results read only combinationally stay unregistered (see
//!    `heuristic/compose.rs`). At or above the baseline bound nothing is chained and the
//!    search is the baseline one, so composition never maps a kernel at a higher II than
//!    without it.
//!
//! 3. **place and route** — nodes in a height/slack priority order (a topological order of
//!    the distance-0 edges; on attempts 2, 3, 6, 7, ... of an II with a recurrence, the
//!    recurrence-first order of `heuristic/priority.rs`: tightest SCCs first, swing
//!    modulo scheduling sweeps); each node tries every (PE, cycle) of its window, priced by the
//!    cost of its functional-unit slot plus the cheapest routes from its placed producers
//!    (forward search) and to its placed consumers (backward search), all in one table
//!    lookup per candidate; the best is committed with its routes. A node whose window is
//!    empty evicts the placed nodes that close it (as in iterative modulo scheduling).
//! 4. **negotiate** — PathFinder (McMurchie and Ebeling, FPGA 1995): while any resource is
//!    overused, raise history and present costs, rip up the routes and nodes on overused
//!    resources, and place and route them again.
//! 5. **extract** — register allocation per register file (values may rotate between
//!    registers of one PE from cycle to cycle) and the [`Mapping`] routes.
//!
//! Several seeded attempts (different tie-breaking in the priority order and noise in the
//! costs; on arrays larger than 16 PEs every other attempt confines ops to the top-left
//! quarter, which keeps communicating ops close on neighbour-only meshes) run per II, one
//! after the other; the first that succeeds wins, so the result depends only on the seed
//! (and on the time budget only when it runs out). An II below the per-bank port bound
//! (accesses to the arrays of one bank versus its ports) fails at once with that reason, as
//! does an II that [`crate::slot_bound`] proves infeasible.

// The searches index several dense per-PE tables with one PE index at a time.
#![allow(clippy::needless_range_loop)]

mod compose;
mod priority;
mod rrg;

use crate::mapping::{Loc, MAPPING_FORMAT_VERSION, Mapping, Placement, Provenance, Route, Segment};
use petgraph::visit::EdgeRef;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rrg::{Backward, Fabric, Forward, INF, Occ, Place, Step, owner};
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tessera_arch::cgra::{CgraSpec, PeId};
use tessera_ir::{Kernel, Op, OpClass, Slot};

/// A cooperative stop flag for a running mapping: another thread calls [`Self::cancel`],
/// and the driver stops between IIs and the heuristic between placement attempts and
/// negotiation rounds; the driver then returns [`crate::error::MapError::Cancelled`].
/// Clones share one flag. Two flags compare equal when they are the same flag.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Ask the mapping that holds this flag to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl From<Arc<AtomicBool>> for CancelFlag {
    /// Share an existing flag (e.g. a GUI job's cancel flag).
    fn from(flag: Arc<AtomicBool>) -> Self {
        Self(flag)
    }
}

impl PartialEq for CancelFlag {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The reason an II attempt gives when its [`CancelFlag`] was set.
pub const CANCELLED: &str = "cancelled";

/// Options of the mapper.
#[derive(Debug, Clone, PartialEq)]
pub struct MapOptions {
    /// Seed of every random choice (recorded in the mapping's provenance).
    pub seed: u64,
    /// Highest II to try (default: the array's configuration depth `max_ii`).
    pub max_ii: Option<u32>,
    /// Map at exactly this II.
    pub fixed_ii: Option<u32>,
    /// Wall-time budget of the whole mapping in seconds.
    pub time_limit_s: f64,
    /// Seeded attempts per II.
    pub attempts_per_ii: u32,
    /// PathFinder negotiation rounds per attempt.
    pub negotiation_rounds: u32,
    /// Copy read-only arrays into extra banks when capacity allows, so their loads spread
    /// over more bank ports (see [`crate::mapping`]; `tessera map --no-replicate`).
    pub replicate: bool,
    /// Stop flag: set, the mapping stops early with `MapError::Cancelled`.
    pub cancel: CancelFlag,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            max_ii: None,
            fixed_ii: None,
            time_limit_s: 10.0,
            attempts_per_ii: 16,
            negotiation_rounds: 100,
            replicate: true,
            cancel: CancelFlag::default(),
        }
    }
}

/// Map `kernel` on `arch` at initiation interval `ii`. `Err` says why this II failed.
pub fn map_at_ii(
    kernel: &Kernel,
    arch: &CgraSpec,
    ii: u32,
    opts: &MapOptions,
) -> Result<Mapping, String> {
    map_at_ii_until(kernel, arch, ii, opts, None)
}

/// [`map_at_ii`] with an optional deadline (the driver's time budget).
pub fn map_at_ii_until(
    kernel: &Kernel,
    arch: &CgraSpec,
    ii: u32,
    opts: &MapOptions,
    deadline: Option<Instant>,
) -> Result<Mapping, String> {
    let t0 = Instant::now();
    if ii == 0 {
        return Err("II 0 is not an initiation interval".into());
    }
    let prob = prepare(kernel, arch, opts.replicate)?;
    // A zero-slack recurrence that overfills a modulo slot makes this II infeasible.
    if let Some(why) = crate::slot_bound::conflict(kernel, arch, opts.replicate, ii) {
        return Err(format!("no mapping exists at this II: {why}"));
    }
    // Arrays live in one bank each: accesses to one bank share its ports every cycle
    // (loads of a replicated array share the ports of its copies).
    for (a, reps) in prob.array_replicas.iter().enumerate() {
        if reps.is_empty() {
            continue;
        }
        let banks: Vec<usize> = std::iter::once(prob.array_banks[a] as usize)
            .chain(reps.iter().map(|&b| b as usize))
            .collect();
        let ports: usize = banks
            .iter()
            .map(|&b| arch.memory.banks[b].ports as usize)
            .sum();
        let load = (0..prob.n)
            .filter(|&v| {
                prob.is_mem[v]
                    && kernel.graph[petgraph::graph::NodeIndex::new(v)].array == Some(a as u16)
            })
            .count();
        if load > ports * ii as usize {
            return Err(format!(
                "bank ports: read-only array `{}` has {load} loads per iteration over {} copies with {ports} port(s) (needs II >= {})",
                kernel.arrays[a].name,
                banks.len(),
                load.div_ceil(ports.max(1))
            ));
        }
    }
    for (b, bank) in arch.memory.banks.iter().enumerate() {
        let load: usize = (0..prob.n)
            .filter(|&v| prob.bank[v] == Some(b) && prob.copies[v].is_empty())
            .count();
        if load > bank.ports as usize * ii as usize {
            let arrays: Vec<&str> = kernel
                .arrays
                .iter()
                .enumerate()
                .filter(|(a, _)| prob.array_banks[*a] as usize == b)
                .map(|(_, a)| a.name.as_str())
                .collect();
            return Err(format!(
                "bank ports: bank {b} holds array(s) {} with {load} accesses per iteration but serves {} per cycle (needs II >= {})",
                arrays.join(", "),
                bank.ports,
                load.div_ceil(bank.ports.max(1) as usize)
            ));
        }
    }
    let provenance = || Provenance {
        mapper: "heuristic".into(),
        seed: opts.seed,
        mii: 0,
        time_ms: t0.elapsed().as_secs_f64() * 1e3,
        failed_iis: Vec::new(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        judge_seed: None,
    };
    let bounds = match Bounds::compute(&prob, ii as i64) {
        Ok(b) => b,
        Err(why) if arch.compose.enabled => {
            // Below the baseline recurrence bound: COMPOSE chaining may still reach this
            // II (at or above that bound no chaining is planned and the search below is
            // the baseline one).
            let mut mapping = compose::map_chained(kernel, arch, &prob, ii, opts, deadline)
                .map_err(|c| format!("{c} (without chaining: {why})"))?;
            mapping.provenance = provenance();
            return Ok(mapping);
        }
        Err(why) => return Err(why),
    };
    if arch.compose.enabled {
        // At or above the baseline recurrence bound the search is the baseline one (no
        // chaining), so the baseline slot bound rules this II out for it.
        let mut off = arch.clone();
        off.compose.enabled = false;
        if let Some(why) = crate::slot_bound::conflict(kernel, &off, opts.replicate, ii) {
            return Err(format!("no unchained mapping exists at this II: {why}"));
        }
    }
    let fabric = Fabric::new(arch);
    let mut last_reason = String::from("no attempt ran");
    for attempt in 0..opts.attempts_per_ii.max(1) {
        if opts.cancel.is_cancelled() {
            return Err(CANCELLED.into());
        }
        if attempt > 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            last_reason = format!("{last_reason} (time budget spent after {attempt} attempts)");
            break;
        }
        let seed = opts
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(((ii as u64) << 20) ^ attempt as u64);
        let mut m = Mapper::new(&prob, &bounds, &fabric, arch, ii as usize, seed, attempt);
        match m.run(opts.negotiation_rounds, deadline, &opts.cancel) {
            Ok(()) => {
                let mut mapping = m.extract(kernel, arch);
                mapping.provenance = Provenance {
                    mapper: "heuristic".into(),
                    seed: opts.seed,
                    mii: 0,
                    time_ms: t0.elapsed().as_secs_f64() * 1e3,
                    failed_iis: Vec::new(),
                    tool_version: env!("CARGO_PKG_VERSION").into(),
                    judge_seed: None,
                };
                return Ok(mapping);
            }
            Err(why) => last_reason = why,
        }
    }
    Err(last_reason)
}

/// A value-carrying edge that needs a route.
#[derive(Debug, Clone, Copy)]
struct VEdge {
    edge: u32,
    src: usize,
    dst: usize,
    dist: i64,
}

/// Everything about the kernel and array that does not depend on II.
#[derive(Clone)]
struct Problem {
    /// Value edges (by `vedges` index) the COMPOSE plan lets chain (empty: none; see
    /// [`compose`]).
    chain: Vec<bool>,
    n: usize,
    lat: Vec<i64>,
    immediate: Vec<bool>,
    cands: Vec<Vec<usize>>,
    bank: Vec<Option<usize>>,
    /// Banks holding a copy of the array a load reads, when that array is replicated
    /// (empty otherwise): the mapper picks one per access.
    copies: Vec<Vec<usize>>,
    /// Banks wired to each PE.
    pe_banks: Vec<Vec<usize>>,
    is_mem: Vec<bool>,
    /// Hops allowed in the last segment into each node's operand.
    op_hops: Vec<usize>,
    vedges: Vec<VEdge>,
    /// Value edges incident to each node (in and out, self edges once).
    incident: Vec<Vec<usize>>,
    /// Scheduling constraints `(u, v, w, d)`: `t_v + d * II >= t_u + w`.
    constraints: Vec<(usize, usize, i64, i64)>,
    array_banks: Vec<u16>,
    array_replicas: Vec<Vec<u16>>,
    /// Fraction of memory-PE slots memory ops need per II (reservation pressure).
    mem_ops: usize,
    mem_pes: usize,
    /// PEs that can run memory ops.
    mem_pe: Vec<bool>,
    clk_to_q_ps: u32,
    hop_delay_ps: u32,
}

fn prepare(kernel: &Kernel, arch: &CgraSpec, replicate: bool) -> Result<Problem, String> {
    let n = kernel.node_count();
    let g = &kernel.graph;
    let mut lat = vec![1i64; n];
    let mut immediate = vec![false; n];
    let mut is_mem = vec![false; n];
    for v in g.node_indices() {
        let node = &g[v];
        let class = node.op.class();
        lat[v.index()] = arch
            .op_cost(class)
            .map(|c| c.latency_cycles as i64)
            .unwrap_or(1);
        is_mem[v.index()] = class.is_memory();
        let no_inputs = g
            .edges_directed(v, petgraph::Direction::Incoming)
            .next()
            .is_none();
        let no_carried_out = g
            .edges_directed(v, petgraph::Direction::Outgoing)
            .all(|e| e.weight().distance == 0);
        immediate[v.index()] =
            matches!(node.op, Op::Const | Op::Input(_)) && no_inputs && no_carried_out;
    }
    // Array -> bank: most-accessed arrays first, each to the least-loaded bank that a
    // memory PE reaches (ties: lowest index), so bank ports are shared evenly.
    let banks = arch.memory.banks.len().max(1);
    let mut accesses = vec![0usize; kernel.arrays.len()];
    for v in g.node_indices() {
        if let Some(a) = g[v].array
            && g[v].op.is_memory()
            && (a as usize) < accesses.len()
        {
            accesses[a as usize] += 1;
        }
    }
    let mut order: Vec<usize> = (0..kernel.arrays.len()).collect();
    order.sort_by_key(|&a| (std::cmp::Reverse(accesses[a]), a));
    let mut load = vec![0usize; banks];
    let mut used_bytes = vec![0u64; banks];
    let mut array_banks = vec![0u16; kernel.arrays.len()];
    // A bank holds the bytes of an array that memory ops can reach (its static footprint).
    let resident = tessera_ir::footprint::resident_bytes(kernel);
    for a in order {
        let size = resident[a];
        let fits = |b: usize| {
            used_bytes[b] + size <= arch.memory.banks.get(b).map_or(0, |x| x.size_bytes as u64)
        };
        let any_fits = (0..banks).any(fits);
        let b = (0..banks)
            .filter(|&b| !any_fits || fits(b))
            .min_by_key(|&b| (load[b], b))
            .unwrap_or(0);
        load[b] += accesses[a];
        used_bytes[b] += size;
        array_banks[a] = b as u16;
    }
    let array_replicas = if replicate {
        replicate_read_only(kernel, arch, &array_banks, &accesses, &resident)
    } else {
        vec![Vec::new(); kernel.arrays.len()]
    };
    let pes = arch.pe_count();
    let mut cands = vec![Vec::new(); n];
    let mut bank = vec![None; n];
    let mut copies: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut op_hops = vec![0usize; n];
    let max_hops = arch.interconnect.max_hops_per_cycle.max(1) as usize;
    let t = &arch.timing;
    for v in g.node_indices() {
        let i = v.index();
        let node = &g[v];
        let class = node.op.class();
        if node.op.is_memory()
            && let Some(a) = node.array
            && (a as usize) < array_banks.len()
        {
            bank[i] = Some(array_banks[a as usize] as usize);
            if !array_replicas[a as usize].is_empty() {
                copies[i] = std::iter::once(array_banks[a as usize] as usize)
                    .chain(array_replicas[a as usize].iter().map(|&b| b as usize))
                    .collect();
            }
        }
        for p in 0..pes {
            let pe = p as PeId;
            if !arch.supports(pe, class) {
                continue;
            }
            if class.is_memory() {
                let wired = arch.banks_of(pe);
                match bank[i] {
                    _ if !copies[i].is_empty() && !copies[i].iter().any(|b| wired.contains(b)) => {
                        continue;
                    }
                    _ if !copies[i].is_empty() => {}
                    Some(b) if !wired.contains(&b) => continue,
                    None if wired.is_empty() => continue,
                    _ => {}
                }
            }
            cands[i].push(p);
        }
        if cands[i].is_empty() && !immediate[i] {
            return Err(format!(
                "node {i} ({}) has no PE of `{}` that supports op class `{class}`{}",
                node.op,
                arch.name,
                if class.is_memory() {
                    " and is wired to its bank"
                } else {
                    ""
                }
            ));
        }
        // The last hop chain into an operand and the op itself share one clock period
        // (per cycle of latency): clk-to-q + hops * hop delay + op delay + setup.
        let cost = arch.op_cost(class);
        let budget = lat[i].max(1) * t.clock_period_ps as i64
            - t.clk_to_q_ps as i64
            - t.setup_ps as i64
            - cost.map_or(0, |c| c.delay_ps as i64);
        op_hops[i] = if t.hop_delay_ps == 0 {
            max_hops
        } else {
            (budget.max(0) / t.hop_delay_ps as i64).min(max_hops as i64) as usize
        };
    }
    let mut vedges = Vec::new();
    let mut incident = vec![Vec::new(); n];
    let mut constraints = Vec::new();
    for e in g.edge_references() {
        let (u, v, o) = (e.source().index(), e.target().index(), *e.weight());
        if immediate[u] {
            continue;
        }
        let w = match o.slot {
            Slot::Order => {
                if g[e.source()].op.is_store() {
                    1
                } else {
                    0
                }
            }
            _ => lat[u],
        };
        constraints.push((u, v, w, o.distance as i64));
        if o.carries_value() {
            let id = vedges.len();
            vedges.push(VEdge {
                edge: e.id().index() as u32,
                src: u,
                dst: v,
                dist: o.distance as i64,
            });
            incident[u].push(id);
            if v != u {
                incident[v].push(id);
            }
        }
    }
    let mem_pe: Vec<bool> = (0..pes)
        .map(|p| {
            OpClass::ALL
                .iter()
                .any(|c| c.is_memory() && arch.supports(p as PeId, *c))
                && !arch.banks_of(p as PeId).is_empty()
        })
        .collect();
    let mem_pes = mem_pe.iter().filter(|m| **m).count();
    let mem_ops = is_mem.iter().filter(|m| **m).count();
    Ok(Problem {
        n,
        lat,
        immediate,
        cands,
        bank,
        copies,
        pe_banks: (0..pes).map(|p| arch.banks_of(p as PeId)).collect(),
        is_mem,
        op_hops,
        vedges,
        incident,
        constraints,
        array_banks,
        array_replicas,
        mem_ops,
        mem_pes,
        mem_pe,
        clk_to_q_ps: t.clk_to_q_ps,
        hop_delay_ps: t.hop_delay_ps,
        chain: Vec::new(),
    })
}

/// Read-only array replication (see [`crate::mapping`]): arrays declared `In` that no store
/// names, with at least two loads, get copies in extra banks while capacity allows. First,
/// most-loaded arrays first, copies until the array's own port bound is no higher than the
/// bound of all memory ops over all ports; then more copies (up to one per load) while
/// capacity remains, which gives the placer more banks to choose from per slot. A copy goes
/// to the bank with the fewest accesses so far (then fewest bytes, lowest index) among the
/// banks a load-capable PE reaches. Nothing is replicated unless the resident arrays (those
/// some memory op names) fit their banks. `resident`: each array's footprint in bytes
/// (`tessera_ir::footprint::resident_bytes`), what a copy takes in a bank.
fn replicate_read_only(
    kernel: &Kernel,
    arch: &CgraSpec,
    array_banks: &[u16],
    accesses: &[usize],
    resident: &[u64],
) -> Vec<Vec<u16>> {
    let arrays = kernel.arrays.len();
    let mut replicas: Vec<Vec<u16>> = vec![Vec::new(); arrays];
    let banks = &arch.memory.banks;
    let mut stored = vec![false; arrays];
    let mut named = vec![false; arrays];
    let mut mem_ops = 0usize;
    for v in kernel.graph.node_indices() {
        let node = &kernel.graph[v];
        if !node.op.is_memory() {
            continue;
        }
        mem_ops += 1;
        if let Some(a) = node.array.map(|a| a as usize).filter(|&a| a < arrays) {
            named[a] = true;
            stored[a] |= node.op.is_store();
        }
    }
    let size = |a: usize| resident[a];
    let mut used = vec![0u64; banks.len()];
    let mut load = vec![0usize; banks.len()];
    for a in 0..arrays {
        let b = array_banks[a] as usize;
        if b < banks.len() && named[a] {
            used[b] += size(a);
            load[b] += accesses[a];
        }
    }
    if (0..banks.len()).any(|b| used[b] > banks[b].size_bytes as u64) {
        return replicas;
    }
    let reachable: Vec<bool> = banks
        .iter()
        .map(|bk| {
            (0..arch.pe_count()).any(|p| {
                arch.supports(p as PeId, OpClass::Load) && bk.pes.contains(&arch.pe_pos(p as PeId))
            })
        })
        .collect();
    let total_ports: usize = banks.iter().map(|b| b.ports as usize).sum();
    let mem_bound = mem_ops.div_ceil(total_ports.max(1));
    let mut order: Vec<usize> = (0..arrays)
        .filter(|&a| {
            kernel.arrays[a].dir == tessera_ir::ArrayDir::In
                && !stored[a]
                && accesses[a] >= 2
                && (array_banks[a] as usize) < banks.len()
        })
        .collect();
    order.sort_by_key(|&a| (std::cmp::Reverse(accesses[a]), a));
    for pass in 0..2 {
        for &a in &order {
            loop {
                let primary = array_banks[a] as usize;
                let copies = 1 + replicas[a].len();
                let ports: usize = std::iter::once(primary)
                    .chain(replicas[a].iter().map(|&b| b as usize))
                    .map(|b| banks[b].ports as usize)
                    .sum();
                let wanted = if pass == 0 {
                    accesses[a].div_ceil(ports.max(1)) > mem_bound
                } else {
                    copies < accesses[a]
                };
                if !wanted {
                    break;
                }
                let pick = (0..banks.len())
                    .filter(|&b| {
                        b != primary
                            && !replicas[a].contains(&(b as u16))
                            && reachable[b]
                            && used[b] + size(a) <= banks[b].size_bytes as u64
                    })
                    .min_by_key(|&b| (load[b], used[b], b));
                let Some(b) = pick else { break };
                used[b] += size(a);
                // The array's loads spread over its copies.
                let share = accesses[a] / (copies + 1);
                load[b] += share;
                load[primary] = load[primary].saturating_sub(share);
                replicas[a].push(b as u16);
            }
        }
    }
    for r in &mut replicas {
        r.sort_unstable();
    }
    replicas
}

const NEG: i64 = i64::MIN / 4;

/// PEs an attempt may place ops on: every PE on odd attempts; on even attempts on arrays
/// of more than 16 PEs, the top-left quarter when it has room for the ops (80% of its FU
/// slots) and its memory PEs cover the memory ops and reach every bank they need.
fn region(p: &Problem, arch: &CgraSpec, ii: usize, attempt: u32) -> Vec<bool> {
    let pes = arch.pe_count();
    let all = vec![true; pes];
    if !attempt.is_multiple_of(2) || pes <= 16 {
        return all;
    }
    let (r, c) = (arch.rows.div_ceil(2), arch.cols.div_ceil(2));
    let inside: Vec<bool> = (0..pes)
        .map(|q| {
            let (row, col) = arch.pe_pos(q as PeId);
            row < r && col < c
        })
        .collect();
    let fu_ops = (0..p.n).filter(|&v| !p.immediate[v]).count();
    let room = inside.iter().filter(|x| **x).count() * ii;
    let mem_room = (0..pes).filter(|&q| inside[q] && p.mem_pe[q]).count() * ii;
    let every_node_fits = (0..p.n).all(|v| p.immediate[v] || p.cands[v].iter().any(|&q| inside[q]));
    if (fu_ops as f64) <= 0.8 * room as f64 && p.mem_ops <= mem_room && every_node_fits {
        inside
    } else {
        all
    }
}
/// Negotiation rounds without a new lowest overuse before an attempt gives up.
const STAGNATION_ROUNDS: u32 = 12;
/// Cost of a non-memory op on a memory PE when memory ops fill every memory-PE slot
/// (scaled by the square of that fill ratio).
const MEM_PE_PENALTY: f32 = 4.0;
/// Cost of evicting one placed node (in units of one link use).
const EVICT_COST: f32 = 4.0;

/// Longest-path bounds at one II.
struct Bounds {
    /// Non-immediate nodes, dense.
    idx: Vec<usize>,
    pos: Vec<usize>,
    /// `dist[a * m + b]`: longest path weight from node idx[a] to idx[b] (NEG: none).
    dist: Vec<i64>,
    asap: Vec<i64>,
    /// Longest path from the node to any sink, counting its own latency.
    height: Vec<i64>,
}

impl Bounds {
    fn compute(p: &Problem, ii: i64) -> Result<Self, String> {
        let idx: Vec<usize> = (0..p.n).filter(|&v| !p.immediate[v]).collect();
        let mut pos = vec![usize::MAX; p.n];
        for (a, &v) in idx.iter().enumerate() {
            pos[v] = a;
        }
        let m = idx.len();
        let mut dist = vec![NEG; m * m];
        for &(u, v, w, d) in &p.constraints {
            let (a, b) = (pos[u], pos[v]);
            let x = w - d * ii;
            if x > dist[a * m + b] {
                dist[a * m + b] = x;
            }
        }
        // Floyd-Warshall for longest paths (no positive cycle when II >= RecMII).
        for k in 0..m {
            for a in 0..m {
                let ak = dist[a * m + k];
                if ak == NEG {
                    continue;
                }
                for b in 0..m {
                    let kb = dist[k * m + b];
                    if kb != NEG && ak + kb > dist[a * m + b] {
                        dist[a * m + b] = ak + kb;
                    }
                }
            }
            if dist[k * m + k] > 0 {
                return Err(format!(
                    "II {ii} is below the recurrence bound: node {} lies on a cycle needing {} more cycles",
                    idx[k],
                    dist[k * m + k]
                ));
            }
        }
        if let Some(a) = (0..m).find(|&a| dist[a * m + a] > 0) {
            return Err(format!(
                "II {ii} is below the recurrence bound (node {} on a positive cycle)",
                idx[a]
            ));
        }
        let mut asap = vec![0i64; p.n];
        let mut height = vec![0i64; p.n];
        for b in 0..m {
            let mut e = 0;
            for a in 0..m {
                let d = dist[a * m + b];
                if d != NEG {
                    e = e.max(d);
                }
            }
            asap[idx[b]] = e;
            let mut h = p.lat[idx[b]];
            for c in 0..m {
                let d = dist[b * m + c];
                if d != NEG {
                    h = h.max(d + p.lat[idx[c]]);
                }
            }
            height[idx[b]] = h;
        }
        Ok(Self {
            idx,
            pos,
            dist,
            asap,
            height,
        })
    }

    #[inline]
    fn d(&self, u: usize, v: usize) -> i64 {
        let m = self.idx.len();
        self.dist[self.pos[u] * m + self.pos[v]]
    }
}

/// A committed route of one value edge.
#[derive(Debug, Clone)]
struct Routed {
    steps: Vec<Step>,
    /// Resources held, for rip-up.
    res: Vec<(usize, u64)>,
    /// A COMPOSE chained route: one hop from the producer's combinational output in its
    /// cycle (`steps[0]`), see [`compose`].
    comb: bool,
}

struct Mapper<'a> {
    p: &'a Problem,
    b: &'a Bounds,
    f: &'a Fabric,
    ii: usize,
    occ: Occ,
    rng: ChaCha8Rng,
    /// Noise amplitude on candidate costs (0 on the first attempt).
    noise: f32,
    /// Static priority order rank per node.
    rank: Vec<usize>,
    order: Vec<usize>,
    pe: Vec<Option<usize>>,
    time: Vec<i64>,
    /// Bank each placed load of a replicated array reads.
    mem_bank: Vec<Option<usize>>,
    routes: Vec<Option<Routed>>,
    placements_done: usize,
    /// No evictions for the rest of the current `place_all` call.
    frozen: bool,
    evictions: usize,
    eviction_budget: usize,
    /// PEs this attempt may place ops on (a top-left sub-array on large arrays keeps
    /// communicating ops close; routes may still use every PE).
    allowed: Vec<bool>,
    mem_pressure: f32,
    max_layers: usize,
    /// Placements per `place_all` call before evictions stop: `a * nodes + b`.
    placement_budget: (usize, usize),
    /// Negotiation rounds without a new lowest overuse before `run` gives up
    /// ([`STAGNATION_ROUNDS`]; the COMPOSE chained attempts use fewer).
    stagnation_rounds: u32,
    /// Latest cycle an op may be placed at (`None`: no limit). COMPOSE chained attempts
    /// set it a few IIs past the critical path ([`compose`]): placements pushed later by
    /// cascading evictions almost never lead to a mapping.
    latest_start: Option<i64>,
    /// Extra cost of a candidate that leaves a pending chained middle op no PE (0: off;
    /// COMPOSE chained attempts set it, see `chain_middle_fits`).
    chain_lookahead: f32,
}

impl<'a> Mapper<'a> {
    fn new(
        p: &'a Problem,
        b: &'a Bounds,
        f: &'a Fabric,
        arch: &CgraSpec,
        ii: usize,
        seed: u64,
        attempt: u32,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Priority: Kahn's algorithm over distance-0 constraints, ready nodes by
        // (ASAP, slack, random tie-break); the first attempt breaks ties by height.
        let horizon = b
            .idx
            .iter()
            .map(|&v| b.asap[v] + b.height[v])
            .max()
            .unwrap_or(0);
        let mut indeg = vec![0usize; p.n];
        let mut succ: Vec<Vec<usize>> = vec![Vec::new(); p.n];
        for &(u, v, _, d) in &p.constraints {
            if d == 0 && u != v {
                indeg[v] += 1;
                succ[u].push(v);
            }
        }
        let tie: Vec<u32> = (0..p.n)
            .map(|_| {
                if attempt == 0 {
                    0
                } else {
                    rng.random_range(0..1000u32)
                }
            })
            .collect();
        let key = |v: usize| {
            let slack = horizon - b.height[v] - b.asap[v];
            std::cmp::Reverse((b.asap[v], slack, tie[v], std::cmp::Reverse(b.height[v]), v))
        };
        let mut heap: BinaryHeap<_> = b
            .idx
            .iter()
            .filter(|&&v| indeg[v] == 0)
            .map(|&v| key(v))
            .collect();
        let mut order = Vec::with_capacity(b.idx.len());
        while let Some(std::cmp::Reverse((_, _, _, _, v))) = heap.pop() {
            order.push(v);
            for &w in &succ[v] {
                indeg[w] -= 1;
                if indeg[w] == 0 {
                    heap.push(key(w));
                }
            }
        }
        // COMPOSE chained attempts run below the baseline recurrence bound, where the plan
        // leaves the chained recurrences without slack: they always take the
        // recurrence-first order.
        let chained = p.chain.iter().any(|&c| c);
        if (chained || priority::recurrence_attempt(attempt))
            && priority::has_tight_recurrence(b, ii as i64)
        {
            order = priority::recurrence_first(p, b, &tie);
        }
        let mut rank = vec![usize::MAX; p.n];
        for (i, &v) in order.iter().enumerate() {
            rank[v] = i;
        }
        let mem_pressure = if p.mem_pes == 0 {
            0.0
        } else {
            (p.mem_ops as f32 / (p.mem_pes * ii) as f32).min(1.0)
        };
        Self {
            p,
            b,
            f,
            ii,
            occ: Occ::new(f, arch, ii),
            rng,
            noise: if attempt == 0 { 0.0 } else { 0.3 },
            rank,
            order,
            pe: vec![None; p.n],
            time: vec![0; p.n],
            mem_bank: vec![None; p.n],
            routes: vec![None; p.vedges.len()],
            placements_done: 0,
            frozen: false,
            evictions: 0,
            eviction_budget: 2 * p.n + 20,
            allowed: region(p, arch, ii, attempt),
            mem_pressure,
            max_layers: f.max_hops,
            placement_budget: (10, 100),
            stagnation_rounds: STAGNATION_ROUNDS,
            latest_start: None,
            chain_lookahead: 0.0,
        }
    }

    fn run(
        &mut self,
        rounds: u32,
        deadline: Option<Instant>,
        cancel: &CancelFlag,
    ) -> Result<(), String> {
        let all: Vec<usize> = self.order.clone();
        self.place_all(&all)?;
        let mut best = self.occ.total_overuse;
        let mut since_best = 0;
        for round in 0..rounds {
            if self.occ.total_overuse == 0 {
                break;
            }
            if self.occ.total_overuse < best {
                best = self.occ.total_overuse;
                since_best = 0;
            } else {
                since_best += 1;
                if since_best > self.stagnation_rounds {
                    break;
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            if cancel.is_cancelled() {
                return Err(CANCELLED.into());
            }
            self.occ.bump_history(0.4);
            self.occ.present_factor = (self.occ.present_factor * 1.7).min(1000.0);
            let (nodes, edges) = self.victims();
            for &v in &nodes {
                self.unplace(v);
            }
            for &e in &edges {
                self.unroute(e);
            }
            let mut ns = nodes;
            ns.sort_by_key(|&v| self.rank[v]);
            self.place_all(&ns)?;
            // Re-route ripped edges whose ends are both placed and not yet routed.
            for e in edges {
                let ve = self.p.vedges[e];
                if self.routes[e].is_none()
                    && self.pe[ve.src].is_some()
                    && self.pe[ve.dst].is_some()
                {
                    self.route_edge(e)?;
                }
            }
            let _ = round;
        }
        if self.occ.total_overuse == 0 {
            Ok(())
        } else {
            Err(self.congestion_reason())
        }
    }

    fn congestion_reason(&self) -> String {
        let mut kinds = BTreeMap::new();
        for r in 0..self.occ.len() {
            if self.occ.overuse(r) > 0 {
                let k = if self.occ.is_fu_or_bank(r) {
                    "functional-unit/bank-port slots"
                } else if self.occ.is_out(r) {
                    "output registers"
                } else {
                    "register files or links"
                };
                *kinds.entry(k).or_insert(0usize) += self.occ.overuse(r);
            }
        }
        let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!(
            "congestion not resolved: {} oversubscribed",
            list.join(", ")
        )
    }

    /// Nodes and edges on overused resources.
    fn victims(&mut self) -> (Vec<usize>, Vec<usize>) {
        let mut bad = vec![false; self.occ.len()];
        let mut nodes = Vec::new();
        let mut node_mark = vec![false; self.p.n];
        for r in 0..self.occ.len() {
            if self.occ.overuse(r) > 0 {
                bad[r] = true;
                if self.occ.is_fu_or_bank(r) {
                    for &(w, _) in self.occ.owners(r) {
                        let v = (w >> 32) as usize;
                        if !node_mark[v] {
                            node_mark[v] = true;
                            nodes.push(v);
                        }
                    }
                } else if self.occ.is_out(r) {
                    // Two results written to one output register slot: move a node.
                    let writes: Vec<usize> = self
                        .occ
                        .owners(r)
                        .iter()
                        .map(|&(w, _)| ((w >> 32) as usize, (w & 0xFFFF_FFFF) as i64))
                        .filter(|&(v, c)| self.pe[v].is_some() && c == self.time[v] + self.p.lat[v])
                        .map(|(v, _)| v)
                        .collect();
                    if writes.len() > 1 {
                        for v in writes {
                            if !node_mark[v] {
                                node_mark[v] = true;
                                nodes.push(v);
                            }
                        }
                    }
                }
            }
        }
        let mut edges = Vec::new();
        for (e, r) in self.routes.iter().enumerate() {
            if let Some(r) = r
                && r.res.iter().any(|&(x, _)| bad[x])
            {
                edges.push(e);
            }
        }
        // Occasionally also move a consumer of a congested route, so placement negotiates too.
        let extra: Vec<usize> = edges
            .iter()
            .filter(|_| self.rng.random_bool(0.15))
            .map(|&e| self.p.vedges[e].dst)
            .collect();
        for v in extra {
            if !node_mark[v] {
                node_mark[v] = true;
                nodes.push(v);
            }
        }
        (nodes, edges)
    }

    fn place_all(&mut self, nodes: &[usize]) -> Result<(), String> {
        let mut heap: BinaryHeap<std::cmp::Reverse<(usize, usize)>> = nodes
            .iter()
            .map(|&v| std::cmp::Reverse((self.rank[v], v)))
            .collect();
        // Budgets per call: evictions (see `place_node`) and placements.
        self.placements_done = 0;
        let budget = self.placement_budget.0 * nodes.len() + self.placement_budget.1;
        while let Some(std::cmp::Reverse((_, v))) = heap.pop() {
            if self.pe[v].is_some() {
                continue;
            }
            self.placements_done += 1;
            // Past the budget, no more evictions: every remaining node then fits in time
            // (the placed nodes are mutually consistent), so the loop ends.
            self.frozen = self.placements_done > budget;
            if self.placements_done > budget + 2 * nodes.len() {
                return Err(
                    "placement did not converge: too many evictions while fitting recurrences"
                        .into(),
                );
            }
            let evicted = self.place_node(v)?;
            for w in evicted {
                heap.push(std::cmp::Reverse((self.rank[w], w)));
            }
        }
        Ok(())
    }

    /// Time window of `v` given the placed nodes, and the placed nodes that cap it.
    fn window(&self, v: usize) -> (i64, i64) {
        let mut lb = self.b.asap[v].max(0);
        let mut ub = i64::MAX / 4;
        for &u in &self.b.idx {
            if u == v || self.pe[u].is_none() {
                continue;
            }
            let duv = self.b.d(u, v);
            if duv != NEG {
                lb = lb.max(self.time[u] + duv);
            }
            let dvu = self.b.d(v, u);
            if dvu != NEG {
                ub = ub.min(self.time[u] - dvu);
            }
        }
        (lb, ub)
    }

    /// Place and route one node; returns the placed nodes it evicted. A node may be placed
    /// later than its placed successors allow (as in iterative modulo scheduling): those
    /// successors are evicted and placed again, at a cost that keeps this rare.
    fn place_node(&mut self, v: usize) -> Result<Vec<usize>, String> {
        let lb = self.window(v).0;
        // Latest cycle of v that keeps each placed node's constraint from v satisfied.
        let mut limits: Vec<(usize, i64)> = Vec::new();
        for &u in &self.b.idx {
            if u != v && self.pe[u].is_some() {
                let dvu = self.b.d(v, u);
                if dvu != NEG {
                    limits.push((u, self.time[u] - dvu));
                }
            }
        }
        let ii = self.ii as i64;
        // Evictions are bounded per attempt; once spent, a node must fit below every
        // placed node's limit (always possible in time, as the placed nodes are mutually
        // consistent: see `Bounds`).
        let ub = limits.iter().map(|x| x.1).min().unwrap_or(i64::MAX / 4);
        let may_evict = self.evictions < self.eviction_budget && !self.frozen;
        let mut found = None;
        for (extra, evict) in [
            (ii + 2, may_evict),
            (3 * ii + 4, may_evict),
            (3 * ii + 4, true),
        ] {
            let hi = if evict {
                lb + extra
            } else {
                (lb + extra).min(ub)
            };
            found = self.best_candidate(v, lb, hi, &limits);
            if found.is_some() {
                break;
            }
        }
        let Some((pe, t)) = found else {
            return Err(format!(
                "node {v}: no PE and cycle from {lb} on can receive its operands"
            ));
        };
        if let Some(latest) = self.latest_start
            && t > latest
        {
            return Err(format!(
                "placement drifted: node {v} would start at cycle {t}, past the limit of {latest}"
            ));
        }
        let mut evicted = Vec::new();
        for &(u, lim) in &limits {
            if lim < t && self.pe[u].is_some() {
                self.unplace(u);
                evicted.push(u);
                self.evictions += 1;
            }
        }
        self.commit(v, pe, t)?;
        Ok(evicted)
    }

    /// Cheapest (PE, cycle) for `v` in `[lb, hi]`; `limits` are the placed nodes that a
    /// cycle above their limit would evict.
    fn best_candidate(
        &mut self,
        v: usize,
        lb: i64,
        hi: i64,
        limits: &[(usize, i64)],
    ) -> Option<(usize, i64)> {
        if hi < lb {
            return None;
        }
        let ii = self.ii as i64;
        let lat = self.p.lat[v];
        let pes = self.f.pes;
        let width = (hi - lb + 1) as usize;
        let mut cost = vec![0.0f32; width * pes];
        let limit_of = |u: usize| limits.iter().find(|x| x.0 == u).map_or(i64::MAX, |x| x.1);
        // Eviction penalty per cycle of the window.
        let mut evict = vec![0.0f32; width];
        for (ti, ev) in evict.iter_mut().enumerate() {
            let t = lb + ti as i64;
            *ev = EVICT_COST * limits.iter().filter(|x| x.1 < t).count() as f32;
        }
        // Edges to and from placed nodes: one forward or backward search each.
        for &e in &self.p.incident[v] {
            let ve = self.p.vedges[e];
            if ve.src == v && ve.dst == v {
                continue;
            }
            if ve.dst == v {
                let Some(spe) = self.pe[ve.src] else { continue };
                let lim = limit_of(ve.src);
                let start = self.time[ve.src] + self.p.lat[ve.src];
                let end = hi.min(lim) + ve.dist * ii;
                let fw = Forward::run(self.f, &self.occ, ve.src, spe, start, end);
                let hops = self.p.op_hops[v];
                // COMPOSE: in the producer's absolute cycle, only a chained hop delivers.
                let t_src = self.time[ve.src];
                let comb_at = self.chainable(e).then_some(t_src - ve.dist * ii);
                for ti in 0..width {
                    let t = lb + ti as i64;
                    if t > lim {
                        break;
                    }
                    if comb_at == Some(t) {
                        for q in 0..pes {
                            cost[ti * pes + q] += self.comb_cost(ve.src, spe, q, t_src);
                        }
                        continue;
                    }
                    for q in 0..pes {
                        cost[ti * pes + q] += fw.deliver(q, t + ve.dist * ii, hops);
                    }
                }
            } else {
                let Some(dpe) = self.pe[ve.dst] else { continue };
                let lim = limit_of(ve.dst);
                let target = self.time[ve.dst] + ve.dist * ii;
                let start = lb + lat;
                let bw = Backward::run(
                    self.f,
                    &self.occ,
                    v,
                    dpe,
                    target,
                    self.p.op_hops[ve.dst],
                    start,
                );
                // COMPOSE: running in the consumer's absolute cycle, only a chained hop
                // delivers.
                let comb_at = self.chainable(e).then_some(target);
                for ti in 0..width {
                    let t = lb + ti as i64;
                    if t > lim {
                        break;
                    }
                    if comb_at == Some(t) {
                        for q in 0..pes {
                            cost[ti * pes + q] += self.comb_cost(v, q, dpe, t);
                        }
                        continue;
                    }
                    for q in 0..pes {
                        cost[ti * pes + q] += bw.cost_from_out(q, t + lat);
                    }
                }
            }
        }
        for ti in 0..width {
            for q in 0..pes {
                cost[ti * pes + q] += evict[ti];
            }
        }
        // COMPOSE: chained neighbours `w` of `v` not yet placed whose other chained
        // neighbour `x` is placed, as (edge v-w, w, edge w-x, x).
        let mut pending: Vec<(usize, usize, usize, usize)> = Vec::new();
        if self.chain_lookahead > 0.0 {
            for &e in &self.p.incident[v] {
                if !self.chainable(e) {
                    continue;
                }
                let ve = self.p.vedges[e];
                let w = if ve.src == v { ve.dst } else { ve.src };
                if w == v || self.pe[w].is_some() {
                    continue;
                }
                for &e2 in &self.p.incident[w] {
                    if e2 == e || !self.chainable(e2) {
                        continue;
                    }
                    let v2 = self.p.vedges[e2];
                    let x = if v2.src == w { v2.dst } else { v2.src };
                    if x != w && x != v && self.pe[x].is_some() {
                        pending.push((e, w, e2, x));
                    }
                }
            }
        }
        let mut best: Option<(f32, usize, i64)> = None;
        for ti in 0..width {
            let t = lb + ti as i64;
            for &q in &self.p.cands[v] {
                if !self.allowed[q] {
                    continue;
                }
                let mut c = cost[ti * pes + q];
                if c == INF {
                    continue;
                }
                for &(e, w, e2, x) in &pending {
                    if !self.chain_middle_fits(v, q, t, (e, w), (e2, x)) {
                        c += self.chain_lookahead;
                    }
                }
                c += self.occ.cost(self.occ.fu(q, t), owner(v, t));
                c += self.occ.cost(self.occ.out(q, t + lat), owner(v, t + lat));
                if let Some(bk) = self.access_bank(v, q, t) {
                    c += self.occ.cost(self.occ.bank(bk, t), owner(v, t));
                }
                if !self.p.is_mem[v] && self.is_mem_pe(q) {
                    // Keep memory PEs free for memory ops when they are scarce.
                    c += MEM_PE_PENALTY * self.mem_pressure * self.mem_pressure;
                }
                c += 0.05 * ti as f32;
                if self.noise > 0.0 {
                    c += self.noise * self.rng.random_range(0.0..1.0f32);
                }
                if best.is_none_or(|b| c < b.0) {
                    best = Some((c, q, t));
                }
            }
        }
        best.map(|(_, q, t)| (q, t))
    }

    /// COMPOSE lookahead: with `v` on PE `q` at cycle `t`, is there a PE for `w` (not placed;
    /// chained to `v` by edge `e` and to the placed `x` by edge `e2`) one link from both,
    /// in the link directions the two chained hops need? Always `true` when the two chains
    /// would put `w` in different cycles (the placement then cannot chain both anyway).
    fn chain_middle_fits(
        &self,
        v: usize,
        q: usize,
        t: i64,
        (e, w): (usize, usize),
        (e2, x): (usize, usize),
    ) -> bool {
        let ii = self.ii as i64;
        let (ve, v2) = (self.p.vedges[e], self.p.vedges[e2]);
        // A chained consumer runs in its producer's cycle minus distance x II.
        let tw = if ve.src == v {
            t - ve.dist * ii
        } else {
            t + ve.dist * ii
        };
        let tw_x = if v2.src == x {
            self.time[x] - v2.dist * ii
        } else {
            self.time[x] + v2.dist * ii
        };
        if tw != tw_x {
            return true;
        }
        let px = self.pe[x].expect("only placed nodes are pending ends");
        let linked = |a: usize, b: usize| self.f.out_links[a].iter().any(|&(_, d)| d == b);
        self.p.cands[w].iter().any(|&r| {
            r != q
                && r != px
                && self.allowed[r]
                && if ve.src == v {
                    linked(q, r)
                } else {
                    linked(r, q)
                }
                && if v2.src == x {
                    linked(px, r)
                } else {
                    linked(r, px)
                }
        })
    }

    /// The bank node `v` accesses from PE `q` at cycle `t`: its array's bank, or for a load
    /// of a replicated array the cheapest copy wired to `q` in that slot (ties: lowest
    /// index).
    fn access_bank(&self, v: usize, q: usize, t: i64) -> Option<usize> {
        if self.p.copies[v].is_empty() {
            return self.p.bank[v];
        }
        let wired = &self.p.pe_banks[q];
        self.p.copies[v]
            .iter()
            .copied()
            .filter(|b| wired.contains(b))
            .min_by(|&a, &b| {
                let (ca, cb) = (
                    self.occ.cost(self.occ.bank(a, t), owner(v, t)),
                    self.occ.cost(self.occ.bank(b, t), owner(v, t)),
                );
                ca.total_cmp(&cb).then(a.cmp(&b))
            })
    }

    fn is_mem_pe(&self, q: usize) -> bool {
        self.p.mem_pe[q]
    }

    fn commit(&mut self, v: usize, pe: usize, t: i64) -> Result<(), String> {
        self.pe[v] = Some(pe);
        self.time[v] = t;
        let lat = self.p.lat[v];
        self.occ.add(self.occ.fu(pe, t), owner(v, t));
        self.occ.add(self.occ.out(pe, t + lat), owner(v, t + lat));
        let bk = self.access_bank(v, pe, t);
        self.mem_bank[v] = bk;
        if let Some(bk) = bk {
            self.occ.add(self.occ.bank(bk, t), owner(v, t));
        }
        for i in 0..self.p.incident[v].len() {
            let e = self.p.incident[v][i];
            let ve = self.p.vedges[e];
            let other = if ve.src == v { ve.dst } else { ve.src };
            if self.routes[e].is_none() && self.pe[other].is_some() {
                self.route_edge(e)?;
            }
        }
        Ok(())
    }

    fn unplace(&mut self, v: usize) {
        let Some(pe) = self.pe[v] else { return };
        let t = self.time[v];
        let lat = self.p.lat[v];
        for i in 0..self.p.incident[v].len() {
            let e = self.p.incident[v][i];
            self.unroute(e);
        }
        self.occ.remove(self.occ.fu(pe, t), owner(v, t));
        self.occ
            .remove(self.occ.out(pe, t + lat), owner(v, t + lat));
        if let Some(bk) = self.mem_bank[v].take() {
            self.occ.remove(self.occ.bank(bk, t), owner(v, t));
        }
        self.pe[v] = None;
    }

    fn unroute(&mut self, e: usize) {
        if let Some(r) = self.routes[e].take() {
            for (res, w) in r.res {
                self.occ.remove(res, w);
            }
        }
    }

    fn route_edge(&mut self, e: usize) -> Result<(), String> {
        let ve = self.p.vedges[e];
        let (spe, dpe) = (
            self.pe[ve.src].expect("placed"),
            self.pe[ve.dst].expect("placed"),
        );
        let ii = self.ii as i64;
        let start = self.time[ve.src] + self.p.lat[ve.src];
        let target = self.time[ve.dst] + ve.dist * ii;
        if target == self.time[ve.src] && self.chainable(e) {
            return self.route_comb(e);
        }
        if target < start {
            return Err(format!(
                "edge {} ({} -> {}): consumer reads at cycle {target} before the value exists at {start}",
                ve.edge, ve.src, ve.dst
            ));
        }
        let hops = self.p.op_hops[ve.dst];
        let fw = Forward::run(self.f, &self.occ, ve.src, spe, start, target);
        if fw.deliver(dpe, target, hops) == INF {
            return Err(format!(
                "edge {} ({} -> {}): no route from PE {spe} cycle {start} to PE {dpe} cycle {target}",
                ve.edge, ve.src, ve.dst
            ));
        }
        let steps = fw.backtrack(dpe, target, hops);
        let mut res = Vec::new();
        let u = ve.src;
        // Output-register holds through the last read from it.
        let last_out = steps
            .iter()
            .filter(|s| s.from == Place::Out)
            .map(|s| s.cycle)
            .max()
            .unwrap_or(start);
        for c in start..=last_out {
            res.push((self.occ.out(spe, c), owner(u, c)));
        }
        for s in &steps {
            let mut at = match s.from {
                Place::Out => spe,
                Place::Rf(q) => q,
            };
            for &nx in &s.path {
                let l = self.f.out_links[at]
                    .iter()
                    .find(|&&(_, q)| q == nx)
                    .map(|&(l, _)| l)
                    .expect("path follows links");
                res.push((self.occ.link(l, s.cycle), owner(u, s.cycle)));
                at = nx;
            }
            if let Some(Place::Rf(q)) = s.to {
                res.push((self.occ.rf(q, s.cycle + 1), owner(u, s.cycle + 1)));
            }
        }
        for &(r, w) in &res {
            self.occ.add(r, w);
        }
        self.routes[e] = Some(Routed {
            steps,
            res,
            comb: false,
        });
        Ok(())
    }

    /// Build the [`Mapping`]: placements, register allocation, route segments.
    fn extract(&self, kernel: &Kernel, arch: &CgraSpec) -> Mapping {
        let ii = self.ii as i64;
        let rf = self.f.rf_size;
        // (value, pe, cycle) held in a register file -> register number.
        let mut held: Vec<(usize, usize, i64)> = Vec::new();
        for (e, r) in self.routes.iter().enumerate() {
            let Some(r) = r else { continue };
            let u = self.p.vedges[e].src;
            for s in &r.steps {
                if let Some(Place::Rf(q)) = s.to {
                    held.push((u, q, s.cycle + 1));
                }
            }
        }
        held.sort_unstable();
        held.dedup();
        let mut used = vec![0u64; self.f.pes * self.ii];
        let mut reg: BTreeMap<(usize, usize, i64), u16> = BTreeMap::new();
        for &(u, q, c) in &held {
            let slot = (c.rem_euclid(ii)) as usize;
            let mask = used[q * self.ii + slot];
            let prev = reg.get(&(u, q, c - 1)).copied();
            let r = match prev {
                Some(r) if mask & (1u64 << r) == 0 => r,
                _ => (0..rf.min(64) as u16)
                    .find(|&r| mask & (1u64 << r) == 0)
                    .unwrap_or(0),
            };
            used[q * self.ii + slot] |= 1u64 << r;
            reg.insert((u, q, c), r);
        }
        let mut routes = Vec::new();
        let mut max_hops_in = vec![0usize; self.p.n];
        for (e, r) in self.routes.iter().enumerate() {
            let Some(r) = r else { continue };
            let ve = self.p.vedges[e];
            let u = ve.src;
            let spe = self.pe[u].expect("placed") as PeId;
            let mut segments = Vec::new();
            if r.comb {
                let s = &r.steps[0];
                routes.push(Route {
                    edge: ve.edge,
                    segments: vec![Segment {
                        cycle: s.cycle as u32,
                        from: Loc::Comb { pe: spe },
                        path: s.path.iter().map(|&q| q as PeId).collect(),
                        to: Loc::Operand {
                            pe: self.pe[ve.dst].expect("placed") as PeId,
                        },
                    }],
                });
                continue;
            }
            for s in &r.steps {
                let from = match s.from {
                    Place::Out => Loc::Out { pe: spe },
                    Place::Rf(q) => Loc::Reg {
                        pe: q as PeId,
                        reg: reg[&(u, q, s.cycle)],
                    },
                };
                let to = match s.to {
                    Some(Place::Rf(q)) => Loc::Reg {
                        pe: q as PeId,
                        reg: reg[&(u, q, s.cycle + 1)],
                    },
                    Some(Place::Out) => unreachable!("routes never write an output register"),
                    None => {
                        max_hops_in[ve.dst] = max_hops_in[ve.dst].max(s.path.len());
                        Loc::Operand {
                            pe: self.pe[ve.dst].expect("placed") as PeId,
                        }
                    }
                };
                if from == to && s.path.is_empty() {
                    continue; // held in the same register
                }
                segments.push(Segment {
                    cycle: s.cycle as u32,
                    from,
                    path: s.path.iter().map(|&q| q as PeId).collect(),
                    to,
                });
            }
            routes.push(Route {
                edge: ve.edge,
                segments,
            });
        }
        routes.sort_by_key(|r| r.edge);
        let placements = if self.p.chain.is_empty() {
            (0..self.p.n)
                .map(|v| match self.pe[v] {
                    Some(pe) => Placement {
                        pe: Some(pe as PeId),
                        cycle: self.time[v] as u32,
                        start_ps: self.p.clk_to_q_ps + max_hops_in[v] as u32 * self.p.hop_delay_ps,
                        registered: true,
                    },
                    None => Placement {
                        pe: None,
                        cycle: 0,
                        start_ps: 0,
                        registered: false,
                    },
                })
                .collect()
        } else {
            self.timing(kernel, arch, &max_hops_in)
        };
        let _ = self.max_layers;
        Mapping {
            format_version: MAPPING_FORMAT_VERSION,
            kernel: kernel.clone(),
            arch: arch.clone(),
            ii: self.ii as u32,
            placements,
            routes,
            array_banks: self.p.array_banks.clone(),
            array_replicas: if self.p.array_replicas.iter().any(|r| !r.is_empty()) {
                self.p.array_replicas.clone()
            } else {
                Vec::new()
            },
            access_banks: if self.p.copies.iter().any(|c| !c.is_empty()) {
                (0..self.p.n)
                    .map(|v| {
                        if self.p.copies[v].is_empty() {
                            None
                        } else {
                            self.mem_bank[v].map(|b| b as u16)
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            },
            provenance: Provenance {
                mapper: "heuristic".into(),
                seed: 0,
                mii: 0,
                time_ms: 0.0,
                failed_iis: Vec::new(),
                tool_version: String::new(),
                judge_seed: None,
            },
        }
    }
}
