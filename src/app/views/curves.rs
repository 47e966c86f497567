//! Loss and kNN-accuracy curves with EMA smoothing.

use super::axes::LabPlot;
use egui_plot::{Legend, Line};

use crate::engine::RunMirror;

/// Curves view.
#[derive(Debug, Clone)]
pub struct CurvesView {
    /// EMA smoothing weight in [0, 0.999].
    pub smoothing: f64,
    /// x-axis in seconds of training time instead of steps.
    pub time_axis: bool,
}

impl Default for CurvesView {
    fn default() -> Self {
        Self {
            smoothing: 0.9,
            time_axis: false,
        }
    }
}

/// The x coordinate of step `step` (1-based): the step itself, or the cumulative training
/// time (s) at that step when `time_axis` is set (falls back to the step if unknown).
pub fn x_of_step(time: &[f32], step: usize, time_axis: bool) -> f64 {
    if time_axis {
        match step.checked_sub(1).and_then(|i| time.get(i)) {
            Some(&t) => f64::from(t),
            None => 0.0,
        }
    } else {
        step as f64
    }
}

/// Exponential moving average with bias correction (as TensorBoard's smoothing slider).
pub fn ema(values: &[f32], w: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    let mut acc = 0.0;
    let mut norm = 0.0;
    for &v in values {
        acc = w * acc + (1.0 - w) * f64::from(v);
        norm = w * norm + (1.0 - w);
        out.push(if norm > 0.0 { acc / norm } else { f64::from(v) });
    }
    out
}

/// The points of the curve `pts` (in x order) that draw the same picture in `columns` pixel
/// columns: the curve is cut into `columns` runs of consecutive points and each run keeps its
/// lowest and highest point, in their original order (an envelope, so a noisy curve keeps its
/// spread, which plain striding loses). The first and last points are always kept, so the
/// result has at most 2·`columns` + 2 points; a curve that short is returned as it is.
///
/// Every frame re-tessellates the curves, and a software rasteriser pays per triangle, so a
/// 100 000-step history must not become 100 000 line segments.
pub fn decimate(pts: &[[f64; 2]], columns: usize) -> Vec<[f64; 2]> {
    let columns = columns.max(1);
    if pts.len() <= 2 * columns + 2 {
        return pts.to_vec();
    }
    let per = pts.len().div_ceil(columns);
    let mut out = Vec::with_capacity(2 * columns + 2);
    for run in pts.chunks(per) {
        let (mut lo, mut hi) = (0, 0);
        for (k, p) in run.iter().enumerate() {
            if p[1] < run[lo][1] {
                lo = k;
            }
            if p[1] > run[hi][1] {
                hi = k;
            }
        }
        out.push(run[lo.min(hi)]);
        if lo != hi {
            out.push(run[lo.max(hi)]);
        }
    }
    if out.first() != pts.first() {
        out.insert(0, pts[0]);
    }
    if out.last() != pts.last() {
        out.push(pts[pts.len() - 1]);
    }
    out
}

