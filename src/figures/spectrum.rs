//! Embedding spectrum: log₁₀ eigenvalues of the embedding covariance against their index.
//!
//! The input vectors are what [`crate::analysis::spectrum::log_spectrum`] returns (descending
//! log₁₀ eigenvalues of Cov(z), i.e. of the squared singular values of the centred batch / n,
//! floored at 1e-30), one line per series — snapshots of one run, or one per compared run. A
//! collapsed dimension shows as a cliff on the right.

use plotters::prelude::*;

use super::{
    Area, Corner, DESC_SIZE, FONT_FAMILY, FigureError, GRID, INK, LegendEntry, SPECTRUM_SVG_SIZE,
    Scale, TICK_SIZE, TITLE_SIZE, draw_legend, ellipsize, padded_range, palette, render_png,
    render_svg, tick_decimals,
};

/// At most this many series are drawn (the size of [`super::PALETTE`]).
pub const MAX_SPECTRUM_SERIES: usize = 8;
/// Series with at most this many values also get a marker per value.
const MARKER_MAX: usize = 64;

/// The spectrum figure as an SVG document of [`SPECTRUM_SVG_SIZE`].
pub fn spectrum_svg(series: &[(String, Vec<f64>)]) -> Result<String, FigureError> {
    let data = SpectrumData::new(series)?;
    render_svg(SPECTRUM_SVG_SIZE, |root| draw(root, &data, Scale::ONE))
}

/// The spectrum figure as PNG bytes of `width` × `height` pixels.
pub fn spectrum_png(
    series: &[(String, Vec<f64>)],
    width: u32,
    height: u32,
) -> Result<Vec<u8>, FigureError> {
    let data = SpectrumData::new(series)?;
    let s = Scale::fit((width, height), SPECTRUM_SVG_SIZE);
    render_png(width, height, |root| draw(root, &data, s))
}

/// Validates `series` and draws them on `root` at scale `s` (the live figure's entry).
pub(crate) fn draw_series<B: DrawingBackend>(
    root: &Area<B>,
    series: &[(String, Vec<f64>)],
    s: Scale,
) -> Result<(), FigureError> {
    draw(root, &SpectrumData::new(series)?, s)
}

struct SpectrumData {
    lines: Vec<(String, Vec<(f64, f64)>)>,
    max_index: f64,
    y_range: (f64, f64),
}

impl SpectrumData {
    fn new(series: &[(String, Vec<f64>)]) -> Result<Self, FigureError> {
        if series.is_empty() || series.iter().all(|(_, v)| v.is_empty()) {
            return Err(FigureError::NoData("no spectrum values given".into()));
        }
        if series.len() > MAX_SPECTRUM_SERIES {
            return Err(FigureError::TooManyRuns {
                got: series.len(),
                max: MAX_SPECTRUM_SERIES,
            });
        }
        let lines: Vec<(String, Vec<(f64, f64)>)> = series
            .iter()
            .map(|(label, v)| {
                let pts = v
                    .iter()
                    .enumerate()
                    .map(|(i, &y)| ((i + 1) as f64, y))
                    .filter(|p| p.1.is_finite())
                    .collect();
                (ellipsize(label, 40), pts)
            })
            .collect();
        let y_range = padded_range(lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)))
            .ok_or_else(|| FigureError::NonFinite("spectrum".into()))?;
        let max_index = series.iter().map(|(_, v)| v.len()).max().unwrap_or(1) as f64;
        Ok(Self {
            lines,
            max_index,
            y_range,
        })
    }
}

fn draw<B: DrawingBackend>(
    root: &Area<B>,
    data: &SpectrumData,
    s: Scale,
) -> Result<(), FigureError> {
    root.fill(&WHITE)?;
    let title = (FONT_FAMILY, s.font(TITLE_SIZE)).into_font().color(&INK);
    let body = root.titled("embedding spectrum", title)?;
    let (lo, hi) = data.y_range;
    let dec = tick_decimals(hi - lo);
    let y_fmt = move |v: &f64| format!("{v:.dec$}");
    let x_fmt = |v: &f64| format!("{v:.0}");
    let mut chart = ChartBuilder::on(&body)
        .margin(s.px(12.0))
        .x_label_area_size(s.px(48.0))
        .y_label_area_size(s.px(72.0))
        .build_cartesian_2d(0.5..data.max_index + 0.5, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("index k (descending)")
        .y_desc("log10 eigenvalue of Cov(z)")
        .x_labels(8)
        .y_labels(7)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FONT_FAMILY, s.font(TICK_SIZE)).into_font().color(&INK))
        .axis_desc_style((FONT_FAMILY, s.font(DESC_SIZE)).into_font().color(&INK))
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK)
        .draw()?;
    for (k, (_, pts)) in data.lines.iter().enumerate() {
        let c = palette(k);
        chart.draw_series(LineSeries::new(
            pts.iter().copied(),
            c.stroke_width(s.stroke(2.0)),
        ))?;
        if pts.len() <= MARKER_MAX {
            let r = s.stroke(3.0);
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, r, c.filled())))?;
        }
    }
    let legend: Vec<LegendEntry> = data
        .lines
        .iter()
        .enumerate()
        .map(|(k, (label, _))| LegendEntry {
            label: label.clone(),
            color: palette(k),
            dashed: false,
            marker: true,
        })
        .collect();
    let plot = chart.plotting_area().get_pixel_range();
    draw_legend(&body, plot, &legend, Corner::TopRight, s)?;
    Ok(())
}
