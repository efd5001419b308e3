//! Static memory footprint: the bytes of each array that the kernel's memory ops can reach
//! in any run, from an interval analysis of every value over the loop's iterations.
//!
//! A CGRA bank only has to hold the part of an array that the loop can touch: `a[i]` for
//! `i < 32` needs 128 bytes of a 4 KiB array, and a load at a constant address needs one
//! word of the 1 KiB region an importer gave a pointer variable. Mappers size bank
//! capacity (and read-only copies) by [`resident_spans`], the checker verifies capacity
//! with it, and the simulator refuses any run-time access that falls outside it, so an
//! unsound bound shows up as a failed simulation rather than a silently wrong result.
//!
//! The analysis is an abstract interpretation of [`crate::interp::run`] with one interval
//! per value: it runs the iterations one by one (loop-carried operands read the interval of
//! the iteration `distance` earlier, or `init`), so an induction variable's range follows
//! the trip count exactly; past [`EXACT_ITERATIONS`] it joins all iterations and widens
//! any value that keeps growing to the full `i32` range. Values that the analysis cannot
//! bound (scalar live-ins, words loaded from memory, wrapping arithmetic) are the full
//! range; a memory op whose address is unbounded makes the array it names wholly resident.
//! An op with no array named and an unbounded address (a pointer whose target is not known
//! statically) is outside this model, as it is outside the mapping's bank model
//! (`tessera_map::mapping`, "Read-only array replication").

use crate::kernel::{Kernel, Slot};
use crate::op::{Op, Width};
use petgraph::visit::EdgeRef;

/// Iterations analysed one by one before the analysis joins them (keeps the cost at
/// `nodes x 4096` for long loops; every kernel of `workloads/` and the Morpher import
/// default of 32 iterations stays below it).
pub const EXACT_ITERATIONS: u32 = 4096;

/// A closed interval of `i32` values, held in `i64` so that bound arithmetic cannot wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub lo: i64,
    pub hi: i64,
}

impl Interval {
    /// Every `i32`.
    pub const FULL: Interval = Interval {
        lo: i32::MIN as i64,
        hi: i32::MAX as i64,
    };

    pub fn point(v: i32) -> Self {
        Self {
            lo: v as i64,
            hi: v as i64,
        }
    }

    /// `[lo, hi]` when it fits in `i32`, else the full range (the op would wrap).
    pub(crate) fn fit(lo: i64, hi: i64) -> Self {
        if lo >= i32::MIN as i64 && hi <= i32::MAX as i64 {
            Self { lo, hi }
        } else {
            Self::FULL
        }
    }

    pub fn is_full(&self) -> bool {
        *self == Self::FULL
    }

