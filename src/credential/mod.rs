//! Keys and certificates: validated requests, generation, reading files from any tool, and thumbprints.

pub mod certificate;
pub mod chain;
pub mod issued;
pub mod key;
pub mod load;
pub mod pfx_work;
pub mod request;
pub mod subject;
pub mod thumbprint;

pub use certificate::{CertificateInfo, KeyKind, Status};
pub use key::{
    build_certificate, build_certificate_with, build_request, build_request_with, PrivateKey,
};
pub use load::{load, load_file, Encoding, Loaded};
pub use request::{CertRequest, KeySize, SignatureHash, ValidityEnd};
pub use subject::Subject;
pub use thumbprint::{ThumbprintForm, Thumbprints};
