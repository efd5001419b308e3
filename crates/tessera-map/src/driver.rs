//! The mapping driver: MII analysis, then the heuristic mapper at II = MII, MII + 1, ...
//! until a mapping passes the independent checker, within a time budget. With COMPOSE on,
//! [`map_composed`] tries a few chained IIs and the unchained search, and keeps the faster.
//!
//! Every mapping returned has passed [`check::check`]. A mapping the checker rejects is a
//! mapper bug: that II counts as failed, with the violations as its reason, and the driver
//! moves on (so the bug is visible in `failed_iis` instead of silently producing a wrong
//! mapping).

use crate::check;
use crate::error::MapError;
use crate::heuristic;
use crate::mapping::Mapping;
use crate::mii::{self, MiiReport};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;

pub use crate::heuristic::{CancelFlag, MapOptions};

/// COMPOSE: a chained II is tried only when the kernel's FU ops leave at least one FU slot
/// free (`fu_ops < PEs x II`). A chained op must run in its producer's cycle on a
/// neighbouring PE, which a full modulo schedule leaves no room to arrange. Measured on
/// `workloads/kernels` and the Morpher corpus, both COMPOSE presets, mapper seeds 1-3
/// (825 chained attempts, 2026-12-06): none of the 184 that mapped filled more than 92 % of
/// the FU slots, and the 16 above 95 % all failed (`adpcm_decode` at II 2 fills all 32: 2 ms
/// of failed attempts per preset).
pub const CHAIN_FU_SLACK: u32 = 1;

/// Share of the remaining time budget one II may spend before the driver moves on.
const PER_II_TIME_SHARE: f64 = 0.35;
/// Attempts at II = MII of a recurrence-bound kernel, as a multiple of
/// `MapOptions::attempts_per_ii` (chosen on the Morpher corpus on hycube-4x4: 4 reaches the
/// MII of jpeg_fdct LN2, 8 also of jpeg_fdct LN1; the per-II time share still bounds them).
const MII_ATTEMPTS_FACTOR: u32 = 8;
/// Largest array (in PEs) that gets [`MII_ATTEMPTS_FACTOR`]: on larger arrays one attempt
/// costs several times more (mesh-8x8 on the Morpher corpus: p95 mapping time 7.6 s with
/// 4 x the attempts, 4.2 s without, at about the same IIs).
const MII_ATTEMPTS_MAX_PES: usize = 16;

/// A successful mapping with what it took to get there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapOutcome {
    pub mapping: Mapping,
    pub mii: MiiReport,
    /// Why each II tried before the final one failed (from the MII up).
    pub failed_iis: Vec<(u32, String)>,
    /// Wall time of MII analysis plus mapping, in milliseconds.
    pub time_ms: f64,
    /// COMPOSE: whether the search without chaining ran too ([`map_composed`] skips it
    /// when a chained mapping takes no more cycles than any unchained one can). `false`
    /// with composition off.
    pub unchained_searched: bool,
}

/// Map `kernel` on `arch` at the lowest II the heuristic mapper reaches (on meshes of more
/// than 16 PEs, starting from a mapping on the top-left quadrant: see `src/embed.rs`).
///
/// With COMPOSE on, see [`map_composed`]: composition never makes a kernel slower (in static
/// cycles) than mapping it without chaining.
pub fn map_kernel(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
) -> Result<MapOutcome, MapError> {
    map_kernel_judged(kernel, arch, opts, None)
}

