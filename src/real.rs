//! The floating-point type the maths core is generic over.
//!
//! Training runs in `f32` (fast GEMM, SIMD128 on wasm); the reference calculator and the
//! gradient checks run the *same code* in `f64`.

use std::fmt::{Debug, Display};

/// A float usable by every numerical routine of the crate (`f32` or `f64`).
pub trait Real:
    num_traits::Float
    + num_traits::FromPrimitive
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + std::iter::Sum
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
{
    /// Converts an `f64` constant into this type.
    fn c(x: f64) -> Self {
        <Self as num_traits::FromPrimitive>::from_f64(x).unwrap_or_else(Self::nan)
    }
    /// Converts a count into this type.
    fn n(x: usize) -> Self {
        <Self as num_traits::FromPrimitive>::from_usize(x).unwrap_or_else(Self::nan)
    }
    /// This value as `f64` (for reports and JSON).
    fn f64(self) -> f64 {
        num_traits::ToPrimitive::to_f64(&self).unwrap_or(f64::NAN)
    }
}

impl Real for f32 {}
impl Real for f64 {}
