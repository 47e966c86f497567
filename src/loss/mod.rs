//! The loss engine: every loss of the paper reduced to pairwise weights α, and one gradient.
//!
//! Pipeline for a batch of 2B raw embeddings y (rows k and k+B are partners):
//! 1. [`geometry::Geometry`]: z = y/‖y‖ (switchable), d²_ij = ½‖z_i − z_j‖², d²_i = d²_{i,p(i)}.
//! 2. α and the loss value from the chosen [`LossSpec`]: a (φ, ψ) row of the family
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
pub use spec::{LOSSES, LossGroup, LossInfo, LossKind, LossSpec, ParamInfo};

use crate::real::Real;
pub use family::{Phi, Psi};
pub use min_player::Rule;

/// Errors of the loss engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LossError {
    /// The batch is malformed.
    #[error("bad input: {0}")]
    Input(String),
    /// A NaN or infinity appeared.
    #[error("non-finite value in {0}")]
    NonFinite(String),
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

/// The (φ, ψ) row of a family loss, or `None` for α-CL min players.
pub fn family_row(spec: &LossSpec) -> Option<(Phi, Psi)> {
    let v = |k: &str| spec.get(k);
    Some(match spec.kind {
        LossKind::NtXent => (
            Phi::Log { s: 1.0, eps: 1.0 },
            Psi::Exp {
                a: 1.0 / v("tau"),
                b: 0.0,
            },
        ),
        LossKind::InfoNce => (
            Phi::Log {
                s: v("tau"),
                eps: v("eps"),
            },
            Psi::Exp {
                a: 1.0 / v("tau"),
                b: 0.0,
            },
        ),
        LossKind::Mine => (Phi::Log { s: 1.0, eps: 0.0 }, Psi::Exp { a: 1.0, b: 0.0 }),
        LossKind::Triplet => (Phi::Identity, Psi::Hinge { eps: v("eps") }),
        LossKind::SoftTriplet => (
            Phi::Log {
                s: v("tau"),
                eps: 1.0,
            },
            Psi::Exp {
                a: 1.0 / v("tau"),
                b: v("eps"),
            },
        ),
        LossKind::Tuplet => (Phi::Log { s: 1.0, eps: 1.0 }, Psi::Exp { a: 1.0, b: 0.0 }),
        LossKind::Lifted => (
            Phi::LogSqPlus,
            Psi::Exp {
                a: 1.0,
                b: v("eps"),
            },
        ),
        LossKind::ModifiedTriplet => (Phi::Identity, Psi::Sigmoid { c: v("c") }),
        LossKind::TripletContrastive => (Phi::Identity, Psi::Identity),
        LossKind::AclEntropy
        | LossKind::AclQuadratic
        | LossKind::AclDirect
        | LossKind::AclInverse => {
            return None;
        }
    })
}

/// Loss value and α of `spec` on an existing geometry (no gradient).
///
/// Family rows: L = (1/2B) Σ_i φ(ξ_i) and the Theorem-1 α. α-CL rows: α from the min player on
/// the detached distances and L = (1/2B) Σ_i Σ_j α_ij (d²_i − d²_ij) = −E_α/2B.
pub fn alpha_and_loss<F: Real>(spec: &LossSpec, geom: &Geometry<F>) -> (F, Array2<F>) {
    match family_row(spec) {
        Some((phi, psi)) => family::family_alpha(geom, phi, psi),
        None => min_player::alpha_and_loss(spec, geom),
    }
}

/// Checks that every parameter of `spec` is inside its documented range (the fields of
/// [`LossSpec`] are public, so a spec built by hand may hold anything).
pub fn validate(spec: &LossSpec) -> Result<(), LossError> {
    let info = spec.info();
    if spec.values.len() != info.params.len() {
        return Err(LossError::Input(format!(
            "'{}' takes {} parameter(s), the spec holds {}",
            info.name,
            info.params.len(),
            spec.values.len()
        )));
    }
    for (p, &v) in info.params.iter().zip(&spec.values) {
        if !p.range.check_value(v) {
            return Err(LossError::Input(format!(
                "parameter '{}' of '{}' must be {}, got {v}",
                p.key,
                info.name,
                p.range.describe()
            )));
        }
    }
    Ok(())
}

/// Evaluates a loss on 2B raw rows: value, α, β and ∂L/∂y through the shared max-player
/// gradient.
pub fn evaluate<F: Real>(
    spec: &LossSpec,
    raw: ArrayView2<F>,
    normalize: bool,
) -> Result<LossOutput<F>, LossError> {
    validate(spec)?;
    let geom = Geometry::new(raw, normalize)?;
    let out = evaluate_geometry(spec, &geom);
    geom.recycle();
    out
}

/// As [`evaluate`], on a precomputed geometry.
pub fn evaluate_geometry<F: Real>(
    spec: &LossSpec,
    geom: &Geometry<F>,
) -> Result<LossOutput<F>, LossError> {
    validate(spec)?;
    let (loss, alpha) = alpha_and_loss(spec, geom);
    if !loss.is_finite() {
        return Err(LossError::NonFinite(format!(
            "the {} loss value",
            spec.info().name
        )));
    }
    let beta = energy::beta_from_alpha(alpha.view());
    // α ≥ 0, so a NaN or infinite α_ij makes its row sum β_i non-finite: checking β suffices.
    if beta.iter().any(|b| !b.is_finite()) {
        return Err(LossError::NonFinite(format!("α of {}", spec.info().name)));
    }
    // ∂L/∂z = −(1/2B)·∂E_α/∂z (Theorem 1 / the detached-α convention), then through z = y/‖y‖.
    let mut grad = energy_grad(alpha.view(), beta.view(), geom.z.view());
    let scale = -F::one() / F::n(geom.rows());
    grad.mapv_inplace(|g| g * scale);
    geom.backward_to_raw_inplace(&mut grad);
    if grad.iter().any(|g| !g.is_finite()) {
        return Err(LossError::NonFinite(format!(
            "the gradient of {}",
            spec.info().name
        )));
    }
    Ok(LossOutput {
        loss,
        alpha,
        beta,
        grad,
    })
}
