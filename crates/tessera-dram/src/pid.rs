//! Command-level interface for Processing-in-DRAM programs: sequences of ACT/PRE/RD/WR with
//! chosen gaps that may break timing on purpose (ACT-PRE-ACT a few ns apart, reduced tRCD).
//! Every command is checked against the full JEDEC rule set of [`Device`] and every broken
//! rule is recorded in the command trace. The executor also recognises the two
//! timing-violation idioms that PiD primitives rely on and reports them as events:
//! multi-row activation (ACT R1, PRE before tRAS, ACT R2 within a few ns: the row decoder
//! keeps R1's latches and opens every row that matches both addresses) and reduced-tRCD
//! reads (a column read before tRCD, which may return activation failures).

use crate::cells::TechParams;
use crate::device::{Cmd, Constraint, Device};
use serde::{Deserialize, Serialize};
use tessera_arch::dram::DramSpec;

/// One command of a PiD program.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PidCmd {
    pub cmd: Cmd,
    /// Flat bank index within the channel.
    pub bank: usize,
    /// Row for ACT (ignored otherwise).
    pub row: u32,
    /// Exact gap in ns after the previous command of the same stream; the command goes out
    /// at the first cycle that is at least this gap later and legal under every rule not in
    /// `relax`.
    pub gap_ns: Option<f64>,
    /// Rules this command may break (mask of [`Constraint::bit`]).
    pub relax: u32,
}

impl PidCmd {
    /// A command issued as soon as all timing allows.
    pub fn legal(cmd: Cmd, bank: usize, row: u32) -> Self {
        Self {
            cmd,
            bank,
            row,
            gap_ns: None,
            relax: 0,
        }
    }

    /// A command issued exactly `gap_ns` after the previous one, breaking `relax` if needed.
    pub fn after(cmd: Cmd, bank: usize, row: u32, gap_ns: f64, relax: &[Constraint]) -> Self {
        Self {
            cmd,
            bank,
            row,
            gap_ns: Some(gap_ns),
            relax: relax.iter().fold(0, |m, c| m | c.bit()),
        }
    }
}

/// One issued command in the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEntry {
    pub cycle: i64,
    pub cmd: Cmd,
    pub bank: usize,
    pub row: u32,
    /// Names of the broken rules (empty when legal).
    pub violations: Vec<String>,
}

/// A PiD-relevant effect recognised from the command timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PidEvent {
    /// Several rows of one subarray opened together.
    MultiRowActivation {
        bank: usize,
        first: u32,
        second: u32,
        rows: Vec<u32>,
        cycle: i64,
    },
    /// A read issued `trcd_ns` after its ACT (below the spec's tRCD).
    ReducedTrcdRead { bank: usize, row: u32, trcd_ns: f64 },
    /// A row was opened (normal activation), with how long the previous row stayed open.
    Activation { bank: usize, row: u32, cycle: i64 },
}

/// The rows that an ACT(first) - PRE - ACT(second) sequence opens when the decoder latches
/// are not reset: all rows that agree with `first` where the two addresses agree and take
/// every value where they differ, if they differ only in the low `max_bits` bits of a
/// subarray; otherwise only `second` (SiMRA DSN'24 / QUAC-TRNG ISCA'21 decoder model).
pub fn multi_row_set(first: u32, second: u32, max_bits: u32, rows_per_subarray: u32) -> Vec<u32> {
    let diff = first ^ second;
    let sub_bits = rows_per_subarray.trailing_zeros();
    if diff == 0 || diff >> max_bits.min(sub_bits) != 0 {
        return vec![second];
    }
    let base = first & !diff;
    let free: Vec<u32> = (0..32).filter(|b| diff >> b & 1 == 1).collect();
    (0..1u32 << free.len())
        .map(|k| {
            free.iter()
                .enumerate()
                .fold(base, |r, (i, &b)| r | (((k >> i) & 1) << b))
        })
        .collect()
}

/// Runs PiD programs on one channel.
pub struct Executor {
    pub dev: Device,
    tck_ns: f64,
    n_rcd: u32,
    mra_max_gap_ns: f64,
    mra_max_bits: u32,
    rows_per_subarray: u32,
    /// Keep the full command trace (off for long throughput runs).
    pub record_trace: bool,
    pub trace: Vec<TraceEntry>,
    pub events: Vec<PidEvent>,
    per_rule: [u64; 18],
    last_act: Vec<(i64, u32)>,
    last_pre: Vec<i64>,
    /// Issue cycle of the last command (any stream).
    pub last_cycle: i64,
}

