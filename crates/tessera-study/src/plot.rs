//! SVG plots of a run (plotters, SVG backend, no font library): the designs in 2-D
//! projections of the objectives (front highlighted, infeasible greyed), and the
//! hypervolume over evaluations.

use crate::StudyError;
use crate::config::LoadedConfig;
use crate::report::RunSummary;
use crate::run::Scored;
use plotters::prelude::*;
use std::path::Path;

fn err(path: &Path, e: impl std::fmt::Display) -> StudyError {
    StudyError::io(path, e)
}

/// `front-A-vs-B.svg` for every pair of objectives (at most the first four objectives), and
/// `hypervolume.svg`.
pub fn write_plots<R: Scored + Sync>(
    dir: &Path,
    cfg: &LoadedConfig,
    records: &[R],
    s: &RunSummary,
    hv_trace: &[f64],
) -> Result<(), StudyError> {
    let names: Vec<&str> = cfg
        .config
        .objectives
        .iter()
        .map(|o| o.metric.as_str())
        .collect();
    let m = names.len().min(4);
    let on_front: std::collections::HashSet<u64> = s.front.iter().copied().collect();
    // The plots are independent: drawn in parallel (on the caller's rayon pool).
    let pairs: Vec<(usize, usize)> = (0..m)
        .flat_map(|a| (a + 1..m).map(move |b| (a, b)))
        .collect();
    use rayon::prelude::*;
    pairs.par_iter().try_for_each(|&(a, b)| {
        let path = dir.join(format!("front-{}-vs-{}.svg", names[a], names[b]));
        scatter(&path, records, &on_front, a, b, names[a], names[b], &s.name)
    })?;
    if !hv_trace.is_empty() {
        let path = dir.join("hypervolume.svg");
        hypervolume(&path, hv_trace, &s.name)?;
    }
    Ok(())
}

fn range(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let lo = xs.clone().fold(f64::INFINITY, f64::min);
    let hi = xs.fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-12);
    (lo - pad, hi + pad)
}

#[allow(clippy::too_many_arguments)]
fn scatter<R: Scored>(
    path: &Path,
    records: &[R],
    on_front: &std::collections::HashSet<u64>,
    a: usize,
    b: usize,
    xa: &str,
    yb: &str,
    title: &str,
) -> Result<(), StudyError> {
    let scored: Vec<&R> = records
        .iter()
        .filter(|r| r.objectives().len() > b)
        .collect();
    let (x0, x1) = range(scored.iter().map(|r| r.objectives()[a]));
    let (y0, y1) = range(scored.iter().map(|r| r.objectives()[b]));
    // One marker per canvas pixel and class: markers on the same pixel are drawn over each
    // other, so the picture is the same, and a 200,000-design run gives a file of a few
    // hundred kilobytes instead of 18 MB.
    let (w, h) = (720.0, 540.0);
    // A bitmap per class of the pixels already drawn (the canvas is 720 x 540 and every
    // point maps inside it: the ranges pad the data).
    let (wi, hi) = (w as usize + 1, h as usize + 1);
    let pixel = |r: &R| {
        let x = ((r.objectives()[a] - x0) / (x1 - x0) * w) as usize;
        let y = ((r.objectives()[b] - y0) / (y1 - y0) * h) as usize;
        x.min(wi - 1) * hi + y.min(hi - 1)
    };
    let mut seen = [vec![false; wi * hi], vec![false; wi * hi]];
    let mut first_on_pixel = |r: &R, class: usize| {
        let p = pixel(r);
        !std::mem::replace(&mut seen[class][p], true)
    };
    let infeasible: Vec<&R> = scored
        .iter()
        .copied()
        .filter(|r| !r.feasible() && first_on_pixel(r, 0))
        .collect();
    let dominated: Vec<&R> = scored
        .iter()
        .copied()
        .filter(|r| r.feasible() && !on_front.contains(&r.id()) && first_on_pixel(r, 1))
        .collect();
    let root = SVGBackend::new(path, (720, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{title}: {yb} vs {xa}"), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| err(path, e))?;
    chart
        .configure_mesh()
        .x_desc(xa)
        .y_desc(yb)
        .draw()
        .map_err(|e| err(path, e))?;
    let grey = RGBColor(190, 190, 190);
    chart
        .draw_series(
            infeasible
                .iter()
                .map(|r| Circle::new((r.objectives()[a], r.objectives()[b]), 2, grey.filled())),
        )
        .map_err(|e| err(path, e))?
        .label("infeasible")
        .legend(move |(x, y)| Circle::new((x, y), 3, grey.filled()));
    chart
        .draw_series(dominated.iter().map(|r| {
            Circle::new(
                (r.objectives()[a], r.objectives()[b]),
                2,
                BLUE.mix(0.5).filled(),
            )
        }))
        .map_err(|e| err(path, e))?
        .label("feasible")
        .legend(|(x, y)| Circle::new((x, y), 3, BLUE.mix(0.5).filled()));
    chart
        .draw_series(
            scored
                .iter()
                .filter(|r| on_front.contains(&r.id()))
                .map(|r| Circle::new((r.objectives()[a], r.objectives()[b]), 4, RED.filled())),
        )
        .map_err(|e| err(path, e))?
        .label("Pareto front")
        .legend(|(x, y)| Circle::new((x, y), 4, RED.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(path, e))?;
    root.present().map_err(|e| err(path, e))
}

fn hypervolume(path: &Path, trace: &[f64], title: &str) -> Result<(), StudyError> {
    let n = trace.len() as f64;
    let hi = trace.iter().copied().fold(0.0f64, f64::max).max(1e-12) * 1.05;
    let root = SVGBackend::new(path, (720, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{title}: hypervolume over evaluations"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n.max(1.0), 0.0..hi)
        .map_err(|e| err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("evaluations")
        .y_desc("hypervolume")
        .draw()
        .map_err(|e| err(path, e))?;
    // At most 2,000 points: the trace is a step function, so sampling keeps its shape.
    let step = (trace.len() / 2000).max(1);
    chart
        .draw_series(LineSeries::new(
            trace
                .iter()
                .enumerate()
                .filter(|(i, _)| i % step == 0 || *i + 1 == trace.len())
                .map(|(i, v)| ((i + 1) as f64, *v)),
            &BLUE,
        ))
        .map_err(|e| err(path, e))?;
    root.present().map_err(|e| err(path, e))
}
