//! Dominance, non-dominated sorting, crowding distance and the feasible-first Pareto front.
//!
//! Point sets are dense row-major `&[f64]` with `m` objectives per row (row `i` is
//! `points[i * m..(i + 1) * m]`); every objective is minimised. Violations are Deb's summed
//! normalised constraint violation: `0` feasible, `> 0` infeasible, `+inf` for a failed
//! evaluation.

use std::cmp::Ordering;

/// `a` Pareto-dominates `b`: no worse in every objective and better in at least one.
#[inline]
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut strictly = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        if x < y {
            strictly = true;
        }
    }
    strictly
}

/// Deb's constraint-domination (Deb et al. 2002, section VI-A): a feasible design beats an
/// infeasible one, of two infeasible designs the one with the smaller violation wins, and
/// two feasible designs compare by Pareto dominance.
pub fn constrained_dominates(a: &[f64], violation_a: f64, b: &[f64], violation_b: f64) -> bool {
    match (violation_a > 0.0, violation_b > 0.0) {
        (false, false) => dominates(a, b),
        (false, true) => true,
        (true, false) => false,
        (true, true) => violation_a < violation_b,
    }
}

/// Orders numbers with `-0.0 == 0.0` (as `<` does), NaN last; a total preorder.
#[inline]
pub(crate) fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or_else(|| a.total_cmp(&b))
}

