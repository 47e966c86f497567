//! The egui lab: a control panel and views over runs.
//!
//! Every run is a [`Run`]: the [`RunMirror`](crate::engine::RunMirror) the views draw and the
//! link to its engine — its own Web Worker in the browser, or, where workers are unavailable
//! (and in native tests), a [`RunEngine`](crate::engine::RunEngine) that [`LabApp::logic`]
//! pumps within the frame budget. Views receive what they draw and return commands; this
//! module applies them (sending [`Command`]s to the runs) and applies the engines' events
//! ([`LabApp::deliver`]). Heavy metrics are computed by the engine at every snapshot, never
//! per frame. This module depends on egui only; the browser shell (eframe, workers, DOM
//! status element, URL hash) is in `web`.

pub mod assets;
pub use crate::engine::bench;
pub mod controls;
pub mod export;
pub mod layout;
pub mod live_figure;
pub mod palette;
pub mod run;
pub mod share;
pub mod teach;
pub mod tour;
pub mod views;
#[cfg(target_arch = "wasm32")]
pub mod web;

use std::collections::BTreeMap;
use std::sync::Arc;

use web_time::{Duration, Instant};

use crate::data::Dataset;
use crate::engine::{Command, Event, RunMirror};
use crate::train::{RunConfig, TrainError};
use assets::Assets;
use bench::BenchRunner;
use controls::ControlPanel;
use export::Outbox;
use run::Run;
use share::{MAX_RUNS, ShareState};
use views::{AlphaView, CompareAction, CompareView, CurvesView, RunRef, ScatterView};

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
    /// Several runs side by side.
    Compare,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Tab; 8] = [
        Tab::Overview,
        Tab::Alpha,
        Tab::Curves,
        Tab::Data,
        Tab::Collapse,
        Tab::Theory,
        Tab::Players,
        Tab::Compare,
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
            Tab::Compare => "Compare",
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
            Tab::Compare => "compare",
        }
    }
}

/// Frame-rate and throughput statistics.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Smoothed frames per second.
    pub fps: f64,
    /// Training steps per second over the last second of wall time.
    pub steps_per_sec: f64,
    /// (time, steps trained by the lab so far) at recent frames, for `steps_per_sec`.
    recent: std::collections::VecDeque<(Instant, usize)>,
    /// Steps of the edited run trained by the lab (not counting single steps).
    trained: usize,
    /// Duration of the last frame's training slice (ms).
    pub train_ms: f64,
    /// This frame's training budget (ms), from [`controls::Speed::next_budget_ms`]; 0 before
    /// the first frame (then the speed setting applies).
    pub budget_ms: f64,
    last_frame: Option<Instant>,
}

/// Every run as the views see it, ordered by colour number.
fn run_refs(runs: &[Run], focus_colour: usize) -> Vec<RunRef<'_>> {
    let mut v: Vec<RunRef> = runs
        .iter()
        .map(|r| RunRef {
            colour: r.colour,
            focused: r.colour == focus_colour,
            run: &r.view,
        })
        .collect();
    v.sort_by_key(|r| r.colour);
    v
}

/// The view of the run with colour `focus_colour`.
fn focused_view(runs: &[Run], focus_colour: usize) -> Option<&RunMirror> {
    runs.iter()
        .find(|r| r.colour == focus_colour)
        .map(|r| &r.view)
}

/// Shortest interval between two loss changes sent while a slider is dragged (ms).
pub const LIVE_LOSS_MS: f64 = 50.0;

/// Size of the wasm linear memory in MB (the heap the app has grown to); None natively.
pub fn wasm_memory_mb() -> Option<f64> {
    #[cfg(target_arch = "wasm32")]
    {
        Some(core::arch::wasm32::memory_size(0) as f64 * 65536.0 / 1048576.0)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        None
    }
}

/// The whole lab.
pub struct LabApp {
    /// Every run, ordered by colour (empty only if even the default config failed).
    pub runs: Vec<Run>,
    /// Colour number of the run the control panel edits.
    pub focus_colour: usize,
    /// Controls (their edited config applies on Reset, except loss and LR which are live).
    pub controls: ControlPanel,
    /// Whether training advances every frame.
    pub running: bool,
    /// Error shown in a banner (bad URL config, divergence, bad import).
    pub error: Option<String>,
    /// The live figure window (Share & export > Live figure…).
    pub live_figure: live_figure::LiveFigure,
    /// Information shown in a banner (restored session, imported weights).
    pub notice: Option<String>,
    /// The active tour preset (index into [`tour::PRESETS`]), whose "what to watch" is shown.
    pub preset: Option<usize>,
    /// Selected central view.
    pub tab: Tab,
    /// Hidden controls and views (`hide=` in the link).
    pub hidden: Vec<String>,
    /// The page address without the hash (for "Copy link"); set by the shell.
    pub page_url: String,
    /// Browser effects requested by the last frames (downloads, file picker).
    pub outbox: Outbox,
    /// Statistics.
    pub stats: Stats,
    /// Screen rectangles of named widgets `[x, y, w, h]` in points (for browser tests).
    pub widget_rects: BTreeMap<String, [f32; 4]>,
    /// The last frame's layout: narrow screen, folded controls, the plots drawn ([`layout`]).
    pub layout: layout::Layout,
    /// Loaded data files and downloads in flight.
    pub assets: Assets,
    /// Runs waiting for their data file (and whether to start them playing).
    pub pending_run: Option<(Vec<RunConfig>, bool)>,
    /// The in-page benchmark (`#bench=standard`), if requested.
    pub bench: Option<BenchRunner>,
    /// `#bench=cifar`: whether the preset's engine was asked to run it.
    bench_started: bool,
    /// The weights file being imported (named in the engine's answer).
    pub importing: Option<String>,
    /// The run (id, generation) whose engine computes the Theorem 1 readout for the Theory view.
    theorem1_watched: Option<(u64, u32)>,
    /// The loss last sent to the edited run while the panel's sliders move, and when.
    sent_loss: Option<(String, Instant)>,
    /// Teaching aids: lesson-link builder, teacher's note, primer, shortcuts ([`teach`]).
    pub teach: teach::TeachState,
    data_view: views::DataView,
    curves: CurvesView,
    scatter: ScatterView,
    alpha: AlphaView,
    collapse: views::CollapseView,
    theory: views::TheoryView,
    players: views::PlayersView,
    compare: CompareView,
}

impl Default for LabApp {
    fn default() -> Self {
        Self::new(RunConfig::default())
    }
}

impl LabApp {
    /// A lab with a fresh run of `config` (paused).
    pub fn new(config: RunConfig) -> Self {
        let mut app = Self {
            runs: Vec::new(),
            focus_colour: 0,
            controls: ControlPanel::new(config.clone()),
            running: false,
            error: None,
            live_figure: Default::default(),
            notice: None,
            preset: None,
            tab: Tab::Overview,
            hidden: Vec::new(),
            page_url: "http://127.0.0.1:8080/".into(),
            outbox: Outbox::default(),
            stats: Stats::default(),
            widget_rects: BTreeMap::new(),
            layout: Default::default(),
            curves: CurvesView::default(),
            scatter: ScatterView::default(),
            alpha: AlphaView::default(),
            collapse: views::CollapseView::default(),
            theory: views::TheoryView::default(),
            players: views::PlayersView::default(),
            compare: CompareView::default(),
            assets: Assets::default(),
            pending_run: None,
            bench: None,
            teach: teach::TeachState::default(),
            data_view: views::DataView::default(),
            sent_loss: None,
            bench_started: false,
            theorem1_watched: None,
            importing: None,
        };
        if config.data.asset_path().is_some() {
            // Show the default run while the data file loads.
            let built = app.prepare(&RunConfig::default());
            app.install_runs(built.into_iter().collect(), false);
        }
        app.start_runs(vec![config], false);
        if app.runs.is_empty() {
            let e = app.error.take();
            let built = app.prepare(&RunConfig::default());
            app.install_runs(built.into_iter().collect(), false);
            app.error = e;
        }
        app
    }

    /// The run the control panel edits.
    pub fn focused(&self) -> Option<&Run> {
        self.runs.iter().find(|r| r.colour == self.focus_colour)
    }

