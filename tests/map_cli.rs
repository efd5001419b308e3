//! `tessera map` and `tessera suite` through the binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-map-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A small kernel: an accumulation over one array.
const DOT_TK: &str = "workloads/kernels/dot.tk";

#[test]
fn map_prints_mii_ii_and_table_and_writes_files() {
    let out = tmp("dot.json");
    let dot = tmp("dot.dot");
    let o = tessera(&[
        "map",
        DOT_TK,
        "--arch",
        "hycube-4x4",
        "--explain",
        "-o",
        out.to_str().unwrap(),
        "--dot",
        dot.to_str().unwrap(),
    ]);
    let s = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{s}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(s.contains("MII = "), "{s}");
    assert!(s.contains("Resource bounds"), "{s}");
    assert!(s.contains("II reached: "), "{s}");
    assert!(s.contains("checker: passed"), "{s}");
    assert!(s.contains("slot 0"), "{s}");
    // The mapping file is versioned and loads back; the DOT names PEs and cycles.
    let m = tessera_map::Mapping::load(&out).unwrap();
    assert_eq!(
        m.format_version,
        tessera_map::mapping::MAPPING_FORMAT_VERSION
    );
    assert!(tessera_map::check::check(&m).is_ok());
    let d = std::fs::read_to_string(&dot).unwrap();
    assert!(d.starts_with("digraph"), "{d}");
    assert!(d.contains("PE "), "{d}");
}

#[test]
fn map_json_reports_mii_and_ii() {
    let o = tessera(&["map", DOT_TK, "--arch", "mesh-4x4", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mapped"], true);
    let mii = v["mii"]["mii"].as_u64().unwrap();
    let ii = v["ii"].as_u64().unwrap();
    assert!(ii >= mii && mii >= 1, "{v}");
    assert_eq!(v["checker"], "passed");
    assert!(v["mii"]["per_class"].as_array().unwrap().len() >= 2);
}

#[test]
fn map_at_fixed_ii_below_mii_fails_with_reason() {
    // The MII comes from the analysis itself (`map --json`), so the test does not depend
    // on how the bound is computed (replication, slot bound): one below it must fail.
    let o = tessera(&[
        "map",
        "workloads/kernels/fir.tk",
        "--arch",
        "hycube-4x4",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let mii = v["mii"]["mii"].as_u64().expect("mii");
    assert!(
        mii >= 2,
        "fir needs several bank-port cycles on hycube: MII {mii}"
    );
    let below = (mii - 1).to_string();
    let o = tessera(&[
        "map",
        "workloads/kernels/fir.tk",
        "--arch",
        "hycube-4x4",
        "--ii",
        &below,
    ]);
    let s = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{s}");
    assert!(s.contains(&format!("MII = {mii}")), "{s}");
    assert!(s.contains("No mapping found"), "{s}");
    assert!(s.contains(&format!("II {below}:")), "{s}");
}

#[test]
fn bad_inputs_exit_2() {
    let o = tessera(&["map", "no/such/kernel.tk", "--arch", "hycube-4x4"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tessera(&["map", DOT_TK, "--arch", "no-such-preset"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-preset"));
    let o = tessera(&["suite", "no/such/dir", "--arch", "hycube-4x4"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn suite_maps_a_folder_and_a_broken_file_is_a_row() {
    let dir = tmp("suite");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(DOT_TK, dir.join("dot.tk")).unwrap();
    std::fs::copy("workloads/kernels/saxpy.tk", dir.join("saxpy.tk")).unwrap();
    std::fs::write(dir.join("broken.tk"), "kernel broken( {").unwrap();
    let o = tessera(&[
        "suite",
        dir.to_str().unwrap(),
        "--arch",
        "hycube-4x4",
        "--json",
    ]);
    // One kernel fails to load, so not everything mapped: exit 1, but a full report.
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let broken = rows
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("broken.tk"))
        .unwrap();
    assert_eq!(broken["status"], "load error");
    assert!(broken["reason"].as_str().unwrap().contains("broken.tk"));
    assert_eq!(v["summary"]["kernels"], 3);
    assert_eq!(v["summary"]["mapped"], 2);
    for r in rows.iter().filter(|r| r["status"] == "mapped") {
        assert!(r["ii"].as_u64().unwrap() >= r["mii"].as_u64().unwrap());
    }
    // Text mode prints the table and the summary.
    let o = tessera(&["suite", dir.to_str().unwrap(), "--arch", "hycube-4x4"]);
    let s = stdout(&o);
    assert!(
        s.contains("kernel") && s.contains("summary on hycube-4x4: mapped 2/3"),
        "{s}"
    );
}

#[test]
fn exact_mode_maps_and_reports_minimality() {
    let o = tessera(&[
        "map",
        DOT_TK,
        "--arch",
        "hycube-4x4",
        "--exact",
        "--json",
        "--time-limit",
        "30",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mapper"], "exact-milp");
    assert_eq!(v["checker"], "passed");
    assert_eq!(v["ii"], v["mii"]["mii"]);
    assert_eq!(v["proved_minimal"], true);
    // Below the MII the MILP proves infeasibility: nothing maps at --ii 1 for the FIR
    // (MII 8), and the reason says it was proved.
    let o = tessera(&[
        "map",
        "workloads/kernels/fir.tk",
        "--arch",
        "hycube-4x4",
        "--exact",
        "--ii",
        "1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mapped"], false);
    assert!(
        v["failed_iis"][0][1]
            .as_str()
            .unwrap()
            .contains("proved infeasible"),
        "{v}"
    );
}

/// `--no-replicate` keeps every read-only array in one bank: fir's coefficient and sample
/// loads then share single-port banks and the MII rises.
#[test]
fn no_replicate_turns_read_only_copies_off() {
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "map",
            "workloads/kernels/fir.tk",
            "--arch",
            "hycube-4x4",
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = tessera(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let with = json(&[]);
    let without = json(&["--no-replicate"]);
    let mii = |v: &serde_json::Value| v["mii"]["mii"].as_u64().unwrap();
    assert!(
        mii(&with) < mii(&without),
        "{} vs {}",
        mii(&with),
        mii(&without)
    );
    let copies = |v: &serde_json::Value| {
        v["mii"]["per_class"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["resource"].as_str().unwrap().contains("copies"))
    };
    assert!(copies(&with) && !copies(&without));
}
