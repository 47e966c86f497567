//! The data view: what the encoder is trained on, and what a positive pair looks like.
//!
//! Images: a strip of training samples, each with two random augmented views (the two rows
//! k and k+B of a batch). Vectors: a 2-D PCA of the raw inputs with a few samples' two views
//! drawn and joined, so the strength and direction of the augmentation can be seen.

use super::axes::LabPlot;
use egui_plot::{Legend, Line, Points};
use ndarray::{Array1, Array2, Axis};

use crate::analysis::pca;
use crate::app::palette::{class_color, class_text_color};
use crate::data::chw_to_rgba;
use crate::engine::RunMirror;
use crate::rng::Rng;

/// Data view state (cached textures and projections).
#[derive(Default)]
pub struct DataView {
    reseed: u64,
    key: Option<(String, String, u64)>,
    thumbs: Vec<[egui::TextureHandle; 3]>,
    thumb_labels: Vec<usize>,
    raw2d: Option<(Array2<f32>, Vec<usize>)>,
    pairs2d: Vec<([f64; 2], [f64; 2], usize)>,
}

fn sample_rows(labels: &[usize], classes: usize, per_class: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for c in 0..classes {
        out.extend(
            labels
                .iter()
                .enumerate()
                .filter(|(_, l)| **l == c)
                .take(per_class)
                .map(|(i, _)| i),
        );
    }
    out
}

impl DataView {
    fn rebuild(&mut self, ui: &egui::Ui, t: &RunMirror) {
        let data = &t.data;
        let mut rng = Rng::derive(t.config.seed ^ self.reseed, "data-view");
        self.thumbs.clear();
        self.thumb_labels.clear();
        self.pairs2d.clear();
        self.raw2d = None;
        if let Some(shape) = data.image_shape {
            let rows = sample_rows(&data.y_train, data.num_classes.min(10), 1);
            for &i in rows.iter().take(10) {
                let x = data.x_train.row(i);
                let mut views = Vec::new();
                let mut v1 = Array1::<f32>::zeros(x.len());
                let mut v2 = Array1::<f32>::zeros(x.len());
                t.config
                    .augment
                    .apply_image(x, Some(shape), v1.view_mut(), &mut rng);
                t.config
                    .augment
                    .apply_image(x, Some(shape), v2.view_mut(), &mut rng);
                for (k, img) in [x.to_owned(), v1, v2].iter().enumerate() {
                    let Some(slice) = img.as_slice() else {
                        continue;
                    };
                    let Some(rgba) = chw_to_rgba(slice, shape) else {
                        continue;
                    };
                    let ci = egui::ColorImage::from_rgba_unmultiplied([shape.2, shape.1], &rgba);
                    views.push(ui.ctx().load_texture(
                        format!("thumb{i}-{k}"),
                        ci,
                        egui::TextureOptions::NEAREST,
                    ));
                }
                if let Ok(arr) = <[egui::TextureHandle; 3]>::try_from(views) {
                    self.thumbs.push(arr);
                    self.thumb_labels.push(data.y_train[i]);
                }
            }
        } else {
            let n = data.x_train.nrows().min(600);
            let idx: Vec<usize> = (0..n).collect();
            let x = data.x_train.select(Axis(0), &idx);
            // Project the raw inputs and a few pairs of views with the same PCA axes.
            let picks = sample_rows(&data.y_train[..n], data.num_classes, 2);
            let mut stacked = x.clone();
            let mut extra = Vec::new();
            for &i in &picks {
                let src = data.x_train.row(i);
                let mut v1 = Array1::<f32>::zeros(src.len());
                let mut v2 = Array1::<f32>::zeros(src.len());
                t.config.augment.apply(src, v1.view_mut(), &mut rng);
                t.config.augment.apply(src, v2.view_mut(), &mut rng);
                extra.push((v1, v2, data.y_train[i]));
            }
            for (v1, v2, _) in &extra {
                let _ = stacked.push_row(v1.view());
                let _ = stacked.push_row(v2.view());
            }
            let (p, _) = pca::project(&stacked, 2);
            let base = p.slice(ndarray::s![..n, ..]).to_owned();
            for (k, (_, _, c)) in extra.iter().enumerate() {
                let a = p.row(n + 2 * k);
                let b = p.row(n + 2 * k + 1);
                self.pairs2d.push((
                    [f64::from(a[0]), f64::from(a[1])],
                    [f64::from(b[0]), f64::from(b[1])],
                    *c,
                ));
            }
            self.raw2d = Some((base, data.y_train[..n].to_vec()));
        }
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &RunMirror) {
        let d = &t.data;
        let key = (
            t.config.data.to_text(),
            t.config.augment.to_text(),
            self.reseed,
        );
        if self.key.as_ref() != Some(&key) {
            self.rebuild(ui, t);
            self.key = Some(key);
        }
        ui.strong(&d.name);
        ui.label(format!(
            "{} training / {} held-out samples · {} dimensions{} · {} classes",
            d.x_train.nrows(),
            d.x_test.nrows(),
            d.dim(),
            d.image_shape
                .map_or(String::new(), |(c, h, w)| format!(" ({c}×{h}×{w} images)")),
            d.num_classes
        ));
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("Augmentation: {}", t.config.augment.to_text()));
            if ui.button("New random views").clicked() {
                self.reseed = self.reseed.wrapping_add(1);
            }
        });
        ui.label("Labels are never used by the loss: they only colour the views and score the kNN probe.");
        ui.separator();
        if !self.thumbs.is_empty() {
            ui.label(
                "Each column: a training image, then its two augmented views (a positive pair).",
            );
            ui.horizontal_wrapped(|ui| {
                for (views, &c) in self.thumbs.iter().zip(&self.thumb_labels) {
                    ui.vertical(|ui| {
                        let name = d.class_names.get(c).cloned().unwrap_or_default();
                        ui.colored_label(class_text_color(c), name);
                        for tex in views {
                            ui.image((tex.id(), egui::vec2(64.0, 64.0)));
                        }
                    });
                }
            });
        } else if let Some((p, labels)) = &self.raw2d {
            ui.label("Raw inputs (2-D PCA); lines join the two augmented views of a few samples.");
            let h = if super::split::stacked(ui) {
                ui.available_width()
            } else {
                ui.available_height() - 8.0
            }
            .max(220.0);
            LabPlot::new(
                "raw_pca",
                "PC 1 of the raw inputs x (input units)",
                "PC 2 of x (input units)",
            )
            .with(|p| p.height(h).data_aspect(1.0).legend(Legend::default()))
            .show(ui, |plot| {
                for c in 0..d.num_classes {
                    let pts: Vec<[f64; 2]> = (0..p.nrows())
                        .filter(|&i| labels[i] == c)
                        .map(|i| [f64::from(p[[i, 0]]), f64::from(p[[i, 1]])])
                        .collect();
                    let name = d.class_names.get(c).cloned().unwrap_or_default();
                    plot.points(
                        Points::new(name, pts)
                            .color(class_color(c).gamma_multiply(0.5))
                            .radius(1.5),
                    );
                }
                for (a, b, c) in &self.pairs2d {
                    plot.line(
                        Line::new("positive pair", vec![*a, *b])
                            .color(class_color(*c))
                            .width(2.0),
                    );
                }
            });
        }
    }
}
