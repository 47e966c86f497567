//! Layers with hand-written forward and backward passes, generic over [`Real`].
//!
//! A batch is an (N × features) matrix with one sample per row; images are stored flat in
//! (channel, row, column) order, so convolution and pooling read and write rows of the same
//! matrices and flattening is free. Notation: x input row, y output row, g = ∂L/∂y.
//!
//! - [`Linear`]: y = f(x W + b) with W (in × out) and an optional fused activation f.
//!   Backward: g̃ = g ⊙ f′ (from y), ∂W = Xᵀ G̃, ∂b = Σ_rows G̃, ∂X = G̃ Wᵀ.
//! - [`Conv2d`]: 3×3 kernels, stride s, zero padding p, optional bias. The whole batch is one
//!   GEMM: X_col = [im2col(x_1) … im2col(x_N)] (9·C_in × N·H_o·W_o), Y = f(W X_col + b) with
//!   W (C_out × 9·C_in); backward ∂W = G̃ X_colᵀ and ∂x = col2im(Wᵀ G̃). Output size
//!   H_o = ⌊(H + 2p − 3)/s⌋ + 1.
//! - [`BatchNorm`] and [`GlobalAvgPool`]: see [`super::batchnorm`].
//! - [`Pool2d`]: 2×2 windows, stride 2 (a trailing odd row/column is dropped); max routes g to
//!   the arg-max, average spreads g/4.
//! - [`Activation`]: identity, ReLU max(0, x), leaky ReLU (slope 0.01 below 0), tanh; every
//!   derivative is computed from the output y (1[y>0]; 1 or 0.01; 1 − y²).
//!
//! All products go through [`super::gemm::matmul_into`] into buffers that are reused across
//! steps, so a training step allocates nothing in the layers.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::batchnorm::{BatchNorm, GlobalAvgPool};
use super::gemm::matmul_into;
use crate::real::Real;
use crate::rng::Rng;

/// Element-wise activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Activation {
    /// Identity (for deep linear networks).
    Identity,
    /// max(0, x).
    Relu,
    /// x for x > 0, 0.01·x otherwise.
    LeakyRelu,
    /// tanh x.
    Tanh,
}

/// Negative-side slope of [`Activation::LeakyRelu`].
pub const LEAKY_SLOPE: f64 = 0.01;

impl Activation {
    /// f(x).
    #[inline]
    pub fn apply<F: Real>(self, x: F) -> F {
        match self {
            Activation::Identity => x,
            // `x * 0` (not `max`) so that NaN propagates instead of being clipped to 0.
            Activation::Relu => {
                if x > F::zero() {
                    x
                } else {
                    x * F::zero()
                }
            }
            Activation::LeakyRelu => {
                if x > F::zero() {
                    x
                } else {
                    x * F::c(LEAKY_SLOPE)
                }
            }
            Activation::Tanh => x.tanh(),
        }
    }

    /// f′ expressed through the output y = f(x).
    #[inline]
    pub fn grad_from_output<F: Real>(self, y: F) -> F {
        match self {
            Activation::Identity => F::one(),
            Activation::Relu => {
                if y > F::zero() {
                    F::one()
                } else {
                    F::zero()
                }
            }
            Activation::LeakyRelu => {
                if y > F::zero() {
                    F::one()
                } else {
                    F::c(LEAKY_SLOPE)
                }
            }
            Activation::Tanh => F::one() - y * y,
        }
    }

    /// The spec name (`relu`, `leaky`, `tanh`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "none",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky",
            Activation::Tanh => "tanh",
        }
    }

    /// Parses a spec name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "none" | "identity" => Activation::Identity,
            "relu" => Activation::Relu,
            "leaky" => Activation::LeakyRelu,
            "tanh" => Activation::Tanh,
            _ => return None,
        })
    }
}

