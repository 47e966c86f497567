//! Small dense linear algebra in pure Rust (compiles to wasm): symmetric eigen-decomposition
//! and singular values.
//!
//! - [`sym_eigen`]: A = V Λ Vᵀ for a real symmetric A: Householder tridiagonalisation
//!   (A = Q T Qᵀ) then implicit QR steps with Wilkinson shifts on T.
//! - [`sym_eigen_jacobi`]: the same by the cyclic Jacobi method (independent reference). Each
//!   rotation J(p, q, θ) zeroes a_pq with tan θ = t, t = sign(τ)/(|τ| + √(1 + τ²)),
//!   τ = (a_qq − a_pp)/(2 a_pq); sweeps repeat until the off-diagonal mass is below
//!   1e-15·‖A‖_F.
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

fn check_square(a: ArrayView2<f64>) -> Result<usize, AnalysisError> {
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
    Ok(n)
}

/// (A + Aᵀ)/2 as a row-major vector.
fn symmetrised(a: ArrayView2<f64>, n: usize) -> Vec<f64> {
    let mut m = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            m[i * n + j] = 0.5 * (a[[i, j]] + a[[j, i]]);
        }
    }
    m
}

/// Symmetric eigen-decomposition A = V Λ Vᵀ, eigenvalues descending.
///
/// Householder reduction to tridiagonal form, then implicit symmetric QR steps with Wilkinson
/// shifts (O(n³) overall, fast enough for n of a few hundred). `a` must be square with finite
/// entries; it is symmetrised as (A + Aᵀ)/2 first.
pub fn sym_eigen(a: ArrayView2<f64>) -> Result<SymEigen, AnalysisError> {
    let n = check_square(a)?;
    let mut t = symmetrised(a, n);
    let mut v = vec![0.0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    tridiagonalize(&mut t, &mut v, n);
    tridiagonal_qr(&mut t, &mut v, n);
    Ok(sorted(&t, &v, n))
}

/// Householder reduction: t ← Hᵀ t H (tridiagonal), v ← v H, for row-major n × n buffers.
///
/// Step k reflects x = t[k+1.., k] onto −sign(x₀)‖x‖e₀ with H = I − 2uuᵀ; the trailing block B
/// becomes B − 2uqᵀ − 2quᵀ with p = Bu, q = p − (uᵀp)u.
fn tridiagonalize(t: &mut [f64], v: &mut [f64], n: usize) {
    if n < 3 {
        return;
    }
    for k in 0..n - 2 {
        let m = n - k - 1;
        let mut u: Vec<f64> = (0..m).map(|i| t[(k + 1 + i) * n + k]).collect();
        let norm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if u[0] > 0.0 { -norm } else { norm };
        u[0] -= alpha;
        let un = u.iter().map(|x| x * x).sum::<f64>().sqrt();
        if un == 0.0 {
            continue;
        }
        for x in &mut u {
            *x /= un;
        }
        // p = B u, K = uᵀ p, q = p − K u.
        let mut p = vec![0.0f64; m];
        for (i, pi) in p.iter_mut().enumerate() {
            let row = (k + 1 + i) * n + k + 1;
            *pi = t[row..row + m].iter().zip(&u).map(|(a, b)| a * b).sum();
        }
        let kk: f64 = p.iter().zip(&u).map(|(a, b)| a * b).sum();
        let q: Vec<f64> = p.iter().zip(&u).map(|(pi, ui)| pi - kk * ui).collect();
        for i in 0..m {
            let row = (k + 1 + i) * n + k + 1;
            for j in 0..m {
                t[row + j] -= 2.0 * (u[i] * q[j] + q[i] * u[j]);
            }
        }
        t[(k + 1) * n + k] = alpha;
        t[k * n + k + 1] = alpha;
        for i in 1..m {
            t[(k + 1 + i) * n + k] = 0.0;
            t[k * n + k + 1 + i] = 0.0;
        }
        // v[:, k+1..] ← v[:, k+1..] − 2 (v u) uᵀ.
        for r in 0..n {
            let row = r * n + k + 1;
            let w: f64 = v[row..row + m].iter().zip(&u).map(|(a, b)| a * b).sum();
            for j in 0..m {
                v[row + j] -= 2.0 * w * u[j];
            }
        }
    }
}

/// Implicit symmetric QR with Wilkinson shifts on a tridiagonal t (row-major, dense storage),
/// accumulating the Givens rotations into v. Off-diagonals below ε(|t_ii| + |t_jj|) deflate.
fn tridiagonal_qr(t: &mut [f64], v: &mut [f64], n: usize) {
    if n < 2 {
        return;
    }
    let mut vt = transpose(v, n);
    let eps = f64::EPSILON;
    let small = |t: &[f64], i: usize| {
        t[i * n + i - 1].abs() <= eps * (t[i * n + i].abs() + t[(i - 1) * n + i - 1].abs())
    };
    let mut hi = n - 1;
    let mut budget = 60 * n;
    while hi > 0 && budget > 0 {
        if small(t, hi) {
            t[hi * n + hi - 1] = 0.0;
            t[(hi - 1) * n + hi] = 0.0;
            hi -= 1;
            continue;
        }
        let mut lo = hi - 1;
        while lo > 0 && !small(t, lo) {
            lo -= 1;
        }
        if lo > 0 {
            t[lo * n + lo - 1] = 0.0;
            t[(lo - 1) * n + lo] = 0.0;
        }
        budget -= 1;
        // Wilkinson shift from the trailing 2 × 2 block.
        let a = t[(hi - 1) * n + hi - 1];
        let b = t[hi * n + hi];
        let e = t[hi * n + hi - 1];
        let d = 0.5 * (a - b);
        let sg = if d >= 0.0 { 1.0 } else { -1.0 };
        let mu = b - e * e / (d + sg * d.hypot(e));
        let mut x = t[lo * n + lo] - mu;
        let mut z = t[(lo + 1) * n + lo];
        for k in lo..hi {
            let r = x.hypot(z);
            let (c, s) = if r == 0.0 { (1.0, 0.0) } else { (x / r, z / r) };
            let j0 = k.saturating_sub(1).max(lo);
            let j1 = (k + 2).min(hi);
            for j in j0..=j1 {
                let a0 = t[k * n + j];
                let a1 = t[(k + 1) * n + j];
                t[k * n + j] = c * a0 + s * a1;
                t[(k + 1) * n + j] = -s * a0 + c * a1;
            }
            for i in j0..=j1 {
                let a0 = t[i * n + k];
                let a1 = t[i * n + k + 1];
                t[i * n + k] = c * a0 + s * a1;
                t[i * n + k + 1] = -s * a0 + c * a1;
            }
            // vt holds vᵀ: columns k, k+1 of v are contiguous rows here.
            let (head, tail) = vt.split_at_mut((k + 1) * n);
            let row0 = &mut head[k * n..];
            let row1 = &mut tail[..n];
            for (a0, a1) in row0.iter_mut().zip(row1.iter_mut()) {
                let (x0, x1) = (*a0, *a1);
                *a0 = c * x0 + s * x1;
                *a1 = -s * x0 + c * x1;
            }
            if k + 1 < hi {
                x = t[(k + 1) * n + k];
                z = t[(k + 2) * n + k];
            }
        }
    }
    v.copy_from_slice(&transpose(&vt, n));
}

/// Transpose of a row-major n × n buffer.
fn transpose(m: &[f64], n: usize) -> Vec<f64> {
    let mut t = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            t[j * n + i] = m[i * n + j];
        }
    }
    t
}

