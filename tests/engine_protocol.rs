//! The run engine behind its message boundary: every event goes through the binary codec
//! (as between a Web Worker and the page) and the page's mirror must equal the trainer.

use alphacl::engine::{
    Command, Event, MoveReport, RunEngine, RunMirror, RunUpdate, decode, encode,
};
use alphacl::train::RunConfig;
use alphacl::train::players::PlayerMove;
use std::sync::Arc;
use std::time::Duration;

const CONFIG: &str = "data=gauss:k=4,d=8,n=256&encoder=mlp:hidden=16,out=8&batch=32&eval=10&seed=3";

fn started(play: bool) -> (RunEngine, RunMirror) {
    let cfg = RunConfig::parse(CONFIG).expect("config");
    let mut e = RunEngine::new();
    e.handle(
        Command::Start {
            config: cfg.to_text(),
            generation: 1,
            play,
        },
        None,
    );
    let data = cfg.data.generate(cfg.seed).expect("data");
    let mut m = RunMirror::new(cfg, Arc::new(data), 1);
    let rest = deliver(&mut e, &mut m);
    assert!(rest.is_empty(), "no other events after a start");
    (e, m)
}

/// Takes the engine's events through the codec and applies the updates; returns the rest.
fn deliver(e: &mut RunEngine, m: &mut RunMirror) -> Vec<Event> {
    let bytes = encode(&e.take_events());
    let events: Vec<Event> = decode(&bytes).expect("decodes");
    let mut rest = Vec::new();
    for ev in events {
        match ev {
            Event::Update(u) => assert!(m.apply(*u)),
            other => rest.push(other),
        }
    }
    rest
}

fn send(e: &mut RunEngine, m: &mut RunMirror, cmd: Command) -> Vec<Event> {
    // Commands cross the boundary encoded too.
    let cmd: Command = decode(&encode(&cmd)).expect("command decodes");
    e.handle(cmd, None);
    deliver(e, m)
}

fn assert_mirror_equals_trainer(e: &RunEngine, m: &RunMirror) {
    let t = e.trainer().expect("a run");
    assert_eq!(m.step_count(), t.step_count());
    assert_eq!(m.history.loss, t.history.loss);
    assert_eq!(m.history.time, t.history.time);
    assert_eq!(m.history.evals, t.history.evals);
    assert_eq!(m.history.loss_changes, t.history.loss_changes);
    assert_eq!(m.history.baselines, t.history.baselines);
    assert_eq!(m.history.collapse, t.history.collapse);
    assert_eq!(m.snapshot.step, t.snapshot.step);
    assert_eq!(m.snapshot.alpha, t.snapshot.alpha);
    assert_eq!(m.snapshot.pca2, t.snapshot.pca2);
    assert_eq!(m.config.loss, t.config.loss);
    assert_eq!(m.config.optim, t.config.optim);
}

#[test]
fn the_mirror_follows_the_trainer_through_the_codec() {
    let (mut e, mut m) = started(true);
    assert!(m.ready && m.running);
    for k in 0..40 {
        e.pump(Duration::from_micros(300));
        // Updates are not sent after every slice (a worker posts every 30 ms): skip some.
        if k % 3 == 0 {
            deliver(&mut e, &mut m);
        }
    }
    // A live loss change and a learning-rate change reach the mirror's config and history.
    send(
        &mut e,
        &mut m,
        Command::SetLoss("infonce:tau=0.2,eps=1".into()),
    );
    send(&mut e, &mut m, Command::SetLr(1e-3));
    for _ in 0..10 {
        e.pump(Duration::from_micros(300));
    }
    deliver(&mut e, &mut m);
    let t = e.trainer().expect("run");
    assert!(t.step_count() > 20, "steps {}", t.step_count());
    assert!(
        t.history
            .collapse
            .first()
            .is_some_and(|s| s.trace.len() >= 2),
        "collapse is recorded at every snapshot"
    );
    assert_mirror_equals_trainer(&e, &m);
    assert_eq!(m.config.loss.to_text(), "infonce:tau=0.2,eps=1");
    assert!((m.config.optim.lr() - 1e-3).abs() < 1e-12);
    // Nothing changed: nothing is sent.
    assert!(e.update().is_none() || !e.busy());
}

#[test]
fn step_is_exactly_one_step_and_pause_holds_between_slices() {
    let (mut e, mut m) = started(false);
    assert_eq!(
        e.pump(Duration::from_millis(5)),
        0,
        "a paused run does not train"
    );
    send(&mut e, &mut m, Command::Step);
    assert_eq!(m.step_count(), 1);
    assert!(!m.running);
    assert_eq!(m.snapshot.step, 1, "a single step refreshes the snapshot");
    send(&mut e, &mut m, Command::Play);
    assert!(e.pump(Duration::from_millis(2)) >= 1);
    send(&mut e, &mut m, Command::Pause);
    let steps = m.step_count();
    assert_eq!(e.pump(Duration::from_millis(5)), 0);
    deliver(&mut e, &mut m);
    assert_eq!(
        m.step_count(),
        steps,
        "pause takes effect before the next slice"
    );
    assert_mirror_equals_trainer(&e, &m);
}

