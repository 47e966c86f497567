//! Collapse and rank metrics of a batch of embeddings.
//!
//! For a batch Z of 2B rows (rows k and k+B are the two views of sample k):
//! - singular values σ_1 ≥ … of Z (uncentred) or of Z − 1 z̄ᵀ (centred), via [`super::linalg`];
//! - effective rank (Roy & Vetterli 2007): erank = exp(−Σ_k p_k log p_k), p_k = σ_k / Σ_m σ_m;
//! - RankMe (Garrido et al. 2023): the same with p_k = σ_k/‖σ‖₁ + ε (ε = 1e-7);
//! - log spectrum (Jing et al. 2022): log₁₀ of the eigenvalues of the embedding covariance
//!   Cov(z) = (1/n) Σ_i (z_i − z̄)(z_i − z̄)ᵀ, descending (floored at 1e-30);
//! - alignment and uniformity (Wang & Isola 2020) on ẑ = z/‖z‖:
//!   align = (1/B) Σ_k ‖ẑ_k − ẑ_{k+B}‖² (α = 2),
//!   uniform = log( mean_{i<j} exp(−2‖ẑ_i − ẑ_j‖²) ) over all pairs of distinct rows;
//! - per-dimension std of ẑ (collapse shows as std → 0; a uniform spread gives ≈ 1/√d).

use ndarray::{Array2, ArrayView2, Axis};

use super::linalg::{AnalysisError, singular_values, sym_eigen};

/// ε of RankMe.
pub const RANKME_EPS: f64 = 1e-7;

/// Effective rank exp(H(p)), p_k = σ_k/Σσ (Roy & Vetterli). Returns 0 when all σ are zero.
pub fn effective_rank(sv: &[f64]) -> f64 {
    let total: f64 = sv.iter().map(|s| s.abs()).sum();
    if total <= 0.0 || !total.is_finite() {
        return 0.0;
    }
    let h: f64 = sv
        .iter()
        .map(|s| s.abs() / total)
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    h.exp()
}

/// RankMe: exp(−Σ p_k log p_k) with p_k = σ_k/‖σ‖₁ + ε.
pub fn rankme(sv: &[f64], eps: f64) -> f64 {
    let total: f64 = sv.iter().map(|s| s.abs()).sum();
    if total <= 0.0 || !total.is_finite() {
        return 0.0;
    }
    let h: f64 = sv
        .iter()
        .map(|s| s.abs() / total + eps)
        .map(|p| -p * p.ln())
        .sum();
    h.exp()
}

/// Singular values of the rows of `z` (descending), centred (rows minus their mean) or not.
pub fn batch_singular_values(
    z: ArrayView2<f64>,
    centered: bool,
) -> Result<Vec<f64>, AnalysisError> {
    if z.nrows() == 0 || z.ncols() == 0 {
        return Err(AnalysisError::Input(format!(
            "singular values need a non-empty batch, got {} × {}",
            z.nrows(),
            z.ncols()
        )));
    }
    if centered {
        let mean = z
            .mean_axis(Axis(0))
            .unwrap_or_else(|| ndarray::Array1::zeros(z.ncols()));
        singular_values((&z - &mean).view())
    } else {
        singular_values(z)
    }
}

/// log₁₀ eigenvalues of the embedding covariance (1/n) Σ (z_i − z̄)(z_i − z̄)ᵀ, descending.
pub fn log_spectrum(z: ArrayView2<f64>) -> Result<Vec<f64>, AnalysisError> {
    let n = z.nrows();
    if n == 0 || z.ncols() == 0 {
        return Err(AnalysisError::Input(
            "log spectrum needs a non-empty batch".into(),
        ));
    }
    let mean = z
        .mean_axis(Axis(0))
        .unwrap_or_else(|| ndarray::Array1::zeros(z.ncols()));
    let c = &z - &mean;
    // Wider than tall (d > n): the d × d covariance has rank < n, and its non-zero eigenvalues
    // are those of the n × n Gram matrix C Cᵀ/n (the other d − n are zero): O(n²d + n³)
    // instead of O(d³) — a 4096-wide output kept the page's first snapshot waiting minutes.
    let values = if z.ncols() > n {
        let mut v = sym_eigen((c.dot(&c.t()) / n as f64).view())?.values;
        v.resize(z.ncols(), 0.0);
        v
    } else {
        sym_eigen((c.t().dot(&c) / n as f64).view())?.values
    };
    Ok(values.iter().map(|&l| l.max(1e-30).log10()).collect())
}

