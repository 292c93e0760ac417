//! Scripted HTTP requests (see `sunpeak_fuzz::script`) through the stateful tower service:
//! sessions, concurrent requests, answers to the server's requests, DELETE, GET streams. No
//! panic, every response well-formed, nothing left in flight.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sunpeak_fuzz::dispatch::stateful(data));
