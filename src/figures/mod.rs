//! Publication figures as PNG and SVG bytes: training curves, embedding spectrum, α heat map,
//! and the sweep's sensitivity figures (metrics against τ or p, mean ± std over seeds).
//!
//! Pure functions over plain data, drawn with `plotters`. The same code runs natively (the CLI
//! writes the files) and in wasm (the app offers them for download, and draws them live into an
//! HTML canvas with plotters-canvas: [`Figure::draw_on`], generic over plotters'
//! `DrawingBackend`): text is measured and, for
//! PNG, rasterised from the Ubuntu Light font bundled with `epaint_default_fonts` (no system
//! fonts, no DOM), and PNG bytes are encoded with the `png` crate from an RGB buffer.
//!
//! Conventions shared by all figures:
//! - Non-finite values (NaN, ±∞) are skipped — a curve simply has no point there, a heat-map
//!   cell is drawn grey — and only when *every* value is non-finite is it an error
//!   ([`FigureError::NonFinite`]).
//! - Runs and series are coloured with [`PALETTE`] (Okabe–Ito, colour-blind friendly), in order.
//! - SVG figures have fixed sizes ([`CURVES_SVG_SIZE`], [`SPECTRUM_SVG_SIZE`],
//!   [`ALPHA_SVG_SIZE`], [`SENSITIVITY_SVG_SIZE`]); PNG sizes are chosen by the caller within [`MIN_PNG_SIZE`] and
//!   [`MAX_PNG_SIDE`].

mod alpha;
mod backend;
mod curves;
mod sensitivity;
mod spectrum;

pub use alpha::{ALPHA_SVG_MAX_CELLS, PlotRect, alpha_plot_area, alpha_png, alpha_svg};
pub use curves::{MAX_RUNS, RunSeries, curves_png, curves_svg};
pub use sensitivity::{
    MAX_SENSITIVITY_PANELS, MAX_SENSITIVITY_SERIES, MAX_VALUE_TICKS, Sensitivity, SensitivityPoint,
    SensitivitySeries, finite_mean_std, sensitivity_png, sensitivity_svg,
};
pub use spectrum::{MAX_SPECTRUM_SERIES, spectrum_png, spectrum_svg};

use ab_glyph::FontRef;
use backend::{TextBackend, TextMode};
use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingAreaErrorKind, IntoDrawingArea};
use plotters::prelude::{RGBColor, SVGBackend};

/// Why a figure could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FigureError {
    /// Nothing to draw (no runs, empty histories, empty spectra, an empty α).
    #[error("no data to plot: {0}")]
    NoData(String),
    /// Every value was NaN or infinite.
    #[error("nothing finite to plot: every value of the {0} is NaN or infinite")]
    NonFinite(String),
    /// α must be square (2B × 2B).
    #[error("α must be square (2B × 2B), got {rows} × {cols}")]
    NotSquare {
        /// Rows of the given matrix.
        rows: usize,
        /// Columns of the given matrix.
        cols: usize,
    },
    /// One label per row of α is needed.
    #[error("α has {rows} rows but {labels} labels were given (need one label per row)")]
    LabelsMismatch {
        /// Number of labels given.
        labels: usize,
        /// Number of rows of α.
        rows: usize,
    },
    /// More runs or series than the figure can tell apart.
    #[error("{got} runs/series given, at most {max} can be drawn in one figure")]
    TooManyRuns {
        /// How many were given.
        got: usize,
        /// The limit of this figure.
        max: usize,
    },
    /// More panels than a sensitivity figure lays out side by side.
    #[error("{got} panels given, at most {max} fit side by side")]
    TooManyPanels {
        /// How many were given.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// A sensitivity point without one value list per panel.
    #[error("series '{series}': a point has {got} value lists, the figure has {panels} panels")]
    PanelsMismatch {
        /// The series' label.
        series: String,
        /// Value lists of the point.
        got: usize,
        /// Panels of the figure.
        panels: usize,
    },
    /// PNG size outside [`MIN_PNG_SIZE`] … [`MAX_PNG_SIDE`].
    #[error(
        "PNG size {width}×{height} is out of range: width ≥ {min_w}, height ≥ {min_h}, each side ≤ {max}",
        min_w = MIN_PNG_SIZE.0,
        min_h = MIN_PNG_SIZE.1,
        max = MAX_PNG_SIDE
    )]
    Size {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// The plotting library reported an error (should not happen for valid input).
    #[error("drawing failed: {0}")]
    Draw(String),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for FigureError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        FigureError::Draw(e.to_string())
    }
}

