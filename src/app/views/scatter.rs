//! Live 2-D PCA scatter of the held-out embeddings, coloured by class.

use egui_plot::{Legend, Plot, Points};

use crate::app::palette::class_color;
use crate::train::Trainer;

/// Scatter view.
#[derive(Debug, Clone, Default)]
pub struct ScatterView {}

impl ScatterView {
    /// Draws the scatter into `height` points.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &Trainer, height: f32) {
        let s = &t.snapshot;
        ui.horizontal(|ui| {
            ui.strong("Embeddings (2-D PCA)");
            let total: f64 = s.pca_var.iter().sum();
            ui.label(format!(
                "step {} · PC1/PC2 variance {:.3}/{:.3}",
                s.step,
                s.pca_var.first().unwrap_or(&0.0),
                s.pca_var.get(1).unwrap_or(&0.0)
            ))
            .on_hover_text(format!("variance captured by the two axes: {total:.3}"));
        });
        let classes = t.data.num_classes;
        Plot::new("pca_scatter")
            .height((height - 30.0).max(100.0))
            .data_aspect(1.0)
            .legend(Legend::default())
            .show(ui, |p| {
                for c in 0..classes {
                    let pts: Vec<[f64; 2]> = (0..s.pca2.nrows())
                        .filter(|&i| s.labels.get(i) == Some(&c))
                        .map(|i| [f64::from(s.pca2[[i, 0]]), f64::from(s.pca2[[i, 1]])])
                        .collect();
                    let name = t
                        .data
                        .class_names
                        .get(c)
                        .cloned()
                        .unwrap_or_else(|| format!("class {c}"));
                    p.points(Points::new(name, pts).color(class_color(c)).radius(2.5));
                }
            });
    }
}
