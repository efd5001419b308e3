//! Input ranges that keep every address in range: which arrays (and scalar live-ins) hold
//! indices or pointers, and the values they may be drawn from so that every address the
//! kernel derives from them stays inside the array its memory op names.
//!
//! Third-party DFGs (Morpher's, for instance) read indices and pointers from memory: a load
//! whose value, through arithmetic, becomes the address of another access. Random contents
//! then send that address far outside its array, and the kernel cannot run. This module
//! infers, from the graph alone, ranges for those inputs:
//!
//! 1. **Forward**: an interval analysis over the loop's iterations in which every array has
//!    a content interval (its `init_range`), every store the bytes it may write and the
//!    values it may leave there, and a load reads the contents of the arrays it may touch
//!    joined with what the stores whose bytes overlap its own may have written. An array of
//!    one element (a loop-start flag, a pointer cell) is followed iteration by iteration (a
//!    store that surely writes it replaces its value). Comparisons that the intervals decide
//!    give 0 or 1, and a value known to be one aligned address (a pointer read from a region
//!    that holds one) keeps its alignment. It gives each memory op the interval of its
//!    address.
//! 2. **Check**: an op that names an array must access inside it (`[base, end - width]`),
//!    as the simulator's bank model requires; an op that names none must stay inside the
//!    memory image.
//! 3. **Backward**: for an address that may leave its range, the requirement is pushed back
//!    through the ops that compute it (add/sub/mul/shift by known intervals, masks, merges,
//!    min/max, sign and zero extension, loop-carried edges) to the inputs it depends on: a
//!    load narrows the `init_range` of the arrays it reads (and requires the values stored
//!    into them to satisfy the same bound), a scalar live-in its `random_range`.
//!
//! When narrowing alone finds nothing, a last attempt holds every pointer region (an array
//! read only at constant addresses whose value, plus a constant, is the address of other
//! accesses) to one aligned address near the top of what those accesses may reach, and
//! narrows from there ([`infer`]); when that fails too, integer arrays are held at 0 (an
//! accumulator that becomes part of an index stays bounded only when what it adds is 0).
//!
//! Steps 1-3 repeat until every address is proved in range (then the ranges are sound for
//! every seed, not only the ones tried) or a requirement reaches something no input
//! controls: a constant, a loop-carried initial value, an op that cannot be inverted.
//! [`Impossible`] then names that node and the memory op whose address it decides.
//!
//! The analysis only narrows ranges, never widens them, and leaves a kernel whose addresses
//! are already proved in range unchanged.

use crate::footprint::{Interval, transfer};
use crate::kernel::{Kernel, Slot};
use crate::op::{Op, Width};
use petgraph::visit::EdgeRef;
use std::fmt;

/// Narrowing passes per attempt before the analysis gives up (each pass narrows at least
/// one range or tightens one requirement). Every Morpher corpus DFG that is proved needs at
/// most 3 (2026-12-07); the DFGs that are not proved spend all of them, in every attempt.
const MAX_PASSES: usize = 8;
/// Forward rounds (iterations) before values that still change are widened to the full
/// range.
const MAX_ROUNDS: u32 = 256;

/// Why no input ranges keep every address in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impossible {
    /// The memory op whose address may leave its range.
    pub access: usize,
    /// The node where the requirement got stuck (a constant, an initial value, an op the
    /// analysis cannot invert).
    pub node: usize,
    pub reason: String,
}

impl fmt::Display for Impossible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no input range keeps the address of node {} in range: node {} makes it impossible ({})",
            self.access, self.node, self.reason
        )
    }
}

/// Ranges found: per array its `init_range`, per scalar its `random_range` (the kernel's
/// own where nothing had to change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRanges {
    pub arrays: Vec<Option<(i32, i32)>>,
    pub scalars: Vec<Option<(i32, i32)>>,
    /// Arrays whose range was narrowed (the arrays that hold indices or pointers).
    pub narrowed_arrays: Vec<usize>,
    /// Scalars whose range was narrowed.
    pub narrowed_scalars: Vec<usize>,
}

/// Per node: op, immediate, array, data operands `(src, distance, init)` in slot order,
/// predicated.
struct Graph {
    order: Vec<usize>,
    data: Vec<Vec<(usize, u32, i32)>>,
    /// The predicate operand `(src, distance, init, negated)`, if any.
    pred: Vec<Option<(usize, u32, i32, bool)>>,
    /// May yield "squashed" (a predicated op whose predicate fails, or a merge of such
    /// values only): an ordinary op reading it computes with 0, a merge skips it.
    squashable: Vec<bool>,
    /// Per node, `log2` of a power of two dividing its values ([`alignment`]).
    align: Vec<u32>,
    /// Stores, for the backward step through memory.
    stores: Vec<usize>,
}

fn graph(k: &Kernel) -> Option<Graph> {
    let order = k.topo_order().ok()?;
    let n = k.node_count();
    let mut data: Vec<Vec<(u8, usize, u32, i32)>> = vec![Vec::new(); n];
    let mut predicated = vec![false; n];
    let mut pred = vec![None; n];
    for e in k.graph.edge_references() {
        let o = *e.weight();
        match o.slot {
            Slot::Data(s) => {
                data[e.target().index()].push((s, e.source().index(), o.distance, o.init))
            }
            Slot::Pred { negated } => {
                predicated[e.target().index()] = true;
                pred[e.target().index()] = Some((e.source().index(), o.distance, o.init, negated));
            }
            Slot::Order => {}
        }
    }
    let order: Vec<usize> = order.iter().map(|v| v.index()).collect();
    let data: Vec<Vec<(usize, u32, i32)>> = data
        .into_iter()
        .map(|mut d| {
            d.sort_by_key(|&(s, src, _, _)| (s, src));
            d.into_iter().map(|(_, s, d, i)| (s, d, i)).collect()
        })
        .collect();
    let mut squashable = predicated;
    // Merges of squashable values only (two sweeps cover merges fed around a loop).
    for _ in 0..2 {
        for &i in &order {
            if k.graph[petgraph::graph::NodeIndex::new(i)].op == Op::Merge
                && !data[i].is_empty()
                && data[i].iter().all(|&(src, _, _)| squashable[src])
            {
                squashable[i] = true;
            }
        }
    }
    let stores = k
        .nodes()
        .filter(|(_, n)| n.op.is_store())
        .map(|(id, _)| id.index())
        .collect();
    let mut g = Graph {
        order,
        data,
        pred,
        squashable,
        align: Vec::new(),
        stores,
    };
    g.align = alignment(k, &g, None);
    Some(g)
}

fn iv(lo: i64, hi: i64) -> Interval {
    Interval { lo, hi }
}

fn within(a: Interval, b: Interval) -> bool {
    a.lo >= b.lo && a.hi <= b.hi
}

fn meet(a: Interval, b: Interval) -> Option<Interval> {
    let r = iv(a.lo.max(b.lo), a.hi.min(b.hi));
    (r.lo <= r.hi).then_some(r)
}

fn element_range(w: Width, signed: bool) -> Interval {
    match (w, signed) {
        (Width::Byte, true) => iv(-128, 127),
        (Width::Byte, false) => iv(0, 255),
        (Width::Half, true) => iv(i16::MIN as i64, i16::MAX as i64),
        (Width::Half, false) => iv(0, u16::MAX as i64),
        (Width::Word, _) => Interval::FULL,
    }
}

/// The current ranges of the inputs.
#[derive(Clone)]
struct Ranges {
    arrays: Vec<Interval>,
    scalars: Vec<Interval>,
}

/// The forward analysis: every node's values over all iterations, every array's contents,
/// every memory op's address.
struct Forward {
    val: Vec<Interval>,
    /// Loads that may read off the element grid of a multi-byte array.
    unaligned: Vec<bool>,
    addr: Vec<Option<Interval>>,
}

/// What an access must stay within: `[base, end - width]` of its named array, or the image.
fn target(k: &Kernel, node: usize, strict: bool, pointer: bool) -> Option<Interval> {
    let n = &k.graph[petgraph::graph::NodeIndex::new(node)];
    let w = match n.op {
        Op::Load { width, .. } | Op::Store { width } => width.bytes() as i64,
        _ => return None,
    };
    let (lo, hi) = match n.array.and_then(|a| k.arrays.get(a as usize)) {
        Some(a) if strict => (a.base as i64, a.end() as i64),
        // A pointer access (no array named) is held to the free region: the largest array
        // that no memory op names (an importer's stray space, e.g. Morpher's `tail`), so
        // that what it writes cannot reach the arrays that hold indices.
        None if strict && pointer => match based_array(k, node).or_else(|| free_region(k)) {
            Some(a) => (k.arrays[a].base as i64, k.arrays[a].end() as i64),
            None => (0, k.memory_size() as i64),
        },
        _ => (0, k.memory_size() as i64),
    };
    (hi - w >= lo).then(|| iv(lo, hi - w))
}

