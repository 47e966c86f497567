//! A drawing-backend wrapper that owns all text handling.
//!
//! plotters measures and rasterises text through its own font layer, which on wasm32 asks the
//! browser's DOM (and cannot draw into a bitmap at all). [`TextBackend`] wraps any plotters
//! backend and answers `estimate_text_size` from the Ubuntu Light metrics bundled with
//! `epaint_default_fonts`, so the layout is the same natively and in wasm. For bitmaps it also
//! rasterises the glyphs itself (ab_glyph, anti-aliased coverage blended into the buffer); for
//! SVG it lets the SVG backend write `<text>` elements, which viewers render with their own
//! sans-serif font; for an HTML canvas (the lab's live figure) it lets the canvas draw the text
//! with the browser's sans-serif at the SVG's font size ([`TextMode::Native`]).

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// plotters sizes text by line height; the SVG backend writes `font-size = size / 1.24`. The
/// glyph rasteriser uses the same em size so bitmap and vector text match.
const SIZE_TO_EM: f64 = 1.0 / 1.24;

/// SVG text is rendered by the viewer's sans-serif font, often wider than Ubuntu Light (DejaVu
/// Sans by ~15 %): widths measured for SVG layout are scaled up by this factor so legends and
/// labels keep their room.
const SVG_WIDTH_FACTOR: f32 = 1.15;

/// Who draws the glyphs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextMode {
    /// This wrapper rasterises them into the pixels (bitmaps).
    Raster,
    /// The SVG backend writes `<text>` (it converts plotters' size to a font size itself).
    Svg,
    /// The backend draws text itself and takes plotters' size as the font size in pixels (the
    /// HTML canvas): the size is converted as the SVG backend does, so the text is as large as
    /// in the SVG.
    Native,
}

/// Wraps a plotters backend; see the module docs.
pub(crate) struct TextBackend<B> {
    inner: B,
    font: FontRef<'static>,
    mode: TextMode,
    /// Rasterise glyphs (bitmap) rather than delegating `draw_text`.
    raster: bool,
}

impl<B: DrawingBackend> TextBackend<B> {
    /// Wraps `inner`; `mode` says who draws the glyphs.
    pub(crate) fn new(inner: B, font: FontRef<'static>, mode: TextMode) -> Self {
        Self {
            inner,
            font,
            mode,
            raster: mode == TextMode::Raster,
        }
    }

    /// Pixel scale for a plotters text size.
    fn scale(&self, size: f64) -> PxScale {
        let em = (size * SIZE_TO_EM) as f32;
        let units = self.font.units_per_em().unwrap_or(1000.0);
        PxScale::from(em * self.font.height_unscaled() / units)
    }

    /// (advance width, ascent, descent) of `text` in pixels; descent is negative.
    fn measure(&self, text: &str, size: f64) -> (f32, f32, f32) {
        let scaled = self.font.as_scaled(self.scale(size));
        let mut width = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                width += scaled.kern(p, id);
            }
            width += scaled.h_advance(id);
            prev = Some(id);
        }
        (width, scaled.ascent(), scaled.descent())
    }
}

impl<B: DrawingBackend> DrawingBackend for TextBackend<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, ascent, descent) = self.measure(text, style.size());
        let w = if self.raster { w } else { w * SVG_WIDTH_FACTOR };
        Ok((
            w.ceil().max(0.0) as u32,
            (ascent - descent).ceil().max(0.0) as u32,
        ))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self.mode {
            TextMode::Svg => return self.inner.draw_text(text, style, pos),
            TextMode::Native => return self.inner.draw_text(text, &EmSized(style), pos),
            TextMode::Raster => {}
        }
        let color = style.color();
        if color.alpha <= 0.0 || text.is_empty() {
            return Ok(());
        }
        let (width, ascent, descent) = self.measure(text, style.size());
        let height = ascent - descent;
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.inner.get_size();
        let scaled = self.font.as_scaled(self.scale(style.size()));
        // Coverage per pixel, in unrotated text coordinates relative to the anchor.
        let mut coverage: Vec<((i32, i32), f32)> = Vec::new();
        let mut caret = 0.0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                caret += scaled.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scaled.scale, point(caret + dx, ascent + dy));
            caret += scaled.h_advance(id);
            if let Some(outlined) = self.font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                let (bx, by) = (bounds.min.x as i32, bounds.min.y as i32);
                outlined.draw(|x, y, cov| {
                    if cov > 1.0 / 255.0 {
                        coverage.push(((bx + x as i32, by + y as i32), cov.min(1.0)));
                    }
                });
            }
        }
        for ((x, y), cov) in coverage {
            let (rx, ry) = transform.transform(x, y);
            let (px, py) = (pos.0 + rx, pos.1 + ry);
            if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(cov),
                    rgb: color.rgb,
                };
                self.inner.draw_pixel((px, py), c)?;
            }
        }
        Ok(())
    }
}

/// A text style whose size is the em size plotters' SVG backend would write (size / 1.24), for
/// backends that take the size as a CSS font size.
struct EmSized<'a, S>(&'a S);

impl<S: BackendTextStyle> BackendTextStyle for EmSized<'_, S> {
    type FontError = S::FontError;

    fn color(&self) -> BackendColor {
        self.0.color()
    }

    fn size(&self) -> f64 {
        self.0.size() * SIZE_TO_EM
    }

    fn transform(&self) -> plotters_backend::FontTransform {
        self.0.transform()
    }

    fn style(&self) -> plotters_backend::FontStyle {
        self.0.style()
    }

    fn anchor(&self) -> plotters_backend::text_anchor::Pos {
        self.0.anchor()
    }

    fn family(&self) -> plotters_backend::FontFamily<'_> {
        self.0.family()
    }

    fn layout_box(&self, text: &str) -> Result<((i32, i32), (i32, i32)), Self::FontError> {
        self.0.layout_box(text)
    }

    fn draw<E, F: FnMut(i32, i32, BackendColor) -> Result<(), E>>(
        &self,
        text: &str,
        pos: BackendCoord,
        draw: F,
    ) -> Result<Result<(), E>, Self::FontError> {
        self.0.draw(text, pos, draw)
    }
}
