//! The simulation report (`SimReport`, versioned serde) and output verification against the
//! reference interpreter.

use crate::stats::{EnergyBreakdown, SimStats};
use serde::{Deserialize, Serialize};
use tessera_ir::interp::Divergence;

/// Version of the serialized [`SimReport`].
pub const SIM_REPORT_FORMAT_VERSION: u32 = 1;

/// The op execution that produced a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerInfo {
    /// Array cycle (stalls included) in which the value was produced (for a store: the cycle
    /// it wrote memory).
    pub cycle: u64,
    pub pe: u16,
    pub row: u16,
    pub col: u16,
    pub node: u32,
    /// Op mnemonic and label of the node.
    pub node_desc: String,
    pub iteration: u64,
}

/// The first output where the array and the interpreter disagree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    pub divergence: Divergence,
    /// Who produced the array's value; `None` when no op of the array wrote it.
    pub producer: Option<ProducerInfo>,
    /// One line for people.
    pub message: String,
}

/// Outcome of comparing the simulated outputs with the interpreter's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub matched: bool,
    /// Output arrays and live-outs compared.
    pub arrays_compared: usize,
    pub live_outs_compared: usize,
    pub mismatch: Option<Mismatch>,
}

/// Everything one simulated run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimReport {
    pub format_version: u32,
    pub kernel: String,
    pub arch: String,
    /// Mapper that produced the mapping (from its provenance).
    pub mapper: String,
    pub ii: u32,
    /// Seed of the random inputs (`None` for given inputs).
    pub seed: Option<u64>,
    pub iterations: u32,
    pub schedule_cycles: u64,
    pub stall_cycles: u64,
    pub total_cycles: u64,
    pub cycles_per_iteration: f64,
    /// Issued ops / (PEs x cycles).
    pub utilisation: f64,
    /// Per PE (index = PE id): busy cycles / cycles.
    pub pe_utilisation: Vec<f64>,
    pub stats: SimStats,
    pub energy: EnergyBreakdown,
    pub clock_period_ps: u32,
    /// Run time at the spec's clock: total cycles x clock period.
    pub time_ns: f64,
    pub energy_per_iteration_pj: f64,
    /// Average power: energy / time.
    pub power_mw: f64,
    /// Energy-delay product: total energy (pJ) x run time (ns).
    pub edp_pj_ns: f64,
    /// Silicon area of the array from the spec's area model
    /// ([`tessera_arch::cgra::CgraSpec::total_area_um2`]: PEs with register files, memory-PE
    /// extras, memory banks, and the COMPOSE bypass overhead when composition is on).
    #[serde(default)]
    pub area_um2: f64,
    pub verification: Verification,
}

impl SimReport {
    /// A few lines for people.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} on {} (II {}, mapper {}), input seed {}: {}\n",
            self.kernel,
            self.arch,
            self.ii,
            self.mapper,
            self.seed
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            if self.verification.matched {
                format!(
                    "outputs match the interpreter ({} arrays, {} live-outs)",
                    self.verification.arrays_compared, self.verification.live_outs_compared
                )
            } else {
                format!(
                    "MISMATCH: {}",
                    self.verification
                        .mismatch
                        .as_ref()
                        .map(|m| m.message.as_str())
                        .unwrap_or("?")
                )
            }
        );
        s += &format!(
            "  cycles {} ({} schedule + {} stall) for {} iterations = {:.3} cycles/iteration\n",
            self.total_cycles,
            self.schedule_cycles,
            self.stall_cycles,
            self.iterations,
            self.cycles_per_iteration
        );
        s += &format!(
            "  utilisation {:.1}% ({} ops issued, {} squashed); RF {} reads / {} writes; {} link hops; {} memory accesses, {} bank conflicts\n",
            self.utilisation * 100.0,
            self.stats.ops_issued,
            self.stats.ops_squashed,
            self.stats.rf_reads,
            self.stats.rf_writes,
            self.stats.link_hops,
            self.stats.mem_accesses,
            self.stats.bank_conflicts
        );
        let e = &self.energy;
        s += &format!(
            "  energy {:.1} pJ (ops {:.1}, RF {:.1}, out-reg {:.1}, hops {:.1}, memory {:.1}, config {:.1}, idle {:.1}{}); {:.2} pJ/iteration\n",
            e.total_pj,
            e.ops_pj,
            e.rf_read_pj + e.rf_write_pj,
            e.out_reg_pj,
            e.hop_pj,
            e.mem_pj,
            e.config_pj,
            e.idle_pj,
            if e.compose_bypass_pj > 0.0 {
                format!(", COMPOSE bypass {:.1}", e.compose_bypass_pj)
            } else {
                String::new()
            },
            self.energy_per_iteration_pj
        );
        if self.stats.deferred_registrations > 0 {
            s += &format!(
                "  deferred registration: {} output-register writes saved ({:.1} pJ); {} written\n",
                self.stats.deferred_registrations, e.saved_out_reg_pj, self.stats.out_reg_writes
            );
        }
        s += &format!(
            "  time {:.1} ns at {} ps/cycle; power {:.2} mW; EDP {:.4e} pJ*ns; area {:.4} mm2",
            self.time_ns,
            self.clock_period_ps,
            self.power_mw,
            self.edp_pj_ns,
            self.area_um2 / 1e6
        );
        s
    }
}
