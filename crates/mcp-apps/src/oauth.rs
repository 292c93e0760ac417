//! OAuth for the MCP endpoint as the npm `sunpeak` 0.20.79 does it: RFC 9728 protected-resource
//! metadata and RFC 6750 bearer challenges, from the `oauth` export of `dist/server.js`
//! (sunpeak's `OAuthProtectedResourceConfig`) or from `--server-url` + `--authorization-server`.
//!
//! The public URL of `/mcp` is `--server-url`, else the config's `resource`, else
//! `http://<Host>/mcp` of the request (sunpeak's `serverUrl ?? oauth.resource ?? request`).
//! URLs follow sunpeak's rules: absolute, http or https, https unless on `localhost`,
//! `127.0.0.1` or `[::1]`, no fragment, no credentials; the error texts are sunpeak's.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use url::Url;

use crate::js::truthy;

/// The path of the metadata document at the root.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// A configuration or request that breaks sunpeak's OAuth rules; the text is sunpeak's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OAuthError(String);

impl OAuthError {
    /// An error with this text.
    pub fn new(text: impl Into<String>) -> Self {
        OAuthError(text.into())
    }
}

/// `OAuthProtectedResourceConfig`: what the metadata document and the challenges are made of.
#[derive(Debug, Clone, Default)]
pub struct OAuthConfig {
    /// `authorizationServers`: issuer URLs.
    pub authorization_servers: Vec<String>,
    /// `resource`: the canonical resource identifier (default: the public URL of `/mcp`).
    pub resource: Option<String>,
    /// `scopesSupported`: listed in the metadata and in challenges without their own scopes.
    pub scopes_supported: Option<Vec<String>>,
    /// `resourceName` (listed when truthy).
    pub resource_name: Option<Value>,
    /// `resourceDocumentation` (listed when truthy).
    pub resource_documentation: Option<Value>,
    /// `bearerMethodsSupported` (default `["header"]`).
    pub bearer_methods_supported: Option<Value>,
    /// `additionalMetadata`: keys first in the document, in their order, values as JavaScript
    /// serialised them; the standard keys overwrite them in place.
    pub additional_metadata: IndexMap<String, Box<RawValue>>,
}

/// The `oauth` export as the worker serialised it (`JSON.stringify`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Export {
    #[serde(default)]
    authorization_servers: Option<Value>,
    #[serde(default)]
    resource: Option<Value>,
    #[serde(default)]
    scopes_supported: Option<Value>,
    #[serde(default)]
    resource_name: Option<Value>,
    #[serde(default)]
    resource_documentation: Option<Value>,
    #[serde(default)]
    bearer_methods_supported: Option<Value>,
    #[serde(default)]
    additional_metadata: Option<Box<RawValue>>,
}

