//! `cargo xtask`: project automation, in the style of rust-analyzer's xtask.
//!
//! - `cargo xtask demo`: build the binary, install the example app's npm dependencies, build the
//!   example with our `sunpeak build` and serve it with our `sunpeak start`.
//! - `cargo xtask test`: everything CI runs.
//! - `cargo xtask bench build|start|transport`: side-by-side benchmarks.
//! - `cargo xtask dist`: a release archive with checksums.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod bench;
mod demo;
mod test;

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "sunpeak-rs project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build and serve the example app with our binary.
    Demo(demo::DemoArgs),
    /// Run every test (what CI runs).
    Test(test::TestArgs),
    /// Side-by-side benchmarks against the npm sunpeak.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Demo(args) => demo::run(args),
        Command::Test(args) => test::run(args),
        Command::Bench(cmd) => bench::run(cmd),
    }
}
