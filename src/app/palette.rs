//! Colours: the lab's visuals, a qualitative palette for classes and a perceptual ramp for heat
//! maps.

use egui::Color32;

/// The page background: the light theme's panel grey. The canvas is cleared to it every frame,
/// so panels need not paint it again (see [`lab_visuals`]).
pub const BACKGROUND: Color32 = Color32::from_gray(248);

/// egui's light theme with transparent panels.
///
/// Without a GPU (headless Chromium, or any browser falling back to SwiftShader) every pixel a
/// mesh covers costs ≈ 15 ns to rasterise, and the side panel, the central panel and the plot
/// backgrounds together cover 1.6 screens per frame: about two thirds of the frame's drawing
/// time. The canvas is cleared to [`BACKGROUND`] anyway and egui skips fully transparent
/// fills, so transparent panels give the same picture for less; plots skip their fill too
/// (`views::ShowOutlined`). Measured in `docs/measurements.md`.
pub fn lab_visuals() -> egui::Visuals {
    let mut v = egui::Visuals::light();
    v.panel_fill = Color32::TRANSPARENT;
    v
}

/// Ten distinguishable class colours (Tableau-like).
pub const CLASS_COLORS: [Color32; 10] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(127, 127, 127),
    Color32::from_rgb(188, 189, 34),
    Color32::from_rgb(23, 190, 207),
];

/// Colour of class `c` (cycles past ten).
pub fn class_color(c: usize) -> Color32 {
    CLASS_COLORS[c % CLASS_COLORS.len()]
}

/// A viridis-like ramp: t ∈ [0, 1] → colour (dark purple → blue → green → yellow); the same
/// map as the exported α figure ([`crate::figures::viridis_rgb`]).
pub fn ramp(t: f32) -> Color32 {
    let (r, g, b) = crate::figures::viridis_rgb(f64::from(t));
    Color32::from_rgb(r, g, b)
}

/// Colour of run number `k` (0-based) in compare mode: the first four colours of the figures'
/// colour-blind-friendly [`crate::figures::PALETTE`], so exports match the screen.
pub fn run_color(k: usize) -> Color32 {
    let (r, g, b) = crate::figures::PALETTE[k % crate::figures::MAX_RUNS];
    Color32::from_rgb(r, g, b)
}
