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

fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// Loss value (mean over anchors of φ(ξ_i)) and the Theorem-1 α of a (φ, ψ) row.
///
/// Per-row quantities are accumulated in f64 for stability whatever `F` is.
pub fn family_alpha<F: Real>(geom: &Geometry<F>, phi: Phi, psi: Psi) -> (F, Array2<F>) {
    let n = geom.rows();
    let mut alpha = Array2::<F>::zeros((n, n));
    let mut total = 0.0f64;
    let mut u = Vec::with_capacity(n);
    for i in 0..n {
        let dp = geom.d2_pos(i).f64();
        u.clear();
        u.extend(
            (0..n)
                .filter(|&j| geom.is_negative(i, j))
                .map(|j| (j, dp - geom.d2[[i, j]].f64())),
        );
        match psi {
            Psi::Exp { a, b } => {
                let logs: Vec<f64> = u.iter().map(|&(_, x)| a * x + b).collect();
                let m = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + logs.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
                // log of φ'(ξ)·ξ-independent factor: α_j = exp(log_coef + logψ_j) · a.
                let (value, log_coef) = match phi {
                    Phi::Log { s, eps } => {
                        let le = log_add_exp(
                            if eps > 0.0 {
                                eps.ln()
                            } else {
                                f64::NEG_INFINITY
                            },
                            lse,
                        );
                        (s * le, Some((s.ln(), le)))
                    }
                    Phi::Identity => (lse.exp(), Some((0.0, 0.0))),
                    Phi::LogSqPlus => {
                        if lse > 0.0 {
                            (lse * lse, Some(((2.0 * lse).ln(), lse)))
                        } else {
                            (0.0, None)
                        }
                    }
                };
                total += value;
                if let Some((log_s, log_den)) = log_coef {
                    for (&(j, _), &l) in u.iter().zip(&logs) {
                        alpha[[i, j]] = F::c(a * (log_s + l - log_den).exp());
                    }
                }
            }
            _ => {
                let (vals, ders): (Vec<f64>, Vec<f64>) = u
                    .iter()
                    .map(|&(_, x)| match psi {
                        Psi::Hinge { eps } => {
                            if x + eps > 0.0 {
                                (x + eps, 1.0)
                            } else {
                                (0.0, 0.0)
                            }
                        }
                        Psi::Sigmoid { c } => {
                            let s = 1.0 / (1.0 + (-c * x).exp());
                            (s, c * s * (1.0 - s))
                        }
                        Psi::Identity => (x, 1.0),
                        Psi::Exp { .. } => unreachable!("handled above"),
                    })
                    .unzip();
                let xi: f64 = vals.iter().sum();
                let (value, dphi) = match phi {
                    Phi::Identity => (xi, 1.0),
                    Phi::Log { s, eps } => (s * (eps + xi).ln(), s / (eps + xi)),
                    Phi::LogSqPlus => {
                        if xi > 1.0 {
                            (xi.ln().powi(2), 2.0 * xi.ln() / xi)
                        } else {
                            (0.0, 0.0)
                        }
                    }
                };
                total += value;
                for (&(j, _), &d) in u.iter().zip(&ders) {
                    alpha[[i, j]] = F::c(dphi * d);
                }
            }
        }
    }
    (F::c(total / n as f64), alpha)
}
