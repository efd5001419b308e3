//! Network genotypes (RON) and their resolution into a checked plan of layers with shapes.
//!
//! A genotype is a sequence of blocks. Shapes are inferred from the data set's input shape;
//! a genotype that cannot be built (a kernel larger than its input, a zero width, a residual
//! branch that changes the shape, a classifier that does not match the classes) resolves to
//! an [`Infeasible`] value with the reason, never a panic.
//!
//! ```ron
//! (
//!     format_version: 1,
//!     name: "digits-cnn",
//!     blocks: [
//!         Conv(out: 16, kernel: 3, padding: 1, act: Relu, weight_bits: Int8, act_bits: Int8),
//!         MaxPool(kernel: 2, stride: 2),
//!         Fc(out: 10, act: Identity, weight_bits: Int8, act_bits: Int8),
//!     ],
//! )
//! ```

use crate::data::ImageShape;
use crate::error::{Infeasible, NnError};
use serde::{Deserialize, Serialize};

/// Format version of genotype files.
pub const GENOTYPE_FORMAT_VERSION: u32 = 1;

/// Bit-width of a layer's weights or activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BitWidth {
    /// {-1, 0, +1} times a per-channel scale (log2(3) = 1.58 bits); weights only.
    Ternary,
    Int2,
    Int4,
    Int8,
    Int16,
    /// Not quantised (f32).
    Float,
}

impl BitWidth {
    pub const ALL: [BitWidth; 6] = [
        BitWidth::Ternary,
        BitWidth::Int2,
        BitWidth::Int4,
        BitWidth::Int8,
        BitWidth::Int16,
        BitWidth::Float,
    ];

    /// Integer bits, or `None` for float. Ternary counts as 2 (its integer range {-1, 0, 1}).
    pub fn bits(self) -> Option<u32> {
        match self {
            BitWidth::Ternary | BitWidth::Int2 => Some(2),
            BitWidth::Int4 => Some(4),
            BitWidth::Int8 => Some(8),
            BitWidth::Int16 => Some(16),
            BitWidth::Float => None,
        }
    }

    /// Information bits per value (ternary log2(3) = 1.58; float 32).
    pub fn nominal_bits(self) -> f64 {
        match self {
            BitWidth::Ternary => 3f64.log2(),
            BitWidth::Float => 32.0,
            b => f64::from(b.bits().unwrap_or(32)),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BitWidth::Ternary => "ternary",
            BitWidth::Int2 => "int2",
            BitWidth::Int4 => "int4",
            BitWidth::Int8 => "int8",
            BitWidth::Int16 => "int16",
            BitWidth::Float => "float",
        }
    }

    /// The accelerator precision of this width (`None` for float, which the integer
    /// accelerator templates do not model).
    pub fn precision(self) -> Option<tessera_arch::accel::Precision> {
        use tessera_arch::accel::Precision as P;
        match self {
            BitWidth::Ternary => Some(P::Ternary),
            BitWidth::Int2 => Some(P::Int2),
            BitWidth::Int4 => Some(P::Int4),
            BitWidth::Int8 => Some(P::Int8),
            BitWidth::Int16 => Some(P::Int16),
            BitWidth::Float => None,
        }
    }
}

/// Activation after a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    /// None (linear), for classifiers.
    Identity,
    Relu,
    /// min(max(x, 0), 6) (Howard et al., MobileNets, 2017).
    Relu6,
    /// x * relu6(x + 3) / 6 (Howard et al., "Searching for MobileNetV3", ICCV 2019).
    HardSwish,
}

impl Activation {
    /// True when every output is >= 0 (quantised unsigned).
    pub fn non_negative(self) -> bool {
        matches!(self, Activation::Relu | Activation::Relu6)
    }
}

fn one() -> usize {
    1
}
fn int8() -> BitWidth {
    BitWidth::Int8
}
fn relu() -> Activation {
    Activation::Relu
}

/// Pooling kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolKind {
    Max,
    Avg,
}

