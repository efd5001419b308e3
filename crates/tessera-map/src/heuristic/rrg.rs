//! The modulo routing resource graph (MRRG) as dense occupancy tables, and the routing
//! searches over its time-extended form.
//!
//! Resources are indexed `[kind offset + unit * ii + slot]`, so every query is O(1):
//! functional units, output registers, register files (capacity `rf_size`), directed links
//! and memory-bank ports. An occupant is a value at a time: `(producer node, cycle counted
//! in the producer's iteration)`. Two uses by the same occupant share the resource (a value
//! fanning out), any other use adds to the occupancy. Costs follow PathFinder (McMurchie
//! and Ebeling, FPGA 1995): `(base + history) * (1 + present_factor * overuse)`.
//!
//! Routing is a dynamic program over cycles (time only moves forward, so no heap is needed):
//! in each cycle a value held in the producer's output register or in some register file
//! may travel up to `max_hops_per_cycle` links (HyCUBE-style multi-hop, Karunaratne et al.,
//! DAC 2017) and either be written into a register file (held from the next cycle) or be
//! read as an operand.

// The searches index several dense per-PE tables with one PE index at a time.
#![allow(clippy::needless_range_loop)]

use tessera_arch::cgra::{CgraSpec, PeId};

pub(crate) const INF: f32 = f32::INFINITY;

/// A value occupant: producer node in the high half, cycle in the low half.
pub(crate) type Owner = u64;

pub(crate) fn owner(node: usize, cycle: i64) -> Owner {
    ((node as u64) << 32) | (cycle as u64 & 0xFFFF_FFFF)
}

/// Static description of the array used by the router.
pub(crate) struct Fabric {
    pub pes: usize,
    /// Directed links `(from, to)`.
    pub links: Vec<(PeId, PeId)>,
    /// Incoming links per PE: `(link id, from)`.
    pub in_links: Vec<Vec<(usize, usize)>>,
    /// Outgoing links per PE: `(link id, to)`.
    pub out_links: Vec<Vec<(usize, usize)>>,
    pub max_hops: usize,
    pub rf_size: usize,
    pub banks: usize,
}

impl Fabric {
    pub fn new(arch: &CgraSpec) -> Self {
        let pes = arch.pe_count();
        let mut links = Vec::new();
        let mut in_links = vec![Vec::new(); pes];
        let mut out_links = vec![Vec::new(); pes];
        for p in 0..pes {
            for q in arch.neighbours(p as PeId) {
                let id = links.len();
                links.push((p as PeId, q));
                out_links[p].push((id, q as usize));
                in_links[q as usize].push((id, p));
            }
        }
        Self {
            pes,
            links,
            in_links,
            out_links,
            max_hops: arch.interconnect.max_hops_per_cycle.max(1) as usize,
            rf_size: arch.rf_size as usize,
            banks: arch.memory.banks.len(),
        }
    }
}

/// Dense modulo occupancy tables with negotiated-congestion costs.
pub(crate) struct Occ {
    pub ii: usize,
    off_out: usize,
    off_rf: usize,
    off_link: usize,
    off_bank: usize,
    cap: Vec<u16>,
    base: Vec<f32>,
    pub hist: Vec<f32>,
    /// Occupants with reference counts (routes of one value may share a resource).
    owners: Vec<Vec<(Owner, u32)>>,
    pub present_factor: f32,
    /// Sum over resources of `max(0, occupants - capacity)`.
    pub total_overuse: i64,
}

