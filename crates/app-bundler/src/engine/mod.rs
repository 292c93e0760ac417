//! The only module that talks to rolldown.
//!
//! rolldown is pinned to `=1.2.5` (the newest release that builds on Rust 1.95, see
//! `docs/decisions/0001-rolldown.md`) and its crate API changes between minor versions, so
//! everything rolldown-specific (options, plugins, output and diagnostics types) stays in here.
//! The rest of the crate sees three functions and plain data.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rolldown::{
    Bundler, BundlerOptions, BundlerTransformOptions, Either, InnerOptions, InputItem, JsxOptions,
    ModuleSideEffects, ModuleSideEffectsRule, ModuleType, OutputFormat, Platform, RawMinifyOptions,
    ResolveOptions, TreeshakeOptions,
};
use rolldown_common::{
    ModuleInfo, NormalModule, Output, ResolvedExternal, side_effects::HookSideEffects,
};
use rolldown_error::{BuildDiagnostic, DiagnosticOptions, EventKind, Severity};
use rolldown_plugin::{
    HookLoadArgs, HookLoadOutput, HookLoadReturn, HookNoopReturn, HookResolveIdArgs,
    HookResolveIdOutput, HookResolveIdReturn, HookUsage, Plugin, PluginContext,
    SharedLoadPluginContext,
};
use rolldown_utils::js_regex::HybridRegex;

use crate::error::{Diagnostic, Location, relative_to};

mod shared;
mod suffixes;

pub(crate) use shared::bundle_browser_shared;
use suffixes::ImportSuffixes;
pub(crate) use suffixes::InlineCss;

/// What resource bundles get besides their code: the `VITE_*` variables of
/// `import.meta.env`, and the compiler of `?inline` CSS.
#[derive(Clone, Default)]
pub(crate) struct BrowserContext {
    /// `(name, value)` of the `VITE_*` variables.
    pub env: Vec<(String, String)>,
    /// `None`: `?inline` CSS is an empty string.
    pub inline_css: Option<InlineCss>,
}

impl std::fmt::Debug for BrowserContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserContext")
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// A resource bundle: the minified IIFE and the CSS files it imports, in execution order.
#[derive(Debug)]
pub(crate) struct BrowserBundle {
    pub code: String,
    pub css: Vec<PathBuf>,
}

/// A Node ESM module (tool, server entry, or a `resource` export for evaluation).
#[derive(Debug)]
pub(crate) struct NodeBundle {
    pub code: String,
    /// Export names of the entry.
    pub exports: Vec<String>,
}

/// File extensions inlined as `data:` URLs in browser bundles (Vite's library mode inlines
/// every asset).
const ASSET_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "woff", "woff2", "ttf",
    "otf", "eot", "mp3", "mp4", "webm", "wav", "ogg",
];

/// Vite's `import.meta.env` in a production build, besides the `VITE_*` variables.
const IMPORT_META_ENV: [(&str, &str); 5] = [
    ("BASE_URL", "\"/\""),
    ("DEV", "false"),
    ("MODE", "\"production\""),
    ("PROD", "true"),
    ("SSR", "false"),
];

