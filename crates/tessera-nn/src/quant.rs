//! Quantisation and integer inference.
//!
//! * Weights: symmetric, per output channel. Ternary weights follow Ternary Weight Networks
//!   (Li, Zhang & Liu, "Ternary Weight Networks", arXiv:1605.04711, 2016): threshold
//!   `delta = 0.7 * mean|w|` per channel, scale `alpha = mean{|w| : |w| > delta}`, values
//!   {-1, 0, +1}. `b`-bit integers use the range `[-2^(b-1), 2^(b-1) - 1]` with the
//!   per-channel scale that minimises the squared rounding error over a grid of clipping
//!   ratios (our choice; [`SCALE_GRID`] points between 0.2 and 1 of max|w|).
//! * Activations: zero point 0 (symmetric); after ReLU / ReLU6 unsigned `[0, 2^b - 1]`,
//!   otherwise signed `[-2^(b-1), 2^(b-1) - 1]`; the scale is the calibrated maximum over
//!   the training split divided by the largest level. The network input (normalised to
//!   [0, 1]) uses the fixed scale `1 / (2^b - 1)`.
//! * Integer inference follows Jacob et al., "Quantization and Training of Neural Networks
//!   for Efficient Integer-Arithmetic-Only Inference" (CVPR 2018), with zero points fixed
//!   at 0: integer weights and activations, integer accumulation (int32 range for operands
//!   up to 8 bits; the accumulator is kept in i64 so that 16-bit layers cannot overflow),
//!   biases as integers at scale `s_w * s_in`, and requantisation by a fixed-point
//!   multiplier (a Q31 integer and a right shift, [`FixedMul`]) to the next layer's scale.
//!   Hard-swish runs in Q12 fixed point. The classifier's logits are compared at
//!   accumulator precision (each channel rescaled to a common scale by a fixed-point
//!   multiplier with 16 extra fraction bits), so no class loses to a rounding tie.

use crate::genotype::{Activation, BitWidth, ConvGeom, NodeKind, Plan, PoolKind};
use crate::net::{ActQuant, FakeQuant, Params};
use serde::{Deserialize, Serialize};

/// Clipping ratios tried when choosing a weight scale (see the module docs).
pub const SCALE_GRID: usize = 64;

/// Fraction bits of hard-swish's fixed-point intermediate.
const HSWISH_FRAC: u32 = 12;

/// Extra fraction bits of the classifier's rescaled logits.
const LOGIT_FRAC: u32 = 16;

/// One layer's quantised weights: integer values (`k x n`, same layout as the float
/// weights) and a scale per output channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantWeights {
    pub q: Vec<i32>,
    pub scale: Vec<f32>,
}

impl QuantWeights {
    pub fn dequantize(&self, n: usize) -> Vec<f32> {
        self.q
            .iter()
            .enumerate()
            .map(|(i, &q)| q as f32 * self.scale[i % n])
            .collect()
    }
}

fn int_range(bits: u32) -> (i32, i32) {
    (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
}

/// Quantise a `k x n` weight matrix per output channel (column) to `bw`; `None` for float.
pub fn quantize_weights(w: &[f32], k: usize, n: usize, bw: BitWidth) -> Option<QuantWeights> {
    let scales = weight_scales(w, k, n, bw)?;
    quantize_with_scales(w, k, n, bw, &scales)
}

/// Per-channel scales: TWN's alpha for ternary, the MSE-best clipping for integers.
pub fn weight_scales(w: &[f32], k: usize, n: usize, bw: BitWidth) -> Option<Vec<f32>> {
    let bits = bw.bits()?;
    let col = |c: usize| (0..k).map(move |r| r * n + c);
    let mut scale = vec![0f32; n];
    for (c, sc) in scale.iter_mut().enumerate() {
        if bw == BitWidth::Ternary {
            let delta = twn_delta(w, k, n, c);
            let (mut sum, mut cnt) = (0.0f32, 0usize);
            for i in col(c) {
                if w[i].abs() > delta {
                    sum += w[i].abs();
                    cnt += 1;
                }
            }
            *sc = if cnt > 0 {
                (sum / cnt as f32).max(f32::MIN_POSITIVE)
            } else {
                1.0
            };
            continue;
        }
        let (lo, hi) = int_range(bits);
        let max_abs = col(c).map(|i| w[i].abs()).fold(0.0f32, f32::max);
        if max_abs == 0.0 {
            *sc = 1.0;
            continue;
        }
        let column: Vec<f32> = col(c).map(|i| w[i]).collect();
        let err_of = |s: f32| {
            column
                .iter()
                .map(|&x| {
                    let qq = round_ties_away(x / s).clamp(lo as f32, hi as f32);
                    let d = qq * s - x;
                    d * d
                })
                .sum::<f32>()
        };
        let mut best = (f32::INFINITY, max_abs / hi as f32);
        for g in 0..SCALE_GRID {
            let ratio = 1.0 - 0.8 * g as f32 / (SCALE_GRID - 1) as f32;
            let s = ratio * max_abs / hi as f32;
            let e = err_of(s);
            if e < best.0 {
                best = (e, s);
            }
        }
        *sc = best.1;
    }
    Some(scale)
}

/// The largest magnitude in `v` (0 for an empty slice), over eight independent lanes so
/// that it vectorises; a maximum does not depend on the order of its operands.
fn max_abs(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l = l.max(x.abs());
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0.0f32, |a, x| a.max(x.abs()));
    lanes.iter().fold(tail, |a, &l| a.max(l))
}

