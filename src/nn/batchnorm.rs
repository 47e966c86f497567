//! Batch normalisation (with a fused activation) and global average pooling.
//!
//! [`BatchNorm`] normalises each of C channels over the batch. A row holds C blocks of P
//! values (P = H·W for images in (channel, row, column) order, P = 1 for vectors), so one
//! channel's M = N·P values are x_{n,c,p}. With f the activation:
//!
//! - **train** (batch statistics): μ_c = (1/M) Σ x, σ²_c = (1/M) Σ (x − μ_c)² (biased),
//!   x̂ = (x − μ_c)/√(σ²_c + ε), y = f(γ_c x̂ + β_c); the running statistics then move by
//!   r ← (1 − m) r + m s with the unbiased variance σ²_c·M/(M − 1) (PyTorch's convention,
//!   m = 0.1, ε = 1e-5).
//! - **eval**: the same map with (μ, σ²) replaced by the running statistics.
//! - **backward** (train mode), with g̃ = g ⊙ f′(y):
//!   ∂β_c = Σ g̃, ∂γ_c = Σ g̃ x̂, ∂x = γ_c /(M √(σ²_c + ε)) · (M g̃ − ∂β_c − x̂ ∂γ_c).
//!
//! [`GlobalAvgPool`] maps (C, H, W) to C: y_{n,c} = (1/P) Σ_p x_{n,c,p}, ∂x = g/P.

use ndarray::{Array1, ArrayView2, ArrayViewMut2};

use super::layers::{Activation, LayerCache, Mode, Shape3, row_slice};
use crate::real::Real;

/// Running-statistics momentum m.
pub const BN_MOMENTUM: f64 = 0.1;
/// ε added to the variance.
pub const BN_EPS: f64 = 1e-5;

/// Batch normalisation over C channels of P values each, then an activation.
#[derive(Debug, Clone)]
pub struct BatchNorm<F: Real = f32> {
    /// Number of channels C.
    pub channels: usize,
    /// Values per channel and sample P.
    pub spatial: usize,
    /// Scale γ (C), initialised to 1.
    pub gamma: Array1<F>,
    /// Shift β (C), initialised to 0.
    pub beta: Array1<F>,
    /// ∂L/∂γ.
    pub ggamma: Array1<F>,
    /// ∂L/∂β.
    pub gbeta: Array1<F>,
    /// Running mean (C), used in eval mode.
    pub running_mean: Array1<F>,
    /// Running (unbiased) variance (C), used in eval mode.
    pub running_var: Array1<F>,
    /// Activation applied after the affine map.
    pub act: Activation,
}

impl<F: Real> BatchNorm<F> {
    /// γ = 1, β = 0, running mean 0 and variance 1 (as PyTorch).
    pub fn new(channels: usize, spatial: usize, act: Activation) -> Self {
        Self {
            channels,
            spatial,
            gamma: Array1::ones(channels),
            beta: Array1::zeros(channels),
            ggamma: Array1::zeros(channels),
            gbeta: Array1::zeros(channels),
            running_mean: Array1::zeros(channels),
            running_var: Array1::ones(channels),
            act,
        }
    }

    /// Features per sample (C·P).
    pub fn dim(&self) -> usize {
        self.channels * self.spatial
    }

    /// Forward pass. In [`Mode::Train`] the batch mean and 1/√(σ² + ε) are left in `cache`
    /// for backward and for [`BatchNorm::update_running`].
    pub fn forward(
        &self,
        x: ArrayView2<F>,
        mut y: ArrayViewMut2<F>,
        cache: &mut LayerCache<F>,
        mode: Mode,
    ) {
        let (c, p) = (self.channels, self.spatial);
        let eps = BN_EPS;
        let (mean, inv) = match mode {
            Mode::Train => {
                let m = (x.nrows() * p) as f64;
                // Block sums in F (vectorisable), accumulated over rows in f64.
                let mut sum = vec![0.0f64; c];
                let mut sq = vec![0.0f64; c];
                for row in x.rows() {
                    let r = row_slice(row);
                    for (ch, block) in r.chunks_exact(p).enumerate().take(c) {
                        sum[ch] += block.iter().fold(F::zero(), |a, &v| a + v).f64();
                    }
                }
                let mu: Vec<f64> = sum.iter().map(|s| s / m.max(1.0)).collect();
                let mu_f: Vec<F> = mu.iter().map(|&v| F::c(v)).collect();
                for row in x.rows() {
                    let r = row_slice(row);
                    for (ch, block) in r.chunks_exact(p).enumerate().take(c) {
                        let centre = mu_f[ch];
                        sq[ch] += block
                            .iter()
                            .fold(F::zero(), |a, &v| a + (v - centre) * (v - centre))
                            .f64();
                    }
                }
                let var: Vec<f64> = sq.iter().map(|s| s / m.max(1.0)).collect();
                cache.bn_mean = mu_f;
                cache.bn_var = var.iter().map(|&v| F::c(v)).collect();
                cache.bn_inv = var.iter().map(|&v| F::c(1.0 / (v + eps).sqrt())).collect();
                (cache.bn_mean.clone(), cache.bn_inv.clone())
            }
            Mode::Eval => (
                self.running_mean.to_vec(),
                self.running_var
                    .iter()
                    .map(|&v| F::c(1.0 / (v.f64() + eps).sqrt()))
                    .collect(),
            ),
        };
        let act = self.act;
        for (xr, mut yr) in x.rows().into_iter().zip(y.rows_mut()) {
            let xs = row_slice(xr);
            let Some(ys) = yr.as_slice_mut() else {
                continue;
            };
            for ch in 0..c {
                let scale = self.gamma[ch] * inv[ch];
                let shift = self.beta[ch] - mean[ch] * scale;
                for (d, &v) in ys[ch * p..(ch + 1) * p]
                    .iter_mut()
                    .zip(&xs[ch * p..(ch + 1) * p])
                {
                    *d = act.apply(v * scale + shift);
                }
            }
        }
    }

