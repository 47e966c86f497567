//! Saving and loading an encoder's weights as JSON (`weights.json`).
//!
//! **Format, version 1.** One JSON object:
//!
//! ```text
//! {
//!   "format": "alphacl-weights",
//!   "version": 1,
//!   "encoder": "mlp:hidden=64,out=16",      // EncoderSpec text form
//!   "input_dim": 8,
//!   "image_shape": null,                     // or [channels, height, width]
//!   "step": 500,                             // steps trained when saved (informational)
//!   "config": "data=gauss:k=4,d=8&...",      // RunConfig text form (informational)
//!   "tensors": [
//!     {"name": "layer0.weight", "shape": [8, 64], "data": [0.12, ...]},
//!     {"name": "layer0.bias", "shape": [64], "data": [...]},
//!     ...
//!   ]
//! }
//! ```
//!
//! Tensors come in the encoder's fixed parameter order (the order of
//! [`Encoder::params_and_grads`]) and are named `layer<i>.weight` / `layer<i>.bias`, where `i`
//! is the index in [`Encoder::layers`] (pooling and flatten layers have no tensors but keep
//! their index). `data` is row-major. Shapes: a fully connected layer's weight is
//! `[in, out]` (the stored orientation, y = x W + b), a convolution's is
//! `[c_out, c_in, 3, 3]`; biases are `[out]` (a convolution followed by BatchNorm has none). A
//! BatchNorm layer saves `layer<i>.gamma`, `.beta`, `.running_mean` and `.running_var`, each
//! `[channels]` (the running statistics are what evaluation uses, so they travel too). Values are `f32` written in their shortest
//! round-trip decimal form, so saving and loading is bit-exact. A non-finite value would be
//! written as `null`; loading rejects it.
//!
//! **Loading** ([`WeightsFile::parse`], then [`Encoder::import_weights`]) checks everything
//! before it changes anything: the JSON syntax (with line and column), the format tag and
//! version, the encoder spec (compared as parsed specs, so key order does not matter), the
//! input dimension and image shape, and every tensor's presence, name, shape, length and
//! finiteness. Tensors are matched by name. The weights are copied as they are (the weight
//! constraint is not re-applied: it already held when they were saved). `step` and `config`
//! are not checked; they record where the weights came from.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::batchnorm::BatchNorm;
use super::encoder::{Encoder, EncoderSpec};
use super::layers::Layer;

/// The value of the `format` field.
pub const WEIGHTS_FORMAT: &str = "alphacl-weights";

/// The format version this build writes and reads.
pub const WEIGHTS_VERSION: u32 = 1;

/// One named parameter tensor (row-major `data`, `shape` listing its dimensions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightTensor {
    /// `layer<i>.weight` or `layer<i>.bias`.
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The values, row-major (`null` in the file reads as NaN and is rejected on load).
    #[serde(deserialize_with = "nullable_f32s")]
    pub data: Vec<f32>,
}

/// The contents of a `weights.json` file (see the module documentation for the format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsFile {
    /// Always [`WEIGHTS_FORMAT`].
    pub format: String,
    /// Always [`WEIGHTS_VERSION`] when written by this build.
    pub version: u32,
    /// The encoder's spec text, e.g. `mlp:hidden=64,out=16`.
    pub encoder: String,
    /// Input features per sample.
    pub input_dim: usize,
    /// `[channels, height, width]` when the inputs are images.
    pub image_shape: Option<[usize; 3]>,
    /// Training steps taken when the weights were saved.
    pub step: usize,
    /// The run's `RunConfig` text form.
    pub config: String,
    /// What these weights are when they are not simply the last step's, e.g. "the last finite
    /// parameters, from step 40; the run diverged at step 43" (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The parameters, in the encoder's parameter order.
    pub tensors: Vec<WeightTensor>,
}

