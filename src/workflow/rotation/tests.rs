//! The engine's decisions, each against an in-memory store: no manifest, no server. Certificate files (which the
//! engine writes itself, before anything is saved or sent) go to a temporary folder.

use std::path::Path;

use time::Duration;

use super::*;
use crate::credential::{CertRequest, KeySize, SignatureHash, Subject, ValidityEnd};

/// An app's credentials in memory, and what the engine asked of it.
struct Memory<'a> {
    existing: Vec<ExistingCredential>,
    folder: PathBuf,
    last_valid: LastValid,
    /// Another run changed the app between the plan and the write.
    changed_meanwhile: bool,
    /// A signal arrives once the certificate files are written.
    signal_after_files: Option<&'a Interrupt>,
    /// Files on disk when the store was asked to check (the certificate's, written first).
    files_at_check: Option<usize>,
    applied: Option<(Step, Vec<Disposition>, Option<Uuid>)>,
    prepared: bool,
    /// The app's rules, and how often the engine asked for them.
    rules: Option<Rules>,
    rules_asked: usize,
    /// Why the store cannot make the change, if it cannot.
    holds: Option<String>,
}

impl<'a> Memory<'a> {
    fn new(existing: Vec<ExistingCredential>, folder: &Path) -> Memory<'a> {
        Memory {
            existing,
            folder: folder.to_path_buf(),
            last_valid: LastValid::Refuse,
            changed_meanwhile: false,
            signal_after_files: None,
            files_at_check: None,
            applied: None,
            prepared: false,
            rules: None,
            rules_asked: 0,
            holds: None,
        }
    }
}

impl Store for Memory<'_> {
    fn read(&mut self, _cx: &RunContext) -> Result<AppState> {
        Ok(AppState {
            existing: self.existing.clone(),
            format: ManifestFormat::Graph,
            label: "the app in memory".into(),
            folder: Some(self.folder.clone()),
            made_for: None,
            fallback_subject: Some("CN=Fallback".into()),
            last_valid: self.last_valid,
            notes: vec!["read from memory".into()],
            app_id: None,
        })
    }

    fn rules(&mut self, _cx: &RunContext) -> Result<Option<Rules>> {
        self.rules_asked += 1;
        Ok(self.rules.clone())
    }

    fn prepare(&mut self, _change: &Change, _cx: &RunContext) -> Result<Option<String>> {
        self.prepared = true;
        Ok(self.holds.clone())
    }

    fn check_unchanged(&mut self, _change: &Change, _cx: &RunContext) -> Result<()> {
        self.files_at_check = Some(std::fs::read_dir(&self.folder).map_or(0, |d| d.count()));
        if let Some(interrupt) = self.signal_after_files {
            interrupt.raise(15);
        }
        if self.changed_meanwhile {
            return Err(Error::Refused("changed since the plan".into()));
        }
        Ok(())
    }

    fn apply(&mut self, change: &Change, _cx: &RunContext) -> Result<Option<Uuid>> {
        self.applied = Some((
            change.step,
            change.plan.existing.clone(),
            change.added.map(|a| a.key_id),
        ));
        Ok(None)
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A client credential from `start` days ago to `end` days ahead (negative: ended).
fn credential(index: usize, start: i64, end: i64) -> ExistingCredential {
    ExistingCredential {
        index,
        key_id: Some(Uuid::from_u128(0xA0 + index as u128)),
        display_name: Some("CN=Orders Daemon".into()),
        thumbprint: Some([index as u8; 20]),
        start: now() - Duration::days(start),
        end: now() + Duration::days(end),
        kind: "AsymmetricX509Cert".into(),
        usage: "Verify".into(),
        certificate: None,
    }
}

fn policy(renew_within: Option<i64>) -> Policy {
    Policy {
        renew_within: renew_within.map(Duration::days),
        ..Policy::default()
    }
}

fn make(folder: &Path) -> Option<NewCredentialSource> {
    let mut spec = CredentialSpec::new("", folder);
    spec.name = Some("orders".into());
    spec.key_size = 2048;
    Some(NewCredentialSource::Make(spec))
}

fn run(
    store: &mut Memory,
    source: Option<NewCredentialSource>,
    policy: Policy,
    apply: bool,
    interrupt: &Interrupt,
) -> (Result<()>, Rotation) {
    let passwords = PasswordSources::default();
    let cx = RunContext {
        now: now(),
        passwords: &passwords,
        interrupt,
    };
    let order = Order {
        source,
        policy,
        apply,
    };
    let mut out = Rotation::default();
    let result = rotate(store, order, &cx, &mut out);
    (result, out)
}

/// A run that makes its certificate in `folder`, due within `due` days (None: forced), without interruption.
fn made(
    store: &mut Memory,
    folder: &Path,
    due: Option<i64>,
    apply: bool,
) -> (Result<()>, Rotation) {
    run(store, make(folder), policy(due), apply, &Interrupt::none())
}

fn files_in(folder: &Path) -> usize {
    std::fs::read_dir(folder).map_or(0, |d| d.count())
}

#[test]
fn not_due_makes_nothing_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 10, 200)], dir.path());
    let (result, out) = made(&mut store, dir.path(), Some(30), true);
    result.unwrap();
    assert_eq!(out.step, Some(Step::Unchanged));
    assert!(out.added.is_none() && out.to_make.is_none() && out.candidate.is_none());
    assert!(out.plan.unwrap().skipped.unwrap().contains("not due"));
    assert_eq!(files_in(dir.path()), 0);
    // Nothing to save is still handed to the store, which decides (a manifest still writes --manifest-out).
    assert_eq!(store.applied.unwrap().0, Step::Unchanged);
    assert_eq!(out.warnings[0], "read from memory");
}

