//! Simulation view: simulate a mapping on an input seed (background thread), the verdict
//! against the interpreter with "jump to the first mismatch", a cycle-by-cycle replay (a
//! scrubber with play/pause/step and keyboard shortcuts: Space, Left/Right, Home/End) of
//! what every PE issued, computed and holds, with the routes of the cycle's slot, the per-PE
//! utilisation heatmap and the energy breakdown.

use super::{colors, ramp};
use crate::app::{Command, View, ViewCtx};
use crate::docs::{DocId, MappingDoc};
use crate::selection::Selection;
use crate::views::schedule::CELL;
use eframe::egui::{self, Align2, FontId, Pos2, Rect, Sense, Vec2};
use egui_plot::{Bar, BarChart, Plot};
use tessera_sim::SimReport;

#[derive(Debug, Clone)]
pub struct SimState {
    pub seed: u64,
    /// Replay position: index into the recorded schedule cycles.
    pub cycle: usize,
    pub playing: bool,
    /// Replay speed in cycles per second.
    pub speed: f32,
    /// Fractional cycles accumulated while playing.
    carry: f32,
    pub canvas: crate::canvas::Canvas,
}

impl Default for SimState {
    fn default() -> Self {
        Self {
            seed: 1,
            cycle: 0,
            playing: false,
            speed: 4.0,
            carry: 0.0,
            canvas: crate::canvas::Canvas::default(),
        }
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
    verdict(ui, ctx, st, doc, m, r);
    egui::Panel::right("sim stats")
        .default_size(420.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.label(r.summary());
                ui.strong("Utilisation per PE (busy cycles / cycles)");
                heatmap(ui, ctx, doc, m, r);
                ui.strong("Energy breakdown (pJ)");
                energy(ui, r);
            });
        });
    egui::CentralPanel::default().show(ui, |ui| replay(ui, ctx, st, doc, m));
}

/// Keyboard shortcuts of the scrubber (when no text field has focus).
fn keys(ui: &egui::Ui, st: &mut SimState, n: usize) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    ui.input(|i| {
        if i.key_pressed(egui::Key::Space) {
            st.playing = !st.playing;
        }
        if i.key_pressed(egui::Key::ArrowRight) {
            st.cycle = (st.cycle + 1).min(n - 1);
            st.playing = false;
        }
        if i.key_pressed(egui::Key::ArrowLeft) {
            st.cycle = st.cycle.saturating_sub(1);
            st.playing = false;
        }
        if i.key_pressed(egui::Key::Home) {
            st.cycle = 0;
        }
        if i.key_pressed(egui::Key::End) {
            st.cycle = n - 1;
        }
    });
}

