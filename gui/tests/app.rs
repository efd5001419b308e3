//! Headless tests that drive the real app through egui_kittest: open results, switch
//! views, click a DFG node and see its PE highlighted, select a Pareto design and see its
//! details, map from the Run view, and open malformed files.

mod common;

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::Duration;
use tessera_gui::docs::DocKind;
use tessera_gui::views::schedule::{Highlight, highlighted_pes};
use tessera_gui::{App, Command, Selection, View};

const WAIT: Duration = Duration::from_secs(120);

fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 900.0))
        // A finished background job asks for one repaint from its own thread after it sent
        // its result; that request can land after `wait_for_jobs` returned, so settling may
        // take a few more steps than kittest's default of 4 (seen once: 6). Each job asks
        // once, so the UI still settles.
        .with_max_steps(16)
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

/// Open a path and wait until it loaded.
fn open(h: &mut Harness<'_, App>, path: &std::path::Path) {
    h.state_mut().command(Command::Open(path.to_path_buf()));
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
}

#[test]
fn mapping_views_and_linked_selection() {
    let dir = common::scratch("mapping");
    let path = common::fir_mapping(&dir, "hycube-4x4");
    let mut h = harness(App::default());
    open(&mut h, &path);
    assert!(
        h.state().messages.iter().all(|m| !m.error),
        "{:?}",
        h.state().messages
    );
    assert_eq!(h.state().view, View::Schedule);
    h.get_by_label_contains("Modulo reservation table");

    // Switch to the DFG with the tab, then click a node on the canvas.
    h.get_by_label("DFG").click();
    h.run();
    assert_eq!(h.state().view, View::Dfg);
    let doc = h.state().active.unwrap();
    let (node, pe, slot) = {
        let app = h.state();
        let DocKind::Mapping(m) = &app.doc(doc).unwrap().kind else {
            panic!("not a mapping")
        };
        // A node that runs on a PE (not an immediate).
        let v = m
            .mapping
            .placements
            .iter()
            .position(|p| p.pe.is_some())
            .unwrap();
        let p = m.mapping.placements[v];
        (v as u32, p.pe.unwrap(), p.cycle % m.mapping.ii)
    };
    let screen = {
        let app = h.state();
        let DocKind::Mapping(m) = &app.doc(doc).unwrap().kind else {
            unreachable!()
        };
        app.views
            .dfg
            .canvas
            .world_to_screen(m.layout.pos[node as usize])
    };
    click_at(&mut h, screen);
    assert_eq!(h.state().selection, Selection::Node { doc, node });
    h.get_by_label_contains(&format!("Runs on PE {pe} "));

    // The schedule shows the node's slot and outlines its PE there.
    h.get_by_label("Schedule").click();
    h.run();
    h.get_by_label("Show the selected node's slot").click();
    h.run();
    {
        let app = h.state();
        assert_eq!(app.views.schedule.slot, slot);
        let DocKind::Mapping(m) = &app.doc(doc).unwrap().kind else {
            unreachable!()
        };
        let hl = Highlight::of(&app.selection, doc);
        assert_eq!(highlighted_pes(m, slot, hl), vec![pe]);
    }

    // Clicking the PE in the inspector selects it; the inspector lists the PE's nodes,
    // and clicking one of those selects the node again.
    h.get_by_label(&format!("Select PE {pe}")).click();
    h.run();
    assert_eq!(h.state().selection, Selection::Pe { doc, pe });
    h.get_by_label_contains(&format!("Selected PE {pe} "));
    h.get_by_label_contains(&format!("slot {slot}: n{node} "))
        .click();
    h.run();
    assert_eq!(h.state().selection, Selection::Node { doc, node });

    // Every slot as small multiples, and the Simulation view's run.
    h.get_by_label("All slots").click();
    h.run();
    assert!(h.state().views.schedule.all_slots);
    h.get_by_label("Simulation").click();
    h.run();
    h.get_by_label("Simulate").click();
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    h.get_by_label_contains("Outputs match the interpreter");

    // Replay: step with the button and the keyboard, then read a PE's value.
    h.get_by_label("Step").click();
    h.run();
    h.key_press(egui::Key::ArrowRight);
    h.run();
    assert_eq!(h.state().views.sim.cycle, 2);
    // Scrub to the first cycle where some PE issues an op, and read it.
    let (c, pe, op) = {
        let DocKind::Mapping(m) = &h.state().doc(doc).unwrap().kind else {
            unreachable!()
        };
        assert_eq!(
            m.cycles.len() as u64,
            m.sim.as_ref().unwrap().schedule_cycles
        );
        m.cycles
            .iter()
            .enumerate()
            .skip(3)
            .find_map(|(c, row)| {
                row.ops
                    .iter()
                    .enumerate()
                    .find_map(|(pe, o)| o.map(|o| (c, pe, o)))
            })
            .unwrap()
    };
    h.state_mut().views.sim.cycle = c;
    h.run();
    h.get_by_label_contains(&format!("Values at cycle {c}"));
    let desc = {
        let DocKind::Mapping(m) = &h.state().doc(doc).unwrap().kind else {
            unreachable!()
        };
        tessera_gui::docs::node_desc(&m.mapping.kernel, op.node)
    };
    h.get_by_label_contains(&format!(
        "PE {pe}: {desc} (iteration {}) = {}",
        op.iteration, op.result
    ));
    let _ = std::fs::remove_dir_all(dir);
}

