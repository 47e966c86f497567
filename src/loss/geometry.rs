//! Batch geometry: from 2B raw embeddings to the pairwise squared distances of the paper.
//!
//! Rows k and k+B are a positive pair (partner p(k) = (k+B) mod 2B). With normalisation on,
//! z_i = y_i/‖y_i‖; the distances are d²_ij = ½‖z_i − z_j‖² (= 1 − cos for unit vectors) and
//! d²_i = d²_{i,p(i)}. Every row is an anchor; its negatives N(i) are the other 2B − 2 rows.
//!
//! All distances come from one Gram matrix G = Z Zᵀ (the crate's shared GEMM,
//! [`crate::nn::gemm::matmul_into`]): d²_ij = ½(G_ii + G_jj) − G_ij (which is
//! 1 − G_ij for unit rows). G is symmetric, so only its upper block triangle is computed (for
//! 2B = 512 that is 10 of the 16 128×128 blocks). Rounding can make a tiny d² negative; d² is
//! clamped at 0 (the only clamp in the geometry).

use ndarray::{Array1, Array2, ArrayView2, Axis, s};

use super::kernels;
use super::{LossError, NonFinite};
use crate::nn::gemm::matmul_into;
use crate::real::Real;

/// Row-block size of the blocked symmetric Gram product.
pub(crate) const GRAM_BLOCK: usize = 128;

/// Embeddings and their pairwise squared distances for one batch.
#[derive(Debug, Clone)]
pub struct Geometry<F: Real> {
    /// Number of positive pairs B (the batch has 2B rows).
    pub pairs: usize,
    /// Whether `z` is the L2-normalised input.
    pub normalized: bool,
    /// The embeddings the distances are taken on (2B × d).
    pub z: Array2<F>,
    /// ‖y_i‖ of the raw rows (all ones when not normalising).
    pub norms: Array1<F>,
    /// d²_ij = ½‖z_i − z_j‖² for all i, j (2B × 2B, symmetric, zero diagonal).
    pub d2: Array2<F>,
}

/// ‖v‖ computed without overflow or underflow (scaled by max |v_k|).
fn robust_norm<F: Real>(v: ndarray::ArrayView1<F>) -> F {
    let m = v.iter().fold(F::zero(), |m, &x| m.max(x.abs()));
    if m == F::zero() {
        return F::zero();
    }
    let ss = v.iter().fold(F::zero(), |acc, &x| {
        let t = x / m;
        acc + t * t
    });
    m * ss.sqrt()
}

/// The upper block triangle (and diagonal blocks) of G = Z Zᵀ; the strictly lower part of
/// off-diagonal blocks is left at zero. Callers read G_ij only for i ≤ j.
fn gram_upper<F: Real>(z: ArrayView2<F>) -> Array2<F> {
    let n = z.nrows();
    let mut g = Array2::from_shape_vec((n, n), kernels::take_buffer::<F>(n * n))
        .expect("the buffer holds n² entries");
    if n <= GRAM_BLOCK * 3 / 2 {
        matmul_into(g.view_mut(), z, z.t(), false);
        return g;
    }
    let mut r0 = 0;
    while r0 < n {
        let r1 = (r0 + GRAM_BLOCK).min(n);
        let zr = z.slice(s![r0..r1, ..]);
        // One product per block row: columns r0..n (the diagonal block and everything right of it).
        let zc = z.slice(s![r0..n, ..]);
        matmul_into(g.slice_mut(s![r0..r1, r0..n]), zr, zc.t(), false);
        r0 = r1;
    }
    g
}

/// Tile edge of the cache-friendly mirrored fill of d² (a 32×32 f32 tile is 4 KiB).
const TILE: usize = 32;

