//! Indicators against independent brute-force computations: non-dominated sorting by the
//! definition, hypervolume by inclusion–exclusion and by counting grid cells, the 3-D sweep
//! against WFG, the trace against recomputation, IGD+ against IGD.

use proptest::prelude::*;
use tessera_search::{
    HypervolumeTrace, crowding_distance, dominates, hypervolume, hypervolume_trace,
    hypervolume_wfg, igd, igd_plus, non_dominated_sort, pareto_front,
};

/// Fronts by the definition: peel off the rows no remaining row dominates.
fn brute_fronts(points: &[f64], m: usize) -> Vec<Vec<usize>> {
    let n = points.len() / m;
    let row = |i: usize| &points[i * m..(i + 1) * m];
    let mut left: Vec<usize> = (0..n).collect();
    let mut fronts = Vec::new();
    while !left.is_empty() {
        let (front, rest): (Vec<usize>, Vec<usize>) = left
            .iter()
            .partition(|&&i| !left.iter().any(|&j| dominates(row(j), row(i))));
        fronts.push(front);
        left = rest;
    }
    fronts
}

/// Hypervolume by inclusion–exclusion over every non-empty subset: the union of the boxes
/// [p, r] is the alternating sum of the volumes of their intersections [max p, r].
fn brute_hv(points: &[f64], reference: &[f64]) -> f64 {
    let m = reference.len();
    let rows: Vec<&[f64]> = points
        .chunks_exact(m)
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x < r))
        .collect();
    let n = rows.len();
    let mut total = 0.0;
    for mask in 1u32..(1 << n) {
        let mut corner = vec![f64::NEG_INFINITY; m];
        for (i, p) in rows.iter().enumerate() {
            if mask >> i & 1 == 1 {
                for j in 0..m {
                    corner[j] = corner[j].max(p[j]);
                }
            }
        }
        let vol: f64 = corner.iter().zip(reference).map(|(c, r)| r - c).product();
        total += if mask.count_ones() % 2 == 1 {
            vol
        } else {
            -vol
        };
    }
    total
}

/// Hypervolume of integer points by counting the unit cells of [0, r)^m that some point
/// weakly dominates (a cell's lower corner c is covered iff some p <= c).
fn grid_hv(points: &[i32], m: usize, r: i32) -> f64 {
    let mut count = 0u64;
    let cells = (r as usize).pow(m as u32);
    for mut k in 0..cells {
        let mut c = vec![0i32; m];
        for v in c.iter_mut() {
            *v = (k % r as usize) as i32;
            k /= r as usize;
        }
        if points
            .chunks_exact(m)
            .any(|p| p.iter().zip(&c).all(|(a, b)| a <= b))
        {
            count += 1;
        }
    }
    count as f64
}

fn points(m: usize, max_n: usize, lo: i32, hi: i32) -> impl Strategy<Value = Vec<f64>> {
    // Coordinates on a coarse grid so ties and duplicates are common.
    (0..=max_n)
        .prop_flat_map(move |n| proptest::collection::vec(lo..hi, n * m))
        .prop_map(|v| v.into_iter().map(|x| x as f64 / 4.0).collect())
}