impl OAuthConfig {
    /// Reads the `oauth` export (JSON text). Types sunpeak would trip over later (with a
    /// `TypeError` while serving) are errors here.
    pub fn from_export(json: &str) -> Result<Self, OAuthError> {
        let export: Export = serde_json::from_str(json)
            .map_err(|e| OAuthError::new(format!("the oauth export is not an object: {e}")))?;
        let authorization_servers = match export.authorization_servers {
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(OAuthError::new(
                        "OAuth authorization server must be an absolute URL",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => {
                return Err(OAuthError::new(
                    "oauth.authorizationServers must be an array of authorization server issuer URLs",
                ));
            }
        };
        let resource = match export.resource {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(OAuthError::new("OAuth resource must be an absolute URL")),
        };
        let scopes_supported = match export.scopes_supported {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(s) => Ok(s),
                        _ => Err(OAuthError::new(
                            "oauth.scopesSupported must be an array of strings",
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => {
                return Err(OAuthError::new(
                    "oauth.scopesSupported must be an array of strings",
                ));
            }
        };
        // Raw values: the document repeats them byte for byte as JavaScript wrote them.
        let additional_metadata = match export.additional_metadata {
            None => IndexMap::new(),
            Some(raw) => serde_json::from_str::<Option<IndexMap<String, Box<RawValue>>>>(raw.get())
                .map_err(|_| OAuthError::new("oauth.additionalMetadata must be an object"))?
                .unwrap_or_default(),
        };
        Ok(OAuthConfig {
            authorization_servers,
            resource,
            scopes_supported,
            resource_name: export.resource_name,
            resource_documentation: export.resource_documentation,
            bearer_methods_supported: export.bearer_methods_supported,
            additional_metadata,
        })
    }
}

/// The OAuth setup of a running server: the config and `--server-url`.
#[derive(Debug, Clone)]
pub struct OAuth {
    config: OAuthConfig,
    server_url: Option<String>,
}

impl OAuth {
    /// Checks everything that does not depend on a request (sunpeak finds these only when it
    /// serves the metadata or a challenge, and then crashes): `resource`, the authorization
    /// servers and `server_url` (`--server-url`, the public URL of `/mcp`).
    pub fn new(config: OAuthConfig, server_url: Option<String>) -> Result<Self, OAuthError> {
        let oauth = OAuth { config, server_url };
        if let Some(resource) = &oauth.config.resource {
            absolute_http_url(resource, "OAuth resource")?;
        }
        oauth.check_authorization_servers()?;
        if let Some(url) = &oauth.server_url {
            absolute_http_url(url, "MCP server URL")?;
        }
        Ok(oauth)
    }

    /// The config.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    fn check_authorization_servers(&self) -> Result<(), OAuthError> {
        if self.config.authorization_servers.is_empty() {
            return Err(OAuthError::new(
                "OAuth protected-resource metadata requires an authorization server",
            ));
        }
        for server in &self.config.authorization_servers {
            absolute_http_url(server, "OAuth authorization server")?;
        }
        Ok(())
    }

    /// The public URL of `/mcp` for a request with this `Host` (`None`: `localhost`).
    pub fn public_url(&self, host: Option<&str>) -> Result<String, OAuthError> {
        if let Some(url) = self.server_url.as_ref().or(self.config.resource.as_ref()) {
            return Ok(url.clone());
        }
        let host = host.unwrap_or("localhost");
        Url::parse(&format!("http://{host}"))
            .and_then(|base| base.join("/mcp"))
            .map(String::from)
            .map_err(|_| OAuthError::new("Invalid URL"))
    }

    /// Whether `path` is a metadata path: the root one, or the one for `public_url`.
    pub fn is_metadata_path(&self, path: &str, public_url: &str) -> Result<bool, OAuthError> {
        if path == METADATA_PATH {
            return Ok(true);
        }
        let url = metadata_url(public_url)?;
        Ok(Url::parse(&url).is_ok_and(|u| u.path() == path))
    }

    /// The metadata document (JSON text, keys in sunpeak's order).
    pub fn document(&self, public_url: &str) -> Result<String, OAuthError> {
        let c = &self.config;
        let resource = c.resource.as_deref().unwrap_or(public_url);
        if c.authorization_servers.is_empty() {
            return Err(OAuthError::new(
                "OAuth protected-resource metadata requires an authorization server",
            ));
        }
        absolute_http_url(resource, "OAuth resource")?;
        self.check_authorization_servers()?;

        let mut doc: IndexMap<&str, String> = c
            .additional_metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.get().to_string()))
            .collect();
        doc.insert("resource", json(resource));
        doc.insert("authorization_servers", json(&c.authorization_servers));
        if let Some(scopes) = c.scopes_supported.as_ref().filter(|s| !s.is_empty()) {
            doc.insert("scopes_supported", json(scopes));
        }
        if let Some(name) = c.resource_name.as_ref().filter(|v| truthy(v)) {
            doc.insert("resource_name", json(name));
        }
        if let Some(docs) = c.resource_documentation.as_ref().filter(|v| truthy(v)) {
            doc.insert("resource_documentation", json(docs));
        }
        let methods = match &c.bearer_methods_supported {
            None | Some(Value::Null) => "[\"header\"]".to_string(),
            Some(v) => json(v),
        };
        doc.insert("bearer_methods_supported", methods);

        let mut out = String::from("{");
        for (i, (key, value)) in doc.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&json(*key));
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        Ok(out)
    }

    /// The `WWW-Authenticate` value for a rejection: `resource_metadata`, then `scope` (the
    /// failure's scopes, else `scopesSupported`), `error` and `error_description`.
    pub fn challenge(
        &self,
        public_url: &str,
        failure: Option<&AuthFailure>,
    ) -> Result<String, OAuthError> {
        let mut parts = vec![format!(
            "resource_metadata={}",
            quote(&metadata_url(public_url)?)?
        )];
        let scopes = failure
            .and_then(|f| f.scopes.as_ref())
            .or(self.config.scopes_supported.as_ref());
        if let Some(scopes) = scopes.filter(|s| !s.is_empty()) {
            parts.push(format!("scope={}", quote(&scopes.join(" "))?));
        }
        if let Some(error) = failure.and_then(|f| f.error.as_deref()) {
            parts.push(format!("error={}", quote(error)?));
        }
        if let Some(text) = failure.and_then(|f| f.error_description.as_deref()) {
            parts.push(format!("error_description={}", quote(text)?));
        }
        Ok(format!("Bearer {}", parts.join(", ")))
    }
}

/// A value as `JSON.stringify` writes it (for the strings, arrays and JSON values a config
/// holds, serde_json writes the same text).
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

