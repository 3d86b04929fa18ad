//! Publish and PublishBatch: validation, filter policies and the one commit that stores
//! a delivery for every matching subscription.
//!
//! A publish builds, for each confirmed subscription whose filter policy passes, the
//! message that subscription gets: the SQS body itself (envelope or raw) for an `sqs`
//! subscription, an asynchronous-invocation event in the function's internal queue for
//! `lambda`, a delivery record in the subscription's internal queue for `http`/`https`.
//! All of them, for every entry of a PublishBatch, go to the store as one fan-out commit;
//! the call answers after it. On a FIFO topic each entry also carries a guard message into
//! the topic's internal FIFO queue: its deduplication (topic-wide, five minutes) decides
//! whether the entry is delivered at all, and its sequence is the entry's sequence number.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use store::{FanOut, NewMessage, QueueId, QueueSend};

use super::envelope::{self, Notification};
use super::http_delivery::HttpDeliveryRecord;
use super::keys::SignatureFields;
use super::records::{SubscriptionView, TopicView};
use super::types::{
    PublishBatchEntry, PublishBatchFailure, PublishBatchOutput, PublishBatchSuccess, PublishInput,
    PublishOutput, SnsCaller, SnsMessageAttributes,
};
use crate::sqs::internal::{Delivery, delivery_message};
use crate::sqs::{MessageAttributeValue, MessageAttributes, QueueRef};
use crate::{Engine, Error, Result};

/// The most a message plus its attributes may weigh (256 KiB).
const MAX_MESSAGE_BYTES: usize = 262_144;
/// PublishBatch takes at most this many entries.
const MAX_BATCH_ENTRIES: usize = 10;
/// The SenderId SQS records for messages SNS delivers.
const SNS_SENDER_ID: &str = "AIDAIT2UOQQY3AUEKVGXU";
/// FIFO deduplication ids and group ids are at most this long.
const MAX_FIFO_TOKEN: usize = 128;
/// How long guard messages of FIFO topics are kept (their deduplication entries live on
/// for the five-minute window in the store's deduplication table).
const GUARD_RETENTION_SECONDS: i64 = 60;

/// One validated message of a Publish or a PublishBatch entry.
#[derive(Debug, Clone)]
struct PreparedPublish {
    message_id: String,
    /// The message for protocols without their own entry in a `json` structure.
    default_message: String,
    /// `MessageStructure=json`: the message of each protocol that has one.
    per_protocol: BTreeMap<String, String>,
    subject: Option<String>,
    attributes: SnsMessageAttributes,
    /// The attributes as envelopes show them (the same for every subscription).
    envelope_attributes: envelope::EnvelopeAttributes,
    group_id: Option<String>,
    /// FIFO topics: the deduplication id (given, or the SHA-256 of the message).
    deduplication_id: Option<String>,
}

impl PreparedPublish {
    fn message_for(&self, protocol: &str) -> &str {
        self.per_protocol
            .get(protocol)
            .map(String::as_str)
            .unwrap_or(&self.default_message)
    }
}

/// What one entry's fan-out will do after the commit: wake queues, start pollers.
#[derive(Debug, Default)]
struct AfterCommit {
    woken: HashMap<QueueId, usize>,
    async_queues: HashSet<QueueRef>,
    http_queues: HashSet<QueueRef>,
}

