//! `tessera sim` and `tessera run` end to end: verified runs exit 0, a corrupted mapping
//! exits 1 naming what diverged, a refused mapping exits 2, VCD and JSON are written.

use std::path::PathBuf;
use std::process::Command;

fn tessera() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn kernel(name: &str) -> String {
    format!("{}/workloads/kernels/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn run_maps_simulates_and_writes_mapping_and_vcd() {
    let map = tmp("saxpy.json");
    let vcd = tmp("saxpy.vcd");
    let out = tessera()
        .args([
            "run",
            &kernel("saxpy.tk"),
            "--arch",
            "hycube-4x4",
            "--input-seeds",
            "2",
            "--json",
            "-o",
        ])
        .arg(&map)
        .arg("--vcd")
        .arg(&vcd)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mapped"], true);
    assert_eq!(v["simulation"]["all_matched"], true);
    assert_eq!(v["simulation"]["runs"].as_array().unwrap().len(), 2);
    let run0 = &v["simulation"]["runs"][0];
    assert_eq!(run0["format_version"], 1);
    assert!(run0["energy"]["total_pj"].as_f64().unwrap() > 0.0);
    assert!(run0["total_cycles"].as_u64().unwrap() >= run0["iterations"].as_u64().unwrap());
    let wave = std::fs::read_to_string(&vcd).unwrap();
    assert!(wave.contains("$timescale 1ps $end") && wave.contains("$enddefinitions $end"));

    // The written mapping simulates on its own.
    let out = tessera()
        .arg("sim")
        .arg(&map)
        .args(["--input-seed", "11"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK: 1 of 1 seeds"));
}

#[test]
fn corrupted_mappings_are_refused_by_the_checker_and_junk_is_exit_2() {
    let map = tmp("fir.json");
    let out = tessera()
        .args(["map", &kernel("fir.tk"), "--arch", "hycube-4x4", "-o"])
        .arg(&map)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&map).unwrap()).unwrap();

    // Wrong route: the last segment of some route that reads a register now reads another
    // register of the same PE (valid hardware, wrong value).
    let mut wrong = m.clone();
    let rf = wrong["arch"]["rf_size"].as_u64().unwrap();
    let mut changed = false;
    for r in wrong["routes"].as_array_mut().unwrap() {
        let segs = r["segments"].as_array_mut().unwrap();
        let last = segs.last_mut().unwrap();
        if let Some(reg) = last["from"].get_mut("Reg") {
            let cur = reg["reg"].as_u64().unwrap();
            reg["reg"] = ((cur + 1) % rf).into();
            changed = true;
            break;
        }
    }
    assert!(changed, "fir's mapping reads a register somewhere");
    let bad = tmp("fir-wrong-route.json");
    std::fs::write(&bad, serde_json::to_string(&wrong).unwrap()).unwrap();
    // `sim` runs the independent checker first: the route no longer continues where its
    // previous segment ended, so the mapping is refused (exit 1) and never simulated. (The
    // simulator's own detection of such a wrong value, as a named mismatch, is tested on
    // the library: crates/tessera-sim/tests/hand.rs.)
    let out = tessera().arg("sim").arg(&bad).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("the checker refuses this mapping"), "{text}");
    assert!(text.contains("edge"), "{text}");
    assert!(text.contains("Not simulated"), "{text}");

    // A PE outside the grid: refused by the checker before the first cycle.
    m["placements"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| !p["pe"].is_null())
        .unwrap()["pe"] = 99.into();
    let refused = tmp("fir-refused.json");
    std::fs::write(&refused, serde_json::to_string(&m).unwrap()).unwrap();
    let out = tessera().arg("sim").arg(&refused).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("PE 99, which does not exist"), "{text}");

    // Not a mapping at all.
    let junk = tmp("junk.json");
    std::fs::write(&junk, "{ \"format_version\": 1, \"kernel\": 3 }").unwrap();
    let out = tessera().arg("sim").arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
