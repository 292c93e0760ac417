//! `Host` and `Origin` validation (DNS rebinding protection).

use http::uri::Authority;

/// Outcome of the Host check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HostCheck {
    Ok,
    /// Not parseable: 400.
    Malformed,
    /// Not allowed: 403.
    Forbidden,
}

/// Whether a hostname (no port, brackets kept for IPv6) is loopback.
fn is_loopback_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h == "localhost"
        || h.ends_with(".localhost")
        || h == "[::1]"
        || h == "::1"
        || h.starts_with("127.")
            && h.split('.').count() == 4
            && h.split('.').all(|p| p.parse::<u8>().is_ok())
}

/// Splits an authority into host and port text.
fn split_authority(a: &Authority) -> (&str, Option<u16>) {
    (a.host(), a.port_u16())
}

/// Checks a Host header value (or the URI authority of HTTP/2 requests).
pub(crate) fn check_host(host: Option<&str>, allowed: Option<&[String]>) -> HostCheck {
    let Some(host) = host else {
        // HTTP/1.0 without Host; only a restricted server cares.
        return if allowed.is_some() {
            HostCheck::Forbidden
        } else {
            HostCheck::Ok
        };
    };
    let Ok(auth) = host.parse::<Authority>() else {
        return HostCheck::Malformed;
    };
    if auth.as_str().contains('@') {
        return HostCheck::Malformed;
    }
    let Some(allowed) = allowed else {
        return HostCheck::Ok;
    };
    let (name, port) = split_authority(&auth);
    if is_loopback_host(name) {
        return HostCheck::Ok;
    }
    for entry in allowed {
        if entry == "*" {
            return HostCheck::Ok;
        }
        let Ok(e) = entry.parse::<Authority>() else {
            continue;
        };
        let (en, ep) = split_authority(&e);
        if en.eq_ignore_ascii_case(name) && (ep.is_none() || ep == port) {
            return HostCheck::Ok;
        }
    }
    HostCheck::Forbidden
}

/// Checks an Origin header value: loopback origins and the configured ones (exact
/// `scheme://host[:port]`, case-insensitive, trailing `/` ignored; `*` allows all).
pub(crate) fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let origin = origin.trim().trim_end_matches('/');
    if allowed.iter().any(|a| a == "*") {
        return true;
    }
    if let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        && let Ok(auth) = rest.parse::<Authority>()
        && !rest.contains('/')
        && !rest.contains('@')
        && is_loopback_host(auth.host())
    {
        return true;
    }
    allowed
        .iter()
        .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(check_host(Some("evil.example.com"), None), HostCheck::Ok);
        assert_eq!(check_host(Some("[bad"), None), HostCheck::Malformed);
        assert_eq!(check_host(Some("a b"), None), HostCheck::Malformed);
        assert_eq!(check_host(Some("u@h"), None), HostCheck::Malformed);
        let loop_only: &[String] = &[];
        assert_eq!(
            check_host(Some("127.0.0.1:3000"), Some(loop_only)),
            HostCheck::Ok
        );
        assert_eq!(
            check_host(Some("localhost"), Some(loop_only)),
            HostCheck::Ok
        );
        assert_eq!(check_host(Some("[::1]:80"), Some(loop_only)), HostCheck::Ok);
        assert_eq!(
            check_host(Some("evil.example.com"), Some(loop_only)),
            HostCheck::Forbidden
        );
        assert_eq!(
            check_host(Some("127.0.0.1.evil.com"), Some(loop_only)),
            HostCheck::Forbidden
        );
        let list = vec!["api.example.com".to_string(), "x.org:8443".to_string()];
        assert_eq!(
            check_host(Some("API.example.com:443"), Some(&list)),
            HostCheck::Ok
        );
        assert_eq!(check_host(Some("x.org:8443"), Some(&list)), HostCheck::Ok);
        assert_eq!(
            check_host(Some("x.org:80"), Some(&list)),
            HostCheck::Forbidden
        );
        assert_eq!(check_host(None, Some(&list)), HostCheck::Forbidden);
    }

    #[test]
    fn origins() {
        let none: Vec<String> = vec![];
        assert!(origin_allowed("http://localhost:5173", &none));
        assert!(origin_allowed("https://127.0.0.1", &none));
        assert!(origin_allowed("http://[::1]:8080", &none));
        assert!(!origin_allowed("http://evil.example.com", &none));
        assert!(!origin_allowed("http://localhost.evil.com", &none));
        assert!(!origin_allowed("null", &none));
        assert!(!origin_allowed("file://localhost", &none));
        let list = vec!["https://chatgpt.com".to_string()];
        assert!(origin_allowed("https://ChatGPT.com/", &list));
        assert!(!origin_allowed("http://chatgpt.com", &list));
        assert!(origin_allowed("http://anything", &["*".to_string()]));
    }
}
