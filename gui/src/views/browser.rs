//! A small file browser window (File > Open): folders and the files Tessera reads; a run
//! folder opens as a whole. Built in, so the GUI needs no native dialog library.

use crate::app::{Command, ViewCtx, start_folder};
use eframe::egui;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Browser {
    pub dir: Option<PathBuf>,
    pub typed: String,
}

const KINDS: [&str; 6] = ["json", "jsonl", "tk", "xml", "dot", "gv"];

pub fn window(
    ctx: &egui::Context,
    open: &mut bool,
    b: &mut Browser,
    last: Option<PathBuf>,
    vctx: &mut ViewCtx,
) {
    let dir = b
        .dir
        .get_or_insert_with(|| start_folder(last.as_deref()))
        .clone();
    let mut close = false;
    egui::Window::new("Open")
        .open(open)
        .default_size([520.0, 420.0])
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("Path");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut b.typed)
                            .desired_width(340.0)
                            .hint_text(dir.display().to_string()),
                    )
                    .labelled_by(l.id);
                if (ui.button("Open path").clicked()
                    || r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
                    && !b.typed.is_empty()
                {
                    vctx.push(Command::Open(PathBuf::from(b.typed.trim())));
                    close = true;
                }
            });
            ui.horizontal(|ui| {
                if ui.button("Up").clicked()
                    && let Some(p) = dir.parent()
                {
                    b.dir = Some(p.to_path_buf());
                }
                ui.label(dir.display().to_string());
                if ui.button("Open this folder (search run)").clicked() {
                    vctx.push(Command::Open(dir.clone()));
                    close = true;
                }
            });
            ui.separator();
            let mut entries: Vec<(bool, PathBuf)> = match std::fs::read_dir(&dir) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok())
                    .map(|e| (e.path().is_dir(), e.path()))
                    .collect(),
                Err(e) => {
                    ui.label(format!("{}: cannot list: {e}", dir.display()));
                    Vec::new()
                }
            };
            entries.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            egui::ScrollArea::vertical().show(ui, |ui| {
                for (is_dir, p) in entries {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if name.starts_with('.') {
                        continue;
                    }
                    if is_dir {
                        if ui.button(format!("[dir] {name}")).clicked() {
                            b.dir = Some(p);
                        }
                    } else {
                        let ext = p
                            .extension()
                            .map(|e| e.to_string_lossy().to_ascii_lowercase())
                            .unwrap_or_default();
                        if KINDS.contains(&ext.as_str()) && ui.button(name).clicked() {
                            vctx.push(Command::Open(p));
                            close = true;
                        }
                    }
                }
            });
        });
    if close {
        *open = false;
    }
}
