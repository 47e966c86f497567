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
    v.weak_text_color = Some(WEAK_TEXT);
    v.hyperlink_color = HYPERLINK;
    v
}

/// Ten class colours chosen to stay apart for colour-blind readers: the first four are the
/// Okabe–Ito colours of the runs and figures (blue, vermillion, bluish green, reddish purple),
/// the other six were picked so that the smallest OKLab distance between any two classes,
/// with normal vision and under simulated protanopia, deuteranopia and tritanopia (Machado et
/// al. 2009, full severity), is as large as possible (0.068; the Tableau-like palette before
/// it had pairs at 0.007 — e.g. its red and green are one colour to a deuteranope). Every
/// colour has at least 2.5:1 contrast on [`BACKGROUND`] as a marker; text in a class colour
/// uses [`class_text_color`] (at least 4.5:1). Checked by the tests below.
pub const CLASS_COLORS: [Color32; 10] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(40, 40, 40),
    Color32::from_rgb(80, 165, 225),
    Color32::from_rgb(140, 85, 45),
    Color32::from_rgb(170, 50, 100),
    Color32::from_rgb(60, 80, 160),
    Color32::from_rgb(20, 60, 120),
];

/// Colour of class `c` (cycles past ten), for markers and cells.
pub fn class_color(c: usize) -> Color32 {
    CLASS_COLORS[c % CLASS_COLORS.len()]
}

/// The least contrast of text and labels on the lab's light backgrounds (WCAG AA).
pub const TEXT_CONTRAST: f64 = 4.5;

/// Colour of class `c` for text (a label such as "ship"): [`class_color`] darkened, same hue,
/// until it has [`TEXT_CONTRAST`] on white and on [`BACKGROUND`].
pub fn class_text_color(c: usize) -> Color32 {
    readable_on_light(class_color(c))
}

/// `c` darkened in steps of 5 % until it has [`TEXT_CONTRAST`] on [`BACKGROUND`] (and so on
/// white too).
pub fn readable_on_light(c: Color32) -> Color32 {
    let mut k = 1.0_f32;
    loop {
        let d = Color32::from_rgb(
            (f32::from(c.r()) * k) as u8,
            (f32::from(c.g()) * k) as u8,
            (f32::from(c.b()) * k) as u8,
        );
        if contrast_ratio(d, BACKGROUND) >= TEXT_CONTRAST || k <= 0.0 {
            return d;
        }
        k -= 0.05;
    }
}

/// WCAG relative luminance of an opaque colour.
pub fn relative_luminance(c: Color32) -> f64 {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

/// WCAG contrast ratio of two opaque colours (1 to 21).
pub fn contrast_ratio(a: Color32, b: Color32) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Colour of weak text (hints, captions): 5.5:1 on [`BACKGROUND`] (egui's default, text at
/// 60 % alpha, is about 3:1).
pub const WEAK_TEXT: Color32 = Color32::from_gray(100);

/// Colour of links: 6:1 on [`BACKGROUND`] (egui's light-theme default is 2.4:1).
pub const HYPERLINK: Color32 = Color32::from_rgb(0, 92, 170);

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

#[cfg(test)]
mod tests {
    use super::*;

    /// OKLab coordinates of linear RGB.
    fn oklab(rgb: [f64; 3]) -> [f64; 3] {
        let [r, g, b] = rgb.map(|v| v.clamp(0.0, 1.0));
        let l = (0.412_221_470_8 * r + 0.536_332_536_3 * g + 0.051_445_992_9 * b).cbrt();
        let m = (0.211_903_498_2 * r + 0.680_699_545_1 * g + 0.107_396_956_6 * b).cbrt();
        let s = (0.088_302_461_9 * r + 0.281_718_837_6 * g + 0.629_978_700_5 * b).cbrt();
        [
            0.210_454_255_3 * l + 0.793_617_785 * m - 0.004_072_046_8 * s,
            1.977_998_495_1 * l - 2.428_592_205 * m + 0.450_593_709_9 * s,
            0.025_904_037_1 * l + 0.782_771_766_2 * m - 0.808_675_766 * s,
        ]
    }

    fn linear(c: Color32) -> [f64; 3] {
        [c.r(), c.g(), c.b()].map(|v| {
            let v = f64::from(v) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        })
    }

    /// Machado, Oliveira & Fernandes (2009) simulation matrices at full severity (linear RGB):
    /// protanopia, deuteranopia, tritanopia.
    const CVD: [[[f64; 3]; 3]; 3] = [
        [
            [0.152_286, 1.052_583, -0.204_868],
            [0.114_503, 0.786_281, 0.099_216],
            [-0.003_882, -0.048_116, 1.051_998],
        ],
        [
            [0.367_322, 0.860_646, -0.227_968],
            [0.280_085, 0.672_501, 0.047_413],
            [-0.011_820, 0.042_940, 0.968_881],
        ],
        [
            [1.255_528, -0.076_749, -0.178_779],
            [-0.078_411, 0.930_809, 0.147_602],
            [0.004_733, 0.691_367, 0.303_900],
        ],
    ];

    /// The colour as seen with normal vision and with each deficiency, in OKLab.
    fn seen(c: Color32) -> Vec<[f64; 3]> {
        let l = linear(c);
        let mut out = vec![oklab(l)];
        for m in CVD {
            out.push(oklab(
                m.map(|row| row[0] * l[0] + row[1] * l[1] + row[2] * l[2]),
            ));
        }
        out
    }

    fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    }

    #[test]
    fn class_colours_stay_apart_for_colour_blind_readers() {
        let mut least = f64::INFINITY;
        for (i, ci) in CLASS_COLORS.iter().enumerate() {
            for (j, cj) in CLASS_COLORS.iter().enumerate().skip(i + 1) {
                let (a, b) = (seen(*ci), seen(*cj));
                let d = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| dist(*x, *y))
                    .fold(f64::INFINITY, f64::min);
                assert!(d >= 0.06, "classes {i} and {j} are {d:.3} apart");
                least = least.min(d);
            }
        }
        assert!(least < 0.1, "the bound is meaningful: {least}");
    }

    #[test]
    fn markers_show_and_text_is_readable_on_the_light_backgrounds() {
        for c in 0..CLASS_COLORS.len() {
            let m = class_color(c);
            assert!(contrast_ratio(m, BACKGROUND) >= 2.5, "marker {c}");
            let t = class_text_color(c);
            for bg in [BACKGROUND, Color32::WHITE] {
                assert!(contrast_ratio(t, bg) >= TEXT_CONTRAST, "text {c}");
            }
        }
        let v = lab_visuals();
        assert!(contrast_ratio(v.weak_text_color(), BACKGROUND) >= TEXT_CONTRAST);
        assert!(contrast_ratio(v.hyperlink_color, BACKGROUND) >= TEXT_CONTRAST);
        assert!(contrast_ratio(v.text_color(), BACKGROUND) >= TEXT_CONTRAST);
    }
}
