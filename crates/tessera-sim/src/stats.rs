//! Event counts of a run and the energy, power and EDP derived from them with the
//! architecture's per-event energies.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tessera_arch::cgra::CgraSpec;
use tessera_ir::OpClass;

/// What happened on the array during one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    /// Cycles of the modulo schedule: prologue, kernel and epilogue until the last
    /// iteration retires.
    pub schedule_cycles: u64,
    /// Cycles the whole array stalled for bank conflicts.
    pub stall_cycles: u64,
    /// `schedule_cycles + stall_cycles`.
    pub total_cycles: u64,
    pub iterations: u32,
    /// Ops issued on PEs (squashed ones included; immediates excluded).
    pub ops_issued: u64,
    /// Issued ops whose predicate did not hold.
    pub ops_squashed: u64,
    /// Executed (not squashed) ops per class name.
    pub ops_by_class: BTreeMap<String, u64>,
    /// Cycles each PE issued an op (index = PE id).
    pub pe_busy_cycles: Vec<u64>,
    pub rf_reads: u64,
    pub rf_writes: u64,
    /// Writes of op results into PE output registers (deferred registrations excluded).
    pub out_reg_writes: u64,
    /// COMPOSE deferred registration: op executions whose result was not written to the
    /// output register (`Placement::registered == false`) because every consumer read it
    /// combinationally within a chain. Each one is an output-register write saved.
    #[serde(default)]
    pub deferred_registrations: u64,
    pub link_hops: u64,
    pub loads: u64,
    pub stores: u64,
    /// Loads and stores that reached memory (squashed ones do not).
    pub mem_accesses: u64,
    /// Accesses per bank.
    pub bank_accesses: Vec<u64>,
    /// Accesses that found their bank's ports taken in their cycle.
    pub bank_conflicts: u64,
    /// Memory accesses that happened out of sequential iteration order on the same byte
    /// (a load reading a later iteration's store, a store landing after a later iteration
    /// read or wrote the byte). Not an error by itself; it explains a mismatch when the
    /// kernel lacks a loop-carried memory dependence.
    #[serde(default)]
    pub memory_order_violations: u64,
    #[serde(default)]
    pub first_memory_order_violation: Option<String>,
}

impl SimStats {
    /// Cycles per iteration (total cycles / iterations; 0 for an empty loop).
    pub fn cycles_per_iteration(&self) -> f64 {
        if self.iterations == 0 {
            0.0
        } else {
            self.total_cycles as f64 / self.iterations as f64
        }
    }

    /// Utilisation of each PE: busy cycles / total cycles.
    pub fn pe_utilisation(&self) -> Vec<f64> {
        self.pe_busy_cycles
            .iter()
            .map(|&b| {
                if self.total_cycles == 0 {
                    0.0
                } else {
                    b as f64 / self.total_cycles as f64
                }
            })
            .collect()
    }

    /// Overall utilisation: issued ops / (PEs x total cycles).
    pub fn utilisation(&self) -> f64 {
        let slots = self.pe_busy_cycles.len() as f64 * self.total_cycles as f64;
        if slots == 0.0 {
            0.0
        } else {
            self.ops_issued as f64 / slots
        }
    }
}

/// Energy by category in pJ.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyBreakdown {
    /// Executed ops, per class name (class count x the class's `energy_pj`).
    pub ops_by_class_pj: BTreeMap<String, f64>,
    pub ops_pj: f64,
    pub rf_read_pj: f64,
    pub rf_write_pj: f64,
    /// Output-register writes (`out_reg_writes` x `out_reg_write_pj`).
    pub out_reg_pj: f64,
    /// Energy NOT spent thanks to deferred registration: `deferred_registrations` x
    /// `out_reg_write_pj`. Informational; it is not part of `total_pj` (which already
    /// lacks those writes).
    #[serde(default)]
    pub saved_out_reg_pj: f64,
    pub hop_pj: f64,
    pub mem_pj: f64,
    /// Configuration fetch and clocking: every PE, every cycle (stalls included).
    pub config_pj: f64,
    /// Leakage/idle: every PE, every cycle (stalls included).
    pub idle_pj: f64,
    /// Leakage of the COMPOSE bypass hardware when composition is on: every PE, every
    /// cycle (stalls included), `compose.bypass_leakage_uw_per_pe` x the clock period.
    pub compose_bypass_pj: f64,
    pub total_pj: f64,
}

