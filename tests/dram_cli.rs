//! End-to-end tests of `tessera dram ...` through the built binary. Configs are kept small
//! (written to a temporary folder) so the debug build runs them quickly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tessera")
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tessera-dram-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, file: &str, text: &str) -> String {
    let p = dir.join(file);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "status {:?}\nstdout {}\nstderr {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn sim_runs_the_shipped_trace_configs() {
    for cfg in [
        "workloads/dram/sim-trace-ramulator.ron",
        "workloads/dram/sim-trace-dramsim3.ron",
    ] {
        let v = json(&tessera(&["dram", "sim", cfg, "--json"]));
        assert!(v["requests"].as_u64().unwrap() >= 400, "{cfg}");
        assert!(v["bandwidth_gbs"].as_f64().unwrap() > 0.0);
        assert!(v["energy"]["total_pj"].as_f64().unwrap() > 0.0);
    }
    let text = tessera(&["dram", "sim", "workloads/dram/sim-trace-ramulator.ron"]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("row buffer: hit rate"));
}

#[test]
fn sim_synthetic_random_vs_streaming() {
    let d = tmp_dir("sim");
    let mk = |pattern: &str| {
        format!(
            "(spec: \"DDR4_2400R\", workload: Synthetic(pattern: {pattern}, requests: 3000, \
             read_fraction: 0.8, seed: 1))"
        )
    };
    let s = json(&tessera(&[
        "dram",
        "sim",
        &write(&d, "s.ron", &mk("Streaming")),
        "--json",
    ]));
    let r = json(&tessera(&[
        "dram",
        "sim",
        &write(&d, "r.ron", &mk("Random")),
        "--json",
    ]));
    assert!(s["row_hit_rate"].as_f64().unwrap() > r["row_hit_rate"].as_f64().unwrap());
    assert!(s["bandwidth_gbs"].as_f64().unwrap() > r["bandwidth_gbs"].as_f64().unwrap());
}

