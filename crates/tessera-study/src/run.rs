//! A search run: the ask/tell loop of a strategy, designs evaluated in parallel (rayon),
//! every result appended to `DIR/results.jsonl` in id order, resume by replay.
//!
//! Determinism: the strategy is seeded from the config; candidates are asked in batches
//! whose size does not depend on the thread count, evaluated in parallel, and recorded and
//! told in id order, so the same seed gives byte-identical `results.jsonl` on 1 or N
//! threads. Wall times are not part of a record (they would differ run to run); they go
//! to `DIR/timings.jsonl`, one line per evaluation.
//!
//! Resume: `results.jsonl` is the checkpoint. A resumed run starts the strategy again from
//! the seed and replays it: every candidate whose id is already recorded gets its recorded
//! result (its genes must match, or the folder belongs to another search), so the
//! strategy reaches the same state and the run ends with the same results as one that was
//! never interrupted. A line cut short by a kill is dropped. Stopping (Ctrl-C: the `stop`
//! flag) lets the evaluations in flight finish and records them; designs not yet started
//! are left for a resume. Slow evaluations are also journaled as they end
//! ([`crate::journal`]), so a kill loses only those in flight.

use crate::StudyError;
use crate::config::LoadedConfig;
use crate::evaluate::{DesignRef, Evaluation, Evaluator};
use crate::journal::{JOURNAL_MIN_MS, Journal, JournalEntry};
use crate::report::{self, RunSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tessera_search::{Candidate, Gene, HypervolumeTrace, Outcome, StrategySpec, make_strategy};

/// Version of the run folder's files (manifest, results, summary).
pub const RUN_FORMAT_VERSION: u32 = 1;

/// Candidates asked at a time (a whole generation for NSGA); independent of the thread
/// count so that runs are identical on any number of threads.
pub const BATCH: usize = 256;

/// One evaluation, one line of `results.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Position in this run's ask order (equal to `global_index` except in NSGA islands).
    pub id: u64,
    /// Position in the unsharded sequence (random and grid shards).
    pub global_index: u64,
    pub genes: Vec<Gene>,
    /// Parameter name -> value.
    pub design: Map<String, Value>,
    /// `ok`, `infeasible` (the design cannot be built or run) or `failed` (the evaluation
    /// went wrong).
    pub status: String,
    /// Every metric the evaluator reported (empty unless `ok`).
    pub metrics: BTreeMap<String, f64>,
    /// The objectives in their own units and direction (empty unless `ok`).
    pub objectives: Vec<f64>,
    /// Summed normalised constraint violation (0 = feasible); `null` = not scored.
    pub violation: Option<f64>,
    pub feasible: bool,
    /// Why it is infeasible or failed (constraints broken, evaluator's reason).
    pub reason: Option<String>,
    /// The id of an earlier evaluation of the same genes whose result this reuses.
    pub cached_from: Option<u64>,
}

/// What the strategy, the summary and the plots need of a record: implemented by
/// [`Record`] and by the lean form a run keeps in memory ([`Kept`]).
pub trait Scored {
    fn id(&self) -> u64;
    /// `ok`, `infeasible` or `failed`.
    fn status(&self) -> &str;
    /// The objectives in their own units and direction (empty unless `ok`).
    fn objectives(&self) -> &[f64];
    fn violation(&self) -> Option<f64>;
    fn feasible(&self) -> bool;
    fn reason(&self) -> Option<&str>;
    fn cached(&self) -> bool;
}

impl Scored for Record {
    fn id(&self) -> u64 {
        self.id
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn objectives(&self) -> &[f64] {
        &self.objectives
    }
    fn violation(&self) -> Option<f64> {
        self.violation
    }
    fn feasible(&self) -> bool {
        self.feasible
    }
    fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    fn cached(&self) -> bool {
        self.cached_from.is_some()
    }
}

/// A record as a run keeps it in memory: the fields of [`Scored`] and where its line is
/// in `results.jsonl`. The design and the metrics are not kept (building and freeing
/// their string maps cost a 200,000-design run a fifth of its time); the front's records
/// are read back from the file at the end.
#[derive(Debug, Clone)]
pub struct Kept {
    id: u64,
    status: std::borrow::Cow<'static, str>,
    objectives: Objectives,
    violation: Option<f64>,
    feasible: bool,
    reason: Option<String>,
    cached: bool,
    /// Byte offset and length of its line in `results.jsonl` (`None`: a record replayed
    /// on resume, which the run holds in full).
    line: Option<(u64, usize)>,
}

/// A record's objectives, held inline when there are at most four (no allocation per
/// design in the usual case).
#[derive(Debug, Clone)]
enum Objectives {
    Inline { values: [f64; 4], len: u8 },
    Heap(Vec<f64>),
}

impl Objectives {
    fn new(v: &[f64]) -> Objectives {
        if v.len() <= 4 {
            let mut values = [0.0; 4];
            values[..v.len()].copy_from_slice(v);
            Objectives::Inline {
                values,
                len: v.len() as u8,
            }
        } else {
            Objectives::Heap(v.to_vec())
        }
    }

