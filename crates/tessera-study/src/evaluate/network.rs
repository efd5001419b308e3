//! Joint network x accelerator evaluators: the network side is real (trained and
//! quantised on the digits, or NAS-Bench-201's measured accuracy), the hardware side is the
//! accelerator model running the network's exact layers with their precisions.

use super::{
    DesignRef, Evaluation, Evaluator, SpecTemplate, accel_metrics, emit_file, network_ron, spec_ron,
};
use crate::StudyError;
use crate::config::LoadedConfig;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use tessera_arch::accel::AccelSpec;
use tessera_nn::{Dataset, DigitsGenes, NetEvaluation, Split, TrainConfig};

/// The network parameters of a design (those without a `path`), as a JSON object.
fn network_values(cfg: &LoadedConfig, values: &Map<String, Value>) -> Map<String, Value> {
    cfg.config
        .space
        .iter()
        .filter(|p| p.path.is_none())
        .filter_map(|p| values.get(&p.name).map(|v| (p.name.clone(), v.clone())))
        .collect()
}

/// A trained network shared by every design that uses it (training is deterministic, so
/// the cache changes no result; it saves training the same network for every accelerator).
type NetCache = Mutex<HashMap<String, Arc<OnceLock<Result<NetEvaluation, String>>>>>;

/// See [`crate::config::EvaluatorSpec::DigitsAccel`].
pub struct DigitsAccelEvaluator {
    cfg: LoadedConfig,
    template: SpecTemplate<AccelSpec>,
    data: Dataset,
    split: Split,
    train: TrainConfig,
    seed: u64,
    cache: NetCache,
}

