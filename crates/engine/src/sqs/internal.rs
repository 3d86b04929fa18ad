//! Sends the engine makes to queues it owns itself (the internal queues of asynchronous
//! invocation), without the checks that protect queues from clients.
//!
//! A client's SendMessage is limited to the queue's `MaximumMessageSize` (at most 1 MiB)
//! and to the characters SQS allows. An internal message carries a whole Invoke payload
//! (up to 1 MiB of JSON, which may hold any Unicode character) plus the engine's
//! bookkeeping, so it can be a little larger than a client's message and may hold
//! characters SQS refuses from clients. Nothing else differs: the message is stored in
//! one commit, delayed, received, made invisible and deleted like any other.

use std::collections::BTreeMap;

use store::NewMessage;

use super::meta::MessageMeta;
use super::types::QueueRef;
use super::{digest, validate};
use crate::{Engine, Error, Result};

/// The longest delay SQS allows, which internal sends keep too.
const MAX_DELAY_SECONDS: i64 = 900;

impl Engine {
    /// Stores `body` in the standard queue `queue`, visible after `delay_seconds` (clamped
    /// to 0–900), and wakes a receive waiting on it. Answers after the commit.
    pub(crate) async fn send_internal_message(
        &self,
        queue: &QueueRef,
        body: String,
        delay_seconds: i64,
    ) -> Result<String> {
        let record = self.queue_record(queue).await?;
        if record.fifo {
            return Err(Error::InvalidParameterValue(
                "internal messages go to standard queues only".to_string(),
            ));
        }
        if body.is_empty() {
            // An empty body is the one thing no queue can store.
            validate::message_body(&body)?;
        }
        let now = self.now();
        let delay = delay_seconds.clamp(0, MAX_DELAY_SECONDS);
        let md5_of_body = digest::md5_of_body(&body);
        let meta = MessageMeta::new(
            &BTreeMap::new(),
            &BTreeMap::new(),
            &queue.account,
            md5_of_body,
            None,
            None,
        );
        let message = NewMessage {
            message_id: uuid::Uuid::new_v4().to_string(),
            body,
            meta: meta.encode(),
            sent_at: now,
            visible_at: now + delay * 1000,
            group_id: None,
            deduplication: None,
        };
        let outcomes = self.store().send_messages(record.id, vec![message]).await?;
        self.inner.sqs.wake_for_messages(record.id, outcomes.len());
        outcomes
            .into_iter()
            .next()
            .map(|outcome| outcome.message_id)
            .ok_or_else(|| {
                Error::Store(store::Error::Corrupt(
                    "send returned no outcome".to_string(),
                ))
            })
    }
}
