//! `tessera nn train|eval|verify|lower`: candidate networks trained on real data, quantised
//! down to ternary weights, measured in integer arithmetic, checked on the systolic
//! simulator and lowered to accelerator layers.

use super::{Outcome, bad_input, print_json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use tessera_accel::Accelerator;
use tessera_arch::Spec;
use tessera_arch::accel::AccelSpec;
use tessera_nn::data::{CsvOptions, Dataset, Header, ImageShape, LabelColumn};
use tessera_nn::eval::{NetEvaluation, train_and_evaluate_full};
use tessera_nn::quant::IntModel;
use tessera_nn::train::{Hooks, TrainError};
use tessera_nn::{NetGenotype, Split, TrainConfig};

#[derive(clap::Subcommand)]
pub enum NnCmd {
    /// Train a network genotype, quantise it and report float and integer test accuracy,
    /// parameters, MACs and training time (Ctrl-C stops cleanly).
    Train(TrainArgs),
    /// Reload exported weights and measure their accuracies again; exit code 1 when they
    /// differ from the recorded ones.
    Eval(EvalArgs),
    /// Run the integer inference of test images layer by layer on the cycle-level systolic
    /// simulator and check every output; exit code 1 on a mismatch.
    Verify(VerifyArgs),
    /// Print a genotype's accelerator layer list (shapes and per-layer precisions) and,
    /// with --arch, its latency, energy and area on that design.
    Lower(LowerArgs),
}

#[derive(clap::Args, Clone)]
pub struct DataArgs {
    /// Data set: `digits` (the embedded UCI digits) or a CSV file of numeric features and a
    /// label column.
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    /// CSV only: the label column, `first`, `last` or a 0-based index.
    #[arg(long, default_value = "last")]
    pub label_column: String,
    /// CSV only: the first line is a header (never guessed).
    #[arg(long)]
    pub header: bool,
    /// CSV only: treat the features as images of this shape, `HxWxC` (e.g. 8x8x1).
    #[arg(long, value_name = "HxWxC")]
    pub image: Option<String>,
    /// Seed of the stratified 60/15/25 % train/validation/test split (recorded).
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Network genotype (`.ron`), e.g. workloads/networks/digits-cnn.ron.
    pub network: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Seed of initialisation and shuffling (recorded).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Maximum float training epochs.
    #[arg(long)]
    pub epochs: Option<u32>,
    /// Use the per-candidate budget of searches (20 epochs, 5 fine-tuning epochs).
    #[arg(long)]
    pub search_budget: bool,
    /// Shift training images by up to N pixels (seeded augmentation; 0 = off; default: the
    /// training recipe's, ±1 pixel on 30 % of the images).
    #[arg(long, value_name = "N")]
    pub augment_shift: Option<usize>,
    /// Write the trained network to STEM.safetensors and STEM.ron.
    #[arg(long, value_name = "STEM")]
    pub save: Option<PathBuf>,
    /// Print the evaluation as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Exported weights (`.safetensors` written by `tessera nn train --save`).
    pub weights: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print the accuracies as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// Exported weights (`.safetensors` written by `tessera nn train --save`).
    pub weights: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Accelerator preset or spec file whose dataflow and array size the simulator uses.
    #[arg(long, default_value = "edge-os-16x16")]
    pub arch: String,
    /// Number of test images (the first of the test split).
    #[arg(long, default_value_t = 20)]
    pub images: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct LowerArgs {
    /// Network genotype (`.ron`).
    pub network: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Also score the network on this accelerator preset or spec file.
    #[arg(long)]
    pub arch: Option<String>,
    /// Print the layer list (and totals) as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: NnCmd) -> anyhow::Result<Outcome> {
    match cmd {
        NnCmd::Train(a) => train(a),
        NnCmd::Eval(a) => eval(a),
        NnCmd::Verify(a) => verify(a),
        NnCmd::Lower(a) => lower(a),
    }
}

fn load_data(a: &DataArgs) -> anyhow::Result<Dataset> {
    if a.dataset == "digits" {
        return Ok(tessera_nn::data::digits());
    }
    let label = match a.label_column.as_str() {
        "first" => LabelColumn::First,
        "last" => LabelColumn::Last,
        n => LabelColumn::Index(n.parse().map_err(|_| {
            bad_input(format!(
                "--label-column `{n}`: expected first, last or a 0-based index"
            ))
        })?),
    };
    let image = match &a.image {
        None => None,
        Some(s) => {
            let v: Vec<usize> = s.split('x').filter_map(|p| p.parse().ok()).collect();
            if v.len() != 3 {
                return Err(bad_input(format!(
                    "--image `{s}`: expected HxWxC, e.g. 8x8x1"
                )));
            }
            Some(ImageShape {
                h: v[0],
                w: v[1],
                c: v[2],
            })
        }
    };
    let opts = CsvOptions {
        header: if a.header {
            Header::Present
        } else {
            Header::Absent
        },
        label,
        image,
    };
    tessera_nn::data::load_csv(Path::new(&a.dataset), &opts).map_err(bad_input)
}

static CANCEL: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_sigint(_: libc::c_int) {
    CANCEL.store(true, Ordering::Relaxed);
}

/// Ctrl-C sets a flag that training checks between mini-batches (elsewhere than on Unix,
/// Ctrl-C ends the process as usual).
fn catch_ctrl_c() {
    #[cfg(unix)]
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
    }
}

fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

fn train(a: TrainArgs) -> anyhow::Result<Outcome> {
    let g = NetGenotype::load(&a.network).map_err(bad_input)?;
    let data = load_data(&a.data)?;
    let split = Split::standard(&data, a.data.split_seed).map_err(bad_input)?;
    let mut cfg = if a.search_budget {
        TrainConfig::search()
    } else {
        TrainConfig::default()
    };
    if let Some(e) = a.epochs {
        cfg.max_epochs = e;
    }
    if let Some(s) = a.augment_shift {
        cfg.augment_shift = s;
    }
    let bar = super::progress_bar("training");
    bar.set_length(u64::from(cfg.max_epochs));
    let on_epoch = |s: &tessera_nn::train::EpochStats| {
        if s.qat && bar.message().is_empty() {
            bar.set_position(0);
            bar.set_length(u64::from(cfg.qat_epochs));
        }
        bar.set_position(u64::from(s.epoch) + 1);
        bar.set_message(format!(
            "{}validation {:.2} %",
            if s.qat { "fine-tuning, " } else { "" },
            100.0 * s.val_accuracy
        ));
    };
    catch_ctrl_c();
    let hooks = Hooks {
        on_epoch: Some(&on_epoch),
        cancel: Some(&CANCEL),
    };
    let result = train_and_evaluate_full(&g, &data, &split, &cfg, a.seed, &hooks);
    bar.finish_and_clear();
    let (e, trained) = match result {
        Ok(r) => r,
        Err(TrainError::Cancelled) => {
            eprintln!("training cancelled (Ctrl-C); nothing written");
            return Ok(Outcome::CheckFailed);
        }
        Err(TrainError::Infeasible(i)) => {
            return Err(bad_input(format!(
                "{}: infeasible network: {i}",
                a.network.display()
            )));
        }
    };
    if let Some(stem) = &a.save {
        if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|err| bad_input(format!("{}: cannot write: {err}", dir.display())))?;
        }
        let (st, ron) =
            tessera_nn::export::save(stem, &g, &trained, &e, &data).map_err(bad_input)?;
        if !a.json {
            println!("wrote {} and {}", st.display(), ron.display());
        }
    }
    if a.json {
        print_json(&e)?;
    } else {
        print!("{}", evaluation_table(&g, &data, &e));
    }
    Ok(Outcome::Ok)
}

