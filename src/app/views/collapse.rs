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

use super::ShowOutlined;
use egui_plot::{Bar, BarChart, HLine, Legend, Line, Plot, Points};

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
        let h = ((ui.available_height() - 50.0) / 2.0).max(90.0);
        ui.columns(2, |cols| {
            cols[0].label("log₁₀ eigenvalues of Cov(z), descending");
            let n_sp = series.spectra.len();
            // Oldest snapshot first, "now" last (egui_plot would sort the names as text:
            // step 0, 1600, 3200, 400, 800).
            Plot::new("collapse_spectrum")
                .height(h)
                .legend(Legend::default().follow_insertion_order(true))
                .x_axis_label("index k")
                .show_outlined(&mut cols[0], |p| {
                    for (idx, (s, sp)) in series.spectra.iter().enumerate() {
                        if idx + 1 == n_sp && *s == t.snapshot.step {
                            continue;
                        }
                        let shade = 200 - (150 * (idx + 1) / (n_sp + 1)) as u8;
                        let pts = spectrum_points(sp);
                        p.line(
                            Line::new(format!("step {s}"), pts)
                                .color(egui::Color32::from_gray(shade)),
                        );
                    }
                    let pts = spectrum_points(&m.log_spectrum);
                    p.line(
                        Line::new(format!("now (step {})", t.snapshot.step), pts)
                            .color(egui::Color32::from_rgb(31, 119, 180))
                            .width(2.5),
                    );
                });
            cols[1].label("effective rank and RankMe over training");
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
            Plot::new("collapse_rank")
                .height(h)
                .legend(Legend::default())
                .include_y(0.0)
                .include_y(m.dim as f64)
                .x_axis_label("step")
                .show_outlined(&mut cols[1], |p| {
                    p.line(Line::new("effective rank", er));
                    p.line(Line::new("RankMe", rm));
                    p.hline(HLine::new("d", m.dim as f64));
                });
            cols[0].label("alignment vs uniformity (lower-left is better)");
            let traj: Vec<[f64; 2]> = series
                .trace
                .iter()
                .map(|p| [p.uniformity, p.alignment])
                .collect();
            let last = traj.last().copied();
            Plot::new("collapse_align_uniform")
                .height(h)
                .legend(Legend::default())
                .x_axis_label("uniformity")
                .y_axis_label("alignment")
                .show_outlined(&mut cols[0], |p| {
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
            cols[1].label("per-dimension std of z/|z| (sorted)");
            let mut std = m.dim_std.clone();
            std.sort_by(|a, b| b.total_cmp(a));
            let bars: Vec<Bar> = std
                .iter()
                .enumerate()
                .map(|(k, &s)| Bar::new(k as f64 + 1.0, s).width(0.8))
                .collect();
            Plot::new("collapse_dim_std")
                .height(h)
                .legend(Legend::default())
                .include_y(0.0)
                .x_axis_label("dimension (sorted)")
                .show_outlined(&mut cols[1], |p| {
                    p.bar_chart(BarChart::new("std", bars));
                    p.hline(HLine::new("1/√d", inv));
                });
        });
    }
}
