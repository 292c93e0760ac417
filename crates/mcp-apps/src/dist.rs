//! Reading a project and its built `dist/`: `package.json` and the UI resources.
//!
//! Layout (written by `sunpeak build`, ours or npm's): every directory `dist/<d>/` other than
//! `tools` and `build-output` that holds both `<d>.json` (the resource metadata) and `<d>.html`
//! (the self-contained UI) is a resource. Directories are read in byte order of their names.
//! Tool modules (`dist/tools/*.js`) and the server entry (`dist/server.js`) are JavaScript and
//! are loaded by the Node host ([`crate::node`]).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Errors reading a project or its `dist/`.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// The project has no `package.json`.
    #[error("No package.json found in {}", .0.display())]
    NoPackageJson(PathBuf),
    /// The project has no `dist/` directory.
    #[error("No dist/ directory found. Run `sunpeak build` first.")]
    NoDist(PathBuf),
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file does not parse.
    #[error("{}: invalid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error (with line and column).
        source: serde_json::Error,
    },
    /// A JSON file parses but a value has the wrong type.
    #[error("{}: {what}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, e.g. "`uri` must be a string".
        what: String,
    },
}

/// `name` and `version` of the project's `package.json` (either may be missing).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackageInfo {
    /// The `name` field.
    pub name: Option<String>,
    /// The `version` field.
    pub version: Option<String>,
}

impl PackageInfo {
    /// Reads `<root>/package.json`.
    pub fn read(root: &Path) -> Result<Self, DistError> {
        let path = root.join("package.json");
        if !path.is_file() {
            return Err(DistError::NoPackageJson(root.to_path_buf()));
        }
        let value = read_json(&path)?;
        let Value::Object(map) = value else {
            return Err(DistError::Invalid {
                path,
                what: "expected a JSON object".into(),
            });
        };
        Ok(PackageInfo {
            name: optional_string(&map, "name", &path)?,
            version: optional_string(&map, "version", &path)?,
        })
    }
}

/// One built UI resource: `dist/<dir>/<dir>.json` plus `dist/<dir>/<dir>.html`.
#[derive(Debug, Clone, PartialEq)]
pub struct DistResource {
    /// The directory name `<dir>`.
    pub dir: String,
    /// `name` from the JSON, else the directory name. Tools link to resources by this name.
    pub name: String,
    /// `uri` from the JSON, else `ui://<dir>`.
    pub uri: String,
    /// `title` from the JSON.
    pub title: Option<String>,
    /// `description` from the JSON.
    pub description: Option<String>,
    /// `_meta` from the JSON (CSP, permissions, domain, prefersBorder, ...).
    pub meta: Option<Value>,
    /// The HTML document.
    pub html: String,
}

/// Reads every resource of `dist_dir`, in byte order of the directory names.
///
/// Fails when `dist_dir` does not exist or a resource's files cannot be read or parsed.
pub fn load_resources(dist_dir: &Path) -> Result<Vec<DistResource>, DistError> {
    if !dist_dir.is_dir() {
        return Err(DistError::NoDist(dist_dir.to_path_buf()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DistError::Io { path, source }
    };
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dist_dir).map_err(io(dist_dir))? {
        let entry = entry.map_err(io(dist_dir))?;
        // As sunpeak: real directories only (a symlink is not followed).
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if is_dir && name != "tools" && name != "build-output" {
            dirs.push(name);
        }
    }
    dirs.sort();

    let mut resources = Vec::new();
    for dir in dirs {
        let json_path = dist_dir.join(&dir).join(format!("{dir}.json"));
        let html_path = dist_dir.join(&dir).join(format!("{dir}.html"));
        if !json_path.exists() || !html_path.exists() {
            continue;
        }
        let Value::Object(json) = read_json(&json_path)? else {
            return Err(DistError::Invalid {
                path: json_path,
                what: "expected a JSON object".into(),
            });
        };
        let html = fs::read(&html_path).map_err(io(&html_path))?;
        let meta = match json.get("_meta") {
            None | Some(Value::Null) => None,
            Some(meta @ Value::Object(_)) => Some(meta.clone()),
            Some(_) => {
                return Err(DistError::Invalid {
                    path: json_path,
                    what: "`_meta` must be an object".into(),
                });
            }
        };
        resources.push(DistResource {
            name: optional_string(&json, "name", &json_path)?.unwrap_or_else(|| dir.clone()),
            uri: optional_string(&json, "uri", &json_path)?
                .unwrap_or_else(|| format!("ui://{dir}")),
            title: optional_string(&json, "title", &json_path)?,
            description: optional_string(&json, "description", &json_path)?,
            meta,
            html: String::from_utf8(html)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            dir,
        });
    }
    Ok(resources)
}

/// Whether `dist_dir` holds anything for the Node host: a `tools/*.js` module (not `*.test.js`)
/// or `server.js`. Without either, `sunpeak start` needs no Node.js at all.
pub fn has_javascript(dist_dir: &Path) -> bool {
    if dist_dir.join("server.js").exists() {
        return true;
    }
    let Ok(entries) = fs::read_dir(dist_dir.join("tools")) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.ends_with(".js") && !name.ends_with(".test.js")
    })
}

fn read_json(path: &Path) -> Result<Value, DistError> {
    let text = fs::read_to_string(path).map_err(|source| DistError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| DistError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// A string field that may be missing or `null`; any other type is an error.
fn optional_string(
    map: &Map<String, Value>,
    key: &str,
    path: &Path,
) -> Result<Option<String>, DistError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(DistError::Invalid {
            path: path.to_path_buf(),
            what: format!("`{key}` must be a string"),
        }),
    }
}
