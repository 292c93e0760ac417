//! `cargo xtask demo`: build the `sunpeak` binary, install the example app's npm dependencies,
//! build the example with our `sunpeak build` and serve it with our `sunpeak start`.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use crate::{paths, proc};

/// Flags of `cargo xtask demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Port to serve on.
    #[arg(long, short, default_value_t = 8000)]
    port: u16,
    /// Address to bind. The default keeps the demo private to this machine; use 0.0.0.0 to
    /// expose it (then set the example's auth token, see its README).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The example app to build and serve (a directory under examples/).
    #[arg(long, default_value = "trip-planner")]
    example: String,
    /// Build the example but do not start the server.
    #[arg(long)]
    no_start: bool,
}

/// Runs `cargo xtask demo`.
pub fn run(args: DemoArgs) -> Result<()> {
    let app = paths::workspace_root().join("examples").join(&args.example);
    if !app.join("package.json").is_file() {
        bail!(
            "{} is not an example app (no package.json); pass --example <name of a directory under examples/>",
            app.display()
        );
    }
    if !args.no_start {
        // Fail before the long build if the port is taken.
        TcpListener::bind((args.host.as_str(), args.port)).with_context(|| {
            format!(
                "cannot listen on {}:{}; pick another port with --port",
                args.host, args.port
            )
        })?;
    }

    println!("==> building the sunpeak binary (release)");
    let sunpeak = proc::cargo_build_bin("sunpeak-cli", "sunpeak", true)?;

    println!("\n==> npm dependencies of examples/{}", args.example);
    install_npm_deps(&app)?;

    println!("\n==> sunpeak build (ours) in examples/{}", args.example);
    proc::run(Command::new(&sunpeak).arg("build").current_dir(&app)).with_context(|| {
        format!(
            "our `sunpeak build` failed on examples/{} (binary: {})",
            args.example,
            sunpeak.display()
        )
    })?;
    if args.no_start {
        println!(
            "\nbuilt examples/{}/dist; not starting (--no-start)",
            args.example
        );
        return Ok(());
    }

    let shown_host = match args.host.as_str() {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        host => host,
    };
    let url = format!("http://{shown_host}:{}/mcp", args.port);
    println!(
        "\n==> sunpeak start (ours): examples/{example} on {url}\n\
         \n\
         \x20 MCP endpoint   {url}\n\
         \x20 health check   http://{shown_host}:{port}/health\n\
         \x20 connect        npx @modelcontextprotocol/inspector --cli {url} --transport http --method tools/list\n\
         \x20                (MCP Inspector, Node 22+), or any MCP client with Streamable HTTP\n\
         \x20 auth           see examples/{example}/README.md\n\
         \x20 stop           Ctrl-C\n",
        example = args.example,
        port = args.port,
    );
    proc::run(
        Command::new(&sunpeak)
            .args([
                "start",
                "--host",
                &args.host,
                "--port",
                &args.port.to_string(),
            ])
            .current_dir(&app),
    )
    .with_context(|| format!("our `sunpeak start` failed on examples/{}", args.example))
}

/// `npm ci` unless `node_modules` already matches `package-lock.json` (npm writes
/// `node_modules/.package-lock.json` on every install; it must be newer than the lockfile).
fn install_npm_deps(app: &Path) -> Result<()> {
    let lock = app.join("package-lock.json");
    let installed = app.join("node_modules").join(".package-lock.json");
    if modified(&installed).is_some_and(|done| modified(&lock).is_some_and(|lock| done >= lock)) {
        println!("node_modules is up to date with package-lock.json");
        return Ok(());
    }
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(app);
    if !lock.is_file() {
        cmd = Command::new("npm");
        cmd.args(["install", "--no-audit", "--no-fund"])
            .current_dir(app);
    }
    proc::run(&mut cmd)
        .context("installing the example's npm dependencies (needs Node.js 20+ and npm)")
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
