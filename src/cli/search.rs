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
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SearchArgs {
    #[command(subcommand)]
    pub sub: Option<SearchSub>,
    /// The search config (RON): evaluator, space, objectives, constraints, budget,
    /// strategy, seed, reference point (docs/search.md).
    #[arg(required = true)]
    pub config: Option<PathBuf>,
    /// Run folder: manifest.json, results.jsonl, summary.json, front.csv, SVG plots.
    #[arg(short = 'o', long = "output", required = true)]
    pub output: Option<PathBuf>,
    /// After the run, write a folder per Pareto-front design (as `search emit`).
    #[arg(long = "emit-front")]
    pub emit_front: bool,
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

#[derive(clap::Subcommand)]
pub enum SearchSub {
    /// Co-generation: write, for each design of a Pareto rank of a run, a folder that
    /// Tessera's other commands load (specs, network, weights, mappings, metrics).
    Emit {
        /// The run folder.
        dir: PathBuf,
        /// Pareto rank to emit (0 = the front).
        #[arg(long, default_value_t = 0)]
        rank: usize,
        /// Where to write (default: DIR/emit).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
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

/// Emit a rank's designs; the listing goes to stdout, or to stderr when stdout carries JSON.
fn emit(
    dir: &std::path::Path,
    rank: usize,
    out: Option<&std::path::Path>,
    to_stderr: bool,
) -> anyhow::Result<()> {
    let done = tessera_study::emit::emit(dir, rank, out).map_err(study_error)?;
    let say = |s: String| {
        if to_stderr {
            eprintln!("{s}");
        } else {
            println!("{s}");
        }
    };
    for e in &done {
        say(format!(
            "design {}: {} ({}){}",
            e.id,
            e.dir.display(),
            e.files.join(", "),
            e.error
                .as_ref()
                .map(|x| format!("; could not write the rest: {x}"))
                .unwrap_or_default()
        ));
    }
    say(format!("{} design(s) of rank {rank} emitted", done.len()));
    Ok(())
}

pub fn run_search(a: SearchArgs) -> anyhow::Result<Outcome> {
    if let Some(SearchSub::Emit { dir, rank, output }) = &a.sub {
        emit(dir, *rank, output.as_deref(), false)?;
        return Ok(Outcome::Ok);
    }
    let (Some(config), Some(output)) = (&a.config, &a.output) else {
        return Err(bad_input("search needs CONFIG and -o DIR"));
    };
    let cfg = LoadedConfig::load(config).map_err(study_error)?;
    if a.threads == 0 {
        return Err(bad_input("--threads must be at least 1"));
    }
    let c = &cfg.config;
    let planned = tessera_search::make_strategy(
        &cfg.strategy_spec(),
        &cfg.space,
        c.objectives.len(),
        c.seed,
        a.shard,
    )
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
        dir: output.clone(),
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
    let outcome = report(&summary, output, a.json)?;
    if a.emit_front && !summary.stopped {
        emit(output, 0, None, a.json)?;
    }
    Ok(outcome)
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
        if let Some(igd) = s.igd_plus {
            println!(
                "IGD+ {igd:.6} against {} points of the true front",
                tessera_study::report::IGD_REFERENCE_POINTS
            );
        }
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
