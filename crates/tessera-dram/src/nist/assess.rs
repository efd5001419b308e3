//! Judging the battery's P-values: SP 800-22 rev. 1a section 4 for several sequences
//! (proportion of sequences passing each test, uniformity of the P-values) and a
//! battery-level rule for one sequence, both with a stated false-alarm rate on random data.
//!
//! # The rules (docs/pid-validation.md derives them and reports their measured rates)
//!
//! A *check* is one P-value of a test (a test has k of them: 148 templates, 8 or 18 excursion
//! states, 2 for serial and cumulative sums, else 1). NIST *flags* a check:
//! - one sequence: when its P-value is below alpha (the per-sequence decision of SP 800-22
//!   section 1.1.5 / 4.1);
//! - m sequences: when the proportion of sequences with P-value >= alpha falls outside
//!   p ± 3 sqrt(p (1 - p) / m), p = 1 - alpha (section 4.2.1), or, with at least 55
//!   sequences, when the chi-square of the P-values over 10 bins gives P-value_T < 0.0001
//!   (section 4.2.2).
//!
//! With about 188 checks, random data raises some flags by chance (one sequence: about 1.9
//! expected at alpha = 0.01; 100 sequences: about 3.4, since the 4.2.1 interval excludes 96
//! passes of 100, which a random source gives with probability 1.8 %). [`Rule::AnyFlag`] fails
//! on any flag, the literal reading: it fails 80 % of random 10^6-bit sequences and 96 % of
//! random jobs of 100 such sequences (measured, docs/pid-validation.md).
//! [`Rule::Corrected`] (the default) gives each of the 15 tests an equal share of a
//! battery-level false-alarm budget `battery_alpha` and, within a test, splits the share
//! equally over its k checks (and, for m sequences, over its two statistics): a flag fails the
//! test only when its probability under randomness is also below that share. Were every
//! P-value exactly uniform on random data, the union (Bonferroni) bound would cap the
//! battery's false-alarm rate at `battery_alpha` whatever the correlation between the tests.
//! Several P-values of SP 800-22 are asymptotic approximations with heavier tails than that
//! (random excursions, Maurer's universal test, the overlapping template test), so the
//! realised rate is somewhat higher; it is measured on 10^4 ChaCha20 streams of 10^6 bits
//! (docs/pid-validation.md): 0.14 % at the default budget 0.001, 1.14 % at 0.01.

use super::battery::{Battery, RawResult, TEST_NAMES};
use super::params::{NistParams, ParamError, UsedParams};
use super::{igamc, mcv_min_entropy};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, DiscreteCDF};

/// Number of tests in the battery (SP 800-22 sections 2.1 to 2.15).
pub const TESTS: usize = 15;
/// Default battery-level false-alarm budget of [`Rule::Corrected`]: one in a thousand,
/// which gives a measured false-alarm rate of 0.14 % on random 10^6-bit sequences (95 %
/// interval 0.08 to 0.23 %), well inside the 1 % the verdict must not exceed.
pub const DEFAULT_BATTERY_ALPHA: f64 = 0.001;
/// SP 800-22 4.2.2: the uniformity of P-values is assessed from at least 55 sequences.
pub const UNIFORMITY_MIN_SEQUENCES: usize = 55;
/// SP 800-22 4.2.2: "If P-value_T >= 0.0001, then the sequences can be considered to be
/// uniformly distributed."
pub const UNIFORMITY_THRESHOLD: f64 = 0.0001;

/// How the verdict is reached from the checks (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// A NIST flag fails its test only when it is significant after a Bonferroni correction
    /// for a battery-level false-alarm budget `battery_alpha` (nominal: the realised rate on
    /// random data is measured in docs/pid-validation.md).
    Corrected { battery_alpha: f64 },
    /// Any NIST flag fails the battery (no multiple-comparison correction).
    AnyFlag,
}

/// One sequence, or several judged by SP 800-22 section 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    SingleSequence,
    MultiSequence,
}

/// A test's outcome under the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestVerdict {
    Pass,
    Fail,
    /// The test applied to no sequence (input too short, too few excursion cycles).
    NotApplicable,
}

