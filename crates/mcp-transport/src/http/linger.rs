//! A TCP connection that, when asked to, reads and discards what the client is still sending
//! for a moment before closing.
//!
//! hyper answers a request head that is too large with 431 and closes. The client is usually
//! still sending the rest of the head; closing a socket with unread data makes the kernel send
//! a reset, and a reset can make the client's stack throw away the 431 it already received, so
//! the client sees "connection reset" instead of the status. Draining first lets the 431
//! arrive (the "lingering close" of nginx and Apache).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

/// How long a lingering close reads at most.
const LINGER_FOR: Duration = Duration::from_secs(2);
/// How many bytes a lingering close discards at most.
const LINGER_BYTES: usize = 1024 * 1024;

/// A TCP stream holding its slot of the connection cap, with an optional lingering close.
pub(crate) struct Lingering {
    stream: Option<TcpStream>,
    linger: Arc<AtomicBool>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Lingering {
    /// Wraps `stream`; the close lingers if `linger` is set by the time it is dropped.
    pub(crate) fn new(
        stream: TcpStream,
        linger: Arc<AtomicBool>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        Self {
            stream: Some(stream),
            linger,
            permit: Some(permit),
        }
    }

    /// The stream (only `drop` takes it, so it is always there while polled).
    fn io(self: Pin<&mut Self>) -> io::Result<Pin<&mut TcpStream>> {
        match self.get_mut().stream.as_mut() {
            Some(s) => Ok(Pin::new(s)),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        if !self.linger.load(Ordering::Relaxed) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // The slot stays taken while lingering: lingering costs a socket too.
        let permit = self.permit.take();
        rt.spawn(async move {
            let _permit = permit;
            let _ = stream.shutdown().await;
            let mut sink = vec![0u8; 16 * 1024];
            let mut drained = 0usize;
            let _ = tokio::time::timeout(LINGER_FOR, async {
                while drained < LINGER_BYTES {
                    match stream.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => drained += n,
                    }
                }
            })
            .await;
        });
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.io() {
            Ok(io) => io.poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.io() {
            Ok(io) => io.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.io() {
            Ok(io) => io.poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.io() {
            Ok(io) => io.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.io() {
            Ok(io) => io.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