/// Why weights could not be loaded. The messages are meant to be shown to users as they are.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightsError {
    /// The text is not valid JSON (serde's message, with line and column).
    #[error("the weights file is not valid JSON: {0}")]
    Json(String),
    /// The JSON is not a weights file.
    #[error(
        "this is not an α-CL Lab weights file: {found} (expected \"format\": \"alphacl-weights\")"
    )]
    NotWeights {
        /// What was found instead.
        found: String,
    },
    /// The version is not one this build reads.
    #[error("unsupported weights file version {found} (this version of α-CL Lab reads version 1)")]
    Version {
        /// The version found (as JSON text), or `missing`.
        found: String,
    },
    /// A field is missing or has the wrong type (serde's message, with line and column).
    #[error("the weights file is incomplete or damaged: {0}")]
    Malformed(String),
    /// The weights belong to another architecture.
    #[error(
        "these weights are for encoder {file}, but this run uses encoder {run} (set encoder={file} to load them)"
    )]
    EncoderMismatch {
        /// The file's encoder spec.
        file: String,
        /// The run's encoder spec.
        run: String,
    },
    /// The weights were trained on inputs of another size.
    #[error(
        "these weights are for {file}-dimensional inputs, but this run's data has {run} dimensions"
    )]
    InputDim {
        /// The file's input dimension.
        file: usize,
        /// The run's input dimension.
        run: usize,
    },
    /// The weights were trained on images of another shape (or on non-images).
    #[error("these weights are for {file}, but this run's data is {run}")]
    ImageShape {
        /// The file's input kind, e.g. `3×8×8 images`.
        file: String,
        /// The run's input kind.
        run: String,
    },
    /// A tensor the encoder needs is not in the file.
    #[error("tensor {name} is missing from the weights file (this encoder needs: {needed})")]
    MissingTensor {
        /// The missing tensor.
        name: String,
        /// Every tensor the encoder needs.
        needed: String,
    },
    /// The file has a tensor the encoder does not.
    #[error(
        "the weights file has a tensor {name} that this encoder does not have (it needs: {needed})"
    )]
    UnexpectedTensor {
        /// The extra tensor.
        name: String,
        /// Every tensor the encoder needs.
        needed: String,
    },
    /// The same tensor name appears more than once.
    #[error("tensor {name} appears more than once in the weights file")]
    DuplicateTensor {
        /// The repeated name.
        name: String,
    },
    /// A tensor has the wrong shape.
    #[error(
        "tensor {name} has shape {found} in the weights file, but this encoder needs {expected}"
    )]
    Shape {
        /// The tensor.
        name: String,
        /// The shape the encoder needs, e.g. `[8, 64]`.
        expected: String,
        /// The shape in the file.
        found: String,
    },
    /// A tensor's data does not fill its shape.
    #[error("tensor {name} has {found} values, but its shape {shape} needs {expected}")]
    DataLength {
        /// The tensor.
        name: String,
        /// Its declared shape.
        shape: String,
        /// Values the shape needs.
        expected: usize,
        /// Values in the file.
        found: usize,
    },
    /// A value is NaN, infinite, `null`, or too large for `f32`.
    #[error(
        "tensor {name} holds a non-finite value (NaN, infinity, null or beyond the f32 range) at position {index}; these weights cannot be used"
    )]
    NonFinite {
        /// The tensor.
        name: String,
        /// Index into its `data`.
        index: usize,
    },
}

/// Reads a list of numbers in which `null` stands for a non-finite value (serde_json writes
/// NaN and infinities as `null`); `null` becomes NaN so that validation can name it.
fn nullable_f32s<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    let v: Vec<Option<f32>> = Vec::deserialize(d)?;
    Ok(v.into_iter().map(|x| x.unwrap_or(f32::NAN)).collect())
}

fn shape_text(shape: &[usize]) -> String {
    format!(
        "[{}]",
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn input_kind(shape: Option<[usize; 3]>) -> String {
    match shape {
        Some([c, h, w]) => format!("{c}×{h}×{w} images (channels×height×width)"),
        None => "vectors (not images)".to_string(),
    }
}

/// Serialises a value that cannot fail to serialise (strings, numbers, plain structs).
fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

/// Just the fields that say whether a JSON document is a weights file at all.
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

fn check_header(
    format: Option<&serde_json::Value>,
    version: Option<&serde_json::Value>,
) -> Result<(), WeightsError> {
    match format {
        Some(serde_json::Value::String(s)) if s == WEIGHTS_FORMAT => {}
        Some(other) => {
            return Err(WeightsError::NotWeights {
                found: format!("its \"format\" is {other}"),
            });
        }
        None => {
            return Err(WeightsError::NotWeights {
                found: "it has no \"format\" field".into(),
            });
        }
    }
    match version {
        Some(v) if v.as_u64() == Some(u64::from(WEIGHTS_VERSION)) => Ok(()),
        Some(v) => Err(WeightsError::Version {
            found: v.to_string(),
        }),
        None => Err(WeightsError::Version {
            found: "missing".into(),
        }),
    }
}

/// Checks that a tensor's data fills its shape and is finite.
fn check_tensor_data(t: &WeightTensor) -> Result<(), WeightsError> {
    let expected = t
        .shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            WeightsError::Malformed(format!(
                "tensor {} has an impossibly large shape {}",
                t.name,
                shape_text(&t.shape)
            ))
        })?;
    if t.data.len() != expected {
        return Err(WeightsError::DataLength {
            name: t.name.clone(),
            shape: shape_text(&t.shape),
            expected,
            found: t.data.len(),
        });
    }
    if let Some(index) = t.data.iter().position(|v| !v.is_finite()) {
        return Err(WeightsError::NonFinite {
            name: t.name.clone(),
            index,
        });
    }
    Ok(())
}

