//! The reference interpreter: runs a kernel iteration by iteration, in topological order,
//! on a byte-addressed little-endian memory image. It is deliberately simple and is the
//! oracle that mappings and simulations are checked against.

use crate::error::IrError;
use crate::kernel::{ArrayDecl, ElemType, Kernel, NodeId, Slot};
use crate::op::{Op, Width};
use petgraph::Direction;
use petgraph::visit::EdgeRef;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

/// Values a kernel runs on: one value per scalar input and the initial contents of every
/// array (element values, in declaration order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub scalars: Vec<i32>,
    pub arrays: Vec<Vec<i32>>,
    /// Seed the inputs were drawn from, if they were drawn.
    pub seed: Option<u64>,
}

/// What a kernel run produced: every output array (final contents) and every live-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outputs {
    pub arrays: Vec<NamedArray>,
    pub live_outs: Vec<(String, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedArray {
    pub name: String,
    pub values: Vec<i32>,
    /// How the values are shown (f32 arrays as floats); the values are the words.
    #[serde(default, skip_serializing_if = "ElemType::is_int")]
    pub elem: ElemType,
}

/// The first difference between two outputs, for error messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Divergence {
    Array {
        array: String,
        index: usize,
        expected: i32,
        actual: i32,
        /// The array's element type (f32 values are shown as floats with their bits).
        #[serde(default, skip_serializing_if = "ElemType::is_int")]
        elem: ElemType,
    },
    LiveOut {
        name: String,
        expected: i32,
        actual: i32,
    },
    Shape(String),
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Divergence::Array {
                array,
                index,
                expected,
                actual,
                elem: ElemType::Int,
            } => write!(f, "{array}[{index}]: expected {expected}, got {actual}"),
            Divergence::Array {
                array,
                index,
                expected,
                actual,
                elem: ElemType::F32,
            } => write!(
                f,
                "{array}[{index}]: expected {} ({:#010X}), got {} ({:#010X})",
                ElemType::F32.show(*expected),
                *expected as u32,
                ElemType::F32.show(*actual),
                *actual as u32
            ),
            Divergence::LiveOut {
                name,
                expected,
                actual,
            } => write!(f, "live-out {name}: expected {expected}, got {actual}"),
            Divergence::Shape(s) => write!(f, "{s}"),
        }
    }
}

impl Outputs {
    /// First value where `actual` differs from `self` (the expected outputs).
    pub fn first_divergence(&self, actual: &Outputs) -> Option<Divergence> {
        if self.arrays.len() != actual.arrays.len()
            || self.live_outs.len() != actual.live_outs.len()
        {
            return Some(Divergence::Shape(format!(
                "expected {} arrays and {} live-outs, got {} and {}",
                self.arrays.len(),
                self.live_outs.len(),
                actual.arrays.len(),
                actual.live_outs.len()
            )));
        }
        for (e, a) in self.arrays.iter().zip(&actual.arrays) {
            for (i, (x, y)) in e.values.iter().zip(&a.values).enumerate() {
                if x != y {
                    return Some(Divergence::Array {
                        array: e.name.clone(),
                        index: i,
                        expected: *x,
                        actual: *y,
                        elem: e.elem,
                    });
                }
            }
            if e.values.len() != a.values.len() {
                return Some(Divergence::Shape(format!(
                    "array {} length differs",
                    e.name
                )));
            }
        }
        for ((n, x), (_, y)) in self.live_outs.iter().zip(&actual.live_outs) {
            if x != y {
                return Some(Divergence::LiveOut {
                    name: n.clone(),
                    expected: *x,
                    actual: *y,
                });
            }
        }
        None
    }
}

