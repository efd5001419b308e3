//! Evaluators: what turns a design into metrics. Every evaluator is thread-safe (a run calls
//! it from several rayon workers) and never panics on a bad design: a design that cannot
//! be built or run is [`Evaluation::Infeasible`] with the reason, an evaluation that goes
//! wrong (a crash, a timeout, a simulation that disagrees with the interpreter) is
//! [`Evaluation::Failed`] with the reason.

use crate::StudyError;
use crate::config::{EvaluatorSpec, LoadedConfig};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tessera_arch::Spec;
use tessera_arch::accel::AccelSpec;
use tessera_arch::cgra::CgraSpec;
use tessera_nn::TrainConfig;
use tessera_search::{Gene, TestProblem};

pub mod external;
pub mod network;

/// One design handed to an evaluator.
#[derive(Debug, Clone, Copy)]
pub struct DesignRef<'a> {
    pub id: u64,
    pub genes: &'a [Gene],
    /// Parameter name -> value, in the config's order.
    pub values: &'a Map<String, Value>,
}

/// Metric name -> value. Names are mostly the evaluators' own constants, so they are
/// borrowed, not allocated per design.
pub type Metrics = BTreeMap<std::borrow::Cow<'static, str>, f64>;

/// What an evaluation gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluation {
    /// Every metric the evaluator reports, by name.
    Metrics(Metrics),
    /// The design cannot be built or run (does not fit, does not map, invalid spec).
    Infeasible(String),
    /// The evaluation went wrong (crash, timeout, malformed answer, simulation mismatch).
    Failed(String),
}

