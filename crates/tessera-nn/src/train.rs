//! Deterministic training: mini-batch SGD with momentum or Adam, early stopping on the
//! validation split, then (for layers below 8 bits) quantisation-aware fine-tuning. The
//! default recipe (label smoothing, a ±1-pixel shift on 30 % of the images, 60 epochs) was
//! chosen on validation data only; docs/nn.md says how.
//!
//! Determinism: initialisation, shuffling and augmentation come from ChaCha8 streams
//! derived from the seed. Each mini-batch is cut into chunks of [`TrainConfig::chunk`] samples, a number
//! that does not depend on the thread count; rayon computes the chunks' gradients in
//! parallel and they are summed in chunk order, so the weights are bit-identical on any
//! number of threads.
//!
//! Quantisation: a network whose weights and activations are all 8 or 16 bits is quantised
//! after training (post-training quantisation, calibrated on the training split). A network
//! with any ternary, 2- or 4-bit layer (or input) is fine-tuned with fake quantisation in
//! the forward pass and the straight-through estimator in the backward pass (Bengio et al.
//! 2013; weights as in TWN and [`crate::quant`]), starting from the trained float weights,
//! for up to [`TrainConfig::qat_epochs`] epochs; the epoch with the best validation
//! accuracy is kept.

use crate::data::{Dataset, Normaliser, Split};
use crate::error::Infeasible;
use crate::genotype::Plan;
use crate::net::{FakeQuant, Params, forward, loss_and_grad_smoothed};
use crate::quant::{Calibration, calibrate};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// The optimiser and its learning rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Optimizer {
    /// SGD with (heavy-ball) momentum: `v = momentum * v + g; w -= lr * v`.
    Sgd { lr: f32, momentum: f32 },
    /// Adam (Kingma & Ba, ICLR 2015) with the paper's beta1 = 0.9, beta2 = 0.999,
    /// eps = 1e-8.
    Adam { lr: f32 },
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub optimizer: Optimizer,
    /// Samples per mini-batch.
    pub batch: usize,
    /// Samples per gradient chunk (the unit of parallel work; fixes the summation order).
    pub chunk: usize,
    pub max_epochs: u32,
    /// Stop after this many epochs without a better validation accuracy.
    pub patience: u32,
    /// Quantisation-aware fine-tuning epochs (networks with layers below 8 bits).
    pub qat_epochs: u32,
    /// Learning rate of the fine-tuning, as a fraction of the training rate.
    pub qat_lr_factor: f32,
    /// L2 penalty on weights (not biases): `weight_decay * w` is added to each gradient.
    pub weight_decay: f32,
    /// Cosine learning-rate decay from the full rate to 0 over `max_epochs` (Loshchilov &
    /// Hutter, SGDR, ICLR 2017, without restarts); otherwise constant.
    pub cosine: bool,
    /// Use at most this many training samples (the first ones of the split's list, which
    /// is sorted): for quick tests.
    pub max_train_samples: Option<usize>,
    /// Image inputs only: shift each training image by up to this many pixels in each
    /// direction (drawn from the seeded shuffle stream, zero fill); 0 turns it off.
    #[serde(default)]
    pub augment_shift: usize,
    /// With `augment_shift`: the probability that a training image is shifted at all (the
    /// others are seen unshifted); 1 shifts every image.
    #[serde(default = "one")]
    pub augment_prob: f32,
    /// Label smoothing (Szegedy et al., CVPR 2016): the target puts `1 - e` on the true
    /// class and `e / classes` on every class; 0 turns it off.
    #[serde(default)]
    pub label_smoothing: f32,
    /// Linear learning-rate warm-up over this many epochs of float training (Goyal et al.
    /// 2017), before the cosine decay; 0 turns it off.
    #[serde(default)]
    pub warmup_epochs: u32,
}

fn one() -> f32 {
    1.0
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            optimizer: Optimizer::Adam { lr: 1e-2 },
            batch: 32,
            chunk: 8,
            max_epochs: 60,
            patience: 15,
            qat_epochs: 10,
            qat_lr_factor: 0.3,
            weight_decay: 5e-4,
            cosine: true,
            max_train_samples: None,
            augment_shift: 1,
            augment_prob: 0.3,
            label_smoothing: 0.2,
            warmup_epochs: 0,
        }
    }
}

/// One epoch's figures, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 0-based epoch within its phase.
    pub epoch: u32,
    /// True during quantisation-aware fine-tuning.
    pub qat: bool,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
}

