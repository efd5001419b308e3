//! The cycle loop. Each cycle runs the actions of its modulo slot whose iteration is live
//! (prologue and epilogue fall out of the per-action live range), then commits the cycle's
//! register writes, output-register writes (after each op's latency) and stores, and
//! charges bank-conflict stalls. Values are only ever read from the modelled storage:
//! output registers, register files, operand ports driven by routes in this cycle, and the
//! combinational results of ops run earlier in the same cycle.
//!
//! Bank-conflict policy: a bank serves `ports` accesses per cycle. When more accesses hit it
//! in one cycle, the whole array stalls (no PE advances, no value moves) for
//! `ceil(accesses / ports) - 1` extra cycles while the bank serves them in turn; the
//! longest-waiting bank sets the stall. Stalls change time and energy, never values: loads
//! of the cycle read memory before its stores write it, stores commit in iteration order.

use crate::error::{RunFault, SimError};
use crate::program::{
    ActKind, Exec, LiveOutSrc, OpAction, OperandSrc, Program, Read, SegAction, SrcKind, Val, Write,
};
use crate::stats::SimStats;
use crate::vcd::VcdTrace;
use tessera_ir::interp::{Inputs, Memory, NamedArray};
use tessera_ir::{Kernel, OpClass, Outputs, Width};

/// Who produced a value: the op execution that wrote a memory byte or a live-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Producer {
    /// Array cycle (stalls included).
    pub cycle: u64,
    pub node: u32,
    pub iteration: u64,
}

/// Everything a run leaves behind.
#[derive(Debug, Clone)]
pub struct RawRun {
    pub outputs: Outputs,
    pub stats: SimStats,
    /// Last store into each array byte (arrays packed in declaration order).
    pub(crate) byte_writer: Vec<Option<Producer>>,
    pub(crate) live_out_writer: Vec<Option<Producer>>,
}

#[derive(Debug, Clone, Copy)]
struct PendingStore {
    iteration: u64,
    topo_pos: u32,
    addr: u32,
    width: Width,
    value: i32,
    node: u32,
    /// Index of the first byte in `byte_writer`.
    writer_at: u32,
}

const NEVER: u64 = u64::MAX;

/// Read the `interp::Memory` image (little-endian, same layout and extension rules as
/// `Memory::read`) with fixed-size copies; the caller checked that the access lies in an array.
#[inline(always)]
fn read_le(bytes: &[u8], addr: u32, width: Width, signed: bool) -> i32 {
    let a = addr as usize;
    let raw = match width {
        Width::Byte => bytes[a] as u32,
        Width::Half => u16::from_le_bytes([bytes[a], bytes[a + 1]]) as u32,
        Width::Word => u32::from_le_bytes([bytes[a], bytes[a + 1], bytes[a + 2], bytes[a + 3]]),
    };
    width.extend(raw, signed)
}

/// Write the low `width` bytes of `value` (as `Memory::write`).
#[inline(always)]
fn write_le(bytes: &mut [u8], addr: u32, width: Width, value: i32) {
    let a = addr as usize;
    let le = value.to_le_bytes();
    match width {
        Width::Byte => bytes[a] = le[0],
        Width::Half => bytes[a..a + 2].copy_from_slice(&le[..2]),
        Width::Word => bytes[a..a + 4].copy_from_slice(&le),
    }
}

