//! The planner's decisions, one test each.

use super::*;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2027-01-01 12:00 UTC);

fn cred(index: usize, start_days: i64, end_days: i64, tp: u8) -> ExistingCredential {
    ExistingCredential {
        index,
        key_id: Some(uuid::Uuid::from_u128(index as u128 + 1)),
        display_name: None,
        thumbprint: Some([tp; 20]),
        start: NOW + Duration::days(start_days),
        end: NOW + Duration::days(end_days),
        kind: "AsymmetricX509Cert".into(),
        usage: "Verify".into(),
        certificate: None,
    }
}

/// A SAML-style signing key: `usage` Sign.
fn signing(index: usize, start_days: i64, end_days: i64, tp: u8) -> ExistingCredential {
    ExistingCredential {
        usage: "Sign".into(),
        ..cred(index, start_days, end_days, tp)
    }
}

#[test]
fn signing_keys_are_no_client_credentials_and_are_never_removed() {
    // The only Verify certificate ends in 9 days; a Sign key is valid for 299.
    let existing = [
        signing(0, -66, 299, 1),
        cred(1, -356, 9, 2),
        signing(2, -400, -5, 3),
    ];
    assert_eq!(current(&existing, NOW), Some(1));
    assert_eq!(
        verdict(&existing, NOW, Duration::days(30)),
        Verdict::RenewalDue
    );
    let plan = plan(
        &existing,
        Some(&candidate(9)),
        NOW,
        &policy(Some(30), true, Some(1)),
    )
    .unwrap();
    assert!(plan.renewal_due && plan.add);
    assert_eq!(
        plan.current,
        Some(1),
        "the one the new certificate replaces"
    );
    assert_eq!(plan.existing[0], Disposition::Keep);
    assert_eq!(
        plan.existing[2],
        Disposition::Keep,
        "an expired Sign key is not pruned"
    );
    assert!(
        matches!(plan.existing[1], Disposition::Remove(_)),
        "--keep 1 counts client credentials"
    );
    let asked = Policy {
        remove_key_ids: vec![existing[0].key_id.unwrap()],
        ..policy(Some(30), false, None)
    };
    let error = super::plan(&existing, None, NOW, &asked)
        .unwrap_err()
        .to_string();
    assert!(error.contains("signing key"), "{error}");
    // Signing keys alone are no client credential at all.
    assert_eq!(
        verdict(&[signing(0, -10, 300, 1)], NOW, Duration::days(30)),
        Verdict::NoCredentials
    );
    assert_eq!(current(&[signing(0, -10, 300, 1)], NOW), None);
}

fn candidate(tp: u8) -> Candidate {
    Candidate {
        thumbprint: Some([tp; 20]),
        start: NOW - Duration::minutes(5),
        end: NOW + Duration::days(365),
    }
}

fn policy(renew_days: Option<i64>, prune: bool, keep: Option<usize>) -> Policy {
    Policy {
        renew_within: renew_days.map(Duration::days),
        prune_expired: prune,
        keep,
        remove_key_ids: Vec::new(),
    }
}

#[test]
fn a_credential_is_removed_by_key_id_but_never_the_last_valid_one() {
    let existing = [
        cred(0, -300, 60, 1),
        cred(1, -10, 300, 2),
        cred(2, -400, -1, 3),
    ];
    let id = |i: usize| existing[i].key_id.unwrap();
    let mut p = policy(Some(30), false, None);
    p.remove_key_ids = vec![id(0)];
    let plan = super::plan(&existing, None, NOW, &p).unwrap();
    assert!(matches!(plan.existing[0], Disposition::Remove(_)));
    assert_eq!(plan.existing[1..], [Disposition::Keep, Disposition::Keep]);
    assert!(
        plan.warnings.iter().any(|w| w.contains("still valid")),
        "{:?}",
        plan.warnings
    );
    p.remove_key_ids = vec![id(0), id(1)];
    let err = super::plan(&existing, None, NOW, &p)
        .unwrap_err()
        .to_string();
    assert!(err.contains("last valid"), "{err}");
    // With a successor added in the same run, the current one may go.
    let plan = super::plan(
        &existing,
        Some(&candidate(9)),
        NOW,
        &Policy {
            renew_within: None,
            ..p.clone()
        },
    )
    .unwrap();
    assert!(plan.add);
    p.remove_key_ids = vec![uuid::Uuid::from_u128(99)];
    let err = super::plan(&existing, None, NOW, &p)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "keyId 00000000-0000-0000-0000-000000000063: the app has no credential with that keyId"
        ),
        "{err}"
    );
}

