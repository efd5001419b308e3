//! `tessera arch` end to end: presets, files, overrides, located errors, exit codes.

use std::process::Command;

fn tessera(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .output()
        .expect("run tessera");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_preset_of_every_kind_validates() {
    let (code, out, _) = tessera(&["arch", "list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut n = 0;
    for kind in ["cgra", "dram", "accel"] {
        for name in v[kind].as_array().unwrap() {
            let (code, out, err) = tessera(&["arch", "validate", name.as_str().unwrap()]);
            assert_eq!(code, 0, "{name}: {err}");
            assert!(out.starts_with("ok: "), "{out}");
            n += 1;
        }
    }
    assert!(n >= 4 + 2 + 3, "presets listed: {n}");
}

#[test]
fn preset_files_in_arch_specs_validate() {
    for dir in ["arch-specs/cgra", "arch-specs/dram", "arch-specs/accel"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let (code, _, err) = tessera(&["arch", "validate", path.to_str().unwrap()]);
            assert_eq!(code, 0, "{}: {err}", path.display());
        }
    }
}

#[test]
fn override_file_is_applied_and_shown_as_json() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-arch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("fast.ron");
    std::fs::write(
        &f,
        "(preset: \"hycube-4x4\", set: { \"timing.clock_period_ps\": 1250, \"rf_size\": 8 })",
    )
    .unwrap();
    let (code, out, err) = tessera(&["arch", "show", f.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["timing"]["clock_period_ps"], 1250);
    assert_eq!(v["rf_size"], 8);
    assert_eq!(v["name"], "hycube-4x4");
}

#[test]
fn bad_specs_exit_2_with_file_line_and_reason() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-arch-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A RON type error: the message names file:line:col.
    let text = include_str!("../arch-specs/cgra/mesh-4x4.ron").replacen(
        "rf_size: 4",
        "rf_size: \"four\"",
        1,
    );
    let line = text.lines().position(|l| l.contains("\"four\"")).unwrap() + 1;
    let f = dir.join("typo.ron");
    std::fs::write(&f, &text).unwrap();
    let (code, _, err) = tessera(&["arch", "validate", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("typo.ron:{line}:")), "{err}");
    // A contradiction found by validate().
    let f = dir.join("contra.ron");
    std::fs::write(
        &f,
        "(preset: \"mesh-4x4\", set: { \"timing.clock_period_ps\": 300 })",
    )
    .unwrap();
    let (code, _, err) = tessera(&["arch", "validate", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("exceeds the clock period 300 ps"), "{err}");
    // An unknown preset lists the known ones.
    let (code, _, err) = tessera(&["arch", "validate", "mesh-5x5", "--kind", "cgra"]);
    assert_eq!(code, 2);
    assert!(err.contains("hycube-4x4"), "{err}");
}
