//! Principal component analysis for the 2-D scatter view.
//!
//! The top components of the centred data X_c are the leading eigenvectors of
//! C = X_cᵀ X_c / n, found by power iteration with deflation (d is small: ≤ a few hundred).

use ndarray::{Array1, Array2, Axis};

/// Projects the rows of `x` onto its top `k` principal components (n × k), with the variance
/// explained by each component.
pub fn project(x: &Array2<f32>, k: usize) -> (Array2<f32>, Vec<f64>) {
    let n = x.nrows();
    let d = x.ncols();
    if n == 0 || d == 0 {
        return (Array2::zeros((n, k)), vec![0.0; k]);
    }
    let xd = x.mapv(f64::from);
    let mean = xd.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
    let xc = &xd - &mean;
    let mut cov = xc.t().dot(&xc) / n as f64;
    let mut comps = Vec::new();
    let mut vars = Vec::new();
    for c in 0..k.min(d) {
        // Deterministic start: a fixed non-degenerate vector.
        let mut v = Array1::from_shape_fn(d, |i| 1.0 + ((i * 7 + c * 13) % 11) as f64 * 0.1);
        let mut lambda = 0.0;
        for _ in 0..200 {
            let w = cov.dot(&v);
            let nrm = w.dot(&w).sqrt();
            if nrm < 1e-300 {
                break;
            }
            let next = &w / nrm;
            let delta = (&next - &v).mapv(f64::abs).sum();
            v = next;
            lambda = nrm;
            if delta < 1e-10 {
                break;
            }
        }
        // Fix the sign so the projection does not flip between frames.
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        if big < 0.0 {
            v.mapv_inplace(|t| -t);
        }
        let outer = v
            .view()
            .insert_axis(Axis(1))
            .dot(&v.view().insert_axis(Axis(0)));
        cov = cov - outer * lambda;
        comps.push(v);
        vars.push(lambda);
    }
    let mut out = Array2::<f32>::zeros((n, k));
    for (c, v) in comps.iter().enumerate() {
        let p = xc.dot(v);
        for i in 0..n {
            out[[i, c]] = p[i] as f32;
        }
    }
    vars.resize(k, 0.0);
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
        assert!(corr > 0.0 || corr < 0.0);
        let max_dev = (0..500)
            .map(|i| (p[[i, 0]].abs() - x[[i, 1]].abs()).abs())
            .fold(0.0f32, f32::max);
        assert!(max_dev < 0.5, "{max_dev}");
    }
}
