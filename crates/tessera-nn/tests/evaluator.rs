//! The evaluator end to end on small budgets (debug-fast): determinism across thread
//! counts, the integer run as the reported accuracy, the simulator check, export round
//! trip, infeasible genotypes and lowering.

use tessera_accel::Accelerator;
use tessera_arch::Spec;
use tessera_arch::accel::{AccelSpec, Dataflow};
use tessera_nn::eval::{integer_accuracy, train_and_evaluate_full};
use tessera_nn::quant::IntModel;
use tessera_nn::train::Hooks;
use tessera_nn::{NetGenotype, Split, TrainConfig, data, train_and_evaluate};

/// Every block kind, ternary and 4-bit weights (so QAT runs), small enough for debug builds.
const SMALL: &str = r#"(format_version: 1, name: "small", blocks: [
    Conv(out: 4, kernel: 3, padding: 1, act: Relu, weight_bits: Ternary, act_bits: Int8),
    Residual(blocks: [DepthwiseSeparable(out: 4, kernel: 3, padding: 1, act: Relu6, weight_bits: Int4, act_bits: Int8)], act: Relu, act_bits: Int8),
    MaxPool(kernel: 2, stride: 2),
    Conv(out: 6, kernel: 3, padding: 1, act: HardSwish, weight_bits: Int8, act_bits: Int8),
    AvgPool(kernel: 2, stride: 2),
    Fc(out: 10, act: Identity, weight_bits: Int8, act_bits: Int8),
])"#;

fn quick() -> TrainConfig {
    TrainConfig {
        max_epochs: 2,
        qat_epochs: 1,
        max_train_samples: Some(240),
        ..TrainConfig::default()
    }
}

fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
}

#[test]
fn one_and_two_threads_give_bit_identical_weights_and_accuracy() {
    let d = data::digits();
    let split = Split::standard(&d, 0).unwrap();
    let g = NetGenotype::from_ron(SMALL, "small.ron").unwrap();
    // With the seeded shift augmentation (on 30 % of the images), label smoothing and a
    // warm-up on, so that they are covered too.
    let cfg = TrainConfig {
        augment_shift: 1,
        augment_prob: 0.3,
        label_smoothing: 0.2,
        warmup_epochs: 1,
        ..quick()
    };
    println!("training seeds 5 and 6, split seed 0, {cfg:?}");
    let run = |threads| {
        pool(threads).install(|| {
            train_and_evaluate_full(&g, &d, &split, &cfg, 5, &Hooks::default()).unwrap()
        })
    };
    let (e1, t1) = run(1);
    let (e2, t2) = run(2);
    assert_eq!(t1.params.bit_hash(), t2.params.bit_hash());
    assert_eq!(t1.float_params.bit_hash(), t2.float_params.bit_hash());
    assert_eq!(t1.calibration, t2.calibration);
    assert_eq!(e1.float_accuracy.to_bits(), e2.float_accuracy.to_bits());
    assert_eq!(e1.quantized_accuracy, e2.quantized_accuracy);
    assert_eq!(e1.quantisation, "quantisation-aware (STE)");
    assert_eq!(e1.qat_epochs, 1);
    // A different seed trains different weights.
    let (_, t3) = pool(2)
        .install(|| train_and_evaluate_full(&g, &d, &split, &cfg, 6, &Hooks::default()).unwrap());
    assert_ne!(t1.params.bit_hash(), t3.params.bit_hash());
}

/// A training configuration written before augment_prob, label_smoothing and
/// warmup_epochs existed keeps its meaning: every image shifted, no smoothing, no warm-up.
#[test]
fn older_train_configs_keep_their_meaning() {
    let text = "(optimizer: Adam(lr: 0.01), batch: 32, chunk: 8, max_epochs: 40, patience: 10, \
        qat_epochs: 10, qat_lr_factor: 0.3, weight_decay: 0.0005, cosine: true, \
        max_train_samples: None, augment_shift: 1)";
    let cfg: TrainConfig = ron::from_str(text).unwrap();
    assert_eq!(cfg.augment_prob, 1.0);
    assert_eq!(cfg.label_smoothing, 0.0);
    assert_eq!(cfg.warmup_epochs, 0);
    // The current defaults differ (the recipe chosen on validation data, docs/nn.md).
    let d = TrainConfig::default();
    assert_eq!(
        (d.augment_shift, d.augment_prob, d.label_smoothing),
        (1, 0.3, 0.2)
    );
}

