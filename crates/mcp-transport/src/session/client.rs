//! What a session keeps of the client's `initialize`: its `clientInfo` and `capabilities`,
//! bounded in bytes.
//!
//! A client may send megabytes of `capabilities.experimental` or unknown members, and the
//! session would keep them (as a `serde_json::Value` tree, several times larger) for its whole
//! life. Small ones (the normal case) are kept as they came; a large one is cut down to what
//! servers read: the name, version and title, and the known capability flags.

use mcp_proto::{
    ClientCapabilities, ElicitationCapability, Implementation, JsonObject, RootsCapability,
    SamplingCapability,
};
use serde::Serialize;
use serde_json::Value;

/// Above this (as JSON, `clientInfo` and `capabilities` together) the info is cut down.
pub(crate) const MAX_CLIENT_INFO_BYTES: usize = 8 * 1024;
/// The longest name, version or title kept from a cut-down `clientInfo`.
pub(crate) const MAX_NAME_BYTES: usize = 256;
/// The largest single capability (or extension entry) kept from cut-down capabilities.
const MAX_CAPABILITY_BYTES: usize = 1024;
/// The most bytes of `extensions` entries kept from cut-down capabilities.
const MAX_EXTENSIONS_BYTES: usize = 3 * 1024;

/// What the client said about itself in `initialize`.
#[derive(Debug, Default)]
pub(crate) struct ClientInfo {
    pub(crate) info: Implementation,
    pub(crate) capabilities: ClientCapabilities,
}

/// How much of a large `initialize` was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trimmed {
    /// JSON bytes the client sent.
    pub(crate) sent: usize,
    /// JSON bytes kept.
    pub(crate) kept: usize,
}

impl ClientInfo {
    /// Keeps `info` and `capabilities` whole when they are at most
    /// [`MAX_CLIENT_INFO_BYTES`] as JSON; otherwise keeps the name, version and title (each
    /// cut at [`MAX_NAME_BYTES`]) and the known capabilities (`roots`, `sampling`,
    /// `elicitation`, `tasks`, `extensions` entries), each only when small, and says how much
    /// was dropped.
    pub(crate) fn bounded(
        info: Implementation,
        capabilities: ClientCapabilities,
    ) -> (Self, Option<Trimmed>) {
        let sent = json_len(&info) + json_len(&capabilities);
        if sent <= MAX_CLIENT_INFO_BYTES {
            return (Self { info, capabilities }, None);
        }
        let kept = Self {
            info: trim_info(info),
            capabilities: trim_capabilities(capabilities),
        };
        let trimmed = Trimmed {
            sent,
            kept: json_len(&kept.info) + json_len(&kept.capabilities),
        };
        (kept, Some(trimmed))
    }
}

fn trim_info(info: Implementation) -> Implementation {
    let mut kept = Implementation::new(cut(info.name), cut(info.version));
    kept.title = info.title.map(cut);
    kept
}

fn trim_capabilities(caps: ClientCapabilities) -> ClientCapabilities {
    let mut kept = ClientCapabilities {
        roots: caps.roots.map(|r| {
            small(r, |r| RootsCapability {
                list_changed: r.list_changed,
                extra: JsonObject::new(),
            })
        }),
        sampling: caps.sampling.map(|s| {
            small(s, |_| SamplingCapability {
                context: None,
                tools: None,
                extra: JsonObject::new(),
            })
        }),
        elicitation: caps.elicitation.map(|e| {
            small(e, |e| ElicitationCapability {
                form: e.form.filter(|v| json_len(v) <= MAX_CAPABILITY_BYTES),
                url: e.url.filter(|v| json_len(v) <= MAX_CAPABILITY_BYTES),
                extra: JsonObject::new(),
            })
        }),
        tasks: caps.tasks.filter(|t| json_len(t) <= MAX_CAPABILITY_BYTES),
        ..ClientCapabilities::default()
    };
    if let Some(Value::Object(extensions)) = caps.extra.get("extensions") {
        let mut budget = MAX_EXTENSIONS_BYTES;
        let mut out = JsonObject::new();
        for (name, value) in extensions {
            let len = name.len() + json_len(value);
            if len <= MAX_CAPABILITY_BYTES && len <= budget {
                budget -= len;
                out.insert(name.clone(), value.clone());
            }
        }
        kept.extra
            .insert("extensions".to_owned(), Value::Object(out));
    }
    kept
}

/// `value` itself when its JSON is small, else `shrink(value)`.
fn small<T: Serialize>(value: T, shrink: impl FnOnce(T) -> T) -> T {
    if json_len(&value) <= MAX_CAPABILITY_BYTES {
        value
    } else {
        shrink(value)
    }
}

/// `s` cut to at most [`MAX_NAME_BYTES`] on a character boundary.
fn cut(mut s: String) -> String {
    if s.len() > MAX_NAME_BYTES {
        let mut end = MAX_NAME_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The length of `value` as JSON, counted without building the text.
fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serializing plain data into a counter cannot fail; count what was written if it does.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caps(v: Value) -> ClientCapabilities {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn small_info_is_kept_whole() {
        let mut info = Implementation::new("claude-ai", "1.0");
        info.extra.insert("vendor".into(), json!("x"));
        let c = caps(json!({"roots": {"listChanged": true}, "experimental": {"a": 1}}));
        let (kept, trimmed) = ClientInfo::bounded(info.clone(), c.clone());
        assert_eq!(trimmed, None);
        assert_eq!(kept.info, info);
        assert_eq!(kept.capabilities, c);
    }

    #[test]
    fn large_info_keeps_names_and_known_flags_only() {
        let mut info = Implementation::new("n".repeat(10_000), "1.2.3");
        info.title = Some("é".repeat(500));
        info.extra.insert("junk".into(), json!("j".repeat(50_000)));
        let big: JsonObject = (0..5000).map(|i| (format!("k{i}"), json!({}))).collect();
        let c = caps(json!({
            "roots": {"listChanged": true, "extra": "x".repeat(5000)},
            "sampling": {},
            "elicitation": {"form": {}},
            "experimental": big,
            "extensions": {
                "io.modelcontextprotocol/ui": {"mimeTypes": ["text/html;profile=mcp-app"]},
                "huge": "h".repeat(4000),
            },
            "unknown": "u".repeat(9000),
        }));
        let (kept, trimmed) = ClientInfo::bounded(info, c);
        let t = trimmed.unwrap();
        assert!(t.sent > 100_000, "{t:?}");
        assert!(t.kept <= MAX_CLIENT_INFO_BYTES, "{t:?}");
        assert_eq!(kept.info.name.len(), MAX_NAME_BYTES);
        assert_eq!(kept.info.version, "1.2.3");
        let title = kept.info.title.unwrap();
        assert!(title.len() <= MAX_NAME_BYTES && title.chars().all(|c| c == 'é'));
        assert!(kept.info.extra.is_empty());
        let caps = kept.capabilities;
        assert_eq!(caps.roots.unwrap().list_changed, Some(true));
        assert!(caps.sampling.is_some());
        assert!(caps.elicitation.unwrap().supports_form());
        assert!(caps.experimental.is_none());
        let ext = caps.extra["extensions"].as_object().unwrap();
        assert!(ext.contains_key("io.modelcontextprotocol/ui"));
        assert!(!ext.contains_key("huge"));
        assert!(!caps.extra.contains_key("unknown"));
    }
}
