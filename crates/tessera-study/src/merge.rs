//! `tessera merge`: join the folders of a sharded search (`--shard K/N`, e.g. a Slurm job
//! array) into one. Random and grid shards hold disjoint parts of one run's sequence; the
//! merged `results.jsonl` puts them back in that order (id = position in the unsharded
//! run), so it equals a single run with the same seed and budget; a design repeated across
//! shards becomes a cached repeat of its first evaluation, as in the single run. NSGA islands are
//! independent searches: their records are concatenated island by island, renumbered, and
//! the front and hypervolume are those of the union.

use crate::StudyError;
use crate::config::LoadedConfig;
use crate::report::{self, RunSummary};
use crate::run::{
    GenesCache, Manifest, Record, genes_key, minimised_point, read_manifest, read_results,
    write_json,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use tessera_search::{HypervolumeTrace, StrategySpec};

/// Merge shard folders into `out`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<RunSummary, StudyError> {
    if dirs.is_empty() {
        return Err(StudyError::Resume(
            "merge needs at least one run folder".into(),
        ));
    }
    let mut shards: Vec<(Manifest, Vec<Record>)> = Vec::new();
    for d in dirs {
        let m = read_manifest(&d.join("manifest.json"))?;
        let r = read_results(&d.join("results.jsonl"), false)?;
        shards.push((m, r));
    }
    let first = shards[0].0.clone();
    let n = first.shard.map_or(1, |s| s[1]);
    for (m, _) in &shards {
        if m.config_hash != first.config_hash || m.seed != first.seed {
            return Err(StudyError::Resume(format!(
                "cannot merge: {} and {} ran different configs or seeds",
                first.config_file, m.config_file
            )));
        }
        if m.evaluator != first.evaluator {
            return Err(StudyError::Resume(format!(
                "cannot merge: {} was scored by `{}`, {} by `{}`",
                first.config_file, first.evaluator, m.config_file, m.evaluator
            )));
        }
        if m.shard.map_or(1, |s| s[1]) != n {
            return Err(StudyError::Resume(
                "cannot merge: the folders were split into different numbers of shards".into(),
            ));
        }
    }
    let mut ks: Vec<u32> = shards
        .iter()
        .map(|(m, _)| m.shard.map_or(0, |s| s[0]))
        .collect();
    ks.sort_unstable();
    ks.dedup();
    if ks.len() != shards.len() {
        return Err(StudyError::Resume(
            "cannot merge: a shard is given twice".into(),
        ));
    }
    let missing: Vec<u32> = (0..n).filter(|k| !ks.contains(k)).collect();
    let cfg_text = ron::ser::to_string(&first.config)
        .map_err(|e| StudyError::Evaluator(format!("config: {e}")))?;
    let mut cfg = LoadedConfig::from_str(&cfg_text, &first.config_file)?;
    // The merged folder is one run of the original config (same hash).
    cfg.text.clone_from(&cfg_text);
    let interleaved = matches!(
        first.config.strategy,
        StrategySpec::Random | StrategySpec::Grid(_)
    );
    let mut records: Vec<Record> = Vec::new();
    if interleaved {
        for (_, rs) in &shards {
            for r in rs {
                let mut r = r.clone();
                r.cached_from = r.cached_from.map(|local| rs[local as usize].global_index);
                r.id = r.global_index;
                records.push(r);
            }
        }
        records.sort_by_key(|r| r.id);
        recache(&mut records);
    } else {
        shards.sort_by_key(|(m, _)| m.shard.map_or(0, |s| s[0]));
        for (_, rs) in &shards {
            let base = records.len() as u64;
            for r in rs {
                let mut r = r.clone();
                r.cached_from = r.cached_from.map(|local| base + local);
                r.id += base;
                records.push(r);
            }
        }
    }
    std::fs::create_dir_all(out).map_err(|e| StudyError::io(out, e))?;
    let path = out.join("results.jsonl");
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&path).map_err(|e| StudyError::io(&path, e))?,
    );
    for r in &records {
        let line = serde_json::to_string(r).map_err(|e| StudyError::io(&path, e))?;
        writeln!(f, "{line}").map_err(|e| StudyError::io(&path, e))?;
    }
    f.flush().map_err(|e| StudyError::io(&path, e))?;
    let mut trace = HypervolumeTrace::new(&cfg.minimised_reference())?;
    let mut hv = Vec::with_capacity(records.len());
    for r in &records {
        let (p, v) = minimised_point(&cfg, r);
        hv.push(trace.push(&p, v)?);
    }
    let mut manifest = first.clone();
    manifest.shard = None;
    manifest.config_hash = first.config_hash.clone();
    manifest.started_unix_s = shards
        .iter()
        .flat_map(|(m, _)| m.started_unix_s.clone())
        .collect();
    write_json(&out.join("manifest.json"), &manifest)?;
    let mut summary = report::summarise(&cfg, &manifest, &records, &hv, false)?;
    summary.notes.push(format!(
        "merged from {} folder(s) of {} shard(s){}",
        shards.len(),
        n,
        if interleaved {
            " (random/grid: the designs of one run, in its order)"
        } else {
            " (NSGA islands: independent searches, fronts joined)"
        }
    ));
    if !missing.is_empty() {
        summary
            .notes
            .push(format!("shards missing from the merge: {missing:?}"));
    }
    let front: Vec<Record> = summary
        .front
        .iter()
        .map(|&id| records[id as usize].clone())
        .collect();
    report::write_all(out, &cfg, &summary, &records, &front, &hv)?;
    Ok(summary)
}

/// A design that repeats across shards was evaluated once in each of them; the unsharded
/// run evaluates it once and reuses that result for every repeat. Rebuild the repeats as
/// the run would: the first occurrence's result, marked `cached_from` it.
fn recache(records: &mut [Record]) {
    let mut first = GenesCache::default();
    for i in 0..records.len() {
        let key = genes_key(&records[i].genes);
        match first.get(&key) {
            Some(&f) => {
                let base = records[f as usize].clone();
                let r = &records[i];
                records[i] = Record {
                    id: r.id,
                    global_index: r.global_index,
                    genes: r.genes.clone(),
                    design: r.design.clone(),
                    cached_from: Some(base.id),
                    ..base
                };
            }
            None => {
                first.insert(key, i as u64);
                records[i].cached_from = None;
            }
        }
    }
}
