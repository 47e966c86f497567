//! The live figure: a publication figure of [`crate::figures`] drawn while training runs.
//!
//! *Share & export → Live figure…* (or the "Figure" toggle on the curves, spectrum and α
//! views) opens a small non-modal window over the lab. The window holds the controls (which
//! figure, save PNG / SVG, close) and reserves a rectangle; in the browser the shell lays an
//! HTML `<canvas id="alphacl-figure">` exactly over that rectangle and draws the figure into it
//! with plotters-canvas, through the same drawing code as the PNG and SVG exports
//! ([`crate::figures::Figure::draw_on`]), at the device pixel ratio. The canvas ignores the
//! pointer (`pointer-events: none`), so the window under it can be moved and the lab used.
//!
//! A redraw happens only when what the figure shows changed (a run took steps, a snapshot
//! came, the figure or the canvas size changed) and at least [`MIN_REDRAW_SECONDS`] after the
//! previous one: a few times a second at most, never once per frame.
//!
//! *Save PNG* draws the figure at twice the canvas's size in CSS pixels (the same layout as on
//! screen, at twice the resolution); *Save SVG* saves the figure's vector layout.

use std::collections::BTreeMap;

use web_time::Instant;

use super::LabApp;

/// Shortest time between two redraws of the live figure, in seconds.
pub const MIN_REDRAW_SECONDS: f64 = 0.3;

/// Which figure the live window shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FigureKind {
    /// Loss and accuracy curves of every run.
    #[default]
    Curves,
    /// Covariance spectra.
    Spectrum,
    /// The α map of the edited run's last batch.
    Alpha,
}

impl FigureKind {
    /// Every figure, in menu order.
    pub const ALL: [FigureKind; 3] = [FigureKind::Curves, FigureKind::Spectrum, FigureKind::Alpha];

    /// The export key stem (`alphacl-<key>.png`).
    pub fn key(self) -> &'static str {
        match self {
            FigureKind::Curves => "curves",
            FigureKind::Spectrum => "spectrum",
            FigureKind::Alpha => "alpha",
        }
    }

    /// The button label.
    pub fn label(self) -> &'static str {
        match self {
            FigureKind::Curves => "Curves",
            FigureKind::Spectrum => "Spectrum",
            FigureKind::Alpha => "α map",
        }
    }

    /// Height / width of the figure's layout.
    pub fn aspect(self) -> f32 {
        let (w, h) = match self {
            FigureKind::Curves => crate::figures::CURVES_SVG_SIZE,
            FigureKind::Spectrum => crate::figures::SPECTRUM_SVG_SIZE,
            FigureKind::Alpha => crate::figures::ALPHA_SVG_SIZE,
        };
        h as f32 / w as f32
    }
}

/// The live figure's state (the window and the throttle of the canvas).
#[derive(Debug, Default)]
pub struct LiveFigure {
    /// Whether the window is open.
    pub open: bool,
    /// The figure shown.
    pub kind: FigureKind,
    /// The canvas rectangle this frame (egui points), while the window is open.
    pub rect: Option<egui::Rect>,
    /// Why the last drawing failed (e.g. no α yet), shown in the window.
    pub problem: Option<String>,
    /// How many times the figure has been drawn.
    pub draws: usize,
    drawn_key: Option<String>,
    last_draw: Option<Instant>,
}

/// What a "Figure" toggle asked for this frame (kept in egui's temporary memory).
#[derive(Clone, Copy, Default)]
struct ToggleRequest(Option<FigureKind>);

/// The open state the toggles show (published by the window each frame).
#[derive(Clone, Copy, Default)]
struct OpenState(Option<FigureKind>);

fn request_id() -> egui::Id {
    egui::Id::unique("alphacl-live-figure-request")
}

fn state_id() -> egui::Id {
    egui::Id::unique("alphacl-live-figure-open")
}

/// A "Figure" toggle for a view's header: selected while the live figure shows `kind`; a click
/// opens it on `kind` (or closes it). Views call this without knowing the lab.
pub fn figure_toggle(ui: &mut egui::Ui, kind: FigureKind) -> egui::Response {
    let shown = ui
        .ctx()
        .data(|d| d.get_temp::<OpenState>(state_id()))
        .unwrap_or_default()
        .0;
    let r = ui
        .selectable_label(shown == Some(kind), "Figure")
        .on_hover_text("the publication figure, live (the same drawing as Share & export)");
    if r.clicked() {
        ui.ctx()
            .data_mut(|d| d.insert_temp(request_id(), ToggleRequest(Some(kind))));
    }
    r
}

impl LiveFigure {
    /// Opens the window on `kind`.
    pub fn show(&mut self, kind: FigureKind) {
        self.open = true;
        if self.kind != kind {
            self.kind = kind;
            self.drawn_key = None;
        }
    }

    /// Closes the window (the canvas is hidden).
    pub fn close(&mut self) {
        self.open = false;
        self.rect = None;
        self.drawn_key = None;
    }

