//! The evaluator the co-search calls: train a genotype, quantise it, measure the float and
//! the integer accuracy on the test split, and lower it for the accelerator model.

use crate::data::{Dataset, Split, SplitRecord};
use crate::error::Infeasible;
use crate::genotype::{Activation, BitWidth, Block, NetGenotype};
use crate::quant::{IntModel, fake_quant};
use crate::train::{Hooks, TrainConfig, TrainError, Trained, accuracy, train};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Version of the evaluator; part of any cache key for its results.
pub const EVALUATOR_VERSION: u32 = 2;

/// What one trained candidate scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetEvaluation {
    pub evaluator_version: u32,
    /// [`NetGenotype::key`].
    pub genotype_key: String,
    /// Test accuracy of the float network (before any quantisation-aware fine-tuning).
    pub float_accuracy: f64,
    /// Test accuracy of the fake-quantised float network (the training-time view).
    pub fake_quant_accuracy: f64,
    /// Test accuracy of the integer-arithmetic network; `None` when a layer is Float.
    pub quantized_accuracy: Option<f64>,
    /// The accuracy that counts: `quantized_accuracy`, or the float one for float networks.
    pub accuracy: f64,
    /// Weights plus biases.
    pub params: u64,
    /// Multiply-accumulates per image.
    pub macs: u64,
    /// Weight storage in bits (ternary at 1.58 bits per weight, float at 32).
    pub weight_bits_total: f64,
    /// The network as accelerator layers with per-layer precisions.
    pub network: tessera_accel::Network,
    /// Wall time of training and quantisation, ms.
    pub train_ms: f64,
    /// Float training epochs run.
    pub epochs: u32,
    /// Quantisation-aware fine-tuning epochs run.
    pub qat_epochs: u32,
    /// How the network was quantised.
    pub quantisation: String,
    pub seed: u64,
    pub split: SplitRecord,
    /// Test samples the accuracies are measured on.
    pub test_samples: usize,
}

/// Train and evaluate a genotype. Thread-safe; uses the current rayon pool. An infeasible
/// genotype or a diverged training is an [`Infeasible`] with the reason.
pub fn train_and_evaluate(
    genotype: &NetGenotype,
    data: &Dataset,
    split: &Split,
    cfg: &TrainConfig,
    seed: u64,
) -> Result<NetEvaluation, Infeasible> {
    match train_and_evaluate_full(genotype, data, split, cfg, seed, &Hooks::default()) {
        Ok((e, _)) => Ok(e),
        Err(TrainError::Infeasible(i)) => Err(i),
        Err(TrainError::Cancelled) => Err(Infeasible::new("cancelled")),
    }
}

/// As [`train_and_evaluate`], also returning the trained network (for export and
/// verification) and taking progress / cancel hooks.
pub fn train_and_evaluate_full(
    genotype: &NetGenotype,
    data: &Dataset,
    split: &Split,
    cfg: &TrainConfig,
    seed: u64,
    hooks: &Hooks,
) -> Result<(NetEvaluation, Trained), TrainError> {
    let plan = genotype.plan(data.input_shape(), data.classes())?;
    let t0 = std::time::Instant::now();
    let trained = train(&plan, data, split, cfg, seed, hooks)?;
    let train_ms = t0.elapsed().as_secs_f64() * 1e3;
    let e = evaluate(
        genotype,
        &trained,
        data,
        split,
        seed,
        train_ms,
        trained.epochs,
        trained.qat_epochs,
    );
    Ok((e, trained))
}

/// Test accuracies of trained weights, measured now.
pub struct Accuracies {
    pub float: f64,
    pub fake_quant: f64,
    pub integer: Option<f64>,
}

/// Float, fake-quantised and integer test accuracy of a trained network.
pub fn test_accuracies(trained: &Trained, data: &Dataset, split: &Split) -> Accuracies {
    let plan = &trained.plan;
    let tx = trained.normaliser.rows(data, &split.test);
    let ty: Vec<u32> = split.test.iter().map(|&i| data.y[i]).collect();
    let float = accuracy(plan, &trained.float_params, None, &tx, &ty);
    let fq = fake_quant(plan, &trained.params, &trained.calibration);
    let fake_quant = accuracy(plan, &trained.params, Some(&fq), &tx, &ty);
    let integer = IntModel::build(plan, &trained.params, &trained.calibration)
        .map(|m| integer_accuracy(&m, &tx, &ty));
    Accuracies {
        float,
        fake_quant,
        integer,
    }
}

