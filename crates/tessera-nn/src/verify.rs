//! Running a quantised network through the cycle-level systolic simulator.
//!
//! [`verify`] runs the integer inference of test images layer by layer; every convolution
//! and fully connected layer's GEMM (the im2col matrix of its integer inputs times its
//! integer weights; a depthwise layer as one GEMM per channel) is also run on
//! `tessera_accel::systolic_sim`, which moves the values PE to PE, and each accumulator the
//! array emits is compared with the integer reference's. The simulator's accumulators then
//! replace the reference's and feed the rest of the layer (bias, requantisation) and the
//! layers after it, so the predictions counted as the simulator's accuracy come from the
//! simulator's outputs; the reference's predictions are computed separately.

use crate::error::NnError;
use crate::quant::{IntModel, MacTrace};
use serde::{Deserialize, Serialize};
use tessera_arch::accel::Dataflow;

/// What a verification run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub images: usize,
    pub dataflow: Dataflow,
    pub rows: usize,
    pub cols: usize,
    /// GEMMs run on the simulator and accumulators compared.
    pub gemms: u64,
    pub outputs_compared: u64,
    /// Simulated array cycles, summed.
    pub cycles: u64,
    /// Accuracy of the predictions made from the simulator's outputs.
    pub simulator_accuracy: f64,
    /// Accuracy of the integer reference on the same images.
    pub reference_accuracy: f64,
}

/// Check the integer inference of `images` (normalised rows, `labels` their classes) on a
/// `rows x cols` array with `dataflow`. A mismatch is an error naming image, layer and
/// output element.
pub fn verify(
    model: &IntModel,
    x: &[f32],
    labels: &[u32],
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
) -> Result<VerifyReport, NnError> {
    verify_with(model, x, labels, dataflow, rows, cols, &|m, n, k, a, b| {
        tessera_accel::systolic_sim::simulate_gemm(dataflow, rows, cols, m, n, k, a, b)
            .map(|r| (r.out, r.cycles))
            .map_err(|e| e.to_string())
    })
}

/// A GEMM runner: `(m, n, k, a, b) -> (m x n outputs, cycles)`.
pub type GemmRunner<'a> =
    dyn Fn(usize, usize, usize, &[i64], &[i64]) -> Result<(Vec<i64>, u64), String> + 'a;

/// As [`verify`] with another GEMM runner in place of the simulator (tests inject faults).
pub fn verify_with(
    model: &IntModel,
    x: &[f32],
    labels: &[u32],
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
    runner: &GemmRunner,
) -> Result<VerifyReport, NnError> {
    let size = model.plan.input.h * model.plan.input.w * model.plan.input.c;
    let mut rep = VerifyReport {
        images: labels.len(),
        dataflow,
        rows,
        cols,
        gemms: 0,
        outputs_compared: 0,
        cycles: 0,
        simulator_accuracy: 0.0,
        reference_accuracy: 0.0,
    };
    let (mut sim_ok, mut ref_ok) = (0usize, 0usize);
    for (img, &label) in labels.iter().enumerate() {
        let q = model.quantize_input(&x[img * size..(img + 1) * size]);
        let reference = model.predict(&q);
        let mut err: Option<NnError> = None;
        let mut hook = |node: usize, t: &MacTrace, acc: &mut [i64]| {
            if err.is_some() {
                return;
            }
            let b: Vec<i64> = t.b.iter().map(|&v| i64::from(v)).collect();
            let name = &model.plan.nodes[node].name;
            match runner(t.m, t.n, t.k, t.a, &b) {
                Err(e) => {
                    err = Some(NnError::Mismatch(format!(
                        "image {img}, layer `{name}`: the simulator failed: {e}"
                    )))
                }
                Ok((out, cycles)) => {
                    rep.gemms += 1;
                    rep.cycles += cycles;
                    if out.len() != acc.len() {
                        err = Some(NnError::Mismatch(format!(
                            "image {img}, layer `{name}`: the simulator gave {} outputs, the reference {}",
                            out.len(),
                            acc.len()
                        )));
                        return;
                    }
                    for (i, (s, want)) in out.iter().zip(acc.iter()).enumerate() {
                        if s != want {
                            let (row, col) = (i / t.n, i % t.n);
                            let ch = t.group.map_or(col, |g| g);
                            err = Some(NnError::Mismatch(format!(
                                "image {img}, layer `{name}`, output element (position {row}, channel {ch}): simulator {s}, integer reference {want}"
                            )));
                            return;
                        }
                    }
                    rep.outputs_compared += acc.len() as u64;
                    // From here on the simulator's values feed the rest of the network.
                    acc.copy_from_slice(&out);
                }
            }
        };
        let logits = model.run(&q, &mut hook);
        if let Some(e) = err {
            return Err(e);
        }
        // These logits were computed from the simulator's accumulators.
        let sim_pred = crate::quant::argmax_i64(&logits);
        sim_ok += usize::from(sim_pred == label as usize);
        ref_ok += usize::from(reference == label as usize);
    }
    let n = labels.len().max(1) as f64;
    rep.simulator_accuracy = sim_ok as f64 / n;
    rep.reference_accuracy = ref_ok as f64 / n;
    Ok(rep)
}