/// g ← g ⊙ f′(y), element-wise (one monomorphised loop per activation).
pub(crate) fn apply_act_grad<F: Real>(act: Activation, mut g: ArrayViewMut2<F>, y: ArrayView2<F>) {
    fn run<F: Real>(g: &mut ArrayViewMut2<F>, y: ArrayView2<F>, d: impl Fn(F) -> F) {
        ndarray::Zip::from(g)
            .and(&y)
            .for_each(|gv, &yv| *gv *= d(yv));
    }
    match act {
        Activation::Identity => {}
        Activation::Relu => run(&mut g, y, |v| Activation::Relu.grad_from_output(v)),
        Activation::LeakyRelu => run(&mut g, y, |v| Activation::LeakyRelu.grad_from_output(v)),
        Activation::Tanh => run(&mut g, y, |v| Activation::Tanh.grad_from_output(v)),
    }
}

/// Adds `b` to every row of `y` and applies `act`, in one pass.
fn bias_act_rows<F: Real>(y: ArrayViewMut2<F>, b: Option<&Array1<F>>, act: Activation) {
    // One monomorphised loop per activation, so the inner loop has no branch on `act`.
    match act {
        Activation::Identity => bias_map_rows(y, b, |v| v),
        Activation::Relu => bias_map_rows(y, b, |v| Activation::Relu.apply(v)),
        Activation::LeakyRelu => bias_map_rows(y, b, |v| Activation::LeakyRelu.apply(v)),
        Activation::Tanh => bias_map_rows(y, b, |v: F| v.tanh()),
    }
}

fn bias_map_rows<F: Real>(mut y: ArrayViewMut2<F>, b: Option<&Array1<F>>, f: impl Fn(F) -> F) {
    for mut row in y.rows_mut() {
        match (b.and_then(|b| b.as_slice()), row.as_slice_mut()) {
            (Some(b), Some(r)) => {
                for (v, &bi) in r.iter_mut().zip(b) {
                    *v = f(*v + bi);
                }
            }
            (None, Some(r)) => {
                for v in r.iter_mut() {
                    *v = f(*v);
                }
            }
            _ => {
                for (j, v) in row.iter_mut().enumerate() {
                    let bj = b.map_or(F::zero(), |b| b[j]);
                    *v = f(*v + bj);
                }
            }
        }
    }
}

/// Fully connected layer with a fused activation: Y = f(X W + b), W is (in × out).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(bound = "F: Real + serde::Serialize + serde::de::DeserializeOwned")]
pub struct Linear<F: Real = f32> {
    /// Weights (in × out).
    pub w: Array2<F>,
    /// Bias (out), if any.
    pub b: Option<Array1<F>>,
    /// Activation applied to the output.
    pub act: Activation,
    /// ∂L/∂W from the last backward pass.
    #[serde(skip)]
    pub gw: Array2<F>,
    /// ∂L/∂b.
    #[serde(skip)]
    pub gb: Option<Array1<F>>,
}

impl<F: Real> Linear<F> {
    /// Uniform initialisation U(−√(6/in)·g, √(6/in)·g) with gain g (g = 1 is He/Kaiming for
    /// ReLU; g = 1/√2 gives Var w = 1/in, the variance-preserving choice for linear layers).
    pub fn new(
        inp: usize,
        out: usize,
        bias: bool,
        act: Activation,
        gain: f64,
        rng: &mut Rng,
    ) -> Self {
        let bound = gain * (6.0 / inp.max(1) as f64).sqrt();
        let w = Array2::from_shape_simple_fn((inp, out), || F::c(rng.uniform_range(-bound, bound)));
        Self {
            gw: Array2::zeros((inp, out)),
            gb: bias.then(|| Array1::zeros(out)),
            b: bias.then(|| Array1::zeros(out)),
            act,
            w,
        }
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.w.nrows()
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.w.ncols()
    }

    /// y = f(x W + b) written into `y` (N × out).
    pub fn forward(&self, x: ArrayView2<F>, mut y: ArrayViewMut2<F>) {
        matmul_into(y.view_mut(), x, self.w.view(), false);
        bias_act_rows(y, self.b.as_ref(), self.act);
    }

