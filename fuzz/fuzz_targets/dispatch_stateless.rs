//! Scripted HTTP requests (see `sunpeak_fuzz::script`) through the stateless serverless
//! handler: no panic, and every response well-formed (`sunpeak_fuzz::check`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sunpeak_fuzz::dispatch::stateless(data));
