//! Parsing the values of flags: durations (`5m`, `5s`, `300ms`), byte sizes (`4MiB`), worker
//! counts (`auto` or a number).

use std::time::Duration;

/// Parses a duration: a number with a unit `ms`, `s`, `m`, `h` or `d`, or several of them
/// (`1m30s`). A bare number is seconds. Fractions are allowed (`1.5s`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return seconds(secs, text);
    }
    let mut total = 0.0_f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!(
                "invalid duration `{text}` (expected e.g. 300ms, 5s, 5m, 1h)"
            ));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("invalid number in duration `{text}`"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" => 86_400.0,
            unit => {
                return Err(format!(
                    "unknown unit `{unit}` in duration `{text}` (use ms, s, m, h or d)"
                ));
            }
        };
        total += number * factor;
        rest = &rest[unit_len..];
    }
    seconds(total, text)
}

fn seconds(secs: f64, text: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid duration `{text}`"))
}

/// Parses a byte size: a number (JavaScript `Number` syntax, so `1e6` works) with an optional
/// unit `B`, `K`/`KB`/`KiB`, `M`/`MB`/`MiB`, `G`/`GB`/`GiB` (all powers of 1024). Must be > 0.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid size `{text}` (expected bytes, e.g. 4194304 or 4MiB)"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("unknown size unit `{other}` in `{text}`")),
    };
    let bytes = (number * factor).floor();
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("size `{text}` must be at least 1 byte"));
    }
    Ok(bytes as u64)
}

/// Number of Node.js tool workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// One per CPU.
    Auto,
    /// A fixed number (at least 1).
    Count(usize),
}

impl Workers {
    /// The number of workers to start.
    pub fn resolve(self) -> usize {
        match self {
            Workers::Count(n) => n,
            Workers::Auto => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Parses `auto` or a positive number.
pub fn parse_workers(text: &str) -> Result<Workers, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("auto") {
        return Ok(Workers::Auto);
    }
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Workers::Count(n)),
        _ => Err(format!(
            "invalid worker count `{text}` (expected `auto` or a number >= 1)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("").is_err());
        assert!(
            parse_duration("5x")
                .unwrap_err()
                .contains("unknown unit `x`")
        );
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("1..2s").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("4194304"), Ok(4_194_304));
        assert_eq!(parse_bytes("4MiB"), Ok(4_194_304));
        assert_eq!(parse_bytes("4 MB"), Ok(4_194_304));
        assert_eq!(parse_bytes("1e6"), Ok(1_000_000));
        assert_eq!(parse_bytes("64k"), Ok(65_536));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("abc").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
    }

    #[test]
    fn workers() {
        assert_eq!(parse_workers("auto"), Ok(Workers::Auto));
        assert_eq!(parse_workers("3"), Ok(Workers::Count(3)));
        assert!(parse_workers("0").is_err());
        assert!(parse_workers("many").is_err());
        assert!(Workers::Auto.resolve() >= 1);
    }
}
