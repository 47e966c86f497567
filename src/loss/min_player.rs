//! α-CL min players: α built by an explicit rule from the *detached* negative distances.
//!
//! (Placeholder while the loss-engine issue is in progress: uses the entropy rule for every
//! min player. Replaced by the real constructions.)

use ndarray::Array2;

use super::geometry::Geometry;
use super::spec::LossSpec;
use crate::real::Real;

/// α for an α-CL spec (rows normalised as in the official `dual2`).
pub fn alpha<F: Real>(spec: &LossSpec, geom: &Geometry<F>) -> Array2<F> {
    let n = geom.rows();
    let tau = spec.get("tau");
    let eps = spec.get("eps").max(0.0);
    let mut alpha = Array2::<F>::zeros((n, n));
    for i in 0..n {
        let m = (0..n)
            .filter(|&j| geom.is_negative(i, j))
            .map(|j| geom.d2[[i, j]].f64())
            .fold(f64::INFINITY, f64::min);
        let mut sum = 0.0;
        for j in (0..n).filter(|&j| geom.is_negative(i, j)) {
            let w = (-(geom.d2[[i, j]].f64() - m) / tau).exp();
            sum += w;
            alpha[[i, j]] = F::c(w);
        }
        // w was scaled by exp(m/τ); scale the ε slack the same way.
        let den = F::c(sum + eps * (n - 2) as f64 * (m / tau).exp());
        alpha.row_mut(i).mapv_inplace(|a| a / den);
    }
    alpha
}