/// Refuse II options above the array's configuration depth (`arch.max_ii`: each PE holds at
/// most that many configurations, so no II above it can run). The driver never caps such a
/// request silently; the message says how to raise the depth (a spec override) or what to
/// lower. `max_ii`/`fixed_ii` are [`MapOptions::max_ii`] and [`MapOptions::fixed_ii`].
pub fn check_ii_options(
    arch: &CgraSpec,
    max_ii: Option<u32>,
    fixed_ii: Option<u32>,
) -> Result<(), MapError> {
    use tessera_arch::Spec;
    let fix = |ii: u32| {
        if CgraSpec::preset_names().contains(&arch.name.as_str()) {
            format!(
                "raise it with a spec override, e.g. --arch '(preset: \"{}\", set: {{\"max_ii\": {ii}}})'",
                arch.name
            )
        } else {
            format!("raise it by setting `max_ii: {ii}` in the spec")
        }
    };
    if fixed_ii == Some(0) || max_ii == Some(0) {
        return Err(MapError::BadOption(
            "an II of 0 was asked for; the II is at least 1".to_string(),
        ));
    }
    if let Some(ii) = fixed_ii
        && ii > arch.max_ii
    {
        return Err(MapError::BadOption(format!(
            "II {ii} exceeds the configuration depth of `{}` (max_ii = {}); lower the II or {}",
            arch.name,
            arch.max_ii,
            fix(ii)
        )));
    }
    if let Some(ii) = max_ii
        && ii > arch.max_ii
    {
        return Err(MapError::BadOption(format!(
            "highest II {ii} exceeds the configuration depth of `{}` (max_ii = {}); lower it to {} or {}",
            arch.name,
            arch.max_ii,
            arch.max_ii,
            fix(ii)
        )));
    }
    Ok(())
}

/// Measures a mapping: its cycles on the inputs of seed `seed` (for example a cycle-level
/// simulation), or `None` when it cannot tell. See [`map_kernel_judged`]; the seed is
/// recorded in the chosen mapping's provenance (`judge_seed`) when the judge decided.
#[derive(Clone, Copy)]
pub struct Judge<'a> {
    pub seed: u64,
    pub cycles: &'a dyn Fn(&Mapping) -> Option<u64>,
}

/// [`map_kernel`], with COMPOSE choosing between a chained and an unchained mapping by
/// `judge` when the kernel has memory ops of unknown bank ([`unknown_bank_ii`]): their
/// run-time bank conflicts are not in the static cycle count, so a lower II may still run
/// longer. (`tessera-map` does not simulate; the CLI passes the simulator here.)
pub fn map_kernel_judged(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
    judge: Option<Judge>,
) -> Result<MapOutcome, MapError> {
    check_ii_options(arch, opts.max_ii, opts.fixed_ii)?;
    if !arch.compose.enabled || opts.fixed_ii.is_some() {
        return cancellable(opts, || map_kernel_any(kernel, arch, opts));
    }
    map_composed(kernel, arch, opts, judge)
}

/// Run a mapping under `opts.cancel`: a flag set before or during it gives
/// `MapError::Cancelled` (whatever the stopped search returned).
fn cancellable(
    opts: &MapOptions,
    f: impl FnOnce() -> Result<MapOutcome, MapError>,
) -> Result<MapOutcome, MapError> {
    if opts.cancel.is_cancelled() {
        return Err(MapError::Cancelled);
    }
    let out = f();
    if opts.cancel.is_cancelled() {
        return Err(MapError::Cancelled);
    }
    out
}

/// COMPOSE search. Chaining can only lower the II below the baseline MII (at or above the
/// baseline recurrence bound the composed search is the baseline one), and a chained II
/// that fails costs several times a baseline mapping, so few chained IIs are tried:
///
/// 1. the timing-aware MII, chained: when it maps in no more cycles than any unchained
///    mapping can take ([`unchained_cycles_lower_bound`]), it is returned at once and the
///    unchained search is skipped;
/// 2. otherwise the chained IIs from the timing-aware MII + 1 up to the highest below the
///    baseline MII are tried until one maps. After the first that fails, the highest is
///    tried: when it fails too, chaining is given up (on the Morpher corpus most kernels
///    whose chained IIs all fail fail there too, and a failure costs far more than a
///    success); when it maps, the climb goes on (chained feasibility is not monotone in
///    the II: crc32 maps at 12 and 15 but not at 13, 14 or 16). A chained mapping found
///    here that beats the same bound as in step 1 is returned without the unchained
///    search;
/// 3. otherwise the kernel is mapped without chaining (II_b). When the memory ops of
///    unknown bank ([`unknown_bank_ii`]) bound every II below the baseline MII, steps 1
///    and 2 are taken only after this one, and only when II_b misses that bound (otherwise
///    no chained mapping can be faster and II_b is returned);
/// 4. the mapping with fewer cycles is kept (ties keep the chained one), so composition
///    never makes a kernel slower in static cycles. With a `judge`
///    ([`map_kernel_judged`]) and memory ops of unknown bank, the judge's cycles decide
///    instead (and step 1 compares the judged chained cycles with the unchained bound),
///    because those ops' run-time bank conflicts are not in the static count. Cycles count at least
///    [`unknown_bank_ii`] per iteration: memory ops of unknown bank (pointer accesses) may
///    all hit one bank at run time, which a lower II cannot beat; between two mappings
///    both held to that bound, the shorter schedule wins.
///
/// Every mapping returned passes the checker with composition on. `failed_iis` lists the
/// IIs tried that failed, and why.
pub fn map_composed(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
    judge: Option<Judge>,
) -> Result<MapOutcome, MapError> {
    cancellable(opts, || map_composed_inner(kernel, arch, opts, judge))
}

