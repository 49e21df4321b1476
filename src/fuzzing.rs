//! Entry points for the fuzz targets in `fuzz/` and for the regression tests that replay their corpus: each
//! feeds one outside input through every parser and editor that reads it, exactly as the commands do.
//!
//! None of them may panic, whatever the input; where keycred's own output must read back (a rendered
//! manifest), they assert it. Not part of the supported API.

use std::path::Path;

use serde_json::{json, Value};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::credential;
use crate::manifest::app_roles::{IdPolicy, RoleSet, RoleSpec};
use crate::manifest::existing::{describe_duplicate_key_ids, duplicate_key_ids};
use crate::manifest::{roles_source, Manifest, ManifestFormat};
use crate::rotation::{self, Candidate, Policy};
use crate::secret::Password;

const NOW: OffsetDateTime = datetime!(2027-01-01 12:00 UTC);

/// Certificate, key and PFX loading (`inspect`, `thumbprint`, `rotate --cert`, `--current-pfx`).
pub fn load_credential(data: &[u8]) {
    // What a CA returns (`keycred import`): DER, PEM, chains, PKCS#7.
    if let Ok(certs) = credential::issued::certificates_in(Path::new("fuzz"), data) {
        for cert in &certs {
            let _ = cert.entra_problems();
        }
    }
    let Ok(loaded) = credential::load(Path::new("fuzz"), data, || Ok(Password::new("fuzz".into())))
    else {
        return;
    };
    for cert in &loaded.certificates {
        // A name is someone else's text: never a line break or an escape sequence of its own.
        for name in [&cert.subject, &cert.issuer] {
            assert!(!name.chars().any(char::is_control), "{name:?}");
        }
        let _ = cert.entra_problems();
        let _ = cert.status(NOW);
        let _ = cert.days_left(NOW);
        for form in [
            credential::ThumbprintForm::Hex,
            credential::ThumbprintForm::Base64,
            credential::ThumbprintForm::X5t,
            credential::ThumbprintForm::Sha256Hex,
            credential::ThumbprintForm::X5tS256,
        ] {
            let _ = cert.thumbprints.render(form);
        }
        if let Some(key) = &loaded.key {
            let _ = key.matches(cert);
        }
    }
    let _ = crate::report::inspect_text(std::slice::from_ref(&loaded), NOW);
    let _ = crate::report::inspect_json(std::slice::from_ref(&loaded), NOW);
}

/// Manifest reading, checking, role merging, rotation planning and rendering (`check`, `rotate`,
/// `manifest app-roles --merge`). A manifest keycred has edited must read back as what it rendered.
pub fn manifest(text: &str) {
    for format in [
        None,
        Some(ManifestFormat::Graph),
        Some(ManifestFormat::Legacy),
    ] {
        let Ok(mut manifest) = Manifest::parse(text, "fuzz", format) else {
            continue;
        };
        numbers_kept(text, &Value::Object(manifest.root().clone()));
        let _ = manifest.role_summaries();
        let _ = manifest.scope_values();
        if let Ok(existing) = manifest.key_credentials() {
            let _ = describe_duplicate_key_ids(&duplicate_key_ids(&existing));
            let _ = rotation::verdict(&existing, NOW, Duration::days(30));
            // The current credential is among those ending last, and what it replaced is another, no newer.
            if let Some(current) = rotation::current(&existing, NOW) {
                assert!(rotation::ending_last(&existing, NOW).any(|i| i == current));
                for newest in rotation::ending_last(&existing, NOW) {
                    if let Some(before) = rotation::replaced(&existing, newest, NOW) {
                        assert!(before != newest && existing[before].end <= existing[newest].end);
                    }
                }
            } else {
                assert_eq!(rotation::ending_last(&existing, NOW).count(), 0);
            }
            let candidate = Candidate {
                thumbprint: Some([0xAB; 20]),
                start: NOW - Duration::minutes(5),
                end: NOW + Duration::days(365),
            };
            let policy = Policy {
                renew_within: Some(Duration::days(30)),
                prune_expired: true,
                keep: Some(2),
                remove_key_ids: Vec::new(),
            };
            if let Ok(plan) = rotation::plan(&existing, Some(&candidate), NOW, &policy) {
                let mut rotated = manifest.clone();
                if rotation::apply_plan(&mut rotated, &plan, Some(json!({"keyId": "new"}))).is_ok()
                {
                    round_trip(&rotated);
                }
            }
            for credential in &existing {
                let _ = manifest.clone().set_key_id(credential.index, Uuid::nil());
            }
        }
        let spec = RoleSpec {
            value: "Fuzz.Read".into(),
            ..RoleSpec::default()
        };
        if let Ok(set) = RoleSet::build(
            vec![spec],
            IdPolicy::Stable(Uuid::nil()),
            &manifest.existing_roles(),
        ) {
            let mut merged = manifest.clone();
            if merged.merge_roles(Some(&set), &[], &[]).is_ok() {
                round_trip(&merged);
            }
        }
        let _ = manifest
            .clone()
            .merge_roles(None, &["Fuzz.Read".into()], &["Fuzz.Read".into()]);
        if manifest.add_identifier_uri("api://fuzz").is_ok() {
            round_trip(&manifest);
        }
    }
}

