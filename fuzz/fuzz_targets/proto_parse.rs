//! mcp-proto on arbitrary bytes: a POST body as a JSON-RPC message or batch, each message as
//! the typed MCP request/notification/response it names, and the bytes as every MCP params
//! and client-result type. Asserts no panic, and that what we parse we can write back and
//! read again unchanged (the server echoes ids and forwards params).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sunpeak_fuzz::proto;

fuzz_target!(|data: &[u8]| {
    proto::body(data);
    proto::all_params(data);
    proto::version(data);
});
