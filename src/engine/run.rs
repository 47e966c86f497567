//! [`RunEngine`]: one run's trainer, its play state and what the page has been told.

use std::collections::VecDeque;

use ndarray::Array2;
use web_time::{Duration, Instant};

use super::bench::{BenchKind, BenchRunner};
use super::{
    CollapseUpdate, Command, Event, MoveReport, PlayersState, RunUpdate, WholeSetProgress,
    WholeSetTarget,
};
use crate::analysis::spectrum::CollapseMetrics;
use crate::analysis::theorem1::theorem1_residual;
use crate::data::Dataset;
use crate::loss::LossSpec;
use crate::nn::Stage;
use crate::train::players::{PlayerMove, Players};
use crate::train::probe::{PROBE_PAIRS, embed_like_training, fixed_pairs};
use crate::train::whole_set::{Features, WholeSetEval};
use crate::train::{EvalPoint, InputBaselines, RunConfig, TrainError, Trainer};

/// Training pairs of the Theorem 1 readout (a fixed probe batch of the training split).
pub const THEOREM1_PAIRS: usize = 32;

/// Whole-set evaluations take at most this share of an engine's time while it trains...
const WHOLE_SET_SHARE: f64 = 0.1;
/// ...and start at most once per this many seconds of training.
const WHOLE_SET_MIN_GAP: f64 = 2.0;

/// The background whole-set evaluation of a run ([`crate::train::whole_set`]): the input
/// baselines first, then the representation at the start, then again whenever the run has
/// trained long enough that the evaluations stay within [`WHOLE_SET_SHARE`] of its time, and
/// on request ([`Command::EvaluateWholeSet`]).
#[derive(Default)]
struct WholeSet {
    current: Option<WholeSetEval>,
    /// kNN of the raw inputs, until the centred one is measured too.
    raw_knn: Option<f64>,
    /// Training seconds when the latest evaluation of the representation started.
    mark: f64,
    /// Seconds the latest evaluation of the representation took.
    cost: f64,
    /// Seconds trained minus seconds evaluated since the current evaluation started: while
    /// playing, the evaluation takes a slice whenever this is ≥ 0 (an even split).
    balance: f64,
    /// An evaluation of the current parameters was asked for.
    wanted: bool,
    /// The parameters changed without a step (weights imported).
    stale: bool,
}

/// What the page has already been sent.
#[derive(Default)]
struct Sent {
    loss: usize,
    evals: usize,
    last_eval: Option<crate::train::EvalPoint>,
    loss_changes: usize,
    config: String,
    baselines: bool,
    snapshot_step: Option<usize>,
    collapse: Vec<usize>,
    fingerprint: Option<String>,
    failure: Option<TrainError>,
    running: bool,
    step: usize,
    theorem1_key: Option<(usize, String)>,
    whole_set: usize,
    whole_set_last: Option<EvalPoint>,
    whole_set_baselines: bool,
    whole_set_progress: Option<WholeSetProgress>,
    first: bool,
}

/// One run behind the message boundary: the [`Trainer`], whether it plays, the
/// coordinate-wise players, and the bookkeeping that lets [`RunEngine::update`] send only
/// what changed.
pub struct RunEngine {
    trainer: Option<Trainer>,
    generation: u32,
    running: bool,
    share: f64,
    players: Players,
    watch_theorem1: bool,
    theorem1: Option<Result<crate::analysis::theorem1::Theorem1Readout, String>>,
    probe: Option<Array2<f32>>,
    snapshot_dirty: bool,
    sent: Sent,
    events: Vec<Event>,
    recent: VecDeque<(Instant, usize)>,
    bench: Option<BenchRunner>,
    whole: WholeSet,
}

impl Default for RunEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl RunEngine {
    /// An engine without a run (waiting for [`Command::Start`]).
    pub fn new() -> Self {
        Self {
            trainer: None,
            generation: 0,
            running: false,
            share: 1.0,
            players: Players::new(),
            watch_theorem1: false,
            theorem1: None,
            probe: None,
            snapshot_dirty: false,
            sent: Sent::default(),
            events: Vec::new(),
            recent: VecDeque::new(),
            bench: None,
            whole: WholeSet::default(),
        }
    }

    /// The trainer, if a run was started.
    pub fn trainer(&self) -> Option<&Trainer> {
        self.trainer.as_ref()
    }

    /// The trainer, mutable (changes reach the page with the next update).
    pub fn trainer_mut(&mut self) -> Option<&mut Trainer> {
        self.trainer.as_mut()
    }

