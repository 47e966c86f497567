//! The lab's runs: each a [`RunMirror`] the views draw, and the link to the engine that
//! trains it — its own Web Worker, or (where workers are unavailable) a [`RunEngine`] the page
//! pumps within its frames.
//!
//! The browser shell installs a worker factory with [`set_worker_factory`] before the lab is
//! built; without one (tests, `file://`, no `Worker`) runs train in the frame and the status
//! bar says why.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use web_time::Duration;

use crate::data::Dataset;
use crate::engine::{Command, Event, RunEngine, RunMirror};
use crate::train::RunConfig;

/// The page's end of a run's worker.
pub trait Remote {
    /// Posts an encoded command (and, beside a `Start`, the prepared data file's bytes).
    fn send(&mut self, cmd: &Command, file: Option<&Arc<[u8]>>);
}

/// Makes a worker for the run with this id (its events are delivered with that id).
pub type WorkerFactory = Rc<dyn Fn(u64) -> Result<Box<dyn Remote>, String>>;

thread_local! {
    static FACTORY: RefCell<Option<WorkerFactory>> = const { RefCell::new(None) };
    static FALLBACK: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the worker factory (`Ok`) or records why runs train in the frame (`Err`).
pub fn set_worker_factory(f: Result<WorkerFactory, String>) {
    match f {
        Ok(f) => FACTORY.with(|c| *c.borrow_mut() = Some(f)),
        Err(why) => {
            FACTORY.with(|c| *c.borrow_mut() = None);
            FALLBACK.with(|c| *c.borrow_mut() = Some(why));
        }
    }
}

/// Why runs train in the page's frames (None while workers are in use or in native tests).
pub fn fallback_reason() -> Option<String> {
    FALLBACK.with(|c| c.borrow().clone())
}

fn make_worker(id: u64) -> Option<Result<Box<dyn Remote>, String>> {
    FACTORY.with(|c| c.borrow().clone()).map(|f| f(id))
}

/// Where a run trains.
pub enum Link {
    /// In the page, pumped by [`super::LabApp::logic`] within the frame budget.
    Frame(Box<RunEngine>),
    /// In its own Web Worker.
    Worker(Box<dyn Remote>),
}

/// One run of the lab.
pub struct Run {
    /// Unique id (events from its worker carry it).
    pub id: u64,
    /// Colour number (0-based); the run is "run colour+1" in links and legends.
    pub colour: usize,
    /// What the views draw.
    pub view: RunMirror,
    /// The prepared data file the run trains on, if any (handed to a worker at each start).
    pub file: Option<Arc<[u8]>>,
    /// The share of its time the engine was last told to train ([`Command::SetShare`]).
    pub share: f64,
    link: Link,
}

fn next_id() -> u64 {
    thread_local! {
        static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
    }
    NEXT.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

impl Run {
    /// Starts a run of `config` on `data` (a worker's copy comes from `file`), playing if
    /// `play`. It trains in a worker when a factory is installed, else in the frame.
    pub fn start(
        colour: usize,
        config: RunConfig,
        data: Arc<Dataset>,
        file: Option<Arc<[u8]>>,
        play: bool,
    ) -> Self {
        let id = next_id();
        let link = match make_worker(id) {
            Some(Ok(w)) => Link::Worker(w),
            Some(Err(why)) => {
                FALLBACK.with(|c| *c.borrow_mut() = Some(why));
                Link::Frame(Box::default())
            }
            None => Link::Frame(Box::default()),
        };
        let mut run = Self {
            id,
            colour,
            view: RunMirror::new(config, data, 0),
            file,
            share: 1.0,
            link,
        };
        run.restart(play);
        run
    }

    /// Starts the run afresh from its config (new initialisation, empty history).
    pub fn restart(&mut self, play: bool) {
        self.restart_with(self.view.config.clone(), play);
    }

    /// Starts the run afresh with `config` on the same data.
    pub fn restart_with(&mut self, config: RunConfig, play: bool) {
        let generation = self.view.generation + 1;
        self.view = RunMirror::new(config.clone(), self.view.data.clone(), generation);
        self.view.running = play;
        match &mut self.link {
            Link::Frame(e) => {
                e.start(config, (*self.view.data).clone(), generation, play);
                let events = e.take_events();
                self.receive(events);
            }
            Link::Worker(w) => w.send(
                &Command::Start {
                    config: config.to_text(),
                    generation,
                    play,
                },
                self.file.as_ref(),
            ),
        }
    }

    /// Replaces a failed worker by in-frame training and restarts the run there.
    pub fn train_in_frame(&mut self, play: bool) {
        self.link = Link::Frame(Box::default());
        self.restart(play);
    }

    /// Sends a command; in the frame its events are received at once.
    pub fn send(&mut self, cmd: Command) -> Vec<Event> {
        match &mut self.link {
            Link::Frame(e) => {
                e.handle(cmd, None);
                e.take_events()
            }
            Link::Worker(w) => {
                w.send(&cmd, None);
                Vec::new()
            }
        }
    }

    /// Applies the updates among `events` and returns the others (for the lab to handle).
    pub fn receive(&mut self, events: Vec<Event>) -> Vec<Event> {
        let mut rest = Vec::new();
        for ev in events {
            match ev {
                Event::Update(u) => {
                    self.view.apply(*u);
                }
                other => rest.push(other),
            }
        }
        rest
    }

    /// Whether the run trains in a worker.
    pub fn in_worker(&self) -> bool {
        matches!(self.link, Link::Worker(_))
    }

    /// In the frame: trains for `budget` (at least one step) and returns the steps taken; the
    /// changes reach the view with [`Run::flush`]. In a worker: nothing.
    pub fn pump(&mut self, budget: Duration) -> usize {
        match &mut self.link {
            Link::Frame(e) if e.busy() => e.pump(budget),
            _ => 0,
        }
    }

    /// In the frame: the engine's events since the last flush (none for a worker run, whose
    /// events arrive through the shell).
    pub fn flush(&mut self) -> Vec<Event> {
        match &mut self.link {
            Link::Frame(e) => e.take_events(),
            Link::Worker(_) => Vec::new(),
        }
    }

    /// Whether the run's engine has work in the frame.
    pub fn frame_busy(&self) -> bool {
        matches!(&self.link, Link::Frame(e) if e.busy())
    }

    /// In-frame runs only (tests and tools): works on the trainer directly and returns the
    /// engine's events (to deliver to the lab); `None` for a worker run.
    pub fn with_local_trainer(
        &mut self,
        f: impl FnOnce(&mut crate::train::Trainer),
    ) -> Option<Vec<Event>> {
        match &mut self.link {
            Link::Frame(e) => {
                f(e.trainer_mut()?);
                Some(e.take_events())
            }
            Link::Worker(_) => None,
        }
    }

    /// The in-frame engine's trainer (None for a worker run).
    pub fn local_trainer(&self) -> Option<&crate::train::Trainer> {
        match &self.link {
            Link::Frame(e) => e.trainer(),
            Link::Worker(_) => None,
        }
    }
}