    /// Whether the canvas must be redrawn at `now` for content `key`: the content changed
    /// since the last drawing and at least [`MIN_REDRAW_SECONDS`] have passed. Records the
    /// drawing when it answers yes.
    pub fn due(&mut self, key: &str, now: Instant) -> bool {
        if self.drawn_key.as_deref() == Some(key) {
            return false;
        }
        if let Some(t) = self.last_draw
            && now.saturating_duration_since(t).as_secs_f64() < MIN_REDRAW_SECONDS
        {
            return false;
        }
        self.drawn_key = Some(key.to_string());
        self.last_draw = Some(now);
        self.draws += 1;
        true
    }
}

impl LabApp {
    /// The *Share & export* menu's entry that opens the live figure.
    pub fn live_figure_menu_item(
        &mut self,
        ui: &mut egui::Ui,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) {
        let b = ui
            .button("Live figure…")
            .on_hover_text("the publication figure over the lab, redrawn as training runs");
        Self::note_rect(rects, "share:figure", b.rect);
        if b.clicked() {
            let kind = self.live_figure.kind;
            self.live_figure.show(kind);
            ui.close();
        }
    }

    /// Draws the live figure's window (when open) and takes the views' toggle requests.
    pub fn live_figure_window(
        &mut self,
        ctx: &egui::Context,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) {
        if let Some(ToggleRequest(Some(kind))) = ctx.data_mut(|d| d.remove_temp(request_id())) {
            if self.live_figure.open && self.live_figure.kind == kind {
                self.live_figure.close();
            } else {
                self.live_figure.show(kind);
            }
        }
        let fig = &mut self.live_figure;
        fig.rect = None;
        let mut save = None;
        if fig.open {
            let mut open = true;
            egui::Window::new("Live figure")
                .id(egui::Id::unique("live_figure_window"))
                .open(&mut open)
                .resizable(true)
                .default_width(480.0)
                .min_width(380.0)
                // Bottom right, clear of the views' headers (and their Figure toggles).
                .pivot(egui::Align2::RIGHT_BOTTOM)
                .default_pos(ctx.content_rect().right_bottom() - egui::vec2(12.0, 12.0))
                .show(ctx, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        for k in FigureKind::ALL {
                            let r = ui.selectable_value(&mut fig.kind, k, k.label());
                            Self::note_rect(rects, &format!("figure:{}", k.key()), r.rect);
                        }
                        ui.separator();
                        for (ext, label) in [("png", "Save PNG"), ("svg", "Save SVG")] {
                            let r = ui.button(label).on_hover_text(if ext == "png" {
                                "this figure as shown, at twice the pixels"
                            } else {
                                "this figure as a vector file"
                            });
                            Self::note_rect(rects, &format!("figure:save:{ext}"), r.rect);
                            if r.clicked() {
                                save = Some(ext);
                            }
                        }
                        let r = ui.button("Close");
                        Self::note_rect(rects, "figure:close", r.rect);
                        if r.clicked() {
                            fig.open = false;
                        }
                    });
                    ui.weak(format!(
                        "Drawn by plotters-canvas with the exports' own code; redrawn as the \
                         runs train (at most every {MIN_REDRAW_SECONDS} s)."
                    ));
                    if let Some(p) = &fig.problem {
                        ui.label(p);
                    }
                    let w = ui.available_width().max(360.0);
                    let (rect, _) = ui.allocate_exact_size(
                        egui::vec2(w, (w * fig.kind.aspect()).round()),
                        egui::Sense::hover(),
                    );
                    ui.painter().rect_filled(rect, 0.0, egui::Color32::WHITE);
                    // egui lays a new window out once invisibly (its sizing pass) before it
                    // knows its size, so the pivot puts it elsewhere: publishing that rectangle
                    // would show the canvas for a frame away from the window.
                    if ui.is_visible() && !ui.is_sizing_pass() {
                        Self::note_rect(rects, "figure:canvas", rect);
                        fig.rect = Some(rect);
                    }
                });
            if !open || !fig.open {
                fig.close();
            }
        }
        let shown = fig.open.then_some(fig.kind);
        ctx.data_mut(|d| d.insert_temp(state_id(), OpenState(shown)));
        if let Some(ext) = save {
            let rect = self.live_figure.rect.unwrap_or(egui::Rect::ZERO);
            // Twice the canvas: the layout on screen at twice the pixels.
            let (min_w, min_h) = crate::figures::MIN_PNG_SIZE;
            let px = (
                (2.0 * rect.width()).max(min_w as f32),
                (2.0 * rect.height()).max(min_h as f32),
            );
            match self.figure_file(self.live_figure.kind, ext, (px.0 as u32, px.1 as u32)) {
                Ok(d) => self.outbox.downloads.push(d),
                Err(e) => self.error = Some(format!("Export failed: {e}")),
            }
        }
    }
}

