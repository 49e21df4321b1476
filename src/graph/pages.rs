//! Following a listing's pages: `@odata.nextLink` only to the Graph URL's origin, and never the same link twice.

use serde_json::Value;

use crate::error::{Error, Result};

/// The pages of one listing: each `@odata.nextLink` is followed only to the origin (scheme, host and port) of the
/// Graph URL keycred was given, since it carries the bearer token, and never twice, since a link that comes back
/// would page for ever.
pub(crate) struct Pages {
    origin: Option<Origin>,
    seen: std::collections::HashSet<String>,
}

/// A URL's origin, as the browser's same-origin rule compares it; a URL with a user-info part has none.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of(url: &str) -> Option<Origin> {
        let uri: ureq::http::Uri = url.parse().ok()?;
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let port = match (authority.port_u16(), scheme.as_str()) {
            (Some(port), _) => port,
            (None, "https") => 443,
            (None, "http") => 80,
            _ => return None,
        };
        Some(Origin {
            host: authority.host().to_ascii_lowercase(),
            scheme,
            port,
        })
    }
}

impl Pages {
    pub(crate) fn new(base: &str) -> Pages {
        Pages {
            origin: Origin::of(base),
            seen: std::collections::HashSet::new(),
        }
    }

    /// The next page's URL from a page's body, checked; `None` on the last page.
    pub(crate) fn next(&mut self, body: &Value) -> Result<Option<String>> {
        let Some(link) = body.get("@odata.nextLink") else {
            return Ok(None);
        };
        // Shown quoted, its control characters escaped: it is Graph's text, not ours.
        let shown = link.to_string();
        let Some(link) = link.as_str() else {
            return Err(Error::Network(format!(
                "Graph's page has an @odata.nextLink that is not a URL ({shown}); the scan stopped there"
            )));
        };
        if self.origin.is_none() || Origin::of(link) != self.origin {
            return Err(Error::Network(format!(
                "Graph's page names an @odata.nextLink on another origin than --graph-url ({shown}): keycred sends \
                 its token only to the Graph URL it was given, so the scan stopped there"
            )));
        }
        if !self.seen.insert(link.to_owned()) {
            return Err(Error::Network(format!(
                "Graph's page names an @odata.nextLink it named before ({shown}): following it again would page for \
                 ever, so the scan stopped there"
            )));
        }
        Ok(Some(link.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_stay_on_the_graph_origin() {
        let mut pages = Pages::new("http://127.0.0.1:4000");
        let next = |pages: &mut Pages, link: &str| {
            pages.next(&serde_json::json!({"@odata.nextLink": link}))
        };
        assert!(next(
            &mut pages,
            "http://127.0.0.1:4000/v1.0/applications?$skiptoken=1"
        )
        .is_ok());
        for other in [
            "http://127.0.0.1:40001/v1.0/applications",
            "http://127.0.0.1:4001/v1.0/applications",
            "https://127.0.0.1:4000/v1.0/applications",
            "http://localhost:4000/v1.0/applications",
            "http://127.0.0.1:4000@evil.example/v1.0/applications",
            "//127.0.0.1:4000/v1.0/applications",
            "/v1.0/applications",
        ] {
            let error = next(&mut pages, other).unwrap_err().to_string();
            assert!(error.contains("another origin"), "{other}: {error}");
        }
        let again = next(
            &mut pages,
            "http://127.0.0.1:4000/v1.0/applications?$skiptoken=1",
        );
        assert!(again.unwrap_err().to_string().contains("named before"));
        let mut public = Pages::new("https://graph.microsoft.com");
        assert!(next(
            &mut public,
            "https://graph.microsoft.com:443/v1.0/applications?$skiptoken=x"
        )
        .is_ok());
        assert!(next(&mut public, "http://graph.microsoft.com/v1.0/applications").is_err());
        assert!(next(
            &mut public,
            "https://graph.microsoft.com.evil.example/v1.0/applications"
        )
        .is_err());
        assert_eq!(public.next(&serde_json::json!({})).unwrap(), None);
    }
}
