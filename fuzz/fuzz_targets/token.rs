//! A token given to `decode` (anyone's) and a JWKS to check it with: any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        keycred::fuzzing::token(text);
    }
});