fn map_composed_inner(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
    judge: Option<Judge>,
) -> Result<MapOutcome, MapError> {
    check_ii_options(arch, opts.max_ii, opts.fixed_ii)?;
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(opts.time_limit_s.max(0.0));
    let mut off = arch.clone();
    off.compose.enabled = false;
    let report = mii::analyze_with(kernel, arch, opts.replicate)?;
    let base_report = baseline_report(&report, kernel, &off, opts.replicate);
    let base_mii = base_report.mii;
    let max_ii = opts.max_ii.unwrap_or(arch.max_ii).min(arch.max_ii).max(1);
    // Memory ops of unknown bank (no array named, or an address the footprint analysis
    // cannot bound) may all hit one bank at run time and serialise there. Mappings are
    // compared by cycles with the II raised to that serialisation bound (`unknown_ii`), so
    // a lower II that such accesses would stall away does not win over a shorter schedule.
    let unknown_ii = unknown_bank_ii(kernel, arch);
    // Chained IIs whose ops would fill every FU slot are not tried (`CHAIN_FU_SLACK`).
    let pes = arch.pe_count() as u64;
    let full = |ii: u32| u64::from(report.fu_ops) + u64::from(CHAIN_FU_SLACK) > pes * u64::from(ii);
    let mut skipped: Vec<(u32, String)> = Vec::new();
    let mut lo = report.mii.max(1);
    let top = base_mii.saturating_sub(1).min(max_ii);
    while lo <= top && full(lo) {
        skipped.push((
            lo,
            format!(
                "not tried with chaining: its {} ops would fill all {} FU slots ({} PEs x II {lo}), and no chained II that full has mapped (see CHAIN_FU_SLACK)",
                report.fu_ops,
                pes * u64::from(lo),
                pes
            ),
        ));
        lo += 1;
    }
    // The search without chaining, checked with composition on.
    let baseline = |time_limit_s: f64| -> Result<MapOutcome, MapError> {
        let o = MapOptions {
            time_limit_s,
            ..opts.clone()
        };
        let mut b = if crate::embed::quadrant(&off).is_some() {
            map_kernel_any(kernel, &off, &o)?
        } else {
            search(kernel, &off, &o, base_report.clone(), Instant::now())?
        };
        b.mapping.arch = arch.clone();
        check::check(&b.mapping).map_err(|v| {
            MapError::Infeasible {
                max_ii: b.mapping.ii,
                reasons: vec![(
                    b.mapping.ii,
                    format!("mapper bug: the unchained mapping fails the checker with composition on ({} violations)", v.len()),
                )],
            }
        })?;
        Ok(b)
    };
    if lo > top {
        // Nothing to chain: the composed search is the baseline one.
        return baseline(opts.time_limit_s).map(|b| {
            let mut out = finish(b, report, skipped, t0);
            out.unchained_searched = true;
            out
        });
    }
    let left = |share: f64| {
        deadline
            .saturating_duration_since(Instant::now())
            .mul_f64(share)
            .as_secs_f64()
    };
    let mut failed: Vec<(u32, String)> = skipped;
    let probe = |ii: u32, failed: &mut Vec<(u32, String)>| -> Option<MapOutcome> {
        let o = MapOptions {
            fixed_ii: Some(ii),
            time_limit_s: left(PER_II_TIME_SHARE),
            ..opts.clone()
        };
        // Composition maps the whole array (no quadrant embedding), so the probe is the
        // direct search at one II, reusing the MII report.
        match search(kernel, arch, &o, report.clone(), Instant::now()) {
            Ok(out) => Some(out),
            Err(MapError::Infeasible { reasons, .. }) => {
                failed.extend(reasons);
                None
            }
            Err(e) => {
                failed.push((ii, e.to_string()));
                None
            }
        }
    };
    let cost = |m: &Mapping| (effective_cycles(m, unknown_ii), m.total_cycles());
    let floor = unchained_cycles_lower_bound(kernel, &off, base_mii.max(unknown_ii));
    // 1. The timing-aware MII: the best chaining can do. Skipped when the memory ops of
    //    unknown bank already bound every II below the baseline MII: then chaining can
    //    only gain when the baseline misses that bound (checked after it).
    let unknown_bound = unknown_ii > top;
    let mut best = if unknown_bound {
        None
    } else {
        probe(lo, &mut failed)
    };
    // With a judge and memory ops of unknown bank, the chained mapping's judged cycles
    // are compared with a lower bound on any unchained mapping's run (stalls only add to
    // its static cycles, so the bound leaves out the unknown-bank serialisation).
    let judged = judge.filter(|_| unknown_ii > 0);
    let beats_floor = |c: &MapOutcome| match judged {
        Some(j) => (j.cycles)(&c.mapping)
            .is_some_and(|x| x <= unchained_cycles_lower_bound(kernel, &off, base_mii)),
        None => effective_cycles(&c.mapping, unknown_ii) <= floor,
    };
    let early = |c: MapOutcome, failed: Vec<(u32, String)>| {
        let mut out = finish(c, report.clone(), failed, t0);
        out.mapping.provenance.judge_seed = judged.map(|j| j.seed);
        out
    };
    if let Some(c) = &best
        && beats_floor(c)
    {
        return Ok(early(best.take().unwrap(), failed));
    }
    // 2. Chained IIs below the baseline MII, upwards (see the function's docs).
    let climb = |best: &mut Option<MapOutcome>, failed: &mut Vec<(u32, String)>| {
        if best.is_some() || top <= lo {
            return;
        }
        // Upwards from the timing-aware MII + 1 to the first chained II that maps. The
        // first that fails (below the highest) has the highest one tried as well: when
        // that fails too, chaining is given up.
        let mut gated = false;
        for ii in lo + 1..=top {
            if Instant::now() >= deadline || opts.cancel.is_cancelled() || (gated && ii == top) {
                break;
            }
            if let Some(c) = probe(ii, failed) {
                *best = Some(c);
                break;
            }
            if !gated && ii < top {
                gated = true;
                match probe(top, failed) {
                    Some(c) => *best = Some(c),
                    None => break,
                }
            }
        }
    };
    if !unknown_bound {
        climb(&mut best, &mut failed);
        // A chained mapping that beats every unchained one needs no unchained search.
        if let Some(c) = &best
            && beats_floor(c)
        {
            return Ok(early(best.take().unwrap(), failed));
        }
    }
    // 3. The unchained search.
    let base = baseline(left(1.0)).ok();
    if unknown_bound {
        if let Some(b) = &base
            && b.mapping.ii <= unknown_ii
        {
            // Every chained II would run at the unknown-bank bound, which the baseline meets.
            let mut out = finish(base.unwrap(), report, failed, t0);
            out.unchained_searched = true;
            return Ok(out);
        }
        best = probe(lo, &mut failed);
        climb(&mut best, &mut failed);
    }
    // Judged cycles of both mappings, when the judge can measure both.
    let measured = match (&best, &base, judged) {
        (Some(c), Some(b), Some(j)) => (j.cycles)(&c.mapping).zip((j.cycles)(&b.mapping)),
        _ => None,
    };
    let judge_seed = measured.and(judged).map(|j| j.seed);
    let chosen = match (best, base) {
        (Some(c), Some(b)) if measured.is_some_and(|(jc, jb)| jc > jb) => {
            let (jc, jb) = measured.unwrap_or_default();
            failed.push((
                c.mapping.ii,
                format!(
                    "chained mapping found but slower when run ({jc} vs {jb} cycles without chaining: bank conflicts of the memory ops of unknown bank)"
                ),
            ));
            Ok(finish(b, report, failed, t0))
        }
        (Some(c), Some(b)) if measured.is_none() && cost(&c.mapping) > cost(&b.mapping) => {
            failed.push((
                c.mapping.ii,
                if unknown_ii > c.mapping.ii {
                    format!(
                        "chained mapping found but not faster ({} vs {} cycles without chaining, counting at least {unknown_ii} cycles per iteration for the memory ops of unknown bank)",
                        effective_cycles(&c.mapping, unknown_ii),
                        effective_cycles(&b.mapping, unknown_ii)
                    )
                } else {
                    format!(
                        "chained mapping found but slower ({} vs {} cycles without chaining)",
                        c.mapping.total_cycles(),
                        b.mapping.total_cycles()
                    )
                },
            ));
            Ok(finish(b, report, failed, t0))
        }
        (Some(c), _) => Ok(finish(c, report, failed, t0)),
        (None, Some(b)) => Ok(finish(b, report, failed, t0)),
        (None, None) => {
            // Neither found a mapping in the probes: the full composed search decides.
            map_kernel_any(
                kernel,
                arch,
                &MapOptions {
                    time_limit_s: left(1.0),
                    ..opts.clone()
                },
            )
        }
    };
    chosen.map(|mut out| {
        out.mapping.provenance.judge_seed = judge_seed;
        out.unchained_searched = true;
        out
    })
}

