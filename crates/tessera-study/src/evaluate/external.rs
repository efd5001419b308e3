//! The external evaluator: any simulator a user already has (gem5, Timeloop, an RTL flow, a
//! Python model), run as a persistent process per worker thread.
//!
//! Protocol: Tessera writes one design per line on the process's stdin, a JSON object
//! `{"id": 7, "design": {"rows": 16, "dataflow": "WeightStationary", ...}}`, and reads one
//! line back on stdout: a JSON object of metrics (`{"latency_ms": 1.2, "area_mm2": 0.8}`),
//! or `{"infeasible": "why"}`, or `{"error": "why"}`. The process is started once per
//! worker and kept for every design that worker evaluates. A design whose answer does not
//! arrive within the timeout, a process that exits, and an answer that is not such an
//! object are recorded as failed evaluations with the reason (the process is then killed
//! and a new one started for the next design). Each process's stderr goes to
//! `DIR/evaluator-stderr-W.log`.

use super::{DesignRef, Evaluation, Evaluator};
use crate::StudyError;
use crate::config::LoadedConfig;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running evaluator process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<std::io::Result<String>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// See the module documentation.
pub struct ExternalEvaluator {
    command: Vec<String>,
    timeout: Duration,
    version: String,
    stderr_dir: PathBuf,
    /// One slot per worker index, started on first use.
    workers: Mutex<Vec<Arc<Mutex<Option<Worker>>>>>,
}

impl ExternalEvaluator {
    pub fn new(
        cfg: &LoadedConfig,
        command: &[String],
        timeout_s: f64,
        version: &str,
        run_dir: &Path,
    ) -> Result<Self, StudyError> {
        if command.is_empty() || command[0].is_empty() {
            return Err(cfg.error_at(
                "command",
                "the external evaluator needs a command: [\"program\", \"arg\", ...]".into(),
            ));
        }
        if !(timeout_s.is_finite() && timeout_s > 0.0) {
            return Err(cfg.error_at(
                "timeout_s",
                "timeout_s must be a positive number of seconds".into(),
            ));
        }
        Ok(ExternalEvaluator {
            command: command.to_vec(),
            timeout: Duration::from_secs_f64(timeout_s),
            version: version.to_string(),
            stderr_dir: run_dir.to_path_buf(),
            workers: Mutex::new(Vec::new()),
        })
    }

    fn start(&self, worker: usize) -> Result<Worker, String> {
        let log = self
            .stderr_dir
            .join(format!("evaluator-stderr-{worker}.log"));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: cannot write: {e}", log.display()))?;
        let mut child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", self.command.join(" ")))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Worker {
            child,
            stdin,
            lines: rx,
        })
    }

    fn ask(&self, w: &mut Worker, d: &DesignRef<'_>) -> Result<Evaluation, String> {
        let request = serde_json::json!({ "id": d.id, "design": d.values });
        writeln!(w.stdin, "{request}")
            .and_then(|_| w.stdin.flush())
            .map_err(|e| format!("cannot send the design: {e} (the process may have exited)"))?;
        let line = match w.lines.recv_timeout(self.timeout) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(format!("cannot read the answer: {e}")),
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "no answer within {:.1} s (timeout)",
                    self.timeout.as_secs_f64()
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = w.child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(format!("the process exited ({status}) without answering"));
            }
        };
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
            format!("malformed answer (expected one JSON object per line): {e}: `{line}`")
        })?;
        let serde_json::Value::Object(map) = v else {
            return Err(format!(
                "malformed answer (expected a JSON object): `{line}`"
            ));
        };
        if let Some(why) = map.get("infeasible") {
            return Ok(Evaluation::Infeasible(text(why)));
        }
        if let Some(why) = map.get("error") {
            return Ok(Evaluation::Failed(format!(
                "the evaluator said: {}",
                text(why)
            )));
        }
        let mut metrics = super::Metrics::new();
        for (k, v) in map {
            let x = v.as_f64().ok_or_else(|| {
                format!("malformed answer: metric `{k}` is not a number: `{line}`")
            })?;
            metrics.insert(k.into(), x);
        }
        Ok(Evaluation::Metrics(metrics))
    }
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

impl Evaluator for ExternalEvaluator {
    fn describe(&self) -> String {
        format!("external `{}` {}", self.command.join(" "), self.version)
    }

    fn metric_names(&self) -> Option<Vec<&'static str>> {
        None
    }

    fn evaluate(&self, d: &DesignRef<'_>, worker: usize) -> Evaluation {
        // The slot of this worker; each worker index is used by one thread at a time.
        let slot = {
            let mut all = self.workers.lock().unwrap_or_else(|p| p.into_inner());
            if all.len() <= worker {
                all.resize_with(worker + 1, || Arc::new(Mutex::new(None)));
            }
            Arc::clone(&all[worker])
        };
        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            match self.start(worker) {
                Ok(w) => *guard = Some(w),
                Err(e) => return Evaluation::Failed(e),
            }
        }
        let Some(w) = guard.as_mut() else {
            return Evaluation::Failed("evaluator process not started".into());
        };
        match self.ask(w, d) {
            Ok(e) => e,
            Err(why) => {
                // Kill it; the next design starts a fresh one.
                *guard = None;
                Evaluation::Failed(why)
            }
        }
    }
}
