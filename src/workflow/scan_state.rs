//! What `graph apps --since-last` and `graph rotate --all --since-last` keep between runs: per Graph host and
//! tenant, the delta link Graph gave at the end of the last round, and every application as that round left it
//! (the properties a rotation plans on: its credentials' metadata, never a key), so a daily scan and a scheduled
//! rotation share one state. A later run asks Graph only what changed since, merges it in, and judges every app
//! again at its own moment, since a certificate can come due without anything changing in the tenant.
//!
//! The state is keycred's own file: in the user's state folder (`$XDG_STATE_HOME/keycred/scans/`), owner-only,
//! read and written under a lock, refused when another user could have written it. A link in it is followed only
//! to the Graph origin of the run. A state older than 6 days (Graph keeps a delta link 7), for another host or
//! tenant, of other properties, unreadable, or whose link Graph no longer knows (`syncStateNotFound`) gives way to a full round, said
//! once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::fsio::{self, Access, OutputFile};
use crate::graph::GraphClient;

/// How long a saved delta link is used: Graph keeps one 7 days.
const MAX_AGE: time::Duration = time::Duration::days(6);

/// The state file's format.
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    /// The properties the delta link selects: a state made for other properties is not merged into.
    #[serde(default)]
    select: String,
    graph: String,
    tenant: String,
    delta_link: String,
    saved_at: i64,
    apps: Map<String, Value>,
}

/// What a run with `--since-last` read.
#[derive(Debug)]
pub struct CaughtUp {
    /// Every application, as the saved state and this round make it.
    pub apps: Vec<Value>,
    /// Why this run read every app (no state yet, an expired link…), or `None` when it read only what changed.
    pub full: Option<String>,
    /// Apps Graph gave in this round (every app in a full round).
    pub changed: usize,
    /// Apps removed from the tenant since the last round.
    pub removed: usize,
}

/// What a `--since-last` run read of the tenant, for its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinceLast {
    /// Why every app was read, or `None` when only what changed was.
    pub full: Option<String>,
    /// Apps Graph gave.
    pub changed: usize,
    /// Apps removed since the last run.
    pub removed: usize,
}

impl CaughtUp {
    /// What was read, without the apps.
    pub fn summary(&self) -> SinceLast {
        SinceLast {
            full: self.full.clone(),
            changed: self.changed,
            removed: self.removed,
        }
    }
}

/// The folder of the scan states: `$XDG_STATE_HOME/keycred/scans` (`~/.local/state/…`), else the cache folder.
pub fn default_dir() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::cache_dir)
        .map(|dir| dir.join("keycred").join("scans"))
}

/// The state file of one Graph host and tenant in `dir` (also the budget record's, in its own folder).
pub(crate) fn path_for(dir: &Path, graph: &str, tenant: uuid::Uuid) -> PathBuf {
    let host: String = graph
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{host}-{tenant}.json"))
}

/// Brings the saved state of this Graph host and tenant up to date (a full round when there is none to use), saves
/// it, and returns every app.
pub fn catch_up(
    client: &GraphClient,
    select: &str,
    dir: &Path,
    now: OffsetDateTime,
) -> Result<CaughtUp> {
    let tenant = client.token_tenant().ok_or_else(|| {
        Error::Invalid(
            "--since-last keeps its state per tenant, and this Graph token names none (no tid claim): use a token \
             issued for the tenant (--tenant with the automation app's credential)"
                .into(),
        )
    })?;
    let path = path_for(dir, client.base(), tenant);
    let saved = load(&path, client, tenant, select, now)?;
    let (mut apps, link, mut full) = match saved {
        Ok(file) => (file.apps, file.delta_link, None),
        Err(why) => (Map::new(), client.delta_start(select), Some(why)),
    };
    let mut counts = Counts::default();
    let round = client.applications_delta(&link, |page| {
        merge(&mut apps, page, &mut counts);
        Ok(())
    });
    let delta_link = match round {
        Ok(link) => link,
        Err(Error::Graph(failure))
            if full.is_none() && failure.code == crate::graph::SYNC_STATE_NOT_FOUND =>
        {
            full = Some(
                "Graph no longer knows the saved delta link (syncStateNotFound), so every app was read".into(),
            );
            apps.clear();
            counts = Counts::default();
            client.applications_delta(&client.delta_start(select), |page| {
                merge(&mut apps, page, &mut counts);
                Ok(())
            })?
        }
        Err(other) => return Err(other),
    };
    let file = StateFile {
        version: VERSION,
        select: select.to_owned(),
        graph: client.base().to_owned(),
        tenant: tenant.to_string(),
        delta_link,
        saved_at: now.unix_timestamp(),
        apps,
    };
    save(&path, &file)?;
    Ok(CaughtUp {
        apps: file.apps.into_iter().map(|(_, app)| app).collect(),
        full,
        changed: counts.changed,
        removed: counts.removed,
    })
}

