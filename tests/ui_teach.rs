//! Teaching aids, natively (egui_kittest): the lesson-link builder and its round trip, tour
//! steps with Next / Back in the link, the first-visit primer, the keyboard (Space toggles
//! Play), the encoder presets and headings of hidden controls.
#![cfg(feature = "app")]

use alphacl::app::share::parse_link;
use alphacl::app::{LabApp, Tab, tour};
use egui_kittest::kittest::{NodeT as _, Queryable as _};

mod ui_common;
use ui_common::harness;

/// Opens `hash` as the browser shell does (the lesson keys too).
fn open(hash: &str) -> LabApp {
    let mut app = LabApp::from_hash(hash);
    // Idempotent: a no-op once `apply_link` applies the lesson keys itself.
    app.apply_teaching(&parse_link(hash));
    app
}

fn hash_of(link: &str) -> String {
    link.split_once('#')
        .map(|x| x.1.to_string())
        .unwrap_or_default()
}

#[test]
fn a_lesson_link_built_by_clicks_opens_with_the_same_controls_note_view_and_autoplay() {
    let mut h = harness(LabApp::from_hash("loss=acl-quadratic:tau=0.2"));
    h.state_mut().teach.primer_dismissed = true;
    h.run();
    h.get_by_label("Share & export").click();
    h.run();
    h.get_by_label("Lesson link…").click();
    h.run();
    assert!(h.state().teach.builder.is_some(), "the builder opens");
    // Tick controls to hide and autoplay by clicking them; the view and the note through the
    // builder's state (combo boxes and typing are egui's own).
    for name in ["data", "optimiser", "seed"] {
        h.get_by_role_and_label(egui::accesskit::Role::CheckBox, name)
            .click();
        h.run();
    }
    h.get_by_label("start training (autoplay)").click();
    h.run();

    let note = "Lower τ & watch α thin out: 100% sparse? #1 question\nThen press Step.";
    if let Some(b) = h.state_mut().teach.builder.as_mut() {
        b.view = Tab::Alpha;
        b.note = note.into();
        b.hide.insert("view:theory".into());
    }
    h.run();
    // The preview shows the banner and the summary.
    h.get_by_label(note);
    h.get_by_label_contains("Opens your runs on the α heat map view");
    h.get_by_label("Copy lesson link").scroll_to_me();
    h.run();
    h.get_by_label("Copy lesson link").click();
    h.run();
    let link = h.state().lesson_link().expect("the builder is open");
    assert!(
        h.state()
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("Lesson link copied"))
    );
    assert!(link.contains("note=") && !link.contains(' '), "{link}");

    // A fresh lab opened on the link.
    let app = open(&hash_of(&link));
    assert!(app.error.is_none(), "{:?}", app.error);
    let mut hidden = app.hidden.clone();
    hidden.sort();
    assert_eq!(hidden, ["data", "optimiser", "seed", "view:theory"]);
    assert_eq!(app.teach.note.as_deref(), Some(note));
    assert_eq!(app.tab, Tab::Alpha);
    assert!(app.running, "autoplay");
    assert_eq!(
        app.controls.config.loss.to_text(),
        "acl-quadratic:tau=0.2,eps=0"
    );
    let mut h = harness(app);
    h.run_steps(3);
    // The note is a banner, the view's "What am I looking at?" note is open, hidden controls
    // are gone.
    h.get_by_label("Note from your teacher");
    h.get_by_label(note);
    h.get_by_label(tour::view_note(Tab::Alpha));
    let rects = &h.state().widget_rects;
    for gone in ["data:0", "seed", "lr", "tab:theory"] {
        assert!(!rects.contains_key(gone), "{gone} should be hidden");
    }
    assert!(h.query_by_label("Optimiser").is_none(), "no empty heading");
    // And the note survives in the address (not autoplay).
    let addr = h.state().address_hash();
    assert_eq!(parse_link(&addr).note.as_deref(), Some(note));
    assert!(!addr.contains("autoplay"));
}

#[test]
fn copy_link_keeps_autoplay_while_playing() {
    let mut app = LabApp::from_hash("batch=32");
    assert!(!app.copy_link().contains("autoplay"));
    app.toggle_play();
    assert!(app.running);
    let link = app.copy_link();
    assert!(link.contains("autoplay=1"), "{link}");
    let b = open(&hash_of(&link));
    assert!(b.running && b.controls.config.batch == 32);
}

