//! True random number generation from DRAM: multi-row activation (QUAC-TRNG, ISCA'21, four
//! rows; SiMRA, DSN'24, up to 32 rows) and reduced-tRCD activation failures (D-RaNGe,
//! HPCA'19).
//!
//! Flow: characterise every bitline of a row segment by repeated reads (empirical entropy),
//! select the cache blocks that maximise entropy per unit of command time, then generate:
//! every iteration runs the real command sequence (initialisation, the timing-violating
//! operation, reads of the selected blocks, precharge) on the [`Executor`], draws each
//! selected bitline's value from the cell model, and feeds raw bits to SHA-256 once they carry
//! at least 256 bits of (estimated) entropy. Throughput is output bits over the command time
//! of the whole sequence, for one bank, for all banks of a channel interleaved, and for the
//! module.
//!
//! Cell model (multi-row activation): after charge sharing of N rows holding a balanced
//! pattern (half ones), bitline c settles to `d_c + sigma_n(T) * z`, z ~ N(0,1) per read, and
//! the sense amplifier outputs 1 when positive. The static part d_c = SA offset + cell
//! mismatch; the mismatch share scales as sqrt(N) / (r + N) with r = C_BL/C_cell (charge
//! sharing of N cells on one bitline), normalised to the 4-row value. Thermal noise scales
//! as sqrt(T).

use crate::cells::{Stream, TechParams, VariationMap, gaussian, h2, normal_cdf};
use crate::device::{Cmd, Constraint};
use crate::pid::{Executor, PidCmd, PidEvent, mra_op};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tessera_arch::dram::DramSpec;

/// Which physical effect provides the randomness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TrngSource {
    /// QUAC: ACT-PRE-ACT opening four rows (addresses differing in the two low bits).
    Quac,
    /// SiMRA: ACT-PRE-ACT opening `rows` rows (2..=32, a power of two).
    Simra { rows: u32 },
    /// D-RaNGe: a read `trcd_ns` after ACT (below the spec's tRCD).
    DRange { trcd_ns: f64 },
}

/// How rows are initialised before each multi-row activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InitMethod {
    /// In-DRAM copy (RowClone FPM: ACT source, PRE after tRAS, ACT destination a few ns
    /// later), as QUAC-TRNG does.
    RowClone,
    /// Ordinary column writes of the whole row.
    Writes,
}

/// Entropy measure used for selection and for SHA-256 input accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntropyMeasure {
    Shannon,
    MinEntropy,
}

/// TRNG experiment settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrngConfig {
    pub source: TrngSource,
    pub vendor: String,
    pub technology: String,
    pub seed: u64,
    /// Which simulated chip population member (variation map index).
    pub module: u32,
    pub temperature_c: f64,
    /// ACT->PRE and PRE->ACT gaps of the multi-row activation (ns).
    pub t1_ns: f64,
    pub t2_ns: f64,
    pub init: InitMethod,
    /// Reads per bitline during characterisation.
    pub characterisation_reads: u32,
    /// Columns (per chip) of the row segment examined; at most the row's columns.
    pub columns: u32,
    pub entropy_measure: EntropyMeasure,
    /// Post-processed output bits to generate (for the NIST battery); 0 = only throughput.
    pub output_bits: u64,
    /// Iterations per bank used to time the interleaved channel run.
    pub timing_iterations: u32,
}

impl Default for TrngConfig {
    fn default() -> Self {
        Self {
            source: TrngSource::Quac,
            vendor: "H".into(),
            technology: "DDR4".into(),
            seed: 1,
            module: 0,
            temperature_c: 50.0,
            t1_ns: 2.5,
            t2_ns: 2.5,
            init: InitMethod::RowClone,
            characterisation_reads: 200,
            columns: 1024,
            entropy_measure: EntropyMeasure::Shannon,
            output_bits: 0,
            timing_iterations: 4,
        }
    }
}