impl Engine {
    pub async fn publish(&self, caller: &SnsCaller, input: PublishInput) -> Result<PublishOutput> {
        if input.phone_number.is_some() {
            return Err(Error::SnsInvalidParameter(
                "Invalid parameter: PhoneNumber Reason: eddy does not send SMS messages"
                    .to_string(),
            ));
        }
        let topic_arn = match (input.topic_arn, input.target_arn) {
            (Some(topic), None) => topic,
            (None, Some(target)) => {
                if super::parse_topic_arn(&target).is_none() {
                    return Err(Error::SnsInvalidParameter(
                        "Invalid parameter: TargetArn Reason: eddy does not deliver to mobile \
                         push endpoints"
                            .to_string(),
                    ));
                }
                target
            }
            (Some(_), Some(_)) => {
                return Err(Error::SnsInvalidParameter(
                    "Invalid parameter: TopicArn or TargetArn Reason: Only one of them may be \
                     specified"
                        .to_string(),
                ));
            }
            (None, None) => {
                return Err(Error::SnsInvalidParameter(
                    "Invalid parameter: TopicArn or TargetArn Reason: no value for required \
                     parameter"
                        .to_string(),
                ));
            }
        };
        let view = self.publish_target(caller, &topic_arn).await?;
        let prepared = prepare(
            &view,
            Entry {
                message: input.message,
                subject: input.subject,
                message_structure: input.message_structure,
                message_attributes: input.message_attributes,
                message_group_id: input.message_group_id,
                message_deduplication_id: input.message_deduplication_id,
            },
        )?;
        let mut outputs = self.fan_out_publishes(&view, vec![prepared]).await?;
        outputs.pop().ok_or_else(|| {
            Error::Store(store::Error::Corrupt(
                "publish returned no outcome".to_string(),
            ))
        })
    }

    /// Whole-request problems (empty, too many entries, ids not distinct or invalid, total
    /// size) fail the call; per-entry problems are reported in the output.
    pub async fn publish_batch(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
        entries: Vec<PublishBatchEntry>,
    ) -> Result<PublishBatchOutput> {
        let view = self.publish_target(caller, topic_arn).await?;
        if entries.is_empty() {
            return Err(Error::SnsEmptyBatchRequest(
                "The batch request doesn't contain any entries.".to_string(),
            ));
        }
        if entries.len() > MAX_BATCH_ENTRIES {
            return Err(Error::SnsTooManyEntriesInBatchRequest(
                "The batch request contains more entries than permissible.".to_string(),
            ));
        }
        let mut seen = HashSet::new();
        for entry in &entries {
            let valid_id = !entry.id.is_empty()
                && entry.id.len() <= 80
                && entry
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid_id {
                return Err(Error::SnsInvalidBatchEntryId(
                    "The Id of a batch entry in a batch request doesn't abide by the \
                     specification."
                        .to_string(),
                ));
            }
            if !seen.insert(entry.id.as_str()) {
                return Err(Error::SnsBatchEntryIdsNotDistinct(
                    "Two or more batch entries in the request have the same Id.".to_string(),
                ));
            }
        }
        let total: usize = entries
            .iter()
            .map(|entry| {
                entry.message.as_deref().map_or(0, str::len)
                    + attributes_size(&entry.message_attributes)
            })
            .sum();
        if total > MAX_MESSAGE_BYTES {
            return Err(Error::SnsBatchRequestTooLong(
                "The length of all the messages put together is more than the limit".to_string(),
            ));
        }
        let mut failed = Vec::new();
        let mut accepted_ids = Vec::new();
        let mut prepared = Vec::new();
        for entry in entries {
            let id = entry.id;
            let outcome = prepare(
                &view,
                Entry {
                    message: entry.message,
                    subject: entry.subject,
                    message_structure: entry.message_structure,
                    message_attributes: entry.message_attributes,
                    message_group_id: entry.message_group_id,
                    message_deduplication_id: entry.message_deduplication_id,
                },
            );
            match outcome {
                Ok(publish) => {
                    accepted_ids.push(id);
                    prepared.push(publish);
                }
                Err(error) => failed.push(batch_failure(id, &error)),
            }
        }
        let outputs = if prepared.is_empty() {
            Vec::new()
        } else {
            self.fan_out_publishes(&view, prepared).await?
        };
        Ok(PublishBatchOutput {
            successful: accepted_ids
                .into_iter()
                .zip(outputs)
                .map(|(id, output)| PublishBatchSuccess {
                    id,
                    message_id: output.message_id,
                    sequence_number: output.sequence_number,
                })
                .collect(),
            failed,
        })
    }

