//! The floating-point network: parameters, forward and backward passes on NHWC tensors.
//!
//! Dense convolutions and fully connected layers run as GEMMs (im2col, then `sgemm` from
//! `matrixmultiply`, single-threaded so results do not depend on a thread count);
//! depthwise convolutions and pooling run as plain loops. The same forward pass runs with
//! fake quantisation ([`FakeQuant`]) for quantisation-aware training, with the
//! straight-through estimator in the backward pass.

use crate::genotype::{Activation, ConvGeom, Node, NodeKind, Plan, PoolKind};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Weights and biases of one MAC layer: `w` is `k x n` row-major (`k` inputs per output in
/// im2col order `(kh, kw, in_c)`, `n` outputs), `b` has `n` values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerParams {
    pub k: usize,
    pub n: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

/// All parameters of a network, one entry per MAC layer in plan order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub layers: Vec<LayerParams>,
}

impl Params {
    /// He-uniform initialisation (He et al., ICCV 2015: variance 2 / fan_in, here as
    /// U(-sqrt(6 / fan_in), +sqrt(6 / fan_in))), zero biases, from a ChaCha8 stream.
    pub fn init(plan: &Plan, seed: u64) -> Params {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let layers = plan
            .nodes
            .iter()
            .filter_map(|n| n.weight_shape())
            .map(|(k, n)| {
                let bound = (6.0 / k as f32).sqrt();
                LayerParams {
                    k,
                    n,
                    w: (0..k * n)
                        .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * bound)
                        .collect(),
                    b: vec![0.0; n],
                }
            })
            .collect();
        Params { layers }
    }

    pub fn zeros_like(&self) -> Params {
        Params {
            layers: self
                .layers
                .iter()
                .map(|l| LayerParams {
                    k: l.k,
                    n: l.n,
                    w: vec![0.0; l.w.len()],
                    b: vec![0.0; l.b.len()],
                })
                .collect(),
        }
    }

    /// `self += o`, element by element in a fixed order.
    pub fn add_assign(&mut self, o: &Params) {
        for (a, b) in self.layers.iter_mut().zip(&o.layers) {
            for (x, y) in a.w.iter_mut().zip(&b.w) {
                *x += *y;
            }
            for (x, y) in a.b.iter_mut().zip(&b.b) {
                *x += *y;
            }
        }
    }

    /// Every value, weights then biases per layer.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.w.iter_mut().chain(l.b.iter_mut()))
    }

    pub fn values(&self) -> impl Iterator<Item = &f32> {
        self.layers
            .iter()
            .flat_map(|l| l.w.iter().chain(l.b.iter()))
    }

    pub fn all_finite(&self) -> bool {
        self.values().all(|v| v.is_finite())
    }

    /// FNV-1a hash of every value's bits: equal hashes mean bit-identical parameters.
    pub fn bit_hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for v in self.values() {
            for b in v.to_bits().to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }
}

/// Activation quantiser of one tensor: `q = clamp(round(x / scale), lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActQuant {
    pub scale: f32,
    pub lo: i32,
    pub hi: i32,
}

impl ActQuant {
    #[inline]
    pub fn quantize(&self, x: f32) -> i32 {
        let q = crate::quant::round_ties_away(x / self.scale);
        (q.max(self.lo as f32).min(self.hi as f32)) as i32
    }
    #[inline]
    pub fn fake(&self, x: f32) -> f32 {
        self.quantize(x) as f32 * self.scale
    }
    /// Straight-through estimator: the gradient passes inside the clipping range.
    #[inline]
    pub fn passes(&self, x: f32) -> bool {
        x >= self.lo as f32 * self.scale && x <= self.hi as f32 * self.scale
    }
}

/// Fake quantisation for a forward pass: dequantised weights per MAC layer (`None` keeps the
/// float weights) and an activation quantiser per node output (`None`: not quantised).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeQuant {
    pub input: Option<ActQuant>,
    pub weights: Vec<Option<Vec<f32>>>,
    pub acts: Vec<Option<ActQuant>>,
}

