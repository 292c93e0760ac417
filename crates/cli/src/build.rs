//! `sunpeak build`.

use std::process::ExitCode;

/// Flags of `sunpeak build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Print only errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `sunpeak build` in the current directory.
pub fn run(_args: BuildArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("sunpeak build is not implemented yet")
}
