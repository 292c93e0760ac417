//! The routes `sunpeak start` serves besides `/mcp` and `/health`: the root page, the favicon,
//! OAuth protected-resource metadata when configured (see [`crate::oauth`]), and 404 for
//! everything else.
//!
//! Texts, headers and status codes are sunpeak's (`GET /` page, `image/png` favicon with a
//! one-day cache, metadata cached five minutes, `Not Found`).

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};

use crate::identity::FAVICON_PNG;
use crate::oauth::OAuth;

/// sunpeak's root page.
pub const ROOT_PAGE: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\" />\n<link rel=\"icon\" type=\"image/png\" href=\"/favicon.png\" />\n<title>Sunpeak MCP Server</title>\n</head>\n<body><h1>Sunpeak MCP Server</h1><p>Connect via <a href=\"/mcp\">/mcp</a></p></body>\n</html>";

/// Answers a request for one of the site routes, or `None` when the path is not one of them
/// (the caller answers with [`not_found`] then). `/mcp` and `/health` are not handled here.
/// `host` is the request's `Host` (for the public URL when neither `--server-url` nor the
/// config's `resource` gives it).
pub fn site_route(
    method: &Method,
    path: &str,
    host: Option<&str>,
    oauth: Option<&OAuth>,
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
        _ if get => oauth.and_then(|oauth| protected_resource(oauth, path, host)),
        _ => None,
    }
}

/// The RFC 9728 document at `/.well-known/oauth-protected-resource` and at the path for the
/// public URL (`.../oauth-protected-resource/mcp`), as sunpeak: JSON, cached 5 minutes, CORS.
/// A config that breaks the URL rules for this request (a non-loopback `Host` without
/// `resource` or `--server-url`) is a 500 with the reason logged; sunpeak crashes.
fn protected_resource(oauth: &OAuth, path: &str, host: Option<&str>) -> Option<Response<Bytes>> {
    // A path that cannot be matched (the public URL is invalid) is not a metadata path: a 404,
    // as for any other unknown path; the root path still answers, with the reason.
    let document = oauth.public_url(host).and_then(|url| {
        if oauth.is_metadata_path(path, &url).unwrap_or(false) {
            oauth.document(&url).map(Some)
        } else {
            Ok(None)
        }
    });
    let mut resp = match document {
        Ok(None) => return None,
        Ok(Some(doc)) => response(
            StatusCode::OK,
            &[
                ("content-type", "application/json"),
                ("cache-control", "public, max-age=300"),
            ],
            Bytes::from(doc),
        ),
        Err(err) => {
            tracing::error!(target: "mcp", "OAuth metadata error: {err}");
            response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &[("content-type", "text/plain; charset=utf-8")],
                Bytes::from_static(b"Internal Server Error"),
            )
        }
    };
    mcp_transport::http::cors::apply(resp.headers_mut());
    Some(resp)
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
        let root = site_route(&Method::GET, "/", None, None).unwrap();
        assert_eq!(root.status(), 200);
        assert_eq!(root.headers()["content-type"], "text/html");
        assert!(
            std::str::from_utf8(root.body())
                .unwrap()
                .contains("<h1>Sunpeak MCP Server</h1>")
        );
        assert!(site_route(&Method::POST, "/", None, None).is_none());

        let icon = site_route(&Method::GET, "/favicon.ico", None, None).unwrap();
        assert_eq!(icon.headers()["content-length"], "1061");
        assert_eq!(icon.body().len(), 1061);
        let head = site_route(&Method::HEAD, "/favicon.png", None, None).unwrap();
        assert_eq!(head.headers()["content-length"], "1061");
        assert!(head.body().is_empty());
        assert!(site_route(&Method::GET, "/favicon.svg", None, None).is_none());
        assert!(site_route(&Method::HEAD, "/", None, None).is_none());
    }

    #[test]
    fn protected_resource_metadata() {
        let config = crate::oauth::OAuthConfig {
            authorization_servers: vec!["https://auth.example.com".into()],
            scopes_supported: Some(vec!["read".into(), "write".into()]),
            ..Default::default()
        };
        let oauth = OAuth::new(config, Some("https://app.example.com/mcp".into())).unwrap();
        for path in [
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp",
        ] {
            let resp = site_route(&Method::GET, path, Some("x"), Some(&oauth)).unwrap();
            assert_eq!(resp.headers()["cache-control"], "public, max-age=300");
            assert_eq!(resp.headers()["access-control-allow-origin"], "*");
            assert_eq!(
                std::str::from_utf8(resp.body()).unwrap(),
                r#"{"resource":"https://app.example.com/mcp","authorization_servers":["https://auth.example.com"],"scopes_supported":["read","write"],"bearer_methods_supported":["header"]}"#
            );
        }
        let other = "/.well-known/oauth-protected-resource/other";
        assert!(site_route(&Method::GET, other, None, Some(&oauth)).is_none());
        let head = "/.well-known/oauth-protected-resource";
        assert!(site_route(&Method::HEAD, head, None, Some(&oauth)).is_none());
        assert!(site_route(&Method::GET, head, None, None).is_none());

        // Without --server-url or resource, a non-loopback Host cannot be a resource.
        let config = crate::oauth::OAuthConfig {
            authorization_servers: vec!["https://auth.example.com".into()],
            ..Default::default()
        };
        let oauth = OAuth::new(config, None).unwrap();
        let resp = site_route(&Method::GET, head, Some("app.example.com"), Some(&oauth)).unwrap();
        assert_eq!(resp.status(), 500);
        let elsewhere = "/.well-known/oauth-protected-resource/other";
        assert!(
            site_route(
                &Method::GET,
                elsewhere,
                Some("app.example.com"),
                Some(&oauth)
            )
            .is_none()
        );
        assert_eq!(not_found().status(), 404);
        assert_eq!(not_found().body().as_ref(), b"Not Found");
    }
}
