//! The routes `sunpeak start` serves besides `/mcp` and `/health`: the root page, the favicon,
//! OAuth protected-resource metadata when configured, and 404 for everything else.
//!
//! Texts, headers and status codes are sunpeak's (`GET /` page, `image/png` favicon with a
//! one-day cache, `Not Found`).

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::identity::FAVICON_PNG;

/// sunpeak's root page.
pub const ROOT_PAGE: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\" />\n<link rel=\"icon\" type=\"image/png\" href=\"/favicon.png\" />\n<title>Sunpeak MCP Server</title>\n</head>\n<body><h1>Sunpeak MCP Server</h1><p>Connect via <a href=\"/mcp\">/mcp</a></p></body>\n</html>";

/// The path of the RFC 9728 metadata document at the root.
pub const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource";

/// OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedResource {
    /// The public URL of `/mcp` (`resource`).
    pub resource: String,
    /// Issuer URLs of the authorization servers (at least one).
    pub authorization_servers: Vec<String>,
    /// Scopes the server understands (may be empty).
    pub scopes: Vec<String>,
    /// Human-readable name (the server name).
    pub resource_name: Option<String>,
}

impl ProtectedResource {
    /// The metadata document.
    pub fn document(&self) -> Value {
        let mut doc = json!({
            "resource": self.resource,
            "authorization_servers": self.authorization_servers,
            "bearer_methods_supported": ["header"],
        });
        if !self.scopes.is_empty() {
            doc["scopes_supported"] = json!(self.scopes);
        }
        if let Some(name) = &self.resource_name {
            doc["resource_name"] = json!(name);
        }
        doc
    }

    /// The URL of the metadata document for the MCP path (path-inserted, RFC 9728 3.1):
    /// `https://host/mcp` gives `https://host/.well-known/oauth-protected-resource/mcp`.
    pub fn metadata_url(&self) -> String {
        match url::Url::parse(&self.resource) {
            Ok(url) => {
                let path = url.path().trim_end_matches('/');
                let origin = url.origin().ascii_serialization();
                format!("{origin}{PROTECTED_RESOURCE_PATH}{path}")
            }
            Err(_) => format!("{}{PROTECTED_RESOURCE_PATH}", self.resource),
        }
    }

    /// The `WWW-Authenticate` value of a 401: `Bearer resource_metadata="..."` plus `scope`.
    pub fn challenge(&self) -> String {
        let mut value = format!("Bearer resource_metadata=\"{}\"", self.metadata_url());
        if !self.scopes.is_empty() {
            value.push_str(&format!(", scope=\"{}\"", self.scopes.join(" ")));
        }
        value
    }
}

/// Answers a request for one of the site routes, or `None` when the path is not one of them
/// (the caller answers with [`not_found`] then). `/mcp` and `/health` are not handled here.
pub fn site_route(
    method: &Method,
    path: &str,
    oauth: Option<&ProtectedResource>,
) -> Option<Response<Bytes>> {
    let get = method == Method::GET;
    let head = method == Method::HEAD;
    match path {
        "/" if get => Some(response(
            StatusCode::OK,
            &[
                ("content-type", "text/html"),
                ("access-control-allow-origin", "*"),
            ],
            Bytes::from_static(ROOT_PAGE.as_bytes()),
        )),
        "/favicon.png" | "/favicon.ico" if get || head => {
            let mut resp = response(
                StatusCode::OK,
                &[
                    ("content-type", "image/png"),
                    ("cache-control", "public, max-age=86400"),
                    ("access-control-allow-origin", "*"),
                ],
                if head {
                    Bytes::new()
                } else {
                    Bytes::from_static(FAVICON_PNG)
                },
            );
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(FAVICON_PNG.len()));
            Some(resp)
        }
        _ if get && oauth.is_some() && is_protected_resource_path(path, oauth) => {
            let doc = oauth.map(ProtectedResource::document).unwrap_or_default();
            Some(response(
                StatusCode::OK,
                &[
                    ("content-type", "application/json"),
                    ("cache-control", "public, max-age=3600"),
                    ("access-control-allow-origin", "*"),
                ],
                Bytes::from(doc.to_string()),
            ))
        }
        _ => None,
    }
}

fn is_protected_resource_path(path: &str, oauth: Option<&ProtectedResource>) -> bool {
    if path == PROTECTED_RESOURCE_PATH || path == "/.well-known/oauth-protected-resource/mcp" {
        return true;
    }
    // The path-inserted form for a server URL whose path is not `/mcp` (behind a prefix).
    oauth
        .and_then(|o| url::Url::parse(&o.resource).ok())
        .is_some_and(|u| {
            path == format!(
                "{PROTECTED_RESOURCE_PATH}{}",
                u.path().trim_end_matches('/')
            )
        })
}

/// sunpeak's 404: `Not Found`, no CORS headers.
pub fn not_found() -> Response<Bytes> {
    response(StatusCode::NOT_FOUND, &[], Bytes::from_static(b"Not Found"))
}

fn response(
    status: StatusCode,
    headers: &[(&'static str, &'static str)],
    body: Bytes,
) -> Response<Bytes> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    for (name, value) in headers {
        resp.headers_mut()
            .insert(*name, HeaderValue::from_static(value));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_favicon() {
        let root = site_route(&Method::GET, "/", None).unwrap();
        assert_eq!(root.status(), 200);
        assert_eq!(root.headers()["content-type"], "text/html");
        assert!(
            std::str::from_utf8(root.body())
                .unwrap()
                .contains("<h1>Sunpeak MCP Server</h1>")
        );
        assert!(site_route(&Method::POST, "/", None).is_none());

        let icon = site_route(&Method::GET, "/favicon.ico", None).unwrap();
        assert_eq!(icon.headers()["content-length"], "1061");
        assert_eq!(icon.body().len(), 1061);
        let head = site_route(&Method::HEAD, "/favicon.png", None).unwrap();
        assert_eq!(head.headers()["content-length"], "1061");
        assert!(head.body().is_empty());
        assert!(site_route(&Method::GET, "/favicon.svg", None).is_none());
        assert!(site_route(&Method::HEAD, "/", None).is_none());
    }

    #[test]
    fn protected_resource_metadata() {
        let oauth = ProtectedResource {
            resource: "https://app.example.com/mcp".into(),
            authorization_servers: vec!["https://auth.example.com".into()],
            scopes: vec!["read".into(), "write".into()],
            resource_name: Some("app".into()),
        };
        assert_eq!(
            oauth.metadata_url(),
            "https://app.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            oauth.challenge(),
            "Bearer resource_metadata=\"https://app.example.com/.well-known/oauth-protected-resource/mcp\", scope=\"read write\""
        );
        for path in [
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp",
        ] {
            let resp = site_route(&Method::GET, path, Some(&oauth)).unwrap();
            let doc: Value = serde_json::from_slice(resp.body()).unwrap();
            assert_eq!(doc["resource"], "https://app.example.com/mcp");
            assert_eq!(doc["authorization_servers"][0], "https://auth.example.com");
            assert_eq!(doc["scopes_supported"], json!(["read", "write"]));
        }
        assert!(site_route(&Method::GET, "/.well-known/oauth-protected-resource", None).is_none());
        assert_eq!(not_found().status(), 404);
        assert_eq!(not_found().body().as_ref(), b"Not Found");
    }
}
