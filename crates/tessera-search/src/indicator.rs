//! Quality indicators against a known front (IGD, IGD+) and the hypervolume-vs-evaluations
//! trace. Point sets are row-major `&[f64]`, every objective minimised.

use crate::error::SearchError;
use crate::hypervolume::{Staircase, hypervolume};
use crate::pareto::dominates;

fn check(approx: &[f64], reference_front: &[f64], m: usize) -> Result<(), SearchError> {
    if m == 0 {
        return Err(SearchError::Shape("m must be positive".into()));
    }
    if !approx.len().is_multiple_of(m) || !reference_front.len().is_multiple_of(m) {
        return Err(SearchError::Shape(format!(
            "point sets of {} and {} coordinates are not whole points of dimension {m}",
            approx.len(),
            reference_front.len()
        )));
    }
    if reference_front.is_empty() {
        return Err(SearchError::Shape("the reference front is empty".into()));
    }
    Ok(())
}

/// Inverted generational distance: the mean, over the reference-front points, of the
/// Euclidean distance to the nearest point of `approx` (Coello & Reyes Sierra 2004).
/// `+inf` for an empty `approx`.
pub fn igd(approx: &[f64], reference_front: &[f64], m: usize) -> Result<f64, SearchError> {
    check(approx, reference_front, m)?;
    Ok(mean_min_distance(approx, reference_front, m, |a, z| a - z))
}

/// IGD+ (Ishibuchi, Masuda, Tanigaki & Nojima, EMO 2015): like IGD, but the distance from a
/// reference point z to a solution a only counts the objectives in which a is worse,
/// `d+(z, a) = sqrt(sum_i max(a_i - z_i, 0)^2)`, which makes the indicator weakly Pareto
/// compliant. `+inf` for an empty `approx`.
pub fn igd_plus(approx: &[f64], reference_front: &[f64], m: usize) -> Result<f64, SearchError> {
    check(approx, reference_front, m)?;
    Ok(mean_min_distance(approx, reference_front, m, |a, z| {
        (a - z).max(0.0)
    }))
}

