//! The browser shell: eframe's `WebRunner`, the URL hash, the `#alphacl-status` element and a
//! panic hook that reports in the page.
//!
//! The shell also carries out the app's [`Outbox`](super::export::Outbox): downloads (a Blob
//! behind a temporary `<a download>`), the weights file picker (a temporary
//! `<input type=file>`), and the saved session: the share state is written to `localStorage`
//! (key [`STATE_KEY`]) and into the address bar (`history.replaceState`) whenever it changes,
//! and restored on a visit without a hash.
//!
//! **Workers.** Every run trains in its own Web Worker (`alphacl-worker_loader.js`, built by
//! trunk from `src/worker.rs`): the shell installs a worker factory ([`super::run`]) that
//! starts one per run, posts its encoded commands and collects its encoded events, which the
//! next frame delivers to the lab ([`LabApp::deliver`]). Where `Worker` is missing or the page
//! is a `file://` URL, runs train in the frame and the status bar says so; a worker that fails
//! to load or stops is replaced by in-frame training of the same run.
//!
//! `#alphacl-status` holds JSON (see [`LabApp::status_json`]) refreshed about four times a
//! second; `#alphacl-widgets` holds the screen rectangles of named widgets relative to the
//! canvas (CSS pixels), so browser tests can click real buttons.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_time::Instant;

use super::LabApp;

/// `localStorage` key of the saved session (the share-link hash).
pub const STATE_KEY: &str = "alphacl-state";

/// `localStorage` key of the last crash: `{"hash": …, "reason": …}`. A load of that same hash
/// opens the default run and says why instead of crashing again.
pub const CRASH_KEY: &str = "alphacl-crash";

/// The hash the page is showing (for the crash record).
fn current_hash() -> String {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    hash.trim_start_matches('#').to_string()
}

/// Why the link `hash` crashed the lab last time, if it did.
fn crash_of(hash: &str) -> Option<String> {
    let text = local_storage()?.get_item(CRASH_KEY).ok().flatten()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    (v["hash"].as_str() == Some(hash)).then(|| v["reason"].as_str().unwrap_or("").to_string())
}

/// Files read from a drop: (name, bytes), or why reading failed.
type DroppedFiles = Result<Vec<(String, Vec<u8>)>, String>;

/// Results that async browser work hands back to the app on its next frame.
#[derive(Default)]
struct Mailbox {
    /// Finished downloads: (asset path, bytes or reason).
    assets: Vec<(String, Result<Vec<u8>, String>)>,
    /// Download progress: (asset path, received, total).
    progress: Vec<(String, usize, Option<usize>)>,
    /// Files dropped on the page, read.
    dropped: Option<DroppedFiles>,
    /// A weights file chosen with the file picker: (name, bytes), or why reading failed.
    picked_weights: Option<Result<(String, Vec<u8>), String>>,
    /// Messages from the runs' workers: (run id, encoded events, or why the worker stopped).
    workers: Vec<(u64, Result<Vec<u8>, String>)>,
}

/// How a worker that could not load is reported (it is replaced by in-frame training; a
/// worker that panicked is not, its run stops with the reason).
const LOAD_FAILED: &str = "the training worker failed to load: ";

/// The script that starts a training worker (trunk's loader shim for `alphacl-worker`).
const WORKER_SCRIPT: &str = "./alphacl-worker_loader.js";

/// Messages (message, transfer list) for a worker that does not listen yet; `None` once it
/// does.
type HeldMessages = Rc<RefCell<Option<Vec<(JsValue, JsValue)>>>>;

