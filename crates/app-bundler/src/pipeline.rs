//! The build: discovery, then every resource, tool and the server entry as parallel tasks,
//! then the staged output swapped in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use oxc_resolver::{ResolveOptions, Resolver, TsconfigDiscovery};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;

use crate::engine::{self, BrowserBundle, BrowserContext, InlineCss, NodeTarget};
use crate::error::{BuildError, Diagnostic, Target, relative_to};
use crate::html::{content_id, html_shell, style_prefix};
use crate::metadata::{self, ResourceValue, value::JsValue};
use crate::node::{HelperError, NodeHelper};
use crate::project::{self, Project, ResourceSource};
use crate::report::{BuildReport, BuiltResource, Event, Reporter};
use crate::staging::Staging;
use crate::{BuildOptions, css, env};

/// State shared by the tasks of one build.
struct Shared {
    root: PathBuf,
    project: Project,
    /// Resolver for the static evaluation of `resource` (relative, `@/`, tsconfig paths).
    js_resolver: Resolver,
    /// Resolver for CSS `@import`s.
    css_resolver: Resolver,
    node: NodeHelper,
    scratch: PathBuf,
    /// Whether Tailwind ran for some file.
    used_tailwind: AtomicBool,
    /// [`BuildOptions::share_modules`].
    share_modules: bool,
    /// Compiled CSS by the list of files it comes from: most resources import the same
    /// stylesheets (the template's four import one or two), compiled once.
    css_cache: CssCache,
    /// The `VITE_*` variables of `import.meta.env` (from `.env` files and the environment).
    vite_env: Vec<(String, String)>,
}

type CssCache = std::sync::Mutex<HashMap<Vec<PathBuf>, Arc<tokio::sync::OnceCell<String>>>>;

struct ResourceOutput {
    key: String,
    name: String,
    uri: String,
    html: String,
    json: String,
    evaluated_with_node: bool,
}

struct ModuleOutput {
    name: String,
    code: String,
    elapsed: Duration,
    warnings: Vec<String>,
}

fn js_resolver(root: &Path) -> Resolver {
    Resolver::new(ResolveOptions {
        extensions: [".tsx", ".ts", ".jsx", ".js", ".mjs", ".mts", ".json"]
            .map(String::from)
            .to_vec(),
        condition_names: ["import", "module", "browser", "default"]
            .map(String::from)
            .to_vec(),
        alias: vec![(
            "@".to_owned(),
            vec![oxc_resolver::AliasValue::Path(
                root.join("src").to_string_lossy().into_owned(),
            )],
        )],
        tsconfig: Some(TsconfigDiscovery::Auto),
        ..ResolveOptions::default()
    })
}

pub(crate) async fn run(
    options: &BuildOptions,
    reporter: &mut dyn Reporter,
) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    // Canonical, because the bundler reports modules by their real paths and messages show
    // paths relative to the root.
    let root = std::fs::canonicalize(&options.project_root)
        .or_else(|_| std::path::absolute(&options.project_root))
        .map_err(|e| BuildError::io("resolve", &options.project_root, e))?;
    let project = Project::discover(&root)?;
    // Read only when there is browser code to give them to, as sunpeak runs Vite only then.
    let vite_env = if project.resources.is_empty() {
        Vec::new()
    } else {
        match &options.process_env {
            Some(vars) => env::load(&root, vars)?,
            None => env::load(&root, &env::process_env())?,
        }
    };
    let out_dir = root.join(&options.out_dir);
    let scratch = Scratch::new(&root);

    let shared = Arc::new(Shared {
        js_resolver: js_resolver(&root),
        css_resolver: css::css_resolver(),
        node: NodeHelper::new(&root, scratch.path()),
        scratch: scratch.path().to_owned(),
        used_tailwind: AtomicBool::new(false),
        share_modules: options.share_modules,
        css_cache: CssCache::default(),
        vite_env,
        root,
        project,
    });
    let result = run_tasks(&shared, reporter).await;
    shared.node.shutdown().await;
    let Outputs {
        resources,
        tools,
        server,
        shared_scan,
    } = result?;

    drop(scratch);
    // The staging directory exists only from here on: an interrupted build leaves nothing
    // behind, and Tailwind's class scanner never sees half-written output.
    let staging = Staging::create(&out_dir)?;
    for r in &resources {
        staging.write(&format!("{0}/{0}.html", r.key), r.html.as_bytes())?;
        staging.write(&format!("{0}/{0}.json", r.key), r.json.as_bytes())?;
    }
    for t in &tools {
        staging.write(&format!("tools/{}.js", t.name), t.code.as_bytes())?;
    }
    if let Some(s) = &server {
        staging.write("server.js", s.code.as_bytes())?;
    }
    staging.commit()?;

    let evaluated_with_node: Vec<String> = resources
        .iter()
        .filter(|r| r.evaluated_with_node)
        .map(|r| r.key.clone())
        .collect();
    Ok(BuildReport {
        out_dir,
        used_tailwind: shared.used_tailwind.load(Ordering::Relaxed),
        evaluated_with_node,
        shared_scan,
        resources: resources
            .iter()
            .map(|r| BuiltResource {
                key: r.key.clone(),
                name: r.name.clone(),
                uri: r.uri.clone(),
                html_bytes: r.html.len(),
            })
            .collect(),
        tools: tools.iter().map(|t| t.name.clone()).collect(),
        server: server.is_some(),
        elapsed: started.elapsed(),
    })
}

