//! Matching URIs against RFC 6570 templates (levels 1-2: `{var}` and `{+var}`).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    /// `{name}`: one or more characters, no `/`, `?` or `#`.
    Var(String),
    /// `{+name}`: one or more of any character.
    Reserved(String),
}

/// A parsed URI template.
#[derive(Debug, Clone)]
pub(crate) struct UriTemplate {
    parts: Vec<Part>,
}

impl UriTemplate {
    /// Parses a template; `None` if braces are unbalanced or a name is empty.
    pub(crate) fn parse(t: &str) -> Option<Self> {
        let mut parts = Vec::new();
        let mut rest = t;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest.find('}')?;
                    let inner = &rest[1..end];
                    let part = match inner.strip_prefix('+') {
                        Some(n) => Part::Reserved(n.to_owned()),
                        None => Part::Var(inner.to_owned()),
                    };
                    match &part {
                        Part::Var(n) | Part::Reserved(n) if n.is_empty() || n.contains('{') => {
                            return None;
                        }
                        _ => {}
                    }
                    parts.push(part);
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    if rest[..i].contains('}') {
                        return None;
                    }
                    parts.push(Part::Lit(rest[..i].to_owned()));
                    rest = &rest[i..];
                }
                None => {
                    if rest.contains('}') {
                        return None;
                    }
                    parts.push(Part::Lit(rest.to_owned()));
                    rest = "";
                }
            }
        }
        Some(Self { parts })
    }

    /// Matches a URI; the variables on success. URIs longer than 8 KiB never match (the
    /// backtracking matcher must stay cheap on hostile input).
    pub(crate) fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        if uri.len() > 8 * 1024 {
            return None;
        }
        let mut vars = BTreeMap::new();
        if match_parts(&self.parts, uri, &mut vars) {
            Some(vars)
        } else {
            None
        }
    }
}

fn match_parts(parts: &[Part], s: &str, vars: &mut BTreeMap<String, String>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return s.is_empty();
    };
    match first {
        Part::Lit(l) => s
            .strip_prefix(l.as_str())
            .is_some_and(|r| match_parts(rest, r, vars)),
        Part::Var(name) | Part::Reserved(name) => {
            let reserved = matches!(first, Part::Reserved(_));
            // Longest candidates first would be greedy; try shortest first so that a following
            // literal anchors the variable, and backtrack.
            for (i, c) in s
                .char_indices()
                .skip(1)
                .chain(std::iter::once((s.len(), ' ')))
            {
                let value = &s[..i];
                if !reserved && value.contains(['/', '?', '#']) {
                    break;
                }
                let _ = c;
                if match_parts(rest, &s[i..], vars) {
                    vars.insert(name.clone(), value.to_owned());
                    return true;
                }
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let t = UriTemplate::parse("test://template/{id}/data").unwrap();
        assert_eq!(t.matches("test://template/123/data").unwrap()["id"], "123");
        assert!(t.matches("test://template//data").is_none());
        assert!(t.matches("test://template/1/2/data").is_none());
        assert!(t.matches("test://template/1/datax").is_none());
        let t = UriTemplate::parse("file:///{+path}").unwrap();
        assert_eq!(t.matches("file:///a/b/c.txt").unwrap()["path"], "a/b/c.txt");
        let t = UriTemplate::parse("x://{a}-{b}").unwrap();
        let v = t.matches("x://1-2-3").unwrap();
        assert_eq!((v["a"].as_str(), v["b"].as_str()), ("1", "2-3"));
        assert!(UriTemplate::parse("x://{a").is_none());
        assert!(UriTemplate::parse("x://a}").is_none());
        assert!(UriTemplate::parse("x://{}").is_none());
        let t = UriTemplate::parse("plain://x").unwrap();
        assert!(t.matches("plain://x").is_some());
        assert!(t.matches("plain://y").is_none());
        let t = UriTemplate::parse("u://{é}").unwrap();
        assert_eq!(t.matches("u://ü").unwrap()["é"], "ü");
    }
}
