//! One runner over many apps, for `batch` and `graph rotate`: `jobs` workers take apps in order from a shared
//! counter and send each result to the calling thread, which hears of it at once (for progress) and keeps it in
//! its place, so a run holds one small result per app however long it is. After a signal no new app starts; those
//! in progress finish.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::interrupt::Interrupt;

/// Runs `work` on each of `items`, `jobs` at a time (at least one, at most one per item). `done` hears of each
/// result on the calling thread as it ends. Returns the results in the items' order: `None` for an item a signal
/// kept from starting.
pub fn run_all<T, R, W, D>(
    items: &[T],
    jobs: usize,
    interrupt: &Interrupt,
    work: W,
    mut done: D,
) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
    W: Fn(usize, &T) -> R + Sync,
    D: FnMut(&R),
{
    let jobs = jobs.clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let (sender, receiver) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || loop {
                if interrupt.signal().is_some() {
                    break;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else { break };
                if sender.send((index, work(index, item))).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for (index, result) in receiver {
            done(&result);
            results[index] = Some(result);
        }
    });
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_in_order_and_each_heard_of() {
        let items: Vec<u32> = (0..50).collect();
        let mut heard = 0;
        let results = run_all(
            &items,
            4,
            &Interrupt::none(),
            |i, v| (i, v * 2),
            |_| heard += 1,
        );
        assert_eq!(heard, 50);
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(result, Some((i, i as u32 * 2)));
        }
    }

    #[test]
    fn after_a_signal_no_item_starts() {
        let interrupt = Interrupt::none();
        let items: Vec<u32> = (0..20).collect();
        let results = run_all(
            &items,
            1,
            &interrupt,
            |i, _| {
                if i == 2 {
                    interrupt.raise(15);
                }
                i
            },
            |_| {},
        );
        assert_eq!(results.iter().filter(|r| r.is_some()).count(), 3);
        assert!(results[3..].iter().all(Option::is_none));
    }
}
