//! Teaching aids: the lesson-link builder (*Share & export → Lesson link…*), the teacher's
//! note banner, the first-visit primer and the keyboard shortcuts.
//!
//! Everything here is state the lab keeps in [`TeachState`] (one field of
//! [`LabApp`](super::LabApp)); the link grammar itself (`note=`, `tour=`, `autoplay=`) is in
//! [`super::share`]. The browser shell persists one thing: that the primer was dismissed
//! ([`PRIMER_KEY`], see [`TeachState::take_primer_save`]).

use std::collections::{BTreeMap, BTreeSet};

use super::Tab;
use super::share::{self, LinkExtras, MAX_NOTE_CHARS, ShareState};
use super::tour;

/// `localStorage` key under which the shell remembers that the primer was dismissed
/// (value `"1"`).
pub const PRIMER_KEY: &str = "alphacl-primer-dismissed";

/// The first-visit primer: what α is, and what to press.
pub const PRIMER: &str = "Every contrastive loss here is a game between two players: the \
     encoder pulls the two views of a sample together and pushes the other samples (negatives) \
     apart, and α — one weight per pair of samples, drawn in the α heat map — says how hard \
     each negative is pushed. Press Play (or Space) and watch the classes separate, or take \
     the Tour for the paper's story in six steps.";

/// The keyboard shortcuts, as (keys, what they do); listed in the help popup.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "Play / Pause"),
    ("S", "one training step"),
    ("1 – 8", "open a view (in the order of the tabs)"),
    ("Left / Right arrow", "tour: previous / next step"),
    ("?  or  H", "show or hide this list"),
    ("Esc", "close this list or the lesson-link builder"),
];

/// Colours of the teacher's note banner (warm, unlike the blue information banners); the text
/// colour has a contrast of 11:1 on the fill.
const NOTE_FILL: egui::Color32 = egui::Color32::from_rgb(255, 244, 206);
const NOTE_STROKE: egui::Color32 = egui::Color32::from_rgb(176, 124, 0);
const NOTE_TEXT: egui::Color32 = egui::Color32::from_rgb(58, 42, 0);

/// Teaching state of the lab.
#[derive(Debug, Clone, Default)]
pub struct TeachState {
    /// The teacher's note from the link (plain text, at most [`MAX_NOTE_CHARS`]).
    pub note: Option<String>,
    /// The student folded the note away (a button in the top bar brings it back).
    pub note_folded: bool,
    /// Opened from a lesson link (something hidden, a note or a tour step): the views'
    /// "What am I looking at?" notes start open.
    pub lesson: bool,
    /// The primer was dismissed (now or on an earlier visit: the shell sets this at start-up
    /// from [`PRIMER_KEY`]).
    pub primer_dismissed: bool,
    /// The primer was dismissed this session and the shell has not saved that yet.
    pub primer_save: bool,
    /// The lesson-link builder, while its window is open.
    pub builder: Option<LessonBuilder>,
    /// The keyboard-shortcut popup is open.
    pub shortcuts_open: bool,
    /// Rectangles of named widgets drawn in banners and windows, handed to the lab's
    /// `widget_rects` on the next frame.
    pub rects: BTreeMap<String, [f32; 4]>,
}

impl TeachState {
    /// Whether the primer is shown: not dismissed, and no teacher's note speaks instead.
    pub fn shows_primer(&self) -> bool {
        !self.primer_dismissed && self.note.is_none()
    }

    /// Dismisses the primer (remembered by the shell).
    pub fn dismiss_primer(&mut self) {
        if !self.primer_dismissed {
            self.primer_dismissed = true;
            self.primer_save = true;
        }
    }

    /// For the shell: `true` once after the primer was dismissed, when it should write
    /// [`PRIMER_KEY`] = `"1"` to `localStorage`.
    pub fn take_primer_save(&mut self) -> bool {
        std::mem::take(&mut self.primer_save)
    }

    /// Whether the views' "What am I looking at?" notes start open.
    pub fn notes_open_by_default(&self) -> bool {
        self.lesson
    }
}

