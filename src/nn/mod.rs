//! Encoders with explicit forward and backward passes, their optimisers, and saving/loading
//! their weights as JSON ([`weights`]).
//!
//! Layout convention: a batch is a matrix with one sample per row; a linear layer stores W as
//! (in × out) so that forward is `Y = X W + b` and backward is `∂W = Xᵀ ∂Y`, `∂X = ∂Y Wᵀ`.
//! Images are rows in (channel, row, column) order. Layers and encoders are generic over
//! [`crate::Real`]: training runs in `f32`, the gradient checks run the same code in `f64`.

pub mod batchnorm;
pub mod encoder;
pub mod gemm;
pub mod layers;
pub mod optim;
pub mod weights;

pub use encoder::{Encoder, EncoderSpec, Stage, WeightNorm};
pub use layers::{Activation, Layer, Mode, Shape3};
pub use optim::{OptimKind, OptimSpec, OptimState, Optimizer, Schedule};
pub use weights::{WeightTensor, WeightsError, WeightsFile};