/// `x.round()` (halves away from zero), bit for bit, without the libm call that `round`
/// compiles to on baseline x86-64: the quantisers call it for every weight and activation.
#[inline]
pub(crate) fn round_ties_away(x: f32) -> f32 {
    // |x| >= 2^23 is already an integer (and NaN stays NaN), as with `round`.
    if x.is_nan() || x.abs() >= 8_388_608.0 {
        return x;
    }
    let t = (x as i32 as f32).copysign(x); // truncation, keeping the sign of -0.0
    let f = x - t; // exact (Sterbenz)
    if f >= 0.5 {
        t + 1.0
    } else if f <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// TWN's threshold of channel `c`: 0.7 * mean|w|.
fn twn_delta(w: &[f32], k: usize, n: usize, c: usize) -> f32 {
    0.7 * (0..k).map(|r| w[r * n + c].abs()).sum::<f32>() / k as f32
}

/// Quantise with given per-channel scales (ternary: TWN threshold, levels {-1, 0, 1}).
pub fn quantize_with_scales(
    w: &[f32],
    k: usize,
    n: usize,
    bw: BitWidth,
    scale: &[f32],
) -> Option<QuantWeights> {
    let bits = bw.bits()?;
    let mut q = vec![0i32; k * n];
    for c in 0..n {
        if bw == BitWidth::Ternary {
            let delta = twn_delta(w, k, n, c);
            for r in 0..k {
                let v = w[r * n + c];
                q[r * n + c] = if v > delta {
                    1
                } else if v < -delta {
                    -1
                } else {
                    0
                };
            }
        } else {
            let (lo, hi) = int_range(bits);
            for r in 0..k {
                q[r * n + c] =
                    round_ties_away(w[r * n + c] / scale[c]).clamp(lo as f32, hi as f32) as i32;
            }
        }
    }
    Some(QuantWeights {
        q,
        scale: scale.to_vec(),
    })
}

/// The quantiser of a tensor with the given maximum magnitude.
pub fn act_quant(bw: BitWidth, unsigned: bool, max_abs: f32) -> Option<ActQuant> {
    let bits = bw.bits()?;
    let (lo, hi) = if unsigned {
        (0, ((1i64 << bits) - 1) as i32)
    } else {
        int_range(bits)
    };
    let scale = if max_abs > 0.0 && max_abs.is_finite() {
        max_abs / hi as f32
    } else {
        1.0 / hi as f32
    };
    Some(ActQuant { scale, lo, hi })
}

/// Whether node `i`'s output is unsigned, and which node's quantiser it shares (pooling
/// and residual starts keep their input's scale).
fn output_owner(plan: &Plan, i: usize) -> Option<usize> {
    let n = &plan.nodes[i];
    match n.kind {
        NodeKind::Conv(_) | NodeKind::Fc { .. } | NodeKind::ResEnd => Some(i),
        _ => {
            if i == 0 {
                None
            } else {
                output_owner(plan, i - 1)
            }
        }
    }
}

fn unsigned_output(plan: &Plan, i: usize) -> bool {
    match output_owner(plan, i) {
        Some(o) => plan.nodes[o].act.non_negative(),
        None => true, // the network input is in [0, 1]
    }
}

/// The quantisers of a network: calibrated activation maxima (one per node) and the
/// resulting fake quantisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Maximum |output| of each node over the calibration samples.
    pub max_abs: Vec<f32>,
}

