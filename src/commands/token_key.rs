//! Keys in a PKCS#11 token, as the flags name them: `--pkcs11-module FILE --pkcs11-token LABEL --pkcs11-key
//! LABEL`, the PIN from `--pkcs11-pin-file` or `KEYCRED_PKCS11_PIN`, never the command line.

use keycred::secret::Password;
use keycred::workflow::prove::{CredentialSource, Pkcs11Source};

use crate::cli::Pkcs11Args;

/// Where the token's PIN comes from when no file is named.
const PIN_ENV: &str = "KEYCRED_PKCS11_PIN";

/// The token's user PIN: the first line of `file`, else `KEYCRED_PKCS11_PIN`.
pub fn pin(file: Option<&std::path::Path>) -> keycred::Result<Password> {
    match file {
        Some(file) => keycred::input::password_file(file, "--pkcs11-pin-file"),
        None => match std::env::var(PIN_ENV) {
            Ok(pin) if !pin.is_empty() => Ok(Password::new(pin)),
            _ => Err(keycred::Error::Invalid(format!(
                "--pkcs11-module: give the token's user PIN with --pkcs11-pin-file FILE or {PIN_ENV} (never on the \
                 command line)"
            ))),
        },
    }
}

/// The key the flags name, if they name one.
pub fn source(args: &Pkcs11Args) -> keycred::Result<Option<CredentialSource>> {
    let (Some(module), Some(token), Some(key)) =
        (&args.pkcs11_module, &args.pkcs11_token, &args.pkcs11_key)
    else {
        return Ok(None);
    };
    Ok(Some(CredentialSource::Pkcs11(Box::new(Pkcs11Source {
        module: module.clone(),
        token: token.clone(),
        key: key.clone(),
        pin: std::sync::Arc::new(pin(args.pkcs11_pin_file.as_deref())?),
    }))))
}

/// `new --pkcs11-module …`: the key made in the token, the certificate signed there; the public files written here.
pub fn new_in_token(args: &crate::cli::NewArgs) -> anyhow::Result<i32> {
    let options = &args.credential;
    if options.pfx.generate_password
        || options.pfx.password.password_file.is_some()
        || options.pfx.pem_bundle
        || options.max_lifetime.is_some()
    {
        return Err(keycred::Error::Invalid(
            "--pkcs11-module: the key stays in the token, so no PFX, bundle or password is written; leave out \
             --generate-password, --password-file, --pem-bundle and --max-lifetime"
                .into(),
        )
        .into());
    }
    let Some(CredentialSource::Pkcs11(source)) = source(&args.pkcs11)? else {
        unreachable!(
            "new_in_token is called with --pkcs11-module, which requires the token and the key"
        );
    };
    let request = keycred::workflow::token_new::TokenNewRequest {
        target: source.target(),
        spec: super::credential_spec(&args.subject, options)?,
        format: args.format.into(),
    };
    let made = keycred::workflow::token_new::token_new(request, time::OffsetDateTime::now_utc())?;
    if args.json {
        crate::terminal::print_json(&keycred::report::vault::token_new_json(&made));
    } else {
        crate::terminal::print(&keycred::report::vault::token_new_text(&made));
    }
    Ok(keycred::exit::SUCCESS)
}

/// `csr --pkcs11-module …`: the key made in the token; the request, signed there, written here.
pub fn csr_in_token(
    args: &crate::cli::CsrArgs,
    target: keycred::pkcs11::TokenTarget,
    name: String,
) -> anyhow::Result<i32> {
    if args.hash != crate::cli::Hash::Sha256 {
        return Err(keycred::Error::Invalid(
            "--pkcs11-module: the token signs the request with SHA-256; leave --hash out".into(),
        )
        .into());
    }
    let (token, key) = (target.token.clone(), target.key.clone());
    let csr =
        keycred::workflow::token_new::token_csr(&keycred::workflow::token_new::TokenCsrRequest {
            target,
            subject: args.subject.clone(),
            dns: args.dns.clone(),
            key_size: args.key_size,
            out: args.out.clone(),
            name,
            force: args.force,
        })?;
    if args.json {
        crate::terminal::print_json(&serde_json::json!({
            "pkcs11": {"token": token, "key": key, "extractable": false},
            "files": {"request": csr},
        }));
    } else {
        crate::terminal::print(&format!(
            "The token made the key {key:?} (not extractable) and signed this request for your CA:\n  request       \
             {csr}\nNext: have the CA issue it, then: keycred import --pkcs11-module FILE --pkcs11-token {token:?} \
             --pkcs11-key {key:?} --cert ANSWER --name NAME\n"
        ));
    }
    Ok(keycred::exit::SUCCESS)
}

/// `import --pkcs11-module …`: the CA's answer kept in the token beside its key; the public files written here.
pub fn import_in_token(
    args: &crate::cli::ImportArgs,
    target: keycred::pkcs11::TokenTarget,
) -> anyhow::Result<i32> {
    if args.pfx.generate_password
        || args.pfx.password.password_file.is_some()
        || args.pfx.pem_bundle
    {
        return Err(keycred::Error::Invalid(
            "--pkcs11-module: the key stays in the token, so no PFX, bundle or password is written; leave out \
             --generate-password, --password-file and --pem-bundle"
                .into(),
        )
        .into());
    }
    let made = keycred::workflow::token_new::token_import(
        &keycred::workflow::token_new::TokenImportRequest {
            target,
            cert: args.cert.clone(),
            chain: args.chain.clone(),
            out: args.out.clone(),
            name: args.name.clone(),
            format: args.format.into(),
            force: args.force,
        },
        time::OffsetDateTime::now_utc(),
    )?;
    if args.json {
        crate::terminal::print_json(&keycred::report::vault::token_new_json(&made));
    } else {
        crate::terminal::print(&keycred::report::vault::token_new_text(&made));
    }
    Ok(keycred::exit::SUCCESS)
}
