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
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

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
    /// `elicitation`, `tasks`, `extensions` entries; an `extensions` of more than 64 KiB is
    /// dropped whole), each only when small, and says how much was dropped.
    pub(crate) fn bounded(
        info: Implementation,
        capabilities: ClientCapabilities,
    ) -> (Self, Option<Trimmed>) {
        let sent = json_len(&info) + json_len(&capabilities);
        if sent <= MAX_CLIENT_INFO_BYTES {
            return (Self { info, capabilities }, None);
        }
        // Already a tree (a body the raw reader did not take): cut down from its JSON text by
        // the same rules, so that there is one set of them.
        let info_raw = serde_json::value::to_raw_value(&info);
        let caps_raw = serde_json::value::to_raw_value(&capabilities);
        if let (Ok(i), Ok(c)) = (info_raw, caps_raw)
            && let Ok(cut) = Self::cut_down(Some(&i), Some(&c), sent)
        {
            return cut;
        }
        // Our own serialization read back cannot fail; keep the names if it ever does.
        let kept = Self {
            info: trim_info(info),
            capabilities: ClientCapabilities::default(),
        };
        let trimmed = Trimmed {
            sent,
            kept: json_len(&kept.info) + json_len(&kept.capabilities),
        };
        (kept, Some(trimmed))
    }

    /// [`ClientInfo::bounded`] from the raw JSON of `clientInfo` and `capabilities`, without
    /// building the JSON tree of a large one (a few megabytes of tiny objects are tens of
    /// megabytes as a tree): only the members that are kept are parsed. `Err` when they are
    /// not what `initialize` expects (the caller then reads the request the usual way, to
    /// answer with the usual error).
    pub(crate) fn from_raw(
        info: Option<&RawValue>,
        capabilities: Option<&RawValue>,
    ) -> serde_json::Result<(Self, Option<Trimmed>)> {
        let len = |r: Option<&RawValue>| r.map_or(0, |r| r.get().len());
        let sent = len(info) + len(capabilities);
        if sent <= MAX_CLIENT_INFO_BYTES {
            let info = info.map_or(Ok(Implementation::default()), parse)?;
            let capabilities = capabilities.map_or(Ok(ClientCapabilities::default()), parse)?;
            return Ok(Self::bounded(info, capabilities));
        }
        Self::cut_down(info, capabilities, sent)
    }

    /// What is kept of a large client info (`sent` bytes of JSON), parsing only that.
    fn cut_down(
        info: Option<&RawValue>,
        capabilities: Option<&RawValue>,
        sent: usize,
    ) -> serde_json::Result<(Self, Option<Trimmed>)> {
        let info = match info {
            Some(raw) => trim_info(parse::<Names>(raw)?.into()),
            None => Implementation::default(),
        };
        let capabilities = match capabilities {
            Some(raw) => parse::<KnownCapabilities<'_>>(raw)?.kept()?,
            None => ClientCapabilities::default(),
        };
        let kept = Self { info, capabilities };
        let trimmed = Trimmed {
            sent,
            kept: json_len(&kept.info) + json_len(&kept.capabilities),
        };
        Ok((kept, Some(trimmed)))
    }
}

fn parse<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> serde_json::Result<T> {
    serde_json::from_str(raw.get())
}

/// What is kept of a large `clientInfo` (other members are skipped, not parsed).
#[derive(Deserialize)]
struct Names {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    title: Option<String>,
}

impl From<Names> for Implementation {
    fn from(n: Names) -> Self {
        let mut info = Implementation::new(n.name, n.version);
        info.title = n.title;
        info
    }
}

/// The known capabilities of large `capabilities`, unparsed (the rest is skipped).
#[derive(Deserialize)]
struct KnownCapabilities<'a> {
    #[serde(borrow, default)]
    roots: Option<&'a RawValue>,
    #[serde(borrow, default)]
    sampling: Option<&'a RawValue>,
    #[serde(borrow, default)]
    elicitation: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tasks: Option<&'a RawValue>,
    #[serde(borrow, default)]
    extensions: Option<&'a RawValue>,
}

/// The flags of a large `roots` or `elicitation` capability.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Flags<'a> {
    #[serde(default)]
    list_changed: Option<bool>,
    #[serde(borrow, default)]
    form: Option<&'a RawValue>,
    #[serde(borrow, default)]
    url: Option<&'a RawValue>,
}

/// The most bytes of `extensions` looked at: past it (hundreds of entries where a client
/// has a handful), none is kept.
const MAX_EXTENSIONS_SCAN_BYTES: usize = 64 * 1024;

