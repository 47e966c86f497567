//! The control panel: run controls, the loss picker with live hyper-parameters, and the rest of
//! the run configuration (which applies on Reset).

use std::collections::{BTreeMap, HashMap};

use crate::engine::RunMirror;
use crate::loss::{LOSSES, LossGroup, LossKind, LossSpec};
use crate::spec::SpecError;
use crate::train::RunConfig;

use super::LabApp;

/// Data set presets: (label, data spec, augmentation, encoder, hover help).
pub const DATA_PRESETS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Gaussian mixture",
        "gauss:k=6,d=32,n=1024,sep=4,std=1.2",
        "noise:std=0.5",
        "mlp:hidden=64,out=16",
        "6 clusters in 32-d, additive-noise views",
    ),
    (
        "Rings",
        "rings:k=3,d=8,n=1024,noise=0.15",
        "noise:std=0.1",
        "mlp:hidden=64,out=16",
        "concentric circles lifted to 8-d",
    ),
    (
        "Spirals",
        "spirals:k=3,d=8,n=1024,noise=0.1,turns=1",
        "noise:std=0.1",
        "mlp:hidden=64,out=16",
        "interleaved spiral arms lifted to 8-d",
    ),
    (
        "Tree mixture",
        "tree:depth=2,branch=3,d=16,n=1024,std=0.5,decay=0.6",
        "noise:std=0.3",
        "mlp:hidden=64,out=16",
        "hierarchical classes that share sub-features",
    ),
    (
        "§5.2 anisotropic",
        "aniso:n=1024",
        "axis:dim=0,std=2.8,rest=0.1",
        "mlp:hidden=64,out=16",
        "strong augmentation along the highest-variance axis (paper §5.2)",
    ),
    (
        "§5.3 sparse",
        "sparse:d=10,n=1024",
        "support:std=0.5",
        "mlp:hidden=64,out=16",
        "x = ±m_k e_k (paper §5.3)",
    ),
    (
        "CIFAR-10 (16×16)",
        "cifar:size=16",
        "simclr:crop=0.87,flip=0.5,jitter=0.4,gray=0.2",
        "cnn:width=32,blocks=4,head=256,out=64",
        "real images (10 000 / 2 000), SimCLR's CIFAR augmentation, the BatchNorm conv net; \
         loaded from data/cifar10-16.bin",
    ),
    (
        "CIFAR-10 (32×32)",
        "cifar:size=32",
        "simclr:crop=0.87,flip=0.5,jitter=0.4,gray=0.2",
        "cnn:width=32,blocks=4,head=256,out=64",
        "real images at full resolution (a 5 000 / 1 000 subset, so the download stays small), \
         SimCLR's CIFAR augmentation, the BatchNorm conv net; loaded from data/cifar10-32.bin",
    ),
];

/// The setting of the paper's theory experiments (§5.1, §5.3): raw embeddings (no L2
/// normalisation), the α-CL entropy min player and plain SGD. With it a deep linear encoder
/// collapses to rank 1 (the Collapse view's spectrum falls off after λ₁) while a 2-layer ReLU
/// encoder keeps several directions.
pub const THEORY_SETTING: (&str, &str) = ("acl-entropy:tau=0.5", "sgd:lr=0.05");

/// An encoder preset: a button in the Encoder section, like the data presets.
#[derive(Debug, Clone, Copy)]
pub struct EncoderPreset {
    /// Button label.
    pub label: &'static str,
    /// The encoder spec it sets.
    pub spec: &'static str,
    /// Whether it also sets [`THEORY_SETTING`] and turns L2 normalisation off (otherwise it
    /// turns normalisation on and leaves a theory setting for the defaults).
    pub theory: bool,
    /// Hover help.
    pub help: &'static str,
}