/// Rows scaled to unit norm (zero rows stay zero).
pub fn normalize_rows(z: ArrayView2<f64>) -> Array2<f64> {
    let mut out = z.to_owned();
    for mut r in out.axis_iter_mut(Axis(0)) {
        let n = r.dot(&r).sqrt();
        if n > 0.0 {
            r.mapv_inplace(|v| v / n);
        }
    }
    out
}

/// Wang & Isola alignment (1/B) Σ_k ‖ẑ_k − ẑ_{k+B}‖² of unit rows `zn` (2B rows).
pub fn alignment(zn: ArrayView2<f64>) -> f64 {
    let b = zn.nrows() / 2;
    if b == 0 {
        return 0.0;
    }
    (0..b)
        .map(|k| {
            let d = &zn.row(k) - &zn.row(k + b);
            d.dot(&d)
        })
        .sum::<f64>()
        / b as f64
}

/// Wang & Isola uniformity log(mean_{i<j} exp(−t‖ẑ_i − ẑ_j‖²)) with t = 2, over all pairs.
pub fn uniformity(zn: ArrayView2<f64>) -> f64 {
    let n = zn.nrows();
    if n < 2 {
        return 0.0;
    }
    let gram = zn.dot(&zn.t());
    // Log-sum-exp over pairs for stability.
    let mut vals = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in (i + 1)..n {
            let d2 = (gram[[i, i]] + gram[[j, j]] - 2.0 * gram[[i, j]]).max(0.0);
            vals.push(-2.0 * d2);
        }
    }
    let m = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = vals.iter().map(|v| (v - m).exp()).sum();
    m + (s / vals.len() as f64).ln()
}

/// Per-dimension standard deviation (population, 1/n) of the rows.
pub fn dim_std(z: ArrayView2<f64>) -> Vec<f64> {
    let n = z.nrows().max(1) as f64;
    z.axis_iter(Axis(1))
        .map(|c| {
            let m = c.sum() / n;
            (c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt()
        })
        .collect()
}

/// Every collapse/rank readout of one batch of 2B embeddings (rows k, k+B partners).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CollapseMetrics {
    /// Number of rows 2B.
    pub rows: usize,
    /// Embedding dimension d.
    pub dim: usize,
    /// Singular values of the centred batch, descending.
    pub singular_values: Vec<f64>,
    /// Singular values of the uncentred batch, descending.
    pub singular_values_uncentered: Vec<f64>,
    /// Effective rank of the centred batch (Roy & Vetterli).
    pub effective_rank: f64,
    /// Effective rank of the uncentred batch.
    pub effective_rank_uncentered: f64,
    /// RankMe (ε = [`RANKME_EPS`]) of the centred batch.
    pub rankme: f64,
    /// log₁₀ eigenvalues of the embedding covariance (Jing et al. 2022), descending.
    pub log_spectrum: Vec<f64>,
    /// Wang & Isola alignment of the normalised views (0 = views identical, 4 = opposite).
    pub alignment: f64,
    /// Wang & Isola uniformity (t = 2) of the normalised rows (0 = collapsed, more negative =
    /// more uniform).
    pub uniformity: f64,
    /// Standard deviation of each dimension of the normalised rows.
    pub dim_std: Vec<f64>,
    /// Mean of `dim_std` (≈ 1/√d when spread out, → 0 on complete collapse).
    pub mean_dim_std: f64,
}

impl CollapseMetrics {
    /// Computes all metrics from a batch of 2B embeddings (f32 rows, as the trainer has them).
    pub fn compute(z: &Array2<f32>) -> Result<Self, AnalysisError> {
        Self::compute_f64(z.mapv(f64::from).view())
    }

