//! Progress events and the final report. The library only emits events; the CLI prints them.

use std::path::PathBuf;
use std::time::Duration;

/// A progress event of a build, in the order they happen. Resources are built in parallel, so
/// the `ResourceBuilt` events of different resources can arrive in any order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Resources are about to be built (`count` ≥ 1).
    ResourcesStarted {
        /// How many.
        count: usize,
    },
    /// The resource `key` (number `index`, 1-based, of `count`) has started building.
    ResourceStarted {
        /// 1-based position in discovery order.
        index: usize,
        /// Number of resources.
        count: usize,
        /// Resource key (directory name).
        key: String,
    },
    /// A resource is built: HTML and metadata JSON are ready.
    ResourceBuilt {
        /// Resource key.
        key: String,
        /// Its URI, `ui://<name>-<id>`.
        uri: String,
        /// Wall time for this resource.
        elapsed: Duration,
    },
    /// Tool and server compilation is about to start.
    ServerCodeStarted,
    /// `dist/tools/<name>.js` is compiled.
    ToolCompiled {
        /// Tool name (file name without `.ts`).
        name: String,
        /// Wall time.
        elapsed: Duration,
    },
    /// `dist/server.js` is compiled.
    ServerCompiled {
        /// Wall time.
        elapsed: Duration,
    },
    /// Something the user should know that does not fail the build.
    Warning {
        /// The message, one or more lines.
        message: String,
    },
}

/// Receives progress events. Implemented for closures `FnMut(Event) + Send`.
pub trait Reporter: Send {
    /// Called once per event, on the thread that called [`crate::build`].
    fn report(&mut self, event: Event);
}

impl<F: FnMut(Event) + Send> Reporter for F {
    fn report(&mut self, event: Event) {
        self(event);
    }
}

/// A reporter that drops every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {
    fn report(&mut self, _event: Event) {}
}

/// What a successful build produced.
#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    /// The output directory (absolute).
    pub out_dir: PathBuf,
    /// Built resources, in discovery order.
    pub resources: Vec<BuiltResource>,
    /// Compiled tools (names), in discovery order.
    pub tools: Vec<String>,
    /// Whether `server.js` was compiled.
    pub server: bool,
    /// Whether the Tailwind compiler (Node.js) ran.
    pub used_tailwind: bool,
    /// Keys of resources whose `resource` export had to be evaluated with Node.js.
    pub evaluated_with_node: Vec<String>,
    /// Whether the resources were bundled from one scan of their modules
    /// ([`crate::BuildOptions::share_modules`]); `false` with fewer than two resources, or when
    /// that failed and each resource was bundled on its own (which reports the errors).
    pub shared_scan: bool,
    /// Total wall time.
    pub elapsed: Duration,
}

/// One built resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltResource {
    /// Resource key (directory name).
    pub key: String,
    /// Resource name (`name` in the metadata; defaults to the key).
    pub name: String,
    /// `ui://<name>-<id>`.
    pub uri: String,
    /// Size of `<key>.html` in bytes.
    pub html_bytes: usize,
}