/// The encoder presets, from the theory's simplest to the image network.
pub const ENCODER_PRESETS: &[EncoderPreset] = &[
    EncoderPreset {
        label: "Deep linear",
        spec: "deep-linear:L=3,width=8,out=8,wnorm=frob",
        theory: true,
        help: "z = W₃W₂W₁x with unit-norm layers (PAPER §5.1); also sets the theory setting \
               (no L2 normalisation, α-CL entropy loss, SGD) so the collapse to rank 1 shows \
               in the Collapse view",
    },
    EncoderPreset {
        label: "2-layer ReLU",
        spec: "relu2:hidden=32,out=16",
        theory: true,
        help: "z = W₂ ReLU(W₁x), no biases, rows of W₁ normalised (PAPER §5.3); the same \
               theory setting as Deep linear, so the two compare: ReLU keeps higher rank",
    },
    EncoderPreset {
        label: "MLP",
        spec: "mlp:hidden=64,out=16",
        theory: false,
        help: "z = W₂ ReLU(W₁x + b₁) + b₂, L2-normalised: the toy data sets' default",
    },
    EncoderPreset {
        label: "CNN",
        spec: "cnn:width=32,blocks=4,head=256,out=64",
        theory: false,
        help: "conv3×3 → BatchNorm → ReLU blocks, global pooling and a projection head: the \
               image encoder that learns on CIFAR-10",
    },
];

impl EncoderPreset {
    /// `cfg` with this preset applied (see [`EncoderPreset::theory`]).
    pub fn apply(&self, cfg: &RunConfig) -> Result<RunConfig, SpecError> {
        let mut c = cfg.clone();
        c.set("encoder", self.spec)?;
        let defaults = RunConfig::default();
        if self.theory {
            c.normalize = false;
            c.set("loss", THEORY_SETTING.0)?;
            c.set("optim", THEORY_SETTING.1)?;
        } else {
            c.normalize = true;
            // Leaving the theory setting: back to the lab's default loss and optimiser.
            if c.loss == LossSpec::parse(THEORY_SETTING.0)? {
                c.loss = defaults.loss.clone();
            }
            if c.optim == crate::nn::OptimSpec::parse(THEORY_SETTING.1)? {
                c.optim = defaults.optim.clone();
            }
        }
        c.validate()?;
        Ok(c)
    }

    /// Whether `cfg`'s encoder is of this preset's kind (the button shows as selected).
    pub fn matches(&self, cfg: &RunConfig) -> bool {
        let kind = |t: &str| t.split(':').next().unwrap_or_default().to_string();
        kind(&cfg.encoder.to_text()) == kind(self.spec)
    }

    /// Why the preset cannot be used with `cfg`'s data, if it cannot.
    pub fn unusable(&self, cfg: &RunConfig) -> Option<&'static str> {
        let image = matches!(cfg.data, crate::data::DataSpec::Cifar { .. });
        (self.spec.starts_with("cnn") && !image).then_some(
            "needs image data: choose a CIFAR-10 data set above (it brings this encoder)",
        )
    }
}

/// What the user asked for this frame.
#[derive(Debug, Default)]
pub struct Actions {
    /// Start training.
    pub play: bool,
    /// Stop training.
    pub pause: bool,
    /// One step.
    pub step: bool,
    /// Restart from the edited config.
    pub reset: bool,
    /// New loss, effective from the next step (no reset).
    pub loss: Option<LossSpec>,
    /// New learning rate, effective from the next step.
    pub lr: Option<f64>,
}

/// An editable spec string with its last parse error.
#[derive(Debug, Clone)]
struct SpecField {
    text: String,
    error: Option<String>,
}

impl SpecField {
    fn new(text: String) -> Self {
        Self { text, error: None }
    }

    /// Shows the field; on a valid edit calls `apply`, otherwise keeps the reason.
    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        label: &str,
        hint: &str,
        apply: impl FnOnce(&str) -> Result<(), SpecError>,
    ) -> bool {
        let l = ui.label(label).on_hover_text(hint);
        let r = ui
            .add(egui::TextEdit::singleline(&mut self.text).desired_width(f32::INFINITY))
            .labelled_by(l.id);
        let mut changed = false;
        if r.changed() {
            match apply(&self.text) {
                Ok(()) => {
                    self.error = None;
                    changed = true;
                }
                Err(e) => self.error = Some(e.0),
            }
        }
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(190, 40, 40), e);
        }
        changed
    }
}

