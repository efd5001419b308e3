//! NAS-Bench-201 lowering against the benchmark's published multiply-accumulate range and
//! hand counts, and scoring on an accelerator preset.

use tessera_accel::Accelerator;
use tessera_arch::Spec;
use tessera_arch::accel::AccelSpec;
use tessera_nn::nas201::{self, Cell, CellOp};

/// The benchmark counts FLOPs as conv multiply-accumulates plus the classifier's MACs and
/// bias adds (its `get_model_infos`); for CIFAR-10 its range is 7.78 M to 220.11 M.
fn benchmark_flops(cell: &Cell) -> u64 {
    nas201::lower(cell, 10, None).macs() + 10
}

#[test]
fn lowering_matches_the_published_cifar10_range_exactly() {
    let none = Cell {
        edges: [CellOp::None; 6],
    };
    let all3 = Cell {
        edges: [CellOp::Conv3x3; 6],
    };
    // Hand count of the fixed part: stem 32*32*27*16; each reduction block a stride-2 3x3,
    // a 3x3 and a 1x1 shortcut (3,670,016 MACs for both 16->32 and 32->64); classifier
    // 64*10 + 10 bias adds.
    assert_eq!(benchmark_flops(&none), 442_368 + 2 * 3_670_016 + 650);
    assert_eq!(benchmark_flops(&none), 7_783_050);
    // Six 3x3 convolutions per cell: 6 * 9 * C^2 * HW = 14,155,776 MACs in every stage.
    assert_eq!(benchmark_flops(&all3), 7_783_050 + 15 * 14_155_776);
    assert_eq!(benchmark_flops(&all3), 220_119_690);
    let (mut lo, mut hi) = (u64::MAX, 0);
    for e in nas201::table() {
        let f = benchmark_flops(&e.cell);
        lo = lo.min(f);
        hi = hi.max(f);
    }
    assert_eq!((lo, hi), (7_783_050, 220_119_690));
    // The lowered layers are valid accelerator shapes.
    nas201::lower(&all3, 10, None).check("nas").unwrap();
    assert_eq!(nas201::lower(&none, 10, None).layers.len(), 1 + 6 + 1);
    assert_eq!(
        nas201::lower(&all3, 10, None).layers.len(),
        1 + 6 + 15 * 6 + 1
    );
}

#[test]
fn every_architecture_scores_on_a_preset() {
    let spec = AccelSpec::preset("edge-os-16x16").unwrap();
    let acc = Accelerator::new(&spec);
    let mut feasible = 0;
    for e in nas201::table().iter().step_by(97) {
        let shapes = nas201::lower(&e.cell, 10, None).lower().unwrap();
        let t = acc.totals(&shapes).unwrap();
        assert!(t.latency_ns > 0.0 && t.energy.total_pj > 0.0);
        feasible += 1;
    }
    assert!(feasible > 100);
    let best = nas201::lookup("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|").unwrap();
    assert!(best.cifar10_test > 80.0);
}
