//! `tessera arch show|validate`.

use super::Outcome;

#[derive(clap::Subcommand)]
pub enum ArchCmd {}

pub fn run(cmd: ArchCmd) -> anyhow::Result<Outcome> {
    match cmd {}
}