    /// Backward pass. `g` holds ∂L/∂y on entry and is overwritten by ∂L/∂(xW+b); `x` and `y` are
    /// the forward input and output. Stores ∂W, ∂b and writes ∂L/∂x into `gx` when given.
    pub fn backward(
        &mut self,
        x: ArrayView2<F>,
        y: ArrayView2<F>,
        mut g: ArrayViewMut2<F>,
        gx: Option<ArrayViewMut2<F>>,
    ) {
        apply_act_grad(self.act, g.view_mut(), y);
        matmul_into(self.gw.view_mut(), x.t(), g.view(), false);
        if let Some(gb) = &mut self.gb {
            gb.fill(F::zero());
            for row in g.rows() {
                match (gb.as_slice_mut(), row.as_slice()) {
                    (Some(sums), Some(r)) => {
                        for (s, &v) in sums.iter_mut().zip(r) {
                            *s += v;
                        }
                    }
                    _ => {
                        for (s, &v) in gb.iter_mut().zip(row.iter()) {
                            *s += v;
                        }
                    }
                }
            }
        }
        if let Some(gx) = gx {
            matmul_into(gx, g.view(), self.w.t(), false);
        }
    }
}

/// (channels, height, width) of an image batch row.
pub type Shape3 = (usize, usize, usize);

/// A row as a slice (borrowed when contiguous, copied otherwise).
pub(crate) fn row_slice<'a, F: Real>(r: ndarray::ArrayView1<'a, F>) -> std::borrow::Cow<'a, [F]> {
    match r.to_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(r.to_vec()),
    }
}

/// 3×3 convolution with stride and zero padding, fused activation; W is (C_out × 9·C_in) with
/// column index (c_in, k_row, k_col).
#[derive(Debug, Clone)]
pub struct Conv2d<F: Real = f32> {
    /// Kernels, (C_out × 9·C_in).
    pub w: Array2<F>,
    /// Bias (C_out).
    pub b: Array1<F>,
    /// Activation applied to the output.
    pub act: Activation,
    /// ∂L/∂W.
    pub gw: Array2<F>,
    /// ∂L/∂b.
    pub gb: Array1<F>,
    /// Input shape (C_in, H, W).
    pub input: Shape3,
    /// Stride.
    pub stride: usize,
    /// Zero padding on each side.
    pub pad: usize,
}

impl<F: Real> Conv2d<F> {
    /// He-uniform initialisation (fan-in 9·C_in). `None` when the output would be empty.
    pub fn new(
        input: Shape3,
        c_out: usize,
        stride: usize,
        pad: usize,
        act: Activation,
        rng: &mut Rng,
    ) -> Option<Self> {
        let (c, h, w) = input;
        if stride == 0 || h + 2 * pad < 3 || w + 2 * pad < 3 || c == 0 || c_out == 0 {
            return None;
        }
        let fan_in = 9 * c;
        let bound = (6.0 / fan_in as f64).sqrt();
        let wm = Array2::from_shape_simple_fn((c_out, fan_in), || {
            F::c(rng.uniform_range(-bound, bound))
        });
        Some(Self {
            gw: Array2::zeros((c_out, fan_in)),
            gb: Array1::zeros(c_out),
            b: Array1::zeros(c_out),
            w: wm,
            act,
            input,
            stride,
            pad,
        })
    }

    /// The same layer with no bias (for a convolution followed by BatchNorm, whose shift β
    /// makes a bias redundant).
    pub fn without_bias(mut self) -> Self {
        self.b = Array1::zeros(0);
        self.gb = Array1::zeros(0);
        self
    }

    /// Output shape (C_out, H_o, W_o).
    pub fn output(&self) -> Shape3 {
        let (_, h, w) = self.input;
        let ho = (h + 2 * self.pad - 3) / self.stride + 1;
        let wo = (w + 2 * self.pad - 3) / self.stride + 1;
        (self.w.nrows(), ho, wo)
    }

