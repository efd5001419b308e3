//! The independent mapping checker.
//!
//! Architecture invariant: this module shares no code with the mappers (only the
//! [`Mapping`] type and the spec/kernel accessors). It re-derives every occupancy from the
//! mapping itself, following the timing model in [`crate::mapping`], and reports every
//! violation it finds (not only the first), each naming the node, edge, PE and cycle.
//!
//! Rules:
//! 1. Shape: `ii` in `1..=arch.max_ii`, one placement per node, one bank per array.
//! 2. Placement: every node sits on a PE, except `Const`/`Input` immediates; the PE exists
//!    and its kind supports the op's class; memory ops sit on PEs wired to their array's
//!    bank (`array_banks`), or to some bank when the array is unknown.
//! 3. Functional units: one op per PE per slot `cycle mod ii`.
//! 4. Bank ports: memory ops of known banks never exceed a bank's ports in a slot.
//!    Read-only replication: only arrays declared `In` that no store names have copies
//!    (`array_replicas`, never the primary bank, no bank twice); a load of a replicated
//!    array reads `access_banks[node]` (a bank holding a copy) or else the lowest-index
//!    copy wired to its PE, which must exist; that bank's ports count the access. When
//!    anything is replicated, every bank's resident bytes (the static footprints,
//!    `tessera_ir::footprint`, of the arrays some memory op names whose primary bank it
//!    is, plus the copies it holds) fit its `size_bytes`.
//! 5. Storage: output registers, register-file registers and directed links are never held
//!    by two different values (or two iterations of one value) in the same slot modulo `ii`;
//!    one value fanning out shares them. Register indices are below `rf_size`.
//! 6. Routes: every value edge from a placed producer has exactly one route, none other
//!    has one; the first segment leaves the producer's `Out` at or after `t + latency` (or
//!    its `Comb` at `t`, with COMPOSE on); each segment continues where the previous ended,
//!    strictly later; every hop is a link of the topology, at most `max_hops_per_cycle` per
//!    segment; only the last segment ends at an operand, at the consumer's PE in cycle
//!    `t_consumer + distance * ii`.
//! 7. Order edges: `t_v + d * ii >= t_u + 1` after a store, `>= t_u` otherwise.
//! 8. COMPOSE (only when `arch.compose.enabled`): chained inputs arrive by `start_ps`
//!    (`producer start + delay + hops * hop_delay`; registered inputs `clk_to_q + hops *
//!    hop_delay`), every op finishes with setup time left in its cycle(s), a chained value
//!    written to a register fits the period, unregistered results are never read from the
//!    output register (nor live-outs), and each chain spans at most `max_virtual_pe` PEs.

use crate::mapping::{Loc, Mapping};
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use tessera_arch::Spec;
use tessera_arch::cgra::PeId;
use tessera_ir::{OpClass, Slot};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CheckViolation {
    /// The mapping's overall shape is wrong (II range, vector lengths, bank indices,
    /// invalid kernel or spec).
    Shape { message: String },
    /// A node that must execute has no PE.
    Unplaced { node: u32, op: String },
    /// A placement names a PE outside the array.
    BadPe { node: u32, pe: u32 },
    /// The PE's kind does not support the op's class.
    UnsupportedOp {
        node: u32,
        op: String,
        pe: PeId,
        class: String,
    },
    /// A memory op sits on a PE not wired to the bank it needs.
    MemoryNotWired {
        node: u32,
        op: String,
        pe: PeId,
        bank: Option<u16>,
    },
    /// A load of a replicated array on a PE wired to no bank holding a copy.
    ReplicaNotWired {
        node: u32,
        op: String,
        pe: PeId,
        copies: Vec<u16>,
    },
    /// `access_banks` names a bank that holds no copy of the op's declared array.
    WrongAccessBank {
        node: u32,
        bank: u16,
        reason: String,
    },
    /// An array with copies that the kernel may write.
    ReplicatedWritable {
        array: u32,
        name: String,
        reason: String,
    },
    /// A bank holding copies whose resident arrays and copies exceed its size.
    BankCapacity {
        bank: u16,
        bytes: u64,
        size_bytes: u32,
        arrays: Vec<String>,
    },
    /// More accesses to one bank in one slot than it has ports.
    BankPorts {
        bank: u16,
        slot: u32,
        ports: u16,
        nodes: Vec<u32>,
    },
    /// Two ops on one functional unit in one slot.
    FuConflict {
        pe: PeId,
        slot: u32,
        nodes: [u32; 2],
        cycles: [u32; 2],
    },
    /// A storage resource or link held by two values (or two iterations) in one slot.
    /// `values` are producer nodes, `cycles` the absolute cycles (producer's iteration).
    ResourceConflict {
        resource: String,
        slot: u32,
        values: [u32; 2],
        cycles: [i64; 2],
    },
    /// A register index at or beyond the register-file size.
    RegOutOfRange {
        edge: u32,
        pe: PeId,
        reg: u16,
        rf_size: u16,
    },
    /// A hop between PEs that no link connects.
    BadLink {
        edge: u32,
        cycle: u32,
        from: PeId,
        to: PeId,
    },
    /// A segment takes more hops than one cycle allows.
    TooManyHops {
        edge: u32,
        cycle: u32,
        hops: u32,
        max: u16,
    },
    /// A value edge without a route.
    MissingRoute { edge: u32, from: u32, to: u32 },
    /// A route for an edge that needs none (order edge, immediate producer, no such edge).
    ExtraRoute { edge: u32, reason: String },
    /// Two routes for one edge.
    DuplicateRoute { edge: u32 },
    /// A route whose segments do not connect or go back in time.
    BrokenRoute {
        edge: u32,
        segment: u32,
        reason: String,
    },
    /// The first segment does not leave the producer correctly.
    BadRouteStart { edge: u32, reason: String },
    /// The last segment does not reach the consumer's operand in time.
    BadRouteEnd { edge: u32, reason: String },
    /// An order edge violated.
    OrderViolated {
        edge: u32,
        from: u32,
        to: u32,
        need: i64,
        have: i64,
    },
    /// A combinational (`Comb`) segment without COMPOSE enabled.
    ComposeDisabled { edge: u32 },
    /// A result read from an output register it was never written to.
    ReadsUnregistered { edge: u32, node: u32 },
    /// COMPOSE timing broken at a node.
    ChainTiming {
        node: u32,
        cycle: u32,
        reason: String,
    },
    /// A chain of combinationally linked ops spans more PEs than a virtual PE may.
    VirtualPeTooLarge { nodes: Vec<u32>, pes: u32, max: u16 },
}

