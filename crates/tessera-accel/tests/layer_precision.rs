//! Per-layer precisions: absent means the accelerator's; narrower operands move fewer bytes
//! and cost less MAC energy; wider than the datapath is infeasible.

use tessera_accel::{Accelerator, Infeasible, LayerPrecision, Network};
use tessera_arch::Spec;
use tessera_arch::accel::{AccelSpec, Precision};

fn net(precision: &str) -> Network {
    let text = format!(
        "(format_version: 1, name: \"p\", layers: [(name: \"c\", op: Conv(in_h: 16, in_w: 16, in_c: 32, out_c: 64, kernel_h: 3, kernel_w: 3, pad_h: 1, pad_w: 1){precision})])"
    );
    Network::from_ron(&text, "p.ron").unwrap()
}

#[test]
fn layer_precision_changes_traffic_and_mac_energy() {
    let spec = AccelSpec::preset("edge-os-16x16").unwrap();
    assert_eq!(spec.weight_precision, Precision::Int8);
    let acc = Accelerator::new(&spec);
    let base = acc.totals(&net("").lower().unwrap()).unwrap();
    let same = acc
        .totals(
            &net(", precision: (weight: Int8, activation: Int8)")
                .lower()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(base, same, "the spec's own precision changes nothing");

    let w4 = acc
        .totals(
            &net(", precision: (weight: Int4, activation: Int8)")
                .lower()
                .unwrap(),
        )
        .unwrap();
    assert!((w4.filter.dram_read_bytes * 2.0 - base.filter.dram_read_bytes).abs() < 1e-9);
    assert_eq!(w4.ifmap.dram_read_bytes, base.ifmap.dram_read_bytes);
    // Multiply energy scales with wa*wb (Horowitz scaling): 4x8 is half of 8x8.
    let t = spec.tech;
    let mac8 = t.mult_8b_pj + t.add_32b_pj * 32.0 / 32.0;
    let mac4 = t.mult_8b_pj * 0.5 + t.add_32b_pj * 28.0 / 32.0;
    let macs = base.macs as f64;
    assert!((base.energy.mac_pj - macs * mac8).abs() < 1e-6 * base.energy.mac_pj);
    assert!((w4.energy.mac_pj - macs * mac4).abs() < 1e-6 * w4.energy.mac_pj);

    let tern = acc
        .totals(
            &net(", precision: (weight: Ternary, activation: Int8)")
                .lower()
                .unwrap(),
        )
        .unwrap();
    assert!(tern.energy.mac_pj < w4.energy.mac_pj);
    assert!(tern.filter.dram_read_bytes < w4.filter.dram_read_bytes);

    let wide = net(", precision: (weight: Int16, activation: Int8)")
        .lower()
        .unwrap();
    assert_eq!(
        acc.totals(&wide).unwrap_err().1,
        Infeasible::PrecisionTooWide {
            operand: tessera_accel::model::Operand::Filter,
            layer_bits: 16,
            datapath_bits: 8
        }
    );
    let rep = acc.report(
        &spec,
        &net(", precision: (weight: Int16, activation: Int8)"),
    );
    assert!(!rep.feasible);
    assert!(rep.infeasible.unwrap().contains("16-bit"));
}

#[test]
fn ternary_activations_are_refused_and_precision_round_trips() {
    let text = "(format_version: 1, name: \"p\", layers: [(name: \"f\", op: Fc(in_features: 4, out_features: 2), precision: (weight: Int8, activation: Ternary))])";
    let e = Network::from_ron(text, "t.ron").unwrap_err().to_string();
    assert!(e.contains("only weights may be ternary"), "{e}");
    let n = net(", precision: (weight: Ternary, activation: Int4)");
    assert_eq!(
        n.layers[0].precision,
        Some(LayerPrecision {
            weight: Precision::Ternary,
            activation: Precision::Int4
        })
    );
    let json = serde_json::to_string(&n).unwrap();
    let back: Network = serde_json::from_str(&json).unwrap();
    assert_eq!(back, n);
    // A layer without precision serialises without the field (old readers still work).
    assert!(
        !serde_json::to_string(&net(""))
            .unwrap()
            .contains("precision")
    );
}
