//! Collapse view: is the representation spreading out or collapsing?
//!
//! Computed by the run's engine once per snapshot (never per frame) on a fixed probe batch: 2B rows that are two
//! augmented views of B fixed held-out samples (rows k and k + B partners, the same
//! augmentations at every refresh so the curves are comparable), embedded by the current
//! encoder and normalised like the training embeddings. From
//! [`CollapseMetrics`](crate::analysis::spectrum::CollapseMetrics):
//! - log₁₀ eigenvalues of Cov(z) (Jing et al. 2022), now and at a few earlier snapshots;
//! - effective rank exp(H(σ/Σσ)) and RankMe over time;
//! - alignment (1/B) Σ_k ‖ẑ_k − ẑ_{k+B}‖² vs uniformity log mean exp(−2‖ẑ_i − ẑ_j‖²)
//!   (Wang & Isola 2020) as a trajectory;
//! - per-dimension std of ẑ (≈ 1/√d when spread out, → 0 on collapse).

use super::axes::LabPlot;
use egui_plot::{Bar, BarChart, HLine, Legend, Line, Points};

use crate::engine::RunMirror;
use crate::nn::Stage;

pub use crate::train::probe::{PROBE_PAIRS, embed_like_training, fixed_pairs};

/// A spectrum as plot points (k, log₁₀ λ_k), k = 1 for the largest eigenvalue (as in the
/// exported figure, [`crate::figures::spectrum_png`]).
pub(crate) fn spectrum_points(log_spectrum: &[f64]) -> Vec<[f64; 2]> {
    log_spectrum
        .iter()
        .enumerate()
        .map(|(k, &v)| [k as f64 + 1.0, v])
        .collect()
}

pub use crate::train::history::CollapsePoint;

/// Collapse view: draws the collapse series the run's engine records at every snapshot
/// ([`History::collapse`](crate::train::History::collapse)).
#[derive(Default)]
pub struct CollapseView {
    /// Which embedding is shown (collapse differs before and after a projection head).
    pub stage: Stage,
}

impl CollapseView {
    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &RunMirror) {
        if t.config.encoder.has_head() {
            ui.horizontal(|ui| {
                ui.label("measure");
                for st in [Stage::Representation, Stage::Output] {
                    ui.selectable_value(&mut self.stage, st, st.label()).on_hover_text(
                        "collapse before and after a projection head differs; both are recorded",
                    );
                }
            });
        }
        let stage = if t.config.encoder.has_head() {
            self.stage
        } else {
            Stage::Representation
        };
        let index = usize::from(stage == Stage::Output);
        let Some(series) = t.history.collapse.get(index) else {
            ui.label("Collapse metrics appear with the first snapshot.");
            return;
        };
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!(
                "Collapse — probe batch of {PROBE_PAIRS} held-out pairs (two augmented views each), step {}",
                t.snapshot.step
            ));
            crate::app::live_figure::figure_toggle(ui, crate::app::live_figure::FigureKind::Spectrum);
        });
        if let Some(e) = &series.error {
            ui.colored_label(egui::Color32::from_rgb(180, 30, 30), e);
            return;
        }
        let Some(m) = &series.current else {
            return;
        };
        let inv = 1.0 / (m.dim as f64).sqrt();
        ui.label(format!(
            "effective rank {:.2} of d = {} · RankMe {:.2} · alignment {:.3} · uniformity {:.3} · mean per-dim std {:.4} (spread ≈ {inv:.4})",
            m.effective_rank, m.dim, m.rankme, m.alignment, m.uniformity, m.mean_dim_std
        ))
        .on_hover_text(
            "effective rank = exp(entropy of σ/Σσ) of the centred batch (Roy & Vetterli); RankMe adds ε = 1e-7 (Garrido et al.).\n\
             alignment = mean |u_k − u_k'|² over positive pairs, u = z/|z| (lower: views agree); uniformity = log mean exp(−2|u_i − u_j|²) (lower: more spread).\n\
             per-dim std of z/|z| near 0 means dimensional collapse.",
        );
        let stacked = super::split::stacked(ui);
        let h = if stacked {
            super::split::STACKED_PLOT_H
        } else {
            ((ui.available_height() - 56.0) / 2.0).max(120.0)
        };
        let now = t.snapshot.step;
        let mut parts = (series, m);
        // Spectrum and alignment/uniformity on the left, ranks and per-dimension std on the
        // right (one column, in this order, when narrow).
        super::split::two_columns(
            ui,
            &mut parts,
            |ui, (series, m)| {
                spectrum_plot(ui, series, m, now, h);
                align_uniform_plot(ui, series, h);
            },
            |ui, (series, m)| {
                rank_plot(ui, series, m, h);
                dim_std_plot(ui, m, h);
            },
        );
    }
}

