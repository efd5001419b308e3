//! Run the same kernels on several CGRA configurations side by side (`tessera compare`).
//!
//! For every kernel and every configuration (the first is the baseline): map it (heuristic
//! mapper with the given mapper seed, checked by the independent checker), simulate the
//! mapping on the seeded random inputs and verify every output against the reference
//! interpreter. Per kernel: II, cycles, energy, EDP and area on each configuration and the
//! ratios against the baseline: speedup = baseline cycles / cycles, EDP reduction =
//! baseline EDP / EDP, energy ratio = energy / baseline energy. Geometric means are taken
//! over the kernels verified on every configuration, split into recurrence-bound kernels
//! (RecMII > ResMII on the baseline) and the others. Kernels that fail somewhere are listed
//! with the reason, never dropped silently.

use crate::load::{LoadedKernel, load_cgra};
use crate::stats::{geomean, ratio};
use crate::{FlowError, Progress, ProgressEvent, run_jobs};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;
use tessera_map::driver::{CancelFlag, Judge, MapOptions, map_kernel_judged};
use tessera_sim::{SimError, Simulator};

/// Version of the JSON written by `tessera compare --json`.
pub const COMPARE_FORMAT_VERSION: u32 = 1;

/// How to run a comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Seed of the mapper's random choices (the same for every kernel and configuration).
    pub map_seed: u64,
    /// Seed of the random simulation inputs.
    pub input_seed: u64,
    /// Mapping wall-time budget per kernel and configuration, in seconds.
    pub time_limit_s: f64,
    /// Mappings run in parallel (1 = one after another).
    pub jobs: usize,
    /// Map each cell this many times and report the median mapping time.
    pub map_repeat: u32,
}

/// One configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchInfo {
    /// Column label: the spec's name (suffixed `#n` when two configurations share a name).
    pub label: String,
    pub name: String,
    /// What `--arch` said.
    pub spec: String,
    pub compose: bool,
    pub max_virtual_pe: u16,
    pub max_hops_per_cycle: u16,
    pub clock_period_ps: u32,
    pub area_um2: f64,
}

/// One kernel on one configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub arch: String,
    /// `verified`, `mismatch`, `array fault`, `unmapped`, `unsupported`, `no reference`.
    pub status: String,
    pub reason: Option<String>,
    pub res_mii: Option<u32>,
    /// The RecMII in force on this configuration (timing-aware when composition is on).
    pub rec_mii: Option<u32>,
    /// RecMII in cycles (ops bound to one per cycle).
    pub rec_mii_baseline: Option<u32>,
    /// Timing-aware RecMII (summed delays over the clock period), whether or not
    /// composition is on.
    pub rec_mii_timed: Option<u32>,
    pub mii: Option<u32>,
    pub ii: Option<u32>,
    pub cycles: Option<u64>,
    pub energy_pj: Option<f64>,
    pub time_ns: Option<f64>,
    pub edp_pj_ns: Option<f64>,
    pub power_mw: Option<f64>,
    pub area_um2: f64,
    /// Wall time of MII analysis + mapping + checking.
    pub map_time_ms: f64,
    pub out_reg_writes: Option<u64>,
    pub deferred_registrations: Option<u64>,
    pub saved_out_reg_pj: Option<f64>,
    /// Baseline cycles / cycles (both verified).
    pub speedup: Option<f64>,
    /// Baseline EDP / EDP.
    pub edp_reduction: Option<f64>,
    /// Energy / baseline energy.
    pub energy_ratio: Option<f64>,
    /// Area / baseline area.
    pub area_ratio: f64,
}

impl Cell {
    pub fn verified(&self) -> bool {
        self.status == "verified"
    }
}

/// One kernel on every configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KernelRow {
    pub file: String,
    pub kernel: String,
    pub nodes: usize,
    /// `recurrence-bound` (RecMII > ResMII on the baseline), `other`, or `unknown` (the
    /// kernel did not load or its MII could not be computed on the baseline).
    pub class: String,
    /// Loading problem, when the kernel did not load.
    pub load_error: Option<String>,
    /// Verified on every configuration (counted in the geometric means).
    pub compared: bool,
    pub results: Vec<Cell>,
}

