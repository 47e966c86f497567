//! The egui lab: a control panel and views over one [`Trainer`].
//!
//! The app is immediate mode and time-sliced: [`LabApp::logic`] trains for a frame budget
//! (measured with `web-time`) and [`LabApp::ui`] draws the latest snapshot. Heavy metrics are
//! computed by the trainer every `eval` steps and cached, never per frame. This module depends
//! on egui only; the browser shell (eframe, DOM status element, URL hash) is in `web`.

pub mod assets;
pub mod bench;
pub mod controls;
pub mod palette;
pub mod views;
#[cfg(target_arch = "wasm32")]
pub mod web;

use std::collections::BTreeMap;

use web_time::{Duration, Instant};

use crate::train::{RunConfig, TrainError, Trainer, config::split_pairs};
use assets::Assets;
use bench::BenchRunner;
use controls::ControlPanel;
use views::{AlphaView, CurvesView, ScatterView};

/// Which view fills the central area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Embedding scatter + loss curves.
    Overview,
    /// The α heat map.
    Alpha,
    /// Curves only, large.
    Curves,
    /// The data set and its augmented views.
    Data,
    /// Collapse metrics: spectrum, effective rank, alignment/uniformity.
    Collapse,
    /// The paper's max-player experiments and the Theorem 1 residual.
    Theory,
    /// Min and max player stepped separately.
    Players,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Alpha,
        Tab::Curves,
        Tab::Data,
        Tab::Collapse,
        Tab::Theory,
        Tab::Players,
    ];

    /// Tab label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Alpha => "α heat map",
            Tab::Curves => "Curves",
            Tab::Data => "Data",
            Tab::Collapse => "Collapse",
            Tab::Theory => "Theory",
            Tab::Players => "Players",
        }
    }

    /// Key used in the URL (`view=`).
    pub fn key(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Alpha => "alpha",
            Tab::Curves => "curves",
            Tab::Data => "data",
            Tab::Collapse => "collapse",
            Tab::Theory => "theory",
            Tab::Players => "players",
        }
    }
}

/// Frame-rate and throughput statistics.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Smoothed frames per second.
    pub fps: f64,
    /// Smoothed training steps per second.
    pub steps_per_sec: f64,
    /// Duration of the last frame's training slice (ms).
    pub train_ms: f64,
    last_frame: Option<Instant>,
}

/// The whole lab.
pub struct LabApp {
    /// The current run (None only if even the default config failed).
    pub trainer: Option<Trainer>,
    /// Controls (their edited config applies on Reset, except loss and LR which are live).
    pub controls: ControlPanel,
    /// Whether training advances every frame.
    pub running: bool,
    /// Error shown in a banner (bad URL config, divergence).
    pub error: Option<String>,
    /// Selected central view.
    pub tab: Tab,
    /// Statistics.
    pub stats: Stats,
    /// Screen rectangles of named widgets `[x, y, w, h]` in points (for browser tests).
    pub widget_rects: BTreeMap<String, [f32; 4]>,
    /// Loaded data files and downloads in flight.
    pub assets: Assets,
    /// A run waiting for its data file (and whether to start it playing).
    pub pending_run: Option<(RunConfig, bool)>,
    /// The in-page benchmark (`#bench=standard`), if requested.
    pub bench: Option<BenchRunner>,
    data_view: views::DataView,
    curves: CurvesView,
    scatter: ScatterView,
    alpha: AlphaView,
    collapse: views::CollapseView,
    theory: views::TheoryView,
    players: views::PlayersView,
}

impl Default for LabApp {
    fn default() -> Self {
        Self::new(RunConfig::default())
    }
}

