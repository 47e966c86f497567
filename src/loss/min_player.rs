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
//! **Stabilisation.** Every rule divides its weights by the row's largest weight (that of the
//! nearest negative) before normalising, and scales the ε term by the same factor in the log
//! domain: α_ij = w̃_ij / D̃_i with w̃_ij = w_ij / max_k w_ik ≤ 1 and
//! log D̃_i = logaddexp(log Σ_k w̃_ik, log(ε(2B−2)) − log max_k w_ik). No exponent is positive,
//! so no τ (1e-3 or 1e3) can overflow, and the rule stays exactly as defined (no clamping
//! anywhere). Entries far below the row maximum underflow to 0 — their value to working
//! precision.
//!
//! **ε and the quadratic rule.** The quadratic min player's weights are the exact Euclidean
//! projection of −d²_i·/τ onto the probability simplex, so Σ_k w_ik = 1 and the `dual2`
//! normalisation gives α_ij = w_ij / (1 + ε·(2B−2)): ε shrinks the whole row uniformly (row sum
//! 1/(1 + ε(2B−2))) and never changes the support or the relative weights. (The official code's
//! `quadratic_assignment` reads μ one index past the support, so its Σw ≠ 1; we use the exact
//! projection, see [`simplex_threshold`].)
//!
//! Row scalars (normalisers, thresholds) are f64; per-entry work runs in the batch's float type.

use ndarray::Array2;

use super::geometry::Geometry;
use super::kernels;
use crate::real::Real;