#[test]
fn a_plan_makes_no_key_and_lists_the_files_it_would_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    let (result, out) = made(&mut store, dir.path(), Some(30), false);
    result.unwrap();
    assert_eq!(out.step, Some(Step::Change));
    let to_make = out.to_make.expect("the certificate to make");
    // The subject came from the app's newest credential.
    assert_eq!(to_make.subject, "CN=Orders Daemon");
    assert!(out.added.is_none() && out.candidate.is_none());
    assert!(out.files.iter().any(|(role, path)| *role == FileRole::Cer
        && path.contains(&format!("orders-{}", now().date().year()))));
    assert!(store.prepared && store.applied.is_none());
    assert_eq!(files_in(dir.path()), 0, "a plan writes nothing");
}

#[test]
fn a_due_app_gets_a_made_certificate_written_before_the_store_applies() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    let (result, out) = made(&mut store, dir.path(), Some(30), true);
    result.unwrap();
    let added = out.added.expect("added");
    assert_eq!(added.key_id, added.certificate.key_id());
    assert_eq!(added.entry["keyId"], added.key_id.to_string());
    // Key, certificate, fragment, record: on disk when the store was asked.
    assert!(store.files_at_check.unwrap() >= 3);
    let (step, dispositions, key_id) = store.applied.unwrap();
    assert_eq!((step, key_id), (Step::Change, Some(added.key_id)));
    assert_eq!(dispositions, vec![Disposition::Keep]);
    assert!(out.applied);
}

#[test]
fn an_app_with_no_credential_takes_the_stores_fallback_subject() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(Vec::new(), dir.path());
    let (result, out) = made(&mut store, dir.path(), Some(30), false);
    result.unwrap();
    assert_eq!(out.to_make.unwrap().subject, "CN=Fallback");
}

#[test]
fn forced_renewal_adds_even_when_not_due() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 10, 200)], dir.path());
    let (result, out) = made(&mut store, dir.path(), None, false);
    result.unwrap();
    assert_eq!(out.step, Some(Step::Change));
    assert!(out.to_make.is_some());
}

#[test]
fn prune_removes_the_expired_and_keep_the_earliest_ending() {
    let dir = tempfile::tempdir().unwrap();
    let existing = vec![
        credential(0, 400, -5),
        credential(1, 300, 10),
        credential(2, 200, 20),
    ];
    let mut store = Memory::new(existing, dir.path());
    let rules = Policy {
        renew_within: Some(Duration::days(30)),
        prune_expired: true,
        keep: Some(2),
        remove_key_ids: Vec::new(),
    };
    let (result, out) = run(
        &mut store,
        make(dir.path()),
        rules,
        false,
        &Interrupt::none(),
    );
    result.unwrap();
    let plan = out.plan.unwrap();
    assert!(matches!(plan.existing[0], Disposition::Remove(_)));
    assert!(matches!(plan.existing[1], Disposition::Remove(_)));
    assert_eq!(plan.existing[2], Disposition::Keep);
    assert!(plan.add);
}

