//! gzip for JSON replies, with pre-compressed segments for static payloads.
//!
//! A gzip member is a header, a raw DEFLATE stream, a CRC-32 and a length. A DEFLATE stream
//! may be cut at any sync-flush point (byte aligned, no final block), and blocks compressed on
//! their own never refer back past their start. So the JSON-RPC envelope of a static payload
//! (`{"jsonrpc":"2.0","id":7,"result":` … `}`) is compressed per reply, the payload is
//! compressed once and spliced in, and the CRCs are combined. A read of an 800 KB resource then
//! costs a memcpy instead of a compression.

use bytes::Bytes;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Bodies shorter than this are not compressed (the gzip framing would not pay off).
pub(crate) const MIN_GZIP_BYTES: usize = 1024;

const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A raw DEFLATE stream ending at a sync-flush point, plus the CRC of its input.
#[derive(Debug)]
pub(crate) struct DeflateSegment {
    data: Bytes,
    crc: Crc,
}

impl DeflateSegment {
    /// Compresses `input` once, with the default (better than fast) level.
    pub(crate) fn new(input: &[u8]) -> Self {
        let mut out = Vec::with_capacity(input.len() / 3 + 64);
        let mut c = Compress::new(Compression::default(), false);
        deflate(&mut c, input, &mut out, FlushCompress::Sync);
        let mut crc = Crc::new();
        crc.update(input);
        Self {
            data: Bytes::from(out),
            crc,
        }
    }
}

/// One piece of a gzip body.
pub(crate) enum Part<'a> {
    /// Bytes to compress now (fast level).
    Plain(&'a [u8]),
    /// Bytes compressed before.
    Pre(&'a DeflateSegment),
}

/// Builds one gzip member from the parts, in order.
pub(crate) fn gzip(parts: &[Part<'_>]) -> Vec<u8> {
    let estimate: usize = parts
        .iter()
        .map(|p| match p {
            Part::Plain(b) => b.len() / 4 + 32,
            Part::Pre(s) => s.data.len(),
        })
        .sum();
    let mut out = Vec::with_capacity(estimate + 32);
    out.extend_from_slice(&GZIP_HEADER);
    let mut crc = Crc::new();
    for part in parts {
        match part {
            Part::Plain(b) => {
                let mut c = Compress::new(Compression::fast(), false);
                deflate(&mut c, b, &mut out, FlushCompress::Sync);
                crc.update(b);
            }
            Part::Pre(s) => {
                out.extend_from_slice(&s.data);
                crc.combine(&s.crc);
            }
        }
    }
    // The final (empty) block.
    let mut c = Compress::new(Compression::fast(), false);
    deflate(&mut c, &[], &mut out, FlushCompress::Finish);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

/// Runs the compressor over `input` until it is consumed and the flush is complete.
fn deflate(c: &mut Compress, mut input: &[u8], out: &mut Vec<u8>, flush: FlushCompress) {
    loop {
        out.reserve(input.len() / 2 + 128);
        let before = c.total_in();
        let status = c.compress_vec(input, out, flush);
        let consumed = usize::try_from(c.total_in() - before).unwrap_or(input.len());
        input = &input[consumed.min(input.len())..];
        match status {
            Ok(Status::StreamEnd) => return,
            // Without spare output space the flush may be incomplete: go round again.
            Ok(_)
                if input.is_empty()
                    && out.len() < out.capacity()
                    && !matches!(flush, FlushCompress::Finish) =>
            {
                return;
            }
            Ok(_) => {}
            // The in-memory compressor cannot fail on valid state; stop rather than spin.
            Err(_) => return,
        }
    }
}

/// Whether `Accept-Encoding` (all its header lines) accepts gzip (RFC 9110 12.5.3): an
/// explicit `gzip` or `x-gzip` entry decides by its `q`; without one, `*` decides. So
/// `gzip;q=0, *` refuses gzip although `*` alone would accept it.
pub(crate) fn accepts_gzip<'a>(values: impl IntoIterator<Item = &'a str>) -> bool {
    let mut explicit: Option<bool> = None;
    let mut wildcard: Option<bool> = None;
    for item in values.into_iter().flat_map(|v| v.split(',')) {
        let mut it = item.split(';');
        let coding = it.next().unwrap_or("").trim();
        let acceptable = !it.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .or_else(|| p.strip_prefix("Q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        let slot = if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut explicit
        } else if coding == "*" {
            &mut wildcard
        } else {
            continue;
        };
        // Listed twice: any refusal wins.
        *slot = Some(slot.unwrap_or(true) && acceptable);
    }
    explicit.or(wildcard).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn plain_round_trip() {
        let data = b"{\"jsonrpc\":\"2.0\"}".repeat(100);
        assert_eq!(gunzip(&gzip(&[Part::Plain(&data)])), data);
        assert_eq!(gunzip(&gzip(&[])), b"");
    }

    #[test]
    fn spliced_segment_round_trip() {
        let payload: Vec<u8> = (0..200_000u32)
            .map(|i| b"<html>abc</html>"[(i % 16) as usize])
            .collect();
        let seg = DeflateSegment::new(&payload);
        let body = gzip(&[
            Part::Plain(b"{\"id\":7,\"result\":"),
            Part::Pre(&seg),
            Part::Plain(b"}"),
        ]);
        let mut expected = b"{\"id\":7,\"result\":".to_vec();
        expected.extend_from_slice(&payload);
        expected.push(b'}');
        assert_eq!(gunzip(&body), expected);
        // The segment ends the body too.
        let body = gzip(&[Part::Plain(b"a"), Part::Pre(&seg)]);
        assert_eq!(gunzip(&body).len(), payload.len() + 1);
        // Random-ish incompressible data.
        let noise: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let seg = DeflateSegment::new(&noise);
        assert_eq!(gunzip(&gzip(&[Part::Pre(&seg)])), noise);
    }

    #[test]
    fn accept_encoding() {
        let one = |v: &str| accepts_gzip([v]);
        assert!(one("gzip"));
        assert!(one("deflate, gzip;q=0.5"));
        assert!(one("*"));
        assert!(one("GZIP"));
        assert!(!one("gzip;q=0"));
        assert!(!one("br, deflate"));
        assert!(!one(""));
        assert!(!one("*;q=0"));
        assert!(one("*;q=0, gzip"));
    }

    #[test]
    fn explicit_gzip_refusal_beats_the_wildcard() {
        // Was accepted: `*` matched although gzip itself was refused.
        assert!(!accepts_gzip(["gzip;q=0, *"]));
        assert!(!accepts_gzip(["*, x-gzip;q=0.000"]));
        // The same across two header lines.
        assert!(!accepts_gzip(["gzip;q=0", "*"]));
        assert!(!accepts_gzip(["gzip", "gzip;q=0"]));
        assert!(accepts_gzip(["br", "*"]));
    }
}