/// TRNG results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrngReport {
    /// [`crate::REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    pub source: TrngSource,
    pub rows_activated: usize,
    pub bitlines: usize,
    /// Bitlines whose estimated Shannon entropy is >= 0.9 bit.
    pub high_entropy_bitlines: usize,
    /// Mean analytic Shannon entropy per bitline over the segment.
    pub mean_entropy_per_bitline: f64,
    /// Per-bitline entropy histogram: counts in ten 0.1-bit bins.
    pub entropy_histogram: [u64; 10],
    pub selected_blocks: usize,
    /// Estimated entropy of one iteration's selected bits.
    pub entropy_per_iteration_bits: f64,
    /// Post-processed bits per iteration (multiples of 256).
    pub output_bits_per_iteration: f64,
    pub iteration_ns_one_bank: f64,
    pub throughput_gbps_per_bank: f64,
    pub banks: u32,
    pub iteration_ns_all_banks: f64,
    pub throughput_gbps_per_channel: f64,
    pub throughput_gbps_per_module: f64,
    /// Timing rules broken per iteration (name, count) in the single-bank sequence.
    pub violations_per_iteration: Vec<(String, u64)>,
    /// First commands of one iteration, for inspection.
    pub sample_trace: Vec<crate::pid::TraceEntry>,
    pub output_bits_generated: u64,
    pub seed: u64,
    /// Analytic Shannon entropy of every examined bitline, in bits (the values behind
    /// `mean_entropy_per_bitline` and `entropy_histogram`); bitline `i` is chip
    /// `i / (columns * dq)`, column `(i / dq) % columns`, DQ `i % dq`.
    pub bitline_entropy: Vec<f32>,
    /// The cache blocks (column bursts of the segment) selected for generation.
    pub selected_block_ids: Vec<u32>,
}

/// One bitline of the module row: chip, column, DQ.
#[derive(Debug, Clone, Copy)]
struct Bitline {
    chip: u32,
    col: u32,
    dq: u32,
}

/// Errors of TRNG configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct TrngError(pub String);

/// The cell model behind one TRNG run.
pub struct TrngModel {
    spec: DramSpec,
    tech: TechParams,
    cfg: TrngConfig,
    var: VariationMap,
    rows: Vec<u32>,
    bitlines: Vec<Bitline>,
    /// Static deviation in noise units (MRA) or needed tRCD (ns, D-RaNGe) per bitline.
    stat: Vec<f64>,
    noise: f64,
}

fn entropy_of(p: f64, m: EntropyMeasure) -> f64 {
    match m {
        EntropyMeasure::Shannon => h2(p),
        EntropyMeasure::MinEntropy => -(p.max(1.0 - p)).log2(),
    }
}

