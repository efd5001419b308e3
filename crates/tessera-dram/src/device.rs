//! One DRAM channel's timing state: per-bank state machines plus the rank- and
//! channel-level constraints (tRRD, tFAW, tCCD, tWTR, read/write turnaround, refresh).
//!
//! The device answers two questions for any command: *when is it legal* ([`Device::earliest`])
//! and *which constraints does issuing it at cycle t break* ([`Device::violations`]). Both
//! come from one list of bounds ([`Device::for_each_bound`]), so the controller (which waits
//! until legal) and the PiD executor (which may break timing on purpose and flags it) can
//! never disagree about what the timing rules are. Times are in clock cycles (nCK).

use serde::{Deserialize, Serialize};
use tessera_arch::dram::{DramSpec, Timings};

/// A DRAM command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cmd {
    /// Activate (open) a row.
    Act,
    /// Precharge (close) the bank.
    Pre,
    /// Column read (one burst).
    Rd,
    /// Column write (one burst).
    Wr,
    /// All-bank refresh of a rank.
    Ref,
}

impl Cmd {
    pub fn name(self) -> &'static str {
        match self {
            Cmd::Act => "ACT",
            Cmd::Pre => "PRE",
            Cmd::Rd => "RD",
            Cmd::Wr => "WR",
            Cmd::Ref => "REF",
        }
    }
}

/// One timing or state rule. Used as a bit index in a violation mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Constraint {
    Rcd = 0,
    Rp,
    Ras,
    Rc,
    RrdS,
    RrdL,
    Faw,
    CcdS,
    CcdL,
    WtrS,
    WtrL,
    Rtp,
    Wr,
    Rfc,
    /// Read-to-write turnaround: CL + BL/2 + 2 - CWL (JESD79-4 tRTW).
    Rtw,
    /// Rank-to-rank data-bus switch.
    Rtrs,
    /// One command per clock on the command bus.
    CmdBus,
    /// A column command or refresh that needs a different bank state (e.g. RD to a closed bank).
    BankState,
}

impl Constraint {
    pub const ALL: [Constraint; 18] = [
        Constraint::Rcd,
        Constraint::Rp,
        Constraint::Ras,
        Constraint::Rc,
        Constraint::RrdS,
        Constraint::RrdL,
        Constraint::Faw,
        Constraint::CcdS,
        Constraint::CcdL,
        Constraint::WtrS,
        Constraint::WtrL,
        Constraint::Rtp,
        Constraint::Wr,
        Constraint::Rfc,
        Constraint::Rtw,
        Constraint::Rtrs,
        Constraint::CmdBus,
        Constraint::BankState,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Constraint::Rcd => "tRCD",
            Constraint::Rp => "tRP",
            Constraint::Ras => "tRAS",
            Constraint::Rc => "tRC",
            Constraint::RrdS => "tRRD_S",
            Constraint::RrdL => "tRRD_L",
            Constraint::Faw => "tFAW",
            Constraint::CcdS => "tCCD_S",
            Constraint::CcdL => "tCCD_L",
            Constraint::WtrS => "tWTR_S",
            Constraint::WtrL => "tWTR_L",
            Constraint::Rtp => "tRTP",
            Constraint::Wr => "tWR",
            Constraint::Rfc => "tRFC",
            Constraint::Rtw => "tRTW",
            Constraint::Rtrs => "tRTRS",
            Constraint::CmdBus => "cmd-bus",
            Constraint::BankState => "bank-state",
        }
    }

    pub fn bit(self) -> u32 {
        1 << (self as u8)
    }

    /// Names of the constraints set in a mask.
    pub fn names_in(mask: u32) -> Vec<&'static str> {
        Constraint::ALL
            .iter()
            .filter(|c| mask & c.bit() != 0)
            .map(|c| c.name())
            .collect()
    }
}

/// "Never happened": far enough in the past that no constraint binds.
const NEVER: i64 = -(1 << 40);
/// Marker for a closed bank.
pub const NO_ROW: u32 = u32::MAX;

/// Location of a bank within a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankId {
    pub rank: u32,
    pub bank_group: u32,
    pub bank: u32,
}

/// Command counts (for energy and reports).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmdCounts {
    pub act: u64,
    pub pre: u64,
    pub rd: u64,
    pub wr: u64,
    pub refresh: u64,
}