fn cmp_lex(a: &[f64], b: &[f64]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match cmp_f64(*x, *y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

/// Non-dominated sorting of all rows: the fronts, best first, each listing row indices in
/// lexicographic order of their objectives.
pub fn non_dominated_sort(points: &[f64], m: usize) -> Vec<Vec<usize>> {
    assert!(m > 0, "non_dominated_sort: m must be positive");
    let subset: Vec<usize> = (0..points.len() / m).collect();
    sort_subset(points, m, &subset)
}

/// The front number (0 = non-dominated) of every row.
pub fn non_dominated_ranks(points: &[f64], m: usize) -> Vec<usize> {
    let mut rank = vec![0; points.len() / m.max(1)];
    for (r, front) in non_dominated_sort(points, m).iter().enumerate() {
        for &i in front {
            rank[i] = r;
        }
    }
    rank
}

/// Efficient non-dominated sort with binary search over fronts (ENS-BS, Zhang, Tian, Cheng
/// & Jin, IEEE TEVC 19(2), 2015). Rows are visited in lexicographic order, so a row can only
/// be dominated by rows already placed; "some member of front k dominates p" is monotone in
/// k, so the first front that does not dominate p is found by bisection. With two
/// objectives only the last member of a front (the one with the smallest second
/// objective) needs checking, which makes the sort O(n log n).
pub(crate) fn sort_subset(points: &[f64], m: usize, subset: &[usize]) -> Vec<Vec<usize>> {
    let row = |i: usize| &points[i * m..(i + 1) * m];
    let mut order = subset.to_vec();
    order.sort_by(|&a, &b| cmp_lex(row(a), row(b)).then(a.cmp(&b)));
    let mut fronts: Vec<Vec<usize>> = Vec::new();
    for &p in &order {
        let pr = row(p);
        let front_dominates = |front: &Vec<usize>| -> bool {
            if m == 2 {
                let q = *front.last().expect("fronts are never empty");
                dominates(row(q), pr)
            } else {
                front.iter().rev().any(|&q| dominates(row(q), pr))
            }
        };
        // First front index k whose members do not dominate p (fronts[..k] all do).
        let (mut lo, mut hi) = (0usize, fronts.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if front_dominates(&fronts[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == fronts.len() {
            fronts.push(vec![p]);
        } else {
            fronts[lo].push(p);
        }
    }
    fronts
}

/// The first front of `subset` only: rows in lexicographic order, each kept unless a kept
/// row dominates it (a row can only be dominated by rows before it in that order). The cost
/// is O(n log n) plus O(n F) for a front of F rows, where sorting every front would cost far
/// more on large sets (a run's summary over 200,000 designs). Returned in lexicographic
/// order.
pub(crate) fn first_front_subset(points: &[f64], m: usize, subset: &[usize]) -> Vec<usize> {
    let row = |i: usize| &points[i * m..(i + 1) * m];
    let mut order = subset.to_vec();
    order.sort_by(|&a, &b| cmp_lex(row(a), row(b)).then(a.cmp(&b)));
    let mut front: Vec<usize> = Vec::new();
    for &p in &order {
        let pr = row(p);
        let dominated = if m == 2 {
            // The kept rows' second objectives decrease; the last kept one is the best.
            front.last().is_some_and(|&q| dominates(row(q), pr))
        } else {
            front.iter().rev().any(|&q| dominates(row(q), pr))
        };
        if !dominated {
            front.push(p);
        }
    }
    front
}

/// Fronts under constraint-domination: the feasible rows sorted by Pareto dominance, then
/// the infeasible rows grouped by equal violation in increasing order (two infeasible rows
/// with the same violation do not dominate each other). A row with a NaN violation counts
/// as failed (`+inf`).
pub fn constrained_non_dominated_sort(
    points: &[f64],
    violation: &[f64],
    m: usize,
) -> Vec<Vec<usize>> {
    let n = violation.len();
    assert_eq!(
        points.len(),
        n * m,
        "constrained_non_dominated_sort: shape mismatch"
    );
    let feasible: Vec<usize> = (0..n).filter(|&i| violation[i] <= 0.0).collect();
    let mut fronts = sort_subset(points, m, &feasible);
    let cv = |i: usize| {
        if violation[i].is_nan() {
            f64::INFINITY
        } else {
            violation[i]
        }
    };
    let mut infeasible: Vec<usize> = (0..n)
        .filter(|&i| violation[i].is_nan() || violation[i] > 0.0)
        .collect();
    infeasible.sort_by(|&a, &b| cmp_f64(cv(a), cv(b)).then(a.cmp(&b)));
    for &i in &infeasible {
        match fronts.last_mut() {
            Some(last)
                if last
                    .first()
                    .is_some_and(|&j| violation[j] > 0.0 && cv(j) == cv(i)) =>
            {
                last.push(i)
            }
            _ => fronts.push(vec![i]),
        }
    }
    fronts
}

/// Crowding distance of the members of one front (Deb et al. 2002, section III-B), aligned
/// with `front`: per objective, the boundary members get `+inf` and an interior member the
/// gap between its two neighbours divided by the objective's range on the front; the
/// per-objective terms are summed. An objective with zero range adds nothing.
pub fn crowding_distance(points: &[f64], m: usize, front: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; front.len()];
    let mut order: Vec<usize> = Vec::with_capacity(front.len());
    crowding_into(points, m, front, &mut order, &mut out);
    out
}

/// [`crowding_distance`] into caller buffers (`order` is scratch).
pub(crate) fn crowding_into(
    points: &[f64],
    m: usize,
    front: &[usize],
    order: &mut Vec<usize>,
    out: &mut [f64],
) {
    let n = front.len();
    out[..n].fill(0.0);
    if n <= 2 {
        out[..n].fill(f64::INFINITY);
        return;
    }
    for k in 0..m {
        let val = |pos: usize| points[front[pos] * m + k];
        order.clear();
        order.extend(0..n);
        order.sort_by(|&a, &b| cmp_f64(val(a), val(b)).then(a.cmp(&b)));
        let (lo, hi) = (val(order[0]), val(order[n - 1]));
        out[order[0]] = f64::INFINITY;
        out[order[n - 1]] = f64::INFINITY;
        let range = hi - lo;
        if range.is_nan() || range <= 0.0 || range.is_infinite() {
            continue;
        }
        for w in 1..n - 1 {
            let gap = val(order[w + 1]) - val(order[w - 1]);
            out[order[w]] += gap / range;
        }
    }
}

/// Prune `n_remove` members of one front by crowding distance, one at a time (Kukkonen &
/// Deb, "Improved pruning of non-dominated solutions based on crowding distance for
/// bi-objective optimization problems", IEEE CEC 2006; pymoo 0.6's `crowding_func="pcd"`):
/// the member with the smallest distance goes (ties: the first in `front` order), and the
/// distances of its neighbours are recomputed before the next removal, so that a cut keeps
/// an even spread instead of opening gaps where two close members were both removed.
///
/// Returns the crowding distance of every member aligned with `front`, with `None` for the
/// removed ones. The extremes of each objective keep `+inf` and are removed last, only when
/// nothing finite is left. With `n_remove = 0` the distances equal
/// [`crowding_distance`]'s.
pub fn pruning_crowding(
    points: &[f64],
    m: usize,
    front: &[usize],
    n_remove: usize,
) -> Vec<Option<f64>> {
    let n = front.len();
    let n_remove = n_remove.min(n);
    const NONE: usize = usize::MAX;
    let val = |pos: usize, k: usize| points[front[pos] * m + k];
    // Per objective: neighbours in sorted order, and the objective's range on the front.
    let mut prev = vec![NONE; n * m];
    let mut next = vec![NONE; n * m];
    let mut scale = vec![0.0; m];
    let mut order: Vec<usize> = Vec::with_capacity(n);
    for k in 0..m {
        order.clear();
        order.extend(0..n);
        order.sort_by(|&a, &b| cmp_f64(val(a, k), val(b, k)).then(a.cmp(&b)));
        for w in 0..n {
            if w > 0 {
                prev[order[w] * m + k] = order[w - 1];
            }
            if w + 1 < n {
                next[order[w] * m + k] = order[w + 1];
            }
        }
        if n > 0 {
            let range = val(order[n - 1], k) - val(order[0], k);
            if range.is_finite() && range > 0.0 {
                scale[k] = 1.0 / range;
            }
        }
    }
    let distance = |pos: usize, prev: &[usize], next: &[usize]| {
        let mut d = 0.0;
        for k in 0..m {
            let (p, q) = (prev[pos * m + k], next[pos * m + k]);
            if p == NONE || q == NONE {
                return f64::INFINITY;
            }
            d += (val(q, k) - val(p, k)) * scale[k];
        }
        d
    };
    let mut d: Vec<f64> = (0..n)
        .map(|pos| {
            if n <= 2 {
                f64::INFINITY
            } else {
                distance(pos, &prev, &next)
            }
        })
        .collect();
    let mut alive = vec![true; n];
    for _ in 0..n_remove {
        let mut worst = NONE;
        for pos in 0..n {
            if alive[pos] && (worst == NONE || cmp_f64(d[pos], d[worst]) == Ordering::Less) {
                worst = pos;
            }
        }
        alive[worst] = false;
        let mut touched = Vec::with_capacity(2 * m);
        for k in 0..m {
            let (p, q) = (prev[worst * m + k], next[worst * m + k]);
            if p != NONE {
                next[p * m + k] = q;
                touched.push(p);
            }
            if q != NONE {
                prev[q * m + k] = p;
                touched.push(q);
            }
        }
        // The extremes stay infinite: a neighbour that lost its own neighbour in some
        // objective only did so because the extreme itself was removed, which happens only
        // when nothing finite is left.
        for pos in touched {
            if d[pos].is_finite() {
                d[pos] = distance(pos, &prev, &next);
            }
        }
    }
    (0..n).map(|pos| alive[pos].then_some(d[pos])).collect()
}

/// The Pareto front of a set of designs, feasible first.
#[derive(Debug, Clone, PartialEq)]
pub struct Front {
    /// Row indices of the front, in increasing order.
    pub indices: Vec<usize>,
    /// `true`: the non-dominated feasible designs. `false`: nothing was feasible, and these
    /// are the least-violating designs (smallest finite violation; among ties, the
    /// non-dominated ones). Empty and `false` when every evaluation failed or there were none.
    pub feasible: bool,
}

/// The Pareto front with feasible-first semantics (see [`Front`]). Rows whose objectives
/// are not all finite are left out.
pub fn pareto_front(points: &[f64], violation: &[f64], m: usize) -> Front {
    let n = violation.len();
    assert_eq!(points.len(), n * m, "pareto_front: shape mismatch");
    let finite = |i: usize| points[i * m..(i + 1) * m].iter().all(|v| v.is_finite());
    let feasible: Vec<usize> = (0..n)
        .filter(|&i| violation[i] <= 0.0 && finite(i))
        .collect();
    let (group, is_feasible) = if !feasible.is_empty() {
        (feasible, true)
    } else {
        let best = (0..n)
            .filter(|&i| violation[i].is_finite() && finite(i))
            .map(|i| violation[i])
            .fold(f64::INFINITY, f64::min);
        let group = (0..n)
            .filter(|&i| violation[i] == best && best.is_finite() && finite(i))
            .collect();
        (group, false)
    };
    let mut indices = first_front_subset(points, m, &group);
    indices.sort_unstable();
    Front {
        indices,
        feasible: is_feasible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_removes_one_at_a_time_and_keeps_the_spread() {
        // A linear front f2 = 1 - f1 with a close pair at 0.2 / 0.21. Standard crowding
        // ranks both members of the pair lowest and removes both, opening the gap 0..0.4;
        // pruning removes 0.21, after which 0.2 is no longer crowded, and removes 0.55.
        let f1 = [0.0, 0.2, 0.21, 0.4, 0.55, 0.7, 1.0];
        let points: Vec<f64> = f1.iter().flat_map(|&x| [x, 1.0 - x]).collect();
        let front: Vec<usize> = (0..f1.len()).collect();
        let standard = crowding_distance(&points, 2, &front);
        let mut by_standard: Vec<usize> = front.clone();
        by_standard.sort_by(|&a, &b| standard[a].total_cmp(&standard[b]));
        let mut removed_standard = by_standard[..2].to_vec();
        removed_standard.sort();
        assert_eq!(removed_standard, vec![1, 2]);
        let pruned = pruning_crowding(&points, 2, &front, 2);
        let removed: Vec<usize> = (0..f1.len()).filter(|&i| pruned[i].is_none()).collect();
        assert_eq!(removed, vec![2, 4]);
        // The survivors' distances are those of the pruned front: 0.2 sits between 0 and
        // 0.4 on both objectives.
        assert!((pruned[1].unwrap() - 2.0 * 0.4).abs() < 1e-12);
        assert_eq!(pruned[0], Some(f64::INFINITY));
        assert_eq!(pruned[6], Some(f64::INFINITY));
    }

    #[test]
    fn pruning_nothing_gives_the_standard_crowding_distance() {
        let mut x = 99u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % 1000) as f64 / 7.0
        };
        for m in [2, 3] {
            let points: Vec<f64> = (0..40 * m).map(|_| next()).collect();
            let front: Vec<usize> = (0..40).collect();
            let standard = crowding_distance(&points, m, &front);
            let pruned = pruning_crowding(&points, m, &front, 0);
            for (s, p) in standard.iter().zip(&pruned) {
                let p = p.expect("nothing removed");
                assert!(s == &p || (s - p).abs() < 1e-9, "{s} vs {p}");
            }
            // Removing k leaves exactly len - k, the extremes among them.
            let pruned = pruning_crowding(&points, m, &front, 25);
            assert_eq!(pruned.iter().filter(|d| d.is_some()).count(), 15);
            for k in 0..m {
                let lo = (0..40)
                    .min_by(|&a, &b| points[a * m + k].total_cmp(&points[b * m + k]))
                    .unwrap();
                assert!(
                    pruned[lo].is_some(),
                    "the minimum of objective {k} was removed"
                );
            }
        }
    }

    #[test]
    fn the_first_front_alone_equals_the_first_of_all_fronts() {
        // Pseudo-random points in 2-D and 3-D, with duplicates.
        let mut x = 12345u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % 50) as f64
        };
        for m in [2usize, 3, 4] {
            let points: Vec<f64> = (0..300 * m).map(|_| next()).collect();
            let subset: Vec<usize> = (0..300).collect();
            let mut a = first_front_subset(&points, m, &subset);
            let mut b = sort_subset(&points, m, &subset).remove(0);
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "m = {m}");
        }
    }

    #[test]
    fn dominance_basics() {
        assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
        assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!dominates(&[1.0, 4.0], &[2.0, 3.0]));
        assert!(dominates(&[-0.0, 1.0], &[0.0, 2.0]));
    }

    #[test]
    fn constraint_domination_orders_feasible_then_violation() {
        let (good, bad) = ([1.0, 1.0], [5.0, 5.0]);
        // Feasible beats infeasible even when the infeasible design has better objectives.
        assert!(constrained_dominates(&bad, 0.0, &good, 0.1));
        assert!(!constrained_dominates(&good, 0.1, &bad, 0.0));
        // Among infeasible designs, the smaller violation wins regardless of objectives.
        assert!(constrained_dominates(&bad, 0.1, &good, 0.2));
        assert!(!constrained_dominates(&good, 0.2, &bad, 0.1));
        assert!(!constrained_dominates(&good, 0.2, &bad, 0.2));
        // A failed evaluation (+inf) loses to any finite violation.
        assert!(constrained_dominates(&bad, 1e9, &good, f64::INFINITY));
        // Two feasible designs compare by dominance.
        assert!(constrained_dominates(&good, 0.0, &bad, 0.0));
    }

    #[test]
    fn constrained_sort_puts_infeasible_after_feasible_by_violation() {
        // rows: 0 feasible (1,1); 1 feasible (2,2); 2 infeasible 0.5 but (0,0);
        // 3 infeasible 0.5; 4 failed; 5 infeasible 0.1
        let pts = [
            1.0,
            1.0,
            2.0,
            2.0,
            0.0,
            0.0,
            3.0,
            3.0,
            f64::INFINITY,
            f64::INFINITY,
            9.0,
            9.0,
        ];
        let cv = [0.0, 0.0, 0.5, 0.5, f64::INFINITY, 0.1];
        let fronts = constrained_non_dominated_sort(&pts, &cv, 2);
        assert_eq!(fronts, vec![vec![0], vec![1], vec![5], vec![2, 3], vec![4]]);
    }

    #[test]
    fn crowding_distance_by_hand() {
        // Front (0,4) (1,2) (2,1) (4,0): ranges 4 and 4.
        let pts = [0.0, 4.0, 1.0, 2.0, 2.0, 1.0, 4.0, 0.0];
        let cd = crowding_distance(&pts, 2, &[0, 1, 2, 3]);
        assert_eq!(cd[0], f64::INFINITY);
        assert_eq!(cd[3], f64::INFINITY);
        assert!((cd[1] - (2.0 / 4.0 + 3.0 / 4.0)).abs() < 1e-12);
        assert!((cd[2] - (3.0 / 4.0 + 2.0 / 4.0)).abs() < 1e-12);
    }

    #[test]
    fn front_is_feasible_first_then_least_violating() {
        let pts = [1.0, 1.0, 0.0, 0.0, 2.0, 0.5];
        let f = pareto_front(&pts, &[0.0, 0.3, 0.0], 2);
        assert_eq!(
            f,
            Front {
                indices: vec![0, 2],
                feasible: true
            }
        );
        // Nothing feasible: the least violating ones (rows 0 and 2 tie at 0.2; both
        // non-dominated), never the failed one, though it has the best objectives.
        let f = pareto_front(&pts, &[0.2, f64::INFINITY, 0.2], 2);
        assert_eq!(
            f,
            Front {
                indices: vec![0, 2],
                feasible: false
            }
        );
        let f = pareto_front(&[0.0, 0.0, 1.0, 1.0], &[0.2, 0.2], 2);
        assert_eq!(
            f,
            Front {
                indices: vec![0],
                feasible: false
            }
        );
        let f = pareto_front(&pts, &[f64::INFINITY; 3], 2);
        assert_eq!(
            f,
            Front {
                indices: vec![],
                feasible: false
            }
        );
    }
}