#[test]
fn the_last_valid_credential_is_guarded_where_the_store_refuses() {
    let dir = tempfile::tempdir().unwrap();
    // Only removes: the one valid credential named, beside an expired one.
    let existing = vec![credential(0, 400, -5), credential(1, 300, 100)];
    let only_remove = |store: &mut Memory| {
        let rules = Policy {
            renew_within: Some(Duration::days(30)),
            prune_expired: true,
            ..Policy::default()
        };
        // The planner refuses a named last valid one itself; pruning the expired one beside a credential that
        // ends while nothing replaces it is the store's guard to enforce.
        let mut aged = store.existing.clone();
        aged[1].end = now() - Duration::hours(1);
        store.existing = aged;
        run(store, None, rules, true, &Interrupt::none())
    };
    let mut tenant = Memory::new(existing.clone(), dir.path());
    let (result, out) = only_remove(&mut tenant);
    assert!(
        matches!(&result, Err(Error::Refused(m)) if m.contains("without a valid certificate credential")),
        "{result:?}"
    );
    assert!(tenant.applied.is_none() && out.plan.is_some());

    let mut file = Memory::new(existing, dir.path());
    file.last_valid = LastValid::Warn;
    let (result, out) = only_remove(&mut file);
    result.unwrap();
    assert!(out
        .warnings
        .iter()
        .any(|w| w.contains("no valid certificate credential")));
    assert_eq!(file.applied.unwrap().0, Step::Change);
}

#[test]
fn a_change_since_the_plan_is_refused_after_the_key_is_safe_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    store.changed_meanwhile = true;
    let (result, out) = made(&mut store, dir.path(), Some(30), true);
    assert!(matches!(result, Err(Error::Refused(_))));
    assert!(store.applied.is_none() && !out.applied);
    assert!(
        files_in(dir.path()) >= 3,
        "the made key stays for the next run"
    );

    // The next run adds the certificate the stopped one made instead of making another.
    let mut again = Memory::new(vec![credential(0, 300, 10)], dir.path());
    let before = files_in(dir.path());
    let (result, out) = made(&mut again, dir.path(), Some(30), true);
    result.unwrap();
    let reused = out.reused.expect("reused");
    assert!(!reused.from_ca);
    assert_eq!(
        out.added.unwrap().certificate.key_id(),
        crate::credential::load_file(&reused.cer, &PasswordSources::default())
            .unwrap()
            .into_leaf()
            .0
            .key_id()
    );
    assert_eq!(files_in(dir.path()), before, "no second key");
}

#[test]
fn a_signal_before_the_files_stops_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let interrupt = Interrupt::none();
    interrupt.raise(2);
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    let (result, out) = run(
        &mut store,
        make(dir.path()),
        policy(Some(30)),
        true,
        &interrupt,
    );
    assert!(matches!(result, Err(Error::Interrupted(2))));
    assert_eq!(files_in(dir.path()), 0);
    assert!(store.applied.is_none() && out.plan.is_some());
}

#[test]
fn a_signal_after_the_files_lets_the_rotation_complete() {
    let dir = tempfile::tempdir().unwrap();
    let interrupt = Interrupt::none();
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    store.signal_after_files = Some(&interrupt);
    let (result, out) = run(
        &mut store,
        make(dir.path()),
        policy(Some(30)),
        true,
        &interrupt,
    );
    result.unwrap();
    assert_eq!(interrupt.signal(), Some(15));
    assert!(store.applied.is_some() && out.applied);
}

