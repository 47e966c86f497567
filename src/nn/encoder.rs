//! Encoders built from a small text spec, with cached forward/backward passes.
//!
//! Text forms (defaults in brackets):
//! - `linear:out=2` — z = W x (no bias).
//! - `deep-linear:L=3,width=8,out=8,wnorm=frob` — z = W_L ⋯ W_1 x, no bias, no activation
//!   (PAPER.md §5.2; use it with `normalize=0` in the theory modes).
//! - `mlp:hidden=64,out=16,act=relu` — z = W₂ f(W₁ x + b₁) + b₂, f ∈ {relu, leaky, tanh}.
//! - `relu2:hidden=10,out=20,wnorm=row,act=relu` — z = W₂ σ(W₁ x), no biases (PAPER.md §5.3).
//! - `cnn:width=32,blocks=4,head=256,out=64` — the image encoder that learns on CIFAR: a
//!   backbone of `blocks` blocks [conv3×3 (pad 1, no bias) → BatchNorm → ReLU] with
//!   width·2^b channels in block b, stride 1 in the first block and stride 2 (down-sampling)
//!   after, then global average pooling to the **representation** h (width·2^(blocks−1)
//!   values); then the projection head z = W₂ ReLU(BN(W₁ h)) + b₂ with `head` hidden units
//!   (`head=0`: no head, z = h). As the paper's code (512 → 512 → 128 at full scale), kNN,
//!   the linear probe and the collapse views evaluate h, the backbone output before the head
//!   ([`Encoder::embed_repr`]); the loss sees z.
//! - `cnn:small,out=64` — ConvNetJS-sized: [conv3×3 (pad 1) + ReLU → 2×2 max-pool] with 16, 20
//!   and 20 channels, flatten, linear → out (no head: its representation is its output).
//!
//! Both `cnn` forms need image data (the input shape is taken from the data set's
//! `image_shape`).
//!
//! Weight constraints (`wnorm=`, applied at initialisation and after every optimiser step by
//! [`Encoder::apply_constraint`]): `none`; `frob` — every weight matrix W_l ← W_l/‖W_l‖_F;
//! `row` — every row of W_l (one output unit's incoming weights, the paper's (out × in)
//! orientation) has unit norm, except the output layer, which gets unit Frobenius norm (the
//! recipe of PAPER.md §5.3).

use ndarray::{Array2, ArrayView2, Axis};

use super::batchnorm::{BatchNorm, GlobalAvgPool};
use super::layers::{
    Activation, Conv2d, Layer, LayerCache, Linear, Mode, Pool2d, PoolKind, Shape3,
};
use crate::real::Real;
use crate::rng::Rng;
use crate::spec::{SpecError, SpecText, format_spec};

/// Weight-norm constraint for the theory modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightNorm {
    /// Unconstrained.
    #[default]
    None,
    /// Unit Frobenius norm per layer.
    Frobenius,
    /// Unit-norm rows (output layer: unit Frobenius norm).
    Rows,
}

impl WeightNorm {
    const CHOICES: &'static [&'static str] = &["none", "frob", "row"];

    fn from_name(s: &str) -> Self {
        match s {
            "frob" => Self::Frobenius,
            "row" => Self::Rows,
            _ => Self::None,
        }
    }

    /// The spec name.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Frobenius => "frob",
            Self::Rows => "row",
        }
    }
}

/// Which encoder architecture.
#[derive(Debug, Clone, PartialEq)]
pub enum EncoderSpec {
    /// A single linear map z = Wx.
    Linear {
        /// Output dimension.
        out: usize,
    },
    /// z = W_L ⋯ W_1 x.
    DeepLinear {
        /// Number of layers L.
        layers: usize,
        /// Width of the hidden layers.
        width: usize,
        /// Output dimension.
        out: usize,
        /// Weight constraint.
        wnorm: WeightNorm,
    },
    /// Linear → activation → Linear, with biases.
    Mlp {
        /// Hidden width.
        hidden: usize,
        /// Output dimension.
        out: usize,
        /// Hidden activation.
        act: Activation,
        /// Weight constraint.
        wnorm: WeightNorm,
    },
    /// z = W₂ σ(W₁ x), no biases.
    Relu2 {
        /// Hidden width.
        hidden: usize,
        /// Output dimension.
        out: usize,
        /// σ (relu by default; `none` for the linear control).
        act: Activation,
        /// Weight constraint.
        wnorm: WeightNorm,
    },
    /// The small image CNN.
    CnnSmall {
        /// Output dimension.
        out: usize,
    },
    /// Conv + BatchNorm backbone with global average pooling and a projection head.
    Cnn {
        /// Channels of the first block (doubled in every further block).
        width: usize,
        /// Number of conv blocks (every block after the first halves the image side).
        blocks: usize,
        /// Hidden units of the projection head (0: no head).
        head: usize,
        /// Output dimension z (ignored without a head: z = h).
        out: usize,
    },
}

