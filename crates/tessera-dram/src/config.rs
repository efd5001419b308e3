//! Experiment files (RON) for `tessera dram ...`: each names a DRAM spec (preset name or
//! path to an `arch-specs/dram` file) and the settings of one study. Fields left out take
//! their defaults. Errors carry file, line and column.

use crate::channel::ChannelConfig;
use crate::controller::ControllerConfig;
use crate::disturb::HammerConfig;
use crate::puf::PufConfig;
use crate::trace::{Pattern, TraceFormat};
use crate::trng::TrngConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tessera_arch::Spec;
use tessera_arch::dram::DramSpec;

/// A config file that could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}{}: {message}", position.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    pub position: Option<(usize, usize)>,
    pub message: String,
}

/// Where the requests of `sim` come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Workload {
    /// A trace file (path relative to the config file), Ramulator / Ramulator 2 / DRAMsim3.
    Trace { path: String, format: TraceFormat },
    /// A seeded synthetic stream.
    Synthetic {
        pattern: Pattern,
        requests: u64,
        read_fraction: f64,
        seed: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimFile {
    pub spec: String,
    #[serde(default)]
    pub controller: ControllerConfig,
    pub workload: Workload,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrngFile {
    pub spec: String,
    #[serde(default)]
    pub trng: TrngConfig,
    /// Run the NIST SP 800-22 battery on the generated output.
    #[serde(default)]
    pub nist: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PufFile {
    pub spec: String,
    #[serde(default)]
    pub puf: PufConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HammerFile {
    pub spec: String,
    #[serde(default)]
    pub hammer: HammerConfig,
    /// Further runs of the same attack with other patterns / mitigations / tracker views,
    /// reported side by side with the base run (e.g. a tracker bypass).
    #[serde(default)]
    pub compare: Vec<crate::disturb::HammerVariant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelFile {
    pub spec: String,
    #[serde(default)]
    pub channel: ChannelConfig,
}

/// A user PiD program (`tessera dram pid`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PidFile {
    pub spec: String,
    #[serde(default)]
    pub program: crate::program::PidProgram,
}

/// Read and parse a config file of type `T`.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        position: None,
        message: format!("cannot read: {e}"),
    })?;
    tessera_arch::spec_io::ron_options()
        .from_str::<T>(&text)
        .map_err(|e| ConfigError {
            file,
            position: Some((e.span.start.line, e.span.start.col)),
            message: e.code.to_string(),
        })
}

/// Resolve a path named in a config file: relative to the config's folder if it exists
/// there, otherwise as given.
pub fn resolve(config: &Path, named: &str) -> PathBuf {
    let p = Path::new(named);
    if p.is_relative()
        && let Some(dir) = config.parent()
    {
        let candidate = dir.join(p);
        if candidate.exists() {
            return candidate;
        }
    }
    p.to_path_buf()
}

/// Load the DRAM spec a config names (preset or file).
pub fn load_spec(config: &Path, spec: &str) -> Result<DramSpec, ConfigError> {
    let resolved = resolve(config, spec);
    let name = if resolved.exists() {
        resolved.display().to_string()
    } else {
        spec.to_string()
    };
    DramSpec::load(&name).map_err(|e| ConfigError {
        file: config.display().to_string(),
        position: None,
        message: format!("spec `{spec}`: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_line_and_column() {
        let dir = std::env::temp_dir().join(format!("tessera-dram-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.ron");
        std::fs::write(&p, "(\n  spec: \"DDR4_2400R\",\n  trng: (colums: 3),\n)\n").unwrap();
        let e = load::<TrngFile>(&p).unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(3));
        assert!(e.to_string().contains("bad.ron:3:"), "{e}");
        assert!(e.message.contains("colums"), "{e}");
        let e = load_spec(&p, "DDR9_1").unwrap_err();
        assert!(e.message.contains("DDR4_2400R"), "{e}");
    }

    #[test]
    fn defaults_fill_missing_fields() {
        let t: TrngFile = tessera_arch::spec_io::ron_options()
            .from_str("(spec: \"DDR4_2400R\", trng: (seed: 5))")
            .unwrap();
        assert_eq!(t.trng.seed, 5);
        assert_eq!(t.trng.columns, 1024);
        assert!(!t.nist);
    }
}