/// Largest value, its index, and the second largest.
#[inline]
fn top2(v: &[i64]) -> (i64, usize, i64) {
    let (mut best, mut arg, mut second) = (NEVER, usize::MAX, NEVER);
    for (g, &x) in v.iter().enumerate() {
        if x > best {
            second = best;
            best = x;
            arg = g;
        } else if x > second {
            second = x;
        }
    }
    (best, arg, second)
}

/// Per-(rank, bank group) bounds from [`Device::group_bounds`], stored flat: four slots per
/// (rank, bank group), one per [`Cmd`] class (see [`GroupBounds::slot`]), so that a scheduler
/// can look a bank's shared bound up with one index.
#[derive(Debug, Clone, Default)]
pub struct GroupBounds {
    pub slots: Vec<i64>,
}

impl GroupBounds {
    /// Index into [`GroupBounds::slots`] of the shared bound for `cmd` in (rank, bank group)
    /// `group` (from [`Device::group_of`]). PRE and REF have no shared bound (slot holds 0).
    #[inline]
    pub fn slot(group: usize, cmd: Cmd) -> usize {
        group * 4
            + match cmd {
                Cmd::Act => 0,
                Cmd::Rd => 1,
                Cmd::Wr => 2,
                Cmd::Pre | Cmd::Ref => 3,
            }
    }

    /// The shared (rank / bank-group) part of the bound for `cmd` at bank `flat`.
    #[inline]
    pub fn group(&self, dev: &Device, cmd: Cmd, flat: usize) -> i64 {
        self.slots[Self::slot(dev.group_of(flat), cmd)]
    }

    /// Earliest legal cycle for a command on a bank already in the right state.
    #[inline]
    pub fn earliest(&self, dev: &Device, cmd: Cmd, flat: usize) -> i64 {
        dev.bank_lower_bound(cmd, flat)
            .max(self.group(dev, cmd, flat))
            .max(0)
    }
}

/// Timing state of one channel.
#[derive(Debug, Clone)]
pub struct Device {
    pub t: Timings,
    ranks: u32,
    bank_groups: u32,
    banks_per_group: u32,
    // log2 of banks per group / bank groups (all validated powers of two): shifts, not
    // divisions, in the hot path.
    bpg_shift: u32,
    bg_shift: u32,
    // per bank (flat: (rank * bank_groups + bg) * banks_per_group + bank)
    open_row: Vec<u32>,
    last_act: Vec<i64>,
    last_pre: Vec<i64>,
    last_rd: Vec<i64>,
    last_wr: Vec<i64>,
    // per (rank, bank group)
    last_act_bg: Vec<i64>,
    last_rd_bg: Vec<i64>,
    last_wr_bg: Vec<i64>,
    // per rank
    faw: Vec<[i64; 4]>,
    faw_next: Vec<u8>,
    last_ref: Vec<i64>,
    open_banks: Vec<u32>,
    // channel
    last_rd_any: i64,
    last_cmd: i64,
    data_end: i64,
    data_rank: u32,
    pub counts: CmdCounts,
}

impl Device {
    pub fn new(spec: &DramSpec) -> Self {
        let o = &spec.org;
        let banks = (o.ranks * o.bank_groups * o.banks_per_group) as usize;
        let bgs = (o.ranks * o.bank_groups) as usize;
        Self {
            t: spec.timings(),
            ranks: o.ranks,
            bank_groups: o.bank_groups,
            banks_per_group: o.banks_per_group,
            bpg_shift: o.banks_per_group.trailing_zeros(),
            bg_shift: o.bank_groups.trailing_zeros(),
            open_row: vec![NO_ROW; banks],
            last_act: vec![NEVER; banks],
            last_pre: vec![NEVER; banks],
            last_rd: vec![NEVER; banks],
            last_wr: vec![NEVER; banks],
            last_act_bg: vec![NEVER; bgs],
            last_rd_bg: vec![NEVER; bgs],
            last_wr_bg: vec![NEVER; bgs],
            faw: vec![[NEVER; 4]; o.ranks as usize],
            faw_next: vec![0; o.ranks as usize],
            last_ref: vec![NEVER; o.ranks as usize],
            open_banks: vec![0; o.ranks as usize],
            last_rd_any: NEVER,
            last_cmd: NEVER,
            data_end: NEVER,
            data_rank: 0,
            counts: CmdCounts::default(),
        }
    }

