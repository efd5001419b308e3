//! Compare view: the `tessera compare` table (kernels x architectures) with ratios to the
//! baseline, the geometric means, and bar charts of cycles, energy or EDP; and a form that
//! runs a comparison in the background through `tessera_flow::compare` (the CLI's flow),
//! with progress and cancel.

use super::ramp;
use crate::app::{Command, ViewCtx};
use crate::jobs::JobCtx;
use eframe::egui;
use egui_plot::{Bar, BarChart, Plot};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_flow::compare::{Cell, CompareOptions, CompareReport};

/// The "run a comparison" form (kept between sessions): `tessera compare`'s arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareForm {
    /// Kernel files or folders, one per line.
    pub kernels: String,
    /// Presets ticked; they come in the order of `CgraSpec::preset_names`, before `extra`
    /// (the first configuration is the baseline).
    pub presets: Vec<String>,
    /// More configurations (spec files or inline overrides), one per line, after the presets.
    pub extra: String,
    pub map_seed: u64,
    pub input_seed: u64,
    pub time_limit_s: f64,
}

impl Default for CompareForm {
    fn default() -> Self {
        Self {
            kernels: "workloads/kernels/fir.tk\nworkloads/kernels/dot.tk".into(),
            presets: vec!["mesh-4x4".into(), "hycube-4x4".into()],
            extra: String::new(),
            map_seed: 1,
            input_seed: 1,
            time_limit_s: 10.0,
        }
    }
}

impl CompareForm {
    /// The `--arch` list: ticked presets in preset order, then the extra lines.
    pub fn archs(&self) -> Vec<String> {
        let mut out: Vec<String> = CgraSpec::preset_names()
            .iter()
            .filter(|n| self.presets.iter().any(|p| p == *n))
            .map(|n| n.to_string())
            .collect();
        out.extend(
            self.extra
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
        out
    }

    pub fn kernel_paths(&self) -> Vec<PathBuf> {
        self.kernels
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect()
    }
}

/// The form, above the report (shown with or without a compare document open).
pub fn show_form(ui: &mut egui::Ui, ctx: &mut ViewCtx, form: &mut CompareForm) {
    egui::CollapsingHeader::new("Run a comparison (kernels x architectures)")
        .default_open(ctx.active_doc().is_none())
        .show(ui, |ui| {
            ui.label("The flow of `tessera compare`: map, check, simulate and verify every kernel on every configuration; the first configuration is the baseline of the ratios.");
            egui::Grid::new("compare form").num_columns(2).show(ui, |ui| {
                let l = ui.label("Kernel files or folders (one per line)");
                ui.add(
                    egui::TextEdit::multiline(&mut form.kernels)
                        .desired_rows(3)
                        .desired_width(420.0),
                )
                .labelled_by(l.id);
                ui.end_row();
                ui.label("Presets");
                ui.horizontal_wrapped(|ui| {
                    for name in CgraSpec::preset_names() {
                        let mut on = form.presets.iter().any(|p| p == name);
                        if ui.checkbox(&mut on, name).changed() {
                            form.presets.retain(|p| p != name);
                            if on {
                                form.presets.push(name.to_string());
                            }
                        }
                    }
                });
                ui.end_row();
                let l = ui.label("More configurations (spec files or overrides, one per line)");
                ui.add(
                    egui::TextEdit::multiline(&mut form.extra)
                        .desired_rows(2)
                        .desired_width(420.0),
                )
                .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Mapper seed");
                ui.add(egui::DragValue::new(&mut form.map_seed))
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Input seed");
                ui.add(egui::DragValue::new(&mut form.input_seed))
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Time limit per mapping (s)");
                ui.add(egui::DragValue::new(&mut form.time_limit_s).range(0.1..=3600.0))
                    .labelled_by(l.id);
                ui.end_row();
            });
            let archs = form.archs();
            ui.label(format!(
                "{} configuration(s): {}",
                archs.len(),
                if archs.is_empty() {
                    "-".to_string()
                } else {
                    archs.join(", ")
                }
            ));
            let busy = !ctx.jobs.running.is_empty();
            if ui
                .add_enabled(!busy, egui::Button::new("Run comparison"))
                .clicked()
            {
                ctx.push(Command::Compare(form.clone()));
            }
        });
}

/// Run the comparison (on a job thread) with the CLI's flow; progress per cell, and the
/// job's cancel stops it.
pub fn execute(form: &CompareForm, ctx: &JobCtx) -> Result<Box<CompareReport>, String> {
    let archs = tessera_flow::compare::load_archs(&form.archs()).map_err(|e| e.to_string())?;
    let paths = form.kernel_paths();
    if paths.is_empty() {
        return Err("compare: give at least one kernel file or folder".into());
    }
    ctx.progress(format!("loading {} kernel path(s)", paths.len()), Some(0.0));
    let loaded = tessera_flow::load::load_kernels(&paths).map_err(|e| e.to_string())?;
    let opts = CompareOptions {
        map_seed: form.map_seed,
        input_seed: form.input_seed,
        time_limit_s: form.time_limit_s,
        jobs: 1,
        map_repeat: 1,
    };
    let progress = |e: tessera_flow::ProgressEvent<'_>| {
        ctx.progress(
            format!("{} ({} of {} done)", e.message, e.done, e.total),
            Some(e.done as f32 / e.total.max(1) as f32),
        );
    };
    tessera_flow::compare::compare_cancellable(
        &loaded,
        &archs,
        &opts,
        &progress,
        &ctx.cancel_flag(),
    )
    .map(Box::new)
    .map_err(|e| format!("compare: {e}"))
}

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
    ui.separator();
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
