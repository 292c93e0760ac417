//! The modern era (2026-07-28 and later): what replaces `initialize` and sessions.
//!
//! Every request carries its protocol version, client capabilities and (optionally) client
//! info and log level in `params._meta` ([`RequestMeta`]); results carry `resultType`; lists,
//! reads and `server/discover` carry cache hints (`ttlMs`, `cacheScope`); a server that needs
//! input from the client answers with an [`InputRequiredResult`] and the client retries the
//! same request with `inputResponses` and the opaque `requestState` ([`InputResponseParams`]);
//! `subscriptions/listen` opens a stream of the change notifications a [`SubscriptionFilter`]
//! opts in to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::common::JsonObject;
use crate::error::McpError;
use crate::initialize::{ClientCapabilities, Implementation, ServerCapabilities};
use crate::logging::LoggingLevel;

/// The reserved `_meta` keys of the modern era.
pub mod keys {
    /// Request `_meta`: the protocol version of this request (required).
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// Request `_meta`: the client's capabilities for this request (required).
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// Request `_meta`: the client's name and version (should be sent).
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// Request `_meta`: the lowest log level the client wants as `notifications/message`
    /// for this request; absent means none.
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// Result `_meta`: the server's name and version.
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// Notification and result `_meta` on a `subscriptions/listen` stream: the id of the
    /// listen request.
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
}

/// The extension id of MCP Apps in `capabilities.extensions`.
pub const UI_EXTENSION: &str = "io.modelcontextprotocol/ui";

/// What a modern request says about itself in `params._meta`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestMeta {
    /// `io.modelcontextprotocol/protocolVersion`, as sent.
    pub protocol_version: String,
    /// `io.modelcontextprotocol/clientCapabilities`.
    pub client_capabilities: ClientCapabilities,
    /// `io.modelcontextprotocol/clientInfo`, when sent.
    pub client_info: Option<Implementation>,
    /// `io.modelcontextprotocol/logLevel`, when sent.
    pub log_level: Option<LoggingLevel>,
}

/// Why a modern request's `_meta` is not acceptable (each is `-32602`, HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// No `params._meta` object.
    #[error("Invalid params: _meta is required")]
    MissingMeta,
    /// A required key is absent.
    #[error("Invalid params: _meta[\"{0}\"] is required")]
    Missing(&'static str),
    /// A key has the wrong shape.
    #[error("Invalid params: _meta[\"{key}\"] is invalid: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<MetaError> for McpError {
    fn from(e: MetaError) -> Self {
        McpError::invalid_params(e.to_string())
    }
}

impl RequestMeta {
    /// The protocol version a request's `params._meta` names, if any: how a request shows it
    /// is modern before anything else is checked.
    pub fn version_of(params: Option<&Value>) -> Option<&str> {
        params?.get("_meta")?.get(keys::PROTOCOL_VERSION)?.as_str()
    }

    /// Reads the modern keys of a request's `params._meta`.
    pub fn from_params(params: Option<&Value>) -> Result<Self, MetaError> {
        let meta = params
            .and_then(|p| p.get("_meta"))
            .and_then(Value::as_object)
            .ok_or(MetaError::MissingMeta)?;
        Self::from_meta(meta)
    }

    /// Reads the modern keys of a `_meta` object.
    pub fn from_meta(meta: &Map<String, Value>) -> Result<Self, MetaError> {
        let protocol_version = match meta.get(keys::PROTOCOL_VERSION) {
            None => return Err(MetaError::Missing(keys::PROTOCOL_VERSION)),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(invalid(keys::PROTOCOL_VERSION, "expected a string")),
        };
        let client_capabilities = match meta.get(keys::CLIENT_CAPABILITIES) {
            None => return Err(MetaError::Missing(keys::CLIENT_CAPABILITIES)),
            Some(v @ Value::Object(_)) => ClientCapabilities::deserialize(v)
                .map_err(|e| invalid(keys::CLIENT_CAPABILITIES, e))?,
            Some(_) => return Err(invalid(keys::CLIENT_CAPABILITIES, "expected an object")),
        };
        let client_info = match meta.get(keys::CLIENT_INFO) {
            None | Some(Value::Null) => None,
            Some(v) => {
                Some(Implementation::deserialize(v).map_err(|e| invalid(keys::CLIENT_INFO, e))?)
            }
        };
        let log_level = match meta.get(keys::LOG_LEVEL) {
            None | Some(Value::Null) => None,
            Some(v) => Some(LoggingLevel::deserialize(v).map_err(|e| invalid(keys::LOG_LEVEL, e))?),
        };
        Ok(Self {
            protocol_version,
            client_capabilities,
            client_info,
            log_level,
        })
    }
}

fn invalid(key: &'static str, reason: impl std::fmt::Display) -> MetaError {
    MetaError::Invalid {
        key,
        reason: reason.to_string(),
    }
}

