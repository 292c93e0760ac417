//! Builds a project with the library alone (no CLI): `cargo run --release -p app-bundler
//! --example build -- <project dir> [runs]`. Prints per-resource events and the total time
//! of each run; useful to profile the bundler without the rest of the binary.

use std::path::PathBuf;

use app_bundler::{BuildOptions, Event};

fn main() {
    let mut args = std::env::args().skip(1);
    let project = PathBuf::from(args.next().unwrap_or_else(|| ".".to_owned()));
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    for run in 1..=runs {
        let mut reporter = |event: Event| {
            if let Event::ResourceBuilt { key, elapsed, .. } = event {
                println!("  {key}: {elapsed:?}");
            }
        };
        match app_bundler::build(&BuildOptions::new(&project), &mut reporter) {
            Ok(report) => println!("run {run}: {:?}", report.elapsed),
            Err(e) => {
                eprintln!("Error: {e}");
                std::process::exit(1);
            }
        }
    }
}
