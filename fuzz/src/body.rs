//! A request body that arrives whole, in small frames, or fails after its data.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};

/// The request body of a scripted request.
pub struct FuzzBody {
    chunks: VecDeque<Bytes>,
    fail_at_end: bool,
}

impl FuzzBody {
    /// `bytes` as one frame, or in 3-byte frames; optionally failing after the data.
    pub fn new(bytes: Bytes, chunked: bool, fail_at_end: bool) -> Self {
        let mut chunks = VecDeque::new();
        if chunked {
            let mut rest = bytes;
            while !rest.is_empty() {
                chunks.push_back(rest.split_to(rest.len().min(3)));
            }
        } else if !bytes.is_empty() {
            chunks.push_back(bytes);
        }
        Self {
            chunks,
            fail_at_end,
        }
    }
}

impl Body for FuzzBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(chunk) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if self.fail_at_end {
            self.fail_at_end = false;
            return Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "fuzz: connection reset",
            ))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && !self.fail_at_end
    }
}
