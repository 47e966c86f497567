//! Theorem 1, live: how far the shared max-player gradient is from the true ∂L/∂y.
//!
//! The engine never differentiates a loss directly: every loss returns (α, β) and the gradient
//! is ∂L/∂z = −(1/2B)·∂E_α/∂z with α frozen ([`crate::loss::energy_grad`]). Theorem 1 says this
//! equals ∂L/∂z for every (φ, ψ) row; for the α-CL min players the loss is defined with α
//! detached, so the reference is the derivative of −E_α/2B at frozen α.
//!
//! The readout estimates ‖∇L − g‖/‖g‖ (g = shared max-player gradient) from K random unit
//! directions u_k in f64: r_k = D_h L(y)[u_k] − ⟨g, u_k⟩ with the fourth-order central difference
//! D_h f = (8(f(h) − f(−h)) − (f(2h) − f(−2h)))/(12h), h = 1e-3·rms(y), and since
//! E⟨r, u⟩² = ‖r‖²/D for a uniform unit u in R^D, ‖r‖ ≈ √(D · mean_k r_k²).
//! Losses with kinks (the triplet hinge) can show a larger value when a difference step
//! crosses a kink; that is a limitation of finite differences, not of the identity.

use ndarray::{Array2, ArrayView2};

use crate::loss::{self, Geometry, LossError, LossSpec};
use crate::rng::Rng;

/// The Theorem 1 readout for one batch.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Theorem1Readout {
    /// Estimated ‖∇L_fd − g‖ / ‖g‖ with g computed in f64 (≈ 1e-9 or below when the identity
    /// holds).
    pub relative_residual: f64,
    /// The same with g computed in f32, as the trainer does (≈ 1e-7: f32 rounding).
    pub relative_residual_f32: f64,
    /// ‖g‖_F of the shared max-player gradient ∂L/∂y.
    pub grad_norm: f64,
    /// Largest |r_k| over the directions.
    pub max_directional_error: f64,
    /// Number of directions used.
    pub directions: usize,
}

/// Loss value at `y`, with α recomputed (family rows) or frozen to `frozen` (min players).
fn loss_at(
    spec: &LossSpec,
    y: ArrayView2<f64>,
    normalize: bool,
    frozen: Option<&Array2<f64>>,
) -> Result<f64, LossError> {
    let geom = Geometry::new(y, normalize)?;
    Ok(match frozen {
        None => loss::alpha_and_loss(spec, &geom).0,
        Some(alpha) => -loss::energy(&geom, alpha.view()) / geom.rows() as f64,
    })
}

/// Estimates ‖∇L − shared max-player gradient‖/‖∇L‖ for `spec` on the batch `z` (2B raw rows,
/// rows k and k+B partners) with `directions` random directions (1 to 64), in f64.
pub fn theorem1_residual(
    spec: &LossSpec,
    z: &Array2<f32>,
    normalize: bool,
    directions: usize,
    seed: u64,
) -> Result<Theorem1Readout, LossError> {
    if directions == 0 || directions > 64 {
        return Err(LossError::Input(format!(
            "the Theorem 1 readout uses 1 to 64 random directions, got {directions}"
        )));
    }
    let y = z.mapv(f64::from);
    let out = loss::evaluate::<f64>(spec, y.view(), normalize)?;
    let frozen = loss::family_row(spec).is_none().then(|| out.alpha.clone());
    let g = &out.grad;
    let g32 = loss::evaluate::<f32>(spec, z.view(), normalize)?
        .grad
        .mapv(f64::from);
    let mut sum_sq32 = 0.0;
    let dim = y.len() as f64;
    let rms = (y.iter().map(|v| v * v).sum::<f64>() / dim).sqrt();
    let h = 1e-3 * rms.max(1e-3);
    let mut rng = Rng::derive(seed, "theorem1");
    let mut sum_sq = 0.0;
    let mut max_err = 0.0f64;
    for _ in 0..directions {
        let mut u = Array2::from_shape_fn(y.dim(), |_| rng.normal());
        let nu = u.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        u.mapv_inplace(|v| v / nu);
        let at = |t: f64| loss_at(spec, (&y + &(&u * t)).view(), normalize, frozen.as_ref());
        let d1 = at(h)? - at(-h)?;
        let d2 = at(2.0 * h)? - at(-2.0 * h)?;
        let fd = (8.0 * d1 - d2) / (12.0 * h);
        let r = fd - (g * &u).sum();
        sum_sq += r * r;
        let r32 = fd - (&g32 * &u).sum();
        sum_sq32 += r32 * r32;
        max_err = max_err.max(r.abs());
    }
    let resid = (dim * sum_sq / directions as f64).sqrt();
    let resid32 = (dim * sum_sq32 / directions as f64).sqrt();
    let gn = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    Ok(Theorem1Readout {
        relative_residual: resid / gn.max(1e-300),
        relative_residual_f32: resid32 / gn.max(1e-300),
        grad_norm: gn,
        max_directional_error: max_err,
        directions,
    })
}