    /// Whether [`RunEngine::pump`] has work (training, a whole-set evaluation or a
    /// benchmark).
    pub fn busy(&self) -> bool {
        self.bench.as_ref().is_some_and(|b| !b.done())
            || self.whole.current.is_some()
            || (self.running && self.trainer.as_ref().is_some_and(|t| t.failure.is_none()))
    }

    /// Fraction of its time the engine trains while playing ([`Command::SetShare`]).
    pub fn share(&self) -> f64 {
        self.share
    }

    /// Starts a run of `config` on `data` (replacing the current one).
    pub fn start(&mut self, config: RunConfig, data: Dataset, generation: u32, play: bool) {
        let keep_share = self.share;
        let watch = self.watch_theorem1;
        *self = Self::new();
        self.share = keep_share;
        self.watch_theorem1 = watch;
        self.generation = generation;
        match Trainer::with_data(config, data) {
            Ok(t) => {
                self.trainer = Some(t);
                self.running = play;
                self.snapshot_dirty = true;
                self.sent.first = true;
                self.next_whole_set();
            }
            Err(e) => self.events.push(Event::StartFailed {
                generation,
                error: e.to_string(),
            }),
        }
    }

    /// [`Command::Start`] as a worker receives it: the config text and, for a run on a
    /// prepared data file, that file's bytes (toy data are generated from the seed).
    pub fn start_from(&mut self, config: &str, generation: u32, play: bool, file: Option<&[u8]>) {
        let fail = |e: String| Event::StartFailed {
            generation,
            error: e,
        };
        let cfg = match RunConfig::parse(config).and_then(|c| c.validate().map(|()| c)) {
            Ok(c) => c,
            Err(e) => return self.events.push(fail(e.0)),
        };
        let data = match (cfg.data.asset_path(), file) {
            (None, _) => cfg.data.generate(cfg.seed).map_err(|e| e.0),
            (Some(path), None) => Err(format!("the data file {path} was not handed over")),
            (Some(_), Some(bytes)) => crate::data::cifar::parse_prepared(bytes)
                .map_err(|e| e.to_string())
                .and_then(|ds| cfg.data.check_loaded(&ds).map(|()| ds).map_err(|e| e.0)),
        };
        match data {
            Ok(ds) => self.start(cfg, ds, generation, play),
            Err(e) => self.events.push(fail(e)),
        }
    }

    /// Carries out a command ([`Command::Start`] needs its data: see
    /// [`RunEngine::start_from`]).
    pub fn handle(&mut self, cmd: Command, file: Option<&[u8]>) {
        if let Command::Start {
            config,
            generation,
            play,
        } = &cmd
        {
            self.start_from(config, *generation, *play, file);
            return;
        }
        match cmd {
            Command::SetShare(s) => self.share = s.clamp(0.05, 1.0),
            Command::WatchTheorem1(on) => {
                self.watch_theorem1 = on;
                if !on {
                    self.theorem1 = None;
                    self.sent.theorem1_key = None;
                }
            }
            Command::Bench(kind) => {
                self.running = false;
                self.bench = Some(match kind {
                    BenchKind::Standard => BenchRunner::standard(),
                    BenchKind::Cifar => BenchRunner::cifar(),
                });
            }
            Command::EvaluateWholeSet => self.whole.wanted = true,
            other => self.run_command(other),
        }
        self.next_whole_set();
    }

    fn run_command(&mut self, cmd: Command) {
        let Some(t) = self.trainer.as_mut() else {
            return;
        };
        match cmd {
            Command::Play => {
                t.resume();
                self.running = true;
            }
            Command::Pause => self.running = false,
            Command::Step => {
                self.running = false;
                if t.step().is_ok() && !t.step_count().is_multiple_of(t.config.eval_every) {
                    t.refresh_snapshot();
                }
            }
            // The page sends only specs it parsed itself; anything else changes nothing.
            Command::SetLoss(text) => {
                if let Ok(spec) = LossSpec::parse(&text) {
                    t.set_loss(spec);
                }
            }
            Command::SetLr(lr) => t.set_lr(lr),
            Command::Recover { lr } => {
                t.recover_with_lr(lr);
                self.running = true;
            }
            Command::Resume => t.resume(),
            Command::ImportWeights(text) => {
                let r = t.load_weights_json(&text).map_err(|e| e.to_string());
                if r.is_ok() {
                    self.snapshot_dirty = true;
                    self.whole.stale = true;
                }
                self.events.push(Event::Imported(r));
            }
            Command::ExportWeights => self.events.push(Event::Weights(t.weights_json())),
            Command::Player { mv, times } => self.players_move(mv, times),
            Command::Start { .. }
            | Command::SetShare(_)
            | Command::WatchTheorem1(_)
            | Command::EvaluateWholeSet
            | Command::Bench(_) => {}
        }
    }

