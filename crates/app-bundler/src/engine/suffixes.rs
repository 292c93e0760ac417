//! Vite's import suffixes in resource code, and Vite's form of inlined assets.
//!
//! - `import text from './a.txt?raw'`: the file's text (UTF-8) as a string;
//! - `import u from './logo.svg?url'`: a `data:` URL (Vite's library mode inlines every
//!   asset), as is a plain `import u from './logo.svg'`: SVG URL-encoded, the rest base64;
//! - `import css from './x.css?inline'`: the compiled, minified CSS as a string, not injected
//!   into the page.
//!
//! As in Vite, `raw` wins over `url`, `url` over `inline`, and other query parameters are
//! ignored (`./a.ts?v=2` imports `./a.ts`; `./a.png?inline` is an asset import, already
//! inlined). Vite's `?worker`, `?sharedworker` and `?init` imports are not supported and fail
//! the build with a message that names them.

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use rolldown::ModuleType;
use rolldown_plugin::{
    HookLoadArgs, HookLoadOutput, HookLoadReturn, HookResolveIdArgs, HookResolveIdOutput,
    HookResolveIdReturn, HookUsage, Plugin, PluginContext, SharedLoadPluginContext,
};

use super::ASSET_EXTENSIONS;
use crate::error::{Diagnostic, relative_to};

/// Compiles one CSS file the way the page's CSS is compiled (same pipeline, same targets,
/// minified), without Vite's chunk marker: the string a `?inline` import gets. The error is
/// a complete message.
pub(crate) type InlineCss = Arc<
    dyn Fn(PathBuf) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send + Sync,
>;

/// What an import suffix asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suffix {
    Raw,
    Url,
    Inline,
}

/// Vite's `rawRE`, `urlRE` and `inlineRE`, in the order Vite's plugins test them.
fn suffix(query: &str) -> Option<Suffix> {
    let params: Vec<&str> = query.split('&').collect();
    if params.contains(&"raw") {
        return Some(Suffix::Raw);
    }
    if params.contains(&"url") {
        return Some(Suffix::Url);
    }
    // `/[?&]inline\b/`
    let inline = params.iter().any(|p| {
        p.strip_prefix("inline")
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    });
    inline.then_some(Suffix::Inline)
}

/// Vite queries that need more than a plugin can give (a worker bundle, a WebAssembly
/// instance).
fn unsupported(query: &str) -> Option<&str> {
    query
        .split('&')
        .find(|p| matches!(*p, "worker" | "sharedworker" | "init"))
}

fn is_css_path(path: &str) -> bool {
    path.ends_with(".css")
}

fn is_asset_path(path: &str) -> bool {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ASSET_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The rolldown plugin (first in the list, so that `x.css?inline` never reaches the CSS
/// collector).
pub(super) struct ImportSuffixes {
    /// `None` where the CSS does not matter (the bundle that evaluates `resource` in Node):
    /// `?inline` CSS is then an empty string.
    inline_css: Option<InlineCss>,
    /// (file, message) of every load that failed: rolldown reports a failed load as
    /// "plugin ... threw an error", without the error's own message, which
    /// [`ImportSuffixes::explain`] puts back.
    failures: Mutex<Vec<(String, String)>>,
}

/// What rolldown writes in place of a plugin's error message.
const THREW: &str = "plugin `sunpeak:import-suffixes` threw an error";

impl ImportSuffixes {
    pub(super) fn new(inline_css: Option<InlineCss>) -> ImportSuffixes {
        ImportSuffixes {
            inline_css,
            failures: Mutex::default(),
        }
    }

    /// Remembers why loading `file` failed and returns the error for rolldown.
    fn fail(&self, file: &Path, message: String) -> anyhow::Error {
        let first = message.lines().next().unwrap_or_default().to_owned();
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((file.to_string_lossy().into_owned(), first));
        anyhow::Error::msg(message)
    }

    /// Puts the messages of failed loads into the diagnostics that lost them.
    pub(super) fn explain(&self, root: &Path, diagnostics: &mut [Diagnostic]) {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        for d in diagnostics.iter_mut().filter(|d| d.message.contains(THREW)) {
            let failure = failures
                .iter()
                .find(|(file, _)| {
                    let rel = relative_to(root, Path::new(file));
                    d.message.contains(rel.to_string_lossy().as_ref())
                })
                .or(failures.first());
            if let Some((_, message)) = failure {
                d.message = d.message.replace(THREW, message.trim_end_matches('.'));
            }
        }
    }

    async fn css(&self, path: &Path) -> anyhow::Result<String> {
        match &self.inline_css {
            Some(compile) => compile(path.to_owned())
                .await
                .map_err(|message| self.fail(path, message)),
            None => Ok(String::new()),
        }
    }

    fn read(&self, path: &Path) -> anyhow::Result<Vec<u8>> {
        std::fs::read(path)
            .map_err(|e| self.fail(path, format!("cannot read {}: {e}", path.display())))
    }
}

impl std::fmt::Debug for ImportSuffixes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportSuffixes").finish_non_exhaustive()
    }
}

