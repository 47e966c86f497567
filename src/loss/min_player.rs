//! α-CL min players (Tian 2022 §4): α built by an explicit rule from the *detached* negative
//! distances d²_ij, j ∈ N(i), row-normalised as the official code's `dual2`:
//!
//! α_ij = w_ij / (Σ_k w_ik + ε·(2B−2)),   loss = (1/2B) Σ_i Σ_j α_ij (d²_i − d²_ij) = −E_α/2B.
//!
//! | rule | raw weight w_ij | min-player objective |
//! |---|---|---|
//! | entropy | exp(−d²_ij/τ) | min E_α − τ·H(α) on the simplex (closed form: softmax) |
//! | quadratic | [μ_i − d²_ij]₊/τ, Σ_j w_ij = 1 | min E_α + (τ/2)‖α‖² on the simplex |
//! | direct | exp(−d^p_ij/τ), d^p = (d²)^{p/2} | none (direct construction) |
//! | inverse | (d^p_ij + τ)^{−k} | none (official code's `alpha_type=inverse`) |
//!
//! **Stabilisation.** The exponential and inverse rules are computed in the log domain: with
//! l_ij = log w_ij, m_i = max_j l_ij and log D_i = log(Σ_k e^{l_ik} + ε(2B−2)) =
//! logaddexp(m_i + log Σ_k e^{l_ik − m_i}, log(ε(2B−2))), α_ij = exp(l_ij − log D_i). Every
//! exponent is ≤ 0, so no τ (1e-3 or 1e3) can overflow, and scaling the ε term by e^{−m_i} with
//! the weights keeps the rule exactly as defined (no clamping anywhere). Entries far below the
//! row maximum underflow to 0 — their value to f64 precision.
//!
//! **ε and the quadratic rule.** The quadratic min player's weights are the exact Euclidean
//! projection of −d²_i·/τ onto the probability simplex, so Σ_k w_ik = 1 and the `dual2`
//! normalisation gives α_ij = w_ij / (1 + ε·(2B−2)): ε shrinks the whole row uniformly (row sum
//! 1/(1 + ε(2B−2))) and never changes the support or the relative weights. (The official code's
//! `quadratic_assignment` reads μ one index past the support, so its Σw ≠ 1; we use the exact
//! projection, see [`simplex_threshold`].)
//!
//! All per-row arithmetic runs in f64 whatever the float type of the batch.

use ndarray::Array2;

use super::geometry::Geometry;
use super::spec::{LossKind, LossSpec};
use crate::real::Real;

/// The raw-weight rule of an α-CL min player, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// log w = −d²/τ.
    Entropy {
        /// Temperature τ > 0.
        tau: f64,
    },
    /// w = exact simplex projection of −d²/τ (sparse).
    Quadratic {
        /// Regularisation strength τ > 0.
        tau: f64,
    },
    /// log w = −(d²)^{p/2}/τ.
    Direct {
        /// Temperature τ > 0.
        tau: f64,
        /// Distance power p > 0.
        p: f64,
    },
    /// log w = −k·log((d²)^{p/2} + τ).
    Inverse {
        /// Offset τ > 0.
        tau: f64,
        /// Distance power p > 0.
        p: f64,
        /// Exponent k > 0.
        k: f64,
    },
}

impl Rule {
    /// The rule of an α-CL spec, or `None` for the family rows.
    pub fn of(spec: &LossSpec) -> Option<Self> {
        let tau = spec.get("tau");
        Some(match spec.kind {
            LossKind::AclEntropy => Rule::Entropy { tau },
            LossKind::AclQuadratic => Rule::Quadratic { tau },
            LossKind::AclDirect => Rule::Direct {
                tau,
                p: spec.get("p"),
            },
            LossKind::AclInverse => Rule::Inverse {
                tau,
                p: spec.get("p"),
                k: spec.get("k"),
            },
            _ => return None,
        })
    }

    /// log w for one squared distance (exponential and inverse rules).
    #[inline]
    fn log_weight(self, d2: f64) -> f64 {
        match self {
            Rule::Entropy { tau } => -d2 / tau,
            Rule::Direct { tau, p } => -pow_half(d2, p) / tau,
            Rule::Inverse { tau, p, k } => -k * (pow_half(d2, p) + tau).ln(),
            Rule::Quadratic { .. } => f64::NAN,
        }
    }
}

