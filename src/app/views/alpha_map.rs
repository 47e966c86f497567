//! The α heat map: the batch × batch pairwise importance of the last training batch.
//!
//! Rows are anchors, columns candidates; self and partner entries are zero by construction.
//! Rows/columns can be sorted by class so that block structure (α concentrating on
//! same-class negatives, i.e. similar distinct samples) shows. β_i = Σ_j α_ij is drawn as a
//! bar beside each row.

use ndarray::Array2;

use crate::app::palette::{class_color, ramp};
use crate::engine::RunMirror;

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

/// Draws an α matrix as a texture (shared by the α view and the players view): a class strip
/// on the left, β_i = Σ_j α_ij as a bar on the right, and a hover tooltip with i, j, α_ij, β_i
/// and, when the batch embeddings are known, d²_ij = ½‖z_i − z_j‖² (the engine's and the
/// paper's convention, [`crate::loss::Geometry`]).
#[derive(Default)]
pub struct AlphaMapPainter {
    /// Where the map itself was last drawn (screen points).
    pub map_rect: Option<egui::Rect>,
    texture: Option<egui::TextureHandle>,
    key: Option<(usize, usize, bool, bool)>,
    order: Vec<usize>,
}

impl AlphaMapPainter {
    fn order(labels: &[usize], n: usize, sort: bool) -> Vec<usize> {
        let mut o: Vec<usize> = (0..n).collect();
        if sort {
            o.sort_by_key(|&i| (labels.get(i).copied().unwrap_or(usize::MAX), i));
        }
        o
    }