#[inline]
pub fn activate(a: Activation, x: f32) -> f32 {
    match a {
        Activation::Identity => x,
        Activation::Relu => x.max(0.0),
        Activation::Relu6 => x.clamp(0.0, 6.0),
        Activation::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
    }
}

#[inline]
fn activate_grad(a: Activation, x: f32) -> f32 {
    match a {
        Activation::Identity => 1.0,
        Activation::Relu => f32::from(u8::from(x > 0.0)),
        Activation::Relu6 => f32::from(u8::from(x > 0.0 && x < 6.0)),
        Activation::HardSwish => {
            if x < -3.0 {
                0.0
            } else if x > 3.0 {
                1.0
            } else {
                (2.0 * x + 3.0) / 6.0
            }
        }
    }
}

/// The valid kernel taps of one output coordinate: `(first tap, taps, first input index)`
/// along one axis, so that taps `first..first + taps` read inputs `input..input + taps`
/// (the others fall in the padding).
#[inline]
fn tap_range(
    o: usize,
    stride: usize,
    padding: usize,
    k: usize,
    len: usize,
) -> (usize, usize, usize) {
    let start = (o * stride) as isize - padding as isize;
    let lo = (-start).max(0) as usize;
    let hi = (len as isize - start).clamp(0, k as isize) as usize;
    if hi <= lo {
        return (0, 0, 0);
    }
    (lo, hi - lo, (start + lo as isize) as usize)
}

/// im2col of `n` NHWC images for a dense convolution: rows `(img, oh, ow)`, columns
/// `(kh, kw, in_c)`; padding reads as zero. The taps of one kernel row read consecutive
/// input pixels, so each kernel row is one copy.
pub fn im2col<T: Copy + Default>(x: &[T], n: usize, g: &ConvGeom) -> Vec<T> {
    let (ih, iw, ic) = (g.input.h, g.input.w, g.input.c);
    let (oh, ow, k) = (g.output.h, g.output.w, g.kernel);
    let kk = k * k * ic;
    let mut cols = vec![T::default(); n * oh * ow * kk];
    for img in 0..n {
        let xi = &x[img * ih * iw * ic..(img + 1) * ih * iw * ic];
        for oy in 0..oh {
            let (ky0, kys, y0) = tap_range(oy, g.stride, g.padding, k, ih);
            for ox in 0..ow {
                let (kx0, kxs, x0) = tap_range(ox, g.stride, g.padding, k, iw);
                let row = &mut cols[((img * oh + oy) * ow + ox) * kk..][..kk];
                let run = kxs * ic;
                for t in 0..kys {
                    let src = &xi[((y0 + t) * iw + x0) * ic..][..run];
                    let dst = &mut row[((ky0 + t) * k + kx0) * ic..][..run];
                    if run == 1 {
                        dst[0] = src[0];
                    } else {
                        dst.copy_from_slice(src);
                    }
                }
            }
        }
    }
    cols
}

/// The adjoint of [`im2col`]: sums each column entry into the input pixel it was read from,
/// rows in order (so every input pixel sums its contributions in a fixed order).
fn col2im(dcols: &[f32], n: usize, g: &ConvGeom) -> Vec<f32> {
    let (ih, iw, ic) = (g.input.h, g.input.w, g.input.c);
    let (oh, ow, k) = (g.output.h, g.output.w, g.kernel);
    let kk = k * k * ic;
    let mut dx = vec![0.0f32; n * ih * iw * ic];
    for img in 0..n {
        let di = &mut dx[img * ih * iw * ic..(img + 1) * ih * iw * ic];
        for oy in 0..oh {
            let (ky0, kys, y0) = tap_range(oy, g.stride, g.padding, k, ih);
            for ox in 0..ow {
                let (kx0, kxs, x0) = tap_range(ox, g.stride, g.padding, k, iw);
                let row = &dcols[((img * oh + oy) * ow + ox) * kk..][..kk];
                let run = kxs * ic;
                for t in 0..kys {
                    let src = &row[((ky0 + t) * k + kx0) * ic..][..run];
                    let dst = &mut di[((y0 + t) * iw + x0) * ic..][..run];
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d += *s;
                    }
                }
            }
        }
    }
    dx
}

