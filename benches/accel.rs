//! Speed of the accelerator model: all of ResNet-50 on one design (the unit a co-search pays
//! per candidate), and one layer.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tessera_accel::model::Accelerator;
use tessera_accel::networks;
use tessera_arch::Spec;
use tessera_arch::accel::AccelSpec;

fn resnet50(c: &mut Criterion) {
    let net = networks::builtin("resnet50").expect("built-in network");
    let shapes = net.lower().expect("ResNet-50 lowers");
    for preset in ["tpu-v1-like-ws-128x128", "edge-os-16x16"] {
        let spec = AccelSpec::preset(preset).expect("preset");
        let acc = Accelerator::new(&spec);
        c.bench_function(&format!("accel/resnet50_totals/{preset}"), |b| {
            b.iter(|| acc.totals(black_box(&shapes)).expect("feasible"))
        });
    }
    // Including spec derivation, as a search that builds a new design per candidate would.
    let spec = AccelSpec::preset("tpu-v1-like-ws-128x128").expect("preset");
    c.bench_function("accel/resnet50_new_design_and_totals", |b| {
        b.iter(|| {
            Accelerator::new(black_box(&spec))
                .totals(black_box(&shapes))
                .expect("feasible")
        })
    });
    let acc = Accelerator::new(&spec);
    c.bench_function("accel/resnet50_full_report", |b| {
        b.iter(|| acc.report(black_box(&spec), black_box(&net)))
    });
}

criterion_group!(benches, resnet50);
criterion_main!(benches);
