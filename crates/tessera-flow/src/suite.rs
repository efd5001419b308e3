//! Map every kernel of one or more folders on one architecture (`tessera suite`): per kernel
//! nodes, MII, II, mapping time, optional exact proofs of the minimum II, and a
//! simulate-and-verify verdict over several input seeds; a summary over the suite. A kernel
//! that fails to load or map is a row with its reason, never a crash.
//!
//! Times: each kernel's time is the wall time of its own mapping (MII analysis + mapper +
//! checker). With one job kernels run one after another, so times are single-thread times;
//! with more jobs, kernels run in parallel (rayon) and each time may include contention
//! from the others on a shared machine.

use crate::load::LoadedKernel;
use crate::stats::percentile;
use crate::verify::{SeedsVerdict, simulate_and_verify};
use crate::{FlowError, Progress, ProgressEvent, run_jobs};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use tessera_arch::cgra::CgraSpec;
use tessera_map::driver::{self, MapOptions};

/// How to run a suite.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteOptions {
    /// Seed of the heuristic mapper.
    pub map_seed: u64,
    /// Time limit per kernel in seconds.
    pub time_limit_s: f64,
    /// Kernels mapped in parallel (1 = sequential, single-thread times).
    pub jobs: usize,
    /// Run the exact MILP mapper on kernels with at most this many nodes (0 = off).
    pub exact_max_nodes: usize,
    /// Time limit per kernel in seconds for the exact proof.
    pub exact_time_limit_s: f64,
    /// Do not give the heuristic's mapping to the MILP as a MIP start.
    pub exact_no_hint: bool,
    /// Simulate every mapped kernel on this many input seeds (0 = no simulation).
    pub verify_seeds: u64,
    /// Copy read-only arrays into extra banks when capacity allows.
    pub replicate: bool,
}

/// The input seed on which COMPOSE judges chained against unchained mappings when memory
/// ops of unknown bank are present (`map_kernel_judged`).
pub const SUITE_JUDGE_SEED: u64 = 1;

/// One kernel's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteRow {
    pub file: String,
    pub kernel: String,
    pub nodes: usize,
    pub res_mii: Option<u32>,
    pub rec_mii: Option<u32>,
    pub mii: Option<u32>,
    pub ii: Option<u32>,
    pub time_ms: f64,
    /// `mapped`, `unmapped` (no II worked) or `load error` / `unsupported`.
    pub status: String,
    /// Why it failed, or why the lowest failed II failed when II > MII.
    pub reason: Option<String>,
    /// Exact mode (small kernels): the lowest II with a mapping (exact or heuristic).
    pub exact_min_ii: Option<u32>,
    /// Exact mode: the II at which the MILP itself produced a (checked) mapping.
    pub exact_mapped_ii: Option<u32>,
    /// Exact mode: the MILP mapped at `exact_min_ii` and proved every II from the MII
    /// below it infeasible.
    pub exact_proved: Option<bool>,
    /// Exact mode: wall time of the proof attempt.
    pub exact_time_ms: Option<f64>,
    /// Simulation and verification (mapped kernels, unless `--no-sim`).
    pub sim: Option<SeedsVerdict>,
}

/// The summary line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteSummary {
    pub arch: String,
    pub kernels: usize,
    pub mapped: usize,
    pub geomean_ii_over_mii: Option<f64>,
    pub at_mii_percent: Option<f64>,
    pub median_time_ms: Option<f64>,
    pub p95_time_ms: Option<f64>,
    pub max_time_ms: Option<f64>,
    /// Exact mode: kernels attempted, minimum II proved, and the slowest attempt.
    pub exact_attempted: usize,
    pub exact_proved: usize,
    pub exact_max_time_ms: Option<f64>,
    /// Exact mode: exact mapper found a lower II than the heuristic.
    pub exact_beat_heuristic: usize,
    pub jobs: usize,
    pub seed: u64,
    pub time_limit_s: f64,
    /// Input seeds per kernel for simulate-and-verify (0 with `--no-sim`).
    pub verify_seeds: u64,
    /// Mapped kernels by simulation verdict.
    pub sim_ok: usize,
    pub sim_mismatch: usize,
    pub sim_error: usize,
    pub sim_no_ref: usize,
}

/// The whole suite.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteReport {
    pub rows: Vec<SuiteRow>,
    pub summary: SuiteSummary,
}

