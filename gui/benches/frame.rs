//! Frame time of the GUI on large inputs, driven through egui_kittest (no window, no GPU):
//! each frame is the app's layout and drawing (`Harness::step`) plus egui's tessellation
//! into triangles (what eframe hands to the GPU). Reports the median and 95th percentile
//! over the measured frames.
//!
//! Scenarios (the responsiveness targets, < 33 ms):
//! * a 500-node DFG mapped on a 16x16 mesh at II 40 (a synthetic placement and routing:
//!   one op per PE and slot, a route of up to 4 hops per edge), in the Schedule view (one
//!   slot, and all 40 slots as small multiples) and the DFG view;
//! * a 100,000-point Pareto scatter (a ZDT1 run's records repeated with deterministic
//!   objectives), in the Co-search view;
//! * DRAM / PiD: a QUAC TRNG report of a whole 8 KB row (65,536 bitlines, each drawn), the
//!   hammer run of workloads/dram/hammer-double.ron (bit-flip map and HC_first CDF);
//! * the Accelerator view of ResNet-50 on edge-os-16x16 (table and roofline).
//!
//! `cargo bench -p tessera-gui --bench frame` (`FRAMES=n` to change the count).

use eframe::egui;
use egui_kittest::Harness;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_gui::docs::{DocKind, Loaded, MappingDoc};
use tessera_gui::{App, Command, View};
use tessera_ir::{Kernel, KernelSource, Node, Op, Operand};
use tessera_map::mapping::{MAPPING_FORMAT_VERSION, Provenance};
use tessera_map::{Loc, Mapping, Placement, Route, Segment};

fn arch16() -> CgraSpec {
    let mut a = CgraSpec::preset("mesh-8x8").expect("preset");
    let kind = a.layout[1].chars().nth(1).unwrap_or('A');
    a.rows = 16;
    a.cols = 16;
    a.layout = (0..16)
        .map(|_| std::iter::repeat_n(kind, 16).collect())
        .collect();
    a.max_ii = 64;
    a.name = "mesh-16x16 (bench)".into();
    a
}

/// 500 ops in 25 layers of 20, each reading two ops of the layer above, with a
/// loop-carried edge every 10th node.
fn big_mapping() -> Mapping {
    let arch = arch16();
    let mut k = Kernel::new("bench500", KernelSource::Built);
    k.trip_count = 100;
    let ops = [Op::Add, Op::Mul, Op::Sub, Op::Xor, Op::Max];
    let ids: Vec<_> = (0..500)
        .map(|i| {
            k.add_node(
                Node::new(if i < 20 {
                    Op::Const
                } else {
                    ops[i % ops.len()]
                })
                .with_imm(i as i32),
            )
        })
        .collect();
    for i in 20..500 {
        let (l, c) = (i / 20, i % 20);
        let up = (l - 1) * 20;
        k.add_edge(ids[up + c], ids[i], Operand::data(0));
        k.add_edge(ids[up + (c + 7) % 20], ids[i], Operand::data(1));
        if i % 10 == 0 && l >= 3 {
            k.add_edge(ids[i], ids[(l - 2) * 20 + c], Operand::carried(2, 1, 0));
        }
    }
    let ii = 40u32;
    let placements: Vec<Placement> = (0..500u32)
        .map(|i| Placement {
            pe: Some(((i * 7) % 256) as u16),
            cycle: i % ii + (i / 20) * 2,
            start_ps: 0,
            registered: true,
        })
        .collect();
    let mut routes = Vec::new();
    use petgraph::visit::EdgeRef;
    for e in k.graph.edge_references() {
        let (u, v) = (e.source().index(), e.target().index());
        let (a, b) = (placements[u].pe.unwrap(), placements[v].pe.unwrap());
        let (mut r, mut c) = arch.pe_pos(a);
        let (tr, tc) = arch.pe_pos(b);
        let mut path = Vec::new();
        while path.len() < 4 && (r, c) != (tr, tc) {
            if c != tc {
                c = if c < tc { c + 1 } else { c - 1 };
            } else {
                r = if r < tr { r + 1 } else { r - 1 };
            }
            path.push(arch.pe_id(r, c));
        }
        let end = *path.last().unwrap_or(&a);
        routes.push(Route {
            edge: e.id().index() as u32,
            segments: vec![Segment {
                cycle: placements[u].cycle + 1,
                from: Loc::Out { pe: a },
                path,
                to: Loc::Operand { pe: end },
            }],
        });
    }
    Mapping {
        format_version: MAPPING_FORMAT_VERSION,
        kernel: k,
        arch,
        ii,
        placements,
        routes,
        array_banks: Vec::new(),
        array_replicas: Vec::new(),
        access_banks: Vec::new(),
        provenance: Provenance {
            mapper: "synthetic (bench)".into(),
            seed: 0,
            mii: ii,
            time_ms: 0.0,
            failed_iis: Vec::new(),
            tool_version: "bench".into(),
            judge_seed: None,
        },
    }
}

