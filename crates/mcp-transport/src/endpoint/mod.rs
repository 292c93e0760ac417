//! The MCP endpoint: one function from an HTTP request to a response. Checks run in this
//! order: Host, Origin, OPTIONS preflight, auth, method; CORS headers go on every response.

mod delete;
mod get;
mod post;
mod rejection;
mod requests;
pub(crate) mod respond;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use http::header::{HOST, ORIGIN};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use mcp_proto::ProtocolVersion;

use crate::auth::{AuthInfo, AuthRequest, BoxError};
use crate::engine::Engine;
use crate::http::body::McpBody;
use crate::http::origin::{HostCheck, check_host, origin_allowed};
use crate::http::{cors, errors, headers};
use crate::logging;
use rejection::Rejection;

pub(crate) async fn handle<B>(engine: &Arc<Engine>, req: Request<B>) -> Response<McpBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut resp = route(engine, req).await;
    cors::apply(resp.headers_mut());
    resp
}

async fn route<B>(engine: &Arc<Engine>, req: Request<B>) -> Response<McpBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &engine.config;
    let (mut parts, body) = req.into_parts();

    let host = match parts.headers.get(HOST) {
        Some(v) => match v.to_str() {
            Ok(s) => Some(s),
            Err(_) => {
                return errors::server_error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: Invalid Host header",
                );
            }
        },
        None => parts.uri.authority().map(|a| a.as_str()),
    };
    match check_host(host, config.allowed_hosts.as_deref()) {
        HostCheck::Ok => {}
        HostCheck::Malformed => {
            return errors::server_error(
                StatusCode::BAD_REQUEST,
                "Bad Request: Invalid Host header",
            );
        }
        HostCheck::Forbidden => {
            logging::transport_error(
                None,
                &format!("Invalid Host header: {}", host.unwrap_or("")),
            );
            return errors::server_error(StatusCode::FORBIDDEN, "Forbidden: Host not allowed");
        }
    }
    if let Some(origin) = parts.headers.get(ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| origin_allowed(o, &config.allowed_origins));
        if !ok {
            logging::transport_error(None, "Origin not allowed");
            return errors::server_error(StatusCode::FORBIDDEN, "Forbidden: Origin not allowed");
        }
    }
    if parts.method == Method::OPTIONS {
        return errors::status(StatusCode::NO_CONTENT);
    }

    let headers = Arc::new(std::mem::take(&mut parts.headers));
    let auth: Option<AuthInfo> = match &config.auth {
        None => None,
        Some(hook) => {
            let req = AuthRequest {
                method: parts.method.clone(),
                uri: parts.uri.clone(),
                headers: Arc::clone(&headers),
            };
            match AssertUnwindSafe(hook.authenticate(req))
                .catch_unwind()
                .await
            {
                Ok(Ok(Some(info))) => Some(info),
                Ok(Ok(None)) => {
                    return errors::unauthorized(config.resource_metadata_url.as_deref());
                }
                Ok(Err(e)) => {
                    tracing::error!(target: logging::TARGET, error = %e, "Auth error");
                    return errors::text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal Server Error",
                    );
                }
                Err(_) => {
                    tracing::error!(target: logging::TARGET, error = "auth hook panicked", "Auth error");
                    return errors::text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal Server Error",
                    );
                }
            }
        }
    };

    let req = Incoming {
        headers,
        uri: parts.uri,
        auth,
    };
    match parts.method {
        Method::POST => post::handle(engine, req, body).await,
        Method::GET if !config.stateless => get::handle(engine, req).await,
        Method::DELETE if !config.stateless => delete::handle(engine, req).await,
        _ => errors::method_not_allowed(config.stateless),
    }
}

/// The request as the method handlers need it.
pub(crate) struct Incoming {
    pub(crate) headers: Arc<http::HeaderMap>,
    pub(crate) uri: http::Uri,
    pub(crate) auth: Option<AuthInfo>,
}

/// Reads `MCP-Protocol-Version`: `Ok(None)` when absent, a rejection when unsupported.
pub(crate) fn header_version(h: &http::HeaderMap) -> Result<Option<ProtocolVersion>, Rejection> {
    let Some(v) = h.get(headers::PROTOCOL_VERSION) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("");
    match ProtocolVersion::parse(text.trim()) {
        Some(p) => Ok(Some(p)),
        None => Err(Rejection::UnsupportedVersion(text.to_owned())),
    }
}
