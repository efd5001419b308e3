//! Compile a [`Mapping`] into the simulator's per-slot configuration: dense action lists,
//! one per modulo slot, in an order that respects combinational dependencies within a
//! cycle. Structural problems (PEs outside the grid, paths that are not links, missing
//! routes, two ops on one PE in one slot, ...) refuse the mapping with every problem listed;
//! everything else is left to the run, which executes the configuration literally.

use crate::error::SimError;
use petgraph::visit::EdgeRef;
use std::collections::HashMap;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::{Kernel, Op, OpClass, Slot, Width};
use tessera_map::mapping::{Loc, MAPPING_FORMAT_VERSION, Mapping};

/// Operand ports per PE: data operands 0..8 (`Merge` takes up to 8) and the predicate.
pub(crate) const NSLOT: usize = 9;
pub(crate) const PRED_PORT: usize = 8;

/// A value with its validity bit (predication, see `tessera_ir::op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Val {
    pub v: i32,
    pub ok: bool,
}

/// Where an op operand comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SrcKind {
    /// A `Const` immediate in the consumer's configuration.
    Imm(i32),
    /// An `Input` immediate: the live-in register of scalar `i`.
    Scalar(u16),
    /// An operand port of the consumer's PE, driven by a route in this cycle.
    Port(u32),
    /// A register read through a route whose last transfer ends at this operand in exactly
    /// the consumer's cycle and PE: the transfer is folded into the operand read (the port
    /// is a wire; registers change only at the end of a cycle, so the value is the same).
    Storage(u32),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct OperandSrc {
    pub kind: SrcKind,
    /// The consumer reads `init` while the cycle is below this (its first `distance`
    /// iterations): `t + distance * ii`.
    pub init_until: u64,
    pub init: i32,
}

/// How an op computes its result.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Exec {
    Const(i32),
    Input(u16),
    Load { width: Width, signed: bool },
    Store { width: Width },
    Merge,
    Compute(Op),
}

#[derive(Debug, Clone)]
pub(crate) struct OpAction {
    pub node: u32,
    pub pe: u16,
    pub exec: Exec,
    pub class_idx: u8,
    pub imm: Option<i32>,
    /// Arity maximum of the op (an immediate fills a missing last operand of compute ops).
    pub arity_max: u8,
    /// Range in `Program::operands`.
    pub data_start: u32,
    pub n_data: u8,
    pub pred: Option<(OperandSrc, bool)>,
    /// Result latency in cycles (at least 1 for the output register).
    pub latency: u32,
    pub registered: bool,
    /// Declared array of a memory op (fast path for the bank lookup).
    pub array: Option<u16>,
    /// Index into the live-out capture table, or `u32::MAX`.
    pub live_out: u32,
    /// Position of the node in the kernel's topological order (store commit order).
    pub topo_pos: u32,
    /// Cycle of the last iteration's execution.
    pub last_start: u64,
    /// `t / ii`: the op's iteration in cycle `c` is `c / ii - t_div`.
    pub t_div: u64,
}

/// Where a segment reads its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Read {
    /// Index into the storage array (output registers, then register files).
    Storage(u32),
    /// The combinational result of the op running on this PE in this cycle.
    Comb(u16),
}

/// Where a segment writes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Write {
    /// Storage index, written at the end of the cycle.
    Storage(u32),
    /// Operand port index (`pe * NSLOT + slot`), driven within the cycle.
    Port(u32),
}

#[derive(Debug, Clone)]
pub(crate) struct SegAction {
    pub from: Read,
    pub to: Write,
    /// Producer node (for faults and traces).
    pub producer: u32,
    /// PE the value starts from (for faults).
    pub pe: u16,
    /// Raw indices of `from` (storage index or PE) and `to` (storage or port index), for
    /// the specialised storage-to-port and storage-to-storage actions.
    pub from_idx: u32,
    pub to_idx: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum ActKind {
    Op(OpAction),
    /// A transfer from a register (output register or RF) to an operand port.
    SegToPort(SegAction),
    /// A transfer from a register to a register.
    SegToStorage(SegAction),
    /// Any other transfer (reads a combinational result).
    Seg(SegAction),
}

impl ActKind {
    pub(crate) fn seg(&self) -> Option<&SegAction> {
        match self {
            ActKind::Op(_) => None,
            ActKind::SegToPort(s) | ActKind::SegToStorage(s) | ActKind::Seg(s) => Some(s),
        }
    }
}

/// One configured action of a slot, active for iterations whose cycle lies in `[t, end)`.
#[derive(Debug, Clone)]
pub(crate) struct Act {
    pub t: u64,
    pub end: u64,
    pub kind: ActKind,
}

/// Event counts of one configured transfer (folded or not): it runs `runs` times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CountedSeg {
    pub runs: u64,
    pub hops: u8,
    pub rf_read: bool,
    pub rf_write: bool,
    pub out_write: bool,
}

