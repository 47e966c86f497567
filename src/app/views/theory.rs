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
//! The experiment has its own Play / Step / Reset and a playback speed in steps per frame
//! (capped by a per-frame time budget), independent of training; its step axis is logarithmic
//! by default so the first steps, where most happens, are as visible as the last. It runs on
//! the paper's own synthetic data for the experiment (generated from its seed, stated in the
//! view), not on the panel's data set: the claims are about a known input covariance and a
//! known augmented axis. The Theorem 1 readout is the one part that uses the panel's run.

use super::axes::{LabPlot, Scale, log1p_x};
use egui_plot::{Bar, BarChart, Legend, Line};
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
    /// Playback speed: experiment steps per frame while playing.
    pub steps_per_frame: usize,
    /// Most time per frame the experiment may take (ms); caps `steps_per_frame`.
    pub budget_ms: f32,
    /// Step axis of the energy plot on a log scale (ticks 0, 1, 10, 100, …).
    pub log_steps: bool,
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
            steps_per_frame: 3,
            budget_ms: 4.0,
            log_steps: true,
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

    /// While playing: `steps_per_frame` steps, in chunks, stopping early when the frame
    /// budget is used.
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
        let mut left = self.steps_per_frame.max(1);
        while left > 0 {
            let n = left.min(chunk);
            if let Some(e) = &mut self.dl {
                e.step(n);
            }
            if let Some(e) = &mut self.r2 {
                e.step(n);
            }
            left -= n;
            if start.elapsed() >= budget {
                break;
            }
        }
        self.record();
    }

    /// Which data the selected experiment runs on, and why not the panel's.
    pub fn data_note(&self) -> String {
        let own = match self.experiment {
            Experiment::DeepLinear => {
                let c = DeepLinearConfig::default();
                format!(
                    "the paper's §5.2 set from seed {}: N = {} pairs in d = {} (per-axis std {} \
                     … {}); the views add noise of std {} on axis {}, {} elsewhere",
                    self.seed,
                    c.pairs,
                    c.stds.len(),
                    c.stds.first().copied().unwrap_or(0.0),
                    c.stds.last().copied().unwrap_or(0.0),
                    c.noise_dim0,
                    c.noise_axis,
                    c.noise_other
                )
            }
            Experiment::Relu2 => {
                let c = Relu2Config::default();
                format!(
                    "the paper's §5.3 set from seed {}: N = {} pairs of ±m_k·e_k in d = {} \
                     (m = 10 … 1); the views perturb the magnitude by noise of std {}",
                    self.seed, c.pairs, c.dim, c.mag_noise
                )
            }
        };
        format!(
            "Data: {own}. Not the panel's data set: checking the learned direction against \
             C_α[x]'s top eigenvector needs a known covariance and augmentation. Only the \
             identity check below uses the panel's run."
        )
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
        });
        // Its own row: a slider cannot wrap within a row (it would widen the view).
        ui.horizontal_wrapped(|ui| {
            let speed_label = ui.label("speed").id;
            ui.add(
                egui::Slider::new(&mut self.steps_per_frame, 1..=200)
                    .logarithmic(true)
                    .suffix(" steps/frame"),
            )
            .labelled_by(speed_label)
            .on_hover_text(format!(
                "experiment steps per frame while playing (at most {:.0} ms of each frame)",
                self.budget_ms
            ));
            ui.checkbox(&mut self.log_steps, "log step axis");
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
        ui.add(egui::Label::new(self.data_note()).wrap());
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
        let h = if super::split::stacked(ui) {
            super::split::STACKED_PLOT_H
        } else {
            (ui.available_height() - 30.0).max(160.0)
        };
        let log = self.log_steps;
        let mut parts = (trace, r);
        super::split::two_columns(
            ui,
            &mut parts,
            |ui, (trace, r)| energy_plot(ui, trace, r, log, h),
            |ui, (_, r)| layers_plot(ui, r, h),
        );
    }
}

/// E_α and its optimum ½λ_max over the experiment's steps (from step 0, so the axis is never
/// empty: the target line and the starting E_α show before Play).
fn energy_plot(ui: &mut egui::Ui, trace: &[[f64; 3]], r: &TheoryReadout, log: bool, h: f32) {
    ui.label("E_α vs ½λ_max(C_α) over experiment steps");
    let x = |step: f64| if log { log1p_x(step) } else { step };
    let e: Vec<[f64; 2]> = trace.iter().map(|p| [x(p[0]), p[1]]).collect();
    let l: Vec<[f64; 2]> = trace.iter().map(|p| [x(p[0]), p[2]]).collect();
    let (scale, x_label) = if log {
        (Scale::Log1p, "experiment step (log scale)")
    } else {
        (Scale::Linear, "experiment step")
    };
    LabPlot::new("theory_energy", x_label, "E_α (weighted sq. distances)")
        .x_scale(scale)
        .with(|p| {
            p.height(h)
                .legend(Legend::default().position(egui_plot::Corner::RightBottom))
                .include_x(0.0)
                .include_x(x(100.0))
                .include_y(0.0)
                .include_y(r.half_lambda_max * 1.05)
        })
        .show(ui, |p| {
            let dashed = egui_plot::LineStyle::dashed_loose();
            let target = "½ λ_max(C_α[x])";
            if l.len() < 2 {
                // Before Play: the optimum as a line across the axis, E_α as a marker.
                p.hline(
                    egui_plot::HLine::new(target, r.half_lambda_max)
                        .style(dashed)
                        .color(crate::app::palette::run_color(1)),
                );
            } else {
                p.line(
                    Line::new(target, l)
                        .style(dashed)
                        .color(crate::app::palette::run_color(1)),
                );
            }
            let colour = crate::app::palette::run_color(0);
            if let Some(&now) = e.last() {
                p.points(
                    egui_plot::Points::new("E_α now", vec![now])
                        .radius(4.0)
                        .color(colour),
                );
            }
            p.line(Line::new("E_α", e).width(2.0).color(colour));
        });
}

/// The singular values of every layer, side by side.
fn layers_plot(ui: &mut egui::Ui, r: &TheoryReadout, h: f32) {
    ui.label("singular values per layer");
    LabPlot::new(
        "theory_layers",
        "layer · index k of σ_k",
        "singular value σ_k",
    )
    .with(|p| {
        p.height(h)
            .legend(Legend::default())
            .include_y(0.0)
            .include_y(1.0)
    })
    .show(ui, |p| {
        let mut x0 = 0.0;
        for (li, (name, sv)) in r.layers.iter().enumerate() {
            let bars: Vec<Bar> = sv
                .iter()
                .enumerate()
                .map(|(k, &s)| Bar::new(x0 + k as f64, s).width(0.8))
                .collect();
            p.bar_chart(
                BarChart::new(name.clone(), bars).color(crate::app::palette::class_color(li)),
            );
            x0 += sv.len() as f64 + 1.5;
        }
    });
}