struct State<'a> {
    storage: Vec<Val>,
    ports: Vec<Val>,
    port_stamp: Vec<u64>,
    comb: Vec<Val>,
    comb_stamp: Vec<u64>,
    out_ring: Vec<Vec<(u32, Val)>>,
    reg_pending: Vec<(u32, Val)>,
    store_pending: Vec<PendingStore>,
    mem: Memory,
    bank_count: Vec<u32>,
    byte_writer: Vec<Option<Producer>>,
    /// Per array byte: sequential position (iteration x nodes + topological position) + 1 of
    /// the last store (0: never written).
    w_seq1: Vec<u64>,
    /// Per array byte: latest sequential position + 1 of a load that read it, and its node.
    r_seq1: Vec<u64>,
    r_node: Vec<u32>,
    order_violations: u64,
    first_order_violation: Option<String>,
    captures: Vec<(Val, Producer)>,
    inputs: &'a Inputs,
    wall: u64,
    // counters
    ops_issued: u64,
    ops_squashed: u64,
    class_count: [u64; OpClass::ALL.len()],
    busy: Vec<u64>,
    rf_reads: u64,
    rf_writes: u64,
    out_writes: u64,
    /// Op executions left unregistered (COMPOSE deferred registration).
    deferred_regs: u64,
    hops: u64,
    loads: u64,
    stores: u64,
    bank_accesses: Vec<u64>,
    bank_conflicts: u64,
    stall_cycles: u64,
}

impl State<'_> {
    /// A memory access happened in a different order than sequential iterations would do
    /// it (the kernel lacks a loop-carried memory dependence, or the schedule ignores one).
    #[cold]
    fn order_violation(&mut self, _kernel: &Kernel, _p: &Program, message: String) {
        self.order_violations += 1;
        if self.first_order_violation.is_none() {
            self.first_order_violation = Some(message);
        }
    }
}

impl Program {
    #[cold]
    fn port_conflict(
        &self,
        kernel: &Kernel,
        st: &State,
        s: &SegAction,
        i: usize,
        v: Val,
        c: u64,
    ) -> SimError {
        self.fault(
            kernel,
            st.wall,
            s.pe,
            s.producer,
            c,
            format!(
                "operand port {} of PE {} is driven with two values ({} and {}) in one cycle",
                i % crate::program::NSLOT,
                i / crate::program::NSLOT,
                st.ports[i].v,
                v.v
            ),
        )
    }

    #[cold]
    fn fault(
        &self,
        kernel: &Kernel,
        wall: u64,
        pe: u16,
        node: u32,
        c: u64,
        message: String,
    ) -> SimError {
        let iteration = match self.node_place[node as usize] {
            Some((_, t)) if c >= t as u64 => (c - t as u64) / self.ii,
            _ => 0,
        };
        SimError::Fault {
            kernel: kernel.name.clone(),
            fault: RunFault {
                cycle: wall,
                pe,
                node,
                node_desc: self.node_desc[node as usize].clone(),
                iteration,
                message,
            },
        }
    }

    #[inline(always)]
    fn read_operand(&self, st: &State, src: &OperandSrc, c: u64) -> Result<Val, u32> {
        if c < src.init_until {
            return Ok(Val {
                v: src.init,
                ok: true,
            });
        }
        match src.kind {
            SrcKind::Imm(v) => Ok(Val { v, ok: true }),
            SrcKind::Scalar(s) => Ok(Val {
                v: st.inputs.scalars[s as usize],
                ok: true,
            }),
            SrcKind::Storage(idx) => Ok(st.storage[idx as usize]),
            SrcKind::Port(idx) => {
                if st.port_stamp[idx as usize] == c {
                    Ok(st.ports[idx as usize])
                } else {
                    Err(idx)
                }
            }
        }
    }

    /// Array holding an access, or `None` when the address lies in no array.
    #[inline(always)]
    fn array_of(
        &self,
        kernel: &Kernel,
        array: Option<u16>,
        addr: u32,
        width: Width,
    ) -> Option<usize> {
        let bytes = width.bytes();
        if let Some(a) = array {
            let d = &kernel.arrays[a as usize];
            if addr >= d.base && addr as u64 + bytes as u64 <= d.end() as u64 {
                return Some(a as usize);
            }
        }
        kernel.array_at(addr, bytes)
    }