/// `c = a (m x k) * b (k x n)` (+ `c` when `accumulate`), row-major; `a_t`/`b_t` read the
/// stored matrices transposed.
#[allow(clippy::too_many_arguments)]
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    a_t: bool,
    b: &[f32],
    b_t: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    let (rsa, csa) = if a_t {
        (1, m as isize)
    } else {
        (k as isize, 1)
    };
    let (rsb, csb) = if b_t {
        (1, k as isize)
    } else {
        (n as isize, 1)
    };
    // SAFETY: the slices hold at least m*k, k*n and m*n values (checked by the callers'
    // shapes, asserted in debug builds) and the strides address exactly those.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            if accumulate { 1.0 } else { 0.0 },
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Called with (node index, node output) after every node.
type Observer<'a> = dyn FnMut(usize, &[f32]) + 'a;

/// What the backward pass needs from one node.
enum Cache {
    /// Dense conv / fc: the GEMM input (im2col or flattened input) and the pre-activations.
    Mac {
        input: Vec<f32>,
        pre: Vec<f32>,
    },
    /// Depthwise conv: its input and pre-activations.
    Depthwise {
        input: Vec<f32>,
        pre: Vec<f32>,
    },
    MaxPool {
        argmax: Vec<u32>,
    },
    None,
    ResEnd {
        pre: Vec<f32>,
    },
}

/// Forward pass over `n` samples (`x` is `n x input size`, NHWC). Returns the logits
/// (`n x classes`) and, when `keep` is set, the caches for [`backward`].
fn forward_impl(
    plan: &Plan,
    params: &Params,
    fq: Option<&FakeQuant>,
    x: &[f32],
    n: usize,
    keep: bool,
    mut observe: Option<&mut Observer>,
) -> (Vec<f32>, Vec<Cache>) {
    let mut cur: Vec<f32> = match fq.and_then(|f| f.input) {
        Some(q) => x.iter().map(|&v| q.fake(v)).collect(),
        None => x.to_vec(),
    };
    let mut caches = Vec::with_capacity(if keep { plan.nodes.len() } else { 0 });
    let mut skips: Vec<Vec<f32>> = Vec::new();
    let last = plan.nodes.len() - 1;
    for (i, node) in plan.nodes.iter().enumerate() {
        let aq = if i == last {
            None
        } else {
            fq.and_then(|f| f.acts[i])
        };
        let (out, cache) = match node.kind {
            NodeKind::Conv(g) if !g.depthwise => {
                let p = &params.layers[node.param.unwrap_or(0)];
                let w = weights_of(p, fq, node);
                let cols = im2col(&cur, n, &g);
                let m = n * g.output.h * g.output.w;
                let mut pre = vec![0.0f32; m * p.n];
                gemm(m, p.k, p.n, &cols, false, w, false, &mut pre, false);
                add_bias(&mut pre, &p.b);
                let out = finish(node.act, &pre, aq);
                (out, Cache::Mac { input: cols, pre })
            }
            NodeKind::Conv(g) => {
                let p = &params.layers[node.param.unwrap_or(0)];
                let w = weights_of(p, fq, node);
                let pre = depthwise_forward(&cur, n, &g, w, &p.b);
                let out = finish(node.act, &pre, aq);
                (
                    out,
                    Cache::Depthwise {
                        input: std::mem::take(&mut cur),
                        pre,
                    },
                )
            }
            NodeKind::Fc { inputs, outputs } => {
                let p = &params.layers[node.param.unwrap_or(0)];
                let w = weights_of(p, fq, node);
                let mut pre = vec![0.0f32; n * outputs];
                gemm(n, inputs, outputs, &cur, false, w, false, &mut pre, false);
                add_bias(&mut pre, &p.b);
                let out = finish(node.act, &pre, aq);
                (
                    out,
                    Cache::Mac {
                        input: std::mem::take(&mut cur),
                        pre,
                    },
                )
            }
            NodeKind::Pool {
                kind,
                kernel,
                stride,
                input,
            } => {
                let (out, argmax) = pool_forward(&cur, n, kind, kernel, stride, input, node);
                let out = match (kind, aq) {
                    (PoolKind::Avg, Some(q)) => out.iter().map(|&v| q.fake(v)).collect(),
                    _ => out,
                };
                (
                    out,
                    if kind == PoolKind::Max {
                        Cache::MaxPool { argmax }
                    } else {
                        Cache::None
                    },
                )
            }
            NodeKind::GlobalAvgPool { input } => {
                let hw = input.h * input.w;
                let c = input.c;
                let mut out = vec![0.0f32; n * c];
                for img in 0..n {
                    for p in 0..hw {
                        for ch in 0..c {
                            out[img * c + ch] += cur[(img * hw + p) * c + ch];
                        }
                    }
                }
                for v in &mut out {
                    *v /= hw as f32;
                    if let Some(q) = aq {
                        *v = q.fake(*v);
                    }
                }
                (out, Cache::None)
            }
            NodeKind::ResBegin => {
                skips.push(cur.clone());
                (std::mem::take(&mut cur), Cache::None)
            }
            NodeKind::ResEnd => {
                let skip = skips.pop().unwrap_or_default();
                let pre: Vec<f32> = cur.iter().zip(&skip).map(|(a, b)| a + b).collect();
                let out = finish(node.act, &pre, aq);
                (out, Cache::ResEnd { pre })
            }
        };
        if let Some(f) = observe.as_deref_mut() {
            f(i, &out);
        }
        cur = out;
        if keep {
            caches.push(cache);
        }
    }
    (cur, caches)
}

