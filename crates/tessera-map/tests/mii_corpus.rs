//! MII of Morpher corpus DFGs, computed by hand from the DFG listings
//! (`tessera kernel show FILE`). Skipped when the corpus folder is absent.

use std::path::Path;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;
use tessera_map::mii::analyze;

const CORPUS: &str = "/work/shared/corpus/cgra/morpher-xml";

fn corpus(file: &str) -> Option<Kernel> {
    let p = Path::new(CORPUS).join(file);
    if !p.exists() {
        eprintln!("skipped: {} not present", p.display());
        return None;
    }
    Some(tessera_ir::load_kernel(&p, &[]).unwrap())
}

fn count(k: &Kernel, pred: impl Fn(&tessera_ir::Node) -> bool) -> u32 {
    k.nodes().filter(|(_, n)| pred(n)).count() as u32
}

#[test]
fn mults1_is_bound_by_its_four_add_accumulation() {
    // n10 add -> n11 add -> n12 add -> n13 add -> n10 (distance 1): 4 single-cycle adds,
    // RecMII 4. 15 FU ops on 16 PEs and 3 memory ops on 4 memory PEs: ResMII 1.
    let Some(k) = corpus("cgra_me_bench__mults1__main_INNERMOST_LN1_noSemiOLOAD_PartPred_DFG.xml")
    else {
        return;
    };
    let r = analyze(&k, &CgraSpec::preset("hycube-4x4").unwrap()).unwrap();
    assert_eq!((r.res_mii, r.rec_mii, r.mii), (1, 4, 4));
    let c = r.critical.unwrap();
    assert_eq!(c.nodes, vec![10, 11, 12, 13]);
    assert_eq!(c.ops, vec!["add"; 4]);
}

#[test]
fn aes_encrypt_sample_matches_morphers_mii_of_9() {
    // 28 loads + 5 stores = 33 memory ops on the 4 left-column PEs: ceil(33/4) = 9.
    // 132 FU ops on 16 PEs: ceil(132/16) = 9. The four table look-up rounds form a
    // recurrence of 36 single-cycle ops over distance 4: 9 (a 9-op loop of distance 1 is
    // critical as well). Morpher reports MII 9 too.
    let Some(k) = corpus("sample_xmls__encrypt_INNERMOST_LN1_DFG.xml") else {
        return;
    };
    assert_eq!(count(&k, |n| n.op.is_memory()), 33);
    let r = analyze(&k, &CgraSpec::preset("hycube-4x4").unwrap()).unwrap();
    assert_eq!((r.res_mii, r.rec_mii, r.mii), (9, 9, 9));
    let c = r.critical.unwrap();
    assert_eq!(c.mii, 9);
    assert_eq!(c.latency_cycles.div_ceil(c.distance), 9);
    assert!(
        r.recurrences
            .iter()
            .any(|x| (x.latency_cycles, x.distance) == (36, 4))
    );
    assert!(r.recurrences.iter().all(|x| x.mii <= 9));
    // On mesh-8x8, 8 memory PEs: ceil(33/8) = 5, ceil(132/64) = 3; the recurrence stays 9.
    let r8 = analyze(&k, &CgraSpec::preset("mesh-8x8").unwrap()).unwrap();
    assert_eq!((r8.res_mii, r8.rec_mii), (5, 9));
}

#[test]
fn aes_encrypt_partpred_table_sits_in_one_single_port_bank() {
    // The 16 look-ups of `ft_tab` all go to the one bank holding the table, 1 port:
    // ResMII 16, above the 34 memory ops / 4 PEs = 9.
    let Some(k) = corpus("aes_encrypt__encrypt_INNERMOST_LN1_PartPred_DFG.xml") else {
        return;
    };
    let tab = k.array_index("ft_tab").unwrap() as u16;
    assert_eq!(count(&k, |n| n.op.is_memory() && n.array == Some(tab)), 16);
    let r = analyze(&k, &CgraSpec::preset("hycube-4x4").unwrap()).unwrap();
    assert_eq!(r.res_mii, 16);
    let mem = r
        .per_class
        .iter()
        .find(|l| l.resource == "memory (load+store)")
        .unwrap();
    assert_eq!((mem.ops, mem.mii), (34, 9));
}