/// Default of `cnn`: channels of the first block.
pub const CNN_WIDTH: usize = 32;
/// Default of `cnn`: number of blocks.
pub const CNN_BLOCKS: usize = 4;
/// Default of `cnn`: hidden units of the projection head.
pub const CNN_HEAD: usize = 256;
/// Default of `cnn`: output dimension.
pub const CNN_OUT: usize = 64;

impl Default for EncoderSpec {
    fn default() -> Self {
        EncoderSpec::Mlp {
            hidden: 64,
            out: 16,
            act: Activation::Relu,
            wnorm: WeightNorm::None,
        }
    }
}

const ACTS: &[&str] = &["relu", "leaky", "tanh", "none"];

fn act_of(name: &str) -> Activation {
    Activation::from_name(name).unwrap_or(Activation::Relu)
}

impl EncoderSpec {
    /// Known names, for error messages and the UI.
    pub const NAMES: &'static [&'static str] = &["linear", "deep-linear", "mlp", "relu2", "cnn"];

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        // `cnn:small,...` has a bare architecture word; give it a key for the shared grammar.
        let rewritten;
        let text = match text.trim().split_once(':') {
            Some((n, rest)) if n.trim().eq_ignore_ascii_case("cnn") => {
                let parts: Vec<String> = rest
                    .split(',')
                    .map(|p| {
                        let p = p.trim();
                        if p.contains('=') || p.is_empty() {
                            p.to_string()
                        } else {
                            format!("arch={p}")
                        }
                    })
                    .collect();
                rewritten = format!("cnn:{}", parts.join(","));
                rewritten.as_str()
            }
            _ => text,
        };
        let st = SpecText::parse(text)?;
        match st.name.as_str() {
            "linear" => {
                let p = st.params(&["out"])?;
                Ok(Self::Linear {
                    out: p.usize("out", 2, 1, 4096)?,
                })
            }
            "deep-linear" => {
                let p = st.params(&["l", "width", "out", "wnorm"])?;
                let width = p.usize("width", 8, 1, 4096)?;
                Ok(Self::DeepLinear {
                    layers: p.usize("l", 3, 1, 16)?,
                    width,
                    out: p.usize("out", width, 1, 4096)?,
                    wnorm: WeightNorm::from_name(p.choice("wnorm", "frob", WeightNorm::CHOICES)?),
                })
            }
            "mlp" => {
                let p = st.params(&["hidden", "out", "act", "wnorm"])?;
                Ok(Self::Mlp {
                    hidden: p.usize("hidden", 64, 1, 4096)?,
                    out: p.usize("out", 16, 1, 4096)?,
                    act: act_of(p.choice("act", "relu", ACTS)?),
                    wnorm: WeightNorm::from_name(p.choice("wnorm", "none", WeightNorm::CHOICES)?),
                })
            }
            "relu2" => {
                let p = st.params(&["hidden", "out", "act", "wnorm"])?;
                Ok(Self::Relu2 {
                    hidden: p.usize("hidden", 10, 1, 4096)?,
                    out: p.usize("out", 20, 1, 4096)?,
                    act: act_of(p.choice("act", "relu", ACTS)?),
                    wnorm: WeightNorm::from_name(p.choice("wnorm", "row", WeightNorm::CHOICES)?),
                })
            }
            "cnn" => {
                let p = st.params(&["arch", "out", "width", "blocks", "head"])?;
                if p.choice("arch", "bn", &["bn", "small"])? == "small" {
                    if let Some(k) = ["width", "blocks", "head"]
                        .into_iter()
                        .find(|k| st.pairs.iter().any(|(pk, _)| pk == k))
                    {
                        return Err(SpecError::new(format!(
                            "cnn:small has a fixed architecture and takes only out= (got {k}=); for a configurable net write e.g. cnn:width=32,blocks=4"
                        )));
                    }
                    return Ok(Self::CnnSmall {
                        out: p.usize("out", 64, 1, 4096)?,
                    });
                }
                let width = p.usize("width", CNN_WIDTH, 1, 256)?;
                let blocks = p.usize("blocks", CNN_BLOCKS, 1, 6)?;
                if width << (blocks - 1) > 2048 {
                    return Err(SpecError::new(format!(
                        "cnn: width·2^(blocks−1) = {} channels in the last block is more than 2048; use fewer blocks or a smaller width",
                        width << (blocks - 1)
                    )));
                }
                let head = p.usize("head", CNN_HEAD, 0, 4096)?;
                let repr = width << (blocks - 1);
                Ok(Self::Cnn {
                    width,
                    blocks,
                    head,
                    out: if head == 0 {
                        repr
                    } else {
                        p.usize("out", CNN_OUT, 1, 4096)?
                    },
                })
            }
            other => Err(SpecError::new(format!(
                "unknown encoder '{}' (known: {})",
                crate::spec::clip(other),
                Self::NAMES.join(", ")
            ))),
        }
    }

    /// The text form (optional keys are written only when they differ from their defaults).
    pub fn to_text(&self) -> String {
        let s = |x: &usize| x.to_string();
        match self {
            Self::Linear { out } => format_spec("linear", &[("out", s(out))]),
            Self::DeepLinear {
                layers,
                width,
                out,
                wnorm,
            } => {
                let mut v = vec![("L", s(layers)), ("width", s(width))];
                if out != width {
                    v.push(("out", s(out)));
                }
                if *wnorm != WeightNorm::Frobenius {
                    v.push(("wnorm", wnorm.name().into()));
                }
                format_spec("deep-linear", &v)
            }
            Self::Mlp {
                hidden,
                out,
                act,
                wnorm,
            } => two_layer_text("mlp", *hidden, *out, *act, *wnorm, WeightNorm::None),
            Self::Relu2 {
                hidden,
                out,
                act,
                wnorm,
            } => two_layer_text("relu2", *hidden, *out, *act, *wnorm, WeightNorm::Rows),
            Self::CnnSmall { out } => format!("cnn:small,out={out}"),
            Self::Cnn {
                width,
                blocks,
                head,
                out,
            } => {
                let mut v = vec![("width", s(width)), ("blocks", s(blocks))];
                v.push(("head", s(head)));
                if *head > 0 {
                    v.push(("out", s(out)));
                }
                format_spec("cnn", &v)
            }
        }
    }

    /// Whether the encoder needs image-shaped input.
    pub fn needs_images(&self) -> bool {
        matches!(self, Self::CnnSmall { .. } | Self::Cnn { .. })
    }

    /// Whether the encoder has a projection head, so that its representation (the backbone
    /// output, [`Encoder::embed_repr`]) differs from its output z.
    pub fn has_head(&self) -> bool {
        matches!(self, Self::Cnn { head, .. } if *head > 0)
    }

    /// Output dimension.
    pub fn out_dim(&self) -> usize {
        match *self {
            Self::Linear { out }
            | Self::DeepLinear { out, .. }
            | Self::Mlp { out, .. }
            | Self::Relu2 { out, .. }
            | Self::CnnSmall { out }
            | Self::Cnn { out, .. } => out,
        }
    }

    /// The weight constraint.
    pub fn wnorm(&self) -> WeightNorm {
        match *self {
            Self::DeepLinear { wnorm, .. }
            | Self::Mlp { wnorm, .. }
            | Self::Relu2 { wnorm, .. } => wnorm,
            Self::Linear { .. } | Self::CnnSmall { .. } | Self::Cnn { .. } => WeightNorm::None,
        }
    }

    /// Builds a freshly initialised encoder for `input_dim`-dimensional inputs; `image_shape`
    /// (C, H, W) is required by `cnn` and must satisfy C·H·W = `input_dim`.
    pub fn build<F: Real>(
        &self,
        input_dim: usize,
        image_shape: Option<Shape3>,
        rng: &mut Rng,
    ) -> Result<Encoder<F>, SpecError> {
        if input_dim == 0 {
            return Err(SpecError::new("the data has no input features"));
        }
        let lin_gain = std::f64::consts::FRAC_1_SQRT_2;
        let gain = |a: Activation| {
            if a == Activation::Identity {
                lin_gain
            } else {
                1.0
            }
        };
        let mut layers: Vec<Layer<F>> = Vec::new();
        let mut repr_layers = None;
        match *self {
            Self::Linear { out } => {
                layers.push(Layer::Linear(Linear::new(
                    input_dim,
                    out,
                    false,
                    Activation::Identity,
                    lin_gain,
                    rng,
                )));
            }
            Self::DeepLinear {
                layers: l,
                width,
                out,
                ..
            } => {
                let mut d = input_dim;
                for i in 0..l {
                    let o = if i + 1 == l { out } else { width };
                    layers.push(Layer::Linear(Linear::new(
                        d,
                        o,
                        false,
                        Activation::Identity,
                        lin_gain,
                        rng,
                    )));
                    d = o;
                }
            }
            Self::Mlp {
                hidden, out, act, ..
            } => {
                layers.push(Layer::Linear(Linear::new(
                    input_dim,
                    hidden,
                    true,
                    act,
                    gain(act),
                    rng,
                )));
                layers.push(Layer::Linear(Linear::new(
                    hidden,
                    out,
                    true,
                    Activation::Identity,
                    lin_gain,
                    rng,
                )));
            }
            Self::Relu2 {
                hidden, out, act, ..
            } => {
                layers.push(Layer::Linear(Linear::new(
                    input_dim,
                    hidden,
                    false,
                    act,
                    gain(act),
                    rng,
                )));
                layers.push(Layer::Linear(Linear::new(
                    hidden,
                    out,
                    false,
                    Activation::Identity,
                    lin_gain,
                    rng,
                )));
            }
            Self::CnnSmall { out } => {
                let shape = check_image_shape(self, input_dim, image_shape)?;
                if shape.1 < 8 || shape.2 < 8 {
                    return Err(SpecError::new(format!(
                        "cnn:small needs images of at least 8×8 pixels, got {}×{}",
                        shape.1, shape.2
                    )));
                }
                let mut s = shape;
                for ch in [16, 20, 20] {
                    let conv = Conv2d::new(s, ch, 1, 1, Activation::Relu, rng)
                        .ok_or_else(|| SpecError::new("image too small for cnn:small"))?;
                    s = conv.output();
                    layers.push(Layer::Conv(conv));
                    let pool = Pool2d {
                        kind: PoolKind::Max,
                        input: s,
                    };
                    s = pool.output();
                    layers.push(Layer::Pool(pool));
                }
                let flat = s.0 * s.1 * s.2;
                layers.push(Layer::Flatten(flat));
                layers.push(Layer::Linear(Linear::new(
                    flat,
                    out,
                    true,
                    Activation::Identity,
                    lin_gain,
                    rng,
                )));
            }
            Self::Cnn {
                width,
                blocks,
                head,
                out,
            } => {
                let shape = check_image_shape(self, input_dim, image_shape)?;
                let min_side = 1usize << (blocks - 1);
                if shape.1 < 2 * min_side || shape.2 < 2 * min_side {
                    return Err(SpecError::new(format!(
                        "cnn with blocks={blocks} halves the image {} times and needs images of at least {m}×{m} pixels, got {}×{}; use blocks ≤ {}",
                        blocks - 1,
                        shape.1,
                        shape.2,
                        max_blocks(shape.1.min(shape.2)),
                        m = 2 * min_side,
                    )));
                }
                let mut s = shape;
                for b in 0..blocks {
                    let stride = if b == 0 { 1 } else { 2 };
                    let conv = Conv2d::new(s, width << b, stride, 1, Activation::Identity, rng)
                        .ok_or_else(|| SpecError::new("image too small for this cnn"))?
                        .without_bias();
                    s = conv.output();
                    layers.push(Layer::Conv(conv));
                    layers.push(Layer::BatchNorm(BatchNorm::new(
                        s.0,
                        s.1 * s.2,
                        Activation::Relu,
                    )));
                }
                layers.push(Layer::GlobalAvgPool(GlobalAvgPool { input: s }));
                repr_layers = Some(layers.len());
                if head > 0 {
                    layers.push(Layer::Linear(Linear::new(
                        s.0,
                        head,
                        false,
                        Activation::Identity,
                        1.0,
                        rng,
                    )));
                    layers.push(Layer::BatchNorm(BatchNorm::new(head, 1, Activation::Relu)));
                    layers.push(Layer::Linear(Linear::new(
                        head,
                        out,
                        true,
                        Activation::Identity,
                        lin_gain,
                        rng,
                    )));
                }
            }
        }
        let n = layers.len();
        let mut enc = Encoder {
            spec: self.clone(),
            repr_layers: repr_layers.unwrap_or(n),
            layers,
            in_dim: input_dim,
            image_shape,
            caches: vec![LayerCache::default(); n],
            acts: vec![Array2::zeros((0, 0)); n + 1],
            grads: vec![Array2::zeros((0, 0)); n + 1],
            profile: None,
        };
        enc.apply_constraint();
        Ok(enc)
    }
}

