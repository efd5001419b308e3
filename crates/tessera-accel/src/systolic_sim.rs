//! A cycle-stepped simulator of the systolic array, independent of the analytical model.
//!
//! Every PE is a set of registers; each cycle, operands move one PE right, partial sums or
//! weights one PE down, and a PE multiplies and accumulates only when the operands it holds
//! belong together (each value carries the index it was fed with, and a mismatch is an
//! error). The simulator computes the actual GEMM product and counts the cycles until the
//! last output has left the array, fold by fold. It exists to check
//! [`crate::model::Accelerator::compute_cycles`]; it is far too slow for real layers.

use tessera_arch::accel::Dataflow;

/// Result of simulating a GEMM on the array.
#[derive(Debug, Clone, PartialEq)]
pub struct SimResult {
    /// The product, `m x n`, row-major.
    pub out: Vec<i64>,
    /// Cycles over all folds.
    pub cycles: u64,
    /// Multiply-accumulates the PEs performed.
    pub macs: u64,
    /// Cycles of each fold, in execution order.
    pub fold_cycles: Vec<u64>,
}

/// The simulation found the array doing something wrong (a bug, not bad input).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("bad shape: {0}")]
    BadShape(String),
    #[error("PE ({row}, {col}) at cycle {cycle}: operands out of step ({what})")]
    Misaligned {
        row: usize,
        col: usize,
        cycle: u64,
        what: &'static str,
    },
    #[error("fold left {missing} outputs inside the array")]
    Incomplete { missing: usize },
}

type Tagged = Option<(usize, i64)>;

/// Simulate `(m x k) * (k x n)` on a `rows x cols` array. `a` is `m x k` and `b` is `k x n`,
/// row-major.
#[allow(clippy::too_many_arguments)]
pub fn simulate_gemm(
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
    m: usize,
    n: usize,
    k: usize,
    a: &[i64],
    b: &[i64],
) -> Result<SimResult, SimError> {
    simulate_gemm_tiled(dataflow, rows, cols, m, n, k, a, b, usize::MAX)
}

/// As [`simulate_gemm_tiled`] with `t_chunk` unlimited or given, and optionally with
/// double-buffered stationary registers: each PE has a shadow register that the next fold's
/// tile shifts into (down the separate load path) while the current fold streams; the swap
/// happens when the current fold has drained. Only load cycles that outlast the previous
/// fold's streaming are visible.
#[allow(clippy::too_many_arguments)]
pub fn simulate_gemm_prefetched(
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
    m: usize,
    n: usize,
    k: usize,
    a: &[i64],
    b: &[i64],
    t_chunk: usize,
) -> Result<SimResult, SimError> {
    run(dataflow, rows, cols, m, n, k, a, b, t_chunk, true)
}

/// As [`simulate_gemm`], with the temporal dimension of WS/IS cut into chunks of at most
/// `t_chunk` rows; each chunk runs every fold (column folds outside, chunks, row folds
/// inside). OS ignores `t_chunk`.
#[allow(clippy::too_many_arguments)]
pub fn simulate_gemm_tiled(
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
    m: usize,
    n: usize,
    k: usize,
    a: &[i64],
    b: &[i64],
    t_chunk: usize,
) -> Result<SimResult, SimError> {
    run(dataflow, rows, cols, m, n, k, a, b, t_chunk, false)
}

