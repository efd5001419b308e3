//! Input ranges inferred for the Morpher corpus (`tessera_ir::input_ranges`): wherever the
//! analysis says every address is in range, the interpreter runs on every seed tried (the
//! analysis is sound on real DFGs), and where it says no range exists it names a node.

use std::path::{Path, PathBuf};
use tessera_ir::import::morpher;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/corpus/cgra/morpher-xml");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    v.sort();
    v
}

#[test]
fn proved_ranges_run_on_every_seed_and_impossible_ones_name_a_node() {
    let (mut proved, mut impossible) = (0, 0);
    for p in corpus() {
        let text = std::fs::read_to_string(&p).unwrap();
        let Ok(k) = morpher::import_str(&text, &p.display().to_string()) else {
            continue;
        };
        match tessera_ir::input_ranges::infer(&k) {
            Ok(r) => {
                proved += 1;
                // The importer applied the ranges already.
                assert!(r.narrowed_arrays.is_empty(), "{}", k.name);
                for seed in 0..6u64 {
                    let inputs = tessera_ir::interp::random_inputs(&k, seed);
                    if let Err(e) = tessera_ir::interp::run(&k, &inputs) {
                        panic!("{}: proved in range but seed {seed} fails: {e}", k.name);
                    }
                }
            }
            Err(e) => {
                impossible += 1;
                assert!(e.node < k.node_count() && e.access < k.node_count());
                eprintln!("{}: {e}", k.name);
            }
        }
    }
    eprintln!("proved in range: {proved}, not proved: {impossible}");
    assert_eq!(proved + impossible, 58);
    // Every corpus DFG since 2026-12-07 afternoon (53 before: the two `taylor` DFGs had no
    // ranges, three others ran on random inputs without a proof).
    assert_eq!(proved, 58);
}