/// Seeded random inputs: scalars from their declared range (or their default), arrays from
/// their `init_range` or the full range of their element type.
pub fn random_inputs(kernel: &Kernel, seed: u64) -> Inputs {
    use rand::RngExt;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let scalars = kernel
        .scalars
        .iter()
        .map(|s| match s.random_range {
            // An f32 scalar: a float in its real interval (multiples of 2^-16, as f32
            // arrays' elements).
            Some((lo, hi)) if s.elem.is_float() => random_f32(lo, hi, &mut rng),
            Some((lo, hi)) => rng.random_range(lo..=hi),
            None => s.default,
        })
        .collect();
    let arrays = kernel
        .arrays
        .iter()
        .map(|a| {
            if a.elem.is_float() {
                return random_f32_elements(a, &mut rng);
            }
            let (lo, hi) = a.init_range.unwrap_or_else(|| element_range(a));
            (0..a.len).map(|_| rng.random_range(lo..=hi)).collect()
        })
        .collect();
    Inputs {
        scalars,
        arrays,
        seed: Some(seed),
    }
}

/// Inputs made of the scalar defaults and zeroed arrays.
pub fn default_inputs(kernel: &Kernel) -> Inputs {
    Inputs {
        scalars: kernel.scalars.iter().map(|s| s.default).collect(),
        arrays: kernel
            .arrays
            .iter()
            .map(|a| vec![0; a.len as usize])
            .collect(),
        seed: None,
    }
}

/// Steps per unit of the grid f32 inputs are drawn on: multiples of 2^-16.
const F32_INPUT_STEPS: i64 = 1 << 16;

/// An f32 array's seeded contents: finite floats drawn uniformly from the multiples of
/// 2^-16 in the real interval `init_range` (default `[-1, 1]`), as binary32 words (a value
/// beyond 2^8 in magnitude is rounded to nearest even). Drawn on a grid of integers so the
/// same seed gives the same bits on every host and `rand` version.
fn random_f32_elements(a: &ArrayDecl, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<i32> {
    let (lo, hi) = a.init_range.unwrap_or((-1, 1));
    (0..a.len).map(|_| random_f32(lo, hi, rng)).collect()
}

/// A binary32 value (its bits) drawn among the multiples of 1/`F32_INPUT_STEPS` in
/// `lo..=hi` (real numbers).
fn random_f32(lo: i32, hi: i32, rng: &mut rand_chacha::ChaCha8Rng) -> i32 {
    use rand::RngExt;
    let (lo, hi) = (lo as i64 * F32_INPUT_STEPS, hi as i64 * F32_INPUT_STEPS);
    let k = rng.random_range(lo..=hi);
    ((k as f64 / F32_INPUT_STEPS as f64) as f32).to_bits() as i32
}

fn element_range(a: &ArrayDecl) -> (i32, i32) {
    match (a.width, a.signed) {
        (Width::Byte, true) => (i8::MIN as i32, i8::MAX as i32),
        (Width::Byte, false) => (0, u8::MAX as i32),
        (Width::Half, true) => (i16::MIN as i32, i16::MAX as i32),
        (Width::Half, false) => (0, u16::MAX as i32),
        (Width::Word, _) => (i32::MIN, i32::MAX),
    }
}

/// A byte-addressed memory image holding a kernel's arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub bytes: Vec<u8>,
}

impl Memory {
    /// Lay out the arrays with their initial contents.
    pub fn new(kernel: &Kernel, inputs: &Inputs) -> Result<Self, IrError> {
        check_inputs(kernel, inputs)?;
        let mut bytes = vec![0u8; kernel.memory_size() as usize];
        for (a, vals) in kernel.arrays.iter().zip(&inputs.arrays) {
            let w = a.width.bytes() as usize;
            for (i, v) in vals.iter().enumerate() {
                let at = a.base as usize + i * w;
                bytes[at..at + w].copy_from_slice(&v.to_le_bytes()[..w]);
            }
        }
        Ok(Self { bytes })
    }

    /// Read `width` bytes at `addr` (caller checked bounds).
    #[inline]
    pub fn read(&self, addr: u32, width: Width, signed: bool) -> i32 {
        let a = addr as usize;
        let mut raw = [0u8; 4];
        let w = width.bytes() as usize;
        raw[..w].copy_from_slice(&self.bytes[a..a + w]);
        width.extend(u32::from_le_bytes(raw), signed)
    }

