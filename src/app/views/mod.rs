//! The views: each a small struct with a `ui` method drawing from the trainer's snapshot.

mod alpha_map;
mod curves;
mod scatter;

pub use alpha_map::{AlphaStats, AlphaView, alpha_stats};
pub use curves::CurvesView;
pub use scatter::ScatterView;
