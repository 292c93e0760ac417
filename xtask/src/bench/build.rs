//! `cargo xtask bench build`.

use anyhow::Result;

/// Flags of `cargo xtask bench build`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the benchmark.
pub fn run(_args: Args) -> Result<()> {
    anyhow::bail!("bench build: not written yet")
}
