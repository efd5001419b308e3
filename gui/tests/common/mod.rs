//! Sample results made in the test with the library crates (no committed binaries).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

pub fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tessera-gui-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// fir.tk mapped on a preset with the heuristic mapper, as `tessera map` writes it.
pub fn fir_mapping(dir: &Path, preset: &str) -> PathBuf {
    use tessera_arch::Spec;
    let k = tessera_ir::load::load_kernel(&repo().join("workloads/kernels/fir.tk"), &[]).unwrap();
    let arch = tessera_arch::cgra::CgraSpec::preset(preset).unwrap();
    let out =
        tessera_map::driver::map_kernel(&k, &arch, &tessera_map::driver::MapOptions::default())
            .unwrap();
    let path = dir.join("mapping.json");
    out.mapping.save(&path).unwrap();
    path
}

/// A finished ZDT1 search run folder with `evaluations` evaluations.
pub fn zdt1_run(dir: &Path, evaluations: u64) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("workloads/searches/zdt1.ron"))
        .unwrap()
        .replace("evaluations: 20000", &format!("evaluations: {evaluations}"));
    let cfg = tessera_study::config::LoadedConfig::from_str(&text, "zdt1.ron").unwrap();
    let run_dir = dir.join("zdt1-run");
    let opts = tessera_study::run::RunOptions {
        dir: run_dir.clone(),
        threads: 1,
        resume: false,
        shard: None,
        tool_version: "test".into(),
        sequential: None,
    };
    tessera_study::run::run(&cfg, &opts, &AtomicBool::new(false), &|_| {}).unwrap();
    run_dir
}
