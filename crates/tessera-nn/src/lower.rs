//! Lowering a planned network to the accelerator model's layer list.
//!
//! Every convolution (dense, depthwise as `groups = channels`, pointwise) and fully
//! connected layer becomes a `tessera_accel` layer with its real shape and its own operand
//! precisions: the weight bit-width, and the bit-width of the activations it reads (the
//! previous layer's output, or the network input). Pooling, activations and residual adds
//! run outside the array and, as everywhere in `tessera_accel`, are not modelled. Layers
//! with a float operand carry no precision and are charged at the accelerator's own.

use crate::genotype::{BitWidth, NodeKind, Plan};
use tessera_accel::{Layer, LayerPrecision, Network, Op};

/// The accelerator layer list of a plan (batch 1: one image per inference).
pub fn lower(plan: &Plan, name: &str) -> Network {
    let mut layers = Vec::new();
    let mut in_bits = plan.input_bits;
    for node in &plan.nodes {
        let op = match node.kind {
            NodeKind::Conv(g) => Some(Op::Conv {
                in_h: g.input.h as u32,
                in_w: g.input.w as u32,
                in_c: g.input.c as u32,
                out_c: g.output.c as u32,
                kernel_h: g.kernel as u32,
                kernel_w: g.kernel as u32,
                stride_h: g.stride as u32,
                stride_w: g.stride as u32,
                pad_h: g.padding as u32,
                pad_w: g.padding as u32,
                groups: if g.depthwise { g.input.c as u32 } else { 1 },
            }),
            NodeKind::Fc { inputs, outputs } => Some(Op::Fc {
                in_features: inputs as u32,
                out_features: outputs as u32,
            }),
            _ => None,
        };
        if let Some(op) = op {
            layers.push(Layer {
                name: node.name.clone(),
                op,
                precision: layer_precision(node.weight_bits, in_bits),
            });
        }
        in_bits = node.act_bits;
    }
    Network {
        format_version: tessera_accel::layer::NETWORK_FORMAT_VERSION,
        name: name.to_string(),
        source: "tessera-nn genotype".into(),
        batch: 1,
        layers,
    }
}

fn layer_precision(w: BitWidth, a: BitWidth) -> Option<LayerPrecision> {
    Some(LayerPrecision {
        weight: w.precision()?,
        activation: a.precision()?,
    })
}
