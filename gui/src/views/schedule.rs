//! Schedule view: the PE grid in the array's real topology (memory PEs marked), one modulo
//! slot at a time or every slot as small multiples; each PE shows the op it issues, its
//! operands and the registers written; routes are arrows hop by hop; COMPOSE chains are
//! drawn as one merged PE with the chain's ps timing. The modulo reservation table
//! (PE x slot) sits beside it.

use super::colors;
use crate::app::ViewCtx;
use crate::canvas::{Canvas, CanvasFrame};
use crate::docs::{DocId, HopKind, MappingDoc};
use crate::selection::Selection;
use eframe::egui::{self, Align2, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};
use tessera_arch::cgra::{PeId, Topology};

/// World size of one PE cell (box plus gap).
pub const CELL: f32 = 100.0;
pub(crate) const BOX: f32 = 84.0;
/// Gap between small multiples, and room for their title.
const MULTI_GAP: f32 = 60.0;

#[derive(Debug, Clone, Default)]
pub struct ScheduleState {
    pub slot: u32,
    pub all_slots: bool,
    pub canvas: Canvas,
}

/// What to highlight, from the shared selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Highlight {
    pub node: Option<u32>,
    pub pe: Option<PeId>,
}

impl Highlight {
    pub fn of(sel: &Selection, doc: DocId) -> Self {
        Self {
            node: sel.node_in(doc),
            pe: sel.pe_in(doc),
        }
    }
}

/// The PEs outlined in `slot` for a highlight: the selected node's PE (in its slot) and
/// the selected PE (in every slot).
pub fn highlighted_pes(m: &MappingDoc, slot: u32, hl: Highlight) -> Vec<PeId> {
    (0..m.index.pes as PeId)
        .filter(|&pe| {
            let node = m.index.cell(slot, pe);
            hl.node.is_some() && node == hl.node || hl.pe == Some(pe)
        })
        .collect()
}

/// Where `m`'s grid for `slot` sits in world space when every slot is drawn.
fn multiple_origin(ii: u32, slot: u32, rows: u16, cols: u16) -> Vec2 {
    let per_row = (ii as f32).sqrt().ceil().max(1.0) as u32;
    let w = cols as f32 * CELL + MULTI_GAP;
    let h = rows as f32 * CELL + MULTI_GAP;
    Vec2::new((slot % per_row) as f32 * w, (slot / per_row) as f32 * h)
}

fn content_rect(m: &MappingDoc, all: bool) -> Rect {
    let (rows, cols) = (m.mapping.arch.rows, m.mapping.arch.cols);
    let one = Rect::from_min_size(
        Pos2::new(0.0, -24.0),
        Vec2::new(cols as f32 * CELL, rows as f32 * CELL + 24.0),
    );
    if !all {
        return one;
    }
    let ii = m.index.ii;
    (0..ii).fold(one, |r, s| {
        r.union(one.translate(multiple_origin(ii, s, rows, cols)))
    })
}

