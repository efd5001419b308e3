//! FR-FCFS memory controller (open- or closed-page) over [`Device`] channels, driven by a
//! request stream; event-driven: it jumps from one command/arrival/refresh event to the next
//! instead of ticking through idle cycles.
//!
//! Scheduling (Rixner et al., ISCA 2000, "Memory Access Scheduling"): at each decision the
//! candidate command of every bank is computed (column command of the oldest row hit, else
//! PRE of a conflicting row, else ACT for the oldest request); among those legal at the
//! earliest possible cycle, row hits (column commands) go first, then the oldest request.
//! Refresh is all-bank per rank every nREFI: the rank's banks are precharged and REF issued.

use crate::device::{Cmd, Device, GroupBounds};
use crate::energy::{EnergyReport, energy_of};
use serde::{Deserialize, Serialize};
use tessera_arch::dram::DramSpec;

/// Row-buffer management policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PagePolicy {
    /// Keep a row open until a conflicting request needs the bank.
    Open,
    /// Precharge as soon as no queued request hits the open row.
    Closed,
}

/// A memory request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Physical byte address.
    pub addr: u64,
    pub is_write: bool,
    /// Cycle at which the request is offered to the controller (0 = as soon as possible).
    pub arrive_cycle: u64,
}

/// Address field order, most significant first, as in Ramulator (e.g. `RoRaCoBaBgCh`):
/// `Ro` row, `Ra` rank, `Bg` bank group, `Ba` bank, `Co` column (burst), `Ch` channel. The
/// lowest bits below the fields address bytes within one burst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressMap {
    /// (field, bits) from least significant upwards.
    fields: Vec<(Field, u32)>,
    offset_bits: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Ro,
    Ra,
    Bg,
    Ba,
    Co,
    Ch,
}

/// Decoded address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub channel: u32,
    pub rank: u32,
    pub bank_group: u32,
    pub bank: u32,
    pub row: u32,
    pub column: u32,
}

fn log2(x: u32) -> u32 {
    x.trailing_zeros()
}

impl AddressMap {
    /// Parse a field-order string for a spec; errors name what was expected.
    pub fn parse(order: &str, spec: &DramSpec) -> Result<Self, String> {
        let o = &spec.org;
        let mut fields = Vec::new();
        let chars: Vec<char> = order.chars().collect();
        if !chars.len().is_multiple_of(2) {
            return Err(format!(
                "address map `{order}`: expected two-letter fields from Ro, Ra, Bg, Ba, Co, Ch"
            ));
        }
        for pair in chars.chunks(2) {
            let s: String = pair.iter().collect();
            let (f, bits) = match s.as_str() {
                "Ro" => (Field::Ro, log2(o.rows)),
                "Ra" => (Field::Ra, log2(o.ranks)),
                "Bg" => (Field::Bg, log2(o.bank_groups)),
                "Ba" => (Field::Ba, log2(o.banks_per_group)),
                "Co" => (Field::Co, log2(spec.bursts_per_row())),
                "Ch" => (Field::Ch, log2(o.channels)),
                other => {
                    return Err(format!(
                        "address map `{order}`: unknown field `{other}`; expected Ro, Ra, Bg, Ba, \
                         Co or Ch"
                    ));
                }
            };
            if fields.iter().any(|(g, _)| *g == f) {
                return Err(format!("address map `{order}`: field `{s}` appears twice"));
            }
            fields.push((f, bits));
        }
        if fields.len() != 6 {
            return Err(format!(
                "address map `{order}`: must name all six fields Ro, Ra, Bg, Ba, Co, Ch once"
            ));
        }
        fields.reverse();
        Ok(Self {
            fields,
            offset_bits: log2(spec.burst_bytes()),
        })
    }

    #[inline]
    pub fn decode(&self, addr: u64) -> Decoded {
        let mut a = addr >> self.offset_bits;
        let mut d = Decoded {
            channel: 0,
            rank: 0,
            bank_group: 0,
            bank: 0,
            row: 0,
            column: 0,
        };
        for &(f, bits) in &self.fields {
            let v = (a & ((1u64 << bits) - 1)) as u32;
            a >>= bits;
            match f {
                Field::Ro => d.row = v,
                Field::Ra => d.rank = v,
                Field::Bg => d.bank_group = v,
                Field::Ba => d.bank = v,
                Field::Co => d.column = v,
                Field::Ch => d.channel = v,
            }
        }
        d
    }
}

