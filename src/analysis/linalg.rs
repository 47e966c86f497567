//! Small dense linear algebra in pure Rust (compiles to wasm): symmetric eigen-decomposition
//! and singular values.
//!
//! - [`sym_eigen`]: A = V Λ Vᵀ for a real symmetric A by the cyclic Jacobi method. Each
//!   rotation J(p, q, θ) zeroes a_pq with tan θ = t, t = sign(τ)/(|τ| + √(1 + τ²)),
//!   τ = (a_qq − a_pp)/(2 a_pq); sweeps repeat until the off-diagonal mass is below
//!   1e-15·‖A‖_F. Accurate to machine precision for the sizes used here (d ≤ 512).
//! - [`singular_values`]: σ_k(X) = √λ_k of the Gram matrix of the smaller side (X Xᵀ or XᵀX);
//!   λ_k below 1e-13·λ_1 count as zero (so σ_k/σ_1 below ≈ 3e-7 is not resolved).
//! - [`right_singular`]: σ_k and right-singular vectors of X from the eigenvectors of XᵀX.

use ndarray::{Array1, Array2, ArrayView2};

/// Errors of the analysis routines (malformed input; never a panic).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    /// The input has the wrong shape or content; the message says what is allowed.
    #[error("bad input: {0}")]
    Input(String),
}

/// Eigen-decomposition of a symmetric matrix, eigenvalues in descending order.
#[derive(Debug, Clone)]
pub struct SymEigen {
    /// Eigenvalues λ_1 ≥ λ_2 ≥ … ≥ λ_d.
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors as columns: column k belongs to `values[k]`.
    pub vectors: Array2<f64>,
}

impl SymEigen {
    /// The eigenvector of the largest eigenvalue (empty for a 0 × 0 matrix).
    pub fn top_vector(&self) -> Array1<f64> {
        if self.values.is_empty() {
            return Array1::zeros(0);
        }
        self.vectors.column(0).to_owned()
    }
}

/// Maximum number of Jacobi sweeps (convergence is quadratic; 10–15 is typical).
const MAX_SWEEPS: usize = 60;

