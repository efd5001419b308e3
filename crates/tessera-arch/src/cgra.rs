//! CGRA specs: the array, its PEs and op groups, memory banks, interconnect, register
//! files, timing (cycles and picoseconds), energy per event, area, and COMPOSE options.
//!
//! PEs are numbered row-major: `pe = row * cols + col`. The numbers in the bundled presets
//! carry their sources as comments in `arch-specs/cgra/*.ron`.

use crate::spec_io::Spec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tessera_ir::OpClass;

/// Dense PE id (`row * cols + col`).
pub type PeId = u16;

/// A CGRA architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CgraSpec {
    pub name: String,
    pub rows: u16,
    pub cols: u16,
    /// PE kinds by one-character key (used in `layout`): the op classes each supports.
    pub pe_kinds: BTreeMap<char, PeKind>,
    /// One string per row, one character per PE, naming its kind.
    pub layout: Vec<String>,
    pub memory: MemorySpec,
    pub interconnect: Interconnect,
    /// Registers in each PE's register file.
    pub rf_size: u16,
    /// Configuration memory depth: the largest II the array can run.
    pub max_ii: u32,
    /// Per op class: latency in cycles, combinational delay in ps, energy per op in pJ.
    pub ops: BTreeMap<OpClass, OpCost>,
    pub timing: TimingSpec,
    pub energy: EnergySpec,
    pub area: AreaSpec,
    #[serde(default)]
    pub compose: ComposeSpec,
}

/// What a kind of PE can execute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeKind {
    pub name: String,
    pub classes: Vec<OpClass>,
}

/// Data memory: banks and which PEs reach them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySpec {
    pub banks: Vec<BankSpec>,
}

/// One memory bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankSpec {
    pub size_bytes: u32,
    /// Accesses the bank serves per cycle.
    pub ports: u16,
    /// PEs (row, col) wired to this bank.
    pub pes: Vec<(u16, u16)>,
}

/// Network topology between PEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Topology {
    /// 4 neighbours (N, E, S, W).
    Mesh,
    /// 8 neighbours (mesh plus diagonals).
    MeshDiagonal,
    /// Mesh with wrap-around links.
    Torus,
}

/// Interconnect: topology and how many hops a value may take in one cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interconnect {
    pub topology: Topology,
    /// Hops a value may traverse within one cycle: 1 for a registered neighbour network,
    /// more for HyCUBE-style single-cycle multi-hop (bypassing crossbar switches).
    pub max_hops_per_cycle: u16,
}

/// Cost of one op class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpCost {
    pub latency_cycles: u16,
    pub delay_ps: u32,
    pub energy_pj: f64,
}

/// Clock and wire/register timing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingSpec {
    pub clock_period_ps: u32,
    /// Delay of one hop (wire plus switch) in ps.
    pub hop_delay_ps: u32,
    /// Register setup time in ps.
    pub setup_ps: u32,
    /// Register clock-to-output delay in ps.
    pub clk_to_q_ps: u32,
}

/// Energy per event, in pJ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergySpec {
    pub rf_read_pj: f64,
    pub rf_write_pj: f64,
    /// Writing an op's result into the PE output register.
    pub out_reg_write_pj: f64,
    pub hop_pj: f64,
    pub mem_access_pj: f64,
    /// Configuration fetch and clocking per PE per cycle while the array runs.
    pub config_per_pe_cycle_pj: f64,
    /// Leakage / idle per PE per cycle.
    pub idle_per_pe_cycle_pj: f64,
}

/// Area figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaSpec {
    pub pe_um2: f64,
    /// Extra area of a memory-capable PE (address unit, bank port).
    pub mem_pe_extra_um2: f64,
    pub rf_per_reg_um2: f64,
    pub memory_per_kib_um2: f64,
}

/// COMPOSE: compile-time composition of PEs into virtual PEs with chaining.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeSpec {
    pub enabled: bool,
    /// Most PEs one virtual PE (one chain in one cycle) may span.
    pub max_virtual_pe: u16,
    /// Area of the bypass hardware of one PE, in um2: the multiplexers that put the PE's
    /// unregistered (combinational) result on its outgoing links, the write enable of its
    /// output register (deferred registration) and their configuration bits. Counted for
    /// every PE when composition is on (see `docs/COMPOSE.md` for the cited derivation).
    pub bypass_area_um2_per_pe: f64,
    /// Leakage power of that hardware per PE, in uW; charged for every PE in every cycle
    /// (`uW x clock period`) when composition is on.
    pub bypass_leakage_uw_per_pe: f64,
}