/// One block of a genotype. Widths are output channels (conv) or features (fc); bit-widths
/// default to Int8, strides to 1, padding to 0, activations to ReLU.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Block {
    /// k x k convolution.
    Conv {
        out: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default = "relu")]
        act: Activation,
        #[serde(default = "int8")]
        weight_bits: BitWidth,
        #[serde(default = "int8")]
        act_bits: BitWidth,
    },
    /// Depthwise k x k convolution then pointwise 1 x 1 to `out` channels (Howard et al.
    /// 2017), each followed by `act`; both use the block's bit-widths.
    DepthwiseSeparable {
        out: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default = "relu")]
        act: Activation,
        #[serde(default = "int8")]
        weight_bits: BitWidth,
        #[serde(default = "int8")]
        act_bits: BitWidth,
    },
    MaxPool {
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
    },
    AvgPool {
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
    },
    GlobalAvgPool,
    /// Fully connected (the input is flattened).
    Fc {
        out: usize,
        #[serde(default = "relu")]
        act: Activation,
        #[serde(default = "int8")]
        weight_bits: BitWidth,
        #[serde(default = "int8")]
        act_bits: BitWidth,
    },
    /// `y = act(x + f(x))` where `f` is the block group; its output must have the input's
    /// shape. The sum is quantised to `act_bits`.
    Residual {
        blocks: Vec<Block>,
        #[serde(default = "identity")]
        act: Activation,
        #[serde(default = "int8")]
        act_bits: BitWidth,
    },
}

fn identity() -> Activation {
    Activation::Identity
}

/// A candidate network.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetGenotype {
    /// Must equal [`GENOTYPE_FORMAT_VERSION`].
    pub format_version: u32,
    pub name: String,
    /// Bit-width of the network input (inputs are normalised to [0, 1] and quantised
    /// unsigned with scale 1 / (2^bits - 1)).
    #[serde(default = "int8")]
    pub input_bits: BitWidth,
    pub blocks: Vec<Block>,
}

impl NetGenotype {
    /// Parse a genotype from RON text; `file` names it in errors.
    pub fn from_ron(text: &str, file: &str) -> Result<Self, NnError> {
        let g: NetGenotype = tessera_arch::spec_io::ron_options()
            .from_str(text)
            .map_err(|e| NnError::Ron {
                file: file.to_string(),
                line: e.span.start.line,
                col: e.span.start.col,
                msg: e.code.to_string(),
            })?;
        if g.format_version != GENOTYPE_FORMAT_VERSION {
            return Err(NnError::Ron {
                file: file.to_string(),
                line: 1,
                col: 1,
                msg: format!(
                    "format_version is {}, this Tessera reads version {GENOTYPE_FORMAT_VERSION}",
                    g.format_version
                ),
            });
        }
        Ok(g)
    }

    /// Read a genotype file.
    pub fn load(path: &std::path::Path) -> Result<Self, NnError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| NnError::Io {
            file: file.clone(),
            msg: e.to_string(),
        })?;
        Self::from_ron(&text, &file)
    }

    /// RON text of the genotype.
    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .expect("genotypes serialise")
    }

    /// A short stable identifier: SHA-256 (hex, first 16 digits) of the compact RON text.
    pub fn key(&self) -> String {
        use sha2::Digest;
        let text = ron::ser::to_string(self).expect("genotypes serialise");
        crate::data::hex(&sha2::Sha256::digest(text.as_bytes()))[..16].to_string()
    }

    /// True when the input and every weight and activation bit-width are integer widths.
    pub fn all_integer(&self) -> bool {
        let mut ok = self.input_bits != BitWidth::Float;
        visit(&self.blocks, &mut |b| match b {
            Block::Conv {
                weight_bits,
                act_bits,
                ..
            }
            | Block::DepthwiseSeparable {
                weight_bits,
                act_bits,
                ..
            }
            | Block::Fc {
                weight_bits,
                act_bits,
                ..
            } => ok &= *weight_bits != BitWidth::Float && *act_bits != BitWidth::Float,
            Block::Residual { act_bits, .. } => ok &= *act_bits != BitWidth::Float,
            _ => {}
        });
        ok
    }

    /// Resolve shapes against an input and class count.
    pub fn plan(&self, input: ImageShape, classes: usize) -> Result<Plan, Infeasible> {
        if self.input_bits == BitWidth::Ternary {
            return Err(Infeasible::new(
                "input_bits is Ternary; only weights may be ternary",
            ));
        }
        if input.h == 0 || input.w == 0 || input.c == 0 {
            return Err(Infeasible::new("the input has a zero dimension"));
        }
        let mut b = Builder {
            nodes: Vec::new(),
            params: 0,
            input_bits: self.input_bits,
        };
        let out = b.blocks(&self.blocks, Shape::from(input), "")?;
        match b.nodes.iter().rev().find(|n| n.is_mac()) {
            None => return Err(Infeasible::new("the network has no conv or fc layer")),
            Some(last) => {
                if !matches!(last.kind, NodeKind::Fc { .. })
                    || !b.nodes.last().is_some_and(|n| n.is_mac())
                {
                    return Err(Infeasible::new(
                        "the last block must be a fully connected classifier (Fc)",
                    ));
                }
                if last.act != Activation::Identity {
                    return Err(Infeasible::new(
                        "the classifier (last Fc) must have act: Identity",
                    ));
                }
            }
        }
        if out.size() != classes {
            return Err(Infeasible::new(format!(
                "the classifier has {} outputs but the data set has {classes} classes",
                out.size()
            )));
        }
        Ok(Plan {
            input,
            input_bits: self.input_bits,
            classes,
            nodes: b.nodes,
            params: b.params,
        })
    }
}