pub fn show(
    ui: &mut egui::Ui,
    ctx: &mut ViewCtx,
    st: &mut ScheduleState,
    doc: DocId,
    m: &MappingDoc,
) {
    let map = &m.mapping;
    let ii = m.index.ii;
    st.slot = st.slot.min(ii - 1);
    let hl = Highlight::of(ctx.selection, doc);
    ui.horizontal_wrapped(|ui| {
        let a = &map.arch;
        let mii = match &m.mii {
            Ok(r) => format!("MII {} (ResMII {}, RecMII {})", r.mii, r.res_mii, r.rec_mii),
            Err(e) => format!("MII not available: {e}"),
        };
        ui.label(format!(
            "{} on {}: II {}, {mii}; schedule length {}; {}x{} {} with up to {} hop(s)/cycle; COMPOSE {}; mapper {} (seed {})",
            map.kernel.name,
            a.name,
            map.ii,
            map.schedule_length(),
            a.rows,
            a.cols,
            match a.interconnect.topology {
                Topology::Mesh => "mesh",
                Topology::MeshDiagonal => "mesh with diagonals",
                Topology::Torus => "torus",
            },
            a.interconnect.max_hops_per_cycle,
            if a.compose.enabled { "on" } else { "off" },
            map.provenance.mapper,
            map.provenance.seed,
        ));
    });
    ui.horizontal(|ui| {
        let label = ui.label("Slot");
        ui.add_enabled(
            !st.all_slots,
            egui::Slider::new(&mut st.slot, 0..=ii - 1).integer(),
        )
        .labelled_by(label.id);
        if ui
            .add_enabled(!st.all_slots, egui::Button::new("Previous slot"))
            .clicked()
        {
            st.slot = (st.slot + ii - 1) % ii;
        }
        if ui
            .add_enabled(!st.all_slots, egui::Button::new("Next slot"))
            .clicked()
        {
            st.slot = (st.slot + 1) % ii;
        }
        if ui.checkbox(&mut st.all_slots, "All slots").changed() {
            st.canvas.fit_pending = true;
        }
        if let Some(v) = hl.node
            && let Some(p) = map.placements.get(v as usize)
            && p.pe.is_some()
            && ui.button("Show the selected node's slot").clicked()
        {
            st.slot = p.cycle % ii;
            st.all_slots = false;
        }
        st.canvas.toolbar(ui);
    });
    egui::Panel::right("mrt")
        .default_size(320.0)
        .resizable(true)
        .show(ui, |ui| {
            ui.strong("Modulo reservation table (PE x slot)");
            mrt(ui, ctx, doc, m, hl, st);
        });
    egui::CentralPanel::default().show(ui, |ui| {
        let content = content_rect(m, st.all_slots);
        let frame = st.canvas.show(ui, content, "schedule canvas");
        let (rows, cols) = (map.arch.rows, map.arch.cols);
        let slots: Vec<u32> = if st.all_slots {
            (0..ii).collect()
        } else {
            vec![st.slot]
        };
        let visible = frame.visible_world();
        for &s in &slots {
            let origin = if st.all_slots {
                multiple_origin(ii, s, rows, cols)
            } else {
                Vec2::ZERO
            };
            let grid = Rect::from_min_size(
                origin.to_pos2(),
                Vec2::new(cols as f32 * CELL, rows as f32 * CELL),
            );
            if !grid.expand(CELL).intersects(visible) {
                continue;
            }
            draw_slot(&frame, m, s, origin, hl, !st.all_slots);
        }
        if let Some(w) = frame.clicked_world() {
            for &s in &slots {
                let origin = if st.all_slots {
                    multiple_origin(ii, s, rows, cols)
                } else {
                    Vec2::ZERO
                };
                let local = w - origin;
                let (c, r) = ((local.x / CELL).floor(), (local.y / CELL).floor());
                if c >= 0.0 && r >= 0.0 && (c as u16) < cols && (r as u16) < rows {
                    let pe = map.arch.pe_id(r as u16, c as u16);
                    ctx.select(Selection::Pe { doc, pe });
                    if st.all_slots {
                        st.slot = s;
                    }
                }
            }
        }
    });
}

pub(crate) fn pe_center(origin: Vec2, arch: &tessera_arch::cgra::CgraSpec, pe: PeId) -> Pos2 {
    let (r, c) = arch.pe_pos(pe);
    Pos2::new(c as f32 * CELL + CELL / 2.0, r as f32 * CELL + CELL / 2.0) + origin
}