/// Eigen-pairs from a diagonalised row-major `m` and its eigenvector columns `v`, sorted by
/// descending eigenvalue, each vector's largest-magnitude entry made positive.
fn sorted(m: &[f64], v: &[f64], n: usize) -> SymEigen {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| m[y * n + y].total_cmp(&m[x * n + x]));
    let values = order.iter().map(|&k| m[k * n + k]).collect();
    let mut vectors = Array2::<f64>::zeros((n, n));
    for (col, &k) in order.iter().enumerate() {
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
    SymEigen { values, vectors }
}

/// Symmetric eigen-decomposition by the cyclic Jacobi method (slower, used as an independent
/// reference in tests), eigenvalues descending.
pub fn sym_eigen_jacobi(a: ArrayView2<f64>) -> Result<SymEigen, AnalysisError> {
    let n = check_square(a)?;
    // Row-major working copies: m (the matrix being diagonalised) and v (accumulated rotations).
    let mut m = symmetrised(a, n);
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
    Ok(sorted(&m, &v, n))
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
    fn householder_qr_agrees_with_jacobi() {
        let mut rng = Rng::seed_from_u64(11);
        for n in [2usize, 3, 5, 17, 40] {
            let a = random_sym(n, &mut rng);
            let q = sym_eigen(a.view()).unwrap();
            let j = sym_eigen_jacobi(a.view()).unwrap();
            for (x, y) in q.values.iter().zip(&j.values) {
                assert!((x - y).abs() < 1e-10 * (1.0 + x.abs()), "n={n}: {x} vs {y}");
            }
            let rec = j
                .vectors
                .dot(&Array2::from_diag(&Array1::from(j.values.clone())))
                .dot(&j.vectors.t());
            assert!((&rec - &a).iter().all(|v| v.abs() < 1e-10));
        }
        // Repeated eigenvalues and a diagonal input.
        let d = Array2::from_diag(&ndarray::array![1.0, 3.0, 3.0, -2.0]);
        let e = sym_eigen(d.view()).unwrap();
        assert_eq!(e.values.len(), 4);
        for (got, want) in e.values.iter().zip([3.0, 3.0, 1.0, -2.0]) {
            assert!((got - want).abs() < 1e-14);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(sym_eigen(Array2::<f64>::zeros((2, 3)).view()).is_err());
        assert!(sym_eigen_jacobi(Array2::<f64>::zeros((2, 3)).view()).is_err());
        let mut a = Array2::<f64>::eye(2);
        a[[0, 1]] = f64::NAN;
        assert!(sym_eigen(a.view()).is_err());
        assert!(
            sym_eigen(Array2::<f64>::zeros((0, 0)).view())
                .unwrap()
                .values
                .is_empty()
        );
    }
}