/// Geometric means of one configuration against the baseline over one group of kernels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeoMean {
    pub arch: String,
    /// `recurrence-bound`, `other` or `all`.
    pub group: String,
    pub kernels: usize,
    pub speedup: Option<f64>,
    pub edp_reduction: Option<f64>,
    pub energy_ratio: Option<f64>,
    /// Mapping time / baseline mapping time.
    pub map_time_ratio: Option<f64>,
    /// Kernels slower (more cycles) than on the baseline.
    pub slower: Vec<String>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareReport {
    pub format_version: u32,
    pub map_seed: u64,
    pub input_seed: u64,
    pub time_limit_s: f64,
    pub jobs: usize,
    /// Mappings per cell; `map_time_ms` is their median.
    pub map_repeat: u32,
    pub archs: Vec<ArchInfo>,
    pub kernels: Vec<KernelRow>,
    pub geomeans: Vec<GeoMean>,
    /// Kernels left out of the geometric means, with why (`kernel: arch: status: reason`).
    pub not_compared: Vec<String>,
    /// Cells whose simulation mismatched or faulted.
    pub failures: usize,
}

/// Load the configurations of a comparison (at least two; the first is the baseline).
/// Each is a RON file, a preset name or an inline override; columns are labelled with the
/// spec's `name`, `#2`, `#3` appended when names repeat.
pub fn load_archs(specs: &[String]) -> Result<Vec<(ArchInfo, CgraSpec)>, FlowError> {
    if specs.len() < 2 {
        return Err(FlowError::Arch(format!(
            "compare needs at least two --arch configurations (got {}); the first is the baseline",
            specs.len()
        )));
    }
    let mut out: Vec<(ArchInfo, CgraSpec)> = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let spec = load_cgra(s, &format!("<--arch {}>", i + 1))
            .map_err(|e| FlowError::Arch(format!("--arch {} (`{s}`): {e}", i + 1)))?;
        let mut label = spec.name.clone();
        let same = out.iter().filter(|(a, _)| a.name == spec.name).count();
        if same > 0 {
            label = format!("{}#{}", spec.name, same + 1);
        }
        out.push((arch_info(label, s, &spec), spec));
    }
    Ok(out)
}

/// The description of one configuration.
pub fn arch_info(label: String, given_as: &str, spec: &CgraSpec) -> ArchInfo {
    ArchInfo {
        label,
        name: spec.name.clone(),
        spec: given_as.to_string(),
        compose: spec.compose.enabled,
        max_virtual_pe: spec.compose.max_virtual_pe,
        max_hops_per_cycle: spec.interconnect.max_hops_per_cycle,
        clock_period_ps: spec.timing.clock_period_ps,
        area_um2: spec.total_area_um2(),
    }
}