/// How fast runs train: in a worker, the share of its core; in the frame, how much of each
/// frame goes to training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speed {
    /// In the frame: training time per frame (ms); with `hold_fps`, the most a frame trains.
    pub budget_ms: f32,
    /// In the frame: train less per frame while drawing is slow, so the page keeps
    /// [`Speed::HOLD_FPS`].
    pub hold_fps: bool,
    /// In a worker: the percentage of its time the run trains (100: as fast as it can; lower
    /// slows a run down for watching).
    pub worker_percent: f32,
}

impl Default for Speed {
    fn default() -> Self {
        Self {
            budget_ms: 12.0,
            hold_fps: true,
            worker_percent: 100.0,
        }
    }
}

impl Speed {
    /// The frame rate held with `hold_fps`.
    pub const HOLD_FPS: f64 = 30.0;
    /// A frame interval up to this much over 1000/[`Self::HOLD_FPS`] ms counts as on time:
    /// timer jitter on a display that presents every other refresh, and no more (a steady
    /// 36 ms frame would be 28 fps).
    const TOLERANCE_MS: f64 = 1.0;
    /// The least a frame trains while the rate is held (ms): training slows, never stops.
    const MIN_BUDGET_MS: f64 = 2.0;
    /// Growth of the budget per frame on time (ms).
    const STEP_UP_MS: f64 = 0.1;
    /// Factor applied to the budget after a late frame.
    const BACK_OFF: f64 = 0.7;

    /// The next frame's training time (ms), from this frame's (`current`) and the interval
    /// the last frame took (`frame_ms`). Without `hold_fps` it is `budget_ms`. With it, the
    /// budget backs off after a late frame and creeps back up while frames are on time
    /// (additive increase, multiplicative decrease), staying between 2 ms and `budget_ms`.
    ///
    /// A controller, not a subtraction: browsers present frames on display refreshes, so a
    /// frame interval is a whole number of refresh periods and "interval minus training"
    /// does not say how long drawing took.
    pub fn next_budget_ms(&self, current: f64, frame_ms: f64) -> f64 {
        let max = f64::from(self.budget_ms);
        if !self.hold_fps || !frame_ms.is_finite() || !current.is_finite() {
            return max;
        }
        let on_time = frame_ms <= 1000.0 / Self::HOLD_FPS + Self::TOLERANCE_MS;
        let next = if on_time {
            current + Self::STEP_UP_MS
        } else {
            current * Self::BACK_OFF
        };
        next.clamp(Self::MIN_BUDGET_MS.min(max), max)
    }
}

/// The left-hand panel.
pub struct ControlPanel {
    /// The configuration being edited (loss and LR are pushed live; the rest on Reset).
    pub config: RunConfig,
    /// Training speed.
    pub speed: Speed,
    /// Whether the runs train in workers (set by the lab each frame; picks the speed control).
    pub in_worker: bool,
    data: SpecField,
    encoder: SpecField,
    augment: SpecField,
    optim: SpecField,
    pending_reset: bool,
    hidden: Vec<String>,
    /// Each loss's last hyper-parameters in this session: choosing a loss again brings its
    /// own values back (a first choice starts from its defaults), so a τ tuned for one loss
    /// never carries over to another.
    loss_memory: HashMap<LossKind, LossSpec>,
}

impl ControlPanel {
    /// Controls showing `config`.
    pub fn new(config: RunConfig) -> Self {
        let loss_memory = HashMap::from([(config.loss.kind, config.loss.clone())]);
        Self {
            loss_memory,
            data: SpecField::new(config.data.to_text()),
            encoder: SpecField::new(config.encoder.to_text()),
            augment: SpecField::new(config.augment.to_text()),
            optim: SpecField::new(config.optim.to_text()),
            config,
            speed: Speed::default(),
            in_worker: false,
            pending_reset: false,
            hidden: Vec::new(),
        }
    }

