//! A connection that fails once writing to it has made no progress for a while.
//!
//! hyper has no write timer: a client that stops reading (a full TCP window) keeps its
//! connection, the response body being sent on it (an SSE stream marks its session busy) and
//! the task serving it for as long as the kernel keeps the socket, which for a peer that still
//! acknowledges is for ever. Failing the write ends the connection like a client that left.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

pin_project! {
    /// `io` whose writes fail with `TimedOut` after `limit` without progress.
    pub(crate) struct WriteDeadline<T> {
        #[pin]
        io: T,
        limit: Duration,
        // Running while a write or flush is pending.
        stalled: Option<Pin<Box<Sleep>>>,
    }
}

impl<T> WriteDeadline<T> {
    pub(crate) fn new(io: T, limit: Duration) -> Self {
        Self {
            io,
            limit,
            stalled: None,
        }
    }
}

/// Passes a write's outcome on; while it is pending, fails it once `limit` has passed since
/// the first pending poll.
fn watch<R>(
    stalled: &mut Option<Pin<Box<Sleep>>>,
    limit: Duration,
    cx: &mut Context<'_>,
    poll: Poll<io::Result<R>>,
) -> Poll<io::Result<R>> {
    if poll.is_ready() {
        *stalled = None;
        return poll;
    }
    let timer = stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
    ready!(timer.as_mut().poll(cx));
    Poll::Ready(Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("the client read nothing for {limit:?}"),
    )))
}

impl<T: AsyncWrite> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write(cx, buf);
        watch(this.stalled, *this.limit, cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write_vectored(cx, bufs);
        watch(this.stalled, *this.limit, cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let poll = this.io.poll_flush(cx);
        watch(this.stalled, *this.limit, cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let poll = this.io.poll_shutdown(cx);
        watch(this.stalled, *this.limit, cx, poll)
    }
}

impl<T: AsyncRead> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_write_nobody_reads_fails_and_progress_resets_the_timer() {
        let (ours, mut theirs) = tokio::io::duplex(8);
        let mut io = WriteDeadline::new(ours, Duration::from_secs(60));
        io.write_all(b"12345678").await.unwrap();
        // The pipe is full and nobody reads: the next write waited for ever.
        let err = io.write_all(b"9").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        // A reader that keeps up is never cut off, however long it all takes.
        let mut io = WriteDeadline::new(io.io, Duration::from_secs(60));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = [0u8; 4];
            while got.len() < 8 + 64 {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let n = theirs.read(&mut chunk).await.unwrap();
                got.extend_from_slice(&chunk[..n]);
            }
            got
        });
        io.write_all(&[7u8; 64]).await.unwrap();
        assert_eq!(reader.await.unwrap().len(), 8 + 64);
    }
}
