//! Principal component analysis for the 2-D scatter view.
//!
//! The top components of the centred data X_c are the leading eigenvectors of
//! C = X_cᵀ X_c / n, from the Jacobi eigen-decomposition [`super::linalg::sym_eigen`]
//! (sign fixed so each component's largest entry is positive: the view does not flip).

use ndarray::{Array1, Array2, Axis};

use super::linalg::sym_eigen;

/// Projects the rows of `x` onto its top `k` principal components (n × k), with the variance
/// explained by each component.
pub fn project(x: &Array2<f32>, k: usize) -> (Array2<f32>, Vec<f64>) {
    let n = x.nrows();
    let d = x.ncols();
    let mut out = Array2::<f32>::zeros((n, k));
    let mut vars = vec![0.0; k];
    if n == 0 || d == 0 {
        return (out, vars);
    }
    let xd = x.mapv(f64::from);
    let mean = xd.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
    let xc = &xd - &mean;
    let cov = xc.t().dot(&xc) / n as f64;
    let Ok(eig) = sym_eigen(cov.view()) else {
        // Non-finite input: nothing sensible to project.
        return (out, vars);
    };
    for c in 0..k.min(d) {
        let p = xc.dot(&eig.vectors.column(c));
        for i in 0..n {
            out[[i, c]] = p[i] as f32;
        }
        vars[c] = eig.values[c].max(0.0);
    }
    (out, vars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn finds_the_high_variance_axis() {
        let mut r = Rng::seed_from_u64(1);
        let x = Array2::from_shape_fn((500, 3), |(_, j)| (r.normal() * [0.1, 5.0, 1.0][j]) as f32);
        let (p, v) = project(&x, 2);
        assert!((v[0] - 25.0).abs() < 3.0, "{v:?}");
        assert!((v[1] - 1.0).abs() < 0.2, "{v:?}");
        // The first projected coordinate is the second input axis (up to sign).
        let corr: f64 = (0..500)
            .map(|i| f64::from(p[[i, 0]]) * f64::from(x[[i, 1]]))
            .sum::<f64>();
        assert!(corr.abs() > 0.0);
        let max_dev = (0..500)
            .map(|i| (p[[i, 0]].abs() - x[[i, 1]].abs()).abs())
            .fold(0.0f32, f32::max);
        assert!(max_dev < 0.5, "{max_dev}");
    }
}
