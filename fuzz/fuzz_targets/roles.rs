//! Roles files (JSON and TOML) and role templates: any text, as `manifest app-roles --roles-file` and
//! `--template-file` read it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        keycred::fuzzing::roles(text);
    }
});
