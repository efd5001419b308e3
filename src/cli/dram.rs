//! `tessera dram sim|trng|puf|hammer|channel|nist|pid`: the DRAM model and the
//! Processing-in-DRAM security studies, driven by RON configs (see `workloads/dram/`).

use super::{Outcome, bad_input, print_json};
use std::path::{Path, PathBuf};
use tessera_dram::config::{
    self, ChannelFile, HammerFile, PidFile, PufFile, SimFile, TrngFile, Workload,
};
use tessera_dram::trace::{SyntheticTrace, parse_trace};
use tessera_dram::{MemorySystem, nist};

#[derive(clap::Subcommand)]
pub enum DramCmd {
    /// Run a memory trace (Ramulator / DRAMsim3 format) or a synthetic stream through the
    /// FR-FCFS controller: bandwidth, latency distribution, row-buffer hit rate, energy.
    Sim {
        /// Experiment file (RON), e.g. workloads/dram/sim-random.ron.
        config: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// True random numbers from multi-row activation (QUAC, SiMRA) or reduced tRCD
    /// (D-RaNGe): entropy, throughput from command timing, optional NIST battery.
    Trng {
        config: PathBuf,
        #[arg(long)]
        json: bool,
        /// Write the post-processed bits (ASCII 0/1) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// PUF over a population of simulated chips: intra/inter Jaccard and Hamming distance,
    /// uniformity, bit-aliasing, evaluation latency.
    Puf {
        config: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Read disturbance (RowHammer, RowPress, CoMRA/SiMRA) with optional mitigation; a
    /// `compare` list runs variants side by side (e.g. tracker bypasses: escaped flips,
    /// preventive refreshes, overhead).
    Hammer {
        config: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Row-buffer timing covert channel: latency histograms, raw rate, BER, capacity.
    Channel {
        config: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Run a user PiD program (RON: commands with explicit gaps in ns, initial row data):
    /// command trace with every timing violation marked, multi-row activations,
    /// reduced-tRCD reads, and the cell-level outcome (read data, final row contents).
    Pid {
        /// Program file, e.g. workloads/dram/pid-quac-maj.ron.
        program: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// NIST SP 800-22 battery and SP 800-90B MCV min-entropy on a bit file (ASCII 0/1 or
    /// binary). Exit code 1 when a test fails.
    Nist {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// Significance level.
        #[arg(long, default_value_t = 0.01)]
        alpha: f64,
    },
}

pub fn run(cmd: DramCmd) -> anyhow::Result<Outcome> {
    match cmd {
        DramCmd::Sim { config, json } => sim(&config, json),
        DramCmd::Trng { config, json, out } => trng(&config, json, out.as_deref()),
        DramCmd::Puf { config, json } => puf(&config, json),
        DramCmd::Hammer { config, json } => hammer(&config, json),
        DramCmd::Channel { config, json } => channel(&config, json),
        DramCmd::Nist { file, json, alpha } => nist_cmd(&file, json, alpha),
        DramCmd::Pid { program, json } => pid(&program, json),
    }
}

fn sim(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let f: SimFile = config::load(path).map_err(bad_input)?;
    let spec = config::load_spec(path, &f.spec).map_err(bad_input)?;
    let sys = MemorySystem::new(&spec, &f.controller)
        .map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    let report = match &f.workload {
        Workload::Trace { path: t, format } => {
            let tp = config::resolve(path, t);
            let text = std::fs::read_to_string(&tp)
                .map_err(|e| bad_input(format!("{}: cannot read trace: {e}", tp.display())))?;
            let reqs = parse_trace(&text, *format, &tp.display().to_string()).map_err(bad_input)?;
            sys.run(reqs)
        }
        Workload::Synthetic {
            pattern,
            requests,
            read_fraction,
            seed,
        } => {
            if !(0.0..=1.0).contains(read_fraction) {
                return Err(bad_input(format!(
                    "{}: read_fraction {read_fraction} must be in [0, 1]",
                    path.display()
                )));
            }
            sys.run(SyntheticTrace::new(
                &spec,
                *pattern,
                *requests,
                *read_fraction,
                *seed,
            ))
        }
    };
    if json {
        print_json(&report)?;
    } else {
        let tck = spec.tck_ns();
        println!("spec {}  policy {:?}", report.spec, report.page_policy);
        println!(
            "requests {} ({} reads, {} writes) in {} cycles ({:.1} us)",
            report.requests,
            report.reads,
            report.writes,
            report.cycles,
            report.time_ns / 1000.0
        );
        println!(
            "bandwidth {:.2} GB/s of {:.2} GB/s peak",
            report.bandwidth_gbs, report.peak_bandwidth_gbs
        );
        println!(
            "row buffer: hit rate {:.3} (hits {}, misses {}, conflicts {})",
            report.row_hit_rate, report.row_hits, report.row_misses, report.row_conflicts
        );
        println!(
            "latency cycles: mean {:.1}, p50 {}, p90 {}, p99 {}, max {} (p50 {:.1} ns)",
            report.latency_mean_cycles,
            report.latency_p50_cycles,
            report.latency_p90_cycles,
            report.latency_p99_cycles,
            report.latency_max_cycles,
            report.latency_p50_cycles as f64 * tck
        );
        let e = &report.energy;
        println!(
            "energy {:.1} nJ (act {:.1}, rd {:.1}, wr {:.1}, ref {:.1}, background {:.1})",
            e.total_pj / 1e3,
            e.activate_pj / 1e3,
            e.read_pj / 1e3,
            e.write_pj / 1e3,
            e.refresh_pj / 1e3,
            e.background_pj / 1e3
        );
    }
    Ok(Outcome::Ok)
}

fn trng(path: &Path, json: bool, out: Option<&Path>) -> anyhow::Result<Outcome> {
    let f: TrngFile = config::load(path).map_err(bad_input)?;
    let spec = config::load_spec(path, &f.spec).map_err(bad_input)?;
    let model = tessera_dram::trng::TrngModel::new(&spec, &f.trng)
        .map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    let (report, bits) = model.run();
    let nist_report = (f.nist && !bits.is_empty()).then(|| nist::run_all(&bits, 0.01));
    if let Some(o) = out {
        let text: String = bits.iter().map(|&b| (b'0' + b) as char).collect();
        std::fs::write(o, text)?;
    }
    if json {
        print_json(&serde_json::json!({ "trng": report, "nist": nist_report }))?;
    } else {
        println!(
            "source {:?}, {} rows activated, seed {}",
            report.source, report.rows_activated, report.seed
        );
        println!(
            "bitlines {}: mean entropy {:.3} bit, {} with >= 0.9 bit (estimated)",
            report.bitlines, report.mean_entropy_per_bitline, report.high_entropy_bitlines
        );
        println!(
            "selected {} cache blocks: {:.0} bits entropy -> {:.0} SHA-256 output bits per iteration",
            report.selected_blocks,
            report.entropy_per_iteration_bits,
            report.output_bits_per_iteration
        );
        println!(
            "iteration {:.1} ns (one bank) -> {:.3} Gb/s per bank; {} banks interleaved {:.1} ns -> {:.3} Gb/s per channel, {:.3} Gb/s per module",
            report.iteration_ns_one_bank,
            report.throughput_gbps_per_bank,
            report.banks,
            report.iteration_ns_all_banks,
            report.throughput_gbps_per_channel,
            report.throughput_gbps_per_module
        );
        println!(
            "timing violations per iteration: {:?}",
            report.violations_per_iteration
        );
        println!("first commands of one iteration (cycle, command, bank, row, broken rules):");
        for e in report.sample_trace.iter().take(12) {
            println!(
                "  {:>6}  {:<3} bank {:>2} row {:>6}  {}",
                e.cycle,
                e.cmd.name(),
                e.bank,
                e.row,
                if e.violations.is_empty() {
                    "-".to_string()
                } else {
                    e.violations.join(", ")
                }
            );
        }
        if let Some(n) = &nist_report {
            print_nist(n);
        }
    }
    Ok(match nist_report {
        Some(n) if n.failed > 0 => Outcome::CheckFailed,
        _ => Outcome::Ok,
    })
}

fn puf(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let f: PufFile = config::load(path).map_err(bad_input)?;
    let spec = config::load_spec(path, &f.spec).map_err(bad_input)?;
    let r = tessera_dram::puf::run(&spec, &f.puf)
        .map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    if json {
        print_json(&r)?;
    } else {
        println!(
            "mechanism {:?}, {} chips, {} bits per signature",
            r.mechanism, r.chips, r.signature_bits
        );
        for (t, j, h) in &r.intra {
            println!(
                "intra @ {t:.0} C: Jaccard mean {:.3} (min {:.3}), FHD mean {:.4} (max {:.4})",
                j.mean, j.min, h.mean, h.max
            );
        }
        println!(
            "inter: Jaccard mean {:.3} (max {:.3}), FHD mean {:.4} (min {:.4})",
            r.inter_jaccard.mean, r.inter_jaccard.max, r.inter_fhd.mean, r.inter_fhd.min
        );
        println!(
            "uniformity {:.3}, bit-aliasing mean {:.3} (std {:.3})",
            r.uniformity.mean, r.bit_aliasing_mean, r.bit_aliasing_std
        );
        println!(
            "evaluation latency {:.1} ns ({} commands), violations {:?}",
            r.eval_latency_ns, r.eval_commands, r.violations_per_eval
        );
    }
    Ok(Outcome::Ok)
}

fn hammer(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let f: HammerFile = config::load(path).map_err(bad_input)?;
    let spec = config::load_spec(path, &f.spec).map_err(bad_input)?;
    if !f.compare.is_empty() {
        return hammer_compare(path, &spec, &f, json);
    }
    let r = tessera_dram::disturb::run(&spec, &f.hammer)
        .map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    if json {
        print_json(&r)?;
    } else {
        println!(
            "pattern {:?}, victim row {}, disturbance {:.3} per iteration, victim HC_first {}",
            r.pattern, r.victim_row, r.disturbance_per_iteration, r.victim_hc_first
        );
        println!(
            "HC_first over sampled rows: min {}, mean {:.0}; CDF {:?}",
            r.hc_first_min, r.hc_first_mean, r.hc_first_cdf
        );
        println!(
            "attack {:.3} ms, {} activations: {} flips in {} rows (1->0 {}, 0->1 {}), by distance {:?}, 64-bit words with 1/2/3+ flips {:?}",
            r.attack_time_ms,
            r.activations,
            r.flips_total,
            r.rows_flipped,
            r.flips_1_to_0,
            r.flips_0_to_1,
            r.flips_by_distance,
            r.words_with_flips
        );
        if let Some(m) = &r.mitigation {
            println!(
                "mitigation {m}: {} preventive refreshes, overhead {:.2} %",
                r.preventive_refreshes,
                100.0 * r.mitigation_overhead
            );
        }
        println!("timing violations: {:?}", r.timing_violations);
    }
    Ok(Outcome::Ok)
}

/// The base attack and its `compare` variants side by side: escaped flips, preventive
/// refreshes and overhead per mitigation and tracker view.
fn hammer_compare(
    path: &Path,
    spec: &tessera_arch::dram::DramSpec,
    f: &HammerFile,
    json: bool,
) -> anyhow::Result<Outcome> {
    let runs = tessera_dram::disturb::compare(spec, &f.hammer, &f.compare)
        .map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    if json {
        print_json(&serde_json::json!({ "runs": runs }))?;
        return Ok(Outcome::Ok);
    }
    let b = &runs[0].report;
    println!(
        "victim row {}, {} iterations, periodic refresh {}, seed {}",
        b.victim_row,
        f.hammer.hammer_count,
        if f.hammer.refresh { "on" } else { "off" },
        b.seed
    );
    println!(
        "{:<22} {:<29} {:<34} {:<12} {:>7} {:>6} {:>10} {:>9}",
        "run", "pattern", "mitigation", "tracker sees", "flips", "rows", "prev. ref", "overhead"
    );
    for r in &runs {
        let m = &r.report;
        println!(
            "{:<22} {:<29} {:<34} {:<12} {:>7} {:>6} {:>10} {:>8.2}%",
            r.label,
            format!("{:?}", m.pattern),
            m.mitigation.as_deref().unwrap_or("none"),
            if m.mitigation.is_none() {
                "-"
            } else if r.tracker_sees_all_rows {
                "all rows"
            } else {
                "ACT addr."
            },
            m.flips_total,
            m.rows_flipped,
            m.preventive_refreshes,
            100.0 * m.mitigation_overhead
        );
    }
    Ok(Outcome::Ok)
}

fn channel(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let f: ChannelFile = config::load(path).map_err(bad_input)?;
    let spec = config::load_spec(path, &f.spec).map_err(bad_input)?;
    let r = tessera_dram::channel::run(&spec, &f.channel)
        .map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    if json {
        print_json(&r)?;
    } else {
        println!("sender {:?}, slot {:.1} ns", r.sender, r.slot_ns);
        println!(
            "receiver latency: 0 -> mean {:.1} cycles, 1 -> mean {:.1} cycles, threshold {}",
            r.mean_latency_zero_cycles, r.mean_latency_one_cycles, r.threshold_cycles
        );
        println!(
            "raw {:.2} Mb/s, BER {:.4} ({} / {}), capacity {:.2} Mb/s",
            r.raw_rate_mbps, r.bit_error_rate, r.errors, r.bits, r.capacity_mbps
        );
        for (s, raw, ber, cap) in &r.sweep {
            println!("  slot {s:.0} ns: raw {raw:.2} Mb/s, BER {ber:.4}, capacity {cap:.2} Mb/s");
        }
    }
    Ok(Outcome::Ok)
}

fn print_nist(r: &nist::NistReport) {
    println!(
        "NIST SP 800-22 on {} bits ({} ones), alpha {}: {} passed, {} failed, {} skipped; SP 800-90B MCV min-entropy {:.4} bit/bit",
        r.bits, r.ones, r.alpha, r.passed, r.failed, r.skipped, r.min_entropy_mcv_per_bit
    );
    for t in &r.tests {
        let status = match (&t.skipped, t.passed(r.alpha)) {
            (Some(w), _) => format!("skipped ({w})"),
            (None, true) => "pass".to_string(),
            (None, false) => "FAIL".to_string(),
        };
        let minp = t.p_values.iter().copied().fold(f64::INFINITY, f64::min);
        if t.p_values.is_empty() {
            println!("  {:<24} {status}", t.name);
        } else {
            println!(
                "  {:<24} {status:<6} min P {minp:.6} ({} P-values)",
                t.name,
                t.p_values.len()
            );
        }
    }
}

fn nist_cmd(path: &Path, json: bool, alpha: f64) -> anyhow::Result<Outcome> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(bad_input(format!("--alpha {alpha} must be in (0, 1)")));
    }
    let data = std::fs::read(path)
        .map_err(|e| bad_input(format!("{}: cannot read: {e}", path.display())))?;
    let bits = nist::bits_from_file_bytes(&data);
    if bits.len() < 100 {
        return Err(bad_input(format!(
            "{}: {} bits; the NIST tests need at least 100",
            path.display(),
            bits.len()
        )));
    }
    let r = nist::run_all(&bits, alpha);
    if json {
        print_json(&r)?;
    } else {
        print_nist(&r);
    }
    Ok(if r.failed > 0 {
        Outcome::CheckFailed
    } else {
        Outcome::Ok
    })
}

fn pid(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let f: PidFile = config::load(path).map_err(bad_input)?;
    let spec = config::load_spec(path, &f.spec).map_err(bad_input)?;
    let r = tessera_dram::program::run(&spec, &f.program)
        .map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    if json {
        print_json(&r)?;
        return Ok(Outcome::Ok);
    }
    println!(
        "program on {} (tCK {:.3} ns), {} bits examined per row, seed {}",
        r.spec, r.tck_ns, r.examined_bits_per_row, r.seed
    );
    println!(
        "{:>4} {:>7} {:>9} {:>8} {:<4} {:>4} {:>6}  broken rules",
        "#", "cycle", "time ns", "gap ns", "cmd", "bank", "row"
    );
    for e in &r.trace {
        let row = if e.cmd == tessera_dram::Cmd::Act {
            e.row.to_string()
        } else {
            "-".into()
        };
        let gap = match e.gap_ns_requested {
            Some(g) => format!("{g:.2}"),
            None => "legal".into(),
        };
        let broken = if e.violations.is_empty() {
            "-".to_string()
        } else {
            format!("!! {}", e.violations.join(", "))
        };
        println!(
            "{:>4} {:>7} {:>9.2} {:>8} {:<4} {:>4} {:>6}  {broken}",
            e.index,
            e.cycle,
            e.time_ns,
            gap,
            e.cmd.name(),
            e.bank,
            row
        );
    }
    for e in &r.events {
        match e {
            tessera_dram::pid::PidEvent::MultiRowActivation {
                bank,
                first,
                second,
                rows,
                cycle,
            } => println!(
                "multi-row activation at cycle {cycle}: bank {bank}, ACT {first} + ACT {second} \
                 opened rows {rows:?}"
            ),
            tessera_dram::pid::PidEvent::ReducedTrcdRead { bank, row, trcd_ns } => {
                println!("reduced-tRCD read: bank {bank}, row {row}, {trcd_ns:.2} ns after ACT")
            }
            tessera_dram::pid::PidEvent::Activation { .. } => {}
        }
    }
    for rd in &r.reads {
        println!(
            "read #{} bank {} rows {:?} ({}): {}/{} ones, {} differ from stored, data {}",
            rd.index, rd.bank, rd.rows, rd.kind, rd.ones, rd.bits, rd.differs_from_stored, rd.hex
        );
    }
    println!("rows after the program:");
    for s in &r.rows {
        println!(
            "  bank {} row {:>6}: {:>4}/{} ones  {}",
            s.bank, s.row, s.ones, s.bits, s.hex
        );
    }
    println!(
        "{} of {} commands broke timing: {:?}; program time {:.2} ns",
        r.commands_with_violations,
        r.trace.len(),
        r.violations,
        r.total_ns
    );
    Ok(Outcome::Ok)
}