    fn as_slice(&self) -> &[f64] {
        match self {
            Objectives::Inline { values, len } => &values[..usize::from(*len)],
            Objectives::Heap(v) => v,
        }
    }
}

impl Kept {
    fn of(r: &Record) -> Kept {
        Kept {
            id: r.id,
            status: match r.status.as_str() {
                "ok" => "ok".into(),
                "infeasible" => "infeasible".into(),
                "failed" => "failed".into(),
                other => other.to_string().into(),
            },
            objectives: Objectives::new(&r.objectives),
            violation: r.violation,
            feasible: r.feasible,
            reason: r.reason.clone(),
            cached: r.cached_from.is_some(),
            line: None,
        }
    }
}

impl Scored for Kept {
    fn id(&self) -> u64 {
        self.id
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn objectives(&self) -> &[f64] {
        self.objectives.as_slice()
    }
    fn violation(&self) -> Option<f64> {
        self.violation
    }
    fn feasible(&self) -> bool {
        self.feasible
    }
    fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    fn cached(&self) -> bool {
        self.cached
    }
}

/// What a run folder says about the run (`manifest.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub name: String,
    pub config_file: String,
    /// SHA-256 of the config text.
    pub config_hash: String,
    pub seed: u64,
    /// `[K, N]` for `--shard K/N`.
    pub shard: Option<[u32; 2]>,
    pub strategy: String,
    pub evaluator: String,
    pub tool_version: String,
    /// Seconds since the Unix epoch at the first start, and at every resume.
    pub started_unix_s: Vec<u64>,
    pub host: String,
    pub threads: usize,
    /// The sequential baseline's network objective and budget share, when it ran.
    #[serde(default)]
    pub sequential: Option<(String, f64)>,
    /// The config itself, so a folder can be read (and merged, and shown) without it.
    pub config: crate::config::SearchConfig,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub dir: PathBuf,
    pub threads: usize,
    pub resume: bool,
    /// `(K, N)`: part K (from 0) of N.
    pub shard: Option<(u32, u32)>,
    /// The tool's version, recorded in the manifest.
    pub tool_version: String,
    /// Run the sequential baseline instead of the joint search: (network objective,
    /// network share of the budget). See [`crate::sequential`].
    pub sequential: Option<(String, f64)>,
}

/// Progress, after each recorded evaluation.
#[derive(Debug, Clone)]
pub struct RunProgress {
    pub done: u64,
    /// The evaluation budget of this run (or shard), when there is one.
    pub budget: Option<u64>,
    pub hypervolume: f64,
    pub feasible: u64,
    pub elapsed_s: f64,
    /// Evaluations replayed from `results.jsonl` on resume.
    pub replayed: u64,
}

/// The evaluation budget of one shard: random and grid shards split the designs of the
/// single run (indices below the budget), NSGA islands share the budget evenly (the last
/// islands get one less when it does not divide).
pub fn shard_budget(total: u64, strategy: &StrategySpec, shard: Option<(u32, u32)>) -> u64 {
    let Some((k, n)) = shard else { return total };
    let (k, n) = (u64::from(k), u64::from(n));
    match strategy {
        StrategySpec::Random | StrategySpec::Grid(_) => {
            if total > k {
                (total - k).div_ceil(n)
            } else {
                0
            }
        }
        _ => total / n + u64::from(k < total % n),
    }
}

/// Run (or resume) a search into `opts.dir`.
pub fn run(
    cfg: &LoadedConfig,
    opts: &RunOptions,
    stop: &AtomicBool,
    progress: &(dyn Fn(&RunProgress) + Sync),
) -> Result<RunSummary, StudyError> {
    let dir = &opts.dir;
    std::fs::create_dir_all(dir).map_err(|e| StudyError::io(dir, e))?;
    let results_path = dir.join("results.jsonl");
    let manifest_path = dir.join("manifest.json");
    let c = &cfg.config;
    let shard_arr = opts.shard.map(|(k, n)| [k, n]);
    let evaluator = crate::evaluate::build(cfg, dir)?;
    let mut strategy: Box<dyn tessera_search::Strategy> = match &opts.sequential {
        Some((objective, fraction)) => {
            if opts.shard.is_some() {
                return Err(StudyError::Resume(
                    "the sequential baseline runs as one job: --shard is not supported with it"
                        .into(),
                ));
            }
            let reference = crate::evaluate::reference_values(cfg)?;
            Box::new(crate::sequential::Sequential::new(
                cfg, objective, *fraction, &reference,
            )?)
        }
        None => make_strategy(
            &cfg.strategy_spec(),
            &cfg.space,
            c.objectives.len(),
            c.seed,
            opts.shard,
        )?,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());

    let mut previous: Vec<Record> = Vec::new();
    let mut manifest = if results_path.exists() || manifest_path.exists() {
        if !opts.resume {
            return Err(StudyError::Resume(format!(
                "{} already holds a run; add --resume to continue it, or choose another folder",
                dir.display()
            )));
        }
        let m = read_manifest(&manifest_path)?;
        if m.config_hash != cfg.hash()
            || m.seed != c.seed
            || m.shard != shard_arr
            || m.sequential != opts.sequential
        {
            return Err(StudyError::Resume(format!(
                "{}: written by another search (config hash, seed or shard differ: {} seed {} shard {:?}); resume with the same config, seed and --shard",
                manifest_path.display(),
                m.config_file,
                m.seed,
                m.shard
            )));
        }
        // The cache key is the genes and the evaluator's name and version: results of
        // another evaluator version are not reused.
        let now_evaluator = evaluator.describe();
        if m.evaluator != now_evaluator {
            return Err(StudyError::Resume(format!(
                "{}: the run was scored by `{}`, this one would be scored by `{}`; its results cannot be reused (start a new folder)",
                manifest_path.display(),
                m.evaluator,
                now_evaluator
            )));
        }
        previous = read_results(&results_path, true)?;
        let mut m = m;
        m.started_unix_s.push(now);
        m.threads = opts.threads;
        m
    } else {
        Manifest {
            format_version: RUN_FORMAT_VERSION,
            name: c.name.clone(),
            config_file: cfg.file.clone(),
            config_hash: cfg.hash(),
            seed: c.seed,
            shard: shard_arr,
            strategy: strategy.name().to_string(),
            evaluator: evaluator.describe(),
            tool_version: opts.tool_version.clone(),
            started_unix_s: vec![now],
            host: host_name(),
            threads: opts.threads,
            sequential: opts.sequential.clone(),
            config: c.clone(),
        }
    };
    write_json(&manifest_path, &manifest)?;
    manifest.threads = opts.threads;
    // Slow evaluations a killed run finished but had not recorded yet.
    let mut journaled = if opts.resume {
        crate::journal::read(dir, previous.len() as u64)?
    } else {
        Default::default()
    };
    let journal = Journal::new(dir);
    if !opts.resume {
        journal.remove()?;
    }

    // Buffered, and flushed after every batch: a kill loses at most the batch being
    // recorded, whose designs a resume evaluates again, or takes from the journal when
    // they were slow (one write call per line made the accelerator-only runs spend a
    // quarter of their time in the kernel).
    let results_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&results_path)
        .map_err(|e| StudyError::io(&results_path, e))?;
    let offset = results_file
        .metadata()
        .map_err(|e| StudyError::io(&results_path, e))?
        .len();
    let mut results = std::io::BufWriter::with_capacity(1 << 20, results_file);
    let timings_path = dir.join("timings.jsonl");
    let mut timings = std::io::BufWriter::with_capacity(
        1 << 16,
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&timings_path)
            .map_err(|e| StudyError::io(&timings_path, e))?,
    );

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| StudyError::Threads {
            threads: opts.threads,
            message: e.to_string(),
        })?;
    let budget = c
        .budget
        .evaluations
        .map(|b| shard_budget(b, &c.strategy, opts.shard));
    let t0 = Instant::now();
    let mut st = Recorder {
        cfg,
        results_path: &results_path,
        previous: &previous,
        offset,
        flushed: offset,
        reader: Reader::new(&results_path, &previous),
        results: &mut results,
        timings: &mut timings,
        records: Vec::new(),
        trace: HypervolumeTrace::new(&cfg.minimised_reference())?,
        hv_trace: Vec::new(),
        feasible: 0,
        replayed: previous.len() as u64,
        budget,
        t0,
        last_progress: None,
        progress,
    };
    // Genes already asked -> the first id that had them (the cache).
    // (Fx hashing: the keys are a few integers, made by the strategy, not by an
    // adversary; SipHash took 3 % of a 200,000-design run.)
    let mut by_genes: GenesCache = GenesCache::default();
    let mut asked = 0u64;
    // The next batch, planned: none when the budget, the wall time or Ctrl-C says stop.
    let ask_next = |strategy: &mut dyn tessera_search::Strategy,
                    asked: &mut u64,
                    by_genes: &mut GenesCache,
                    journaled: &mut Journaled|
     -> Result<Option<Planned>, StudyError> {
        let left = budget.map_or(u64::MAX, |b| b.saturating_sub(*asked));
        let out_of_time = c
            .budget
            .wall_time_s
            .is_some_and(|w| t0.elapsed().as_secs_f64() >= w);
        if left == 0 || out_of_time || stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let batch = strategy.ask(BATCH.min(left.min(usize::MAX as u64) as usize));
        *asked += batch.len() as u64;
        let planned = plan(batch, &previous, by_genes, journaled, &results_path)?;
        Ok(Some(planned).filter(|p| !p.batch.is_empty()))
    };
    // Strategies whose asks do not depend on tells (random, grid) evaluate a batch while
    // one thread records the batch before it and asks the batch after it; the others ask,
    // evaluate and record in turn. Both give the same records: the candidates and the
    // cache do not depend on the overlap (an ask still comes after the tells of every
    // batch but the one before it).
    let ahead = strategy.asks_ahead();
    let mut pending = ask_next(strategy.as_mut(), &mut asked, &mut by_genes, &mut journaled)?;
    let mut evaluated: Option<Evaluated> = None;
    let stopped;
    loop {
        if pending.is_none() && evaluated.is_none() {
            stopped = stop.load(Ordering::Relaxed);
            break;
        }
        if !ahead {
            let p = pending.take().expect("in turn: nothing is left evaluated");
            let e = pool.install(|| evaluate_batch(cfg, evaluator.as_ref(), p, &journal, stop));
            journal.check()?;
            // Recorded before asking again: the strategy needs its outcomes.
            if st.record(e, strategy.as_mut())? {
                stopped = true;
                break;
            }
            pending = ask_next(strategy.as_mut(), &mut asked, &mut by_genes, &mut journaled)?;
            continue;
        }
        let to_evaluate = pending.take();
        let (fresh, recorded) = pool.install(|| {
            rayon::join(
                || to_evaluate.map(|p| evaluate_batch(cfg, evaluator.as_ref(), p, &journal, stop)),
                || -> Result<(bool, Option<Planned>), StudyError> {
                    let cut = match evaluated.take() {
                        Some(e) => st.record(e, strategy.as_mut())?,
                        None => false,
                    };
                    let next = if cut {
                        None
                    } else {
                        ask_next(strategy.as_mut(), &mut asked, &mut by_genes, &mut journaled)?
                    };
                    Ok((cut, next))
                },
            )
        });
        let (cut, next) = recorded?;
        journal.check()?;
        if cut {
            stopped = true;
            break;
        }
        evaluated = fresh;
        pending = next;
    }
    let Recorder {
        records, hv_trace, ..
    } = st;
    let _ = timings.flush();
    if !stopped {
        journal.remove()?;
    }
    let summary = report::summarise(cfg, &manifest, &records, &hv_trace, stopped)?;
    let mut reader = Reader::new(&results_path, &previous);
    let front = summary
        .front
        .iter()
        .map(|&id| reader.record(&records, id))
        .collect::<Result<Vec<_>, _>>()?;
    pool.install(|| report::write_all(dir, cfg, &summary, &records, &front, &hv_trace))?;
    Ok(summary)
}

