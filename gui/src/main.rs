//! `tessera-gui [FILES or DIR]`: the desktop GUI. Files and folders given on the command
//! line open at start; more open from File > Open or by dropping them on the window.

use std::path::PathBuf;
use tessera_gui::{App, Command};

fn main() -> eframe::Result {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if args
        .iter()
        .any(|a| a.as_os_str() == "--help" || a.as_os_str() == "-h")
    {
        println!(
            "tessera-gui [FILES or DIR]...\n\nOpens mapping.json files, kernels (.tk, .xml, .dot, .gv, .json), `tessera sim --json` and\n`tessera compare --json` output, and co-search run folders (a folder with manifest.json).\nViews: Schedule, DFG, Simulation, Run, Co-search, Compare."
        );
        return Ok(());
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
            for a in args {
                app.command(Command::Open(a));
            }
            Ok(Box::new(app))
        }),
    )
}
