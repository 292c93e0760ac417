//! `import.meta.env.VITE_*`: the variables Vite 8's `loadEnv('production', root)` exposes to
//! browser code.
//!
//! Vite reads `.env`, `.env.local`, `.env.production` and `.env.production.local` from the
//! project root (later files override earlier ones; a missing file, or a directory, is
//! skipped; a file that exists but cannot be read fails the build), parses each with Node's
//! `util.parseEnv`, expands `${VAR}` / `$VAR` references with dotenv-expand, keeps the keys
//! that start with `VITE_`, and lets `VITE_*` variables of the process environment override
//! (or add to) them. This module does the same, in the same order.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{BuildError, relative_to};

/// The prefix of the variables exposed to browser code (Vite's default `envPrefix`).
const PREFIX: &str = "VITE_";

/// The files Vite reads in mode `production`, lowest priority first.
const FILES: [&str; 4] = [
    ".env",
    ".env.local",
    ".env.production",
    ".env.production.local",
];

/// The `VITE_*` variables for `import.meta.env`.
/// `process_env` stands for the environment of the process (its variables win over the
/// files, as in Vite).
pub(crate) fn load(
    root: &Path,
    process_env: &[(String, String)],
) -> Result<Vec<(String, String)>, BuildError> {
    let mut parsed: Vec<(String, String)> = Vec::new();
    for name in FILES {
        let path = root.join(name);
        // Vite: `tryStatSync`, then only files (and FIFOs) are read.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            continue;
        }
        let bytes = std::fs::read(&path)
            .map_err(|e| BuildError::io("read", &relative_to(root, &path), e))?;
        for (key, value) in parse(&String::from_utf8_lossy(&bytes)) {
            // `Object.fromEntries`: a later file replaces the value, the key keeps its place.
            match parsed.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => parsed.push((key, value)),
            }
        }
    }
    let process = |key: &str| {
        process_env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    // Vite copies a `NODE_ENV` of the files to `VITE_USER_NODE_ENV` (before expansion), which
    // then shows up with the other `VITE_*` variables of the process.
    let user_node_env = match (
        parsed.iter().find(|(k, _)| k == "NODE_ENV"),
        process("VITE_USER_NODE_ENV"),
    ) {
        (Some((_, v)), None) if !v.is_empty() => Some(v.clone()),
        _ => None,
    };
    expand(&mut parsed, process_env);

    let mut env: Vec<(String, String)> = parsed
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    let mut set = |key: &str, value: &str| match env.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_owned(),
        None => env.push((key.to_owned(), value.to_owned())),
    };
    for (key, value) in process_env {
        if key.starts_with(PREFIX) {
            set(key, value);
        }
    }
    if let Some(value) = user_node_env {
        set("VITE_USER_NODE_ENV", &value);
    }
    Ok(env)
}

/// Node's `util.parseEnv` (the parser Vite 8 uses): `KEY=value` lines, `export ` before the
/// key, `#` comments (whole lines, and after unquoted values), values in `"`, `'` or
/// `` ` `` quotes (which may span lines; `\n` becomes a newline in `"` quotes only). A line
/// without `=` is skipped. Keys come out sorted (Node keeps them in a `std::map`); a repeated
/// key keeps its last value.
pub(crate) fn parse(text: &str) -> Vec<(String, String)> {
    let text = text.replace('\r', "");
    let mut store = BTreeMap::new();
    let mut content = trim(&text);
    while !content.is_empty() {
        if content.starts_with('\n') || content.starts_with('#') {
            content = match content.find('\n') {
                Some(nl) => &content[nl + 1..],
                None => "",
            };
            continue;
        }
        let Some(at) = content.find(['=', '\n']) else {
            break;
        };
        if content[at..].starts_with('\n') {
            content = trim(&content[at + 1..]);
            continue;
        }
        let mut key = trim(&content[..at]);
        content = &content[at + 1..];
        if content.is_empty() || content.starts_with('\n') {
            store.insert(key.to_owned(), String::new());
            continue;
        }
        content = trim(content);
        if key.is_empty() {
            continue;
        }
        if let Some(rest) = key.strip_prefix("export ") {
            key = trim(rest);
        }
        if content.is_empty() {
            store.insert(key.to_owned(), String::new());
            break;
        }
        let quote = content
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'));
        match quote.and_then(|q| content[1..].find(q).map(|end| (q, end + 1))) {
            Some((q, close)) => {
                let inner = &content[1..close];
                let value = if q == '"' {
                    inner.replace("\\n", "\n")
                } else {
                    inner.to_owned()
                };
                store.insert(key.to_owned(), value);
                content = match content[close + 1..].find('\n') {
                    Some(nl) => &content[close + 1 + nl + 1..],
                    None => "",
                };
                continue;
            }
            // An unterminated quote: the rest of the line, quote included.
            None if quote.is_some() => match content.find('\n') {
                Some(nl) => {
                    store.insert(key.to_owned(), content[..nl].to_owned());
                    content = &content[nl + 1..];
                }
                None => {
                    store.insert(key.to_owned(), content.to_owned());
                    break;
                }
            },
            None => {
                let (line, rest) = match content.find('\n') {
                    Some(nl) => (&content[..nl], &content[nl + 1..]),
                    None => (content, ""),
                };
                let value = line.split('#').next().unwrap_or_default();
                store.insert(key.to_owned(), trim(value).to_owned());
                content = rest;
            }
        }
        content = trim(content);
    }
    store.into_iter().collect()
}

/// Node's `trim_spaces`: spaces, tabs and newlines.
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n'])
}

