//! DRAM physical unclonable functions over a population of simulated chips (modules).
//!
//! A signature is the bit vector read from a row segment by a timing-violating operation:
//! reduced-tRCD reads (activation-failure "DRAM latency PUF", Kim et al., HPCA 2018) or a
//! multi-row activation read (SiMRA PUF, Yuksel et al., DSN 2024). Chips differ through their
//! variation maps (one seed per module); repeated evaluations differ through read noise and
//! temperature. Reported: intra-device (same chip, repeated / other temperature) and
//! inter-device (pairs of chips) Jaccard index and fractional Hamming distance, uniformity,
//! bit-aliasing, and evaluation latency from the command timing.

use crate::cells::TechParams;
use crate::device::{Cmd, Constraint};
use crate::pid::{Executor, PidCmd};
use crate::trng::{InitMethod, TrngConfig, TrngError, TrngModel, TrngSource};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tessera_arch::dram::DramSpec;

/// Which mechanism produces the signature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PufMechanism {
    /// Reduced-tRCD read of every cache block of the segment.
    Latency { trcd_ns: f64 },
    /// One multi-row activation of `rows` rows, then read the segment.
    Simra { rows: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PufConfig {
    pub mechanism: PufMechanism,
    pub vendor: String,
    pub technology: String,
    pub seed: u64,
    /// Simulated chips (modules) in the population.
    pub chips: u32,
    /// Columns per chip in the segment.
    pub columns: u32,
    /// Evaluations per chip and temperature for the intra-device statistics.
    pub repeats: u32,
    /// Temperature of enrolment (reference signature).
    pub enroll_temperature_c: f64,
    /// Temperatures of the later evaluations.
    pub eval_temperatures_c: Vec<f64>,
}

impl Default for PufConfig {
    fn default() -> Self {
        Self {
            mechanism: PufMechanism::Simra { rows: 32 },
            vendor: "H".into(),
            technology: "DDR4".into(),
            seed: 7,
            chips: 8,
            columns: 128,
            repeats: 4,
            enroll_temperature_c: 50.0,
            eval_temperatures_c: vec![50.0, 55.0, 70.0],
        }
    }
}

/// Summary of a distance distribution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub n: u64,
}

