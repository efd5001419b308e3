//! Co-generation (`tessera search emit DIR`, `tessera search ... --emit-front`): for each
//! design of a Pareto rank, a folder that Tessera's other commands load — the accelerator
//! or CGRA spec (RON), the network (RON layer list), for joint searches the trained
//! quantised weights (safetensors) and their metrics, for CGRA searches every kernel's
//! mapping.json — plus `design.json`, the design's record.

use crate::StudyError;
use crate::config::LoadedConfig;
use crate::evaluate::DesignRef;
use crate::run::{Record, minimised_point, read_manifest, read_results};
use std::path::{Path, PathBuf};

/// One emitted design.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Emitted {
    pub id: u64,
    pub dir: PathBuf,
    pub files: Vec<String>,
    /// Why the evaluator could not write its files (the record is still written).
    pub error: Option<String>,
}

/// Emit the designs of Pareto rank `rank` (0 = the front; feasible designs rank before
/// infeasible ones, Deb's constraint-domination) of the run in `run_dir` into `out`
/// (default `run_dir/emit`). Failed evaluations are never emitted.
pub fn emit(run_dir: &Path, rank: usize, out: Option<&Path>) -> Result<Vec<Emitted>, StudyError> {
    let m = read_manifest(&run_dir.join("manifest.json"))?;
    let records = read_results(&run_dir.join("results.jsonl"), false)?;
    let text = ron::ser::to_string(&m.config)
        .map_err(|e| StudyError::Evaluator(format!("config: {e}")))?;
    let cfg = LoadedConfig::from_str(&text, &m.config_file)?;
    let scored: Vec<&Record> = records.iter().filter(|r| r.status == "ok").collect();
    let k = cfg.config.objectives.len();
    let mut points = Vec::with_capacity(scored.len() * k);
    let mut violation = Vec::with_capacity(scored.len());
    for r in &scored {
        let (p, v) = minimised_point(&cfg, *r);
        points.extend(p);
        violation.push(v);
    }
    let fronts = tessera_search::constrained_non_dominated_sort(&points, &violation, k);
    let Some(front) = fronts.get(rank) else {
        return Err(StudyError::Resume(format!(
            "{}: there are {} Pareto ranks among the {} scored designs; rank {rank} does not exist (0 is the front)",
            run_dir.display(),
            fronts.len(),
            scored.len()
        )));
    };
    let out = out.map_or_else(|| run_dir.join("emit"), Path::to_path_buf);
    let evaluator = crate::evaluate::build(&cfg, run_dir)?;
    let mut ids: Vec<usize> = front.clone();
    ids.sort_by_key(|&i| scored[i].id);
    let mut done = Vec::new();
    for i in ids {
        let r = scored[i];
        let dir = out.join(format!("rank{rank}-design-{}", r.id));
        std::fs::create_dir_all(&dir).map_err(|e| StudyError::io(&dir, e))?;
        let record = serde_json::to_string_pretty(r).map_err(|e| StudyError::io(&dir, e))?;
        std::fs::write(dir.join("design.json"), record + "\n")
            .map_err(|e| StudyError::io(&dir, e))?;
        let d = DesignRef {
            id: r.id,
            genes: &r.genes,
            values: &r.design,
        };
        let (mut files, error) = match evaluator.emit(&d, &dir) {
            Ok(f) => (f, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        files.insert(0, "design.json".into());
        done.push(Emitted {
            id: r.id,
            dir,
            files,
            error,
        });
    }
    Ok(done)
}
