//! Accelerator templates: a systolic array of `rows x cols` multiply-accumulate PEs with one
//! of three dataflows (output-, weight- or input-stationary), three double-buffered on-chip
//! SRAM buffers (ifmap, filter, ofmap), a DRAM link, operand precisions down to ternary
//! (1.58-bit) weights, a clock, and the technology constants the energy and area model uses.
//!
//! This module only describes the hardware; `tessera-accel` evaluates layers on it.
//!
//! ```ron
//! (preset: "tpu-v1-like-ws-128x128", set: { "rows": 64, "dataflow": "OutputStationary" })
//! ```

use crate::spec_io::Spec;
use serde::{Deserialize, Serialize};

/// Format version of accelerator spec files.
pub const ACCEL_FORMAT_VERSION: u32 = 1;

/// Which operand stays in the PEs while the others stream through the array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dataflow {
    /// Each PE accumulates one output; inputs stream from the left, weights from the top
    /// (ShiDianNao-style; SCALE-Sim "os").
    OutputStationary,
    /// Each PE holds one weight; inputs stream from the left and partial sums flow down
    /// (TPU v1-style; SCALE-Sim "ws").
    WeightStationary,
    /// Each PE holds one input (im2col) element; weights stream from the left and partial
    /// sums flow down (SCALE-Sim "is").
    InputStationary,
}

impl Dataflow {
    /// All dataflows, for sweeps and tests.
    pub const ALL: [Dataflow; 3] = [
        Dataflow::OutputStationary,
        Dataflow::WeightStationary,
        Dataflow::InputStationary,
    ];

    /// The SCALE-Sim abbreviation ("os", "ws", "is").
    pub fn short(self) -> &'static str {
        match self {
            Dataflow::OutputStationary => "os",
            Dataflow::WeightStationary => "ws",
            Dataflow::InputStationary => "is",
        }
    }
}

/// Operand precision. Ternary weights ({-1, 0, +1}, "1.58-bit", log2(3) bits of information)
/// need no multiplier: a PE selects `+x`, `-x` or `0` (Ma et al., "The Era of 1-bit LLMs",
/// arXiv:2402.17764, 2024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Precision {
    /// {-1, 0, +1}; stored packed five values per byte (3^5 = 243 <= 256), i.e. 1.6 bits.
    Ternary,
    Int2,
    Int4,
    Int8,
    Int16,
}

impl Precision {
    /// Bits each value occupies in SRAM and DRAM (ternary: 1.6 with 5-per-byte packing).
    pub fn storage_bits(self) -> f64 {
        match self {
            Precision::Ternary => 1.6,
            Precision::Int2 => 2.0,
            Precision::Int4 => 4.0,
            Precision::Int8 => 8.0,
            Precision::Int16 => 16.0,
        }
    }

    /// Width of the datapath that handles one value (ternary: sign + magnitude = 2 bits).
    pub fn datapath_bits(self) -> u32 {
        match self {
            Precision::Ternary | Precision::Int2 => 2,
            Precision::Int4 => 4,
            Precision::Int8 => 8,
            Precision::Int16 => 16,
        }
    }

    /// Human label ("1.58-bit ternary", "int8").
    pub fn label(self) -> &'static str {
        match self {
            Precision::Ternary => "1.58-bit ternary",
            Precision::Int2 => "int2",
            Precision::Int4 => "int4",
            Precision::Int8 => "int8",
            Precision::Int16 => "int16",
        }
    }
}

/// One on-chip SRAM buffer. It is double-buffered: half of it is filled from DRAM while the
/// array works out of the other half.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SramBuffer {
    /// Capacity in KiB (1024 bytes), both halves together.
    pub size_kb: u32,
    /// Number of independent banks; access energy is that of one bank.
    pub banks: u32,
}

impl SramBuffer {
    /// Capacity in bytes.
    pub fn size_bytes(&self) -> u64 {
        u64::from(self.size_kb) * 1024
    }
}

