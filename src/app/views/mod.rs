//! The views: each a small struct with a `ui` method drawing from the trainer's snapshot.

mod alpha_map;
pub mod axes;
mod collapse;
mod compare;
mod curves;
mod data_view;
mod images;
mod players;
mod scatter;
pub mod split;
mod theory;

pub use alpha_map::{AlphaMapPainter, AlphaStats, AlphaView, alpha_stats, cell_text, pairwise_d2};
pub use collapse::{CollapsePoint, CollapseView, PROBE_PAIRS, embed_like_training, fixed_pairs};
pub use compare::{
    CompareAction, CompareView, LossScale, MIN_MAP_SIDE, RunRef, SMOOTH_EVALS, map_layout,
    mean_of_last, mean_sd, run_label, scaled_loss,
};
pub use curves::{CurvesView, x_of_step};
pub use data_view::DataView;
pub use images::{SampleImages, Split};
pub use players::{PlayerMove, PlayersView};
pub use scatter::{NEIGHBOURS, ScatterView, cosine_neighbours};
pub use theory::{Experiment, TheoryReadout, TheoryView};

/// A legend drawn as a wrapped row of coloured labels above a plot, so it never covers a
/// curve. Each entry: colour, mark ("—" line, "- -" dashed, "···" dotted, "●" points), name.
pub(crate) fn legend_row(ui: &mut egui::Ui, entries: &[(egui::Color32, &str, String)]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 12.0;
        for (colour, mark, text) in entries {
            ui.label(egui::RichText::new(format!("{mark} {text}")).color(*colour));
        }
    });
}

/// Plots that leave their background to the page: the fill is skipped (it would cover a third
/// of the screen for every frame's software rasteriser, see [`crate::app::palette::lab_visuals`])
/// and only the usual outline is drawn, after the plot.
pub(crate) trait ShowOutlined<'a> {
    /// As [`egui_plot::Plot::show`], without the background fill.
    fn show_outlined<R>(
        self,
        ui: &mut egui::Ui,
        build: impl FnOnce(&mut egui_plot::PlotUi<'a>) -> R + 'a,
    ) -> egui_plot::PlotResponse<R>;
}

impl<'a> ShowOutlined<'a> for egui_plot::Plot<'a> {
    fn show_outlined<R>(
        self,
        ui: &mut egui::Ui,
        build: impl FnOnce(&mut egui_plot::PlotUi<'a>) -> R + 'a,
    ) -> egui_plot::PlotResponse<R> {
        let r = self.show_background(false).show(ui, build);
        ui.painter().rect_stroke(
            *r.transform.frame(),
            2,
            ui.visuals().widgets.noninteractive.bg_stroke,
            egui::StrokeKind::Inside,
        );
        r
    }
}
