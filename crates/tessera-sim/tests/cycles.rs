//! `Simulator::run_cycles`: the per-cycle records (the VCD's content, for replay) follow
//! the mapping and the run they come from.

mod common;
use common::mapped_workload;
use tessera_ir::interp::random_inputs;
use tessera_sim::Simulator;

#[test]
fn cycle_records_follow_the_schedule_and_the_run() {
    let (kernel, m) = mapped_workload("fir.tk", "hycube-4x4");
    let arch = m.arch.clone();
    let sim = Simulator::new(&m).unwrap();
    let inputs = random_inputs(&kernel, 3);
    let (run, rows) = sim.run_cycles(&inputs, usize::MAX).unwrap();
    // The same run as without records.
    assert_eq!(run.stats, sim.run(&inputs).unwrap().stats);
    assert_eq!(rows.len() as u64, run.stats.schedule_cycles);
    let mut issued = 0u64;
    let mut squashed = 0u64;
    for (c, row) in rows.iter().enumerate() {
        assert_eq!(row.ops.len(), arch.pe_count());
        assert_eq!(row.out_regs.len(), arch.pe_count());
        if let Some(next) = rows.get(c + 1) {
            assert_eq!(next.wall, row.wall + 1 + row.stall);
        }
        for (pe, op) in row.ops.iter().enumerate() {
            let Some(op) = op else { continue };
            // Issued where and when the mapping places it, for the right iteration.
            let p = m.placements[op.node as usize];
            assert_eq!(p.pe, Some(pe as u16));
            assert_eq!(c as u64, op.iteration * m.ii as u64 + p.cycle as u64);
            if op.squashed {
                squashed += 1;
            } else {
                issued += 1;
            }
        }
    }
    // `ops_issued` counts squashed ops too.
    assert_eq!(issued + squashed, run.stats.ops_issued);
    assert_eq!(squashed, run.stats.ops_squashed);
    // The cap keeps the first cycles only, and the run still completes.
    let (short_run, first) = sim.run_cycles(&inputs, 5).unwrap();
    assert_eq!(first.as_slice(), &rows[..5]);
    assert_eq!(short_run.stats, run.stats);
}

/// Link values in the records: every hop a route configures carries, in each cycle it runs,
/// the value its producer computed for that iteration; as many as the run's link events.
#[test]
fn cycle_records_carry_link_values() {
    for (file, preset) in [("fir.tk", "hycube-4x4"), ("dot.tk", "compose-4x4")] {
        let (kernel, m) = mapped_workload(file, preset);
        let sim = Simulator::new(&m).unwrap();
        let inputs = random_inputs(&kernel, 5);
        let (run, rows) = sim.run_cycles(&inputs, usize::MAX).unwrap();
        assert_eq!(run.stats, sim.run(&inputs).unwrap().stats);
        // Results by (node, iteration).
        let mut result = std::collections::HashMap::new();
        for row in &rows {
            for op in row.ops.iter().flatten() {
                result.insert((op.node, op.iteration), (op.result, op.valid));
            }
        }
        // Configured hops: (slot, from, to) -> producer.
        let ii = m.ii as usize;
        let mut hops = std::collections::HashMap::new();
        for r in &m.routes {
            let (src, _) = m
                .kernel
                .graph
                .edge_endpoints(petgraph::graph::EdgeIndex::new(r.edge as usize))
                .unwrap();
            for s in &r.segments {
                let mut at = s.from.pe();
                for &next in &s.path {
                    hops.insert((s.cycle as usize % ii, at, next), src.index() as u32);
                    at = next;
                }
            }
        }
        let mut total = 0u64;
        for (c, row) in rows.iter().enumerate() {
            assert!(
                row.links
                    .windows(2)
                    .all(|w| (w[0].from, w[0].to) < (w[1].from, w[1].to)),
                "one value per link and cycle, ordered"
            );
            for l in &row.links {
                total += 1;
                assert_eq!(
                    hops.get(&(c % ii, l.from, l.to)),
                    Some(&l.node),
                    "{file}: cycle {c}: link {} -> {} is a hop of a route of node {}",
                    l.from,
                    l.to,
                    l.node
                );
                let p = m.placements[l.node as usize];
                let issued = l.iteration * m.ii as u64 + p.cycle as u64;
                assert!(issued <= c as u64);
                assert_eq!(
                    result.get(&(l.node, l.iteration)),
                    Some(&(l.value, l.valid)),
                    "{file}: cycle {c}: link {} -> {} carries node {} iteration {}",
                    l.from,
                    l.to,
                    l.node,
                    l.iteration
                );
            }
        }
        assert!(total > 0, "{file}: no link carried a value");
        assert_eq!(total, run.stats.link_hops, "{file}");
    }
}