/// The off-chip memory link.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramLink {
    /// Sustained bandwidth in bytes per accelerator clock cycle.
    pub bandwidth_bytes_per_cycle: f64,
    /// Latency of the first beat of a refill, in accelerator cycles.
    pub latency_cycles: u32,
}

/// Technology constants for energy and area. Defaults are 45 nm figures; each one says
/// where it comes from and whether it is a measurement or an assumption.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TechParams {
    /// Energy of one 8x8-bit integer multiply, pJ. Measured: Horowitz, "Computing's energy
    /// problem", ISSCC 2014 (45 nm, 0.9 V): 0.2 pJ. Scaled by (wa*wb)/64 for
    /// other widths, which matches the table's 32-bit point (3.1 pJ vs 16*0.2 = 3.2 pJ).
    pub mult_8b_pj: f64,
    /// Energy of one 32-bit integer add, pJ. Measured: Horowitz ISSCC 2014 (45 nm): 0.1 pJ.
    /// Scaled linearly with accumulator width (the table's 8-bit add is 0.03 pJ).
    pub add_32b_pj: f64,
    /// Energy of one 64-bit read from an 8 KiB SRAM bank, pJ. Measured: Horowitz ISSCC 2014
    /// (45 nm): 10 pJ; the same table gives 20 pJ at 32 KiB and 100 pJ at 1 MiB, which the
    /// model reproduces with a sqrt(bank size / 8 KiB) scaling (20 and 113 pJ).
    pub sram_64b_8kb_pj: f64,
    /// DRAM access energy per bit, pJ. Measured range: Horowitz ISSCC 2014 gives 1.3-2.6 nJ
    /// per 64-bit DRAM access (20-40 pJ/bit); the low end is taken.
    pub dram_pj_per_bit: f64,
    /// Area of an 8x8-bit integer multiplier, um^2. Measured: Horowitz ISSCC 2014 (45 nm):
    /// 282 um^2; scaled by (wa*wb)/64 (the 32-bit point, 3495 um^2, is 12.4x, close to 16x).
    pub mult_8b_area_um2: f64,
    /// Area of a 32-bit integer adder, um^2. Measured: Horowitz ISSCC 2014 (45 nm): 137 um^2;
    /// scaled linearly with width.
    pub add_32b_area_um2: f64,
    /// Area of one flip-flop bit (PE pipeline and accumulator registers), um^2. Measured:
    /// NanGate FreePDK45 Open Cell Library, DFF_X1 = 4.522 um^2.
    pub flop_area_um2: f64,
    /// SRAM area per byte, um^2. Assumed: Intel 45 nm 6T bit cell of 0.346 um^2 (Mistry et
    /// al., IEDM 2007), x8 bits, divided by an assumed 60 % array efficiency = 4.6 um^2.
    pub sram_area_um2_per_byte: f64,
    /// Static (leakage) power per mm^2 of PE and SRAM area, mW. Assumed: an order-of-magnitude
    /// figure for a 45 nm low-power process; not measured, override it for your process.
    pub leakage_mw_per_mm2: f64,
}

impl Default for TechParams {
    fn default() -> Self {
        Self {
            mult_8b_pj: 0.2,
            add_32b_pj: 0.1,
            sram_64b_8kb_pj: 10.0,
            dram_pj_per_bit: 20.0,
            mult_8b_area_um2: 282.0,
            add_32b_area_um2: 137.0,
            flop_area_um2: 4.522,
            sram_area_um2_per_byte: 4.6,
            leakage_mw_per_mm2: 5.0,
        }
    }
}

