//! Training curves: loss vs step and kNN / linear-probe accuracy vs step, 1–4 runs overlaid.
//!
//! Left panel: each run's per-step loss as a thin translucent line with an exponential moving
//! average over it (span max(5, steps/50); runs shorter than [`SMOOTH_MIN_STEPS`] are drawn raw
//! only). Long histories are decimated to at most [`MAX_LINE_POINTS`] points per line, keeping
//! each bucket's minimum and maximum so spikes stay visible. Right panel: kNN accuracy (solid,
//! dots) and linear-probe accuracy (dashed, open circles) at the evaluation steps, y ∈ [0, 1].

use plotters::prelude::*;

use super::{
    Area, CURVES_SVG_SIZE, Corner, DESC_SIZE, FONT_FAMILY, FigureError, GRID, INK, LegendEntry,
    Scale, TICK_SIZE, TITLE_SIZE, draw_legend, draw_note, ellipsize, padded_range, palette,
    render_png, render_svg, tick_decimals,
};
use crate::train::History;

/// At most this many runs are overlaid.
pub const MAX_RUNS: usize = 4;
/// Runs with fewer steps are drawn without the smoothed line.
const SMOOTH_MIN_STEPS: usize = 20;
/// Lines longer than this are decimated (min/max per bucket).
const MAX_LINE_POINTS: usize = 1500;
/// Legend labels are cut to this many characters.
const LABEL_CHARS: usize = 40;

/// One run to draw: its legend label and its history.
pub struct RunSeries<'a> {
    /// Legend label (e.g. the loss spec or "run 2").
    pub label: String,
    /// The run's record.
    pub history: &'a History,
}

/// Training curves as an SVG document of [`CURVES_SVG_SIZE`].
pub fn curves_svg(runs: &[RunSeries]) -> Result<String, FigureError> {
    let data = CurvesData::new(runs)?;
    render_svg(CURVES_SVG_SIZE, |root| draw(root, &data, Scale::ONE))
}

/// Training curves as PNG bytes of `width` × `height` pixels.
pub fn curves_png(runs: &[RunSeries], width: u32, height: u32) -> Result<Vec<u8>, FigureError> {
    let data = CurvesData::new(runs)?;
    let s = Scale::fit((width, height), CURVES_SVG_SIZE);
    render_png(width, height, |root| draw(root, &data, s))
}

/// Validates `runs` and draws them on `root` at scale `s` (the live figure's entry).
pub(crate) fn draw_runs<B: DrawingBackend>(
    root: &Area<B>,
    runs: &[RunSeries],
    s: Scale,
) -> Result<(), FigureError> {
    draw(root, &CurvesData::new(runs)?, s)
}

/// Prepared lines of one run.
struct RunLines {
    label: String,
    raw: Vec<(f64, f64)>,
    smooth: Vec<(f64, f64)>,
    knn: Vec<(f64, f64)>,
    probe: Vec<(f64, f64)>,
}

/// Everything the drawing needs, validated.
struct CurvesData {
    runs: Vec<RunLines>,
    max_step: f64,
    loss_range: (f64, f64),
    any_probe: bool,
}