impl Stats {
    fn of(xs: &[f64]) -> Self {
        if xs.is_empty() {
            return Self::default();
        }
        Self {
            mean: xs.iter().sum::<f64>() / xs.len() as f64,
            min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            n: xs.len() as u64,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PufReport {
    /// [`crate::REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    pub mechanism: PufMechanism,
    pub chips: u32,
    pub signature_bits: usize,
    /// Intra-device per evaluation temperature: (temperature, Jaccard, FHD).
    pub intra: Vec<(f64, Stats, Stats)>,
    pub inter_jaccard: Stats,
    pub inter_fhd: Stats,
    pub uniformity: Stats,
    /// Mean over bit positions of the fraction of chips with a 1 there (ideal 0.5).
    pub bit_aliasing_mean: f64,
    /// Spread of bit-aliasing over positions (standard deviation).
    pub bit_aliasing_std: f64,
    pub eval_latency_ns: f64,
    pub eval_commands: usize,
    pub violations_per_eval: Vec<(String, u64)>,
    pub seed: u64,
    /// Every intra-device distance (a chip's evaluation against its enrolment), per
    /// evaluation temperature, in the order of `intra`.
    pub intra_samples: Vec<DistanceSamples>,
    /// Every inter-device distance (each pair of chips' enrolments).
    pub inter_samples: DistanceSamples,
}

/// Distances behind a set of [`Stats`]: fractional Hamming distance and Jaccard index of
/// each compared pair of signatures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistanceSamples {
    pub temperature_c: Option<f64>,
    pub fhd: Vec<f64>,
    pub jaccard: Vec<f64>,
}

/// Counts of `values` in `bins` equal bins over [0, 1] (1.0 in the last; values outside
/// [0, 1] or not numbers are left out), for distance histograms.
pub fn histogram01(values: &[f64], bins: usize) -> Vec<u64> {
    let mut h = vec![0u64; bins];
    if bins == 0 {
        return h;
    }
    for &v in values {
        if (0.0..=1.0).contains(&v) {
            h[((v * bins as f64) as usize).min(bins - 1)] += 1;
        }
    }
    h
}

/// Jaccard index of the sets of ones (1 when both are empty).
pub fn jaccard(a: &[u8], b: &[u8]) -> f64 {
    let (mut inter, mut uni) = (0usize, 0usize);
    for (x, y) in a.iter().zip(b) {
        inter += (x & y) as usize;
        uni += (x | y) as usize;
    }
    if uni == 0 {
        1.0
    } else {
        inter as f64 / uni as f64
    }
}

/// Fractional Hamming distance.
pub fn fhd(a: &[u8], b: &[u8]) -> f64 {
    let d = a.iter().zip(b).filter(|(x, y)| x != y).count();
    d as f64 / a.len().max(1) as f64
}

fn model(spec: &DramSpec, cfg: &PufConfig, chip: u32, temp: f64) -> Result<TrngModel, TrngError> {
    let source = match cfg.mechanism {
        PufMechanism::Latency { trcd_ns } => TrngSource::DRange { trcd_ns },
        PufMechanism::Simra { rows } => TrngSource::Simra { rows },
    };
    TrngModel::new(
        spec,
        &TrngConfig {
            source,
            vendor: cfg.vendor.clone(),
            technology: cfg.technology.clone(),
            seed: cfg.seed,
            module: chip,
            temperature_c: temp,
            columns: cfg.columns,
            ..Default::default()
        },
    )
}

/// Command sequence of one evaluation on bank 0.
pub fn eval_commands(spec: &DramSpec, tech: &TechParams, cfg: &PufConfig) -> Vec<PidCmd> {
    let blocks = (cfg.columns / spec.org.burst_length).max(1);
    let mut v = Vec::new();
    match cfg.mechanism {
        PufMechanism::Latency { trcd_ns } => {
            // Write the known pattern, then one reduced-tRCD read per block (each needs a
            // fresh activation), as the DRAM latency PUF does.
            v.push(PidCmd::legal(Cmd::Act, 0, 0));
            for _ in 0..blocks {
                v.push(PidCmd::legal(Cmd::Wr, 0, 0));
            }
            v.push(PidCmd::legal(Cmd::Pre, 0, 0));
            for _ in 0..blocks {
                v.push(PidCmd::legal(Cmd::Act, 0, 0));
                v.push(PidCmd::after(Cmd::Rd, 0, 0, trcd_ns, &[Constraint::Rcd]));
                v.push(PidCmd::legal(Cmd::Pre, 0, 0));
            }
        }
        PufMechanism::Simra { rows } => {
            let m = TrngModel::new(
                spec,
                &TrngConfig {
                    source: TrngSource::Simra { rows },
                    vendor: tech.vendor.clone(),
                    technology: tech.technology.clone(),
                    columns: cfg.columns,
                    init: InitMethod::RowClone,
                    ..Default::default()
                },
            );
            if let Ok(m) = m {
                let all: Vec<u32> = (0..blocks).collect();
                v = m.iteration(0, &all);
            }
        }
    }
    v
}

/// Run the population study.
pub fn run(spec: &DramSpec, cfg: &PufConfig) -> Result<PufReport, TrngError> {
    let tech = TechParams::table(&cfg.vendor, &cfg.technology).ok_or_else(|| {
        TrngError(format!(
            "no parameter table for {} {}",
            cfg.vendor, cfg.technology
        ))
    })?;
    if cfg.chips < 2 {
        return Err(TrngError(
            "chips must be at least 2 for inter-device statistics".into(),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_mul(31).wrapping_add(1));
    let mut reference = Vec::new();
    for chip in 0..cfg.chips {
        let m = model(spec, cfg, chip, cfg.enroll_temperature_c)?;
        reference.push(m.raw_read(&mut rng));
    }
    let bits = reference[0].len();
    let mut intra = Vec::new();
    let mut intra_samples = Vec::new();
    for &t in &cfg.eval_temperatures_c {
        let (mut js, mut hs) = (Vec::new(), Vec::new());
        for chip in 0..cfg.chips {
            let m = model(spec, cfg, chip, t)?;
            for _ in 0..cfg.repeats {
                let s = m.raw_read(&mut rng);
                js.push(jaccard(&reference[chip as usize], &s));
                hs.push(fhd(&reference[chip as usize], &s));
            }
        }
        intra.push((t, Stats::of(&js), Stats::of(&hs)));
        intra_samples.push(DistanceSamples {
            temperature_c: Some(t),
            fhd: hs,
            jaccard: js,
        });
    }
    let (mut ij, mut ih) = (Vec::new(), Vec::new());
    for a in 0..reference.len() {
        for b in a + 1..reference.len() {
            ij.push(jaccard(&reference[a], &reference[b]));
            ih.push(fhd(&reference[a], &reference[b]));
        }
    }
    let uni: Vec<f64> = reference
        .iter()
        .map(|s| s.iter().map(|&b| b as f64).sum::<f64>() / bits as f64)
        .collect();
    let ba: Vec<f64> = (0..bits)
        .map(|i| reference.iter().map(|s| s[i] as f64).sum::<f64>() / reference.len() as f64)
        .collect();
    let ba_mean = ba.iter().sum::<f64>() / bits as f64;
    let ba_std = (ba.iter().map(|x| (x - ba_mean).powi(2)).sum::<f64>() / bits as f64).sqrt();
    let cmds = eval_commands(spec, &tech, cfg);
    let mut x = Executor::new(spec, &tech);
    x.record_trace = false;
    let end = x.run(&cmds, 0);
    Ok(PufReport {
        format_version: crate::REPORT_FORMAT_VERSION,
        mechanism: cfg.mechanism,
        chips: cfg.chips,
        signature_bits: bits,
        intra,
        inter_jaccard: Stats::of(&ij),
        inter_fhd: Stats::of(&ih),
        uniformity: Stats::of(&uni),
        bit_aliasing_mean: ba_mean,
        bit_aliasing_std: ba_std,
        eval_latency_ns: (end + 1) as f64 * spec.tck_ns(),
        eval_commands: cmds.len(),
        violations_per_eval: x.violation_counts(),
        seed: cfg.seed,
        intra_samples,
        inter_samples: DistanceSamples {
            temperature_c: None,
            fhd: ih,
            jaccard: ij,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;

    fn small(mechanism: PufMechanism) -> PufConfig {
        PufConfig {
            mechanism,
            chips: 4,
            columns: 32,
            repeats: 2,
            ..Default::default()
        }
    }

    #[test]
    fn distance_functions() {
        assert_eq!(jaccard(&[1, 1, 0, 0], &[1, 0, 1, 0]), 1.0 / 3.0);
        assert_eq!(fhd(&[1, 1, 0, 0], &[1, 0, 1, 0]), 0.5);
        assert_eq!(jaccard(&[0, 0], &[0, 0]), 1.0);
    }

    #[test]
    fn simra_puf_is_repeatable_and_unique() {
        let spec = DramSpec::preset("DDR4_2400R").unwrap();
        let r = run(&spec, &small(PufMechanism::Simra { rows: 32 })).unwrap();
        let (_, j_same, h_same) = r.intra[0];
        assert!(j_same.mean > 0.75, "intra Jaccard {}", j_same.mean);
        assert!(h_same.mean < 0.1);
        assert!(j_same.mean > r.inter_jaccard.mean + 0.3);
        assert!(
            r.inter_fhd.mean > 0.4 && r.inter_fhd.mean < 0.6,
            "{}",
            r.inter_fhd.mean
        );
        assert!(r.inter_jaccard.mean < 0.5);
        assert!((r.uniformity.mean - 0.5).abs() < 0.1);
        assert!(r.eval_latency_ns > 0.0);
        assert!(r.violations_per_eval.iter().any(|(n, _)| n == "tRAS"));
    }

    #[test]
    fn distance_samples_are_behind_the_stats() {
        let spec = DramSpec::preset("DDR4_2400R").unwrap();
        let cfg = small(PufMechanism::Simra { rows: 32 });
        let r = run(&spec, &cfg).unwrap();
        assert_eq!(r.format_version, crate::REPORT_FORMAT_VERSION);
        assert_eq!(r.intra_samples.len(), r.intra.len());
        for (s, (t, j, h)) in r.intra_samples.iter().zip(&r.intra) {
            assert_eq!(s.temperature_c, Some(*t));
            assert_eq!(s.fhd.len() as u64, h.n);
            assert_eq!(s.fhd.len(), (cfg.chips * cfg.repeats) as usize);
            assert_eq!(Stats::of(&s.fhd), *h);
            assert_eq!(Stats::of(&s.jaccard), *j);
        }
        let pairs = (cfg.chips * (cfg.chips - 1) / 2) as usize;
        assert_eq!(r.inter_samples.fhd.len(), pairs);
        assert_eq!(Stats::of(&r.inter_samples.fhd), r.inter_fhd);
        assert_eq!(Stats::of(&r.inter_samples.jaccard), r.inter_jaccard);
        let h = histogram01(&r.inter_samples.fhd, 20);
        assert_eq!(h.iter().sum::<u64>() as usize, pairs);
    }

    #[test]
    fn histogram_bins_cover_zero_to_one() {
        assert_eq!(
            histogram01(&[0.0, 0.05, 0.1, 0.5, 0.99, 1.0, -0.1, f64::NAN, 1.5], 10),
            vec![2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
        );
        assert!(histogram01(&[0.5], 0).is_empty());
    }

    #[test]
    fn latency_puf_sparse_signatures_and_temperature_hurts() {
        let spec = DramSpec::preset("DDR4_2400R").unwrap();
        let r = run(&spec, &small(PufMechanism::Latency { trcd_ns: 9.0 })).unwrap();
        let j50 = r.intra[0].1.mean;
        let j70 = r.intra[2].1.mean;
        assert!(
            j50 > j70,
            "temperature should reduce repeatability: {j50} vs {j70}"
        );
        assert!(r.inter_jaccard.mean < j50);
        assert_eq!(r.violations_per_eval[0].0, "tRCD");
    }

    #[test]
    fn one_chip_is_refused() {
        let spec = DramSpec::preset("DDR4_2400R").unwrap();
        let cfg = PufConfig {
            chips: 1,
            ..small(PufMechanism::Simra { rows: 4 })
        };
        assert!(run(&spec, &cfg).is_err());
    }
}
