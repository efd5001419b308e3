//! Sub-array embedding: on a mesh larger than 16 PEs, the driver first maps the kernel on
//! the array's top-left quadrant and lifts that mapping onto the whole array, then searches
//! the whole array only for a lower II.
//!
//! A quadrant of a mesh (4 or 8 neighbours, no wrap-around) is itself a mesh whose links
//! all exist in the full array, with the same PE kinds, register files, op costs and
//! timing; a bank wired to a quadrant PE is wired to it in the full array too. So a valid
//! mapping on the quadrant, with every PE renumbered to its position in the full array and
//! every bank to its full-array index, is a valid mapping on the full array (the lifted
//! mapping is checked again by [`crate::check`] anyway). The quadrant search is quick
//! (16 PEs on an 8x8 array) and reaches, on the full array, the II a same-size array
//! reaches — the heuristic on 64 PEs has a much larger search space and, within its time
//! budget, sometimes ended at a higher II than on mesh-4x4. Not used with COMPOSE (its
//! virtual PEs follow the array's geometry) or on a torus (its wrap-around links differ).

use crate::check;
use crate::driver::{MapOptions, MapOutcome};
use crate::error::MapError;
use crate::mapping::{Loc, Mapping};
use std::time::Instant;
use tessera_arch::cgra::{CgraSpec, PeId, Topology};
use tessera_ir::Kernel;

/// Arrays of at most this many PEs are mapped directly.
const DIRECT_MAX_PES: usize = 16;
/// Share of the time budget the quadrant search may use (assumed; the whole-array search
/// gets the rest).
const QUADRANT_TIME_SHARE: f64 = 0.3;

/// The top-left quadrant of `arch` and, per quadrant bank, its index in `arch`; `None`
/// when the array is small, a torus, or composes.
pub(crate) fn quadrant(arch: &CgraSpec) -> Option<(CgraSpec, Vec<u16>)> {
    if arch.pe_count() <= DIRECT_MAX_PES
        || arch.compose.enabled
        || arch.interconnect.topology == Topology::Torus
    {
        return None;
    }
    let (rows, cols) = (arch.rows.div_ceil(2), arch.cols.div_ceil(2));
    let mut sub = arch.clone();
    sub.name = format!("{} (top-left {rows}x{cols})", arch.name);
    sub.rows = rows;
    sub.cols = cols;
    sub.layout = arch
        .layout
        .iter()
        .take(rows as usize)
        .map(|l| l.chars().take(cols as usize).collect())
        .collect();
    let mut banks = Vec::new();
    sub.memory.banks.clear();
    for (b, bank) in arch.memory.banks.iter().enumerate() {
        let mut bank = bank.clone();
        bank.pes.retain(|&(r, c)| r < rows && c < cols);
        if !bank.pes.is_empty() {
            sub.memory.banks.push(bank);
            banks.push(b as u16);
        }
    }
    Some((sub, banks))
}

/// `m` (on `sub`) renumbered onto `full`.
pub(crate) fn lift(mut m: Mapping, sub: &CgraSpec, full: &CgraSpec, banks: &[u16]) -> Mapping {
    let pe = |p: PeId| {
        let (r, c) = sub.pe_pos(p);
        full.pe_id(r, c)
    };
    let loc = |l: Loc| match l {
        Loc::Out { pe: p } => Loc::Out { pe: pe(p) },
        Loc::Comb { pe: p } => Loc::Comb { pe: pe(p) },
        Loc::Reg { pe: p, reg } => Loc::Reg { pe: pe(p), reg },
        Loc::Operand { pe: p } => Loc::Operand { pe: pe(p) },
    };
    for pl in &mut m.placements {
        pl.pe = pl.pe.map(pe);
    }
    for r in &mut m.routes {
        for s in &mut r.segments {
            s.from = loc(s.from);
            s.to = loc(s.to);
            for p in &mut s.path {
                *p = pe(*p);
            }
        }
    }
    let bank = |b: u16| banks.get(b as usize).copied().unwrap_or(b);
    for b in &mut m.array_banks {
        *b = bank(*b);
    }
    for reps in &mut m.array_replicas {
        for b in reps.iter_mut() {
            *b = bank(*b);
        }
    }
    for b in m.access_banks.iter_mut().flatten() {
        *b = bank(*b);
    }
    m.arch = full.clone();
    m
}

