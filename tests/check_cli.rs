//! `tessera check` and `tessera sim` on mapping files edited by hand: every edit that
//! breaks a rule is refused with the checker's reason (exit 1) and never simulated; the
//! unedited mapping passes. Also `--max-ii` above the configuration depth (issue 17).

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Map `kernel` on `arch` with `tessera map -o` and return the mapping file as JSON.
fn mapped(kernel: &str, arch: &str, name: &str) -> (PathBuf, Value) {
    let out = tmp(name);
    let o = tessera(&[
        "map",
        kernel,
        "--arch",
        arch,
        "--map-seed",
        "1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (out, v)
}

fn write(name: &str, v: &Value) -> String {
    let p = tmp(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.display().to_string()
}

/// `check` and `sim` both refuse the file with exit 1 and a reason containing `why`.
fn refused(file: &str, why: &str) {
    let c = tessera(&["check", file]);
    let s = text(&c);
    assert_eq!(c.status.code(), Some(1), "check: {s}");
    assert!(s.contains("the checker refuses this mapping"), "{s}");
    assert!(s.contains(why), "check should say `{why}`: {s}");
    let r = tessera(&["sim", file, "--input-seed", "1"]);
    let s = text(&r);
    assert_eq!(r.status.code(), Some(1), "sim: {s}");
    assert!(s.contains(why), "sim should say `{why}`: {s}");
    assert!(s.contains("Not simulated"), "{s}");
    assert!(!s.contains("verified"), "{s}");
}

fn placed(v: &Value) -> Vec<(usize, u64, u64)> {
    v["placements"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, p["pe"].as_u64()?, p["cycle"].as_u64().unwrap())))
        .collect()
}

#[test]
fn a_valid_mapping_passes_check_and_sim() {
    let (out, _) = mapped("workloads/kernels/fir.tk", "hycube-4x4", "fir.json");
    let f = out.to_str().unwrap();
    let c = tessera(&["check", f]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c));
    assert!(text(&c).contains("valid"), "{}", text(&c));
    let j = tessera(&["check", f, "--json"]);
    let v: Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["valid"], Value::Bool(true));
    let s = tessera(&["sim", f, "--input-seed", "1"]);
    assert_eq!(s.status.code(), Some(0), "{}", text(&s));
    // `--arch` re-checks the mapping on the spec given (here the same preset).
    let m = tessera(&["check", f, "--arch", "hycube-4x4"]);
    assert_eq!(m.status.code(), Some(0), "{}", text(&m));
}

