//! `requestState` of an `input_required` result: what the server needs to go on when the
//! client retries (the answers so far), signed so that a client cannot change it.
//!
//! The state is `base64url(json) "." base64url(HMAC-SHA256(key, json))`. The JSON names the
//! method and a digest of the request's own params, so a state cannot be moved to another
//! request, and the user it was issued to, so it cannot be moved to another user. Instances
//! that serve the same clients must share the key (`--state-key`); a state signed with another
//! key is refused like a tampered one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The key request states are signed with.
#[derive(Clone)]
pub struct StateKey([u8; 32]);

impl StateKey {
    /// A key from secret bytes of any length (hashed to 32 bytes).
    pub fn from_secret(secret: &[u8]) -> Self {
        Self(Sha256::digest(secret).into())
    }

    /// A random key: fine for one instance; instances behind one load balancer need one
    /// shared key instead.
    pub fn random() -> Self {
        Self(crate::session::identity::random_key())
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.0, data)
    }
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(..)")
    }
}

/// HMAC-SHA256 (RFC 2104) of `data` with a 32-byte key.
fn hmac_sha256(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// What a request state holds.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RequestState {
    /// Format version.
    pub(crate) v: u8,
    /// The method of the request it belongs to.
    pub(crate) m: String,
    /// Digest of the request's params (without `_meta`, `inputResponses`, `requestState`).
    pub(crate) p: String,
    /// Digest of the user (empty without auth).
    pub(crate) u: String,
    /// The client's answers so far, by input request key.
    pub(crate) a: Map<String, Value>,
}

/// Why a request state was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    #[error("requestState is malformed")]
    Malformed,
    #[error("requestState failed verification")]
    BadSignature,
    #[error("requestState belongs to another request")]
    WrongRequest,
    #[error("inputResponses must be an object")]
    BadResponses,
}

/// A digest of the parts of params that say what is being asked, hex (16 bytes).
pub(crate) fn params_digest(method: &str, params: Option<&Value>) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    if let Some(Value::Object(p)) = params {
        // serde_json's Map is ordered by key, so the text is canonical.
        let own: Map<String, Value> = p
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "_meta" | "inputResponses" | "requestState"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        h.update(serde_json::to_vec(&own).unwrap_or_default());
    }
    hex16(&h.finalize())
}

/// A digest of the user, hex (16 bytes); empty without one.
pub(crate) fn user_digest(user: Option<&str>) -> String {
    user.map(|u| hex16(&Sha256::digest(u.as_bytes())))
        .unwrap_or_default()
}

fn hex16(bytes: &[u8]) -> String {
    bytes[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl RequestState {
    /// The signed text.
    pub(crate) fn seal(&self, key: &StateKey) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let mac = key.mac(&json);
        format!("{}.{}", B64.encode(&json), B64.encode(mac))
    }

    /// Verifies and reads a state, checking that it belongs to this method, params and user.
    pub(crate) fn open(
        text: &str,
        key: &StateKey,
        method: &str,
        params_digest: &str,
        user_digest: &str,
    ) -> Result<Self, StateError> {
        let (body, mac) = text.split_once('.').ok_or(StateError::Malformed)?;
        let json = B64.decode(body).map_err(|_| StateError::Malformed)?;
        let mac = B64.decode(mac).map_err(|_| StateError::Malformed)?;
        let expected = key.mac(&json);
        if !constant_time_eq(&mac, &expected) {
            return Err(StateError::BadSignature);
        }
        let state: RequestState =
            serde_json::from_slice(&json).map_err(|_| StateError::Malformed)?;
        if state.v != 1 || state.m != method || state.p != params_digest || state.u != user_digest {
            return Err(StateError::WrongRequest);
        }
        Ok(state)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hmac_matches_a_known_answer() {
        // Known answer from Python's `hmac` module: key = 32 x 0x0b, data = "Hi There".
        let key = [0x0bu8; 32];
        let mac = hmac_sha256(&key, b"Hi There");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
    }

    #[test]
    fn round_trip_and_tampering() {
        let key = StateKey::from_secret(b"k");
        let p = params_digest("tools/call", Some(&json!({"name": "t", "_meta": {}})));
        let state = RequestState {
            v: 1,
            m: "tools/call".into(),
            p: p.clone(),
            u: String::new(),
            a: Map::from_iter([("r0".to_owned(), json!({"action": "accept"}))]),
        };
        let text = state.seal(&key);
        let back = RequestState::open(&text, &key, "tools/call", &p, "").unwrap();
        assert_eq!(back, state);

        // Another key, another request, another user, a changed byte: all refused.
        let other = StateKey::from_secret(b"other");
        assert_eq!(
            RequestState::open(&text, &other, "tools/call", &p, ""),
            Err(StateError::BadSignature)
        );
        assert_eq!(
            RequestState::open(&text, &key, "prompts/get", &p, ""),
            Err(StateError::WrongRequest)
        );
        let q = params_digest("tools/call", Some(&json!({"name": "u"})));
        assert_eq!(
            RequestState::open(&text, &key, "tools/call", &q, ""),
            Err(StateError::WrongRequest)
        );
        assert_eq!(
            RequestState::open(&text, &key, "tools/call", &p, &user_digest(Some("x"))),
            Err(StateError::WrongRequest)
        );
        let mut bytes = text.into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(RequestState::open(&tampered, &key, "tools/call", &p, "").is_err());
        assert_eq!(
            RequestState::open("garbage", &key, "tools/call", &p, ""),
            Err(StateError::Malformed)
        );
        // _meta and the MRTR members do not change the digest.
        assert_eq!(
            p,
            params_digest(
                "tools/call",
                Some(&json!({"name": "t", "requestState": "x", "inputResponses": {}}))
            )
        );
    }
}
