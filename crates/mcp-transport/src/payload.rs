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

    /// Adds top-level members to a result object, each only if the object does not have it
    /// already (`members`: key and JSON text of the value). The members go first, so bytes
    /// are copied once at most and a shared middle stays shared; a payload that is not an
    /// object is returned as it is.
    pub(crate) fn with_members(self, members: &[(&str, &str)]) -> Payload {
        if let Repr::Static(s) = &self.0 {
            let signature: String = members
                .iter()
                .flat_map(|(k, v)| [*k, "\u{0}", *v, "\u{0}"])
                .collect();
            if let Some((sig, done)) = s.0.with_members.get() {
                if **sig == *signature {
                    return Payload::from(done.clone());
                }
            } else {
                let done = match self.clone().members_added(members) {
                    Payload(Repr::Raw(b)) => StaticJson::new(b),
                    Payload(Repr::Static(same)) => same,
                    other => return other,
                };
                let _ = s.0.with_members.set((signature.into(), done.clone()));
                return Payload::from(done);
            }
        }
        self.members_added(members)
    }

    fn members_added(self, members: &[(&str, &str)]) -> Payload {
        let quoted = |k: &str| format!("\"{k}\"");
        let found =
            |bytes: &[u8], k: &str| memchr::memmem::find(bytes, quoted(k).as_bytes()).is_some();
        let missing: Vec<&(&str, &str)> = match &self.0 {
            Repr::Value(Value::Object(m)) => members
                .iter()
                .filter(|(k, _)| !m.contains_key(*k))
                .collect(),
            Repr::Value(_) => return self,
            Repr::Raw(b) => members.iter().filter(|(k, _)| !found(b, k)).collect(),
            Repr::Static(s) => members
                .iter()
                .filter(|(k, _)| !found(&s.0.json, k))
                .collect(),
            Repr::Spliced(p) => members
                .iter()
                .filter(|(k, _)| !found(&p.before, k) && !found(&p.after, k))
                .collect(),
        };
        if missing.len() < members.len() && !matches!(self.0, Repr::Value(_)) {
            // A key's text appears somewhere: look at the top level for real.
            return match self.to_value() {
                Ok(v) => Payload::value(v).members_added(members),
                Err(_) => self,
            };
        }
        if missing.is_empty() {
            return self;
        }
        if let Repr::Value(Value::Object(mut m)) = self.0 {
            for (k, v) in missing {
                let v = serde_json::from_str(v).unwrap_or(Value::Null);
                m.insert((*k).to_owned(), v);
            }
            return Payload::value(Value::Object(m));
        }
        let mut head = Vec::with_capacity(64);
        head.push(b'{');
        for (i, (k, v)) in missing.iter().enumerate() {
            if i > 0 {
                head.push(b',');
            }
            head.extend_from_slice(quoted(k).as_bytes());
            head.push(b':');
            head.extend_from_slice(v.as_bytes());
        }
        // `rest` is the object after its `{`; a comma goes between unless it is empty.
        let join = |rest: &[u8], out: &mut Vec<u8>| {
            let body = rest.iter().position(|c| !c.is_ascii_whitespace());
            if body.is_some_and(|i| rest[i] != b'}') {
                out.push(b',');
            }
            out.extend_from_slice(rest);
        };
        let object_rest = |bytes: &[u8]| -> Option<usize> {
            let i = bytes.iter().position(|c| !c.is_ascii_whitespace())?;
            (bytes[i] == b'{').then_some(i + 1)
        };
        match &self.0 {
            Repr::Raw(b) => match object_rest(b) {
                Some(i) => {
                    join(&b[i..], &mut head);
                    Payload::raw(head)
                }
                None => self,
            },
            Repr::Static(s) => match object_rest(&s.0.json) {
                Some(i) => {
                    join(&s.0.json[i..], &mut head);
                    Payload::raw(head)
                }
                None => self,
            },
            Repr::Spliced(p) => match object_rest(&p.before) {
                Some(i) => {
                    let rest = &p.before[i..];
                    // The middle follows `before`, so an object that starts here is not empty.
                    if rest.iter().any(|c| !c.is_ascii_whitespace()) {
                        join(rest, &mut head);
                    } else {
                        head.push(b',');
                    }
                    Payload::spliced(head, p.middle.clone(), p.after.clone())
                }
                None => self,
            },
            Repr::Value(_) => self,
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
    /// The first [`Payload::with_members`] form asked of it (its members and the result), so
    /// that a server answering the same static result to many modern requests builds it once.
    with_members: OnceLock<(Box<str>, StaticJson)>,
}

impl StaticJson {
    /// Wraps bytes that are exactly one valid JSON value (not checked).
    pub fn new(json: impl Into<Bytes>) -> Self {
        Self(Arc::new(StaticInner {
            json: json.into(),
            deflated: OnceLock::new(),
            with_members: OnceLock::new(),
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

    #[test]
    fn members_are_added_once_in_every_form() {
        let members = [("resultType", r#""complete""#), ("ttlMs", "0")];
        let cases = [
            (
                Payload::value(json!({"a": 1})),
                json!({"resultType": "complete", "ttlMs": 0, "a": 1}),
            ),
            (
                Payload::raw(&b"{}"[..]),
                json!({"resultType": "complete", "ttlMs": 0}),
            ),
            (
                Payload::raw(&b" { \"a\":1}"[..]),
                json!({"resultType": "complete", "ttlMs": 0, "a": 1}),
            ),
            (
                Payload::from(StaticJson::new(&b"{\"a\":[1]}"[..])),
                json!({"resultType": "complete", "ttlMs": 0, "a": [1]}),
            ),
            (
                Payload::spliced(
                    &b"{\"t\":"[..],
                    StaticJson::new(&b"\"ttlMs\""[..]),
                    &b"}"[..],
                ),
                json!({"resultType": "complete", "ttlMs": 0, "t": "ttlMs"}),
            ),
            (
                Payload::spliced(&b"{"[..], StaticJson::new(&b"\"k\":1"[..]), &b"}"[..]),
                json!({"resultType": "complete", "ttlMs": 0, "k": 1}),
            ),
            // Present already (top level): kept as it is.
            (
                Payload::raw(&br#"{"resultType":"input_required","x":{"ttlMs":5}}"#[..]),
                json!({"resultType": "input_required", "ttlMs": 0, "x": {"ttlMs": 5}}),
            ),
            (Payload::raw(&b"[1]"[..]), json!([1])),
        ];
        for (p, want) in cases {
            let got = p.with_members(&members);
            assert_eq!(got.to_value().unwrap(), want);
        }
        // A static payload's form is built once and shared.
        let st = StaticJson::new(&b"{\"a\":1}"[..]);
        let one = Payload::from(st.clone()).with_members(&members);
        let two = Payload::from(st.clone()).with_members(&members);
        match (&one.0, &two.0) {
            (Repr::Static(x), Repr::Static(y)) => assert!(Arc::ptr_eq(&x.0, &y.0)),
            _ => panic!("not static"),
        }
        let other = Payload::from(st).with_members(&members[..1]);
        assert_eq!(
            other.to_value().unwrap(),
            json!({"resultType": "complete", "a": 1})
        );
        // The shared middle of a spliced payload stays shared.
        let p = Payload::spliced(&b"{\"a\":"[..], StaticJson::new(&b"1"[..]), &b"}"[..]);
        assert!(p.with_members(&members).precompressed().is_some());
    }
}