impl TrngModel {
    pub fn new(spec: &DramSpec, cfg: &TrngConfig) -> Result<Self, TrngError> {
        let tech = TechParams::table(&cfg.vendor, &cfg.technology).ok_or_else(|| {
            TrngError(format!(
                "no parameter table for vendor `{}` technology `{}`; known: {:?}",
                cfg.vendor,
                cfg.technology,
                TechParams::known()
            ))
        })?;
        if cfg.columns == 0 || cfg.columns > spec.org.columns {
            return Err(TrngError(format!(
                "columns = {} must be in 1..={}",
                cfg.columns, spec.org.columns
            )));
        }
        let mut x = Executor::new(spec, &tech);
        // Which rows does the configured operation really open? Ask the executor.
        let rows = match cfg.source {
            TrngSource::Quac => Self::mra_rows(&mut x, 0b100, 0b111, cfg)?,
            TrngSource::Simra { rows } => {
                if !(2..=32).contains(&rows) || !rows.is_power_of_two() {
                    return Err(TrngError(format!(
                        "SiMRA rows = {rows}: expected a power of two in 2..=32"
                    )));
                }
                let r1 = 0u32;
                Self::mra_rows(&mut x, r1, rows - 1, cfg)?
            }
            TrngSource::DRange { trcd_ns } => {
                if trcd_ns <= 0.0 {
                    return Err(TrngError("D-RaNGe trcd_ns must be positive".into()));
                }
                vec![0]
            }
        };
        let var = VariationMap::new(cfg.seed ^ ((cfg.module as u64) << 32));
        let mut bitlines = Vec::new();
        for chip in 0..spec.org.devices_per_rank {
            for col in 0..cfg.columns {
                for dq in 0..spec.org.device_width_bits {
                    bitlines.push(Bitline { chip, col, dq });
                }
            }
        }
        let t_k = cfg.temperature_c + 273.15;
        let noise_scale = (t_k / 323.15).sqrt();
        let (stat, noise) = match cfg.source {
            TrngSource::DRange { .. } => {
                let mean = tech.trcd_cell_mean_ns.value
                    * (1.0 + tech.trcd_temp_coeff_per_c.value * (cfg.temperature_c - 50.0));
                let s: Vec<f64> = bitlines
                    .iter()
                    .map(|b| {
                        let col_bit = b.col * spec.org.device_width_bits + b.dq;
                        mean + tech.trcd_cell_sigma_ns.value
                            * var.normal(Stream::Cell, b.chip, rows[0], col_bit)
                    })
                    .collect();
                (s, tech.trcd_noise_ns.value * noise_scale)
            }
            _ => {
                let n = rows.len() as f64;
                let r = tech.bitline_cell_cap_ratio.value;
                let total = tech.mra_static_sigma.value;
                let sa = total * tech.sa_offset_share.value.sqrt();
                // Mismatch of N cells sharing charge, relative to the 4-row case.
                let mis = total
                    * (1.0 - tech.sa_offset_share.value).sqrt()
                    * ((n.sqrt() / (r + n)) / (2.0 / (r + 4.0)));
                let s: Vec<f64> = bitlines
                    .iter()
                    .map(|b| {
                        let col_bit = b.col * spec.org.device_width_bits + b.dq;
                        let subarray = rows[0] / tech.rows_per_subarray.value as u32;
                        let mut cells = 0.0;
                        for &row in &rows {
                            cells += var.normal(Stream::Cell, b.chip, row, col_bit);
                        }
                        sa * var.normal(Stream::Bitline, b.chip, subarray, col_bit)
                            + mis * cells / n.sqrt()
                    })
                    .collect();
                (s, noise_scale)
            }
        };
        Ok(Self {
            spec: spec.clone(),
            tech,
            cfg: cfg.clone(),
            var,
            rows,
            bitlines,
            stat,
            noise,
        })
    }

    fn mra_rows(
        x: &mut Executor,
        r1: u32,
        r2: u32,
        cfg: &TrngConfig,
    ) -> Result<Vec<u32>, TrngError> {
        x.run(&mra_op(0, r1, r2, cfg.t1_ns, cfg.t2_ns), 0);
        x.events
            .iter()
            .find_map(|e| match e {
                PidEvent::MultiRowActivation { rows, .. } => Some(rows.clone()),
                _ => None,
            })
            .ok_or_else(|| {
                TrngError(format!(
                    "ACT-PRE-ACT with t1 = {} ns, t2 = {} ns does not open several rows in this \
                     model (the PRE->ACT gap must be <= {} ns and the PRE must come before tRAS)",
                    cfg.t1_ns,
                    cfg.t2_ns,
                    x.mra_max_gap_ns()
                ))
            })
    }

    /// Probability that bitline i reads 1.
    pub fn p_one(&self, i: usize) -> f64 {
        match self.cfg.source {
            TrngSource::DRange { trcd_ns } => {
                // Failure (read 1 against a stored 0) when the cell needs longer than given.
                normal_cdf((self.stat[i] - trcd_ns) / self.noise)
            }
            _ => normal_cdf(self.stat[i] / self.noise),
        }
    }

    /// One read of bitline i.
    fn sample(&self, i: usize, rng: &mut ChaCha8Rng) -> u8 {
        let z = gaussian(rng) * self.noise;
        let v = match self.cfg.source {
            TrngSource::DRange { trcd_ns } => self.stat[i] + z - trcd_ns,
            _ => self.stat[i] + z,
        };
        (v > 0.0) as u8
    }

    /// Bits of one burst per chip (BL x device width).
    fn bits_per_block_per_chip(&self) -> usize {
        (self.spec.org.burst_length * self.spec.org.device_width_bits) as usize
    }

    /// Cache block of a bitline (column / burst length).
    fn block_of(&self, b: &Bitline) -> u32 {
        b.col / self.spec.org.burst_length
    }