/// An `AuthorizationFailure` that `auth()` returned (`{ authorized: false, ... }`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthFailure {
    /// `status`, when it is 400, 401 or 403.
    pub status: Option<u16>,
    /// `error` (when truthy).
    pub error: Option<String>,
    /// `errorDescription` (when truthy).
    pub error_description: Option<String>,
    /// `scopes` (when not null/undefined).
    pub scopes: Option<Vec<String>>,
}

impl AuthFailure {
    /// Reads the failure fields the worker passed on. Values sunpeak would crash on (a
    /// non-string `error`, `scopes` that is not an array) are errors.
    pub fn from_value(value: &Value) -> Result<Self, OAuthError> {
        let text = |key: &str| -> Result<Option<String>, OAuthError> {
            match value.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(v) if truthy(v) => Err(OAuthError::new(format!(
                    "auth() returned a failure whose {key} is not a string"
                ))),
                _ => Ok(None),
            }
        };
        let scopes = match value.get("scopes") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(items.iter().map(js_string).collect()),
            Some(_) => {
                return Err(OAuthError::new(
                    "auth() returned a failure whose scopes is not an array",
                ));
            }
        };
        let status = value
            .get("status")
            .and_then(Value::as_f64)
            .and_then(|s| [400u16, 401, 403].into_iter().find(|c| f64::from(*c) == s));
        Ok(AuthFailure {
            status,
            error: text("error")?,
            error_description: text("errorDescription")?,
            scopes,
        })
    }

    /// The status: `status` when 400, 401 or 403; else 400 for `invalid_request`, 403 for
    /// `insufficient_scope`, 401 otherwise.
    pub fn status(failure: Option<&AuthFailure>) -> u16 {
        let Some(f) = failure else { return 401 };
        f.status.unwrap_or(match f.error.as_deref() {
            Some("invalid_request") => 400,
            Some("insufficient_scope") => 403,
            _ => 401,
        })
    }
}

/// `String(value)` of an array element, as `Array.prototype.join` writes it.
fn js_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(js_string).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".to_string(),
        other => other.to_string(),
    }
}

