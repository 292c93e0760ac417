//! SSE wire format: message events, priming events, keep-alive comments, event ids.

use bytes::{BufMut, Bytes, BytesMut};

/// A comment line that keeps idle connections (and proxies) alive.
pub(crate) const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// An event id naming its stream: `<stream>-<sequence>`. Sequences are unique within a
/// session, so ids are unique across all of a session's streams.
pub(crate) fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}-{seq}")
}

/// Reads `<stream>-<sequence>`.
pub(crate) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (s, n) = id.trim().split_once('-')?;
    Some((s.parse().ok()?, n.parse().ok()?))
}

/// `event: message` with an optional id and the JSON as data.
///
/// Compact JSON has no raw line breaks; if the bytes came pre-serialized with some, they can
/// only be whitespace between tokens, so they are replaced by spaces to keep one `data:` line.
pub(crate) fn message(id: Option<(u64, u64)>, json: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(json.len() + 48);
    b.put_slice(b"event: message\n");
    if let Some((stream, seq)) = id {
        b.put_slice(b"id: ");
        b.put_slice(event_id(stream, seq).as_bytes());
        b.put_u8(b'\n');
    }
    b.put_slice(b"data: ");
    if json.iter().any(|&c| c == b'\n' || c == b'\r') {
        b.extend(
            json.iter()
                .map(|&c| if c == b'\n' || c == b'\r' { b' ' } else { c }),
        );
    } else {
        b.put_slice(json);
    }
    b.put_slice(b"\n\n");
    b.freeze()
}

/// A priming event: an id, a `retry:` field and empty data (2025-11-25).
pub(crate) fn priming(stream: u64, seq: u64, retry_ms: u64) -> Bytes {
    Bytes::from(format!(
        "id: {}\nretry: {retry_ms}\ndata: \n\n",
        event_id(stream, seq)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            &message(Some((3, 7)), b"{}")[..],
            b"event: message\nid: 3-7\ndata: {}\n\n"
        );
        assert_eq!(
            &message(None, b"{\n}")[..],
            b"event: message\ndata: { }\n\n"
        );
        assert_eq!(&priming(0, 1, 500)[..], b"id: 0-1\nretry: 500\ndata: \n\n");
    }

    #[test]
    fn ids() {
        assert_eq!(parse_event_id(&event_id(12, 345)), Some((12, 345)));
        assert_eq!(parse_event_id("x"), None);
        assert_eq!(parse_event_id("1-"), None);
        assert_eq!(parse_event_id("-1"), None);
        assert_eq!(parse_event_id("a::b"), None);
    }
}