/// A certificate made elsewhere, as its `.cer`.
fn given_cer(dir: &Path, days: u32) -> PathBuf {
    let request = CertRequest::new(
        Subject::parse("Orders Daemon").unwrap(),
        KeySize::Rsa2048,
        SignatureHash::Sha256,
        ValidityEnd::Days(days),
        now(),
        crate::secret::random_bytes().unwrap(),
    )
    .unwrap();
    let made = crate::provision::create(&request, Uuid::new_v4()).unwrap();
    let path = dir.join("given.cer");
    std::fs::write(&path, made.certificate.der()).unwrap();
    path
}

#[test]
fn a_named_certificate_is_added_whenever_it_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let cer = given_cer(dir.path(), 365);
    // Not due by the window: a named certificate is added all the same, and nothing is made.
    let mut store = Memory::new(vec![credential(0, 10, 200)], dir.path());
    let before = files_in(dir.path());
    let (result, out) = run(
        &mut store,
        Some(NewCredentialSource::Given(cer)),
        policy(Some(30)),
        true,
        &Interrupt::none(),
    );
    result.unwrap();
    assert!(out.added.is_some() && out.files.is_empty() && out.reused.is_none());
    assert_eq!(files_in(dir.path()), before);
    assert_eq!(store.applied.unwrap().0, Step::Change);
}

#[test]
fn the_ca_path_requests_then_waits_without_changing_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let existing = vec![credential(0, 400, -5), credential(1, 300, 10)];
    let ca = |folder: &Path| {
        let mut spec = CredentialSpec::new("", folder);
        spec.name = Some("orders".into());
        Some(NewCredentialSource::FromCa {
            spec,
            chain: Vec::new(),
            dns: None,
        })
    };
    let pruning = Policy {
        renew_within: Some(Duration::days(30)),
        prune_expired: true,
        ..Policy::default()
    };
    let mut store = Memory::new(existing.clone(), dir.path());
    let (result, out) = run(
        &mut store,
        ca(dir.path()),
        pruning.clone(),
        true,
        &Interrupt::none(),
    );
    result.unwrap();
    assert_eq!(out.step, Some(Step::Requested));
    assert!(matches!(out.ca, Some(CaStep::Requested { .. })));
    let roles: Vec<FileRole> = out.files.iter().map(|(r, _)| *r).collect();
    assert_eq!(roles, vec![FileRole::Key, FileRole::Request]);
    assert!(Path::new(&out.files[1].1).is_file());
    assert!(out.added.is_none());
    assert_eq!(store.applied.unwrap().0, Step::Requested);

    let mut store = Memory::new(existing, dir.path());
    let (result, out) = run(
        &mut store,
        ca(dir.path()),
        pruning,
        true,
        &Interrupt::none(),
    );
    result.unwrap();
    assert_eq!(out.step, Some(Step::Waiting));
    assert!(out.plan.unwrap().skipped.unwrap().contains("waiting"));
}

#[test]
fn nothing_to_add_only_removes() {
    let dir = tempfile::tempdir().unwrap();
    let existing = vec![credential(0, 300, 100), credential(1, 10, 300)];
    let mut store = Memory::new(existing, dir.path());
    let rules = Policy {
        remove_key_ids: vec![Uuid::from_u128(0xA0)],
        ..policy(Some(30))
    };
    let (result, out) = run(&mut store, None, rules, true, &Interrupt::none());
    result.unwrap();
    let (step, dispositions, added) = store.applied.unwrap();
    assert_eq!((step, added), (Step::Change, None));
    assert!(matches!(dispositions[0], Disposition::Remove(_)));
    assert_eq!(dispositions[1], Disposition::Keep);
    assert!(out.files.is_empty());
}

/// Rules with a lifetime limit of `days` from a policy assigned to the app.
fn limited_to(days: i64) -> Option<Rules> {
    Some(Rules::Known(crate::rules::AppRules {
        lifetime: Some(crate::rules::LifetimeLimit {
            max: Duration::days(days),
            text: format!("P{days}D"),
            by: crate::rules::LimitBy::Policy {
                id: "p".into(),
                name: Some("Short".into()),
                assigned: true,
            },
        }),
        ..Default::default()
    }))
}

