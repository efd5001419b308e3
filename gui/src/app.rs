//! The application state and the frame loop: documents, views, the shared selection,
//! commands applied at the end of each frame, background jobs, persistence.

use crate::docs::{self, DocId, DocKind, Document, MappingDoc};
use crate::jobs::{JobId, JobResult, Jobs, RunOutput};
use crate::selection::Selection;
use crate::views;
use eframe::egui::{self, Color32, RichText};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The views, in the order of the tab bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum View {
    #[default]
    Schedule,
    Dfg,
    Simulation,
    Run,
    Search,
    Compare,
    Dram,
    Accel,
}

impl View {
    pub const ALL: [View; 8] = [
        View::Schedule,
        View::Dfg,
        View::Simulation,
        View::Run,
        View::Search,
        View::Compare,
        View::Dram,
        View::Accel,
    ];

    /// The name on the command line (`--view`).
    pub fn key(self) -> &'static str {
        match self {
            View::Schedule => "schedule",
            View::Dfg => "dfg",
            View::Simulation => "simulation",
            View::Run => "run",
            View::Search => "search",
            View::Compare => "compare",
            View::Dram => "dram",
            View::Accel => "accel",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Schedule => "Schedule",
            View::Dfg => "DFG",
            View::Simulation => "Simulation",
            View::Run => "Run",
            View::Search => "Co-search",
            View::Compare => "Compare",
            View::Dram => "DRAM / PiD",
            View::Accel => "Accelerator",
        }
    }

    /// The view a document of this kind opens in.
    pub fn for_doc(kind: &DocKind) -> View {
        match kind {
            DocKind::Mapping(_) => View::Schedule,
            DocKind::Kernel(_) => View::Dfg,
            DocKind::Search(_) => View::Search,
            DocKind::Compare(_) => View::Compare,
            DocKind::SimReport(_) => View::Simulation,
            DocKind::Dram(_) => View::Dram,
            DocKind::Accel(_) => View::Accel,
        }
    }
}

/// A request from a panel, applied at the end of the frame.
#[derive(Debug, Clone)]
pub enum Command {
    Open(PathBuf),
    Close(DocId),
    Activate(DocId),
    SetView(View),
    Select(Selection),
    /// Map (and simulate) from the Run view.
    Run(views::run::RunRequest),
    /// Simulate a mapping document on an input seed.
    Simulate {
        doc: DocId,
        seed: u64,
    },
    /// Compute a co-search design's spec, network and per-layer report.
    DesignDetails {
        doc: DocId,
        id: u64,
    },
    /// Run a comparison (kernels x architectures) from the Compare view.
    Compare(views::compare::CompareForm),
    Cancel(JobId),
    DismissMessage(usize),
    ShowOpenDialog,
    /// Save the current view (the central panel) as a PNG in the last folder.
    ExportPng,
    /// Save the current view as an SVG in the last folder (written while the next frame
    /// is drawn, from the shapes it paints).
    ExportSvg,
}

/// A message in the window (errors name their file and line).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub error: bool,
    pub text: String,
}

/// What eframe keeps between sessions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub last_folder: Option<PathBuf>,
    pub view: View,
    pub recent: Vec<PathBuf>,
    pub run: views::run::RunForm,
    pub compare: views::compare::CompareForm,
}

/// Per-view state (what each view remembers, besides the shared selection).
#[derive(Default)]
pub struct ViewStates {
    pub schedule: views::schedule::ScheduleState,
    pub dfg: views::dfg::DfgState,
    pub search: views::search::SearchState,
    pub sim: views::sim::SimState,
    pub compare: views::compare::CompareState,
    pub dram: views::dram::DramState,
    pub accel: views::accel::AccelState,
    pub browser: views::browser::Browser,
}

/// What a view gets each frame: the documents (read-only), the selection, and where to
/// push its commands.
pub struct ViewCtx<'a> {
    pub docs: &'a [Document],
    pub active: Option<DocId>,
    pub selection: &'a Selection,
    pub commands: &'a mut Vec<Command>,
    pub jobs: &'a Jobs,
}

impl ViewCtx<'_> {
    pub fn push(&mut self, c: Command) {
        self.commands.push(c);
    }

    pub fn active_doc(&self) -> Option<&Document> {
        self.active
            .and_then(|id| self.docs.iter().find(|d| d.id == id))
    }

    pub fn select(&mut self, s: Selection) {
        self.commands.push(Command::Select(s));
    }
}

