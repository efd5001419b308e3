//! `tessera search` and `tessera merge` end to end: determinism across thread counts,
//! resume after a kill, shards merged into one run, the external evaluator, plain words
//! when nothing is feasible, located config errors.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn out_dir(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-search-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn config(name: &str, text: &str) -> PathBuf {
    temp_file("search", name, text)
}

fn zdt1(budget: u64, strategy: &str) -> String {
    format!(
        r#"(
    format_version: 1,
    name: "zdt1-test",
    evaluator: Problem(problem: "zdt1"),
    space: [],
    objectives: [(metric: "f1", goal: Minimize), (metric: "f2", goal: Minimize)],
    budget: (evaluations: {budget}),
    strategy: {strategy},
    seed: 7,
    reference_point: [1.1, 1.1],
)"#
    )
}

fn results(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("results.jsonl")).unwrap()
}

fn search(cfg: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["search", cfg.to_str().unwrap(), "-o", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    tessera(&args)
}

#[test]
fn same_seed_same_results_on_one_and_two_threads() {
    let cfg = config("det.ron", &zdt1(1500, "nsga2((pop_size: 50))"));
    let (a, b) = (out_dir("det1"), out_dir("det2"));
    let o = search(&cfg, &a, &["--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = search(&cfg, &b, &["--threads", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&a), results(&b));
    assert_eq!(results(&a).lines().count(), 1500);
    let s = json(&o);
    assert_eq!(s["evaluations"], 1500);
    assert!(s["hypervolume"].as_f64().unwrap() > 0.2, "{s}");
    // A test problem's front is also measured against its true front.
    let igd = s["igd_plus"].as_f64().unwrap();
    assert!(igd > 0.0 && igd < 0.5, "{s}");
    for f in [
        "manifest.json",
        "summary.json",
        "front.csv",
        "hypervolume.csv",
        "hypervolume.svg",
        "front-f1-vs-f2.svg",
    ] {
        assert!(a.join(f).exists(), "{f} missing");
    }
    // Without --resume a second run into the same folder is refused, nothing is lost.
    let o = search(&cfg, &a, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    assert_eq!(results(&a), results(&b));
}

#[test]
fn a_killed_run_resumes_to_the_same_results() {
    let cfg = config("kill.ron", &zdt1(6000, "nsga2((pop_size: 60))"));
    let whole = out_dir("whole");
    assert!(search(&cfg, &whole, &[]).status.success());
    // Kill at a point that differs run to run (printed, so a failure can be replayed).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let delay_ms = 50 + u64::from(nanos % 400);
    eprintln!("killing after {delay_ms} ms");
    let cut = out_dir("cut");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["search", cfg.to_str().unwrap(), "-o", cut.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    // A line cut short by the kill (simulated too: half a line appended) is dropped.
    if cut.join("results.jsonl").exists() {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(cut.join("results.jsonl"))
            .unwrap();
        write!(f, "{{\"id\": 99999, \"glo").unwrap();
    }
    let o = search(&cfg, &cut, &["--resume", "--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&whole), results(&cut));
}

/// A random search over 12 accelerator designs: after the first batch nearly every
/// candidate repeats an earlier design, often one of the batch still being recorded while
/// the next is evaluated (random and grid overlap the two). The results must not depend on
/// the thread count, every cached record must point at the first evaluation of its genes,
/// and a run cut in the middle of a batch must resume to the same bytes.
#[test]
fn cached_random_designs_are_the_same_on_any_thread_count_and_after_a_cut() {
    let cfg = config(
        "cache.ron",
        r#"(
    format_version: 1,
    name: "cache-test",
    evaluator: Accel(network: "mobilenet_v2", base: "edge-os-16x16"),
    space: [
        (name: "rows", path: "rows", kind: Choice([8, 16])),
        (name: "cols", path: "cols", kind: Choice([8, 16])),
        (name: "dataflow", path: "dataflow",
         kind: Choice(["OutputStationary", "WeightStationary", "InputStationary"])),
    ],
    objectives: [(metric: "latency_ms", goal: Minimize), (metric: "energy_mj", goal: Minimize)],
    budget: (evaluations: 700),
    strategy: random,
    seed: 3,
    reference_point: [1000.0, 1000.0],
)"#,
    );
    let (a, b) = (out_dir("cache1"), out_dir("cache2"));
    let o = search(&cfg, &a, &["--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = search(&cfg, &b, &["--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = results(&a);
    assert_eq!(text, results(&b));
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 700);
    let mut first: std::collections::HashMap<String, u64> = Default::default();
    let mut cached = 0;
    for r in &records {
        let genes = r["genes"].to_string();
        let id = r["id"].as_u64().unwrap();
        match first.get(&genes) {
            Some(&f) => {
                assert_eq!(r["cached_from"].as_u64(), Some(f), "record {id}");
                cached += 1;
            }
            None => {
                assert!(r["cached_from"].is_null(), "record {id}");
                first.insert(genes, id);
            }
        }
    }
    assert_eq!(first.len(), 12);
    assert_eq!(cached, 700 - 12);
    // Cut inside the second batch (ids 256..511), as a kill would, and resume.
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut cut_text: String = lines[..300].concat();
    cut_text.push_str("{\"id\": 300, \"glo");
    std::fs::write(b.join("results.jsonl"), cut_text).unwrap();
    let o = search(&cfg, &b, &["--resume", "--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&b), text);
}

#[test]
fn ctrl_c_stops_after_the_evaluations_in_flight_and_resume_finishes() {
    let cfg = config("int.ron", &zdt1(20000, "random"));
    let whole = out_dir("int-whole");
    assert!(search(&cfg, &whole, &[]).status.success());
    let cut = out_dir("int-cut");
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["search", cfg.to_str().unwrap(), "-o", cut.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: sending SIGINT to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    if o.status.success() {
        // It finished before the signal arrived: nothing to resume.
        assert_eq!(results(&whole), results(&cut));
        return;
    }
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("--resume"), "{text}");
    let done = results(&cut).lines().count();
    assert!(done < 20000);
    assert!(whole.join("results.jsonl").exists());
    assert!(results(&whole).starts_with(&results(&cut)));
    let o = search(&cfg, &cut, &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&whole), results(&cut));
}

/// A wall-time budget ends the run on time, with the evaluations done recorded; a grid
/// says how many designs it holds before it starts.
#[test]
fn a_wall_time_budget_stops_the_run_and_a_grid_is_counted_first() {
    let text = zdt1(10_000_000, "random").replace(
        "budget: (evaluations: 10000000)",
        "budget: (evaluations: 10000000, wall_time_s: 0.5)",
    );
    let cfg = config("walltime.ron", &text);
    let dir = out_dir("walltime");
    let t0 = std::time::Instant::now();
    let o = search(&cfg, &dir, &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Generous: the run stops at the first batch boundary after 0.5 s.
    assert!(t0.elapsed().as_secs_f64() < 30.0);
    let s = json(&o);
    let n = s["evaluations"].as_u64().unwrap();
    assert!(n > 0 && n < 10_000_000, "{s}");
    assert_eq!(results(&dir).lines().count() as u64, n);

    let cfg = config(
        "gridcount.ron",
        r#"(
    format_version: 1,
    name: "grid-count",
    evaluator: Accel(network: "mobilenet_v2", base: "edge-os-16x16"),
    space: [
        (name: "rows", path: "rows", kind: Choice([8, 16])),
        (name: "cols", path: "cols", kind: Choice([8, 16, 32])),
        (name: "dataflow", path: "dataflow", kind: Choice(["OutputStationary", "WeightStationary"])),
    ],
    objectives: [(metric: "latency_ms", goal: Minimize), (metric: "energy_mj", goal: Minimize)],
    budget: (),
    strategy: grid(()),
    seed: 1,
    reference_point: [1000.0, 1000.0],
)"#,
    );
    let o = search(&cfg, &out_dir("gridcount"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("grid of 12 designs"), "{e}");
}

#[test]
fn merged_shards_equal_one_run() {
    for strategy in ["random", "grid((points: 3))"] {
        let text = zdt1(100, strategy).replace(
            "space: [],",
            r#"space: [(name: "x0", kind: Real(lo: 0.0, hi: 1.0)), (name: "x1", kind: Real(lo: 0.0, hi: 1.0)),
                      (name: "x2", kind: Real(lo: 0.0, hi: 1.0)), (name: "x3", kind: Real(lo: 0.0, hi: 1.0)),
                      (name: "x4", kind: Real(lo: 0.0, hi: 1.0)), (name: "x5", kind: Real(lo: 0.0, hi: 1.0)),
                      (name: "x6", kind: Real(lo: 0.0, hi: 1.0)), (name: "x7", kind: Real(lo: 0.0, hi: 1.0)),
                      (name: "x8", kind: Real(lo: 0.0, hi: 1.0)), (name: "x9", kind: Real(lo: 0.0, hi: 1.0)),
                      (name: "x10", kind: Real(lo: 0.0, hi: 1.0)), (name: "x11", kind: Real(lo: 0.0, hi: 1.0))],"#,
        ).replace("zdt1", "dtlz2").replace(
            r#"objectives: [(metric: "f1", goal: Minimize), (metric: "f2", goal: Minimize)],"#,
            r#"objectives: [(metric: "f1", goal: Minimize), (metric: "f2", goal: Minimize), (metric: "f3", goal: Minimize)],"#,
        ).replace("[1.1, 1.1]", "[1.1, 1.1, 1.1]");
        let cfg = config(&format!("shard-{}.ron", strategy.len()), &text);
        let one = out_dir(&format!("one-{}", strategy.len()));
        let o = search(&cfg, &one, &[]);
        assert!(o.status.success(), "{strategy}: {}", stderr(&o));
        let mut parts = Vec::new();
        for k in 0..3 {
            let d = out_dir(&format!("part{k}-{}", strategy.len()));
            let o = search(&cfg, &d, &["--shard", &format!("{k}/3")]);
            assert!(o.status.success(), "{strategy} shard {k}: {}", stderr(&o));
            parts.push(d);
        }
        let merged = out_dir(&format!("merged-{}", strategy.len()));
        let mut args = vec!["merge".to_string()];
        args.extend(parts.iter().map(|p| p.display().to_string()));
        args.extend(["-o".to_string(), merged.display().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = tessera(&args);
        assert!(o.status.success(), "{strategy}: {}", stderr(&o));
        assert_eq!(results(&one), results(&merged), "{strategy}");
        let s1: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(one.join("summary.json")).unwrap())
                .unwrap();
        let s2: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(merged.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(s1["hypervolume"], s2["hypervolume"], "{strategy}");
        assert_eq!(s1["front"], s2["front"], "{strategy}");
    }
}

/// Results are reused only by the same evaluator version: a resume, or a merge, with
/// another one is refused with both names.
#[test]
fn another_evaluator_version_is_not_resumed_or_merged() {
    let cfg = config("version.ron", &zdt1(300, "random"));
    let dir = out_dir("version");
    let o = search(&cfg, &dir, &["--shard", "0/2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("\"problem zdt1 v1\""), "{text}");
    std::fs::write(
        &manifest,
        text.replace("problem zdt1 v1", "problem zdt1 v0"),
    )
    .unwrap();
    let o = search(&cfg, &dir, &["--shard", "0/2", "--resume"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("scored by `problem zdt1 v0`") && e.contains("`problem zdt1 v1`"),
        "{e}"
    );
    let other = out_dir("version-other");
    let o = search(&cfg, &other, &["--shard", "1/2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let merged = out_dir("version-merged");
    let (a, b, m) = (
        dir.display().to_string(),
        other.display().to_string(),
        merged.display().to_string(),
    );
    let o = tessera(&["merge", &a, &b, "-o", &m]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot merge"), "{}", stderr(&o));
}

/// NSGA-II shards are islands seeded from (seed, K): they search differently, and the
/// merge keeps every island's records (renumbered island by island) and the front of their
/// union.
#[test]
fn merged_nsga_islands_keep_every_record_and_the_union_front() {
    let cfg = config("islands.ron", &zdt1(600, "nsga2((pop_size: 20))"));
    let mut parts = Vec::new();
    for k in 0..2 {
        let d = out_dir(&format!("island{k}"));
        let o = search(&cfg, &d, &["--shard", &format!("{k}/2")]);
        assert!(o.status.success(), "island {k}: {}", stderr(&o));
        parts.push(d);
    }
    let (r0, r1) = (results(&parts[0]), results(&parts[1]));
    assert_ne!(r0, r1, "islands must be seeded differently");
    let merged = out_dir("islands-merged");
    let (p0, p1, m) = (
        parts[0].display().to_string(),
        parts[1].display().to_string(),
        merged.display().to_string(),
    );
    let o = tessera(&["merge", &p0, &p1, "-o", &m, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&o);
    let n0 = r0.lines().count() as u64;
    assert_eq!(
        s["evaluations"].as_u64().unwrap(),
        n0 + r1.lines().count() as u64
    );
    assert!(s["notes"].to_string().contains("NSGA islands"), "{s}");
    let lines: Vec<serde_json::Value> = results(&merged)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (i, r) in lines.iter().enumerate() {
        assert_eq!(r["id"].as_u64().unwrap(), i as u64);
    }
    // The union front: non-dominated among all records, and at least as good as each
    // island's front.
    let pts: Vec<(f64, f64)> = lines
        .iter()
        .map(|r| {
            (
                r["objectives"][0].as_f64().unwrap(),
                r["objectives"][1].as_f64().unwrap(),
            )
        })
        .collect();
    let front: Vec<u64> = s["front"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    for &f in &front {
        let (a, b) = pts[f as usize];
        assert!(
            !pts.iter()
                .any(|&(x, y)| x <= a && y <= b && (x < a || y < b))
        );
    }
    let island_hv = |d: &PathBuf| -> f64 {
        let t = std::fs::read_to_string(d.join("summary.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&t).unwrap()["hypervolume"]
            .as_f64()
            .unwrap()
    };
    let hv = s["hypervolume"].as_f64().unwrap();
    assert!(hv >= island_hv(&parts[0]) && hv >= island_hv(&parts[1]));
}

/// Random designs of a small discrete space repeat, also across shards: each shard
/// evaluates its repeats afresh, and the merge rebuilds them as the single run caches them.
#[test]
fn merged_random_shards_of_a_discrete_space_cache_repeats_as_one_run_does() {
    let text = r#"(
    format_version: 1,
    name: "repeats",
    evaluator: Accel(network: "mobilenet_v2", base: "edge-os-16x16"),
    space: [
        (name: "rows", path: "rows", kind: Int(lo: 8, hi: 32, step: 8)),
        (name: "cols", path: "cols", kind: Int(lo: 8, hi: 32, step: 8)),
        (name: "dataflow", path: "dataflow",
         kind: Choice(["OutputStationary", "WeightStationary", "InputStationary"])),
        (name: "banks", path: "ifmap_sram.banks", kind: Choice([4, 8])),
    ],
    objectives: [(metric: "latency_ms", goal: Minimize), (metric: "energy_mj", goal: Minimize)],
    budget: (evaluations: 300),
    strategy: random,
    seed: 5,
    reference_point: [1000.0, 1000.0],
)"#;
    let cfg = config("repeats.ron", text);
    let one = out_dir("repeats-one");
    let o = search(&cfg, &one, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut parts = Vec::new();
    for k in 0..2 {
        let d = out_dir(&format!("repeats-part{k}"));
        let o = search(&cfg, &d, &["--shard", &format!("{k}/2")]);
        assert!(o.status.success(), "shard {k}: {}", stderr(&o));
        parts.push(d);
    }
    // Some design's first evaluation is in the other shard, so a shard alone caches less.
    let cached = |dir: &std::path::Path| {
        results(dir)
            .lines()
            .filter(|l| !l.contains("\"cached_from\":null"))
            .count()
    };
    assert!(
        cached(&parts[0]) + cached(&parts[1]) < cached(&one),
        "no design repeated across the shards"
    );
    let merged = out_dir("repeats-merged");
    let (p0, p1, m) = (
        parts[0].display().to_string(),
        parts[1].display().to_string(),
        merged.display().to_string(),
    );
    let o = tessera(&["merge", &p0, &p1, "-o", &m]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&one), results(&merged));
    // No true front to measure against.
    let summary = std::fs::read_to_string(one.join("summary.json")).unwrap();
    assert!(!summary.contains("igd_plus"), "{summary}");
}

#[test]
fn nothing_feasible_is_said_plainly_with_the_least_violating_designs() {
    let text = zdt1(200, "random").replace(
        "budget:",
        r#"constraints: ["f1 <= -1.0"],
    budget:"#,
    );
    let cfg = config("infeasible.ron", &text);
    let dir = out_dir("infeasible");
    let o = search(&cfg, &dir, &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&o);
    assert_eq!(s["feasible"], 0);
    assert_eq!(s["front_feasible"], false);
    assert!(!s["front"].as_array().unwrap().is_empty());
    assert!(
        s["notes"][0]
            .as_str()
            .unwrap()
            .contains("nothing in this space is feasible"),
        "{s}"
    );
}

#[test]
fn config_errors_are_located() {
    let cfg = config(
        "bad.ron",
        &zdt1(10, "random").replace("seed: 7", "seed: \"seven\""),
    );
    let o = search(&cfg, &out_dir("bad"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bad.ron:9:") && e.contains("integer"), "{e}");
    // A spec field that does not exist, at its line.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/searches/accel-resnet50.ron"),
    )
    .unwrap()
    .replace("\"ifmap_sram.size_kb\"", "\"ifmap_sram.size_kib\"");
    let line = text.lines().position(|l| l.contains("size_kib")).unwrap() + 1;
    let cfg = config("badpath.ron", &text);
    let o = search(&cfg, &out_dir("badpath"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("badpath.ron:{line}:"))
            && e.contains("size_kib")
            && e.contains("size_kb"),
        "{e}"
    );
}

fn have_python() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_external_evaluator_runs_persistent_workers_and_records_failures() {
    if !have_python() {
        eprintln!(
            "skipped: python3 is not installed (the external evaluator example is a Python script)"
        );
        return;
    }
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/searches/external-toy.ron");
    let dir = out_dir("ext");
    let o = search(&cfg, &dir, &["--threads", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&o);
    assert_eq!(s["evaluations"], 200);
    assert!(s["feasible"].as_u64().unwrap() > 100, "{s}");
    // One process per worker: its stderr log names many designs.
    let log = std::fs::read_to_string(dir.join("evaluator-stderr-0.log")).unwrap();
    assert!(log.lines().count() > 1, "{log}");
    // A process that crashes, answers garbage or hangs: failed evaluations with reasons.
    // Only the hanging one gets a short timeout: under load, Python's start alone can take
    // more than half a second, which would turn the other two into timeouts.
    for (script, why, timeout) in [
        ("import sys; sys.exit(3)", "exited", "10.0"),
        (
            "import sys\nfor l in sys.stdin: print('not json', flush=True)",
            "malformed answer",
            "10.0",
        ),
        (
            "import sys, time\nfor l in sys.stdin: time.sleep(30)",
            "timeout",
            "0.5",
        ),
    ] {
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace(
                r#"command: ["python3", "examples/evaluators/toy_model.py"]"#,
                &format!("command: [\"python3\", \"-c\", {script:?}]"),
            )
            .replace("timeout_s: 10.0", &format!("timeout_s: {timeout}"))
            .replace("evaluations: 200", "evaluations: 3")
            .replace("pop_size: 20", "pop_size: 4");
        let c = config("ext-bad.ron", &text);
        let d = out_dir("ext-bad");
        let o = search(&c, &d, &["--json"]);
        assert!(o.status.success(), "{why}: {}", stderr(&o));
        let s = json(&o);
        assert_eq!(s["failed"], 3, "{why}: {s}");
        let first = results(&d).lines().next().unwrap().to_string();
        assert!(first.contains(why), "{why}: {first}");
    }
}

/// A slow evaluator (an external one that takes 50 ms a design): a run killed inside its
/// only batch has recorded nothing in `results.jsonl`, but its journal holds the designs
/// finished so far; the resume takes those instead of evaluating them again and ends with
/// the same `results.jsonl` as an uninterrupted run, and removes the journal.
#[test]
fn a_killed_slow_run_keeps_its_finished_evaluations_in_the_journal() {
    if !have_python() {
        eprintln!("skipped: python3 is not installed (the slow evaluator is a Python script)");
        return;
    }
    let cfg = slow_config("slow.ron");
    let whole = out_dir("slow-whole");
    let o = search(&cfg, &whole, &["--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !whole.join("journal.jsonl").exists(),
        "a finished run keeps no journal"
    );

    let cut = out_dir("slow-cut");
    let mut child = start_slow_run(&cfg, &cut);
    let journal = cut.join("journal.jsonl");
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let text = std::fs::read_to_string(&journal).unwrap();
    let journaled: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| format!("evaluated {}", v["record"]["id"]))
        .collect();
    assert!(journaled.len() >= 8, "{text}");
    assert!(
        std::fs::read_to_string(cut.join("results.jsonl")).map_or(true, |t| t.is_empty()),
        "the batch was not recorded yet"
    );
    // The evaluators' logs (appended to by every run in the folder): their lengths
    // before the resume, then what the resume added.
    let log = |w: usize| {
        std::fs::read_to_string(cut.join(format!("evaluator-stderr-{w}.log"))).unwrap_or_default()
    };
    let before: Vec<usize> = (0..2).map(|w| log(w).len()).collect();
    let o = search(&cfg, &cut, &["--resume", "--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&whole), results(&cut));
    assert!(
        !journal.exists(),
        "the resumed run ended: its journal is removed"
    );
    let resumed: Vec<String> = (0..2)
        .flat_map(|w| {
            // (The killed run's evaluators may still add a broken-pipe traceback.)
            log(w)[before[w]..]
                .lines()
                .filter(|l| l.starts_with("evaluated "))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        resumed.iter().all(|r| !journaled.contains(r)),
        "journaled designs were evaluated again"
    );
    // Every design is journaled or evaluated by the resume. (A design in flight at the
    // kill may log its line after the kill, so lines are counted as a set.)
    let all: std::collections::BTreeSet<&String> = resumed.iter().chain(&journaled).collect();
    assert_eq!(all.len(), 80);
}

/// Start the slow search of `cfg` into `dir` on 2 threads (stdout piped) and return once
/// 8 evaluations are journaled: the run then has about 2 s left.
fn start_slow_run(cfg: &Path, dir: &Path) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["search", cfg.to_str().unwrap(), "-o", dir.to_str().unwrap()])
        .args(["--threads", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = dir.join("journal.jsonl");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&journal).map_or(0, |t| t.matches('\n').count()) < 8
        && t0.elapsed().as_secs() < 60
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child
}

/// A search of 80 random designs scored by an external model that takes 50 ms a design.
fn slow_config(name: &str) -> PathBuf {
    let script = temp_file(
        "search",
        "slow_model.py",
        r#"import json, sys, time
for line in sys.stdin:
    r = json.loads(line)
    d = r["design"]
    time.sleep(0.05)
    print(f"evaluated {r['id']}", file=sys.stderr, flush=True)
    print(json.dumps({"latency_ms": 100.0 / d["units"] + d["x"], "area_mm2": d["units"] * 0.5 + d["x"]}), flush=True)
"#,
    );
    let text = format!(
        r#"(
    format_version: 1,
    name: "slow",
    evaluator: External(command: ["python3", "{}"], timeout_s: 10.0, version: "slow-1"),
    space: [(name: "units", kind: Int(lo: 1, hi: 64)), (name: "x", kind: Real(lo: 0.0, hi: 1.0))],
    objectives: [(metric: "latency_ms", goal: Minimize), (metric: "area_mm2", goal: Minimize)],
    budget: (evaluations: 80),
    strategy: random,
    seed: 2,
    reference_point: [110.0, 40.0],
)"#,
        script.display()
    );
    config(name, &text)
}

/// Ctrl-C in the middle of a slow run (signalled once designs have finished, so the run
/// is surely still going): the designs in flight finish, the run says how to continue,
/// and the resume ends with the uninterrupted run's results.
#[test]
fn ctrl_c_in_a_slow_run_records_what_finished_and_resumes() {
    if !have_python() {
        eprintln!("skipped: python3 is not installed (the slow evaluator is a Python script)");
        return;
    }
    let cfg = slow_config("slow-int.ron");
    let whole = out_dir("slow-int-whole");
    let o = search(&cfg, &whole, &["--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cut = out_dir("slow-int-cut");
    let child = start_slow_run(&cfg, &cut);
    let journal = cut.join("journal.jsonl");
    // SAFETY: sending SIGINT to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("--resume"), "{text}");
    // Recorded: the designs before the first one not finished (in id order); finished
    // designs after it stay in the journal for the resume.
    let done = results(&cut).lines().count();
    assert!(done < 80, "{done} recorded");
    assert!(journal.exists(), "a stopped run keeps its journal");
    assert!(results(&whole).starts_with(&results(&cut)));
    let o = search(&cfg, &cut, &["--resume", "--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(results(&whole), results(&cut));
}