/// Optional callbacks: per-epoch progress and a cancel flag (checked between batches).
#[derive(Default, Clone, Copy)]
pub struct Hooks<'a> {
    pub on_epoch: Option<&'a (dyn Fn(&EpochStats) + Sync)>,
    pub cancel: Option<&'a AtomicBool>,
}

/// Why training ended without a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("infeasible: {0}")]
    Infeasible(#[from] Infeasible),
    #[error("training cancelled")]
    Cancelled,
}

/// A trained network: what export, integer inference and verification need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trained {
    pub plan: Plan,
    /// Final weights (after quantisation-aware fine-tuning when there was some).
    pub params: Params,
    /// The float weights at the end of float training (before any fine-tuning).
    pub float_params: Params,
    pub normaliser: Normaliser,
    /// Activation calibration of `params` (maxima over the training split).
    pub calibration: Calibration,
    pub epochs: u32,
    pub qat_epochs: u32,
    pub history: Vec<EpochStats>,
    /// "none (float)", "post-training (8/16-bit)" or "quantisation-aware (STE)".
    pub quantisation: String,
}

fn derive_seed(seed: u64, stream: u64) -> u64 {
    // SplitMix64 finaliser of (seed, stream): independent streams from one seed.
    let mut z = seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Top-1 accuracy of `params` (with optional fake quantisation) on normalised rows.
pub fn accuracy(plan: &Plan, params: &Params, fq: Option<&FakeQuant>, x: &[f32], y: &[u32]) -> f64 {
    let size = plan.input.h * plan.input.w * plan.input.c;
    let n = y.len();
    if n == 0 {
        return 0.0;
    }
    const CHUNK: usize = 64;
    let correct: usize = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let lo = c * CHUNK;
            let hi = (lo + CHUNK).min(n);
            let logits = forward(plan, params, fq, &x[lo * size..hi * size], hi - lo);
            logits
                .chunks_exact(plan.classes)
                .zip(&y[lo..hi])
                .filter(|(row, t)| argmax_f32(row) == **t as usize)
                .count()
        })
        .sum();
    correct as f64 / n as f64
}

/// Mean cross-entropy loss and top-1 accuracy on normalised rows.
pub fn loss_and_accuracy(
    plan: &Plan,
    params: &Params,
    fq: Option<&FakeQuant>,
    x: &[f32],
    y: &[u32],
) -> (f64, f64) {
    let size = plan.input.h * plan.input.w * plan.input.c;
    let n = y.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    const CHUNK: usize = 64;
    let parts: Vec<(f64, usize)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let lo = c * CHUNK;
            let hi = (lo + CHUNK).min(n);
            let logits = forward(plan, params, fq, &x[lo * size..hi * size], hi - lo);
            let mut loss = 0.0f64;
            let mut correct = 0;
            for (row, &t) in logits.chunks_exact(plan.classes).zip(&y[lo..hi]) {
                let mx = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let z: f64 = row.iter().map(|&v| f64::from(v - mx).exp()).sum();
                loss += z.ln() - f64::from(row[t as usize] - mx);
                correct += usize::from(argmax_f32(row) == t as usize);
            }
            (loss, correct)
        })
        .collect();
    let loss: f64 = parts.iter().map(|p| p.0).sum();
    let correct: usize = parts.iter().map(|p| p.1).sum();
    (loss / n as f64, correct as f64 / n as f64)
}

