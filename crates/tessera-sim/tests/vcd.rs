//! VCD waveforms: a real mapping's waveform is structurally valid VCD (checked by
//! `vcd::check_structure`, the same rules GTKWave's reader applies to the constructs used),
//! its signals follow the run, and the checker itself rejects broken files.

use std::path::Path;
use tessera_arch::cgra::CgraSpec;
use tessera_arch::spec_io::Spec;
use tessera_map::driver::{MapOptions, map_kernel};
use tessera_sim::Simulator;
use tessera_sim::vcd::check_structure;

fn saxpy_vcd() -> (String, u64, u32, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels/saxpy.tk");
    let kernel = tessera_ir::load_kernel(&path, &[("n".into(), 8)]).unwrap();
    let arch = CgraSpec::preset("hycube-4x4").unwrap();
    let m = map_kernel(&kernel, &arch, &MapOptions::default())
        .unwrap()
        .mapping;
    let (rep, wave) = Simulator::new(&m).unwrap().simulate_seed(3, true).unwrap();
    assert!(rep.verification.matched);
    (
        wave.unwrap(),
        rep.total_cycles,
        arch.timing.clock_period_ps,
        arch.pe_count(),
    )
}

#[test]
fn waveform_of_a_mapped_kernel_is_valid_vcd_that_follows_the_run() {
    let (vcd, cycles, period_ps, pes) = saxpy_vcd();
    let info = check_structure(&vcd).unwrap_or_else(|e| panic!("bad VCD: {e}"));
    // clk, cycle, stall, then op/res/out/iter per PE, each in its PE's scope.
    assert_eq!(info.vars.len(), 3 + 4 * pes);
    assert_eq!(info.vars[0].0, "cgra");
    assert_eq!(
        (
            info.vars[3].0.as_str(),
            info.vars[3].1.as_str(),
            info.vars[3].2.as_str()
        ),
        ("cgra.pe0_r0c0", "op", "string")
    );
    assert!(info.vars.iter().filter(|v| v.1 == "res").all(|v| v.3 == 32));
    // Two clock edges per cycle: the run lasts `cycles` periods.
    assert!(info.end_time >= (cycles - 1) * period_ps as u64, "{info:?}");
    assert!(info.end_time <= cycles * period_ps as u64, "{info:?}");
    let rises = vcd.lines().filter(|l| *l == "1!").count() as u64;
    assert_eq!(rises, cycles, "one rising clock edge per cycle");
    // Ops appear by name on the PEs' `op` strings.
    assert!(
        vcd.lines()
            .any(|l| l.starts_with("sload") || l.starts_with("smul")),
        "no op names"
    );
}

#[test]
fn checker_rejects_broken_vcd() {
    let (vcd, ..) = saxpy_vcd();
    assert!(check_structure(&vcd).is_ok());
    let first_ts = |v: &str| {
        v.lines()
            .position(|l| l.starts_with('#') && l != "#0")
            .unwrap()
    };
    let mut lines: Vec<&str> = vcd.lines().collect();
    // Timestamps must increase.
    let at = first_ts(&vcd);
    lines.insert(at + 1, "#0");
    let e = check_structure(&lines.join("\n")).unwrap_err();
    assert!(e.contains("not increasing"), "{e}");
    let cases: Vec<(String, &str)> = vec![
        (
            vcd.replacen("$enddefinitions $end", "", 1),
            "no `$enddefinitions`",
        ),
        (vcd.replacen("$upscope $end", "", 1), "not closed"),
        (
            vcd.replacen("$timescale 1ps $end", "$timescale 3ps $end", 1),
            "timescale",
        ),
        (
            vcd.replacen("$var wire 1 ! clk $end", "$var wire 1 ! clk", 1),
            "expected type, width, id, name",
        ),
        (format!("{vcd}1~~~\n"), "undeclared"),
        (format!("{vcd}b102 !\n"), "bad binary"),
        (format!("{vcd}1\"\n"), "scalar change of a 64-bit"),
        (format!("{vcd}sadd !\n"), "string change"),
        (format!("{vcd}b{} $\n", "1".repeat(33)), "33 bits"),
        (vcd.replacen("#0\n", "", 1), "before the first timestamp"),
    ];
    for (text, want) in cases {
        let e = check_structure(&text).unwrap_err();
        assert!(e.contains(want), "expected `{want}`, got `{e}`");
    }
}
