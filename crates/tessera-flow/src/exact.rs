//! The exact mapping search: the MILP at II = MII, MII + 1, ... (or one fixed II) until one
//! maps, with the heuristic's mapping as a MIP start at its II — the search of
//! `tessera map --exact`, for every front end.

use serde::{Deserialize, Serialize};
use tessera_arch::cgra::CgraSpec;
use tessera_ir::Kernel;
use tessera_map::Mapping;
use tessera_map::driver::{self, CancelFlag, MapOptions};
use tessera_map::error::MapError;
use tessera_map::exact::{self, ExactOptions, ExactOutcome};

/// Options of the exact search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExactSearch {
    pub map_seed: u64,
    /// Wall-time budget of the whole search, in seconds.
    pub time_limit_s: f64,
    /// Highest II to try (capped at the array's configuration depth).
    pub max_ii: Option<u32>,
    /// Try only this II.
    pub ii: Option<u32>,
}

/// A mapping found by the exact search.
#[derive(Debug, Clone)]
pub struct ExactFound {
    pub mapping: Mapping,
    /// Why each II tried before it failed (proved infeasible, or stopped without proof).
    pub failed_iis: Vec<(u32, String)>,
    pub time_ms: f64,
    /// `Some(true)` when every lower II from the MII up was proved infeasible (`None` with
    /// a fixed II).
    pub proved_minimal: Option<bool>,
}

/// Map `kernel` exactly from `mii` up (see the module docs). Every mapping returned passed
/// the checker (inside `tessera_map::exact`).
pub fn map_exact_search(
    kernel: &Kernel,
    arch: &CgraSpec,
    mii: u32,
    o: &ExactSearch,
) -> Result<ExactFound, MapError> {
    map_exact_search_cancellable(kernel, arch, mii, o, &CancelFlag::default())
}

/// [`map_exact_search`] that stops when `cancel` is set (the GUI's cancel): the heuristic's
/// MIP start stops at its next check, and the search before the next II's MILP (one MILP
/// already running finishes or reaches its time limit); the result is
/// `MapError::Cancelled`.
pub fn map_exact_search_cancellable(
    kernel: &Kernel,
    arch: &CgraSpec,
    mii: u32,
    o: &ExactSearch,
    cancel: &CancelFlag,
) -> Result<ExactFound, MapError> {
    let t0 = std::time::Instant::now();
    let limit = o.time_limit_s;
    driver::check_ii_options(arch, o.max_ii, o.ii)?;
    let max_ii = o.max_ii.unwrap_or(arch.max_ii);
    let (first, last) = match o.ii {
        Some(ii) => (ii, ii),
        None => (mii.max(1), max_ii),
    };
    // The heuristic's mapping (if any) is a MIP start at its II.
    let heuristic = driver::map_kernel(
        kernel,
        arch,
        &MapOptions {
            seed: o.map_seed,
            max_ii: Some(last),
            fixed_ii: o.ii,
            time_limit_s: (limit / 4.0).min(10.0),
            replicate: false,
            cancel: cancel.clone(),
            ..MapOptions::default()
        },
    )
    .ok()
    .map(|out| out.mapping);
    let mut failed = Vec::new();
    let mut proved = true;
    for ii in first..=last {
        if cancel.is_cancelled() {
            return Err(MapError::Cancelled);
        }
        let left = limit - t0.elapsed().as_secs_f64();
        if left <= 0.0 {
            failed.push((
                ii,
                format!("time limit of {limit} s reached before this II was tried"),
            ));
            break;
        }
        // Below an II the heuristic already mapped, keep half the time for the IIs above, so
        // a hard proof attempt cannot starve the search of a mapping.
        let budget = match &heuristic {
            Some(h) if h.ii > ii => left / 2.0,
            _ => left,
        };
        let opts = ExactOptions {
            time_limit_s: budget,
            seed: o.map_seed,
            hint: heuristic.clone().filter(|m| m.ii == ii),
            ..ExactOptions::default()
        };
        match exact::map_exact(kernel, arch, ii, &opts)? {
            ExactOutcome::Mapped(m) => {
                let mut m = *m;
                let time_ms = t0.elapsed().as_secs_f64() * 1e3;
                m.provenance.mii = mii;
                m.provenance.time_ms = time_ms;
                m.provenance.failed_iis = failed.clone();
                return Ok(ExactFound {
                    mapping: m,
                    failed_iis: failed,
                    time_ms,
                    proved_minimal: o.ii.is_none().then_some(proved),
                });
            }
            ExactOutcome::Infeasible => failed.push((ii, "proved infeasible by the MILP".into())),
            ExactOutcome::TimedOut => {
                proved = false;
                failed.push((ii, "MILP stopped at the time limit without proof".into()));
            }
            ExactOutcome::NoProof(why) => {
                proved = false;
                failed.push((ii, format!("stopped without proof: {why}")));
            }
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
    use tessera_arch::Spec;

    #[test]
    fn maps_a_small_kernel_at_a_proved_minimal_ii() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels/dot.tk");
        let k = tessera_ir::load::load_kernel(&path, &[]).unwrap();
        let arch = CgraSpec::preset("hycube-4x4").unwrap();
        let mii = tessera_map::mii::analyze(&k, &arch).unwrap().mii;
        let o = ExactSearch {
            map_seed: 1,
            time_limit_s: 60.0,
            max_ii: None,
            ii: None,
        };
        let found = map_exact_search(&k, &arch, mii, &o).unwrap();
        assert!(found.mapping.ii >= mii);
        assert_eq!(found.mapping.provenance.mii, mii);
        if found.mapping.ii == mii {
            assert_eq!(found.proved_minimal, Some(true));
            assert!(found.failed_iis.is_empty());
        }
        assert!(
            tessera_sim::simulate(&found.mapping, 1)
                .unwrap()
                .verification
                .matched
        );
    }

    #[test]
    fn a_cancelled_search_stops_before_its_milp() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads/kernels/dot.tk");
        let k = tessera_ir::load::load_kernel(&path, &[]).unwrap();
        let arch = CgraSpec::preset("hycube-4x4").unwrap();
        let o = ExactSearch {
            map_seed: 1,
            time_limit_s: 60.0,
            max_ii: None,
            ii: None,
        };
        let cancel = CancelFlag::default();
        cancel.cancel();
        let t0 = std::time::Instant::now();
        let out = map_exact_search_cancellable(&k, &arch, 1, &o, &cancel);
        assert_eq!(out.unwrap_err(), MapError::Cancelled);
        assert!(t0.elapsed().as_secs_f64() < 5.0);
    }
}
