//! `keycred templates`: the built-in app-role templates.

use keycred::manifest::roles_source::builtin_templates;
use serde_json::json;

use crate::cli::TemplatesArgs;
use crate::terminal;

pub fn run(args: TemplatesArgs) -> anyhow::Result<i32> {
    let templates = builtin_templates();
    if args.json {
        let list: Vec<_> = templates
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "description": t.description,
                    "roles": t.roles.iter().map(|r| r.value.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        terminal::print_json(&json!(list));
    } else {
        let width = templates.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for t in &templates {
            let roles: Vec<_> = t.roles.iter().map(|r| r.value.as_str()).collect();
            out.push_str(&format!(
                "{:<width$}  {} ({})\n",
                t.name,
                t.description,
                roles.join(", ")
            ));
        }
        out.push_str("use with: keycred manifest app-roles --template NAME; your own file: --template-file PATH\n");
        terminal::print(&out);
    }
    Ok(keycred::exit::SUCCESS)
}
