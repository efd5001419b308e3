//! Parameters of the SP 800-22 battery, with NIST STS 2.1.2's defaults, and their checks
//! against the input-size recommendations of SP 800-22 rev. 1a section 2 (the "x.7"
//! subsection of each test).
//!
//! Two kinds of check: a value outside the range a test is defined for is an error whatever
//! the input ([`NistParams::check`]); a value that is fine but too large for the sequence
//! length is an error when the user set it explicitly, while a default that does not fit a
//! short sequence is lowered (serial, approximate entropy: as this battery always did) or the
//! test is reported not applicable ([`NistParams::resolve`]).

use serde::{Deserialize, Serialize};

/// A parameter outside SP 800-22's recommended range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{option} {value}: {reason}")]
pub struct ParamError {
    /// The parameter, spelt as the CLI option (e.g. `--serial-m`).
    pub option: &'static str,
    pub value: usize,
    /// What SP 800-22 asks for, with the section.
    pub reason: String,
}

/// User-settable parameters. [`Default`] gives NIST STS 2.1.2's defaults (`assess.c`: block
/// frequency M = 128, non-overlapping template m = 9, overlapping template m = 9, approximate
/// entropy m = 10, serial m = 16, linear complexity M = 500; Maurer's L from the sequence
/// length by the table of SP 800-22 2.9.7, as STS's `universal.c` picks it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NistParams {
    /// Block length M of the frequency-within-a-block test (2.2).
    pub block_frequency_m: usize,
    /// Template length m of the non-overlapping template test (2.7).
    pub non_overlapping_m: usize,
    /// Template length m of the overlapping template test (2.8; blocks of M = 1032, K = 5).
    pub overlapping_m: usize,
    /// Block length m of the approximate entropy test (2.12); `None`: 10, lowered for short
    /// sequences to floor(log2 n) - 6.
    pub approximate_entropy_m: Option<usize>,
    /// Block length m of the serial test (2.11); `None`: 16, lowered for short sequences to
    /// floor(log2 n) - 3.
    pub serial_m: Option<usize>,
    /// Block length M of the linear complexity test (2.10).
    pub linear_complexity_m: usize,
    /// Block length L of Maurer's universal test (2.9), Q = 10 * 2^L initialisation blocks;
    /// `None`: from the sequence length by the 2.9.7 table.
    pub universal_l: Option<usize>,
}

impl Default for NistParams {
    fn default() -> Self {
        Self {
            block_frequency_m: 128,
            non_overlapping_m: 9,
            overlapping_m: 9,
            approximate_entropy_m: None,
            serial_m: None,
            linear_complexity_m: 500,
            universal_l: None,
        }
    }
}

/// STS 2.1.2 defaults for the parameters that adapt to the length.
pub const DEFAULT_APPROXIMATE_ENTROPY_M: usize = 10;
pub const DEFAULT_SERIAL_M: usize = 16;
/// Block length of the overlapping template test (SP 800-22 2.8.7, STS `M = 1032`).
pub const OVERLAPPING_BLOCK: usize = 1032;
/// Number of blocks of the non-overlapping template test (STS `N = 8`; 2.7.7 asks N <= 100).
pub const NON_OVERLAPPING_BLOCKS: usize = 8;
/// STS 2.1.2 runs at most this many templates (`MAXNUMOFTEMPLATES`, all 148 for m = 9).
pub const MAX_TEMPLATES: usize = 148;

/// Parameters as run on sequences of `n` bits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsedParams {
    pub n: usize,
    pub block_frequency_m: usize,
    pub non_overlapping_m: usize,
    /// Templates run (STS's selection: all aperiodic templates of length m when there are at
    /// most 148, else 148 of them, every k-th).
    pub non_overlapping_templates: usize,
    pub overlapping_m: usize,
    pub approximate_entropy_m: usize,
    pub serial_m: usize,
    pub linear_complexity_m: usize,
    /// Maurer's L and Q, or `None` when the sequence is too short (n < 387,840).
    pub universal_l: Option<usize>,
    pub universal_q: Option<usize>,
    /// Random excursion tests need J >= max(0.005 sqrt(n), 500) cycles (SP 800-22 2.14.7,
    /// STS `randomExcursions.c`).
    pub excursion_min_cycles: usize,
}

