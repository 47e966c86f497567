//! The lab's shareable state as a URL hash, TensorFlow-Playground style.
//!
//! ```text
//! data=gauss:…&encoder=…&loss=infonce:tau=0.5,eps=0&…&run2=loss=acl-direct:tau=0.5,p=4,eps=0&view=compare&hide=data,seed
//! ```
//!
//! - Run 1 is the ordinary [`RunConfig`] text form (missing keys take their defaults).
//! - `run2` … `run4` are compared runs, written as the keys in which they *differ* from run 1,
//!   `;`-separated (`run2=loss=acl-quadratic:tau=0.2;batch=32`); an empty value is a clone.
//!   Every run therefore starts from its own config and seed, so opening a link reproduces the
//!   same first losses.
//! - `view=` selects the open view, `hide=` hides named controls for a lesson
//!   (see [`HIDEABLE`]), `autoplay=1` starts training, `bench=standard` / `bench=cifar` runs a benchmark.
//! - Lesson keys ([`LinkExtras`]): `note=` a teacher's note shown as a plain-text banner
//!   (percent-encoded, at most [`MAX_NOTE_CHARS`] characters), `tour=<step key>` opens the
//!   guided tour at that step (see [`super::tour::PRESETS`]).
//!
//! A link whose run configuration is invalid falls back to the default run and reports why;
//! unknown views or hide names are reported and ignored.

use super::Tab;
use crate::train::config::split_pairs;
use crate::train::{Budget, EvalProtocol, RunConfig, check_budget_for};

/// At most this many runs are compared at once (as many as an exported figure overlays).
pub const MAX_RUNS: usize = crate::figures::MAX_RUNS;

/// Controls that `hide=` can hide: (name, what it hides). Views are hidden with `view:<key>`.
pub const HIDEABLE: &[(&str, &str)] = &[
    ("play", "the Play/Pause button"),
    ("step", "the Step button"),
    ("reset", "the Reset button"),
    ("speed", "the speed slider"),
    ("loss", "the loss picker"),
    ("params", "the loss hyper-parameter sliders"),
    ("lr", "the learning-rate slider"),
    ("data", "the data-set presets and data spec"),
    ("encoder", "the encoder spec"),
    ("augment", "the augmentation spec"),
    ("optimiser", "the optimiser spec"),
    ("batch", "the batch size"),
    ("seed", "the seed"),
    ("normalize", "the L2-normalisation switch"),
    ("tabs", "the whole view tab bar"),
    ("tour", "the Tour menu"),
    ("share", "the Share & export menu"),
];

/// Everything a link carries.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareState {
    /// The runs (1 to [`MAX_RUNS`]); run 1 is the one the control panel edits.
    pub runs: Vec<RunConfig>,
    /// The open view.
    pub tab: Tab,
    /// Hidden controls and views (names from [`HIDEABLE`] or `view:<key>`).
    pub hide: Vec<String>,
}

impl Default for ShareState {
    fn default() -> Self {
        Self {
            runs: vec![RunConfig::default()],
            tab: Tab::Overview,
            hide: Vec::new(),
        }
    }
}

/// A parsed link: the state, the one-shot flags and everything that was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct ParsedLink {
    /// The state to show (the default runs if the link's configs were invalid).
    pub state: ShareState,
    /// `autoplay=1`.
    pub autoplay: bool,
    /// `bench=standard` or `bench=cifar`.
    pub bench: Option<super::bench::BenchKind>,
    /// Problems with the run configurations (the runs fell back to the default).
    pub config_errors: Vec<String>,
    /// Problems with `view=` or `hide=` (ignored).
    pub other_errors: Vec<String>,
    /// `note=`: the teacher's note (None if absent, empty or too long).
    pub note: Option<String>,
    /// `tour=`: the key of the tour step to open at.
    pub tour: Option<String>,
    /// Whether the link names any run key (a config key or `runN=`); a bare `#tour=<key>`
    /// link does not, so the step's own runs apply.
    pub has_runs: bool,
}

