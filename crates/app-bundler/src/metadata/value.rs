//! A JavaScript value (the JSON-able subset) and `JSON.stringify(value, null, 2)`.

use std::fmt::Write as _;

/// A JavaScript value as far as `JSON.stringify` can see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsValue {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<JsValue>),
    Object(JsObject),
}

/// A plain object: own enumerable properties in insertion order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct JsObject(Vec<(String, JsValue)>);

impl JsObject {
    /// `obj[key] = value`: replaces in place when present, else appends.
    pub(crate) fn set(&mut self, key: String, value: JsValue) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&JsValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Properties in JavaScript's enumeration order: integer keys ascending, then the others in
    /// insertion order.
    pub(crate) fn entries(&self) -> Vec<&(String, JsValue)> {
        let mut ints: Vec<(u32, &(String, JsValue))> = self
            .0
            .iter()
            .filter_map(|e| array_index(&e.0).map(|i| (i, e)))
            .collect();
        ints.sort_by_key(|(i, _)| *i);
        let mut out: Vec<&(String, JsValue)> = ints.into_iter().map(|(_, e)| e).collect();
        out.extend(self.0.iter().filter(|e| array_index(&e.0).is_none()));
        out
    }
}

/// A canonical array index (`"0"`, `"17"`, not `"01"`), below 2^32 - 1.
fn array_index(key: &str) -> Option<u32> {
    if key.is_empty() || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>().ok().filter(|i| *i != u32::MAX)
}

