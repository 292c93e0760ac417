//! The frames of the host/worker channel: newline-delimited JSON objects `{"t": <kind>, ...}`.
//! The other end is `js/worker.mjs`, which documents the same set.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::api::{AuthRequest, ToolCallContext};

/// A frame from the worker. One flat struct: which fields are set depends on `t`.
#[derive(Debug, Deserialize)]
pub(crate) struct Inbound {
    pub t: Kind,
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub rid: Option<u64>,
    /// `done`: the `CallToolResult`.
    #[serde(default)]
    pub result: Option<Value>,
    /// `done`: a JSON-RPC error instead of a result.
    #[serde(default)]
    pub error: Option<RpcError>,
    /// `authed`: the AuthInfo (`null` for a rejection).
    #[serde(default)]
    pub info: Option<Value>,
    /// `authed`: the fields of an `AuthorizationFailure` auth() returned.
    #[serde(default)]
    pub denied: Option<Value>,
    /// `authed`: auth() threw.
    #[serde(default)]
    pub fail: Option<String>,
    /// `notify` / `request`.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub params: Option<Value>,
    /// `log`.
    #[serde(default)]
    pub lv: Option<LogLevel>,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub tool: Option<String>,
    #[serde(default)]
    pub msg: Option<String>,
    /// `calltool`: the argument keys, joined by `", "`.
    #[serde(default)]
    pub keys: Option<String>,
    /// `loadError`.
    #[serde(default)]
    pub message: Option<String>,
    /// `loaded`.
    #[serde(default)]
    pub tools: Option<Vec<LoadedToolFrame>>,
    #[serde(default)]
    pub server: Option<ServerFrame>,
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Kind {
    Loaded,
    LoadError,
    Calltool,
    Notify,
    Request,
    CancelRequest,
    Done,
    Authed,
    Log,
    Pong,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoadedToolFrame {
    pub name: String,
    pub config: Value,
    pub input: Box<RawValue>,
    #[serde(default)]
    pub output: Option<Box<RawValue>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ServerFrame {
    #[serde(rename = "hasAuth")]
    pub has_auth: bool,
    #[serde(default)]
    pub config: Option<Value>,
    #[serde(default)]
    pub oauth: Option<Box<RawValue>>,
}

/// A tool file to import.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ToolFile {
    pub name: String,
    pub file: String,
}

/// `load`: import these modules and report.
pub(crate) fn load(root: &str, tools: &[ToolFile], server: Option<&str>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Load<'a> {
        t: &'static str,
        root: &'a str,
        tools: &'a [ToolFile],
        server: Option<&'a str>,
    }
    encode(&Load {
        t: "load",
        root,
        tools,
        server,
    })
}

/// `call`: run a tool handler.
pub(crate) fn call(id: u64, tool: &str, args: &Value, ctx: &ToolCallContext) -> Vec<u8> {
    #[derive(Serialize)]
    struct Ctx<'a> {
        #[serde(rename = "authInfo", skip_serializing_if = "Option::is_none")]
        auth_info: Option<&'a Value>,
        #[serde(rename = "sessionId", skip_serializing_if = "Option::is_none")]
        session_id: Option<&'a str>,
        #[serde(rename = "requestId")]
        request_id: &'a Value,
        #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
        meta: Option<&'a Value>,
        headers: HeaderMapJson<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct Call<'a> {
        t: &'static str,
        id: u64,
        tool: &'a str,
        /// Absent when the client sent no arguments (`Value::Null`).
        #[serde(skip_serializing_if = "Option::is_none")]
        args: Option<&'a Value>,
        ctx: Ctx<'a>,
    }
    encode(&Call {
        t: "call",
        id,
        tool,
        args: (!args.is_null()).then_some(args),
        ctx: Ctx {
            auth_info: ctx.auth_info.as_ref(),
            session_id: ctx.session_id.as_deref(),
            request_id: &ctx.request_id,
            meta: ctx.meta.as_ref(),
            headers: HeaderMapJson(&ctx.headers),
            url: ctx.url.as_deref(),
        },
    })
}

/// `cancel`: abort a call's `extra.signal` (`why`: `cancel` or `timeout`).
pub(crate) fn cancel(id: u64, why: &'static str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Cancel {
        t: &'static str,
        id: u64,
        why: &'static str,
    }
    encode(&Cancel {
        t: "cancel",
        id,
        why,
    })
}

