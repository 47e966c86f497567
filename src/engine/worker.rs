//! The Web Worker side of a run (wasm32 only): a [`RunEngine`] driven by the page's messages.
//!
//! - In: `[Uint8Array command, Uint8Array file?]` — an encoded [`Command`] and, beside a
//!   `Start` on a prepared data file, the file's bytes.
//! - Out: [`READY`] once it listens, then `Uint8Array`s of encoded `Vec<Event>` (their buffers
//!   transferred, not copied), or a string when the worker panicked.
//!
//! While there is work the worker trains in slices of at most [`SLICE_MS`], yielding to its
//! event loop between them through a `MessageChannel` (no timer clamping), so a command waits
//! at most one slice. Updates go out at most every [`POST_MS`] while training, and at once
//! after a command.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_time::{Duration, Instant};

use super::{Command, RunEngine, SLICE_MS, decode, encode};

/// Shortest interval between two updates while training (ms).
pub const POST_MS: f64 = 30.0;

/// What the worker posts once it listens: messages posted to a worker before its script has
/// set `onmessage` (while the wasm module still compiles) would be lost, so the page holds
/// its commands until this arrives.
pub const READY: &str = "alphacl-worker-ready";

struct Worker {
    engine: RunEngine,
    scope: web_sys::DedicatedWorkerGlobalScope,
    tick_port: web_sys::MessagePort,
    last_post: Option<Instant>,
    scheduled: bool,
}

impl Worker {
    fn post_events(&mut self) {
        let events = self.engine.take_events();
        self.last_post = Some(Instant::now());
        if events.is_empty() {
            return;
        }
        let bytes = encode(&events);
        let arr = js_sys::Uint8Array::from(bytes.as_slice());
        let transfer = js_sys::Array::of1(&arr.buffer());
        let _ = self.scope.post_message_with_transfer(&arr, &transfer);
    }

    /// Schedules the next slice: at once through the channel, or after a pause when the run
    /// trains only a share of the time.
    fn schedule(&mut self, after_ms: f64) {
        if self.scheduled || !self.engine.busy() {
            return;
        }
        self.scheduled = true;
        if after_ms <= 0.0 {
            let _ = self.tick_port.post_message(&JsValue::NULL);
        } else {
            let port = self.tick_port.clone();
            let cb = Closure::once_into_js(move || {
                let _ = port.post_message(&JsValue::NULL);
            });
            let _ = self
                .scope
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    cb.unchecked_ref(),
                    after_ms as i32,
                );
        }
    }

    fn tick(&mut self) {
        self.scheduled = false;
        let share = self.engine.share();
        let slice = SLICE_MS * share.min(1.0);
        self.engine
            .pump(Duration::from_secs_f64(slice.max(1.0) / 1000.0));
        let due = self
            .last_post
            .is_none_or(|t| t.elapsed().as_secs_f64() * 1000.0 >= POST_MS);
        if due || !self.engine.busy() {
            self.post_events();
        }
        let pause = if share >= 1.0 {
            0.0
        } else {
            slice * (1.0 - share) / share
        };
        self.schedule(pause);
    }

    fn on_message(&mut self, data: JsValue) {
        let arr: js_sys::Array = data.unchecked_into();
        let cmd = js_sys::Uint8Array::new(&arr.get(0)).to_vec();
        let file = arr.get(1);
        let file = (!file.is_undefined() && !file.is_null())
            .then(|| js_sys::Uint8Array::new(&file).to_vec());
        match decode::<Command>(&cmd) {
            Ok(c) => self.engine.handle(c, file.as_deref()),
            Err(e) => {
                let _ = self.scope.post_message(&JsValue::from_str(&e.to_string()));
            }
        }
        self.post_events();
        self.schedule(0.0);
    }
}

/// Entry point of the worker binary.
pub fn start() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    {
        let scope = scope.clone();
        std::panic::set_hook(Box::new(move |info| {
            let _ = scope.post_message(&JsValue::from_str(&format!(
                "the training worker stopped: {info}"
            )));
        }));
    }
    let Ok(channel) = web_sys::MessageChannel::new() else {
        let _ = scope.post_message(&JsValue::from_str(
            "the training worker has no MessageChannel",
        ));
        return;
    };
    let worker = Rc::new(RefCell::new(Worker {
        engine: RunEngine::new(),
        scope: scope.clone(),
        tick_port: channel.port2(),
        last_post: None,
        scheduled: false,
    }));
    let w = worker.clone();
    let on_tick = Closure::<dyn FnMut()>::new(move || w.borrow_mut().tick());
    channel
        .port1()
        .set_onmessage(Some(on_tick.as_ref().unchecked_ref()));
    on_tick.forget();
    let w = worker;
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            w.borrow_mut().on_message(ev.data())
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let _ = scope.post_message(&JsValue::from_str(READY));
}
