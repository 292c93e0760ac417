//! CSS: the files a resource imports become one minified sheet, as Vite makes it with
//! `cssCodeSplit: false`: `@import`s inlined (bare ones through package `exports`, conditions
//! `style`, `import`, `default`), minified across the whole sheet with lightningcss, for the
//! browsers Vite derives from `build.target: 'es2020'`. Unknown at-rules such as `@source` are
//! kept verbatim, as Vite keeps them.
//!
//! Tailwind v4 runs (in Node, see [`crate::node`]) only for files whose text, or the text of a
//! file they import, contains a Tailwind directive.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use lightningcss::bundler::{Bundler, FileProvider, ResolveResult, SourceProvider};
use lightningcss::rules::{CssRule, CssRuleList};
use lightningcss::stylesheet::{MinifyOptions, ParserOptions, PrinterOptions, StyleSheet};
use lightningcss::targets::{Browsers, Targets};
use oxc_resolver::{ResolveOptions, Resolver};

use crate::error::{Diagnostic, Location, relative_to};

/// Resolves bare CSS `@import`s like Vite: package `exports` with the `style` condition, or the
/// `style` field of package.json.
pub(crate) fn css_resolver() -> Resolver {
    Resolver::new(ResolveOptions {
        condition_names: vec!["style".into(), "import".into(), "default".into()],
        main_fields: vec!["style".into(), "main".into()],
        extensions: vec![".css".into()],
        ..ResolveOptions::default()
    })
}

/// Vite's CSS targets for `build.target: 'es2020'`.
fn targets() -> Targets {
    let v = |major: u32, minor: u32| Some((major << 16) | (minor << 8));
    Targets::from(Browsers {
        chrome: v(80, 0),
        edge: v(80, 0),
        firefox: v(80, 0),
        safari: v(14, 1),
        ios_saf: v(14, 5),
        opera: v(67, 0),
        ..Browsers::default()
    })
}

/// Reads files from disk, except files whose content was replaced (by the Tailwind
/// compiler's output).
struct Sources<'r> {
    fs: FileProvider,
    resolver: &'r Resolver,
    replaced: HashMap<PathBuf, String>,
}

impl SourceProvider for Sources<'_> {
    type Error = std::io::Error;

    fn read<'a>(&'a self, file: &Path) -> Result<&'a str, Self::Error> {
        if let Some(text) = self.replaced.get(file) {
            return Ok(text);
        }
        self.fs.read(file)
    }

    fn resolve(&self, specifier: &str, from: &Path) -> Result<ResolveResult, Self::Error> {
        resolve_import(self.resolver, specifier, from)
    }
}

fn resolve_import(
    resolver: &Resolver,
    specifier: &str,
    from: &Path,
) -> Result<ResolveResult, std::io::Error> {
    if specifier.contains("://") || specifier.starts_with("data:") {
        return Ok(ResolveResult::External(specifier.to_owned()));
    }
    let dir = from.parent().unwrap_or(Path::new("/"));
    let as_path = Path::new(specifier);
    if as_path.is_absolute() {
        return Ok(ResolveResult::File(as_path.to_owned()));
    }
    if specifier.starts_with('.') {
        return Ok(ResolveResult::File(dir.join(specifier)));
    }
    // CSS treats `@import "a.css"` as relative; Vite tries that first, then packages.
    let relative = dir.join(specifier);
    if relative.is_file() {
        return Ok(ResolveResult::File(relative));
    }
    resolver
        .resolve(dir, specifier)
        .map(|r| ResolveResult::File(r.full_path()))
        .map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("cannot resolve @import \"{specifier}\": {e}"),
            )
        })
}

/// Vite appends this marker to every CSS chunk; sunpeak's inlined CSS carries it.
pub(crate) const VITE_CSS_MARKER: &str = "\n/*$vite$:1*/";

