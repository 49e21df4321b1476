//! `keycred graph add-key` / `remove-key`: clap arguments → a proof request → the body.

use keycred::manifest::app_roles::parse_guid;
use keycred::workflow::graph::{self, ProofAction, ProofRequest};

use crate::cli::{GraphCommand, ProofArgs};
use crate::terminal;

pub fn run(command: GraphCommand) -> anyhow::Result<i32> {
    let proof = match &command {
        GraphCommand::AddKey(args) => &args.proof,
        GraphCommand::RemoveKey(args) => &args.proof,
    };
    let object_id = parse_guid(&proof.object_id, "--object-id")?;
    let action = match &command {
        GraphCommand::AddKey(args) => ProofAction::AddKey(args.cert.clone()),
        GraphCommand::RemoveKey(args) => {
            ProofAction::RemoveKey(parse_guid(&args.key_id, "--key-id")?)
        }
    };
    let request = ProofRequest {
        object_id,
        current_pfx: proof.current_pfx.clone(),
        action,
        out: proof.out.clone(),
        force: proof.force,
    };
    let outcome = graph::proof_body(&request, &passwords(proof), time::OffsetDateTime::now_utc())?;
    for note in &outcome.notes {
        terminal::note(note);
    }
    if proof.out.is_none() {
        terminal::print(&outcome.text);
    }
    eprintln!("keycred: the proof is valid for 10 minutes; send the body before then");
    Ok(keycred::exit::SUCCESS)
}

fn passwords(proof: &ProofArgs) -> keycred::input::PasswordSources {
    super::password_sources(&proof.password, proof.current_password_file.as_deref())
}
