//! The `Mapping`: where and when every op of a kernel runs on a CGRA, and how every value
//! travels. Produced by the mappers, verified by the checker, executed by the simulator,
//! drawn by the GUI. It is written as versioned JSON (`mapping.json`).
//!
//! # Timing model
//!
//! A mapping is a modulo schedule with initiation interval `ii`. Times are cycles in the
//! schedule of one iteration; iteration `k` runs node `v` at absolute cycle
//! `k * ii + placement[v].cycle`.
//!
//! * **Ops.** A node placed on PE `p` at cycle `t` reads its operands during cycle `t` and,
//!   with latency `L` (from the spec's op class), its result enters `p`'s output register at
//!   the start of cycle `t + L`. The PE's functional unit is busy in slot `t mod ii` only
//!   (units are pipelined). `Const` and `Input` nodes may instead be *immediates*
//!   (`pe = None`): their value is part of each consumer's configuration and needs no route.
//! * **Output register.** Each PE has one. A value occupies it from `t + L` through the last
//!   cycle a segment reads it (`Loc::Out`); occupancies on one PE must not overlap modulo `ii`.
//! * **Register files.** A segment ending in `Loc::Reg { pe, reg }` at cycle `c` writes the
//!   register at the end of `c`; it holds the value from `c + 1` through its last read.
//!   Occupancies of one register must not overlap modulo `ii`, and `reg < rf_size`.
//! * **Links.** A segment at cycle `c` moves a value along `path` (each consecutive PE pair a
//!   link of the topology) within that cycle; a path has at most `max_hops_per_cycle` hops.
//!   A link carries one value per cycle slot (the same value may fan out over it).
//! * **Operands.** A route for edge `u -> v` with distance `d` ends in a segment to
//!   `Loc::Operand` at cycle `placement[v].cycle + d * ii` (cycles of a route are counted in
//!   the producer's iteration), at `v`'s PE. For the first `d` iterations the consumer reads
//!   the edge's `init` value instead (preloaded in configuration).
//! * **Memory.** Loads and stores sit on PEs wired to the bank holding their array
//!   (`array_banks`). In one cycle loads read memory before stores write it. An order edge
//!   `u -> v` with distance `d` needs `t_v + d * ii >= t_u + 1` when `u` is a store, and
//!   `t_v + d * ii >= t_u` otherwise.
//! * **Read-only array replication.** An array that the kernel never writes (declared
//!   `ArrayDir::In` and named by no store) may be copied at configuration time into extra
//!   banks (`array_replicas[a]`, never the primary `array_banks[a]`). A bank that holds a
//!   copy must have room for it: the sizes of the arrays whose primary bank it is plus the
//!   copies it holds stay within `size_bytes`. An array takes its *footprint*
//!   (`tessera_ir::footprint::resident_spans`): the span of its bytes that the kernel's
//!   memory ops can reach in any run, from an interval analysis of the addresses (the whole
//!   array when an op that names it has an unbounded address); the simulator refuses an
//!   access outside it. Only arrays some memory op names (the
//!   kernel's declared working set) count here: an array no memory op names — an
//!   importer's address-space filler, or data reached only through pointer accesses whose
//!   array is not known statically — is not counted, as bank capacity was never checked
//!   for such data (a known limitation of the model). A load of a replicated array reads
//!   the copy in bank
//!   `access_banks[node]`; when that entry is absent (`None`, or `access_banks` empty as in
//!   files written before replication existed) it reads the lowest-index copy (primary or
//!   replica) wired to its PE. That bank must hold a copy and be wired to the load's PE,
//!   and its ports count the access. Stores never target a replicated array. Since no copy
//!   is ever written, all copies always hold the same data.
//! * **COMPOSE chaining.** With composition on, a segment may start at `Loc::Comb { pe }`:
//!   the producer's result taken combinationally in the cycle it executes (same absolute
//!   cycle; the consumer may belong to a later iteration through a loop-carried edge).
//!   `start_ps` is when an op's inputs are stable within its cycle; a chained consumer needs
//!   `start_ps >= producer.start_ps + producer delay + hops * hop_delay_ps`, and every op
//!   needs `start_ps + delay + setup_ps <= clock_period_ps`. A node whose every consumer
//!   reads it combinationally may be left unregistered (`registered = false`: deferred
//!   registration).

