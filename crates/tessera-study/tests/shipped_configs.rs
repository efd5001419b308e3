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
