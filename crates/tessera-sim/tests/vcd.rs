//! VCD waveforms: a real mapping's waveform is structurally valid VCD (checked by
//! `vcd::check_structure`, the same rules GTKWave's reader applies to the constructs used),
//! its signals follow the run, and the checker itself rejects broken files.

use std::collections::HashMap;
mod common;
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
    // clk, cycle, stall, then op/res/out/iter and the register file per PE, each in its
    // PE's scope.
    let rf = CgraSpec::preset("hycube-4x4").unwrap().rf_size as usize;
    assert!(rf > 0);
    assert_eq!(info.vars.len(), 3 + (4 + rf) * pes);
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

/// A VCD's vector signals as (time, value) changes per identifier code.
fn vector_changes(vcd: &str) -> HashMap<String, Vec<(u64, u32)>> {
    let body = vcd.split_once("$enddefinitions $end").unwrap().1;
    let mut t = 0;
    let mut changes: HashMap<String, Vec<(u64, u32)>> = HashMap::new();
    for line in body.lines() {
        if let Some(ts) = line.strip_prefix('#') {
            t = ts.parse().unwrap();
        } else if let Some(rest) = line.strip_prefix('b')
            && let Some((bits, code)) = rest.split_once(' ')
            && let Ok(v) = u32::from_str_radix(bits, 2)
        {
            changes.entry(code.to_string()).or_default().push((t, v));
        }
    }
    changes
}

#[test]
fn register_files_in_the_waveform_hold_the_replay_values() {
    use tessera_ir::interp::random_inputs;
    for (file, preset) in [("fir.tk", "hycube-4x4"), ("iir_biquad.tk", "compose-4x4")] {
        let (kernel, m) = common::mapped_workload(file, preset);
        let arch = &m.arch;
        let sim = Simulator::new(&m).unwrap();
        let inputs = random_inputs(&kernel, 7);
        let (_, rows) = sim.run_cycles(&inputs, usize::MAX).unwrap();
        let (_, vcd) = sim.run_vcd(&inputs).unwrap();
        let info = check_structure(&vcd).unwrap_or_else(|e| panic!("{file}: bad VCD: {e}"));
        // (PE, register) -> identifier code, from the `pe<N>_r<R>c<C>` scopes.
        let mut code = HashMap::new();
        for (scope, name, _, width, id) in &info.vars {
            if let Some(reg) = name.strip_prefix("rf") {
                assert_eq!(*width, 32);
                let pe: u16 = scope
                    .strip_prefix("cgra.pe")
                    .and_then(|s| s.split('_').next())
                    .unwrap()
                    .parse()
                    .unwrap();
                code.insert((pe, reg.parse::<u16>().unwrap()), id.clone());
            }
        }
        assert_eq!(code.len(), arch.pe_count() * arch.rf_size as usize);
        let changes = vector_changes(&vcd);
        let at = |id: &String, t: u64| {
            changes[id]
                .iter()
                .take_while(|(ct, _)| *ct <= t)
                .last()
                .map(|&(_, v)| v)
        };
        let period = arch.timing.clock_period_ps as u64;
        let mut checked = 0;
        for row in &rows {
            // A register live after this cycle shows its value from the next cycle on.
            let next = (row.wall + 1 + row.stall) * period;
            for r in &row.regs {
                assert_eq!(
                    at(&code[&(r.pe, r.reg)], next),
                    Some(r.value as u32),
                    "{file}: PE {} rf{} after cycle {}",
                    r.pe,
                    r.reg,
                    row.wall
                );
                checked += 1;
            }
        }
        assert!(
            checked > 50,
            "{file}: only {checked} register values checked"
        );
    }
}