/// Map, simulate and verify one kernel on one configuration.
pub fn run_cell(
    kernel: &Kernel,
    arch: &CgraSpec,
    label: &str,
    opts: &MapOptions,
    seed: u64,
    repeat: u32,
) -> Cell {
    let mut cell = Cell {
        arch: label.to_string(),
        status: String::new(),
        reason: None,
        res_mii: None,
        rec_mii: None,
        rec_mii_baseline: None,
        rec_mii_timed: None,
        mii: None,
        ii: None,
        cycles: None,
        energy_pj: None,
        time_ns: None,
        edp_pj_ns: None,
        power_mw: None,
        area_um2: arch.total_area_um2(),
        map_time_ms: 0.0,
        out_reg_writes: None,
        deferred_registrations: None,
        saved_out_reg_pj: None,
        speedup: None,
        edp_reduction: None,
        energy_ratio: None,
        area_ratio: 1.0,
    };
    let t0 = std::time::Instant::now();
    match tessera_map::mii::analyze(kernel, arch) {
        Ok(r) => {
            cell.res_mii = Some(r.res_mii);
            cell.rec_mii = Some(r.rec_mii);
            cell.rec_mii_baseline = Some(r.rec_mii_baseline);
            cell.rec_mii_timed = Some(r.rec_mii_timed);
            cell.mii = Some(r.mii);
        }
        Err(e) => {
            cell.status = "unsupported".into();
            cell.reason = Some(e.to_string());
            return cell;
        }
    }
    // COMPOSE with memory ops of unknown bank: chained or not is decided by simulated
    // cycles on this cell's inputs (`map_kernel_judged`).
    let judge = |m: &tessera_map::Mapping| tessera_sim::judged_cycles(m, seed);
    let map = || {
        map_kernel_judged(
            kernel,
            arch,
            opts,
            Some(Judge {
                seed,
                cycles: &judge,
            }),
        )
    };
    let outcome = match map() {
        Ok(mut o) => {
            // Repeats time the same search again; the first mapping is the one reported.
            let mut times = vec![o.time_ms];
            times.extend((1..repeat).filter_map(|_| map().ok().map(|r| r.time_ms)));
            times.sort_by(f64::total_cmp);
            o.time_ms = times[times.len() / 2];
            o
        }
        Err(e) => {
            cell.map_time_ms = t0.elapsed().as_secs_f64() * 1e3;
            cell.status = "unmapped".into();
            cell.reason = Some(e.to_string());
            return cell;
        }
    };
    cell.map_time_ms = outcome.time_ms;
    cell.ii = Some(outcome.mapping.ii);
    let report = Simulator::new(&outcome.mapping).and_then(|s| s.simulate_seed(seed, false));
    match report {
        Ok((r, _)) => {
            cell.cycles = Some(r.total_cycles);
            cell.energy_pj = Some(r.energy.total_pj);
            cell.time_ns = Some(r.time_ns);
            cell.edp_pj_ns = Some(r.edp_pj_ns);
            cell.power_mw = Some(r.power_mw);
            cell.area_um2 = r.area_um2;
            cell.out_reg_writes = Some(r.stats.out_reg_writes);
            cell.deferred_registrations = Some(r.stats.deferred_registrations);
            cell.saved_out_reg_pj = Some(r.energy.saved_out_reg_pj);
            if r.verification.matched {
                cell.status = "verified".into();
            } else {
                cell.status = "mismatch".into();
                cell.reason = r.verification.mismatch.map(|m| m.message);
            }
        }
        Err(e @ SimError::Reference(_)) => {
            cell.status = "no reference".into();
            cell.reason = Some(e.to_string());
        }
        Err(e) => {
            // A checked mapping the simulator refuses or that faults on the array.
            cell.status = "array fault".into();
            cell.reason = Some(e.to_string());
        }
    }
    cell
}

/// Fill the per-kernel ratios against the baseline (cell 0).
pub fn fill_ratios(row: &mut KernelRow) {
    let base = row.results[0].clone();
    for c in row.results.iter_mut() {
        c.area_ratio = c.area_um2 / base.area_um2;
        if base.verified() && c.verified() {
            c.speedup = ratio(base.cycles.map(|x| x as f64), c.cycles.map(|x| x as f64));
            c.edp_reduction = ratio(base.edp_pj_ns, c.edp_pj_ns);
            c.energy_ratio = ratio(c.energy_pj, base.energy_pj);
        }
    }
    row.compared = row.load_error.is_none() && row.results.iter().all(Cell::verified);
}

