//! JavaScript semantics the sunpeak rules are written in, for JSON values.

use serde_json::Value;

/// JavaScript truthiness: `null`, `false`, `0`, `""` are falsy; objects and arrays are truthy.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// JavaScript's `String(value)` for the values a config holds (strings without quotes).
pub(crate) fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
