//! Plot axes that stay readable at any size: every lab plot names both axes (with units) and
//! labels at least three ticks on each, down to plots 150 points wide and 100 high (smaller than
//! any the lab draws; below that three labels no longer fit).
//!
//! egui_plot's default grid steps by powers of ten and labels a tick only when the labels are
//! 60 points apart, so a 150-point-wide chart can end up with one or two labelled ticks. A
//! [`LabPlot`] picks its own "nice" 1-2-5 steps instead: the step nearest a comfortable
//! spacing, made smaller until at least three ticks fall inside the visible range (as long as
//! their labels still fit). [`Scale::Log1p`] is a logarithmic step axis that keeps step 0
//! (ticks 0, 1, 10, 100, …).
//!
//! Every shown plot reports its rectangle, axis names and the number of labelled ticks of the
//! frame in [`PlotAxes`] (collected by [`take_reports`]), which the lab publishes for browser
//! tests (`layout.plots` in `#alphacl-status`) and the UI tests read.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use egui_plot::{AxisHints, GridInput, GridMark, Plot, PlotResponse, PlotUi};

use super::ShowOutlined;

/// How plot values map to an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Plot value = data value.
    Linear,
    /// Plot value = log₁₀(1 + n) for a count n ≥ 0 (see [`log1p_x`]); ticks at 0, 1, 10, 100, …
    Log1p,
}

/// The plot coordinate of count `n` on a [`Scale::Log1p`] axis.
pub fn log1p_x(n: f64) -> f64 {
    (1.0 + n.max(0.0)).log10()
}

/// One shown plot, as the lab publishes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlotAxes {
    /// The plot's rectangle `[x, y, w, h]` in points: its frame, tick labels and axis names.
    pub rect: [f32; 4],
    /// Name of the x axis (with its unit).
    pub x_label: String,
    /// Name of the y axis (with its unit).
    pub y_label: String,
    /// Labelled ticks on the x axis.
    pub x_ticks: usize,
    /// Labelled ticks on the y axis.
    pub y_ticks: usize,
}

/// Every plot shown in a frame, by plot name.
pub type PlotReports = BTreeMap<String, PlotAxes>;

fn reports_id() -> egui::Id {
    egui::Id::unique("alphacl-plot-axes")
}

/// The plots shown since the last call (by plot name), emptying the record.
pub fn take_reports(ctx: &egui::Context) -> PlotReports {
    ctx.data_mut(|d| d.remove_temp::<PlotReports>(reports_id()))
        .unwrap_or_default()
}

/// Smallest distance between two labelled ticks (points): x labels are wide, y labels tall.
/// (A label must also fit its own width: see `label_width`.)
const MIN_LABEL_GAP: [f32; 2] = [28.0, 18.0];
/// The tick spacing aimed at (points) when there is room.
const TARGET_GAP: [f64; 2] = [90.0, 45.0];
/// egui_plot's finest grid spacing (points); `GridInput::base_step_size` is measured in it.
const GRID_MIN: f32 = 8.0;
/// Width of one character of a tick label (points, body font, generous).
const CHAR_W: f32 = 8.5;

/// A tick label: `value` with as many decimals as `step` needs (no "-0").
pub fn tick_text(value: f64, step: f64) -> String {
    let decimals = if step > 0.0 {
        (-step.log10().floor()).clamp(0.0, 8.0) as usize
    } else {
        0
    };
    let v = if value.abs() < step.abs() * 1e-6 {
        0.0
    } else {
        value
    };
    format!("{v:.decimals$}")
}

/// A count on a log axis, short: 1, 10, 100, 1k, 10k, 1M.
fn count_text(n: f64) -> String {
    let n = n.round();
    if n >= 1e6 {
        format!("{}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{}k", n / 1e3)
    } else {
        format!("{n}")
    }
}

/// The `step_size` of a grid-only mark: egui_plot labels a mark whose step spans more than
/// the label spacing, so a minor mark's step is capped just below it (`per_px`: plot units
/// per point).
fn grid_only(step: f64, per_px: f64, axis: usize) -> f64 {
    step.min(per_px * f64::from(MIN_LABEL_GAP[axis] - 2.0))
}

