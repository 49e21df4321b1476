//! App management policies and trusted-CA lists from Microsoft Graph (or from whatever answers at --graph-url):
//! any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        keycred::fuzzing::policy(text);
    }
});