    /// Sets the edited optimiser and its spec field (the failure banner's lower rate).
    pub fn set_optim(&mut self, optim: crate::nn::OptimSpec) {
        self.optim.text = optim.to_text();
        self.config.optim = optim;
    }

    /// Controls showing `config`, keeping a speed setting.
    pub fn with_speed(config: RunConfig, speed: Speed) -> Self {
        let mut c = Self::new(config);
        c.speed = speed;
        c
    }

    /// Controls showing `config` (a new or another run), keeping this panel's speed setting
    /// and each loss's remembered hyper-parameters (`config`'s own loss included as it is).
    pub fn showing(&self, config: RunConfig) -> Self {
        let mut c = Self::with_speed(config, self.speed);
        for (kind, spec) in &self.loss_memory {
            c.loss_memory.entry(*kind).or_insert_with(|| spec.clone());
        }
        c
    }

    /// The spec a click on loss `kind` selects: its last values here, else its defaults.
    fn recalled_loss(&self, kind: LossKind) -> LossSpec {
        self.loss_memory
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| LossSpec::defaults(kind))
    }

    fn shows(&self, name: &str) -> bool {
        !self.hidden.iter().any(|h| h == name)
    }

    /// Draws the panel and returns the requested actions (controls named in `hidden` are
    /// not drawn).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        trainer: Option<&RunMirror>,
        running: bool,
        hidden: &[String],
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) -> Actions {
        if self.hidden != hidden {
            self.hidden = hidden.to_vec();
        }
        let mut act = Actions::default();
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            let label = if running { "Pause" } else { "Play" };
            if self.shows("play") {
                let r = ui.add(egui::Button::new(label).min_size(egui::vec2(70.0, 26.0)));
                LabApp::note_rect(rects, "play", r.rect);
                if r.clicked() {
                    if running {
                        act.pause = true;
                    } else {
                        act.play = true;
                    }
                }
            }
            if self.shows("step") {
                let r = ui.add(egui::Button::new("Step").min_size(egui::vec2(60.0, 26.0)));
                LabApp::note_rect(rects, "step", r.rect);
                if r.clicked() {
                    act.step = true;
                }
            }
            if self.shows("reset") {
                let r = ui.add(egui::Button::new("Reset").min_size(egui::vec2(60.0, 26.0)));
                LabApp::note_rect(rects, "reset", r.rect);
                if r.on_hover_text("new data, new initialisation, empty history")
                    .clicked()
                {
                    act.reset = true;
                    self.pending_reset = false;
                }
            }
        });
        if let Some(t) = trainer {
            ui.label(format!(
                "step {}   loss {}",
                t.step_count(),
                t.history
                    .loss
                    .last()
                    .map_or("–".into(), |l| format!("{l:.4}"))
            ));
        }
        if self.shows("speed") && self.in_worker {
            ui.horizontal(|ui| {
                let l = ui.label("Speed").on_hover_text(
                    "each run trains in its own Web Worker, beside the page; lower this to slow \
                     the runs down for watching",
                );
                ui.add(
                    egui::Slider::new(&mut self.speed.worker_percent, 5.0..=100.0)
                        .suffix(" % of a core"),
                )
                .labelled_by(l.id);
            });
        } else if self.shows("speed") {
            ui.horizontal(|ui| {
                let l = ui.label("Speed").on_hover_text(
                    "training time per frame; the rest of the frame draws the views",
                );
                ui.add(
                    egui::Slider::new(&mut self.speed.budget_ms, 1.0..=40.0).suffix(" ms/frame"),
                )
                .labelled_by(l.id);
            });
            ui.checkbox(&mut self.speed.hold_fps, "hold 30 fps")
                .on_hover_text(
                    "train less per frame while drawing is slow (no GPU, a big view), so the \
                     page stays at 30 frames per second; the speed above is then the most",
                );
        }
        ui.separator();
        self.loss_ui(ui, &mut act, rects);
        ui.separator();
        self.run_ui(ui, &mut act, rects);
        act
    }

    fn loss_ui(
        &mut self,
        ui: &mut egui::Ui,
        act: &mut Actions,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) {
        ui.strong("Loss")
            .on_hover_text("changes take effect on the next step, without resetting the encoder");
        // The current values, however they were set (slider, link, the Compare table).
        self.loss_memory
            .insert(self.config.loss.kind, self.config.loss.clone());
        let mut next = self.config.loss.clone();
        let groups = if self.shows("loss") {
            &[
                (LossGroup::Family, "Classic losses (φ, ψ)"),
                (LossGroup::MinPlayer, "α-CL min players"),
                (LossGroup::Reference, "Reference"),
            ][..]
        } else {
            ui.label(next.info().display);
            &[][..]
        };
        for &(group, title) in groups {
            ui.label(egui::RichText::new(title).italics());
            ui.horizontal_wrapped(|ui| {
                for info in LOSSES.iter().filter(|l| l.group == group) {
                    let selected = next.kind == info.kind;
                    let r = ui
                        .selectable_label(selected, info.display)
                        .on_hover_text(info.help);
                    LabApp::note_rect(rects, &format!("loss:{}", info.name), r.rect);
                    if r.clicked() && !selected {
                        next = self.recalled_loss(info.kind);
                    }
                }
            });
        }
        let info = next.info();
        ui.add_space(2.0);
        ui.label(egui::RichText::new(info.formula).monospace())
            .on_hover_text(info.reference);
        let params = if self.shows("params") {
            info.params
        } else {
            &[]
        };
        for (i, p) in params.iter().enumerate() {
            ui.horizontal(|ui| {
                let l = ui.label(p.symbol).on_hover_text(p.help);
                let mut v = next.values[i];
                let r = ui
                    .add(
                        egui::Slider::new(&mut v, p.slider.0..=p.slider.1)
                            .logarithmic(p.log_scale)
                            .clamping(egui::SliderClamping::Always),
                    )
                    .labelled_by(l.id);
                let r = r.on_hover_text(p.help);
                LabApp::note_rect(rects, &format!("param:{}", p.key), r.rect);
                if r.changed() && p.range.check_value(v) {
                    next.values[i] = v;
                }
            });
        }
        if next != self.config.loss {
            self.config.loss = next.clone();
            act.loss = Some(next);
        }
    }

    fn run_ui(
        &mut self,
        ui: &mut egui::Ui,
        act: &mut Actions,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) {
        // `hide=optimiser` hides the learning rate too; a heading with nothing under it is
        // not drawn.
        let show_lr = self.shows("lr") && self.shows("optimiser");
        if show_lr {
            ui.strong("Optimiser");
        }
        let mut lr = self.config.optim.lr();
        if show_lr {
            ui.horizontal(|ui| {
                let l = ui.label("learning rate");
                let r = ui
                    .add(egui::Slider::new(&mut lr, 1e-5..=1.0).logarithmic(true))
                    .labelled_by(l.id);
                LabApp::note_rect(rects, "lr", r.rect);
                if r.changed() {
                    self.config.optim = self.config.optim.with_lr(lr);
                    self.optim.text = self.config.optim.to_text();
                    act.lr = Some(lr);
                }
            });
        }
        let run_keys = [
            "data",
            "encoder",
            "augment",
            "optimiser",
            "batch",
            "seed",
            "normalize",
        ];
        if run_keys.iter().any(|k| self.shows(k)) {
            if show_lr {
                ui.separator();
            }
            ui.strong("Run (applies on Reset)");
        }
        let show_data = self.shows("data");
        if show_data {
            ui.label("Data set");
        }
        let mut preset_clicked = None;
        // A hidden data set leaves no empty row.
        if show_data {
            ui.horizontal_wrapped(|ui| {
                for (i, (label, data, ..)) in DATA_PRESETS.iter().enumerate() {
                    let selected = self.config.data.to_text()
                        == crate::data::DataSpec::parse(data)
                            .map(|d| d.to_text())
                            .unwrap_or_default();
                    let r = ui
                        .selectable_label(selected, *label)
                        .on_hover_text(DATA_PRESETS[i].4);
                    LabApp::note_rect(rects, &format!("data:{i}"), r.rect);
                    if r.clicked() {
                        preset_clicked = Some(i);
                    }
                }
            });
        }
        if let Some(i) = preset_clicked {
            let (_, data, aug, enc, _) = DATA_PRESETS[i];
            let mut cfg = self.config.clone();
            let ok = cfg
                .set("data", data)
                .and_then(|()| cfg.set("aug", aug))
                .and_then(|()| cfg.set("encoder", enc));
            if ok.is_ok() {
                if matches!(cfg.data, crate::data::DataSpec::Cifar { .. }) {
                    cfg.batch = cfg.batch.max(128);
                }
                self.data.text = cfg.data.to_text();
                self.augment.text = cfg.augment.to_text();
                self.encoder.text = cfg.encoder.to_text();
                self.config = cfg;
                act.reset = true;
                self.pending_reset = false;
            }
        }
        let shown = |k: &str| !self.hidden.iter().any(|h| h == k);
        let (s_enc, s_aug, s_opt, s_batch, s_seed, s_norm) = (
            shown("encoder"),
            shown("augment"),
            shown("optimiser"),
            shown("batch"),
            shown("seed"),
            shown("normalize"),
        );
        let cfg = &mut self.config;
        let mut changed = false;
        if show_data {
            changed |= self.data.ui(ui, "Data", "e.g. gauss:k=4,d=8", |t| {
                cfg.data = crate::data::DataSpec::parse(t)?;
                Ok(())
            });
        }
        if s_enc {
            ui.label("Encoder");
            let mut chosen = None;
            ui.horizontal_wrapped(|ui| {
                for (i, p) in ENCODER_PRESETS.iter().enumerate() {
                    let why = p.unusable(cfg);
                    let r = ui
                        .add_enabled(
                            why.is_none(),
                            egui::Button::selectable(p.matches(cfg), p.label),
                        )
                        .on_hover_text(p.help)
                        .on_disabled_hover_text(why.unwrap_or_default());
                    LabApp::note_rect(rects, &format!("encoder:{i}"), r.rect);
                    if r.clicked() {
                        chosen = Some(p);
                    }
                }
            });
            if let Some(p) = chosen
                && let Ok(c) = p.apply(cfg)
            {
                *cfg = c;
                self.encoder.text = cfg.encoder.to_text();
                self.optim.text = cfg.optim.to_text();
                act.reset = true;
                self.pending_reset = false;
            }
            if ENCODER_PRESETS.iter().any(|p| p.theory && p.matches(cfg)) && !cfg.normalize {
                ui.label(
                    egui::RichText::new(
                        "Theory setting: raw embeddings (no L2 normalisation), α-CL entropy \
                         loss, SGD. Watch the Collapse view.",
                    )
                    .small(),
                );
            }
            changed |= self
                .encoder
                .ui(ui, "Encoder spec", "e.g. mlp:hidden=64,out=16", |t| {
                    cfg.encoder = crate::nn::EncoderSpec::parse(t)?;
                    Ok(())
                });
        }
        if s_aug {
            changed |= self
                .augment
                .ui(ui, "Augmentation", "e.g. noise:std=0.5", |t| {
                    cfg.augment = crate::data::AugmentSpec::parse(t)?;
                    Ok(())
                });
        }
        if s_opt {
            changed |= self
                .optim
                .ui(ui, "Optimiser spec", "e.g. adam:lr=0.003", |t| {
                    cfg.optim = crate::nn::OptimSpec::parse(t)?;
                    Ok(())
                });
        }
        ui.horizontal(|ui| {
            if s_batch {
                let l = ui.label("batch B");
                let r = ui
                    .add(egui::DragValue::new(&mut cfg.batch).range(2..=1024))
                    .labelled_by(l.id);
                LabApp::note_rect(rects, "batch", r.rect);
                changed |= r.changed();
            }
            if s_seed {
                let l = ui.label("seed");
                let r = ui
                    .add(egui::DragValue::new(&mut cfg.seed))
                    .labelled_by(l.id);
                LabApp::note_rect(rects, "seed", r.rect);
                changed |= r.changed();
            }
        });
        if s_norm {
            changed |= ui
                .checkbox(&mut cfg.normalize, "L2-normalise embeddings")
                .on_hover_text("the paper's experiments normalise; its theory works with raw z")
                .changed();
        }
        if changed {
            self.pending_reset = true;
        }
        if let Err(e) = self.config.validate() {
            ui.colored_label(
                egui::Color32::from_rgb(190, 40, 40),
                format!("Cannot run: {e}"),
            );
        } else if self.pending_reset {
            ui.horizontal(|ui| {
                ui.label("Edited — ");
                if ui.button("apply (Reset)").clicked() {
                    act.reset = true;
                    self.pending_reset = false;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model page: 60 Hz display, drawing takes `draw_ms`, training the budget; a frame
    /// lasts the next whole number of refresh periods.
    fn frame_interval(draw_ms: f64, budget_ms: f64) -> f64 {
        let period = 1000.0 / 60.0;
        ((draw_ms + budget_ms) / period).ceil().max(1.0) * period
    }

    #[test]
    fn held_frame_rate_converges_to_the_largest_budget_that_keeps_30_fps() {
        let speed = Speed::default();
        let max = f64::from(speed.budget_ms);
        for draw_ms in [4.0, 14.0, 22.0, 28.0, 30.0] {
            let mut budget = max;
            let mut late = 0;
            let mut budgets = Vec::new();
            for frame in 0..600 {
                let interval = frame_interval(draw_ms, budget);
                if frame >= 300 {
                    late += usize::from(interval > 1000.0 / 30.0 + 1e-9);
                    budgets.push(budget);
                }
                budget = speed.next_budget_ms(budget, interval);
                assert!((2.0..=max).contains(&budget), "{draw_ms}: {budget}");
            }
            // Settled: at most one late frame in ten…
            assert!(late <= 30, "draw {draw_ms} ms: {late} late frames of 300");
            // …and training gets most of what is left of a 30 fps frame.
            let mean = budgets.iter().sum::<f64>() / budgets.len() as f64;
            let room = (1000.0 / 30.0 - draw_ms).clamp(2.0, max);
            assert!(
                mean >= 0.6 * room,
                "draw {draw_ms} ms: mean budget {mean}, room {room}"
            );
        }
        // Drawing alone misses 30 fps: training slows to the floor but never stops.
        let mut budget = max;
        for _ in 0..100 {
            budget = speed.next_budget_ms(budget, frame_interval(40.0, budget));
        }
        assert_eq!(budget, 2.0);
    }

    #[test]
    fn without_hold_or_with_nonsense_the_speed_setting_rules() {
        let speed = Speed::default();
        let max = f64::from(speed.budget_ms);
        assert_eq!(speed.next_budget_ms(max, f64::NAN), max);
        let free = Speed {
            hold_fps: false,
            ..speed
        };
        assert_eq!(free.next_budget_ms(3.0, 100.0), max);
        // A speed setting below the floor is respected.
        let slow = Speed {
            budget_ms: 1.0,
            hold_fps: true,
            ..Speed::default()
        };
        assert_eq!(slow.next_budget_ms(1.0, 100.0), 1.0);
    }
}