impl Occ {
    pub fn new(f: &Fabric, arch: &CgraSpec, ii: usize) -> Self {
        let p = f.pes;
        let off_out = p * ii;
        let off_rf = off_out + p * ii;
        let off_link = off_rf + p * ii;
        let off_bank = off_link + f.links.len() * ii;
        let total = off_bank + f.banks * ii;
        let mut cap = vec![1u16; total];
        let mut base = vec![1.0f32; total];
        for r in off_out..off_rf {
            // Holding a value in the output register is cheap but blocks the PE's next result.
            base[r] = 0.3;
        }
        for r in off_rf..off_link {
            cap[r] = f.rf_size as u16;
            base[r] = 0.5;
        }
        for b in 0..f.banks {
            for s in 0..ii {
                cap[off_bank + b * ii + s] = arch.memory.banks[b].ports;
            }
        }
        Self {
            ii,
            off_out,
            off_rf,
            off_link,
            off_bank,
            cap,
            base,
            hist: vec![0.0; total],
            owners: vec![Vec::new(); total],
            present_factor: 0.5,
            total_overuse: 0,
        }
    }

    #[inline]
    pub fn slot(&self, cycle: i64) -> usize {
        cycle.rem_euclid(self.ii as i64) as usize
    }
    #[inline]
    pub fn fu(&self, pe: usize, cycle: i64) -> usize {
        pe * self.ii + self.slot(cycle)
    }
    #[inline]
    pub fn out(&self, pe: usize, cycle: i64) -> usize {
        self.off_out + pe * self.ii + self.slot(cycle)
    }
    #[inline]
    pub fn rf(&self, pe: usize, cycle: i64) -> usize {
        self.off_rf + pe * self.ii + self.slot(cycle)
    }
    #[inline]
    pub fn link(&self, link: usize, cycle: i64) -> usize {
        self.off_link + link * self.ii + self.slot(cycle)
    }
    #[inline]
    pub fn bank(&self, bank: usize, cycle: i64) -> usize {
        self.off_bank + bank * self.ii + self.slot(cycle)
    }
    pub fn len(&self) -> usize {
        self.cap.len()
    }
    pub fn is_fu_or_bank(&self, r: usize) -> bool {
        r < self.off_out || r >= self.off_bank
    }
    pub fn is_out(&self, r: usize) -> bool {
        (self.off_out..self.off_rf).contains(&r)
    }

    /// Cost of adding `who` to resource `r` (0 when `who` already holds it).
    #[inline]
    pub fn cost(&self, r: usize, who: Owner) -> f32 {
        let o = &self.owners[r];
        if o.iter().any(|x| x.0 == who) {
            return 0.0;
        }
        let over = (o.len() + 1).saturating_sub(self.cap[r] as usize) as f32;
        (self.base[r] + self.hist[r]) * (1.0 + self.present_factor * over)
    }

    pub fn add(&mut self, r: usize, who: Owner) {
        let cap = self.cap[r] as usize;
        let o = &mut self.owners[r];
        if let Some(x) = o.iter_mut().find(|x| x.0 == who) {
            x.1 += 1;
            return;
        }
        if o.len() >= cap {
            self.total_overuse += 1;
        }
        o.push((who, 1));
    }

    pub fn remove(&mut self, r: usize, who: Owner) {
        let cap = self.cap[r] as usize;
        let o = &mut self.owners[r];
        if let Some(i) = o.iter().position(|x| x.0 == who) {
            o[i].1 -= 1;
            if o[i].1 == 0 {
                o.swap_remove(i);
                if o.len() >= cap {
                    self.total_overuse -= 1;
                }
            }
        }
    }

    pub fn overuse(&self, r: usize) -> usize {
        self.owners[r].len().saturating_sub(self.cap[r] as usize)
    }

    pub fn owners(&self, r: usize) -> &[(Owner, u32)] {
        &self.owners[r]
    }

    /// PathFinder history update: every overused resource becomes dearer for good.
    pub fn bump_history(&mut self, amount: f32) {
        for r in 0..self.cap.len() {
            let over = self.overuse(r);
            if over > 0 {
                self.hist[r] += amount * over as f32;
            }
        }
    }
}

/// Where a value sits at the start of a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// The producer's output register.
    Out,
    /// Some register of this PE's register file.
    Rf(usize),
}

/// One cycle of a route: read `from` in `cycle`, cross `path`, write `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub cycle: i64,
    pub from: Place,
    pub path: Vec<usize>,
    /// `None`: the consumer's operand (last step).
    pub to: Option<Place>,
}