/// The battery's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// One P-value of a test (one template, one excursion state, ...) over the sequences it
/// applied to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Template bits, excursion state, `forward`/`reverse`, `P-value1`/`P-value2`; empty
    /// for a test with one P-value.
    pub label: String,
    /// Sequences the test applied to (STS counts only these for the random excursion tests).
    pub sequences: usize,
    /// Sequences with P-value >= alpha.
    pub passing: usize,
    pub proportion: f64,
    /// SP 800-22 4.2.1: p ± 3 sqrt(p (1 - p) / sequences), p = 1 - alpha.
    pub interval: [f64; 2],
    /// NIST flag: the proportion is outside the interval (one sequence: P-value < alpha).
    pub outside_interval: bool,
    /// The P-value itself (one sequence).
    pub p_value: Option<f64>,
    /// Several sequences: probability, for a random source, of a pass count at least as far
    /// from p as this one (exact binomial, two-sided).
    pub binomial_p: Option<f64>,
    /// P-values per tenth of [0, 1] (SP 800-22 4.2.2), from 55 sequences on.
    pub histogram: Option<[usize; 10]>,
    /// P-value_T = igamc(9/2, chi2/2) of the histogram (4.2.2).
    pub uniformity_p: Option<f64>,
    /// NIST flag: P-value_T < 0.0001.
    pub non_uniform: bool,
    /// The rule fails the test on this check.
    pub rejected: bool,
}

/// One test of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub name: String,
    /// The P-values on the single sequence (empty when several sequences were judged: see
    /// `checks`).
    pub p_values: Vec<f64>,
    /// Why the test applied to no sequence.
    pub skipped: Option<String>,
    /// Sequences the test did not apply to (e.g. random excursions with J < 500 cycles);
    /// they are left out of its proportions, as NIST STS's `assess` does.
    pub not_applicable: usize,
    pub checks: Vec<Check>,
    /// Significance a check's statistic must fall below to fail the test: one sequence, the
    /// P-value; several, the binomial probability and P-value_T (together with the NIST flag).
    /// For [`Rule::AnyFlag`]: alpha (one sequence) or 0 (several: the NIST flags decide).
    pub threshold: f64,
    pub verdict: TestVerdict,
}

impl TestResult {
    /// The check with the lowest proportion of passing sequences (several sequences).
    pub fn worst_check(&self) -> Option<&Check> {
        self.checks
            .iter()
            .min_by(|a, b| a.proportion.total_cmp(&b.proportion))
    }

    /// The lowest uniformity P-value (P-value_T) over the checks; NaN when none has one.
    pub fn min_uniformity_p(&self) -> f64 {
        self.checks
            .iter()
            .filter_map(|c| c.uniformity_p)
            .fold(f64::NAN, f64::min)
    }

    /// NIST's own flags over the checks: a proportion outside its interval, a
    /// non-uniform P-value distribution.
    pub fn nist_flags(&self) -> usize {
        self.checks
            .iter()
            .map(|c| usize::from(c.outside_interval) + usize::from(c.non_uniform))
            .sum()
    }

    /// One sequence: true when the test applied and none of its k P-values is below
    /// `battery_alpha / (15 k)` (the single-sequence rule of [`Rule::Corrected`] at battery
    /// level `battery_alpha`). Several sequences: the stored verdict.
    pub fn passed(&self, battery_alpha: f64) -> bool {
        if self.skipped.is_some() {
            return false;
        }
        if self.p_values.is_empty() {
            return self.verdict == TestVerdict::Pass;
        }
        let k = self.p_values.len() as f64;
        let t = battery_alpha / (TESTS as f64 * k);
        self.p_values.iter().all(|&p| p >= t)
    }

    /// Smallest P-value (one sequence), or NaN.
    pub fn min_p(&self) -> f64 {
        self.p_values.iter().copied().fold(f64::NAN, f64::min)
    }
}