impl EnergyBreakdown {
    /// Energy of the PE array (everything but memory and the bypass overhead).
    pub fn pe_array_pj(&self) -> f64 {
        self.ops_pj
            + self.rf_read_pj
            + self.rf_write_pj
            + self.out_reg_pj
            + self.hop_pj
            + self.config_pj
            + self.idle_pj
    }

    /// Energy by category, in report order: (name, pJ). The categories sum to `total_pj`.
    pub fn categories(&self) -> [(&'static str, f64); 9] {
        [
            ("ops", self.ops_pj),
            ("rf_read", self.rf_read_pj),
            ("rf_write", self.rf_write_pj),
            ("out_reg", self.out_reg_pj),
            ("hops", self.hop_pj),
            ("memory", self.mem_pj),
            ("config", self.config_pj),
            ("idle", self.idle_pj),
            ("compose_bypass", self.compose_bypass_pj),
        ]
    }
}

/// Energy of a run from its counts and the spec's per-event energies.
pub fn energy(stats: &SimStats, arch: &CgraSpec) -> EnergyBreakdown {
    let e = &arch.energy;
    let mut ops_by_class_pj = BTreeMap::new();
    let mut ops_pj = 0.0;
    for class in OpClass::ALL {
        let count = stats.ops_by_class.get(class.name()).copied().unwrap_or(0);
        if count == 0 {
            continue;
        }
        let pj = count as f64 * arch.op_cost(class).map(|c| c.energy_pj).unwrap_or(0.0);
        ops_by_class_pj.insert(class.name().to_string(), pj);
        ops_pj += pj;
    }
    let pe_cycles = stats.pe_busy_cycles.len() as f64 * stats.total_cycles as f64;
    let rf_read_pj = stats.rf_reads as f64 * e.rf_read_pj;
    let rf_write_pj = stats.rf_writes as f64 * e.rf_write_pj;
    let out_reg_pj = stats.out_reg_writes as f64 * e.out_reg_write_pj;
    let saved_out_reg_pj = stats.deferred_registrations as f64 * e.out_reg_write_pj;
    let hop_pj = stats.link_hops as f64 * e.hop_pj;
    let mem_pj = stats.mem_accesses as f64 * e.mem_access_pj;
    let config_pj = pe_cycles * e.config_per_pe_cycle_pj;
    let idle_pj = pe_cycles * e.idle_per_pe_cycle_pj;
    let pe_array_pj = ops_pj + rf_read_pj + rf_write_pj + out_reg_pj + hop_pj + config_pj + idle_pj;
    // The bypass multiplexers and configuration bits of COMPOSE sit in every PE and leak in
    // every cycle (uW x ps = 1e-6 pJ). Their switching energy is not modelled: the cited
    // cell data gives leakage as one number, switching only as slew/load tables (see
    // docs/COMPOSE.md, "Bypass overhead").
    let compose_bypass_pj = if arch.compose.enabled {
        pe_cycles
            * arch.compose.bypass_leakage_uw_per_pe
            * arch.timing.clock_period_ps as f64
            * 1e-6
    } else {
        0.0
    };
    let total_pj = pe_array_pj + mem_pj + compose_bypass_pj;
    EnergyBreakdown {
        ops_by_class_pj,
        ops_pj,
        rf_read_pj,
        rf_write_pj,
        out_reg_pj,
        saved_out_reg_pj,
        hop_pj,
        mem_pj,
        config_pj,
        idle_pj,
        compose_bypass_pj,
        total_pj,
    }
}