/// `auth`: run `auth(req, { body })`. The body goes as a string (frames are one line each; the
/// body may hold newlines) and the worker parses it.
pub(crate) fn auth(id: u64, req: &AuthRequest) -> Vec<u8> {
    #[derive(Serialize)]
    struct Req<'a> {
        method: &'a str,
        url: &'a str,
        headers: Headers<'a>,
    }
    #[derive(Serialize)]
    struct Auth<'a> {
        t: &'static str,
        id: u64,
        req: Req<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<&'a str>,
    }
    encode(&Auth {
        t: "auth",
        id,
        req: Req {
            method: &req.method,
            url: &req.url,
            headers: Headers(&req.headers),
        },
        body: req
            .body
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok()),
    })
}

/// `response`: the client's answer to a handler's `sendRequest`.
pub(crate) fn response(rid: u64, answer: &Result<Value, Value>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Response<'a> {
        t: &'static str,
        rid: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<&'a Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a Value>,
    }
    let (result, error) = match answer {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    };
    encode(&Response {
        t: "response",
        rid,
        result,
        error,
    })
}

/// `ping`: any frame back proves the event loop is alive.
pub(crate) fn ping(n: u64) -> Vec<u8> {
    format!("{{\"t\":\"ping\",\"n\":{n}}}\n").into_bytes()
}

/// Headers as a JSON object (names are unique after joining repeats).
struct Headers<'a>(&'a [(String, String)]);

impl Serialize for Headers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A request's headers as Node shows them, written straight from the map: lower-case names,
/// repeated values joined with `", "`, bytes that are not UTF-8 replaced.
struct HeaderMapJson<'a>(&'a http::HeaderMap);

impl Serialize for HeaderMapJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.keys_len()))?;
        for name in self.0.keys() {
            let mut values = self.0.get_all(name).iter();
            let first = values
                .next()
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
                .unwrap_or_default();
            let mut joined = first;
            for more in values {
                let joined = joined.to_mut();
                joined.push_str(", ");
                joined.push_str(&String::from_utf8_lossy(more.as_bytes()));
            }
            map.serialize_entry(name.as_str(), &*joined)?;
        }
        map.end()
    }
}

fn encode<T: Serialize>(frame: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    // Serialising these types cannot fail: every key is a string and `Value` is always JSON.
    if serde_json::to_writer(&mut out, frame).is_err() {
        out.clear();
        out.extend_from_slice(b"{}");
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct NoPeer;
    impl crate::node::ClientPeer for NoPeer {
        fn notify(&self, _: &str, _: Value) {}
        fn request(
            &self,
            _: &str,
            _: Value,
        ) -> crate::node::BoxFuture<'static, Result<Value, Value>> {
            Box::pin(async { Err(Value::Null) })
        }
    }

    #[test]
    fn call_frame_is_one_line_and_omits_absent_fields() {
        let mut ctx = ToolCallContext::new(Value::from(7), Arc::new(NoPeer));
        let mut headers = http::HeaderMap::new();
        headers.insert("x-a", http::HeaderValue::from_static("1"));
        headers.append("x-a", http::HeaderValue::from_static("2"));
        ctx.headers = Arc::new(headers);
        let frame = call(3, "echo", &Value::Null, &ctx);
        let text = String::from_utf8(frame).unwrap();
        assert!(text.ends_with('\n'));
        assert_eq!(text.matches('\n').count(), 1);
        assert_eq!(
            text.trim_end(),
            r#"{"t":"call","id":3,"tool":"echo","ctx":{"requestId":7,"headers":{"x-a":"1, 2"}}}"#
        );
    }

    #[test]
    fn inbound_done_frame_parses() {
        let f: Inbound =
            serde_json::from_str(r#"{"t":"done","id":4,"result":{"content":[]},"x":1}"#).unwrap();
        assert_eq!(f.t, Kind::Done);
        assert_eq!(f.id, Some(4));
        assert!(f.result.is_some());
        let f: Inbound = serde_json::from_str(r#"{"t":"whatever"}"#).unwrap();
        assert_eq!(f.t, Kind::Unknown);
        let f: Inbound = serde_json::from_str(r#"{"t":"authed","id":1,"info":null}"#).unwrap();
        assert!(f.info.is_none());
    }
}