/// A run folder with `n` records: a 200-evaluation ZDT1 run whose records are repeated
/// with deterministic objectives spread over the plane.
fn big_search(dir: &Path, n: usize) -> PathBuf {
    let repo = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let text = std::fs::read_to_string(repo.join("workloads/searches/zdt1.ron"))
        .expect("zdt1.ron")
        .replace("evaluations: 20000", "evaluations: 200");
    let cfg = tessera_study::config::LoadedConfig::from_str(&text, "zdt1.ron").expect("config");
    let run = dir.join("run");
    let _ = std::fs::remove_dir_all(&run);
    let opts = tessera_study::run::RunOptions {
        dir: run.clone(),
        threads: 1,
        resume: false,
        shard: None,
        tool_version: "bench".into(),
        sequential: None,
    };
    tessera_study::run::run(&cfg, &opts, &AtomicBool::new(false), &|_| {}).expect("run");
    let recs =
        tessera_study::run::read_results(&run.join("results.jsonl"), false).expect("results");
    let mut out = String::new();
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for i in 0..n {
        let mut r = recs[i % recs.len()].clone();
        r.id = i as u64;
        r.global_index = i as u64;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f1 = (x % 1_000_000) as f64 / 1e6;
        let f2 = 1.0 - f1.sqrt() + ((x >> 20) % 1000) as f64 / 400.0;
        r.objectives = vec![f1, f2];
        r.metrics.insert("f1".into(), f1);
        r.metrics.insert("f2".into(), f2);
        r.cached_from = None;
        out += &serde_json::to_string(&r).expect("json");
        out.push('\n');
    }
    std::fs::write(run.join("results.jsonl"), out).expect("write");
    let _ = std::fs::remove_file(run.join("summary.json"));
    run
}

/// A QUAC TRNG report over a whole 8 KB row, the hammer run of hammer-double.ron and
/// ResNet-50 on edge-os-16x16, written as the CLI writes them.
fn dram_and_accel_reports(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let repo = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let ddr4 = tessera_arch::dram::DramSpec::preset("DDR4_2400R").expect("preset");
    let cfg = tessera_dram::trng::TrngConfig {
        characterisation_reads: 20,
        output_bits: 0,
        timing_iterations: 1,
        ..Default::default()
    };
    let (t, _) = tessera_dram::trng::TrngModel::new(&ddr4, &cfg)
        .expect("trng")
        .run();
    assert_eq!(t.bitline_entropy.len(), 65_536);
    let trng = dir.join("trng.json");
    let json = serde_json::json!({ "trng": t, "nist": null });
    std::fs::write(&trng, json.to_string()).expect("write");
    let ham_cfg = repo.join("workloads/dram/hammer-double.ron");
    let f: tessera_dram::config::HammerFile = tessera_dram::config::load(&ham_cfg).expect("cfg");
    let spec = tessera_dram::config::load_spec(&ham_cfg, &f.spec).expect("spec");
    let r = tessera_dram::disturb::run(&spec, &f.hammer).expect("hammer");
    let hammer = dir.join("hammer.json");
    std::fs::write(&hammer, serde_json::to_string(&r).expect("json")).expect("write");
    let accel_spec = tessera_arch::accel::AccelSpec::preset("edge-os-16x16").expect("accel preset");
    let net = tessera_accel::networks::load("resnet50").expect("network");
    let rep = tessera_accel::Accelerator::new(&accel_spec).report(&accel_spec, &net);
    let accel = dir.join("accel.json");
    std::fs::write(&accel, serde_json::to_string(&rep).expect("json")).expect("write");
    vec![
        ("DRAM, TRNG entropy of 65,536 bitlines", trng),
        ("DRAM, hammer bit-flip map and HC_first CDF", hammer),
        ("accelerator, ResNet-50 table and roofline", accel),
    ]
}

/// CPU time of this thread (what the frame costs, whatever else runs on the machine).
#[cfg(unix)]
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; the clock id is a constant.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[cfg(not(unix))]
fn thread_cpu() -> Duration {
    Duration::ZERO
}