/// The image shape of the data, checked against the input dimension.
fn check_image_shape(
    spec: &EncoderSpec,
    input_dim: usize,
    image_shape: Option<Shape3>,
) -> Result<Shape3, SpecError> {
    let Some(shape) = image_shape else {
        return Err(SpecError::new(format!(
            "{} needs image data (e.g. data=cifar:size=16); this data set is not made of images",
            spec.to_text()
        )));
    };
    if shape.0 * shape.1 * shape.2 != input_dim {
        return Err(SpecError::new(format!(
            "image shape {shape:?} does not match the input dimension {input_dim}"
        )));
    }
    Ok(shape)
}

/// The most blocks a `cnn` can have on images of this side (the last block keeps ≥ 2×2).
pub fn max_blocks(side: usize) -> usize {
    let mut b = 1;
    while side >= 2 << b {
        b += 1;
    }
    b
}

/// A stack of layers with the buffers forward leaves for backward.
#[derive(Debug, Clone)]
pub struct Encoder<F: Real = f32> {
    /// The spec it was built from.
    pub spec: EncoderSpec,
    /// The layers, input to output.
    pub layers: Vec<Layer<F>>,
    /// Input dimension.
    pub in_dim: usize,
    /// Input image shape, if any.
    pub image_shape: Option<Shape3>,
    /// The first this-many layers are the backbone; its output is the representation h
    /// ([`Encoder::embed_repr`]); the rest is the projection head.
    pub repr_layers: usize,
    caches: Vec<LayerCache<F>>,
    /// acts[0] = input, acts[i+1] = output of layer i.
    acts: Vec<Array2<F>>,
    /// grads[i] = ∂L/∂acts[i] (grads[0] is never filled: no input gradient is needed).
    grads: Vec<Array2<F>>,
    /// Per-layer (forward, backward) seconds, accumulated while profiling is on
    /// ([`Encoder::set_profiling`]).
    profile: Option<Vec<(f64, f64)>>,
}