#[test]
fn adds_beside_the_current_credential_and_keeps_it() {
    let existing = [cred(0, -300, 65, 1)];
    let p = plan(&existing, Some(&candidate(9)), NOW, &Policy::default()).unwrap();
    assert!(p.add);
    assert_eq!(p.existing, [Disposition::Keep]);
    assert_eq!(p.current, Some(0));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn renewal_window_edge_is_due_and_one_second_more_is_not() {
    let mut existing = [cred(0, -300, 30, 1)];
    let p = plan(
        &existing,
        Some(&candidate(9)),
        NOW,
        &policy(Some(30), false, None),
    )
    .unwrap();
    assert!(p.renewal_due && p.add, "exactly at the window edge is due");

    existing[0].end += Duration::seconds(1);
    let p = plan(
        &existing,
        Some(&candidate(9)),
        NOW,
        &policy(Some(30), false, None),
    )
    .unwrap();
    assert!(!p.renewal_due && !p.add);
    assert!(p.skipped.as_deref().unwrap().starts_with("not due"));
    assert!(!p.changes());
}

#[test]
fn all_expired_none_present_and_pruning() {
    let existing = [cred(0, -400, -35, 1), cred(1, -500, -100, 2)];
    let p = plan(
        &existing,
        Some(&candidate(9)),
        NOW,
        &policy(Some(30), true, None),
    )
    .unwrap();
    assert!(p.add && p.renewal_due && p.current.is_none());
    assert!(p
        .existing
        .iter()
        .all(|d| matches!(d, Disposition::Remove(r) if r.starts_with("expired"))));

    let p = plan(&[], Some(&candidate(9)), NOW, &policy(Some(30), true, None)).unwrap();
    assert!(p.add && p.existing.is_empty());

    let p = plan(&existing, None, NOW, &policy(None, true, None)).unwrap();
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("no valid certificate credential")));

    let p = plan(
        &existing,
        Some(&candidate(9)),
        NOW,
        &policy(None, false, None),
    )
    .unwrap();
    assert_eq!(
        p.existing,
        [Disposition::Keep, Disposition::Keep],
        "expired ones stay unless pruned"
    );
}

#[test]
fn clock_skew_allowance() {
    // Starts in 4 minutes: usable (a clock slightly behind); in 6 minutes: not yet valid.
    let mut early = cred(0, 0, 200, 1);
    early.start = NOW + Duration::minutes(4);
    assert_eq!(standing(early.start, early.end, NOW), Standing::Valid);
    early.start = NOW + Duration::minutes(6);
    assert_eq!(standing(early.start, early.end, NOW), Standing::NotYetValid);
    let p = plan(
        &[early],
        Some(&candidate(9)),
        NOW,
        &policy(Some(30), false, None),
    )
    .unwrap();
    assert!(
        p.add && p.current.is_none(),
        "a not-yet-valid credential is not current"
    );
    // The moment of expiry itself is still valid.
    assert_eq!(standing(NOW - Duration::days(1), NOW, NOW), Standing::Valid);
}

#[test]
fn a_certificate_still_to_make_is_new_even_beside_credentials_without_a_thumbprint() {
    // A manifest entry with no customKeyIdentifier has no thumbprint; the plan's certificate has none yet either,
    // and the two are not "the same certificate".
    let bare = ExistingCredential {
        thumbprint: None,
        ..cred(0, -300, 10, 0)
    };
    let to_make = ToMake {
        subject: "CN=app".into(),
        start: NOW - Duration::minutes(5),
        end: NOW + Duration::days(365),
    };
    let plan = plan(&[bare], Some(&to_make.candidate()), NOW, &Policy::default()).unwrap();
    assert!(plan.add, "{plan:?}");
    assert_eq!(plan.skipped, None);
}

#[test]
fn duplicate_thumbprints_are_reported_and_not_added_twice() {
    let existing = [cred(0, -10, 300, 1), cred(1, -10, 300, 1)];
    let p = plan(&existing, Some(&candidate(1)), NOW, &Policy::default()).unwrap();
    assert!(!p.add);
    assert!(p.skipped.as_deref().unwrap().contains("already present"));
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("hold the same certificate")));
}

