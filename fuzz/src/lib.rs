//! Shared code of the fuzz targets (see `docs/fuzzing.md`): the checks on mcp-proto, the
//! scripted-request input format of the dispatch targets, the server they run against, and
//! the invariants every response must satisfy.

pub mod body;
pub mod check;
pub mod dispatch;
pub mod proto;
pub mod script;
pub mod server;