/// The page's end of one run's worker: commands go out as encoded bytes (a data file's bytes
/// transferred beside a start), and the worker is terminated when the run is dropped.
struct WorkerRemote {
    worker: web_sys::Worker,
    /// Messages (message, transfer list) held until the worker says it listens; `None` once
    /// it has.
    held: HeldMessages,
    _on_message: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl super::run::Remote for WorkerRemote {
    fn send(&mut self, cmd: &crate::engine::Command, file: Option<&std::sync::Arc<[u8]>>) {
        let msg = js_sys::Array::new();
        msg.push(&js_sys::Uint8Array::from(
            crate::engine::encode(cmd).as_slice(),
        ));
        let transfer = js_sys::Array::new();
        if let Some(f) = file {
            let bytes = js_sys::Uint8Array::from(&f[..]);
            transfer.push(&bytes.buffer());
            msg.push(&bytes);
        }
        match self.held.borrow_mut().as_mut() {
            Some(held) => held.push((msg.into(), transfer.into())),
            None => {
                let _ = self.worker.post_message_with_transfer(&msg, &transfer);
            }
        }
    }
}

impl Drop for WorkerRemote {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// Why runs cannot train in workers here, if so.
fn workers_unavailable() -> Option<String> {
    let global = js_sys::global();
    let has_worker = js_sys::Reflect::has(&global, &JsValue::from_str("Worker")).unwrap_or(false);
    if !has_worker {
        return Some("this browser has no Web Workers: runs train in the page's frames".into());
    }
    let protocol = web_sys::window()
        .and_then(|w| w.location().protocol().ok())
        .unwrap_or_default();
    (protocol == "file:").then(|| {
        "opened from a file (file://): runs train in the page's frames; serve the app \
         (scripts/serve.sh) to train in workers"
            .into()
    })
}

/// Starts a training worker for run `id`; its messages go to `mailbox`.
fn spawn_worker(
    id: u64,
    mailbox: SharedMailbox,
    ctx: egui::Context,
) -> Result<Box<dyn super::run::Remote>, String> {
    let worker = web_sys::Worker::new(WORKER_SCRIPT).map_err(|e| js_err(&e))?;
    let held: HeldMessages = Rc::new(RefCell::new(Some(Vec::new())));
    let (mb, c, h, w) = (mailbox.clone(), ctx.clone(), held.clone(), worker.clone());
    let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
        move |ev: web_sys::MessageEvent| {
            let data = ev.data();
            if data.as_string().as_deref() == Some(crate::engine::worker::READY) {
                for (msg, transfer) in h.borrow_mut().take().unwrap_or_default() {
                    let _ = w.post_message_with_transfer(&msg, &transfer);
                }
                return;
            }
            let msg = match data.as_string() {
                Some(why) => Err(why),
                None => Ok(js_sys::Uint8Array::new(&data).to_vec()),
            };
            mb.borrow_mut().workers.push((id, msg));
            c.request_repaint();
        },
    );
    let on_error = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(
        move |ev: web_sys::ErrorEvent| {
            let why = format!("{LOAD_FAILED}{}", ev.message());
            mailbox.borrow_mut().workers.push((id, Err(why)));
            ctx.request_repaint();
        },
    );
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(Box::new(WorkerRemote {
        worker,
        held,
        _on_message: on_message,
        _on_error: on_error,
    }))
}

type SharedMailbox = Rc<RefCell<Mailbox>>;

fn js_err(v: &JsValue) -> String {
    v.as_string()
        .or_else(|| js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}

fn call0(obj: &JsValue, method: &str) -> Result<JsValue, String> {
    let f = js_sys::Reflect::get(obj, &JsValue::from_str(method)).map_err(|e| js_err(&e))?;
    let f: js_sys::Function = f
        .dyn_into()
        .map_err(|_| format!("{method} is not a function"))?;
    f.call0(obj).map_err(|e| js_err(&e))
}

/// Fetches `path` relative to the page, streaming so progress can be shown.
async fn fetch_bytes(
    path: String,
    mailbox: SharedMailbox,
    ctx: egui::Context,
) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(&path))
        .await
        .map_err(|e| js_err(&e))?;
    let resp: web_sys::Response = resp
        .dyn_into()
        .map_err(|_| "fetch did not return a Response")?;
    if !resp.ok() {
        return Err(format!("HTTP {} for {path}", resp.status()));
    }
    let total = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|s| s.parse::<usize>().ok());
    let Some(body) = resp.body() else {
        let buf = JsFuture::from(resp.array_buffer().map_err(|e| js_err(&e))?)
            .await
            .map_err(|e| js_err(&e))?;
        return Ok(js_sys::Uint8Array::new(&buf).to_vec());
    };
    let reader = call0(&body, "getReader")?;
    let mut out = Vec::with_capacity(total.unwrap_or(0));
    loop {
        let promise: js_sys::Promise = call0(&reader, "read")?
            .dyn_into()
            .map_err(|_| "read() is not a promise")?;
        let chunk = JsFuture::from(promise).await.map_err(|e| js_err(&e))?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .map_err(|e| js_err(&e))?
            .as_bool()
            .unwrap_or(true);
        if done {
            break;
        }
        let value =
            js_sys::Reflect::get(&chunk, &JsValue::from_str("value")).map_err(|e| js_err(&e))?;
        out.extend(js_sys::Uint8Array::new(&value).to_vec());
        mailbox
            .borrow_mut()
            .progress
            .push((path.clone(), out.len(), total));
        ctx.request_repaint();
    }
    Ok(out)
}

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
    mailbox: SharedMailbox,
    saved_state: String,
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Hands `d` to the browser as a file download.
fn download(d: &super::export::Download) -> Result<(), String> {
    let doc = document().ok_or("no document")?;
    let body = doc.body().ok_or("no body")?;
    let arr = js_sys::Uint8Array::from(d.bytes.as_slice());
    let parts = js_sys::Array::of1(&arr);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(d.mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts)
        .map_err(|e| js_err(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_err(&e))?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(|e| js_err(&e))?
        .dyn_into()
        .map_err(|_| "not an anchor")?;
    a.set_href(&url);
    a.set_download(&d.name);
    body.append_child(&a).map_err(|e| js_err(&e))?;
    a.click();
    let _ = body.remove_child(&a);
    // Revoke the object URL once the browser has started the download.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}

/// Opens a file picker for a JSON weights file; the file is delivered like a dropped file.
fn pick_weights_file(mailbox: SharedMailbox, ctx: egui::Context) -> Result<(), String> {
    let doc = document().ok_or("no document")?;
    let input: web_sys::HtmlInputElement = doc
        .create_element("input")
        .map_err(|e| js_err(&e))?
        .dyn_into()
        .map_err(|_| "not an input")?;
    input.set_type("file");
    input.set_accept(".json,application/json");
    let input2 = input.clone();
    let on_change = wasm_bindgen::closure::Closure::once_into_js(move || {
        let Some(file) = input2.files().and_then(|f| f.get(0)) else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            let name = file.name();
            let result = JsFuture::from(file.array_buffer())
                .await
                .map(|buf| (name.clone(), js_sys::Uint8Array::new(&buf).to_vec()))
                .map_err(|e| format!("could not read {name}: {}", js_err(&e)));
            mailbox.borrow_mut().picked_weights = Some(result);
            ctx.request_repaint();
        });
    });
    input.set_onchange(Some(on_change.unchecked_ref()));
    input.click();
    Ok(())
}