/// Controller settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControllerConfig {
    pub page_policy: PagePolicy,
    /// Request queue entries per channel (DRAMsim3 default transaction queue: 32).
    pub queue_size: u32,
    /// Address field order, most significant first.
    pub address_map: String,
    /// Issue all-bank refresh every nREFI.
    pub refresh: bool,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            page_policy: PagePolicy::Open,
            queue_size: 32,
            address_map: "RoRaCoBaBgCh".into(),
            refresh: true,
        }
    }
}

/// Latency histogram with one bucket per cycle up to a cap (dense, no allocation per request).
#[derive(Debug, Clone)]
pub struct Histogram {
    pub counts: Vec<u64>,
    pub overflow: u64,
    pub max: u64,
    pub sum: u128,
    pub n: u64,
}

impl Histogram {
    pub fn new(cap: usize) -> Self {
        Self {
            counts: vec![0; cap],
            overflow: 0,
            max: 0,
            sum: 0,
            n: 0,
        }
    }

    #[inline]
    pub fn add(&mut self, v: u64) {
        match self.counts.get_mut(v as usize) {
            Some(c) => *c += 1,
            None => self.overflow += 1,
        }
        self.max = self.max.max(v);
        self.sum += v as u128;
        self.n += 1;
    }

    /// Value at quantile q in [0, 1] (overflowed samples count as `max`).
    pub fn quantile(&self, q: f64) -> u64 {
        if self.n == 0 {
            return 0;
        }
        let target = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut acc = 0;
        for (v, c) in self.counts.iter().enumerate() {
            acc += c;
            if acc >= target {
                return v as u64;
            }
        }
        self.max
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum as f64 / self.n as f64
        }
    }

    /// Non-empty buckets grouped `width` cycles wide: (bucket start, count).
    pub fn coarse(&self, width: usize) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for (v, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let start = (v / width * width) as u64;
            match out.last_mut() {
                Some((s, n)) if *s == start => *n += c,
                _ => out.push((start, c)),
            }
        }
        if self.overflow > 0 {
            out.push((self.counts.len() as u64, self.overflow));
        }
        out
    }
}

/// What a trace simulation reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimReport {
    pub spec: String,
    pub page_policy: PagePolicy,
    pub requests: u64,
    pub reads: u64,
    pub writes: u64,
    pub cycles: u64,
    pub time_ns: f64,
    pub bandwidth_gbs: f64,
    pub peak_bandwidth_gbs: f64,
    pub row_hits: u64,
    pub row_misses: u64,
    pub row_conflicts: u64,
    pub row_hit_rate: f64,
    pub latency_mean_cycles: f64,
    pub latency_p50_cycles: u64,
    pub latency_p90_cycles: u64,
    pub latency_p99_cycles: u64,
    pub latency_max_cycles: u64,
    /// (bucket start in cycles, count), buckets 8 cycles wide.
    pub latency_histogram: Vec<(u64, u64)>,
    pub commands: crate::device::CmdCounts,
    pub energy: EnergyReport,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    id: u32,
    row: u32,
    arrive: u64,
    is_write: bool,
    /// 0 hit, 1 miss (bank closed on arrival), 2 conflict (other row open).
    kind: u8,
}

/// Largest age kept in the tie-break key (bit 63 holds the priority); arrival cycles never
/// come near it, and a PRE with no waiting request (age `u64::MAX`) sorts last either way.
const AGE_MAX: u64 = (1 << 63) - 1;

/// A bank's next command under FR-FCFS, cached between steps.
#[derive(Debug, Clone, Copy)]
struct BankCand {
    cmd: Cmd,
    qi: usize,
    prio: u8,
    age: u64,
    /// Bank-local earliest cycle (without the shared bounds).
    lb: i64,
}