/// The raw-weight rule of an α-CL min player, with its parameters (built by
/// [`super::LossSpec::check`], so every parameter is inside its range).
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
/// Exact, by Michelot's active-set iteration (= Newton's method on the piecewise-linear
/// f(μ) = Σ_j [μ − s_j]₊ − τ from the right): μ₀ = (Σ_j s_j + τ)/M, then
/// μ_{t+1} = (Σ_{s_j<μ_t} s_j + τ)/|{j : s_j < μ_t}| until that set stops shrinking. μ decreases
/// monotonically and an index that leaves the set never returns, so the result equals the
/// sort-based rule of PAPER.md §4 ([`simplex_threshold_sorted`]), in a few branch-free O(M)
/// passes instead of a sort (after 64 passes it falls back to the sort). `s` must be non-empty
/// and finite, τ > 0.
pub fn simplex_threshold(s: &[f64], tau: f64) -> f64 {
    let m = s.len();
    let mut count = m;
    let mut mu = (s.iter().sum::<f64>() + tau) / m as f64;
    for _ in 0..64 {
        let mut cnt = [0usize; 4];
        let mut sum = [0.0f64; 4];
        let chunks = s.chunks_exact(4);
        let rest = chunks.remainder();
        for c in chunks {
            for k in 0..4 {
                let inside = c[k] < mu;
                cnt[k] += usize::from(inside);
                sum[k] += if inside { c[k] } else { 0.0 };
            }
        }
        let mut c_all: usize = cnt.iter().sum();
        let mut s_all: f64 = sum.iter().sum();
        for &x in rest {
            if x < mu {
                c_all += 1;
                s_all += x;
            }
        }
        if c_all == count {
            return mu;
        }
        if c_all == 0 {
            // Only possible through rounding when τ is negligible against s.
            break;
        }
        count = c_all;
        mu = (s_all + tau) / c_all as f64;
    }
    simplex_threshold_sorted(s, tau)
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

/// α of a min player with slack ε ≥ 0 (rows normalised as the official `dual2`; zero on self
/// and partner).
pub fn alpha<F: Real>(rule: Rule, eps: f64, geom: &Geometry<F>) -> Array2<F> {
    alpha_and_loss(rule, eps, geom).1
}

/// d^p = (d²)^{p/2} for d² ≥ 0 in the working float type, with exact fast paths for
/// p = 1, 2, 4 (p = 4 is the paper's CIFAR setting).
#[inline]
fn pow_half_f<F: Real>(d2: F, p: f64, half_p: F) -> F {
    if p == 2.0 {
        d2
    } else if p == 4.0 {
        d2 * d2
    } else if p == 1.0 {
        d2.sqrt()
    } else if d2 <= F::zero() {
        F::zero()
    } else {
        d2.powf(half_p)
    }
}

/// The α-CL loss value (1/2B) Σ_i Σ_j α_ij (d²_i − d²_ij) and α, in one pass over the rows,
/// for a checked rule and slack ε ≥ 0 (ε = 0: rows sum to 1).
///
/// Exponential rules work relative to the row's smallest s_ij (s = d² or d^p), which has the
/// largest weight: e_ij = exp((s_min − s_ij)/τ) ≤ 1 and α_ij = e_ij / D̃_i with
/// log D̃_i = logaddexp(log Σ_j e_ij, log(ε(2B−2)) + s_min/τ). The inverse rule likewise uses
/// r_ij = (s_min + τ)/(s_ij + τ) ≤ 1, w̃ = r^k, log D̃_i = logaddexp(log Σ w̃,
/// log(ε(2B−2)) + k·log(s_min + τ)). The row scalars are f64; the per-entry work runs in the
/// batch's float type (fast exp in f32, see [`super::kernels`]).
pub fn alpha_and_loss<F: Real>(rule: Rule, eps: f64, geom: &Geometry<F>) -> (F, Array2<F>) {
    let n = geom.rows();
    let mut alpha = Array2::<F>::zeros((n, n));
    let slack = eps * (n - 2) as f64;
    let log_slack = if slack > 0.0 {
        slack.ln()
    } else {
        f64::NEG_INFINITY
    };
    let d2c = geom.d2.as_standard_layout();
    let d2 = d2c
        .as_slice()
        .expect("a standard-layout array is contiguous");
    let mut buf = vec![F::zero(); n];
    let mut neg = Vec::with_capacity(n);
    let mut total = 0.0f64;
    let a_all = alpha.as_slice_mut().expect("a fresh array is contiguous");
    for (i, (d_row, a_row)) in d2
        .chunks_exact(n)
        .zip(a_all.chunks_exact_mut(n))
        .enumerate()
    {
        let p = geom.partner(i);
        let dp = d_row[p];
        match rule {
            Rule::Quadratic { tau } => {
                // Work relative to the row minimum s_min (exact: μ shifts by s_min too); this
                // keeps μ − s_j accurate for tiny τ and guarantees the minimum is in the support.
                let s_min = kernels::min_except(d_row, i, p).f64();
                neg.clear();
                for (j, &d) in d_row.iter().enumerate() {
                    if j != i && j != p {
                        neg.push(d.f64() - s_min);
                    }
                }
                let mu = simplex_threshold(&neg, tau);
                let scale = 1.0 / (tau * (1.0 + slack));
                for (j, (out, &d)) in a_row.iter_mut().zip(d_row).enumerate() {
                    let t = d.f64() - s_min;
                    if j != i && j != p && t < mu {
                        *out = F::c((mu - t) * scale);
                    }
                }
            }
            Rule::Entropy { tau } | Rule::Direct { tau, .. } => {
                let pw = if let Rule::Direct { p, .. } = rule {
                    p
                } else {
                    2.0
                };
                let half_p = F::c(0.5 * pw);
                let d_min = kernels::min_except(d_row, i, p);
                let s_min = pow_half_f(d_min, pw, half_p);
                let inv_tau = F::c(1.0 / tau);
                // One loop per exponent so each inner loop is branch-free.
                let pairs = buf.iter_mut().zip(d_row);
                if pw == 2.0 {
                    pairs.for_each(|(slot, &d)| *slot = (s_min - d) * inv_tau);
                } else if pw == 4.0 {
                    pairs.for_each(|(slot, &d)| *slot = (s_min - d * d) * inv_tau);
                } else {
                    pairs.for_each(|(slot, &d)| {
                        *slot = (s_min - pow_half_f(d, pw, half_p)) * inv_tau;
                    });
                }
                buf[i] = F::neg_infinity();
                buf[p] = F::neg_infinity();
                kernels::exp_nonpositive_inplace(&mut buf);
                let log_d =
                    log_add_exp(kernels::sum(&buf).f64().ln(), log_slack + s_min.f64() / tau);
                let coef = F::c((-log_d).exp());
                for (out, &e) in a_row.iter_mut().zip(&buf) {
                    *out = coef * e;
                }
            }
            Rule::Inverse { tau, p: pw, k } => {
                let half_p = F::c(0.5 * pw);
                let tau_f = F::c(tau);
                let d_min = kernels::min_except(d_row, i, p);
                let top = pow_half_f(d_min, pw, half_p) + tau_f;
                let kf = F::c(k);
                for (slot, &d) in buf.iter_mut().zip(d_row) {
                    let r = top / (pow_half_f(d, pw, half_p) + tau_f);
                    *slot = if k == 1.0 {
                        r
                    } else if k == 2.0 {
                        r * r
                    } else {
                        r.powf(kf)
                    };
                }
                buf[i] = F::zero();
                buf[p] = F::zero();
                let log_d = log_add_exp(
                    kernels::sum(&buf).f64().ln(),
                    log_slack + k * top.f64().ln(),
                );
                let coef = F::c((-log_d).exp());
                for (out, &w) in a_row.iter_mut().zip(&buf) {
                    *out = coef * w;
                }
            }
        }
        total += kernels::weighted_gap(a_row, d_row, dp).f64();
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
            let a = simplex_threshold(&s, tau);
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
        for d2 in [0.0f64, 1e-12, 0.3, 1.0, 1.7, 4.0] {
            for p in [1.0, 2.0, 4.0, 3.0, 0.5] {
                let want = if d2 == 0.0 { 0.0 } else { d2.powf(p / 2.0) };
                let got = pow_half_f(d2, p, p / 2.0);
                assert!((got - want).abs() <= 1e-15 * (1.0 + want), "{d2} {p}");
            }
        }
    }
}