/// Which embedding a view or an evaluation looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// The representation h: the backbone output before any projection head (what kNN and
    /// the linear probe evaluate, as in the paper's protocol).
    #[default]
    Representation,
    /// The encoder's output z, the input of the contrastive loss.
    Output,
}

impl Stage {
    /// Short label for the views.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Representation => "backbone h (before the head)",
            Stage::Output => "head output z (the loss's input)",
        }
    }
}

/// Rows per chunk of an eval-mode forward pass ([`Encoder::embed`]).
pub const EMBED_CHUNK: usize = 512;

use super::layers::ensure_dim as ensure;

impl<F: Real> Encoder<F> {
    /// Output dimension.
    pub fn out_dim(&self) -> usize {
        self.layers.last().map_or(self.in_dim, |l| l.out_dim())
    }

    /// A copy for inference only: the same layers, parameters and BatchNorm running
    /// statistics, without the training buffers (which can be far larger than the
    /// parameters). Its [`Encoder::embed`] / [`Encoder::embed_repr`] equal the original's.
    pub fn frozen_copy(&self) -> Self {
        let n = self.layers.len();
        Self {
            spec: self.spec.clone(),
            layers: self.layers.clone(),
            in_dim: self.in_dim,
            image_shape: self.image_shape,
            repr_layers: self.repr_layers,
            caches: vec![LayerCache::default(); n],
            acts: vec![Array2::zeros((0, 0)); n + 1],
            grads: vec![Array2::zeros((0, 0)); n + 1],
            profile: None,
        }
    }

