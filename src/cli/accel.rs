//! `tessera accel` (being built; see its issue).

use super::Outcome;

#[derive(clap::Subcommand)]
pub enum AccelCmd {}

pub fn run(cmd: AccelCmd) -> anyhow::Result<Outcome> {
    match cmd {}
}
