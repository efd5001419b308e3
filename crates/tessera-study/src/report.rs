//! What a run leaves besides `results.jsonl`: `summary.json` (the front, hypervolume,
//! counts, the least-violating designs when nothing is feasible), `front.csv`,
//! `hypervolume.csv` (after each evaluation) and SVG plots (the front in 2-D projections,
//! hypervolume over evaluations).

use crate::StudyError;
use crate::config::{Goal, LoadedConfig};
use crate::run::{Manifest, Record, Scored, minimised_point, write_json};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// The end of a run (`summary.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    pub format_version: u32,
    pub name: String,
    pub seed: u64,
    pub shard: Option<[u32; 2]>,
    pub evaluations: u64,
    pub ok: u64,
    pub feasible: u64,
    pub infeasible: u64,
    pub failed: u64,
    /// Evaluations that reused an earlier result of the same genes.
    pub cached: u64,
    /// The objectives, their goals and the reference point (objective units).
    pub objectives: Vec<String>,
    pub goals: Vec<String>,
    pub reference_point: Vec<f64>,
    /// Hypervolume of the feasible front against the reference point (maximised
    /// objectives negated, so it is the volume dominated between the front and the point).
    pub hypervolume: f64,
    /// For a test problem whose objectives are its own (`f1`, `f2`, ... minimised, in
    /// order): IGD+ of the feasible front against [`IGD_REFERENCE_POINTS`] points of the
    /// true front (0 = on it; lower is better). Absent for other runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub igd_plus: Option<f64>,
    /// `true`: `front` is the non-dominated feasible designs. `false`: nothing was
    /// feasible, and `front` lists the least-violating designs instead.
    pub front_feasible: bool,
    /// Ids of the front's designs.
    pub front: Vec<u64>,
    /// What to tell a person about the run (nothing feasible, stopped early, ...).
    pub notes: Vec<String>,
    /// The most common reasons designs were infeasible or failed, with counts.
    pub reasons: Vec<(String, u64)>,
    /// Stopped before the budget (Ctrl-C): resume with `--resume`.
    pub stopped: bool,
}

/// Points of a test problem's true front that IGD+ is measured against.
pub const IGD_REFERENCE_POINTS: usize = 1000;

