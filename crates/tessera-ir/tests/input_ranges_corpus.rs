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
    assert!(proved >= 36, "{proved}");
}

#[test]
#[ignore = "diagnostic"]
fn diag() {
    for p in corpus() {
        let text = std::fs::read_to_string(&p).unwrap();
        let Ok(k) = morpher::import_str(&text, &p.display().to_string()) else {
            continue;
        };
        let ok = (1..4u64).all(|s| {
            tessera_ir::interp::run(&k, &tessera_ir::interp::random_inputs(&k, s)).is_ok()
        });
        match tessera_ir::input_ranges::infer(&k) {
            Ok(_) => eprintln!("OK runs={ok} {}", k.name),
            Err(e) => eprintln!(
                "ERR runs={ok} {}: {e} [{}]",
                k.name,
                k.node(tessera_ir::NodeId::new(e.node)).label
            ),
        }
    }
}

#[test]
#[ignore = "diagnostic"]
fn one() {
    let name = std::env::var("IR_ONE").unwrap();
    for p in corpus() {
        if !p.display().to_string().contains(&name) {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let k = morpher::import_str(&text, &p.display().to_string()).unwrap();
        eprintln!("{:?}", tessera_ir::input_ranges::infer(&k));
    }
}