    /// The topic a publish names, with its subscriptions.
    async fn publish_target(&self, caller: &SnsCaller, topic_arn: &str) -> Result<Arc<TopicView>> {
        let Some((account, name)) = super::parse_topic_arn(topic_arn) else {
            return Err(Error::SnsInvalidParameter(
                "Invalid parameter: TopicArn".to_string(),
            ));
        };
        if account != caller.account {
            return Err(Error::SnsAuthorizationError(format!(
                "User: arn:aws:iam::{}:root is not authorized to perform: SNS:Publish on \
                 resource: {topic_arn}",
                caller.account
            )));
        }
        self.topic_view(&account, &name)
            .await?
            .ok_or_else(|| Error::SnsNotFound("Topic does not exist".to_string()))
    }

    /// Commits the deliveries of every prepared publish in one fan-out, then wakes what
    /// serves them. Answers each publish's message id (for a FIFO duplicate, the
    /// original's) and sequence number.
    async fn fan_out_publishes(
        &self,
        view: &TopicView,
        publishes: Vec<PreparedPublish>,
    ) -> Result<Vec<PublishOutput>> {
        let topic = &view.topic;
        let topic_arn = self.topic_arn(&topic.account, &topic.name);
        let now = self.now();
        let timestamp = envelope::iso_timestamp(now);
        let guard_queue = if topic.fifo {
            Some(self.fifo_guard_queue(&topic.account, &topic.name).await?)
        } else {
            None
        };
        let mut after = AfterCommit::default();
        let mut fan_outs = Vec::with_capacity(publishes.len());
        let sequences: Vec<Option<String>> = publishes
            .iter()
            .map(|_| topic.fifo.then(|| self.next_fifo_sequence(now)))
            .collect();
        for (publish, sequence) in publishes.iter().zip(&sequences) {
            let mut signatures = SignatureCache::new();
            let mut sends: Vec<QueueSend> = Vec::new();
            for subscription in &view.subscriptions {
                if subscription.record.pending_confirmation || !passes_filter(subscription, publish)
                {
                    continue;
                }
                match self
                    .delivery_for(
                        view,
                        subscription,
                        publish,
                        (&topic_arn, &timestamp, now),
                        sequence.as_deref(),
                        &mut signatures,
                    )
                    .await
                {
                    Ok(Some((queue, message, wake))) => {
                        match wake {
                            Wake::Queue => {}
                            Wake::AsyncPoller(queue) => {
                                after.async_queues.insert(queue);
                            }
                            Wake::HttpPoller(queue) => {
                                after.http_queues.insert(queue);
                            }
                        }
                        *after.woken.entry(queue).or_default() += 1;
                        sends.push(QueueSend {
                            queue,
                            messages: vec![message],
                        });
                    }
                    Ok(None) => {}
                    // The store failed (or the signing key could not be read): fail the
                    // whole publish, so the client retries it, rather than acknowledge a
                    // message one subscription would never get.
                    Err(error) => return Err(error),
                }
            }
            let guard = guard_queue.map(|guard_queue| QueueSend {
                queue: guard_queue,
                messages: vec![NewMessage {
                    // The id a duplicate answers with carries the original's sequence.
                    message_id: format!(
                        "{}/{}",
                        publish.message_id,
                        sequence.as_deref().unwrap_or_default()
                    ),
                    body: publish.message_id.clone(),
                    meta: String::new(),
                    sent_at: now,
                    visible_at: now,
                    group_id: publish.group_id.clone(),
                    deduplication: Some(store::Deduplication {
                        scope: String::new(),
                        id: publish.deduplication_id.clone().unwrap_or_default(),
                        expires_at: now + crate::sqs::DEDUPLICATION_WINDOW_MS,
                    }),
                }],
            });
            fan_outs.push(FanOut { guard, sends });
        }
        let outcomes = self.store().fan_out(fan_outs).await?;
        if outcomes.len() != publishes.len() {
            return Err(Error::Store(store::Error::Corrupt(format!(
                "fan-out of {} publishes returned {} outcomes",
                publishes.len(),
                outcomes.len()
            ))));
        }
        let mut outputs = Vec::with_capacity(publishes.len());
        for ((publish, outcome), sequence) in publishes.iter().zip(&outcomes).zip(sequences) {
            let original = outcome
                .guard
                .as_ref()
                .and_then(|guard| guard.first())
                .filter(|guard| guard.duplicate)
                .and_then(|guard| guard.message_id.split_once('/'));
            outputs.push(match original {
                Some((message_id, sequence)) => PublishOutput {
                    message_id: message_id.to_string(),
                    sequence_number: Some(sequence.to_string()),
                },
                None => PublishOutput {
                    message_id: publish.message_id.clone(),
                    sequence_number: sequence,
                },
            });
        }
        // A duplicate entry wrote nothing; waking its queues costs one empty look.
        for (queue, messages) in after.woken {
            self.inner.sqs.wake_for_messages(queue, messages);
        }
        for queue in &after.async_queues {
            self.request_async_poller(queue);
        }
        for queue in &after.http_queues {
            self.request_http_poller(queue);
        }
        Ok(outputs)
    }

