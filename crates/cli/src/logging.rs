//! How log lines look: sunpeak's formats, for every `tracing` event of the process.
//!
//! - Human (default): `[MCP] <msg>` or `[MCP] <msg> <fields as a JSON object>`; info to
//!   stdout, warnings and errors to stderr (as sunpeak's `console.log`/`console.warn`/
//!   `console.error`). Events with the target [`CONSOLE`] are the CLI's own plain lines
//!   (`Found 4 resource(s): ...`, `Starting ...`, `Warning: ...`): no `[MCP]` prefix.
//! - JSON (`--json-logs`): one object per line, `{"ts","level","msg",...fields}`, `ts` in
//!   ISO-8601 UTC with milliseconds; errors to stderr, everything else to stdout. Every line is
//!   JSON, the CLI's own lines included (sunpeak leaves those as plain text).
//!
//! Text that tools or clients chose is escaped in human lines: control characters (line breaks,
//! ANSI escapes) in the messages of every target but the CLI's own and the transport's (whose
//! client text is escaped where it is logged, and whose `Headers:` block is meant to span lines)
//! are written as `\n`, `\u{1b}`, so a tool printing `"\n[MCP] Session started: ..."` cannot
//! forge a line. Lines go through [`crate::log_writer`]: a log reader that stalls makes the
//! server drop (and count) lines instead of blocking its threads.
//!
//! The level filter is `info` unless `SUNPEAK_LOG` holds a `tracing` filter directive (for
//! example `SUNPEAK_LOG=debug` or `SUNPEAK_LOG=mcp_transport=debug`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::log_writer::{self, Stream};

/// Target of the CLI's own console lines, printed without the `[MCP]` prefix.
pub const CONSOLE: &str = "sunpeak::console";

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `[MCP] <msg> <extras>`.
    Human,
    /// JSON lines.
    Json,
}

/// Installs the global subscriber. Call once, first thing.
pub fn init(format: Format) {
    let filter = std::env::var("SUNPEAK_LOG")
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    // Only fails when a subscriber is already set, which would be a bug of ours; the first
    // one stays in effect then.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(LineLayer { format })
        .try_init();
}

/// Waits (up to 2 s) until the lines logged so far are written: call before the process exits.
pub fn flush() {
    if let Some(writer) = log_writer::started() {
        writer.flush(Duration::from_secs(2));
    }
}

fn dropped_notice_human(n: u64) -> String {
    format!("[MCP] {n} log line(s) dropped: the log output was not being read\n")
}

fn dropped_notice_json(n: u64) -> String {
    let fields = Fields {
        message: format!("{n} log line(s) dropped: the log output was not being read"),
        extra: Map::new(),
    };
    json_line(&timestamp(SystemTime::now()), Level::WARN, &fields)
}

/// Writes console lines (events with target [`CONSOLE`]) from the CLI.
#[macro_export]
macro_rules! console {
    ($($arg:tt)*) => { ::tracing::info!(target: $crate::logging::CONSOLE, $($arg)*) };
}

/// Writes a warning console line (to stderr in human mode).
#[macro_export]
macro_rules! console_warn {
    ($($arg:tt)*) => { ::tracing::warn!(target: $crate::logging::CONSOLE, $($arg)*) };
}

/// The formatting layer.
struct LineLayer {
    format: Format,
}

impl<S: Subscriber> Layer<S> for LineLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = *event.metadata().level();
        let target = event.metadata().target();
        let console = target == CONSOLE;
        let line = match self.format {
            Format::Human => {
                if !console && target != "mcp" {
                    fields.message = escape_controls(&fields.message).into_owned();
                }
                human_line(console, &fields)
            }
            Format::Json => {
                if console && fields.message.is_empty() && fields.extra.is_empty() {
                    // The blank separator line of the human output means nothing in JSON.
                    return;
                }
                json_line(&timestamp(SystemTime::now()), level, &fields)
            }
        };
        let to_stderr = match self.format {
            Format::Human => level <= Level::WARN,
            Format::Json => level == Level::ERROR,
        };
        let notice = match self.format {
            Format::Human => dropped_notice_human,
            Format::Json => dropped_notice_json,
        };
        let stream = if to_stderr {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        log_writer::global(notice).write(stream, line);
    }
}