    /// As [`CollapseMetrics::compute`] for f64 rows.
    pub fn compute_f64(z: ArrayView2<f64>) -> Result<Self, AnalysisError> {
        let (n, d) = z.dim();
        if n < 2 || !n.is_multiple_of(2) || d == 0 {
            return Err(AnalysisError::Input(format!(
                "collapse metrics need 2B ≥ 2 rows (rows k and k+B partners) and d ≥ 1 columns, got {n} × {d}"
            )));
        }
        if z.iter().any(|v| !v.is_finite()) {
            return Err(AnalysisError::Input(
                "collapse metrics need finite embeddings (found NaN or infinity)".into(),
            ));
        }
        let sv = batch_singular_values(z, true)?;
        let sv_u = batch_singular_values(z, false)?;
        let zn = normalize_rows(z);
        let std = dim_std(zn.view());
        let mean_std = std.iter().sum::<f64>() / d as f64;
        Ok(Self {
            rows: n,
            dim: d,
            effective_rank: effective_rank(&sv),
            effective_rank_uncentered: effective_rank(&sv_u),
            rankme: rankme(&sv, RANKME_EPS),
            log_spectrum: log_spectrum(z)?,
            alignment: alignment(zn.view()),
            uniformity: uniformity(zn.view()),
            dim_std: std,
            mean_dim_std: mean_std,
            singular_values: sv,
            singular_values_uncentered: sv_u,
        })
    }
}

/// Caches [`CollapseMetrics`] and recomputes them at most every `every` steps (the trainer
/// calls [`CollapseTracker::update`] each step with a closure giving the current 2B rows).
#[derive(Debug, Clone)]
pub struct CollapseTracker {
    /// Recompute when at least this many steps passed since the last computation.
    pub every: usize,
    last_step: Option<usize>,
    /// The latest metrics and the step they were computed at.
    pub latest: Option<(usize, CollapseMetrics)>,
}

impl CollapseTracker {
    /// A tracker that recomputes every `every` steps (at least 1).
    pub fn new(every: usize) -> Self {
        Self {
            every: every.max(1),
            last_step: None,
            latest: None,
        }
    }

    /// Recomputes from `rows()` if `step` is due; returns whether it recomputed. A batch the
    /// metrics cannot use (odd rows, non-finite values) leaves the cache as it was.
    pub fn update(&mut self, step: usize, rows: impl FnOnce() -> Array2<f32>) -> bool {
        let due = self
            .last_step
            .is_none_or(|last| step >= last + self.every || step < last);
        if !due {
            return false;
        }
        self.last_step = Some(step);
        match CollapseMetrics::compute(&rows()) {
            Ok(m) => {
                self.latest = Some((step, m));
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_log_spectrum_uses_the_gram_form_with_the_same_eigenvalues() {
        let mut rng = crate::rng::Rng::seed_from_u64(5);
        let (n, d) = (10, 37);
        let z = Array2::from_shape_fn((n, d), |_| rng.uniform_range(-1.0, 1.0));
        let got = log_spectrum(z.view()).unwrap();
        let mean = z.mean_axis(Axis(0)).unwrap();
        let c = &z - &mean;
        let want = sym_eigen((c.t().dot(&c) / n as f64).view()).unwrap().values;
        assert_eq!(got.len(), d);
        // Centring leaves rank n − 1: those eigenvalues agree, the rest are negligible in both.
        for k in 0..n - 1 {
            assert!(
                (got[k] - want[k].log10()).abs() < 1e-9,
                "{k}: {} vs {}",
                got[k],
                want[k]
            );
        }
        for k in n - 1..d {
            assert!(got[k] < got[0] - 10.0, "{k}: {}", got[k]);
            assert!(
                want[k].max(1e-30).log10() < got[0] - 10.0,
                "{k}: {}",
                want[k]
            );
        }
    }

    #[test]
    fn tracker_recomputes_only_when_due() {
        let mut t = CollapseTracker::new(5);
        let z = |s: f32| {
            Array2::from_shape_fn((8, 3), |(i, j)| s * (i * 3 + j) as f32 + (j as f32).sin())
        };
        let mut calls = 0;
        for step in 1..=12 {
            if t.update(step, || z(step as f32)) {
                calls += 1;
            }
        }
        // Steps 1, 6 and 11.
        assert_eq!(calls, 3);
        assert_eq!(t.latest.as_ref().map(|(s, _)| *s), Some(11));
        // A malformed batch keeps the previous metrics.
        assert!(!t.update(20, || Array2::zeros((3, 3))));
        assert_eq!(t.latest.as_ref().map(|(s, _)| *s), Some(11));
    }
}
