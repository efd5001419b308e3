//! Cell behaviour: parameter tables keyed by vendor and technology (every value labelled
//! with its source and whether it was measured, fitted to published data, or assumed), and
//! per-chip / per-row / per-column / per-cell variation drawn from a seed.
//!
//! Variation is computed on demand from a counter-based hash of (seed, chip, row, column),
//! so a "map" costs no memory yet always gives the same cell the same value. All random
//! draws are Gaussian via Box-Muller on SplitMix64 outputs.

use serde::{Deserialize, Serialize};

/// How a parameter value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Basis {
    /// Reported as a measurement in the cited source.
    Measured,
    /// Chosen so the model reproduces a measured distribution in the cited source (the
    /// fit target is named in `source`).
    Fitted,
    /// An assumption of this model; the source says what it is based on.
    Assumed,
}

/// One labelled model parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub value: f64,
    pub basis: Basis,
    pub source: String,
}

fn p(value: f64, basis: Basis, source: &str) -> Param {
    Param {
        value,
        basis,
        source: source.into(),
    }
}

/// Parameters of one vendor/technology class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechParams {
    pub vendor: String,
    pub technology: String,
    // --- multi-row activation (QUAC / SiMRA) ---
    /// Longest PRE->ACT gap (ns) at which the second ACT still opens rows together with the
    /// first (the row decoder latches have not been reset).
    pub mra_max_gap_ns: Param,
    /// Address bits (from the LSB) in which the two ACT addresses may differ; rows differing
    /// in those bits are opened together (2^bits rows at most).
    pub mra_max_bits: Param,
    /// Rows per subarray (multi-row activation stays inside one subarray).
    pub rows_per_subarray: Param,
    /// Static bitline offset (sense-amplifier offset + cell mismatch) in units of the
    /// per-read noise sigma at 50 C, for a balanced 4-row (QUAC) charge share.
    pub mra_static_sigma: Param,
    /// Share of that static variance due to the sense amplifier (the rest is cell mismatch,
    /// which is diluted as more rows share charge).
    pub sa_offset_share: Param,
    /// Bitline-to-cell capacitance ratio C_BL / C_cell (sets how N rows dilute mismatch).
    pub bitline_cell_cap_ratio: Param,
    /// Bitline signal of one cell's stored charge in a 4-row charge share, in units of the
    /// per-read noise sigma (scales as (r + 4) / (r + N) for N rows, r = C_BL / C_cell). Sets
    /// how strongly unequal data in the opened rows decides a multi-row activation.
    pub mra_cell_signal_sigma: Param,
    // --- activation failures (reduced tRCD, D-RaNGe / latency PUF) ---
    /// Mean activation latency a cell needs (ns).
    pub trcd_cell_mean_ns: Param,
    /// Cell-to-cell sigma of that latency (ns).
    pub trcd_cell_sigma_ns: Param,
    /// Per-read timing noise sigma (ns) at 50 C.
    pub trcd_noise_ns: Param,
    /// Relative increase of the needed activation latency per degree C.
    pub trcd_temp_coeff_per_c: Param,
    // --- read disturbance ---
    /// Median per-row RowHammer threshold (effective aggressor activations, double-sided
    /// counting both aggressors, worst-case data pattern, 50 C).
    pub hc_median: Param,
    /// Log-normal sigma of the per-row threshold.
    pub hc_log_sigma: Param,
    /// Exponent of flips vs. hammer count above the threshold: flips = (HC/HC_row)^beta.
    pub flips_exponent: Param,
    /// Disturbance weight of an aggressor at distance 2 (distance 1 = 1).
    pub blast_weight_d2: Param,
    /// RowPress: equivalent activations of one activation held open tAggON:
    /// (tAggON / tRAS)^alpha.
    pub rowpress_alpha: Param,
    /// Relative change of the threshold per degree C above 50 C (negative: more vulnerable).
    pub hc_temp_coeff_per_c: Param,
    /// Threshold multiplier of the non-worst-case data patterns (checkerboard, solid).
    pub pattern_factor_checkerboard: Param,
    pub pattern_factor_solid: Param,
    /// Disturbance of one simultaneously activated row relative to one ACT (per row in the
    /// activated group adjacent to a victim); 1 means SiMRA disturbs like ordinary ACTs.
    pub simra_row_weight: Param,
    /// Disturbance of a CoMRA (ACT-PRE-ACT copy) relative to two separate ACTs.
    pub comra_weight: Param,
}

