//! The HTML shell, the CSS injection prefix and the content-derived resource id.

use sha2::{Digest, Sha256};

/// The statement sunpeak's `inline-css` plugin prepends to the bundle:
/// `(function(){var s=document.createElement('style');s.textContent=<JSON>;document.head.appendChild(s);})();`
/// where `<JSON>` is `JSON.stringify(css)` with every `<` written as `\u003c`.
pub(crate) fn style_prefix(css: &str) -> String {
    // serde_json escapes exactly what JSON.stringify escapes (", \, control characters,
    // lowercase \u00xx), so the bytes match.
    let literal = serde_json::to_string(css)
        .unwrap_or_else(|_| "\"\"".to_owned())
        .replace('<', "\\u003c");
    format!(
        "(function(){{var s=document.createElement('style');s.textContent={literal};document.head.appendChild(s);}})();"
    )
}

/// Replaces every `</script` (any case) with `<\/script`, keeping the case of `script`
/// (sunpeak: `js.replace(/<\/(script)/gi, '<\\/$1')`).
pub(crate) fn escape_script_close(js: &str) -> String {
    let bytes = js.as_bytes();
    let mut out = String::with_capacity(js.len());
    let mut last = 0;
    let mut i = 0;
    while let Some(pos) = js[i..].find("</") {
        let at = i + pos;
        let rest = &bytes[at + 2..];
        if rest.len() >= 6 && rest[..6].eq_ignore_ascii_case(b"script") {
            out.push_str(&js[last..at]);
            out.push_str("<\\/");
            last = at + 2;
        }
        i = at + 2;
    }
    out.push_str(&js[last..]);
    out
}

/// The HTML document, byte for byte as sunpeak writes it (no trailing newline).
pub(crate) fn html_shell(js: &str) -> String {
    let safe = escape_script_close(js);
    let mut html = String::with_capacity(safe.len() + 256);
    html.push_str(
        "<!DOCTYPE html>\n<html>\n<head>\n  <meta charset=\"UTF-8\">\n  <meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n</head>\n<body>\n  <div id=\"root\"></div>\n  <script>\n",
    );
    html.push_str(&safe);
    html.push_str("\n  </script>\n</body>\n</html>");
    html
}

/// 8 lowercase base-36 characters derived from the content (sunpeak uses the build time:
/// `Date.now().toString(36)`). Same inputs, same id.
pub(crate) fn content_id(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let mut n = u64::from_le_bytes(first) % 36u64.pow(8);
    let mut id = [b'0'; 8];
    for slot in id.iter_mut().rev() {
        let digit = (n % 36) as u8;
        *slot = if digit < 10 {
            b'0' + digit
        } else {
            b'a' + digit - 10
        };
        n /= 36;
    }
    String::from_utf8_lossy(&id).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_close_is_escaped_case_preserving() {
        assert_eq!(
            escape_script_close("a</script>b</SCRIPT c</scrip"),
            "a<\\/script>b<\\/SCRIPT c</scrip"
        );
    }

    #[test]
    fn style_prefix_escapes_lt_and_quotes() {
        assert_eq!(
            style_prefix("a{content:\"</style>\"}\n"),
            "(function(){var s=document.createElement('style');s.textContent=\"a{content:\\\"\\u003c/style>\\\"}\\n\";document.head.appendChild(s);})();"
        );
    }

    #[test]
    fn shell_matches_sunpeak_bytes() {
        let html = html_shell("x()");
        assert!(html.starts_with("<!DOCTYPE html>\n<html>\n<head>\n  <meta charset=\"UTF-8\">"));
        assert!(html.ends_with("<script>\nx()\n  </script>\n</body>\n</html>"));
    }

    #[test]
    fn content_id_is_8_base36_and_stable() {
        let a = content_id(&[b"<html>"]);
        assert_eq!(a.len(), 8);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert_eq!(a, content_id(&[b"<html>"]));
        assert_ne!(a, content_id(&[b"<html> "]));
        assert_ne!(content_id(&[b"ab", b"c"]), content_id(&[b"a", b"bc"]));
    }
}