    /// Command sequence of one iteration on `bank`, given the selected blocks.
    pub fn iteration(&self, bank: usize, blocks: &[u32]) -> Vec<PidCmd> {
        let mut v = Vec::new();
        let c = &self.cfg;
        match c.source {
            TrngSource::DRange { trcd_ns } => {
                // One reduced-tRCD read per activation: later reads see a settled row.
                for &_blk in blocks {
                    v.push(PidCmd::legal(Cmd::Act, bank, self.rows[0]));
                    v.push(PidCmd::after(Cmd::Rd, bank, 0, trcd_ns, &[Constraint::Rcd]));
                    v.push(PidCmd::legal(Cmd::Pre, bank, 0));
                }
            }
            _ => {
                // Initialise every activated row with the balanced pattern.
                let src_base = self.tech.rows_per_subarray.value as u32 - 2;
                for (k, &row) in self.rows.iter().enumerate() {
                    match c.init {
                        InitMethod::RowClone => {
                            let src = src_base + (k % 2) as u32; // pattern rows of 0s and 1s
                            v.push(PidCmd::legal(Cmd::Act, bank, src));
                            v.push(PidCmd::legal(Cmd::Pre, bank, 0));
                            v.push(PidCmd::after(
                                Cmd::Act,
                                bank,
                                row,
                                c.t2_ns,
                                &[Constraint::Rp, Constraint::Rc],
                            ));
                            v.push(PidCmd::legal(Cmd::Pre, bank, 0));
                        }
                        InitMethod::Writes => {
                            v.push(PidCmd::legal(Cmd::Act, bank, row));
                            for _ in 0..self.spec.bursts_per_row() {
                                v.push(PidCmd::legal(Cmd::Wr, bank, 0));
                            }
                            v.push(PidCmd::legal(Cmd::Pre, bank, 0));
                        }
                    }
                }
                let (r1, r2) = (self.rows[0], *self.rows.last().unwrap_or(&0));
                v.extend(mra_op(bank, r1, r2, c.t1_ns, c.t2_ns));
                for _ in blocks {
                    v.push(PidCmd::legal(Cmd::Rd, bank, 0));
                }
                v.push(PidCmd::legal(Cmd::Pre, bank, 0));
            }
        }
        v
    }