/// Compiles the CSS `modules` a resource imports (in import order) into one minified sheet,
/// as Vite does: each module has its `@import`s inlined on its own (postcss-import semantics,
/// including the hoisting of leading `@layer a;` statements), then the modules are
/// concatenated and minified as one sheet. `replaced` maps files to new contents (Tailwind
/// output). Returns an empty string when there is no CSS at all.
pub(crate) fn compile(
    root: &Path,
    resolver: &Resolver,
    modules: &[PathBuf],
    replaced: HashMap<PathBuf, String>,
) -> Result<String, Box<Diagnostic>> {
    let mut replaced = replaced;
    inline_assets(resolver, modules, &mut replaced);
    let sources = Sources {
        fs: FileProvider::new(),
        resolver,
        replaced,
    };
    let mut rules = Vec::new();
    let mut license_comments = Vec::new();
    let mut first = true;
    for module in modules {
        let mut bundler = Bundler::new(&sources, None, ParserOptions::default());
        let sheet = bundler
            .bundle(module)
            .map_err(|e| css_diagnostic(root, &e.kind.to_string(), e.loc.as_ref()))?;
        let inlines_imports = sources.read(module).is_ok_and(|t| t.contains("@import"));
        let mut bundled = sheet.rules.0;
        drop_placeholders(&mut bundled);
        let (module_rules, hoisted) = if inlines_imports {
            hoist_layer_statements(bundled)
        } else {
            (bundled, false)
        };
        // License comments survive only at the very start of the sheet.
        if first && !module_rules.is_empty() {
            first = false;
            if !hoisted {
                license_comments = sheet.license_comments;
            }
        }
        rules.extend(module_rules);
    }
    if rules.is_empty() {
        return Ok(String::new());
    }
    let targets = targets();
    let mut sheet = StyleSheet::new(Vec::new(), CssRuleList(rules), ParserOptions::default());
    sheet.license_comments = license_comments;
    sheet
        .minify(MinifyOptions {
            targets,
            ..MinifyOptions::default()
        })
        .map_err(|e| css_diagnostic(root, &e.kind.to_string(), None))?;
    let mut css = sheet
        .to_css(PrinterOptions {
            minify: true,
            targets,
            ..PrinterOptions::default()
        })
        .map_err(|e| css_diagnostic(root, &e.kind.to_string(), None))?
        .code;
    css.push_str(VITE_CSS_MARKER);
    Ok(css)
}

/// Rewrites local `url(...)`s of every file the modules load (through `@import`s) into `data:`
/// URLs, relative to the file that contains them (as Vite rebases them).
fn inline_assets(
    resolver: &Resolver,
    modules: &[PathBuf],
    replaced: &mut HashMap<PathBuf, String>,
) {
    let mut seen = HashSet::new();
    let mut stack: Vec<PathBuf> = modules.to_vec();
    while let Some(file) = stack.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let text = match replaced.get(&file) {
            Some(t) => t.clone(),
            None => match fs::read_to_string(&file) {
                Ok(t) => t,
                Err(_) => continue,
            },
        };
        for spec in imports(&text) {
            if let Ok(ResolveResult::File(p)) = resolve_import(resolver, &spec, &file) {
                stack.push(p);
            }
        }
        if text.contains("url(")
            && let Some(inlined) = crate::css_urls::inline_urls(&text, &file)
        {
            replaced.insert(file, inlined);
        }
    }
}

/// lightningcss's bundler leaves an empty placeholder where each `@import` was; postcss-import
/// (Vite) leaves nothing. A placeholder would keep the minifier from merging the rules around
/// it (`.a{x}` from an imported file and `.b{x}` after the import become `.a,.b{x}` in Vite).
fn drop_placeholders(rules: &mut Vec<CssRule<'_>>) {
    rules.retain(|r| !matches!(r, CssRule::Ignored));
    for rule in rules.iter_mut() {
        match rule {
            CssRule::LayerBlock(b) => drop_placeholders(&mut b.rules.0),
            CssRule::Media(m) => drop_placeholders(&mut m.rules.0),
            CssRule::Supports(s) => drop_placeholders(&mut s.rules.0),
            _ => {}
        }
    }
}