    /// The queue and message one subscription gets for one publish; `None` when there is
    /// nothing to deliver (the target is gone and there is no dead-letter queue).
    async fn delivery_for(
        &self,
        view: &TopicView,
        subscription: &SubscriptionView,
        publish: &PreparedPublish,
        (topic_arn, timestamp, now): (&str, &str, store::Millis),
        sequence: Option<&str>,
        signatures: &mut SignatureCache,
    ) -> Result<Option<(QueueId, NewMessage, Wake)>> {
        let record = &subscription.record;
        let subscription_arn = self.subscription_arn(&record.account, &record.topic, &record.id);
        let message = publish.message_for(&record.protocol);
        let attributes = &publish.envelope_attributes;
        let unsubscribe_url = self.unsubscribe_url(&subscription_arn);
        let fifo = view.topic.fifo;
        match record.protocol.as_str() {
            "sqs" => {
                let Some(queue) = crate::sqs::arn::queue_ref(&record.endpoint) else {
                    return Ok(None);
                };
                let Some(queue_record) = self.existing_queue(&queue).await? else {
                    tracing::warn!(subscription = %subscription_arn, queue = %record.endpoint, "subscribed queue does not exist");
                    return self.dead_letter_for(record, message.to_string(), now).await;
                };
                let (body, sqs_attributes) = if record.raw_message_delivery() {
                    (message.to_string(), raw_attributes(&publish.attributes))
                } else {
                    let signature = if fifo {
                        None
                    } else {
                        self.cached_signature(
                            signatures,
                            view,
                            publish,
                            message,
                            (topic_arn, timestamp),
                        )
                        .await?
                    };
                    let body = envelope::envelope_json(&Notification {
                        message_id: &publish.message_id,
                        sequence_number: sequence,
                        topic_arn,
                        subject: publish.subject.as_deref(),
                        message,
                        timestamp,
                        signature: signature
                            .as_ref()
                            .map(|(v, s, c)| (v.as_str(), s.as_str(), c.as_str())),
                        unsubscribe_url: &unsubscribe_url,
                        attributes,
                    });
                    (body, MessageAttributes::new())
                };
                let message = delivery_message(
                    &queue_record,
                    Delivery {
                        body,
                        attributes: &sqs_attributes,
                        sender_id: SNS_SENDER_ID,
                        group_id: publish.group_id.as_deref(),
                        deduplication_id: publish.deduplication_id.as_deref(),
                    },
                    now,
                );
                Ok(Some((queue_record.id, message, Wake::Queue)))
            }
            "lambda" => {
                let signature = self
                    .cached_signature(signatures, view, publish, message, (topic_arn, timestamp))
                    .await?;
                let event = envelope::lambda_event(
                    &Notification {
                        message_id: &publish.message_id,
                        sequence_number: None,
                        topic_arn,
                        subject: publish.subject.as_deref(),
                        message,
                        timestamp,
                        signature: signature
                            .as_ref()
                            .map(|(v, s, c)| (v.as_str(), s.as_str(), c.as_str())),
                        unsubscribe_url: &unsubscribe_url,
                        attributes,
                    },
                    &subscription_arn,
                );
                match self.async_event_for(&record.endpoint, event).await {
                    Ok((queue, queue_record, body)) => {
                        let message = plain_delivery(&queue_record, body, now);
                        Ok(Some((queue_record.id, message, Wake::AsyncPoller(queue))))
                    }
                    Err(error @ Error::Store(_)) => Err(error),
                    Err(error) => {
                        tracing::warn!(subscription = %subscription_arn, function = %record.endpoint, %error, "subscribed function cannot be invoked");
                        self.dead_letter_for(record, message.to_string(), now).await
                    }
                }
            }
            "http" | "https" => {
                let delivery = HttpDeliveryRecord::Notification {
                    message_id: publish.message_id.clone(),
                    topic_arn: topic_arn.to_string(),
                    subject: publish.subject.clone(),
                    message: message.to_string(),
                    timestamp: timestamp.to_string(),
                    attributes: attributes.clone(),
                    raw: record.raw_message_delivery(),
                };
                let (queue, queue_record) = self.http_delivery_queue(record).await?;
                let message = plain_delivery(&queue_record, delivery.encode()?, now);
                Ok(Some((queue_record.id, message, Wake::HttpPoller(queue))))
            }
            _ => Ok(None),
        }
    }