/// The MII report of `off` (the array with composition off) from the composed one: the
/// analysis computes both RecMIIs, so only the bound in force and the modulo-slot bound
/// change (the recurrence listing stays the composed one; the driver reports that).
fn baseline_report(
    report: &MiiReport,
    kernel: &Kernel,
    off: &CgraSpec,
    replicate: bool,
) -> MiiReport {
    let mut r = report.clone();
    r.compose = false;
    r.rec_mii = r.rec_mii_baseline;
    let (mii, conflicts) = crate::slot_bound::first_feasible(
        kernel,
        off,
        replicate,
        r.res_mii.max(r.rec_mii).max(1),
        off.max_ii,
    );
    r.mii = mii;
    r.slot_mii = mii;
    r.slot_conflicts = conflicts;
    r
}

/// The outcome with the composed MII report, the failed IIs and the whole search's time.
fn finish(
    mut out: MapOutcome,
    report: MiiReport,
    failed: Vec<(u32, String)>,
    t0: Instant,
) -> MapOutcome {
    // The probes' failures and the final search's own, below the II reached.
    let mut failed: Vec<(u32, String)> = failed
        .into_iter()
        .chain(out.failed_iis.iter().cloned())
        .filter(|(ii, _)| *ii < out.mapping.ii)
        .collect();
    failed.sort_by_key(|(ii, _)| *ii);
    failed.dedup();
    let time_ms = t0.elapsed().as_secs_f64() * 1e3;
    out.mapping.provenance.mii = report.mii;
    out.mapping.provenance.time_ms = time_ms;
    out.mapping.provenance.failed_iis = failed.clone();
    out.failed_iis = failed;
    out.mii = report;
    out.time_ms = time_ms;
    out
}

