//! Compare view: 2–4 runs on the same data and seed, side by side.
//!
//! Each run trains in its own engine. This view lists them (colour, loss spec editable live,
//! step, loss, kNN and probe accuracy — the last evaluation and a smoothed value, the mean of
//! the last [`SMOOTH_EVALS`] evaluations — and the effective rank), summarises runs that differ
//! only by their seed as mean ± sd over the seeds, overlays their loss and accuracy curves in
//! run colours (the loss absolute or relative to each run's first recorded loss, so losses of
//! different sign and scale share an axis), and shows their α maps and covariance spectra. The
//! legends are rows of coloured labels above the plots, never over a curve. The spectra and
//! effective ranks come from the Collapse view's fixed probe batch, recomputed once per
//! snapshot of each run.
//!
//! Buttons keep their place: a row's "Edit in panel" stays (disabled, "In panel") when its run
//! is edited, and a removal disables the Remove buttons for [`REMOVE_GUARD_SECONDS`], so a
//! double-click removes one run, not the one that moved under the pointer.

use std::collections::BTreeMap;

use egui_plot::Line;

use super::alpha_map::{AlphaMapPainter, EXTRA_W, TOP_H, no_alpha_text};
use super::axes::LabPlot;
use super::collapse::spectrum_points;
use super::curves::{decimate, ema};
use crate::analysis::spectrum::CollapseMetrics;
use crate::app::LabApp;
use crate::app::palette::run_color;
use crate::app::share::MAX_RUNS;
use crate::engine::RunMirror;
use crate::loss::LossSpec;

/// A run as the view sees it: its colour number (0-based; "run k+1") and what it draws.
pub struct RunRef<'a> {
    /// Colour number, also the run's number − 1 in links.
    pub colour: usize,
    /// Whether the control panel edits this run.
    pub focused: bool,
    /// The run.
    pub run: &'a RunMirror,
}

/// What the user asked the compare view for.
#[derive(Debug, Clone, PartialEq)]
pub enum CompareAction {
    /// Clone the focused run into a new run.
    Add,
    /// Remove the run with this colour.
    Remove(usize),
    /// Let the control panel edit the run with this colour.
    Focus(usize),
    /// Restart every run from step 0 (same configs, same seeds).
    RestartAll,
    /// Change the loss of the run with this colour (live, no reset).
    SetLoss(usize, LossSpec),
    /// Evaluate every run's current parameters on the whole held-out set.
    EvaluateWholeSet,
}

#[derive(Default)]
struct RunCache {
    key: String,
    metrics: Option<CollapseMetrics>,
    loss_text: String,
    loss_error: Option<String>,
    editing: bool,
    painter: AlphaMapPainter,
}

/// The run table's columns: (width in points, header, hover text).
const COLUMNS: [(f32, &str, &str); 9] = [
    (
        96.0,
        "run",
        "run colour and number; (in panel): the control panel edits it",
    ),
    (
        220.0,
        "loss (edit: applies live)",
        "the run's loss spec; a valid edit applies at the next step",
    ),
    (50.0, "step", "training steps taken"),
    (64.0, "loss", "loss of the last step"),
    (104.0, "kNN: last · smooth", SMOOTH_TIP),
    (104.0, "probe: last · smooth", SMOOTH_TIP),
    (
        60.0,
        "eff. rank",
        "effective rank of the probe batch's representation",
    ),
    (96.0, "", ""),
    (70.0, "", ""),
];

/// The smoothed accuracies are the mean of this many last evaluations.
pub const SMOOTH_EVALS: usize = 5;

/// After a removal the Remove buttons stay disabled this long (seconds), so the second click of
/// a double-click does not remove the run that moved under the pointer.
pub const REMOVE_GUARD_SECONDS: f64 = 0.6;

const SMOOTH_TIP: &str = "held-out accuracy of a frozen encoder (weighted kNN / linear probe) on the \
     evaluation subset: last = the latest evaluation, smooth = the mean of the last 5 evaluations \
     that measured it (one evaluation is noisy). The whole-set line below the table has the \
     paper's protocol.";

const WHOLE_TIP: &str = "kNN and linear-probe accuracy on the whole held-out set against the whole \
     training set (the paper's and the CLI's protocol), measured in the background by each run's \
     engine and by Final evaluation, at the step shown (@).";

