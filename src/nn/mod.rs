//! Encoders with explicit forward and backward passes, and their optimisers.
//!
//! Layout convention: a batch is a matrix with one sample per row; a linear layer stores W as
//! (in × out) so that forward is `Y = X W + b` and backward is `∂W = Xᵀ ∂Y`, `∂X = ∂Y Wᵀ`.

pub mod encoder;
pub mod layers;
pub mod optim;

pub use encoder::{Encoder, EncoderSpec};
pub use optim::{OptimSpec, Optimizer};
