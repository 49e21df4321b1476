//! `keycred api-policy`: clap arguments → the API's token rules → API Management XML or JSON.

use keycred::flow::authority::Authority;
use keycred::fsio;
use keycred::policy::TokenVersion;
use keycred::workflow::api_policy::{self, ApiPolicyRequest};

use crate::cli::{ApiPolicyArgs, PolicyFormat, TokenVersionArg};
use crate::terminal;

pub fn run(args: ApiPolicyArgs) -> anyhow::Result<i32> {
    let request = ApiPolicyRequest {
        authority: Authority::parse(&args.authority.url)?,
        tenant: args.tenant.clone(),
        audiences: args.audience.clone(),
        roles: args.role.clone(),
        version: args.token_version.map(|v| match v {
            TokenVersionArg::V1 => TokenVersion::V1,
            TokenVersionArg::V2 => TokenVersion::V2,
            TokenVersionArg::Both => TokenVersion::Both,
        }),
        manifest: args.manifest.clone(),
    };
    let outcome = api_policy::api_policy(&request)?;
    let text = match args.format {
        PolicyFormat::Apim => outcome.rules.to_apim_xml(),
        PolicyFormat::Json => {
            let mut text = serde_json::to_string_pretty(&outcome.rules.to_json())
                .expect("JSON values serialize");
            text.push('\n');
            text
        }
    };
    match &args.out {
        Some(out) => {
            fsio::write_public_file(out, text.as_bytes(), args.force)?;
            terminal::note(&format!("wrote {}", out.display()));
        }
        None => terminal::print(&text),
    }
    for note in &outcome.notes {
        terminal::note(note);
    }
    if outcome.rules.roles.is_empty() {
        terminal::note("no --role: any app that gets a token for this audience passes; require the application role your API grants");
    }
    Ok(keycred::exit::SUCCESS)
}