const QUAC: &str = "Olgun et al., QUAC-TRNG, ISCA 2021";
const SIMRA: &str =
    "Yuksel et al., Simultaneous Many-Row Activation in Off-the-Shelf DRAM Chips, DSN 2024 (SiMRA)";
const PUDH: &str = "Yuksel et al., PuDHammer, ISCA 2025";
const REVISIT: &str = "Kim et al., Revisiting RowHammer, ISCA 2020";
const PRESS: &str = "Luo et al., RowPress, ISCA 2023";
const DRANGE: &str = "Kim et al., D-RaNGe, HPCA 2019";
const SENS: &str = "Orosa et al., A Deeper Look into RowHammer's Sensitivities, MICRO 2021";

impl TechParams {
    /// Built-in table for a vendor ("H", "M", "S" as the papers anonymise SK hynix, Micron,
    /// Samsung) and technology ("DDR4").
    pub fn table(vendor: &str, technology: &str) -> Option<Self> {
        if technology != "DDR4" {
            return None;
        }
        // Vendor differences are assumed small multiplicative changes of the thresholds; the
        // cited studies anonymise vendors and report wide overlap between them.
        let (hc_median, v_note) = match vendor {
            "H" => (40_000.0, "vendor H"),
            "M" => (56_000.0, "vendor M"),
            "S" => (48_000.0, "vendor S"),
            _ => return None,
        };
        Some(Self {
            vendor: vendor.into(),
            technology: technology.into(),
            mra_max_gap_ns: p(
                3.0,
                Basis::Measured,
                &format!("{SIMRA}: ACT-PRE-ACT with t1, t2 of a few ns (<= 3 ns) opens many rows"),
            ),
            mra_max_bits: p(
                5.0,
                Basis::Measured,
                &format!("{SIMRA}: up to 32 rows activated simultaneously"),
            ),
            rows_per_subarray: p(
                512.0,
                Basis::Assumed,
                "typical DDR4 subarray size (512 rows) used by PuD studies",
            ),
            mra_static_sigma: p(
                6.0,
                Basis::Assumed,
                &format!(
                    "{QUAC}: only a small fraction of bitlines are high-entropy; ratio of static \
                     offset to read noise assumed"
                ),
            ),
            sa_offset_share: p(
                0.25,
                Basis::Assumed,
                "assumed split between sense-amplifier offset and cell capacitance mismatch",
            ),
            bitline_cell_cap_ratio: p(
                6.0,
                Basis::Assumed,
                "typical C_BL/C_cell of a few to ten (Keeth et al., DRAM Circuit Design)",
            ),
            mra_cell_signal_sigma: p(
                40.0,
                Basis::Assumed,
                "charge sharing: (Vdd/2) / (C_BL/C_cell + 4) = 0.6 V / 10 = 60 mV per cell at \
                 Vdd = 1.2 V (JESD79-4); read noise assumed 1.5 mV, so the static offset of \
                 6 sigma is 9 mV, a typical sense-amplifier offset",
            ),
            trcd_cell_mean_ns: p(
                9.0,
                Basis::Assumed,
                &format!("{DRANGE}: failures appear when tRCD is cut well below 13.5 ns"),
            ),
            trcd_cell_sigma_ns: p(
                1.0,
                Basis::Assumed,
                "cell-to-cell activation latency spread",
            ),
            trcd_noise_ns: p(
                0.08,
                Basis::Assumed,
                &format!("{DRANGE}: a few cells per cache block fail with ~50% probability"),
            ),
            trcd_temp_coeff_per_c: p(
                0.002,
                Basis::Assumed,
                "activation slows with temperature (Chang et al., SIGMETRICS 2016 trend)",
            ),
            hc_median: p(
                hc_median,
                Basis::Fitted,
                &format!(
                    "{REVISIT}: chosen so the minimum over a bank's 64K rows is of the order of the \
                     ~10K double-sided HC_first reported for DDR4-new ({v_note})"
                ),
            ),
            hc_log_sigma: p(
                0.35,
                Basis::Assumed,
                &format!("{REVISIT}: spread of per-row HC_first"),
            ),
            flips_exponent: p(
                2.0,
                Basis::Assumed,
                &format!("{REVISIT}: bit error rate grows polynomially with hammer count"),
            ),
            blast_weight_d2: p(
                0.03,
                Basis::Assumed,
                &format!("{REVISIT}: rows at distance 2 flip far less often than at distance 1"),
            ),
            rowpress_alpha: p(
                0.6,
                Basis::Fitted,
                &format!(
                    "{PRESS}: activation count to first flip drops by 1-2 orders of magnitude \
                     as tAggON grows from tRAS to 7.8 us"
                ),
            ),
            hc_temp_coeff_per_c: p(
                -0.002,
                Basis::Assumed,
                &format!("{SENS}: mean trend only (per-cell sign varies)"),
            ),
            pattern_factor_checkerboard: p(
                1.15,
                Basis::Assumed,
                &format!("{REVISIT}: row stripe is the worst-case pattern"),
            ),
            pattern_factor_solid: p(1.6, Basis::Assumed, &format!("{REVISIT}: solid is weakest")),
            simra_row_weight: p(
                1.0,
                Basis::Assumed,
                &format!(
                    "{PUDH}: each simultaneously opened row disturbs like one ACT; no extra \
                     amplification assumed (see docs/pid-validation.md)"
                ),
            ),
            comra_weight: p(
                1.0,
                Basis::Assumed,
                &format!("{PUDH}: a CoMRA copy counts as its two activations"),
            ),
        })
    }

