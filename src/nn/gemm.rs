//! The one matrix product every layer uses: C ← A·B (or C ← C + A·B), single-threaded.
//!
//! Natively this calls the `gemm` crate (runtime-selected AVX2/FMA kernels; measured ≈1.4×
//! faster than ndarray's `matrixmultiply` on the standard workload's shapes); on wasm32 the same
//! crate uses its SIMD128 kernels. Inputs may be any strided views (transposes are free), the
//! output is written in place, so the training loop allocates nothing here.
//!
//! This module holds the crate's only `unsafe` block: the shapes are checked against each other
//! and ndarray views guarantee that every in-bounds (row, column) offset is valid, which is all
//! `gemm::gemm` requires; the `&mut` output cannot alias the shared inputs.

use std::any::TypeId;

use ndarray::{ArrayView2, ArrayViewMut2, linalg::general_mat_mul};

use crate::real::Real;

/// C ← A·B when `accumulate` is false, C ← C + A·B when it is true.
///
/// Shapes: A (m × k), B (k × n), C (m × n). Mismatched shapes are a programming error inside
/// the crate and panic with the three shapes (user input never reaches here unchecked).
pub fn matmul_into<F: Real>(
    mut c: ArrayViewMut2<F>,
    a: ArrayView2<F>,
    b: ArrayView2<F>,
    accumulate: bool,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(
        k == k2 && c.dim() == (m, n),
        "matmul shapes: A {:?} · B {:?} → C {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(F::zero());
        }
        return;
    }
    let supported =
        TypeId::of::<F>() == TypeId::of::<f32>() || TypeId::of::<F>() == TypeId::of::<f64>();
    if !supported {
        let beta = if accumulate { F::one() } else { F::zero() };
        general_mat_mul(F::one(), &a, &b, beta, &mut c);
        return;
    }
    let (cs_r, cs_c) = (c.strides()[0], c.strides()[1]);
    let (as_r, as_c) = (a.strides()[0], a.strides()[1]);
    let (bs_r, bs_c) = (b.strides()[0], b.strides()[1]);
    let dst = c.as_mut_ptr();
    // SAFETY: shapes are consistent (checked above) and non-empty; each pointer/stride pair comes
    // from a live ndarray view of exactly that shape, so every accessed element is in bounds; `c`
    // is borrowed mutably, so it aliases neither `a` nor `b`; F is f32 or f64 (checked above),
    // the element types `gemm` implements. No threads are used (Parallelism::None).
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            cs_c,
            cs_r,
            accumulate,
            a.as_ptr(),
            as_c,
            as_r,
            b.as_ptr(),
            bs_c,
            bs_r,
            F::one(),
            F::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        for i in 0..a.nrows() {
            for j in 0..b.ncols() {
                let mut s = 0.0;
                for t in 0..a.ncols() {
                    s += a[[i, t]] * b[[t, j]];
                }
                c[[i, j]] = s;
            }
        }
        c
    }

    #[test]
    fn matches_naive_product_for_transposed_views_and_accumulation() {
        let a = Array2::from_shape_fn((7, 5), |(i, j)| ((i * 3 + j * 5) % 7) as f64 - 3.0);
        let b = Array2::from_shape_fn((5, 9), |(i, j)| ((i * 11 + j) % 5) as f64 * 0.5 - 1.0);
        let want = naive(&a, &b);
        let mut c = Array2::from_elem((7, 9), 100.0);
        matmul_into(c.view_mut(), a.view(), b.view(), false);
        assert!((&c - &want).iter().all(|d| d.abs() < 1e-12));
        // Cᵀ ← Bᵀ Aᵀ through transposed views, accumulating onto 1.
        let (at, bt) = (a.t().to_owned(), b.t().to_owned());
        let mut ct = Array2::from_elem((9, 7), 1.0);
        matmul_into(ct.view_mut(), bt.t().t(), at.t().t(), true);
        assert!((&ct.t() - &want).iter().all(|d| (d - 1.0).abs() < 1e-12));
        let a32 = a.mapv(|v| v as f32);
        let mut c32 = Array2::<f32>::zeros((9, 9));
        matmul_into(c32.view_mut(), a32.t(), a32.view(), false);
        let want32 = naive(&a.t().to_owned(), &a);
        assert!(
            c32.iter()
                .zip(&want32)
                .all(|(x, y)| (f64::from(*x) - y).abs() < 1e-4)
        );
    }
}
