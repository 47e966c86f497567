//! Compare, share, export, import and the tour, natively (egui_kittest for the clicks, the
//! `LabApp` API for the rest). The browser versions of these checks are in tests/e2e.
#![cfg(feature = "app")]

use alphacl::app::{LabApp, Tab, tour};
use alphacl::loss::LossSpec;
use egui_kittest::kittest::Queryable as _;

mod ui_common;
use ui_common::harness;

fn steps(app: &LabApp) -> Vec<usize> {
    app.runs_by_colour()
        .iter()
        .map(|r| r.run.step_count())
        .collect()
}

#[test]
fn compare_mode_adds_runs_by_click_and_advances_them_equally() {
    let mut h = harness(LabApp::from_hash("view=compare&batch=32"));
    h.run();
    for _ in 0..2 {
        h.get_by_label("+ Add run (clone of the edited run)")
            .click();
        h.run();
    }
    assert_eq!(h.state().runs_by_colour().len(), 3);
    // The clones start from the same config and seed: their first losses are the edited run's.
    h.state_mut().single_step();
    let s = steps(h.state());
    assert_eq!(s, vec![1, 1, 1]);
    let first: Vec<f32> = h
        .state()
        .runs_by_colour()
        .iter()
        .map(|r| r.run.history.loss[0])
        .collect();
    assert!(first.iter().all(|l| *l == first[0]), "{first:?}");
    // Different losses, trained in turn: every run advances by the same number of steps.
    let spec = LossSpec::parse("acl-quadratic:tau=0.3").expect("spec");
    h.state_mut()
        .compare_action(alphacl::app::views::CompareAction::SetLoss(1, spec));
    h.state_mut().controls.speed.budget_ms = 20.0;
    h.get_by_label("Play").click();
    h.step();
    h.step();
    h.step();
    let s = steps(h.state());
    assert!(s[0] > 1, "{s:?}");
    assert!(s.iter().all(|&n| n == s[0]), "equal steps: {s:?}");
    let specs: Vec<String> = h
        .state()
        .runs_by_colour()
        .iter()
        .map(|r| r.run.config.loss.to_text())
        .collect();
    assert_eq!(specs[1], "acl-quadratic:tau=0.3,eps=0");
    assert_ne!(specs[0], specs[1]);
}

/// Issue 17 item 4: a run that has taken steps but has no α snapshot yet (snapshots come
/// every `eval` steps) is not told to "take a step".
#[test]
fn compare_between_snapshots_does_not_ask_for_a_step() {
    let mut h = harness(LabApp::from_hash("view=compare&batch=32&eval=25"));
    h.run();
    h.get_by_label_contains("take a step");
    // Steps as Play takes them: the snapshot (and its α) is refreshed every 25 steps.
    let app = h.state_mut();
    let id = app.focused().expect("a run").id;
    let events = app
        .focused_mut()
        .expect("a run")
        .with_local_trainer(|t| {
            for _ in 0..22 {
                t.step().expect("a step");
            }
        })
        .expect("an in-frame run");
    app.deliver(id, events);
    h.run();
    assert!(
        h.query_by_label_contains("take a step").is_none(),
        "run 1 is at step 22"
    );
    h.get_by_label_contains("step 25");
}

#[test]
fn a_shared_link_reproduces_every_run_and_its_first_losses() {
    let mut a = LabApp::from_hash(
        "loss=infonce:tau=0.5,eps=0&batch=32&seed=7&run2=loss=acl-direct:tau=0.5,p=4,eps=0&view=alpha",
    );
    assert!(a.error.is_none(), "{:?}", a.error);
    a.compare_action(alphacl::app::views::CompareAction::Add);
    for _ in 0..10 {
        a.single_step();
    }
    let link = a.share_link();
    let hash = link.split_once('#').map(|x| x.1).unwrap_or_default();
    let mut b = LabApp::from_hash(hash);
    assert!(b.error.is_none(), "{:?}", b.error);
    for _ in 0..10 {
        b.single_step();
    }
    let losses = |app: &LabApp| -> Vec<(String, Vec<f32>)> {
        app.runs_by_colour()
            .iter()
            .map(|r| (r.run.config.to_text(), r.run.history.loss.clone()))
            .collect()
    };
    assert_eq!(losses(&a).len(), 3);
    assert_eq!(losses(&a), losses(&b));
    assert_eq!(b.tab, Tab::Compare, "adding a run opens the compare view");
}

#[test]
fn hide_removes_the_named_controls_and_views() {
    let mut h = harness(LabApp::from_hash("hide=loss,data,seed,view:theory"));
    h.run();
    h.run();
    let rects = &h.state().widget_rects;
    for gone in ["loss:infonce", "data:0", "seed", "tab:theory"] {
        assert!(!rects.contains_key(gone), "{gone} should be hidden");
    }
    for kept in ["play", "step", "param:tau", "batch", "tab:alpha"] {
        assert!(rects.contains_key(kept), "{kept} should be shown");
    }
    assert!(
        h.state()
            .share_link()
            .contains("hide=loss,data,seed,view:theory")
    );
}

