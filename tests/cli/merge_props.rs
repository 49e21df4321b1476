//! Properties: merging roles into any manifest never drops or reorders a field keycred does not own, never
//! changes an existing role's id, and leaves every role it was not asked about byte-for-byte as it was.

use keycred::manifest::app_roles::{IdPolicy, RoleSet, RoleSpec};
use keycred::manifest::{Manifest, ManifestFormat};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9 äö✓]{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Role values drawn from a small pool so that requests often hit existing roles.
fn role_value() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["Read", "Write", "Admin", "Export", "Audit", "Invoke"])
        .prop_map(str::to_owned)
}

fn existing_role(value: &str, n: u128, extra: &Value, enabled: bool) -> Value {
    serde_json::json!({
        "allowedMemberTypes": ["Application"],
        "description": format!("{value} role"),
        "displayName": value,
        "id": uuid::Uuid::from_u128(n).to_string(),
        "isEnabled": enabled,
        "x-extra": extra,
        "value": value,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn merge_keeps_what_it_does_not_own(
        fields in prop::collection::vec(("[a-z]{1,8}", json_value()), 0..8),
        existing in prop::collection::btree_set(role_value(), 0..5),
        extra in json_value(),
        requested in prop::collection::vec(role_value(), 1..4),
        roles_position in 0usize..8,
        legacy in any::<bool>(),
    ) {
        let mut root = Map::new();
        let marker = if legacy { "oauth2Permissions" } else { "web" };
        root.insert(marker.to_owned(), Value::Array(vec![]));
        for (key, value) in fields {
            if key != "approles" {
                root.insert(format!("f{key}"), value);
            }
        }
        let existing_roles: Vec<Value> = existing
            .iter()
            .enumerate()
            .map(|(i, v)| existing_role(v, i as u128 + 1, &extra, i % 2 == 0))
            .collect();
        // Put appRoles somewhere in the middle of the document.
        let mut entries: Vec<(String, Value)> = root.into_iter().collect();
        let at = roles_position.min(entries.len());
        entries.insert(at, ("appRoles".to_owned(), Value::Array(existing_roles.clone())));
        let root: Map<String, Value> = entries.into_iter().collect();
        let text = serde_json::to_string(&root).unwrap();

        let mut manifest = Manifest::parse(&text, "prop.json", None).unwrap();
        prop_assert_eq!(manifest.format(), if legacy { ManifestFormat::Legacy } else { ManifestFormat::Graph });
        let mut unique = requested.clone();
        unique.sort();
        unique.dedup();
        let specs: Vec<RoleSpec> = unique
            .iter()
            .map(|v| RoleSpec { value: v.clone(), ..RoleSpec::default() })
            .collect();
        let set = RoleSet::build(specs, IdPolicy::Random, &manifest.existing_roles()).unwrap();
        manifest.merge_roles(Some(&set), &[], &[]).unwrap();
        let merged = manifest.root();

        // Every key, in its order, and every value except appRoles, unchanged.
        let before: Vec<&String> = root.keys().collect();
        let after: Vec<&String> = merged.keys().collect();
        prop_assert_eq!(before, after);
        for (key, value) in &root {
            if key != "appRoles" {
                prop_assert_eq!(&merged[key], value);
            }
        }
        let roles = merged["appRoles"].as_array().unwrap();
        for old in &existing_roles {
            let value = old["value"].as_str().unwrap();
            let new = roles.iter().find(|r| r["value"].as_str() == Some(value)).unwrap();
            prop_assert_eq!(&new["id"], &old["id"]);
            prop_assert_eq!(&new["x-extra"], &old["x-extra"]);
            prop_assert_eq!(&new["isEnabled"], &old["isEnabled"], "state kept unless asked");
            if !unique.iter().any(|r| r == value) {
                prop_assert_eq!(new, old, "roles not asked about are untouched");
            }
        }
        prop_assert_eq!(roles.len(), existing.union(&unique.iter().cloned().collect()).count());
    }
}

fn key_credential(i: usize, start_days: i64, end_days: i64, extra: &Value) -> Value {
    let now = time::OffsetDateTime::now_utc();
    serde_json::json!({
        "customKeyIdentifier": null,
        "displayName": format!("CN=cred {i}"),
        "endDateTime": keycred::time_fmt::rfc3339_utc(now + time::Duration::days(end_days)),
        "key": null,
        "keyId": uuid::Uuid::from_u128(i as u128 + 1).to_string(),
        "startDateTime": keycred::time_fmt::rfc3339_utc(now + time::Duration::days(start_days)),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "x-unknown": extra,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn rotation_keeps_every_credential_it_does_not_remove_byte_for_byte(
        fields in prop::collection::vec(("[a-z]{1,8}", json_value()), 0..6),
        ranges in prop::collection::vec((-400i64..10, -50i64..400), 0..6),
        extra in json_value(),
        renew in prop::option::of(0i64..60),
        prune in any::<bool>(),
        keep in prop::option::of(1usize..5),
        add in any::<bool>(),
    ) {
        use keycred::rotation::{self, Candidate, Disposition, Policy};
        let mut root = Map::new();
        root.insert("api".to_owned(), serde_json::json!({}));
        for (key, value) in fields {
            root.insert(format!("f{key}"), value);
        }
        let creds: Vec<Value> = ranges
            .iter()
            .enumerate()
            .map(|(i, (start, len))| key_credential(i, *start, start + len, &extra))
            .collect();
        root.insert("keyCredentials".to_owned(), Value::Array(creds.clone()));
        root.insert("zLast".to_owned(), extra.clone());
        let text = serde_json::to_string(&root).unwrap();

        let mut manifest = Manifest::parse(&text, "prop.json", None).unwrap();
        let existing = manifest.key_credentials().unwrap();
        let now = time::OffsetDateTime::now_utc();
        let candidate = Candidate {
            thumbprint: Some([0xAB; 20]),
            start: now - time::Duration::minutes(5),
            end: now + time::Duration::days(365),
        };
        let policy = Policy {
            renew_within: renew.map(time::Duration::days),
            prune_expired: prune,
            keep,
            remove_key_ids: Vec::new(),
        };
        let plan = rotation::plan(&existing, add.then_some(&candidate), now, &policy).unwrap();
        let added = serde_json::json!({"keyId": "new"});
        let updated = rotation::apply_plan(&mut manifest, &plan, Some(added.clone())).unwrap();

        // Kept credentials: the same bytes, in the same order; removed ones gone; the new one last.
        let kept: Vec<String> = creds
            .iter()
            .zip(&plan.existing)
            .filter(|(_, d)| **d == Disposition::Keep)
            .map(|(c, _)| serde_json::to_string(c).unwrap())
            .collect();
        let out: Vec<String> = updated.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
        let expected_len = kept.len() + usize::from(plan.add);
        prop_assert_eq!(out.len(), expected_len);
        prop_assert_eq!(&out[..kept.len()], &kept[..]);
        if plan.add {
            prop_assert_eq!(updated.last().unwrap(), &added);
        }
        // With a candidate and no --keep limit, a valid credential is never removed unless asked (--prune-expired
        // only removes expired ones).
        if keep.is_none() {
            for (c, d) in existing.iter().zip(&plan.existing) {
                if matches!(d, Disposition::Remove(_)) {
                    prop_assert!(c.end < now, "only expired credentials are pruned");
                }
            }
        }
        // Every other field, in order, unchanged.
        let merged = manifest.root();
        prop_assert_eq!(root.keys().collect::<Vec<_>>(), merged.keys().collect::<Vec<_>>());
        for (key, value) in &root {
            if key != "keyCredentials" {
                prop_assert_eq!(&merged[key], value);
            }
        }
        // The rendered manifest parses back to the same document.
        let reparsed: Value = serde_json::from_str(&manifest.render()).unwrap();
        prop_assert_eq!(&reparsed, &Value::Object(merged.clone()));
    }
}

/// A hostile change to a manifest's text: what real files have been seen to carry.
#[derive(Debug, Clone)]
enum Damage {
    None,
    /// Saved by Windows PowerShell 5.1.
    Bom,
    /// `keyCredentials` twice (serde_json would keep the last one only).
    DuplicateTopLevelKey,
    /// A field repeated inside the first credential.
    DuplicateFieldInCredential,
    /// An owned field of credential `index % n` set to another JSON type.
    OddType(usize, &'static str, Value),
    /// Credential `b % n` takes credential `a % n`'s keyId.
    SameKeyId(usize, usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    let field = prop::sample::select(vec![
        "keyId",
        "startDateTime",
        "endDateTime",
        "key",
        "customKeyIdentifier",
        "displayName",
        "type",
        "usage",
    ]);
    prop_oneof![
        Just(Damage::None),
        Just(Damage::Bom),
        Just(Damage::DuplicateTopLevelKey),
        Just(Damage::DuplicateFieldInCredential),
        (any::<usize>(), field, json_leaf()).prop_map(|(i, f, v)| Damage::OddType(i, f, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Damage::SameKeyId(a, b)),
    ]
}

proptest! {
    // Each case runs the real binary (no key generation: the new certificate is a fixture).
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn rotate_refuses_or_keeps_every_credential_and_field_whatever_the_manifest(
        fields in prop::collection::vec(("[a-z]{1,8}", json_value()), 0..4),
        ranges in prop::collection::vec((-400i64..10, -50i64..400), 1..5),
        extra in json_value(),
        damage in damage(),
        prune in any::<bool>(),
        keep in prop::option::of(1usize..4),
    ) {
        let mut root = Map::new();
        root.insert("api".to_owned(), serde_json::json!({}));
        for (key, value) in fields {
            root.insert(format!("f{key}"), value);
        }
        let mut creds: Vec<Value> = ranges
            .iter()
            .enumerate()
            .map(|(i, (start, len))| key_credential(i, *start, start + len, &extra))
            .collect();
        let n = creds.len();
        match &damage {
            Damage::OddType(i, field, value) => creds[i % n][*field] = value.clone(),
            Damage::SameKeyId(a, b) => creds[b % n]["keyId"] = creds[a % n]["keyId"].clone(),
            _ => {}
        }
        root.insert("keyCredentials".to_owned(), Value::Array(creds.clone()));
        root.insert("zLast".to_owned(), extra.clone());
        let mut text = serde_json::to_string_pretty(&root).unwrap();
        match &damage {
            Damage::Bom => text.insert(0, '\u{feff}'),
            Damage::DuplicateTopLevelKey => text = text.replacen('{', "{\n  \"keyCredentials\": [],", 1),
            Damage::DuplicateFieldInCredential => {
                text = text.replacen("\"usage\": \"Verify\"", "\"usage\": \"Verify\", \"usage\": \"Sign\"", 1)
            }
            _ => {}
        }

        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("app.json");
        std::fs::write(&manifest, &text).unwrap();
        let out_path = dir.path().join("out.json");
        let mut args = vec!["rotate", "--json", "--cert"];
        let cert = crate::common::fixture("openssl-rsa.cer");
        args.push(cert.to_str().unwrap());
        args.extend(["--manifest", manifest.to_str().unwrap(), "--manifest-out", out_path.to_str().unwrap()]);
        if prune {
            args.push("--prune-expired");
        }
        let keep_text = keep.map(|k| k.to_string());
        if let Some(k) = &keep_text {
            args.extend(["--keep", k]);
        }
        let out = crate::common::keycred().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        prop_assert_eq!(std::fs::read_to_string(&manifest).unwrap(), text.clone(), "the input is never changed");

        let must_refuse = matches!(damage, Damage::DuplicateTopLevelKey | Damage::DuplicateFieldInCredential)
            || matches!(&damage, Damage::SameKeyId(a, b) if a % n != b % n);
        if !out.status.success() {
            prop_assert!(matches!(out.status.code(), Some(1 | 2)), "{:?}: {}", out.status, stderr);
            prop_assert!(!out_path.exists(), "nothing half-written");
            return Ok(());
        }
        prop_assert!(!must_refuse, "{:?} must be refused, but rotate succeeded", damage);
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        let removed: Vec<u64> = summary["removed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["index"].as_u64().unwrap())
            .collect();
        let written: Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
        let written_creds = written["keyCredentials"].as_array().unwrap();
        let mut at = 0;
        for (i, cred) in creds.iter().enumerate() {
            if removed.contains(&(i as u64)) {
                continue;
            }
            prop_assert_eq!(&written_creds[at], cred, "kept byte for byte, in order");
            at += 1;
        }
        for (key, value) in &root {
            if key != "keyCredentials" {
                prop_assert_eq!(&written[key], value);
            }
        }
    }
}