/// Per node: a memory op whose address depends on a value read from memory or a live-in
/// (a pointer), through any data edges.
fn pointer_accesses(k: &Kernel, g: &Graph) -> Vec<bool> {
    let n = k.node_count();
    (0..n)
        .map(|i| {
            let op = k.graph[petgraph::graph::NodeIndex::new(i)].op;
            if !has_address(op, g.data[i].len()) {
                return false;
            }
            let mut seen = vec![false; n];
            let mut stack = vec![g.data[i][0].0];
            while let Some(v) = stack.pop() {
                if std::mem::replace(&mut seen[v], true) {
                    continue;
                }
                match k.graph[petgraph::graph::NodeIndex::new(v)].op {
                    Op::Load { .. } | Op::Input(_) => return true,
                    _ => stack.extend(g.data[v].iter().map(|&(src, _, _)| src)),
                }
            }
            false
        })
        .collect()
}

/// The array that holds the constant part of an address computed as `base + index`
/// (constants added along the address's chain of adds), if one does (a single-byte flag
/// does not count).
fn based_array(k: &Kernel, node: usize) -> Option<usize> {
    let id = |i: usize| petgraph::graph::NodeIndex::new(i);
    let data = |i: usize| -> Vec<(usize, u32)> {
        let mut d: Vec<(u8, usize, u32)> = k
            .graph
            .edges_directed(id(i), petgraph::Direction::Incoming)
            .filter_map(|e| match e.weight().slot {
                Slot::Data(s) => Some((s, e.source().index(), e.weight().distance)),
                _ => None,
            })
            .collect();
        d.sort();
        d.into_iter().map(|(_, s, dist)| (s, dist)).collect()
    };
    let mut konst = k.graph[id(node)].imm.unwrap_or(0) as i64;
    let mut v = data(node).first()?.0;
    for _ in 0..64 {
        let n = &k.graph[id(v)];
        let d = data(v);
        match (n.op, d.as_slice()) {
            (Op::Add, [(x, 0)]) => {
                konst += n.imm.unwrap_or(0) as i64;
                v = *x;
            }
            (Op::Add, [(x, 0), (y, 0)]) => {
                let cx = k.graph[id(*x)].op == Op::Const;
                let cy = k.graph[id(*y)].op == Op::Const;
                if cy {
                    konst += k.graph[id(*y)].imm.unwrap_or(0) as i64;
                    v = *x;
                } else if cx {
                    konst += k.graph[id(*x)].imm.unwrap_or(0) as i64;
                    v = *y;
                } else {
                    break;
                }
            }
            (Op::Move, [(x, 0)]) => v = *x,
            _ => break,
        }
    }
    (0..k.arrays.len()).find(|&a| {
        let d = &k.arrays[a];
        d.size_bytes() > 1 && konst >= d.base as i64 && konst < d.end() as i64
    })
}

/// The largest array that no memory op names (the highest one on a tie), if any.
fn free_region(k: &Kernel) -> Option<usize> {
    let mut named = vec![false; k.arrays.len()];
    for (_, n) in k.nodes() {
        if n.op.is_memory()
            && let Some(a) = n.array.filter(|&a| (a as usize) < k.arrays.len())
        {
            named[a as usize] = true;
        }
    }
    (0..k.arrays.len())
        .filter(|&a| !named[a] && k.arrays[a].size_bytes() > 0)
        .max_by_key(|&a| (k.arrays[a].size_bytes(), k.arrays[a].base))
}

/// Arrays a memory op at `addr` may touch: every array its address interval overlaps (the
/// interpreter accepts an access inside any array, whatever array the op names).
fn arrays_touched(k: &Kernel, _node: usize, addr: Interval) -> impl Iterator<Item = usize> + '_ {
    (0..k.arrays.len()).filter(move |&a| {
        let d = &k.arrays[a];
        addr.lo < d.end() as i64 && addr.hi >= d.base as i64
    })
}

fn has_address(op: Op, data: usize) -> bool {
    match op {
        Op::Load { .. } => data >= 1,
        Op::Store { .. } => data >= 2,
        _ => false,
    }
}

/// `targets`: per memory op the range its address must keep to. While some address may
/// leave it, the contents are computed as if it did not (an access out of range is
/// refused anyway, and a kernel is accepted only when none is left, so the accepted
/// analysis never relied on this).
fn forward(k: &Kernel, g: &Graph, r: &Ranges, targets: &[Option<Interval>]) -> Forward {
    // Iteration by iteration, as the interpreter runs (same order): per node its interval
    // and whether it is valid (`Some(true)`), squashed (`Some(false)`) or either (`None`)
    // in that iteration; array contents join everything stored so far. Longer loops than
    // `MAX_ROUNDS` continue with every iteration joined and growing values widened.
    let n = k.node_count();
    let depth = k.max_distance() as usize + 1;
    let mut rows = vec![Interval::point(0); n * depth];
    let mut valid: Vec<Option<bool>> = vec![Some(true); n * depth];
    let mut all: Vec<Option<Interval>> = vec![None; n];
    // Contents: what the inputs hold (`content`), and per store, per array it may write,
    // the bytes it may write and the element values it leaves there. A load reads the
    // inputs and what the stores whose bytes overlap its own bytes wrote.
    let content = r.arrays.clone();
    let mut written: Vec<Vec<Written>> = vec![Vec::new(); n];
    // Arrays of one element (a flag, a pointer cell) are followed iteration by iteration: a
    // store that surely writes the whole element replaces its value (a loop-start flag
    // cleared in the first iteration reads 0 in the others).
    let mut cell: Vec<Option<Interval>> = k
        .arrays
        .iter()
        .zip(&content)
        .map(|(a, &c)| (a.len == 1).then_some(c))
        .collect();
    let mut addr: Vec<Option<Interval>> = vec![None; n];
    let mut unaligned = vec![false; n];
    let align = &g.align;
    let mut args: Vec<(Interval, Option<bool>)> = Vec::with_capacity(8);
    let mut vals: Vec<Interval> = Vec::with_capacity(8);
    let trip = k.trip_count;
    let exact = trip.min(MAX_ROUNDS);
    let mut joined_mode = false;
    let mut k_iter = 0u32;
    let mut stable_rounds = 0;
    loop {
        if !joined_mode && k_iter >= exact {
            if trip <= exact {
                break;
            }
            joined_mode = true;
        }
        let row = if joined_mode {
            0
        } else {
            (k_iter as usize % depth) * n
        };
        let mut changed = false;
        for &i in &g.order {
            let node = &k.graph[petgraph::graph::NodeIndex::new(i)];
            let read = |src: usize,
                        d: u32,
                        init: i32,
                        rows: &[Interval],
                        valid: &[Option<bool>],
                        all: &[Option<Interval>]|
             -> (Interval, Option<bool>) {
                if joined_mode {
                    let v = all[src].unwrap_or(Interval::FULL);
                    let v = if d > 0 {
                        v.join(Interval::point(init))
                    } else {
                        v
                    };
                    (v, if g.squashable[src] { None } else { Some(true) })
                } else if d == 0 {
                    (rows[row + src], valid[row + src])
                } else if k_iter < d {
                    (Interval::point(init), Some(true))
                } else {
                    let r = ((k_iter - d) as usize % depth) * n;
                    (rows[r + src], valid[r + src])
                }
            };
            // Enabled: the predicate (valid and non-zero, or zero when negated).
            let enabled: Option<bool> = match g.pred[i] {
                None => Some(true),
                Some((src, d, init, negated)) => {
                    let (p, ok) = read(src, d, init, &rows, &valid, &all);
                    let nonzero = if p.lo > 0 || p.hi < 0 {
                        Some(true)
                    } else if p.lo == 0 && p.hi == 0 {
                        Some(false)
                    } else {
                        None
                    };
                    match (ok, nonzero) {
                        (Some(false), _) => Some(false),
                        (Some(true), Some(z)) => Some(z != negated),
                        _ => None,
                    }
                }
            };
            if enabled == Some(false) {
                rows[row + i] = Interval::point(0);
                valid[row + i] = Some(false);
                continue;
            }
            args.clear();
            for &(src, d, init) in &g.data[i] {
                args.push(read(src, d, init, &rows, &valid, &all));
            }
            // Ordinary ops read 0 for a squashed operand.
            let plain = |a: &(Interval, Option<bool>)| match a.1 {
                Some(true) => a.0,
                Some(false) => Interval::point(0),
                None => a.0.join(Interval::point(0)),
            };
            let v = match node.op {
                Op::Const => Interval::point(node.imm.unwrap_or(0)),
                Op::Input(s) => r.scalars.get(s as usize).copied().unwrap_or(Interval::FULL),
                Op::Merge => {
                    // The first valid operand; the last one when none is.
                    let mut out: Option<Interval> = None;
                    let mut done = false;
                    for a in args.iter() {
                        match a.1 {
                            Some(true) => {
                                out = Some(out.map_or(a.0, |o| o.join(a.0)));
                                done = true;
                                break;
                            }
                            Some(false) => {}
                            None => out = Some(out.map_or(a.0, |o| o.join(a.0))),
                        }
                    }
                    if !done {
                        let last = args.last().map(plain).unwrap_or(Interval::FULL);
                        out = Some(out.map_or(last, |o| o.join(last)));
                    }
                    out.unwrap_or(Interval::FULL)
                }
                Op::Load { width, signed } => {
                    vals.clear();
                    vals.extend(args.iter().map(plain));
                    let with_addr = has_address(node.op, vals.len());
                    let a = access(node.imm, &vals, with_addr);
                    addr[i] = Some(addr[i].map_or(a, |x| x.join(a)));
                    let mut out: Option<Interval> = None;
                    let within_target = match targets[i] {
                        Some(t) => meet(a, t).unwrap_or(t),
                        None => a,
                    };
                    let bytes = iv(
                        within_target.lo,
                        within_target.hi + width.bytes() as i64 - 1,
                    );
                    for arr in arrays_touched(k, i, within_target) {
                        let d = &k.arrays[arr];
                        let held = match cell[arr] {
                            Some(c) => c,
                            None => stored_over(&written, arr, bytes)
                                .map_or(content[arr], |w| content[arr].join(w)),
                        };
                        // An access off the element grid reads bytes of two elements.
                        let aligned = d.width == Width::Byte
                            || address_alignment(align, g, node.imm, i, with_addr)
                                .min(d.base.trailing_zeros().min(31))
                                >= d.width.bytes().trailing_zeros();
                        let c = if aligned {
                            load_value(d.width, d.signed, held, width, signed)
                        } else {
                            unaligned[i] = true;
                            unaligned_value(held, width, signed)
                        }
                        .unwrap_or_else(|| transfer(node.op, &[]));
                        out = Some(out.map_or(c, |o| o.join(c)));
                    }
                    out.unwrap_or_else(|| transfer(node.op, &[]))
                }
                Op::Store { width } => {
                    vals.clear();
                    vals.extend(args.iter().map(plain));
                    let with_addr = has_address(node.op, vals.len());
                    let a = access(node.imm, &vals, with_addr);
                    addr[i] = Some(addr[i].map_or(a, |x| x.join(a)));
                    let value = vals.last().copied().unwrap_or(Interval::FULL);
                    let within_target = match targets[i] {
                        Some(t) => meet(a, t).unwrap_or(t),
                        None => a,
                    };
                    for arr in arrays_touched(k, i, within_target) {
                        let d = &k.arrays[arr];
                        let aligned = d.width == Width::Byte && width == Width::Byte
                            || address_alignment(align, g, node.imm, i, with_addr)
                                .min(d.base.trailing_zeros().min(31))
                                >= d.width.bytes().max(width.bytes()).trailing_zeros();
                        let stored = stored_elements(d.width, d.signed, width, value, aligned)
                            .unwrap_or(element_range(d.width, d.signed));
                        let bytes = iv(
                            within_target.lo.max(d.base as i64),
                            (within_target.hi + width.bytes() as i64 - 1).min(d.end() as i64 - 1),
                        );
                        if let Some(c) = cell[arr] {
                            let whole = !joined_mode
                                && enabled == Some(true)
                                && within_target == Interval::point(d.base as i32)
                                && width == d.width;
                            cell[arr] = Some(if whole { stored } else { c.join(stored) });
                        }
                        match written[i].iter_mut().find(|w| w.array == arr) {
                            Some(w) => {
                                let (b, v) = (w.bytes.join(bytes), w.value.join(stored));
                                if (b, v) != (w.bytes, w.value) {
                                    (w.bytes, w.value) = (b, v);
                                    changed = true;
                                }
                            }
                            None => {
                                written[i].push(Written {
                                    array: arr,
                                    bytes,
                                    value: stored,
                                });
                                changed = true;
                            }
                        }
                    }
                    value
                }
                op => {
                    vals.clear();
                    vals.extend(args.iter().map(plain));
                    if let Some(imm) = node.imm
                        && vals.len() < op.arity().max
                    {
                        vals.push(Interval::point(imm));
                    }
                    transfer(op, &vals)
                }
            };
            let state = if enabled == Some(true) {
                Some(true)
            } else {
                None
            };
            rows[row + i] = v;
            valid[row + i] = state;
            let joined = all[i].map_or(v, |x| x.join(v));
            if all[i] != Some(joined) {
                if joined_mode {
                    // Still growing with every iteration joined: widen.
                    all[i] = Some(Interval::FULL);
                } else {
                    all[i] = Some(joined);
                }
                changed = true;
            }
        }
        k_iter += 1;
        if joined_mode {
            if !changed {
                stable_rounds += 1;
                if stable_rounds >= 1 {
                    break;
                }
            }
            if k_iter > exact + 64 {
                break;
            }
        }
    }
    Forward {
        val: all
            .into_iter()
            .map(|v| v.unwrap_or(Interval::FULL))
            .collect(),
        addr,
        unaligned,
    }
}

