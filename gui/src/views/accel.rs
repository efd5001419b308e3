//! Accelerator view: a `tessera accel run --json` report (the systolic-array model of
//! `tessera-accel`) as a per-layer table and a roofline plot. Every number is the report's;
//! the roofline's two roofs are the spec's array size and DRAM link, as the report states
//! them (`peak_macs_per_cycle` = rows x cols, `dram_bandwidth_bytes_per_cycle` = the spec's
//! `dram.bandwidth_bytes_per_cycle`). The design details of a co-search reuse both pieces.

use super::colors;
use crate::docs::DocId;
use eframe::egui::{self, Color32, RichText};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotPoints, Points};
use tessera_accel::model::{Bound, NetworkReport};

#[derive(Default)]
pub struct AccelState {
    /// The layer picked in the table or on the roofline (index into `layers`).
    pub selected_layer: Option<usize>,
}

pub fn show(ui: &mut egui::Ui, st: &mut AccelState, doc: DocId, r: &NetworkReport) {
    summary(ui, r);
    let h = ui.available_height();
    ui.allocate_ui(
        egui::vec2(ui.available_width(), (h * 0.5).max(160.0)),
        |ui| {
            roofline(ui, ("roofline", doc), r, &mut st.selected_layer);
        },
    );
    ui.separator();
    layer_table(ui, ("layers", doc), r, &mut st.selected_layer);
}

/// Scale a count for people: 1.2k, 3.4M, 5.6G.
pub fn si(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2}G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// The design and where the roofline's roofs come from.
pub fn summary(ui: &mut egui::Ui, r: &NetworkReport) {
    ui.label(
        RichText::new(format!(
            "{} (batch {}) on {}: {}x{} {:?} array at {} MHz",
            r.network, r.batch, r.arch, r.rows, r.cols, r.dataflow, r.clock_mhz
        ))
        .strong(),
    );
    let peak_gmacs = r.peak_macs_per_cycle * r.clock_mhz / 1e3;
    let bw_gbs = r.dram_bandwidth_bytes_per_cycle * r.clock_mhz / 1e3;
    ui.label(format!(
        "Compute roof: rows x cols = {} x {} = {} MACs/cycle (spec `rows`, `cols`), {:.1} GMAC/s at `clock_mhz` {}. \
         Memory roof: {} bytes/cycle (spec `dram.bandwidth_bytes_per_cycle`), {:.1} GB/s. Ridge at {:.2} MACs/byte.",
        r.rows,
        r.cols,
        r.peak_macs_per_cycle,
        peak_gmacs,
        r.clock_mhz,
        r.dram_bandwidth_bytes_per_cycle,
        bw_gbs,
        r.ridge_macs_per_byte
    ));
    match &r.totals {
        Some(t) => {
            ui.label(format!(
                "Totals: {} layers, {} MACs, {} cycles ({} stalled), latency {:.3} ms, energy {:.3} mJ, utilisation {:.1}%, DRAM {:.2} MB, area {:.2} mm2",
                t.layers,
                si(t.macs as f64),
                si(t.total_cycles as f64),
                si(t.stall_cycles as f64),
                t.latency_ns / 1e6,
                t.energy.total_pj / 1e9,
                100.0 * t.utilisation,
                t.dram_bytes / 1e6,
                t.area.total_mm2
            ));
        }
        None => {
            ui.colored_label(
                colors::CRITICAL,
                format!(
                    "Infeasible: {}",
                    r.infeasible.as_deref().unwrap_or("a layer cannot run")
                ),
            );
        }
    }
}

/// log10 for the log-log roofline (the plot's axes show the powers of ten back).
fn lg(x: f64) -> f64 {
    x.log10()
}

fn pow10_label(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    let v = 10f64.powf(mark.value);
    if (1e-2..1e5).contains(&v) {
        format!("{}", (v * 1000.0).round() / 1000.0)
    } else {
        format!("{v:.0e}")
    }
}

