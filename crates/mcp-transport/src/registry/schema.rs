//! JSON Schemas of Rust types (for typed tools).

use mcp_proto::JsonObject;
use schemars::JsonSchema;
use serde_json::Value;

/// The JSON Schema (draft 2020-12, as `schemars` generates it) of `T`, as a JSON object with
/// `"type": "object"` ensured.
pub fn schema_for<T: JsonSchema>() -> JsonObject {
    let schema = schemars::schema_for!(T);
    let mut obj = match serde_json::to_value(schema) {
        Ok(Value::Object(o)) => o,
        _ => JsonObject::new(),
    };
    obj.entry("type").or_insert_with(|| Value::from("object"));
    obj
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// The prompt.
        prompt: String,
        count: Option<u32>,
    }

    #[test]
    fn generates_object_schema() {
        let s = schema_for::<Args>();
        assert_eq!(s["type"], "object");
        assert!(s["properties"]["prompt"].is_object());
        assert_eq!(s["required"], serde_json::json!(["prompt"]));
    }
}
