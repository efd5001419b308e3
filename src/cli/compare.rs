//! `tessera compare`: run the same kernels on several CGRA configurations side by side.
//!
//! The flow (map, check, simulate and verify every kernel on every configuration; ratios
//! against the first configuration and geometric means) is `tessera_flow::compare`; this
//! file parses the arguments and renders the report as a table, JSON or CSV.
//!
//! Exit codes: 0 when every simulated mapping matched the interpreter (kernels that did not
//! map are listed but do not fail the command), 1 when a simulation mismatched or the
//! array faulted, 2 on bad input (an arch spec or a named kernel file that does not load).

use super::{Outcome, flow_error, print_json};
use std::fmt::Write as _;
use std::path::PathBuf;
use tessera_flow::compare::{CompareOptions, CompareReport, first_line, load_archs, to_csv};
use tessera_flow::load::load_kernels;

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Kernel files (.tk, .xml, .dot, .gv, .json) or folders (their .tk, .xml, .dot and .gv
    /// files, by name).
    #[arg(required = true)]
    pub kernels: Vec<PathBuf>,
    /// A CGRA configuration: a RON file, a preset name, or an override such as
    /// `(preset: "compose-4x4", set: {"compose.enabled": false})`. Repeat it; the first is
    /// the baseline of the ratios. Columns are labelled with the spec's `name` (`#2`, `#3`
    /// appended when names repeat, e.g. for overrides of one preset).
    #[arg(long = "arch", required = true)]
    pub archs: Vec<String>,
    #[command(flatten)]
    pub seeds: super::Seeds,
    /// Mapping wall-time budget per kernel and configuration, in seconds.
    #[arg(long = "time-limit", default_value_t = 10.0)]
    pub time_limit_s: f64,
    /// Mappings run in parallel (1 = one after another; mapping times are then
    /// single-thread times). The output order does not depend on it.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Map each kernel on each configuration this many times and report the median
    /// mapping time (the mapper is seeded, so every repeat finds the same mapping unless
    /// the time limit cuts it short; millisecond mapping times vary by 20-40 % run to run).
    #[arg(long = "map-repeat", default_value_t = 1)]
    pub map_repeat: u32,
    /// Write one CSV line per kernel and configuration to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

fn x(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}x")).unwrap_or_else(|| "-".into())
}

