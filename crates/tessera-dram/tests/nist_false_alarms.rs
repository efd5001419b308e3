//! False alarms of the NIST SP 800-22 verdict on random data (ChaCha20 streams), one
//! sequence at a time and as one multi-sequence job (SP 800-22 section 4).
//!
//! The full check of the issue (100 streams of 10^6 bits) is `#[ignore]`d because the
//! spectral test's FFT runs unoptimised in a debug build (about 1.6 s per stream); run it with
//!
//! ```text
//! cargo test --release -p tessera-dram --test nist_false_alarms -- --ignored
//! ```
//!
//! (about 15 s on 2 cores; its result is recorded in docs/pid-validation.md). The always-on
//! test judges 20 shorter streams the same way.

use rand::{Rng, SeedableRng};
use tessera_dram::nist::{
    Battery, DEFAULT_BATTERY_ALPHA, Method, NistParams, NistReport, Rule, TestVerdict, Verdict,
    judge, run_battery,
};

/// `n` bits of ChaCha20 seeded with `seed` (64 bits per word, least significant first).
fn chacha_bits(seed: u64, n: usize) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut v = Vec::with_capacity(n + 64);
    while v.len() < n {
        let w = rng.next_u64();
        v.extend((0..64).map(|i| ((w >> i) & 1) as u8));
    }
    v.truncate(n);
    v
}

fn rule() -> Rule {
    Rule::Corrected {
        battery_alpha: DEFAULT_BATTERY_ALPHA,
    }
}

/// Streams `0..count` judged one by one, and the seeds that failed.
fn one_by_one(count: u64, n: usize) -> (Vec<NistReport>, Vec<u64>) {
    let reports: Vec<NistReport> = (0..count)
        .map(|s| {
            run_battery(
                &chacha_bits(s, n),
                None,
                &NistParams::default(),
                0.01,
                rule(),
                None,
            )
            .expect("valid parameters")
        })
        .collect();
    let failed = reports
        .iter()
        .zip(0..)
        .filter(|(r, _)| r.verdict == Verdict::Fail)
        .map(|(_, s)| s)
        .collect();
    (reports, failed)
}

fn describe_failures(reports: &[NistReport], failed: &[u64]) -> String {
    failed
        .iter()
        .map(|&s| {
            let r = &reports[s as usize];
            let tests: Vec<String> = r
                .tests
                .iter()
                .filter(|t| t.verdict == TestVerdict::Fail)
                .map(|t| format!("{} min P {:e}", t.name, t.min_p()))
                .collect();
            format!("seed {s}: {}", tests.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The issue's check: 100 ChaCha20 streams of 10^6 bits judged one by one give at most one
/// failure (the default rule's false-alarm rate, measured at 0.14 % on 10^4 other streams,
/// must stay under 1 %), and the same 100 streams as one job of 100 sequences pass.
#[test]
#[ignore = "100 x 10^6 bits: run in release (see the module documentation)"]
fn hundred_chacha_streams_one_by_one_and_as_one_job() {
    let n = 1_000_000;
    let (reports, failed) = one_by_one(100, n);
    assert!(
        failed.len() <= 1,
        "{} of 100 random streams failed: {}",
        failed.len(),
        describe_failures(&reports, &failed)
    );
    let all: Vec<u8> = (0..100).flat_map(|s| chacha_bits(s, n)).collect();
    let job = run_battery(&all, Some(n), &NistParams::default(), 0.01, rule(), None).unwrap();
    assert_eq!((job.method, job.sequences), (Method::MultiSequence, 100));
    assert_eq!(job.verdict, Verdict::Pass, "{:#?}", failing_checks(&job));
    // With 100 sequences every check has a uniformity P-value_T (SP 800-22 4.2.2).
    let t = &job.tests[0];
    assert!(t.checks[0].uniformity_p.is_some());
    // The random excursion tests count only the sequences they applied to.
    let re = &job.tests[13];
    assert_eq!(re.checks[0].sequences + re.not_applicable, 100);
}

fn failing_checks(r: &NistReport) -> Vec<String> {
    r.tests
        .iter()
        .flat_map(|t| {
            t.checks.iter().filter(|c| c.rejected).map(move |c| {
                format!(
                    "{} {}: {}/{} binomial {:?} P_T {:?}",
                    t.name, c.label, c.passing, c.sequences, c.binomial_p, c.uniformity_p
                )
            })
        })
        .collect()
}

/// Always-on version: 20 ChaCha20 streams of 2^19 bits (every test applies, the random
/// excursion tests to about half of the streams) judged one by one and as one job. At most
/// one failure: at a false-alarm rate of 1 %, two or more among 20 has probability 1.7 %
/// (0.04 % at the measured 0.14 %).
#[test]
fn twenty_short_chacha_streams_one_by_one_and_as_one_job() {
    let n = 1 << 19;
    let battery = Battery::new(&NistParams::default(), n).unwrap();
    let streams: Vec<Vec<u8>> = (1000..1020).map(|s| chacha_bits(s, n)).collect();
    // Run each stream once and judge the results both ways (`run_battery` is the same
    // `Battery::run` per sequence followed by `judge`).
    let raw: Vec<_> = streams.iter().map(|s| battery.run(s)).collect();
    let failed: Vec<usize> = raw
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            judge(
                std::slice::from_ref(*r),
                &battery,
                &streams[*i],
                0,
                0.01,
                rule(),
            )
            .verdict
                == Verdict::Fail
        })
        .map(|(i, _)| i)
        .collect();
    assert!(failed.len() <= 1, "streams {failed:?} failed");
    let all: Vec<u8> = streams.concat();
    let job = judge(&raw, &battery, &all, 0, 0.01, rule());
    assert_eq!((job.sequences, job.bits), (20, 20 * n));
    assert_eq!(job.verdict, Verdict::Pass, "{:#?}", failing_checks(&job));
    assert_eq!(job.skipped, 0, "every test applies to some stream");
}

/// A 53 %-ones stream and a periodic stream fail, alone (2^17 bits) and as jobs of 20
/// sequences of 2^14 bits.
#[test]
fn biased_and_periodic_streams_fail_alone_and_as_jobs() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(53);
    let n = 1 << 17;
    let biased: Vec<u8> = (0..3 * n)
        .map(|_| u8::from(rng.next_u32() % 100 < 53))
        .collect();
    let pattern: Vec<u8> = (0..64).map(|_| (rng.next_u32() & 1) as u8).collect();
    let periodic: Vec<u8> = (0..3 * n).map(|i| pattern[i % 64]).collect();
    let p = NistParams::default();
    for (name, bits, failing) in [
        ("53 % ones", &biased, "Frequency"),
        ("periodic", &periodic, "Serial"),
    ] {
        let one = run_battery(&bits[..n], None, &p, 0.01, rule(), None).unwrap();
        let job = run_battery(&bits[..20 << 14], Some(1 << 14), &p, 0.01, rule(), None).unwrap();
        assert_eq!(job.sequences, 20);
        for r in [&one, &job] {
            assert_eq!(r.verdict, Verdict::Fail, "{name}");
            let t = r.tests.iter().find(|t| t.name == failing).unwrap();
            assert_eq!(t.verdict, TestVerdict::Fail, "{name}: {failing}");
        }
    }
    // The periodic stream also fails linear complexity (2^17 bits: 262 blocks of 500).
    let one = run_battery(&periodic[..n], None, &p, 0.01, rule(), None).unwrap();
    assert_eq!(one.tests[9].verdict, TestVerdict::Fail);
}