pub(crate) fn argmax_f32(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

struct OptState {
    step: u32,
    m: Vec<f32>,
    v: Vec<f32>,
}

fn apply_update(
    params: &mut Params,
    grads: &mut Params,
    opt: Optimizer,
    lr_factor: f32,
    wd: f32,
    st: &mut OptState,
) {
    st.step += 1;
    if wd != 0.0 {
        for (p, g) in params.layers.iter().zip(grads.layers.iter_mut()) {
            for (gw, w) in g.w.iter_mut().zip(&p.w) {
                *gw += wd * *w;
            }
        }
    }
    match opt {
        Optimizer::Sgd { lr, momentum } => {
            for ((w, g), v) in params.values_mut().zip(grads.values()).zip(st.m.iter_mut()) {
                *v = momentum * *v + *g;
                *w -= lr * lr_factor * *v;
            }
        }
        Optimizer::Adam { lr } => {
            let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
            let c1 = 1.0 - b1.powi(st.step as i32);
            let c2 = 1.0 - b2.powi(st.step as i32);
            // Layer by layer over contiguous slices (the same arithmetic per value as one
            // pass over `values()`, which the compiler could not vectorise).
            let mut off = 0;
            for (p, g) in params.layers.iter_mut().zip(&grads.layers) {
                for (ws, gs) in [(&mut p.w, &g.w), (&mut p.b, &g.b)] {
                    let len = ws.len();
                    let (ms, vs) = (&mut st.m[off..off + len], &mut st.v[off..off + len]);
                    for (((w, g), m), v) in ws.iter_mut().zip(gs).zip(ms).zip(vs) {
                        *m = b1 * *m + (1.0 - b1) * *g;
                        *v = b2 * *v + (1.0 - b2) * *g * *g;
                        *w -= lr * lr_factor * (*m / c1) / ((*v / c2).sqrt() + eps);
                    }
                    off += len;
                }
            }
        }
    }
}

/// Append `img` (h x w x c) shifted by (dy, dx) pixels, zero-filled.
fn push_shifted(out: &mut Vec<f32>, img: &[f32], s: crate::data::ImageShape, dy: i64, dx: i64) {
    for y in 0..s.h as i64 {
        for x in 0..s.w as i64 {
            let (sy, sx) = (y - dy, x - dx);
            if sy >= 0 && sy < s.h as i64 && sx >= 0 && sx < s.w as i64 {
                let o = (sy as usize * s.w + sx as usize) * s.c;
                out.extend_from_slice(&img[o..o + s.c]);
            } else {
                out.extend(std::iter::repeat_n(0.0, s.c));
            }
        }
    }
}

/// Per-layer weight scales (None for float layers), fixed for one QAT epoch.
fn epoch_scales(plan: &Plan, params: &Params) -> Vec<Option<Vec<f32>>> {
    let mut out = vec![None; params.layers.len()];
    for node in &plan.nodes {
        if let Some(pi) = node.param {
            let p = &params.layers[pi];
            out[pi] = crate::quant::weight_scales(&p.w, p.k, p.n, node.weight_bits);
        }
    }
    out
}

/// Fake quantisation for one QAT step: weights at the epoch's scales (ternary: TWN per
/// step), activations from the calibration.
fn step_quant(
    plan: &Plan,
    params: &Params,
    cal: &Calibration,
    scales: &[Option<Vec<f32>>],
) -> FakeQuant {
    let mut fq = fake_quant_acts(plan, cal);
    fq.weights = dequantized(plan, params, scales);
    fq
}

/// Fake quantisation of the activations only.
fn fake_quant_acts(plan: &Plan, cal: &Calibration) -> FakeQuant {
    crate::quant::act_only(plan, cal)
}

/// Dequantised weights of every layer at the given per-layer scales (None: float).
fn dequantized(plan: &Plan, params: &Params, scales: &[Option<Vec<f32>>]) -> Vec<Option<Vec<f32>>> {
    let mut weights = vec![None; params.layers.len()];
    for node in &plan.nodes {
        if let Some(pi) = node.param {
            let p = &params.layers[pi];
            weights[pi] = scales[pi].as_ref().and_then(|s| {
                crate::quant::quantize_with_scales(&p.w, p.k, p.n, node.weight_bits, s)
                    .map(|q| q.dequantize(p.n))
            });
        }
    }
    weights
}

/// Fake quantisation of the weights only (activations float), for calibration.
fn weights_only(plan: &Plan, params: &Params) -> FakeQuant {
    weights_only_with(plan, params, &epoch_scales(plan, params))
}

/// As [`weights_only`], with the weight scales of `params` already computed.
fn weights_only_with(plan: &Plan, params: &Params, scales: &[Option<Vec<f32>>]) -> FakeQuant {
    FakeQuant {
        input: crate::quant::input_quant(plan),
        weights: dequantized(plan, params, scales),
        acts: vec![None; plan.nodes.len()],
    }
}

/// One phase of training (float, or with fake quantisation): returns the best parameters
/// (and calibration, for QAT) by validation accuracy.
#[allow(clippy::too_many_arguments)]
fn run_phase(
    plan: &Plan,
    mut params: Params,
    tx: &[f32],
    ty: &[u32],
    vx: &[f32],
    vy: &[u32],
    cfg: &TrainConfig,
    seed: u64,
    qat: bool,
    epochs_max: u32,
    hooks: &Hooks,
    history: &mut Vec<EpochStats>,
) -> Result<(Params, Option<Calibration>, u32), TrainError> {
    let size = plan.input.h * plan.input.w * plan.input.c;
    let count = params.values().count();
    let mut st = OptState {
        step: 0,
        m: vec![0.0; count],
        v: vec![0.0; count],
    };
    let lr_factor = if qat { cfg.qat_lr_factor } else { 1.0 };
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, if qat { 3 } else { 2 }));
    let mut order: Vec<usize> = (0..ty.len()).collect();
    let batch = cfg.batch.max(1);
    let chunk = cfg.chunk.max(1);
    // While fine-tuning, the weight scales of the current weights: computed once per epoch
    // (at its end) for the calibration, the validation run and the next epoch's steps.
    let mut scales = if qat {
        epoch_scales(plan, &params)
    } else {
        Vec::new()
    };
    let mut cal = if qat {
        Some(calibrate(
            plan,
            &params,
            Some(&weights_only_with(plan, &params, &scales)),
            tx,
            ty.len(),
        ))
    } else {
        None
    };
    // `fake_quant(plan, p, c)`, reusing the scales of `p`.
    let eval_fq = |p: &Params, c: &Option<Calibration>, scales: &[Option<Vec<f32>>]| {
        c.as_ref().map(|c| {
            let mut fq = fake_quant_acts(plan, c);
            fq.weights = dequantized(plan, p, scales);
            fq
        })
    };
    // Keep the epoch of highest validation accuracy (fake-quantised while fine-tuning),
    // ties to the lower validation loss.
    let better = |(l, a): (f64, f64), (bl, ba): (f64, f64)| a > ba || (a == ba && l < bl);
    let mut best_metrics = loss_and_accuracy(
        plan,
        &params,
        eval_fq(&params, &cal, &scales).as_ref(),
        vx,
        vy,
    );
    let mut best = (params.clone(), cal.clone());
    let mut since_best = 0u32;
    let mut epochs = 0u32;
    let mut xb = Vec::with_capacity(batch * size);
    let mut yb = Vec::with_capacity(batch);
    for epoch in 0..epochs_max {
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0f64;
        for (bidx_no, bidx) in order.chunks(batch).enumerate() {
            if hooks.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(TrainError::Cancelled);
            }
            xb.clear();
            yb.clear();
            for &i in bidx {
                let img = &tx[i * size..(i + 1) * size];
                let s = cfg.augment_shift as i64;
                if s > 0
                    && plan.input.h > 1
                    && plan.input.w > 1
                    && (cfg.augment_prob >= 1.0 || rng.random::<f32>() < cfg.augment_prob)
                {
                    let dy = rng.random_range(-s..=s);
                    let dx = rng.random_range(-s..=s);
                    push_shifted(&mut xb, img, plan.input, dy, dx);
                } else {
                    xb.extend_from_slice(img);
                }
                yb.push(ty[i]);
            }
            let fq = cal.as_ref().map(|c| step_quant(plan, &params, c, &scales));
            let denom = bidx.len() as f32;
            let parts: Vec<(f32, Params)> = (0..bidx.len().div_ceil(chunk))
                .into_par_iter()
                .map(|c| {
                    let lo = c * chunk;
                    let hi = (lo + chunk).min(bidx.len());
                    loss_and_grad_smoothed(
                        plan,
                        &params,
                        fq.as_ref(),
                        &xb[lo * size..hi * size],
                        &yb[lo..hi],
                        denom,
                        cfg.label_smoothing,
                    )
                })
                .collect();
            let mut parts = parts.into_iter();
            let (mut loss, mut grads) = parts.next().expect("a batch has at least one chunk");
            for (l, g) in parts {
                loss += l;
                grads.add_assign(&g);
            }
            if !loss.is_finite() || !grads.all_finite() {
                return Err(Infeasible::new(format!(
                    "training diverged in epoch {epoch}{} (loss {loss})",
                    if qat {
                        " of quantisation-aware fine-tuning"
                    } else {
                        ""
                    }
                ))
                .into());
            }
            loss_sum += f64::from(loss) * bidx.len() as f64;
            let mut sched = if cfg.cosine {
                0.5 * (1.0 + (std::f32::consts::PI * epoch as f32 / epochs_max.max(1) as f32).cos())
            } else {
                1.0
            };
            if !qat && epoch < cfg.warmup_epochs {
                let steps = ty.len().div_ceil(batch);
                let done = epoch as usize * steps + bidx_no + 1;
                sched *= done as f32 / (cfg.warmup_epochs as usize * steps) as f32;
            }
            apply_update(
                &mut params,
                &mut grads,
                cfg.optimizer,
                lr_factor * sched,
                cfg.weight_decay,
                &mut st,
            );
        }
        epochs += 1;
        if qat {
            scales = epoch_scales(plan, &params);
            cal = Some(calibrate(
                plan,
                &params,
                Some(&weights_only_with(plan, &params, &scales)),
                tx,
                ty.len(),
            ));
        }
        let metrics = loss_and_accuracy(
            plan,
            &params,
            eval_fq(&params, &cal, &scales).as_ref(),
            vx,
            vy,
        );
        let stats = EpochStats {
            epoch,
            qat,
            train_loss: loss_sum / ty.len().max(1) as f64,
            val_loss: metrics.0,
            val_accuracy: metrics.1,
        };
        history.push(stats);
        if let Some(f) = hooks.on_epoch {
            f(&stats);
        }
        if better(metrics, best_metrics) {
            best_metrics = metrics;
            best = (params.clone(), cal.clone());
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= cfg.patience.max(1) {
                break;
            }
        }
    }
    Ok((best.0, best.1, epochs))
}

