//! The validated request for a new certificate credential.
//!
//! Command-line flags and wizard answers are raw data; [`CertRequest::new`] is the one step that checks them
//! and fixes every security-relevant field explicitly (validity, key size, signature hash, serial, subject), so
//! nothing is left to a library default. The clock and the serial number come in as parameters, which keeps
//! this step deterministic under test.

use time::{Duration, OffsetDateTime};

use super::subject::Subject;
use crate::error::{Error, Result};
use crate::words::Input;

/// How far back the certificate's not-before is set, so a token endpoint whose clock runs slightly behind ours
/// does not see a certificate that is not valid yet.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Microsoft's recommended maximum lifetime for an app credential; longer is allowed with a warning.
pub const RECOMMENDED_MAX_DAYS: i64 = 365;

/// The default validity in days.
pub const DEFAULT_DAYS: u32 = 365;

/// The longest validity keycred writes (about 100 years), a guard against typos and date overflow.
pub const MAX_DAYS: u32 = 36_525;

/// RSA modulus sizes keycred generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySize {
    /// 2048 bits, the default and Entra's minimum.
    Rsa2048,
    /// 3072 bits.
    Rsa3072,
    /// 4096 bits.
    Rsa4096,
}

impl KeySize {
    /// Accepts 2048, 3072 or 4096; anything else is refused with the sizes that are offered.
    pub fn from_bits(bits: u32) -> Result<KeySize> {
        match bits {
            2048 => Ok(KeySize::Rsa2048),
            3072 => Ok(KeySize::Rsa3072),
            4096 => Ok(KeySize::Rsa4096),
            other => Err(Error::KeySize(other)),
        }
    }

    /// The modulus size in bits.
    pub fn bits(self) -> u32 {
        match self {
            KeySize::Rsa2048 => 2048,
            KeySize::Rsa3072 => 3072,
            KeySize::Rsa4096 => 4096,
        }
    }
}

/// The hash of the certificate's RSA PKCS#1 v1.5 signature. SHA-1 is not offered: Entra rejects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureHash {
    /// sha256WithRSAEncryption, the default.
    Sha256,
    /// sha384WithRSAEncryption.
    Sha384,
    /// sha512WithRSAEncryption.
    Sha512,
}

impl SignatureHash {
    pub(crate) fn rcgen_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            SignatureHash::Sha256 => &rcgen::PKCS_RSA_SHA256,
            SignatureHash::Sha384 => &rcgen::PKCS_RSA_SHA384,
            SignatureHash::Sha512 => &rcgen::PKCS_RSA_SHA512,
        }
    }
}

/// How the end of the validity period was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidityEnd {
    /// A number of days after not-before.
    Days(u32),
    /// An explicit not-after instant.
    NotAfter(OffsetDateTime),
}

/// Everything needed to build a self-signed certificate, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRequest {
    /// The subject, also the issuer (self-signed).
    pub subject: Subject,
    /// The RSA key size.
    pub key_size: KeySize,
    /// The signature hash.
    pub hash: SignatureHash,
    /// Start of validity (now minus [`CLOCK_SKEW`], whole seconds).
    pub not_before: OffsetDateTime,
    /// End of validity (whole seconds).
    pub not_after: OffsetDateTime,
    /// The serial number: 16 random bytes with the top bit cleared, so the DER INTEGER is positive.
    pub serial: [u8; 16],
}