#[test]
fn bad_config_and_bad_trace_name_file_and_line() {
    let d = tmp_dir("bad");
    let cfg = write(
        &d,
        "bad.ron",
        "(\n  spec: \"DDR4_2400R\",\n  workload: Synthetic(pattern: Zigzag, requests: 1, read_fraction: 0.8, seed: 1),\n)\n",
    );
    let out = tessera(&["dram", "sim", &cfg]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.ron:3:"), "{err}");
    write(&d, "t.trace", "0x40 R\n0x80 Q\n");
    let cfg = write(
        &d,
        "t.ron",
        "(spec: \"DDR4_2400R\", workload: Trace(path: \"t.trace\", format: Ramulator))",
    );
    let out = tessera(&["dram", "sim", &cfg]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("t.trace:2:") && err.contains("R or W"),
        "{err}"
    );
    let cfg = write(
        &d,
        "s.ron",
        "(spec: \"DDR4_2400R\", workload: Synthetic(pattern: Random, requests: 1, read_fraction: 0.8, seed: 1), controller: (address_map: \"RoRoRo\"))",
    );
    let out = tessera(&["dram", "sim", &cfg]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn trng_reports_throughput_and_violations() {
    let d = tmp_dir("trng");
    let cfg = write(
        &d,
        "q.ron",
        "(spec: \"DDR4_2400R\", trng: (source: Quac, columns: 64, characterisation_reads: 64, \
         output_bits: 4096, timing_iterations: 2))",
    );
    let bits = d.join("bits.txt");
    let v = json(&tessera(&[
        "dram",
        "trng",
        &cfg,
        "--json",
        "--out",
        &bits.display().to_string(),
    ]));
    assert_eq!(v["trng"]["rows_activated"], 4);
    assert!(v["trng"]["throughput_gbps_per_channel"].as_f64().unwrap() > 0.0);
    let viol = v["trng"]["violations_per_iteration"].to_string();
    assert!(viol.contains("tRAS") && viol.contains("tRP"), "{viol}");
    assert_eq!(std::fs::read_to_string(&bits).unwrap().len(), 4096);
}

#[test]
fn nist_passes_trng_output_and_fails_constant_streams() {
    let d = tmp_dir("nist");
    // SHA-256 post-processed QUAC output from the model, written as ASCII 0/1.
    let cfg = write(
        &d,
        "q.ron",
        "(spec: \"DDR4_2400R\", trng: (source: Quac, columns: 64, characterisation_reads: 64, \
         output_bits: 40000, timing_iterations: 1))",
    );
    let bits = d.join("bits.txt").display().to_string();
    assert!(
        tessera(&["dram", "trng", &cfg, "--out", &bits])
            .status
            .success()
    );
    let v = json(&tessera(&["dram", "nist", &bits, "--json"]));
    assert_eq!(v["bits"], 40000);
    assert_eq!(v["tests"].as_array().unwrap().len(), 15);
    assert_eq!(v["failed"], 0);
    // The same bits as a binary file are read as binary (8 bits per byte).
    let packed: Vec<u8> = std::fs::read(&bits)
        .unwrap()
        .chunks(8)
        .map(|c| c.iter().fold(0u8, |a, &b| (a << 1) | (b - b'0')))
        .collect();
    let bin = d.join("bits.bin");
    std::fs::write(&bin, &packed).unwrap();
    let w = json(&tessera(&[
        "dram",
        "nist",
        &bin.display().to_string(),
        "--json",
    ]));
    assert_eq!(w["ones"], v["ones"]);
    let bad = write(&d, "ones.txt", &"1".repeat(5000));
    let out = tessera(&["dram", "nist", &bad]);
    assert_eq!(out.status.code(), Some(1), "a constant stream must fail");
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL"));
    let out = tessera(&["dram", "nist", "/no/such/file"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn puf_hammer_and_channel_run() {
    let d = tmp_dir("misc");
    let puf = write(
        &d,
        "p.ron",
        "(spec: \"DDR4_2400R\", puf: (mechanism: Simra(rows: 8), chips: 3, columns: 16, repeats: 1))",
    );
    let v = json(&tessera(&["dram", "puf", &puf, "--json"]));
    assert!(v["inter_fhd"]["mean"].as_f64().unwrap() > v["intra"][0][2]["mean"].as_f64().unwrap());
    let ham = write(
        &d,
        "h.ron",
        "(spec: \"DDR4_2400R\", hammer: (pattern: DoubleSided, hammer_count: 2000, rows_sampled: 64))",
    );
    let v = json(&tessera(&["dram", "hammer", &ham, "--json"]));
    assert!(v["hc_first_min"].as_u64().unwrap() > 0);
    assert_eq!(v["activations"], 4000);
    let ch = write(
        &d,
        "c.ron",
        "(spec: \"DDR4_2400R\", channel: (bits: 200, noise_requests_per_us: 0.0, refresh: false))",
    );
    let v = json(&tessera(&["dram", "channel", &ch, "--json"]));
    assert_eq!(v["errors"], 0);
    assert!((v["capacity_mbps"].as_f64().unwrap() - 10.0).abs() < 1e-9);
}

#[test]
fn hammer_compare_shows_the_simra_tracker_bypass() {
    let d = tmp_dir("hammer-compare");
    let cfg = write(
        &d,
        "bypass.ron",
        "(spec: \"DDR4_2400R\", hammer: (pattern: Simra(rows: 32), data_pattern: Checkerboard, \
         victim_row: 1000, hammer_count: 40000, refresh: true, simra_row_weight: Some(4.0), \
         rows_sampled: 64), compare: [(label: \"trr\", mitigation: \
         Some(TrrSampler(entries: 4, sample_probability: 1.0))), (label: \"prac-all\", \
         mitigation: Some(Prac(threshold: 500)), tracker_sees_all_rows: true)])",
    );
    let v = json(&tessera(&["dram", "hammer", &cfg, "--json"]));
    let runs = v["runs"].as_array().unwrap();
    let flips: Vec<u64> = runs
        .iter()
        .map(|r| r["report"]["flips_total"].as_u64().unwrap())
        .collect();
    assert_eq!(runs[1]["label"], "trr");
    assert!(flips[0] > 0 && flips[1] == flips[0], "{flips:?}");
    assert_eq!(flips[2], 0, "{flips:?}");
    let text = tessera(&["dram", "hammer", &cfg]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("ACT addr.") && out.contains("all rows"),
        "{out}"
    );
}

#[test]
fn pid_runs_a_user_program_and_marks_every_violation() {
    let v = json(&tessera(&[
        "dram",
        "pid",
        "workloads/dram/pid-quac-maj.ron",
        "--json",
    ]));
    let trace = v["trace"].as_array().unwrap();
    let broken: Vec<usize> = trace
        .iter()
        .filter(|e| !e["violations"].as_array().unwrap().is_empty())
        .map(|e| e["index"].as_u64().unwrap() as usize)
        .collect();
    // PRE/ACT of both multi-row activations and the early read.
    assert_eq!(broken, vec![1, 2, 6, 7, 11]);
    assert_eq!(trace[1]["violations"][0], "tRAS");
    let reads = v["reads"].as_array().unwrap();
    // The majority operation writes ones into rows 8-11.
    assert_eq!(reads[1]["ones"], reads[1]["bits"]);
    assert!(
        reads[2]["kind"]
            .as_str()
            .unwrap()
            .starts_with("reduced tRCD")
    );
    assert_eq!(reads[3]["differs_from_stored"], 0);
    let text = tessera(&["dram", "pid", "workloads/dram/pid-quac-maj.ron"]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("!! tRP, tRC") && out.contains("multi-row activation"),
        "{out}"
    );
    // Bad input: exit code 2 with the file named.
    let d = tmp_dir("pid");
    let bad = write(
        &d,
        "bad.ron",
        "(spec: \"DDR4_2400R\", program: (commands: [(cmd: Act, bank: 40)]))",
    );
    let out = tessera(&["dram", "pid", &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.ron"));
}