impl Executor {
    pub fn new(spec: &DramSpec, tech: &TechParams) -> Self {
        let dev = Device::new(spec);
        let nb = dev.num_banks();
        Self {
            n_rcd: dev.t.n_rcd,
            dev,
            tck_ns: spec.tck_ns(),
            mra_max_gap_ns: tech.mra_max_gap_ns.value,
            mra_max_bits: tech.mra_max_bits.value as u32,
            rows_per_subarray: tech.rows_per_subarray.value as u32,
            record_trace: true,
            trace: Vec::new(),
            events: Vec::new(),
            per_rule: [0; 18],
            last_act: vec![(i64::MIN / 4, 0); nb],
            last_pre: vec![i64::MIN / 4; nb],
            last_cycle: -1,
        }
    }

    pub fn tck_ns(&self) -> f64 {
        self.tck_ns
    }

    /// Longest PRE->ACT gap that still gives a multi-row activation.
    pub fn mra_max_gap_ns(&self) -> f64 {
        self.mra_max_gap_ns
    }

    /// When `c` would issue if the previous command of its stream was at `prev`.
    pub fn issue_time(&self, c: &PidCmd, prev: i64) -> i64 {
        let legal = self.dev.earliest_relaxed(c.cmd, c.bank, c.relax);
        // A bank-state rule (e.g. RD to a closed bank) cannot be met by waiting: issue right
        // away; the violation is flagged like any other.
        let legal = if legal == i64::MAX {
            (prev + 1).max(0)
        } else {
            legal
        };
        match c.gap_ns {
            Some(g) => legal.max(prev + (g / self.tck_ns - 1e-9).ceil() as i64),
            None => legal,
        }
    }

    /// Issue one command at `cycle`, recording violations and PiD events.
    pub fn issue_at(&mut self, c: &PidCmd, cycle: i64) {
        let mask = self.dev.violations(c.cmd, c.bank, cycle);
        if mask != 0 {
            for (i, rule) in Constraint::ALL.iter().enumerate() {
                if mask & rule.bit() != 0 {
                    self.per_rule[i] += 1;
                }
            }
        }
        if self.record_trace {
            self.trace.push(TraceEntry {
                cycle,
                cmd: c.cmd,
                bank: c.bank,
                row: c.row,
                violations: Constraint::names_in(mask)
                    .into_iter()
                    .map(String::from)
                    .collect(),
            });
        }
        let b = c.bank;
        match c.cmd {
            Cmd::Act => {
                let (act_t, act_row) = self.last_act[b];
                let pre_t = self.last_pre[b];
                let gap_ns = (cycle - pre_t) as f64 * self.tck_ns;
                let early_pre = pre_t > act_t && pre_t - act_t < self.dev.t.n_ras as i64;
                if early_pre && gap_ns <= self.mra_max_gap_ns + 1e-9 {
                    let rows =
                        multi_row_set(act_row, c.row, self.mra_max_bits, self.rows_per_subarray);
                    self.events.push(PidEvent::MultiRowActivation {
                        bank: b,
                        first: act_row,
                        second: c.row,
                        rows,
                        cycle,
                    });
                } else {
                    self.events.push(PidEvent::Activation {
                        bank: b,
                        row: c.row,
                        cycle,
                    });
                }
                self.last_act[b] = (cycle, c.row);
            }
            Cmd::Pre => self.last_pre[b] = cycle,
            Cmd::Rd => {
                let (act_t, row) = self.last_act[b];
                if cycle - act_t < self.n_rcd as i64 {
                    self.events.push(PidEvent::ReducedTrcdRead {
                        bank: b,
                        row,
                        trcd_ns: (cycle - act_t) as f64 * self.tck_ns,
                    });
                }
            }
            _ => {}
        }
        // A command to a closed bank (e.g. an intentionally early RD) must not corrupt the
        // device bookkeeping: the device records it like any other.
        self.dev.issue(c.cmd, b, c.row, cycle);
        self.last_cycle = cycle;
    }

    /// Run one stream of commands starting no earlier than `start`; returns the cycle of its
    /// last command.
    pub fn run(&mut self, cmds: &[PidCmd], start: i64) -> i64 {
        let mut prev = start;
        for c in cmds {
            let t = self.issue_time(c, prev).max(start);
            self.issue_at(c, t);
            prev = t;
        }
        prev
    }

    /// Run several streams (e.g. one per bank) interleaved: at each step the stream whose
    /// next command can go out first issues it. Returns the cycle of the last command.
    pub fn run_interleaved(&mut self, streams: &[Vec<PidCmd>], start: i64) -> i64 {
        let mut pos = vec![0usize; streams.len()];
        let mut prev = vec![start; streams.len()];
        let mut last = start;
        loop {
            let mut best: Option<(i64, usize)> = None;
            for (s, cmds) in streams.iter().enumerate() {
                if let Some(c) = cmds.get(pos[s]) {
                    let t = self.issue_time(c, prev[s]).max(start);
                    if best.is_none_or(|(bt, _)| t < bt) {
                        best = Some((t, s));
                    }
                }
            }
            let Some((t, s)) = best else { break };
            let c = streams[s][pos[s]];
            self.issue_at(&c, t);
            prev[s] = t;
            pos[s] += 1;
            last = last.max(t);
        }
        last
    }

