//! Open documents: what each file is (recognised by its kind and `format_version`), loaded
//! through the owning library crate, with the indices the views need precomputed once.

use crate::layout::DfgLayout;
use petgraph::graph::EdgeIndex;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use tessera_accel::model::{NetworkReport, REPORT_FORMAT_VERSION as ACCEL_REPORT_VERSION};
use tessera_arch::cgra::PeId;
use tessera_dram::REPORT_FORMAT_VERSION as DRAM_REPORT_VERSION;
use tessera_dram::disturb::{HammerReport, LabelledReport};
use tessera_dram::nist::NistReport;
use tessera_dram::puf::PufReport;
use tessera_dram::trng::TrngReport;
use tessera_flow::compare::{COMPARE_FORMAT_VERSION, CompareReport};
use tessera_ir::Kernel;
use tessera_map::mii::MiiReport;
use tessera_map::{Loc, Mapping};
use tessera_sim::{CycleRecord, SIM_REPORT_FORMAT_VERSION, SimReport};
use tessera_study::config::LoadedConfig;
use tessera_study::report::RunSummary;
use tessera_study::run::{Manifest, Record};

/// A document's identity, stable while it is open (selections refer to it).
pub type DocId = u64;

/// An open document.
pub struct Document {
    pub id: DocId,
    pub path: PathBuf,
    pub title: String,
    pub kind: DocKind,
}

/// What a document holds.
pub enum DocKind {
    Mapping(Box<MappingDoc>),
    Kernel(Box<KernelDoc>),
    Search(Box<SearchDoc>),
    Compare(Box<CompareReport>),
    SimReport(Box<SimReport>),
    /// A `tessera dram hammer|trng|puf|nist --json` report.
    Dram(Box<DramDoc>),
    /// A `tessera accel run --json` report.
    Accel(Box<NetworkReport>),
}

/// The DRAM / Processing-in-DRAM reports the GUI draws, as `tessera dram ... --json`
/// writes them (the types of `tessera-dram`).
// Held boxed (`DocKind::Dram(Box<DramDoc>)`): the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum DramDoc {
    /// `tessera dram hammer --json`: one attack.
    Hammer(HammerReport),
    /// `tessera dram hammer --json` with a `compare` list: the variants side by side.
    HammerCompare(Vec<LabelledReport>),
    /// `tessera dram trng --json`, with its NIST battery when the config asks for it.
    Trng {
        trng: TrngReport,
        nist: Option<NistReport>,
    },
    /// `tessera dram puf --json`.
    Puf(PufReport),
    /// `tessera dram nist --json`, with the `input` the CLI adds (file, format, bits).
    Nist {
        report: NistReport,
        input: Option<serde_json::Value>,
    },
}

impl DramDoc {
    pub fn label(&self) -> &'static str {
        match self {
            DramDoc::Hammer(_) => "hammer report",
            DramDoc::HammerCompare(_) => "hammer comparison",
            DramDoc::Trng { .. } => "TRNG report",
            DramDoc::Puf(_) => "PUF report",
            DramDoc::Nist { .. } => "NIST report",
        }
    }
}

impl DocKind {
    pub fn label(&self) -> &'static str {
        match self {
            DocKind::Mapping(_) => "mapping",
            DocKind::Kernel(_) => "kernel",
            DocKind::Search(_) => "search run",
            DocKind::Compare(_) => "compare report",
            DocKind::SimReport(_) => "simulation report",
            DocKind::Dram(d) => d.label(),
            DocKind::Accel(_) => "accelerator report",
        }
    }
}

/// Why a file could not be opened, for the window.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenError {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.starts_with(&self.file) {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

fn err(path: &Path, message: impl Into<String>) -> OpenError {
    OpenError {
        file: path.display().to_string(),
        message: message.into(),
    }
}

/// A loaded file, before it gets an id.
pub struct Loaded {
    pub title: String,
    pub kind: DocKind,
}

