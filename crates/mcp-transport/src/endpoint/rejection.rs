//! [`Rejection`]: every way the endpoint refuses a request, with its status, body and log
//! line in one place.

use http::{Response, StatusCode};
use mcp_proto::{McpError, ProtocolVersion};

use super::respond::with_session;
use crate::http::body::McpBody;
use crate::http::errors;
use crate::logging;
use crate::session::{Missing, StoreError};

/// Why a request to the endpoint is refused. [`Rejection::into_response`] logs it (once,
/// where sunpeak logs it) and builds the answer.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// POST without `Accept: application/json, text/event-stream` (406).
    NotAcceptablePost,
    /// GET without `Accept: text/event-stream` (406).
    NotAcceptableGet,
    /// POST with another `Content-Type` than JSON (415).
    UnsupportedMediaType,
    /// The body is over the limit (413).
    BodyTooLarge,
    /// The body stopped arriving (408).
    BodyStalled,
    /// The body could not be read (400).
    BodyUnreadable(String),
    /// Not JSON, or not JSON-RPC (400, the parse error; logged when `log`).
    BadJson { error: McpError, log: bool },
    /// `initialize` inside a batch (400).
    InitializeInBatch,
    /// `initialize` on an existing session (400).
    AlreadyInitialized,
    /// A batch over the size cap (400).
    BatchTooLarge(usize),
    /// A batch at a version without batching (400).
    BatchNotSupported(ProtocolVersion),
    /// An unsupported `MCP-Protocol-Version` header (400).
    UnsupportedVersion(String),
    /// No `Mcp-Session-Id` where one is needed (400).
    MissingSession,
    /// Unknown, expired or another user's session (404).
    UnknownSession,
    /// Shutting down: no new sessions or streams (503).
    ShuttingDown,
    /// The session store could not answer (503).
    StoreUnavailable(StoreError),
    /// The auth hook's refusal (401, 400, 403 with its challenge, or 500), already logged.
    Auth(Box<Response<McpBody>>),
    /// A modern (2026-07-28) POST holding a batch (400).
    ModernBatch,
    /// A modern POST holding a JSON-RPC response, which clients must not send (400).
    ModernResponse,
    /// A modern request refused with a JSON-RPC error that carries its id: bad `_meta`
    /// (-32602), header mismatch (-32020), unsupported version (-32022), all 400; unknown or
    /// removed method (-32601, 404).
    Modern {
        id: mcp_proto::RequestId,
        status: StatusCode,
        error: McpError,
    },
}

impl From<Missing> for Rejection {
    fn from(m: Missing) -> Self {
        match m {
            Missing::NotFound => Rejection::UnknownSession,
            Missing::Unavailable(e) => Rejection::StoreUnavailable(e),
        }
    }
}

impl From<StoreError> for Rejection {
    fn from(e: StoreError) -> Self {
        Rejection::StoreUnavailable(e)
    }
}