/// Genes already asked -> the first id that had them.
pub(crate) type GenesCache = rustc_hash::FxHashMap<Vec<u64>, u64>;

/// A batch of candidates with where each one's result comes from.
struct Planned {
    batch: Vec<Candidate>,
    sources: Vec<Source>,
}

/// Replayed from `results.jsonl`, the cached result of an earlier id, to evaluate, or
/// evaluated already by a killed run (from its journal: recorded as if evaluated now).
enum Source {
    Replay(Kept),
    Cached(u64),
    Evaluate,
    Journal(Box<JournalEntry>),
}

/// Journaled evaluations not recorded yet, by id.
type Journaled = rustc_hash::FxHashMap<u64, JournalEntry>;

/// A planned batch after evaluation: the fresh results by position in the batch.
struct Evaluated {
    planned: Planned,
    chunks: Vec<Chunk>,
    /// Position in the batch -> (chunk, item) of its fresh result.
    at: Vec<Option<(usize, usize)>>,
}

/// Decide, for each candidate of a batch, whether it is replayed, cached or evaluated.
fn plan(
    batch: Vec<Candidate>,
    previous: &[Record],
    by_genes: &mut GenesCache,
    journaled: &mut Journaled,
    results_path: &Path,
) -> Result<Planned, StudyError> {
    let mut sources = Vec::with_capacity(batch.len());
    for cand in &batch {
        let key = genes_key(&cand.genes);
        if let Some(r) = previous.get(cand.id as usize) {
            if r.id != cand.id || r.genes != cand.genes {
                return Err(StudyError::Resume(format!(
                    "{}: line {} does not match this search's candidate {} (different genes); the folder belongs to another run",
                    results_path.display(),
                    cand.id + 1,
                    cand.id
                )));
            }
            by_genes.entry(key).or_insert(cand.id);
            sources.push(Source::Replay(Kept::of(r)));
        } else if let Some(&first) = by_genes.get(&key) {
            sources.push(Source::Cached(first));
        } else {
            by_genes.insert(key, cand.id);
            match journaled.remove(&cand.id) {
                Some(j) if j.record.genes != cand.genes => {
                    return Err(StudyError::Resume(format!(
                        "{}: the journaled evaluation of id {} does not match this search's candidate (different genes); the folder belongs to another run",
                        results_path
                            .with_file_name(crate::journal::JOURNAL_FILE)
                            .display(),
                        cand.id
                    )));
                }
                Some(j) => sources.push(Source::Journal(Box::new(j))),
                None => sources.push(Source::Evaluate),
            }
        }
    }
    Ok(Planned { batch, sources })
}