impl Default for ComposeSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            max_virtual_pe: 1,
            bypass_area_um2_per_pe: 0.0,
            bypass_leakage_uw_per_pe: 0.0,
        }
    }
}

/// The bundled presets.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "hycube-4x4",
        include_str!("../../../arch-specs/cgra/hycube-4x4.ron"),
    ),
    (
        "mesh-4x4",
        include_str!("../../../arch-specs/cgra/mesh-4x4.ron"),
    ),
    (
        "mesh-8x8",
        include_str!("../../../arch-specs/cgra/mesh-8x8.ron"),
    ),
    (
        "torus-8x8",
        include_str!("../../../arch-specs/cgra/torus-8x8.ron"),
    ),
    (
        "compose-4x4",
        include_str!("../../../arch-specs/cgra/compose-4x4.ron"),
    ),
    (
        "compose-hycube-4x4",
        include_str!("../../../arch-specs/cgra/compose-hycube-4x4.ron"),
    ),
    (
        "hycube-4x4-fp",
        include_str!("../../../arch-specs/cgra/hycube-4x4-fp.ron"),
    ),
];

impl Spec for CgraSpec {
    const KIND: &'static str = "CGRA spec";

    fn presets() -> &'static [(&'static str, &'static str)] {
        PRESETS
    }

    fn validate(&self) -> Result<(), Vec<String>> {
        let mut p = Vec::new();
        if self.rows == 0 || self.cols == 0 {
            p.push(format!(
                "grid is {}x{}; rows and cols must be at least 1",
                self.rows, self.cols
            ));
        }
        if (self.rows as u32) * (self.cols as u32) > u16::MAX as u32 {
            p.push("more than 65535 PEs".to_string());
        }
        if self.layout.len() != self.rows as usize {
            p.push(format!(
                "layout has {} rows but rows = {}; give one string per row",
                self.layout.len(),
                self.rows
            ));
        }
        for (r, line) in self.layout.iter().enumerate() {
            if line.chars().count() != self.cols as usize {
                p.push(format!(
                    "layout row {r} `{line}` has {} PEs but cols = {}",
                    line.chars().count(),
                    self.cols
                ));
            }
            for ch in line.chars() {
                if !self.pe_kinds.contains_key(&ch) {
                    p.push(format!(
                        "layout row {r} uses PE kind `{ch}`, which pe_kinds does not define (defined: {})",
                        self.pe_kinds.keys().collect::<String>()
                    ));
                }
            }
        }
        for (key, kind) in &self.pe_kinds {
            for c in &kind.classes {
                if !self.ops.contains_key(c) {
                    p.push(format!(
                        "PE kind `{key}` ({}) supports `{c}`, but `ops` gives no latency/delay/energy for it",
                        kind.name
                    ));
                }
            }
        }
        for (class, cost) in &self.ops {
            if cost.latency_cycles == 0 && !matches!(class, OpClass::Const | OpClass::Input) {
                p.push(format!(
                    "op class `{class}` has latency 0 cycles; at least 1 is needed"
                ));
            }
            if cost.energy_pj < 0.0 || !cost.energy_pj.is_finite() {
                p.push(format!(
                    "op class `{class}` has energy {} pJ",
                    cost.energy_pj
                ));
            }
            if cost.latency_cycles == 1
                && cost.delay_ps + self.timing.setup_ps + self.timing.clk_to_q_ps
                    > self.timing.clock_period_ps
            {
                p.push(format!(
                    "op class `{class}` takes 1 cycle but its delay {} ps + setup {} ps + clk-to-q {} ps exceeds the clock period {} ps; raise its latency or the period",
                    cost.delay_ps, self.timing.setup_ps, self.timing.clk_to_q_ps, self.timing.clock_period_ps
                ));
            }
        }
        if self.memory.banks.is_empty() {
            p.push("memory has no banks; loads and stores could never be placed".to_string());
        }
        let mut mem_pes = 0;
        for (b, bank) in self.memory.banks.iter().enumerate() {
            if bank.ports == 0 {
                p.push(format!("memory bank {b} has 0 ports"));
            }
            if bank.pes.is_empty() {
                p.push(format!("memory bank {b} is wired to no PE"));
            }
            for &(r, c) in &bank.pes {
                if r >= self.rows || c >= self.cols {
                    p.push(format!(
                        "memory bank {b} names PE ({r}, {c}), outside the {}x{} grid",
                        self.rows, self.cols
                    ));
                    continue;
                }
                mem_pes += 1;
                if let Some(kind) = self.kind_at(r, c)
                    && !kind.classes.iter().any(|c| c.is_memory())
                {
                    p.push(format!(
                        "memory bank {b} is wired to PE ({r}, {c}), whose kind `{}` supports no load or store",
                        kind.name
                    ));
                }
            }
        }
        let _ = mem_pes;
        for r in 0..self.rows.min(self.layout.len() as u16) {
            for c in 0..self.cols {
                if let Some(kind) = self.kind_at(r, c)
                    && kind.classes.iter().any(|c| c.is_memory())
                    && !self.memory.banks.iter().any(|b| b.pes.contains(&(r, c)))
                {
                    p.push(format!(
                        "PE ({r}, {c}) of kind `{}` supports memory ops but no bank is wired to it",
                        kind.name
                    ));
                }
            }
        }
        if self.interconnect.max_hops_per_cycle == 0 {
            p.push("interconnect.max_hops_per_cycle is 0; at least 1 is needed".to_string());
        }
        if self.max_ii == 0 {
            p.push("max_ii is 0".to_string());
        }
        if self.timing.clock_period_ps == 0 {
            p.push("timing.clock_period_ps is 0".to_string());
        }
        if self.timing.setup_ps + self.timing.clk_to_q_ps >= self.timing.clock_period_ps {
            p.push(format!(
                "setup {} ps + clk-to-q {} ps leave no time in a {} ps clock period",
                self.timing.setup_ps, self.timing.clk_to_q_ps, self.timing.clock_period_ps
            ));
        }
        let hops = self.interconnect.max_hops_per_cycle as u32;
        if hops > 1
            && self.timing.clk_to_q_ps + hops * self.timing.hop_delay_ps + self.timing.setup_ps
                > self.timing.clock_period_ps
        {
            p.push(format!(
                "max_hops_per_cycle = {hops} needs {} ps (clk-to-q + {hops} hops x {} ps + setup) but the clock period is {} ps",
                self.timing.clk_to_q_ps + hops * self.timing.hop_delay_ps + self.timing.setup_ps,
                self.timing.hop_delay_ps,
                self.timing.clock_period_ps
            ));
        }
        if self.compose.enabled && self.compose.max_virtual_pe < 2 {
            p.push("compose.enabled needs compose.max_virtual_pe >= 2 (a virtual PE of one PE composes nothing)".to_string());
        }
        for (name, v) in [
            (
                "compose.bypass_area_um2_per_pe",
                self.compose.bypass_area_um2_per_pe,
            ),
            (
                "compose.bypass_leakage_uw_per_pe",
                self.compose.bypass_leakage_uw_per_pe,
            ),
        ] {
            if !v.is_finite() || v < 0.0 {
                p.push(format!("{name} = {v} must be a finite number >= 0"));
            }
        }
        for (name, v) in [
            ("energy.rf_read_pj", self.energy.rf_read_pj),
            ("energy.rf_write_pj", self.energy.rf_write_pj),
            ("energy.out_reg_write_pj", self.energy.out_reg_write_pj),
            ("energy.hop_pj", self.energy.hop_pj),
            ("energy.mem_access_pj", self.energy.mem_access_pj),
            (
                "energy.config_per_pe_cycle_pj",
                self.energy.config_per_pe_cycle_pj,
            ),
            (
                "energy.idle_per_pe_cycle_pj",
                self.energy.idle_per_pe_cycle_pj,
            ),
            ("area.pe_um2", self.area.pe_um2),
        ] {
            if v < 0.0 || !v.is_finite() {
                p.push(format!("{name} = {v} must be a non-negative number"));
            }
        }
        if p.is_empty() { Ok(()) } else { Err(p) }
    }
}