use crate::analysis::spectrum::CollapseMetrics;
use crate::train::history::CollapseSeries;

fn spectrum_plot(
    ui: &mut egui::Ui,
    series: &CollapseSeries,
    m: &CollapseMetrics,
    now: usize,
    h: f32,
) {
    ui.label("eigenvalues λ_k of Cov(z), largest first");
    let n_sp = series.spectra.len();
    // Oldest snapshot first, "now" last (egui_plot would sort the names as text: step 0,
    // 1600, 3200, 400, 800).
    LabPlot::new(
        "collapse_spectrum",
        "index k (1 = largest)",
        "log₁₀ λ_k (variance, log scale)",
    )
    .with(|p| {
        p.height(h)
            .legend(Legend::default().follow_insertion_order(true))
    })
    .show(ui, |p| {
        for (idx, (s, sp)) in series.spectra.iter().enumerate() {
            if idx + 1 == n_sp && *s == now {
                continue;
            }
            let shade = 200 - (150 * (idx + 1) / (n_sp + 1)) as u8;
            let pts = spectrum_points(sp);
            p.line(Line::new(format!("step {s}"), pts).color(egui::Color32::from_gray(shade)));
        }
        let pts = spectrum_points(&m.log_spectrum);
        p.line(
            Line::new(format!("now (step {now})"), pts)
                .color(egui::Color32::from_rgb(31, 119, 180))
                .width(2.5),
        );
    });
}

fn rank_plot(ui: &mut egui::Ui, series: &CollapseSeries, m: &CollapseMetrics, h: f32) {
    ui.label("effective rank and RankMe over training");
    let er: Vec<[f64; 2]> = series
        .trace
        .iter()
        .map(|p| [p.step as f64, p.effective_rank])
        .collect();
    let rm: Vec<[f64; 2]> = series
        .trace
        .iter()
        .map(|p| [p.step as f64, p.rankme])
        .collect();
    LabPlot::new(
        "collapse_rank",
        "step (optimiser steps)",
        "rank (dimensions)",
    )
    .with(|p| {
        p.height(h)
            .legend(Legend::default())
            .include_y(0.0)
            .include_y(m.dim as f64)
    })
    .show(ui, |p| {
        p.line(Line::new("effective rank", er));
        p.line(Line::new("RankMe", rm));
        p.hline(HLine::new("d", m.dim as f64));
    });
}

fn align_uniform_plot(ui: &mut egui::Ui, series: &CollapseSeries, h: f32) {
    ui.label("alignment vs uniformity (lower-left is better)");
    let traj: Vec<[f64; 2]> = series
        .trace
        .iter()
        .map(|p| [p.uniformity, p.alignment])
        .collect();
    let last = traj.last().copied();
    LabPlot::new(
        "collapse_align_uniform",
        "uniformity log E exp(−2|u_i − u_j|²) (nats)",
        "alignment E|u − u'|² (sq. distance)",
    )
    .with(|p| p.height(h).legend(Legend::default()))
    .show(ui, |p| {
        p.line(Line::new("trajectory", traj.clone()));
        p.points(Points::new("snapshots", traj).radius(2.0));
        if let Some(l) = last {
            p.points(
                Points::new("now", vec![l])
                    .radius(5.0)
                    .color(egui::Color32::from_rgb(214, 39, 40)),
            );
        }
    });
}

fn dim_std_plot(ui: &mut egui::Ui, m: &CollapseMetrics, h: f32) {
    ui.label("per-dimension std of z/|z| (sorted)");
    let inv = 1.0 / (m.dim as f64).sqrt();
    let mut std = m.dim_std.clone();
    std.sort_by(|a, b| b.total_cmp(a));
    let bars: Vec<Bar> = std
        .iter()
        .enumerate()
        .map(|(k, &s)| Bar::new(k as f64 + 1.0, s).width(0.8))
        .collect();
    LabPlot::new(
        "collapse_dim_std",
        "dimension (sorted by std)",
        "std of z/|z| (unit sphere)",
    )
    .with(|p| p.height(h).legend(Legend::default()).include_y(0.0))
    .show(ui, |p| {
        p.bar_chart(BarChart::new("std", bars));
        p.hline(HLine::new("1/√d", inv));
    });
}