impl CertRequest {
    /// Checks the validity period and fixes every field. `now` and `serial` are injected by the caller.
    pub fn new(
        subject: Subject,
        key_size: KeySize,
        hash: SignatureHash,
        end: ValidityEnd,
        now: OffsetDateTime,
        mut serial: [u8; 16],
    ) -> Result<CertRequest> {
        let not_before = (now - CLOCK_SKEW)
            .replace_nanosecond(0)
            .expect("zero nanoseconds is always valid");
        let not_after = match end {
            ValidityEnd::Days(0) => {
                return Err(Error::Validity(crate::words::said!(
                    Input::Days,
                    " 0 gives a certificate that is never valid: use 1 or more (default 365)"
                )))
            }
            ValidityEnd::Days(days) if days > MAX_DAYS => {
                return Err(Error::Validity(crate::words::said!(
                    Input::Days,
                    format!(
                        " {days} is more than {MAX_DAYS} (about 100 years); Microsoft recommends at most 365"
                    )
                )))
            }
            ValidityEnd::Days(days) => not_before + Duration::days(i64::from(days)),
            ValidityEnd::NotAfter(at) => {
                let at = at
                    .to_offset(time::UtcOffset::UTC)
                    .replace_nanosecond(0)
                    .expect("zero nanoseconds is always valid");
                if at <= not_before {
                    return Err(Error::Validity(crate::words::said!(
                        Input::NotAfter,
                        format!(
                            " {} is not after the start of validity {} (now minus 5 minutes): the certificate \
                             would end before it starts",
                            crate::time_fmt::rfc3339_utc(at),
                            crate::time_fmt::rfc3339_utc(not_before)
                        )
                    )));
                }
                if at > not_before + Duration::days(i64::from(MAX_DAYS)) {
                    return Err(Error::Validity(crate::words::said!(
                        Input::NotAfter,
                        format!(
                            " {} is more than {MAX_DAYS} days away; Microsoft recommends at most 365",
                            crate::time_fmt::rfc3339_utc(at)
                        )
                    )));
                }
                at
            }
        };
        serial[0] &= 0x7f;
        if serial.iter().all(|b| *b == 0) {
            serial[15] = 1;
        }
        Ok(CertRequest {
            subject,
            key_size,
            hash,
            not_before,
            not_after,
            serial,
        })
    }

    /// Advice that does not stop the run, such as a validity beyond Microsoft's recommended year.
    pub fn warnings(&self) -> Vec<String> {
        let days = (self.not_after - self.not_before).whole_days();
        let mut warnings = Vec::new();
        if days > RECOMMENDED_MAX_DAYS {
            warnings.push(format!(
                "validity is {days} days; Microsoft recommends certificate credentials of at most {RECOMMENDED_MAX_DAYS} days"
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn request(end: ValidityEnd) -> Result<CertRequest> {
        CertRequest::new(
            Subject::parse("Daemon").unwrap(),
            KeySize::Rsa2048,
            SignatureHash::Sha256,
            end,
            datetime!(2026-11-21 10:00:00.75 UTC),
            [0xff; 16],
        )
    }

    #[test]
    fn default_validity_is_a_year_from_five_minutes_ago() {
        let req = request(ValidityEnd::Days(365)).unwrap();
        assert_eq!(req.not_before, datetime!(2026-11-21 09:55:00 UTC));
        assert_eq!(req.not_after, datetime!(2027-11-21 09:55:00 UTC));
        assert!(req.warnings().is_empty());
        assert_eq!(
            req.serial[0], 0x7f,
            "top bit cleared so the serial is positive"
        );
    }

    #[test]
    fn long_validity_warns_but_is_allowed() {
        let req = request(ValidityEnd::Days(730)).unwrap();
        assert_eq!(req.warnings().len(), 1);
        assert!(req.warnings()[0].contains("730 days"));
    }

    #[test]
    fn empty_or_reversed_validity_is_refused() {
        let zero = request(ValidityEnd::Days(0)).unwrap_err().to_string();
        assert!(zero.contains("--days 0"), "{zero}");
        let before = request(ValidityEnd::NotAfter(datetime!(2026-11-20 00:00 UTC)))
            .unwrap_err()
            .to_string();
        assert!(before.contains("would end before it starts"), "{before}");
        let huge = request(ValidityEnd::Days(MAX_DAYS + 1))
            .unwrap_err()
            .to_string();
        assert!(huge.contains("about 100 years"), "{huge}");
    }

    #[test]
    fn key_sizes_outside_the_offer_are_refused() {
        assert_eq!(KeySize::from_bits(3072).unwrap(), KeySize::Rsa3072);
        for bits in [0, 1024, 2047, 2049, 8192] {
            let err = KeySize::from_bits(bits).unwrap_err().to_string();
            assert!(
                err.contains(&bits.to_string()) && err.contains("2048"),
                "{err}"
            );
        }
    }

    #[test]
    fn not_after_in_another_offset_is_normalised_to_utc() {
        let req = request(ValidityEnd::NotAfter(
            datetime!(2027-01-01 12:00:00.5 +02:00),
        ))
        .unwrap();
        assert_eq!(req.not_after, datetime!(2027-01-01 10:00:00 UTC));
    }
}
