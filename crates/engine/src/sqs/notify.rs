//! In-process wake-ups for long polling: one [`Notify`] per queue, woken whenever a message
//! may have become receivable (a send, a visibility change, a move, a FIFO delete).
//!
//! Waiters register interest *before* they look at the store, so a wake-up between their
//! empty claim and their wait is never lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use store::QueueId;
use tokio::sync::Notify;

/// SQS state that lives only in this process: the long-poll notifiers.
#[derive(Debug, Default)]
pub(crate) struct SqsState {
    notifiers: Mutex<HashMap<QueueId, Arc<Notify>>>,
}

impl SqsState {
    /// The notifier of a queue, created on first use.
    pub(crate) fn notifier(&self, queue: QueueId) -> Arc<Notify> {
        // A poisoned lock only means another thread panicked while inserting; the map
        // itself is still usable.
        let mut notifiers = self
            .notifiers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        notifiers.entry(queue).or_default().clone()
    }

    /// The notifier of a queue if any receive ever waited on it (the lock is released
    /// before anyone is woken).
    fn existing(&self, queue: QueueId) -> Option<Arc<Notify>> {
        let notifiers = self
            .notifiers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        notifiers.get(&queue).cloned()
    }

    /// Wakes every receive currently waiting on the queue.
    pub(crate) fn wake(&self, queue: QueueId) {
        let notify = self.existing(queue);
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }

    /// Wakes at most `messages` receives waiting on the queue: one per new message, so a
    /// send does not wake every idle consumer only for all but one to find nothing (each
    /// empty look is a trip through the store's writer). A wake with nobody waiting is
    /// kept as a permit for the next receive to wait; a woken receive that is dropped
    /// passes its wake on to the next waiter (tokio's `notify_one` contract). Every new
    /// message thus has a waiter look for it, which either takes it or finds the queue
    /// already emptied by someone else.
    pub(crate) fn wake_for_messages(&self, queue: QueueId, messages: usize) {
        let notify = self.existing(queue);
        if let Some(notify) = notify {
            for _ in 0..messages {
                notify.notify_one();
            }
        }
    }

    /// Wakes every waiter of every queue (wake-ups from other nodes may have been missed).
    pub(crate) fn wake_all(&self) {
        let notifiers: Vec<Arc<Notify>> = {
            let notifiers = self
                .notifiers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            notifiers.values().cloned().collect()
        };
        for notify in notifiers {
            notify.notify_waiters();
        }
    }

    /// Wakes the waiters of a deleted queue (they find it gone) and forgets its notifier.
    pub(crate) fn forget(&self, queue: QueueId) {
        let notify = {
            let mut notifiers = self
                .notifiers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            notifiers.remove(&queue)
        };
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }
}
