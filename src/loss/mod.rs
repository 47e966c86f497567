//! The loss engine: every loss of the paper reduced to pairwise weights α, and one gradient.
//!
//! Pipeline for a batch of 2B raw embeddings y (rows k and k+B are partners):
//! 1. [`geometry::Geometry`]: z = y/‖y‖ (switchable), d²_ij = ½‖z_i − z_j‖², d²_i = d²_{i,p(i)}.
//! 2. α and the loss value from the chosen loss, checked once into a [`ValidLoss`] (typed
//!    parameters, [`LossSpec::check`]): a (φ, ψ) row of the family
//!    ([`family`], α from Theorem 1) or an α-CL min player ([`min_player`], α from detached
//!    distances).
//! 3. β_i = Σ_j α_ij and the **shared** max-player gradient [`energy::energy_grad`]:
//!    ∂L/∂z = −(1/2B)·∂E_α/∂z, then back through the normalisation.
//!
//! Losses are averaged over the 2B anchors: L = (1/2B) Σ_i φ(ξ_i) for the family and
//! L = (1/2B) Σ_i Σ_j α_ij (d²_i − d²_ij) = −E_α/2B for the α-CL rows.
//!
//! The same generic code serves the f32 training path and the f64 reference calculator. Cost
//! per call: two GEMM-sized products (the Gram matrix, upper block triangle only, and M·Z in
//! the max player) plus O((2B)²) row work; 2B × 2B temporaries come from a small per-thread
//! buffer pool ([`Geometry::recycle`]), so a training step does not fault in fresh memory.
//! [`bench::loss_bench`] times it.

pub mod bench;
pub mod energy;
pub mod family;
pub mod geometry;
mod kernels;
pub mod min_player;
pub mod spec;

use ndarray::{Array1, Array2, ArrayView2};

pub use energy::{energy, energy_grad};
pub use geometry::Geometry;
pub use spec::{
    LOSSES, LossForm, LossGroup, LossInfo, LossKind, LossParamError, LossParams, LossSpec,
    ParamInfo, ValidLoss,
};

use crate::real::Real;
pub use family::{Phi, Psi};
pub use min_player::Rule;

/// Errors of the loss engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LossError {
    /// The batch is malformed (shape, or a row that cannot be normalised).
    #[error("bad input: {0}")]
    Input(String),
    /// A hand-built spec whose parameters fail [`LossSpec::check`].
    #[error("bad input: {0}")]
    Params(#[from] LossParamError),
    /// A NaN or infinity appeared.
    #[error("non-finite value in {0}")]
    NonFinite(NonFinite),
}