    fn players_move(&mut self, mv: PlayerMove, times: usize) {
        let Some(t) = self.trainer.as_mut() else {
            return;
        };
        self.running = false;
        let mut moves = Vec::new();
        let mut stepped = false;
        for _ in 0..times.clamp(1, 100) {
            let r = match mv {
                PlayerMove::Min => self.players.min_step(t).map(MoveReport::Min),
                PlayerMove::Max => self.players.max_step(t).map(MoveReport::Max),
            };
            let failed = r.is_err();
            stepped |= matches!(r, Ok(MoveReport::Max(_)));
            moves.push((mv, r.map_err(|e| e.to_string())));
            if failed {
                break;
            }
        }
        if stepped {
            t.refresh_snapshot();
        }
        let frozen = self.players.frozen();
        let state = PlayersState {
            generation: self.generation,
            moves,
            alpha: frozen.map(|f| f.alpha.clone()),
            labels: frozen.map(|f| f.labels.clone()).unwrap_or_default(),
            max_steps: frozen.map_or(0, |f| f.max_steps),
            z: frozen.map(|f| embed_like_training(t, &f.x, Stage::Output)),
        };
        self.events.push(Event::Players(Box::new(state)));
    }

    /// Trains (or benchmarks) until `budget` is used, at least one step when there is work.
    /// Returns the training steps taken.
    pub fn pump(&mut self, budget: Duration) -> usize {
        let start = Instant::now();
        if let Some(b) = self.bench.as_mut().filter(|b| !b.done()) {
            loop {
                match b.kind {
                    BenchKind::Standard => b.slice(),
                    BenchKind::Cifar => match self.trainer.as_mut() {
                        Some(t) => b.step_trainer(t),
                        None => break,
                    },
                }
                if b.done() || start.elapsed() >= budget {
                    break;
                }
            }
            self.events.push(Event::Bench(Box::new(b.report())));
            return 0;
        }
        self.next_whole_set();
        if !self.busy() {
            return 0;
        }
        let trains = self.running && self.trainer.as_ref().is_some_and(|t| t.failure.is_none());
        if self.whole.current.is_some() && (!trains || self.whole.balance >= 0.0) {
            self.advance_whole_set(budget);
            self.whole.balance -= start.elapsed().as_secs_f64();
            return 0;
        }
        let Some(t) = self.trainer.as_mut() else {
            return 0;
        };
        let mut n = 0;
        loop {
            if t.step().is_err() {
                self.running = false;
                break;
            }
            n += 1;
            if start.elapsed() >= budget {
                break;
            }
        }
        if self.whole.current.is_some() {
            self.whole.balance += start.elapsed().as_secs_f64();
        }
        let now = Instant::now();
        self.recent.push_back((now, t.step_count()));
        while self.recent.len() > 2
            && now.duration_since(self.recent[1].0) >= Duration::from_secs(1)
        {
            self.recent.pop_front();
        }
        n
    }

    /// Starts the next whole-set evaluation if one is due (see [`WholeSet`]).
    fn next_whole_set(&mut self) {
        let Some(t) = self.trainer.as_ref() else {
            return;
        };
        let w = &mut self.whole;
        if w.current.is_some() || t.failure.is_some() || t.subsets_are_whole_sets() {
            return;
        }
        let h = &t.history;
        let eval = if h.whole_set_baselines.is_none() {
            let features = if w.raw_knn.is_none() {
                Features::Raw
            } else {
                Features::Centred
            };
            WholeSetEval::new(features, 0, &t.data)
        } else {
            let step = t.step_count();
            let fresh = w.stale || h.whole_set.last().is_none_or(|e| e.step < step);
            let due = h.whole_set.is_empty()
                || w.wanted
                || (self.running
                    && t.train_seconds() - w.mark
                        >= (w.cost * (1.0 - WHOLE_SET_SHARE) / WHOLE_SET_SHARE)
                            .max(WHOLE_SET_MIN_GAP));
            if !(fresh && due) {
                w.wanted &= fresh;
                return;
            }
            w.wanted = false;
            w.stale = false;
            w.mark = t.train_seconds();
            WholeSetEval::of_encoder(&t.encoder, t.config.normalize, step, &t.data)
        };
        w.current = Some(eval);
        w.balance = 0.0;
    }

