//! Sampling: `sampling/createMessage` (a request the server sends to the client).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::{JsonObject, Meta, Role};

/// One message of a sampling conversation.
///
/// `content` is one content item or (2025-11-25) an array of them, including the
/// `tool_use`/`tool_result` kinds of tool-enabled sampling, so it is kept as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplingMessage {
    /// Who says it.
    pub role: Role,
    /// A content item or an array of content items.
    pub content: Value,
}

impl SamplingMessage {
    /// A user message with one text item.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: serde_json::json!({ "type": "text", "text": text.into() }),
        }
    }
}

/// Params of `sampling/createMessage`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageRequestParams {
    /// The conversation.
    pub messages: Vec<SamplingMessage>,
    /// Model preferences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_preferences: Option<Value>,
    /// System prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// `none`, `thisServer` or `allServers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_context: Option<String>,
    /// Temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Maximum tokens to generate.
    pub max_tokens: u64,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Provider-specific metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
    /// Tools the model may use (2025-11-25; only if the client declared `sampling.tools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    /// Tool choice (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Request metadata.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Result of `sampling/createMessage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageResult {
    /// Who produced it (the assistant).
    pub role: Role,
    /// A content item or an array of them.
    pub content: Value,
    /// The model used.
    #[serde(default)]
    pub model: String,
    /// Why sampling stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Result metadata.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CreateMessageResult {
    /// The text of the first text item, if any.
    pub fn text(&self) -> Option<&str> {
        let first_text =
            |v: &'_ Value| -> bool { v.get("type").and_then(Value::as_str) == Some("text") };
        match &self.content {
            Value::Array(items) => items.iter().find(|v| first_text(v)),
            v if first_text(v) => Some(v),
            _ => None,
        }
        .and_then(|v| v.get("text"))
        .and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_wire_format() {
        let p = CreateMessageRequestParams {
            messages: vec![SamplingMessage::user_text("hi")],
            max_tokens: 100,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(p).unwrap(),
            json!({"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"maxTokens":100})
        );
    }

    #[test]
    fn result_text() {
        let r: CreateMessageResult = serde_json::from_value(json!({
            "role":"assistant","content":{"type":"text","text":"yo"},"model":"m"
        }))
        .unwrap();
        assert_eq!(r.text(), Some("yo"));
        let r: CreateMessageResult = serde_json::from_value(json!({
            "role":"assistant","content":[{"type":"image"},{"type":"text","text":"b"}],"model":"m"
        }))
        .unwrap();
        assert_eq!(r.text(), Some("b"));
    }
}
