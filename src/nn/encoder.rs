//! Encoders built from a small text spec, e.g. `mlp:hidden=64,out=16` or `linear:out=8`.

use ndarray::{Array2, Axis};

use super::layers::{Activation, Linear};
use crate::rng::Rng;
use crate::spec::{SpecError, SpecText, format_spec};

/// Which encoder architecture.
#[derive(Debug, Clone, PartialEq)]
pub enum EncoderSpec {
    /// A single linear map z = Wx.
    Linear {
        /// Output dimension.
        out: usize,
    },
    /// Linear → ReLU → Linear.
    Mlp {
        /// Hidden width.
        hidden: usize,
        /// Output dimension.
        out: usize,
    },
}

impl Default for EncoderSpec {
    fn default() -> Self {
        EncoderSpec::Mlp {
            hidden: 64,
            out: 16,
        }
    }
}

impl EncoderSpec {
    /// Known names, for error messages and the UI.
    pub const NAMES: &'static [&'static str] = &["linear", "mlp"];

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let st = SpecText::parse(text)?;
        match st.name.as_str() {
            "linear" => {
                let p = st.params(&["out"])?;
                Ok(Self::Linear {
                    out: p.usize("out", 2, 1, 4096)?,
                })
            }
            "mlp" => {
                let p = st.params(&["hidden", "out"])?;
                Ok(Self::Mlp {
                    hidden: p.usize("hidden", 64, 1, 4096)?,
                    out: p.usize("out", 16, 1, 4096)?,
                })
            }
            other => Err(SpecError::new(format!(
                "unknown encoder '{other}' (known: {})",
                Self::NAMES.join(", ")
            ))),
        }
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        match self {
            Self::Linear { out } => format_spec("linear", &[("out", out.to_string())]),
            Self::Mlp { hidden, out } => format_spec(
                "mlp",
                &[("hidden", hidden.to_string()), ("out", out.to_string())],
            ),
        }
    }

    /// Builds a freshly initialised encoder for `input_dim`-dimensional inputs.
    pub fn build(&self, input_dim: usize, rng: &mut Rng) -> Encoder {
        let blocks = match *self {
            Self::Linear { out } => vec![(
                Linear::new(input_dim, out, false, 1.0 / 3f64.sqrt(), rng),
                Activation::Identity,
            )],
            Self::Mlp { hidden, out } => vec![
                (
                    Linear::new(input_dim, hidden, true, 1.0, rng),
                    Activation::Relu,
                ),
                (
                    Linear::new(hidden, out, true, 1.0 / 3f64.sqrt(), rng),
                    Activation::Identity,
                ),
            ],
        };
        Encoder {
            spec: self.clone(),
            blocks,
            outputs: Vec::new(),
        }
    }
}

/// A stack of (linear, activation) blocks with cached activations for backward.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// The spec it was built from.
    pub spec: EncoderSpec,
    /// The layers.
    pub blocks: Vec<(Linear, Activation)>,
    outputs: Vec<Array2<f32>>,
}

impl Encoder {
    /// Output dimension.
    pub fn out_dim(&self) -> usize {
        self.blocks.last().map_or(0, |(l, _)| l.w.ncols())
    }

    /// Forward pass keeping what backward needs.
    pub fn forward(&mut self, x: &Array2<f32>) -> Array2<f32> {
        self.outputs.clear();
        let mut h = x.clone();
        for (lin, act) in &mut self.blocks {
            h = lin.forward(&h);
            let a = *act;
            if a != Activation::Identity {
                h.mapv_inplace(|v| a.apply(v));
            }
            self.outputs.push(h.clone());
        }
        h
    }

    /// Inference: the representation of each row of `x`.
    pub fn embed(&self, x: &Array2<f32>) -> Array2<f32> {
        let mut h = x.clone();
        for (lin, act) in &self.blocks {
            h = lin.apply(&h);
            let a = *act;
            if a != Activation::Identity {
                h.mapv_inplace(|v| a.apply(v));
            }
        }
        h
    }

    /// Backward pass from ∂L/∂(output); fills each layer's gradients.
    pub fn backward(&mut self, grad_out: &Array2<f32>) {
        let mut g = grad_out.clone();
        let nb = self.blocks.len();
        for idx in (0..nb).rev() {
            let (lin, act) = &mut self.blocks[idx];
            if *act != Activation::Identity {
                let a = *act;
                ndarray::Zip::from(&mut g)
                    .and(&self.outputs[idx])
                    .for_each(|gv, &y| *gv *= a.grad_from_output(y));
            }
            match lin.backward(&g, idx > 0) {
                Some(gx) => g = gx,
                None => break,
            }
        }
    }

    /// Parameters with their gradients, in a fixed order.
    pub fn params_and_grads(&mut self) -> Vec<(&mut [f32], &[f32])> {
        let mut v = Vec::new();
        for (lin, _) in &mut self.blocks {
            let Linear { w, b, gw, gb, .. } = lin;
            if let (Some(w), Some(gw)) = (w.as_slice_mut(), gw.as_slice()) {
                v.push((w, gw));
            }
            if let (Some(b), Some(gb)) = (b.as_mut(), gb.as_ref())
                && let (Some(b), Some(gb)) = (b.as_slice_mut(), gb.as_slice())
            {
                v.push((b, gb));
            }
        }
        v
    }

    /// Number of trainable parameters.
    pub fn num_params(&self) -> usize {
        self.blocks
            .iter()
            .map(|(l, _)| l.w.len() + l.b.as_ref().map_or(0, |b| b.len()))
            .sum()
    }

    /// Squared norm of all gradients (for divergence checks).
    pub fn grad_norm_sq(&self) -> f64 {
        self.blocks
            .iter()
            .map(|(l, _)| {
                l.gw.iter()
                    .map(|&g| f64::from(g) * f64::from(g))
                    .sum::<f64>()
                    + l.gb
                        .as_ref()
                        .map_or(0.0, |b| b.iter().map(|&g| f64::from(g).powi(2)).sum())
            })
            .sum()
    }

    /// Weights of layer `idx` as an (out × in) matrix, the paper's W_l.
    pub fn weight_matrix(&self, idx: usize) -> Option<Array2<f32>> {
        self.blocks.get(idx).map(|(l, _)| l.w.t().to_owned())
    }

    /// Row-wise L2 norms of the batch (helper for views).
    pub fn row_norms(z: &Array2<f32>) -> Vec<f32> {
        z.axis_iter(Axis(0)).map(|r| r.dot(&r).sqrt()).collect()
    }
}