/// A dimension in `ms` and a point set of that dimension.
fn sized_points(
    ms: std::ops::Range<usize>,
    max_n: usize,
    lo: i32,
    hi: i32,
) -> impl Strategy<Value = (usize, Vec<f64>)> {
    ms.prop_flat_map(move |m| points(m, max_n, lo, hi).prop_map(move |p| (m, p)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn sort_matches_the_definition(pts in sized_points(1..5, 40, 0, 12)) {
        let (m, pts) = pts;
        let mut ours = non_dominated_sort(&pts, m);
        for f in &mut ours { f.sort_unstable(); }
        prop_assert_eq!(ours, brute_fronts(&pts, m));
    }

    #[test]
    fn hv_2d_3d_4d_5d_match_inclusion_exclusion(pts in sized_points(2..6, 9, -2, 14)) {
        let (m, pts) = pts;
        let reference = vec![3.0; m];
        let expect = brute_hv(&pts, &reference);
        let fast = hypervolume(&pts, &reference).unwrap();
        let wfg = hypervolume_wfg(&pts, &reference).unwrap();
        let tol = 1e-9 * expect.max(1.0);
        prop_assert!((fast - expect).abs() <= tol, "m={} fast {} brute {}", m, fast, expect);
        prop_assert!((wfg - expect).abs() <= tol, "m={} wfg {} brute {}", m, wfg, expect);
    }

    #[test]
    fn hv_of_integer_points_counts_grid_cells(pts in sized_points(2..5, 12, 0, 24)) {
        // Coordinates on the quarter grid of [0, 6), floored to the integers 0..=5.
        let (m, quarters) = pts;
        let ints: Vec<i32> = quarters.iter().map(|&v| v.floor() as i32).collect();
        let pts: Vec<f64> = ints.iter().map(|&v| v as f64).collect();
        let expect = grid_hv(&ints, m, 6);
        let got = hypervolume(&pts, &vec![6.0; m]).unwrap();
        prop_assert!((got - expect).abs() < 1e-9, "m={} got {} cells {}", m, got, expect);
    }

    #[test]
    fn sweep_3d_matches_wfg_on_larger_sets(raw in proptest::collection::vec(0.0f64..1.0, 0..=360)) {
        let pts: Vec<f64> = raw[..raw.len() / 3 * 3].to_vec();
        let r = [1.0, 1.0, 1.0];
        let a = hypervolume(&pts, &r).unwrap();
        let b = hypervolume_wfg(&pts, &r).unwrap();
        prop_assert!((a - b).abs() < 1e-12, "{} vs {}", a, b);
    }

    #[test]
    fn trace_equals_recomputed_prefix_hypervolume(
        m in 2usize..4,
        raw in proptest::collection::vec((0.0f64..1.2, 0.0f64..1.2, 0.0f64..1.2, 0u8..4), 1..60),
    ) {
        let objs: Vec<f64> = raw.iter().flat_map(|&(a, b, c, _)| [a, b, c][..m].to_vec()).collect();
        // A quarter infeasible.
        let cv: Vec<f64> = raw.iter().map(|&(_, _, _, k)| if k == 0 { 0.5 } else { 0.0 }).collect();
        let reference = vec![1.1; m];
        let trace = hypervolume_trace(&objs, &cv, &reference).unwrap();
        for (k, &got) in trace.iter().enumerate() {
            let feasible: Vec<f64> = (0..=k)
                .filter(|&i| cv[i] == 0.0)
                .flat_map(|i| objs[i * m..(i + 1) * m].to_vec())
                .collect();
            let expect = hypervolume(&feasible, &reference).unwrap();
            prop_assert!((got - expect).abs() < 1e-12, "step {}: {} vs {}", k, got, expect);
        }
    }

    #[test]
    fn igd_plus_never_exceeds_igd(a in points(3, 20, 0, 8), z in points(3, 20, 0, 8)) {
        prop_assume!(!a.is_empty() && !z.is_empty());
        let p = igd_plus(&a, &z, 3).unwrap();
        let q = igd(&a, &z, 3).unwrap();
        prop_assert!(p <= q + 1e-12);
        // The reference front itself scores 0 on both.
        prop_assert_eq!(igd_plus(&z, &z, 3).unwrap(), 0.0);
        prop_assert_eq!(igd(&z, &z, 3).unwrap(), 0.0);
    }

    #[test]
    fn pareto_front_is_the_non_dominated_feasible_set(
        pts in points(2, 30, 0, 10),
        flags in proptest::collection::vec(0u8..3, 30),
    ) {
        let n = pts.len() / 2;
        let cv: Vec<f64> = (0..n).map(|i| if flags[i] == 0 { 0.25 } else { 0.0 }).collect();
        let front = pareto_front(&pts, &cv, 2);
        let row = |i: usize| &pts[2 * i..2 * i + 2];
        if cv.contains(&0.0) {
            prop_assert!(front.feasible);
            for i in 0..n {
                let on_front = front.indices.contains(&i);
                let dominated = (0..n).any(|j| cv[j] == 0.0 && dominates(row(j), row(i)));
                prop_assert_eq!(on_front, cv[i] == 0.0 && !dominated, "row {}", i);
            }
        } else {
            prop_assert!(!front.feasible);
        }
    }
}

#[test]
fn crowding_is_scale_free_and_boundary_infinite() {
    let pts = [0.0, 10.0, 1.0, 6.0, 3.0, 3.0, 6.0, 1.0, 10.0, 0.0];
    let scaled: Vec<f64> = pts.chunks(2).flat_map(|p| [p[0] * 1000.0, p[1]]).collect();
    let front = [0, 1, 2, 3, 4];
    let a = crowding_distance(&pts, 2, &front);
    let b = crowding_distance(&scaled, 2, &front);
    for (x, y) in a.iter().zip(&b) {
        assert!(x == y || (x - y).abs() < 1e-12);
    }
    assert!(a[0].is_infinite() && a[4].is_infinite() && a[2].is_finite());
}

#[test]
fn incremental_trace_matches_batch_trace() {
    let objs = [0.3, 0.9, 0.2, 0.2, 0.9, 0.1, 0.5, 0.5, 0.05, 0.95];
    let mut t = HypervolumeTrace::new(&[1.0, 1.0]).unwrap();
    let batch = hypervolume_trace(&objs, &[0.0; 5], &[1.0, 1.0]).unwrap();
    for (k, p) in objs.chunks(2).enumerate() {
        assert_eq!(t.push(p, 0.0).unwrap(), batch[k]);
    }
    assert_eq!(t.current(), *batch.last().unwrap());
}
