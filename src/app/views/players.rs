//! Players view: α-CL as coordinate-wise optimisation, one player at a time (PAPER §4).
//!
//! - **Min player** ([`Players::min_step`](crate::train::players::Players::min_step)): draw a batch, compute α (and β_i = Σ_j α_ij) from
//!   the loss spec at the current θ, then freeze both.
//! - **Max player** ([`Players::max_step`](crate::train::players::Players::max_step)): one θ update with α frozen, i.e. ascent on
//!   E_α = ½ Σ_i Σ_{j≠i,p(i)} α_ij ‖z_i − z_j‖² − ½ Σ_i β_i ‖z_i − z_{p(i)}‖²; E_α of the frozen
//!   batch goes up while α stays exactly as the min player left it.
//!
//! The view shows the frozen α (the shared heat-map painter, with d²_ij of the frozen batch at
//! the current θ in the tooltip) and E_α after every move, like GAN Lab's two-player stepping.

use super::axes::LabPlot;
use egui_plot::{Legend, Line, Points};
use ndarray::{Array1, Array2};

use super::alpha_map::{AlphaMapPainter, alpha_stats, pairwise_d2};
use crate::analysis::covariance::plain_covariance;
use crate::analysis::linalg::sym_eigen;
use crate::app::palette::class_color;
use crate::engine::RunMirror;
use crate::engine::{MoveReport, PlayersState};
use crate::train::players::{MaxReport, MinReport};

pub use crate::train::players::PlayerMove;

/// The players view.
#[derive(Default)]
pub struct PlayersView {
    /// Sort the heat map by class.
    pub sort_by_class: bool,
    map: AlphaMapPainter,
    run: String,
    min_moves: usize,
    /// The frozen α, its batch's labels and the max-player steps taken on it.
    frozen: Option<(Array2<f32>, Vec<usize>, usize)>,
    d2: Option<Array2<f32>>,
    basis: Option<(Array1<f64>, Array2<f64>)>,
    proj: Option<Array2<f64>>,
    proj0: Option<Array2<f64>>,
    /// E_α of the frozen batch after every move.
    pub energy_log: Vec<(PlayerMove, f64)>,
    /// Report of the last min-player step.
    pub last_min: Option<MinReport>,
    /// Report of the last max-player step.
    pub last_max: Option<MaxReport>,
    /// Error of the last move.
    pub error: Option<String>,
}

impl PlayersView {
    fn check_run(&mut self, t: &RunMirror) {
        let run = format!(
            "{}|{}|{}|{}",
            t.config.data.to_text(),
            t.config.seed,
            t.config.encoder.to_text(),
            t.generation
        );
        if run != self.run {
            *self = Self {
                run,
                sort_by_class: self.sort_by_class,
                ..Self::default()
            };
        }
    }

    /// Whether a min-player step has frozen an α.
    pub fn has_frozen(&self) -> bool {
        self.frozen.is_some()
    }