impl LabApp {
    /// A lab with a fresh run of `config` (paused).
    pub fn new(config: RunConfig) -> Self {
        let needs_asset = config.data.asset_path().is_some();
        let first = if needs_asset {
            RunConfig::default()
        } else {
            config.clone()
        };
        let (trainer, error) = match Trainer::new(first) {
            Ok(t) => (Some(t), None),
            Err(e) => (Trainer::new(RunConfig::default()).ok(), Some(e.to_string())),
        };
        let cfg = if needs_asset {
            config.clone()
        } else {
            trainer
                .as_ref()
                .map_or(config.clone(), |t| t.config.clone())
        };
        let mut app = Self {
            trainer,
            controls: ControlPanel::new(cfg),
            running: false,
            error,
            tab: Tab::Overview,
            stats: Stats::default(),
            widget_rects: BTreeMap::new(),
            curves: CurvesView::default(),
            scatter: ScatterView::default(),
            alpha: AlphaView::default(),
            collapse: views::CollapseView::default(),
            theory: views::TheoryView::default(),
            players: views::PlayersView::default(),
            assets: Assets::default(),
            pending_run: None,
            bench: None,
            data_view: views::DataView::default(),
        };
        if needs_asset {
            app.start_run(config, false);
        }
        app
    }

    /// Starts a run of `cfg`; a run whose data file is not loaded yet waits for it (the
    /// current run stays on screen), then starts (playing if `play`).
    pub fn start_run(&mut self, cfg: RunConfig, play: bool) {
        if let Some(path) = cfg.data.asset_path() {
            let Some(ds) = self.assets.loaded.get(path) else {
                self.assets.want(path);
                self.pending_run = Some((cfg, play));
                self.running = false;
                return;
            };
            let result = cfg
                .data
                .check_loaded(ds)
                .map_err(|e| TrainError::Config(e.0))
                .and_then(|()| Trainer::with_data(cfg.clone(), ds.clone()));
            self.install(result, play);
        } else {
            self.install(Trainer::new(cfg), play);
        }
    }

    fn install(&mut self, result: Result<Trainer, TrainError>, play: bool) {
        match result {
            Ok(t) => {
                self.controls =
                    ControlPanel::with_budget(t.config.clone(), self.controls.budget_ms);
                self.trainer = Some(t);
                self.error = None;
                self.running = play;
            }
            Err(e) => {
                self.error = Some(e.to_string());
                self.running = false;
            }
        }
    }

    /// The shell delivers a downloaded file (or the reason it could not).
    pub fn asset_finished(&mut self, path: &str, bytes: Result<Vec<u8>, String>) {
        match self.assets.finish(path, bytes) {
            Ok(()) => {
                if let Some((cfg, play)) = self.pending_run.take() {
                    if cfg.data.asset_path() == Some(path) {
                        self.start_run(cfg, play);
                    } else {
                        self.pending_run = Some((cfg, play));
                    }
                }
            }
            Err(msg) => {
                if self
                    .pending_run
                    .as_ref()
                    .and_then(|(c, _)| c.data.asset_path())
                    == Some(path)
                {
                    self.pending_run = None;
                    if let Some(t) = &self.trainer {
                        self.controls =
                            ControlPanel::with_budget(t.config.clone(), self.controls.budget_ms);
                    }
                }
                self.error = Some(msg);
            }
        }
    }

    /// Official CIFAR-10 binary files dropped onto the page: validated, downsampled to the
    /// side of the current CIFAR spec (16 by default) and used for a new run.
    pub fn files_dropped(&mut self, files: &[(String, Vec<u8>)]) {
        let side = match self.controls.config.data {
            crate::data::DataSpec::Cifar { size } => size,
            _ => 16,
        };
        let named: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        match crate::data::cifar::parse_official_bin(&named, side) {
            Ok(ds) => {
                let mut cfg = self.controls.config.clone();
                cfg.data = crate::data::DataSpec::Cifar { size: side };
                if let Some(path) = cfg.data.asset_path() {
                    self.assets.loaded.insert(path.to_string(), ds);
                }
                self.start_run(cfg, false);
            }
            Err(e) => {
                self.error = Some(format!(
                    "The dropped files are not usable CIFAR-10 binaries: {e}"
                ))
            }
        }
    }

