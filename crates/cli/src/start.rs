//! `sunpeak start`.

use std::process::ExitCode;

/// Flags of `sunpeak start`.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Listen port.
    #[arg(long, short, env = "PORT", default_value_t = 8000)]
    pub port: u16,
}

/// Runs `sunpeak start` in the current directory.
pub fn run(_args: StartArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("sunpeak start is not implemented yet")
}