/// postcss-import (which Vite runs on a CSS module that has `@import`s) moves the `@layer a;`
/// statements that precede every style rule of their file to the top of the module, e.g.
/// `@layer components;` of `sunpeak/style.css`. Returns the rules and whether any moved.
fn hoist_layer_statements<'i>(rules: Vec<CssRule<'i>>) -> (Vec<CssRule<'i>>, bool) {
    let mut styled_sources = HashSet::new();
    let mut hoisted = Vec::new();
    let mut rest = Vec::with_capacity(rules.len());
    for rule in rules {
        match &rule {
            CssRule::Style(style) => {
                styled_sources.insert(style.loc.source_index);
                rest.push(rule);
            }
            CssRule::LayerStatement(layer) if !styled_sources.contains(&layer.loc.source_index) => {
                hoisted.push(rule);
            }
            _ => rest.push(rule),
        }
    }
    let moved = !hoisted.is_empty();
    hoisted.extend(rest);
    (hoisted, moved)
}

fn css_diagnostic(
    root: &Path,
    message: &str,
    loc: Option<&lightningcss::error::ErrorLocation>,
) -> Box<Diagnostic> {
    let location = loc.map(|l| {
        let path = PathBuf::from(&l.filename);
        let line_text = fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.lines().nth(l.line as usize).map(str::to_owned));
        Location {
            file: relative_to(root, &path),
            line: l.line + 1,
            column: l.column,
            line_text,
        }
    });
    Box::new(Diagnostic {
        location,
        message: message.to_owned(),
        code: "CSS_ERROR".to_owned(),
        help: None,
    })
}

/// Text that makes a stylesheet a Tailwind source (a superset of what turns on a Tailwind
/// feature; Tailwind itself then decides, as `@tailwindcss/vite` does).
const TAILWIND_MARKERS: &[&str] = &[
    "@tailwind",
    "@apply",
    "@theme",
    "@utility",
    "@variant",
    "@custom-variant",
    "@plugin",
    "@config",
    "@reference",
    "theme(",
    "--spacing(",
    "--alpha(",
];

fn has_tailwind_marker(css: &str) -> bool {
    TAILWIND_MARKERS.iter().any(|m| css.contains(m))
        || imports(css)
            .iter()
            .any(|s| s == "tailwindcss" || s.starts_with("tailwindcss/"))
}

/// The `@import` specifiers of a stylesheet (a scan, not a parse: good enough to follow them).
fn imports(css: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = css;
    while let Some(at) = rest.find("@import") {
        rest = &rest[at + "@import".len()..];
        let trimmed = rest.trim_start();
        let trimmed = trimmed.strip_prefix("url(").unwrap_or(trimmed).trim_start();
        let Some(quote) = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let body = &trimmed[1..];
        if let Some(end) = body.find(quote) {
            found.push(body[..end].to_owned());
        }
    }
    found
}

/// Whether `file` or anything it imports (transitively) uses Tailwind directives.
pub(crate) fn needs_tailwind(resolver: &Resolver, file: &Path) -> bool {
    let mut stack = vec![file.to_owned()];
    let mut seen = Vec::new();
    while let Some(f) = stack.pop() {
        if seen.contains(&f) {
            continue;
        }
        let Ok(text) = fs::read_to_string(&f) else {
            continue;
        };
        if has_tailwind_marker(&text) {
            return true;
        }
        for spec in imports(&text) {
            if let Ok(ResolveResult::File(p)) = resolve_import(resolver, &spec, &f) {
                stack.push(p);
            }
        }
        seen.push(f);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_imports() {
        assert_eq!(
            imports("@import \"a.css\"; @import url('b.css') layer(x);\n@import url(c.css);"),
            vec!["a.css", "b.css"]
        );
    }

    #[test]
    fn markers() {
        assert!(has_tailwind_marker("@import \"tailwindcss\";"));
        assert!(has_tailwind_marker("@import 'tailwindcss/utilities.css';"));
        assert!(has_tailwind_marker(".a { @apply p-4; }"));
        assert!(!has_tailwind_marker(
            "@import \"sunpeak/style.css\";\n@source \"../**/*.{ts,tsx}\";"
        ));
    }
}
