//! Analysis of representations: projections, downstream probes, collapse metrics.

pub mod pca;
pub mod probe;
