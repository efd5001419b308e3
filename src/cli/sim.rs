//! `tessera sim`: run a mapping cycle by cycle on seeded random inputs, verify every output
//! against the reference interpreter, and report cycles, utilisation, traffic, energy, power
//! and EDP (optionally a VCD waveform).

use super::{Outcome, bad_input, print_json};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tessera_sim::{SimError, SimReport, Simulator};

#[derive(clap::Args)]
pub struct SimArgs {
    /// Mapping file (`mapping.json`, as written by `tessera map -o`).
    pub mapping: PathBuf,
    #[command(flatten)]
    pub inputs: InputSeeds,
    /// Write a VCD waveform of the first seed's run (GTKWave opens it).
    #[arg(long)]
    pub vcd: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The input seeds of a simulation: `--input-seed S` (repeatable) and `--input-seeds N`.
#[derive(clap::Args, Debug, Clone)]
pub struct InputSeeds {
    /// Seed of the random simulation inputs (repeatable; default 1 when neither this nor
    /// --input-seeds is given).
    #[arg(long = "input-seed", value_name = "S")]
    pub input_seed: Vec<u64>,
    /// Also run input seeds 0..N.
    #[arg(long = "input-seeds", value_name = "N")]
    pub input_seeds: Option<u64>,
    /// Refused: say which seed (`--input-seed`).
    #[arg(long = "seed", hide = true)]
    pub ambiguous_seed: Option<u64>,
}

impl InputSeeds {
    /// Seeds to run: the explicit ones, then 0..N; the default seed alone when none is
    /// given.
    pub fn list(&self) -> Vec<u64> {
        seed_list(&self.input_seed, self.input_seeds)
    }

    /// Refuse the old, ambiguous `--seed`.
    pub fn refuse_plain_seed(&self) -> anyhow::Result<()> {
        super::refuse_plain_seed(self.ambiguous_seed)
    }
}

/// Seeds to run: the explicit ones, then 0..N; [`super::DEFAULT_SEED`] alone when none is
/// given.
pub fn seed_list(explicit: &[u64], n: Option<u64>) -> Vec<u64> {
    let mut seeds: Vec<u64> = explicit.to_vec();
    for s in 0..n.unwrap_or(0) {
        if !seeds.contains(&s) {
            seeds.push(s);
        }
    }
    if seeds.is_empty() {
        seeds.push(super::DEFAULT_SEED);
    }
    seeds
}

/// What `tessera sim --json` prints (and `tessera run --json` embeds).
#[derive(Serialize)]
pub struct SimSummary {
    pub seeds: Vec<u64>,
    /// Every seed simulated and matched the interpreter.
    pub all_matched: bool,
    pub runs: Vec<SimReport>,
    /// A run that failed on the array (undriven operand, out-of-range access, ...).
    pub error: Option<String>,
    pub vcd: Option<String>,
}

/// Simulate and verify on each seed. `Err` only for bad input (refused mapping, inputs
/// the interpreter cannot run, unwritable VCD).
pub fn simulate_seeds(
    sim: &Simulator,
    seeds: &[u64],
    vcd: Option<&Path>,
) -> anyhow::Result<SimSummary> {
    let mut runs = Vec::new();
    let mut error = None;
    let bar = super::progress_bar("simulate");
    bar.set_length(seeds.len() as u64);
    for (i, &seed) in seeds.iter().enumerate() {
        bar.set_position(i as u64);
        bar.set_message(format!("input seed {seed}"));
        let want_vcd = i == 0 && vcd.is_some();
        match sim.simulate_seed(seed, want_vcd) {
            Ok((rep, wave)) => {
                if let (Some(path), Some(wave)) = (vcd, wave) {
                    super::write_output(path, wave)?;
                }
                runs.push(rep);
            }
            Err(e @ SimError::Fault { .. }) => {
                error = Some(format!("seed {seed}: {e}"));
                break;
            }
            Err(e @ SimError::Reference(_)) => {
                // The interpreter cannot run these inputs: say why no input ranges help.
                let why = match tessera_ir::input_ranges::infer(sim.kernel()) {
                    Err(imp) => {
                        let n = sim.kernel().node(tessera_ir::NodeId::new(imp.node));
                        if n.label.is_empty() {
                            format!("\n  {imp} (node {} is a `{}`)", imp.node, n.op.mnemonic())
                        } else {
                            format!("\n  {imp} (node {} is `{}`)", imp.node, n.label)
                        }
                    }
                    Ok(_) => String::new(),
                };
                return Err(bad_input(format!("seed {seed}: {e}{why}")));
            }
            Err(e) => return Err(bad_input(e)),
        }
    }
    bar.finish_and_clear();
    let all_matched = error.is_none() && runs.iter().all(|r| r.verification.matched);
    Ok(SimSummary {
        seeds: seeds.to_vec(),
        all_matched,
        runs,
        error,
        vcd: vcd.map(|p| p.display().to_string()),
    })
}

/// Print a summary for people.
pub fn print_summary(s: &SimSummary) {
    for (i, r) in s.runs.iter().enumerate() {
        if i == 0 {
            println!("{}", r.summary());
        } else {
            println!(
                "seed {}: {} ({} cycles, {:.1} pJ)",
                r.seed.map(|s| s.to_string()).unwrap_or_default(),
                if r.verification.matched {
                    "outputs match".to_string()
                } else {
                    format!(
                        "MISMATCH: {}",
                        r.verification
                            .mismatch
                            .as_ref()
                            .map(|m| m.message.as_str())
                            .unwrap_or("?")
                    )
                },
                r.total_cycles,
                r.energy.total_pj
            );
        }
    }
    if let Some(e) = &s.error {
        println!("FAILED on the array: {e}");
    }
    if let Some(v) = &s.vcd {
        println!("VCD written to {v}");
    }
    println!(
        "{}: {} of {} seeds verified against the interpreter",
        if s.all_matched { "OK" } else { "FAILED" },
        s.runs.iter().filter(|r| r.verification.matched).count(),
        s.seeds.len()
    );
}

pub fn run(a: SimArgs) -> anyhow::Result<Outcome> {
    a.inputs.refuse_plain_seed()?;
    // A mapping file may come from anywhere (edited by hand, another tool): the independent
    // checker sees it before the simulator does, and a refused mapping is never simulated.
    let (mapping, violations) = super::check::load_and_check(&a.mapping, None)?;
    if !violations.is_empty() {
        if a.json {
            print_json(&serde_json::json!({
                "mapping": a.mapping.display().to_string(),
                "checker": "refused",
                "violations": violations,
                "all_matched": false,
            }))?;
        } else {
            super::check::print_violations(&a.mapping, &violations);
            println!(
                "Not simulated: fix the mapping, or map the kernel again with `tessera map -o`."
            );
        }
        return Ok(Outcome::CheckFailed);
    }
    let sim = Simulator::new(&mapping).map_err(bad_input)?;
    let seeds = a.inputs.list();
    let summary = simulate_seeds(&sim, &seeds, a.vcd.as_deref())?;
    if a.json {
        print_json(&summary)?;
    } else {
        print_summary(&summary);
    }
    Ok(if summary.all_matched {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
