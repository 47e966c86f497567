//! The general loss family L_{φ,ψ} (Tian 2022, Eqn. 1 / Figure 1) and its Theorem-1 α.
//!
//! L = (1/2B) Σ_i φ(ξ_i),  ξ_i = Σ_{j∈N(i)} ψ(d²_i − d²_ij),
//! α_ij = φ′(ξ_i)·ψ′(d²_i − d²_ij) ≥ 0,  β_i = Σ_j α_ij.
//!
//! | loss | φ(x) | ψ(x) |
//! |---|---|---|
//! | InfoNCE | τ·log(ε + x) | exp(x/τ) |
//! | MINE | log(x) | exp(x) |
//! | Triplet | x | [x + ε]₊ |
//! | Soft Triplet | τ·log(1 + x) | exp(x/τ + ε) |
//! | N+1 Tuplet | log(1 + x) | exp(x) |
//! | Lifted Structured | [log(x)]²₊ | exp(x + ε) |
//! | Modified Triplet | x | sigmoid(c·x) |
//! | Triplet Contrastive | x | x |
//! | NT-Xent (SimCLR) | log(1 + x) | exp(x/τ) |
//!
//! `infonce:eps=1` is exactly τ × `nt-xent` (positive in the denominator); `eps=0` is the
//! decoupled variant. Exponential ψ rows are evaluated in the log domain (log-sum-exp), so small
//! τ neither overflows nor underflows: log ξ_i = LSE_j(a·u_ij + b) and
//! α_ij = φ′(ξ_i)·a·exp(a·u_ij + b) is formed from differences of logs.

use ndarray::Array2;

use super::geometry::Geometry;
use super::kernels;
use crate::real::Real;

/// The outer function φ of a family row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phi {
    /// φ(x) = s·log(ε + x).
    Log {
        /// Scale s.
        s: f64,
        /// Offset ε ≥ 0.
        eps: f64,
    },
    /// φ(x) = x.
    Identity,
    /// φ(x) = [log x]₊² (lifted structured).
    LogSqPlus,
}

/// The inner function ψ of a family row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Psi {
    /// ψ(u) = exp(a·u + b).
    Exp {
        /// Slope a (1/τ for InfoNCE).
        a: f64,
        /// Shift b.
        b: f64,
    },
    /// ψ(u) = [u + ε]₊.
    Hinge {
        /// Margin ε.
        eps: f64,
    },
    /// ψ(u) = sigmoid(c·u).
    Sigmoid {
        /// Sharpness c > 0.
        c: f64,
    },
    /// ψ(u) = u.
    Identity,
}

/// log(eᵃ + eᵇ) without overflow; either argument may be −∞.
fn log_add_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