    /// The run the control panel edits (mutable).
    pub fn focused_mut(&mut self) -> Option<&mut Run> {
        let c = self.focus_colour;
        self.runs.iter_mut().find(|r| r.colour == c)
    }

    /// What the views draw of the edited run.
    pub fn view(&self) -> Option<&RunMirror> {
        self.focused().map(|r| &r.view)
    }

    /// Sends `cmd` to run `id` and handles its immediate events (in-frame runs).
    fn send_to(&mut self, id: u64, cmd: Command) {
        if let Some(r) = self.runs.iter_mut().find(|r| r.id == id) {
            let events = r.send(cmd);
            self.deliver(id, events);
        }
    }

    /// Sends `cmd` to the edited run.
    fn send_focused(&mut self, cmd: Command) {
        if let Some(id) = self.focused().map(|r| r.id) {
            self.send_to(id, cmd);
        }
    }

    /// Sends `cmd` to every run.
    fn send_all(&mut self, cmd: &Command) {
        let ids: Vec<u64> = self.runs.iter().map(|r| r.id).collect();
        for id in ids {
            self.send_to(id, cmd.clone());
        }
    }

    /// Events from the engine of run `id` (a worker's arrive through the shell).
    pub fn deliver(&mut self, id: u64, events: Vec<Event>) {
        let Some(run) = self.runs.iter_mut().find(|r| r.id == id) else {
            return;
        };
        let colour = run.colour;
        let focused = colour == self.focus_colour;
        let was_failed = run.view.failure.is_some();
        let rest = run.receive(events);
        let generation = run.view.generation;
        let failure = run.view.failure.clone();
        if !was_failed && let Some(f) = failure {
            if focused {
                self.on_failure(&f);
            } else {
                self.notice = Some(format!(
                    "Run {} diverged and stopped; the other runs continue (lower its \
                     learning rate or change its loss, then Restart all).",
                    colour + 1
                ));
            }
        }
        for ev in rest {
            match ev {
                Event::Update(_) => {}
                Event::StartFailed {
                    generation: g,
                    error,
                } if g == generation => {
                    let who = if focused {
                        String::new()
                    } else {
                        format!("run {}: ", colour + 1)
                    };
                    self.error = Some(format!("{who}{error}"));
                    self.running = false;
                }
                Event::StartFailed { .. } => {}
                Event::Weights(text) => self.outbox.downloads.push(export::Download {
                    name: "alphacl-weights.json".into(),
                    mime: "application/json",
                    bytes: text.into_bytes(),
                }),
                Event::Imported(Ok(())) => {
                    let name = self.importing.take().unwrap_or_else(|| "the file".into());
                    self.error = None;
                    self.notice = Some(format!(
                        "Loaded the encoder weights from {name}; training continues from them \
                         (optimiser moments reset)."
                    ));
                }
                Event::Imported(Err(e)) => {
                    let name = self.importing.take().unwrap_or_else(|| "the change".into());
                    self.error = Some(format!(
                        "Could not import {name}: {e}. The current run is unchanged."
                    ));
                }
                Event::Players(p) if focused && p.generation == generation => {
                    self.players.receive(*p);
                    self.running = false;
                }
                Event::Players(_) => {}
                Event::Bench(b) => self.bench = Some(*b),
            }
        }
    }

    /// A worker run whose worker stopped (panicked or failed to load): the reason is shown.
    /// A run's worker stopped: with `fall_back` (it never loaded) the run restarts in the
    /// page's frames; otherwise (it panicked) the run stops. The banner says why.
    pub fn worker_failed(&mut self, id: u64, why: &str, fall_back: bool) {
        let play = self.running;
        let Some(r) = self.runs.iter_mut().find(|r| r.id == id) else {
            return;
        };
        let colour = r.colour;
        if fall_back {
            r.train_in_frame(play);
            self.error = Some(format!(
                "run {}: {why}. It restarted in the page instead of a worker.",
                colour + 1
            ));
        } else {
            r.view.running = false;
            r.view.failure = Some(TrainError::Config(crate::spec::clip(why)));
            self.running = false;
            self.error = Some(format!("run {}: {}", colour + 1, crate::spec::clip(why)));
        }
    }

    /// Starts a new edited run of `cfg`, keeping compared runs. A run whose data file is not
    /// loaded yet waits for it (the current runs stay on screen), then starts alone (playing
    /// if `play`).
    pub fn start_run(&mut self, cfg: RunConfig, play: bool) {
        match self.prepare(&cfg) {
            None => {
                self.pending_run = Some((vec![cfg], play));
                self.running = false;
            }
            Some(Ok((cfg, data, file))) => {
                self.controls = self.controls.showing(cfg.clone());
                if let Some(r) = self.focused_mut() {
                    r.view.data = data;
                    r.file = file;
                    r.restart_with(cfg, play);
                } else {
                    self.runs.push(Run::start(0, cfg, data, file, play));
                    self.focus_colour = 0;
                }
                self.error = None;
                self.running = play;
                self.stats.trained = 0;
            }
            Some(Err(e)) => {
                self.error = Some(e.to_string());
                self.running = false;
            }
        }
    }

    /// Checks `cfg` and finds its data: `None` when a data file is still missing (it is then
    /// requested). Toy data are generated here for the views (the engine generates its own).
    #[allow(clippy::type_complexity)]
    fn prepare(
        &mut self,
        cfg: &RunConfig,
    ) -> Option<Result<(RunConfig, Arc<Dataset>, Option<Arc<[u8]>>), TrainError>> {
        // Nothing is allocated for a run the browser cannot hold.
        if let Err(e) = crate::train::budget::check_budget_for(
            cfg,
            crate::train::EvalProtocol::Subset,
            crate::train::budget::Budget::Browser,
        ) {
            return Some(Err(TrainError::Config(e.to_string())));
        }
        let checked = |data: Arc<Dataset>, file| {
            crate::train::Trainer::check_data(cfg, &data).map(|()| (cfg.clone(), data, file))
        };
        let Some(path) = cfg.data.asset_path() else {
            return Some(
                cfg.validate()
                    .map_err(TrainError::from)
                    .and_then(|()| cfg.data.generate(cfg.seed).map_err(TrainError::from))
                    .and_then(|d| checked(Arc::new(d), None)),
            );
        };
        let Some(ds) = self.assets.loaded.get(path).cloned() else {
            self.assets.want(path);
            return None;
        };
        let file = self.assets.files.get(path).cloned();
        Some(
            cfg.validate()
                .map_err(TrainError::from)
                .and_then(|()| cfg.data.check_loaded(&ds).map_err(TrainError::from))
                .and_then(|()| checked(ds, file)),
        )
    }

    /// Replaces every run by fresh runs of `cfgs` (run 1 is edited in the panel). Runs that
    /// need a data file wait for it; until then the current runs stay on screen.
    pub fn start_runs(&mut self, cfgs: Vec<RunConfig>, play: bool) {
        let mut built = Vec::new();
        let mut missing = false;
        for c in &cfgs {
            match self.prepare(c) {
                Some(r) => built.push(r),
                None => missing = true,
            }
        }
        if missing {
            self.pending_run = Some((cfgs, play));
            self.running = false;
            return;
        }
        self.install_runs(built, play);
    }

    #[allow(clippy::type_complexity)]
    fn install_runs(
        &mut self,
        built: Vec<Result<(RunConfig, Arc<Dataset>, Option<Arc<[u8]>>), TrainError>>,
        play: bool,
    ) {
        let mut ok = Vec::new();
        for (i, r) in built.into_iter().enumerate() {
            match r {
                Ok(b) => ok.push(b),
                Err(e) => {
                    let who = if i == 0 {
                        String::new()
                    } else {
                        format!("run {}: ", i + 1)
                    };
                    self.error = Some(format!("{who}{e}"));
                    self.running = false;
                    return;
                }
            }
        }
        let Some(first) = ok.first() else {
            return;
        };
        self.controls = self.controls.showing(first.0.clone());
        // Reuse the workers of the current runs where there are enough of them.
        let mut old = std::mem::take(&mut self.runs);
        old.sort_by_key(|r| r.colour);
        let mut old = old.into_iter();
        for (colour, (cfg, data, file)) in ok.into_iter().enumerate() {
            match old.next() {
                Some(mut r) => {
                    r.colour = colour;
                    r.view.data = data;
                    r.file = file;
                    r.restart_with(cfg, play);
                    self.runs.push(r);
                }
                None => self.runs.push(Run::start(colour, cfg, data, file, play)),
            }
        }
        self.focus_colour = 0;
        self.error = None;
        self.running = play;
        self.stats.trained = 0;
    }