/// Train a planned network on a split of a data set.
pub fn train(
    plan: &Plan,
    data: &Dataset,
    split: &Split,
    cfg: &TrainConfig,
    seed: u64,
    hooks: &Hooks,
) -> Result<Trained, TrainError> {
    if cfg.batch == 0 || cfg.chunk == 0 {
        return Err(Infeasible::new("batch and chunk must be at least 1").into());
    }
    let input = data.input_shape();
    if (plan.input.h, plan.input.w, plan.input.c) != (input.h, input.w, input.c)
        || plan.classes != data.classes()
    {
        return Err(Infeasible::new("the plan was made for another data set shape").into());
    }
    let train_rows: &[usize] = match cfg.max_train_samples {
        Some(m) => &split.train[..m.min(split.train.len())],
        None => &split.train,
    };
    if train_rows.is_empty() {
        return Err(Infeasible::new("the training split is empty").into());
    }
    let val_rows: &[usize] = if split.validation.is_empty() {
        train_rows
    } else {
        &split.validation
    };
    let normaliser = Normaliser::fit(data, train_rows);
    let tx = normaliser.rows(data, train_rows);
    let ty: Vec<u32> = train_rows.iter().map(|&i| data.y[i]).collect();
    let vx = normaliser.rows(data, val_rows);
    let vy: Vec<u32> = val_rows.iter().map(|&i| data.y[i]).collect();
    let init = Params::init(plan, derive_seed(seed, 1));
    let mut history = Vec::new();
    let (float_params, _, epochs) = run_phase(
        plan,
        init,
        &tx,
        &ty,
        &vx,
        &vy,
        cfg,
        seed,
        false,
        cfg.max_epochs,
        hooks,
        &mut history,
    )?;
    let integer = plan.all_integer();
    let (params, calibration, qat_epochs, quantisation) =
        if integer && plan.needs_qat() && cfg.qat_epochs > 0 {
            let (p, c, e) = run_phase(
                plan,
                float_params.clone(),
                &tx,
                &ty,
                &vx,
                &vy,
                cfg,
                seed,
                true,
                cfg.qat_epochs,
                hooks,
                &mut history,
            )?;
            let c = c.unwrap_or_else(|| {
                calibrate(plan, &p, Some(&weights_only(plan, &p)), &tx, ty.len())
            });
            (p, c, e, "quantisation-aware (STE)")
        } else {
            let c = calibrate(
                plan,
                &float_params,
                Some(&weights_only(plan, &float_params)),
                &tx,
                ty.len(),
            );
            let how = if integer {
                "post-training (8/16-bit)"
            } else {
                "none (float)"
            };
            (float_params.clone(), c, 0, how)
        };
    Ok(Trained {
        plan: plan.clone(),
        params,
        float_params,
        normaliser,
        calibration,
        epochs,
        qat_epochs,
        history,
        quantisation: quantisation.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_images_move_and_zero_fill() {
        let s = crate::data::ImageShape { h: 2, w: 3, c: 1 };
        let img = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = Vec::new();
        push_shifted(&mut out, &img, s, 0, 1);
        assert_eq!(out, vec![0.0, 1.0, 2.0, 0.0, 4.0, 5.0]);
        out.clear();
        push_shifted(&mut out, &img, s, -1, 0);
        assert_eq!(out, vec![4.0, 5.0, 6.0, 0.0, 0.0, 0.0]);
    }
}