impl fmt::Display for CheckViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CheckViolation::*;
        match self {
            Shape { message } => write!(f, "mapping shape: {message}"),
            Unplaced { node, op } => write!(
                f,
                "node {node} ({op}) has no PE (only const/input may be immediates)"
            ),
            BadPe { node, pe } => {
                write!(f, "node {node} is placed on PE {pe}, which does not exist")
            }
            UnsupportedOp {
                node,
                op,
                pe,
                class,
            } => {
                write!(
                    f,
                    "node {node} ({op}) on PE {pe}: the PE does not support class `{class}`"
                )
            }
            MemoryNotWired { node, op, pe, bank } => match bank {
                Some(b) => write!(
                    f,
                    "node {node} ({op}) on PE {pe}: PE is not wired to bank {b} holding its array"
                ),
                None => write!(
                    f,
                    "node {node} ({op}) on PE {pe}: PE is not wired to any memory bank"
                ),
            },
            ReplicaNotWired {
                node,
                op,
                pe,
                copies,
            } => write!(
                f,
                "node {node} ({op}) on PE {pe}: PE is wired to none of banks {copies:?} holding copies of its array"
            ),
            WrongAccessBank { node, bank, reason } => {
                write!(f, "node {node}: access bank {bank}: {reason}")
            }
            ReplicatedWritable {
                array,
                name,
                reason,
            } => write!(
                f,
                "array {array} (`{name}`) is replicated but {reason}; only read-only arrays may have copies"
            ),
            BankCapacity {
                bank,
                bytes,
                size_bytes,
                arrays,
            } => write!(
                f,
                "bank {bank} holds {bytes} bytes ({}) but has {size_bytes}",
                arrays.join(", ")
            ),
            BankPorts {
                bank,
                slot,
                ports,
                nodes,
            } => write!(
                f,
                "bank {bank} slot {slot}: {} accesses (nodes {nodes:?}) but {ports} port(s)",
                nodes.len()
            ),
            FuConflict {
                pe,
                slot,
                nodes,
                cycles,
            } => write!(
                f,
                "PE {pe} slot {slot}: FU double-booked by node {} (cycle {}) and node {} (cycle {})",
                nodes[0], cycles[0], nodes[1], cycles[1]
            ),
            ResourceConflict {
                resource,
                slot,
                values,
                cycles,
            } => {
                if values[0] == values[1] {
                    write!(
                        f,
                        "{resource} slot {slot}: value of node {} held at cycles {} and {} (longer than II; the next iteration overwrites it)",
                        values[0], cycles[0], cycles[1]
                    )
                } else {
                    write!(
                        f,
                        "{resource} slot {slot}: double-booked by the value of node {} (cycle {}) and of node {} (cycle {})",
                        values[0], cycles[0], values[1], cycles[1]
                    )
                }
            }
            RegOutOfRange {
                edge,
                pe,
                reg,
                rf_size,
            } => {
                write!(
                    f,
                    "edge {edge}: register r{reg} of PE {pe} but the register file has {rf_size}"
                )
            }
            BadLink {
                edge,
                cycle,
                from,
                to,
            } => write!(
                f,
                "edge {edge} cycle {cycle}: no link from PE {from} to PE {to}"
            ),
            TooManyHops {
                edge,
                cycle,
                hops,
                max,
            } => {
                write!(
                    f,
                    "edge {edge} cycle {cycle}: {hops} hops in one cycle, at most {max} allowed"
                )
            }
            MissingRoute { edge, from, to } => write!(
                f,
                "edge {edge} (node {from} -> node {to}) carries a value but has no route"
            ),
            ExtraRoute { edge, reason } => write!(f, "route for edge {edge}: {reason}"),
            DuplicateRoute { edge } => write!(f, "edge {edge} has more than one route"),
            BrokenRoute {
                edge,
                segment,
                reason,
            } => write!(f, "edge {edge} segment {segment}: {reason}"),
            BadRouteStart { edge, reason } => write!(f, "edge {edge} start: {reason}"),
            BadRouteEnd { edge, reason } => write!(f, "edge {edge} end: {reason}"),
            OrderViolated {
                edge,
                from,
                to,
                need,
                have,
            } => write!(
                f,
                "order edge {edge} (node {from} -> node {to}): t_to + d*II - t_from = {have}, needs >= {need}"
            ),
            ComposeDisabled { edge } => write!(
                f,
                "edge {edge}: reads a combinational result but COMPOSE is disabled"
            ),
            ReadsUnregistered { edge, node } => {
                write!(
                    f,
                    "edge {edge}: reads the output register of node {node}, whose result is not registered"
                )
            }
            ChainTiming {
                node,
                cycle,
                reason,
            } => write!(f, "node {node} cycle {cycle}: {reason}"),
            VirtualPeTooLarge { nodes, pes, max } => {
                write!(
                    f,
                    "chain of nodes {nodes:?} spans {pes} PEs; a virtual PE may span at most {max}"
                )
            }
        }
    }
}

