//! The MCP endpoint: one function from an HTTP request to a response. Checks run in this
//! order: Host, Origin, OPTIONS preflight, auth, method; CORS headers go on every response.
//! An auth hook that wants the body ([`crate::AuthHook::wants_body`]) runs on a POST in `post`
//! instead, once the body is read within the limit, parsed and logged (as the npm `sunpeak`).

mod big_initialize;
mod delete;
mod get;
mod modern;
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

use crate::auth::{AuthDecision, AuthInfo, AuthRequest, BoxError};
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
    // A hook that wants the body of a POST runs in `post` once the body is read.
    let auth = match &config.auth {
        Some(hook) if !(parts.method == Method::POST && hook.wants_body()) => {
            match authenticate(engine, &parts.method, &parts.uri, &headers, None).await {
                Ok(auth) => auth,
                Err(r) => return r,
            }
        }
        _ => None,
    };

    let req = Incoming {
        headers,
        uri: parts.uri,
        auth,
    };
    // A 2026-07-28 client has no GET stream and no session to delete: 405, as the
    // specification asks of a server of that era. (A closure: only GET and DELETE ask.)
    let modern_without_session = || {
        req.headers.get(headers::SESSION_ID).is_none()
            && crate::modern::era_of(&req.headers, false, None) == crate::modern::Era::Modern
    };
    match parts.method {
        Method::POST => post::handle(engine, req, body).await,
        Method::GET | Method::DELETE if modern_without_session() => {
            errors::method_not_allowed(true)
        }
        Method::GET if !config.stateless => get::handle(engine, req).await,
        Method::DELETE if !config.stateless => delete::handle(engine, req).await,
        _ => errors::method_not_allowed(config.stateless),
    }
}

/// Runs the auth hook (if any): the auth info to go on with, or the response to answer with
/// (the hook's rejection, or 500 when it failed or panicked).
#[allow(clippy::result_large_err)]
pub(crate) async fn authenticate(
    engine: &Engine,
    method: &Method,
    uri: &http::Uri,
    headers: &Arc<http::HeaderMap>,
    body: Option<bytes::Bytes>,
) -> Result<Option<AuthInfo>, Response<McpBody>> {
    let config = &engine.config;
    let Some(hook) = &config.auth else {
        return Ok(None);
    };
    let req = AuthRequest {
        method: method.clone(),
        uri: uri.clone(),
        headers: Arc::clone(headers),
        body,
    };
    match AssertUnwindSafe(hook.decide(req)).catch_unwind().await {
        Ok(Ok(AuthDecision::Allow(info))) => Ok(Some(info)),
        Ok(Ok(AuthDecision::Deny(denial))) => Err(errors::denied(
            denial,
            config.resource_metadata_url.as_deref(),
        )),
        Ok(Err(e)) => {
            tracing::error!(target: logging::TARGET, error = %e, "Auth error");
            Err(errors::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
            ))
        }
        Err(_) => {
            tracing::error!(target: logging::TARGET, error = "auth hook panicked", "Auth error");
            Err(errors::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
            ))
        }
    }
}

/// For a POST whose body was read: runs a hook that wants the body now; otherwise keeps what
/// the hook decided before the body was read.
#[allow(clippy::result_large_err)]
pub(crate) async fn authenticate_post(
    engine: &Engine,
    req: &Incoming,
    body: &bytes::Bytes,
) -> Result<Option<AuthInfo>, Response<McpBody>> {
    match &engine.config.auth {
        Some(hook) if hook.wants_body() => {
            authenticate(
                engine,
                &Method::POST,
                &req.uri,
                &req.headers,
                Some(body.clone()),
            )
            .await
        }
        _ => Ok(req.auth.clone()),
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