    #[inline(always)]
    fn exec_op<const TRACE: bool>(
        &self,
        kernel: &Kernel,
        st: &mut State,
        o: &OpAction,
        c_div: u64,
        c: u64,
        trace: &mut Option<&mut VcdTrace>,
    ) -> Result<(), SimError> {
        let pe = o.pe as usize;
        st.ops_issued += 1;
        st.busy[pe] += 1;
        let undriven = |idx: u32, what: &str| {
            format!(
                "{what} (operand port {} of PE {}) is not driven by any route in this cycle",
                idx as usize % crate::program::NSLOT,
                idx as usize / crate::program::NSLOT
            )
        };
        let enabled = match &o.pred {
            None => true,
            Some((src, negated)) => match self.read_operand(st, src, c) {
                Ok(v) => v.ok && ((v.v != 0) != *negated),
                Err(idx) => {
                    return Err(self.fault(
                        kernel,
                        st.wall,
                        o.pe,
                        o.node,
                        c,
                        undriven(idx, "the predicate"),
                    ));
                }
            },
        };
        let res = if !enabled {
            st.ops_squashed += 1;
            Val { v: 0, ok: false }
        } else {
            let mut args = [0i32; 9];
            let mut oks = [true; 9];
            let n = o.n_data as usize;
            let srcs = &self.operands[o.data_start as usize..o.data_start as usize + n];
            for (j, src) in srcs.iter().enumerate() {
                match self.read_operand(st, src, c) {
                    Ok(v) => {
                        args[j] = v.v;
                        oks[j] = v.ok;
                    }
                    Err(idx) => {
                        return Err(self.fault(
                            kernel,
                            st.wall,
                            o.pe,
                            o.node,
                            c,
                            undriven(idx, &format!("data operand {j}")),
                        ));
                    }
                }
            }
            st.class_count[o.class_idx as usize] += 1;
            let v = match o.exec {
                Exec::Const(v) => v,
                Exec::Input(s) => st.inputs.scalars[s as usize],
                Exec::Compute(op) => {
                    let mut n = n;
                    if let Some(imm) = o.imm
                        && n < o.arity_max as usize
                    {
                        args[n] = imm;
                        n += 1;
                    }
                    match op.eval(&args[..n]) {
                        Some(v) => v,
                        None => {
                            return Err(self.fault(
                                kernel,
                                st.wall,
                                o.pe,
                                o.node,
                                c,
                                "op has no compute semantics".into(),
                            ));
                        }
                    }
                }
                Exec::Merge => {
                    let pick = oks[..n]
                        .iter()
                        .position(|ok| *ok)
                        .unwrap_or(n.saturating_sub(1));
                    args[pick]
                }
                Exec::Load { width, signed } => {
                    let addr =
                        (if n > 0 { args[0] } else { 0 }).wrapping_add(o.imm.unwrap_or(0)) as u32;
                    let array = self.mem_access(kernel, st, o, addr, width, c)?;
                    st.loads += 1;
                    let iteration = c_div - o.t_div;
                    // Position of this access in sequential (interpreter) order.
                    let seq1 = iteration * self.node_count + o.topo_pos as u64 + 1;
                    let at = self.array_writer_base[array] + (addr - kernel.arrays[array].base);
                    for b in at as usize..(at + width.bytes()) as usize {
                        if st.w_seq1[b] > seq1
                            && let Some(w) = st.byte_writer[b]
                        {
                            st.order_violation(
                                kernel,
                                self,
                                format!(
                                    "load node {} ({}) of iteration {iteration} on PE {} read byte address {addr} in cycle {} after store node {} ({}) of iteration {}, later in sequential order, wrote it in cycle {}",
                                    o.node, self.node_desc[o.node as usize], o.pe, st.wall, w.node, self.node_desc[w.node as usize], w.iteration, w.cycle
                                ),
                            );
                        }
                        if st.r_seq1[b] < seq1 {
                            st.r_seq1[b] = seq1;
                            st.r_node[b] = o.node;
                        }
                    }
                    read_le(&st.mem.bytes, addr, width, signed)
                }
                Exec::Store { width } => {
                    let (addr, value) = if n >= 2 {
                        (args[0].wrapping_add(o.imm.unwrap_or(0)) as u32, args[1])
                    } else {
                        (o.imm.unwrap_or(0) as u32, args[0])
                    };
                    let array = self.mem_access(kernel, st, o, addr, width, c)?;
                    st.stores += 1;
                    st.store_pending.push(PendingStore {
                        iteration: c_div - o.t_div,
                        topo_pos: o.topo_pos,
                        addr,
                        width,
                        value,
                        node: o.node,
                        writer_at: self.array_writer_base[array]
                            + (addr - kernel.arrays[array].base),
                    });
                    value
                }
            };
            Val { v, ok: true }
        };
        st.comb[pe] = res;
        st.comb_stamp[pe] = c;
        if o.registered {
            let slot = ((c + o.latency as u64 - 1) & self.ring_mask) as usize;
            st.out_ring[slot].push((o.pe as u32, res));
            st.out_writes += 1;
        } else {
            st.deferred_regs += 1;
        }
        if o.live_out != u32::MAX && c == o.last_start {
            st.captures[o.live_out as usize] = (
                res,
                Producer {
                    cycle: st.wall,
                    node: o.node,
                    iteration: c_div - o.t_div,
                },
            );
        }
        if TRACE && let Some(tr) = trace.as_deref_mut() {
            tr.op(pe, o.node, c_div - o.t_div, !enabled, res);
        }
        Ok(())
    }

