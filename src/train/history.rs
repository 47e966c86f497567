//! What a run remembers: per-step loss and timing, per-interval evaluation.

/// One evaluation point.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalPoint {
    /// Step at which it was taken.
    pub step: usize,
    /// Weighted-kNN accuracy on the held-out split.
    pub knn_acc: f64,
    /// Linear-probe accuracy on the held-out split (every [`PROBE_EVERY`]-th evaluation).
    #[serde(default)]
    pub probe_acc: Option<f64>,
}

/// The linear probe runs at every this-many-th evaluation (it costs tens of kNN evaluations).
pub const PROBE_EVERY: usize = 10;

/// The record of a run.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct History {
    /// Loss after each step (index = step − 1).
    pub loss: Vec<f32>,
    /// Seconds of training time at each step (cumulative).
    pub time: Vec<f32>,
    /// Loss spec in force at each step, as (first step, spec text) changes.
    pub loss_changes: Vec<(usize, String)>,
    /// Evaluations.
    pub evals: Vec<EvalPoint>,
    /// kNN accuracy of the raw and centred inputs under the same protocol (the reference
    /// lines of the accuracy chart), once measured.
    #[serde(default)]
    pub baselines: Option<super::trainer::InputBaselines>,
    /// Evaluations on the whole held-out split against the whole training split (the paper's
    /// protocol), where the lab measures them (see [`super::whole_set`]); `evals` then uses
    /// fixed subsets.
    #[serde(default)]
    pub whole_set: Vec<EvalPoint>,
    /// The input baselines under the whole-set protocol, once measured.
    #[serde(default)]
    pub whole_set_baselines: Option<super::trainer::InputBaselines>,
    /// Collapse metrics of the fixed probe batch at every snapshot: `collapse[0]` measures the
    /// representation h, `collapse[1]` (encoders with a projection head) the output z.
    #[serde(default)]
    pub collapse: Vec<CollapseSeries>,
}

/// One point of the collapse trajectory.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CollapsePoint {
    /// Training step.
    pub step: usize,
    /// Effective rank of the centred probe batch.
    pub effective_rank: f64,
    /// RankMe of the centred probe batch.
    pub rankme: f64,
    /// Wang & Isola alignment.
    pub alignment: f64,
    /// Wang & Isola uniformity.
    pub uniformity: f64,
}

/// Collapse metrics of one embedding stage over a run (recorded once per snapshot).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CollapseSeries {
    /// Trajectory over snapshots.
    pub trace: Vec<CollapsePoint>,
    /// Kept spectra (step, log₁₀ eigenvalues of Cov(z)), oldest first, at geometrically
    /// spaced steps (each at least twice the previous; at most [`KEPT_SPECTRA`]).
    pub spectra: Vec<(usize, Vec<f64>)>,
    /// Metrics of the latest snapshot.
    pub current: Option<crate::analysis::spectrum::CollapseMetrics>,
    /// Why the latest metrics could not be computed, if so.
    pub error: Option<String>,
}

/// Spectra kept by [`CollapseSeries`] (the first one and the latest geometric steps).
pub const KEPT_SPECTRA: usize = 5;

impl CollapseSeries {
    /// Records the metrics measured at `step` (or why they could not be measured). A step at
    /// or before the last recorded one is ignored (the series only moves forward).
    pub fn record(
        &mut self,
        step: usize,
        metrics: Result<crate::analysis::spectrum::CollapseMetrics, String>,
    ) {
        if self.trace.last().is_some_and(|p| step <= p.step) {
            return;
        }
        match metrics {
            Ok(m) => {
                self.error = None;
                self.trace.push(CollapsePoint {
                    step,
                    effective_rank: m.effective_rank,
                    rankme: m.rankme,
                    alignment: m.alignment,
                    uniformity: m.uniformity,
                });
                let keep = self
                    .spectra
                    .last()
                    .is_none_or(|(s, _)| step >= 2 * (*s).max(1));
                if keep {
                    self.spectra.push((step, m.log_spectrum.clone()));
                    if self.spectra.len() > KEPT_SPECTRA {
                        self.spectra.remove(1);
                    }
                }
                self.current = Some(m);
            }
            Err(e) => self.error = Some(e),
        }
    }
}

impl History {
    /// Number of recorded steps.
    pub fn steps(&self) -> usize {
        self.loss.len()
    }

    /// Latest linear-probe accuracy, if any.
    pub fn last_probe(&self) -> Option<f64> {
        self.evals.iter().rev().find_map(|e| e.probe_acc)
    }

    /// Latest kNN accuracy, if any.
    pub fn last_knn(&self) -> Option<f64> {
        self.evals.last().map(|e| e.knn_acc)
    }