/// The `import.meta.env` object, keys sorted as Vite 8 writes it.
fn import_meta_env(env: &[(String, String)]) -> String {
    let mut entries: std::collections::BTreeMap<&str, String> = IMPORT_META_ENV
        .iter()
        .map(|(k, v)| (*k, (*v).to_owned()))
        .collect();
    for (key, value) in env {
        entries.insert(key, serde_json::Value::from(value.as_str()).to_string());
    }
    let fields: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(*k)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// Whether `import.meta.env.<key>` is a member expression a `define` key can name; other keys
/// (`VITE_A-B`) are reached through the object.
fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn src_alias(root: &Path) -> Vec<(String, Vec<Option<String>>)> {
    // "@" matches only "@" and "@/...": scoped packages such as @scope/pkg still resolve.
    vec![(
        "@".to_owned(),
        vec![Some(root.join("src").to_string_lossy().into_owned())],
    )]
}

/// The options of a browser build: minified IIFE, es2020, Vite's `define`s and asset
/// handling. `inputs` are (virtual) entry ids.
fn browser_options(root: &Path, inputs: &[String], env: &[(String, String)]) -> BundlerOptions {
    let mut define = rolldown_utils::indexmap::FxIndexMap::default();
    define.insert(
        "process.env.NODE_ENV".to_owned(),
        "\"production\"".to_owned(),
    );
    define.insert("import.meta.env".to_owned(), import_meta_env(env));
    for (key, value) in env.iter().filter(|(k, _)| is_identifier(k)) {
        define.insert(
            format!("import.meta.env.{key}"),
            serde_json::Value::from(value.as_str()).to_string(),
        );
    }
    for (k, v) in [
        ("MODE", "\"production\""),
        ("PROD", "true"),
        ("DEV", "false"),
        ("SSR", "false"),
        ("BASE_URL", "\"/\""),
    ] {
        define.insert(format!("import.meta.env.{k}"), v.to_owned());
    }
    let module_types = ASSET_EXTENSIONS
        .iter()
        .map(|ext| (format!(".{ext}"), ModuleType::Dataurl))
        .collect();
    BundlerOptions {
        input: Some(
            inputs
                .iter()
                .map(|id| InputItem {
                    name: Some("main".to_owned()),
                    import: id.clone(),
                })
                .collect(),
        ),
        cwd: Some(root.to_owned()),
        platform: Some(Platform::Browser),
        format: Some(OutputFormat::Iife),
        name: Some("SunpeakApp".to_owned()),
        minify: Some(RawMinifyOptions::Bool(true)),
        define: Some(define),
        module_types: Some(module_types),
        resolve: Some(ResolveOptions {
            condition_names: Some(
                ["style", "import", "module", "browser", "default"]
                    .map(String::from)
                    .to_vec(),
            ),
            alias: Some(src_alias(root)),
            ..Default::default()
        }),
        transform: Some(transform_options("es2020")),
        ..Default::default()
    }
}

/// TypeScript and JSX (React's automatic runtime) lowered to `target` (`es2020`, `node18`).
fn transform_options(target: &str) -> BundlerTransformOptions {
    BundlerTransformOptions {
        jsx: Some(Either::Right(JsxOptions {
            runtime: Some("automatic".to_owned()),
            ..Default::default()
        })),
        target: Some(Either::Left(target.to_owned())),
        ..Default::default()
    }
}

/// rolldown only warns about an unresolved package import and leaves it as an external
/// (a global in an IIFE): a self-contained resource cannot have one, so it is an error.
fn unresolved_imports(warnings: Vec<BuildDiagnostic>) -> Vec<BuildDiagnostic> {
    warnings
        .into_iter()
        .filter(|w| matches!(w.kind(), EventKind::UnresolvedImport))
        .map(|w| w.with_severity(Severity::Error))
        .collect()
}

/// The entry chunk's code.
fn entry_chunk(assets: Vec<Output>) -> Option<String> {
    assets.into_iter().find_map(|asset| match asset {
        Output::Chunk(chunk) if chunk.is_entry => Some(chunk.code.clone()),
        _ => None,
    })
}

/// Bundles a resource entry (given as source text under a virtual path) into one minified
/// IIFE for the browser, es2020, with CSS imports collected instead of bundled.
pub(crate) async fn bundle_browser(
    root: &Path,
    entry_id: &Path,
    entry_code: String,
    context: &BrowserContext,
) -> Result<BrowserBundle, Vec<Diagnostic>> {
    let entry_id = entry_id.to_string_lossy().into_owned();
    let options = browser_options(root, std::slice::from_ref(&entry_id), &context.env);
    let entry = Arc::new(VirtualEntry::new([(entry_id.clone(), entry_code)]));
    let suffixes = Arc::new(ImportSuffixes::new(context.inline_css.clone()));
    let css = Arc::new(CssCollector::default());
    let mut bundler = Bundler::with_plugins(options, vec![suffixes.clone(), entry, css.clone()])
        .map_err(|e| convert(root, e.into_vec()))?;
    let output = bundler.generate().await.map_err(|e| {
        let mut diagnostics = convert(root, e.into_vec());
        suffixes.explain(root, &mut diagnostics);
        diagnostics
    })?;
    let _ = bundler.close().await;

    let unresolved = unresolved_imports(output.warnings);
    if !unresolved.is_empty() {
        return Err(convert(root, unresolved));
    }
    let Some(code) = entry_chunk(output.assets) else {
        return Err(vec![plain("rolldown produced no entry chunk", "INTERNAL")]);
    };
    Ok(BrowserBundle {
        code,
        css: css.in_order(&entry_id),
    })
}

/// What a Node ESM bundle is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeTarget {
    /// A tool or the server entry: `dist/tools/<t>.js`, `dist/server.js`.
    Module,
    /// A `resource` export to be evaluated by Node: unused imports of packages are dropped,
    /// CSS is stubbed (`?inline` CSS is an empty string).
    Evaluation,
}