/// Every number keycred read is the number as the input wrote it, digit for digit (`arbitrary_precision`):
/// a manifest keycred rewrites must not turn `12345678901234567890123` into `1.2345678901234568e22`. Only the
/// spelling of an exponent may change (serde_json writes `5e44` and `5E+44` as `5e+44`): the same digits, the
/// same value.
fn numbers_kept(text: &str, value: &Value) {
    fn spelled(number: &str) -> String {
        number.to_ascii_lowercase().replace("e+", "e")
    }
    fn walk(input: &str, value: &Value) {
        match value {
            Value::Number(n) => assert!(
                input.contains(&spelled(&n.to_string())),
                "the number {n} is not written so in the input: its digits changed"
            ),
            Value::Array(items) => items.iter().for_each(|v| walk(input, v)),
            Value::Object(map) => map.values().for_each(|v| walk(input, v)),
            _ => {}
        }
    }
    walk(&spelled(text), value);
}

/// What keycred renders parses back to the same document.
fn round_trip(manifest: &Manifest) {
    let rendered = manifest.render();
    let again = crate::input::parse_json(&rendered, "rendered")
        .unwrap_or_else(|e| panic!("keycred's own manifest does not parse: {e}"));
    assert_eq!(again.as_object(), Some(manifest.root()));
}

/// Batch plans (`keycred batch PLAN`), and the same text as a `--subject`.
pub fn plan(text: &str) {
    let _ = crate::batch::parse_plan(text, "plan.toml", Path::new("/fuzz"));
    // A plan's subject (and one taken from an app's newest credential): its escapes never make a control
    // character, or a subject without a common name.
    if let Ok(subject) = credential::Subject::parse(text) {
        for (_, value) in subject.attributes() {
            assert!(!value.chars().any(char::is_control), "{value:?}");
        }
        let _ = subject.common_name();
    }
}

/// A page of applications as Graph answers `GET /applications` (or anything in its place): its `@odata.nextLink`
/// checked against the Graph origins keycred may be given, and each application summarized and judged as the
/// tenant scan does.
pub fn graph_page(text: &str) {
    let Ok(page) = crate::input::parse_json(text, "page") else {
        return;
    };
    for base in [
        "https://graph.microsoft.com",
        "http://127.0.0.1:4000",
        "http://[::1]:8080",
    ] {
        let mut pages = crate::graph::Pages::new(base);
        if let Ok(Some(next)) = pages.next(&page) {
            // A link followed once is refused the second time.
            assert!(pages.next(&page).is_err(), "{next} was followed twice");
        }
    }
    for app in page
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Ok(mut summary) =
            crate::workflow::tenant::summarize(app.clone(), NOW, Duration::days(30))
        {
            let text = crate::report::tenant::app_text(&summary, NOW, Duration::days(30));
            // Whatever the page holds, the app is one line, its credentials and notes indented under it.
            assert!(
                text.lines().skip(1).all(|line| line.starts_with("  ")),
                "{text}"
            );
            let _ = rotation::verdict(&summary.certificates, NOW, Duration::days(30));
            // The page's objects as the app's owners (an owners answer is a page of directory objects), shown
            // in each form.
            let listed = page.get("value").and_then(Value::as_array);
            summary.owners = listed.map(|v| {
                v.iter()
                    .map(crate::workflow::app_relations::owner)
                    .collect()
            });
            summary.federated_credentials = listed.map(Vec::len);
            let _ = crate::report::tenant::app_text(&summary, NOW, Duration::days(30));
            let _ = crate::report::tenant::apps_csv_rows(&summary, NOW, Duration::days(30));
            let _ = crate::report::tenant::apps_json_entry(&summary, NOW, Duration::days(30), true);
        }
    }
    // The same page as a round of applications/delta, merged into the saved apps (twice: a change of what it
    // added), and each merged app judged.
    let items = page
        .get("value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut apps = serde_json::Map::new();
    for _ in 0..2 {
        let (changed, removed) = crate::workflow::scan_state::merge_round(&mut apps, items.clone());
        assert!(changed + removed <= items.len());
    }
    for app in apps.values() {
        let _ = crate::workflow::tenant::summarize(app.clone(), NOW, Duration::days(30));
    }
    // And each object as a service principal: its credentials grouped and judged, and rendered.
    for sp in &items {
        let grouped = crate::signing::group(sp, NOW, Duration::days(30));
        let _ = crate::report::service_principal::sp_text(&grouped, NOW, Duration::days(30));
    }
    // And as Graph's answer to a refused request: its error on one line, keycred's hint on the next.
    for status in [400, 403, 429] {
        let said = crate::graph::graph_error("GET /v1.0/applications", status, &page, None, None);
        assert_hint_alone_below(&said.to_string());
    }
    // And as a $batch answer: each item found by its id, its headers read.
    for index in 0..=crate::graph::MAX_BATCH {
        if let Some(item) = crate::graph::batch_item(&page, index) {
            let _ = crate::graph::batch_header(item, "retry-after");
            let _ = crate::graph::batch_header(item, "x-ms-throttle-limit-percentage");
        }
    }
}

