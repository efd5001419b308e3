//! `tessera kernel check|show|dot|run`.

use super::Outcome;

#[derive(clap::Subcommand)]
pub enum KernelCmd {}

pub fn run(cmd: KernelCmd) -> anyhow::Result<Outcome> {
    match cmd {}
}