/// Scores designs.
pub trait Evaluator: Send + Sync {
    /// Name and version; part of the cache key and recorded in the manifest. Change the
    /// version whenever the same design could score differently.
    fn describe(&self) -> String;
    /// The names of the metrics every successful evaluation reports, so that a config's
    /// objectives and constraints are checked before the run; `None` when they are known
    /// only from the answers (the external evaluator).
    fn metric_names(&self) -> Option<Vec<&'static str>>;
    /// Score one design. `worker` is the index of the calling worker thread (0 when
    /// sequential), for evaluators that keep per-worker state.
    fn evaluate(&self, design: &DesignRef<'_>, worker: usize) -> Evaluation;
    /// Co-generation: write into `dir` the files Tessera's other commands load for this
    /// design (specs, networks, weights, mappings); returns the files' names. The default
    /// writes nothing.
    fn emit(&self, _design: &DesignRef<'_>, _dir: &Path) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }
}

/// Write `text` to `dir/name`, returning the name.
pub(crate) fn emit_file(dir: &Path, name: &str, text: &str) -> Result<String, String> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(|e| format!("{}: cannot write: {e}", p.display()))?;
    Ok(name.to_string())
}

/// A spec as pretty RON (loads with the spec's `load`, e.g. `--arch FILE`).
pub(crate) fn spec_ron<T: serde::Serialize>(spec: &T) -> String {
    tessera_arch::spec_io::to_ron(spec)
}

/// A network as a RON layer list (loads with `tessera accel run FILE`).
pub(crate) fn network_ron(net: &tessera_accel::Network) -> Result<String, String> {
    ron::ser::to_string_pretty(net, ron::ser::PrettyConfig::default().struct_names(true))
        .map_err(|e| e.to_string())
}

/// Build the evaluator a config names. `run_dir` is where it may keep files (the external
/// evaluator's stderr logs). Every parameter path is checked here, so a field that does not
/// exist is a located config error before any evaluation.
pub fn build(cfg: &LoadedConfig, run_dir: &Path) -> Result<Box<dyn Evaluator>, StudyError> {
    let evaluator = build_unchecked(cfg, run_dir)?;
    check_metrics(cfg, evaluator.as_ref())?;
    Ok(evaluator)
}

/// Every objective and constraint names a metric the evaluator reports (when it says which
/// it reports): a misspelt name is a config error, not a budget of failed evaluations.
fn check_metrics(cfg: &LoadedConfig, evaluator: &dyn Evaluator) -> Result<(), StudyError> {
    let Some(names) = evaluator.metric_names() else {
        return Ok(());
    };
    let used = cfg
        .config
        .objectives
        .iter()
        .map(|o| o.metric.as_str())
        .chain(cfg.constraints.iter().map(|c| c.metric.as_str()));
    for metric in used {
        if !names.contains(&metric) {
            return Err(cfg.error_at(
                &format!("\"{metric}"),
                format!(
                    "metric `{metric}` is not one the evaluator reports; expected one of: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn build_unchecked(cfg: &LoadedConfig, run_dir: &Path) -> Result<Box<dyn Evaluator>, StudyError> {
    match &cfg.config.evaluator {
        EvaluatorSpec::Problem { problem } => {
            let p = TestProblem::from_name(problem).ok_or_else(|| {
                cfg.error_at(
                    problem,
                    format!("unknown test problem `{problem}`; expected zdt1, zdt2, zdt3 or dtlz2"),
                )
            })?;
            if cfg.space.len() != p.n_vars()
                || cfg
                    .config
                    .space
                    .iter()
                    .any(|q| !matches!(q.kind, crate::config::ParamKind::Real { .. }))
            {
                return Err(cfg.error_at(
                    "space",
                    format!(
                        "{} takes {} real variables in [0, 1]; leave `space: []` to use them",
                        p.name(),
                        p.n_vars()
                    ),
                ));
            }
            Ok(Box::new(ProblemEvaluator { problem: p }))
        }
        EvaluatorSpec::Accel { network, base } => {
            let net = tessera_accel::networks::load(network)
                .map_err(|e| cfg.error_at(network, format!("network `{network}`: {e}")))?;
            let shapes = net
                .lower()
                .map_err(|e| cfg.error_at(network, format!("network `{network}`: {e}")))?;
            let template = SpecTemplate::<AccelSpec>::new(cfg, base)?;
            Ok(Box::new(AccelEvaluator {
                network: net.name.clone(),
                net,
                shapes,
                template,
            }))
        }
        EvaluatorSpec::Cgra {
            kernels,
            base,
            time_limit_s,
            map_seed,
            input_seed,
        } => {
            let loaded = tessera_flow::load::load_kernels(kernels)
                .map_err(|e| cfg.error_at("kernels", format!("kernels: {e}")))?;
            let mut ks = Vec::new();
            for l in loaded {
                match l.kernel {
                    Ok(k) => ks.push(k),
                    Err(e) => {
                        return Err(cfg.error_at("kernels", format!("kernel {}: {e}", l.file)));
                    }
                }
            }
            if !(time_limit_s.is_finite() && *time_limit_s > 0.0) {
                return Err(cfg.error_at(
                    "time_limit_s",
                    "time_limit_s must be a positive number of seconds".into(),
                ));
            }
            let template = SpecTemplate::<CgraSpec>::new(cfg, base)?;
            Ok(Box::new(CgraEvaluator {
                kernels: ks,
                template,
                time_limit_s: *time_limit_s,
                map_seed: *map_seed,
                input_seed: *input_seed,
            }))
        }
        EvaluatorSpec::DigitsAccel {
            base,
            train_seed,
            train,
        } => Ok(Box::new(network::DigitsAccelEvaluator::new(
            cfg,
            base,
            *train_seed,
            train.clone().unwrap_or_else(TrainConfig::search),
        )?)),
        EvaluatorSpec::Nas201Accel { base, dataset } => Ok(Box::new(
            network::Nas201AccelEvaluator::new(cfg, base, dataset)?,
        )),
        EvaluatorSpec::External {
            command,
            timeout_s,
            version,
        } => Ok(Box::new(external::ExternalEvaluator::new(
            cfg, command, *timeout_s, version, run_dir,
        )?)),
    }
}

/// The values of the hardware parameters (those with a `path`) at the base accelerator of
/// a joint network x accelerator config: the reference accelerator of the sequential
/// baseline.
pub fn reference_values(cfg: &LoadedConfig) -> Result<Map<String, Value>, StudyError> {
    let base = match &cfg.config.evaluator {
        EvaluatorSpec::DigitsAccel { base, .. } | EvaluatorSpec::Nas201Accel { base, .. } => base,
        _ => {
            return Err(cfg.error_at(
                "evaluator",
                "the sequential baseline is for joint network x accelerator searches (DigitsAccel, Nas201Accel)".into(),
            ));
        }
    };
    let t = SpecTemplate::<AccelSpec>::with_params(cfg, base, true)?;
    let mut out = Map::new();
    for (name, path) in &t.paths {
        let mut v = &t.base;
        for part in path.split('.') {
            v = match v {
                Value::Object(m) => m.get(part).unwrap_or(&Value::Null),
                Value::Array(a) => part
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| a.get(i))
                    .unwrap_or(&Value::Null),
                _ => &Value::Null,
            };
        }
        out.insert(name.clone(), v.clone());
    }
    Ok(out)
}

/// The path of a parameter that picks the base spec itself among presets (a `Choice` of
/// preset names): array size and layout come with the preset, other parameters override
/// its fields.
pub const PRESET_PATH: &str = "@preset";

/// A base spec in serialized form plus the parameters that override its fields.
pub struct SpecTemplate<T> {
    base: Value,
    /// With a [`PRESET_PATH`] parameter: its name and every preset it names, serialized.
    presets: Option<(String, HashMap<String, Value>)>,
    /// (parameter name, dotted path) of every parameter with a path.
    paths: Vec<(String, String)>,
    /// Copies of `base` to set a design's values in (one per worker at most): every
    /// design sets the same paths, so a copy need not be restored between designs, and a
    /// design costs no clone of the whole tree.
    scratch: std::sync::Mutex<Vec<Value>>,
    /// The typed route, when the spec kind has a typed setter for every path
    /// ([`tessera_arch::Spec::field_setter`]): no JSON tree per design.
    typed: Option<Typed<T>>,
}

/// Specs built by typed field setters: the base (or every preset) deserialized once, and
/// copies reused between designs as `scratch` is.
struct Typed<T> {
    base: T,
    presets: Option<HashMap<String, T>>,
    setters: Vec<tessera_arch::spec_io::FieldSetter<T>>,
    pool: std::sync::Mutex<Vec<T>>,
}

impl<T: Spec> SpecTemplate<T> {
    /// Load the base spec (preset, file or inline RON) and check every parameter's path on
    /// it (the design with every gene at its first value must deserialize).
    pub fn new(cfg: &LoadedConfig, base: &str) -> Result<Self, StudyError> {
        Self::with_params(cfg, base, false)
    }

    /// As [`SpecTemplate::new`]; with `only_with_path`, parameters without a `path` belong
    /// to something else (the network of a joint search) and are left out.
    pub fn with_params(
        cfg: &LoadedConfig,
        base: &str,
        only_with_path: bool,
    ) -> Result<Self, StudyError> {
        let spec = if base.trim_start().starts_with('(') {
            tessera_arch::spec_io::load_str::<T>(base, "<base spec>")
        } else {
            T::load(base)
        }
        .map_err(|e| cfg.error_at(base, format!("base spec `{base}`: {e}")))?;
        let base_json = serde_json::to_value(&spec)
            .map_err(|e| StudyError::Evaluator(format!("base spec `{base}`: {e}")))?;
        let mut paths = Vec::new();
        let mut params = Vec::new();
        let mut presets = None;
        for p in &cfg.config.space {
            if only_with_path && p.path.is_none() {
                continue;
            }
            if p.path.as_deref() == Some(PRESET_PATH) {
                let crate::config::ParamKind::Choice(names) = &p.kind else {
                    return Err(cfg.error_at(
                        PRESET_PATH,
                        format!(
                            "parameter `{}`: `{PRESET_PATH}` takes a Choice of preset names",
                            p.name
                        ),
                    ));
                };
                let mut map = HashMap::new();
                for n in names {
                    let name = n.as_str().unwrap_or_default();
                    let spec = T::preset(name)
                        .map_err(|e| cfg.error_at(name, format!("parameter `{}`: {e}", p.name)))?;
                    let v = serde_json::to_value(&spec)
                        .map_err(|e| StudyError::Evaluator(format!("preset `{name}`: {e}")))?;
                    map.insert(name.to_string(), v);
                }
                presets = Some((p.name.clone(), map));
                continue;
            }
            params.push(p);
            let Some(path) = &p.path else {
                return Err(cfg.error_at(
                    &format!("\"{}\"", p.name),
                    format!(
                        "parameter `{}` has no `path`: every parameter of this evaluator sets a {} field",
                        p.name,
                        T::KIND
                    ),
                ));
            };
            paths.push((p.name.clone(), path.clone()));
        }
        let setters: Option<Vec<_>> = paths.iter().map(|(_, p)| T::field_setter(p)).collect();
        let typed = match setters {
            Some(setters) => Some(Typed {
                base: spec,
                presets: match &presets {
                    Some((_, map)) => Some(
                        map.keys()
                            .map(|name| {
                                T::preset(name).map(|s| (name.clone(), s)).map_err(|e| {
                                    cfg.error_at(name, format!("preset `{name}`: {e}"))
                                })
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    None => None,
                },
                setters,
                pool: std::sync::Mutex::new(Vec::new()),
            }),
            None => None,
        };
        let t = SpecTemplate {
            base: base_json,
            presets,
            paths,
            scratch: std::sync::Mutex::new(Vec::new()),
            typed,
        };
        // Every path must exist (in every preset) and take every choice and both ends of
        // every range (checked one at a time on the base: a type or variant the field does
        // not take is a config error, not a run of infeasible designs).
        let bases: Vec<&Value> = match &t.presets {
            Some((_, m)) => m.values().collect(),
            None => vec![&t.base],
        };
        for (p, (name, path)) in params.iter().zip(&t.paths) {
            for gene in checked_genes(&p.kind.dim()) {
                let value = p.kind.decode(&gene);
                for base in &bases {
                    let mut v = (*base).clone();
                    tessera_arch::spec_io::set_path(&mut v, path, value.clone()).map_err(|m| {
                        cfg.error_at(path, format!("parameter `{name}`: path `{path}`: {m}"))
                    })?;
                    serde_json::from_value::<T>(v).map_err(|e| {
                        // A choice is located at its own text, a range at the path.
                        let at = match &p.kind {
                            crate::config::ParamKind::Choice(_) => value.to_string(),
                            _ => path.clone(),
                        };
                        cfg.error_at(
                            &at,
                            format!(
                                "parameter `{name}`: path `{path}` does not take the value {value}: {e}"
                            ),
                        )
                    })?;
                }
            }
        }
        Ok(t)
    }

    /// Call `f` on the spec of one design (the base with the design's values set,
    /// validated) without keeping it: on the typed route, the spec is a reused copy.
    pub fn with_instance<R>(
        &self,
        values: &Map<String, Value>,
        f: impl FnOnce(&T) -> R,
    ) -> Result<R, String>
    where
        T: Clone,
    {
        let Some(typed) = &self.typed else {
            return self.instantiate_tree(values).map(|s| f(&s));
        };
        let (mut spec, reusable) = match &typed.presets {
            Some(map) => {
                let param = self.presets.as_ref().map_or("", |(p, _)| p.as_str());
                let name = values
                    .get(param)
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let s = map
                    .get(name)
                    .cloned()
                    .ok_or_else(|| format!("no preset `{name}`"))?;
                (s, false)
            }
            None => {
                let pooled = typed.pool.lock().ok().and_then(|mut p| p.pop());
                (pooled.unwrap_or_else(|| typed.base.clone()), true)
            }
        };
        // Every design sets the same fields, so a reused copy needs no reset.
        let mut set = || -> Result<(), String> {
            for ((name, path), setter) in self.paths.iter().zip(&typed.setters) {
                let value = values
                    .get(name)
                    .ok_or_else(|| format!("no value for parameter `{name}`"))?;
                setter(&mut spec, value).map_err(|m| format!("{path}: {m}"))?;
            }
            spec.validate().map_err(|p| p.join("; "))
        };
        let out = set().map(|()| f(&spec));
        if reusable && let Ok(mut pool) = typed.pool.lock() {
            pool.push(spec);
        }
        out
    }

    /// The spec of one design: the base with the design's values set, validated.
    pub fn instantiate(&self, values: &Map<String, Value>) -> Result<T, String>
    where
        T: Clone,
    {
        if self.typed.is_some() {
            return self.with_instance(values, T::clone);
        }
        self.instantiate_tree(values)
    }

    /// [`SpecTemplate::instantiate`] through the serialized form.
    fn instantiate_tree(&self, values: &Map<String, Value>) -> Result<T, String> {
        let (mut v, reusable) = match &self.presets {
            Some((param, map)) => {
                let name = values
                    .get(param)
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let v = map
                    .get(name)
                    .cloned()
                    .ok_or_else(|| format!("no preset `{name}`"))?;
                (v, false)
            }
            None => {
                let pooled = self.scratch.lock().ok().and_then(|mut p| p.pop());
                (pooled.unwrap_or_else(|| self.base.clone()), true)
            }
        };
        for (name, path) in &self.paths {
            let value = values
                .get(name)
                .cloned()
                .ok_or_else(|| format!("no value for parameter `{name}`"))?;
            tessera_arch::spec_io::set_path(&mut v, path, value)
                .map_err(|m| format!("{path}: {m}"))?;
        }
        let spec = T::deserialize(&v).map_err(|e| e.to_string());
        if reusable && let Ok(mut pool) = self.scratch.lock() {
            pool.push(v);
        }
        let spec = spec?;
        spec.validate().map_err(|p| p.join("; "))?;
        Ok(spec)
    }
}

fn first_gene(d: &tessera_search::Dim) -> Gene {
    match *d {
        tessera_search::Dim::Real { lo, .. } => Gene::Real(lo),
        tessera_search::Dim::Int { lo, .. } => Gene::Int(lo),
        tessera_search::Dim::Cat { .. } => Gene::Cat(0),
    }
}

/// The genes a parameter is checked with before a run: both ends of a range (the top of
/// an integer range on its step grid) and every choice.
fn checked_genes(d: &tessera_search::Dim) -> Vec<Gene> {
    match *d {
        tessera_search::Dim::Real { lo, hi, .. } => vec![Gene::Real(lo), Gene::Real(hi)],
        tessera_search::Dim::Int { lo, hi, step, log } => {
            let top = if log || step <= 1 {
                hi
            } else {
                lo + (hi - lo) / step * step
            };
            vec![Gene::Int(lo), Gene::Int(top)]
        }
        tessera_search::Dim::Cat { n } => (0..n).map(Gene::Cat).collect(),
    }
}

/// A standard test problem: metrics `f1`, `f2` (, `f3`).
pub struct ProblemEvaluator {
    pub problem: TestProblem,
}

impl Evaluator for ProblemEvaluator {
    fn describe(&self) -> String {
        format!("problem {} v1", self.problem.name())
    }

    fn metric_names(&self) -> Option<Vec<&'static str>> {
        Some(["f1", "f2", "f3"][..self.problem.n_objectives()].to_vec())
    }

    fn evaluate(&self, d: &DesignRef<'_>, _worker: usize) -> Evaluation {
        let mut out = vec![0.0; self.problem.n_objectives()];
        self.problem.evaluate_genes(d.genes, &mut out);
        Evaluation::Metrics(
            out.iter()
                .enumerate()
                .map(|(i, v)| (format!("f{}", i + 1).into(), *v))
                .collect(),
        )
    }
}

/// The accelerator model on one network.
pub struct AccelEvaluator {
    network: String,
    net: tessera_accel::Network,
    shapes: Vec<tessera_accel::GemmShape>,
    template: SpecTemplate<AccelSpec>,
}

/// The metrics of a network's totals on an accelerator, in the units the configs use.
pub fn accel_metrics(t: &tessera_accel::NetworkTotals) -> Metrics {
    let values = [
        t.latency_ns / 1e6,
        t.energy.total_pj / 1e9,
        t.area.total_mm2,
        // EDP in mJ x ms (pJ x ns / 1e15).
        t.edp_pj_ns / 1e15,
        t.utilisation,
        t.dram_bytes / 1e6,
        t.total_cycles as f64,
        t.macs as f64,
    ];
    ACCEL_METRICS
        .iter()
        .zip(values)
        .map(|(k, v)| ((*k).into(), v))
        .collect()
}

/// The metrics of [`accel_metrics`], in its order.
pub const ACCEL_METRICS: [&str; 8] = [
    "latency_ms",
    "energy_mj",
    "area_mm2",
    "edp_mj_ms",
    "utilisation",
    "dram_mb",
    "cycles",
    "macs",
];

/// What one kernel's simulate-and-verify cell makes of a CGRA design: `None` when the
/// simulation matched the interpreter (the design is scored), a failed evaluation when it
/// disagreed or faulted (never scored: a wrong result is not a fast one), an infeasible one
/// when the kernel did not map or run there.
fn judge_kernel(kernel: &str, status: &str, reason: Option<&str>) -> Option<Evaluation> {
    match status {
        "verified" => None,
        "mismatch" | "array fault" => Some(Evaluation::Failed(format!(
            "kernel {kernel}: {status}: {}",
            reason.unwrap_or_default()
        ))),
        _ => Some(Evaluation::Infeasible(format!(
            "kernel {kernel}: {status}: {}",
            tessera_flow::compare::first_line(reason.unwrap_or_default(), 200)
        ))),
    }
}

/// The metrics of a CGRA evaluation, in the order of `CgraEvaluator::evaluate`.
const CGRA_METRICS: [&str; 6] = [
    "cycles",
    "energy_nj",
    "time_us",
    "area_mm2",
    "edp_nj_us",
    "geomean_ii_over_mii",
];

impl Evaluator for AccelEvaluator {
    fn describe(&self) -> String {
        format!("accel {} v1", self.network)
    }

    fn metric_names(&self) -> Option<Vec<&'static str>> {
        Some(ACCEL_METRICS.to_vec())
    }

    fn evaluate(&self, d: &DesignRef<'_>, _worker: usize) -> Evaluation {
        let totals = self.template.with_instance(d.values, |spec| {
            tessera_accel::Accelerator::new(spec).totals(&self.shapes)
        });
        match totals {
            Err(e) => Evaluation::Infeasible(format!("invalid spec: {e}")),
            Ok(Ok(t)) => Evaluation::Metrics(accel_metrics(&t)),
            Ok(Err((layer, why))) => Evaluation::Infeasible(format!("layer {layer}: {why}")),
        }
    }

    fn emit(&self, d: &DesignRef<'_>, dir: &Path) -> Result<Vec<String>, String> {
        let spec = self.template.instantiate(d.values)?;
        Ok(vec![
            emit_file(dir, "accel.ron", &spec_ron(&spec))?,
            emit_file(dir, "network.ron", &network_ron(&self.net)?)?,
        ])
    }
}

/// Loop kernels on a CGRA: mapped, checked, simulated and verified against the interpreter.
pub struct CgraEvaluator {
    kernels: Vec<tessera_ir::Kernel>,
    template: SpecTemplate<CgraSpec>,
    time_limit_s: f64,
    map_seed: u64,
    input_seed: u64,
}

impl Evaluator for CgraEvaluator {
    fn describe(&self) -> String {
        format!(
            "cgra {} kernels, map seed {}, input seed {}, limit {} s v1",
            self.kernels.len(),
            self.map_seed,
            self.input_seed,
            self.time_limit_s
        )
    }

    fn metric_names(&self) -> Option<Vec<&'static str>> {
        Some(CGRA_METRICS.to_vec())
    }

    fn evaluate(&self, d: &DesignRef<'_>, _worker: usize) -> Evaluation {
        let spec = match self.template.instantiate(d.values) {
            Ok(s) => s,
            Err(e) => return Evaluation::Infeasible(format!("invalid spec: {e}")),
        };
        let opts = tessera_map::driver::MapOptions {
            seed: self.map_seed,
            time_limit_s: self.time_limit_s,
            ..Default::default()
        };
        let (mut cycles, mut energy_pj, mut time_ns) = (0u64, 0.0f64, 0.0f64);
        let mut ii_ratio_log = 0.0;
        for k in &self.kernels {
            let c =
                tessera_flow::compare::run_cell(k, &spec, &spec.name, &opts, self.input_seed, 1);
            if let Some(e) = judge_kernel(&k.name, &c.status, c.reason.as_deref()) {
                return e;
            }
            cycles += c.cycles.unwrap_or(0);
            energy_pj += c.energy_pj.unwrap_or(0.0);
            time_ns += c.time_ns.unwrap_or(0.0);
            if let (Some(ii), Some(mii)) = (c.ii, c.mii) {
                ii_ratio_log += (f64::from(ii) / f64::from(mii.max(1))).ln();
            }
        }
        let n = self.kernels.len().max(1) as f64;
        let values = [
            cycles as f64,
            energy_pj / 1e3,
            time_ns / 1e3,
            spec.total_area_um2() / 1e6,
            // EDP of the whole kernel set: summed energy x summed time, nJ x us.
            energy_pj / 1e3 * time_ns / 1e3,
            (ii_ratio_log / n).exp(),
        ];
        Evaluation::Metrics(
            CGRA_METRICS
                .iter()
                .zip(values)
                .map(|(k, v)| ((*k).into(), v))
                .collect(),
        )
    }

    fn emit(&self, d: &DesignRef<'_>, dir: &Path) -> Result<Vec<String>, String> {
        let spec = self.template.instantiate(d.values)?;
        let mut files = vec![emit_file(dir, "cgra.ron", &spec_ron(&spec))?];
        let opts = tessera_map::driver::MapOptions {
            seed: self.map_seed,
            time_limit_s: self.time_limit_s,
            ..Default::default()
        };
        let maps = dir.join("mappings");
        std::fs::create_dir_all(&maps).map_err(|e| format!("{}: {e}", maps.display()))?;
        for k in &self.kernels {
            // The same judged mapping the evaluation simulated (the mapper is seeded).
            let judge = |m: &tessera_map::Mapping| tessera_sim::judged_cycles(m, self.input_seed);
            let o = tessera_map::driver::map_kernel_judged(
                k,
                &spec,
                &opts,
                Some(tessera_map::driver::Judge {
                    seed: self.input_seed,
                    cycles: &judge,
                }),
            )
            .map_err(|e| format!("kernel {}: {e}", k.name))?;
            let name = format!("mappings/{}.json", k.name);
            o.mapping
                .save(&dir.join(&name))
                .map_err(|e| e.to_string())?;
            files.push(name);
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulation that disagrees with the interpreter (or faults) fails the design; a
    /// kernel that does not map makes it infeasible; only verified kernels are scored.
    #[test]
    fn a_cgra_design_is_scored_only_on_verified_simulations() {
        assert_eq!(judge_kernel("fir", "verified", None), None);
        for status in ["mismatch", "array fault"] {
            let Some(Evaluation::Failed(why)) =
                judge_kernel("fir", status, Some("output y[3]: 7 != 9"))
            else {
                panic!("{status} must fail the design")
            };
            assert_eq!(why, format!("kernel fir: {status}: output y[3]: 7 != 9"));
        }
        for status in ["unmapped", "unsupported", "no reference"] {
            assert!(
                matches!(
                    judge_kernel("fir", status, Some("MII 25 exceeds max II 16")),
                    Some(Evaluation::Infeasible(_))
                ),
                "{status}"
            );
        }
    }
}
