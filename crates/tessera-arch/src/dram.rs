//! DRAM device specs: standard, organisation, speed bin, timing (in cycles, with optional
//! nanosecond overrides), and IDD currents for energy.
//!
//! In the manner of Ramulator 2, a preset is named by its JEDEC speed bin (`DDR4_2400R`,
//! `DDR4_3200AA`, `DDR5_4800B`). Any single timing can be overridden in cycles
//! (`set: {"timing.nRCD": 14}`) or in nanoseconds (`set: {"timing_ns.tRCD": 12.5}`); a
//! nanosecond override wins and is converted with the JEDEC rounding rule. Timings left
//! out (`nRFC`, `nREFI`) are derived from the JEDEC tables for the device density.
//! [`DramSpec::validate`] refuses contradictions, e.g. a density that does not match the
//! organisation.

use crate::spec_io::Spec;
use serde::{Deserialize, Serialize};

/// Which JEDEC standard a device follows (selects derived-timing tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DramStandard {
    /// JESD79-4 DDR4.
    DDR4,
    /// JESD79-5 DDR5 (one 32-bit sub-channel modelled as a channel).
    DDR5,
}

/// Organisation of one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramOrg {
    /// Independent channels (each with its own command/data bus).
    pub channels: u32,
    /// Ranks per channel.
    pub ranks: u32,
    /// Bank groups per rank.
    pub bank_groups: u32,
    /// Banks per bank group.
    pub banks_per_group: u32,
    /// Rows per bank.
    pub rows: u32,
    /// Columns per row (in device-width units, as in the datasheet).
    pub columns: u32,
    /// Device data width in bits (x4, x8, x16).
    pub device_width_bits: u32,
    /// Devices (chips) per rank; devices_per_rank * device_width_bits = channel bus width.
    pub devices_per_rank: u32,
    /// Density of one device in Mb; must equal banks * rows * columns * width / 2^20.
    pub density_mb: u32,
    /// Burst length in beats (BL8 for DDR4, BL16 for DDR5).
    pub burst_length: u32,
}

/// Timings in clock cycles (nCK). `None` means "derive from the JEDEC table".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramTiming {
    #[serde(rename = "nCL")]
    pub n_cl: u32,
    #[serde(rename = "nCWL")]
    pub n_cwl: u32,
    #[serde(rename = "nRCD")]
    pub n_rcd: u32,
    #[serde(rename = "nRP")]
    pub n_rp: u32,
    #[serde(rename = "nRAS")]
    pub n_ras: u32,
    #[serde(rename = "nRC")]
    pub n_rc: u32,
    #[serde(rename = "nRRD_S")]
    pub n_rrd_s: u32,
    #[serde(rename = "nRRD_L")]
    pub n_rrd_l: u32,
    #[serde(rename = "nFAW")]
    pub n_faw: u32,
    #[serde(rename = "nCCD_S")]
    pub n_ccd_s: u32,
    #[serde(rename = "nCCD_L")]
    pub n_ccd_l: u32,
    #[serde(rename = "nWTR_S")]
    pub n_wtr_s: u32,
    #[serde(rename = "nWTR_L")]
    pub n_wtr_l: u32,
    #[serde(rename = "nRTP")]
    pub n_rtp: u32,
    #[serde(rename = "nWR")]
    pub n_wr: u32,
    /// Rank-to-rank data-bus switch (DRAMsim3 `tRTRS`).
    #[serde(rename = "nRTRS")]
    pub n_rtrs: u32,
    /// Refresh cycle time; derived from density when absent.
    #[serde(rename = "nRFC", default)]
    pub n_rfc: Option<u32>,
    /// Average refresh interval; derived (7.8 us DDR4, 3.9 us DDR5) when absent.
    #[serde(rename = "nREFI", default)]
    pub n_refi: Option<u32>,
}

