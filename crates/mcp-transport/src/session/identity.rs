//! Who a session belongs to: a keyed hash of the user the auth hook named.
//!
//! A session id that leaks (a log, a proxy, a shared screen) must be of no use to anyone
//! else. The binding is to the user, not to the OAuth client: many users reach the server
//! through one client (ChatGPT, Claude), so a `clientId` says which app, not who.

use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::AuthInfo;

/// A keyed hash of a user (see [`identity_of`]); equal for the same user and key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Identity(pub(crate) u64);

/// The key identities are hashed with. Instances that share sessions share it (a shared
/// store keeps it); otherwise it is random per process.
pub(crate) type IdentityKey = [u8; 32];

/// A random key.
pub(crate) fn random_key() -> IdentityKey {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}

/// The user of a request: its subject when the auth info names one (`extra.userId`,
/// `extra.sub`, or `sub`; a refreshed token of the same subject keeps its sessions), else its
/// `token`, else its `clientId` (a hook that returns no token). `None` without auth or
/// without any of them.
pub(crate) fn identity_of(key: &IdentityKey, auth: Option<&AuthInfo>) -> Option<Identity> {
    let (kind, who) = user_of(auth?)?;
    let mut h = Sha256::new();
    h.update(key);
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(who.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    Some(Identity(u64::from_le_bytes(first)))
}

/// The user of a request as text (`subject:<s>`, `token:<t>` or `clientId:<c>`), for
/// binding something a client holds to its user; see [`identity_of`] for the order.
pub(crate) fn user_text(auth: Option<&AuthInfo>) -> Option<String> {
    let (kind, who) = user_of(auth?)?;
    Some(format!("{kind}:{who}"))
}

fn user_of(auth: &AuthInfo) -> Option<(&'static str, String)> {
    let value = auth.value();
    let extra = value.get("extra");
    let subject = [
        extra.and_then(|e| e.get("userId")),
        extra.and_then(|e| e.get("sub")),
        value.get("sub"),
    ]
    .into_iter()
    .flatten()
    .find_map(text);
    Some(match subject {
        Some(s) => ("subject", s),
        None => match (auth.token(), auth.client_id()) {
            (Some(t), _) => ("token", t.to_owned()),
            (None, Some(c)) => ("clientId", c.to_owned()),
            (None, None) => return None,
        },
    })
}

/// A subject as text: a non-empty string, or a number.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Identities(IdentityKey);
    impl Identities {
        fn default() -> Self {
            Self(random_key())
        }
        fn of(&self, auth: Option<&AuthInfo>) -> Option<Identity> {
            identity_of(&self.0, auth)
        }
    }

    fn of(ids: &Identities, v: Value) -> Option<Identity> {
        ids.of(Some(&AuthInfo::new(v)))
    }

    #[test]
    fn users_of_one_client_are_different_identities() {
        let ids = Identities::default();
        let alice = of(&ids, json!({"token": "t-alice", "clientId": "chatgpt"}));
        let bob = of(&ids, json!({"token": "t-bob", "clientId": "chatgpt"}));
        assert!(alice.is_some());
        assert_ne!(alice, bob);
    }

    #[test]
    fn a_refreshed_token_of_the_same_subject_is_the_same_identity() {
        let ids = Identities::default();
        let before = of(
            &ids,
            json!({"token": "t1", "clientId": "c", "extra": {"userId": "u1"}}),
        );
        let after = of(
            &ids,
            json!({"token": "t2", "clientId": "c", "extra": {"userId": "u1"}}),
        );
        let other = of(
            &ids,
            json!({"token": "t2", "clientId": "c", "extra": {"userId": "u2"}}),
        );
        assert_eq!(before, after);
        assert_ne!(before, other);
        let sub = of(&ids, json!({"token": "t3", "extra": {"sub": 42}}));
        assert_eq!(sub, of(&ids, json!({"token": "t4", "extra": {"sub": 42}})));
        assert_eq!(
            of(&ids, json!({"token": "a", "sub": "s"})),
            of(&ids, json!({"token": "b", "sub": "s"}))
        );
    }

    #[test]
    fn fallbacks_and_none() {
        let ids = Identities::default();
        assert_eq!(ids.of(None), None);
        assert_eq!(of(&ids, json!({})), None);
        let c = of(&ids, json!({"clientId": "c"}));
        assert!(c.is_some());
        // A token equal to a client id is still another identity.
        assert_ne!(c, of(&ids, json!({"token": "c"})));
        // An empty subject is no subject.
        assert_ne!(
            of(&ids, json!({"token": "a", "extra": {"userId": ""}})),
            of(&ids, json!({"token": "b", "extra": {"userId": ""}}))
        );
        // Another process (another key) gives other hashes.
        let other = Identities::default();
        assert_ne!(
            of(&ids, json!({"token": "a"})),
            of(&other, json!({"token": "a"}))
        );
    }
}
