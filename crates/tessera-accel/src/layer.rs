//! DNN layers and networks, and their lowering to the GEMMs a systolic array runs.
//!
//! A convolution lowers by im2col to `groups` independent GEMMs of
//! `M = batch * out_h * out_w`, `N = out_c / groups`, `K = kernel_h * kernel_w * in_c / groups`
//! (a depthwise convolution is the case `groups = in_c = out_c`); a fully connected layer to
//! `M = batch, N = out, K = in`; attention matmuls to one GEMM per (batch item, head) whose
//! second operand is an activation, not a weight.

use crate::error::AccelError;
use serde::{Deserialize, Serialize};
use tessera_arch::accel::Precision;

/// Format version of network files.
pub const NETWORK_FORMAT_VERSION: u32 = 1;

fn one() -> u32 {
    1
}

fn zero() -> u32 {
    0
}

/// What a layer computes. Only layers with multiply-accumulates are listed; pooling,
/// activations, normalisation and element-wise adds run outside the array and are not modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Op {
    /// 2-D convolution on an `in_h x in_w x in_c` input (unpadded size). `groups = in_c =
    /// out_c` is a depthwise convolution.
    Conv {
        in_h: u32,
        in_w: u32,
        in_c: u32,
        out_c: u32,
        kernel_h: u32,
        kernel_w: u32,
        #[serde(default = "one")]
        stride_h: u32,
        #[serde(default = "one")]
        stride_w: u32,
        #[serde(default = "zero")]
        pad_h: u32,
        #[serde(default = "zero")]
        pad_w: u32,
        #[serde(default = "one")]
        groups: u32,
    },
    /// Fully connected layer on one vector per batch item.
    Fc { in_features: u32, out_features: u32 },
    /// `(m x k) * (k x n)` with a weight matrix as the second operand (e.g. a linear layer
    /// applied to `m` tokens); `m` is per batch item.
    Gemm { m: u32, n: u32, k: u32 },
    /// Attention scores `Q K^T`: per head a `(seq x head_dim) * (head_dim x seq)` product of
    /// two activations.
    AttnScore {
        seq_len: u32,
        head_dim: u32,
        heads: u32,
    },
    /// Attention context `softmax(Q K^T) V`: per head `(seq x seq) * (seq x head_dim)`.
    AttnContext {
        seq_len: u32,
        head_dim: u32,
        heads: u32,
    },
}

/// Operand precisions of one layer, overriding the accelerator's (mixed-precision
/// networks). The model then charges storage, traffic and MAC energy at these widths (see
/// [`crate::model`]); a layer wider than the accelerator's datapath cannot run on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerPrecision {
    /// Weights (the filter operand; attention's second operand uses `activation`).
    pub weight: Precision,
    /// Input and output activations.
    pub activation: Precision,
}

/// A named layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub name: String,
    pub op: Op,
    /// Per-layer operand precisions; absent: the accelerator's precisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<LayerPrecision>,
}

/// A network: a list of layers run one after another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Must equal [`NETWORK_FORMAT_VERSION`].
    pub format_version: u32,
    pub name: String,
    /// Where the shapes come from.
    #[serde(default)]
    pub source: String,
    /// Inputs per inference (images or sequences).
    #[serde(default = "one")]
    pub batch: u32,
    pub layers: Vec<Layer>,
}

/// A layer lowered to the GEMMs the array runs: `groups` independent products
/// `(m x k) * (k x n)`, and the distinct data each group touches (im2col duplicates input
/// elements in the array's operand stream but not in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GemmShape {
    pub m: u64,
    pub n: u64,
    pub k: u64,
    pub groups: u64,
    /// True when the second operand is a weight (conv, FC, GEMM); false for attention,
    /// where both operands are activations.
    pub b_is_weight: bool,
    /// Distinct input-activation elements per group.
    pub ifmap_elems: u64,
    /// Distinct second-operand elements per group (weights, or K/V for attention).
    pub filter_elems: u64,
    /// Output elements per group (`m * n`).
    pub ofmap_elems: u64,
    /// The layer's own operand precisions (absent: the accelerator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<LayerPrecision>,
}

/// [`GemmShape`] in u128, before the overflow check.
struct Wide {
    m: u128,
    n: u128,
    k: u128,
    groups: u128,
    b_is_weight: bool,
    ifmap_elems: u128,
    filter_elems: u128,
    ofmap_elems: u128,
}

impl GemmShape {
    /// Multiply-accumulates of the whole layer.
    pub fn macs(&self) -> u64 {
        self.groups * self.m * self.n * self.k
    }
}

