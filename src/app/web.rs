//! The browser shell: eframe's `WebRunner`, the URL hash, the `#alphacl-status` element and a
//! panic hook that reports in the page.
//!
//! `#alphacl-status` holds JSON (see [`LabApp::status_json`]) refreshed about four times a
//! second; `#alphacl-widgets` holds the screen rectangles of named widgets relative to the
//! canvas (CSS pixels), so browser tests can click real buttons.

use wasm_bindgen::JsCast as _;
use web_time::Instant;

use super::LabApp;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

fn set_text(id: &str, text: &str) {
    if let Some(el) = document().and_then(|d| d.get_element_by_id(id)) {
        el.set_text_content(Some(text));
    }
}

/// Shows a fatal message in the page (used by the panic hook and start-up failures).
fn show_fatal(msg: &str) {
    let status = serde_json::json!({"ready": false, "running": false, "error": msg});
    set_text("alphacl-status", &status.to_string());
    if let Some(el) = document().and_then(|d| d.get_element_by_id("alphacl-fatal")) {
        el.set_text_content(Some(&format!(
            "α-CL Lab stopped: {msg}. Reload the page to start again."
        )));
        if let Some(h) = el.dyn_ref::<web_sys::HtmlElement>() {
            let _ = h.style().set_property("display", "block");
        }
    }
}

/// eframe wrapper around the lab.
struct WebApp {
    lab: LabApp,
    last_publish: Option<Instant>,
}

impl eframe::App for WebApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.lab.logic();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.lab.ui(ui);
        let due = self
            .last_publish
            .is_none_or(|t| t.elapsed().as_secs_f64() >= 0.25);
        if due {
            self.last_publish = Some(Instant::now());
            set_text("alphacl-status", &self.lab.status_json().to_string());
            let rects = serde_json::to_string(&self.lab.widget_rects).unwrap_or_default();
            set_text("alphacl-widgets", &rects);
        }
        // Keep publishing status even when idle.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(250));
    }

    fn clear_color(&self, _visuals: &egui::Visuals) -> [f32; 4] {
        [0.97, 0.97, 0.97, 1.0]
    }
}

/// Starts the app on `#the_canvas_id`.
pub fn start() {
    let runner = eframe::WebRunner::new();
    // eframe installed its panic handler above; chain ours so the page says what happened.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        show_fatal(&info.to_string());
        previous(info);
    }));
    wasm_bindgen_futures::spawn_local(async move {
        let Some(canvas) = document()
            .and_then(|d| d.get_element_by_id("the_canvas_id"))
            .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            show_fatal("no <canvas id=\"the_canvas_id\"> in the page");
            return;
        };
        let result = runner
            .start(
                canvas,
                eframe::WebOptions::default(),
                Box::new(|cc| {
                    cc.egui_ctx.set_visuals(egui::Visuals::light());
                    let hash = web_sys::window()
                        .and_then(|w| w.location().hash().ok())
                        .unwrap_or_default();
                    let hash = crate::train::config::percent_decode(&hash);
                    Ok(Box::new(WebApp {
                        lab: LabApp::from_hash(&hash),
                        last_publish: None,
                    }))
                }),
            )
            .await;
        if let Err(e) = result {
            show_fatal(&format!("could not start: {e:?}"));
        }
        if let Some(loading) = document().and_then(|d| d.get_element_by_id("loading")) {
            loading.remove();
        }
    });
}
