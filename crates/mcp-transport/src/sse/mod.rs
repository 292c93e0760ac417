//! Server-Sent Events: wire encoding, per-session stream table with history, response bodies.

pub(crate) mod body;
pub(crate) mod encode;
pub(crate) mod table;
