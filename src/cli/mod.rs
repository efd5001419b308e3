//! Subcommands. Each returns an [`Outcome`]; errors are classified into exit codes:
//! 0 ok, 1 a check failed (e.g. a simulation mismatch), 2 bad input.

use std::process::ExitCode;

pub mod accel;
pub mod arch;
pub mod check;
pub mod compare;
pub mod demo;
pub mod dram;
pub mod kernel;
pub mod map;
pub mod nn;
pub mod run;
pub mod search;
pub mod sim;
pub mod suite;

/// What a subcommand concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked out.
    Ok,
    /// The command ran but a check it performs failed (exit code 1).
    CheckFailed,
}

/// An error caused by the user's input (file, spec, arguments): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Wrap any displayable input error as [`BadInput`].
pub fn bad_input(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(BadInput(e.to_string()))
}

/// Print the error (if any) and turn the result into an exit code.
pub fn finish(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(e) => {
            stop_spinner();
            eprintln!("error: {e:#}");
            if e.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Turn a flow error into the CLI's error, bad input (exit 2) when the user's input caused it.
pub fn flow_error(e: tessera_flow::FlowError) -> anyhow::Error {
    if e.is_bad_input() {
        bad_input(e)
    } else {
        anyhow::Error::new(e)
    }
}

/// The default of both seeds, in every command.
pub const DEFAULT_SEED: u64 = 1;

/// The two seeds of a command that maps and simulates: one name each, the same in every
/// command (`--map-seed` for the mapper's random choices, `--input-seed` for the random
/// simulation inputs).
#[derive(clap::Args, Debug, Clone)]
pub struct Seeds {
    /// Seed of the mapper's random choices (printed and recorded in every report).
    #[arg(long = "map-seed", default_value_t = DEFAULT_SEED)]
    pub map_seed: u64,
    /// Seed of the random simulation inputs (printed and recorded in every report).
    #[arg(long = "input-seed", default_value_t = DEFAULT_SEED)]
    pub input_seed: u64,
    /// Refused: say which seed, `--map-seed` or `--input-seed`.
    #[arg(long = "seed", hide = true)]
    pub ambiguous_seed: Option<u64>,
}

impl Seeds {
    /// `--seed` meant different seeds in different commands before; it is refused with a
    /// message that names the two flags.
    pub fn refuse_plain_seed(&self) -> anyhow::Result<()> {
        refuse_plain_seed(self.ambiguous_seed)
    }
}

/// Refuse the old, ambiguous `--seed`.
pub fn refuse_plain_seed(given: Option<u64>) -> anyhow::Result<()> {
    match given {
        Some(s) => Err(bad_input(format!(
            "--seed {s} is ambiguous: use --map-seed {s} for the mapper's random choices or --input-seed {s} for the simulation inputs"
        ))),
        None => Ok(()),
    }
}

/// Refuse `--max-ii`/`--ii` above the array's configuration depth (exit 2) instead of
/// capping them: the message says which spec override raises the depth.
pub fn refuse_ii_above_depth(
    arch: &tessera_arch::cgra::CgraSpec,
    max_ii: Option<u32>,
    ii: Option<u32>,
) -> anyhow::Result<()> {
    let flag = match (max_ii, ii) {
        (_, Some(i)) if i > arch.max_ii => format!("--ii {i}"),
        (Some(m), _) => format!("--max-ii {m}"),
        _ => String::new(),
    };
    tessera_map::driver::check_ii_options(arch, max_ii, ii)
        .map_err(|e| bad_input(format!("{flag}: {e}")))
}

/// A progress bar on standard error, hidden when it is not a terminal (indicatif's
/// default), with an elapsed time, a count and the current task.
pub fn progress_bar(what: &str) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {{msg}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// A spinner on standard error with a message and the elapsed time, ticking on its own,
/// hidden when standard error is not a terminal. `finish_and_clear` it when done.
pub fn spinner(message: String) -> indicatif::ProgressBar {
    let sp =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    sp.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    sp.set_message(message);
    sp.enable_steady_tick(std::time::Duration::from_millis(120));
    sp
}

static ACTIVE_SPINNER: std::sync::Mutex<Option<indicatif::ProgressBar>> =
    std::sync::Mutex::new(None);

/// Show a spinner until the first line of the report is printed ([`stop_spinner`]), for
/// commands whose work happens inside one library call.
pub fn start_spinner(message: String) {
    let sp = spinner(message);
    if let Ok(mut g) = ACTIVE_SPINNER.lock() {
        *g = Some(sp);
    }
}

/// Clear the spinner of [`start_spinner`], if one is showing.
pub fn stop_spinner() {
    if let Ok(mut g) = ACTIVE_SPINNER.lock()
        && let Some(sp) = g.take()
    {
        sp.finish_and_clear();
    }
}

/// Draw a flow's progress event on a bar.
pub fn show_progress(bar: &indicatif::ProgressBar, e: &tessera_flow::ProgressEvent<'_>) {
    if bar.length() != Some(e.total) {
        bar.set_length(e.total);
    }
    bar.set_position(e.done);
    bar.set_message(e.message.to_string());
}

/// Write an output file the user named, creating its folder when needed; a failure is bad
/// input (exit 2) that says "cannot write".
pub fn write_output(path: &std::path::Path, text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let fail = |e: std::io::Error| bad_input(format!("{}: cannot write: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

/// Print a serializable report as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    stop_spinner();
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
