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
//! * **Timing-aware RecMII (COMPOSE)** — with composition enabled, dependent ops may chain
//!   within one clock period, so a recurrence costs time in picoseconds, not in ops. Under
//!   the timing model of [`crate::mapping`], follow one recurrence in absolute time: its
//!   ops split into *arcs*, maximal runs joined by chained (`Loc::Comb`) edges, one arc per
//!   clock cycle (a registered edge moves to a later cycle; the recurrence spans exactly
//!   `II * distance` cycles, so it has at most that many arcs). Two chained ops run in the
//!   same absolute cycle, hence in the same modulo slot, hence on different PEs: every
//!   chained edge crosses at least one hop. An arc `o_1 .. o_k` therefore needs
//!   `clk_to_q + sum delay(o_i) + (k - 1) * hop_delay + setup <= clock_period`, i.e.
//!   `sum (delay(o_i) + hop_delay) <= B` with the per-cycle budget
//!   `B = clock_period - clk_to_q - setup + hop_delay` (reported as `cycle_budget_ps`).
//!   Each recurrence edge `u -> v` gets the time weight `time(u -> v)`:
//!   value edge from a single-cycle op: `delay(u) + hop_delay`; from an op of latency
//!   `L > 1` (it may take chained inputs but its result is never chained; its arc has `L`
//!   cycles and `L * clock_period - clk_to_q - setup` ps):
//!   `delay(u) + hop_delay - (L - 1) * (clk_to_q + setup - hop_delay)`, clamped to
//!   `0..=L * B`; order edge after a store (the next op may start at 0 ps, not at
//!   `clk_to_q`): `delay(u) + hop_delay - clk_to_q`; other order edges (the next op may
//!   even run in the same cycle, in parallel): `delay(u) + hop_delay - B - clk_to_q`.
//!   Summing the arc inequalities gives `sum time <= II * distance * B`. Besides, the ops
//!   of one arc run in one cycle on distinct PEs of one virtual PE, so an arc has at most
//!   `V = compose.max_virtual_pe` ops: with `size(u -> v) = 1` (order edges that allow a
//!   parallel arc: `1 - V`), `sum size <= II * distance * V`. The timing-aware RecMII is
//!   `max over recurrences max(ceil(sum time / (distance * B)), ceil(sum size / (distance
//!   * V)))`. Every
//!   weight is at most `latency * B` (the spec's validation keeps single-cycle ops within
//!   a period), so it never exceeds the baseline RecMII. It is a lower bound: packing whole
//!   ops into cycles, the virtual-PE size and routing may need more (the mapper then tries
//!   higher IIs). Both RecMIIs are always reported (`rec_mii_baseline`,
//!   `rec_mii_timed`); `rec_mii` is the timing-aware one when `arch.compose.enabled`.
//!
//! Elementary recurrences are also enumerated (Johnson's algorithm, bounded by a step and
//! count budget) for the listing in the report.

use crate::error::MapError;
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};
use tessera_arch::cgra::{CgraSpec, PeId};
use tessera_ir::{ArrayDir, Kernel, OpClass, Slot};

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
    /// The RecMII in force: [`Self::rec_mii_timed`] when COMPOSE is enabled, else
    /// [`Self::rec_mii_baseline`].
    pub rec_mii: u32,
    /// Baseline RecMII in cycles: `max ceil(sum latency / sum distance)`.
    #[serde(default)]
    pub rec_mii_baseline: u32,
    /// Timing-aware RecMII: `max ceil(sum time_ps / (sum distance * cycle_budget_ps))`
    /// (see the module docs); computed whether or not COMPOSE is enabled.
    #[serde(default)]
    pub rec_mii_timed: u32,
    /// Per-cycle time budget `B` of the timing-aware model, in ps.
    #[serde(default)]
    pub cycle_budget_ps: u64,
    /// `max(res_mii, rec_mii, 1)`, raised to [`Self::slot_mii`].
    pub mii: u32,
    /// The first II from `max(res_mii, rec_mii, 1)` up at which no zero-slack recurrence
    /// overfills a modulo slot (see [`crate::slot_bound`]; equal to that maximum when
    /// nothing conflicts or COMPOSE is on).
    #[serde(default)]
    pub slot_mii: u32,
    /// Why each II below [`Self::slot_mii`] (and at least `max(res_mii, rec_mii)`) is
    /// infeasible.
    #[serde(default)]
    pub slot_conflicts: Vec<(u32, String)>,
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
    /// Sum of the combinational delays of the ops along the recurrence, in ps (the
    /// producers of its value edges and of its order edges after stores).
    pub delay_ps: u64,
    /// Sum of the timing-aware edge weights in ps (delays plus one hop per edge, minus the
    /// order-edge credits; see the module docs).
    #[serde(default)]
    pub time_ps: i64,
    /// Sum of the iteration distances.
    pub distance: u32,
    /// The II this recurrence alone forces under the model in force
    /// ([`Self::mii_timed`] with COMPOSE, else [`Self::mii_baseline`]).
    pub mii: u32,
    /// `ceil(latency_cycles / distance)`.
    #[serde(default)]
    pub mii_baseline: u32,
    /// `max(ceil(time_ps / (distance * cycle_budget_ps)), ceil(ops / (distance *
    /// max_virtual_pe)))` (see the module docs).
    #[serde(default)]
    pub mii_timed: u32,
}

