//! SQS semantics: queues, messages, FIFO groups and deduplication, dead-letter redrive and
//! message move tasks, on top of the store.
//!
//! Every public method on [`Engine`] defined in this module is one SQS action; both wire
//! protocols call the same methods.
//!
//! # Layout
//!
//! - `types.rs`: inputs and outputs shared with the api crate.
//! - `queues.rs`: queue CRUD, attributes, purge, dead-letter source listing.
//! - `messages.rs`: send, receive (long polling), delete, visibility, and their batches.
//! - `tags.rs`: tags and permissions (the queue `Policy`).
//! - `move_tasks.rs`: message move tasks and the worker pass that advances them.
//! - `attributes.rs`: queue attribute names, ranges, defaults and normalisation.
//! - `validate.rs`: name, message and batch validation with SQS's messages.
//! - `digest.rs`: the MD5 digests of bodies and attributes.
//! - `receipt.rs`: receipt handle encoding.
//! - `meta.rs`: the engine's per-message metadata stored alongside the body.
//! - `notify.rs`: per-queue wake-ups for long polling.
//! - `arn.rs`: queue ARNs.
//! - `internal.rs`: sends to queues the engine owns (asynchronous invocation's queues).
//!
//! # Invariants
//!
//! - Queue attributes are stored normalised and complete (defaults included), so
//!   GetQueueAttributes reads them back as they are.
//! - A receive never busy-polls: it waits on the queue's notifier and a timer for the next
//!   message to turn visible.

pub(crate) mod arn;
mod attributes;
mod digest;
pub(crate) mod internal;
mod messages;
mod meta;
mod move_tasks;
mod notify;
mod queues;
mod receipt;
mod tags;
mod types;
mod validate;

pub(crate) use messages::DEDUPLICATION_WINDOW_MS;
pub(crate) use notify::SqsState;
pub use types::*;

use store::{Millis, QueueRecord};

use crate::Engine;

/// Messages of `queue` sent before this instant have outlived its retention period.
pub(crate) fn retention_cutoff(queue: &QueueRecord, now: Millis) -> Millis {
    now - attributes::QueueSettings::of(queue).retention_seconds * 1000
}

impl Engine {
    /// `arn:aws:sqs:<region>:<account>:<name>`.
    pub fn queue_arn(&self, queue: &QueueRef) -> String {
        format!(
            "arn:aws:sqs:{}:{}:{}",
            self.config().region,
            queue.account,
            queue.name
        )
    }
}
