//! Layers with hand-written backward passes.

use ndarray::{Array1, Array2, Axis};

use crate::rng::Rng;

/// Fully connected layer: Y = X W + b, W is (in × out).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Linear {
    /// Weights (in × out).
    pub w: Array2<f32>,
    /// Bias (out), if any.
    pub b: Option<Array1<f32>>,
    /// ∂L/∂W accumulated by the last backward pass.
    #[serde(skip)]
    pub gw: Array2<f32>,
    /// ∂L/∂b.
    #[serde(skip)]
    pub gb: Option<Array1<f32>>,
    #[serde(skip)]
    input: Array2<f32>,
}

impl Linear {
    /// He/Kaiming-uniform style initialisation: U(−√(6/in)·g, √(6/in)·g) with gain g.
    pub fn new(inp: usize, out: usize, bias: bool, gain: f64, rng: &mut Rng) -> Self {
        let bound = gain * (6.0 / inp as f64).sqrt();
        let w =
            Array2::from_shape_simple_fn((inp, out), || rng.uniform_range(-bound, bound) as f32);
        Self {
            gw: Array2::zeros((inp, out)),
            gb: bias.then(|| Array1::zeros(out)),
            b: bias.then(|| Array1::zeros(out)),
            w,
            input: Array2::zeros((0, 0)),
        }
    }

    /// Forward pass; keeps the input for backward.
    pub fn forward(&mut self, x: &Array2<f32>) -> Array2<f32> {
        self.input = x.clone();
        self.apply(x)
    }

    /// Forward pass without caching (inference).
    pub fn apply(&self, x: &Array2<f32>) -> Array2<f32> {
        let mut y = x.dot(&self.w);
        if let Some(b) = &self.b {
            y += b;
        }
        y
    }

    /// Backward pass: stores ∂W, ∂b and returns ∂X (skipped when `need_input_grad` is false).
    pub fn backward(&mut self, gy: &Array2<f32>, need_input_grad: bool) -> Option<Array2<f32>> {
        self.gw = self.input.t().dot(gy);
        if let Some(gb) = &mut self.gb {
            *gb = gy.sum_axis(Axis(0));
        }
        need_input_grad.then(|| gy.dot(&self.w.t()))
    }
}

/// Element-wise activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// Identity (for deep linear networks).
    Identity,
}

impl Activation {
    /// f(x).
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Identity => x,
        }
    }

    /// f′ expressed through the output y = f(x).
    pub fn grad_from_output(self, y: f32) -> f32 {
        match self {
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Identity => 1.0,
        }
    }
}