    #[inline(always)]
    fn mem_access(
        &self,
        kernel: &Kernel,
        st: &mut State,
        o: &OpAction,
        addr: u32,
        width: Width,
        c: u64,
    ) -> Result<usize, SimError> {
        let Some(array) = self.array_of(kernel, o.array, addr, width) else {
            let hint = o
                .array
                .and_then(|a| kernel.arrays.get(a as usize))
                .map(|a| {
                    let idx = (addr as i64 - a.base as i64) / a.width.bytes() as i64;
                    format!(" (array `{}` index {idx}, valid 0..{})", a.name, a.len)
                })
                .unwrap_or_default();
            return Err(self.fault(
                kernel,
                st.wall,
                o.pe,
                o.node,
                c,
                format!("access at byte address {addr}{hint} lies outside every array"),
            ));
        };
        // The bank holds only the array's static footprint: an access the analysis bounded
        // must fall inside it (this checks the analysis on every simulated access).
        if self.node_bounded[o.node as usize] {
            let inside = self.resident[array].is_some_and(|(lo, hi)| {
                addr >= lo && addr as u64 + width.bytes() as u64 <= hi as u64 + 1
            });
            if !inside {
                return Err(self.fault(
                    kernel,
                    st.wall,
                    o.pe,
                    o.node,
                    c,
                    format!(
                        "access at byte address {addr} lies outside the resident bytes {:?} of array `{}` (static footprint analysis)",
                        self.resident[array], kernel.arrays[array].name
                    ),
                ));
            }
        }
        // A load of a replicated read-only array reads the copy its PE was mapped to.
        let bank = match (o.array, self.node_bank[o.node as usize]) {
            (Some(d), Some(b)) if d as usize == array => b,
            _ => self.array_bank[array],
        };
        let banks = self.bank_ports.len();
        if !self.pe_bank_ok[o.pe as usize * banks + bank as usize] {
            return Err(self.fault(
                kernel,
                st.wall,
                o.pe,
                o.node,
                c,
                format!("access at byte address {addr} goes to bank {bank}, which is not wired to PE {}", o.pe),
            ));
        }
        st.bank_count[bank as usize] += 1;
        st.bank_accesses[bank as usize] += 1;
        Ok(array)
    }