/// Bundles `input` (a file, or a virtual module when `virtual_code` is given) as ESM for
/// Node 18: relative and aliased imports bundled, package imports left as imports.
pub(crate) async fn bundle_node(
    root: &Path,
    input: &Path,
    virtual_code: Option<String>,
    target: NodeTarget,
) -> Result<NodeBundle, Vec<Diagnostic>> {
    let input_id = input.to_string_lossy().into_owned();
    let suffixes = Arc::new(ImportSuffixes::new(None));
    let mut plugins: Vec<Arc<dyn rolldown_plugin::Pluginable>> =
        vec![Arc::new(ExternalizePackages)];
    if let Some(code) = virtual_code {
        plugins.push(Arc::new(VirtualEntry::new([(input_id.clone(), code)])));
    }
    let mut options = BundlerOptions {
        input: Some(vec![InputItem {
            name: Some("main".to_owned()),
            import: input_id,
        }]),
        cwd: Some(root.to_owned()),
        platform: Some(Platform::Node),
        format: Some(OutputFormat::Esm),
        minify: Some(RawMinifyOptions::DeadCodeEliminationOnly),
        resolve: Some(ResolveOptions {
            alias: Some(src_alias(root)),
            ..Default::default()
        }),
        transform: Some(transform_options("node18")),
        ..Default::default()
    };
    if target == NodeTarget::Module {
        // rolldown's Node runtime imports `createRequire` from "node:module"; when that is
        // tree-shaken the bare `import "node:module";` would stay behind.
        options.treeshake = TreeshakeOptions::Option(InnerOptions {
            module_side_effects: ModuleSideEffects::Rules(vec![ModuleSideEffectsRule {
                test: HybridRegex::new("^node:module$").ok(),
                external: Some(true),
                side_effects: false,
            }]),
            ..Default::default()
        });
    }
    if target == NodeTarget::Evaluation {
        // `?raw` and `?url` values are real (a `resource` may use them), `?inline` CSS is "".
        plugins.insert(0, suffixes.clone());
        plugins.push(Arc::new(CssCollector::default()));
        options.module_types = Some(
            ASSET_EXTENSIONS
                .iter()
                .map(|ext| (format!(".{ext}"), ModuleType::Empty))
                .collect(),
        );
        options.treeshake = TreeshakeOptions::Option(InnerOptions {
            module_side_effects: ModuleSideEffects::Rules(vec![ModuleSideEffectsRule {
                test: None,
                external: Some(true),
                side_effects: false,
            }]),
            ..Default::default()
        });
    }
    let mut bundler =
        Bundler::with_plugins(options, plugins).map_err(|e| convert(root, e.into_vec()))?;
    let output = bundler.generate().await.map_err(|e| {
        let mut diagnostics = convert(root, e.into_vec());
        suffixes.explain(root, &mut diagnostics);
        diagnostics
    })?;
    let _ = bundler.close().await;
    for asset in output.assets {
        if let Output::Chunk(chunk) = asset
            && chunk.is_entry
        {
            return Ok(NodeBundle {
                code: chunk.code.clone(),
                exports: chunk.exports.iter().map(ToString::to_string).collect(),
            });
        }
    }
    Err(vec![plain("rolldown produced no entry chunk", "INTERNAL")])
}