#[allow(clippy::too_many_arguments)]
fn run(
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
    m: usize,
    n: usize,
    k: usize,
    a: &[i64],
    b: &[i64],
    t_chunk: usize,
    prefetch: bool,
) -> Result<SimResult, SimError> {
    if rows == 0 || cols == 0 || m == 0 || n == 0 || k == 0 || t_chunk == 0 {
        return Err(SimError::BadShape(
            "all dimensions must be at least 1".into(),
        ));
    }
    if a.len() != m * k || b.len() != k * n {
        return Err(SimError::BadShape(format!(
            "a has {} values (want {}), b has {} (want {})",
            a.len(),
            m * k,
            b.len(),
            k * n
        )));
    }
    let (sr, sc, t) = match dataflow {
        Dataflow::OutputStationary => (m, n, k),
        Dataflow::WeightStationary => (k, n, m),
        Dataflow::InputStationary => (k, m, n),
    };
    let mut out = vec![0i64; m * n];
    let mut res = SimResult {
        out: Vec::new(),
        cycles: 0,
        macs: 0,
        fold_cycles: Vec::new(),
    };
    let t_chunk = if dataflow == Dataflow::OutputStationary {
        t
    } else {
        t_chunk.min(t)
    };
    // Streaming cycles of the previous fold, during which a prefetched tile can load.
    let mut prev_stream: Option<u64> = None;
    for fc in 0..sc.div_ceil(cols) {
        for t0 in (0..t).step_by(t_chunk) {
            let tl = t_chunk.min(t - t0);
            for fr in 0..sr.div_ceil(rows) {
                let (br, bc) = (fr * rows, fc * cols);
                let r = rows.min(sr - br);
                let c = cols.min(sc - bc);
                let (load, stream, macs) = match dataflow {
                    Dataflow::OutputStationary => os_fold(
                        rows,
                        cols,
                        r,
                        c,
                        tl,
                        |i, kk| a[(br + i) * k + kk],
                        |kk, j| b[kk * n + bc + j],
                        |i, j, v| out[(br + i) * n + bc + j] = v,
                    )
                    .map(|(c, m)| (0, c, m))?,
                    Dataflow::WeightStationary => stationary_fold(
                        rows,
                        cols,
                        r,
                        c,
                        tl,
                        |i, j| b[(br + i) * n + bc + j],
                        |tt, i| a[(t0 + tt) * k + br + i],
                        |tt, j, v| out[(t0 + tt) * n + bc + j] += v,
                    )?,
                    Dataflow::InputStationary => stationary_fold(
                        rows,
                        cols,
                        r,
                        c,
                        tl,
                        |i, j| a[(bc + j) * k + br + i],
                        |tt, i| b[(br + i) * n + t0 + tt],
                        |tt, j, v| out[(bc + j) * n + t0 + tt] += v,
                    )?,
                };
                let visible_load = match prev_stream {
                    Some(p) if prefetch => load.saturating_sub(p),
                    _ => load,
                };
                prev_stream = Some(stream);
                let cycles = visible_load + stream;
                res.cycles += cycles;
                res.macs += macs;
                res.fold_cycles.push(cycles);
            }
        }
    }
    res.out = out;
    Ok(res)
}

/// Output-stationary fold: row `i` of the streamed `r x T` operand enters the left edge at
/// cycle `i` onward, column `j` of the `T x c` operand enters the top at cycle `j` onward;
/// PEs accumulate; then the accumulators shift down and leave the bottom edge.
#[allow(clippy::too_many_arguments)]
fn os_fold(
    rows: usize,
    cols: usize,
    r: usize,
    c: usize,
    t: usize,
    a_at: impl Fn(usize, usize) -> i64,
    b_at: impl Fn(usize, usize) -> i64,
    mut emit: impl FnMut(usize, usize, i64),
) -> Result<(u64, u64), SimError> {
    let idx = |i: usize, j: usize| i * cols + j;
    let mut a_reg: Vec<Tagged> = vec![None; rows * cols];
    let mut b_reg: Vec<Tagged> = vec![None; rows * cols];
    let mut a_next = a_reg.clone();
    let mut b_next = b_reg.clone();
    let mut acc = vec![0i64; rows * cols];
    let mut macs = 0u64;
    let mut last_mac: Option<usize> = None;
    // All activity ends by cycle (t-1) + (rows-1) + (cols-1).
    for cyc in 0..t + rows + cols {
        for i in 0..rows {
            for j in 0..cols {
                let av = if j == 0 {
                    (i < r && cyc >= i && cyc - i < t).then(|| (cyc - i, a_at(i, cyc - i)))
                } else {
                    a_reg[idx(i, j - 1)]
                };
                let bv = if i == 0 {
                    (j < c && cyc >= j && cyc - j < t).then(|| (cyc - j, b_at(cyc - j, j)))
                } else {
                    b_reg[idx(i - 1, j)]
                };
                if let (Some((ka, va)), Some((kb, vb))) = (av, bv) {
                    if ka != kb {
                        return Err(SimError::Misaligned {
                            row: i,
                            col: j,
                            cycle: cyc as u64,
                            what: "ifmap and filter indices differ",
                        });
                    }
                    acc[idx(i, j)] += va * vb;
                    macs += 1;
                    last_mac = Some(cyc);
                }
                a_next[idx(i, j)] = av;
                b_next[idx(i, j)] = bv;
            }
        }
        std::mem::swap(&mut a_reg, &mut a_next);
        std::mem::swap(&mut b_reg, &mut b_next);
    }
    let mac_phase = last_mac.map_or(0, |c| c + 1) as u64;
    // Drain: every cycle the bottom row leaves and the rest shift down one row.
    let mut vals: Vec<Tagged> = (0..rows * cols)
        .map(|p| {
            let (i, j) = (p / cols, p % cols);
            (i < r && j < c).then(|| (i, acc[p]))
        })
        .collect();
    let mut remaining = r * c;
    let mut drain = 0u64;
    while remaining > 0 {
        if drain > (rows + 1) as u64 {
            return Err(SimError::Incomplete { missing: remaining });
        }
        drain += 1;
        for j in 0..cols {
            if let Some((orig_row, v)) = vals[idx(rows - 1, j)] {
                emit(orig_row, j, v);
                remaining -= 1;
            }
            for i in (1..rows).rev() {
                vals[idx(i, j)] = vals[idx(i - 1, j)];
            }
            vals[idx(0, j)] = None;
        }
    }
    Ok((mac_phase + drain, macs))
}