#[test]
fn bad_input_is_exit_2() {
    let p = tmp("garbage.json");
    std::fs::write(&p, "{ \"format_version\": 1, ").unwrap();
    let c = tessera(&["check", p.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(2), "{}", text(&c));
    assert!(text(&c).contains("garbage.json"), "{}", text(&c));
    let c = tessera(&["check", "no/such/mapping.json"]);
    assert_eq!(c.status.code(), Some(2), "{}", text(&c));
}

#[test]
fn a_resource_conflict_is_refused() {
    let (_, mut v) = mapped("workloads/kernels/fir.tk", "hycube-4x4", "fir-res.json");
    let ii = v["ii"].as_u64().unwrap();
    let p = placed(&v);
    // Move one op onto the PE and slot of another.
    let (a, pe, cycle) = p[0];
    let (b, _, _) = *p
        .iter()
        .find(|&&(i, _, c)| i != a && c % ii == cycle % ii)
        .or_else(|| p.iter().find(|&&(i, _, _)| i != a))
        .unwrap();
    v["placements"][b]["pe"] = Value::from(pe);
    v["placements"][b]["cycle"] = Value::from(cycle);
    refused(&write("res.json", &v), "double-booked");
}

#[test]
fn a_route_hop_that_is_not_a_link_is_refused() {
    let (_, mut v) = mapped("workloads/kernels/fir.tk", "hycube-4x4", "fir-link.json");
    let routes = v["routes"].as_array_mut().unwrap();
    let seg = routes
        .iter_mut()
        .flat_map(|r| r["segments"].as_array_mut().unwrap().iter_mut())
        .find(|s| !s["path"].as_array().unwrap().is_empty())
        .expect("a route with a hop");
    // PE 0 and PE 15 are opposite corners of the 4x4 array: no link joins them to
    // whatever the hop came from, and at most one of them is the hop itself.
    let first = seg["path"][0].as_u64().unwrap();
    seg["path"][0] = Value::from(if first == 15 { 0 } else { 15 });
    refused(&write("link.json", &v), "no link from");
}

#[test]
fn an_op_started_before_its_operand_arrives_is_refused() {
    let (_, mut v) = mapped("workloads/kernels/fir.tk", "hycube-4x4", "fir-early.json");
    // A consumer placed one cycle earlier (same PE, same routes): its operand arrives
    // after it reads it.
    let routes = v["routes"].as_array().unwrap().clone();
    let kernel_edges = v["kernel"]["graph"]["edges"].as_array().unwrap().clone();
    let p = placed(&v);
    let target = routes
        .iter()
        .filter_map(|r| {
            let e = r["edge"].as_u64()? as usize;
            let dst = kernel_edges[e][1].as_u64()? as usize;
            p.iter()
                .find(|&&(i, _, c)| i == dst && c > 0)
                .map(|&(i, _, _)| i)
        })
        .next()
        .expect("a routed consumer after cycle 0");
    let c = v["placements"][target]["cycle"].as_u64().unwrap();
    v["placements"][target]["cycle"] = Value::from(c - 1);
    refused(&write("early.json", &v), "end:");
}

#[test]
fn a_compose_chain_past_the_clock_period_is_refused() {
    let (_, mut v) = mapped(
        "workloads/kernels/horner.tk",
        "compose-4x4",
        "horner-c.json",
    );
    let period = v["arch"]["timing"]["clock_period_ps"].as_u64().unwrap();
    // The chained op (inputs arrive within the cycle, after clock-to-q) starts so late
    // that the chain's summed delay runs past the period.
    let clk_to_q = v["arch"]["timing"]["clk_to_q_ps"].as_u64().unwrap();
    let chained = v["placements"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| !p["pe"].is_null() && p["start_ps"].as_u64().unwrap() > clk_to_q)
        .expect("horner chains on compose-4x4");
    v["placements"][chained]["start_ps"] = Value::from(period - 10);
    refused(&write("chain.json", &v), &format!("node {chained} cycle"));
}

#[test]
fn max_ii_above_the_configuration_depth_is_refused_with_the_override() {
    for cmd in ["map", "run"] {
        let o = tessera(&[
            cmd,
            "workloads/kernels/dot.tk",
            "--arch",
            "hycube-4x4",
            "--max-ii",
            "40",
        ]);
        let s = text(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {s}");
        assert!(s.contains("--max-ii 40"), "{s}");
        assert!(s.contains("max_ii = 32"), "{s}");
        assert!(
            s.contains(r#"--arch '(preset: "hycube-4x4", set: {"max_ii": 40})'"#),
            "{s}"
        );
        let o = tessera(&[
            cmd,
            "workloads/kernels/dot.tk",
            "--arch",
            "hycube-4x4",
            "--ii",
            "33",
        ]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", text(&o));
        assert!(text(&o).contains("--ii 33"), "{}", text(&o));
    }
    // The override it suggests works: the depth is raised and --max-ii 40 is honoured.
    let o = tessera(&[
        "map",
        "workloads/kernels/dot.tk",
        "--arch",
        r#"(preset: "hycube-4x4", set: {"max_ii": 40})"#,
        "--max-ii",
        "40",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // And at the depth itself nothing changes.
    let o = tessera(&[
        "map",
        "workloads/kernels/dot.tk",
        "--arch",
        "hycube-4x4",
        "--max-ii",
        "32",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// A kernel whose inputs the interpreter cannot run: `sim` says which node makes input
/// ranges impossible (`tessera_ir::input_ranges`), exit 2. (`a[idx[i] | 16]` with 8
/// elements: no contents of `idx` keep the index below 16.)
#[test]
fn sim_names_the_node_that_makes_input_ranges_impossible() {
    let src = tmp("or16.tk");
    std::fs::write(
        &src,
        "kernel or16(n = 8) {\n    in i32 idx[n] range 0..7;\n    in i32 a[8];\n    out i32 y[n];\n    for i in 0..n {\n        y[i] = a[idx[i] | 16];\n    }\n}\n",
    )
    .unwrap();
    let (out, _) = mapped(src.to_str().unwrap(), "hycube-4x4", "or16.json");
    let o = tessera(&["sim", out.to_str().unwrap(), "--input-seed", "1"]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(2), "{s}");
    assert!(s.contains("out-of-range load"), "{s}");
    assert!(s.contains("makes it impossible"), "{s}");
    assert!(s.contains("constant operand 16"), "{s}");
    // A `.tk` node has no label: the message names its op instead of an empty ``.
    assert!(!s.contains("``"), "{s}");
    assert!(s.contains("is a `"), "{s}");
}
