//! What a new user hits first: one name per seed, the same architecture argument in every
//! command, errors that say what happened, outputs written where asked.

mod common;
use common::*;

#[test]
fn the_plain_seed_flag_is_refused_with_the_two_names() {
    for args in [
        &[
            "map",
            "workloads/kernels/dot.tk",
            "--arch",
            "mesh-4x4",
            "--seed",
            "3",
        ][..],
        &[
            "run",
            "workloads/kernels/dot.tk",
            "--arch",
            "mesh-4x4",
            "--seed",
            "3",
        ],
        &["kernel", "run", "workloads/kernels/dot.tk", "--seed", "3"],
        &[
            "suite",
            "workloads/kernels",
            "--arch",
            "mesh-4x4",
            "--seed",
            "3",
        ],
        &[
            "compare",
            "workloads/kernels/dot.tk",
            "--arch",
            "mesh-4x4",
            "--arch",
            "hycube-4x4",
            "--seed",
            "3",
        ],
        &["demo", "--seed", "3"],
    ] {
        let o = tessera(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("--map-seed") && e.contains("--input-seed"),
            "{args:?}: {e}"
        );
    }
}

#[test]
fn both_seeds_are_printed_and_recorded() {
    let o = tessera(&[
        "run",
        "workloads/kernels/dot.tk",
        "--arch",
        "mesh-4x4",
        "--map-seed",
        "5",
        "--input-seed",
        "9",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["map_seed"], 5);
    assert_eq!(v["input_seeds"], serde_json::json!([9]));
    let o = tessera(&[
        "map",
        "workloads/kernels/dot.tk",
        "--arch",
        "mesh-4x4",
        "--map-seed",
        "5",
    ]);
    assert!(stdout(&o).contains("mapper seed 5"), "{}", stdout(&o));
    // One default for the input seed everywhere: `kernel run` and `run` agree.
    let a = json(&tessera(&[
        "kernel",
        "run",
        "workloads/kernels/dot.tk",
        "--json",
    ]));
    let b = json(&tessera(&[
        "run",
        "workloads/kernels/dot.tk",
        "--arch",
        "mesh-4x4",
        "--json",
    ]));
    assert_eq!(a["seed"], 1);
    assert_eq!(b["input_seeds"], serde_json::json!([1]));
}

#[test]
fn an_inline_override_is_accepted_by_map_and_run() {
    let arch = r#"(preset: "hycube-4x4", set: {"rf_size": 8})"#;
    for cmd in ["map", "run"] {
        let o = tessera(&[cmd, "workloads/kernels/dot.tk", "--arch", arch, "--json"]);
        assert!(o.status.success(), "{cmd}: {}", stderr(&o));
    }
}

#[test]
fn errors_say_what_happened() {
    let o = tessera(&["arch", "validate", "no/such/spec.ron"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such file"), "{}", stderr(&o));

    let noext = temp_file("first-hour", "kernel_without_extension", "kernel k {}");
    let o = tessera(&["kernel", "check", noext.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("unrecognised kernel file (no extension): expected .tk")
            && !e.contains("cannot read"),
        "{e}"
    );
}

#[test]
fn a_failed_write_says_cannot_write_and_exits_2() {
    // A path below a plain file cannot be created.
    let file = temp_file("first-hour", "plain", "x");
    let below = file.join("out.dot");
    let below = below.to_str().unwrap();
    for args in [
        &["kernel", "dot", "workloads/kernels/dot.tk", "-o", below][..],
        &[
            "map",
            "workloads/kernels/dot.tk",
            "--arch",
            "mesh-4x4",
            "-o",
            below,
        ],
        &[
            "map",
            "workloads/kernels/dot.tk",
            "--arch",
            "mesh-4x4",
            "--dot",
            below,
        ],
    ] {
        let o = tessera(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("cannot write") && !e.contains("cannot read"),
            "{args:?}: {e}"
        );
    }
}

#[test]
fn outputs_go_into_folders_that_do_not_exist_yet() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-first-hour-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("nested/mapping.json");
    let o = tessera(&[
        "map",
        "workloads/kernels/dot.tk",
        "--arch",
        "mesh-4x4",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tessera(&["sim", path.to_str().unwrap(), "--input-seeds", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("input seed"), "{}", stdout(&o));
}
