//! Every config in `workloads/searches/` loads and its evaluator builds (every parameter
//! path checked against its base spec) without running a search.

use tessera_study::config::LoadedConfig;

#[test]
fn every_shipped_config_loads_and_its_evaluator_builds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Kernel folders and evaluator scripts are named relative to the repository root.
    std::env::set_current_dir(&root).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(root.join("workloads/searches")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "ron") {
            continue;
        }
        let cfg = LoadedConfig::load(&p).unwrap_or_else(|e| panic!("{e}"));
        tessera_study::evaluate::build(&cfg, std::path::Path::new(env!("CARGO_TARGET_TMPDIR")))
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        n += 1;
    }
    assert!(n >= 10, "{n} configs");
}

/// The metric names an evaluator declares (checked against the config before a run) are
/// exactly those it reports, on the cheap evaluators: a design at every gene's first value
/// of zdt1, dtlz2, accel-mobilenetv2 and nasbench201-edge.
#[test]
fn declared_metric_names_are_the_reported_ones() {
    use tessera_search::{Dim, Gene};
    use tessera_study::evaluate::{DesignRef, Evaluation};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for name in ["zdt1", "dtlz2", "accel-mobilenetv2", "nasbench201-edge"] {
        let p = root.join(format!("workloads/searches/{name}.ron"));
        let cfg = LoadedConfig::load(&p).unwrap_or_else(|e| panic!("{e}"));
        let ev =
            tessera_study::evaluate::build(&cfg, std::path::Path::new(env!("CARGO_TARGET_TMPDIR")))
                .unwrap();
        let genes: Vec<Gene> = cfg
            .config
            .space
            .iter()
            .map(|p| match p.kind.dim() {
                Dim::Real { lo, .. } => Gene::Real(lo),
                Dim::Int { lo, .. } => Gene::Int(lo),
                Dim::Cat { .. } => Gene::Cat(0),
            })
            .collect();
        let values = cfg
            .config
            .space
            .iter()
            .zip(&genes)
            .map(|(p, g)| (p.name.clone(), p.kind.decode(g)))
            .collect();
        let d = DesignRef {
            id: 0,
            genes: &genes,
            values: &values,
        };
        let Evaluation::Metrics(m) = ev.evaluate(&d, 0) else {
            panic!("{name}: the first design did not score")
        };
        let mut reported: Vec<&str> = m.keys().map(|k| k.as_ref()).collect();
        let mut declared = ev.metric_names().unwrap();
        reported.sort_unstable();
        declared.sort_unstable();
        assert_eq!(reported, declared, "{name}");
    }
}

/// A misspelt objective or constraint metric, and a choice a spec field does not take
/// (not only the first one), are refused before the run, at their line and column.
#[test]
fn wrong_metrics_and_choices_are_refused_at_their_place() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text =
        std::fs::read_to_string(root.join("workloads/searches/accel-mobilenetv2.ron")).unwrap();
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let located = |edited: &str, needle: &str| {
        let line = edited.lines().position(|l| l.contains(needle)).unwrap() + 1;
        let column = edited.lines().nth(line - 1).unwrap().find(needle).unwrap() + 1;
        let cfg = LoadedConfig::from_str(edited, "t.ron").unwrap();
        let e = match tessera_study::evaluate::build(&cfg, tmp) {
            Ok(_) => panic!("`{needle}` was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(e.starts_with(&format!("t.ron:{line}:{column}:")), "{e}");
        e
    };
    let e = located(
        &text.replace("(metric: \"latency_ms\"", "(metric: \"latncy_ms\""),
        "\"latncy_ms\"",
    );
    assert!(
        e.contains("latncy_ms") && e.contains("latency_ms, energy_mj"),
        "{e}"
    );
    let e = located(
        &text.replace("\"area_mm2 <= 20.0\"", "\"area_m2 <= 20.0\""),
        "\"area_m2",
    );
    assert!(e.contains("area_m2"), "{e}");
    let e = located(
        &text.replace("\"InputStationary\"]", "\"InputStationary\", \"Diagonal\"]"),
        "\"Diagonal\"",
    );
    assert!(e.contains("Diagonal") && e.contains("dataflow"), "{e}");
}
