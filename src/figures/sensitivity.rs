//! Sensitivity: metrics of finished runs against one hyper-parameter (τ or p), mean ± std
//! over seeds.
//!
//! One panel per metric (e.g. kNN accuracy, linear-probe accuracy, effective rank), side by
//! side, sharing the x axis; one line per series (e.g. one loss), coloured with
//! [`super::PALETTE`]. Each point is the mean of its seeds' finite values, with a vertical bar
//! of ± one sample standard deviation when there are at least two. When the parameter takes
//! at most [`MAX_VALUE_TICKS`] distinct values the x ticks sit exactly at those values; the
//! x axis is logarithmic on request (τ), linear otherwise (p). Series at the same x are
//! shifted sideways by a small fraction of the axis so that their bars do not hide each other
//! (the ticks stay at the true values). The legend is a strip under the panels.
//!
//! Non-finite handling: non-finite seed values are left out of a point's mean and spread; a
//! point with no finite value in a panel is not drawn there; points whose x is non-finite (or
//! ≤ 0 on a log axis) are dropped; a panel with nothing left says so. Only when no panel has
//! a single point is it an error ([`FigureError::NonFinite`]).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Area, DESC_SIZE, FONT_FAMILY, FigureError, GRID, INK, LEGEND_SIZE, SENSITIVITY_SVG_SIZE, Scale,
    TICK_SIZE, TITLE_SIZE, draw_note, ellipsize, padded_range, palette, render_png, render_svg,
    tick_decimals,
};

/// At most this many series are drawn (the size of [`super::PALETTE`]).
pub const MAX_SENSITIVITY_SERIES: usize = 8;
/// At most this many panels (metrics) side by side.
pub const MAX_SENSITIVITY_PANELS: usize = 4;
/// Up to this many distinct parameter values get a tick each, at the value itself.
pub const MAX_VALUE_TICKS: usize = 12;
/// Legend labels are cut to this many characters.
const LABEL_CHARS: usize = 44;
/// Sideways shift between neighbouring series, as a fraction of the x span.
const DODGE: f64 = 0.012;

/// One parameter value of one series: the value and, per panel, one number per seed.
#[derive(Clone, Debug, PartialEq)]
pub struct SensitivityPoint {
    /// The parameter value (τ, p, …).
    pub x: f64,
    /// `seeds[k]`: the seeds' values of panel `k`'s metric (any length, non-finite allowed).
    pub seeds: Vec<Vec<f64>>,
}

/// One line of the figure: a label (e.g. the loss without the swept parameter) and its points.
#[derive(Clone, Debug, PartialEq)]
pub struct SensitivitySeries {
    /// Legend label.
    pub label: String,
    /// The points, in any order (drawn sorted by x).
    pub points: Vec<SensitivityPoint>,
}

/// A whole sensitivity figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensitivity {
    /// The title over the panels.
    pub title: String,
    /// The x-axis description (e.g. "τ (log scale)").
    pub param: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// One y-axis description per panel, e.g. `["kNN accuracy", "effective rank"]`.
    pub panels: Vec<String>,
    /// The lines.
    pub series: Vec<SensitivitySeries>,
}

/// The sensitivity figure as an SVG document of [`SENSITIVITY_SVG_SIZE`].
pub fn sensitivity_svg(fig: &Sensitivity) -> Result<String, FigureError> {
    let data = Prepared::new(fig)?;
    render_svg(SENSITIVITY_SVG_SIZE, |root| draw(root, &data, Scale::ONE))
}

/// The sensitivity figure as PNG bytes of `width` × `height` pixels.
pub fn sensitivity_png(fig: &Sensitivity, width: u32, height: u32) -> Result<Vec<u8>, FigureError> {
    let data = Prepared::new(fig)?;
    let s = Scale::fit((width, height), SENSITIVITY_SVG_SIZE);
    render_png(width, height, |root| draw(root, &data, s))
}