    /// Forward pass keeping what backward needs; returns a view of the output (N × out).
    pub fn forward_view(&mut self, x: ArrayView2<F>) -> ArrayView2<'_, F> {
        let n = x.nrows();
        ensure(&mut self.acts[0], (n, x.ncols()));
        self.acts[0].assign(&x);
        for i in 0..self.layers.len() {
            let od = self.layers[i].out_dim();
            ensure(&mut self.acts[i + 1], (n, od));
            let (lo, hi) = self.acts.split_at_mut(i + 1);
            let t0 = self.profile.as_ref().map(|_| web_time::Instant::now());
            self.layers[i].forward(
                lo[i].view(),
                hi[0].view_mut(),
                &mut self.caches[i],
                Mode::Train,
            );
            if let Layer::BatchNorm(bn) = &mut self.layers[i] {
                bn.update_running(&self.caches[i], n);
            }
            if let (Some(t0), Some(p)) = (t0, self.profile.as_mut()) {
                p[i].0 += t0.elapsed().as_secs_f64();
            }
        }
        self.acts[self.layers.len()].view()
    }

    /// Forward pass keeping what backward needs; returns a copy of the output.
    pub fn forward(&mut self, x: &Array2<F>) -> Array2<F> {
        self.forward_view(x.view()).to_owned()
    }

    /// Inference (eval mode): the output z of each row of `x` (does not touch the training
    /// caches).
    pub fn embed(&self, x: &Array2<F>) -> Array2<F> {
        self.embed_through(x, self.layers.len())
    }

    /// Inference (eval mode): the representation h of each row of `x`, the backbone output
    /// before the projection head (equal to [`Encoder::embed`] for encoders without a head).
    pub fn embed_repr(&self, x: &Array2<F>) -> Array2<F> {
        self.embed_through(x, self.repr_layers)
    }

    /// Eval-mode embeddings at `stage`: the representation h or the output z.
    pub fn embed_stage(&self, x: &Array2<F>, stage: Stage) -> Array2<F> {
        match stage {
            Stage::Representation => self.embed_repr(x),
            Stage::Output => self.embed(x),
        }
    }

    /// Eval-mode projection head applied to representations `h` (z = head(h); the identity
    /// for encoders without a head).
    pub fn head_of(&self, h: &Array2<F>) -> Array2<F> {
        self.embed_range(h, self.repr_layers, self.layers.len())
    }

    /// Dimension of the representation h.
    pub fn repr_dim(&self) -> usize {
        match self.repr_layers.checked_sub(1) {
            Some(i) => self.layers[i].out_dim(),
            None => self.in_dim,
        }
    }

    /// Eval-mode forward pass through the first `layers` layers, in chunks of at most
    /// [`EMBED_CHUNK`] rows so that large evaluation sets need little scratch memory.
    fn embed_through(&self, x: &Array2<F>, layers: usize) -> Array2<F> {
        self.embed_range(x, 0, layers)
    }

    /// Eval-mode forward pass through layers `from..to` (chunked as [`Encoder::embed`]).
    fn embed_range(&self, x: &Array2<F>, from: usize, to: usize) -> Array2<F> {
        let to = to.min(self.layers.len());
        let layers = &self.layers[from.min(to)..to];
        let out_dim = layers.last().map_or(x.ncols(), |l| l.out_dim());
        let mut out = Array2::zeros((x.nrows(), out_dim));
        let mut cache = LayerCache::default();
        for start in (0..x.nrows()).step_by(EMBED_CHUNK) {
            let end = (start + EMBED_CHUNK).min(x.nrows());
            let mut h = x.slice(ndarray::s![start..end, ..]).to_owned();
            for layer in layers {
                let mut y = Array2::zeros((h.nrows(), layer.out_dim()));
                layer.forward(h.view(), y.view_mut(), &mut cache, Mode::Eval);
                h = y;
            }
            out.slice_mut(ndarray::s![start..end, ..]).assign(&h);
        }
        out
    }

    /// Backward pass from ∂L/∂(output) of the last [`Encoder::forward`]; fills every layer's
    /// parameter gradients (the input gradient of the first layer is never computed).
    pub fn backward(&mut self, grad_out: &Array2<F>) {
        self.backward_view(grad_out.view());
    }

    /// As [`Encoder::backward`], from a view.
    pub fn backward_view(&mut self, grad_out: ArrayView2<F>) {
        let nl = self.layers.len();
        let Self {
            layers,
            caches,
            acts,
            grads,
            profile,
            ..
        } = self;
        ensure(&mut grads[nl], grad_out.dim());
        grads[nl].assign(&grad_out);
        // The first layer that has parameters: below it no gradient is needed.
        let first = layers.iter().position(|l| l.num_params() > 0).unwrap_or(nl);
        for i in (first..nl).rev() {
            let n = acts[i].nrows();
            if i > first {
                ensure(&mut grads[i], (n, acts[i].ncols()));
            }
            let (lo, hi) = grads.split_at_mut(i + 1);
            let gx = (i > first).then(|| lo[i].view_mut());
            let t0 = profile.as_ref().map(|_| web_time::Instant::now());
            layers[i].backward(
                acts[i].view(),
                acts[i + 1].view(),
                hi[0].view_mut(),
                gx,
                &mut caches[i],
            );
            if let (Some(t0), Some(p)) = (t0, profile.as_mut()) {
                p[i].1 += t0.elapsed().as_secs_f64();
            }
        }
    }

    /// Switches per-layer timing on (zeroing the totals) or off.
    pub fn set_profiling(&mut self, on: bool) {
        self.profile = on.then(|| vec![(0.0, 0.0); self.layers.len()]);
    }

    /// Per-layer (name, forward seconds, backward seconds) accumulated since profiling was
    /// switched on.
    pub fn layer_profile(&self) -> Vec<(String, f64, f64)> {
        let Some(p) = &self.profile else {
            return Vec::new();
        };
        self.layers
            .iter()
            .zip(p)
            .enumerate()
            .map(|(i, (l, &(f, b)))| (format!("{i}:{}", l.kind_name()), f, b))
            .collect()
    }

    /// Enforces the spec's weight constraint (call after every optimiser step).
    pub fn apply_constraint(&mut self) {
        let mode = self.spec.wnorm();
        if mode == WeightNorm::None {
            return;
        }
        let last = self.layers.iter().rposition(|l| l.weight().is_some());
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let Some(w) = layer.weight_mut() else {
                continue;
            };
            let frob = mode == WeightNorm::Frobenius || Some(i) == last;
            if frob {
                let n = w.iter().map(|v| v.f64() * v.f64()).sum::<f64>().sqrt();
                if n > 0.0 {
                    let s = F::c(1.0 / n);
                    w.mapv_inplace(|v| v * s);
                }
            } else {
                // Linear weights are stored (in × out): a row of the paper's W is a column here.
                for mut col in w.axis_iter_mut(Axis(1)) {
                    let n = col.iter().map(|v| v.f64() * v.f64()).sum::<f64>().sqrt();
                    if n > 0.0 {
                        let s = F::c(1.0 / n);
                        col.mapv_inplace(|v| v * s);
                    }
                }
            }
        }
    }

    /// Parameters with their gradients, in a fixed order.
    pub fn params_and_grads(&mut self) -> Vec<(&mut [F], &[F])> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.params_and_grads())
            .collect()
    }

    /// Every value that defines the encoder's function — parameters and BatchNorm running
    /// statistics, in a fixed order — copied into `buf` (cleared first; its allocation is
    /// reused, so saving every few steps costs one copy of the parameters).
    pub fn save_state(&mut self, buf: &mut Vec<F>) {
        buf.clear();
        for l in &mut self.layers {
            for (p, _) in l.params_and_grads() {
                buf.extend_from_slice(p);
            }
            if let Layer::BatchNorm(bn) = l {
                buf.extend(bn.running_mean.iter().chain(bn.running_var.iter()).copied());
            }
        }
    }

    /// Restores values saved by [`Encoder::save_state`]; `false` (and nothing changed) when
    /// `buf` does not have this encoder's size.
    pub fn restore_state(&mut self, buf: &[F]) -> bool {
        let mut scratch = Vec::new();
        self.save_state(&mut scratch);
        if scratch.len() != buf.len() {
            return false;
        }
        let mut at = 0;
        let mut take = |dst: &mut [F]| {
            dst.copy_from_slice(&buf[at..at + dst.len()]);
            at += dst.len();
        };
        for l in &mut self.layers {
            for (p, _) in l.params_and_grads() {
                take(p);
            }
            if let Layer::BatchNorm(bn) = l {
                for a in [&mut bn.running_mean, &mut bn.running_var] {
                    if let Some(s) = a.as_slice_mut() {
                        take(s);
                    }
                }
            }
        }
        true
    }

    /// Number of trainable parameters.
    pub fn num_params(&self) -> usize {
        self.layers.iter().map(|l| l.num_params()).sum()
    }

    /// Squared norm of all gradients (for divergence checks).
    pub fn grad_norm_sq(&self) -> f64 {
        self.layers.iter().map(|l| l.grad_norm_sq()).sum()
    }

    /// Number of fully connected layers (the indices [`Encoder::weight_matrix`] accepts).
    pub fn num_linear(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| matches!(l, Layer::Linear(_)))
            .count()
    }

    /// Weights of the `idx`-th fully connected layer as an (out × in) matrix, the paper's W_l.
    pub fn weight_matrix(&self, idx: usize) -> Option<Array2<F>> {
        self.layers
            .iter()
            .filter_map(|l| match l {
                Layer::Linear(lin) => Some(lin),
                _ => None,
            })
            .nth(idx)
            .map(|l| l.w.t().to_owned())
    }

    /// Row-wise L2 norms of a batch (helper for views).
    pub fn row_norms(z: &Array2<F>) -> Vec<F> {
        z.axis_iter(Axis(0)).map(|r| r.dot(&r).sqrt()).collect()
    }
}

