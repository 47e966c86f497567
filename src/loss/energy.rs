//! The energy E_α and the max player's gradient — the one gradient every loss uses.
//!
//! Theorem 1 (Tian 2022): for every loss of the family, with the pairwise importance α held
//! fixed, ∂L/∂θ = −∂E_α/∂θ where
//!
//! E_α = Σ_i Σ_{j∈N(i)} α_ij (d²_ij − d²_i),   β_i = Σ_j α_ij,
//!
//! so E_α = ½ Σ_i Σ_j α_ij ‖z_i − z_j‖² − ½ Σ_i β_i ‖z_i − z_{p(i)}‖². Its gradient is
//!
//! ∂E/∂z_a = Σ_{j∈N(a)} (α_aj + α_ja)(z_a − z_j) − (β_a + β_{p(a)})(z_a − z_{p(a)}).
//!
//! Writing M = (α + αᵀ) − P with P_{a,p(a)} = β_a + β_{p(a)}, this is ∂E/∂Z = diag(M 1) Z − M Z:
//! one matrix product per batch. Every loss in [`super`] returns (α, β) and calls
//! [`energy_grad`]; none has a hand-written gradient of its own.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::geometry::Geometry;
use crate::real::Real;

/// E_α = Σ_i Σ_j α_ij (d²_ij − d²_i) for the given geometry (α zero on self and partner).
pub fn energy<F: Real>(geom: &Geometry<F>, alpha: ArrayView2<F>) -> F {
    let n = geom.rows();
    let mut e = F::zero();
    for i in 0..n {
        let dp = geom.d2_pos(i);
        for j in 0..n {
            if geom.is_negative(i, j) {
                e += alpha[[i, j]] * (geom.d2[[i, j]] - dp);
            }
        }
    }
    e
}

/// ∂E_α/∂z with α and β held fixed (the max player's ascent direction), for rows z (2B × d).
pub fn energy_grad<F: Real>(
    alpha: ArrayView2<F>,
    beta: ArrayView1<F>,
    z: ArrayView2<F>,
) -> Array2<F> {
    let n = z.nrows();
    let b = n / 2;
    let mut m = Array2::<F>::zeros((n, n));
    for i in 0..n {
        for j in 0..n {
            m[[i, j]] = alpha[[i, j]] + alpha[[j, i]];
        }
    }
    for a in 0..n {
        let p = (a + b) % n;
        // α is zero on the partner, so the partner entry holds only the β term.
        m[[a, p]] = -(beta[a] + beta[p]);
        m[[a, a]] = F::zero();
    }
    let row_sum: Array1<F> = m.sum_axis(Axis(1));
    let mut g = m.dot(&z);
    for (a, mut row) in g.axis_iter_mut(Axis(0)).enumerate() {
        let s = row_sum[a];
        for (gk, &zk) in row.iter_mut().zip(z.row(a).iter()) {
            *gk = s * zk - *gk;
        }
    }
    g
}

/// β_i = Σ_j α_ij (row sums of α).
pub fn beta_from_alpha<F: Real>(alpha: ArrayView2<F>) -> Array1<F> {
    alpha.sum_axis(Axis(1))
}
