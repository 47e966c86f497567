//! Theory view: the paper's max-player experiments, live (PAPER §5.2, §5.3), and Theorem 1.
//!
//! - Deep linear network z = W_L ⋯ W_1 x with α fixed and ‖W_l‖_F = 1: gradient ascent on
//!   E_α = ½ tr(M C_α[x] Mᵀ) climbs to ½ λ_max(C_α[x]); every layer becomes rank 1 and M's
//!   top right-singular vector aligns with the top eigenvector of C_α[x], not with PCA's.
//! - Two-layer network z = W₂ σ(W₁ x) (ReLU or linear), W₁ normalised per row or as a whole:
//!   with ReLU and per-row normalisation W₁ keeps effective rank > 1.
//! - Theorem 1: ‖∇L − g‖/‖g‖ for the trainer's loss on a batch of training pairs, where g is
//!   the shared max-player gradient −(1/2B)·∂E_α/∂z (from
//!   [`theorem1_residual`](crate::analysis::theorem1::theorem1_residual)), recomputed by the
//!   run's engine when the snapshot or the loss changes, while this view is open.
//!
//! The experiment has its own Play / Step / Reset and a per-frame time budget, independent of
//! training.

use super::ShowOutlined;
use egui_plot::{Bar, BarChart, Legend, Line, Plot};
use web_time::{Duration, Instant};

use crate::analysis::covariance::plain_covariance;
use crate::analysis::linalg::{abs_cos, right_singular, sym_eigen};
use crate::engine::RunMirror;
use crate::engine::THEOREM1_PAIRS as THM1_PAIRS;
use crate::theory::deep_linear::{DeepLinear, DeepLinearConfig};
use crate::theory::relu2::{AlphaRule, Normalization, Relu2, Relu2Config};

/// Which experiment is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Experiment {
    /// PAPER §5.2, deep linear network.
    DeepLinear,
    /// PAPER §5.3, two-layer ReLU (or linear) network.
    Relu2,
}

/// What the view draws of either experiment (cached per experiment step).
#[derive(Debug, Clone, Default)]
pub struct TheoryReadout {
    /// Steps taken.
    pub steps: usize,
    /// E_α now.
    pub energy: f64,
    /// ½ λ_max(C_α[x]).
    pub half_lambda_max: f64,
    /// (layer name, singular values) per layer.
    pub layers: Vec<(String, Vec<f64>)>,
    /// Effective rank of W₁.
    pub w1_effective_rank: f64,
    /// |cos| of the learned direction with the top eigenvector of C_α[x].
    pub cos_top_eig: f64,
    /// |cos| of the learned direction with the top principal axis of x.
    pub cos_pca: f64,
}

/// The theory view.
pub struct TheoryView {
    /// Selected experiment.
    pub experiment: Experiment,
    /// Seed of the experiment's data and initialisation.
    pub seed: u64,
    /// ReLU (true) or linear hidden layer (relu2).
    pub relu: bool,
    /// Per-row (true) or Frobenius (false) normalisation of W₁ (relu2).
    pub per_row: bool,
    /// InfoNCE α (τ = 0.5, recomputed each step) instead of uniform α (relu2).
    pub infonce: bool,
    /// Whether the experiment advances every frame.
    pub playing: bool,
    /// Time budget per frame for the experiment (ms).
    pub budget_ms: f32,
    dl: Option<DeepLinear>,
    r2: Option<Relu2>,
    pca_top_r2: Vec<f64>,
    /// Error of the last reset (invalid settings).
    pub error: Option<String>,
    readout: Option<TheoryReadout>,
    /// (step, energy, ½λ_max) after each advance.
    pub trace: Vec<[f64; 3]>,
}

impl Default for TheoryView {
    fn default() -> Self {
        let mut v = Self {
            experiment: Experiment::DeepLinear,
            seed: 1,
            relu: true,
            per_row: true,
            infonce: false,
            playing: false,
            budget_ms: 4.0,
            dl: None,
            r2: None,
            pca_top_r2: Vec::new(),
            error: None,
            readout: None,
            trace: Vec::new(),
        };
        v.reset_experiment();
        v
    }
}