#[test]
fn a_tenant_lifetime_rule_caps_the_certificate_a_plan_would_make_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    store.rules = limited_to(90);
    let (result, out) = run(
        &mut store,
        make(dir.path()),
        policy(Some(30)),
        false,
        &Interrupt::none(),
    );
    result.unwrap();
    let to_make = out.to_make.expect("a plan for a due app makes one");
    assert_eq!(
        to_make.end - to_make.start,
        Duration::days(90) - crate::workflow::provision::LIMIT_MARGIN,
        "the rule's limit, less a margin for clocks"
    );
    assert!(
        out.warnings.iter().any(|w| w.starts_with(
            "policy \"Short\" (assigned to this app, p) limits this app to P90D (90 days)"
        )),
        "{:?}",
        out.warnings
    );
    assert_eq!(store.rules_asked, 1);
    assert!(out.rules.is_some());
}

#[test]
fn a_longer_validity_than_the_rule_allows_is_refused_before_anything_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    store.rules = limited_to(90);
    let Some(NewCredentialSource::Make(mut spec)) = make(dir.path()) else {
        unreachable!()
    };
    spec.days = Some(120);
    let source = Some(NewCredentialSource::Make(spec));
    let (result, out) = run(
        &mut store,
        source,
        policy(Some(30)),
        true,
        &Interrupt::none(),
    );
    let err = result.unwrap_err().to_string();
    assert!(err.contains("--days 120 is beyond the rule"), "{err}");
    assert!(err.contains("Give at most --days 90"), "{err}");
    assert!(store.applied.is_none() && out.files.is_empty());
    assert_eq!(files_in(dir.path()), 0, "nothing written");
}

#[test]
fn a_named_certificate_longer_than_the_rule_is_refused_and_rules_are_not_read_for_an_app_not_due() {
    let dir = tempfile::tempdir().unwrap();
    let cer = given_cer(dir.path(), 200);
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    store.rules = limited_to(90);
    let source = Some(NewCredentialSource::Given(cer));
    let (result, _) = run(
        &mut store,
        source,
        policy(Some(30)),
        true,
        &Interrupt::none(),
    );
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("is valid for 200 days, beyond the rule"),
        "{err}"
    );
    assert!(store.applied.is_none());

    let mut healthy = Memory::new(vec![credential(0, 10, 300)], dir.path());
    healthy.rules = limited_to(90);
    let (result, out) = run(
        &mut healthy,
        make(dir.path()),
        policy(Some(30)),
        false,
        &Interrupt::none(),
    );
    result.unwrap();
    assert_eq!(
        healthy.rules_asked, 0,
        "no rule is read for an app that adds nothing"
    );
    assert!(out.rules.is_none());
}

#[test]
fn a_store_that_cannot_make_the_change_leaves_the_app_alone_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    store.holds = Some("it holds a signing key".into());
    let (result, out) = run(
        &mut store,
        make(dir.path()),
        policy(Some(30)),
        true,
        &Interrupt::none(),
    );
    result.unwrap();
    assert_eq!(out.step, Some(Step::Unchanged));
    let plan = out.plan.unwrap();
    assert!(!plan.add && plan.existing.iter().all(|d| *d == Disposition::Keep));
    assert_eq!(plan.skipped.as_deref(), Some("it holds a signing key"));
    assert!(store.applied.is_none() && out.added.is_none() && out.files.is_empty());
    assert_eq!(files_in(dir.path()), 0, "no certificate was written");
}

#[test]
fn an_app_under_a_trusted_ca_rule_gets_no_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Memory::new(vec![credential(0, 300, 10)], dir.path());
    store.rules = Some(Rules::Known(crate::rules::AppRules {
        trusted_ca: Some(vec!["config".into()]),
        ..Default::default()
    }));
    let (result, out) = run(
        &mut store,
        make(dir.path()),
        policy(Some(30)),
        true,
        &Interrupt::none(),
    );
    result.unwrap();
    let skipped = out.plan.unwrap().skipped.unwrap();
    assert!(
        skipped.starts_with("needs a CA-issued certificate"),
        "{skipped}"
    );
    assert!(skipped.contains("--ca"), "{skipped}");
    assert!(!store.prepared && store.applied.is_none());
    assert_eq!(files_in(dir.path()), 0);
}