/// The text with control characters written as escapes (`\n`, `\u{1b}`).
fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The message and the other fields of an event, in the order they were written.
#[derive(Default)]
struct Fields {
    message: String,
    extra: Map<String, Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.extra
                .insert(field.name().to_string(), Value::String(value.to_string()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.extra.insert(field.name().to_string(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.extra.insert(field.name().to_string(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.extra.insert(field.name().to_string(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.extra.insert(field.name().to_string(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.extra
                .insert(field.name().to_string(), Value::String(text));
        }
    }
}

fn human_line(console: bool, fields: &Fields) -> String {
    let mut line = String::with_capacity(fields.message.len() + 16);
    if !console {
        line.push_str("[MCP] ");
    }
    line.push_str(&fields.message);
    if !fields.extra.is_empty() {
        line.push(' ');
        line.push_str(&Value::Object(fields.extra.clone()).to_string());
    }
    line.push('\n');
    line
}

fn json_line(ts: &str, level: Level, fields: &Fields) -> String {
    let mut object = Map::with_capacity(3 + fields.extra.len());
    object.insert("ts".into(), Value::String(ts.to_string()));
    object.insert("level".into(), Value::String(level_name(level).into()));
    object.insert("msg".into(), Value::String(fields.message.clone()));
    for (key, value) in &fields.extra {
        // The three fixed keys come first and are not overwritten (sunpeak lets extras
        // overwrite them; nothing of ours names a field `ts`, `level` or `msg`).
        if !object.contains_key(key) {
            object.insert(key.clone(), value.clone());
        }
    }
    let mut line = Value::Object(object).to_string();
    line.push('\n');
    line
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// `2026-11-25T16:12:01.123Z`, as JavaScript's `Date.prototype.toISOString`.
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fields(message: &str, extra: &[(&str, Value)]) -> Fields {
        Fields {
            message: message.into(),
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn human_lines_match_sunpeak() {
        assert_eq!(
            human_line(false, &fields("← tools/list (a73e9a4e...)", &[])),
            "[MCP] ← tools/list (a73e9a4e...)\n"
        );
        assert_eq!(
            human_line(
                false,
                &fields(
                    "Session started: a73e9a4e...",
                    &[
                        ("sessionId", "a73e9a4e-5580-412a-863e-240a497b4c25".into()),
                        ("active", 1.into())
                    ]
                )
            ),
            "[MCP] Session started: a73e9a4e... {\"sessionId\":\"a73e9a4e-5580-412a-863e-240a497b4c25\",\"active\":1}\n"
        );
        assert_eq!(
            human_line(true, &fields("Found 7 tool(s): a, b", &[])),
            "Found 7 tool(s): a, b\n"
        );
    }

    #[test]
    fn tool_output_cannot_forge_human_lines() {
        let forged = "ok\n[MCP] Session started: evil...\u{1b}[31m";
        assert_eq!(
            escape_controls(forged),
            "ok\\n[MCP] Session started: evil...\\u{1b}[31m"
        );
        assert_eq!(escape_controls("plain é"), "plain é");
        assert!(dropped_notice_json(3).contains("\"msg\":\"3 log line(s) dropped"));
    }

    #[test]
    fn json_lines() {
        let line = json_line(
            "2026-11-25T16:12:01.123Z",
            Level::WARN,
            &fields(
                "Port busy",
                &[("port", 8000.into()), ("msg", "ignored".into())],
            ),
        );
        assert_eq!(
            line,
            "{\"ts\":\"2026-11-25T16:12:01.123Z\",\"level\":\"warn\",\"msg\":\"Port busy\",\"port\":8000}\n"
        );
    }

    #[test]
    fn iso_timestamps() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_622_321_123);
        assert_eq!(timestamp(t), "2026-11-25T15:58:41.123Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(t), "2000-02-29T00:00:00.000Z");
    }
}
