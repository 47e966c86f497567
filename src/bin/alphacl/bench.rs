//! `alphacl bench` (being built; see the issue tracker).

/// Arguments of `alphacl bench`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'alphacl bench' is not available in this build yet")
}
