//! Batch geometry: from 2B raw embeddings to the pairwise squared distances of the paper.
//!
//! Rows k and k+B are a positive pair (partner p(k) = (k+B) mod 2B). With normalisation on,
//! z_i = y_i/‖y_i‖; the distances are d²_ij = ½‖z_i − z_j‖² (= 1 − cos for unit vectors) and
//! d²_i = d²_{i,p(i)}. Every row is an anchor; its negatives N(i) are the other 2B − 2 rows.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::LossError;
use crate::real::Real;

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

impl<F: Real> Geometry<F> {
    /// Builds the geometry of a batch of 2B raw rows.
    pub fn new(raw: ArrayView2<F>, normalize: bool) -> Result<Self, LossError> {
        let n = raw.nrows();
        if n % 2 != 0 {
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
            return Err(LossError::NonFinite("input embeddings".into()));
        }
        let mut z = raw.to_owned();
        let mut norms = Array1::from_elem(n, F::one());
        if normalize {
            for (i, mut row) in z.axis_iter_mut(Axis(0)).enumerate() {
                let nrm = row.dot(&row).sqrt();
                if nrm <= F::c(1e-30) {
                    return Err(LossError::Input(format!(
                        "row {i} has zero norm and cannot be L2-normalised (turn normalisation off or fix the input)"
                    )));
                }
                row.mapv_inplace(|x| x / nrm);
                norms[i] = nrm;
            }
        }
        let gram = z.dot(&z.t());
        let half = F::c(0.5);
        let mut d2 = Array2::<F>::zeros((n, n));
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    let v = if normalize {
                        F::one() - gram[[i, j]]
                    } else {
                        half * (gram[[i, i]] + gram[[j, j]]) - gram[[i, j]]
                    };
                    d2[[i, j]] = v.max(F::zero());
                }
            }
        }
        Ok(Self {
            pairs: n / 2,
            normalized: normalize,
            z,
            norms,
            d2,
        })
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
        if !self.normalized {
            return grad_z.clone();
        }
        let mut g = grad_z.clone();
        for (i, mut row) in g.axis_iter_mut(Axis(0)).enumerate() {
            let zi = self.z.row(i);
            let proj = zi.dot(&row);
            let inv = F::one() / self.norms[i];
            for (gk, &zk) in row.iter_mut().zip(zi.iter()) {
                *gk = (*gk - proj * zk) * inv;
            }
        }
        g
    }
}