/// Cycles of `m` with the II raised to `unknown_ii` (see [`unknown_bank_ii`]):
/// `(trip - 1) x max(II, unknown_ii) + schedule length`.
pub fn effective_cycles(m: &Mapping, unknown_ii: u32) -> u64 {
    let trip = m.kernel.trip_count as u64;
    if trip == 0 {
        return 0;
    }
    (trip - 1) * m.ii.max(unknown_ii) as u64 + m.schedule_length() as u64
}

/// Cycles per iteration that the memory ops of unknown bank need if they all hit one bank:
/// `ceil(count / most ports of a bank)` (0 when there are none). A memory op's bank is
/// unknown when no array is named, or when `tessera_ir::footprint` cannot bound its address
/// (a pointer or an index read from memory: the array an imported DFG names is then only a
/// hint, and on the simulator's inputs such accesses do leave it).
pub fn unknown_bank_ii(kernel: &Kernel, arch: &CgraSpec) -> u32 {
    let ranges = tessera_ir::footprint::address_ranges(kernel);
    let unknown = kernel
        .nodes()
        .filter(|(id, n)| {
            n.op.is_memory()
                && (n.array.is_none()
                    || ranges.as_ref().is_none_or(|r| {
                        tessera_ir::footprint::access_bytes(kernel, r, id.index()).is_none()
                    }))
        })
        .count() as u32;
    unknown.div_ceil(arch.max_bank_ports())
}

