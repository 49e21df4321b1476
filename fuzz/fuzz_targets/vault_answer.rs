//! What an Azure Key Vault answers (or whatever answers at --key-vault), and vault URLs: any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        keycred::fuzzing::vault_answer(text);
    }
});