/// `Number.prototype.toString()` (radix 10), from the shortest round-trip digits.
pub(crate) fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".to_owned();
    }
    if n == 0.0 {
        return "0".to_owned();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let sign = if n < 0.0 { "-" } else { "" };
    // `{:e}` gives the shortest digits that round-trip: "1.2345e-7".
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let e: i64 = exp.parse().unwrap_or(0);
    let n_exp = e + 1; // the position of the decimal point, as in the spec's "n"
    let body = if k <= n_exp && n_exp <= 21 {
        format!("{digits}{}", "0".repeat((n_exp - k) as usize))
    } else if 0 < n_exp && n_exp <= 21 {
        format!(
            "{}.{}",
            &digits[..n_exp as usize],
            &digits[n_exp as usize..]
        )
    } else if -6 < n_exp && n_exp <= 0 {
        format!("0.{}{digits}", "0".repeat((-n_exp) as usize))
    } else {
        let exp_sign = if n_exp > 0 { "+" } else { "-" };
        let exp_abs = (n_exp - 1).abs();
        if k == 1 {
            format!("{digits}e{exp_sign}{exp_abs}")
        } else {
            format!("{}.{}e{exp_sign}{exp_abs}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

impl JsValue {
    /// `ToString(value)` for template literals and `+`.
    pub(crate) fn to_js_string(&self) -> String {
        match self {
            JsValue::Undefined => "undefined".to_owned(),
            JsValue::Null => "null".to_owned(),
            JsValue::Bool(b) => b.to_string(),
            JsValue::Number(n) => number_to_string(*n),
            JsValue::String(s) => s.clone(),
            JsValue::Array(items) => items
                .iter()
                .map(|v| match v {
                    JsValue::Undefined | JsValue::Null => String::new(),
                    other => other.to_js_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            JsValue::Object(_) => "[object Object]".to_owned(),
        }
    }

    /// JavaScript truthiness.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            JsValue::Undefined | JsValue::Null => false,
            JsValue::Bool(b) => *b,
            JsValue::Number(n) => *n != 0.0 && !n.is_nan(),
            JsValue::String(s) => !s.is_empty(),
            JsValue::Array(_) | JsValue::Object(_) => true,
        }
    }

    /// Converts parsed JSON (from Node's `JSON.stringify`, or a `.json` module).
    pub(crate) fn from_json(v: serde_json::Value) -> JsValue {
        match v {
            serde_json::Value::Null => JsValue::Null,
            serde_json::Value::Bool(b) => JsValue::Bool(b),
            serde_json::Value::Number(n) => JsValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => JsValue::String(s),
            serde_json::Value::Array(a) => {
                JsValue::Array(a.into_iter().map(JsValue::from_json).collect())
            }
            serde_json::Value::Object(o) => {
                let mut obj = JsObject::default();
                for (k, v) in o {
                    obj.set(k, JsValue::from_json(v));
                }
                JsValue::Object(obj)
            }
        }
    }

    /// `JSON.stringify(value, null, 2)`; `None` where JSON.stringify returns `undefined`.
    pub(crate) fn to_json_pretty(&self) -> Option<String> {
        let mut out = String::new();
        write_json(self, 0, &mut out).then_some(out)
    }
}

/// Writes `v` at nesting `depth`; returns false for values JSON omits (`undefined`).
fn write_json(v: &JsValue, depth: usize, out: &mut String) -> bool {
    match v {
        JsValue::Undefined => return false,
        JsValue::Null => out.push_str("null"),
        JsValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        JsValue::Number(n) => {
            if n.is_finite() {
                out.push_str(&number_to_string(*n));
            } else {
                out.push_str("null");
            }
        }
        JsValue::String(s) => write_string(s, out),
        JsValue::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return true;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(depth + 1, out);
                if !write_json(item, depth + 1, out) {
                    out.push_str("null");
                }
            }
            newline(depth, out);
            out.push(']');
        }
        JsValue::Object(obj) => {
            let mut first = true;
            out.push('{');
            for (key, value) in obj.entries() {
                if matches!(value, JsValue::Undefined) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                newline(depth + 1, out);
                write_string(key, out);
                out.push_str(": ");
                write_json(value, depth + 1, out);
            }
            if !first {
                newline(depth, out);
            }
            out.push('}');
        }
    }
    true
}

fn newline(depth: usize, out: &mut String) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// JSON.stringify's string quoting.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_javascript() {
        for (n, s) in [
            (1.0, "1"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1.5e-7, "1.5e-7"),
            (1e21, "1e+21"),
            (1.25e21, "1.25e+21"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.000001, "0.000001"),
            (-42.5, "-42.5"),
            (100.0, "100"),
        ] {
            assert_eq!(number_to_string(n), s, "{n}");
        }
    }

    #[test]
    fn pretty_json_matches_json_stringify() {
        let mut inner = JsObject::default();
        inner.set("b".into(), JsValue::Array(vec![]));
        inner.set("u".into(), JsValue::Undefined);
        inner.set("e".into(), JsValue::Object(JsObject::default()));
        let mut obj = JsObject::default();
        obj.set("z".into(), JsValue::String("a\"\n\u{1}".into()));
        obj.set("10".into(), JsValue::Number(1.0));
        obj.set(
            "2".into(),
            JsValue::Array(vec![JsValue::Undefined, JsValue::Null]),
        );
        obj.set("in".into(), JsValue::Object(inner));
        let expected = "{\n  \"2\": [\n    null,\n    null\n  ],\n  \"10\": 1,\n  \"z\": \"a\\\"\\n\\u0001\",\n  \"in\": {\n    \"b\": [],\n    \"e\": {}\n  }\n}";
        assert_eq!(
            JsValue::Object(obj).to_json_pretty().as_deref(),
            Some(expected)
        );
    }

    #[test]
    fn set_keeps_position() {
        let mut obj = JsObject::default();
        obj.set("name".into(), JsValue::Undefined);
        obj.set("title".into(), JsValue::String("t".into()));
        obj.set("name".into(), JsValue::String("k".into()));
        assert_eq!(
            JsValue::Object(obj).to_json_pretty().as_deref(),
            Some("{\n  \"name\": \"k\",\n  \"title\": \"t\"\n}")
        );
    }
}