fn evaluation_table(g: &NetGenotype, data: &Dataset, e: &NetEvaluation) -> String {
    let s = &e.split;
    let mut t = format!(
        "{} on {} ({} samples; split seed {}: {}/{}/{} train/validation/test, index hash {}), seed {}\n",
        g.name,
        data.name,
        data.n,
        s.seed,
        s.train,
        s.validation,
        s.test,
        &s.index_hash[..12],
        e.seed
    );
    t += &format!(
        "{:<28} {:>10} {:>22}\n",
        "", "float", "quantised (integer run)"
    );
    t += &format!(
        "{:<28} {:>10} {:>22}\n",
        "test accuracy",
        pct(e.float_accuracy),
        e.quantized_accuracy.map_or("- (float layers)".into(), pct)
    );
    t += &format!("{:<28} {:>10}\n", "parameters", e.params);
    t += &format!("{:<28} {:>10}\n", "MACs per image", e.macs);
    t += &format!(
        "{:<28} {:>10.0}\n",
        "weight storage (bits)", e.weight_bits_total
    );
    t += &format!(
        "{:<28} {:>10}\n",
        "training",
        format!("{:.0} ms", e.train_ms)
    );
    t += &format!(
        "epochs {} + {} fine-tuning; quantisation: {}\n",
        e.epochs, e.qat_epochs, e.quantisation
    );
    t
}

