//! `alphacl loss` (being built; see the issue tracker).

/// Arguments of `alphacl loss`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'alphacl loss' is not available in this build yet")
}