impl WebApp {
    /// Starts downloads the lab asked for, reads dropped files, and delivers finished work.
    fn exchange(&mut self, ctx: &egui::Context) {
        for path in self.lab.assets.take_wanted() {
            let mb = self.mailbox.clone();
            let ctx2 = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = fetch_bytes(path.clone(), mb.clone(), ctx2.clone()).await;
                mb.borrow_mut().assets.push((path, result));
                ctx2.request_repaint();
            });
        }
        let dropped: Vec<egui::DroppedFileHandle> = ctx.input(|i| i.raw.dropped_files.clone());
        if !dropped.is_empty() {
            let mb = self.mailbox.clone();
            let ctx2 = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mut files = Vec::new();
                let mut err = None;
                for f in &dropped {
                    let name = f
                        .path()
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    match f.bytes_async().await {
                        Ok(b) => files.push((name, b)),
                        Err(e) => err = Some(format!("could not read {name}: {e}")),
                    }
                }
                mb.borrow_mut().dropped = Some(err.map_or(Ok(files), Err));
                ctx2.request_repaint();
            });
        }
        let mut mb = self.mailbox.borrow_mut();
        let from_workers: Vec<_> = mb.workers.drain(..).collect();
        for (p, r, t) in mb.progress.drain(..) {
            self.lab.assets.progress(&p, r, t);
        }
        let done: Vec<_> = mb.assets.drain(..).collect();
        let dropped = mb.dropped.take();
        let picked = mb.picked_weights.take();
        drop(mb);
        for (id, msg) in from_workers {
            match msg.and_then(|b| {
                crate::engine::decode::<Vec<crate::engine::Event>>(&b).map_err(|e| e.to_string())
            }) {
                Ok(events) => self.lab.deliver(id, events),
                Err(why) => {
                    let load = why.starts_with(LOAD_FAILED);
                    self.lab.worker_failed(id, &why, load);
                }
            }
        }
        match picked {
            Some(Ok((name, bytes))) => self.lab.import_weights(&name, &bytes),
            Some(Err(e)) => self.lab.error = Some(e),
            None => {}
        }
        for (p, r) in done {
            self.lab.asset_finished(&p, r);
        }
        match dropped {
            Some(Ok(files)) => self.lab.files_dropped(&files),
            Some(Err(e)) => self.lab.error = Some(e),
            None => {}
        }
        for d in std::mem::take(&mut self.lab.outbox.downloads) {
            if let Err(e) = download(&d) {
                self.lab.error = Some(format!("Could not save {}: {e}", d.name));
            }
        }
        if std::mem::take(&mut self.lab.outbox.pick_weights)
            && let Err(e) = pick_weights_file(self.mailbox.clone(), ctx.clone())
        {
            self.lab.error = Some(format!("Could not open a file picker: {e}"));
        }
        if self.lab.teach.take_primer_save()
            && let Some(s) = local_storage()
        {
            let _ = s.set_item(super::teach::PRIMER_KEY, "1");
        }
        if std::mem::take(&mut self.lab.outbox.forget_state)
            && let Some(s) = local_storage()
        {
            let _ = s.remove_item(STATE_KEY);
        }
    }

    /// Saves the share state (localStorage and the address bar) when it changed. The default
    /// state is not saved (a visit without a hash then starts from defaults anyway).
    fn save_state(&mut self) {
        let hash = self.lab.address_hash();
        if hash == self.saved_state {
            return;
        }
        self.saved_state = hash.clone();
        let is_default = hash == super::share::ShareState::default().to_hash();
        if let Some(s) = local_storage() {
            let _ = if is_default {
                s.remove_item(STATE_KEY)
            } else {
                s.set_item(STATE_KEY, &hash)
            };
        }
        if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{hash}")));
        }
    }
}