/// What a store may leave in one array: the bytes it may write and the element values.
#[derive(Clone, Copy)]
struct Written {
    array: usize,
    bytes: Interval,
    value: Interval,
}

/// The element values that stores may have left in `bytes` of array `arr`.
fn stored_over(written: &[Vec<Written>], arr: usize, bytes: Interval) -> Option<Interval> {
    written
        .iter()
        .flatten()
        .filter(|w| w.array == arr && w.bytes.lo <= bytes.hi && bytes.lo <= w.bytes.hi)
        .map(|w| w.value)
        .reduce(|a, b| a.join(b))
}

/// [`forward`] with the alignment that its own values give: a pointer loaded from a region
/// that holds one aligned address reads its target on the element grid. The alignment and
/// the values are refined together until they agree (then every value and every alignment
/// holds for every execution, by induction over the execution's steps); when they do not
/// agree within a few rounds, the static alignment is used.
fn forward_aligned(
    k: &Kernel,
    g: &mut Graph,
    static_align: &[u32],
    r: &Ranges,
    targets: &[Option<Interval>],
) -> Forward {
    g.align = static_align.to_vec();
    let mut f = forward(k, g, r, targets);
    for _ in 0..4 {
        if !f.unaligned.iter().any(|&u| u) {
            return f;
        }
        let al = alignment(k, g, Some(&f.val));
        if al == g.align {
            return f;
        }
        g.align = al;
        f = forward(k, g, r, targets);
    }
    if alignment(k, g, Some(&f.val)) != g.align {
        g.align = static_align.to_vec();
        f = forward(k, g, r, targets);
    }
    f
}