impl Rejection {
    /// Logs the rejection (for the session `sid` names, if any) and builds its response.
    pub(crate) fn into_response(self, sid: Option<&str>) -> Response<McpBody> {
        let log = |msg: &str| logging::transport_error(sid, msg);
        match self {
            Rejection::NotAcceptablePost => {
                log(
                    "Not Acceptable: Client must accept both application/json and text/event-stream",
                );
                errors::not_acceptable_post()
            }
            Rejection::NotAcceptableGet => {
                log("Not Acceptable: Client must accept text/event-stream");
                errors::not_acceptable_get()
            }
            Rejection::UnsupportedMediaType => {
                log("Unsupported Media Type: Content-Type must be application/json");
                errors::unsupported_media_type()
            }
            Rejection::BodyTooLarge => errors::payload_too_large(),
            Rejection::BodyStalled => {
                let msg = "Request Timeout: the request body stopped arriving";
                log(msg);
                errors::server_error(StatusCode::REQUEST_TIMEOUT, msg)
            }
            Rejection::BodyUnreadable(e) => {
                log(&format!("could not read request body: {e}"));
                errors::server_error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: could not read the request body",
                )
            }
            Rejection::BadJson { error, log: logged } => {
                if logged {
                    log(&error.message);
                }
                errors::rpc_error(StatusCode::BAD_REQUEST, &error)
            }
            Rejection::InitializeInBatch => invalid_request(
                sid,
                "Invalid Request: Only one initialization request is allowed".to_owned(),
                false,
            ),
            Rejection::AlreadyInitialized => invalid_request(
                sid,
                "Invalid Request: Server already initialized".to_owned(),
                true,
            ),
            Rejection::BatchTooLarge(max) => invalid_request(
                sid,
                format!("Invalid Request: a batch may hold at most {max} messages"),
                false,
            ),
            Rejection::BatchNotSupported(version) => invalid_request(
                sid,
                format!(
                    "Invalid Request: JSON-RPC batches are not supported at protocol version {version}"
                ),
                false,
            ),
            Rejection::UnsupportedVersion(text) => {
                let msg = format!(
                    "Bad Request: Unsupported protocol version: {} (supported versions: {})",
                    text,
                    ProtocolVersion::supported_list()
                );
                log(&msg);
                errors::server_error(StatusCode::BAD_REQUEST, msg)
            }
            Rejection::MissingSession => {
                logging::transport_error(None, "Bad Request: Mcp-Session-Id header is required");
                errors::missing_session()
            }
            Rejection::UnknownSession => errors::unknown_session(),
            Rejection::ShuttingDown => errors::server_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: server is shutting down",
            ),
            Rejection::Auth(response) => *response,
            Rejection::ModernBatch => invalid_request(
                sid,
                "Invalid Request: a POST holds one message at protocol version 2026-07-28"
                    .to_owned(),
                false,
            ),
            Rejection::ModernResponse => invalid_request(
                sid,
                "Invalid Request: clients do not send responses at protocol version 2026-07-28"
                    .to_owned(),
                false,
            ),
            Rejection::Modern { id, status, error } => {
                if status != StatusCode::NOT_FOUND {
                    log(&error.message);
                }
                let done = vec![crate::reply::Finished {
                    id,
                    result: Err(error),
                }];
                let mut r = super::respond::json(done, false, false);
                *r.status_mut() = status;
                r
            }
            Rejection::StoreUnavailable(e) => {
                tracing::error!(target: logging::TARGET, error = %e, "Session store unavailable");
                errors::server_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable: the session store is unreachable",
                )
            }
        }
    }
}

/// A 400 with a JSON-RPC `-32600`; `echo_session` puts the session id back on the answer.
fn invalid_request(sid: Option<&str>, message: String, echo_session: bool) -> Response<McpBody> {
    let e = McpError::invalid_request(message);
    logging::transport_error(sid, &e.message);
    let r = errors::rpc_error(StatusCode::BAD_REQUEST, &e);
    if echo_session {
        with_session(r, sid)
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(r: Response<McpBody>) -> String {
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn an_unreachable_store_is_a_503_with_a_json_rpc_error() {
        let r = Rejection::from(Missing::Unavailable(StoreError::Unavailable(
            "connection refused".into(),
        )))
        .into_response(Some("sid"));
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = body(r).await;
        assert!(text.contains("session store is unreachable"), "{text}");
        assert!(!text.contains("connection refused"), "{text}");
    }

    #[tokio::test]
    async fn already_initialized_echoes_the_session_and_others_do_not() {
        let r = Rejection::AlreadyInitialized.into_response(Some("abc"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()["mcp-session-id"], "abc");
        let r = Rejection::BatchTooLarge(3).into_response(Some("abc"));
        assert!(r.headers().get("mcp-session-id").is_none());
        assert!(body(r).await.contains("at most 3 messages"));
        let r = Rejection::from(Missing::NotFound).into_response(Some("abc"));
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
