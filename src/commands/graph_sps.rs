//! `keycred graph sps` (and `graph apps --service-principals`): clap arguments → the service principal scan → each
//! service principal printed as its page arrives (text), or one JSON document.

use keycred::workflow::sp_scan::{self, SpScanRequest};

use crate::cli::GraphConnectArgs;
use crate::terminal;

pub fn sps(
    connect: &GraphConnectArgs,
    warn_days: u32,
    page_size: usize,
    json: bool,
) -> anyhow::Result<i32> {
    let now = time::OffsetDateTime::now_utc();
    let request = SpScanRequest {
        warn: time::Duration::days(i64::from(warn_days)),
        page_size,
    };
    let client = super::graph_connect(connect, now)?;
    let interrupt = keycred::interrupt::Interrupt::install()?;
    use keycred::report::service_principal as render;
    let mut listed = Vec::new();
    let outcome = sp_scan::scan(&client, &request, now, &interrupt, |sp| {
        if json {
            listed.push(render::sp_json(sp, now, request.warn));
        } else {
            terminal::print(&render::sp_text(sp, now, request.warn));
        }
    })?;
    if json {
        terminal::print_json(&serde_json::json!({
            "checkedAt": keycred::time_fmt::rfc3339_utc(now),
            "warnDays": warn_days,
            "servicePrincipals": listed,
            "read": outcome.read,
            "exitCode": outcome.exit_code,
        }));
    } else {
        terminal::print(&render::sps_summary_text(&outcome));
    }
    Ok(outcome.exit_code)
}