#[test]
fn exports_parse_and_match_the_run() {
    let mut app = LabApp::from_hash("batch=32&eval=5");
    for _ in 0..12 {
        app.single_step();
    }
    let csv = app.export_now("csv").expect("csv");
    let text = String::from_utf8(csv.bytes).expect("utf8");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 1 + 12, "a header and one row per step");
    assert!(rows[0].starts_with("run,step,"), "{}", rows[0]);
    for (i, r) in rows[1..].iter().enumerate() {
        let step: usize = r
            .split(',')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("step");
        assert_eq!(step, i + 1);
        assert!(r.starts_with("1,"), "one run: run 1 ({r})");
    }
    let json = app.export_now("json").expect("json");
    let v: serde_json::Value = serde_json::from_slice(&json.bytes).expect("valid JSON");
    assert_eq!(
        v["runs"][0]["history"]["loss"].as_array().map(Vec::len),
        Some(12)
    );
    let cfg = app.export_now("config").expect("config");
    let v: serde_json::Value = serde_json::from_slice(&cfg.bytes).expect("valid JSON");
    let text = v["config"].as_str().expect("config string");
    assert_eq!(
        alphacl::train::RunConfig::parse(text).ok().as_ref(),
        app.view().map(|t| &t.config)
    );
    for key in ["curves.png", "spectrum.png", "alpha.png"] {
        let d = app.export_now(key).expect(key);
        assert_eq!(d.mime, "image/png");
        let dec = png::Decoder::new(std::io::Cursor::new(&d.bytes));
        let info = dec.read_info().expect("a PNG").info().clone();
        assert!(info.width >= 800 && info.height >= 600, "{key}");
    }
    for key in ["curves.svg", "spectrum.svg", "alpha.svg"] {
        let d = app.export_now(key).expect(key);
        let mut r = quick_xml::Reader::from_reader(d.bytes.as_slice());
        let mut buf = Vec::new();
        let mut root = None;
        loop {
            match r.read_event_into(&mut buf) {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(e)) if root.is_none() => {
                    root = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
                Ok(_) => {}
                Err(e) => panic!("{key} is not well-formed XML: {e}"),
            }
            buf.clear();
        }
        assert_eq!(root.as_deref(), Some("svg"), "{key}");
    }
    assert!(app.export_now("nope").is_err());
}

/// Splits one CSV record (RFC 4180 quoting: a field with a comma is in double quotes).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Issue 17 item 3: the metrics CSV holds every run, with `run` and `loss_spec` columns.
#[test]
fn metrics_csv_exports_every_run_with_its_loss_spec() {
    let mut app = LabApp::from_hash("batch=32&eval=5&loss=infonce:tau=0.5,eps=1");
    app.compare_action(alphacl::app::views::CompareAction::Add);
    for _ in 0..4 {
        app.single_step();
    }
    // Run 2 changes its loss after step 4: the column follows the spec in force per step.
    let quad = LossSpec::parse("acl-quadratic:tau=0.3").expect("spec");
    app.compare_action(alphacl::app::views::CompareAction::SetLoss(1, quad.clone()));
    for _ in 0..3 {
        app.single_step();
    }
    let csv = app.export_now("csv").expect("csv");
    let text = String::from_utf8(csv.bytes).expect("utf8");
    let mut lines = text.lines();
    let header = csv_fields(lines.next().expect("header"));
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {header:?}"))
    };
    let (c_run, c_step, c_loss, c_spec) = (col("run"), col("step"), col("loss"), col("loss_spec"));
    col("knn_acc");
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    assert!(rows.iter().all(|r| r.len() == header.len()), "{text}");
    for r in app.runs_by_colour() {
        let n = r.colour + 1;
        let mine: Vec<&Vec<String>> = rows.iter().filter(|f| f[c_run] == n.to_string()).collect();
        let h = &r.run.history;
        assert_eq!(mine.len(), h.loss.len(), "run {n}: one row per step");
        for (k, f) in mine.iter().enumerate() {
            assert_eq!(f[c_step], (k + 1).to_string());
            let l: f32 = f[c_loss].parse().expect("loss");
            assert!(
                (l - h.loss[k]).abs() <= 1e-6 * (1.0 + l.abs()),
                "run {n} step {}",
                k + 1
            );
            let spec = LossSpec::parse(&f[c_spec]).expect("a loss spec");
            let expected = if n == 2 && k >= 4 {
                quad.clone()
            } else {
                LossSpec::parse("infonce:tau=0.5,eps=1").expect("spec")
            };
            assert_eq!(spec, expected, "run {n} step {}", k + 1);
        }
    }
    assert_eq!(rows.len(), 2 * 7);
}

