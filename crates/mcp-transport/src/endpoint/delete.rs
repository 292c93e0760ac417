//! DELETE: ends a session.

use std::sync::Arc;

use http::{Response, StatusCode};

use super::{Incoming, find_session, header_version};
use crate::engine::Engine;
use crate::http::body::McpBody;
use crate::http::{errors, headers};
use crate::logging;

pub(super) fn handle(engine: &Arc<Engine>, req: Incoming) -> Response<McpBody> {
    let Some(id) = headers::get(&req.headers, headers::SESSION_ID) else {
        logging::transport_error(None, "Bad Request: Mcp-Session-Id header is required");
        return errors::missing_session();
    };
    if let Err(r) = header_version(&req.headers, Some(id)) {
        return r;
    }
    if let Err(r) = find_session(engine, id, req.auth.as_ref()) {
        return r;
    }
    match engine.store.remove(id) {
        Some(s) => {
            logging::session_closed(&s.id, engine.store.len());
            errors::status(StatusCode::OK)
        }
        None => errors::unknown_session(),
    }
}
