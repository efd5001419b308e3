//! Sample results made in the test with the library crates (no committed binaries).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

pub fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-gui-{}-{name}", std::process::id()));
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

/// A workloads/kernels file mapped on a preset with the heuristic mapper, as `tessera map`
/// writes it.
pub fn kernel_mapping(dir: &Path, kernel: &str, preset: &str) -> PathBuf {
    use tessera_arch::Spec;
    let k =
        tessera_ir::load::load_kernel(&repo().join("workloads/kernels").join(kernel), &[]).unwrap();
    let arch = tessera_arch::cgra::CgraSpec::preset(preset).unwrap();
    let out =
        tessera_map::driver::map_kernel(&k, &arch, &tessera_map::driver::MapOptions::default())
            .unwrap();
    let path = dir.join(format!("{}-{preset}.json", kernel.trim_end_matches(".tk")));
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

/// A `tessera dram hammer --json` report of workloads/dram/hammer-double.ron (as the CLI
/// writes it: the library's report, pretty JSON).
pub fn hammer_json(dir: &Path) -> PathBuf {
    let cfg = repo().join("workloads/dram/hammer-double.ron");
    let f: tessera_dram::config::HammerFile = tessera_dram::config::load(&cfg).unwrap();
    let spec = tessera_dram::config::load_spec(&cfg, &f.spec).unwrap();
    let r = tessera_dram::disturb::run(&spec, &f.hammer).unwrap();
    let path = dir.join("hammer.json");
    std::fs::write(&path, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    path
}

/// A small `tessera dram trng --json` report (QUAC, 128 columns) with its NIST battery on
/// 110,000 output bits, as the CLI writes it.
pub fn trng_json(dir: &Path) -> PathBuf {
    let spec = <tessera_arch::dram::DramSpec as tessera_arch::Spec>::preset("DDR4_2400R").unwrap();
    let cfg = tessera_dram::trng::TrngConfig {
        columns: 128,
        characterisation_reads: 40,
        output_bits: 110_000,
        timing_iterations: 1,
        ..Default::default()
    };
    let (report, bits) = tessera_dram::trng::TrngModel::new(&spec, &cfg)
        .unwrap()
        .run();
    assert_eq!(bits.len(), 110_000, "{report:?}");
    let nist = tessera_dram::nist::run_all(&bits, 0.01);
    let path = dir.join("trng.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&serde_json::json!({ "trng": report, "nist": nist })).unwrap(),
    )
    .unwrap();
    path
}

/// A small `tessera dram puf --json` report (SiMRA, 4 chips).
pub fn puf_json(dir: &Path) -> PathBuf {
    let spec = <tessera_arch::dram::DramSpec as tessera_arch::Spec>::preset("DDR4_2400R").unwrap();
    let cfg = tessera_dram::puf::PufConfig {
        chips: 4,
        columns: 32,
        repeats: 2,
        ..Default::default()
    };
    let r = tessera_dram::puf::run(&spec, &cfg).unwrap();
    let path = dir.join("puf.json");
    std::fs::write(&path, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    path
}

/// `tessera accel run --arch edge-os-16x16 --network resnet50 --json`.
pub fn accel_json(dir: &Path) -> PathBuf {
    let spec =
        <tessera_arch::accel::AccelSpec as tessera_arch::Spec>::preset("edge-os-16x16").unwrap();
    let net = tessera_accel::networks::load("resnet50").unwrap();
    let r = tessera_accel::Accelerator::new(&spec).report(&spec, &net);
    let path = dir.join("accel.json");
    std::fs::write(&path, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    path
}

/// A finished accelerator search (workloads/searches/accel-resnet50.ron) of
/// `evaluations` evaluations.
pub fn accel_run(dir: &Path, evaluations: u64) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("workloads/searches/accel-resnet50.ron"))
        .unwrap()
        .replace("evaluations: 20000", &format!("evaluations: {evaluations}"))
        .replace("pop_size: 92", "pop_size: 12");
    let cfg = tessera_study::config::LoadedConfig::from_str(&text, "accel-resnet50.ron").unwrap();
    let run_dir = dir.join("accel-run");
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

/// `tessera dram hammer --json` of a config with a `compare` list
/// (workloads/dram/hammer-simra-trr-bypass.ron): `{"runs": [...]}`.
pub fn hammer_compare_json(dir: &Path) -> PathBuf {
    let cfg = repo().join("workloads/dram/hammer-simra-trr-bypass.ron");
    let f: tessera_dram::config::HammerFile = tessera_dram::config::load(&cfg).unwrap();
    let spec = tessera_dram::config::load_spec(&cfg, &f.spec).unwrap();
    let runs = tessera_dram::disturb::compare(&spec, &f.hammer, &f.compare).unwrap();
    let path = dir.join("hammer-compare.json");
    let v = serde_json::json!({ "runs": runs });
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path
}

/// `tessera dram nist --json` of 120,000 bits of a seeded generator (the report plus the
/// `input` object the CLI adds).
pub fn nist_json(dir: &Path) -> PathBuf {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bits: Vec<u8> = (0..120_000)
        .map(|_| {
            // xorshift64*
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 63) as u8
        })
        .collect();
    let r = tessera_dram::nist::run_all(&bits, 0.01);
    let mut v = serde_json::to_value(&r).unwrap();
    v["input"] = serde_json::json!({
        "file": "bits.txt", "format": "ascii", "automatic": true, "reason": "test", "bits": 120000
    });
    let path = dir.join("nist.json");
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path
}

/// A kernel that keeps the heuristic mapper busy for far longer than a test waits: one load
/// fanned out to 100 multiplies summed by 99 adds (201 ops). On mesh-4x4 and hycube-4x4 it
/// fails at every II from 13 to 32 (release build: 39 s and 78 s), so only cancel ends it early.
pub fn fanout_kernel(dir: &Path) -> PathBuf {
    let sum: Vec<String> = (0..100).map(|t| format!("v * {}", 2 * t + 3)).collect();
    let text = format!(
        "kernel fanout100(n = 64) {{\n    in i32 x[n];\n    out i32 y[n];\n    for i in 0..n {{\n        let v = x[i];\n        y[i] = {};\n    }}\n}}\n",
        sum.join(" + ")
    );
    let path = dir.join("fanout100.tk");
    std::fs::write(&path, text).unwrap();
    path
}

/// A finished joint network x accelerator search on the UCI digits
/// (workloads/searches/digits-edge.ron) with `evaluations` evaluations in one generation:
/// each evaluation trains a small network, as `tessera search run` does.
pub fn digits_run(dir: &Path, evaluations: u64) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("workloads/searches/digits-edge.ron"))
        .unwrap()
        .replace("evaluations: 400", &format!("evaluations: {evaluations}"))
        .replace("pop_size: 40", &format!("pop_size: {evaluations}"));
    let cfg = tessera_study::config::LoadedConfig::from_str(&text, "digits-edge.ron").unwrap();
    let run_dir = dir.join("digits-run");
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
