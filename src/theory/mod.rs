//! The paper's max-player experiments (PAPER §5.2, §5.3), small, deterministic per seed and
//! steppable so the app can animate them.
//!
//! - [`deep_linear`]: z = W_L ⋯ W_1 x with α fixed and ‖W_l‖_F = 1; gradient ascent on
//!   E_α = ½ tr(W C_α[x] Wᵀ) reaches ½ λ_max(C_α[x]) with every layer rank 1 and the learned
//!   direction equal to the top eigenvector of C_α[x] (not the top principal axis of x).
//! - [`relu2`]: z = W₂ σ(W₁ x) under the same protocol; with ReLU and per-row normalisation
//!   the fixed point of W₁ can have rank > 1, the linear network stays rank 1.
//! - [`report`]: multi-seed runs and summaries (`alphacl theory deep-linear|relu2 --json`).
//!
//! Measured with the defaults (seeds 0–19):
//! - deep linear: fraction_global 1.0, fraction_rank_one 1.0, mean E/½λ_max 0.999993,
//!   mean effective rank of W_L⋯W_1 1.0000, mean |cos| to the top eigenvector of C_α[x] 1.0000
//!   (to the top principal axis of the views: 0.84), about 140 steps per seed;
//! - 2-layer, per-row normalisation, uniform α, 3000 steps: mean effective rank of W₁ 2.76 with
//!   ReLU (every seed > 1.5; range 1.6–5.3) and 1.000 for the linear network; with whole-layer
//!   Frobenius normalisation the ReLU W₁ collapses too (mean 1.09 over 20 seeds), as PAPER §5.3
//!   warns.

pub mod deep_linear;
pub mod relu2;
pub mod report;

use crate::analysis::linalg::{abs_cos, right_singular};
use crate::analysis::spectrum::effective_rank;
use ndarray::Array2;

/// Errors of the theory experiments (invalid settings; the message says what is allowed).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TheoryError {
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}

impl From<crate::analysis::AnalysisError> for TheoryError {
    fn from(e: crate::analysis::AnalysisError) -> Self {
        Self::Config(e.to_string())
    }
}

/// Singular values, effective rank and |cos(top right-singular vector, `dir`)| of a matrix.
pub(crate) fn map_summary(w: &Array2<f64>, dir: &[f64]) -> (Vec<f64>, f64, f64) {
    match right_singular(w.view()) {
        Ok((s, v)) => {
            let k = s.len().min(w.nrows());
            let sv: Vec<f64> = s[..k].to_vec();
            let top: Vec<f64> = v.column(0).to_vec();
            let erank = effective_rank(&sv);
            (sv, erank, abs_cos(&top, dir))
        }
        Err(_) => (Vec::new(), f64::NAN, f64::NAN),
    }
}

/// Unit-Frobenius normalisation in place (zero stays zero).
pub(crate) fn normalize_frobenius(w: &mut Array2<f64>) {
    let n = w.iter().map(|v| v * v).sum::<f64>().sqrt();
    if n > 0.0 {
        w.mapv_inplace(|v| v / n);
    }
}

/// Mean of a slice (NaN for an empty slice).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}
