//! COMPOSE on the bundled kernels (`workloads/kernels`, compose-4x4): composition never
//! makes a kernel slower (higher II) than the same array with composition off, it lowers
//! the II of recurrence-bound kernels, and every composed mapping (already accepted by the
//! checker inside the driver) simulates to the interpreter's outputs.

use std::path::Path;
use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::Spec;
use tessera_map::driver::{MapOptions, map_kernel, unchained_cycles_lower_bound};
use tessera_map::mapping::Loc;
use tessera_sim::Simulator;

/// The bundled kernels' folder and compose-4x4 with composition on and off.
fn workloads_on_off() -> (std::path::PathBuf, CgraSpec, CgraSpec) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels");
    let on = CgraSpec::preset("compose-4x4").unwrap();
    let mut off = on.clone();
    off.compose.enabled = false;
    (dir, on, off)
}

/// Does any route of `m` leave a producer combinationally (a chained edge)?
fn has_chained_edge(m: &tessera_map::mapping::Mapping) -> bool {
    m.routes
        .iter()
        .flat_map(|r| &r.segments)
        .any(|s| matches!(s.from, Loc::Comb { .. }))
}

#[test]
fn composition_never_raises_the_ii_and_lowers_recurrence_bound_ones() {
    let (dir, on, off) = workloads_on_off();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tk"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "kernels missing in {}", dir.display());
    let opts = MapOptions {
        seed: 1,
        ..MapOptions::default()
    };
    let mut lowered = Vec::new();
    let mut chained_and_verified = 0;
    for f in &files {
        let k = tessera_ir::load_kernel(f, &[]).unwrap();
        let a = map_kernel(&k, &on, &opts).unwrap();
        let b = map_kernel(&k, &off, &opts).unwrap();
        assert!(
            a.mapping.ii <= b.mapping.ii,
            "{}: II {} with composition, {} without",
            k.name,
            a.mapping.ii,
            b.mapping.ii
        );
        assert!(
            a.mapping.total_cycles() <= b.mapping.total_cycles(),
            "{}: {} cycles with composition, {} without",
            k.name,
            a.mapping.total_cycles(),
            b.mapping.total_cycles()
        );
        // The driver skips the unchained search when a chained mapping runs in no more
        // cycles than this lower bound: it must hold for the unchained mapping found.
        let floor = unchained_cycles_lower_bound(&k, &off, b.mii.mii);
        assert!(
            floor <= b.mapping.total_cycles(),
            "{}: bound {floor} above the unchained mapping's {} cycles",
            k.name,
            b.mapping.total_cycles()
        );
        // The timing-aware bound never exceeds the baseline one.
        assert!(a.mii.rec_mii_timed <= a.mii.rec_mii_baseline, "{}", k.name);
        assert!(a.mapping.ii >= a.mii.mii, "{}", k.name);
        if a.mapping.ii < b.mapping.ii {
            lowered.push(k.name.clone());
            assert!(a.mii.rec_mii_timed < a.mii.rec_mii_baseline, "{}", k.name);
            let comb = a
                .mapping
                .routes
                .iter()
                .any(|r| matches!(r.segments[0].from, Loc::Comb { .. }));
            assert!(comb, "{}: lower II without a chained route", k.name);
            let sim = Simulator::new(&a.mapping).unwrap();
            let (rep, _) = sim.simulate_seed(5, false).unwrap();
            assert!(
                rep.verification.matched,
                "{}: {:?}",
                k.name,
                rep.verification.mismatch.map(|m| m.message)
            );
            chained_and_verified += 1;
        }
    }
    // Measured with seed 1: adpcm_decode, crc32, ema, histogram, horner, iir_biquad, lfsr,
    // mandelbrot, minmax and viterbi_acs map at a lower II with composition.
    assert!(lowered.len() >= 8, "lowered only {lowered:?}");
    assert_eq!(chained_and_verified, lowered.len());
}

/// On a loop of one or two iterations the schedule length dominates: the driver keeps the
/// unchained mapping whenever it runs in fewer total cycles.
#[test]
fn short_loops_never_run_longer_with_composition() {
    let (dir, on, off) = workloads_on_off();
    let opts = MapOptions::default();
    for name in ["ema", "lfsr", "horner", "iir_biquad"] {
        for trip in [1u32, 2, 3] {
            let mut k = tessera_ir::load_kernel(&dir.join(format!("{name}.tk")), &[]).unwrap();
            k.trip_count = trip;
            let a = map_kernel(&k, &on, &opts).unwrap();
            let b = map_kernel(&k, &off, &opts).unwrap();
            assert!(unchained_cycles_lower_bound(&k, &off, b.mii.mii) <= b.mapping.total_cycles());
            assert!(
                a.mapping.total_cycles() <= b.mapping.total_cycles(),
                "{name} x{trip}: {} cycles with composition, {} without",
                a.mapping.total_cycles(),
                b.mapping.total_cycles()
            );
            let (rep, _) = Simulator::new(&a.mapping)
                .unwrap()
                .simulate_seed(1, false)
                .unwrap();
            assert!(rep.verification.matched, "{name} x{trip}");
        }
    }
}

