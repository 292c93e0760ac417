//! `cargo xtask demo`.

use anyhow::Result;

/// Flags of `cargo xtask demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

/// Runs `cargo xtask demo`.
pub fn run(_args: DemoArgs) -> Result<()> {
    anyhow::bail!("xtask demo: not written yet")
}
