//! Compare view: the `tessera compare` table (kernels x architectures) with ratios to the
//! baseline, the geometric means, and bar charts of cycles, energy or EDP.

use super::ramp;
use eframe::egui;
use egui_plot::{Bar, BarChart, Plot};
use tessera_flow::compare::{Cell, CompareReport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    #[default]
    Cycles,
    Energy,
    Edp,
}

#[derive(Debug, Clone, Default)]
pub struct CompareState {
    pub metric: Metric,
}

fn metric(c: &Cell, m: Metric) -> Option<f64> {
    match m {
        Metric::Cycles => c.cycles.map(|x| x as f64),
        Metric::Energy => c.energy_pj,
        Metric::Edp => c.edp_pj_ns,
    }
}

pub fn show(ui: &mut egui::Ui, st: &mut CompareState, r: &CompareReport) {
    ui.label(format!(
        "{} kernels on {} configurations (baseline {}); map seed {}, input seed {}; {} failure(s)",
        r.kernels.len(),
        r.archs.len(),
        r.archs.first().map(|a| a.label.as_str()).unwrap_or("-"),
        r.map_seed,
        r.input_seed,
        r.failures
    ));
    ui.horizontal(|ui| {
        ui.selectable_value(&mut st.metric, Metric::Cycles, "Cycles");
        ui.selectable_value(&mut st.metric, Metric::Energy, "Energy (pJ)");
        ui.selectable_value(&mut st.metric, Metric::Edp, "EDP (pJ*ns)");
    });
    let n = r.archs.len().max(1);
    let mut charts = Vec::new();
    for (ai, a) in r.archs.iter().enumerate() {
        let bars: Vec<Bar> = r
            .kernels
            .iter()
            .enumerate()
            .filter_map(|(ki, k)| {
                let v = metric(k.results.get(ai)?, st.metric)?;
                Some(
                    Bar::new(
                        ki as f64 + (ai as f64 - (n as f64 - 1.0) / 2.0) * 0.8 / n as f64,
                        v,
                    )
                    .width(0.8 / n as f64)
                    .name(&k.kernel),
                )
            })
            .collect();
        charts.push(
            BarChart::new(a.label.clone(), bars).color(ramp(ai as f64 / (n.max(2) - 1) as f64)),
        );
    }
    let names: Vec<String> = r.kernels.iter().map(|k| k.kernel.clone()).collect();
    Plot::new("compare bars")
        .height(220.0)
        .legend(egui_plot::Legend::default())
        .allow_scroll(false)
        .x_axis_formatter(move |m, _| {
            names
                .get(m.value.round() as usize)
                .filter(|_| (m.value - m.value.round()).abs() < 1e-9)
                .cloned()
                .unwrap_or_default()
        })
        .show(ui, |p| {
            for c in charts {
                p.bar_chart(c);
            }
        });
    egui::ScrollArea::both().show(ui, |ui| {
        egui::Grid::new("compare table")
            .striped(true)
            .show(ui, |ui| {
                ui.strong("kernel");
                ui.strong("class");
                for a in &r.archs {
                    ui.strong(&a.label);
                }
                ui.end_row();
                for k in &r.kernels {
                    ui.label(&k.kernel);
                    ui.label(&k.class);
                    for c in &k.results {
                        let text = if c.verified() {
                            format!(
                                "II {} | {} cyc | {:.0} pJ{}",
                                c.ii.unwrap_or(0),
                                c.cycles.unwrap_or(0),
                                c.energy_pj.unwrap_or(0.0),
                                c.speedup.map(|s| format!(" | x{s:.2}")).unwrap_or_default()
                            )
                        } else {
                            format!(
                                "{}{}",
                                c.status,
                                c.reason
                                    .as_ref()
                                    .map(|r| format!(": {r}"))
                                    .unwrap_or_default()
                            )
                        };
                        ui.label(text);
                    }
                    ui.end_row();
                }
            });
        ui.separator();
        ui.strong("Geometric means against the baseline");
        egui::Grid::new("geomeans").striped(true).show(ui, |ui| {
            for h in [
                "arch",
                "group",
                "kernels",
                "speedup",
                "EDP reduction",
                "energy ratio",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            let f = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
            for g in &r.geomeans {
                ui.label(&g.arch);
                ui.label(&g.group);
                ui.label(g.kernels.to_string());
                ui.label(f(g.speedup));
                ui.label(f(g.edp_reduction));
                ui.label(f(g.energy_ratio));
                ui.end_row();
            }
        });
    });
}
