//! Export and reload of trained networks: weights as safetensors, the genotype as RON.
//!
//! `<stem>.safetensors` holds, per MAC layer `L`: `L.weight` (f32, `k x n`, the weights the
//! integer network is quantised from), `L.bias` (f32, `n`), `L.weight_q` (i32, the integer
//! weights) and `L.weight_scale` (f32, `n`, per-channel scales); `L.float_weight` and
//! `L.float_bias` (the float network before fine-tuning); and `calibration.max_abs` (f32,
//! one activation maximum per node). Its metadata holds the genotype (RON), the input
//! normaliser, the data set's name and content hash, the split and the recorded
//! evaluation (JSON). `<stem>.ron` is the genotype for people. Reloading rebuilds the same
//! integer network bit for bit, so evaluating it reproduces the recorded accuracies exactly.

use crate::data::{Dataset, Normaliser, Split, SplitFractions};
use crate::error::NnError;
use crate::eval::NetEvaluation;
use crate::genotype::NetGenotype;
use crate::net::{LayerParams, Params};
use crate::quant::{Calibration, quantize_weights};
use crate::train::Trained;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Format version of exported weight files (metadata key `tessera_nn_format`).
pub const EXPORT_FORMAT_VERSION: u32 = 1;

/// A reloaded network.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub genotype: NetGenotype,
    pub trained: Trained,
    /// The evaluation recorded at export.
    pub evaluation: NetEvaluation,
    /// Name and content hash of the data set it was trained on.
    pub dataset: String,
    pub dataset_hash: String,
}

