//! Runs the shipped `workloads/dram/*.ron` studies in release mode and prints the figures
//! that docs/pid-validation.md compares with published results. Same library calls as
//! `tessera dram trng|puf|hammer|channel CONFIG`.
//! `cargo run --release -p tessera-dram --example pid_validation`
//! (This example prints; the library does not.)

use std::path::Path;
use tessera_dram::config::{self, ChannelFile, HammerFile, PufFile, TrngFile};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../workloads/dram"))
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let want = |n: &str| only.is_empty() || only.iter().any(|o| n.contains(o.as_str()));
    for name in ["trng-quac.ron", "trng-simra.ron", "trng-drange.ron"] {
        if !want(name) {
            continue;
        }
        let p = root().join(name);
        let f: TrngFile = config::load(&p).expect("config");
        let spec = config::load_spec(&p, &f.spec).expect("spec");
        let (r, bits) = tessera_dram::trng::TrngModel::new(&spec, &f.trng)
            .expect("model")
            .run();
        println!(
            "{name}: rows {} | high-entropy bitlines {} / {} | mean H {:.4} | blocks {} | out/iter {} | iter {:.1} ns | bank {:.3} Gb/s | channel ({} banks) {:.3} Gb/s | violations {:?}",
            r.rows_activated,
            r.high_entropy_bitlines,
            r.bitlines,
            r.mean_entropy_per_bitline,
            r.selected_blocks,
            r.output_bits_per_iteration,
            r.iteration_ns_one_bank,
            r.throughput_gbps_per_bank,
            r.banks,
            r.throughput_gbps_per_channel,
            r.violations_per_iteration
        );
        if f.nist && !bits.is_empty() {
            let n = tessera_dram::nist::run_all(&bits, 0.01);
            println!(
                "  NIST on {} output bits: {} passed, {} failed, {} skipped; MCV min-entropy {:.4}",
                n.bits, n.passed, n.failed, n.skipped, n.min_entropy_mcv_per_bit
            );
            for t in &n.tests {
                let minp = t.p_values.iter().copied().fold(f64::INFINITY, f64::min);
                println!(
                    "    {:<24} pass={} minP={minp:.4} skipped={:?}",
                    t.name,
                    t.passed(0.01),
                    t.skipped
                );
            }
        }
    }
    for name in ["puf-simra.ron", "puf-latency.ron"] {
        if !want(name) {
            continue;
        }
        let p = root().join(name);
        let f: PufFile = config::load(&p).expect("config");
        let spec = config::load_spec(&p, &f.spec).expect("spec");
        let r = tessera_dram::puf::run(&spec, &f.puf).expect("puf");
        println!(
            "{name}: bits {} | intra J {:?} | inter J {:.4} FHD {:.4} | uniformity {:.4} | aliasing {:.4}±{:.4} | eval {:.1} ns ({} cmds)",
            r.signature_bits,
            r.intra
                .iter()
                .map(|(t, j, h)| (
                    *t,
                    (j.mean * 1e4).round() / 1e4,
                    (h.mean * 1e4).round() / 1e4
                ))
                .collect::<Vec<_>>(),
            r.inter_jaccard.mean,
            r.inter_fhd.mean,
            r.uniformity.mean,
            r.bit_aliasing_mean,
            r.bit_aliasing_std,
            r.eval_latency_ns,
            r.eval_commands
        );
    }
    for name in [
        "hammer-double.ron",
        "hammer-rowpress.ron",
        "hammer-simra.ron",
        "hammer-simra-bypass.ron",
        "hammer-para.ron",
    ] {
        if !want(name) {
            continue;
        }
        let p = root().join(name);
        let f: HammerFile = config::load(&p).expect("config");
        let spec = config::load_spec(&p, &f.spec).expect("spec");
        let r = tessera_dram::disturb::run(&spec, &f.hammer).expect("hammer");
        if name == "hammer-simra-bypass.ron" {
            let mut aware = f.hammer.clone();
            aware.tracker_sees_all_rows = true;
            let a = tessera_dram::disturb::run(&spec, &aware).expect("hammer");
            let mut none = f.hammer.clone();
            none.mitigation = None;
            let o = tessera_dram::disturb::run(&spec, &none).expect("hammer");
            println!(
                "  same attack: no mitigation {} flips; tracker sees all rows: {} flips, {} preventive refreshes, overhead {:.4}",
                o.flips_total, a.flips_total, a.preventive_refreshes, a.mitigation_overhead
            );
        }
        println!(
            "{name}: victim {} HC_first {} | HC_first min {} mean {:.0} | D/iter {:.3} | flips {} rows {} (1->0 {}, 0->1 {}) by dist {:?} words {:?} | {:?} prev {} ovh {:.4} | {:.2} ms | viol {:?}",
            r.victim_row,
            r.victim_hc_first,
            r.hc_first_min,
            r.hc_first_mean,
            r.disturbance_per_iteration,
            r.flips_total,
            r.rows_flipped,
            r.flips_1_to_0,
            r.flips_0_to_1,
            r.flips_by_distance,
            r.words_with_flips,
            r.mitigation,
            r.preventive_refreshes,
            r.mitigation_overhead,
            r.attack_time_ms,
            r.timing_violations
        );
    }
    for name in ["channel-rowbuffer.ron", "channel-pud.ron"] {
        if !want(name) {
            continue;
        }
        let p = root().join(name);
        let f: ChannelFile = config::load(&p).expect("config");
        let spec = config::load_spec(&p, &f.spec).expect("spec");
        let r = tessera_dram::channel::run(&spec, &f.channel).expect("channel");
        println!(
            "{name}: slot {} ns raw {:.2} Mb/s BER {:.4} cap {:.2} Mb/s | lat0 {:.1} lat1 {:.1} | sweep {:?}",
            r.slot_ns,
            r.raw_rate_mbps,
            r.bit_error_rate,
            r.capacity_mbps,
            r.mean_latency_zero_cycles,
            r.mean_latency_one_cycles,
            r.sweep
        );
    }
}