/// Per node, `log2` of a power of two that divides every value it may take (capped at 4):
/// enough to tell whether an address stays on the element grid of its array. `points`: the
/// values of a forward pass; a node that takes one value only is as aligned as that value
/// (a pointer read from a region that holds one address).
fn alignment(k: &Kernel, g: &Graph, points: Option<&[Interval]>) -> Vec<u32> {
    let n = k.node_count();
    let tz = |v: i64| if v == 0 { 4 } else { v.trailing_zeros().min(4) };
    let mut al = vec![4u32; n];
    // Optimistic start, lowered until stable (carried operands read earlier iterations).
    for _ in 0..(n + 2) {
        let mut changed = false;
        for &i in &g.order {
            let node = &k.graph[petgraph::graph::NodeIndex::new(i)];
            let ops: Vec<u32> = g.data[i]
                .iter()
                .map(|&(src, d, init)| {
                    // A squashed value reads as 0, which every power of two divides.
                    let a = al[src];
                    if d > 0 { a.min(tz(init as i64)) } else { a }
                })
                .collect();
            let imm = node.imm.map(|c| tz(c as i64));
            let all = |extra: Option<u32>| ops.iter().copied().chain(extra).min().unwrap_or(0);
            let v = match node.op {
                Op::Const => imm.unwrap_or(4),
                Op::Add | Op::Sub | Op::Merge | Op::Move | Op::Select | Op::Min | Op::Max => {
                    if node.op == Op::Select {
                        ops.iter().skip(1).copied().min().unwrap_or(0)
                    } else {
                        all(imm)
                    }
                }
                Op::Mul => (ops.iter().sum::<u32>() + imm.unwrap_or(0)).min(4),
                Op::Shl => {
                    // The shift: the immediate, or a constant node (the DOT importer's
                    // `x4` shifts read a `Const` 2).
                    let amount = match g.data[i].as_slice() {
                        [_] => node.imm,
                        [_, (src, 0, _)] => {
                            let s = &k.graph[petgraph::graph::NodeIndex::new(*src)];
                            (s.op == Op::Const).then(|| s.imm.unwrap_or(0))
                        }
                        _ => None,
                    };
                    match (ops.first(), amount) {
                        (Some(&a), Some(c)) => (a + (c as u32 & 31)).min(4),
                        _ => 0,
                    }
                }
                Op::And => ops.iter().copied().chain(imm).max().unwrap_or(0),
                _ => 0,
            };
            let v = match points.map(|p| p[i]) {
                Some(p) if p.lo == p.hi => v.max(tz(p.lo)),
                _ => v,
            };
            if v < al[i] {
                al[i] = v;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    al
}

/// Alignment (`log2`) of a memory op's address.
fn address_alignment(al: &[u32], g: &Graph, imm: Option<i32>, node: usize, with_addr: bool) -> u32 {
    let c = imm.unwrap_or(0) as i64;
    let tz = if c == 0 { 4 } else { c.trailing_zeros().min(4) };
    if with_addr {
        let (src, d, init) = g.data[node][0];
        let a = al[src].min(tz);
        if d > 0 {
            a.min(if init == 0 {
                4
            } else {
                init.trailing_zeros().min(4)
            })
        } else {
            a
        }
    } else {
        tz
    }
}

/// Weight sum of the elements a wider load combines (little-endian): 1 + 2^8w + ...
fn combine_factor(elem: Width, load: Width) -> i64 {
    let n = load.bytes() / elem.bytes();
    (0..n).map(|j| 1i64 << (8 * elem.bytes() * j)).sum()
}

/// The value a load of `width` reads from elements in `c` (`None`: the load's own range).
fn load_value(
    elem: Width,
    elem_signed: bool,
    c: Interval,
    width: Width,
    signed: bool,
) -> Option<Interval> {
    use std::cmp::Ordering::*;
    let own = element_range(width, signed);
    match elem.bytes().cmp(&width.bytes()) {
        Equal => (elem_signed == signed || within(c, element_range(width, !signed))).then_some(c),
        // Several elements in one value: non-negative elements combine to [lo*f, hi*f].
        Less => {
            let f = combine_factor(elem, width);
            (c.lo >= 0 && within(iv(c.lo * f, c.hi * f), own)).then(|| iv(c.lo * f, c.hi * f))
        }
        // A part of one element: elements that fit in the part leave the rest 0.
        Greater => within(c, iv(0, own.hi)).then(|| iv(0, c.hi)),
    }
}

/// What a store of `width` writing `value` leaves in elements of `elem` (`None`: anything).
/// Values that fit the narrower of the two in non-negative form leave the other bytes 0.
fn stored_elements(
    elem: Width,
    elem_signed: bool,
    width: Width,
    value: Interval,
    aligned: bool,
) -> Option<Interval> {
    let er = element_range(elem, elem_signed);
    if elem == width && aligned {
        return within(value, er).then_some(value);
    }
    if value == Interval::point(0) {
        return Some(value);
    }
    let narrow = if elem.bytes() < width.bytes() {
        elem
    } else {
        width
    };
    let fits = iv(0, element_range(narrow, true).hi);
    (aligned && within(value, fits)).then(|| iv(0, value.hi))
}

/// Bytes summed as one value: 1 + 2^8 + ... for a load of `width`.
fn byte_factor(width: Width) -> i64 {
    (0..width.bytes()).map(|j| 1i64 << (8 * j)).sum()
}

/// A load off the element grid reads bytes of neighbouring elements: with elements in
/// `0..=255` every byte is at most their maximum.
fn unaligned_value(c: Interval, width: Width, signed: bool) -> Option<Interval> {
    let r = iv(0, c.hi * byte_factor(width));
    (c.lo >= 0 && c.hi <= 255 && within(r, element_range(width, signed))).then_some(r)
}

/// Element ranges that make a load of `width` read values inside `t`.
fn elements_for(elem: Width, width: Width, t: Interval) -> Option<Interval> {
    use std::cmp::Ordering::*;
    match elem.bytes().cmp(&width.bytes()) {
        Equal => Some(t),
        Less => {
            let f = combine_factor(elem, width);
            let r = iv(div_ceil(t.lo.max(0), f), div_floor(t.hi, f));
            (r.lo <= r.hi).then_some(r)
        }
        Greater => (t.lo <= 0 && t.hi >= 0).then(|| iv(0, t.hi.min(element_range(width, true).hi))),
    }
}

/// Address interval of a memory op from its operand intervals.
fn access(imm: Option<i32>, args: &[Interval], with_addr: bool) -> Interval {
    let c = imm.unwrap_or(0) as i64;
    if with_addr {
        let b = args[0];
        if b.is_full() {
            Interval::FULL
        } else {
            iv(b.lo + c, b.hi + c)
        }
    } else {
        Interval::point(c as i32)
    }
}

/// Narrowings requested by one backward pass.
struct Narrow {
    arrays: Vec<Option<Interval>>,
    scalars: Vec<Option<Interval>>,
    seen: Vec<bool>,
    /// The first requirement that could not be met in this pass (the search goes on with
    /// the others; the forward check decides, and this names the node if nothing helps).
    soft: Option<Stuck>,
    /// Requirements that could not be met so far in this pass.
    failures: usize,
}

struct Stuck {
    node: usize,
    reason: String,
}

fn stuck(node: usize, reason: impl Into<String>) -> Stuck {
    Stuck {
        node,
        reason: reason.into(),
    }
}

fn div_floor(a: i64, b: i64) -> i64 {
    a.div_euclid(b) - if b < 0 && a.rem_euclid(b) != 0 { 1 } else { 0 }
}

fn div_ceil(a: i64, b: i64) -> i64 {
    -div_floor(-a, b)
}

/// Largest `2^k - 1` not above `v` (for `v >= 0`).
fn mask_below(v: i64) -> i64 {
    let mut m = 0i64;
    while m * 2 < v {
        m = m * 2 + 1;
    }
    m
}

fn isqrt(v: i64) -> i64 {
    (v.max(0) as f64).sqrt().floor() as i64
}

struct Backward<'a> {
    k: &'a Kernel,
    g: &'a Graph,
    f: &'a Forward,
    r: &'a Ranges,
    /// Accesses whose address may still leave their range: which arrays such a store
    /// writes is not known yet (its own requirement narrows it first).
    bad: Vec<bool>,
    /// Per memory op, the range its address must keep to.
    targets: Vec<Option<Interval>>,
}

impl Backward<'_> {
    /// Require node `v`'s value to lie in `t` on every iteration; a requirement that cannot
    /// be met is noted in `acc.soft` and the search goes on.
    fn demand(
        &self,
        v: usize,
        t: Interval,
        zero: bool,
        acc: &mut Narrow,
        depth: u32,
    ) -> Result<(), Stuck> {
        if let Err(s) = self.demand_inner(v, t, zero, acc, depth) {
            acc.failures += 1;
            if acc.soft.is_none() {
                acc.soft = Some(s);
            }
        }
        Ok(())
    }

    /// `zero`: the consumer reads 0 when `v` is squashed (every op but a merge).
    fn demand_inner(
        &self,
        v: usize,
        t: Interval,
        zero: bool,
        acc: &mut Narrow,
        depth: u32,
    ) -> Result<(), Stuck> {
        let fv = self.f.val[v];
        // A squashed value reads as 0, which no input changes: only the valid values are
        // narrowed here (the forward check that follows has the last word on the 0).
        let _ = zero;
        if within(fv, t) {
            return Ok(());
        }
        if depth > 256 || std::mem::replace(&mut acc.seen[v], true) {
            // Already required in this pass (a cycle or a shared operand): the next
            // pass sees the narrowed ranges and requires again if needed.
            return Ok(());
        }
        let node = &self.k.graph[petgraph::graph::NodeIndex::new(v)];
        // Operands: data edges, then the immediate as a constant.
        let data = &self.g.data[v];
        let mut ops: Vec<Operand> = data
            .iter()
            .map(|&(src, d, init)| Operand::Node(src, d, init))
            .collect();
        if let Some(imm) = node.imm
            && !node.op.is_memory()
            && ops.len() < node.op.arity().max
        {
            ops.push(Operand::Const(imm as i64));
        }
        // Operands read 0 when squashed, except a merge's (unless all may be squashed).
        let zero_ops = node.op != Op::Merge || self.g.squashable[v];
        let range = |o: &Operand| match *o {
            Operand::Node(src, d, init) => {
                let r = if d == 0 {
                    self.f.val[src]
                } else {
                    self.f.val[src].join(Interval::point(init))
                };
                if zero_ops && self.g.squashable[src] {
                    r.join(Interval::point(0))
                } else {
                    r
                }
            }
            Operand::Const(c) => iv(c, c),
        };
        let need = |o: &Operand, t: Interval, acc: &mut Narrow| -> Result<(), Stuck> {
            if t.lo > t.hi {
                return Err(stuck(
                    v,
                    format!("`{}` leaves no room for its operand", node.op.mnemonic()),
                ));
            }
            match *o {
                Operand::Const(c) if c >= t.lo && c <= t.hi => Ok(()),
                Operand::Const(c) => Err(stuck(
                    v,
                    format!(
                        "its constant operand {c} would have to lie in {}..={}",
                        t.lo, t.hi
                    ),
                )),
                Operand::Node(src, _, _) => {
                    // A loop-carried initial value is fixed like a squashed 0: only the
                    // producer's values are narrowed (the forward check judges the init).
                    self.demand(src, t, zero_ops, acc, depth + 1)
                }
            }
        };
        let cannot = |why: &str| {
            Err(stuck(
                v,
                format!(
                    "`{}` ranges over {}..={}, must lie in {}..={}, and {why}",
                    node.op.mnemonic(),
                    fv.lo,
                    fv.hi,
                    t.lo,
                    t.hi
                ),
            ))
        };
        match node.op {
            Op::Const => cannot("is a constant"),
            Op::Input(s)
                if self
                    .k
                    .scalars
                    .get(s as usize)
                    .is_some_and(|d| d.elem.is_float()) =>
            {
                cannot("the live-in is an f32, whose bits are no index")
            }
            Op::Input(s) => {
                let s = s as usize;
                let cur = acc.scalars[s].unwrap_or(self.r.scalars[s]);
                match meet(cur, t) {
                    Some(m) => {
                        acc.scalars[s] = Some(m);
                        Ok(())
                    }
                    None => cannot("the live-in's declared range does not meet it"),
                }
            }
            Op::Load { width, .. } => {
                // A load whose own address is still out of range will read inside its
                // target once that is fixed: only the arrays there hold what it reads.
                let a = match self.targets[v] {
                    Some(t) if self.bad[v] => t,
                    _ => self.f.addr[v].unwrap_or(Interval::FULL),
                };
                let arrays: Vec<usize> = arrays_touched(self.k, v, a).collect();
                if arrays.is_empty() {
                    return cannot("it reads no array");
                }
                for arr in arrays {
                    let d = &self.k.arrays[arr];
                    if d.elem.is_float() {
                        return cannot(&format!(
                            "array `{}` holds floats, whose bits are no index",
                            d.name
                        ));
                    }
                    let e = if self.f.unaligned[v] && d.width != Width::Byte {
                        let hi = div_floor(t.hi, byte_factor(width)).min(255);
                        (t.lo <= 0 && hi >= 0).then(|| iv(0, hi))
                    } else {
                        elements_for(d.width, width, t)
                    };
                    let Some(e) = e else {
                        return cannot(&format!(
                            "no {}-byte elements of array `{}` give such a {}-byte value",
                            d.width.bytes(),
                            d.name,
                            width.bytes()
                        ));
                    };
                    let cur = acc.arrays[arr].unwrap_or(self.r.arrays[arr]);
                    let Some(m) = meet(cur, e) else {
                        return cannot(&format!("array `{}` cannot hold such values", d.name));
                    };
                    acc.arrays[arr] = Some(m);
                    // Values stored into the array must keep to the same range.
                    for &st in &self.g.stores {
                        // As the forward pass: a store still out of range counts only
                        // inside its target.
                        let sa = self.f.addr[st].unwrap_or(Interval::FULL);
                        let sa = match self.targets[st] {
                            Some(t) => meet(sa, t).unwrap_or(t),
                            None => sa,
                        };
                        let sw = match self.k.graph[petgraph::graph::NodeIndex::new(st)].op {
                            Op::Store { width } => width,
                            _ => continue,
                        };
                        // Only stores whose bytes may meet the bytes this load reads.
                        let overlaps =
                            sa.lo < a.hi + width.bytes() as i64 && a.lo < sa.hi + sw.bytes() as i64;
                        if overlaps
                            && arrays_touched(self.k, st, sa).any(|x| x == arr)
                            && let Some(&(src, dist, init)) = self.g.data[st].last()
                        {
                            let m = if sw == d.width {
                                m
                            } else {
                                // Another width: non-negative values that fit the
                                // narrower one (the stores' alignment is checked forward).
                                let narrow = if d.width.bytes() < sw.bytes() {
                                    d.width
                                } else {
                                    sw
                                };
                                match meet(m, iv(0, element_range(narrow, true).hi)) {
                                    Some(x) if m.lo <= 0 => iv(0, x.hi),
                                    _ => {
                                        return Err(stuck(
                                            st,
                                            format!(
                                                "it stores {}-byte values into `{}` ({}-byte elements), which holds addresses in {}..={}",
                                                sw.bytes(),
                                                d.name,
                                                d.width.bytes(),
                                                m.lo,
                                                m.hi
                                            ),
                                        ));
                                    }
                                }
                            };
                            need(&Operand::Node(src, dist, init), m, acc).map_err(|e| {
                                if e.node == st {
                                    stuck(
                                        st,
                                        format!(
                                            "it stores into `{}`, which holds addresses: {}",
                                            d.name, e.reason
                                        ),
                                    )
                                } else {
                                    e
                                }
                            })?;
                        }
                    }
                }
                Ok(())
            }
            Op::Move | Op::Merge => {
                for o in &ops {
                    need(o, t, acc)?;
                }
                Ok(())
            }
            Op::Select => {
                for o in ops.iter().skip(1) {
                    need(o, t, acc)?;
                }
                Ok(())
            }
            Op::Min | Op::Max => {
                for o in &ops {
                    need(o, t, acc)?;
                }
                Ok(())
            }
            Op::Add | Op::Sub if ops.len() == 2 => {
                let (x, y) = (ops[0], ops[1]);
                let (fx, fy) = (range(&x), range(&y));
                let sub = node.op == Op::Sub;
                // x + y in t: x in t - y, y in t - x (for sub: y in x - t).
                let for_x = |fy: Interval| {
                    if sub {
                        iv(t.lo + fy.hi, t.hi + fy.lo)
                    } else {
                        iv(t.lo - fy.lo, t.hi - fy.hi)
                    }
                };
                let for_y = |fx: Interval| {
                    if sub {
                        iv(fx.hi - t.hi, fx.lo - t.lo)
                    } else {
                        iv(t.lo - fx.lo, t.hi - fx.hi)
                    }
                };
                match (fx.is_full(), fy.is_full()) {
                    // One bounded: the other takes what is left; when the bounded one is
                    // wider than the room, it gets half of it first.
                    (false, true) => {
                        let ny = for_y(fx);
                        if ny.lo <= ny.hi || matches!(x, Operand::Const(_)) {
                            need(&y, ny, acc)
                        } else {
                            let x_new = iv(fx.lo, fx.lo + (t.hi - t.lo) / 2);
                            need(&x, x_new, acc)?;
                            need(&y, for_y(x_new), acc)
                        }
                    }
                    (true, false) => {
                        let nx = for_x(fy);
                        if nx.lo <= nx.hi || matches!(y, Operand::Const(_)) {
                            need(&x, nx, acc)
                        } else {
                            let y_new = iv(fy.lo, fy.lo + (t.hi - t.lo) / 2);
                            need(&y, y_new, acc)?;
                            need(&x, for_x(y_new), acc)
                        }
                    }
                    (true, true) => {
                        // Both unbounded: give one operand half of the room as an offset
                        // from 0 (a product, which 0 keeps small whatever its other factor,
                        // else the second operand); the next pass fits the other around it.
                        let w = (t.hi - t.lo) / 2;
                        let is_mul = |o: &Operand| {
                            matches!(*o, Operand::Node(src, _, _)
                                if self.k.graph[petgraph::graph::NodeIndex::new(src)].op == Op::Mul)
                        };
                        if !sub && is_mul(&x) && !is_mul(&y) {
                            need(&x, iv(0, w), acc)
                        } else {
                            let y_room = if sub { iv(-w, 0) } else { iv(0, w) };
                            need(&y, y_room, acc)
                        }
                    }
                    (false, false) => {
                        // Narrow the operand that is an input-dependent value first: the
                        // one that is not a constant, the wider one.
                        let x_const = matches!(x, Operand::Const(_));
                        let y_const = matches!(y, Operand::Const(_));
                        let (nx, ny) = (for_x(fy), for_y(fx));
                        let x_first = y_const || (!x_const && fx.hi - fx.lo >= fy.hi - fy.lo);
                        let tries = if x_first {
                            [(x, nx, x_const), (y, ny, y_const)]
                        } else {
                            [(y, ny, y_const), (x, nx, x_const)]
                        };
                        // The operand that can take the whole requirement; the other one
                        // when the first cannot be narrowed that far.
                        for (p, np, is_const) in tries {
                            if is_const || np.lo > np.hi {
                                continue;
                            }
                            let before = acc.failures;
                            need(&p, np, acc)?;
                            if acc.failures == before {
                                return Ok(());
                            }
                        }
                        if (x_const || nx.lo <= nx.hi) && (y_const || ny.lo <= ny.hi) {
                            return Ok(());
                        }
                        // Neither alone fits: half of the room each.
                        let w = (t.hi - t.lo) / 2;
                        let x_new = iv(fx.lo, fx.lo + w);
                        need(&x, x_new, acc)?;
                        need(&y, for_y(x_new), acc)
                    }
                }
            }
            Op::Mul if ops.len() == 2 => {
                let (x, y) = (ops[0], ops[1]);
                let (fx, fy) = (range(&x), range(&y));
                let by_const = |p: &Operand, c: i64, acc: &mut Narrow| {
                    if c == 0 {
                        return cannot("it multiplies by 0");
                    }
                    let r = if c > 0 {
                        iv(div_ceil(t.lo, c), div_floor(t.hi, c))
                    } else {
                        iv(div_ceil(t.hi, c), div_floor(t.lo, c))
                    };
                    need(p, r, acc)
                };
                match (fx.lo == fx.hi, fy.lo == fy.hi) {
                    (_, true) => by_const(&x, fy.lo, acc),
                    (true, false) => by_const(&y, fx.lo, acc),
                    _ if t.lo > 0 => {
                        // A positive product: both factors at least 1, the wider one at
                        // least `t.lo` and small enough for the other's largest value.
                        let (p, q, fq) =
                            if fx.is_full() || (!fy.is_full() && fx.hi - fx.lo >= fy.hi - fy.lo) {
                                (x, y, fy)
                            } else {
                                (y, x, fx)
                            };
                        let squashed = |o: &Operand| matches!(*o, Operand::Node(src, _, _) if zero_ops && self.g.squashable[src]);
                        if squashed(&x) || squashed(&y) {
                            return cannot("a factor may be squashed to 0");
                        }
                        let Some(qn) = meet(fq, iv(1, isqrt(t.hi).max(1))) else {
                            return cannot("its factors cannot both be positive");
                        };
                        need(&q, qn, acc)?;
                        need(&p, iv(t.lo, t.hi / qn.hi), acc)
                    }
                    _ => {
                        if t.hi < 0 {
                            return cannot("a product of two varying values cannot be kept off 0");
                        }
                        let m = (-t.lo).min(t.hi);
                        let (p, q, fq) =
                            if fx.is_full() || (!fy.is_full() && fx.hi - fx.lo >= fy.hi - fy.lo) {
                                (x, y, fy)
                            } else {
                                (y, x, fx)
                            };
                        // Non-negative factors keep the product in 0..=P*Q: the whole upper
                        // room is usable even when `t` starts at 0.
                        if fq.is_full() {
                            if t.hi > 0 {
                                need(&q, iv(0, isqrt(t.hi)), acc)
                            } else {
                                let b = isqrt(m);
                                need(&q, iv(-b, b), acc)
                            }
                        } else if fq.lo >= 0 && t.hi > 0 {
                            need(&p, iv(0, t.hi / fq.hi.max(1)), acc)
                        } else {
                            let mq = fq.lo.abs().max(fq.hi.abs()).max(1);
                            let b = m / mq;
                            need(&p, iv(-b, b), acc)
                        }
                    }
                }
            }
            Op::Shl if ops.len() == 2 && range(&ops[1]).lo != range(&ops[1]).hi => {
                // A varying shift of a non-negative value: the value first, then the shift
                // kept small enough for its largest value (`x << s` grows with `s`).
                let fx = range(&ops[0]);
                let room = iv(t.lo.max(0), t.hi);
                if room.lo > room.hi {
                    return cannot("a shifted non-negative value cannot be negative");
                }
                if !within(fx, room) {
                    return need(&ops[0], room, acc);
                }
                let mut m = 0i64;
                while m < 30 && fx.hi << (m + 1) <= t.hi {
                    m += 1;
                }
                need(&ops[1], iv(0, m), acc)
            }
            Op::Shl if ops.len() == 2 && range(&ops[1]).lo == range(&ops[1]).hi => {
                let s = (range(&ops[1]).lo & 31) as u32;
                let f = 1i64 << s;
                need(&ops[0], iv(div_ceil(t.lo, f), div_floor(t.hi, f)), acc)
            }
            Op::Ashr if ops.len() == 2 && range(&ops[1]).lo == range(&ops[1]).hi => {
                let s = (range(&ops[1]).lo & 31) as u32;
                let f = 1i64 << s;
                let r =
                    meet(iv(t.lo * f, t.hi * f + f - 1), Interval::FULL).unwrap_or(Interval::FULL);
                need(&ops[0], r, acc)
            }
            Op::Lshr | Op::Ashr
                if ops.len() == 2
                    && range(&ops[1]).lo != range(&ops[1]).hi
                    && range(&ops[1]).lo >= 0
                    && range(&ops[1]).hi <= 31
                    && t.lo <= 0
                    && t.hi >= 0 =>
            {
                // A varying shift right of a non-negative value is at most the value.
                need(&ops[0], iv(0, t.hi), acc)
            }
            Op::Lshr if ops.len() == 2 && range(&ops[1]).lo == range(&ops[1]).hi => {
                let s = (range(&ops[1]).lo & 31) as u32;
                let f = 1i64 << s;
                match meet(
                    iv(t.lo.max(0) * f, t.hi * f + f - 1),
                    iv(0, i32::MAX as i64),
                ) {
                    Some(r) => need(&ops[0], r, acc),
                    None => cannot("a logical shift right gives no value in it"),
                }
            }
            Op::And if t.lo <= 0 && t.hi >= 0 => {
                // x & y lies in 0..=x when x >= 0.
                let (x, y) = (ops[0], *ops.get(1).unwrap_or(&ops[0]));
                let (fx, fy) = (range(&x), range(&y));
                if fy.lo >= 0 && fy.hi <= t.hi {
                    return Ok(());
                }
                if fx.lo >= 0 && fx.hi <= t.hi {
                    return Ok(());
                }
                let p = if matches!(x, Operand::Const(_)) { y } else { x };
                need(&p, iv(0, t.hi), acc)
            }
            Op::Or | Op::Xor if t.lo <= 0 && t.hi >= 0 => {
                // Non-negative operands up to 2^k - 1 keep the result there.
                let m = mask_below(t.hi);
                for o in &ops {
                    need(o, iv(0, m), acc)?;
                }
                Ok(())
            }
            Op::Abs if t.lo <= 0 => need(&ops[0], iv(-t.hi, t.hi), acc),
            Op::Sext8 => match meet(t, iv(-128, 127)) {
                Some(r) => need(&ops[0], r, acc),
                None => cannot("a sign-extended byte never lies there"),
            },
            Op::Sext16 => match meet(t, iv(i16::MIN as i64, i16::MAX as i64)) {
                Some(r) => need(&ops[0], r, acc),
                None => cannot("a sign-extended half-word never lies there"),
            },
            Op::Zext8 => match meet(t, iv(0, 255)) {
                Some(r) => need(&ops[0], r, acc),
                None => cannot("a zero-extended byte never lies there"),
            },
            Op::Zext16 => match meet(t, iv(0, u16::MAX as i64)) {
                Some(r) => need(&ops[0], r, acc),
                None => cannot("a zero-extended half-word never lies there"),
            },
            _ => cannot("the analysis cannot narrow it through this op"),
        }
    }
}

#[derive(Clone, Copy)]
enum Operand {
    Node(usize, u32, i32),
    Const(i64),
}

/// Input ranges under which every memory op of `k` stays inside the array it names (or
/// the memory image when it names none), for every seed. See the module docs.
/// `Ok` also when nothing had to change (`narrowed_*` empty).
pub fn infer(k: &Kernel) -> Result<InputRanges, Impossible> {
    // The kernel's own ranges first (held to the named arrays, then to the image); then
    // from the element ranges (an importer's assumed small index ranges may be the wrong
    // guess for a value that is a pointer), keeping the kernel's ranges wherever no
    // address needs another one.
    //
    // Accesses inside the arrays they name come first (the simulator's banks hold each
    // array apart); inside the image only, a kernel is taken as it is, or else narrowed.
    let unchanged = |r: &InputRanges| r.narrowed_arrays.is_empty() && r.narrowed_scalars.is_empty();
    // When none works, the reason given is the first attempt's: the kernel as declared.
    let first = match infer_with(k, true, false) {
        Ok(r) => return Ok(r),
        Err(e) => e,
    };
    let loose = infer_with(k, false, false);
    if let Ok(r) = &loose
        && unchanged(r)
    {
        return loose;
    }
    infer_with(k, true, true)
        .or(loose)
        .or_else(|_| infer_with(k, false, true))
        .or_else(|_| placed(k))
        .or_else(|_| zeroed(k))
        .map_err(|_| first)
}

/// The very last attempt: integer arrays hold 0 (scalar inputs are narrowed as before). An
/// accumulator that becomes part of an index (susan's `total`, through two multiplies of
/// loaded values) stays bounded over the loop only when the values it multiplies are 0;
/// interval narrowing, which shrinks ranges step by step, does not get there.
fn zeroed(k: &Kernel) -> Result<InputRanges, Impossible> {
    let mut k2 = k.clone();
    let mut any = false;
    for a in &mut k2.arrays {
        if !a.elem.is_float() && a.init_range != Some((0, 0)) && a.size_bytes() > 0 {
            a.init_range = Some((0, 0));
            any = true;
        }
    }
    if !any {
        return Err(Impossible {
            access: 0,
            node: 0,
            reason: "no array to hold at 0".to_string(),
        });
    }
    let r = infer_with(&k2, true, false)?;
    relative_to(k, r)
}

/// `r`, found for a changed copy of `k`, with `narrowed_*` relative to `k` as declared.
fn relative_to(k: &Kernel, r: InputRanges) -> Result<InputRanges, Impossible> {
    let narrowed_arrays = (0..k.arrays.len())
        .filter(|&a| r.arrays[a] != k.arrays[a].init_range)
        .collect();
    let narrowed_scalars = (0..k.scalars.len())
        .filter(|&s| r.scalars[s] != k.scalars[s].random_range)
        .collect();
    Ok(InputRanges {
        narrowed_arrays,
        narrowed_scalars,
        ..r
    })
}

/// The last attempt: pointer regions hold one address each. A region is an array read only
/// at constant addresses (a pointer variable that the loop reads, never writes) whose value
/// is, unchanged or plus a constant, the address of other accesses. Interval narrowing keeps
/// such a region near its declared values, where the pointer may land off the element grid
/// or on bytes the loop stores to; here each one holds a single address on the grid of the
/// accesses it serves, from the top of their common range down (away from where loops
/// usually store: their arrays' starts), one element apart. The analysis then runs as in
/// the other attempts and the forward check decides.
fn placed(k: &Kernel) -> Result<InputRanges, Impossible> {
    let g = graph(k).ok_or(Impossible {
        access: 0,
        node: 0,
        reason: "the kernel has a cycle without a loop-carried edge".to_string(),
    })?;
    let id = petgraph::graph::NodeIndex::new;
    let pointers = pointer_accesses(k, &g);
    // Arrays that some store names or some load reads at a varying address.
    let mut varying = vec![false; k.arrays.len()];
    for (nid, n) in k.nodes() {
        let i = nid.index();
        if let Some(a) = n.array.map(|a| a as usize).filter(|&a| a < k.arrays.len())
            && (n.op.is_store() || has_address(n.op, g.data[i].len()))
        {
            varying[a] = true;
        }
    }
    // Per region: the ranges (minus the constant added) and the grids of the accesses.
    let mut serves: Vec<Option<(Interval, u32)>> = vec![None; k.arrays.len()];
    let mut bad_region = vec![false; k.arrays.len()];
    for (m, &pointer) in pointers.iter().enumerate() {
        let op = k.graph[id(m)].op;
        if !has_address(op, g.data[m].len()) {
            continue;
        }
        let Some(t) = target(k, m, true, pointer) else {
            continue;
        };
        let mut off = k.graph[id(m)].imm.unwrap_or(0) as i64;
        let mut v = g.data[m][0].0;
        let region = loop {
            let n = &k.graph[id(v)];
            match (n.op, g.data[v].as_slice()) {
                (Op::Move, [(x, 0, _)]) => v = *x,
                (Op::Add, [(x, 0, _)]) => {
                    off += n.imm.unwrap_or(0) as i64;
                    v = *x;
                }
                (
                    Op::Load {
                        width: Width::Word, ..
                    },
                    [],
                ) => break n.array.map(|a| a as usize),
                _ => break None,
            }
        };
        let Some(a) = region.filter(|&a| a < k.arrays.len() && !varying[a]) else {
            continue;
        };
        if k.arrays[a].width != Width::Word || k.arrays[a].elem.is_float() {
            continue;
        }
        let w = match op {
            Op::Load { width, .. } | Op::Store { width } => width.bytes(),
            _ => continue,
        };
        let grid = arrays_touched(k, m, t)
            .map(|x| k.arrays[x].width.bytes())
            .chain([w])
            .max()
            .unwrap_or(w);
        let room = iv(t.lo - off, t.hi - off);
        serves[a] = match serves[a] {
            None => Some((room, grid)),
            Some((r, gr)) => match meet(r, room) {
                Some(x) => Some((x, gr.max(grid))),
                None => {
                    bad_region[a] = true;
                    None
                }
            },
        };
    }
    let mut k2 = k.clone();
    let mut taken: Vec<Interval> = Vec::new();
    let mut any = false;
    for a in 0..k.arrays.len() {
        let Some((room, grid)) = serves[a].filter(|_| !bad_region[a]) else {
            continue;
        };
        let grid = grid as i64;
        let mut v = div_floor(room.hi, grid) * grid;
        while v >= room.lo && taken.iter().any(|t| t.lo < v + grid && v <= t.hi) {
            v -= grid;
        }
        if v < room.lo || v < i32::MIN as i64 || v > i32::MAX as i64 {
            continue;
        }
        taken.push(iv(v, v + grid - 1));
        k2.arrays[a].init_range = Some((v as i32, v as i32));
        any = true;
    }
    if !any {
        return Err(Impossible {
            access: 0,
            node: 0,
            reason: "no pointer region to place".to_string(),
        });
    }
    let r = infer_with(&k2, true, false).or_else(|_| infer_with(&k2, true, true))?;
    relative_to(k, r)
}

/// [`infer`] with every access held to its named array (`strict`) or to the memory image.
fn infer_with(k: &Kernel, strict: bool, free: bool) -> Result<InputRanges, Impossible> {
    let mut g = graph(k).ok_or(Impossible {
        access: 0,
        node: 0,
        reason: "the kernel has a cycle without a loop-carried edge".to_string(),
    })?;
    let mut r = Ranges {
        arrays: k
            .arrays
            .iter()
            .map(|a| match a.init_range {
                // Floats: `init_range` is a float range; the bits may be anything.
                _ if a.elem.is_float() => Interval::FULL,
                // A fixed value (a flag, a pointer to a region) stays fixed.
                Some((lo, hi)) if !free || lo == hi => iv(lo as i64, hi as i64),
                _ => element_range(a.width, a.signed),
            })
            .collect(),
        scalars: k
            .scalars
            .iter()
            .map(|s| match s.random_range {
                // An f32 scalar's range is a real interval; its bits may be anything.
                Some(_) if s.elem.is_float() => Interval::FULL,
                Some((lo, hi)) if !free || lo == hi => iv(lo as i64, hi as i64),
                Some(_) => Interval::FULL,
                None => Interval::point(s.default),
            })
            .collect(),
    };
    let mut touched_arrays = vec![false; k.arrays.len()];
    let mut touched_scalars = vec![false; k.scalars.len()];
    let pointers = pointer_accesses(k, &g);
    let targets: Vec<Option<Interval>> = (0..k.node_count())
        .map(|i| target(k, i, strict, pointers[i]))
        .collect();
    // Per access, the range its address is required to keep to when inputs are narrowed
    // (its target, tightened by the drift the loop adds; see below).
    let mut tight: Vec<Option<Interval>> = vec![None; k.node_count()];
    let mut tightened = vec![0u32; k.node_count()];
    let static_align = g.align.clone();
    for _ in 0..MAX_PASSES {
        let f = forward_aligned(k, &mut g, &static_align, &r, &targets);
        let bad: Vec<(usize, Interval)> = g
            .order
            .iter()
            .filter_map(|&i| {
                let t = target(k, i, strict, pointers[i])?;
                let a = f.addr[i]?;
                (!within(a, t)).then_some((i, t))
            })
            .collect();
        if bad.is_empty() {
            return Ok(finish(k, &r, &touched_arrays, &touched_scalars));
        }
        let mut is_bad = vec![false; k.node_count()];
        for &(i, _) in &bad {
            is_bad[i] = true;
        }
        let b = Backward {
            k,
            g: &g,
            f: &f,
            r: &r,
            bad: is_bad,
            targets: targets.clone(),
        };
        let mut acc = Narrow {
            arrays: vec![None; k.arrays.len()],
            scalars: vec![None; k.scalars.len()],
            seen: vec![false; k.node_count()],
            soft: None,
            failures: 0,
        };
        let mut soft_access: Option<usize> = None;
        for &(i, t) in &bad {
            let node = &k.graph[petgraph::graph::NodeIndex::new(i)];
            if !has_address(node.op, g.data[i].len()) {
                return Err(Impossible {
                    access: i,
                    node: i,
                    reason: format!(
                        "its constant address {} lies outside {}..={}",
                        node.imm.unwrap_or(0),
                        t.lo,
                        t.hi
                    ),
                });
            }
            let c = node.imm.unwrap_or(0) as i64;
            let (src, _, _) = g.data[i][0];
            let goal = tight[i].unwrap_or(t);
            let want = iv(goal.lo - c, goal.hi - c);
            let before = acc.soft.is_some();
            b.demand(src, want, true, &mut acc, 0)
                .map_err(|s| Impossible {
                    access: i,
                    node: s.node,
                    reason: s.reason,
                })?;
            if !before && acc.soft.is_some() {
                soft_access = Some(i);
            }
        }
        let mut changed = false;
        for (a, new) in acc.arrays.iter().enumerate() {
            if let Some(n) = new
                && *n != r.arrays[a]
            {
                r.arrays[a] = *n;
                touched_arrays[a] = true;
                changed = true;
            }
        }
        for (x, new) in acc.scalars.iter().enumerate() {
            if let Some(n) = new
                && *n != r.scalars[x]
            {
                r.scalars[x] = *n;
                touched_scalars[x] = true;
                changed = true;
            }
        }
        if !changed {
            // Inputs inside the requirement, addresses still outside: what the loop adds
            // to them (a pointer that walks, an offset) drifts them out. Require the
            // inputs to keep that much further inside, and try again.
            for &(i, t) in &bad {
                let a = f.addr[i].unwrap_or(Interval::FULL);
                if a.is_full() {
                    continue;
                }
                let cur = tight[i].unwrap_or(t);
                // Each repeat doubles the step, so a drift that the narrowing cannot follow
                // ends the search in a few passes.
                let step = 1i64 << tightened[i].min(20);
                tightened[i] += 1;
                let new = iv(
                    cur.lo + (t.lo - a.lo).max(0) * step,
                    cur.hi - (a.hi - t.hi).max(0) * step,
                );
                if new.lo <= new.hi && new != cur {
                    tight[i] = Some(new);
                    changed = true;
                }
            }
        }
        if !changed && let Some(st) = acc.soft {
            return Err(Impossible {
                access: soft_access.unwrap_or(bad[0].0),
                node: st.node,
                reason: st.reason,
            });
        }
        if !changed {
            let (i, t) = bad[0];
            let a = f.addr[i].unwrap_or(Interval::FULL);
            return Err(Impossible {
                access: i,
                node: i,
                reason: format!(
                    "its address ranges over {}..={} (must lie in {}..={}) and depends on no input range that could narrow it",
                    a.lo, a.hi, t.lo, t.hi
                ),
            });
        }
    }
    // Out of passes: name the first access still out of range.
    let f = forward_aligned(k, &mut g, &static_align, &r, &targets);
    let (i, t, a) = g
        .order
        .iter()
        .find_map(|&i| {
            let t = targets[i]?;
            let a = f.addr[i]?;
            (!within(a, t)).then_some((i, t, a))
        })
        .unwrap_or((0, Interval::FULL, Interval::FULL));
    Err(Impossible {
        access: i,
        node: i,
        reason: format!(
            "its address still ranges over {}..={} (must lie in {}..={}) after {MAX_PASSES} narrowing passes",
            a.lo, a.hi, t.lo, t.hi
        ),
    })
}

/// The ranges proved: a narrowed input gets its new range, every other keeps the kernel's
/// own (never wider than the range the proof assumed for it).
fn finish(k: &Kernel, r: &Ranges, arrays: &[bool], scalars: &[bool]) -> InputRanges {
    let a_range = |a: usize| Some((r.arrays[a].lo as i32, r.arrays[a].hi as i32));
    let s_range = |s: usize| Some((r.scalars[s].lo as i32, r.scalars[s].hi as i32));
    let narrowed_arrays: Vec<usize> = (0..k.arrays.len())
        .filter(|&a| arrays[a] && a_range(a) != k.arrays[a].init_range)
        .collect();
    let narrowed_scalars: Vec<usize> = (0..k.scalars.len())
        .filter(|&s| scalars[s] && s_range(s) != k.scalars[s].random_range)
        .collect();
    InputRanges {
        arrays: (0..k.arrays.len())
            .map(|a| {
                if narrowed_arrays.contains(&a) {
                    a_range(a)
                } else {
                    k.arrays[a].init_range
                }
            })
            .collect(),
        scalars: (0..k.scalars.len())
            .map(|s| {
                if narrowed_scalars.contains(&s) {
                    s_range(s)
                } else {
                    k.scalars[s].random_range
                }
            })
            .collect(),
        narrowed_arrays,
        narrowed_scalars,
    }
}

/// [`infer`], then set the kernel's `init_range`/`random_range` to the ranges found.
/// On `Err` the kernel is left unchanged.
pub fn apply(k: &mut Kernel) -> Result<InputRanges, Impossible> {
    let r = infer(k)?;
    for (a, range) in k.arrays.iter_mut().zip(&r.arrays) {
        a.init_range = *range;
    }
    for (s, range) in k.scalars.iter_mut().zip(&r.scalars) {
        s.random_range = *range;
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{ArrayDecl, ArrayDir, KernelSource, Node, Operand};

    fn word(name: &str, base: u32, len: u32, init: Option<(i32, i32)>) -> ArrayDecl {
        ArrayDecl {
            name: name.into(),
            width: Width::Word,
            signed: true,
            len,
            base,
            dir: ArrayDir::In,
            init_range: init,
            elem: Default::default(),
        }
    }

    /// `y = a[idx[i]]` over 8 iterations: `idx` holds indices into `a` (8 words at 64;
    /// `idx` has a spare word because the forward pass runs one round past the trip count).
    fn gather() -> Kernel {
        let mut k = Kernel::new("gather", KernelSource::Built);
        k.arrays.push(word("idx", 0, 16, None));
        k.arrays.push(word("a", 64, 8, Some((-100, 100))));
        k.trip_count = 8;
        let i = k.add_node(Node::new(Op::Add).with_imm(4));
        let li = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_array(0),
        );
        let sh = k.add_node(Node::new(Op::Shl).with_imm(2));
        let la = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_imm(64)
            .with_array(1),
        );
        k.add_edge(i, i, Operand::carried(0, 1, -4));
        k.add_edge(i, li, Operand::data(0));
        k.add_edge(li, sh, Operand::data(0));
        k.add_edge(sh, la, Operand::data(0));
        k
    }

    #[test]
    fn an_index_array_is_narrowed_to_the_indices_of_its_target() {
        let mut k = gather();
        // Random words send the gather far outside `a`.
        let inputs = crate::interp::random_inputs(&k, 1);
        assert!(crate::interp::run(&k, &inputs).is_err());
        let r = apply(&mut k).expect("ranges exist");
        assert_eq!(r.narrowed_arrays, vec![0]);
        assert_eq!(k.arrays[0].init_range, Some((0, 7)));
        assert_eq!(k.arrays[1].init_range, Some((-100, 100)), "data untouched");
        for seed in 0..20 {
            let inputs = crate::interp::random_inputs(&k, seed);
            crate::interp::run(&k, &inputs).expect("every seed runs");
        }
        // Already in range: nothing changes.
        let again = infer(&k).unwrap();
        assert!(again.narrowed_arrays.is_empty());
    }

    #[test]
    fn a_constant_that_decides_the_address_is_named() {
        let mut k = gather();
        // The index is ORed with -1 (always negative): no contents of `idx` help.
        let or = k.add_node(Node::new(Op::Or).with_imm(-1));
        let la2 = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_imm(64)
            .with_array(1),
        );
        let li = crate::NodeId::new(1);
        k.add_edge(li, or, Operand::data(0));
        k.add_edge(or, la2, Operand::data(0));
        let e = infer(&k).unwrap_err();
        assert_eq!(e.access, la2.index());
        assert_eq!(e.node, or.index(), "{e}");
        assert!(e.to_string().contains("-1"), "{e}");
    }

    /// `w = mem[*p]; y = mem[w + i - 1]` over 8 iterations, `p` a pointer region (read only
    /// at a constant address) declared with small values: `*p` lands off the word grid, so
    /// `w` combines bytes of two words and cannot be kept at 1 or more by narrowing `mem`.
    /// Holding `p` to one aligned address makes `w` one element of `mem`.
    fn pointer_region() -> Kernel {
        let mut k = Kernel::new("pointer_region", KernelSource::Built);
        k.arrays.push(word("mem", 0, 64, Some((0, 15))));
        k.arrays.push(word("p", 1024, 4, Some((0, 15))));
        k.trip_count = 8;
        let load = |imm: Option<i32>, array: u16| {
            let n = Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_array(array);
            match imm {
                Some(c) => n.with_imm(c),
                None => n,
            }
        };
        let i = k.add_node(Node::new(Op::Add).with_imm(1));
        k.add_edge(i, i, Operand::carried(0, 1, -1));
        let p = k.add_node(load(Some(1024), 1));
        let w = k.add_node(load(None, 0));
        k.add_edge(p, w, Operand::data(0));
        let sum = k.add_node(Node::new(Op::Add));
        k.add_edge(w, sum, Operand::data(0));
        k.add_edge(i, sum, Operand::data(1));
        let y = k.add_node(load(Some(-1), 0));
        k.add_edge(sum, y, Operand::data(0));
        k
    }

    #[test]
    fn a_pointer_region_is_held_to_one_aligned_address() {
        let mut k = pointer_region();
        let r = apply(&mut k).unwrap_or_else(|e| panic!("{e}"));
        let (lo, hi) = k.arrays[1].init_range.unwrap();
        assert_eq!(lo, hi, "one address");
        assert_eq!(lo % 4, 0, "on the word grid");
        assert!((0..=252).contains(&lo), "{lo}");
        assert!(r.narrowed_arrays.contains(&1), "{r:?}");
        let (mlo, _) = k.arrays[0].init_range.unwrap();
        assert!(mlo >= 1, "mem keeps w + i - 1 >= 0: {mlo}");
        for seed in 0..20 {
            let inputs = crate::interp::random_inputs(&k, seed);
            crate::interp::run(&k, &inputs).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }

    /// A one-element flag that the first iteration clears: the forward pass follows it, so
    /// the op it enables runs in the first iteration only, and the address that op would
    /// push out of range in later iterations is proved in range.
    #[test]
    fn a_flag_cleared_in_the_first_iteration_is_followed() {
        let mut k = Kernel::new("flag", KernelSource::Built);
        k.arrays.push(ArrayDecl {
            width: Width::Byte,
            signed: false,
            ..word("flag", 0, 1, Some((1, 1)))
        });
        k.arrays.push(word("a", 64, 4, Some((0, 15))));
        k.trip_count = 8;
        let f = k.add_node(
            Node::new(Op::Load {
                width: Width::Byte,
                signed: false,
            })
            .with_imm(0)
            .with_array(0),
        );
        let zero = k.add_node(Node::new(Op::Const).with_imm(0));
        let clear = k.add_node(
            Node::new(Op::Store { width: Width::Byte })
                .with_imm(0)
                .with_array(0),
        );
        k.add_edge(zero, clear, Operand::data(0));
        k.add_edge(
            f,
            clear,
            Operand {
                slot: crate::kernel::Slot::Pred { negated: false },
                distance: 0,
                init: 0,
            },
        );
        // i counts 0, 1, ...; `a[i]` is loaded only while the flag is set.
        let i = k.add_node(Node::new(Op::Add).with_imm(4));
        k.add_edge(i, i, Operand::carried(0, 1, -4));
        let la = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_imm(64)
            .with_array(1),
        );
        k.add_edge(i, la, Operand::data(0));
        k.add_edge(
            f,
            la,
            Operand {
                slot: crate::kernel::Slot::Pred { negated: false },
                distance: 0,
                init: 0,
            },
        );
        let r = infer(&k).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.narrowed_arrays.is_empty() && r.narrowed_scalars.is_empty());
        for seed in 0..5 {
            let inputs = crate::interp::random_inputs(&k, seed);
            crate::interp::run(&k, &inputs).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }
}