/// The candidate of bank `b`: the column command of the oldest row hit, else PRE of a
/// conflicting (or, closed page, idle) open row, else ACT for the oldest request.
fn bank_candidate(
    dev: &Device,
    q: &[Pending],
    b: usize,
    policy: PagePolicy,
    held_for_refresh: bool,
) -> Option<BankCand> {
    if held_for_refresh {
        return None;
    }
    let mk = |cmd: Cmd, qi: usize, prio: u8, age: u64| BankCand {
        cmd,
        qi,
        prio,
        age,
        lb: dev.bank_local_bound(cmd, b),
    };
    match dev.open_row(b) {
        Some(open) => {
            if let Some(i) = q.iter().position(|p| p.row == open) {
                let cmd = if q[i].is_write { Cmd::Wr } else { Cmd::Rd };
                Some(mk(cmd, i, 0, q[i].arrive))
            } else if !q.is_empty() || policy == PagePolicy::Closed {
                let age = q.first().map_or(u64::MAX, |p| p.arrive);
                Some(mk(Cmd::Pre, 0, 1, age))
            } else {
                None
            }
        }
        None => q.first().map(|p| mk(Cmd::Act, 0, 1, p.arrive)),
    }
}

/// Per-channel controller state.
struct Channel {
    dev: Device,
    queues: Vec<Vec<Pending>>,
    queued: u32,
    ref_due: Vec<i64>,
    ref_pending: Vec<bool>,
    active_since: Vec<i64>,
    active_cycles: Vec<i64>,
    now: i64,
    last_done: i64,
    bounds: GroupBounds,
    /// Parts of `bounds` to recompute before the next decision: the ACT bounds of the ranks
    /// in this mask (after ACT or REF there) and, with `cas_dirty`, every rank's RD/WR bounds
    /// (after RD or WR). A PRE only moves bank-local bounds.
    act_dirty: u64,
    cas_dirty: bool,
    cand: Vec<Option<BankCand>>,
    /// Structure-of-arrays copy of the candidates for the branch-light selection scan:
    /// bank-local bound (`i64::MAX` when the bank has nothing to do), index of the shared
    /// bound in `bounds.slots`, and the tie-break key `prio << 63 | age`.
    cand_lb: Vec<i64>,
    cand_slot: Vec<u32>,
    cand_tie: Vec<u64>,
    dirty: Vec<bool>,
}

/// Trace-driven simulation of a whole memory system.
pub struct MemorySystem {
    spec: DramSpec,
    cfg: ControllerConfig,
    map: AddressMap,
    channels: Vec<Channel>,
    hist: Histogram,
    reads: u64,
    writes: u64,
    hits: u64,
    misses: u64,
    conflicts: u64,
    offered: u64,
    /// Per-request latency in cycles, by offer order, when recording.
    latencies: Option<Vec<u64>>,
}

/// Result of trying to run one step on a channel.
enum Step {
    Issued,
    Idle,
}

impl MemorySystem {
    pub fn new(spec: &DramSpec, cfg: &ControllerConfig) -> Result<Self, String> {
        let map = AddressMap::parse(&cfg.address_map, spec)?;
        if cfg.queue_size == 0 {
            return Err("controller queue_size must be at least 1".into());
        }
        let t = spec.timings();
        let ranks = spec.org.ranks as usize;
        let channels = (0..spec.org.channels)
            .map(|_| {
                let dev = Device::new(spec);
                let nb = dev.num_banks();
                Channel {
                    dev,
                    queues: vec![Vec::with_capacity(cfg.queue_size as usize); nb],
                    queued: 0,
                    // Stagger rank refreshes across the interval (DRAMsim3 "staggered").
                    ref_due: (0..ranks)
                        .map(|r| t.n_refi as i64 * (r as i64 + 1) / ranks as i64)
                        .collect(),
                    ref_pending: vec![false; ranks],
                    active_since: vec![0; ranks],
                    active_cycles: vec![0; ranks],
                    now: 0,
                    last_done: 0,
                    bounds: GroupBounds::default(),
                    act_dirty: u64::MAX,
                    cas_dirty: true,
                    cand: vec![None; nb],
                    cand_lb: vec![i64::MAX; nb],
                    cand_slot: vec![0; nb],
                    cand_tie: vec![0; nb],
                    dirty: vec![true; nb],
                }
            })
            .collect();
        Ok(Self {
            spec: spec.clone(),
            cfg: cfg.clone(),
            map,
            channels,
            hist: Histogram::new(1 << 14),
            reads: 0,
            writes: 0,
            hits: 0,
            misses: 0,
            conflicts: 0,
            offered: 0,
            latencies: None,
        })
    }

