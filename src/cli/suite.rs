//! `tessera suite`: map every kernel of one or more folders on one architecture and print a
//! table (kernel, nodes, MII, II, time) and a summary. A kernel that fails to load or map is
//! a row with its reason, never a crash.
//!
//! Every mapped kernel is then simulated cycle by cycle on `--verify-seeds` seeded inputs
//! (seeds 0, 1, ..., skipping seeds whose inputs the interpreter itself cannot run) and its
//! outputs compared with the reference interpreter: the `cycles` and `sim` columns (`ok`,
//! `MISMATCH`, `sim error`, or `no ref` when the interpreter runs none of the seeds tried).
//! Any mismatch or simulator error makes the exit code 1.
//!
//! Times: each kernel's time is the wall time of its own mapping (MII analysis + mapper +
//! checker). With `--jobs 1` (the default) kernels run one after another, so times are
//! single-thread times; with more jobs, kernels run in parallel (rayon) and each time may
//! include contention from the others on a shared machine.

use super::{Outcome, bad_input, print_json};
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_map::driver::{self, MapOptions};

#[derive(clap::Args)]
pub struct SuiteArgs {
    /// Folders of kernel files (.tk, .xml, .dot, .gv).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// CGRA spec: a RON file or a bundled preset name.
    #[arg(long)]
    pub arch: String,
    /// Kernels mapped in parallel (1 = sequential, single-thread times).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Seed of the heuristic mapper.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time limit per kernel in seconds.
    #[arg(long = "time-limit", default_value_t = 10.0)]
    pub time_limit_s: f64,
    /// Also run the exact MILP mapper on kernels with at most this many nodes, to prove
    /// the minimum II (0 = off).
    #[arg(long, default_value_t = 0)]
    pub exact_max_nodes: usize,
    /// Time limit per kernel in seconds for the exact proof.
    #[arg(long = "exact-time-limit", default_value_t = 60.0)]
    pub exact_time_limit_s: f64,
    /// Do not give the heuristic's mapping to the MILP as a MIP start (measures the exact
    /// mapper on its own).
    #[arg(long)]
    pub exact_no_hint: bool,
    /// Simulate every mapped kernel on N input seeds (0, 1, ..., skipping seeds the
    /// interpreter cannot run) and verify it against the interpreter.
    #[arg(long = "verify-seeds", value_name = "N", default_value_t = 3)]
    pub verify_seeds: u64,
    /// Do not simulate (mapping only).
    #[arg(long)]
    pub no_sim: bool,
    /// Do not copy read-only arrays into extra banks (as `tessera map --no-replicate`; the
    /// MII column is then the bound without copies).
    #[arg(long = "no-replicate")]
    pub no_replicate: bool,
    /// Print the table and summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Simulate-and-verify result of one mapped kernel.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteSim {
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

/// One kernel's result.
#[derive(Debug, Clone, Serialize)]
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
    pub sim: Option<SuiteSim>,
}

/// The summary line.
#[derive(Debug, Clone, Serialize)]
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

#[derive(Serialize)]
struct SuiteReport {
    rows: Vec<SuiteRow>,
    summary: SuiteSummary,
}

