//! `cargo +nightly fuzz run condition_eval`: see `ringhook::fuzzing::condition_eval` for what the input means.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ringhook::fuzzing::condition_eval(data);
});