/// d^p = (d²)^{p/2} for d² ≥ 0, with exact fast paths for p = 1, 2, 4 (p = 4 is the paper's
/// CIFAR setting).
#[inline]
fn pow_half(d2: f64, p: f64) -> f64 {
    if p == 2.0 {
        d2
    } else if p == 4.0 {
        d2 * d2
    } else if p == 1.0 {
        d2.sqrt()
    } else if d2 <= 0.0 {
        0.0
    } else {
        d2.powf(0.5 * p)
    }
}

/// log(eᵃ + eᵇ) without overflow; either argument may be −∞.
fn log_add_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// The threshold μ of the Euclidean projection of −s/τ onto the simplex: the unique μ with
/// Σ_j [μ − s_j]₊ = τ. The projection is w_j = [μ − s_j]₊/τ (Σ_j w_j = 1).
///
/// Exact (Michelot's active-set iteration): start with every index active and
/// μ = (Σ_active s + τ)/|active|, drop the indices with s_j ≥ μ, repeat until none is dropped.
/// μ decreases monotonically and a dropped index is never in the final support, so the result
/// equals the sort-based rule of PAPER.md §4 (see [`simplex_threshold_sorted`]); typically a few
/// O(M) passes instead of an O(M log M) sort. `scratch` is reused between rows. `s` must be
/// non-empty and finite, τ > 0.
pub fn simplex_threshold(s: &[f64], tau: f64, scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend_from_slice(s);
    let mut mu = (scratch.iter().sum::<f64>() + tau) / scratch.len() as f64;
    loop {
        let before = scratch.len();
        scratch.retain(|&x| x < mu);
        if scratch.is_empty() {
            // Cannot happen in exact arithmetic (the minimum is always below μ); guard against
            // rounding by falling back to the exact sorted rule.
            return simplex_threshold_sorted(s, tau);
        }
        if scratch.len() == before {
            return mu;
        }
        mu = (scratch.iter().sum::<f64>() + tau) / scratch.len() as f64;
    }
}

/// The same threshold by the sort-based rule of PAPER.md §4: sort ascending s_1 ≤ … ≤ s_M, take
/// the largest K with s_K < (Σ_{m≤K} s_m + τ)/K, and μ = (Σ_{m≤K} s_m + τ)/K. O(M log M);
/// the reference for [`simplex_threshold`].
pub fn simplex_threshold_sorted(s: &[f64], tau: f64) -> f64 {
    let mut v = s.to_vec();
    v.sort_by(f64::total_cmp);
    let mut sum = 0.0;
    let mut mu = f64::NAN;
    for (k, &x) in v.iter().enumerate() {
        sum += x;
        let cand = (sum + tau) / (k + 1) as f64;
        if x < cand || k == 0 {
            mu = cand;
        }
    }
    mu
}

/// α for an α-CL spec (rows normalised as the official `dual2`; zero on self and partner).
/// Returns zeros for a spec that is not an α-CL min player.
pub fn alpha<F: Real>(spec: &LossSpec, geom: &Geometry<F>) -> Array2<F> {
    alpha_and_loss(spec, geom).1
}