/// Storage and link resources, for the occupancy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Res {
    Out(PeId),
    Reg(PeId, u16),
    Link(PeId, PeId),
}

impl Res {
    fn name(self) -> String {
        match self {
            Res::Out(p) => format!("output register of PE {p}"),
            Res::Reg(p, r) => format!("register r{r} of PE {p}"),
            Res::Link(a, b) => format!("link PE {a} -> PE {b}"),
        }
    }
}

/// Occupancy of storage and links: (resource, slot) -> (value, absolute cycle).
struct Occupancy {
    ii: i64,
    table: HashMap<(Res, u32), (u32, i64)>,
    /// Conflicts already reported, to report each pair once.
    reported: std::collections::HashSet<(Res, u32, u32, u32)>,
}

impl Occupancy {
    fn hold(&mut self, res: Res, value: u32, cycle: i64, out: &mut Vec<CheckViolation>) {
        let slot = cycle.rem_euclid(self.ii) as u32;
        match self.table.get(&(res, slot)) {
            None => {
                self.table.insert((res, slot), (value, cycle));
            }
            Some(&(v, c)) if v == value && c == cycle => {}
            Some(&(v, c)) => {
                if self.reported.insert((res, slot, v, value)) {
                    out.push(CheckViolation::ResourceConflict {
                        resource: res.name(),
                        slot,
                        values: [v, value],
                        cycles: [c, cycle],
                    });
                }
            }
        }
    }

    /// Hold `res` for every cycle in `first..=last` (at most `ii + 1` cycles are marked:
    /// more already overlap the value's next iteration).
    fn hold_range(
        &mut self,
        res: Res,
        value: u32,
        first: i64,
        last: i64,
        out: &mut Vec<CheckViolation>,
    ) {
        let last = last.min(first + self.ii);
        for c in first..=last {
            self.hold(res, value, c, out);
        }
    }
}

/// Check a mapping; `Err` lists every violation found.
pub fn check(m: &Mapping) -> Result<(), Vec<CheckViolation>> {
    let mut v = Vec::new();
    check_into(m, &mut v);
    if v.is_empty() { Ok(()) } else { Err(v) }
}

