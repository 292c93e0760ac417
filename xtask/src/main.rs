//! `cargo xtask`: project automation, in the style of rust-analyzer's xtask.
//!
//! - `cargo xtask demo`: build the binary, install the example app's npm dependencies, build the
//!   example with our `sunpeak build` and serve it with our `sunpeak start`.
//! - `cargo xtask test`: everything CI runs.
//! - `cargo xtask bench build|start|transport`: side-by-side benchmarks.
//! - `cargo xtask dist`: release archives of the binary with checksums, `--check` runs one.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod bench;
mod clients;
mod conformance;
mod demo;
mod dist;
mod paths;
mod proc;
mod report;
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
    /// Release archives of the sunpeak binary with SHA256SUMS (see docs/release.md).
    Dist(dist::DistArgs),
}

fn main() -> ExitCode {
    let result: Result<()> = match Cli::parse().command {
        Command::Demo(args) => demo::run(args),
        Command::Test(args) => test::run(args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Dist(args) => dist::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The chain on one line per cause, without a backtrace: the messages name the step.
            eprintln!("\nerror: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
