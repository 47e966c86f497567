//! Live 2-D PCA scatter of the held-out embeddings, coloured by class.
//!
//! Hover a point for its index, class and coordinates; click one to select it and ring its
//! k nearest neighbours by cosine similarity cos(z_i, z_j) = ⟨z_i, z_j⟩/(‖z_i‖‖z_j‖) in the
//! full embedding space (not in the 2-D projection), as the Embedding Projector does.

use super::axes::LabPlot;
use egui_plot::{Legend, MarkerShape, PlotPoint, Points};
use ndarray::Array2;

use crate::app::palette::class_color;
use crate::engine::RunMirror;
use crate::nn::Stage;
use crate::train::Snapshot;

/// Number of highlighted neighbours.
pub const NEIGHBOURS: usize = 8;

/// Indices of the `k` rows of `z` with the largest cosine similarity to row `i` (excluding
/// `i`), most similar first.
pub fn cosine_neighbours(z: &Array2<f32>, i: usize, k: usize) -> Vec<usize> {
    if i >= z.nrows() {
        return Vec::new();
    }
    let norm = |r: usize| z.row(r).dot(&z.row(r)).sqrt().max(1e-12);
    let qi = z.row(i);
    let ni = norm(i);
    let mut sims: Vec<(f32, usize)> = (0..z.nrows())
        .filter(|&j| j != i)
        .map(|j| (qi.dot(&z.row(j)) / (ni * norm(j)), j))
        .collect();
    sims.sort_by(|a, b| b.0.total_cmp(&a.0));
    sims.into_iter().take(k).map(|(_, j)| j).collect()
}

/// Scatter view.
#[derive(Default)]
pub struct ScatterView {
    /// Selected point (index into the evaluation subset).
    pub selected: Option<usize>,
    neighbours: Vec<usize>,
    neighbours_key: Option<(usize, usize)>,
    images: super::SampleImages,
    /// Which embedding is drawn (before or after the projection head).
    pub stage: Stage,
}

/// The (embeddings, 2-D PCA, PCA variances) of `stage` in the snapshot (the representation
/// when the encoder has no head).
fn stage_points(s: &Snapshot, stage: Stage) -> (&Array2<f32>, &Array2<f32>, &[f64]) {
    match (&s.head, stage) {
        (Some((z, p2, var)), Stage::Output) => (z, p2, var),
        _ => (&s.embeddings, &s.pca2, &s.pca_var),
    }
}

impl ScatterView {
    /// Selects point `i` (or clears with None); neighbours are recomputed lazily.
    pub fn select(&mut self, i: Option<usize>) {
        self.selected = i;
        self.neighbours_key = None;
    }

    /// The selected point's nearest neighbours at the given snapshot (cached per step).
    pub fn neighbours(&mut self, t: &RunMirror) -> &[usize] {
        let (emb, _, _) = stage_points(&t.snapshot, self.stage);
        match self.selected {
            Some(i) if i < emb.nrows() => {
                let key = (t.snapshot.step, i);
                if self.neighbours_key != Some(key) {
                    self.neighbours = cosine_neighbours(emb, i, NEIGHBOURS);
                    self.neighbours_key = Some(key);
                }
            }
            _ => {
                self.neighbours.clear();
                self.neighbours_key = None;
            }
        }
        &self.neighbours
    }