pub fn geomeans(rows: &[KernelRow], archs: &[ArchInfo]) -> Vec<GeoMean> {
    let mut out = Vec::new();
    for (ai, arch) in archs.iter().enumerate().skip(1) {
        for group in ["recurrence-bound", "other", "all"] {
            let sel: Vec<&KernelRow> = rows
                .iter()
                .filter(|r| r.compared && (group == "all" || r.class == group))
                .collect();
            let pick = |f: &dyn Fn(&KernelRow) -> Option<f64>| -> Option<f64> {
                let xs: Option<Vec<f64>> = sel.iter().map(|r| f(r)).collect();
                xs.and_then(|v| geomean(&v))
            };
            out.push(GeoMean {
                arch: arch.label.clone(),
                group: group.to_string(),
                kernels: sel.len(),
                speedup: pick(&|r| r.results[ai].speedup),
                edp_reduction: pick(&|r| r.results[ai].edp_reduction),
                energy_ratio: pick(&|r| r.results[ai].energy_ratio),
                map_time_ratio: pick(&|r| {
                    // Sub-millisecond mappings are clamped to 0.01 ms so a ratio exists.
                    Some(r.results[ai].map_time_ms.max(0.01) / r.results[0].map_time_ms.max(0.01))
                }),
                slower: sel
                    .iter()
                    .filter(|r| r.results[ai].speedup.is_some_and(|s| s < 1.0))
                    .map(|r| r.kernel.clone())
                    .collect(),
            });
        }
    }
    out
}

/// Run every loaded kernel on every configuration and build the report (ratios, geometric
/// means, problems). `progress` sees one event when a cell starts and one when it ends.
pub fn compare(
    loaded: &[LoadedKernel],
    archs: &[(ArchInfo, CgraSpec)],
    o: &CompareOptions,
    progress: Progress<'_>,
) -> Result<CompareReport, FlowError> {
    compare_cancellable(loaded, archs, o, progress, &CancelFlag::default())
}

/// [`compare`] that stops early when `cancel` is set (the GUI's cancel): the mapper stops at
/// its next check and the cells not started yet are not run; the result is
/// `FlowError::Cancelled`.
pub fn compare_cancellable(
    loaded: &[LoadedKernel],
    archs: &[(ArchInfo, CgraSpec)],
    o: &CompareOptions,
    progress: Progress<'_>,
    cancel: &CancelFlag,
) -> Result<CompareReport, FlowError> {
    if o.time_limit_s.is_nan() || o.time_limit_s <= 0.0 || !o.time_limit_s.is_finite() {
        return Err(FlowError::Option(format!(
            "--time-limit {} must be a positive number of seconds",
            o.time_limit_s
        )));
    }
    if o.map_repeat == 0 {
        return Err(FlowError::Option(
            "--map-repeat must be at least 1".to_string(),
        ));
    }
    let opts = MapOptions {
        seed: o.map_seed,
        time_limit_s: o.time_limit_s,
        cancel: cancel.clone(),
        ..MapOptions::default()
    };
    // Every (kernel, configuration) pair that loaded is one task.
    let tasks: Vec<(usize, usize)> = loaded
        .iter()
        .enumerate()
        .filter(|(_, l)| l.kernel.is_ok())
        .flat_map(|(k, _)| (0..archs.len()).map(move |ai| (k, ai)))
        .collect();
    let total = tasks.len() as u64;
    let done = AtomicU64::new(0);
    let run = |&(k, ai): &(usize, usize)| -> Cell {
        let Ok(kernel) = loaded[k].kernel.as_ref() else {
            unreachable!("only loaded kernels are tasks")
        };
        let (info, spec) = &archs[ai];
        let message = format!("{} on {}", kernel.name, info.label);
        progress(ProgressEvent {
            done: done.load(Ordering::Relaxed),
            total,
            message: &message,
        });
        let cell = run_cell(kernel, spec, &info.label, &opts, o.input_seed, o.map_repeat);
        progress(ProgressEvent {
            done: done.fetch_add(1, Ordering::Relaxed) + 1,
            total,
            message: &message,
        });
        cell
    };
    let jobs = o.jobs.max(1);
    let cells = run_jobs(&tasks, jobs, run)?;
    if cancel.is_cancelled() {
        return Err(FlowError::Cancelled);
    }

    let mut cells = cells.into_iter();
    let mut rows = Vec::with_capacity(loaded.len());
    for l in loaded {
        let row = match &l.kernel {
            Err(e) => KernelRow {
                file: l.file.clone(),
                kernel: l.name(),
                nodes: 0,
                class: "unknown".into(),
                load_error: Some(e.clone()),
                compared: false,
                results: vec![],
            },
            Ok(k) => {
                let results: Vec<Cell> = cells.by_ref().take(archs.len()).collect();
                let base = &results[0];
                let class = match (base.res_mii, base.rec_mii) {
                    (Some(res), Some(rec)) if rec > res => "recurrence-bound",
                    (Some(_), Some(_)) => "other",
                    _ => "unknown",
                };
                let mut row = KernelRow {
                    file: l.file.clone(),
                    kernel: k.name.clone(),
                    nodes: k.node_count(),
                    class: class.into(),
                    load_error: None,
                    compared: false,
                    results,
                };
                fill_ratios(&mut row);
                row
            }
        };
        rows.push(row);
    }
    let infos: Vec<ArchInfo> = archs.iter().map(|(i, _)| i.clone()).collect();
    let (not_compared, failures) = problems(&rows);
    Ok(CompareReport {
        format_version: COMPARE_FORMAT_VERSION,
        map_seed: o.map_seed,
        input_seed: o.input_seed,
        time_limit_s: o.time_limit_s,
        jobs,
        map_repeat: o.map_repeat,
        geomeans: geomeans(&rows, &infos),
        archs: infos,
        kernels: rows,
        not_compared,
        failures,
    })
}