/// Evaluate the designs of a batch that need it, in parallel. Each worker decodes its
/// design, evaluates it, builds the record and writes its JSON line, so that recording is
/// left with appending lines in id order. Designs not started when `stop` is raised are
/// left out.
fn evaluate_batch(
    cfg: &LoadedConfig,
    evaluator: &dyn Evaluator,
    planned: Planned,
    journal: &Journal,
    stop: &AtomicBool,
) -> Evaluated {
    use rayon::prelude::*;
    let batch = &planned.batch;
    let to_eval: Vec<usize> = planned
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Source::Evaluate | Source::Journal(_)))
        .map(|(i, _)| i)
        .collect();
    // Designs are evaluated in chunks, each writing its lines into one buffer: one
    // allocation per chunk instead of per line, freed by the recording thread (with a
    // line each, the two threads spent a tenth of a run contending for the allocator).
    let chunks: Vec<Chunk> = to_eval
        .par_chunks(CHUNK)
        .map(|positions| {
            let mut chunk = Chunk {
                bytes: Vec::with_capacity(positions.len() * 768),
                items: Vec::with_capacity(positions.len()),
            };
            // One design map per chunk, whose values each design overwrites (its keys
            // are the same for every design).
            let mut design: Option<Map<String, Value>> = None;
            for &i in positions {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let worker = rayon::current_thread_index().unwrap_or(0);
                let cand = &batch[i];
                let design = match &mut design {
                    Some(d) => {
                        for (p, g) in cfg.config.space.iter().zip(&cand.genes) {
                            if let Some(v) = d.get_mut(&p.name) {
                                *v = p.kind.decode(g);
                            }
                        }
                        d
                    }
                    None => design.insert(design_map(cfg, cand)),
                };
                let d = DesignRef {
                    id: cand.id,
                    genes: &cand.genes,
                    values: design,
                };
                let (scored, wall_ms, fresh) = match &planned.sources[i] {
                    Source::Journal(j) => (scoring_of(&j.record), j.wall_ms, false),
                    _ => {
                        let t = Instant::now();
                        let e = evaluate_safely(evaluator, &d, worker);
                        let wall_ms = t.elapsed().as_secs_f64() * 1e3;
                        (score(cfg, e), wall_ms, true)
                    }
                };
                let start = chunk.bytes.len();
                let line = serde_json::to_writer(
                    &mut chunk.bytes,
                    &RecordRef {
                        id: cand.id,
                        global_index: cand.global_index,
                        genes: &cand.genes,
                        design,
                        status: scored.status,
                        metrics: &scored.metrics,
                        objectives: &scored.objectives,
                        violation: scored.violation,
                        feasible: scored.feasible,
                        reason: scored.reason.as_deref(),
                        cached_from: None,
                    },
                );
                let line = match line {
                    Ok(()) => {
                        chunk.bytes.push(b'\n');
                        if fresh && wall_ms >= JOURNAL_MIN_MS {
                            journal.write(wall_ms, &chunk.bytes[start..]);
                        }
                        Ok(start..chunk.bytes.len())
                    }
                    Err(e) => {
                        chunk.bytes.truncate(start);
                        Err(e)
                    }
                };
                chunk.items.push(Fresh {
                    position: i,
                    kept: Some(Kept {
                        id: cand.id,
                        status: scored.status.into(),
                        objectives: Objectives::new(&scored.objectives),
                        violation: scored.violation,
                        feasible: scored.feasible,
                        reason: scored.reason,
                        cached: false,
                        line: None,
                    }),
                    line,
                    wall_ms,
                });
            }
            chunk
        })
        .collect();
    let mut at = vec![None; batch.len()];
    for (c, chunk) in chunks.iter().enumerate() {
        for (k, f) in chunk.items.iter().enumerate() {
            at[f.position] = Some((c, k));
        }
    }
    Evaluated {
        planned,
        chunks,
        at,
    }
}

