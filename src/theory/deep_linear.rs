//! Deep linear network under the max player (PAPER §5.2).
//!
//! Data (d = 8, N = 64 pairs): clean x_i has per-dimension std (3, 2.5, 2, 1.5, 1, .8, .5, .3);
//! each view adds independent noise of std 2.8 on dim 0 (`noise_axis`) and 0.1 elsewhere
//! (strong augmentation along the highest-variance axis). Rows are [views 1; views 2] so row i
//! and i + N are a pair. α_ij = 1/(N − 1) between first views (i ≠ j < N), zero elsewhere, fixed
//! (so β_i = 1 for the first views).
//!
//! Note: with noise of std σ on both views, E[(x_i − x_j)(x_i − x_j)ᵀ] = 2Σ + 2σ²e eᵀ for a negative
//! pair and E[(x_i − x_i')(x_i − x_i')ᵀ] = 2σ²e eᵀ for a positive pair, so with β_i = Σ_j α_ij
//! the augmentation cancels in expectation: C_α[x] ≈ 2N·Cov(clean x), while PCA of the views
//! sees Cov(clean x) + σ²e eᵀ. The two disagree when the noisy axis is not already the top
//! clean axis (e.g. `noise_axis` = 1); with the default protocol both pick (mostly) dim 0.
//!
//! Network z = W_L ⋯ W_1 x = M x (L = 3, widths 8 → 6 → 6 → 6), ‖W_l‖_F = 1.
//! E(W) = ½ tr(M C Mᵀ) with C = C_α[x], so ∂E/∂M = M C and
//! ∂E/∂W_l = (W_L ⋯ W_{l+1})ᵀ M C (W_{l−1} ⋯ W_1)ᵀ. A step: W_l ← W_l + η ∂E/∂W_l for every
//! layer, then W_l ← W_l/‖W_l‖_F. The global maximum is ½ λ_max(C), reached by rank-1 layers
//! whose end-to-end map has the top eigenvector of C as right-singular vector.

use ndarray::Array2;

use super::{TheoryError, map_summary, normalize_frobenius};
use crate::analysis::covariance::{ContrastiveSpectrum, contrastive_covariance, plain_covariance};
use crate::analysis::linalg::{abs_cos, singular_values, sym_eigen};
use crate::rng::Rng;

/// Settings of the deep linear experiment (defaults: PAPER §5.2).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeepLinearConfig {
    /// Per-dimension std of the clean inputs (its length is d).
    pub stds: Vec<f64>,
    /// Number of pairs N.
    pub pairs: usize,
    /// The strongly augmented input axis (0 in PAPER §5.2).
    pub noise_axis: usize,
    /// View-noise std on `noise_axis`.
    pub noise_dim0: f64,
    /// View-noise std on the other dimensions.
    pub noise_other: f64,
    /// Layer output widths (input width is d): L = widths.len().
    pub widths: Vec<usize>,
    /// Step size η on the raw gradient.
    pub lr: f64,
    /// Seed of data and initialisation.
    pub seed: u64,
}

impl Default for DeepLinearConfig {
    fn default() -> Self {
        Self {
            stds: vec![3.0, 2.5, 2.0, 1.5, 1.0, 0.8, 0.5, 0.3],
            pairs: 64,
            noise_axis: 0,
            noise_dim0: 2.8,
            noise_other: 0.1,
            widths: vec![6, 6, 6],
            lr: 0.05,
            seed: 1,
        }
    }
}

/// What the experiment shows at one moment.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DeepLinearReadout {
    /// Steps taken.
    pub steps: usize,
    /// E_α = ½ tr(M C_α[x] Mᵀ).
    pub energy: f64,
    /// ½ λ_max(C_α[x]), the global maximum.
    pub half_lambda_max: f64,
    /// energy / half_lambda_max.
    pub energy_ratio: f64,
    /// Singular values of each layer W_1 … W_L.
    pub layer_singular_values: Vec<Vec<f64>>,
    /// Effective rank of each layer.
    pub layer_effective_ranks: Vec<f64>,
    /// Singular values of the end-to-end map M.
    pub singular_values: Vec<f64>,
    /// Effective rank of M.
    pub effective_rank: f64,
    /// |cos| between M's top right-singular vector and the top eigenvector of C_α[x].
    pub abs_cos_top_eig: f64,
    /// |cos| between M's top right-singular vector and the top eigenvector of Cov(x).
    pub abs_cos_pca: f64,
}