/// Text form of a two-layer encoder (`mlp`, `relu2`): non-default activation and weight norm
/// are written out, defaults are omitted.
fn two_layer_text(
    name: &str,
    hidden: usize,
    out: usize,
    act: Activation,
    wnorm: WeightNorm,
    default_wnorm: WeightNorm,
) -> String {
    let mut v = vec![("hidden", hidden.to_string()), ("out", out.to_string())];
    if act != Activation::Relu {
        v.push(("act", act.name().into()));
    }
    if wnorm != default_wnorm {
        v.push(("wnorm", wnorm.name().into()));
    }
    format_spec(name, &v)
}

impl EncoderSpec {
    /// Checks that this encoder can be built on inputs of `input_dim` features (of
    /// `image_shape` for images): the error [`EncoderSpec::build`] would give, without keeping
    /// the weights.
    pub fn check_shapes(
        &self,
        input_dim: usize,
        image_shape: Option<Shape3>,
    ) -> Result<(), SpecError> {
        let mut rng = Rng::derive(0, "shape-check");
        self.build::<f32>(input_dim, image_shape, &mut rng)
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnn_text_forms_round_trip_and_old_links_still_parse() {
        for text in [
            "cnn:width=32,blocks=4,head=256,out=64",
            "cnn:width=8,blocks=2,head=0",
            "cnn:small,out=64",
        ] {
            let s = EncoderSpec::parse(text).unwrap();
            assert_eq!(EncoderSpec::parse(&s.to_text()).unwrap(), s, "{text}");
        }
        assert_eq!(
            EncoderSpec::parse("cnn:small,out=10").unwrap(),
            EncoderSpec::CnnSmall { out: 10 }
        );
        // Without a head the output is the representation.
        let s = EncoderSpec::parse("cnn:width=8,blocks=3,head=0").unwrap();
        assert_eq!(s.out_dim(), 32);
        assert!(!s.has_head());
        let e = EncoderSpec::parse("cnn:small,width=8").unwrap_err();
        assert!(e.0.contains("only out="), "{e}");
    }

    #[test]
    fn impossible_cnn_shapes_are_rejected_with_what_is_allowed() {
        assert_eq!((max_blocks(8), max_blocks(16), max_blocks(32)), (3, 4, 5));
        let mut rng = Rng::seed_from_u64(1);
        let too_deep = EncoderSpec::parse("cnn:width=4,blocks=4").unwrap();
        let e = too_deep
            .build::<f32>(3 * 8 * 8, Some((3, 8, 8)), &mut rng)
            .unwrap_err();
        assert!(e.0.contains("blocks ≤ 3") && e.0.contains("8×8"), "{e}");
        let ok = EncoderSpec::parse("cnn:width=4,blocks=3").unwrap();
        let enc = ok
            .build::<f32>(3 * 8 * 8, Some((3, 8, 8)), &mut rng)
            .unwrap();
        assert_eq!(enc.repr_dim(), 16);
        let e = ok.build::<f32>(64, None, &mut rng).unwrap_err();
        assert!(e.0.contains("needs image data"), "{e}");
        let e = ok.build::<f32>(100, Some((3, 8, 8)), &mut rng).unwrap_err();
        assert!(e.0.contains("does not match"), "{e}");
        assert!(EncoderSpec::parse("cnn:width=512,blocks=4").is_err());
    }
}
