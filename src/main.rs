//! The `tessera` command-line tool: orchestrates the library crates and reports to people.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;

/// Tessera: hardware simulation and accelerator co-design.
#[derive(Parser)]
#[command(name = "tessera", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Loop kernels: check, show, export DOT, run on the reference interpreter.
    #[command(subcommand)]
    Kernel(cli::kernel::KernelCmd),
    /// Architecture specs: show or validate a spec file or preset.
    #[command(subcommand)]
    Arch(cli::arch::ArchCmd),
    /// DRAM model and Processing-in-DRAM security primitives.
    #[command(subcommand)]
    Dram(cli::dram::DramCmd),
    /// Accelerator templates (systolic / spatial arrays) for DNN layers.
    #[command(subcommand)]
    Accel(cli::accel::AccelCmd),
    /// Map a loop kernel onto a CGRA: MII breakdown, II reached, reservation table, mapping.json.
    Map(cli::map::MapArgs),
    /// Map every kernel of one or more folders on one CGRA and summarise II, MII and times.
    Suite(cli::suite::SuiteArgs),
    /// Run kernels on several CGRA configurations: II, cycles, energy, EDP, area and ratios.
    Compare(cli::compare::CompareArgs),
    /// Simulate a mapping cycle by cycle on seeded inputs and verify it against the interpreter.
    Sim(cli::sim::SimArgs),
    /// Check a mapping file with the independent checker (exit 0 valid, 1 invalid, 2 bad input).
    Check(cli::check::CheckArgs),
    /// Map, check and simulate a kernel in one go (map + sim).
    Run(cli::run::RunArgs),
    /// Run a short tour on bundled defaults.
    Demo(cli::demo::DemoArgs),
    /// Candidate networks: train on real data, quantise (down to ternary), verify on the
    /// systolic simulator, lower to accelerator layers.
    #[command(subcommand)]
    Nn(cli::nn::NnCmd),
    /// Run a co-search from a RON config: parallel, resumable, sharded; Pareto front,
    /// hypervolume and plots in the output folder.
    Search(cli::search::SearchArgs),
    /// Join the folders of a sharded search (`search --shard K/N`) into one.
    Merge(cli::search::MergeArgs),
}

fn main() -> ExitCode {
    // A closed stdout (`tessera kernel show K | head`) ends the process like other Unix
    // tools do, instead of a panic on the failed write.
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Kernel(c) => cli::kernel::run(c),
        Command::Arch(c) => cli::arch::run(c),
        Command::Dram(c) => cli::dram::run(c),
        Command::Accel(c) => cli::accel::run(c),
        Command::Map(a) => cli::map::run(a),
        Command::Suite(a) => cli::suite::run(a),
        Command::Compare(a) => cli::compare::run(a),
        Command::Sim(a) => cli::sim::run(a),
        Command::Check(a) => cli::check::run(a),
        Command::Run(a) => cli::run::run(a),
        Command::Demo(a) => cli::demo::run(a),
        Command::Nn(c) => cli::nn::run(c),
        Command::Search(a) => cli::search::run_search(a),
        Command::Merge(a) => cli::search::run_merge(a),
    };
    cli::finish(result)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every subcommand, positional argument and flag a user can see has help text.
    #[test]
    fn every_argument_and_subcommand_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let builtin = matches!(a.get_id().as_str(), "help" | "version");
                if !a.is_hide_set() && !builtin && a.get_help().is_none() {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                let p = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{p} (subcommand)"));
                }
                walk(sub, &p, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "tessera", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