/// How the loss chart draws each run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossScale {
    /// The loss itself.
    #[default]
    Absolute,
    /// (L − L₁) / |L₁| in per cent, L₁ the run's first recorded (finite) loss; a run whose
    /// L₁ is (near) zero is drawn as L − L₁.
    Relative,
}

/// The compare view.
pub struct CompareView {
    cache: BTreeMap<usize, RunCache>,
    /// EMA weight of the loss curves.
    pub smoothing: f64,
    /// Absolute or relative loss chart.
    pub loss_scale: LossScale,
    /// `ui.input().time` of the last removal.
    removed_at: Option<f64>,
}

impl Default for CompareView {
    fn default() -> Self {
        Self {
            cache: BTreeMap::new(),
            smoothing: 0.9,
            loss_scale: LossScale::Absolute,
            removed_at: None,
        }
    }
}

/// The mean of the last `k` values of `values` that are finite, if any.
pub fn mean_of_last(values: impl DoubleEndedIterator<Item = f64>, k: usize) -> Option<f64> {
    let last: Vec<f64> = values.rev().filter(|v| v.is_finite()).take(k).collect();
    (!last.is_empty()).then(|| last.iter().sum::<f64>() / last.len() as f64)
}

/// The whole-set column: the latest whole-set kNN · probe accuracy and its step, the progress
/// of one under way, or "= subset" where the subsets are the whole set.
pub fn whole_set_text(t: &RunMirror) -> String {
    if t.subsets_are_whole_sets() {
        return "= subset".into();
    }
    let last = t.history.whole_set.last().map(|e| {
        format!(
            "{} · {} @{}",
            acc_text(Some(e.knn_acc)),
            acc_text(e.probe_acc),
            e.step
        )
    });
    match (last, t.whole_set_progress) {
        (Some(l), Some(p)) => format!("{l} ({}%)", p.percent),
        (Some(l), None) => l,
        (None, Some(p)) => format!("measuring… {}%", p.percent),
        (None, None) => "–".into(),
    }
}

/// The last and the smoothed (mean of the last [`SMOOTH_EVALS`]) kNN accuracy of `t`.
pub fn knn_last_and_smooth(t: &RunMirror) -> (Option<f64>, Option<f64>) {
    let e = &t.history.evals;
    (
        e.last().map(|e| e.knn_acc),
        mean_of_last(e.iter().map(|e| e.knn_acc), SMOOTH_EVALS),
    )
}

/// The last and the smoothed (mean of the last [`SMOOTH_EVALS`] probe evaluations) linear-probe
/// accuracy of `t`.
pub fn probe_last_and_smooth(t: &RunMirror) -> (Option<f64>, Option<f64>) {
    let e = &t.history.evals;
    (
        t.history.last_probe(),
        mean_of_last(e.iter().filter_map(|e| e.probe_acc), SMOOTH_EVALS),
    )
}

/// Mean and sample standard deviation (n − 1) of `xs` (sd 0 for one value).
pub fn mean_sd(xs: &[f64]) -> Option<(f64, f64)> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = if xs.len() > 1 {
        (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some((m, sd))
}

/// Groups of runs (their positions in `runs`) whose configs are equal but for the seed, with at
/// least two different seeds.
pub fn seed_groups(runs: &[&RunMirror]) -> Vec<Vec<usize>> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (k, t) in runs.iter().enumerate() {
        let mut c = t.config.clone();
        c.seed = 0;
        let key = c.to_text();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(k),
            None => groups.push((key, vec![k])),
        }
    }
    groups
        .into_iter()
        .map(|g| g.1)
        .filter(|g| {
            let mut seeds: Vec<u64> = g.iter().map(|&k| runs[k].config.seed).collect();
            seeds.sort_unstable();
            seeds.dedup();
            seeds.len() > 1
        })
        .collect()
}

/// The loss curve of `loss` (already smoothed) under `scale`: (points, reference L₁ if
/// relative, whether it fell back to differences).
pub fn scaled_loss(loss: &[f64], scale: LossScale) -> (Vec<f64>, Option<f64>, bool) {
    match scale {
        LossScale::Absolute => (loss.to_vec(), None, false),
        LossScale::Relative => {
            let Some(&l1) = loss.iter().find(|v| v.is_finite()) else {
                return (loss.to_vec(), None, false);
            };
            if l1.abs() < 1e-9 {
                return (loss.iter().map(|l| l - l1).collect(), Some(l1), true);
            }
            let pts = loss.iter().map(|l| 100.0 * (l - l1) / l1.abs()).collect();
            (pts, Some(l1), false)
        }
    }
}

