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

/// A viridis-like ramp: t ∈ [0, 1] → colour (dark purple → blue → green → yellow).
pub fn ramp(t: f32) -> Color32 {
    const STOPS: [(f32, [f32; 3]); 5] = [
        (0.0, [68.0, 1.0, 84.0]),
        (0.25, [59.0, 82.0, 139.0]),
        (0.5, [33.0, 145.0, 140.0]),
        (0.75, [94.0, 201.0, 98.0]),
        (1.0, [253.0, 231.0, 37.0]),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    for w in STOPS.windows(2) {
        let (t0, c0) = w[0];
        let (t1, c1) = w[1];
        if t <= t1 {
            let f = (t - t0) / (t1 - t0);
            let mix = |a: f32, b: f32| (a + (b - a) * f).round() as u8;
            return Color32::from_rgb(mix(c0[0], c1[0]), mix(c0[1], c1[1]), mix(c0[2], c1[2]));
        }
    }
    Color32::from_rgb(253, 231, 37)
}

/// Run colours in compare mode (run 1, 2, 3, 4): dark, distinct from each other and readable
/// on the light background.
pub const RUN_COLORS: [Color32; 4] = [
    Color32::from_rgb(0, 90, 181),
    Color32::from_rgb(220, 50, 32),
    Color32::from_rgb(0, 140, 70),
    Color32::from_rgb(150, 60, 170),
];

/// Colour of run number `k` (0-based).
pub fn run_color(k: usize) -> Color32 {
    RUN_COLORS[k % RUN_COLORS.len()]
}