impl Exported {
    /// The split recorded at export, recreated on `data` (which must be the same data set).
    pub fn split(&self, data: &Dataset) -> Result<Split, NnError> {
        if data.content_hash() != self.dataset_hash {
            return Err(NnError::Data(format!(
                "the weights were trained on `{}` (hash {}), not on `{}`",
                self.dataset,
                self.dataset_hash.get(..12).unwrap_or(&self.dataset_hash),
                data.name
            )));
        }
        let r = &self.evaluation.split;
        let s = Split::stratified(
            data,
            r.seed,
            SplitFractions {
                train: r.fractions.train,
                validation: r.fractions.validation,
            },
        )?;
        if s.index_hash() != r.index_hash {
            return Err(NnError::Data(
                "the recreated split differs from the recorded one".into(),
            ));
        }
        Ok(s)
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i32_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Write `<stem>.safetensors` and `<stem>.ron`; returns the two paths.
pub fn save(
    stem: &Path,
    genotype: &NetGenotype,
    trained: &Trained,
    evaluation: &NetEvaluation,
    data: &Dataset,
) -> Result<(PathBuf, PathBuf), NnError> {
    let st_path = stem.with_extension("safetensors");
    let ron_path = stem.with_extension("ron");
    let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for node in &trained.plan.nodes {
        let Some(pi) = node.param else { continue };
        let p = &trained.params.layers[pi];
        let f = &trained.float_params.layers[pi];
        buffers.push((
            format!("{}.weight", node.name),
            Dtype::F32,
            vec![p.k, p.n],
            f32_bytes(&p.w),
        ));
        buffers.push((
            format!("{}.bias", node.name),
            Dtype::F32,
            vec![p.n],
            f32_bytes(&p.b),
        ));
        buffers.push((
            format!("{}.float_weight", node.name),
            Dtype::F32,
            vec![p.k, p.n],
            f32_bytes(&f.w),
        ));
        buffers.push((
            format!("{}.float_bias", node.name),
            Dtype::F32,
            vec![p.n],
            f32_bytes(&f.b),
        ));
        if let Some(q) = quantize_weights(&p.w, p.k, p.n, node.weight_bits) {
            buffers.push((
                format!("{}.weight_q", node.name),
                Dtype::I32,
                vec![p.k, p.n],
                i32_bytes(&q.q),
            ));
            buffers.push((
                format!("{}.weight_scale", node.name),
                Dtype::F32,
                vec![p.n],
                f32_bytes(&q.scale),
            ));
        }
    }
    let cal = &trained.calibration.max_abs;
    buffers.push((
        "calibration.max_abs".into(),
        Dtype::F32,
        vec![cal.len()],
        f32_bytes(cal),
    ));
    let views: Vec<(String, TensorView)> = buffers
        .iter()
        .map(|(n, d, s, b)| {
            TensorView::new(*d, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| NnError::Weights {
                    file: st_path.display().to_string(),
                    msg: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let json = |v: &dyn erased::Json| v.json();
    let mut meta = HashMap::new();
    meta.insert(
        "tessera_nn_format".to_string(),
        EXPORT_FORMAT_VERSION.to_string(),
    );
    meta.insert("genotype".to_string(), genotype.to_ron());
    meta.insert("normaliser".to_string(), json(&trained.normaliser));
    meta.insert("evaluation".to_string(), json(evaluation));
    meta.insert("dataset".to_string(), data.name.clone());
    meta.insert("dataset_hash".to_string(), data.content_hash());
    meta.insert("epochs".to_string(), trained.epochs.to_string());
    meta.insert("qat_epochs".to_string(), trained.qat_epochs.to_string());
    meta.insert("quantisation".to_string(), trained.quantisation.clone());
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| NnError::Weights {
        file: st_path.display().to_string(),
        msg: e.to_string(),
    })?;
    let io = |p: &Path, e: std::io::Error| NnError::Io {
        file: p.display().to_string(),
        msg: e.to_string(),
    };
    std::fs::write(&st_path, bytes).map_err(|e| io(&st_path, e))?;
    std::fs::write(&ron_path, genotype.to_ron()).map_err(|e| io(&ron_path, e))?;
    Ok((st_path, ron_path))
}

mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("plain data serialises")
        }
    }
}

/// Reload a network written by [`save`]; `data` gives the input shape and classes.
pub fn load(path: &Path, data: &Dataset) -> Result<Exported, NnError> {
    let file = path.display().to_string();
    let bad = |msg: String| NnError::Weights {
        file: file.clone(),
        msg,
    };
    let bytes = std::fs::read(path).map_err(|e| NnError::Io {
        file: file.clone(),
        msg: e.to_string(),
    })?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let meta = header
        .metadata()
        .clone()
        .ok_or_else(|| bad("no metadata: not a tessera-nn export".into()))?;
    let get = |k: &str| {
        meta.get(k)
            .cloned()
            .ok_or_else(|| bad(format!("metadata `{k}` is missing")))
    };
    if get("tessera_nn_format")? != EXPORT_FORMAT_VERSION.to_string() {
        return Err(bad(format!(
            "tessera_nn_format is not {EXPORT_FORMAT_VERSION}"
        )));
    }
    let genotype =
        NetGenotype::from_ron(&get("genotype")?, &format!("{file} (metadata genotype)"))?;
    let normaliser: Normaliser =
        serde_json::from_str(&get("normaliser")?).map_err(|e| bad(e.to_string()))?;
    let evaluation: NetEvaluation =
        serde_json::from_str(&get("evaluation")?).map_err(|e| bad(e.to_string()))?;
    let plan = genotype
        .plan(data.input_shape(), data.classes())
        .map_err(|reason| NnError::Infeasible {
            file: file.clone(),
            reason,
        })?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let read_f32 = |name: &str, len: usize| -> Result<Vec<f32>, NnError> {
        let t = st
            .tensor(name)
            .map_err(|e| bad(format!("tensor `{name}`: {e}")))?;
        if t.dtype() != Dtype::F32 || t.shape().iter().product::<usize>() != len {
            return Err(bad(format!(
                "tensor `{name}` is {:?} {:?}; expected F32 with {len} values",
                t.dtype(),
                t.shape()
            )));
        }
        Ok(t.data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    };
    let mut params = Vec::new();
    let mut float_params = Vec::new();
    for node in &plan.nodes {
        let Some((k, n)) = node.weight_shape() else {
            continue;
        };
        params.push(LayerParams {
            k,
            n,
            w: read_f32(&format!("{}.weight", node.name), k * n)?,
            b: read_f32(&format!("{}.bias", node.name), n)?,
        });
        float_params.push(LayerParams {
            k,
            n,
            w: read_f32(&format!("{}.float_weight", node.name), k * n)?,
            b: read_f32(&format!("{}.float_bias", node.name), n)?,
        });
    }
    let calibration = Calibration {
        max_abs: read_f32("calibration.max_abs", plan.nodes.len())?,
    };
    let num = |k: &str| -> Result<u32, NnError> {
        get(k)?
            .parse()
            .map_err(|_| bad(format!("metadata `{k}` is not a number")))
    };
    let trained = Trained {
        plan,
        params: Params { layers: params },
        float_params: Params {
            layers: float_params,
        },
        normaliser,
        calibration,
        epochs: num("epochs")?,
        qat_epochs: num("qat_epochs")?,
        history: Vec::new(),
        quantisation: get("quantisation")?,
    };
    Ok(Exported {
        genotype,
        trained,
        evaluation,
        dataset: get("dataset")?,
        dataset_hash: get("dataset_hash")?,
    })
}
