//! Exact hypervolume (the Lebesgue measure of the region dominated by a point set and
//! bounded by a reference point; every objective minimised).
//!
//! - 2 objectives: a sort and a sweep, O(n log n).
//! - 3 objectives: the dimension sweep of Fonseca, Paquete & López-Ibáñez (CEC 2006) with
//!   the 2-D front kept in a balanced tree (HV3D; Beume, Fonseca, López-Ibáñez, Paquete &
//!   Vahrenhold, IEEE TEVC 13(5), 2009), O(n log n).
//! - 4 or more: WFG (While, Bradstreet & Barone, IEEE TEVC 16(1), 2012) with points sorted
//!   by the last objective so every exclusive volume is computed one dimension down, ending
//!   in the 3-D sweep.
//!
//! Points that do not strictly dominate the reference point contribute nothing and are
//! dropped first, as are points with a NaN coordinate.

use std::collections::BTreeMap;

use crate::error::SearchError;
use crate::pareto::{cmp_f64, dominates};

/// The hypervolume of `points` (row-major, `reference.len()` objectives per row) with
/// respect to `reference`.
pub fn hypervolume(points: &[f64], reference: &[f64]) -> Result<f64, SearchError> {
    let m = check_shape(points, reference)?;
    let mut pts = inside(points, reference);
    Ok(match m {
        1 => pts.iter().map(|&p| reference[0] - p).fold(0.0, f64::max),
        2 => hv2d(&mut pts, reference[0], reference[1]),
        3 => hv3d(&pts, reference),
        _ => Wfg::new(m, 3).volume(&mut pts, reference),
    })
}

/// WFG all the way down to the 2-D sweep, for any number of objectives >= 2. Slower than
/// [`hypervolume`] for 3 objectives; kept public so the 3-D sweep and WFG can be checked
/// against each other.
pub fn hypervolume_wfg(points: &[f64], reference: &[f64]) -> Result<f64, SearchError> {
    let m = check_shape(points, reference)?;
    if m < 2 {
        return hypervolume(points, reference);
    }
    let mut pts = inside(points, reference);
    Ok(Wfg::new(m, 2).volume(&mut pts, reference))
}

fn check_shape(points: &[f64], reference: &[f64]) -> Result<usize, SearchError> {
    let m = reference.len();
    if m == 0 {
        return Err(SearchError::Shape(
            "the reference point has no coordinates".into(),
        ));
    }
    if !points.len().is_multiple_of(m) {
        return Err(SearchError::Shape(format!(
            "{} coordinates do not make whole points of dimension {m}",
            points.len()
        )));
    }
    if reference.iter().any(|r| r.is_nan()) {
        return Err(SearchError::Shape(
            "the reference point has a NaN coordinate".into(),
        ));
    }
    Ok(m)
}

/// The rows that strictly dominate the reference point (so have a box of positive volume).
fn inside(points: &[f64], reference: &[f64]) -> Vec<f64> {
    let m = reference.len();
    let mut out = Vec::with_capacity(points.len());
    for p in points.chunks_exact(m) {
        if p.iter().zip(reference).all(|(x, r)| x < r) {
            out.extend_from_slice(p);
        }
    }
    out
}

/// 2-D sweep over rows sorted by the first objective: each point that improves on the best
/// second objective so far adds the strip between the two.
fn hv2d(pts: &mut [f64], rx: f64, ry: f64) -> f64 {
    let mut rows: Vec<[f64; 2]> = pts.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
    rows.sort_unstable_by(|a, b| cmp_f64(a[0], b[0]).then(cmp_f64(a[1], b[1])));
    let mut best_y = ry;
    let mut volume = 0.0;
    for [x, y] in rows {
        if y < best_y {
            volume += (rx - x) * (best_y - y);
            best_y = y;
        }
    }
    volume
}

/// `f64` with a total order, for tree keys (only finite values are stored).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        cmp_f64(self.0, other.0)
    }
}

/// The non-dominated staircase of a growing 2-D point set and the area it dominates up to
/// a reference point, updated in O(log n) amortised per insertion. Keys are the first
/// objective; along the staircase the second objective strictly decreases.
#[derive(Debug, Clone)]
pub struct Staircase {
    steps: BTreeMap<Key, f64>,
    reference: [f64; 2],
    area: f64,
    removed: Vec<Key>,
}