    /// Builds the lab from URL-hash parameters: run-config keys plus `autoplay=1` and `view=`.
    /// An invalid config shows a readable error and falls back to the default run.
    pub fn from_hash(hash: &str) -> Self {
        let mut cfg = RunConfig::default();
        let mut autoplay = false;
        let mut tab = Tab::Overview;
        let mut bench = false;
        let mut errors = Vec::new();
        for (k, v) in split_pairs(hash) {
            match k.as_str() {
                "autoplay" => autoplay = v == "1" || v == "true",
                "view" => match Tab::ALL.iter().find(|t| t.key() == v) {
                    Some(t) => tab = *t,
                    None => errors.push(format!("unknown view '{v}'")),
                },
                "bench" => {
                    if v == "standard" {
                        bench = true;
                    } else {
                        errors.push(format!("unknown benchmark '{v}' (known: standard)"));
                    }
                }
                _ => {
                    if let Err(e) = cfg.set(&k, &v) {
                        errors.push(e.0);
                    }
                }
            }
        }
        if errors.is_empty()
            && let Err(e) = cfg.validate()
        {
            errors.push(e.0);
        }
        let wants_asset = errors.is_empty() && cfg.data.asset_path().is_some();
        let mut app = if errors.is_empty() {
            Self::new(cfg)
        } else {
            let mut a = Self::new(RunConfig::default());
            a.error = Some(format!(
                "The link's run configuration is invalid — using the default run instead. {}",
                errors.join("; ")
            ));
            a
        };
        app.tab = tab;
        if wants_asset {
            if let Some((_, play)) = &mut app.pending_run {
                *play = autoplay;
            }
        } else {
            app.running = autoplay && app.trainer.is_some();
        }
        if bench {
            app.bench = Some(BenchRunner::standard());
            app.running = false;
        }
        app
    }

    /// Restarts the run from the controls' config (new data, new init, empty history).
    pub fn reset(&mut self) {
        let cfg = self.controls.config.clone();
        self.start_run(cfg, false);
    }

    /// One optimisation step (the Step button).
    pub fn single_step(&mut self) {
        if let Some(t) = &mut self.trainer {
            if let Err(e) = t.step() {
                self.on_failure(&e);
            } else {
                t.refresh_snapshot();
            }
        }
    }

    fn on_failure(&mut self, e: &TrainError) {
        self.running = false;
        self.error = Some(e.to_string());
    }

    /// Per-frame work outside drawing: the training time slice.
    pub fn logic(&mut self) {
        let now = Instant::now();
        if let Some(last) = self.stats.last_frame {
            let dt = now.duration_since(last).as_secs_f64();
            if dt > 0.0 {
                let inst = 1.0 / dt;
                self.stats.fps = if self.stats.fps == 0.0 {
                    inst
                } else {
                    0.9 * self.stats.fps + 0.1 * inst
                };
            }
        }
        self.stats.last_frame = Some(now);
        if let Some(b) = &mut self.bench
            && !b.done()
        {
            b.slice();
            return;
        }
        if !self.running {
            return;
        }
        let budget = Duration::from_secs_f64(f64::from(self.controls.budget_ms) / 1000.0);
        let Some(t) = &mut self.trainer else {
            return;
        };
        let start = Instant::now();
        let result = t.run_for(budget);
        let elapsed = start.elapsed().as_secs_f64();
        self.stats.train_ms = elapsed * 1000.0;
        match result {
            Ok(n) => {
                if elapsed > 0.0 {
                    let inst = n as f64 / elapsed;
                    let share = elapsed * self.stats.fps.max(1.0);
                    let sps = inst * share.min(1.0);
                    self.stats.steps_per_sec = if self.stats.steps_per_sec == 0.0 {
                        sps
                    } else {
                        0.9 * self.stats.steps_per_sec + 0.1 * sps
                    };
                }
            }
            Err(e) => self.on_failure(&e),
        }
        // Collapse metrics are recorded for every new snapshot (cached by snapshot step), so
        // their history is complete even while another view is open.
        if let Some(t) = &self.trainer {
            self.collapse.refresh(t);
        }
    }

