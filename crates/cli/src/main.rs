//! The `sunpeak` binary: `sunpeak build` and `sunpeak start`.
//!
//! Thin by design: flags, logging set-up and wiring. The work is done by the library crates
//! (`app-bundler` for `build`, `mcp-apps` and `mcp-transport` for `start`). Library errors are
//! turned into messages a user can act on here, printed as `Error: <message>` with exit code 1,
//! as the npm `sunpeak` CLI does.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod build;
mod log_writer;
mod logging;
mod start;

/// Build and serve MCP Apps.
#[derive(Debug, Parser)]
// `--version` names the commit (`0.1.0 (abc1234 2026-12-03)`); see build.rs.
#[command(
    name = "sunpeak",
    version = env!("SUNPEAK_LONG_VERSION"),
    about,
    propagate_version = true
)]
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
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

/// Prints a command-line error as clap does, except under `--json-logs`, where every line of
/// `start` must be JSON (a log collector would otherwise get one plain-text line from a
/// misconfigured deployment): then it is one `{"ts","level":"error","msg"}` object on stderr.
/// Help and `--version` are not errors and always print as text.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let is_output = matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let json_logs = std::env::args_os().any(|a| a == "--json-logs");
    if is_output || !json_logs {
        err.exit();
    }
    let text = err.render().to_string();
    // clap's message without its usage and help hints: the first paragraph.
    let msg = text.split("\n\n").next().unwrap_or(&text).trim();
    let msg = msg.strip_prefix("error: ").unwrap_or(msg);
    logging::init(logging::Format::Json);
    tracing::error!(target: logging::CONSOLE, "Error: {msg}");
    logging::flush();
    ExitCode::from(2)
}