/// Recognise `path` by kind and version and load it. Never panics on bad input.
pub fn open_path(path: &Path) -> Result<Loaded, OpenError> {
    if path.is_dir() {
        if path.join("manifest.json").exists() || path.join("results.jsonl").exists() {
            return open_search(path);
        }
        return Err(err(
            path,
            "a folder, but not a search run folder (no manifest.json or results.jsonl); open a file in it instead",
        ));
    }
    if !path.exists() {
        return Err(err(path, "no such file or folder"));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A run folder's own files open the folder.
    if matches!(
        name.as_str(),
        "results.jsonl" | "manifest.json" | "summary.json" | "front.csv"
    ) && let Some(dir) = path.parent()
        && dir.join("manifest.json").exists()
    {
        return open_search(dir);
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "tk" | "xml" | "dot" | "gv" => open_kernel(path),
        "json" => open_json(path),
        _ => Err(err(
            path,
            format!(
                "unrecognised file kind `.{ext}`: Tessera opens mapping.json, kernels (.tk, .xml, .dot, .gv, .json), `tessera sim|compare|accel run|dram ... --json` output, and search run folders"
            ),
        )),
    }
}

fn open_kernel(path: &Path) -> Result<Loaded, OpenError> {
    let kernel = tessera_ir::load::load_kernel(path, &[]).map_err(|e| err(path, e.to_string()))?;
    Ok(Loaded {
        title: format!("{} (kernel)", kernel.name),
        kind: DocKind::Kernel(Box::new(KernelDoc::new(kernel, path.to_path_buf()))),
    })
}

fn version_error(path: &Path, what: &str, found: &serde_json::Value, expected: u32) -> OpenError {
    if found.is_null() {
        return err(
            path,
            format!(
                "{what} without a format_version (written by an older Tessera); this Tessera reads version {expected}: run the command again"
            ),
        );
    }
    err(
        path,
        format!("{what} format version {found}, this Tessera reads version {expected}"),
    )
}

/// Check `version` and parse `value` as a `T`, naming the file on failure.
fn typed<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
    value: serde_json::Value,
    version: &serde_json::Value,
    expected: u32,
) -> Result<T, OpenError> {
    if version.as_u64() != Some(expected as u64) {
        return Err(version_error(path, what, version, expected));
    }
    serde_json::from_value(value).map_err(|e| err(path, format!("not a valid {what}: {e}")))
}

