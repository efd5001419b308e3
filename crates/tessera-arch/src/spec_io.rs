//! Loading specs from RON: full specs, or a named preset plus field overrides.
//!
//! Every spec kind (CGRA, DRAM, accelerator) is loaded the same way, in the manner of
//! Ramulator 2: a file either spells out the whole spec, or names a preset and overrides
//! single fields by dotted path:
//!
//! ```ron
//! (
//!     preset: "hycube-4x4",
//!     set: { "clock_period_ps": 800, "rf_size": 8 },
//! )
//! ```
//!
//! Overrides are applied on the preset's serialized form (field names as in the RON spec;
//! unit enum variants are given as strings), then the result is deserialized again and
//! validated, so an override can never produce a spec that a full file could not.

use crate::error::{SpecError, SpecErrorKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Sets one field of a spec from its serialized value (see [`Spec::field_setter`]).
pub type FieldSetter<T> = fn(&mut T, &serde_json::Value) -> Result<(), String>;

/// A leaf value deserialized from its serialized form, for [`FieldSetter`]s.
pub fn leaf<V: DeserializeOwned>(v: &serde_json::Value) -> Result<V, String> {
    V::deserialize(v).map_err(|e| e.to_string())
}

/// A spec kind that can be loaded from RON, with named presets and validation.
pub trait Spec: Serialize + DeserializeOwned + Sized {
    /// What this spec describes, for messages ("CGRA spec").
    const KIND: &'static str;

    /// The RON text of every built-in preset, by name.
    fn presets() -> &'static [(&'static str, &'static str)];

    /// Refuse contradictions with a message a user can act on.
    fn validate(&self) -> Result<(), Vec<String>>;

    /// A typed setter for the leaf field at a dotted `path`, when this spec kind has one
    /// (`None`: set it through [`set_path`] on the serialized form). A setter must give
    /// the same spec as `set_path` followed by deserializing; design-space searches use
    /// it to build hundreds of thousands of specs without a JSON tree each.
    fn field_setter(_path: &str) -> Option<FieldSetter<Self>> {
        None
    }

    /// Names of all built-in presets.
    fn preset_names() -> Vec<&'static str> {
        Self::presets().iter().map(|(n, _)| *n).collect()
    }

    /// Load a built-in preset by name.
    fn preset(name: &str) -> Result<Self, SpecError> {
        let Some((_, text)) = Self::presets().iter().find(|(n, _)| *n == name) else {
            return Err(SpecError::new(
                "<preset>".to_string(),
                SpecErrorKind::UnknownPreset {
                    kind: Self::KIND,
                    name: name.to_string(),
                    known: Self::preset_names().join(", "),
                },
            ));
        };
        load_str::<Self>(text, &format!("<preset {name}>"))
    }

    /// Load from a file path, from a preset name when no such file exists, or from inline
    /// RON when the argument starts with `(` (e.g. `(preset: "hycube-4x4", set:
    /// {"rf_size": 8})`), so that every command accepts the same architecture argument.
    fn load(path_or_preset: &str) -> Result<Self, SpecError> {
        if path_or_preset.trim_start().starts_with('(') {
            return load_str::<Self>(path_or_preset, "<inline spec>");
        }
        let p = Path::new(path_or_preset);
        if p.exists() {
            load_file(p)
        } else if Self::presets().iter().any(|(n, _)| *n == path_or_preset) {
            Self::preset(path_or_preset)
        } else if path_or_preset.ends_with(".ron") || path_or_preset.contains('/') {
            Err(SpecError::new(
                path_or_preset.to_string(),
                SpecErrorKind::Io(format!(
                    "no such file (and not a preset name; presets: {})",
                    Self::preset_names().join(", ")
                )),
            ))
        } else {
            Self::preset(path_or_preset)
        }
    }
}

/// Read and parse a spec file.
pub fn load_file<T: Spec>(path: &Path) -> Result<T, SpecError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::new(file.clone(), SpecErrorKind::Io(e.to_string())))?;
    load_str::<T>(&text, &file)
}

/// Parse spec text; `file` names it in errors.
pub fn load_str<T: Spec>(text: &str, file: &str) -> Result<T, SpecError> {
    let spec: T = if let Some(preset_ref) = parse_preset_ref(text, file)? {
        apply_overrides::<T>(preset_ref, file)?
    } else {
        ron_options()
            .from_str::<T>(text)
            .map_err(|e| SpecError::from_ron(file, &e))?
    };
    spec.validate().map_err(|problems| {
        SpecError::new(
            file.to_string(),
            SpecErrorKind::Invalid {
                kind: T::KIND,
                problems,
            },
        )
    })?;
    Ok(spec)
}

/// The RON options used for every spec: implicit `Some` so optional fields read naturally.
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

