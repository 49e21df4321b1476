//! Which apps a run works on: those named, or with `--all` every app Graph lists that holds a client certificate;
//! the others are listed apart and left alone (an app gets its first certificate only when named, or with
//! `--include-without-certificate`).

use super::*;

/// The ids to work on, in Graph's order, and the apps left alone.
pub(super) fn apps(
    client: &GraphClient,
    request: &GraphRotateRequest,
    interrupt: &crate::interrupt::Interrupt,
) -> Result<(Vec<Uuid>, Vec<AppRotation>)> {
    let mut ids: Vec<Uuid> = request.apps.clone();
    let mut left_alone = Vec::new();
    if request.all {
        // The listing's credential metadata (no keys) tells which apps hold a certificate credential.
        client.applications(
            request.filter.as_deref(),
            "id,appId,displayName,keyCredentials",
            crate::graph::MAX_PAGE,
            |page| {
                interrupt.check()?;
                for app in page {
                    let Some(id) = app.get("id").and_then(Value::as_str) else {
                        continue;
                    };
                    let Ok(id) = id.parse::<Uuid>() else { continue };
                    if request.include_without_certificate || holds_client_certificate(&app) {
                        ids.push(id);
                    } else {
                        let mut rotation =
                            AppRotation::nothing_yet(id.to_string(), AppAction::NoCertificate);
                        rotation.app_id = text(&app, "appId").unwrap_or_default();
                        rotation.display_name = text(&app, "displayName");
                        left_alone.push(rotation);
                    }
                }
                Ok(())
            },
        )?;
    }
    Ok((ids, left_alone))
}

/// Whether a listed application holds a client certificate credential: a `keyCredentials` entry that is not a
/// signing key (`usage` `Sign`).
fn holds_client_certificate(app: &Value) -> bool {
    key_credentials(app).iter().any(|k| {
        !k.get("usage")
            .and_then(Value::as_str)
            .is_some_and(|u| u.eq_ignore_ascii_case("Sign"))
    })
}