/// A lower bound on the total cycles of any mapping without chaining: `(trip - 1) x MII`
/// plus the critical path of one iteration (each value edge of distance 0 waits for its
/// producer's latency; operand-less `Const`/`Input` nodes may be immediates and count 0).
pub fn unchained_cycles_lower_bound(kernel: &Kernel, arch: &CgraSpec, mii: u32) -> u64 {
    let trip = kernel.trip_count as u64;
    if trip == 0 {
        return 0;
    }
    let Ok(order) = kernel.topo_order() else {
        return 0;
    };
    let g = &kernel.graph;
    let n = kernel.node_count();
    let source = |v: tessera_ir::NodeId| {
        matches!(g[v].op, tessera_ir::Op::Const | tessera_ir::Op::Input(_))
            && g.edges_directed(v, petgraph::Direction::Incoming)
                .next()
                .is_none()
    };
    let lat = |v: tessera_ir::NodeId| {
        if source(v) {
            0
        } else {
            arch.op_cost(g[v].op.class())
                .map_or(1, |c| c.latency_cycles as u64)
        }
    };
    let mut start = vec![0u64; n];
    let mut len = 0u64;
    for &v in &order {
        let end = start[v.index()] + lat(v);
        len = len.max(end);
        for e in g.edges_directed(v, petgraph::Direction::Outgoing) {
            let w = e.weight();
            if w.distance == 0 && w.carries_value() {
                let t = e.target().index();
                start[t] = start[t].max(end);
            }
        }
    }
    (trip - 1) * mii as u64 + len
}

fn map_kernel_any(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
) -> Result<MapOutcome, MapError> {
    if let Some(out) = crate::embed::map_with_quadrant(kernel, arch, opts, map_kernel_direct) {
        return out;
    }
    map_kernel_direct(kernel, arch, opts)
}

/// [`map_kernel`] on the whole array.
fn map_kernel_direct(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
) -> Result<MapOutcome, MapError> {
    let t0 = Instant::now();
    let report = mii::analyze_with(kernel, arch, opts.replicate)?;
    search(kernel, arch, opts, report, t0)
}