/// dotenv-expand 12 (bundled in Vite 8), in place: each value in order has its `${VAR}`,
/// `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}` and `$VAR` references
/// replaced, looking first in the process environment, then in the (partly expanded)
/// values; `\$` stays a literal `$`. A key set to a different, non-empty value in the
/// process environment takes that value unexpanded.
fn expand(parsed: &mut [(String, String)], process_env: &[(String, String)]) {
    let process = |key: &str| {
        process_env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    for i in 0..parsed.len() {
        let (key, original) = parsed[i].clone();
        let value = match process(&key) {
            Some(p) if !p.is_empty() && p != original => p,
            _ => {
                let lookup = |name: &str| {
                    process(name).or_else(|| {
                        parsed
                            .iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                    })
                };
                expand_value(&original, &original, &lookup)
            }
        };
        parsed[i].1 = value.replace("\\$", "$");
    }
}

/// A reference in a value: `${expression}` or `$NAME`, not preceded by a backslash.
struct Reference {
    /// The whole reference as written (`${A:-x}`, `$A`).
    template: String,
    /// What is inside the braces, or the name.
    expression: String,
}

fn next_reference(s: &str) -> Option<Reference> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(off) = s[i..].find('$') {
        let at = i + off;
        i = at + 1;
        if at > 0 && bytes[at - 1] == b'\\' {
            continue;
        }
        let rest = &s[at + 1..];
        if let Some(body) = rest.strip_prefix('{') {
            let end = body.find(['{', '}']);
            if let Some(end) = end.filter(|&e| e > 0 && body[e..].starts_with('}')) {
                return Some(Reference {
                    template: s[at..at + 2 + end + 1].to_owned(),
                    expression: body[..end].to_owned(),
                });
            }
            continue;
        }
        let name_len = rest
            .char_indices()
            .take_while(|(n, c)| {
                c.is_ascii_alphabetic() || *c == '_' || (*n > 0 && c.is_ascii_digit())
            })
            .count();
        if name_len > 0 {
            return Some(Reference {
                template: s[at..at + 1 + name_len].to_owned(),
                expression: rest[..name_len].to_owned(),
            });
        }
    }
    None
}

/// dotenv-expand's `expandValue`: replaces one reference at a time (the first occurrence of
/// its text) until none is left, a value repeats (a self-reference), or the result is the
/// key's own unexpanded value.
fn expand_value(value: &str, own: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut result = value.to_owned();
    let mut seen: Vec<String> = Vec::new();
    // A cycle the checks above miss would loop for ever; no real file needs this many.
    for _ in 0..1000 {
        let Some(reference) = next_reference(&result) else {
            break;
        };
        seen.push(result.clone());
        let expression = reference.expression.as_str();
        let splitter = [":+", "+", ":-", "-"]
            .into_iter()
            .filter_map(|op| expression.find(op).map(|at| (at, op)))
            .min_by_key(|(at, op)| (*at, std::cmp::Reverse(op.len())))
            .map(|(_, op)| op);
        let (name, tail) = match splitter {
            Some(op) => {
                let mut parts = expression.split(op);
                let name = parts.next().unwrap_or_default();
                (name, parts.collect::<Vec<_>>().join(op))
            }
            None => (expression, String::new()),
        };
        let found = lookup(name).filter(|v| !v.is_empty());
        let replacement = match splitter {
            Some(":+" | "+") => {
                if found.is_some() {
                    tail
                } else {
                    String::new()
                }
            }
            _ => match found {
                Some(v) if seen.contains(&v) => tail,
                Some(v) => v,
                None => tail,
            },
        };
        result = result.replacen(&reference.template, &replacement, 1);
        if result == own {
            break;
        }
    }
    result
}

/// The environment of this process, as Vite sees it (`process.env`; variables whose name or
/// value is not UTF-8 are left out).
pub(crate) fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_like_node_parse_env() {
        let text = "# comment\nB=plain value   # trailing comment\nexport A=exported\r\nC=\"double \\n newline\" # c\nD='single \\n raw'\nE=`back tick`\nF=\"multi\nline\"\nno equals sign\nH=\n I = spaced \nJ=a=b\nM='has # hash'\nN=has#hash\n=nokey\nK=\"unterminated\nL=after";
        assert_eq!(
            parse(text),
            pairs(&[
                ("A", "exported"),
                ("B", "plain value"),
                ("C", "double \n newline"),
                ("D", "single \\n raw"),
                ("E", "back tick"),
                ("F", "multi\nline"),
                ("H", ""),
                ("I", "spaced"),
                ("J", "a=b"),
                ("K", "\"unterminated"),
                ("L", "after"),
                ("M", "has # hash"),
                ("N", "has"),
            ])
        );
    }

    #[test]
    fn expands_like_dotenv_expand() {
        let mut parsed = pairs(&[
            ("A", "a"),
            ("B", "${A}-b"),
            ("C", "$B/c"),
            ("D", "${MISSING:-fallback}"),
            ("E", "${A:+set}${MISSING:+unset}"),
            ("F", "\\$A"),
            ("G", "$D"),
            ("SELF", "${SELF}"),
            ("P", "from-file"),
            ("Q", "$P"),
        ]);
        expand(&mut parsed, &pairs(&[("P", "from-process")]));
        assert_eq!(
            parsed,
            pairs(&[
                ("A", "a"),
                ("B", "a-b"),
                ("C", "a-b/c"),
                ("D", "fallback"),
                ("E", "set"),
                ("F", "$A"),
                ("G", "fallback"),
                ("SELF", ""),
                ("P", "from-process"),
                ("Q", "from-process"),
            ])
        );
    }
}