/// The browser side: the `<canvas>` over the window's rectangle.
#[cfg(target_arch = "wasm32")]
pub mod web {
    use wasm_bindgen::JsCast as _;

    use super::{LabApp, MIN_REDRAW_SECONDS};

    /// The canvas element's id.
    pub const CANVAS_ID: &str = "alphacl-figure";

    fn canvas() -> Option<web_sys::HtmlCanvasElement> {
        let doc = web_sys::window()?.document()?;
        if let Some(c) = doc.get_element_by_id(CANVAS_ID) {
            return c.dyn_into().ok();
        }
        let c: web_sys::HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
        c.set_id(CANVAS_ID);
        let style = c.style();
        // No opaque CSS background (the figure paints its own white, and the window's slot is
        // white under it): over the WebGL canvas, an opaque element lets Chromium's compositor
        // skip the part of the WebGL canvas it hides, and (seen in headless Chromium with
        // SwiftShader) it skipped that part upside down, WebGL's rows running bottom-up: a hole
        // of the canvas's size at the mirrored height (y' = page height − bottom) showed the
        // page's background through the top of the lab.
        for (k, v) in [
            ("position", "fixed"),
            ("pointer-events", "none"),
            ("z-index", "5"),
            ("display", "none"),
        ] {
            let _ = style.set_property(k, v);
        }
        doc.body()?.append_child(&c).ok()?;
        Some(c)
    }

    /// Places, sizes and (when due) redraws the live figure's canvas; hides it when closed.
    pub fn sync(lab: &mut LabApp, ctx: &egui::Context) {
        let Some(c) = canvas() else { return };
        let style = c.style();
        let Some(rect) = lab.live_figure.rect.filter(|_| lab.live_figure.open) else {
            let _ = style.set_property("display", "none");
            return;
        };
        // egui points → CSS pixels of the page, offset by the egui canvas's position.
        let zoom = ctx.zoom_factor();
        let origin = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("the_canvas_id"))
            .map(|e| e.get_bounding_client_rect())
            .map_or((0.0, 0.0), |r| (r.left(), r.top()));
        let css = |v: f32| f64::from(v * zoom);
        let (x, y) = (origin.0 + css(rect.min.x), origin.1 + css(rect.min.y));
        let (w, h) = (css(rect.width()), css(rect.height()));
        for (k, v) in [("left", x), ("top", y), ("width", w), ("height", h)] {
            let _ = style.set_property(k, &format!("{v:.1}px"));
        }
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        let (pw, ph) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
        if c.width() != pw || c.height() != ph {
            c.set_width(pw);
            c.set_height(ph);
            // Resizing clears the canvas: draw again whatever the throttle says.
            lab.live_figure.force_redraw();
        }
        let kind = lab.live_figure.kind;
        let key = format!("{}|{pw}x{ph}", lab.figure_key(kind));
        if lab.live_figure.due(&key, web_time::Instant::now()) {
            let drawn = lab.with_figure(kind, |fig| {
                let backend = plotters_canvas::CanvasBackend::with_canvas_object(c.clone())
                    .ok_or_else(|| "the canvas has no 2-D context".to_string())?;
                fig.draw_on(backend).map_err(|e| e.to_string())
            });
            let problem = drawn.and_then(|r| r).err();
            let _ = style.set_property("display", if problem.is_some() { "none" } else { "block" });
            let _ = c.set_attribute("data-draws", &lab.live_figure.draws.to_string());
            let _ = c.set_attribute("data-figure", kind.key());
            lab.live_figure.problem = problem;
        }
        // A change that arrives within the throttle interval is drawn when it ends.
        ctx.request_repaint_after(std::time::Duration::from_secs_f64(MIN_REDRAW_SECONDS));
    }
}

impl LiveFigure {
    /// Forgets what was drawn (the next due check draws, throttle permitting).
    pub fn force_redraw(&mut self) {
        self.drawn_key = None;
        self.last_draw = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn redraws_only_on_change_and_at_most_every_interval() {
        let mut f = LiveFigure::default();
        let t0 = Instant::now();
        assert!(f.due("a", t0), "first drawing");
        assert!(
            !f.due("a", t0 + Duration::from_secs(5)),
            "same content: no redraw"
        );
        let soon = t0 + Duration::from_secs_f64(MIN_REDRAW_SECONDS / 2.0);
        assert!(!f.due("b", soon), "new content inside the interval waits");
        let later = t0 + Duration::from_secs_f64(MIN_REDRAW_SECONDS * 1.01);
        assert!(f.due("b", later), "new content after the interval is drawn");
        assert_eq!(f.draws, 2);
        f.force_redraw();
        assert!(f.due("b", later), "a cleared canvas is drawn again");
    }

    #[test]
    fn show_switches_figure_and_close_hides() {
        let mut f = LiveFigure::default();
        f.show(FigureKind::Alpha);
        assert!(f.open && f.kind == FigureKind::Alpha);
        f.close();
        assert!(!f.open && f.rect.is_none());
    }
}
