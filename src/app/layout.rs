//! The lab's responsive layout: which parts a screen of a given width gets, and what the last
//! frame laid out (for tests).
//!
//! - At least [`NARROW_BELOW`] points wide: the control panel on the left, the views beside it.
//! - Narrower (a small window, a tablet, a phone): the control panel folds away behind a
//!   "Controls" toggle in the top bar, which also carries Play/Pause; opened, the controls take
//!   the place of the views. Views narrower than [`STACK_BELOW`](super::views::split::STACK_BELOW)
//!   stack their side-by-side parts and scroll.
//!
//! The last frame's layout is published as `layout` in `#alphacl-status`
//! ([`Layout::to_json`]): `narrow`, `controls` (`"side"`, `"open"` or `"folded"`), the
//! `viewport` size in points, and `plots` — for every plot shown, its rectangle, axis names and
//! number of labelled ticks ([`PlotAxes`]). Plot rectangles also appear in `#alphacl-widgets`
//! as `plot:<name>`, beside the named widgets.

pub use super::views::axes::PlotAxes;
use super::views::axes::PlotReports;

/// Screens narrower than this (points) fold the control panel behind a toggle.
pub const NARROW_BELOW: f32 = 900.0;

/// The layout of the last frame.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The screen is narrower than [`NARROW_BELOW`].
    pub narrow: bool,
    /// On a narrow screen: the controls are open (in place of the views).
    pub controls_open: bool,
    /// Screen size in points.
    pub viewport: [f32; 2],
    /// Every plot drawn in the last frame, by name.
    pub plots: PlotReports,
}

impl Layout {
    /// Where the control panel is: `"side"` (wide screens), `"open"` or `"folded"`.
    pub fn controls(&self) -> &'static str {
        match (self.narrow, self.controls_open) {
            (false, _) => "side",
            (true, true) => "open",
            (true, false) => "folded",
        }
    }

    /// The `layout` field of the status JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "narrow": self.narrow,
            "controls": self.controls(),
            "viewport": self.viewport,
            "plots": self.plots,
        })
    }
}
