//! `tessera compare` through the binary: the table's structure, the ratios and geometric
//! means recomputed independently from the JSON numbers, the CSV, kernels that fail listed
//! (not dropped), and bad input refused with exit code 2.

mod common;

use common::{json, stderr, stdout, temp_file, tessera};
use serde_json::Value;

const EMA: &str = "workloads/kernels/ema.tk";
const DOT: &str = "workloads/kernels/dot.tk";
const ARCHS: [&str; 3] = ["mesh-4x4", "hycube-4x4", "compose-4x4"];

fn compare(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["compare", EMA, DOT, "--time-limit", "5"];
    for a in ARCHS {
        args.extend(["--arch", a]);
    }
    args.extend_from_slice(extra);
    tessera(&args)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn table_lists_every_kernel_on_every_configuration_with_geomeans() {
    let o = compare(&[]);
    let s = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{s}\n{}", stderr(&o));
    assert!(s.contains("mapper seed 1, input seed 1"), "{s}");
    assert!(s.contains("baseline mesh-4x4"), "{s}");
    let header = s
        .lines()
        .find(|l| l.starts_with("kernel"))
        .unwrap_or_else(|| panic!("no header: {s}"));
    for col in [
        "II",
        "cycles",
        "energy_pJ",
        "EDP_pJns",
        "area_mm2",
        "speedup",
        "EDP_red",
    ] {
        assert!(header.contains(col), "{header}");
    }
    // One line per kernel and configuration, the kernel named on its first line.
    for arch in ARCHS {
        let lines = s
            .lines()
            .filter(|l| l.split_whitespace().any(|w| w == arch) && l.ends_with("verified"))
            .count();
        assert_eq!(lines, 2, "{arch}:\n{s}");
    }
    assert!(s.lines().any(|l| l.starts_with("ema ")), "{s}");
    assert!(s.lines().any(|l| l.starts_with("dot ")), "{s}");
    // Geometric means: each non-baseline configuration, three groups.
    assert!(s.contains("Geometric means against mesh-4x4"), "{s}");
    for arch in &ARCHS[1..] {
        for group in ["recurrence-bound", "other", "all"] {
            assert!(
                s.lines().any(|l| l.starts_with(arch) && l.contains(group)),
                "{arch} {group}:\n{s}"
            );
        }
    }
}

#[test]
fn json_ratios_and_geomeans_follow_from_the_raw_numbers_and_csv_matches() {
    let csv = temp_file("compare", "out.csv", "");
    let o = compare(&["--json", "--csv", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["map_seed"], 1);
    let archs = v["archs"].as_array().unwrap();
    assert_eq!(archs.len(), 3);
    assert_eq!(archs[2]["compose"], true);
    assert_eq!(archs[0]["compose"], false);
    let kernels = v["kernels"].as_array().unwrap();
    assert_eq!(kernels.len(), 2);

    // Per-kernel ratios, recomputed from cycles and EDP.
    let mut per_group: std::collections::BTreeMap<(usize, String), Vec<(f64, f64)>> =
        Default::default();
    for k in kernels {
        let cells = k["results"].as_array().unwrap();
        assert_eq!(cells.len(), 3);
        let base = &cells[0];
        // Class from the baseline's MII breakdown.
        let (res, rec) = (f(&base["res_mii"]), f(&base["rec_mii"]));
        let class = if rec > res {
            "recurrence-bound"
        } else {
            "other"
        };
        assert_eq!(k["class"], class, "{k}");
        assert_eq!(k["compared"], true, "{k}");
        for (i, c) in cells.iter().enumerate() {
            assert_eq!(c["arch"], ARCHS[i]);
            assert_eq!(c["status"], "verified", "{c}");
            let speedup = f(&base["cycles"]) / f(&c["cycles"]);
            let edp_red = f(&base["edp_pj_ns"]) / f(&c["edp_pj_ns"]);
            assert!(close(f(&c["speedup"]), speedup), "{c}");
            assert!(close(f(&c["edp_reduction"]), edp_red), "{c}");
            assert!(close(
                f(&c["energy_ratio"]),
                f(&c["energy_pj"]) / f(&base["energy_pj"])
            ));
            // EDP = energy x time, time = cycles x clock.
            let time_ns = f(&c["cycles"]) * f(&archs[i]["clock_period_ps"]) / 1000.0;
            assert!(close(f(&c["time_ns"]), time_ns));
            assert!(close(f(&c["edp_pj_ns"]), f(&c["energy_pj"]) * time_ns));
            assert!(f(&c["area_um2"]) > 0.0);
            // Deferred registrations are priced at the output-register write energy.
            use tessera_arch::Spec;
            let spec = tessera_arch::cgra::CgraSpec::preset(ARCHS[i]).unwrap();
            assert!(close(
                f(&c["saved_out_reg_pj"]),
                f(&c["deferred_registrations"]) * spec.energy.out_reg_write_pj
            ));
            if !spec.compose.enabled {
                assert_eq!(c["deferred_registrations"], 0, "{c}");
            }
            if i > 0 {
                per_group
                    .entry((i, class.to_string()))
                    .or_default()
                    .push((speedup, edp_red));
                per_group
                    .entry((i, "all".to_string()))
                    .or_default()
                    .push((speedup, edp_red));
            }
        }
        // COMPOSE pays its bypass area.
        assert!(f(&cells[2]["area_um2"]) > f(&cells[0]["area_um2"]));
        assert!(f(&cells[2]["area_ratio"]) > 1.0);
    }
    let gm = |xs: &[f64]| (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp();
    let geos = v["geomeans"].as_array().unwrap();
    assert_eq!(geos.len(), 2 * 3);
    for g in geos {
        let i = ARCHS.iter().position(|a| g["arch"] == *a).unwrap();
        assert!(i > 0);
        let group = g["group"].as_str().unwrap().to_string();
        match per_group.get(&(i, group.clone())) {
            Some(xs) => {
                assert_eq!(g["kernels"].as_u64().unwrap() as usize, xs.len());
                let s: Vec<f64> = xs.iter().map(|x| x.0).collect();
                let e: Vec<f64> = xs.iter().map(|x| x.1).collect();
                assert!(close(f(&g["speedup"]), gm(&s)), "{g}");
                assert!(close(f(&g["edp_reduction"]), gm(&e)), "{g}");
            }
            None => {
                assert_eq!(g["kernels"], 0, "{g}");
                assert!(g["speedup"].is_null(), "{g}");
            }
        }
    }

    // CSV: a header and one line per kernel and configuration, same numbers.
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 2 * 3, "{text}");
    let head: Vec<&str> = lines[0].split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    for (n, line) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let c = &kernels[n / 3]["results"][n % 3];
        assert_eq!(cells[col("arch")], ARCHS[n % 3]);
        assert_eq!(cells[col("cycles")], c["cycles"].to_string());
        assert!(close(
            cells[col("edp_pj_ns")].parse::<f64>().unwrap(),
            f(&c["edp_pj_ns"])
        ));
    }
}

#[test]
fn kernels_that_fail_are_listed_not_dropped() {
    // A folder with one good kernel and one that does not parse.
    let good = std::fs::read_to_string(format!("{}/{DOT}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let dir = temp_file("compare", "unused", "")
        .parent()
        .unwrap()
        .join("dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a_dot.tk"), good).unwrap();
    std::fs::write(dir.join("b_broken.tk"), "kernel broken( {").unwrap();
    let dir = dir.to_str().unwrap().to_string();
    let o = tessera(&[
        "compare",
        &dir,
        "--arch",
        "mesh-4x4",
        "--arch",
        "hycube-4x4",
        "--time-limit",
        "5",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let ks = v["kernels"].as_array().unwrap();
    assert_eq!(ks.len(), 2);
    assert_eq!(ks[1]["compared"], false);
    assert!(ks[1]["load_error"].is_string(), "{}", ks[1]);
    let listed = v["not_compared"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|l| l.as_str().unwrap().contains("load error")),
        "{listed:?}"
    );
    // Only the good kernel counts in the means.
    assert_eq!(v["geomeans"][2]["group"], "all");
    assert_eq!(v["geomeans"][2]["kernels"], 1);
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let o = tessera(&[
        "compare",
        DOT,
        "--arch",
        "mesh-4x4",
        "--arch",
        "no-such-arch-9x9",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(
        e.contains("--arch 2") && e.contains("no-such-arch-9x9"),
        "{e}"
    );
    assert!(e.contains("mesh-4x4"), "the error lists the presets: {e}");

    let o = tessera(&["compare", DOT, "--arch", "mesh-4x4"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("at least two --arch"), "{}", stderr(&o));

    let o = tessera(&[
        "compare",
        "workloads/kernels/nope.tk",
        "--arch",
        "mesh-4x4",
        "--arch",
        "hycube-4x4",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.tk"), "{}", stderr(&o));

    // An override that breaks validation names the field.
    let o = tessera(&[
        "compare",
        DOT,
        "--arch",
        "mesh-4x4",
        "--arch",
        r#"(preset: "compose-4x4", set: {"compose.max_virtual_pe": 1})"#,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("max_virtual_pe"), "{}", stderr(&o));
}

#[test]
fn the_four_4x4_presets_differ_only_in_interconnect_and_composition() {
    // docs/COMPOSE.md compares these presets; the comparison is fair only if every delay,
    // energy and area constant is shared.
    use tessera_arch::Spec;
    use tessera_arch::cgra::CgraSpec;
    let base = CgraSpec::preset("mesh-4x4").unwrap();
    for name in ["hycube-4x4", "compose-4x4", "compose-hycube-4x4"] {
        let mut s = CgraSpec::preset(name).unwrap();
        s.name = base.name.clone();
        s.interconnect = base.interconnect.clone();
        s.compose = base.compose;
        assert_eq!(
            s, base,
            "{name} differs from mesh-4x4 beyond interconnect/compose"
        );
    }
    let ch = CgraSpec::preset("compose-hycube-4x4").unwrap();
    assert!(ch.compose.enabled && ch.interconnect.max_hops_per_cycle == 4);
    assert_eq!(
        ch.compose,
        CgraSpec::preset("compose-4x4").unwrap().compose,
        "both COMPOSE presets use the same composition options"
    );
}

#[test]
fn a_simulation_mismatch_exits_1() {
    // An in-place shift whose loop-carried memory dependence (store -> next load) is
    // deleted from the kernel: the mapper then overlaps iterations, the array reads stale
    // memory, and the simulation no longer matches the interpreter.
    let tk = temp_file(
        "compare",
        "shift.tk",
        "kernel shift(n = 16) {\n    inout i32 a[n];\n    for i in 0..n - 1 {\n        a[i + 1] = a[i] + 1;\n    }\n}\n",
    );
    let o = tessera(&["kernel", "show", tk.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut k = json(&o)["kernel"].clone();
    let edges = k["graph"]["edges"].as_array_mut().unwrap();
    let before = edges.len();
    edges.retain(|e| e[2]["slot"] != "Order");
    assert!(edges.len() < before, "the kernel had an order edge");
    let broken = temp_file("compare", "shift-no-order.json", &k.to_string());
    let o = tessera(&[
        "compare",
        broken.to_str().unwrap(),
        "--arch",
        "mesh-4x4",
        "--arch",
        "hycube-4x4",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert!(v["failures"].as_u64().unwrap() >= 1, "{v}");
    let cell = &v["kernels"][0]["results"][0];
    assert_eq!(cell["status"], "mismatch", "{cell}");
    assert_eq!(v["kernels"][0]["compared"], false);
}

/// `--map-repeat N` maps every cell N times and reports the median mapping time: the
/// mappings (II, cycles) are those of a single run, the report records N, and 0 is refused.
#[test]
fn map_repeat_reports_the_same_mappings_and_records_the_count() {
    let one = json(&compare(&["--json"]));
    let o = compare(&["--json", "--map-repeat", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let three = json(&o);
    assert_eq!(three["map_repeat"], 3);
    assert_eq!(one["map_repeat"], 1);
    let cells = |v: &Value| -> Vec<(String, Value, Value)> {
        v["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|k| k["results"].as_array().unwrap().clone())
            .map(|c| (c["arch"].to_string(), c["ii"].clone(), c["cycles"].clone()))
            .collect()
    };
    assert_eq!(cells(&one), cells(&three));
    assert_eq!(cells(&one).len(), 2 * ARCHS.len());
    let s = stdout(&compare(&["--map-repeat", "3"]));
    assert!(s.contains("mapping times: median of 3 runs"), "{s}");

    let o = compare(&["--map-repeat", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("--map-repeat"), "{}", stderr(&o));
}
