//! Load a kernel from any supported file, chosen by extension: `.tk` (kernel language),
//! `.xml` (Morpher DFG), `.dot`/`.gv` (CGRA-ME / Pillars DFG), `.json` (a serialized kernel).

use crate::{IrError, Kernel};
use std::path::Path;

/// Load a kernel file; `params` overrides kernel-language parameters (ignored elsewhere).
pub fn load_kernel(path: &Path, params: &[(String, i64)]) -> Result<Kernel, IrError> {
    let file = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let read = || {
        std::fs::read_to_string(path).map_err(|e| IrError::Io {
            file: file.clone(),
            message: e.to_string(),
        })
    };
    let mut kernel = match ext.as_str() {
        "tk" => crate::lang::parse_str(&read()?, &file, params)?,
        "xml" => crate::import::morpher::import_str(&read()?, &file)?,
        "dot" | "gv" => crate::import::dot::import_str(&read()?, &file)?,
        "json" => {
            let text = read()?;
            serde_json::from_str::<Kernel>(&text).map_err(|e| IrError::Parse {
                loc: crate::SourceLoc::new(file.clone(), e.line(), e.column()),
                message: format!("not a Tessera kernel JSON: {e}"),
            })?
        }
        other => {
            return Err(IrError::UnknownFileKind {
                file,
                found: if other.is_empty() {
                    " (no extension)".to_string()
                } else {
                    format!(" (extension .{other})")
                },
            });
        }
    };
    if kernel.file.is_none() {
        kernel.file = Some(file);
    }
    kernel.validate()?;
    Ok(kernel)
}

/// One file of a folder and what loading it gave.
pub type LoadedFile = (std::path::PathBuf, Result<Kernel, IrError>);

/// Load every kernel file in a folder (sorted by name), with the error of each that fails.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedFile>, IrError> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| IrError::Io {
            file: dir.display().to_string(),
            message: e.to_string(),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("tk" | "xml" | "dot" | "gv")
            )
        })
        .collect();
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|p| {
            let k = load_kernel(&p, &[]);
            (p, k)
        })
        .collect())
}
