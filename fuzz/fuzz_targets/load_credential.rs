//! Certificate, key and PFX loading: any bytes, as `inspect`, `thumbprint`, `rotate --cert` and `import` read them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keycred::fuzzing::load_credential(data);
});
