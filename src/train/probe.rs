//! The fixed probe batch on which collapse is measured (the lab's Collapse view, the metrics
//! export and `alphacl sweep` all use it): two augmented views of fixed samples, embedded like
//! the training embeddings.

use ndarray::Array2;

use crate::analysis::spectrum::CollapseMetrics;
use crate::nn::Stage;
use crate::rng::Rng;
use crate::train::Trainer;

/// Number of held-out samples (pairs) in the collapse probe batch.
pub const PROBE_PAIRS: usize = 128;

/// Two augmented views of `pairs` fixed samples (rows k and k + B are partners) from the
/// training split (`train`) or the held-out split, drawn from a stream derived from the run's
/// seed and `stream`, so repeated calls give the same inputs.
pub fn fixed_pairs(t: &Trainer, pairs: usize, stream: &str, train: bool) -> Array2<f32> {
    let src = if train {
        &t.data.x_train
    } else {
        &t.data.x_test
    };
    let b = pairs.min(src.nrows()).max(1);
    let mut rng = Rng::derive(t.config.seed, stream);
    let idx = rng.sample_indices(src.nrows(), b);
    let mut x = Array2::<f32>::zeros((2 * b, src.ncols()));
    for (k, &i) in idx.iter().enumerate() {
        let row = src.row(i);
        for r in [k, k + b] {
            t.config
                .augment
                .apply_image(row, t.data.image_shape, x.row_mut(r), &mut rng);
        }
    }
    x
}

/// Embeds rows with the trainer's encoder at `stage` (the representation h before any head,
/// or the output z), unit-normalising them when the run does.
pub fn embed_like_training(t: &Trainer, x: &Array2<f32>, stage: Stage) -> Array2<f32> {
    let mut z = t.encoder.embed_stage(x, stage);
    if t.config.normalize {
        crate::train::trainer::normalize_rows_in_place(&mut z);
    }
    z
}

/// [`CollapseMetrics`] of the representation on the Collapse view's probe batch
/// ([`PROBE_PAIRS`] held-out pairs from the `collapse-probe` stream); `None` when they cannot
/// be computed (e.g. non-finite embeddings).
pub fn probe_collapse(t: &Trainer) -> Option<CollapseMetrics> {
    let x = fixed_pairs(t, PROBE_PAIRS, "collapse-probe", false);
    CollapseMetrics::compute(&embed_like_training(t, &x, Stage::Representation)).ok()
}
