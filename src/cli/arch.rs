//! `tessera arch show|validate`: print or check an architecture spec (file or preset).

use super::{Outcome, bad_input, print_json};
use clap::ValueEnum;
use tessera_arch::Spec;
use tessera_arch::accel::AccelSpec;
use tessera_arch::cgra::CgraSpec;
use tessera_arch::dram::DramSpec;

#[derive(clap::Subcommand)]
pub enum ArchCmd {
    /// Print a spec (presets and overrides resolved) as RON, or JSON with --json.
    Show(ArchArgs),
    /// Check a spec: parse it, apply overrides and run every consistency check.
    Validate(ArchArgs),
    /// List the bundled presets of every spec kind.
    List {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct ArchArgs {
    /// A RON spec file, or the name of a bundled preset.
    pub spec: String,
    /// Spec kind; guessed from the file or preset name when omitted.
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Spec kinds `arch` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cgra,
    Dram,
    Accel,
}

fn guess_kind(spec: &str) -> anyhow::Result<Kind> {
    let by_preset = |name: &str| {
        if CgraSpec::preset_names().contains(&name) {
            Some(Kind::Cgra)
        } else if DramSpec::preset_names().contains(&name) {
            Some(Kind::Dram)
        } else if AccelSpec::preset_names().contains(&name) {
            Some(Kind::Accel)
        } else {
            None
        }
    };
    if let Some(k) = by_preset(spec) {
        return Ok(k);
    }
    let path = std::path::Path::new(spec);
    if spec.trim_start().starts_with('(') {
        if let Some(k) = preset_named_in(spec).and_then(|n| by_preset(&n)) {
            return Ok(k);
        }
    } else if !path.exists() {
        return Err(bad_input(format!(
            "{spec}: no such file, and not a preset name (presets: {}, {}, {})",
            CgraSpec::preset_names().join(", "),
            DramSpec::preset_names().join(", "),
            AccelSpec::preset_names().join(", ")
        )));
    }
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| bad_input(format!("{spec}: {e}")))?;
        for (needle, kind) in [
            ("CgraSpec", Kind::Cgra),
            ("DramSpec", Kind::Dram),
            ("AccelSpec", Kind::Accel),
        ] {
            if text.contains(needle) {
                return Ok(kind);
            }
        }
        if let Some(k) = preset_named_in(&text).and_then(|n| by_preset(&n)) {
            return Ok(k);
        }
    }
    Err(bad_input(format!(
        "{spec}: cannot tell which kind of spec this is (not a preset name, and the file names no \
         CgraSpec/DramSpec/AccelSpec or known preset); pass --kind cgra|dram|accel"
    )))
}

fn preset_named_in(text: &str) -> Option<String> {
    let at = text.find("preset")?;
    let rest = &text[at..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].to_string())
}

#[derive(serde::Serialize)]
struct ValidateReport {
    spec: String,
    kind: Kind,
    valid: bool,
    summary: String,
}

pub fn run(cmd: ArchCmd) -> anyhow::Result<Outcome> {
    match cmd {
        ArchCmd::List { json } => {
            let cgra = CgraSpec::preset_names();
            let dram = DramSpec::preset_names();
            let accel = AccelSpec::preset_names();
            if json {
                print_json(&serde_json::json!({ "cgra": cgra, "dram": dram, "accel": accel }))?;
            } else {
                println!("cgra:  {}", cgra.join(", "));
                println!("dram:  {}", dram.join(", "));
                println!("accel: {}", accel.join(", "));
            }
            Ok(Outcome::Ok)
        }
        ArchCmd::Show(a) => {
            let kind = match a.kind {
                Some(k) => k,
                None => guess_kind(&a.spec)?,
            };
            match kind {
                Kind::Cgra => show(&CgraSpec::load(&a.spec).map_err(bad_input)?, a.json)?,
                Kind::Dram => show(&DramSpec::load(&a.spec).map_err(bad_input)?, a.json)?,
                Kind::Accel => show(&AccelSpec::load(&a.spec).map_err(bad_input)?, a.json)?,
            }
            Ok(Outcome::Ok)
        }
        ArchCmd::Validate(a) => {
            let kind = match a.kind {
                Some(k) => k,
                None => guess_kind(&a.spec)?,
            };
            let summary = match kind {
                Kind::Cgra => {
                    let s = CgraSpec::load(&a.spec).map_err(bad_input)?;
                    let mem_pes = (0..s.pe_count() as u16)
                        .filter(|p| !s.banks_of(*p).is_empty())
                        .count();
                    format!(
                        "{}: {}x{} CGRA, {} memory PEs, {} banks, {:?} interconnect ({} hop(s)/cycle), RF {}, clock {} ps, composition {}, area {:.3} mm2",
                        s.name,
                        s.rows,
                        s.cols,
                        mem_pes,
                        s.memory.banks.len(),
                        s.interconnect.topology,
                        s.interconnect.max_hops_per_cycle,
                        s.rf_size,
                        s.timing.clock_period_ps,
                        if s.compose.enabled { "on" } else { "off" },
                        s.total_area_um2() / 1e6
                    )
                }
                Kind::Dram => {
                    let s = DramSpec::load(&a.spec).map_err(bad_input)?;
                    format!(
                        "{}: {:?} DRAM spec, {} MT/s",
                        s.name, s.standard, s.rate_mts
                    )
                }
                Kind::Accel => {
                    let s = AccelSpec::load(&a.spec).map_err(bad_input)?;
                    format!(
                        "{}: {}x{} {:?} systolic array at {} MHz",
                        s.name, s.rows, s.cols, s.dataflow, s.clock_mhz
                    )
                }
            };
            if a.json {
                print_json(&ValidateReport {
                    spec: a.spec.clone(),
                    kind,
                    valid: true,
                    summary,
                })?;
            } else {
                println!("ok: {summary}");
            }
            Ok(Outcome::Ok)
        }
    }
}

fn show<T: serde::Serialize>(spec: &T, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(spec)
    } else {
        println!("{}", tessera_arch::spec_io::to_ron(spec));
        Ok(())
    }
}
