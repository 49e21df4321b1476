//! The keys a run's plans need, read while the run works: twenty to a `$batch`, in the run's order, by a reader
//! beside the workers. A worker whose app needs keys waits for that app's; the others go on. When Graph's limit on
//! reading keys sets the pace (150 a minute per tenant), the workers make and write certificates meanwhile, so the
//! run takes about what the limit allows, not that time plus the work.

use std::sync::{Condvar, Mutex};

use serde_json::Value;
use uuid::Uuid;

use crate::graph::{GraphClient, MAX_BATCH};
use crate::workflow::rotation::graph_store::listed_needs_keys;

/// What the reader has delivered, per app of the run.
#[derive(Debug)]
enum Delivery {
    /// Its plan needs no keys (or it was not listed).
    NotWanted,
    /// Not read yet.
    Waiting,
    /// Read (`None`: Graph refused this item, or the reader stopped: the app's own read then says why).
    Read(Option<Value>),
}

/// The keys of a run's listed apps.
#[derive(Debug)]
pub(super) struct KeyFeed {
    deliveries: Mutex<Vec<Delivery>>,
    ready: Condvar,
}

impl KeyFeed {
    /// Which of `apps` need their keys read: a certificate whose metadata has no thumbprint; with `newest` (`--ca`)
    /// the newest certificate.
    pub(super) fn new(apps: &[(Uuid, Option<Value>)], newest: bool) -> KeyFeed {
        let deliveries = apps
            .iter()
            .map(|(_, listed)| match listed {
                Some(app) if listed_needs_keys(app, newest) => Delivery::Waiting,
                _ => Delivery::NotWanted,
            })
            .collect();
        KeyFeed {
            deliveries: Mutex::new(deliveries),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Delivery>> {
        self.deliveries
            .lock()
            .expect("the key feed's lock is never poisoned")
    }

    /// Reads the wanted keys in order, a batch at a time, delivering each batch as it comes; stops at a signal or
    /// an error of a whole batch. Whatever is left undelivered is then delivered as unread, so no worker waits
    /// for ever.
    pub(super) fn read(
        &self,
        client: &GraphClient,
        apps: &[(Uuid, Option<Value>)],
        interrupt: &crate::interrupt::Interrupt,
    ) {
        let wanted: Vec<usize> = self
            .lock()
            .iter()
            .enumerate()
            .filter(|(_, d)| matches!(d, Delivery::Waiting))
            .map(|(index, _)| index)
            .collect();
        for chunk in wanted.chunks(MAX_BATCH) {
            if interrupt.signal().is_some() {
                break;
            }
            let paths: Vec<String> = chunk
                .iter()
                .map(|index| format!("/applications/{}?$select=id,keyCredentials", apps[*index].0))
                .collect();
            let Ok(answers) = client.get_many(&paths) else {
                break;
            };
            let mut deliveries = self.lock();
            for (index, answer) in chunk.iter().zip(answers) {
                deliveries[*index] = Delivery::Read(answer.ok());
            }
            drop(deliveries);
            self.ready.notify_all();
        }
        let mut deliveries = self.lock();
        for delivery in deliveries.iter_mut() {
            if matches!(delivery, Delivery::Waiting) {
                *delivery = Delivery::Read(None);
            }
        }
        drop(deliveries);
        self.ready.notify_all();
    }

    /// The keys of app `index`, once read; `None` when it needs none or they could not be read.
    pub(super) fn take(&self, index: usize) -> Option<Value> {
        let mut deliveries = self.lock();
        loop {
            match deliveries.get_mut(index) {
                None | Some(Delivery::NotWanted) => return None,
                Some(Delivery::Read(keys)) => return keys.take(),
                Some(Delivery::Waiting) => {
                    deliveries = self
                        .ready
                        .wait(deliveries)
                        .expect("the key feed's lock is never poisoned")
                }
            }
        }
    }
}
