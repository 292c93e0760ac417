//! MCP protocol versions and version negotiation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A protocol version this crate supports.
///
/// Ordered by date, so `a < b` means `a` is older.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolVersion {
    /// `2024-11-05`: HTTP+SSE era; kept for negotiation with old clients.
    V2024_11_05,
    /// `2025-03-26`: Streamable HTTP, batching, completions.
    V2025_03_26,
    /// `2025-06-18`: no batching, `MCP-Protocol-Version` header, structured tool output.
    V2025_06_18,
    /// `2025-11-25`: icons, priming events, SSE polling, URL elicitation.
    V2025_11_25,
    /// `2026-07-28`: the first "modern" version: no `initialize`, no sessions; every request
    /// carries its version, client info and capabilities in `_meta` (see [`crate::modern`]).
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every supported version of both eras, newest first (the order used in error messages).
    pub const ALL: [ProtocolVersion; 5] = [
        Self::V2026_07_28,
        Self::V2025_11_25,
        Self::V2025_06_18,
        Self::V2025_03_26,
        Self::V2024_11_05,
    ];

    /// The versions `initialize` negotiates (the legacy era), newest first.
    pub const LEGACY: [ProtocolVersion; 4] = [
        Self::V2025_11_25,
        Self::V2025_06_18,
        Self::V2025_03_26,
        Self::V2024_11_05,
    ];

    /// The versions carried per request in `_meta` (the modern era), newest first.
    pub const MODERN: [ProtocolVersion; 1] = [Self::V2026_07_28];

    /// The newest legacy version: what `initialize` answers when a client asks for a version
    /// it does not know.
    pub const LATEST: ProtocolVersion = Self::V2025_11_25;

    /// The newest version of all.
    pub const NEWEST: ProtocolVersion = Self::V2026_07_28;

    /// The version to assume when a request carries no `MCP-Protocol-Version` header and the
    /// version cannot be known otherwise (2025-06-18 transport rules).
    pub const ASSUMED_WITHOUT_HEADER: ProtocolVersion = Self::V2025_03_26;

    /// The version's date string, e.g. `"2025-11-25"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Whether the version is of the modern era (per-request `_meta`, no sessions).
    pub const fn is_modern(self) -> bool {
        matches!(self, Self::V2026_07_28)
    }

    /// Parses a version string; `None` if it is not a supported version.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// `initialize`'s version negotiation: the requested version if it is a supported legacy
    /// version, otherwise the latest legacy one (a modern version is never negotiated: it needs
    /// no handshake).
    pub fn negotiate(requested: &str) -> Self {
        Self::LEGACY
            .into_iter()
            .find(|v| v.as_str() == requested)
            .unwrap_or(Self::LATEST)
    }

    /// The supported versions of both eras as a comma-separated list, newest first.
    pub fn supported_list() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }

    /// `resources/read` of an unknown resource: `-32002` up to 2025-11-25, `-32602` from
    /// 2026-07-28 on.
    pub fn resource_not_found_code(self) -> crate::ErrorCode {
        if self.is_modern() {
            crate::ErrorCode::INVALID_PARAMS
        } else {
            crate::ErrorCode::RESOURCE_NOT_FOUND
        }
    }

    /// JSON-RPC batches are allowed only at 2025-03-26 (removed in 2025-06-18; 2024-11-05 used
    /// another transport).
    pub fn allows_batching(self) -> bool {
        self == Self::V2025_03_26
    }

    /// Whether SSE streams start with a priming event (an id and empty data) and a `retry`
    /// field, as 2025-11-25 recommends (2026-07-28 has no resumable streams).
    pub fn sends_priming_event(self) -> bool {
        self == Self::V2025_11_25
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that is not supported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported protocol version: {0} (supported versions: {list})", list = ProtocolVersion::supported_list())]
pub struct UnsupportedVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnsupportedVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnsupportedVersion(s.to_owned()))
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_supported_and_falls_back_to_latest() {
        for v in ProtocolVersion::LEGACY {
            assert_eq!(ProtocolVersion::negotiate(v.as_str()), v);
        }
        // initialize never negotiates the modern era.
        assert_eq!(
            ProtocolVersion::negotiate("2026-07-28"),
            ProtocolVersion::V2025_11_25
        );
        assert!(ProtocolVersion::V2026_07_28.is_modern());
        assert!(!ProtocolVersion::LATEST.is_modern());
        assert_eq!(ProtocolVersion::negotiate(""), ProtocolVersion::LATEST);
    }

    #[test]
    fn ordering_and_features() {
        assert!(ProtocolVersion::V2024_11_05 < ProtocolVersion::V2025_11_25);
        assert!(ProtocolVersion::V2025_03_26.allows_batching());
        assert!(!ProtocolVersion::V2025_06_18.allows_batching());
        assert!(!ProtocolVersion::V2025_11_25.allows_batching());
        assert!(ProtocolVersion::V2025_11_25.sends_priming_event());
        assert!(!ProtocolVersion::V2025_06_18.sends_priming_event());
    }

    #[test]
    fn error_text_lists_versions() {
        let e = "1999-01-01".parse::<ProtocolVersion>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "Unsupported protocol version: 1999-01-01 (supported versions: 2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05)"
        );
    }

    #[test]
    fn serde_round_trip() {
        let v: ProtocolVersion = serde_json::from_str("\"2025-06-18\"").unwrap();
        assert_eq!(v, ProtocolVersion::V2025_06_18);
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"2025-06-18\"");
        assert!(serde_json::from_str::<ProtocolVersion>("\"x\"").is_err());
    }
}
