//! `tessera accel run|layers|check|list`: DNN layers on systolic-array accelerator templates.

use super::{Outcome, bad_input, print_json};
use std::fmt::Write as _;
use tessera_accel::model::{Accelerator, Bound, LayerPerf, NetworkReport};
use tessera_accel::systolic_sim::{reference_gemm, simulate_gemm};
use tessera_accel::{Network, networks};
use tessera_arch::Spec;
use tessera_arch::accel::{AccelSpec, Dataflow};

#[derive(clap::Subcommand)]
pub enum AccelCmd {
    /// Evaluate a network on a design: per-layer table, totals and roofline position.
    ///
    /// Exit code 1 when the design cannot run some layer (the reason is reported).
    Run(RunArgs),
    /// List a network's layers with their GEMM shapes, MACs and weights.
    Layers(LayersArgs),
    /// Check the analytical cycle model against a cycle-stepped simulation of the array
    /// (values flowing PE to PE) on small GEMMs, for every dataflow.
    Check(CheckArgs),
    /// List the built-in networks and accelerator presets.
    List(ListArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Network: a `.ron` layer list, a SCALE-Sim topology `.csv`, or a built-in name
    /// (resnet50, mobilenet_v2, bert_base).
    pub network: String,
    /// Accelerator spec: a `.ron` file or a preset name.
    #[arg(long)]
    pub arch: String,
    /// Override one field of a preset, by dotted path (repeatable), e.g.
    /// `--set rows=32 --set dataflow=OutputStationary --set ifmap_sram.size_kb=128`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Override the network's batch size.
    #[arg(long)]
    pub batch: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the per-layer results as CSV to this file (`-` for standard output).
    #[arg(long, value_name = "PATH")]
    pub csv: Option<String>,
}

#[derive(clap::Args)]
pub struct LayersArgs {
    /// Network: a `.ron` layer list, a SCALE-Sim `.csv`, or a built-in name.
    pub network: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Largest M, N and K tried (every combination up to it, on 1x1, 2x3, 3x2 and 4x4 arrays).
    #[arg(long, default_value_t = 6)]
    pub max_dim: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: AccelCmd) -> anyhow::Result<Outcome> {
    match cmd {
        AccelCmd::Run(a) => run_network(a),
        AccelCmd::Layers(a) => layers(a),
        AccelCmd::Check(a) => check(a),
        AccelCmd::List(a) => list(a),
    }
}

fn load_network(name: &str, batch: Option<u32>) -> anyhow::Result<Network> {
    let mut net = networks::load(name).map_err(bad_input)?;
    if let Some(b) = batch {
        net.batch = b;
        net.check(name).map_err(bad_input)?;
    }
    Ok(net)
}

/// Load `--arch`, applying `--set` overrides through the spec loader's preset mechanism.
fn load_spec(arch: &str, set: &[String]) -> anyhow::Result<AccelSpec> {
    if set.is_empty() {
        return AccelSpec::load(arch).map_err(bad_input);
    }
    if !AccelSpec::preset_names().contains(&arch) {
        return Err(bad_input(format!(
            "--set needs --arch to be a preset name ({}); in a spec file, use              (preset: \"...\", set: {{...}}) instead",
            AccelSpec::preset_names().join(", ")
        )));
    }
    let mut pairs = Vec::new();
    for item in set {
        let Some((path, value)) = item.split_once('=') else {
            return Err(bad_input(format!("--set `{item}`: expected PATH=VALUE")));
        };
        let (path, value) = (path.trim(), value.trim());
        let literal = if value.parse::<f64>().is_ok() || value == "true" || value == "false" {
            value.to_string()
        } else {
            format!("{value:?}")
        };
        pairs.push(format!("{path:?}: {literal}"));
    }
    let text = format!("(preset: {arch:?}, set: {{{}}})", pairs.join(", "));
    let mut spec =
        tessera_arch::spec_io::load_str::<AccelSpec>(&text, "--set").map_err(bad_input)?;
    spec.name = format!("{arch} [{}]", set.join(", "));
    Ok(spec)
}

fn run_network(a: RunArgs) -> anyhow::Result<Outcome> {
    let spec = load_spec(&a.arch, &a.set)?;
    let net = load_network(&a.network, a.batch)?;
    let report = Accelerator::new(&spec).report(&spec, &net);
    if let Some(path) = &a.csv {
        let text = csv(&report);
        if path == "-" {
            print!("{text}");
        } else {
            super::write_output(std::path::Path::new(path), text)?;
        }
    }
    if a.json {
        print_json(&report)?;
    } else if a.csv.as_deref() != Some("-") {
        print!("{}", table(&report, &spec));
    }
    Ok(if report.feasible {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

fn si(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2}G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

fn bound(b: Bound) -> &'static str {
    match b {
        Bound::Compute => "compute",
        Bound::Memory => "memory",
    }
}

fn table(r: &NetworkReport, spec: &AccelSpec) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} (batch {}) on {}: {}x{} {}{}, {} weights, {} activations, {} MHz, DRAM {} B/cycle",
        r.network,
        r.batch,
        r.arch,
        r.rows,
        r.cols,
        r.dataflow.short().to_uppercase(),
        if spec.stationary_double_buffered && spec.dataflow != Dataflow::OutputStationary {
            " (double-buffered stationary tiles)"
        } else {
            ""
        },
        spec.weight_precision.label(),
        spec.activation_precision.label(),
        r.clock_mhz,
        r.dram_bandwidth_bytes_per_cycle
    );
    let _ = writeln!(
        s,
        "{:<22} {:<7} {:>18} {:>8} {:>7} {:>10} {:>9} {:>6} {:>9} {:>9} {:>8}",
        "layer",
        "kind",
        "GEMM MxNxK",
        "groups",
        "folds",
        "compute",
        "stall",
        "util%",
        "DRAM",
        "energy uJ",
        "bound"
    );
    for l in &r.layers {
        match (&l.perf, &l.infeasible) {
            (Some(p), _) => {
                let _ = writeln!(
                    s,
                    "{:<22} {:<7} {:>18} {:>8} {:>7} {:>10} {:>9} {:>6.1} {:>8}B {:>9.2} {:>8}",
                    l.name,
                    l.kind,
                    format!("{}x{}x{}", p.gemm_m, p.gemm_n, p.gemm_k),
                    p.groups,
                    p.folds,
                    p.compute_cycles,
                    p.stall_cycles,
                    100.0 * p.utilisation,
                    si(p.dram_bytes),
                    p.energy.total_pj / 1e6,
                    bound(p.roofline.bound)
                );
            }
            (None, why) => {
                let _ = writeln!(
                    s,
                    "{:<22} {:<7} INFEASIBLE: {}",
                    l.name,
                    l.kind,
                    why.as_deref().unwrap_or("?")
                );
            }
        }
    }
    match (&r.totals, &r.infeasible) {
        (Some(t), _) => {
            let e = &t.energy;
            let _ = writeln!(
                s,
                "\ntotal: {} layers, {} MACs, {} cycles ({} compute + {} stall), {:.3} ms, {:.1} inferences/s",
                t.layers,
                si(t.macs as f64),
                t.total_cycles,
                t.compute_cycles,
                t.stall_cycles,
                t.latency_ns / 1e6,
                f64::from(r.batch) * 1e9 / t.latency_ns
            );
            let _ = writeln!(
                s,
                "utilisation {:.1} %; DRAM {:.2} MB (ifmap {:.2}, filter {:.2}, ofmap {:.2})",
                100.0 * t.utilisation,
                t.dram_bytes / 1e6,
                (t.ifmap.dram_read_bytes + t.ifmap.dram_write_bytes) / 1e6,
                (t.filter.dram_read_bytes + t.filter.dram_write_bytes) / 1e6,
                (t.ofmap.dram_read_bytes + t.ofmap.dram_write_bytes) / 1e6
            );
            let _ = writeln!(
                s,
                "energy {:.3} mJ: MAC {:.1} %, SRAM {:.1} %, DRAM {:.1} %, leakage {:.1} %; EDP {:.3e} pJ*ns",
                e.total_pj / 1e9,
                100.0 * e.mac_pj / e.total_pj,
                100.0 * e.sram_pj / e.total_pj,
                100.0 * e.dram_pj / e.total_pj,
                100.0 * e.leakage_pj / e.total_pj,
                t.edp_pj_ns
            );
            let _ = writeln!(
                s,
                "roofline: intensity {:.1} MACs/B (ridge {:.1}), attainable {:.1} MACs/cycle, achieved {:.1} of peak {:.0}: {}-bound",
                t.roofline.intensity_macs_per_byte,
                r.ridge_macs_per_byte,
                t.roofline.attainable_macs_per_cycle,
                t.roofline.achieved_macs_per_cycle,
                r.peak_macs_per_cycle,
                bound(t.roofline.bound)
            );
        }
        (None, why) => {
            let _ = writeln!(
                s,
                "\nINFEASIBLE design: {}",
                why.as_deref().unwrap_or("a layer cannot run")
            );
        }
    }
    let _ = writeln!(
        s,
        "area {:.2} mm^2 (PE array {:.2}, SRAM {:.2}; {:.0} um^2 per PE)",
        r.area.total_mm2, r.area.pe_array_mm2, r.area.sram_mm2, r.area.pe_um2
    );
    s
}