    /// The im2col gather table: entry r·P + q (row r = (c, k_row, k_col), output position
    /// q = (o_row, o_col)) is the index in a sample's row of the input value that lands there,
    /// or C·H·W (one past the row, a zero slot) where the kernel reads the zero padding.
    fn gather_table(&self) -> Vec<u32> {
        let (c, h, w) = self.input;
        let (_, ho, wo) = self.output();
        let (s, p) = (self.stride as isize, self.pad as isize);
        let pad_slot = (c * h * w) as u32;
        let mut t = Vec::with_capacity(9 * c * ho * wo);
        for ci in 0..c {
            for ki in 0..3isize {
                for kj in 0..3isize {
                    for oi in 0..ho as isize {
                        for oj in 0..wo as isize {
                            let (r, q) = (oi * s + ki - p, oj * s + kj - p);
                            let inside = r >= 0 && q >= 0 && r < h as isize && q < w as isize;
                            t.push(if inside {
                                (ci * h * w + r as usize * w + q as usize) as u32
                            } else {
                                pad_slot
                            });
                        }
                    }
                }
            }
        }
        t
    }

    /// Makes sure `cache` holds this layer's gather table and a zero-slotted sample buffer.
    fn prepare_gather(&self, cache: &mut LayerCache<F>) {
        let (c, h, w) = self.input;
        let (_, ho, wo) = self.output();
        if cache.table.len() != 9 * c * ho * wo {
            cache.table = self.gather_table();
        }
        cache.xpad.resize(c * h * w + 1, F::zero());
    }

    /// Forward pass for the whole batch: im2col of every sample side by side (through the
    /// gather table) into `cache.cols` (9·C_in × N·H_o·W_o, kept for backward), one GEMM
    /// W · cols → `cache.buf` (C_out × N·H_o·W_o), then bias, activation and the scatter
    /// back to the (N × C_out·H_o·W_o) row layout.
    pub fn forward(&self, x: ArrayView2<F>, mut y: ArrayViewMut2<F>, cache: &mut LayerCache<F>) {
        let n = x.nrows();
        let (co, ho, wo) = self.output();
        let p = ho * wo;
        let ld = n * p;
        ensure_dim(&mut cache.cols, (self.w.ncols(), ld));
        ensure_dim(&mut cache.buf, (co, ld));
        self.prepare_gather(cache);
        let d = cache.xpad.len() - 1;
        if let Some(cols) = cache.cols.as_slice_mut() {
            for (i, xr) in x.rows().into_iter().enumerate() {
                // The sample, then one zero for the padding reads.
                cache.xpad[..d].copy_from_slice(&row_slice(xr));
                cache.xpad[d] = F::zero();
                let xs = &cache.xpad;
                for (r, tbl) in cache.table.chunks_exact(p).enumerate() {
                    let dst = &mut cols[r * ld + i * p..r * ld + (i + 1) * p];
                    for (v, &t) in dst.iter_mut().zip(tbl) {
                        *v = xs[t as usize];
                    }
                }
            }
        }
        matmul_into(
            cache.buf.view_mut(),
            self.w.view(),
            cache.cols.view(),
            false,
        );
        let Some(buf) = cache.buf.as_slice() else {
            return;
        };
        let act = self.act;
        for (i, mut yr) in y.rows_mut().into_iter().enumerate() {
            let Some(ys) = yr.as_slice_mut() else {
                continue;
            };
            for c in 0..co {
                let bias = self.b.get(c).copied().unwrap_or(F::zero());
                let src = &buf[c * ld + i * p..c * ld + (i + 1) * p];
                for (d, &v) in ys[c * p..(c + 1) * p].iter_mut().zip(src) {
                    *d = act.apply(v + bias);
                }
            }
        }
    }

