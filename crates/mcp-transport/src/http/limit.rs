//! Reading a request body with a size limit, counted while streaming.

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;

use crate::auth::BoxError;
use crate::config::BodyLimits;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Larger than the limit.
    TooLarge,
    /// The connection failed while reading.
    Io(BoxError),
    /// No data for [`BODY_IDLE_TIMEOUT`], or the whole body not there within its total
    /// deadline: the client stopped sending, or trickles (hyper has no timer for bodies, so a
    /// request promising more than it sends would hold its connection and buffer for ever).
    Stalled,
}

/// The longest pause between two chunks of a request body.
pub(crate) const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads the whole body, failing as soon as more than `limits.bytes` arrived (a
/// `Content-Length` above the limit fails before reading anything), when the client pauses
/// longer than [`BODY_IDLE_TIMEOUT`], or when the body is not complete after `limits.total`.
pub(crate) async fn read_limited<B>(
    body: B,
    limits: BodyLimits,
    content_length: Option<u64>,
) -> Result<Bytes, ReadError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let limit = limits.bytes;
    if content_length.is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge);
    }
    match tokio::time::timeout(limits.total, read_all(body, limit)).await {
        Ok(read) => read,
        Err(_) => Err(ReadError::Stalled),
    }
}

async fn read_all<B>(body: B, limit: usize) -> Result<Bytes, ReadError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut total = 0usize;
    // The common case is one chunk: keep it without copying.
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    loop {
        let Ok(frame) = tokio::time::timeout(BODY_IDLE_TIMEOUT, body.frame()).await else {
            return Err(ReadError::Stalled);
        };
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| ReadError::Io(e.into()))?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let len = data.remaining();
        total = total.saturating_add(len);
        if total > limit {
            return Err(ReadError::TooLarge);
        }
        let chunk = data.copy_to_bytes(len);
        match (&mut first, &mut rest) {
            (None, None) => first = Some(chunk),
            (Some(f), None) => {
                let mut buf = BytesMut::with_capacity((f.len() + len) * 2);
                buf.extend_from_slice(f);
                buf.extend_from_slice(&chunk);
                first = None;
                rest = Some(buf);
            }
            (_, Some(buf)) => buf.extend_from_slice(&chunk),
        }
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use http_body::Frame;
    use http_body_util::{Full, StreamBody};

    fn limits(bytes: usize) -> BodyLimits {
        BodyLimits {
            bytes,
            total: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn reads_and_limits() {
        let b = read_limited(Full::new(Bytes::from_static(b"hello")), limits(5), Some(5))
            .await
            .unwrap();
        assert_eq!(b, "hello");
        assert!(matches!(
            read_limited(Full::new(Bytes::from_static(b"hello")), limits(4), None).await,
            Err(ReadError::TooLarge)
        ));
        assert!(matches!(
            read_limited(Full::new(Bytes::new()), limits(4), Some(10)).await,
            Err(ReadError::TooLarge)
        ));
        let chunks = futures_util::stream::iter(["ab", "cd", "ef"].map(|s| {
            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(s.as_bytes())))
        }));
        let b = read_limited(StreamBody::new(chunks), limits(6), None)
            .await
            .unwrap();
        assert_eq!(b, "abcdef");
        let chunks = futures_util::stream::iter(["ab", "cd", "ef"].map(|s| {
            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(s.as_bytes())))
        }));
        assert!(matches!(
            read_limited(StreamBody::new(chunks), limits(5), None).await,
            Err(ReadError::TooLarge)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out() {
        // Two bytes of a promised ten, then nothing: the read waited for ever.
        let stalled = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Frame::data(
            Bytes::from_static(b"{\""),
        ))])
        .chain(futures_util::stream::pending());
        let r = read_limited(StreamBody::new(stalled), limits(100), Some(10)).await;
        assert!(matches!(r, Err(ReadError::Stalled)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickling_body_meets_the_total_deadline() {
        // One byte every 5 s never trips the 30 s pause limit; the total deadline ends it.
        let trickle = futures_util::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Some((
                Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(b" "))),
                n + 1,
            ))
        });
        let started = tokio::time::Instant::now();
        let r = read_limited(StreamBody::new(trickle), limits(1000), Some(1000)).await;
        assert!(matches!(r, Err(ReadError::Stalled)));
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }
}