impl WeightsFile {
    /// Parses and checks a `weights.json` text on its own (JSON syntax, format tag, version,
    /// field types, and that every tensor's data fills its shape with finite values). Whether
    /// the weights fit a given encoder is checked by [`Encoder::check_weights`].
    pub fn parse(text: &str) -> Result<Self, WeightsError> {
        // Syntax first (with line and column), then whether it is a weights file at all, then
        // the structure.
        serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map_err(|e| WeightsError::Json(e.to_string()))?;
        if !text.trim_start().starts_with('{') {
            return Err(WeightsError::NotWeights {
                found: "it is not a JSON object".into(),
            });
        }
        let header: Header =
            serde_json::from_str(text).map_err(|e| WeightsError::Malformed(e.to_string()))?;
        check_header(header.format.as_ref(), header.version.as_ref())?;
        let file: WeightsFile =
            serde_json::from_str(text).map_err(|e| WeightsError::Malformed(e.to_string()))?;
        for t in &file.tensors {
            check_tensor_data(t)?;
        }
        Ok(file)
    }

    /// The JSON text: a readable header, then one tensor per line.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n");
        let mut field = |k: &str, v: String| {
            out.push_str(&format!("  \"{k}\": {v},\n"));
        };
        field("format", json(&self.format));
        field("version", json(&self.version));
        field("encoder", json(&self.encoder));
        field("input_dim", json(&self.input_dim));
        field("image_shape", json(&self.image_shape));
        field("step", json(&self.step));
        field("config", json(&self.config));
        if let Some(note) = &self.note {
            field("note", json(note));
        }
        out.push_str("  \"tensors\": [\n");
        for (i, t) in self.tensors.iter().enumerate() {
            out.push_str("    ");
            out.push_str(&json(t));
            if i + 1 < self.tensors.len() {
                out.push(',');
            }
            out.push('\n');
        }
        out.push_str("  ]\n}\n");
        out
    }
}