impl Psi {
    /// ψ(u) and ψ′(u) (for the non-exponential rows; exponential rows use the log domain).
    fn value_and_slope(self, u: f64) -> (f64, f64) {
        match self {
            Psi::Exp { a, b } => {
                let e = (a * u + b).exp();
                (e, a * e)
            }
            Psi::Hinge { eps } => {
                if u + eps > 0.0 {
                    (u + eps, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
            Psi::Sigmoid { c } => {
                // σ(x) = 1/(1 + e^{−x}), written so that neither branch overflows.
                let x = c * u;
                let s = if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (1.0 + e)
                };
                (s, c * s * (1.0 - s))
            }
            Psi::Identity => (u, 1.0),
        }
    }
}

impl Phi {
    /// φ(ξ) and φ′(ξ) for ξ given directly (non-exponential rows).
    fn value_and_slope(self, xi: f64) -> (f64, f64) {
        match self {
            Phi::Identity => (xi, 1.0),
            Phi::Log { s, eps } => (s * (eps + xi).ln(), s / (eps + xi)),
            Phi::LogSqPlus => {
                if xi > 1.0 {
                    let l = xi.ln();
                    (l * l, 2.0 * l / xi)
                } else {
                    (0.0, 0.0)
                }
            }
        }
    }

    /// For ξ = e^{lse}: φ(ξ) and (log_num, log_den) with φ′(ξ) = exp(log_num − log_den),
    /// or `None` when φ′(ξ) = 0.
    fn log_domain(self, lse: f64) -> (f64, Option<(f64, f64)>) {
        match self {
            // φ = s·log(ε + ξ):  φ′ = s/(ε + ξ).
            Phi::Log { s, eps } => {
                let log_eps = if eps > 0.0 {
                    eps.ln()
                } else {
                    f64::NEG_INFINITY
                };
                let le = log_add_exp(log_eps, lse);
                (s * le, Some((s.ln(), le)))
            }
            // φ = ξ:  φ′ = 1.
            Phi::Identity => (lse.exp(), Some((0.0, 0.0))),
            // φ = [log ξ]²₊:  φ′ = 2 log ξ / ξ for ξ > 1.
            Phi::LogSqPlus => {
                if lse > 0.0 {
                    (lse * lse, Some(((2.0 * lse).ln(), lse)))
                } else {
                    (0.0, None)
                }
            }
        }
    }
}

/// Loss value (mean over anchors of φ(ξ_i)) and the Theorem-1 α of a (φ, ψ) row.
///
/// For ψ(u) = exp(a·u + b) (a > 0 in every row of the table) the row is evaluated in the log
/// domain: the largest l_ij = a·u_ij + b belongs to the nearest negative d²_min, so with
/// m_i = a(d²_i − d²_min) + b and e_ij = exp(a(d²_min − d²_ij)) ≤ 1,
/// log ξ_i = m_i + log Σ_j e_ij and α_ij = a·φ′(ξ_i)·e^{m_i}·e_ij, where φ′(ξ_i)·e^{m_i} is
/// formed from logs. No exponent is positive, so no τ overflows; entries far below the nearest
/// negative underflow to 0 (their value to working precision). The e_ij use the fast f32 kernel
/// in f32 ([`super::kernels`]) and `f64::exp` in f64; the per-row scalars are f64.
/// Other rows evaluate ψ, ψ′ and φ, φ′ directly in f64.
pub fn family_alpha<F: Real>(geom: &Geometry<F>, phi: Phi, psi: Psi) -> (F, Array2<F>) {
    let n = geom.rows();
    let mut alpha = Array2::<F>::zeros((n, n));
    let mut total = 0.0f64;
    let d2c = geom.d2.as_standard_layout();
    let d2 = d2c
        .as_slice()
        .expect("a standard-layout array is contiguous");
    // Row buffers: e_ij (exp rows) or ψ′(u_ij) (other rows).
    let mut ebuf = vec![F::zero(); n];
    let mut buf = vec![0.0f64; n];
    let a_all = alpha.as_slice_mut().expect("a fresh array is contiguous");
    for (i, (d_row, a_row)) in d2
        .chunks_exact(n)
        .zip(a_all.chunks_exact_mut(n))
        .enumerate()
    {
        let p = geom.partner(i);
        let dp = d_row[p];
        match psi {
            Psi::Exp { a, b } => {
                let d_min = kernels::min_except(d_row, i, p);
                let af = F::c(a);
                for (slot, &d) in ebuf.iter_mut().zip(d_row) {
                    *slot = af * (d_min - d);
                }
                ebuf[i] = F::neg_infinity();
                ebuf[p] = F::neg_infinity();
                kernels::exp_nonpositive_inplace(&mut ebuf);
                let m = a * (dp - d_min).f64() + b;
                let lse = m + kernels::sum(&ebuf).f64().ln();
                let (value, slope) = phi.log_domain(lse);
                total += value;
                if let Some((log_num, log_den)) = slope {
                    let coef = F::c(a * (log_num - log_den + m).exp());
                    // e_ij = 0 on self and partner, so α stays 0 there.
                    for (out, &e) in a_row.iter_mut().zip(&ebuf) {
                        *out = coef * e;
                    }
                }
            }
            _ => {
                let dp = dp.f64();
                let mut xi = 0.0;
                for (j, (slot, &d)) in buf.iter_mut().zip(d_row).enumerate() {
                    if j != i && j != p {
                        let (v, s) = psi.value_and_slope(dp - d.f64());
                        xi += v;
                        *slot = s;
                    } else {
                        *slot = 0.0;
                    }
                }
                let (value, dphi) = phi.value_and_slope(xi);
                total += value;
                for (out, &s) in a_row.iter_mut().zip(&buf) {
                    *out = F::c(dphi * s);
                }
            }
        }
    }
    (F::c(total / n as f64), alpha)
}
