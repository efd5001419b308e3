//! The shipped search configs' evaluators end to end: joint network x accelerator searches
//! (NAS-Bench-201 table, digits trained and quantised), the sequential baseline, and CGRA
//! kernels mapped and verified by simulation. Budgets are cut to test size.

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn shipped(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("workloads/searches")
            .join(name),
    )
    .unwrap()
}

fn out_dir(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-evals-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn records(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run(cfg: &Path, dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "search",
        cfg.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let o = tessera(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    json(&o)
}

#[test]
fn nasbench201_joint_and_sequential_baseline() {
    let text = shipped("nasbench201-edge.ron").replace("evaluations: 5000", "evaluations: 300");
    let cfg = temp_file("evals", "nas.ron", &text);
    let joint = out_dir("nas-joint");
    let s = run(&cfg, &joint, &["--threads", "2"]);
    assert_eq!(s["evaluations"], 300);
    assert!(s["feasible"].as_u64().unwrap() > 0, "{s}");
    for r in records(&joint).iter().filter(|r| r["status"] == "ok") {
        let acc = r["metrics"]["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{r}");
        assert!(
            r["metrics"]["macs"].as_f64().unwrap() > 0.0 || acc <= 0.11,
            "{r}"
        );
    }
    let seq = out_dir("nas-seq");
    let s = run(&cfg, &seq, &["--sequential-baseline", "accuracy"]);
    assert_eq!(s["evaluations"], 300);
    let rs = records(&seq);
    // Phase 1 (the first half): hardware held at the base accelerator (edge-os-16x16).
    for r in &rs[..150] {
        let d = &r["design"];
        assert_eq!(
            (d["rows"].as_i64(), d["cols"].as_i64()),
            (Some(16), Some(16)),
            "{r}"
        );
        assert_eq!(d["dataflow"], "OutputStationary", "{r}");
    }
    // Phase 2: one network (the best of phase 1) on varying hardware.
    let cells: std::collections::BTreeSet<String> = rs[150..]
        .iter()
        .map(|r| {
            (0..6)
                .map(|e| r["design"][format!("edge{e}")].to_string())
                .collect()
        })
        .collect();
    assert_eq!(cells.len(), 1, "{cells:?}");
    let best_phase1 = rs[..150]
        .iter()
        .filter(|r| r["feasible"] == true)
        .map(|r| r["metrics"]["accuracy"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(
        rs[150]["metrics"]["accuracy"].as_f64().unwrap(),
        best_phase1
    );
    // Resuming a joint folder as a baseline is refused.
    let o = tessera(&[
        "search",
        cfg.to_str().unwrap(),
        "-o",
        joint.to_str().unwrap(),
        "--resume",
        "--sequential-baseline",
        "accuracy",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn digits_networks_are_trained_quantised_and_scored() {
    // One epoch on 200 samples: this checks the plumbing, not the accuracy (the figures
    // come from the full config, docs/search.md).
    let text = shipped("digits-edge.ron")
        .replace(
            "DigitsAccel(base: \"edge-os-16x16\", train_seed: 1)",
            "DigitsAccel(base: \"edge-os-16x16\", train_seed: 1, train: (optimizer: Adam(lr: 0.01), batch: 32, chunk: 8, max_epochs: 1, patience: 1, qat_epochs: 1, qat_lr_factor: 0.3, weight_decay: 0.0005, cosine: false, max_train_samples: Some(200)))",
        )
        .replace("evaluations: 400", "evaluations: 8")
        .replace("pop_size: 40", "pop_size: 4")
        .replace("accuracy >= 0.90", "accuracy >= 0.0");
    let cfg = temp_file("evals", "digits.ron", &text);
    let dir = out_dir("digits");
    let s = run(&cfg, &dir, &["--threads", "2"]);
    assert_eq!(s["evaluations"], 8);
    let rs = records(&dir);
    assert!(rs.iter().any(|r| r["status"] == "ok"), "{rs:?}");
    for r in &rs {
        if r["status"] == "ok" {
            let m = &r["metrics"];
            assert!(m["accuracy"].as_f64().unwrap() >= 0.0 && m["params"].as_f64().unwrap() > 0.0);
            assert!(m["latency_ms"].as_f64().unwrap() > 0.0);
        } else {
            // e.g. a 16-bit layer on an 8-bit datapath: said, not dropped.
            assert!(r["reason"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
        }
    }
}

/// Joint digits x accelerator: `--emit-front` writes, for each Pareto design, the
/// accelerator spec, the network, the trained weights and their metrics; the weights
/// reload in `tessera nn eval`, which reproduces the recorded accuracy exactly, and the
/// spec and network score the recorded latency in `tessera accel run`.
#[test]
fn digits_front_designs_are_emitted_with_weights_that_reproduce_the_record() {
    let text = shipped("digits-edge.ron")
        .replace(
            "DigitsAccel(base: \"edge-os-16x16\", train_seed: 1)",
            "DigitsAccel(base: \"edge-os-16x16\", train_seed: 1, train: (optimizer: Adam(lr: 0.01), batch: 32, chunk: 8, max_epochs: 1, patience: 1, qat_epochs: 1, qat_lr_factor: 0.3, weight_decay: 0.0005, cosine: false, max_train_samples: Some(200)))",
        )
        .replace("evaluations: 400", "evaluations: 6")
        .replace("pop_size: 40", "pop_size: 4")
        .replace("accuracy >= 0.90", "accuracy >= 0.0");
    let cfg = temp_file("evals", "digits-emit.ron", &text);
    let dir = out_dir("digits-emit");
    let s = run(&cfg, &dir, &["--threads", "2", "--emit-front"]);
    assert!(
        !s["front"].as_array().unwrap().is_empty(),
        "no front to emit: {s}"
    );
    let emitted: Vec<PathBuf> = std::fs::read_dir(dir.join("emit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(emitted.len(), s["front"].as_array().unwrap().len());
    for d in emitted.iter().take(2) {
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("design.json")).unwrap()).unwrap();
        let recorded_accuracy = record["metrics"]["accuracy"].as_f64().unwrap();
        let metrics: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("network-metrics.json")).unwrap())
                .unwrap();
        assert_eq!(
            metrics["accuracy"].as_f64().unwrap(),
            recorded_accuracy,
            "{}",
            d.display()
        );
        let o = tessera(&[
            "nn",
            "eval",
            d.join("trained.safetensors").to_str().unwrap(),
            "--json",
        ]);
        assert!(o.status.success(), "{}: {}", d.display(), stderr(&o));
        let e = json(&o);
        assert_eq!(e["reproduced"], true, "{e}");
        // The integer accuracy is the one that counts (docs/nn.md); a float network has none.
        let reproduced = e["quantized_accuracy"]
            .as_f64()
            .or(e["float_accuracy"].as_f64())
            .unwrap();
        assert_eq!(reproduced, recorded_accuracy, "{e}");
        let o = tessera(&[
            "accel",
            "run",
            d.join("network.ron").to_str().unwrap(),
            "--arch",
            d.join("accel.ron").to_str().unwrap(),
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let latency_ms = json(&o)["totals"]["latency_ns"].as_f64().unwrap() / 1e6;
        let recorded = record["metrics"]["latency_ms"].as_f64().unwrap();
        assert!(
            (latency_ms - recorded).abs() <= 1e-12 * recorded.max(1.0),
            "{latency_ms} vs {recorded}"
        );
    }
}

#[test]
fn cgra_designs_are_mapped_and_verified_by_simulation() {
    let text = shipped("cgra-kernels.ron")
        .replace(
            "\"workloads/kernels\"",
            "\"workloads/kernels/dot.tk\", \"workloads/kernels/fir.tk\"",
        )
        .replace("evaluations: 200", "evaluations: 4")
        .replace("pop_size: 20", "pop_size: 4");
    let cfg = temp_file("evals", "cgra.ron", &text);
    let dir = out_dir("cgra");
    let s = run(&cfg, &dir, &["--threads", "2"]);
    assert_eq!(s["evaluations"], 4);
    let rs = records(&dir);
    assert!(rs.iter().any(|r| r["status"] == "ok"), "{rs:?}");
    for r in rs.iter().filter(|r| r["status"] == "ok") {
        assert!(r["metrics"]["cycles"].as_f64().unwrap() > 0.0, "{r}");
    }
}

#[test]
fn emitted_designs_reload_and_score_as_recorded() {
    // NAS-Bench-201 x accelerator: the emitted spec and network give the recorded latency.
    let text = shipped("nasbench201-edge.ron").replace("evaluations: 5000", "evaluations: 100");
    let cfg = temp_file("evals", "nas-emit.ron", &text);
    let dir = out_dir("nas-emit");
    run(&cfg, &dir, &["--emit-front"]);
    let emitted: Vec<PathBuf> = std::fs::read_dir(dir.join("emit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!emitted.is_empty());
    for d in emitted.iter().take(3) {
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("design.json")).unwrap()).unwrap();
        let o = tessera(&[
            "accel",
            "run",
            d.join("network.ron").to_str().unwrap(),
            "--arch",
            d.join("accel.ron").to_str().unwrap(),
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let rep = json(&o);
        let latency_ms = rep["totals"]["latency_ns"].as_f64().unwrap() / 1e6;
        let recorded = record["metrics"]["latency_ms"].as_f64().unwrap();
        assert!(
            (latency_ms - recorded).abs() <= 1e-12 * recorded.max(1.0),
            "{latency_ms} vs {recorded}"
        );
    }
    // CGRA: every emitted mapping simulates and verifies with `tessera sim`.
    let text = shipped("cgra-kernels.ron")
        .replace("\"workloads/kernels\"", "\"workloads/kernels/dot.tk\"")
        .replace("evaluations: 200", "evaluations: 4")
        .replace("pop_size: 20", "pop_size: 4");
    let cfg = temp_file("evals", "cgra-emit.ron", &text);
    let dir = out_dir("cgra-emit");
    run(&cfg, &dir, &[]);
    let o = tessera(&["search", "emit", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = std::fs::read_dir(dir.join("emit"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let o = tessera(&["sim", first.join("mappings/dot.json").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(first.join("cgra.ron").exists());
}
