//! Support for the `sunpeak start` end-to-end tests (`tests/start_*.rs`): a raw HTTP client
//! ([`http`]), a minimal MCP client on top of it ([`mcp`]), and running our server or the npm
//! package's ([`server`]).

pub mod clients;
pub mod http;
pub mod mcp;
pub mod server;
pub mod snapshot;
