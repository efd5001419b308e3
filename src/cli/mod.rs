//! Subcommands. Each returns an [`Outcome`]; errors are classified into exit codes:
//! 0 ok, 1 a check failed (e.g. a simulation mismatch), 2 bad input.

use std::process::ExitCode;

pub mod accel;
pub mod arch;
pub mod compare;
pub mod demo;
pub mod dram;
pub mod kernel;
pub mod map;
pub mod run;
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
            eprintln!("error: {e:#}");
            if e.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Print a serializable report as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