/// App management policies as Graph answers them (the tenant default, or an assigned one; or a list of a
/// configuration's trusted CAs), and the ISO 8601 durations they hold: the rules read for an app of any age, and
/// a certificate checked against any CAs they list.
pub fn policy(text: &str) {
    let Ok(value) = crate::input::parse_json(text, "policy") else {
        let _ = crate::rules::iso_duration(text);
        return;
    };
    for created in [None, Some(NOW), Some(NOW - Duration::days(3650))] {
        let rules = crate::rules::effective(Some(&value), None, created);
        let assigned = crate::rules::effective(None, Some(&value), created);
        for limit in [rules.lifetime, assigned.lifetime].into_iter().flatten() {
            assert!(limit.max >= Duration::ZERO, "{limit:?}");
            let _ = limit.rule().to_string();
        }
    }
    let _ = crate::rules::hides_a_rule(&value);
    for id in crate::rules::ca_configurations(&value) {
        // Only an id of a GUID's characters may go into a URL.
        if crate::rules::safe_id(&id) {
            assert!(!id.contains('/') && !id.contains('.'), "{id}");
        }
    }
    if let Some(list) = value.get("value").and_then(Value::as_array) {
        let rules = crate::rules::AppRules {
            authorities: crate::rules::authorities(list),
            ..Default::default()
        };
        for authority in &rules.authorities {
            let _ = crate::rules::trusted(&authority.der, &rules);
        }
    }
}