    /// Backward pass (see [`Linear::backward`] for the roles of the arguments); needs the
    /// `cache` of the forward pass on the same batch. G̃ is gathered into the
    /// (C_out × N·H_o·W_o) layout, then ∂W = G̃ colsᵀ and ∂cols = Wᵀ G̃ are one GEMM each.
    pub fn backward(
        &mut self,
        y: ArrayView2<F>,
        mut g: ArrayViewMut2<F>,
        gx: Option<ArrayViewMut2<F>>,
        cache: &mut LayerCache<F>,
    ) {
        apply_act_grad(self.act, g.view_mut(), y);
        let n = g.nrows();
        let (co, ho, wo) = self.output();
        let p = ho * wo;
        let ld = n * p;
        ensure_dim(&mut cache.buf, (co, ld));
        if let Some(buf) = cache.buf.as_slice_mut() {
            for (i, gr) in g.rows().into_iter().enumerate() {
                let gs = row_slice(gr);
                for c in 0..co {
                    buf[c * ld + i * p..c * ld + (i + 1) * p]
                        .copy_from_slice(&gs[c * p..(c + 1) * p]);
                }
            }
        }
        for (s, r) in self.gb.iter_mut().zip(cache.buf.rows()) {
            *s = r.sum();
        }
        // ∂Wᵀ = X_col G̃ᵀ: the big im2col matrix is then the GEMM's row-major A (packed
        // contiguously) rather than a transposed B (a strided gather).
        ensure_dim(&mut cache.gwt, (self.w.ncols(), co));
        matmul_into(
            cache.gwt.view_mut(),
            cache.cols.view(),
            cache.buf.t(),
            false,
        );
        self.gw.assign(&cache.gwt.t());
        if let Some(mut gx) = gx {
            ensure_dim(&mut cache.gcols, (self.w.ncols(), ld));
            matmul_into(cache.gcols.view_mut(), self.w.t(), cache.buf.view(), false);
            self.prepare_gather(cache);
            let d = cache.xpad.len() - 1;
            if let Some(all) = cache.gcols.as_slice() {
                for (i, mut row) in gx.rows_mut().into_iter().enumerate() {
                    // col2im: scatter-add through the gather table; the padding slot collects
                    // what fell on the zero padding and is dropped.
                    let acc = &mut cache.xpad;
                    acc.fill(F::zero());
                    for (r, tbl) in cache.table.chunks_exact(p).enumerate() {
                        let src = &all[r * ld + i * p..r * ld + (i + 1) * p];
                        for (&v, &t) in src.iter().zip(tbl) {
                            acc[t as usize] += v;
                        }
                    }
                    for (g, &a) in row.iter_mut().zip(&acc[..d]) {
                        *g = a;
                    }
                }
            }
        }
    }
}

/// Reallocates `a` only when its shape changes (so steady-state steps allocate nothing).
pub(crate) fn ensure_dim<F: Real>(a: &mut Array2<F>, shape: (usize, usize)) {
    if a.dim() != shape {
        *a = Array2::zeros(shape);
    }
}

/// Pooling kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// Maximum of each 2×2 window.
    Max,
    /// Mean of each 2×2 window.
    Avg,
}

/// 2×2 pooling with stride 2.
#[derive(Debug, Clone)]
pub struct Pool2d {
    /// Max or average.
    pub kind: PoolKind,
    /// Input shape (C, H, W).
    pub input: Shape3,
}

impl Pool2d {
    /// Output shape (C, ⌊H/2⌋, ⌊W/2⌋).
    pub fn output(&self) -> Shape3 {
        let (c, h, w) = self.input;
        (c, h / 2, w / 2)
    }

