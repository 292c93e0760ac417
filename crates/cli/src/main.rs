//! The `sunpeak` binary: `sunpeak build` and `sunpeak start`.
//!
//! Thin by design: flags, logging set-up and wiring. The work is done by the library crates
//! (`app-bundler` for `build`, `mcp-apps` and `mcp-transport` for `start`). Library errors are
//! turned into messages a user can act on here, printed as `Error: <message>` with exit code 1,
//! as the npm `sunpeak` CLI does.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod build;
mod logging;
mod start;

/// Build and serve MCP Apps.
#[derive(Debug, Parser)]
#[command(name = "sunpeak", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the project in the current directory into dist/.
    Build(build::BuildArgs),
    /// Serve a built dist/ as an MCP server over Streamable HTTP.
    Start(Box<start::StartArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Start(args) => start::run(*args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("Error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
