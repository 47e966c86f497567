//! Optimisers and learning-rate schedules.
//!
//! Text form: `adam:lr=0.001`, `adamw:lr=0.001,wd=0.01`,
//! `sgd:lr=0.1,momentum=0.9,nesterov=1,wd=5e-4,sched=cosine,warmup=100,total=5000`.
//! With θ the parameters, g the gradient, η_t the scheduled learning rate and λ = `wd`:
//!
//! - SGD: g′ = g + λθ (L2), m ← μ m + g′; θ ← θ − η_t m, or with Nesterov θ ← θ − η_t (g′ + μ m).
//! - Adam: g′ = g + λθ (L2, coupled); m ← β₁m + (1−β₁)g′, v ← β₂v + (1−β₂)g′²;
//!   θ ← θ − η_t m̂/(√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), ε = 1e-8.
//! - AdamW: as Adam with g′ = g, plus the decoupled decay θ ← θ − η_t λ θ.
//! - Schedule: linear warm-up η_t = η·t/W for t ≤ W; then `const`: η_t = η, `cosine`:
//!   η_t = η·½(1 + cos(π·min(1, (t − W)/(T − W)))) with T = `total`.

use crate::spec::{Range, SpecError, SpecText, fmt_num, format_spec};

/// The update rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimKind {
    /// SGD with heavy-ball or Nesterov momentum.
    Sgd {
        /// Momentum coefficient μ in [0, 1).
        momentum: f64,
        /// Nesterov look-ahead.
        nesterov: bool,
    },
    /// Adam (coupled L2 decay) or AdamW (decoupled decay).
    Adam {
        /// β₁.
        beta1: f64,
        /// β₂.
        beta2: f64,
        /// Decoupled (AdamW) weight decay.
        decoupled: bool,
    },
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// Constant after warm-up.
    Constant,
    /// Cosine decay to 0 at step `total`.
    Cosine {
        /// Step at which the rate reaches 0.
        total: usize,
    },
}

/// Optimiser choice and hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimSpec {
    /// Update rule.
    pub kind: OptimKind,
    /// Base learning rate η.
    pub lr: f64,
    /// Weight decay λ.
    pub wd: f64,
    /// Schedule after warm-up.
    pub schedule: Schedule,
    /// Linear warm-up steps W.
    pub warmup: usize,
}

impl Default for OptimSpec {
    fn default() -> Self {
        Self::adam(1e-3)
    }
}

impl OptimSpec {
    /// Known names.
    pub const NAMES: &'static [&'static str] = &["sgd", "adam", "adamw"];

    /// Plain Adam with the usual β's and a constant rate.
    pub fn adam(lr: f64) -> Self {
        Self {
            kind: OptimKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                decoupled: false,
            },
            lr,
            wd: 0.0,
            schedule: Schedule::Constant,
            warmup: 0,
        }
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let st = SpecText::parse(text)?;
        const SCHED: &[&str] = &["lr", "wd", "sched", "warmup", "total"];
        let with = |extra: &[&'static str]| {
            let mut v: Vec<&'static str> = SCHED.to_vec();
            v.extend_from_slice(extra);
            v
        };
        let (p, kind, lr_default, wd_default) = match st.name.as_str() {
            "sgd" => {
                let p = st.params(&with(&["momentum", "nesterov"]))?;
                let kind = OptimKind::Sgd {
                    momentum: p.f64("momentum", 0.9, Range::Within(0.0, 0.999))?,
                    nesterov: p.bool("nesterov", false)?,
                };
                (p, kind, 0.05, 0.0)
            }
            name @ ("adam" | "adamw") => {
                let p = st.params(&with(&["beta1", "beta2"]))?;
                let kind = OptimKind::Adam {
                    beta1: p.f64("beta1", 0.9, Range::Within(0.0, 0.9999))?,
                    beta2: p.f64("beta2", 0.999, Range::Within(0.0, 0.99999))?,
                    decoupled: name == "adamw",
                };
                (p, kind, 1e-3, if name == "adamw" { 0.01 } else { 0.0 })
            }
            other => {
                return Err(SpecError::new(format!(
                    "unknown optimiser '{}' (known: {})",
                    crate::spec::clip(other),
                    Self::NAMES.join(", ")
                )));
            }
        };
        let lr = p.f64("lr", lr_default, Range::AboveUpTo(0.0, 100.0))?;
        let wd = p.f64("wd", wd_default, Range::Within(0.0, 10.0))?;
        let warmup = p.usize("warmup", 0, 0, 10_000_000)?;
        let schedule = match p.choice("sched", "const", &["const", "cosine"])? {
            "cosine" => {
                let total = p.usize("total", 10_000, 1, 100_000_000)?;
                if total <= warmup {
                    return Err(SpecError::new(format!(
                        "the cosine schedule needs total ({total}) > warmup ({warmup})"
                    )));
                }
                Schedule::Cosine { total }
            }
            _ => Schedule::Constant,
        };
        Ok(Self {
            kind,
            lr,
            wd,
            schedule,
            warmup,
        })
    }

    /// The text form (optional keys only when they differ from their defaults).
    pub fn to_text(&self) -> String {
        let mut v: Vec<(&str, String)> = vec![("lr", fmt_num(self.lr))];
        let name = match self.kind {
            OptimKind::Sgd { momentum, nesterov } => {
                v.push(("momentum", fmt_num(momentum)));
                if nesterov {
                    v.push(("nesterov", "1".into()));
                }
                "sgd"
            }
            OptimKind::Adam {
                beta1,
                beta2,
                decoupled,
            } => {
                if beta1 != 0.9 {
                    v.push(("beta1", fmt_num(beta1)));
                }
                if beta2 != 0.999 {
                    v.push(("beta2", fmt_num(beta2)));
                }
                if decoupled { "adamw" } else { "adam" }
            }
        };
        let wd_default = if name == "adamw" { 0.01 } else { 0.0 };
        if self.wd != wd_default {
            v.push(("wd", fmt_num(self.wd)));
        }
        if let Schedule::Cosine { total } = self.schedule {
            v.push(("sched", "cosine".into()));
            v.push(("total", total.to_string()));
        }
        if self.warmup > 0 {
            v.push(("warmup", self.warmup.to_string()));
        }
        format_spec(name, &v)
    }

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// A copy with another base learning rate.
    pub fn with_lr(&self, new_lr: f64) -> Self {
        Self {
            lr: new_lr,
            ..self.clone()
        }
    }

    /// The scheduled learning rate η_t at step t (1-based).
    pub fn lr_at(&self, t: u64) -> f64 {
        let t = t as f64;
        let w = self.warmup as f64;
        if t <= w {
            return self.lr * t / w;
        }
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Cosine { total } => {
                let frac = ((t - w) / (total as f64 - w)).clamp(0.0, 1.0);
                self.lr * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos())
            }
        }
    }
}