    /// Forward pass; for max pooling `argmax` receives the input index of each output.
    pub fn forward<F: Real>(
        &self,
        x: ArrayView2<F>,
        mut y: ArrayViewMut2<F>,
        argmax: &mut Vec<u32>,
    ) {
        let (c, ho, wo) = self.output();
        let per = c * ho * wo;
        if self.kind == PoolKind::Max {
            argmax.resize(x.nrows() * per, 0);
        }
        for n in 0..x.nrows() {
            let xr = row_slice(x.row(n));
            let am: &mut [u32] = if self.kind == PoolKind::Max {
                &mut argmax[n * per..(n + 1) * per]
            } else {
                &mut []
            };
            let mut yrow = y.row_mut(n);
            match yrow.as_slice_mut() {
                Some(ys) => self.pool_row(&xr, ys, am),
                None => {
                    let mut tmp = vec![F::zero(); per];
                    self.pool_row(&xr, &mut tmp, am);
                    yrow.assign(&ndarray::ArrayView1::from(&tmp[..]));
                }
            }
        }
    }

    /// Pools one sample; `am` (max pooling only) receives the arg-max input indices.
    fn pool_row<F: Real>(&self, xr: &[F], yr: &mut [F], am: &mut [u32]) {
        let (c, h, w) = self.input;
        let (_, ho, wo) = self.output();
        let quarter = F::c(0.25);
        for ci in 0..c {
            for oi in 0..ho {
                let base = ci * h * w + 2 * oi * w;
                let r0 = &xr[base..base + 2 * wo];
                let r1 = &xr[base + w..base + w + 2 * wo];
                let ob = (ci * ho + oi) * wo;
                let yo = &mut yr[ob..ob + wo];
                let pairs = r0.chunks_exact(2).zip(r1.chunks_exact(2));
                match self.kind {
                    PoolKind::Max => {
                        let ao = &mut am[ob..ob + wo];
                        for (oj, ((a, b), (y, slot))) in
                            pairs.zip(yo.iter_mut().zip(ao.iter_mut())).enumerate()
                        {
                            // Candidates in the order (0,0), (0,1), (1,0), (1,1); first maximum wins.
                            let mut best = (a[0], 0);
                            for (v, off) in [(a[1], 1), (b[0], w), (b[1], w + 1)] {
                                if v > best.0 {
                                    best = (v, off);
                                }
                            }
                            *y = best.0;
                            *slot = (base + 2 * oj + best.1) as u32;
                        }
                    }
                    PoolKind::Avg => {
                        for ((a, b), y) in pairs.zip(yo.iter_mut()) {
                            *y = (a[0] + a[1] + b[0] + b[1]) * quarter;
                        }
                    }
                }
            }
        }
    }

    /// Backward pass: routes ∂L/∂y into `gx` (overwritten).
    pub fn backward<F: Real>(&self, g: ArrayView2<F>, mut gx: ArrayViewMut2<F>, argmax: &[u32]) {
        gx.fill(F::zero());
        let (c, h, w) = self.input;
        let (_, ho, wo) = self.output();
        let per = c * ho * wo;
        let quarter = F::c(0.25);
        for (n, (gr, mut gxr)) in g.rows().into_iter().zip(gx.rows_mut()).enumerate() {
            for o in 0..per {
                match self.kind {
                    PoolKind::Max => {
                        if let Some(&i) = argmax.get(n * per + o) {
                            gxr[i as usize] += gr[o];
                        }
                    }
                    PoolKind::Avg => {
                        let ci = o / (ho * wo);
                        let oi = (o / wo) % ho;
                        let oj = o % wo;
                        let i00 = ci * h * w + 2 * oi * w + 2 * oj;
                        for i in [i00, i00 + 1, i00 + w, i00 + w + 1] {
                            gxr[i] += gr[o] * quarter;
                        }
                    }
                }
            }
        }
    }
}

/// Whether a forward pass trains (batch statistics in [`BatchNorm`]) or evaluates (running
/// statistics). Only BatchNorm behaves differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Training: batch statistics, cached for backward.
    Train,
    /// Inference: running statistics, nothing cached that backward could use.
    Eval,
}