const CSV_HEADER: &str = "layer,kind,m,n,k,groups,macs,row_folds,col_folds,folds,compute_cycles,stall_cycles,total_cycles,utilisation,mapping_efficiency,ifmap_sram_reads,ifmap_sram_writes,ifmap_dram_read_bytes,filter_sram_reads,filter_sram_writes,filter_dram_read_bytes,ofmap_sram_reads,ofmap_sram_writes,ofmap_dram_read_bytes,ofmap_dram_write_bytes,dram_bytes,mac_pj,sram_pj,dram_pj,leakage_pj,energy_pj,latency_ns,intensity_macs_per_byte,bound,infeasible";

fn csv_row(name: &str, kind: &str, p: &LayerPerf) -> String {
    format!(
        "{name},{kind},{},{},{},{},{},{},{},{},{},{},{},{:.6},{:.6},{},{},{},{},{},{},{},{},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.4},{},",
        p.gemm_m,
        p.gemm_n,
        p.gemm_k,
        p.groups,
        p.macs,
        p.row_folds,
        p.col_folds,
        p.folds,
        p.compute_cycles,
        p.stall_cycles,
        p.total_cycles,
        p.utilisation,
        p.mapping_efficiency,
        p.ifmap.sram_reads,
        p.ifmap.sram_writes,
        p.ifmap.dram_read_bytes,
        p.filter.sram_reads,
        p.filter.sram_writes,
        p.filter.dram_read_bytes,
        p.ofmap.sram_reads,
        p.ofmap.sram_writes,
        p.ofmap.dram_read_bytes,
        p.ofmap.dram_write_bytes,
        p.dram_bytes,
        p.energy.mac_pj,
        p.energy.sram_pj,
        p.energy.dram_pj,
        p.energy.leakage_pj,
        p.energy.total_pj,
        p.latency_ns,
        p.roofline.intensity_macs_per_byte,
        bound(p.roofline.bound)
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(r: &NetworkReport) -> String {
    let mut s = String::from(CSV_HEADER);
    s.push('\n');
    for l in &r.layers {
        let name = csv_field(&l.name);
        match &l.perf {
            Some(p) => s.push_str(&csv_row(&name, &l.kind, p)),
            None => {
                s.push_str(&format!("{name},{}", l.kind));
                s.push_str(&",".repeat(CSV_HEADER.matches(',').count() - 1));
                s.push_str(&csv_field(l.infeasible.as_deref().unwrap_or("")));
            }
        }
        s.push('\n');
    }
    s
}

#[derive(serde::Serialize)]
struct LayerRow {
    name: String,
    kind: String,
    m: u64,
    n: u64,
    k: u64,
    groups: u64,
    macs: u64,
    weights: u64,
}

fn layers(a: LayersArgs) -> anyhow::Result<Outcome> {
    let net = load_network(&a.network, None)?;
    let rows: Vec<LayerRow> = net
        .layers
        .iter()
        .map(|l| {
            let g = l.op.lower(net.batch).map_err(bad_input)?;
            Ok(LayerRow {
                name: l.name.clone(),
                kind: l.op.kind().to_string(),
                m: g.m,
                n: g.n,
                k: g.k,
                groups: g.groups,
                macs: g.macs(),
                weights: l.op.weights(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    if a.json {
        print_json(&serde_json::json!({
            "network": net.name, "batch": net.batch, "source": net.source,
            "macs": net.macs(), "weights": net.weights(), "layers": rows,
        }))?;
        return Ok(Outcome::Ok);
    }
    println!("{} (batch {}): {}", net.name, net.batch, net.source);
    println!(
        "{:<22} {:<7} {:>8} {:>6} {:>6} {:>6} {:>12} {:>10}",
        "layer", "kind", "M", "N", "K", "groups", "MACs", "weights"
    );
    for r in &rows {
        println!(
            "{:<22} {:<7} {:>8} {:>6} {:>6} {:>6} {:>12} {:>10}",
            r.name, r.kind, r.m, r.n, r.k, r.groups, r.macs, r.weights
        );
    }
    println!(
        "total: {} layers, {} MACs, {} weights",
        rows.len(),
        net.macs(),
        net.weights()
    );
    Ok(Outcome::Ok)
}

#[derive(serde::Serialize)]
struct CheckSummary {
    cases: usize,
    mismatches: Vec<String>,
}

fn check(a: CheckArgs) -> anyhow::Result<Outcome> {
    if a.max_dim == 0 || a.max_dim > 16 {
        return Err(bad_input("--max-dim must be between 1 and 16"));
    }
    let mut cases = 0;
    let mut mismatches = Vec::new();
    let base = AccelSpec::preset("edge-os-16x16").map_err(bad_input)?;
    for df in Dataflow::ALL {
        for (rows, cols) in [(1u32, 1u32), (2, 3), (3, 2), (4, 4)] {
            let mut spec = base.clone();
            spec.dataflow = df;
            spec.rows = rows;
            spec.cols = cols;
            let acc = Accelerator::new(&spec);
            for m in 1..=a.max_dim {
                for n in 1..=a.max_dim {
                    for k in 1..=a.max_dim {
                        // Deterministic operand values with both signs.
                        let av: Vec<i64> =
                            (0..m * k).map(|i| (i as i64 * 7 + 3) % 19 - 9).collect();
                        let bv: Vec<i64> =
                            (0..k * n).map(|i| (i as i64 * 5 + 1) % 17 - 8).collect();
                        cases += 1;
                        let what = format!("{} {rows}x{cols} M={m} N={n} K={k}", df.short());
                        match simulate_gemm(df, rows as usize, cols as usize, m, n, k, &av, &bv) {
                            Err(e) => mismatches.push(format!("{what}: simulation error: {e}")),
                            Ok(sim) => {
                                let model = acc.compute_cycles(m as u64, n as u64, k as u64, 1);
                                if model != Some(sim.cycles) {
                                    mismatches.push(format!(
                                        "{what}: model {model:?} cycles, simulation {}",
                                        sim.cycles
                                    ));
                                }
                                if sim.out != reference_gemm(m, n, k, &av, &bv) {
                                    mismatches.push(format!("{what}: wrong product"));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let ok = mismatches.is_empty();
    if a.json {
        print_json(&CheckSummary { cases, mismatches })?;
    } else {
        for m in &mismatches {
            println!("MISMATCH {m}");
        }
        println!(
            "{cases} GEMMs (M, N, K up to {}, OS/WS/IS, arrays 1x1 2x3 3x2 4x4): {}",
            a.max_dim,
            if ok {
                "analytical compute cycles equal the cycle-stepped array, products correct"
            } else {
                "MISMATCHES found"
            }
        );
    }
    Ok(if ok {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

fn list(a: ListArgs) -> anyhow::Result<Outcome> {
    let mut presets = Vec::new();
    for name in AccelSpec::preset_names() {
        let s = AccelSpec::preset(name).map_err(bad_input)?;
        presets.push(serde_json::json!({
            "name": name, "rows": s.rows, "cols": s.cols, "dataflow": s.dataflow,
            "weight_precision": s.weight_precision, "clock_mhz": s.clock_mhz,
            "description": s.description,
        }));
    }
    let mut nets = Vec::new();
    for name in networks::builtin_names() {
        let n = networks::builtin(name).map_err(bad_input)?;
        nets.push(serde_json::json!({
            "name": name, "layers": n.layers.len(), "macs": n.macs(), "weights": n.weights(),
            "source": n.source,
        }));
    }
    if a.json {
        print_json(&serde_json::json!({ "presets": presets, "networks": nets }))?;
    } else {
        println!("accelerator presets:");
        for p in &presets {
            println!(
                "  {:<24} {}",
                p["name"].as_str().unwrap_or(""),
                p["description"].as_str().unwrap_or("")
            );
        }
        println!("networks:");
        for n in &nets {
            println!(
                "  {:<24} {} layers, {} MACs",
                n["name"].as_str().unwrap_or(""),
                n["layers"],
                n["macs"]
            );
        }
    }
    Ok(Outcome::Ok)
}
