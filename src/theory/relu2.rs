//! Two-layer ReLU network under the max player (PAPER §5.3).
//!
//! Inputs x = s·m_k·e_k with k uniform in {1..d}, s = ±1 and m = linspace(10, 1, d); each view
//! perturbs the magnitude: x' = s·(m_k + ε)·e_k, ε ~ N(0, σ²) (σ = 0.5). Rows [views 1; views 2],
//! N pairs, fixed per seed.
//!
//! Network z = W₂ σ(W₁ x) (σ = ReLU or identity), W₁ hidden × d, W₂ out × hidden. With
//! G = ∂E_α/∂Z (the shared max-player gradient [`crate::loss::energy_grad`], α fixed per step):
//! ∂E/∂W₂ = Gᵀ H, ∂E/∂W₁ = ((G W₂) ⊙ σ'(P))ᵀ X with P = X W₁ᵀ, H = σ(P).
//! A step: W ← W + η·∂E/∂W / N, then either each row of W₁ is set to unit norm (per-row) or
//! ‖W₁‖_F = 1 (whole layer); ‖W₂‖_F = 1 always. Metric: effective rank of W₁.
//!
//! α is either uniform (α_ij = 1/(2N − 2) over the negatives of every row, fixed) or the
//! InfoNCE/entropy min player α_ij ∝ exp(−d²_ij/τ) on normalised z, recomputed every step and
//! held fixed for the gradient (stop-gradient).

use ndarray::{Array2, Axis};

use super::{TheoryError, map_summary, normalize_frobenius};
use crate::analysis::covariance::{ContrastiveSpectrum, contrastive_covariance};
use crate::analysis::linalg::singular_values;
use crate::analysis::spectrum::effective_rank;
use crate::loss::{self, Geometry, LossSpec};
use crate::rng::Rng;

/// How W₁ is kept bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Normalization {
    /// Each row (hidden unit) of W₁ has unit norm.
    PerRow,
    /// W₁ has unit Frobenius norm as a whole.
    Frobenius,
}

/// Which α the max player sees.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum AlphaRule {
    /// α_ij = 1/(2N − 2) on all negatives (fixed).
    Uniform,
    /// α = softmax(−d²/τ) over the negatives of normalised z, recomputed each step.
    InfoNce {
        /// Temperature τ.
        tau: f64,
    },
}

/// Settings (defaults: PAPER §5.3).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Relu2Config {
    /// Input dimension d (also the number of input magnitudes m_k).
    pub dim: usize,
    /// Hidden width (rows of W₁).
    pub hidden: usize,
    /// Output width (rows of W₂).
    pub out: usize,
    /// Number of pairs N.
    pub pairs: usize,
    /// Std of the magnitude perturbation of each view.
    pub mag_noise: f64,
    /// Step size η (on grad/N).
    pub lr: f64,
    /// ReLU (true) or identity (false).
    pub relu: bool,
    /// Normalisation of W₁.
    pub norm: Normalization,
    /// α rule.
    pub alpha: AlphaRule,
    /// Seed.
    pub seed: u64,
}

impl Default for Relu2Config {
    fn default() -> Self {
        Self {
            dim: 10,
            hidden: 10,
            out: 20,
            pairs: 128,
            mag_noise: 0.5,
            lr: 0.02,
            relu: true,
            norm: Normalization::PerRow,
            alpha: AlphaRule::Uniform,
            seed: 1,
        }
    }
}

/// What the experiment shows at one moment.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Relu2Readout {
    /// Steps taken.
    pub steps: usize,
    /// E_α = ½ tr C_α[z] for the current α.
    pub energy: f64,
    /// Singular values of W₁.
    pub w1_singular_values: Vec<f64>,
    /// Effective rank of W₁.
    pub w1_effective_rank: f64,
    /// Singular values of W₂.
    pub w2_singular_values: Vec<f64>,
    /// Effective rank of the end-to-end map W₂W₁ (meaningful for the linear network).
    pub end_to_end_effective_rank: f64,
    /// |cos| between W₁'s top right-singular vector and the top eigenvector of C_α[x].
    pub abs_cos_top_eig: f64,
    /// ½ λ_max(C_α[x]) for the current α.
    pub half_lambda_max: f64,
}