fn weights_of<'a>(p: &'a LayerParams, fq: Option<&'a FakeQuant>, node: &Node) -> &'a [f32] {
    match fq.and_then(|f| f.weights[node.param.unwrap_or(0)].as_deref()) {
        Some(w) => w,
        None => &p.w,
    }
}

fn add_bias(pre: &mut [f32], b: &[f32]) {
    for row in pre.chunks_exact_mut(b.len()) {
        for (v, bb) in row.iter_mut().zip(b) {
            *v += *bb;
        }
    }
}

fn finish(act: Activation, pre: &[f32], aq: Option<ActQuant>) -> Vec<f32> {
    match aq {
        Some(q) => pre.iter().map(|&v| q.fake(activate(act, v))).collect(),
        None => pre.iter().map(|&v| activate(act, v)).collect(),
    }
}

fn depthwise_forward(x: &[f32], n: usize, g: &ConvGeom, w: &[f32], b: &[f32]) -> Vec<f32> {
    let (ih, iw, c) = (g.input.h, g.input.w, g.input.c);
    let (oh, ow, k) = (g.output.h, g.output.w, g.kernel);
    let mut out = vec![0.0f32; n * oh * ow * c];
    for img in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let o = &mut out[((img * oh + oy) * ow + ox) * c..][..c];
                o.copy_from_slice(b);
                for ky in 0..k {
                    let y = (oy * g.stride + ky) as isize - g.padding as isize;
                    if y < 0 || y >= ih as isize {
                        continue;
                    }
                    for kx in 0..k {
                        let xx = (ox * g.stride + kx) as isize - g.padding as isize;
                        if xx < 0 || xx >= iw as isize {
                            continue;
                        }
                        let src = &x[((img * ih + y as usize) * iw + xx as usize) * c..][..c];
                        let wr = &w[(ky * k + kx) * c..][..c];
                        for ch in 0..c {
                            o[ch] += src[ch] * wr[ch];
                        }
                    }
                }
            }
        }
    }
    out
}

fn pool_forward(
    x: &[f32],
    n: usize,
    kind: PoolKind,
    k: usize,
    stride: usize,
    input: crate::genotype::Shape,
    node: &Node,
) -> (Vec<f32>, Vec<u32>) {
    let (ih, iw, c) = (input.h, input.w, input.c);
    let (oh, ow) = (node.output.h, node.output.w);
    let mut out = vec![0.0f32; n * oh * ow * c];
    let mut argmax = if kind == PoolKind::Max {
        vec![0u32; out.len()]
    } else {
        Vec::new()
    };
    for img in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let o = ((img * oh + oy) * ow + ox) * c + ch;
                    let mut best = f32::NEG_INFINITY;
                    let mut best_i = 0usize;
                    let mut sum = 0.0f32;
                    for ky in 0..k {
                        for kx in 0..k {
                            let i =
                                ((img * ih + oy * stride + ky) * iw + ox * stride + kx) * c + ch;
                            let v = x[i];
                            sum += v;
                            if v > best {
                                best = v;
                                best_i = i;
                            }
                        }
                    }
                    if kind == PoolKind::Max {
                        out[o] = best;
                        argmax[o] = best_i as u32;
                    } else {
                        out[o] = sum / (k * k) as f32;
                    }
                }
            }
        }
    }
    (out, argmax)
}