use serde::{Deserialize, Serialize};
use tessera_arch::cgra::{CgraSpec, PeId};
use tessera_ir::Kernel;

/// Version of the `mapping.json` format. 2 (2026-12-06): the embedded architecture's
/// `compose` section gives the bypass overhead as `bypass_area_um2_per_pe` and
/// `bypass_leakage_uw_per_pe` (absolute, counted from standard cells) instead of the
/// fractions of version 1; a version-1 file is refused with the version, not a parse error.
pub const MAPPING_FORMAT_VERSION: u32 = 2;

/// A complete mapping of a kernel onto a CGRA.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    pub format_version: u32,
    /// The kernel, embedded so a mapping file is self-contained.
    pub kernel: Kernel,
    /// The architecture (with presets and overrides resolved).
    pub arch: CgraSpec,
    pub ii: u32,
    /// One entry per kernel node, indexed by node index.
    pub placements: Vec<Placement>,
    /// One entry per kernel edge that carries a value (not for order edges, nor for edges
    /// from immediates), in any order.
    pub routes: Vec<Route>,
    /// Bank holding each kernel array, indexed like `kernel.arrays`.
    pub array_banks: Vec<u16>,
    /// Extra banks holding read-only copies of each array (see "Read-only array
    /// replication" above), indexed like `kernel.arrays`; empty when nothing is replicated.
    #[serde(default)]
    pub array_replicas: Vec<Vec<u16>>,
    /// Bank each memory op reads, indexed by node; `None` (or an empty vector) means the
    /// default rule above. Only loads of replicated arrays need an entry.
    #[serde(default)]
    pub access_banks: Vec<Option<u16>>,
    /// How the mapping was obtained.
    pub provenance: Provenance,
}

/// Where and when one node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// PE, or `None` for a `Const`/`Input` node used as an immediate.
    pub pe: Option<PeId>,
    /// Cycle in the iteration's schedule.
    pub cycle: u32,
    /// When the op's inputs are stable within its cycle (COMPOSE timing); the clock-to-q
    /// delay plus any hops for registered inputs.
    pub start_ps: u32,
    /// Whether the result is written to the PE's output register.
    pub registered: bool,
}

/// A storage or endpoint location of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Loc {
    /// The output register of a PE (value produced in an earlier cycle).
    Out { pe: PeId },
    /// The combinational output of the producer in the cycle it executes (COMPOSE).
    Comb { pe: PeId },
    /// A register of a PE's register file.
    Reg { pe: PeId, reg: u16 },
    /// The consumer's operand input (final segment only).
    Operand { pe: PeId },
}

impl Loc {
    pub fn pe(&self) -> PeId {
        match *self {
            Loc::Out { pe } | Loc::Comb { pe } | Loc::Reg { pe, .. } | Loc::Operand { pe } => pe,
        }
    }
}

/// One cycle of a route: the value moves from `from` along `path` to `to` in `cycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Cycle, counted in the producer's iteration.
    pub cycle: u32,
    pub from: Loc,
    /// PEs visited after `from`'s PE, one per hop; empty when `to` is on the same PE.
    pub path: Vec<PeId>,
    pub to: Loc,
}

impl Segment {
    pub fn hops(&self) -> usize {
        self.path.len()
    }
}

/// The route of one value-carrying edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Edge index in `kernel.graph`.
    pub edge: u32,
    /// Segments in time order; the last ends at `Loc::Operand`.
    pub segments: Vec<Segment>,
}