    /// How many times each rule was broken so far (rules never broken are left out).
    pub fn violation_counts(&self) -> Vec<(String, u64)> {
        Constraint::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| self.per_rule[*i] > 0)
            .map(|(i, c)| (c.name().to_string(), self.per_rule[i]))
            .collect()
    }

    /// Total broken-rule count.
    pub fn total_violations(&self) -> u64 {
        self.per_rule.iter().sum()
    }
}

/// Command sequence of one multi-row activation: ACT r1, PRE `t1_ns` later, ACT r2 `t2_ns`
/// after the PRE (breaking tRAS and tRP on purpose).
pub fn mra_op(bank: usize, r1: u32, r2: u32, t1_ns: f64, t2_ns: f64) -> [PidCmd; 3] {
    [
        PidCmd::legal(Cmd::Act, bank, r1),
        PidCmd::after(Cmd::Pre, bank, 0, t1_ns, &[Constraint::Ras]),
        PidCmd::after(Cmd::Act, bank, r2, t2_ns, &[Constraint::Rp, Constraint::Rc]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;

    fn exec() -> Executor {
        Executor::new(
            &DramSpec::preset("DDR4_2400R").unwrap(),
            &TechParams::table("H", "DDR4").unwrap(),
        )
    }

    #[test]
    fn multi_row_sets_follow_the_differing_bits() {
        assert_eq!(multi_row_set(0, 3, 5, 512), vec![0, 1, 2, 3]);
        let mut s = multi_row_set(5, 5 ^ 31, 5, 512);
        s.sort();
        assert_eq!(s, (0..32).collect::<Vec<_>>());
        // Differing above the allowed bits: only the second row opens.
        assert_eq!(multi_row_set(0, 64, 5, 512), vec![64]);
        assert_eq!(multi_row_set(0, 512, 9, 512), vec![512]);
    }

    #[test]
    fn apa_is_flagged_and_recognised() {
        let mut x = exec();
        x.run(&mra_op(0, 8, 11, 2.5, 2.5), 0);
        let flagged: Vec<_> = x.trace.iter().map(|e| e.violations.clone()).collect();
        assert!(flagged[0].is_empty());
        assert!(flagged[1].contains(&"tRAS".to_string()));
        assert!(flagged[2].contains(&"tRP".to_string()));
        let mra = x.events.iter().find_map(|e| match e {
            PidEvent::MultiRowActivation { rows, .. } => Some(rows.clone()),
            _ => None,
        });
        assert_eq!(mra.map(|r| r.len()), Some(4));
        // Gaps issued exactly: 2.5 ns at 0.833 ns/cycle = 3 cycles each.
        assert_eq!(x.trace[1].cycle - x.trace[0].cycle, 3);
        assert_eq!(x.trace[2].cycle - x.trace[1].cycle, 3);
    }

    #[test]
    fn legal_gaps_do_not_activate_many_rows() {
        let mut x = exec();
        // PRE after tRAS and ACT after tRP: an ordinary row switch.
        let cmds = [
            PidCmd::legal(Cmd::Act, 0, 8),
            PidCmd::legal(Cmd::Pre, 0, 0),
            PidCmd::legal(Cmd::Act, 0, 11),
        ];
        x.run(&cmds, 0);
        assert_eq!(x.total_violations(), 0);
        assert!(
            !x.events
                .iter()
                .any(|e| matches!(e, PidEvent::MultiRowActivation { .. }))
        );
    }

    #[test]
    fn state_violations_issue_immediately_and_are_flagged() {
        let mut x = exec();
        let end = x.run(&[PidCmd::legal(Cmd::Rd, 3, 0)], 10);
        assert_eq!(end, 11);
        assert_eq!(x.trace[0].violations, vec!["bank-state".to_string()]);
    }

    #[test]
    fn reduced_trcd_read_is_flagged() {
        let mut x = exec();
        let cmds = [
            PidCmd::legal(Cmd::Act, 0, 1),
            PidCmd::after(Cmd::Rd, 0, 0, 7.5, &[Constraint::Rcd]),
        ];
        x.run(&cmds, 0);
        assert_eq!(x.trace[1].violations, vec!["tRCD".to_string()]);
        assert!(x.events.iter().any(|e| matches!(
            e,
            PidEvent::ReducedTrcdRead { trcd_ns, .. } if (*trcd_ns - 7.5).abs() < 0.9
        )));
        assert_eq!(x.violation_counts(), vec![("tRCD".to_string(), 1)]);
    }
}