/// Groups of hideable controls in the builder: (heading, names from [`share::HIDEABLE`]).
const HIDE_GROUPS: &[(&str, &[&str])] = &[
    ("Run buttons", &["play", "step", "reset", "speed"]),
    ("Loss", &["loss", "params"]),
    (
        "Run set-up",
        &[
            "data",
            "encoder",
            "augment",
            "optimiser",
            "lr",
            "batch",
            "seed",
            "normalize",
        ],
    ),
    ("Menus", &["tabs", "tour", "share"]),
];

/// The builder's working copy of a lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonBuilder {
    /// Controls and views to hide (names accepted by `hide=`).
    pub hide: BTreeSet<String>,
    /// The view the lesson opens on (ignored with a tour step: the step opens its own view).
    pub view: Tab,
    /// Start training on open.
    pub autoplay: bool,
    /// Open the tour at this step (index into [`tour::PRESETS`]).
    pub tour: Option<usize>,
    /// The note for the students.
    pub note: String,
}

/// What the builder asks the lab to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuilderAction {
    /// Copy this link to the clipboard.
    Copy(String),
}

impl LessonBuilder {
    /// A builder starting from what the lab shows now.
    pub fn new(
        hidden: &[String],
        view: Tab,
        running: bool,
        tour: Option<usize>,
        note: Option<&str>,
    ) -> Self {
        Self {
            hide: hidden.iter().cloned().collect(),
            view,
            autoplay: running,
            tour,
            note: note.unwrap_or_default().to_string(),
        }
    }

    /// The lesson's link keys.
    pub fn extras(&self) -> LinkExtras {
        LinkExtras {
            autoplay: self.autoplay,
            note: share::check_note(&self.note).ok().flatten(),
            tour: self
                .tour
                .and_then(|i| tour::PRESETS.get(i))
                .map(|p| p.key.to_string()),
        }
    }

    /// The lesson's hash (without `#`) for the lab's current `state`: its runs, or with a
    /// tour step just the step (whose runs and view then apply).
    pub fn hash(&self, state: &ShareState) -> String {
        let hide: Vec<String> = self
            .hide
            .iter()
            .filter(|h| h.as_str() != format!("view:{}", self.opening_view().key()))
            .cloned()
            .collect();
        let lesson = if self.tour.is_some() {
            ShareState {
                hide,
                ..ShareState::default()
            }
        } else {
            ShareState {
                runs: state.runs.clone(),
                tab: self.view,
                hide,
            }
        };
        lesson.to_hash_with(&self.extras())
    }

    /// The view the students land on.
    pub fn opening_view(&self) -> Tab {
        self.tour
            .and_then(|i| tour::PRESETS.get(i))
            .map_or(self.view, |p| share::parse_link(p.link).state.tab)
    }