/// How a mapping was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Mapper name (e.g. `heuristic`, `exact-milp`).
    pub mapper: String,
    pub seed: u64,
    pub mii: u32,
    /// Wall time of the mapper in milliseconds.
    pub time_ms: f64,
    /// Why each lower II (from the MII up) failed.
    pub failed_iis: Vec<(u32, String)>,
    /// Tessera version that wrote the mapping.
    pub tool_version: String,
    /// Input seed of the simulation that chose between a chained and an unchained mapping
    /// (COMPOSE with memory ops of unknown bank: `driver::map_kernel_judged`); absent when
    /// no simulation took part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_seed: Option<u64>,
}

/// Errors reading or writing mapping files.
#[derive(Debug, thiserror::Error)]
pub enum MappingFileError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}: cannot write: {message}")]
    Write { file: String, message: String },
    #[error("{file}:{line}:{col}: not a Tessera mapping: {message}")]
    Parse {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{file}: mapping format version {found}, this Tessera reads version {expected}")]
    Version {
        file: String,
        found: u32,
        expected: u32,
    },
}

impl Mapping {
    /// Schedule length of one iteration: the last cycle any op completes.
    pub fn schedule_length(&self) -> u32 {
        self.kernel
            .graph
            .node_indices()
            .filter_map(|n| {
                let p = self.placements.get(n.index())?;
                p.pe?;
                let lat = self
                    .arch
                    .op_cost(self.kernel.graph[n].op.class())
                    .map(|c| c.latency_cycles as u32)
                    .unwrap_or(1);
                Some(p.cycle + lat)
            })
            .max()
            .unwrap_or(0)
    }

    /// Every bank holding a copy of array `a` (primary first, then replicas).
    pub fn array_copies(&self, a: usize) -> Vec<u16> {
        let mut v: Vec<u16> = self.array_banks.get(a).copied().into_iter().collect();
        if let Some(r) = self.array_replicas.get(a) {
            for &b in r {
                if !v.contains(&b) {
                    v.push(b);
                }
            }
        }
        v
    }

    /// The bank memory op `node` on `pe` accesses when its declared array is `a`, following
    /// the replication rule above (`access_banks`, else the lowest-index copy wired to `pe`,
    /// else the primary bank). The checker re-derives this independently.
    pub fn access_bank(&self, node: usize, a: usize, pe: PeId) -> Option<u16> {
        let copies = self.array_copies(a);
        if copies.len() <= 1 {
            return copies.first().copied();
        }
        if let Some(Some(b)) = self.access_banks.get(node) {
            return Some(*b);
        }
        let pos = self.arch.pe_pos(pe);
        copies
            .iter()
            .copied()
            .filter(|&b| {
                self.arch
                    .memory
                    .banks
                    .get(b as usize)
                    .is_some_and(|x| x.pes.contains(&pos))
            })
            .min()
            .or(copies.first().copied())
    }

    /// Total cycles to run `trip_count` iterations: `(trip - 1) * ii + schedule length`.
    pub fn total_cycles(&self) -> u64 {
        let trip = self.kernel.trip_count as u64;
        if trip == 0 {
            0
        } else {
            (trip - 1) * self.ii as u64 + self.schedule_length() as u64
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("mapping serializes")
    }

    /// Write the mapping as JSON, creating the parent folder when it does not exist.
    pub fn save(&self, path: &std::path::Path) -> Result<(), MappingFileError> {
        let err = |e: std::io::Error| MappingFileError::Write {
            file: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::write(path, self.to_json()).map_err(err)
    }

    pub fn load(path: &std::path::Path) -> Result<Self, MappingFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MappingFileError::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Self::from_json(&text, &file)
    }

    pub fn from_json(text: &str, file: &str) -> Result<Self, MappingFileError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            format_version: u32,
        }
        let parse_err = |e: serde_json::Error| MappingFileError::Parse {
            file: file.to_string(),
            line: e.line(),
            col: e.column(),
            message: e.to_string(),
        };
        let v: VersionOnly = serde_json::from_str(text).map_err(parse_err)?;
        if v.format_version != MAPPING_FORMAT_VERSION {
            return Err(MappingFileError::Version {
                file: file.to_string(),
                found: v.format_version,
                expected: MAPPING_FORMAT_VERSION,
            });
        }
        serde_json::from_str(text).map_err(parse_err)
    }
}