/// Logits of `n` samples (`n x classes`).
pub fn forward(
    plan: &Plan,
    params: &Params,
    fq: Option<&FakeQuant>,
    x: &[f32],
    n: usize,
) -> Vec<f32> {
    forward_impl(plan, params, fq, x, n, false, None).0
}

/// As [`forward`], calling `observe(node index, node output)` after every node.
pub fn forward_observed(
    plan: &Plan,
    params: &Params,
    fq: Option<&FakeQuant>,
    x: &[f32],
    n: usize,
    observe: &mut dyn FnMut(usize, &[f32]),
) -> Vec<f32> {
    forward_impl(plan, params, fq, x, n, false, Some(observe)).0
}

/// Softmax cross-entropy loss and gradient of `n` samples' logits, each divided by `denom`
/// (the whole mini-batch size, so that per-chunk gradients sum to the batch mean).
/// With `smoothing` e > 0 the target is `1 - e` on the true class plus `e / classes` on
/// every class (label smoothing).
fn softmax_ce(
    logits: &[f32],
    y: &[u32],
    classes: usize,
    denom: f32,
    smoothing: f32,
) -> (f32, Vec<f32>) {
    let mut grad = vec![0.0f32; logits.len()];
    let mut loss = 0.0f32;
    let off = smoothing / classes as f32;
    for (i, row) in logits.chunks_exact(classes).enumerate() {
        let mx = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut z = 0.0f32;
        for &v in row {
            z += (v - mx).exp();
        }
        let t = y[i] as usize;
        if smoothing == 0.0 {
            loss += (z.ln() + mx - row[t]) / denom;
            for (j, &v) in row.iter().enumerate() {
                let p = (v - mx).exp() / z;
                grad[i * classes + j] = (p - f32::from(u8::from(j == t))) / denom;
            }
        } else {
            let lz = z.ln() + mx;
            for (j, &v) in row.iter().enumerate() {
                let q = off + if j == t { 1.0 - smoothing } else { 0.0 };
                loss += q * (lz - v) / denom;
                let p = (v - mx).exp() / z;
                grad[i * classes + j] = (p - q) / denom;
            }
        }
    }
    (loss, grad)
}

/// Loss and parameter gradients of one chunk of `n` samples (see [`softmax_ce`] for
/// `denom`). With fake quantisation the gradient of the quantised weights is returned for
/// the latent weights (straight-through estimator).
pub fn loss_and_grad(
    plan: &Plan,
    params: &Params,
    fq: Option<&FakeQuant>,
    x: &[f32],
    y: &[u32],
    denom: f32,
) -> (f32, Params) {
    loss_and_grad_smoothed(plan, params, fq, x, y, denom, 0.0)
}