/// The steppable experiment.
#[derive(Debug, Clone)]
pub struct Relu2 {
    /// Its settings.
    pub config: Relu2Config,
    /// Inputs (2N × d).
    pub x: Array2<f64>,
    /// W₁ (hidden × d).
    pub w1: Array2<f64>,
    /// W₂ (out × hidden).
    pub w2: Array2<f64>,
    /// The current α (2N × 2N).
    pub alpha: Array2<f64>,
    steps: usize,
}

impl Relu2 {
    /// Generates data and initial weights.
    pub fn new(config: Relu2Config) -> Result<Self, TheoryError> {
        let ok = (1..=64).contains(&config.dim)
            && (1..=64).contains(&config.hidden)
            && (1..=64).contains(&config.out)
            && (2..=1024).contains(&config.pairs);
        if !ok {
            return Err(TheoryError::Config(format!(
                "dim, hidden and out must be 1 to 64 and pairs 2 to 1024, got {}, {}, {}, {}",
                config.dim, config.hidden, config.out, config.pairs
            )));
        }
        let lr_ok = config.lr.is_finite() && config.lr > 0.0;
        let noise_ok = config.mag_noise.is_finite() && config.mag_noise >= 0.0;
        if !lr_ok || !noise_ok {
            return Err(TheoryError::Config(
                "lr must be finite and > 0, mag_noise finite and ≥ 0".into(),
            ));
        }
        if let AlphaRule::InfoNce { tau } = config.alpha
            && !(tau.is_finite() && tau > 0.0)
        {
            return Err(TheoryError::Config(format!(
                "τ must be finite and > 0, got {tau}"
            )));
        }
        let (d, n) = (config.dim, config.pairs);
        let mags: Vec<f64> = (0..d)
            .map(|k| {
                if d == 1 {
                    10.0
                } else {
                    10.0 - 9.0 * k as f64 / (d as f64 - 1.0)
                }
            })
            .collect();
        let mut rng = Rng::derive(config.seed, "relu2-data");
        let mut x = Array2::<f64>::zeros((2 * n, d));
        for i in 0..n {
            let k = rng.below(d);
            let s = if rng.bernoulli(0.5) { 1.0 } else { -1.0 };
            x[[i, k]] = s * (mags[k] + config.mag_noise * rng.normal());
            x[[i + n, k]] = s * (mags[k] + config.mag_noise * rng.normal());
        }
        let mut init = Rng::derive(config.seed, "relu2-init");
        let mut w1 = Array2::from_shape_fn((config.hidden, d), |_| init.normal());
        let mut w2 = Array2::from_shape_fn((config.out, config.hidden), |_| init.normal());
        normalize_w1(&mut w1, config.norm);
        normalize_frobenius(&mut w2);
        let mut me = Self {
            alpha: Array2::zeros((2 * n, 2 * n)),
            config,
            x,
            w1,
            w2,
            steps: 0,
        };
        me.alpha = me.current_alpha()?;
        Ok(me)
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    fn forward(&self) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
        let pre = self.x.dot(&self.w1.t());
        let h = if self.config.relu {
            pre.mapv(|v| v.max(0.0))
        } else {
            pre.clone()
        };
        let z = h.dot(&self.w2.t());
        (pre, h, z)
    }

