//! The body of an SSE response: queued frames first, then the live channel, with keep-alive
//! comments while idle. Dropping it (client gone) detaches the connection from its stream.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::Frame;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::encode::KEEP_ALIVE;
use super::table::ConnRx;
use crate::metrics::OpenStream;
use crate::pending::lock;
use crate::session::state::{BusyGuard, Session};

/// What happens when the connection goes away.
#[derive(Default)]
pub(crate) struct StreamGuard {
    /// Detach `(session, stream, generation)`.
    pub(crate) detach: Option<(Arc<Session>, u64, u64)>,
    /// Cancel the requests of a stream that cannot be resumed.
    pub(crate) cancel: Option<CancellationToken>,
    /// Keep the session out of idle expiry while the stream is open (GET streams).
    pub(crate) busy: Option<BusyGuard>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Some((session, stream, generation)) = self.detach.take() {
            lock(&session.streams).detach(stream, generation);
        }
        if let Some(t) = self.cancel.take() {
            t.cancel();
        }
        drop(self.busy.take());
    }
}

/// An SSE response body.
pub(crate) struct SseBody {
    queued: VecDeque<Bytes>,
    rx: Option<ConnRx>,
    keep_alive: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    stop: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    _guard: StreamGuard,
    _open: OpenStream,
}

impl SseBody {
    pub(crate) fn new(
        queued: Vec<Bytes>,
        rx: Option<ConnRx>,
        keep_alive: Duration,
        guard: StreamGuard,
    ) -> Self {
        Self {
            queued: queued.into(),
            rx,
            keep_alive,
            timer: None,
            stop: None,
            _guard: guard,
            _open: OpenStream::new(),
        }
    }

    /// Ends the body when `token` is cancelled (GET streams end at shutdown).
    pub(crate) fn stop_on(mut self, token: CancellationToken) -> Self {
        self.stop = Some(Box::pin(token.cancelled_owned()));
        self
    }

    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(b) = self.queued.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        if let Some(stop) = &mut self.stop
            && stop.as_mut().poll(cx).is_ready()
        {
            self.rx = None;
            return Poll::Ready(None);
        }
        let Some(rx) = &mut self.rx else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Ready(Some(b)) => return Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(None) => {
                self.rx = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if self.keep_alive.is_zero() {
            return Poll::Pending;
        }
        let period = self.keep_alive;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(period)));
        if timer.as_mut().poll(cx).is_ready() {
            timer.as_mut().reset(Instant::now() + period);
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(KEEP_ALIVE)))));
        }
        Poll::Pending
    }

    pub(crate) fn is_end(&self) -> bool {
        self.queued.is_empty() && self.rx.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::sync::mpsc;

    struct B(SseBody);
    impl http_body::Body for B {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            self.0.poll_next(cx)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn queued_then_live_then_end_with_keep_alive() {
        let (tx, rx) = mpsc::channel(4);
        let mut body = B(SseBody::new(
            vec![Bytes::from_static(b"a")],
            Some(ConnRx::from_channel(rx)),
            Duration::from_secs(15),
            StreamGuard::default(),
        ));
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            "a"
        );
        tx.send(Bytes::from_static(b"b")).await.unwrap();
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            "b"
        );
        // Idle: a keep-alive comment after 15 s (virtual time).
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            KEEP_ALIVE
        );
        drop(tx);
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn stops_on_token() {
        let (_tx, rx) = mpsc::channel(4);
        let token = CancellationToken::new();
        let mut body = B(SseBody::new(
            vec![],
            Some(ConnRx::from_channel(rx)),
            Duration::ZERO,
            StreamGuard::default(),
        )
        .stop_on(token.clone()));
        token.cancel();
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn drop_cancels() {
        let token = CancellationToken::new();
        let guard = StreamGuard {
            detach: None,
            cancel: Some(token.clone()),
            busy: None,
        };
        drop(SseBody::new(vec![], None, Duration::ZERO, guard));
        assert!(token.is_cancelled());
    }
}
