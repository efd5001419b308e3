//! `tessera dram sim|trng|puf|hammer|channel|nist|pid`: the DRAM model and the
//! Processing-in-DRAM security studies, driven by RON configs (see `workloads/dram/`).

use super::{Outcome, bad_input, print_json};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// True random numbers from multi-row activation (QUAC, SiMRA) or reduced tRCD
    /// (D-RaNGe): entropy, throughput from command timing, optional NIST battery.
    Trng {
        /// Study config (RON), e.g. workloads/dram/trng-quac.ron.
        config: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Write the post-processed bits (ASCII 0/1) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// PUF over a population of simulated chips: intra/inter Jaccard and Hamming distance,
    /// uniformity, bit-aliasing, evaluation latency.
    Puf {
        /// Study config (RON), e.g. workloads/dram/puf-simra.ron.
        config: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read disturbance (RowHammer, RowPress, CoMRA/SiMRA) with optional mitigation; a
    /// `compare` list runs variants side by side (e.g. tracker bypasses: escaped flips,
    /// preventive refreshes, overhead).
    Hammer {
        /// Study config (RON), e.g. workloads/dram/hammer-double.ron.
        config: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Row-buffer timing covert channel: latency histograms, raw rate, BER, capacity.
    Channel {
        /// Study config (RON), e.g. workloads/dram/channel-rowbuffer.ron.
        config: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a user PiD program (RON: commands with explicit gaps in ns, initial row data):
    /// command trace with every timing violation marked, multi-row activations,
    /// reduced-tRCD reads, and the cell-level outcome (read data, final row contents).
    Pid {
        /// Program file, e.g. workloads/dram/pid-quac-maj.ron.
        program: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// NIST SP 800-22 battery (15 tests, NIST STS 2.1.2's parameters) and SP 800-90B MCV
    /// min-entropy on a bit file. One sequence is judged by a battery-level rule with a stated
    /// false-alarm rate; with --sequence-bits the file is split into sequences judged as
    /// SP 800-22 section 4 does (proportion passing and uniformity of P-values per test).
    /// Exit code 0 pass, 1 fail, 2 bad input.
    Nist(Box<NistArgs>),
}

/// Options of `tessera dram nist`.
#[derive(clap::Args)]
pub struct NistArgs {
    /// Bit file: ASCII '0'/'1' text (whitespace and newlines ignored) or raw binary (8 bits
    /// per byte, most significant first).
    file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// How to read FILE: `ascii`, `binary`, or `auto` (ascii when every byte is '0', '1' or
    /// whitespace, binary when the bytes are not 0/1 text; a 0/1 text file with stray
    /// characters is refused). The report says which format was used.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Split the input into sequences of N bits and judge them as SP 800-22 section 4 does:
    /// per test, the proportion of sequences passing against NIST's interval and, from 55
    /// sequences, the uniformity of the P-values. Without it the whole file is one sequence.
    /// Trailing bits that do not fill a sequence are ignored (the report counts them).
    #[arg(long, value_name = "N")]
    sequence_bits: Option<usize>,
    /// Significance level of each P-value (SP 800-22: 0.01).
    #[arg(long, default_value_t = 0.01)]
    alpha: f64,
    /// Battery-level false-alarm budget, split over the 15 tests and their P-values
    /// (Bonferroni). Measured on random 10^6-bit sequences: 0.14 % fail at the default
    /// 0.001, 1.1 % at 0.01 (docs/pid-validation.md).
    #[arg(long, default_value_t = nist::DEFAULT_BATTERY_ALPHA)]
    battery_alpha: f64,
    /// Fail on any NIST flag (one sequence: a P-value below alpha; several: a proportion
    /// outside the section 4.2.1 interval or P-value_T < 0.0001), without the
    /// multiple-comparison correction. Random data fails most runs this way.
    #[arg(long, conflicts_with = "battery_alpha")]
    strict: bool,
    /// Frequency-within-a-block test: block length M (STS default; SP 800-22 2.2.7: M >= 20).
    #[arg(long, default_value_t = 128, value_name = "M")]
    block_frequency_m: usize,
    /// Non-overlapping template test: template length m (STS default; 2..=21, SP 800-22
    /// 2.7.7 recommends 9 or 10).
    #[arg(long, default_value_t = 9, value_name = "m")]
    non_overlapping_m: usize,
    /// Overlapping template test: template length m, in blocks of 1032 bits (STS default;
    /// 2..=21, SP 800-22 2.8.7 recommends 9 or 10).
    #[arg(long, default_value_t = 9, value_name = "m")]
    overlapping_m: usize,
    /// Approximate entropy test: block length m [default: 10 as in STS, lowered to
    /// floor(log2 n) - 6 for short sequences; a value given must meet SP 800-22 2.12.7,
    /// m < floor(log2 n) - 5].
    #[arg(long, value_name = "m")]
    apen_m: Option<usize>,
    /// Serial test: block length m [default: 16 as in STS, lowered to floor(log2 n) - 3 for
    /// short sequences; a value given must meet SP 800-22 2.11.7, m < floor(log2 n) - 2].
    #[arg(long, value_name = "m")]
    serial_m: Option<usize>,
    /// Linear complexity test: block length M (STS default; SP 800-22 2.10.7: 500..=5000).
    #[arg(long, default_value_t = 500, value_name = "M")]
    linear_complexity_m: usize,
    /// Maurer's universal test: block length L, with Q = 10 * 2^L initialisation blocks
    /// [default: from the sequence length by SP 800-22 2.9.7's table, as STS picks it;
    /// 6..=16].
    #[arg(long, value_name = "L")]
    universal_l: Option<usize>,
}

/// `--format` values.
#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Ascii,
    Binary,
    Auto,
}

// Every line of a report first clears the spinner shown while the model runs.
macro_rules! println {
    ($($t:tt)*) => {{
        super::stop_spinner();
        std::println!($($t)*);
    }};
}

pub fn run(cmd: DramCmd) -> anyhow::Result<Outcome> {
    let what = match &cmd {
        DramCmd::Sim { config, .. }
        | DramCmd::Trng { config, .. }
        | DramCmd::Puf { config, .. }
        | DramCmd::Hammer { config, .. }
        | DramCmd::Channel { config, .. } => config.display().to_string(),
        DramCmd::Pid { program, .. } => program.display().to_string(),
        DramCmd::Nist(a) => a.file.display().to_string(),
    };
    super::start_spinner(format!("dram: running {what}"));
    match cmd {
        DramCmd::Sim { config, json } => sim(&config, json),
        DramCmd::Trng { config, json, out } => trng(&config, json, out.as_deref()),
        DramCmd::Puf { config, json } => puf(&config, json),
        DramCmd::Hammer { config, json } => hammer(&config, json),
        DramCmd::Channel { config, json } => channel(&config, json),
        DramCmd::Nist(args) => nist_cmd(&args),
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
            "timing violations per iteration: {}",
            counts(&report.violations_per_iteration)
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
        Some(n) if n.verdict == nist::Verdict::Fail => Outcome::CheckFailed,
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
            "evaluation latency {:.1} ns ({} commands), violations {}",
            r.eval_latency_ns,
            r.eval_commands,
            counts(&r.violations_per_eval)
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
        println!("timing violations: {}", counts(&r.timing_violations));
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

/// Shortest readable form of a small probability.
fn prob(p: f64) -> String {
    if p.is_nan() {
        "-".into()
    } else if p == 0.0 {
        "0".into()
    } else if p >= 1e-3 {
        format!("{p:.6}")
    } else {
        format!("{p:.2e}")
    }
}

fn print_nist(r: &nist::NistReport) {
    let u = &r.params;
    let seqs = if r.sequences == 1 {
        format!("1 sequence of {} bits", r.sequence_bits)
    } else {
        format!("{} sequences of {} bits", r.sequences, r.sequence_bits)
    };
    println!(
        "NIST SP 800-22 rev. 1a on {seqs} ({} ones of {}), alpha {}; SP 800-90B MCV \
         min-entropy {:.4} bit/bit",
        r.ones, r.bits, r.alpha, r.min_entropy_mcv_per_bit
    );
    if r.ignored_bits > 0 {
        println!(
            "  {} trailing bits do not fill a sequence and are not judged",
            r.ignored_bits
        );
    }
    println!(
        "parameters: block frequency M {}, non-overlapping template m {} ({} templates), \
         overlapping template m {}, approximate entropy m {}, serial m {}, linear complexity \
         M {}, universal {}, random excursions J >= {}",
        u.block_frequency_m,
        u.non_overlapping_m,
        u.non_overlapping_templates,
        u.overlapping_m,
        u.approximate_entropy_m,
        u.serial_m,
        u.linear_complexity_m,
        match (u.universal_l, u.universal_q) {
            (Some(l), Some(q)) => format!("L {l} Q {q}"),
            _ => "not applicable".into(),
        },
        u.excursion_min_cycles
    );
    println!("rule: {}", r.rule_text);
    let status = |t: &nist::TestResult| match t.verdict {
        nist::TestVerdict::Pass => "pass",
        nist::TestVerdict::Fail => "FAIL",
        nist::TestVerdict::NotApplicable => "n/a",
    };
    if r.sequences == 1 {
        println!(
            "  {:<24} {:<7} {:>10} {:>10} {:>9}",
            "test", "verdict", "min P", "threshold", "P < alpha"
        );
        for t in &r.tests {
            if let Some(w) = &t.skipped {
                println!("  {:<24} {:<7} ({w})", t.name, status(t));
                continue;
            }
            let below = t.p_values.iter().filter(|&&p| p < r.alpha).count();
            println!(
                "  {:<24} {:<7} {:>10} {:>10} {:>9}",
                t.name,
                status(t),
                prob(t.min_p()),
                prob(t.threshold),
                format!("{below}/{}", t.p_values.len())
            );
            for c in t.checks.iter().filter(|c| c.rejected) {
                println!(
                    "    {}P = {} < {}",
                    if c.label.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", c.label)
                    },
                    prob(c.p_value.unwrap_or(f64::NAN)),
                    prob(t.threshold)
                );
            }
        }
    } else {
        println!(
            "  {:<24} {:<7} {:>6} {:>25} {:>17} {:>10} {:>6}",
            "test", "verdict", "checks", "lowest proportion", "NIST interval", "min P_T", "flags"
        );
        for t in &r.tests {
            if let Some(w) = &t.skipped {
                println!("  {:<24} {:<7} ({w})", t.name, status(t));
                continue;
            }
            let Some(worst) = t.worst_check() else {
                continue;
            };
            let min_pt = t.min_uniformity_p();
            let flags = t.nist_flags();
            println!(
                "  {:<24} {:<7} {:>6} {:>25} {:>17} {:>10} {:>6}",
                t.name,
                status(t),
                t.checks.len(),
                format!(
                    "{:.4} ({}/{}){}",
                    worst.proportion,
                    worst.passing,
                    worst.sequences,
                    if worst.label.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", worst.label)
                    }
                ),
                format!("[{:.4}, {:.4}]", worst.interval[0], worst.interval[1]),
                prob(min_pt),
                flags
            );
            if t.not_applicable > 0 {
                println!(
                    "    not applicable to {} of {} sequences (left out of its proportions)",
                    t.not_applicable, r.sequences
                );
            }
            for c in t.checks.iter().filter(|c| c.rejected) {
                println!(
                    "    {}: {}/{} passing (binomial probability {}), P-value_T {} (threshold {})",
                    if c.label.is_empty() {
                        "the check"
                    } else {
                        &c.label
                    },
                    c.passing,
                    c.sequences,
                    prob(c.binomial_p.unwrap_or(f64::NAN)),
                    prob(c.uniformity_p.unwrap_or(f64::NAN)),
                    prob(t.threshold)
                );
            }
        }
        if r.sequences < nist::UNIFORMITY_MIN_SEQUENCES {
            println!(
                "  uniformity of P-values not assessed: SP 800-22 4.2.2 needs at least {} sequences",
                nist::UNIFORMITY_MIN_SEQUENCES
            );
        }
    }
    println!(
        "NIST flags: {} (a random source raises {:.2} on average with these checks)",
        r.nist_flags, r.expected_flags
    );
    println!(
        "verdict: {} ({} tests pass, {} fail, {} not applicable)",
        match r.verdict {
            nist::Verdict::Pass => "PASS",
            nist::Verdict::Fail => "FAIL",
        },
        r.passed,
        r.failed,
        r.skipped
    );
}

fn nist_cmd(a: &NistArgs) -> anyhow::Result<Outcome> {
    let path = &a.file;
    let data = std::fs::read(path)
        .map_err(|e| bad_input(format!("{}: cannot read: {e}", path.display())))?;
    let format = match a.format {
        FormatArg::Ascii => nist::BitFormat::Ascii,
        FormatArg::Binary => nist::BitFormat::Binary,
        FormatArg::Auto => nist::BitFormat::Auto,
    };
    let (bits, choice) =
        nist::read_bits(&data, format, &path.display().to_string()).map_err(bad_input)?;
    let seq_bits = a.sequence_bits.unwrap_or(bits.len());
    if seq_bits < 100 {
        return Err(bad_input(format!(
            "{}: {} bits per sequence; the NIST tests need at least 100",
            path.display(),
            seq_bits
        )));
    }
    let params = nist::NistParams {
        block_frequency_m: a.block_frequency_m,
        non_overlapping_m: a.non_overlapping_m,
        overlapping_m: a.overlapping_m,
        approximate_entropy_m: a.apen_m,
        serial_m: a.serial_m,
        linear_complexity_m: a.linear_complexity_m,
        universal_l: a.universal_l,
    };
    let rule = if a.strict {
        nist::Rule::AnyFlag
    } else {
        nist::Rule::Corrected {
            battery_alpha: a.battery_alpha,
        }
    };
    let sequences = a.sequence_bits.map_or(1, |n| bits.len() / n.max(1));
    let bar = ProgressBar::with_draw_target(Some(sequences as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("nist [{elapsed_precise}] {bar:30} {pos}/{len} sequences")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if sequences < 2 {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let tick = || bar.inc(1);
    let r = nist::run_battery(&bits, a.sequence_bits, &params, a.alpha, rule, Some(&tick))
        .map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    bar.finish_and_clear();
    let format_name = match choice.format {
        nist::BitFormat::Ascii => "ascii",
        nist::BitFormat::Binary => "binary",
        nist::BitFormat::Auto => "auto",
    };
    if a.json {
        let mut v = serde_json::to_value(&r)?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "input".into(),
                serde_json::json!({
                    "file": path.display().to_string(),
                    "format": format_name,
                    "automatic": choice.automatic,
                    "reason": choice.reason,
                    "bits": bits.len(),
                }),
            );
        }
        print_json(&v)?;
    } else {
        println!(
            "input: {}, {} bits read as {format_name} ({}{})",
            path.display(),
            bits.len(),
            if choice.automatic { "auto: " } else { "" },
            choice.reason
        );
        print_nist(&r);
    }
    Ok(match r.verdict {
        nist::Verdict::Pass => Outcome::Ok,
        nist::Verdict::Fail => Outcome::CheckFailed,
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
                 opened rows {}",
                list(rows)
            ),
            tessera_dram::pid::PidEvent::ReducedTrcdRead { bank, row, trcd_ns } => {
                println!("reduced-tRCD read: bank {bank}, row {row}, {trcd_ns:.2} ns after ACT")
            }
            tessera_dram::pid::PidEvent::Activation { .. } => {}
        }
    }
    for rd in &r.reads {
        println!(
            "read #{} bank {} rows {} ({}): {}/{} ones, {} differ from stored, data {}",
            rd.index,
            rd.bank,
            list(&rd.rows),
            rd.kind,
            rd.ones,
            rd.bits,
            rd.differs_from_stored,
            rd.hex
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
        "{} of {} commands broke timing: {}; program time {:.2} ns",
        r.commands_with_violations,
        r.trace.len(),
        counts(&r.violations),
        r.total_ns
    );
    Ok(Outcome::Ok)
}

/// `tRCD x1, tRAS x2` (or `none`) for people, from (rule, count) pairs.
fn counts<N: std::fmt::Display>(v: &[(String, N)]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|(rule, n)| format!("{rule} x{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1, 2, 3` for people.
fn list<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