/// An accelerator template instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccelSpec {
    /// Must equal [`ACCEL_FORMAT_VERSION`].
    pub format_version: u32,
    /// Short name of the design.
    pub name: String,
    /// What it resembles and where its numbers come from.
    #[serde(default)]
    pub description: String,
    /// PE rows of the systolic array.
    pub rows: u32,
    /// PE columns of the systolic array.
    pub cols: u32,
    pub dataflow: Dataflow,
    /// WS/IS only: every PE has a shadow register that the next fold's stationary value
    /// shifts into while the current fold streams, so tile loads after the first are hidden
    /// (TPU v1 keeps "one 64 KiB tile of weights plus one for double-buffering", Jouppi et
    /// al. ISCA 2017). Off by default, as in SCALE-Sim.
    #[serde(default)]
    pub stationary_double_buffered: bool,
    /// Precision of the weights (filter operand).
    pub weight_precision: Precision,
    /// Precision of activations (ifmap and ofmap operands).
    pub activation_precision: Precision,
    /// Clock frequency in MHz.
    pub clock_mhz: f64,
    pub ifmap_sram: SramBuffer,
    pub filter_sram: SramBuffer,
    pub ofmap_sram: SramBuffer,
    pub dram: DramLink,
    #[serde(default)]
    pub tech: TechParams,
}

impl AccelSpec {
    /// Number of PEs.
    pub fn pes(&self) -> u64 {
        u64::from(self.rows) * u64::from(self.cols)
    }

    /// Clock period in ns.
    pub fn clock_period_ns(&self) -> f64 {
        1000.0 / self.clock_mhz
    }

    /// Peak throughput in MACs per second.
    pub fn peak_macs_per_s(&self) -> f64 {
        self.pes() as f64 * self.clock_mhz * 1e6
    }
}

const PRESETS: &[(&str, &str)] = &[
    (
        "edge-os-16x16",
        include_str!("../../../arch-specs/accel/edge-os-16x16.ron"),
    ),
    (
        "tpu-v1-like-ws-128x128",
        include_str!("../../../arch-specs/accel/tpu-v1-like-ws-128x128.ron"),
    ),
    (
        "eyeriss-like-32x32",
        include_str!("../../../arch-specs/accel/eyeriss-like-32x32.ron"),
    ),
];

impl Spec for AccelSpec {
    const KIND: &'static str = "accelerator spec";