#[test]
fn reported_quantised_accuracy_is_the_integer_run_and_matches_the_simulator() {
    let d = data::digits();
    let split = Split::standard(&d, 0).unwrap();
    let g = NetGenotype::from_ron(SMALL, "small.ron").unwrap();
    let cfg = TrainConfig {
        max_epochs: 5,
        ..quick()
    };
    let (e, t) = train_and_evaluate_full(&g, &d, &split, &cfg, 1, &Hooks::default()).unwrap();
    assert!(
        e.float_accuracy > 0.3,
        "five epochs on 240 images learn something: {e:?}"
    );
    // Recompute the integer accuracy image by image.
    let model = IntModel::build(&t.plan, &t.params, &t.calibration).unwrap();
    let x = t.normaliser.rows(&d, &split.test);
    let size = 64;
    let correct = split
        .test
        .iter()
        .enumerate()
        .filter(|(i, row)| {
            model.predict(&model.quantize_input(&x[i * size..(i + 1) * size]))
                == d.y[**row] as usize
        })
        .count();
    let ints = correct as f64 / split.test.len() as f64;
    assert_eq!(e.quantized_accuracy, Some(ints));
    assert_eq!(e.accuracy, ints);
    let ty: Vec<u32> = split.test.iter().map(|&i| d.y[i]).collect();
    assert_eq!(integer_accuracy(&model, &x, &ty), ints);

    // The integer network computes what the fake-quantised float network approximates
    // (hard-swish, residual add, average pooling, depthwise, ternary and 4-bit layers
    // included): their predictions agree on nearly every test image. This net has had
    // five short epochs, so many images sit near a tie (average pooling's .5 cases round
    // differently in f32); trained in full, the two agree on 448-450 of 450.
    let fq = tessera_nn::quant::fake_quant(&t.plan, &t.params, &t.calibration);
    let logits = tessera_nn::net::forward(&t.plan, &t.params, Some(&fq), &x, split.test.len());
    let agree = logits
        .chunks_exact(10)
        .enumerate()
        .filter(|(i, row)| {
            let f = row
                .iter()
                .enumerate()
                .fold(0, |b, (j, &v)| if v > row[b] { j } else { b });
            f == model.predict(&model.quantize_input(&x[i * size..(i + 1) * size]))
        })
        .count();
    assert!(
        agree as f64 >= 0.94 * split.test.len() as f64,
        "integer and fake-quantised predictions agree on {agree} of {}",
        split.test.len()
    );

    // The same images through the cycle-level systolic array, two dataflows.
    let n = 3;
    for (df, r, c) in [
        (Dataflow::OutputStationary, 4, 4),
        (Dataflow::WeightStationary, 8, 4),
    ] {
        let rep = tessera_nn::verify::verify(&model, &x[..n * size], &ty[..n], df, r, c).unwrap();
        assert_eq!(rep.simulator_accuracy, rep.reference_accuracy);
        assert!(
            rep.gemms >= 3 + 4,
            "conv, 4 depthwise channels, pw, conv, fc"
        );
        assert!(rep.outputs_compared > 0 && rep.cycles > 0);
    }

    // A fault injected in one output is reported with image, layer and element.
    let mut calls = 0;
    let cell = std::cell::Cell::new(0);
    let faulty = |m: usize, n: usize, k: usize, a: &[i64], b: &[i64]| {
        cell.set(cell.get() + 1);
        let mut out = tessera_accel::systolic_sim::reference_gemm(m, n, k, a, b);
        if cell.get() == 8 {
            out[m * n - 1] += 1;
        }
        Ok((out, 0))
    };
    let err = tessera_nn::verify::verify_with(
        &model,
        &x[..2 * size],
        &ty[..2],
        Dataflow::OutputStationary,
        4,
        4,
        &faulty,
    )
    .unwrap_err()
    .to_string();
    calls += cell.get();
    assert!(calls >= 8);
    assert!(err.starts_with("image 0, layer `"), "{err}");
    assert!(err.contains("output element (position"), "{err}");

    // Export, reload, evaluate: the recorded accuracies come back exactly.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-nn-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (st, ron) = tessera_nn::export::save(&dir.join("small"), &g, &t, &e, &d).unwrap();
    assert!(ron.exists());
    let back = tessera_nn::export::load(&st, &d).unwrap();
    assert_eq!(back.genotype, g);
    assert_eq!(back.trained.params, t.params);
    let s2 = back.split(&d).unwrap();
    let acc = tessera_nn::eval::test_accuracies(&back.trained, &d, &s2);
    assert_eq!(acc.integer, e.quantized_accuracy);
    assert_eq!(acc.float, e.float_accuracy);
    assert_eq!(acc.fake_quant, e.fake_quant_accuracy);
    assert_eq!(back.evaluation, e);
    // A truncated file is an error, not a panic.
    let bytes = std::fs::read(&st).unwrap();
    std::fs::write(dir.join("bad.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    assert!(tessera_nn::export::load(&dir.join("bad.safetensors"), &d).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn invalid_genotypes_are_infeasible_with_a_reason() {
    let d = data::digits();
    let split = Split::standard(&d, 0).unwrap();
    let cases = [
        (
            "Conv(out: 4, kernel: 9), Fc(out: 10, act: Identity)",
            "larger than its input",
        ),
        (
            "Conv(out: 0, kernel: 3), Fc(out: 10, act: Identity)",
            "zero output channels",
        ),
        ("Fc(out: 0), Fc(out: 10, act: Identity)", "zero outputs"),
        (
            "Residual(blocks: [Conv(out: 8, kernel: 3, padding: 1)]), Fc(out: 10, act: Identity)",
            "needs equal shapes",
        ),
        (
            "Fc(out: 10, act: Identity, act_bits: Ternary)",
            "only weights may be ternary",
        ),
        ("Fc(out: 7, act: Identity)", "10 classes"),
        ("Fc(out: 10, act: Relu)", "act: Identity"),
        (
            "Fc(out: 10, act: Identity), MaxPool(kernel: 1)",
            "last block",
        ),
        (
            "MaxPool(kernel: 2, stride: 0), Fc(out: 10, act: Identity)",
            "at least 1",
        ),
        (
            "Conv(out: 4, kernel: 3, padding: 3), Fc(out: 10, act: Identity)",
            "padding",
        ),
        ("Residual(blocks: []), Fc(out: 10, act: Identity)", "empty"),
    ];
    for (blocks, want) in cases {
        let text = format!("(format_version: 1, name: \"bad\", blocks: [{blocks}])");
        let g = NetGenotype::from_ron(&text, "bad.ron").unwrap();
        let e = train_and_evaluate(&g, &d, &split, &quick(), 0).unwrap_err();
        assert!(e.reason.contains(want), "{blocks}: {e}");
    }
    // A RON error names the file, line and column.
    let e = NetGenotype::from_ron(
        "(format_version: 1,\n name: \"x\",\n blocks: [Conv(out: 4)])",
        "x.ron",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("x.ron:3:"), "{e}");
}

#[test]
fn lowering_gives_real_shapes_and_precisions_to_the_accelerator_model() {
    let d = data::digits();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../workloads/networks/digits-cnn-ternary.ron"
    ))
    .unwrap();
    let g = NetGenotype::from_ron(&text, "digits-cnn-ternary.ron").unwrap();
    let plan = g.plan(d.input_shape(), 10).unwrap();
    let net = tessera_nn::lower::lower(&plan, &g.name);
    assert_eq!(net.layers.len(), 3);
    net.check("lowered").unwrap();
    assert_eq!(net.macs(), plan.macs());
    assert_eq!(
        plan.macs(),
        8 * 8 * 9 * 16 + 4 * 4 * 9 * 16 * 32 + 2 * 2 * 32 * 10
    );
    let p = net.layers[0].precision.unwrap();
    assert_eq!(p.weight, tessera_arch::accel::Precision::Ternary);
    assert_eq!(p.activation, tessera_arch::accel::Precision::Int8);
    let spec = AccelSpec::preset("edge-os-16x16").unwrap();
    let acc = Accelerator::new(&spec);
    let tern = acc.totals(&net.lower().unwrap()).unwrap();
    // The same network at 8-bit weights costs more MAC energy and moves more filter bytes.
    let g8 = NetGenotype::from_ron(&text.replace("Ternary", "Int8"), "x").unwrap();
    let net8 = tessera_nn::lower::lower(&g8.plan(d.input_shape(), 10).unwrap(), "int8");
    let int8 = acc.totals(&net8.lower().unwrap()).unwrap();
    assert!(tern.energy.mac_pj < int8.energy.mac_pj);
    assert!(tern.filter.dram_read_bytes < int8.filter.dram_read_bytes);
    assert_eq!(tern.macs, int8.macs);
}

