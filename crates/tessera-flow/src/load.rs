//! Loading the inputs of the flows: kernel files and folders, CGRA configurations.

use crate::FlowError;
use std::path::{Path, PathBuf};
use tessera_arch::Spec;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;

/// A kernel file and what loading it gave. Files found in a folder may fail to load
/// (the flows list them with the reason); a file named explicitly must load.
#[derive(Debug)]
pub struct LoadedKernel {
    pub file: String,
    pub kernel: Result<Kernel, String>,
}

impl LoadedKernel {
    /// The kernel's name, or the file stem when it did not load.
    pub fn name(&self) -> String {
        match &self.kernel {
            Ok(k) => k.name.clone(),
            Err(_) => Path::new(&self.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

/// Kernel files (.tk, .xml, .dot, .gv, .json) or folders (their .tk, .xml, .dot and .gv
/// files, by name). A named file must load; a file in a folder may fail (its error is
/// kept); an empty folder or a missing path is an error.
pub fn load_kernels(paths: &[PathBuf]) -> Result<Vec<LoadedKernel>, FlowError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let listed =
                tessera_ir::load::load_dir(p).map_err(|e| FlowError::Kernel(e.to_string()))?;
            if listed.is_empty() {
                return Err(FlowError::Kernel(format!(
                    "{}: no kernel files (.tk, .xml, .dot, .gv) in this folder",
                    p.display()
                )));
            }
            for (path, k) in listed {
                out.push(LoadedKernel {
                    file: path.display().to_string(),
                    kernel: k.map_err(|e| e.to_string()),
                });
            }
        } else if p.exists() {
            let k = tessera_ir::load::load_kernel(p, &[])
                .map_err(|e| FlowError::Kernel(e.to_string()))?;
            out.push(LoadedKernel {
                file: p.display().to_string(),
                kernel: Ok(k),
            });
        } else {
            return Err(FlowError::Kernel(format!(
                "{}: no such kernel file or folder",
                p.display()
            )));
        }
    }
    Ok(out)
}

/// Every kernel file of the given folders, in name order per folder; files that fail to
/// load are kept with their error.
pub fn load_kernel_dirs(dirs: &[PathBuf]) -> Result<Vec<LoadedKernel>, FlowError> {
    let mut out = Vec::new();
    for dir in dirs {
        let listed =
            tessera_ir::load::load_dir(dir).map_err(|e| FlowError::Kernel(e.to_string()))?;
        out.extend(listed.into_iter().map(|(path, k)| LoadedKernel {
            file: path.display().to_string(),
            kernel: k.map_err(|e| e.to_string()),
        }));
    }
    if out.is_empty() {
        return Err(FlowError::Kernel(
            "no kernel files (.tk, .xml, .dot, .gv) in the given folders".into(),
        ));
    }
    Ok(out)
}

/// A CGRA configuration given as a RON file, a preset name, or an inline override such as
/// `(preset: "compose-4x4", set: {"compose.enabled": false})`; `label` names it in errors
/// when it is inline.
pub fn load_cgra(arg: &str, label: &str) -> Result<CgraSpec, tessera_arch::SpecError> {
    if arg.trim_start().starts_with('(') {
        tessera_arch::spec_io::load_str::<CgraSpec>(arg, label)
    } else {
        CgraSpec::load(arg)
    }
}
