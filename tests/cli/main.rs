//! keycred's integration tests: the real binary end to end, snapshots of its renderers, and independent
//! verification of its output by OpenSSL 3, Java keytool and Python `cryptography`.

mod common;
mod inspect;
mod key_credentials;
mod new;
mod peers;
mod snapshots;
mod thumbprint;
