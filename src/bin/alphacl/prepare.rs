//! `alphacl prepare` (being built; see the issue tracker).

/// Arguments of `alphacl prepare`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'alphacl prepare' is not available in this build yet")
}
