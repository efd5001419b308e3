//! Behaviour of the analytical model: a hand-worked layer, infeasible designs as results,
//! monotonicity, precision effects, and no panics on arbitrary designs and layers.

use proptest::prelude::*;
use tessera_accel::layer::Op;
use tessera_accel::model::{Accelerator, Bound, Infeasible, Operand};
use tessera_accel::networks;
use tessera_arch::Spec;
use tessera_arch::accel::{AccelSpec, Dataflow, Precision, SramBuffer};

fn preset(name: &str) -> AccelSpec {
    AccelSpec::preset(name).unwrap()
}

#[test]
fn hand_worked_gemm_on_the_edge_array() {
    // GEMM 256x128x64 on edge-os-16x16 (int8, 12.8 B/cycle, 50-cycle latency).
    let acc = Accelerator::new(&preset("edge-os-16x16"));
    let g = Op::Gemm {
        m: 256,
        n: 128,
        k: 64,
    }
    .lower(1)
    .unwrap();
    let p = acc.layer(&g).unwrap();
    // Fr = 256/16 = 16, Fc = 128/16 = 8; 128 folds of T + r + c - 2 + R = 64 + 16 + 16 - 2 + 16.
    assert_eq!((p.row_folds, p.col_folds, p.folds), (16, 8, 128));
    assert_eq!(p.compute_cycles, 128 * 110);
    // Everything fits: A (16 KiB), B (8 KiB) read once, C (32 KiB) written once.
    assert_eq!(p.ifmap.dram_read_bytes, 16384.0);
    assert_eq!(p.filter.dram_read_bytes, 8192.0);
    assert_eq!(p.ofmap.dram_write_bytes, 32768.0);
    assert_eq!(p.dram_bytes, 57344.0);
    // Stall: latency 50 + first tiles (1024 + 1024 B) / 12.8 = 160, + last 16x16 tile 20;
    // the remaining 55,040 B need 4,300 cycles, hidden under 14,080 compute cycles.
    assert_eq!(p.stall_cycles, 230);
    assert_eq!(p.total_cycles, 14080 + 230);
    // SRAM: A read once per column fold, B once per row fold.
    assert_eq!(p.ifmap.sram_reads, 8 * 256 * 64);
    assert_eq!(p.filter.sram_reads, 16 * 64 * 128);
    assert_eq!(p.ofmap.sram_writes, 256 * 128);
    assert_eq!(p.mapping_efficiency, 1.0);
    let util = (256.0 * 128.0 * 64.0) / (256.0 * 14310.0);
    assert!((p.utilisation - util).abs() < 1e-12);
    assert_eq!(p.roofline.bound, Bound::Compute);
    let e = p.energy;
    assert!((e.total_pj - (e.mac_pj + e.sram_pj + e.dram_pj + e.leakage_pj)).abs() < 1e-6);
    // int8 MAC: 0.2 pJ multiply + 32-bit add 0.1 pJ (Horowitz ISSCC'14).
    assert!((e.mac_pj - 2_097_152.0 * 0.3).abs() < 1e-6);
    assert_eq!(e.dram_pj, 57344.0 * 8.0 * 20.0);
}

#[test]
fn infeasible_designs_are_results_with_reasons() {
    let g = Op::Gemm {
        m: 64,
        n: 64,
        k: 64,
    }
    .lower(1)
    .unwrap();
    let mut s = preset("edge-os-16x16");
    s.dram.bandwidth_bytes_per_cycle = 0.0;
    assert_eq!(
        Accelerator::new(&s).layer(&g),
        Err(Infeasible::ZeroDramBandwidth)
    );

    let mut s = preset("tpu-v1-like-ws-128x128");
    s.filter_sram = SramBuffer {
        size_kb: 16,
        banks: 1,
    };
    // A 64x64 weight tile (4 KiB) fits the 8 KiB half; a full 128x128 tile does not.
    assert!(Accelerator::new(&s).layer(&g).is_ok());
    let big = Op::Gemm {
        m: 64,
        n: 256,
        k: 256,
    }
    .lower(1)
    .unwrap();
    let err = Accelerator::new(&s).layer(&big).unwrap_err();
    assert_eq!(
        err,
        Infeasible::BufferTooSmall {
            buffer: Operand::Filter,
            need_bytes: 16384,
            half_bytes: 8192
        }
    );
    let net = networks::builtin("resnet50").unwrap();
    let report = Accelerator::new(&s).report(&s, &net);
    assert!(!report.feasible);
    assert!(report.totals.is_none());
    let why = report.infeasible.unwrap();
    // The first ResNet-50 layer with K >= 128 and N >= 128 (conv3_1_1x1a: 256 -> 128).
    assert!(
        why.contains("conv3_1_1x1a") && why.contains("filter buffer too small"),
        "{why}"
    );
    assert!(report.layers[0].perf.is_some());

    let mut s = preset("edge-os-16x16");
    s.rows = 0;
    assert_eq!(Accelerator::new(&s).layer(&g), Err(Infeasible::EmptyArray));
    let mut s = preset("edge-os-16x16");
    s.ofmap_sram.size_kb = 0;
    assert!(matches!(
        Accelerator::new(&s).layer(&g),
        Err(Infeasible::BufferTooSmall {
            buffer: Operand::Ofmap,
            ..
        })
    ));
}