/// Mean and sample standard deviation of the finite values of `xs`, and how many there were;
/// `None` if none is finite. The spread of a single value is 0.
pub fn finite_mean_std(xs: &[f64]) -> Option<(f64, f64, usize)> {
    let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    let n = finite.len() as f64;
    let m = finite.iter().sum::<f64>() / n;
    let var = if finite.len() > 1 {
        finite.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Some((m, var.sqrt(), finite.len()))
}

/// A drawn point: x on the axis's scale (log10 for a log axis), mean and spread.
#[derive(Clone, Copy, Debug)]
struct Mark {
    x: f64,
    mean: f64,
    std: f64,
    n: usize,
}

/// Validated, aggregated input.
struct Prepared {
    title: String,
    param: String,
    panels: Vec<String>,
    labels: Vec<String>,
    /// `marks[series][panel]`, sorted by x.
    marks: Vec<Vec<Vec<Mark>>>,
    x_range: (f64, f64),
    /// Per panel: the y range, or `None` if the panel has no point.
    y_ranges: Vec<Option<(f64, f64)>>,
    /// The distinct x values (axis scale) if few enough to tick each.
    value_ticks: Option<Vec<f64>>,
    log_x: bool,
}

impl Prepared {
    fn new(fig: &Sensitivity) -> Result<Self, FigureError> {
        if fig.panels.is_empty() {
            return Err(FigureError::NoData("no panels (metrics) given".into()));
        }
        if fig.panels.len() > MAX_SENSITIVITY_PANELS {
            return Err(FigureError::TooManyPanels {
                got: fig.panels.len(),
                max: MAX_SENSITIVITY_PANELS,
            });
        }
        if fig.series.iter().all(|s| s.points.is_empty()) {
            return Err(FigureError::NoData("no series with points given".into()));
        }
        if fig.series.len() > MAX_SENSITIVITY_SERIES {
            return Err(FigureError::TooManyRuns {
                got: fig.series.len(),
                max: MAX_SENSITIVITY_SERIES,
            });
        }
        let n_panels = fig.panels.len();
        let mut marks = Vec::with_capacity(fig.series.len());
        for s in &fig.series {
            let mut per_panel = vec![Vec::new(); n_panels];
            for p in &s.points {
                if p.seeds.len() != n_panels {
                    return Err(FigureError::PanelsMismatch {
                        series: s.label.clone(),
                        got: p.seeds.len(),
                        panels: n_panels,
                    });
                }
                let x = if fig.log_x { p.x.log10() } else { p.x };
                if !x.is_finite() {
                    continue;
                }
                for (k, vals) in p.seeds.iter().enumerate() {
                    if let Some((mean, std, n)) = finite_mean_std(vals) {
                        per_panel[k].push(Mark { x, mean, std, n });
                    }
                }
            }
            for m in &mut per_panel {
                m.sort_by(|a, b| a.x.total_cmp(&b.x));
            }
            marks.push(per_panel);
        }
        let all = || marks.iter().flatten().flatten();
        if all().next().is_none() {
            return Err(FigureError::NonFinite("sensitivity values".into()));
        }
        let mut xs: Vec<f64> = all().map(|m| m.x).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * b.abs().max(1.0));
        let (lo, hi) = (xs[0], xs[xs.len() - 1]);
        let pad = if hi > lo {
            0.06 * (hi - lo)
        } else {
            0.5 * lo.abs().max(0.5)
        };
        let x_range = (lo - pad, hi + pad);
        let y_ranges = (0..n_panels)
            .map(|k| {
                padded_range(
                    marks
                        .iter()
                        .flat_map(|s| s[k].iter().flat_map(|m| [m.mean - m.std, m.mean + m.std])),
                )
            })
            .collect();
        Ok(Self {
            title: fig.title.clone(),
            param: fig.param.clone(),
            panels: fig.panels.clone(),
            labels: fig
                .series
                .iter()
                .map(|s| ellipsize(&s.label, LABEL_CHARS))
                .collect(),
            marks,
            x_range,
            y_ranges,
            value_ticks: (xs.len() <= MAX_VALUE_TICKS).then_some(xs),
            log_x: fig.log_x,
        })
    }

    /// The tick label of an axis position.
    fn x_label(&self, x: f64) -> String {
        let v = if self.log_x { 10f64.powf(x) } else { x };
        trim_number(v)
    }
}