/// Nanosecond overrides; each one, when set, replaces the cycle value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DramTimingNs {
    #[serde(rename = "tCL")]
    pub t_cl: Option<f64>,
    #[serde(rename = "tCWL")]
    pub t_cwl: Option<f64>,
    #[serde(rename = "tRCD")]
    pub t_rcd: Option<f64>,
    #[serde(rename = "tRP")]
    pub t_rp: Option<f64>,
    #[serde(rename = "tRAS")]
    pub t_ras: Option<f64>,
    #[serde(rename = "tRC")]
    pub t_rc: Option<f64>,
    #[serde(rename = "tRRD_S")]
    pub t_rrd_s: Option<f64>,
    #[serde(rename = "tRRD_L")]
    pub t_rrd_l: Option<f64>,
    #[serde(rename = "tFAW")]
    pub t_faw: Option<f64>,
    #[serde(rename = "tCCD_S")]
    pub t_ccd_s: Option<f64>,
    #[serde(rename = "tCCD_L")]
    pub t_ccd_l: Option<f64>,
    #[serde(rename = "tWTR_S")]
    pub t_wtr_s: Option<f64>,
    #[serde(rename = "tWTR_L")]
    pub t_wtr_l: Option<f64>,
    #[serde(rename = "tRTP")]
    pub t_rtp: Option<f64>,
    #[serde(rename = "tWR")]
    pub t_wr: Option<f64>,
    #[serde(rename = "tRFC")]
    pub t_rfc: Option<f64>,
    #[serde(rename = "tREFI")]
    pub t_refi: Option<f64>,
}

/// Datasheet currents (mA per device) and supply voltage, for IDD-based energy
/// (Micron TN-40-07 "Calculating Memory Power for DDR4 SDRAM"; DRAMPower).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramPower {
    pub vdd_v: f64,
    pub idd0_ma: f64,
    pub idd2n_ma: f64,
    pub idd3n_ma: f64,
    pub idd4r_ma: f64,
    pub idd4w_ma: f64,
    pub idd5b_ma: f64,
    /// Where these currents come from, and whether measured/datasheet or assumed.
    pub source: String,
}

/// A DRAM device/channel spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramSpec {
    /// Name of the speed bin / configuration.
    pub name: String,
    pub standard: DramStandard,
    /// Data rate in MT/s; the clock period is 2e6 / rate ps (two transfers per clock).
    pub rate_mts: u32,
    pub org: DramOrg,
    pub timing: DramTiming,
    #[serde(default)]
    pub timing_ns: DramTimingNs,
    pub power: DramPower,
}

/// Fully resolved timings in cycles, what the simulator uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    /// Data-bus cycles of one burst (BL/2).
    pub n_bl: u32,
    pub n_cl: u32,
    pub n_cwl: u32,
    pub n_rcd: u32,
    pub n_rp: u32,
    pub n_ras: u32,
    pub n_rc: u32,
    pub n_rrd_s: u32,
    pub n_rrd_l: u32,
    pub n_faw: u32,
    pub n_ccd_s: u32,
    pub n_ccd_l: u32,
    pub n_wtr_s: u32,
    pub n_wtr_l: u32,
    pub n_rtp: u32,
    pub n_wr: u32,
    pub n_rtrs: u32,
    pub n_rfc: u32,
    pub n_refi: u32,
}

/// JEDEC nanosecond -> cycle conversion: nCK = truncate(t/tCK + 0.974), the 2.5 %
/// guard-banded rounding of JEDEC SPD Annex L (JESD21-C 4.1.2.L-5), so that e.g.
/// 13.75 ns at 0.833 ns gives 17 and an exact multiple is not bumped up.
pub fn ns_to_cycles(t_ns: f64, tck_ns: f64) -> u32 {
    ((t_ns / tck_ns) + 0.974).floor().max(0.0) as u32
}

/// JEDEC tRFC1 (all-bank refresh cycle time) by device density.
/// DDR4: JESD79-4 Table "Refresh parameters by device density": 2 Gb 160 ns, 4 Gb 260 ns,
/// 8 Gb 350 ns, 16 Gb 550 ns. DDR5: JESD79-5 tRFC1: 8 Gb 195 ns, 16 Gb 295 ns,
/// 24/32 Gb 410 ns (as tabulated in Ramulator 2's DDR5 model; the 16 Gb value agrees with
/// Micron's 16 Gb DDR5 data sheet as transcribed in gem5's DDR5 configs; 8 and 24/32 Gb
/// not re-checked: assumed).
pub fn jedec_trfc_ns(standard: DramStandard, density_mb: u32) -> Option<f64> {
    match (standard, density_mb) {
        (DramStandard::DDR4, 2048) => Some(160.0),
        (DramStandard::DDR4, 4096) => Some(260.0),
        (DramStandard::DDR4, 8192) => Some(350.0),
        (DramStandard::DDR4, 16384) => Some(550.0),
        (DramStandard::DDR5, 8192) => Some(195.0),
        (DramStandard::DDR5, 16384) => Some(295.0),
        (DramStandard::DDR5, 24576) | (DramStandard::DDR5, 32768) => Some(410.0),
        _ => None,
    }
}

