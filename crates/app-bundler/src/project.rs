//! Project discovery: what `sunpeak build` reads, with the npm sunpeak's rules
//! (`sunpeak-reference.md` 1.2): `package.json`, `src/resources/<k>/<k>.tsx`,
//! `src/index-resource.tsx`, `src/tools/*.ts` (not `*.test.ts`), `src/server.ts`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{BuildError, Location};

/// The placeholder replaced by the resource import.
pub(crate) const IMPORT_PLACEHOLDER: &str = "// RESOURCE_IMPORT";
/// The placeholder replaced by the mount statement.
pub(crate) const MOUNT_PLACEHOLDER: &str = "// RESOURCE_MOUNT";

/// A discovered project.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    /// `package.json` `name` (`|| 'sunpeak-app'`), as JSON because sunpeak embeds it with
    /// `JSON.stringify`.
    pub app_name: Value,
    /// `package.json` `version` (`|| '0.1.0'`), as JSON.
    pub app_version: Value,
    /// Resources in directory order.
    pub resources: Vec<ResourceSource>,
    /// Text of `src/index-resource.tsx` (present when there is at least one resource).
    pub entry_template: Option<String>,
    /// Tools in directory order.
    pub tools: Vec<ToolSource>,
    /// `src/server.ts`, if present.
    pub server: Option<PathBuf>,
}

/// `src/resources/<key>/<key>.tsx`.
#[derive(Debug, Clone)]
pub(crate) struct ResourceSource {
    /// Directory name.
    pub key: String,
    /// Absolute path of `<key>.tsx`.
    pub file: PathBuf,
    /// `<Pascal(key)>Resource`.
    pub component: String,
}

/// `src/tools/<name>.ts`.
#[derive(Debug, Clone)]
pub(crate) struct ToolSource {
    /// File name without `.ts`.
    pub name: String,
    /// Absolute path.
    pub file: PathBuf,
}

/// sunpeak's `toPascalCase`: split on `-`, upper-case the first character of each part.
pub(crate) fn pascal_case(key: &str) -> String {
    key.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// JavaScript truthiness of a JSON value (for `pkg.name || default`).
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Sorted names of the entries of `dir` (libuv's `readdir` order is bytewise sorted).
fn sorted_entries(dir: &Path) -> Result<Vec<fs::DirEntry>, BuildError> {
    let read = fs::read_dir(dir).map_err(|e| BuildError::io("read directory", dir, e))?;
    let mut entries = Vec::new();
    for entry in read {
        entries.push(entry.map_err(|e| BuildError::io("read directory", dir, e))?);
    }
    entries.sort_by_key(fs::DirEntry::file_name);
    Ok(entries)
}

impl Project {
    /// Reads the project at `root` (absolute).
    pub(crate) fn discover(root: &Path) -> Result<Project, BuildError> {
        let pkg_path = root.join("package.json");
        let pkg_text = match fs::read_to_string(&pkg_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BuildError::NoPackageJson {
                    dir: root.to_owned(),
                });
            }
            Err(e) => return Err(BuildError::io("read", &pkg_path, e)),
        };
        let pkg: Value = serde_json::from_str(&pkg_text).map_err(|e| {
            let offset = line_col_to_offset(&pkg_text, e.line(), e.column());
            BuildError::InvalidPackageJson {
                location: (e.line() > 0)
                    .then(|| Location::from_offset("package.json".into(), &pkg_text, offset)),
                message: e.to_string(),
            }
        })?;
        let field = |name: &str, default: &str| match pkg.get(name) {
            Some(v) if truthy(v) => v.clone(),
            _ => Value::String(default.to_owned()),
        };
        let app_name = field("name", "sunpeak-app");
        let app_version = field("version", "0.1.0");

        let resources_dir = root.join("src/resources");
        let template_path = root.join("src/index-resource.tsx");
        let has_resources_dir = resources_dir.exists();
        if has_resources_dir && !template_path.exists() {
            return Err(BuildError::MissingEntryTemplate {
                expected: template_path,
            });
        }

        let mut resources = Vec::new();
        if has_resources_dir {
            for entry in sorted_entries(&resources_dir)? {
                // Dirent.isDirectory(): a symlink to a directory does not count.
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                let Some(key) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let file = entry.path().join(format!("{key}.tsx"));
                if is_dir && file.exists() {
                    resources.push(ResourceSource {
                        component: format!("{}Resource", pascal_case(&key)),
                        key,
                        file,
                    });
                }
            }
        }

        let entry_template = if resources.is_empty() {
            None
        } else {
            let text = fs::read_to_string(&template_path)
                .map_err(|e| BuildError::io("read", &template_path, e))?;
            for placeholder in [IMPORT_PLACEHOLDER, MOUNT_PLACEHOLDER] {
                if !text.contains(placeholder) {
                    return Err(BuildError::MissingPlaceholder { placeholder });
                }
            }
            Some(text)
        };

        let tools_dir = root.join("src/tools");
        let mut tools = Vec::new();
        if tools_dir.is_dir() {
            for entry in sorted_entries(&tools_dir)? {
                let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let is_dir = entry.path().is_dir();
                if !is_dir && file_name.ends_with(".ts") && !file_name.ends_with(".test.ts") {
                    tools.push(ToolSource {
                        name: file_name.trim_end_matches(".ts").to_owned(),
                        file: entry.path(),
                    });
                }
            }
        }
        let server_path = root.join("src/server.ts");
        let server = server_path.is_file().then_some(server_path);

        Ok(Project {
            app_name,
            app_version,
            resources,
            entry_template,
            tools,
            server,
        })
    }
}

