//! End-to-end tests of `tessera accel` through the binary.

use std::path::PathBuf;

mod common;
use common::{stderr, stdout, tessera};

fn temp_file(name: &str, text: &str) -> PathBuf {
    common::temp_file("accel", name, text)
}

#[test]
fn run_prints_a_layer_table_totals_and_roofline() {
    let o = tessera(&[
        "accel",
        "run",
        "resnet50",
        "--arch",
        "tpu-v1-like-ws-128x128",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("conv1 "), "{out}");
    assert!(out.contains("conv5_3_1x1b"), "{out}");
    assert!(out.contains("total: 54 layers"), "{out}");
    assert!(out.contains("roofline: intensity"), "{out}");
    assert!(out.contains("area "), "{out}");
}

#[test]
fn json_and_csv_agree_and_totals_add_up() {
    let o = tessera(&[
        "accel",
        "run",
        "mobilenet_v2",
        "--arch",
        "edge-os-16x16",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    assert_eq!(v["feasible"], true);
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 53);
    let sum = |key: &str| -> u64 {
        layers
            .iter()
            .map(|l| l["perf"][key].as_u64().unwrap())
            .sum()
    };
    let totals = &v["totals"];
    assert_eq!(totals["macs"].as_u64().unwrap(), sum("macs"));
    assert_eq!(
        totals["total_cycles"].as_u64().unwrap(),
        sum("total_cycles")
    );
    assert_eq!(
        totals["total_cycles"].as_u64().unwrap(),
        totals["compute_cycles"].as_u64().unwrap() + totals["stall_cycles"].as_u64().unwrap()
    );

    let c = tessera(&[
        "accel",
        "run",
        "mobilenet_v2",
        "--arch",
        "edge-os-16x16",
        "--csv",
        "-",
    ]);
    assert!(c.status.success(), "{}", stderr(&c));
    let text = stdout(&c);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 54, "{text}");
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header.iter().position(|h| *h == "compute_cycles").unwrap();
    for (line, layer) in lines[1..].iter().zip(layers) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), header.len(), "{line}");
        assert_eq!(f[0], layer["name"].as_str().unwrap());
        assert_eq!(
            f[col].parse::<u64>().unwrap(),
            layer["perf"]["compute_cycles"].as_u64().unwrap()
        );
    }
}

#[test]
fn csv_file_output_and_scalesim_topologies() {
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-accel-cli-{}-alex.csv", std::process::id()));
    let o = tessera(&[
        "accel",
        "run",
        "workloads/networks/scalesim/alexnet_conv.csv",
        "--arch",
        "eyeriss-like-32x32",
        "--csv",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["layers"].as_array().unwrap().len(), 8);
    assert_eq!(
        v["layers"][0]["perf"]["macs"].as_u64().unwrap(),
        105_415_200
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 9);
    let g = tessera(&[
        "accel",
        "run",
        "workloads/networks/scalesim/bert_base_layer_mnk.csv",
        "--arch",
        "edge-os-16x16",
    ]);
    assert!(g.status.success(), "{}", stderr(&g));
    assert!(stdout(&g).contains("128x3072x768"), "{}", stdout(&g));
}

#[test]
fn an_infeasible_design_is_reported_with_its_reason_and_exit_code_1() {
    let spec = temp_file(
        "tiny-filter.ron",
        r#"(preset: "tpu-v1-like-ws-128x128", set: {"filter_sram.size_kb": 16})"#,
    );
    let o = tessera(&["accel", "run", "resnet50", "--arch", spec.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("INFEASIBLE"), "{out}");
    assert!(out.contains("filter buffer too small"), "{out}");
    let j = tessera(&[
        "accel",
        "run",
        "resnet50",
        "--arch",
        spec.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["feasible"], false);
    assert!(v["totals"].is_null());
    let c = tessera(&[
        "accel",
        "run",
        "resnet50",
        "--arch",
        spec.to_str().unwrap(),
        "--csv",
        "-",
    ]);
    let text = stdout(&c);
    let lines: Vec<&str> = text.lines().collect();
    let width = lines[0].split(',').count();
    assert_eq!(lines.len(), 55);
    for line in &lines[1..] {
        assert_eq!(line.split(',').count(), width, "{line}");
    }
    assert!(
        lines[1].starts_with("conv1,conv,") && lines[1].ends_with(','),
        "{}",
        lines[1]
    );
    let bad = lines
        .iter()
        .filter(|l| l.ends_with("one half of the double buffer holds 8192 B"));
    assert!(bad.count() > 10);
}

#[test]
fn bad_input_exits_2_naming_file_and_line() {
    let o = tessera(&["accel", "run", "no_such_net", "--arch", "edge-os-16x16"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("resnet50"), "{}", stderr(&o));

    let spec = temp_file("bad.ron", r#"(preset: "edge-os-16x16", set: {"rows": 0})"#);
    let o = tessera(&["accel", "run", "resnet50", "--arch", spec.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.ron") && stderr(&o).contains("rows is 0"),
        "{}",
        stderr(&o)
    );

    let csv = temp_file("topo.csv", "Layer, M, N, K,\nA, 4, 4, 4,\nB, 4, four, 4,\n");
    let o = tessera(&[
        "accel",
        "run",
        csv.to_str().unwrap(),
        "--arch",
        "edge-os-16x16",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("topo.csv:3:"), "{}", stderr(&o));

    let net = temp_file(
        "net.ron",
        "(format_version: 1, name: \"n\",\n layers: [(name: \"a\", op: Conv(in_h: 2))])",
    );
    let o = tessera(&[
        "accel",
        "run",
        net.to_str().unwrap(),
        "--arch",
        "edge-os-16x16",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("net.ron:2:"), "{}", stderr(&o));
}

#[test]
fn check_compares_model_and_cycle_stepped_array() {
    let o = tessera(&["accel", "check", "--max-dim", "3", "--json"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cases"], 3 * 4 * 27);
    assert_eq!(v["mismatches"].as_array().unwrap().len(), 0);
}

#[test]
fn layers_and_list() {
    let o = tessera(&["accel", "layers", "bert_base", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["layers"].as_array().unwrap().len(), 97);
    let l = tessera(&["accel", "list"]);
    assert!(l.status.success());
    let out = stdout(&l);
    assert!(
        out.contains("eyeriss-like-32x32") && out.contains("mobilenet_v2"),
        "{out}"
    );
}

#[test]
fn set_overrides_preset_fields() {
    let o = tessera(&[
        "accel",
        "run",
        "mobilenet_v2",
        "--arch",
        "edge-os-16x16",
        "--set",
        "rows=32",
        "--set",
        "dataflow=WeightStationary",
        "--set",
        "weight_precision=Ternary",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 32);
    assert_eq!(v["dataflow"], "WeightStationary");
    assert_eq!(v["peak_macs_per_cycle"], 32.0 * 16.0);
    let bad = tessera(&[
        "accel",
        "run",
        "resnet50",
        "--arch",
        "edge-os-16x16",
        "--set",
        "rowz=3",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("rowz"), "{}", stderr(&bad));
    let file = tessera(&[
        "accel",
        "run",
        "resnet50",
        "--arch",
        "arch-specs/accel/edge-os-16x16.ron",
        "--set",
        "rows=3",
    ]);
    assert_eq!(file.status.code(), Some(2));
}
