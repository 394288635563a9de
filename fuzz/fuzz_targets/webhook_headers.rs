//! `cargo +nightly fuzz run webhook_headers`: see `ringhook::fuzzing::webhook_headers` for what the input means.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ringhook::fuzzing::webhook_headers(data);
});
