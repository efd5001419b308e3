//! `tessera map`: MII analysis, mapping at the lowest II reached, the independent check,
//! and the views of the result (MII breakdown, modulo reservation table, DOT, mapping.json).

use super::{Outcome, bad_input, print_json};
use serde::Serialize;
use std::path::PathBuf;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::{Kernel, Slot};
use tessera_map::Mapping;
use tessera_map::driver::{self, MapOptions};
use tessera_map::error::MapError;
use tessera_map::mii::{self, MiiReport};

#[derive(clap::Args)]
pub struct MapArgs {
    /// Kernel file: .tk, Morpher .xml, CGRA-ME .dot, or a serialized .json kernel.
    pub kernel: PathBuf,
    /// CGRA spec: a RON file or a bundled preset name (e.g. hycube-4x4).
    #[arg(long)]
    pub arch: String,
    /// Map at exactly this II instead of searching up from the MII.
    #[arg(long)]
    pub ii: Option<u32>,
    /// Highest II to try (default: the array's max_ii).
    #[arg(long)]
    pub max_ii: Option<u32>,
    /// Use the exact MILP mapper: proves each II below the one reached infeasible, or says
    /// it stopped without proof.
    #[arg(long)]
    pub exact: bool,
    /// Do not copy read-only arrays into extra banks (the heuristic mapper replicates a
    /// read-only array when bank capacity allows; the exact mode never does).
    #[arg(long = "no-replicate")]
    pub no_replicate: bool,
    /// Seed of every random choice of the heuristic mapper (printed and recorded).
    #[arg(long = "map-seed", default_value_t = super::DEFAULT_SEED)]
    pub map_seed: u64,
    /// Refused: say which seed (`--map-seed`).
    #[arg(long = "seed", hide = true)]
    pub ambiguous_seed: Option<u64>,
    /// Wall-time budget in seconds (default 10 for the heuristic, 60 for --exact).
    #[arg(long = "time-limit")]
    pub time_limit_s: Option<f64>,
    /// Write the mapping (versioned JSON) to this file.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Print the full MII breakdown (every resource bound, recurrences).
    #[arg(long)]
    pub explain: bool,
    /// Write the mapped DFG as Graphviz DOT (PE and cycle on every node).
    #[arg(long)]
    pub dot: Option<PathBuf>,
    /// Override a kernel-language parameter, e.g. `--param n=64` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = super::kernel::parse_param)]
    pub params: Vec<(String, i64)>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `tessera map --json` prints.
#[derive(Serialize)]
struct MapReport<'a> {
    kernel: &'a str,
    file: String,
    arch: &'a str,
    map_seed: u64,
    nodes: usize,
    mii: &'a MiiReport,
    mapper: &'static str,
    mapped: bool,
    ii: Option<u32>,
    /// Why each lower II failed (exact mode: "proved infeasible" or "stopped without proof").
    failed_iis: Vec<(u32, String)>,
    /// Exact mode: whether the II reached is proved minimal.
    proved_minimal: Option<bool>,
    time_ms: f64,
    checker: &'static str,
    error: Option<String>,
    output: Option<String>,
    schedule_length: Option<u32>,
    reservation_table: Option<Vec<Vec<String>>>,
}