fn open_json(path: &Path) -> Result<Loaded, OpenError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    let file = path.display().to_string();
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        err(
            path,
            format!("{file}:{}:{}: not JSON: {e}", e.line(), e.column()),
        )
    })?;
    let has = |k: &str| value.get(k).is_some();
    let version = value.get("format_version").cloned().unwrap_or_default();
    if has("placements") && has("routes") && has("ii") {
        let mapping = Mapping::from_json(&text, &file).map_err(|e| err(path, e.to_string()))?;
        check_mapping_shape(&mapping).map_err(|e| err(path, e))?;
        // The independent checker, as `tessera sim` and `tessera check` run it: a mapping
        // it refuses is not shown as if it were valid.
        if let Err(violations) = tessera_map::check::check(&mapping) {
            let listed: Vec<String> = violations.iter().take(5).map(|v| v.to_string()).collect();
            let more = violations.len().saturating_sub(listed.len());
            return Err(err(
                path,
                format!(
                    "{file}: the checker refuses this mapping ({} violation{}): {}{}",
                    violations.len(),
                    if violations.len() == 1 { "" } else { "s" },
                    listed.join("; "),
                    if more > 0 {
                        format!("; and {more} more (tessera check lists them all)")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        let title = format!(
            "{} on {} (II {})",
            mapping.kernel.name, mapping.arch.name, mapping.ii
        );
        return Ok(Loaded {
            title,
            kind: DocKind::Mapping(Box::new(MappingDoc::new(mapping, None))),
        });
    }
    if has("verification") && has("total_cycles") && has("pe_utilisation") {
        if version.as_u64() != Some(SIM_REPORT_FORMAT_VERSION as u64) {
            return Err(version_error(
                path,
                "simulation report",
                &version,
                SIM_REPORT_FORMAT_VERSION,
            ));
        }
        let r: SimReport = serde_json::from_str(&text).map_err(|e| {
            err(
                path,
                format!(
                    "{file}:{}:{}: not a simulation report: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        return Ok(Loaded {
            title: format!(
                "{} on {} (simulation, input seed {})",
                r.kernel,
                r.arch,
                r.seed.map(|s| s.to_string()).unwrap_or_else(|| "-".into())
            ),
            kind: DocKind::SimReport(Box::new(r)),
        });
    }
    if has("archs") && has("kernels") && has("geomeans") {
        if version.as_u64() != Some(COMPARE_FORMAT_VERSION as u64) {
            return Err(version_error(
                path,
                "compare report",
                &version,
                COMPARE_FORMAT_VERSION,
            ));
        }
        let r: CompareReport = serde_json::from_str(&text).map_err(|e| {
            err(
                path,
                format!(
                    "{file}:{}:{}: not a compare report: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        return Ok(Loaded {
            title: format!(
                "compare ({} kernels x {} archs)",
                r.kernels.len(),
                r.archs.len()
            ),
            kind: DocKind::Compare(Box::new(r)),
        });
    }
    if has("graph") && has("trip_count") {
        return open_kernel(path);
    }
    if let Some(kind) = open_dram(path, &value)? {
        let title = match &kind {
            DramDoc::Hammer(r) => format!(
                "hammer {:?}, victim row {} ({} flips)",
                r.pattern, r.victim_row, r.flips_total
            ),
            DramDoc::HammerCompare(runs) => format!("hammer comparison ({} runs)", runs.len()),
            DramDoc::Trng { trng, .. } => {
                format!("TRNG {:?} ({} bitlines)", trng.source, trng.bitlines)
            }
            DramDoc::Puf(r) => format!("PUF {:?} ({} chips)", r.mechanism, r.chips),
            DramDoc::Nist { report, .. } => format!(
                "NIST battery ({} sequence(s) of {} bits)",
                report.sequences, report.sequence_bits
            ),
        };
        return Ok(Loaded {
            title,
            kind: DocKind::Dram(Box::new(kind)),
        });
    }
    if has("peak_macs_per_cycle") && has("layers") && has("ridge_macs_per_byte") {
        let r: NetworkReport = typed(
            path,
            "accelerator report",
            value,
            &version,
            ACCEL_REPORT_VERSION,
        )?;
        return Ok(Loaded {
            title: format!("{} on {} (accelerator)", r.network, r.arch),
            kind: DocKind::Accel(Box::new(r)),
        });
    }
    Err(err(
        path,
        "JSON, but not a Tessera file this GUI reads (a mapping, kernel, `tessera sim|compare|accel run|dram ... --json` output)",
    ))
}

/// Recognise the `tessera dram` reports by their fields (and, inside, their
/// `format_version`). `Ok(None)`: not a DRAM report.
fn open_dram(path: &Path, value: &serde_json::Value) -> Result<Option<DramDoc>, OpenError> {
    let has = |k: &str| value.get(k).is_some();
    let version_of = |v: &serde_json::Value| v.get("format_version").cloned().unwrap_or_default();
    let v = DRAM_REPORT_VERSION;
    if has("victim_row") && has("hc_first_cdf") {
        let r = typed(path, "hammer report", value.clone(), &version_of(value), v)?;
        return Ok(Some(DramDoc::Hammer(r)));
    }
    if let Some(runs) = value.get("runs").and_then(|r| r.as_array())
        && runs.first().is_some_and(|r| {
            r.get("report")
                .is_some_and(|r| r.get("victim_row").is_some())
        })
    {
        let version = version_of(&runs[0]["report"]);
        let runs: Vec<LabelledReport> = typed(
            path,
            "hammer comparison",
            value["runs"].clone(),
            &version,
            v,
        )?;
        if let Some(r) = runs
            .iter()
            .find(|r| r.report.format_version != runs[0].report.format_version)
        {
            return Err(err(
                path,
                format!("run `{}` has another format version", r.label),
            ));
        }
        return Ok(Some(DramDoc::HammerCompare(runs)));
    }
    if let Some(t) = value.get("trng").filter(|t| t.is_object()) {
        let trng: TrngReport = typed(path, "TRNG report", t.clone(), &version_of(t), v)?;
        let nist = match value.get("nist").filter(|n| !n.is_null()) {
            Some(n) => Some(typed(path, "NIST report", n.clone(), &version_of(n), v)?),
            None => None,
        };
        return Ok(Some(DramDoc::Trng { trng, nist }));
    }
    if has("signature_bits") && has("inter_fhd") {
        let r = typed(path, "PUF report", value.clone(), &version_of(value), v)?;
        return Ok(Some(DramDoc::Puf(r)));
    }
    if has("tests") && has("rule_text") && has("min_entropy_mcv_per_bit") {
        let report = typed(path, "NIST report", value.clone(), &version_of(value), v)?;
        return Ok(Some(DramDoc::Nist {
            report,
            input: value.get("input").cloned(),
        }));
    }
    Ok(None)
}

/// What the views index by without checking: a validated architecture, one placement per
/// node, PEs and register numbers inside the array. (Whether the mapping is *correct* is
/// the checker's business; this only keeps a hand-edited file from crashing the window.)
pub fn check_mapping_shape(m: &Mapping) -> Result<(), String> {
    use tessera_arch::Spec;
    m.arch
        .validate()
        .map_err(|p| format!("the embedded architecture is invalid: {}", p.join("; ")))?;
    let n = m.kernel.node_count();
    if m.placements.len() != n {
        return Err(format!(
            "{} placements for a kernel of {n} nodes",
            m.placements.len()
        ));
    }
    let pes = m.arch.pe_count();
    let bad_pe = |pe: PeId| (pe as usize) >= pes;
    if let Some(v) = m.placements.iter().position(|p| p.pe.is_some_and(bad_pe)) {
        return Err(format!(
            "node {v} is placed on a PE outside the {pes}-PE array"
        ));
    }
    for r in &m.routes {
        for s in &r.segments {
            if bad_pe(s.from.pe()) || bad_pe(s.to.pe()) || s.path.iter().any(|&p| bad_pe(p)) {
                return Err(format!(
                    "the route of edge {} leaves the {pes}-PE array",
                    r.edge
                ));
            }
        }
    }
    if m.ii == 0 {
        return Err("II 0".into());
    }
    Ok(())
}

/// A mapping with what the views need.
pub struct MappingDoc {
    pub mapping: Mapping,
    /// The MII breakdown (`map --explain`), recomputed from the embedded kernel and spec.
    pub mii: Result<MiiReport, String>,
    pub layout: DfgLayout,
    pub index: ScheduleIndex,
    /// The latest simulation of this mapping run from the GUI (or given with it).
    pub sim: Option<SimReport>,
    /// That simulation cycle by cycle (the first [`REPLAY_CYCLES`]), for the replay.
    pub cycles: Vec<CycleRecord>,
}

/// Schedule cycles kept for the replay (a run longer than this replays its beginning).
pub const REPLAY_CYCLES: usize = 200_000;

/// Simulate a mapping on an input seed, verify it against the interpreter, and record its
/// cycles for the replay (both through `tessera-sim`).
pub fn simulate_with_cycles(
    m: &Mapping,
    seed: u64,
) -> Result<(SimReport, Vec<CycleRecord>), String> {
    let sim = tessera_sim::Simulator::new(m).map_err(|e| e.to_string())?;
    let (report, _) = sim.simulate_seed(seed, false).map_err(|e| e.to_string())?;
    let inputs = tessera_ir::interp::random_inputs(&m.kernel, seed);
    let (_, cycles) = sim
        .run_cycles(&inputs, REPLAY_CYCLES)
        .map_err(|e| e.to_string())?;
    Ok((report, cycles))
}

impl MappingDoc {
    pub fn new(mapping: Mapping, sim: Option<SimReport>) -> Self {
        let mii =
            tessera_map::mii::analyze(&mapping.kernel, &mapping.arch).map_err(|e| e.to_string());
        let layout = DfgLayout::new(&mapping.kernel);
        let index = ScheduleIndex::new(&mapping);
        Self {
            mapping,
            mii,
            layout,
            index,
            sim,
            cycles: Vec::new(),
        }
    }
}

/// A kernel on its own (its DFG; map it from the Run view).
pub struct KernelDoc {
    pub kernel: Kernel,
    pub file: PathBuf,
    pub layout: DfgLayout,
}

impl KernelDoc {
    pub fn new(kernel: Kernel, file: PathBuf) -> Self {
        let layout = DfgLayout::new(&kernel);
        Self {
            kernel,
            file,
            layout,
        }
    }
}

/// One hop drawn in a slot: a value moving from one PE to another (or into a register).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hop {
    pub from: PeId,
    pub to: PeId,
    /// Index into `Mapping::routes`.
    pub route: u32,
    pub kind: HopKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopKind {
    /// Along a link (registered or multi-hop in one cycle).
    Link,
    /// A combinational COMPOSE hop (value taken in the producer's cycle).
    Comb,
    /// Written into register `reg` of `to` (no movement when `from == to`).
    Reg(u16),
}

/// A COMPOSE chain: ops that execute in one cycle across PEs (one virtual PE).
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub nodes: Vec<u32>,
    pub pes: Vec<PeId>,
    pub slot: u32,
    /// Latest end of an op of the chain plus setup, in ps, against the clock period.
    pub used_ps: u32,
    pub period_ps: u32,
}

/// Per-slot and per-PE lookups of a mapping, built once when it opens.
pub struct ScheduleIndex {
    pub ii: u32,
    pub pes: usize,
    /// `cells[slot * pes + pe]`: the node whose op issues on `pe` in `slot`.
    pub cells: Vec<Option<u32>>,
    /// Hops per slot.
    pub hops: Vec<Vec<Hop>>,
    /// Routes touching each node (as producer or consumer), indices into `routes`.
    pub node_routes: Vec<Vec<u32>>,
    /// Nodes placed on each PE, by slot.
    pub pe_nodes: Vec<Vec<u32>>,
    /// Whether each PE is wired to a memory bank.
    pub memory_pe: Vec<bool>,
    pub chains: Vec<Chain>,
    /// `chain_of[node]`: its chain, an index into `chains`.
    pub chain_of: Vec<Option<u32>>,
    /// Register writes per slot: (pe, reg, node producing the value).
    pub reg_writes: Vec<Vec<(PeId, u16, u32)>>,
}

impl ScheduleIndex {
    pub fn new(m: &Mapping) -> Self {
        let ii = m.ii.max(1);
        let pes = m.arch.pe_count();
        let n = m.kernel.node_count();
        let mut cells = vec![None; ii as usize * pes];
        let mut pe_nodes = vec![Vec::new(); pes];
        for (v, p) in m.placements.iter().enumerate() {
            if let Some(pe) = p.pe
                && (pe as usize) < pes
            {
                let slot = (p.cycle % ii) as usize;
                cells[slot * pes + pe as usize].get_or_insert(v as u32);
                pe_nodes[pe as usize].push(v as u32);
            }
        }
        for list in &mut pe_nodes {
            list.sort_by_key(|&v| (m.placements[v as usize].cycle % ii, v));
        }
        let mut hops = vec![Vec::new(); ii as usize];
        let mut reg_writes = vec![Vec::new(); ii as usize];
        let mut node_routes = vec![Vec::new(); n];
        for (ri, r) in m.routes.iter().enumerate() {
            let Some((src, dst)) = m
                .kernel
                .graph
                .edge_endpoints(EdgeIndex::new(r.edge as usize))
            else {
                continue;
            };
            let (src, dst) = (src.index(), dst.index());
            if src < n {
                node_routes[src].push(ri as u32);
            }
            if dst < n && dst != src {
                node_routes[dst].push(ri as u32);
            }
            for s in &r.segments {
                let slot = (s.cycle % ii) as usize;
                let mut at = s.from.pe();
                let comb = matches!(s.from, Loc::Comb { .. });
                for &next in &s.path {
                    hops[slot].push(Hop {
                        from: at,
                        to: next,
                        route: ri as u32,
                        kind: if comb { HopKind::Comb } else { HopKind::Link },
                    });
                    at = next;
                }
                if let Loc::Reg { pe, reg } = s.to {
                    hops[slot].push(Hop {
                        from: at,
                        to: pe,
                        route: ri as u32,
                        kind: HopKind::Reg(reg),
                    });
                    reg_writes[slot].push((pe, reg, src as u32));
                }
            }
        }
        // Chains: the checker's groups of chained nodes (one definition in tessera-map).
        let mut chains = Vec::new();
        let mut chain_of = vec![None; n];
        let period = m.arch.timing.clock_period_ps;
        for nodes in tessera_map::check::compose_chains(m) {
            let mut pes_of: Vec<PeId> = nodes
                .iter()
                .filter_map(|&v| m.placements.get(v as usize).and_then(|p| p.pe))
                .collect();
            pes_of.dedup();
            let used = nodes
                .iter()
                .filter_map(|&v| {
                    let p = m.placements.get(v as usize)?;
                    let delay = m
                        .arch
                        .op_cost(
                            m.kernel.graph[petgraph::graph::NodeIndex::new(v as usize)]
                                .op
                                .class(),
                        )
                        .map(|c| c.delay_ps)
                        .unwrap_or(0);
                    Some(p.start_ps + delay)
                })
                .max()
                .unwrap_or(0)
                + m.arch.timing.setup_ps;
            let slot = m
                .placements
                .get(nodes[0] as usize)
                .map(|p| p.cycle % ii)
                .unwrap_or(0);
            for &v in &nodes {
                chain_of[v as usize] = Some(chains.len() as u32);
            }
            chains.push(Chain {
                nodes,
                pes: pes_of,
                slot,
                used_ps: used,
                period_ps: period,
            });
        }
        let memory_pe = (0..pes)
            .map(|pe| !m.arch.banks_of(pe as PeId).is_empty())
            .collect();
        Self {
            ii,
            pes,
            cells,
            hops,
            node_routes,
            pe_nodes,
            memory_pe,
            chains,
            chain_of,
            reg_writes,
        }
    }

    pub fn cell(&self, slot: u32, pe: PeId) -> Option<u32> {
        self.cells
            .get(slot as usize * self.pes + pe as usize)
            .copied()
            .flatten()
    }
}

/// A short description of node `v`: mnemonic, id and label.
pub fn node_desc(k: &Kernel, v: u32) -> String {
    let Some(node) = k
        .graph
        .node_weight(petgraph::graph::NodeIndex::new(v as usize))
    else {
        return format!("n{v}");
    };
    let mut s = format!("n{v} {}", node.op.mnemonic());
    if let Some(imm) = node.imm {
        s += &format!(" #{imm}");
    }
    if !node.label.is_empty() {
        s += &format!(" ({})", node.label);
    }
    s
}

/// A co-search run folder, growing while the search runs.
pub struct SearchDoc {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub config: Result<LoadedConfig, String>,
    pub summary: Option<RunSummary>,
    pub records: Vec<Record>,
    /// Minimised objectives per record (row-major, `objectives` per row; +inf when not scored).
    pub points: Vec<f64>,
    pub violation: Vec<f64>,
    /// Hypervolume after each evaluation.
    pub hv: Vec<f64>,
    hv_trace: Option<tessera_search::HypervolumeTrace>,
    /// Ids on the current Pareto front (feasible-first, as `tessera_search::pareto_front`).
    pub front: Vec<u64>,
    pub front_feasible: bool,
    /// Bytes of `results.jsonl` read so far (whole lines only).
    pub read_bytes: u64,
    /// Every metric name seen, for the axis pickers.
    pub metrics: Vec<String>,
    /// Problem met while refreshing (shown in the view; reading goes on).
    pub refresh_error: Option<String>,
}

fn open_search(dir: &Path) -> Result<Loaded, OpenError> {
    let doc = SearchDoc::open(dir)?;
    Ok(Loaded {
        title: format!("search {} ({})", doc.manifest.name, dir.display()),
        kind: DocKind::Search(Box::new(doc)),
    })
}

impl SearchDoc {
    pub fn open(dir: &Path) -> Result<SearchDoc, OpenError> {
        let manifest_path = dir.join("manifest.json");
        let manifest = tessera_study::run::read_manifest(&manifest_path)
            .map_err(|e| err(&manifest_path, e.to_string()))?;
        let config = LoadedConfig::from_str(
            &tessera_arch::spec_io::to_ron(&manifest.config),
            &manifest_path.display().to_string(),
        )
        .map_err(|e| e.to_string());
        let summary_path = dir.join("summary.json");
        let summary = std::fs::read_to_string(&summary_path)
            .ok()
            .and_then(|t| serde_json::from_str::<RunSummary>(&t).ok());
        let hv_trace = config
            .as_ref()
            .ok()
            .and_then(|c| tessera_search::HypervolumeTrace::new(&c.minimised_reference()).ok());
        let mut doc = SearchDoc {
            dir: dir.to_path_buf(),
            manifest,
            config,
            summary,
            records: Vec::new(),
            points: Vec::new(),
            violation: Vec::new(),
            hv: Vec::new(),
            hv_trace,
            front: Vec::new(),
            front_feasible: false,
            read_bytes: 0,
            metrics: Vec::new(),
            refresh_error: None,
        };
        doc.refresh()
            .map_err(|e| err(&dir.join("results.jsonl"), e))?;
        Ok(doc)
    }

    pub fn objective_names(&self) -> Vec<String> {
        self.manifest
            .config
            .objectives
            .iter()
            .map(|o| o.metric.clone())
            .collect()
    }

    /// Read the lines appended to `results.jsonl` since the last call (only the new
    /// bytes; a last line still being written is left for the next call). Returns how many
    /// records were added.
    pub fn refresh(&mut self) -> Result<usize, String> {
        let path = self.dir.join("results.jsonl");
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("cannot read: {e}")),
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.read_bytes {
            return Err(format!(
                "results.jsonl shrank from {} to {len} bytes (the run was restarted?); reopen the folder",
                self.read_bytes
            ));
        }
        if len == self.read_bytes {
            return Ok(0);
        }
        f.seek(SeekFrom::Start(self.read_bytes))
            .map_err(|e| format!("cannot read: {e}"))?;
        let mut buf = Vec::with_capacity((len - self.read_bytes) as usize);
        f.take(len - self.read_bytes)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read: {e}"))?;
        let Some(last_nl) = buf.iter().rposition(|&b| b == b'\n') else {
            return Ok(0);
        };
        let complete = &buf[..=last_nl];
        let first_new = self.records.len();
        let mut added = 0;
        let mut line_no = self.records.len();
        for line in complete.split(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            line_no += 1;
            let rec: Record = serde_json::from_slice(line).map_err(|e| {
                format!(
                    "{}:{line_no}:{}: not a result record: {e}",
                    path.display(),
                    e.column()
                )
            })?;
            self.push(rec);
            added += 1;
        }
        self.read_bytes += complete.len() as u64;
        if added > 0 {
            self.update_front(first_new);
        }
        Ok(added)
    }

    fn push(&mut self, r: Record) {
        let m = self.manifest.config.objectives.len();
        let (p, v) = match &self.config {
            Ok(cfg) => tessera_study::run::minimised_point(cfg, &r),
            Err(_) => (vec![f64::INFINITY; m], f64::INFINITY),
        };
        let hv = match &mut self.hv_trace {
            Some(t) if p.len() == m && p.iter().all(|x| x.is_finite()) => {
                t.push(&p, v).unwrap_or(f64::NAN)
            }
            _ => self.hv.last().copied().unwrap_or(0.0),
        };
        self.hv.push(hv);
        self.points.extend(p.iter().take(m));
        for _ in p.len()..m {
            self.points.push(f64::INFINITY);
        }
        self.violation.push(v);
        for k in r.metrics.keys() {
            if !self.metrics.contains(k) {
                self.metrics.push(k.clone());
            }
        }
        self.records.push(r);
    }

    /// The front after records `first_new..` arrived: the front of the old front plus the
    /// new records (dominance is transitive, so nothing dropped earlier can return), so a
    /// live refresh costs the size of the front, not of the whole run.
    fn update_front(&mut self, first_new: usize) {
        let m = self.manifest.config.objectives.len().max(1);
        let mut rows: Vec<usize> = if first_new == 0 {
            Vec::new()
        } else {
            self.front
                .iter()
                .filter_map(|&id| self.position(id))
                .collect()
        };
        rows.extend(first_new..self.records.len());
        let (front, feasible) = if first_new == 0 {
            let f = tessera_search::pareto_front(&self.points, &self.violation, m);
            (f.indices, f.feasible)
        } else {
            let mut pts = Vec::with_capacity(rows.len() * m);
            let mut vio = Vec::with_capacity(rows.len());
            for &i in &rows {
                pts.extend_from_slice(&self.points[i * m..(i + 1) * m]);
                vio.push(self.violation[i]);
            }
            let f = tessera_search::pareto_front(&pts, &vio, m);
            (f.indices.iter().map(|&k| rows[k]).collect(), f.feasible)
        };
        let mut ids: Vec<u64> = front.iter().map(|&i| self.records[i].id).collect();
        ids.sort_unstable();
        self.front = ids;
        self.front_feasible = feasible;
    }

    pub fn record(&self, id: u64) -> Option<&Record> {
        self.position(id).map(|i| &self.records[i])
    }

    /// Where record `id` sits in `records`.
    fn position(&self, id: u64) -> Option<usize> {
        // Ids are dense from 0 in file order (`read_results` checks the same).
        match self.records.get(id as usize) {
            Some(r) if r.id == id => Some(id as usize),
            _ => self.records.iter().position(|r| r.id == id),
        }
    }
}

/// What a co-search design is on the accelerator: its spec, its network and the per-layer
/// report (as `tessera accel run` gives for the design's emitted files).
pub struct DesignDetails {
    pub spec: tessera_arch::accel::AccelSpec,
    pub network: tessera_accel::Network,
    pub report: NetworkReport,
    /// The emitted files' names (what `tessera search emit` would write).
    pub files: Vec<String>,
}

/// Whether a search's evaluator scores designs on the accelerator model (so a design has
/// layers, a spec and a roofline).
pub fn has_accelerator(cfg: &LoadedConfig) -> bool {
    use tessera_study::config::EvaluatorSpec as E;
    matches!(
        cfg.config.evaluator,
        E::Accel { .. } | E::DigitsAccel { .. } | E::Nas201Accel { .. }
    )
}

/// The design's spec, network and per-layer report, through the library: the run's
/// evaluator (`tessera_study::evaluate::build`) emits the design's `accel.ron` and
/// `network.ron` (as `tessera search emit` does; a joint digits search retrains the network,
/// deterministically), which load as the CLI loads them and are scored by
/// `tessera_accel::Accelerator::report`.
pub fn design_details(
    cfg: &LoadedConfig,
    run_dir: &Path,
    record: &tessera_study::run::Record,
) -> Result<DesignDetails, String> {
    use tessera_arch::Spec;
    if !has_accelerator(cfg) {
        return Err(format!(
            "design {}: the evaluator of this search does not use the accelerator model",
            record.id
        ));
    }
    let evaluator =
        tessera_study::evaluate::build(cfg, run_dir).map_err(|e| format!("evaluator: {e}"))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = std::env::temp_dir().join(format!(
        "tessera-gui-design-{}-{}-{stamp}",
        std::process::id(),
        record.id
    ));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let result = (|| {
        let d = tessera_study::evaluate::DesignRef {
            id: record.id,
            genes: &record.genes,
            values: &record.design,
        };
        let files = evaluator.emit(&d, &tmp)?;
        let spec_path = tmp.join("accel.ron");
        let spec = tessera_arch::accel::AccelSpec::load(&spec_path.display().to_string())
            .map_err(|e| e.to_string())?;
        let network = tessera_accel::networks::load(&tmp.join("network.ron").display().to_string())
            .map_err(|e| e.to_string())?;
        let report = tessera_accel::Accelerator::new(&spec).report(&spec, &network);
        Ok(DesignDetails {
            spec,
            network,
            report,
            files,
        })
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result.map_err(|e: String| format!("design {}: {e}", record.id))
}