    /// Works on the current whole-set evaluation for about `budget`, recording its result
    /// when it finishes.
    fn advance_whole_set(&mut self, budget: Duration) {
        let (Some(t), Some(eval)) = (self.trainer.as_mut(), self.whole.current.as_mut()) else {
            return;
        };
        let Some(r) = eval.advance(&t.data, budget) else {
            return;
        };
        let h = &mut t.history;
        if !eval.is_baseline() {
            self.whole.cost = eval.seconds();
            let point = EvalPoint {
                step: r.step,
                knn_acc: r.knn_acc,
                probe_acc: r.probe_acc,
            };
            // A re-evaluation of the same step (after a weights import) replaces its point.
            if h.whole_set.last().is_some_and(|e| e.step == r.step) {
                h.whole_set.pop();
            }
            h.whole_set.push(point);
        } else if eval.is_centred() {
            h.whole_set_baselines = Some(InputBaselines {
                raw_knn: self.whole.raw_knn.unwrap_or(0.0),
                centred_knn: r.knn_acc,
            });
        } else {
            self.whole.raw_knn = Some(r.knn_acc);
        }
        self.whole.current = None;
        self.next_whole_set();
    }

    /// The whole-set evaluation in progress, as the page is told of it.
    fn whole_set_progress(&self) -> Option<WholeSetProgress> {
        let (t, eval) = (self.trainer.as_ref()?, self.whole.current.as_ref()?);
        let what = match (eval.is_baseline(), eval.is_centred()) {
            (false, _) => WholeSetTarget::Representation,
            (true, true) => WholeSetTarget::CentredInputs,
            (true, false) => WholeSetTarget::RawInputs,
        };
        Some(WholeSetProgress {
            step: eval.step(),
            percent: (eval.progress(&t.data) * 100.0).clamp(0.0, 100.0) as u8,
            what,
        })
    }

