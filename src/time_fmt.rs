//! The one way keycred writes and reads instants.
//!
//! Entra manifests and Graph use RFC 3339 in UTC with a `Z` and whole seconds (`2027-11-21T10:00:00Z`);
//! certificates carry whole seconds too, so writing seconds only keeps the JSON equal to the certificate.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::error::{Error, Result};

/// Formats an instant as `YYYY-MM-DDTHH:MM:SSZ` in UTC.
pub fn rfc3339_utc(at: OffsetDateTime) -> String {
    let utc = at.to_offset(UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .expect("a UTC instant always formats")
}

/// Reads `--not-after`: RFC 3339 (`2027-11-21T10:00:00Z`), or a date (`2027-11-21`), which means the end of
/// that day in UTC (23:59:59Z), so the certificate is valid through the date given.
pub fn parse_instant(input: &str) -> Result<OffsetDateTime> {
    let trimmed = input.trim();
    if let Ok(at) = OffsetDateTime::parse(trimmed, &Rfc3339) {
        return Ok(at.to_offset(UtcOffset::UTC));
    }
    let date = Date::parse(trimmed, format_description!("[year]-[month]-[day]")).map_err(|_| {
        Error::Date {
            input: input.to_owned(),
        }
    })?;
    Ok(date
        .with_hms(23, 59, 59)
        .expect("23:59:59 is a valid time")
        .assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_utc_with_z_and_whole_seconds() {
        assert_eq!(
            rfc3339_utc(datetime!(2027-11-21 12:00:00.9 +02:00)),
            "2027-11-21T10:00:00Z"
        );
    }

    #[test]
    fn parses_dates_and_rfc3339() {
        assert_eq!(
            parse_instant("2027-11-21").unwrap(),
            datetime!(2027-11-21 23:59:59 UTC)
        );
        assert_eq!(
            parse_instant("2027-11-21T10:00:00+01:00").unwrap(),
            datetime!(2027-11-21 09:00:00 UTC)
        );
        for bad in ["", "tomorrow", "2027-13-01", "21/11/2027"] {
            let err = parse_instant(bad).unwrap_err().to_string();
            assert!(err.contains("YYYY-MM-DD"), "{bad}: {err}");
        }
    }
}