    /// Takes in the engine's answer to a [`Command::Player`](crate::engine::Command::Player):
    /// the moves' reports, the frozen α and the frozen batch's z at the current θ (d² for the
    /// tooltip and the 2-D projection; the projection axes are fixed when α is frozen, so
    /// max-player steps show as motion in one frame).
    pub fn receive(&mut self, state: PlayersState) {
        let mut froze = false;
        for (mv, r) in state.moves {
            match r {
                Ok(MoveReport::Min(r)) => {
                    self.min_moves += 1;
                    self.last_min = Some(r);
                    self.last_max = None;
                    self.energy_log.push((mv, r.energy));
                    self.basis = None;
                    froze = true;
                    self.error = None;
                }
                Ok(MoveReport::Max(r)) => {
                    self.last_max = Some(r);
                    self.energy_log.push((mv, r.energy_after));
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
        }
        self.frozen = state.alpha.map(|a| (a, state.labels, state.max_steps));
        let Some(z) = state.z else {
            self.d2 = None;
            self.proj = None;
            return;
        };
        self.d2 = Some(pairwise_d2(&z));
        let z64 = z.mapv(f64::from);
        if self.basis.is_none() && z64.ncols() >= 2 {
            let mean = z64
                .mean_axis(ndarray::Axis(0))
                .unwrap_or_else(|| Array1::zeros(z64.ncols()));
            if let Ok(e) = sym_eigen(plain_covariance(z64.view()).view()) {
                let v = e.vectors.slice(ndarray::s![.., 0..2]).to_owned();
                self.basis = Some((mean, v));
            }
        }
        self.proj = self.basis.as_ref().map(|(m, v)| (&z64 - m).dot(v));
        if froze {
            self.proj0 = self.proj.clone();
        }
    }

    /// Draws the view; returns the move asked for (which player, how many times); the
    /// caller sends it to the run's engine and pauses training so the moves stay visible.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &RunMirror) -> Option<(PlayerMove, usize)> {
        self.check_run(t);
        let mut moved = None;
        ui.strong("Coordinate-wise optimisation: the min player picks α, the max player moves θ with α frozen");
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Min player: recompute α")
                .on_hover_text("draw a new batch, compute α from the current loss at the current θ, then freeze it")
                .clicked()
            {
                moved = Some((PlayerMove::Min, 1));
            }
            let has_frozen = self.frozen.is_some();
            if ui
                .add_enabled(has_frozen, egui::Button::new("Max player: θ step (α frozen)"))
                .on_hover_text("one optimiser step on θ that increases E_α of the frozen batch")
                .on_disabled_hover_text("take a min-player step first: there is no frozen α yet")
                .clicked()
            {
                moved = Some((PlayerMove::Max, 1));
            }
            if ui
                .add_enabled(has_frozen, egui::Button::new("Max ×10"))
                .clicked()
            {
                moved = Some((PlayerMove::Max, 10));
            }
            ui.checkbox(&mut self.sort_by_class, "sort by class");
            if ui.button("Clear log").clicked() {
                self.energy_log.clear();
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(180, 30, 30), e);
        }
        let Some((alpha, labels, max_steps)) = &self.frozen else {
            ui.label("Press “Min player: recompute α” to draw a batch and freeze its α.");
            return moved;
        };
        let stats = alpha_stats(alpha);
        let n = alpha.nrows();
        let mut lines = vec![format!(
            "frozen α: {n} × {n} · sparsity {:.1}% · max/mean {:.2} · max-player steps on this α: {}",
            stats.sparsity * 100.0,
            stats.max_over_mean,
            max_steps
        )];
        if let Some(m) = &self.last_min {
            lines.push(format!(
                "after min player: E_α = {:.5} (loss {:.5})",
                m.energy, m.loss
            ));
        }
        if let Some(m) = &self.last_max {
            lines.push(format!(
                "max player: E_α before {:.5}, after {:.5} (Δ {:+.2e}) · training step {} (loss {:.5})",
                m.energy_before,
                m.energy_after,
                m.energy_after - m.energy_before,
                m.step,
                m.loss
            ));
        }
        let avail_h = ui.available_height();
        let stacked = super::split::stacked(ui);
        let map_h = if stacked {
            ui.available_width()
        } else {
            avail_h - 30.0
        };
        let n_moves = self.min_moves;
        let d2 = self.d2.clone();
        let sort = self.sort_by_class;
        let (alpha, labels) = (alpha.clone(), labels.clone());
        let mut state = (self, alpha, labels);
        super::split::two_columns(
            ui,
            &mut state,
            |ui, (this, alpha, labels)| {
                ui.label("frozen α (hover: i, j, α_ij, β_i, d²_ij at the current θ)");
                this.map.show(
                    ui,
                    "players_alpha",
                    alpha,
                    labels,
                    (n_moves, 0),
                    sort,
                    false,
                    d2.as_ref(),
                    map_h,
                );
            },
            |ui, (this, _, labels)| {
                for l in &lines {
                    ui.label(l);
                }
                // What the (wrapped) readouts leave, shared by the two plots and their titles.
                let plot_h = if stacked {
                    super::split::STACKED_PLOT_H
                } else {
                    ((ui.available_height() - 56.0) / 2.0).max(120.0)
                };
                this.energy_plot(ui, plot_h);
                this.z_plot(ui, labels, plot_h);
            },
        );
        moved
    }