/// Write a spec as pretty RON (used by `arch show`).
pub fn to_ron<T: Serialize>(spec: &T) -> String {
    ron::ser::to_string_pretty(spec, ron::ser::PrettyConfig::default().struct_names(true))
        .unwrap_or_else(|e| format!("/* could not serialize: {e} */"))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetRef {
    preset: String,
    #[serde(default)]
    set: std::collections::BTreeMap<String, ron::Value>,
}

fn parse_preset_ref(text: &str, file: &str) -> Result<Option<PresetRef>, SpecError> {
    // Only a file that is an anonymous struct/map with a `preset` key is a preset reference.
    let Ok(value) = ron_options().from_str::<ron::Value>(text) else {
        return Ok(None);
    };
    let ron::Value::Map(map) = &value else {
        return Ok(None);
    };
    let has_preset = map
        .keys()
        .any(|k| matches!(k, ron::Value::String(s) if s == "preset"));
    if !has_preset {
        return Ok(None);
    }
    ron_options()
        .from_str::<PresetRef>(text)
        .map(Some)
        .map_err(|e| SpecError::from_ron(file, &e))
}

fn apply_overrides<T: Spec>(r: PresetRef, file: &str) -> Result<T, SpecError> {
    let base = T::preset(&r.preset).map_err(|e| e.in_file(file))?;
    let mut json = serde_json::to_value(&base)
        .map_err(|e| SpecError::new(file.to_string(), SpecErrorKind::Override(e.to_string())))?;
    for (path, value) in &r.set {
        let new = ron_to_json(value).map_err(|msg| {
            SpecError::new(
                file.to_string(),
                SpecErrorKind::Override(format!("override `{path}`: {msg}")),
            )
        })?;
        set_path(&mut json, path, new).map_err(|msg| {
            SpecError::new(
                file.to_string(),
                SpecErrorKind::Override(format!("override `{path}`: {msg}")),
            )
        })?;
    }
    serde_json::from_value::<T>(json).map_err(|e| {
        SpecError::new(
            file.to_string(),
            SpecErrorKind::Override(format!("after applying overrides: {e}")),
        )
    })
}

/// Set the field at a dotted path (`"sram.ifmap.size_kb"`, list items by index) of a
/// spec's serialized form; a path that does not exist is an error naming the fields there.
pub fn set_path(
    root: &mut serde_json::Value,
    path: &str,
    new: serde_json::Value,
) -> Result<(), String> {
    let mut cur = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        cur = match cur {
            serde_json::Value::Object(map) => {
                if !map.contains_key(*part) {
                    let known: Vec<&str> = map.keys().map(String::as_str).collect();
                    return Err(format!(
                        "no field `{part}` here; expected one of: {}",
                        known.join(", ")
                    ));
                }
                let slot = map.get_mut(*part).expect("checked above");
                if last {
                    *slot = new;
                    return Ok(());
                }
                slot
            }
            serde_json::Value::Array(items) => {
                let idx: usize = part
                    .parse()
                    .map_err(|_| format!("`{part}` is not a list index"))?;
                let len = items.len();
                let slot = items
                    .get_mut(idx)
                    .ok_or_else(|| format!("index {idx} out of range (list has {len} items)"))?;
                if last {
                    *slot = new;
                    return Ok(());
                }
                slot
            }
            other => return Err(format!("cannot descend into `{other}` with `{part}`")),
        };
    }
    Err("empty path".to_string())
}

/// A RON value as JSON (unit enum variants as strings), for overrides.
pub fn ron_to_json(v: &ron::Value) -> Result<serde_json::Value, String> {
    use ron::Value as R;
    use serde_json::Value as J;
    Ok(match v {
        R::Bool(b) => J::Bool(*b),
        R::Char(c) => J::String(c.to_string()),
        R::String(s) => J::String(s.clone()),
        R::Number(n) => {
            let f = n.into_f64();
            if f.fract() == 0.0 && f.abs() < 9.0e15 && !format!("{n:?}").contains('.') {
                J::from(f as i64)
            } else {
                serde_json::Number::from_f64(f)
                    .map(J::Number)
                    .ok_or_else(|| "not a finite number".to_string())?
            }
        }
        R::Option(None) | R::Unit => J::Null,
        R::Option(Some(inner)) => ron_to_json(inner)?,
        R::Seq(items) => J::Array(items.iter().map(ron_to_json).collect::<Result<_, _>>()?),
        R::Map(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map.iter() {
                let R::String(key) = k else {
                    return Err("map keys must be strings".to_string());
                };
                out.insert(key.clone(), ron_to_json(v)?);
            }
            J::Object(out)
        }
        R::Bytes(_) => return Err("byte strings are not supported in overrides".to_string()),
    })
}
