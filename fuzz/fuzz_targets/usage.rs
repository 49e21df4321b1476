//! Entra's credential usage records from Microsoft Graph (or from whatever answers at --graph-url): any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        keycred::fuzzing::usage(text);
    }
});