/// The roofline of the report's design, every feasible layer a point at (operational
/// intensity, achieved MACs per cycle); click a point to pick its layer.
pub fn roofline(
    ui: &mut egui::Ui,
    id: impl egui::AsIdSalt,
    r: &NetworkReport,
    selected: &mut Option<usize>,
) {
    let pts: Vec<(usize, f64, f64, Bound)> = r
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let p = l.perf.as_ref()?;
            let x = p.roofline.intensity_macs_per_byte;
            let y = p.roofline.achieved_macs_per_cycle;
            (x.is_finite() && x > 0.0 && y.is_finite() && y > 0.0).then_some((
                i,
                x,
                y,
                p.roofline.bound,
            ))
        })
        .collect();
    let peak = r.peak_macs_per_cycle;
    let bw = r.dram_bandwidth_bytes_per_cycle;
    if !(peak > 0.0 && bw > 0.0) {
        ui.label("No roofline: the design has no PEs or no DRAM bandwidth.");
        return;
    }
    let ridge = peak / bw;
    let (mut lo, mut hi) = (ridge / 10.0, ridge * 10.0);
    for &(_, x, _, _) in &pts {
        lo = lo.min(x / 2.0);
        hi = hi.max(x * 2.0);
    }
    let roof: PlotPoints = vec![
        [lg(lo), lg(lo * bw)],
        [lg(ridge), lg(peak)],
        [lg(hi), lg(peak)],
    ]
    .into();
    let mut compute = Vec::new();
    let mut memory = Vec::new();
    for &(_, x, y, b) in &pts {
        match b {
            Bound::Compute => compute.push([lg(x), lg(y)]),
            Bound::Memory => memory.push([lg(x), lg(y)]),
        }
    }
    let sel = selected.and_then(|s| pts.iter().find(|p| p.0 == s));
    let resp = Plot::new(id)
        .x_axis_label("operational intensity (MACs per DRAM byte, log)")
        .y_axis_label("MACs per cycle (log)")
        .x_axis_formatter(pow10_label)
        .y_axis_formatter(pow10_label)
        .legend(Legend::default().position(egui_plot::Corner::RightBottom))
        .show(ui, |p| {
            p.line(
                Line::new(
                    format!("roofline: min({peak} MACs/cycle, intensity x {bw} B/cycle)"),
                    roof,
                )
                .color(colors::CRITICAL)
                .width(2.0),
            );
            p.points(
                Points::new("compute-bound layers", compute)
                    .color(colors::ROUTE)
                    .radius(4.0)
                    .filled(true),
            );
            p.points(
                Points::new("memory-bound layers", memory)
                    .color(colors::CARRIED)
                    .shape(MarkerShape::Square)
                    .radius(4.0)
                    .filled(true),
            );
            if let Some(&(i, x, y, _)) = sel {
                p.points(
                    Points::new(
                        format!("selected: {}", r.layers[i].name),
                        vec![[lg(x), lg(y)]],
                    )
                    .color(colors::SELECTED)
                    .radius(8.0)
                    .filled(false),
                );
            }
        });
    if resp.response.clicked()
        && let Some(pos) = resp.response.interact_pointer_pos()
    {
        let nearest = pts
            .iter()
            .map(|&(i, x, y, _)| {
                let s = resp
                    .transform
                    .position_from_point(&egui_plot::PlotPoint::new(lg(x), lg(y)));
                (s.distance_sq(pos), i)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .filter(|(d2, _)| *d2 < 14.0 * 14.0);
        if let Some((_, i)) = nearest {
            *selected = Some(i);
        }
    }
}

/// One row per layer: shape, folds, cycles, utilisation, traffic, roofline position,
/// energy; an infeasible layer shows why.
pub fn layer_table(
    ui: &mut egui::Ui,
    id: impl egui::AsIdSalt + Copy,
    r: &NetworkReport,
    selected: &mut Option<usize>,
) {
    ui.label(RichText::new(format!("Layers ({})", r.layers.len())).strong());
    egui::ScrollArea::both()
        .id_salt(("layer table scroll", id))
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new(("layer table", id))
                .striped(true)
                .show(ui, |ui| {
                    for h in [
                        "#",
                        "layer",
                        "kind",
                        "MACs",
                        "GEMM M x N x K (groups)",
                        "folds",
                        "compute cycles",
                        "stall cycles",
                        "total cycles",
                        "utilisation",
                        "DRAM bytes",
                        "MACs/byte",
                        "MACs/cycle",
                        "bound",
                        "energy (nJ)",
                        "latency (us)",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (i, l) in r.layers.iter().enumerate() {
                        ui.label(i.to_string());
                        if ui.selectable_label(*selected == Some(i), &l.name).clicked() {
                            *selected = Some(i);
                        }
                        ui.label(&l.kind);
                        match &l.perf {
                            Some(p) => {
                                ui.label(si(p.macs as f64));
                                ui.label(format!(
                                    "{} x {} x {} ({})",
                                    p.gemm_m, p.gemm_n, p.gemm_k, p.groups
                                ));
                                ui.label(p.folds.to_string());
                                ui.label(p.compute_cycles.to_string());
                                ui.label(p.stall_cycles.to_string());
                                ui.label(p.total_cycles.to_string());
                                ui.label(format!("{:.1}%", 100.0 * p.utilisation));
                                ui.label(si(p.dram_bytes));
                                ui.label(format!("{:.2}", p.roofline.intensity_macs_per_byte));
                                ui.label(format!("{:.2}", p.roofline.achieved_macs_per_cycle));
                                ui.label(match p.roofline.bound {
                                    Bound::Compute => "compute",
                                    Bound::Memory => "memory",
                                });
                                ui.label(format!("{:.1}", p.energy.total_pj / 1e3));
                                ui.label(format!("{:.2}", p.latency_ns / 1e3));
                            }
                            None => {
                                ui.label(
                                    RichText::new(format!(
                                        "cannot run: {}",
                                        l.infeasible.as_deref().unwrap_or("?")
                                    ))
                                    .color(Color32::from_rgb(230, 80, 70)),
                                );
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}
