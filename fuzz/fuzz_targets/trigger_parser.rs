//! `cargo +nightly fuzz run trigger_parser`: see `ringhook::fuzzing::trigger_parser` for what the input means.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ringhook::fuzzing::trigger_parser(data);
});