#[test]
fn tour_steps_go_next_and_back_and_each_step_is_in_the_link() {
    let mut h = harness(open("tour=hard-negatives&hide=share"));
    h.run_steps(2);
    let i = tour::step_index("hard-negatives").expect("a step");
    assert_eq!(h.state().preset, Some(i));
    assert_eq!(h.state().tab, Tab::Compare, "the step's view");
    assert_eq!(
        h.state().hidden,
        ["share"],
        "the link's hidden controls stay"
    );
    assert!(h.state().address_hash().contains("tour=hard-negatives"));
    h.get_by_label_contains(&tour::step_label(i));
    h.get_by_label("Next ›").click();
    h.run_steps(2);
    let next = tour::PRESETS[i + 1];
    assert_eq!(h.state().preset, Some(i + 1));
    let addr = h.state().address_hash();
    assert!(addr.contains(&format!("tour={}", next.key)), "{addr}");
    assert_eq!(h.state().hidden, ["share"]);
    // Reopening the address gives the same step, runs and view.
    let again = open(&addr);
    assert_eq!(again.preset, Some(i + 1));
    assert_eq!(again.share_state(), h.state().share_state());
    h.get_by_label("‹ Back").click();
    h.run_steps(2);
    assert_eq!(h.state().preset, Some(i));
    assert!(h.state().address_hash().contains("tour=hard-negatives"));
    // The keyboard does the same.
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().preset, Some(i + 1));
    h.key_press(egui::Key::ArrowLeft);
    h.run_steps(2);
    assert_eq!(h.state().preset, Some(i));
    h.get_by_label("End tour").click();
    h.run_steps(2);
    assert_eq!(h.state().preset, None);
    assert!(!h.state().address_hash().contains("tour="));
}

#[test]
fn space_toggles_play_but_not_while_typing() {
    let mut h = harness(LabApp::from_hash("batch=32"));
    h.state_mut().teach.primer_dismissed = true;
    h.run();
    assert!(!h.state().running);
    h.key_press(egui::Key::Space);
    h.step();
    assert!(h.state().running, "Space plays");
    h.key_press(egui::Key::Space);
    h.step();
    assert!(!h.state().running, "Space pauses");
    h.run();
    // In a text field Space is a space.
    h.state_mut().open_lesson_builder();
    h.run();
    h.get_by_role(egui::accesskit::Role::MultilineTextInput)
        .focus();
    h.run();
    assert!(
        h.get_by_role(egui::accesskit::Role::MultilineTextInput)
            .is_focused()
    );
    h.key_press(egui::Key::Space);
    h.get_by_role(egui::accesskit::Role::MultilineTextInput)
        .type_text("a b");
    h.run_steps(2);
    assert!(!h.state().running, "typing does not play");
    let note = h.state().teach.builder.as_ref().map(|b| b.note.clone());
    assert_eq!(note.as_deref(), Some("a b"));
    // The shortcut list opens with ? and lists Space.
    h.state_mut().teach.builder = None;
    h.run();
    h.get_by_label("Shortcuts").click();
    h.run();
    h.get_by_label("Space");
    h.get_by_label("Play / Pause");
}

#[test]
fn the_primer_says_what_alpha_is_and_is_remembered_when_dismissed() {
    let mut h = harness(LabApp::from_hash(""));
    h.run();
    h.get_by_label(alphacl::app::teach::PRIMER);
    h.get_by_label("Got it").click();
    h.run();
    assert!(h.query_by_label(alphacl::app::teach::PRIMER).is_none());
    assert!(h.state_mut().teach.take_primer_save(), "the shell saves it");
    // A teacher's note speaks instead of the primer.
    let app = open("note=Welcome%21");
    assert!(!app.teach.shows_primer());
    // "Start the tour" starts at step 1.
    let mut h = harness(LabApp::from_hash(""));
    h.run();
    h.get_by_label("Start the tour").click();
    h.run_steps(2);
    assert_eq!(h.state().preset, Some(0));
}

#[test]
fn encoder_presets_set_their_demo_and_hidden_controls_leave_no_empty_heading() {
    let mut h = harness(LabApp::from_hash(""));
    h.state_mut().teach.primer_dismissed = true;
    h.run();
    h.get_by_label("Deep linear").click();
    h.run();
    let c = h.state().controls.config.clone();
    assert!(
        c.encoder.to_text().starts_with("deep-linear"),
        "{}",
        c.to_text()
    );
    assert!(!c.normalize, "collapse needs raw embeddings");
    assert_eq!(c.loss.to_text(), "acl-entropy:tau=0.5,eps=0");
    h.get_by_label_contains("Theory setting");
    h.get_by_label("MLP").click();
    h.run();
    let c = h.state().controls.config.clone();
    assert!(c.encoder.to_text().starts_with("mlp") && c.normalize);
    assert_eq!(
        c.loss,
        alphacl::train::RunConfig::default().loss,
        "back to the default loss"
    );
    assert!(
        h.query_by_label("CNN")
            .is_some_and(|n| n.accesskit_node().is_disabled()),
        "the CNN needs image data"
    );
    // Hiding every run setting removes its heading; hiding the optimiser hides lr.
    let mut h = harness(LabApp::from_hash(
        "hide=data,encoder,augment,optimiser,batch,seed,normalize",
    ));
    h.run();
    h.run();
    assert!(h.query_by_label("Run (applies on Reset)").is_none());
    assert!(h.query_by_label("Optimiser").is_none());
    assert!(!h.state().widget_rects.contains_key("lr"));
}