/// `0.05`, `2`, `0.333`: at most three significant decimals, no trailing zeros.
fn trim_number(v: f64) -> String {
    let s = if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

fn draw<B: DrawingBackend>(root: &Area<B>, data: &Prepared, s: Scale) -> Result<(), FigureError> {
    root.fill(&WHITE)?;
    let title = (FONT_FAMILY, s.font(TITLE_SIZE)).into_font().color(&INK);
    let body = root.titled(&data.title, title)?;
    let legend_h = legend_height(&body, data, s)?;
    let (_, h) = body.dim_in_pixel();
    let (plots, legend) = body.split_vertically(h.saturating_sub(legend_h));
    let panels = plots.split_evenly((1, data.panels.len()));
    for (k, panel) in panels.iter().enumerate() {
        draw_panel(panel, data, k, s)?;
    }
    draw_legend_strip(&legend, data, s)?;
    Ok(())
}

fn draw_panel<B: DrawingBackend>(
    panel: &Area<B>,
    data: &Prepared,
    k: usize,
    s: Scale,
) -> Result<(), FigureError> {
    let desc = (FONT_FAMILY, s.font(DESC_SIZE)).into_font().color(&INK);
    let ticks = (FONT_FAMILY, s.font(TICK_SIZE)).into_font().color(&INK);
    let (ylo, yhi) = data.y_ranges[k].unwrap_or((0.0, 1.0));
    let dec = tick_decimals(yhi - ylo);
    let y_fmt = move |v: &f64| format!("{v:.dec$}");
    let x_fmt = |v: &f64| data.x_label(*v);
    let (xlo, xhi) = data.x_range;
    let mut chart = ChartBuilder::on(panel)
        .margin(s.px(10.0))
        .margin_top(s.px(14.0))
        .x_label_area_size(s.px(48.0))
        .y_label_area_size(s.px(66.0))
        .build_cartesian_2d(xlo..xhi, ylo..yhi)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(data.param.as_str())
        .y_desc(data.panels[k].as_str())
        .y_labels(6)
        .y_label_formatter(&y_fmt)
        .x_label_formatter(&x_fmt)
        .label_style(ticks.clone())
        .axis_desc_style(desc)
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK);
    if data.value_ticks.is_some() {
        // Ticks at the parameter values are drawn below instead.
        mesh.disable_x_mesh().x_labels(0);
    } else {
        mesh.x_labels(6);
    }
    mesh.draw()?;
    if let Some(values) = &data.value_ticks {
        let tick_len = s.px(5.0);
        let style = ticks.pos(Pos::new(HPos::Center, VPos::Top));
        for &x in values {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, ylo), (x, yhi)],
                GRID.stroke_width(1),
            )))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, ylo))
                    + PathElement::new(vec![(0, 0), (0, tick_len)], INK.stroke_width(1))
                    + Text::new(data.x_label(x), (0, tick_len + s.px(3.0)), style.clone()),
            ))?;
        }
    }
    let n_series = data.marks.len();
    let span = xhi - xlo;
    let (thick, thin) = (s.stroke(2.0), s.stroke(1.5));
    let cap = s.px(4.0);
    let mut any = false;
    for (j, series) in data.marks.iter().enumerate() {
        let c = palette(j);
        let shift = (j as f64 - (n_series as f64 - 1.0) / 2.0) * DODGE * span;
        let marks: Vec<Mark> = series[k]
            .iter()
            .map(|m| Mark {
                x: m.x + shift,
                ..*m
            })
            .collect();
        any |= !marks.is_empty();
        chart.draw_series(LineSeries::new(
            marks.iter().map(|m| (m.x, m.mean)),
            c.stroke_width(thick),
        ))?;
        for m in marks.iter().filter(|m| m.n > 1 && m.std > 0.0) {
            let (a, b) = (m.mean - m.std, m.mean + m.std);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(m.x, a), (m.x, b)],
                c.stroke_width(thin),
            )))?;
            for y in [a, b] {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((m.x, y))
                        + PathElement::new(vec![(-cap, 0), (cap, 0)], c.stroke_width(thin)),
                ))?;
            }
        }
        let r = s.stroke(3.5);
        chart.draw_series(
            marks
                .iter()
                .map(|m| Circle::new((m.x, m.mean), r, c.filled())),
        )?;
    }
    if !any {
        let plot = chart.plotting_area().get_pixel_range();
        draw_note(panel, plot, "no finite values", s)?;
    }
    Ok(())
}

/// Key width, gap after the key, gap between entries, row height: the legend strip's layout.
fn legend_metrics(s: Scale) -> (i32, i32, i32, i32) {
    (s.px(26.0), s.px(6.0), s.px(22.0), s.px(LEGEND_SIZE + 8.0))
}