/// As [`loss_and_grad`], with label smoothing `smoothing` (see [`softmax_ce`]).
pub fn loss_and_grad_smoothed(
    plan: &Plan,
    params: &Params,
    fq: Option<&FakeQuant>,
    x: &[f32],
    y: &[u32],
    denom: f32,
    smoothing: f32,
) -> (f32, Params) {
    let n = y.len();
    let (logits, caches) = forward_impl(plan, params, fq, x, n, true, None);
    let (loss, mut g) = softmax_ce(&logits, y, plan.classes, denom, smoothing);
    let mut grads = params.zeros_like();
    let mut skip_grads: Vec<Vec<f32>> = Vec::new();
    let last = plan.nodes.len() - 1;
    // Nothing before the first MAC layer has parameters: the gradient with respect to that
    // layer's input is not needed, and the nodes before it are skipped.
    let first = plan
        .nodes
        .iter()
        .position(|n| n.param.is_some())
        .unwrap_or(0);
    for (i, (node, cache)) in plan.nodes.iter().zip(caches).enumerate().rev() {
        if i < first {
            break;
        }
        let need_dx = i > first;
        let aq = if i == last {
            None
        } else {
            fq.and_then(|f| f.acts[i])
        };
        match (node.kind, cache) {
            (NodeKind::Conv(geom), Cache::Mac { input, pre }) if !geom.depthwise => {
                let pi = node.param.unwrap_or(0);
                let p = &params.layers[pi];
                let w = weights_of(p, fq, node);
                let dpre = act_backward(node.act, &pre, &g, aq);
                let m = n * geom.output.h * geom.output.w;
                let gl = &mut grads.layers[pi];
                gemm(p.k, m, p.n, &input, true, &dpre, false, &mut gl.w, true);
                bias_grad(&dpre, &mut gl.b);
                if need_dx {
                    let mut dcols = vec![0.0f32; m * p.k];
                    gemm(m, p.n, p.k, &dpre, false, w, true, &mut dcols, false);
                    g = col2im(&dcols, n, &geom);
                }
            }
            (NodeKind::Conv(geom), Cache::Depthwise { input, pre }) => {
                let pi = node.param.unwrap_or(0);
                let p = &params.layers[pi];
                let w = weights_of(p, fq, node);
                let dpre = act_backward(node.act, &pre, &g, aq);
                let gl = &mut grads.layers[pi];
                g = depthwise_backward(&input, n, &geom, w, &dpre, &mut gl.w, &mut gl.b, need_dx);
            }
            (NodeKind::Fc { inputs, outputs }, Cache::Mac { input, pre }) => {
                let pi = node.param.unwrap_or(0);
                let p = &params.layers[pi];
                let w = weights_of(p, fq, node);
                let dpre = act_backward(node.act, &pre, &g, aq);
                let gl = &mut grads.layers[pi];
                gemm(
                    inputs, n, outputs, &input, true, &dpre, false, &mut gl.w, true,
                );
                bias_grad(&dpre, &mut gl.b);
                if need_dx {
                    let mut dx = vec![0.0f32; n * inputs];
                    gemm(n, outputs, inputs, &dpre, false, w, true, &mut dx, false);
                    g = dx;
                }
            }
            (
                NodeKind::Pool {
                    kind,
                    kernel,
                    stride,
                    input,
                },
                cache,
            ) => {
                let mut dx = vec![0.0f32; n * input.size()];
                match (kind, cache) {
                    (PoolKind::Max, Cache::MaxPool { argmax }) => {
                        for (o, &src) in argmax.iter().enumerate() {
                            dx[src as usize] += g[o];
                        }
                    }
                    _ => {
                        let (oh, ow, c) = (node.output.h, node.output.w, input.c);
                        let inv = 1.0 / (kernel * kernel) as f32;
                        for img in 0..n {
                            for oy in 0..oh {
                                for ox in 0..ow {
                                    for ch in 0..c {
                                        let go = g[((img * oh + oy) * ow + ox) * c + ch] * inv;
                                        for ky in 0..kernel {
                                            for kx in 0..kernel {
                                                dx[((img * input.h + oy * stride + ky)
                                                    * input.w
                                                    + ox * stride
                                                    + kx)
                                                    * c
                                                    + ch] += go;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                g = dx;
            }
            (NodeKind::GlobalAvgPool { input }, _) => {
                let hw = input.h * input.w;
                let c = input.c;
                let mut dx = vec![0.0f32; n * hw * c];
                for img in 0..n {
                    for p in 0..hw {
                        for ch in 0..c {
                            dx[(img * hw + p) * c + ch] = g[img * c + ch] / hw as f32;
                        }
                    }
                }
                g = dx;
            }
            (NodeKind::ResEnd, Cache::ResEnd { pre }) => {
                let dpre = act_backward(node.act, &pre, &g, aq);
                skip_grads.push(dpre.clone());
                g = dpre;
            }
            (NodeKind::ResBegin, _) => {
                if let Some(s) = skip_grads.pop() {
                    for (a, b) in g.iter_mut().zip(&s) {
                        *a += *b;
                    }
                }
            }
            _ => unreachable!("forward_impl makes one cache of the node's kind"),
        }
    }
    (loss, grads)
}

fn act_backward(act: Activation, pre: &[f32], g: &[f32], aq: Option<ActQuant>) -> Vec<f32> {
    pre.iter()
        .zip(g)
        .map(|(&p, &gg)| {
            let pass = aq.is_none_or(|q| q.passes(activate(act, p)));
            if pass {
                gg * activate_grad(act, p)
            } else {
                0.0
            }
        })
        .collect()
}

fn bias_grad(dpre: &[f32], gb: &mut [f32]) {
    for row in dpre.chunks_exact(gb.len()) {
        for (b, d) in gb.iter_mut().zip(row) {
            *b += *d;
        }
    }
}

/// Depthwise weight and bias gradients (accumulated into `gw`, `gb`) and, when `need_dx`,
/// the input gradient (else an empty vector).
#[allow(clippy::too_many_arguments)]
fn depthwise_backward(
    x: &[f32],
    n: usize,
    g: &ConvGeom,
    w: &[f32],
    dpre: &[f32],
    gw: &mut [f32],
    gb: &mut [f32],
    need_dx: bool,
) -> Vec<f32> {
    let (ih, iw, c) = (g.input.h, g.input.w, g.input.c);
    let (oh, ow, k) = (g.output.h, g.output.w, g.kernel);
    let mut dx = vec![0.0f32; if need_dx { n * ih * iw * c } else { 0 }];
    for img in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let d = &dpre[((img * oh + oy) * ow + ox) * c..][..c];
                for ch in 0..c {
                    gb[ch] += d[ch];
                }
                for ky in 0..k {
                    let y = (oy * g.stride + ky) as isize - g.padding as isize;
                    if y < 0 || y >= ih as isize {
                        continue;
                    }
                    for kx in 0..k {
                        let xx = (ox * g.stride + kx) as isize - g.padding as isize;
                        if xx < 0 || xx >= iw as isize {
                            continue;
                        }
                        let base = ((img * ih + y as usize) * iw + xx as usize) * c;
                        let wo = (ky * k + kx) * c;
                        let (xs, gws) = (&x[base..][..c], &mut gw[wo..][..c]);
                        for ch in 0..c {
                            gws[ch] += xs[ch] * d[ch];
                        }
                        if need_dx {
                            let (dxs, ws) = (&mut dx[base..][..c], &w[wo..][..c]);
                            for ch in 0..c {
                                dxs[ch] += ws[ch] * d[ch];
                            }
                        }
                    }
                }
            }
        }
    }
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImageShape;
    use crate::genotype::{Block, NetGenotype};

    /// im2col against a tap-by-tap reference, and col2im as its adjoint
    /// (<im2col(x), d> = <x, col2im(d)>), over kernels, strides, paddings and channels.
    #[test]
    fn im2col_matches_reference_and_col2im_is_its_adjoint() {
        use crate::genotype::Shape;
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut cases = 0;
        for (ih, iw) in [(8, 8), (5, 7)] {
            for ic in [1, 3] {
                for k in [1, 2, 3, 5] {
                    for stride in [1, 2] {
                        for padding in 0..k {
                            if ih + 2 * padding < k || iw + 2 * padding < k {
                                continue;
                            }
                            let (oh, ow) = (
                                (ih + 2 * padding - k) / stride + 1,
                                (iw + 2 * padding - k) / stride + 1,
                            );
                            let g = ConvGeom {
                                input: Shape {
                                    h: ih,
                                    w: iw,
                                    c: ic,
                                },
                                output: Shape { h: oh, w: ow, c: 1 },
                                kernel: k,
                                stride,
                                padding,
                                depthwise: false,
                            };
                            let n = 2;
                            let x: Vec<f32> =
                                (0..n * ih * iw * ic).map(|_| rng.random::<f32>()).collect();
                            let cols = im2col(&x, n, &g);
                            let kk = k * k * ic;
                            for img in 0..n {
                                for oy in 0..oh {
                                    for ox in 0..ow {
                                        for ky in 0..k {
                                            for kx in 0..k {
                                                for c in 0..ic {
                                                    let y = (oy * stride + ky) as isize
                                                        - padding as isize;
                                                    let xx = (ox * stride + kx) as isize
                                                        - padding as isize;
                                                    let want = if y < 0
                                                        || xx < 0
                                                        || y >= ih as isize
                                                        || xx >= iw as isize
                                                    {
                                                        0.0
                                                    } else {
                                                        x[((img * ih + y as usize) * iw
                                                            + xx as usize)
                                                            * ic
                                                            + c]
                                                    };
                                                    let got = cols[((img * oh + oy) * ow + ox)
                                                        * kk
                                                        + (ky * k + kx) * ic
                                                        + c];
                                                    assert_eq!(got, want, "{g:?}");
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            let d: Vec<f32> =
                                (0..cols.len()).map(|_| rng.random::<f32>()).collect();
                            let dx = col2im(&d, n, &g);
                            let lhs: f64 = cols.iter().zip(&d).map(|(a, b)| f64::from(a * b)).sum();
                            let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| f64::from(a * b)).sum();
                            assert!((lhs - rhs).abs() < 1e-3 * lhs.abs().max(1.0), "{g:?}");
                            cases += 1;
                        }
                    }
                }
            }
        }
        assert!(cases > 40, "{cases} geometries");
    }

    /// Every parameter gradient of a small net with each block kind, against central
    /// differences in f64-ish precision (f32 with a loose tolerance).
    #[test]
    fn gradients_match_finite_differences() {
        let text = r#"(format_version: 1, name: "g", input_bits: Float, blocks: [
            Conv(out: 3, kernel: 3, padding: 1, act: HardSwish, weight_bits: Float, act_bits: Float),
            Residual(blocks: [DepthwiseSeparable(out: 3, kernel: 3, padding: 1, act: Relu6, weight_bits: Float, act_bits: Float)], act: Identity, act_bits: Float),
            AvgPool(kernel: 2, stride: 2),
            MaxPool(kernel: 2, stride: 1),
            Conv(out: 2, kernel: 1, act: Identity, weight_bits: Float, act_bits: Float),
            GlobalAvgPool,
            Fc(out: 3, act: Identity, weight_bits: Float, act_bits: Float),
        ])"#;
        let g = NetGenotype::from_ron(text, "t").unwrap();
        assert!(matches!(g.blocks[1], Block::Residual { .. }));
        let plan = g.plan(ImageShape { h: 6, w: 6, c: 2 }, 3).unwrap();
        let mut params = Params::init(&plan, 3);
        for (i, v) in params.values_mut().enumerate() {
            *v += 0.01 * ((i % 7) as f32 - 3.0);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x: Vec<f32> = (0..2 * 72).map(|_| rng.random::<f32>()).collect();
        let y = [0u32, 2];
        let mut bad = Vec::new();
        let mut count = 0;
        // Plain cross-entropy and with label smoothing.
        for smoothing in [0.0, 0.2] {
            let loss = |p: &Params| loss_and_grad_smoothed(&plan, p, None, &x, &y, 2.0, smoothing);
            let (_, grads) = loss(&params);
            let analytic: Vec<f32> = grads.values().copied().collect();
            count = analytic.len();
            for (idx, &a) in analytic.iter().enumerate() {
                let eps = 2e-3f32;
                let mut p1 = params.clone();
                *p1.values_mut().nth(idx).unwrap() += eps;
                let mut p2 = params.clone();
                *p2.values_mut().nth(idx).unwrap() -= eps;
                let num = (loss(&p1).0 - loss(&p2).0) / (2.0 * eps);
                if (num - a).abs() > 2e-3 + 0.05 * a.abs().max(num.abs()) {
                    bad.push(format!(
                        "smoothing {smoothing}, parameter {idx}: analytic {a}, numeric {num}"
                    ));
                }
            }
        }
        assert!(bad.is_empty(), "{} of {count}: {bad:#?}", bad.len());
    }
}