/// A row of coloured run labels (the legend, above a plot, never over its curves).
fn legend_row(ui: &mut egui::Ui, entries: &[(usize, String)]) {
    let entries: Vec<_> = entries
        .iter()
        .map(|(colour, text)| (run_color(*colour), "—", text.clone()))
        .collect();
    super::legend_row(ui, &entries);
}

/// The legend row "run 1  run 2 …" in run colours.
fn run_legend(ui: &mut egui::Ui, runs: &[RunRef]) {
    let entries: Vec<(usize, String)> = runs
        .iter()
        .map(|r| (r.colour, format!("run {}", r.colour + 1)))
        .collect();
    legend_row(ui, &entries);
}

/// "0.812" or "–".
fn acc_text(v: Option<f64>) -> String {
    v.map_or("–".into(), |a| format!("{a:.3}"))
}

/// Short label of a run: "run k · loss spec".
pub fn run_label(colour: usize, t: &RunMirror) -> String {
    format!("run {} · {}", colour + 1, t.config.loss.to_text())
}

impl CompareView {
    fn refresh(&mut self, r: &RunRef) {
        let t = r.run;
        let key = format!(
            "{}|{}|{}",
            t.config.data.to_text(),
            t.config.seed,
            t.config.encoder.to_text()
        );
        let c = self.cache.entry(r.colour).or_default();
        let loss_text = t.config.loss.to_text();
        if !c.editing && c.loss_error.is_none() && c.loss_text != loss_text {
            c.loss_text = loss_text;
        }
        c.key = key;
        // The engine measures collapse at every snapshot (on the fixed probe batch).
        c.metrics = t.history.collapse.first().and_then(|s| s.current.clone());
    }

