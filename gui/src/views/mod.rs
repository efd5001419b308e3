//! The views: one small file each. Every view gets the frame's [`ViewCtx`] and its own
//! state, draws, and pushes commands; none mutates documents or the selection directly.

pub mod accel;
pub mod browser;
pub mod compare;
pub mod dfg;
pub mod dram;
pub mod inspector;
pub mod run;
pub mod schedule;
pub mod search;
pub mod sim;

use crate::app::{Persisted, View, ViewCtx, ViewStates};
use crate::docs::DocKind;
use eframe::egui::{self, Color32};

/// Colours shared by the views, so a thing looks the same everywhere.
pub mod colors {
    use eframe::egui::Color32;
    pub const SELECTED: Color32 = Color32::from_rgb(255, 200, 40);
    pub const RELATED: Color32 = Color32::from_rgb(120, 200, 255);
    pub const CRITICAL: Color32 = Color32::from_rgb(235, 80, 70);
    pub const CARRIED: Color32 = Color32::from_rgb(240, 150, 50);
    pub const PREDICATE: Color32 = Color32::from_rgb(190, 110, 230);
    pub const ORDER: Color32 = Color32::from_rgb(110, 140, 200);
    pub const DATA: Color32 = Color32::from_gray(150);
    pub const ROUTE: Color32 = Color32::from_rgb(80, 160, 230);
    pub const COMB: Color32 = Color32::from_rgb(250, 130, 40);
    pub const MEMORY_PE: Color32 = Color32::from_rgb(40, 70, 95);
    pub const PE: Color32 = Color32::from_gray(52);
    pub const BUSY_PE: Color32 = Color32::from_rgb(55, 90, 60);
    pub const INFEASIBLE: Color32 = Color32::from_gray(120);
}

/// Whether `view` can show a document of this kind.
pub fn view_fits(view: View, kind: &DocKind) -> bool {
    matches!(
        (view, kind),
        (View::Schedule, DocKind::Mapping(_))
            | (View::Dfg, DocKind::Mapping(_) | DocKind::Kernel(_))
            | (
                View::Simulation,
                DocKind::Mapping(_) | DocKind::SimReport(_)
            )
            | (View::Run, _)
            | (View::Search, DocKind::Search(_))
            | (View::Compare, DocKind::Compare(_))
            | (View::Dram, DocKind::Dram(_))
            | (View::Accel, DocKind::Accel(_))
    )
}

/// Draw the current view.
pub fn show(
    ui: &mut egui::Ui,
    view: View,
    ctx: &mut ViewCtx,
    states: &mut ViewStates,
    persisted: &mut Persisted,
) {
    if view == View::Run {
        run::show(ui, ctx, &mut persisted.run);
        return;
    }
    if view == View::Compare {
        compare::show_form(ui, ctx, &mut persisted.compare);
    }
    // The documents outlive the context's mutable parts, so a view borrows one freely.
    let docs = ctx.docs;
    let Some(doc) = ctx.active.and_then(|id| docs.iter().find(|d| d.id == id)) else {
        empty(ui, ctx, view);
        return;
    };
    let id = doc.id;
    match (view, &doc.kind) {
        (View::Schedule, DocKind::Mapping(m)) => {
            schedule::show(ui, ctx, &mut states.schedule, id, m)
        }
        (View::Dfg, DocKind::Mapping(m)) => dfg::show(
            ui,
            ctx,
            &mut states.dfg,
            id,
            &m.mapping.kernel,
            &m.layout,
            Some(m),
        ),
        (View::Dfg, DocKind::Kernel(k)) => {
            dfg::show(ui, ctx, &mut states.dfg, id, &k.kernel, &k.layout, None)
        }
        (View::Simulation, DocKind::Mapping(m)) => {
            sim::show_mapping(ui, ctx, &mut states.sim, id, m)
        }
        (View::Simulation, DocKind::SimReport(r)) => sim::show_report(ui, r),
        (View::Search, DocKind::Search(s)) => search::show(ui, ctx, &mut states.search, id, s),
        (View::Compare, DocKind::Compare(c)) => compare::show(ui, &mut states.compare, c),
        (View::Dram, DocKind::Dram(d)) => dram::show(ui, &mut states.dram, id, d),
        (View::Accel, DocKind::Accel(r)) => accel::show(ui, &mut states.accel, id, r),
        (v, k) => {
            ui.label(format!(
                "The {} view does not show a {}. Pick another view or document.",
                v.title(),
                k.label()
            ));
        }
    }
}

fn empty(ui: &mut egui::Ui, ctx: &mut ViewCtx, view: View) {
    ui.vertical_centered(|ui| {
        ui.add_space(40.0);
        ui.heading("Tessera");
        ui.label(format!("{}: nothing open yet.", view.title()));
        ui.label(
            "Open a mapping.json, a kernel (.tk, .xml, .dot), a `tessera sim|compare|accel run|dram ... --json` output, or a search run folder: File > Open, drag and drop, or the command line.",
        );
        if ui.button("Open…").clicked() {
            ctx.push(crate::app::Command::ShowOpenDialog);
        }
        if ui.button("Map a kernel (Run view)").clicked() {
            ctx.push(crate::app::Command::SetView(View::Run));
        }
    });
}

/// A colour ramp (viridis-like) for t in [0, 1].
pub fn ramp(t: f64) -> Color32 {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    } as f32;
    const STOPS: [(f32, [u8; 3]); 5] = [
        (0.0, [68, 1, 84]),
        (0.25, [59, 82, 139]),
        (0.5, [33, 145, 140]),
        (0.75, [94, 201, 98]),
        (1.0, [253, 231, 37]),
    ];
    for w in STOPS.windows(2) {
        let (a, ca) = w[0];
        let (b, cb) = w[1];
        if t <= b {
            let f = (t - a) / (b - a);
            let mix = |i: usize| (ca[i] as f32 + (cb[i] as f32 - ca[i] as f32) * f) as u8;
            return Color32::from_rgb(mix(0), mix(1), mix(2));
        }
    }
    Color32::from_rgb(253, 231, 37)
}