fn eval(a: EvalArgs) -> anyhow::Result<Outcome> {
    let data = load_data(&a.data)?;
    let x = tessera_nn::export::load(&a.weights, &data).map_err(bad_input)?;
    let split = x.split(&data).map_err(bad_input)?;
    let acc = tessera_nn::eval::test_accuracies(&x.trained, &data, &split);
    let same =
        acc.float == x.evaluation.float_accuracy && acc.integer == x.evaluation.quantized_accuracy;
    if a.json {
        print_json(&serde_json::json!({
            "weights": a.weights.display().to_string(),
            "float_accuracy": acc.float,
            "quantized_accuracy": acc.integer,
            "recorded_float_accuracy": x.evaluation.float_accuracy,
            "recorded_quantized_accuracy": x.evaluation.quantized_accuracy,
            "reproduced": same,
        }))?;
    } else {
        println!(
            "{}: float {} (recorded {}), integer {} (recorded {}): {}",
            x.genotype.name,
            pct(acc.float),
            pct(x.evaluation.float_accuracy),
            acc.integer.map_or("-".into(), pct),
            x.evaluation.quantized_accuracy.map_or("-".into(), pct),
            if same {
                "reproduced exactly"
            } else {
                "DIFFERENT"
            }
        );
    }
    Ok(if same {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

fn verify(a: VerifyArgs) -> anyhow::Result<Outcome> {
    let data = load_data(&a.data)?;
    let spec = AccelSpec::load(&a.arch).map_err(bad_input)?;
    let x = tessera_nn::export::load(&a.weights, &data).map_err(bad_input)?;
    let split = x.split(&data).map_err(bad_input)?;
    let model = IntModel::build(&x.trained.plan, &x.trained.params, &x.trained.calibration)
        .ok_or_else(|| {
            bad_input("the network has Float layers: there is no integer inference to verify")
        })?;
    let rows: Vec<usize> = split.test.iter().copied().take(a.images).collect();
    let xs = x.trained.normaliser.rows(&data, &rows);
    let ys: Vec<u32> = rows.iter().map(|&i| data.y[i]).collect();
    let sp = super::spinner(format!("simulating {} images on {}", rows.len(), spec.name));
    let res = tessera_nn::verify::verify(
        &model,
        &xs,
        &ys,
        spec.dataflow,
        spec.rows as usize,
        spec.cols as usize,
    );
    sp.finish_and_clear();
    match res {
        Ok(r) => {
            if a.json {
                print_json(&r)?;
            } else {
                println!(
                    "{} images on a {}x{} {} array: {} GEMMs, {} outputs equal to the integer reference, {} cycles; accuracy from the simulator {} = reference {}",
                    r.images,
                    r.rows,
                    r.cols,
                    r.dataflow.short().to_uppercase(),
                    r.gemms,
                    r.outputs_compared,
                    r.cycles,
                    pct(r.simulator_accuracy),
                    pct(r.reference_accuracy)
                );
            }
            Ok(Outcome::Ok)
        }
        Err(e) => {
            eprintln!("mismatch: {e}");
            Ok(Outcome::CheckFailed)
        }
    }
}

fn lower(a: LowerArgs) -> anyhow::Result<Outcome> {
    let g = NetGenotype::load(&a.network).map_err(bad_input)?;
    let data = load_data(&a.data)?;
    let plan = g
        .plan(data.input_shape(), data.classes())
        .map_err(|r| bad_input(format!("{}: infeasible network: {r}", a.network.display())))?;
    let net = tessera_nn::lower::lower(&plan, &g.name);
    let totals = match &a.arch {
        None => None,
        Some(arch) => {
            let spec = AccelSpec::load(arch).map_err(bad_input)?;
            let shapes = net.lower().map_err(bad_input)?;
            Some(
                Accelerator::new(&spec)
                    .totals(&shapes)
                    .map_err(|(i, why)| {
                        bad_input(format!(
                            "layer `{}` cannot run on {}: {why}",
                            net.layers[i].name, spec.name
                        ))
                    })?,
            )
        }
    };
    if a.json {
        print_json(&serde_json::json!({ "network": net, "totals": totals }))?;
        return Ok(Outcome::Ok);
    }
    println!(
        "{}: {} MAC layers, {} MACs per image",
        net.name,
        net.layers.len(),
        net.macs()
    );
    println!(
        "{:<10} {:<7} {:>22} {:>10} {:>9} {:>11}",
        "layer", "kind", "GEMM MxNxK (groups)", "MACs", "weights", "precision"
    );
    for l in &net.layers {
        let g = l.op.lower(net.batch).map_err(bad_input)?;
        let prec = l.precision.map_or("spec".to_string(), |p| {
            format!("w {} a {}", p.weight.label(), p.activation.label())
        });
        println!(
            "{:<10} {:<7} {:>22} {:>10} {:>9} {:>11}",
            l.name,
            l.op.kind(),
            format!("{}x{}x{} ({})", g.m, g.n, g.k, g.groups),
            g.macs(),
            l.op.weights(),
            prec
        );
    }
    if let Some(t) = totals {
        println!(
            "on {}: {:.1} us, {:.1} nJ, {:.3} mm^2, utilisation {:.1} %",
            a.arch.as_deref().unwrap_or(""),
            t.latency_ns / 1e3,
            t.energy.total_pj / 1e3,
            t.area.total_mm2,
            100.0 * t.utilisation
        );
    }
    Ok(Outcome::Ok)
}
