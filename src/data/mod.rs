//! Data sets (generated toy sets; CIFAR-10 later) and two-view augmentation.

pub mod augment;
pub mod toy;

pub use augment::AugmentSpec;
pub use toy::DataSpec;

use ndarray::Array2;

/// A labelled data set with a train and a held-out split; one sample per row.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Short description for the UI.
    pub name: String,
    /// Training inputs (n × dim).
    pub x_train: Array2<f32>,
    /// Training labels (used only for colouring and evaluation, never for the loss).
    pub y_train: Vec<usize>,
    /// Held-out inputs.
    pub x_test: Array2<f32>,
    /// Held-out labels.
    pub y_test: Vec<usize>,
    /// Number of classes.
    pub num_classes: usize,
    /// Class names.
    pub class_names: Vec<String>,
    /// (channels, height, width) when samples are images.
    pub image_shape: Option<(usize, usize, usize)>,
}

impl Dataset {
    /// Input dimension.
    pub fn dim(&self) -> usize {
        self.x_train.ncols()
    }
}