#[test]
fn more_bandwidth_never_adds_stalls_and_starved_layers_are_memory_bound() {
    let net = networks::builtin("mobilenet_v2").unwrap();
    let shapes = net.lower().unwrap();
    let mut s = preset("edge-os-16x16");
    let mut last = u64::MAX;
    for bw in [0.5, 1.0, 4.0, 12.8, 64.0, 1024.0] {
        s.dram.bandwidth_bytes_per_cycle = bw;
        let t = Accelerator::new(&s).totals(&shapes).unwrap();
        assert!(
            t.stall_cycles <= last,
            "bw {bw}: {} > {last}",
            t.stall_cycles
        );
        last = t.stall_cycles;
    }
    s.dram.bandwidth_bytes_per_cycle = 0.05;
    let t = Accelerator::new(&s).totals(&shapes).unwrap();
    assert_eq!(t.roofline.bound, Bound::Memory);
    assert!(t.stall_cycles > t.compute_cycles);
}

#[test]
fn narrower_weights_cut_mac_energy_and_weight_traffic() {
    let g = Op::Fc {
        in_features: 4096,
        out_features: 4096,
    }
    .lower(1)
    .unwrap();
    let mut s = preset("tpu-v1-like-ws-128x128");
    let mut per_mac = Vec::new();
    let mut weight_bytes = Vec::new();
    for p in [
        Precision::Int16,
        Precision::Int8,
        Precision::Int4,
        Precision::Int2,
        Precision::Ternary,
    ] {
        s.weight_precision = p;
        let acc = Accelerator::new(&s);
        let perf = acc.layer(&g).unwrap();
        per_mac.push(perf.energy.mac_pj / perf.macs as f64);
        weight_bytes.push(perf.filter.dram_read_bytes);
    }
    assert!(per_mac.windows(2).all(|w| w[1] < w[0]), "{per_mac:?}");
    assert_eq!(weight_bytes[1], 4096.0 * 4096.0);
    assert_eq!(weight_bytes[4], 4096.0 * 4096.0 * 1.6 / 8.0);
}

#[test]
fn partial_sums_that_do_not_fit_tile_the_temporal_dimension() {
    // WS, 3x3 conv 512 -> 512 on 7x7: K = 4608 on 128 rows = 36 row folds, N = 512 on 128
    // columns = 4 column folds, T = M = 49 rows of 128 x 4 B partial sums = 25 KiB.
    let g = Op::Conv {
        in_h: 7,
        in_w: 7,
        in_c: 512,
        out_c: 512,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_h: 1,
        pad_w: 1,
        groups: 1,
    }
    .lower(1)
    .unwrap();
    let mut s = preset("tpu-v1-like-ws-128x128");
    // With double-buffered weights (the preset) only the first fold's 128-cycle load shows.
    let prefetched = Accelerator::new(&s).layer(&g).unwrap();
    assert_eq!(
        prefetched.compute_cycles,
        36 * 4 * (49 + 126) + 4 * 4608 + 36 * 512 - 4 * 4608 + 128
    );
    s.stationary_double_buffered = false;
    let big = Accelerator::new(&s).layer(&g).unwrap();
    assert_eq!(big.temporal_chunks, 1);
    assert_eq!(
        big.compute_cycles,
        36 * 4 * (49 + 126) + 4 * 4608 + 36 * 512
    );
    // An 8 KiB ofmap buffer holds 4 KiB = 8 rows of partial sums: 7 chunks of T.
    s.ofmap_sram.size_kb = 8;
    let small = Accelerator::new(&s).layer(&g).unwrap();
    assert_eq!(small.temporal_chunks, 7);
    assert_eq!(small.folds, 7 * 36 * 4);
    assert_eq!(
        small.compute_cycles,
        36 * 4 * (49 + 7 * 126) + 7 * (4 * 4608 + 36 * 512)
    );
    // The 2.25 MiB of weights do not fit the 32 KiB working half: read once per chunk.
    assert_eq!(big.filter.dram_read_bytes, 4608.0 * 512.0);
    assert_eq!(small.filter.dram_read_bytes, 7.0 * 4608.0 * 512.0);
    assert_eq!(small.ofmap.dram_read_bytes, 0.0);
    assert!(small.total_cycles > big.total_cycles);
}