    /// Run a request stream to completion. Requests are offered in order; a request waits
    /// for a free queue entry in its channel (back-pressure) and for its arrival cycle.
    pub fn run(self, requests: impl IntoIterator<Item = Request>) -> SimReport {
        let mut unused = Vec::new();
        self.run_inner(requests, &mut unused)
    }

    fn run_inner(
        mut self,
        requests: impl IntoIterator<Item = Request>,
        latencies_out: &mut Vec<u64>,
    ) -> SimReport {
        let mut iter = requests.into_iter();
        // The next request and its decoded address (decoded once, not on every retry).
        let mut next: Option<(Request, Decoded)> = None;
        loop {
            if next.is_none() {
                next = iter.next().map(|r| (r, self.map.decode(r.addr)));
            }
            // Offer the next request to its channel if there is room.
            if let Some((req, d)) = next {
                let ch = d.channel as usize;
                let room = self.channels[ch].queued < self.cfg.queue_size;
                if room {
                    let c = &mut self.channels[ch];
                    // A request arrives no earlier than the channel's current time.
                    if (req.arrive_cycle as i64) <= c.now {
                        let arrive = (req.arrive_cycle as i64).max(c.now);
                        c.now = arrive;
                        Self::enqueue(c, &d, req.is_write, arrive as u64, self.offered as u32);
                        self.offered += 1;
                        next = None;
                        continue;
                    }
                    // The request is in the future: work (queued requests, closed-page
                    // precharges, refresh) until then.
                    let until = req.arrive_cycle as i64;
                    if let Step::Idle = self.step(ch, Some(until)) {
                        self.channels[ch].now = until;
                    }
                    continue;
                }
                // Full: make progress on that channel.
                self.step(ch, None);
                continue;
            }
            // Trace exhausted: drain every channel.
            let mut busy = false;
            for ch in 0..self.channels.len() {
                if self.channels[ch].queued > 0 {
                    busy = true;
                    self.step(ch, None);
                }
            }
            if !busy {
                break;
            }
        }
        if let Some(v) = self.latencies.take() {
            *latencies_out = v;
        }
        self.report()
    }

    /// Like [`MemorySystem::run`], also returning each request's latency (cycles, in the
    /// order the requests were given).
    pub fn run_recorded(mut self, requests: Vec<Request>) -> (SimReport, Vec<u64>) {
        let n = requests.len();
        self.latencies = Some(vec![0; n]);
        let mut lat = Vec::new();
        let report = self.run_inner(requests, &mut lat);
        (report, lat)
    }

    fn enqueue(c: &mut Channel, d: &Decoded, is_write: bool, arrive: u64, id: u32) {
        let flat = c.dev.flat(crate::device::BankId {
            rank: d.rank,
            bank_group: d.bank_group,
            bank: d.bank,
        });
        // Classified when served: a hit unless an ACT (miss) or a PRE+ACT (conflict) had to be
        // issued on its behalf.
        c.dirty[flat] = true;
        c.queues[flat].push(Pending {
            id,
            row: d.row,
            arrive,
            is_write,
            kind: 0,
        });
        c.queued += 1;
    }

