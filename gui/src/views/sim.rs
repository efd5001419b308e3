//! Simulation view: simulate a mapping on an input seed (background thread), the verdict
//! against the interpreter with "jump to the first mismatch", the per-PE utilisation
//! heatmap on the array and the energy breakdown.

use super::{colors, ramp};
use crate::app::{Command, View, ViewCtx};
use crate::docs::{DocId, MappingDoc};
use crate::selection::Selection;
use eframe::egui::{self, Align2, FontId, Pos2, Rect, Sense, Vec2};
use egui_plot::{Bar, BarChart, Plot};
use tessera_sim::SimReport;

#[derive(Debug, Clone)]
pub struct SimState {
    pub seed: u64,
}

impl Default for SimState {
    fn default() -> Self {
        Self { seed: 1 }
    }
}

pub fn show_mapping(
    ui: &mut egui::Ui,
    ctx: &mut ViewCtx,
    st: &mut SimState,
    doc: DocId,
    m: &MappingDoc,
) {
    ui.horizontal(|ui| {
        let l = ui.label("Input seed");
        ui.add(egui::DragValue::new(&mut st.seed)).labelled_by(l.id);
        if ui
            .add_enabled(ctx.jobs.running.is_empty(), egui::Button::new("Simulate"))
            .clicked()
        {
            ctx.push(Command::Simulate { doc, seed: st.seed });
        }
    });
    let Some(r) = &m.sim else {
        ui.label("Not simulated yet: pick an input seed and press Simulate.");
        return;
    };
    verdict(ui, ctx, doc, m, r);
    ui.columns(2, |cols| {
        cols[0].strong("Utilisation per PE (busy cycles / cycles)");
        heatmap(&mut cols[0], ctx, doc, m, r);
        cols[1].strong("Energy breakdown (pJ)");
        energy(&mut cols[1], r);
    });
}

pub fn show_report(ui: &mut egui::Ui, r: &SimReport) {
    ui.label(r.summary());
    ui.strong("Energy breakdown (pJ)");
    energy(ui, r);
}

fn verdict(ui: &mut egui::Ui, ctx: &mut ViewCtx, doc: DocId, m: &MappingDoc, r: &SimReport) {
    if r.verification.matched {
        ui.colored_label(
            colors::BUSY_PE.gamma_multiply(2.0),
            format!(
                "Outputs match the interpreter ({} arrays, {} live-outs), input seed {:?}",
                r.verification.arrays_compared, r.verification.live_outs_compared, r.seed
            ),
        );
    } else if let Some(mm) = &r.verification.mismatch {
        ui.colored_label(colors::CRITICAL, format!("MISMATCH: {}", mm.message));
        if let Some(p) = &mm.producer
            && ui
                .button(format!(
                    "Jump to the first mismatch (cycle {}, PE {}, n{})",
                    p.cycle, p.pe, p.node
                ))
                .clicked()
        {
            ctx.select(Selection::Node { doc, node: p.node });
            ctx.push(Command::SetView(View::Schedule));
        }
    }
    let _ = m;
    ui.label(r.summary());
}

fn heatmap(ui: &mut egui::Ui, ctx: &mut ViewCtx, doc: DocId, m: &MappingDoc, r: &SimReport) {
    let arch = &m.mapping.arch;
    let cell = 44.0;
    let size = Vec2::new(arch.cols as f32 * cell, arch.rows as f32 * cell);
    let (resp, p) = ui.allocate_painter(size, Sense::click());
    let o = resp.rect.min;
    let sel = ctx.selection.pe_in(doc);
    for pe in 0..arch.pe_count() {
        let (row, col) = arch.pe_pos(pe as u16);
        let rect = Rect::from_min_size(
            o + Vec2::new(col as f32 * cell, row as f32 * cell),
            Vec2::splat(cell - 2.0),
        );
        let u = r.pe_utilisation.get(pe).copied().unwrap_or(0.0);
        p.rect_filled(rect, 3.0, ramp(u));
        if sel == Some(pe as u16) {
            p.rect_stroke(
                rect,
                3.0,
                egui::Stroke::new(2.0, colors::SELECTED),
                egui::StrokeKind::Outside,
            );
        }
        p.text(
            rect.center(),
            Align2::CENTER_CENTER,
            format!("{:.0}%", u * 100.0),
            FontId::proportional(11.0),
            egui::Color32::WHITE,
        );
    }
    if resp.clicked()
        && let Some(pos) = resp.interact_pointer_pos()
    {
        let v: Pos2 = (pos - o).to_pos2();
        let (c, rr) = ((v.x / cell) as u16, (v.y / cell) as u16);
        if c < arch.cols && rr < arch.rows {
            ctx.select(Selection::Pe {
                doc,
                pe: arch.pe_id(rr, c),
            });
        }
    }
}

fn energy(ui: &mut egui::Ui, r: &SimReport) {
    let e = &r.energy;
    let parts = [
        ("ops", e.ops_pj),
        ("RF read", e.rf_read_pj),
        ("RF write", e.rf_write_pj),
        ("out reg", e.out_reg_pj),
        ("hops", e.hop_pj),
        ("memory", e.mem_pj),
        ("config", e.config_pj),
        ("idle", e.idle_pj),
        ("COMPOSE bypass", e.compose_bypass_pj),
    ];
    let bars: Vec<Bar> = parts
        .iter()
        .enumerate()
        .map(|(i, (n, v))| Bar::new(i as f64, *v).name(*n).width(0.7))
        .collect();
    egui::Grid::new("energy table")
        .striped(true)
        .show(ui, |ui| {
            for (n, v) in parts {
                ui.label(n);
                ui.label(format!("{v:.1}"));
                ui.end_row();
            }
            ui.strong("total");
            ui.strong(format!("{:.1}", e.total_pj));
            ui.end_row();
        });
    Plot::new("energy")
        .height(180.0)
        .allow_scroll(false)
        .x_axis_formatter(move |m, _| {
            parts
                .get(m.value as usize)
                .filter(|_| m.value.fract() == 0.0)
                .map(|p| p.0.to_string())
                .unwrap_or_default()
        })
        .show(ui, |p| {
            p.bar_chart(BarChart::new("energy (pJ)", bars).color(colors::ROUTE))
        });
}