/// The whole application.
pub struct App {
    pub docs: Vec<Document>,
    pub active: Option<DocId>,
    pub view: View,
    pub selection: Selection,
    pub messages: Vec<Message>,
    pub jobs: Jobs,
    pub views: ViewStates,
    pub persisted: Persisted,
    pending: Vec<Command>,
    next_doc: DocId,
    last_refresh: Option<Instant>,
    pub show_browser: bool,
    /// A view asked for on the command line: kept when documents open.
    pub start_view: Option<View>,
    /// A node to select in the first mapping or kernel opened (command line `--select`).
    pub start_node: Option<u32>,
    egui_ctx: Option<egui::Context>,
    /// Where the current view was drawn last frame (what a PNG export keeps).
    view_rect: egui::Rect,
    /// Messages from callbacks outside the frame (PNG export).
    inbox: std::sync::Arc<std::sync::Mutex<Vec<Message>>>,
    /// An SVG export asked for: written at the end of the next frame.
    svg_pending: bool,
    /// The last file exported (PNG or SVG).
    pub last_export: Option<PathBuf>,
}

impl Default for App {
    fn default() -> Self {
        Self::new(Persisted::default())
    }
}

/// How often open search runs are checked for new results.
pub const LIVE_REFRESH: Duration = Duration::from_millis(500);

impl App {
    pub fn new(persisted: Persisted) -> Self {
        Self {
            docs: Vec::new(),
            active: None,
            view: persisted.view,
            selection: Selection::None,
            messages: Vec::new(),
            jobs: Jobs::default(),
            views: ViewStates::default(),
            persisted,
            pending: Vec::new(),
            next_doc: 1,
            last_refresh: None,
            show_browser: false,
            start_view: None,
            start_node: None,
            egui_ctx: None,
            view_rect: egui::Rect::NOTHING,
            inbox: Default::default(),
            svg_pending: false,
            last_export: None,
        }
    }

    /// Queue a command (applied at the end of the next frame, or by [`Self::apply`]).
    pub fn command(&mut self, c: Command) {
        self.pending.push(c);
    }

    pub fn active_doc(&self) -> Option<&Document> {
        self.active
            .and_then(|id| self.docs.iter().find(|d| d.id == id))
    }

    pub fn doc(&self, id: DocId) -> Option<&Document> {
        self.docs.iter().find(|d| d.id == id)
    }

    /// Add a loaded document and make it active.
    pub fn add_doc(&mut self, path: PathBuf, loaded: docs::Loaded) -> DocId {
        let id = self.next_doc;
        self.next_doc += 1;
        let view = View::for_doc(&loaded.kind);
        if let DocKind::Kernel(k) = &loaded.kind {
            self.persisted.run.kernel = k.file.display().to_string();
        }
        self.docs.push(Document {
            id,
            path,
            title: loaded.title,
            kind: loaded.kind,
        });
        self.active = Some(id);
        self.view = self.start_view.take().unwrap_or(view);
        if let Some(node) = self.start_node.take() {
            self.selection = Selection::Node { doc: id, node };
        }
        self.views.schedule.canvas.fit_pending = true;
        self.views.dfg.canvas.fit_pending = true;
        id
    }

    /// Apply the queued commands and the results of finished jobs.
    pub fn apply(&mut self) {
        let results = self.jobs.poll();
        let cmds = std::mem::take(&mut self.pending);
        if (!results.is_empty() || !cmds.is_empty())
            && let Some(ctx) = &self.egui_ctx
        {
            // The frame that pushed them is drawn already: show their effect.
            ctx.request_repaint();
        }
        for r in results {
            self.job_done(r);
        }
        for c in cmds {
            self.apply_one(c);
        }
    }

    /// Wait for running jobs (tests and benches), then apply everything.
    pub fn wait_for_jobs(&mut self, timeout: Duration) {
        self.apply();
        for r in self.jobs.wait_all(timeout) {
            self.job_done(r);
        }
        self.apply();
    }

    fn error(&mut self, text: impl Into<String>) {
        self.messages.push(Message {
            error: true,
            text: text.into(),
        });
    }

    fn info(&mut self, text: impl Into<String>) {
        self.messages.push(Message {
            error: false,
            text: text.into(),
        });
    }

