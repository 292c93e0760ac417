//! `cargo xtask test`.

use anyhow::Result;

/// Flags of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {}

/// Runs `cargo xtask test`.
pub fn run(_args: TestArgs) -> Result<()> {
    anyhow::bail!("xtask test: not written yet")
}
