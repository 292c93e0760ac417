//! Tools: definitions, `tools/list`, `tools/call`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::{Icon, JsonObject, Meta};
use crate::content::ContentBlock;

/// A tool definition as listed by `tools/list`.
///
/// Serialized in the key order `name, title?, description?, inputSchema, annotations?,
/// execution?, icons?, _meta?, outputSchema?`. Schemas are kept verbatim (`$schema`, `$defs`,
/// `additionalProperties`, key order).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Unique name (1-128 of `[A-Za-z0-9_.-]` recommended).
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does (for the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments; must have `"type": "object"`.
    pub input_schema: JsonObject,
    /// Behaviour hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Execution properties (2025-11-25), e.g. `{"taskSupport":"forbidden"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
    /// Icons (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Metadata (e.g. `_meta.ui.resourceUri` of MCP Apps).
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// JSON Schema of `structuredContent` (2025-06-18); `"type": "object"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonObject>,
}

impl Tool {
    /// A tool with a name, a description and an input schema.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: JsonObject,
    ) -> Self {
        Self {
            name: name.into(),
            description: Some(description.into()),
            input_schema,
            ..Self::default()
        }
    }

    /// The schema of a tool without parameters: `{"type":"object","properties":{}}`.
    pub fn empty_input_schema() -> JsonObject {
        let mut m = JsonObject::new();
        m.insert("type".into(), Value::from("object"));
        m.insert("properties".into(), Value::Object(JsonObject::new()));
        m
    }

    /// Whether `name` follows the 2025-11-25 naming rules (1-128 of `[A-Za-z0-9_.-]`).
    pub fn is_valid_name(name: &str) -> bool {
        (1..=128).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    }
}

/// Behaviour hints of a tool (untrusted for clients).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may perform destructive updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling it twice with the same arguments has no extra effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool interacts with an open world of external entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
    /// Unknown members, kept.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// Execution properties of a tool (2025-11-25).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// `"forbidden"` (default), `"optional"` or `"required"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<String>,
}

/// Result of `tools/list`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// The tools of this page.
    pub tools: Vec<Tool>,
    /// Cursor of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Params of `tools/call`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolRequestParams {
    /// The tool name.
    pub name: String,
    /// The arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// Task augmentation (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Value>,
    /// Request metadata (e.g. `progressToken`).
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Result of `tools/call`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// Unstructured content.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    /// Structured content, a JSON object (2025-06-18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<JsonObject>,
    /// Whether the call failed (a tool error the model can see and correct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Result metadata.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CallToolResult {
    /// A successful result with content.
    pub fn success(content: Vec<ContentBlock>) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }

    /// A successful result with one text item.
    pub fn text(text: impl Into<String>) -> Self {
        Self::success(vec![ContentBlock::text(text)])
    }

    /// A tool error (`isError: true`) with one text item.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentBlock::text(text)],
            is_error: Some(true),
            ..Self::default()
        }
    }

    /// A result with structured content and its JSON text as a text item (as the spec
    /// recommends for clients that do not read `structuredContent`).
    pub fn structured(value: JsonObject) -> Self {
        let text = Value::Object(value.clone()).to_string();
        Self {
            content: vec![ContentBlock::text(text)],
            structured_content: Some(value),
            ..Self::default()
        }
    }
}

impl From<String> for CallToolResult {
    fn from(s: String) -> Self {
        Self::text(s)
    }
}

impl From<&str> for CallToolResult {
    fn from(s: &str) -> Self {
        Self::text(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_key_order() {
        let mut t = Tool::new("t", "d", Tool::empty_input_schema());
        t.title = Some("T".into());
        t.execution = Some(ToolExecution {
            task_support: Some("forbidden".into()),
        });
        t.output_schema = Some(JsonObject::new());
        let mut meta = Meta::new();
        meta.insert("k".into(), json!(1));
        t.meta = Some(meta);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"name":"t","title":"T","description":"d","inputSchema":{"type":"object","properties":{}},"execution":{"taskSupport":"forbidden"},"_meta":{"k":1},"outputSchema":{}}"#
        );
    }

    #[test]
    fn schema_kept_verbatim() {
        let s = r#"{"name":"x","inputSchema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","$defs":{"a":{}},"additionalProperties":false}}"#;
        let t: Tool = serde_json::from_str(s).unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), s);
    }

    #[test]
    fn names() {
        assert!(Tool::is_valid_name("a.b-c_D9"));
        assert!(!Tool::is_valid_name(""));
        assert!(!Tool::is_valid_name("a b"));
        assert!(!Tool::is_valid_name(&"x".repeat(129)));
    }

    #[test]
    fn results() {
        assert_eq!(
            serde_json::to_value(CallToolResult::error("bad")).unwrap(),
            json!({"content":[{"type":"text","text":"bad"}],"isError":true})
        );
        let r: CallToolResult =
            serde_json::from_value(json!({"structuredContent":{"a":1}})).unwrap();
        assert!(r.content.is_empty());
    }
}
