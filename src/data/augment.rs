//! Two-view augmentation: each sample becomes two random views (a positive pair).
//!
//! `noise:std=0.5` adds independent N(0, std²) noise to every coordinate of each view.

use ndarray::{ArrayView1, ArrayViewMut1};

use crate::rng::Rng;
use crate::spec::{Range, SpecError, SpecText, fmt_num, format_spec};

/// Augmentation choice.
#[derive(Debug, Clone, PartialEq)]
pub enum AugmentSpec {
    /// Additive isotropic Gaussian noise.
    Noise {
        /// Standard deviation.
        std: f64,
    },
}

impl Default for AugmentSpec {
    fn default() -> Self {
        Self::Noise { std: 0.5 }
    }
}

impl AugmentSpec {
    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let st = SpecText::parse(text)?;
        match st.name.as_str() {
            "noise" => {
                let p = st.params(&["std"])?;
                Ok(Self::Noise {
                    std: p.f64("std", 0.5, Range::AtLeast(0.0))?,
                })
            }
            other => Err(SpecError::new(format!(
                "unknown augmentation '{other}' (known: noise)"
            ))),
        }
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        match *self {
            Self::Noise { std } => format_spec("noise", &[("std", fmt_num(std))]),
        }
    }

    /// Writes one random view of `x` into `out`.
    pub fn apply(&self, x: ArrayView1<f32>, mut out: ArrayViewMut1<f32>, rng: &mut Rng) {
        match *self {
            Self::Noise { std } => {
                for (o, &v) in out.iter_mut().zip(x.iter()) {
                    *o = v + (std * rng.normal()) as f32;
                }
            }
        }
    }
}