/// Serves entry modules from memory (the generated `index-<k>.tsx`, or the evaluation
/// stub), under paths that make their relative imports resolve as if they were on disk.
#[derive(Debug)]
struct VirtualEntry {
    /// (id, code) pairs; a handful at most, so a list.
    modules: Vec<(String, String)>,
}

impl VirtualEntry {
    fn new(modules: impl IntoIterator<Item = (String, String)>) -> VirtualEntry {
        VirtualEntry {
            modules: modules.into_iter().collect(),
        }
    }

    fn code(&self, id: &str) -> Option<&str> {
        self.modules
            .iter()
            .find(|(m, _)| m == id)
            .map(|(_, code)| code.as_str())
    }
}

impl Plugin for VirtualEntry {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("sunpeak:virtual-entry")
    }

    fn register_hook_usage(&self) -> HookUsage {
        HookUsage::ResolveId | HookUsage::Load
    }

    async fn resolve_id(
        &self,
        _ctx: &PluginContext,
        args: &HookResolveIdArgs<'_>,
    ) -> HookResolveIdReturn {
        Ok(self
            .code(args.specifier)
            .is_some()
            .then(|| HookResolveIdOutput::from_id(args.specifier)))
    }

    async fn load(&self, _ctx: SharedLoadPluginContext, args: &HookLoadArgs<'_>) -> HookLoadReturn {
        let Some(code) = self.code(args.id) else {
            return Ok(None);
        };
        let module_type = if args.id.ends_with(".tsx") {
            ModuleType::Tsx
        } else {
            ModuleType::Ts
        };
        Ok(Some(HookLoadOutput {
            code: code.into(),
            module_type: Some(module_type),
            ..Default::default()
        }))
    }
}

/// Replaces every imported `.css` file with an empty module and remembers it: CSS is compiled
/// separately with lightningcss, as one sheet in import order.
///
/// That order comes from the import graph, recorded as modules are parsed, not from the order
/// in which files were loaded: rolldown loads modules in parallel, so load order changes from
/// run to run (it made the CSS of a resource come out in another order now and then, and with
/// it the resource's bytes and `ui://` id). Nor can the chunk's module order give it: the empty
/// stubs are tree-shaken and do not appear there.
#[derive(Debug, Default)]
struct CssCollector(Mutex<ImportGraph>);

/// The modules of a build and their imports, as far as parsed.
#[derive(Debug, Default)]
struct ImportGraph {
    /// The ids of the CSS stubs (with their query, if any).
    css: HashSet<String>,
    /// Per parsed module, what it imports: static imports and `require()`s in source order,
    /// then dynamic imports in source order.
    imports: HashMap<String, Vec<String>>,
}

fn is_css(id: &str) -> bool {
    let path = id.split('?').next().unwrap_or(id);
    path.ends_with(".css")
}

impl CssCollector {
    fn graph(&self) -> std::sync::MutexGuard<'_, ImportGraph> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The CSS files that `entry` imports, directly or not, in the order in which their stubs
    /// would execute: depth first along each module's imports in source order, a module after
    /// what it imports (as rolldown orders modules; dynamic imports come after the importing
    /// module's static ones here). The graph may hold other entries' modules (the shared scan):
    /// only what `entry` reaches counts.
    fn in_order(&self, entry: &str) -> Vec<PathBuf> {
        let graph = self.graph();
        let none: &[String] = &[];
        let imports = |id: &str| graph.imports.get(id).map_or(none, Vec::as_slice);
        let mut seen: HashSet<&str> = HashSet::from([entry]);
        let mut ordered = Vec::new();
        // (module, how many of its imports were visited): no recursion, however deep the graph.
        let mut stack: Vec<(&str, usize)> = vec![(entry, 0)];
        while let Some(&(id, next)) = stack.last() {
            match imports(id).get(next) {
                Some(child) => {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    if seen.insert(child) {
                        stack.push((child, 0));
                    }
                }
                None => {
                    stack.pop();
                    if graph.css.contains(id) {
                        ordered.push(PathBuf::from(id.split('?').next().unwrap_or(id)));
                    }
                }
            }
        }
        ordered
    }
}