/// Byte offset of a 1-based line and column (as serde_json reports them).
fn line_col_to_offset(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    text.len()
}

/// JavaScript `String.prototype.replace(string, string)`: replaces the first occurrence and
/// expands `$$`, `$&`, `` $` `` and `$'` in the replacement, as sunpeak's template filling does.
pub(crate) fn js_replace_first(haystack: &str, needle: &str, replacement: &str) -> String {
    let Some(at) = haystack.find(needle) else {
        return haystack.to_owned();
    };
    let (before, after) = (&haystack[..at], &haystack[at + needle.len()..]);
    let mut expanded = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            expanded.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                expanded.push('$');
            }
            Some('&') => {
                chars.next();
                expanded.push_str(needle);
            }
            Some('`') => {
                chars.next();
                expanded.push_str(before);
            }
            Some('\'') => {
                chars.next();
                expanded.push_str(after);
            }
            _ => expanded.push('$'),
        }
    }
    format!("{before}{expanded}{after}")
}

/// The generated entry of resource `r`: the template with both placeholders filled in, exactly
/// as sunpeak does (`sunpeak-reference.md` 1.4).
pub(crate) fn resource_entry(project: &Project, template: &str, r: &ResourceSource) -> String {
    let import = format!(
        "import {{ {}, resource }} from '../src/resources/{}/{}';",
        r.component, r.key, r.key
    );
    let mount = format!(
        "createRoot(root).render(<AppProvider appInfo={{{{ name: {}, version: {} }}}}><{} /></AppProvider>);",
        project.app_name, project.app_version, r.component
    );
    let with_import = js_replace_first(template, IMPORT_PLACEHOLDER, &import);
    js_replace_first(&with_import, MOUNT_PLACEHOLDER, &mount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_case_matches_sunpeak() {
        assert_eq!(pascal_case("my-widget"), "MyWidget");
        assert_eq!(pascal_case("my_widget"), "My_widget");
        assert_eq!(pascal_case("albums"), "Albums");
        assert_eq!(pascal_case("a--b"), "AB");
    }

    #[test]
    fn js_replace_expands_dollar_patterns() {
        assert_eq!(js_replace_first("x A y A", "A", "[$&|$$]"), "x [A|$] y A");
        assert_eq!(js_replace_first("ab", "z", "q"), "ab");
        assert_eq!(js_replace_first("1A2", "A", "$`$'"), "1122");
    }

    #[test]
    fn truthiness() {
        assert!(!truthy(&Value::String(String::new())));
        assert!(truthy(&serde_json::json!(1)));
        assert!(!truthy(&serde_json::json!(0)));
    }
}