impl Op {
    /// Short kind label for tables ("conv", "dwconv", "fc", "gemm", "attn-qk", "attn-av").
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Conv { groups, in_c, .. } if *groups > 1 && groups == in_c => "dwconv",
            Op::Conv { groups, .. } if *groups > 1 => "gconv",
            Op::Conv { .. } => "conv",
            Op::Fc { .. } => "fc",
            Op::Gemm { .. } => "gemm",
            Op::AttnScore { .. } => "attn-qk",
            Op::AttnContext { .. } => "attn-av",
        }
    }

    /// Output height and width of a convolution (floor division, as PyTorch and SCALE-Sim).
    pub fn conv_out_hw(&self) -> Option<(u32, u32)> {
        match *self {
            Op::Conv {
                in_h,
                in_w,
                kernel_h,
                kernel_w,
                stride_h,
                stride_w,
                pad_h,
                pad_w,
                ..
            } => {
                let ph = in_h.checked_add(2 * pad_h)?;
                let pw = in_w.checked_add(2 * pad_w)?;
                if ph < kernel_h || pw < kernel_w || stride_h == 0 || stride_w == 0 {
                    return None;
                }
                Some((
                    (ph - kernel_h) / stride_h + 1,
                    (pw - kernel_w) / stride_w + 1,
                ))
            }
            _ => None,
        }
    }

    /// Number of weights (0 for attention matmuls, which have none).
    pub fn weights(&self) -> u64 {
        match *self {
            Op::Conv {
                in_c,
                out_c,
                kernel_h,
                kernel_w,
                groups,
                ..
            } => {
                u64::from(kernel_h)
                    * u64::from(kernel_w)
                    * u64::from(in_c / groups.max(1))
                    * u64::from(out_c)
            }
            Op::Fc {
                in_features,
                out_features,
            } => u64::from(in_features) * u64::from(out_features),
            Op::Gemm { n, k, .. } => u64::from(n) * u64::from(k),
            Op::AttnScore { .. } | Op::AttnContext { .. } => 0,
        }
    }

    /// Check the shape and lower it for `batch` inputs; the error says what is wrong.
    pub fn lower(&self, batch: u32) -> Result<GemmShape, String> {
        let g = self.lower_unchecked(batch)?;
        // Refuse shapes whose counts would overflow the model's u64 arithmetic (2^50 MACs
        // is about a million times ResNet-50).
        let too_big = |xs: &[u128]| {
            xs.iter()
                .try_fold(1u128, |acc, x| acc.checked_mul(*x))
                .is_none_or(|p| p > 1u128 << 50)
        };
        if too_big(&[g.groups, g.m, g.n, g.k])
            || too_big(&[g.groups, g.ifmap_elems])
            || too_big(&[g.groups, g.m, g.k])
        {
            return Err("layer is too large (more than 2^50 MACs or elements)".into());
        }
        let c = |x: u128| x as u64;
        Ok(GemmShape {
            m: c(g.m),
            n: c(g.n),
            k: c(g.k),
            groups: c(g.groups),
            b_is_weight: g.b_is_weight,
            ifmap_elems: c(g.ifmap_elems),
            filter_elems: c(g.filter_elems),
            ofmap_elems: c(g.ofmap_elems),
            precision: None,
        })
    }

    fn lower_unchecked(&self, batch: u32) -> Result<Wide, String> {
        let b = u128::from(batch);
        if batch == 0 {
            return Err("batch is 0".into());
        }
        let nonzero = |fields: &[(&str, u32)]| -> Result<(), String> {
            for (name, v) in fields {
                if *v == 0 {
                    return Err(format!("{name} is 0; it must be at least 1"));
                }
            }
            Ok(())
        };
        match *self {
            Op::Conv {
                in_h,
                in_w,
                in_c,
                out_c,
                kernel_h,
                kernel_w,
                stride_h,
                stride_w,
                groups,
                ..
            } => {
                nonzero(&[
                    ("in_h", in_h),
                    ("in_w", in_w),
                    ("in_c", in_c),
                    ("out_c", out_c),
                    ("kernel_h", kernel_h),
                    ("kernel_w", kernel_w),
                    ("stride_h", stride_h),
                    ("stride_w", stride_w),
                    ("groups", groups),
                ])?;
                if in_c % groups != 0 || out_c % groups != 0 {
                    return Err(format!(
                        "groups = {groups} must divide in_c = {in_c} and out_c = {out_c}"
                    ));
                }
                let (oh, ow) = self.conv_out_hw().ok_or_else(|| {
                    format!(
                        "kernel {kernel_h}x{kernel_w} is larger than the padded input \
                         ({in_h}x{in_w} plus padding)"
                    )
                })?;
                let g = u128::from(groups);
                let m = b * u128::from(oh) * u128::from(ow);
                let n = u128::from(out_c) / g;
                let k = u128::from(kernel_h) * u128::from(kernel_w) * u128::from(in_c) / g;
                Ok(Wide {
                    m,
                    n,
                    k,
                    groups: g,
                    b_is_weight: true,
                    ifmap_elems: b * u128::from(in_h) * u128::from(in_w) * u128::from(in_c) / g,
                    filter_elems: k * n,
                    ofmap_elems: m * n,
                })
            }
            Op::Fc {
                in_features,
                out_features,
            } => {
                nonzero(&[("in_features", in_features), ("out_features", out_features)])?;
                Ok(Self::plain(
                    b,
                    u128::from(out_features),
                    u128::from(in_features),
                    1,
                    true,
                ))
            }
            Op::Gemm { m, n, k } => {
                nonzero(&[("m", m), ("n", n), ("k", k)])?;
                Ok(Self::plain(
                    b * u128::from(m),
                    u128::from(n),
                    u128::from(k),
                    1,
                    true,
                ))
            }
            Op::AttnScore {
                seq_len,
                head_dim,
                heads,
            } => {
                nonzero(&[
                    ("seq_len", seq_len),
                    ("head_dim", head_dim),
                    ("heads", heads),
                ])?;
                let s = u128::from(seq_len);
                Ok(Self::plain(
                    s,
                    s,
                    u128::from(head_dim),
                    b * u128::from(heads),
                    false,
                ))
            }
            Op::AttnContext {
                seq_len,
                head_dim,
                heads,
            } => {
                nonzero(&[
                    ("seq_len", seq_len),
                    ("head_dim", head_dim),
                    ("heads", heads),
                ])?;
                let s = u128::from(seq_len);
                Ok(Self::plain(
                    s,
                    u128::from(head_dim),
                    s,
                    b * u128::from(heads),
                    false,
                ))
            }
        }
    }

    fn plain(m: u128, n: u128, k: u128, groups: u128, b_is_weight: bool) -> Wide {
        Wide {
            m,
            n,
            k,
            groups,
            b_is_weight,
            ifmap_elems: m * k,
            filter_elems: k * n,
            ofmap_elems: m * n,
        }
    }
}

