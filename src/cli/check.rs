//! `tessera check`: run the independent mapping checker (`tessera_map::check`) on a mapping
//! file, e.g. one edited by hand or written by another tool. Exit 0 when it is valid, 1
//! with every violation when it is not, 2 when the file (or `--arch`) cannot be read.

use super::{Outcome, bad_input, print_json};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_map::Mapping;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Mapping file (`mapping.json`, as written by `tessera map -o`).
    pub mapping: PathBuf,
    /// Check the mapping on this CGRA spec (a RON file, a preset name or an inline
    /// override) instead of the spec embedded in the file.
    #[arg(long)]
    pub arch: Option<String>,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `tessera check --json` prints.
#[derive(Serialize)]
struct CheckReport {
    mapping: String,
    kernel: String,
    arch: String,
    ii: u32,
    valid: bool,
    violations: Vec<String>,
}

/// Load a mapping file (optionally re-targeted to `arch`) and run the checker on it.
/// `Err` for bad input; `Ok((mapping, violations))` otherwise.
pub fn load_and_check(path: &Path, arch: Option<&str>) -> anyhow::Result<(Mapping, Vec<String>)> {
    let mut m = Mapping::load(path).map_err(bad_input)?;
    if let Some(spec) = arch {
        m.arch = CgraSpec::load(spec).map_err(bad_input)?;
    }
    let violations = match tessera_map::check::check(&m) {
        Ok(()) => Vec::new(),
        Err(v) => v.iter().map(|x| x.to_string()).collect(),
    };
    Ok((m, violations))
}

/// The checker's verdict for people: one line per violation.
pub fn print_violations(file: &Path, violations: &[String]) {
    println!(
        "{}: the checker refuses this mapping ({} violation{}):",
        file.display(),
        violations.len(),
        if violations.len() == 1 { "" } else { "s" }
    );
    for v in violations {
        println!("  {v}");
    }
}

pub fn run(a: CheckArgs) -> anyhow::Result<Outcome> {
    let (m, violations) = load_and_check(&a.mapping, a.arch.as_deref())?;
    if a.json {
        print_json(&CheckReport {
            mapping: a.mapping.display().to_string(),
            kernel: m.kernel.name.clone(),
            arch: m.arch.name.clone(),
            ii: m.ii,
            valid: violations.is_empty(),
            violations: violations.clone(),
        })?;
    } else if violations.is_empty() {
        println!(
            "{}: valid ({} on {} at II {}, {} nodes, {} routes)",
            a.mapping.display(),
            m.kernel.name,
            m.arch.name,
            m.ii,
            m.kernel.node_count(),
            m.routes.len()
        );
    } else {
        print_violations(&a.mapping, &violations);
    }
    Ok(if violations.is_empty() {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