impl Staircase {
    /// An empty staircase bounded by `reference`.
    pub fn new(reference: [f64; 2]) -> Staircase {
        Staircase {
            steps: BTreeMap::new(),
            reference,
            area: 0.0,
            removed: Vec::new(),
        }
    }

    /// The area dominated by the points inserted so far.
    pub fn area(&self) -> f64 {
        self.area
    }

    /// The number of non-dominated points on the staircase.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether nothing has been inserted (or nothing inside the reference box).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Adds a point; returns the area it adds (0 if it is weakly dominated or outside the
    /// reference box).
    pub fn insert(&mut self, x: f64, y: f64) -> f64 {
        let [rx, ry] = self.reference;
        if !(x < rx && y < ry) {
            return 0.0;
        }
        if let Some((_, &py)) = self.steps.range(..=Key(x)).next_back()
            && py <= y
        {
            return 0.0;
        }
        // Height already covered just left of x: the nearest step strictly to the left.
        let mut top = self
            .steps
            .range(..Key(x))
            .next_back()
            .map_or(ry, |(_, &py)| py);
        let mut cur_x = x;
        let mut end_x = rx;
        let mut gain = 0.0;
        self.removed.clear();
        for (&Key(qx), &qy) in self.steps.range(Key(x)..) {
            if qy < y {
                end_x = qx;
                break;
            }
            // q is dominated by the new point: between cur_x and qx the point adds the band
            // from y up to the height covered there.
            gain += (qx - cur_x) * (top - y);
            cur_x = qx;
            top = qy;
            self.removed.push(Key(qx));
        }
        gain += (end_x - cur_x) * (top - y);
        for k in self.removed.drain(..) {
            self.steps.remove(&k);
        }
        self.steps.insert(Key(x), y);
        self.area += gain;
        gain
    }

    /// The staircase points, by increasing first objective.
    pub fn points(&self) -> impl Iterator<Item = [f64; 2]> + '_ {
        self.steps.iter().map(|(k, &y)| [k.0, y])
    }
}

/// 3-D dimension sweep: visit points by increasing third objective, keep the 2-D staircase
/// of the points seen so far, and add its area times the gap to the next point.
fn hv3d(pts: &[f64], reference: &[f64]) -> f64 {
    let mut rows: Vec<[f64; 3]> = pts.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    rows.sort_unstable_by(|a, b| cmp_f64(a[2], b[2]));
    let mut stairs = Staircase::new([reference[0], reference[1]]);
    let mut volume = 0.0;
    for (k, p) in rows.iter().enumerate() {
        stairs.insert(p[0], p[1]);
        let next_z = rows.get(k + 1).map_or(reference[2], |q| q[2]);
        volume += stairs.area() * (next_z - p[2]);
    }
    volume
}

/// WFG with scratch buffers reused per recursion depth.
struct Wfg {
    /// Dimension at which recursion stops: 2 (sweep) or 3 (3-D sweep).
    base: usize,
    /// Limited-set buffers, one per depth.
    buffers: Vec<Vec<f64>>,
}

impl Wfg {
    fn new(m: usize, base: usize) -> Wfg {
        Wfg {
            base,
            buffers: vec![Vec::new(); m + 1],
        }
    }