fn label_width(text: &str) -> f32 {
    text.chars().count() as f32 * CHAR_W + 6.0
}

/// Ticks of one axis: the marks to draw (grid lines) and how many get a label.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    /// Marks for egui_plot (labelled marks have the larger `step_size`).
    pub marks: Vec<GridMark>,
    /// Number of marks egui_plot labels.
    pub labelled: usize,
}

/// Multiples of `step` in `[lo, hi]`.
fn multiples(step: f64, lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = ((lo / step).ceil() as i64, (hi / step).floor() as i64);
    if b < a || b - a > 10_000 {
        return Vec::new();
    }
    (a..=b).map(|k| k as f64 * step).collect()
}

/// The next 1-2-5 step below `s`.
fn smaller_nice(s: f64) -> f64 {
    let p = 10f64.powf(s.log10().floor());
    let m = (s / p).round();
    if m >= 5.0 {
        2.0 * p
    } else if m >= 2.0 {
        p
    } else {
        0.5 * p
    }
}

/// The smallest 1-2-5 step ≥ `s`.
fn nice_ceil(s: f64) -> f64 {
    let p = 10f64.powf(s.log10().floor());
    let m = s / p;
    let n = if m <= 1.0 + 1e-9 {
        1.0
    } else if m <= 2.0 + 1e-9 {
        2.0
    } else if m <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    n * p
}

/// Linear ticks over `bounds` on an axis `px` points long (`axis` 0 = x, 1 = y).
pub fn linear_ticks(bounds: (f64, f64), px: f32, axis: usize) -> Ticks {
    let (lo, hi) = bounds;
    let range = hi - lo;
    if !(range.is_finite() && range > 0.0 && px > 1.0) {
        return Ticks {
            marks: Vec::new(),
            labelled: 0,
        };
    }
    let per_px = range / f64::from(px);
    let fits = |s: f64| {
        let gap = (s / per_px) as f32;
        gap > MIN_LABEL_GAP[axis]
            && (axis == 1
                || multiples(s, lo, hi)
                    .iter()
                    .all(|&v| label_width(&tick_text(v, s)) <= gap))
    };
    let mut step = nice_ceil(per_px * TARGET_GAP[axis]);
    while multiples(step, lo, hi).len() < 3 && fits(smaller_nice(step)) {
        step = smaller_nice(step);
    }
    let labelled_values = multiples(step, lo, hi);
    let labelled = if fits(step) { labelled_values.len() } else { 0 };
    let minor = step
        / if (step / nice_ceil(step) - 1.0).abs() < 1e-9 {
            5.0
        } else {
            2.0
        };
    let mut marks: Vec<GridMark> = multiples(minor, lo, hi)
        .into_iter()
        .filter(|v| labelled_values.iter().all(|l| (l - v).abs() > minor * 0.1))
        .map(|value| GridMark {
            value,
            step_size: grid_only(minor, per_px, axis),
        })
        .collect();
    marks.extend(labelled_values.into_iter().map(|value| GridMark {
        value,
        step_size: step,
    }));
    Ticks { marks, labelled }
}

/// Ticks of a [`Scale::Log1p`] axis over `bounds` (plot coordinates), `px` points long: counts
/// 0, 1, 10, 100, … labelled where there is room, 2…9 × 10^k as grid lines.
pub fn log1p_ticks(bounds: (f64, f64), px: f32, axis: usize) -> Ticks {
    let (lo, hi) = bounds;
    if !(hi > lo && hi.is_finite() && px > 1.0) {
        return Ticks {
            marks: Vec::new(),
            labelled: 0,
        };
    }
    let per_unit = f64::from(px) / (hi - lo);
    let mut majors = vec![0.0];
    let mut n = 1.0;
    while log1p_x(n) <= hi && n < 1e15 {
        majors.push(n);
        n *= 10.0;
    }
    let mut marks = Vec::new();
    let mut labelled = 0;
    for (k, &n) in majors.iter().enumerate() {
        let x = log1p_x(n);
        // The gap to the next major tick decides whether this one is labelled.
        let next = majors
            .get(k + 1)
            .map_or(log1p_x(n.max(1.0) * 10.0), |&m| log1p_x(m));
        let gap = next - x;
        if x >= lo && x <= hi {
            let pts = (gap * per_unit) as f32;
            if pts > MIN_LABEL_GAP[axis] && (axis == 1 || label_width(&count_text(n)) <= pts) {
                labelled += 1;
            }
            marks.push(GridMark {
                value: x,
                step_size: gap,
            });
        }
        if n >= 1.0 {
            for m in 2..10 {
                let x = log1p_x(n * f64::from(m));
                if x >= lo && x <= hi {
                    marks.push(GridMark {
                        value: x,
                        step_size: grid_only(gap / 10.0, 1.0 / per_unit, axis),
                    });
                }
            }
        }
    }
    Ticks { marks, labelled }
}

