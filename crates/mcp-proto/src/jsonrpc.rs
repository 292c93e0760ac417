//! JSON-RPC 2.0 envelopes: requests, notifications, responses, errors and batches, and the
//! parser that turns an HTTP body into them.
//!
//! Parsing is two steps: the body must be JSON ([`ParseError::Syntax`], answered with
//! `-32700`), and the JSON must be JSON-RPC ([`ParseError::Invalid`], answered with `-32600`).
//! Unknown members are ignored, never an error.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::McpError;

/// The `jsonrpc` member's only valid value.
pub const JSONRPC_VERSION: &str = "2.0";

/// A request id: a string or an integer, never null.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(Arc<str>),
}

impl RequestId {
    /// Reads an id from JSON: a string or an integer that fits `i64`; anything else is `None`.
    pub fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(Self::String(Arc::from(s.as_str()))),
            Value::Number(n) => n.as_i64().map(Self::Number),
            _ => None,
        }
    }

    /// The id as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Number(n) => Value::from(*n),
            Self::String(s) => Value::from(&**s),
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => n.fmt(f),
            Self::String(s) => s.fmt(f),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        Self::String(Arc::from(s))
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        Self::String(Arc::from(s))
    }
}

/// A request: `{jsonrpc, id, method, params?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Always `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The id the response must carry.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The parameters (an object for every MCP method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

impl Request {
    /// A request with optional params.
    pub fn new(id: RequestId, method: impl Into<String>, params: Option<Value>) -> Self {
        Self {
            jsonrpc: JsonRpcVersion,
            id,
            method: method.into(),
            params,
        }
    }
}

/// A notification: `{jsonrpc, method, params?}` (no id, never answered).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Always `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The method name.
    pub method: String,
    /// The parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

impl Notification {
    /// A notification with optional params.
    pub fn new(method: impl Into<String>, params: Option<Value>) -> Self {
        Self {
            jsonrpc: JsonRpcVersion,
            method: method.into(),
            params,
        }
    }
}

/// A successful response: `{jsonrpc, id, result}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultResponse {
    /// Always `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result (an object for every MCP method).
    pub result: Value,
}

impl ResultResponse {
    /// A result response.
    pub fn new(id: RequestId, result: Value) -> Self {
        Self {
            jsonrpc: JsonRpcVersion,
            id,
            result,
        }
    }
}

/// An error response: `{jsonrpc, id, error}`; `id` is null when the request id could not be
/// read (parse errors).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// Always `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The id of the request this answers, or `None` (serialized as `null`).
    pub id: Option<RequestId>,
    /// The error.
    pub error: McpError,
}

impl ErrorResponse {
    /// An error response.
    pub fn new(id: Option<RequestId>, error: McpError) -> Self {
        Self {
            jsonrpc: JsonRpcVersion,
            id,
            error,
        }
    }
}

/// One JSON-RPC message of any kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Message {
    /// A request (has `method` and `id`).
    Request(Request),
    /// A notification (has `method`, no `id`).
    Notification(Notification),
    /// A successful response (has `result`).
    Result(ResultResponse),
    /// An error response (has `error`).
    Error(ErrorResponse),
}

