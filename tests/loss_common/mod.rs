//! Shared helpers of the loss tests: random batches, a spec list covering the whole catalogue,
//! an independent reference implementation of every loss value, and finite differences.
//!
//! The reference values here are written from the paper's formulas directly (own distances,
//! plain exp/log, no log-domain tricks, no code shared with `src/loss`), so agreement with the
//! library is a real check.

#![allow(dead_code)]

use alphacl::loss::{LOSSES, LossKind, LossSpec};
use alphacl::rng::Rng;
use ndarray::Array2;

/// A 2B × d batch of Gaussian rows with the given scale.
pub fn batch(pairs: usize, dim: usize, seed: u64, scale: f64) -> Array2<f64> {
    let mut rng = Rng::seed_from_u64(seed);
    Array2::from_shape_fn((2 * pairs, dim), |_| scale * rng.normal())
}

/// Every catalogue entry at its defaults, plus variants that exercise each parameter.
pub fn all_specs() -> Vec<LossSpec> {
    let mut v: Vec<LossSpec> = LOSSES.iter().map(|l| LossSpec::defaults(l.kind)).collect();
    for t in [
        "infonce:tau=0.2,eps=0",
        "infonce:tau=1.5,eps=0.3",
        "nt-xent:tau=0.1",
        "triplet:eps=0.5",
        "triplet:eps=0",
        "soft-triplet:tau=0.3,eps=0.4",
        "lifted:eps=0.7",
        "lifted:eps=-3",
        "modified-triplet:c=5",
        "acl-entropy:tau=0.2,eps=0.1",
        "acl-quadratic:tau=0.05",
        "acl-quadratic:tau=2,eps=0.2",
        "acl-direct:tau=0.5,p=2,eps=0",
        "acl-direct:tau=0.3,p=1.5,eps=0.05",
        "acl-direct:tau=2,p=1,eps=0",
        "acl-inverse:tau=0.1,p=3,k=2,eps=0.1",
        "acl-inverse:tau=1,p=1,k=0.5,eps=0",
    ] {
        v.push(LossSpec::parse(t).unwrap_or_else(|e| panic!("{t}: {e}")));
    }
    v
}

/// Whether a spec is an α-CL min player (α detached) rather than a (φ, ψ) row.
pub fn is_min_player(spec: &LossSpec) -> bool {
    matches!(
        spec.kind,
        LossKind::AclEntropy | LossKind::AclQuadratic | LossKind::AclDirect | LossKind::AclInverse
    )
}

/// Whether the loss is piecewise linear in d² (finite differences must not cross a kink).
pub fn is_piecewise(spec: &LossSpec) -> bool {
    matches!(spec.kind, LossKind::Triplet | LossKind::Lifted)
}

/// d²_ij = ½‖z_i − z_j‖² on (optionally) L2-normalised rows, computed directly.
pub fn ref_d2(y: &Array2<f64>, normalize: bool) -> Array2<f64> {
    let n = y.nrows();
    let mut z = y.clone();
    if normalize {
        for mut r in z.rows_mut() {
            let nrm = r.iter().map(|x| x * x).sum::<f64>().sqrt();
            r.mapv_inplace(|x| x / nrm);
        }
    }
    Array2::from_shape_fn((n, n), |(i, j)| {
        0.5 * z
            .row(i)
            .iter()
            .zip(z.row(j))
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
    })
}

/// A scalar function of one variable.
pub type Scalar = Box<dyn Fn(f64) -> f64>;