    pub fn join(self, other: Self) -> Self {
        Self {
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
    }

    fn non_negative(&self) -> bool {
        self.lo >= 0
    }

    /// A single known value.
    fn constant(&self) -> Option<i64> {
        (self.lo == self.hi).then_some(self.lo)
    }
}

/// Smallest `2^k - 1` that is at least `v` (for `v >= 0`).
fn mask_above(v: i64) -> i64 {
    let mut m = 0i64;
    while m < v {
        m = m * 2 + 1;
    }
    m
}

/// Interval of an op's result given its operand intervals (immediate already appended).
pub(crate) fn transfer(op: Op, x: &[Interval]) -> Interval {
    use Op::*;
    let a = |i: usize| x.get(i).copied().unwrap_or(Interval::FULL);
    let bool01 = Interval { lo: 0, hi: 1 };
    match op {
        Add => Interval::fit(a(0).lo + a(1).lo, a(0).hi + a(1).hi),
        Sub => Interval::fit(a(0).lo - a(1).hi, a(0).hi - a(1).lo),
        Mul => {
            let (p, q) = (a(0), a(1));
            let c = [p.lo * q.lo, p.lo * q.hi, p.hi * q.lo, p.hi * q.hi];
            Interval::fit(*c.iter().min().unwrap(), *c.iter().max().unwrap())
        }
        And => {
            let (p, q) = (a(0), a(1));
            match (p.non_negative(), q.non_negative()) {
                (true, true) => Interval {
                    lo: 0,
                    hi: p.hi.min(q.hi),
                },
                (true, false) => Interval { lo: 0, hi: p.hi },
                (false, true) => Interval { lo: 0, hi: q.hi },
                (false, false) => Interval::FULL,
            }
        }
        Or | Xor => {
            let (p, q) = (a(0), a(1));
            if p.non_negative() && q.non_negative() {
                Interval {
                    lo: 0,
                    hi: mask_above(p.hi.max(q.hi)),
                }
            } else {
                Interval::FULL
            }
        }
        Shl => match a(1).constant() {
            Some(s) => {
                let s = (s & 31) as u32;
                Interval::fit(a(0).lo << s, a(0).hi << s)
            }
            // A varying shift in 0..=31: the value times 2^s is monotone in s.
            None if a(1).lo >= 0 && a(1).hi <= 31 => {
                let (p, s) = (a(0), a(1));
                let c = [p.lo << s.lo, p.lo << s.hi, p.hi << s.lo, p.hi << s.hi];
                Interval::fit(*c.iter().min().unwrap(), *c.iter().max().unwrap())
            }
            None => Interval::FULL,
        },
        Lshr => match a(1).constant() {
            Some(s) => {
                let s = (s & 31) as u32;
                if a(0).non_negative() {
                    Interval {
                        lo: a(0).lo >> s,
                        hi: a(0).hi >> s,
                    }
                } else if s == 0 {
                    Interval::FULL
                } else {
                    Interval {
                        lo: 0,
                        hi: (u32::MAX >> s) as i64,
                    }
                }
            }
            None if a(0).non_negative() && a(1).lo >= 0 && a(1).hi <= 31 => Interval {
                lo: a(0).lo >> a(1).hi,
                hi: a(0).hi >> a(1).lo,
            },
            None => Interval::FULL,
        },
        Ashr => match a(1).constant() {
            Some(s) => {
                let s = (s & 31) as u32;
                Interval {
                    lo: a(0).lo >> s,
                    hi: a(0).hi >> s,
                }
            }
            None if a(1).lo >= 0 && a(1).hi <= 31 => {
                let (p, s) = (a(0), a(1));
                Interval {
                    lo: (p.lo >> s.lo).min(p.lo >> s.hi),
                    hi: (p.hi >> s.lo).max(p.hi >> s.hi),
                }
            }
            None => Interval::FULL,
        },
        Eq | Ne | Lt | Le | Gt | Ge | Ltu | Geu => {
            // Decided where the intervals decide it (unsigned: both non-negative).
            let (p, q) = (a(0), a(1));
            let yes = |b: bool| Interval::point(b as i32);
            let lt = |p: Interval, q: Interval| {
                if p.hi < q.lo {
                    Some(true)
                } else if p.lo >= q.hi {
                    Some(false)
                } else {
                    None
                }
            };
            let eq = if p.lo == p.hi && q.lo == q.hi && p.lo == q.lo {
                Some(true)
            } else if p.hi < q.lo || q.hi < p.lo {
                Some(false)
            } else {
                None
            };
            let unsigned = p.non_negative() && q.non_negative();
            let r = match op {
                Eq => eq,
                Ne => eq.map(|b| !b),
                Lt => lt(p, q),
                Ge => lt(p, q).map(|b| !b),
                Gt => lt(q, p),
                Le => lt(q, p).map(|b| !b),
                Ltu if unsigned => lt(p, q),
                Geu if unsigned => lt(p, q).map(|b| !b),
                _ => None,
            };
            r.map_or(bool01, yes)
        }
        Min => Interval {
            lo: a(0).lo.min(a(1).lo),
            hi: a(0).hi.min(a(1).hi),
        },
        Max => Interval {
            lo: a(0).lo.max(a(1).lo),
            hi: a(0).hi.max(a(1).hi),
        },
        Abs => {
            let p = a(0);
            if p.lo == i32::MIN as i64 {
                Interval::FULL
            } else if p.non_negative() {
                p
            } else if p.hi <= 0 {
                Interval {
                    lo: -p.hi,
                    hi: -p.lo,
                }
            } else {
                Interval {
                    lo: 0,
                    hi: (-p.lo).max(p.hi),
                }
            }
        }
        Select => a(1).join(a(2)),
        Merge | Move => x
            .iter()
            .copied()
            .reduce(Interval::join)
            .unwrap_or(Interval::FULL),
        Sext8 => Interval { lo: -128, hi: 127 },
        Sext16 => Interval {
            lo: i16::MIN as i64,
            hi: i16::MAX as i64,
        },
        Zext8 => Interval { lo: 0, hi: 255 },
        Zext16 => Interval {
            lo: 0,
            hi: u16::MAX as i64,
        },
        Load { width, signed } => match (width, signed) {
            (Width::Byte, false) => Interval { lo: 0, hi: 255 },
            (Width::Byte, true) => Interval { lo: -128, hi: 127 },
            (Width::Half, false) => Interval {
                lo: 0,
                hi: u16::MAX as i64,
            },
            (Width::Half, true) => Interval {
                lo: i16::MIN as i64,
                hi: i16::MAX as i64,
            },
            (Width::Word, _) => Interval::FULL,
        },
        // A store's result is the value it writes.
        Store { .. } => x.last().copied().unwrap_or(Interval::FULL),
        // Float compares give 0 or 1; other float results are bit patterns.
        FEq | FNe | FLt | FLe => Interval { lo: 0, hi: 1 },
        FAdd | FSub | FMul | FDiv | FNeg | FAbs | FMin | FMax | FToSI | SIToF => Interval::FULL,
        Not | Div | Rem | DivU | RemU | Const | Input(_) => Interval::FULL,
    }
}

/// Per node, its data operands as `(producer, distance, init)` in slot order, and whether
/// it is predicated.
struct Shape {
    order: Vec<usize>,
    data: Vec<Vec<(usize, u32, i32)>>,
    predicated: Vec<bool>,
}

fn shape(kernel: &Kernel) -> Option<Shape> {
    let order = kernel.topo_order().ok()?;
    let n = kernel.node_count();
    let mut data: Vec<Vec<(u8, usize, u32, i32)>> = vec![Vec::new(); n];
    let mut predicated = vec![false; n];
    for e in kernel.graph.edge_references() {
        let o = *e.weight();
        match o.slot {
            Slot::Data(s) => {
                data[e.target().index()].push((s, e.source().index(), o.distance, o.init))
            }
            Slot::Pred { .. } => predicated[e.target().index()] = true,
            Slot::Order => {}
        }
    }
    Some(Shape {
        order: order.iter().map(|v| v.index()).collect(),
        data: data
            .into_iter()
            .map(|mut d| {
                d.sort_by_key(|&(s, src, _, _)| (s, src));
                d.into_iter().map(|(_, s, d, i)| (s, d, i)).collect()
            })
            .collect(),
        predicated,
    })
}

/// The interval of every node's value over every iteration of the loop, indexed by node.
/// `None` when the kernel has a combinational cycle (it does not validate).
pub fn value_ranges(kernel: &Kernel) -> Option<Vec<Interval>> {
    let sh = shape(kernel)?;
    ranges_of(kernel, &sh)
}

/// [`value_ranges`] for the nodes that memory addresses depend on (the others are left at
/// the full range): all that [`access_bytes`] needs, at a fraction of the cost on kernels
/// whose addresses come from a few index computations.
pub fn address_ranges(kernel: &Kernel) -> Option<Vec<Interval>> {
    let mut sh = shape(kernel)?;
    let n = kernel.node_count();
    let mut needed = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    for (id, node) in kernel.nodes() {
        let i = id.index();
        let has_addr = match node.op {
            Op::Load { .. } => !sh.data[i].is_empty(),
            Op::Store { .. } => sh.data[i].len() == 2,
            _ => false,
        };
        if has_addr {
            stack.push(sh.data[i][0].0);
        }
    }
    while let Some(v) = stack.pop() {
        if std::mem::replace(&mut needed[v], true) {
            continue;
        }
        stack.extend(sh.data[v].iter().map(|&(src, _, _)| src));
    }
    sh.order.retain(|&v| needed[v]);
    ranges_of(kernel, &sh)
}

/// The abstract interpretation of [`value_ranges`] over the nodes of `sh.order`.
fn ranges_of(kernel: &Kernel, sh: &Shape) -> Option<Vec<Interval>> {
    let n = kernel.node_count();
    let trip = kernel.trip_count;
    let depth = kernel.max_distance() as usize + 1;
    // Per-iteration intervals in a ring of `depth` rows; `all` joins every iteration.
    let mut rows = vec![Interval::point(0); n * depth];
    let mut all: Vec<Option<Interval>> = vec![None; n];
    let mut args: Vec<Interval> = Vec::with_capacity(8);
    let eval = |i: usize, args: &mut Vec<Interval>, read: &dyn Fn(usize, u32, i32) -> Interval| {
        let node = &kernel.graph[petgraph::graph::NodeIndex::new(i)];
        args.clear();
        for &(src, d, init) in &sh.data[i] {
            args.push(read(src, d, init));
        }
        let v = match node.op {
            Op::Const => Interval::point(node.imm.unwrap_or(0)),
            Op::Input(_) => Interval::FULL,
            op => {
                if let Some(imm) = node.imm
                    && !op.is_memory()
                    && args.len() < op.arity().max
                {
                    args.push(Interval::point(imm));
                }
                transfer(op, args)
            }
        };
        // A squashed node yields 0.
        if sh.predicated[i] {
            v.join(Interval::point(0))
        } else {
            v
        }
    };
    let exact = trip.min(EXACT_ITERATIONS);
    for k in 0..exact {
        let row = (k as usize % depth) * n;
        for &i in &sh.order {
            let read = |src: usize, d: u32, init: i32| -> Interval {
                if d == 0 {
                    rows[row + src]
                } else if k < d {
                    Interval::point(init)
                } else {
                    rows[((k - d) as usize % depth) * n + src]
                }
            };
            let v = eval(i, &mut args, &read);
            rows[row + i] = v;
            all[i] = Some(all[i].map_or(v, |a| a.join(v)));
        }
    }
    if trip > exact {
        // Join all iterations: a carried operand reads anything its producer produced (or
        // its init); values that still grow are widened to the full range.
        let mut joined: Vec<Interval> = all.iter().map(|a| a.unwrap_or(Interval::FULL)).collect();
        loop {
            let mut grew = false;
            for &i in &sh.order {
                let snapshot = &joined;
                let read = |src: usize, d: u32, init: i32| -> Interval {
                    if d == 0 {
                        snapshot[src]
                    } else {
                        snapshot[src].join(Interval::point(init))
                    }
                };
                let v = eval(i, &mut args, &read).join(joined[i]);
                if v != joined[i] {
                    joined[i] = Interval::FULL;
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
        return Some(joined);
    }
    Some(
        all.into_iter()
            .map(|a| a.unwrap_or(Interval::FULL))
            .collect(),
    )
}

/// Bytes a memory op may touch (`[lo, hi]`, inclusive), or `None` when its address is
/// unbounded. `ranges` comes from [`value_ranges`].
pub fn access_bytes(kernel: &Kernel, ranges: &[Interval], node: usize) -> Option<(u32, u32)> {
    let id = petgraph::graph::NodeIndex::new(node);
    let n = &kernel.graph[id];
    let width = match n.op {
        Op::Load { width, .. } | Op::Store { width } => width,
        _ => return None,
    };
    let mut data: Vec<(u8, usize)> = kernel
        .graph
        .edges_directed(id, petgraph::Direction::Incoming)
        .filter_map(|e| match e.weight().slot {
            Slot::Data(s) => Some((s, e.source().index())),
            _ => None,
        })
        .collect();
    data.sort();
    let has_addr = match n.op {
        Op::Load { .. } => !data.is_empty(),
        _ => data.len() == 2,
    };
    let imm = n.imm.unwrap_or(0) as i64;
    let addr = if has_addr {
        let base = *ranges.get(data[0].1)?;
        if base.is_full() {
            return None;
        }
        Interval::fit(base.lo + imm, base.hi + imm)
    } else {
        Interval { lo: imm, hi: imm }
    };
    // Negative addresses wrap to the top of the 32-bit space, past every array.
    if addr.is_full() || addr.hi < 0 {
        return None;
    }
    let lo = addr.lo.max(0);
    let hi = addr.hi + width.bytes() as i64 - 1;
    Some((lo as u32, hi.min(u32::MAX as i64) as u32))
}

/// Per array, the span of bytes (`[lo, hi]`, absolute addresses, inclusive) that memory ops
/// may touch: the join, over every memory op, of its reachable bytes within the array, and
/// the whole array for an op that names it with an unbounded address. `None`: nothing
/// reaches the array (or only ops with no array named and an unbounded address).
pub fn resident_spans(kernel: &Kernel) -> Vec<Option<(u32, u32)>> {
    resident_spans_with(kernel, address_ranges(kernel).as_deref())
}

/// [`resident_spans`] from ranges already computed ([`address_ranges`]; `None`: no analysis).
pub fn resident_spans_with(
    kernel: &Kernel,
    ranges: Option<&[Interval]>,
) -> Vec<Option<(u32, u32)>> {
    let arrays = &kernel.arrays;
    let mut spans: Vec<Option<(u32, u32)>> = vec![None; arrays.len()];
    let whole = |a: usize| (arrays[a].base, arrays[a].end().saturating_sub(1));
    let Some(ranges) = ranges else {
        // No analysis: every array a memory op names is wholly resident.
        for (_, node) in kernel.nodes() {
            if let Some(a) = node.array.map(|a| a as usize).filter(|&a| a < arrays.len())
                && node.op.is_memory()
            {
                spans[a] = Some(whole(a));
            }
        }
        return spans;
    };
    let mut add = |a: usize, lo: u32, hi: u32| {
        spans[a] = Some(match spans[a] {
            Some((l, h)) => (l.min(lo), h.max(hi)),
            None => (lo, hi),
        });
    };
    for (id, node) in kernel.nodes() {
        if !node.op.is_memory() {
            continue;
        }
        match access_bytes(kernel, ranges, id.index()) {
            Some((lo, hi)) => {
                for (a, decl) in arrays.iter().enumerate() {
                    if decl.size_bytes() == 0 || hi < decl.base || lo >= decl.end() {
                        continue;
                    }
                    add(a, lo.max(decl.base), hi.min(decl.end() - 1));
                }
            }
            None => {
                if let Some(a) = node.array.map(|a| a as usize).filter(|&a| a < arrays.len()) {
                    let (lo, hi) = whole(a);
                    if arrays[a].size_bytes() > 0 {
                        add(a, lo, hi);
                    }
                }
            }
        }
    }
    spans
}

/// Bytes of each array that a bank must hold ([`resident_spans`]; 0 when none).
pub fn resident_bytes(kernel: &Kernel) -> Vec<u64> {
    resident_spans(kernel)
        .into_iter()
        .map(|s| s.map_or(0, |(lo, hi)| hi as u64 - lo as u64 + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{ArrayDecl, ArrayDir, KernelSource, Node, Operand};

    fn array(name: &str, base: u32, len: u32, dir: ArrayDir) -> ArrayDecl {
        ArrayDecl {
            name: name.into(),
            width: Width::Word,
            signed: true,
            len,
            base,
            dir,
            init_range: None,
            elem: Default::default(),
        }
    }

    /// `y[i] = x[i & 7]` for `trip` iterations, plus a load at a constant address.
    fn kernel(trip: u32) -> Kernel {
        let mut k = Kernel::new("t", KernelSource::Built);
        k.trip_count = trip;
        k.arrays.push(array("x", 0, 256, ArrayDir::In));
        k.arrays.push(array("y", 1024, 256, ArrayDir::Out));
        k.arrays.push(array("c", 2048, 256, ArrayDir::In));
        let i = k.add_node(Node::new(Op::Add).with_imm(1));
        k.add_edge(i, i, Operand::carried(0, 1, -1));
        let m = k.add_node(Node::new(Op::And).with_imm(7));
        k.add_edge(i, m, Operand::data(0));
        let off = k.add_node(Node::new(Op::Shl).with_imm(2));
        k.add_edge(m, off, Operand::data(0));
        let ld = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_array(0),
        );
        k.add_edge(off, ld, Operand::data(0));
        let yoff = k.add_node(Node::new(Op::Shl).with_imm(2));
        k.add_edge(i, yoff, Operand::data(0));
        let st = k.add_node(
            Node::new(Op::Store { width: Width::Word })
                .with_imm(1024)
                .with_array(1),
        );
        k.add_edge(yoff, st, Operand::data(0));
        k.add_edge(ld, st, Operand::data(1));
        let c = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_imm(2048 + 40)
            .with_array(2),
        );
        let _ = c;
        k
    }

    #[test]
    fn induction_variable_follows_the_trip_count() {
        let k = kernel(10);
        let r = value_ranges(&k).unwrap();
        assert_eq!(r[0], Interval { lo: 0, hi: 9 });
        assert_eq!(r[1], Interval { lo: 0, hi: 7 });
        assert_eq!(r[2], Interval { lo: 0, hi: 28 });
    }

    #[test]
    fn spans_cover_exactly_the_reachable_bytes() {
        let k = kernel(10);
        let s = resident_spans(&k);
        assert_eq!(s[0], Some((0, 31)), "x[0..8] words");
        assert_eq!(s[1], Some((1024, 1024 + 39)), "y[0..10] words");
        assert_eq!(s[2], Some((2088, 2091)), "one word at a constant address");
        assert_eq!(resident_bytes(&k), vec![32, 40, 4]);
    }

    #[test]
    fn long_loops_are_joined_and_widened() {
        // Past the exact iterations the induction variable keeps growing: widened, so the
        // store to y (address from i) makes y wholly resident; x stays masked.
        let k = kernel(EXACT_ITERATIONS + 5);
        let s = resident_spans(&k);
        assert_eq!(s[0], Some((0, 31)));
        assert_eq!(s[1], Some((1024, 1024 + 1023)));
    }

    #[test]
    fn wrapping_arithmetic_is_unbounded() {
        let x = [Interval::FULL, Interval::point(1)];
        assert!(transfer(Op::Add, &x).is_full());
        let y = [
            Interval { lo: 0, hi: 1 << 20 },
            Interval { lo: 0, hi: 1 << 12 },
        ];
        assert!(transfer(Op::Mul, &y).is_full());
        assert_eq!(
            transfer(Op::Lshr, &[Interval::FULL, Interval::point(24)]),
            Interval { lo: 0, hi: 255 }
        );
        assert_eq!(
            transfer(
                Op::Xor,
                &[Interval { lo: 0, hi: 5 }, Interval { lo: 3, hi: 9 }]
            ),
            Interval { lo: 0, hi: 15 }
        );
    }

    /// Soundness against the interpreter: every value the interpreter computes lies in the
    /// analysed interval (seeded random kernels would be better; the hand kernel covers the
    /// loop-carried path).
    #[test]
    fn interpreter_values_lie_inside_the_ranges() {
        let k = kernel(10);
        let r = value_ranges(&k).unwrap();
        for it in 0..10i64 {
            assert!(r[0].lo <= it && it <= r[0].hi);
            assert!(r[1].lo <= (it & 7) && (it & 7) <= r[1].hi);
        }
    }

    /// The address slice gives every memory op the same bytes as the full analysis, on the
    /// hand kernel and on every bundled kernel.
    #[test]
    fn address_ranges_agree_with_the_full_analysis() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels");
        let mut kernels = vec![kernel(10), kernel(EXACT_ITERATIONS + 5)];
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "tk") {
                kernels.push(crate::load_kernel(&p, &[]).unwrap());
            }
        }
        assert!(kernels.len() > 10);
        for k in &kernels {
            let full = value_ranges(k).unwrap();
            let slice = address_ranges(k).unwrap();
            for (id, node) in k.nodes() {
                if node.op.is_memory() {
                    let i = id.index();
                    assert_eq!(
                        access_bytes(k, &full, i),
                        access_bytes(k, &slice, i),
                        "{} n{i}",
                        k.name
                    );
                }
            }
        }
    }

    /// Comparisons give 0 or 1 where the intervals decide them, else 0..=1; varying shifts
    /// in 0..=31 give the hull of their corners. Checked against every value pair.
    #[test]
    fn comparisons_and_varying_shifts_against_every_pair() {
        let ivs = [
            Interval { lo: -3, hi: -1 },
            Interval { lo: 0, hi: 0 },
            Interval { lo: 0, hi: 4 },
            Interval { lo: 2, hi: 2 },
            Interval { lo: 5, hi: 9 },
        ];
        let shifts = [Interval { lo: 0, hi: 3 }, Interval { lo: 2, hi: 2 }];
        for op in [
            Op::Eq,
            Op::Ne,
            Op::Lt,
            Op::Le,
            Op::Gt,
            Op::Ge,
            Op::Ltu,
            Op::Geu,
        ] {
            for &p in &ivs {
                for &q in &ivs {
                    let r = transfer(op, &[p, q]);
                    let mut seen = Vec::new();
                    for a in p.lo..=p.hi {
                        for b in q.lo..=q.hi {
                            let v = op.eval(&[a as i32, b as i32]).unwrap() as i64;
                            assert!(r.lo <= v && v <= r.hi, "{op} {p:?} {q:?}: {v} not in {r:?}");
                            seen.push(v);
                        }
                    }
                    // Decided when every pair agrees.
                    if seen.iter().all(|&v| v == seen[0])
                        && (op != Op::Ltu && op != Op::Geu || p.lo >= 0 && q.lo >= 0)
                    {
                        assert_eq!((r.lo, r.hi), (seen[0], seen[0]), "{op} {p:?} {q:?}");
                    }
                }
            }
        }
        for op in [Op::Shl, Op::Ashr, Op::Lshr] {
            for &p in &ivs {
                for &s in &shifts {
                    let r = transfer(op, &[p, s]);
                    for a in p.lo..=p.hi {
                        for b in s.lo..=s.hi {
                            let v = op.eval(&[a as i32, b as i32]).unwrap() as i64;
                            assert!(r.lo <= v && v <= r.hi, "{op} {p:?} {s:?}: {v} not in {r:?}");
                        }
                    }
                    if op != Op::Lshr || p.lo >= 0 {
                        assert!(!r.is_full(), "{op} {p:?} {s:?}");
                    }
                }
            }
        }
    }
}
