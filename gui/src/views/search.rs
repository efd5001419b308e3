//! Co-search view: the Pareto scatter of a run folder (selectable axes, colour by a third
//! metric, feasible vs infeasible, constraint lines, hover tooltip, click for a design's
//! details), the hypervolume over evaluations, and the front as a table; refreshed live
//! while the search appends to `results.jsonl`.

use super::{colors, ramp};
use crate::app::ViewCtx;
use crate::docs::{DesignDetails, DocId, SearchDoc};
use crate::selection::Selection;
use eframe::egui::{self, Color32};
use egui_plot::{HLine, Line, MarkerShape, Plot, PlotPoint, PlotPoints, Points, VLine};

/// Colour bins when colouring by a metric (one plot series each).
const COLOR_BINS: usize = 8;
/// Rows of the front table drawn at most.
const FRONT_ROWS: usize = 500;

/// Computed design details by (document, design id).
pub type DetailsMap = std::collections::HashMap<(DocId, u64), Result<Box<DesignDetails>, String>>;

#[derive(Default)]
pub struct SearchState {
    pub x: Option<String>,
    pub y: Option<String>,
    pub color: Option<String>,
    cache: Option<Series>,
    /// Last frame's plot transform: markers that would land on an already drawn pixel are
    /// skipped (a 100,000-point cloud draws the same picture from far fewer markers).
    last_transform: Option<egui_plot::PlotTransform>,
    /// Pixels already covered this frame (one bit per screen pixel of the plot).
    covered: Vec<u64>,
    /// Draw every marker (no thinning); for measuring what thinning saves.
    pub draw_all_markers: bool,
    /// Designs' spec, network and per-layer report (accelerator searches), by (doc, id).
    pub details: DetailsMap,
    /// Details being computed.
    pub details_pending: std::collections::HashSet<(DocId, u64)>,
    /// The layer picked in a design's table or roofline.
    pub detail_layer: Option<usize>,
    /// The bottom panel shows the hypervolume (false: the selected design's details).
    pub show_hv: bool,
}

/// The points of `pts` that land on a pixel not yet covered (by these or earlier series),
/// under the transform of the previous frame; all of them when there is none yet.
fn thin(
    pts: &[PlotPoint],
    t: Option<&egui_plot::PlotTransform>,
    covered: &mut [u64],
) -> Vec<PlotPoint> {
    let Some(t) = t else {
        return pts.to_vec();
    };
    let f = *t.frame();
    let (w, h) = (
        f.width().max(1.0) as usize + 1,
        f.height().max(1.0) as usize + 1,
    );
    if covered.len() * 64 < w * h {
        return pts.to_vec();
    }
    let mut out = Vec::with_capacity(pts.len().min(w * h));
    for p in pts {
        let s = t.position_from_point(p);
        let (x, y) = (s.x - f.min.x, s.y - f.min.y);
        if !(x >= 0.0 && y >= 0.0 && (x as usize) < w && (y as usize) < h) {
            continue; // outside the plot: not drawn anyway
        }
        let bit = y as usize * w + x as usize;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        if covered[word] & mask == 0 {
            covered[word] |= mask;
            out.push(*p);
        }
    }
    out
}

/// The plot series of one (document, axes, colour, record count), rebuilt only when one
/// of these changes, so a frame borrows them instead of rebuilding 100,000 points.
struct Series {
    key: (DocId, String, String, Option<String>, usize),
    bins: Vec<Vec<PlotPoint>>,
    infeasible: Vec<PlotPoint>,
    front: Vec<PlotPoint>,
    /// Every drawn point with its record id (for picking).
    all: Vec<(PlotPoint, u64)>,
    color_range: Option<(f64, f64)>,
}

fn value(s: &SearchDoc, r: &tessera_study::run::Record, metric: &str) -> Option<f64> {
    r.metrics.get(metric).copied().or_else(|| {
        s.objective_names()
            .iter()
            .position(|o| o == metric)
            .and_then(|i| r.objectives.get(i).copied())
    })
}