/// A BatchNorm layer's saved tensors: γ and β (its parameters), then its running statistics.
fn bn_tensors(b: &BatchNorm<f32>) -> [(&'static str, &ndarray::Array1<f32>); 4] {
    [
        ("gamma", &b.gamma),
        ("beta", &b.beta),
        ("running_mean", &b.running_mean),
        ("running_var", &b.running_var),
    ]
}

/// Name and shape of every parameter tensor, in parameter order, with its values.
fn tensors_of(enc: &Encoder<f32>) -> Vec<WeightTensor> {
    let mut v = Vec::new();
    let mut push = |name: String, shape: Vec<usize>, data: Vec<f32>| {
        v.push(WeightTensor { name, shape, data });
    };
    for (i, layer) in enc.layers.iter().enumerate() {
        match layer {
            Layer::Linear(l) => {
                push(
                    format!("layer{i}.weight"),
                    vec![l.w.nrows(), l.w.ncols()],
                    l.w.iter().copied().collect(),
                );
                if let Some(b) = &l.b {
                    push(format!("layer{i}.bias"), vec![b.len()], b.to_vec());
                }
            }
            Layer::Conv(c) => {
                push(
                    format!("layer{i}.weight"),
                    vec![c.w.nrows(), c.input.0, 3, 3],
                    c.w.iter().copied().collect(),
                );
                if !c.b.is_empty() {
                    push(format!("layer{i}.bias"), vec![c.b.len()], c.b.to_vec());
                }
            }
            Layer::BatchNorm(b) => {
                for (what, t) in bn_tensors(b) {
                    push(format!("layer{i}.{what}"), vec![t.len()], t.to_vec());
                }
            }
            Layer::Pool(_) | Layer::Flatten(_) | Layer::GlobalAvgPool(_) => {}
        }
    }
    v
}

impl Encoder<f32> {
    /// The encoder's weights as a [`WeightsFile`]; `step` and `config` (the run's
    /// `RunConfig` text form) are recorded for information.
    pub fn export_weights(&self, step: usize, config: &str) -> WeightsFile {
        WeightsFile {
            format: WEIGHTS_FORMAT.to_string(),
            version: WEIGHTS_VERSION,
            encoder: self.spec.to_text(),
            input_dim: self.in_dim,
            image_shape: self.image_shape.map(|(c, h, w)| [c, h, w]),
            step,
            config: config.to_string(),
            note: None,
            tensors: tensors_of(self),
        }
    }

    /// Checks that `file` holds weights for exactly this encoder (spec, input size, image
    /// shape, every tensor's name, shape and values), without changing anything.
    pub fn check_weights(&self, file: &WeightsFile) -> Result<(), WeightsError> {
        check_header(
            Some(&serde_json::Value::String(file.format.clone())),
            Some(&serde_json::Value::from(file.version)),
        )?;
        let run = self.spec.to_text();
        let spec = EncoderSpec::parse(&file.encoder).map_err(|e| {
            WeightsError::Malformed(format!(
                "its encoder \"{}\" is not a valid encoder spec ({e})",
                file.encoder
            ))
        })?;
        if spec != self.spec {
            return Err(WeightsError::EncoderMismatch {
                file: spec.to_text(),
                run,
            });
        }
        if file.input_dim != self.in_dim {
            return Err(WeightsError::InputDim {
                file: file.input_dim,
                run: self.in_dim,
            });
        }
        let ours = self.image_shape.map(|(c, h, w)| [c, h, w]);
        if file.image_shape != ours {
            return Err(WeightsError::ImageShape {
                file: input_kind(file.image_shape),
                run: input_kind(ours),
            });
        }
        let expected = tensors_of(self);
        let needed = expected
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut by_name: HashMap<&str, &WeightTensor> = HashMap::new();
        for t in &file.tensors {
            if by_name.insert(t.name.as_str(), t).is_some() {
                return Err(WeightsError::DuplicateTensor {
                    name: t.name.clone(),
                });
            }
        }
        for e in &expected {
            let Some(t) = by_name.get(e.name.as_str()) else {
                return Err(WeightsError::MissingTensor {
                    name: e.name.clone(),
                    needed,
                });
            };
            if t.shape != e.shape {
                return Err(WeightsError::Shape {
                    name: e.name.clone(),
                    expected: shape_text(&e.shape),
                    found: shape_text(&t.shape),
                });
            }
            check_tensor_data(t)?;
        }
        if let Some(extra) = file
            .tensors
            .iter()
            .find(|t| !expected.iter().any(|e| e.name == t.name))
        {
            return Err(WeightsError::UnexpectedTensor {
                name: extra.name.clone(),
                needed,
            });
        }
        Ok(())
    }

    /// Replaces the parameters with those of `file` after [`Encoder::check_weights`]; on
    /// error nothing is changed. Gradient and forward buffers are left as they are (the next
    /// forward and backward passes overwrite them).
    pub fn import_weights(&mut self, file: &WeightsFile) -> Result<(), WeightsError> {
        self.check_weights(file)?;
        let by_name: HashMap<&str, &[f32]> = file
            .tensors
            .iter()
            .map(|t| (t.name.as_str(), t.data.as_slice()))
            .collect();
        let copy = |dst: &mut dyn Iterator<Item = &mut f32>, name: String| {
            if let Some(src) = by_name.get(name.as_str()) {
                for (d, s) in dst.zip(src.iter()) {
                    *d = *s;
                }
            }
        };
        for (i, layer) in self.layers.iter_mut().enumerate() {
            match layer {
                Layer::Linear(l) => {
                    copy(&mut l.w.iter_mut(), format!("layer{i}.weight"));
                    if let Some(b) = &mut l.b {
                        copy(&mut b.iter_mut(), format!("layer{i}.bias"));
                    }
                }
                Layer::Conv(c) => {
                    copy(&mut c.w.iter_mut(), format!("layer{i}.weight"));
                    copy(&mut c.b.iter_mut(), format!("layer{i}.bias"));
                }
                Layer::BatchNorm(b) => {
                    let BatchNorm {
                        gamma,
                        beta,
                        running_mean,
                        running_var,
                        ..
                    } = b;
                    for (what, t) in [
                        ("gamma", gamma),
                        ("beta", beta),
                        ("running_mean", running_mean),
                        ("running_var", running_var),
                    ] {
                        copy(&mut t.iter_mut(), format!("layer{i}.{what}"));
                    }
                }
                Layer::Pool(_) | Layer::Flatten(_) | Layer::GlobalAvgPool(_) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn build(spec: &str, dim: usize, image: Option<(usize, usize, usize)>) -> Encoder<f32> {
        EncoderSpec::parse(spec)
            .unwrap()
            .build(dim, image, &mut Rng::seed_from_u64(7))
            .unwrap()
    }

    #[test]
    fn names_and_shapes_follow_the_parameter_order() {
        let mut cnn = build("cnn:small,out=8", 3 * 8 * 8, Some((3, 8, 8)));
        let f = cnn.export_weights(0, "");
        let layout: Vec<(&str, Vec<usize>)> = f
            .tensors
            .iter()
            .map(|t| (t.name.as_str(), t.shape.clone()))
            .collect();
        assert_eq!(
            layout,
            vec![
                ("layer0.weight", vec![16, 3, 3, 3]),
                ("layer0.bias", vec![16]),
                ("layer2.weight", vec![20, 16, 3, 3]),
                ("layer2.bias", vec![20]),
                ("layer4.weight", vec![20, 20, 3, 3]),
                ("layer4.bias", vec![20]),
                ("layer7.weight", vec![20, 8]),
                ("layer7.bias", vec![8]),
            ]
        );
        // Same order and values as the optimiser sees them.
        let params: Vec<Vec<f32>> = cnn
            .params_and_grads()
            .into_iter()
            .map(|(p, _)| p.to_vec())
            .collect();
        let data: Vec<Vec<f32>> = f.tensors.iter().map(|t| t.data.clone()).collect();
        assert_eq!(params, data);
        assert_eq!(f.image_shape, Some([3, 8, 8]));
        assert_eq!(f.encoder, "cnn:small,out=8");
    }

    #[test]
    fn awkward_floats_round_trip_bit_exactly() {
        let mut enc = build("linear:out=3", 2, None);
        let vals = [0.1f32, -0.0, f32::MIN_POSITIVE, 1e-45, f32::MAX, -f32::MAX];
        if let Layer::Linear(l) = &mut enc.layers[0] {
            for (w, v) in l.w.iter_mut().zip(vals) {
                *w = v;
            }
        }
        let text = enc.export_weights(3, "seed=1").to_json();
        let back = WeightsFile::parse(&text).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.tensors[0].data), bits(&vals));
        assert_eq!(back.step, 3);
        assert_eq!(back.config, "seed=1");
    }

    #[test]
    fn random_bit_patterns_round_trip_bit_exactly() {
        // Finite f32 values of every magnitude, from subnormals to f32::MAX.
        let mut rng = Rng::seed_from_u64(5);
        let vals: Vec<f32> = (0..20_000)
            .map(|_| f32::from_bits((rng.uniform() * f64::from(u32::MAX)) as u32))
            .filter(|v| v.is_finite())
            .collect();
        assert!(vals.len() > 19_000);
        let t = WeightTensor {
            name: "layer0.weight".into(),
            shape: vec![vals.len()],
            data: vals.clone(),
        };
        let back: WeightTensor = serde_json::from_str(&json(&t)).unwrap();
        let bad = vals
            .iter()
            .zip(&back.data)
            .find(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(bad, None);
    }

    #[test]
    fn import_is_all_or_nothing() {
        let src = build("mlp:hidden=4,out=2", 3, None);
        let mut dst: Encoder<f32> = EncoderSpec::parse("mlp:hidden=4,out=2")
            .unwrap()
            .build(3, None, &mut Rng::seed_from_u64(8))
            .unwrap();
        let before = dst.export_weights(0, "");
        let mut bad = src.export_weights(0, "");
        // The last tensor is bad: nothing may be copied, not even the good ones before it.
        bad.tensors[3].data[1] = f32::INFINITY;
        let e = dst.import_weights(&bad).unwrap_err();
        assert!(matches!(e, WeightsError::NonFinite { index: 1, .. }), "{e}");
        assert_eq!(dst.export_weights(0, ""), before);
        dst.import_weights(&src.export_weights(0, "")).unwrap();
        assert_eq!(
            dst.export_weights(0, "").tensors,
            src.export_weights(0, "").tensors
        );
    }
}