/// Colour-blind-friendly run/series colours (Okabe & Ito 2008), as RGB: blue, vermillion,
/// bluish green, reddish purple, orange, sky blue, black, yellow-brown. The lab's compare runs
/// take the first four, so exported figures match the screen.
pub const PALETTE: [(u8, u8, u8); 8] = [
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (204, 121, 167),
    (230, 159, 0),
    (86, 180, 233),
    (0, 0, 0),
    (170, 140, 0),
];

/// Smallest PNG (width, height) accepted.
pub const MIN_PNG_SIZE: (u32, u32) = (240, 180);
/// Largest PNG side accepted, in pixels.
pub const MAX_PNG_SIDE: u32 = 8192;

/// Size of [`curves_svg`] (width, height).
pub const CURVES_SVG_SIZE: (u32, u32) = (1000, 420);
/// Size of [`spectrum_svg`] (width, height).
pub const SPECTRUM_SVG_SIZE: (u32, u32) = (640, 440);
/// Size of [`alpha_svg`] (width, height).
pub const ALPHA_SVG_SIZE: (u32, u32) = (620, 560);

/// Size of [`sensitivity_svg`] (width, height): up to four panels side by side.
pub const SENSITIVITY_SVG_SIZE: (u32, u32) = (1200, 440);

/// Plotters text size (≈ line height in pixels) of titles, axis descriptions, tick labels and
/// legends.
pub(crate) const TITLE_SIZE: f64 = 24.0;
pub(crate) const DESC_SIZE: f64 = 18.0;
pub(crate) const TICK_SIZE: f64 = 15.0;
pub(crate) const LEGEND_SIZE: f64 = 16.0;
/// Font family written into SVG text; bitmaps always use the bundled Ubuntu Light.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// Size factor of a figure relative to its SVG layout. Text, margins, strokes and markers are
/// multiplied by it, so a PNG of twice the SVG size looks like the SVG at twice the resolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Scale(pub(crate) f64);

impl Scale {
    /// The SVG layout itself.
    pub(crate) const ONE: Scale = Scale(1.0);

    /// The factor for a canvas of `size` whose layout was designed at `base` (0.6 … 4).
    pub(crate) fn fit(size: (u32, u32), base: (u32, u32)) -> Scale {
        let k = (f64::from(size.0) / f64::from(base.0)).min(f64::from(size.1) / f64::from(base.1));
        Scale(k.clamp(0.6, 4.0))
    }

    /// A length in pixels.
    pub(crate) fn px(self, v: f64) -> i32 {
        (v * self.0).round() as i32
    }

    /// A stroke width or marker radius (at least 1).
    pub(crate) fn stroke(self, v: f64) -> u32 {
        (v * self.0).round().max(1.0) as u32
    }

    /// A text size.
    pub(crate) fn font(self, size: f64) -> f64 {
        size * self.0
    }
}