/// Run `forward` over the rows and record each node's maximum |output|.
pub fn calibrate(
    plan: &Plan,
    params: &Params,
    fq: Option<&FakeQuant>,
    x: &[f32],
    n: usize,
) -> Calibration {
    use rayon::prelude::*;
    let size = plan.input.h * plan.input.w * plan.input.c;
    const CHUNK: usize = 64;
    let parts: Vec<Vec<f32>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let lo = c * CHUNK;
            let hi = (lo + CHUNK).min(n);
            let mut mx = vec![0.0f32; plan.nodes.len()];
            crate::net::forward_observed(
                plan,
                params,
                fq,
                &x[lo * size..hi * size],
                hi - lo,
                &mut |i, out| mx[i] = mx[i].max(max_abs(out)),
            );
            mx
        })
        .collect();
    let mut max_abs = vec![0.0f32; plan.nodes.len()];
    for p in parts {
        for (a, b) in max_abs.iter_mut().zip(p) {
            *a = a.max(b);
        }
    }
    Calibration { max_abs }
}

/// Fake quantisation of a network from its weights and a calibration.
pub fn fake_quant(plan: &Plan, params: &Params, cal: &Calibration) -> FakeQuant {
    let mut fq = act_only(plan, cal);
    for node in &plan.nodes {
        if let Some(pi) = node.param {
            let p = &params.layers[pi];
            fq.weights[pi] =
                quantize_weights(&p.w, p.k, p.n, node.weight_bits).map(|q| q.dequantize(p.n));
        }
    }
    fq
}

/// Fake quantisation of the activations only (weights float).
pub fn act_only(plan: &Plan, cal: &Calibration) -> FakeQuant {
    let weights = vec![None; plan.params];
    let mut acts = vec![None; plan.nodes.len()];
    for (i, node) in plan.nodes.iter().enumerate() {
        if output_owner(plan, i) == Some(i) {
            let max = if node.act == Activation::Relu6 {
                cal.max_abs[i].min(6.0)
            } else {
                cal.max_abs[i]
            };
            acts[i] = act_quant(node.act_bits, unsigned_output(plan, i), max);
        }
    }
    // Pooling and residual starts use their owner's quantiser (average pooling re-rounds).
    for i in 0..plan.nodes.len() {
        if let Some(o) = output_owner(plan, i)
            && o != i
        {
            acts[i] = acts[o];
        } else if output_owner(plan, i).is_none() {
            acts[i] = input_quant(plan);
        }
    }
    FakeQuant {
        input: input_quant(plan),
        weights,
        acts,
    }
}

/// The input quantiser: unsigned, scale `1 / (2^bits - 1)` on inputs in [0, 1].
pub fn input_quant(plan: &Plan) -> Option<ActQuant> {
    act_quant(plan.input_bits, true, 1.0)
}

/// A real multiplier as a Q31 integer `m` in [2^30, 2^31) and a right shift: `x * M` is
/// `round(x * m / 2^shift)` (Jacob et al. 2018, section 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedMul {
    pub m: i32,
    pub shift: i32,
}

impl FixedMul {
    pub fn new(real: f64) -> FixedMul {
        if !(real.is_finite() && real > 0.0) {
            return FixedMul { m: 0, shift: 0 };
        }
        // real = f * 2^e with f in [0.5, 1).
        let e = real.log2().floor() as i32 + 1;
        let f = real / 2f64.powi(e);
        let mut m = (f * 2f64.powi(31)).round() as i64;
        let mut e = e;
        if m >= 1 << 31 {
            m /= 2;
            e += 1;
        }
        FixedMul {
            m: m as i32,
            shift: 31 - e,
        }
    }

