//! `cargo xtask bench transport`.

use anyhow::Result;

/// Flags of `cargo xtask bench transport`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the benchmark.
pub fn run(_args: Args) -> Result<()> {
    anyhow::bail!("bench transport: not written yet")
}
