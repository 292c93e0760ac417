//! SSE wire format: message events, priming events, keep-alive comments, event ids.

use bytes::{BufMut, Bytes, BytesMut};

/// A comment line that keeps idle connections (and proxies) alive.
pub(crate) const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// An event id naming its stream: `<stream>-<sequence>`, or `<origin>.<stream>-<sequence>`
/// for a session shared by several instances (`origin`: the instance that holds the stream).
/// Sequences are unique within a session's table, and stream numbers of shared tables are
/// unique within the process, so ids are unique across all of a session's streams, on every
/// instance; within one stream they increase.
pub(crate) fn event_id(origin: Option<&str>, stream: u64, seq: u64) -> String {
    match origin {
        Some(o) => format!("{o}.{stream}-{seq}"),
        None => format!("{stream}-{seq}"),
    }
}

/// A parsed `Last-Event-ID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EventId<'a> {
    /// The instance that holds the stream (shared sessions only).
    pub(crate) origin: Option<&'a str>,
    pub(crate) stream: u64,
    pub(crate) seq: u64,
}

/// Reads `<stream>-<sequence>` or `<origin>.<stream>-<sequence>`.
pub(crate) fn parse_event_id(id: &str) -> Option<EventId<'_>> {
    let id = id.trim();
    let (origin, rest) = match id.split_once('.') {
        Some((o, rest)) if !o.is_empty() && o.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            (Some(o), rest)
        }
        Some(_) => return None,
        None => (None, id),
    };
    let (s, n) = rest.split_once('-')?;
    Some(EventId {
        origin,
        stream: s.parse().ok()?,
        seq: n.parse().ok()?,
    })
}

/// `event: message` with an optional id and the JSON as data.
///
/// Compact JSON has no raw line breaks; if the bytes came pre-serialized with some, they can
/// only be whitespace between tokens, so they are replaced by spaces to keep one `data:` line.
pub(crate) fn message(id: Option<(u64, u64)>, json: &[u8]) -> Bytes {
    message_from(None, id, json)
}

/// [`message`] with the id of a shared session's stream (see [`event_id`]).
pub(crate) fn message_from(origin: Option<&str>, id: Option<(u64, u64)>, json: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(json.len() + 64);
    b.put_slice(b"event: message\n");
    if let Some((stream, seq)) = id {
        b.put_slice(b"id: ");
        b.put_slice(event_id(origin, stream, seq).as_bytes());
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
pub(crate) fn priming(origin: Option<&str>, stream: u64, seq: u64, retry_ms: u64) -> Bytes {
    Bytes::from(format!(
        "id: {}\nretry: {retry_ms}\ndata: \n\n",
        event_id(origin, stream, seq)
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
        assert_eq!(
            &priming(None, 0, 1, 500)[..],
            b"id: 0-1\nretry: 500\ndata: \n\n"
        );
        assert_eq!(
            &message_from(Some("ab12"), Some((3, 7)), b"{}")[..],
            b"event: message\nid: ab12.3-7\ndata: {}\n\n"
        );
    }

    #[test]
    fn ids() {
        let plain = EventId {
            origin: None,
            stream: 12,
            seq: 345,
        };
        assert_eq!(parse_event_id(&event_id(None, 12, 345)), Some(plain));
        assert_eq!(
            parse_event_id(&event_id(Some("9f0e"), 12, 345)),
            Some(EventId {
                origin: Some("9f0e"),
                ..plain
            })
        );
        assert_eq!(parse_event_id(".1-2"), None);
        assert_eq!(parse_event_id("a-b.1-2"), None);
        assert_eq!(parse_event_id("x"), None);
        assert_eq!(parse_event_id("1-"), None);
        assert_eq!(parse_event_id("-1"), None);
        assert_eq!(parse_event_id("a::b"), None);
    }
}