#[test]
fn a_changed_loss_never_appends_an_evaluation() {
    let (mut e, mut m) = started(false);
    send(&mut e, &mut m, Command::Step);
    let evals = m.history.evals.len();
    for tau in [0.1, 0.2, 0.3, 0.4] {
        send(
            &mut e,
            &mut m,
            Command::SetLoss(format!("nt-xent:tau={tau}")),
        );
    }
    assert_eq!(m.history.evals.len(), evals, "dragging τ does not evaluate");
    assert_eq!(m.history.loss_changes.len(), 5);
}

#[test]
fn updates_of_a_replaced_run_are_ignored() {
    let (mut e, _) = started(true);
    e.pump(Duration::from_millis(1));
    let Some(u) = e.update() else {
        panic!("an update")
    };
    let cfg = RunConfig::parse(CONFIG).expect("config");
    let data = cfg.data.generate(cfg.seed).expect("data");
    let mut newer = RunMirror::new(cfg, Arc::new(data), 2);
    assert!(
        !newer.apply(u),
        "generation 1 does not apply to generation 2"
    );
    assert!(!newer.ready && newer.history.loss.is_empty());
    assert!(!newer.apply(RunUpdate {
        generation: 7,
        ..RunUpdate::default()
    }));
}

#[test]
fn weights_round_trip_through_commands() {
    let (mut e, mut m) = started(false);
    for _ in 0..3 {
        send(&mut e, &mut m, Command::Step);
    }
    let fp = m.fingerprint.clone().expect("fingerprint");
    let rest = send(&mut e, &mut m, Command::ExportWeights);
    let [Event::Weights(w)] = &rest[..] else {
        panic!("one weights event")
    };
    let w = w.clone();
    for _ in 0..3 {
        send(&mut e, &mut m, Command::Step);
    }
    assert_ne!(
        m.fingerprint.as_ref(),
        Some(&fp),
        "training changes the encoder"
    );
    let rest = send(&mut e, &mut m, Command::ImportWeights("{ nope".into()));
    assert!(matches!(&rest[..], [Event::Imported(Err(_))]));
    let rest = send(&mut e, &mut m, Command::ImportWeights(w));
    assert!(matches!(&rest[..], [Event::Imported(Ok(()))]));
    assert_eq!(
        m.fingerprint.as_ref(),
        Some(&fp),
        "the loaded weights are the saved ones"
    );
    assert_eq!(m.step_count(), 6, "the history is kept");
}

#[test]
fn players_move_in_the_engine_and_report_energies() {
    let (mut e, mut m) = started(false);
    let rest = send(
        &mut e,
        &mut m,
        Command::Player {
            mv: PlayerMove::Max,
            times: 1,
        },
    );
    let [Event::Players(p)] = &rest[..] else {
        panic!("a players event")
    };
    assert!(
        p.alpha.is_none() && p.moves[0].1.is_err(),
        "no frozen α before a min move"
    );
    send(
        &mut e,
        &mut m,
        Command::Player {
            mv: PlayerMove::Min,
            times: 1,
        },
    );
    let rest = send(
        &mut e,
        &mut m,
        Command::Player {
            mv: PlayerMove::Max,
            times: 5,
        },
    );
    let [Event::Players(p)] = &rest[..] else {
        panic!("a players event")
    };
    assert_eq!(p.moves.len(), 5);
    assert_eq!(p.max_steps, 5);
    let n = p.alpha.as_ref().map_or(0, |a| a.nrows());
    assert_eq!(n, 64, "α of the frozen 2B batch");
    assert_eq!(p.z.as_ref().map(|z| z.nrows()), Some(64));
    for (mv, r) in &p.moves {
        assert_eq!(*mv, PlayerMove::Max);
        match r {
            Ok(MoveReport::Max(r)) => assert!(r.energy_after >= r.energy_before - 1e-9),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(m.step_count(), 5, "max-player steps are training steps");
    assert_mirror_equals_trainer(&e, &m);
}

#[test]
fn bad_starts_and_bad_messages_are_reported() {
    let mut e = RunEngine::new();
    e.start_from("loss=nope", 4, true, None);
    let ev = e.take_events();
    assert!(
        matches!(&ev[..], [Event::StartFailed { generation: 4, error }] if error.contains("nope"))
    );
    e.start_from("data=cifar:size=16", 5, true, None);
    let ev = e.take_events();
    assert!(
        matches!(&ev[..], [Event::StartFailed { error, .. }] if error.contains("not handed over"))
    );
    e.start_from("data=cifar:size=16", 6, true, Some(&[1, 2, 3]));
    assert!(matches!(&e.take_events()[..], [Event::StartFailed { .. }]));
    assert!(decode::<Command>(&[0xff, 0xff, 0xff]).is_err());
    assert!(decode::<Vec<Event>>(&[]).is_err());
}