/// The text of a tick of `scale` at plot value `v`.
fn format_tick(scale: Scale, mark: GridMark) -> String {
    match scale {
        Scale::Linear => tick_text(mark.value, mark.step_size),
        Scale::Log1p => count_text(10f64.powf(mark.value) - 1.0),
    }
}

/// One axis of a [`LabPlot`].
#[derive(Debug, Clone)]
struct AxisSpec {
    label: String,
    scale: Scale,
    ticks: Rc<Cell<usize>>,
}

impl AxisSpec {
    fn hints(&self, axis: usize) -> AxisHints<'static> {
        let scale = self.scale;
        let h = if axis == 0 {
            AxisHints::new_x()
        } else {
            AxisHints::new_y()
        };
        h.label(self.label.clone())
            // egui_plot labels a tick when its gap exceeds the range's start; ours are chosen
            // to be at least that far apart.
            .label_spacing(MIN_LABEL_GAP[axis] - 1.0..=MIN_LABEL_GAP[axis])
            .formatter(move |mark, _| format_tick(scale, mark))
    }

    fn spacer(&self, axis: usize) -> impl Fn(GridInput) -> Vec<GridMark> + 'static {
        let (scale, ticks) = (self.scale, self.ticks.clone());
        move |input: GridInput| {
            let range = input.bounds.1 - input.bounds.0;
            let px = if input.base_step_size > 0.0 {
                (range / input.base_step_size) as f32 * GRID_MIN
            } else {
                0.0
            };
            let t = match scale {
                Scale::Linear => linear_ticks(input.bounds, px, axis),
                Scale::Log1p => log1p_ticks(input.bounds, px, axis),
            };
            ticks.set(t.labelled);
            t.marks
        }
    }
}

/// An egui_plot [`Plot`] with named axes and readable ticks, reported when shown.
pub struct LabPlot<'a> {
    name: String,
    plot: Plot<'a>,
    axes: [AxisSpec; 2],
}

impl<'a> LabPlot<'a> {
    /// A plot named `name` (its egui id) with axes `x` and `y` (names with units).
    pub fn new(name: &str, x: &str, y: &str) -> Self {
        let spec = |label: &str| AxisSpec {
            label: label.to_string(),
            scale: Scale::Linear,
            ticks: Rc::new(Cell::new(0)),
        };
        Self {
            name: name.to_string(),
            plot: Plot::new(name),
            axes: [spec(x), spec(y)],
        }
    }

    /// Sets the scale of the x axis.
    pub fn x_scale(mut self, scale: Scale) -> Self {
        self.axes[0].scale = scale;
        self
    }

