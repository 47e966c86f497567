//! Export and import: what the Share & export menu produces, as (file name, MIME type, bytes).
//!
//! - `alphacl-metrics.csv`: every run's per-step metrics ([`runs_to_csv`]: one row per step of
//!   each run, with `run` and `loss_spec` columns; the CLI's single-run `metrics.csv` is
//!   `History::to_csv`);
//! - `alphacl-metrics.json`: every run's config and full history;
//! - `alphacl-run.json`: `{ "config": "<RunConfig text>", "link": "…", "step": n }` — the CLI
//!   accepts it as `alphacl train --config alphacl-run.json`;
//! - `alphacl-weights.json`: the edited run's encoder weights ([`crate::nn::weights`]);
//!   dropping or opening such a file imports it back into the run;
//! - figures drawn by [`crate::figures`] as PNG and SVG: loss/accuracy curves of every run,
//!   the covariance spectrum (earlier snapshots of the edited run, or one line per compared
//!   run) and the α map of the last batch — the data assembled by [`LabApp::with_figure`],
//!   which the live figure ([`super::live_figure`]) draws through as well.
//!
//! *Use this loss in PyTorch* copies [`pytorch_snippet`]: the two lines that build the current
//! loss with the `alphacl_torch` package (`python/`, `pip install ./python`).
//!
//! The shell turns a [`Download`] into a file the browser saves; natively (tests) the
//! downloads are inspected directly.

use crate::figures::{Figure, RunSeries};
use crate::loss::LossSpec;
use crate::train::history::runs_to_csv;

use super::LabApp;
use super::live_figure::FigureKind;
use super::views::run_label;
use crate::engine::{Command, RunMirror};

/// The covariance log-spectrum of the representation on the Collapse view's fixed probe
/// batch at `t`'s latest snapshot (as its engine recorded it).
fn probe_spectrum(t: &RunMirror) -> Option<Vec<f64>> {
    t.history
        .collapse
        .first()
        .and_then(|s| s.current.as_ref())
        .map(|m| m.log_spectrum.clone())
}

/// A file for the user to save.
#[derive(Debug, Clone)]
pub struct Download {
    /// Suggested file name.
    pub name: String,
    /// MIME type.
    pub mime: &'static str,
    /// Content.
    pub bytes: Vec<u8>,
}

/// Things the shell must do for the app after a frame (browser-only effects).
#[derive(Debug, Default)]
pub struct Outbox {
    /// Files to hand to the browser's download mechanism.
    pub downloads: Vec<Download>,
    /// Open a file picker for a weights file.
    pub pick_weights: bool,
    /// Forget the saved state (Reset to defaults).
    pub forget_state: bool,
}

/// Everything the export menu offers: (widget key, label).
pub const EXPORTS: &[(&str, &str)] = &[
    ("csv", "Metrics of every run (CSV)"),
    ("json", "Metrics of every run (JSON)"),
    ("config", "Run config (JSON, for the CLI)"),
    ("weights", "Encoder weights (JSON)"),
    ("curves.png", "Curves figure (PNG)"),
    ("curves.svg", "Curves figure (SVG)"),
    ("spectrum.png", "Spectrum figure (PNG)"),
    ("spectrum.svg", "Spectrum figure (SVG)"),
    ("alpha.png", "α map figure (PNG)"),
    ("alpha.svg", "α map figure (SVG)"),
];

/// The two lines of Python that build `loss` (with `normalize`) in the `alphacl_torch`
/// package: the import and the loss object, whose text form is the lab's own.
pub fn pytorch_snippet(loss: &LossSpec, normalize: bool) -> String {
    let normalize = if normalize { "True" } else { "False" };
    format!(
        "from alphacl_torch import ContrastiveLoss\n\
         loss_fn = ContrastiveLoss(\"{}\", normalize={normalize})",
        loss.to_text()
    )
}

fn text(name: &str, mime: &'static str, s: String) -> Download {
    Download {
        name: name.to_string(),
        mime,
        bytes: s.into_bytes(),
    }
}

impl LabApp {
    /// [`pytorch_snippet`] for the edited run's loss and normalisation.
    pub fn pytorch_snippet(&self) -> String {
        let cfg = self.view().map_or(&self.controls.config, |t| &t.config);
        pytorch_snippet(&cfg.loss, cfg.normalize)
    }

