//! NAS-Bench-201 without training: accuracy by architecture, and the architecture lowered
//! to its exact layer shapes for the accelerator model.
//!
//! The table (`workloads/nas/nasbench201_accuracy.csv.gz`, embedded; MIT, see
//! `workloads/nas/SOURCES.md`) holds the 12-epoch accuracies of all 15,625 cells on
//! CIFAR-10, CIFAR-100 and ImageNet16-120 (Dong & Yang, "NAS-Bench-201: Extending the Scope
//! of Reproducible Neural Architecture Search", ICLR 2020).
//!
//! The macro skeleton (CIFAR, 32 x 32 x 3 inputs; the benchmark's `TinyNetwork` with
//! C = 16 and N = 5): a 3 x 3 convolution stem to 16 channels; three stages of five cells at
//! 16, 32 and 64 channels (32 x 32, 16 x 16, 8 x 8); between stages a residual reduction
//! block (3 x 3 stride-2 convolution, 3 x 3 convolution, and a shortcut of 2 x 2 average
//! pooling then a 1 x 1 convolution); batch norm and ReLU, global average pooling and a
//! linear classifier. In a cell, node `i` (1..=3) sums one operation on each earlier node;
//! `nor_conv_1x1` and `nor_conv_3x3` are ReLU-conv-BN with `C -> C` channels (padding 0 and
//! 1), `skip_connect`, `avg_pool_3x3` and `none` have no multiply-accumulates. Every
//! convolution of the cell runs, including those reading a node that only receives `none`,
//! as in the benchmark's networks.

use crate::error::NnError;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::sync::OnceLock;
use tessera_accel::{Layer, LayerPrecision, Network, Op};

const TABLE_GZ: &[u8] = include_bytes!("../../../workloads/nas/nasbench201_accuracy.csv.gz");

/// Number of architectures in the benchmark (5 operations on 6 edges).
pub const ARCHITECTURES: usize = 15_625;

/// Cell operations, in the benchmark's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CellOp {
    None,
    SkipConnect,
    Conv1x1,
    Conv3x3,
    AvgPool3x3,
}

impl CellOp {
    pub const ALL: [CellOp; 5] = [
        CellOp::None,
        CellOp::SkipConnect,
        CellOp::Conv1x1,
        CellOp::Conv3x3,
        CellOp::AvgPool3x3,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CellOp::None => "none",
            CellOp::SkipConnect => "skip_connect",
            CellOp::Conv1x1 => "nor_conv_1x1",
            CellOp::Conv3x3 => "nor_conv_3x3",
            CellOp::AvgPool3x3 => "avg_pool_3x3",
        }
    }

    fn parse(s: &str) -> Option<CellOp> {
        CellOp::ALL.into_iter().find(|o| o.name() == s)
    }
}

/// A cell: the operation on each edge, in string order `1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cell {
    pub edges: [CellOp; 6],
}

/// Edge `e`'s source node.
const EDGE_FROM: [usize; 6] = [0, 0, 1, 0, 1, 2];

impl Cell {
    /// Parse `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.
    pub fn parse(s: &str) -> Result<Cell, NnError> {
        let bad = |m: String| NnError::Nas(format!("`{s}`: {m}"));
        let nodes: Vec<&str> = s.split('+').collect();
        if nodes.len() != 3 {
            return Err(bad(format!(
                "expected 3 nodes separated by `+`, found {}",
                nodes.len()
            )));
        }
        let mut edges = [CellOp::None; 6];
        let mut e = 0;
        for (i, node) in nodes.iter().enumerate() {
            let ops: Vec<&str> = node.trim_matches('|').split('|').collect();
            if ops.len() != i + 1 {
                return Err(bad(format!(
                    "node {} needs {} inputs, found {}",
                    i + 1,
                    i + 1,
                    ops.len()
                )));
            }
            for (j, op) in ops.iter().enumerate() {
                let (name, from) = op
                    .split_once('~')
                    .ok_or_else(|| bad(format!("`{op}` is not `op~input`")))?;
                if from != j.to_string() {
                    return Err(bad(format!("`{op}`: input {j} expected")));
                }
                edges[e] = CellOp::parse(name).ok_or_else(|| {
                    bad(format!(
                        "unknown operation `{name}` (none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)"
                    ))
                })?;
                e += 1;
            }
        }
        Ok(Cell { edges })
    }

    /// The benchmark's string of this cell.
    pub fn to_arch_string(&self) -> String {
        let op = |e: usize| format!("{}~{}", self.edges[e].name(), EDGE_FROM[e]);
        format!(
            "|{}|+|{}|{}|+|{}|{}|{}|",
            op(0),
            op(1),
            op(2),
            op(3),
            op(4),
            op(5)
        )
    }

    /// The convolutions of the cell: (edge, operation).
    pub fn convs(&self) -> impl Iterator<Item = (usize, CellOp)> + '_ {
        self.edges
            .iter()
            .enumerate()
            .filter(|(_, o)| matches!(o, CellOp::Conv1x1 | CellOp::Conv3x3))
            .map(|(e, o)| (e, *o))
    }
}

/// One row of the table (accuracies in percent, 12-epoch schedule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub index: usize,
    pub arch: String,
    pub cell: Cell,
    pub cifar10_valid: f64,
    pub cifar10_test: f64,
    pub cifar100_valid: f64,
    pub cifar100_test: f64,
    pub imagenet16_120_valid: f64,
    pub imagenet16_120_test: f64,
}