    fn apply_one(&mut self, c: Command) {
        match c {
            Command::Open(path) => self.open(path),
            Command::Close(id) => {
                self.docs.retain(|d| d.id != id);
                if self.active == Some(id) {
                    self.active = self.docs.last().map(|d| d.id);
                }
                if matches!(self.selection, Selection::Node { doc, .. } | Selection::Pe { doc, .. } | Selection::Design { doc, .. } if doc == id)
                {
                    self.selection = Selection::None;
                }
            }
            Command::Activate(id) => {
                if let Some(d) = self.doc(id) {
                    let preferred = View::for_doc(&d.kind);
                    let fits = views::view_fits(self.view, &d.kind);
                    self.active = Some(id);
                    if !fits {
                        self.view = preferred;
                    }
                    self.views.schedule.canvas.fit_pending = true;
                    self.views.dfg.canvas.fit_pending = true;
                }
            }
            Command::SetView(v) => {
                self.view = v;
                self.persisted.view = v;
            }
            Command::Select(s) => self.selection = s,
            Command::Run(req) => self.start_run(req),
            Command::Simulate { doc, seed } => self.start_sim(doc, seed),
            Command::DesignDetails { doc, id } => self.start_design_details(doc, id),
            Command::Compare(form) => self.start_compare(form),
            Command::Cancel(id) => {
                self.jobs.cancel(id);
                self.info(format!("job {id} cancelled"));
            }
            Command::DismissMessage(i) => {
                if i < self.messages.len() {
                    self.messages.remove(i);
                }
            }
            Command::ShowOpenDialog => self.show_browser = true,
            Command::ExportPng => self.export_png(),
            Command::ExportSvg => self.svg_pending = true,
        }
    }

    /// A new file name for an export of the current view, in the last folder.
    fn export_path(&self, ext: &str) -> PathBuf {
        let dir = start_folder(self.persisted.last_folder.as_deref());
        (1..)
            .map(|n| dir.join(format!("tessera-{}-{n}.{ext}", self.view.key())))
            .find(|p| !p.exists())
            .unwrap_or_else(|| dir.join(format!("tessera-view.{ext}")))
    }

    /// Write the SVG of what this frame painted in the view's rectangle.
    fn write_svg(&mut self, text: String) {
        let path = self.export_path("svg");
        match std::fs::write(&path, text) {
            Ok(()) => {
                self.info(format!("saved the view as {}", path.display()));
                self.last_export = Some(path);
            }
            Err(e) => self.error(format!("{}: cannot write: {e}", path.display())),
        }
    }