impl eframe::App for WebApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.exchange(ctx);
        self.lab.logic();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.lab.ui(ui);
        super::live_figure::web::sync(&mut self.lab, ui.ctx());
        let due = self
            .last_publish
            .is_none_or(|t| t.elapsed().as_secs_f64() >= 0.25);
        if due {
            self.last_publish = Some(Instant::now());
            set_text("alphacl-status", &self.lab.status_json().to_string());
            let rects = serde_json::to_string(&self.lab.widget_rects).unwrap_or_default();
            set_text("alphacl-widgets", &rects);
            self.save_state();
        }
        // Keep publishing status even when idle.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(250));
    }

    fn clear_color(&self, _visuals: &egui::Visuals) -> [f32; 4] {
        crate::app::palette::BACKGROUND.to_normalized_gamma_f32()
    }
}

/// Starts the app on `#the_canvas_id`.
pub fn start() {
    let runner = eframe::WebRunner::new();
    // eframe installed its panic handler above; chain ours so the page says what happened.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let reason = crate::spec::clip(&info.to_string());
        // Remember which link crashed, so the next load does not replay it.
        if let Some(s) = local_storage() {
            let rec = serde_json::json!({"hash": current_hash(), "reason": reason});
            let _ = s.set_item(CRASH_KEY, &rec.to_string());
        }
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
        // Create the WebGL2 context ourselves, without multisampling: egui anti-aliases its
        // shapes itself (feathering), and with a software rasteriser (SwiftShader, no GPU)
        // the 4× MSAA resolve of a default context costs more than the rest of the frame.
        // eframe's later `getContext("webgl2")` returns this same context.
        let attrs = js_sys::Object::new();
        for (k, v) in [
            ("antialias", false),
            ("depth", false),
            ("stencil", false),
            ("preserveDrawingBuffer", false),
        ] {
            let _ = js_sys::Reflect::set(&attrs, &JsValue::from_str(k), &JsValue::from_bool(v));
        }
        let _ = canvas.get_context_with_context_options("webgl2", &attrs);
        let options = eframe::WebOptions {
            dithering: false,
            ..eframe::WebOptions::default()
        };
        let result = runner
            .start(
                canvas,
                options,
                Box::new(|cc| {
                    // `set_visuals` would fill the slot of the theme egui starts in, and
                    // eframe then switches to the system theme: set the light slot and
                    // stay in it.
                    cc.egui_ctx.set_theme(egui::Theme::Light);
                    cc.egui_ctx
                        .set_visuals_of(egui::Theme::Light, crate::app::palette::lab_visuals());
                    let location = web_sys::window().map(|w| w.location());
                    let hash = location
                        .as_ref()
                        .and_then(|l| l.hash().ok())
                        .unwrap_or_default();
                    let mailbox = SharedMailbox::default();
                    let factory: Result<super::run::WorkerFactory, String> =
                        match workers_unavailable() {
                            Some(why) => Err(why),
                            None => {
                                let (mb, ctx) = (mailbox.clone(), cc.egui_ctx.clone());
                                Ok(Rc::new(move |id| spawn_worker(id, mb.clone(), ctx.clone())))
                            }
                        };
                    super::run::set_worker_factory(factory);
                    // Keys and values are decoded one by one by the link parser (decoding the
                    // whole hash first would turn a note's %26 into a separator).
                    let hash = hash.trim_start_matches('#').to_string();
                    let saved = local_storage()
                        .and_then(|s| s.get_item(STATE_KEY).ok().flatten())
                        .filter(|s| !s.is_empty());
                    let opened = if hash.is_empty() {
                        saved.clone().unwrap_or_default()
                    } else {
                        hash.clone()
                    };
                    let crashed = crash_of(&opened);
                    let mut lab = match (&hash[..], saved) {
                        _ if crashed.is_some() => {
                            let mut lab = LabApp::from_hash("");
                            lab.error = Some(format!(
                                "The last link crashed the lab ({}); the default run is open \
                                 instead, and your saved session is unchanged.",
                                crashed.clone().unwrap_or_default()
                            ));
                            lab
                        }
                        ("", Some(saved)) => {
                            let mut lab = LabApp::from_hash(&saved);
                            if lab.error.is_none() {
                                lab.notice = Some(
                                    "Restored your last session (Share & export > Reset to \
                                     defaults starts afresh)."
                                        .into(),
                                );
                            }
                            lab
                        }
                        _ => LabApp::from_hash(&hash),
                    };
                    if let Some(href) = location.as_ref().and_then(|l| l.href().ok()) {
                        lab.page_url = href.split('#').next().unwrap_or_default().to_string();
                    }
                    // A link that failed (a bad key, a crash) changes nothing that was saved and
                    // leaves the address bar as typed until the user changes something.
                    lab.teach.primer_dismissed = local_storage()
                        .and_then(|s| s.get_item(super::teach::PRIMER_KEY).ok().flatten())
                        .as_deref()
                        == Some("1");
                    let saved_state = if lab.error.is_some() {
                        lab.address_hash()
                    } else {
                        String::new()
                    };
                    Ok(Box::new(WebApp {
                        lab,
                        last_publish: None,
                        mailbox,
                        saved_state,
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