/// Errors of each kind that [`ParsedLink::message`] lists before "and N more".
pub const MAX_ERRORS_SHOWN: usize = 3;

impl ParsedLink {
    /// Whether the link's runs may replace the saved session. A link whose run configuration
    /// is invalid (issue 18, item 5) shows [`ParsedLink::message`] and opens the default run
    /// (`state`), but must not overwrite the saved session or rewrite the address bar: the
    /// user keeps what they typed next to the error, and a reload of a good session still
    /// works.
    pub fn may_replace_session(&self) -> bool {
        self.config_errors.is_empty()
    }

    /// One message for the banner, if anything was wrong.
    pub fn message(&self) -> Option<String> {
        let mut parts = Vec::new();
        // At most a few errors of each kind, so a hostile link cannot flood the banner.
        let list = |errors: &[String]| {
            let mut shown = errors
                .iter()
                .take(MAX_ERRORS_SHOWN)
                .cloned()
                .collect::<Vec<_>>();
            if errors.len() > MAX_ERRORS_SHOWN {
                shown.push(format!("and {} more", errors.len() - MAX_ERRORS_SHOWN));
            }
            shown.join("; ")
        };
        if !self.config_errors.is_empty() {
            parts.push(format!(
                "The link's run configuration is invalid — using the default run instead. {}",
                list(&self.config_errors)
            ));
        }
        if !self.other_errors.is_empty() {
            parts.push(format!("Ignored in the link: {}", list(&self.other_errors)));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// Whether `name` is something `hide=` accepts.
pub fn is_hideable(name: &str) -> bool {
    HIDEABLE.iter().any(|(n, _)| *n == name)
        || name
            .strip_prefix("view:")
            .is_some_and(|k| Tab::ALL.iter().any(|t| t.key() == k))
}

/// The keys of `other` whose values differ from `base`, as `k=v;k=v`.
pub fn config_diff(base: &RunConfig, other: &RunConfig) -> String {
    let b = split_pairs(&base.to_text());
    split_pairs(&other.to_text())
        .into_iter()
        .filter(|(k, v)| !b.iter().any(|(bk, bv)| bk == k && bv == v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// Applies a `k=v;k=v` difference to a copy of `base`.
pub fn apply_diff(base: &RunConfig, diff: &str) -> Result<RunConfig, String> {
    let mut cfg = base.clone();
    for part in diff.split(';').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("'{}' is not key=value", crate::spec::clip(part)))?;
        cfg.set(k.trim(), v.trim()).map_err(|e| e.0)?;
    }
    cfg.validate().map_err(|e| e.0)?;
    Ok(cfg)
}

impl ShareState {
    /// The hash text (without `#`).
    pub fn to_hash(&self) -> String {
        let Some(base) = self.runs.first() else {
            return String::new();
        };
        let mut s = base.to_text();
        for (i, r) in self.runs.iter().enumerate().skip(1) {
            s.push_str(&format!("&run{}={}", i + 1, config_diff(base, r)));
        }
        if self.tab != Tab::Overview {
            s.push_str(&format!("&view={}", self.tab.key()));
        }
        if !self.hide.is_empty() {
            s.push_str(&format!("&hide={}", self.hide.join(",")));
        }
        s
    }

    /// Whether the control or view `name` is visible.
    pub fn shows(&self, name: &str) -> bool {
        !self.hide.iter().any(|h| h == name)
    }
}

/// Parses a URL hash (with or without `#`, percent-escapes allowed).
pub fn parse_link(hash: &str) -> ParsedLink {
    let mut out = ParsedLink::default();
    let mut base = RunConfig::default();
    let mut extra: Vec<(usize, String)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (k, v) in split_pairs(hash) {
        // A repeated key (e.g. run2= twice, which would bypass the run limit) is an error,
        // as in the spec grammar.
        if seen.contains(&k) {
            out.config_errors.push(format!(
                "key '{}' given twice in the link",
                crate::spec::clip(&k)
            ));
            continue;
        }
        seen.push(k.clone());
        match k.as_str() {
            "autoplay" => match v.as_str() {
                "1" | "true" => out.autoplay = true,
                "0" | "false" => out.autoplay = false,
                _ => out.other_errors.push(format!(
                    "autoplay must be 1 or 0, got '{}' (ignored)",
                    crate::spec::clip(&v)
                )),
            },
            "view" => match Tab::ALL.iter().find(|t| t.key() == v) {
                Some(t) => out.state.tab = *t,
                None => out.other_errors.push(format!(
                    "unknown view '{}' (known: {})",
                    crate::spec::clip(&v),
                    Tab::ALL.map(Tab::key).join(", ")
                )),
            },
            "hide" => {
                for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if is_hideable(name) {
                        out.state.hide.push(name.to_string());
                    } else {
                        out.other_errors.push(format!(
                            "cannot hide '{}' (known: {}, view:<view>)",
                            crate::spec::clip(name),
                            HIDEABLE.iter().map(|h| h.0).collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
            }
            "note" => match check_note(&v) {
                Ok(n) => out.note = n,
                Err(e) => out.other_errors.push(e),
            },
            "tour" => {
                if super::tour::PRESETS.iter().any(|p| p.key == v) {
                    out.tour = Some(v);
                } else {
                    out.other_errors.push(format!(
                        "unknown tour step '{}' (known: {})",
                        crate::spec::clip(&v),
                        super::tour::PRESETS
                            .iter()
                            .map(|p| p.key)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            "bench" => match v.as_str() {
                "standard" => out.bench = Some(super::bench::BenchKind::Standard),
                "cifar" => out.bench = Some(super::bench::BenchKind::Cifar),
                _ => out.other_errors.push(format!(
                    "unknown benchmark '{}' (known: standard, cifar)",
                    crate::spec::clip(&v)
                )),
            },
            _ => {
                out.has_runs = true;
                if let Some(n) = k.strip_prefix("run").and_then(|n| n.parse::<usize>().ok()) {
                    if (2..=MAX_RUNS).contains(&n) {
                        extra.push((n, v));
                    } else {
                        out.config_errors
                            .push(format!("run{n}: runs are numbered 2 to {MAX_RUNS}"));
                    }
                } else if let Err(e) = base.set(&k, &v) {
                    out.config_errors.push(e.0);
                }
            }
        }
    }
    if out.config_errors.is_empty()
        && let Err(e) = base.validate()
    {
        out.config_errors.push(e.0);
    }
    extra.sort_by_key(|(n, _)| *n);
    let mut runs = vec![base.clone()];
    for (n, diff) in &extra {
        match apply_diff(&base, diff) {
            Ok(c) => runs.push(c),
            Err(e) => out.config_errors.push(format!("run{n}: {e}")),
        }
    }
    // Each run trains in its own browser worker: it must fit the browser's memory budget
    // (the lab evaluates on subsets), checked before anything is allocated.
    for (i, c) in runs.iter().enumerate() {
        if let Err(e) = check_budget_for(c, EvalProtocol::Subset, Budget::Browser) {
            let run = if i == 0 {
                String::new()
            } else {
                format!("run{}: ", i + 1)
            };
            out.config_errors.push(format!("{run}{e}"));
        }
    }
    if out.config_errors.is_empty() {
        out.state.runs = runs;
    }
    out
}

/// The longest teacher note a link carries, in characters (a tweet: long enough for the
/// question of the day, short enough that links stay pasteable).
pub const MAX_NOTE_CHARS: usize = 280;

/// The one-shot and lesson parts of a link, beside the [`ShareState`]: `autoplay=1`,
/// `note=` and `tour=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkExtras {
    /// Start training when the link opens.
    pub autoplay: bool,
    /// The teacher's note (plain text, at most [`MAX_NOTE_CHARS`] characters).
    pub note: Option<String>,
    /// Key of the tour step to open at.
    pub tour: Option<String>,
}

impl LinkExtras {
    /// The keys as hash text, each preceded by `&` (empty when there is nothing to say).
    pub fn to_hash_suffix(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.tour {
            s.push_str(&format!("&tour={}", encode_component(t)));
        }
        if self.autoplay {
            s.push_str("&autoplay=1");
        }
        if let Some(n) = self.note.as_deref().filter(|n| !n.trim().is_empty()) {
            s.push_str(&format!("&note={}", encode_component(n)));
        }
        s
    }
}

impl ParsedLink {
    /// The link's lesson keys.
    pub fn extras(&self) -> LinkExtras {
        LinkExtras {
            autoplay: self.autoplay,
            note: self.note.clone(),
            tour: self.tour.clone(),
        }
    }

    /// Whether the link was made for a class: it hides something, carries a note or opens
    /// the tour.
    pub fn is_lesson(&self) -> bool {
        !self.state.hide.is_empty() || self.note.is_some() || self.tour.is_some()
    }
}

impl ShareState {
    /// The hash text with the lesson keys: `to_hash()` followed by `extras`. A state that is
    /// the default's and a tour step give just the step (`tour=<key>&…`), whose own runs then
    /// apply when the link opens.
    pub fn to_hash_with(&self, extras: &LinkExtras) -> String {
        let suffix = extras.to_hash_suffix();
        let base = self.to_hash();
        if extras.tour.is_some() && self.runs == ShareState::default().runs {
            let mut s = String::new();
            if self.tab != Tab::Overview {
                s.push_str(&format!("&view={}", self.tab.key()));
            }
            if !self.hide.is_empty() {
                s.push_str(&format!("&hide={}", self.hide.join(",")));
            }
            s.push_str(&suffix);
            return s.trim_start_matches('&').to_string();
        }
        base + &suffix
    }
}

/// Checks a `note=` value (already decoded): too long is an error naming the limit; control
/// characters other than line breaks are dropped; an empty note is no note.
pub fn check_note(text: &str) -> Result<Option<String>, String> {
    let n = text.chars().count();
    if n > MAX_NOTE_CHARS {
        return Err(format!(
            "the teacher note is {n} characters long; the limit is {MAX_NOTE_CHARS} (note left out)"
        ));
    }
    let clean: String = text
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let clean = clean.trim().to_string();
    Ok((!clean.is_empty()).then_some(clean))
}

/// Percent-encodes a link value: everything but letters, digits and `-_.~,:!()*/?@` as UTF-8
/// `%XX` escapes (so `&`, `=`, `#`, `%`, `+`, spaces and line breaks survive any browser).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~,:!()*/?@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod lesson_tests {
    use super::*;

    fn lesson_state() -> ShareState {
        let mut cfg = RunConfig::default();
        cfg.set("loss", "acl-quadratic:tau=0.2").unwrap();
        ShareState {
            runs: vec![cfg],
            tab: Tab::Alpha,
            hide: vec!["data".into(), "optimiser".into(), "view:theory".into()],
        }
    }

    #[test]
    fn lesson_keys_round_trip_with_awkward_notes() {
        let s = lesson_state();
        for note in [
            "Watch α thin out as τ drops.",
            "a & b = c; 100% #1 + more?\nSecond line — 'quoted' \"too\"",
            "%41 is not A, and %zz stays",
        ] {
            let e = LinkExtras {
                autoplay: true,
                note: Some(note.into()),
                tour: None,
            };
            let h = s.to_hash_with(&e);
            assert!(!h.contains(' ') && !h.contains('\n'), "{h}");
            let p = parse_link(&format!("#{h}"));
            assert!(p.message().is_none(), "{:?}", p.message());
            assert_eq!(p.state, s, "{h}");
            assert_eq!(p.extras(), e, "{h}");
            assert!(p.is_lesson() && p.has_runs);
        }
    }

    #[test]
    fn a_tour_step_alone_is_a_short_link_and_round_trips() {
        let s = ShareState {
            hide: vec!["share".into()],
            ..ShareState::default()
        };
        let e = LinkExtras {
            autoplay: false,
            note: None,
            tour: Some("hard-negatives".into()),
        };
        let h = s.to_hash_with(&e);
        assert_eq!(h, "hide=share&tour=hard-negatives");
        let p = parse_link(&h);
        assert!(p.message().is_none(), "{:?}", p.message());
        assert!(!p.has_runs);
        assert_eq!(p.extras(), e);
        assert_eq!(p.state.hide, s.hide);
    }

    #[test]
    fn a_too_long_note_is_rejected_with_the_limit_and_the_rest_applies() {
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        let p = parse_link(&format!("batch=32&note={}", encode_component(&long)));
        assert_eq!(p.note, None);
        assert_eq!(p.state.runs[0].batch, 32);
        let m = p.message().unwrap_or_default();
        assert!(m.contains(&format!("limit is {MAX_NOTE_CHARS}")), "{m}");
        // Exactly at the limit (counted in characters, not bytes) is fine.
        let ok = "α".repeat(MAX_NOTE_CHARS);
        let p = parse_link(&format!("note={}", encode_component(&ok)));
        assert_eq!(p.note.as_deref(), Some(ok.as_str()));
    }

    #[test]
    fn notes_are_plain_text_and_unknown_tour_steps_are_reported() {
        let p = parse_link("note=hi%00%1B[31mthere%0Aline&tour=nope");
        assert_eq!(p.note.as_deref(), Some("hi[31mthere\nline"));
        assert_eq!(p.tour, None);
        assert!(
            p.message()
                .unwrap_or_default()
                .contains("unknown tour step 'nope'")
        );
        assert!(parse_link("note=%20%20").note.is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_errors_so_the_run_limit_holds() {
        let p = parse_link("run2=&run2=&run2=&run3=&run4=");
        let m = p.message().unwrap_or_default();
        assert!(m.contains("'run2' given twice"), "{m}");
        assert_eq!(p.state.runs.len(), ShareState::default().runs.len());
        let p = parse_link("loss=nt-xent:tau=0.5&loss=infonce:tau=0.5");
        assert!(
            p.message()
                .unwrap_or_default()
                .contains("'loss' given twice")
        );
    }

    #[test]
    fn round_trip_with_compared_runs_view_and_hide() {
        let mut a = RunConfig::default();
        a.set("loss", "infonce:tau=0.5,eps=0").unwrap();
        let mut b = a.clone();
        b.set("loss", "acl-quadratic:tau=0.2").unwrap();
        b.batch = 32;
        let c = a.clone();
        let s = ShareState {
            runs: vec![a, b, c],
            tab: Tab::Alpha,
            hide: vec!["data".into(), "view:theory".into()],
        };
        let h = s.to_hash();
        assert!(
            h.contains("run2=loss=acl-quadratic:tau=0.2,eps=0;batch=32"),
            "{h}"
        );
        assert!(
            h.contains("&run3=&"),
            "an identical clone is an empty diff: {h}"
        );
        let p = parse_link(&format!("#{h}"));
        assert!(p.message().is_none(), "{:?}", p.message());
        assert_eq!(p.state, s);
    }

    #[test]
    fn bad_run_config_falls_back_to_default_with_reason() {
        let p = parse_link("loss=infonce:tau=0.5&run2=loss=acl-direct:tau=-1");
        assert_eq!(p.state.runs, vec![RunConfig::default()]);
        let m = p.message().unwrap_or_default();
        assert!(m.contains("run2") && m.contains("tau"), "{m}");
        let p = parse_link("run9=");
        assert!(p.message().unwrap_or_default().contains("run9"));
    }

    #[test]
    fn unknown_hide_and_view_are_reported_but_config_applies() {
        let p = parse_link("batch=32&hide=loss,wings,view:nope&view=space");
        assert_eq!(p.state.runs[0].batch, 32);
        assert_eq!(p.state.hide, vec!["loss".to_string()]);
        let m = p.message().unwrap_or_default();
        assert!(
            m.contains("wings") && m.contains("view:nope") && m.contains("space"),
            "{m}"
        );
        assert!(p.config_errors.is_empty());
    }
}