    /// Ask eframe for a screenshot and save the view's part of it as a PNG next to the
    /// last opened file.
    fn export_png(&mut self) {
        let Some(ctx) = self.egui_ctx.clone() else {
            return;
        };
        let path = self.export_path("png");
        self.last_export = Some(path.clone());
        let rect = self.view_rect;
        let ppp = ctx.pixels_per_point();
        let inbox = self.inbox.clone();
        let repaint = ctx.clone();
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(
            egui::ScreenshotCallback::new(move |img| {
                let message = match save_png(&img, rect, ppp, &path) {
                    Ok(()) => Message {
                        error: false,
                        text: format!("saved the view as {}", path.display()),
                    },
                    Err(e) => Message {
                        error: true,
                        text: format!("{}: cannot write: {e}", path.display()),
                    },
                };
                if let Ok(mut v) = inbox.lock() {
                    v.push(message);
                }
                repaint.request_repaint();
            }),
        ));
    }

    /// Open a file or folder on a background thread.
    pub fn open(&mut self, path: PathBuf) {
        if let Some(dir) = path
            .parent()
            .filter(|_| path.is_file())
            .or(Some(path.as_path()).filter(|p| p.is_dir()))
        {
            self.persisted.last_folder = Some(dir.to_path_buf());
        }
        self.persisted.recent.retain(|p| p != &path);
        self.persisted.recent.insert(0, path.clone());
        self.persisted.recent.truncate(10);
        let label = format!("open {}", path.display());
        self.jobs.spawn(label, move |ctx| {
            ctx.progress(format!("reading {}", path.display()), None);
            let result = docs::open_path(&path);
            JobResult::Opened { path, result }
        });
    }

    fn start_run(&mut self, req: views::run::RunRequest) {
        self.persisted.run = req.form.clone();
        let label = format!("map {}", req.form.kernel);
        self.jobs.spawn(label, move |ctx| {
            JobResult::Ran(views::run::execute(&req, ctx))
        });
    }

    fn start_compare(&mut self, form: views::compare::CompareForm) {
        self.persisted.compare = form.clone();
        let label = format!("compare {} configuration(s)", form.archs().len());
        self.jobs.spawn(label, move |ctx| {
            JobResult::Compared(views::compare::execute(&form, ctx))
        });
    }

    fn start_sim(&mut self, doc: DocId, seed: u64) {
        let Some(DocKind::Mapping(m)) = self.doc(doc).map(|d| &d.kind) else {
            self.error("simulate: the document is not a mapping");
            return;
        };
        let mapping = m.mapping.clone();
        self.jobs
            .spawn(format!("simulate seed {seed}"), move |ctx| {
                ctx.progress(format!("simulating on input seed {seed}"), None);
                let result = docs::simulate_with_cycles(&mapping, seed).map(Box::new);
                JobResult::Simulated { doc, result }
            });
    }

    fn start_design_details(&mut self, doc: DocId, id: u64) {
        let Some(DocKind::Search(s)) = self.doc(doc).map(|d| &d.kind) else {
            self.error("design details: the document is not a search run");
            return;
        };
        let cfg = match &s.config {
            Ok(c) => c.clone(),
            Err(e) => {
                self.error(format!("design details: the run's config: {e}"));
                return;
            }
        };
        let Some(record) = s.record(id).cloned() else {
            self.error(format!("design details: design {id} is not in the results"));
            return;
        };
        let dir = s.dir.clone();
        self.views.search.details_pending.insert((doc, id));
        self.jobs.spawn(format!("design {id}"), move |ctx| {
            ctx.progress(
                format!("design {id}: emitting its spec and network, scoring its layers"),
                None,
            );
            let result = docs::design_details(&cfg, &dir, &record).map(Box::new);
            JobResult::DesignDetails { doc, id, result }
        });
    }

    fn job_done(&mut self, r: JobResult) {
        match r {
            JobResult::DesignDetails { doc, id, result } => {
                self.views.search.details_pending.remove(&(doc, id));
                if let Err(e) = &result {
                    self.error(e.clone());
                }
                self.views.search.details.insert((doc, id), result);
            }
            JobResult::Opened { path, result } => match result {
                Ok(loaded) => {
                    self.add_doc(path, loaded);
                }
                Err(e) => self.error(e.to_string()),
            },
            JobResult::Compared(result) => match result {
                Ok(report) => {
                    let title = format!(
                        "compare: {} kernel(s) x {} configuration(s)",
                        report.kernels.len(),
                        report.archs.len()
                    );
                    if report.failures > 0 {
                        self.error(format!(
                            "{title}: {} simulation(s) did not match the interpreter or faulted",
                            report.failures
                        ));
                    }
                    let path = PathBuf::from(format!("<compared in the GUI: {title}>"));
                    self.add_doc(
                        path,
                        docs::Loaded {
                            title,
                            kind: DocKind::Compare(report),
                        },
                    );
                }
                Err(e) => self.error(e),
            },
            JobResult::Ran(result) => match result {
                Ok(out) => {
                    let RunOutput {
                        mapping,
                        sim,
                        cycles,
                        notes,
                    } = *out;
                    for n in notes {
                        self.info(n);
                    }
                    let title = format!(
                        "{} on {} (II {})",
                        mapping.kernel.name, mapping.arch.name, mapping.ii
                    );
                    let path = PathBuf::from(format!("<mapped in the GUI: {title}>"));
                    self.add_doc(
                        path,
                        docs::Loaded {
                            title,
                            kind: DocKind::Mapping(Box::new(MappingDoc {
                                cycles,
                                ..MappingDoc::new(mapping, sim)
                            })),
                        },
                    );
                }
                Err(e) => self.error(e),
            },
            JobResult::Simulated { doc, result } => match result {
                Ok(rep) => {
                    if let Some(d) = self.docs.iter_mut().find(|d| d.id == doc)
                        && let DocKind::Mapping(m) = &mut d.kind
                    {
                        let (rep, cycles) = *rep;
                        m.sim = Some(rep);
                        m.cycles = cycles;
                        self.views.sim.cycle = 0;
                        self.views.sim.playing = false;
                    }
                }
                Err(e) => self.error(format!("simulation: {e}")),
            },
        }
    }

    /// Check open search runs for appended results (live refresh).
    pub fn refresh_live(&mut self) {
        let now = Instant::now();
        if self.last_refresh.is_some_and(|t| now - t < LIVE_REFRESH) {
            return;
        }
        self.last_refresh = Some(now);
        for d in &mut self.docs {
            if let DocKind::Search(s) = &mut d.kind {
                match s.refresh() {
                    Ok(_) => s.refresh_error = None,
                    Err(e) => s.refresh_error = Some(e),
                }
            }
        }
    }

    fn has_search(&self) -> bool {
        self.docs
            .iter()
            .any(|d| matches!(d.kind, DocKind::Search(_)))
    }

    /// One frame: menus, tabs, the active view, messages; then apply the commands.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.jobs.set_repaint(&ctx);
        self.egui_ctx.get_or_insert_with(|| ctx.clone());
        self.refresh_live();
        if self.has_search() {
            ctx.request_repaint_after(LIVE_REFRESH);
        }
        if !self.jobs.running.is_empty() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        // Files dropped on the window.
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        for p in dropped {
            self.pending.push(Command::Open(p));
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::O)) {
            self.pending.push(Command::ShowOpenDialog);
        }

        if let Ok(mut v) = self.inbox.lock() {
            self.messages.append(&mut v);
        }
        if ctx.input_mut(|i| {
            i.consume_key(
                egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
                egui::Key::E,
            )
        }) {
            self.pending.push(Command::ExportSvg);
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::E)) {
            self.pending.push(Command::ExportPng);
        }
        let mut commands = std::mem::take(&mut self.pending);
        egui::Panel::top("menu").show(ui, |ui| {
            self.menu_bar(ui, &mut commands);
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            self.status_bar(ui, &mut commands);
        });
        if !self.messages.is_empty() {
            egui::Panel::bottom("messages").show(ui, |ui| {
                for (i, m) in self.messages.iter().enumerate().rev().take(6) {
                    ui.horizontal(|ui| {
                        let color = if m.error {
                            Color32::from_rgb(230, 80, 70)
                        } else {
                            ui.visuals().text_color()
                        };
                        if ui.small_button("Dismiss").clicked() {
                            commands.push(Command::DismissMessage(i));
                        }
                        ui.label(
                            RichText::new(if m.error { "Error" } else { "Note" })
                                .strong()
                                .color(color),
                        );
                        ui.label(RichText::new(&m.text).color(color));
                    });
                }
            });
        }
        let svg;
        {
            let mut vctx = ViewCtx {
                docs: &self.docs,
                active: self.active,
                selection: &self.selection,
                commands: &mut commands,
                jobs: &self.jobs,
            };
            egui::Panel::right("inspector")
                .default_size(280.0)
                .show(ui, |ui| views::inspector::show(ui, &mut vctx));
            let central = egui::CentralPanel::default().show(ui, |ui| {
                views::show(
                    ui,
                    self.view,
                    &mut vctx,
                    &mut self.views,
                    &mut self.persisted,
                );
            });
            self.view_rect = central.response.rect;
            // Taken before the browser window draws over the view.
            svg = std::mem::take(&mut self.svg_pending)
                .then(|| crate::svg::frame_svg(&ctx, self.view_rect));
            if self.show_browser {
                let mut open = true;
                let start = self.persisted.last_folder.clone();
                views::browser::window(&ctx, &mut open, &mut self.views.browser, start, &mut vctx);
                self.show_browser = open;
            }
        }
        if let Some(text) = svg {
            self.write_svg(text);
        }
        self.pending.extend(commands);
        self.apply();
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    commands.push(Command::ShowOpenDialog);
                    ui.close();
                }
                if !self.persisted.recent.is_empty() {
                    ui.separator();
                    ui.label("Recent");
                    for p in &self.persisted.recent {
                        if ui.button(p.display().to_string()).clicked() {
                            commands.push(Command::Open(p.clone()));
                            ui.close();
                        }
                    }
                }
                if ui.button("Export view as PNG  (Ctrl+E)").clicked() {
                    commands.push(Command::ExportPng);
                    ui.close();
                }
                if ui.button("Export view as SVG  (Ctrl+Shift+E)").clicked() {
                    commands.push(Command::ExportSvg);
                    ui.close();
                }
                if let Some(id) = self.active {
                    ui.separator();
                    if ui.button("Close document").clicked() {
                        commands.push(Command::Close(id));
                        ui.close();
                    }
                }
            });
            ui.separator();
            for v in View::ALL {
                if ui.selectable_label(self.view == v, v.title()).clicked() {
                    commands.push(Command::SetView(v));
                }
            }
            ui.separator();
            let title = self
                .active_doc()
                .map(|d| d.title.clone())
                .unwrap_or_else(|| "no document".into());
            let label = ui.label("Document");
            egui::ComboBox::from_id_salt("document")
                .selected_text(title)
                .show_ui(ui, |ui| {
                    for d in &self.docs {
                        if ui
                            .selectable_label(
                                self.active == Some(d.id),
                                format!("{} [{}]", d.title, d.kind.label()),
                            )
                            .clicked()
                        {
                            commands.push(Command::Activate(d.id));
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        });
    }

    fn status_bar(&self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            if self.jobs.running.is_empty() {
                ui.label(format!("{} document(s) open", self.docs.len()));
            }
            let stopping = self.jobs.stopping();
            if stopping > 0 {
                ui.spinner();
                ui.label(format!("{stopping} cancelled job(s) stopping"));
            }
            // Cancel first: a long label must not push it out of the window.
            for j in &self.jobs.running {
                ui.spinner();
                if ui.small_button("Cancel").clicked() {
                    commands.push(Command::Cancel(j.id));
                }
                if let Some(f) = j.fraction {
                    ui.add(egui::ProgressBar::new(f).desired_width(120.0));
                }
                ui.label(format!("{}: {}", j.label, j.text));
            }
        });
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.persisted);
    }
}

