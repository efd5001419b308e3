//! The exact MILP mapper: mappings it returns pass the checker, and it proves
//! infeasibility where a hand argument says no mapping exists.

use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::{Kernel, KernelSource, Node, Op, Operand};
use tessera_map::check::check;
use tessera_map::exact::{ExactOptions, ExactOutcome, map_exact};
use tessera_map::mii::analyze;

fn opts() -> ExactOptions {
    ExactOptions {
        time_limit_s: 30.0,
        ..ExactOptions::default()
    }
}

/// A hub `merge` reading `k` producers, each of which reads the hub's previous value:
/// h -> p_i (d=0), p_i -> h (d=1). Every cycle h -> p_i -> h has latency 2, distance 1.
fn hub(k: usize) -> Kernel {
    let mut g = Kernel::new("hub", KernelSource::Built);
    let h = g.add_node(Node::new(Op::Merge));
    for i in 0..k {
        let p = g.add_node(Node::new(Op::Add).with_imm(i as i32));
        g.add_edge(h, p, Operand::data(0));
        g.add_edge(p, h, Operand::carried(i as u8, 1, 0));
    }
    g.validate().unwrap();
    g
}

#[test]
fn small_kernel_maps_at_mii_and_passes_the_checker() {
    let k = hub(3);
    let arch = CgraSpec::preset("mesh-4x4").unwrap();
    let mii = analyze(&k, &arch).unwrap().mii;
    assert_eq!(mii, 2);
    match map_exact(&k, &arch, mii, &opts()).unwrap() {
        ExactOutcome::Mapped(m) => {
            assert_eq!(m.ii, 2);
            assert_eq!(m.provenance.mapper, "exact-milp");
            check(&m).unwrap();
        }
        other => panic!("expected a mapping, got {other:?}"),
    }
}

#[test]
fn below_rec_mii_is_proved_infeasible() {
    let k = hub(2);
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    assert!(matches!(
        map_exact(&k, &arch, 1, &opts()).unwrap(),
        ExactOutcome::Infeasible
    ));
}

/// A 2x2 mesh (1 hop per cycle): every PE has two neighbours.
fn mesh_2x2() -> CgraSpec {
    let mut a = CgraSpec::preset("mesh-4x4").unwrap();
    a.rows = 2;
    a.cols = 2;
    a.layout = vec!["MA".into(), "MA".into()];
    for b in &mut a.memory.banks {
        b.pes = vec![(0, 0), (1, 0)];
    }
    a.validate().unwrap();
    a
}

#[test]
fn neighbourhood_too_small_at_mii_is_proved_infeasible() {
    // At II 2 every p_i must run exactly one cycle after h and deliver back with zero slack,
    // so each sits on h's PE or a mesh neighbour (1 hop per cycle), one p per PE (they share
    // a slot): on a 2x2 mesh that is 3 PEs, so 4 producers cannot fit although MII is 2
    // (5 ops / 4 PEs, recurrence 2 / 1). At II 3 there is one cycle of slack and it maps.
    let k = hub(4);
    let arch = mesh_2x2();
    assert_eq!(analyze(&k, &arch).unwrap().mii, 2);
    let out = map_exact(&k, &arch, 2, &opts()).unwrap();
    assert!(matches!(out, ExactOutcome::Infeasible), "{out:?}");
    match map_exact(&k, &arch, 3, &opts()).unwrap() {
        ExactOutcome::Mapped(m) => check(&m).unwrap(),
        other => panic!("expected a mapping at II 3, got {other:?}"),
    }
}

#[test]
fn memory_kernel_maps_with_bank_choice() {
    let k = tessera_ir::load_kernel(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../workloads/kernels/dot.tk"
        )),
        &[],
    )
    .unwrap();
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let mii = analyze(&k, &arch).unwrap().mii;
    match map_exact(&k, &arch, mii, &opts()).unwrap() {
        ExactOutcome::Mapped(m) => {
            check(&m).unwrap();
            assert_eq!(m.ii, mii);
        }
        other => panic!("expected a mapping, got {other:?}"),
    }
}

fn corpus_kernel(name: &str) -> Option<Kernel> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../workloads/corpus/cgra/morpher-xml")
        .join(name);
    assert!(p.exists(), "vendored corpus file missing: {}", p.display());
    Some(tessera_ir::load::load_kernel(&p, &[]).unwrap())
}

/// CGRA-ME's conv2 at II 1 on a neighbour-only mesh: every link, output register and
/// register slot is shared by all cycles, which the exact mode's routers (compacted
/// schedule, then negotiated routing) must handle on the MILP's own placement.
#[test]
fn dense_ii_one_mesh_placement_routes_without_a_mip_start() {
    let Some(k) =
        corpus_kernel("cgra_me_bench__conv2__main_INNERMOST_LN1_noSemiOLOAD_PartPred_DFG.xml")
    else {
        unreachable!("corpus_kernel asserts the file exists")
    };
    let arch = CgraSpec::preset("mesh-4x4").unwrap();
    assert_eq!(analyze(&k, &arch).unwrap().mii, 1);
    match map_exact(&k, &arch, 1, &opts()).unwrap() {
        ExactOutcome::Mapped(m) => {
            check(&m).unwrap();
            assert_eq!(m.ii, 1);
            assert_eq!(m.provenance.mapper, "exact-milp");
        }
        other => panic!("expected a mapping at II 1, got {other:?}"),
    }
}

/// With the heuristic's mapping as MIP start the exact mode maps at that II, by its own
/// routers or, when the MILP returns the MIP start's placement and they fail, by the MIP
/// start's checked routes (the provenance says which).
#[test]
fn mip_start_placement_keeps_its_routes() {
    let k = hub(3);
    let arch = CgraSpec::preset("mesh-4x4").unwrap();
    let mii = analyze(&k, &arch).unwrap().mii;
    let hint = tessera_map::driver::map_kernel(&k, &arch, &Default::default())
        .unwrap()
        .mapping;
    assert_eq!(hint.ii, mii);
    let o = ExactOptions {
        hint: Some(hint),
        ..opts()
    };
    match map_exact(&k, &arch, mii, &o).unwrap() {
        ExactOutcome::Mapped(m) => {
            check(&m).unwrap();
            assert!(m.provenance.mapper.starts_with("exact-milp"));
        }
        other => panic!("expected a mapping, got {other:?}"),
    }
}
