//! The mapping driver: MII analysis, then the heuristic mapper at II = MII, MII + 1, ...
//! until a mapping passes the independent checker, within a time budget.
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
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;

pub use crate::heuristic::MapOptions;

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
}

/// Map `kernel` on `arch` at the lowest II the heuristic mapper reaches (on meshes of more
/// than 16 PEs, starting from a mapping on the top-left quadrant: see `src/embed.rs`).
///
/// With COMPOSE on, a chained mapping reaches a lower II but may have a longer schedule of
/// one iteration; on a short loop that can cost more cycles than no chaining. So when the
/// result chains, stays above the baseline MII or composition finds nothing (the chained
/// search spends part of the time budget on low IIs), the kernel is also mapped without chaining
/// and the mapping with fewer total cycles is kept (ties keep the chained one): composition
/// never makes a kernel slower. Both mappings pass the checker with composition on.
pub fn map_kernel(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
) -> Result<MapOutcome, MapError> {
    let out = map_kernel_any(kernel, arch, opts);
    if !arch.compose.enabled || opts.fixed_ii.is_some() {
        return out;
    }
    let mut off = arch.clone();
    off.compose.enabled = false;
    // An unchained result at the baseline MII cannot be beaten without chaining.
    if let Ok(o) = &out
        && !is_chained(&o.mapping)
        && mii::analyze_with(kernel, &off, opts.replicate).is_ok_and(|r| o.mapping.ii <= r.mii)
    {
        return out;
    }
    let Ok(mut base) = map_kernel_any(kernel, &off, opts) else {
        return out;
    };
    base.mapping.arch = arch.clone();
    if check::check(&base.mapping).is_err() {
        return out;
    }
    match out {
        Ok(composed) if composed.mapping.total_cycles() <= base.mapping.total_cycles() => {
            Ok(composed)
        }
        Ok(composed) => {
            let time_ms = composed.time_ms + base.time_ms;
            base.mapping.provenance.mii = composed.mii.mii;
            base.mapping.provenance.time_ms = time_ms;
            base.time_ms = time_ms;
            base.failed_iis.push((
                composed.mapping.ii,
                format!(
                    "chained mapping found but slower ({} vs {} cycles without chaining)",
                    composed.mapping.total_cycles(),
                    base.mapping.total_cycles()
                ),
            ));
            base.mapping.provenance.failed_iis = base.failed_iis.clone();
            base.mii = composed.mii;
            Ok(base)
        }
        Err(_) => Ok(base),
    }
}

/// True when some value is taken combinationally (COMPOSE chaining).
fn is_chained(m: &Mapping) -> bool {
    m.placements.iter().any(|p| !p.registered)
        || m.routes.iter().any(|r| {
            r.segments
                .iter()
                .any(|s| matches!(s.from, crate::mapping::Loc::Comb { .. }))
        })
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
