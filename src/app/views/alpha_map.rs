//! The α heat map: the batch × batch pairwise importance of the last training batch.
//!
//! Rows are anchors, columns candidates; self and partner entries are zero by construction.
//! Rows/columns can be sorted by class so that block structure (α concentrating on
//! same-class negatives, i.e. similar distinct samples) shows. β_i = Σ_j α_ij is drawn as a
//! bar beside each row.

use ndarray::Array2;

use crate::app::palette::{class_color, ramp};
use crate::train::Trainer;

/// Summary numbers of an α matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AlphaStats {
    /// Share of off-diagonal, non-partner entries that are exactly zero (0..1).
    pub sparsity: f64,
    /// max α / mean α over those entries.
    pub max_over_mean: f64,
    /// Largest entry.
    pub max: f64,
}

/// Sparsity and contrast of α (entries on self and partner are excluded).
pub fn alpha_stats(alpha: &Array2<f32>) -> AlphaStats {
    let n = alpha.nrows();
    if n < 4 {
        return AlphaStats::default();
    }
    let b = n / 2;
    let (mut zeros, mut count, mut sum, mut max) = (0usize, 0usize, 0.0f64, 0.0f64);
    for i in 0..n {
        for j in 0..n {
            if j == i || j == (i + b) % n {
                continue;
            }
            let a = f64::from(alpha[[i, j]]);
            count += 1;
            sum += a;
            max = max.max(a);
            if a == 0.0 {
                zeros += 1;
            }
        }
    }
    let mean = sum / count as f64;
    AlphaStats {
        sparsity: zeros as f64 / count as f64,
        max_over_mean: if mean > 0.0 { max / mean } else { 0.0 },
        max,
    }
}

/// α heat-map view.
#[derive(Default)]
pub struct AlphaView {
    /// Sort rows and columns by class.
    pub sort_by_class: bool,
    /// Colour each row relative to its own maximum.
    pub per_row: bool,
    texture: Option<egui::TextureHandle>,
    key: Option<(usize, bool, bool, usize)>,
    order: Vec<usize>,
}

impl AlphaView {
    fn order(labels: &[usize], sort: bool) -> Vec<usize> {
        let mut o: Vec<usize> = (0..labels.len()).collect();
        if sort {
            o.sort_by_key(|&i| (labels[i], i));
        }
        o
    }

    /// Draws the heat map of the trainer's latest snapshot.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &Trainer) {
        let alpha = &t.snapshot.alpha;
        let n = alpha.nrows();
        let stats = alpha_stats(alpha);
        ui.horizontal(|ui| {
            ui.strong(format!(
                "α of the last batch ({n} × {n}) — {}",
                t.config.loss.info().display
            ));
            ui.checkbox(&mut self.sort_by_class, "sort by class");
            ui.checkbox(&mut self.per_row, "scale per row");
        });
        ui.label(format!(
            "sparsity {:.1}% zeros · max/mean {:.2} · max α {:.4} · step {}",
            stats.sparsity * 100.0,
            stats.max_over_mean,
            stats.max,
            t.snapshot.step
        ));
        if n == 0 {
            ui.label("Take a step to see α.");
            return;
        }
        let key = (
            t.snapshot.step,
            self.sort_by_class,
            self.per_row,
            t.history.loss_changes.len(),
        );
        if self.key != Some(key) || self.texture.is_none() {
            self.order = Self::order(&t.snapshot.batch_labels, self.sort_by_class);
            let gmax = stats.max.max(1e-30) as f32;
            let mut pixels = Vec::with_capacity(n * n);
            for &i in &self.order {
                let rmax = if self.per_row {
                    alpha
                        .row(i)
                        .iter()
                        .copied()
                        .fold(0.0f32, f32::max)
                        .max(1e-30)
                } else {
                    gmax
                };
                for &j in &self.order {
                    pixels.push(ramp(alpha[[i, j]] / rmax));
                }
            }
            let img = egui::ColorImage::new([n, n], pixels);
            match &mut self.texture {
                Some(tex) => tex.set(img, egui::TextureOptions::NEAREST),
                None => {
                    self.texture = Some(ui.ctx().load_texture(
                        "alpha",
                        img,
                        egui::TextureOptions::NEAREST,
                    ));
                }
            }
            self.key = Some(key);
        }
        let avail = ui.available_size();
        let side = (avail.y - 10.0).min(avail.x - 60.0).max(64.0);
        let (rect, resp) =
            ui.allocate_exact_size(egui::vec2(side + 40.0, side), egui::Sense::hover());
        let map =
            egui::Rect::from_min_size(rect.min + egui::vec2(12.0, 0.0), egui::vec2(side, side));
        let painter = ui.painter_at(rect);
        if let Some(tex) = &self.texture {
            painter.image(
                tex.id(),
                map,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
        let cell = side / n as f32;
        // Class strip on the left, β bars on the right.
        let bmax = t
            .snapshot
            .alpha
            .rows()
            .into_iter()
            .map(|r| r.sum())
            .fold(0.0f32, f32::max)
            .max(1e-30);
        for (row, &i) in self.order.iter().enumerate() {
            let y0 = map.min.y + row as f32 * cell;
            let lab = t.snapshot.batch_labels.get(i).copied().unwrap_or(0);
            painter.rect_filled(
                egui::Rect::from_min_size(
                    egui::pos2(rect.min.x, y0),
                    egui::vec2(8.0, cell.max(1.0)),
                ),
                0.0,
                class_color(lab),
            );
            let beta = alpha.row(i).sum();
            let w = 24.0 * beta / bmax;
            painter.rect_filled(
                egui::Rect::from_min_size(
                    egui::pos2(map.max.x + 4.0, y0),
                    egui::vec2(w, cell.max(1.0)),
                ),
                0.0,
                egui::Color32::from_gray(120),
            );
        }
        if let Some(pos) = resp.hover_pos()
            && map.contains(pos)
        {
            let r = (((pos.y - map.min.y) / cell) as usize).min(n - 1);
            let c = (((pos.x - map.min.x) / cell) as usize).min(n - 1);
            let (i, j) = (self.order[r], self.order[c]);
            let li = t.snapshot.batch_labels.get(i).copied().unwrap_or(0);
            let lj = t.snapshot.batch_labels.get(j).copied().unwrap_or(0);
            let role = if i == j {
                "self"
            } else if j == (i + n / 2) % n {
                "partner (positive)"
            } else {
                "negative"
            };
            resp.on_hover_text(format!(
                "i = {i} (class {li}), j = {j} (class {lj}) — {role}\nα_ij = {:.5}\nβ_i = Σ_j α_ij = {:.4}",
                alpha[[i, j]],
                alpha.row(i).sum()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_only_negatives() {
        // B = 2: rows 0..4, partner of 0 is 2.
        let mut a = Array2::<f32>::zeros((4, 4));
        a[[0, 1]] = 1.0;
        a[[0, 3]] = 0.0;
        a[[1, 0]] = 0.5;
        a[[1, 2]] = 0.5;
        a[[2, 1]] = 1.0;
        a[[3, 0]] = 1.0;
        a[[0, 2]] = 9.0; // partner entry: ignored
        let s = alpha_stats(&a);
        // Negatives: (0,1),(0,3),(1,0),(1,2),(2,1),(2,3),(3,0),(3,2) → 8 entries, 3 zeros.
        assert!((s.sparsity - 3.0 / 8.0).abs() < 1e-12, "{s:?}");
        assert!((s.max - 1.0).abs() < 1e-12);
        assert!((s.max_over_mean - 1.0 / (4.0 / 8.0)).abs() < 1e-9);
    }
}