fn visit(blocks: &[Block], f: &mut impl FnMut(&Block)) {
    for b in blocks {
        f(b);
        if let Block::Residual { blocks, .. } = b {
            visit(blocks, f);
        }
    }
}

/// Height, width and channels of a tensor (vectors are 1 x 1 x n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl Shape {
    pub fn size(&self) -> usize {
        self.h * self.w * self.c
    }
}

impl From<ImageShape> for Shape {
    fn from(s: ImageShape) -> Self {
        Shape {
            h: s.h,
            w: s.w,
            c: s.c,
        }
    }
}

/// Geometry of a convolution (dense, or depthwise when `depthwise`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeom {
    pub input: Shape,
    pub output: Shape,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub depthwise: bool,
}

impl ConvGeom {
    /// GEMM inner dimension per output: `k*k*in_c` (dense) or `k*k` (depthwise).
    pub fn gemm_k(&self) -> usize {
        if self.depthwise {
            self.kernel * self.kernel
        } else {
            self.kernel * self.kernel * self.input.c
        }
    }
}

/// What a node computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    Conv(ConvGeom),
    Fc {
        inputs: usize,
        outputs: usize,
    },
    Pool {
        kind: PoolKind,
        kernel: usize,
        stride: usize,
        input: Shape,
    },
    GlobalAvgPool {
        input: Shape,
    },
    /// Start of a residual group: its input is kept for the add.
    ResBegin,
    /// End of a residual group: adds the kept input.
    ResEnd,
}

/// One resolved layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Unique name (`conv0`, `dw2`, `pw2`, `fc5`, `pool1`, `res3`, ...).
    pub name: String,
    pub kind: NodeKind,
    pub act: Activation,
    /// Weight bit-width (MAC layers; Float otherwise).
    pub weight_bits: BitWidth,
    /// Bit-width of the node's output (for pooling: inherited from its input).
    pub act_bits: BitWidth,
    pub output: Shape,
    /// Index into the parameter list (MAC layers only).
    pub param: Option<usize>,
}

impl Node {
    pub fn is_mac(&self) -> bool {
        matches!(self.kind, NodeKind::Conv(_) | NodeKind::Fc { .. })
    }

    /// Weight matrix shape `(k, n)`: `k` inputs per output, `n` outputs (MAC layers).
    pub fn weight_shape(&self) -> Option<(usize, usize)> {
        match self.kind {
            NodeKind::Conv(g) => Some((g.gemm_k(), g.output.c)),
            NodeKind::Fc { inputs, outputs } => Some((inputs, outputs)),
            _ => None,
        }
    }

    /// Multiply-accumulates per sample.
    pub fn macs(&self) -> u64 {
        match self.kind {
            NodeKind::Conv(g) => (g.output.h * g.output.w * g.output.c * g.gemm_k()) as u64,
            NodeKind::Fc { inputs, outputs } => (inputs * outputs) as u64,
            _ => 0,
        }
    }
}