fn mean_min_distance(
    approx: &[f64],
    reference_front: &[f64],
    m: usize,
    diff: impl Fn(f64, f64) -> f64,
) -> f64 {
    if approx.is_empty() {
        return f64::INFINITY;
    }
    let mut total = 0.0;
    for z in reference_front.chunks_exact(m) {
        let best = approx
            .chunks_exact(m)
            .map(|a| {
                a.iter()
                    .zip(z)
                    .map(|(&ai, &zi)| diff(ai, zi).powi(2))
                    .sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min);
        total += best.sqrt();
    }
    total / (reference_front.len() / m) as f64
}

/// Hypervolume of the feasible front after each evaluation, fed one evaluation at a time in
/// id order (infeasible and failed evaluations leave it unchanged). With two objectives
/// each step is O(log n) (an incremental staircase); with more, the front is kept and the
/// hypervolume recomputed only when a new point enters it.
#[derive(Debug, Clone)]
pub struct HypervolumeTrace {
    reference: Vec<f64>,
    stairs: Option<Staircase>,
    front: Vec<f64>,
    current: f64,
}

impl HypervolumeTrace {
    /// A trace against `reference` (one coordinate per objective).
    pub fn new(reference: &[f64]) -> Result<HypervolumeTrace, SearchError> {
        if reference.is_empty() || reference.iter().any(|r| r.is_nan()) {
            return Err(SearchError::Shape(
                "the reference point must have at least one coordinate and no NaN".into(),
            ));
        }
        Ok(HypervolumeTrace {
            reference: reference.to_vec(),
            stairs: (reference.len() == 2).then(|| Staircase::new([reference[0], reference[1]])),
            front: Vec::new(),
            current: 0.0,
        })
    }

    /// Adds one evaluation and returns the hypervolume after it. `violation > 0` (or NaN)
    /// means infeasible; objectives must have the reference point's length.
    pub fn push(&mut self, objectives: &[f64], violation: f64) -> Result<f64, SearchError> {
        let m = self.reference.len();
        if objectives.len() != m {
            return Err(SearchError::Shape(format!(
                "{} objectives for a reference point of {m}",
                objectives.len()
            )));
        }
        let inside = objectives.iter().zip(&self.reference).all(|(x, r)| x < r);
        if violation.is_nan() || violation > 0.0 || !inside {
            return Ok(self.current);
        }
        if let Some(stairs) = &mut self.stairs {
            stairs.insert(objectives[0], objectives[1]);
            self.current = stairs.area();
            return Ok(self.current);
        }
        if self
            .front
            .chunks_exact(m)
            .any(|q| q.iter().zip(objectives).all(|(a, b)| a <= b))
        {
            return Ok(self.current);
        }
        let mut kept = Vec::with_capacity(self.front.len() + m);
        for q in self.front.chunks_exact(m) {
            if !dominates(objectives, q) {
                kept.extend_from_slice(q);
            }
        }
        kept.extend_from_slice(objectives);
        self.front = kept;
        self.current = hypervolume(&self.front, &self.reference)?;
        Ok(self.current)
    }

    /// The hypervolume so far.
    pub fn current(&self) -> f64 {
        self.current
    }
}

/// The hypervolume of the feasible front after each of the evaluations (rows of `objectives`
/// with their `violation`s, in id order).
pub fn hypervolume_trace(
    objectives: &[f64],
    violation: &[f64],
    reference: &[f64],
) -> Result<Vec<f64>, SearchError> {
    let m = reference.len();
    if m == 0 || objectives.len() != violation.len() * m {
        return Err(SearchError::Shape(format!(
            "{} objective values for {} evaluations of {m} objectives",
            objectives.len(),
            violation.len()
        )));
    }
    let mut trace = HypervolumeTrace::new(reference)?;
    objectives
        .chunks_exact(m)
        .zip(violation)
        .map(|(f, &cv)| trace.push(f, cv))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn igd_and_igd_plus_by_hand() {
        // Reference front {(0,1), (1,0)}, one solution (0.5, 1.5).
        let z = [0.0, 1.0, 1.0, 0.0];
        let a = [0.5, 1.5];
        // IGD: (sqrt(0.5) + sqrt(0.25 + 2.25)) / 2
        let expect_igd = (0.5f64.sqrt() + 2.5f64.sqrt()) / 2.0;
        assert!((igd(&a, &z, 2).unwrap() - expect_igd).abs() < 1e-12);
        // IGD+: to (0,1) both objectives are worse by 0.5 -> sqrt(0.5); to (1,0) only the
        // second is worse, by 1.5 -> 1.5.
        let expect_plus = (0.5f64.sqrt() + 1.5) / 2.0;
        assert!((igd_plus(&a, &z, 2).unwrap() - expect_plus).abs() < 1e-12);
        // A solution on the front scores 0 for the point it sits on.
        assert_eq!(igd_plus(&[0.0, 1.0, 1.0, 0.0], &z, 2).unwrap(), 0.0);
        assert_eq!(igd(&[], &z, 2).unwrap(), f64::INFINITY);
    }

    #[test]
    fn igd_plus_is_weakly_pareto_compliant_where_igd_is_not() {
        // Reference front {(0.5, 0.5)}. A = {(0, 0.6)} dominates B = {(0.4, 0.6)}, yet IGD
        // prefers B (it is closer in Euclidean distance); IGD+ ranks them no worse than
        // equal, as weak Pareto compliance requires (Ishibuchi et al. 2015, section III).
        let z = [0.5, 0.5];
        let (a, b) = ([0.0, 0.6], [0.4, 0.6]);
        assert!(crate::pareto::dominates(&a, &b));
        assert!(igd(&a, &z, 2).unwrap() > igd(&b, &z, 2).unwrap());
        let (pa, pb) = (igd_plus(&a, &z, 2).unwrap(), igd_plus(&b, &z, 2).unwrap());
        assert!(pa <= pb + 1e-15);
        assert!((pa - 0.1).abs() < 1e-12 && (pb - 0.1).abs() < 1e-12);
    }

    #[test]
    fn trace_counts_only_feasible_improvements() {
        let objs = [0.5, 0.5, 0.1, 0.1, 0.8, 0.2, 2.0, 0.0, 0.2, 0.8];
        let cv = [0.0, 1.0, 0.0, 0.0, 0.0];
        let trace = hypervolume_trace(&objs, &cv, &[1.0, 1.0]).unwrap();
        assert_eq!(trace[0], 0.25);
        assert_eq!(trace[1], 0.25, "infeasible point ignored");
        assert!((trace[2] - (0.25 + 0.2 * 0.3)).abs() < 1e-12);
        assert_eq!(trace[3], trace[2], "outside the reference box");
        assert!((trace[4] - (0.25 + 0.06 + 0.3 * 0.2)).abs() < 1e-12);
        // The same through the general path (3 objectives, constant third).
        let objs3: Vec<f64> = objs.chunks(2).flat_map(|p| [p[0], p[1], 0.0]).collect();
        let trace3 = hypervolume_trace(&objs3, &cv, &[1.0, 1.0, 1.0]).unwrap();
        for (a, b) in trace.iter().zip(&trace3) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}