    /// Every run (the edited one included) ordered by colour number.
    pub fn runs_by_colour(&self) -> Vec<RunRef<'_>> {
        run_refs(&self.runs, self.focus_colour)
    }

    /// The shareable state: every run's config, the open view and the hidden controls.
    pub fn share_state(&self) -> ShareState {
        ShareState {
            runs: self
                .runs_by_colour()
                .iter()
                .map(|r| r.run.config.clone())
                .collect(),
            tab: self.tab,
            hide: self.hidden.clone(),
        }
    }

    /// The full link to this state.
    pub fn share_link(&self) -> String {
        format!("{}#{}", self.page_url, self.share_state().to_hash())
    }

    /// Whether the control or view `name` is shown (not hidden by the link).
    pub fn shows(&self, name: &str) -> bool {
        !self.hidden.iter().any(|h| h == name)
    }

    /// The shell delivers a downloaded file (or the reason it could not).
    pub fn asset_finished(&mut self, path: &str, bytes: Result<Vec<u8>, String>) {
        let waiting = |p: &Option<(Vec<RunConfig>, bool)>| {
            p.as_ref()
                .is_some_and(|(cfgs, _)| cfgs.iter().any(|c| c.data.asset_path() == Some(path)))
        };
        match self.assets.finish(path, bytes) {
            Ok(()) => {
                if waiting(&self.pending_run)
                    && let Some((cfgs, play)) = self.pending_run.take()
                {
                    self.start_runs(cfgs, play);
                }
            }
            Err(msg) => {
                if waiting(&self.pending_run) {
                    self.pending_run = None;
                    if let Some(cfg) = self.view().map(|v| v.config.clone()) {
                        self.controls = self.controls.showing(cfg);
                    }
                }
                self.error = Some(msg);
            }
        }
    }

    /// Files dropped onto the page (or opened with the file picker): encoder-weights JSON
    /// files are imported into the edited run; official CIFAR-10 binary files are validated,
    /// downsampled to the side of the current CIFAR spec (16 by default) and used for a new
    /// run.
    pub fn files_dropped(&mut self, files: &[(String, Vec<u8>)]) {
        let (json, bins): (Vec<_>, Vec<_>) = files.iter().partition(|(n, b)| {
            n.to_ascii_lowercase().ends_with(".json")
                || b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{')
        });
        for (name, bytes) in &json {
            self.import_weights(name, bytes);
        }
        if bins.is_empty() {
            return;
        }
        let side = match self.controls.config.data {
            crate::data::DataSpec::Cifar { size, .. } => size,
            _ => 16,
        };
        let named: Vec<(&str, &[u8])> = bins
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        match crate::data::cifar::official_bin_to_prepared(&named, side)
            .and_then(|p| p.to_bytes().map(|b| (p.to_dataset(), b)))
        {
            Ok((ds, bytes)) => {
                let mut cfg = self.controls.config.clone();
                cfg.data = crate::data::DataSpec::Cifar {
                    size: side,
                    full: false,
                };
                if let Some(path) = cfg.data.asset_path() {
                    self.assets.insert(path, ds, bytes);
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

    /// Builds the lab from a link's hash (see [`share`]): the runs, `view=`, `hide=`,
    /// `autoplay=1`, `bench=standard`. An invalid config shows a readable error and falls back
    /// to the default run.
    pub fn from_hash(hash: &str) -> Self {
        let mut app = Self::new(RunConfig::default());
        app.apply_link(hash);
        app
    }

    /// Applies a link's hash to this lab (replacing its runs, view and hidden controls).
    pub fn apply_link(&mut self, hash: &str) {
        let link = share::parse_link(hash);
        // A link with something wrong in it opens paused, so its message can be read.
        let play = link.autoplay && link.bench.is_none() && link.message().is_none();
        self.tab = link.state.tab;
        self.hidden = link.state.hide.clone();
        if link.state.runs != self.share_state().runs {
            self.start_runs(link.state.runs.clone(), play);
        } else {
            self.running = play && !self.runs.is_empty();
            let cmd = if self.running {
                Command::Play
            } else {
                Command::Pause
            };
            self.send_all(&cmd);
        }
        self.error = link.message().or(self.error.take());
        match link.bench {
            Some(bench::BenchKind::Standard) => {
                // The standard workload runs in the edited run's engine (its worker).
                self.bench = Some(BenchRunner::standard());
                self.running = false;
                self.send_all(&Command::Pause);
                self.send_focused(Command::Bench(bench::BenchKind::Standard));
            }
            Some(bench::BenchKind::Cifar) => match crate::train::bench::cifar_preset() {
                // The preset's own run: its data arrive like any CIFAR run's, then the steps
                // of that trainer are timed.
                Ok(cfg) => {
                    self.start_runs(vec![cfg], false);
                    self.bench = Some(BenchRunner::cifar());
                    self.running = false;
                }
                Err(e) => self.error = Some(format!("the CIFAR preset is invalid: {e}")),
            },
            None => {}
        }
        self.apply_teaching(&link);
    }

    /// Starts tour preset `i`: its runs, its view, and its "what to watch" banner.
    pub fn apply_preset(&mut self, i: usize) {
        let Some(p) = tour::PRESETS.get(i) else {
            return;
        };
        let hidden = self.hidden.clone();
        self.apply_link(&format!("{}&autoplay=1", p.link));
        self.hidden = hidden;
        self.preset = Some(i);
        self.notice = None;
        if self.tab == Tab::Theory {
            // The theory presets are about the max-player experiment: start it too.
            self.theory.experiment = views::Experiment::DeepLinear;
            self.theory.playing = true;
        }
    }

    /// Back to the default run with nothing hidden; asks the shell to forget the saved state.
    pub fn reset_to_defaults(&mut self) {
        self.start_runs(vec![RunConfig::default()], false);
        self.tab = Tab::Overview;
        self.hidden.clear();
        self.preset = None;
        self.error = None;
        self.notice = None;
        self.teach.note = None;
        self.teach.lesson = false;
        self.outbox.forget_state = true;
    }

    /// Restarts the edited run from the controls' config (new data, new init, empty history).
    pub fn reset(&mut self) {
        let cfg = self.controls.config.clone();
        self.start_run(cfg, false);
    }

    /// Exactly one optimisation step of every run (the Step button).
    pub fn single_step(&mut self) {
        self.running = false;
        self.send_all(&Command::Step);
    }

    fn on_failure(&mut self, e: &TrainError) {
        self.running = false;
        self.error = Some(e.to_string());
    }

    /// In-frame runs only: trains every run in turn, one step each per round, until `budget`
    /// is used. Returns the steps taken.
    fn train_in_frame(&mut self, budget: Duration) -> usize {
        let start = Instant::now();
        let mut n = 0;
        loop {
            let mut any = false;
            for r in &mut self.runs {
                if r.frame_busy() {
                    any = true;
                    // One step per run per round, so compared runs advance together.
                    n += r.pump(Duration::ZERO);
                }
            }
            if !any || start.elapsed() >= budget {
                break;
            }
        }
        let ids: Vec<u64> = self.runs.iter().map(|r| r.id).collect();
        for id in ids {
            if let Some(r) = self.runs.iter_mut().find(|r| r.id == id) {
                let events = r.flush();
                self.deliver(id, events);
            }
        }
        n
    }

    /// Whether some run trains in the page's frames.
    fn frame_training(&self) -> bool {
        self.runs.iter().any(Run::frame_busy)
    }

    /// Per-frame work outside drawing: frame statistics, the loss being dragged, the theory
    /// experiment, then (for runs without a worker) the training time slice.
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
            // Idle pauses between repaints (every 250 ms when nothing moves) say nothing about
            // how long a frame takes.
            if self.frame_training() && dt < 0.2 {
                let current = if self.stats.budget_ms > 0.0 {
                    self.stats.budget_ms
                } else {
                    f64::from(self.controls.speed.budget_ms)
                };
                self.stats.budget_ms = self.controls.speed.next_budget_ms(current, dt * 1000.0);
            }
        }
        self.stats.last_frame = Some(now);
        self.flush_live_loss(now);
        self.controls.in_worker = self.engine_kind() == "worker";
        let share = f64::from(self.controls.speed.worker_percent / 100.0).clamp(0.05, 1.0);
        let ids: Vec<u64> = self
            .runs
            .iter()
            .filter(|r| r.in_worker() && r.share != share)
            .map(|r| r.id)
            .collect();
        for id in ids {
            if let Some(r) = self.runs.iter_mut().find(|r| r.id == id) {
                r.share = share;
            }
            self.send_to(id, Command::SetShare(share));
        }
        self.theory.tick();
        self.watch_theorem1();
        self.start_cifar_bench();
        if !self.frame_training() {
            self.stats.train_ms = 0.0;
            self.update_rate(now);
            return;
        }
        // The first frame (no budget yet) and frames without the hold train the full setting;
        // a held budget stays within a setting lowered since the last frame interval.
        let max = f64::from(self.controls.speed.budget_ms);
        self.stats.budget_ms = if self.stats.budget_ms > 0.0 && self.controls.speed.hold_fps {
            self.stats.budget_ms.min(max)
        } else {
            max
        };
        let budget = Duration::from_secs_f64(self.stats.budget_ms / 1000.0);
        let start = Instant::now();
        self.train_in_frame(budget);
        self.stats.train_ms = start.elapsed().as_secs_f64() * 1000.0;
        self.update_rate(Instant::now());
    }

    /// Steps per second of the edited run over the last second of wall time (frames, drawing
    /// and all; for a worker run, as its updates arrive).
    fn update_rate(&mut self, now: Instant) {
        let Some(step) = self.view().map(RunMirror::step_count) else {
            return;
        };
        let st = &mut self.stats;
        if st.recent.back().is_some_and(|&(_, s)| step < s) {
            st.recent.clear();
        }
        st.recent.push_back((now, step));
        while st.recent.len() > 2 && now.duration_since(st.recent[1].0).as_secs_f64() >= 1.0 {
            st.recent.pop_front();
        }
        if let (Some(&(t0, s0)), Some(&(t1, s1))) = (st.recent.front(), st.recent.back()) {
            let dt = t1.duration_since(t0).as_secs_f64();
            if dt > 0.05 {
                st.steps_per_sec = (s1 - s0) as f64 / dt;
            } else if !self.running {
                st.steps_per_sec = 0.0;
            }
        }
    }

    /// Sends the panel's loss to the edited run when it changed, at most every
    /// [`LIVE_LOSS_MS`] while a slider is dragged (the last value always goes out).
    fn flush_live_loss(&mut self, now: Instant) {
        let Some(v) = self.view() else {
            return;
        };
        let wanted = self.controls.config.loss.clone();
        if wanted == v.config.loss {
            self.sent_loss = None;
            return;
        }
        let text = wanted.to_text();
        let due = match &self.sent_loss {
            Some((sent, at)) => {
                *sent != text && now.duration_since(*at).as_secs_f64() * 1000.0 >= LIVE_LOSS_MS
            }
            None => true,
        };
        if due {
            self.sent_loss = Some((text.clone(), now));
            self.send_focused(Command::SetLoss(text));
        }
    }

    /// Asks the edited run's engine for the Theorem 1 readout while the Theory view is open
    /// (and stops asking when it closes or another run is edited).
    fn watch_theorem1(&mut self) {
        let want = (self.tab == Tab::Theory)
            .then(|| self.focused().map(|r| (r.id, r.view.generation)))
            .flatten();
        if want == self.theorem1_watched {
            return;
        }
        if let Some((id, _)) = self.theorem1_watched {
            self.send_to(id, Command::WatchTheorem1(false));
        }
        if want.is_some() {
            self.send_focused(Command::WatchTheorem1(true));
        }
        self.theorem1_watched = want;
    }

    /// `#bench=cifar`: once the preset's data have arrived and its run exists, its engine
    /// times its steps.
    fn start_cifar_bench(&mut self) {
        let waiting = self.bench.as_ref().is_some_and(|b| {
            b.kind == bench::BenchKind::Cifar && b.figures.iter().all(|f| f.steps == 0)
        });
        if waiting
            && !self.bench_started
            && self.pending_run.is_none()
            && self
                .view()
                .is_some_and(|v| v.ready && v.config.data.asset_path().is_some())
        {
            self.bench_started = true;
            self.send_focused(Command::Bench(bench::BenchKind::Cifar));
        }
    }

    /// A fingerprint of the edited run's encoder: FNV-1a of the bits of the embeddings of the
    /// first eight held-out samples (equal fingerprints ⇔ the same embeddings, bit for bit),
    /// as its engine last reported it.
    pub fn embedding_fingerprint(&self) -> Option<String> {
        self.view()?.fingerprint.clone()
    }

    /// Where the runs train: `"worker"` (each in its own Web Worker) or `"frame"` (in the
    /// page's frames).
    pub fn engine_kind(&self) -> &'static str {
        if !self.runs.is_empty() && self.runs.iter().all(Run::in_worker) {
            "worker"
        } else {
            "frame"
        }
    }

    /// The status object published for tests and tools (`#alphacl-status`).
    pub fn status_json(&self) -> serde_json::Value {
        let t = self.view();
        let last_loss = t.and_then(|t| t.history.loss.last().copied());
        let first =
            |t: &RunMirror| -> Vec<f32> { t.history.loss.iter().take(10).copied().collect() };
        let runs: Vec<serde_json::Value> = self
            .runs_by_colour()
            .iter()
            .map(|r| {
                serde_json::json!({
                    "run": r.colour + 1,
                    "focused": r.focused,
                    "step": r.run.step_count(),
                    "loss": r.run.history.loss.last().copied().filter(|l| l.is_finite()),
                    "loss_spec": r.run.config.loss.to_text(),
                    "config": r.run.config.to_text(),
                    "first_losses": first(r.run),
                    "diverged": r.run.failure.is_some(),
                    "running": r.run.running,
                    "engine_steps_per_sec": r.run.steps_per_sec,
                    "whole_set_knn": r.run.history.whole_set.last().map(|e| e.knn_acc),
                    "whole_set_points": r.run.history.whole_set.len(),
                    "whole_set_baselines": r.run.history.whole_set_baselines
                        .map(|b| [b.raw_knn, b.centred_knn]),
                    "whole_set_progress": r.run.whole_set_progress.map(|p| p.percent),
                })
            })
            .collect();
        serde_json::json!({
            "ready": t.is_some_and(|t| t.ready),
            "running": self.running,
            "engine": self.engine_kind(),
            "engine_note": run::fallback_reason(),
            "step": t.map_or(0, RunMirror::step_count),
            "loss": last_loss.filter(|l| l.is_finite()),
            "loss_spec": t.map(|t| t.config.loss.to_text()),
            "dataset": t.map(|t| t.config.data.to_text()),
            "config": t.map(|t| t.config.to_text()),
            "first_losses": t.map(first),
            "runs": runs,
            "knn_acc": t.and_then(|t| t.history.last_knn()),
            "probe_acc": t.and_then(|t| t.history.last_probe()),
            "alpha_sparsity": t.map(|t| views::alpha_stats(&t.snapshot.alpha).sparsity),
            "fingerprint": self.embedding_fingerprint(),
            "steps_per_sec": self.stats.steps_per_sec,
            "fps": self.stats.fps,
            "frame_ms": (self.stats.fps > 0.0).then(|| 1000.0 / self.stats.fps),
            "train_ms": self.stats.train_ms,
            "budget_ms": self.stats.budget_ms,
            "hold_fps": self.controls.speed.hold_fps,
            "wasm_memory_mb": wasm_memory_mb(),
            "view": self.tab.key(),
            "hidden": self.hidden,
            "link": self.share_link(),
            "preset": self.preset.and_then(|i| tour::PRESETS.get(i)).map(|p| p.key),
            "loading": self.assets.progress_text(),
            "waiting_for_data": self.pending_run.as_ref().map(|(c, _)| c.first().map(|c| c.data.to_text())),
            "bench": self.bench.as_ref().map(BenchRunner::to_json),
            "notice": self.notice,
            "note": self.teach.note,
            "lesson": self.teach.lesson,
            "error": self.error,
            "layout": self.layout.to_json(),
        })
    }

    /// Records a widget's rectangle under `name` (for browser tests).
    pub fn note_rect(rects: &mut BTreeMap<String, [f32; 4]>, name: &str, r: egui::Rect) {
        rects.insert(name.to_string(), [r.min.x, r.min.y, r.width(), r.height()]);
    }

    /// The top bar: one row on a wide screen; on a narrow one it wraps and carries the
    /// controls toggle and Play/Pause (the control panel is folded away).
    fn top_bar(&mut self, ui: &mut egui::Ui, rects: &mut BTreeMap<String, [f32; 4]>) {
        if self.layout.narrow {
            ui.horizontal_wrapped(|ui| self.top_bar_items(ui, rects));
        } else {
            ui.horizontal(|ui| self.top_bar_items(ui, rects));
        }
    }

    /// Play/Pause and the controls toggle, for the top bar of a narrow screen.
    fn narrow_buttons(&mut self, ui: &mut egui::Ui, rects: &mut BTreeMap<String, [f32; 4]>) {
        let open = self.layout.controls_open;
        let b = ui
            .selectable_label(open, if open { "Hide controls" } else { "Controls" })
            .on_hover_text(if open {
                "close the controls and show the views"
            } else {
                "open the controls: loss, data, encoder, optimiser"
            });
        Self::note_rect(rects, "layout:controls", b.rect);
        if b.clicked() {
            self.layout.controls_open = !open;
        }
        if self.shows("play") {
            let b = ui
                .button(if self.running { "Pause" } else { "Play" })
                .on_hover_text("train or pause every run (Space)");
            Self::note_rect(rects, "top:play", b.rect);
            if b.clicked() {
                self.toggle_play();
            }
        }
    }

    fn top_bar_items(&mut self, ui: &mut egui::Ui, rects: &mut BTreeMap<String, [f32; 4]>) {
        let narrow = self.layout.narrow;
        ui.heading("α-CL Lab")
            .on_hover_text("contrastive learning as coordinate-wise optimisation (Tian 2022)");
        if narrow {
            self.narrow_buttons(ui, rects);
        } else if self.layout.viewport[0] >= 1300.0 {
            // The subtitle only where the menus and the status line keep their room.
            ui.label("— contrastive learning as coordinate-wise optimisation (Tian 2022)");
        }
        if self.shows("tour") {
            let r = ui.menu_button("Tour", |ui| {
                ui.label("One click sets up a run, opens a view and says what to watch:");
                for (i, p) in tour::PRESETS.iter().enumerate() {
                    let b = ui.button(format!("{}. {}", i + 1, p.title));
                    Self::note_rect(rects, &format!("preset:{}", p.key), b.rect);
                    if b.clicked() {
                        self.tour_go(i);
                        ui.close();
                    }
                }
            });
            Self::note_rect(rects, "menu:tour", r.response.rect);
        }
        if self.shows("share") {
            let r = ui.menu_button("Share & export", |ui| self.share_menu(ui, rects));
            Self::note_rect(rects, "menu:share", r.response.rect);
        }
        self.teach_top_bar(ui, rects);
        if narrow {
            return;
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let mem =
                wasm_memory_mb().map_or(String::new(), |m| format!(" · wasm memory {m:.0} MB"));
            let frame = if self.stats.fps > 0.0 {
                1000.0 / self.stats.fps
            } else {
                0.0
            };
            let (engine, hover) = if self.engine_kind() == "worker" {
                (
                    format!(
                        "{} in worker{}",
                        self.runs.len(),
                        if self.runs.len() == 1 { "" } else { "s" }
                    ),
                    "each run trains in its own Web Worker; the page only draws".to_string(),
                )
            } else {
                (
                    format!("training {:.0} ms in the frame", self.stats.train_ms),
                    run::fallback_reason()
                        .unwrap_or_else(|| "runs train inside the page's frames".into()),
                )
            };
            // A whole-set evaluation of the edited run in progress (large data sets).
            let whole = self
                .view()
                .and_then(|t| t.whole_set_progress)
                .map_or(String::new(), |p| {
                    format!(
                        " · evaluating {} on the whole held-out set {}%",
                        p.what.label(),
                        p.percent
                    )
                });
            ui.add(
                egui::Label::new(format!(
                    "{:.0} fps · frame {frame:.0} ms · {:.0} steps/s ({engine}){whole}{mem}",
                    self.stats.fps, self.stats.steps_per_sec
                ))
                .truncate(),
            )
            .on_hover_text(format!(
                "{hover}.\nFrames per second of the page, time per frame, optimisation \
                 steps per second of the edited run, and the size of the page's wasm heap."
            ));
        });
    }

    fn share_menu(&mut self, ui: &mut egui::Ui, rects: &mut BTreeMap<String, [f32; 4]>) {
        let b = ui
            .button("Copy link")
            .on_hover_text("every run's config and seed, the open view and hidden controls");
        Self::note_rect(rects, "share:copy", b.rect);
        if b.clicked() {
            ui.ctx().copy_text(self.copy_link());
            self.notice = Some("Link copied: opening it reproduces these runs.".into());
            ui.close();
        }
        let b = ui
            .button("Lesson link…")
            .on_hover_text("a link for a class: hide controls, pick the opening view, add a note");
        Self::note_rect(rects, "share:lesson", b.rect);
        if b.clicked() {
            self.open_lesson_builder();
            ui.close();
        }
        ui.separator();
        ui.label("Export");
        self.live_figure_menu_item(ui, rects);
        for (key, label) in export::EXPORTS {
            let b = ui.button(*label);
            Self::note_rect(rects, &format!("export:{key}"), b.rect);
            if b.clicked() {
                match self.export(key) {
                    Ok(Some(d)) => self.outbox.downloads.push(d),
                    Ok(None) => {}
                    Err(e) => self.error = Some(format!("Export failed: {e}")),
                }
                ui.close();
            }
        }
        let snippet = self.pytorch_snippet();
        let b = ui
            .button("Use this loss in PyTorch")
            .on_hover_text(format!("copies (after pip install ./python):\n{snippet}"));
        Self::note_rect(rects, "share:pytorch", b.rect);
        if b.clicked() {
            ui.ctx().copy_text(snippet.clone());
            self.notice = Some(format!(
                "Copied, for PyTorch (pip install ./python):\n{snippet}"
            ));
            ui.close();
        }
        ui.separator();
        let b = ui
            .button("Import weights…")
            .on_hover_text("a JSON file exported from this run's encoder (or drop it on the page)");
        Self::note_rect(rects, "import:weights", b.rect);
        if b.clicked() {
            self.outbox.pick_weights = true;
            ui.close();
        }
        let b = ui
            .button("Reset to defaults")
            .on_hover_text("forget the saved session: default run, nothing hidden");
        Self::note_rect(rects, "share:defaults", b.rect);
        if b.clicked() {
            self.reset_to_defaults();
            ui.close();
        }
    }

    /// Draws the whole lab.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if let Some(b) = self.bench.as_ref().filter(|b| !b.done()) {
            // While the benchmark runs, draw only its progress: a full frame of plots would
            // compete with it for the CPU (software WebGL rasterises on the other core).
            egui::CentralPanel::default().show(ui, |ui| {
                ui.heading(format!(
                    "α-CL Lab — benchmark running ({}, single thread)",
                    b.title()
                ));
                if let Some(p) = self.assets.progress_text() {
                    ui.label(p);
                }
                for f in &b.figures {
                    ui.label(format!("{}: {} steps", f.loss, f.steps));
                }
            });
            ui.ctx().request_repaint();
            return;
        }
        let mut rects = BTreeMap::new();
        let screen = ui.ctx().content_rect();
        self.layout.viewport = [screen.width(), screen.height()];
        self.layout.narrow = screen.width() < layout::NARROW_BELOW;
        views::axes::take_reports(ui.ctx());
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar(ui, &mut rects));
        if !self.layout.narrow {
            let actions = egui::Panel::left("controls")
                .resizable(true)
                .default_size(300.0)
                .max_size((screen.width() * 0.4).max(300.0))
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .show(ui, |ui| self.controls_ui(ui, &mut rects))
                        .inner
                })
                .inner;
            self.apply(actions);
        }
        let mut actions = None;
        egui::CentralPanel::default().show(ui, |ui| {
            if self.layout.narrow && self.layout.controls_open {
                // A narrow screen: the opened controls take the place of the views.
                if let Some(err) = self.error.clone() {
                    self.error_banner(ui, &err, &mut rects);
                }
                let a = egui::ScrollArea::vertical()
                    .id_salt("narrow_controls")
                    .auto_shrink(false)
                    .show(ui, |ui| self.controls_ui(ui, &mut rects))
                    .inner;
                actions = Some(a);
            } else if views::split::stacked(ui) {
                // Narrow views stack their parts: the whole column scrolls.
                egui::ScrollArea::vertical()
                    .id_salt("stacked_views")
                    .auto_shrink(false)
                    .show(ui, |ui| self.central(ui, &mut rects));
            } else {
                self.central(ui, &mut rects);
            }
        });
        if let Some(a) = actions {
            self.apply(a);
        }
        self.live_figure_window(ui.ctx(), &mut rects);
        self.layout.plots = views::axes::take_reports(ui.ctx());
        for (name, p) in &self.layout.plots {
            rects.insert(format!("plot:{name}"), p.rect);
        }
        self.widget_rects = rects;
        if self.running {
            ui.ctx().request_repaint();
        }
    }

    /// The control panel's contents (beside the views, or in their place on a narrow screen).
    fn controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) -> controls::Actions {
        self.controls.ui(
            ui,
            focused_view(&self.runs, self.focus_colour),
            self.running,
            &self.hidden,
            rects,
        )
    }

    /// The central area: banners, the tabs, the view's note and the view.
    fn central(&mut self, ui: &mut egui::Ui, rects: &mut BTreeMap<String, [f32; 4]>) {
        if let Some(err) = self.error.clone() {
            self.error_banner(ui, &err, rects);
        }
        self.info_banners(ui);
        if let Some(p) = self.assets.progress_text() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(p);
            });
        }
        if let Some(b) = &self.bench {
            ui.group(|ui| {
                ui.strong(format!("Benchmark: {}, single thread", b.title()));
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
        if self.shows("tabs") {
            ui.horizontal_wrapped(|ui| {
                for tab in Tab::ALL {
                    if !self.shows(&format!("view:{}", tab.key())) {
                        continue;
                    }
                    let label = if tab == Tab::Compare && self.runs.len() > 1 {
                        format!("Compare ({})", self.runs.len())
                    } else {
                        tab.label().to_string()
                    };
                    let r = ui.selectable_value(&mut self.tab, tab, label);
                    Self::note_rect(rects, &format!("tab:{}", tab.key()), r.rect);
                }
            });
        }
        egui::CollapsingHeader::new("What am I looking at?")
            .id_salt(("note", self.tab.key()))
            .default_open(self.teach.notes_open_by_default())
            .show(ui, |ui| ui.label(tour::view_note(self.tab)));
        ui.separator();
        if self.runs.is_empty() {
            ui.label("No run: fix the configuration in the panel and press Reset.");
            return;
        }
        self.central_view(ui, rects);
    }

    fn central_view(&mut self, ui: &mut egui::Ui, rects: &mut BTreeMap<String, [f32; 4]>) {
        // On a narrow screen the α map and Compare, which keep their own widths, scroll
        // sideways rather than being cut.
        let sideways = |ui: &mut egui::Ui, id: &str, add: &mut dyn FnMut(&mut egui::Ui)| {
            if views::split::stacked(ui) {
                egui::ScrollArea::horizontal().id_salt(id).show(ui, add);
            } else {
                add(ui);
            }
        };
        if self.tab == Tab::Compare {
            let mut acts = Vec::new();
            {
                let runs = run_refs(&self.runs, self.focus_colour);
                let compare = &mut self.compare;
                sideways(ui, "compare_sideways", &mut |ui| {
                    acts = compare.ui(ui, &runs, rects);
                });
            }
            for a in acts {
                self.compare_action(a);
            }
            return;
        }
        let Some(t) = focused_view(&self.runs, self.focus_colour) else {
            return;
        };
        if !t.ready {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Starting the run…");
            });
            return;
        }
        if self.tab == Tab::Alpha {
            let alpha = &mut self.alpha;
            sideways(ui, "alpha_sideways", &mut |ui| alpha.ui(ui, t));
            for (name, r) in &self.alpha.rects {
                Self::note_rect(rects, name, *r);
            }
            return;
        }
        let mut player = None;
        let stacked = views::split::stacked(ui);
        // Views that do not fit (a short window, banners above) scroll rather than clip; a
        // stacked view is inside the central area's scroll already.
        let scroll = egui::ScrollArea::vertical()
            .id_salt(("view", self.tab.key()))
            .auto_shrink([false, true])
            .max_height(if stacked {
                f32::INFINITY
            } else {
                ui.available_height()
            });
        let mut draw = |ui: &mut egui::Ui| match self.tab {
            Tab::Overview if stacked => {
                let side = ui.available_width().min(420.0);
                self.scatter.ui(ui, t, side + 90.0);
                let h = 2.0 * views::split::STACKED_PLOT_H + 80.0;
                self.curves.ui(ui, t, h);
            }
            Tab::Overview => {
                let h = ui.available_height();
                ui.columns(2, |cols| {
                    self.scatter.ui(&mut cols[0], t, h);
                    self.curves.ui(&mut cols[1], t, h);
                });
            }
            Tab::Data => self.data_view.ui(ui, t),
            Tab::Collapse => self.collapse.ui(ui, t),
            Tab::Theory => self.theory.ui(ui, t),
            Tab::Players => player = self.players.ui(ui, t),
            Tab::Curves => {
                let h = if stacked {
                    2.0 * views::split::STACKED_PLOT_H + 80.0
                } else {
                    ui.available_height()
                };
                self.curves.ui(ui, t, h);
            }
            Tab::Alpha | Tab::Compare => {}
        };
        if stacked {
            draw(ui);
        } else {
            scroll.show(ui, |ui| draw(ui));
        }
        if let Some((mv, times)) = player {
            // The moves stay visible: training pauses.
            self.running = false;
            self.send_focused(Command::Player { mv, times });
        }
    }

    /// Carries out a request from the compare view.
    pub fn compare_action(&mut self, a: CompareAction) {
        match a {
            CompareAction::Add => {
                let Some(r) = self.focused() else { return };
                if self.runs.len() >= MAX_RUNS {
                    return;
                }
                let used: Vec<usize> = self.runs.iter().map(|r| r.colour).collect();
                let colour = (0..MAX_RUNS).find(|c| !used.contains(c)).unwrap_or(0);
                let (cfg, data, file) =
                    (r.view.config.clone(), r.view.data.clone(), r.file.clone());
                self.runs
                    .push(Run::start(colour, cfg, data, file, self.running));
                self.tab = Tab::Compare;
            }
            CompareAction::Remove(c) => {
                if self.runs.len() <= 1 {
                    return;
                }
                self.runs.retain(|r| r.colour != c);
                if c == self.focus_colour
                    && let Some(next) = self.runs.iter().map(|r| r.colour).min()
                {
                    self.focus(next);
                }
            }
            CompareAction::Focus(c) => self.focus(c),
            CompareAction::EvaluateWholeSet => self.send_all(&Command::EvaluateWholeSet),
            CompareAction::RestartAll => {
                let play = self.running;
                for r in &mut self.runs {
                    r.restart(play);
                }
                self.notice = None;
            }
            CompareAction::SetLoss(c, spec) => {
                if c == self.focus_colour {
                    // Sent by `flush_live_loss`, like the panel's own changes.
                    self.controls.config.loss = spec;
                } else if let Some(id) = self.runs.iter().find(|r| r.colour == c).map(|r| r.id) {
                    self.send_to(id, Command::SetLoss(spec.to_text()));
                }
            }
        }
    }

    /// Hands the control panel to run `colour`.
    fn focus(&mut self, colour: usize) {
        if let Some(cfg) = self
            .runs
            .iter()
            .find(|r| r.colour == colour)
            .map(|r| r.view.config.clone())
        {
            self.focus_colour = colour;
            self.controls = self.controls.showing(cfg);
            self.sent_loss = None;
            self.stats.recent.clear();
        }
    }

    fn info_banners(&mut self, ui: &mut egui::Ui) {
        let blue = |ui: &mut egui::Ui, add: &mut dyn FnMut(&mut egui::Ui)| {
            egui::Frame::new()
                .fill(egui::Color32::from_rgb(225, 238, 252))
                .stroke(egui::Stroke::new(
                    1.0,
                    egui::Color32::from_rgb(70, 120, 190),
                ))
                .inner_margin(8.0)
                .show(ui, |ui| add(ui));
        };
        self.teach_banners(ui);
        if let Some(i) = self.preset.filter(|i| *i < tour::PRESETS.len()) {
            let mut go = None;
            blue(ui, &mut |ui| go = self.tour_banner(ui, i));
            match go {
                Some(Some(j)) => self.tour_go(j),
                Some(None) => self.preset = None,
                None => {}
            }
        }
        if let Some(n) = self.notice.clone() {
            let mut close = false;
            blue(ui, &mut |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(&n);
                    close = ui.button("OK").clicked();
                });
            });
            if close {
                self.notice = None;
            }
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
                    let failure = self.view().and_then(|t| t.failure.clone());
                    // A degenerate output (e.g. all-zero weights) is not a step-size problem:
                    // a lower rate would stop the same way, so only a fresh start is offered.
                    if let Some(TrainError::Degenerate { .. }) = failure {
                        ui.label(
                            "A lower learning rate cannot help: the output itself is degenerate.",
                        );
                        if ui.button("Reset (re-initialise the encoder)").clicked() {
                            self.reset();
                        }
                    } else if failure.is_some() {
                        let r = ui.button("Lower the learning rate ×0.1 and continue");
                        Self::note_rect(rects, "lower_lr", r.rect);
                        if r.clicked()
                            && let Some(v) = self.view()
                        {
                            let lr = v.config.optim.lr() * 0.1;
                            let optim = v.config.optim.with_lr(lr);
                            self.controls.set_optim(optim);
                            self.send_focused(Command::Recover { lr });
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
        // A loss change goes out through `flush_live_loss` (debounced while dragging).
        if let Some(spec) = actions.loss {
            self.controls.config.loss = spec;
        }
        if let Some(lr) = actions.lr {
            self.send_focused(Command::SetLr(lr));
        }
        if actions.play {
            if self.view().is_some_and(|t| t.failure.is_some()) {
                self.error = None;
            }
            self.running = true;
            // Play also clears a divergence (the user changed something first).
            self.send_all(&Command::Play);
        }
        if actions.pause {
            self.running = false;
            self.send_all(&Command::Pause);
        }
        if actions.step {
            self.single_step();
        }
    }

    // Teaching aids (state and drawing in `teach`; link grammar in `share`).

    /// Applies a link's lesson keys: the teacher's note, lesson mode (notes open) and the
    /// tour step — a bare `tour=<key>` link sets up the step's runs and view, a link with its
    /// own runs shows the step's banner over them. Idempotent; meant to run at the end of
    /// [`Self::apply_link`].
    pub fn apply_teaching(&mut self, link: &share::ParsedLink) {
        self.teach.note = link.note.clone();
        self.teach.note_folded = false;
        if link.is_lesson() {
            self.teach.lesson = true;
        }
        let Some(i) = link.tour.as_deref().and_then(tour::step_index) else {
            return;
        };
        if link.has_runs {
            self.preset = Some(i);
        } else if self.preset != Some(i) {
            self.tour_go(i);
            // The step plays (if it has a run); the link says whether to.
            if self.running && !link.autoplay {
                self.toggle_play();
            }
        }
    }

    /// Opens tour step `i` (its runs, view and banner), keeping the hidden controls and the
    /// teacher's note.
    pub fn tour_go(&mut self, i: usize) {
        let note = self.teach.note.clone();
        self.apply_preset(i);
        self.teach.note = note;
    }

    /// The lesson keys of what the lab shows now (the tour step, the note), with `autoplay`.
    fn link_extras(&self, autoplay: bool) -> share::LinkExtras {
        share::LinkExtras {
            autoplay,
            note: self.teach.note.clone(),
            tour: self
                .preset
                .and_then(|i| tour::PRESETS.get(i))
                .map(|p| p.key.to_string()),
        }
    }

    /// The hash for the address bar and the saved session: the share state, the tour step
    /// and the teacher's note (never `autoplay`).
    pub fn address_hash(&self) -> String {
        self.share_state().to_hash_with(&self.link_extras(false))
    }

    /// "Copy link": the address, plus `autoplay=1` while the lab is playing.
    pub fn copy_link(&self) -> String {
        let h = self
            .share_state()
            .to_hash_with(&self.link_extras(self.running));
        format!("{}#{h}", self.page_url)
    }

    /// The lesson link the open builder describes (None when the builder is closed).
    pub fn lesson_link(&self) -> Option<String> {
        let b = self.teach.builder.as_ref()?;
        Some(format!("{}#{}", self.page_url, b.hash(&self.share_state())))
    }

    /// Opens the lesson-link builder on what the lab shows now.
    pub fn open_lesson_builder(&mut self) {
        self.teach.builder = Some(teach::LessonBuilder::new(
            &self.hidden,
            self.tab,
            self.running,
            self.preset,
            self.teach.note.as_deref(),
        ));
    }

    /// The Theory view's experiment (its speed, steps, settings).
    pub fn theory_mut(&mut self) -> &mut views::TheoryView {
        &mut self.theory
    }

    /// Play if paused, pause if playing (the Space key).
    pub fn toggle_play(&mut self) {
        let actions = controls::Actions {
            play: !self.running,
            pause: self.running,
            ..Default::default()
        };
        self.apply(actions);
    }

    /// Keyboard shortcuts ([`teach::SHORTCUTS`]); off while a text field has the keyboard.
    /// Space and the arrows are left to a focused widget (which Space then activates).
    fn teach_keys(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let focused = ctx.memory(|m| m.focused()).is_some();
        let press = |k: egui::Key| ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, k));
        if !focused && self.shows("play") && press(egui::Key::Space) {
            self.toggle_play();
        }
        if self.shows("step") && press(egui::Key::S) {
            self.apply(controls::Actions {
                step: true,
                ..Default::default()
            });
        }
        if press(egui::Key::Questionmark) || press(egui::Key::H) {
            self.teach.shortcuts_open = !self.teach.shortcuts_open;
        }
        if press(egui::Key::Escape) {
            self.teach.shortcuts_open = false;
            self.teach.builder = None;
        }
        if self.shows("tabs") {
            let visible: Vec<Tab> = Tab::ALL
                .into_iter()
                .filter(|t| self.shows(&format!("view:{}", t.key())))
                .collect();
            let digits = [
                egui::Key::Num1,
                egui::Key::Num2,
                egui::Key::Num3,
                egui::Key::Num4,
                egui::Key::Num5,
                egui::Key::Num6,
                egui::Key::Num7,
                egui::Key::Num8,
            ];
            for (k, t) in digits.into_iter().zip(visible) {
                if press(k) {
                    self.tab = t;
                }
            }
        }
        if let Some(i) = self.preset
            && !focused
        {
            if i > 0 && press(egui::Key::ArrowLeft) {
                self.tour_go(i - 1);
            } else if i + 1 < tour::PRESETS.len() && press(egui::Key::ArrowRight) {
                self.tour_go(i + 1);
            }
        }
    }

    /// The teaching part of the top bar: shortcuts, the folded note; the keyboard.
    fn teach_top_bar(&mut self, ui: &mut egui::Ui, rects: &mut BTreeMap<String, [f32; 4]>) {
        // Rectangles of last frame's banners and windows (drawn where no `rects` is passed).
        rects.extend(std::mem::take(&mut self.teach.rects));
        self.teach_keys(&ui.ctx().clone());
        let b = ui
            .button("Shortcuts")
            .on_hover_text("keyboard shortcuts (press ? or H)");
        Self::note_rect(rects, "teach:shortcuts", b.rect);
        if b.clicked() {
            self.teach.shortcuts_open = !self.teach.shortcuts_open;
        }
        if self.teach.note.is_some() && self.teach.note_folded {
            let b = ui.button("Teacher's note");
            Self::note_rect(rects, "teach:unfold", b.rect);
            if b.clicked() {
                self.teach.note_folded = false;
            }
        }
    }

    /// The tour banner's contents for step `i`: Some(Some(j)) to go to step j, Some(None) to
    /// end the tour.
    fn tour_banner(&mut self, ui: &mut egui::Ui, i: usize) -> Option<Option<usize>> {
        let p = tour::PRESETS.get(i)?;
        let mut go = None;
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("Tour: {}", p.title));
            ui.label(egui::RichText::new(format!("({})", tour::step_label(i))).small());
        });
        ui.label(p.watch);
        ui.horizontal(|ui| {
            let back = ui.add_enabled(i > 0, egui::Button::new("‹ Back"));
            Self::note_rect(&mut self.teach.rects, "tour:back", back.rect);
            if back.clicked() {
                go = Some(Some(i - 1));
            }
            let last = i + 1 >= tour::PRESETS.len();
            let next = ui.button(if last { "Finish" } else { "Next ›" });
            Self::note_rect(&mut self.teach.rects, "tour:next", next.rect);
            if next.clicked() {
                go = Some((!last).then_some(i + 1));
            }
            let end = ui.button("End tour");
            Self::note_rect(&mut self.teach.rects, "tour:end", end.rect);
            if end.clicked() {
                go = Some(None);
            }
            if let Some(n) = tour::PRESETS.get(i + 1).filter(|_| !last) {
                ui.label(egui::RichText::new(format!("next: {}", n.title)).small());
            }
        });
        go
    }

    /// Primer, teacher's note, the builder and shortcut windows; opens the view notes in a
    /// lesson.
    fn teach_banners(&mut self, ui: &mut egui::Ui) {
        if self.teach.notes_open_by_default() {
            // The id of the view's "What am I looking at?" header, drawn below in this ui
            // (a CollapsingHeader lays out in a `vertical` child, whose scope is "child").
            let id = ui
                .scope_id()
                .with(egui::IdSalt::new("child"))
                .with(egui::IdSalt::new(("note", self.tab.key())));
            let ctx = ui.ctx().clone();
            if egui::collapsing_header::CollapsingState::load(&ctx, id).is_none() {
                egui::collapsing_header::CollapsingState::load_with_default_open(&ctx, id, true)
                    .store(&ctx);
            }
        }
        if self.teach.shows_primer() && self.bench.is_none() {
            let mut tour_start = false;
            let mut dismiss = false;
            egui::Frame::new()
                .fill(egui::Color32::from_rgb(232, 244, 236))
                .stroke(egui::Stroke::new(1.0, egui::Color32::from_rgb(40, 120, 80)))
                .inner_margin(8.0)
                .show(ui, |ui| {
                    ui.strong("New here? What α is, in two sentences");
                    ui.add(egui::Label::new(teach::PRIMER).wrap());
                    ui.horizontal(|ui| {
                        if self.shows("tour") {
                            let b = ui.button("Start the tour");
                            Self::note_rect(&mut self.teach.rects, "primer:tour", b.rect);
                            tour_start = b.clicked();
                        }
                        let b = ui.button("Got it");
                        Self::note_rect(&mut self.teach.rects, "primer:dismiss", b.rect);
                        dismiss = b.clicked();
                    });
                });
            if tour_start {
                self.tour_go(0);
            }
            if tour_start || dismiss {
                self.teach.dismiss_primer();
            }
        }
        if let Some(n) = self.teach.note.clone()
            && !self.teach.note_folded
            && teach::note_banner(ui, &n, true)
        {
            self.teach.note_folded = true;
        }
        let ctx = ui.ctx().clone();
        if let Some(mut b) = self.teach.builder.take() {
            let link = format!("{}#{}", self.page_url, b.hash(&self.share_state()));
            let mut open = true;
            let mut act = None;
            let screen = ctx.content_rect();
            egui::Window::new("Lesson link")
                .open(&mut open)
                .resizable(false)
                .default_width(620.0_f32.min(screen.width() - 24.0))
                .default_pos(egui::pos2(
                    (screen.center().x - 310.0).max(8.0),
                    screen.top() + 48.0,
                ))
                .collapsible(false)
                .show(&ctx, |ui| {
                    // Window title, margins and the top offset stay on screen.
                    egui::ScrollArea::vertical()
                        .max_height((screen.height() - 140.0).max(160.0))
                        .show(ui, |ui| act = b.ui(ui, &link, &mut self.teach.rects));
                });
            if let Some(teach::BuilderAction::Copy(l)) = act {
                ctx.copy_text(l);
                self.notice = Some(
                    "Lesson link copied: students who open it get this set-up and your note."
                        .into(),
                );
            }
            if open {
                self.teach.builder = Some(b);
            }
        }
        if self.teach.shortcuts_open {
            let mut open = true;
            egui::Window::new("Keyboard shortcuts")
                .open(&mut open)
                .collapsible(false)
                .resizable(false)
                .show(&ctx, teach::shortcuts_ui);
            self.teach.shortcuts_open &= open;
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
            app.view().map(|t| t.config.clone()),
            Some(RunConfig::default())
        );
    }

    #[test]
    fn a_run_over_the_browser_budget_is_refused_before_anything_is_allocated() {
        // ≈ 16 GB of data: refused with the estimate and the limit, the default run kept.
        let app = LabApp::from_hash("data=gauss:n=1000000,d=4096&autoplay=1");
        let e = app.error.clone().unwrap_or_default();
        assert!(e.contains("memory") && e.contains("browser"), "{e}");
        assert_eq!(
            app.view().map(|t| t.config.clone()),
            Some(RunConfig::default())
        );
        assert!(!app.running);
    }

    #[test]
    fn good_hash_selects_run_and_autoplay() {
        let app =
            LabApp::from_hash("#loss=acl-direct:tau=0.3,p=4,eps=0&batch=32&autoplay=1&view=alpha");
        assert!(app.error.is_none());
        assert!(app.running);
        assert_eq!(app.tab, Tab::Alpha);
        let t = app.view().map(|t| t.config.loss.to_text());
        assert_eq!(t.as_deref(), Some("acl-direct:tau=0.3,p=4,eps=0"));
    }

    #[test]
    fn steps_per_second_is_the_wall_clock_rate() {
        let mut app = LabApp::from_hash("autoplay=1");
        app.controls.speed.budget_ms = 2.0;
        app.logic();
        let (t0, s0) = (Instant::now(), app.view().map_or(0, RunMirror::step_count));
        // Frames with idle time between them (as drawing would take): the readout counts it.
        while t0.elapsed().as_secs_f64() < 0.3 {
            std::thread::sleep(Duration::from_millis(6));
            app.logic();
        }
        let rate =
            (app.view().map_or(0, RunMirror::step_count) - s0) as f64 / t0.elapsed().as_secs_f64();
        let shown = app.stats.steps_per_sec;
        assert!(
            shown > 0.6 * rate && shown < 1.6 * rate,
            "shown {shown:.0} steps/s, measured {rate:.0}"
        );
    }

    #[test]
    fn logic_trains_when_running() {
        let mut app = LabApp::from_hash("autoplay=1");
        app.controls.speed.budget_ms = 5.0;
        app.logic();
        let s = app.status_json();
        assert!(s["step"].as_u64().unwrap_or(0) >= 1, "{s}");
        assert!(s["loss"].as_f64().is_some_and(f64::is_finite));
    }
}
