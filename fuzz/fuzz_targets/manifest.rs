//! Manifest parsing and editing: any text, through reading, checking, role merging, rotation planning and
//! rendering, as `check`, `rotate` and `manifest app-roles --merge` do.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        keycred::fuzzing::manifest(text);
    }
});
