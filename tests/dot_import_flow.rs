//! DOT imports through the whole flow: a loop that carries a value through memory keeps
//! its memory order (the importer adds the same may-alias order edges as the Morpher
//! importer), so the mapper's II respects it and the simulation matches the interpreter;
//! and the figures of issue 17 for the DOT sets in the repository.

mod common;
use common::*;
use std::path::PathBuf;
use tessera_flow::load::{LoadedKernel, load_cgra};
use tessera_flow::suite::{SuiteOptions, suite_row};
use tessera_ir::import::dot;
use tessera_ir::kernel::Slot;

fn opts() -> SuiteOptions {
    SuiteOptions {
        map_seed: 1,
        time_limit_s: 60.0,
        jobs: 1,
        exact_max_nodes: 0,
        exact_time_limit_s: 0.0,
        exact_no_hint: false,
        verify_seeds: 3,
        replicate: false,
    }
}

/// `mem[i + 1] = mem[i] + c` for i = 0, 1, ...: each iteration loads what the previous one
/// stored (CGRA-ME dialect: the induction variable is a self-loop, LLVM store order).
const CARRIED_THROUGH_MEMORY: &str = "digraph G {
add0[opcode=add];
const1[opcode=const, constVal=4];
load2[opcode=load];
add3[opcode=add];
const4[opcode=const, constVal=7];
add5[opcode=add];
const6[opcode=const, constVal=4];
store7[opcode=store];
add0->add0[operand=0];
const1->add0[operand=1];
add0->load2[operand=0];
load2->add3[operand=0];
const4->add3[operand=1];
add0->add5[operand=0];
const6->add5[operand=1];
add3->store7[operand=0];
add5->store7[operand=1];
trip_count=16;
}";

#[test]
fn a_value_carried_through_memory_gets_an_order_edge_and_verifies() {
    let k = dot::import_str(CARRIED_THROUGH_MEMORY, "carried.dot").unwrap();
    let id = |l: &str| k.nodes().find(|(_, n)| n.label == l).unwrap().0;
    // The store of iteration k comes before the load of iteration k + 1.
    let order: Vec<_> = k
        .operands(id("load2"))
        .into_iter()
        .filter(|(_, o)| o.slot == Slot::Order)
        .map(|(s, o)| (k.graph[s].label.clone(), o.distance))
        .collect();
    assert_eq!(order, vec![("store7".to_string(), 1)]);
    let arch = load_cgra("hycube-4x4", "hycube-4x4").unwrap();
    let row = suite_row(
        &LoadedKernel {
            file: "carried.dot".into(),
            kernel: Ok(k),
        },
        &arch,
        &opts(),
    );
    assert_eq!(row.status, "mapped", "{:?}", row.reason);
    // The recurrence load -> add -> store -> (next iteration) load bounds the II.
    assert!(row.rec_mii.unwrap() >= 2, "{row:?}");
    assert!(row.ii.unwrap() >= row.rec_mii.unwrap());
    let sim = row.sim.unwrap();
    assert_eq!(sim.verdict, "ok", "{sim:?}");
    assert_eq!(sim.seeds_matched, 3);
}

fn corpus(dir: &str) -> Vec<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "dot"))
        .collect();
    v.sort();
    v
}

/// Issue 17's figures row for `dot-cgra-bench`: all 5 import (fir, fft and latnrm with
/// binary32 float ops, item 7); all 5 run on the interpreter on seeds 1-3 with the input
/// ranges the importer infers (latnrm's elided shift `s` of `i << s` in 0..=4; susan's `mem`
/// held at 0, the only inputs that keep its accumulated index in range); all 5 map on the
/// FP preset hycube-4x4-fp and verify on 3 seeds. On hycube-4x4 (no FP units) the three
/// float kernels are refused with the missing class named.
#[test]
fn dot_cgra_bench_figures() {
    let fp = load_cgra("hycube-4x4-fp", "hycube-4x4-fp").unwrap();
    let int = load_cgra("hycube-4x4", "hycube-4x4").unwrap();
    let (mut imported, mut ran, mut mapped, mut verified) = (0, 0, 0, 0);
    let mut refused_on_int: Vec<String> = Vec::new();
    for p in corpus("workloads/corpus/cgra/dot-cgra-bench") {
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        let Ok(k) = tessera_ir::load_kernel(&p, &[]) else {
            continue;
        };
        imported += 1;
        if (1..=3)
            .all(|s| tessera_ir::interp::run(&k, &tessera_ir::interp::random_inputs(&k, s)).is_ok())
        {
            ran += 1;
        } else {
            continue;
        }
        let loaded = LoadedKernel {
            file: p.display().to_string(),
            kernel: Ok(k),
        };
        let row = suite_row(&loaded, &fp, &opts());
        eprintln!("{name}: {} II {:?} {:?}", row.status, row.ii, row.reason);
        if row.status == "mapped" {
            mapped += 1;
            if row
                .sim
                .as_ref()
                .is_some_and(|s| s.verdict == "ok" && s.seeds_matched == 3)
            {
                verified += 1;
            }
        }
        let row = suite_row(&loaded, &int, &opts());
        if row.status != "mapped" {
            let why = row.reason.clone().unwrap_or_default();
            assert!(why.contains("no floating-point unit"), "{name}: {why}");
            refused_on_int.push(name);
        }
    }
    assert_eq!((imported, ran, mapped, verified), (5, 5, 5, 5));
    assert_eq!(refused_on_int, vec!["fft_pro", "fir_pro", "latnrm_pro"]);
}

