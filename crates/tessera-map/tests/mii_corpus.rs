//! MII of Morpher corpus DFGs, computed by hand from the DFG listings
//! (`tessera kernel show FILE`); the corpus is vendored in `workloads/corpus/`.

use std::path::Path;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;
use tessera_map::mii::analyze;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../workloads/corpus/cgra/morpher-xml"
);

fn corpus(file: &str) -> Option<Kernel> {
    let p = Path::new(CORPUS).join(file);
    assert!(p.exists(), "vendored corpus file missing: {}", p.display());
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
fn aes_encrypt_partpred_table_is_copied_by_its_footprint() {
    // The 16 look-ups of `ft_tab` go to the bank holding the table, 1 port: without copies
    // ResMII 16, above the 34 memory ops / 4 PEs = 9. The table is read-only; its loads
    // reach the four 1 KiB T-tables at 4096, 5120, 6144 and 7168 with an index of at most
    // 255 (`& 255` or `>> 24`) and 4-byte words: bytes 4096 ..= 7168 + 255 + 3, 3331 bytes.
    // The 11 pointer cells (constant-address loads and stores in 1 KiB regions the importer
    // reserves) need 4 bytes each. So a copy of the table fits every 4 KiB bank, its loads
    // spread over 4 banks (16 / 4 = 4 per II) and the MII is the memory-op bound, 9.
    let Some(k) = corpus("aes_encrypt__encrypt_INNERMOST_LN1_PartPred_DFG.xml") else {
        return;
    };
    let tab = k.array_index("ft_tab").unwrap();
    assert_eq!(
        count(&k, |n| n.op.is_memory() && n.array == Some(tab as u16)),
        16
    );
    let resident = tessera_ir::footprint::resident_bytes(&k);
    assert_eq!(resident[tab], 7168 + 255 + 4 - 4096);
    for cell in [
        "xor",
        "xor12",
        "xor8",
        "xor4",
        "add.ptr14",
        "Nrnd",
        "xor90",
        "xor38",
    ] {
        let a = k.array_index(cell).unwrap();
        assert_eq!(k.arrays[a].size_bytes(), 1024, "{cell}");
        assert_eq!(resident[a], 4, "{cell}");
    }
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let single = tessera_map::mii::analyze_with(&k, &arch, false).unwrap();
    assert_eq!(single.res_mii, 16);
    let r = analyze(&k, &arch).unwrap();
    assert_eq!(r.res_mii, 9);
    let mem = r
        .per_class
        .iter()
        .find(|l| l.resource == "memory (load+store)")
        .unwrap();
    assert_eq!((mem.ops, mem.mii), (34, 9));
    let table = r
        .per_class
        .iter()
        .find(|l| l.resource.contains("ft_tab"))
        .unwrap();
    assert!(table.resource.contains("4 copies"), "{}", table.resource);
    assert_eq!((table.ops, table.units, table.mii), (16, 4, 4));
}
