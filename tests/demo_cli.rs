//! `tessera demo` maps, simulates and verifies its bundled kernels.

use std::process::Command;

#[test]
fn demo_runs_and_every_run_matches_the_interpreter() {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["demo", "--map-seed", "3", "--input-seed", "3", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["map_seed"], 3);
    assert_eq!(v["input_seed"], 3);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    for r in runs {
        assert_eq!(r["matched"], true, "{r}");
        assert!(
            r["ii"].as_u64().unwrap() >= r["mii"].as_u64().unwrap(),
            "{r}"
        );
        assert!(r["cycles"].as_u64().unwrap() > 0);
    }
}
