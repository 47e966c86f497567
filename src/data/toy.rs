//! Generated toy data sets (no download), seeded.
//!
//! `gauss:k=4,d=8,n=1024,sep=3,std=1`: K isotropic Gaussian clusters in d dimensions whose
//! centres are drawn on a sphere of radius `sep`; the held-out split has n/4 samples.

use ndarray::Array2;

use super::Dataset;
use crate::rng::Rng;
use crate::spec::{Range, SpecError, SpecText, fmt_num, format_spec};

/// Which data set to generate.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    /// Gaussian mixture.
    Gauss {
        /// Number of clusters (classes).
        k: usize,
        /// Dimension.
        d: usize,
        /// Training samples.
        n: usize,
        /// Radius of the sphere the centres lie on.
        sep: f64,
        /// Cluster standard deviation.
        std: f64,
    },
}

impl Default for DataSpec {
    fn default() -> Self {
        Self::Gauss {
            k: 4,
            d: 8,
            n: 1024,
            sep: 3.0,
            std: 1.0,
        }
    }
}

impl DataSpec {
    /// Known names.
    pub const NAMES: &'static [&'static str] = &["gauss"];

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let st = SpecText::parse(text)?;
        match st.name.as_str() {
            "gauss" => {
                let p = st.params(&["k", "d", "n", "sep", "std"])?;
                Ok(Self::Gauss {
                    k: p.usize("k", 4, 2, 64)?,
                    d: p.usize("d", 8, 1, 4096)?,
                    n: p.usize("n", 1024, 8, 1_000_000)?,
                    sep: p.f64("sep", 3.0, Range::AtLeast(0.0))?,
                    std: p.f64("std", 1.0, Range::Above(0.0))?,
                })
            }
            other => Err(SpecError::new(format!(
                "unknown data set '{other}' (known: {})",
                Self::NAMES.join(", ")
            ))),
        }
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        match *self {
            Self::Gauss { k, d, n, sep, std } => format_spec(
                "gauss",
                &[
                    ("k", k.to_string()),
                    ("d", d.to_string()),
                    ("n", n.to_string()),
                    ("sep", fmt_num(sep)),
                    ("std", fmt_num(std)),
                ],
            ),
        }
    }

    /// Number of training samples, when known without loading anything.
    pub fn train_size(&self) -> Option<usize> {
        match *self {
            Self::Gauss { n, .. } => Some(n),
        }
    }

    /// Generates the data set deterministically from `seed`.
    pub fn generate(&self, seed: u64) -> Result<Dataset, SpecError> {
        let mut rng = Rng::derive(seed, "data");
        match *self {
            Self::Gauss { k, d, n, sep, std } => {
                let centres: Vec<Vec<f64>> = (0..k)
                    .map(|_| {
                        let v: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
                        let nrm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
                        v.into_iter().map(|x| x * sep / nrm).collect()
                    })
                    .collect();
                let sample = |count: usize, rng: &mut Rng| {
                    let mut x = Array2::<f32>::zeros((count, d));
                    let mut y = Vec::with_capacity(count);
                    for i in 0..count {
                        let c = i % k;
                        y.push(c);
                        for j in 0..d {
                            x[[i, j]] = (centres[c][j] + std * rng.normal()) as f32;
                        }
                    }
                    (x, y)
                };
                let (x_train, y_train) = sample(n, &mut rng);
                let (x_test, y_test) = sample((n / 4).max(k), &mut rng);
                Ok(Dataset {
                    name: format!("Gaussian mixture ({k} clusters, {d}-d)"),
                    x_train,
                    y_train,
                    x_test,
                    y_test,
                    num_classes: k,
                    class_names: (0..k).map(|c| format!("cluster {c}")).collect(),
                    image_shape: None,
                })
            }
        }
    }
}