/// Whole-battery report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NistReport {
    /// [`crate::REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    /// Bits judged: sequences x sequence_bits.
    pub bits: usize,
    pub ones: usize,
    /// Significance level of each P-value (SP 800-22: 0.01).
    pub alpha: f64,
    pub sequences: usize,
    pub sequence_bits: usize,
    /// Trailing input bits that do not fill a whole sequence (not judged).
    pub ignored_bits: usize,
    pub params: UsedParams,
    pub method: Method,
    pub rule: Rule,
    /// The rule in words, with its false-alarm bound.
    pub rule_text: String,
    pub tests: Vec<TestResult>,
    /// Tests passed, failed and not applicable under the rule.
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Checks NIST flags (proportion outside the interval or P-value_T < 0.0001; one
    /// sequence: P-values below alpha).
    pub nist_flags: usize,
    /// Flags a random source raises on average with these checks.
    pub expected_flags: f64,
    pub verdict: Verdict,
    /// SP 800-90B 6.3.1 most-common-value min-entropy of all judged bits.
    pub min_entropy_mcv_per_bit: f64,
}

/// Why the battery could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NistError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("--alpha {0}: the significance level must be in (0, 1)")]
    Alpha(f64),
    #[error("--battery-alpha {0}: the false-alarm budget must be in (0, 1)")]
    BatteryAlpha(f64),
    #[error("--sequence-bits {sequence_bits}: {reason}")]
    SequenceBits {
        sequence_bits: usize,
        reason: String,
    },
}

/// SP 800-22 4.2.1: p ± 3 sqrt(p (1 - p) / m) with p = `p_hat`.
pub fn nist_interval(p_hat: f64, m: usize) -> [f64; 2] {
    let half = 3.0 * (p_hat * (1.0 - p_hat) / m as f64).sqrt();
    [p_hat - half, p_hat + half]
}

/// Two-sided exact binomial probability of `failures` or a count further from the mean,
/// when each of `m` sequences fails with probability `alpha`: 2 min(P(F <= f), P(F >= f)),
/// at most 1.
pub fn binomial_two_sided(failures: usize, m: usize, alpha: f64) -> f64 {
    let Ok(b) = Binomial::new(alpha, m as u64) else {
        return 1.0;
    };
    let f = failures as u64;
    let lower = b.cdf(f);
    let upper = if f == 0 { 1.0 } else { b.sf(f - 1) };
    (2.0 * lower.min(upper)).min(1.0)
}

/// SP 800-22 4.2.2: counts of P-values per tenth of [0, 1] (1.0 in the last) and
/// P-value_T = igamc(9/2, chi2 / 2), chi2 = sum (F_i - s/10)^2 / (s/10).
pub fn uniformity(p_values: &[f64]) -> ([usize; 10], f64) {
    let mut hist = [0usize; 10];
    for &p in p_values {
        hist[((p * 10.0).floor() as usize).min(9)] += 1;
    }
    let expected = p_values.len() as f64 / 10.0;
    let chi2: f64 = hist
        .iter()
        .map(|&f| (f as f64 - expected).powi(2) / expected)
        .sum();
    (hist, igamc(4.5, chi2 / 2.0))
}

/// Probability that a random source's pass proportion over m sequences falls outside the
/// 4.2.1 interval (exact binomial).
fn interval_flag_probability(m: usize, alpha: f64) -> f64 {
    let Ok(b) = Binomial::new(alpha, m as u64) else {
        return 0.0;
    };
    let [lo, hi] = nist_interval(1.0 - alpha, m);
    let inside = |c: usize| {
        let q = c as f64 / m as f64;
        q >= lo && q <= hi
    };
    // Pass counts inside the interval form a range c_min..=c_max: start from the rounded
    // bounds and settle them with the same comparison as the flag.
    let mut c_min = ((lo * m as f64).ceil().max(0.0) as usize).min(m);
    while c_min > 0 && inside(c_min - 1) {
        c_min -= 1;
    }
    while c_min <= m && !inside(c_min) {
        c_min += 1;
    }
    if c_min > m {
        return 1.0;
    }
    let mut c_max = ((hi * m as f64).floor().max(0.0) as usize).clamp(c_min, m);
    while c_max < m && inside(c_max + 1) {
        c_max += 1;
    }
    while c_max > c_min && !inside(c_max) {
        c_max -= 1;
    }
    // Too few passes: failures > m - c_min; too many: failures < m - c_max.
    let low = b.sf((m - c_min) as u64);
    let high = if m - c_max >= 1 {
        b.cdf((m - c_max - 1) as u64)
    } else {
        0.0
    };
    low + high
}

