//! DRAM / Processing-in-DRAM view: the reports of `tessera dram hammer|trng|puf|nist --json`
//! (types of `tessera-dram`). A hammer run is a bit-flip map (rows x bit positions, binned)
//! and the HC_first CDF; a comparison lists its runs; a TRNG run is its entropy per bitline
//! and entropy histogram; a PUF run its intra- and inter-device distance histograms; a NIST
//! battery its P-value table. Every number is the report's (the histograms of the PUF
//! distances are binned by `tessera_dram::puf::histogram01`).

use super::{colors, ramp};
use crate::canvas::Canvas;
use crate::docs::{DocId, DramDoc};
use eframe::egui::{self, Color32, Pos2, Rect, RichText, Vec2};
use egui_plot::{Bar, BarChart, HLine, Legend, Line, Plot, PlotPoints, Points, VLine};
use tessera_dram::disturb::HammerReport;
use tessera_dram::nist::{NistReport, TestVerdict, Verdict};
use tessera_dram::puf::PufReport;
use tessera_dram::trng::TrngReport;

/// Columns of the bit-flip map (each a range of bit positions of the row).
pub const FLIP_MAP_COLUMNS: u32 = 128;
/// A contiguous band of rows is drawn up to this many rows; wider, only flipped rows.
const CONTIGUOUS_ROWS: u32 = 64;
/// Bins of the PUF distance histograms over [0, 1].
pub const PUF_BINS: usize = 50;
/// Bitlines below this entropy are left out of the per-bitline plot.
pub const MIN_SHOWN_ENTROPY: f32 = 0.01;
const CELL: Vec2 = Vec2::new(8.0, 12.0);
const LABEL_W: f32 = 70.0;

#[derive(Default)]
pub struct DramState {
    pub canvas: Canvas,
    /// The run of a hammer comparison shown in detail.
    pub run: usize,
    /// PUF histograms of the Jaccard index instead of the fractional Hamming distance.
    pub jaccard: bool,
    /// The flip-map cell under the pointer last frame: (row, first bit, flips).
    pub hovered_cell: Option<(u32, u32, u32)>,
}

pub fn show(ui: &mut egui::Ui, st: &mut DramState, doc: DocId, d: &DramDoc) {
    match d {
        DramDoc::Hammer(r) => hammer(ui, st, doc, r),
        DramDoc::HammerCompare(runs) => {
            ui.label(RichText::new(format!("Hammer comparison: {} runs", runs.len())).strong());
            egui::Grid::new("hammer runs").striped(true).show(ui, |ui| {
                for h in [
                    "run",
                    "pattern",
                    "mitigation",
                    "tracker sees",
                    "flips",
                    "rows",
                    "preventive refreshes",
                    "overhead",
                ] {
                    ui.strong(h);
                }
                ui.end_row();
                for (i, r) in runs.iter().enumerate() {
                    let m = &r.report;
                    if ui.selectable_label(st.run == i, &r.label).clicked() {
                        st.run = i;
                        st.canvas.fit_pending = true;
                    }
                    ui.label(format!("{:?}", m.pattern));
                    ui.label(m.mitigation.as_deref().unwrap_or("none"));
                    ui.label(if m.mitigation.is_none() {
                        "-"
                    } else if r.tracker_sees_all_rows {
                        "all rows"
                    } else {
                        "ACT addresses"
                    });
                    ui.label(m.flips_total.to_string());
                    ui.label(m.rows_flipped.to_string());
                    ui.label(m.preventive_refreshes.to_string());
                    ui.label(format!("{:.2}%", 100.0 * m.mitigation_overhead));
                    ui.end_row();
                }
            });
            ui.separator();
            if let Some(r) = runs.get(st.run).or(runs.first()) {
                ui.label(RichText::new(format!("Run `{}`", r.label)).strong());
                hammer(ui, st, doc, &r.report);
            }
        }
        DramDoc::Trng { trng: t, nist } => {
            trng(ui, doc, t, nist.is_some());
            if let Some(n) = nist {
                ui.separator();
                nist_table(ui, n);
            }
        }
        DramDoc::Puf(r) => puf(ui, st, doc, r),
        DramDoc::Nist { report, input } => {
            if let Some(i) = input {
                ui.label(format!(
                    "input: {}, {} bits read as {}",
                    i.get("file").and_then(|v| v.as_str()).unwrap_or("?"),
                    i.get("bits").and_then(|v| v.as_u64()).unwrap_or(0),
                    i.get("format").and_then(|v| v.as_str()).unwrap_or("?")
                ));
            }
            nist_table(ui, report);
        }
    }
}