    /// Draws `alpha` (2B × 2B, rows k and k + B partners) into a square of at most `max_side`
    /// points. `key` identifies the content (e.g. (step, loss changes)): the texture is rebuilt
    /// only when it, `sort` or `per_row` change. `d2` are the pairwise squared distances of
    /// the batch embeddings, if known. Returns the hovered cell (i, j) in batch order.
    #[allow(clippy::too_many_arguments)]
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        id: &str,
        alpha: &Array2<f32>,
        labels: &[usize],
        key: (usize, usize),
        sort: bool,
        per_row: bool,
        d2: Option<&Array2<f32>>,
        max_side: f32,
    ) -> Option<(usize, usize)> {
        let n = alpha.nrows();
        if n == 0 || alpha.ncols() != n {
            ui.label("No α yet.");
            return None;
        }
        let full_key = (key.0, key.1, sort, per_row);
        if self.key != Some(full_key) || self.texture.is_none() || self.order.len() != n {
            self.order = Self::order(labels, n, sort);
            let gmax = alpha.iter().copied().fold(0.0f32, f32::max).max(1e-30);
            let mut pixels = Vec::with_capacity(n * n);
            for &i in &self.order {
                let rmax = if per_row {
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
                        id,
                        img,
                        egui::TextureOptions::NEAREST,
                    ));
                }
            }
            self.key = Some(full_key);
        }
        let avail = ui.available_size();
        let side = (avail.y - TOP_H - 4.0)
            .min(avail.x - EXTRA_W)
            .min(max_side)
            .max(64.0);
        let (rect, resp) = ui.allocate_exact_size(
            egui::vec2(side + EXTRA_W, side + TOP_H),
            egui::Sense::hover(),
        );
        let strip_x = rect.min.x + LABEL_W;
        let map = egui::Rect::from_min_size(
            egui::pos2(strip_x + STRIP_W + 4.0, rect.min.y + TOP_H),
            egui::vec2(side, side),
        );
        self.map_rect = Some(map);
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
        let betas: Vec<f32> = alpha.rows().into_iter().map(|r| r.sum()).collect();
        let bmax = betas.iter().copied().fold(0.0f32, f32::max).max(1e-30);
        let beta_x = map.max.x + 4.0;
        for (row, &i) in self.order.iter().enumerate() {
            let y0 = map.min.y + row as f32 * cell;
            let lab = labels.get(i).copied().unwrap_or(0);
            painter.rect_filled(
                egui::Rect::from_min_size(
                    egui::pos2(strip_x, y0),
                    egui::vec2(STRIP_W, cell.max(1.0)),
                ),
                0.0,
                class_color(lab),
            );
            let w = BETA_W * betas[i] / bmax;
            painter.rect_filled(
                egui::Rect::from_min_size(egui::pos2(beta_x, y0), egui::vec2(w, cell.max(1.0))),
                0.0,
                egui::Color32::from_gray(120),
            );
        }
        let ink = ui.visuals().text_color();
        let small = egui::FontId::proportional(11.0);
        painter.text(
            egui::pos2(beta_x, rect.min.y),
            egui::Align2::LEFT_TOP,
            "β_i",
            small.clone(),
            ink,
        );
        // Class ticks and block boundaries (only sorted rows form blocks).
        if sort {
            for (class, start, end) in class_runs(labels, &self.order) {
                let (y0, y1) = (
                    map.min.y + start as f32 * cell,
                    map.min.y + end as f32 * cell,
                );
                if start > 0 {
                    let line = egui::Stroke::new(1.0, egui::Color32::WHITE);
                    painter
                        .line_segment([egui::pos2(map.min.x, y0), egui::pos2(map.max.x, y0)], line);
                    let x0 = map.min.x + start as f32 * cell;
                    painter
                        .line_segment([egui::pos2(x0, map.min.y), egui::pos2(x0, map.max.y)], line);
                }
                if y1 - y0 >= 11.0 {
                    painter.text(
                        egui::pos2(strip_x - 3.0, 0.5 * (y0 + y1)),
                        egui::Align2::RIGHT_CENTER,
                        class.to_string(),
                        small.clone(),
                        ink,
                    );
                }
            }
        }
        // Colour bar: the ramp with three ticks on the scale the map uses.
        let (scale_max, bar_title) = if per_row {
            (1.0, "α / row max")
        } else {
            (f64::from(alpha.iter().copied().fold(0.0f32, f32::max)), "α")
        };
        let bar = egui::Rect::from_min_size(
            egui::pos2(beta_x + BETA_W + 10.0, map.min.y),
            egui::vec2(BAR_W, side),
        );
        const BAR_STEPS: usize = 48;
        for k in 0..BAR_STEPS {
            let t = 1.0 - (k as f32 + 0.5) / BAR_STEPS as f32;
            let y0 = bar.min.y + side * k as f32 / BAR_STEPS as f32;
            let y1 = bar.min.y + side * (k + 1) as f32 / BAR_STEPS as f32;
            painter.rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(bar.min.x, y0),
                    egui::pos2(bar.max.x, y1 + 0.5),
                ),
                0.0,
                ramp(t),
            );
        }
        painter.rect_stroke(
            bar,
            0.0,
            egui::Stroke::new(1.0, ink),
            egui::StrokeKind::Outside,
        );
        painter.text(
            egui::pos2(bar.min.x, rect.min.y),
            egui::Align2::LEFT_TOP,
            bar_title,
            small.clone(),
            ink,
        );
        for (f, v) in colour_bar_ticks(scale_max) {
            let y = bar.max.y - f * side;
            painter.line_segment(
                [egui::pos2(bar.max.x, y), egui::pos2(bar.max.x + 3.0, y)],
                egui::Stroke::new(1.0, ink),
            );
            painter.text(
                egui::pos2(bar.max.x + 5.0, y),
                egui::Align2::LEFT_CENTER,
                v,
                small.clone(),
                ink,
            );
        }
        if let Some(pos) = resp.hover_pos()
            && map.contains(pos)
        {
            let r = (((pos.y - map.min.y) / cell) as usize).min(n - 1);
            let c = (((pos.x - map.min.x) / cell) as usize).min(n - 1);
            let (i, j) = (self.order[r], self.order[c]);
            // Next to the pointer, so it never sits over the readouts above the map.
            resp.on_hover_text_at_pointer(cell_text(alpha, labels, d2, i, j));
            return Some((i, j));
        }
        None
    }
}

/// Room the painter takes beside the square map (class ticks, class strip, β bars, colour bar
/// and its tick labels), in points.
pub const EXTRA_W: f32 = LABEL_W + STRIP_W + 4.0 + 4.0 + BETA_W + 10.0 + BAR_W + 48.0;
/// Room above the map (the β and colour-bar titles), in points.
pub const TOP_H: f32 = 14.0;
const LABEL_W: f32 = 20.0;
const STRIP_W: f32 = 8.0;
const BETA_W: f32 = 24.0;
const BAR_W: f32 = 10.0;

