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

/// The result a replay's records show for `node` in `iteration`.
fn produced_by(cycles: &[tessera_sim::CycleRecord], node: u32, iteration: u64) -> Option<i32> {
    cycles
        .iter()
        .flat_map(|row| row.ops.iter().flatten())
        .find(|o| o.node == node && o.iteration == iteration)
        .map(|o| o.result)
}

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

    // Scrub to a cycle where a value crosses a link and read it; it is the value its
    // producer computed for that iteration (as the PE records of the replay show it).
    let (c, link, produced) = {
        let DocKind::Mapping(m) = &h.state().doc(doc).unwrap().kind else {
            unreachable!()
        };
        let (c, link) = m
            .cycles
            .iter()
            .enumerate()
            .skip(c + 1)
            .find_map(|(c, row)| row.links.first().map(|l| (c, *l)))
            .expect("fir on hycube-4x4 routes values over links");
        let produced = produced_by(&m.cycles, link.node, link.iteration)
            .expect("the producer issued before its value moved");
        (c, link, produced)
    };
    assert_eq!(link.value, produced);
    // Scrub there with the keyboard: Home, then Right arrow steps.
    h.key_press(egui::Key::Home);
    h.run();
    assert_eq!(h.state().views.sim.cycle, 0);
    for _ in 0..c {
        h.key_press(egui::Key::ArrowRight);
        h.run();
    }
    assert_eq!(h.state().views.sim.cycle, c);
    let desc = {
        let DocKind::Mapping(m) = &h.state().doc(doc).unwrap().kind else {
            unreachable!()
        };
        tessera_gui::docs::node_desc(&m.mapping.kernel, link.node)
    };
    h.get_by_label_contains(&format!(
        "Link PE {} -> PE {}: {desc} (iteration {}) = {produced}",
        link.from, link.to, link.iteration
    ));

    // Scrub to a cycle after which a value sits in a register file and read it: the value
    // its producer computed for that iteration.
    let (c, reg, produced) = {
        let DocKind::Mapping(m) = &h.state().doc(doc).unwrap().kind else {
            unreachable!()
        };
        let (c, reg) = m
            .cycles
            .iter()
            .enumerate()
            .skip(c + 1)
            .find_map(|(c, row)| row.regs.first().map(|r| (c, *r)))
            .expect("fir on hycube-4x4 holds values in register files");
        let produced = produced_by(&m.cycles, reg.node, reg.iteration)
            .expect("the producer issued before its value was registered");
        (c, reg, produced)
    };
    assert_eq!(reg.value, produced);
    h.state_mut().views.sim.cycle = c;
    h.run();
    h.get_by_label_contains(&format!("Values at cycle {c}"));
    let desc = {
        let DocKind::Mapping(m) = &h.state().doc(doc).unwrap().kind else {
            unreachable!()
        };
        tessera_gui::docs::node_desc(&m.mapping.kernel, reg.node)
    };
    h.get_by_label_contains(&format!(
        "Register PE {} r{}: {desc} (iteration {}) = {produced}",
        reg.pe, reg.reg, reg.iteration
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

    // A mapping edited by hand so that two ops share a PE in the same cycle: in shape, but
    // the checker refuses it, as `tessera sim` does.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let placements = v["placements"].as_array_mut().unwrap();
    let placed: Vec<usize> = (0..placements.len())
        .filter(|&i| !placements[i]["pe"].is_null())
        .collect();
    let first = placements[placed[0]].clone();
    placements[placed[1]]["pe"] = first["pe"].clone();
    placements[placed[1]]["cycle"] = first["cycle"].clone();
    let clash = dir.join("clash.json");
    std::fs::write(&clash, serde_json::to_string(&v).unwrap()).unwrap();
    open(&mut h, &clash);
    h.get_by_label_contains("the checker refuses this mapping");

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

fn no_errors(h: &Harness<'_, App>) {
    assert!(
        h.state().messages.iter().all(|m| !m.error),
        "{:?}",
        h.state().messages
    );
}

#[test]
fn dram_views_hammer_trng_puf_nist() {
    use tessera_gui::docs::DramDoc;
    use tessera_gui::views::dram::{FLIP_MAP_COLUMNS, flip_map_counts, flip_map_rows};
    let dir = common::scratch("dram");
    let mut h = harness(App::default());

    // A hammer run: the summary, then a flip-map cell read back under the pointer.
    let hammer = common::hammer_json(&dir);
    open(&mut h, &hammer);
    no_errors(&h);
    assert_eq!(h.state().view, View::Dram);
    let doc = h.state().active.unwrap();
    let (victim, hc, target) = {
        let DocKind::Dram(d) = &h.state().doc(doc).unwrap().kind else {
            panic!("not a DRAM report")
        };
        let DramDoc::Hammer(r) = d.as_ref() else {
            panic!("not a hammer report")
        };
        assert!(r.flips_total > 0, "the sample attack flips bits");
        let rows = flip_map_rows(r);
        let counts = flip_map_counts(r, &rows);
        assert_eq!(
            counts.iter().flatten().map(|&c| c as u64).sum::<u64>(),
            r.flips_total
        );
        // The first cell with flips: (row index, column, count).
        let (i, col, n) = counts
            .iter()
            .enumerate()
            .find_map(|(i, c)| c.iter().position(|&n| n > 0).map(|col| (i, col, c[col])))
            .unwrap();
        (
            r.victim_row,
            r.victim_hc_first,
            (rows[i], i, col, n, r.row_bits),
        )
    };
    h.get_by_label_contains(&format!("victim row {victim}: "));
    h.get_by_label_contains(&format!("per iteration, victim HC_first {hc}"));
    h.get_by_label("Bit-flip map");
    let (row, i, col, n, row_bits) = target;
    let per_col = row_bits.div_ceil(FLIP_MAP_COLUMNS);
    // The cell's centre in world units (label margin 70, cells 8 x 12).
    let world = egui::pos2(70.0 + col as f32 * 8.0 + 3.5, i as f32 * 12.0 + 5.5);
    let screen = h.state().views.dram.canvas.world_to_screen(world);
    h.hover_at(screen);
    h.run();
    assert_eq!(
        h.state().views.dram.hovered_cell,
        Some((row, col as u32 * per_col, n))
    );

    // The same report from a future Tessera, and from before format versions.
    let text = std::fs::read_to_string(&hammer).unwrap();
    let future = dir.join("future-hammer.json");
    std::fs::write(
        &future,
        text.replacen("\"format_version\": 1", "\"format_version\": 99", 1),
    )
    .unwrap();
    open(&mut h, &future);
    h.get_by_label_contains("hammer report format version 99, this Tessera reads version 1");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("format_version");
    let old = dir.join("old-hammer.json");
    std::fs::write(&old, v.to_string()).unwrap();
    open(&mut h, &old);
    h.get_by_label_contains("hammer report without a format_version");
    assert_eq!(h.state().docs.len(), 1);
    h.state_mut().messages.clear();

    // A TRNG run with its NIST battery: the entropy summary and the P-value table.
    let trng = common::trng_json(&dir);
    open(&mut h, &trng);
    no_errors(&h);
    let (mean, freq_p) = {
        let DocKind::Dram(d) = &h.state().active_doc().unwrap().kind else {
            panic!("not a DRAM report")
        };
        let DramDoc::Trng { trng, nist } = d.as_ref() else {
            panic!("not a TRNG report")
        };
        let n = nist.as_ref().unwrap();
        let freq = n.tests.iter().find(|t| t.name == "Frequency").unwrap();
        assert!(freq.skipped.is_none());
        (trng.mean_entropy_per_bitline, freq.min_p())
    };
    h.get_by_label_contains(&format!("mean entropy {mean:.3} bit per bitline"));
    h.get_by_label("Frequency");
    // Its single P-value, in the min P and P-values columns.
    assert!(h.query_all_by_label(&format!("{freq_p:.6}")).count() >= 1);

    // A PUF run: the inter-device row, then the Jaccard histograms.
    let puf = common::puf_json(&dir);
    open(&mut h, &puf);
    no_errors(&h);
    let (uniformity, aliasing) = {
        let DocKind::Dram(d) = &h.state().active_doc().unwrap().kind else {
            panic!("not a DRAM report")
        };
        let DramDoc::Puf(r) = d.as_ref() else {
            panic!("not a PUF report")
        };
        (r.uniformity.mean, r.bit_aliasing_mean)
    };
    h.get_by_label_contains(&format!(
        "uniformity mean {uniformity:.3}, bit-aliasing mean {aliasing:.3}"
    ));
    // The statistics row and the histogram's legend entry.
    assert_eq!(h.query_all_by_label("inter").count(), 2);
    assert!(!h.state().views.dram.jaccard);
    h.get_by_label("Jaccard index").click();
    h.run();
    assert!(h.state().views.dram.jaccard);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn accel_view_table_roofline_and_svg_export() {
    let dir = common::scratch("accel");
    let path = common::accel_json(&dir);
    let mut h = harness(App::default());
    open(&mut h, &path);
    no_errors(&h);
    assert_eq!(h.state().view, View::Accel);
    // The roofs name the spec fields they come from.
    h.get_by_label_contains("Compute roof: rows x cols = 16 x 16 = 256 MACs/cycle");
    h.get_by_label_contains("(spec `dram.bandwidth_bytes_per_cycle`)");
    let (name, cycles) = {
        let DocKind::Accel(r) = &h.state().active_doc().unwrap().kind else {
            panic!("not an accelerator report")
        };
        let l = &r.layers[3];
        (l.name.clone(), l.perf.unwrap().total_cycles)
    };
    h.get_by_label(&name).click();
    h.run();
    assert_eq!(h.state().views.accel.selected_layer, Some(3));
    // Its row shows its cycles; the roofline marks it.
    assert!(h.query_all_by_label(&cycles.to_string()).count() >= 1);
    h.get_by_label(&format!("selected: {name}"));

    // SVG export of the view: the table's text and the roofline's path are in the file.
    h.state_mut().persisted.last_folder = Some(dir.clone());
    h.state_mut().command(Command::ExportSvg);
    h.run();
    no_errors(&h);
    let svg_path = h.state().last_export.clone().unwrap();
    assert_eq!(svg_path.extension().unwrap(), "svg");
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<svg "));
    assert!(
        svg.contains(&format!(">{name}</text>")),
        "layer name missing"
    );
    assert!(svg.contains("<polyline"), "no roofline path");
    // Text painted in the widget colour gets the real colour, not egui's placeholder.
    assert!(!svg.contains("#80ff00"), "placeholder colour in the SVG");
    // Each text row carries the width egui laid it out at (a browser's font is fitted to
    // it), and the table's striped rows (an additive colour in egui) are not dropped.
    let name_line = svg
        .lines()
        .find(|l| l.ends_with(&format!(">{name}</text>")))
        .unwrap();
    assert!(
        name_line.contains("textLength=\"") && name_line.contains("lengthAdjust="),
        "{name_line}"
    );
    assert!(
        svg.contains("fill=\"#ffffff\" fill-opacity=\"0.0"),
        "no faint stripe"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn accel_search_design_details() {
    let dir = common::scratch("accel-search");
    let run = common::accel_run(&dir, 24);
    let mut h = harness(App::default());
    open(&mut h, &run);
    no_errors(&h);
    let doc = h.state().active.unwrap();
    let (id, metrics) = {
        let DocKind::Search(s) = &h.state().doc(doc).unwrap().kind else {
            panic!("not a search")
        };
        let id = s.front[0];
        (id, s.record(id).unwrap().metrics.clone())
    };
    h.get_by_label_contains(&format!("design {id}: ")).click();
    // The click selects the design; the next frame asks for its details, which start a
    // job. Step until it runs and wait for it: `run` would fail while its spinner repaints
    // (it did in CI, with other tests loading the machine, when the job outlasted
    // kittest's steps).
    for _ in 0..4 {
        h.step();
        if !h.state().jobs.running.is_empty() {
            break;
        }
    }
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    no_errors(&h);
    h.get_by_label(&format!("Design {id}: decoded fields"));
    h.get_by_label_contains("Network `resnet50`");
    let app = h.state();
    let Some(Ok(d)) = app.views.search.details.get(&(doc, id)) else {
        panic!("no details: {:?}", app.messages)
    };
    // What the GUI shows is what the search scored.
    let t = d.report.totals.unwrap();
    assert_eq!(t.total_cycles as f64, metrics["cycles"]);
    assert_eq!(t.macs as f64, metrics["macs"]);
    assert_eq!(t.energy.total_pj / 1e9, metrics["energy_mj"]);
    assert_eq!((d.report.rows, d.report.cols), (d.spec.rows, d.spec.cols));
    let rec = match &app.doc(doc).unwrap().kind {
        DocKind::Search(s) => s.record(id).unwrap().clone(),
        _ => unreachable!(),
    };
    assert_eq!(rec.design["rows"].as_f64().unwrap(), d.spec.rows as f64);
    assert_eq!(rec.design["cols"].as_f64().unwrap(), d.spec.cols as f64);
    let _ = std::fs::remove_dir_all(dir);
}

/// A joint digits search (network genes x accelerator fields): a design's details are its
/// trained network's layers at the precisions its genes chose, on its accelerator, scored
/// as the search scored them.
#[test]
fn digits_search_design_details() {
    let dir = common::scratch("digits-search");
    let run = common::digits_run(&dir, 8);
    let mut h = harness(App::default());
    open(&mut h, &run);
    no_errors(&h);
    let doc = h.state().active.unwrap();
    let (id, metrics, design) = {
        let DocKind::Search(s) = &h.state().doc(doc).unwrap().kind else {
            panic!("not a search")
        };
        // A front design the accelerator scored (infeasible ones have no metrics).
        let id = *s
            .front
            .iter()
            .find(|&&id| s.record(id).unwrap().metrics.contains_key("energy_mj"))
            .expect("a scored design on the front");
        let r = s.record(id).unwrap();
        (id, r.metrics.clone(), r.design.clone())
    };
    h.get_by_label_contains(&format!("design {id}: ")).click();
    h.run();
    // A digits design's network is retrained on request only.
    assert!(h.state().views.search.details.is_empty());
    h.get_by_label(&format!(
        "Compute design {id}'s layers and roofline (retrains its network, deterministically)"
    ))
    .click();
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    no_errors(&h);
    h.get_by_label(&format!("Design {id}: decoded fields"));
    let (layer0, layers) = {
        let app = h.state();
        let Some(Ok(d)) = app.views.search.details.get(&(doc, id)) else {
            panic!("no details: {:?}", app.messages)
        };
        // The accelerator fields of the design.
        assert_eq!(design["rows"].as_f64().unwrap(), d.spec.rows as f64);
        assert_eq!(design["cols"].as_f64().unwrap(), d.spec.cols as f64);
        // The network at the precisions its genes chose.
        for l in &d.network.layers {
            let p = l
                .precision
                .expect("a digits network sets per-layer precisions");
            assert_eq!(
                format!("{:?}", p.weight),
                design["weight_bits"].as_str().unwrap(),
                "layer {}",
                l.name
            );
        }
        let fc = d
            .network
            .layers
            .iter()
            .filter(|l| matches!(l.op, tessera_accel::layer::Op::Fc { .. }))
            .count();
        let hidden = design["hidden"].as_f64().unwrap();
        assert_eq!(
            fc,
            if hidden > 0.0 { 2 } else { 1 },
            "{:?}",
            d.network.layers
        );
        // Scored as the search scored it.
        let t = d.report.totals.unwrap();
        assert_eq!(t.total_cycles as f64, metrics["cycles"]);
        assert_eq!(t.energy.total_pj / 1e9, metrics["energy_mj"]);
        assert!(
            d.files.iter().any(|f| f == "network-metrics.json"),
            "{:?}",
            d.files
        );
        (d.network.layers[0].name.clone(), d.network.layers.len())
    };
    h.get_by_label_contains(&format!("): {layers} layers"));
    h.get_by_label_contains(&format!("{layer0}: "));
    let _ = std::fs::remove_dir_all(dir);
}

/// A file dropped on the window (what eframe hands egui on a native drop).
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn drag_and_drop_opens_files() {
    let dir = common::scratch("drop");
    let path = common::puf_json(&dir);
    let mut h = harness(App::default());
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(path.clone())));
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    no_errors(&h);
    assert_eq!(h.state().docs.len(), 1);
    assert_eq!(h.state().docs[0].path, path);
    assert_eq!(h.state().view, View::Dram);
    let _ = std::fs::remove_dir_all(dir);
}

/// eframe's storage, in memory.
#[derive(Default)]
struct MemStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn state_persists_through_eframe_storage() {
    let dir = common::scratch("persist");
    let path = common::accel_json(&dir);
    let mut h = harness(App::default());
    open(&mut h, &path);
    h.get_by_label("Compare").click();
    h.run();
    h.state_mut().persisted.run.kernel = "workloads/kernels/dot.tk".into();
    let mut storage = MemStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    assert!(storage.0.contains_key(eframe::APP_KEY));

    let back = tessera_gui::app::load_persisted(Some(&storage));
    assert_eq!(back.last_folder.as_deref(), Some(dir.as_path()));
    assert_eq!(back.recent, vec![path.clone()]);
    assert_eq!(back.view, View::Compare);
    assert_eq!(back.run.kernel, "workloads/kernels/dot.tk");
    // A new window starts where the last one was left.
    let h2 = harness(App::new(back));
    assert_eq!(h2.state().view, View::Compare);
    // Nothing stored: the defaults.
    let none = tessera_gui::app::load_persisted(None);
    assert_eq!(none.view, View::default());
    assert!(none.recent.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dram_hammer_comparison_and_nist_file() {
    use tessera_gui::docs::DramDoc;
    let dir = common::scratch("dram-compare");
    let mut h = harness(App::default());
    open(&mut h, &common::hammer_compare_json(&dir));
    no_errors(&h);
    let (label, victim, flips) = {
        let DocKind::Dram(d) = &h.state().active_doc().unwrap().kind else {
            panic!("not a DRAM report")
        };
        let DramDoc::HammerCompare(runs) = d.as_ref() else {
            panic!("not a comparison")
        };
        assert_eq!(runs.len(), 5);
        let r = &runs[2];
        (r.label.clone(), r.report.victim_row, r.report.flips_total)
    };
    h.get_by_label_contains("Hammer comparison: 5 runs");
    assert_eq!(h.state().views.dram.run, 0);
    h.get_by_label(&label).click();
    h.run();
    assert_eq!(h.state().views.dram.run, 2);
    h.get_by_label(&format!("Run `{label}`"));
    h.get_by_label_contains(&format!("victim row {victim}: "));
    h.get_by_label_contains(&format!(": {flips} flips in "));

    // A `tessera dram nist --json` file: its input line and the verdicts.
    open(&mut h, &common::nist_json(&dir));
    no_errors(&h);
    h.get_by_label("input: bits.txt, 120000 bits read as ascii");
    let (verdict, passed) = {
        let DocKind::Dram(d) = &h.state().active_doc().unwrap().kind else {
            panic!("not a DRAM report")
        };
        let DramDoc::Nist { report, .. } = d.as_ref() else {
            panic!("not a NIST report")
        };
        (report.verdict, report.passed)
    };
    let word = match verdict {
        tessera_dram::nist::Verdict::Pass => "PASS",
        tessera_dram::nist::Verdict::Fail => "FAIL",
    };
    h.get_by_label_contains(&format!("alpha 0.01: {word} ({passed} pass"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Cancel in the status bar stops a running mapping: the job's thread ends within a
/// placement round, not at the end of its 600 s budget.
#[test]
fn cancel_stops_a_running_mapping() {
    let dir = common::scratch("cancel");
    let tk = common::fanout_kernel(&dir);
    let mut h = harness(App::default());
    {
        let run = &mut h.state_mut().persisted.run;
        run.kernel = tk.display().to_string();
        run.arch = "mesh-4x4".into();
        run.time_limit_s = 600.0;
        run.simulate = false;
    }
    h.state_mut().command(Command::SetView(View::Run));
    h.run();
    h.get_by_label("Map and simulate").click();
    h.step();
    std::thread::sleep(Duration::from_millis(1000));
    h.step();
    assert_eq!(h.state().jobs.running.len(), 1, "{:?}", h.state().messages);
    assert_eq!(h.state().jobs.threads_alive(), 1);
    h.get_by_label("Cancel").click();
    h.step();
    h.step();
    assert!(
        h.state().jobs.running.is_empty(),
        "{:?}",
        h.state().messages
    );
    let t0 = std::time::Instant::now();
    while h.state().jobs.threads_alive() > 0 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        h.state().jobs.threads_alive(),
        0,
        "the mapping thread still runs {:?} after cancel",
        t0.elapsed()
    );
    h.run();
    assert!(
        h.state()
            .messages
            .iter()
            .any(|m| !m.error && m.text.contains("cancelled")),
        "{:?}",
        h.state().messages
    );
    assert!(h.state().docs.is_empty(), "a cancelled run opens nothing");

    // The same for a comparison run from the Compare view, whose progress names the cell.
    {
        let form = &mut h.state_mut().persisted.compare;
        form.kernels = tk.display().to_string();
        form.presets = vec!["mesh-4x4".into(), "hycube-4x4".into()];
        form.extra.clear();
        form.time_limit_s = 600.0;
    }
    h.state_mut().command(Command::SetView(View::Compare));
    h.run();
    h.get_by_label("Run comparison").click();
    h.step();
    std::thread::sleep(Duration::from_millis(1000));
    h.step();
    h.step();
    assert_eq!(
        h.state().jobs.running.len(),
        1,
        "{:?} {:?} {}",
        h.state().messages,
        h.state().docs.iter().map(|d| &d.title).collect::<Vec<_>>(),
        h.state().jobs.threads_alive()
    );
    h.get_by_label_contains("fanout100 on hycube-4x4 (0 of 2 done)");
    h.get_by_label("Cancel").click();
    h.step();
    let t0 = std::time::Instant::now();
    while h.state().jobs.threads_alive() > 0 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        h.state().jobs.threads_alive(),
        0,
        "compare still runs after cancel"
    );
    h.run();
    assert!(
        h.state().docs.is_empty(),
        "a cancelled comparison opens nothing"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Compare from the GUI: two kernels on two presets through tessera-flow's compare, shown
/// as a report document with its table.
#[test]
fn compare_runs_from_the_gui() {
    let mut h = harness(App::default());
    {
        let form = &mut h.state_mut().persisted.compare;
        form.kernels = ["fir.tk", "dot.tk"]
            .map(|k| {
                common::repo()
                    .join("workloads/kernels")
                    .join(k)
                    .display()
                    .to_string()
            })
            .join("\n");
        form.presets = vec!["hycube-4x4".into(), "mesh-4x4".into()];
        form.extra = "(preset: \"mesh-4x4\", set: {\"interconnect.max_hops_per_cycle\": 2})".into();
    }
    h.state_mut().command(Command::SetView(View::Compare));
    h.run();
    // Presets in preset order, then the extra line: the baseline is the first preset.
    let archs = h.state().persisted.compare.archs();
    assert_eq!(archs.len(), 3, "{archs:?}");
    h.get_by_label_contains("3 configuration(s): ");
    h.get_by_label("Run comparison").click();
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    let text = {
        let app = h.state();
        assert!(app.messages.iter().all(|m| !m.error), "{:?}", app.messages);
        let DocKind::Compare(r) = &app.active_doc().unwrap().kind else {
            panic!("no compare report")
        };
        assert_eq!(app.view, View::Compare);
        assert_eq!(r.archs.len(), 3);
        assert_eq!(r.archs[0].label, archs[0]);
        assert_eq!(r.kernels.len(), 2);
        assert_eq!(r.failures, 0);
        let names: Vec<&str> = r.kernels.iter().map(|k| k.kernel.as_str()).collect();
        assert_eq!(names, ["fir", "dot"]);
        for k in &r.kernels {
            assert!(k.compared, "{}: {:?}", k.kernel, k.results);
            // The baseline's ratios are 1.
            assert_eq!(k.results[0].speedup, Some(1.0));
        }
        // A cell as the table shows it.
        let c = &r.kernels[0].results[1];
        format!(
            "II {} | {} cyc | {:.0} pJ",
            c.ii.unwrap(),
            c.cycles.unwrap(),
            c.energy_pj.unwrap()
        )
    };
    h.get_by_label_contains(&text);
    h.get_by_label("Geometric means against the baseline");
}

/// The SVG export of every view that draws a canvas or a plot, written by the real app for
/// the browser check of docs/gui/README.md (render each file with headless Chromium and
/// compare it with the window). Ignored: it only writes files. Run it with
/// `TESSERA_SVG_OUT=/some/folder cargo test -p tessera-gui --test app -- --ignored svg_exports`.
#[test]
#[ignore]
fn svg_exports_of_every_view() {
    let dir = common::scratch("svg-export");
    let out = std::env::var_os("TESSERA_SVG_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.join("out"));
    std::fs::create_dir_all(&out).unwrap();
    let mut h = harness(App::default());
    let export = |h: &mut Harness<'_, App>, name: &str| {
        h.state_mut().persisted.last_folder = Some(dir.clone());
        h.state_mut().command(Command::ExportSvg);
        h.run();
        no_errors(h);
        let svg = h.state().last_export.clone().unwrap();
        assert_eq!(svg.extension().unwrap(), "svg");
        std::fs::rename(&svg, out.join(format!("{name}.svg"))).unwrap();
    };
    // iir_biquad on compose-4x4 (a COMPOSE chain, registers, loop-carried edges) as in
    // docs/gui/schedule.png and dfg.png; fir on hycube-4x4 for the replay.
    let iir = common::kernel_mapping(&dir, "iir_biquad.tk", "compose-4x4");
    open(&mut h, &iir);
    no_errors(&h);
    export(&mut h, "schedule");
    h.get_by_label("All slots").click();
    h.run();
    export(&mut h, "schedule-all-slots");
    h.get_by_label("All slots").click();
    h.run();
    h.get_by_label("DFG").click();
    h.run();
    export(&mut h, "dfg");
    let mapping = common::fir_mapping(&dir, "hycube-4x4");
    open(&mut h, &mapping);
    no_errors(&h);
    h.get_by_label("Simulation").click();
    h.run();
    h.get_by_label("Simulate").click();
    h.step();
    h.state_mut().wait_for_jobs(WAIT);
    h.run();
    // A cycle in the steady state, where values sit in registers and cross links.
    let c = {
        let DocKind::Mapping(m) = &h.state().active_doc().unwrap().kind else {
            panic!("not a mapping")
        };
        m.cycles
            .iter()
            .enumerate()
            .skip(m.cycles.len() / 2)
            .find(|(_, r)| !r.links.is_empty() && !r.regs.is_empty())
            .map(|(c, _)| c)
            .unwrap_or(0)
    };
    h.state_mut().views.sim.cycle = c;
    h.run();
    export(&mut h, "replay");
    let run = common::zdt1_run(&dir, 300);
    open(&mut h, &run);
    no_errors(&h);
    export(&mut h, "search");
    let accel = common::accel_json(&dir);
    open(&mut h, &accel);
    no_errors(&h);
    export(&mut h, "accel");
    for (name, path) in [
        ("dram-hammer", common::hammer_json(&dir)),
        ("dram-trng", common::trng_json(&dir)),
        ("dram-puf", common::puf_json(&dir)),
    ] {
        open(&mut h, &path);
        no_errors(&h);
        assert_eq!(h.state().view, View::Dram);
        export(&mut h, name);
    }
    let _ = std::fs::remove_dir_all(dir);
}
