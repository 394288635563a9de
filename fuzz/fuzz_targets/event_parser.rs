//! `cargo +nightly fuzz run event_parser`: see `ringhook::fuzzing::event_parser` for what the input means.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ringhook::fuzzing::event_parser(data);
});