    /// Hypervolume of `pts` (rows of `reference.len()` coordinates, all strictly inside the
    /// reference box). Reorders `pts`.
    fn volume(&mut self, pts: &mut [f64], reference: &[f64]) -> f64 {
        let d = reference.len();
        let n = pts.len() / d;
        if n == 0 {
            return 0.0;
        }
        if n == 1 {
            return pts.iter().zip(reference).map(|(p, r)| r - p).product();
        }
        if d <= self.base {
            return match d {
                2 => hv2d(pts, reference[0], reference[1]),
                _ => hv3d(pts, reference),
            };
        }
        // Sort rows by the last objective, worst (largest) first: every later row is then no
        // worse in the last objective, so limiting it by an earlier row p leaves p's last
        // coordinate, and p's exclusive volume is (r_d - p_d) times a (d-1)-dimensional one.
        sort_rows_desc_last(pts, d);
        let mut buf = std::mem::take(&mut self.buffers[d]);
        let mut volume = 0.0;
        for k in 0..n {
            let p = &pts[k * d..(k + 1) * d];
            let height = reference[d - 1] - p[d - 1];
            let incl: f64 = p[..d - 1]
                .iter()
                .zip(reference)
                .map(|(x, r)| r - x)
                .product();
            // Limit every later row by p (component-wise max), projected to d-1 objectives,
            // keeping only the non-dominated ones.
            buf.clear();
            for q in pts[(k + 1) * d..].chunks_exact(d) {
                let start = buf.len();
                for j in 0..d - 1 {
                    buf.push(p[j].max(q[j]));
                }
                let (kept, new) = buf.split_at(start);
                if kept.chunks_exact(d - 1).any(|o| weakly_dominates(o, new)) {
                    buf.truncate(start);
                    continue;
                }
                // Drop kept rows that the new row dominates.
                let mut w = 0;
                for r in 0..start / (d - 1) {
                    let row_dominated = dominates(
                        &buf[start..start + d - 1],
                        &buf[r * (d - 1)..(r + 1) * (d - 1)],
                    );
                    if !row_dominated {
                        if w != r {
                            buf.copy_within(r * (d - 1)..(r + 1) * (d - 1), w * (d - 1));
                        }
                        w += 1;
                    }
                }
                if w * (d - 1) != start {
                    buf.copy_within(start..start + d - 1, w * (d - 1));
                    buf.truncate((w + 1) * (d - 1));
                }
            }
            let limited = self.volume(&mut buf, &reference[..d - 1]);
            volume += height * (incl - limited);
        }
        self.buffers[d] = buf;
        volume
    }
}

/// `a` is no worse than `b` in every coordinate.
#[inline]
fn weakly_dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y)
}

fn sort_rows_desc_last(pts: &mut [f64], d: usize) {
    let mut rows: Vec<f64> = Vec::with_capacity(pts.len());
    let n = pts.len() / d;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| cmp_f64(pts[b * d + d - 1], pts[a * d + d - 1]));
    for &i in &order {
        rows.extend_from_slice(&pts[i * d..(i + 1) * d]);
    }
    pts.copy_from_slice(&rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_d_by_hand() {
        // Boxes to (3,3) from (1,2) and (2,1): 2*1 + 1*2 + 1*1 = 3 (union).
        let hv = hypervolume(&[1.0, 2.0, 2.0, 1.0], &[3.0, 3.0]).unwrap();
        assert!((hv - 3.0).abs() < 1e-12);
        // A point on the reference boundary and a dominated one add nothing.
        let hv = hypervolume(&[1.0, 2.0, 2.0, 1.0, 3.0, 0.0, 2.0, 2.0], &[3.0, 3.0]).unwrap();
        assert!((hv - 3.0).abs() < 1e-12);
        assert_eq!(hypervolume(&[], &[1.0, 1.0]).unwrap(), 0.0);
    }

    #[test]
    fn three_d_by_hand() {
        // Two unit-cube corners inside a 2x2x2 box: 1x2x2 ... union by inclusion-exclusion.
        let pts = [0.0, 1.0, 1.0, 1.0, 0.0, 1.0];
        // boxes [0,2]x[1,2]x[1,2] (vol 2) and [1,2]x[0,2]x[1,2] (vol 2), overlap [1,2]^3 (1)
        let hv = hypervolume(&pts, &[2.0, 2.0, 2.0]).unwrap();
        assert!((hv - 3.0).abs() < 1e-12);
        assert!((hypervolume_wfg(&pts, &[2.0, 2.0, 2.0]).unwrap() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn staircase_tracks_area_incrementally() {
        let mut s = Staircase::new([4.0, 4.0]);
        assert_eq!(s.insert(2.0, 2.0), 4.0);
        assert_eq!(s.insert(3.0, 3.0), 0.0, "dominated");
        assert_eq!(s.insert(1.0, 3.0), 1.0);
        assert_eq!(s.insert(3.0, 1.0), 1.0);
        // (1,1) dominates all three: the full 3x3 square.
        assert_eq!(s.insert(1.0, 1.0), 3.0);
        assert_eq!(s.area(), 9.0);
        assert_eq!(s.len(), 1);
        assert_eq!(s.insert(1.0, 0.5), 1.5, "same x, lower y replaces the step");
        assert_eq!(s.points().collect::<Vec<_>>(), vec![[1.0, 0.5]]);
    }

    #[test]
    fn shape_errors() {
        assert!(hypervolume(&[1.0, 2.0, 3.0], &[4.0, 4.0]).is_err());
        assert!(hypervolume(&[1.0], &[]).is_err());
    }
}
