//! `keycred doctor`'s report: the findings grouped by area, each with its id, severity, symptom and fix.

use serde_json::{json, Value};

use crate::workflow::doctor::Diagnosis;

/// The report as text.
pub fn doctor_text(diagnosis: &Diagnosis) -> String {
    let mut out = String::new();
    for area in ["client", "credential", "scope", "api", "roles", "token"] {
        let findings: Vec<_> = diagnosis
            .findings
            .iter()
            .filter(|f| f.area == area)
            .collect();
        if findings.is_empty() {
            continue;
        }
        out.push_str(&format!("{area}\n"));
        for f in findings {
            out.push_str(&format!(
                "  {} {}: {}\n    symptom: {}\n    fix: {}\n",
                f.severity.as_str().to_uppercase(),
                f.id,
                f.what,
                f.symptom,
                f.fix
            ));
        }
    }
    if let Some(place) = &diagnosis.key_held {
        out.push_str(&format!("credential key: {place}\n"));
    }
    let errors = diagnosis
        .findings
        .iter()
        .filter(|f| f.severity == crate::workflow::doctor::Severity::Error)
        .count();
    out.push_str(&format!(
        "checked {}: {} error{}, {} warning{}{}\n",
        diagnosis.checked.join(", "),
        errors,
        if errors == 1 { "" } else { "s" },
        diagnosis.findings.len() - errors,
        if diagnosis.findings.len() - errors == 1 {
            ""
        } else {
            "s"
        },
        if diagnosis.findings.is_empty() && !diagnosis.checked.is_empty() {
            ": nothing found"
        } else {
            ""
        }
    ));
    out
}

/// The report as JSON.
pub fn doctor_json(diagnosis: &Diagnosis) -> Value {
    json!({
        "exitCode": diagnosis.exit_code,
        "checked": diagnosis.checked,
        "credentialKey": diagnosis.key_held,
        "findings": diagnosis.findings.iter().map(|f| json!({
            "id": f.id,
            "severity": f.severity.as_str(),
            "area": f.area,
            "what": f.what,
            "symptom": f.symptom,
            "fix": f.fix,
        })).collect::<Vec<_>>(),
    })
}