fn check_into(m: &Mapping, out: &mut Vec<CheckViolation>) {
    let k = &m.kernel;
    let arch = &m.arch;
    let shape = |message: String| CheckViolation::Shape { message };
    if let Err(problems) = arch.validate() {
        out.push(shape(format!(
            "the embedded spec is invalid: {}",
            problems.join("; ")
        )));
        return;
    }
    if let Err(e) = k.validate() {
        out.push(shape(format!("the embedded kernel is invalid: {e}")));
        return;
    }
    if m.ii == 0 || m.ii > arch.max_ii {
        out.push(shape(format!(
            "II {} is outside 1..={} (max_ii of `{}`)",
            m.ii, arch.max_ii, arch.name
        )));
        if m.ii == 0 {
            return;
        }
    }
    let n = k.node_count();
    if m.placements.len() != n {
        out.push(shape(format!(
            "{} placements for {n} nodes",
            m.placements.len()
        )));
        return;
    }
    if m.array_banks.len() != k.arrays.len() {
        out.push(shape(format!(
            "{} array banks for {} arrays",
            m.array_banks.len(),
            k.arrays.len()
        )));
        return;
    }
    for (a, &b) in m.array_banks.iter().enumerate() {
        if b as usize >= arch.memory.banks.len() {
            out.push(shape(format!(
                "array {a} (`{}`) is in bank {b}, but the array has {} banks",
                k.arrays[a].name,
                arch.memory.banks.len()
            )));
            return;
        }
    }
    // Replication: shape, read-only arrays only, capacity.
    let nbanks = arch.memory.banks.len();
    if !m.array_replicas.is_empty() && m.array_replicas.len() != k.arrays.len() {
        out.push(shape(format!(
            "{} replica lists for {} arrays",
            m.array_replicas.len(),
            k.arrays.len()
        )));
        return;
    }
    if !m.access_banks.is_empty() && m.access_banks.len() != n {
        out.push(shape(format!(
            "{} access banks for {n} nodes",
            m.access_banks.len()
        )));
        return;
    }
    // Every bank holding array `a`: the primary, then the replicas.
    let mut holders: Vec<Vec<u16>> = m.array_banks.iter().map(|&b| vec![b]).collect();
    for (a, reps) in m.array_replicas.iter().enumerate() {
        for &b in reps {
            if b as usize >= nbanks || holders[a].contains(&b) {
                out.push(shape(format!(
                    "array {a} (`{}`): replica bank {b} is out of range or already holds the array",
                    k.arrays[a].name
                )));
                return;
            }
            holders[a].push(b);
        }
    }
    let replicated: Vec<bool> = holders.iter().map(|h| h.len() > 1).collect();
    if replicated.iter().any(|r| *r) {
        let mut named = vec![false; k.arrays.len()];
        for (id, node) in k.nodes() {
            if !node.op.is_memory() {
                continue;
            }
            match node.array {
                Some(a) if (a as usize) < k.arrays.len() => {
                    named[a as usize] = true;
                    if node.op.is_store() && replicated[a as usize] {
                        out.push(CheckViolation::ReplicatedWritable {
                            array: a as u32,
                            name: k.arrays[a as usize].name.clone(),
                            reason: format!("store node {} writes it", id.index()),
                        });
                    }
                }
                _ => {}
            }
        }
        for (a, decl) in k.arrays.iter().enumerate() {
            if replicated[a] && decl.dir != tessera_ir::ArrayDir::In {
                out.push(CheckViolation::ReplicatedWritable {
                    array: a as u32,
                    name: decl.name.clone(),
                    reason: format!("it is declared {:?}, not In", decl.dir),
                });
            }
        }
        let mut bytes = vec![0u64; nbanks];
        let mut residents: Vec<Vec<String>> = vec![Vec::new(); nbanks];
        let footprint = tessera_ir::footprint::resident_bytes(k);
        for (a, decl) in k.arrays.iter().enumerate() {
            if !named[a] {
                continue;
            }
            for (i, &b) in holders[a].iter().enumerate() {
                bytes[b as usize] += footprint[a];
                residents[b as usize].push(if i == 0 {
                    decl.name.clone()
                } else {
                    format!("copy of {}", decl.name)
                });
            }
        }
        for (b, bank) in arch.memory.banks.iter().enumerate() {
            if bytes[b] > bank.size_bytes as u64 {
                out.push(CheckViolation::BankCapacity {
                    bank: b as u16,
                    bytes: bytes[b],
                    size_bytes: bank.size_bytes,
                    arrays: std::mem::take(&mut residents[b]),
                });
            }
        }
    }

    let ii = m.ii as i64;
    let pe_count = arch.pe_count();
    let latency = |class: OpClass| arch.op_cost(class).map_or(1, |c| c.latency_cycles as i64);
    let delay = |class: OpClass| arch.op_cost(class).map_or(0, |c| c.delay_ps as i64);

    // Rule 2 and 3 and 4: placements, FUs, bank ports.
    let mut pe_of: Vec<Option<PeId>> = vec![None; n];
    let mut fu: HashMap<(PeId, u32), (u32, u32)> = HashMap::new();
    let mut bank_use: std::collections::BTreeMap<(u16, u32), Vec<u32>> = Default::default();
    for (id, node) in k.nodes() {
        let i = id.index();
        let p = m.placements[i];
        let op = node.op.mnemonic();
        let class = node.op.class();
        let Some(pe) = p.pe else {
            if !matches!(class, OpClass::Const | OpClass::Input) {
                out.push(CheckViolation::Unplaced { node: i as u32, op });
            }
            continue;
        };
        if pe as usize >= pe_count {
            out.push(CheckViolation::BadPe {
                node: i as u32,
                pe: pe as u32,
            });
            continue;
        }
        pe_of[i] = Some(pe);
        let (row, col) = (pe / arch.cols, pe % arch.cols);
        let kind_ok = arch
            .layout
            .get(row as usize)
            .and_then(|l| l.chars().nth(col as usize))
            .and_then(|ch| arch.pe_kinds.get(&ch))
            .is_some_and(|kind| kind.classes.contains(&class));
        if !kind_ok {
            out.push(CheckViolation::UnsupportedOp {
                node: i as u32,
                op: op.clone(),
                pe,
                class: class.name().to_string(),
            });
        }
        if class.is_memory() {
            let wired = |b: usize| arch.memory.banks[b].pes.contains(&(row, col));
            let listed = m.access_banks.get(i).copied().flatten();
            match node.array {
                Some(a) if (a as usize) < m.array_banks.len() && replicated[a as usize] => {
                    let copies = &holders[a as usize];
                    let b = match listed {
                        Some(b) if !copies.contains(&b) => {
                            out.push(CheckViolation::WrongAccessBank {
                                node: i as u32,
                                bank: b,
                                reason: format!(
                                    "bank {b} holds no copy of array `{}` (copies in {copies:?})",
                                    k.arrays[a as usize].name
                                ),
                            });
                            None
                        }
                        Some(b) if !wired(b as usize) => {
                            out.push(CheckViolation::MemoryNotWired {
                                node: i as u32,
                                op: op.clone(),
                                pe,
                                bank: Some(b),
                            });
                            None
                        }
                        Some(b) => Some(b),
                        None => {
                            let b = copies.iter().copied().filter(|&b| wired(b as usize)).min();
                            if b.is_none() {
                                out.push(CheckViolation::ReplicaNotWired {
                                    node: i as u32,
                                    op: op.clone(),
                                    pe,
                                    copies: copies.clone(),
                                });
                            }
                            b
                        }
                    };
                    if let Some(b) = b {
                        let slot = (p.cycle as i64 % ii) as u32;
                        bank_use.entry((b, slot)).or_default().push(i as u32);
                    }
                }
                Some(a) if (a as usize) < m.array_banks.len() => {
                    let b = m.array_banks[a as usize];
                    if let Some(x) = listed.filter(|&x| x != b) {
                        out.push(CheckViolation::WrongAccessBank {
                            node: i as u32,
                            bank: x,
                            reason: format!(
                                "array `{}` is not replicated; it lives in bank {b} only",
                                k.arrays[a as usize].name
                            ),
                        });
                    }
                    if !wired(b as usize) {
                        out.push(CheckViolation::MemoryNotWired {
                            node: i as u32,
                            op: op.clone(),
                            pe,
                            bank: Some(b),
                        });
                    }
                    let slot = (p.cycle as i64 % ii) as u32;
                    bank_use.entry((b, slot)).or_default().push(i as u32);
                }
                _ => {
                    if !(0..arch.memory.banks.len()).any(wired) {
                        out.push(CheckViolation::MemoryNotWired {
                            node: i as u32,
                            op: op.clone(),
                            pe,
                            bank: None,
                        });
                    }
                }
            }
        }
        let slot = (p.cycle as i64 % ii) as u32;
        if let Some(&(other, other_cycle)) = fu.get(&(pe, slot)) {
            out.push(CheckViolation::FuConflict {
                pe,
                slot,
                nodes: [other, i as u32],
                cycles: [other_cycle, p.cycle],
            });
        } else {
            fu.insert((pe, slot), (i as u32, p.cycle));
        }
    }
    for ((bank, slot), nodes) in bank_use {
        let ports = arch.memory.banks[bank as usize].ports;
        if nodes.len() > ports as usize {
            out.push(CheckViolation::BankPorts {
                bank,
                slot,
                ports,
                nodes,
            });
        }
    }

    // Rule 7: order edges.
    for e in k.graph.edge_references() {
        let w = e.weight();
        if !matches!(w.slot, Slot::Order) {
            continue;
        }
        let (u, t) = (e.source().index(), e.target().index());
        if pe_of[u].is_none() || pe_of[t].is_none() {
            continue;
        }
        let need = if k.graph[e.source()].op.is_store() {
            1
        } else {
            0
        };
        let have =
            m.placements[t].cycle as i64 + w.distance as i64 * ii - m.placements[u].cycle as i64;
        if have < need {
            out.push(CheckViolation::OrderViolated {
                edge: e.id().index() as u32,
                from: u as u32,
                to: t as u32,
                need,
                have,
            });
        }
    }

    // Rule 6: routes exist exactly for value edges from placed producers.
    let edge_count = k.graph.edge_count();
    let mut route_of: Vec<Option<usize>> = vec![None; edge_count];
    for (ri, r) in m.routes.iter().enumerate() {
        let e = r.edge as usize;
        if e >= edge_count {
            out.push(CheckViolation::ExtraRoute {
                edge: r.edge,
                reason: format!("the kernel has {edge_count} edges"),
            });
            continue;
        }
        let eidx = petgraph::graph::EdgeIndex::new(e);
        let w = k.graph[eidx];
        let (src, _) = k.graph.edge_endpoints(eidx).expect("edge exists");
        if !w.carries_value() {
            out.push(CheckViolation::ExtraRoute {
                edge: r.edge,
                reason: "an order edge carries no value".into(),
            });
            continue;
        }
        if pe_of[src.index()].is_none() {
            out.push(CheckViolation::ExtraRoute {
                edge: r.edge,
                reason: format!("producer node {} is an immediate or unplaced", src.index()),
            });
            continue;
        }
        if route_of[e].is_some() {
            out.push(CheckViolation::DuplicateRoute { edge: r.edge });
            continue;
        }
        route_of[e] = Some(ri);
    }

    let mut occ = Occupancy {
        ii,
        table: HashMap::new(),
        reported: Default::default(),
    };
    // Last cycle each producer's output register is read (for its occupancy).
    let mut out_last_read: Vec<Option<i64>> = vec![None; n];
    // Input arrival times (ps) per consumer, for the COMPOSE start rule.
    let mut arrival: Vec<Vec<(u32, i64)>> = vec![Vec::new(); n];
    let compose = arch.compose.enabled;
    let timing = arch.timing;
    let max_hops = arch.interconnect.max_hops_per_cycle;

    for e in k.graph.edge_references() {
        let w = *e.weight();
        if !w.carries_value() {
            continue;
        }
        let edge = e.id().index() as u32;
        let (u, v) = (e.source().index(), e.target().index());
        let Some(pu) = pe_of[u] else { continue };
        let Some(ri) = route_of[edge as usize] else {
            out.push(CheckViolation::MissingRoute {
                edge,
                from: u as u32,
                to: v as u32,
            });
            continue;
        };
        let route = &m.routes[ri];
        let segs = &route.segments;
        let Some(first) = segs.first() else {
            out.push(CheckViolation::BrokenRoute {
                edge,
                segment: 0,
                reason: "route has no segments".into(),
            });
            continue;
        };
        let class_u = k.graph[e.source()].op.class();
        let t_u = m.placements[u].cycle as i64;
        let lat_u = latency(class_u);
        // First segment leaves the producer.
        match first.from {
            Loc::Out { pe } if pe == pu => {
                if (first.cycle as i64) < t_u + lat_u {
                    out.push(CheckViolation::BadRouteStart {
                        edge,
                        reason: format!(
                            "reads node {u}'s output register in cycle {}, but the result (cycle {t_u} + latency {lat_u}) is there only from cycle {}",
                            first.cycle,
                            t_u + lat_u
                        ),
                    });
                }
                if !m.placements[u].registered {
                    out.push(CheckViolation::ReadsUnregistered {
                        edge,
                        node: u as u32,
                    });
                }
                let last = out_last_read[u].get_or_insert(first.cycle as i64);
                *last = (*last).max(first.cycle as i64);
            }
            Loc::Comb { pe } if pe == pu => {
                if !compose {
                    out.push(CheckViolation::ComposeDisabled { edge });
                } else if first.cycle as i64 != t_u {
                    out.push(CheckViolation::BadRouteStart {
                        edge,
                        reason: format!(
                            "takes node {u}'s combinational result in cycle {}, but node {u} executes in cycle {t_u}",
                            first.cycle
                        ),
                    });
                } else if lat_u != 1 {
                    out.push(CheckViolation::BadRouteStart {
                        edge,
                        reason: format!(
                            "node {u} has latency {lat_u}; only single-cycle results chain"
                        ),
                    });
                }
            }
            other => {
                out.push(CheckViolation::BadRouteStart {
                    edge,
                    reason: format!(
                        "starts at {other:?}, not at the output of node {u} on PE {pu}"
                    ),
                });
            }
        }
        // Segments.
        let mut prev_to: Option<Loc> = None;
        let mut prev_cycle: i64 = -1;
        for (si, s) in segs.iter().enumerate() {
            let is_last = si + 1 == segs.len();
            if let Some(pt) = prev_to {
                if s.from != pt {
                    out.push(CheckViolation::BrokenRoute {
                        edge,
                        segment: si as u32,
                        reason: format!(
                            "starts at {:?}, but the previous segment ended at {pt:?}",
                            s.from
                        ),
                    });
                }
                if (s.cycle as i64) <= prev_cycle {
                    out.push(CheckViolation::BrokenRoute {
                        edge,
                        segment: si as u32,
                        reason: format!(
                            "cycle {} is not after the previous segment's cycle {prev_cycle}",
                            s.cycle
                        ),
                    });
                }
                if let Loc::Reg { pe, reg } = pt {
                    // The register holds the value from the cycle after it was written
                    // through this read.
                    if reg < arch.rf_size && (pe as usize) < pe_count {
                        occ.hold_range(
                            Res::Reg(pe, reg),
                            u as u32,
                            prev_cycle + 1,
                            s.cycle as i64,
                            out,
                        );
                    }
                }
            }
            for loc in [s.from, s.to] {
                if (loc.pe() as usize) >= pe_count {
                    out.push(CheckViolation::BrokenRoute {
                        edge,
                        segment: si as u32,
                        reason: format!("{loc:?} names a PE outside the array"),
                    });
                }
                if let Loc::Reg { pe, reg } = loc
                    && reg >= arch.rf_size
                {
                    out.push(CheckViolation::RegOutOfRange {
                        edge,
                        pe,
                        reg,
                        rf_size: arch.rf_size,
                    });
                }
            }
            match s.to {
                Loc::Reg { .. } if !is_last => {}
                Loc::Operand { .. } if is_last => {}
                Loc::Operand { .. } => {
                    out.push(CheckViolation::BrokenRoute {
                        edge,
                        segment: si as u32,
                        reason: "reaches an operand before the last segment".into(),
                    });
                }
                other if is_last => {
                    out.push(CheckViolation::BadRouteEnd {
                        edge,
                        reason: format!("the last segment ends at {other:?}, not at an operand"),
                    });
                }
                other => {
                    out.push(CheckViolation::BrokenRoute {
                        edge,
                        segment: si as u32,
                        reason: format!(
                            "ends at {other:?}; a route may only write register files or operands"
                        ),
                    });
                }
            }
            // Hops.
            if s.path.len() > max_hops as usize {
                out.push(CheckViolation::TooManyHops {
                    edge,
                    cycle: s.cycle,
                    hops: s.path.len() as u32,
                    max: max_hops,
                });
            }
            let mut at = s.from.pe();
            for &q in &s.path {
                if (q as usize) >= pe_count || (at as usize) >= pe_count || !is_link(arch, at, q) {
                    out.push(CheckViolation::BadLink {
                        edge,
                        cycle: s.cycle,
                        from: at,
                        to: q,
                    });
                } else {
                    occ.hold(Res::Link(at, q), u as u32, s.cycle as i64, out);
                }
                at = q;
            }
            if at != s.to.pe() {
                out.push(CheckViolation::BrokenRoute {
                    edge,
                    segment: si as u32,
                    reason: format!(
                        "the path ends at PE {at} but the segment claims to reach {:?}",
                        s.to
                    ),
                });
            }
            // COMPOSE: a chained value written into a register must fit the period.
            if compose
                && si == 0
                && matches!(s.from, Loc::Comb { .. })
                && matches!(s.to, Loc::Reg { .. })
            {
                let ready = m.placements[u].start_ps as i64
                    + delay(class_u)
                    + s.path.len() as i64 * timing.hop_delay_ps as i64
                    + timing.setup_ps as i64;
                if ready > timing.clock_period_ps as i64 {
                    out.push(CheckViolation::ChainTiming {
                        node: u as u32,
                        cycle: s.cycle,
                        reason: format!(
                            "its combinational result reaches a register at {ready} ps (incl. setup), after the {} ps period",
                            timing.clock_period_ps
                        ),
                    });
                }
            }
            prev_to = Some(s.to);
            prev_cycle = s.cycle as i64;
        }
        // Last segment reaches the consumer in time.
        let last = segs.last().expect("non-empty");
        if let Some(pv) = pe_of[v] {
            let want = m.placements[v].cycle as i64 + w.distance as i64 * ii;
            if last.to != (Loc::Operand { pe: pv }) && matches!(last.to, Loc::Operand { .. }) {
                out.push(CheckViolation::BadRouteEnd {
                    edge,
                    reason: format!(
                        "reaches an operand on PE {}, but node {v} is on PE {pv}",
                        last.to.pe()
                    ),
                });
            } else if last.cycle as i64 != want {
                out.push(CheckViolation::BadRouteEnd {
                    edge,
                    reason: format!(
                        "delivers in cycle {}, but node {v} reads it in cycle {} + {} x II{} = {want}",
                        last.cycle, m.placements[v].cycle, w.distance, m.ii
                    ),
                });
            }
            let hops = last.path.len() as i64 * timing.hop_delay_ps as i64;
            let at_ps = if is_chained(segs) {
                m.placements[u].start_ps as i64 + delay(class_u) + hops
            } else {
                timing.clk_to_q_ps as i64 + hops
            };
            arrival[v].push((edge, at_ps));
        } else {
            out.push(CheckViolation::BadRouteEnd {
                edge,
                reason: format!("consumer node {v} is not placed on a PE"),
            });
        }
    }

    // Output registers: every registered result occupies its PE's output register from
    // t + latency through its last read.
    for (i, pe) in pe_of.iter().enumerate() {
        let Some(pe) = *pe else { continue };
        let p = m.placements[i];
        if !p.registered {
            continue;
        }
        let ready =
            p.cycle as i64 + latency(k.graph[petgraph::graph::NodeIndex::new(i)].op.class());
        let last = out_last_read[i].unwrap_or(ready).max(ready);
        occ.hold_range(Res::Out(pe), i as u32, ready, last, out);
    }

    // Live-outs must be registered somewhere.
    for lo in &k.live_outs {
        let i = lo.node.index();
        if i < n && pe_of[i].is_some() && !m.placements[i].registered {
            out.push(CheckViolation::ChainTiming {
                node: i as u32,
                cycle: m.placements[i].cycle,
                reason: format!("live-out `{}` is not registered", lo.name),
            });
        }
    }

    // Rule 8: COMPOSE timing.
    if compose {
        let period = timing.clock_period_ps as i64;
        for (i, pe) in pe_of.iter().enumerate() {
            if pe.is_none() {
                continue;
            }
            let p = m.placements[i];
            let class = k.graph[petgraph::graph::NodeIndex::new(i)].op.class();
            for &(edge, at) in &arrival[i] {
                if (p.start_ps as i64) < at {
                    out.push(CheckViolation::ChainTiming {
                        node: i as u32,
                        cycle: p.cycle,
                        reason: format!(
                            "starts at {} ps, but the operand of edge {edge} arrives at {at} ps",
                            p.start_ps
                        ),
                    });
                }
            }
            let end = p.start_ps as i64 + delay(class) + timing.setup_ps as i64;
            let allowed = latency(class).max(1) * period;
            if end > allowed {
                out.push(CheckViolation::ChainTiming {
                    node: i as u32,
                    cycle: p.cycle,
                    reason: format!(
                        "start {} ps + delay {} ps + setup {} ps = {end} ps exceeds {allowed} ps",
                        p.start_ps,
                        delay(class),
                        timing.setup_ps
                    ),
                });
            }
        }
        // Chains: the groups `compose_chains` finds (the same pairs as the arrivals above).
        for nodes in compose_chains(m) {
            let mut pes: Vec<PeId> = nodes.iter().filter_map(|&x| pe_of[x as usize]).collect();
            pes.sort();
            pes.dedup();
            if pes.len() > arch.compose.max_virtual_pe as usize {
                out.push(CheckViolation::VirtualPeTooLarge {
                    nodes,
                    pes: pes.len() as u32,
                    max: arch.compose.max_virtual_pe,
                });
            }
        }
    }
}