/// Per-edge weights of the recurrence model.
struct EdgeModel {
    src: usize,
    dst: usize,
    edge: u32,
    distance: i64,
    latency_cycles: i64,
    /// Combinational delay of the producer counted on this edge (0 for order edges that
    /// need no cycle).
    delay_ps: i64,
    /// Timing-aware weight (see the module docs).
    time_ps: i64,
    /// Virtual-PE size weight (see the module docs).
    size: i64,
}

/// Compute the MII breakdown, allowing read-only array replication (see
/// [`crate::mapping`]).
pub fn analyze(kernel: &Kernel, arch: &CgraSpec) -> Result<MiiReport, MapError> {
    analyze_with(kernel, arch, true)
}

/// [`analyze`], with read-only array replication allowed or not (`tessera map
/// --no-replicate`, and the exact mode, which maps without replication).
pub fn analyze_with(
    kernel: &Kernel,
    arch: &CgraSpec,
    replicate: bool,
) -> Result<MiiReport, MapError> {
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
            let reason = if class.is_memory()
                && (0..pe_count).any(|p| arch.supports(p as PeId, class))
            {
                format!(
                    "`{}` has PEs supporting {class} but none is wired to a memory bank",
                    arch.name
                )
            } else if class.is_float() {
                let fp: Vec<&str> = OpClass::ALL
                    .iter()
                    .filter(|c| c.is_float() && (0..pe_count).any(|p| can_run(p, **c)))
                    .map(|c| c.name())
                    .collect();
                format!(
                    "no PE of `{}` supports op class `{class}` (IEEE binary32 {}); its PEs have {}; map float kernels on a spec whose PE kinds list `{class}` (the preset hycube-4x4-fp has fp_add and fp_mul)",
                    arch.name,
                    match class {
                        OpClass::FpMul => "multiply",
                        OpClass::FpDiv => "divide",
                        _ => "add/subtract/compare/convert",
                    },
                    if fp.is_empty() {
                        "no floating-point unit".to_string()
                    } else {
                        format!("only {}", fp.join(", "))
                    }
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
    if let Some(l) = array_port_line(kernel, arch, replicate, &counts) {
        per_class.push(l);
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
    let t = &arch.timing;
    let (ctq, setup, hop) = (
        t.clk_to_q_ps as i64,
        t.setup_ps as i64,
        t.hop_delay_ps as i64,
    );
    // Per-cycle budget B of the timing-aware model (module docs).
    let budget_ps = (t.clock_period_ps as i64 - ctq - setup + hop).max(1);
    let vpe = arch.compose.max_virtual_pe.max(1) as i64;
    let latency = |class: OpClass| -> i64 {
        arch.op_cost(class)
            .map(|c| c.latency_cycles as i64)
            .unwrap_or(1)
    };
    let delay = |class: OpClass| -> i64 { arch.op_cost(class).map_or(0, |c| c.delay_ps as i64) };
    let edges: Vec<EdgeModel> = kernel
        .graph
        .edge_references()
        .map(|e| {
            let src_op = kernel.graph[e.source()].op;
            let class = src_op.class();
            let parallel = matches!(e.weight().slot, Slot::Order) && !src_op.is_store();
            let size = if parallel { 1 - vpe } else { 1 };
            let (lat, ps, time) = if matches!(e.weight().slot, Slot::Order) {
                if src_op.is_store() {
                    let d = delay(class);
                    (1, d, (d + hop - ctq).min(budget_ps))
                } else {
                    (0, 0, delay(class) + hop - budget_ps - ctq)
                }
            } else {
                let l = latency(class).max(1);
                let d = delay(class);
                let time = (d + hop - (l - 1) * (ctq + setup - hop)).clamp(0, l * budget_ps);
                (latency(class), d, time)
            };
            EdgeModel {
                src: e.source().index(),
                dst: e.target().index(),
                edge: e.id().index() as u32,
                distance: e.weight().distance as i64,
                latency_cycles: lat,
                delay_ps: ps,
                time_ps: time,
                size,
            }
        })
        .collect();
    let cycles_mii = |w: i64, d: i64| -> u32 {
        if d <= 0 {
            u32::MAX
        } else {
            (w.max(0) as u64).div_ceil(d as u64) as u32
        }
    };
    let timed_mii = |w: i64, size: i64, d: i64| -> u32 {
        if d <= 0 {
            u32::MAX
        } else {
            let by_time = (w.max(0) as u64).div_ceil((d * budget_ps) as u64);
            let by_size = (size.max(0) as u64).div_ceil((d * vpe) as u64);
            by_time.max(by_size) as u32
        }
    };

    let n = kernel.node_count();
    let cyc = CycleGraph::new(n, &edges);
    let by_cycles = |e: &EdgeModel| e.latency_cycles;
    let by_time = |e: &EdgeModel| e.time_ps;
    let (rec_mii_baseline, critical_baseline) = cyc.max_ratio(&edges, &by_cycles, 1);
    let by_size = |e: &EdgeModel| e.size;
    let (rec_mii_timed, critical_timed) = {
        let (t, ct) = cyc.max_ratio(&edges, &by_time, budget_ps);
        let (s, cs) = cyc.max_ratio(&edges, &by_size, vpe);
        if s > t { (s, cs) } else { (t, ct) }
    };
    let (rec_mii, critical_edges) = if compose {
        (rec_mii_timed, critical_timed)
    } else {
        (rec_mii_baseline, critical_baseline)
    };

    let make_rec = |path: &[usize]| -> Recurrence {
        let lat: i64 = path.iter().map(|&i| edges[i].latency_cycles).sum();
        let ps: i64 = path.iter().map(|&i| edges[i].delay_ps).sum();
        let time: i64 = path.iter().map(|&i| edges[i].time_ps).sum();
        let size: i64 = path.iter().map(|&i| edges[i].size).sum();
        let d: i64 = path.iter().map(|&i| edges[i].distance).sum();
        let nodes: Vec<u32> = path.iter().map(|&i| edges[i].src as u32).collect();
        let (mii_baseline, mii_timed) = (cycles_mii(lat, d), timed_mii(time, size, d));
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
            time_ps: time,
            distance: d.max(0) as u32,
            mii: if compose { mii_timed } else { mii_baseline },
            mii_baseline,
            mii_timed,
        }
    };

    let (found, truncated) = cyc.enumerate(&edges, n);
    let recurrences_found = found.len();
    // Rank cheaply (sums only), then build the listed ones.
    let mut ranked: Vec<(u32, i64, &Vec<usize>)> = found
        .iter()
        .map(|p| {
            let lat: i64 = p.iter().map(|&i| edges[i].latency_cycles).sum();
            let d: i64 = p.iter().map(|&i| edges[i].distance).sum();
            let t: i64 = p.iter().map(|&i| edges[i].time_ps).sum();
            let size: i64 = p.iter().map(|&i| edges[i].size).sum();
            let m = if compose {
                timed_mii(t, size, d)
            } else {
                cycles_mii(lat, d)
            };
            (m, lat, p)
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

    let (mii, slot_conflicts) = crate::slot_bound::first_feasible(
        kernel,
        arch,
        replicate,
        res_mii.max(rec_mii).max(1),
        arch.max_ii,
    );
    Ok(MiiReport {
        slot_mii: mii,
        slot_conflicts,
        res_mii,
        rec_mii,
        rec_mii_baseline,
        rec_mii_timed,
        cycle_budget_ps: budget_ps as u64,
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

/// The bank-port bound of the array whose accesses need the most cycles. An array lives in
/// one bank (`Mapping::array_banks`), so its accesses share that bank's ports:
/// `II >= ceil(accesses / ports)`. A read-only array (declared `In`, named by no store)
/// may also be copied into other banks when replication is on; then its loads share the
/// ports of up to `c` banks, where `c` is limited by the banks large enough to hold a copy
/// and by the total capacity: every array some memory op names is resident once and
/// each extra copy takes the array's footprint (`tessera_ir::footprint`: the bytes its
/// memory ops can reach; `(c - 1) * footprint <= capacity - resident bytes`),
/// as in the capacity rule of [`crate::mapping`]. The bound uses the `c` banks with the
/// most ports, so it is a lower bound whatever copies the mapper makes.
fn array_port_line(
    kernel: &Kernel,
    arch: &CgraSpec,
    replicate: bool,
    counts: &[(OpClass, u32)],
) -> Option<ResourceLine> {
    let arrays = kernel.arrays.len();
    let mut accesses = vec![0u32; arrays];
    let mut stored = vec![false; arrays];
    let mut named = vec![false; arrays];
    for (_, node) in kernel.nodes() {
        if !node.op.is_memory() {
            continue;
        }
        if let Some(a) = node.array.map(|a| a as usize).filter(|&a| a < arrays) {
            accesses[a] += 1;
            named[a] = true;
            stored[a] |= node.op.is_store();
        }
    }
    let banks = &arch.memory.banks;
    let capacity: u64 = banks.iter().map(|b| b.size_bytes as u64).sum();
    let footprint = tessera_ir::footprint::resident_bytes(kernel);
    let resident: u64 = (0..arrays)
        .filter(|&a| named[a])
        .map(|a| footprint[a])
        .sum();
    let load_pes: Vec<(u16, u16)> = (0..arch.pe_count())
        .filter(|&p| arch.supports(p as PeId, OpClass::Load))
        .map(|p| arch.pe_pos(p as PeId))
        .collect();
    let max_ports = arch.max_bank_ports();
    // (mii, accesses, array, units, copies)
    let mut best: Option<(u32, u32, usize, u32, u32)> = None;
    for a in 0..arrays {
        let acc = accesses[a];
        if acc == 0 {
            continue;
        }
        let size = footprint[a];
        let read_only = replicate && kernel.arrays[a].dir == ArrayDir::In && !stored[a];
        let (units, copies) = if read_only {
            let mut ports: Vec<u32> = banks
                .iter()
                .filter(|b| {
                    b.size_bytes as u64 >= size && b.pes.iter().any(|p| load_pes.contains(p))
                })
                .map(|b| b.ports as u32)
                .collect();
            ports.sort_unstable_by(|x, y| y.cmp(x));
            let spare = capacity.saturating_sub(resident);
            let by_capacity = spare.checked_div(size).map_or(u64::MAX, |c| c + 1);
            let c = (ports.len() as u64).min(by_capacity).min(acc as u64) as usize;
            if c > 1 {
                (ports.iter().take(c).sum::<u32>(), c as u32)
            } else {
                (max_ports, 1)
            }
        } else {
            (max_ports, 1)
        };
        let mii = acc.div_ceil(units);
        let key = (mii, acc, std::cmp::Reverse(a));
        if best.is_none_or(|(m, c, b, _, _)| key > (m, c, std::cmp::Reverse(b))) {
            best = Some((mii, acc, a, units, copies));
        }
    }
    let (mii, acc, a, units, copies) = best?;
    let name = &kernel.arrays[a].name;
    let resource = if copies > 1 {
        format!("bank ports of array `{name}` (read-only, {copies} copies)")
    } else {
        format!("bank ports of array `{name}`")
    };
    Some(ResourceLine {
        resource,
        classes: counts
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| c.is_memory())
            .collect(),
        ops: acc,
        units,
        mii,
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

    /// The smallest II with no cycle of `sum(w) - II * scale * sum(d) > 0` (0 when no
    /// cycle has positive weight), by binary search on II, and a cycle reaching it (the
    /// one Bellman-Ford exposes just below it).
    fn max_ratio(
        &self,
        edges: &[EdgeModel],
        weight: &dyn Fn(&EdgeModel) -> i64,
        scale: i64,
    ) -> (u32, Option<Vec<usize>>) {
        if self.edges.is_empty() || self.positive_cycle(edges, weight, 0).is_none() {
            return (0, None);
        }
        let total_w: i64 = self.edges.iter().map(|&i| weight(&edges[i]).max(0)).sum();
        // Infeasible at `lo`, feasible at `hi` (no cycle's weight exceeds the total).
        let mut lo = 0u64;
        let mut hi = (total_w as u64).div_ceil(scale.max(1) as u64).max(1);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self
                .positive_cycle(edges, weight, (mid as i64) * scale)
                .is_some()
            {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let crit = self.positive_cycle(edges, weight, (lo as i64) * scale);
        (hi as u32, crit)
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

/// Strongly connected component id of every node (petgraph's Tarjan) in the subgraph of
/// nodes `keep` accepts; other nodes get unique ids.
fn scc_ids_adj(n: usize, adj: &[Vec<(usize, usize)>], keep: impl Fn(usize) -> bool) -> Vec<usize> {
    use petgraph::graph::{DiGraph, NodeIndex};
    let mut g = DiGraph::<(), ()>::with_capacity(n, 0);
    for _ in 0..n {
        g.add_node(());
    }
    for (v, ws) in adj.iter().enumerate() {
        if !keep(v) {
            continue;
        }
        for &(w, _) in ws {
            if keep(w) {
                g.add_edge(NodeIndex::new(v), NodeIndex::new(w), ());
            }
        }
    }
    let mut comp = vec![usize::MAX; n];
    for (id, members) in petgraph::algo::tarjan_scc(&g).into_iter().enumerate() {
        for v in members {
            comp[v.index()] = id;
        }
    }
    comp
}

impl MiiReport {
    /// A readable multi-line breakdown.
    pub fn explain(&self, kernel: &Kernel) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "MII = {} (ResMII {}, RecMII {} {})\n",
            self.mii,
            self.res_mii,
            self.rec_mii,
            if self.compose {
                "timing-aware: COMPOSE on"
            } else {
                "baseline: COMPOSE off"
            }
        ));
        s.push_str(&format!(
            "RecMII baseline {} (cycles: sum latency / distance); timing-aware {} (ceil(sum time / (distance x {} ps)), time = op delay + one hop per edge; at least ops / (distance x max_virtual_pe))\n",
            self.rec_mii_baseline, self.rec_mii_timed, self.cycle_budget_ps
        ));
        for (ii, why) in &self.slot_conflicts {
            s.push_str(&format!("Slot bound: II {ii} is infeasible: {why}\n"));
        }
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
                s.push_str(&format!("      {}\n", r.both_bounds(self.cycle_budget_ps)));
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
                "Critical recurrence: {}\n    {}\n",
                c.describe(kernel, self.compose),
                c.both_bounds(self.cycle_budget_ps)
            ));
        }
        s
    }
}

impl Recurrence {
    /// Both bounds of this recurrence: `baseline 3 (3 cycles / 1); timing-aware 2 (1440 ps / (1 x 995 ps))`.
    pub fn both_bounds(&self, cycle_budget_ps: u64) -> String {
        format!(
            "baseline RecMII {} ({} cycles / distance {}); timing-aware RecMII {} ({} ps incl. hops / (distance {} x {} ps); op delays {} ps)",
            self.mii_baseline,
            self.latency_cycles,
            self.distance,
            self.mii_timed,
            self.time_ps,
            self.distance,
            cycle_budget_ps,
            self.delay_ps
        )
    }

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
                self.time_ps,
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