impl Layer {
    /// Lower the layer for `batch` inputs, carrying its precision override.
    pub fn lower(&self, batch: u32) -> Result<GemmShape, String> {
        let mut g = self.op.lower(batch)?;
        g.precision = self.precision;
        Ok(g)
    }
}

impl Network {
    /// Parse a network from RON text; `file` names it in errors.
    pub fn from_ron(text: &str, file: &str) -> Result<Self, AccelError> {
        let net: Network = tessera_arch::spec_io::ron_options()
            .from_str(text)
            .map_err(|e| AccelError::Parse {
                file: file.to_string(),
                line: e.span.start.line,
                col: e.span.start.col,
                msg: e.code.to_string(),
            })?;
        net.check(file)?;
        Ok(net)
    }

    /// Read a network file: `.ron` layer lists, or SCALE-Sim topology `.csv` files.
    pub fn load(path: &std::path::Path) -> Result<Self, AccelError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| AccelError::Io {
            file: file.clone(),
            msg: e.to_string(),
        })?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.clone());
            crate::scalesim::parse_topology(&text, &file, &name, crate::scalesim::CsvForm::Auto)
        } else {
            Self::from_ron(&text, &file)
        }
    }

    /// Refuse empty networks, duplicate names and impossible shapes, naming the layer.
    pub fn check(&self, file: &str) -> Result<(), AccelError> {
        let bad = |layer: &str, msg: String| AccelError::Layer {
            file: file.to_string(),
            layer: layer.to_string(),
            msg,
        };
        if self.format_version != NETWORK_FORMAT_VERSION {
            return Err(bad(
                "-",
                format!(
                    "format_version is {}, this Tessera reads version {NETWORK_FORMAT_VERSION}",
                    self.format_version
                ),
            ));
        }
        if self.layers.is_empty() {
            return Err(bad("-", "the network has no layers".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for l in &self.layers {
            if !seen.insert(l.name.as_str()) {
                return Err(bad(&l.name, "layer name used twice".into()));
            }
            l.op.lower(self.batch).map_err(|m| bad(&l.name, m))?;
            if l.precision
                .is_some_and(|p| p.activation == Precision::Ternary)
            {
                return Err(bad(
                    &l.name,
                    "precision.activation is Ternary; only weights may be ternary".into(),
                ));
            }
        }
        Ok(())
    }

    /// Lower every layer (call [`Network::check`] first; impossible shapes are reported).
    pub fn lower(&self) -> Result<Vec<GemmShape>, AccelError> {
        self.layers
            .iter()
            .map(|l| {
                l.lower(self.batch).map_err(|msg| AccelError::Layer {
                    file: self.name.clone(),
                    layer: l.name.clone(),
                    msg,
                })
            })
            .collect()
    }

    /// Total multiply-accumulates.
    pub fn macs(&self) -> u64 {
        self.layers
            .iter()
            .filter_map(|l| l.op.lower(self.batch).ok())
            .map(|g| g.macs())
            .sum()
    }

    /// Total weights (parameters of the MAC layers, without biases and normalisation).
    pub fn weights(&self) -> u64 {
        self.layers.iter().map(|l| l.op.weights()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(in_hw: u32, in_c: u32, out_c: u32, k: u32, s: u32, p: u32, g: u32) -> Op {
        Op::Conv {
            in_h: in_hw,
            in_w: in_hw,
            in_c,
            out_c,
            kernel_h: k,
            kernel_w: k,
            stride_h: s,
            stride_w: s,
            pad_h: p,
            pad_w: p,
            groups: g,
        }
    }

    #[test]
    fn conv_lowering_matches_hand_counts() {
        // ResNet-50 conv1: 224x224x3 -> 112x112x64, 7x7 stride 2 pad 3: 118,013,952 MACs.
        let g = conv(224, 3, 64, 7, 2, 3, 1).lower(1).unwrap();
        assert_eq!((g.m, g.n, g.k, g.groups), (112 * 112, 64, 147, 1));
        assert_eq!(g.macs(), 118_013_952);
        // Depthwise 3x3 on 112x112x32: 32 groups of (12544 x 9) * (9 x 1).
        let d = conv(112, 32, 32, 3, 1, 1, 32).lower(2).unwrap();
        assert_eq!((d.m, d.n, d.k, d.groups), (2 * 112 * 112, 1, 9, 32));
        assert_eq!(d.ifmap_elems, 2 * 112 * 112);
        assert_eq!(conv(112, 32, 32, 3, 1, 1, 32).kind(), "dwconv");
    }

    #[test]
    fn impossible_shapes_are_errors_not_panics() {
        assert!(
            conv(2, 3, 4, 5, 1, 0, 1)
                .lower(1)
                .unwrap_err()
                .contains("larger")
        );
        assert!(
            conv(8, 3, 4, 3, 1, 1, 2)
                .lower(1)
                .unwrap_err()
                .contains("divide")
        );
        assert!(
            conv(8, 3, 4, 3, 0, 1, 1)
                .lower(1)
                .unwrap_err()
                .contains("stride_h")
        );
        assert!(Op::Gemm { m: 0, n: 1, k: 1 }.lower(1).is_err());
    }

    #[test]
    fn attention_lowers_per_head() {
        let s = Op::AttnScore {
            seq_len: 128,
            head_dim: 64,
            heads: 12,
        }
        .lower(1)
        .unwrap();
        assert_eq!(
            (s.m, s.n, s.k, s.groups, s.b_is_weight),
            (128, 128, 64, 12, false)
        );
        let c = Op::AttnContext {
            seq_len: 128,
            head_dim: 64,
            heads: 12,
        }
        .lower(1)
        .unwrap();
        assert_eq!((c.m, c.n, c.k), (128, 64, 128));
        assert_eq!(s.macs(), c.macs());
    }

    #[test]
    fn ron_errors_name_file_and_line() {
        let text = "(\n format_version: 1,\n name: \"x\",\n layers: [\n  (name: \"a\", op: Fc(in_features: 4)),\n ],\n)";
        let e = Network::from_ron(text, "net.ron").unwrap_err().to_string();
        assert!(e.starts_with("net.ron:5:"), "{e}");
        let dup = "(format_version: 1, name: \"x\", layers: [(name: \"a\", op: Fc(in_features: 4, out_features: 2)), (name: \"a\", op: Gemm(m: 1, n: 1, k: 1))])";
        let e = Network::from_ron(dup, "d.ron").unwrap_err().to_string();
        assert!(e.contains("used twice"), "{e}");
    }
}
