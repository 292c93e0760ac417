//! The authentication hook and the auth info handlers see.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde_json::Value;

use crate::handler::BoxFuture;

/// A boxed error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What the auth hook sees of a request: method, URI, headers, and for a hook that asks for
/// it ([`AuthHook::wants_body`]) the body of a POST.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    /// The HTTP method.
    pub method: Method,
    /// The request URI (path and query; absolute for HTTP/2).
    pub uri: Uri,
    /// The request headers.
    pub headers: Arc<HeaderMap>,
    /// The body of a POST, when the hook wants it: already within the body limit and parsed
    /// as JSON-RPC by the transport (so it is valid JSON). `None` for GET and DELETE, and for
    /// hooks that do not want the body.
    pub body: Option<Bytes>,
}

/// What an auth hook decided.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthDecision {
    /// The request proceeds; handlers see this auth info.
    Allow(AuthInfo),
    /// The request is answered with this rejection.
    Deny(AuthDenial),
}

/// A rejected request: its status and `WWW-Authenticate` challenge. The body is `Unauthorized`
/// whatever the status (as the npm `sunpeak`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthDenial {
    /// 401 by default; 400 (`invalid_request`) and 403 (`insufficient_scope`) are the other
    /// statuses RFC 6750 uses.
    pub status: StatusCode,
    /// The `WWW-Authenticate` value. `None`: the transport's own, `Bearer` plus
    /// `resource_metadata` when [`crate::TransportConfig::resource_metadata_url`] is set.
    pub challenge: Option<HeaderValue>,
}

impl Default for AuthDenial {
    fn default() -> Self {
        AuthDenial {
            status: StatusCode::UNAUTHORIZED,
            challenge: None,
        }
    }
}

/// What an authenticated request carries: any JSON (e.g. the value a JavaScript `auth()`
/// returned), passed to handlers untouched, with typed accessors for the usual fields
/// (`token`, `clientId`, `scopes`).
#[derive(Clone, Debug, PartialEq)]
pub struct AuthInfo(Arc<Value>);

impl AuthInfo {
    /// Wraps any JSON value.
    pub fn new(value: Value) -> Self {
        Self(Arc::new(value))
    }

    /// The JSON value as given.
    pub fn value(&self) -> &Value {
        &self.0
    }

    /// `token`, if a string.
    pub fn token(&self) -> Option<&str> {
        self.0.get("token")?.as_str()
    }

    /// `clientId`, if a string.
    pub fn client_id(&self) -> Option<&str> {
        self.0.get("clientId")?.as_str()
    }

    /// `scopes`: the strings of the array (empty if absent).
    pub fn scopes(&self) -> Vec<&str> {
        self.0
            .get("scopes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// Decides whether a request may proceed.
///
/// Called for every request to the MCP endpoint except `OPTIONS`, before the session is looked
/// up: before the body is read, or, for a hook that [wants the body](AuthHook::wants_body), on a
/// POST right after the body was read (within the body limit), parsed and logged.
/// `Ok(Some(info))` continues and hands `info` to handlers; `Ok(None)` answers 401 with
/// `WWW-Authenticate: Bearer` (plus `resource_metadata` when configured); `Err` answers 500 and
/// is logged, and the server keeps running.
///
/// The transport calls [`AuthHook::decide`]; a hook that needs other statuses or its own
/// challenge (RFC 6750 `error`, `scope`) implements it instead of relying on the default.
pub trait AuthHook: Send + Sync + 'static {
    /// Checks one request.
    fn authenticate(&self, req: AuthRequest) -> BoxFuture<Result<Option<AuthInfo>, BoxError>>;

    /// Whether the hook sees the body of POST requests (then it runs after the body is read).
    /// Default: no.
    fn wants_body(&self) -> bool {
        false
    }

    /// Checks one request and says how to answer a rejection. Default:
    /// [`authenticate`](AuthHook::authenticate), with `None` as a plain 401.
    fn decide(&self, req: AuthRequest) -> BoxFuture<Result<AuthDecision, BoxError>> {
        let checked = self.authenticate(req);
        Box::pin(async move {
            Ok(match checked.await? {
                Some(info) => AuthDecision::Allow(info),
                None => AuthDecision::Deny(AuthDenial::default()),
            })
        })
    }
}

impl<F, Fut> AuthHook for F
where
    F: Fn(AuthRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<AuthInfo>, BoxError>> + Send + 'static,
{
    fn authenticate(&self, req: AuthRequest) -> BoxFuture<Result<Option<AuthInfo>, BoxError>> {
        Box::pin(self(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accessors() {
        let a = AuthInfo::new(json!({"token":"t","clientId":"c","scopes":["a","b"],"x":{"y":1}}));
        assert_eq!(a.token(), Some("t"));
        assert_eq!(a.client_id(), Some("c"));
        assert_eq!(a.scopes(), vec!["a", "b"]);
        assert_eq!(a.value()["x"]["y"], 1);
        let b = AuthInfo::new(json!(true));
        assert_eq!(b.token(), None);
        assert!(b.scopes().is_empty());
    }
}