    /// α for the current weights (uniform, or the entropy min player on normalised z).
    fn current_alpha(&self) -> Result<Array2<f64>, TheoryError> {
        let n = self.x.nrows();
        let b = n / 2;
        match self.config.alpha {
            AlphaRule::Uniform => {
                let a = 1.0 / (n as f64 - 2.0);
                Ok(Array2::from_shape_fn((n, n), |(i, j)| {
                    if j == i || j == (i + b) % n { 0.0 } else { a }
                }))
            }
            AlphaRule::InfoNce { tau } => {
                let (_, _, mut z) = self.forward();
                // Zero rows cannot be normalised; nudge them so α stays defined.
                for mut r in z.axis_iter_mut(Axis(0)) {
                    if r.dot(&r) < 1e-24 {
                        r[0] = 1e-12;
                    }
                }
                let spec = LossSpec::parse(&format!("acl-entropy:tau={tau}"))
                    .map_err(|e| TheoryError::Config(e.0))?;
                let geom = Geometry::new(z.view(), true)
                    .map_err(|e| TheoryError::Config(e.to_string()))?;
                Ok(loss::alpha_and_loss(&spec, &geom).1)
            }
        }
    }

    /// E_α = ½ tr C_α[z] at the current weights and α.
    pub fn energy(&self) -> f64 {
        let (_, _, z) = self.forward();
        energy_of(&z, &self.alpha)
    }

    /// Takes `n` steps of gradient ascent on E_α (α recomputed before each step when it is
    /// the InfoNCE rule), each followed by the normalisation.
    pub fn step(&mut self, n: usize) {
        let pairs = self.config.pairs as f64;
        for _ in 0..n {
            if matches!(self.config.alpha, AlphaRule::InfoNce { .. })
                && let Ok(a) = self.current_alpha()
            {
                self.alpha = a;
            }
            let (gw1, gw2) = self.weight_gradients();
            let eta = self.config.lr / pairs;
            self.w1.scaled_add(eta, &gw1);
            self.w2.scaled_add(eta, &gw2);
            normalize_w1(&mut self.w1, self.config.norm);
            normalize_frobenius(&mut self.w2);
            self.steps += 1;
        }
    }

    /// ∂E_α/∂W₁ and ∂E_α/∂W₂ at the current weights with α frozen (the ascent direction of
    /// [`Relu2::step`], before the 1/N scaling and the normalisation).
    pub fn weight_gradients(&self) -> (Array2<f64>, Array2<f64>) {
        let (pre, h, z) = self.forward();
        let g = match self.config.alpha {
            AlphaRule::Uniform => uniform_energy_grad(&z),
            AlphaRule::InfoNce { .. } => {
                let beta = loss::energy::beta_from_alpha(self.alpha.view());
                loss::energy_grad(self.alpha.view(), beta.view(), z.view())
            }
        };
        let gw2 = g.t().dot(&h);
        let mut gh = g.dot(&self.w2);
        if self.config.relu {
            ndarray::Zip::from(&mut gh).and(&pre).for_each(|gv, &p| {
                if p <= 0.0 {
                    *gv = 0.0
                }
            });
        }
        (gh.t().dot(&self.x), gw2)
    }

    /// All readouts at the current weights.
    pub fn readout(&self) -> Relu2Readout {
        let spec = contrastive_covariance(self.x.view(), self.alpha.view())
            .ok()
            .and_then(|c| ContrastiveSpectrum::of(c.view()).ok());
        let top = spec
            .as_ref()
            .map(|s| s.top_eigenvector.clone())
            .unwrap_or_default();
        let (w1_sv, w1_erank, cos) = map_summary(&self.w1, &top);
        let e2e = self.w2.dot(&self.w1);
        let e2e_sv = singular_values(e2e.view()).unwrap_or_default();
        Relu2Readout {
            steps: self.steps,
            energy: self.energy(),
            w1_singular_values: w1_sv,
            w1_effective_rank: w1_erank,
            w2_singular_values: singular_values(self.w2.view()).unwrap_or_default(),
            end_to_end_effective_rank: effective_rank(&e2e_sv),
            abs_cos_top_eig: cos,
            half_lambda_max: spec.map_or(f64::NAN, |s| s.half_lambda_max),
        }
    }
}