    /// Metrics as CSV (`step,time_s,loss,knn_acc,probe_acc`; the accuracies are empty between
    /// evaluations). One run: the CLI's `metrics.csv`; [`runs_to_csv`] writes several.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("step,time_s,loss,knn_acc,probe_acc\n");
        for r in self.rows() {
            s.push_str(&format!(
                "{},{:.6},{:.8},{},{}\n",
                r.step, r.time, r.loss, r.knn, r.probe
            ));
        }
        s
    }

    /// The loss spec text in force at `step` (from [`History::loss_changes`]).
    pub fn loss_spec_at(&self, step: usize) -> &str {
        self.loss_changes
            .iter()
            .take_while(|(first, _)| *first <= step)
            .last()
            .or(self.loss_changes.first())
            .map_or("", |(_, spec)| spec.as_str())
    }

    /// One row per step, with the evaluation taken at that step if any.
    fn rows(&self) -> impl Iterator<Item = CsvRow> + '_ {
        let mut ev = self.evals.iter().peekable();
        self.loss
            .iter()
            .zip(&self.time)
            .enumerate()
            .map(move |(i, (&loss, &time))| {
                let step = i + 1;
                let (mut knn, mut probe) = (String::new(), String::new());
                while let Some(e) = ev.peek() {
                    if e.step < step {
                        ev.next();
                    } else {
                        if e.step == step {
                            knn = format!("{:.6}", e.knn_acc);
                            probe = e.probe_acc.map_or(String::new(), |p| format!("{p:.6}"));
                        }
                        break;
                    }
                }
                CsvRow {
                    step,
                    time,
                    loss,
                    knn,
                    probe,
                }
            })
    }
}

/// One step of a metrics CSV.
struct CsvRow {
    step: usize,
    time: f32,
    loss: f32,
    knn: String,
    probe: String,
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Metrics of several runs as one CSV, `run,step,time_s,loss,knn_acc,probe_acc,loss_spec`:
/// [`History::to_csv`]'s columns for every step of every run (`run` is the run's number,
/// runs in the order given), with the loss spec in force at that step last (quoted: specs
/// hold commas), so the numeric columns keep their places.
pub fn runs_to_csv(runs: &[(usize, &History)]) -> String {
    let mut s = String::from("run,step,time_s,loss,knn_acc,probe_acc,loss_spec\n");
    for (run, h) in runs {
        for r in h.rows() {
            s.push_str(&format!(
                "{run},{},{:.6},{:.8},{},{},{}\n",
                r.step,
                r.time,
                r.loss,
                r.knn,
                r.probe,
                csv_field(h.loss_spec_at(r.step))
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(losses: &[f32], changes: &[(usize, &str)]) -> History {
        History {
            loss: losses.to_vec(),
            time: (1..=losses.len()).map(|k| k as f32 * 0.5).collect(),
            loss_changes: changes.iter().map(|(k, s)| (*k, s.to_string())).collect(),
            collapse: Vec::new(),
            evals: vec![
                EvalPoint {
                    step: 0,
                    knn_acc: 0.25,
                    probe_acc: Some(0.3),
                },
                EvalPoint {
                    step: 2,
                    knn_acc: 0.5,
                    probe_acc: None,
                },
            ],
            baselines: None,
            whole_set: Vec::new(),
            whole_set_baselines: None,
        }
    }

    #[test]
    fn single_run_csv_keeps_the_clis_format() {
        let h = history(&[1.0, 0.5, 0.25], &[(1, "infonce:tau=0.5,eps=1")]);
        assert_eq!(
            h.to_csv(),
            "step,time_s,loss,knn_acc,probe_acc\n\
             1,0.500000,1.00000000,,\n\
             2,1.000000,0.50000000,0.500000,\n\
             3,1.500000,0.25000000,,\n"
        );
    }

    #[test]
    fn runs_csv_numbers_every_run_and_names_the_loss_in_force() {
        let a = history(&[1.0, 0.5], &[(1, "infonce:tau=0.5,eps=1")]);
        let b = history(
            &[2.0, 1.5, 1.25],
            &[(1, "nt-xent:tau=0.5"), (3, "acl-quadratic:tau=0.3,eps=0")],
        );
        assert_eq!(b.loss_spec_at(2), "nt-xent:tau=0.5");
        assert_eq!(b.loss_spec_at(3), "acl-quadratic:tau=0.3,eps=0");
        assert_eq!(
            runs_to_csv(&[(1, &a), (3, &b)]),
            "run,step,time_s,loss,knn_acc,probe_acc,loss_spec\n\
             1,1,0.500000,1.00000000,,,\"infonce:tau=0.5,eps=1\"\n\
             1,2,1.000000,0.50000000,0.500000,,\"infonce:tau=0.5,eps=1\"\n\
             3,1,0.500000,2.00000000,,,nt-xent:tau=0.5\n\
             3,2,1.000000,1.50000000,0.500000,,nt-xent:tau=0.5\n\
             3,3,1.500000,1.25000000,,,\"acl-quadratic:tau=0.3,eps=0\"\n"
        );
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
    }
}
