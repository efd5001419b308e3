//! `tessera-gui [--view VIEW] [--select NODE] [FILES or DIR]...`: the desktop GUI. Files
//! and folders given on the command line open at start; more open from File > Open or by
//! dropping them on the window.

use std::path::PathBuf;
use tessera_gui::{App, Command, View};

const HELP: &str = "tessera-gui [--view VIEW] [--select NODE] [FILES or DIR]...

Opens mapping.json files, kernels (.tk, .xml, .dot, .gv, .json), the JSON output of
`tessera sim`, `tessera compare`, `tessera accel run` and `tessera dram hammer|trng|puf|nist`,
and co-search run folders (a folder with manifest.json). Ctrl+E exports the current view as
PNG, Ctrl+Shift+E as SVG.
  --view VIEW    the view to start in: schedule, dfg, simulation, run, search, compare,
                 dram or accel
  --select NODE  select this node of the first mapping or kernel opened";

fn bad(message: String) -> ! {
    eprintln!("tessera-gui: {message}\n\n{HELP}");
    std::process::exit(2);
}

fn main() -> eframe::Result {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut view = None;
    let mut select = None;
    let mut it = std::env::args_os().skip(1);
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--help" | "-h") => {
                println!("{HELP}");
                return Ok(());
            }
            Some("--view") => {
                let name = it
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .unwrap_or_default();
                match View::ALL.iter().find(|v| v.key() == name) {
                    Some(v) => view = Some(*v),
                    None => bad(format!("--view `{name}`: not a view")),
                }
            }
            Some("--select") => {
                match it
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .and_then(|v| v.parse().ok())
                {
                    Some(n) => select = Some(n),
                    None => bad("--select expects a node number".into()),
                }
            }
            Some(s) if s.starts_with("--") => bad(format!("unknown option `{s}`")),
            _ => files.push(PathBuf::from(a)),
        }
    }
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Tessera")
            .with_inner_size([1400.0, 900.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "tessera-gui",
        options,
        Box::new(move |cc| {
            let mut app = App::new(tessera_gui::app::load_persisted(cc.storage));
            // With files, the view applies once the first one opened (opening picks a view).
            if files.is_empty() {
                if let Some(v) = view {
                    app.view = v;
                }
            } else {
                app.start_view = view;
            }
            for f in files {
                app.command(Command::Open(f));
            }
            app.start_node = select;
            Ok(Box::new(app))
        }),
    )
}
