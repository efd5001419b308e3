//! `tessera demo`: a short tour on bundled defaults.

use super::Outcome;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Seed for every random choice (printed and recorded).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    println!("tessera demo (seed {})", args.seed);
    Ok(Outcome::Ok)
}
