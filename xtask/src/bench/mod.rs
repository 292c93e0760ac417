//! `cargo xtask bench ...`: benchmarks measured side by side with the npm `sunpeak` on the same
//! machine, reported as ratios. Never run as timed tests.

use anyhow::Result;
use clap::Subcommand;

mod build;
pub(crate) mod load;
mod mcp;
mod start;
mod transport;

/// Which benchmark to run.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// `sunpeak build` against `npx sunpeak build` on the template.
    Build(build::Args),
    /// `sunpeak start` against `npx sunpeak start` on the template.
    Start(start::Args),
    /// The transport against a plain hyper hello-world, with the conformance server.
    Transport(transport::Args),
}

/// Runs one benchmark.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Build(args) => build::run(args),
        BenchCommand::Start(args) => start::run(args),
        BenchCommand::Transport(args) => transport::run(args),
    }
}
