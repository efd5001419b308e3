//! Simulate a mapping on several input seeds and verify every output against the
//! reference interpreter.

use serde::{Deserialize, Serialize};
use tessera_map::Mapping;
use tessera_sim::{SimError, Simulator};

/// Simulate-and-verify result of one mapping over several input seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedsVerdict {
    /// `ok` (every seed the interpreter could run matched, at least one), `MISMATCH`,
    /// `sim error` (the simulator refused the mapping or faulted on the array), or `no ref`
    /// (the interpreter cannot run any of the seeds' inputs: no verdict).
    pub verdict: String,
    /// Seeds simulated (the interpreter could run them) and how many matched.
    pub seeds_run: Vec<u64>,
    pub seeds_matched: usize,
    /// Total cycles (stalls included) of the first seed simulated.
    pub cycles: Option<u64>,
    /// First mismatch or error, for people.
    pub message: Option<String>,
    /// Wall time of the simulations and interpreter runs.
    pub time_ms: f64,
}

/// Simulate a mapping on input seeds 0, 1, 2, ... and compare with the interpreter until
/// `seeds` seeds ran. Seeds whose inputs the interpreter cannot run are skipped (no verdict
/// on the mapping possible); at most `2 * seeds + 4` seeds are tried.
pub fn simulate_and_verify(m: &Mapping, seeds: u64) -> SeedsVerdict {
    let t0 = std::time::Instant::now();
    let mut out = SeedsVerdict {
        verdict: String::new(),
        seeds_run: Vec::new(),
        seeds_matched: 0,
        cycles: None,
        message: None,
        time_ms: 0.0,
    };
    let sim = match Simulator::new(m) {
        Ok(s) => s,
        Err(e) => {
            out.verdict = "sim error".into();
            out.message = Some(format!("refused: {e}"));
            out.time_ms = t0.elapsed().as_secs_f64() * 1e3;
            return out;
        }
    };
    let mut reference_error = None;
    for seed in 0..2 * seeds + 4 {
        if out.seeds_run.len() as u64 == seeds {
            break;
        }
        match sim.simulate_seed(seed, false) {
            Ok((rep, _)) => {
                out.seeds_run.push(seed);
                out.cycles.get_or_insert(rep.total_cycles);
                if rep.verification.matched {
                    out.seeds_matched += 1;
                } else if out.message.is_none() {
                    out.message = rep
                        .verification
                        .mismatch
                        .map(|mm| format!("seed {seed}: {}", mm.message));
                }
            }
            Err(SimError::Reference(e)) => {
                reference_error.get_or_insert_with(|| format!("seed {seed}: {e}"));
            }
            Err(e) => {
                out.seeds_run.push(seed);
                out.verdict = "sim error".into();
                out.message = Some(format!("seed {seed}: {e}"));
                break;
            }
        }
    }
    if out.verdict.is_empty() {
        out.verdict = if out.seeds_run.is_empty() {
            out.message = reference_error;
            "no ref"
        } else if out.seeds_matched == out.seeds_run.len() {
            "ok"
        } else {
            "MISMATCH"
        }
        .into();
    }
    out.time_ms = t0.elapsed().as_secs_f64() * 1e3;
    out
}