/// One layer of an encoder.
#[derive(Debug, Clone)]
pub enum Layer<F: Real = f32> {
    /// Fully connected (+ activation).
    Linear(Linear<F>),
    /// 3×3 convolution (+ activation).
    Conv(Conv2d<F>),
    /// 2×2 pooling.
    Pool(Pool2d),
    /// Marks the switch from images to vectors; the flat (C,H,W) row layout makes it the
    /// identity map (forward copies, backward copies the gradient back).
    Flatten(usize),
    /// Batch normalisation (+ activation).
    BatchNorm(BatchNorm<F>),
    /// Global average pooling (C, H, W) → C.
    GlobalAvgPool(GlobalAvgPool),
}

/// Per-layer scratch that forward leaves for backward (arg-max indices, the whole batch's
/// im2col matrix, GEMM buffers, batch statistics). Buffers are reused across steps.
#[derive(Debug, Clone, Default)]
pub struct LayerCache<F: Real = f32> {
    /// Max-pool arg-max indices.
    pub argmax: Vec<u32>,
    /// im2col of the batch (9·C_in × N·H_o·W_o).
    pub cols: Array2<F>,
    /// Convolution output / gradient in (C_out × N·H_o·W_o) layout.
    pub buf: Array2<F>,
    /// ∂L/∂cols.
    pub gcols: Array2<F>,
    /// ∂Wᵀ of a convolution (9·C_in × C_out), before it is transposed into place.
    pub gwt: Array2<F>,
    /// A convolution's im2col gather table (see `Conv2d::gather_table`).
    pub table: Vec<u32>,
    /// One sample (or its input gradient) plus a zero slot for the padding.
    pub xpad: Vec<F>,
    /// BatchNorm batch means.
    pub bn_mean: Vec<F>,
    /// BatchNorm batch (biased) variances.
    pub bn_var: Vec<F>,
    /// BatchNorm 1/√(σ² + ε).
    pub bn_inv: Vec<F>,
}

impl<F: Real> Layer<F> {
    /// A short name with the layer's size, e.g. `conv 3→32 s1` (for profiles).
    pub fn kind_name(&self) -> String {
        match self {
            Layer::Linear(l) => format!("linear {}→{}", l.in_dim(), l.out_dim()),
            Layer::Conv(c) => format!("conv {}→{} s{}", c.input.0, c.w.nrows(), c.stride),
            Layer::Pool(_) => "pool".into(),
            Layer::Flatten(_) => "flatten".into(),
            Layer::BatchNorm(b) => format!("bn {}×{}", b.channels, b.spatial),
            Layer::GlobalAvgPool(_) => "avgpool".into(),
        }
    }

    /// Features per sample produced by this layer.
    pub fn out_dim(&self) -> usize {
        match self {
            Layer::Linear(l) => l.out_dim(),
            Layer::Conv(c) => {
                let (a, b, d) = c.output();
                a * b * d
            }
            Layer::Pool(p) => {
                let (a, b, d) = p.output();
                a * b * d
            }
            Layer::Flatten(n) => *n,
            Layer::BatchNorm(b) => b.dim(),
            Layer::GlobalAvgPool(g) => g.input.0,
        }
    }

    /// Forward pass into `y` (N × out_dim).
    pub fn forward(
        &self,
        x: ArrayView2<F>,
        y: ArrayViewMut2<F>,
        cache: &mut LayerCache<F>,
        mode: Mode,
    ) {
        match self {
            Layer::Linear(l) => l.forward(x, y),
            Layer::Conv(c) => c.forward(x, y, cache),
            Layer::BatchNorm(b) => b.forward(x, y, cache, mode),
            Layer::GlobalAvgPool(g) => g.forward(x, y),
            Layer::Pool(p) => p.forward(x, y, &mut cache.argmax),
            Layer::Flatten(_) => {
                let mut y = y;
                y.assign(&x);
            }
        }
    }

