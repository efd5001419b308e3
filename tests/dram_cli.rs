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
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-dram-cli-{}-{name}", std::process::id()));
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
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["input"]["format"], "ascii");
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
    assert_eq!(w["input"]["format"], "binary");
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

/// Deterministic pseudo-random bits for the NIST tests (SplitMix64, all 64 bits of each
/// output, least significant first).
fn splitmix_bits(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed;
    let mut bits = Vec::with_capacity(n + 64);
    while bits.len() < n {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        bits.extend((0..64).map(|i| ((z >> i) & 1) as u8));
    }
    bits.truncate(n);
    bits
}

/// ASCII 0/1 text, 1000 bits per line.
fn ascii_text(bits: &[u8]) -> String {
    bits.chunks(1000)
        .map(|c| c.iter().map(|&b| char::from(b'0' + b)).collect::<String>() + "\n")
        .collect()
}

/// 8 bits per byte, most significant first.
fn packed(bits: &[u8]) -> Vec<u8> {
    bits.chunks(8)
        .map(|c| c.iter().fold(0u8, |a, &b| (a << 1) | b))
        .collect()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn nist_judges_one_sequence_or_many_and_fails_bias_and_periodicity() {
    let d = tmp_dir("nist-verdict");
    // One random sequence of 2^18 bits: passes under the default single-sequence rule.
    let one = write(&d, "one.txt", &ascii_text(&splitmix_bits(1, 1 << 18)));
    let v = json(&tessera(&["dram", "nist", &one, "--json"]));
    assert_eq!(v["method"], "single_sequence");
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["rule"]["kind"], "corrected");
    assert!(v["rule_text"].as_str().unwrap().contains("15 k"));
    // 60 random sequences of 20,000 bits as one job: proportions and, from 55 sequences,
    // the uniformity of P-values (SP 800-22 4.2.1, 4.2.2).
    let many = d.join("many.bin");
    std::fs::write(&many, packed(&splitmix_bits(2, 60 * 20_000 + 8))).unwrap();
    let many = many.display().to_string();
    let v = json(&tessera(&[
        "dram",
        "nist",
        &many,
        "--sequence-bits",
        "20000",
        "--json",
    ]));
    assert_eq!(v["method"], "multi_sequence");
    assert_eq!(
        (v["sequences"].as_u64(), v["ignored_bits"].as_u64()),
        (Some(60), Some(8))
    );
    assert_eq!(v["verdict"], "pass");
    let check = &v["tests"][0]["checks"][0];
    assert_eq!(check["sequences"], 60);
    assert!(check["uniformity_p"].as_f64().is_some());
    let [lo, hi] = [&check["interval"][0], &check["interval"][1]].map(|x| x.as_f64().unwrap());
    let half = 3.0 * (0.99f64 * 0.01 / 60.0).sqrt();
    assert!((lo - (0.99 - half)).abs() < 1e-12 && (hi - (0.99 + half)).abs() < 1e-12);
    let (out, _) = text(&tessera(&[
        "dram",
        "nist",
        &many,
        "--sequence-bits",
        "20000",
    ]));
    assert!(
        out.contains("60 sequences of 20000 bits") && out.contains("verdict: PASS"),
        "{out}"
    );
    // A 53 %-ones stream and a periodic one fail (exit code 1), alone and as jobs.
    let mut x = 0u64;
    let biased: Vec<u8> = (0..1 << 17)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            u8::from((x >> 33) % 100 < 53)
        })
        .collect();
    let pattern = splitmix_bits(3, 64);
    let periodic: Vec<u8> = (0..1 << 17).map(|i| pattern[i % 64]).collect();
    for (name, bits, test) in [
        ("biased.txt", &biased, "Frequency"),
        ("periodic.txt", &periodic, "Serial"),
    ] {
        let f = write(&d, name, &ascii_text(bits));
        for extra in [&[][..], &["--sequence-bits", "16384"][..]] {
            let mut args = vec!["dram", "nist", &f];
            args.extend_from_slice(extra);
            let out = tessera(&args);
            assert_eq!(out.status.code(), Some(1), "{name} {extra:?} must fail");
            let (out, _) = text(&out);
            let line = out
                .lines()
                .find(|l| l.trim_start().starts_with(test))
                .unwrap_or_default();
            assert!(line.contains("FAIL"), "{name} {extra:?}: {out}");
            assert!(out.contains("verdict: FAIL"), "{out}");
        }
    }
}

