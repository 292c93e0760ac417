//! Result payloads: what a method handler returns, as JSON in any of four forms.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use mcp_proto::McpError;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::gzip::DeflateSegment;

/// The `result` of a JSON-RPC response, as a handler produced it.
///
/// - [`Payload::value`] / `From<Value>`: a `serde_json::Value`, serialized when sent.
/// - [`Payload::raw`]: bytes that already are one JSON value (e.g. a cached `tools/list`).
/// - [`StaticJson`]: bytes held for the life of the server, whose gzip form is computed once
///   and reused, so a big resource costs a memcpy per read even with compression.
/// - [`Payload::spliced`]: small bytes around a shared [`StaticJson`], for results that differ
///   only in a small part (a resource read whose `_meta` depends on the host) and should not
///   hold a copy, or a compressed copy, of the big part each.
#[derive(Clone, Debug)]
pub struct Payload(pub(crate) Repr);

#[derive(Clone, Debug)]
pub(crate) enum Repr {
    Value(Value),
    Raw(Bytes),
    Static(StaticJson),
    Spliced(Arc<Spliced>),
}

/// `before` + `middle` + `after`.
#[derive(Debug)]
pub(crate) struct Spliced {
    before: Bytes,
    middle: StaticJson,
    after: Bytes,
}

impl Payload {
    /// A payload from a JSON value.
    pub fn value(v: Value) -> Self {
        Self(Repr::Value(v))
    }

    /// A payload from bytes that are exactly one valid JSON value.
    ///
    /// The bytes are sent as they are; nothing checks them. Use this for JSON you produced
    /// yourself (e.g. with `serde_json::to_vec`).
    pub fn raw(json: impl Into<Bytes>) -> Self {
        Self(Repr::Raw(json.into()))
    }

    /// Serializes any value; a failure is an internal error.
    pub fn json<T: Serialize + ?Sized>(v: &T) -> Result<Self, McpError> {
        serde_json::to_vec(v)
            .map(Self::raw)
            .map_err(|e| McpError::internal(format!("cannot serialize result: {e}")))
    }

    /// `before`, then `middle`, then `after`, which together must be exactly one valid JSON
    /// value (not checked); for example `{"contents":[{"uri":"ui://a","text":`, then a shared
    /// JSON string, then `,"_meta":{...}}]}`. Every payload built on the same `middle` shares
    /// its bytes and its compressed form; only `before` and `after` are compressed per reply.
    pub fn spliced(before: impl Into<Bytes>, middle: StaticJson, after: impl Into<Bytes>) -> Self {
        Self(Repr::Spliced(Arc::new(Spliced {
            before: before.into(),
            middle,
            after: after.into(),
        })))
    }

    /// The JSON text (a copy, except for the raw form).
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Raw(b) => b.clone(),
            Repr::Static(s) => s.0.json.clone(),
            _ => {
                let mut out = Vec::with_capacity(self.known_len().unwrap_or(128));
                self.write_to(&mut out);
                Bytes::from(out)
            }
        }
    }

    /// The empty result `{}`.
    pub fn empty_object() -> Self {
        Self::raw(Bytes::from_static(b"{}"))
    }

    /// Appends the JSON text to `out`.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        match &self.0 {
            Repr::Value(v) => {
                // Writing a Value into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, v);
            }
            Repr::Raw(b) => out.extend_from_slice(b),
            Repr::Static(s) => out.extend_from_slice(&s.0.json),
            Repr::Spliced(p) => {
                out.reserve(p.before.len() + p.middle.0.json.len() + p.after.len());
                out.extend_from_slice(&p.before);
                out.extend_from_slice(&p.middle.0.json);
                out.extend_from_slice(&p.after);
            }
        }
    }

    /// The JSON length if known without serializing.
    pub(crate) fn known_len(&self) -> Option<usize> {
        match &self.0 {
            Repr::Value(_) => None,
            Repr::Raw(b) => Some(b.len()),
            Repr::Static(s) => Some(s.0.json.len()),
            Repr::Spliced(p) => Some(p.before.len() + p.middle.0.json.len() + p.after.len()),
        }
    }

    /// The bytes before and after a precompressible middle, for payloads that have one.
    pub(crate) fn precompressed(&self) -> Option<(&[u8], &StaticJson, &[u8])> {
        match &self.0 {
            Repr::Static(s) => Some((&[], s, &[])),
            Repr::Spliced(p) => Some((&p.before, &p.middle, &p.after)),
            _ => None,
        }
    }

    /// The payload as a JSON value (parses raw bytes; for tests and slow paths).
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        match &self.0 {
            Repr::Value(v) => Ok(v.clone()),
            Repr::Raw(b) => serde_json::from_slice(b),
            Repr::Static(s) => serde_json::from_slice(&s.0.json),
            Repr::Spliced(_) => serde_json::from_slice(&self.to_bytes()),
        }
    }
}

impl From<Value> for Payload {
    fn from(v: Value) -> Self {
        Self::value(v)
    }
}

impl From<Box<RawValue>> for Payload {
    fn from(v: Box<RawValue>) -> Self {
        let s: Box<str> = v.into();
        Self::raw(Bytes::from(String::from(s)))
    }
}

impl From<StaticJson> for Payload {
    fn from(s: StaticJson) -> Self {
        Self(Repr::Static(s))
    }
}

/// Serialized JSON kept for the life of the server (cheap to clone), with its gzip form
/// computed on first use and cached.
#[derive(Clone)]
pub struct StaticJson(Arc<StaticInner>);

struct StaticInner {
    json: Bytes,
    deflated: OnceLock<DeflateSegment>,
}

impl StaticJson {
    /// Wraps bytes that are exactly one valid JSON value (not checked).
    pub fn new(json: impl Into<Bytes>) -> Self {
        Self(Arc::new(StaticInner {
            json: json.into(),
            deflated: OnceLock::new(),
        }))
    }

    /// Serializes a value once.
    pub fn from_serialize<T: Serialize + ?Sized>(v: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_vec(v).map(Self::new)
    }

    /// The JSON bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.0.json
    }

    pub(crate) fn deflated(&self) -> &DeflateSegment {
        self.0
            .deflated
            .get_or_init(|| DeflateSegment::new(&self.0.json))
    }
}

impl std::fmt::Debug for StaticJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticJson")
            .field("len", &self.0.json.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_write_the_same_json() {
        let v = json!({"a": [1, "x"]});
        let forms = [
            Payload::value(v.clone()),
            Payload::json(&v).unwrap(),
            Payload::from(StaticJson::from_serialize(&v).unwrap()),
            Payload::from(serde_json::value::to_raw_value(&v).unwrap()),
            Payload::spliced(
                &b"{\"a\":"[..],
                StaticJson::new(&b"[1,\"x\"]"[..]),
                &b"}"[..],
            ),
        ];
        for p in forms {
            let mut out = Vec::new();
            p.write_to(&mut out);
            assert_eq!(out, br#"{"a":[1,"x"]}"#);
            assert_eq!(p.to_bytes(), &out[..]);
            assert_eq!(p.known_len().unwrap_or(out.len()), out.len());
            assert_eq!(p.to_value().unwrap(), v);
        }
    }
}
