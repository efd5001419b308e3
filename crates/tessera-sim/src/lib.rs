//! Cycle-level CGRA simulator for Tessera. It executes a [`Mapping`] on the architecture it
//! was made for — each PE runs the op of its modulo slot for the right iteration, values move
//! only through output registers, register files, links and (COMPOSE) combinational chains
//! exactly as the mapping's routes say, memory ops go to banks with port conflicts — and
//! checks every output array and live-out against the reference interpreter on the same
//! seeded inputs. It counts events (cycles, utilisation, RF and link traffic, memory
//! accesses, bank conflicts, stalls), turns them into energy, power and EDP with the spec's
//! per-event energies, and writes VCD waveforms.
//!
//! Architecture invariant: the simulator never reads the interpreter's values while it runs;
//! it shares only op semantics ([`tessera_ir::Op::eval`]) and the memory layout
//! ([`tessera_ir::interp::Memory`]). The interpreter runs afterwards, as the oracle.
//! Start reading at [`Simulator`]; the timing model is the one documented in
//! [`tessera_map::mapping`].
//!
//! Modelling choices where the mapping format is silent:
//! * Bank conflicts: a bank serves `ports` accesses per cycle; more accesses in one cycle
//!   stall the whole array for `ceil(accesses / ports) - 1` cycles (the worst bank decides).
//!   Stalls cost time and energy, never values.
//! * Prologue and epilogue: an action runs only for live iterations; a transfer of a
//!   loop-carried value whose consumer iteration does not exist (`k + distance >= trip`)
//!   does not run. Consumers read the edge's `init` for their first `distance` iterations.
//! * Predication: a squashed op still occupies its PE slot and writes `(0, not valid)` to its
//!   output register (so `Merge` can tell), but costs no op energy and no memory access.
//! * Energy: configuration and idle energy are charged for every PE in every cycle, stall
//!   cycles included; a shared hop of fan-out routes (same value, same link, same cycle)
//!   counts once; with COMPOSE on, the bypass hardware leaks
//!   `compose.bypass_leakage_uw_per_pe` in every PE in every cycle. Deferred registrations (results no
//!   consumer reads from the output register) write no register and are counted, with the
//!   energy they save, in `SimStats::deferred_registrations` / `saved_out_reg_pj`.
//! * Memory order: the simulator executes the schedule literally and counts accesses that
//!   happen out of sequential (interpreter) order on the same byte; a mismatch report names
//!   the first one, which is how a kernel without its memory dependences shows up.

mod engine;
pub mod error;
mod program;
pub mod report;
pub mod stats;
pub mod vcd;

pub use engine::RawRun;
pub use error::{RunFault, SimError};
pub use report::{Mismatch, ProducerInfo, SIM_REPORT_FORMAT_VERSION, SimReport, Verification};
pub use stats::{EnergyBreakdown, SimStats, energy};
pub use vcd::{CycleRecord, IssuedOp, LinkValue, RegValue};

use tessera_arch::cgra::CgraSpec;
use tessera_ir::interp::{self, Divergence, Inputs};
use tessera_ir::{Kernel, Outputs};
use tessera_map::mapping::Mapping;

/// A mapping compiled into per-slot configuration, ready to run on any inputs.
#[derive(Debug, Clone)]
pub struct Simulator {
    program: program::Program,
    kernel: Kernel,
    arch: CgraSpec,
    ii: u32,
    mapper: String,
}