/// Map a kernel file on hycube-4x4 and simulate-and-verify it on 3 seeds.
fn map_and_verify(p: &std::path::Path) -> (String, bool) {
    let arch = load_cgra("hycube-4x4", "hycube-4x4").unwrap();
    let k = tessera_ir::load_kernel(p, &[]).unwrap_or_else(|e| panic!("{e}"));
    let row = suite_row(
        &LoadedKernel {
            file: p.display().to_string(),
            kernel: Ok(k),
        },
        &arch,
        &opts(),
    );
    let ok = row
        .sim
        .as_ref()
        .is_some_and(|s| s.verdict == "ok" && s.seeds_matched == 3);
    (row.status, ok)
}

/// The hand-written CGRA-ME-style and SAT-MapIt-style files of the IR tests map and verify.
#[test]
fn dialect_test_files_map_and_verify() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/tessera-ir/tests/data");
    for name in ["cgrame_style_scale.dot", "satmapit_style_mac.dot"] {
        let (status, ok) = map_and_verify(&data.join(name));
        assert_eq!(status, "mapped", "{name}");
        assert!(ok, "{name} does not verify");
    }
}

/// Map and verify every file of a folder named by an environment variable (third-party
/// DFGs that may not be redistributed: see workloads/corpus/cgra/SOURCES.md); the
/// figures are printed and, for the known sets, checked.
fn folder_figures(var: &str) -> Option<(usize, usize, usize, usize, usize)> {
    let dir = std::env::var(var).ok()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "dot"))
        .collect();
    files.sort();
    let (mut imported, mut ran, mut mapped, mut verified) = (0, 0, 0, 0);
    for p in &files {
        let Ok(k) = tessera_ir::load_kernel(p, &[]) else {
            continue;
        };
        imported += 1;
        if !(1..=3)
            .all(|s| tessera_ir::interp::run(&k, &tessera_ir::interp::random_inputs(&k, s)).is_ok())
        {
            continue;
        }
        ran += 1;
        let (status, ok) = map_and_verify(p);
        mapped += usize::from(status == "mapped");
        verified += usize::from(ok);
    }
    eprintln!(
        "{dir}: {} files, {imported} import, {ran} run, {mapped} map on hycube-4x4, {verified} verify on 3 seeds",
        files.len()
    );
    Some((files.len(), imported, ran, mapped, verified))
}

/// CGRA-ME's 13 micro-benchmark DOTs (`TESSERA_CGRAME_MICROBENCH`): 12 import (matrixmultiply
/// is malformed at the source), run, map and verify.
#[test]
fn cgrame_microbenchmarks_map_and_verify_when_available() {
    match folder_figures("TESSERA_CGRAME_MICROBENCH") {
        None => eprintln!("TESSERA_CGRAME_MICROBENCH not set: not checked"),
        Some(f) if f.0 == 13 => assert_eq!(f, (13, 12, 12, 12, 12)),
        Some(_) => {}
    }
}

/// SAT-MapIt's 10 benchmark DFGs (`TESSERA_SATMAPIT_DFGS`): all import, run, map and
/// verify.
#[test]
fn satmapit_benchmarks_map_and_verify_when_available() {
    match folder_figures("TESSERA_SATMAPIT_DFGS") {
        None => eprintln!("TESSERA_SATMAPIT_DFGS not set: not checked"),
        Some(f) if f.0 == 10 => assert_eq!(f, (10, 10, 10, 10, 10)),
        Some(f) => {
            assert_eq!((f.1, f.2), (f.0, f.0));
            assert_eq!(f.4, f.3, "every mapped kernel verifies");
        }
    }
}

