//! Background work: opening files, mapping and simulating run on their own threads and
//! report progress and results over a channel, so the window stays responsive. Cancelling
//! a job drops its result; a flow that can stop early stops: it polls [`JobCtx::cancelled`],
//! or hands the job's flag to the library ([`JobCtx::cancel_flag`], the mapper's
//! `MapOptions::cancel`, which `tessera_flow::compare::compare_cancellable` takes too).

use crate::docs::{Loaded, OpenError};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;
use tessera_map::Mapping;
use tessera_sim::{CycleRecord, SimReport};

pub type JobId = u64;

/// What a finished job hands back to the app.
pub enum JobResult {
    Opened {
        path: PathBuf,
        result: Result<Loaded, OpenError>,
    },
    /// A kernel mapped (and simulated) from the Run view.
    Ran(Result<Box<RunOutput>, String>),
    /// A mapping simulated on a seed.
    Simulated {
        doc: u64,
        result: Result<Box<(SimReport, Vec<CycleRecord>)>, String>,
    },
    /// A comparison run from the Compare view.
    Compared(Result<Box<tessera_flow::compare::CompareReport>, String>),
    /// A co-search design's spec, network and per-layer report.
    DesignDetails {
        doc: u64,
        id: u64,
        result: Result<Box<crate::docs::DesignDetails>, String>,
    },
}

/// The outcome of "map and simulate".
pub struct RunOutput {
    pub mapping: Mapping,
    pub sim: Option<SimReport>,
    /// The simulation cycle by cycle, for the replay.
    pub cycles: Vec<CycleRecord>,
    /// What the flow says besides the mapping (failed IIs, simulation problem).
    pub notes: Vec<String>,
}

enum Msg {
    Progress {
        id: JobId,
        text: String,
        fraction: Option<f32>,
    },
    Done {
        id: JobId,
        result: Box<JobResult>,
    },
}

/// Handed to a job's closure: report progress, check for cancellation.
pub struct JobCtx {
    id: JobId,
    tx: Sender<Msg>,
    cancel: Arc<AtomicBool>,
    repaint: Option<eframe::egui::Context>,
}

impl JobCtx {
    pub fn progress(&self, text: impl Into<String>, fraction: Option<f32>) {
        let _ = self.tx.send(Msg::Progress {
            id: self.id,
            text: text.into(),
            fraction,
        });
        if let Some(c) = &self.repaint {
            c.request_repaint();
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The job's cancel flag as the mapper's stop flag (`MapOptions::cancel`).
    pub fn cancel_flag(&self) -> tessera_map::driver::CancelFlag {
        self.cancel.clone().into()
    }
}

/// A job still running, as the window shows it.
pub struct Running {
    pub id: JobId,
    pub label: String,
    pub text: String,
    pub fraction: Option<f32>,
    cancel: Arc<AtomicBool>,
}

pub struct Jobs {
    next: JobId,
    pub running: Vec<Running>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    repaint: Option<eframe::egui::Context>,
    /// Job threads still running, cancelled ones included (they stop at the library's next
    /// cancel check).
    alive: Arc<AtomicUsize>,
}

impl Default for Jobs {
    fn default() -> Self {
        let (tx, rx) = channel();
        Self {
            next: 1,
            running: Vec::new(),
            tx,
            rx,
            repaint: None,
            alive: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Jobs {
    /// Job threads still running, cancelled jobs that have not stopped yet included.
    pub fn threads_alive(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    /// Cancelled jobs whose threads have not stopped yet.
    pub fn stopping(&self) -> usize {
        self.threads_alive().saturating_sub(self.running.len())
    }

    /// Wake the window when a job reports (set once the egui context is known).
    pub fn set_repaint(&mut self, ctx: &eframe::egui::Context) {
        if self.repaint.is_none() {
            self.repaint = Some(ctx.clone());
        }
    }

    pub fn spawn(
        &mut self,
        label: impl Into<String>,
        f: impl FnOnce(&JobCtx) -> JobResult + Send + 'static,
    ) -> JobId {
        let id = self.next;
        self.next += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        let ctx = JobCtx {
            id,
            tx: self.tx.clone(),
            cancel: cancel.clone(),
            repaint: self.repaint.clone(),
        };
        let label = label.into();
        self.running.push(Running {
            id,
            label: label.clone(),
            text: String::new(),
            fraction: None,
            cancel,
        });
        let alive = self.alive.clone();
        alive.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name(format!("tessera-gui job {id}"))
            .spawn(move || {
                // Counted until the job has its result (a panic included).
                struct Alive(Arc<AtomicUsize>);
                impl Drop for Alive {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                let alive = Alive(alive);
                // A panic in a library call must not take the window down: report it.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&ctx)))
                    .unwrap_or_else(|p| {
                        let what = p
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "unknown panic".into());
                        JobResult::Ran(Err(format!("internal error in {label}: {what}")))
                    });
                // No longer alive once its result is on the way: a finished job is never
                // counted as "stopping".
                drop(alive);
                let _ = ctx.tx.send(Msg::Done {
                    id,
                    result: Box::new(result),
                });
                if let Some(c) = &ctx.repaint {
                    c.request_repaint();
                }
            });
        if let Err(e) = spawned {
            self.alive.fetch_sub(1, Ordering::SeqCst);
            self.running.retain(|r| r.id != id);
            let _ = self.tx.send(Msg::Done {
                id,
                result: Box::new(JobResult::Ran(Err(format!("cannot start a thread: {e}")))),
            });
        }
        id
    }

    /// Cancel a job: it is asked to stop and its result will be dropped.
    pub fn cancel(&mut self, id: JobId) {
        if let Some(r) = self.running.iter().find(|r| r.id == id) {
            r.cancel.store(true, Ordering::Relaxed);
        }
        self.running.retain(|r| r.id != id);
    }

    /// Results of jobs finished since the last call (cancelled ones dropped).
    pub fn poll(&mut self) -> Vec<JobResult> {
        let mut out = Vec::new();
        while let Ok(msg) = self.rx.try_recv() {
            self.handle(msg, &mut out);
        }
        out
    }

    fn handle(&mut self, msg: Msg, out: &mut Vec<JobResult>) {
        match msg {
            Msg::Progress { id, text, fraction } => {
                if let Some(r) = self.running.iter_mut().find(|r| r.id == id) {
                    r.text = text;
                    r.fraction = fraction;
                }
            }
            Msg::Done { id, result } => {
                if let Some(i) = self.running.iter().position(|r| r.id == id) {
                    self.running.remove(i);
                    out.push(*result);
                }
            }
        }
    }

    /// Block until every running job finished or `timeout` passed (tests, benches).
    pub fn wait_all(&mut self, timeout: Duration) -> Vec<JobResult> {
        let end = std::time::Instant::now() + timeout;
        let mut out = Vec::new();
        while !self.running.is_empty() {
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match self.rx.recv_timeout(left) {
                Ok(msg) => self.handle(msg, &mut out),
                Err(_) => break,
            }
        }
        out.extend(self.poll());
        out
    }
}
