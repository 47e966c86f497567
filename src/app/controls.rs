//! The control panel: run controls, the loss picker with live hyper-parameters, and the rest of
//! the run configuration (which applies on Reset).

use std::collections::BTreeMap;

use crate::loss::{LOSSES, LossGroup, LossSpec};
use crate::spec::SpecError;
use crate::train::{RunConfig, Trainer};

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
        "simclr:crop=0.6,flip=0.5,jitter=0.4,gray=0.2,noise=0",
        "mlp:hidden=256,out=64",
        "real images, SimCLR augmentation; loaded from data/cifar10-16.bin",
    ),
];

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

/// The left-hand panel.
pub struct ControlPanel {
    /// The configuration being edited (loss and LR are pushed live; the rest on Reset).
    pub config: RunConfig,
    /// Training time per frame in milliseconds.
    pub budget_ms: f32,
    data: SpecField,
    encoder: SpecField,
    augment: SpecField,
    optim: SpecField,
    pending_reset: bool,
    hidden: Vec<String>,
}

impl ControlPanel {
    /// Controls showing `config`.
    pub fn new(config: RunConfig) -> Self {
        Self {
            data: SpecField::new(config.data.to_text()),
            encoder: SpecField::new(config.encoder.to_text()),
            augment: SpecField::new(config.augment.to_text()),
            optim: SpecField::new(config.optim.to_text()),
            config,
            budget_ms: 12.0,
            pending_reset: false,
            hidden: Vec::new(),
        }
    }

    /// Controls showing `config`, keeping a speed setting.
    pub fn with_budget(config: RunConfig, budget_ms: f32) -> Self {
        let mut c = Self::new(config);
        c.budget_ms = budget_ms;
        c
    }

    fn shows(&self, name: &str) -> bool {
        !self.hidden.iter().any(|h| h == name)
    }

    /// Draws the panel and returns the requested actions (controls named in `hidden` are
    /// not drawn).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        trainer: Option<&Trainer>,
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
        if self.shows("speed") {
            ui.horizontal(|ui| {
                let l = ui.label("Speed").on_hover_text(
                    "training time per frame; the rest of the frame draws the views",
                );
                ui.add(egui::Slider::new(&mut self.budget_ms, 1.0..=40.0).suffix(" ms/frame"))
                    .labelled_by(l.id);
            });
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
                        next = next.switch_to(info.kind);
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
        ui.strong("Optimiser");
        let mut lr = self.config.optim.lr();
        if self.shows("lr") {
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
        ui.separator();
        ui.strong("Run (applies on Reset)");
        let show_data = self.shows("data");
        if show_data {
            ui.label("Data set");
        }
        let mut preset_clicked = None;
        let hidden_data = !show_data;
        ui.horizontal_wrapped(|ui| {
            if hidden_data {
                return;
            }
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
            changed |= self
                .encoder
                .ui(ui, "Encoder", "e.g. mlp:hidden=64,out=16", |t| {
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