fn err(option: &'static str, value: usize, reason: impl Into<String>) -> ParamError {
    ParamError {
        option,
        value,
        reason: reason.into(),
    }
}

/// floor(log2 n) (0 for n < 2).
pub fn log2_floor(n: usize) -> usize {
    if n < 2 {
        0
    } else {
        (usize::BITS - 1 - n.leading_zeros()) as usize
    }
}

/// The smallest n for Maurer's test with block length L: n >= (Q + K) L with Q = 10 * 2^L
/// and K = 1000 * 2^L (SP 800-22 2.9.7; the thresholds of its table, 387,840 for L = 6).
pub fn universal_min_bits(l: usize) -> usize {
    1010 * (1usize << l) * l
}

/// Maurer's L for n bits by the 2.9.7 table (the largest L with n >= 1010 * 2^L * L, L in
/// 6..=16), or `None` below 387,840 bits.
pub fn universal_l_for(n: usize) -> Option<usize> {
    (6..=16).rev().find(|&l| n >= universal_min_bits(l))
}

impl NistParams {
    /// Range checks that do not depend on the input.
    pub fn check(&self) -> Result<(), ParamError> {
        if self.block_frequency_m < 20 {
            return Err(err(
                "--block-frequency-m",
                self.block_frequency_m,
                "SP 800-22 2.2.7 asks for a block length M >= 20",
            ));
        }
        if !(2..=21).contains(&self.non_overlapping_m) {
            return Err(err(
                "--non-overlapping-m",
                self.non_overlapping_m,
                "template length must be in 2..=21 (the lengths NIST STS 2.1.2 ships templates \
                 for; SP 800-22 2.7.7 recommends m = 9 or 10)",
            ));
        }
        if !(2..=21).contains(&self.overlapping_m) {
            return Err(err(
                "--overlapping-m",
                self.overlapping_m,
                "template length must be in 2..=21 (SP 800-22 2.8.7 recommends m = 9 or 10)",
            ));
        }
        if let Some(m) = self.approximate_entropy_m
            && !(1..=20).contains(&m)
        {
            return Err(err(
                "--apen-m",
                m,
                "block length must be in 1..=20 (SP 800-22 2.12.7: m < floor(log2 n) - 5)",
            ));
        }
        if let Some(m) = self.serial_m
            && !(2..=20).contains(&m)
        {
            return Err(err(
                "--serial-m",
                m,
                "block length must be in 2..=20 (SP 800-22 2.11.7: m < floor(log2 n) - 2)",
            ));
        }
        if !(500..=5000).contains(&self.linear_complexity_m) {
            return Err(err(
                "--linear-complexity-m",
                self.linear_complexity_m,
                "SP 800-22 2.10.7 asks for 500 <= M <= 5000",
            ));
        }
        if let Some(l) = self.universal_l
            && !(6..=16).contains(&l)
        {
            return Err(err(
                "--universal-l",
                l,
                "SP 800-22 2.9.7 tabulates L = 6..=16",
            ));
        }
        Ok(())
    }