/// A forward routing search from one producer: the cheapest way to deliver its value to
/// any PE's operand input at any cycle in `[start, end]`.
pub(crate) struct Forward {
    pub start: i64,
    pub end: i64,
    src_pe: usize,
    pes: usize,
    layers: usize,
    /// `[cycle][layer][pe]` best cost with at most `layer` hops in that cycle.
    lay: Vec<f32>,
    /// `[cycle][layer][pe]`: PE before the last hop (`u32::MAX`: no hop at this layer).
    pred: Vec<u32>,
    /// `[cycle][pe]`: layer 0 came from the output register (else from the register file).
    from_out: Vec<bool>,
}

impl Forward {
    #[inline]
    fn at(&self, c: i64, h: usize, q: usize) -> usize {
        ((c - self.start) as usize * self.layers + h) * self.pes + q
    }

    /// Cost of delivering the value as an operand at PE `q` in cycle `c` with at most
    /// `hops` hops in that last cycle.
    #[inline]
    pub fn deliver(&self, q: usize, c: i64, hops: usize) -> f32 {
        if c < self.start || c > self.end {
            return INF;
        }
        self.lay[self.at(c, hops.min(self.layers - 1), q)]
    }

    /// Run the search for value `node` produced on `src_pe`, available from cycle `start`.
    pub fn run(f: &Fabric, occ: &Occ, node: usize, src_pe: usize, start: i64, end: i64) -> Self {
        let pes = f.pes;
        let layers = f.max_hops + 1;
        let cycles = (end - start + 1).max(0) as usize;
        let mut s = Self {
            start,
            end,
            src_pe,
            pes,
            layers,
            lay: vec![INF; cycles * layers * pes],
            pred: vec![u32::MAX; cycles * layers * pes],
            from_out: vec![false; cycles * pes],
        };
        if cycles == 0 {
            return s;
        }
        let mut rf_cost = vec![INF; pes];
        let mut out_cost = 0.0f32;
        for c in start..=end {
            let ci = (c - start) as usize;
            let w = owner(node, c);
            if c > start {
                out_cost += occ.cost(occ.out(src_pe, c), w);
            }
            // Layer 0: the value is at PE q without crossing a link.
            for q in 0..pes {
                let mut best = rf_cost[q];
                let mut fo = false;
                if q == src_pe && out_cost < best {
                    best = out_cost;
                    fo = true;
                }
                let i = s.at(c, 0, q);
                s.lay[i] = best;
                s.from_out[ci * pes + q] = fo;
            }
            for h in 1..layers {
                for q in 0..pes {
                    let i_prev = s.at(c, h - 1, q);
                    let mut best = s.lay[i_prev];
                    let mut bp = u32::MAX;
                    for &(l, p) in &f.in_links[q] {
                        let base = s.lay[s.at(c, h - 1, p)];
                        if base == INF {
                            continue;
                        }
                        let v = base + occ.cost(occ.link(l, c), w);
                        if v < best {
                            best = v;
                            bp = p as u32;
                        }
                    }
                    let i = s.at(c, h, q);
                    s.lay[i] = best;
                    s.pred[i] = bp;
                }
            }
            // Write into a register file at the end of c: held from c + 1.
            let wn = owner(node, c + 1);
            for (q, rc) in rf_cost.iter_mut().enumerate() {
                let v = s.lay[s.at(c, layers - 1, q)];
                *rc = if v == INF {
                    INF
                } else {
                    v + occ.cost(occ.rf(q, c + 1), wn)
                };
            }
        }
        s
    }