    /// The builder's contents (inside its window). `link` is the full link of the lesson.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        link: &str,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) -> Option<BuilderAction> {
        let mut action = None;
        ui.label(
            "Make a link that opens the lab ready for your class: choose what students see, \
             where they start, and a note to read first.",
        );
        ui.add_space(4.0);
        egui::Grid::new("lesson_grid")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                ui.strong("Start with");
                ui.vertical(|ui| {
                    let tour_text = self
                        .tour
                        .and_then(|i| tour::PRESETS.get(i))
                        .map_or("the lab as it is now".to_string(), |p| {
                            format!("tour step: {}", p.title)
                        });
                    let r = egui::ComboBox::from_id_salt("lesson_tour")
                        .width(300.0)
                        .selected_text(tour_text)
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut self.tour, None, "the lab as it is now");
                            for (i, p) in tour::PRESETS.iter().enumerate() {
                                ui.selectable_value(
                                    &mut self.tour,
                                    Some(i),
                                    format!("{}: {}", tour::step_label(i), p.title),
                                );
                            }
                        });
                    r.response.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Start with")
                    });
                    crate::app::LabApp::note_rect(rects, "lesson:tour", r.response.rect);
                    ui.label(
                        egui::RichText::new(if self.tour.is_some() {
                            "The step sets up its runs and view; students can go on with Next."
                        } else {
                            "Every run with its config and seed, as on your screen now."
                        })
                        .small(),
                    );
                });
                ui.end_row();

                ui.strong("Opening view");
                if self.tour.is_some() {
                    ui.label(format!("{} (the step's)", self.opening_view().label()));
                } else {
                    let r = egui::ComboBox::from_id_salt("lesson_view")
                        .selected_text(self.view.label())
                        .show_ui(ui, |ui| {
                            for t in Tab::ALL {
                                ui.selectable_value(&mut self.view, t, t.label());
                            }
                        });
                    r.response.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Opening view")
                    });
                    crate::app::LabApp::note_rect(rects, "lesson:view", r.response.rect);
                }
                ui.end_row();

                ui.strong("On open");
                let r = ui.checkbox(&mut self.autoplay, "start training (autoplay)");
                crate::app::LabApp::note_rect(rects, "lesson:autoplay", r.rect);
                ui.end_row();
            });
        // The opening view cannot be hidden.
        let opening = format!("view:{}", self.opening_view().key());
        self.hide.remove(&opening);
        ui.separator();
        ui.strong("Hide from students");
        egui::Grid::new("lesson_hide")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for (title, names) in HIDE_GROUPS {
                    ui.label(*title);
                    ui.horizontal_wrapped(|ui| {
                        for name in *names {
                            let help = share::HIDEABLE
                                .iter()
                                .find(|(n, _)| n == name)
                                .map_or("", |(_, h)| *h);
                            self.hide_box(ui, name, name, help, rects);
                        }
                    });
                    ui.end_row();
                }
                ui.label("Views");
                ui.horizontal_wrapped(|ui| {
                    for t in Tab::ALL {
                        let name = format!("view:{}", t.key());
                        if name == opening {
                            ui.add_enabled(false, egui::Checkbox::new(&mut false, t.label()))
                                .on_disabled_hover_text("the lesson opens on this view");
                            continue;
                        }
                        self.hide_box(ui, &name, t.label(), "hides this view's tab", rects);
                    }
                });
                ui.end_row();
            });
        if self.hide.contains("optimiser") && !self.hide.contains("lr") {
            ui.label(
                egui::RichText::new("Hiding the optimiser hides its learning-rate slider too.")
                    .small(),
            );
        }
        ui.separator();
        ui.horizontal(|ui| {
            ui.strong("Note for students");
            let n = self.note.chars().count();
            ui.label(egui::RichText::new(format!("{n} / {MAX_NOTE_CHARS} characters")).small());
        });
        let r = ui.add(
            egui::TextEdit::multiline(&mut self.note)
                .char_limit(MAX_NOTE_CHARS)
                .desired_rows(3)
                .desired_width(f32::INFINITY)
                .hint_text(
                    "e.g. Lower τ and watch α become sparse. What happens to the kNN accuracy?",
                ),
        );
        crate::app::LabApp::note_rect(rects, "lesson:note", r.rect);
        ui.separator();
        ui.strong("Preview");
        ui.label(self.summary());
        if let Some(n) = self.extras().note {
            note_banner(ui, &n, false);
        }
        ui.add(
            egui::Label::new(egui::RichText::new(link).monospace().small())
                .wrap()
                .selectable(true),
        );
        ui.horizontal(|ui| {
            let b = ui.add(egui::Button::new("Copy lesson link").min_size(egui::vec2(140.0, 26.0)));
            crate::app::LabApp::note_rect(rects, "lesson:copy", b.rect);
            if b.clicked() {
                action = Some(BuilderAction::Copy(link.to_string()));
            }
            ui.label(egui::RichText::new(format!("{} characters", link.chars().count())).small());
        });
        action
    }

    fn hide_box(
        &mut self,
        ui: &mut egui::Ui,
        name: &str,
        label: &str,
        help: &str,
        rects: &mut BTreeMap<String, [f32; 4]>,
    ) {
        let mut on = self.hide.contains(name);
        let r = ui.checkbox(&mut on, label).on_hover_text(help);
        crate::app::LabApp::note_rect(rects, &format!("lesson:hide:{name}"), r.rect);
        if r.changed() {
            if on {
                self.hide.insert(name.to_string());
            } else {
                self.hide.remove(name);
            }
        }
    }

    /// One sentence saying what students will get.
    pub fn summary(&self) -> String {
        let start = match self.tour.and_then(|i| tour::PRESETS.get(i)) {
            Some(p) => format!(
                "Opens the tour at \"{}\" ({})",
                p.title,
                self.opening_view().label()
            ),
            None => format!(
                "Opens your runs on the {} view",
                self.opening_view().label()
            ),
        };
        let play = if self.autoplay {
            "training starts by itself"
        } else {
            "paused until they press Play"
        };
        let hidden = if self.hide.is_empty() {
            "nothing hidden".to_string()
        } else {
            let names: Vec<String> = self
                .hide
                .iter()
                .map(|h| {
                    h.strip_prefix("view:")
                        .and_then(|k| Tab::ALL.into_iter().find(|t| t.key() == k))
                        .map_or(h.clone(), |t| format!("{} view", t.label()))
                })
                .collect();
            format!("hidden: {}", names.join(", "))
        };
        format!("{start}, {play}; {hidden}.")
    }
}

