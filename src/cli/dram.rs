//! `tessera dram` (being built; see its issue).

use super::Outcome;

#[derive(clap::Subcommand)]
pub enum DramCmd {}

pub fn run(cmd: DramCmd) -> anyhow::Result<Outcome> {
    match cmd {}
}