/// A viridis-like sequential map, t ∈ [0, 1] (clamped; NaN counts as 0) → RGB. The lab's α
/// heat map and the exported α figure both use it.
pub fn viridis_rgb(t: f64) -> (u8, u8, u8) {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let k = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - k as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colour `k` of [`PALETTE`] (cycles).
pub(crate) fn palette(k: usize) -> RGBColor {
    let (r, g, b) = PALETTE[k % PALETTE.len()];
    RGBColor(r, g, b)
}

/// Light grey of grid lines and dark grey of axes and text.
pub(crate) const GRID: RGBColor = RGBColor(228, 228, 228);
pub(crate) const INK: RGBColor = RGBColor(40, 40, 40);

/// The drawing area every figure draws on: a plotters backend wrapped for text.
pub(crate) type Area<B> = DrawingArea<TextBackend<B>, Shift>;

fn font() -> Result<FontRef<'static>, FigureError> {
    FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT)
        .map_err(|e| FigureError::Draw(format!("bundled font: {e}")))
}

/// Checks a requested PNG size.
pub(crate) fn check_png_size(width: u32, height: u32) -> Result<(), FigureError> {
    if width < MIN_PNG_SIZE.0
        || height < MIN_PNG_SIZE.1
        || width > MAX_PNG_SIDE
        || height > MAX_PNG_SIDE
    {
        return Err(FigureError::Size { width, height });
    }
    Ok(())
}

/// Draws with `draw` on an SVG canvas of `size` and returns the document.
pub(crate) fn render_svg(
    size: (u32, u32),
    draw: impl FnOnce(&Area<SVGBackend<'_>>) -> Result<(), FigureError>,
) -> Result<String, FigureError> {
    let font = font()?;
    let mut out = String::new();
    {
        let root = TextBackend::new(SVGBackend::with_string(&mut out, size), font, TextMode::Svg)
            .into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    Ok(out)
}

/// Draws with `draw` on an RGB canvas of `width` × `height` and returns PNG bytes.
pub(crate) fn render_png(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<BitMapBackend<'_>>) -> Result<(), FigureError>,
) -> Result<Vec<u8>, FigureError> {
    check_png_size(width, height)?;
    let font = font()?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = TextBackend::new(
            BitMapBackend::with_buffer(&mut rgb, (width, height)),
            font,
            TextMode::Raster,
        )
        .into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    encode_png(&rgb, width, height)
}

/// One of the lab's figures with its data: what the Share & export menu saves and what the
/// live preview draws — through the same drawing code.
pub enum Figure<'a> {
    /// Loss and accuracy curves of 1–[`MAX_RUNS`] runs.
    Curves(&'a [RunSeries<'a>]),
    /// Covariance spectra (label, descending log₁₀ eigenvalues).
    Spectrum(&'a [(String, Vec<f64>)]),
    /// The α heat map of one batch with the batch's class labels.
    Alpha(ndarray::ArrayView2<'a, f32>, &'a [usize]),
}

impl Figure<'_> {
    /// The size of the figure's SVG (its layout; other sizes scale it).
    pub fn svg_size(&self) -> (u32, u32) {
        match self {
            Figure::Curves(_) => CURVES_SVG_SIZE,
            Figure::Spectrum(_) => SPECTRUM_SVG_SIZE,
            Figure::Alpha(..) => ALPHA_SVG_SIZE,
        }
    }

    /// The figure as an SVG document.
    pub fn svg(&self) -> Result<String, FigureError> {
        match self {
            Figure::Curves(r) => curves_svg(r),
            Figure::Spectrum(s) => spectrum_svg(s),
            Figure::Alpha(a, l) => alpha_svg(a.view(), l),
        }
    }

    /// The figure as PNG bytes of `width` × `height` pixels.
    pub fn png(&self, width: u32, height: u32) -> Result<Vec<u8>, FigureError> {
        match self {
            Figure::Curves(r) => curves_png(r, width, height),
            Figure::Spectrum(s) => spectrum_png(s, width, height),
            Figure::Alpha(a, l) => alpha_png(a.view(), l, width, height),
        }
    }

    /// Draws the figure on `backend`, which draws its text itself and takes plotters' text size
    /// as a font size in pixels (an HTML canvas through plotters-canvas): the layout of a PNG
    /// of the backend's size, the text at the SVG's font size, and the α map at the SVG's
    /// resolution (at most [`ALPHA_SVG_MAX_CELLS`] cells a side, so a canvas draws at most
    /// 128² rectangles).
    pub fn draw_on<B: plotters::prelude::DrawingBackend>(
        &self,
        backend: B,
    ) -> Result<(), FigureError> {
        let (width, height) = backend.get_size();
        check_png_size(width, height)?;
        let root = TextBackend::new(backend, font()?, TextMode::Native).into_drawing_area();
        let s = Scale::fit((width, height), self.svg_size());
        match self {
            Figure::Curves(r) => curves::draw_runs(&root, r, s)?,
            Figure::Spectrum(series) => spectrum::draw_series(&root, series, s)?,
            Figure::Alpha(a, l) => alpha::draw_alpha(&root, a.view(), l, ALPHA_SVG_MAX_CELLS, s)?,
        }
        root.present()?;
        Ok(())
    }
}