fn js_module(code: String) -> HookLoadReturn {
    Ok(Some(HookLoadOutput {
        code: code.into(),
        module_type: Some(ModuleType::Js),
        ..Default::default()
    }))
}

fn export_string(value: &str) -> String {
    format!("export default {};\n", serde_json::Value::from(value))
}

impl Plugin for ImportSuffixes {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("sunpeak:import-suffixes")
    }

    fn register_hook_usage(&self) -> HookUsage {
        HookUsage::ResolveId | HookUsage::Load
    }

    async fn resolve_id(
        &self,
        ctx: &PluginContext,
        args: &HookResolveIdArgs<'_>,
    ) -> HookResolveIdReturn {
        let Some((path, query)) = args.specifier.split_once('?') else {
            return Ok(None);
        };
        if args.is_entry
            || path.is_empty()
            || args.specifier.starts_with("data:")
            || args.specifier.contains("://")
        {
            return Ok(None);
        }
        // Not found: rolldown reports the import as written, with its file and line.
        let Ok(resolved) = ctx.resolve(path, args.importer, None).await? else {
            return Ok(None);
        };
        let keep = unsupported(query).is_some()
            || match suffix(query) {
                Some(Suffix::Raw | Suffix::Url) => true,
                Some(Suffix::Inline) => is_css_path(resolved.id.as_str()),
                None => false,
            };
        let mut output = HookResolveIdOutput::from_resolved_id(resolved);
        if keep {
            output.id = format!("{}?{query}", output.id).into();
        }
        Ok(Some(output))
    }

    async fn load(&self, _ctx: SharedLoadPluginContext, args: &HookLoadArgs<'_>) -> HookLoadReturn {
        let Some((path, query)) = args.id.split_once('?') else {
            if is_asset_path(args.id) {
                let file = Path::new(args.id);
                let url = crate::css_urls::asset_data_url(file, &self.read(file)?);
                return js_module(export_string(&url));
            }
            return Ok(None);
        };
        let file = Path::new(path);
        if let Some(param) = unsupported(query) {
            return Err(self.fail(
                file,
                format!("Vite's ?{param} imports are not supported by sunpeak build"),
            ));
        }
        match suffix(query) {
            Some(Suffix::Raw) => {
                let bytes = self.read(file)?;
                js_module(export_string(&String::from_utf8_lossy(&bytes)))
            }
            Some(Suffix::Url) if is_css_path(path) => {
                let css = self.css(file).await?;
                let url = crate::css_urls::asset_data_url(file, css.as_bytes());
                js_module(export_string(&url))
            }
            Some(Suffix::Url) => {
                let url = crate::css_urls::asset_data_url(file, &self.read(file)?);
                js_module(export_string(&url))
            }
            Some(Suffix::Inline) if is_css_path(path) => {
                let css = self.css(file).await?;
                js_module(export_string(&css))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_like_vite() {
        assert_eq!(suffix("raw"), Some(Suffix::Raw));
        assert_eq!(suffix("url&raw"), Some(Suffix::Raw));
        assert_eq!(suffix("url&inline"), Some(Suffix::Url));
        assert_eq!(suffix("inline"), Some(Suffix::Inline));
        assert_eq!(suffix("inline=1"), Some(Suffix::Inline));
        assert_eq!(suffix("inlined"), None);
        assert_eq!(suffix("rawx"), None);
        assert_eq!(suffix("v=2"), None);
        assert_eq!(unsupported("worker&url"), Some("worker"));
        assert_eq!(unsupported("url"), None);
    }
}
