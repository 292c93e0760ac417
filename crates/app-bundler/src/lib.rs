//! `sunpeak build` as a library: turns a project in the layout of the npm `sunpeak` into
//! `dist/`:
//!
//! - `dist/<k>/<k>.html`: each resource `src/resources/<k>/<k>.tsx`, mounted through
//!   `src/index-resource.tsx`, bundled with rolldown into one minified IIFE (es2020) with its CSS
//!   (lightningcss; Tailwind v4 through the project's own `@tailwindcss/node` only when the CSS
//!   uses Tailwind directives) injected, inside sunpeak's HTML shell;
//! - `dist/<k>/<k>.json`: the evaluated `resource` export plus `name` and a content-derived
//!   `uri`;
//! - `dist/tools/<t>.js`, `dist/server.js`: Node 18 ESM, package imports left as imports.
//!
//! Resources, tools and the server entry are built in parallel on one tokio runtime. The
//! output directory is replaced only when the whole build succeeded.
//!
//! ```no_run
//! use app_bundler::{BuildOptions, Event};
//!
//! let options = BuildOptions::new("path/to/project");
//! let report = app_bundler::build(&options, &mut |event: Event| println!("{event:?}"))?;
//! println!("built {} resources in {:?}", report.resources.len(), report.elapsed);
//! # Ok::<(), app_bundler::BuildError>(())
//! ```
//!
//! The library does not print; it reports [`Event`]s to a [`Reporter`] and returns a typed
//! [`BuildError`] whose `Display` is a complete, actionable message.

mod css;
mod css_urls;
mod engine;
mod env;
mod error;
mod html;
mod metadata;
mod node;
mod pipeline;
mod project;
mod report;
mod staging;

use std::path::PathBuf;

pub use error::{BuildError, Diagnostic, Location, Target};
pub use report::{BuildReport, BuiltResource, Event, Reporter, Silent};

/// What to build and where.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuildOptions {
    /// The project directory (the one with `package.json`).
    pub project_root: PathBuf,
    /// The output directory; relative paths are relative to `project_root`. Default `dist`.
    pub out_dir: PathBuf,
    /// Worker threads of the runtime [`build`] creates (default: available parallelism).
    pub threads: Option<usize>,
    /// Whether the resources are bundled from one scan of their modules (default), so that
    /// modules several resources import (React, sunpeak, ...) are parsed once. `false`
    /// bundles each resource on its own; the output is the same.
    pub share_modules: bool,
    /// The environment variables the build sees in place of this process's (default `None`:
    /// the process environment). Like Vite, the build exposes the `VITE_*` ones to resources
    /// as `import.meta.env.VITE_*`, over the values of the project's `.env` files, and uses
    /// all of them for `${VAR}` references in those files.
    pub process_env: Option<Vec<(String, String)>>,
}

impl BuildOptions {
    /// Builds `project_root` into `project_root/dist`.
    pub fn new(project_root: impl Into<PathBuf>) -> BuildOptions {
        BuildOptions {
            project_root: project_root.into(),
            out_dir: PathBuf::from("dist"),
            threads: None,
            share_modules: true,
            process_env: None,
        }
    }

    /// Sets [`BuildOptions::process_env`].
    #[must_use]
    pub fn process_env<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> BuildOptions
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.process_env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sets the output directory.
    #[must_use]
    pub fn out_dir(mut self, out_dir: impl Into<PathBuf>) -> BuildOptions {
        self.out_dir = out_dir.into();
        self
    }

    /// Sets [`BuildOptions::share_modules`].
    #[must_use]
    pub fn share_modules(mut self, share: bool) -> BuildOptions {
        self.share_modules = share;
        self
    }

    /// Sets the number of worker threads of the runtime [`build`] creates.
    #[must_use]
    pub fn threads(mut self, threads: usize) -> BuildOptions {
        self.threads = Some(threads.max(1));
        self
    }
}

/// Builds the project on a new multi-threaded tokio runtime, reporting progress to `reporter`.
/// Use [`build_async`] from inside an existing runtime.
pub fn build(
    options: &BuildOptions,
    reporter: &mut dyn Reporter,
) -> Result<BuildReport, BuildError> {
    let threads = options.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .thread_name("sunpeak-build")
        .build()
        .map_err(|e| BuildError::Internal {
            message: format!("cannot start the tokio runtime: {e}"),
        })?;
    runtime.block_on(build_async(options, reporter))
}

/// Builds the project on the current tokio runtime (which must be multi-threaded for resources
/// to build in parallel).
pub async fn build_async(
    options: &BuildOptions,
    reporter: &mut dyn Reporter,
) -> Result<BuildReport, BuildError> {
    pipeline::run(options, reporter).await
}