/// Entra's usage records as Graph answers them (a page of the credential sign-in activity report, or of the
/// sign-in log: any text), read as evidence and decided on for an old and a new credential: a decision is always
/// one of the two, and never "retire" for a credential seen after its successor came.
pub fn usage(text: &str) {
    use crate::usage::{decide, Decision, Evidence, RetireRules};
    let Ok(page) = crate::input::parse_json(text, "usage") else {
        return;
    };
    let rows: Vec<Value> = page
        .get("value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let thumbprints = std::collections::HashMap::from([("ABCD".to_owned(), Uuid::nil())]);
    let evidence = Evidence::from_records(&rows, &rows, &thumbprints);
    let mut old = crate::manifest::ExistingCredential {
        index: 0,
        key_id: Some(Uuid::nil()),
        display_name: None,
        thumbprint: None,
        start: NOW - Duration::days(300),
        end: NOW + Duration::days(10),
        kind: "AsymmetricX509Cert".into(),
        usage: "Verify".into(),
        certificate: None,
    };
    let mut new = old.clone();
    new.key_id = Some(Uuid::max());
    new.start = NOW - Duration::days(3);
    let rules = RetireRules {
        quiet_for: Duration::hours(24),
        overlap: None,
    };
    let decision = decide(&old, &new, &evidence, &rules, NOW);
    if let (Decision::Retire { .. }, Some(seen)) = (&decision, evidence.seen(old.key_id)) {
        assert!(
            seen.at < new.start,
            "retired after a sign-in since its successor: {decision:?}"
        );
    }
    old.key_id = None;
    let _ = decide(&old, &new, &evidence, &rules, NOW);
    let _ = evidence.freshness(NOW);
}

/// Roles files (JSON and TOML) and role templates (`manifest app-roles --roles-file / --template-file`).
pub fn roles(text: &str) {
    for name in ["roles.json", "roles.toml", "roles"] {
        if let Ok(specs) = roles_source::parse_roles_file(text, name) {
            let _ = RoleSet::build(specs, IdPolicy::Stable(Uuid::nil()), &[]);
        }
    }
    if let Ok(template) = roles_source::parse_template(text, "fuzz") {
        let _ = RoleSet::build(template.roles, IdPolicy::Random, &[]);
    }
}

/// What a Key Vault answers (or whatever answers at `--key-vault`): a certificate version read from any JSON, its
/// key URL held to the vault's origin, its certificate parsed, an error answer said; and the text as a vault URL
/// of each cloud.
pub fn vault_answer(text: &str) {
    use crate::graph::Cloud;
    // The same text as a token endpoint's answer to a refused request (OAuth's or not): its error on one line,
    // keycred's hint on the next.
    let secret = Password::new("fuzz".into());
    for status in [400, 401, 500] {
        let credential = crate::flow::token::ClientCredential::Secret(&secret);
        let said = crate::flow::token::entra_error(status, text, &credential).to_string();
        assert_hint_alone_below(&said);
    }
    for cloud in [Cloud::Public, Cloud::UsGov, Cloud::China] {
        if let Ok(base) = crate::vault::check_url(text, cloud) {
            assert!(!base.ends_with('/'), "{base}");
        }
    }
    let Ok(answer) = crate::input::parse_json(text, "answer") else {
        return;
    };
    for base in ["https://k.vault.azure.net", "http://127.0.0.1:8200"] {
        if let Ok(found) = crate::vault::certificate_from(base, "name", &answer) {
            assert!(
                found.kid.starts_with(&format!("{base}/keys/")),
                "{}",
                found.kid
            );
            assert!(
                !found.version.is_empty()
                    && found.version.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{}",
                found.version
            );
            let _ = crate::credential::CertificateInfo::from_der(&found.cer);
        }
    }
    // And as a page of a certificate's versions.
    for item in answer
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(version) = crate::vault::version_of(item) {
            assert_eq!(version.sha1.len(), 20);
        }
    }
    for status in [400, 401, 403, 404, 429] {
        let said =
            crate::vault::failure("GET /certificates/x", status, &answer, Some(text)).to_string();
        // Whatever the vault wrote, keycred's error about it is one line: it cannot start one of keycred's own.
        assert!(!said.contains(['\n', '\r']), "{said}");
    }
}

/// An error about someone else's answer: its first line, then at most keycred's own hint (`  hint: …`), whatever
/// the answer held.
fn assert_hint_alone_below(said: &str) {
    let mut lines = said.split(['\n', '\r']).skip(1);
    assert!(
        lines.next().is_none_or(|hint| hint.starts_with("  hint: ")) && lines.next().is_none(),
        "{said:?}"
    );
}

/// A token given to `decode` (anyone's text) and the JWKS it is checked against: the text up to its first line
/// break is the token, the rest the JWKS. Decoded without and with each check; whatever it holds, the text report
/// keeps its shape (one `verified` line, every other line under its heading) and a failed check is one line.
pub fn token(text: &str) {
    use crate::flow::decode::{decode, parse, parse_jwks, Checks, VerifyKey};
    let (token, jwks) = text.split_once('\n').unwrap_or((text, ""));
    if parse(token).is_err() {
        return;
    }
    let listed = |what: &str| vec![what.to_owned(), format!("{what}.other")];
    let mut all = vec![
        Checks::default(),
        Checks {
            audiences: listed("api://orders"),
            issuers: listed("https://login.microsoftonline.com/t/v2.0"),
            roles: listed("Orders.Read"),
            any_roles: listed("Orders.Write"),
            ..Checks::default()
        },
    ];
    if let Ok(set) = parse_jwks(jwks, "jwks") {
        all.push(Checks {
            key: Some(VerifyKey::Jwks(set)),
            ..Checks::default()
        });
    }
    for checks in &all {
        match decode(token, checks, NOW) {
            Ok(decoded) => {
                let text = crate::report::decode_text(&decoded, NOW);
                let verified = text
                    .lines()
                    .filter(|l| l.starts_with("  verified "))
                    .count();
                assert_eq!(verified, 1, "{text}");
                assert!(
                    text.lines()
                        .all(|l| l.starts_with("  ")
                            || ["header", "claims", "times (UTC)"].contains(&l)),
                    "{text}"
                );
                let _ = crate::report::decode_json(&decoded, NOW);
            }
            Err(error) => {
                let said = error.to_string();
                assert!(!said.contains(['\n', '\r']), "{said:?}");
            }
        }
    }
}