/// Map (and optionally prove and verify) every loaded kernel on `arch`. `progress` sees one
/// event when a kernel starts and one when it ends.
pub fn run_suite(
    files: &[LoadedKernel],
    arch: &CgraSpec,
    o: &SuiteOptions,
    progress: Progress<'_>,
) -> Result<SuiteReport, FlowError> {
    let total = files.len() as u64;
    let done = AtomicU64::new(0);
    let one = |l: &LoadedKernel| {
        let name = l.name();
        progress(ProgressEvent {
            done: done.load(Ordering::Relaxed),
            total,
            message: &name,
        });
        let row = suite_row(l, arch, o);
        progress(ProgressEvent {
            done: done.fetch_add(1, Ordering::Relaxed) + 1,
            total,
            message: &name,
        });
        row
    };
    let jobs = o.jobs.max(1);
    let rows = run_jobs(files, jobs, one)?;
    let mut summary = summarize(&rows, &arch.name, jobs, o.map_seed, o.time_limit_s);
    summary.verify_seeds = o.verify_seeds;
    Ok(SuiteReport { rows, summary })
}

/// One kernel of a suite.
pub fn suite_row(l: &LoadedKernel, arch: &CgraSpec, o: &SuiteOptions) -> SuiteRow {
    let file = l.file.clone();
    let kernel = match &l.kernel {
        Ok(k) => k,
        Err(e) => {
            return SuiteRow {
                file,
                kernel: l.name(),
                nodes: 0,
                res_mii: None,
                rec_mii: None,
                mii: None,
                ii: None,
                time_ms: 0.0,
                status: "load error".into(),
                reason: Some(e.clone()),
                exact_min_ii: None,
                exact_mapped_ii: None,
                exact_proved: None,
                exact_time_ms: None,
                sim: None,
            };
        }
    };
    let opts = MapOptions {
        seed: o.map_seed,
        time_limit_s: o.time_limit_s,
        replicate: o.replicate,
        ..MapOptions::default()
    };
    let t0 = std::time::Instant::now();
    let report = tessera_map::mii::analyze_with(kernel, arch, opts.replicate);
    let mut row = SuiteRow {
        file,
        kernel: kernel.name.clone(),
        nodes: kernel.node_count(),
        res_mii: report.as_ref().ok().map(|r| r.res_mii),
        rec_mii: report.as_ref().ok().map(|r| r.rec_mii),
        mii: report.as_ref().ok().map(|r| r.mii),
        ii: None,
        time_ms: 0.0,
        status: String::new(),
        reason: None,
        exact_min_ii: None,
        exact_mapped_ii: None,
        exact_proved: None,
        exact_time_ms: None,
        sim: None,
    };
    if let Err(e) = report {
        row.status = "unsupported".into();
        row.reason = Some(e.to_string());
        row.time_ms = t0.elapsed().as_secs_f64() * 1e3;
        return row;
    }
    let mut heuristic_mapping = None;
    let judge = |m: &tessera_map::Mapping| tessera_sim::judged_cycles(m, SUITE_JUDGE_SEED);
    match driver::map_kernel_judged(
        kernel,
        arch,
        &opts,
        Some(driver::Judge {
            seed: SUITE_JUDGE_SEED,
            cycles: &judge,
        }),
    ) {
        Ok(out) => {
            row.ii = Some(out.mapping.ii);
            heuristic_mapping = Some(out.mapping.clone());
            row.status = "mapped".into();
            row.reason = out
                .failed_iis
                .first()
                .map(|(ii, why)| format!("II {ii}: {why}"));
        }
        Err(e) => {
            row.status = "unmapped".into();
            row.reason = Some(e.to_string());
        }
    }
    row.time_ms = t0.elapsed().as_secs_f64() * 1e3;
    if kernel.node_count() <= o.exact_max_nodes
        && let Some(mii) = row.mii
    {
        exact_proof(kernel, arch, mii, heuristic_mapping.clone(), o, &mut row);
    }
    if o.verify_seeds > 0
        && let Some(m) = &heuristic_mapping
    {
        row.sim = Some(simulate_and_verify(m, o.verify_seeds));
    }
    row
}

/// Try to prove the minimum II with the exact mapper: II = MII, MII + 1, ... up to the
/// heuristic's II (or MII + 8 when the heuristic failed), stopping at the first II the
/// MILP maps. Every II it skips must be proved infeasible for the minimum to count as
/// proved, and the MILP must produce (and route) a mapping at the II it stops at; at the
/// heuristic's II the heuristic mapping is given to the solver as a MIP start.
pub fn exact_proof(
    kernel: &tessera_ir::Kernel,
    arch: &CgraSpec,
    mii: u32,
    heuristic: Option<tessera_map::Mapping>,
    o: &SuiteOptions,
    row: &mut SuiteRow,
) {
    let (use_hint, limit_s, seed) = (!o.exact_no_hint, o.exact_time_limit_s, o.map_seed);
    use tessera_map::exact::{ExactOptions, ExactOutcome, map_exact};
    let t0 = std::time::Instant::now();
    let heuristic_ii = heuristic.as_ref().map(|m| m.ii);
    let upper = heuristic_ii.unwrap_or_else(|| (mii + 8).min(arch.max_ii));
    let mut proved = true;
    let mut found = None;
    for ii in mii..=upper {
        let left = limit_s - t0.elapsed().as_secs_f64();
        if left <= 0.0 {
            proved = false;
            break;
        }
        let opts = ExactOptions {
            time_limit_s: left,
            seed,
            hint: heuristic.clone().filter(|m| use_hint && m.ii == ii),
            ..ExactOptions::default()
        };
        match map_exact(kernel, arch, ii, &opts) {
            Ok(ExactOutcome::Mapped(_)) => {
                found = Some(ii);
                break;
            }
            Ok(ExactOutcome::Infeasible) => {}
            Ok(ExactOutcome::TimedOut | ExactOutcome::NoProof(_)) | Err(_) => proved = false,
        }
    }
    row.exact_mapped_ii = found;
    row.exact_min_ii = match (found, heuristic_ii) {
        (Some(e), Some(h)) => Some(e.min(h)),
        (e, h) => e.or(h),
    };
    row.exact_proved = Some(proved && found.is_some());
    row.exact_time_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
}