/// Designs evaluated per chunk of a batch.
const CHUNK: usize = 8;

/// The designs of one chunk and their lines, one after the other in `bytes`.
struct Chunk {
    bytes: Vec<u8>,
    items: Vec<Fresh>,
}

/// What recording needs: the run's files and the state built from the records.
struct Recorder<'a, W: Write> {
    cfg: &'a LoadedConfig,
    results_path: &'a Path,
    /// Records replayed from `results.jsonl` on resume.
    previous: &'a [Record],
    /// Length of `results.jsonl` (where the next line goes).
    offset: u64,
    /// Length of `results.jsonl` as far as it has been flushed.
    flushed: u64,
    /// Reads back the base records of cached designs.
    reader: Reader<'a>,
    results: &'a mut W,
    timings: &'a mut W,
    records: Vec<Kept>,
    trace: HypervolumeTrace,
    hv_trace: Vec<f64>,
    feasible: u64,
    replayed: u64,
    budget: Option<u64>,
    t0: Instant,
    last_progress: Option<Instant>,
    progress: &'a (dyn Fn(&RunProgress) + Sync),
}

impl<W: Write> Recorder<'_, W> {
    /// Append a record's line to `results.jsonl` (not for a record replayed from it) and
    /// note where it went.
    fn append(
        &mut self,
        kept: &mut Kept,
        line: Result<&[u8], &serde_json::Error>,
    ) -> Result<(), StudyError> {
        if (kept.id as usize) < self.previous.len() {
            return Ok(());
        }
        let line = line.map_err(|e| StudyError::io(self.results_path, e))?;
        self.results
            .write_all(line)
            .map_err(|e| StudyError::io(self.results_path, e))?;
        kept.line = Some((self.offset, line.len()));
        self.offset += line.len() as u64;
        Ok(())
    }

    /// Record and tell an evaluated batch in id order, up to the first design not
    /// evaluated (stopped). Returns whether it stopped there.
    fn record(
        &mut self,
        e: Evaluated,
        strategy: &mut dyn tessera_search::Strategy,
    ) -> Result<bool, StudyError> {
        let Evaluated {
            planned,
            mut chunks,
            at,
        } = e;
        let n = planned.batch.len();
        let mut stopped = false;
        for (i, (cand, source)) in planned.batch.iter().zip(planned.sources).enumerate() {
            let record = match source {
                Source::Replay(r) => r,
                Source::Cached(first) => {
                    if self.records.get(first as usize).is_none() {
                        stopped = true;
                        break;
                    }
                    // The base's line may still be in the buffer (written in this batch).
                    if self.records[first as usize]
                        .line
                        .is_some_and(|(at, _)| at >= self.flushed)
                    {
                        self.results
                            .flush()
                            .map_err(|e| StudyError::io(self.results_path, e))?;
                        self.flushed = self.offset;
                    }
                    let base = self.reader.record(&self.records, first)?;
                    let r = Record {
                        id: cand.id,
                        global_index: cand.global_index,
                        genes: cand.genes.clone(),
                        design: design_map(self.cfg, cand),
                        cached_from: Some(base.cached_from.unwrap_or(base.id)),
                        ..base
                    };
                    let line = record_line(&r);
                    let mut kept = Kept::of(&r);
                    self.append(&mut kept, line.as_deref())?;
                    kept
                }
                Source::Evaluate | Source::Journal(_) => {
                    let Some((c, k)) = at[i] else {
                        stopped = true;
                        break;
                    };
                    let chunk = &mut chunks[c];
                    let f = &mut chunk.items[k];
                    let _ = writeln!(
                        self.timings,
                        "{{\"id\":{},\"wall_ms\":{}}}",
                        cand.id, f.wall_ms
                    );
                    let mut kept = f.kept.take().expect("each fresh result is recorded once");
                    let line = match &f.line {
                        Ok(span) => Ok(&chunk.bytes[span.clone()]),
                        Err(e) => Err(e),
                    };
                    self.append(&mut kept, line)?;
                    kept
                }
            };
            strategy.tell(cand.id, outcome_of(self.cfg, &record))?;
            let (objs, cv) = minimised_point(self.cfg, &record);
            let hv = self.trace.push(&objs, cv)?;
            self.hv_trace.push(hv);
            self.feasible += u64::from(record.feasible);
            self.records.push(record);
            // Progress at most every 50 ms and at the end of each batch: drawing it for
            // every one of 200,000 fast evaluations cost more than evaluating them.
            if i + 1 == n
                || self
                    .last_progress
                    .is_none_or(|t| t.elapsed().as_millis() >= 50)
            {
                self.last_progress = Some(Instant::now());
                (self.progress)(&RunProgress {
                    done: self.records.len() as u64,
                    budget: self.budget,
                    hypervolume: hv,
                    feasible: self.feasible,
                    elapsed_s: self.t0.elapsed().as_secs_f64(),
                    replayed: self.replayed,
                });
            }
        }
        self.results
            .flush()
            .map_err(|e| StudyError::io(self.results_path, e))?;
        self.flushed = self.offset;
        let _ = self.timings.flush();
        Ok(stopped)
    }
}

