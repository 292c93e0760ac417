//! DELETE: ends a session.

use std::sync::Arc;

use http::{Response, StatusCode};

use super::rejection::Rejection;
use super::{Incoming, header_version};
use crate::engine::Engine;
use crate::http::body::McpBody;
use crate::http::{errors, headers};

pub(super) async fn handle(engine: &Arc<Engine>, req: Incoming) -> Response<McpBody> {
    let sid = headers::get(&req.headers, headers::SESSION_ID);
    match delete(engine, &req, sid).await {
        Ok(resp) => resp,
        Err(rejection) => rejection.into_response(sid),
    }
}

async fn delete(
    engine: &Engine,
    req: &Incoming,
    sid: Option<&str>,
) -> Result<Response<McpBody>, Rejection> {
    let sid = sid.ok_or(Rejection::MissingSession)?;
    header_version(&req.headers)?;
    engine.sessions.find(sid, req.auth.as_ref()).await?;
    if engine.sessions.delete(sid).await? {
        Ok(errors::status(StatusCode::OK))
    } else {
        Err(Rejection::UnknownSession)
    }
}
