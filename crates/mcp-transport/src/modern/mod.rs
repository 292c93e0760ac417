//! The modern era (MCP 2026-07-28) on the same endpoint as the legacy one: which era a
//! request is ([`era_of`]), what a modern request carries for its handler ([`Modern`]: the
//! per-request `_meta`, and the answers of an `input_required` round trip), the header
//! checks, signed request state, result members and `subscriptions/listen` streams.
//!
//! Modern requests are stateless by design: nothing is looked up or kept between them; what
//! a multi-round request needs on its next round travels in its signed `requestState`.

pub(crate) mod headers;
pub(crate) mod listen;
pub(crate) mod result;
pub mod state;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::HeaderMap;
use mcp_proto::{InputRequest, McpError, ProtocolVersion, RequestMeta, methods};
use serde_json::{Map, Value};
use tokio::sync::Notify;

use crate::http::headers::PROTOCOL_VERSION;
use crate::pending::lock;
use state::{RequestState, StateError, StateKey};

/// Which era a POST is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Era {
    /// `initialize` and sessions (2025-11-25 and earlier).
    Legacy,
    /// Per-request `_meta` (2026-07-28).
    Modern,
}

/// The era of a POST: modern when (without a session) its body's `_meta` names a protocol
/// version, or its `MCP-Protocol-Version` header names a modern version, or (without a
/// session) a version this server does not know; legacy otherwise (`initialize`, session ids,
/// old clients that send no header).
pub(crate) fn era_of(headers: &HeaderMap, has_session: bool, params: Option<&Value>) -> Era {
    if !has_session && RequestMeta::version_of(params).is_some() {
        return Era::Modern;
    }
    if let Some(h) = headers.get(PROTOCOL_VERSION) {
        let text = h.to_str().unwrap_or("").trim();
        return match ProtocolVersion::parse(text) {
            Some(v) if v.is_modern() => Era::Modern,
            Some(_) => Era::Legacy,
            None if !has_session => Era::Modern,
            None => Era::Legacy,
        };
    }
    Era::Legacy
}

/// What a request state is bound to: the method, a digest of the request's params and of its
/// user.
pub(crate) struct Binding {
    method: String,
    params: String,
    user: String,
}

/// What a modern request carries for its handler.
pub(crate) struct Modern {
    pub(crate) meta: RequestMeta,
    /// The answers the client has given so far (request state + `inputResponses`), by key.
    answers: Map<String, Value>,
    next_key: AtomicUsize,
    /// Input requests this round needs that have no answer yet.
    asked: Mutex<BTreeMap<String, InputRequest>>,
    pub(crate) need_input: Notify,
    /// What the next request state is bound to.
    bind: Binding,
}

/// The MRTR members of a request's params, with their state verified.
pub(crate) fn answers_of(
    key: &StateKey,
    method: &str,
    params: Option<&Value>,
    user: &str,
) -> Result<(Map<String, Value>, Binding), StateError> {
    let state_text = params
        .and_then(|p| p.get("requestState"))
        .and_then(Value::as_str);
    // Only these methods may answer `input_required` (2026-07-28); the digest of other
    // requests' params is not worth its cost on every request (their states bind the method).
    let may_ask = matches!(
        method,
        methods::TOOLS_CALL | methods::PROMPTS_GET | methods::RESOURCES_READ
    );
    let bind = Binding {
        method: method.to_owned(),
        params: if may_ask || state_text.is_some() {
            state::params_digest(method, params)
        } else {
            String::new()
        },
        user: user.to_owned(),
    };
    let mut answers = Map::new();
    if let Some(text) = state_text {
        let s = RequestState::open(text, key, &bind.method, &bind.params, &bind.user)?;
        answers = s.a;
    }
    match params.and_then(|p| p.get("inputResponses")) {
        None => {}
        Some(Value::Object(r)) => {
            for (k, v) in r {
                answers.insert(k.clone(), v.clone());
            }
        }
        Some(_) => return Err(StateError::BadResponses),
    }
    Ok((answers, bind))
}

impl Modern {
    pub(crate) fn new(meta: RequestMeta, answers: Map<String, Value>, bind: Binding) -> Self {
        Self {
            meta,
            answers,
            next_key: AtomicUsize::new(0),
            asked: Mutex::new(BTreeMap::new()),
            need_input: Notify::new(),
            bind,
        }
    }