/// One link a configured transfer crosses, for the replay's link values (only traced runs
/// with kept cycle records read these; untraced runs never touch them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkAct {
    /// First cycle (the producer's iteration 0) and end of the transfer's live range.
    pub t: u64,
    pub end: u64,
    pub from: Read,
    pub link_from: u16,
    pub link_to: u16,
    pub producer: u32,
}

/// A register-file entry that holds a live value after a cycle, for the replay's register
/// contents (only traced runs with kept cycle records read these).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegLive {
    /// Cycle (iteration 0) at whose end a transfer writes the register, and the end of the
    /// iterations the range covers (`w + k * ii < write_end`: those whose read runs).
    pub w: u64,
    pub write_end: u64,
    /// The value stays live after cycles `w + k * ii ..= w + k * ii + len - 1` (up to its
    /// last configured read; `1 <= len <= ii`).
    pub len: u64,
    pub storage: u32,
    pub pe: u16,
    pub reg: u16,
    pub producer: u32,
}

/// A live-out's source.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LiveOutSrc {
    /// Captured from the op's last execution (index into the capture table).
    Captured(u32),
    Imm(i32),
    Scalar(u16),
    Init(i32),
}

/// The compiled configuration.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    pub ii: u64,
    pub trip: u32,
    pub pe_count: usize,
    pub storage_len: usize,
    pub operands: Vec<OperandSrc>,
    /// Every configured transfer, for event counts (folded ones included).
    pub counted: Vec<CountedSeg>,
    pub acts: Vec<Act>,
    /// `acts[slot_start[s]..slot_start[s + 1]]` run in slot `s`.
    pub slot_start: Vec<u32>,
    /// Per slot: the links that carry a value in it (one entry per link and slot).
    pub links: Vec<Vec<LinkAct>>,
    /// Per slot: the register-file entries that hold a live value after a cycle of that
    /// slot, ordered by (PE, register).
    pub reg_live: Vec<Vec<RegLive>>,
    pub slot_has_mem: Vec<bool>,
    pub sched_cycles: u64,
    pub max_latency: u32,
    /// Output-register commit ring: a power of two >= `max_latency`, minus one.
    pub ring_mask: u64,
    /// Kernel nodes (sequential-order positions of memory accesses).
    pub node_count: u64,
    pub array_bank: Vec<u16>,
    /// Per array: the bytes its bank holds (`tessera_ir::footprint::resident_spans`).
    pub resident: Vec<Option<(u32, u32)>>,
    /// Per node: whether the footprint analysis bounded its address (then every access it
    /// makes must fall inside the resident span of the array it touches).
    pub node_bounded: Vec<bool>,
    /// Per node: the bank a load of a replicated read-only array reads (the mapping's
    /// `access_banks`, else the lowest-index copy wired to its PE; see `tessera_map::mapping`).
    pub node_bank: Vec<Option<u16>>,
    /// Offset of each array's first byte in the per-byte writer table; one extra entry
    /// holds the table's length.
    pub array_writer_base: Vec<u32>,
    /// `pe * banks + bank`: is the PE wired to the bank.
    pub pe_bank_ok: Vec<bool>,
    pub bank_ports: Vec<u16>,
    pub live_outs: Vec<LiveOutSrc>,
    /// Node owning each live-out capture slot.
    pub capture_nodes: Vec<u32>,
    /// Placement per node: (pe, cycle), `None` for immediates.
    pub node_place: Vec<Option<(u16, u32)>>,
    /// Op mnemonic and label per node.
    pub node_desc: Vec<String>,
    pub node_mnemonic: Vec<String>,
}

pub(crate) fn describe(kernel: &Kernel, node: usize) -> String {
    let n = &kernel.graph[petgraph::graph::NodeIndex::new(node)];
    if n.label.is_empty() {
        n.op.mnemonic()
    } else {
        format!("{} `{}`", n.op.mnemonic(), n.label)
    }
}

fn class_index(c: OpClass) -> u8 {
    OpClass::ALL.iter().position(|x| *x == c).unwrap_or(0) as u8
}

fn loc_str(l: &Loc) -> String {
    match *l {
        Loc::Out { pe } => format!("Out(PE {pe})"),
        Loc::Comb { pe } => format!("Comb(PE {pe})"),
        Loc::Reg { pe, reg } => format!("Reg(PE {pe}, r{reg})"),
        Loc::Operand { pe } => format!("Operand(PE {pe})"),
    }
}