impl Message {
    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Self::Request(r) => Some(&r.method),
            Self::Notification(n) => Some(&n.method),
            _ => None,
        }
    }

    /// Whether this is a request (expects a response).
    pub fn is_request(&self) -> bool {
        matches!(self, Self::Request(_))
    }

    /// Classifies one JSON value as a JSON-RPC message. Unknown members are ignored.
    pub fn from_value(value: Value) -> Result<Self, InvalidMessage> {
        let Value::Object(mut obj) = value else {
            return Err(InvalidMessage::NotAnObject);
        };
        match obj.get("jsonrpc") {
            Some(Value::String(v)) if v == JSONRPC_VERSION => {}
            _ => return Err(InvalidMessage::BadVersion),
        }
        let id = obj.remove("id");
        if let Some(method) = obj.remove("method") {
            let Value::String(method) = method else {
                return Err(InvalidMessage::BadMethod);
            };
            let params = take_params(&mut obj)?;
            return match id {
                None => Ok(Self::Notification(Notification {
                    jsonrpc: JsonRpcVersion,
                    method,
                    params,
                })),
                Some(id) => {
                    let id = RequestId::from_value(&id).ok_or(InvalidMessage::BadId)?;
                    Ok(Self::Request(Request {
                        jsonrpc: JsonRpcVersion,
                        id,
                        method,
                        params,
                    }))
                }
            };
        }
        if let Some(result) = obj.remove("result") {
            let id = id
                .as_ref()
                .and_then(RequestId::from_value)
                .ok_or(InvalidMessage::BadId)?;
            return Ok(Self::Result(ResultResponse {
                jsonrpc: JsonRpcVersion,
                id,
                result,
            }));
        }
        if let Some(error) = obj.remove("error") {
            let error: McpError =
                serde_json::from_value(error).map_err(|_| InvalidMessage::BadError)?;
            let id = match id {
                None | Some(Value::Null) => None,
                Some(v) => Some(RequestId::from_value(&v).ok_or(InvalidMessage::BadId)?),
            };
            return Ok(Self::Error(ErrorResponse {
                jsonrpc: JsonRpcVersion,
                id,
                error,
            }));
        }
        Err(InvalidMessage::Unclassifiable)
    }
}

fn take_params(obj: &mut Map<String, Value>) -> Result<Option<Value>, InvalidMessage> {
    match obj.remove("params") {
        None | Some(Value::Null) => Ok(None),
        Some(p @ (Value::Object(_) | Value::Array(_))) => Ok(Some(p)),
        Some(_) => Err(InvalidMessage::BadParams),
    }
}

/// Why a JSON value is not a JSON-RPC message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMessage {
    /// The message is not a JSON object.
    #[error("message is not a JSON object")]
    NotAnObject,
    /// `jsonrpc` is missing or not `"2.0"`.
    #[error("\"jsonrpc\" must be \"2.0\"")]
    BadVersion,
    /// `method` is not a string.
    #[error("\"method\" must be a string")]
    BadMethod,
    /// `id` is not a string or an integer.
    #[error("\"id\" must be a string or an integer")]
    BadId,
    /// `params` is not an object or an array.
    #[error("\"params\" must be an object")]
    BadParams,
    /// `error` is not an error object.
    #[error("\"error\" must be an object with an integer code and a message")]
    BadError,
    /// Neither `method`, `result` nor `error` is present.
    #[error("message has no \"method\", \"result\" or \"error\"")]
    Unclassifiable,
    /// A batch array is empty.
    #[error("batch is empty")]
    EmptyBatch,
}

/// The content of one HTTP POST body: a single message or a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    /// One message.
    Single(Message),
    /// A JSON array of messages (allowed only at 2025-03-26).
    Batch(Vec<Message>),
}

impl Incoming {
    /// The messages, in order.
    pub fn messages(&self) -> &[Message] {
        match self {
            Self::Single(m) => std::slice::from_ref(m),
            Self::Batch(v) => v,
        }
    }

    /// The messages, in order, by value.
    pub fn into_messages(self) -> Vec<Message> {
        match self {
            Self::Single(m) => vec![m],
            Self::Batch(v) => v,
        }
    }

    /// Whether this is a batch.
    pub fn is_batch(&self) -> bool {
        matches!(self, Self::Batch(_))
    }
}

/// Why a body could not be read as JSON-RPC.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON (or not UTF-8): answered with `-32700 Parse error`.
    #[error("Parse error: {0}")]
    Syntax(#[from] serde_json::Error),
    /// JSON, but not JSON-RPC: answered with `-32600 Invalid Request`.
    #[error("Invalid Request: {0}")]
    Invalid(#[from] InvalidMessage),
}

impl ParseError {
    /// The JSON-RPC error to send back (`-32700` or `-32600`).
    pub fn to_error(&self) -> McpError {
        match self {
            Self::Syntax(_) => McpError::parse_error("Parse error"),
            Self::Invalid(e) => McpError::invalid_request(format!("Invalid Request: {e}")),
        }
    }
}

/// Parses an HTTP body into one message or a batch.
pub fn parse_body(body: &[u8]) -> Result<Incoming, ParseError> {
    let value: Value = serde_json::from_slice(body)?;
    parse_value(value)
}

/// Classifies an already parsed JSON value as one message or a batch.
pub fn parse_value(value: Value) -> Result<Incoming, ParseError> {
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(InvalidMessage::EmptyBatch.into());
            }
            let msgs = items
                .into_iter()
                .map(Message::from_value)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Incoming::Batch(msgs))
        }
        v => Ok(Incoming::Single(Message::from_value(v)?)),
    }
}

