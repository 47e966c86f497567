//! Optimisers: SGD with momentum and Adam, with decoupled weight decay.

use crate::spec::{Range, SpecError, SpecText, fmt_num, format_spec};

/// Optimiser choice and hyper-parameters; text form `adam:lr=0.001` or `sgd:lr=0.1,momentum=0.9`.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimSpec {
    /// SGD with (heavy-ball) momentum.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum coefficient in [0, 1).
        momentum: f64,
        /// Decoupled weight decay.
        wd: f64,
    },
    /// Adam (Kingma & Ba) with decoupled weight decay (AdamW when wd > 0).
    Adam {
        /// Learning rate.
        lr: f64,
        /// β₁.
        beta1: f64,
        /// β₂.
        beta2: f64,
        /// Decoupled weight decay.
        wd: f64,
    },
}

impl Default for OptimSpec {
    fn default() -> Self {
        Self::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            wd: 0.0,
        }
    }
}

impl OptimSpec {
    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let st = SpecText::parse(text)?;
        match st.name.as_str() {
            "sgd" => {
                let p = st.params(&["lr", "momentum", "wd"])?;
                Ok(Self::Sgd {
                    lr: p.f64("lr", 0.05, Range::AboveUpTo(0.0, 100.0))?,
                    momentum: p.f64("momentum", 0.9, Range::Within(0.0, 0.999))?,
                    wd: p.f64("wd", 0.0, Range::AtLeast(0.0))?,
                })
            }
            "adam" => {
                let p = st.params(&["lr", "beta1", "beta2", "wd"])?;
                Ok(Self::Adam {
                    lr: p.f64("lr", 1e-3, Range::AboveUpTo(0.0, 100.0))?,
                    beta1: p.f64("beta1", 0.9, Range::Within(0.0, 0.9999))?,
                    beta2: p.f64("beta2", 0.999, Range::Within(0.0, 0.99999))?,
                    wd: p.f64("wd", 0.0, Range::AtLeast(0.0))?,
                })
            }
            other => Err(SpecError::new(format!(
                "unknown optimiser '{other}' (known: sgd, adam)"
            ))),
        }
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        match *self {
            Self::Sgd { lr, momentum, wd } => format_spec(
                "sgd",
                &[
                    ("lr", fmt_num(lr)),
                    ("momentum", fmt_num(momentum)),
                    ("wd", fmt_num(wd)),
                ],
            ),
            Self::Adam {
                lr,
                beta1,
                beta2,
                wd,
            } => format_spec(
                "adam",
                &[
                    ("lr", fmt_num(lr)),
                    ("beta1", fmt_num(beta1)),
                    ("beta2", fmt_num(beta2)),
                    ("wd", fmt_num(wd)),
                ],
            ),
        }
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            Self::Sgd { lr, .. } | Self::Adam { lr, .. } => lr,
        }
    }

    /// A copy with another learning rate.
    pub fn with_lr(&self, new_lr: f64) -> Self {
        let mut s = self.clone();
        match &mut s {
            Self::Sgd { lr, .. } | Self::Adam { lr, .. } => *lr = new_lr,
        }
        s
    }
}

/// Optimiser state (one moment buffer per parameter tensor, created lazily).
#[derive(Debug, Clone)]
pub struct Optimizer {
    /// Hyper-parameters (may be changed between steps).
    pub spec: OptimSpec,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: u64,
}

impl Optimizer {
    /// Fresh state.
    pub fn new(spec: OptimSpec) -> Self {
        Self {
            spec,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }

    /// One update of every (parameter, gradient) pair.
    pub fn step(&mut self, params: Vec<(&mut [f32], &[f32])>) {
        self.t += 1;
        if self.m.len() != params.len() {
            self.m = params.iter().map(|(p, _)| vec![0.0; p.len()]).collect();
            self.v = self.m.clone();
        }
        match self.spec {
            OptimSpec::Sgd { lr, momentum, wd } => {
                let (lr, mu, wd) = (lr as f32, momentum as f32, wd as f32);
                for ((p, g), m) in params.into_iter().zip(&mut self.m) {
                    for ((pi, &gi), mi) in p.iter_mut().zip(g).zip(m.iter_mut()) {
                        *mi = mu * *mi + gi;
                        *pi -= lr * (*mi + wd * *pi);
                    }
                }
            }
            OptimSpec::Adam {
                lr,
                beta1,
                beta2,
                wd,
            } => {
                let t = self.t as i32;
                let bc1 = 1.0 - beta1.powi(t);
                let bc2 = 1.0 - beta2.powi(t);
                let step = (lr * bc2.sqrt() / bc1) as f32;
                let (b1, b2, eps, wdl) = (beta1 as f32, beta2 as f32, 1e-8f32, (lr * wd) as f32);
                for (((p, g), m), v) in params.into_iter().zip(&mut self.m).zip(&mut self.v) {
                    for (((pi, &gi), mi), vi) in
                        p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                    {
                        *mi = b1 * *mi + (1.0 - b1) * gi;
                        *vi = b2 * *vi + (1.0 - b2) * gi * gi;
                        *pi -= step * *mi / (vi.sqrt() + eps) + wdl * *pi;
                    }
                }
            }
        }
    }
}