/// d²_ij = ½(G_ii + G_jj) − G_ij (or 1 − G_ij for unit rows), clamped at 0, from the upper
/// triangle of G, computed in G's own storage (no second 2B × 2B allocation). The lower triangle is written by mirroring tile by tile, so both the reads
/// and the transposed writes stay in cache.
fn distances_from_gram<F: Real>(mut gram: Array2<F>, normalize: bool) -> Array2<F> {
    let n = gram.nrows();
    let half = F::c(0.5);
    let diag: Vec<F> = (0..n).map(|i| gram[[i, i]]).collect();
    // In place: the upper triangle of G becomes d², then is mirrored over the lower one.
    let ds = gram.as_slice_mut().expect("a fresh array is contiguous");
    let clamp = |v: F| if v < F::zero() { F::zero() } else { v };
    for i0 in (0..n).step_by(TILE) {
        let i1 = (i0 + TILE).min(n);
        for j0 in (i0..n).step_by(TILE) {
            let j1 = (j0 + TILE).min(n);
            for i in i0..i1 {
                let lo = j0.max(i + 1);
                if lo >= j1 {
                    continue;
                }
                let row = &mut ds[i * n + lo..i * n + j1];
                if normalize {
                    for g in row.iter_mut() {
                        *g = clamp(F::one() - *g);
                    }
                } else {
                    let gi = diag[i];
                    for (g, &gj) in row.iter_mut().zip(&diag[lo..j1]) {
                        *g = clamp(half * (gi + gj) - *g);
                    }
                }
            }
            for j in j0..j1 {
                for i in i0..i1.min(j) {
                    ds[j * n + i] = ds[i * n + j];
                }
            }
        }
    }
    for i in 0..n {
        ds[i * n + i] = F::zero();
    }
    gram
}

impl<F: Real> Geometry<F> {
    /// Builds the geometry of a batch of 2B raw rows.
    ///
    /// Errors (never panics) on: an odd number of rows, fewer than 4 rows, zero columns,
    /// non-finite inputs, a zero-norm row when `normalize` is on, and distances that overflow.
    pub fn new(raw: ArrayView2<F>, normalize: bool) -> Result<Self, LossError> {
        let n = raw.nrows();
        if !n.is_multiple_of(2) {
            return Err(LossError::Input(format!(
                "a batch needs an even number of rows (rows k and k+B are partners), got {n}"
            )));
        }
        if n < 4 {
            return Err(LossError::Input(format!(
                "a batch needs at least 4 rows (2 pairs) so every anchor has a negative, got {n}"
            )));
        }
        if raw.ncols() == 0 {
            return Err(LossError::Input("embeddings have zero dimensions".into()));
        }
        if raw.iter().any(|x| !x.is_finite()) {
            return Err(LossError::NonFinite(NonFinite::Embeddings));
        }
        let d = raw.ncols();
        let mut zbuf = kernels::take_buffer::<F>(n * d);
        for (dst, &src) in zbuf.iter_mut().zip(raw.iter()) {
            *dst = src;
        }
        let mut z = Array2::from_shape_vec((n, d), zbuf).expect("the buffer holds n·d entries");
        let mut norms = Array1::from_elem(n, F::one());
        if normalize {
            let zs = z
                .as_slice_mut()
                .expect("a standard-layout array is contiguous");
            for (i, row) in zs.chunks_exact_mut(d).enumerate() {
                let ss = row.iter().fold(F::zero(), |acc, &x| acc + x * x);
                // Fast path Σx²; the scaled norm only when Σx² under- or overflows.
                let nrm = if ss.is_normal() {
                    ss.sqrt()
                } else {
                    robust_norm(ndarray::ArrayView1::from(&*row))
                };
                if nrm <= F::zero() || !nrm.is_finite() {
                    return Err(LossError::Input(format!(
                        "row {i} has zero norm and cannot be L2-normalised (turn normalisation off or fix the input)"
                    )));
                }
                let inv = F::one() / nrm;
                for x in row.iter_mut() {
                    *x *= inv;
                }
                norms[i] = nrm;
            }
        }
        let gram = gram_upper(z.view());
        // |d²_ij| ≤ ½(G_ii + G_jj) + |G_ij| ≤ 2·max_i G_ii (Cauchy–Schwarz), so one check on the
        // diagonal rules out overflow anywhere in d².
        let max_diag = (0..n).fold(F::zero(), |m, i| m.max(gram[[i, i]]));
        if !(max_diag * F::c(4.0)).is_finite() {
            return Err(LossError::NonFinite(NonFinite::Distances));
        }
        let d2 = distances_from_gram(gram, normalize);
        Ok(Self {
            pairs: n / 2,
            normalized: normalize,
            z,
            norms,
            d2,
        })
    }