impl CgraSpec {
    pub fn pe_count(&self) -> usize {
        self.rows as usize * self.cols as usize
    }

    pub fn pe_id(&self, row: u16, col: u16) -> PeId {
        row * self.cols + col
    }

    pub fn pe_pos(&self, pe: PeId) -> (u16, u16) {
        (pe / self.cols, pe % self.cols)
    }

    /// The kind of the PE at (row, col), if the layout names a defined kind.
    pub fn kind_at(&self, row: u16, col: u16) -> Option<&PeKind> {
        let ch = self.layout.get(row as usize)?.chars().nth(col as usize)?;
        self.pe_kinds.get(&ch)
    }

    /// Does the PE support this op class?
    pub fn supports(&self, pe: PeId, class: OpClass) -> bool {
        let (r, c) = self.pe_pos(pe);
        self.kind_at(r, c)
            .is_some_and(|k| k.classes.contains(&class))
    }

    /// Most accesses one bank serves per cycle (1 when there are no banks).
    pub fn max_bank_ports(&self) -> u32 {
        self.memory
            .banks
            .iter()
            .map(|b| b.ports as u32)
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// Banks wired to a PE.
    pub fn banks_of(&self, pe: PeId) -> Vec<usize> {
        let pos = self.pe_pos(pe);
        self.memory
            .banks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.pes.contains(&pos))
            .map(|(i, _)| i)
            .collect()
    }

