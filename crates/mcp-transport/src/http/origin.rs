//! `Host` and `Origin` validation (DNS rebinding protection).

use std::net::{Ipv4Addr, Ipv6Addr};

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

/// Whether a hostname (no port, brackets kept for IPv6) is loopback: `localhost`,
/// `*.localhost`, `127.0.0.0/8`, `[::1]` in any spelling.
fn is_loopback_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    if h == "localhost" || h.ends_with(".localhost") {
        return true;
    }
    if let Some(v6) = h.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        });
    }
    h.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Splits an authority into host and port, or `None` when the port is not a number up to
/// 65535 (`http` accepts any text there: `localhost:abc`, `localhost:99999`). An empty port
/// (`localhost:`) is allowed, as RFC 3986 does.
fn split_authority(a: &Authority) -> Option<(&str, Option<u16>)> {
    let port = a
        .as_str()
        .rsplit_once('@')
        .map_or(a.as_str(), |(_, hostport)| hostport)
        .strip_prefix(a.host())
        .and_then(|rest| rest.strip_prefix(':'));
    match port {
        None | Some("") => Some((a.host(), None)),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<u16>().ok().map(|n| (a.host(), Some(n)))
        }
        Some(_) => None,
    }
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
    let Some((name, port)) = split_authority(&auth) else {
        return HostCheck::Malformed;
    };
    let Some(allowed) = allowed else {
        return HostCheck::Ok;
    };
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
        let Some((en, ep)) = split_authority(&e) else {
            continue;
        };
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
        && split_authority(&auth).is_some_and(|(host, _)| is_loopback_host(host))
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
    fn malformed_ports_and_loopback_spellings() {
        // Any text after the colon passed as a Host (and as a loopback Origin).
        for bad in [
            "localhost:abc",
            "localhost:99999",
            "api.example.com:+80",
            "[::1]:x",
        ] {
            assert_eq!(check_host(Some(bad), None), HostCheck::Malformed, "{bad}");
        }
        assert!(!origin_allowed("http://localhost:abc", &[]));
        assert_eq!(check_host(Some("localhost:"), None), HostCheck::Ok);
        assert_eq!(check_host(Some("localhost:080"), None), HostCheck::Ok);
        let loop_only: &[String] = &[];
        for host in [
            "[0:0:0:0:0:0:0:1]:3000",
            "[::ffff:127.0.0.1]",
            "127.1.2.3",
            "LocalHost:1",
        ] {
            assert_eq!(
                check_host(Some(host), Some(loop_only)),
                HostCheck::Ok,
                "{host}"
            );
        }
        for host in ["[::2]", "127.0.0.1.nip.io", "0.0.0.0", "[fe80::1]"] {
            assert_eq!(
                check_host(Some(host), Some(loop_only)),
                HostCheck::Forbidden,
                "{host}"
            );
        }
        assert!(origin_allowed("http://[0:0:0:0:0:0:0:1]:8080", &[]));
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
