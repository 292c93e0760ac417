//! [`McpService`]: the endpoint as a `tower::Service`, mountable in hyper or axum, passing
//! other paths to a fallback service (the analogue of sunpeak's `createMcpHandler`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use tower::ServiceExt;
use tower_service::Service;

use crate::auth::BoxError;
use crate::engine::Transport;
use crate::http::body::McpBody;

/// Serves the transport's endpoint path and passes every other path to `F`.
///
/// Mount it as the whole app of a hyper server, or under a route in axum
/// (`Router::new().route_service("/mcp", transport.service())`).
#[derive(Clone, Debug)]
pub struct McpService<F = NotFound> {
    transport: Transport,
    fallback: F,
}

impl<F> McpService<F> {
    pub(crate) fn new(transport: Transport, fallback: F) -> Self {
        Self {
            transport,
            fallback,
        }
    }

    /// The transport behind this service.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }
}

impl<B, F, FB> Service<Request<B>> for McpService<F>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Service<Request<B>, Response = Response<FB>> + Clone + Send + 'static,
    F::Future: Send + 'static,
    FB: Body<Data = Bytes> + Send + 'static,
    FB::Error: Into<BoxError>,
{
    type Response = Response<McpBody>;
    type Error = F::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<McpBody>, F::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.uri().path() == self.transport.config().get_endpoint_path() {
            let t = self.transport.clone();
            Box::pin(async move { Ok(t.handle(req).await) })
        } else {
            let f = self.fallback.clone();
            Box::pin(async move {
                let r = f.oneshot(req).await?;
                Ok(r.map(McpBody::new))
            })
        }
    }
}

/// The default fallback: 404 `Not Found`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<McpBody>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<McpBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<B>) -> Self::Future {
        let mut r = Response::new(McpBody::from("Not Found"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        std::future::ready(Ok(r))
    }
}