    pub fn num_banks(&self) -> usize {
        self.open_row.len()
    }

    pub fn banks_per_rank(&self) -> u32 {
        self.bank_groups * self.banks_per_group
    }

    /// Rank of a flat bank index.
    #[inline]
    pub fn rank_of(&self, flat: usize) -> usize {
        flat >> (self.bpg_shift + self.bg_shift)
    }

    /// Flat bank index.
    pub fn flat(&self, b: BankId) -> usize {
        ((b.rank * self.bank_groups + b.bank_group) * self.banks_per_group + b.bank) as usize
    }

    /// Inverse of [`Device::flat`].
    pub fn bank_id(&self, flat: usize) -> BankId {
        let f = flat as u32;
        BankId {
            rank: f / self.banks_per_rank(),
            bank_group: (f / self.banks_per_group) % self.bank_groups,
            bank: f % self.banks_per_group,
        }
    }

    /// Row open in a bank, or `None`.
    pub fn open_row(&self, flat: usize) -> Option<u32> {
        let r = self.open_row[flat];
        (r != NO_ROW).then_some(r)
    }

    /// Banks currently open in a rank.
    pub fn open_banks_in_rank(&self, rank: u32) -> u32 {
        self.open_banks[rank as usize]
    }

    /// Call `f(constraint, earliest_legal_cycle)` for every rule that bounds `cmd` at bank
    /// `flat` (for REF, any bank of the rank). A state rule that cannot be satisfied by waiting
    /// is reported with bound `i64::MAX`.
    #[inline]
    pub fn for_each_bound(&self, cmd: Cmd, flat: usize, mut f: impl FnMut(Constraint, i64)) {
        let t = &self.t;
        let bpr = self.banks_per_rank() as usize;
        let rank = self.rank_of(flat);
        let bg = (flat >> self.bpg_shift) & (self.bank_groups as usize - 1);
        let bg0 = rank * self.bank_groups as usize;
        let n = |x: u32| x as i64;
        f(Constraint::CmdBus, self.last_cmd + 1);
        match cmd {
            Cmd::Act => {
                if self.open_row[flat] != NO_ROW {
                    f(Constraint::BankState, i64::MAX);
                }
                f(Constraint::Rp, self.last_pre[flat] + n(t.n_rp));
                f(Constraint::Rc, self.last_act[flat] + n(t.n_rc));
                f(Constraint::RrdL, self.last_act_bg[bg0 + bg] + n(t.n_rrd_l));
                let mut other = NEVER;
                for g in 0..self.bank_groups as usize {
                    if g != bg {
                        other = other.max(self.last_act_bg[bg0 + g]);
                    }
                }
                f(Constraint::RrdS, other + n(t.n_rrd_s));
                // The 4th-most-recent ACT of the rank is the oldest in the ring.
                let oldest = self.faw[rank][self.faw_next[rank] as usize];
                f(Constraint::Faw, oldest + n(t.n_faw));
                f(Constraint::Rfc, self.last_ref[rank] + n(t.n_rfc));
            }
            Cmd::Pre => {
                f(Constraint::Ras, self.last_act[flat] + n(t.n_ras));
                f(Constraint::Rtp, self.last_rd[flat] + n(t.n_rtp));
                f(
                    Constraint::Wr,
                    self.last_wr[flat] + n(t.n_cwl) + n(t.n_bl) + n(t.n_wr),
                );
            }
            Cmd::Rd | Cmd::Wr => {
                if self.open_row[flat] == NO_ROW {
                    f(Constraint::BankState, i64::MAX);
                }
                f(Constraint::Rcd, self.last_act[flat] + n(t.n_rcd));
                let same = self.last_rd_bg[bg0 + bg].max(self.last_wr_bg[bg0 + bg]);
                f(Constraint::CcdL, same + n(t.n_ccd_l));
                let mut other = NEVER;
                let mut other_wr = NEVER;
                for g in 0..self.bank_groups as usize {
                    if g != bg {
                        other = other
                            .max(self.last_rd_bg[bg0 + g])
                            .max(self.last_wr_bg[bg0 + g]);
                        other_wr = other_wr.max(self.last_wr_bg[bg0 + g]);
                    }
                }
                f(Constraint::CcdS, other + n(t.n_ccd_s));
                let latency = if cmd == Cmd::Rd { t.n_cl } else { t.n_cwl };
                if self.data_rank != rank as u32 {
                    f(Constraint::Rtrs, self.data_end + n(t.n_rtrs) - n(latency));
                }
                if cmd == Cmd::Rd {
                    let wr_end = n(t.n_cwl) + n(t.n_bl);
                    f(
                        Constraint::WtrL,
                        self.last_wr_bg[bg0 + bg] + wr_end + n(t.n_wtr_l),
                    );
                    f(Constraint::WtrS, other_wr + wr_end + n(t.n_wtr_s));
                } else {
                    f(
                        Constraint::Rtw,
                        self.last_rd_any + n(t.n_cl) + n(t.n_bl) + 2 - n(t.n_cwl),
                    );
                }
            }
            Cmd::Ref => {
                let first = rank * bpr;
                for b in first..first + bpr {
                    if self.open_row[b] != NO_ROW {
                        f(Constraint::BankState, i64::MAX);
                    }
                    f(Constraint::Rp, self.last_pre[b] + n(t.n_rp));
                }
                f(Constraint::Rfc, self.last_ref[rank] + n(t.n_rfc));
            }
        }
    }