/// (class, first position, end) of each run of equal class in `order` (positions in the drawn
/// order).
pub fn class_runs(labels: &[usize], order: &[usize]) -> Vec<(usize, usize, usize)> {
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for (pos, &i) in order.iter().enumerate() {
        let c = labels.get(i).copied().unwrap_or(0);
        match runs.last_mut() {
            Some(r) if r.0 == c => r.2 = pos + 1,
            _ => runs.push((c, pos, pos + 1)),
        }
    }
    runs
}

/// The colour bar's ticks: (fraction of the bar from the bottom, label) at 0, ½ and 1 of a scale
/// running from 0 to `max`.
pub fn colour_bar_ticks(max: f64) -> [(f32, String); 3] {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let dec = if max >= 10.0 {
        0
    } else {
        (2.0 - max.log10().floor()).clamp(1.0, 6.0) as usize
    };
    [0.0, 0.5, 1.0].map(|f| (f as f32, format!("{:.dec$}", f * max)))
}

/// The tooltip text of cell (i, j): indices, classes, role, α_ij, β_i and d²_ij if known.
pub fn cell_text(
    alpha: &Array2<f32>,
    labels: &[usize],
    d2: Option<&Array2<f32>>,
    i: usize,
    j: usize,
) -> String {
    let n = alpha.nrows();
    let li = labels.get(i).copied().unwrap_or(0);
    let lj = labels.get(j).copied().unwrap_or(0);
    let role = if i == j {
        "self"
    } else if j == (i + n / 2) % n {
        "partner (positive)"
    } else {
        "negative"
    };
    let mut s = format!(
        "i = {i} (class {li}), j = {j} (class {lj}) — {role}\nα_ij = {:.5}\nβ_i = Σ_j α_ij = {:.4}",
        alpha[[i, j]],
        alpha.row(i).sum()
    );
    if let Some(d) = d2.filter(|d| d.dim() == alpha.dim()) {
        s.push_str(&format!("\nd²_ij = ½|z_i − z_j|² = {:.4}", d[[i, j]]));
    }
    s
}

/// Pairwise d²_ij = ½‖z_i − z_j‖² of the rows of `z`: the distances α is computed from
/// ([`crate::loss::Geometry::d2`], which needs an even batch; this takes any rows).
pub fn pairwise_d2(z: &Array2<f32>) -> Array2<f32> {
    let g = z.dot(&z.t());
    let n = z.nrows();
    Array2::from_shape_fn((n, n), |(i, j)| {
        (0.5 * (g[[i, i]] + g[[j, j]]) - g[[i, j]]).max(0.0)
    })
}

/// What an α map says while the run has no α snapshot: before the first step, "take a step";
/// after it, when the first snapshot comes (α is drawn from the snapshots, every `eval` steps).
pub fn no_alpha_text(t: &RunMirror) -> String {
    let s = t.step_count();
    if s == 0 {
        return "No α yet: take a step.".into();
    }
    let every = t.config.eval_every.max(1);
    format!(
        "Step {s}: α is drawn at each snapshot (every {every} steps); the next is at step {}.",
        (s / every + 1) * every
    )
}