/// `resultType`: how the client should read a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultType {
    /// The final result.
    Complete,
    /// An [`InputRequiredResult`]: answer its input requests and retry.
    InputRequired,
}

/// `cacheScope`: who may reuse a cached result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheScope {
    /// Holds nothing user-specific: any cache may share it across users.
    Public,
    /// Reusable only within the same authorization context.
    Private,
}

impl CacheScope {
    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// `ttlMs` and `cacheScope` of a cacheable result (lists, reads, `server/discover`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheHints {
    /// Milliseconds the client may consider the result fresh (0: stale at once).
    pub ttl_ms: u64,
    /// Who may share a cached copy.
    pub cache_scope: CacheScope,
}

impl CacheHints {
    /// Hints that say "fetch again next time": `ttlMs: 0`, `cacheScope: "private"`.
    pub const NONE: CacheHints = CacheHints {
        ttl_ms: 0,
        cache_scope: CacheScope::Private,
    };
}

/// The result of `server/discover`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    /// Always [`ResultType::Complete`].
    pub result_type: ResultType,
    /// Every protocol version the server speaks, newest first.
    pub supported_versions: Vec<String>,
    /// The server's capabilities.
    pub capabilities: ServerCapabilities,
    /// Guidance for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Cache hints.
    #[serde(flatten)]
    pub cache: CacheHints,
    /// `_meta`, with the server's identity under [`keys::SERVER_INFO`].
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// One request the server needs the client to fulfil (`elicitation/create`,
/// `sampling/createMessage` or `roots/list`), as in an [`InputRequiredResult`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputRequest {
    /// The method.
    pub method: String,
    /// Its params.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

/// `resultType: "input_required"`: the client must fulfil `inputRequests` and retry the
/// original request with `inputResponses` and `requestState` as they came.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// Always [`ResultType::InputRequired`].
    pub result_type: ResultType,
    /// The requests, by server-chosen keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<BTreeMap<String, InputRequest>>,
    /// Opaque state to send back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

/// The MRTR members any client request may carry on a retry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputResponseParams {
    /// The client's results, by the keys of the `inputRequests` they answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<Map<String, Value>>,
    /// The `requestState` of the `input_required` result, unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

/// The notifications a `subscriptions/listen` stream opts in to. Each is off unless asked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
}

/// Params of `subscriptions/listen`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsListenRequestParams {
    /// What to send.
    #[serde(default)]
    pub notifications: SubscriptionFilter,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_request_meta_and_names_what_is_missing() {
        let p = json!({"_meta": {
            keys::PROTOCOL_VERSION: "2026-07-28",
            keys::CLIENT_CAPABILITIES: {"elicitation": {}},
            keys::CLIENT_INFO: {"name": "c", "version": "1"},
            keys::LOG_LEVEL: "debug"
        }});
        assert_eq!(RequestMeta::version_of(Some(&p)), Some("2026-07-28"));
        let m = RequestMeta::from_params(Some(&p)).unwrap();
        assert!(m.client_capabilities.elicitation.is_some());
        assert_eq!(m.client_info.unwrap().name, "c");
        assert_eq!(m.log_level, Some(LoggingLevel::Debug));

        assert_eq!(
            RequestMeta::from_params(Some(&json!({}))),
            Err(MetaError::MissingMeta)
        );
        assert_eq!(
            RequestMeta::from_params(Some(&json!({"_meta": {keys::PROTOCOL_VERSION: "x"}}))),
            Err(MetaError::Missing(keys::CLIENT_CAPABILITIES))
        );
        let bad = json!({"_meta": {keys::PROTOCOL_VERSION: 1, keys::CLIENT_CAPABILITIES: {}}});
        assert!(matches!(
            RequestMeta::from_params(Some(&bad)),
            Err(MetaError::Invalid { .. })
        ));
        assert_eq!(McpError::from(MetaError::MissingMeta).code.0, -32602);
    }

    #[test]
    fn wire_shapes() {
        let r = InputRequiredResult {
            result_type: ResultType::InputRequired,
            input_requests: Some(BTreeMap::from([(
                "a".to_owned(),
                InputRequest {
                    method: "roots/list".into(),
                    params: None,
                },
            )])),
            request_state: Some("s".into()),
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"resultType": "input_required",
                   "inputRequests": {"a": {"method": "roots/list"}}, "requestState": "s"})
        );
        let hints = CacheHints {
            ttl_ms: 5,
            cache_scope: CacheScope::Public,
        };
        assert_eq!(
            serde_json::to_value(hints).unwrap(),
            json!({"ttlMs": 5, "cacheScope": "public"})
        );
        let f: SubscriptionsListenRequestParams =
            serde_json::from_value(json!({"notifications": {"toolsListChanged": true}})).unwrap();
        assert_eq!(f.notifications.tools_list_changed, Some(true));
    }
}