    /// A cheap lower bound on [`Device::earliest`] from the bank's own timings only (used by
    /// the scheduler to skip candidates that cannot win).
    #[inline]
    pub fn bank_lower_bound(&self, cmd: Cmd, flat: usize) -> i64 {
        self.bank_local_bound(cmd, flat).max(self.last_cmd + 1)
    }

    /// The bank's own timing bounds for `cmd` (tRP/tRC, tRAS/tRTP/tWR, tRCD), without the
    /// command bus; changes only when this bank issues a command.
    #[inline]
    pub fn bank_local_bound(&self, cmd: Cmd, flat: usize) -> i64 {
        let t = &self.t;
        match cmd {
            Cmd::Act => {
                (self.last_pre[flat] + t.n_rp as i64).max(self.last_act[flat] + t.n_rc as i64)
            }
            Cmd::Pre => (self.last_act[flat] + t.n_ras as i64)
                .max(self.last_rd[flat] + t.n_rtp as i64)
                .max(self.last_wr[flat] + (t.n_cwl + t.n_bl + t.n_wr) as i64),
            Cmd::Rd | Cmd::Wr => self.last_act[flat] + t.n_rcd as i64,
            Cmd::Ref => 0,
        }
    }

    /// Rank/bank-group-level bounds for ACT, RD and WR for every (rank, bank group), so that
    /// a scheduler can price all banks at once: for a bank in a legal state,
    /// `earliest(cmd) == bank_lower_bound(cmd).max(group bound)` (checked by a test).
    pub fn group_bounds(&self, out: &mut GroupBounds) {
        self.group_bounds_partial(out, u64::MAX, true);
    }

