//! Analysis of representations: projections, downstream probes, collapse metrics, the
//! contrastive covariance and the Theorem 1 readout.

pub mod covariance;
pub mod linalg;
pub mod pca;
pub mod probe;
pub mod spectrum;
pub mod theorem1;

pub use covariance::{ContrastiveSpectrum, contrastive_covariance};
pub use linalg::{AnalysisError, SymEigen, singular_values, sym_eigen};
pub use spectrum::{CollapseMetrics, CollapseTracker, effective_rank, rankme};
pub use theorem1::theorem1_residual;
