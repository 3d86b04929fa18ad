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

/// A message the engine delivers into a client's queue on a publisher's behalf (an SNS
/// subscription): the body and attributes as SNS maps them, digests and metadata as a
/// SendMessage would record them. FIFO queues get the group and a deduplication entry
/// scoped as the queue's settings say.
pub(crate) struct Delivery<'a> {
    pub body: String,
    pub attributes: &'a super::types::MessageAttributes,
    pub sender_id: &'a str,
    pub group_id: Option<&'a str>,
    pub deduplication_id: Option<&'a str>,
}

pub(crate) fn delivery_message(
    record: &store::QueueRecord,
    delivery: Delivery<'_>,
    now: store::Millis,
) -> NewMessage {
    let settings = super::attributes::QueueSettings::of(record);
    let md5_of_body = digest::md5_of_body(&delivery.body);
    let md5_of_attributes = digest::md5_of_attributes(delivery.attributes);
    let meta = MessageMeta::new(
        delivery.attributes,
        &BTreeMap::new(),
        delivery.sender_id,
        md5_of_body,
        md5_of_attributes,
        None,
    );
    let (group_id, deduplication) = if record.fifo {
        let group = delivery.group_id.unwrap_or_default().to_string();
        let id = match delivery.deduplication_id {
            Some(id) => id.to_string(),
            None => {
                use sha2::{Digest, Sha256};
                hex::encode(Sha256::digest(delivery.body.as_bytes()))
            }
        };
        let deduplication = store::Deduplication {
            scope: if settings.deduplication_per_group {
                group.clone()
            } else {
                String::new()
            },
            id,
            expires_at: now + super::messages::DEDUPLICATION_WINDOW_MS,
        };
        (Some(group), Some(deduplication))
    } else {
        (delivery.group_id.map(str::to_string), None)
    };
    NewMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        body: delivery.body,
        meta: meta.encode(),
        sent_at: now,
        visible_at: now + settings.delay_seconds * 1000,
        group_id,
        deduplication,
    }
}