    /// Issue one command on channel `ch` (at the earliest cycle any candidate allows). With
    /// `until`, do nothing if that cycle would be at or after `until` (an arrival comes first).
    fn step(&mut self, ch: usize, until: Option<i64>) -> Step {
        let policy = self.cfg.page_policy;
        let refresh = self.cfg.refresh;
        let c = &mut self.channels[ch];
        let nb = c.dev.num_banks();
        let bpr = c.dev.banks_per_rank() as usize;
        loop {
            if c.act_dirty != 0 || c.cas_dirty {
                c.dev
                    .group_bounds_partial(&mut c.bounds, c.act_dirty, c.cas_dirty);
                c.act_dirty = 0;
                c.cas_dirty = false;
            }
            let now = c.now;
            // Refresh work first: (cycle, bank, cmd); it wins ties against bank candidates
            // (it is considered first and a later candidate must be strictly better).
            let mut ref_best: Option<(i64, usize, Cmd)> = None;
            if refresh {
                for rank in 0..c.ref_pending.len() {
                    if !c.ref_pending[rank] {
                        continue;
                    }
                    let first = rank * bpr;
                    let mut offer = |e: i64, b: usize, cmd: Cmd| {
                        if ref_best.is_none_or(|x| e < x.0) {
                            ref_best = Some((e, b, cmd));
                        }
                    };
                    if c.dev.open_banks_in_rank(rank as u32) == 0 {
                        offer(c.dev.earliest(Cmd::Ref, first).max(now), first, Cmd::Ref);
                    } else {
                        for b in first..first + bpr {
                            if c.dev.open_row(b).is_some() {
                                offer(c.dev.earliest(Cmd::Pre, b).max(now), b, Cmd::Pre);
                            }
                        }
                    }
                }
            }
            // Per-bank candidates are cached and recomputed only when the bank's queue, state
            // or refresh status changed; their bank-local bounds change only when the bank
            // itself issues. Only the shared (group/rank) bounds are re-read every step.
            for b in 0..nb {
                if c.dirty[b] {
                    let held = refresh && c.ref_pending[c.dev.rank_of(b)];
                    let k = bank_candidate(&c.dev, &c.queues[b], b, policy, held);
                    c.cand[b] = k;
                    match k {
                        Some(k) => {
                            c.cand_lb[b] = k.lb;
                            c.cand_slot[b] = GroupBounds::slot(c.dev.group_of(b), k.cmd) as u32;
                            c.cand_tie[b] = (u64::from(k.prio) << 63) | k.age.min(AGE_MAX);
                        }
                        None => c.cand_lb[b] = i64::MAX,
                    }
                    c.dirty[b] = false;
                }
            }
            // FR-FCFS choice: earliest legal cycle, then row hits, then the oldest request,
            // then the lowest bank, as one 128-bit key compared without data-dependent jumps.
            let slots = &c.bounds.slots;
            let mut best_key = u128::MAX;
            let mut best_b = usize::MAX;
            for b in 0..nb {
                let e = c.cand_lb[b].max(now).max(slots[c.cand_slot[b] as usize]);
                let key = ((e as u64 as u128) << 64) | u128::from(c.cand_tie[b]);
                if key < best_key {
                    best_key = key;
                    best_b = b;
                }
            }
            let bank_best = (best_b != usize::MAX && c.cand_lb[best_b] != i64::MAX)
                .then_some((best_key >> 64) as i64);
            let best: Option<(i64, usize, Cmd, usize)> = match (ref_best, bank_best) {
                (Some((e, b, cmd)), Some(be)) if e <= be => Some((e, b, cmd, 0)),
                (Some((e, b, cmd)), None) => Some((e, b, cmd, 0)),
                (_, Some(be)) => {
                    let k = c.cand[best_b].expect("candidate of the chosen bank");
                    Some((be, best_b, k.cmd, k.qi))
                }
                (None, None) => None,
            };
            // A refresh coming due before the best command takes precedence.
            let next_ref = if refresh {
                c.ref_due
                    .iter()
                    .enumerate()
                    .filter(|(r, _)| !c.ref_pending[*r])
                    .map(|(r, &d)| (d, r))
                    .min()
            } else {
                None
            };
            let best_t = best.map_or(i64::MAX, |b| b.0);
            if let Some((due, r)) = next_ref
                && due <= best_t
                && until.is_none_or(|u| due < u)
            {
                c.now = c.now.max(due);
                c.ref_pending[r] = true;
                for b in r * bpr..(r + 1) * bpr {
                    c.dirty[b] = true;
                }
                continue;
            }
            let Some((t, b, cmd, qi)) = best else {
                return Step::Idle;
            };
            if until.is_some_and(|u| t >= u) {
                return Step::Idle;
            }
            // Debug builds (all tests) re-derive the choice from the device's full rule set:
            // the command is legal at t, and no bank candidate is legal earlier or equally
            // early with a better FR-FCFS rank. This guards the cached, packed scan above.
            #[cfg(debug_assertions)]
            {
                assert_eq!(c.dev.violations(cmd, b, t), 0, "{cmd:?} bank {b} at {t}");
                if cmd != Cmd::Ref && ref_best.is_none_or(|r| r.1 != b || r.2 != cmd) {
                    let k = c.cand[b].expect("chosen bank has a candidate");
                    let chosen = (t, k.prio, k.age.min(AGE_MAX), b);
                    for ob in 0..nb {
                        if let Some(o) = c.cand[ob] {
                            let e = c.dev.earliest(o.cmd, ob).max(now);
                            assert!(
                                (e, o.prio, o.age.min(AGE_MAX), ob) >= chosen,
                                "bank {ob} {:?} at {e} beats the chosen {chosen:?}",
                                o.cmd
                            );
                        }
                    }
                }
            }
            let rank = c.dev.rank_of(b);
            match cmd {
                Cmd::Act => {
                    let head = &mut c.queues[b][0];
                    if head.kind == 0 {
                        head.kind = 1;
                    }
                    let row = head.row;
                    if c.dev.open_banks_in_rank(rank as u32) == 0 {
                        c.active_since[rank] = t;
                    }
                    c.dev.issue(Cmd::Act, b, row, t);
                }
                Cmd::Pre => {
                    if !c.ref_pending[rank]
                        && let Some(head) = c.queues[b].first_mut()
                    {
                        head.kind = 2;
                    }
                    c.dev.issue(Cmd::Pre, b, 0, t);
                    if c.dev.open_banks_in_rank(rank as u32) == 0 {
                        c.active_cycles[rank] += t - c.active_since[rank];
                    }
                }
                Cmd::Ref => {
                    c.dev.issue(Cmd::Ref, b, 0, t);
                    c.ref_pending[rank] = false;
                    for x in rank * bpr..(rank + 1) * bpr {
                        c.dirty[x] = true;
                    }
                    c.ref_due[rank] += c.dev.t.n_refi as i64;
                }
                Cmd::Rd | Cmd::Wr => {
                    c.dev.issue(cmd, b, 0, t);
                    let p = c.queues[b].remove(qi);
                    c.queued -= 1;
                    let lat = if cmd == Cmd::Rd {
                        c.dev.t.n_cl
                    } else {
                        c.dev.t.n_cwl
                    } + c.dev.t.n_bl;
                    let done = t + lat as i64;
                    c.last_done = c.last_done.max(done);
                    let lat = (done - p.arrive as i64) as u64;
                    self.hist.add(lat);
                    if let Some(v) = self.latencies.as_mut() {
                        if v.len() <= p.id as usize {
                            v.resize(p.id as usize + 1, 0);
                        }
                        v[p.id as usize] = lat;
                    }
                    if p.is_write {
                        self.writes += 1;
                    } else {
                        self.reads += 1;
                    }
                    match p.kind {
                        0 => self.hits += 1,
                        1 => self.misses += 1,
                        _ => self.conflicts += 1,
                    }
                }
            }
            c.dirty[b] = true;
            match cmd {
                Cmd::Act | Cmd::Ref => c.act_dirty |= 1u64 << rank.min(63),
                Cmd::Rd | Cmd::Wr => c.cas_dirty = true,
                Cmd::Pre => {}
            }
            c.now = t + 1;
            return Step::Issued;
        }
    }