    /// Moves the running statistics towards the batch statistics of the last train-mode
    /// forward pass over `rows` samples.
    pub fn update_running(&mut self, cache: &LayerCache<F>, rows: usize) {
        if cache.bn_mean.len() != self.channels {
            return;
        }
        let m = (rows * self.spatial) as f64;
        let unbias = if m > 1.0 { m / (m - 1.0) } else { 1.0 };
        for ch in 0..self.channels {
            let rm = self.running_mean[ch].f64();
            let rv = self.running_var[ch].f64();
            self.running_mean[ch] =
                F::c((1.0 - BN_MOMENTUM) * rm + BN_MOMENTUM * cache.bn_mean[ch].f64());
            self.running_var[ch] =
                F::c((1.0 - BN_MOMENTUM) * rv + BN_MOMENTUM * cache.bn_var[ch].f64() * unbias);
        }
    }

    /// Backward pass through the train-mode forward pass that left `cache`: `g` (∂L/∂y) is
    /// overwritten by g̃ = g ⊙ f′(y); fills ∂γ, ∂β and, when asked, ∂L/∂x.
    pub fn backward(
        &mut self,
        x: ArrayView2<F>,
        y: ArrayView2<F>,
        mut g: ArrayViewMut2<F>,
        gx: Option<ArrayViewMut2<F>>,
        cache: &LayerCache<F>,
    ) {
        let (c, p) = (self.channels, self.spatial);
        super::layers::apply_act_grad(self.act, g.view_mut(), y);
        let (mean, inv) = (&cache.bn_mean, &cache.bn_inv);
        if mean.len() != c || inv.len() != c {
            return;
        }
        // Σ g̃ and Σ g̃ x̂ = (Σ g̃ x − μ Σ g̃)/σ: block sums in F, accumulated in f64.
        let mut dbeta = vec![0.0f64; c];
        let mut gx_sum = vec![0.0f64; c];
        for (xr, gr) in x.rows().into_iter().zip(g.rows()) {
            let (xs, gs) = (row_slice(xr), row_slice(gr));
            for (ch, (xb, gb)) in xs
                .chunks_exact(p)
                .zip(gs.chunks_exact(p))
                .enumerate()
                .take(c)
            {
                let (sg, sgx) = xb
                    .iter()
                    .zip(gb)
                    .fold((F::zero(), F::zero()), |(a, b), (&xv, &gv)| {
                        (a + gv, b + gv * xv)
                    });
                dbeta[ch] += sg.f64();
                gx_sum[ch] += sgx.f64();
            }
        }
        let dgamma: Vec<f64> = (0..c)
            .map(|ch| (gx_sum[ch] - mean[ch].f64() * dbeta[ch]) * inv[ch].f64())
            .collect();
        for ch in 0..c {
            self.gbeta[ch] = F::c(dbeta[ch]);
            self.ggamma[ch] = F::c(dgamma[ch]);
        }
        let Some(mut gx) = gx else {
            return;
        };
        let m = (x.nrows() * p) as f64;
        for ((xr, gr), mut out) in x.rows().into_iter().zip(g.rows()).zip(gx.rows_mut()) {
            let (xs, gs) = (row_slice(xr), row_slice(gr));
            let Some(os) = out.as_slice_mut() else {
                continue;
            };
            for ch in 0..c {
                let (mu, iv) = (mean[ch], inv[ch]);
                let k = F::c(self.gamma[ch].f64() * iv.f64() / m);
                let (mf, db, dg) = (F::c(m), F::c(dbeta[ch]), F::c(dgamma[ch]));
                for ((o, &xv), &gv) in os[ch * p..(ch + 1) * p]
                    .iter_mut()
                    .zip(&xs[ch * p..(ch + 1) * p])
                    .zip(&gs[ch * p..(ch + 1) * p])
                {
                    let xhat = (xv - mu) * iv;
                    *o = k * (mf * gv - db - xhat * dg);
                }
            }
        }
    }
}

/// Global average pooling of (C, H, W) rows to C values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalAvgPool {
    /// Input shape (C, H, W).
    pub input: Shape3,
}

impl GlobalAvgPool {
    /// y_{n,c} = mean over the H·W positions of channel c.
    pub fn forward<F: Real>(&self, x: ArrayView2<F>, mut y: ArrayViewMut2<F>) {
        let (c, h, w) = self.input;
        let p = h * w;
        let scale = F::c(1.0 / p.max(1) as f64);
        for (xr, mut yr) in x.rows().into_iter().zip(y.rows_mut()) {
            let xs = row_slice(xr);
            for ch in 0..c {
                let s = xs[ch * p..(ch + 1) * p]
                    .iter()
                    .fold(F::zero(), |a, &v| a + v);
                yr[ch] = s * scale;
            }
        }
    }

    /// ∂x_{n,c,p} = g_{n,c} / (H·W).
    pub fn backward<F: Real>(&self, g: ArrayView2<F>, mut gx: ArrayViewMut2<F>) {
        let (c, h, w) = self.input;
        let p = h * w;
        let scale = F::c(1.0 / p.max(1) as f64);
        for (gr, mut out) in g.rows().into_iter().zip(gx.rows_mut()) {
            let Some(os) = out.as_slice_mut() else {
                continue;
            };
            for ch in 0..c {
                os[ch * p..(ch + 1) * p].fill(gr[ch] * scale);
            }
        }
    }
}