/// The embedded table, parsed once.
pub fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(TABLE_GZ)
            .read_to_string(&mut text)
            .expect("the embedded NAS-Bench-201 table is valid gzip (checked by a test)");
        parse_table(&text).expect("the embedded NAS-Bench-201 table parses (checked by a test)")
    })
}

/// Parse the table's CSV text.
pub fn parse_table(text: &str) -> Result<Vec<Entry>, NnError> {
    let mut out = Vec::with_capacity(ARCHITECTURES);
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |m: String| NnError::Csv {
            file: "nasbench201_accuracy.csv".into(),
            line: i + 1,
            msg: m,
        };
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 8 {
            return Err(bad(format!("expected 8 fields, found {}", f.len())));
        }
        let num = |k: usize| -> Result<f64, NnError> {
            f[k].parse()
                .map_err(|_| bad(format!("field {}: `{}` is not a number", k + 1, f[k])))
        };
        out.push(Entry {
            index: f[0]
                .parse()
                .map_err(|_| bad("index is not an integer".into()))?,
            arch: f[1].to_string(),
            cell: Cell::parse(f[1])?,
            cifar10_valid: num(2)?,
            cifar10_test: num(3)?,
            cifar100_valid: num(4)?,
            cifar100_test: num(5)?,
            imagenet16_120_valid: num(6)?,
            imagenet16_120_test: num(7)?,
        });
    }
    Ok(out)
}

/// The table row of an architecture string.
pub fn lookup(arch: &str) -> Result<&'static Entry, NnError> {
    static INDEX: OnceLock<std::collections::HashMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        table()
            .iter()
            .enumerate()
            .map(|(i, e)| (e.arch.as_str(), i))
            .collect()
    });
    let cell = Cell::parse(arch)?;
    index
        .get(cell.to_arch_string().as_str())
        .map(|&i| &table()[i])
        .ok_or_else(|| NnError::Nas(format!("`{arch}` is not in the table")))
}

/// Stem channels (C) and cells per stage (N) of the benchmark's CIFAR networks.
pub const STEM_CHANNELS: u32 = 16;
pub const CELLS_PER_STAGE: usize = 5;

fn conv(in_hw: u32, in_c: u32, out_c: u32, k: u32, stride: u32, pad: u32) -> Op {
    Op::Conv {
        in_h: in_hw,
        in_w: in_hw,
        in_c,
        out_c,
        kernel_h: k,
        kernel_w: k,
        stride_h: stride,
        stride_w: stride,
        pad_h: pad,
        pad_w: pad,
        groups: 1,
    }
}

/// The MAC layers of a cell's network on 32 x 32 x 3 inputs with `classes` outputs, all
/// with `precision` (absent: the accelerator's).
pub fn lower(cell: &Cell, classes: u32, precision: Option<LayerPrecision>) -> Network {
    let mut layers = Vec::with_capacity(128);
    let mut push = |name: String, op: Op| {
        layers.push(Layer {
            name,
            op,
            precision,
        })
    };
    push("stem".into(), conv(32, 3, STEM_CHANNELS, 3, 1, 1));
    let mut hw = 32u32;
    let mut c = STEM_CHANNELS;
    for stage in 0..3 {
        if stage > 0 {
            let (cin, cout) = (c, 2 * c);
            push(format!("reduce{stage}_a"), conv(hw, cin, cout, 3, 2, 1));
            hw /= 2;
            push(format!("reduce{stage}_b"), conv(hw, cout, cout, 3, 1, 1));
            push(
                format!("reduce{stage}_shortcut"),
                conv(hw, cin, cout, 1, 1, 0),
            );
            c = cout;
        }
        for cell_i in 0..CELLS_PER_STAGE {
            for (e, op) in cell.convs() {
                let (k, p) = if op == CellOp::Conv3x3 {
                    (3, 1)
                } else {
                    (1, 0)
                };
                push(format!("s{stage}c{cell_i}e{e}"), conv(hw, c, c, k, 1, p));
            }
        }
    }
    push(
        "classifier".into(),
        Op::Fc {
            in_features: c,
            out_features: classes,
        },
    );
    Network {
        format_version: tessera_accel::layer::NETWORK_FORMAT_VERSION,
        name: format!("nasbench201 {}", cell.to_arch_string()),
        source: "NAS-Bench-201 macro skeleton (Dong & Yang, ICLR 2020), CIFAR 32x32".into(),
        batch: 1,
        layers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads_and_strings_round_trip() {
        let t = table();
        assert_eq!(t.len(), ARCHITECTURES);
        assert!(
            t.iter()
                .enumerate()
                .all(|(i, e)| e.index == i && e.cell.to_arch_string() == e.arch)
        );
        // SOURCES.md: the best CIFAR-10 test accuracy is 89.16 % at index 5374.
        let best = t
            .iter()
            .max_by(|a, b| a.cifar10_test.total_cmp(&b.cifar10_test))
            .unwrap();
        assert_eq!(best.index, 5374);
        assert!((best.cifar10_test - 89.16).abs() < 0.01);
        assert_eq!(lookup(&best.arch).unwrap().index, 5374);
        assert!(lookup("|none~0|+|none~0|none~1|").is_err());
        assert!(Cell::parse("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|").is_err());
    }
}