/// α heat-map view of the trainer's last batch.
pub struct AlphaView {
    /// Sort rows and columns by class.
    pub sort_by_class: bool,
    /// Colour each row relative to its own maximum.
    pub per_row: bool,
    map: AlphaMapPainter,
    images: super::SampleImages,
    last_pair: Option<(usize, usize)>,
    /// Screen rectangles of the map and of the hovered-pair images (for browser tests).
    pub rects: Vec<(&'static str, egui::Rect)>,
}

impl Default for AlphaView {
    /// Sorted by class (the view's note reads the blocks of a sorted map), one scale for the
    /// whole map.
    fn default() -> Self {
        Self {
            sort_by_class: true,
            per_row: false,
            map: AlphaMapPainter::default(),
            images: Default::default(),
            last_pair: None,
            rects: Vec::new(),
        }
    }
}

impl AlphaView {
    /// Draws the heat map of the trainer's latest snapshot.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &RunMirror) {
        let alpha = &t.snapshot.alpha;
        let n = alpha.nrows();
        let stats = alpha_stats(alpha);
        // Wrapped, so the title and checkboxes never widen the view past a phone's screen.
        ui.horizontal_wrapped(|ui| {
            // First in the row: the live figure's window (bottom right) never covers it.
            super::super::live_figure::figure_toggle(
                ui,
                super::super::live_figure::FigureKind::Alpha,
            );
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
        ui.weak(
            "rows: anchors i, columns: candidates j · left strip: class · right bars: β_i · \
             colour bar: the scale",
        );
        let images = t.data.image_shape.is_some();
        self.rects.clear();
        if n == 0 {
            ui.label(no_alpha_text(t));
            return;
        }
        let hovered = ui
            .horizontal_top(|ui| {
                let max_side = if images {
                    ui.available_width() - 180.0 - EXTRA_W
                } else {
                    f32::INFINITY
                };
                let h = self.map.show(
                    ui,
                    "alpha",
                    alpha,
                    &t.snapshot.batch_labels,
                    (t.snapshot.step, t.history.loss_changes.len()),
                    self.sort_by_class,
                    self.per_row,
                    None,
                    max_side,
                );
                if let Some(r) = self.map.map_rect {
                    self.rects.push(("alpha:map", r));
                }
                if images {
                    let r = self.pair_ui(ui, t, h);
                    self.rects.push(("alpha:pair", r));
                }
                h
            })
            .inner;
        if hovered.is_some() {
            self.last_pair = hovered;
        }
    }

    /// The two images of the hovered (or last hovered) pair, as the data set stores them.
    fn pair_ui(
        &mut self,
        ui: &mut egui::Ui,
        t: &RunMirror,
        hovered: Option<(usize, usize)>,
    ) -> egui::Rect {
        let b = t.snapshot.batch_indices.len();
        ui.vertical(|ui| {
            ui.strong("hovered pair");
            let Some((i, j)) = hovered.or(self.last_pair).filter(|_| b > 0) else {
                ui.weak("hover a cell to see\nanchor i and candidate j");
                return;
            };
            let a = t.snapshot.alpha.get((i, j)).copied().unwrap_or(0.0);
            for (role, r) in [("anchor i", i), ("candidate j", j)] {
                let sample = t.snapshot.batch_indices[r % b];
                let class = t
                    .data
                    .y_train
                    .get(sample)
                    .and_then(|&c| t.data.class_names.get(c))
                    .map_or("?", String::as_str);
                self.images.show(
                    ui,
                    t,
                    super::Split::Train,
                    sample,
                    128.0,
                    &format!("{role} = row {r}: #{sample}, {class}"),
                );
            }
            ui.label(format!("α_ij = {a:.4}"));
        })
        .response
        .rect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17 item 2: the tooltip's d²_ij is the engine's (and the paper's) ½‖z_i − z_j‖².
    #[test]
    fn pairwise_d2_is_the_engines_half_squared_distance() {
        let z = Array2::from_shape_vec((4, 2), vec![0.0f32, 0.0, 3.0, 4.0, 1.0, 0.0, -2.0, 1.0])
            .unwrap();
        let d = pairwise_d2(&z);
        assert!((d[[0, 1]] - 12.5).abs() < 1e-5, "{d}");
        assert!((d[[1, 2]] - 10.0).abs() < 1e-5, "{d}");
        assert_eq!(d[[2, 2]], 0.0);
        // What the loss engine computes α from (z given, no normalisation).
        let g = crate::loss::Geometry::new(z.view(), false).unwrap();
        for ((i, j), &v) in d.indexed_iter() {
            assert!(
                (v - g.d2[[i, j]]).abs() < 1e-5,
                "({i}, {j}): {v} vs {}",
                g.d2[[i, j]]
            );
        }
        let a = Array2::<f32>::from_elem((4, 4), 0.25);
        let t = cell_text(&a, &[0, 1, 0, 1], Some(&d), 0, 1);
        assert!(t.contains("d²_ij = ½|z_i − z_j|² = 12.5000"), "{t}");
    }

    #[test]
    fn pairwise_d2_matches_direct_distances() {
        let z = Array2::from_shape_vec((3, 2), vec![0.0f32, 0.0, 3.0, 4.0, 1.0, 0.0]).unwrap();
        let d = pairwise_d2(&z);
        assert!((d[[0, 1]] - 12.5).abs() < 1e-5);
        assert!((d[[1, 2]] - 10.0).abs() < 1e-5);
        assert_eq!(d[[2, 2]], 0.0);
        let a = Array2::<f32>::zeros((4, 4));
        let t = cell_text(&a, &[0, 1, 0, 1], None, 0, 2);
        assert!(t.contains("partner") && !t.contains("d²"), "{t}");
    }

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