    /// Recompute only part of [`Device::group_bounds`]: the ACT slots of the ranks set in
    /// `act_ranks` (bit r = rank r) and, with `cas`, the RD/WR slots of every rank. An ACT or
    /// REF changes only its rank's ACT bounds (tRRD, tFAW, tRFC); a RD or WR changes only the
    /// RD/WR bounds (tCCD, tWTR, tRTW, and tRTRS of the other ranks); a PRE changes neither.
    pub fn group_bounds_partial(&self, out: &mut GroupBounds, act_ranks: u64, cas: bool) {
        let t = &self.t;
        let n = |x: u32| x as i64;
        let nbg = self.bank_groups as usize;
        let total = self.ranks as usize * nbg;
        out.slots.resize(total * 4, 0);
        let other = |t: (i64, usize, i64), g: usize| if g == t.1 { t.2 } else { t.0 };
        for rank in 0..self.ranks as usize {
            let base = rank * nbg;
            let do_act = rank >= 64 || act_ranks >> rank & 1 == 1;
            if do_act {
                let faw = self.faw[rank][self.faw_next[rank] as usize] + n(t.n_faw);
                let rfc = self.last_ref[rank] + n(t.n_rfc);
                // "Latest over the other bank groups" via the two largest values: O(groups).
                let ta = top2(&self.last_act_bg[base..base + nbg]);
                for bg in 0..nbg {
                    let i = base + bg;
                    out.slots[i * 4] = (self.last_act_bg[i] + n(t.n_rrd_l))
                        .max(other(ta, bg) + n(t.n_rrd_s))
                        .max(faw)
                        .max(rfc);
                    out.slots[i * 4 + 3] = 0;
                }
            }
            if !cas {
                continue;
            }
            let rtrs_rd = if self.data_rank != rank as u32 {
                self.data_end + n(t.n_rtrs) - n(t.n_cl)
            } else {
                NEVER
            };
            let rtrs_wr = if self.data_rank != rank as u32 {
                self.data_end + n(t.n_rtrs) - n(t.n_cwl)
            } else {
                NEVER
            };
            let rtw = self.last_rd_any + n(t.n_cl) + n(t.n_bl) + 2 - n(t.n_cwl);
            let wr_end = n(t.n_cwl) + n(t.n_bl);
            let mut casv = [NEVER; 16];
            for (g, v) in casv[..nbg].iter_mut().enumerate() {
                *v = self.last_rd_bg[base + g].max(self.last_wr_bg[base + g]);
            }
            let (tc, tw) = (top2(&casv[..nbg]), top2(&self.last_wr_bg[base..base + nbg]));
            for (bg, &same) in casv[..nbg].iter().enumerate() {
                let (oc, ow) = (other(tc, bg), other(tw, bg));
                let i = base + bg;
                let o = &mut out.slots[i * 4..i * 4 + 4];
                let cas = (same + n(t.n_ccd_l)).max(oc + n(t.n_ccd_s));
                o[1] = cas
                    .max(rtrs_rd)
                    .max(self.last_wr_bg[i] + wr_end + n(t.n_wtr_l))
                    .max(ow + wr_end + n(t.n_wtr_s));
                o[2] = cas.max(rtrs_wr).max(rtw);
            }
        }
    }

    /// (rank, bank group) index of a flat bank, for [`GroupBounds`].
    #[inline]
    pub fn group_of(&self, flat: usize) -> usize {
        flat >> self.bpg_shift
    }

    /// Earliest cycle at which `cmd` is legal (`i64::MAX` if the bank state forbids it).
    #[inline]
    pub fn earliest(&self, cmd: Cmd, flat: usize) -> i64 {
        let mut e = 0i64;
        self.for_each_bound(cmd, flat, |_, b| e = e.max(b));
        e
    }

    /// Earliest legal cycle ignoring the constraints in `relaxed` (a mask of
    /// [`Constraint::bit`]s), used by PiD programs that break chosen timings on purpose.
    pub fn earliest_relaxed(&self, cmd: Cmd, flat: usize, relaxed: u32) -> i64 {
        let mut e = 0i64;
        self.for_each_bound(cmd, flat, |c, b| {
            if relaxed & c.bit() == 0 {
                e = e.max(b)
            }
        });
        e
    }

    /// Mask of the constraints that issuing `cmd` at `cycle` violates.
    pub fn violations(&self, cmd: Cmd, flat: usize, cycle: i64) -> u32 {
        let mut mask = 0;
        self.for_each_bound(cmd, flat, |c, b| {
            if cycle < b {
                mask |= c.bit();
            }
        });
        mask
    }