/// Is a route a chained (COMPOSE combinational) value? One segment that takes the value
/// from the producer's combinational output in its own cycle.
fn is_chained(segs: &[crate::mapping::Segment]) -> bool {
    segs.len() == 1 && matches!(segs[0].from, Loc::Comb { .. })
}

/// The COMPOSE chains (virtual PEs) of a mapping: groups of two or more nodes joined by
/// chained values, each sorted by node id, the groups ordered by their first node.
///
/// A producer/consumer pair is chained when the edge carries a value, both nodes are placed
/// on a PE of the array, and the edge's route (the first one given for it) is a single
/// segment leaving the producer's combinational output (`Loc::Comb`). These are the pairs
/// the checker times as chained arrivals and whose groups it holds to
/// `compose.max_virtual_pe` (rule 8); the GUI draws each group as one merged PE. The
/// function does not look at `arch.compose.enabled` (the checker refuses chained routes
/// when COMPOSE is off) and never fails: a malformed mapping gives fewer pairs.
pub fn compose_chains(m: &Mapping) -> Vec<Vec<u32>> {
    let k = &m.kernel;
    let n = k.node_count();
    let pe_count = m.arch.pe_count();
    let placed = |i: usize| {
        m.placements
            .get(i)
            .and_then(|p| p.pe)
            .is_some_and(|pe| (pe as usize) < pe_count)
    };
    let edge_count = k.graph.edge_count();
    let mut route_of: Vec<Option<usize>> = vec![None; edge_count];
    for (ri, r) in m.routes.iter().enumerate() {
        if let Some(slot) = route_of.get_mut(r.edge as usize) {
            slot.get_or_insert(ri);
        }
    }
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        let mut y = x;
        while p[y] != r {
            let nx = p[y];
            p[y] = r;
            y = nx;
        }
        r
    }
    let mut in_chain = vec![false; n];
    for e in k.graph.edge_references() {
        if !e.weight().carries_value() {
            continue;
        }
        let (u, v) = (e.source().index(), e.target().index());
        if u >= n || v >= n || !placed(u) || !placed(v) {
            continue;
        }
        let Some(ri) = route_of[e.id().index()] else {
            continue;
        };
        if !is_chained(&m.routes[ri].segments) {
            continue;
        }
        in_chain[u] = true;
        in_chain[v] = true;
        let (ru, rv) = (find(&mut parent, u), find(&mut parent, v));
        if ru != rv {
            parent[ru] = rv;
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<u32>> = Default::default();
    for x in (0..n).filter(|&x| in_chain[x]) {
        let r = find(&mut parent, x);
        groups.entry(r).or_default().push(x as u32);
    }
    let mut chains: Vec<Vec<u32>> = groups.into_values().filter(|g| g.len() > 1).collect();
    chains.sort_by_key(|g| g[0]);
    chains
}

/// Is there a link from `a` to `b`? Derived from the topology here (not from the
/// mappers' link tables): mesh neighbours, plus diagonals, plus torus wrap-around.
fn is_link(arch: &tessera_arch::cgra::CgraSpec, a: PeId, b: PeId) -> bool {
    use tessera_arch::cgra::Topology;
    let cols = arch.cols as i32;
    let rows = arch.rows as i32;
    let (ar, ac) = (a as i32 / cols, a as i32 % cols);
    let (br, bc) = (b as i32 / cols, b as i32 % cols);
    if a == b {
        return false;
    }
    let (dr, dc) = ((br - ar).abs(), (bc - ac).abs());
    match arch.interconnect.topology {
        Topology::Mesh => dr + dc == 1,
        Topology::MeshDiagonal => dr <= 1 && dc <= 1,
        Topology::Torus => {
            let wr = dr.min(rows - dr);
            let wc = dc.min(cols - dc);
            wr + wc == 1
        }
    }
}