/// Accuracy of the integer network on normalised rows.
pub fn integer_accuracy(model: &IntModel, x: &[f32], y: &[u32]) -> f64 {
    let size = model.plan.input.h * model.plan.input.w * model.plan.input.c;
    if y.is_empty() {
        return 0.0;
    }
    let correct: usize = (0..y.len())
        .into_par_iter()
        .filter(|&i| {
            model.predict(&model.quantize_input(&x[i * size..(i + 1) * size])) == y[i] as usize
        })
        .count();
    correct as f64 / y.len() as f64
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    genotype: &NetGenotype,
    trained: &Trained,
    data: &Dataset,
    split: &Split,
    seed: u64,
    train_ms: f64,
    epochs: u32,
    qat_epochs: u32,
) -> NetEvaluation {
    let plan = &trained.plan;
    let acc = test_accuracies(trained, data, split);
    let weight_bits_total = plan
        .nodes
        .iter()
        .filter_map(|n| {
            n.weight_shape()
                .map(|(k, o)| (k * o) as f64 * n.weight_bits.nominal_bits())
        })
        .sum();
    NetEvaluation {
        evaluator_version: EVALUATOR_VERSION,
        genotype_key: genotype.key(),
        float_accuracy: acc.float,
        fake_quant_accuracy: acc.fake_quant,
        quantized_accuracy: acc.integer,
        accuracy: acc.integer.unwrap_or(acc.float),
        params: plan.parameter_count(),
        macs: plan.macs(),
        weight_bits_total,
        network: crate::lower::lower(plan, &genotype.name),
        train_ms,
        epochs,
        qat_epochs,
        quantisation: trained.quantisation.clone(),
        seed,
        split: split.record(data),
        test_samples: split.test.len(),
    }
}

/// The genes of the digits search space, from which [`DigitsGenes::genotype`] builds a
/// network for 8 x 8 x 1 inputs and 10 classes:
///
/// * `conv_layers` (0..=3) convolutions of `kernel` x `kernel` (3 or 5, "same" padding),
///   the i-th with `conv_width << i` channels (`conv_width` 1..=64), each followed by a
///   2 x 2 max pooling while the feature map is at least 4 x 4; when `depthwise` is set,
///   every convolution after the first is depthwise-separable;
/// * then, when `hidden` > 0, a fully connected layer of `hidden` units;
/// * then the 10-way classifier.
///
/// Every layer uses `weight_bits` and `act_bits`; the input is 8-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DigitsGenes {
    pub conv_layers: u32,
    pub conv_width: u32,
    pub kernel: u32,
    pub depthwise: bool,
    pub hidden: u32,
    pub activation: Activation,
    pub weight_bits: BitWidth,
    pub act_bits: BitWidth,
}

