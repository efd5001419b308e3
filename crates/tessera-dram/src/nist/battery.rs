//! The 15 tests on one sequence, with the parameters resolved once for the sequence length
//! (templates, overlapping-template probabilities and the FFT plan are shared by every
//! sequence of a multi-sequence run).

use super::params::{NON_OVERLAPPING_BLOCKS, OVERLAPPING_BLOCK};
use super::*;
use rayon::prelude::*;
use std::sync::Arc;

/// The tests in the order of the report (SP 800-22 sections 2.1 to 2.15).
pub const TEST_NAMES: [&str; 15] = [
    "Frequency",
    "BlockFrequency",
    "Runs",
    "LongestRun",
    "Rank",
    "FFT",
    "NonOverlappingTemplate",
    "OverlappingTemplate",
    "Universal",
    "LinearComplexity",
    "Serial",
    "ApproximateEntropy",
    "CumulativeSums",
    "RandomExcursions",
    "RandomExcursionsVariant",
];

/// One test on one sequence: its P-values, or why it does not apply to this sequence.
pub type RawResult = Result<Vec<f64>, String>;

/// The battery for sequences of one length.
pub struct Battery {
    params: UsedParams,
    templates: Vec<Vec<u8>>,
    overlapping_pis: Vec<f64>,
    fft: Arc<dyn Fft<f64>>,
}

/// SP 800-22 asks for at least 100 bits for the frequency, runs, serial, approximate entropy
/// and cumulative sums tests (2.1.7, 2.3.7, 2.11.7, 2.12.7, 2.13.7).
const MIN_BITS: usize = 100;

impl Battery {
    /// Check the parameters and prepare the battery for sequences of `n` bits.
    pub fn new(params: &NistParams, n: usize) -> Result<Self, ParamError> {
        let used = params.resolve(n)?;
        Ok(Self {
            templates: sts_templates(used.non_overlapping_m),
            overlapping_pis: overlapping_pis_for(used.overlapping_m, OVERLAPPING_BLOCK),
            fft: FftPlanner::new().plan_fft_forward(n),
            params: used,
        })
    }

    /// The parameters as run.
    pub fn params(&self) -> &UsedParams {
        &self.params
    }

    /// Labels of each test's P-values (one empty label for a test with a single P-value).
    pub fn labels(&self) -> Vec<Vec<String>> {
        let one = || vec![String::new()];
        let states = |xs: &[i64]| xs.iter().map(|x| format!("x = {x:+}")).collect();
        let mut l: Vec<Vec<String>> = (0..TEST_NAMES.len()).map(|_| one()).collect();
        l[6] = self
            .templates
            .iter()
            .map(|t| t.iter().map(|&b| char::from(b'0' + b)).collect())
            .collect();
        l[10] = vec!["P-value1".into(), "P-value2".into()];
        l[12] = vec!["forward".into(), "reverse".into()];
        l[13] = states(&[-4, -3, -2, -1, 1, 2, 3, 4]);
        l[14] = states(&[
            -9, -8, -7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        ]);
        l
    }

    /// Run the 15 tests on `e`, in parallel; results in the order of [`TEST_NAMES`]. A
    /// sequence whose length is not the one the battery was made for gets no P-values.
    pub fn run(&self, e: &[u8]) -> Vec<RawResult> {
        if e.len() != self.params.n {
            let why = format!(
                "the battery was prepared for sequences of {} bits, got {}",
                self.params.n,
                e.len()
            );
            return vec![Err(why); TEST_NAMES.len()];
        }
        (0..TEST_NAMES.len())
            .into_par_iter()
            .map(|t| self.run_test(t, e))
            .collect()
    }

    fn run_test(&self, test: usize, e: &[u8]) -> RawResult {
        let p = &self.params;
        let n = e.len();
        let short = |min: usize, what: &str| -> Result<(), String> {
            if n < min {
                Err(format!("needs n >= {min}{what}, got {n}"))
            } else {
                Ok(())
            }
        };
        match test {
            0 => short(MIN_BITS, "").map(|()| vec![frequency(e)]),
            1 => short(MIN_BITS.max(p.block_frequency_m), "")
                .map(|()| vec![block_frequency(e, p.block_frequency_m)]),
            2 => short(MIN_BITS, "").map(|()| vec![runs(e)]),
            3 => longest_run(e).map(|x| vec![x]),
            4 => matrix_rank(e).map(|x| vec![x]),
            5 => short(1000, "").map(|()| vec![dft_with(e, &*self.fft)]),
            6 => {
                let m = p.non_overlapping_m;
                short(
                    (8 * 1024).max(NON_OVERLAPPING_BLOCKS * m),
                    &format!(" for {NON_OVERLAPPING_BLOCKS} blocks"),
                )?;
                Ok(non_overlapping_templates(
                    e,
                    &self.templates,
                    NON_OVERLAPPING_BLOCKS,
                ))
            }
            7 => {
                let blocks = n / OVERLAPPING_BLOCK;
                short(
                    100 * OVERLAPPING_BLOCK,
                    &format!(" for 100 blocks of {OVERLAPPING_BLOCK}"),
                )?;
                let min_pi = self
                    .overlapping_pis
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min);
                if blocks as f64 * min_pi <= 5.0 {
                    return Err(format!(
                        "SP 800-22 2.8.7 asks for N * min(pi_i) > 5; m = {} gives {:.2} with \
                         N = {blocks} blocks",
                        p.overlapping_m,
                        blocks as f64 * min_pi
                    ));
                }
                Ok(vec![overlapping_template(
                    e,
                    p.overlapping_m,
                    OVERLAPPING_BLOCK,
                    5,
                    &self.overlapping_pis,
                )])
            }
            8 => match (p.universal_l, p.universal_q) {
                (Some(l), Some(q)) => Ok(vec![universal_with(e, l, q)]),
                _ => Err(format!(
                    "needs n >= {} bits, got {n}",
                    universal_min_bits(6)
                )),
            },
            9 => linear_complexity(e, p.linear_complexity_m).map(|x| vec![x]),
            10 => short(MIN_BITS, "").map(|()| {
                let (a, b) = serial(e, p.serial_m);
                vec![a, b]
            }),
            11 => {
                short(MIN_BITS, "").map(|()| vec![approximate_entropy(e, p.approximate_entropy_m)])
            }
            12 => short(MIN_BITS, "").map(|()| {
                let (a, b) = cumulative_sums(e);
                vec![a, b]
            }),
            13 => random_excursions(e, p.excursion_min_cycles),
            14 => random_excursions_variant(e, p.excursion_min_cycles),
            _ => unreachable!("15 tests"),
        }
    }
}