/// Encodes an 8-bit RGB buffer as PNG.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, FigureError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| FigureError::Encode(e.to_string()))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| FigureError::Encode(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| FigureError::Encode(e.to_string()))?;
    Ok(out)
}

/// Decimal places for tick labels of an axis spanning `span`.
pub(crate) fn tick_decimals(span: f64) -> usize {
    if !span.is_finite() || span <= 0.0 {
        return 2;
    }
    // Two significant digits at the scale of a tick step (about span / 8).
    (1.0 - (span / 8.0).log10().floor()).clamp(0.0, 6.0) as usize
}

/// A padded (lo, hi) range around finite `values`, or `None` if none is finite.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    let span = hi - lo;
    let pad = if span > 0.0 {
        0.05 * span
    } else {
        0.5 * lo.abs().max(1e-3)
    };
    Some((lo - pad, hi + pad))
}

/// Shortens `s` to at most `max` characters, with an ellipsis.
pub(crate) fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Grey text centred in the pixel rectangle `plot` (absolute, as plotters reports it) of
/// `area`: what a panel says when it has nothing to draw.
pub(crate) fn draw_note<B: plotters::prelude::DrawingBackend>(
    area: &Area<B>,
    plot: (std::ops::Range<i32>, std::ops::Range<i32>),
    text: &str,
    s: Scale,
) -> Result<(), FigureError> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let (ox, oy) = area.get_base_pixel();
    let centre = (
        (plot.0.start + plot.0.end) / 2 - ox,
        (plot.1.start + plot.1.end) / 2 - oy,
    );
    let style = (FONT_FAMILY, s.font(DESC_SIZE))
        .into_font()
        .color(&RGBColor(120, 120, 120))
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(text.to_string(), centre, style))?;
    Ok(())
}

/// One legend entry: a label and how to draw its key.
pub(crate) struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub marker: bool,
}

/// Where a legend box is anchored inside the plotting rectangle.
#[derive(Clone, Copy)]
pub(crate) enum Corner {
    TopRight,
    BottomRight,
}