impl DigitsGenes {
    /// The network of these genes (infeasible genes give an infeasible genotype, which
    /// [`NetGenotype::plan`] reports).
    pub fn genotype(&self) -> NetGenotype {
        let mut blocks = Vec::new();
        let mut hw = 8usize;
        let k = self.kernel as usize;
        for i in 0..self.conv_layers {
            let out = (self.conv_width as usize) << i;
            let conv = if self.depthwise && i > 0 {
                Block::DepthwiseSeparable {
                    out,
                    kernel: k,
                    stride: 1,
                    padding: k / 2,
                    act: self.activation,
                    weight_bits: self.weight_bits,
                    act_bits: self.act_bits,
                }
            } else {
                Block::Conv {
                    out,
                    kernel: k,
                    stride: 1,
                    padding: k / 2,
                    act: self.activation,
                    weight_bits: self.weight_bits,
                    act_bits: self.act_bits,
                }
            };
            blocks.push(conv);
            if hw >= 4 {
                blocks.push(Block::MaxPool {
                    kernel: 2,
                    stride: 2,
                });
                hw /= 2;
            }
        }
        if self.hidden > 0 {
            blocks.push(Block::Fc {
                out: self.hidden as usize,
                act: self.activation,
                weight_bits: self.weight_bits,
                act_bits: self.act_bits,
            });
        }
        blocks.push(Block::Fc {
            out: 10,
            act: Activation::Identity,
            weight_bits: self.weight_bits,
            act_bits: self.act_bits,
        });
        NetGenotype {
            format_version: crate::genotype::GENOTYPE_FORMAT_VERSION,
            name: format!(
                "digits-c{}w{}k{}{}-h{}-{}-w{}a{}",
                self.conv_layers,
                self.conv_width,
                self.kernel,
                if self.depthwise { "dw" } else { "" },
                self.hidden,
                format!("{:?}", self.activation).to_lowercase(),
                self.weight_bits.label(),
                self.act_bits.label()
            ),
            input_bits: BitWidth::Int8,
            blocks,
        }
    }
}

/// The value lists of the digits search space (see [`DigitsGenes`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigitsSpace {
    pub conv_layers: Vec<u32>,
    pub conv_width: Vec<u32>,
    pub kernel: Vec<u32>,
    pub depthwise: Vec<bool>,
    pub hidden: Vec<u32>,
    pub activation: Vec<Activation>,
    pub weight_bits: Vec<BitWidth>,
    pub act_bits: Vec<BitWidth>,
}

impl Default for DigitsSpace {
    fn default() -> Self {
        Self {
            conv_layers: vec![0, 1, 2, 3],
            conv_width: vec![4, 8, 16],
            kernel: vec![3, 5],
            depthwise: vec![false, true],
            hidden: vec![0, 16, 32, 64],
            activation: vec![Activation::Relu, Activation::Relu6, Activation::HardSwish],
            weight_bits: vec![
                BitWidth::Ternary,
                BitWidth::Int2,
                BitWidth::Int4,
                BitWidth::Int8,
                BitWidth::Int16,
            ],
            act_bits: vec![BitWidth::Int4, BitWidth::Int8, BitWidth::Int16],
        }
    }
}

impl DigitsSpace {
    /// Number of gene combinations.
    pub fn size(&self) -> u64 {
        [
            self.conv_layers.len(),
            self.conv_width.len(),
            self.kernel.len(),
            self.depthwise.len(),
            self.hidden.len(),
            self.activation.len(),
            self.weight_bits.len(),
            self.act_bits.len(),
        ]
        .iter()
        .map(|&n| n as u64)
        .product()
    }

    /// A uniformly drawn point (for benches and random baselines).
    pub fn sample(&self, rng: &mut impl rand::Rng) -> DigitsGenes {
        use rand::RngExt;
        fn pick<T: Copy>(v: &[T], rng: &mut impl rand::Rng) -> T {
            v[rng.random_range(0..v.len())]
        }
        DigitsGenes {
            conv_layers: pick(&self.conv_layers, rng),
            conv_width: pick(&self.conv_width, rng),
            kernel: pick(&self.kernel, rng),
            depthwise: pick(&self.depthwise, rng),
            hidden: pick(&self.hidden, rng),
            activation: pick(&self.activation, rng),
            weight_bits: pick(&self.weight_bits, rng),
            act_bits: pick(&self.act_bits, rng),
        }
    }
}

impl TrainConfig {
    /// The budget used per candidate in searches: 20 float epochs (cosine), patience 5,
    /// 5 fine-tuning epochs, 16-sample gradient chunks (two per batch: fewer, larger
    /// GEMMs), no label smoothing and no augmentation. Chosen on validation data of 12
    /// random candidates (the `tune` example, docs/nn.md): at this budget label smoothing
    /// and the shift lowered the fine-tuned 2-bit and ternary candidates.
    pub fn search() -> Self {
        Self {
            max_epochs: 20,
            patience: 5,
            qat_epochs: 5,
            chunk: 16,
            label_smoothing: 0.0,
            augment_shift: 0,
            ..Self::default()
        }
    }
}