impl CurvesData {
    fn new(runs: &[RunSeries]) -> Result<Self, FigureError> {
        if runs.is_empty() {
            return Err(FigureError::NoData("no runs given".into()));
        }
        if runs.len() > MAX_RUNS {
            return Err(FigureError::TooManyRuns {
                got: runs.len(),
                max: MAX_RUNS,
            });
        }
        if runs
            .iter()
            .all(|r| r.history.loss.is_empty() && r.history.evals.is_empty())
        {
            return Err(FigureError::NoData(
                "the runs have no recorded steps or evaluations".into(),
            ));
        }
        let mut lines = Vec::with_capacity(runs.len());
        let mut max_step = 1.0f64;
        for r in runs {
            let h = r.history;
            let raw_all: Vec<(f64, f64)> = h
                .loss
                .iter()
                .enumerate()
                .map(|(i, &l)| ((i + 1) as f64, f64::from(l)))
                .filter(|p| p.1.is_finite())
                .collect();
            let smooth = if h.loss.len() >= SMOOTH_MIN_STEPS {
                decimate(&ema(&raw_all, (h.loss.len() / 50).max(5)))
            } else {
                Vec::new()
            };
            let knn: Vec<(f64, f64)> = h
                .evals
                .iter()
                .map(|e| (e.step as f64, e.knn_acc))
                .filter(|p| p.1.is_finite())
                .collect();
            let probe: Vec<(f64, f64)> = h
                .evals
                .iter()
                .filter_map(|e| e.probe_acc.map(|p| (e.step as f64, p)))
                .filter(|p| p.1.is_finite())
                .collect();
            max_step = max_step.max(h.loss.len() as f64);
            if let Some(e) = h.evals.last() {
                max_step = max_step.max(e.step as f64);
            }
            lines.push(RunLines {
                label: ellipsize(&r.label, LABEL_CHARS),
                raw: decimate(&raw_all),
                smooth,
                knn,
                probe,
            });
        }
        let loss_range = padded_range(lines.iter().flat_map(|l| l.raw.iter().map(|p| p.1)));
        let any_acc = lines
            .iter()
            .any(|l| !l.knn.is_empty() || !l.probe.is_empty());
        let loss_range = match (loss_range, any_acc) {
            (Some(r), _) => r,
            (None, true) => (0.0, 1.0),
            (None, false) => return Err(FigureError::NonFinite("loss and accuracy".into())),
        };
        let any_probe = lines.iter().any(|l| !l.probe.is_empty());
        Ok(Self {
            runs: lines,
            max_step,
            loss_range,
            any_probe,
        })
    }
}

/// Exponential moving average with the given span (α = 2/(span+1)), started at the first value.
fn ema(points: &[(f64, f64)], span: usize) -> Vec<(f64, f64)> {
    let a = 2.0 / (span as f64 + 1.0);
    let mut out = Vec::with_capacity(points.len());
    let mut m = None;
    for &(x, y) in points {
        let v = match m {
            None => y,
            Some(prev) => prev + a * (y - prev),
        };
        m = Some(v);
        out.push((x, v));
    }
    out
}

/// Keeps at most [`MAX_LINE_POINTS`] points: each bucket's minimum and maximum, in x order.
fn decimate(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_LINE_POINTS {
        return points.to_vec();
    }
    let bucket = points.len().div_ceil(MAX_LINE_POINTS / 2);
    let mut out = Vec::with_capacity(MAX_LINE_POINTS + 2);
    for chunk in points.chunks(bucket) {
        let lo = chunk
            .iter()
            .copied()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or(chunk[0]);
        let hi = chunk
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or(chunk[0]);
        if lo.0 <= hi.0 {
            out.push(lo);
            out.push(hi);
        } else {
            out.push(hi);
            out.push(lo);
        }
    }
    out
}