impl KnownCapabilities<'_> {
    /// The known capabilities, each only when small (`roots` and `elicitation` keep their
    /// flags when large, `sampling` an empty object), and `extensions` entries within budget.
    fn kept(self) -> serde_json::Result<ClientCapabilities> {
        let fits = |r: &RawValue| r.get().len() <= MAX_CAPABILITY_BYTES;
        let small_one = |r: Option<&RawValue>| -> serde_json::Result<Option<Value>> {
            r.filter(|r| fits(r)).map(parse).transpose()
        };
        let mut kept = ClientCapabilities {
            roots: self
                .roots
                .map(|r| match fits(r) {
                    true => parse(r),
                    false => parse::<Flags<'_>>(r).map(|f| RootsCapability {
                        list_changed: f.list_changed,
                        extra: JsonObject::new(),
                    }),
                })
                .transpose()?,
            sampling: self
                .sampling
                .map(|r| match fits(r) {
                    true => parse(r),
                    false => Ok(SamplingCapability {
                        context: None,
                        tools: None,
                        extra: JsonObject::new(),
                    }),
                })
                .transpose()?,
            elicitation: self
                .elicitation
                .map(|r| match fits(r) {
                    true => parse(r),
                    false => parse::<Flags<'_>>(r).and_then(|f| {
                        Ok(ElicitationCapability {
                            form: small_one(f.form)?,
                            url: small_one(f.url)?,
                            extra: JsonObject::new(),
                        })
                    }),
                })
                .transpose()?,
            tasks: small_one(self.tasks)?,
            ..ClientCapabilities::default()
        };
        if let Some(raw) = self.extensions {
            let mut out = JsonObject::new();
            if raw.get().len() <= MAX_EXTENSIONS_SCAN_BYTES {
                let entries = parse::<Entries<'_>>(raw)?.0;
                let mut budget = MAX_EXTENSIONS_BYTES;
                for (name, value) in entries {
                    let len = name.len() + value.get().len();
                    if len <= MAX_CAPABILITY_BYTES && len <= budget {
                        budget -= len;
                        out.insert(name, parse(value)?);
                    }
                }
            }
            kept.extra
                .insert("extensions".to_owned(), Value::Object(out));
        }
        Ok(kept)
    }
}

/// A JSON object's members in their order, values unparsed.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Entries<'a>, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

fn trim_info(info: Implementation) -> Implementation {
    let mut kept = Implementation::new(cut(info.name), cut(info.version));
    kept.title = info.title.map(cut);
    kept
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

    /// The raw path keeps what the tree path keeps.
    fn both_ways(info: Value, caps: Value) {
        let raw_info = RawValue::from_string(info.to_string()).unwrap();
        let raw_caps = RawValue::from_string(caps.to_string()).unwrap();
        let (raw, raw_trimmed) = ClientInfo::from_raw(Some(&raw_info), Some(&raw_caps)).unwrap();
        let (tree, tree_trimmed) = ClientInfo::bounded(
            serde_json::from_value(info).unwrap(),
            serde_json::from_value(caps).unwrap(),
        );
        assert_eq!(raw.info, tree.info);
        assert_eq!(raw.capabilities, tree.capabilities);
        assert_eq!(raw_trimmed.map(|t| t.kept), tree_trimmed.map(|t| t.kept));
        assert_eq!(raw_trimmed.is_some(), tree_trimmed.is_some());
    }

    #[test]
    fn raw_json_is_bounded_as_the_tree_is() {
        let small_caps = json!({"roots": {"listChanged": true}, "experimental": {"a": 1}});
        both_ways(
            json!({"name": "claude-ai", "version": "1.0", "vendor": "x"}),
            small_caps.clone(),
        );
        let big: JsonObject = (0..5000).map(|i| (format!("k{i}"), json!({}))).collect();
        both_ways(
            json!({"name": "n".repeat(10_000), "version": "1.2.3", "title": "é".repeat(500), "junk": "j".repeat(50_000)}),
            json!({
                "roots": {"listChanged": true, "extra": "x".repeat(5000)},
                "sampling": {"tools": {}, "big": "s".repeat(2000)},
                "elicitation": {"form": {}, "url": {"x": "u".repeat(2000)}},
                "tasks": {"list": {}},
                "experimental": big,
                "extensions": {
                    "io.modelcontextprotocol/ui": {"mimeTypes": ["text/html;profile=mcp-app"]},
                    "huge": "h".repeat(4000),
                    "b": {"y": 1},
                },
                "unknown": "u".repeat(9000),
            }),
        );
        // Large in its capabilities only, all of them small.
        both_ways(
            json!({"name": "c", "version": "1"}),
            json!({"elicitation": {}, "experimental": big}),
        );
        // Not what initialize expects: an error, so that the request is read the usual way.
        let bad = RawValue::from_string("[1]".into()).unwrap();
        let huge = RawValue::from_string(json!({"x": "y".repeat(10_000)}).to_string()).unwrap();
        assert!(ClientInfo::from_raw(Some(&bad), Some(&huge)).is_err());
    }
}