impl Simulator {
    /// Compile a mapping. Structural problems refuse it with every problem listed.
    pub fn new(mapping: &Mapping) -> Result<Self, SimError> {
        let program = program::compile(mapping)?;
        Ok(Self {
            program,
            kernel: mapping.kernel.clone(),
            arch: mapping.arch.clone(),
            ii: mapping.ii,
            mapper: mapping.provenance.mapper.clone(),
        })
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    pub fn arch(&self) -> &CgraSpec {
        &self.arch
    }

    /// Cycles of the modulo schedule (without stalls).
    pub fn schedule_cycles(&self) -> u64 {
        self.program.sched_cycles
    }

    /// Configured actions per modulo period: (ops, value transfers, transfers folded into
    /// their consumer's operand read). Each runs once per II cycles in the steady state.
    pub fn configured_actions(&self) -> (usize, usize, usize) {
        let ops = self
            .program
            .acts
            .iter()
            .filter(|a| a.kind.seg().is_none())
            .count();
        let transfers = self.program.counted.len();
        (ops, transfers, transfers - (self.program.acts.len() - ops))
    }

    /// Run on the given inputs; no verification.
    pub fn run(&self, inputs: &Inputs) -> Result<RawRun, SimError> {
        self.program.run::<false>(&self.kernel, inputs, None)
    }

    /// Run on the given inputs and record a VCD waveform.
    pub fn run_vcd(&self, inputs: &Inputs) -> Result<(RawRun, String), SimError> {
        let mut trace =
            vcd::VcdTrace::new(&self.program, &self.kernel.name, &self.arch, inputs.seed);
        let run = self
            .program
            .run::<true>(&self.kernel, inputs, Some(&mut trace))?;
        Ok((run, trace.into_string()))
    }

    /// Run on the given inputs and keep the first `max_cycles` schedule cycles as records
    /// (what each PE issued, its result, the output registers: the VCD's content, and the
    /// value on every link that carries one), for
    /// stepping through a run cycle by cycle (the GUI's replay). The run itself is the
    /// same as [`Self::run`] and always completes.
    pub fn run_cycles(
        &self,
        inputs: &Inputs,
        max_cycles: usize,
    ) -> Result<(RawRun, Vec<CycleRecord>), SimError> {
        let mut trace =
            vcd::VcdTrace::new(&self.program, &self.kernel.name, &self.arch, inputs.seed);
        trace.keep = max_cycles;
        let run = self
            .program
            .run::<true>(&self.kernel, inputs, Some(&mut trace))?;
        Ok((run, trace.cycles))
    }

    /// Compare a run's outputs with the expected (interpreter) outputs; the first divergence
    /// names who produced the array's value.
    pub fn verify(&self, run: &RawRun, expected: &Outputs) -> Verification {
        let mismatch = expected
            .first_divergence(&run.outputs)
            .map(|d| self.explain(run, d));
        Verification {
            matched: mismatch.is_none(),
            arrays_compared: expected.arrays.len(),
            live_outs_compared: expected.live_outs.len(),
            mismatch,
        }
    }

    fn producer_info(&self, p: engine::Producer) -> ProducerInfo {
        let pe = self.program.node_place[p.node as usize]
            .map(|(pe, _)| pe)
            .unwrap_or(0);
        let (row, col) = self.arch.pe_pos(pe);
        ProducerInfo {
            cycle: p.cycle,
            pe,
            row,
            col,
            node: p.node,
            node_desc: self.program.node_desc[p.node as usize].clone(),
            iteration: p.iteration,
        }
    }

    fn explain(&self, run: &RawRun, d: Divergence) -> Mismatch {
        let producer = match &d {
            Divergence::Array { array, index, .. } => self
                .kernel
                .arrays
                .iter()
                .position(|a| &a.name == array)
                .and_then(|ai| {
                    let a = &self.kernel.arrays[ai];
                    let w = a.width.bytes() as usize;
                    let at = self.program.array_writer_base[ai] as usize + index * w;
                    run.byte_writer
                        .get(at..at + w)?
                        .iter()
                        .flatten()
                        .max_by_key(|p| p.cycle)
                        .copied()
                })
                .map(|p| self.producer_info(p)),
            Divergence::LiveOut { name, .. } => self
                .kernel
                .live_outs
                .iter()
                .position(|l| &l.name == name)
                .and_then(|i| run.live_out_writer.get(i).copied().flatten())
                .map(|p| self.producer_info(p)),
            Divergence::Shape(_) => None,
        };
        let who = match (&producer, &d) {
            (Some(p), Divergence::Array { .. }) => format!(
                "; the array's value was stored in cycle {} by PE {} (r{}c{}), node {} ({}), iteration {}",
                p.cycle, p.pe, p.row, p.col, p.node, p.node_desc, p.iteration
            ),
            (Some(p), _) => format!(
                "; the array's value was produced in cycle {} by PE {} (r{}c{}), node {} ({}), iteration {}",
                p.cycle, p.pe, p.row, p.col, p.node, p.node_desc, p.iteration
            ),
            (None, Divergence::Array { array, .. }) => {
                // Name the stores that should have written it, with their PEs.
                let ai = self.kernel.arrays.iter().position(|a| &a.name == array);
                let stores: Vec<String> = self
                    .kernel
                    .nodes()
                    .filter(|(_, n)| {
                        n.op.is_store() && ai.is_some() && n.array.map(usize::from) == ai
                    })
                    .map(|(id, _)| {
                        let i = id.index();
                        match self.program.node_place[i] {
                            Some((pe, _)) => {
                                let (r, c) = self.arch.pe_pos(pe);
                                format!(
                                    "node {i} ({}) on PE {pe} (r{r}c{c})",
                                    self.program.node_desc[i]
                                )
                            }
                            None => format!("node {i} ({})", self.program.node_desc[i]),
                        }
                    })
                    .collect();
                if stores.is_empty() {
                    "; no store of the array wrote this element".to_string()
                } else {
                    format!(
                        "; no store of the array wrote this element (its stores: {})",
                        stores.join(", ")
                    )
                }
            }
            (None, Divergence::LiveOut { .. }) => {
                "; the live-out is an immediate or the loop ran no iteration".to_string()
            }
            (None, _) => String::new(),
        };
        let cause = match &run.stats.first_memory_order_violation {
            Some(v) => format!(
                "; {} memory access(es) ran out of sequential order, first: {v} (a memory dependence the kernel does not state, or the schedule ignores)",
                run.stats.memory_order_violations
            ),
            None => String::new(),
        };
        Mismatch {
            message: format!("{d}{who}{cause}"),
            divergence: d,
            producer,
        }
    }

    /// Build the report of a run (energy, power, EDP) with its verification.
    pub fn report(&self, run: &RawRun, seed: Option<u64>, verification: Verification) -> SimReport {
        let stats = run.stats.clone();
        let energy = stats::energy(&stats, &self.arch);
        let period = self.arch.timing.clock_period_ps;
        let time_ns = stats.total_cycles as f64 * period as f64 / 1000.0;
        SimReport {
            format_version: SIM_REPORT_FORMAT_VERSION,
            kernel: self.kernel.name.clone(),
            arch: self.arch.name.clone(),
            mapper: self.mapper.clone(),
            ii: self.ii,
            seed,
            iterations: stats.iterations,
            schedule_cycles: stats.schedule_cycles,
            stall_cycles: stats.stall_cycles,
            total_cycles: stats.total_cycles,
            cycles_per_iteration: stats.cycles_per_iteration(),
            utilisation: stats.utilisation(),
            pe_utilisation: stats.pe_utilisation(),
            clock_period_ps: period,
            time_ns,
            energy_per_iteration_pj: if stats.iterations == 0 {
                0.0
            } else {
                energy.total_pj / stats.iterations as f64
            },
            // pJ / ns = mW.
            power_mw: if time_ns > 0.0 {
                energy.total_pj / time_ns
            } else {
                0.0
            },
            edp_pj_ns: energy.total_pj * time_ns,
            area_um2: self.arch.total_area_um2(),
            energy,
            stats,
            verification,
        }
    }

    /// Simulate on the seeded random inputs (`interp::random_inputs`), verify against the
    /// interpreter on the same inputs, and report. With `vcd`, the waveform is returned too.
    pub fn simulate_seed(
        &self,
        seed: u64,
        vcd: bool,
    ) -> Result<(SimReport, Option<String>), SimError> {
        let inputs = interp::random_inputs(&self.kernel, seed);
        self.simulate_inputs(&inputs, vcd)
    }

    /// Simulate on given inputs, verify against the interpreter, and report.
    pub fn simulate_inputs(
        &self,
        inputs: &Inputs,
        vcd: bool,
    ) -> Result<(SimReport, Option<String>), SimError> {
        // The oracle runs first: inputs it cannot run (an out-of-range access) are no test of
        // the mapping. Its values are used only after the simulation, for the comparison.
        let expected = interp::run(&self.kernel, inputs)?;
        let (run, wave) = if vcd {
            let (r, w) = self.run_vcd(inputs)?;
            (r, Some(w))
        } else {
            (self.run(inputs)?, None)
        };
        let verification = self.verify(&run, &expected);
        Ok((self.report(&run, inputs.seed, verification), wave))
    }
}

/// Compile, simulate and verify a mapping on one seed.
pub fn simulate(mapping: &Mapping, seed: u64) -> Result<SimReport, SimError> {
    Ok(Simulator::new(mapping)?.simulate_seed(seed, false)?.0)
}

/// Simulated cycles of a mapping on one seed's inputs, when the run matches the
/// interpreter (`None` otherwise). The CLI passes this to
/// `tessera_map::driver::map_kernel_judged`, so that COMPOSE compares a chained and an
/// unchained mapping by their cycles when run.
pub fn judged_cycles(mapping: &Mapping, seed: u64) -> Option<u64> {
    let report = simulate(mapping, seed).ok()?;
    report.verification.matched.then_some(report.total_cycles)
}
