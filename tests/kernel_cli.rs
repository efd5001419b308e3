//! End-to-end tests of `tessera kernel check|show|dot|run` through the binary.

use std::path::PathBuf;

mod common;
use common::{json, stderr, stdout, tessera};

fn temp_file(name: &str, text: &str) -> PathBuf {
    common::temp_file("kernel", name, text)
}

#[test]
fn check_accepts_every_bundled_kernel() {
    let mut paths: Vec<_> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("workloads/kernels"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "tk"))
            .collect();
    paths.sort();
    assert!(paths.len() >= 16);
    for p in paths {
        let o = tessera(&["kernel", "check", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stderr(&o));
        assert!(stdout(&o).starts_with("ok: kernel"), "{}", stdout(&o));
    }
}

#[test]
fn check_json_reports_structure_and_params_apply() {
    let o = tessera(&[
        "kernel",
        "check",
        "workloads/kernels/dot.tk",
        "--param",
        "n=32",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["summary"]["trip_count"], 32);
    assert_eq!(v["summary"]["kernel"], "dot");
    assert_eq!(v["summary"]["op_histogram"]["mul"], 1);
}

#[test]
fn show_lists_nodes_and_json_round_trips_as_a_kernel() {
    let o = tessera(&["kernel", "show", "workloads/kernels/histogram.tk"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("trip count 128"), "{text}");
    assert!(text.contains("hist         InOut i32[256]"), "{text}");
    assert!(text.contains("op histogram:"), "{text}");
    assert!(text.contains("o:n"), "ordering edges shown: {text}");

    let o = tessera(&["kernel", "show", "workloads/kernels/fir.tk", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(
        v["summary"]["nodes"],
        v["kernel"]["graph"]["nodes"].as_array().unwrap().len()
    );
    // The `kernel` field is a loadable Tessera kernel JSON.
    let p = temp_file("fir.json", &serde_json::to_string(&v["kernel"]).unwrap());
    let o2 = tessera(&["kernel", "check", p.to_str().unwrap(), "--json"]);
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    assert_eq!(json(&o2)["summary"]["nodes"], v["summary"]["nodes"]);
}

#[test]
fn run_prints_seed_and_matches_the_library() {
    let o = tessera(&["kernel", "run", "workloads/kernels/prefix_sum.tk"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("seed 1"), "{}", stdout(&o));

    let o = tessera(&[
        "kernel",
        "run",
        "workloads/kernels/prefix_sum.tk",
        "--input-seed",
        "9",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["seed"], 9);
    assert_eq!(v["ok"], true);
    let k = tessera_ir::load_kernel(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("workloads/kernels/prefix_sum.tk"),
        &[],
    )
    .unwrap();
    let out = tessera_ir::interp::run(&k, &tessera_ir::interp::random_inputs(&k, 9)).unwrap();
    assert_eq!(v["live_outs"]["total"], out.live_outs[0].1);
    let ys: Vec<i64> = v["arrays"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(
        ys,
        out.arrays[0]
            .values
            .iter()
            .map(|x| *x as i64)
            .collect::<Vec<_>>()
    );
    // A different seed gives different data.
    let o3 = tessera(&[
        "kernel",
        "run",
        "workloads/kernels/prefix_sum.tk",
        "--input-seed",
        "10",
        "--json",
    ]);
    assert_ne!(json(&o3)["live_outs"], v["live_outs"]);
}

#[test]
fn bad_input_exits_2_with_a_located_message() {
    let p = temp_file(
        "bad.tk",
        "kernel k() {\n  out i32 y[4];\n  for i in 0..4 { y[i] = 1 }\n}\n",
    );
    let o = tessera(&["kernel", "check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.tk:3:28: expected `;` after assignment, found `}`"),
        "{}",
        stderr(&o)
    );

    let o = tessera(&["kernel", "check", p.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v = json(&o);
    assert_eq!(v["ok"], false);
    assert_eq!(v["stage"], "read");

    let o = tessera(&["kernel", "show", "no/such/file.tk"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));

    let o = tessera(&[
        "kernel",
        "run",
        "workloads/kernels/dot.tk",
        "--param",
        "m=3",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown parameter `m`"),
        "{}",
        stderr(&o)
    );

    let o = tessera(&["kernel", "run", "workloads/kernels/dot.tk", "--param", "n"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_kernel_that_fails_at_run_time_fails_the_check_with_exit_1() {
    // Byte values index a 16-entry table: most seeds go out of range.
    let p = temp_file(
        "oob.tk",
        "// out of range\nkernel oob() {\n  in u8 x[64];\n  inout i32 h[16];\n  for i in 0..64 { h[x[i]] += 1; }\n}\n",
    );
    let o = tessera(&["kernel", "check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("out-of-range"), "{}", stderr(&o));
    let o = tessera(&["kernel", "run", p.to_str().unwrap(), "--input-seed", "4"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("seed 4"), "{}", stderr(&o));
    let o = tessera(&[
        "kernel",
        "run",
        p.to_str().unwrap(),
        "--input-seed",
        "4",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().contains("out-of-range"), "{v}");
}

#[test]
fn dot_prints_or_writes_the_graph() {
    let o = tessera(&["kernel", "dot", "workloads/kernels/histogram.tk"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.trim_start().starts_with("digraph"), "{text}");
    assert!(text.contains("->"), "{text}");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-kernel-cli-{}-h.dot", std::process::id()));
    let o = tessera(&[
        "kernel",
        "dot",
        "workloads/kernels/histogram.tk",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["output"], out.to_str().unwrap());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    let o = tessera(&["kernel", "dot", "no/such.tk"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn run_on_inputs_from_a_file() {
    // The CRC-32 check value: CRC-32("123456789") = 0xCBF43926, the kernel returns its
    // complement in the register.
    let bytes: Vec<String> = b"123456789".iter().map(|b| b.to_string()).collect();
    let p = temp_file(
        "crc_in.json",
        &format!("{{\"scalars\": [], \"arrays\": [[{}]]}}", bytes.join(",")),
    );
    let o = tessera(&[
        "kernel",
        "run",
        "workloads/kernels/crc32.tk",
        "--param",
        "n=9",
        "--inputs",
        p.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["seed"], serde_json::Value::Null);
    assert_eq!(
        !(v["live_outs"]["crc"].as_i64().unwrap() as i32 as u32),
        0xCBF4_3926
    );

    // The `inputs` of a seeded run, fed back, reproduce it.
    let o = tessera(&[
        "kernel",
        "run",
        "workloads/kernels/adpcm_decode.tk",
        "--input-seed",
        "5",
        "--json",
    ]);
    let v = json(&o);
    let p = temp_file(
        "adpcm_in.json",
        &serde_json::to_string(&v["inputs"]).unwrap(),
    );
    let o2 = tessera(&[
        "kernel",
        "run",
        "workloads/kernels/adpcm_decode.tk",
        "--inputs",
        p.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    let v2 = json(&o2);
    assert_eq!(v2["live_outs"], v["live_outs"]);
    assert_eq!(v2["arrays"], v["arrays"]);

    // Wrong shapes and malformed files are bad input.
    let bad = temp_file("bad_in.json", "{\"scalars\": [], \"arrays\": [[1, 2]]}");
    let o = tessera(&[
        "kernel",
        "run",
        "workloads/kernels/crc32.tk",
        "--inputs",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("array `data` has 64 elements, the file gives 2"),
        "{}",
        stderr(&o)
    );
    let bad = temp_file("bad2_in.json", "{\"scalars\": [1,");
    let o = tessera(&[
        "kernel",
        "run",
        "workloads/kernels/crc32.tk",
        "--inputs",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad2_in.json:1:"), "{}", stderr(&o));
}

/// An f32 kernel: `kernel show` names the element type and how inputs are drawn, `kernel
/// run` prints f32 arrays and float live-outs as floats (item 7 of issue 17).
#[test]
fn f32_arrays_and_values_are_shown_as_floats() {
    let f = "crates/tessera-ir/tests/data/fir_f32.tk";
    let o = tessera(&["kernel", "show", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(
        s.contains("x            In f32[67]") && s.contains("random floats in [-2, 2]"),
        "{s}"
    );
    assert!(s.contains("q            Out i32[64]"), "{s}");
    let o = tessera(&["kernel", "run", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    let y = s
        .lines()
        .find(|l| l.trim_start().starts_with("y[64] = ["))
        .unwrap();
    let first: f32 = y
        .split('[')
        .nth(2)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(first.abs() < 8.0 && first.fract() != 0.0, "{y}");
    let peak = s
        .lines()
        .find(|l| l.trim_start().starts_with("peak = "))
        .unwrap();
    assert!(peak.contains("(f32 0x"), "{peak}");
    assert!(s.lines().any(|l| l.trim() == "count = 26"), "{s}");
}