/// Compile a mapping; every structural problem is collected into one `Refused` error.
pub(crate) fn compile(m: &Mapping) -> Result<Program, SimError> {
    let k = &m.kernel;
    let arch: &CgraSpec = &m.arch;
    let refuse = |problems: Vec<String>| SimError::Refused {
        kernel: k.name.clone(),
        arch: arch.name.clone(),
        problems,
    };
    let mut p: Vec<String> = Vec::new();
    if m.format_version != MAPPING_FORMAT_VERSION {
        p.push(format!(
            "mapping format version {} (this simulator reads {MAPPING_FORMAT_VERSION})",
            m.format_version
        ));
    }
    if let Err(e) = k.validate() {
        p.push(e.to_string());
        return Err(refuse(p));
    }
    use tessera_arch::spec_io::Spec;
    if let Err(e) = arch.validate() {
        p.extend(e.into_iter().map(|s| format!("architecture: {s}")));
        return Err(refuse(p));
    }
    if m.ii == 0 {
        p.push("II is 0".into());
        return Err(refuse(p));
    }
    if m.ii > arch.max_ii {
        p.push(format!(
            "II {} exceeds the configuration depth max_ii = {} of `{}`",
            m.ii, arch.max_ii, arch.name
        ));
    }
    let n = k.node_count();
    if m.placements.len() != n {
        p.push(format!(
            "{} placements for {} kernel nodes",
            m.placements.len(),
            n
        ));
        return Err(refuse(p));
    }
    let banks = arch.memory.banks.len();
    if m.array_banks.len() != k.arrays.len() {
        p.push(format!(
            "array_banks has {} entries for {} kernel arrays",
            m.array_banks.len(),
            k.arrays.len()
        ));
        return Err(refuse(p));
    }
    for (a, &b) in m.array_banks.iter().enumerate() {
        if b as usize >= banks {
            p.push(format!(
                "array `{}` is assigned bank {b}, but `{}` has {banks} banks",
                k.arrays[a].name, arch.name
            ));
        }
    }
    let pe_count = arch.pe_count();
    let rf = arch.rf_size as usize;
    let ii = m.ii as u64;
    let trip = k.trip_count;
    let mut pe_bank_ok = vec![false; pe_count * banks];
    for (b, bank) in arch.memory.banks.iter().enumerate() {
        for &(r, c) in &bank.pes {
            pe_bank_ok[arch.pe_id(r, c) as usize * banks + b] = true;
        }
    }
    let mut adj = vec![false; pe_count * pe_count];
    for a in 0..pe_count {
        for b in arch.neighbours(a as u16) {
            adj[a * pe_count + b as usize] = true;
        }
    }
    let order = k.topo_order().map_err(|e| refuse(vec![e.to_string()]))?;
    let mut topo_pos = vec![0u32; n];
    for (i, id) in order.iter().enumerate() {
        topo_pos[id.index()] = i as u32;
    }

    // Nodes.
    let node_desc: Vec<String> = (0..n).map(|i| describe(k, i)).collect();
    let mut node_place = vec![None; n];
    for (i, pl) in m.placements.iter().enumerate() {
        let node = &k.graph[petgraph::graph::NodeIndex::new(i)];
        let class = node.op.class();
        match pl.pe {
            None => {
                if !matches!(node.op, Op::Const | Op::Input(_)) {
                    p.push(format!(
                        "node {i} ({}) has no PE; only const and input nodes may be immediates",
                        node_desc[i]
                    ));
                }
                let has_pred = k
                    .graph
                    .edges_directed(
                        petgraph::graph::NodeIndex::new(i),
                        petgraph::Direction::Incoming,
                    )
                    .any(|e| e.weight().carries_value());
                if has_pred {
                    p.push(format!(
                        "immediate node {i} ({}) has an incoming predicate; an immediate cannot be squashed, place it on a PE",
                        node_desc[i]
                    ));
                }
            }
            Some(pe) => {
                if pe as usize >= pe_count {
                    p.push(format!(
                        "node {i} ({}) is placed on PE {pe}, outside the {}x{} array",
                        node_desc[i], arch.rows, arch.cols
                    ));
                    continue;
                }
                node_place[i] = Some((pe, pl.cycle));
                if !arch.supports(pe, class) {
                    p.push(format!(
                        "node {i} ({}) of class `{class}` is on PE {pe}, whose kind does not support it",
                        node_desc[i]
                    ));
                }
                if arch.op_cost(class).is_none() {
                    p.push(format!("op class `{class}` has no cost in `{}`", arch.name));
                }
                if node.op.is_memory() {
                    if !(0..banks).any(|b| pe_bank_ok[pe as usize * banks + b]) {
                        p.push(format!(
                            "memory node {i} ({}) is on PE {pe}, which no bank is wired to",
                            node_desc[i]
                        ));
                    }
                    if let Some(a) = node.array
                        && let Some(b) = m.access_bank(i, a as usize, pe)
                        && (b as usize) < banks
                        && !pe_bank_ok[pe as usize * banks + b as usize]
                    {
                        p.push(format!(
                            "memory node {i} ({}) on PE {pe} accesses array `{}` in bank {b}, which is not wired to PE {pe}",
                            node_desc[i], k.arrays[a as usize].name
                        ));
                    }
                }
            }
        }
    }

    // Routes by edge.
    let edge_count = k.graph.edge_count();
    let mut route_of = vec![usize::MAX; edge_count];
    for (ri, r) in m.routes.iter().enumerate() {
        let e = r.edge as usize;
        if e >= edge_count {
            p.push(format!(
                "route {ri} names edge {e}, but the kernel has {edge_count} edges"
            ));
            continue;
        }
        if route_of[e] != usize::MAX {
            p.push(format!(
                "edge {e} has two routes ({} and {ri})",
                route_of[e]
            ));
            continue;
        }
        route_of[e] = ri;
    }
    if !p.is_empty() {
        return Err(refuse(p));
    }

    let port_of = |slot: Slot| -> Option<usize> {
        match slot {
            Slot::Data(j) if (j as usize) < PRED_PORT => Some(j as usize),
            Slot::Data(_) => None,
            Slot::Pred { .. } => Some(PRED_PORT),
            Slot::Order => None,
        }
    };
    let storage_of = |l: &Loc| -> Option<u32> {
        match *l {
            Loc::Out { pe } if (pe as usize) < pe_count => Some(pe as u32),
            Loc::Reg { pe, reg } if (pe as usize) < pe_count && (reg as usize) < rf => {
                Some((pe_count + pe as usize * rf + reg as usize) as u32)
            }
            _ => None,
        }
    };

    // Segments.
    struct SegBuild {
        cycle: u32,
        t: u64,
        end: u64,
        count: u64,
        from: Read,
        from_loc: Loc,
        to: Write,
        to_loc: Loc,
        path: Vec<u16>,
        producer: u32,
        /// (consumer node, port) when this last transfer can be folded into the operand.
        fuse: Option<(u32, u32)>,
    }
    let mut segs: Vec<SegBuild> = Vec::new();
    for e in k.graph.edge_references() {
        let o = *e.weight();
        if !o.carries_value() {
            continue;
        }
        let (u, v) = (e.source().index(), e.target().index());
        let ei = e.id().index();
        let Some(port) = port_of(o.slot) else {
            p.push(format!(
                "edge {ei} feeds operand slot {:?}, beyond the 8 data ports",
                o.slot
            ));
            continue;
        };
        if node_place[u].is_none() {
            if route_of[ei] != usize::MAX {
                p.push(format!(
                    "edge {ei} from immediate node {u} ({}) has a route; immediates need none",
                    node_desc[u]
                ));
            }
            continue;
        }
        let ri = route_of[ei];
        if ri == usize::MAX {
            p.push(format!(
                "edge {ei} (node {u} {} -> node {v} {}, slot {:?}) has no route",
                node_desc[u], node_desc[v], o.slot
            ));
            continue;
        }
        let route = &m.routes[ri];
        if route.segments.is_empty() {
            p.push(format!("route of edge {ei} has no segments"));
            continue;
        }
        let count = trip.saturating_sub(o.distance) as u64;
        let last = route.segments.len() - 1;
        for (si, s) in route.segments.iter().enumerate() {
            let what = format!(
                "edge {ei} (node {u} -> node {v}) segment {si} at cycle {}",
                s.cycle
            );
            let from = match s.from {
                Loc::Comb { pe } if (pe as usize) < pe_count => {
                    if !arch.compose.enabled {
                        p.push(format!(
                            "{what} reads {} but `{}` has composition (COMPOSE chaining) disabled",
                            loc_str(&s.from),
                            arch.name
                        ));
                    }
                    Some(Read::Comb(pe))
                }
                Loc::Operand { .. } => {
                    p.push(format!("{what} starts at an operand port ({}); a route starts at a storage or Comb location", loc_str(&s.from)));
                    None
                }
                ref l => storage_of(l).map(Read::Storage),
            };
            let Some(from) = from else {
                if !matches!(s.from, Loc::Operand { .. }) {
                    p.push(format!(
                        "{what} reads {}, outside the array (PEs 0..{pe_count}, registers 0..{rf})",
                        loc_str(&s.from)
                    ));
                }
                continue;
            };
            let to = match s.to {
                Loc::Operand { pe } if si == last && (pe as usize) < pe_count => {
                    Some(Write::Port((pe as usize * NSLOT + port) as u32))
                }
                Loc::Operand { .. } if si != last => {
                    p.push(format!(
                        "{what} ends at an operand port before the route's last segment"
                    ));
                    None
                }
                Loc::Comb { .. } => {
                    p.push(format!(
                        "{what} writes {}, which is not storage",
                        loc_str(&s.to)
                    ));
                    None
                }
                ref l if si == last => {
                    p.push(format!(
                        "{what} is the last segment but ends at {}, not at the consumer's operand",
                        loc_str(l)
                    ));
                    None
                }
                ref l => {
                    let w = storage_of(l).map(Write::Storage);
                    if w.is_none() {
                        p.push(format!(
                            "{what} writes {}, outside the array (PEs 0..{pe_count}, registers 0..{rf})",
                            loc_str(l)
                        ));
                    }
                    w
                }
            };
            let Some(to) = to else { continue };
            // Links.
            if s.path.len() > arch.interconnect.max_hops_per_cycle as usize {
                p.push(format!(
                    "{what} takes {} hops; `{}` allows {} per cycle",
                    s.path.len(),
                    arch.name,
                    arch.interconnect.max_hops_per_cycle
                ));
            }
            let mut prev = s.from.pe();
            let mut ok = true;
            for &h in &s.path {
                if (h as usize) >= pe_count || !adj[prev as usize * pe_count + h as usize] {
                    p.push(format!(
                        "{what}: PE {prev} -> PE {h} is not a link of the {:?} interconnect",
                        arch.interconnect.topology
                    ));
                    ok = false;
                    break;
                }
                prev = h;
            }
            if ok && prev != s.to.pe() {
                p.push(format!(
                    "{what}: path ends at PE {prev} but the destination {} is on PE {}",
                    loc_str(&s.to),
                    s.to.pe()
                ));
            }
            let t = s.cycle as u64;
            segs.push(SegBuild {
                cycle: s.cycle,
                t,
                end: t + count * ii,
                count,
                from,
                from_loc: s.from,
                to,
                to_loc: s.to,
                path: s.path.clone(),
                producer: u as u32,
                fuse: match (si == last, from, to, node_place[v]) {
                    (true, Read::Storage(_), Write::Port(_), Some((vpe, vt)))
                        if vpe == s.to.pe()
                            && s.cycle as u64 == vt as u64 + o.distance as u64 * ii =>
                    {
                        Some((v as u32, port as u32))
                    }
                    _ => None,
                },
            });
        }
    }
    if !p.is_empty() {
        return Err(refuse(p));
    }

    // Drop identical transfers into storage (shared prefixes of fan-out routes), keeping the
    // most active copy.
    segs.sort_by_key(|s| std::cmp::Reverse(s.count));
    let mut seen: HashMap<(u32, Read, Vec<u16>, Write), ()> = HashMap::new();
    segs.retain(|s| {
        if matches!(s.to, Write::Port(_)) {
            return true;
        }
        seen.insert((s.cycle, s.from, s.path.clone(), s.to), ())
            .is_none()
    });
    // Register-file live ranges (replay): a value written into a register at the end of
    // cycle `w` stays live until its last read by a transfer of the same producer, at most
    // one II later (the next iteration's write lands at the end of `w + ii`). One range per
    // read, for the iterations that read runs in (a loop-carried fan-out reads one
    // iteration fewer than a same-iteration one sharing its write).
    let mut reg_live: Vec<Vec<RegLive>> = vec![Vec::new(); ii as usize];
    {
        let mut writes: HashMap<(u32, u32), Vec<u64>> = HashMap::new();
        for s in &segs {
            if let (Write::Storage(i), Loc::Reg { .. }) = (s.to, s.to_loc) {
                writes.entry((i, s.producer)).or_default().push(s.t);
            }
        }
        // (storage, producer, write cycle, iterations) -> last read.
        let mut last_read: HashMap<(u32, u32, u64, u64), u64> = HashMap::new();
        for s in &segs {
            let (Read::Storage(i), Loc::Reg { .. }) = (s.from, s.from_loc) else {
                continue;
            };
            let w = writes
                .get(&(i, s.producer))
                .into_iter()
                .flatten()
                .filter(|&&w| w < s.t && w + ii >= s.t)
                .max();
            if let Some(&w) = w {
                let r = last_read.entry((i, s.producer, w, s.count)).or_insert(s.t);
                *r = (*r).max(s.t);
            }
        }
        for ((i, producer, w, count), r) in last_read {
            let pe = ((i as usize - pe_count) / rf.max(1)) as u16;
            let reg = ((i as usize - pe_count) % rf.max(1)) as u16;
            let e = RegLive {
                w,
                write_end: w + count * ii,
                len: r - w,
                storage: i,
                pe,
                reg,
                producer,
            };
            for j in 0..e.len {
                reg_live[((w + j) % ii) as usize].push(e);
            }
        }
        for l in &mut reg_live {
            l.sort_by_key(|e| (e.pe, e.reg, e.w, e.len, e.write_end, e.producer));
            l.dedup_by_key(|e| (e.pe, e.reg, e.w, e.len, e.write_end));
        }
    }
    // Hops, RF reads: one event per (cycle, link) and per (cycle, register read).
    // A link carries one value per slot: (slot, from, to) -> (producer, cycle).
    let mut link_owner: HashMap<(u64, u16, u16), (u32, u32)> = HashMap::new();
    let mut links: Vec<Vec<LinkAct>> = vec![Vec::new(); ii as usize];
    let mut read_owner: HashMap<(u32, Read), ()> = HashMap::new();
    let mut seg_acts: Vec<(u32, Act)> = Vec::with_capacity(segs.len());
    let mut counted: Vec<CountedSeg> = Vec::with_capacity(segs.len());
    let mut fused: HashMap<(u32, u32), u32> = HashMap::new();
    for s in &segs {
        let mut hops_new = 0u8;
        let mut prev = s.from_loc.pe();
        for &h in &s.path {
            let key = (s.cycle as u64 % ii, prev, h);
            match link_owner.get(&key) {
                None => {
                    link_owner.insert(key, (s.producer, s.cycle));
                    hops_new += 1;
                    links[key.0 as usize].push(LinkAct {
                        t: s.t,
                        end: s.end,
                        from: s.from,
                        link_from: prev,
                        link_to: h,
                        producer: s.producer,
                    });
                }
                Some(&(other, oc)) if (other, oc) != (s.producer, s.cycle) => {
                    p.push(format!(
                        "link PE {prev} -> PE {h} carries two values in slot {}: node {other} ({}) in cycle {oc} and node {} ({}) in cycle {}",
                        key.0, node_desc[other as usize], s.producer, node_desc[s.producer as usize], s.cycle
                    ));
                }
                Some(_) => {}
            }
            prev = h;
        }
        let rf_read = matches!(s.from_loc, Loc::Reg { .. })
            && read_owner.insert((s.cycle, s.from), ()).is_none();
        counted.push(CountedSeg {
            runs: s.count,
            hops: hops_new,
            rf_read,
            rf_write: matches!(s.to_loc, Loc::Reg { .. }),
            out_write: matches!(s.to_loc, Loc::Out { .. }),
        });
        if let (Some(key), Read::Storage(from)) = (s.fuse, s.from) {
            fused.insert(key, from);
            continue;
        }
        seg_acts.push((
            s.cycle,
            Act {
                t: s.t,
                end: s.end,
                kind: {
                    let seg = SegAction {
                        from: s.from,
                        to: s.to,
                        producer: s.producer,
                        pe: s.from_loc.pe(),
                        from_idx: match s.from {
                            Read::Storage(i) => i,
                            Read::Comb(pe) => pe as u32,
                        },
                        to_idx: match s.to {
                            Write::Storage(i) | Write::Port(i) => i,
                        },
                    };
                    match (s.from, s.to) {
                        (Read::Storage(_), Write::Port(_)) => ActKind::SegToPort(seg),
                        (Read::Storage(_), Write::Storage(_)) => ActKind::SegToStorage(seg),
                        _ => ActKind::Seg(seg),
                    }
                },
            },
        ));
    }

    // Ops.
    let mut operands: Vec<OperandSrc> = Vec::new();
    let mut op_acts: Vec<(u32, Act)> = Vec::new();
    let mut capture_of = vec![u32::MAX; n];
    let mut capture_nodes = Vec::new();
    for lo in &k.live_outs {
        let i = lo.node.index();
        if node_place[i].is_some() && capture_of[i] == u32::MAX {
            capture_of[i] = capture_nodes.len() as u32;
            capture_nodes.push(i as u32);
        }
    }
    let imm_src = |u: usize| -> SrcKind {
        let node = &k.graph[petgraph::graph::NodeIndex::new(u)];
        match node.op {
            Op::Input(s) => SrcKind::Scalar(s),
            _ => SrcKind::Imm(node.imm.unwrap_or(0)),
        }
    };
    let mut max_latency = 1u32;
    let mut sched_cycles = 0u64;
    for (i, id) in k.graph.node_indices().enumerate() {
        let Some((pe, cycle)) = node_place[i] else {
            continue;
        };
        let node = &k.graph[id];
        let class = node.op.class();
        let latency = arch
            .op_cost(class)
            .map(|c| c.latency_cycles as u32)
            .unwrap_or(1)
            .max(1);
        max_latency = max_latency.max(latency);
        let t = cycle as u64;
        let data_start = operands.len() as u32;
        let mut pred = None;
        for (src, o) in k.operands(id) {
            let port = match port_of(o.slot) {
                Some(pt) => pt,
                None => continue,
            };
            let kind = if node_place[src.index()].is_none() {
                imm_src(src.index())
            } else if let Some(&from) = fused.get(&(i as u32, port as u32)) {
                SrcKind::Storage(from)
            } else {
                SrcKind::Port((pe as usize * NSLOT + port) as u32)
            };
            let s = OperandSrc {
                kind,
                init_until: t + o.distance as u64 * ii,
                init: o.init,
            };
            match o.slot {
                Slot::Pred { negated } => pred = Some((s, negated)),
                _ => operands.push(s),
            }
        }
        let n_data = (operands.len() as u32 - data_start) as u8;
        let exec = match node.op {
            Op::Const => Exec::Const(node.imm.unwrap_or(0)),
            Op::Input(s) => Exec::Input(s),
            Op::Load { width, signed } => Exec::Load { width, signed },
            Op::Store { width } => Exec::Store { width },
            Op::Merge => Exec::Merge,
            op => Exec::Compute(op),
        };
        if trip > 0 {
            sched_cycles = sched_cycles.max(t + (trip as u64 - 1) * ii + latency as u64);
        }
        op_acts.push((
            cycle,
            Act {
                t,
                end: t + trip as u64 * ii,
                kind: ActKind::Op(OpAction {
                    node: i as u32,
                    pe,
                    exec,
                    class_idx: class_index(class),
                    imm: node.imm,
                    arity_max: node.op.arity().max as u8,
                    data_start,
                    n_data,
                    pred,
                    latency,
                    registered: m.placements[i].registered,
                    array: node.array,
                    live_out: capture_of[i],
                    topo_pos: topo_pos[i],
                    last_start: t + (trip.max(1) as u64 - 1) * ii,
                    t_div: t / ii,
                }),
            },
        ));
    }
    for (_, a) in &seg_acts {
        if a.end > a.t {
            sched_cycles = sched_cycles.max(a.end - ii + 1);
        }
    }

    // Order each slot: ops after the ports they read are driven; Comb reads after the op
    // that produces them.
    let iiu = m.ii as usize;
    let mut per_slot: Vec<Vec<Act>> = vec![Vec::new(); iiu];
    for (cycle, a) in seg_acts.into_iter() {
        per_slot[(cycle as u64 % ii) as usize].push(a);
    }
    let mut slot_ops: Vec<Vec<Act>> = vec![Vec::new(); iiu];
    for (cycle, a) in op_acts.into_iter() {
        slot_ops[(cycle as u64 % ii) as usize].push(a);
    }
    let mut acts = Vec::new();
    let mut slot_start = vec![0u32];
    let mut slot_has_mem = vec![false; iiu];
    for s in 0..iiu {
        let mut ops = std::mem::take(&mut slot_ops[s]);
        ops.sort_by_key(|a| match &a.kind {
            ActKind::Op(o) => (std::cmp::Reverse(a.t), o.topo_pos),
            _ => (std::cmp::Reverse(0), 0),
        });
        let mut items = std::mem::take(&mut per_slot[s]);
        let n_segs = items.len();
        items.extend(ops);
        let mut op_at: HashMap<u16, usize> = HashMap::new();
        for (idx, a) in items.iter().enumerate() {
            if let ActKind::Op(o) = &a.kind {
                if o.exec_is_memory() {
                    slot_has_mem[s] = true;
                }
                if let Some(&other) = op_at.get(&o.pe) {
                    let ActKind::Op(o2) = &items[other].kind else {
                        unreachable!()
                    };
                    p.push(format!(
                        "PE {} runs node {} ({}) and node {} ({}) in the same slot {s} of II {}",
                        o.pe,
                        o2.node,
                        node_desc[o2.node as usize],
                        o.node,
                        node_desc[o.node as usize],
                        m.ii
                    ));
                } else {
                    op_at.insert(o.pe, idx);
                }
            }
        }
        let len = items.len();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); len];
        let mut indeg = vec![0usize; len];
        for (idx, a) in items.iter().enumerate().take(n_segs) {
            let Some(sg) = a.kind.seg() else { continue };
            if let Write::Port(port) = sg.to
                && let Some(&op) = op_at.get(&((port as usize / NSLOT) as u16))
            {
                deps[idx].push(op);
                indeg[op] += 1;
            }
            if let Read::Comb(pe) = sg.from {
                match op_at.get(&pe) {
                    Some(&op) => {
                        deps[op].push(idx);
                        indeg[idx] += 1;
                    }
                    None => p.push(format!(
                        "a route of node {} ({}) reads Comb(PE {pe}) in slot {s}, but no op runs on PE {pe} in that slot",
                        sg.producer, node_desc[sg.producer as usize]
                    )),
                }
            }
        }
        let mut done = vec![false; len];
        let mut placed = 0;
        while placed < len {
            let Some(next) = (0..len).find(|&i| !done[i] && indeg[i] == 0) else {
                let stuck: Vec<String> = (0..len)
                    .filter(|&i| !done[i])
                    .filter_map(|i| match &items[i].kind {
                        ActKind::Op(o) => Some(format!("node {} on PE {}", o.node, o.pe)),
                        _ => None,
                    })
                    .collect();
                p.push(format!(
                    "slot {s} has a combinational loop through Comb reads: {}",
                    stuck.join(", ")
                ));
                break;
            };
            done[next] = true;
            placed += 1;
            for &d in &deps[next] {
                indeg[d] -= 1;
            }
            acts.push(items[next].clone());
        }
        slot_start.push(acts.len() as u32);
    }
    if !p.is_empty() {
        return Err(refuse(p));
    }

    let live_outs = k
        .live_outs
        .iter()
        .map(|lo| {
            let i = lo.node.index();
            if trip == 0 {
                LiveOutSrc::Init(lo.init)
            } else if node_place[i].is_some() {
                LiveOutSrc::Captured(capture_of[i])
            } else {
                match imm_src(i) {
                    SrcKind::Scalar(s) => LiveOutSrc::Scalar(s),
                    SrcKind::Imm(v) => LiveOutSrc::Imm(v),
                    SrcKind::Port(_) | SrcKind::Storage(_) => unreachable!(),
                }
            }
        })
        .collect();

    // The static footprint: which bytes each array's bank holds, and which accesses the
    // analysis bounded (those must land inside).
    let ranges = tessera_ir::footprint::address_ranges(k);
    for l in &mut links {
        l.sort_by_key(|a| (a.link_from, a.link_to));
    }
    Ok(Program {
        ii,
        trip,
        pe_count,
        storage_len: pe_count + pe_count * rf,
        operands,
        counted,
        acts,
        slot_start,
        links,
        reg_live,
        slot_has_mem,
        sched_cycles,
        max_latency,
        ring_mask: max_latency.next_power_of_two() as u64 - 1,
        node_count: n.max(1) as u64,
        array_bank: m.array_banks.clone(),
        resident: tessera_ir::footprint::resident_spans_with(k, ranges.as_deref()),
        node_bounded: (0..k.node_count())
            .map(|i| {
                ranges
                    .as_ref()
                    .is_some_and(|r| tessera_ir::footprint::access_bytes(k, r, i).is_some())
            })
            .collect(),
        node_bank: (0..k.node_count())
            .map(|i| {
                let node = &k.graph[petgraph::graph::NodeIndex::new(i)];
                let a = node.array? as usize;
                let pe = m.placements.get(i)?.pe?;
                (node.op.is_memory() && m.array_copies(a).len() > 1)
                    .then(|| m.access_bank(i, a, pe))
                    .flatten()
            })
            .collect(),
        array_writer_base: std::iter::once(0)
            .chain(k.arrays.iter().scan(0u32, |acc, a| {
                *acc += a.size_bytes();
                Some(*acc)
            }))
            .collect(),
        pe_bank_ok,
        bank_ports: arch.memory.banks.iter().map(|b| b.ports).collect(),
        live_outs,
        capture_nodes,
        node_place,
        node_desc,
        node_mnemonic: k.graph.node_weights().map(|nd| nd.op.mnemonic()).collect(),
    })
}

impl OpAction {
    pub(crate) fn exec_is_memory(&self) -> bool {
        matches!(self.exec, Exec::Load { .. } | Exec::Store { .. })
    }
}