#[test]
fn keep_removes_the_earliest_ending_and_warns_about_valid_ones() {
    let existing = [
        cred(0, -300, 20, 1),
        cred(1, -100, 200, 2),
        cred(2, -400, -1, 3),
    ];
    let p = plan(
        &existing,
        Some(&candidate(9)),
        NOW,
        &policy(None, false, Some(2)),
    )
    .unwrap();
    assert!(p.add);
    assert_eq!(
        p.existing,
        [
            Disposition::Remove("over --keep 2".into()),
            Disposition::Keep,
            Disposition::Remove("over --keep 2".into())
        ]
    );
    assert!(p.warnings.iter().any(|w| w.contains("still valid until")));
    let err = plan(&existing, None, NOW, &policy(None, false, Some(0)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("lock the app out"), "{err}");
}

#[test]
fn dates_that_disagree_with_the_certificate_are_flagged() {
    let credential = crate::provision::create(
        &crate::credential::CertRequest::new(
            crate::credential::Subject::parse("X").unwrap(),
            crate::credential::KeySize::Rsa2048,
            crate::credential::SignatureHash::Sha256,
            crate::credential::ValidityEnd::Days(100),
            NOW,
            [1; 16],
        )
        .unwrap(),
        uuid::Uuid::nil(),
    )
    .unwrap();
    let mut existing = ExistingCredential::from_certificate(credential.certificate);
    existing.end -= Duration::days(10);
    let p = plan(&[existing], None, NOW, &Policy::default()).unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("differ from its certificate's")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn an_expired_candidate_is_refused() {
    let mut c = candidate(9);
    c.end = NOW - Duration::days(1);
    assert!(plan(&[], Some(&c), NOW, &Policy::default()).is_err());
}

mod verdict {
    use super::super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2027-01-01 12:00 UTC);

    fn cred(start_days: i64, end_days: i64) -> ExistingCredential {
        ExistingCredential {
            index: 0,
            key_id: None,
            display_name: None,
            thumbprint: None,
            start: NOW + Duration::days(start_days),
            end: NOW + Duration::days(end_days),
            kind: String::new(),
            usage: String::new(),
            certificate: None,
        }
    }

    #[test]
    fn verdict_follows_the_current_credential() {
        let warn = Duration::days(30);
        assert_eq!(verdict(&[cred(-10, 31)], NOW, warn), Verdict::Healthy);
        assert_eq!(verdict(&[cred(-10, 30)], NOW, warn), Verdict::RenewalDue);
        assert_eq!(verdict(&[cred(-10, -1)], NOW, warn), Verdict::Expired);
        assert_eq!(verdict(&[], NOW, warn), Verdict::NoCredentials);
        assert_eq!(Verdict::NoCredentials.exit_code(), 4);
        // An expired leftover beside a healthy credential does not matter.
        assert_eq!(
            verdict(&[cred(-400, -1), cred(-10, 200)], NOW, warn),
            Verdict::Healthy
        );
        // A credential that is not valid yet does not count as current.
        assert_eq!(verdict(&[cred(10, 200)], NOW, warn), Verdict::NotYetValid);
        assert_eq!(
            verdict(&[cred(-400, -1), cred(10, 200)], NOW, warn),
            Verdict::NotYetValid
        );
        assert_eq!(Verdict::NotYetValid.exit_code(), 4);
        assert_eq!(Verdict::Expired.exit_code(), 4);
        assert_eq!(Verdict::RenewalDue.exit_code(), 3);
    }
}

#[test]
fn credentials_ending_in_the_same_second_are_each_current_and_each_replaces_the_other() {
    // Two certificates made within a second of each other start and end together: either may be the one a run
    // added.
    let existing = [
        cred(0, 0, 200, 1),
        cred(1, 0, 200, 2),
        cred(2, -300, 100, 3),
    ];
    let mut last: Vec<usize> = ending_last(&existing, NOW).collect();
    last.sort_unstable();
    assert_eq!(last, [0, 1]);
    assert_eq!(replaced(&existing, 1, NOW), Some(0));
    assert_eq!(replaced(&existing, 0, NOW), Some(1));
    // Without a tie, the one replaced ends last before the kept one; nothing ends before the first.
    let existing = [
        cred(0, -300, 100, 1),
        cred(1, 0, 200, 2),
        cred(2, -300, 50, 3),
    ];
    assert_eq!(ending_last(&existing, NOW).collect::<Vec<_>>(), [1]);
    assert_eq!(replaced(&existing, 1, NOW), Some(0));
    assert_eq!(replaced(&existing, 2, NOW), None);
    // A signing key, an expired credential and one not yet valid replace nothing.
    let existing = [
        cred(0, 0, 200, 1),
        signing(1, -300, 200, 2),
        cred(2, -300, -1, 3),
        cred(3, 10, 150, 4),
    ];
    assert_eq!(replaced(&existing, 0, NOW), None);
    assert_eq!(ending_last(&existing, NOW).collect::<Vec<_>>(), [0]);
}

#[test]
fn of_credentials_ending_together_the_one_that_started_later_is_the_newer() {
    // Two runs with the same --not-after date: the second certificate started later and replaced the first,
    // whatever order the app lists them in.
    for (first, second) in [(0, 1), (1, 0)] {
        let mut existing = vec![cred(0, 0, 0, 0), cred(0, 0, 0, 0), cred(2, -300, 100, 3)];
        existing[first] = cred(first, -20, 200, 1);
        existing[second] = cred(second, -10, 200, 2);
        assert_eq!(current(&existing, NOW), Some(second));
        assert_eq!(ending_last(&existing, NOW).collect::<Vec<_>>(), [second]);
        assert_eq!(replaced(&existing, second, NOW), Some(first));
        assert_eq!(replaced(&existing, first, NOW), Some(2));
    }
}