    /// Draws the scatter into `height` points.
    pub fn ui(&mut self, ui: &mut egui::Ui, t: &RunMirror, height: f32) {
        let top = ui.cursor().top();
        let s = &t.snapshot;
        let class_name = |c: usize| {
            t.data
                .class_names
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("class {c}"))
        };
        let (_, pca2, pca_var) = stage_points(s, self.stage);
        // Wrapped, so the h/z toggle never widens the column into its neighbour.
        ui.horizontal_wrapped(|ui| {
            ui.strong("Embeddings (2-D PCA)");
            if s.head.is_some() {
                for st in [Stage::Representation, Stage::Output] {
                    if ui
                        .selectable_label(self.stage == st, st.label())
                        .on_hover_text("kNN and the probe evaluate h; the loss sees z")
                        .clicked()
                    {
                        self.stage = st;
                        self.neighbours_key = None;
                    }
                }
            }
            let total: f64 = pca_var.iter().sum();
            ui.label(format!(
                "step {} · PC1/PC2 variance {:.3}/{:.3}",
                s.step,
                pca_var.first().unwrap_or(&0.0),
                pca_var.get(1).unwrap_or(&0.0)
            ))
            .on_hover_text(format!("variance captured by the two axes: {total:.3}"));
        });
        let neighbours = self.neighbours(t).to_vec();
        match self.selected.filter(|&i| i < pca2.nrows()) {
            Some(i) => {
                let same = neighbours
                    .iter()
                    .filter(|&&j| s.labels.get(j) == s.labels.get(i))
                    .count();
                ui.label(format!(
                    "selected #{i} ({}) · {same}/{} of its nearest neighbours (cosine, full space) share its class",
                    class_name(s.labels.get(i).copied().unwrap_or(0)),
                    neighbours.len()
                ));
            }
            None => {
                ui.weak("hover a point for its class and coordinates · click to select it and ring its nearest neighbours");
            }
        }
        let classes = t.data.num_classes;
        let n = pca2.nrows().min(s.labels.len());
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes.max(1)];
        for i in 0..n {
            if let Some(m) = members.get_mut(s.labels[i]) {
                m.push(i);
            }
        }
        let names: Vec<String> = (0..classes).map(class_name).collect();
        let point = |i: usize| [f64::from(pca2[[i, 0]]), f64::from(pca2[[i, 1]])];
        let members_ref = &members;
        let names_ref = &names;
        let width = ui.available_width();
        // The axes are the top two principal axes of the held-out embeddings drawn, in the
        // embedding's own units (equal scales: `data_aspect(1)`).
        let what = match (s.head.is_some(), self.stage) {
            (true, Stage::Output) => "z",
            _ => "h",
        };
        let x_label = format!("PC 1 of {what} (embedding units)");
        let y_label = format!("PC 2 of {what} (embedding units)");
        let resp = LabPlot::new("pca_scatter", &x_label, &y_label)
            .with(|p| {
                p.width(width)
                    .height((height - (ui.cursor().top() - top) - 8.0).max(160.0))
                    .data_aspect(1.0)
                    .legend(Legend::default())
                    .label_formatter(move |pos| match pos {
                        egui_plot::HoverPosition::NearDataPoint {
                            plot_name,
                            position,
                            index,
                        } => {
                            let c = names_ref.iter().position(|nm| nm.as_str() == *plot_name)?;
                            let i = *members_ref.get(c)?.get(*index)?;
                            Some(format!(
                                "#{i} · {plot_name}\n({:.3}, {:.3})",
                                position.x, position.y
                            ))
                        }
                        _ => None,
                    })
            })
            .show(ui, |p| {
                for (c, idx) in members.iter().enumerate() {
                    let pts: Vec<[f64; 2]> = idx.iter().map(|&i| point(i)).collect();
                    p.points(
                        Points::new(names[c].clone(), pts)
                            .color(class_color(c))
                            .radius(2.5),
                    );
                }
                if let Some(i) = self.selected.filter(|&i| i < n) {
                    let ring: Vec<[f64; 2]> = neighbours
                        .iter()
                        .filter(|&&j| j < n)
                        .map(|&j| point(j))
                        .collect();
                    p.points(
                        Points::new("nearest neighbours", ring)
                            .shape(MarkerShape::Circle)
                            .filled(false)
                            .radius(6.0)
                            .color(egui::Color32::BLACK)
                            .allow_hover(false),
                    );
                    p.points(
                        Points::new("selected", vec![point(i)])
                            .shape(MarkerShape::Diamond)
                            .radius(7.0)
                            .color(egui::Color32::from_rgb(214, 39, 40))
                            .allow_hover(false),
                    );
                }
            });
        if t.data.image_shape.is_some()
            && let Some(pos) = resp.response.hover_pos()
        {
            // Image data: the hovered point's picture (nearest point within 8 points).
            let mut best: Option<(f32, usize)> = None;
            for i in 0..n {
                let [x, y] = point(i);
                let d = resp
                    .transform
                    .position_from_point(&PlotPoint::new(x, y))
                    .distance(pos);
                if d < 8.0 && best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, i));
                }
            }
            if let Some((_, i)) = best
                && let Some(&sample) = s.eval_indices.get(i)
            {
                let class = s
                    .labels
                    .get(i)
                    .and_then(|&c| t.data.class_names.get(c))
                    .map_or("?", String::as_str);
                let images = &mut self.images;
                resp.response.clone().on_hover_ui_at_pointer(|ui| {
                    images.show(
                        ui,
                        t,
                        super::Split::Test,
                        sample,
                        96.0,
                        &format!("#{i} · held-out sample {sample} · {class}"),
                    );
                });
            }
        }
        if resp.response.clicked()
            && let Some(pos) = resp.response.interact_pointer_pos()
        {
            // Nearest point on screen within 12 points; clicking empty space clears.
            let mut best: Option<(f32, usize)> = None;
            for i in 0..n {
                let [x, y] = point(i);
                let sp = resp.transform.position_from_point(&PlotPoint::new(x, y));
                let d = sp.distance(pos);
                if d < 12.0 && best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, i));
                }
            }
            self.select(best.map(|(_, i)| i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_neighbours_rank_by_angle_not_distance() {
        // Row 1 is far but in the same direction as row 0; row 2 is close but at 90°.
        let z = Array2::from_shape_vec((4, 2), vec![1.0f32, 0.0, 10.0, 0.5, 0.0, 1.0, -1.0, 0.0])
            .unwrap();
        assert_eq!(cosine_neighbours(&z, 0, 3), vec![1, 2, 3]);
        assert_eq!(cosine_neighbours(&z, 0, 1), vec![1]);
        assert!(cosine_neighbours(&z, 9, 2).is_empty());
    }
}
