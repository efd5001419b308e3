//! `tessera run`: map a kernel (MII, heuristic mapper, independent checker), then simulate
//! the mapping and verify it against the interpreter — one command from kernel to verdict.

use super::sim::{SimSummary, print_summary, simulate_seeds};
use super::{Outcome, bad_input, print_json};
use serde::Serialize;
use std::path::PathBuf;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_map::driver::{Judge, MapOptions, map_kernel_judged};
use tessera_sim::Simulator;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Kernel file: .tk, Morpher .xml, CGRA-ME .dot, or a serialized .json kernel.
    pub kernel: PathBuf,
    /// CGRA spec: a RON file or a bundled preset name (e.g. hycube-4x4).
    #[arg(long)]
    pub arch: String,
    /// Map at exactly this II.
    #[arg(long)]
    pub ii: Option<u32>,
    /// Highest II to try.
    #[arg(long)]
    pub max_ii: Option<u32>,
    /// Seed of the mapper's random choices (printed and recorded).
    #[arg(long = "map-seed", default_value_t = super::DEFAULT_SEED)]
    pub map_seed: u64,
    /// Mapping wall-time budget in seconds.
    #[arg(long = "time-limit", default_value_t = 10.0)]
    pub time_limit_s: f64,
    /// Write the mapping (versioned JSON) to this file.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: super::sim::InputSeeds,
    /// Write a VCD waveform of the first seed's run.
    #[arg(long)]
    pub vcd: Option<PathBuf>,
    /// Override a kernel-language parameter, e.g. `--param n=64` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = super::kernel::parse_param)]
    pub params: Vec<(String, i64)>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct RunReport {
    kernel: String,
    arch: String,
    map_seed: u64,
    input_seeds: Vec<u64>,
    mapped: bool,
    ii: Option<u32>,
    mii: Option<u32>,
    failed_iis: Vec<(u32, String)>,
    map_time_ms: f64,
    map_error: Option<String>,
    mapping_file: Option<String>,
    simulation: Option<SimSummary>,
}

pub fn run(a: RunArgs) -> anyhow::Result<Outcome> {
    a.inputs.refuse_plain_seed()?;
    let kernel = tessera_ir::load::load_kernel(&a.kernel, &a.params).map_err(bad_input)?;
    let arch = CgraSpec::load(&a.arch).map_err(bad_input)?;
    if a.ii == Some(0) {
        return Err(bad_input("--ii must be at least 1"));
    }
    super::refuse_ii_above_depth(&arch, a.max_ii, a.ii)?;
    let opts = MapOptions {
        seed: a.map_seed,
        max_ii: a.max_ii,
        fixed_ii: a.ii,
        time_limit_s: a.time_limit_s,
        ..MapOptions::default()
    };
    let mut report = RunReport {
        kernel: kernel.name.clone(),
        arch: arch.name.clone(),
        map_seed: a.map_seed,
        input_seeds: a.inputs.list(),
        mapped: false,
        ii: None,
        mii: None,
        failed_iis: vec![],
        map_time_ms: 0.0,
        map_error: None,
        mapping_file: None,
        simulation: None,
    };
    // COMPOSE with memory ops of unknown bank: chained or not is decided by simulated
    // cycles on the first input seed (`map_kernel_judged`).
    let judge_seed = a.inputs.list()[0];
    let judge = |m: &tessera_map::Mapping| tessera_sim::judged_cycles(m, judge_seed);
    let spin = super::spinner(format!("mapping {} on {}", kernel.name, arch.name));
    let mapped = map_kernel_judged(
        &kernel,
        &arch,
        &opts,
        Some(Judge {
            seed: judge_seed,
            cycles: &judge,
        }),
    );
    spin.finish_and_clear();
    let outcome = match mapped {
        Ok(o) => o,
        Err(e) => {
            report.map_error = Some(e.to_string());
            if a.json {
                print_json(&report)?;
            } else {
                println!(
                    "{} on {} (mapper seed {}): not mapped: {e}",
                    kernel.name, arch.name, a.map_seed
                );
            }
            return Ok(Outcome::CheckFailed);
        }
    };
    report.mapped = true;
    report.ii = Some(outcome.mapping.ii);
    report.mii = Some(outcome.mii.mii);
    report.failed_iis = outcome.failed_iis.clone();
    report.map_time_ms = outcome.time_ms;
    if let Some(path) = &a.output {
        outcome.mapping.save(path).map_err(bad_input)?;
        report.mapping_file = Some(path.display().to_string());
    }
    let sim = Simulator::new(&outcome.mapping).map_err(bad_input)?;
    let seeds = a.inputs.list();
    let summary = simulate_seeds(&sim, &seeds, a.vcd.as_deref())?;
    let ok = summary.all_matched;
    if a.json {
        report.simulation = Some(summary);
        print_json(&report)?;
    } else {
        println!(
            "{} on {}: mapped at II {} (MII {}, mapper seed {}) in {:.1} ms, checker passed{}",
            kernel.name,
            arch.name,
            outcome.mapping.ii,
            outcome.mii.mii,
            a.map_seed,
            outcome.time_ms,
            report
                .mapping_file
                .as_ref()
                .map(|f| format!(", written to {f}"))
                .unwrap_or_default()
        );
        print_summary(&summary);
    }
    Ok(if ok {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