struct Outputs {
    resources: Vec<ResourceOutput>,
    tools: Vec<ModuleOutput>,
    server: Option<ModuleOutput>,
    shared_scan: bool,
}

async fn run_tasks(
    shared: &Arc<Shared>,
    reporter: &mut dyn Reporter,
) -> Result<Outputs, BuildError> {
    let count = shared.project.resources.len();
    if count > 0 {
        reporter.report(Event::ResourcesStarted { count });
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let resources_task = tokio::spawn(build_resources(shared.clone(), tx));
    let tool_tasks: Vec<_> = shared
        .project
        .tools
        .iter()
        .map(|t| {
            let (shared, name, file) = (shared.clone(), t.name.clone(), t.file.clone());
            tokio::spawn(async move {
                build_module(&shared, Target::Tool(name.clone()), name, &file).await
            })
        })
        .collect();
    let server_task = shared.project.server.clone().map(|file| {
        let shared = shared.clone();
        tokio::spawn(async move {
            build_module(&shared, Target::Server, "server".to_owned(), &file).await
        })
    });

    while let Some(event) = rx.recv().await {
        reporter.report(event);
    }

    let mut first_error = None;
    let mut resources = Vec::with_capacity(count);
    let (built, shared_scan) = resources_task.await.unwrap_or_else(|e| {
        let failed = Err(BuildError::Internal {
            message: format!("a build task failed: {e}"),
        });
        (vec![failed], false)
    });
    for result in built {
        match result {
            Ok(r) => resources.push(r),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let mut tools = Vec::new();
    for task in tool_tasks {
        match joined(task.await) {
            Ok(t) => tools.push(t),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let server = match server_task {
        Some(task) => match joined(task.await) {
            Ok(s) => Some(s),
            Err(e) => {
                first_error.get_or_insert(e);
                None
            }
        },
        None => None,
    };
    if let Some(e) = first_error {
        return Err(e);
    }

    if !tools.is_empty() || server.is_some() {
        reporter.report(Event::ServerCodeStarted);
    }
    for t in &tools {
        reporter.report(Event::ToolCompiled {
            name: t.name.clone(),
            elapsed: t.elapsed,
        });
        for w in &t.warnings {
            reporter.report(Event::Warning { message: w.clone() });
        }
    }
    if let Some(s) = &server {
        reporter.report(Event::ServerCompiled { elapsed: s.elapsed });
    }
    Ok(Outputs {
        resources,
        tools,
        server,
        shared_scan,
    })
}

/// Every resource, results in resource order. All of them are bundled from one scan of their
/// modules ([`engine::bundle_browser_shared`]) when that works; otherwise (a resource that
/// does not build, or a single resource) each is bundled on its own.
async fn build_resources(
    shared: Arc<Shared>,
    events: UnboundedSender<Event>,
) -> (Vec<Result<ResourceOutput, BuildError>>, bool) {
    let count = shared.project.resources.len();
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let context = browser_context(&shared);
    let prepared: Vec<Result<PreparedResource, BuildError>> = (0..count)
        .map(|index| prepare_resource(&shared, index, &events))
        .collect();

    if shared.share_modules && count > 1 && prepared.iter().all(Result::is_ok) {
        let entries = prepared
            .iter()
            .flatten()
            .map(|p| (p.entry_id.clone(), p.entry_code.clone()))
            .collect();
        let root = shared.root.clone();
        let context = context.clone();
        // A task of its own: a panic inside rolldown becomes a fallback, not a failed build.
        let bundles = tokio::spawn(async move {
            engine::bundle_browser_shared(&root, entries, cores, &context).await
        })
        .await
        .ok()
        .flatten();
        match bundles {
            Some(bundles) => {
                let tasks: Vec<_> = prepared
                    .into_iter()
                    .flatten()
                    .zip(bundles)
                    .map(|(p, bundle)| {
                        tokio::spawn(finish_resource(shared.clone(), p, bundle, events.clone()))
                    })
                    .collect();
                let mut results = Vec::with_capacity(count);
                for task in tasks {
                    results.push(joined(task.await));
                }
                return (results, true);
            }
            None => tracing::debug!("bundling the resources one by one"),
        }
    }

    // Enough resources at once to keep every core busy while the largest one minifies, few
    // enough that a project with dozens of resources does not hold all their graphs in memory.
    let permits = Arc::new(Semaphore::new((2 * cores).max(4)));
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|prepared| {
            let (shared, events, permits) = (shared.clone(), events.clone(), permits.clone());
            let context = context.clone();
            tokio::spawn(async move {
                let prepared = prepared?;
                let _permit = permits
                    .acquire_owned()
                    .await
                    .map_err(|e| BuildError::Internal {
                        message: e.to_string(),
                    })?;
                let bundle = bundle_resource(&shared, &prepared, &context).await?;
                finish_resource(shared, prepared, bundle, events).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(count);
    for task in tasks {
        results.push(joined(task.await));
    }
    (results, false)
}

fn joined<T>(r: Result<Result<T, BuildError>, tokio::task::JoinError>) -> Result<T, BuildError> {
    r.unwrap_or_else(|e| {
        Err(BuildError::Internal {
            message: format!("a build task failed: {e}"),
        })
    })
}

/// A resource ready to bundle: its entry and the evaluated (or to-be-evaluated) metadata.
struct PreparedResource {
    index: usize,
    started: Instant,
    entry_id: PathBuf,
    entry_code: String,
    value: ResourceValue,
}

/// Reads the resource's metadata and writes its entry module (in memory).
fn prepare_resource(
    shared: &Shared,
    index: usize,
    events: &UnboundedSender<Event>,
) -> Result<PreparedResource, BuildError> {
    let started = Instant::now();
    let project = &shared.project;
    let r = &project.resources[index];
    let _ = events.send(Event::ResourceStarted {
        index: index + 1,
        count: project.resources.len(),
        key: r.key.clone(),
    });
    let root = &shared.root;
    let rel_file = relative_to(root, &r.file);

    let analysis =
        metadata::analyze(root, &shared.js_resolver, &r.file).map_err(|diagnostics| {
            BuildError::Bundle {
                target: Target::Resource(r.key.clone()),
                diagnostics,
            }
        })?;
    if analysis.exports.has(&r.component) == Some(false) {
        return Err(BuildError::MissingComponentExport {
            key: r.key.clone(),
            file: rel_file,
            export: r.component.clone(),
        });
    }
    let Some(value) = analysis.value else {
        return Err(BuildError::MissingResourceExport { file: rel_file });
    };

    let template = project.entry_template.as_deref().unwrap_or_default();
    Ok(PreparedResource {
        index,
        started,
        entry_id: root.join(".tmp").join(format!("index-{}.tsx", r.key)),
        entry_code: project::resource_entry(project, template, r),
        value,
    })
}

/// Bundles a prepared resource on its own.
async fn bundle_resource(
    shared: &Shared,
    prepared: &PreparedResource,
    context: &BrowserContext,
) -> Result<BrowserBundle, BuildError> {
    let root = &shared.root;
    let r = &shared.project.resources[prepared.index];
    engine::bundle_browser(
        root,
        &prepared.entry_id,
        prepared.entry_code.clone(),
        context,
    )
    .await
    .map_err(|diagnostics| BuildError::Bundle {
        target: Target::Resource(r.key.clone()),
        diagnostics: in_template(
            diagnostics,
            &relative_to(root, &prepared.entry_id),
            &prepared.entry_code,
        ),
    })
}

/// CSS, metadata and HTML of a bundled resource.
async fn finish_resource(
    shared: Arc<Shared>,
    prepared: PreparedResource,
    bundle: BrowserBundle,
    events: UnboundedSender<Event>,
) -> Result<ResourceOutput, BuildError> {
    let PreparedResource {
        index,
        started,
        value,
        ..
    } = prepared;
    let project = &shared.project;
    let r = &project.resources[index];
    let root = &shared.root;

    let bundled = started.elapsed();
    let css = cached_css(&shared, &r.key, &bundle.css).await?;
    let css_done = started.elapsed();

    let (value, evaluated_with_node) = match value {
        ResourceValue::Static(v) => (v, false),
        ResourceValue::NeedsNode(reason) => {
            tracing::debug!(resource = %r.key, reason = %reason.reason, "evaluating `resource` with node");
            (evaluate_with_node(&shared, index, r).await?, true)
        }
    };
    let (mut meta, name) = metadata::with_name(root, &r.file, &r.key, value)?;

    let mut js = String::with_capacity(bundle.code.len() + css.len() + 200);
    if !css.is_empty() {
        js.push_str(&style_prefix(&css));
    }
    js.push_str(bundle.code.trim_end_matches('\n'));
    let html = html_shell(&js);
    let id = content_id(&[html.as_bytes(), metadata::to_json(meta.clone()).as_bytes()]);
    let uri = format!("ui://{name}-{id}");
    meta.set("uri".to_owned(), JsValue::String(uri.clone()));
    let json = metadata::to_json(meta);

    tracing::debug!(
        resource = %r.key,
        bundle_ms = bundled.as_millis() as u64,
        css_ms = (css_done - bundled).as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        js_bytes = bundle.code.len(),
        css_bytes = css.len(),
        "resource built"
    );
    let _ = events.send(Event::ResourceBuilt {
        key: r.key.clone(),
        uri: uri.clone(),
        elapsed: started.elapsed(),
    });
    Ok(ResourceOutput {
        key: r.key.clone(),
        name,
        uri,
        html,
        json,
        evaluated_with_node,
    })
}

/// Problems in the generated entry are reported against `src/index-resource.tsx`: the
/// placeholders are one-line comments replaced by one-line statements, so lines match. The
/// shown line is the generated one, so that the caret is right.
fn in_template(mut diagnostics: Vec<Diagnostic>, entry: &Path, code: &str) -> Vec<Diagnostic> {
    let shown = entry.to_string_lossy();
    for d in &mut diagnostics {
        d.message = d.message.replace(shown.as_ref(), "src/index-resource.tsx");
        if let Some(loc) = d.location.as_mut().filter(|l| l.file == entry) {
            loc.file = PathBuf::from("src/index-resource.tsx");
            loc.line_text = code
                .lines()
                .nth(loc.line.saturating_sub(1) as usize)
                .map(str::to_owned);
        }
    }
    diagnostics
}

/// The `VITE_*` variables, and `?inline` CSS compiled like the page's CSS (Tailwind
/// included) but without Vite's chunk marker, as Vite's CSS plugin makes it.
fn browser_context(shared: &Arc<Shared>) -> BrowserContext {
    let compiler = shared.clone();
    let inline_css: InlineCss = Arc::new(move |file: PathBuf| {
        let shared = compiler.clone();
        Box::pin(async move {
            let css = cached_css(&shared, "", std::slice::from_ref(&file))
                .await
                .map_err(|e| match e {
                    BuildError::Css { diagnostic, .. } => diagnostic.to_string(),
                    other => other.to_string(),
                })?;
            Ok(css
                .strip_suffix(css::VITE_CSS_MARKER)
                .map_or(css.clone(), str::to_owned))
        })
    });
    BrowserContext {
        env: shared.vite_env.clone(),
        inline_css: Some(inline_css),
    }
}

/// [`compile_css`], once per list of files (a failure is not kept: each resource that needs
/// the list tries again and reports its own error).
async fn cached_css(shared: &Shared, key: &str, files: &[PathBuf]) -> Result<String, BuildError> {
    let cell = shared
        .css_cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(files.to_vec())
        .or_default()
        .clone();
    cell.get_or_try_init(|| compile_css(shared, key, files))
        .await
        .cloned()
}

async fn compile_css(shared: &Shared, key: &str, files: &[PathBuf]) -> Result<String, BuildError> {
    if files.is_empty() {
        return Ok(String::new());
    }
    let mut replaced = HashMap::new();
    for file in files {
        if !css::needs_tailwind(&shared.css_resolver, file) {
            continue;
        }
        let text = std::fs::read_to_string(file).map_err(|e| BuildError::io("read", file, e))?;
        let rel = relative_to(&shared.root, file);
        shared.used_tailwind.store(true, Ordering::Relaxed);
        match shared.node.tailwind(file, &text).await {
            Ok(Some(out)) => {
                replaced.insert(file.clone(), out);
            }
            Ok(None) => {}
            Err(HelperError::Missing(package)) => {
                return Err(BuildError::MissingPackage {
                    needed_for: format!("Tailwind CSS (used by {})", rel.display()),
                    install: format!("npm install -D {package}"),
                    package,
                });
            }
            Err(HelperError::Failed(message)) => {
                return Err(BuildError::Css {
                    key: key.to_owned(),
                    diagnostic: Box::new(Diagnostic {
                        location: None,
                        message: format!("{}: Tailwind CSS: {message}", rel.display()),
                        code: "TAILWIND_ERROR".to_owned(),
                        help: None,
                    }),
                });
            }
            Err(HelperError::Build(e)) => return Err(e),
        }
    }
    css::compile(&shared.root, &shared.css_resolver, files, replaced).map_err(|diagnostic| {
        BuildError::Css {
            key: key.to_owned(),
            diagnostic,
        }
    })
}

async fn evaluate_with_node(
    shared: &Shared,
    index: usize,
    r: &ResourceSource,
) -> Result<JsValue, BuildError> {
    let root = &shared.root;
    let dir = r.file.parent().unwrap_or(root);
    let stub = dir.join("__sunpeak_resource_export__.ts");
    let code = format!("export {{ resource }} from './{}.tsx';\n", r.key);
    let bundle = engine::bundle_node(root, &stub, Some(code), NodeTarget::Evaluation)
        .await
        .map_err(|diagnostics| BuildError::Bundle {
            target: Target::Resource(r.key.clone()),
            diagnostics,
        })?;
    let module = shared.scratch.join(format!("resource-{index}.mjs"));
    tokio::fs::create_dir_all(&shared.scratch)
        .await
        .map_err(|e| BuildError::io("create directory", &shared.scratch, e))?;
    tokio::fs::write(&module, bundle.code)
        .await
        .map_err(|e| BuildError::io("write", &module, e))?;
    let file = relative_to(root, &r.file);
    match shared.node.evaluate(&module).await {
        Ok(Some(json)) => metadata::from_node_json(&json)
            .map_err(|message| BuildError::ResourceEval { file, message }),
        Ok(None) => Err(BuildError::MissingResourceExport { file }),
        Err(HelperError::Failed(message)) => Err(BuildError::ResourceEval { file, message }),
        Err(HelperError::Missing(package)) => Err(BuildError::ResourceEval {
            file,
            message: format!("cannot find package \"{package}\""),
        }),
        Err(HelperError::Build(e)) => Err(e),
    }
}

async fn build_module(
    shared: &Shared,
    target: Target,
    name: String,
    file: &Path,
) -> Result<ModuleOutput, BuildError> {
    let started = Instant::now();
    let bundle = engine::bundle_node(&shared.root, file, None, NodeTarget::Module)
        .await
        .map_err(|diagnostics| BuildError::Bundle {
            target: target.clone(),
            diagnostics,
        })?;
    let mut warnings = Vec::new();
    if let Target::Tool(_) = target {
        let rel = relative_to(&shared.root, file);
        if !bundle.exports.iter().any(|e| e == "tool") {
            warnings.push(format!(
                "No \"tool\" export in {}: `sunpeak start` will skip this tool. Add: export const tool: AppToolConfig = {{ ... }};",
                rel.display()
            ));
        }
        if !bundle.exports.iter().any(|e| e == "default") {
            warnings.push(format!(
                "No default handler export in {}: `sunpeak start` will skip this tool. Add: export default async function (args) {{ ... }}",
                rel.display()
            ));
        }
    }
    Ok(ModuleOutput {
        name,
        code: bundle.code,
        elapsed: started.elapsed(),
        warnings,
    })
}

/// Where the Node helper script and the modules it evaluates are written (created only when
/// Node runs): under `.cache/` of the project's nearest `node_modules` (Tailwind's scanner
/// skips it, and package imports of evaluated modules resolve from there), else a hidden
/// directory in the project root. Removed when dropped.
struct Scratch {
    dir: PathBuf,
}

static SCRATCH_COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Scratch {
    fn new(root: &Path) -> Scratch {
        let name = format!(
            "sunpeak-build-{}-{}",
            std::process::id(),
            SCRATCH_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        // The nearest `node_modules`, as Node's resolution would find it from the project.
        let node_modules = root
            .ancestors()
            .map(|d| d.join("node_modules"))
            .find(|d| d.is_dir());
        let dir = match node_modules {
            Some(node_modules) => node_modules.join(".cache").join(name),
            None => root.join(format!(".{name}")),
        };
        Scratch { dir }
    }

    fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