    /// Backward pass: `g` (∂L/∂y, may be overwritten) → parameter gradients and, if asked,
    /// ∂L/∂x into `gx`.
    pub fn backward(
        &mut self,
        x: ArrayView2<F>,
        y: ArrayView2<F>,
        g: ArrayViewMut2<F>,
        gx: Option<ArrayViewMut2<F>>,
        cache: &mut LayerCache<F>,
    ) {
        match self {
            Layer::Linear(l) => l.backward(x, y, g, gx),
            Layer::Conv(c) => c.backward(y, g, gx, cache),
            Layer::BatchNorm(b) => b.backward(x, y, g, gx, cache),
            Layer::GlobalAvgPool(p) => {
                if let Some(gx) = gx {
                    p.backward(g.view(), gx);
                }
            }
            Layer::Pool(p) => {
                if let Some(gx) = gx {
                    p.backward(g.view(), gx, &cache.argmax);
                }
            }
            Layer::Flatten(_) => {
                if let Some(mut gx) = gx {
                    gx.assign(&g);
                }
            }
        }
    }

    /// (parameter, gradient) slices of this layer.
    pub fn params_and_grads(&mut self) -> Vec<(&mut [F], &[F])> {
        let mut v = Vec::new();
        match self {
            Layer::Linear(Linear { w, b, gw, gb, .. }) => {
                if let (Some(w), Some(gw)) = (w.as_slice_mut(), gw.as_slice()) {
                    v.push((w, gw));
                }
                if let (Some(b), Some(gb)) = (b.as_mut(), gb.as_ref())
                    && let (Some(b), Some(gb)) = (b.as_slice_mut(), gb.as_slice())
                {
                    v.push((b, gb));
                }
            }
            Layer::Conv(Conv2d { w, b, gw, gb, .. }) => {
                if let (Some(w), Some(gw)) = (w.as_slice_mut(), gw.as_slice()) {
                    v.push((w, gw));
                }
                if let (Some(b), Some(gb)) = (b.as_slice_mut(), gb.as_slice())
                    && !b.is_empty()
                {
                    v.push((b, gb));
                }
            }
            Layer::BatchNorm(BatchNorm {
                gamma,
                beta,
                ggamma,
                gbeta,
                ..
            }) => {
                if let (Some(p), Some(g)) = (gamma.as_slice_mut(), ggamma.as_slice()) {
                    v.push((p, g));
                }
                if let (Some(p), Some(g)) = (beta.as_slice_mut(), gbeta.as_slice()) {
                    v.push((p, g));
                }
            }
            Layer::Pool(_) | Layer::Flatten(_) | Layer::GlobalAvgPool(_) => {}
        }
        v
    }

    /// The weight matrix, if the layer has one (Linear: in × out; Conv: C_out × 9·C_in).
    pub fn weight(&self) -> Option<&Array2<F>> {
        match self {
            Layer::Linear(l) => Some(&l.w),
            Layer::Conv(c) => Some(&c.w),
            _ => None,
        }
    }

    /// Mutable weight matrix.
    pub fn weight_mut(&mut self) -> Option<&mut Array2<F>> {
        match self {
            Layer::Linear(l) => Some(&mut l.w),
            Layer::Conv(c) => Some(&mut c.w),
            _ => None,
        }
    }

    /// Sum of squared gradients.
    pub fn grad_norm_sq(&self) -> f64 {
        let sq = |a: &mut dyn Iterator<Item = &F>| a.map(|g| g.f64() * g.f64()).sum::<f64>();
        match self {
            Layer::Linear(l) => {
                sq(&mut l.gw.iter()) + l.gb.as_ref().map_or(0.0, |b| sq(&mut b.iter()))
            }
            Layer::Conv(c) => sq(&mut c.gw.iter()) + sq(&mut c.gb.iter()),
            Layer::BatchNorm(b) => sq(&mut b.ggamma.iter()) + sq(&mut b.gbeta.iter()),
            _ => 0.0,
        }
    }

    /// Number of trainable parameters.
    pub fn num_params(&self) -> usize {
        match self {
            Layer::Linear(l) => l.w.len() + l.b.as_ref().map_or(0, |b| b.len()),
            Layer::Conv(c) => c.w.len() + c.b.len(),
            Layer::BatchNorm(b) => 2 * b.channels,
            _ => 0,
        }
    }
}
