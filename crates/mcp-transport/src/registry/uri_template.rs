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

    /// Matches a URI; the variables on success. Each variable takes the shortest value that
    /// lets the rest of the template match. URIs longer than 8 KiB never match.
    ///
    /// Linear in the URI length per template part: a table says, for every part and every
    /// position, whether the rest of the template matches from there. (Trying every split
    /// with backtracking took C(n, k-1) attempts for k variables: hours for a hostile URI.)
    pub(crate) fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        if uri.len() > 8 * 1024 {
            return None;
        }
        let n = uri.len();
        let bytes = uri.as_bytes();
        // rest[k][i]: parts[k..] match uri[i..] (true only at char boundaries).
        let mut rest = vec![vec![false; n + 1]; self.parts.len() + 1];
        rest[self.parts.len()][n] = true;
        for k in (0..self.parts.len()).rev() {
            let (head, tail) = rest.split_at_mut(k + 1);
            let (here, next) = (&mut head[k], &tail[0]);
            match &self.parts[k] {
                Part::Lit(l) => {
                    for (i, cell) in here.iter_mut().enumerate() {
                        *cell = uri.is_char_boundary(i)
                            && uri[i..].starts_with(l.as_str())
                            && next[i + l.len()];
                    }
                }
                Part::Var(_) | Part::Reserved(_) => {
                    let reserved = matches!(self.parts[k], Part::Reserved(_));
                    // The nearest end after i where the rest matches, and the first byte at
                    // or after i a `{var}` value cannot contain (all of them are ASCII).
                    let mut nearest: Option<usize> = None;
                    let mut stop = n;
                    for i in (0..=n).rev() {
                        if i < n {
                            if next[i + 1] {
                                nearest = Some(i + 1);
                            }
                            if !reserved && matches!(bytes[i], b'/' | b'?' | b'#') {
                                stop = i;
                            }
                        }
                        here[i] = uri.is_char_boundary(i) && nearest.is_some_and(|e| e <= stop);
                    }
                }
            }
        }
        if !rest[0][0] {
            return None;
        }
        let mut vars = BTreeMap::new();
        let mut pos = 0;
        for (k, part) in self.parts.iter().enumerate() {
            match part {
                Part::Lit(l) => pos += l.len(),
                Part::Var(name) | Part::Reserved(name) => {
                    let reserved = matches!(part, Part::Reserved(_));
                    let mut end = None;
                    for (off, c) in uri[pos..].char_indices() {
                        if !reserved && matches!(c, '/' | '?' | '#') {
                            break;
                        }
                        let e = pos + off + c.len_utf8();
                        if rest[k + 1][e] {
                            end = Some(e);
                            break;
                        }
                    }
                    // rest[k][pos] holds, so an end exists; stay total regardless.
                    let end = end?;
                    vars.entry(name.clone())
                        .or_insert_with(|| uri[pos..end].to_owned());
                    pos = end;
                }
            }
        }
        Some(vars)
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
        // One or more characters, at the end too (an empty value matched there).
        let t = UriTemplate::parse("x://{id}").unwrap();
        assert!(t.matches("x://").is_none());
        let t = UriTemplate::parse("u://{é}").unwrap();
        assert_eq!(t.matches("u://ü").unwrap()["é"], "ü");
    }

    #[test]
    fn hostile_uris_do_not_backtrack_for_ever() {
        // Every split of the dashes between four variables was tried: C(n, 3) attempts, which
        // kept a runtime thread busy for hours on an 8 KiB URI.
        let t = UriTemplate::parse("x://{a}-{b}-{c}-{d}").unwrap();
        let hostile = format!("x://{}/", "-".repeat(8 * 1024 - 6));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(t.matches(&hostile).is_none());
        });
        let done = rx.recv_timeout(std::time::Duration::from_secs(30));
        assert_eq!(done, Ok(true), "the match did not finish");
        let t = UriTemplate::parse("x://{a}-{b}-{c}-{d}").unwrap();
        let v = t.matches("x://1-2-3-4-5").unwrap();
        assert_eq!(
            (&*v["a"], &*v["b"], &*v["c"], &*v["d"]),
            ("1", "2", "3", "4-5")
        );
    }
}