    /// Run the program on `inputs`. With `trace`, every cycle is recorded for a VCD.
    pub(crate) fn run<const TRACE: bool>(
        &self,
        kernel: &Kernel,
        inputs: &Inputs,
        mut trace: Option<&mut VcdTrace>,
    ) -> Result<RawRun, SimError> {
        let mem = Memory::new(kernel, inputs)?;
        let pes = self.pe_count;
        let banks = self.bank_ports.len();
        let writer_len = self.array_writer_base.last().copied().unwrap_or(0) as usize;
        let max_slot_acts = self
            .slot_start
            .windows(2)
            .map(|w| (w[1] - w[0]) as usize)
            .max()
            .unwrap_or(0);
        let mut st = State {
            storage: vec![Val::default(); self.storage_len],
            ports: vec![Val::default(); pes * crate::program::NSLOT],
            port_stamp: vec![NEVER; pes * crate::program::NSLOT],
            comb: vec![Val::default(); pes],
            comb_stamp: vec![NEVER; pes],
            out_ring: (0..=self.ring_mask)
                .map(|_| Vec::with_capacity(pes.max(1) * self.max_latency as usize))
                .collect(),
            reg_pending: Vec::with_capacity(max_slot_acts),
            store_pending: Vec::with_capacity(max_slot_acts),
            mem,
            bank_count: vec![0; banks],
            byte_writer: vec![None; writer_len],
            w_seq1: vec![0; writer_len],
            r_seq1: vec![0; writer_len],
            r_node: vec![0; writer_len],
            order_violations: 0,
            first_order_violation: None,
            captures: vec![
                (
                    Val::default(),
                    Producer {
                        cycle: 0,
                        node: 0,
                        iteration: 0
                    }
                );
                self.capture_nodes.len()
            ],
            inputs,
            wall: 0,
            ops_issued: 0,
            ops_squashed: 0,
            class_count: [0; OpClass::ALL.len()],
            busy: vec![0; pes],
            rf_reads: 0,
            rf_writes: 0,
            out_writes: 0,
            deferred_regs: 0,
            hops: 0,
            loads: 0,
            stores: 0,
            bank_accesses: vec![0; banks],
            bank_conflicts: 0,
            stall_cycles: 0,
        };
        let ii = self.ii as usize;
        let mut slot = 0usize;
        // c / ii, kept incrementally: iteration of an action = c_div - t / ii.
        let mut c_div = 0u64;
        for c in 0..self.sched_cycles {
            if TRACE && let Some(tr) = trace.as_deref_mut() {
                tr.begin_cycle(st.wall, &st.storage);
            }
            let lo = self.slot_start[slot] as usize;
            let hi = self.slot_start[slot + 1] as usize;
            for a in &self.acts[lo..hi] {
                if c < a.t || c >= a.end {
                    continue;
                }
                match &a.kind {
                    ActKind::Op(o) => {
                        self.exec_op::<TRACE>(kernel, &mut st, o, c_div, c, &mut trace)?
                    }
                    ActKind::SegToPort(s) => {
                        let v = st.storage[s.from_idx as usize];
                        let i = s.to_idx as usize;
                        if st.port_stamp[i] == c && st.ports[i] != v {
                            return Err(self.port_conflict(kernel, &st, s, i, v, c));
                        }
                        st.ports[i] = v;
                        st.port_stamp[i] = c;
                    }
                    ActKind::SegToStorage(s) => {
                        let v = st.storage[s.from_idx as usize];
                        st.reg_pending.push((s.to_idx, v));
                        if TRACE && let Some(tr) = trace.as_deref_mut() {
                            tr.reg_write(s.to_idx, s.producer, (c - a.t) / self.ii);
                        }
                    }
                    ActKind::Seg(s) => {
                        let v = match s.from {
                            Read::Storage(i) => st.storage[i as usize],
                            Read::Comb(pe) => {
                                if st.comb_stamp[pe as usize] != c {
                                    return Err(self.fault(
                                        kernel,
                                        st.wall,
                                        s.pe,
                                        s.producer,
                                        c,
                                        format!("a route reads the combinational output of PE {pe}, but no op ran there in this cycle"),
                                    ));
                                }
                                st.comb[pe as usize]
                            }
                        };
                        // Hop and RF events of transfers are counted after the loop from how
                        // often each configured transfer ran (data cannot change that).
                        match s.to {
                            Write::Storage(i) => {
                                st.reg_pending.push((i, v));
                                if TRACE && let Some(tr) = trace.as_deref_mut() {
                                    tr.reg_write(i, s.producer, (c - a.t) / self.ii);
                                }
                            }
                            Write::Port(i) => {
                                let i = i as usize;
                                if st.port_stamp[i] == c && st.ports[i] != v {
                                    return Err(self.port_conflict(kernel, &st, s, i, v, c));
                                }
                                st.ports[i] = v;
                                st.port_stamp[i] = c;
                            }
                        }
                    }
                }
            }
            // Link values for the replay: registers still hold this cycle's values (commits
            // come next) and combinational results are those of this cycle.
            if TRACE
                && let Some(tr) = trace.as_deref_mut()
                && tr.keeps_cycle()
            {
                for l in &self.links[slot] {
                    if c < l.t || c >= l.end {
                        continue;
                    }
                    let v = match l.from {
                        Read::Storage(i) => st.storage[i as usize],
                        Read::Comb(pe) if st.comb_stamp[pe as usize] == c => st.comb[pe as usize],
                        Read::Comb(_) => continue,
                    };
                    tr.link(crate::vcd::LinkValue {
                        from: l.link_from,
                        to: l.link_to,
                        node: l.producer,
                        iteration: (c - l.t) / self.ii,
                        value: v.v,
                        valid: v.ok,
                    });
                }
            }
            // End of cycle: commit.
            let ring = (c & self.ring_mask) as usize;
            for &(pe, v) in &st.out_ring[ring] {
                st.storage[pe as usize] = v;
            }
            st.out_ring[ring].clear();
            for &(i, v) in &st.reg_pending {
                st.storage[i as usize] = v;
            }
            st.reg_pending.clear();
            // Register contents for the replay, after this cycle's commits: the registers
            // the schedule keeps live, each with what its latest write put there.
            if TRACE && let Some(tr) = trace.as_deref_mut() {
                tr.commit_reg_writes();
            }
            if TRACE
                && let Some(tr) = trace.as_deref_mut()
                && tr.keeps_cycle()
            {
                for e in &self.reg_live[slot] {
                    if c < e.w {
                        continue;
                    }
                    let k = (c - e.w) / self.ii;
                    let write = e.w + k * self.ii;
                    if c - write >= e.len || write >= e.write_end {
                        continue;
                    }
                    let v = st.storage[e.storage as usize];
                    tr.reg(e.pe, e.reg, e.storage, v);
                }
            }
            if !st.store_pending.is_empty() {
                st.store_pending
                    .sort_unstable_by_key(|s| (s.iteration, s.topo_pos));
                for si in 0..st.store_pending.len() {
                    let s = st.store_pending[si];
                    write_le(&mut st.mem.bytes, s.addr, s.width, s.value);
                    let w = Producer {
                        cycle: st.wall,
                        node: s.node,
                        iteration: s.iteration,
                    };
                    let seq1 = s.iteration * self.node_count + s.topo_pos as u64 + 1;
                    for b in s.writer_at as usize..(s.writer_at + s.width.bytes()) as usize {
                        let (read_seq1, reader) = (st.r_seq1[b], st.r_node[b]);
                        if read_seq1 > seq1 {
                            let msg = format!(
                                "store node {} ({}) of iteration {} wrote byte address {} in cycle {} after load node {reader} ({}) of iteration {}, later in sequential order, read it",
                                s.node,
                                self.node_desc[s.node as usize],
                                s.iteration,
                                s.addr,
                                st.wall,
                                self.node_desc[reader as usize],
                                (read_seq1 - 1) / self.node_count
                            );
                            st.order_violation(kernel, self, msg);
                        }
                        if st.w_seq1[b] > seq1
                            && let Some(prev) = st.byte_writer[b]
                        {
                            let msg = format!(
                                "store node {} ({}) of iteration {} overwrote byte address {} in cycle {} after store node {} of iteration {}, later in sequential order, wrote it",
                                s.node,
                                self.node_desc[s.node as usize],
                                s.iteration,
                                s.addr,
                                st.wall,
                                prev.node,
                                prev.iteration
                            );
                            st.order_violation(kernel, self, msg);
                        }
                        st.byte_writer[b] = Some(w);
                        st.w_seq1[b] = seq1;
                    }
                }
                st.store_pending.clear();
            }
            let mut stall = 0u64;
            if self.slot_has_mem[slot] {
                for b in 0..banks {
                    let n = st.bank_count[b] as u64;
                    let ports = self.bank_ports[b] as u64;
                    if n > ports {
                        st.bank_conflicts += n - ports;
                        stall = stall.max(n.div_ceil(ports) - 1);
                    }
                    st.bank_count[b] = 0;
                }
            }
            if TRACE && let Some(tr) = trace.as_deref_mut() {
                tr.end_cycle(stall);
            }
            st.stall_cycles += stall;
            st.wall += 1 + stall;
            slot += 1;
            if slot == ii {
                slot = 0;
                c_div += 1;
            }
        }
        if TRACE && let Some(tr) = trace {
            tr.finish(st.wall, &st.storage);
        }

        // Transfer events: every live execution of a configured transfer, i.e. its live
        // range (whole, since the loop ran to the end) divided by II.
        for s in &self.counted {
            st.hops += s.runs * s.hops as u64;
            st.rf_reads += s.runs * s.rf_read as u64;
            st.rf_writes += s.runs * s.rf_write as u64;
            st.out_writes += s.runs * s.out_write as u64;
        }

        // Outputs.
        let mut live_outs = Vec::with_capacity(kernel.live_outs.len());
        let mut live_out_writer = Vec::with_capacity(kernel.live_outs.len());
        for (lo, src) in kernel.live_outs.iter().zip(&self.live_outs) {
            let (v, w) = match *src {
                LiveOutSrc::Captured(i) => {
                    let (v, p) = st.captures[i as usize];
                    (v.v, Some(p))
                }
                LiveOutSrc::Imm(v) => (v, None),
                LiveOutSrc::Scalar(s) => (inputs.scalars[s as usize], None),
                LiveOutSrc::Init(v) => (v, None),
            };
            live_outs.push((lo.name.clone(), v));
            live_out_writer.push(w);
        }
        let arrays: Vec<NamedArray> = st.mem.output_arrays(kernel);
        let mut ops_by_class = std::collections::BTreeMap::new();
        for (i, class) in OpClass::ALL.iter().enumerate() {
            if st.class_count[i] > 0 {
                ops_by_class.insert(class.name().to_string(), st.class_count[i]);
            }
        }
        let stats = SimStats {
            schedule_cycles: self.sched_cycles,
            stall_cycles: st.stall_cycles,
            total_cycles: self.sched_cycles + st.stall_cycles,
            iterations: self.trip,
            ops_issued: st.ops_issued,
            ops_squashed: st.ops_squashed,
            ops_by_class,
            pe_busy_cycles: st.busy,
            rf_reads: st.rf_reads,
            rf_writes: st.rf_writes,
            out_reg_writes: st.out_writes,
            deferred_registrations: st.deferred_regs,
            link_hops: st.hops,
            loads: st.loads,
            stores: st.stores,
            mem_accesses: st.loads + st.stores,
            bank_accesses: st.bank_accesses,
            bank_conflicts: st.bank_conflicts,
            memory_order_violations: st.order_violations,
            first_memory_order_violation: st.first_order_violation,
        };
        Ok(RawRun {
            outputs: Outputs { arrays, live_outs },
            stats,
            byte_writer: st.byte_writer,
            live_out_writer,
        })
    }
}