/// On the command line: a malformed or unsupported DOT file is exit 2 with the file, line
/// and what is wrong; an imported one says on stderr which dialect it was read as and what
/// was assumed.
#[test]
fn cli_exit_2_for_malformed_dot_and_a_dialect_warning_otherwise() {
    let bad = temp_file(
        "dot-import",
        "lost_operand.dot",
        "digraph G {\nmul0[opcode=mul];\nconst1[opcode=const];\nconst1->mul0[operand=0];\n}\n",
    );
    let o = tessera(&["kernel", "check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("{}:2:1", bad.display())) && e.contains("expected 2"),
        "{e}"
    );
    // A float op Tessera has no op for (frem) is refused at its node.
    let frem = temp_file(
        "dot-import",
        "frem.dot",
        "digraph G {\nin0[opcode=input];\nrem1[opcode=frem];\nin0->rem1[operand=0];\nin0->rem1[operand=1];\n}\n",
    );
    let o = tessera(&["kernel", "check", frem.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{}:3:", frem.display())) && stderr(&o).contains("frem"),
        "{}",
        stderr(&o)
    );
    // fir's float ops import as binary32, and the import says so.
    let o = tessera(&[
        "kernel",
        "check",
        "workloads/corpus/cgra/dot-cgra-bench/fir_pro.dot",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("binary32"), "{}", stderr(&o));
    // Its accumulator is a phi fed by an `fadd`: `kernel run` shows that live-out as a
    // float (with its word), the integer induction variable's phi as an integer.
    let o = tessera(&[
        "kernel",
        "run",
        "workloads/corpus/cgra/dot-cgra-bench/fir_pro.dot",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let line = |name: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_string()
    };
    let acc = line("Node1phi.out = ");
    let value: f32 = acc.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(acc.contains("(f32 0x") && value.fract() != 0.0, "{acc}");
    let iv = line("Node0phi.out = ");
    assert!(!iv.contains("f32"), "{iv}");
    let o = tessera(&[
        "kernel",
        "check",
        "workloads/corpus/cgra/dot-cgra-bench/bf_pro.dot",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("read as OpenCGRA / CGRA-Flow DOT"),
        "{}",
        stderr(&o)
    );
}

/// A kernel-language f32 kernel (item 7): maps on hycube-4x4-fp and verifies bit-exactly on
/// 3 seeds; hycube-4x4, without FP units, refuses it naming the op and the missing class.
#[test]
fn kernel_language_f32_kernel_maps_on_the_fp_preset_and_is_refused_without_fp_units() {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/tessera-ir/tests/data/fir_f32.tk");
    let k = tessera_ir::load_kernel(&p, &[]).unwrap();
    let loaded = LoadedKernel {
        file: p.display().to_string(),
        kernel: Ok(k),
    };
    let fp = load_cgra("hycube-4x4-fp", "hycube-4x4-fp").unwrap();
    let row = suite_row(&loaded, &fp, &opts());
    assert_eq!(row.status, "mapped", "{:?}", row.reason);
    let sim = row.sim.unwrap();
    assert_eq!(
        (sim.verdict.as_str(), sim.seeds_matched),
        ("ok", 3),
        "{sim:?}"
    );
    let int = load_cgra("hycube-4x4", "hycube-4x4").unwrap();
    let row = suite_row(&loaded, &int, &opts());
    assert_ne!(row.status, "mapped");
    let why = row.reason.unwrap_or_default();
    assert!(
        why.contains("no PE of `hycube-4x4` supports op class `fp_")
            && why.contains("no floating-point unit"),
        "{why}"
    );
}

/// A kernel-language kernel with f32 scalar inputs maps on hycube-4x4-fp and verifies
/// bit-exactly on 3 seeds (the scalars are drawn as floats in their ranges).
#[test]
fn f32_scalar_inputs_map_and_verify() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tessera-dot-import-flow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("gain.tk");
    std::fs::write(
        &p,
        "kernel gain(n = 16) {\n    in f32 x[n];\n    in f32 gain = 0.5 range -2..2;\n    in f32 bias = -0.25 range -1..1;\n    out f32 y[n];\n    for i in 0..n {\n        y[i] = gain * x[i] + bias;\n    }\n}\n",
    )
    .unwrap();
    let k = tessera_ir::load_kernel(&p, &[]).unwrap();
    assert!(k.scalars.iter().all(|s| s.elem.is_float()));
    let loaded = LoadedKernel {
        file: p.display().to_string(),
        kernel: Ok(k),
    };
    let fp = load_cgra("hycube-4x4-fp", "hycube-4x4-fp").unwrap();
    let row = suite_row(&loaded, &fp, &opts());
    assert_eq!(row.status, "mapped", "{:?}", row.reason);
    let sim = row.sim.unwrap();
    assert_eq!(
        (sim.verdict.as_str(), sim.seeds_matched),
        ("ok", 3),
        "{sim:?}"
    );
    // `kernel run` shows the drawn scalars as floats.
    let o = tessera(&["kernel", "run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let g = out
        .lines()
        .find(|l| l.trim_start().starts_with("scalar gain = "))
        .unwrap_or_else(|| panic!("{out}"));
    let v: f32 = g.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((-2.0..=2.0).contains(&v), "{g}");
}