    /// `round(x * M)`, rounding half away from zero, in exact integer arithmetic.
    #[inline]
    pub fn apply(&self, x: i64) -> i64 {
        let p = i128::from(x) * i128::from(self.m);
        let s = self.shift;
        let r = if s <= 0 {
            p << (-s).min(64)
        } else if s >= 126 {
            0
        } else {
            let half = 1i128 << (s - 1);
            if p >= 0 {
                (p + half) >> s
            } else {
                -((-p + half) >> s)
            }
        };
        r.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// One node of the integer network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IntNode {
    Mac {
        /// Integer weights, `k x n`.
        w: Vec<i32>,
        k: usize,
        n: usize,
        /// Biases at scale `s_w * s_in` per channel.
        bias: Vec<i64>,
        /// Per channel: accumulator to output levels (or, for hard-swish, to Q12; for the
        /// classifier, to a common logit scale with 16 extra fraction bits).
        mul: Vec<FixedMul>,
        /// Hard-swish only: Q12 to output levels.
        post: Option<FixedMul>,
        act: Activation,
        lo: i64,
        hi: i64,
        /// ReLU6's upper clamp in output levels.
        six: i64,
        classifier: bool,
    },
    MaxPool,
    AvgPool,
    GlobalAvgPool,
    ResBegin,
    ResEnd {
        branch: FixedMul,
        skip: FixedMul,
        act: Activation,
        lo: i64,
        hi: i64,
    },
}

/// A network in integer arithmetic: what the accuracy that counts is measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntModel {
    pub plan: Plan,
    pub input: ActQuant,
    pub nodes: Vec<IntNode>,
    /// Output scale of each node (real value = level * scale).
    pub scales: Vec<f32>,
}

/// Why a network cannot run in integers.
pub fn integer_blocker(plan: &Plan) -> Option<String> {
    if plan.all_integer() {
        None
    } else {
        Some("some layer is Float; integer inference needs integer bit-widths everywhere".into())
    }
}

impl IntModel {
    /// Convert trained weights and calibrated quantisers; `None` when a layer is Float.
    pub fn build(plan: &Plan, params: &Params, cal: &Calibration) -> Option<IntModel> {
        if integer_blocker(plan).is_some() {
            return None;
        }
        let fq = fake_quant(plan, params, cal);
        let input = fq.input?;
        let last = plan.nodes.len() - 1;
        let mut nodes = Vec::with_capacity(plan.nodes.len());
        let mut scales = Vec::with_capacity(plan.nodes.len());
        let mut stack: Vec<f32> = Vec::new();
        let mut s_in = input.scale;
        for (i, node) in plan.nodes.iter().enumerate() {
            let out_q = fq.acts[i];
            let (int, s_out) = match node.kind {
                NodeKind::Conv(_) | NodeKind::Fc { .. } => {
                    let p = &params.layers[node.param?];
                    let qw = quantize_weights(&p.w, p.k, p.n, node.weight_bits)?;
                    let acc_scale: Vec<f64> = qw
                        .scale
                        .iter()
                        .map(|&s| f64::from(s) * f64::from(s_in))
                        .collect();
                    let bias =
                        p.b.iter()
                            .zip(&acc_scale)
                            .map(|(&b, &s)| (f64::from(b) / s).round() as i64)
                            .collect();
                    if i == last {
                        let common = acc_scale.iter().copied().fold(0.0f64, f64::max);
                        let mul = acc_scale
                            .iter()
                            .map(|&s| FixedMul::new(s / common * f64::from(1u32 << LOGIT_FRAC)))
                            .collect();
                        (
                            IntNode::Mac {
                                w: qw.q,
                                k: p.k,
                                n: p.n,
                                bias,
                                mul,
                                post: None,
                                act: node.act,
                                lo: i64::MIN,
                                hi: i64::MAX,
                                six: i64::MAX,
                                classifier: true,
                            },
                            (common / f64::from(1u32 << LOGIT_FRAC)) as f32,
                        )
                    } else {
                        let q = out_q?;
                        let s_out = f64::from(q.scale);
                        let (mul, post) = if node.act == Activation::HardSwish {
                            let q12 = f64::from(1u32 << HSWISH_FRAC);
                            (
                                acc_scale.iter().map(|&s| FixedMul::new(s * q12)).collect(),
                                Some(FixedMul::new(1.0 / (q12 * s_out))),
                            )
                        } else {
                            (
                                acc_scale
                                    .iter()
                                    .map(|&s| FixedMul::new(s / s_out))
                                    .collect(),
                                None,
                            )
                        };
                        (
                            IntNode::Mac {
                                w: qw.q,
                                k: p.k,
                                n: p.n,
                                bias,
                                mul,
                                post,
                                act: node.act,
                                lo: i64::from(q.lo),
                                hi: i64::from(q.hi),
                                six: (6.0 / s_out).round() as i64,
                                classifier: false,
                            },
                            q.scale,
                        )
                    }
                }
                NodeKind::Pool { kind, .. } => (
                    if kind == PoolKind::Max {
                        IntNode::MaxPool
                    } else {
                        IntNode::AvgPool
                    },
                    s_in,
                ),
                NodeKind::GlobalAvgPool { .. } => (IntNode::GlobalAvgPool, s_in),
                NodeKind::ResBegin => {
                    stack.push(s_in);
                    (IntNode::ResBegin, s_in)
                }
                NodeKind::ResEnd => {
                    let s_skip = stack.pop()?;
                    let q = out_q?;
                    let frac = f64::from(1u32 << LOGIT_FRAC);
                    (
                        IntNode::ResEnd {
                            branch: FixedMul::new(f64::from(s_in) / f64::from(q.scale) * frac),
                            skip: FixedMul::new(f64::from(s_skip) / f64::from(q.scale) * frac),
                            act: node.act,
                            lo: i64::from(q.lo),
                            hi: i64::from(q.hi),
                        },
                        q.scale,
                    )
                }
            };
            nodes.push(int);
            scales.push(s_out);
            s_in = s_out;
        }
        Some(IntModel {
            plan: plan.clone(),
            input,
            nodes,
            scales,
        })
    }

