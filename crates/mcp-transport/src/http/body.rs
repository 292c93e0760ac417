//! [`McpBody`]: the response body type of every response this crate produces.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use crate::auth::BoxError;
use crate::sse::body::SseBody;

/// A response body: empty, a full buffer, an SSE stream, or any other body (boxed).
pub struct McpBody(Kind);

enum Kind {
    Empty,
    Full(Option<Bytes>),
    Sse(Box<SseBody>),
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl McpBody {
    /// An empty body.
    pub fn empty() -> Self {
        Self(Kind::Empty)
    }

    /// A body of one buffer.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let b = bytes.into();
        if b.is_empty() {
            Self::empty()
        } else {
            Self(Kind::Full(Some(b)))
        }
    }

    /// Wraps any body (e.g. a fallback service's).
    pub fn new<B>(body: B) -> Self
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(Kind::Boxed(body.map_err(Into::into).boxed_unsync()))
    }

    pub(crate) fn sse(body: SseBody) -> Self {
        Self(Kind::Sse(Box::new(body)))
    }

    /// Collects the whole body (it ends when an SSE reply's last response is sent).
    pub async fn collect_bytes(self) -> Result<Bytes, BoxError> {
        Ok(BodyExt::collect(self).await?.to_bytes())
    }
}

impl Default for McpBody {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Bytes> for McpBody {
    fn from(b: Bytes) -> Self {
        Self::full(b)
    }
}

impl From<String> for McpBody {
    fn from(s: String) -> Self {
        Self::full(s)
    }
}

impl From<&'static str> for McpBody {
    fn from(s: &'static str) -> Self {
        Self::full(Bytes::from_static(s.as_bytes()))
    }
}

impl From<Vec<u8>> for McpBody {
    fn from(v: Vec<u8>) -> Self {
        Self::full(v)
    }
}

impl Body for McpBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().0 {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Kind::Sse(s) => s
                .poll_next(cx)
                .map(|o| o.map(|r| r.map_err(|e| match e {}))),
            Kind::Boxed(b) => Pin::new(b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Empty => true,
            Kind::Full(b) => b.is_none(),
            Kind::Sse(s) => s.is_end(),
            Kind::Boxed(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Sse(_) => SizeHint::default(),
            Kind::Boxed(b) => b.size_hint(),
        }
    }
}

impl std::fmt::Debug for McpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.0 {
            Kind::Empty => "empty",
            Kind::Full(_) => "full",
            Kind::Sse(_) => "sse",
            Kind::Boxed(_) => "boxed",
        };
        f.debug_tuple("McpBody").field(&kind).finish()
    }
}