#[test]
fn report_round_trips_through_json() {
    let s = preset("eyeriss-like-32x32");
    let net = networks::builtin("bert_base").unwrap();
    let r = Accelerator::new(&s).report(&s, &net);
    assert!(r.feasible);
    let text = serde_json::to_string(&r).unwrap();
    let back: tessera_accel::NetworkReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back.layers.len(), net.layers.len());
    assert_eq!(
        back.totals.unwrap().total_cycles,
        r.totals.unwrap().total_cycles
    );
}

#[test]
fn scalesim_gemm_csv_equals_the_ron_layers() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../workloads/networks/scalesim"
    );
    let csv = tessera_accel::Network::load(std::path::Path::new(&format!(
        "{dir}/bert_base_layer_mnk.csv"
    )))
    .unwrap();
    let ron = networks::builtin("bert_base").unwrap();
    for df in Dataflow::ALL {
        let mut s = preset("tpu-v1-like-ws-128x128");
        s.dataflow = df;
        let acc = Accelerator::new(&s);
        for (csv_name, ron_name) in [
            ("q_proj", "enc0_q_proj"),
            ("out_proj", "enc0_out_proj"),
            ("ffn1", "enc0_ffn1"),
            ("ffn2", "enc0_ffn2"),
        ] {
            let a = csv.layers.iter().find(|l| l.name == csv_name).unwrap();
            let b = ron.layers.iter().find(|l| l.name == ron_name).unwrap();
            let pa = acc.layer(&a.op.lower(1).unwrap()).unwrap();
            let pb = acc.layer(&b.op.lower(1).unwrap()).unwrap();
            assert_eq!(pa, pb, "{df:?} {csv_name}");
        }
    }
    let alex =
        tessera_accel::Network::load(std::path::Path::new(&format!("{dir}/alexnet_conv.csv")))
            .unwrap();
    assert_eq!(alex.layers.len(), 8);
    // Conv1: (227 - 11) / 4 + 1 = 55; 55*55*96*11*11*3 = 105,415,200 MACs.
    assert_eq!(alex.layers[0].op.lower(1).unwrap().macs(), 105_415_200);
}

