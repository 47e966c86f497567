//! Principal component analysis for the 2-D scatter view.
//!
//! The top components of the centred data X_c (n × d) are the leading eigenvectors of
//! C = X_cᵀ X_c / n, from the symmetric eigen-decomposition [`super::linalg::sym_eigen`]
//! (sign fixed so each component's largest-magnitude entry is positive: the view does not
//! flip). When n < d the n × n Gram matrix G = X_c X_cᵀ / n is decomposed instead: G u = λ u
//! gives C's eigenvector v = X_cᵀ u / √(nλ) with the same λ, so a wide output (d = 4 096
//! from 512 samples) costs an n³ rather than a d³ decomposition.

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
    let Some((values, vectors)) = top_components(&xc, k) else {
        // Non-finite input: nothing sensible to project.
        return (out, vars);
    };
    for (c, v) in vectors.iter().enumerate() {
        let p = xc.dot(v);
        for i in 0..n {
            out[[i, c]] = p[i] as f32;
        }
        vars[c] = values[c];
    }
    (out, vars)
}

/// The top `k` (variance, unit component) pairs of the centred rows `xc`, by the d × d
/// covariance or, when it is smaller, the n × n Gram matrix; `None` for non-finite input.
fn top_components(xc: &Array2<f64>, k: usize) -> Option<(Vec<f64>, Vec<Array1<f64>>)> {
    let (n, d) = xc.dim();
    let k = k.min(d);
    if n >= d {
        let eig = sym_eigen((xc.t().dot(xc) / n as f64).view()).ok()?;
        let values = (0..k).map(|c| eig.values[c].max(0.0)).collect();
        let vectors = (0..k).map(|c| eig.vectors.column(c).to_owned()).collect();
        return Some((values, vectors));
    }
    let eig = sym_eigen((xc.dot(&xc.t()) / n as f64).view()).ok()?;
    let mut values = Vec::with_capacity(k);
    let mut vectors = Vec::with_capacity(k);
    for c in 0..k {
        let lambda = if c < n { eig.values[c].max(0.0) } else { 0.0 };
        let mut v = if lambda > 0.0 {
            xc.t().dot(&eig.vectors.column(c)) / (n as f64 * lambda).sqrt()
        } else {
            // No variance left along any further direction: a zero component projects to 0.
            Array1::zeros(d)
        };
        let big = v
            .iter()
            .fold(0.0f64, |b, &x| if x.abs() > b.abs() { x } else { b });
        if big < 0.0 {
            v.mapv_inplace(|x| -x);
        }
        values.push(lambda);
        vectors.push(v);
    }
    Some((values, vectors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn the_gram_path_for_wide_data_equals_the_covariance_path() {
        // 40 samples in 120 dimensions with a few strong directions.
        let mut r = Rng::seed_from_u64(7);
        let basis = Array2::from_shape_simple_fn((3, 120), || r.normal());
        let x = Array2::from_shape_fn((40, 120), |(i, j)| {
            let w = [
                (i as f64 * 0.7).sin() * 4.0,
                (i as f64 * 1.3).cos() * 2.0,
                0.5,
            ];
            (0..3).map(|b| w[b] * basis[[b, j]]).sum::<f64>() + 0.05 * r.normal()
        });
        let xc = &x - &x.mean_axis(Axis(0)).unwrap();
        let (gv, gvec) = top_components(&xc, 2).unwrap();
        // Reference: the d × d covariance decomposed directly.
        let eig = sym_eigen((xc.t().dot(&xc) / 40.0).view()).unwrap();
        for c in 0..2 {
            assert!(
                (gv[c] - eig.values[c]).abs() < 1e-9 * eig.values[0],
                "{gv:?}"
            );
            let dev = (&gvec[c] - &eig.vectors.column(c))
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(dev < 1e-6, "component {c}: max deviation {dev}");
        }
        // And the public entry point takes that path without changing the answer.
        let (p, v) = project(&x.mapv(|a| a as f32), 2);
        assert_eq!(p.dim(), (40, 2));
        assert!((v[0] - eig.values[0]).abs() < 1e-5 * eig.values[0], "{v:?}"); // f32 input
    }

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