    /// Characterise, select, time and (optionally) generate.
    pub fn run(&self) -> (TrngReport, Vec<u8>) {
        let c = &self.cfg;
        let mut rng = ChaCha8Rng::seed_from_u64(c.seed.wrapping_add(0x5eed));
        let n = self.bitlines.len();
        // Empirical characterisation.
        let mut est = vec![0f64; n];
        let mut hist = [0u64; 10];
        let mut mean_h = 0.0;
        let mut bitline_entropy = Vec::with_capacity(n);
        for (i, slot) in est.iter_mut().enumerate() {
            let ones: u32 = (0..c.characterisation_reads)
                .map(|_| self.sample(i, &mut rng) as u32)
                .sum();
            let p = ones as f64 / c.characterisation_reads.max(1) as f64;
            *slot = entropy_of(p, c.entropy_measure);
            let h = h2(self.p_one(i));
            bitline_entropy.push(h as f32);
            mean_h += h;
            hist[((h * 10.0) as usize).min(9)] += 1;
        }
        mean_h /= n as f64;
        let high = est.iter().filter(|&&h| h >= 0.9).count();
        // Entropy per cache block (summed over chips: one burst reads all chips).
        let blocks_per_row = (c.columns / self.spec.org.burst_length).max(1) as usize;
        let mut block_h = vec![0f64; blocks_per_row];
        for (i, b) in self.bitlines.iter().enumerate() {
            block_h[self.block_of(b) as usize] += est[i];
        }
        let mut order: Vec<usize> = (0..blocks_per_row).collect();
        order.sort_by(|&a, &b| block_h[b].total_cmp(&block_h[a]));
        // Pick the prefix of best blocks that maximises output per unit time (one bank).
        let mut best = (0.0f64, 0usize, 0.0f64, 0i64);
        let spec = &self.spec;
        let tech = &self.tech;
        let mut acc = 0.0;
        for k in 1..=blocks_per_row {
            acc += block_h[order[k - 1]];
            if block_h[order[k - 1]] <= 0.0 {
                break;
            }
            let blocks: Vec<u32> = order[..k].iter().map(|&i| i as u32).collect();
            let cycles = iteration_cycles(spec, tech, &self.iteration(0, &blocks));
            let out = (acc / 256.0).floor() * 256.0;
            let rate = out / cycles as f64;
            if rate > best.0 || best.1 == 0 {
                best = (rate, k, acc, cycles);
            }
        }
        let (_, k, ent, cycles_one) = best;
        let selected: Vec<u32> = order[..k].iter().map(|&i| i as u32).collect();
        let tck = spec.tck_ns();
        let out_per_iter = (ent / 256.0).floor() * 256.0;
        let t_one = cycles_one as f64 * tck;
        // Interleave all banks for the channel figure.
        let banks = spec.banks_per_rank();
        let mut x = Executor::new(spec, tech);
        x.record_trace = false;
        let streams: Vec<Vec<PidCmd>> = (0..banks as usize)
            .map(|b| {
                let one = self.iteration(b, &selected);
                one.iter()
                    .cycle()
                    .take(one.len() * c.timing_iterations as usize)
                    .copied()
                    .collect()
            })
            .collect();
        let end = x.run_interleaved(&streams, 0) + 1;
        let t_all = end as f64 * tck / c.timing_iterations as f64;
        let per_channel = out_per_iter * banks as f64 / t_all;
        // Violations and a sample trace of one single-bank iteration.
        let mut x1 = Executor::new(spec, tech);
        let seq = self.iteration(0, &selected);
        x1.run(&seq, 0);
        let sample_trace = x1.trace.iter().take(24).cloned().collect();
        // Generation.
        let mut out = Vec::new();
        if c.output_bits > 0 && out_per_iter > 0.0 {
            let sel_bits: Vec<usize> = (0..n)
                .filter(|&i| selected.contains(&self.block_of(&self.bitlines[i])))
                .collect();
            let mut pool: Vec<u8> = Vec::new();
            let mut credit = 0.0;
            while (out.len() as u64) < c.output_bits {
                for &i in &sel_bits {
                    pool.push(self.sample(i, &mut rng));
                    credit += est[i];
                    if credit >= 256.0 {
                        let digest = Sha256::digest(&pool);
                        for byte in digest {
                            for s in (0..8).rev() {
                                out.push((byte >> s) & 1);
                            }
                        }
                        pool.clear();
                        credit = 0.0;
                    }
                }
            }
            out.truncate(c.output_bits as usize);
        }
        let report = TrngReport {
            format_version: crate::REPORT_FORMAT_VERSION,
            source: c.source,
            rows_activated: self.rows.len(),
            bitlines: n,
            high_entropy_bitlines: high,
            mean_entropy_per_bitline: mean_h,
            entropy_histogram: hist,
            selected_blocks: k,
            entropy_per_iteration_bits: ent,
            output_bits_per_iteration: out_per_iter,
            iteration_ns_one_bank: t_one,
            throughput_gbps_per_bank: out_per_iter / t_one,
            banks,
            iteration_ns_all_banks: t_all,
            throughput_gbps_per_channel: per_channel,
            throughput_gbps_per_module: per_channel * spec.org.ranks as f64,
            violations_per_iteration: x1.violation_counts(),
            sample_trace,
            output_bits_generated: out.len() as u64,
            seed: c.seed,
            bitline_entropy,
            selected_block_ids: selected,
        };
        (report, out)
    }

    /// Raw (not post-processed) bits of every examined bitline for one read.
    pub fn raw_read(&self, rng: &mut ChaCha8Rng) -> Vec<u8> {
        (0..self.bitlines.len())
            .map(|i| self.sample(i, rng))
            .collect()
    }

    /// Variation map in use.
    pub fn variation(&self) -> VariationMap {
        self.var
    }

    /// Bits per cache block per chip.
    pub fn block_bits(&self) -> usize {
        self.bits_per_block_per_chip()
    }
}