#[test]
fn nist_input_format_is_explicit() {
    let d = tmp_dir("nist-format");
    // A 0/1 text file with one stray character: refused (exit code 2) with file, line and
    // column, whether the format is auto or ascii; never silently read as bytes.
    let mut lines: Vec<String> = ascii_text(&splitmix_bits(4, 5000))
        .lines()
        .map(String::from)
        .collect();
    lines[2].replace_range(41..42, "x");
    let stray = write(&d, "stray.txt", &(lines.join("\n") + "\n"));
    for format in ["auto", "ascii"] {
        let out = tessera(&["dram", "nist", &stray, "--format", format]);
        assert_eq!(out.status.code(), Some(2), "--format {format}");
        let (_, err) = text(&out);
        assert!(
            err.contains("stray.txt:3:42: found 'x'"),
            "--format {format}: {err}"
        );
    }
    // Asked for, the same file's bytes are tested (and are far from random).
    let out = tessera(&["dram", "nist", &stray, "--format", "binary"]);
    assert_eq!(out.status.code(), Some(1));
    let (out, _) = text(&out);
    assert!(
        out.contains("40040 bits read as binary (--format binary)"),
        "{out}"
    );
    // Auto says what it chose and why.
    let clean = write(&d, "clean.txt", &ascii_text(&splitmix_bits(5, 5000)));
    let (out, _) = text(&tessera(&["dram", "nist", &clean]));
    assert!(
        out.contains("5000 bits read as ascii (auto: every byte is '0', '1' or whitespace)"),
        "{out}"
    );
    let bin = d.join("bits.bin");
    std::fs::write(&bin, packed(&splitmix_bits(6, 8000))).unwrap();
    let v = json(&tessera(&[
        "dram",
        "nist",
        &bin.display().to_string(),
        "--json",
    ]));
    assert_eq!(v["input"]["format"], "binary");
    assert_eq!(v["input"]["automatic"], true);
    assert_eq!(v["bits"], 8000);
}

#[test]
fn nist_options_are_checked_against_sp800_22() {
    let d = tmp_dir("nist-options");
    let f = write(&d, "bits.txt", &ascii_text(&splitmix_bits(7, 40_000)));
    for (args, needle) in [
        (&["--block-frequency-m", "10"][..], "--block-frequency-m 10"),
        (&["--serial-m", "14"][..], "2.11.7"),
        (&["--apen-m", "10"][..], "2.12.7"),
        (&["--linear-complexity-m", "6000"][..], "2.10.7"),
        (&["--universal-l", "6"][..], "2.9.7"),
        (&["--non-overlapping-m", "30"][..], "--non-overlapping-m 30"),
        (&["--sequence-bits", "50"][..], "at least 100"),
        (&["--sequence-bits", "50000"][..], "only 40000 bits"),
        (&["--alpha", "1.5"][..], "--alpha 1.5"),
        (&["--battery-alpha", "0"][..], "--battery-alpha 0"),
    ] {
        let mut all = vec!["dram", "nist", &f];
        all.extend_from_slice(args);
        let out = tessera(&all);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Valid STS parameters are used and reported.
    let v = json(&tessera(&[
        "dram",
        "nist",
        &f,
        "--block-frequency-m",
        "1000",
        "--serial-m",
        "10",
        "--non-overlapping-m",
        "10",
        "--json",
    ]));
    let p = &v["params"];
    assert_eq!(
        (
            p["block_frequency_m"].as_u64(),
            p["serial_m"].as_u64(),
            p["non_overlapping_templates"].as_u64(),
            p["approximate_entropy_m"].as_u64()
        ),
        (Some(1000), Some(10), Some(148), Some(9))
    );
    // --strict: any NIST flag fails, and the report says so.
    let v = tessera(&["dram", "nist", &f, "--strict", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(r["rule"]["kind"], "any_flag");
    let flagged = r["nist_flags"].as_u64().unwrap() > 0;
    assert_eq!(v.status.code(), Some(if flagged { 1 } else { 0 }));
}

#[test]
fn text_reports_print_no_rust_debug_text() {
    for args in [
        &["dram", "pid", "workloads/dram/pid-quac-maj.ron"][..],
        &["dram", "trng", "workloads/dram/trng-quac.ron"],
        &["dram", "puf", "workloads/dram/puf-simra.ron"],
    ] {
        let o = tessera(args);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            !text.contains("[(\"") && !text.contains("\", "),
            "{args:?}: {text}"
        );
    }
    let text = String::from_utf8_lossy(
        &tessera(&["dram", "pid", "workloads/dram/pid-quac-maj.ron"]).stdout,
    )
    .into_owned();
    assert!(text.contains("broke timing: tRCD x1"), "{text}");
}
