//! # α-CL Lab — the maths core
//!
//! A plain library (ndarray; no GUI, no browser) implementing Yuandong Tian, "Understanding
//! Deep Contrastive Learning via Coordinate-wise Optimization" (NeurIPS 2022,
//! arXiv:2201.12680). The web app (`--features app`), the `alphacl` CLI, the tests and the
//! benchmarks all use it.
//!
//! The paper's structure is the code's structure: every contrastive loss produces pairwise
//! weights α (batch × batch) and β, and one max-player gradient ([`loss::energy_grad`]) turns
//! (α, β, z) into ∂L/∂z (Theorem 1: ∂L/∂θ = −∂E_α/∂θ with α held fixed).
//!
//! Modules:
//! - [`loss`]: geometry, the L_{φ,ψ} family, α-CL min players, the energy and its gradient,
//!   [`loss::LossSpec`] and its text form.
//! - [`nn`]: layers with explicit backward passes, encoders, optimisers.
//! - [`data`]: toy data sets, augmentation.
//! - [`analysis`]: PCA, kNN probe.
//! - [`train`]: [`train::RunConfig`], [`train::Trainer`], [`train::History`].
//! - [`engine`]: a run behind a message boundary ([`engine::RunEngine`], its commands and
//!   events, and the page's [`engine::RunMirror`]); one per Web Worker in the browser.
//! - [`spec`]: the shared `name:key=value` text form; [`rng`]: the portable seeded RNG.

pub mod analysis;
pub mod data;
pub mod engine;
pub mod figures;
pub mod loss;
pub mod nn;
pub mod real;
pub mod rng;
pub mod spec;
pub mod theory;
pub mod train;

#[cfg(feature = "app")]
pub mod app;

pub use real::Real;