    /// Write the low `width` bytes of `value` at `addr` (caller checked bounds).
    #[inline]
    pub fn write(&mut self, addr: u32, width: Width, value: i32) {
        let a = addr as usize;
        let w = width.bytes() as usize;
        self.bytes[a..a + w].copy_from_slice(&value.to_le_bytes()[..w]);
    }

    /// The final contents of every output array.
    pub fn output_arrays(&self, kernel: &Kernel) -> Vec<NamedArray> {
        kernel
            .arrays
            .iter()
            .filter(|a| a.is_output())
            .map(|a| NamedArray {
                elem: a.elem,
                name: a.name.clone(),
                values: (0..a.len)
                    .map(|i| self.read(a.base + i * a.width.bytes(), a.width, a.signed))
                    .collect(),
            })
            .collect()
    }
}

fn check_inputs(kernel: &Kernel, inputs: &Inputs) -> Result<(), IrError> {
    if inputs.scalars.len() != kernel.scalars.len() {
        return Err(IrError::run(
            &kernel.name,
            format!(
                "expected {} scalar inputs ({}), got {}",
                kernel.scalars.len(),
                kernel
                    .scalars
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                inputs.scalars.len()
            ),
        ));
    }
    if inputs.arrays.len() != kernel.arrays.len() {
        return Err(IrError::run(
            &kernel.name,
            format!(
                "expected {} arrays, got {}",
                kernel.arrays.len(),
                inputs.arrays.len()
            ),
        ));
    }
    for (a, v) in kernel.arrays.iter().zip(&inputs.arrays) {
        if v.len() != a.len as usize {
            return Err(IrError::run(
                &kernel.name,
                format!(
                    "array `{}` has {} elements, input gives {}",
                    a.name,
                    a.len,
                    v.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Check that a memory access lies inside one declared array; returns a readable error.
pub fn check_access(
    kernel: &Kernel,
    node: NodeId,
    iteration: u32,
    addr: u32,
    width: Width,
) -> Result<(), IrError> {
    if kernel.array_at(addr, width.bytes()).is_some() {
        return Ok(());
    }
    let n = kernel.node(node);
    let hint = n
        .array
        .and_then(|a| kernel.arrays.get(a as usize))
        .map(|a| {
            let idx = (addr as i64 - a.base as i64) / a.width.bytes() as i64;
            format!(" (array `{}` index {idx}, valid 0..{})", a.name, a.len)
        })
        .unwrap_or_default();
    Err(IrError::run(
        &kernel.name,
        format!(
            "out-of-range {} at byte address {addr}{hint} by node {} `{}` in iteration {iteration}",
            if n.op.is_store() { "store" } else { "load" },
            node.index(),
            n.label
        ),
    ))
}

/// A compiled form of the kernel for the interpreter: per node, its op, immediate and
/// operand sources in slot order, and the evaluation order.
struct Plan {
    order: Vec<NodeId>,
    /// For each node: (producer index, distance, init) per data operand in slot order.
    data: Vec<Vec<(usize, u32, i32)>>,
    /// For each node: predicate (producer, distance, init, negated).
    pred: Vec<Option<(usize, u32, i32, bool)>>,
}

fn plan(kernel: &Kernel) -> Result<Plan, IrError> {
    kernel.validate()?;
    let order = kernel.topo_order()?;
    let n = kernel.node_count();
    let mut data = vec![Vec::new(); n];
    let mut pred = vec![None; n];
    for id in kernel.graph.node_indices() {
        let mut ins: Vec<_> = kernel
            .graph
            .edges_directed(id, Direction::Incoming)
            .map(|e| (e.source().index(), *e.weight()))
            .collect();
        ins.sort_by_key(|(_, o)| o.slot);
        for (src, o) in ins {
            match o.slot {
                Slot::Data(_) => data[id.index()].push((src, o.distance, o.init)),
                Slot::Pred { negated } => {
                    pred[id.index()] = Some((src, o.distance, o.init, negated))
                }
                Slot::Order => {}
            }
        }
    }
    Ok(Plan { order, data, pred })
}

/// Run a kernel on inputs and return its outputs.
pub fn run(kernel: &Kernel, inputs: &Inputs) -> Result<Outputs, IrError> {
    let plan = plan(kernel)?;
    let mut mem = Memory::new(kernel, inputs)?;
    let n = kernel.node_count();
    // Values of the last `depth` iterations, ring-buffered; `valid` tracks predication.
    let depth = kernel.max_distance() as usize + 1;
    let mut vals = vec![0i32; n * depth];
    let mut valid = vec![true; n * depth];
    let mut args: Vec<i32> = Vec::with_capacity(8);
    let mut arg_valid: Vec<bool> = Vec::with_capacity(8);
    for k in 0..kernel.trip_count {
        let row = (k as usize % depth) * n;
        let read =
            |src: usize, dist: u32, init: i32, vals: &[i32], valid: &[bool]| -> (i32, bool) {
                if dist == 0 {
                    (vals[row + src], valid[row + src])
                } else if k < dist {
                    (init, true)
                } else {
                    let r = ((k - dist) as usize % depth) * n;
                    (vals[r + src], valid[r + src])
                }
            };
        for &id in &plan.order {
            let i = id.index();
            let node = &kernel.graph[id];
            let enabled = match plan.pred[i] {
                None => true,
                Some((src, d, init, negated)) => {
                    let (p, ok) = read(src, d, init, &vals, &valid);
                    ok && ((p != 0) != negated)
                }
            };
            if !enabled {
                vals[row + i] = 0;
                valid[row + i] = false;
                continue;
            }
            args.clear();
            arg_valid.clear();
            for &(src, d, init) in &plan.data[i] {
                let (v, ok) = read(src, d, init, &vals, &valid);
                args.push(v);
                arg_valid.push(ok);
            }
            let value = match node.op {
                Op::Const => node.imm.unwrap_or(0),
                Op::Input(s) => inputs.scalars[s as usize],
                Op::Load { width, signed } => {
                    let addr = args
                        .first()
                        .copied()
                        .unwrap_or(0)
                        .wrapping_add(node.imm.unwrap_or(0)) as u32;
                    check_access(kernel, id, k, addr, width)?;
                    mem.read(addr, width, signed)
                }
                Op::Store { width } => {
                    let (addr, v) = if args.len() == 2 {
                        (args[0].wrapping_add(node.imm.unwrap_or(0)) as u32, args[1])
                    } else {
                        (node.imm.unwrap_or(0) as u32, args[0])
                    };
                    check_access(kernel, id, k, addr, width)?;
                    mem.write(addr, width, v);
                    v
                }
                Op::Merge => {
                    let pick = arg_valid
                        .iter()
                        .position(|ok| *ok)
                        .unwrap_or(args.len() - 1);
                    args[pick]
                }
                op => {
                    if let Some(imm) = node.imm
                        && args.len() < op.arity().max
                    {
                        args.push(imm);
                    }
                    op.eval(&args).expect("compute op")
                }
            };
            vals[row + i] = value;
            valid[row + i] = true;
        }
    }
    let last_row = if kernel.trip_count == 0 {
        None
    } else {
        Some(((kernel.trip_count - 1) as usize % depth) * n)
    };
    let live_outs = kernel
        .live_outs
        .iter()
        .map(|lo| {
            let v = match last_row {
                Some(r) => vals[r + lo.node.index()],
                None => lo.init,
            };
            (lo.name.clone(), v)
        })
        .collect();
    Ok(Outputs {
        arrays: mem.output_arrays(kernel),
        live_outs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{ArrayDir, KernelSource, LiveOut, Node, Operand, ScalarDecl};

    /// s = sum(x[i] * a) over i in 0..n, built by hand: the induction variable is an Add
    /// with a carried self edge, the sum a carried Add.
    fn scaled_sum(n: u32) -> Kernel {
        let mut k = Kernel::new("scaled_sum", KernelSource::Built);
        k.trip_count = n;
        k.arrays.push(ArrayDecl {
            name: "x".into(),
            width: Width::Word,
            signed: true,
            len: n,
            base: 0,
            dir: ArrayDir::In,
            init_range: Some((-100, 100)),
            elem: Default::default(),
        });
        k.scalars.push(ScalarDecl {
            name: "a".into(),
            default: 3,
            random_range: None,
            elem: Default::default(),
        });
        let i = k.add_node(Node::new(Op::Add).with_imm(1).with_label("i"));
        k.add_edge(i, i, Operand::carried(0, 1, -1));
        let off = k.add_node(Node::new(Op::Shl).with_imm(2));
        k.add_edge(i, off, Operand::data(0));
        let ld = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_imm(0)
            .with_array(0),
        );
        k.add_edge(off, ld, Operand::data(0));
        let a = k.add_node(Node::new(Op::Input(0)));
        let m = k.add_node(Node::new(Op::Mul));
        k.add_edge(ld, m, Operand::data(0));
        k.add_edge(a, m, Operand::data(1));
        let s = k.add_node(Node::new(Op::Add).with_label("s"));
        k.add_edge(s, s, Operand::carried(0, 1, 0));
        k.add_edge(m, s, Operand::data(1));
        k.live_outs.push(LiveOut {
            name: "s".into(),
            node: s,
            init: 0,
        });
        k
    }

    /// The same shape in f32: s = sum(x[i] * x[i]) with FMul and a carried FAdd.
    fn f32_sum_of_squares(n: u32) -> Kernel {
        let mut k = scaled_sum(n);
        k.name = "f32_sum_of_squares".into();
        k.arrays[0].elem = crate::kernel::ElemType::F32;
        k.arrays[0].init_range = None;
        let ids: Vec<NodeId> = k.graph.node_indices().collect();
        // Nodes of scaled_sum: i, off, ld, a, m, s.
        let (ld, m, s) = (ids[2], ids[4], ids[5]);
        k.graph[m].op = Op::FMul;
        k.graph[s].op = Op::FAdd;
        let e = k.graph.find_edge(ids[3], m).unwrap();
        k.graph.remove_edge(e);
        k.add_edge(ld, m, Operand::data(1));
        k.scalars.clear();
        // Removing node 3 moves the last node (s) into its index.
        k.graph.remove_node(ids[3]);
        k.live_outs[0].node = ids[3];
        k
    }

    #[test]
    fn f32_inputs_are_finite_and_the_sum_matches_plain_rust() {
        let k = f32_sum_of_squares(50);
        k.validate().unwrap();
        for seed in [1, 2, 3] {
            let inputs = random_inputs(&k, seed);
            let xs: Vec<f32> = inputs.arrays[0]
                .iter()
                .map(|&w| f32::from_bits(w as u32))
                .collect();
            assert!(xs.iter().all(|x| x.is_finite() && (-1.0..=1.0).contains(x)));
            // Not all equal, not all integers: really drawn from the interval.
            assert!(xs.iter().any(|x| x.fract() != 0.0));
            let expected = xs.iter().fold(0.0f32, |s, x| s + x * x);
            let out = run(&k, &inputs).unwrap();
            assert_eq!(out.live_outs[0].1, expected.to_bits() as i32, "seed {seed}");
        }
    }

    #[test]
    fn f32_divergence_is_shown_as_floats_with_bits() {
        let d = Divergence::Array {
            array: "y".into(),
            index: 3,
            expected: 1.5f32.to_bits() as i32,
            actual: 0x7FC0_0000,
            elem: ElemType::F32,
        };
        assert_eq!(
            d.to_string(),
            "y[3]: expected 1.5 (0x3FC00000), got NaN (0x7FC00000)"
        );
    }

    #[test]
    fn carried_sum_matches_plain_rust() {
        let k = scaled_sum(37);
        k.validate().unwrap();
        for seed in [1, 2, 3] {
            let inputs = random_inputs(&k, seed);
            let out = run(&k, &inputs).unwrap();
            let expect = inputs.arrays[0].iter().fold(0i32, |s, x| {
                s.wrapping_add(x.wrapping_mul(inputs.scalars[0]))
            });
            assert_eq!(out.live_outs, vec![("s".to_string(), expect)]);
        }
    }

    #[test]
    fn zero_trip_count_gives_the_initial_value() {
        let mut k = scaled_sum(4);
        k.trip_count = 0;
        let out = run(&k, &random_inputs(&k, 1)).unwrap();
        assert_eq!(out.live_outs[0].1, 0);
    }

    #[test]
    fn out_of_range_access_is_an_error_naming_array_and_index() {
        let mut k = scaled_sum(8);
        k.trip_count = 9;
        let err = run(&k, &random_inputs(&k, 1)).unwrap_err().to_string();
        assert!(err.contains("array `x` index 8, valid 0..8"), "{err}");
        assert!(err.contains("iteration 8"), "{err}");
    }

    #[test]
    fn combinational_cycle_is_refused() {
        let mut k = Kernel::new("cyc", KernelSource::Built);
        let a = k.add_node(Node::new(Op::Add).with_imm(1));
        let b = k.add_node(Node::new(Op::Add).with_imm(1));
        k.add_edge(a, b, Operand::data(0));
        k.add_edge(b, a, Operand::data(0));
        let err = k.validate().unwrap_err().to_string();
        assert!(err.contains("cycle without a loop-carried edge"), "{err}");
        // The same cycle with a carried edge is a legal recurrence.
        let e = k.graph.find_edge(b, a).unwrap();
        k.graph[e].distance = 1;
        k.validate().unwrap();
        assert_eq!(k.nodes_on_recurrences().len(), 2);
    }

    #[test]
    fn predicated_store_and_merge() {
        // y[i] = x[i] if x[i] > 0 (else y keeps its value); m = x[i] > 0 ? x[i] : -1 via Merge.
        let n = 16;
        let mut k = Kernel::new("pred", KernelSource::Built);
        k.trip_count = n;
        for (name, base, dir) in [("x", 0, ArrayDir::In), ("y", 64, ArrayDir::InOut)] {
            k.arrays.push(ArrayDecl {
                name: name.into(),
                width: Width::Word,
                signed: true,
                len: n,
                base,
                dir,
                init_range: Some((-5, 5)),
                elem: Default::default(),
            });
        }
        let i = k.add_node(Node::new(Op::Add).with_imm(1));
        k.add_edge(i, i, Operand::carried(0, 1, -1));
        let off = k.add_node(Node::new(Op::Shl).with_imm(2));
        k.add_edge(i, off, Operand::data(0));
        let ld = k.add_node(
            Node::new(Op::Load {
                width: Width::Word,
                signed: true,
            })
            .with_imm(0)
            .with_array(0),
        );
        k.add_edge(off, ld, Operand::data(0));
        let pos = k.add_node(Node::new(Op::Gt).with_imm(0));
        k.add_edge(ld, pos, Operand::data(0));
        let st = k.add_node(
            Node::new(Op::Store { width: Width::Word })
                .with_imm(64)
                .with_array(1),
        );
        k.add_edge(off, st, Operand::data(0));
        k.add_edge(ld, st, Operand::data(1));
        k.add_edge(
            pos,
            st,
            Operand {
                slot: Slot::Pred { negated: false },
                distance: 0,
                init: 0,
            },
        );
        let mv = k.add_node(Node::new(Op::Move));
        k.add_edge(ld, mv, Operand::data(0));
        k.add_edge(
            pos,
            mv,
            Operand {
                slot: Slot::Pred { negated: false },
                distance: 0,
                init: 0,
            },
        );
        let neg1 = k.add_node(Node::new(Op::Const).with_imm(-1));
        let merge = k.add_node(Node::new(Op::Merge));
        k.add_edge(mv, merge, Operand::data(0));
        k.add_edge(neg1, merge, Operand::data(1));
        k.live_outs.push(LiveOut {
            name: "m".into(),
            node: merge,
            init: 0,
        });
        let inputs = random_inputs(&k, 7);
        let out = run(&k, &inputs).unwrap();
        let (x, y0) = (&inputs.arrays[0], &inputs.arrays[1]);
        let y: Vec<i32> = x
            .iter()
            .zip(y0)
            .map(|(x, y)| if *x > 0 { *x } else { *y })
            .collect();
        assert_eq!(out.arrays[0].values, y);
        let last = x[n as usize - 1];
        assert_eq!(out.live_outs[0].1, if last > 0 { last } else { -1 });
    }
}