fn click_at(h: &mut Harness<'_, App>, pos: egui::Pos2) {
    h.hover_at(pos);
    h.run();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    h.run();
}

#[test]
fn search_run_select_a_pareto_design() {
    let dir = common::scratch("search");
    let run = common::zdt1_run(&dir, 200);
    let mut h = harness(App::default());
    open(&mut h, &run);
    assert!(
        h.state().messages.iter().all(|m| !m.error),
        "{:?}",
        h.state().messages
    );
    assert_eq!(h.state().view, View::Search);
    let doc = h.state().active.unwrap();
    let first = {
        let DocKind::Search(s) = &h.state().doc(doc).unwrap().kind else {
            panic!("not a search")
        };
        assert_eq!(s.records.len(), 200);
        assert!(s.front_feasible && !s.front.is_empty());
        // The front read here is the run's own summary front.
        let summary = s.summary.as_ref().unwrap();
        let mut mine = s.front.clone();
        mine.sort();
        let mut theirs = summary.front.clone();
        theirs.sort();
        assert_eq!(mine, theirs);
        assert!((s.hv.last().unwrap() - summary.hypervolume).abs() < 1e-12);
        s.front[0]
    };
    h.get_by_label_contains(&format!("design {first}: "))
        .click();
    h.run();
    assert_eq!(h.state().selection, Selection::Design { doc, id: first });
    h.get_by_label(&format!("Design {first}"));
    h.get_by_label_contains("on the Pareto front");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn live_refresh_reads_only_new_lines() {
    let dir = common::scratch("live");
    let run = common::zdt1_run(&dir, 200);
    let full = std::fs::read_to_string(run.join("results.jsonl")).unwrap();
    let lines: Vec<&str> = full.split_inclusive('\n').collect();
    // A copy of the run that is still "being written": 120 lines and half of the next.
    let live = dir.join("live-run");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::copy(run.join("manifest.json"), live.join("manifest.json")).unwrap();
    let half = &lines[120][..lines[120].len() / 2];
    std::fs::write(live.join("results.jsonl"), lines[..120].concat() + half).unwrap();
    let mut doc = tessera_gui::docs::SearchDoc::open(&live).unwrap();
    assert_eq!(doc.records.len(), 120);
    let read = doc.read_bytes;
    assert_eq!(read as usize, lines[..120].concat().len());
    // The rest arrives.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(live.join("results.jsonl"))
        .unwrap();
    use std::io::Write;
    f.write_all((lines[120][half.len()..].to_string() + &lines[121..].concat()).as_bytes())
        .unwrap();
    drop(f);
    assert_eq!(doc.refresh().unwrap(), 80);
    assert_eq!(doc.records.len(), 200);
    assert_eq!(doc.read_bytes as usize, full.len());
    let finished = tessera_gui::docs::SearchDoc::open(&run).unwrap();
    assert_eq!(doc.front, finished.front);
    assert_eq!(doc.hv, finished.hv);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn malformed_and_unknown_files_show_errors() {
    let dir = common::scratch("bad");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\n  \"format_version\": 2,\n  oops\n}\n").unwrap();
    let mut h = harness(App::default());
    open(&mut h, &bad);
    assert!(h.state().docs.is_empty());
    h.get_by_label_contains("bad.json:3:");

    // A mapping from a future Tessera: refused with both versions named.
    let good = common::fir_mapping(&dir, "mesh-4x4");
    let text = std::fs::read_to_string(&good).unwrap().replacen(
        "\"format_version\": 2",
        "\"format_version\": 99",
        1,
    );
    let future = dir.join("future.json");
    std::fs::write(&future, text).unwrap();
    open(&mut h, &future);
    h.get_by_label_contains("mapping format version 99, this Tessera reads version 2");

    // A mapping edited by hand so that a node sits outside the array.
    let text = std::fs::read_to_string(&good).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let placed = v["placements"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| !p["pe"].is_null())
        .unwrap();
    placed["pe"] = serde_json::json!(999);
    let outside = dir.join("outside.json");
    std::fs::write(&outside, serde_json::to_string(&v).unwrap()).unwrap();
    open(&mut h, &outside);
    h.get_by_label_contains("placed on a PE outside the 16-PE array");

    // A kernel with a syntax error: its line and column.
    let tk = dir.join("broken.tk");
    std::fs::write(&tk, "kernel broken {\n  this is not a kernel\n}\n").unwrap();
    open(&mut h, &tk);
    h.get_by_label_contains("broken.tk:");

    // Unknown kinds and missing paths.
    std::fs::write(dir.join("notes.txt"), "hello").unwrap();
    open(&mut h, &dir.join("notes.txt"));
    h.get_by_label_contains("unrecognised file kind");
    open(&mut h, &dir.join("missing.json"));
    h.get_by_label_contains("no such file or folder");
    assert!(h.state().docs.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_view_maps_and_simulates() {
    let mut h = harness(App::default());
    h.state_mut().persisted.run.kernel = common::repo()
        .join("workloads/kernels/fir.tk")
        .display()
        .to_string();
    h.state_mut().command(Command::SetView(View::Run));
    h.run();
    h.get_by_label("Map and simulate").click();
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    let app = h.state();
    assert!(app.messages.iter().all(|m| !m.error), "{:?}", app.messages);
    let DocKind::Mapping(m) = &app.active_doc().unwrap().kind else {
        panic!("no mapping")
    };
    assert!(m.sim.as_ref().unwrap().verification.matched);
    assert_eq!(app.view, View::Schedule);

    // The exact mapper, from the same form (on a smaller kernel: the MILP proves its II).
    h.state_mut().persisted.run.kernel = common::repo()
        .join("workloads/kernels/dot.tk")
        .display()
        .to_string();
    h.state_mut().command(Command::SetView(View::Run));
    h.run();
    h.get_by_label_contains("exact (MILP").click();
    h.run();
    assert!(h.state().persisted.run.exact);
    h.get_by_label("Map and simulate").click();
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    let app = h.state();
    assert!(app.messages.iter().all(|m| !m.error), "{:?}", app.messages);
    let DocKind::Mapping(m) = &app.active_doc().unwrap().kind else {
        panic!("no mapping")
    };
    assert!(
        m.mapping.provenance.mapper.contains("exact"),
        "{}",
        m.mapping.provenance.mapper
    );
    assert!(m.sim.as_ref().unwrap().verification.matched);

    // A bad architecture: the error names it, nothing opens.
    let docs = app.docs.len();
    h.state_mut().command(Command::SetView(View::Run));
    h.state_mut().persisted.run.arch = "no-such-preset".into();
    h.run();
    h.get_by_label("Map and simulate").click();
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    h.get_by_label_contains("no-such-preset");
    assert_eq!(h.state().docs.len(), docs);
}