/// A challenge parameter value: quoted, `\` and `"` escaped, control characters refused.
fn quote(value: &str) -> Result<String, OAuthError> {
    if value.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}') {
        return Err(OAuthError::new(
            "OAuth challenge values cannot contain control characters",
        ));
    }
    Ok(format!(
        "\"{}\"",
        value.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// The endpoint-specific metadata URL for the public URL of `/mcp` (RFC 9728 section 3.1):
/// `https://host/mcp` gives `https://host/.well-known/oauth-protected-resource/mcp`; the query
/// is kept.
pub fn metadata_url(server_url: &str) -> Result<String, OAuthError> {
    let url = absolute_http_url(server_url, "MCP server URL")?;
    let path = match url.path() {
        "/" => "",
        p => p.strip_suffix('/').unwrap_or(p),
    };
    let mut out = url.clone();
    out.set_path(&format!("{METADATA_PATH}{path}"));
    out.set_query(url.query().filter(|q| !q.is_empty()));
    Ok(out.into())
}

/// sunpeak's URL rules, with its error texts (`<label> must ...`).
pub fn absolute_http_url(value: &str, label: &str) -> Result<Url, OAuthError> {
    let url = Url::parse(value)
        .map_err(|_| OAuthError::new(format!("{label} must be an absolute URL")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(OAuthError::new(format!("{label} must use http or https")));
    }
    if url.fragment().is_some_and(|f| !f.is_empty()) {
        return Err(OAuthError::new(format!(
            "{label} must not contain a fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some_and(|p| !p.is_empty()) {
        return Err(OAuthError::new(format!(
            "{label} must not contain credentials"
        )));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() == "http" && !loopback {
        return Err(OAuthError::new(format!(
            "{label} must use https unless it is on localhost"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(json: Value) -> OAuthConfig {
        OAuthConfig::from_export(&json.to_string()).unwrap()
    }

    #[test]
    fn url_rules_and_texts() {
        let err = |v: &str| {
            absolute_http_url(v, "OAuth resource")
                .unwrap_err()
                .to_string()
        };
        assert!(absolute_http_url("https://a.example/mcp", "x").is_ok());
        assert!(absolute_http_url("http://localhost:3000/mcp", "x").is_ok());
        assert!(absolute_http_url("http://127.0.0.1/mcp", "x").is_ok());
        assert!(absolute_http_url("http://[::1]:8/mcp", "x").is_ok());
        assert_eq!(err("/mcp"), "OAuth resource must be an absolute URL");
        assert_eq!(
            err("ftp://a.example"),
            "OAuth resource must use http or https"
        );
        assert_eq!(
            err("https://a.example/#x"),
            "OAuth resource must not contain a fragment"
        );
        assert!(absolute_http_url("https://a.example/#", "x").is_ok());
        assert_eq!(
            err("https://u:p@a.example/"),
            "OAuth resource must not contain credentials"
        );
        assert_eq!(
            err("http://a.example/mcp"),
            "OAuth resource must use https unless it is on localhost"
        );
    }

    #[test]
    fn metadata_urls() {
        assert_eq!(
            metadata_url("https://a.example/mcp").unwrap(),
            "https://a.example/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://a.example/").unwrap(),
            "https://a.example/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            metadata_url("https://a.example:8443/api/mcp/?t=1").unwrap(),
            "https://a.example:8443/.well-known/oauth-protected-resource/api/mcp?t=1"
        );
    }

    #[test]
    fn document_order_and_defaults() {
        let oauth = OAuth::new(
            config(json!({
                "authorizationServers": ["https://auth.example"],
                "scopesSupported": ["read", "write"],
                "resourceName": "Demo",
                "resourceDocumentation": "",
                "additionalMetadata": {"z_first": 1.5, "resource": "ignored"},
            })),
            None,
        )
        .unwrap();
        let url = oauth.public_url(Some("127.0.0.1:9")).unwrap();
        assert_eq!(url, "http://127.0.0.1:9/mcp");
        assert_eq!(
            oauth.document(&url).unwrap(),
            r#"{"z_first":1.5,"resource":"http://127.0.0.1:9/mcp","authorization_servers":["https://auth.example"],"scopes_supported":["read","write"],"resource_name":"Demo","bearer_methods_supported":["header"]}"#
        );
        assert!(oauth.is_metadata_path(METADATA_PATH, &url).unwrap());
        assert!(
            oauth
                .is_metadata_path("/.well-known/oauth-protected-resource/mcp", &url)
                .unwrap()
        );
        assert!(!oauth.is_metadata_path("/.well-known/x", &url).unwrap());
        // A non-loopback Host without resource or --server-url: sunpeak's error.
        let public = oauth.public_url(Some("app.example")).unwrap();
        assert_eq!(
            oauth.document(&public).unwrap_err().to_string(),
            "OAuth resource must use https unless it is on localhost"
        );
    }

    #[test]
    fn challenges() {
        let oauth = OAuth::new(
            config(json!({"authorizationServers": ["https://auth.example"], "scopesSupported": ["read"]})),
            Some("https://app.example/mcp".into()),
        )
        .unwrap();
        let url = oauth.public_url(None).unwrap();
        assert_eq!(
            oauth.challenge(&url, None).unwrap(),
            r#"Bearer resource_metadata="https://app.example/.well-known/oauth-protected-resource/mcp", scope="read""#
        );
        let failure = AuthFailure::from_value(&json!({
            "authorized": false, "error": "insufficient_scope",
            "errorDescription": "needs \"write\" \\ admin", "scopes": ["read", "write"]
        }))
        .unwrap();
        assert_eq!(AuthFailure::status(Some(&failure)), 403);
        assert_eq!(
            oauth.challenge(&url, Some(&failure)).unwrap(),
            r#"Bearer resource_metadata="https://app.example/.well-known/oauth-protected-resource/mcp", scope="read write", error="insufficient_scope", error_description="needs \"write\" \\ admin""#
        );
        let bad = AuthFailure::from_value(&json!({"errorDescription": "a\nb"})).unwrap();
        assert_eq!(
            oauth.challenge(&url, Some(&bad)).unwrap_err().to_string(),
            "OAuth challenge values cannot contain control characters"
        );
        let status = |v: Value| AuthFailure::status(Some(&AuthFailure::from_value(&v).unwrap()));
        assert_eq!(status(json!({"error": "invalid_request"})), 400);
        assert_eq!(status(json!({"error": "invalid_token"})), 401);
        assert_eq!(
            status(json!({"error": "invalid_request", "status": 403})),
            403
        );
        assert_eq!(status(json!({"status": 418})), 401);
        assert_eq!(AuthFailure::status(None), 401);
        assert!(AuthFailure::from_value(&json!({"scopes": "read"})).is_err());
        assert!(AuthFailure::from_value(&json!({"error": 5})).is_err());
    }

    #[test]
    fn invalid_configs_fail_at_start() {
        let new = |v: Value| {
            OAuthConfig::from_export(&v.to_string())
                .and_then(|c| OAuth::new(c, None))
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            new(json!({"authorizationServers": ["http://auth.example"]})),
            Err("OAuth authorization server must use https unless it is on localhost".into())
        );
        assert_eq!(
            new(json!({"authorizationServers": []})),
            Err("OAuth protected-resource metadata requires an authorization server".into())
        );
        assert_eq!(
            new(
                json!({"authorizationServers": ["https://a.example"], "resource": "https://x:y@app.example/mcp"})
            ),
            Err("OAuth resource must not contain credentials".into())
        );
        assert!(new(json!({"resource": "https://app.example/mcp"})).is_err());
        assert!(new(json!({"authorizationServers": ["https://a.example"]})).is_ok());
    }
}
