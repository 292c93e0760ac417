//! `cargo xtask bench start`.

use anyhow::Result;

/// Flags of `cargo xtask bench start`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the benchmark.
pub fn run(_args: Args) -> Result<()> {
    anyhow::bail!("bench start: not written yet")
}