/// Run the battery on `bits`: one sequence, or sequences of `sequence_bits` bits (trailing
/// bits that do not fill a sequence are ignored and reported). `alpha` is the significance
/// level of each P-value (SP 800-22: 0.01). `progress` is called once per finished sequence.
pub fn run_battery(
    bits: &[u8],
    sequence_bits: Option<usize>,
    params: &NistParams,
    alpha: f64,
    rule: Rule,
    progress: Option<&(dyn Fn() + Sync)>,
) -> Result<NistReport, NistError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(NistError::Alpha(alpha));
    }
    if let Rule::Corrected { battery_alpha } = rule
        && !(battery_alpha > 0.0 && battery_alpha < 1.0)
    {
        return Err(NistError::BatteryAlpha(battery_alpha));
    }
    let total = bits.len();
    let (n, m) = match sequence_bits {
        None => (total, 1),
        Some(0) => {
            return Err(NistError::SequenceBits {
                sequence_bits: 0,
                reason: "a sequence needs at least one bit".into(),
            });
        }
        Some(nb) if nb > total => {
            return Err(NistError::SequenceBits {
                sequence_bits: nb,
                reason: format!("the input has only {total} bits"),
            });
        }
        Some(nb) => (nb, total / nb),
    };
    let battery = Battery::new(params, n)?;
    let judged = &bits[..n * m];
    let sequences: Vec<&[u8]> = if n == 0 {
        vec![judged]
    } else {
        judged.chunks(n).collect()
    };
    let raw: Vec<Vec<RawResult>> = sequences
        .par_iter()
        .map(|s| {
            let r = battery.run(s);
            if let Some(p) = progress {
                p();
            }
            r
        })
        .collect();
    Ok(judge(&raw, &battery, judged, total - n * m, alpha, rule))
}