/// Register-file contents in the records: every live register holds, after a cycle, the
/// value its producer computed for that iteration; and every register the mapping's routes
/// keep live (written by one segment, read by a later one of the same route) appears in
/// each cycle of its live range, for each iteration the route runs.
#[test]
fn cycle_records_carry_register_values() {
    use tessera_map::mapping::Loc;
    for (file, preset) in [
        ("fir.tk", "hycube-4x4"),
        ("iir_biquad.tk", "compose-4x4"),
        ("horner.tk", "compose-4x4"),
    ] {
        let (kernel, m) = mapped_workload(file, preset);
        let sim = Simulator::new(&m).unwrap();
        let inputs = random_inputs(&kernel, 7);
        let (run, rows) = sim.run_cycles(&inputs, usize::MAX).unwrap();
        assert_eq!(run.stats, sim.run(&inputs).unwrap().stats);
        let mut result = std::collections::HashMap::new();
        for row in &rows {
            for op in row.ops.iter().flatten() {
                result.insert((op.node, op.iteration), (op.result, op.valid));
            }
        }
        // Live ranges from the routes: (pe, reg, node, first cycle after the write, last
        // cycle before the read, iterations).
        let ii = m.ii as u64;
        let mut ranges = Vec::new();
        for r in &m.routes {
            let e = petgraph::graph::EdgeIndex::new(r.edge as usize);
            let (src, _) = m.kernel.graph.edge_endpoints(e).unwrap();
            let distance = m.kernel.graph[e].distance;
            let count = m.kernel.trip_count.saturating_sub(distance) as u64;
            for (i, s) in r.segments.iter().enumerate() {
                let Loc::Reg { pe, reg } = s.to else { continue };
                if let Some(next) = r.segments.get(i + 1) {
                    assert_eq!(next.from, s.to);
                    ranges.push((
                        pe,
                        reg,
                        src.index() as u32,
                        s.cycle as u64,
                        next.cycle as u64 - 1,
                        count,
                    ));
                }
            }
        }
        let mut total = 0u64;
        for (c, row) in rows.iter().enumerate() {
            let c = c as u64;
            assert!(
                row.regs
                    .windows(2)
                    .all(|w| (w[0].pe, w[0].reg) < (w[1].pe, w[1].reg)),
                "one value per register and cycle, ordered"
            );
            for g in &row.regs {
                total += 1;
                assert_eq!(
                    result.get(&(g.node, g.iteration)),
                    Some(&(g.value, g.valid)),
                    "{file} on {preset}: after cycle {c}: PE {} r{} holds node {} iteration {}",
                    g.pe,
                    g.reg,
                    g.node,
                    g.iteration
                );
                // A route keeps it there at this cycle, for this iteration.
                assert!(
                    ranges.iter().any(|&(pe, reg, node, w, last, count)| {
                        (pe, reg, node) == (g.pe, g.reg, g.node)
                            && g.iteration < count
                            && c >= w + g.iteration * ii
                            && c <= last + g.iteration * ii
                    }),
                    "{file}: after cycle {c}: PE {} r{} = node {} iteration {} is not live",
                    g.pe,
                    g.reg,
                    g.node,
                    g.iteration
                );
            }
        }
        // And each live range shows in every cycle it covers.
        for &(pe, reg, node, w, last, count) in &ranges {
            for k in 0..count {
                for c in w + k * ii..=last + k * ii {
                    let row = &rows[c as usize];
                    assert!(
                        row.regs
                            .iter()
                            .any(|g| (g.pe, g.reg, g.node, g.iteration) == (pe, reg, node, k)),
                        "{file}: after cycle {c}: PE {pe} r{reg} should hold node {node} iteration {k}: {:?}",
                        row.regs
                    );
                }
            }
        }
        assert!(
            total > 0,
            "{file} on {preset}: the mapping keeps no value in a register"
        );
    }
}