    /// The parameters for sequences of `n` bits: explicit values that the length cannot
    /// support are errors; defaults adapt (see the module documentation).
    pub fn resolve(&self, n: usize) -> Result<UsedParams, ParamError> {
        self.check()?;
        let log2n = log2_floor(n);
        let approximate_entropy_m = match self.approximate_entropy_m {
            Some(m) => {
                if m + 5 >= log2n {
                    return Err(err(
                        "--apen-m",
                        m,
                        format!(
                            "SP 800-22 2.12.7 asks for m < floor(log2 n) - 5 = {} for \
                             sequences of n = {n} bits",
                            log2n as i64 - 5
                        ),
                    ));
                }
                m
            }
            None => DEFAULT_APPROXIMATE_ENTROPY_M
                .min(log2n.saturating_sub(6))
                .max(2),
        };
        let serial_m = match self.serial_m {
            Some(m) => {
                if m + 2 >= log2n {
                    return Err(err(
                        "--serial-m",
                        m,
                        format!(
                            "SP 800-22 2.11.7 asks for m < floor(log2 n) - 2 = {} for \
                             sequences of n = {n} bits",
                            log2n as i64 - 2
                        ),
                    ));
                }
                m
            }
            None => DEFAULT_SERIAL_M.min(log2n.saturating_sub(3)).max(2),
        };
        let universal_l = match self.universal_l {
            Some(l) => {
                if n < universal_min_bits(l) {
                    return Err(err(
                        "--universal-l",
                        l,
                        format!(
                            "SP 800-22 2.9.7: L = {l} needs n >= (Q + K) L = {} bits (Q = 10 * \
                             2^L, K = 1000 * 2^L); sequences have {n}",
                            universal_min_bits(l)
                        ),
                    ));
                }
                Some(l)
            }
            None => universal_l_for(n),
        };
        let templates = super::sts_template_count(self.non_overlapping_m);
        Ok(UsedParams {
            n,
            block_frequency_m: self.block_frequency_m,
            non_overlapping_m: self.non_overlapping_m,
            non_overlapping_templates: templates,
            overlapping_m: self.overlapping_m,
            approximate_entropy_m,
            serial_m,
            linear_complexity_m: self.linear_complexity_m,
            universal_l,
            universal_q: universal_l.map(|l| 10 * (1usize << l)),
            excursion_min_cycles: excursion_min_cycles(n),
        })
    }
}

/// J >= max(0.005 sqrt(n), 500) (SP 800-22 2.14.7 / 2.15.7, as STS computes it).
pub fn excursion_min_cycles(n: usize) -> usize {
    ((0.005 * (n as f64).sqrt()) as usize).max(500)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sts_and_fit_a_million_bits() {
        let u = NistParams::default().resolve(1_000_000).unwrap();
        assert_eq!(
            (
                u.block_frequency_m,
                u.non_overlapping_m,
                u.non_overlapping_templates,
                u.overlapping_m,
                u.approximate_entropy_m,
                u.serial_m,
                u.linear_complexity_m,
                u.universal_l,
                u.universal_q,
                u.excursion_min_cycles
            ),
            (128, 9, 148, 9, 10, 16, 500, Some(7), Some(1280), 500)
        );
        // Short input: the adaptive defaults come down, Maurer's test does not apply.
        let u = NistParams::default().resolve(40_000).unwrap();
        assert_eq!(
            (u.serial_m, u.approximate_entropy_m, u.universal_l),
            (12, 9, None)
        );
    }

    #[test]
    fn universal_table_matches_sp800_22() {
        // 2.9.7: n >= 387,840 -> L = 6, 904,960 -> 7, ..., 1,059,061,760 -> 16.
        assert_eq!(universal_min_bits(6), 387_840);
        assert_eq!(universal_min_bits(7), 904_960);
        assert_eq!(universal_min_bits(16), 1_059_061_760);
        assert_eq!(universal_l_for(387_839), None);
        assert_eq!(universal_l_for(1_000_000), Some(7));
    }

    #[test]
    fn out_of_range_values_name_the_option_and_the_rule() {
        let p = NistParams {
            block_frequency_m: 10,
            ..NistParams::default()
        };
        let e = p.check().unwrap_err().to_string();
        assert!(
            e.contains("--block-frequency-m 10") && e.contains("2.2.7"),
            "{e}"
        );
        let p = NistParams {
            serial_m: Some(17),
            ..NistParams::default()
        };
        let e = p.resolve(1_000_000).unwrap_err().to_string();
        assert!(e.contains("--serial-m 17") && e.contains("= 17"), "{e}");
        assert!(p.resolve(1 << 20).is_ok());
        let p = NistParams {
            universal_l: Some(8),
            ..NistParams::default()
        };
        let e = p.resolve(1_000_000).unwrap_err().to_string();
        assert!(e.contains("2068480"), "{e}");
        for (p, opt) in [
            (
                NistParams {
                    linear_complexity_m: 499,
                    ..NistParams::default()
                },
                "--linear-complexity-m",
            ),
            (
                NistParams {
                    non_overlapping_m: 22,
                    ..NistParams::default()
                },
                "--non-overlapping-m",
            ),
            (
                NistParams {
                    universal_l: Some(5),
                    ..NistParams::default()
                },
                "--universal-l",
            ),
        ] {
            assert_eq!(p.check().unwrap_err().option, opt);
        }
    }
}