/// Morpher's gemm_nt (sample_xmls) reads through 16 pointers whose bank the mapper cannot
/// know: at run time they serialise on one single-port bank, so an iteration takes at
/// least 16 cycles whatever the II. Composition could reach II 7 where the baseline needs
/// 10, but both run at the 16-cycle bound: the driver maps without chaining, sees that
/// mapping meet the bound, and tries no chained II at all; the simulated kernel is never
/// slower with composition on.
#[test]
fn accesses_of_unknown_bank_bound_what_composition_can_gain() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../workloads/corpus/cgra/morpher-xml/sample_xmls__gemm_nt_INNERMOST_LN131_DFG.xml",
    );
    let k = tessera_ir::load_kernel(&path, &[]).unwrap();
    let on = CgraSpec::preset("compose-hycube-4x4").unwrap();
    let mut off = on.clone();
    off.compose.enabled = false;
    let unlabelled = k
        .nodes()
        .filter(|(_, n)| n.op.is_memory() && n.array.is_none())
        .count();
    assert_eq!(unlabelled, 16);
    assert_eq!(tessera_map::driver::unknown_bank_ii(&k, &on), 16);
    let opts = MapOptions::default();
    let a = map_kernel(&k, &on, &opts).unwrap();
    let b = map_kernel(&k, &off, &opts).unwrap();
    assert!(b.mapping.ii <= 16);
    assert_eq!(a.mapping.ii, b.mapping.ii);
    assert!(!has_chained_edge(&a.mapping), "no chained edge");
    assert!(
        a.failed_iis.iter().all(|(_, why)| !why.contains("chain")),
        "no chained II tried: {:?}",
        a.failed_iis
    );
    for seed in 1..=3 {
        let cycles = |m: &tessera_map::mapping::Mapping| {
            let (rep, _) = Simulator::new(m)
                .unwrap()
                .simulate_seed(seed, false)
                .unwrap();
            assert!(rep.verification.matched);
            rep.total_cycles
        };
        assert!(cycles(&a.mapping) <= cycles(&b.mapping), "seed {seed}");
    }
}

/// The unchained search runs only when it can matter: `crc32`'s chained IIs from the
/// timing-aware MII (7) fail, a higher chained II maps in fewer cycles than any unchained
/// mapping can take, so that mapping is returned without the unchained search; no chained
/// II of `adpcm_decode` maps on compose-4x4 (II 2 is not even tried: its ops fill every FU
/// slot there, `CHAIN_FU_SLACK`), so the unchained search runs and decides.
#[test]
fn the_unchained_search_is_skipped_only_when_a_chained_mapping_beats_it() {
    let (dir, on, off) = workloads_on_off();
    let opts = MapOptions {
        seed: 1,
        ..MapOptions::default()
    };
    let crc = tessera_ir::load_kernel(&dir.join("crc32.tk"), &[]).unwrap();
    let a = map_kernel(&crc, &on, &opts).unwrap();
    let base_mii = tessera_map::mii::analyze(&crc, &off).unwrap().mii;
    assert!(a.mapping.ii < base_mii, "II {} vs {base_mii}", a.mapping.ii);
    assert!(
        a.failed_iis.iter().any(|&(ii, _)| ii == a.mii.mii),
        "the timing-aware MII was tried first and failed: {:?}",
        a.failed_iis
    );
    assert!(!a.unchained_searched);
    assert!(a.mapping.total_cycles() <= unchained_cycles_lower_bound(&crc, &off, base_mii));

    let adpcm = tessera_ir::load_kernel(&dir.join("adpcm_decode.tk"), &[]).unwrap();
    let b = map_kernel(&adpcm, &on, &opts).unwrap();
    assert!(b.unchained_searched);
    // Its 32 ops fill all 32 FU slots at II 2 (= its timing-aware MII): not tried chained.
    assert_eq!(b.mii.mii, 2);
    assert!(
        b.failed_iis
            .iter()
            .any(|(ii, why)| *ii == 2 && why.contains("fill all 32 FU slots")),
        "{:?}",
        b.failed_iis
    );
    assert!(
        !has_chained_edge(&b.mapping),
        "no chained mapping found, so the unchained one is returned"
    );
}
