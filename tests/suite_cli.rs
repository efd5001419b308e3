//! `tessera suite` simulate-and-verify column through the binary.

mod common;
use common::{json, stderr, stdout, tessera};

fn folder(name: &str, kernels: &[&str]) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-suite-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for k in kernels {
        std::fs::copy(
            format!("workloads/kernels/{k}.tk"),
            dir.join(format!("{k}.tk")),
        )
        .unwrap();
    }
    dir
}

#[test]
fn suite_simulates_and_verifies_every_mapped_kernel() {
    let dir = folder("verify", &["dot", "saxpy", "histogram"]);
    let d = dir.to_str().unwrap();
    let o = tessera(&["suite", d, "--arch", "hycube-4x4", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for r in rows {
        let sim = &r["sim"];
        assert_eq!(sim["verdict"], "ok", "{r}");
        assert_eq!(sim["seeds_run"], serde_json::json!([0, 1, 2]), "{r}");
        assert_eq!(sim["seeds_matched"], 3);
        // At least (trip - 1) * II cycles: the simulator ran the whole loop.
        assert!(
            sim["cycles"].as_u64().unwrap() > r["ii"].as_u64().unwrap(),
            "{r}"
        );
    }
    let s = &v["summary"];
    assert_eq!(s["verify_seeds"], 3);
    assert_eq!(s["sim_ok"], 3);
    assert_eq!(s["sim_mismatch"], 0);
    assert_eq!(s["sim_error"], 0);

    // Fewer seeds.
    let o = tessera(&[
        "suite",
        d,
        "--arch",
        "hycube-4x4",
        "--verify-seeds",
        "1",
        "--json",
    ]);
    let v = json(&o);
    for r in v["rows"].as_array().unwrap() {
        assert_eq!(r["sim"]["seeds_run"], serde_json::json!([0]), "{r}");
    }

    // Mapping only.
    let o = tessera(&["suite", d, "--arch", "hycube-4x4", "--no-sim", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert!(
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["sim"].is_null())
    );
    assert_eq!(v["summary"]["verify_seeds"], 0);
    assert_eq!(v["summary"]["sim_ok"], 0);

    // Text: the two columns and the verdict line.
    let o = tessera(&["suite", d, "--arch", "hycube-4x4"]);
    let t = stdout(&o);
    let header = t.lines().next().unwrap();
    assert!(header.contains("cycles") && header.contains("sim"), "{t}");
    assert!(
        t.lines()
            .filter(|l| l.contains(" ok ") && l.contains("mapped"))
            .count()
            == 3,
        "{t}"
    );
    assert!(
        t.contains("simulate-and-verify on 3 seeds: 3 ok, 0 MISMATCH, 0 sim error, 0 no ref"),
        "{t}"
    );
}

#[test]
fn corpus_dfgs_verify_in_the_suite() {
    // Two small Morpher DFGs with loop-carried memory dependences (stores and loads of the
    // same region in consecutive iterations): they map, simulate and match.
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/corpus/cgra/morpher-xml");
    let names = [
        "cgra_me_bench__accumulate__main_INNERMOST_LN1_noSemiOLOAD_PartPred_DFG.xml",
        "polybench__bicg.xml",
    ];
    assert!(
        names.iter().all(|n| corpus.join(n).exists()),
        "vendored corpus files missing in {}",
        corpus.display()
    );
    let dir = folder("corpus", &[]);
    for n in names {
        std::fs::copy(corpus.join(n), dir.join(n)).unwrap();
    }
    let o = tessera(&[
        "suite",
        dir.to_str().unwrap(),
        "--arch",
        "hycube-4x4",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["summary"]["sim_ok"], 2, "{v}");
}

/// `--no-replicate` maps without read-only copies, and the MII column follows: fir reads
/// `x` and `c` eight times each per iteration, and without copies each array sits in one
/// single-port bank (MII 8 on hycube-4x4, 5 with copies).
#[test]
fn suite_no_replicate_maps_without_copies() {
    let dir = folder("no-replicate", &["fir"]);
    let d = dir.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["suite", d, "--arch", "hycube-4x4", "--no-sim", "--json"];
        args.extend_from_slice(extra);
        let o = tessera(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = json(&o);
        let r = v["rows"][0].clone();
        (r["mii"].as_u64().unwrap(), r["ii"].as_u64().unwrap())
    };
    let (mii_copies, ii_copies) = run(&[]);
    let (mii_single, ii_single) = run(&["--no-replicate"]);
    assert!(mii_copies < mii_single, "{mii_copies} vs {mii_single}");
    assert!(ii_copies < ii_single);
    assert!(ii_single >= mii_single);
}
