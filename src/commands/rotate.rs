//! `keycred rotate`: clap arguments → a rotation request → the workflow → the diff or JSON summary.

use keycred::interrupt::Interrupt;
use keycred::manifest::app_roles::parse_guid;
use keycred::rotation::Policy;
use keycred::workflow::rotate_app::{
    self, AddKeyProof, FormatChoice, ManifestOutput, NewCredentialSource, RotateRequest,
};
use time::Duration;

use crate::cli::RotateArgs;
use crate::terminal;

pub fn run(args: RotateArgs) -> anyhow::Result<i32> {
    if args.json && !(args.in_place || args.manifest_out.is_some() || args.dry_run) {
        return Err(keycred::Error::Invalid(
            "--json needs --in-place, --manifest-out FILE or --dry-run, so that standard output holds only the JSON summary"
                .into(),
        )
        .into());
    }
    let interrupt = Interrupt::install()?;
    let passwords = super::password_sources(
        &args.credential.pfx.password,
        args.current_password_file.as_deref(),
    );
    let outcome = rotate_app::rotate_app(request(&args)?, &passwords, &interrupt)?;
    for warning in &outcome.warnings {
        terminal::warn(warning);
    }
    let diff = keycred::report::rotate_text(&outcome);
    if args.json {
        terminal::print_json(&keycred::report::rotate_json(&outcome));
    } else if let Some(manifest) = &outcome.manifest_text {
        eprint!("{}", terminal::escape_controls(&diff));
        terminal::print(manifest);
    } else {
        terminal::print(&diff);
    }
    Ok(keycred::exit::SUCCESS)
}

/// The request the arguments describe.
fn request(args: &RotateArgs) -> anyhow::Result<RotateRequest> {
    let remove_key_ids = args
        .remove_key_id
        .iter()
        .map(|id| parse_guid(id, "--remove-key-id"))
        .collect::<keycred::Result<Vec<_>>>()?;
    let new = match (&args.cert, &args.subject) {
        (Some(cert), _) => Some(NewCredentialSource::Given(cert.clone())),
        (None, subject) if args.ca => Some(NewCredentialSource::FromCa {
            spec: super::credential_spec(subject.as_deref().unwrap_or_default(), &args.credential)?,
            chain: args.chain.clone(),
            dns: (!args.dns.is_empty()).then(|| args.dns.clone()),
        }),
        // Only a removal.
        (None, None) if !remove_key_ids.is_empty() => None,
        // An empty subject: the workflow takes the manifest's newest credential's.
        (None, subject) => Some(NewCredentialSource::Make(super::credential_spec(
            subject.as_deref().unwrap_or_default(),
            &args.credential,
        )?)),
    };
    let add_key_proof = match (&args.add_key_proof, &args.object_id, &args.current_pfx) {
        (Some(out), Some(object_id), Some(current_pfx)) => Some(AddKeyProof {
            out: out.clone(),
            object_id: parse_guid(object_id, "--object-id")?,
            current_pfx: current_pfx.clone(),
        }),
        _ => None,
    };
    Ok(RotateRequest {
        manifest: args.manifest.clone(),
        format: match args.format {
            Some(format) => FormatChoice::Given(format.into()),
            None => FormatChoice::Detect,
        },
        new,
        policy: Policy {
            renew_within: (!args.policy.force_renewal)
                .then(|| Duration::days(i64::from(args.policy.renew_within))),
            prune_expired: args.policy.prune_expired,
            keep: args.policy.keep,
            remove_key_ids,
        },
        output: match (&args.manifest_out, args.in_place) {
            (Some(path), _) => ManifestOutput::File(path.clone()),
            (None, true) => ManifestOutput::InPlace,
            (None, false) => ManifestOutput::Returned,
        },
        patch_out: args.patch_out.clone(),
        add_key_proof,
        repair_key_ids: args.repair_key_ids,
        dry_run: args.dry_run,
        force: args.credential.force,
    })
}