/// The II search of [`map_kernel_direct`] given its MII report.
fn search(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
    report: MiiReport,
    t0: Instant,
) -> Result<MapOutcome, MapError> {
    kernel
        .validate()
        .map_err(|e| MapError::InvalidKernel(e.to_string()))?;
    let max_ii = opts.max_ii.unwrap_or(arch.max_ii).min(arch.max_ii).max(1);
    let (first, last) = match opts.fixed_ii {
        Some(ii) => (ii, ii),
        None => (report.mii.max(1), max_ii),
    };
    let deadline = t0 + Duration::from_secs_f64(opts.time_limit_s.max(0.0));
    let mut failed: Vec<(u32, String)> = Vec::new();
    if first > last || first > arch.max_ii {
        failed.push((
            first,
            if opts.fixed_ii.is_some() {
                format!(
                    "II {first} exceeds the array's configuration depth max_ii = {}",
                    arch.max_ii
                )
            } else {
                format!("MII {first} exceeds the highest II allowed ({max_ii})")
            },
        ));
        return Err(MapError::Infeasible {
            max_ii,
            reasons: failed,
        });
    }
    for ii in first..=last {
        if opts.cancel.is_cancelled() {
            return Err(MapError::Cancelled);
        }
        if Instant::now() >= deadline {
            failed.push((
                ii,
                format!(
                    "time limit of {} s reached before this II was tried",
                    opts.time_limit_s
                ),
            ));
            break;
        }
        // Each II may spend part of the remaining time, so that higher IIs (usually quick)
        // still get their turn; the last allowed II may use all of it.
        let now = Instant::now();
        let ii_deadline = if ii == last {
            deadline
        } else {
            now + deadline
                .saturating_duration_since(now)
                .mul_f64(PER_II_TIME_SHARE)
        };
        // At II = MII of a recurrence-bound kernel the critical recurrences have no slack
        // and most seeded attempts fail: give that II more attempts (still within its
        // share of the time budget), as the lower bound is usually reached there.
        let tight = opts.fixed_ii.is_none()
            && ii == report.mii
            && arch.pe_count() <= MII_ATTEMPTS_MAX_PES
            && report.rec_mii.max(report.slot_mii) > report.res_mii;
        let ii_opts = if tight {
            MapOptions {
                attempts_per_ii: opts.attempts_per_ii.saturating_mul(MII_ATTEMPTS_FACTOR),
                ..opts.clone()
            }
        } else {
            opts.clone()
        };
        match heuristic::map_at_ii_until(kernel, arch, ii, &ii_opts, Some(ii_deadline)) {
            Ok(mut m) => match check::check(&m) {
                Ok(()) => {
                    let time_ms = t0.elapsed().as_secs_f64() * 1e3;
                    m.provenance.mii = report.mii;
                    m.provenance.seed = opts.seed;
                    m.provenance.time_ms = time_ms;
                    m.provenance.failed_iis = failed.clone();
                    return Ok(MapOutcome {
                        mapping: m,
                        mii: report,
                        failed_iis: failed,
                        time_ms,
                        unchained_searched: false,
                    });
                }
                Err(violations) => {
                    let shown: Vec<String> =
                        violations.iter().take(3).map(|v| v.to_string()).collect();
                    failed.push((
                        ii,
                        format!(
                            "mapper bug: the checker rejected the mapping ({} violations: {})",
                            violations.len(),
                            shown.join("; ")
                        ),
                    ));
                }
            },
            Err(why) => failed.push((ii, why)),
        }
    }
    Err(MapError::Infeasible {
        max_ii: last,
        reasons: failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use tessera_arch::spec_io::Spec;

    /// The baseline view of a composed report gives the bounds a separate analysis of the
    /// array with composition off gives, on every bundled kernel and both COMPOSE presets.
    #[test]
    fn baseline_report_matches_a_separate_analysis() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels");
        let mut checked = 0;
        for name in ["compose-4x4", "compose-hycube-4x4"] {
            let arch = CgraSpec::preset(name).unwrap();
            let mut off = arch.clone();
            off.compose.enabled = false;
            for (path, k) in tessera_ir::load::load_dir(&dir).unwrap() {
                let k = k.unwrap();
                for replicate in [true, false] {
                    let composed = mii::analyze_with(&k, &arch, replicate).unwrap();
                    let view = baseline_report(&composed, &k, &off, replicate);
                    let direct = mii::analyze_with(&k, &off, replicate).unwrap();
                    let key = |r: &MiiReport| {
                        (
                            r.mii,
                            r.res_mii,
                            r.rec_mii,
                            r.slot_mii,
                            r.slot_conflicts.clone(),
                            r.compose,
                        )
                    };
                    assert_eq!(key(&view), key(&direct), "{} on {name}", path.display());
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 80);
    }
}
