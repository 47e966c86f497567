//! `alphacl theory` (being built; see the issue tracker).

/// Arguments of `alphacl theory`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'alphacl theory' is not available in this build yet")
}