impl Plugin for CssCollector {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("sunpeak:css-collect")
    }

    fn register_hook_usage(&self) -> HookUsage {
        HookUsage::Load | HookUsage::ModuleParsed
    }

    async fn load(&self, _ctx: SharedLoadPluginContext, args: &HookLoadArgs<'_>) -> HookLoadReturn {
        if !is_css(args.id) {
            return Ok(None);
        }
        self.graph().css.insert(args.id.to_owned());
        Ok(Some(HookLoadOutput {
            code: "".into(),
            module_type: Some(ModuleType::Js),
            side_effects: Some(HookSideEffects::True),
            ..Default::default()
        }))
    }

    async fn module_parsed(
        &self,
        _ctx: &PluginContext,
        info: Arc<ModuleInfo>,
        _module: &NormalModule,
    ) -> HookNoopReturn {
        let imports = info
            .imported_ids
            .iter()
            .chain(&info.dynamically_imported_ids)
            .map(|id| id.to_string())
            .collect();
        self.graph().imports.insert(info.id.to_string(), imports);
        Ok(())
    }
}

/// Leaves package imports (`zod`, `node:fs`, ...) as imports, resolved by Node at run time
/// from the project's `node_modules`, and bundles everything else. A bare-looking specifier
/// that is not an installed package but resolves into the project (the `@/` alias, tsconfig
/// `paths`) is bundled: that is the sunpeak bug we fix (esbuild externalized `@/lib` and
/// `sunpeak start` failed).
#[derive(Debug)]
struct ExternalizePackages;

fn is_bare(specifier: &str) -> bool {
    !(specifier.starts_with('.')
        || specifier.starts_with('/')
        || specifier.starts_with('\0')
        || Path::new(specifier).is_absolute())
}

/// Whether `node_modules/<package of specifier>` exists next to `importer` or above it
/// (symlinks included: npm `file:` dependencies and workspaces are symlinks).
fn is_installed_package(specifier: &str, importer: Option<&str>) -> bool {
    let name = package_name(specifier);
    if name.is_empty() || name == "@" || name.starts_with("@/") {
        return false;
    }
    let Some(importer) = importer else {
        return false;
    };
    let mut dir = Path::new(importer).parent();
    while let Some(d) = dir {
        if d.join("node_modules").join(name).symlink_metadata().is_ok() {
            return true;
        }
        dir = d.parent();
    }
    false
}

impl Plugin for ExternalizePackages {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("sunpeak:externalize-packages")
    }

    fn register_hook_usage(&self) -> HookUsage {
        HookUsage::ResolveId
    }

    async fn resolve_id(
        &self,
        ctx: &PluginContext,
        args: &HookResolveIdArgs<'_>,
    ) -> HookResolveIdReturn {
        if args.is_entry || !is_bare(args.specifier) {
            return Ok(None);
        }
        let external = || HookResolveIdOutput {
            id: args.specifier.into(),
            external: Some(ResolvedExternal::Bool(true)),
            ..Default::default()
        };
        if is_installed_package(args.specifier, args.importer) {
            return Ok(Some(external()));
        }
        match ctx.resolve(args.specifier, args.importer, None).await? {
            Ok(resolved) => {
                let id = resolved.id.to_string();
                let in_packages = id.contains("/node_modules/") || id.contains("\\node_modules\\");
                if in_packages || !Path::new(&id).is_absolute() {
                    Ok(Some(external()))
                } else {
                    Ok(Some(HookResolveIdOutput::from_resolved_id(resolved)))
                }
            }
            // A broken alias: let rolldown report the unresolved import.
            Err(_) if args.specifier.starts_with("@/") => Ok(None),
            // Not installed: keep the import; Node reports it at run time, as with esbuild.
            Err(_) => Ok(Some(external())),
        }
    }
}

fn plain(message: &str, code: &str) -> Diagnostic {
    Diagnostic {
        location: None,
        message: message.to_owned(),
        code: code.to_owned(),
        help: None,
    }
}