/// Draws the teacher's note as a plain-text banner; returns whether "Fold away" was clicked
/// (no button when `foldable` is false, as in the builder's preview).
pub fn note_banner(ui: &mut egui::Ui, note: &str, foldable: bool) -> bool {
    let mut fold = false;
    egui::Frame::new()
        .fill(NOTE_FILL)
        .stroke(egui::Stroke::new(1.0, NOTE_STROKE))
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(
                    egui::RichText::new("Note from your teacher")
                        .strong()
                        .color(NOTE_TEXT),
                );
                if foldable {
                    fold = ui.small_button("Fold away").clicked();
                }
            });
            // A plain label: the note is never interpreted (no markup, no links).
            ui.add(egui::Label::new(egui::RichText::new(note).color(NOTE_TEXT)).wrap());
        });
    fold
}

/// The keyboard-shortcut list (inside its popup).
pub fn shortcuts_ui(ui: &mut egui::Ui) {
    egui::Grid::new("shortcuts")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .striped(true)
        .show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.label(egui::RichText::new(*keys).monospace().strong());
                ui.label(*what);
                ui.end_row();
            }
        });
    ui.label(egui::RichText::new("Shortcuts are off while you type in a text field.").small());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_links_round_trip_through_the_parser() {
        let state = ShareState::default();
        let mut b = LessonBuilder::new(&[], Tab::Alpha, true, None, Some("Look at α & β"));
        b.hide.insert("data".into());
        b.hide.insert("view:theory".into());
        let p = share::parse_link(&b.hash(&state));
        assert!(p.message().is_none(), "{:?}", p.message());
        assert_eq!(p.state.tab, Tab::Alpha);
        assert_eq!(
            p.state.hide,
            vec!["data".to_string(), "view:theory".to_string()]
        );
        assert_eq!(p.extras(), b.extras());
        assert!(p.autoplay && p.is_lesson());
        // With a tour step the link is the step, and the step's view is never hidden.
        b.tour = tour::step_index("sparse-alpha");
        b.hide.insert("view:alpha".into());
        let h = b.hash(&state);
        assert!(
            h.starts_with("hide=data,view:theory&tour=sparse-alpha"),
            "{h}"
        );
        assert_eq!(b.opening_view(), Tab::Alpha);
    }

    #[test]
    fn the_primer_is_remembered_once() {
        let mut t = TeachState::default();
        assert!(t.shows_primer());
        t.dismiss_primer();
        assert!(!t.shows_primer());
        assert!(t.take_primer_save());
        assert!(!t.take_primer_save());
        t.dismiss_primer();
        assert!(
            !t.take_primer_save(),
            "already dismissed: nothing new to save"
        );
    }
}