    /// Quantise one normalised input sample to integer levels.
    pub fn quantize_input(&self, x: &[f32]) -> Vec<i64> {
        x.iter()
            .map(|&v| i64::from(self.input.quantize(v)))
            .collect()
    }

    /// Integer inference of one sample: the logits (at the common logit scale).
    pub fn infer(&self, x: &[i64]) -> Vec<i64> {
        self.run(x, &mut |_, _, _: &mut [i64]| {})
    }

    /// Predicted class (lowest index on ties).
    pub fn predict(&self, x: &[i64]) -> usize {
        argmax_i64(&self.infer(x))
    }

    /// Integer inference calling `mac_hook(node, im2col rows (m x k), accumulators without
    /// bias (m x n))` for every dense MAC layer, and for a depthwise layer once per channel
    /// with its `m x k` column and `m x 1` accumulators (see [`crate::verify`]).
    pub fn run(&self, x: &[i64], mac_hook: &mut MacHook) -> Vec<i64> {
        let mut cur: Vec<i64> = x.to_vec();
        let mut stack: Vec<Vec<i64>> = Vec::new();
        for (i, (node, int)) in self.plan.nodes.iter().zip(&self.nodes).enumerate() {
            cur = match (node.kind, int) {
                (
                    kind @ (NodeKind::Conv(_) | NodeKind::Fc { .. }),
                    IntNode::Mac {
                        w,
                        k,
                        n,
                        bias,
                        mul,
                        post,
                        act,
                        lo,
                        hi,
                        six,
                        classifier,
                    },
                ) => {
                    let (m, acc) = match kind {
                        NodeKind::Conv(g) if g.depthwise => depthwise_acc(&cur, &g, w, i, mac_hook),
                        NodeKind::Conv(g) => {
                            let cols = crate::net::im2col(&cur, 1, &g);
                            let m = g.output.h * g.output.w;
                            let mut acc = int_gemm(m, *k, *n, &cols, w);
                            mac_hook(
                                i,
                                &MacTrace {
                                    m,
                                    k: *k,
                                    n: *n,
                                    a: &cols,
                                    b: w,
                                    group: None,
                                },
                                &mut acc,
                            );
                            (m, acc)
                        }
                        _ => {
                            let mut acc = int_gemm(1, *k, *n, &cur, w);
                            mac_hook(
                                i,
                                &MacTrace {
                                    m: 1,
                                    k: *k,
                                    n: *n,
                                    a: &cur,
                                    b: w,
                                    group: None,
                                },
                                &mut acc,
                            );
                            (1, acc)
                        }
                    };
                    let mut out = vec![0i64; m * n];
                    for r in 0..m {
                        for c in 0..*n {
                            let a = acc[r * n + c] + bias[c];
                            out[r * n + c] = if *classifier {
                                mul[c].apply(a)
                            } else {
                                requant_act(a, mul[c], *post, *act, *lo, *hi, *six)
                            };
                        }
                    }
                    out
                }
                (
                    NodeKind::Pool {
                        kernel,
                        stride,
                        input,
                        ..
                    },
                    IntNode::MaxPool | IntNode::AvgPool,
                ) => int_pool(
                    &cur,
                    input,
                    node.output,
                    kernel,
                    stride,
                    matches!(int, IntNode::MaxPool),
                ),
                (NodeKind::GlobalAvgPool { input }, _) => {
                    let hw = (input.h * input.w) as i64;
                    let mut out = vec![0i64; input.c];
                    for p in 0..input.h * input.w {
                        for ch in 0..input.c {
                            out[ch] += cur[p * input.c + ch];
                        }
                    }
                    out.iter().map(|&s| div_round(s, hw)).collect()
                }
                (NodeKind::ResBegin, _) => {
                    stack.push(cur.clone());
                    cur
                }
                (
                    NodeKind::ResEnd,
                    IntNode::ResEnd {
                        branch,
                        skip,
                        act,
                        lo,
                        hi,
                    },
                ) => {
                    let s = stack.pop().unwrap_or_default();
                    cur.iter()
                        .zip(&s)
                        .map(|(&a, &b)| {
                            let sum = branch.apply(a) + skip.apply(b);
                            let v = div_round(sum, 1i64 << LOGIT_FRAC);
                            let v = if act.non_negative() { v.max(0) } else { v };
                            v.clamp(*lo, *hi)
                        })
                        .collect()
                }
                _ => unreachable!("IntModel::build makes one integer node per plan node"),
            };
        }
        cur
    }
}