fn build(s: &SearchDoc, key: (DocId, String, String, Option<String>, usize)) -> Series {
    let (_, x, y, c, _) = &key;
    let cvals: Vec<f64> = match c {
        Some(c) => s
            .records
            .iter()
            .filter_map(|r| value(s, r, c))
            .filter(|v| v.is_finite())
            .collect(),
        None => Vec::new(),
    };
    let color_range = (!cvals.is_empty()).then(|| {
        cvals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            })
    });
    let mut bins = vec![Vec::new(); if c.is_some() { COLOR_BINS } else { 1 }];
    let mut infeasible = Vec::new();
    let mut all = Vec::with_capacity(s.records.len());
    for r in &s.records {
        let (Some(px), Some(py)) = (value(s, r, x), value(s, r, y)) else {
            continue;
        };
        if !px.is_finite() || !py.is_finite() {
            continue;
        }
        let p = PlotPoint::new(px, py);
        all.push((p, r.id));
        if !r.feasible {
            infeasible.push(p);
            continue;
        }
        let bin = match (c, color_range) {
            (Some(c), Some((lo, hi))) => value(s, r, c)
                .map(|v| (((v - lo) / (hi - lo).max(1e-300)) * COLOR_BINS as f64) as usize)
                .unwrap_or(0)
                .min(COLOR_BINS - 1),
            _ => 0,
        };
        bins[bin].push(p);
    }
    let front = s
        .front
        .iter()
        .filter_map(|&id| s.record(id))
        .filter_map(|r| Some(PlotPoint::new(value(s, r, x)?, value(s, r, y)?)))
        .collect();
    Series {
        key,
        bins,
        infeasible,
        front,
        all,
        color_range,
    }
}

fn pick_metric(
    ui: &mut egui::Ui,
    label: &str,
    current: &mut Option<String>,
    options: &[String],
    allow_none: bool,
) {
    let l = ui.label(label);
    egui::ComboBox::from_id_salt(label)
        .selected_text(current.clone().unwrap_or_else(|| "none".into()))
        .show_ui(ui, |ui| {
            if allow_none && ui.selectable_label(current.is_none(), "none").clicked() {
                *current = None;
            }
            for o in options {
                if ui
                    .selectable_label(current.as_deref() == Some(o), o)
                    .clicked()
                {
                    *current = Some(o.clone());
                }
            }
        })
        .response
        .labelled_by(l.id);
}

