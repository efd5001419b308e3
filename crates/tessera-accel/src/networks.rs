//! The networks shipped in `workloads/networks/`, bundled into the binary.

use crate::error::AccelError;
use crate::layer::Network;

/// Built-in networks by name, as RON text.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "resnet50",
        include_str!("../../../workloads/networks/resnet50.ron"),
    ),
    (
        "mobilenet_v2",
        include_str!("../../../workloads/networks/mobilenet_v2.ron"),
    ),
    (
        "bert_base",
        include_str!("../../../workloads/networks/bert_base.ron"),
    ),
];

/// Names of the built-in networks.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// Load a built-in network by name.
pub fn builtin(name: &str) -> Result<Network, AccelError> {
    let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
        return Err(AccelError::UnknownNetwork {
            name: name.to_string(),
            known: builtin_names().join(", "),
        });
    };
    Network::from_ron(text, &format!("<network {name}>"))
}

/// Load a network from a file path (`.ron` or SCALE-Sim `.csv`), or a built-in name when no
/// such file exists.
pub fn load(path_or_name: &str) -> Result<Network, AccelError> {
    let p = std::path::Path::new(path_or_name);
    if p.exists() {
        Network::load(p)
    } else if BUILTIN.iter().any(|(n, _)| *n == path_or_name) {
        builtin(path_or_name)
    } else if path_or_name.contains('/') || path_or_name.contains('.') {
        Err(AccelError::Io {
            file: path_or_name.to_string(),
            msg: format!(
                "no such file (and not a built-in network: {})",
                builtin_names().join(", ")
            ),
        })
    } else {
        builtin(path_or_name)
    }
}