fn arb_spec() -> impl Strategy<Value = AccelSpec> {
    (
        (0u32..40, 0u32..40, 0usize..3, 0usize..5, 1usize..5),
        (0u32..300, 1u32..9, 0u32..300, 0u32..300),
        (0.0f64..80.0, 0u32..200),
    )
        .prop_map(
            |((rows, cols, df, wp, ap), (ik, banks, fk, ok), (bw, lat))| {
                let precs = [
                    Precision::Ternary,
                    Precision::Int2,
                    Precision::Int4,
                    Precision::Int8,
                    Precision::Int16,
                ];
                let mut s = AccelSpec::preset("edge-os-16x16").unwrap();
                s.rows = rows;
                s.cols = cols;
                s.dataflow = Dataflow::ALL[df];
                s.weight_precision = precs[wp];
                s.activation_precision = precs[ap];
                s.ifmap_sram = SramBuffer { size_kb: ik, banks };
                s.filter_sram = SramBuffer { size_kb: fk, banks };
                s.ofmap_sram = SramBuffer { size_kb: ok, banks };
                s.dram.bandwidth_bytes_per_cycle = bw;
                s.dram.latency_cycles = lat;
                s
            },
        )
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            1u32..40,
            1u32..9,
            1u32..5,
            1u32..6,
            1u32..4,
            0u32..3,
            1u32..4
        )
            .prop_map(|(h, c, oc, k, s, p, g)| Op::Conv {
                in_h: h,
                in_w: h + 1,
                in_c: c * g,
                out_c: oc * g,
                kernel_h: k,
                kernel_w: k,
                stride_h: s,
                stride_w: s,
                pad_h: p,
                pad_w: p,
                groups: g,
            }),
        (1u32..3000, 1u32..3000, 1u32..3000).prop_map(|(m, n, k)| Op::Gemm { m, n, k }),
        (1u32..600, 1u32..130, 1u32..17).prop_map(|(s, d, h)| Op::AttnScore {
            seq_len: s,
            head_dim: d,
            heads: h
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn any_design_and_layer_gives_a_result_or_a_reason(spec in arb_spec(), op in arb_op(), batch in 1u32..4) {
        let Ok(g) = op.lower(batch) else { return Ok(()); };
        let acc = Accelerator::new(&spec);
        match acc.layer(&g) {
            Ok(p) => {
                prop_assert_eq!(p.total_cycles, p.compute_cycles + p.stall_cycles);
                prop_assert!(p.utilisation > 0.0 && p.utilisation <= 1.0);
                prop_assert!(p.mapping_efficiency > 0.0 && p.mapping_efficiency <= 1.0);
                prop_assert_eq!(p.macs, g.macs());
                prop_assert!(p.energy.total_pj.is_finite() && p.energy.total_pj > 0.0);
                // Every distinct element crosses the DRAM link at least once.
                let min_bytes = (g.ifmap_elems + g.ofmap_elems) as f64 * g.groups as f64
                    * spec.activation_precision.storage_bits() / 8.0;
                prop_assert!(p.dram_bytes >= min_bytes - 1e-6);
                prop_assert!(p.roofline.achieved_macs_per_cycle <= acc.peak_macs_per_cycle() + 1e-9);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn output_stationary_picks_the_fold_order_that_moves_fewer_bytes() {
    // A = 4096 x 64 int8 (256 KiB) does not fit the 32 KiB working half of edge-os-16x16's
    // ifmap buffer; B = 64 x 256 (16 KiB) fits the filter half. Streaming A once per column
    // fold would move 16 x 256 KiB; keeping each 16 x 64 A tile while B streams moves A once.
    let acc = Accelerator::new(&preset("edge-os-16x16"));
    let p = acc
        .layer(
            &Op::Gemm {
                m: 4096,
                n: 256,
                k: 64,
            }
            .lower(1)
            .unwrap(),
        )
        .unwrap();
    assert_eq!(p.ifmap.dram_read_bytes, 262_144.0);
    assert_eq!(p.filter.dram_read_bytes, 16_384.0);
    // Both too big: B (64 x 8192 = 512 KiB) and A: the cheaper re-streaming wins.
    let q = acc
        .layer(
            &Op::Gemm {
                m: 4096,
                n: 8192,
                k: 64,
            }
            .lower(1)
            .unwrap(),
        )
        .unwrap();
    let a_restreamed = 512.0 * 262_144.0 + 524_288.0; // A once per column fold, B once
    let b_restreamed = 262_144.0 + 256.0 * 524_288.0; // A once, B once per row fold
    assert_eq!(
        q.ifmap.dram_read_bytes + q.filter.dram_read_bytes,
        f64::min(a_restreamed, b_restreamed)
    );
}

#[test]
fn hand_built_empty_shapes_are_refused_not_panics() {
    let acc = Accelerator::new(&preset("tpu-v1-like-ws-128x128"));
    let mut g = Op::Gemm { m: 8, n: 8, k: 8 }.lower(1).unwrap();
    g.m = 0;
    assert_eq!(acc.layer(&g), Err(Infeasible::EmptyLayer));
    assert_eq!(acc.totals(&[g]).unwrap_err(), (0, Infeasible::EmptyLayer));
    g.m = u64::MAX / 3;
    assert_eq!(acc.layer(&g), Err(Infeasible::TooLarge));
}

#[test]
fn round_u64_and_ceil_u64_equal_libm_then_cast() {
    use tessera_accel::model::{ceil_u64, round_u64};
    let edges = [
        0.0,
        -0.0,
        0.5,
        -0.5,
        0.49999999999999994,
        1.5,
        2.5,
        -0.7,
        4503599627370495.5,
        9007199254740993.0,
        1.8446744073709552e19,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
    ];
    for x in edges {
        assert_eq!(round_u64(x), x.round() as u64, "{x:e}");
        assert_eq!(ceil_u64(x), x.ceil() as u64, "{x:e}");
    }
    proptest!(|(bits in any::<u64>(), small in 0.0f64..1e7)| {
        let x = f64::from_bits(bits);
        prop_assert_eq!(round_u64(x), x.round() as u64, "{:e}", x);
        prop_assert_eq!(round_u64(small), small.round() as u64, "{}", small);
        prop_assert_eq!(ceil_u64(x), x.ceil() as u64, "{:e}", x);
        prop_assert_eq!(ceil_u64(small), small.ceil() as u64, "{}", small);
    });
}