#[derive(Debug, Default)]
struct Counts {
    changed: usize,
    removed: usize,
}

fn merge(apps: &mut Map<String, Value>, page: Vec<Value>, counts: &mut Counts) {
    let (changed, removed) = merge_round(apps, page);
    counts.changed += changed;
    counts.removed += removed;
}

/// Merges one page of a delta round into `apps`: a removed app leaves, a changed one's selected properties replace
/// those saved. Returns how many apps it changed and how many it removed.
pub fn merge_round(apps: &mut Map<String, Value>, page: Vec<Value>) -> (usize, usize) {
    let (mut changed, mut removed) = (0, 0);
    for item in page {
        let Some(id) = item.get("id").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        if item.get("@removed").is_some() {
            removed += usize::from(apps.remove(&id).is_some());
            continue;
        }
        let Value::Object(fields) = item else {
            continue;
        };
        changed += 1;
        let entry = apps.entry(id).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(known) = entry {
            for (name, value) in fields {
                if !name.starts_with("@odata.") {
                    known.insert(name, value);
                }
            }
        }
    }
    (changed, removed)
}

/// The saved state, if it may be used; else (`Err`) why every app is read this time.
fn load(
    path: &Path,
    client: &GraphClient,
    tenant: uuid::Uuid,
    select: &str,
    now: OffsetDateTime,
) -> Result<std::result::Result<StateFile, String>> {
    let _lock = fsio::lock_private(path, "the scan state", "run without --since-last")?;
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Err(
                "no earlier --since-last run for this tenant: every app was read".into(),
            ))
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    let Ok(file) = serde_json::from_slice::<StateFile>(&bytes) else {
        return Ok(Err(format!(
            "the saved state {} could not be read, so every app was read and it was replaced",
            path.display()
        )));
    };
    let age = now.unix_timestamp() - file.saved_at;
    Ok(
        if file.version != VERSION
            || file.graph != client.base()
            || file.tenant != tenant.to_string()
        {
            Err(format!(
                "the saved state {} is for another Graph or tenant, so every app was read",
                path.display()
            ))
        } else if file.select != select {
            Err(format!(
                "the saved state {} holds other properties of the apps (an earlier keycred's), so every app was read",
                path.display()
            ))
        } else if !(0..MAX_AGE.whole_seconds()).contains(&age) {
            Err("the saved delta link is older than 6 days (Graph keeps one 7), so every app was read".into())
        } else if !client.follows(&file.delta_link) {
            Err("the saved delta link is not on this Graph's origin, so it was not followed and every app was read"
                .into())
        } else {
            Ok(file)
        },
    )
}

fn save(path: &Path, file: &StateFile) -> Result<()> {
    let _lock = fsio::lock_private(path, "the scan state", "run without --since-last")?;
    let text = serde_json::to_string(file).expect("the scan state serializes");
    fsio::replace_own(&[OutputFile::new(path, text, Access::Secret)])
}
