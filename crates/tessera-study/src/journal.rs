//! `DIR/journal.jsonl`: slow evaluations kept the moment they end, so that a killed run
//! loses only the evaluations in flight.
//!
//! `results.jsonl` is written in id order, one batch at a time (up to 256 designs, or an
//! NSGA generation), so a `kill -9` loses the finished evaluations of the batch being
//! evaluated. For a fast evaluator that is well under a second of work; for a slow one
//! (a CGRA design mapped and simulated on twenty kernels, a network trained) it can be
//! hours. So every evaluation that took at least [`JOURNAL_MIN_MS`] is also appended to
//! the journal as soon as it ends, in completion order, one unbuffered write per line:
//! `{"wall_ms": W, "record": RECORD}` with the record exactly as its `results.jsonl` line.
//! A resume takes a journaled result instead of evaluating the design again (same id and
//! genes, or the folder belongs to another search); the record is then written to
//! `results.jsonl` in its place as if just evaluated, so the resumed run still ends with
//! the same `results.jsonl` as an uninterrupted one. A run that ends without being stopped
//! removes its journal; a line cut short by a kill is ignored.

use crate::StudyError;
use crate::run::Record;
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Evaluations that take at least this long are journaled. One unbuffered write of a line
/// costs some 10 µs, 0.1 % of such an evaluation; faster evaluations are recorded only by
/// batch (a batch of 256 of them is at most 2.6 s of work per thread).
pub const JOURNAL_MIN_MS: f64 = 10.0;

/// The journal's file name in a run folder.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// A journaled evaluation.
#[derive(Debug, Clone, Deserialize)]
pub struct JournalEntry {
    pub wall_ms: f64,
    pub record: Record,
}

/// The journal of a run, shared by the workers; opened on its first line.
pub struct Journal {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
    /// The first write error (reported by [`Journal::check`]).
    error: Mutex<Option<std::io::Error>>,
}

impl Journal {
    pub fn new(dir: &Path) -> Journal {
        Journal {
            path: dir.join(JOURNAL_FILE),
            file: Mutex::new(None),
            error: Mutex::new(None),
        }
    }

    /// Append one evaluation: `line` is its record's `results.jsonl` line (newline
    /// included). A write error is kept for [`Journal::check`].
    pub fn write(&self, wall_ms: f64, line: &[u8]) {
        let mut buf = Vec::with_capacity(line.len() + 40);
        let _ = write!(buf, "{{\"wall_ms\":{wall_ms},\"record\":");
        buf.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line));
        buf.extend_from_slice(b"}\n");
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let result = match &mut *file {
            Some(f) => f.write_all(&buf),
            None => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .and_then(|mut f| {
                    f.write_all(&buf)?;
                    *file = Some(f);
                    Ok(())
                }),
        };
        if let Err(e) = result {
            let mut error = self.error.lock().unwrap_or_else(|p| p.into_inner());
            error.get_or_insert(e);
        }
    }

    /// Fails with the first write error, if any.
    pub fn check(&self) -> Result<(), StudyError> {
        let mut error = self.error.lock().unwrap_or_else(|p| p.into_inner());
        match error.take() {
            Some(e) => Err(StudyError::io(&self.path, e)),
            None => Ok(()),
        }
    }

    /// The run ended with every evaluation recorded: the journal is no longer needed.
    pub fn remove(&self) -> Result<(), StudyError> {
        *self.file.lock().unwrap_or_else(|p| p.into_inner()) = None;
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StudyError::io(&self.path, e))
            }
            _ => Ok(()),
        }
    }
}

/// The journaled evaluations of a folder with ids from `from` on (those before it are in
/// `results.jsonl` already), by id. A last line cut short by a kill is ignored; any other
/// line that is not an entry is an error naming it.
pub fn read(dir: &Path, from: u64) -> Result<rustc_hash::FxHashMap<u64, JournalEntry>, StudyError> {
    let path = dir.join(JOURNAL_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(StudyError::io(&path, e)),
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = rustc_hash::FxHashMap::default();
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<JournalEntry>(line.trim_end()) {
            Ok(e) if line.ends_with('\n') => {
                if e.record.id >= from {
                    out.insert(e.record.id, e);
                }
            }
            _ if i + 1 == lines.len() => {}
            Err(e) => {
                return Err(StudyError::Config {
                    file: path.display().to_string(),
                    line: i + 1,
                    column: e.column(),
                    message: format!("not a journal entry: {e}"),
                });
            }
            Ok(_) => unreachable!("only the last line can lack its newline"),
        }
    }
    Ok(out)
}