pub fn run(a: MapArgs) -> anyhow::Result<Outcome> {
    super::refuse_plain_seed(a.ambiguous_seed)?;
    let kernel = tessera_ir::load::load_kernel(&a.kernel, &a.params).map_err(bad_input)?;
    let arch = CgraSpec::load(&a.arch).map_err(bad_input)?;
    if a.ii == Some(0) {
        return Err(bad_input("--ii must be at least 1"));
    }
    super::refuse_ii_above_depth(&arch, a.max_ii, a.ii)?;
    let file = a.kernel.display().to_string();
    // The exact mode maps without replication, so its MII must not assume it either.
    let replicate = !a.no_replicate && !a.exact;
    let report = match mii::analyze_with(&kernel, &arch, replicate) {
        Ok(r) => r,
        Err(e) => {
            if a.json {
                print_json(&serde_json::json!({
                    "kernel": kernel.name, "file": file, "arch": arch.name,
                    "nodes": kernel.node_count(), "mapped": false, "error": e.to_string(),
                }))?;
            } else {
                println!("{} on {}: cannot map: {e}", kernel.name, arch.name);
            }
            return Ok(Outcome::CheckFailed);
        }
    };
    let spin = super::spinner(format!(
        "mapping {} on {} ({})",
        kernel.name,
        arch.name,
        if a.exact { "exact MILP" } else { "heuristic" }
    ));
    let result = if a.exact {
        map_exact_search(&kernel, &arch, &report, &a)
    } else {
        let opts = MapOptions {
            seed: a.map_seed,
            max_ii: a.max_ii,
            fixed_ii: a.ii,
            time_limit_s: a.time_limit_s.unwrap_or(10.0),
            replicate,
            ..MapOptions::default()
        };
        // COMPOSE with memory ops of unknown bank: chained or not is decided by simulated
        // cycles on input seed 1 (`map_kernel_judged`).
        let judge = |m: &tessera_map::Mapping| tessera_sim::judged_cycles(m, 1);
        match driver::map_kernel_judged(
            &kernel,
            &arch,
            &opts,
            Some(driver::Judge {
                seed: 1,
                cycles: &judge,
            }),
        ) {
            Ok(o) => Ok(Found {
                mapping: o.mapping,
                failed_iis: o.failed_iis,
                time_ms: o.time_ms,
                proved_minimal: None,
            }),
            Err(e) => Err(e),
        }
    };
    spin.finish_and_clear();
    let mapper = if a.exact { "exact-milp" } else { "heuristic" };
    match result {
        Ok(found) => {
            // The driver and the exact search already checked; check again here so the CLI
            // never writes a mapping the checker has not seen.
            if let Err(v) = tessera_map::check::check(&found.mapping) {
                let msg: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                anyhow::bail!(
                    "internal error: the checker rejected the mapping:\n  {}",
                    msg.join("\n  ")
                );
            }
            let m = &found.mapping;
            if let Some(out) = &a.output {
                m.save(out).map_err(bad_input)?;
            }
            if let Some(dot) = &a.dot {
                super::write_output(dot, mapping_dot(m))?;
            }
            if a.json {
                print_json(&MapReport {
                    kernel: &kernel.name,
                    file,
                    arch: &arch.name,
                    map_seed: a.map_seed,
                    nodes: kernel.node_count(),
                    mii: &report,
                    mapper,
                    mapped: true,
                    ii: Some(m.ii),
                    failed_iis: found.failed_iis.clone(),
                    proved_minimal: found.proved_minimal,
                    time_ms: found.time_ms,
                    checker: "passed",
                    error: None,
                    output: a.output.as_ref().map(|p| p.display().to_string()),
                    schedule_length: Some(m.schedule_length()),
                    reservation_table: Some(reservation_rows(m)),
                })?;
            } else {
                print_header(&kernel, &arch, &report, a.explain, a.map_seed);
                println!(
                    "II reached: {} (MII {}), {} mapper, {:.1} ms, schedule length {} cycles, checker: passed",
                    m.ii,
                    report.mii,
                    mapper,
                    found.time_ms,
                    m.schedule_length()
                );
                if let Some(p) = found.proved_minimal {
                    println!(
                        "{}",
                        if p {
                            "Minimality: proved (every lower II from the MII is infeasible)"
                        } else {
                            "Minimality: not proved (a lower II timed out without proof)"
                        }
                    );
                }
                print_failed(&found.failed_iis);
                println!("\nModulo reservation table (PE x slot; nX:op@cycle):");
                print!("{}", reservation_table(m));
                if let Some(out) = &a.output {
                    println!("\nMapping written to {}", out.display());
                }
                if let Some(dot) = &a.dot {
                    println!("DOT written to {}", dot.display());
                }
            }
            Ok(Outcome::Ok)
        }
        Err(e) => {
            let reasons = match &e {
                MapError::Infeasible { reasons, .. } => reasons.clone(),
                _ => Vec::new(),
            };
            if a.json {
                print_json(&MapReport {
                    kernel: &kernel.name,
                    file,
                    arch: &arch.name,
                    map_seed: a.map_seed,
                    nodes: kernel.node_count(),
                    mii: &report,
                    mapper,
                    mapped: false,
                    ii: None,
                    failed_iis: reasons,
                    proved_minimal: None,
                    time_ms: 0.0,
                    checker: "not run",
                    error: Some(e.to_string()),
                    output: None,
                    schedule_length: None,
                    reservation_table: None,
                })?;
            } else {
                print_header(&kernel, &arch, &report, a.explain, a.map_seed);
                println!("No mapping found.");
                print_failed(&reasons);
                if reasons.is_empty() {
                    println!("  {e}");
                }
            }
            Ok(Outcome::CheckFailed)
        }
    }
}

