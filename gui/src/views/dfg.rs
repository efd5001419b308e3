//! DFG view: the kernel graph in layers; loop-carried edges (dashed, orange, curving
//! back), predicates (purple) and memory-order edges (dotted blue) are told apart; the
//! critical recurrence of the MII report is drawn red with its II contribution.

use super::colors;
use crate::app::ViewCtx;
use crate::canvas::Canvas;
use crate::docs::{DocId, MappingDoc};
use crate::layout::{DfgLayout, NODE_H, NODE_W};
use crate::selection::Selection;
use eframe::egui::{self, Align2, Color32, FontId, Pos2, Rect, Shape, Stroke, StrokeKind, Vec2};
use petgraph::visit::EdgeRef;
use tessera_ir::{Kernel, Slot};

#[derive(Debug, Clone, Default)]
pub struct DfgState {
    pub canvas: Canvas,
    pub show_labels: bool,
}

pub fn show(
    ui: &mut egui::Ui,
    ctx: &mut ViewCtx,
    st: &mut DfgState,
    doc: DocId,
    k: &Kernel,
    layout: &DfgLayout,
    mapping: Option<&MappingDoc>,
) {
    let sel_node = ctx.selection.node_in(doc);
    let sel_pe = ctx.selection.pe_in(doc);
    let critical = mapping
        .and_then(|m| m.mii.as_ref().ok())
        .and_then(|r| r.critical.clone());
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "{}: {} nodes, {} edges, trip count {}",
            k.name,
            k.node_count(),
            k.graph.edge_count(),
            k.trip_count
        ));
        match mapping.map(|m| &m.mii) {
            Some(Ok(r)) => {
                ui.label(format!("MII {} = max(ResMII {}, RecMII {})", r.mii, r.res_mii, r.rec_mii));
                if let Some(c) = &critical {
                    let path: Vec<String> = c.nodes.iter().map(|v| format!("n{v}")).collect();
                    ui.colored_label(
                        colors::CRITICAL,
                        format!(
                            "critical recurrence {} -> back: latency {} / distance {} ({} ps) -> II >= {}",
                            path.join(" -> "),
                            c.latency_cycles,
                            c.distance,
                            c.delay_ps,
                            c.mii
                        ),
                    );
                }
            }
            Some(Err(e)) => {
                ui.colored_label(colors::CRITICAL, format!("no MII report: {e}"));
            }
            None => {
                ui.label("(kernel only: map it in the Run view for the MII report and schedule)");
            }
        }
    });
    ui.horizontal(|ui| {
        legend(ui, colors::DATA, "data");
        legend(ui, colors::CARRIED, "loop-carried (dashed)");
        legend(ui, colors::PREDICATE, "predicate");
        legend(ui, colors::ORDER, "memory order (dotted)");
        legend(ui, colors::CRITICAL, "critical recurrence");
        ui.checkbox(&mut st.show_labels, "Labels");
        st.canvas.toolbar(ui);
    });
    let frame = st.canvas.show(ui, layout.bounds, "DFG canvas");
    let p = &frame.painter;
    let z = frame.zoom;
    let crit_edges: Vec<u32> = critical
        .as_ref()
        .map(|c| c.edges.clone())
        .unwrap_or_default();
    let crit_nodes: Vec<u32> = critical
        .as_ref()
        .map(|c| c.nodes.clone())
        .unwrap_or_default();
    let visible = frame.visible_world().expand(NODE_W);
    // Nodes on the selected PE (linked selection from the schedule).
    let on_pe: Vec<u32> = match (sel_pe, mapping) {
        (Some(pe), Some(m)) => m
            .index
            .pe_nodes
            .get(pe as usize)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    for e in k.graph.edge_references() {
        let (u, v) = (e.source().index(), e.target().index());
        let (a, b) = (layout.pos[u], layout.pos[v]);
        if !visible.contains(a)
            && !visible.contains(b)
            && !Rect::from_two_pos(a, b).intersects(visible)
        {
            continue;
        }
        let w = e.weight();
        let crit = crit_edges.contains(&(e.id().index() as u32));
        let touches_sel = sel_node.is_some_and(|s| s as usize == u || s as usize == v);
        let color = if crit {
            colors::CRITICAL
        } else if touches_sel {
            colors::SELECTED
        } else {
            match w.slot {
                Slot::Pred { .. } => colors::PREDICATE,
                Slot::Order => colors::ORDER,
                Slot::Data(_) if w.distance > 0 => colors::CARRIED,
                Slot::Data(_) => colors::DATA,
            }
        };
        let width = if crit || touches_sel { 2.5 } else { 1.2 };
        let stroke = Stroke::new(width, color);
        let start = a + Vec2::new(0.0, NODE_H / 2.0);
        let end = b - Vec2::new(0.0, NODE_H / 2.0);
        let back = w.distance > 0 || b.y <= a.y;
        let pts: Vec<Pos2> = if back {
            // Curve out to the right and back up.
            let bulge = NODE_W * 0.9 + (a.y - b.y).abs() * 0.15;
            let s = a + Vec2::new(NODE_W / 2.0, 0.0);
            let t = b + Vec2::new(NODE_W / 2.0, 0.0);
            let bez = epaint_bezier([s, s + Vec2::new(bulge, 0.0), t + Vec2::new(bulge, 0.0), t]);
            bez.into_iter().map(|q| frame.to_screen(q)).collect()
        } else {
            vec![frame.to_screen(start), frame.to_screen(end)]
        };
        let dashed = w.distance > 0 || matches!(w.slot, Slot::Order);
        if dashed {
            let (dash, gap) = if matches!(w.slot, Slot::Order) {
                (2.0, 4.0)
            } else {
                (8.0, 5.0)
            };
            p.extend(Shape::dashed_line(&pts, stroke, dash, gap));
        } else {
            p.add(Shape::line(pts.clone(), stroke));
        }
        // Arrow head at the consumer.
        if let [.., q0, q1] = pts.as_slice() {
            let dir = (*q1 - *q0).normalized();
            let side = Vec2::new(-dir.y, dir.x);
            let size = (7.0 * z).clamp(3.0, 12.0);
            p.add(Shape::convex_polygon(
                vec![
                    *q1,
                    *q1 - dir * size + side * size * 0.5,
                    *q1 - dir * size - side * size * 0.5,
                ],
                color,
                Stroke::NONE,
            ));
        }
        if z > 0.5 && (w.distance > 0 || matches!(w.slot, Slot::Pred { .. })) {
            let mid = pts[pts.len() / 2];
            let text = match w.slot {
                Slot::Pred { negated: true } => "!p".to_string(),
                Slot::Pred { negated: false } => "p".to_string(),
                _ => format!("d={}", w.distance),
            };
            p.text(
                mid,
                Align2::LEFT_BOTTOM,
                text,
                FontId::proportional((10.0 * z).clamp(7.0, 16.0)),
                color,
            );
        }
    }
    let font = FontId::proportional((12.0 * z).clamp(5.0, 28.0));
    for (v, n) in k.nodes() {
        let i = v.index();
        let c = layout.pos[i];
        if !visible.contains(c) {
            continue;
        }
        let r = frame.rect_to_screen(Rect::from_center_size(c, Vec2::new(NODE_W, NODE_H)));
        let fill = if n.op.is_memory() {
            colors::MEMORY_PE
        } else {
            Color32::from_gray(55)
        };
        p.rect_filled(r, 5.0 * z, fill);
        let stroke = if sel_node == Some(i as u32) {
            Stroke::new(3.0, colors::SELECTED)
        } else if on_pe.contains(&(i as u32)) {
            Stroke::new(2.5, colors::RELATED)
        } else if crit_nodes.contains(&(i as u32)) {
            Stroke::new(2.0, colors::CRITICAL)
        } else {
            Stroke::new(1.0, Color32::from_gray(110))
        };
        p.rect_stroke(r, 5.0 * z, stroke, StrokeKind::Outside);
        if z * NODE_H > 9.0 {
            let mut text = format!("n{i} {}", n.op.mnemonic());
            if let Some(imm) = n.imm {
                text += &format!(" #{imm}");
            }
            if st.show_labels && !n.label.is_empty() {
                text += &format!(" {}", n.label);
            }
            p.text(
                r.center(),
                Align2::CENTER_CENTER,
                text,
                font.clone(),
                Color32::WHITE,
            );
        }
    }
    if let Some(w) = frame.clicked_world() {
        match layout.hit(w) {
            Some(v) => ctx.select(Selection::Node { doc, node: v }),
            None => ctx.select(Selection::None),
        }
    }
    if let Some(w) = frame.hover_world()
        && let Some(v) = layout.hit(w)
    {
        frame
            .response
            .clone()
            .on_hover_text(crate::docs::node_desc(k, v));
    }
}

fn legend(ui: &mut egui::Ui, color: Color32, text: &str) {
    ui.label(egui::RichText::new(format!("— {text}")).color(color));
}

/// Points along a cubic Bézier (16 segments).
fn epaint_bezier(c: [Pos2; 4]) -> Vec<Pos2> {
    (0..=16)
        .map(|i| {
            let t = i as f32 / 16.0;
            let u = 1.0 - t;
            let v = c[0].to_vec2() * (u * u * u)
                + c[1].to_vec2() * (3.0 * u * u * t)
                + c[2].to_vec2() * (3.0 * u * t * t)
                + c[3].to_vec2() * (t * t * t);
            v.to_pos2()
        })
        .collect()
}
