//! What a server answers, collected for comparison: `initialize`, the lists, every resource
//! read, and `tools/call` for a table of arguments, plus a few error cases.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::mcp::McpClient;

/// Everything one server answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The `initialize` result.
    pub initialize: Value,
    /// The `tools/list` result.
    pub tools: Value,
    /// The `resources/list` result.
    pub resources: Value,
    /// The `resources/templates/list` result.
    pub templates: Value,
    /// `ping`.
    pub ping: Value,
    /// `resources/read` result per listed resource name.
    pub reads: BTreeMap<String, Value>,
    /// `tools/call` result (or error message) per label.
    pub calls: BTreeMap<String, Value>,
}

/// One `tools/call` to make: a label, the tool name and its arguments.
pub type Call = (&'static str, &'static str, Value);

/// Collects a snapshot from the server at `addr`, in one session.
pub fn collect(addr: SocketAddr, calls: &[Call]) -> Result<Snapshot> {
    let mut client = McpClient::new(addr);
    let init = client.initialize()?;
    let initialize = init.get("result").cloned().context("initialize failed")?;
    let tools = client.result("tools/list", Value::Null)?;
    let resources = client.result("resources/list", Value::Null)?;
    let templates = client.result("resources/templates/list", Value::Null)?;
    let ping = client.result("ping", Value::Null)?;
    let mut reads = BTreeMap::new();
    for resource in resources["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let name = resource["name"].as_str().unwrap_or_default().to_string();
        let read = client.result("resources/read", json!({"uri": resource["uri"]}))?;
        reads.insert(name, read);
    }
    let mut results = BTreeMap::new();
    for (label, tool, args) in calls {
        let message = client.request("tools/call", json!({"name": tool, "arguments": args}))?;
        let outcome = match message.get("result") {
            Some(result) => result.clone(),
            None => json!({"jsonrpcError": message.get("error")}),
        };
        results.insert(label.to_string(), outcome);
    }
    Ok(Snapshot {
        initialize,
        tools,
        resources,
        templates,
        ping,
        reads,
        calls: results,
    })
}

/// Replaces the build id of every `ui://<name>-<id>` in string values by `ID`, so that two
/// builds of the same project compare equal (our id is a content hash, sunpeak's a timestamp).
pub fn normalize_ui_ids(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(normalized) = normalize_uri_text(s) {
                *s = normalized;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_ui_ids),
        Value::Object(map) => map.values_mut().for_each(normalize_ui_ids),
        _ => {}
    }
}

fn normalize_uri_text(s: &str) -> Option<String> {
    let rest = s.strip_prefix("ui://")?;
    let (name, id) = rest.rsplit_once('-')?;
    if id.len() == 8
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        Some(format!("ui://{name}-ID"))
    } else {
        None
    }
}

/// The first place where two JSON values differ, as a path and both values (short).
pub fn first_json_difference(expected: &Value, actual: &Value) -> Option<String> {
    fn walk(path: &str, a: &Value, b: &Value) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (key, value) in x {
                    let sub = format!("{path}.{key}");
                    match y.get(key) {
                        Some(other) => {
                            if let Some(d) = walk(&sub, value, other) {
                                return Some(d);
                            }
                        }
                        None => {
                            return Some(format!(
                                "{sub}: missing in actual (expected {})",
                                short(value)
                            ));
                        }
                    }
                }
                y.keys()
                    .find(|k| !x.contains_key(*k))
                    .map(|k| format!("{path}.{k}: unexpected in actual ({})", short(&y[k])))
            }
            (Value::Array(x), Value::Array(y)) => {
                for (i, (p, q)) in x.iter().zip(y.iter()).enumerate() {
                    if let Some(d) = walk(&format!("{path}[{i}]"), p, q) {
                        return Some(d);
                    }
                }
                (x.len() != y.len())
                    .then(|| format!("{path}: length {} expected, {} actual", x.len(), y.len()))
            }
            _ => (a != b).then(|| format!("{path}: expected {}, actual {}", short(a), short(b))),
        }
    }
    walk("$", expected, actual)
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 300 {
        format!(
            "{}… ({} chars)",
            text.chars().take(300).collect::<String>(),
            text.len()
        )
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_ids() {
        let mut v = json!({"a": "ui://albums-mwwbgbxd", "b": ["ui://review-diff-0a1b2c3d"], "c": "ui://x", "d": "ui://y-ABCDEFGH"});
        normalize_ui_ids(&mut v);
        assert_eq!(
            v,
            json!({"a": "ui://albums-ID", "b": ["ui://review-diff-ID"], "c": "ui://x", "d": "ui://y-ABCDEFGH"})
        );
    }

    #[test]
    fn differences() {
        assert_eq!(
            first_json_difference(&json!({"a": [1, 2]}), &json!({"a": [1, 2]})),
            None
        );
        assert_eq!(
            first_json_difference(&json!({"a": [1, 2]}), &json!({"a": [1, 3]})).unwrap(),
            "$.a[1]: expected 2, actual 3"
        );
        assert!(
            first_json_difference(&json!({"a": 1}), &json!({"a": 1, "b": 2}))
                .unwrap()
                .contains("unexpected")
        );
    }
}