/// Draw one slot's grid at world offset `origin`; `detail` adds operands and registers.
pub fn draw_slot(
    f: &CanvasFrame,
    m: &MappingDoc,
    slot: u32,
    origin: Vec2,
    hl: Highlight,
    detail: bool,
) {
    let map = &m.mapping;
    let arch = &map.arch;
    let idx = &m.index;
    let p = &f.painter;
    let z = f.zoom;
    let text_ok = BOX * z > 28.0;
    let outlined = highlighted_pes(m, slot, hl);
    let font = |size: f32| FontId::proportional((size * z).clamp(6.0, 40.0));
    p.text(
        f.to_screen(origin.to_pos2() + Vec2::new(0.0, -12.0)),
        Align2::LEFT_CENTER,
        format!("slot {slot}"),
        font(14.0),
        egui::Color32::LIGHT_GRAY,
    );
    // Links of the topology (drawn once per slot, faint).
    for pe in 0..arch.pe_count() as PeId {
        for nb in arch.neighbours(pe) {
            if nb > pe {
                let (a, b) = (pe_center(origin, arch, pe), pe_center(origin, arch, nb));
                if (a - b).length() <= CELL * 1.5 {
                    p.line_segment(
                        [f.to_screen(a), f.to_screen(b)],
                        Stroke::new(1.0, egui::Color32::from_gray(70)),
                    );
                }
            }
        }
    }
    // COMPOSE chains of this slot: one merged outline across their PEs.
    for ch in idx.chains.iter().filter(|c| c.slot == slot) {
        let stroke = Stroke::new((4.0 * z).clamp(1.5, 6.0), colors::COMB);
        for w in ch.pes.windows(2) {
            p.line_segment(
                [
                    f.to_screen(pe_center(origin, arch, w[0])),
                    f.to_screen(pe_center(origin, arch, w[1])),
                ],
                Stroke::new((BOX * 0.5 * z).max(2.0), colors::COMB.gamma_multiply(0.35)),
            );
        }
        for &pe in &ch.pes {
            let r = Rect::from_center_size(pe_center(origin, arch, pe), Vec2::splat(BOX + 8.0));
            p.rect_stroke(f.rect_to_screen(r), 6.0 * z, stroke, StrokeKind::Outside);
        }
        if text_ok && let Some(&first) = ch.pes.first() {
            let c = pe_center(origin, arch, first) + Vec2::new(0.0, -BOX / 2.0 - 8.0);
            p.text(
                f.to_screen(c),
                Align2::CENTER_BOTTOM,
                format!(
                    "chain of {}: {} / {} ps",
                    ch.nodes.len(),
                    ch.used_ps,
                    ch.period_ps
                ),
                font(10.0),
                colors::COMB,
            );
        }
    }
    for pe in 0..arch.pe_count() as PeId {
        let center = pe_center(origin, arch, pe);
        let r = Rect::from_center_size(center, Vec2::splat(BOX));
        let node = idx.cell(slot, pe);
        let fill = if idx.memory_pe[pe as usize] {
            colors::MEMORY_PE
        } else if node.is_some() {
            colors::BUSY_PE
        } else {
            colors::PE
        };
        let sr = f.rect_to_screen(r);
        p.rect_filled(sr, 4.0 * z, fill);
        if outlined.contains(&pe) {
            p.rect_stroke(
                sr,
                4.0 * z,
                Stroke::new(3.0, colors::SELECTED),
                StrokeKind::Outside,
            );
        }
        if !text_ok {
            continue;
        }
        let (row, col) = arch.pe_pos(pe);
        let kind = arch
            .kind_at(row, col)
            .map(|k| k.name.as_str())
            .unwrap_or("?");
        p.text(
            f.to_screen(r.left_top() + Vec2::new(4.0, 3.0)),
            Align2::LEFT_TOP,
            format!(
                "PE {pe} {kind}{}",
                if idx.memory_pe[pe as usize] {
                    " [bank]"
                } else {
                    ""
                }
            ),
            font(9.0),
            egui::Color32::from_gray(170),
        );
        if let Some(v) = node {
            let k = &map.kernel;
            let n = &k.graph[petgraph::graph::NodeIndex::new(v as usize)];
            let registered = map
                .placements
                .get(v as usize)
                .is_none_or(|pl| pl.registered);
            p.text(
                f.to_screen(center + Vec2::new(0.0, -8.0)),
                Align2::CENTER_CENTER,
                format!(
                    "{} n{v}{}",
                    n.op.mnemonic(),
                    if registered { "" } else { "*" }
                ),
                font(13.0),
                egui::Color32::WHITE,
            );
            if detail {
                let ops: Vec<String> = k
                    .operands(petgraph::graph::NodeIndex::new(v as usize))
                    .iter()
                    .filter(|(_, o)| o.carries_value())
                    .map(|(u, o)| {
                        if o.distance > 0 {
                            format!("n{}@-{}", u.index(), o.distance)
                        } else {
                            format!("n{}", u.index())
                        }
                    })
                    .collect();
                if !ops.is_empty() {
                    p.text(
                        f.to_screen(center + Vec2::new(0.0, 10.0)),
                        Align2::CENTER_CENTER,
                        format!("<- {}", ops.join(", ")),
                        font(9.0),
                        egui::Color32::from_gray(200),
                    );
                }
            }
        }
        if detail {
            let mut regs: Vec<String> = idx.reg_writes[slot as usize]
                .iter()
                .filter(|(q, _, _)| *q == pe)
                .map(|(_, reg, v)| format!("r{reg}=n{v}"))
                .collect();
            if regs.len() > 2 {
                let more = regs.len() - 2;
                regs.truncate(2);
                regs.push(format!("+{more}"));
            }
            if !regs.is_empty() {
                p.text(
                    f.to_screen(center + Vec2::new(0.0, 26.0)),
                    Align2::CENTER_CENTER,
                    regs.join(" "),
                    font(9.0),
                    colors::RELATED,
                );
            }
        }
    }
    // Routes of this slot, hop by hop.
    let selected_routes: &[u32] = hl
        .node
        .and_then(|v| idx.node_routes.get(v as usize))
        .map(|v| v.as_slice())
        .unwrap_or(&[]);
    for h in &idx.hops[slot as usize] {
        let sel = selected_routes.contains(&h.route);
        let color = match h.kind {
            _ if sel => colors::SELECTED,
            HopKind::Comb => colors::COMB,
            HopKind::Link => colors::ROUTE,
            HopKind::Reg(_) => colors::RELATED,
        };
        let width = if sel { 3.0 } else { 1.5 };
        let (a, b) = (
            pe_center(origin, arch, h.from),
            pe_center(origin, arch, h.to),
        );
        if h.from == h.to {
            // A register write on the same PE: a small ring.
            p.circle_stroke(
                f.to_screen(a + Vec2::new(BOX / 2.0 - 8.0, BOX / 2.0 - 8.0)),
                5.0 * z,
                Stroke::new(width, color),
            );
            continue;
        }
        // Offset sideways so the two directions of a link do not overlap.
        let d = (b - a).normalized();
        let side = Vec2::new(-d.y, d.x) * 6.0;
        let (sa, sb) = (
            f.to_screen(a + d * BOX * 0.3 + side),
            f.to_screen(b - d * BOX * 0.3 + side),
        );
        if (b - a).length() > CELL * 1.5 {
            // A wrap-around link (torus): a short stub out of each side.
            p.arrow(
                sa,
                (sb - sa).normalized() * 14.0 * z,
                Stroke::new(width, color),
            );
        } else {
            p.arrow(sa, sb - sa, Stroke::new(width, color));
        }
    }
}