    /// E_α of the frozen batch after each move.
    fn energy_plot(&self, ui: &mut egui::Ui, plot_h: f32) {
        ui.label("E_α of the frozen batch after each move (blue: min, orange: max)");
        let pts: Vec<[f64; 2]> = self
            .energy_log
            .iter()
            .enumerate()
            .map(|(k, (_, e))| [k as f64 + 1.0, *e])
            .collect();
        let pick = |m: PlayerMove| -> Vec<[f64; 2]> {
            self.energy_log
                .iter()
                .enumerate()
                .filter(|(_, (mv, _))| *mv == m)
                .map(|(k, (_, e))| [k as f64 + 1.0, *e])
                .collect()
        };
        let (mins, maxs) = (pick(PlayerMove::Min), pick(PlayerMove::Max));
        LabPlot::new(
            "players_energy",
            "move (number, in order)",
            "E_α (weighted squared distances)",
        )
        .with(|p| {
            p.height(plot_h)
                .legend(Legend::default())
                .include_x(0.0)
                .include_x(3.0)
        })
        .show(ui, |p| {
            p.line(Line::new("E_α", pts).color(egui::Color32::from_gray(140)));
            p.points(
                Points::new("min player (new α)", mins)
                    .radius(4.0)
                    .color(egui::Color32::from_rgb(31, 119, 180)),
            );
            p.points(
                Points::new("max player (θ step)", maxs)
                    .radius(4.0)
                    .color(egui::Color32::from_rgb(255, 127, 14)),
            );
        });
    }

    /// z of the frozen batch in the PCA axes fixed when α was frozen.
    fn z_plot(&self, ui: &mut egui::Ui, labels: &[usize], plot_h: f32) {
        ui.label(
            "z of the frozen batch (fixed PCA axes; grey: when α was frozen, lines: positive pairs)",
        );
        LabPlot::new(
            "players_z",
            "PC 1 of z at the freeze (embedding units)",
            "PC 2 of z (embedding units)",
        )
        .with(|p| p.height(plot_h).data_aspect(1.0))
        .show(ui, |p| {
            if let Some(z0) = &self.proj0 {
                let ghost: Vec<[f64; 2]> = z0.rows().into_iter().map(|r| [r[0], r[1]]).collect();
                p.points(
                    Points::new("at freeze", ghost)
                        .radius(2.0)
                        .color(egui::Color32::from_gray(190)),
                );
            }
            if let Some(z) = &self.proj {
                let b = z.nrows() / 2;
                for k in 0..b {
                    p.line(
                        Line::new(
                            "pair",
                            vec![[z[[k, 0]], z[[k, 1]]], [z[[k + b, 0]], z[[k + b, 1]]]],
                        )
                        .color(egui::Color32::from_gray(170))
                        .width(0.5)
                        .allow_hover(false),
                    );
                }
                let mut classes: Vec<usize> = labels.to_vec();
                classes.sort_unstable();
                classes.dedup();
                for c in classes {
                    let pts: Vec<[f64; 2]> = (0..z.nrows())
                        .filter(|&i| labels.get(i) == Some(&c))
                        .map(|i| [z[[i, 0]], z[[i, 1]]])
                        .collect();
                    p.points(
                        Points::new(format!("class {c}"), pts)
                            .radius(3.0)
                            .color(class_color(c)),
                    );
                }
            }
        });
    }
}