    /// The envelope signature of `message`, computed once per publish and message text
    /// (every subscription's string to sign is the same).
    async fn cached_signature(
        &self,
        signatures: &mut SignatureCache,
        view: &TopicView,
        publish: &PreparedPublish,
        message: &str,
        (topic_arn, timestamp): (&str, &str),
    ) -> Result<Option<SignatureFields>> {
        if let Some(signature) = signatures.get(message) {
            return Ok(signature.clone());
        }
        let signature = self
            .envelope_signature(
                &view.topic,
                message,
                &publish.message_id,
                publish.subject.as_deref(),
                timestamp,
                topic_arn,
            )
            .await?;
        signatures.insert(message.to_string(), signature.clone());
        Ok(signature)
    }

    /// A FIFO topic's next sequence number: 20 digits, increasing on this node (the
    /// publish time in microseconds-like units, so nodes agree roughly on order).
    fn next_fifo_sequence(&self, now: store::Millis) -> String {
        use std::sync::atomic::Ordering;
        let floor = now.saturating_mul(1_000_000);
        let last = &self.inner.sns.last_sequence;
        let mut current = last.load(Ordering::Relaxed);
        loop {
            let next = floor.max(current + 1);
            match last.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return format!("{next:020}"),
                Err(actual) => current = actual,
            }
        }
    }

    /// The queue record of `queue`, `None` when it does not exist.
    pub(crate) async fn existing_queue(
        &self,
        queue: &QueueRef,
    ) -> Result<Option<store::QueueRecord>> {
        match self.queue_record(queue).await {
            Ok(record) => Ok(Some(record)),
            Err(Error::QueueDoesNotExist) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// A message for the subscription's dead-letter queue (its `RedrivePolicy`), `None`
    /// when it has none or the queue does not exist.
    async fn dead_letter_for(
        &self,
        subscription: &super::SubscriptionRecord,
        body: String,
        now: store::Millis,
    ) -> Result<Option<(QueueId, NewMessage, Wake)>> {
        let Some(queue) = subscription_dead_letter_queue(subscription) else {
            return Ok(None);
        };
        let Some(record) = self.existing_queue(&queue).await? else {
            return Ok(None);
        };
        let message = plain_delivery(&record, body, now);
        Ok(Some((record.id, message, Wake::Queue)))
    }

    /// `<public url>/?Action=Unsubscribe&SubscriptionArn=<arn>`.
    pub(crate) fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!(
            "{}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
            self.public_url()
        )
    }

    pub(crate) fn public_url(&self) -> String {
        self.sns_platform()
            .map(|platform| platform.public_url.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("https://sns.{}.amazonaws.com", self.config().region))
    }

    /// The internal FIFO queue whose deduplication guards a FIFO topic (created on first
    /// use).
    async fn fifo_guard_queue(&self, account: &str, topic: &str) -> Result<QueueId> {
        let name = super::internal_queue_name(&[account, topic], ".fifo");
        let queue = QueueRef {
            account: super::GUARD_QUEUE_ACCOUNT.to_string(),
            name: name.clone(),
        };
        if let Some(record) = self.existing_queue(&queue).await? {
            return Ok(record.id);
        }
        let caller = crate::sqs::Caller {
            account: super::GUARD_QUEUE_ACCOUNT.to_string(),
            sender_id: super::GUARD_QUEUE_ACCOUNT.to_string(),
        };
        let input = crate::sqs::CreateQueueInput {
            name,
            attributes: BTreeMap::from([
                ("FifoQueue".to_string(), "true".to_string()),
                (
                    "MessageRetentionPeriod".to_string(),
                    GUARD_RETENTION_SECONDS.to_string(),
                ),
            ]),
            tags: BTreeMap::new(),
        };
        match self.create_queue(&caller, input).await {
            Ok(_) | Err(Error::QueueNameExists(_)) => {}
            Err(error) => return Err(error),
        }
        Ok(self.queue_record(&queue).await?.id)
    }
}