fn measure(name: &str, h: &mut Harness<'_, App>, frames: usize) {
    // Warm up (fits, text layout caches).
    for _ in 0..5 {
        h.step();
    }
    let mut times = Vec::with_capacity(frames);
    let mut cpu = Vec::with_capacity(frames);
    for i in 0..frames {
        // Move the pointer so hover work (tooltips, picking) runs every frame.
        h.hover_at(egui::pos2(500.0 + (i % 50) as f32 * 4.0, 400.0));
        let c0 = thread_cpu();
        let t0 = Instant::now();
        h.step();
        let shapes = h.output().shapes.clone();
        let prims = h.ctx.tessellate(shapes, 1.0);
        std::hint::black_box(prims);
        times.push(t0.elapsed());
        cpu.push(thread_cpu().saturating_sub(c0));
    }
    times.sort();
    cpu.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p95 = (frames * 95 / 100).min(frames - 1);
    println!(
        "{name}: wall median {:.2} ms, p95 {:.2} ms, max {:.2} ms; thread CPU median {:.2} ms, p95 {:.2} ms, max {:.2} ms over {frames} frames",
        ms(times[frames / 2]),
        ms(times[p95]),
        ms(times[frames - 1]),
        ms(cpu[frames / 2]),
        ms(cpu[p95]),
        ms(cpu[frames - 1])
    );
}

fn main() {
    let frames: usize = std::env::var("FRAMES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut app = App::default();
    let m = big_mapping();
    app.add_doc(
        PathBuf::from("<bench>"),
        Loaded {
            title: "bench500".into(),
            kind: DocKind::Mapping(Box::new(MappingDoc::new(m, None))),
        },
    );
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    h.state_mut().command(Command::SetView(View::Schedule));
    measure("schedule, 16x16 at II 40, one slot", &mut h, frames);
    h.state_mut().views.schedule.all_slots = true;
    h.state_mut().views.schedule.canvas.fit_pending = true;
    measure("schedule, 16x16 at II 40, all 40 slots", &mut h, frames);
    h.state_mut().command(Command::SetView(View::Dfg));
    measure("DFG, 500 nodes", &mut h, frames);

    let dir = std::env::temp_dir().join(format!("tessera-gui-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let open = |h: &mut Harness<'_, App>, path: PathBuf| {
        h.state_mut().command(Command::Open(path));
        h.step();
        h.state_mut().wait_for_jobs(Duration::from_secs(600));
        h.step();
        assert!(
            h.state().messages.iter().all(|m| !m.error),
            "{:?}",
            h.state().messages
        );
    };
    for (name, path) in dram_and_accel_reports(&dir) {
        open(&mut h, path);
        measure(name, &mut h, frames);
    }
    let run = big_search(&dir, 100_000);
    let t0 = Instant::now();
    h.state_mut().command(Command::Open(run));
    h.step();
    h.state_mut().wait_for_jobs(Duration::from_secs(600));
    println!(
        "open a 100,000-record run folder: {:.0} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );
    measure("co-search, 100,000-point Pareto scatter", &mut h, frames);
    h.state_mut().views.search.draw_all_markers = true;
    measure(
        "co-search, same, every marker drawn (no thinning)",
        &mut h,
        frames,
    );
    h.state_mut().views.search.draw_all_markers = false;

    // Live refresh: a batch of 256 records appended to the 100,000 (read on the UI thread).
    let path = h
        .state()
        .active_doc()
        .expect("run")
        .path
        .join("results.jsonl");
    let text = std::fs::read_to_string(&path).expect("results");
    let mut extra = String::new();
    for (i, line) in text.lines().take(256).enumerate() {
        let mut r: tessera_study::run::Record = serde_json::from_str(line).expect("record");
        r.id = 100_000 + i as u64;
        r.global_index = r.id;
        r.objectives = r.objectives.iter().map(|v| v * 0.999).collect();
        extra += &serde_json::to_string(&r).expect("json");
        extra.push('\n');
    }
    std::fs::write(&path, text + &extra).expect("append");
    let doc = h
        .state_mut()
        .docs
        .iter_mut()
        .find_map(|d| match &mut d.kind {
            DocKind::Search(s) => Some(s),
            _ => None,
        });
    let doc = doc.expect("search doc");
    let t0 = Instant::now();
    let added = doc.refresh().expect("refresh");
    println!(
        "live refresh: {added} records appended to 100,000 read in {:.2} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(dir);
}