    /// Record `cmd` at `cycle` (no checks: callers check with [`Device::violations`] or
    /// [`Device::earliest`] first). For ACT, `row` is the row opened.
    #[inline]
    pub fn issue(&mut self, cmd: Cmd, flat: usize, row: u32, cycle: i64) {
        let rank = self.rank_of(flat);
        let bg = (flat >> self.bpg_shift) & (self.bank_groups as usize - 1);
        let bgi = rank * self.bank_groups as usize + bg;
        self.last_cmd = cycle;
        match cmd {
            Cmd::Act => {
                if self.open_row[flat] == NO_ROW {
                    self.open_banks[rank] += 1;
                }
                self.open_row[flat] = row;
                self.last_act[flat] = cycle;
                self.last_act_bg[bgi] = cycle;
                let i = self.faw_next[rank] as usize;
                self.faw[rank][i] = cycle;
                self.faw_next[rank] = ((i + 1) % 4) as u8;
                self.counts.act += 1;
            }
            Cmd::Pre => {
                if self.open_row[flat] != NO_ROW {
                    self.open_banks[rank] -= 1;
                    self.counts.pre += 1;
                }
                self.open_row[flat] = NO_ROW;
                self.last_pre[flat] = cycle;
            }
            Cmd::Rd => {
                self.last_rd[flat] = cycle;
                self.last_rd_bg[bgi] = cycle;
                self.last_rd_any = cycle;
                self.data_end = cycle + (self.t.n_cl + self.t.n_bl) as i64;
                self.data_rank = rank as u32;
                self.counts.rd += 1;
            }
            Cmd::Wr => {
                self.last_wr[flat] = cycle;
                self.last_wr_bg[bgi] = cycle;
                self.data_end = cycle + (self.t.n_cwl + self.t.n_bl) as i64;
                self.data_rank = rank as u32;
                self.counts.wr += 1;
            }
            Cmd::Ref => {
                self.last_ref[rank] = cycle;
                self.counts.refresh += 1;
            }
        }
    }