    /// The client's answer to this handler's next request to it, or `None` after recording
    /// the request as one this round needs. Keys follow the order of the handler's requests,
    /// so the same handler asks the same keys on every round.
    pub(crate) fn answer_or_ask(
        &self,
        key: Option<&str>,
        method: &str,
        params: Option<Value>,
    ) -> Option<Value> {
        let key = match key {
            Some(k) => k.to_owned(),
            None => format!("r{}", self.next_key.fetch_add(1, Ordering::Relaxed)),
        };
        if let Some(v) = self.answers.get(&key) {
            return Some(v.clone());
        }
        lock(&self.asked).insert(
            key,
            InputRequest {
                method: method.to_owned(),
                params,
            },
        );
        self.need_input.notify_one();
        None
    }

    /// The `input_required` result for what this round asked, with the state to send back.
    pub(crate) fn input_required(&self, key: &StateKey) -> Value {
        let asked = std::mem::take(&mut *lock(&self.asked));
        let state = RequestState {
            v: 1,
            m: self.bind.method.clone(),
            p: self.bind.params.clone(),
            u: self.bind.user.clone(),
            a: self.answers.clone(),
        };
        serde_json::json!({
            "resultType": "input_required",
            "inputRequests": asked,
            "requestState": state.seal(key),
        })
    }

    /// Whether the client declared what a request to it needs; the error names what is
    /// missing (`-32021`).
    pub(crate) fn check_capability(&self, method: &str) -> Result<(), McpError> {
        let caps = &self.meta.client_capabilities;
        let (ok, name) = match method {
            methods::ELICITATION_CREATE => (caps.elicitation.is_some(), "elicitation"),
            methods::SAMPLING_CREATE_MESSAGE => (caps.sampling.is_some(), "sampling"),
            methods::ROOTS_LIST => (caps.roots.is_some(), "roots"),
            _ => (true, ""),
        };
        if ok {
            Ok(())
        } else {
            Err(McpError::missing_client_capability(
                serde_json::json!({ name: {} }),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(PROTOCOL_VERSION, v.parse().unwrap());
        m
    }

    #[test]
    fn era_is_chosen_per_request() {
        let meta = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}});
        assert_eq!(era_of(&HeaderMap::new(), false, None), Era::Legacy);
        assert_eq!(era_of(&HeaderMap::new(), false, Some(&meta)), Era::Modern);
        assert_eq!(era_of(&h("2026-07-28"), false, None), Era::Modern);
        assert_eq!(era_of(&h("2025-11-25"), true, None), Era::Legacy);
        assert_eq!(era_of(&h("1999-01-01"), false, None), Era::Modern);
        assert_eq!(era_of(&h("1999-01-01"), true, None), Era::Legacy);
        // A modern body wins over a legacy header (which is then a mismatch).
        assert_eq!(era_of(&h("2025-11-25"), false, Some(&meta)), Era::Modern);
        assert_eq!(era_of(&h("2025-11-25"), true, Some(&meta)), Era::Legacy);
    }

    #[test]
    fn a_handler_asks_then_replays_answers() {
        let key = StateKey::from_secret(b"k");
        let params = json!({"name": "t"});
        let (answers, bind) = answers_of(&key, "tools/call", Some(&params), "").unwrap();
        let m = Modern::new(RequestMeta::default(), answers, bind);
        assert_eq!(m.answer_or_ask(None, "roots/list", None), None);
        let round1 = m.input_required(&key);
        assert_eq!(round1["inputRequests"]["r0"]["method"], "roots/list");

        let retry = json!({"name": "t", "requestState": round1["requestState"],
                           "inputResponses": {"r0": {"roots": []}}});
        let (answers, bind) = answers_of(&key, "tools/call", Some(&retry), "").unwrap();
        let m = Modern::new(RequestMeta::default(), answers, bind);
        assert_eq!(
            m.answer_or_ask(None, "roots/list", None),
            Some(json!({"roots": []}))
        );
        assert_eq!(m.answer_or_ask(None, "elicitation/create", None), None);
        let round2 = m.input_required(&key);
        // The state of round 2 carries round 1's answer.
        let retry = json!({"name": "t", "requestState": round2["requestState"],
                           "inputResponses": {"r1": {"action": "accept"}}});
        let (answers, _) = answers_of(&key, "tools/call", Some(&retry), "").unwrap();
        assert_eq!(answers.len(), 2);

        let tampered = json!({"name": "t", "requestState": "x.y"});
        assert!(answers_of(&key, "tools/call", Some(&tampered), "").is_err());
        let moved = json!({"name": "u", "requestState": round2["requestState"]});
        assert!(answers_of(&key, "tools/call", Some(&moved), "").is_err());
    }
}