/// The human-readable table.
pub fn render(r: &CompareReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "tessera compare: {} kernels x {} configurations; mapper seed {}, input seed {}, time limit {} s per mapping{}",
        r.kernels.len(),
        r.archs.len(),
        r.map_seed,
        r.input_seed,
        r.time_limit_s,
        if r.map_repeat > 1 {
            format!("; mapping times: median of {} runs", r.map_repeat)
        } else {
            String::new()
        }
    );
    for (i, a) in r.archs.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {} {}: composition {}{}, {} hop(s)/cycle, clock {} ps, area {:.4} mm2",
            if i == 0 { "baseline" } else { "        " },
            a.label,
            if a.compose { "on" } else { "off" },
            if a.compose {
                format!(" (virtual PE up to {})", a.max_virtual_pe)
            } else {
                String::new()
            },
            a.max_hops_per_cycle,
            a.clock_period_ps,
            a.area_um2 / 1e6
        );
    }
    let w = r
        .archs
        .iter()
        .map(|a| a.label.len())
        .chain(r.kernels.iter().map(|k| k.kernel.len()))
        .max()
        .unwrap_or(8)
        .clamp(8, 48);
    let _ = writeln!(
        s,
        "\n{:<w$} {:<5} {:<w$} {:>3} {:>4} {:>4} {:>4} {:>9} {:>11} {:>11} {:>8} {:>7} {:>7} {:>8}  status",
        "kernel",
        "class",
        "config",
        "II",
        "Res",
        "Rec",
        "RecT",
        "cycles",
        "energy_pJ",
        "EDP_pJns",
        "area_mm2",
        "speedup",
        "EDP_red",
        "map_ms",
    );
    // Recurrence-bound kernels first, then the others, then those without a class; each
    // group in input order.
    let groups = [
        (
            "recurrence-bound",
            "Recurrence-bound kernels (RecMII > ResMII on the baseline):",
        ),
        ("other", "Other kernels:"),
        (
            "unknown",
            "Kernels without a class (did not load, or no MII on the baseline):",
        ),
    ];
    let grouped = groups.iter().flat_map(|(g, title)| {
        r.kernels
            .iter()
            .filter(move |k| k.class == *g)
            .enumerate()
            .map(move |(i, k)| (if i == 0 { Some(*title) } else { None }, k))
    });
    for (title, k) in grouped {
        if let Some(t) = title {
            let _ = writeln!(s, "-- {t}");
        }
        let class = match k.class.as_str() {
            "recurrence-bound" => "rec",
            "other" => "other",
            _ => "?",
        };
        if let Some(e) = &k.load_error {
            let _ = writeln!(
                s,
                "{:<w$} {:<5} load error: {}",
                k.kernel,
                class,
                first_line(e, 120)
            );
            continue;
        }
        for (i, c) in k.results.iter().enumerate() {
            let _ = writeln!(
                s,
                "{:<w$} {:<5} {:<w$} {:>3} {:>4} {:>4} {:>4} {:>9} {:>11} {:>11} {:>8.4} {:>7} {:>7} {:>8.1}  {}",
                if i == 0 { k.kernel.as_str() } else { "" },
                if i == 0 { class } else { "" },
                c.arch,
                opt(c.ii),
                opt(c.res_mii),
                opt(c.rec_mii_baseline),
                opt(c.rec_mii_timed),
                opt(c.cycles),
                c.energy_pj
                    .map(|e| format!("{e:.1}"))
                    .unwrap_or_else(|| "-".into()),
                c.edp_pj_ns
                    .map(|e| format!("{e:.4e}"))
                    .unwrap_or_else(|| "-".into()),
                c.area_um2 / 1e6,
                if i == 0 { String::new() } else { x(c.speedup) },
                if i == 0 {
                    String::new()
                } else {
                    x(c.edp_reduction)
                },
                c.map_time_ms,
                c.status
            );
        }
    }
    let base = r.archs.first().map(|a| a.label.as_str()).unwrap_or("?");
    let _ = writeln!(
        s,
        "\nRes = ResMII, Rec = RecMII in cycles, RecT = timing-aware RecMII (COMPOSE chaining);\nspeedup = {base} cycles / cycles, EDP_red = {base} EDP / EDP.\n\nGeometric means against {base} over the kernels verified on every configuration\n(rec = recurrence-bound: RecMII > ResMII on {base}; energy = energy / {base} energy):"
    );
    let _ = writeln!(
        s,
        "{:<w$} {:<16} {:>7} {:>8} {:>8} {:>8} {:>9}  slower than {base}",
        "config", "group", "kernels", "speedup", "EDP_red", "energy", "map_time",
    );
    for g in &r.geomeans {
        let _ = writeln!(
            s,
            "{:<w$} {:<16} {:>7} {:>8} {:>8} {:>8} {:>9}  {}",
            g.arch,
            g.group,
            g.kernels,
            x(g.speedup),
            x(g.edp_reduction),
            x(g.energy_ratio),
            x(g.map_time_ratio),
            if g.slower.is_empty() {
                "none".to_string()
            } else {
                g.slower.join(", ")
            }
        );
    }
    if !r.not_compared.is_empty() {
        let _ = writeln!(
            s,
            "\nNot in the geometric means ({} problem(s)):",
            r.not_compared.len()
        );
        for n in &r.not_compared {
            let _ = writeln!(s, "  {n}");
        }
    }
    if r.failures > 0 {
        let _ = writeln!(
            s,
            "\nFAILED: {} simulation(s) did not match the interpreter or faulted on the array",
            r.failures
        );
    }
    s
}

pub fn run(a: CompareArgs) -> anyhow::Result<Outcome> {
    a.seeds.refuse_plain_seed()?;
    let archs = load_archs(&a.archs).map_err(flow_error)?;
    let loaded = load_kernels(&a.kernels).map_err(flow_error)?;
    let opts = CompareOptions {
        map_seed: a.seeds.map_seed,
        input_seed: a.seeds.input_seed,
        time_limit_s: a.time_limit_s,
        jobs: a.jobs,
        map_repeat: a.map_repeat,
    };
    let bar = super::progress_bar("compare");
    let report =
        tessera_flow::compare::compare(&loaded, &archs, &opts, &|e| super::show_progress(&bar, &e))
            .map_err(flow_error)?;
    bar.finish_and_clear();
    if let Some(path) = &a.csv {
        super::write_output(path, to_csv(&report))?;
    }
    if a.json {
        print_json(&report)?;
    } else {
        print!("{}", render(&report));
    }
    Ok(if report.failures == 0 {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