#[test]
fn digits_genes_build_feasible_networks() {
    use tessera_nn::{Activation, BitWidth, DigitsGenes};
    let d = data::digits();
    for conv_layers in 0..=3 {
        for depthwise in [false, true] {
            let genes = DigitsGenes {
                conv_layers,
                conv_width: 4,
                kernel: 5,
                depthwise,
                hidden: 16,
                activation: Activation::Relu6,
                weight_bits: BitWidth::Ternary,
                act_bits: BitWidth::Int4,
            };
            let g = genes.genotype();
            let plan = g
                .plan(d.input_shape(), 10)
                .unwrap_or_else(|e| panic!("{genes:?}: {e}"));
            assert_eq!(
                plan.nodes.iter().filter(|n| n.is_mac()).count() as u32,
                conv_layers + depthwise as u32 * conv_layers.saturating_sub(1) + 2
            );
        }
    }
}

/// The issue's quantisation figure at full budget; run with
/// `cargo test --release -p tessera-nn -- --ignored` (about 20 s).
#[test]
#[ignore = "full training budget: run in release"]
fn reference_cnn_ternary_weights_stay_within_two_points_of_float() {
    let d = data::digits();
    let split = Split::standard(&d, 0).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../workloads/networks/digits-cnn-ternary.ron"
    ))
    .unwrap();
    let g = NetGenotype::from_ron(&text, "digits-cnn-ternary.ron").unwrap();
    let (mut float, mut int) = (0.0, 0.0);
    for seed in 0..5 {
        let e = train_and_evaluate(&g, &d, &split, &TrainConfig::default(), seed).unwrap();
        float += e.float_accuracy / 5.0;
        int += e.quantized_accuracy.unwrap() / 5.0;
    }
    assert!(float > 0.96, "float {float}");
    assert!(float - int <= 0.02, "float {float}, ternary integer {int}");
}