/// Rows of legend entries (indices) that fit the strip's width, with each label's width.
fn legend_rows<B: DrawingBackend>(
    area: &Area<B>,
    data: &Prepared,
    s: Scale,
) -> Result<Vec<Vec<(usize, i32)>>, FigureError> {
    let style = (FONT_FAMILY, s.font(LEGEND_SIZE)).into_font().color(&INK);
    let (key, gap, between, _) = legend_metrics(s);
    let width = area.dim_in_pixel().0 as i32 - 2 * s.px(20.0);
    let mut rows: Vec<Vec<(usize, i32)>> = vec![Vec::new()];
    let mut used = 0;
    for (j, label) in data.labels.iter().enumerate() {
        let (w, _) = area.estimate_text_size(label, &style)?;
        let w = w as i32;
        let need = key + gap + w + between;
        let row = rows.last_mut().expect("one row");
        if !row.is_empty() && used + need > width {
            rows.push(vec![(j, w)]);
            used = need;
        } else {
            row.push((j, w));
            used += need;
        }
    }
    Ok(rows)
}

fn legend_height<B: DrawingBackend>(
    area: &Area<B>,
    data: &Prepared,
    s: Scale,
) -> Result<u32, FigureError> {
    let rows = legend_rows(area, data, s)?.len() as i32;
    Ok((rows * legend_metrics(s).3 + s.px(10.0)).max(0) as u32)
}

/// The legend: entries left to right, wrapped into centred rows.
fn draw_legend_strip<B: DrawingBackend>(
    area: &Area<B>,
    data: &Prepared,
    s: Scale,
) -> Result<(), FigureError> {
    let style = (FONT_FAMILY, s.font(LEGEND_SIZE))
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let (key, gap, between, row_h) = legend_metrics(s);
    let width = area.dim_in_pixel().0 as i32;
    for (r, row) in legend_rows(area, data, s)?.iter().enumerate() {
        let total: i32 = row
            .iter()
            .map(|(_, w)| key + gap + w + between)
            .sum::<i32>()
            - between;
        let mut x = (width - total).max(0) / 2;
        let cy = r as i32 * row_h + row_h / 2;
        for &(j, w) in row {
            let c = palette(j);
            area.draw(&PathElement::new(
                vec![(x, cy), (x + key, cy)],
                c.stroke_width(s.stroke(2.0)),
            ))?;
            area.draw(&Circle::new((x + key / 2, cy), s.stroke(3.5), c.filled()))?;
            area.draw(&Text::new(
                data.labels[j].clone(),
                (x + key + gap, cy),
                style.clone(),
            ))?;
            x += key + gap + w + between;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_mean_std_skips_non_finite_values() {
        assert_eq!(finite_mean_std(&[]), None);
        assert_eq!(finite_mean_std(&[f64::NAN, f64::INFINITY]), None);
        assert_eq!(finite_mean_std(&[2.0]), Some((2.0, 0.0, 1)));
        let (m, sd, n) = finite_mean_std(&[1.0, f64::NAN, 3.0]).unwrap();
        assert_eq!((m, n), (2.0, 2));
        assert!((sd - std::f64::consts::SQRT_2).abs() < 1e-12);
    }

    #[test]
    fn numbers_are_trimmed_for_ticks() {
        assert_eq!(trim_number(0.05), "0.05");
        assert_eq!(trim_number(2.0), "2");
        assert_eq!(trim_number(1.0 / 3.0), "0.333");
        assert_eq!(trim_number(250.0), "250");
        assert_eq!(trim_number(-0.0001), "0");
    }

    #[test]
    fn log_axes_tick_at_the_values_and_drop_non_positive_x() {
        let fig = Sensitivity {
            title: "t".into(),
            param: "τ".into(),
            log_x: true,
            panels: vec!["a".into()],
            series: vec![SensitivitySeries {
                label: "s".into(),
                points: [0.0, 0.1, 1.0, 10.0]
                    .iter()
                    .map(|&x| SensitivityPoint {
                        x,
                        seeds: vec![vec![x, x]],
                    })
                    .collect(),
            }],
        };
        let p = Prepared::new(&fig).unwrap();
        assert_eq!(p.marks[0][0].len(), 3, "x = 0 has no log");
        let ticks = p.value_ticks.clone().unwrap();
        let labels: Vec<String> = ticks.iter().map(|&x| p.x_label(x)).collect();
        assert_eq!(labels, ["0.1", "1", "10"]);
    }
}