    /// The status object published for tests and tools (`#alphacl-status`).
    pub fn status_json(&self) -> serde_json::Value {
        let t = self.trainer.as_ref();
        let last_loss = t.and_then(|t| t.history.loss.last().copied());
        serde_json::json!({
            "ready": t.is_some(),
            "running": self.running,
            "step": t.map_or(0, Trainer::step_count),
            "loss": last_loss.filter(|l| l.is_finite()),
            "loss_spec": t.map(|t| t.config.loss.to_text()),
            "dataset": t.map(|t| t.config.data.to_text()),
            "config": t.map(|t| t.config.to_text()),
            "knn_acc": t.and_then(|t| t.history.last_knn()),
            "probe_acc": t.and_then(|t| t.history.last_probe()),
            "alpha_sparsity": t.map(|t| views::alpha_stats(&t.snapshot.alpha).sparsity),
            "steps_per_sec": self.stats.steps_per_sec,
            "fps": self.stats.fps,
            "view": self.tab.key(),
            "loading": self.assets.progress_text(),
            "waiting_for_data": self.pending_run.as_ref().map(|(c, _)| c.data.to_text()),
            "bench": self.bench.as_ref().map(BenchRunner::to_json),
            "error": self.error,
        })
    }

    /// Records a widget's rectangle under `name` (for browser tests).
    pub fn note_rect(rects: &mut BTreeMap<String, [f32; 4]>, name: &str, r: egui::Rect) {
        rects.insert(name.to_string(), [r.min.x, r.min.y, r.width(), r.height()]);
    }