impl TheoryView {
    /// Rebuilds the selected experiment from the current settings (step 0).
    pub fn reset_experiment(&mut self) {
        self.dl = None;
        self.r2 = None;
        self.readout = None;
        self.trace.clear();
        self.error = None;
        match self.experiment {
            Experiment::DeepLinear => {
                let cfg = DeepLinearConfig {
                    seed: self.seed,
                    ..DeepLinearConfig::default()
                };
                match DeepLinear::new(cfg) {
                    Ok(e) => self.dl = Some(e),
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
            Experiment::Relu2 => {
                let cfg = Relu2Config {
                    seed: self.seed,
                    relu: self.relu,
                    norm: if self.per_row {
                        Normalization::PerRow
                    } else {
                        Normalization::Frobenius
                    },
                    alpha: if self.infonce {
                        AlphaRule::InfoNce { tau: 0.5 }
                    } else {
                        AlphaRule::Uniform
                    },
                    ..Relu2Config::default()
                };
                match Relu2::new(cfg) {
                    Ok(e) => {
                        self.pca_top_r2 = sym_eigen(plain_covariance(e.x.view()).view())
                            .map(|s| s.top_vector().to_vec())
                            .unwrap_or_default();
                        self.r2 = Some(e);
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
        }
        self.record();
    }

    /// Steps taken by the current experiment.
    pub fn steps(&self) -> usize {
        match self.experiment {
            Experiment::DeepLinear => self.dl.as_ref().map_or(0, DeepLinear::steps),
            Experiment::Relu2 => self.r2.as_ref().map_or(0, Relu2::steps),
        }
    }

    /// Advances the experiment by `n` steps and records the energy.
    pub fn step_experiment(&mut self, n: usize) {
        if let Some(e) = &mut self.dl {
            e.step(n);
        }
        if let Some(e) = &mut self.r2 {
            e.step(n);
        }
        self.record();
    }

    /// The readout at the current step (computed once per step).
    pub fn readout(&mut self) -> Option<&TheoryReadout> {
        let steps = self.steps();
        if self.readout.as_ref().is_none_or(|r| r.steps != steps) {
            self.readout = self.compute_readout();
        }
        self.readout.as_ref()
    }

    fn compute_readout(&self) -> Option<TheoryReadout> {
        if let Some(e) = &self.dl {
            let r = e.readout();
            return Some(TheoryReadout {
                steps: r.steps,
                energy: r.energy,
                half_lambda_max: r.half_lambda_max,
                layers: r
                    .layer_singular_values
                    .iter()
                    .enumerate()
                    .map(|(l, s)| (format!("W{}", l + 1), s.clone()))
                    .collect(),
                w1_effective_rank: r.layer_effective_ranks.first().copied().unwrap_or(f64::NAN),
                cos_top_eig: r.abs_cos_top_eig,
                cos_pca: r.abs_cos_pca,
            });
        }
        let e = self.r2.as_ref()?;
        let r = e.readout();
        let cos_pca = match right_singular(e.w1.view()) {
            Ok((_, v)) if v.ncols() > 0 => abs_cos(&v.column(0).to_vec(), &self.pca_top_r2),
            _ => f64::NAN,
        };
        Some(TheoryReadout {
            steps: r.steps,
            energy: r.energy,
            half_lambda_max: r.half_lambda_max,
            layers: vec![
                ("W1".into(), r.w1_singular_values),
                ("W2".into(), r.w2_singular_values),
            ],
            w1_effective_rank: r.w1_effective_rank,
            cos_top_eig: r.abs_cos_top_eig,
            cos_pca,
        })
    }

    fn record(&mut self) {
        let steps = self.steps();
        if let Some(r) = self.readout().cloned() {
            if self.trace.last().is_some_and(|p| p[0] as usize >= steps) {
                return;
            }
            self.trace.push([steps as f64, r.energy, r.half_lambda_max]);
            if self.trace.len() > 4000 {
                // Thin the trace: keep every other point.
                let thinned: Vec<[f64; 3]> = self.trace.iter().step_by(2).copied().collect();
                self.trace = thinned;
            }
        }
    }

    /// While playing: steps the experiment in chunks until the frame budget is used.
    pub fn tick(&mut self) {
        if !self.playing || (self.dl.is_none() && self.r2.is_none()) {
            return;
        }
        let start = Instant::now();
        let budget = Duration::from_secs_f64(f64::from(self.budget_ms.max(0.5)) / 1000.0);
        let chunk = match self.experiment {
            Experiment::DeepLinear => 5,
            Experiment::Relu2 => 2,
        };
        loop {
            if let Some(e) = &mut self.dl {
                e.step(chunk);
            }
            if let Some(e) = &mut self.r2 {
                e.step(chunk);
            }
            if start.elapsed() >= budget {
                break;
            }
        }
        self.record();
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &RunMirror) {
        if self.playing {
            ui.ctx().request_repaint();
        }
        let mut reset = false;
        ui.horizontal_wrapped(|ui| {
            ui.strong("Experiment");
            reset |= ui
                .selectable_value(
                    &mut self.experiment,
                    Experiment::DeepLinear,
                    "Deep linear (§5.2)",
                )
                .changed();
            reset |= ui
                .selectable_value(
                    &mut self.experiment,
                    Experiment::Relu2,
                    "2-layer ReLU (§5.3)",
                )
                .changed();
            ui.separator();
            let play_label = if self.playing {
                "Pause experiment"
            } else {
                "Play experiment"
            };
            if ui.button(play_label).clicked() {
                self.playing = !self.playing;
            }
            if ui
                .button("Step experiment")
                .on_hover_text("one gradient-ascent step on E_α")
                .clicked()
            {
                self.playing = false;
                self.step_experiment(1);
            }
            if ui.button("+100").clicked() {
                self.step_experiment(100);
            }
            if ui.button("Reset experiment").clicked() {
                reset = true;
            }
            let seed_label = ui.label("seed").id;
            reset |= ui
                .add(egui::DragValue::new(&mut self.seed).range(0..=1_000_000))
                .labelled_by(seed_label)
                .changed();
            let budget_label = ui.label("budget ms/frame").id;
            ui.add(
                egui::DragValue::new(&mut self.budget_ms)
                    .range(0.5..=30.0)
                    .speed(0.2),
            )
            .labelled_by(budget_label);
        });
        if self.experiment == Experiment::Relu2 {
            ui.horizontal(|ui| {
                reset |= ui.checkbox(&mut self.relu, "ReLU (off: linear)").changed();
                reset |= ui
                    .checkbox(
                        &mut self.per_row,
                        "W₁ per-row normalisation (off: Frobenius)",
                    )
                    .changed();
                reset |= ui
                    .checkbox(&mut self.infonce, "α: InfoNCE τ = 0.5 (off: uniform)")
                    .changed();
            });
        }
        if reset {
            self.reset_experiment();
        }
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(180, 30, 30), e);
        }
        let trace = self.trace.clone();
        let Some(r) = self.readout().cloned() else {
            return;
        };
        ui.label(format!(
            "experiment step {} · E_α {:.5} · ½λ_max(C_α) {:.5} · ratio {:.4} · effective rank of W₁ {:.3} · |cos| to top eigvec of C_α {:.3} · |cos| to PCA top {:.3}",
            r.steps,
            r.energy,
            r.half_lambda_max,
            r.energy / r.half_lambda_max,
            r.w1_effective_rank,
            r.cos_top_eig,
            r.cos_pca
        ))
        .on_hover_text(
            "The max player climbs E_α; the optimum is ½λ_max(C_α[x]) with the learned direction = top eigenvector of C_α[x] \
             — the contrastive covariance, which discounts augmentation noise — not the top principal axis of x.",
        );
        match &t.theorem1 {
            Some(Ok(th)) => {
                ui.label(format!(
                    "Theorem 1 (training loss {}): |dL/dz − g|/|g| = {:.2e} (f64), {:.2e} (f32, as trained) · |g| = {:.3e} · {} directions, {} pairs, at training step {}",
                    t.config.loss.to_text(),
                    th.relative_residual,
                    th.relative_residual_f32,
                    th.grad_norm,
                    th.directions,
                    THM1_PAIRS.min(t.config.batch),
                    t.snapshot.step
                ))
                .on_hover_text("g = −(1/2B)·∂E_α/∂z with α frozen: the shared max-player gradient every loss uses. Theorem 1: it equals the true ∂L/∂z.");
            }
            Some(Err(e)) => {
                ui.label(format!("Theorem 1 readout unavailable: {e}"));
            }
            None => {}
        }
        let h = (ui.available_height() - 30.0).max(120.0);
        ui.columns(2, |cols| {
            cols[0].label("E_α vs ½λ_max(C_α) over experiment steps");
            let e: Vec<[f64; 2]> = trace.iter().map(|p| [p[0], p[1]]).collect();
            let l: Vec<[f64; 2]> = trace.iter().map(|p| [p[0], p[2]]).collect();
            Plot::new("theory_energy")
                .height(h)
                .legend(Legend::default())
                .include_y(0.0)
                .x_axis_label("experiment step")
                .show_outlined(&mut cols[0], |p| {
                    p.line(Line::new("E_α", e).width(2.0));
                    p.line(
                        Line::new("½ λ_max(C_α[x])", l).style(egui_plot::LineStyle::dashed_loose()),
                    );
                });
            cols[1].label("singular values per layer");
            Plot::new("theory_layers")
                .height(h)
                .legend(Legend::default())
                .include_y(0.0)
                .include_y(1.0)
                .x_axis_label("layer · index")
                .show_outlined(&mut cols[1], |p| {
                    let mut x0 = 0.0;
                    for (li, (name, sv)) in r.layers.iter().enumerate() {
                        let bars: Vec<Bar> = sv
                            .iter()
                            .enumerate()
                            .map(|(k, &s)| Bar::new(x0 + k as f64, s).width(0.8))
                            .collect();
                        p.bar_chart(
                            BarChart::new(name.clone(), bars)
                                .color(crate::app::palette::class_color(li)),
                        );
                        x0 += sv.len() as f64 + 1.5;
                    }
                });
        });
    }
}