/// E_α = ½ Σ_i Σ_{j∈N(i)} α_ij ‖z_i − z_j‖² − ½ Σ_i β_i ‖z_i − z_{p(i)}‖².
fn energy_of(z: &Array2<f64>, alpha: &Array2<f64>) -> f64 {
    contrastive_covariance(z.view(), alpha.view())
        .map(|c| crate::analysis::covariance::half_trace(c.view()))
        .unwrap_or(f64::NAN)
}

/// ∂E_α/∂Z for uniform α = 1/(2N − 2) in O(N d): with M the symmetric pair matrix of
/// [`crate::loss::energy`] (2a on negatives, −2 on partners, zero row sums),
/// ∂E/∂Z = −M Z = −2a(S − Z − Z_p) + 2 Z_p, S_i = Σ_j z_j, Z_p the partner rows.
fn uniform_energy_grad(z: &Array2<f64>) -> Array2<f64> {
    let n = z.nrows();
    let b = n / 2;
    let a = 1.0 / (n as f64 - 2.0);
    let s = z.sum_axis(Axis(0));
    let mut g = Array2::<f64>::zeros(z.dim());
    for i in 0..n {
        let p = (i + b) % n;
        for k in 0..z.ncols() {
            let zi = z[[i, k]];
            let zp = z[[p, k]];
            g[[i, k]] = -2.0 * a * (s[k] - zi - zp) + 2.0 * zp;
        }
    }
    g
}

fn normalize_w1(w: &mut Array2<f64>, norm: Normalization) {
    match norm {
        Normalization::Frobenius => normalize_frobenius(w),
        Normalization::PerRow => {
            for mut r in w.axis_iter_mut(Axis(0)) {
                let n = r.dot(&r).sqrt();
                if n > 0.0 {
                    r.mapv_inplace(|v| v / n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_fast_gradient_matches_the_shared_max_player_gradient() {
        let mut rng = Rng::seed_from_u64(2);
        let z = Array2::from_shape_fn((12, 3), |_| rng.normal());
        let n = z.nrows();
        let a = 1.0 / (n as f64 - 2.0);
        let alpha = Array2::from_shape_fn((n, n), |(i, j)| {
            if j == i || j == (i + n / 2) % n {
                0.0
            } else {
                a
            }
        });
        let beta = loss::energy::beta_from_alpha(alpha.view());
        let want = loss::energy_grad(alpha.view(), beta.view(), z.view());
        let got = uniform_energy_grad(&z);
        let err = (&want - &got).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-12, "{err}");
    }

    #[test]
    fn weight_gradients_match_finite_differences() {
        let rules = [
            (true, AlphaRule::Uniform),
            (false, AlphaRule::Uniform),
            (true, AlphaRule::InfoNce { tau: 0.5 }),
        ];
        for (relu, alpha) in rules {
            let e = Relu2::new(Relu2Config {
                relu,
                alpha,
                pairs: 16,
                ..Relu2Config::default()
            })
            .unwrap();
            // The gradients the ascent step uses, against central differences of E_α.
            let (gw1, gw2) = e.weight_gradients();
            let mut rng = Rng::seed_from_u64(9);
            let eps = 1e-6;
            for (which, grad) in [(1, &gw1), (2, &gw2)] {
                let u = Array2::from_shape_fn(grad.dim(), |_| rng.normal());
                let shifted = |s: f64| {
                    let mut c = e.clone();
                    if which == 1 {
                        c.w1.scaled_add(s, &u)
                    } else {
                        c.w2.scaled_add(s, &u)
                    }
                    c.energy()
                };
                let fd = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
                let an = (grad * &u).sum();
                assert!(
                    (fd - an).abs() < 1e-5 * (1.0 + an.abs()),
                    "relu={relu} W{which}: {fd} vs {an}"
                );
            }
        }
    }
}
