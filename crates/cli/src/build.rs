//! `sunpeak build`: progress lines on stdout, errors on stderr, exit 0/1.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use app_bundler::{BuildError, BuildOptions, Event};

/// Flags of `sunpeak build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Print only errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `123 ms` below a second, `1.23 s` above.
fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// One progress line per event, in the spirit of the npm sunpeak's build log.
fn print_event(out: &mut impl Write, event: &Event) -> std::io::Result<()> {
    match event {
        Event::ResourcesStarted { .. } => writeln!(out, "Building all resources...\n"),
        Event::ResourceStarted { index, count, key } => {
            writeln!(out, "[{index}/{count}] Building {key}...")
        }
        Event::ResourceBuilt { key, uri, elapsed } => writeln!(
            out,
            "✓ Built {key}/{key}.html and {key}/{key}.json (uri: {uri}) ({})",
            duration(*elapsed)
        ),
        Event::ServerCodeStarted => writeln!(out, "\nCompiling server-side code..."),
        Event::ToolCompiled { name, elapsed } => {
            writeln!(out, "✓ Compiled tools/{name}.js ({})", duration(*elapsed))
        }
        Event::ServerCompiled { elapsed } => {
            writeln!(out, "✓ Compiled server.js ({})", duration(*elapsed))
        }
        Event::Warning { message } => {
            out.flush()?;
            eprintln!("Warning: {message}");
            Ok(())
        }
        // `Event` is non-exhaustive for the CLI's purposes: new events print nothing.
        #[allow(unreachable_patterns)]
        _ => Ok(()),
    }
}

/// Runs `sunpeak build` in the current directory.
pub fn run(args: BuildArgs) -> anyhow::Result<ExitCode> {
    // Diagnostics of the bundler itself (phase timings, Node output) only on request.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let options = BuildOptions::new(std::env::current_dir()?);
    let quiet = args.quiet;
    let stdout = std::io::stdout();
    let mut reporter = |event: Event| {
        if !quiet {
            let mut out = stdout.lock();
            let _ = print_event(&mut out, &event);
            let _ = out.flush();
        }
    };
    match app_bundler::build(&options, &mut reporter) {
        Ok(report) => {
            if !quiet {
                println!("\n✓ Build complete in {}", duration(report.elapsed));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(BuildError::NoPackageJson { .. }) => {
            eprintln!("Error: No package.json found in current directory.");
            eprintln!("Make sure you are in a Sunpeak project directory.");
            Ok(ExitCode::FAILURE)
        }
        Err(err) => {
            eprintln!("Error: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(Duration::from_millis(123)), "123 ms");
        assert_eq!(duration(Duration::from_millis(1234)), "1.23 s");
    }

    #[test]
    fn progress_lines() {
        let mut out = Vec::new();
        print_event(
            &mut out,
            &Event::ToolCompiled {
                name: "show-map".into(),
                elapsed: Duration::from_millis(4),
            },
        )
        .expect("write");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "✓ Compiled tools/show-map.js (4 ms)\n"
        );
    }
}