    /// Produces the export named by `key` (one of [`EXPORTS`]): the file, or `None` when it
    /// comes from the run's engine (the weights), which delivers it to the outbox.
    pub fn export(&mut self, key: &str) -> Result<Option<Download>, String> {
        if key == "weights" {
            if self.view().is_none() {
                return Err("there is no run to export".into());
            }
            self.send_focused(Command::ExportWeights);
            return Ok(None);
        }
        self.export_now(key).map(Some)
    }

    /// The exports drawn from what the page holds (everything but the weights).
    pub fn export_now(&self, key: &str) -> Result<Download, String> {
        let t = self.view().ok_or("there is no run to export")?;
        Ok(match key {
            "csv" => {
                let runs = self.runs_by_colour();
                let runs: Vec<(usize, &crate::train::History)> = runs
                    .iter()
                    .map(|r| (r.colour + 1, &r.run.history))
                    .collect();
                text("alphacl-metrics.csv", "text/csv", runs_to_csv(&runs))
            }
            "json" => {
                let all: Vec<serde_json::Value> = self
                    .runs_by_colour()
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "run": r.colour + 1,
                            "config": r.run.config.to_text(),
                            "history": r.run.history,
                        })
                    })
                    .collect();
                let v = serde_json::json!({ "format": "alphacl-metrics", "runs": all });
                text(
                    "alphacl-metrics.json",
                    "application/json",
                    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?,
                )
            }
            "config" => {
                let v = serde_json::json!({
                    "config": t.config.to_text(),
                    "step": t.step_count(),
                    "link": self.share_link(),
                });
                text(
                    "alphacl-run.json",
                    "application/json",
                    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?,
                )
            }
            _ => {
                let (stem, ext) = key
                    .split_once('.')
                    .ok_or_else(|| format!("unknown export '{key}'"))?;
                self.figure(stem, ext)?
            }
        })
    }

    /// Figure `stem` (curves, spectrum, alpha) as `ext` (png: 1600 × 1000, or 1200 × 1100 for
    /// α; svg).
    fn figure(&self, stem: &str, ext: &str) -> Result<Download, String> {
        let kind = FigureKind::ALL
            .into_iter()
            .find(|k| k.key() == stem)
            .ok_or_else(|| format!("unknown figure '{stem}'"))?;
        let size = if kind == FigureKind::Alpha {
            (1200, 1100)
        } else {
            (1600, 1000)
        };
        self.figure_file(kind, ext, size)
    }

    /// Figure `kind` as `ext` (`png` of `size` pixels, or `svg`), named `alphacl-<kind>.<ext>`.
    pub fn figure_file(
        &self,
        kind: FigureKind,
        ext: &str,
        size: (u32, u32),
    ) -> Result<Download, String> {
        let png = match ext {
            "png" => true,
            "svg" => false,
            _ => return Err(format!("unknown figure format '{ext}'")),
        };
        let drawn = self.with_figure(kind, |fig| {
            if png {
                fig.png(size.0, size.1)
            } else {
                fig.svg().map(String::into_bytes)
            }
        })?;
        Ok(Download {
            name: format!("alphacl-{}.{ext}", kind.key()),
            mime: if png { "image/png" } else { "image/svg+xml" },
            bytes: drawn.map_err(|e| format!("could not draw the figure: {e}"))?,
        })
    }

    /// Builds the data of figure `kind` from the runs (every run's curves, the spectra, the
    /// edited run's α) and hands it to `draw`: the exports and the live figure both draw
    /// through here.
    pub fn with_figure<R>(
        &self,
        kind: FigureKind,
        draw: impl FnOnce(&Figure) -> R,
    ) -> Result<R, String> {
        let t = self.view().ok_or("there is no run")?;
        Ok(match kind {
            FigureKind::Curves => {
                let runs = self.runs_by_colour();
                let series: Vec<RunSeries> = runs
                    .iter()
                    .map(|r| RunSeries {
                        label: run_label(r.colour, r.run),
                        history: &r.run.history,
                    })
                    .collect();
                draw(&Figure::Curves(&series))
            }
            FigureKind::Spectrum => draw(&Figure::Spectrum(&self.spectrum_series())),
            FigureKind::Alpha => draw(&Figure::Alpha(
                t.snapshot.alpha.view(),
                &t.snapshot.batch_labels,
            )),
        })
    }

    /// What figure `kind` shows now, as a text that changes when the figure would change
    /// (steps and evaluations of every run, snapshots, loss changes).
    pub fn figure_key(&self, kind: FigureKind) -> String {
        let runs = self.runs_by_colour();
        let each = |f: &dyn Fn(&RunMirror) -> String| -> String {
            runs.iter()
                .map(|r| format!("{}:{}:{}", r.colour, r.run.generation, f(r.run)))
                .collect::<Vec<_>>()
                .join(",")
        };
        match kind {
            FigureKind::Curves => each(&|t| {
                format!(
                    "{}/{}/{}",
                    t.history.loss.len(),
                    t.history.evals.len(),
                    t.config.loss.to_text()
                )
            }),
            FigureKind::Spectrum => each(&|t| t.snapshot.step.to_string()),
            FigureKind::Alpha => self.view().map_or(String::new(), |t| {
                format!(
                    "{}:{}:{}:{}",
                    self.focus_colour,
                    t.generation,
                    t.snapshot.step,
                    t.history.loss_changes.len()
                )
            }),
        }
    }

    /// Spectra to draw: one per compared run, or the edited run's kept snapshots plus now.
    fn spectrum_series(&self) -> Vec<(String, Vec<f64>)> {
        let runs = self.runs_by_colour();
        if runs.len() > 1 {
            return runs
                .iter()
                .filter_map(|r| probe_spectrum(r.run).map(|s| (format!("run {}", r.colour + 1), s)))
                .collect();
        }
        let Some(t) = self.view() else {
            return Vec::new();
        };
        let kept = t
            .history
            .collapse
            .first()
            .map_or(&[][..], |s| &s.spectra[..]);
        let mut v: Vec<(String, Vec<f64>)> = kept
            .iter()
            .filter(|(step, _)| *step < t.snapshot.step)
            .map(|(step, s)| (format!("step {step}"), s.clone()))
            .collect();
        if let Some(s) = probe_spectrum(t) {
            v.push((format!("step {} (now)", t.snapshot.step), s));
        }
        v
    }

    /// Imports an encoder-weights file into the edited run (the run is untouched on error;
    /// its engine answers with the outcome).
    pub fn import_weights(&mut self, name: &str, bytes: &[u8]) {
        if self.view().is_none() {
            self.error = Some("There is no run to load weights into.".into());
            return;
        }
        let text = match crate::spec::decode_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                self.error = Some(format!("{name} is not a text (JSON) file: {e}."));
                return;
            }
        };
        if let Err(e) = crate::nn::WeightsFile::parse(text) {
            self.error = Some(format!(
                "Could not import {name}: {e}. The current run is unchanged."
            ));
            return;
        }
        self.importing = Some(name.to_string());
        self.send_focused(Command::ImportWeights(text.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::LOSSES;

    #[test]
    fn pytorch_snippet_builds_every_loss_with_its_parameters() {
        for info in LOSSES {
            let mut spec = LossSpec::defaults(info.kind);
            // A non-default value, so the snippet must carry the current parameters.
            if let Some(p) = info.params.first() {
                let v = 0.5 * (p.slider.0 + p.slider.1);
                spec.set(p.key, v).unwrap();
            }
            for normalize in [true, false] {
                let s = pytorch_snippet(&spec, normalize);
                let lines: Vec<&str> = s.lines().collect();
                assert_eq!(lines.len(), 2, "{s}");
                assert_eq!(lines[0], "from alphacl_torch import ContrastiveLoss");
                let (text, rest) = lines[1]
                    .strip_prefix("loss_fn = ContrastiveLoss(\"")
                    .and_then(|r| r.split_once('"'))
                    .unwrap_or_else(|| panic!("{s}"));
                assert_eq!(LossSpec::parse(text).unwrap(), spec, "{s}");
                let flag = if normalize { "True" } else { "False" };
                assert_eq!(rest, format!(", normalize={flag})"));
            }
        }
    }
}