fn draw<B: DrawingBackend>(root: &Area<B>, data: &CurvesData, s: Scale) -> Result<(), FigureError> {
    root.fill(&WHITE)?;
    let title = (FONT_FAMILY, s.font(TITLE_SIZE)).into_font().color(&INK);
    let body = root.titled("training curves", title)?;
    let panels = body.split_evenly((1, 2));
    let step_fmt = |v: &f64| format!("{v:.0}");
    let desc = (FONT_FAMILY, s.font(DESC_SIZE)).into_font().color(&INK);
    let ticks = (FONT_FAMILY, s.font(TICK_SIZE)).into_font().color(&INK);
    let caption = (FONT_FAMILY, s.font(DESC_SIZE + 1.0))
        .into_font()
        .color(&INK);
    let (thick, thin) = (s.stroke(2.0), s.stroke(1.0));

    // Loss panel.
    let (lo, hi) = data.loss_range;
    let loss_dec = tick_decimals(hi - lo);
    let loss_fmt = move |v: &f64| format!("{v:.loss_dec$}");
    let mut chart = ChartBuilder::on(&panels[0])
        .margin(s.px(10.0))
        .caption("loss", caption.clone())
        .x_label_area_size(s.px(48.0))
        .y_label_area_size(s.px(72.0))
        .build_cartesian_2d(0.0..data.max_step, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss")
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&step_fmt)
        .y_label_formatter(&loss_fmt)
        .label_style(ticks.clone())
        .axis_desc_style(desc.clone())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK)
        .draw()?;
    for (k, run) in data.runs.iter().enumerate() {
        let c = palette(k);
        if run.smooth.is_empty() {
            chart.draw_series(LineSeries::new(
                run.raw.iter().copied(),
                c.stroke_width(thick),
            ))?;
        } else {
            chart.draw_series(LineSeries::new(
                run.raw.iter().copied(),
                c.mix(0.3).stroke_width(thin),
            ))?;
            chart.draw_series(LineSeries::new(
                run.smooth.iter().copied(),
                c.stroke_width(thick),
            ))?;
        }
    }
    let legend: Vec<LegendEntry> = data
        .runs
        .iter()
        .enumerate()
        .map(|(k, r)| LegendEntry {
            label: r.label.clone(),
            color: palette(k),
            dashed: false,
            marker: false,
        })
        .collect();
    let plot = chart.plotting_area().get_pixel_range();
    draw_legend(&panels[0], plot, &legend, Corner::TopRight, s)?;

    // Accuracy panel.
    let acc_fmt = |v: &f64| format!("{v:.1}");
    let mut chart = ChartBuilder::on(&panels[1])
        .margin(s.px(10.0))
        .caption("held-out accuracy", caption)
        .x_label_area_size(s.px(48.0))
        .y_label_area_size(s.px(60.0))
        .build_cartesian_2d(0.0..data.max_step, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("accuracy")
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&step_fmt)
        .y_label_formatter(&acc_fmt)
        .label_style(ticks.clone())
        .axis_desc_style(desc)
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK)
        .draw()?;
    let mut any_acc = false;
    for (k, run) in data.runs.iter().enumerate() {
        let c = palette(k);
        any_acc |= !run.knn.is_empty() || !run.probe.is_empty();
        chart.draw_series(LineSeries::new(
            run.knn.iter().copied(),
            c.stroke_width(thick),
        ))?;
        if run.knn.len() <= 60 {
            let r = s.stroke(3.0);
            chart.draw_series(run.knn.iter().map(|&p| Circle::new(p, r, c.filled())))?;
        }
        if run.probe.len() >= 2 {
            chart.draw_series(DashedLineSeries::new(
                run.probe.iter().copied(),
                s.px(7.0),
                s.px(5.0),
                c.stroke_width(thick),
            ))?;
        }
        chart.draw_series(
            run.probe
                .iter()
                .map(|&p| Circle::new(p, s.stroke(4.0), c.stroke_width(thick))),
        )?;
    }
    let plot = chart.plotting_area().get_pixel_range();
    if any_acc {
        let mut key = vec![LegendEntry {
            label: "kNN".into(),
            color: INK,
            dashed: false,
            marker: true,
        }];
        if data.any_probe {
            key.push(LegendEntry {
                label: "linear probe".into(),
                color: INK,
                dashed: true,
                marker: true,
            });
        }
        draw_legend(&panels[1], plot, &key, Corner::BottomRight, s)?;
    } else {
        draw_note(&panels[1], plot, "no evaluations yet", s)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimate_keeps_extremes_and_bounds_length() {
        let mut pts: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, 1.0)).collect();
        pts[4321].1 = 50.0;
        pts[777].1 = -3.0;
        let d = decimate(&pts);
        assert!(d.len() <= MAX_LINE_POINTS + 2, "{}", d.len());
        assert!(d.contains(&(4321.0, 50.0)));
        assert!(d.contains(&(777.0, -3.0)));
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0), "x order kept");
    }

    #[test]
    fn ema_starts_at_first_value_and_tracks_a_step() {
        let pts: Vec<(f64, f64)> = (0..100)
            .map(|i| (i as f64, if i < 50 { 0.0 } else { 1.0 }))
            .collect();
        let e = ema(&pts, 5);
        assert_eq!(e[0], (0.0, 0.0));
        assert!(e[49].1.abs() < 1e-12);
        assert!(e[52].1 > 0.3 && e[52].1 < 1.0);
        assert!((e[99].1 - 1.0).abs() < 1e-6);
    }
}