/// Signatures of one publish, by message text.
type SignatureCache = HashMap<String, Option<SignatureFields>>;

/// What to start once a delivery is committed.
#[derive(Debug)]
enum Wake {
    Queue,
    AsyncPoller(QueueRef),
    HttpPoller(QueueRef),
}

/// A publish as given, before validation.
struct Entry {
    message: Option<String>,
    subject: Option<String>,
    message_structure: Option<String>,
    message_attributes: SnsMessageAttributes,
    message_group_id: Option<String>,
    message_deduplication_id: Option<String>,
}

fn prepare(view: &TopicView, entry: Entry) -> Result<PreparedPublish> {
    let topic = &view.topic;
    let message = entry.message.unwrap_or_default();
    if message.is_empty() {
        return Err(Error::SnsInvalidParameter(
            "Invalid parameter: Empty message".to_string(),
        ));
    }
    if message.len() + attributes_size(&entry.message_attributes) > MAX_MESSAGE_BYTES {
        return Err(Error::SnsInvalidParameter(
            "Invalid parameter: Message too long".to_string(),
        ));
    }
    if let Some(subject) = &entry.subject {
        let valid = !subject.is_empty()
            && subject.chars().count() <= 100
            && subject.chars().all(|c| !c.is_control())
            && !subject.trim().is_empty();
        if !valid {
            return Err(Error::SnsInvalidParameter(
                "Invalid parameter: Subject".to_string(),
            ));
        }
    }
    validate_attributes(&entry.message_attributes)?;
    let per_protocol = match entry.message_structure.as_deref() {
        None => BTreeMap::new(),
        Some("json") => structured_messages(&message)?,
        Some(_) => {
            return Err(Error::SnsInvalidParameter(
                "Invalid parameter: MessageStructure".to_string(),
            ));
        }
    };
    let default_message = match per_protocol.get("default") {
        Some(default) => default.clone(),
        None => message,
    };
    let mut deduplication_id = None;
    if let Some(group) = &entry.message_group_id {
        check_fifo_token(group, "MessageGroupId")?;
    }
    if topic.fifo {
        if entry.message_group_id.is_none() {
            return Err(Error::SnsInvalidParameter(
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
                    .to_string(),
            ));
        }
        deduplication_id = match entry.message_deduplication_id {
            Some(id) => {
                check_fifo_token(&id, "MessageDeduplicationId")?;
                Some(id)
            }
            None if topic.content_based_deduplication() => {
                Some(hex::encode(Sha256::digest(default_message.as_bytes())))
            }
            None => {
                return Err(Error::SnsInvalidParameter(
                    "Invalid parameter: The topic should either have ContentBasedDeduplication \
                     enabled or MessageDeduplicationId provided explicitly"
                        .to_string(),
                ));
            }
        };
    } else if entry.message_deduplication_id.is_some() {
        return Err(Error::SnsInvalidParameter(
            "Invalid parameter: MessageDeduplicationId Reason: The request includes \
             MessageDeduplicationId parameter that is not valid for this topic type"
                .to_string(),
        ));
    }
    Ok(PreparedPublish {
        message_id: uuid::Uuid::new_v4().to_string(),
        default_message,
        per_protocol,
        subject: entry.subject,
        envelope_attributes: envelope::envelope_attributes(&entry.message_attributes),
        attributes: entry.message_attributes,
        group_id: entry.message_group_id,
        deduplication_id,
    })
}

