//! What keycred's Graph runs spent of a tenant's budget in the last windows, kept between runs: a scheduled
//! rotation right after a scan (or an `--apply` right after its plan) counts the requests the earlier run made,
//! which Graph still counts, instead of meeting 429s. Per Graph host and tenant, in the user's state folder
//! (`$XDG_STATE_HOME/keycred/budget/`), owner-only, read and written under a lock; merged on save with what other
//! runs recorded meanwhile. Only pacing depends on it: a record that cannot be read or written is left aside,
//! and the run paces itself from an empty budget, as before.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::fsio::{self, Access, OutputFile};
use crate::graph::{Budget, GraphClient, Limit, Remembered};

/// The record's format.
const VERSION: u32 = 1;

/// The most places a record holds: every window full.
const MAX_PLACES: usize = 150 + 3000 + 3500;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    version: u32,
    /// `[limit, cost, unix milliseconds of the answer]`.
    places: Vec<(String, u32, u64)>,
}

/// The folder of the records: `$XDG_STATE_HOME/keycred/budget` (`~/.local/state/…`), else the cache folder.
pub fn default_dir() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::cache_dir)
        .map(|dir| dir.join("keycred").join("budget"))
}

/// Has the client's budget count what earlier runs on this machine spent in its tenant, and keep what this run
/// spends when it ends. Nothing happens for a token that names no tenant.
pub fn attach(client: &GraphClient, dir: &Path) {
    let Some(tenant) = client.token_tenant() else {
        return;
    };
    let path = super::scan_state::path_for(dir, client.base(), tenant);
    let now = SystemTime::now();
    let loaded = load(&path).unwrap_or_default();
    client.budget().recall(&places(&loaded), now);
    client
        .budget()
        .when_done(move |budget: &Budget| save(&path, budget, &loaded.places));
}

fn load(path: &Path) -> Option<Record> {
    let _lock = fsio::lock_private(path, "the budget record", "").ok()?;
    let bytes = std::fs::read(path).ok()?;
    let record: Record = serde_json::from_slice(&bytes).ok()?;
    (record.version == VERSION).then_some(record)
}

fn places(record: &Record) -> Vec<Remembered> {
    record
        .places
        .iter()
        .take(MAX_PLACES)
        .filter_map(|(limit, cost, at)| {
            Some(Remembered {
                limit: Limit::named(limit)?,
                cost: *cost,
                at: UNIX_EPOCH.checked_add(Duration::from_millis(*at))?,
            })
        })
        .collect()
}

/// Writes what `budget` holds (this run's places and those it recalled, `loaded`), with what another run added
/// to the record meanwhile; the budget's own windows drop what has aged out.
fn save(path: &Path, budget: &Budget, loaded: &[(String, u32, u64)]) {
    let now = SystemTime::now();
    let Ok(_lock) = fsio::lock_private(path, "the budget record", "") else {
        return;
    };
    let ours = budget.remembered(now);
    let mut entries: Vec<(String, u32, u64)> = ours
        .iter()
        .map(|p| (p.limit.name().to_owned(), p.cost, unix_millis(p.at)))
        .collect();
    // Another run's places, still young: those the record holds now that it did not hold when this run began.
    if let Some(now_held) = std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
    {
        let young =
            |(_, _, at): &&(String, u32, u64)| unix_millis(now).saturating_sub(*at) < 150_000;
        entries.extend(
            now_held
                .places
                .iter()
                .filter(young)
                .filter(|entry| !loaded.contains(entry))
                .cloned(),
        );
    }
    entries.truncate(MAX_PLACES);
    let record = Record {
        version: VERSION,
        places: entries,
    };
    let text = serde_json::to_string(&record).expect("the record serializes");
    let _ = fsio::replace_own(&[OutputFile::new(path, text, Access::Secret)]);
}

fn unix_millis(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