    /// Names of the built-in tables.
    pub fn known() -> Vec<(&'static str, &'static str)> {
        vec![("H", "DDR4"), ("M", "DDR4"), ("S", "DDR4")]
    }
}

/// Deterministic per-location random numbers for one chip population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariationMap {
    pub seed: u64,
}

#[inline]
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline]
fn unit(u: u64) -> f64 {
    ((u >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// What a variation value is for (keeps the streams independent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    Chip = 1,
    Row = 2,
    Bitline = 3,
    Cell = 4,
    RowThreshold = 5,
    FlipCell = 6,
    CellType = 7,
}

impl VariationMap {
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }

    #[inline]
    fn hash(&self, stream: Stream, chip: u32, row: u32, col: u32) -> u64 {
        let a = splitmix(self.seed ^ ((stream as u64) << 56));
        let b = splitmix(a ^ ((chip as u64) << 40) ^ row as u64);
        splitmix(b ^ ((col as u64) << 20).rotate_left(17))
    }

    /// Uniform in (0, 1).
    #[inline]
    pub fn uniform(&self, stream: Stream, chip: u32, row: u32, col: u32) -> f64 {
        unit(self.hash(stream, chip, row, col))
    }

    /// Standard normal.
    #[inline]
    pub fn normal(&self, stream: Stream, chip: u32, row: u32, col: u32) -> f64 {
        let h = self.hash(stream, chip, row, col);
        let u1 = unit(h);
        let u2 = unit(splitmix(h));
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Standard normal from any RNG (for per-read noise).
pub fn gaussian(rng: &mut impl rand::Rng) -> f64 {
    let u1 = unit(rng.next_u64());
    let u2 = unit(rng.next_u64());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// Binary entropy H2(p) in bits.
pub fn h2(p: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        0.0
    } else {
        -p * p.log2() - (1.0 - p) * (1.0 - p).log2()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parameter_is_labelled() {
        for (v, t) in TechParams::known() {
            let tp = TechParams::table(v, t).unwrap();
            let json = serde_json::to_value(&tp).unwrap();
            let obj = json.as_object().unwrap();
            let params = obj.values().filter(|x| x.is_object()).count();
            assert!(params >= 15);
            for (k, x) in obj {
                if let Some(o) = x.as_object() {
                    assert!(!o["source"].as_str().unwrap().is_empty(), "{k}");
                }
            }
        }
        assert!(TechParams::table("X", "DDR4").is_none());
    }

    #[test]
    fn variation_is_deterministic_and_normal() {
        let m = VariationMap::new(9);
        assert_eq!(
            m.normal(Stream::Cell, 1, 2, 3),
            m.normal(Stream::Cell, 1, 2, 3)
        );
        assert_ne!(
            m.normal(Stream::Cell, 1, 2, 3),
            m.normal(Stream::Cell, 1, 2, 4)
        );
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|i| m.normal(Stream::Bitline, 0, 0, i)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        let other = VariationMap::new(10);
        assert_ne!(
            m.normal(Stream::Cell, 1, 2, 3),
            other.normal(Stream::Cell, 1, 2, 3)
        );
    }

    #[test]
    fn h2_bounds() {
        assert_eq!(h2(0.0), 0.0);
        assert!((h2(0.5) - 1.0).abs() < 1e-12);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-12);
    }
}