/// Called with (node index, GEMM operands, accumulators) for every integer GEMM; it may
/// replace the accumulators (the simulator's outputs then feed the rest of the network).
pub type MacHook<'a> = dyn FnMut(usize, &MacTrace, &mut [i64]) + 'a;

/// Operands of one integer GEMM, as handed to the systolic simulator.
pub struct MacTrace<'a> {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// `m x k`, row-major.
    pub a: &'a [i64],
    /// `k x n`, row-major (i32 weights).
    pub b: &'a [i32],
    /// Depthwise layers: the channel of this GEMM.
    pub group: Option<usize>,
}

fn requant_act(
    a: i64,
    mul: FixedMul,
    post: Option<FixedMul>,
    act: Activation,
    lo: i64,
    hi: i64,
    six: i64,
) -> i64 {
    match act {
        Activation::HardSwish => {
            let one = 1i64 << HSWISH_FRAC;
            let x = mul.apply(a);
            let r = (x + 3 * one).clamp(0, 6 * one);
            let h = div_round(x.saturating_mul(r), 6 * one);
            post.map_or(0, |p| p.apply(h)).clamp(lo, hi)
        }
        Activation::Relu => mul.apply(a).clamp(lo.max(0), hi),
        Activation::Relu6 => mul.apply(a).clamp(lo.max(0), hi.min(six)),
        Activation::Identity => mul.apply(a).clamp(lo, hi),
    }
}

/// `round(a / b)` half away from zero, `b > 0`.
#[inline]
pub fn div_round(a: i64, b: i64) -> i64 {
    if a >= 0 {
        (a + b / 2) / b
    } else {
        -((-a + b / 2) / b)
    }
}

