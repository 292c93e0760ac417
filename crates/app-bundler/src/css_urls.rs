//! `url(...)` references to local files in CSS become `data:` URLs, as in Vite's library mode
//! (which inlines every asset): a self-contained resource has nowhere to load them from.

use std::fs;
use std::path::Path;

use base64::Engine as _;

/// The MIME type Vite uses for an inlined asset, by extension.
fn mime(ext: &str) -> Option<&'static str> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        "svg" => "image/svg+xml",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "eot" => "application/vnd.ms-fontobject",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        _ => return None,
    })
}

/// Vite's `svgToDataURL`: a readable URL-encoded SVG unless quoting makes that unsafe.
fn svg_data_url(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let nested_quotes = {
        // "…'…" or '…"…' inside one quoted run
        let mut nested = false;
        let mut open: Option<char> = None;
        for c in text.chars() {
            match (open, c) {
                (None, '"' | '\'') => open = Some(c),
                (Some(q), c) if c == q => open = None,
                (Some(_), '"' | '\'') => nested = true,
                _ => {}
            }
        }
        nested
    };
    if text.contains("<text") || text.contains("<foreignObject") || nested_quotes {
        return format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
    }
    let mut collapsed = String::with_capacity(text.len());
    let trimmed = text.trim();
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '>' {
            collapsed.push('>');
            // `>\s+<` → `><`
            let mut ws = String::new();
            while let Some(&n) = chars.peek().filter(|n| n.is_whitespace()) {
                ws.push(n);
                chars.next();
            }
            if chars.peek() != Some(&'<') {
                collapsed.push_str(&ws);
            }
        } else {
            collapsed.push(c);
        }
    }
    let mut out = String::from("data:image/svg+xml,");
    let mut in_space = false;
    for c in collapsed.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push_str("%20");
            }
            in_space = true;
            continue;
        }
        in_space = false;
        match c {
            '"' => out.push('\''),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '<' => out.push_str("%3c"),
            '>' => out.push_str("%3e"),
            c => out.push(c),
        }
    }
    out
}

/// More MIME types for `?url` imports, which may name any file (Vite looks them up with
/// `mrmime`).
fn other_mime(ext: &str) -> Option<&'static str> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "txt" => "text/plain",
        "md" => "text/markdown",
        "css" => "text/css",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "webmanifest" => "application/manifest+json",
        "apng" => "image/apng",
        "flac" => "audio/flac",
        "aac" => "audio/aac",
        "opus" => "audio/ogg",
        _ => return None,
    })
}

/// Vite's inlined form of an asset: SVG URL-encoded (see [`svg_data_url`]), everything else
/// base64.
fn encode(mime: &str, bytes: &[u8]) -> String {
    if mime == "image/svg+xml" {
        svg_data_url(bytes)
    } else {
        format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }
}

fn data_url(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?;
    let mime = mime(ext)?;
    let bytes = fs::read(path).ok()?;
    Some(encode(mime, &bytes))
}

/// The `data:` URL Vite's library mode makes of an imported file (`import u from
/// './logo.svg'`, `'./notes.txt?url'`): the MIME type by extension
/// (`application/octet-stream` when unknown), SVG URL-encoded, everything else base64.
pub(crate) fn asset_data_url(path: &Path, bytes: &[u8]) -> String {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let mime = mime(ext)
        .or_else(|| other_mime(ext))
        .unwrap_or("application/octet-stream");
    encode(mime, bytes)
}

/// Rewrites the `url(...)`s of `css` (the text of `file`) that point at existing local files;
/// `None` when nothing changed. Absolute (`/x.png`), remote, `data:` and `#fragment` URLs stay.
pub(crate) fn inline_urls(css: &str, file: &Path) -> Option<String> {
    let dir = file.parent()?;
    let mut out = String::new();
    let mut rest = css;
    let mut changed = false;
    while let Some(at) = find_url(rest) {
        let args = &rest[at + 4..];
        let trimmed = args.trim_start();
        let lead = args.len() - trimmed.len();
        let quote = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'');
        let body = if quote.is_some() {
            &trimmed[1..]
        } else {
            trimmed
        };
        let end = match quote {
            Some(q) => body.find(q),
            None => body.find(')'),
        };
        let Some(end) = end else { break };
        let target = body[..end].trim();
        // Where the url(...) argument ends (after the closing quote, if any).
        let consumed = at + 4 + lead + quote.map_or(0, |_| 1) + end + quote.map_or(0, |_| 1);
        let local = !(target.is_empty()
            || target.starts_with("data:")
            || target.starts_with('#')
            || target.starts_with('/')
            || target.contains("://"));
        let path_part = target.split(['?', '#']).next().unwrap_or(target);
        match local.then(|| data_url(&dir.join(path_part))).flatten() {
            Some(url) => {
                out.push_str(&rest[..at]);
                out.push_str("url(\"");
                out.push_str(&url.replace('"', "%22"));
                out.push('"');
                changed = true;
            }
            None => out.push_str(&rest[..consumed]),
        }
        rest = &rest[consumed..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The next `url(` that starts a token (not e.g. `myurl(`).
fn find_url(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("url(") {
        let at = from + i;
        let prev = s[..at].chars().next_back();
        if !prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_is_url_encoded_like_vite() {
        assert_eq!(
            svg_data_url(b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"><rect fill=\"#f00\"/></svg>"),
            "data:image/svg+xml,%3csvg%20xmlns='http://www.w3.org/2000/svg'%20width='1'%20height='1'%3e%3crect%20fill='%23f00'/%3e%3c/svg%3e"
        );
    }

    #[test]
    fn only_existing_local_urls_change() {
        let dir = std::env::temp_dir().join(format!("app-bundler-urls-{}", std::process::id()));
        fs::create_dir_all(dir.join("sub")).expect("mkdir");
        fs::write(dir.join("p.png"), b"\x89PNG").expect("write");
        let css = ".a{background:url( './p.png' )} .b{background:url(/abs.png)} .c{background:url(#f)} .d{b:url(missing.png)} .e{b:myurl(p.png)}";
        let out = inline_urls(css, &dir.join("sub/../x.css")).expect("changed");
        assert_eq!(
            out,
            ".a{background:url(\"data:image/png;base64,iVBORw==\" )} .b{background:url(/abs.png)} .c{background:url(#f)} .d{b:url(missing.png)} .e{b:myurl(p.png)}"
        );
        assert_eq!(inline_urls(".x{}", &dir.join("x.css")), None);
        let _ = fs::remove_dir_all(&dir);
    }
}