fn check_fifo_token(value: &str, name: &str) -> Result<()> {
    let valid = !value.is_empty()
        && value.len() <= MAX_FIFO_TOKEN
        && value.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(Error::SnsInvalidParameter(format!(
            "Invalid parameter: {name} Reason: {name} can only include alphanumeric and \
             punctuation characters. 1 to 128 in length."
        )))
    }
}

/// The per-protocol messages of a `MessageStructure=json` publish.
fn structured_messages(message: &str) -> Result<BTreeMap<String, String>> {
    let parsed: serde_json::Value = serde_json::from_str(message).map_err(|_| {
        Error::SnsInvalidParameter(
            "Invalid parameter: Message Structure - JSON message body failed to parse".to_string(),
        )
    })?;
    let serde_json::Value::Object(object) = parsed else {
        return Err(Error::SnsInvalidParameter(
            "Invalid parameter: Message Structure - JSON message body failed to parse".to_string(),
        ));
    };
    let mut messages = BTreeMap::new();
    for (protocol, value) in object {
        let text = match value {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        };
        messages.insert(protocol, text);
    }
    if !messages.contains_key("default") {
        return Err(Error::SnsInvalidParameter(
            "Invalid parameter: Message Structure - No default entry in JSON message body"
                .to_string(),
        ));
    }
    Ok(messages)
}

/// Bytes the attributes add to a message's size: names, types and values.
fn attributes_size(attributes: &SnsMessageAttributes) -> usize {
    attributes
        .iter()
        .map(|(name, value)| {
            name.len()
                + value.data_type.len()
                + value.string_value.as_deref().map_or(0, str::len)
                + value.binary_value.as_deref().map_or(0, <[u8]>::len)
        })
        .sum()
}