pub fn run(a: SuiteArgs) -> anyhow::Result<Outcome> {
    let arch = CgraSpec::load(&a.arch).map_err(bad_input)?;
    let mut files = Vec::new();
    for dir in &a.dirs {
        let listed = tessera_ir::load::load_dir(dir).map_err(bad_input)?;
        files.extend(listed);
    }
    if files.is_empty() {
        return Err(bad_input(
            "no kernel files (.tk, .xml, .dot, .gv) in the given folders",
        ));
    }
    let opts = MapOptions {
        seed: a.seed,
        time_limit_s: a.time_limit_s,
        replicate: !a.no_replicate,
        ..MapOptions::default()
    };
    let map_one =
        |(path, loaded): &(PathBuf, Result<tessera_ir::Kernel, tessera_ir::IrError>)| -> SuiteRow {
            let file = path.display().to_string();
            let kernel = match loaded {
                Ok(k) => k,
                Err(e) => {
                    return SuiteRow {
                        file,
                        kernel: path
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        nodes: 0,
                        res_mii: None,
                        rec_mii: None,
                        mii: None,
                        ii: None,
                        time_ms: 0.0,
                        status: "load error".into(),
                        reason: Some(e.to_string()),
                        exact_min_ii: None,
                        exact_mapped_ii: None,
                        exact_proved: None,
                        exact_time_ms: None,
                        sim: None,
                    };
                }
            };
            let t0 = std::time::Instant::now();
            let report = tessera_map::mii::analyze_with(kernel, &arch, opts.replicate);
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
            // COMPOSE with memory ops of unknown bank: chained or not is decided by
            // simulated cycles on input seed 1 (`map_kernel_judged`).
            let judge = |m: &tessera_map::Mapping| tessera_sim::judged_cycles(m, 1);
            match driver::map_kernel_judged(
                kernel,
                &arch,
                &opts,
                Some(driver::Judge {
                    seed: 1,
                    cycles: &judge,
                }),
            ) {
                Ok(o) => {
                    row.ii = Some(o.mapping.ii);
                    heuristic_mapping = Some(o.mapping.clone());
                    row.status = "mapped".into();
                    row.reason = o
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
            if kernel.node_count() <= a.exact_max_nodes
                && let Some(mii) = row.mii
            {
                exact_proof(kernel, &arch, mii, heuristic_mapping.clone(), &a, &mut row);
            }
            if !a.no_sim
                && a.verify_seeds > 0
                && let Some(m) = &heuristic_mapping
            {
                row.sim = Some(simulate_and_verify(m, a.verify_seeds));
            }
            row
        };
    let jobs = a.jobs.max(1);
    let rows: Vec<SuiteRow> = if jobs == 1 {
        files.iter().map(map_one).collect()
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start {jobs} threads: {e}"))?;
        pool.install(|| files.par_iter().map(map_one).collect())
    };
    let mut summary = summarize(&rows, &arch.name, jobs, a.seed, a.time_limit_s);
    summary.verify_seeds = if a.no_sim { 0 } else { a.verify_seeds };
    let all_mapped = summary.mapped == summary.kernels;
    let all_verified = summary.sim_mismatch == 0 && summary.sim_error == 0;
    if a.json {
        print_json(&SuiteReport { rows, summary })?;
    } else {
        print!("{}", render(&rows, &summary));
    }
    Ok(if all_mapped && all_verified {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

/// Simulate a mapping on input seeds 0, 1, 2, ... and compare with the interpreter until
/// `seeds` seeds ran. Seeds whose inputs the interpreter cannot run are skipped (no verdict
/// on the mapping possible); at most `2 * seeds + 4` seeds are tried.
fn simulate_and_verify(m: &tessera_map::Mapping, seeds: u64) -> SuiteSim {
    let t0 = std::time::Instant::now();
    let mut out = SuiteSim {
        verdict: String::new(),
        seeds_run: Vec::new(),
        seeds_matched: 0,
        cycles: None,
        message: None,
        time_ms: 0.0,
    };
    let sim = match tessera_sim::Simulator::new(m) {
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
            Err(tessera_sim::SimError::Reference(e)) => {
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

/// Try to prove the minimum II with the exact mapper: II = MII, MII + 1, ... up to the
/// heuristic's II (or MII + 8 when the heuristic failed), stopping at the first II the
/// MILP maps. Every II it skips must be proved infeasible for the minimum to count as
/// proved, and the MILP must produce (and route) a mapping at the II it stops at; at the
/// heuristic's II the heuristic mapping is given to the solver as a MIP start.
fn exact_proof(
    kernel: &tessera_ir::Kernel,
    arch: &CgraSpec,
    mii: u32,
    heuristic: Option<tessera_map::Mapping>,
    a: &SuiteArgs,
    row: &mut SuiteRow,
) {
    let (use_hint, limit_s, seed) = (!a.exact_no_hint, a.exact_time_limit_s, a.seed);
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

/// Percentile by nearest rank on a sorted slice.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
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

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

pub fn render(rows: &[SuiteRow], s: &SuiteSummary) -> String {
    let name_w = rows
        .iter()
        .map(|r| r.kernel.len())
        .max()
        .unwrap_or(6)
        .clamp(6, 60);
    let mut out = format!(
        "{:<name_w$} {:>5} {:>4} {:>4} {:>4} {:>4} {:>10} {:>9} {:>8} {:>9}  status\n",
        "kernel", "nodes", "Res", "Rec", "MII", "II", "time ms", "exact", "cycles", "sim"
    );
    for r in rows {
        let mut name = r.kernel.clone();
        if name.len() > name_w {
            name.truncate(name_w);
        }
        out.push_str(&format!(
            "{:<name_w$} {:>5} {:>4} {:>4} {:>4} {:>4} {:>10.1} {:>9} {:>8} {:>9}  {}{}{}\n",
            name,
            r.nodes,
            opt(r.res_mii),
            opt(r.rec_mii),
            opt(r.mii),
            opt(r.ii),
            r.time_ms,
            match (r.exact_proved, r.exact_min_ii) {
                (Some(true), Some(ii)) => format!("{ii} proved"),
                (Some(false), Some(ii)) => format!("{ii}?"),
                (Some(_), None) => "none".to_string(),
                (None, _) => "-".to_string(),
            },
            opt(r.sim.as_ref().and_then(|x| x.cycles)),
            r.sim.as_ref().map_or("-", |x| x.verdict.as_str()),
            r.status,
            match (&r.reason, r.ii.is_some()) {
                (Some(why), false) => format!(": {why}"),
                (Some(why), true) => format!(" (first failed {why})"),
                (None, _) => String::new(),
            },
            match &r.sim {
                Some(x) if x.verdict != "ok" => format!(
                    "; simulation: {}",
                    x.message.as_deref().unwrap_or("no message")
                ),
                _ => String::new(),
            }
        ));
    }
    out.push_str(&format!(
        "\n{} on {}: mapped {}/{} ({:.1}%); geomean II/MII {}; II = MII for {}; time median {} ms, p95 {} ms, max {} ms ({}; seed {}, limit {} s/kernel)\n",
        "summary",
        s.arch,
        s.mapped,
        s.kernels,
        100.0 * s.mapped as f64 / s.kernels.max(1) as f64,
        s.geomean_ii_over_mii.map_or("-".into(), |g| format!("{g:.3}")),
        s.at_mii_percent.map_or("-".into(), |p| format!("{p:.1}%")),
        s.median_time_ms.map_or("-".into(), |t| format!("{t:.1}")),
        s.p95_time_ms.map_or("-".into(), |t| format!("{t:.1}")),
        s.max_time_ms.map_or("-".into(), |t| format!("{t:.1}")),
        if s.jobs == 1 {
            "sequential, single-thread times".to_string()
        } else {
            format!("{} parallel jobs", s.jobs)
        },
        s.seed,
        s.time_limit_s
    ));
    if s.verify_seeds > 0 {
        out.push_str(&format!(
            "simulate-and-verify on {} seeds: {} ok, {} MISMATCH, {} sim error, {} no ref (interpreter cannot run the inputs) of {} mapped\n",
            s.verify_seeds, s.sim_ok, s.sim_mismatch, s.sim_error, s.sim_no_ref, s.mapped
        ));
    }
    if s.exact_attempted > 0 {
        out.push_str(&format!(
            "exact: minimum II proved for {}/{} small kernels (exact found a lower II than the heuristic for {}); slowest proof attempt {} ms\n",
            s.exact_proved,
            s.exact_attempted,
            s.exact_beat_heuristic,
            s.exact_max_time_ms.map_or("-".into(), |t| format!("{t:.0}"))
        ));
    }
    out
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

    #[test]
    fn simulation_verdicts_are_counted_and_shown() {
        let sim = |verdict: &str, msg: Option<&str>| SuiteSim {
            verdict: verdict.into(),
            seeds_run: vec![0, 1, 2],
            seeds_matched: if verdict == "ok" { 3 } else { 2 },
            cycles: Some(100),
            message: msg.map(String::from),
            time_ms: 1.0,
        };
        let mut rows = vec![
            row(Some(2), 2, 1.0),
            row(Some(2), 2, 1.0),
            row(Some(2), 2, 1.0),
        ];
        rows[0].sim = Some(sim("ok", None));
        rows[1].sim = Some(sim("MISMATCH", Some("seed 1: out[3]: expected 1, got 2")));
        rows[2].sim = Some(sim("no ref", Some("seed 0: out of range")));
        let mut s = summarize(&rows, "a", 1, 1, 10.0);
        s.verify_seeds = 3;
        assert_eq!(
            (s.sim_ok, s.sim_mismatch, s.sim_error, s.sim_no_ref),
            (1, 1, 0, 1)
        );
        let text = render(&rows, &s);
        assert!(
            text.contains("MISMATCH  mapped; simulation: seed 1: out[3]"),
            "{text}"
        );
        assert!(
            text.contains("1 ok, 1 MISMATCH, 0 sim error, 1 no ref"),
            "{text}"
        );
    }
}
