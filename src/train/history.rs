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

    /// Metrics as CSV (`step,time_s,loss,knn_acc`; knn_acc empty between evaluations).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("step,time_s,loss,knn_acc,probe_acc\n");
        let mut ev = self.evals.iter().peekable();
        for (i, (&l, &t)) in self.loss.iter().zip(&self.time).enumerate() {
            let step = i + 1;
            let (mut acc, mut probe) = (String::new(), String::new());
            while let Some(e) = ev.peek() {
                if e.step < step {
                    ev.next();
                } else {
                    if e.step == step {
                        acc = format!("{:.6}", e.knn_acc);
                        probe = e.probe_acc.map_or(String::new(), |p| format!("{p:.6}"));
                    }
                    break;
                }
            }
            s.push_str(&format!("{step},{t:.6},{l:.8},{acc},{probe}\n"));
        }
        s
    }
}