/// A design evaluated by a worker, with where its line of `results.jsonl` is in its
/// chunk's buffer.
struct Fresh {
    /// Position in the batch.
    position: usize,
    /// Taken when recorded.
    kept: Option<Kept>,
    line: Result<std::ops::Range<usize>, serde_json::Error>,
    wall_ms: f64,
}

/// A [`Record`] made of borrowed parts: serializes to the same JSON (same fields, same
/// order; tested), so a worker writes a line without building a record.
#[derive(Serialize)]
struct RecordRef<'a> {
    id: u64,
    global_index: u64,
    genes: &'a [Gene],
    design: &'a Map<String, Value>,
    status: &'a str,
    metrics: &'a crate::evaluate::Metrics,
    objectives: &'a [f64],
    violation: Option<f64>,
    feasible: bool,
    reason: Option<&'a str>,
    cached_from: Option<u64>,
}

/// A record (or its borrowed form) as its line of `results.jsonl`, newline included.
fn record_line<R: Serialize>(r: &R) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = Vec::with_capacity(768);
    serde_json::to_writer(&mut line, r)?;
    line.push(b'\n');
    Ok(line)
}

/// An evaluator that panics is a failed evaluation, not a lost run.
fn evaluate_safely(ev: &dyn Evaluator, d: &DesignRef<'_>, worker: usize) -> Evaluation {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ev.evaluate(d, worker))) {
        Ok(e) => e,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Evaluation::Failed(format!("the evaluator panicked: {msg}"))
        }
    }
}

/// The cache key of a candidate: its genes' bits (each position of a space has one gene
/// kind, so the bits alone identify the genes).
pub(crate) fn genes_key(genes: &[Gene]) -> Vec<u64> {
    genes
        .iter()
        .map(|g| match *g {
            Gene::Real(x) => x.to_bits(),
            Gene::Int(v) => v as u64,
            Gene::Cat(c) => c as u64,
        })
        .collect()
}

/// Parameter name -> decoded value of a candidate.
pub fn design_map(cfg: &LoadedConfig, c: &Candidate) -> Map<String, Value> {
    cfg.config
        .space
        .iter()
        .zip(&c.genes)
        .map(|(p, g)| (p.name.clone(), p.kind.decode(g)))
        .collect()
}

/// An evaluation judged against the config: status, objectives picked from the metrics,
/// constraints checked.
struct Scoring {
    status: &'static str,
    metrics: crate::evaluate::Metrics,
    objectives: Vec<f64>,
    violation: Option<f64>,
    feasible: bool,
    reason: Option<String>,
}

/// The scoring a journaled record holds.
fn scoring_of(r: &Record) -> Scoring {
    Scoring {
        status: match r.status.as_str() {
            "ok" => "ok",
            "infeasible" => "infeasible",
            _ => "failed",
        },
        metrics: r
            .metrics
            .iter()
            .map(|(k, v)| (k.clone().into(), *v))
            .collect(),
        objectives: r.objectives.clone(),
        violation: r.violation,
        feasible: r.feasible,
        reason: r.reason.clone(),
    }
}