    /// Draws the view; returns the user's requests.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        runs: &[RunRef],
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) -> Vec<CompareAction> {
        let mut actions = Vec::new();
        for r in runs {
            self.refresh(r);
        }
        self.cache
            .retain(|k, _| runs.iter().any(|r| r.colour == *k));
        // Wrapped: one row of three wide buttons would widen the whole view on a phone.
        ui.horizontal_wrapped(|ui| {
            let can_add = runs.len() < MAX_RUNS;
            let r = ui
                .add_enabled(
                    can_add,
                    egui::Button::new("+ Add run (clone of the edited run)"),
                )
                .on_disabled_hover_text(format!("at most {MAX_RUNS} runs"));
            LabApp::note_rect(rects, "compare:add", r.rect);
            if r.clicked() {
                actions.push(CompareAction::Add);
            }
            let r = ui
                .button("Restart all together")
                .on_hover_text("every run from step 0, same configs and seeds");
            LabApp::note_rect(rects, "compare:restart", r.rect);
            if r.clicked() {
                actions.push(CompareAction::RestartAll);
            }
            let needed = runs.iter().any(|r| !r.run.subsets_are_whole_sets());
            let r = ui
                .add_enabled(
                    needed,
                    egui::Button::new("Final evaluation (whole held-out set)"),
                )
                .on_hover_text(
                    "evaluates every run's current parameters (kNN and linear probe) on the \
                     whole held-out set against the whole training set, now, even while paused; \
                     results in the whole-set column",
                )
                .on_disabled_hover_text(
                    "these data sets are small: the regular evaluations already use every sample",
                );
            LabApp::note_rect(rects, "compare:final", r.rect);
            if r.clicked() {
                actions.push(CompareAction::EvaluateWholeSet);
            }
        });
        let now = ui.input(|i| i.time);
        let remove_ok = self
            .removed_at
            .is_none_or(|t| now - t >= REMOVE_GUARD_SECONDS);
        if !remove_ok {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(REMOVE_GUARD_SECONDS));
        }
        egui::ScrollArea::horizontal()
            .id_salt("compare_table")
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    for (w, h, tip) in COLUMNS {
                        let l = ui.add_sized(
                            [w, 18.0],
                            egui::Label::new(egui::RichText::new(h).strong()),
                        );
                        if !tip.is_empty() {
                            l.on_hover_text(tip);
                        }
                    }
                });
                for r in runs {
                    ui.horizontal(|ui| {
                        self.row_ui(ui, r, runs.len(), remove_ok, &mut actions, rects)
                    });
                }
            });
        if actions
            .iter()
            .any(|a| matches!(a, CompareAction::Remove(_)))
        {
            self.removed_at = Some(now);
        }
        seeds_ui(ui, runs);
        whole_set_ui(ui, runs);
        ui.separator();
        let h = ui.available_height();
        egui::ScrollArea::vertical()
            .id_salt("compare_plots")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let plot_h = if super::split::stacked(ui) {
                    super::split::STACKED_PLOT_H
                } else {
                    ((h - 120.0) * 0.5).clamp(150.0, 300.0)
                };
                super::split::two_columns(
                    ui,
                    self,
                    |ui, v| v.loss_ui(ui, runs, plot_h),
                    |ui, _| acc_ui(ui, runs, plot_h),
                );
                ui.separator();
                self.maps_ui(ui, runs);
                ui.separator();
                self.spectrum_ui(ui, runs, plot_h);
            });
        actions
    }

    fn row_ui(
        &mut self,
        ui: &mut egui::Ui,
        r: &RunRef,
        n_runs: usize,
        remove_ok: bool,
        actions: &mut Vec<CompareAction>,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) {
        let t = r.run;
        let c = self.cache.entry(r.colour).or_default();
        let mark = if r.focused { " (in panel)" } else { "" };
        let cell = |ui: &mut egui::Ui, i: usize, text: String| {
            ui.add_sized([COLUMNS[i].0, 20.0], egui::Label::new(text));
        };
        ui.add_sized(
            [COLUMNS[0].0, 20.0],
            egui::Label::new(
                egui::RichText::new(format!("run {}{mark}", r.colour + 1))
                    .strong()
                    .color(run_color(r.colour)),
            ),
        );
        let edit = ui
            .add_sized(
                [COLUMNS[1].0, 20.0],
                egui::TextEdit::singleline(&mut c.loss_text),
            )
            .on_hover_text("a loss spec, e.g. acl-direct:tau=0.5,p=4,eps=0 — applies live");
        LabApp::note_rect(rects, &format!("compare:loss:{}", r.colour + 1), edit.rect);
        c.editing = edit.has_focus();
        if edit.changed() {
            match LossSpec::parse(&c.loss_text) {
                Ok(spec) => {
                    c.loss_error = None;
                    actions.push(CompareAction::SetLoss(r.colour, spec));
                }
                Err(e) => c.loss_error = Some(e.0),
            }
        }
        cell(ui, 2, t.step_count().to_string());
        cell(
            ui,
            3,
            t.history
                .loss
                .last()
                .map_or("–".into(), |l| format!("{l:.4}")),
        );
        let (last, smooth) = knn_last_and_smooth(t);
        cell(ui, 4, format!("{} · {}", acc_text(last), acc_text(smooth)));
        let (last, smooth) = probe_last_and_smooth(t);
        cell(ui, 5, format!("{} · {}", acc_text(last), acc_text(smooth)));
        cell(
            ui,
            6,
            c.metrics
                .as_ref()
                .map_or("–".into(), |m| format!("{:.2}", m.effective_rank)),
        );
        // Both buttons are always there, at fixed widths: nothing moves under the pointer.
        let (label, tip) = if r.focused {
            ("In panel", "the control panel edits this run")
        } else {
            ("Edit in panel", "let the control panel edit this run")
        };
        let b = ui
            .add_enabled_ui(!r.focused, |ui| {
                ui.add_sized([COLUMNS[7].0, 20.0], egui::Button::new(label))
            })
            .inner
            .on_hover_text(tip)
            .on_disabled_hover_text(tip);
        LabApp::note_rect(rects, &format!("compare:focus:{}", r.colour + 1), b.rect);
        if b.clicked() {
            actions.push(CompareAction::Focus(r.colour));
        }
        let b = ui
            .add_enabled_ui(n_runs > 1 && remove_ok, |ui| {
                ui.add_sized([COLUMNS[8].0, 20.0], egui::Button::new("Remove"))
            })
            .inner
            .on_disabled_hover_text(if n_runs > 1 {
                "a run was just removed"
            } else {
                "the last run stays"
            });
        LabApp::note_rect(rects, &format!("compare:remove:{}", r.colour + 1), b.rect);
        if b.clicked() {
            actions.push(CompareAction::Remove(r.colour));
        }
        if let Some(f) = &t.failure {
            ui.colored_label(egui::Color32::from_rgb(190, 40, 40), "diverged")
                .on_hover_text(f.to_string());
        }
        if let Some(e) = &c.loss_error {
            ui.colored_label(egui::Color32::from_rgb(190, 40, 40), e);
        }
    }

    fn loss_ui(&mut self, ui: &mut egui::Ui, runs: &[RunRef], plot_h: f32) {
        ui.horizontal_wrapped(|ui| {
            ui.strong("Loss");
            ui.selectable_value(&mut self.loss_scale, LossScale::Absolute, "absolute")
                .on_hover_text("each run's loss L");
            ui.selectable_value(
                &mut self.loss_scale,
                LossScale::Relative,
                "relative to step 1",
            )
            .on_hover_text(
                "(L − L₁) / |L₁| in %: each run against its first recorded loss L₁, so \
                     losses of different sign and scale are comparable",
            );
        });
        // The smoothing slider on its own row, sized to the column: a slider never shrinks, so
        // in the row above it widened the column and the loss chart covered the accuracy chart.
        ui.horizontal(|ui| {
            let l = ui.label("EMA smoothing");
            ui.spacing_mut().slider_width = (ui.available_width() - 70.0).clamp(40.0, 100.0);
            ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.999))
                .labelled_by(l.id);
        });
        let columns = ui.available_width() as usize;
        let mut legend = Vec::new();
        let mut lines = Vec::new();
        let mut any_fallback = false;
        for r in runs {
            let (vals, l1, fallback) =
                scaled_loss(&ema(&r.run.history.loss, self.smoothing), self.loss_scale);
            any_fallback |= fallback;
            let pts: Vec<[f64; 2]> = vals
                .into_iter()
                .enumerate()
                .map(|(i, l)| [(i + 1) as f64, l])
                .collect();
            let mut label = run_label(r.colour, r.run);
            if let Some(l1) = l1 {
                label.push_str(&format!(
                    " (L₁ = {l1:.3}{})",
                    if fallback { ", Δ" } else { "" }
                ));
            }
            legend.push((r.colour, label));
            lines.push((r.colour, decimate(&pts, columns)));
        }
        legend_row(ui, &legend);
        let y = match self.loss_scale {
            LossScale::Absolute => "loss L (dimensionless)",
            LossScale::Relative if any_fallback => "(L − L₁)/|L₁| (%), Δ: L − L₁",
            LossScale::Relative => "(L − L₁) / |L₁| (% of the first loss)",
        };
        LabPlot::new("compare_loss", "training step", y)
            .with(|p| p.height(plot_h))
            .show(ui, |p| {
                for (colour, pts) in lines {
                    p.line(Line::new(format!("run {}", colour + 1), pts).color(run_color(colour)));
                }
            });
    }

    fn maps_ui(&mut self, ui: &mut egui::Ui, runs: &[RunRef]) {
        ui.strong("α of the last batch (sorted by class, each row scaled to its maximum)");
        let w = ui.available_width();
        let n = runs.len().max(1);
        let (per_row, side) = map_layout(w, n);
        for chunk in runs.chunks(per_row) {
            ui.horizontal_top(|ui| {
                for r in chunk {
                    // A sized box, so the painter sees the room it may use.
                    let size = egui::vec2(side + EXTRA_W, side + TOP_H + 22.0);
                    ui.allocate_ui_with_layout(
                        size,
                        egui::Layout::top_down(egui::Align::Min),
                        |ui| {
                            ui.set_min_size(size);
                            ui.colored_label(run_color(r.colour), format!("run {}", r.colour + 1));
                            let t = r.run;
                            if t.snapshot.alpha.is_empty() {
                                ui.label(no_alpha_text(t));
                                return;
                            }
                            let c = self.cache.entry(r.colour).or_default();
                            c.painter.show(
                                ui,
                                &format!("compare_alpha_{}", r.colour),
                                &t.snapshot.alpha,
                                &t.snapshot.batch_labels,
                                (t.snapshot.step, t.history.loss_changes.len()),
                                true,
                                true,
                                None,
                                side,
                            );
                        },
                    );
                }
            });
        }
    }

    fn spectrum_ui(&mut self, ui: &mut egui::Ui, runs: &[RunRef], plot_h: f32) {
        ui.strong("Covariance spectrum (probe batch)");
        run_legend(ui, runs);
        LabPlot::new(
            "compare_spectrum",
            "index k (descending eigenvalue)",
            "log₁₀ eigenvalue of Cov(z)",
        )
        .with(|p| p.height(plot_h))
        .show(ui, |p| {
            for r in runs {
                if let Some(m) = self.cache.get(&r.colour).and_then(|c| c.metrics.as_ref()) {
                    let pts = spectrum_points(&m.log_spectrum);
                    p.line(
                        Line::new(format!("run {}", r.colour + 1), pts).color(run_color(r.colour)),
                    );
                }
            }
        });
    }
}

