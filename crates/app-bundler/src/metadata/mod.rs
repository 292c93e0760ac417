//! `dist/<k>/<k>.json`: the evaluated `resource` export plus `name` and `uri`.
//!
//! sunpeak evaluates the export with every import stubbed to `{}`, so imported values become
//! `null` (a bug). We evaluate it statically in Rust when it is built from literals and module
//! constants (the common case, see [`static_eval`]), and otherwise bundle the export for Node and
//! evaluate it there, imports and all.

pub(crate) mod static_eval;
pub(crate) mod value;

use std::path::Path;

use oxc_resolver::Resolver;

use crate::error::{BuildError, Diagnostic, relative_to};
use static_eval::{EvalError, Evaluator, ExportNames, NotStatic};
use value::{JsObject, JsValue};

/// What static analysis found out about a resource module.
#[derive(Debug)]
pub(crate) struct Analysis {
    /// Its export names.
    pub exports: ExportNames,
    /// The `resource` value, `None` if the module has no such export.
    pub value: Option<ResourceValue>,
}

/// The `resource` export, or why it needs Node.
#[derive(Debug)]
pub(crate) enum ResourceValue {
    Static(JsValue),
    NeedsNode(NotStatic),
}

/// Parses the resource module and evaluates `resource` if it is static. Syntax errors come back
/// as diagnostics.
pub(crate) fn analyze(
    root: &Path,
    resolver: &Resolver,
    file: &Path,
) -> Result<Analysis, Vec<Diagnostic>> {
    let mut evaluator = Evaluator::new(root, resolver);
    let (exports, value) = match evaluator.exports_and_value(file, "resource") {
        Ok(v) => v,
        Err(EvalError::Syntax(d)) => return Err(d),
        Err(EvalError::NotStatic(reason)) => {
            // Unreadable file: let the bundler report it.
            return Ok(Analysis {
                exports: ExportNames {
                    names: Vec::new(),
                    has_star: true,
                },
                value: Some(ResourceValue::NeedsNode(reason)),
            });
        }
    };
    let value = match value {
        None => None,
        Some(Ok(v)) => Some(ResourceValue::Static(v)),
        Some(Err(EvalError::NotStatic(reason))) => Some(ResourceValue::NeedsNode(reason)),
        Some(Err(EvalError::Syntax(d))) => return Err(d),
    };
    Ok(Analysis { exports, value })
}

/// Parses the JSON text Node printed for a `resource` export.
pub(crate) fn from_node_json(text: &str) -> Result<JsValue, String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(JsValue::from_json)
        .map_err(|e| format!("unexpected output from node: {e}"))
}

/// The metadata object: the `resource` value, then `name = name ?? key`; the caller then sets
/// `uri`. Returns the object and the name as used in the URI.
pub(crate) fn with_name(
    root: &Path,
    file: &Path,
    key: &str,
    value: JsValue,
) -> Result<(JsObject, String), BuildError> {
    let mut obj = match value {
        JsValue::Object(o) => o,
        v if !v.truthy() => {
            return Err(BuildError::MissingResourceExport {
                file: relative_to(root, file),
            });
        }
        _ => {
            return Err(BuildError::ResourceEval {
                file: relative_to(root, file),
                message: "the \"resource\" export must be an object (a ResourceConfig)".to_owned(),
            });
        }
    };
    let name = match obj.get("name") {
        None | Some(JsValue::Null | JsValue::Undefined) => {
            obj.set("name".to_owned(), JsValue::String(key.to_owned()));
            key.to_owned()
        }
        Some(v) => v.to_js_string(),
    };
    Ok((obj, name))
}

/// `JSON.stringify(meta, null, 2)` of the finished object.
pub(crate) fn to_json(meta: JsObject) -> String {
    JsValue::Object(meta)
        .to_json_pretty()
        .unwrap_or_else(|| "{}".to_owned())
}