fn score(cfg: &LoadedConfig, e: Evaluation) -> Scoring {
    let mut r = Scoring {
        status: "",
        metrics: crate::evaluate::Metrics::new(),
        objectives: Vec::new(),
        violation: None,
        feasible: false,
        reason: None,
    };
    match e {
        Evaluation::Infeasible(why) => {
            r.status = "infeasible";
            r.reason = Some(why);
        }
        Evaluation::Failed(why) => {
            r.status = "failed";
            r.reason = Some(why);
        }
        Evaluation::Metrics(m) => {
            let mut missing = Vec::new();
            r.objectives.reserve_exact(cfg.config.objectives.len());
            for o in &cfg.config.objectives {
                match m.get(o.metric.as_str()) {
                    Some(v) if v.is_finite() => r.objectives.push(*v),
                    Some(v) => missing.push(format!("objective `{}` is {v}", o.metric)),
                    None => missing.push(format!("no metric `{}`", o.metric)),
                }
            }
            let mut violation = 0.0;
            let mut broken = Vec::new();
            for c in &cfg.constraints {
                match m.get(c.metric.as_str()) {
                    Some(v) => {
                        let x = c.violation(*v);
                        if x > 0.0 {
                            broken.push(format!(
                                "{} = {v} {} {}",
                                c.metric,
                                if c.at_most { ">" } else { "<" },
                                c.bound
                            ));
                        }
                        violation += x;
                    }
                    None => missing.push(format!("no metric `{}` for a constraint", c.metric)),
                }
            }
            r.metrics = m;
            if !missing.is_empty() {
                r.status = "failed";
                r.objectives.clear();
                r.reason = Some(format!(
                    "the evaluator's metrics lack what the config needs: {} (it reported: {})",
                    missing.join("; "),
                    r.metrics.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            } else {
                r.status = "ok";
                r.violation = Some(violation);
                r.feasible = violation == 0.0;
                if !broken.is_empty() {
                    r.reason = Some(format!("constraints broken: {}", broken.join("; ")));
                }
            }
        }
    }
    r
}

/// Turn an evaluation into a record: objectives picked from the metrics, constraints
/// checked.
pub fn make_record(
    cfg: &LoadedConfig,
    cand: &Candidate,
    design: Map<String, Value>,
    e: Evaluation,
) -> Record {
    let s = score(cfg, e);
    Record {
        id: cand.id,
        global_index: cand.global_index,
        genes: cand.genes.clone(),
        design,
        status: s.status.to_string(),
        metrics: s
            .metrics
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v))
            .collect(),
        objectives: s.objectives,
        violation: s.violation,
        feasible: s.feasible,
        reason: s.reason,
        cached_from: None,
    }
}

/// The strategy's view of a record.
pub fn outcome_of<R: Scored + ?Sized>(cfg: &LoadedConfig, r: &R) -> Outcome {
    match (r.status(), r.violation()) {
        ("ok", Some(v)) => Outcome::Scored {
            objectives: cfg.minimised(r.objectives()),
            violation: v,
        },
        _ => Outcome::Failed,
    }
}

/// Minimised objectives and violation of a record (+inf violation when not scored).
pub fn minimised_point<R: Scored + ?Sized>(cfg: &LoadedConfig, r: &R) -> (Vec<f64>, f64) {
    match (r.status(), r.violation()) {
        ("ok", Some(v)) => (cfg.minimised(r.objectives()), v),
        _ => (
            vec![f64::INFINITY; cfg.config.objectives.len()],
            f64::INFINITY,
        ),
    }
}

/// Reads full records back: replayed ones from memory, the others from their line of
/// `results.jsonl`, through one file handle opened on first use.
struct Reader<'a> {
    path: &'a Path,
    previous: &'a [Record],
    file: Option<std::fs::File>,
}

impl<'a> Reader<'a> {
    fn new(path: &'a Path, previous: &'a [Record]) -> Self {
        Reader {
            path,
            previous,
            file: None,
        }
    }

    /// The full record of `id` (its line must have been flushed).
    fn record(&mut self, kept: &[Kept], id: u64) -> Result<Record, StudyError> {
        let path = self.path;
        if let Some(r) = self.previous.get(id as usize) {
            return Ok(r.clone());
        }
        let Some((at, len)) = kept.get(id as usize).and_then(|k| k.line) else {
            return Err(StudyError::Resume(format!(
                "{}: record {id} is neither replayed nor written",
                path.display()
            )));
        };
        use std::io::{Read, Seek, SeekFrom};
        let f = match &mut self.file {
            Some(f) => f,
            None => self
                .file
                .insert(std::fs::File::open(path).map_err(|e| StudyError::io(path, e))?),
        };
        let mut buf = vec![0u8; len];
        f.seek(SeekFrom::Start(at))
            .and_then(|_| f.read_exact(&mut buf))
            .map_err(|e| StudyError::io(path, e))?;
        match serde_json::from_slice::<Record>(&buf) {
            Ok(r) if r.id == id => Ok(r),
            Ok(r) => Err(StudyError::Resume(format!(
                "{}: byte {at} holds record {} where record {id} was written; was the file changed during the run?",
                path.display(),
                r.id
            ))),
            Err(e) => Err(StudyError::Resume(format!(
                "{}: the line of record {id} at byte {at} does not read back ({e}); was the file changed during the run?",
                path.display()
            ))),
        }
    }
}

/// Read `results.jsonl`. With `drop_torn_tail`, a last line cut short by a kill is dropped
/// and the file truncated to the last complete line; any other bad line is an error naming
/// it.
pub fn read_results(path: &Path, drop_torn_tail: bool) -> Result<Vec<Record>, StudyError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StudyError::io(path, e)),
    };
    let mut out = Vec::new();
    let mut good_bytes = 0usize;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let complete = line.ends_with('\n');
        match serde_json::from_str::<Record>(line.trim_end()) {
            Ok(r) if complete => {
                if r.id != out.len() as u64 {
                    return Err(StudyError::Config {
                        file: path.display().to_string(),
                        line: i + 1,
                        column: 1,
                        message: format!(
                            "expected the record of id {}, found id {}",
                            out.len(),
                            r.id
                        ),
                    });
                }
                out.push(r);
                good_bytes += line.len();
            }
            _ if i + 1 == lines.len() && drop_torn_tail => {
                // Cut short by a kill: drop it.
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| StudyError::io(path, e))?;
                f.set_len(good_bytes as u64)
                    .map_err(|e| StudyError::io(path, e))?;
            }
            Ok(_) | Err(_) => {
                let message = match serde_json::from_str::<Record>(line.trim_end()) {
                    Err(e) => format!("not a result record: {e}"),
                    Ok(_) => "the line does not end with a newline".into(),
                };
                return Err(StudyError::Config {
                    file: path.display().to_string(),
                    line: i + 1,
                    column: 1,
                    message,
                });
            }
        }
    }
    Ok(out)
}