/// The persisted state from eframe's storage, or the defaults.
pub fn load_persisted(storage: Option<&dyn eframe::Storage>) -> Persisted {
    storage
        .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
        .unwrap_or_default()
}

/// Write the part `rect` (points) of a screenshot as a PNG.
fn save_png(img: &egui::ColorImage, rect: egui::Rect, ppp: f32, path: &Path) -> Result<(), String> {
    let [w, h] = img.size;
    let x0 = ((rect.min.x * ppp).max(0.0) as usize).min(w);
    let y0 = ((rect.min.y * ppp).max(0.0) as usize).min(h);
    let x1 = ((rect.max.x * ppp).max(0.0) as usize).clamp(x0, w);
    let y1 = ((rect.max.y * ppp).max(0.0) as usize).clamp(y0, h);
    let (cw, ch) = if x1 > x0 && y1 > y0 {
        (x1 - x0, y1 - y0)
    } else {
        (w, h)
    };
    let (x0, y0) = if x1 > x0 && y1 > y0 { (x0, y0) } else { (0, 0) };
    let mut bytes = Vec::with_capacity(cw * ch * 4);
    for y in y0..y0 + ch {
        for x in x0..x0 + cw {
            let c = img.pixels[y * w + x];
            bytes.extend_from_slice(&[c.r(), c.g(), c.b(), 255]);
        }
    }
    image::save_buffer(
        path,
        &bytes,
        cw as u32,
        ch as u32,
        image::ExtendedColorType::Rgba8,
    )
    .map_err(|e| e.to_string())
}

/// The folder to start browsing in.
pub fn start_folder(last: Option<&Path>) -> PathBuf {
    last.map(Path::to_path_buf)
        .filter(|p| p.is_dir())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_export_keeps_the_view_rectangle() {
        let mut img = egui::ColorImage::filled([8, 6], egui::Color32::BLACK);
        img.pixels[2 * 8 + 3] = egui::Color32::from_rgb(10, 20, 30);
        let dir = std::env::temp_dir().join(format!("tessera-gui-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("view.png");
        // Points at 2 pixels per point: (1, 0.5)-(3, 2.5) is pixels (2, 1)-(6, 5).
        let rect = egui::Rect::from_min_max(egui::pos2(1.0, 0.5), egui::pos2(3.0, 2.5));
        save_png(&img, rect, 2.0, &path).unwrap();
        let back = image::open(&path).unwrap().to_rgba8();
        assert_eq!(back.dimensions(), (4, 4));
        assert_eq!(back.get_pixel(1, 1).0, [10, 20, 30, 255]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