/// Cycles from the first to one past the last command of a single-bank sequence.
fn iteration_cycles(spec: &DramSpec, tech: &TechParams, cmds: &[PidCmd]) -> i64 {
    let mut x = Executor::new(spec, tech);
    x.record_trace = false;
    // Run twice back-to-back and time the second copy so start-up effects do not count.
    let first = x.run(cmds, 0);
    let second = x.run(cmds, first + 1);
    second - first
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;

    fn spec() -> DramSpec {
        DramSpec::preset("DDR4_2400R").unwrap()
    }

    fn small(source: TrngSource) -> TrngConfig {
        TrngConfig {
            source,
            columns: 64,
            characterisation_reads: 64,
            timing_iterations: 2,
            ..Default::default()
        }
    }

    #[test]
    fn quac_opens_four_rows_and_flags_violations() {
        let m = TrngModel::new(&spec(), &small(TrngSource::Quac)).unwrap();
        let (r, _) = m.run();
        assert_eq!(r.rows_activated, 4);
        let names: Vec<&str> = r
            .violations_per_iteration
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert!(
            names.contains(&"tRAS") && names.contains(&"tRP"),
            "{names:?}"
        );
        assert!(r.high_entropy_bitlines > 0);
        assert!(r.throughput_gbps_per_channel > r.throughput_gbps_per_bank);
    }

    #[test]
    fn per_bitline_entropies_are_the_reported_summary() {
        let m = TrngModel::new(&spec(), &small(TrngSource::Quac)).unwrap();
        let (r, _) = m.run();
        assert_eq!(r.format_version, crate::REPORT_FORMAT_VERSION);
        assert_eq!(r.bitline_entropy.len(), r.bitlines);
        let mean = r.bitline_entropy.iter().map(|&h| h as f64).sum::<f64>() / r.bitlines as f64;
        assert!((mean - r.mean_entropy_per_bitline).abs() < 1e-6);
        let mut hist = [0u64; 10];
        for &h in &r.bitline_entropy {
            hist[((h as f64 * 10.0) as usize).min(9)] += 1;
        }
        // f32 rounding may move a value sitting on a bin edge; none does here.
        assert_eq!(hist, r.entropy_histogram);
        assert_eq!(r.selected_block_ids.len(), r.selected_blocks);
    }

    #[test]
    fn legal_gaps_give_no_trng() {
        let cfg = TrngConfig {
            t2_ns: 20.0,
            ..small(TrngSource::Quac)
        };
        let e = TrngModel::new(&spec(), &cfg).err().unwrap();
        assert!(e.0.contains("does not open several rows"), "{e}");
    }

    #[test]
    fn analytic_and_empirical_entropy_agree() {
        let m = TrngModel::new(&spec(), &small(TrngSource::Quac)).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let reads = 400;
        let mut ones = vec![0u32; m.bitlines.len()];
        for _ in 0..reads {
            for (i, b) in m.raw_read(&mut rng).into_iter().enumerate() {
                ones[i] += b as u32;
            }
        }
        for i in (0..m.bitlines.len()).step_by(37) {
            let p = m.p_one(i);
            let phat = ones[i] as f64 / reads as f64;
            assert!((p - phat).abs() < 0.1, "bitline {i}: {p} vs {phat}");
        }
    }

    #[test]
    fn post_processed_output_is_balanced() {
        let cfg = TrngConfig {
            output_bits: 20_000,
            ..small(TrngSource::Quac)
        };
        let (r, bits) = TrngModel::new(&spec(), &cfg).unwrap().run();
        assert_eq!(bits.len(), 20_000);
        assert_eq!(r.output_bits_generated, 20_000);
        assert!(crate::nist::frequency(&bits) > 0.01);
    }

    #[test]
    fn drange_reads_early_and_higher_temperature_changes_entropy() {
        let cfg = small(TrngSource::DRange { trcd_ns: 9.0 });
        let m = TrngModel::new(&spec(), &cfg).unwrap();
        let (r, _) = m.run();
        assert_eq!(r.violations_per_iteration[0].0, "tRCD");
        assert!(r.high_entropy_bitlines > 0);
        let hot = TrngModel::new(
            &spec(),
            &TrngConfig {
                temperature_c: 85.0,
                ..cfg
            },
        )
        .unwrap();
        assert_ne!(
            hot.run().0.mean_entropy_per_bitline,
            r.mean_entropy_per_bitline
        );
    }

    #[test]
    fn simra_needs_power_of_two_rows() {
        assert!(TrngModel::new(&spec(), &small(TrngSource::Simra { rows: 3 })).is_err());
        let m = TrngModel::new(&spec(), &small(TrngSource::Simra { rows: 32 })).unwrap();
        assert_eq!(m.rows.len(), 32);
    }
}