fn replay(ui: &mut egui::Ui, ctx: &mut ViewCtx, st: &mut SimState, doc: DocId, m: &MappingDoc) {
    let n = m.cycles.len();
    if n == 0 {
        ui.label("No cycle records: simulate from this view to replay the run.");
        return;
    }
    keys(ui, st, n);
    if st.playing {
        let dt = ui.input(|i| i.stable_dt).min(0.1);
        st.carry += dt * st.speed;
        let steps = st.carry.floor();
        st.carry -= steps;
        st.cycle = (st.cycle + steps as usize).min(n - 1);
        if st.cycle == n - 1 {
            st.playing = false;
        }
        ui.ctx().request_repaint();
    }
    st.cycle = st.cycle.min(n - 1);
    ui.horizontal(|ui| {
        if ui.button("First").clicked() {
            st.cycle = 0;
        }
        if ui.button("Step back").clicked() {
            st.cycle = st.cycle.saturating_sub(1);
            st.playing = false;
        }
        if ui
            .button(if st.playing { "Pause" } else { "Play" })
            .clicked()
        {
            st.playing = !st.playing;
        }
        if ui.button("Step").clicked() {
            st.cycle = (st.cycle + 1).min(n - 1);
            st.playing = false;
        }
        if ui.button("Last").clicked() {
            st.cycle = n - 1;
        }
        let l = ui.label("Cycle");
        ui.add(egui::Slider::new(&mut st.cycle, 0..=n - 1))
            .labelled_by(l.id);
        let l = ui.label("Speed (cycles/s)");
        ui.add(egui::DragValue::new(&mut st.speed).range(0.5..=1000.0))
            .labelled_by(l.id);
    });
    let row = &m.cycles[st.cycle];
    let ii = m.index.ii as usize;
    let slot = st.cycle % ii;
    ui.label(format!(
        "schedule cycle {} (slot {slot}), array cycle {}{}; Space plays, Left/Right step, Home/End",
        st.cycle,
        row.wall,
        if row.stall > 0 {
            format!(", then {} stall cycle(s)", row.stall)
        } else {
            String::new()
        }
    ));
    let hl = crate::views::schedule::Highlight::of(ctx.selection, doc);
    let arch = &m.mapping.arch;
    egui::Panel::bottom("values")
        .default_size(170.0)
        .resizable(true)
        .show(ui, |ui| {
            ui.strong(format!("Values at cycle {}", st.cycle));
            egui::ScrollArea::vertical().show(ui, |ui| {
                for (pe, op) in row.ops.iter().enumerate() {
                    let Some(op) = op else { continue };
                    let text = format!(
                        "PE {pe}: {} (iteration {}) = {}{}; out register {}",
                        crate::docs::node_desc(&m.mapping.kernel, op.node),
                        op.iteration,
                        op.result,
                        if op.squashed {
                            " (squashed)"
                        } else if !op.valid {
                            " (not valid)"
                        } else {
                            ""
                        },
                        row.out_regs.get(pe).copied().unwrap_or(0)
                    );
                    if ui
                        .selectable_label(hl.node == Some(op.node), text)
                        .clicked()
                    {
                        ctx.select(Selection::Node { doc, node: op.node });
                    }
                }
                for r in &row.regs {
                    let text = format!(
                        "Register PE {} r{}: {} (iteration {}) = {}{}",
                        r.pe,
                        r.reg,
                        crate::docs::node_desc(&m.mapping.kernel, r.node),
                        r.iteration,
                        r.value,
                        if r.valid { "" } else { " (not valid)" }
                    );
                    if ui.selectable_label(hl.node == Some(r.node), text).clicked() {
                        ctx.select(Selection::Node { doc, node: r.node });
                    }
                }
                for l in &row.links {
                    let text = format!(
                        "Link PE {} -> PE {}: {} (iteration {}) = {}{}",
                        l.from,
                        l.to,
                        crate::docs::node_desc(&m.mapping.kernel, l.node),
                        l.iteration,
                        l.value,
                        if l.valid { "" } else { " (not valid)" }
                    );
                    if ui.selectable_label(hl.node == Some(l.node), text).clicked() {
                        ctx.select(Selection::Node { doc, node: l.node });
                    }
                }
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        let content = Rect::from_min_size(
            Pos2::new(0.0, -24.0),
            Vec2::new(arch.cols as f32 * CELL, arch.rows as f32 * CELL + 24.0),
        );
        let frame = st.canvas.show(ui, content, "replay canvas");
        // The schedule's drawing of this slot (ops, routes, chains), then the values.
        crate::views::schedule::draw_slot(&frame, m, slot as u32, Vec2::ZERO, hl, false);
        let z = frame.zoom;
        if 84.0 * z > 28.0 {
            for (pe, op) in row.ops.iter().enumerate() {
                let (r, c) = arch.pe_pos(pe as u16);
                let center = Pos2::new(c as f32 * CELL + CELL / 2.0, r as f32 * CELL + CELL / 2.0);
                let out = row.out_regs.get(pe).copied().unwrap_or(0);
                let text = match op {
                    Some(op) => format!("it {} = {}\nout {out}", op.iteration, op.result),
                    None => format!("out {out}"),
                };
                let font = FontId::monospace((10.0 * z).clamp(6.0, 30.0));
                frame.painter.text(
                    frame.to_screen(center + Vec2::new(0.0, 3.0)),
                    Align2::CENTER_TOP,
                    text,
                    font.clone(),
                    colors::SELECTED,
                );
                // Live registers after the cycle (register:value) along the box's bottom
                // left (the register ring of the schedule sits at its bottom right), as
                // many as fit (about 10 monospace characters), then a count; the list
                // below names every one.
                let regs: Vec<(u16, i32)> = row
                    .regs
                    .iter()
                    .filter(|r| r.pe as usize == pe)
                    .map(|r| (r.reg, r.value))
                    .collect();
                let text = register_label(&regs, REGISTER_LABEL_CHARS);
                if !text.is_empty() {
                    let half = crate::views::schedule::BOX / 2.0;
                    frame.painter.text(
                        frame.to_screen(center + Vec2::new(-half + 4.0, half - 2.0)),
                        Align2::LEFT_BOTTOM,
                        text,
                        font,
                        colors::RELATED,
                    );
                }
            }
        }
        // Values on the links of this cycle, beside each hop's arrow.
        if 84.0 * z > 28.0 {
            for l in &row.links {
                let pe_center = |pe| crate::views::schedule::pe_center(Vec2::ZERO, arch, pe);
                let (a, b) = (pe_center(l.from), pe_center(l.to));
                let d = (b - a).normalized();
                // On the side of its arrow (the two directions of a link are drawn apart),
                // the text growing away from the link so the two values do not overlap.
                let side = Vec2::new(-d.y, d.x);
                let anchor = if side.x.abs() > side.y.abs() {
                    if side.x < 0.0 {
                        Align2::RIGHT_CENTER
                    } else {
                        Align2::LEFT_CENTER
                    }
                } else if side.y < 0.0 {
                    Align2::CENTER_BOTTOM
                } else {
                    Align2::CENTER_TOP
                };
                let at = if (b - a).length() > CELL * 1.5 {
                    // A wrap-around link: beside its stub.
                    a + d * crate::views::schedule::BOX * 0.55 + side * 9.0
                } else {
                    a + (b - a) * 0.5 + side * 9.0
                };
                frame.painter.text(
                    frame.to_screen(at),
                    anchor,
                    l.value.to_string(),
                    FontId::monospace((9.0 * z).clamp(6.0, 26.0)),
                    if l.valid {
                        colors::ROUTE
                    } else {
                        egui::Color32::GRAY
                    },
                );
            }
        }
        if let Some(w) = frame.clicked_world() {
            let (c, r) = ((w.x / CELL).floor(), (w.y / CELL).floor());
            if c >= 0.0 && r >= 0.0 && (c as u16) < arch.cols && (r as u16) < arch.rows {
                ctx.select(Selection::Pe {
                    doc,
                    pe: arch.pe_id(r as u16, c as u16),
                });
            }
        }
    });
}

pub fn show_report(ui: &mut egui::Ui, r: &SimReport) {
    ui.label(r.summary());
    ui.strong("Energy breakdown (pJ)");
    energy(ui, r);
}

fn verdict(
    ui: &mut egui::Ui,
    ctx: &mut ViewCtx,
    st: &mut SimState,
    doc: DocId,
    m: &MappingDoc,
    r: &SimReport,
) {
    if r.verification.matched {
        ui.colored_label(
            colors::BUSY_PE.gamma_multiply(2.0),
            format!(
                "Outputs match the interpreter ({} arrays, {} live-outs), input seed {}",
                r.verification.arrays_compared,
                r.verification.live_outs_compared,
                r.seed.map(|s| s.to_string()).unwrap_or_else(|| "-".into())
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
            // The replay cycle whose array cycle covers the producing one.
            match m.cycles.iter().rposition(|row| row.wall <= p.cycle) {
                Some(c) => st.cycle = c,
                None => ctx.push(Command::SetView(View::Schedule)),
            }
            st.playing = false;
        }
    }
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

/// Characters of the live-register label along a PE box's bottom left: the register ring
/// of the schedule sits at its bottom right.
const REGISTER_LABEL_CHARS: usize = 10;

/// `register:value` items that fit in `max` characters, then ` +N` for the ones left out;
/// a first item too long on its own (a wide value) is cut and ends with `…`. The list
/// below the canvas names every register in full.
fn register_label(regs: &[(u16, i32)], max: usize) -> String {
    let mut text = String::new();
    let mut shown = 0;
    for (i, (reg, value)) in regs.iter().enumerate() {
        let item = format!("r{reg}:{value}");
        // Room for " +N" when more registers follow.
        let more = if i + 1 < regs.len() {
            format!(" +{}", regs.len() - i - 1).len()
        } else {
            0
        };
        if shown == 0 && item.len() + more > max {
            let keep = max.saturating_sub(more + 1).max(1);
            text.push_str(&item[..keep.min(item.len())]);
            text.push('…');
            shown = 1;
            break;
        }
        if shown > 0 && text.len() + 1 + item.len() + more > max {
            break;
        }
        if shown > 0 {
            text.push(' ');
        }
        text.push_str(&item);
        shown += 1;
    }
    if shown < regs.len() {
        text.push_str(&format!(" +{}", regs.len() - shown));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_labels_fit_the_box() {
        assert_eq!(register_label(&[], 10), "");
        assert_eq!(register_label(&[(0, 7)], 10), "r0:7");
        assert_eq!(register_label(&[(0, 7), (1, 12)], 10), "r0:7 r1:12");
        assert_eq!(register_label(&[(0, 7), (1, 12), (2, 3)], 10), "r0:7 +2");
        // A wide first value is cut, not drawn over the register ring.
        let wide = register_label(&[(0, -2_147_483_648)], 10);
        assert_eq!(wide, "r0:-21474…");
        assert_eq!(wide.chars().count(), 10);
        let wide = register_label(&[(0, -2_147_483_648), (3, 1)], 10);
        assert_eq!(wide, "r0:-21… +1");
        assert_eq!(wide.chars().count(), 10);
    }
}