/// A mapping whose register writes overlap (every route's registers renamed to r0, so
/// values clobber each other): the run still completes, and after each cycle a live
/// register is recorded once, under the node and iteration of its latest write (what
/// really sits there, not what the schedule meant to keep), as the routes' writes say.
#[test]
fn clobbered_registers_show_their_latest_write() {
    use tessera_map::mapping::Loc;
    let (kernel, mut m) = mapped_workload("fir.tk", "hycube-4x4");
    let mut renamed = 0;
    for r in &mut m.routes {
        for s in &mut r.segments {
            for l in [&mut s.from, &mut s.to] {
                if let Loc::Reg { reg, .. } = l
                    && *reg != 0
                {
                    *reg = 0;
                    renamed += 1;
                }
            }
        }
    }
    assert!(renamed > 0, "fir on hycube-4x4 uses no register but r0");
    // Every write into a register: (pe, cycle, node, iteration).
    let ii = m.ii as u64;
    let mut writes = Vec::new();
    for r in &m.routes {
        let e = petgraph::graph::EdgeIndex::new(r.edge as usize);
        let (src, _) = m.kernel.graph.edge_endpoints(e).unwrap();
        let count = m
            .kernel
            .trip_count
            .saturating_sub(m.kernel.graph[e].distance) as u64;
        for s in &r.segments {
            if let Loc::Reg { pe, .. } = s.to {
                for k in 0..count {
                    writes.push((pe, s.cycle as u64 + k * ii, src.index() as u32, k));
                }
            }
        }
    }
    let sim = Simulator::new(&m).unwrap();
    let inputs = random_inputs(&kernel, 7);
    let (run, rows) = sim.run_cycles(&inputs, usize::MAX).unwrap();
    assert_eq!(run.stats, sim.run(&inputs).unwrap().stats);
    let mut total = 0;
    let mut clobbered = 0;
    for (c, row) in rows.iter().enumerate() {
        let c = c as u64;
        assert!(
            row.regs
                .windows(2)
                .all(|w| (w[0].pe, w[0].reg) < (w[1].pe, w[1].reg))
        );
        for g in &row.regs {
            total += 1;
            assert_eq!(g.reg, 0);
            let last = writes
                .iter()
                .filter(|w| w.0 == g.pe && w.1 <= c)
                .map(|w| w.1)
                .max()
                .expect("a live register was written");
            // Two writes in one cycle: the run's commit order decides; either may win.
            assert!(
                writes
                    .iter()
                    .any(|w| (w.0, w.1, w.2, w.3) == (g.pe, last, g.node, g.iteration)),
                "after cycle {c}: PE {} r0 shows node {} iteration {}, not its latest write (cycle {last})",
                g.pe,
                g.node,
                g.iteration
            );
            if last < c && writes.iter().filter(|w| w.0 == g.pe && w.1 == last).count() == 1 {
                // Held over from an earlier cycle: count the clobbers seen.
                clobbered += writes
                    .iter()
                    .filter(|w| w.0 == g.pe && w.1 < last && w.1 + ii > c)
                    .count();
            }
        }
    }
    assert!(total > 0);
    assert!(clobbered > 0, "renaming to r0 clobbered nothing live");
}