/// A mapping found by either mapper.
struct Found {
    mapping: Mapping,
    failed_iis: Vec<(u32, String)>,
    time_ms: f64,
    proved_minimal: Option<bool>,
}

/// Exact mode: II = MII, MII + 1, ... (or only `--ii`) with the MILP until one maps
/// (`tessera_flow::exact::map_exact_search`, the same search the GUI runs).
fn map_exact_search(
    kernel: &Kernel,
    arch: &CgraSpec,
    report: &MiiReport,
    a: &MapArgs,
) -> Result<Found, MapError> {
    let o = tessera_flow::exact::ExactSearch {
        map_seed: a.map_seed,
        time_limit_s: a.time_limit_s.unwrap_or(60.0),
        max_ii: a.max_ii,
        ii: a.ii,
    };
    let f = tessera_flow::exact::map_exact_search(kernel, arch, report.mii, &o)?;
    Ok(Found {
        mapping: f.mapping,
        failed_iis: f.failed_iis,
        time_ms: f.time_ms,
        proved_minimal: f.proved_minimal,
    })
}

fn print_header(kernel: &Kernel, arch: &CgraSpec, r: &MiiReport, explain: bool, map_seed: u64) {
    println!(
        "{} ({} nodes) on {} ({}x{}, {} memory PEs), mapper seed {map_seed}",
        kernel.name,
        kernel.node_count(),
        arch.name,
        arch.rows,
        arch.cols,
        (0..arch.pe_count() as u16)
            .filter(|p| !arch.banks_of(*p).is_empty())
            .count()
    );
    if explain {
        print!("{}", r.explain(kernel));
    } else {
        let binding = r
            .per_class
            .iter()
            .filter(|l| l.mii == r.res_mii)
            .map(|l| format!("{} {}/{}", l.resource, l.ops, l.units))
            .next()
            .unwrap_or_default();
        println!(
            "MII = {} (ResMII {}{}; RecMII {} [baseline {}, timing-aware {}]{})",
            r.mii,
            r.res_mii,
            if binding.is_empty() {
                String::new()
            } else {
                format!(": {binding}")
            },
            r.rec_mii,
            r.rec_mii_baseline,
            r.rec_mii_timed,
            r.critical
                .as_ref()
                .map(|c| format!(
                    ": {} ops, latency {} / distance {}",
                    c.nodes.len(),
                    c.latency_cycles,
                    c.distance
                ))
                .unwrap_or_default()
        );
    }
}

fn print_failed(failed: &[(u32, String)]) {
    if !failed.is_empty() {
        println!("Lower IIs that failed:");
        for (ii, why) in failed {
            println!("  II {ii}: {why}");
        }
    }
}

/// Rows of the modulo reservation table: one per PE, one cell per slot.
fn reservation_rows(m: &Mapping) -> Vec<Vec<String>> {
    let ii = m.ii.max(1) as usize;
    let mut rows = vec![vec![String::new(); ii]; m.arch.pe_count()];
    for (i, p) in m.placements.iter().enumerate() {
        if let Some(pe) = p.pe {
            let op = m.kernel.graph[petgraph_node(i)].op.mnemonic();
            let cell = &mut rows[pe as usize][p.cycle as usize % ii];
            if !cell.is_empty() {
                cell.push('+');
            }
            cell.push_str(&format!("n{i}:{op}@{}", p.cycle));
        }
    }
    rows
}

