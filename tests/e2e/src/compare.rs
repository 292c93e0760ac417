//! Comparing two `dist/` trees: file sets, the HTML shell, resource metadata, rendered text.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// Every file under `dir`, as `/`-separated paths relative to it, sorted.
pub fn files_under(dir: &Path) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = std::fs::read_dir(&current)
            .with_context(|| format!("reading {}", current.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", current.display()))?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy()).collect();
                out.insert(parts.join("/"));
            }
        }
    }
    Ok(out)
}

/// What an HTML document loads from outside and how many inline scripts it has, looking only
/// at the markup (inline script bodies are skipped, so strings inside the JS do not count).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HtmlRefs {
    /// `<script src=…>` tags, verbatim.
    pub external_scripts: Vec<String>,
    /// `<link rel="stylesheet" …>` tags, verbatim.
    pub external_stylesheets: Vec<String>,
    /// Number of inline `<script>` elements.
    pub inline_scripts: usize,
}

/// Finds external scripts and stylesheets in `html`.
pub fn html_refs(html: &str) -> HtmlRefs {
    let lower = html.to_ascii_lowercase();
    let mut refs = HtmlRefs::default();
    let mut pos = 0;
    while let Some(offset) = lower[pos..].find('<') {
        let start = pos + offset;
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let end = start + len + 1;
        let tag = &lower[start..end];
        if is_tag(tag, "script") {
            if has_attr(tag, "src") {
                refs.external_scripts.push(html[start..end].to_string());
            } else {
                refs.inline_scripts += 1;
            }
            // Skip the script body: it ends at the first `</script`, which sunpeak escapes
            // inside the JS.
            pos = match lower[end..].find("</script") {
                Some(close) => end + close + "</script".len(),
                None => lower.len(),
            };
            continue;
        }
        if is_tag(tag, "link")
            && attr_value(tag, "rel").is_some_and(|rel| rel.contains("stylesheet"))
        {
            refs.external_stylesheets.push(html[start..end].to_string());
        }
        pos = end;
    }
    refs
}

fn is_tag(tag: &str, name: &str) -> bool {
    tag.strip_prefix('<')
        .and_then(|rest| rest.strip_prefix(name))
        .is_some_and(|rest| rest.starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace()))
}

fn has_attr(tag: &str, name: &str) -> bool {
    attr_value(tag, name).is_some()
}

fn attr_value<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut search = 0;
    while let Some(offset) = tag[search..].find(name) {
        let at = search + offset;
        search = at + name.len();
        let before_ok = tag[..at].ends_with(|c: char| c.is_whitespace());
        let rest = tag[at + name.len()..].trim_start();
        if !before_ok {
            continue;
        }
        let Some(value) = rest.strip_prefix('=') else {
            if rest.starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace()) {
                return Some("");
            }
            continue;
        };
        let value = value.trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        });
    }
    None
}

/// The HTML with every inline script body replaced by `…`: what must be identical between two
/// builds of the same resource.
pub fn html_shell(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::new();
    let mut pos = 0;
    while let Some(offset) = lower[pos..].find("<script") {
        let start = pos + offset;
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let body_start = start + len + 1;
        let body_end = lower[body_start..]
            .find("</script")
            .map_or(lower.len(), |close| body_start + close);
        out.push_str(&html[pos..body_start]);
        out.push('…');
        pos = body_end;
    }
    out.push_str(&html[pos..]);
    out
}

/// Checks a resource URI: `ui://<name>-<id>` with `<id>` 8 lowercase base-36 characters.
pub fn check_resource_uri(uri: &str, name: &str) -> Result<(), String> {
    let Some(id) = uri
        .strip_prefix("ui://")
        .and_then(|rest| rest.strip_prefix(name))
        .and_then(|rest| rest.strip_prefix('-'))
    else {
        return Err(format!("uri {uri:?} does not start with \"ui://{name}-\""));
    };
    if id.len() == 8
        && id
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    {
        Ok(())
    } else {
        Err(format!(
            "uri {uri:?}: the id {id:?} is not 8 lowercase base-36 characters"
        ))
    }
}

/// A resource's metadata JSON without its `uri` (which differs by design).
pub fn metadata_without_uri(json: &Value) -> Value {
    let mut copy = json.clone();
    if let Some(obj) = copy.as_object_mut() {
        obj.remove("uri");
    }
    copy
}

/// The first difference between two texts, line by line, with two lines of context, or
/// `None` when they are equal.
pub fn first_difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(2);
    let show = |lines: &[&str]| {
        lines
            .iter()
            .enumerate()
            .skip(from)
            .take(5)
            .map(|(i, l)| format!("  {:>4}{} {l:?}", i + 1, if i == at { '>' } else { ' ' }))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Some(format!(
        "first difference at line {} ({} vs {} lines)\n expected (sunpeak):\n{}\n actual (ours):\n{}",
        at + 1,
        a.len(),
        b.len(),
        show(&a),
        show(&b)
    ))
}

/// String leaves of a JSON value (at least `min_len` characters, not URLs), for checking that
/// data from a tool result shows up in the rendered page.
pub fn string_leaves(value: &Value, min_len: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if s.chars().count() >= min_len && !s.contains("://") => {
                out.push(s.clone())
            }
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_external_script_and_stylesheet_but_not_strings_in_inline_js() {
        let html = r#"<!DOCTYPE html><html><head><link rel="stylesheet" href="a.css"><link rel=icon href=x.png></head>
<body><script>var s = "<script src='x.js'><\/script><link rel=stylesheet>";</script><SCRIPT SRC="b.js"></SCRIPT></body></html>"#;
        let refs = html_refs(html);
        assert_eq!(refs.external_scripts, vec![r#"<SCRIPT SRC="b.js">"#]);
        assert_eq!(
            refs.external_stylesheets,
            vec![r#"<link rel="stylesheet" href="a.css">"#]
        );
        assert_eq!(refs.inline_scripts, 1);
    }

    #[test]
    fn self_contained_html_has_no_refs() {
        let html = "<!DOCTYPE html>\n<html>\n<body>\n  <div id=\"root\"></div>\n  <script>\nalert(1)\n  </script>\n</body>\n</html>";
        let refs = html_refs(html);
        assert!(refs.external_scripts.is_empty() && refs.external_stylesheets.is_empty());
        assert_eq!(refs.inline_scripts, 1);
        assert_eq!(
            html_shell(html),
            "<!DOCTYPE html>\n<html>\n<body>\n  <div id=\"root\"></div>\n  <script>…</script>\n</body>\n</html>"
        );
    }

    #[test]
    fn resource_uri_format() {
        assert!(check_resource_uri("ui://albums-mww8qckj", "albums").is_ok());
        assert!(check_resource_uri("ui://albums-MWW8QCKJ", "albums").is_err());
        assert!(check_resource_uri("ui://albums-mww8qck", "albums").is_err());
        assert!(check_resource_uri("ui://map-mww8qckj", "albums").is_err());
    }

    #[test]
    fn first_difference_points_at_the_line() {
        assert_eq!(first_difference("a\nb", "a\nb"), None);
        let diff = first_difference("a\nb\nc", "a\nx\nc").unwrap_or_default();
        assert!(diff.contains("line 2"), "{diff}");
        let shorter = first_difference("a\nb", "a").unwrap_or_default();
        assert!(shorter.contains("line 2"), "{shorter}");
    }
}