impl CurvesView {
    /// Draws the curves into `height` points.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &RunMirror, height: f32) {
        let top = ui.cursor().top();
        ui.horizontal_wrapped(|ui| {
            ui.strong("Loss");
            let l = ui.label("smoothing");
            ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.999))
                .labelled_by(l.id)
                .on_hover_text("EMA weight of the loss curve");
            ui.separator();
            ui.label("x-axis");
            ui.selectable_value(&mut self.time_axis, false, "steps");
            ui.selectable_value(&mut self.time_axis, true, "time (s)");
            ui.separator();
            crate::app::live_figure::figure_toggle(ui, crate::app::live_figure::FigureKind::Curves);
        });
        let x_label = if self.time_axis {
            "training time (s)"
        } else {
            "step (optimiser steps)"
        };
        let h = &t.history;
        let smooth = ema(&h.loss, self.smoothing);
        let pts: Vec<[f64; 2]> = smooth
            .iter()
            .enumerate()
            .map(|(i, &l)| [x_of_step(&h.time, i + 1, self.time_axis), l])
            .collect();
        let pts = decimate(&pts, ui.available_width() as usize);
        // What is left of `height` under the header (wrapped on a narrow column) and the
        // accuracy chart's title, shared 55 : 45.
        let left = height - (ui.cursor().top() - top) - 36.0;
        let plot_h = (left * 0.55).max(110.0);
        LabPlot::new("loss_plot", x_label, "loss L (dimensionless)")
            .with(|p| p.height(plot_h).legend(Legend::default()))
            .show(ui, |p| {
                p.line(Line::new("loss (EMA)", pts));
            });
        ui.strong("kNN and linear-probe accuracy (held-out)");
        // (x, accuracy) of a series of evaluations; `f` picks kNN or the probe (if measured).
        let points = |evals: &[crate::train::EvalPoint],
                      f: fn(&crate::train::EvalPoint) -> Option<f64>| {
            evals
                .iter()
                .filter_map(|e| f(e).map(|a| [x_of_step(&h.time, e.step, self.time_axis), a]))
                .collect::<Vec<[f64; 2]>>()
        };
        let knn = |e: &crate::train::EvalPoint| Some(e.knn_acc);
        let probe_of = |e: &crate::train::EvalPoint| e.probe_acc;
        let acc = points(&h.evals, knn);
        let probe = points(&h.evals, probe_of);
        let chance = 1.0 / t.data.num_classes.max(1) as f64;
        // Where the lab also evaluates on the whole held-out split (large data sets), those
        // points and their input baselines are the paper's protocol; the regular points use
        // fixed subsets (see `train::whole_set`).
        let whole = points(&h.whole_set, knn);
        let whole_probe = points(&h.whole_set, probe_of);
        let n_test = t.data.x_test.nrows();
        let (knn_name, probe_name) = if h.whole_set.is_empty() && h.whole_set_baselines.is_none() {
            ("kNN acc".to_string(), "linear probe".to_string())
        } else {
            (
                format!("kNN acc ({}-sample subset)", t.snapshot.labels.len().max(1)),
                "linear probe (subset)".to_string(),
            )
        };
        let (baselines, baseline_suffix) = match h.whole_set_baselines {
            Some(b) => (Some(b), format!(", all {n_test}")),
            None => (h.baselines, String::new()),
        };
        // Colour-blind safe run colours for the accuracies, grey for chance; the legend is a
        // row above the plot, so it never covers the curves' right ends.
        let colour = |k: usize| {
            let (r, g, b) = crate::figures::PALETTE[k % crate::figures::PALETTE.len()];
            egui::Color32::from_rgb(r, g, b)
        };
        let grey = egui::Color32::from_gray(120);
        let mut legend = vec![
            (colour(0), "—", knn_name.clone()),
            (colour(1), "—", probe_name.clone()),
        ];
        if !whole.is_empty() {
            legend.push((
                colour(2),
                "●",
                format!("kNN acc, whole test set ({n_test})"),
            ));
        }
        if !whole_probe.is_empty() {
            legend.push((
                colour(3),
                "●",
                format!("linear probe, whole test set ({n_test})"),
            ));
        }
        if baselines.is_some() {
            legend.push((
                colour(6),
                "- -",
                format!("raw inputs (kNN{baseline_suffix})"),
            ));
            legend.push((
                colour(4),
                "- -",
                format!("centred inputs (kNN{baseline_suffix})"),
            ));
        }
        legend.push((grey, "···", "chance".to_string()));
        let before = ui.cursor().top();
        super::legend_row(ui, &legend);
        let legend_h = ui.cursor().top() - before;
        // The accuracy axis spans the loss chart's steps, so the two line up.
        let last_x = x_of_step(&h.time, h.loss.len(), self.time_axis);
        LabPlot::new("acc_plot", x_label, "accuracy (fraction correct)")
            .with(|p| {
                p.height((left * 0.45 - legend_h).max(110.0))
                    .include_y(0.0)
                    .include_y(1.0)
                    .include_x(0.0)
                    .include_x(last_x)
            })
            .show(ui, |p| {
                p.line(Line::new(knn_name, acc).color(colour(0)));
                p.line(Line::new(probe_name, probe).color(colour(1)));
                if !whole.is_empty() {
                    let name = format!("kNN acc, whole test set ({n_test})");
                    let c = colour(2);
                    p.line(Line::new(name.clone(), whole.clone()).color(c).width(2.5));
                    p.points(egui_plot::Points::new(name, whole).color(c).radius(3.5));
                }
                if !whole_probe.is_empty() {
                    let name = format!("linear probe, whole test set ({n_test})");
                    let c = colour(3);
                    p.line(
                        Line::new(name.clone(), whole_probe.clone())
                            .color(c)
                            .width(2.0),
                    );
                    p.points(
                        egui_plot::Points::new(name, whole_probe)
                            .color(c)
                            .radius(3.0),
                    );
                }
                p.hline(
                    egui_plot::HLine::new("chance", chance)
                        .color(grey)
                        .style(egui_plot::LineStyle::dotted_dense()),
                );
                // The same protocol on the raw inputs: learning has to beat these lines.
                if let Some(b) = baselines {
                    let dashed = egui_plot::LineStyle::dashed_loose();
                    p.hline(
                        egui_plot::HLine::new(
                            format!("raw inputs (kNN{baseline_suffix})"),
                            b.raw_knn,
                        )
                        .color(colour(6))
                        .style(dashed)
                        .width(1.5),
                    );
                    p.hline(
                        egui_plot::HLine::new(
                            format!("centred inputs (kNN{baseline_suffix})"),
                            b.centred_knn,
                        )
                        .color(colour(4))
                        .style(dashed)
                        .width(1.5),
                    );
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_axis_maps_steps_to_cumulative_time() {
        let time = [0.5f32, 1.25, 2.0];
        assert_eq!(x_of_step(&time, 2, false), 2.0);
        assert_eq!(x_of_step(&time, 2, true), 1.25);
        assert_eq!(x_of_step(&time, 0, true), 0.0);
        assert_eq!(x_of_step(&time, 9, true), 0.0);
    }

    #[test]
    fn ema_of_constant_is_constant_and_zero_weight_is_identity() {
        let c = ema(&[2.0; 10], 0.9);
        assert!(c.iter().all(|v| (v - 2.0).abs() < 1e-12));
        let x = [1.0f32, 5.0, -3.0];
        let e = ema(&x, 0.0);
        assert_eq!(e, vec![1.0, 5.0, -3.0]);
        let s = ema(&[0.0, 10.0], 0.5);
        assert!(s[1] > 0.0 && s[1] < 10.0);
    }

    #[test]
    fn decimation_keeps_the_envelope_in_order_within_the_point_budget() {
        // A noisy, drifting curve of 100 000 points (a deterministic pseudo-random walk).
        let mut state = 0x9E37_79B9_u32;
        let pts: Vec<[f64; 2]> = (0..100_000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let noise = f64::from(state) / f64::from(u32::MAX) - 0.5;
                [i as f64, (-(i as f64) / 20_000.0).exp() + noise]
            })
            .collect();
        let out = decimate(&pts, 450);
        assert!(out.len() <= 2 * 450 + 2, "{} points", out.len());
        assert!(
            out.len() > 450,
            "one point per column at least: {}",
            out.len()
        );
        assert_eq!(out.first(), pts.first());
        assert_eq!(out.last(), pts.last());
        // A subsequence of the input, in x order.
        assert!(out.windows(2).all(|w| w[0][0] < w[1][0]));
        assert!(out.iter().all(|p| pts[p[0] as usize] == *p));
        // The extremes of every run of consecutive points survive, so the drawn band is the
        // same: check the global ones and those of a run in the middle.
        let y_max = pts.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        let y_min = pts.iter().map(|p| p[1]).fold(f64::MAX, f64::min);
        assert!(out.iter().any(|p| p[1] == y_max) && out.iter().any(|p| p[1] == y_min));
        let per = pts.len().div_ceil(450);
        let run = &pts[200 * per..201 * per];
        let run_max = run.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        assert!(out.iter().any(|p| p[1] == run_max));
        // A short curve is left alone.
        assert_eq!(decimate(&pts[..300], 450), pts[..300].to_vec());
    }
}