    /// Draws the whole lab.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let mut rects = std::mem::take(&mut self.widget_rects);
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("α-CL Lab");
                ui.label(
                    "— watch contrastive learning as coordinate-wise optimisation (Tian 2022)",
                );
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(format!(
                        "{:.0} fps · {:.0} steps/s",
                        self.stats.fps, self.stats.steps_per_sec
                    ));
                });
            });
        });
        let actions = egui::Panel::left("controls")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .show(ui, |ui| {
                        self.controls
                            .ui(ui, self.trainer.as_ref(), self.running, &mut rects)
                    })
                    .inner
            })
            .inner;
        self.apply(actions);
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(err) = self.error.clone() {
                self.error_banner(ui, &err, &mut rects);
            }
            if let Some(p) = self.assets.progress_text() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(p);
                });
            }
            if let Some(b) = &self.bench {
                ui.group(|ui| {
                    ui.strong("Benchmark: standard workload (MLP 768→512→128, 2B = 512, Adam), single thread");
                    for f in &b.figures {
                        ui.label(format!(
                            "{:<32} {:>3} steps  {:6.1} steps/s  {:5.1} GFLOP/s",
                            f.loss, f.steps, f.steps_per_sec, f.gflops
                        ));
                    }
                    if b.done() {
                        ui.label("done");
                    } else {
                        ui.ctx().request_repaint();
                    }
                });
            }
            ui.horizontal(|ui| {
                for tab in Tab::ALL {
                    let r = ui.selectable_value(&mut self.tab, tab, tab.label());
                    Self::note_rect(&mut rects, &format!("tab:{}", tab.key()), r.rect);
                }
            });
            ui.separator();
            let Some(t) = &self.trainer else {
                ui.label("No run: fix the configuration in the panel and press Reset.");
                return;
            };
            match self.tab {
                Tab::Overview => {
                    let h = ui.available_height();
                    ui.columns(2, |cols| {
                        self.scatter.ui(&mut cols[0], t, h);
                        self.curves.ui(&mut cols[1], t, h);
                    });
                }
                Tab::Alpha => self.alpha.ui(ui, t),
                Tab::Data => self.data_view.ui(ui, t),
                Tab::Collapse => self.collapse.ui(ui, t),
                Tab::Theory => self.theory.ui(ui, t),
                Tab::Players => {
                    if let Some(t) = self.trainer.as_mut()
                        && self.players.ui(ui, t)
                    {
                        self.running = false;
                    }
                }
                Tab::Curves => {
                    let h = ui.available_height();
                    self.curves.ui(ui, t, h);
                }
            }
        });
        self.widget_rects = rects;
        if self.running {
            ui.ctx().request_repaint();
        }
    }

    fn error_banner(
        &mut self,
        ui: &mut egui::Ui,
        err: &str,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) {
        egui::Frame::new()
            .fill(egui::Color32::from_rgb(255, 228, 225))
            .stroke(egui::Stroke::new(1.0, egui::Color32::from_rgb(200, 60, 60)))
            .inner_margin(8.0)
            .show(ui, |ui| {
                ui.colored_label(egui::Color32::from_rgb(140, 20, 20), err);
                ui.horizontal(|ui| {
                    let diverged = self.trainer.as_ref().is_some_and(|t| t.failure.is_some());
                    if diverged {
                        let r = ui.button("Lower the learning rate ×0.1 and continue");
                        Self::note_rect(rects, "lower_lr", r.rect);
                        if r.clicked()
                            && let Some(t) = &mut self.trainer
                        {
                            let lr = t.config.optim.lr() * 0.1;
                            t.set_lr(lr);
                            t.resume();
                            self.controls.config.optim = t.config.optim.clone();
                            self.error = None;
                            self.running = true;
                        }
                        if ui.button("Reset").clicked() {
                            self.reset();
                        }
                    }
                    if ui.button("Dismiss").clicked() {
                        self.error = None;
                    }
                });
            });
    }

    fn apply(&mut self, actions: controls::Actions) {
        if actions.reset {
            self.reset();
        }
        if let Some(t) = &mut self.trainer {
            if let Some(spec) = actions.loss {
                t.set_loss(spec);
                t.refresh_snapshot();
            }
            if let Some(lr) = actions.lr {
                t.set_lr(lr);
            }
        }
        if actions.play {
            if self.trainer.as_ref().is_some_and(|t| t.failure.is_some()) {
                if let Some(t) = &mut self.trainer {
                    t.resume();
                }
                self.error = None;
            }
            self.running = true;
        }
        if actions.pause {
            self.running = false;
        }
        if actions.step {
            self.running = false;
            self.single_step();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_hash_falls_back_to_default_with_error() {
        let app = LabApp::from_hash("#loss=nope&autoplay=1");
        assert!(
            app.error
                .as_deref()
                .is_some_and(|e| e.contains("unknown loss"))
        );
        assert_eq!(
            app.trainer.as_ref().map(|t| t.config.clone()),
            Some(RunConfig::default())
        );
    }

    #[test]
    fn good_hash_selects_run_and_autoplay() {
        let app =
            LabApp::from_hash("#loss=acl-direct:tau=0.3,p=4,eps=0&batch=32&autoplay=1&view=alpha");
        assert!(app.error.is_none());
        assert!(app.running);
        assert_eq!(app.tab, Tab::Alpha);
        let t = app.trainer.as_ref().map(|t| t.config.loss.to_text());
        assert_eq!(t.as_deref(), Some("acl-direct:tau=0.3,p=4,eps=0"));
    }

    #[test]
    fn logic_trains_when_running() {
        let mut app = LabApp::from_hash("autoplay=1");
        app.controls.budget_ms = 5.0;
        app.logic();
        let s = app.status_json();
        assert!(s["step"].as_u64().unwrap_or(0) >= 1, "{s}");
        assert!(s["loss"].as_f64().is_some_and(f64::is_finite));
    }
}
