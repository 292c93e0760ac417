//! The authentication hook and the auth info handlers see.

use std::future::Future;
use std::sync::Arc;

use http::{HeaderMap, Method, Uri};
use serde_json::Value;

use crate::handler::BoxFuture;

/// A boxed error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What the auth hook sees of a request: method, URI and headers (the body is not read yet).
#[derive(Clone, Debug)]
pub struct AuthRequest {
    /// The HTTP method.
    pub method: Method,
    /// The request URI (path and query; absolute for HTTP/2).
    pub uri: Uri,
    /// The request headers.
    pub headers: Arc<HeaderMap>,
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
/// Called for every request to the MCP endpoint except `OPTIONS`, before the body is read and
/// before the session is looked up. `Ok(Some(info))` continues and hands `info` to handlers;
/// `Ok(None)` answers 401 with `WWW-Authenticate: Bearer` (plus `resource_metadata` when
/// configured); `Err` answers 500 and is logged, and the server keeps running.
pub trait AuthHook: Send + Sync + 'static {
    /// Checks one request.
    fn authenticate(&self, req: AuthRequest) -> BoxFuture<Result<Option<AuthInfo>, BoxError>>;
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