/// Read `manifest.json`.
pub fn read_manifest(path: &Path) -> Result<Manifest, StudyError> {
    let text = std::fs::read_to_string(path).map_err(|e| StudyError::io(path, e))?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| StudyError::Config {
        file: path.display().to_string(),
        line: e.line(),
        column: e.column(),
        message: format!("not a Tessera run manifest: {e}"),
    })?;
    if m.format_version != RUN_FORMAT_VERSION {
        return Err(StudyError::Config {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!(
                "run format version {}, this Tessera reads version {RUN_FORMAT_VERSION}",
                m.format_version
            ),
        });
    }
    Ok(m)
}

pub(crate) fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), StudyError> {
    let text = serde_json::to_string_pretty(v).map_err(|e| StudyError::io(path, e))?;
    // Write then rename, so a kill never leaves half a file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(|e| StudyError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| StudyError::io(path, e))
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker writes lines from borrowed parts; they must read back as the record.
    #[test]
    fn borrowed_record_serializes_as_the_record() {
        let mut design = Map::new();
        design.insert("rows".into(), Value::from(16));
        design.insert("dataflow".into(), Value::from("OutputStationary"));
        design.insert("bw".into(), Value::from(0.12323295020636417));
        let metrics: BTreeMap<String, f64> =
            [("a".to_string(), 1.5), ("b \"q\"".to_string(), -0.0)].into();
        for (reason, cached_from, violation) in [
            (None, None, Some(0.0)),
            (Some("layer 3: \"too\" small\n"), Some(7), None),
        ] {
            let r = Record {
                id: 3,
                global_index: 9,
                genes: vec![Gene::Int(16), Gene::Cat(0), Gene::Real(0.12323295020636417)],
                design: design.clone(),
                status: "ok".into(),
                metrics: metrics.clone(),
                objectives: vec![1.5, 2.0],
                violation,
                feasible: violation == Some(0.0),
                reason: reason.map(str::to_string),
                cached_from,
            };
            let m: crate::evaluate::Metrics = r
                .metrics
                .iter()
                .map(|(k, v)| (k.clone().into(), *v))
                .collect();
            let borrowed = RecordRef {
                id: r.id,
                global_index: r.global_index,
                genes: &r.genes,
                design: &r.design,
                status: &r.status,
                metrics: &m,
                objectives: &r.objectives,
                violation: r.violation,
                feasible: r.feasible,
                reason: r.reason.as_deref(),
                cached_from: r.cached_from,
            };
            let a = record_line(&r).unwrap();
            assert_eq!(a, record_line(&borrowed).unwrap());
            let back: Record = serde_json::from_slice(&a).unwrap();
            assert_eq!(back, r);
        }
    }

    /// An evaluator that panics gives a failed evaluation with the panic's message; the
    /// run goes on.
    #[test]
    fn a_panicking_evaluator_is_a_failed_evaluation() {
        struct Panics;
        impl Evaluator for Panics {
            fn describe(&self) -> String {
                "panics v1".into()
            }
            fn metric_names(&self) -> Option<Vec<&'static str>> {
                None
            }
            fn evaluate(&self, d: &DesignRef<'_>, _worker: usize) -> Evaluation {
                if d.id == 1 {
                    panic!("model diverged at design {}", d.id);
                }
                std::panic::panic_any(42u32)
            }
        }
        let values = Map::new();
        let d = |id| DesignRef {
            id,
            genes: &[],
            values: &values,
        };
        // (The default hook prints both panics to the test's stderr.)
        let (a, b) = (
            evaluate_safely(&Panics, &d(1), 0),
            evaluate_safely(&Panics, &d(2), 0),
        );
        assert_eq!(
            a,
            Evaluation::Failed("the evaluator panicked: model diverged at design 1".into())
        );
        assert_eq!(
            b,
            Evaluation::Failed("the evaluator panicked: unknown panic".into())
        );
    }

    #[test]
    fn objectives_keep_their_values_inline_or_not() {
        for n in 0..7 {
            let v: Vec<f64> = (0..n).map(|i| i as f64 * 1.5 - 2.0).collect();
            let o = Objectives::new(&v);
            assert_eq!(o.as_slice(), v.as_slice());
            assert_eq!(matches!(o, Objectives::Inline { .. }), n <= 4);
        }
    }

    #[test]
    fn kept_records_keep_what_the_summary_needs() {
        let r = Record {
            id: 4,
            global_index: 4,
            genes: vec![Gene::Int(1)],
            design: Map::new(),
            status: "infeasible".into(),
            metrics: BTreeMap::new(),
            objectives: vec![],
            violation: None,
            feasible: false,
            reason: Some("does not fit".into()),
            cached_from: Some(2),
        };
        let k = Kept::of(&r);
        assert_eq!(
            (k.id(), k.status(), k.objectives(), k.violation()),
            (r.id(), r.status(), r.objectives(), r.violation())
        );
        assert_eq!(
            (k.feasible(), k.reason(), k.cached()),
            (false, Some("does not fit"), true)
        );
    }
}