    /// Number of ranks.
    pub fn ranks(&self) -> u32 {
        self.ranks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;

    fn dev() -> Device {
        Device::new(&DramSpec::preset("DDR4_2400R").unwrap())
    }

    /// Issue `cmd` at its earliest legal cycle, asserting it was illegal one cycle earlier
    /// because of `expect` (when given).
    fn held(d: &mut Device, cmd: Cmd, flat: usize, row: u32, expect: Option<Constraint>) -> i64 {
        let e = d.earliest(cmd, flat);
        assert_eq!(
            d.violations(cmd, flat, e),
            0,
            "{cmd:?} still illegal at its earliest"
        );
        if let Some(c) = expect {
            let v = d.violations(cmd, flat, e - 1);
            assert!(
                v & c.bit() != 0,
                "{cmd:?} one cycle early should break {}",
                c.name()
            );
        }
        d.issue(cmd, flat, row, e);
        e
    }

    /// Flat index of a bank of rank 0 in the DDR4 preset (4 banks per group).
    fn bank(bg: u32, b: u32) -> usize {
        let f = (bg * 4 + b) as usize;
        assert_eq!(
            dev().flat(BankId {
                rank: 0,
                bank_group: bg,
                bank: b
            }),
            f
        );
        f
    }

    #[test]
    fn unloaded_latency_closed_bank_is_rcd_plus_cl() {
        let mut d = dev();
        let b = bank(0, 0);
        let act = held(&mut d, Cmd::Act, b, 5, None);
        let rd = held(&mut d, Cmd::Rd, b, 0, Some(Constraint::Rcd));
        // Read latency to first data: issue of ACT to data on the bus.
        assert_eq!(rd + d.t.n_cl as i64 - act, 32);
    }

    #[test]
    fn unloaded_latency_row_conflict_is_rp_rcd_cl() {
        let mut d = dev();
        let b = bank(0, 0);
        held(&mut d, Cmd::Act, b, 5, None);
        // Let the old row be long settled so only the conflict path counts.
        let t0 = 10_000;
        d.issue(Cmd::Pre, b, 0, t0);
        let act = held(&mut d, Cmd::Act, b, 6, Some(Constraint::Rp));
        let rd = held(&mut d, Cmd::Rd, b, 0, Some(Constraint::Rcd));
        assert_eq!(rd + d.t.n_cl as i64 - t0, 48);
        assert_eq!(act - t0, 16);
    }

    #[test]
    fn tras_holds_precharge() {
        let mut d = dev();
        let b = bank(0, 0);
        let a = held(&mut d, Cmd::Act, b, 1, None);
        let p = held(&mut d, Cmd::Pre, b, 0, Some(Constraint::Ras));
        assert_eq!(p - a, 39);
    }

    #[test]
    fn trc_holds_next_activate() {
        let mut d = dev();
        let b = bank(0, 0);
        let a = held(&mut d, Cmd::Act, b, 1, None);
        // Precharge exactly at tRAS: then tRP and tRC bind together (39 + 16 = 55 = nRC).
        d.issue(Cmd::Pre, b, 0, a + 39);
        let mut dd = d.clone();
        dd.t.n_rc = 60; // make tRC the binding rule
        let a2 = held(&mut dd, Cmd::Act, b, 2, Some(Constraint::Rc));
        assert_eq!(a2 - a, 60);
        let a2 = held(&mut d, Cmd::Act, b, 2, None);
        assert_eq!(a2 - a, 55);
    }

    #[test]
    fn trrd_s_and_trrd_l() {
        let mut d = dev();
        let a = held(&mut d, Cmd::Act, bank(0, 0), 1, None);
        let s = held(&mut d, Cmd::Act, bank(1, 0), 1, Some(Constraint::RrdS));
        assert_eq!(s - a, 4);
        let l = held(&mut d, Cmd::Act, bank(1, 1), 1, Some(Constraint::RrdL));
        assert_eq!(l - s, 6);
    }

    #[test]
    fn tfaw_holds_fifth_activate() {
        let mut d = dev();
        let a0 = held(&mut d, Cmd::Act, bank(0, 0), 1, None);
        for bg in 1..4 {
            held(&mut d, Cmd::Act, bank(bg, 0), 1, None);
        }
        let a4 = held(&mut d, Cmd::Act, bank(0, 1), 1, Some(Constraint::Faw));
        assert_eq!(a4 - a0, 26);
    }

    #[test]
    fn tccd_s_and_tccd_l() {
        let mut d = dev();
        let (b0, b1, b2) = (bank(0, 0), bank(1, 0), bank(0, 1));
        for b in [b0, b1, b2] {
            d.issue(Cmd::Act, b, 1, 0);
        }
        d.last_cmd = NEVER;
        let mut t = 1000;
        d.issue(Cmd::Rd, b0, 0, t);
        let s = held(&mut d, Cmd::Rd, b1, 0, Some(Constraint::CcdS));
        assert_eq!(s - t, 4);
        t = s;
        // b2 shares bank group 0 with b0 (last read at 1000, +6 = 1006 < 1008), so tCCD_S
        // from b1 binds; a second device isolates tCCD_L.
        let l = held(&mut d, Cmd::Rd, b2, 0, Some(Constraint::CcdS));
        assert_eq!(l - t, 4);
        let mut d2 = dev();
        d2.issue(Cmd::Act, b0, 1, 0);
        d2.issue(Cmd::Act, b2, 1, 10);
        d2.issue(Cmd::Rd, b0, 0, 1000);
        let l = held(&mut d2, Cmd::Rd, b2, 0, Some(Constraint::CcdL));
        assert_eq!(l - 1000, 6);
    }

    #[test]
    fn twtr_s_and_twtr_l() {
        let mut d = dev();
        let (b0, b1, b2) = (bank(0, 0), bank(1, 0), bank(0, 1));
        for (i, b) in [b0, b1, b2].into_iter().enumerate() {
            d.issue(Cmd::Act, b, 1, i as i64 * 10);
        }
        d.issue(Cmd::Wr, b0, 0, 1000);
        // Same bank group: CWL + BL/2 + WTR_L = 12 + 4 + 9.
        let mut dl = d.clone();
        let l = held(&mut dl, Cmd::Rd, b2, 0, Some(Constraint::WtrL));
        assert_eq!(l - 1000, 25);
        let s = held(&mut d, Cmd::Rd, b1, 0, Some(Constraint::WtrS));
        assert_eq!(s - 1000, 12 + 4 + 3);
    }

    #[test]
    fn trtp_holds_precharge_after_read() {
        let mut d = dev();
        let b = bank(0, 0);
        d.issue(Cmd::Act, b, 1, 0);
        d.issue(Cmd::Rd, b, 0, 100);
        let p = held(&mut d, Cmd::Pre, b, 0, Some(Constraint::Rtp));
        assert_eq!(p - 100, 9);
    }

    #[test]
    fn twr_holds_precharge_after_write() {
        let mut d = dev();
        let b = bank(0, 0);
        d.issue(Cmd::Act, b, 1, 0);
        d.issue(Cmd::Wr, b, 0, 100);
        let p = held(&mut d, Cmd::Pre, b, 0, Some(Constraint::Wr));
        // CWL + BL/2 + WR = 12 + 4 + 18: tCWL sets when the data (and so recovery) starts.
        assert_eq!(p - 100, 34);
    }

    #[test]
    fn tcl_and_tcwl_set_read_to_write_turnaround() {
        let mut d = dev();
        let b = bank(0, 0);
        d.issue(Cmd::Act, b, 1, 0);
        d.issue(Cmd::Rd, b, 0, 100);
        let w = held(&mut d, Cmd::Wr, b, 0, Some(Constraint::Rtw));
        // CL + BL/2 + 2 - CWL = 16 + 4 + 2 - 12.
        assert_eq!(w - 100, 10);
    }

    #[test]
    fn refresh_waits_for_trp_and_blocks_activates_for_trfc() {
        let mut d = dev();
        let b = bank(0, 0);
        d.issue(Cmd::Act, b, 1, 0);
        assert_eq!(d.earliest(Cmd::Ref, b), i64::MAX, "REF with an open bank");
        d.issue(Cmd::Pre, b, 0, 100);
        let r = held(&mut d, Cmd::Ref, b, 0, Some(Constraint::Rp));
        assert_eq!(r, 116);
        let a = held(&mut d, Cmd::Act, bank(2, 3), 1, Some(Constraint::Rfc));
        assert_eq!(a - r, 420);
    }

    #[test]
    fn group_bounds_agree_with_full_earliest() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut spec = DramSpec::preset("DDR4_2400R").unwrap();
        spec.org.ranks = 2;
        let mut d = Device::new(&spec);
        let mut gb = GroupBounds::default();
        // Kept up to date by partial recomputation only, as the controller does.
        let mut inc = GroupBounds::default();
        d.group_bounds(&mut inc);
        let mut now = 0i64;
        for _ in 0..3000 {
            let b = rng.random_range(0..d.num_banks());
            let cmds: &[Cmd] = if d.open_row(b).is_some() {
                &[Cmd::Rd, Cmd::Wr, Cmd::Pre]
            } else {
                &[Cmd::Act]
            };
            d.group_bounds(&mut gb);
            for &c in cmds {
                assert_eq!(gb.earliest(&d, c, b), d.earliest(c, b), "{c:?} bank {b}");
            }
            assert_eq!(inc.slots, gb.slots, "partial bounds drifted");
            let c = cmds[rng.random_range(0..cmds.len())];
            now = now.max(d.earliest(c, b)) + rng.random_range(0..3);
            d.issue(c, b, 7, now);
            match c {
                Cmd::Act | Cmd::Ref => d.group_bounds_partial(&mut inc, 1 << d.rank_of(b), false),
                Cmd::Rd | Cmd::Wr => d.group_bounds_partial(&mut inc, 0, true),
                Cmd::Pre => {}
            }
        }
    }