/// JEDEC average refresh interval tREFI at normal temperature (<= 85 C):
/// DDR4 7.8 us (JESD79-4), DDR5 3.9 us (JESD79-5).
pub fn jedec_trefi_ns(standard: DramStandard) -> f64 {
    match standard {
        DramStandard::DDR4 => 7800.0,
        DramStandard::DDR5 => 3900.0,
    }
}

impl DramSpec {
    /// Clock period in ns.
    pub fn tck_ns(&self) -> f64 {
        2000.0 / self.rate_mts as f64
    }

    /// Total banks per rank.
    pub fn banks_per_rank(&self) -> u32 {
        self.org.bank_groups * self.org.banks_per_group
    }

    /// Channel data-bus width in bits.
    pub fn bus_width_bits(&self) -> u32 {
        self.org.devices_per_rank * self.org.device_width_bits
    }

    /// Bytes moved by one burst (one column access) on the channel.
    pub fn burst_bytes(&self) -> u32 {
        self.bus_width_bits() * self.org.burst_length / 8
    }

    /// Column accesses (bursts) per row.
    pub fn bursts_per_row(&self) -> u32 {
        self.org.columns / self.org.burst_length
    }

    /// Density computed from the organisation, in Mb.
    pub fn computed_density_mb(&self) -> u64 {
        let o = &self.org;
        (o.bank_groups as u64
            * o.banks_per_group as u64
            * o.rows as u64
            * o.columns as u64
            * o.device_width_bits as u64)
            >> 20
    }

    /// Resolve every timing to cycles: ns overrides first, then the cycle values, then
    /// JEDEC-derived values for refresh.
    pub fn timings(&self) -> Timings {
        let tck = self.tck_ns();
        let t = &self.timing;
        let o = &self.timing_ns;
        let pick = |ns: Option<f64>, cyc: u32| ns.map(|v| ns_to_cycles(v, tck)).unwrap_or(cyc);
        let n_rfc = o
            .t_rfc
            .map(|v| ns_to_cycles(v, tck))
            .or(t.n_rfc)
            .or_else(|| {
                jedec_trfc_ns(self.standard, self.org.density_mb).map(|v| ns_to_cycles(v, tck))
            })
            .unwrap_or(0);
        // tREFI is an upper bound on the average interval: round down.
        let n_refi = o
            .t_refi
            .map(|v| (v / tck).floor() as u32)
            .or(t.n_refi)
            .unwrap_or_else(|| (jedec_trefi_ns(self.standard) / tck + 1e-9).floor() as u32);
        Timings {
            n_bl: self.org.burst_length / 2,
            n_cl: pick(o.t_cl, t.n_cl),
            n_cwl: pick(o.t_cwl, t.n_cwl),
            n_rcd: pick(o.t_rcd, t.n_rcd),
            n_rp: pick(o.t_rp, t.n_rp),
            n_ras: pick(o.t_ras, t.n_ras),
            n_rc: pick(o.t_rc, t.n_rc),
            n_rrd_s: pick(o.t_rrd_s, t.n_rrd_s),
            n_rrd_l: pick(o.t_rrd_l, t.n_rrd_l),
            n_faw: pick(o.t_faw, t.n_faw),
            n_ccd_s: pick(o.t_ccd_s, t.n_ccd_s),
            n_ccd_l: pick(o.t_ccd_l, t.n_ccd_l),
            n_wtr_s: pick(o.t_wtr_s, t.n_wtr_s),
            n_wtr_l: pick(o.t_wtr_l, t.n_wtr_l),
            n_rtp: pick(o.t_rtp, t.n_rtp),
            n_wr: pick(o.t_wr, t.n_wr),
            n_rtrs: t.n_rtrs,
            n_rfc,
            n_refi,
        }
    }

    /// Peak data bandwidth of one channel in GB/s, ignoring refresh.
    pub fn peak_bandwidth_gbs(&self) -> f64 {
        self.rate_mts as f64 * 1e6 * self.bus_width_bits() as f64 / 8.0 / 1e9
    }

