//! Read disturbance: RowHammer (single-, double-, many-sided), RowPress (long row-open time
//! converted to equivalent activations), and multi-row activation (CoMRA copies, SiMRA-N
//! groups), with per-row thresholds from the seeded variation map, temperature and data
//! pattern effects, blast radius 2, flip direction and bit errors per 64-bit word; plus
//! mitigations as named plug-ins (PARA, a TRR-like sampler, Graphene, PRAC).
//!
//! Model: each activation of a row adds `w(d) * press(tAggON)` disturbance to the rows at
//! distance d = 1 (w = 1) and 2 (w = blast_weight_d2); `press(t) = max(1, (t/tRAS)^alpha)`.
//! A victim's threshold is `2 * HC_row * pattern * temperature` (HC_row the row's
//! double-sided HC_first, log-normal around hc_median). A victim whose disturbance reaches
//! D >= threshold has `floor((D/threshold)^beta)` flipped cells (its weakest cells, at fixed
//! positions). Refresh (periodic or preventive) resets D, but flips already made persist.
//! The attack runs as real command sequences on the [`Executor`], so attack time, refresh
//! and preventive-refresh overheads come from the timing model.

use crate::cells::{Stream, TechParams, VariationMap};
use crate::device::{Cmd, Constraint};
use crate::pid::{Executor, PidCmd, PidEvent, mra_op};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tessera_arch::dram::DramSpec;

/// Access pattern of the attack.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum HammerPattern {
    /// One aggressor next to the victim (plus a far row to force row conflicts).
    SingleSided,
    /// Aggressors on both sides of the victim.
    DoubleSided,
    /// `aggressors` rows, every other row starting next to the victim (TRRespass style).
    ManySided { aggressors: u32 },
    /// In-DRAM copy (ACT source, PRE after tRAS, ACT destination a few ns later), source and
    /// destination on both sides of the victim.
    Comra,
    /// Simultaneous activation of `rows` rows whose group ends next to the victim; the two ACT
    /// addresses are inside the group.
    Simra { rows: u32 },
}

/// Data written to the victim and aggressor rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataPattern {
    /// Victim all ones, aggressors all zeros (worst case in the cited study).
    RowStripe,
    Checkerboard,
    Solid,
}