/// The steppable experiment.
#[derive(Debug, Clone)]
pub struct DeepLinear {
    /// Its settings.
    pub config: DeepLinearConfig,
    /// Inputs, 2N × d (rows i and i + N are the two views of sample i).
    pub x: Array2<f64>,
    /// α (2N × 2N, fixed).
    pub alpha: Array2<f64>,
    /// C_α[x] (d × d).
    pub c_alpha: Array2<f64>,
    /// Spectrum of C_α[x].
    pub spectrum: ContrastiveSpectrum,
    /// Top eigenvector of the plain covariance of the views (PCA of x).
    pub pca_top: Vec<f64>,
    /// W_1 … W_L (each out × in).
    pub weights: Vec<Array2<f64>>,
    steps: usize,
}

impl DeepLinear {
    /// Generates data and initial weights for `config`.
    pub fn new(config: DeepLinearConfig) -> Result<Self, TheoryError> {
        let d = config.stds.len();
        if !(1..=64).contains(&d) {
            return Err(TheoryError::Config(format!(
                "the input needs 1 to 64 dimensions (one std each), got {d}"
            )));
        }
        if !(2..=4096).contains(&config.pairs) {
            return Err(TheoryError::Config(format!(
                "pairs must be from 2 to 4096, got {}",
                config.pairs
            )));
        }
        if config.widths.is_empty()
            || config.widths.len() > 8
            || config.widths.iter().any(|&w| !(1..=64).contains(&w))
        {
            return Err(TheoryError::Config(format!(
                "the network needs 1 to 8 layers of width 1 to 64, got {:?}",
                config.widths
            )));
        }
        if config.noise_axis >= d {
            return Err(TheoryError::Config(format!(
                "noise_axis must be below the input dimension {d}, got {}",
                config.noise_axis
            )));
        }
        let finite_pos = |v: f64| v.is_finite() && v >= 0.0;
        let lr_ok = config.lr.is_finite() && config.lr > 0.0;
        let all_ok = config.stds.iter().all(|&s| finite_pos(s))
            && finite_pos(config.noise_dim0)
            && finite_pos(config.noise_other)
            && lr_ok;
        if !all_ok {
            return Err(TheoryError::Config(
                "stds and noise must be finite and ≥ 0, lr finite and > 0".into(),
            ));
        }
        let n = config.pairs;
        let mut data_rng = Rng::derive(config.seed, "deep-linear-data");
        let mut x = Array2::<f64>::zeros((2 * n, d));
        for i in 0..n {
            for k in 0..d {
                let clean = config.stds[k] * data_rng.normal();
                let ns = if k == config.noise_axis {
                    config.noise_dim0
                } else {
                    config.noise_other
                };
                x[[i, k]] = clean + ns * data_rng.normal();
                x[[i + n, k]] = clean + ns * data_rng.normal();
            }
        }
        let mut alpha = Array2::<f64>::zeros((2 * n, 2 * n));
        let a = 1.0 / (n as f64 - 1.0);
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    alpha[[i, j]] = a;
                }
            }
        }
        let c_alpha = contrastive_covariance(x.view(), alpha.view())?;
        let spectrum = ContrastiveSpectrum::of(c_alpha.view())?;
        let pca_top = sym_eigen(plain_covariance(x.view()).view())?
            .top_vector()
            .to_vec();
        let mut init_rng = Rng::derive(config.seed, "deep-linear-init");
        let mut weights = Vec::new();
        let mut fan_in = d;
        for &w in &config.widths {
            let mut m = Array2::from_shape_fn((w, fan_in), |_| init_rng.normal());
            normalize_frobenius(&mut m);
            weights.push(m);
            fan_in = w;
        }
        Ok(Self {
            config,
            x,
            alpha,
            c_alpha,
            spectrum,
            pca_top,
            weights,
            steps: 0,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The end-to-end map M = W_L ⋯ W_1.
    pub fn end_to_end(&self) -> Array2<f64> {
        product(&self.weights)
    }

    /// E_α = ½ tr(M C_α[x] Mᵀ).
    pub fn energy(&self) -> f64 {
        let m = self.end_to_end();
        0.5 * (&m.dot(&self.c_alpha) * &m).sum()
    }

    /// ½ λ_max(C_α[x]).
    pub fn half_lambda_max(&self) -> f64 {
        self.spectrum.half_lambda_max
    }

    /// ∂E/∂W_l for every layer at the current weights.
    pub fn gradients(&self) -> Vec<Array2<f64>> {
        let layers = self.weights.len();
        let mc = self.end_to_end().dot(&self.c_alpha);
        (0..layers)
            .map(|l| {
                let above = product(&self.weights[l + 1..]);
                let below = product(&self.weights[..l]);
                match (above.is_empty(), below.is_empty()) {
                    (true, true) => mc.clone(),
                    (true, false) => mc.dot(&below.t()),
                    (false, true) => above.t().dot(&mc),
                    (false, false) => above.t().dot(&mc).dot(&below.t()),
                }
            })
            .collect()
    }

    /// Takes `n` gradient-ascent steps (each followed by per-layer Frobenius normalisation).
    pub fn step(&mut self, n: usize) {
        for _ in 0..n {
            let grads = self.gradients();
            for (w, g) in self.weights.iter_mut().zip(&grads) {
                w.scaled_add(self.config.lr, g);
                normalize_frobenius(w);
            }
            self.steps += 1;
        }
    }

    /// Steps until the energy is within `rel_tol` of ½ λ_max and M has effective rank
    /// below 1 + `rank_tol`, or `max_steps` are taken. Returns whether it converged.
    pub fn run_to_convergence(&mut self, rel_tol: f64, rank_tol: f64, max_steps: usize) -> bool {
        let target = self.half_lambda_max();
        while self.steps < max_steps {
            self.step(10);
            let gap = (target - self.energy()).abs() / target.abs().max(1e-300);
            if gap < rel_tol && self.readout().effective_rank < 1.0 + rank_tol {
                return true;
            }
        }
        false
    }

    /// All readouts at the current weights.
    pub fn readout(&self) -> DeepLinearReadout {
        let m = self.end_to_end();
        let (sv, erank, cos_top) = map_summary(&m, &self.spectrum.top_eigenvector);
        let cos_pca = match crate::analysis::linalg::right_singular(m.view()) {
            Ok((_, v)) => abs_cos(&v.column(0).to_vec(), &self.pca_top),
            Err(_) => f64::NAN,
        };
        let layer_sv: Vec<Vec<f64>> = self
            .weights
            .iter()
            .map(|w| singular_values(w.view()).unwrap_or_default())
            .collect();
        let energy = self.energy();
        let half = self.half_lambda_max();
        DeepLinearReadout {
            steps: self.steps,
            energy,
            half_lambda_max: half,
            energy_ratio: energy / half,
            layer_effective_ranks: layer_sv
                .iter()
                .map(|s| crate::analysis::spectrum::effective_rank(s))
                .collect(),
            layer_singular_values: layer_sv,
            singular_values: sv,
            effective_rank: erank,
            abs_cos_top_eig: cos_top,
            abs_cos_pca: cos_pca,
        }
    }
}

/// W_k ⋯ W_1 for the slice [W_1, …, W_k] (an empty 0 × 0 matrix for an empty slice).
fn product(ws: &[Array2<f64>]) -> Array2<f64> {
    let mut it = ws.iter();
    let Some(first) = it.next() else {
        return Array2::zeros((0, 0));
    };
    let mut p = first.clone();
    for w in it {
        p = w.dot(&p);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_gradients_match_finite_differences() {
        let e = DeepLinear::new(DeepLinearConfig::default()).unwrap();
        let grads = e.gradients();
        let mut rng = Rng::seed_from_u64(5);
        let h = 1e-6;
        for (l, g) in grads.iter().enumerate() {
            let u = Array2::from_shape_fn(g.dim(), |_| rng.normal());
            let mut plus = e.clone();
            plus.weights[l].scaled_add(h, &u);
            let mut minus = e.clone();
            minus.weights[l].scaled_add(-h, &u);
            let fd = (plus.energy() - minus.energy()) / (2.0 * h);
            let an = (g * &u).sum();
            assert!(
                (fd - an).abs() < 1e-6 * (1.0 + an.abs()),
                "layer {l}: fd {fd} vs {an}"
            );
        }
    }
}
