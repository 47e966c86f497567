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
//! Writing M = (α + αᵀ) − P with P_{a,p(a)} = β_a + β_{p(a)} (M is symmetric), this is
//! ∂E/∂Z = diag(M 1) Z − M Z: one matrix product per batch. Every loss in [`super`] returns
//! (α, β) and calls [`energy_grad`]; none has a hand-written gradient of its own.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::geometry::Geometry;
use super::kernels;
use crate::nn::gemm::matmul_into;
use crate::real::Real;

/// E_α = Σ_i Σ_{j∈N(i)} α_ij (d²_ij − d²_i) for the given geometry. Entries of α on self and
/// partner are ignored.
pub fn energy<F: Real>(geom: &Geometry<F>, alpha: ArrayView2<F>) -> F {
    let n = geom.rows();
    let mut e = 0.0f64;
    for i in 0..n {
        let p = geom.partner(i);
        let dp = geom.d2[[i, p]].f64();
        let d_row = geom.d2.row(i);
        let a_row = alpha.row(i);
        let mut acc = 0.0f64;
        for (j, (&a, &d)) in a_row.iter().zip(d_row.iter()).enumerate() {
            if j != i && j != p {
                acc += a.f64() * (d.f64() - dp);
            }
        }
        e += acc;
    }
    F::c(e)
}

/// ∂E_α/∂z with α and β held fixed (the max player's ascent direction), for rows z (2B × d).
///
/// Only the negatives' entries of α are read (self and partner entries are ignored), so the
/// result is exactly the formula in the module docs for any α ≥ 0 and any β.
pub fn energy_grad<F: Real>(
    alpha: ArrayView2<F>,
    beta: ArrayView1<F>,
    z: ArrayView2<F>,
) -> Array2<F> {
    let n = z.nrows();
    let b = n / 2;
    // M = α + αᵀ on negatives, −(β_a + β_p(a)) on partners, 0 on the diagonal (symmetric).
    // Filled tile by tile so that the transposed reads and writes stay in cache.
    const TILE: usize = 32;
    let mut scratch = kernels::take_buffer::<F>(n * n);
    let ac = alpha.as_standard_layout();
    let a = ac
        .as_slice()
        .expect("a standard-layout array is contiguous");
    let ms = &mut scratch[..n * n];
    for i0 in (0..n).step_by(TILE) {
        let i1 = (i0 + TILE).min(n);
        for j0 in (i0..n).step_by(TILE) {
            let j1 = (j0 + TILE).min(n);
            for i in i0..i1 {
                for j in j0.max(i + 1)..j1 {
                    ms[i * n + j] = a[i * n + j] + a[j * n + i];
                }
            }
            for j in j0..j1 {
                for i in i0..i1.min(j) {
                    ms[j * n + i] = ms[i * n + j];
                }
            }
        }
    }
    for i in 0..n {
        ms[i * n + i] = F::zero();
    }
    for a in 0..n {
        let p = (a + b) % n;
        ms[a * n + p] = -(beta[a] + beta[p]);
    }
    let row_sum: Vec<F> = ms.chunks_exact(n).map(kernels::sum).collect();
    let m = ArrayView2::from_shape((n, n), &*ms).expect("the scratch holds n² entries");
    let mut g = Array2::<F>::zeros(z.raw_dim());
    matmul_into(g.view_mut(), m, z, false);
    kernels::give_buffer(scratch);
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
    alpha.rows().into_iter().map(|r| r.sum()).collect()
}