/// Symmetric eigen-decomposition A = V Λ Vᵀ (cyclic Jacobi), eigenvalues descending.
///
/// `a` must be square with finite entries; it is symmetrised as (A + Aᵀ)/2 first.
pub fn sym_eigen(a: ArrayView2<f64>) -> Result<SymEigen, AnalysisError> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(AnalysisError::Input(format!(
            "eigen-decomposition needs a square matrix, got {} × {}",
            n,
            a.ncols()
        )));
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(AnalysisError::Input(
            "eigen-decomposition needs finite entries (found NaN or infinity)".into(),
        ));
    }
    // Row-major working copies: m (the matrix being diagonalised) and v (accumulated rotations).
    let mut m = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            m[i * n + j] = 0.5 * (a[[i, j]] + a[[j, i]]);
        }
    }
    let mut v = vec![0.0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = m.iter().map(|x| x * x).sum::<f64>();
    let tol = 1e-30 * total.max(f64::MIN_POSITIVE);
    for _ in 0..MAX_SWEEPS {
        let mut off = 0.0;
        for p in 0..n {
            for q in (p + 1)..n {
                off += m[p * n + q] * m[p * n + q];
            }
        }
        if 2.0 * off <= tol {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let app = m[p * n + p];
                let aqq = m[q * n + q];
                let tau = (aqq - app) / (2.0 * apq);
                let t = if tau >= 0.0 {
                    1.0 / (tau + (1.0 + tau * tau).sqrt())
                } else {
                    -1.0 / (-tau + (1.0 + tau * tau).sqrt())
                };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = t * c;
                // A ← A J (columns p, q), then A ← Jᵀ A (rows p, q).
                for k in 0..n {
                    let akp = m[k * n + p];
                    let akq = m[k * n + q];
                    m[k * n + p] = c * akp - s * akq;
                    m[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = m[p * n + k];
                    let aqk = m[q * n + k];
                    m[p * n + k] = c * apk - s * aqk;
                    m[q * n + k] = s * apk + c * aqk;
                }
                m[p * n + q] = 0.0;
                m[q * n + p] = 0.0;
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| m[y * n + y].total_cmp(&m[x * n + x]));
    let values = order.iter().map(|&k| m[k * n + k]).collect();
    let mut vectors = Array2::<f64>::zeros((n, n));
    for (col, &k) in order.iter().enumerate() {
        // Deterministic sign: the largest-magnitude entry of each eigenvector is positive.
        let mut big = 0.0f64;
        for i in 0..n {
            let x = v[i * n + k];
            if x.abs() > big.abs() {
                big = x;
            }
        }
        let sign = if big < 0.0 { -1.0 } else { 1.0 };
        for i in 0..n {
            vectors[[i, col]] = sign * v[i * n + k];
        }
    }
    Ok(SymEigen { values, vectors })
}

/// Singular values of X (descending, length min(rows, cols)) as √λ of the smaller Gram matrix.
pub fn singular_values(x: ArrayView2<f64>) -> Result<Vec<f64>, AnalysisError> {
    let gram = if x.nrows() <= x.ncols() {
        x.dot(&x.t())
    } else {
        x.t().dot(&x)
    };
    let eig = sym_eigen(gram.view())?;
    Ok(gram_sqrt(&eig.values))
}

/// Relative floor under which a Gram eigenvalue is rounding noise (σ below ≈ 3e-7·σ_max).
const GRAM_FLOOR: f64 = 1e-13;

/// √λ of Gram eigenvalues, with values below [`GRAM_FLOOR`]·λ_max set to zero (the square
/// root would otherwise turn rounding noise of size ε‖G‖ into σ ≈ √ε·σ_max).
fn gram_sqrt(values: &[f64]) -> Vec<f64> {
    let top = values.first().copied().unwrap_or(0.0).max(0.0);
    values
        .iter()
        .map(|&l| if l <= GRAM_FLOOR * top { 0.0 } else { l.sqrt() })
        .collect()
}

/// Singular values of X (descending, length `cols`, padded with zeros when rows < cols) and
/// the right-singular vectors (columns of V, from the eigenvectors of XᵀX).
pub fn right_singular(x: ArrayView2<f64>) -> Result<(Vec<f64>, Array2<f64>), AnalysisError> {
    let eig = sym_eigen(x.t().dot(&x).view())?;
    Ok((gram_sqrt(&eig.values), eig.vectors))
}

/// |cos| of the angle between two vectors (0 when either is zero).
pub fn abs_cos(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)).abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random_sym(n: usize, rng: &mut Rng) -> Array2<f64> {
        let b = Array2::from_shape_fn((n, n), |_| rng.normal());
        &b + &b.t()
    }

    #[test]
    fn reconstructs_random_symmetric_matrices() {
        let mut rng = Rng::seed_from_u64(7);
        for n in [1usize, 2, 3, 8, 33] {
            let a = random_sym(n, &mut rng);
            let e = sym_eigen(a.view()).unwrap();
            let lam = Array2::from_diag(&Array1::from(e.values.clone()));
            let rec = e.vectors.dot(&lam).dot(&e.vectors.t());
            let err = (&rec - &a).mapv(f64::abs).fold(0.0f64, |m, &x| m.max(x));
            assert!(err < 1e-10, "n={n} reconstruction error {err}");
            let vtv = e.vectors.t().dot(&e.vectors);
            let orth = (&vtv - &Array2::<f64>::eye(n))
                .mapv(f64::abs)
                .fold(0.0f64, |m, &x| m.max(x));
            assert!(orth < 1e-12, "n={n} orthonormality error {orth}");
            assert!(e.values.windows(2).all(|w| w[0] >= w[1]));
        }
    }

    #[test]
    fn known_spectrum_and_singular_values() {
        // Q diag(5, 2, −1) Qᵀ with a rotation Q: eigenvalues must come back exactly.
        let (c, s) = (0.6f64, 0.8f64);
        let q = ndarray::array![[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
        let d = Array2::from_diag(&ndarray::array![2.0, 5.0, -1.0]);
        let a = q.dot(&d).dot(&q.t());
        let e = sym_eigen(a.view()).unwrap();
        for (got, want) in e.values.iter().zip([5.0, 2.0, -1.0]) {
            assert!((got - want).abs() < 1e-12, "{:?}", e.values);
        }
        // The top eigenvector is Q's second column (up to sign).
        assert!((abs_cos(e.top_vector().as_slice().unwrap(), &[-s, c, 0.0]) - 1.0).abs() < 1e-12);
        // Singular values of a 2 × 3 matrix with orthogonal rows of norms 3 and 4.
        let x = ndarray::array![[3.0, 0.0, 0.0], [0.0, 0.0, 4.0]];
        let sv = singular_values(x.view()).unwrap();
        assert!(
            (sv[0] - 4.0).abs() < 1e-12 && (sv[1] - 3.0).abs() < 1e-12,
            "{sv:?}"
        );
        let sv_t = singular_values(x.t()).unwrap();
        assert_eq!(sv.len(), sv_t.len());
        assert!(sv.iter().zip(&sv_t).all(|(a, b)| (a - b).abs() < 1e-12));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(sym_eigen(Array2::<f64>::zeros((2, 3)).view()).is_err());
        let mut a = Array2::<f64>::eye(2);
        a[[0, 1]] = f64::NAN;
        assert!(sym_eigen(a.view()).is_err());
    }
}