/// Map on the quadrant, lift, then search the whole array below that II with the time
/// left. `None` when the array is mapped directly (see [`quadrant`]) or the II is fixed.
pub(crate) fn map_with_quadrant(
    kernel: &Kernel,
    arch: &CgraSpec,
    opts: &MapOptions,
    direct: impl Fn(&Kernel, &CgraSpec, &MapOptions) -> Result<MapOutcome, MapError>,
) -> Option<Result<MapOutcome, MapError>> {
    if opts.fixed_ii.is_some() {
        return None;
    }
    let (sub, banks) = quadrant(arch)?;
    let t0 = Instant::now();
    let sub_opts = MapOptions {
        time_limit_s: opts.time_limit_s * QUADRANT_TIME_SHARE,
        ..opts.clone()
    };
    let lifted = crate::driver::map_kernel(kernel, &sub, &sub_opts)
        .ok()
        .map(|o| lift(o.mapping, &sub, arch, &banks))
        .filter(|m| check::check(m).is_ok());
    let left_s = (opts.time_limit_s - t0.elapsed().as_secs_f64()).max(0.0);
    let Some(mut m) = lifted else {
        return Some(direct(
            kernel,
            arch,
            &MapOptions {
                time_limit_s: left_s,
                ..opts.clone()
            },
        ));
    };
    let report = match crate::mii::analyze_with(kernel, arch, opts.replicate) {
        Ok(r) => r,
        Err(e) => return Some(Err(e)),
    };
    let mut failed = Vec::new();
    if m.ii > report.mii {
        let below = MapOptions {
            time_limit_s: left_s,
            max_ii: Some(opts.max_ii.map_or(m.ii - 1, |x| x.min(m.ii - 1))),
            ..opts.clone()
        };
        match direct(kernel, arch, &below) {
            Ok(mut o) => {
                o.time_ms = t0.elapsed().as_secs_f64() * 1e3;
                o.mapping.provenance.time_ms = o.time_ms;
                return Some(Ok(o));
            }
            Err(MapError::Infeasible { reasons, .. }) => failed = reasons,
            Err(e) => return Some(Err(e)),
        }
    }
    let time_ms = t0.elapsed().as_secs_f64() * 1e3;
    m.provenance.mii = report.mii;
    m.provenance.time_ms = time_ms;
    m.provenance.failed_iis = failed.clone();
    Some(Ok(MapOutcome {
        mapping: m,
        mii: report,
        failed_iis: failed,
        time_ms,
        unchained_searched: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_arch::Spec;
    use tessera_ir::{ArrayDecl, ArrayDir, KernelSource, Node, Op, Operand, Width};

    /// `s += a[0] * b[0]` with the sum stored to `o` every iteration.
    fn mac() -> Kernel {
        let mut k = Kernel::new("mac", KernelSource::Built);
        for (name, base, dir) in [
            ("a", 0, ArrayDir::In),
            ("b", 64, ArrayDir::In),
            ("o", 128, ArrayDir::Out),
        ] {
            k.arrays.push(ArrayDecl {
                name: name.into(),
                width: Width::Word,
                signed: true,
                len: 4,
                base,
                dir,
                init_range: None,
                elem: Default::default(),
            });
        }
        let load = |k: &mut Kernel, a: u16, base: i32| {
            k.add_node(
                Node::new(Op::Load {
                    width: Width::Word,
                    signed: true,
                })
                .with_imm(base)
                .with_array(a),
            )
        };
        let la = load(&mut k, 0, 0);
        let lb = load(&mut k, 1, 64);
        let m = k.add_node(Node::new(Op::Mul));
        let s = k.add_node(Node::new(Op::Add));
        let st = k.add_node(
            Node::new(Op::Store { width: Width::Word })
                .with_imm(128)
                .with_array(2),
        );
        k.add_edge(la, m, Operand::data(0));
        k.add_edge(lb, m, Operand::data(1));
        k.add_edge(m, s, Operand::data(0));
        k.add_edge(s, s, Operand::carried(1, 1, 0));
        k.add_edge(s, st, Operand::data(0));
        k.trip_count = 4;
        k.validate().unwrap();
        k
    }

    #[test]
    fn a_quadrant_mapping_lifts_onto_the_full_mesh() {
        let full = CgraSpec::load("mesh-8x8").unwrap();
        let (sub, banks) = quadrant(&full).expect("64 PEs");
        assert_eq!((sub.rows, sub.cols, sub.pe_count()), (4, 4, 16));
        assert_eq!(banks.len(), sub.memory.banks.len());
        let k = mac();
        let o = crate::driver::map_kernel(&k, &sub, &MapOptions::default()).unwrap();
        let lifted = lift(o.mapping.clone(), &sub, &full, &banks);
        check::check(&lifted).unwrap();
        for (a, b) in o.mapping.placements.iter().zip(&lifted.placements) {
            if let (Some(p), Some(q)) = (a.pe, b.pe) {
                assert_eq!(sub.pe_pos(p), full.pe_pos(q));
            }
        }
        // The driver on the full mesh is never worse than its quadrant.
        let whole = crate::driver::map_kernel(&k, &full, &MapOptions::default()).unwrap();
        assert!(whole.mapping.ii <= o.mapping.ii);
        check::check(&whole.mapping).unwrap();
        // Small arrays, tori and COMPOSE are mapped directly.
        assert!(quadrant(&sub).is_none());
        assert!(quadrant(&CgraSpec::load("torus-8x8").unwrap()).is_none());
    }
}
