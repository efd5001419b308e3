//! The selection panel: details of whatever is selected, in any view; clicking an entry
//! selects it (a PE's nodes, a node's PE), so the selection drives every view.

use crate::app::ViewCtx;
use crate::docs::{DocKind, MappingDoc, SearchDoc, node_desc};
use crate::selection::Selection;
use eframe::egui::{self, RichText};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use tessera_arch::cgra::PeId;
use tessera_ir::Kernel;
use tessera_map::Loc;

pub fn show(ui: &mut egui::Ui, ctx: &mut ViewCtx) {
    ui.heading("Selection");
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let sel = *ctx.selection;
            let doc_of = |id: u64| ctx.docs.iter().find(|d| d.id == id);
            match sel {
                Selection::None => {
                    ui.label("Nothing selected. Click a DFG node, a PE, a table cell or a design.");
                }
                Selection::Node { doc, node } => match doc_of(doc).map(|d| &d.kind) {
                    Some(DocKind::Mapping(m)) => node_in_mapping(ui, ctx, doc, m, node),
                    Some(DocKind::Kernel(k)) => node_in_kernel(ui, ctx, doc, &k.kernel, node),
                    _ => {
                        ui.label("(the document is closed)");
                    }
                },
                Selection::Pe { doc, pe } => match doc_of(doc).map(|d| &d.kind) {
                    Some(DocKind::Mapping(m)) => pe_in_mapping(ui, ctx, doc, m, pe),
                    _ => {
                        ui.label("(the document is closed)");
                    }
                },
                Selection::Design { doc, id } => match doc_of(doc).map(|d| &d.kind) {
                    Some(DocKind::Search(s)) => design(ui, s, id),
                    _ => {
                        ui.label("(the document is closed)");
                    }
                },
            }
        });
}

fn loc(l: &Loc) -> String {
    match *l {
        Loc::Out { pe } => format!("out(PE {pe})"),
        Loc::Comb { pe } => format!("comb(PE {pe})"),
        Loc::Reg { pe, reg } => format!("r{reg}(PE {pe})"),
        Loc::Operand { pe } => format!("operand(PE {pe})"),
    }
}

fn node_in_kernel(ui: &mut egui::Ui, ctx: &mut ViewCtx, doc: u64, k: &Kernel, v: u32) {
    ui.label(RichText::new(format!("Selected node {}", node_desc(k, v))).strong());
    edges(ui, ctx, doc, k, v);
}

fn edges(ui: &mut egui::Ui, ctx: &mut ViewCtx, doc: u64, k: &Kernel, v: u32) {
    let id = NodeIndex::new(v as usize);
    if k.graph.node_weight(id).is_none() {
        return;
    }
    ui.label("Operands:");
    for e in k.graph.edges_directed(id, petgraph::Direction::Incoming) {
        let u = e.source().index() as u32;
        let w = e.weight();
        if ui
            .link(format!(
                "{:?} <- {} (distance {})",
                w.slot,
                node_desc(k, u),
                w.distance
            ))
            .clicked()
        {
            ctx.select(Selection::Node { doc, node: u });
        }
    }
    ui.label("Consumers:");
    for e in k.graph.edges_directed(id, petgraph::Direction::Outgoing) {
        let u = e.target().index() as u32;
        if ui
            .link(format!(
                "-> {} ({:?}, distance {})",
                node_desc(k, u),
                e.weight().slot,
                e.weight().distance
            ))
            .clicked()
        {
            ctx.select(Selection::Node { doc, node: u });
        }
    }
}