    fn report(mut self) -> SimReport {
        let tck = self.spec.tck_ns();
        let cycles = self
            .channels
            .iter()
            .map(|c| c.last_done.max(c.now))
            .max()
            .unwrap_or(0)
            .max(0) as u64;
        let mut counts = crate::device::CmdCounts::default();
        let mut active = 0i64;
        for c in &mut self.channels {
            for r in 0..c.active_cycles.len() {
                if c.dev.open_banks_in_rank(r as u32) > 0 {
                    c.active_cycles[r] += cycles as i64 - c.active_since[r];
                }
                active += c.active_cycles[r];
            }
            let k = c.dev.counts;
            counts.act += k.act;
            counts.pre += k.pre;
            counts.rd += k.rd;
            counts.wr += k.wr;
            counts.refresh += k.refresh;
        }
        let rank_cycles = cycles as i64 * (self.spec.org.ranks * self.spec.org.channels) as i64;
        let energy = energy_of(
            &self.spec,
            &counts,
            active as u64,
            (rank_cycles - active).max(0) as u64,
        );
        let requests = self.reads + self.writes;
        let time_ns = cycles as f64 * tck;
        let bytes = requests as f64 * self.spec.burst_bytes() as f64;
        SimReport {
            spec: self.spec.name.clone(),
            page_policy: self.cfg.page_policy,
            requests,
            reads: self.reads,
            writes: self.writes,
            cycles,
            time_ns,
            bandwidth_gbs: if time_ns > 0.0 { bytes / time_ns } else { 0.0 },
            peak_bandwidth_gbs: self.spec.peak_bandwidth_gbs() * self.spec.org.channels as f64,
            row_hits: self.hits,
            row_misses: self.misses,
            row_conflicts: self.conflicts,
            row_hit_rate: if requests > 0 {
                self.hits as f64 / requests as f64
            } else {
                0.0
            },
            latency_mean_cycles: self.hist.mean(),
            latency_p50_cycles: self.hist.quantile(0.5),
            latency_p90_cycles: self.hist.quantile(0.9),
            latency_p99_cycles: self.hist.quantile(0.99),
            latency_max_cycles: self.hist.max,
            latency_histogram: self.hist.coarse(8),
            commands: counts,
            energy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Pattern, SyntheticTrace};
    use tessera_arch::Spec;

    fn spec() -> DramSpec {
        DramSpec::preset("DDR4_2400R").unwrap()
    }

    fn one(addr: u64, cfg: &ControllerConfig) -> SimReport {
        let sys = MemorySystem::new(&spec(), cfg).unwrap();
        sys.run([Request {
            addr,
            is_write: false,
            arrive_cycle: 0,
        }])
    }

    #[test]
    fn single_read_on_closed_bank_takes_rcd_cl_bl() {
        let r = one(0, &ControllerConfig::default());
        assert_eq!(r.latency_max_cycles, 16 + 16 + 4);
        assert_eq!(r.row_misses, 1);
    }

    #[test]
    fn conflict_then_hit_latencies() {
        let s = spec();
        let map = AddressMap::parse("RoRaCoBaBgCh", &s).unwrap();
        let row_stride = 1u64 << (6 + 7 + 2 + 2); // offset + Co + Ba + Bg bits
        assert_eq!(map.decode(row_stride).row, 1);
        assert_eq!(map.decode(row_stride).bank, 0);
        let cfg = ControllerConfig {
            refresh: false,
            ..Default::default()
        };
        let sys = MemorySystem::new(&s, &cfg).unwrap();
        // Row 0 read, then (much later) row 1 in the same bank: conflict path.
        let r = sys.run([
            Request {
                addr: 0,
                is_write: false,
                arrive_cycle: 0,
            },
            Request {
                addr: row_stride,
                is_write: false,
                arrive_cycle: 1000,
            },
        ]);
        assert_eq!(r.row_conflicts, 1);
        // PRE + ACT + RD + data: nRP + nRCD + nCL + nBL = 52.
        assert_eq!(r.latency_max_cycles, 16 + 16 + 16 + 4);
    }

    #[test]
    fn streaming_reads_hit_and_approach_peak() {
        let cfg = ControllerConfig::default();
        let sys = MemorySystem::new(&spec(), &cfg).unwrap();
        let trace = SyntheticTrace::new(&spec(), Pattern::Streaming, 20_000, 1.0, 7);
        let r = sys.run(trace);
        assert_eq!(r.requests, 20_000);
        assert!(r.row_hit_rate > 0.95, "hit rate {}", r.row_hit_rate);
        let ratio = r.bandwidth_gbs / r.peak_bandwidth_gbs;
        assert!(ratio > 0.85 && ratio <= 1.0, "ratio {ratio}");
        // Refresh happened about every nREFI.
        let expect = r.cycles / 9360;
        assert!(r.commands.refresh + 1 >= expect && r.commands.refresh <= expect + 1);
    }

    #[test]
    fn random_reads_conflict_more_and_run_slower() {
        let cfg = ControllerConfig::default();
        let s = spec();
        let stream = MemorySystem::new(&s, &cfg)
            .unwrap()
            .run(SyntheticTrace::new(&s, Pattern::Streaming, 5000, 0.8, 1));
        let random = MemorySystem::new(&s, &cfg)
            .unwrap()
            .run(SyntheticTrace::new(&s, Pattern::Random, 5000, 0.8, 1));
        assert!(random.row_hit_rate < 0.2);
        assert!(random.bandwidth_gbs < stream.bandwidth_gbs);
        assert!(random.latency_p50_cycles > stream.latency_p50_cycles);
    }

    #[test]
    fn closed_page_turns_a_later_conflict_into_a_miss() {
        let row_stride = 1u64 << (6 + 7 + 2 + 2);
        let reqs = [
            Request {
                addr: 0,
                is_write: false,
                arrive_cycle: 0,
            },
            Request {
                addr: row_stride,
                is_write: false,
                arrive_cycle: 1000,
            },
        ];
        let closed = ControllerConfig {
            page_policy: PagePolicy::Closed,
            refresh: false,
            ..Default::default()
        };
        let r = MemorySystem::new(&spec(), &closed).unwrap().run(reqs);
        assert_eq!((r.row_misses, r.row_conflicts), (2, 0));
        assert_eq!(r.latency_max_cycles, 16 + 16 + 4);
        assert_eq!(r.commands.pre, 1);
        let open = ControllerConfig {
            refresh: false,
            ..Default::default()
        };
        let r = MemorySystem::new(&spec(), &open).unwrap().run(reqs);
        assert_eq!((r.row_misses, r.row_conflicts), (1, 1));
    }

    #[test]
    fn two_channels_and_two_ranks_add_bandwidth() {
        let mut s2 = spec();
        s2.org.channels = 2;
        s2.org.ranks = 2;
        let cfg = ControllerConfig::default();
        let one = MemorySystem::new(&spec(), &cfg)
            .unwrap()
            .run(SyntheticTrace::new(&spec(), Pattern::Random, 4000, 0.8, 5));
        let two = MemorySystem::new(&s2, &cfg)
            .unwrap()
            .run(SyntheticTrace::new(&s2, Pattern::Random, 4000, 0.8, 5));
        assert_eq!(two.requests, 4000);
        assert!((two.peak_bandwidth_gbs - 2.0 * one.peak_bandwidth_gbs).abs() < 1e-9);
        assert!(
            two.bandwidth_gbs > 1.5 * one.bandwidth_gbs,
            "{} vs {}",
            two.bandwidth_gbs,
            one.bandwidth_gbs
        );
    }

    #[test]
    fn scheduler_choices_match_the_full_rule_set_on_mixed_traffic() {
        // The debug-build check in `step` compares every choice with a brute-force FR-FCFS
        // over `Device::earliest`; drive it with bursty mixed reads/writes, both page
        // policies, two ranks and refresh.
        use rand::{RngExt, SeedableRng};
        let mut s2 = spec();
        s2.org.ranks = 2;
        for (seed, policy) in [(1u64, PagePolicy::Open), (2, PagePolicy::Closed)] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut t = 0u64;
            let reqs: Vec<Request> = (0..3000)
                .map(|_| {
                    t += rng.random_range(0..12u64);
                    let local = rng.random_bool(0.5);
                    let addr = if local {
                        rng.random_range(0..1u64 << 20)
                    } else {
                        rng.random_range(0..1u64 << 33)
                    } & !63;
                    Request {
                        addr,
                        is_write: rng.random_bool(0.3),
                        arrive_cycle: t,
                    }
                })
                .collect();
            let cfg = ControllerConfig {
                page_policy: policy,
                queue_size: 16,
                ..Default::default()
            };
            let r = MemorySystem::new(&s2, &cfg).unwrap().run(reqs);
            assert_eq!(r.requests, 3000);
            assert!(r.commands.refresh > 0);
        }
    }

    #[test]
    fn bad_address_map_is_refused() {
        let e = AddressMap::parse("RoRaCoBaBg", &spec()).unwrap_err();
        assert!(e.contains("all six"), "{e}");
        let e = AddressMap::parse("RoRaCoBaBgXx", &spec()).unwrap_err();
        assert!(e.contains("`Xx`"), "{e}");
    }

    #[test]
    fn peak_bandwidth_with_refresh_matches_formula() {
        // Reads that always hit, spread over bank groups: the only losses are refresh
        // (nRFC per nREFI, plus the precharge/re-activate around it) and the ramp-up.
        let s = spec();
        let cfg = ControllerConfig::default();
        let r = MemorySystem::new(&s, &cfg)
            .unwrap()
            .run(SyntheticTrace::new(&s, Pattern::Streaming, 60_000, 1.0, 3));
        let formula = s.peak_bandwidth_with_refresh_gbs();
        let rel = (r.bandwidth_gbs - formula).abs() / formula;
        assert!(rel < 0.03, "model {} vs formula {formula}", r.bandwidth_gbs);
    }
}