pub fn summarize(
    rows: &[SuiteRow],
    arch: &str,
    jobs: usize,
    seed: u64,
    time_limit_s: f64,
) -> SuiteSummary {
    let mapped: Vec<&SuiteRow> = rows.iter().filter(|r| r.ii.is_some()).collect();
    let ratios: Vec<f64> = mapped
        .iter()
        .filter_map(|r| Some(r.ii? as f64 / r.mii?.max(1) as f64))
        .collect();
    let geomean = if ratios.is_empty() {
        None
    } else {
        Some((ratios.iter().map(|x| x.ln()).sum::<f64>() / ratios.len() as f64).exp())
    };
    let at_mii = if mapped.is_empty() {
        None
    } else {
        Some(100.0 * mapped.iter().filter(|r| r.ii == r.mii).count() as f64 / mapped.len() as f64)
    };
    // Times over every kernel that loaded (failures took time too).
    let mut times: Vec<f64> = rows
        .iter()
        .filter(|r| r.status != "load error")
        .map(|r| r.time_ms)
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    let exact_rows: Vec<&SuiteRow> = rows.iter().filter(|r| r.exact_proved.is_some()).collect();
    let verdicts = |v: &str| {
        rows.iter()
            .filter(|r| r.sim.as_ref().is_some_and(|s| s.verdict == v))
            .count()
    };
    SuiteSummary {
        verify_seeds: 0,
        sim_ok: verdicts("ok"),
        sim_mismatch: verdicts("MISMATCH"),
        sim_error: verdicts("sim error"),
        sim_no_ref: verdicts("no ref"),
        exact_attempted: exact_rows.len(),
        exact_proved: exact_rows
            .iter()
            .filter(|r| r.exact_proved == Some(true))
            .count(),
        exact_max_time_ms: exact_rows
            .iter()
            .filter_map(|r| r.exact_time_ms)
            .reduce(f64::max),
        exact_beat_heuristic: exact_rows
            .iter()
            .filter(|r| matches!((r.exact_min_ii, r.ii), (Some(e), Some(h)) if e < h))
            .count(),
        arch: arch.to_string(),
        kernels: rows.len(),
        mapped: mapped.len(),
        geomean_ii_over_mii: geomean,
        at_mii_percent: at_mii,
        median_time_ms: percentile(&times, 50.0),
        p95_time_ms: percentile(&times, 95.0),
        max_time_ms: times.last().copied(),
        jobs,
        seed,
        time_limit_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ii: Option<u32>, mii: u32, t: f64) -> SuiteRow {
        SuiteRow {
            file: "f".into(),
            kernel: "k".into(),
            nodes: 3,
            res_mii: Some(mii),
            rec_mii: Some(0),
            mii: Some(mii),
            ii,
            time_ms: t,
            status: if ii.is_some() { "mapped" } else { "unmapped" }.into(),
            reason: None,
            exact_min_ii: None,
            exact_mapped_ii: None,
            exact_proved: None,
            exact_time_ms: None,
            sim: None,
        }
    }

    #[test]
    fn summary_statistics() {
        let rows = vec![
            row(Some(2), 2, 1.0),
            row(Some(4), 2, 3.0),
            row(None, 2, 10.0),
            row(Some(3), 3, 2.0),
        ];
        let s = summarize(&rows, "a", 1, 1, 10.0);
        assert_eq!(s.mapped, 3);
        // geomean of 1, 2, 1 = 2^(1/3)
        assert!((s.geomean_ii_over_mii.unwrap() - 2f64.powf(1.0 / 3.0)).abs() < 1e-9);
        assert!((s.at_mii_percent.unwrap() - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.median_time_ms, Some(2.0));
        assert_eq!(s.p95_time_ms, Some(10.0));
    }
}