/// φ and ψ of a family row, written from the paper's table.
pub fn phi_psi(spec: &LossSpec) -> (Scalar, Scalar) {
    // NaN for a parameter this loss does not have (the closures below never read it).
    let tau = spec.get("tau").unwrap_or(f64::NAN);
    let eps = spec.get("eps").unwrap_or(f64::NAN);
    let c = spec.get("c").unwrap_or(f64::NAN);
    match spec.kind {
        LossKind::InfoNce => (
            Box::new(move |x| tau * (eps + x).ln()),
            Box::new(move |u| (u / tau).exp()),
        ),
        LossKind::NtXent => (
            Box::new(|x: f64| (1.0 + x).ln()),
            Box::new(move |u| (u / tau).exp()),
        ),
        LossKind::Mine => (Box::new(|x: f64| x.ln()), Box::new(|u: f64| u.exp())),
        LossKind::Triplet => (Box::new(|x| x), Box::new(move |u: f64| (u + eps).max(0.0))),
        LossKind::SoftTriplet => (
            Box::new(move |x: f64| tau * (1.0 + x).ln()),
            Box::new(move |u| (u / tau + eps).exp()),
        ),
        LossKind::Tuplet => (
            Box::new(|x: f64| (1.0 + x).ln()),
            Box::new(|u: f64| u.exp()),
        ),
        LossKind::Lifted => (
            Box::new(|x: f64| x.ln().max(0.0).powi(2)),
            Box::new(move |u: f64| (u + eps).exp()),
        ),
        LossKind::ModifiedTriplet => (
            Box::new(|x| x),
            Box::new(move |u: f64| 1.0 / (1.0 + (-c * u).exp())),
        ),
        LossKind::TripletContrastive => (Box::new(|x| x), Box::new(|u| u)),
        _ => panic!("{} is not a family row", spec.to_text()),
    }
}

/// The family loss (1/2B) Σ_i φ(Σ_{j∈N(i)} ψ(d²_i − d²_ij)), computed directly.
pub fn ref_family_value(spec: &LossSpec, y: &Array2<f64>, normalize: bool) -> f64 {
    let (phi, psi) = phi_psi(spec);
    let d2 = ref_d2(y, normalize);
    let n = y.nrows();
    let b = n / 2;
    let mut total = 0.0;
    for i in 0..n {
        let p = (i + b) % n;
        let xi: f64 = (0..n)
            .filter(|&j| j != i && j != p)
            .map(|j| psi(d2[[i, p]] - d2[[i, j]]))
            .sum();
        total += phi(xi);
    }
    total / n as f64
}

/// The α-CL loss with α held fixed: (1/2B) Σ_i Σ_{j∈N(i)} α_ij (d²_i − d²_ij).
pub fn ref_fixed_alpha_value(alpha: &Array2<f64>, y: &Array2<f64>, normalize: bool) -> f64 {
    let d2 = ref_d2(y, normalize);
    let n = y.nrows();
    let b = n / 2;
    let mut total = 0.0;
    for i in 0..n {
        let p = (i + b) % n;
        for j in 0..n {
            if j != i && j != p {
                total += alpha[[i, j]] * (d2[[i, p]] - d2[[i, j]]);
            }
        }
    }
    total / n as f64
}

/// Finite-difference gradient of `f` at `y`. `h` is the step; `five_point` selects the
/// fourth-order stencil (−f(+2h) + 8f(+h) − 8f(−h) + f(−2h))/12h instead of the central one.
pub fn fd_grad(
    y: &Array2<f64>,
    h: f64,
    five_point: bool,
    f: impl Fn(&Array2<f64>) -> f64,
) -> Array2<f64> {
    let mut g = Array2::zeros(y.raw_dim());
    let mut yy = y.clone();
    for idx in ndarray::indices(y.raw_dim()) {
        let x0 = y[idx];
        let mut at = |dx: f64| {
            yy[idx] = x0 + dx;
            let v = f(&yy);
            yy[idx] = x0;
            v
        };
        g[idx] = if five_point {
            (-at(2.0 * h) + 8.0 * at(h) - 8.0 * at(-h) + at(-2.0 * h)) / (12.0 * h)
        } else {
            (at(h) - at(-h)) / (2.0 * h)
        };
    }
    g
}

/// max |a − b| / max |a| (or the plain max difference when a is ~0).
pub fn rel_err(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    let scale = a.iter().map(|x| x.abs()).fold(0.0, f64::max);
    if scale < 1e-9 { diff } else { diff / scale }
}