/// A genotype resolved against an input: nodes in execution order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub input: ImageShape,
    pub input_bits: BitWidth,
    pub classes: usize,
    pub nodes: Vec<Node>,
    /// Number of MAC layers (parameter tensors).
    pub params: usize,
}

impl Plan {
    /// Weights plus biases.
    pub fn parameter_count(&self) -> u64 {
        self.nodes
            .iter()
            .filter_map(|n| n.weight_shape())
            .map(|(k, n)| (k * n + n) as u64)
            .sum()
    }

    /// Multiply-accumulates per sample.
    pub fn macs(&self) -> u64 {
        self.nodes.iter().map(Node::macs).sum()
    }

    /// True when every weight and activation is an integer width.
    pub fn all_integer(&self) -> bool {
        self.input_bits != BitWidth::Float
            && self.nodes.iter().all(|n| {
                (!n.is_mac() || n.weight_bits != BitWidth::Float) && n.act_bits != BitWidth::Float
            })
    }

    /// True when any layer needs quantisation-aware training (below 8 bits).
    pub fn needs_qat(&self) -> bool {
        let low = |b: BitWidth| matches!(b, BitWidth::Ternary | BitWidth::Int2 | BitWidth::Int4);
        low(self.input_bits)
            || self
                .nodes
                .iter()
                .any(|n| (n.is_mac() && low(n.weight_bits)) || low(n.act_bits))
    }
}

struct Builder {
    nodes: Vec<Node>,
    params: usize,
    input_bits: BitWidth,
}

impl Builder {
    fn blocks(
        &mut self,
        blocks: &[Block],
        mut s: Shape,
        prefix: &str,
    ) -> Result<Shape, Infeasible> {
        if blocks.is_empty() {
            return Err(Infeasible::new(format!("{prefix}a block list is empty")));
        }
        for b in blocks {
            s = self.block(b, s, prefix)?;
        }
        Ok(s)
    }

    fn name(&self, what: &str) -> String {
        format!("{what}{}", self.nodes.len())
    }

    fn mac(
        &mut self,
        name: String,
        kind: NodeKind,
        act: Activation,
        wb: BitWidth,
        ab: BitWidth,
        out: Shape,
    ) -> Result<(), Infeasible> {
        if ab == BitWidth::Ternary {
            return Err(Infeasible::new(format!(
                "{name}: act_bits is Ternary; only weights may be ternary"
            )));
        }
        self.nodes.push(Node {
            name,
            kind,
            act,
            weight_bits: wb,
            act_bits: ab,
            output: out,
            param: Some(self.params),
        });
        self.params += 1;
        Ok(())
    }

    fn last_bits(&self) -> BitWidth {
        self.nodes.last().map_or(self.input_bits, |n| n.act_bits)
    }

    fn conv_out(
        &self,
        what: &str,
        s: Shape,
        k: usize,
        stride: usize,
        pad: usize,
    ) -> Result<Shape, Infeasible> {
        let name = self.name(what);
        if k == 0 || stride == 0 {
            return Err(Infeasible::new(format!(
                "{name}: kernel and stride must be at least 1 (kernel {k}, stride {stride})"
            )));
        }
        if pad >= k {
            return Err(Infeasible::new(format!(
                "{name}: padding {pad} must be smaller than the kernel {k}"
            )));
        }
        let (ph, pw) = (s.h + 2 * pad, s.w + 2 * pad);
        if ph < k || pw < k {
            return Err(Infeasible::new(format!(
                "{name}: kernel {k}x{k} is larger than its input {}x{} (padding {pad})",
                s.h, s.w
            )));
        }
        Ok(Shape {
            h: (ph - k) / stride + 1,
            w: (pw - k) / stride + 1,
            c: s.c,
        })
    }