    fn presets() -> &'static [(&'static str, &'static str)] {
        PRESETS
    }

    fn field_setter(path: &str) -> Option<crate::spec_io::FieldSetter<Self>> {
        use crate::spec_io::leaf;
        // Every leaf of the serialized form (a test checks the list is complete and agrees
        // with `set_path`).
        macro_rules! setters {
            ($($p:literal => $($f:ident).+),* $(,)?) => {
                match path {
                    $($p => Some(|s: &mut AccelSpec, v: &serde_json::Value| {
                        s.$($f).+ = leaf(v)?;
                        Ok(())
                    }),)*
                    _ => None,
                }
            };
        }
        setters! {
            "format_version" => format_version,
            "name" => name,
            "description" => description,
            "rows" => rows,
            "cols" => cols,
            "dataflow" => dataflow,
            "stationary_double_buffered" => stationary_double_buffered,
            "weight_precision" => weight_precision,
            "activation_precision" => activation_precision,
            "clock_mhz" => clock_mhz,
            "ifmap_sram.size_kb" => ifmap_sram.size_kb,
            "ifmap_sram.banks" => ifmap_sram.banks,
            "filter_sram.size_kb" => filter_sram.size_kb,
            "filter_sram.banks" => filter_sram.banks,
            "ofmap_sram.size_kb" => ofmap_sram.size_kb,
            "ofmap_sram.banks" => ofmap_sram.banks,
            "dram.bandwidth_bytes_per_cycle" => dram.bandwidth_bytes_per_cycle,
            "dram.latency_cycles" => dram.latency_cycles,
            "tech.mult_8b_pj" => tech.mult_8b_pj,
            "tech.add_32b_pj" => tech.add_32b_pj,
            "tech.sram_64b_8kb_pj" => tech.sram_64b_8kb_pj,
            "tech.dram_pj_per_bit" => tech.dram_pj_per_bit,
            "tech.mult_8b_area_um2" => tech.mult_8b_area_um2,
            "tech.add_32b_area_um2" => tech.add_32b_area_um2,
            "tech.flop_area_um2" => tech.flop_area_um2,
            "tech.sram_area_um2_per_byte" => tech.sram_area_um2_per_byte,
            "tech.leakage_mw_per_mm2" => tech.leakage_mw_per_mm2,
        }
    }

    fn validate(&self) -> Result<(), Vec<String>> {
        let mut p = Vec::new();
        if self.format_version != ACCEL_FORMAT_VERSION {
            p.push(format!(
                "format_version is {}, this Tessera reads version {ACCEL_FORMAT_VERSION}",
                self.format_version
            ));
        }
        for (what, v) in [("rows", self.rows), ("cols", self.cols)] {
            if v == 0 || v > 4096 {
                p.push(format!(
                    "{what} is {v}; an array needs between 1 and 4096 {what}"
                ));
            }
        }
        if !(self.clock_mhz.is_finite() && self.clock_mhz > 0.0) {
            p.push(format!(
                "clock_mhz is {}; give a positive frequency in MHz",
                self.clock_mhz
            ));
        }
        if self.activation_precision == Precision::Ternary {
            p.push(
                "activation_precision is Ternary; only weights may be ternary (BitNet b1.58 keeps \
                 8-bit activations); use Int8 or narrower integers for activations"
                    .to_string(),
            );
        }
        for (what, b) in [
            ("ifmap_sram", self.ifmap_sram),
            ("filter_sram", self.filter_sram),
            ("ofmap_sram", self.ofmap_sram),
        ] {
            if b.banks == 0 {
                p.push(format!(
                    "{what}.banks is 0; a buffer needs at least one bank"
                ));
            } else if b.size_kb > 0 && u64::from(b.banks) > b.size_bytes() / 8 {
                p.push(format!(
                    "{what} has {} banks for {} KiB: each bank would hold less than one 64-bit word",
                    b.banks, b.size_kb
                ));
            }
        }
        // Zero bandwidth and tiny buffers are legal specs of infeasible designs: the model
        // reports them as infeasible results. Negative or non-numbers are contradictions.
        let bw = self.dram.bandwidth_bytes_per_cycle;
        if !(bw.is_finite() && bw >= 0.0) {
            p.push(format!(
                "dram.bandwidth_bytes_per_cycle is {bw}; give a finite number >= 0"
            ));
        }
        let t = &self.tech;
        for (what, v) in [
            ("tech.mult_8b_pj", t.mult_8b_pj),
            ("tech.add_32b_pj", t.add_32b_pj),
            ("tech.sram_64b_8kb_pj", t.sram_64b_8kb_pj),
            ("tech.dram_pj_per_bit", t.dram_pj_per_bit),
            ("tech.mult_8b_area_um2", t.mult_8b_area_um2),
            ("tech.add_32b_area_um2", t.add_32b_area_um2),
            ("tech.flop_area_um2", t.flop_area_um2),
            ("tech.sram_area_um2_per_byte", t.sram_area_um2_per_byte),
            ("tech.leakage_mw_per_mm2", t.leakage_mw_per_mm2),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                p.push(format!("{what} is {v}; give a finite number >= 0"));
            }
        }
        if p.is_empty() { Ok(()) } else { Err(p) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec_io::load_str;

    #[test]
    fn every_preset_loads_and_validates() {
        for name in AccelSpec::preset_names() {
            let s = AccelSpec::preset(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name, name);
            assert!(s.pes() >= 256);
        }
        let tpu = AccelSpec::preset("tpu-v1-like-ws-128x128").unwrap();
        assert_eq!((tpu.rows, tpu.cols), (128, 128));
        assert_eq!(tpu.dataflow, Dataflow::WeightStationary);
        let edge = AccelSpec::preset("edge-os-16x16").unwrap();
        assert_eq!(edge.dataflow, Dataflow::OutputStationary);
    }

    #[test]
    fn overrides_apply_and_contradictions_are_refused() {
        let s: AccelSpec = load_str(
            r#"(preset: "edge-os-16x16", set: {"rows": 8, "weight_precision": "Ternary", "dram.bandwidth_bytes_per_cycle": 0.0})"#,
            "x.ron",
        )
        .unwrap();
        assert_eq!(s.rows, 8);
        assert_eq!(s.weight_precision, Precision::Ternary);
        assert_eq!(s.dram.bandwidth_bytes_per_cycle, 0.0);

        let e = load_str::<AccelSpec>(
            r#"(preset: "edge-os-16x16", set: {"cols": 0, "activation_precision": "Ternary"})"#,
            "bad.ron",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("bad.ron"), "{e}");
        assert!(e.contains("cols is 0"), "{e}");
        assert!(e.contains("only weights may be ternary"), "{e}");
    }

    #[test]
    fn parse_errors_name_the_line() {
        let text = "(\n  format_version: 1,\n  name: \"x\",\n  rows: \"sixteen\",\n)";
        let e = load_str::<AccelSpec>(text, "spec.ron").unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(4), "{e}");
    }

    /// Every leaf path of a serialized value.
    fn leaves(v: &serde_json::Value, prefix: &str, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(x, &p, out);
                }
            }
            other => out.push((prefix.to_string(), other.clone())),
        }
    }

    #[test]
    fn typed_field_setters_cover_every_leaf_and_agree_with_set_path() {
        use crate::spec_io::set_path;
        let words = [
            "OutputStationary",
            "WeightStationary",
            "InputStationary",
            "Ternary",
            "Int2",
            "Int8",
            "Int16",
            "another name",
        ];
        for name in AccelSpec::preset_names() {
            let spec = AccelSpec::preset(name).unwrap();
            let tree = serde_json::to_value(&spec).unwrap();
            let mut all = Vec::new();
            leaves(&tree, "", &mut all);
            assert!(all.len() >= 20, "{name}: {} leaves", all.len());
            for (path, old) in all {
                let set = AccelSpec::field_setter(&path)
                    .unwrap_or_else(|| panic!("{name}: no typed setter for `{path}`"));
                let mut tries: Vec<serde_json::Value> = match &old {
                    serde_json::Value::Number(n) if n.is_u64() => {
                        let x = n.as_u64().unwrap();
                        vec![(x + 3).into(), 0.into(), (-1).into(), 2.5.into()]
                    }
                    serde_json::Value::Number(n) => {
                        let x = n.as_f64().unwrap();
                        vec![(x * 1.5 + 0.25).into(), 7.into(), "7".into()]
                    }
                    serde_json::Value::Bool(b) => vec![(!b).into(), 1.into()],
                    _ => words.iter().map(|w| (*w).into()).collect(),
                };
                tries.push(serde_json::Value::Null);
                for new in tries {
                    let mut typed = spec.clone();
                    let by_setter = set(&mut typed, &new).map(|()| typed);
                    let mut t = tree.clone();
                    set_path(&mut t, &path, new.clone()).unwrap();
                    let by_tree = serde_json::from_value::<AccelSpec>(t);
                    match (by_setter, by_tree) {
                        (Ok(a), Ok(b)) => assert_eq!(a, b, "{name} {path} = {new}"),
                        (Err(_), Err(_)) => {}
                        (a, b) => panic!("{name} {path} = {new}: setter {a:?}, tree {b:?}"),
                    }
                }
            }
        }
        assert!(AccelSpec::field_setter("rows.x").is_none());
        assert!(AccelSpec::field_setter("ifmap_sram").is_none());
    }
}
