//! Typed build errors. The library never prints: the binary formats these.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A place in a source file, for messages such as `src/a.tsx:3:14: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, relative to the project root when it is inside the project.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// The text of that line (without its newline), if it could be read.
    pub line_text: Option<String>,
}

impl Location {
    /// Builds a location from a 0-based byte offset into `source`.
    pub fn from_offset(file: PathBuf, source: &str, offset: usize) -> Location {
        let offset = floor_char_boundary(source, offset.min(source.len()));
        let before = &source[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i);
        let line = before.matches('\n').count() + 1;
        let column = source[line_start..offset].chars().count() + 1;
        Location {
            file,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            line_text: Some(
                source[line_start..line_end]
                    .trim_end_matches('\r')
                    .to_owned(),
            ),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One problem reported by the bundler or the CSS compiler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where, when known.
    pub location: Option<Location>,
    /// What went wrong, one line.
    pub message: String,
    /// A short machine-readable kind, e.g. `PARSE_ERROR`, `UNRESOLVED_IMPORT`, `MISSING_EXPORT`.
    pub code: String,
    /// What to do about it, when we know.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// ripgrep/rustc style: `path:line:col: message`, the source line, a caret, a hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => {
                write!(f, "{loc}: {}", self.message)?;
                if let Some(text) = &loc.line_text {
                    let number = loc.line.to_string();
                    let pad = " ".repeat(number.len());
                    let caret_pad: String = text
                        .chars()
                        .take(loc.column.saturating_sub(1) as usize)
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    write!(f, "\n {number} | {text}\n {pad} | {caret_pad}^")?;
                }
            }
            None => write!(f, "{}", self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// What was being built when something failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The resource `src/resources/<key>/<key>.tsx`.
    Resource(String),
    /// The tool `src/tools/<name>.ts`.
    Tool(String),
    /// The server entry `src/server.ts`.
    Server,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Resource(k) => write!(f, "Failed to build {k}"),
            Target::Tool(t) => write!(f, "Failed to compile tool {t}"),
            Target::Server => write!(f, "Failed to compile server entry"),
        }
    }
}

/// Everything that can make `sunpeak build` fail. The old output directory is untouched in
/// every case.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The project root has no `package.json`.
    #[error("No package.json found in {}.", dir.display())]
    NoPackageJson {
        /// The directory that was searched.
        dir: PathBuf,
    },
    /// `package.json` is not valid JSON (or not an object).
    #[error("{}: invalid package.json: {message}", location.as_ref().map_or_else(|| "package.json".to_owned(), ToString::to_string))]
    InvalidPackageJson {
        /// Where the parser stopped.
        location: Option<Location>,
        /// The parser's message.
        message: String,
    },
    /// `src/resources/` exists but `src/index-resource.tsx` does not.
    #[error(
        "src/index-resource.tsx not found\nExpected location: {}\n\nThis file is the template entry point for building resources.\nIf you have moved or renamed it, you may need to use a custom build script.",
        expected.display()
    )]
    MissingEntryTemplate {
        /// Where it was expected.
        expected: PathBuf,
    },
    /// `src/index-resource.tsx` lacks `// RESOURCE_IMPORT` or `// RESOURCE_MOUNT`.
    #[error(
        "src/index-resource.tsx is missing \"{placeholder}\" placeholder\n\nThe template file must include this comment where the resource {what} should go.\nIf you have customized this file, ensure it has the required placeholders.",
        what = if *placeholder == "// RESOURCE_IMPORT" { "import" } else { "mount" }
    )]
    MissingPlaceholder {
        /// The missing comment, e.g. `// RESOURCE_MOUNT`.
        placeholder: &'static str,
    },
    /// The bundler reported errors (syntax errors, unresolved imports, missing exports, ...).
    #[error("{target}:\n{}", join_diagnostics(diagnostics))]
    Bundle {
        /// What was being built.
        target: Target,
        /// The errors, in the bundler's order.
        diagnostics: Vec<Diagnostic>,
    },
    /// A resource file does not export `resource`.
    #[error(
        "No \"resource\" export found in {}. Add: export const resource: ResourceConfig = {{ title: '...', ... }};",
        file.display()
    )]
    MissingResourceExport {
        /// The resource file.
        file: PathBuf,
    },
    /// A resource file does not export its component `<Pascal>Resource`.
    #[error(
        "No \"{export}\" export found in {}. The component of resource \"{key}\" must be exported as: export function {export}() {{ ... }}",
        file.display()
    )]
    MissingComponentExport {
        /// The resource key (directory name).
        key: String,
        /// The resource file.
        file: PathBuf,
        /// The expected export name.
        export: String,
    },
    /// Evaluating a `resource` export failed.
    #[error("Failed to evaluate the \"resource\" export of {}: {message}", file.display())]
    ResourceEval {
        /// The resource file.
        file: PathBuf,
        /// What went wrong (a JavaScript exception, or why it could not be evaluated).
        message: String,
    },
    /// The CSS of a resource could not be compiled.
    #[error("Failed to build {key}: CSS error:\n{diagnostic}")]
    Css {
        /// The resource key.
        key: String,
        /// The error.
        diagnostic: Box<Diagnostic>,
    },
    /// A package the project needs for this build is not installed.
    #[error(
        "{needed_for} needs the package \"{package}\", which is not installed in this project.\n\nRun: {install}"
    )]
    MissingPackage {
        /// The package that could not be loaded, e.g. `@tailwindcss/node`.
        package: String,
        /// Why it is needed.
        needed_for: String,
        /// The command that installs it.
        install: String,
    },
    /// Node.js is needed (Tailwind, or a computed `resource`) but could not be started.
    #[error(
        "{needed_for} needs Node.js, which could not be started: {source}\n\nInstall Node.js 18 or newer and make sure `node` is on PATH."
    )]
    NodeNotFound {
        /// Why Node.js is needed.
        needed_for: String,
        /// The error from spawning `node`.
        #[source]
        source: io::Error,
    },
    /// The Node.js helper process (Tailwind, `resource` evaluation) failed.
    #[error("{context}: {message}")]
    Node {
        /// What it was doing.
        context: String,
        /// Its error message.
        message: String,
    },
    /// A bug or an unexpected failure inside the bundler (a panicked task).
    #[error("internal error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
    /// A file system operation failed.
    #[error("Failed to {action} {}: {source}", path.display())]
    Io {
        /// What we tried, e.g. `read`, `write`, `create directory`.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

fn join_diagnostics(d: &[Diagnostic]) -> String {
    d.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl BuildError {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> BuildError {
        BuildError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

/// Shortens `path` to be relative to `root` when it lies inside it (for messages).
pub(crate) fn relative_to(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map_or_else(|_| path.to_owned(), Path::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_from_offset_counts_lines_and_chars() {
        let src = "a\nconst é = {;\n";
        let loc = Location::from_offset("x.ts".into(), src, src.find('{').unwrap_or(0) + 1);
        assert_eq!((loc.line, loc.column), (2, 12));
        assert_eq!(loc.line_text.as_deref(), Some("const é = {;"));
    }

    #[test]
    fn diagnostic_display_has_caret_under_column() {
        let d = Diagnostic {
            location: Some(Location {
                file: "src/a.ts".into(),
                line: 3,
                column: 5,
                line_text: Some("let x = ;".into()),
            }),
            message: "Unexpected token".into(),
            code: "PARSE_ERROR".into(),
            help: Some("fix it".into()),
        };
        assert_eq!(
            d.to_string(),
            "src/a.ts:3:5: Unexpected token\n 3 | let x = ;\n   |     ^\n  help: fix it"
        );
    }
}
