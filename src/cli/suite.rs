//! `tessera suite`: map every kernel of one or more folders on one architecture and print a
//! table (kernel, nodes, MII, II, time) and a summary. A kernel that fails to load or map is
//! a row with its reason, never a crash.
//!
//! Every mapped kernel is then simulated cycle by cycle on `--verify-seeds` seeded inputs
//! (seeds 0, 1, ..., skipping seeds whose inputs the interpreter itself cannot run) and its
//! outputs compared with the reference interpreter: the `cycles` and `sim` columns (`ok`,
//! `MISMATCH`, `sim error`, or `no ref` when the interpreter runs none of the seeds tried).
//! Any mismatch or simulator error makes the exit code 1. The flow is
//! `tessera_flow::suite`; this file parses the arguments and renders the report.

use super::{Outcome, bad_input, flow_error, print_json};
use std::path::PathBuf;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_flow::suite::{SuiteOptions, SuiteRow, SuiteSummary, run_suite};

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
    /// Seed of the heuristic mapper's random choices.
    #[arg(long = "map-seed", default_value_t = super::DEFAULT_SEED)]
    pub map_seed: u64,
    /// Refused: say which seed (`--map-seed`; the inputs are seeds 0..N of
    /// `--verify-seeds`).
    #[arg(long = "seed", hide = true)]
    pub ambiguous_seed: Option<u64>,
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
        "\n{} on {}: mapped {}/{} ({:.1}%); geomean II/MII {}; II = MII for {}; time median {} ms, p95 {} ms, max {} ms ({}; mapper seed {}, limit {} s/kernel)\n",
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

pub fn run(a: SuiteArgs) -> anyhow::Result<Outcome> {
    super::refuse_plain_seed(a.ambiguous_seed)?;
    let arch = CgraSpec::load(&a.arch).map_err(bad_input)?;
    let files = tessera_flow::load::load_kernel_dirs(&a.dirs).map_err(flow_error)?;
    let opts = SuiteOptions {
        map_seed: a.map_seed,
        time_limit_s: a.time_limit_s,
        jobs: a.jobs,
        exact_max_nodes: a.exact_max_nodes,
        exact_time_limit_s: a.exact_time_limit_s,
        exact_no_hint: a.exact_no_hint,
        verify_seeds: if a.no_sim { 0 } else { a.verify_seeds },
        replicate: !a.no_replicate,
    };
    let bar = super::progress_bar("suite");
    let report =
        run_suite(&files, &arch, &opts, &|e| super::show_progress(&bar, &e)).map_err(flow_error)?;
    bar.finish_and_clear();
    let s = &report.summary;
    let all_mapped = s.mapped == s.kernels;
    let all_verified = s.sim_mismatch == 0 && s.sim_error == 0;
    if a.json {
        print_json(&report)?;
    } else {
        print!("{}", render(&report.rows, &report.summary));
    }
    Ok(if all_mapped && all_verified {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_flow::suite::summarize;
    use tessera_flow::verify::SeedsVerdict;

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
    fn simulation_verdicts_are_counted_and_shown() {
        let sim = |verdict: &str, msg: Option<&str>| SeedsVerdict {
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