/// Build the report from the per-sequence results of `battery` (what [`run_battery`] does
/// after running it on each sequence); `judged` are the bits of those sequences (for the
/// counts of ones and the min-entropy).
pub fn judge(
    raw: &[Vec<RawResult>],
    battery: &Battery,
    judged: &[u8],
    ignored_bits: usize,
    alpha: f64,
    rule: Rule,
) -> NistReport {
    let m = raw.len();
    let labels = battery.labels();
    let tests: Vec<TestResult> = (0..TESTS)
        .map(|t| judge_test(t, raw, &labels[t], alpha, rule))
        .collect();
    let count = |v: TestVerdict| tests.iter().filter(|t| t.verdict == v).count();
    let nist_flags = tests.iter().map(TestResult::nist_flags).sum();
    let expected_flags = tests
        .iter()
        .flat_map(|t| &t.checks)
        .map(|c| {
            let u = if c.uniformity_p.is_some() {
                UNIFORMITY_THRESHOLD
            } else {
                0.0
            };
            interval_flag_probability(c.sequences, alpha) + u
        })
        .sum();
    let failed = count(TestVerdict::Fail);
    NistReport {
        format_version: crate::REPORT_FORMAT_VERSION,
        bits: judged.len(),
        ones: judged.iter().filter(|&&b| b == 1).count(),
        alpha,
        sequences: m,
        sequence_bits: battery.params().n,
        ignored_bits,
        params: battery.params().clone(),
        method: if m == 1 {
            Method::SingleSequence
        } else {
            Method::MultiSequence
        },
        rule,
        rule_text: rule_text(rule, m, alpha),
        passed: count(TestVerdict::Pass),
        failed,
        skipped: count(TestVerdict::NotApplicable),
        tests,
        nist_flags,
        expected_flags,
        verdict: if failed > 0 {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        min_entropy_mcv_per_bit: mcv_min_entropy(judged),
    }
}

/// The rule in words.
pub fn rule_text(rule: Rule, m: usize, alpha: f64) -> String {
    match (rule, m) {
        (Rule::Corrected { battery_alpha }, 1) => format!(
            "one sequence: a test with k P-values fails when one of them is below \
             min({alpha}, {battery_alpha} / (15 k)) (Bonferroni over the 15 tests and over each \
             test's P-values); the battery fails when a test fails; false-alarm budget \
             {battery_alpha} (exact for uniform P-values; measured rates in \
             docs/pid-validation.md)"
        ),
        (Rule::Corrected { battery_alpha }, _) => format!(
            "{m} sequences, SP 800-22 section 4: for each of a test's k P-values, the proportion \
             of sequences with P-value >= {alpha} against p ± 3 sqrt(p (1 - p) / m), p = {p} \
             (4.2.1), and from {UNIFORMITY_MIN_SEQUENCES} sequences the uniformity P-value_T >= \
             {UNIFORMITY_THRESHOLD} (4.2.2); a NIST flag fails the test when its probability on \
             random data (exact binomial for the proportion, P-value_T) is also below \
             {battery_alpha} / (15 * 2k) (Bonferroni); the battery fails when a test fails; \
             false-alarm budget {battery_alpha} (exact for uniform P-values; measured rates in \
             docs/pid-validation.md)",
            p = 1.0 - alpha
        ),
        (Rule::AnyFlag, 1) => format!(
            "one sequence, strict: the battery fails when any P-value is below {alpha} (no \
             multiple-comparison correction: most random sequences fail)"
        ),
        (Rule::AnyFlag, _) => format!(
            "{m} sequences, strict: the battery fails on any NIST flag, a proportion outside \
             p ± 3 sqrt(p (1 - p) / m), p = {p} (SP 800-22 4.2.1), or P-value_T < \
             {UNIFORMITY_THRESHOLD} (4.2.2), with no multiple-comparison correction",
            p = 1.0 - alpha
        ),
    }
}

fn judge_test(
    t: usize,
    raw: &[Vec<RawResult>],
    labels: &[String],
    alpha: f64,
    rule: Rule,
) -> TestResult {
    let m = raw.len();
    let applied: Vec<&Vec<f64>> = raw.iter().filter_map(|r| r[t].as_ref().ok()).collect();
    let not_applicable = m - applied.len();
    let name = TEST_NAMES[t].to_string();
    if applied.is_empty() {
        let why = raw
            .iter()
            .find_map(|r| r[t].as_ref().err().cloned())
            .unwrap_or_default();
        return TestResult {
            name,
            p_values: vec![],
            skipped: Some(why),
            not_applicable,
            checks: vec![],
            threshold: 0.0,
            verdict: TestVerdict::NotApplicable,
        };
    }
    let k = labels.len();
    let share = match rule {
        Rule::Corrected { battery_alpha } => battery_alpha / TESTS as f64,
        Rule::AnyFlag => 0.0,
    };
    let threshold = match (rule, m) {
        (Rule::Corrected { .. }, 1) => alpha.min(share / k as f64),
        (Rule::Corrected { .. }, _) => share / (2 * k) as f64,
        (Rule::AnyFlag, 1) => alpha,
        (Rule::AnyFlag, _) => 0.0,
    };
    let checks: Vec<Check> = (0..k)
        .map(|i| {
            let ps: Vec<f64> = applied.iter().map(|v| v[i]).collect();
            let s = ps.len();
            let passing = ps.iter().filter(|&&p| p >= alpha).count();
            let proportion = passing as f64 / s as f64;
            let interval = nist_interval(1.0 - alpha, s);
            let outside_interval = proportion < interval[0] || proportion > interval[1];
            if m == 1 {
                let p = ps[0];
                return Check {
                    label: labels[i].clone(),
                    sequences: 1,
                    passing,
                    proportion,
                    interval,
                    outside_interval,
                    p_value: Some(p),
                    binomial_p: None,
                    histogram: None,
                    uniformity_p: None,
                    non_uniform: false,
                    rejected: p < threshold,
                };
            }
            let binomial_p = binomial_two_sided(s - passing, s, alpha);
            let (histogram, uniformity_p) = if s >= UNIFORMITY_MIN_SEQUENCES {
                let (h, p) = uniformity(&ps);
                (Some(h), Some(p))
            } else {
                (None, None)
            };
            let non_uniform = uniformity_p.is_some_and(|p| p < UNIFORMITY_THRESHOLD);
            let rejected = match rule {
                Rule::Corrected { .. } => {
                    (outside_interval && binomial_p < threshold)
                        || uniformity_p.is_some_and(|p| p < threshold.min(UNIFORMITY_THRESHOLD))
                }
                Rule::AnyFlag => outside_interval || non_uniform,
            };
            Check {
                label: labels[i].clone(),
                sequences: s,
                passing,
                proportion,
                interval,
                outside_interval,
                p_value: None,
                binomial_p: Some(binomial_p),
                histogram,
                uniformity_p,
                non_uniform,
                rejected,
            }
        })
        .collect();
    let verdict = if checks.iter().any(|c| c.rejected) {
        TestVerdict::Fail
    } else {
        TestVerdict::Pass
    };
    TestResult {
        name,
        p_values: if m == 1 { applied[0].clone() } else { vec![] },
        skipped: None,
        not_applicable,
        checks,
        threshold,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nist_interval_of_section_4_2_1() {
        // 4.2.1's example: alpha = 0.01, m = 1000 gives 0.99 ± 0.0094392.
        let [lo, hi] = nist_interval(0.99, 1000);
        assert!((lo - 0.9805608).abs() < 1e-6 && (hi - 0.9994392).abs() < 1e-6);
        // m = 100: 0.96015 .. 1.01985, so 96 passes of 100 are outside, 97 inside.
        let [lo, _] = nist_interval(0.99, 100);
        assert!(0.96 < lo && 0.97 > lo, "{lo}");
        // A random source's chance of being outside at m = 100: P(failures >= 4) = 1.837 %.
        let q = interval_flag_probability(100, 0.01);
        assert!((q - 0.018374).abs() < 1e-5, "{q}");
        // m = 1: outside exactly when the single P-value is below alpha.
        assert!((interval_flag_probability(1, 0.01) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn flag_probability_equals_a_sum_over_pass_counts() {
        for m in [1usize, 2, 7, 30, 55, 100, 891, 1000, 2500] {
            for alpha in [0.01, 0.05, 0.3] {
                let b = Binomial::new(alpha, m as u64).unwrap();
                let [lo, hi] = nist_interval(1.0 - alpha, m);
                let brute: f64 = (0..=m)
                    .filter(|&c| {
                        let q = c as f64 / m as f64;
                        q < lo || q > hi
                    })
                    .map(|c| statrs::distribution::Discrete::pmf(&b, (m - c) as u64))
                    .sum();
                let fast = interval_flag_probability(m, alpha);
                assert!(
                    (fast - brute).abs() < 1e-9,
                    "m {m} alpha {alpha}: {fast} {brute}"
                );
            }
        }
    }

    #[test]
    fn binomial_tails_by_hand() {
        // Bin(100, 0.01): P(F >= 4) = 1 - sum_{f<=3} C(100,f) 0.01^f 0.99^(100-f).
        let pmf = |f: i32| {
            let c: f64 = (0..f).map(|i| (100 - i) as f64 / (i + 1) as f64).product();
            c * 0.01f64.powi(f) * 0.99f64.powi(100 - f)
        };
        let upper4 = 1.0 - (0..4).map(pmf).sum::<f64>();
        assert!((binomial_two_sided(4, 100, 0.01) - 2.0 * upper4).abs() < 1e-12);
        // No failure at all is likely (P(F = 0) = 0.366): two-sided probability 0.73.
        assert!((binomial_two_sided(0, 100, 0.01) - 2.0 * pmf(0)).abs() < 1e-12);
        assert_eq!(binomial_two_sided(1, 100, 0.01), 1.0);
    }

    #[test]
    fn uniformity_of_section_4_2_2() {
        // Evenly spread P-values: chi2 = 0, P-value_T = 1; all in one bin: chi2 = 9 s.
        let even: Vec<f64> = (0..100).map(|i| (i as f64 + 0.5) / 100.0).collect();
        let (h, p) = uniformity(&even);
        assert_eq!(h, [10; 10]);
        assert!((p - 1.0).abs() < 1e-12);
        let (h, p) = uniformity(&[0.05; 60]);
        assert_eq!(h[0], 60);
        assert!((p - igamc(4.5, 9.0 * 60.0 / 2.0)).abs() < 1e-300 && p < 1e-50);
        // P = 1 falls in the last bin.
        assert_eq!(uniformity(&[1.0]).0[9], 1);
    }
}