/// Optimiser state (moment buffers per parameter tensor, created at the first step).
#[derive(Debug, Clone)]
pub struct Optimizer {
    /// Hyper-parameters (may be changed between steps).
    pub spec: OptimSpec,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: u64,
}

/// A copy of an [`Optimizer`]'s state (moments and step count), for rolling back after a
/// divergence; [`Optimizer::save_state`] reuses its allocations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptimState {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: u64,
}

impl Optimizer {
    /// Copies the moments and the step count into `into` (its buffers are reused).
    pub fn save_state(&self, into: &mut OptimState) {
        into.m.clone_from(&self.m);
        into.v.clone_from(&self.v);
        into.t = self.t;
    }

    /// Restores the state saved by [`Optimizer::save_state`] (the hyper-parameters, e.g. a
    /// lowered learning rate, are kept).
    pub fn restore_state(&mut self, from: &OptimState) {
        self.m.clone_from(&from.m);
        self.v.clone_from(&from.v);
        self.t = from.t;
    }

    /// Fresh state.
    pub fn new(spec: OptimSpec) -> Self {
        Self {
            spec,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One update of every (parameter, gradient) pair.
    pub fn step(&mut self, params: Vec<(&mut [f32], &[f32])>) {
        self.t += 1;
        let shapes_differ = self.m.len() != params.len()
            || self
                .m
                .iter()
                .zip(&params)
                .any(|(m, (p, _))| m.len() != p.len());
        if shapes_differ {
            self.m = params.iter().map(|(p, _)| vec![0.0; p.len()]).collect();
            self.v = self.m.clone();
        }
        let lr = self.spec.lr_at(self.t);
        let wd = self.spec.wd as f32;
        match self.spec.kind {
            OptimKind::Sgd { momentum, nesterov } => {
                let (lr, mu) = (lr as f32, momentum as f32);
                for ((p, g), m) in params.into_iter().zip(&mut self.m) {
                    for ((pi, &gi), mi) in p.iter_mut().zip(g).zip(m.iter_mut()) {
                        let g2 = gi + wd * *pi;
                        *mi = mu * *mi + g2;
                        let d = if nesterov { g2 + mu * *mi } else { *mi };
                        *pi -= lr * d;
                    }
                }
            }
            OptimKind::Adam {
                beta1,
                beta2,
                decoupled,
            } => {
                let t = self.t.min(i32::MAX as u64) as i32;
                let bc1 = 1.0 - beta1.powi(t);
                let bc2 = 1.0 - beta2.powi(t);
                let step = (lr * bc2.sqrt() / bc1) as f32;
                let eps = (1e-8 * bc2.sqrt()) as f32;
                let (b1, b2) = (beta1 as f32, beta2 as f32);
                let (l2, dec) = if decoupled {
                    (0.0, (lr * self.spec.wd) as f32)
                } else {
                    (wd, 0.0)
                };
                for (((p, g), m), v) in params.into_iter().zip(&mut self.m).zip(&mut self.v) {
                    for (((pi, &gi), mi), vi) in
                        p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                    {
                        let g2 = gi + l2 * *pi;
                        *mi = b1 * *mi + (1.0 - b1) * g2;
                        *vi = b2 * *vi + (1.0 - b2) * g2 * g2;
                        *pi -= step * *mi / (vi.sqrt() + eps) + dec * *pi;
                    }
                }
            }
        }
    }
}