/// Kernels left out of the geometric means with why, and the count of cells whose
/// simulation mismatched or faulted.
fn problems(rows: &[KernelRow]) -> (Vec<String>, usize) {
    let mut not_compared = Vec::new();
    let mut failures = 0;
    for r in rows {
        if let Some(e) = &r.load_error {
            not_compared.push(format!("{}: load error: {e}", r.kernel));
        }
        failures += r
            .results
            .iter()
            .filter(|c| matches!(c.status.as_str(), "mismatch" | "array fault"))
            .count();
        let why = |c: &Cell| {
            format!(
                "{}{}",
                c.status,
                c.reason
                    .as_ref()
                    .map(|s| format!(": {}", first_line(s, 160)))
                    .unwrap_or_default()
            )
        };
        // The same problem on every configuration (e.g. the interpreter cannot run the
        // kernel's random inputs) is listed once.
        let same = r.results.len() > 1
            && r.results.iter().all(|c| {
                !c.verified() && c.status == r.results[0].status && c.reason == r.results[0].reason
            });
        if same {
            not_compared.push(format!(
                "{}: every configuration: {}",
                r.kernel,
                why(&r.results[0])
            ));
        } else {
            for c in r.results.iter().filter(|c| !c.verified()) {
                not_compared.push(format!("{}: {}: {}", r.kernel, c.arch, why(c)));
            }
        }
    }
    (not_compared, failures)
}

