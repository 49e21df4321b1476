//! `keycred thumbprint`: one line per certificate in the chosen form, or every form labelled.

use keycred::credential::ThumbprintForm;
use keycred::report;

use crate::cli::{Form, ThumbprintArgs};
use crate::terminal;

pub fn run(args: ThumbprintArgs) -> anyhow::Result<i32> {
    let files = super::load_all(&args.files, &args.password)?;
    let form = args.form.map(|form| match form {
        Form::Hex => ThumbprintForm::Hex,
        Form::Base64 => ThumbprintForm::Base64,
        Form::X5t => ThumbprintForm::X5t,
        Form::Sha256Hex => ThumbprintForm::Sha256Hex,
        Form::X5tS256 => ThumbprintForm::X5tS256,
    });
    if args.json {
        terminal::print_json(&report::thumbprint_json(&files, form));
    } else {
        terminal::print(&report::thumbprint_text(&files, form));
    }
    Ok(keycred::exit::SUCCESS)
}