#[test]
fn weights_round_trip_gives_the_same_embeddings_and_bad_imports_change_nothing() {
    let mut app = LabApp::from_hash("batch=32");
    for _ in 0..5 {
        app.single_step();
    }
    // The weights come from the run's engine (at once for an in-frame run).
    assert!(app.export("weights").expect("weights").is_none());
    let saved = app.outbox.downloads.pop().expect("the weights file");
    assert_eq!(saved.name, "alphacl-weights.json");
    let fp_saved = app.embedding_fingerprint();
    for _ in 0..5 {
        app.single_step();
    }
    let fp_later = app.embedding_fingerprint();
    assert_ne!(fp_saved, fp_later, "training changes the embeddings");
    // Bad imports: clear message, run untouched.
    let bad: [(&str, Vec<u8>); 3] = [
        ("broken.json", b"{ not json".to_vec()),
        ("shape.json", {
            let mut v: serde_json::Value = serde_json::from_slice(&saved.bytes).expect("json");
            v["tensors"][0]["shape"][0] = serde_json::json!(3);
            serde_json::to_vec(&v).expect("json")
        }),
        ("other.json", {
            let mut v: serde_json::Value = serde_json::from_slice(&saved.bytes).expect("json");
            v["encoder"] = serde_json::json!("mlp:hidden=32,out=8");
            serde_json::to_vec(&v).expect("json")
        }),
    ];
    for (name, bytes) in bad {
        app.files_dropped(&[(name.to_string(), bytes)]);
        let err = app.error.take().unwrap_or_default();
        assert!(
            err.contains(name) && err.contains("unchanged"),
            "{name}: {err}"
        );
        assert_eq!(
            app.embedding_fingerprint(),
            fp_later,
            "{name} changed the run"
        );
        assert_eq!(app.view().map(|t| t.step_count()), Some(10));
    }
    app.files_dropped(&[("alphacl-weights.json".into(), saved.bytes.clone())]);
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(app.embedding_fingerprint(), fp_saved);
    assert!(app.notice.as_deref().is_some_and(|n| n.contains("Loaded")));
    assert_eq!(
        app.view().map(|t| t.step_count()),
        Some(10),
        "the history is kept"
    );
}

#[test]
fn every_tour_preset_loads_its_runs_and_view_and_trains() {
    for (i, p) in tour::PRESETS.iter().enumerate() {
        let mut app = LabApp::default();
        app.apply_preset(i);
        // Presets on image data wait for their file; deliver a small synthetic one.
        ui_common::deliver_synthetic_assets(&mut app);
        assert!(app.error.is_none(), "{}: {:?}", p.key, app.error);
        assert!(app.running, "{}: a preset starts playing", p.key);
        let expect = alphacl::app::share::parse_link(p.link).state;
        assert_eq!(app.share_state().runs, expect.runs, "{}", p.key);
        assert_eq!(app.tab, expect.tab, "{}", p.key);
        for _ in 0..3 {
            app.single_step();
        }
        for r in app.runs_by_colour() {
            assert_eq!(r.run.step_count(), 3, "{}", p.key);
            assert!(
                r.run.history.loss.iter().all(|l| l.is_finite()),
                "{}",
                p.key
            );
        }
        assert_eq!(app.status_json()["preset"], p.key);
    }
}

#[test]
fn the_tour_menu_and_compare_view_render_with_every_preset() {
    for (i, p) in tour::PRESETS.iter().enumerate() {
        let mut app = LabApp::default();
        app.apply_preset(i);
        ui_common::deliver_synthetic_assets(&mut app);
        app.running = false;
        for _ in 0..6 {
            app.single_step();
        }
        // The deep-linear preset keeps its experiment playing, so step a few frames instead of
        // waiting for the UI to settle.
        let mut h = harness(app);
        h.run_steps(3);
        h.get_by_label_contains(&format!("Tour: {}", p.title));
        h.get_by_label("What am I looking at?");
        if p.key == "deep-linear-pca" {
            h.get_by_label("Pause experiment");
        }
    }
}

#[test]
fn use_this_loss_in_pytorch_shows_the_snippet_of_the_current_loss() {
    let mut h = harness(LabApp::from_hash(
        "loss=acl-inverse:tau=0.3,p=3,k=2,eps=0.01&normalize=0",
    ));
    h.run();
    h.get_by_label("Share & export").click();
    h.run();
    h.get_by_label("Use this loss in PyTorch").click();
    h.run();
    let want = "from alphacl_torch import ContrastiveLoss\n\
                loss_fn = ContrastiveLoss(\"acl-inverse:tau=0.3,p=3,k=2,eps=0.01\", normalize=False)";
    assert_eq!(h.state().pytorch_snippet(), want);
    let notice = h.state().notice.clone().unwrap_or_default();
    assert!(notice.contains(want), "{notice}");
}