fn counts(v: &[(String, u64)]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|(r, n)| format!("{r} x{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows the flip map draws: a contiguous band around the flips and the victim when it
/// is narrow, else only the rows with flips.
pub fn flip_map_rows(r: &HammerReport) -> Vec<u32> {
    let lo = r
        .flip_map
        .iter()
        .map(|f| f.row)
        .chain([r.victim_row])
        .min()
        .unwrap_or(r.victim_row);
    let hi = r
        .flip_map
        .iter()
        .map(|f| f.row)
        .chain([r.victim_row])
        .max()
        .unwrap_or(r.victim_row);
    if hi - lo < CONTIGUOUS_ROWS {
        (lo.saturating_sub(2)..=hi.saturating_add(2)).collect()
    } else {
        let mut rows: Vec<u32> = r.flip_map.iter().map(|f| f.row).collect();
        if !rows.contains(&r.victim_row) {
            rows.push(r.victim_row);
            rows.sort_unstable();
        }
        rows
    }
}

/// Flips per (row, column) of the map: `counts[row_index][column]`.
pub fn flip_map_counts(r: &HammerReport, rows: &[u32]) -> Vec<Vec<u32>> {
    let per_col = r.row_bits.div_ceil(FLIP_MAP_COLUMNS).max(1);
    rows.iter()
        .map(|&row| {
            let last = FLIP_MAP_COLUMNS as usize - 1;
            let mut c = vec![0u32; last + 1];
            if let Ok(i) = r.flip_map.binary_search_by_key(&row, |f| f.row) {
                for &b in &r.flip_map[i].bits {
                    c[((b / per_col) as usize).min(last)] += 1;
                }
            }
            c
        })
        .collect()
}

fn hammer(ui: &mut egui::Ui, st: &mut DramState, doc: DocId, r: &HammerReport) {
    ui.label(
        RichText::new(format!(
            "{:?} hammering, victim row {}: disturbance {:.3} per iteration, victim HC_first {}",
            r.pattern, r.victim_row, r.disturbance_per_iteration, r.victim_hc_first
        ))
        .strong(),
    );
    ui.label(format!(
        "attack {:.3} ms, {} activations: {} flips in {} rows (1->0 {}, 0->1 {}), at distance 1/2: {}/{}, 64-bit words with 1/2/3+ flips {}/{}/{}",
        r.attack_time_ms,
        r.activations,
        r.flips_total,
        r.rows_flipped,
        r.flips_1_to_0,
        r.flips_0_to_1,
        r.flips_by_distance[0],
        r.flips_by_distance[1],
        r.words_with_flips[0],
        r.words_with_flips[1],
        r.words_with_flips[2],
    ));
    ui.label(format!(
        "mitigation {}: {} preventive refreshes, overhead {:.2}%; {} periodic refreshes; timing violations: {}; seed {}",
        r.mitigation.as_deref().unwrap_or("none"),
        r.preventive_refreshes,
        100.0 * r.mitigation_overhead,
        r.periodic_refreshes,
        counts(&r.timing_violations),
        r.seed
    ));
    let h = ui.available_height();
    let rows = flip_map_rows(r).len() as f32;
    let map_h = (rows * CELL.y + 40.0).clamp(120.0, h * 0.5);
    ui.allocate_ui(egui::vec2(ui.available_width(), map_h), |ui| {
        flip_map(ui, st, r)
    });
    ui.label(format!(
        "HC_first over sampled rows: min {}, mean {:.0} (CDF at {} points)",
        r.hc_first_min,
        r.hc_first_mean,
        r.hc_first_cdf.len()
    ));
    // A step CDF from the report's quantiles.
    let mut pts = Vec::with_capacity(2 * r.hc_first_cdf.len() + 1);
    let mut prev = 0.0;
    for &(hc, q) in &r.hc_first_cdf {
        pts.push([hc as f64, prev]);
        pts.push([hc as f64, q]);
        prev = q;
    }
    Plot::new(("hc_first cdf", doc))
        .x_axis_label("HC_first (aggressor activations)")
        .y_axis_label("fraction of rows")
        .legend(Legend::default())
        .allow_scroll(false)
        .show(ui, |p| {
            // A staircase has two points per x: keep egui_plot from merging them into a band.
            p.line(
                Line::new("HC_first CDF", PlotPoints::from(pts))
                    .color(colors::ROUTE)
                    .allow_band(false),
            );
            p.vline(
                VLine::new(
                    format!("victim HC_first {}", r.victim_hc_first),
                    r.victim_hc_first as f64,
                )
                .color(colors::CRITICAL),
            );
        });
}

fn flip_map(ui: &mut egui::Ui, st: &mut DramState, r: &HammerReport) {
    let rows = flip_map_rows(r);
    let counts = flip_map_counts(r, &rows);
    let max = counts.iter().flatten().copied().max().unwrap_or(0).max(1);
    let per_col = r.row_bits.div_ceil(FLIP_MAP_COLUMNS).max(1);
    ui.label(format!(
        "Bit-flip map: {} rows x {} bits, {} bits per cell; colour = flips in the cell (max {max})",
        rows.len(),
        r.row_bits,
        per_col
    ));
    let content = Rect::from_min_size(
        Pos2::ZERO,
        Vec2::new(
            LABEL_W + FLIP_MAP_COLUMNS as f32 * CELL.x,
            rows.len() as f32 * CELL.y,
        ),
    );
    let f = st.canvas.show(ui, content, "Bit-flip map");
    let visible = f.visible_world();
    let mut hovered = None;
    let hover = f.hover_world();
    for (i, (&row, c)) in rows.iter().zip(&counts).enumerate() {
        let y = i as f32 * CELL.y;
        if y + CELL.y < visible.min.y || y > visible.max.y {
            continue;
        }
        let label = if row == r.victim_row {
            format!("{row} V")
        } else {
            row.to_string()
        };
        f.painter.text(
            f.to_screen(Pos2::new(LABEL_W - 4.0, y + CELL.y / 2.0)),
            egui::Align2::RIGHT_CENTER,
            label,
            egui::FontId::monospace((11.0 * f.zoom).clamp(6.0, 18.0)),
            if row == r.victim_row {
                colors::CRITICAL
            } else {
                ui.visuals().text_color()
            },
        );
        for (col, &n) in c.iter().enumerate() {
            let cell = Rect::from_min_size(
                Pos2::new(LABEL_W + col as f32 * CELL.x, y),
                CELL - Vec2::splat(1.0),
            );
            let color = if n == 0 {
                Color32::from_gray(40)
            } else {
                ramp(0.15 + 0.85 * n as f64 / max as f64)
            };
            f.painter.rect_filled(f.rect_to_screen(cell), 0.0, color);
            if hover.is_some_and(|h| cell.contains(h)) {
                hovered = Some((row, col as u32 * per_col, n));
            }
        }
    }
    st.hovered_cell = hovered;
    if let Some((row, bit, n)) = hovered {
        f.response.clone().on_hover_text(format!(
            "row {row}, bits {bit}..{}: {n} flip(s)",
            (bit + per_col).min(r.row_bits)
        ));
    }
}

fn trng(ui: &mut egui::Ui, doc: DocId, t: &TrngReport, has_nist: bool) {
    ui.label(RichText::new(format!(
        "TRNG {:?}: {} rows activated, {} bitlines, mean entropy {:.3} bit per bitline, {} bitlines with >= 0.9 bit (estimated)",
        t.source, t.rows_activated, t.bitlines, t.mean_entropy_per_bitline, t.high_entropy_bitlines
    )).strong());
    ui.label(format!(
        "{} cache blocks selected {:?}: {:.0} bits of entropy -> {:.0} SHA-256 output bits per iteration; {:.3} Gb/s per bank, {:.3} Gb/s per channel ({} banks), {:.3} Gb/s per module; violations per iteration: {}; {} output bits{}",
        t.selected_blocks,
        t.selected_block_ids,
        t.entropy_per_iteration_bits,
        t.output_bits_per_iteration,
        t.throughput_gbps_per_bank,
        t.throughput_gbps_per_channel,
        t.banks,
        t.throughput_gbps_per_module,
        counts(&t.violations_per_iteration),
        t.output_bits_generated,
        if has_nist { ", NIST battery below" } else { "" }
    ));
    let h = (ui.available_height() * if has_nist { 0.45 } else { 0.9 }).max(140.0);
    ui.allocate_ui(egui::vec2(ui.available_width(), h), |ui| {
        ui.columns(2, |cols| {
            // Bitlines with some entropy as points (a line through 65,536 values would be
            // drawn as a min-max band, hiding which bitlines carry the entropy).
            let pts: Vec<[f64; 2]> = t
                .bitline_entropy
                .iter()
                .enumerate()
                .filter(|(_, e)| **e >= MIN_SHOWN_ENTROPY)
                .map(|(i, &e)| [i as f64, e as f64])
                .collect();
            let shown = pts.len();
            cols[0].label(format!(
                "Entropy per bitline: {shown} of {} bitlines carry >= {MIN_SHOWN_ENTROPY} bit (the others are not drawn)",
                t.bitlines
            ));
            Plot::new(("entropy per bitline", doc))
                .x_axis_label("bitline (chip, column, DQ)")
                .y_axis_label("entropy (bit)")
                .include_x(0.0)
                .include_x(t.bitlines as f64)
                .include_y(0.0)
                .include_y(1.0)
                .allow_scroll(false)
                .show(&mut cols[0], |p| {
                    p.points(
                        Points::new("bitline entropy", pts)
                            .color(colors::ROUTE)
                            .radius(1.5)
                            .filled(true),
                    );
                    p.hline(HLine::new("0.9 bit", 0.9).color(colors::CRITICAL));
                });
            let bars: Vec<Bar> = t
                .entropy_histogram
                .iter()
                .enumerate()
                .map(|(i, &n)| Bar::new(i as f64 / 10.0 + 0.05, n as f64).width(0.09))
                .collect();
            Plot::new(("entropy histogram", doc))
                .x_axis_label("entropy (bit)")
                .y_axis_label("bitlines")
                .allow_scroll(false)
                .show(&mut cols[1], |p| {
                    p.bar_chart(
                        BarChart::new("bitlines per 0.1-bit bin", bars).color(colors::ROUTE),
                    );
                });
        });
    });
}

fn puf(ui: &mut egui::Ui, st: &mut DramState, doc: DocId, r: &PufReport) {
    ui.label(
        RichText::new(format!(
            "PUF {:?}: {} chips, {} bits per signature, evaluation {:.1} ns ({} commands), violations {}",
            r.mechanism,
            r.chips,
            r.signature_bits,
            r.eval_latency_ns,
            r.eval_commands,
            counts(&r.violations_per_eval)
        ))
        .strong(),
    );
    egui::Grid::new("puf stats").striped(true).show(ui, |ui| {
        for h in [
            "pairs",
            "Jaccard mean",
            "Jaccard min",
            "Jaccard max",
            "FHD mean",
            "FHD min",
            "FHD max",
        ] {
            ui.strong(h);
        }
        ui.end_row();
        for (t, j, h) in &r.intra {
            ui.label(format!("intra @ {t:.0} C"));
            for v in [j.mean, j.min, j.max, h.mean, h.min, h.max] {
                ui.label(format!("{v:.4}"));
            }
            ui.end_row();
        }
        ui.label("inter");
        let (j, h) = (&r.inter_jaccard, &r.inter_fhd);
        for v in [j.mean, j.min, j.max, h.mean, h.min, h.max] {
            ui.label(format!("{v:.4}"));
        }
        ui.end_row();
    });
    ui.label(format!(
        "uniformity mean {:.3}, bit-aliasing mean {:.3} (std {:.3})",
        r.uniformity.mean, r.bit_aliasing_mean, r.bit_aliasing_std
    ));
    ui.horizontal(|ui| {
        ui.label("Histogram of");
        ui.radio_value(&mut st.jaccard, false, "fractional Hamming distance");
        ui.radio_value(&mut st.jaccard, true, "Jaccard index");
    });
    let mut series: Vec<(String, &[f64])> = r
        .intra_samples
        .iter()
        .map(|s| {
            (
                format!("intra @ {:.0} C", s.temperature_c.unwrap_or(f64::NAN)),
                if st.jaccard {
                    &s.jaccard[..]
                } else {
                    &s.fhd[..]
                },
            )
        })
        .collect();
    series.push((
        "inter".into(),
        if st.jaccard {
            &r.inter_samples.jaccard[..]
        } else {
            &r.inter_samples.fhd[..]
        },
    ));
    let n = series.len();
    let bin = 1.0 / PUF_BINS as f64;
    Plot::new(("puf histogram", doc, st.jaccard))
        .x_axis_label(if st.jaccard {
            "Jaccard index"
        } else {
            "fractional Hamming distance"
        })
        .y_axis_label("signature pairs")
        .include_x(0.0)
        .include_x(1.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .show(ui, |p| {
            for (k, (name, values)) in series.iter().enumerate() {
                let h = tessera_dram::puf::histogram01(values, PUF_BINS);
                let w = bin / n as f64;
                let bars: Vec<Bar> = h
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| {
                        Bar::new(i as f64 * bin + (k as f64 + 0.5) * w, c as f64).width(w * 0.9)
                    })
                    .collect();
                let color = if k + 1 == n {
                    colors::CRITICAL
                } else {
                    ramp(0.3 + 0.6 * k as f64 / n.max(2) as f64)
                };
                p.bar_chart(BarChart::new(name.clone(), bars).color(color));
            }
        });
}

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

fn verdict(v: TestVerdict) -> (&'static str, Color32) {
    match v {
        TestVerdict::Pass => ("pass", Color32::from_rgb(110, 200, 110)),
        TestVerdict::Fail => ("FAIL", Color32::from_rgb(230, 80, 70)),
        TestVerdict::NotApplicable => ("n/a", Color32::from_gray(150)),
    }
}

/// The NIST SP 800-22 battery as a table: one sequence, each test's smallest P-value
/// against its threshold; several, the lowest pass proportion against NIST's interval and
/// the uniformity P-value.
pub fn nist_table(ui: &mut egui::Ui, r: &NistReport) {
    let seqs = if r.sequences == 1 {
        format!("1 sequence of {} bits", r.sequence_bits)
    } else {
        format!("{} sequences of {} bits", r.sequences, r.sequence_bits)
    };
    ui.label(
        RichText::new(format!(
            "NIST SP 800-22 on {seqs} ({} ones of {}), alpha {}: {} ({} pass, {} fail, {} not applicable)",
            r.ones,
            r.bits,
            r.alpha,
            match r.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
            },
            r.passed,
            r.failed,
            r.skipped
        ))
        .strong(),
    );
    ui.label(format!(
        "rule: {}; NIST flags {} (a random source raises {:.2} on average); SP 800-90B MCV min-entropy {:.4} bit/bit",
        r.rule_text, r.nist_flags, r.expected_flags, r.min_entropy_mcv_per_bit
    ));
    egui::ScrollArea::vertical()
        .id_salt("nist scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("nist table").striped(true).show(ui, |ui| {
                if r.sequences == 1 {
                    for h in [
                        "test",
                        "verdict",
                        "min P",
                        "threshold",
                        "P < alpha",
                        "P-values",
                    ] {
                        ui.strong(h);
                    }
                } else {
                    for h in [
                        "test",
                        "verdict",
                        "checks",
                        "lowest proportion",
                        "NIST interval",
                        "min P-value_T",
                        "flags",
                    ] {
                        ui.strong(h);
                    }
                }
                ui.end_row();
                for t in &r.tests {
                    ui.label(&t.name);
                    let (v, c) = verdict(t.verdict);
                    ui.colored_label(c, v);
                    if let Some(why) = &t.skipped {
                        ui.label(format!("({why})"));
                        ui.end_row();
                        continue;
                    }
                    if r.sequences == 1 {
                        let below = t.p_values.iter().filter(|&&p| p < r.alpha).count();
                        ui.label(prob(t.min_p()));
                        ui.label(prob(t.threshold));
                        ui.label(format!("{below}/{}", t.p_values.len()));
                        let shown: Vec<String> =
                            t.p_values.iter().take(4).map(|&p| prob(p)).collect();
                        ui.label(format!(
                            "{}{}",
                            shown.join(", "),
                            if t.p_values.len() > 4 {
                                format!(", ... ({} in all)", t.p_values.len())
                            } else {
                                String::new()
                            }
                        ));
                    } else {
                        let worst = t.worst_check();
                        let min_pt = t.min_uniformity_p();
                        let flags = t.nist_flags();
                        ui.label(t.checks.len().to_string());
                        match worst {
                            Some(w) => {
                                ui.label(format!(
                                    "{:.4} ({}/{}){}",
                                    w.proportion,
                                    w.passing,
                                    w.sequences,
                                    if w.label.is_empty() {
                                        String::new()
                                    } else {
                                        format!(" {}", w.label)
                                    }
                                ));
                                ui.label(format!("[{:.4}, {:.4}]", w.interval[0], w.interval[1]));
                            }
                            None => {
                                ui.label("-");
                                ui.label("-");
                            }
                        }
                        ui.label(prob(min_pt));
                        ui.label(flags.to_string());
                    }
                    ui.end_row();
                }
            });
        });
}