fn node_in_mapping(ui: &mut egui::Ui, ctx: &mut ViewCtx, doc: u64, m: &MappingDoc, v: u32) {
    let map = &m.mapping;
    let k = &map.kernel;
    ui.label(RichText::new(format!("Selected node {}", node_desc(k, v))).strong());
    if let Some(p) = map.placements.get(v as usize) {
        match p.pe {
            Some(pe) => {
                let (r, c) = map.arch.pe_pos(pe);
                ui.label(format!(
                    "Runs on PE {pe} (r{r}c{c}) at cycle {}, slot {} of II {}",
                    p.cycle,
                    p.cycle % map.ii.max(1),
                    map.ii
                ));
                ui.label(format!(
                    "inputs stable at {} ps; result {}",
                    p.start_ps,
                    if p.registered {
                        "registered"
                    } else {
                        "not registered (deferred: every consumer reads it combinationally)"
                    }
                ));
                if ui.button(format!("Select PE {pe}")).clicked() {
                    ctx.select(Selection::Pe { doc, pe });
                }
            }
            None => {
                ui.label(
                    "An immediate (no PE): its value is part of each consumer's configuration.",
                );
            }
        }
    }
    if let Some(Some(ci)) = m.index.chain_of.get(v as usize)
        && let Some(ch) = m.index.chains.get(*ci as usize)
    {
        let nodes: Vec<String> = ch.nodes.iter().map(|n| format!("n{n}")).collect();
        ui.label(format!(
            "COMPOSE chain {} over PEs {:?}: {} of {} ps used",
            nodes.join(", "),
            ch.pes,
            ch.used_ps,
            ch.period_ps
        ));
    }
    ui.separator();
    ui.label("Routes:");
    for &ri in m
        .index
        .node_routes
        .get(v as usize)
        .map(|x| x.as_slice())
        .unwrap_or(&[])
    {
        let Some(r) = map.routes.get(ri as usize) else {
            continue;
        };
        let ends = k
            .graph
            .edge_endpoints(petgraph::graph::EdgeIndex::new(r.edge as usize))
            .map(|(a, b)| format!("n{} -> n{}", a.index(), b.index()))
            .unwrap_or_default();
        ui.label(RichText::new(format!("edge {} ({ends})", r.edge)).monospace());
        for s in &r.segments {
            let path: Vec<String> = s.path.iter().map(|p| p.to_string()).collect();
            ui.label(
                RichText::new(format!(
                    "  cycle {} (slot {}): {} -> [{}] -> {}",
                    s.cycle,
                    s.cycle % map.ii.max(1),
                    loc(&s.from),
                    path.join(" "),
                    loc(&s.to)
                ))
                .monospace(),
            );
        }
    }
    ui.separator();
    edges(ui, ctx, doc, k, v);
}

fn pe_in_mapping(ui: &mut egui::Ui, ctx: &mut ViewCtx, doc: u64, m: &MappingDoc, pe: PeId) {
    let map = &m.mapping;
    let (r, c) = map.arch.pe_pos(pe);
    let kind = map
        .arch
        .kind_at(r, c)
        .map(|k| k.name.clone())
        .unwrap_or_else(|| "?".into());
    ui.label(RichText::new(format!("Selected PE {pe} (r{r}c{c})")).strong());
    ui.label(format!("kind: {kind}"));
    let banks = map.arch.banks_of(pe);
    if !banks.is_empty() {
        ui.label(format!("memory PE: wired to bank(s) {banks:?}"));
    }
    if let Some(sim) = &m.sim
        && let Some(u) = sim.pe_utilisation.get(pe as usize)
    {
        ui.label(format!(
            "utilisation {:.1}% (input seed {})",
            u * 100.0,
            sim.seed
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into())
        ));
    }
    let nodes = m
        .index
        .pe_nodes
        .get(pe as usize)
        .cloned()
        .unwrap_or_default();
    ui.label(format!("Runs {} node(s):", nodes.len()));
    for v in nodes {
        let slot = map.placements[v as usize].cycle % map.ii.max(1);
        if ui
            .link(format!("slot {slot}: {}", node_desc(&map.kernel, v)))
            .clicked()
        {
            ctx.select(Selection::Node { doc, node: v });
        }
    }
}

fn design(ui: &mut egui::Ui, s: &SearchDoc, id: u64) {
    let Some(r) = s.record(id) else {
        ui.label(format!("design {id} is not in the results"));
        return;
    };
    ui.label(RichText::new(format!("Design {id}")).strong());
    let on_front = s.front.contains(&id);
    ui.label(format!(
        "status {}; {}{}",
        r.status,
        if r.feasible { "feasible" } else { "infeasible" },
        if on_front {
            "; on the Pareto front"
        } else {
            ""
        }
    ));
    if let Some(reason) = &r.reason {
        ui.label(format!("reason: {reason}"));
    }
    if let Some(c) = r.cached_from {
        ui.label(format!("reuses the result of design {c} (same genes)"));
    }
    ui.separator();
    ui.strong("Objectives");
    for (name, v) in s.objective_names().iter().zip(&r.objectives) {
        ui.label(format!("{name} = {v:.6}"));
    }
    ui.strong("Metrics");
    egui::Grid::new("metrics").striped(true).show(ui, |ui| {
        for (k, v) in &r.metrics {
            ui.label(k);
            ui.label(format!("{v:.6}"));
            ui.end_row();
        }
    });
    ui.strong("Design");
    egui::Grid::new("design").striped(true).show(ui, |ui| {
        for (k, v) in &r.design {
            ui.label(k);
            ui.label(v.to_string());
            ui.end_row();
        }
    });
}
