//! Graph's error bodies (`{"error": {"code", "message", "innerError": {"request-id", …}}}`) as keycred's error,
//! with what to do for the codes an admin meets.

use serde_json::Value;

use crate::error::Error;
use crate::words::{Input, Said};

/// The `error.code` of a Graph error body.
pub fn code(body: &Value) -> Option<String> {
    body.pointer("/error/code")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// What to do about a Graph error (its code, and for some its message), where keycred knows.
pub fn advice(code: &str, message: &str) -> Option<Said> {
    let text = match code {
        "Authorization_RequestDenied" => {
            "the token lacks the application permission: reading apps needs Application.Read.All, changing them \
             Application.ReadWrite.OwnedBy (apps the automation app owns) or Application.ReadWrite.All, granted \
             with admin consent; an app rolling its own keys needs none (--self)"
        }
        "Authentication_MissingOrMalformed" => {
            "Graph refused the proof: it must be signed by a certificate the app holds that is valid now, with the \
             app's object id (not its appId) as iss"
        }
        "InvalidAuthenticationToken" => {
            "Graph refused the bearer token: it must be an app-only token for this Graph host ({graph}/.default), \
             from the same cloud, and not expired"
        }
        "Request_ResourceNotFound" => {
            "no such application: --app takes the appId (Application (client) ID) or the object id, which differ \
             (the portal's Overview shows both)"
        }
        "KeyCredentialsInvalidEndDate" => {
            "a credential's end date is after its certificate's notAfter, or already past"
        }
        "CredentialInvalidLifetimeAsPerAppPolicy" => {
            return Some(crate::words::said!(
                format!(
                    "the tenant's app management policy{} limits certificate lifetimes: make the certificate with \
                     fewer ",
                    quoted(message).map(|id| format!(" {id}")).unwrap_or_default()
                ),
                Input::Days,
                " (graph rotate keeps within it by itself when its token has Policy.Read.All)"
            ))
        }
        "KeyCredentialsInvalidValue" => {
            "a credential was sent without its certificate (key): a new one must carry it, base64 DER"
        }
        "Request_BadRequest" if message.contains("Edm.Binary") => {
            "a credential's key is not base64: Graph takes the certificate's DER, base64, with no PEM armour"
        }
        "Request_BadRequest" if message.contains("trusted certificate authority") => {
            "the tenant accepts only certificates from a CA it trusts for this app: rotate it with --ca, and have \
             a CA its rules list issue the certificate"
        }
        "Request_BadRequest" if message.contains("Acceptable values are Sign, Verify") => {
            "a signing key (usage Sign) cannot be sent back by its keyId in a PATCH: rotate such an app with \
             --self, or in the portal"
        }
        "Directory_ResourceSizeExceeded" => {
            "the application holds too many items (about 1,000 across its credentials, secrets, URIs and roles): \
             retire what it no longer needs first (--prune-expired removes expired certificates)"
        }
        "CannotUpdateLockedServicePrincipalProperty" => {
            "the app's credentials are locked (app instance property lock): only its home tenant's admin can \
             unlock them, in the app's Authentication settings"
        }
        "Request_UnsupportedQuery" => {
            "Graph does not support this --filter: an advanced query needs a property Graph can filter on"
        }
        "TooManyRequests" | "ServiceUnavailable" => {
            "Graph is throttling or busy: run again later, or with fewer --jobs"
        }
        _ => return None,
    };
    Some(text.into())
}

/// The first '…'-quoted part of a message (the policy id Graph names), if it is an id.
fn quoted(message: &str) -> Option<&str> {
    let start = message.find('\'')? + 1;
    let end = start + message[start..].find('\'')?;
    let id = &message[start..end];
    crate::rules::safe_id(id).then_some(id)
}

/// The error for a Graph answer `status` with `body` to `what` (`PATCH /v1.0/applications/…`); `extra` says
/// why keycred stopped retrying.
pub fn graph_error(
    what: &str,
    status: u16,
    body: &Value,
    request_id: Option<&str>,
    extra: Option<String>,
) -> Error {
    let code = code(body).unwrap_or_else(|| format!("HTTP {status}"));
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("(no message)")
        .to_owned();
    let request_id = request_id.map(str::to_owned).or_else(|| {
        body.pointer("/error/innerError/request-id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let hint = match (advice(&code, &message), extra) {
        (Some(hint), Some(extra)) => Some(hint.after(format!("{extra}; "))),
        (None, Some(extra)) => Some(extra.into()),
        (hint, None) => hint,
    };
    Error::Graph(Box::new(crate::error::GraphFailure {
        what: what.to_owned(),
        status,
        code,
        message,
        request_id,
        hint,
    }))
}