    #[test]
    fn trtrs_separates_reads_from_different_ranks() {
        let mut spec = DramSpec::preset("DDR4_2400R").unwrap();
        spec.org.ranks = 2;
        let mut d = Device::new(&spec);
        let (r0, r1) = (0, 16); // bank 0 of rank 0 and of rank 1
        d.issue(Cmd::Act, r0, 1, 0);
        d.issue(Cmd::Act, r1, 1, 10);
        d.issue(Cmd::Rd, r0, 0, 1000);
        let t = held(&mut d, Cmd::Rd, r1, 0, Some(Constraint::Rtrs));
        // Rank 1's data may start nRTRS after rank 0's burst ends: same CL, so BL/2 + RTRS.
        assert_eq!(t - 1000, 4 + 2);
    }

    #[test]
    fn read_to_closed_bank_is_a_state_violation() {
        let d = dev();
        let v = d.violations(Cmd::Rd, 0, 100);
        assert!(v & Constraint::BankState.bit() != 0);
        assert_eq!(Constraint::names_in(v), vec!["bank-state"]);
    }

    #[test]
    fn relaxed_earliest_ignores_only_named_rules() {
        let mut d = dev();
        d.issue(Cmd::Act, 0, 1, 0);
        assert_eq!(d.earliest_relaxed(Cmd::Rd, 0, Constraint::Rcd.bit()), 1);
        assert_eq!(d.earliest(Cmd::Rd, 0), 16);
    }
}