fn mrt(
    ui: &mut egui::Ui,
    ctx: &mut ViewCtx,
    doc: DocId,
    m: &MappingDoc,
    hl: Highlight,
    st: &mut ScheduleState,
) {
    let idx = &m.index;
    let map = &m.mapping;
    let ii = idx.ii as usize;
    let pes = idx.pes;
    let (label_w, cw, rh) = (48.0, 56.0, 18.0);
    let size = Vec2::new(label_w + cw * ii as f32, rh * (pes as f32 + 1.0));
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let (resp, p) = ui.allocate_painter(size, Sense::click());
            let o = resp.rect.min;
            let clip = ui.clip_rect();
            let font = FontId::monospace(11.0);
            for s in 0..ii {
                let x = o.x + label_w + cw * s as f32;
                let fill = if s as u32 == st.slot && !st.all_slots {
                    egui::Color32::from_gray(70)
                } else {
                    egui::Color32::from_gray(40)
                };
                p.rect_filled(
                    Rect::from_min_size(Pos2::new(x, o.y), Vec2::new(cw - 1.0, rh - 1.0)),
                    0.0,
                    fill,
                );
                p.text(
                    Pos2::new(x + cw / 2.0, o.y + rh / 2.0),
                    Align2::CENTER_CENTER,
                    format!("{s}"),
                    font.clone(),
                    egui::Color32::LIGHT_GRAY,
                );
            }
            let first = (((clip.min.y - o.y) / rh).floor() as isize - 1).max(0) as usize;
            let last = ((((clip.max.y - o.y) / rh).ceil()) as usize).min(pes);
            for pe in first..last {
                let y = o.y + rh * (pe as f32 + 1.0);
                let (r, c) = map.arch.pe_pos(pe as PeId);
                let row_sel = hl.pe == Some(pe as PeId);
                p.text(
                    Pos2::new(o.x + 2.0, y + rh / 2.0),
                    Align2::LEFT_CENTER,
                    format!("r{r}c{c}{}", if idx.memory_pe[pe] { "M" } else { "" }),
                    font.clone(),
                    if row_sel {
                        colors::SELECTED
                    } else {
                        egui::Color32::LIGHT_GRAY
                    },
                );
                for s in 0..ii {
                    let cell = Rect::from_min_size(
                        Pos2::new(o.x + label_w + cw * s as f32, y),
                        Vec2::new(cw - 1.0, rh - 1.0),
                    );
                    let node = idx.cell(s as u32, pe as PeId);
                    let fill = match node {
                        Some(v) if hl.node == Some(v) => colors::SELECTED.gamma_multiply(0.6),
                        Some(v) if idx.chain_of[v as usize].is_some() => {
                            colors::COMB.gamma_multiply(0.4)
                        }
                        Some(_) => colors::BUSY_PE,
                        None => egui::Color32::from_gray(30),
                    };
                    p.rect_filled(cell, 0.0, fill);
                    if row_sel {
                        p.rect_stroke(
                            cell,
                            0.0,
                            Stroke::new(1.0, colors::SELECTED),
                            StrokeKind::Inside,
                        );
                    }
                    if let Some(v) = node {
                        let n = &map.kernel.graph[petgraph::graph::NodeIndex::new(v as usize)];
                        p.text(
                            cell.center(),
                            Align2::CENTER_CENTER,
                            format!("{} {v}", n.op.mnemonic()),
                            FontId::monospace(9.5),
                            egui::Color32::WHITE,
                        );
                    }
                }
            }
            if resp.clicked()
                && let Some(pos) = resp.interact_pointer_pos()
            {
                let row = ((pos.y - o.y) / rh).floor() as isize - 1;
                let col = ((pos.x - o.x - label_w) / cw).floor() as isize;
                if row >= 0 && (row as usize) < pes {
                    let pe = row as PeId;
                    if col >= 0 && (col as usize) < ii {
                        st.slot = col as u32;
                        match idx.cell(col as u32, pe) {
                            Some(v) => ctx.select(Selection::Node { doc, node: v }),
                            None => ctx.select(Selection::Pe { doc, pe }),
                        }
                    } else {
                        ctx.select(Selection::Pe { doc, pe });
                    }
                }
            }
        });
}