fn petgraph_node(i: usize) -> tessera_ir::NodeId {
    tessera_ir::NodeId::new(i)
}

/// ASCII modulo reservation table plus a line per PE of values it holds in registers.
pub fn reservation_table(m: &Mapping) -> String {
    let rows = reservation_rows(m);
    let ii = m.ii.max(1) as usize;
    let width = rows
        .iter()
        .flatten()
        .map(|c| c.len())
        .max()
        .unwrap_or(1)
        .max(5);
    let mut s = format!("{:<9}", "PE");
    for slot in 0..ii {
        s.push_str(&format!(" | {:<width$}", format!("slot {slot}")));
    }
    s.push('\n');
    s.push_str(&"-".repeat(9 + ii * (width + 3)));
    s.push('\n');
    for (pe, row) in rows.iter().enumerate() {
        let (r, c) = m.arch.pe_pos(pe as u16);
        let mem = if m.arch.banks_of(pe as u16).is_empty() {
            ' '
        } else {
            'M'
        };
        s.push_str(&format!("{:<9}", format!("{pe:>2} ({r},{c}){mem}")));
        for cell in row {
            s.push_str(&format!(
                " | {:<width$}",
                if cell.is_empty() { "." } else { cell }
            ));
        }
        s.push('\n');
    }
    let used: usize = rows.iter().flatten().filter(|c| !c.is_empty()).count();
    s.push_str(&format!(
        "FU utilisation: {used}/{} slots ({:.0}%); M = memory PE\n",
        rows.len() * ii,
        100.0 * used as f64 / (rows.len() * ii).max(1) as f64
    ));
    s
}

/// The mapped DFG in DOT: nodes labelled with op, PE (row, col) and cycle; edges with
/// distance and the route's hops and cycles.
pub fn mapping_dot(m: &Mapping) -> String {
    let k = &m.kernel;
    let mut s = format!(
        "digraph \"{}\" {{\n  label=\"{} on {} at II {}\";\n  node [shape=box, fontname=\"monospace\"];\n",
        esc(&k.name),
        esc(&k.name),
        esc(&m.arch.name),
        m.ii
    );
    for (id, node) in k.nodes() {
        let i = id.index();
        let p = m.placements[i];
        match p.pe {
            Some(pe) => {
                let (r, c) = m.arch.pe_pos(pe);
                s.push_str(&format!(
                    "  n{i} [label=\"n{i} {}\\nPE {pe} ({r},{c}) @{}\\nslot {}\"];\n",
                    esc(&node.op.mnemonic()),
                    p.cycle,
                    p.cycle % m.ii.max(1)
                ));
            }
            None => s.push_str(&format!(
                "  n{i} [label=\"n{i} {}{}\\nimmediate\", style=dashed];\n",
                esc(&node.op.mnemonic()),
                node.imm.map(|v| format!(" {v}")).unwrap_or_default()
            )),
        }
    }
    for e in k.graph.edge_indices() {
        let w = &k.graph[e];
        let (src, dst) = k.graph.edge_endpoints(e).expect("edge exists");
        let route = m.routes.iter().find(|r| r.edge as usize == e.index());
        let mut label = Vec::new();
        if w.distance > 0 {
            label.push(format!("d={}", w.distance));
        }
        if let Some(r) = route {
            let hops: usize = r.segments.iter().map(|s| s.hops()).sum();
            let first = r.segments.first().map_or(0, |s| s.cycle);
            let last = r.segments.last().map_or(0, |s| s.cycle);
            label.push(format!("{hops} hops, c{first}..{last}"));
        }
        let style = match w.slot {
            Slot::Order => ", style=dotted",
            Slot::Pred { .. } => ", color=blue",
            Slot::Data(_) => "",
        };
        s.push_str(&format!(
            "  n{} -> n{} [label=\"{}\"{style}];\n",
            src.index(),
            dst.index(),
            label.join(", ")
        ));
    }
    s.push_str("}\n");
    s
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