    /// Hands this geometry's large buffers back to the engine's per-thread pool, so the next
    /// [`Geometry::new`] on this thread reuses them (what [`super::evaluate`] does).
    pub fn recycle(self) {
        for a in [self.z, self.d2] {
            if a.is_standard_layout() {
                let (v, _) = a.into_raw_vec_and_offset();
                kernels::give_buffer(v);
            }
        }
    }

    /// Number of rows 2B.
    pub fn rows(&self) -> usize {
        2 * self.pairs
    }

    /// The partner p(i) of row i.
    pub fn partner(&self, i: usize) -> usize {
        (i + self.pairs) % self.rows()
    }

    /// d²_i, the squared distance of anchor i to its partner.
    pub fn d2_pos(&self, i: usize) -> F {
        self.d2[[i, self.partner(i)]]
    }

    /// Whether j is a negative of anchor i (j ∉ {i, p(i)}).
    pub fn is_negative(&self, i: usize, j: usize) -> bool {
        j != i && j != self.partner(i)
    }

    /// Back-propagates ∂L/∂z through the normalisation to ∂L/∂y (the raw rows):
    /// ∂L/∂y_i = (I − z_i z_iᵀ) ∂L/∂z_i / ‖y_i‖.
    pub fn backward_to_raw(&self, grad_z: &Array2<F>) -> Array2<F> {
        let mut g = grad_z.clone();
        self.backward_to_raw_inplace(&mut g);
        g
    }

    /// As [`Self::backward_to_raw`], overwriting `grad` (∂L/∂z in, ∂L/∂y out).
    pub fn backward_to_raw_inplace(&self, grad: &mut Array2<F>) {
        if !self.normalized {
            return;
        }
        for (i, mut row) in grad.axis_iter_mut(Axis(0)).enumerate() {
            let zi = self.z.row(i);
            let proj = zi.dot(&row);
            let inv = F::one() / self.norms[i];
            for (gk, &zk) in row.iter_mut().zip(zi.iter()) {
                *gk = (*gk - proj * zk) * inv;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = Rng::seed_from_u64(seed);
        Array2::from_shape_fn((n, d), |_| rng.normal())
    }

    #[test]
    fn blocked_gram_matches_direct_distances() {
        // 2B = 300 exercises the blocked path with a partial last block.
        let y = random(300, 7, 3);
        for normalize in [false, true] {
            let g = Geometry::new(y.view(), normalize).unwrap();
            for (i, j) in [
                (0, 1),
                (5, 299),
                (130, 17),
                (299, 298),
                (128, 255),
                (256, 3),
            ] {
                let zi = g.z.row(i);
                let zj = g.z.row(j);
                let direct: f64 = zi
                    .iter()
                    .zip(zj)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    * 0.5;
                assert!((g.d2[[i, j]] - direct).abs() < 1e-12, "{i},{j}");
                assert_eq!(g.d2[[i, j]], g.d2[[j, i]]);
            }
        }
    }

    #[test]
    fn malformed_batches_are_errors() {
        assert!(Geometry::new(random(5, 3, 1).view(), true).is_err());
        assert!(Geometry::new(random(2, 3, 1).view(), true).is_err());
        let mut y = random(4, 3, 1);
        y.row_mut(2).fill(0.0);
        let e = Geometry::new(y.view(), true).unwrap_err();
        assert!(e.to_string().contains("row 2"), "{e}");
        assert!(Geometry::new(y.view(), false).is_ok());
        y[[1, 1]] = f64::NAN;
        assert!(Geometry::new(y.view(), false).is_err());
    }

    #[test]
    fn tiny_and_huge_rows_normalise() {
        let mut y = random(4, 3, 2);
        y.row_mut(0).mapv_inplace(|v| v * 1e-200);
        y.row_mut(1).mapv_inplace(|v| v * 1e200);
        let g = Geometry::new(y.view(), true).unwrap();
        for r in g.z.rows() {
            assert!((r.dot(&r) - 1.0).abs() < 1e-12);
        }
    }
}