/// Smallest α-map side in Compare (points): below it the class blocks of a 2B = 128 batch with
/// ten classes are a few points wide.
pub const MIN_MAP_SIDE: f32 = 160.0;
/// Largest α-map side in Compare (points).
const MAX_MAP_SIDE: f32 = 300.0;

/// (maps per row, map side) for `n` maps in `width` points: all in one row if each gets at
/// least [`MIN_MAP_SIDE`], else two rows, else one per row.
pub fn map_layout(width: f32, n: usize) -> (usize, f32) {
    let side = |k: usize| width / k as f32 - EXTRA_W - 8.0;
    let n = n.max(1);
    let per_row = [n, n.div_ceil(2), 1]
        .into_iter()
        .find(|&k| side(k) >= MIN_MAP_SIDE)
        .unwrap_or(1);
    (per_row, side(per_row).clamp(64.0, MAX_MAP_SIDE))
}

fn acc_ui(ui: &mut egui::Ui, runs: &[RunRef], plot_h: f32) {
    ui.horizontal(|ui| {
        ui.strong("kNN accuracy (held-out)");
        ui.weak("(at each evaluation)");
    });
    run_legend(ui, runs);
    LabPlot::new(
        "compare_acc",
        "training step",
        "kNN accuracy (fraction correct)",
    )
    .with(|p| p.height(plot_h).include_y(0.0).include_y(1.0))
    .show(ui, |p| {
        for r in runs {
            let pts: Vec<[f64; 2]> = r
                .run
                .history
                .evals
                .iter()
                .map(|e| [e.step as f64, e.knn_acc])
                .collect();
            p.line(Line::new(format!("run {}", r.colour + 1), pts).color(run_color(r.colour)));
        }
    });
}