fn validate_attributes(attributes: &SnsMessageAttributes) -> Result<()> {
    for (name, value) in attributes {
        let valid_name = !name.is_empty()
            && name.len() <= 256
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && !name.to_ascii_lowercase().starts_with("aws.")
            && !name.to_ascii_lowercase().starts_with("amazon.")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !valid_name {
            return Err(Error::SnsInvalidParameterValue(format!(
                "The message attribute name '{name}' is invalid."
            )));
        }
        let base = value.data_type.split('.').next().unwrap_or_default();
        let is_array = value.data_type == "String.Array";
        match base {
            "String" | "Number" => {
                let Some(text) = value.string_value.as_deref().filter(|t| !t.is_empty()) else {
                    return Err(Error::SnsInvalidParameterValue(format!(
                        "The message attribute '{name}' must contain non-empty message \
                         attribute value for message attribute type '{}'.",
                        value.data_type
                    )));
                };
                if base == "Number" && text.trim().parse::<f64>().is_err() {
                    return Err(Error::SnsInvalidParameterValue(format!(
                        "An error occurred while parsing the message attribute '{name}': \
                         value '{text}' is not a valid number"
                    )));
                }
                if is_array
                    && !matches!(
                        serde_json::from_str::<serde_json::Value>(text),
                        Ok(serde_json::Value::Array(_))
                    )
                {
                    return Err(Error::SnsInvalidParameter(format!(
                        "Invalid parameter: MessageAttributes Reason: The message attribute \
                         '{name}' with type 'String.Array' must be a JSON array"
                    )));
                }
            }
            "Binary" => {
                if value.binary_value.as_deref().is_none_or(<[u8]>::is_empty) {
                    return Err(Error::SnsInvalidParameterValue(format!(
                        "The message attribute '{name}' must contain non-empty message \
                         attribute value for message attribute type 'Binary'."
                    )));
                }
            }
            _ => {
                return Err(Error::SnsInvalidParameterValue(format!(
                    "The message attribute '{name}' has an invalid message attribute type, \
                     the set of supported type prefixes is Binary, Number, and String."
                )));
            }
        }
    }
    Ok(())
}

/// Whether the subscription's filter policy lets the publish through.
fn passes_filter(subscription: &SubscriptionView, publish: &PreparedPublish) -> bool {
    let Some(filter) = &subscription.filter else {
        return true;
    };
    match filter.scope() {
        super::filter_policy::FilterPolicyScope::MessageBody => {
            filter.matches_body(publish.message_for(&subscription.record.protocol))
        }
        super::filter_policy::FilterPolicyScope::MessageAttributes => {
            let attributes: BTreeMap<String, (String, String)> = publish
                .attributes
                .iter()
                .filter_map(|(name, value)| {
                    let text = value.string_value.clone()?;
                    Some((name.clone(), (value.data_type.clone(), text)))
                })
                .collect();
            filter.matches_attributes(&attributes)
        }
    }
}

/// A message with no attributes, group or deduplication, as SNS delivers it.
pub(crate) fn plain_delivery(
    record: &store::QueueRecord,
    body: String,
    now: store::Millis,
) -> NewMessage {
    delivery_message(
        record,
        Delivery {
            body,
            attributes: &MessageAttributes::new(),
            sender_id: SNS_SENDER_ID,
            group_id: None,
            deduplication_id: None,
        },
        now,
    )
}

/// SNS attributes as SQS message attributes, for raw delivery.
fn raw_attributes(attributes: &SnsMessageAttributes) -> MessageAttributes {
    attributes
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                MessageAttributeValue {
                    data_type: value.data_type.clone(),
                    string_value: value.string_value.clone(),
                    binary_value: value.binary_value.clone(),
                    ..MessageAttributeValue::default()
                },
            )
        })
        .collect()
}

/// The queue a subscription's `RedrivePolicy` names.
pub(crate) fn subscription_dead_letter_queue(
    subscription: &super::SubscriptionRecord,
) -> Option<QueueRef> {
    let policy: serde_json::Value =
        serde_json::from_str(subscription.attributes.get("RedrivePolicy")?).ok()?;
    crate::sqs::arn::queue_ref(policy.get("deadLetterTargetArn")?.as_str()?)
}

fn batch_failure(id: String, error: &Error) -> PublishBatchFailure {
    let code = match error {
        Error::SnsInvalidParameterValue(_) => "InvalidParameterValue",
        Error::SnsNotFound(_) => "NotFound",
        _ => "InvalidParameter",
    };
    PublishBatchFailure {
        id,
        code: code.to_string(),
        message: error.to_string(),
        sender_fault: true,
    }
}