pub fn show(ui: &mut egui::Ui, ctx: &mut ViewCtx, st: &mut SearchState, doc: DocId, s: &SearchDoc) {
    let objectives = s.objective_names();
    let mut options = objectives.clone();
    for m in &s.metrics {
        if !options.contains(m) {
            options.push(m.clone());
        }
    }
    if st.x.as_ref().is_none_or(|x| !options.contains(x)) {
        st.x = objectives.first().cloned();
    }
    if st.y.as_ref().is_none_or(|y| !options.contains(y)) {
        st.y = objectives.get(1).or(objectives.first()).cloned();
    }
    let feasible = s.records.iter().filter(|r| r.feasible).count();
    let budget = s.manifest.config.budget.evaluations;
    let done = s
        .summary
        .as_ref()
        .is_some_and(|x| x.evaluations as usize == s.records.len());
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "{}: {} evaluation(s){} ({} feasible), strategy {}, evaluator {}; hypervolume {:.6}; front {} design(s){}",
            s.manifest.name,
            s.records.len(),
            budget.map(|b| format!(" of {b}")).unwrap_or_default(),
            feasible,
            s.manifest.strategy,
            s.manifest.evaluator,
            s.hv.last().copied().unwrap_or(0.0),
            s.front.len(),
            if s.front_feasible || s.front.is_empty() { "" } else { " (nothing feasible: least-violating shown)" },
        ));
        if !done {
            ui.colored_label(colors::RELATED, "live: refreshing while results.jsonl grows");
        }
    });
    if let Some(e) = &s.refresh_error {
        ui.colored_label(colors::CRITICAL, e);
    }
    if let Err(e) = &s.config {
        ui.colored_label(colors::CRITICAL, format!("config: {e}"));
    }
    ui.horizontal(|ui| {
        pick_metric(ui, "X axis", &mut st.x, &options, false);
        pick_metric(ui, "Y axis", &mut st.y, &options, false);
        pick_metric(ui, "Colour by", &mut st.color, &options, true);
    });
    let (Some(x), Some(y)) = (st.x.clone(), st.y.clone()) else {
        ui.label("The run has no objectives to plot.");
        return;
    };
    let key = (doc, x.clone(), y.clone(), st.color.clone(), s.records.len());
    if st.cache.as_ref().is_none_or(|c| c.key != key) {
        st.cache = Some(build(s, key));
    }
    let Some(series) = st.cache.as_ref() else {
        return;
    };
    if let (Some(c), Some((lo, hi))) = (&st.color, series.color_range) {
        ui.horizontal(|ui| {
            ui.label(format!("{c}:"));
            for b in 0..COLOR_BINS {
                let t = b as f64 / (COLOR_BINS - 1) as f64;
                ui.colored_label(
                    ramp(t),
                    format!(
                        "{:.3}",
                        lo + (hi - lo) * (b as f64 + 0.5) / COLOR_BINS as f64
                    ),
                );
            }
        });
    }
    let selected = ctx.selection.design_in(doc);
    egui::Panel::right("front table")
        .default_size(260.0)
        .show(ui, |ui| {
            ui.strong(format!("Pareto front ({} designs)", s.front.len()));
            egui::ScrollArea::vertical().show(ui, |ui| {
                for &id in s.front.iter().take(FRONT_ROWS) {
                    let Some(r) = s.record(id) else { continue };
                    let text = format!(
                        "design {id}: {x} {}, {y} {}",
                        value(s, r, &x)
                            .map(|v| format!("{v:.4}"))
                            .unwrap_or_default(),
                        value(s, r, &y)
                            .map(|v| format!("{v:.4}"))
                            .unwrap_or_default()
                    );
                    if ui.selectable_label(selected == Some(id), text).clicked() {
                        ctx.select(Selection::Design { doc, id });
                    }
                }
                if s.front.len() > FRONT_ROWS {
                    ui.label(format!("… and {} more", s.front.len() - FRONT_ROWS));
                }
            });
        });
    let accel = s.config.as_ref().is_ok_and(crate::docs::has_accelerator);
    if let Some(id) = selected
        && accel
        && !st.details.contains_key(&(doc, id))
        && !st.details_pending.contains(&(doc, id))
        && !matches!(
            s.config.as_ref().map(|c| &c.config.evaluator),
            Ok(tessera_study::config::EvaluatorSpec::DigitsAccel { .. })
        )
    {
        // Cheap (no training): computed as soon as the design is picked.
        ctx.push(crate::app::Command::DesignDetails { doc, id });
    }
    let details = selected.filter(|_| accel);
    // Two panels (each remembers its own height): the hypervolume alone, or with a
    // design's details, which need room.
    let tall = (ui.available_height() * 0.55).max(300.0);
    egui::Panel::bottom(if details.is_some() {
        "design details"
    } else {
        "hv"
    })
    .default_size(if details.is_some() { tall } else { 160.0 })
    .resizable(true)
    .show(ui, |ui| {
        if let Some(id) = details {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut st.show_hv, true, "Hypervolume");
                ui.selectable_value(
                    &mut st.show_hv,
                    false,
                    format!("Design {id}: layers and roofline"),
                );
            });
            if !st.show_hv {
                design_details(
                    ui,
                    ctx,
                    (&st.details, &st.details_pending),
                    &mut st.detail_layer,
                    doc,
                    s,
                    id,
                );
                return;
            }
        }
        ui.label("Hypervolume over evaluations");
        let pts: PlotPoints =
            s.hv.iter()
                .enumerate()
                .map(|(i, &h)| [i as f64 + 1.0, h])
                .collect();
        Plot::new("hv plot")
            .x_axis_label("evaluations")
            .y_axis_label("hypervolume")
            .allow_scroll(false)
            .show(ui, |p| {
                p.line(Line::new("hypervolume", pts).color(colors::ROUTE))
            });
    });
    egui::CentralPanel::default().show(ui, |ui| {
        let constraints: Vec<_> = s
            .config
            .as_ref()
            .map(|c| c.constraints.clone())
            .unwrap_or_default();
        let sel_point = selected
            .and_then(|id| series.all.iter().find(|(_, i)| *i == id))
            .map(|(p, _)| *p);
        // Thin the markers against last frame's transform (front and selection drawn whole),
        // the series drawn on top first.
        let t = st.last_transform.filter(|_| !st.draw_all_markers);
        let words = t
            .map(|t| {
                ((t.frame().width() as usize + 1) * (t.frame().height() as usize + 1)).div_ceil(64)
            })
            .unwrap_or(0);
        st.covered.clear();
        st.covered.resize(words, 0);
        let bins: Vec<Vec<PlotPoint>> = series
            .bins
            .iter()
            .rev()
            .map(|b| thin(b, t.as_ref(), &mut st.covered))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        // Drawn under the feasible points: thinned after them.
        let infeasible = thin(&series.infeasible, t.as_ref(), &mut st.covered);
        let resp = Plot::new(("pareto", doc))
            .x_axis_label(x.clone())
            .y_axis_label(y.clone())
            .legend(egui_plot::Legend::default())
            .show(ui, |p| {
                p.points(
                    Points::new("infeasible", infeasible.as_slice())
                        .color(colors::INFEASIBLE)
                        .shape(MarkerShape::Cross)
                        .radius(2.0)
                        .allow_hover(false),
                );
                let nbins = bins.len();
                for (b, pts) in bins.iter().enumerate() {
                    let color = if nbins == 1 {
                        colors::ROUTE
                    } else {
                        ramp(b as f64 / (nbins - 1) as f64)
                    };
                    let name = if nbins == 1 {
                        "feasible".to_string()
                    } else {
                        format!("feasible, bin {}", b + 1)
                    };
                    p.points(
                        Points::new(name, pts.as_slice())
                            .color(color)
                            .radius(2.0)
                            .filled(true)
                            .allow_hover(false),
                    );
                }
                p.points(
                    Points::new("Pareto front", series.front.as_slice())
                        .color(colors::SELECTED)
                        .shape(MarkerShape::Diamond)
                        .radius(4.0)
                        .filled(false)
                        .allow_hover(false),
                );
                for c in &constraints {
                    let name = format!(
                        "{} {} {}",
                        c.metric,
                        if c.at_most { "<=" } else { ">=" },
                        c.bound
                    );
                    if c.metric == x {
                        p.vline(VLine::new(name, c.bound).color(colors::CRITICAL));
                    } else if c.metric == y {
                        p.hline(HLine::new(name, c.bound).color(colors::CRITICAL));
                    }
                }
                if let Some(sp) = sel_point {
                    p.points(
                        Points::new("selected", vec![[sp.x, sp.y]])
                            .color(Color32::WHITE)
                            .radius(7.0)
                            .filled(false),
                    );
                }
                p.pointer_coordinate()
            });
        st.last_transform = Some(resp.transform);
        // Nearest point to the pointer, in screen space (over every point, not the thinned).
        let nearest = resp.response.hover_pos().and_then(|pos| {
            series
                .all
                .iter()
                .map(|(pt, id)| (resp.transform.position_from_point(pt).distance_sq(pos), *id))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .filter(|(d2, _)| *d2 < 12.0 * 12.0)
                .map(|(_, id)| id)
        });
        if let Some(id) = nearest
            && let Some(r) = s.record(id)
        {
            let text = format!(
                "design {id} ({})\n{x} = {}\n{y} = {}{}",
                if r.feasible { "feasible" } else { "infeasible" },
                value(s, r, &x).unwrap_or(f64::NAN),
                value(s, r, &y).unwrap_or(f64::NAN),
                st.color
                    .as_ref()
                    .map(|c| format!("\n{c} = {}", value(s, r, c).unwrap_or(f64::NAN)))
                    .unwrap_or_default()
            );
            resp.response.clone().on_hover_text_at_pointer(text);
            if resp.response.clicked() {
                ctx.select(Selection::Design { doc, id });
            }
        }
    });
}

