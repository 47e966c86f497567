//! `alphacl` — the native command-line face of α-CL Lab.
//!
//! Each subcommand lives in its own module with its `Args` and `run`.

#[cfg(not(target_arch = "wasm32"))]
mod bench;
#[cfg(not(target_arch = "wasm32"))]
mod loss;
#[cfg(not(target_arch = "wasm32"))]
mod outdir;
#[cfg(not(target_arch = "wasm32"))]
mod prepare;
#[cfg(not(target_arch = "wasm32"))]
mod sweep;
#[cfg(not(target_arch = "wasm32"))]
mod theory;
#[cfg(not(target_arch = "wasm32"))]
mod train;

/// α-CL Lab: contrastive learning as coordinate-wise optimisation (Tian 2022).
#[cfg(not(target_arch = "wasm32"))]
#[derive(clap::Parser)]
#[command(name = "alphacl", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(clap::Subcommand)]
enum Cmd {
    /// Train a run headlessly; writes metrics.csv and run.json.
    Train(train::Args),
    /// A grid of runs × seeds in parallel, resumable; writes results.csv and results.md.
    Sweep(sweep::Args),
    /// Reference calculator: loss, gradient, α and β of a batch of embeddings.
    Loss(loss::Args),
    /// Benchmarks (the standard workload and the loss engine).
    Bench(bench::Args),
    /// The paper's max-player experiments (deep linear, 2-layer ReLU).
    Theory(theory::Args),
    /// Prepare downsampled CIFAR-10 for the app.
    PrepareCifar(prepare::Args),
}

/// The memory budget of this process: `ALPHACL_MEMORY_LIMIT` (e.g. `2GiB`) when set, otherwise
/// the native budget (8 GiB or ¾ of the RAM, whichever is smaller).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn memory_budget() -> anyhow::Result<alphacl::train::Budget> {
    use alphacl::train::Budget;
    match std::env::var("ALPHACL_MEMORY_LIMIT") {
        Ok(v) => alphacl::train::budget::parse_bytes(&v)
            .map(Budget::Bytes)
            .map_err(|e| anyhow::anyhow!("ALPHACL_MEMORY_LIMIT: {e}")),
        Err(_) => Ok(Budget::Native),
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> anyhow::Result<()> {
    use clap::Parser as _;
    match Cli::parse().cmd {
        Cmd::Train(a) => train::run(a),
        Cmd::Sweep(a) => sweep::run(a),
        Cmd::Loss(a) => loss::run(a),
        Cmd::Bench(a) => bench::run(a),
        Cmd::Theory(a) => theory::run(a),
        Cmd::PrepareCifar(a) => prepare::run(a),
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