/// A mitigation and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MitigationConfig {
    /// PARA (Kim et al., ISCA 2014): on every ACT, refresh the neighbours with probability p.
    Para { probability: f64 },
    /// TRR-like sampler (as reverse-engineered in TRRespass, S&P 2020): a table of `entries`
    /// counters filled by sampling ACTs; at each REF the neighbours of the most-activated
    /// entry are refreshed.
    TrrSampler {
        entries: u32,
        sample_probability: f64,
    },
    /// Graphene (Park et al., MICRO 2020): Misra-Gries counters; refresh neighbours each time
    /// a row's estimated count reaches a multiple of `threshold`.
    Graphene { entries: u32, threshold: u32 },
    /// PRAC (JEDEC DDR5, 2024): a counter per row; at `threshold` the chip backs off and
    /// refreshes the row's neighbours.
    Prac { threshold: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HammerConfig {
    pub pattern: HammerPattern,
    pub data_pattern: DataPattern,
    pub vendor: String,
    pub technology: String,
    pub seed: u64,
    pub module: u32,
    pub temperature_c: f64,
    /// Row-open time of each aggressor activation (ns); tRAS gives RowHammer, longer RowPress.
    pub t_agg_on_ns: f64,
    /// Victim row (the pattern is built around it; SiMRA aligns its group next to it).
    pub victim_row: u32,
    /// Attack iterations (each activates every aggressor once).
    pub hammer_count: u64,
    /// Periodic refresh (REF every tREFI, 8192 REFs per 64 ms window) during the attack.
    pub refresh: bool,
    pub mitigation: Option<MitigationConfig>,
    /// The tracker sees every row a multi-row activation opens (true) or only the ACT
    /// addresses on the command bus (false, as a conventional tracker does).
    pub tracker_sees_all_rows: bool,
    /// Rows sampled for the HC_first distribution.
    pub rows_sampled: u32,
    /// Override of the table's SiMRA per-row disturbance weight (e.g. a measured value).
    pub simra_row_weight: Option<f64>,
}

impl Default for HammerConfig {
    fn default() -> Self {
        Self {
            pattern: HammerPattern::DoubleSided,
            data_pattern: DataPattern::RowStripe,
            vendor: "H".into(),
            technology: "DDR4".into(),
            seed: 3,
            module: 0,
            temperature_c: 50.0,
            t_agg_on_ns: 0.0,
            victim_row: 1000,
            hammer_count: 50_000,
            refresh: false,
            mitigation: None,
            tracker_sees_all_rows: false,
            rows_sampled: 4096,
            simra_row_weight: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HammerReport {
    /// [`crate::REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    pub pattern: HammerPattern,
    pub victim_row: u32,
    pub aggressor_acts: Vec<u32>,
    /// Disturbance per attack iteration on the victim (equivalent activations).
    pub disturbance_per_iteration: f64,
    /// Victim's HC_first in attack iterations (per-aggressor activations).
    pub victim_hc_first: u64,
    /// HC_first over sampled rows for this pattern: minimum, mean, and the CDF at 10 points.
    pub hc_first_min: u64,
    pub hc_first_mean: f64,
    pub hc_first_cdf: Vec<(u64, f64)>,
    pub attack_time_ms: f64,
    pub activations: u64,
    pub flips_total: u64,
    pub flips_1_to_0: u64,
    pub flips_0_to_1: u64,
    /// Flips by distance to the nearest aggressor (1, 2).
    pub flips_by_distance: [u64; 2],
    /// 64-bit words with 1, 2, and >= 3 flipped bits.
    pub words_with_flips: [u64; 3],
    pub rows_flipped: u64,
    pub mitigation: Option<String>,
    pub preventive_refreshes: u64,
    /// Time share of preventive refreshes (each one an ACT+PRE, about tRC).
    pub mitigation_overhead: f64,
    pub periodic_refreshes: u64,
    pub timing_violations: Vec<(String, u64)>,
    pub seed: u64,
    /// Bits per row of the module (flip positions are below this).
    pub row_bits: u32,
    /// The bit-flip map: every row with flips, in row order, with its flipped bit positions
    /// (sorted; `flips_total` is the sum of their lengths).
    pub flip_map: Vec<RowFlips>,
}

/// The flipped bits of one row after an attack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowFlips {
    pub row: u32,
    /// Bit positions in the row (0 .. `row_bits`), sorted.
    pub bits: Vec<u32>,
}

/// One variant of a comparison: the same attack and module as the base config, with another
/// pattern, mitigation or tracker view. Used to show tracker bypasses side by side (a
/// TRR-like sampler fed only the two ACT addresses of a SiMRA operation, PuDHammer, ISCA
/// 2025; many-sided hammering with more aggressors than the sampler has entries, TRRespass,
/// S&P 2020).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HammerVariant {
    pub label: String,
    /// Attack pattern; `None` keeps the base config's.
    #[serde(default)]
    pub pattern: Option<HammerPattern>,
    /// Mitigation of this variant (`None`: no mitigation).
    #[serde(default)]
    pub mitigation: Option<MitigationConfig>,
    #[serde(default)]
    pub tracker_sees_all_rows: bool,
}

/// One run of a comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelledReport {
    pub label: String,
    pub tracker_sees_all_rows: bool,
    pub report: HammerReport,
}

/// Run the base config and then every variant on the same module and seed.
pub fn compare(
    spec: &DramSpec,
    base: &HammerConfig,
    variants: &[HammerVariant],
) -> Result<Vec<LabelledReport>, String> {
    let mut out = vec![LabelledReport {
        label: "base".into(),
        tracker_sees_all_rows: base.tracker_sees_all_rows,
        report: run(spec, base)?,
    }];
    for v in variants {
        let cfg = HammerConfig {
            pattern: v.pattern.unwrap_or(base.pattern),
            mitigation: v.mitigation.clone(),
            tracker_sees_all_rows: v.tracker_sees_all_rows,
            ..base.clone()
        };
        let report = run(spec, &cfg).map_err(|e| format!("variant `{}`: {e}", v.label))?;
        out.push(LabelledReport {
            label: v.label.clone(),
            tracker_sees_all_rows: v.tracker_sees_all_rows,
            report,
        });
    }
    Ok(out)
}

/// A read-disturbance mitigation.
pub trait Mitigation {
    fn name(&self) -> String;
    /// An activation of `row` the mitigation can observe; push rows to refresh into `out`.
    fn on_act(&mut self, row: u32, rng: &mut ChaCha8Rng, out: &mut Vec<u32>);
    /// A periodic REF command.
    fn on_ref(&mut self, _out: &mut Vec<u32>) {}
}

fn neighbours(row: u32, rows: u32, out: &mut Vec<u32>) {
    if row > 0 {
        out.push(row - 1);
    }
    if row + 1 < rows {
        out.push(row + 1);
    }
}

pub struct Para {
    pub probability: f64,
    pub rows: u32,
}

impl Mitigation for Para {
    fn name(&self) -> String {
        format!("PARA(p={})", self.probability)
    }
    fn on_act(&mut self, row: u32, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        if rng.random_bool(self.probability) {
            neighbours(row, self.rows, out);
        }
    }
}

/// TRR-like sampler: a table of (row, count, insertion number). A sampled ACT to an
/// untracked row takes a free entry or evicts the entry with the lowest count, the oldest
/// first among equal counts (assumed policy; TRRespass, S&P 2020, found per-vendor
/// samplers with a small number of entries but not their exact replacement rule). At each REF
/// the neighbours of the highest-count entry are refreshed and the entry is dropped.
pub struct TrrSampler {
    pub table: Vec<(u32, u32, u64)>,
    pub entries: usize,
    pub sample_probability: f64,
    pub rows: u32,
    pub inserted: u64,
}

impl Mitigation for TrrSampler {
    fn name(&self) -> String {
        format!(
            "TRR-sampler({} entries, p={})",
            self.entries, self.sample_probability
        )
    }
    fn on_act(&mut self, row: u32, rng: &mut ChaCha8Rng, _out: &mut Vec<u32>) {
        if let Some(e) = self.table.iter_mut().find(|e| e.0 == row) {
            e.1 += 1;
        } else if rng.random_bool(self.sample_probability) {
            self.inserted += 1;
            let entry = (row, 1, self.inserted);
            if self.table.len() < self.entries {
                self.table.push(entry);
            } else if let Some(victim) = self.table.iter_mut().min_by_key(|e| (e.1, e.2)) {
                *victim = entry;
            }
        }
    }
    fn on_ref(&mut self, out: &mut Vec<u32>) {
        if let Some(i) = (0..self.table.len()).max_by_key(|&i| self.table[i].1) {
            neighbours(self.table[i].0, self.rows, out);
            self.table.swap_remove(i);
        }
    }
}

pub struct Graphene {
    pub table: Vec<(u32, u32)>,
    pub entries: usize,
    pub threshold: u32,
    pub spill: u32,
    pub rows: u32,
}

impl Mitigation for Graphene {
    fn name(&self) -> String {
        format!("Graphene({} entries, T={})", self.entries, self.threshold)
    }
    fn on_act(&mut self, row: u32, _rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        let count = if let Some(e) = self.table.iter_mut().find(|e| e.0 == row) {
            e.1 += 1;
            e.1
        } else if self.table.len() < self.entries {
            self.table.push((row, self.spill + 1));
            self.spill + 1
        } else if let Some(e) = self.table.iter_mut().find(|e| e.1 == self.spill) {
            // Replace an entry whose count equals the spillover count (Misra-Gries).
            *e = (row, self.spill + 1);
            self.spill + 1
        } else {
            self.spill += 1;
            0
        };
        if count > 0 && count % self.threshold == 0 {
            neighbours(row, self.rows, out);
        }
    }
}

pub struct Prac {
    pub counters: Vec<u32>,
    pub threshold: u32,
}

impl Mitigation for Prac {
    fn name(&self) -> String {
        format!("PRAC(threshold={})", self.threshold)
    }
    fn on_act(&mut self, row: u32, _rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        let c = &mut self.counters[row as usize];
        *c += 1;
        if *c >= self.threshold {
            *c = 0;
            neighbours(row, self.counters.len() as u32, out);
        }
    }
}

/// Build a mitigation plug-in from its config.
pub fn make_mitigation(cfg: &MitigationConfig, rows: u32) -> Result<Box<dyn Mitigation>, String> {
    Ok(match *cfg {
        MitigationConfig::Para { probability } => {
            if !(0.0..=1.0).contains(&probability) {
                return Err(format!("PARA probability {probability} must be in [0, 1]"));
            }
            Box::new(Para { probability, rows })
        }
        MitigationConfig::TrrSampler {
            entries,
            sample_probability,
        } => {
            if entries == 0 || !(0.0..=1.0).contains(&sample_probability) {
                return Err("TRR sampler needs entries >= 1 and a probability in [0, 1]".into());
            }
            Box::new(TrrSampler {
                table: Vec::new(),
                entries: entries as usize,
                sample_probability,
                rows,
                inserted: 0,
            })
        }
        MitigationConfig::Graphene { entries, threshold } => {
            if entries == 0 || threshold == 0 {
                return Err("Graphene needs entries >= 1 and threshold >= 1".into());
            }
            Box::new(Graphene {
                table: Vec::new(),
                entries: entries as usize,
                threshold,
                spill: 0,
                rows,
            })
        }
        MitigationConfig::Prac { threshold } => {
            if threshold == 0 {
                return Err("PRAC threshold must be >= 1".into());
            }
            Box::new(Prac {
                counters: vec![0; rows as usize],
                threshold,
            })
        }
    })
}

/// Per-row thresholds and flip behaviour of one module.
pub struct DisturbModel {
    tech: TechParams,
    var: VariationMap,
    rows: u32,
    row_bits: u32,
    temperature_c: f64,
    data: DataPattern,
    simra_weight: f64,
}

impl DisturbModel {
    pub fn new(spec: &DramSpec, cfg: &HammerConfig) -> Result<Self, String> {
        let tech = TechParams::table(&cfg.vendor, &cfg.technology).ok_or_else(|| {
            format!(
                "no parameter table for vendor `{}` technology `{}`; known: {:?}",
                cfg.vendor,
                cfg.technology,
                TechParams::known()
            )
        })?;
        let simra_weight = cfg.simra_row_weight.unwrap_or(tech.simra_row_weight.value);
        Ok(Self {
            tech,
            var: VariationMap::new(cfg.seed ^ ((cfg.module as u64) << 32)),
            rows: spec.org.rows,
            row_bits: spec.org.columns * spec.org.device_width_bits * spec.org.devices_per_rank,
            temperature_c: cfg.temperature_c,
            data: cfg.data_pattern,
            simra_weight,
        })
    }

    /// True-cell row (charged when storing 1) or anti-cell row.
    fn true_cell(&self, row: u32) -> bool {
        self.var.uniform(Stream::CellType, 0, row / 512, 0) < 0.5
    }

    /// Disturbance threshold of a row (equivalent single activations).
    pub fn threshold(&self, row: u32) -> f64 {
        let t = &self.tech;
        let pattern = match self.data {
            DataPattern::RowStripe => 1.0,
            DataPattern::Checkerboard => t.pattern_factor_checkerboard.value,
            DataPattern::Solid => t.pattern_factor_solid.value,
        };
        let temp = (1.0 + t.hc_temp_coeff_per_c.value * (self.temperature_c - 50.0)).max(0.1);
        let z = self.var.normal(Stream::RowThreshold, 0, row, 0);
        2.0 * t.hc_median.value * (t.hc_log_sigma.value * z).exp() * pattern * temp
    }

    /// Cells of the victim that can flip under the data pattern (charged cells), and the
    /// direction of their flips (true: 1 -> 0).
    fn charged(&self, row: u32) -> (u32, bool) {
        let tc = self.true_cell(row);
        match self.data {
            // Victim stores ones: only true cells are charged.
            DataPattern::RowStripe | DataPattern::Solid => {
                (if tc { self.row_bits } else { 0 }, true)
            }
            DataPattern::Checkerboard => (self.row_bits / 2, tc),
        }
    }

    /// Flipped bit positions for a peak disturbance `d`.
    pub fn flips(&self, row: u32, d: f64) -> Vec<u32> {
        let thr = self.threshold(row);
        if d < thr {
            return vec![];
        }
        let (charged, _) = self.charged(row);
        if charged == 0 {
            return vec![];
        }
        let n = ((d / thr).powf(self.tech.flips_exponent.value).floor() as u32).clamp(1, charged);
        let mut pos: Vec<u32> = (0..n)
            .map(|k| (self.var.uniform(Stream::FlipCell, 0, row, k) * charged as f64) as u32)
            .map(|p| match self.data {
                DataPattern::Checkerboard => p * 2 + (row & 1),
                _ => p,
            })
            .collect();
        pos.sort_unstable();
        pos.dedup();
        pos
    }

    /// RowPress conversion of one activation held `t_on_ns` (>= tRAS) into equivalent
    /// activations.
    pub fn press(&self, t_on_ns: f64, tras_ns: f64) -> f64 {
        (t_on_ns / tras_ns)
            .max(1.0)
            .powf(self.tech.rowpress_alpha.value)
    }

    pub fn rows(&self) -> u32 {
        self.rows
    }
}

/// The attack's command program for one iteration and the aggressors a tracker sees.
struct Attack {
    /// (row, is_multi_row_group_member) activations per iteration as executed.
    ops: Vec<Vec<PidCmd>>,
    victim: u32,
    aggressors: Vec<u32>,
}

fn build_attack(
    cfg: &HammerConfig,
    tech: &TechParams,
    rows: u32,
    tras_ns: f64,
) -> Result<Attack, String> {
    let v = cfg.victim_row;
    let hold = cfg.t_agg_on_ns.max(tras_ns);
    let act_pre = |r: u32| {
        vec![
            PidCmd::legal(Cmd::Act, 0, r),
            PidCmd::after(Cmd::Pre, 0, 0, hold, &[]),
        ]
    };
    let need = |r: i64| -> Result<u32, String> {
        if r < 0 || r >= rows as i64 {
            Err(format!(
                "victim_row {v} is too close to the bank edge for this pattern"
            ))
        } else {
            Ok(r as u32)
        }
    };
    Ok(match cfg.pattern {
        HammerPattern::SingleSided => {
            let a = need(v as i64 + 1)?;
            let far = need(v as i64 + 1 + 4096)?;
            Attack {
                ops: vec![act_pre(a), act_pre(far)],
                victim: v,
                aggressors: vec![a, far],
            }
        }
        HammerPattern::DoubleSided => {
            let (a, b) = (need(v as i64 - 1)?, need(v as i64 + 1)?);
            Attack {
                ops: vec![act_pre(a), act_pre(b)],
                victim: v,
                aggressors: vec![a, b],
            }
        }
        HammerPattern::ManySided { aggressors } => {
            if aggressors < 2 {
                return Err("many-sided needs at least 2 aggressors".into());
            }
            let rows_: Vec<u32> = (0..aggressors as i64)
                .map(|k| need(v as i64 - 1 + 2 * k))
                .collect::<Result<_, _>>()?;
            Attack {
                ops: rows_.iter().map(|&r| act_pre(r)).collect(),
                victim: v,
                aggressors: rows_,
            }
        }
        HammerPattern::Comra => {
            let (a, b) = (need(v as i64 - 1)?, need(v as i64 + 1)?);
            let gap = tech.mra_max_gap_ns.value.min(3.0);
            Attack {
                ops: vec![vec![
                    PidCmd::legal(Cmd::Act, 0, a),
                    PidCmd::after(Cmd::Pre, 0, 0, hold, &[]),
                    PidCmd::after(Cmd::Act, 0, b, gap, &[Constraint::Rp, Constraint::Rc]),
                    PidCmd::after(Cmd::Pre, 0, 0, hold, &[]),
                ]],
                victim: v,
                aggressors: vec![a, b],
            }
        }
        HammerPattern::Simra { rows: n } => {
            if !(2..=32).contains(&n) || !n.is_power_of_two() {
                return Err(format!(
                    "SiMRA rows = {n}: expected a power of two in 2..=32"
                ));
            }
            // Group [base, base + n) aligned to n, starting right after the victim.
            let base = (v + 1).div_ceil(n) * n;
            need(base as i64 + n as i64)?;
            let x = n / 4;
            let (r1, r2) = (base + x, base + (x ^ (n - 1)));
            let gap = 2.5f64.min(tech.mra_max_gap_ns.value);
            let mut op = mra_op(0, r1, r2, gap, gap).to_vec();
            op.push(PidCmd::after(Cmd::Pre, 0, 0, hold, &[]));
            Attack {
                ops: vec![op],
                victim: base - 1,
                aggressors: vec![r1, r2],
            }
        }
    })
}

/// Run the attack and the HC_first study.
pub fn run(spec: &DramSpec, cfg: &HammerConfig) -> Result<HammerReport, String> {
    let model = DisturbModel::new(spec, cfg)?;
    let tech = model.tech.clone();
    let rows = spec.org.rows;
    let tck = spec.tck_ns();
    let t = spec.timings();
    let tras_ns = t.n_ras as f64 * tck;
    let attack = build_attack(cfg, &tech, rows, tras_ns)?;
    let press = model.press(cfg.t_agg_on_ns.max(tras_ns), tras_ns);
    let w2 = tech.blast_weight_d2.value;
    let mut mitigation = match &cfg.mitigation {
        Some(m) => Some(make_mitigation(m, rows)?),
        None => None,
    };
    let mut x = Executor::new(spec, &tech);
    x.record_trace = false;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(17));
    let mut dist = vec![0f64; rows as usize];
    let mut peak = vec![0f64; rows as usize];
    let mut agg_acts = vec![0u32; attack.aggressors.len()];
    let disturb = |dist: &mut [f64], row: u32, amount: f64| {
        for (d, w) in [(1u32, 1.0), (2, w2)] {
            if row >= d {
                dist[(row - d) as usize] += w * amount;
            }
            if row + d < rows {
                dist[(row + d) as usize] += w * amount;
            }
        }
    };
    let reset = |dist: &mut [f64], peak: &mut [f64], row: u32| {
        let r = row as usize;
        peak[r] = peak[r].max(dist[r]);
        dist[r] = 0.0;
    };
    let mut prev = 0i64;
    let mut next_ref = t.n_refi as i64;
    let rows_per_ref = (rows / 8192).max(1);
    let mut ref_ptr = 0u32;
    let mut preventive = 0u64;
    let mut periodic = 0u64;
    let mut activations = 0u64;
    let mut to_refresh: Vec<u32> = Vec::new();
    let mut seen: Vec<u32> = Vec::new();
    // Disturbance one iteration puts on the victim, measured on a scratch vector.
    let mut per_iter_victim = 0.0;
    for it in 0..cfg.hammer_count {
        let before = dist[attack.victim as usize];
        for op in &attack.ops {
            for c in op {
                let tt = x.issue_time(c, prev);
                x.issue_at(c, tt);
                prev = tt;
            }
            // Interpret what the op did.
            for e in x.events.drain(..) {
                seen.clear();
                match e {
                    PidEvent::Activation { row, .. } => {
                        disturb(&mut dist, row, press);
                        reset(&mut dist, &mut peak, row);
                        activations += 1;
                        seen.push(row);
                    }
                    PidEvent::MultiRowActivation {
                        first,
                        second,
                        rows: group,
                        ..
                    } => {
                        // The first ACT opened `first` alone for a moment before the group.
                        for &r in &group {
                            disturb(&mut dist, r, model.simra_weight * press);
                        }
                        for &r in &group {
                            reset(&mut dist, &mut peak, r);
                        }
                        activations += group.len() as u64;
                        if cfg.tracker_sees_all_rows {
                            seen.extend_from_slice(&group);
                        } else {
                            // A conventional tracker sees the command bus: the two ACT
                            // addresses, not the other rows the decoder opened.
                            seen.push(first);
                            if second != first {
                                seen.push(second);
                            }
                        }
                    }
                    PidEvent::ReducedTrcdRead { .. } => {}
                }
                if let Some(m) = mitigation.as_mut() {
                    for &r in &seen {
                        m.on_act(r, &mut rng, &mut to_refresh);
                    }
                }
                for (k, a) in attack.aggressors.iter().enumerate() {
                    if seen.contains(a) {
                        agg_acts[k] += 1;
                    }
                }
            }
            // Preventive refreshes: ACT + PRE of each victim row, legal timing.
            for r in to_refresh.drain(..) {
                for c in [PidCmd::legal(Cmd::Act, 0, r), PidCmd::legal(Cmd::Pre, 0, 0)] {
                    let tt = x.issue_time(&c, prev);
                    x.issue_at(&c, tt);
                    prev = tt;
                }
                x.events.clear();
                disturb(&mut dist, r, 1.0);
                reset(&mut dist, &mut peak, r);
                preventive += 1;
            }
        }
        if it == 0 {
            per_iter_victim = dist[attack.victim as usize] - before;
        }
        if cfg.refresh && prev >= next_ref {
            let c = PidCmd::legal(Cmd::Ref, 0, 0);
            let tt = x.issue_time(&c, prev);
            x.issue_at(&c, tt);
            prev = tt;
            next_ref += t.n_refi as i64;
            periodic += 1;
            for k in 0..rows_per_ref {
                reset(&mut dist, &mut peak, (ref_ptr + k) % rows);
            }
            ref_ptr = (ref_ptr + rows_per_ref) % rows;
            if let Some(m) = mitigation.as_mut() {
                m.on_ref(&mut to_refresh);
                for r in to_refresh.drain(..) {
                    reset(&mut dist, &mut peak, r);
                    preventive += 1;
                }
            }
        }
    }
    // Flips.
    let (mut total, mut f10, mut f01) = (0u64, 0u64, 0u64);
    let mut by_dist = [0u64; 2];
    let mut words = [0u64; 3];
    let mut rows_flipped = 0u64;
    let mut flip_map = Vec::new();
    let aggr_all: Vec<u32> = match cfg.pattern {
        HammerPattern::Simra { rows: n } => {
            let base = attack.victim + 1;
            (base..base + n).collect()
        }
        _ => attack.aggressors.clone(),
    };
    for r in 0..rows {
        let d = peak[r as usize].max(dist[r as usize]);
        if d <= 0.0 {
            continue;
        }
        let f = model.flips(r, d);
        if f.is_empty() {
            continue;
        }
        rows_flipped += 1;
        total += f.len() as u64;
        let (_, one_to_zero) = model.charged(r);
        if one_to_zero {
            f10 += f.len() as u64;
        } else {
            f01 += f.len() as u64;
        }
        let nearest = aggr_all.iter().map(|&a| a.abs_diff(r)).min().unwrap_or(0);
        if (1..=2).contains(&nearest) {
            by_dist[nearest as usize - 1] += f.len() as u64;
        }
        let mut i = 0;
        while i < f.len() {
            let w = f[i] / 64;
            let mut n = 0;
            while i < f.len() && f[i] / 64 == w {
                n += 1;
                i += 1;
            }
            words[(n - 1).min(2)] += 1;
        }
        flip_map.push(RowFlips { row: r, bits: f });
    }
    // HC_first for this pattern: iterations until the victim's threshold is reached.
    let per_iter = per_iter_victim.max(1e-12);
    let hc_of = |row: u32| (model.threshold(row) / per_iter).ceil() as u64;
    let mut sample: Vec<u64> = (0..cfg.rows_sampled.min(rows))
        .map(|k| hc_of(((k as u64 * rows as u64) / cfg.rows_sampled.max(1) as u64) as u32))
        .collect();
    sample.sort_unstable();
    let cdf = (1..=10)
        .map(|q| {
            let idx = ((q as f64 / 10.0) * sample.len() as f64).ceil() as usize;
            (sample[idx.clamp(1, sample.len()) - 1], q as f64 / 10.0)
        })
        .collect();
    let end_ns = (prev + 1) as f64 * tck;
    Ok(HammerReport {
        format_version: crate::REPORT_FORMAT_VERSION,
        pattern: cfg.pattern,
        victim_row: attack.victim,
        aggressor_acts: agg_acts,
        disturbance_per_iteration: per_iter_victim,
        victim_hc_first: hc_of(attack.victim),
        hc_first_min: sample.first().copied().unwrap_or(0),
        hc_first_mean: sample.iter().sum::<u64>() as f64 / sample.len().max(1) as f64,
        hc_first_cdf: cdf,
        attack_time_ms: end_ns / 1e6,
        activations,
        flips_total: total,
        flips_1_to_0: f10,
        flips_0_to_1: f01,
        flips_by_distance: by_dist,
        words_with_flips: words,
        rows_flipped,
        mitigation: mitigation.as_ref().map(|m| m.name()),
        preventive_refreshes: preventive,
        mitigation_overhead: preventive as f64 * t.n_rc as f64 / (prev + 1).max(1) as f64,
        periodic_refreshes: periodic,
        timing_violations: x.violation_counts(),
        seed: cfg.seed,
        row_bits: model.row_bits,
        flip_map,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;

    fn spec() -> DramSpec {
        DramSpec::preset("DDR4_2400R").unwrap()
    }

    fn cfg(pattern: HammerPattern, hc: u64) -> HammerConfig {
        HammerConfig {
            pattern,
            hammer_count: hc,
            rows_sampled: 256,
            ..Default::default()
        }
    }

    /// Find a victim row that is a true-cell row with a low threshold (flips under row stripe).
    fn weak_victim() -> u32 {
        let c = cfg(HammerPattern::DoubleSided, 0);
        let m = DisturbModel::new(&spec(), &c).unwrap();
        (100..4000)
            .filter(|&r| m.true_cell(r))
            .min_by(|&a, &b| m.threshold(a).total_cmp(&m.threshold(b)))
            .unwrap()
    }

    #[test]
    fn flip_map_lists_every_flip() {
        let v = weak_victim();
        let probe = run(
            &spec(),
            &HammerConfig {
                victim_row: v,
                ..cfg(HammerPattern::DoubleSided, 1)
            },
        )
        .unwrap();
        assert!(probe.flip_map.is_empty());
        let r = run(
            &spec(),
            &HammerConfig {
                victim_row: v,
                ..cfg(HammerPattern::DoubleSided, 4 * probe.victim_hc_first)
            },
        )
        .unwrap();
        assert_eq!(r.format_version, crate::REPORT_FORMAT_VERSION);
        assert!(r.flips_total > 0);
        assert_eq!(r.flip_map.len() as u64, r.rows_flipped);
        assert_eq!(
            r.flip_map.iter().map(|f| f.bits.len() as u64).sum::<u64>(),
            r.flips_total
        );
        assert!(r.flip_map.iter().any(|f| f.row == v));
        assert!(r.flip_map.windows(2).all(|w| w[0].row < w[1].row));
        for f in &r.flip_map {
            assert!(!f.bits.is_empty());
            assert!(f.bits.windows(2).all(|w| w[0] < w[1]));
            assert!(f.bits.iter().all(|&b| b < r.row_bits));
        }
        assert_eq!(r.row_bits, 1024 * 8 * 8);
    }

    #[test]
    fn flips_start_exactly_at_hc_first() {
        let v = weak_victim();
        let probe = run(
            &spec(),
            &HammerConfig {
                victim_row: v,
                ..cfg(HammerPattern::DoubleSided, 1)
            },
        )
        .unwrap();
        let hc = probe.victim_hc_first;
        assert!((1_000..60_000).contains(&hc), "{hc}");
        assert!((probe.disturbance_per_iteration - 2.0).abs() < 1e-9);
        let below = run(
            &spec(),
            &HammerConfig {
                victim_row: v,
                ..cfg(HammerPattern::DoubleSided, hc - 1)
            },
        )
        .unwrap();
        let at = run(
            &spec(),
            &HammerConfig {
                victim_row: v,
                ..cfg(HammerPattern::DoubleSided, hc)
            },
        )
        .unwrap();
        let victim_flipped = |r: &HammerReport| r.flips_by_distance[0] > 0;
        assert!(!victim_flipped(&below));
        assert!(victim_flipped(&at));
        assert!(at.flips_1_to_0 > 0 && at.flips_0_to_1 == 0);
        assert_eq!(at.aggressor_acts, vec![hc as u32, hc as u32]);
    }

    #[test]
    fn single_sided_needs_more_and_rowpress_needs_fewer() {
        let ds = run(&spec(), &cfg(HammerPattern::DoubleSided, 1)).unwrap();
        let ss = run(&spec(), &cfg(HammerPattern::SingleSided, 1)).unwrap();
        assert!(ss.hc_first_min > ds.hc_first_min);
        let press = run(
            &spec(),
            &HammerConfig {
                t_agg_on_ns: 7800.0,
                ..cfg(HammerPattern::DoubleSided, 1)
            },
        )
        .unwrap();
        assert!(press.hc_first_min * 10 < ds.hc_first_min);
        let hot = run(
            &spec(),
            &HammerConfig {
                temperature_c: 90.0,
                ..cfg(HammerPattern::DoubleSided, 1)
            },
        )
        .unwrap();
        assert!(hot.hc_first_min < ds.hc_first_min);
    }

    #[test]
    fn simra_op_is_flagged_and_bypasses_an_act_address_tracker() {
        // The victim sits next to a 32-row group whose two ACT addresses are inside it.
        // Checkerboard data so that both true- and anti-cell victims can flip; a per-row
        // weight of 4 (an input here, not a claim) keeps the debug-mode run short.
        let base = HammerConfig {
            victim_row: 1000,
            data_pattern: DataPattern::Checkerboard,
            simra_row_weight: Some(4.0),
            ..cfg(HammerPattern::Simra { rows: 32 }, 40_000)
        };
        let open = run(&spec(), &base).unwrap();
        assert!(open.timing_violations.iter().any(|(n, _)| n == "tRAS"));
        let blind = run(
            &spec(),
            &HammerConfig {
                mitigation: Some(MitigationConfig::Prac { threshold: 500 }),
                ..base.clone()
            },
        )
        .unwrap();
        let aware = run(
            &spec(),
            &HammerConfig {
                mitigation: Some(MitigationConfig::Prac { threshold: 500 }),
                tracker_sees_all_rows: true,
                ..base.clone()
            },
        )
        .unwrap();
        assert!(open.flips_total > 0, "attack without mitigation must flip");
        assert!(blind.preventive_refreshes > 0);
        assert_eq!(
            blind.flips_total, open.flips_total,
            "ACT-address tracker is bypassed"
        );
        assert_eq!(
            aware.flips_total, 0,
            "a tracker that sees the group stops it"
        );
    }

    #[test]
    fn mitigations_stop_double_sided_hammering() {
        let v = weak_victim();
        let base = HammerConfig {
            victim_row: v,
            ..cfg(HammerPattern::DoubleSided, 40_000)
        };
        let open = run(&spec(), &base).unwrap();
        assert!(open.flips_total > 0);
        for m in [
            MitigationConfig::Para { probability: 0.01 },
            MitigationConfig::Graphene {
                entries: 16,
                threshold: 1000,
            },
            MitigationConfig::Prac { threshold: 1000 },
        ] {
            let r = run(
                &spec(),
                &HammerConfig {
                    mitigation: Some(m.clone()),
                    ..base.clone()
                },
            )
            .unwrap();
            assert_eq!(r.flips_total, 0, "{m:?} let flips through");
            assert!(r.preventive_refreshes > 0 && r.mitigation_overhead > 0.0);
        }
    }

    #[test]
    fn trr_sampler_with_refresh_stops_double_sided_and_many_sided_runs() {
        let v = weak_victim();
        let base = HammerConfig {
            victim_row: v,
            refresh: true,
            ..cfg(HammerPattern::DoubleSided, 40_000)
        };
        let trr = HammerConfig {
            mitigation: Some(MitigationConfig::TrrSampler {
                entries: 4,
                sample_probability: 0.5,
            }),
            ..base.clone()
        };
        let r = run(&spec(), &trr).unwrap();
        assert!(r.periodic_refreshes > 0 && r.preventive_refreshes > 0);
        assert_eq!(r.flips_total, 0);
        // Many-sided: every aggressor gets the same count; victims sit between them.
        let many = run(
            &spec(),
            &HammerConfig {
                victim_row: 2001,
                ..cfg(HammerPattern::ManySided { aggressors: 6 }, 100)
            },
        )
        .unwrap();
        assert_eq!(many.aggressor_acts, vec![100; 6]);
        assert!((many.disturbance_per_iteration - 2.0).abs() < 1e-9);
    }

    #[test]
    fn trr_sampler_fed_the_act_addresses_is_bypassed_by_simra() {
        // PuDHammer (ISCA 2025): a SiMRA operation opens 32 rows but the command bus carries
        // only its two ACT addresses, here rows inside the group away from the victim. A
        // TRR-like sampler that sees those addresses refreshes the wrong rows; PRAC and
        // Graphene counting every opened row protect the victim next to the group.
        let base = HammerConfig {
            victim_row: 1000,
            data_pattern: DataPattern::Checkerboard,
            simra_row_weight: Some(4.0),
            refresh: true,
            ..cfg(HammerPattern::Simra { rows: 32 }, 40_000)
        };
        let trr = MitigationConfig::TrrSampler {
            entries: 4,
            sample_probability: 1.0,
        };
        let variants = [
            ("trr-act-addresses", trr, false),
            (
                "prac-all-rows",
                MitigationConfig::Prac { threshold: 500 },
                true,
            ),
            (
                "graphene-all-rows",
                MitigationConfig::Graphene {
                    entries: 64,
                    threshold: 500,
                },
                true,
            ),
        ]
        .map(|(label, m, all)| HammerVariant {
            label: label.into(),
            pattern: None,
            mitigation: Some(m),
            tracker_sees_all_rows: all,
        });
        let runs = compare(&spec(), &base, &variants).unwrap();
        let flips: Vec<u64> = runs.iter().map(|r| r.report.flips_total).collect();
        assert!(flips[0] > 0, "no flips without a mitigation: {flips:?}");
        assert!(runs[1].report.preventive_refreshes > 0);
        assert_eq!(flips[1], flips[0], "sampler fed ACT addresses escapes all");
        assert_eq!((flips[2], flips[3]), (0, 0), "{flips:?}");
    }

    #[test]
    fn many_sided_beyond_the_sampler_table_bypasses_trr() {
        // TRRespass (S&P 2020): a sampler with E entries tracks at most E aggressors; with
        // more aggressors than entries (hammering in sync with REF) the victims of untracked
        // aggressors are never refreshed. Deterministic sampler (every ACT sampled), E = 4.
        let v = weak_victim();
        let hc = run(
            &spec(),
            &HammerConfig {
                victim_row: v,
                ..cfg(HammerPattern::DoubleSided, 1)
            },
        )
        .unwrap()
        .victim_hc_first;
        let trr = Some(MitigationConfig::TrrSampler {
            entries: 4,
            sample_probability: 1.0,
        });
        let with = |pattern: HammerPattern, mitigation: Option<MitigationConfig>| {
            run(
                &spec(),
                &HammerConfig {
                    victim_row: v,
                    refresh: true,
                    mitigation,
                    ..cfg(pattern, hc + hc / 4)
                },
            )
            .unwrap()
        };
        let open = with(HammerPattern::ManySided { aggressors: 8 }, None);
        assert!(open.flips_total > 0);
        let ds = with(HammerPattern::DoubleSided, trr.clone());
        assert_eq!(ds.flips_total, 0, "TRR stops double-sided");
        let four = with(HammerPattern::ManySided { aggressors: 4 }, trr.clone());
        assert_eq!(
            four.flips_total, 0,
            "TRR stops as many aggressors as entries"
        );
        let eight = with(HammerPattern::ManySided { aggressors: 8 }, trr.clone());
        assert!(
            eight.flips_total > 0 && eight.preventive_refreshes > 0,
            "8 aggressors > 4 entries must escape: {} flips",
            eight.flips_total
        );
        let graphene = with(
            HammerPattern::ManySided { aggressors: 8 },
            Some(MitigationConfig::Graphene {
                entries: 16,
                threshold: 1000,
            }),
        );
        assert_eq!(graphene.flips_total, 0, "Graphene has enough counters");
    }

    #[test]
    fn comra_copy_breaks_trp_and_hammers_both_sides() {
        let r = run(&spec(), &cfg(HammerPattern::Comra, 50)).unwrap();
        assert!(r.timing_violations.iter().any(|(n, _)| n == "tRP"));
        assert_eq!(r.aggressor_acts, vec![50, 50]);
        // Source and destination are both next to the victim: 1 + 1 per copy.
        assert!((r.disturbance_per_iteration - 2.0).abs() < 1e-9);
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(run(&spec(), &cfg(HammerPattern::Simra { rows: 3 }, 1)).is_err());
        assert!(
            run(
                &spec(),
                &HammerConfig {
                    victim_row: 0,
                    ..cfg(HammerPattern::DoubleSided, 1)
                }
            )
            .is_err()
        );
    }
}