    /// Peak bandwidth with all-bank refresh overhead: peak * (1 - nRFC / nREFI).
    pub fn peak_bandwidth_with_refresh_gbs(&self) -> f64 {
        let t = self.timings();
        self.peak_bandwidth_gbs() * (1.0 - t.n_rfc as f64 / t.n_refi as f64)
    }
}

fn is_pow2(x: u32) -> bool {
    x != 0 && x & (x - 1) == 0
}

impl Spec for DramSpec {
    const KIND: &'static str = "DRAM spec";

    fn presets() -> &'static [(&'static str, &'static str)] {
        &[
            (
                "DDR4_2400R",
                include_str!("../../../arch-specs/dram/DDR4_2400R.ron"),
            ),
            (
                "DDR4_3200AA",
                include_str!("../../../arch-specs/dram/DDR4_3200AA.ron"),
            ),
            (
                "DDR5_4800B",
                include_str!("../../../arch-specs/dram/DDR5_4800B.ron"),
            ),
        ]
    }

    fn validate(&self) -> Result<(), Vec<String>> {
        let mut p = Vec::new();
        let o = &self.org;
        for (name, v) in [
            ("org.channels", o.channels),
            ("org.ranks", o.ranks),
            ("org.bank_groups", o.bank_groups),
            ("org.banks_per_group", o.banks_per_group),
            ("org.rows", o.rows),
            ("org.columns", o.columns),
            ("org.device_width_bits", o.device_width_bits),
            ("org.devices_per_rank", o.devices_per_rank),
            ("org.burst_length", o.burst_length),
        ] {
            if !is_pow2(v) {
                p.push(format!(
                    "{name} = {v} must be a power of two (it is an address field)"
                ));
            }
        }
        if o.bank_groups > 16 {
            p.push(format!(
                "org.bank_groups = {} exceeds 16, the most any JEDEC DDR standard defines",
                o.bank_groups
            ));
        }
        if p.is_empty() {
            let computed = self.computed_density_mb();
            if computed != o.density_mb as u64 {
                p.push(format!(
                    "calculated density {computed} Mb (bank_groups x banks_per_group x rows x \
                     columns x device_width_bits) does not equal the provided org.density_mb \
                     {} Mb",
                    o.density_mb
                ));
            }
            if o.columns < o.burst_length {
                p.push(format!(
                    "org.columns {} is smaller than one burst (org.burst_length {})",
                    o.columns, o.burst_length
                ));
            }
        }
        if self.rate_mts == 0 {
            p.push("rate_mts must be positive".into());
            return Err(p);
        }
        let t = self.timings();
        for (name, v) in [
            ("nCL", t.n_cl),
            ("nCWL", t.n_cwl),
            ("nRCD", t.n_rcd),
            ("nRP", t.n_rp),
            ("nRAS", t.n_ras),
            ("nRC", t.n_rc),
            ("nRRD_S", t.n_rrd_s),
            ("nCCD_S", t.n_ccd_s),
            ("nRTP", t.n_rtp),
            ("nWR", t.n_wr),
        ] {
            if v == 0 {
                p.push(format!(
                    "timing {name} is 0 cycles; every core timing must be >= 1"
                ));
            }
        }
        if t.n_rc < t.n_ras + t.n_rp {
            p.push(format!(
                "nRC = {} is less than nRAS + nRP = {} + {} (JEDEC: tRC >= tRAS + tRP)",
                t.n_rc, t.n_ras, t.n_rp
            ));
        }
        if t.n_ras < t.n_rcd {
            p.push(format!(
                "nRAS = {} is less than nRCD = {}: a row could close before it can be read",
                t.n_ras, t.n_rcd
            ));
        }
        for (l, s, ln, sn) in [
            (t.n_rrd_l, t.n_rrd_s, "nRRD_L", "nRRD_S"),
            (t.n_ccd_l, t.n_ccd_s, "nCCD_L", "nCCD_S"),
            (t.n_wtr_l, t.n_wtr_s, "nWTR_L", "nWTR_S"),
        ] {
            if l < s {
                p.push(format!(
                    "{ln} = {l} is less than {sn} = {s} (same bank group is never faster)"
                ));
            }
        }
        if t.n_ccd_s < t.n_bl {
            p.push(format!(
                "nCCD_S = {} is shorter than a burst (BL/2 = {} cycles): data would overlap",
                t.n_ccd_s, t.n_bl
            ));
        }
        if t.n_rfc == 0 {
            p.push(format!(
                "no nRFC given and no JEDEC tRFC for a {:?} device of {} Mb; set timing.nRFC or \
                 timing_ns.tRFC",
                self.standard, o.density_mb
            ));
        }
        if t.n_refi <= t.n_rfc {
            p.push(format!(
                "nREFI = {} must exceed nRFC = {} (otherwise the device only refreshes)",
                t.n_refi, t.n_rfc
            ));
        }
        for (name, v) in [
            ("power.vdd_v", self.power.vdd_v),
            ("power.idd0_ma", self.power.idd0_ma),
            ("power.idd2n_ma", self.power.idd2n_ma),
            ("power.idd3n_ma", self.power.idd3n_ma),
            ("power.idd4r_ma", self.power.idd4r_ma),
            ("power.idd4w_ma", self.power.idd4w_ma),
            ("power.idd5b_ma", self.power.idd5b_ma),
        ] {
            if !(v.is_finite() && v > 0.0) {
                p.push(format!("{name} = {v} must be a positive number"));
            }
        }
        if self.power.idd3n_ma < self.power.idd2n_ma {
            p.push("power.idd3n_ma (active standby) is below idd2n_ma (precharge standby)".into());
        }
        if p.is_empty() { Ok(()) } else { Err(p) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec_io::load_str;

    #[test]
    fn presets_load_and_validate() {
        for name in DramSpec::preset_names() {
            DramSpec::preset(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn ddr4_2400r_timings_match_jedec() {
        let s = DramSpec::preset("DDR4_2400R").unwrap();
        let t = s.timings();
        assert_eq!((t.n_cl, t.n_rcd, t.n_rp), (16, 16, 16));
        // 8 Gb: tRFC 350 ns / 0.8333 ns = 420 cycles; tREFI 7.8 us = 9360 cycles.
        assert_eq!(t.n_rfc, 420);
        assert_eq!(t.n_refi, 9360);
    }

    #[test]
    fn trfc_follows_density() {
        let mut s = DramSpec::preset("DDR4_2400R").unwrap();
        let expect = [(2048, 160.0), (4096, 260.0), (8192, 350.0), (16384, 550.0)];
        for (density, ns) in expect {
            s.org.density_mb = density;
            assert_eq!(s.timings().n_rfc, ns_to_cycles(ns, s.tck_ns()));
        }
    }

    #[test]
    fn ns_override_wins_and_rounds_like_jedec() {
        let text = r#"(preset: "DDR4_2400R", set: {"timing_ns.tRCD": 13.75})"#;
        let s: DramSpec = load_str(text, "x.ron").unwrap();
        assert_eq!(s.timings().n_rcd, 17);
        let text = r#"(preset: "DDR4_2400R", set: {"timing.nRCD": 14, "timing.nRAS": 39})"#;
        let s: DramSpec = load_str(text, "x.ron").unwrap();
        assert_eq!(s.timings().n_rcd, 14);
    }

    #[test]
    fn density_mismatch_is_refused() {
        let text = r#"(preset: "DDR4_2400R", set: {"org.density_mb": 4096})"#;
        let e = load_str::<DramSpec>(text, "bad.ron")
            .unwrap_err()
            .to_string();
        assert!(e.contains("calculated density 8192 Mb"), "{e}");
        assert!(e.contains("bad.ron"), "{e}");
    }

    #[test]
    fn trc_below_tras_plus_trp_is_refused() {
        let text = r#"(preset: "DDR4_2400R", set: {"timing.nRC": 40})"#;
        let e = load_str::<DramSpec>(text, "bad.ron")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nRC = 40"), "{e}");
    }

    #[test]
    fn peak_bandwidth_formula() {
        let s = DramSpec::preset("DDR4_2400R").unwrap();
        assert!((s.peak_bandwidth_gbs() - 19.2).abs() < 1e-9);
        let r = s.peak_bandwidth_with_refresh_gbs();
        assert!((r - 19.2 * (1.0 - 420.0 / 9360.0)).abs() < 1e-9);
    }
}