/// The α-CL loss value (1/2B) Σ_i Σ_j α_ij (d²_i − d²_ij) and α, in one pass over the rows.
/// Returns (0, zeros) for a spec that is not an α-CL min player.
pub fn alpha_and_loss<F: Real>(spec: &LossSpec, geom: &Geometry<F>) -> (F, Array2<F>) {
    let n = geom.rows();
    let mut alpha = Array2::<F>::zeros((n, n));
    let Some(rule) = Rule::of(spec) else {
        return (F::zero(), alpha);
    };
    let eps = spec.get("eps");
    let eps = if eps.is_finite() && eps > 0.0 {
        eps
    } else {
        0.0
    };
    let slack = eps * (n - 2) as f64;
    let log_slack = if slack > 0.0 {
        slack.ln()
    } else {
        f64::NEG_INFINITY
    };
    // Row buffers: `buf[j]` is l_ij (or d²_ij for the quadratic rule), `neg` the negatives'
    // d² for the simplex projection, `scratch` its working copy.
    let mut buf = vec![0.0f64; n];
    let mut neg = Vec::with_capacity(n);
    let mut scratch = Vec::with_capacity(n);
    let mut total = 0.0f64;
    for i in 0..n {
        let p = geom.partner(i);
        let d_row = geom.d2.row(i);
        let dp = d_row[p].f64();
        let mut row_loss = 0.0f64;
        let mut a_row = alpha.row_mut(i);
        match rule {
            Rule::Quadratic { tau } => {
                // Work relative to the row minimum s_min (exact: μ shifts by s_min too); this
                // keeps μ − s_j accurate for tiny τ and guarantees the minimum is in the support.
                neg.clear();
                let mut s_min = f64::INFINITY;
                for (j, &d) in d_row.iter().enumerate() {
                    if j != i && j != p {
                        let d = d.f64();
                        neg.push(d);
                        s_min = s_min.min(d);
                    }
                }
                for x in neg.iter_mut() {
                    *x -= s_min;
                }
                let mu = simplex_threshold(&neg, tau, &mut scratch);
                let scale = 1.0 / (tau * (1.0 + slack));
                for (j, (out, &d)) in a_row.iter_mut().zip(d_row.iter()).enumerate() {
                    if j != i && j != p {
                        let d = d.f64();
                        let t = d - s_min;
                        if t < mu {
                            let a = (mu - t) * scale;
                            *out = F::c(a);
                            row_loss += a * (dp - d);
                        }
                    }
                }
            }
            _ => {
                let mut m = f64::NEG_INFINITY;
                for (j, (slot, &d)) in buf.iter_mut().zip(d_row.iter()).enumerate() {
                    if j != i && j != p {
                        let l = rule.log_weight(d.f64());
                        *slot = l;
                        m = m.max(l);
                    }
                }
                let mut sum = 0.0;
                for (j, slot) in buf.iter_mut().enumerate() {
                    if j != i && j != p {
                        let e = (*slot - m).exp();
                        *slot = e;
                        sum += e;
                    }
                }
                // α_ij = e^{l_ij − m} · e^{m − log D}, with log D ≥ m + log(sum) ≥ m.
                let log_d = log_add_exp(m + sum.ln(), log_slack);
                let coef = (m - log_d).exp();
                for (j, ((out, &e), &d)) in a_row
                    .iter_mut()
                    .zip(buf.iter())
                    .zip(d_row.iter())
                    .enumerate()
                {
                    if j != i && j != p {
                        let a = coef * e;
                        *out = F::c(a);
                        row_loss += a * (dp - d.f64());
                    }
                }
            }
        }
        total += row_loss;
    }
    (F::c(total / n as f64), alpha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn michelot_threshold_equals_sorted_rule() {
        let mut rng = Rng::seed_from_u64(11);
        let mut scratch = Vec::new();
        for trial in 0..200 {
            let m = 1 + rng.below(40);
            let s: Vec<f64> = (0..m)
                .map(|_| {
                    // Include ties and duplicates on some trials.
                    if trial % 3 == 0 {
                        (rng.below(4) as f64) * 0.25
                    } else {
                        rng.uniform_range(0.0, 2.0)
                    }
                })
                .collect();
            let tau = [1e-3, 0.05, 0.5, 3.0, 1e3][trial % 5];
            let a = simplex_threshold(&s, tau, &mut scratch);
            let b = simplex_threshold_sorted(&s, tau);
            assert!(
                (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
                "{s:?} τ={tau}: {a} vs {b}"
            );
            // Defining equation Σ [μ − s]₊ = τ.
            let lhs: f64 = s.iter().map(|&x| (a - x).max(0.0)).sum();
            assert!((lhs - tau).abs() <= 1e-9 * (1.0 + tau), "{lhs} vs {tau}");
        }
    }

    #[test]
    fn pow_half_fast_paths_agree_with_powf() {
        for d2 in [0.0, 1e-12, 0.3, 1.0, 1.7, 4.0] {
            for p in [1.0, 2.0, 4.0, 3.0, 0.5] {
                let want = if d2 == 0.0 {
                    0.0
                } else {
                    f64::powf(d2, p / 2.0)
                };
                assert!(
                    (pow_half(d2, p) - want).abs() <= 1e-15 * (1.0 + want),
                    "{d2} {p}"
                );
            }
        }
    }
}