    /// Direct neighbours of a PE (one hop), in a fixed order.
    pub fn neighbours(&self, pe: PeId) -> Vec<PeId> {
        let (r, c) = self.pe_pos(pe);
        let (rows, cols) = (self.rows as i32, self.cols as i32);
        let mut out = Vec::with_capacity(8);
        let mut deltas: Vec<(i32, i32)> = vec![(-1, 0), (0, 1), (1, 0), (0, -1)];
        if self.interconnect.topology == Topology::MeshDiagonal {
            deltas.extend([(-1, 1), (1, 1), (1, -1), (-1, -1)]);
        }
        for (dr, dc) in deltas {
            let (mut nr, mut nc) = (r as i32 + dr, c as i32 + dc);
            if self.interconnect.topology == Topology::Torus {
                nr = nr.rem_euclid(rows);
                nc = nc.rem_euclid(cols);
            }
            if nr >= 0 && nr < rows && nc >= 0 && nc < cols {
                let id = self.pe_id(nr as u16, nc as u16);
                if id != pe && !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// Cost of an op class (validated specs have one for every supported class).
    pub fn op_cost(&self, class: OpClass) -> Option<&OpCost> {
        self.ops.get(&class)
    }

    /// Total area in um2: PEs, register files, memory-PE extras, memory banks, and the
    /// COMPOSE bypass overhead when composition is on.
    pub fn total_area_um2(&self) -> f64 {
        let pes = self.pe_count() as f64;
        let mem_pes = (0..self.pe_count() as PeId)
            .filter(|p| !self.banks_of(*p).is_empty())
            .count() as f64;
        let mem_kib: f64 = self
            .memory
            .banks
            .iter()
            .map(|b| b.size_bytes as f64 / 1024.0)
            .sum();
        let pe_area = pes * (self.area.pe_um2 + self.rf_size as f64 * self.area.rf_per_reg_um2);
        let compose = if self.compose.enabled {
            pes * self.compose.bypass_area_um2_per_pe
        } else {
            0.0
        };
        pe_area
            + compose
            + mem_pes * self.area.mem_pe_extra_um2
            + mem_kib * self.area.memory_per_kib_um2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec_io::load_str;

    #[test]
    fn all_presets_load_and_validate() {
        for name in CgraSpec::preset_names() {
            let spec = CgraSpec::preset(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(spec.name, name);
        }
    }

    #[test]
    fn hycube_has_four_memory_pes_on_the_left_column() {
        let s = CgraSpec::preset("hycube-4x4").unwrap();
        let mem: Vec<PeId> = (0..16).filter(|p| !s.banks_of(*p).is_empty()).collect();
        assert_eq!(mem, vec![0, 4, 8, 12]);
        assert!(s.interconnect.max_hops_per_cycle > 1);
    }

    #[test]
    fn neighbours_follow_topology() {
        let mesh = CgraSpec::preset("mesh-4x4").unwrap();
        assert_eq!(mesh.neighbours(0).len(), 2);
        assert_eq!(mesh.neighbours(5).len(), 4);
        let torus = CgraSpec::preset("torus-8x8").unwrap();
        assert!((0..64).all(|p| torus.neighbours(p).len() == 4));
    }

    #[test]
    fn override_changes_one_field_and_is_validated() {
        let s: CgraSpec = load_str(
            r#"(preset: "mesh-4x4", set: { "rf_size": 8, "timing.clock_period_ps": 2000 })"#,
            "t.ron",
        )
        .unwrap();
        assert_eq!(s.rf_size, 8);
        assert_eq!(s.timing.clock_period_ps, 2000);
        let e = load_str::<CgraSpec>(r#"(preset: "mesh-4x4", set: { "rows": 3 })"#, "t.ron")
            .unwrap_err();
        assert!(
            e.to_string().contains("layout has 4 rows but rows = 3"),
            "{e}"
        );
        let e = load_str::<CgraSpec>(r#"(preset: "mesh-4x4", set: { "rf_sise": 3 })"#, "t.ron")
            .unwrap_err();
        assert!(e.to_string().contains("no field `rf_sise`"), "{e}");
        let e = load_str::<CgraSpec>(r#"(preset: "mesh-9x9")"#, "t.ron").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown CGRA spec preset `mesh-9x9`"),
            "{e}"
        );
    }

    #[test]
    fn ron_type_error_points_at_line_and_column() {
        let text = CgraSpec::presets()[1]
            .1
            .replacen("rf_size: 4", "rf_size: \"four\"", 1);
        assert_ne!(
            text,
            CgraSpec::presets()[1].1,
            "preset must contain `rf_size: 4`"
        );
        let e = load_str::<CgraSpec>(&text, "bad.ron").unwrap_err();
        let line = text.lines().position(|l| l.contains("\"four\"")).unwrap() + 1;
        assert_eq!(e.position.map(|p| p.0), Some(line), "{e}");
    }

    #[test]
    fn contradictions_are_refused() {
        let mut s = CgraSpec::preset("mesh-4x4").unwrap();
        s.timing.clock_period_ps = 100;
        let msgs = s.validate().unwrap_err().join("\n");
        assert!(msgs.contains("exceeds the clock period"), "{msgs}");
        let mut s = CgraSpec::preset("mesh-4x4").unwrap();
        s.memory.banks[0].pes.push((9, 9));
        assert!(
            s.validate()
                .unwrap_err()
                .join("\n")
                .contains("outside the 4x4 grid")
        );
    }

    /// The COMPOSE presets' bypass constants are the cell count of the preset's comment
    /// times the NanGate FreePDK45 figures (MUX2_X1 1.862 um2 / 35.928390 nW, DFF_X1
    /// 4.522 um2 / 79.112308 nW): one 2:1 mux per bit on each of 4 links and on the 32-bit
    /// output register, and 5 configuration bits per entry of the configuration memory.
    #[test]
    fn compose_bypass_constants_follow_from_the_cell_count() {
        for name in ["compose-4x4", "compose-hycube-4x4"] {
            let a = CgraSpec::preset(name).unwrap();
            let muxes = (4 * 32 + 32) as f64;
            let flops = 5.0 * a.max_ii as f64;
            let area = muxes * 1.862 + flops * 4.522;
            let leak_uw = (muxes * 35.928390 + flops * 79.112308) / 1000.0;
            assert!(
                (a.compose.bypass_area_um2_per_pe - area).abs() < 0.01,
                "{name}"
            );
            assert!(
                (a.compose.bypass_leakage_uw_per_pe - leak_uw).abs() < 0.01,
                "{name}"
            );
        }
    }

    #[test]
    fn negative_bypass_constants_are_refused() {
        let mut a = CgraSpec::preset("compose-4x4").unwrap();
        a.compose.bypass_leakage_uw_per_pe = -1.0;
        let err = a.validate().unwrap_err();
        assert!(
            format!("{err:?}").contains("compose.bypass_leakage_uw_per_pe"),
            "{err:?}"
        );
    }
}