/// The first line of `s`, cut to `max` characters (`...` appended when cut).
pub fn first_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > max {
        format!("{}...", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}

pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One line per kernel and configuration.
pub fn to_csv(r: &CompareReport) -> String {
    let mut s = String::from(
        "file,kernel,class,arch,status,ii,mii,res_mii,rec_mii,rec_mii_baseline,rec_mii_timed,cycles,energy_pj,time_ns,edp_pj_ns,area_um2,map_time_ms,deferred_registrations,saved_out_reg_pj,speedup,edp_reduction,energy_ratio,area_ratio,reason\n",
    );
    let f = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
    let u = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    for k in &r.kernels {
        if let Some(e) = &k.load_error {
            let _ = writeln!(
                s,
                "{},{},{},,load error,,,,,,,,,,,,,,,,,,,{}",
                csv_field(&k.file),
                csv_field(&k.kernel),
                k.class,
                csv_field(e)
            );
        }
        for c in &k.results {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&k.file),
                csv_field(&k.kernel),
                k.class,
                csv_field(&c.arch),
                c.status,
                u(c.ii.map(u64::from)),
                u(c.mii.map(u64::from)),
                u(c.res_mii.map(u64::from)),
                u(c.rec_mii.map(u64::from)),
                u(c.rec_mii_baseline.map(u64::from)),
                u(c.rec_mii_timed.map(u64::from)),
                u(c.cycles),
                f(c.energy_pj),
                f(c.time_ns),
                f(c.edp_pj_ns),
                c.area_um2,
                c.map_time_ms,
                u(c.deferred_registrations),
                f(c.saved_out_reg_pj),
                f(c.speedup),
                f(c.edp_reduction),
                f(c.energy_ratio),
                c.area_ratio,
                csv_field(&c.reason.clone().unwrap_or_default())
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::geomean;

    fn cell(arch: &str, status: &str, cycles: u64, energy_pj: f64) -> Cell {
        let time_ns = cycles as f64;
        Cell {
            arch: arch.into(),
            status: status.into(),
            reason: None,
            res_mii: Some(1),
            rec_mii: Some(2),
            rec_mii_baseline: Some(2),
            rec_mii_timed: Some(1),
            mii: Some(2),
            ii: Some(2),
            cycles: Some(cycles),
            energy_pj: Some(energy_pj),
            time_ns: Some(time_ns),
            edp_pj_ns: Some(energy_pj * time_ns),
            power_mw: None,
            area_um2: 100.0,
            map_time_ms: 1.0,
            out_reg_writes: None,
            deferred_registrations: None,
            saved_out_reg_pj: None,
            speedup: None,
            edp_reduction: None,
            energy_ratio: None,
            area_ratio: 1.0,
        }
    }

    fn row(name: &str, class: &str, cells: Vec<Cell>) -> KernelRow {
        let mut r = KernelRow {
            file: format!("{name}.tk"),
            kernel: name.into(),
            nodes: 3,
            class: class.into(),
            load_error: None,
            compared: false,
            results: cells,
        };
        fill_ratios(&mut r);
        r
    }

    #[test]
    fn ratios_and_geomeans_per_group() {
        let a = row(
            "a",
            "recurrence-bound",
            vec![
                cell("m", "verified", 400, 4.0),
                cell("c", "verified", 100, 2.0),
            ],
        );
        assert_eq!(a.results[1].speedup, Some(4.0));
        assert_eq!(a.results[1].edp_reduction, Some(8.0));
        assert_eq!(a.results[1].energy_ratio, Some(0.5));
        assert!(a.compared);
        let b = row(
            "b",
            "recurrence-bound",
            vec![
                cell("m", "verified", 100, 1.0),
                cell("c", "verified", 100, 1.0),
            ],
        );
        // A kernel that failed somewhere has no ratios and is not in the means.
        let c = row(
            "c",
            "other",
            vec![
                cell("m", "verified", 100, 1.0),
                cell("c", "unmapped", 0, 0.0),
            ],
        );
        assert!(!c.compared);
        assert_eq!(c.results[1].speedup, None);
        let archs: Vec<ArchInfo> = ["m", "c"]
            .iter()
            .map(|l| ArchInfo {
                label: l.to_string(),
                name: l.to_string(),
                spec: l.to_string(),
                compose: false,
                max_virtual_pe: 1,
                max_hops_per_cycle: 1,
                clock_period_ps: 1000,
                area_um2: 100.0,
            })
            .collect();
        let g = geomeans(&[a, b, c], &archs);
        assert_eq!(g.len(), 3);
        assert_eq!((g[0].group.as_str(), g[0].kernels), ("recurrence-bound", 2));
        assert!((g[0].speedup.unwrap() - 2.0).abs() < 1e-12); // sqrt(4 x 1)
        assert!((g[0].edp_reduction.unwrap() - 8f64.sqrt()).abs() < 1e-12);
        assert_eq!((g[1].kernels, g[1].speedup), (0, None));
        assert_eq!(g[2].kernels, 2);
    }

    #[test]
    fn csv_fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(geomean(&[]), None);
        assert_eq!(geomean(&[2.0, 0.0]), None);
    }
}