impl DigitsAccelEvaluator {
    pub fn new(
        cfg: &LoadedConfig,
        base: &str,
        seed: u64,
        train: TrainConfig,
    ) -> Result<Self, StudyError> {
        let template = SpecTemplate::with_params(cfg, base, true)?;
        // Every network parameter must be a DigitsGenes field: check with the first values.
        let first: Map<String, Value> = cfg
            .config
            .space
            .iter()
            .filter(|p| p.path.is_none())
            .map(|p| {
                let d = p.kind.dim();
                (p.name.clone(), p.kind.decode(&super::first_gene(&d)))
            })
            .collect();
        serde_json::from_value::<DigitsGenes>(Value::Object(first)).map_err(|e| {
            cfg.error_at(
                "space",
                format!(
                    "the parameters without a `path` must be exactly the network genes conv_layers, conv_width, kernel, depthwise, hidden, activation, weight_bits, act_bits: {e}"
                ),
            )
        })?;
        let data = tessera_nn::data::digits();
        let split = Split::standard(&data, seed)
            .map_err(|e| StudyError::Evaluator(format!("digits split: {e}")))?;
        Ok(DigitsAccelEvaluator {
            cfg: cfg.clone(),
            template,
            data,
            split,
            train,
            seed,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn network(&self, genes: &DigitsGenes) -> Result<NetEvaluation, String> {
        let key = format!("{genes:?}");
        let cell = {
            let mut c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(c.entry(key).or_default())
        };
        cell.get_or_init(|| {
            tessera_nn::train_and_evaluate(
                &genes.genotype(),
                &self.data,
                &self.split,
                &self.train,
                self.seed,
            )
            .map_err(|i| i.to_string())
        })
        .clone()
    }
}

/// What a digits network adds to the accelerator's metrics, in `evaluate`'s order.
const DIGITS_METRICS: [&str; 4] = ["accuracy", "float_accuracy", "params", "weight_kbit"];

impl Evaluator for DigitsAccelEvaluator {
    fn describe(&self) -> String {
        format!(
            "digits x accel, train seed {}, train config {:?} v1",
            self.seed, self.train
        )
    }

    fn metric_names(&self) -> Option<Vec<&'static str>> {
        Some([&super::ACCEL_METRICS[..], &DIGITS_METRICS[..]].concat())
    }

    fn evaluate(&self, d: &DesignRef<'_>, _worker: usize) -> Evaluation {
        let genes: DigitsGenes =
            match serde_json::from_value(Value::Object(network_values(&self.cfg, d.values))) {
                Ok(g) => g,
                Err(e) => return Evaluation::Infeasible(format!("network genes: {e}")),
            };
        let spec = match self.template.instantiate(d.values) {
            Ok(s) => s,
            Err(e) => return Evaluation::Infeasible(format!("invalid spec: {e}")),
        };
        let net = match self.network(&genes) {
            Ok(n) => n,
            Err(e) => return Evaluation::Infeasible(format!("network: {e}")),
        };
        let shapes = match net.network.lower() {
            Ok(s) => s,
            Err(e) => return Evaluation::Failed(format!("lowering: {e}")),
        };
        match tessera_accel::Accelerator::new(&spec).totals(&shapes) {
            Ok(t) => {
                let mut m = accel_metrics(&t);
                let values = [
                    net.accuracy,
                    net.float_accuracy,
                    net.params as f64,
                    net.weight_bits_total / 1e3,
                ];
                m.extend(
                    DIGITS_METRICS
                        .iter()
                        .zip(values)
                        .map(|(k, v)| ((*k).into(), v)),
                );
                Evaluation::Metrics(m)
            }
            Err((layer, why)) => Evaluation::Infeasible(format!("layer {layer}: {why}")),
        }
    }

    /// The accelerator spec, the trained network's layers, its weights (safetensors) and
    /// network RON (reload with `tessera nn eval`), and its metrics. Training is repeated
    /// here (it is deterministic, so the weights are those the search scored).
    fn emit(&self, d: &DesignRef<'_>, dir: &Path) -> Result<Vec<String>, String> {
        let genes: DigitsGenes =
            serde_json::from_value(Value::Object(network_values(&self.cfg, d.values)))
                .map_err(|e| format!("network genes: {e}"))?;
        let spec = self.template.instantiate(d.values)?;
        let genotype = genes.genotype();
        let (eval, trained) = tessera_nn::eval::train_and_evaluate_full(
            &genotype,
            &self.data,
            &self.split,
            &self.train,
            self.seed,
            &Default::default(),
        )
        .map_err(|e| format!("training: {e:?}"))?;
        let mut files = vec![
            emit_file(dir, "accel.ron", &spec_ron(&spec))?,
            emit_file(dir, "network.ron", &network_ron(&eval.network)?)?,
        ];
        let (w, r) =
            tessera_nn::export::save(&dir.join("trained"), &genotype, &trained, &eval, &self.data)
                .map_err(|e| e.to_string())?;
        for p in [w, r] {
            files.push(
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
        let metrics = serde_json::to_string_pretty(&eval).map_err(|e| e.to_string())?;
        files.push(emit_file(dir, "network-metrics.json", &metrics)?);
        Ok(files)
    }
}

/// See [`crate::config::EvaluatorSpec::Nas201Accel`].
pub struct Nas201AccelEvaluator {
    template: SpecTemplate<AccelSpec>,
    dataset: String,
    classes: u32,
}

impl Nas201AccelEvaluator {
    pub fn new(cfg: &LoadedConfig, base: &str, dataset: &str) -> Result<Self, StudyError> {
        let classes = match dataset {
            "cifar10" => 10,
            "cifar100" => 100,
            "imagenet16-120" => 120,
            other => {
                return Err(cfg.error_at(
                    other,
                    format!("dataset `{other}`: expected cifar10, cifar100 or imagenet16-120"),
                ));
            }
        };
        for i in 0..6 {
            let name = format!("edge{i}");
            if !cfg
                .config
                .space
                .iter()
                .any(|p| p.name == name && p.path.is_none())
            {
                return Err(cfg.error_at(
                    "space",
                    format!("the cell needs parameters edge0..edge5 without a `path`; `{name}` is missing"),
                ));
            }
        }
        Ok(Nas201AccelEvaluator {
            template: SpecTemplate::with_params(cfg, base, true)?,
            dataset: dataset.to_string(),
            classes,
        })
    }
}

impl Evaluator for Nas201AccelEvaluator {
    fn describe(&self) -> String {
        format!("nas-bench-201 {} x accel v1", self.dataset)
    }

    fn metric_names(&self) -> Option<Vec<&'static str>> {
        Some([&super::ACCEL_METRICS[..], &["accuracy"][..]].concat())
    }

    fn evaluate(&self, d: &DesignRef<'_>, _worker: usize) -> Evaluation {
        let arch = nas_arch(d.values);
        let entry = match tessera_nn::nas201::lookup(&arch) {
            Ok(e) => e,
            Err(e) => return Evaluation::Infeasible(format!("cell {arch}: {e}")),
        };
        let accuracy = match self.dataset.as_str() {
            "cifar10" => entry.cifar10_test,
            "cifar100" => entry.cifar100_test,
            _ => entry.imagenet16_120_test,
        } / 100.0;
        let spec = match self.template.instantiate(d.values) {
            Ok(s) => s,
            Err(e) => return Evaluation::Infeasible(format!("invalid spec: {e}")),
        };
        let net = tessera_nn::nas201::lower(&entry.cell, self.classes, None);
        let shapes = match net.lower() {
            Ok(s) => s,
            Err(e) => return Evaluation::Failed(format!("lowering: {e}")),
        };
        match tessera_accel::Accelerator::new(&spec).totals(&shapes) {
            Ok(t) => {
                let mut m = accel_metrics(&t);
                m.insert("accuracy".into(), accuracy);
                Evaluation::Metrics(m)
            }
            Err((layer, why)) => Evaluation::Infeasible(format!("layer {layer}: {why}")),
        }
    }

    fn emit(&self, d: &DesignRef<'_>, dir: &Path) -> Result<Vec<String>, String> {
        let arch = nas_arch(d.values);
        let entry = tessera_nn::nas201::lookup(&arch).map_err(|e| e.to_string())?;
        let spec = self.template.instantiate(d.values)?;
        let net = tessera_nn::nas201::lower(&entry.cell, self.classes, None);
        Ok(vec![
            emit_file(dir, "accel.ron", &spec_ron(&spec))?,
            emit_file(dir, "network.ron", &network_ron(&net)?)?,
        ])
    }
}

/// The NAS-Bench-201 architecture string of a design's `edge0`..`edge5`.
fn nas_arch(values: &Map<String, Value>) -> String {
    let mut arch = String::from("|");
    for (node, start) in [(1usize, 0usize), (2, 1), (3, 3)] {
        for j in 0..node {
            let op = values
                .get(&format!("edge{}", start + j))
                .and_then(Value::as_str)
                .unwrap_or("?");
            arch.push_str(&format!("{op}~{j}|"));
        }
        if node < 3 {
            arch.push_str("+|");
        }
    }
    arch
}
