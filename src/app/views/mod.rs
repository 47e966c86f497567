//! The views: each a small struct with a `ui` method drawing from the trainer's snapshot.

mod alpha_map;
mod collapse;
mod compare;
mod curves;
mod data_view;
mod images;
mod players;
mod scatter;
mod theory;

pub use alpha_map::{AlphaMapPainter, AlphaStats, AlphaView, alpha_stats, cell_text, pairwise_d2};
pub use collapse::{CollapsePoint, CollapseView, PROBE_PAIRS, embed_like_training, fixed_pairs};
pub use compare::{CompareAction, CompareView, RunRef, run_label};
pub use curves::{CurvesView, x_of_step};
pub use data_view::DataView;
pub use images::{SampleImages, Split};
pub use players::{PlayerMove, PlayersView};
pub use scatter::{NEIGHBOURS, ScatterView, cosine_neighbours};
pub use theory::{Experiment, TheoryReadout, TheoryView};