pub fn argmax_i64(v: &[i64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

fn int_gemm(m: usize, k: usize, n: usize, a: &[i64], b: &[i32]) -> Vec<i64> {
    let mut out = vec![0i64; m * n];
    for r in 0..m {
        for kk in 0..k {
            let av = a[r * k + kk];
            if av == 0 {
                continue;
            }
            let brow = &b[kk * n..(kk + 1) * n];
            let orow = &mut out[r * n..(r + 1) * n];
            for (o, &bv) in orow.iter_mut().zip(brow) {
                *o += av * i64::from(bv);
            }
        }
    }
    out
}

fn depthwise_acc(
    x: &[i64],
    g: &ConvGeom,
    w: &[i32],
    node: usize,
    hook: &mut MacHook,
) -> (usize, Vec<i64>) {
    let (ih, iw, c) = (g.input.h, g.input.w, g.input.c);
    let (oh, ow, k) = (g.output.h, g.output.w, g.kernel);
    let m = oh * ow;
    let kk = k * k;
    let mut acc = vec![0i64; m * c];
    for ch in 0..c {
        let mut cols = vec![0i64; m * kk];
        for oy in 0..oh {
            for ox in 0..ow {
                for ky in 0..k {
                    let y = (oy * g.stride + ky) as isize - g.padding as isize;
                    for kx in 0..k {
                        let xx = (ox * g.stride + kx) as isize - g.padding as isize;
                        if y >= 0 && y < ih as isize && xx >= 0 && xx < iw as isize {
                            cols[(oy * ow + ox) * kk + ky * k + kx] =
                                x[(y as usize * iw + xx as usize) * c + ch];
                        }
                    }
                }
            }
        }
        let wcol: Vec<i32> = (0..kk).map(|t| w[t * c + ch]).collect();
        let mut a = int_gemm(m, kk, 1, &cols, &wcol);
        hook(
            node,
            &MacTrace {
                m,
                k: kk,
                n: 1,
                a: &cols,
                b: &wcol,
                group: Some(ch),
            },
            &mut a,
        );
        for r in 0..m {
            acc[r * c + ch] = a[r];
        }
    }
    (m, acc)
}

fn int_pool(
    x: &[i64],
    input: crate::genotype::Shape,
    out: crate::genotype::Shape,
    k: usize,
    stride: usize,
    max: bool,
) -> Vec<i64> {
    let (iw, c) = (input.w, input.c);
    let mut o = vec![0i64; out.size()];
    for oy in 0..out.h {
        for ox in 0..out.w {
            for ch in 0..c {
                let mut best = i64::MIN;
                let mut sum = 0i64;
                for ky in 0..k {
                    for kx in 0..k {
                        let v = x[((oy * stride + ky) * iw + ox * stride + kx) * c + ch];
                        best = best.max(v);
                        sum += v;
                    }
                }
                o[(oy * out.w + ox) * c + ch] = if max {
                    best
                } else {
                    div_round(sum, (k * k) as i64)
                };
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_rounding_equals_round_bit_for_bit() {
        use rand::{RngExt, SeedableRng};
        let mut special = vec![
            0.0f32,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.499_999_97,
            -0.499_999_97,
            8_388_607.5,
            -8_388_607.5,
            8_388_608.0,
            1e30,
            -1e30,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE,
            3e9,
            -3e9,
        ];
        let seed = 11;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        special.extend((0..200_000).map(|i| {
            let scale = [1.0f32, 100.0, 40_000.0, 1e7][i % 4];
            (rng.random::<f32>() * 2.0 - 1.0) * scale
        }));
        for x in special {
            assert_eq!(
                round_ties_away(x).to_bits(),
                x.round().to_bits(),
                "x = {x} (seed {seed})"
            );
        }
        assert!(round_ties_away(f32::NAN).is_nan());
    }

    #[test]
    fn lane_max_abs_equals_the_sequential_maximum() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        for len in 0..40 {
            let v: Vec<f32> = (0..len).map(|_| rng.random::<f32>() * 8.0 - 4.0).collect();
            let want = v.iter().fold(0.0f32, |a, x| a.max(x.abs()));
            assert_eq!(max_abs(&v).to_bits(), want.to_bits(), "{v:?}");
        }
    }

    #[test]
    fn fixed_point_multiplier_matches_real_product() {
        for &real in &[0.000_123_4, 0.37, 0.5, 0.999_999, 1.0, 3.75, 1234.5] {
            let f = FixedMul::new(real);
            for &x in &[-100_000i64, -7, -1, 0, 1, 3, 99, 123_456] {
                let want = (x as f64 * real).round();
                let got = f.apply(x) as f64;
                assert!((got - want).abs() <= 1.0, "{real} * {x}: {got} vs {want}");
            }
        }
        assert_eq!(FixedMul::new(0.5).apply(3), 2); // 1.5 rounds away from zero
        assert_eq!(FixedMul::new(0.5).apply(-3), -2);
    }

    #[test]
    fn ternary_follows_twn_threshold() {
        // One channel: mean|w| = 0.5, delta = 0.35; |w| > delta: 0.9 and -0.6 -> alpha 0.75.
        let w = [0.9, -0.6, 0.3, 0.2];
        let q = quantize_weights(&w, 4, 1, BitWidth::Ternary).unwrap();
        assert_eq!(q.q, vec![1, -1, 0, 0]);
        assert!((q.scale[0] - 0.75).abs() < 1e-6);
        let q8 = quantize_weights(&w, 4, 1, BitWidth::Int8).unwrap();
        let back = q8.dequantize(1);
        for (a, b) in back.iter().zip(&w) {
            assert!((a - b).abs() <= q8.scale[0] / 2.0 + 1e-6);
        }
        assert!(q8.q.iter().all(|&v| (-128..=127).contains(&v)));
        assert!(quantize_weights(&w, 4, 1, BitWidth::Float).is_none());
    }
}