    /// Configures the underlying plot (size, legend, bounds, …).
    pub fn with(mut self, f: impl FnOnce(Plot<'a>) -> Plot<'a>) -> Self {
        self.plot = f(self.plot);
        self
    }

    /// Shows the plot (outlined, see [`ShowOutlined`]) and records its [`PlotAxes`].
    pub fn show<R>(
        self,
        ui: &mut egui::Ui,
        build: impl FnOnce(&mut PlotUi<'a>) -> R + 'a,
    ) -> PlotResponse<R> {
        let [x, y] = self.axes;
        let plot = self
            .plot
            .grid_spacing(GRID_MIN..=300.0)
            .custom_x_axes(vec![x.hints(0)])
            .custom_y_axes(vec![y.hints(1)])
            .x_grid_spacer(x.spacer(0))
            .y_grid_spacer(y.spacer(1));
        // In a scope, whose rectangle is the whole plot: frame, tick labels and axis names.
        let scoped = ui.scope(|ui| plot.show_outlined(ui, build));
        let (r, rect) = (scoped.inner, scoped.response.rect);
        let report = PlotAxes {
            rect: [rect.min.x, rect.min.y, rect.width(), rect.height()],
            x_label: x.label,
            y_label: y.label,
            x_ticks: x.ticks.get(),
            y_ticks: y.ticks.get(),
        };
        let name = self.name;
        ui.ctx().data_mut(|d| {
            d.get_temp_mut_or_default::<PlotReports>(reports_id())
                .insert(name, report);
        });
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_linear_axis_still_gets_three_labelled_ticks() {
        // 0..100 over 150 points: egui's powers of ten would label only 0 and 100. Down to
        // 110–150 points (the lab's plots are wider) three labels fit.
        for (bounds, px) in [
            ((0.0, 100.0), 150.0),
            ((-0.3, 0.2), 110.0),
            ((2.0, 2.9), 150.0),
        ] {
            let t = linear_ticks(bounds, px, 0);
            assert!(t.labelled >= 3, "{bounds:?} over {px} pt: {}", t.labelled);
            let t = linear_ticks(bounds, px * 0.66, 1);
            assert!(
                t.labelled >= 3,
                "y {bounds:?} over {} pt: {}",
                px * 0.66,
                t.labelled
            );
        }
        // A big axis is not crowded: about one label per 90 points.
        let t = linear_ticks((0.0, 5000.0), 1200.0, 0);
        assert!((6..=20).contains(&t.labelled), "{}", t.labelled);
    }

    #[test]
    fn egui_default_grid_labels_too_few_ticks_where_ours_labels_three() {
        // egui_plot's default: powers of ten, x labels only where marks are 60+ points apart.
        let (bounds, px) = ((0.0, 100.0), 150.0_f32);
        let input = |b: (f64, f64)| GridInput {
            bounds: b,
            base_step_size: (b.1 - b.0) / f64::from(px) * f64::from(GRID_MIN),
        };
        let marks = egui_plot::log_grid_spacer(10)(input(bounds));
        let egui_labelled = marks
            .iter()
            .filter(|m| (m.step_size / (bounds.1 - bounds.0) * f64::from(px)) as f32 > 60.0)
            .count();
        assert!(egui_labelled < 3, "egui labels {egui_labelled}");
        assert!(linear_ticks(bounds, px, 0).labelled >= 3);
    }

    #[test]
    fn labelled_ticks_are_far_enough_apart_for_their_text() {
        let t = linear_ticks((0.0, 12_000.0), 160.0, 0);
        let mut vals: Vec<f64> = t
            .marks
            .iter()
            .filter(|m| m.step_size == t.marks.iter().map(|m| m.step_size).fold(0.0, f64::max))
            .map(|m| m.value)
            .collect();
        vals.sort_by(f64::total_cmp);
        let gap_pt = (vals[1] - vals[0]) / 12_000.0 * 160.0;
        let widest = vals
            .iter()
            .map(|&v| label_width(&tick_text(v, vals[1] - vals[0])))
            .fold(0.0f32, f32::max);
        assert!(gap_pt as f32 >= widest, "gap {gap_pt} < label {widest}");
    }

    #[test]
    fn tick_text_uses_the_decimals_of_the_step() {
        assert_eq!(tick_text(0.25, 0.05), "0.25");
        assert_eq!(tick_text(200.0, 100.0), "200");
        assert_eq!(tick_text(-1e-17, 0.1), "0.0");
    }

    #[test]
    fn a_log_step_axis_labels_zero_one_ten_hundred() {
        let t = log1p_ticks((0.0, log1p_x(100.0)), 300.0, 0);
        assert_eq!(t.labelled, 4, "{:?}", t.marks);
        let texts: Vec<String> = t
            .marks
            .iter()
            .filter(|m| m.step_size > 0.2)
            .map(|m| format_tick(Scale::Log1p, *m))
            .collect();
        assert_eq!(texts, ["0", "1", "10", "100"]);
        assert_eq!(count_text(1000.0), "1k");
    }
}