/// The `"2.0"` marker: serializes as `"2.0"` and accepts only `"2.0"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct JsonRpcVersion;

impl Serialize for JsonRpcVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(JSONRPC_VERSION)
    }
}

impl<'de> Deserialize<'de> for JsonRpcVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s == JSONRPC_VERSION {
            Ok(Self)
        } else {
            Err(serde::de::Error::custom("jsonrpc must be \"2.0\""))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(s: &str) -> Message {
        match parse_body(s.as_bytes()).unwrap() {
            Incoming::Single(m) => m,
            Incoming::Batch(_) => panic!("batch"),
        }
    }

    #[test]
    fn numbers_keep_their_exact_value() {
        // What JavaScript clients send (shortest round-trip form) was read back as the
        // neighbouring double by serde_json's default float parser, so tools got other numbers.
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"x":92233.20368547719,"y":1.0715660391465826e-75}}}"#;
        let Message::Request(r) = one(body) else {
            panic!("request")
        };
        let args = &r.params.unwrap()["arguments"];
        assert_eq!(args["x"].as_f64(), Some(92233.20368547719));
        assert_eq!(args["y"].as_f64(), Some(1.0715660391465826e-75));
        assert_eq!(
            args.to_string(),
            r#"{"x":92233.20368547719,"y":1.0715660391465826e-75}"#
        );
    }

    #[test]
    fn classifies_messages() {
        assert!(matches!(
            one(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Message::Request(Request {
                id: RequestId::Number(1),
                ..
            })
        ));
        assert!(matches!(
            one(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Message::Notification(_)
        ));
        assert!(matches!(
            one(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Message::Result(_)
        ));
        assert!(matches!(
            one(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}"#),
            Message::Error(ErrorResponse { id: None, .. })
        ));
    }

    #[test]
    fn unknown_members_are_ignored() {
        let m = one(
            r#"{"jsonrpc":"2.0","id":"x","method":"initialize","extra":{"a":1},"params":{"capabilities":{"extensions":{}}}}"#,
        );
        assert_eq!(m.method(), Some("initialize"));
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            r#"{"foo":1}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":3}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":"s"}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":"x"}"#,
            r#"[]"#,
            r#"3"#,
        ] {
            assert!(
                matches!(parse_body(bad.as_bytes()), Err(ParseError::Invalid(_))),
                "{bad}"
            );
        }
        for bad in ["", "{", "{\"jsonrpc\":", "\u{0}", "[1,"] {
            assert!(
                matches!(parse_body(bad.as_bytes()), Err(ParseError::Syntax(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_body(&[0xff, 0xfe]),
            Err(ParseError::Syntax(_))
        ));
    }

    #[test]
    fn error_codes_of_parse_errors() {
        let e = parse_body(b"{").unwrap_err().to_error();
        assert_eq!(e.code.0, -32700);
        assert_eq!(e.message, "Parse error");
        let e = parse_body(b"{}").unwrap_err().to_error();
        assert_eq!(e.code.0, -32600);
    }

    #[test]
    fn batches() {
        let b = parse_body(
            br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"}]"#,
        )
        .unwrap();
        assert!(b.is_batch());
        assert_eq!(b.messages().len(), 2);
    }

    #[test]
    fn serializes_envelopes() {
        let r = ResultResponse::new(RequestId::from("a"), json!({}));
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"jsonrpc":"2.0","id":"a","result":{}}"#
        );
        let e = ErrorResponse::new(None, McpError::parse_error("Parse error"));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#
        );
        let n = Notification::new("notifications/progress", Some(json!({"progress":1})));
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}"#
        );
    }

    #[test]
    fn request_id_round_trip() {
        for v in [json!(7), json!("abc"), json!(-1)] {
            let id = RequestId::from_value(&v).unwrap();
            assert_eq!(id.to_value(), v);
            assert_eq!(serde_json::to_value(&id).unwrap(), v);
        }
        assert!(RequestId::from_value(&json!(u64::MAX)).is_none());
    }
}