    /// The steps of the cheapest delivery at PE `q` in cycle `c` (latest step last).
    pub fn backtrack(&self, q: usize, c: i64, hops: usize) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut cur_q = q;
        let mut cur_c = c;
        let mut layer = hops.min(self.layers - 1);
        let mut to: Option<Place> = None;
        loop {
            let mut path = Vec::new();
            let mut p = cur_q;
            let mut h = layer;
            while h > 0 {
                let pr = self.pred[self.at(cur_c, h, p)];
                if pr != u32::MAX {
                    path.push(p);
                    p = pr as usize;
                }
                h -= 1;
            }
            path.reverse();
            let ci = (cur_c - self.start) as usize;
            let from_out = self.from_out[ci * self.pes + p];
            let from = if from_out { Place::Out } else { Place::Rf(p) };
            steps.push(Step {
                cycle: cur_c,
                from,
                path,
                to,
            });
            if from_out {
                break;
            }
            // The value was written into Rf(p) at the end of cur_c - 1.
            to = Some(Place::Rf(p));
            cur_q = p;
            cur_c -= 1;
            layer = self.layers - 1;
            debug_assert!(cur_c >= self.start);
        }
        steps.reverse();
        let _ = self.src_pe;
        steps
    }
}

/// A backward routing search towards one consumer operand: the cheapest way for a value
/// sitting in the output register of PE `p` at cycle `c` to reach the target.
pub(crate) struct Backward {
    pub start: i64,
    pub end: i64,
    pes: usize,
    /// `[cycle][pe]`: cost-to-go from the output register of `pe` at `cycle`.
    out: Vec<f32>,
}

impl Backward {
    /// Cost from the output register of `pe` holding the value from cycle `c` on.
    #[inline]
    pub fn cost_from_out(&self, pe: usize, c: i64) -> f32 {
        if c < self.start || c > self.end {
            return INF;
        }
        self.out[(c - self.start) as usize * self.pes + pe]
    }

    /// `node` is the producer (the candidate); the target is `target_pe`'s operand at
    /// `target_cycle`, reached with at most `target_hops` hops in the last cycle.
    pub fn run(
        f: &Fabric,
        occ: &Occ,
        node: usize,
        target_pe: usize,
        target_cycle: i64,
        target_hops: usize,
        start: i64,
    ) -> Self {
        let pes = f.pes;
        let end = target_cycle;
        let cycles = (end - start + 1).max(0) as usize;
        let mut s = Self {
            start,
            end,
            pes,
            out: vec![INF; cycles * pes],
        };
        if cycles == 0 {
            return s;
        }
        // rf_next[q]: cost-to-go of the value sitting in Rf(q) at cycle c + 1.
        let mut rf_next = vec![INF; pes];
        let mut cur = vec![INF; pes];
        let mut nxt = vec![INF; pes];
        for c in (start..=end).rev() {
            let w = owner(node, c);
            let hops;
            if c == end {
                cur.iter_mut().for_each(|x| *x = INF);
                cur[target_pe] = 0.0;
                hops = target_hops;
            } else {
                let wn = owner(node, c + 1);
                for q in 0..pes {
                    cur[q] = if rf_next[q] == INF {
                        INF
                    } else {
                        rf_next[q] + occ.cost(occ.rf(q, c + 1), wn)
                    };
                }
                hops = f.max_hops;
            }
            // Reverse hop relaxation: cur[p] = cheapest from PE p's crossbar in cycle c.
            for _ in 0..hops {
                nxt.copy_from_slice(&cur);
                for p in 0..pes {
                    for &(l, q) in &f.out_links[p] {
                        if cur[q] == INF {
                            continue;
                        }
                        let v = cur[q] + occ.cost(occ.link(l, c), w);
                        if v < nxt[p] {
                            nxt[p] = v;
                        }
                    }
                }
                std::mem::swap(&mut cur, &mut nxt);
            }
            let ci = (c - start) as usize;
            for p in 0..pes {
                let hold = if c < end {
                    let later = s.out[(ci + 1) * pes + p];
                    if later == INF {
                        INF
                    } else {
                        later + occ.cost(occ.out(p, c + 1), owner(node, c + 1))
                    }
                } else {
                    INF
                };
                s.out[ci * pes + p] = cur[p].min(hold);
            }
            rf_next.copy_from_slice(&cur);
        }
        s
    }
}
