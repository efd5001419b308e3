//! Run view: open a kernel, pick an architecture preset or spec file, map it with the
//! heuristic mapper (as `tessera run`) or the exact one (as `tessera map --exact`) and
//! simulate it against the interpreter, on a background thread. Errors appear in the window
//! with their file and line.

use crate::app::{Command, ViewCtx};
use crate::jobs::{JobCtx, RunOutput};
use eframe::egui;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_map::driver::{Judge, MapOptions, map_kernel_judged};

/// The form (kept between sessions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunForm {
    pub kernel: String,
    /// A preset name, a spec file path, or an inline override `(preset: ..., set: {...})`.
    pub arch: String,
    pub map_seed: u64,
    pub input_seed: u64,
    pub time_limit_s: f64,
    pub simulate: bool,
    /// The exact MILP mapper (`tessera map --exact`) instead of the heuristic.
    pub exact: bool,
}

impl Default for RunForm {
    fn default() -> Self {
        Self {
            kernel: "workloads/kernels/fir.tk".into(),
            arch: "hycube-4x4".into(),
            map_seed: 1,
            input_seed: 1,
            time_limit_s: 10.0,
            simulate: true,
            exact: false,
        }
    }
}

/// What the Run button asks for.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub form: RunForm,
}

pub fn show(ui: &mut egui::Ui, ctx: &mut ViewCtx, form: &mut RunForm) {
    ui.heading("Map and simulate a kernel");
    ui.label("The same flow as `tessera run`: MII analysis, the heuristic mapper (checked by the independent checker), then a cycle-level simulation compared with the interpreter.");
    egui::Grid::new("run form").num_columns(2).show(ui, |ui| {
        let l = ui.label("Kernel file");
        ui.add(egui::TextEdit::singleline(&mut form.kernel).desired_width(420.0))
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label("Architecture (preset, spec file or override)");
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut form.arch).desired_width(260.0))
                .labelled_by(l.id);
            egui::ComboBox::from_id_salt("preset")
                .selected_text("presets")
                .show_ui(ui, |ui| {
                    for name in CgraSpec::preset_names() {
                        if ui.selectable_label(form.arch == name, name).clicked() {
                            form.arch = name.to_string();
                        }
                    }
                })
                .response
                .labelled_by(l.id);
        });
        ui.end_row();
        let l = ui.label("Mapper seed");
        ui.add(egui::DragValue::new(&mut form.map_seed))
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label("Input seed");
        ui.add(egui::DragValue::new(&mut form.input_seed))
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label("Time limit (s)");
        ui.add(egui::DragValue::new(&mut form.time_limit_s).range(0.1..=3600.0))
            .labelled_by(l.id);
        ui.end_row();
        ui.label("");
        ui.checkbox(&mut form.simulate, "Simulate and verify after mapping");
        ui.end_row();
    });
    ui.horizontal(|ui| {
        ui.label("Mapper");
        ui.radio_value(
            &mut form.exact,
            false,
            "heuristic (modulo scheduling, placement, PathFinder routing)",
        );
        ui.radio_value(
            &mut form.exact,
            true,
            "exact (MILP from the MII up, proves lower IIs infeasible)",
        );
    });
    let busy = !ctx.jobs.running.is_empty();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!busy, egui::Button::new("Map and simulate"))
            .clicked()
        {
            ctx.push(Command::Run(RunRequest { form: form.clone() }));
        }
        if ui.button("Open the kernel's DFG").clicked() {
            ctx.push(Command::Open(PathBuf::from(&form.kernel)));
        }
    });
    for j in &ctx.jobs.running {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("{}: {}", j.label, j.text));
        });
    }
}

/// Run the flow (on a job thread): load, MII, map (judged by the simulator, as the CLI
/// does), simulate and verify.
pub fn execute(req: &RunRequest, ctx: &JobCtx) -> Result<Box<RunOutput>, String> {
    let f = &req.form;
    ctx.progress(format!("loading {}", f.kernel), Some(0.0));
    let loaded =
        tessera_flow::load::load_kernels(&[PathBuf::from(&f.kernel)]).map_err(|e| e.to_string())?;
    let kernel = loaded
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: no kernel", f.kernel))?
        .kernel?;
    let arch = tessera_flow::load::load_cgra(&f.arch, "<architecture field>")
        .map_err(|e| e.to_string())?;
    if ctx.cancelled() {
        return Err("cancelled".into());
    }
    ctx.progress(
        format!("mapping {} on {}", kernel.name, arch.name),
        Some(0.1),
    );
    let opts = MapOptions {
        seed: f.map_seed,
        time_limit_s: f.time_limit_s,
        // Cancel in the window stops the mapper between IIs and placement rounds.
        cancel: ctx.cancel_flag(),
        ..MapOptions::default()
    };
    let seed = f.input_seed;
    let mut notes = Vec::new();
    let mapping = if f.exact {
        let mii = tessera_map::mii::analyze(&kernel, &arch)
            .map_err(|e| format!("{} on {}: {e}", f.kernel, arch.name))?
            .mii;
        let found = tessera_flow::exact::map_exact_search_cancellable(
            &kernel,
            &arch,
            mii,
            &tessera_flow::exact::ExactSearch {
                map_seed: f.map_seed,
                time_limit_s: f.time_limit_s,
                max_ii: None,
                ii: None,
            },
            &opts.cancel,
        )
        .map_err(|e| format!("{} on {} (exact): {e}", f.kernel, arch.name))?;
        for (ii, why) in &found.failed_iis {
            notes.push(format!("II {ii}: {why}"));
        }
        if found.proved_minimal == Some(true) {
            notes.push(format!("II {} is proved minimal", found.mapping.ii));
        }
        found.mapping
    } else {
        let judge_fn = move |m: &tessera_map::Mapping| tessera_sim::judged_cycles(m, seed);
        let outcome = map_kernel_judged(
            &kernel,
            &arch,
            &opts,
            Some(Judge {
                seed,
                cycles: &judge_fn,
            }),
        )
        .map_err(|e| format!("{} on {}: {e}", f.kernel, arch.name))?;
        for (ii, why) in &outcome.failed_iis {
            notes.push(format!("II {ii} failed: {why}"));
        }
        outcome.mapping
    };
    if ctx.cancelled() {
        return Err("cancelled".into());
    }
    let (sim, cycles) = if f.simulate {
        ctx.progress(format!("simulating on input seed {seed}"), Some(0.8));
        match crate::docs::simulate_with_cycles(&mapping, seed) {
            Ok((r, cycles)) => {
                if !r.verification.matched {
                    notes.push(format!(
                        "simulation MISMATCH: {}",
                        r.verification
                            .mismatch
                            .as_ref()
                            .map(|m| m.message.as_str())
                            .unwrap_or("?")
                    ));
                }
                (Some(r), cycles)
            }
            Err(e) => {
                notes.push(format!("simulation: {e}"));
                (None, Vec::new())
            }
        }
    } else {
        (None, Vec::new())
    };
    Ok(Box::new(RunOutput {
        mapping,
        sim,
        cycles,
        notes,
    }))
}
