//! `tessera search CONFIG -o DIR` runs a co-search from a RON config (`tessera_study`), and
//! `tessera merge DIR...` joins the folders of a sharded search. This file parses the
//! arguments, draws progress and prints the summary.
//!
//! Ctrl-C stops cleanly: the evaluations in flight finish and are recorded, then the run
//! ends (`--resume` continues it). A second Ctrl-C ends the process at once.

use super::{Outcome, bad_input, print_json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use tessera_study::StudyError;
use tessera_study::config::LoadedConfig;
use tessera_study::report::RunSummary;
use tessera_study::run::{RunOptions, RunProgress, run};

#[derive(clap::Args)]
pub struct SearchArgs {
    /// The search config (RON): evaluator, space, objectives, constraints, budget,
    /// strategy, seed, reference point (docs/search.md).
    pub config: PathBuf,
    /// Run folder: manifest.json, results.jsonl, summary.json, front.csv, SVG plots.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Evaluations run in parallel (results do not depend on it).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Continue a run stopped or killed in the same folder (same config, seed and shard).
    #[arg(long)]
    pub resume: bool,
    /// Run part K of N (K from 0): random and grid take every N-th design of the single
    /// run, NSGA-II/III run island K seeded from (seed, K). Join with `tessera merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// Run the sequential baseline of a joint network x accelerator search instead: the
    /// best network on this objective at the base accelerator first, then the best
    /// accelerators for it, with the same total budget (compare its front with the joint
    /// run's to measure what co-design adds).
    #[arg(long = "sequential-baseline", value_name = "NETWORK_OBJECTIVE")]
    pub sequential: Option<String>,
    /// Share of the budget the sequential baseline spends on the network.
    #[arg(long = "network-fraction", default_value_t = 0.5)]
    pub network_fraction: f64,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Run folders of the shards of one search.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged run.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parse `K/N`.
pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected K/N (e.g. 0/4), found `{s}`"))?;
    let k: u32 = k
        .trim()
        .parse()
        .map_err(|_| format!("expected K/N with whole numbers, found `{s}`"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("expected K/N with whole numbers, found `{s}`"))?;
    if n == 0 || k >= n {
        return Err(format!("shard {k}/{n}: need 0 <= K < N (K counts from 0)"));
    }
    Ok((k, n))
}

static STOP: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_sigint(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    // SAFETY: resetting a signal's action to the default is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

fn catch_ctrl_c() {
    #[cfg(unix)]
    // SAFETY: the handler only stores to an atomic and calls signal(), both
    // async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

fn study_error(e: StudyError) -> anyhow::Error {
    if e.is_bad_input() {
        bad_input(e)
    } else {
        anyhow::Error::new(e)
    }
}

pub fn run_search(a: SearchArgs) -> anyhow::Result<Outcome> {
    let cfg = LoadedConfig::load(&a.config).map_err(study_error)?;
    if a.threads == 0 {
        return Err(bad_input("--threads must be at least 1"));
    }
    let c = &cfg.config;
    let planned =
        tessera_search::make_strategy(&c.strategy, &cfg.space, c.objectives.len(), c.seed, a.shard)
            .ok()
            .and_then(|s| s.planned_count());
    eprintln!(
        "tessera search {}: strategy {}, seed {}, {}{}{}",
        c.name,
        ron::to_string(&c.strategy).unwrap_or_default(),
        c.seed,
        match (c.budget.evaluations, planned) {
            (Some(b), _) => format!("budget {b} evaluations"),
            (None, Some(p)) => format!("grid of {p} designs"),
            (None, None) => "no evaluation budget".into(),
        },
        planned
            .filter(|_| c.budget.evaluations.is_some())
            .map(|p| format!(" (grid of {p} designs)"))
            .unwrap_or_default(),
        a.shard
            .map(|(k, n)| format!(", shard {k}/{n}"))
            .unwrap_or_default()
    );
    catch_ctrl_c();
    let bar = super::progress_bar("search");
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "search [{elapsed_precise}] {bar:30} {pos}/{len} ({per_sec}, ETA {eta}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let opts = RunOptions {
        dir: a.output.clone(),
        threads: a.threads,
        resume: a.resume,
        shard: a.shard,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        sequential: a.sequential.clone().map(|o| (o, a.network_fraction)),
    };
    let show = |p: &RunProgress| {
        if let Some(b) = p.budget.or(planned)
            && bar.length() != Some(b)
        {
            bar.set_length(b);
        }
        bar.set_position(p.done);
        bar.set_message(format!(
            "HV {:.4}, feasible {:.0}%{}",
            p.hypervolume,
            100.0 * p.feasible as f64 / p.done.max(1) as f64,
            if p.replayed > 0 {
                format!(", {} replayed", p.replayed)
            } else {
                String::new()
            }
        ));
    };
    let summary = run(&cfg, &opts, &STOP, &show).map_err(study_error)?;
    bar.finish_and_clear();
    report(&summary, &a.output, a.json)
}

pub fn run_merge(a: MergeArgs) -> anyhow::Result<Outcome> {
    let summary = tessera_study::merge::merge(&a.dirs, &a.output).map_err(study_error)?;
    report(&summary, &a.output, a.json)
}

fn report(s: &RunSummary, dir: &std::path::Path, json: bool) -> anyhow::Result<Outcome> {
    if json {
        print_json(s)?;
    } else {
        println!(
            "{}: {} evaluations ({} feasible, {} infeasible, {} failed, {} cached); hypervolume {:.6} at reference {:?}",
            s.name,
            s.evaluations,
            s.feasible,
            s.infeasible,
            s.failed,
            s.cached,
            s.hypervolume,
            s.reference_point
        );
        println!(
            "{} ({} designs): {}",
            if s.front_feasible {
                "Pareto front"
            } else {
                "least-violating designs"
            },
            s.front.len(),
            dir.join("front.csv").display()
        );
        for n in &s.notes {
            println!("note: {n}");
        }
        if !s.reasons.is_empty() {
            println!("why designs were not feasible (most common):");
            for (why, count) in &s.reasons {
                println!("  {count:>6}  {why}");
            }
        }
        println!("results: {}", dir.display());
    }
    Ok(if s.stopped || s.evaluations == 0 {
        Outcome::CheckFailed
    } else {
        Outcome::Ok
    })
}
