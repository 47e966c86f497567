//! Compare view: 2–4 runs on the same data and seed, side by side.
//!
//! The lab trains the runs in turn within the frame budget (one step each per round, so they
//! advance equally). This view lists them (colour, loss spec editable live, step, loss, kNN
//! accuracy, effective rank), overlays their loss and accuracy curves in run colours, and shows
//! their α maps and covariance spectra side by side. The spectra and effective ranks come from
//! the Collapse view's fixed probe batch, recomputed once per snapshot of each run.

use super::ShowOutlined;
use std::collections::BTreeMap;

use egui_plot::{Legend, Line, Plot};

use super::alpha_map::{AlphaMapPainter, no_alpha_text};
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

/// The run table's columns: (width in points, header).
const COLUMNS: [(f32, &str); 6] = [
    (150.0, "run"),
    (250.0, "loss (edit: applies live)"),
    (50.0, "step"),
    (60.0, "loss"),
    (60.0, "kNN acc"),
    (60.0, "eff. rank"),
];

/// The compare view.
pub struct CompareView {
    cache: BTreeMap<usize, RunCache>,
    /// EMA weight of the loss curves.
    pub smoothing: f64,
}

impl Default for CompareView {
    fn default() -> Self {
        Self {
            cache: BTreeMap::new(),
            smoothing: 0.9,
        }
    }
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
        ui.horizontal(|ui| {
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
        });
        ui.horizontal(|ui| {
            for (w, h) in COLUMNS {
                ui.add_sized([w, 18.0], egui::Label::new(egui::RichText::new(h).strong()));
            }
        });
        for r in runs {
            ui.horizontal(|ui| self.row_ui(ui, r, runs.len(), &mut actions, rects));
        }
        ui.separator();
        let h = ui.available_height();
        ui.columns(2, |cols| {
            self.curves_ui(&mut cols[0], runs, h);
            self.maps_ui(&mut cols[1], runs, h);
        });
        actions
    }

    fn row_ui(
        &mut self,
        ui: &mut egui::Ui,
        r: &RunRef,
        n_runs: usize,
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
        cell(
            ui,
            4,
            t.history
                .last_knn()
                .map_or("–".into(), |a| format!("{a:.3}")),
        );
        cell(
            ui,
            5,
            c.metrics
                .as_ref()
                .map_or("–".into(), |m| format!("{:.2}", m.effective_rank)),
        );
        if !r.focused {
            let b = ui
                .button("Edit in panel")
                .on_hover_text("the control panel edits this run");
            LabApp::note_rect(rects, &format!("compare:focus:{}", r.colour + 1), b.rect);
            if b.clicked() {
                actions.push(CompareAction::Focus(r.colour));
            }
        }
        let b = ui.add_enabled(n_runs > 1, egui::Button::new("Remove"));
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

    fn curves_ui(&mut self, ui: &mut egui::Ui, runs: &[RunRef], h: f32) {
        ui.horizontal(|ui| {
            ui.strong("Loss");
            let l = ui.label("smoothing");
            ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.999))
                .labelled_by(l.id);
        });
        let plot_h = ((h - 70.0) * 0.5).max(80.0);
        let columns = ui.available_width() as usize;
        Plot::new("compare_loss")
            .height(plot_h)
            .legend(Legend::default())
            .x_axis_label("step")
            .show_outlined(ui, |p| {
                for r in runs {
                    let hist = &r.run.history;
                    let pts: Vec<[f64; 2]> = ema(&hist.loss, self.smoothing)
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| [(i + 1) as f64, l])
                        .collect();
                    let pts = decimate(&pts, columns);
                    p.line(Line::new(run_label(r.colour, r.run), pts).color(run_color(r.colour)));
                }
            });
        ui.strong("kNN accuracy (held-out)");
        Plot::new("compare_acc")
            .height(plot_h)
            .include_y(0.0)
            .include_y(1.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .show_outlined(ui, |p| {
                for r in runs {
                    let pts: Vec<[f64; 2]> = r
                        .run
                        .history
                        .evals
                        .iter()
                        .map(|e| [e.step as f64, e.knn_acc])
                        .collect();
                    p.line(
                        Line::new(format!("run {}", r.colour + 1), pts).color(run_color(r.colour)),
                    );
                }
            });
    }

    fn maps_ui(&mut self, ui: &mut egui::Ui, runs: &[RunRef], h: f32) {
        ui.strong("α of the last batch (sorted by class, per-row scale)");
        let w = ui.available_width();
        let per_row = if runs.len() > 2 { 2 } else { runs.len().max(1) };
        let side = ((w / per_row as f32) - 50.0)
            .min((h * 0.6) / runs.len().div_ceil(per_row) as f32 - 24.0)
            .max(60.0);
        for chunk in runs.chunks(per_row) {
            ui.horizontal(|ui| {
                for r in chunk {
                    // A sized box, so the painter sees the room it may use (a bare
                    // horizontal row would offer only one line of height).
                    let size = egui::vec2(side + 45.0, side + 22.0);
                    ui.allocate_ui_with_layout(
                        size,
                        egui::Layout::top_down(egui::Align::Min),
                        |ui| {
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
        ui.strong("Covariance spectrum (log₁₀ eigenvalues, probe batch)");
        Plot::new("compare_spectrum")
            .height((ui.available_height() - 10.0).max(80.0))
            .legend(Legend::default().follow_insertion_order(true))
            .x_axis_label("index k")
            .show_outlined(ui, |p| {
                for r in runs {
                    if let Some(m) = self.cache.get(&r.colour).and_then(|c| c.metrics.as_ref()) {
                        let pts = spectrum_points(&m.log_spectrum);
                        p.line(
                            Line::new(format!("run {}", r.colour + 1), pts)
                                .color(run_color(r.colour)),
                        );
                    }
                }
            });
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