/// rolldown diagnostics → ours: `path:line:col`, one-line message, a hint where we have one.
/// Warnings are dropped (the builds we run treat only errors as failures).
fn convert(root: &Path, diagnostics: Vec<BuildDiagnostic>) -> Vec<Diagnostic> {
    let options = DiagnosticOptions {
        cwd: root.to_owned(),
    };
    let mut out: Vec<Diagnostic> = diagnostics
        .iter()
        .filter(|d| !matches!(d.severity(), Severity::Warning | Severity::Info))
        .map(|d| {
            let kind = d.kind();
            let rendered = d.to_diagnostic_with(&options);
            let location = rendered
                .get_primary_location()
                .map(|(file, line, utf16_col, _)| locate(root, &file, line, utf16_col));
            let message = first_line(&d.to_message_with(&options));
            Diagnostic {
                help: help_for(kind, &message),
                code: kind.to_string(),
                message,
                location,
            }
        })
        .collect();
    if out.is_empty() {
        out = diagnostics
            .iter()
            .map(|d| plain(&d.to_message_with(&options), &d.kind().to_string()))
            .collect();
    }
    out
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

/// A location from rolldown's (file, 1-based line, 0-based UTF-16 column).
fn locate(root: &Path, file: &str, line: usize, utf16_col: usize) -> Location {
    let path = root.join(file);
    let line_text = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| t.lines().nth(line.saturating_sub(1)).map(str::to_owned));
    let column = match &line_text {
        Some(text) => {
            let mut units = 0;
            let mut chars = 0;
            for c in text.chars() {
                if units >= utf16_col {
                    break;
                }
                units += c.len_utf16();
                chars += 1;
            }
            chars + 1
        }
        None => utf16_col + 1,
    };
    Location {
        file: relative_to(root, &path),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        line_text,
    }
}

fn help_for(kind: EventKind, message: &str) -> Option<String> {
    match kind {
        EventKind::UnresolvedImport => {
            let spec = message.split(['"', '\'']).nth(1).unwrap_or_default();
            if spec.is_empty() {
                None
            } else if is_bare(spec) && !spec.starts_with("@/") {
                let package = package_name(spec);
                Some(format!(
                    "is the package installed? Run: npm install {package}"
                ))
            } else {
                Some("check the path and the file extension of the import".to_owned())
            }
        }
        EventKind::MissingExportError => {
            Some("check the export's name, or add the export to that module".to_owned())
        }
        _ => None,
    }
}

/// `@scope/pkg/sub` → `@scope/pkg`, `pkg/sub` → `pkg`.
fn package_name(spec: &str) -> &str {
    let mut parts = spec.splitn(3, '/');
    let first = parts.next().unwrap_or(spec);
    if first.starts_with('@') {
        match parts.next() {
            Some(second) => &spec[..first.len() + 1 + second.len()],
            None => spec,
        }
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        assert_eq!(package_name("@scope/pkg/sub"), "@scope/pkg");
        assert_eq!(package_name("pkg/sub/x"), "pkg");
        assert_eq!(package_name("pkg"), "pkg");
    }

    #[test]
    fn bare_specifiers() {
        assert!(is_bare("zod"));
        assert!(is_bare("@/lib"));
        assert!(!is_bare("./x"));
        assert!(!is_bare("/abs"));
    }

    #[test]
    fn import_meta_env_object_is_sorted_like_vites() {
        assert_eq!(
            import_meta_env(&[]),
            r#"{"BASE_URL":"/","DEV":false,"MODE":"production","PROD":true,"SSR":false}"#
        );
        let env = [
            ("VITE_B".to_owned(), "b\n\"".to_owned()),
            ("VITE_A".to_owned(), "a".to_owned()),
        ];
        assert_eq!(
            import_meta_env(&env),
            r#"{"BASE_URL":"/","DEV":false,"MODE":"production","PROD":true,"SSR":false,"VITE_A":"a","VITE_B":"b\n\""}"#
        );
        assert!(is_identifier("VITE_A1") && !is_identifier("VITE_A-B") && !is_identifier("1A"));
    }
}