/// Summarise the records of a run.
pub fn summarise<R: Scored + Sync>(
    cfg: &LoadedConfig,
    manifest: &Manifest,
    records: &[R],
    hv_trace: &[f64],
    stopped: bool,
) -> Result<RunSummary, StudyError> {
    let c = &cfg.config;
    let m = c.objectives.len();
    let mut points = Vec::with_capacity(records.len() * m);
    let mut violation = Vec::with_capacity(records.len());
    for r in records {
        let (p, v) = minimised_point(cfg, r);
        points.extend(p);
        violation.push(v);
    }
    let front = tessera_search::pareto_front(&points, &violation, m);
    let count = |s: &str| records.iter().filter(|r| r.status() == s).count() as u64;
    let feasible = records.iter().filter(|r| r.feasible()).count() as u64;
    let mut reasons: std::collections::BTreeMap<String, u64> = Default::default();
    for r in records.iter().filter(|r| !r.feasible()) {
        if let Some(why) = r.reason() {
            // Group by the reason with its numbers blanked (they differ design to design).
            let mut key = String::new();
            for ch in why.chars().take(160) {
                if ch.is_ascii_digit() {
                    if !key.ends_with('#') {
                        key.push('#');
                    }
                } else {
                    key.push(ch);
                }
            }
            *reasons.entry(format!("{}: {key}", r.status())).or_insert(0) += 1;
        }
    }
    let mut reasons: Vec<(String, u64)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    reasons.truncate(10);
    let mut notes = Vec::new();
    if records.is_empty() {
        notes.push("no design was evaluated".into());
    } else if feasible == 0 {
        notes.push(format!(
            "nothing in this space is feasible: none of the {} designs evaluated meets every constraint and evaluates; the front lists the {} least-violating designs instead",
            records.len(),
            front.indices.len()
        ));
    }
    if stopped {
        notes.push("stopped before the budget was spent; continue with --resume".into());
    }
    let igd_plus = match &c.evaluator {
        crate::config::EvaluatorSpec::Problem { problem } if front.feasible => {
            let own = c
                .objectives
                .iter()
                .enumerate()
                .all(|(i, o)| o.metric == format!("f{}", i + 1) && o.goal == Goal::Minimize);
            match tessera_search::TestProblem::from_name(problem) {
                Some(p) if own && p.n_objectives() == m => {
                    let approx: Vec<f64> = front
                        .indices
                        .iter()
                        .flat_map(|&i| points[i * m..(i + 1) * m].iter().copied())
                        .collect();
                    tessera_search::igd_plus(&approx, &p.true_front(IGD_REFERENCE_POINTS), m).ok()
                }
                _ => None,
            }
        }
        _ => None,
    };
    Ok(RunSummary {
        format_version: crate::run::RUN_FORMAT_VERSION,
        name: manifest.name.clone(),
        seed: manifest.seed,
        shard: manifest.shard,
        evaluations: records.len() as u64,
        ok: count("ok"),
        feasible,
        infeasible: count("infeasible") + (count("ok") - feasible),
        failed: count("failed"),
        cached: records.iter().filter(|r| r.cached()).count() as u64,
        objectives: c.objectives.iter().map(|o| o.metric.clone()).collect(),
        goals: c
            .objectives
            .iter()
            .map(|o| match o.goal {
                Goal::Minimize => "minimize".to_string(),
                Goal::Maximize => "maximize".to_string(),
            })
            .collect(),
        reference_point: c.reference_point.clone(),
        hypervolume: hv_trace.last().copied().unwrap_or(0.0),
        igd_plus,
        front_feasible: front.feasible,
        front: front.indices.iter().map(|&i| records[i].id()).collect(),
        notes,
        reasons,
        stopped,
    })
}

/// Write `summary.json`, `front.csv`, `hypervolume.csv` and the SVG plots. `front` holds
/// the full records of the summary's front, in its order.
pub fn write_all<R: Scored + Sync>(
    dir: &Path,
    cfg: &LoadedConfig,
    s: &RunSummary,
    records: &[R],
    front: &[Record],
    hv_trace: &[f64],
) -> Result<(), StudyError> {
    write_json(&dir.join("summary.json"), s)?;
    let front: Vec<&Record> = front.iter().collect();
    let path = dir.join("front.csv");
    std::fs::write(&path, front_csv(cfg, &front)).map_err(|e| StudyError::io(&path, e))?;
    let mut hv = String::from("evaluations,hypervolume\n");
    for (i, v) in hv_trace.iter().enumerate() {
        let _ = writeln!(hv, "{},{v}", i + 1);
    }
    let path = dir.join("hypervolume.csv");
    std::fs::write(&path, hv).map_err(|e| StudyError::io(&path, e))?;
    crate::plot::write_plots(dir, cfg, records, s, hv_trace)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One line per front design: id, the parameters, the objectives, feasibility.
pub fn front_csv(cfg: &LoadedConfig, front: &[&Record]) -> String {
    let c = &cfg.config;
    let mut out = String::from("id");
    for p in &c.space {
        out.push(',');
        out.push_str(&csv_field(&p.name));
    }
    for o in &c.objectives {
        out.push(',');
        out.push_str(&csv_field(&o.metric));
    }
    out.push_str(",feasible,violation\n");
    for r in front {
        let _ = write!(out, "{}", r.id);
        for p in &c.space {
            let v = r.design.get(&p.name).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            out.push(',');
            out.push_str(&csv_field(&v.unwrap_or_default()));
        }
        for (i, _) in c.objectives.iter().enumerate() {
            out.push(',');
            if let Some(v) = r.objectives.get(i) {
                let _ = write!(out, "{v}");
            }
        }
        let _ = writeln!(
            out,
            ",{},{}",
            r.feasible,
            r.violation.map(|v| v.to_string()).unwrap_or_default()
        );
    }
    out
}
