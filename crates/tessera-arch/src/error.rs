//! Errors for spec loading, with file, line and column where the input gives them.

use std::fmt;

/// A spec that could not be loaded or is contradictory.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct SpecError {
    /// File (or `<preset NAME>`) the problem is in.
    pub file: String,
    /// 1-based line and column, when the problem has a position.
    pub position: Option<(usize, usize)>,
    /// What went wrong.
    pub kind: SpecErrorKind,
}

/// The kinds of spec error.
#[derive(Debug, Clone, PartialEq)]
pub enum SpecErrorKind {
    /// The file could not be read.
    Io(String),
    /// RON syntax or type error.
    Parse(String),
    /// A preset name that does not exist.
    UnknownPreset {
        kind: &'static str,
        name: String,
        known: String,
    },
    /// A field override that does not apply.
    Override(String),
    /// The spec parsed but contradicts itself.
    Invalid {
        kind: &'static str,
        problems: Vec<String>,
    },
}

impl SpecError {
    pub fn new(file: String, kind: SpecErrorKind) -> Self {
        Self {
            file,
            position: None,
            kind,
        }
    }

    /// Convert a RON error, keeping its line and column.
    pub fn from_ron(file: &str, e: &ron::error::SpannedError) -> Self {
        Self {
            file: file.to_string(),
            position: Some((e.span.start.line, e.span.start.col)),
            kind: SpecErrorKind::Parse(e.code.to_string()),
        }
    }

    /// Re-attribute an error to the file that referenced a preset.
    pub fn in_file(mut self, file: &str) -> Self {
        if self.file.starts_with('<') {
            self.file = format!("{file} (via {})", self.file);
        }
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{}:{}: ", self.file, line, col)?,
            None => write!(f, "{}: ", self.file)?,
        }
        match &self.kind {
            SpecErrorKind::Io(m) => write!(f, "cannot read: {m}"),
            SpecErrorKind::Parse(m) => write!(f, "{m}"),
            SpecErrorKind::UnknownPreset { kind, name, known } => {
                write!(f, "unknown {kind} preset `{name}`; known presets: {known}")
            }
            SpecErrorKind::Override(m) => write!(f, "{m}"),
            SpecErrorKind::Invalid { kind, problems } => {
                write!(f, "invalid {kind}:")?;
                for p in problems {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}