    /// Training steps per second over about the last second.
    fn steps_per_sec(&self) -> f64 {
        match (self.recent.front(), self.recent.back()) {
            (Some(&(t0, s0)), Some(&(t1, s1))) if t1 > t0 => {
                (s1 - s0) as f64 / (t1 - t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    /// Collapse metrics of a new snapshot, recorded into the history.
    fn after_snapshot(&mut self) {
        let Some(t) = self.trainer.as_mut() else {
            return;
        };
        let step = t.snapshot.step;
        let x = self
            .probe
            .get_or_insert_with(|| fixed_pairs(t, PROBE_PAIRS, "collapse-probe", false));
        let stages: &[Stage] = if t.config.encoder.has_head() {
            &[Stage::Representation, Stage::Output]
        } else {
            &[Stage::Representation]
        };
        let measured: Vec<Result<CollapseMetrics, String>> = stages
            .iter()
            .map(|&s| {
                CollapseMetrics::compute(&embed_like_training(t, x, s)).map_err(|e| e.to_string())
            })
            .collect();
        t.history
            .collapse
            .resize_with(stages.len(), Default::default);
        for (series, m) in t.history.collapse.iter_mut().zip(measured) {
            series.record(step, m);
        }
    }

    /// What changed since the last update, or `None` if nothing did.
    pub fn update(&mut self) -> Option<RunUpdate> {
        let snap_step = self.trainer.as_ref()?.snapshot.step;
        let new_snapshot = self.snapshot_dirty || self.sent.snapshot_step != Some(snap_step);
        if new_snapshot {
            self.after_snapshot();
        }
        let watch_key = self
            .trainer
            .as_ref()
            .map(|t| (t.snapshot.step, t.config.loss.to_text()));
        if self.watch_theorem1 && self.sent.theorem1_key != watch_key {
            self.measure_theorem1();
        }
        let steps_per_sec = self.steps_per_sec();
        let progress = self.whole_set_progress();
        let t = self.trainer.as_ref()?;
        let h = &t.history;
        let sent = &mut self.sent;
        let mut u = RunUpdate {
            generation: self.generation,
            step: t.step_count(),
            running: self.running,
            steps_per_sec,
            train_seconds: t.train_seconds(),
            failure: t.failure.clone(),
            whole_set_progress: progress,
            ..RunUpdate::default()
        };
        let mut changed = sent.first
            || u.step != sent.step
            || u.running != sent.running
            || u.failure != sent.failure
            || u.whole_set_progress != sent.whole_set_progress;
        let config = t.config.to_text();
        if config != sent.config {
            u.config = Some(config.clone());
            sent.config = config;
            changed = true;
        }
        if h.loss.len() > sent.loss {
            u.loss_from = sent.loss;
            u.loss = h.loss[sent.loss..].to_vec();
            u.time = h.time[sent.loss..].to_vec();
            sent.loss = h.loss.len();
        } else {
            u.loss_from = h.loss.len();
        }
        if h.loss_changes.len() != sent.loss_changes {
            u.loss_changes = Some(h.loss_changes.clone());
            sent.loss_changes = h.loss_changes.len();
            changed = true;
        }
        // The last evaluation point may be re-measured in place (the linear probe added to
        // it): resend it then.
        let from = if sent.evals > 0 && h.evals.get(sent.evals - 1) != sent.last_eval.as_ref() {
            sent.evals - 1
        } else {
            sent.evals
        };
        u.evals_from = from.min(h.evals.len());
        u.evals = h.evals[u.evals_from..].to_vec();
        changed |= !u.evals.is_empty();
        sent.evals = h.evals.len();
        sent.last_eval = h.evals.last().copied();
        u.whole_set_from = sent.whole_set.min(h.whole_set.len());
        // A re-measured last point (same step) is resent.
        if sent.whole_set_last.is_some() && h.whole_set.last() != sent.whole_set_last.as_ref() {
            u.whole_set_from = u.whole_set_from.min(h.whole_set.len().saturating_sub(1));
        }
        u.whole_set = h.whole_set[u.whole_set_from..].to_vec();
        changed |= !u.whole_set.is_empty();
        sent.whole_set = h.whole_set.len();
        sent.whole_set_last = h.whole_set.last().copied();
        if !sent.whole_set_baselines && h.whole_set_baselines.is_some() {
            u.whole_set_baselines = h.whole_set_baselines;
            sent.whole_set_baselines = true;
            changed = true;
        }
        if !sent.baselines && h.baselines.is_some() {
            u.baselines = h.baselines;
            sent.baselines = true;
            changed = true;
        }
        sent.collapse.resize(h.collapse.len(), 0);
        for (i, s) in h.collapse.iter().enumerate() {
            if s.trace.len() != sent.collapse[i] || new_snapshot {
                let from = sent.collapse[i].min(s.trace.len());
                u.collapse.push((
                    i,
                    CollapseUpdate {
                        trace_from: from,
                        trace: s.trace[from..].to_vec(),
                        spectra: s.spectra.clone(),
                        current: s.current.clone(),
                        error: s.error.clone(),
                    },
                ));
                sent.collapse[i] = s.trace.len();
                changed = true;
            }
        }
        if new_snapshot {
            u.snapshot = Some(t.snapshot.clone());
            sent.snapshot_step = Some(snap_step);
            let fp = super::fingerprint(&t.probe_embeddings(8));
            if sent.fingerprint.as_ref() != Some(&fp) {
                u.fingerprint = Some(fp.clone());
                sent.fingerprint = Some(fp);
            }
            changed = true;
        }
        if self.watch_theorem1 && sent.theorem1_key != watch_key {
            u.theorem1 = self.theorem1.clone();
            sent.theorem1_key = watch_key;
            changed = true;
        }
        self.snapshot_dirty = false;
        sent.first = false;
        sent.step = u.step;
        sent.running = u.running;
        sent.failure = u.failure.clone();
        sent.whole_set_progress = u.whole_set_progress;
        changed |= !u.loss.is_empty();
        changed.then_some(u)
    }

    /// The Theorem 1 readout at the current parameters and loss (on a fixed training batch).
    fn measure_theorem1(&mut self) {
        let Some(t) = self.trainer.as_ref() else {
            return;
        };
        let x = fixed_pairs(
            t,
            THEOREM1_PAIRS.min(t.config.batch),
            "theorem1-probe",
            true,
        );
        let z = t.encoder.embed(&x);
        self.theorem1 = Some(
            theorem1_residual(&t.config.loss, &z, t.config.normalize, 8, t.config.seed)
                .map_err(|e| e.to_string()),
        );
    }

    /// The events due: those queued by commands, then the update (if anything changed).
    pub fn take_events(&mut self) -> Vec<Event> {
        let mut out = std::mem::take(&mut self.events);
        if let Some(u) = self.update() {
            out.push(Event::Update(Box::new(u)));
        }
        out
    }
}