/// One line for the runs whose data are larger than the evaluation subsets: their latest
/// whole-set accuracies (the paper's protocol).
fn whole_set_ui(ui: &mut egui::Ui, runs: &[RunRef]) {
    let big: Vec<&RunRef> = runs
        .iter()
        .filter(|r| !r.run.subsets_are_whole_sets())
        .collect();
    if big.is_empty() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "Whole held-out set ({} samples), kNN · probe:",
            big[0].run.data.x_test.nrows()
        ))
        .on_hover_text(WHOLE_TIP);
        for r in big {
            ui.colored_label(
                run_color(r.colour),
                format!("run {} {}", r.colour + 1, whole_set_text(r.run)),
            );
        }
    });
}

/// One line per group of runs that differ only by their seed: mean ± sd of the smoothed
/// accuracies over the seeds.
fn seeds_ui(ui: &mut egui::Ui, runs: &[RunRef]) {
    let mirrors: Vec<&RunMirror> = runs.iter().map(|r| r.run).collect();
    for g in seed_groups(&mirrors) {
        let names: Vec<String> = g
            .iter()
            .map(|&k| (runs[k].colour + 1).to_string())
            .collect();
        let stat = |f: fn(&RunMirror) -> (Option<f64>, Option<f64>)| {
            let xs: Vec<f64> = g.iter().filter_map(|&k| f(runs[k].run).1).collect();
            mean_sd(&xs).map_or("–".to_string(), |(m, sd)| {
                format!("{m:.3} ± {sd:.3} (mean ± sd of {} runs)", xs.len())
            })
        };
        let mut seeds: Vec<u64> = g.iter().map(|&k| runs[k].run.config.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        ui.label(format!(
            "runs {} differ only by seed ({} seeds): kNN {} · probe {}",
            names.join(", "),
            seeds.len(),
            stat(knn_last_and_smooth),
            stat(probe_last_and_smooth),
        ))
        .on_hover_text(
            "mean ± sample standard deviation over the seeds of each run's smoothed accuracy \
             (the mean of its last 5 evaluations)",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17 item 4: the spectrum index starts at 1 in Compare, as in the Collapse view
    /// and the exported figure (k = 1 is the largest eigenvalue).
    #[test]
    fn compare_spectrum_index_starts_at_one_like_collapse() {
        let spectrum = [0.5, -0.25, -3.0];
        let pts = spectrum_points(&spectrum);
        let xs: Vec<f64> = pts.iter().map(|p| p[0]).collect();
        assert_eq!(xs, [1.0, 2.0, 3.0]);
    }
}
