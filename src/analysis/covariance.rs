//! The contrastive covariance of PAPER §5.1 and its spectrum.
//!
//! For rows v_i (2B rows, partner p(i) = (i + B) mod 2B; inputs x or any layer's activations)
//! and pairwise importance α (2B × 2B, only j ∈ N(i) = all rows except i and p(i) count):
//!
//! C_α[v] = Σ_i Σ_{j∈N(i)} α_ij (v_i − v_j)(v_i − v_j)ᵀ − Σ_i β_i (v_i − v_{p(i)})(v_i − v_{p(i)})ᵀ,
//! β_i = Σ_{j∈N(i)} α_ij.
//!
//! Computed as C_α[v] = Vᵀ (D_r + D_c − W − Wᵀ) V with W_ij = α_ij (j ∈ N(i)),
//! W_{i,p(i)} = −β_i and D_r, D_c the diagonal row/column sums of W. The energy of Theorem 1
//! is E_α = ½ tr C_α[z] (see [`crate::loss::energy`]); for a linear map z = W x,
//! C_α[z] = W C_α[x] Wᵀ, so the max player does PCA on C_α[x].

use ndarray::{Array1, Array2, ArrayView2};

use super::linalg::{AnalysisError, sym_eigen};
use crate::real::Real;

/// The signed pair-weight matrix W of the module docs (α on negatives, −β on partners).
fn pair_weights<F: Real>(alpha: ArrayView2<F>) -> Array2<F> {
    let n = alpha.nrows();
    let b = n / 2;
    let mut w = Array2::<F>::zeros((n, n));
    for i in 0..n {
        let p = (i + b) % n;
        let mut beta = F::zero();
        for j in 0..n {
            if j != i && j != p {
                w[[i, j]] = alpha[[i, j]];
                beta += alpha[[i, j]];
            }
        }
        w[[i, p]] = -beta;
    }
    w
}

/// C_α[v] (d × d, symmetric) for rows `v` (2B × d) and α (2B × 2B).
pub fn contrastive_covariance<F: Real>(
    v: ArrayView2<F>,
    alpha: ArrayView2<F>,
) -> Result<Array2<F>, AnalysisError> {
    let n = v.nrows();
    if n < 4 || !n.is_multiple_of(2) {
        return Err(AnalysisError::Input(format!(
            "the contrastive covariance needs an even number ≥ 4 of rows (rows k and k+B partners), got {n}"
        )));
    }
    if alpha.dim() != (n, n) {
        return Err(AnalysisError::Input(format!(
            "α must be {n} × {n} to match the rows, got {} × {}",
            alpha.nrows(),
            alpha.ncols()
        )));
    }
    let w = pair_weights(alpha);
    let mut lap = Array2::<F>::zeros((n, n));
    for i in 0..n {
        for j in 0..n {
            lap[[i, j]] = -(w[[i, j]] + w[[j, i]]);
        }
    }
    for i in 0..n {
        let mut deg = F::zero();
        for j in 0..n {
            deg += w[[i, j]] + w[[j, i]];
        }
        lap[[i, i]] += deg;
    }
    let c = v.t().dot(&lap.dot(&v));
    // Symmetrise away rounding.
    let half = F::c(0.5);
    let ct = c.t().to_owned();
    Ok((c + ct).mapv(|x| x * half))
}

/// ½ tr C (= E_α when C = C_α[z]).
pub fn half_trace<F: Real>(c: ArrayView2<F>) -> F {
    let mut t = F::zero();
    for i in 0..c.nrows().min(c.ncols()) {
        t += c[[i, i]];
    }
    t * F::c(0.5)
}

/// The spectrum of a contrastive covariance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ContrastiveSpectrum {
    /// Eigenvalues of C_α, descending (may be negative: augmentation-dominated directions).
    pub eigenvalues: Vec<f64>,
    /// Unit eigenvector of the largest eigenvalue (the direction the max player picks).
    pub top_eigenvector: Vec<f64>,
    /// ½ tr C_α (the energy E_α when the rows are the embeddings).
    pub half_trace: f64,
    /// ½ λ_max(C_α): the maximum of E_α over unit-norm linear maps.
    pub half_lambda_max: f64,
}

impl ContrastiveSpectrum {
    /// Spectrum of a given symmetric matrix C_α.
    pub fn of(c: ArrayView2<f64>) -> Result<Self, AnalysisError> {
        let eig = sym_eigen(c)?;
        let top = eig.top_vector().to_vec();
        let lmax = eig.values.first().copied().unwrap_or(0.0);
        Ok(Self {
            half_trace: half_trace(c),
            half_lambda_max: 0.5 * lmax,
            top_eigenvector: top,
            eigenvalues: eig.values,
        })
    }

    /// C_α[v] of f32 rows and α (as the trainer has them), computed in f64, and its spectrum.
    pub fn from_rows(v: &Array2<f32>, alpha: &Array2<f32>) -> Result<Self, AnalysisError> {
        let c = contrastive_covariance(v.mapv(f64::from).view(), alpha.mapv(f64::from).view())?;
        Self::of(c.view())
    }
}

/// Plain covariance (1/n) Σ (x_i − x̄)(x_i − x̄)ᵀ of the rows, for contrast with C_α.
pub fn plain_covariance(x: ArrayView2<f64>) -> Array2<f64> {
    let n = x.nrows().max(1) as f64;
    let mean = x
        .mean_axis(ndarray::Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()));
    let c = &x - &mean;
    c.t().dot(&c) / n
}