/// Weight- or input-stationary fold: the stationary `r x c` tile shifts in from the top
/// (bottom row first), then row `i` of the streamed operand enters the left edge at cycle
/// `i` onward and partial sums flow down through all rows, leaving at the bottom edge.
/// Returns (load cycles, streaming cycles, MACs).
#[allow(clippy::too_many_arguments)]
fn stationary_fold(
    rows: usize,
    cols: usize,
    r: usize,
    c: usize,
    t: usize,
    stat_at: impl Fn(usize, usize) -> i64,
    stream_at: impl Fn(usize, usize) -> i64,
    mut emit: impl FnMut(usize, usize, i64),
) -> Result<(u64, u64, u64), SimError> {
    let idx = |i: usize, j: usize| i * cols + j;
    // Load: one row per cycle, shifted down; the value fed at load cycle l ends in row r-1-l.
    let mut w: Vec<Tagged> = vec![None; rows * cols];
    for l in 0..r {
        for i in (1..rows).rev() {
            for j in 0..cols {
                w[idx(i, j)] = w[idx(i - 1, j)];
            }
        }
        for j in 0..cols {
            let row = r - 1 - l;
            w[idx(0, j)] = (j < c).then(|| (row, stat_at(row, j)));
        }
    }
    for i in 0..r {
        for j in 0..c {
            if w[idx(i, j)].map(|(row, _)| row) != Some(i) {
                return Err(SimError::Misaligned {
                    row: i,
                    col: j,
                    cycle: r as u64,
                    what: "stationary value in the wrong PE after loading",
                });
            }
        }
    }
    let mut a_reg: Vec<Tagged> = vec![None; rows * cols];
    let mut p_reg: Vec<Tagged> = vec![None; rows * cols];
    let mut a_next = a_reg.clone();
    let mut p_next = p_reg.clone();
    let mut macs = 0u64;
    let mut emitted = 0usize;
    let mut last_exit: Option<usize> = None;
    for cyc in 0..t + rows + cols {
        for i in 0..rows {
            for j in 0..cols {
                let av = if j == 0 {
                    (i < r && cyc >= i && cyc - i < t).then(|| (cyc - i, stream_at(cyc - i, i)))
                } else {
                    a_reg[idx(i, j - 1)]
                };
                let mut pv = if i == 0 {
                    if j < c {
                        av.map(|(tt, _)| (tt, 0))
                    } else {
                        None
                    }
                } else {
                    p_reg[idx(i - 1, j)]
                };
                if i < r && j < c {
                    match (av, pv.as_mut()) {
                        (Some((ta, va)), Some((tp, sum))) if ta == *tp => {
                            let (_, wv) = w[idx(i, j)].expect("checked after loading");
                            *sum += va * wv;
                            macs += 1;
                        }
                        (None, None) => {}
                        _ => {
                            return Err(SimError::Misaligned {
                                row: i,
                                col: j,
                                cycle: cyc as u64,
                                what: "streamed operand and partial sum differ",
                            });
                        }
                    }
                }
                a_next[idx(i, j)] = av;
                p_next[idx(i, j)] = pv;
            }
        }
        for j in 0..c {
            if let Some((tt, v)) = p_next[idx(rows - 1, j)] {
                emit(tt, j, v);
                emitted += 1;
                last_exit = Some(cyc);
            }
        }
        std::mem::swap(&mut a_reg, &mut a_next);
        std::mem::swap(&mut p_reg, &mut p_next);
    }
    if emitted != t * c {
        return Err(SimError::Incomplete {
            missing: t * c - emitted.min(t * c),
        });
    }
    Ok((r as u64, last_exit.map_or(0, |c| c + 1) as u64, macs))
}

/// Reference product for checks.
pub fn reference_gemm(m: usize, n: usize, k: usize, a: &[i64], b: &[i64]) -> Vec<i64> {
    let mut out = vec![0i64; m * n];
    for i in 0..m {
        for kk in 0..k {
            let av = a[i * k + kk];
            for j in 0..n {
                out[i * n + j] += av * b[kk * n + j];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_by_one_array_is_a_serial_mac() {
        // 1x1 array, OS: T + 1 + 1 - 2 + 1 = T + 1 cycles per output.
        let a = [1, 2, 3];
        let b = [4, 5, 6];
        let r = simulate_gemm(Dataflow::OutputStationary, 1, 1, 1, 1, 3, &a, &b).unwrap();
        assert_eq!(r.out, vec![32]);
        assert_eq!(r.cycles, 4);
        assert_eq!(r.macs, 3);
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(
            simulate_gemm(Dataflow::WeightStationary, 2, 2, 2, 2, 2, &[1; 3], &[1; 4]).is_err()
        );
        assert!(
            simulate_gemm(Dataflow::WeightStationary, 0, 2, 2, 2, 2, &[1; 4], &[1; 4]).is_err()
        );
    }
}