    fn block(&mut self, b: &Block, s: Shape, prefix: &str) -> Result<Shape, Infeasible> {
        match *b {
            Block::Conv {
                out,
                kernel,
                stride,
                padding,
                act,
                weight_bits,
                act_bits,
            } => {
                let name = self.name("conv");
                if out == 0 {
                    return Err(Infeasible::new(format!("{name}: zero output channels")));
                }
                let mut o = self.conv_out("conv", s, kernel, stride, padding)?;
                o.c = out;
                let geom = ConvGeom {
                    input: s,
                    output: o,
                    kernel,
                    stride,
                    padding,
                    depthwise: false,
                };
                self.mac(name, NodeKind::Conv(geom), act, weight_bits, act_bits, o)?;
                Ok(o)
            }
            Block::DepthwiseSeparable {
                out,
                kernel,
                stride,
                padding,
                act,
                weight_bits,
                act_bits,
            } => {
                let name = self.name("dw");
                if out == 0 {
                    return Err(Infeasible::new(format!("{name}: zero output channels")));
                }
                let d = self.conv_out("dw", s, kernel, stride, padding)?;
                let geom = ConvGeom {
                    input: s,
                    output: d,
                    kernel,
                    stride,
                    padding,
                    depthwise: true,
                };
                self.mac(name, NodeKind::Conv(geom), act, weight_bits, act_bits, d)?;
                let o = Shape { c: out, ..d };
                let pw = ConvGeom {
                    input: d,
                    output: o,
                    kernel: 1,
                    stride: 1,
                    padding: 0,
                    depthwise: false,
                };
                let name = self.name("pw");
                self.mac(name, NodeKind::Conv(pw), act, weight_bits, act_bits, o)?;
                Ok(o)
            }
            Block::MaxPool { kernel, stride } | Block::AvgPool { kernel, stride } => {
                let kind = if matches!(b, Block::MaxPool { .. }) {
                    PoolKind::Max
                } else {
                    PoolKind::Avg
                };
                let o = self.conv_out("pool", s, kernel, stride, 0)?;
                let bits = self.last_bits_or_input();
                self.nodes.push(Node {
                    name: self.name("pool"),
                    kind: NodeKind::Pool {
                        kind,
                        kernel,
                        stride,
                        input: s,
                    },
                    act: Activation::Identity,
                    weight_bits: BitWidth::Float,
                    act_bits: bits,
                    output: o,
                    param: None,
                });
                Ok(o)
            }
            Block::GlobalAvgPool => {
                let o = Shape { h: 1, w: 1, c: s.c };
                let bits = self.last_bits_or_input();
                self.nodes.push(Node {
                    name: self.name("gap"),
                    kind: NodeKind::GlobalAvgPool { input: s },
                    act: Activation::Identity,
                    weight_bits: BitWidth::Float,
                    act_bits: bits,
                    output: o,
                    param: None,
                });
                Ok(o)
            }
            Block::Fc {
                out,
                act,
                weight_bits,
                act_bits,
            } => {
                let name = self.name("fc");
                if out == 0 {
                    return Err(Infeasible::new(format!("{name}: zero outputs")));
                }
                let o = Shape { h: 1, w: 1, c: out };
                self.mac(
                    name,
                    NodeKind::Fc {
                        inputs: s.size(),
                        outputs: out,
                    },
                    act,
                    weight_bits,
                    act_bits,
                    o,
                )?;
                Ok(o)
            }
            Block::Residual {
                ref blocks,
                act,
                act_bits,
            } => {
                let name = self.name("res");
                if act_bits == BitWidth::Ternary {
                    return Err(Infeasible::new(format!(
                        "{name}: act_bits is Ternary; only weights may be ternary"
                    )));
                }
                let bits = self.last_bits_or_input();
                self.nodes.push(Node {
                    name: name.clone(),
                    kind: NodeKind::ResBegin,
                    act: Activation::Identity,
                    weight_bits: BitWidth::Float,
                    act_bits: bits,
                    output: s,
                    param: None,
                });
                let inner = format!("{prefix}{name}: ");
                let o = self.blocks(blocks, s, &inner)?;
                if o != s {
                    return Err(Infeasible::new(format!(
                        "{name}: the residual branch maps {}x{}x{} to {}x{}x{}; the add needs equal shapes",
                        s.h, s.w, s.c, o.h, o.w, o.c
                    )));
                }
                self.nodes.push(Node {
                    name: format!("{name}_add"),
                    kind: NodeKind::ResEnd,
                    act,
                    weight_bits: BitWidth::Float,
                    act_bits,
                    output: s,
                    param: None,
                });
                Ok(s)
            }
        }
    }

    /// Bits of the tensor a pooling node reads (set by the caller for the input).
    fn last_bits_or_input(&self) -> BitWidth {
        self.last_bits()
    }
}
