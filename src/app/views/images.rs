//! Thumbnails of data samples (image data sets only), cached as textures by (split, index),
//! for the α map's hovered pair and the scatter's hovered point.

use std::collections::VecDeque;

use crate::data::chw_to_rgba;
use crate::engine::RunMirror;

/// At most this many textures are kept.
const CAPACITY: usize = 48;

/// Which split a sample index refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training split (`x_train`).
    Train,
    /// The held-out split (`x_test`).
    Test,
}

/// A small least-recently-made texture cache.
#[derive(Default)]
pub struct SampleImages {
    run: String,
    cache: VecDeque<((Split, usize), egui::TextureHandle)>,
}

impl SampleImages {
    /// The texture of sample `index` of `split`, or None for vector data or a bad index.
    pub fn texture(
        &mut self,
        ctx: &egui::Context,
        t: &RunMirror,
        split: Split,
        index: usize,
    ) -> Option<egui::TextureHandle> {
        let shape = t.data.image_shape?;
        let run = t.config.data.to_text();
        if run != self.run {
            self.cache.clear();
            self.run = run;
        }
        if let Some((_, tex)) = self.cache.iter().find(|(k, _)| *k == (split, index)) {
            return Some(tex.clone());
        }
        let x = match split {
            Split::Train => &t.data.x_train,
            Split::Test => &t.data.x_test,
        };
        if index >= x.nrows() {
            return None;
        }
        let row = x.row(index).to_vec();
        let rgba = chw_to_rgba(&row, shape)?;
        let img = egui::ColorImage::from_rgba_unmultiplied([shape.2, shape.1], &rgba);
        let tex = ctx.load_texture(
            format!("sample-{split:?}-{index}"),
            img,
            egui::TextureOptions::NEAREST,
        );
        if self.cache.len() >= CAPACITY {
            self.cache.pop_front();
        }
        self.cache.push_back(((split, index), tex.clone()));
        Some(tex)
    }

    /// Draws sample `index` of `split` at `side` points with a caption; nothing for vector data.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        t: &RunMirror,
        split: Split,
        index: usize,
        side: f32,
        caption: &str,
    ) {
        if let Some(tex) = self.texture(ui.ctx(), t, split, index) {
            ui.vertical(|ui| {
                ui.add(egui::Image::new(&tex).fit_to_exact_size(egui::vec2(side, side)));
                ui.small(caption);
            });
        }
    }
}