/// Which quantity of a loss evaluation was not finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NonFinite {
    /// The input rows (the encoder's output in training).
    #[error("input embeddings")]
    Embeddings,
    /// The pairwise distances overflowed the float type.
    #[error("pairwise distances (the embeddings are too large for this float type)")]
    Distances,
    /// The loss value of the named loss.
    #[error("the {0} loss value")]
    LossValue(&'static str),
    /// α of the named loss.
    #[error("α of {0}")]
    Alpha(&'static str),
    /// The gradient of the named loss.
    #[error("the gradient of {0}")]
    Gradient(&'static str),
}

/// Everything one loss evaluation produces.
#[derive(Debug, Clone)]
pub struct LossOutput<F: Real> {
    /// The loss value (mean over the 2B anchors).
    pub loss: F,
    /// Pairwise importance α (2B × 2B; zero on self and partner).
    pub alpha: Array2<F>,
    /// β_i = Σ_j α_ij, the weight of anchor i's positive pair.
    pub beta: Array1<F>,
    /// ∂L/∂y with respect to the raw input rows.
    pub grad: Array2<F>,
}

/// The (φ, ψ) row of a family loss, or `None` for α-CL min players and for a spec that fails
/// its check.
pub fn family_row(spec: &LossSpec) -> Option<(Phi, Psi)> {
    spec.check().ok()?.params().family_row()
}

/// Loss value and α of `spec` on an existing geometry (no gradient); a spec that fails its
/// check gives a NaN loss and α = 0 (use [`ValidLoss::alpha_and_loss`] to know why).
pub fn alpha_and_loss<F: Real>(spec: &LossSpec, geom: &Geometry<F>) -> (F, Array2<F>) {
    match spec.check() {
        Ok(valid) => valid.alpha_and_loss(geom),
        Err(_) => (F::nan(), Array2::zeros((geom.rows(), geom.rows()))),
    }
}

/// Evaluates a loss on 2B raw rows: value, α, β and ∂L/∂y through the shared max-player
/// gradient. Checks the spec once; code that evaluates the same loss every step checks it
/// once beforehand and calls [`ValidLoss::evaluate`].
pub fn evaluate<F: Real>(
    spec: &LossSpec,
    raw: ArrayView2<F>,
    normalize: bool,
) -> Result<LossOutput<F>, LossError> {
    spec.check()?.evaluate(raw, normalize)
}

/// As [`evaluate`], on a precomputed geometry.
pub fn evaluate_geometry<F: Real>(
    spec: &LossSpec,
    geom: &Geometry<F>,
) -> Result<LossOutput<F>, LossError> {
    spec.check()?.evaluate_geometry(geom)
}

impl ValidLoss {
    /// Loss value and α on an existing geometry (no gradient).
    ///
    /// Family rows: L = (1/2B) Σ_i φ(ξ_i) and the Theorem-1 α. α-CL rows: α from the min
    /// player on the detached distances and L = (1/2B) Σ_i Σ_j α_ij (d²_i − d²_ij) = −E_α/2B.
    pub fn alpha_and_loss<F: Real>(&self, geom: &Geometry<F>) -> (F, Array2<F>) {
        match self.params().form() {
            LossForm::Family { phi, psi } => family::family_alpha(geom, phi, psi),
            LossForm::MinPlayer { rule, eps } => min_player::alpha_and_loss(rule, eps, geom),
        }
    }

    /// Value, α, β and ∂L/∂y on 2B raw rows (see [`evaluate`]).
    pub fn evaluate<F: Real>(
        &self,
        raw: ArrayView2<F>,
        normalize: bool,
    ) -> Result<LossOutput<F>, LossError> {
        let geom = Geometry::new(raw, normalize)?;
        let out = self.evaluate_geometry(&geom);
        geom.recycle();
        out
    }

    /// As [`ValidLoss::evaluate`], on a precomputed geometry.
    pub fn evaluate_geometry<F: Real>(
        &self,
        geom: &Geometry<F>,
    ) -> Result<LossOutput<F>, LossError> {
        let name = self.name();
        let (loss, alpha) = self.alpha_and_loss(geom);
        if !loss.is_finite() {
            return Err(LossError::NonFinite(NonFinite::LossValue(name)));
        }
        let beta = energy::beta_from_alpha(alpha.view());
        // α ≥ 0, so a NaN or infinite α_ij makes its row sum β_i non-finite: checking β suffices.
        if beta.iter().any(|b| !b.is_finite()) {
            return Err(LossError::NonFinite(NonFinite::Alpha(name)));
        }
        // ∂L/∂z = −(1/2B)·∂E_α/∂z (Theorem 1 / the detached-α convention), then through z = y/‖y‖.
        let mut grad = energy_grad(alpha.view(), beta.view(), geom.z.view());
        let scale = -F::one() / F::n(geom.rows());
        grad.mapv_inplace(|g| g * scale);
        geom.backward_to_raw_inplace(&mut grad);
        if grad.iter().any(|g| !g.is_finite()) {
            return Err(LossError::NonFinite(NonFinite::Gradient(name)));
        }
        Ok(LossOutput {
            loss,
            alpha,
            beta,
            grad,
        })
    }
}