/// A design of an accelerator search: its decoded fields, accelerator spec and network
/// layers, and its per-layer table and roofline (the Accelerator view's pieces).
fn design_details(
    ui: &mut egui::Ui,
    ctx: &mut ViewCtx,
    (details, pending): (&DetailsMap, &std::collections::HashSet<(DocId, u64)>),
    layer: &mut Option<usize>,
    doc: DocId,
    s: &SearchDoc,
    id: u64,
) {
    let Some(r) = s.record(id) else {
        return;
    };
    let result = details.get(&(doc, id));
    if result.is_none() {
        if pending.contains(&(doc, id)) {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("design {id}: emitting its spec and network, scoring its layers"));
            });
        } else if ui
            .button(format!(
                "Compute design {id}'s layers and roofline (retrains its network, deterministically)"
            ))
            .clicked()
        {
            ctx.push(crate::app::Command::DesignDetails { doc, id });
        }
        return;
    }
    let d = match result {
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            ui.colored_label(colors::CRITICAL, e);
            return;
        }
        None => return,
    };
    egui::Panel::left(("design fields", doc))
        .default_size(330.0)
        .resizable(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("design fields scroll")
                .show(ui, |ui| {
                    ui.strong(format!("Design {id}: decoded fields"));
                    egui::Grid::new("decoded").striped(true).show(ui, |ui| {
                        for (k, v) in &r.design {
                            ui.label(k);
                            ui.label(v.to_string());
                            ui.end_row();
                        }
                    });
                    let sp = &d.spec;
                    ui.strong(format!("Accelerator spec `{}`", sp.name));
                    egui::Grid::new("spec").striped(true).show(ui, |ui| {
                        let rows: [(&str, String); 9] = [
                            ("rows x cols", format!("{} x {}", sp.rows, sp.cols)),
                            ("dataflow", format!("{:?}", sp.dataflow)),
                            ("clock_mhz", format!("{}", sp.clock_mhz)),
                            ("weight precision", format!("{:?}", sp.weight_precision)),
                            (
                                "activation precision",
                                format!("{:?}", sp.activation_precision),
                            ),
                            (
                                "ifmap SRAM",
                                format!(
                                    "{} KiB, {} banks",
                                    sp.ifmap_sram.size_kb, sp.ifmap_sram.banks
                                ),
                            ),
                            (
                                "filter SRAM",
                                format!(
                                    "{} KiB, {} banks",
                                    sp.filter_sram.size_kb, sp.filter_sram.banks
                                ),
                            ),
                            (
                                "ofmap SRAM",
                                format!(
                                    "{} KiB, {} banks",
                                    sp.ofmap_sram.size_kb, sp.ofmap_sram.banks
                                ),
                            ),
                            (
                                "DRAM link",
                                format!(
                                    "{} B/cycle, {} cycles latency",
                                    sp.dram.bandwidth_bytes_per_cycle, sp.dram.latency_cycles
                                ),
                            ),
                        ];
                        for (k, v) in rows {
                            ui.label(k);
                            ui.label(v);
                            ui.end_row();
                        }
                    });
                    ui.strong(format!(
                        "Network `{}` (batch {}): {} layers",
                        d.network.name,
                        d.network.batch,
                        d.network.layers.len()
                    ));
                    for l in &d.network.layers {
                        ui.label(format!("{}: {:?}", l.name, l.op));
                    }
                });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        super::accel::summary(ui, &d.report);
        let h = ui.available_height();
        ui.allocate_ui(
            egui::vec2(ui.available_width(), (h * 0.55).max(200.0)),
            |ui| {
                super::accel::roofline(ui, ("design roofline", doc, id), &d.report, layer);
            },
        );
        super::accel::layer_table(ui, ("design layers", doc, id), &d.report, layer);
    });
}