/// Draws a boxed legend inside the pixel rectangle `plot` ((x0, x1), (y0, y1)) of `area`.
///
/// plotters' own series labels measure text through its font layer (the DOM on wasm), so the
/// legend is drawn here from primitives and `Text` elements.
pub(crate) fn draw_legend<B: plotters::prelude::DrawingBackend>(
    area: &Area<B>,
    plot: (std::ops::Range<i32>, std::ops::Range<i32>),
    entries: &[LegendEntry],
    corner: Corner,
    s: Scale,
) -> Result<(), FigureError> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    if entries.is_empty() {
        return Ok(());
    }
    let style = (FONT_FAMILY, s.font(LEGEND_SIZE))
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut text_w = 0i32;
    let mut text_h = 0i32;
    for e in entries {
        let (w, h) = area.estimate_text_size(&e.label, &style)?;
        text_w = text_w.max(w as i32);
        text_h = text_h.max(h as i32);
    }
    let (key, pad, gap, inset) = (s.px(28.0), s.px(8.0), s.px(6.0), s.px(10.0));
    let row = text_h.max(s.px(12.0)) + s.px(4.0);
    let box_w = pad + key + gap + text_w + pad;
    let box_h = pad + row * entries.len() as i32 + pad - s.px(4.0);
    let (xr, yr) = plot;
    // Areas use coordinates relative to themselves; `plot` is absolute.
    let (ox, oy) = {
        let (x, y) = area.get_base_pixel();
        (x, y)
    };
    let x0 = xr.end - ox - box_w - inset;
    let y0 = match corner {
        Corner::TopRight => yr.start - oy + inset,
        Corner::BottomRight => yr.end - oy - box_h - inset,
    };
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        RGBColor(170, 170, 170).stroke_width(1),
    ))?;
    for (k, e) in entries.iter().enumerate() {
        let cy = y0 + pad + row * k as i32 + row / 2 - s.px(2.0);
        let kx = x0 + pad;
        let line = e.color.stroke_width(s.stroke(2.0));
        if e.dashed {
            for d in 0..3 {
                let a = kx + s.px(10.0 * f64::from(d));
                area.draw(&PathElement::new(vec![(a, cy), (a + s.px(6.0), cy)], line))?;
            }
        } else {
            area.draw(&PathElement::new(vec![(kx, cy), (kx + key, cy)], line))?;
        }
        if e.marker {
            let marker = if e.dashed { line } else { e.color.filled() };
            area.draw(&Circle::new((kx + key / 2, cy), s.stroke(3.0), marker))?;
        }
        area.draw(&Text::new(
            e.label.clone(),
            (kx + key + gap, cy),
            style.clone(),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_decimals_follow_the_span() {
        assert_eq!(tick_decimals(1.0), 2); // ticks 0.1–0.2 apart → 0.40
        assert_eq!(tick_decimals(100.0), 0);
        assert_eq!(tick_decimals(0.0117), 4);
        assert_eq!(tick_decimals(0.0), 2);
        assert_eq!(tick_decimals(f64::NAN), 2);
        assert_eq!(tick_decimals(1e-12), 6);
    }

    #[test]
    fn padded_range_skips_non_finite_and_widens_flat_data() {
        assert_eq!(padded_range([f64::NAN, f64::INFINITY]), None);
        let (lo, hi) = padded_range([1.0, f64::NAN, 3.0]).unwrap();
        assert!((lo - 0.9).abs() < 1e-12 && (hi - 3.1).abs() < 1e-12);
        let (lo, hi) = padded_range([2.0, 2.0]).unwrap();
        assert!(lo < 2.0 && hi > 2.0);
    }

    #[test]
    fn ellipsize_cuts_long_labels_only() {
        assert_eq!(ellipsize("short", 10), "short");
        assert_eq!(ellipsize("abcdefghij", 5), "abcd…");
        assert_eq!(ellipsize("abcdefghij", 5).chars().count(), 5);
    }

    #[test]
    fn scale_fits_the_tighter_side_within_limits() {
        assert_eq!(Scale::fit((1000, 420), (1000, 420)), Scale::ONE);
        assert_eq!(Scale::fit((2000, 1000), (1000, 420)), Scale(2.0));
        assert_eq!(Scale::fit((240, 180), (1000, 420)), Scale(0.6));
        assert_eq!(Scale::fit((8000, 8000), (640, 440)), Scale(4.0));
        assert_eq!(Scale(1.5).px(10.0), 15);
        assert_eq!(Scale(0.2).stroke(1.0), 1);
    }

    #[test]
    fn png_size_limits() {
        assert!(check_png_size(MIN_PNG_SIZE.0, MIN_PNG_SIZE.1).is_ok());
        assert!(check_png_size(MIN_PNG_SIZE.0 - 1, 500).is_err());
        assert!(check_png_size(500, MAX_PNG_SIDE + 1).is_err());
    }
}
