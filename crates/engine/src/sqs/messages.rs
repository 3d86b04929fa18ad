//! Message actions: SendMessage(Batch), ReceiveMessage with long polling, DeleteMessage(Batch)
//! and ChangeMessageVisibility(Batch).

use std::collections::BTreeMap;
use std::time::Duration;

use sha2::{Digest, Sha256};
use store::{
    ClaimRequest, ClaimedMessage, Deduplication, DeleteOutcome, Millis, NewMessage, QueueRecord,
    Receipt, ReceiveAttempt, Redrive, VisibilityChange,
};
use tokio::time::Instant;

use super::attributes::QueueSettings;
use super::meta::MessageMeta;
use super::types::{
    BatchEntry, BatchFailure, BatchOutput, Caller, ChangeVisibilityInput, MessageAttributes,
    QueueRef, ReceiveMessageInput, ReceivedMessage, SendMessageInput, SendMessageOutput,
};
use super::{digest, receipt, validate};
use crate::{Engine, Error, Result};

/// FIFO deduplication ids and receive attempt ids are remembered this long.
pub(crate) const DEDUPLICATION_WINDOW_MS: Millis = 5 * 60 * 1000;
const MAX_DELAY_SECONDS: i64 = 900;
const MAX_VISIBILITY_TIMEOUT: i64 = 43_200;
const MAX_WAIT_TIME_SECONDS: i64 = 20;
const MAX_RECEIVE_MESSAGES: i64 = 10;
/// With a store shared by several nodes, the longest a long poll sleeps between looks.
const SHARED_STORE_POLL: Duration = Duration::from_secs(2);

/// A validated send, ready for the store, with the digests to answer with.
struct PreparedSend {
    message: NewMessage,
    output: SendMessageOutput,
}

impl Engine {
    pub async fn send_message(
        &self,
        caller: &Caller,
        queue: &QueueRef,
        input: SendMessageInput,
    ) -> Result<SendMessageOutput> {
        let record = self.queue_record(queue).await?;
        let settings = QueueSettings::of(&record);
        let prepared = prepare_send(caller, &record, &settings, input, self.now())?;
        let mut outputs = self.enqueue(&record, vec![prepared]).await?;
        outputs.pop().ok_or_else(|| {
            Error::Store(store::Error::Corrupt(
                "send returned no outcome".to_string(),
            ))
        })
    }

    /// Whole-request problems (empty, too many entries, ids not distinct or invalid, total
    /// size) fail the call; per-entry problems are reported in the output.
    pub async fn send_message_batch(
        &self,
        caller: &Caller,
        queue: &QueueRef,
        entries: Vec<BatchEntry<SendMessageInput>>,
    ) -> Result<BatchOutput<SendMessageOutput>> {
        let record = self.queue_record(queue).await?;
        validate::batch_entries(&entries, "SendMessageBatchRequestEntry")?;
        let total: usize = entries
            .iter()
            .map(|e| validate::message_size(&e.input.body, &e.input.message_attributes))
            .sum();
        if total > validate::MAX_BATCH_PAYLOAD {
            return Err(Error::BatchRequestTooLong(format!(
                "Batch requests cannot be longer than {} bytes. You have sent {total} bytes.",
                validate::MAX_BATCH_PAYLOAD
            )));
        }
        let settings = QueueSettings::of(&record);
        let now = self.now();
        let mut failed = Vec::new();
        let mut accepted_ids = Vec::new();
        let mut prepared = Vec::new();
        for entry in entries {
            match prepare_send(caller, &record, &settings, entry.input, now) {
                Ok(send) => {
                    accepted_ids.push(entry.id);
                    prepared.push(send);
                }
                Err(error) => failed.push(batch_failure(entry.id, &error)),
            }
        }
        let outputs = if prepared.is_empty() {
            Vec::new()
        } else {
            self.enqueue(&record, prepared).await?
        };
        Ok(BatchOutput {
            successful: accepted_ids.into_iter().zip(outputs).collect(),
            failed,
        })
    }

    /// Stores prepared sends in one commit and wakes waiting receives.
    async fn enqueue(
        &self,
        record: &QueueRecord,
        prepared: Vec<PreparedSend>,
    ) -> Result<Vec<SendMessageOutput>> {
        let (messages, mut outputs): (Vec<_>, Vec<_>) =
            prepared.into_iter().map(|p| (p.message, p.output)).unzip();
        let outcomes = self.store().send_messages(record.id, messages).await?;
        if outcomes.len() != outputs.len() {
            return Err(Error::Store(store::Error::Corrupt(format!(
                "send of {} messages returned {} outcomes",
                outputs.len(),
                outcomes.len()
            ))));
        }
        for (output, outcome) in outputs.iter_mut().zip(&outcomes) {
            output.message_id = outcome.message_id.clone();
            if record.fifo {
                output.sequence_number = Some(sequence_number(outcome.sequence));
            }
        }
        let stored = outcomes.iter().filter(|o| !o.duplicate).count();
        self.inner.sqs.wake_for_messages(record.id, stored);
        Ok(outputs)
    }

    /// Long-polls up to the wait time (request, else the queue's
    /// `ReceiveMessageWaitTimeSeconds`), returning as soon as a message is available.
    pub async fn receive_message(
        &self,
        queue: &QueueRef,
        input: ReceiveMessageInput,
    ) -> Result<Vec<ReceivedMessage>> {
        self.receive_message_until(queue, input, None, None).await
    }

    /// ReceiveMessage for the engine's own consumers (event source mapping pollers): the
    /// wait may be any duration (`None`: as the request or queue says), and `stop` ends a
    /// long poll early with no messages. `stop` is only looked at while waiting, never
    /// during a claim, so messages are never claimed and then dropped.
    pub(crate) async fn receive_message_until(
        &self,
        queue: &QueueRef,
        input: ReceiveMessageInput,
        wait_override: Option<Duration>,
        stop: Option<&tokio_util::sync::CancellationToken>,
    ) -> Result<Vec<ReceivedMessage>> {
        let record = self.queue_record(queue).await?;
        let settings = QueueSettings::of(&record);

        let max_messages = input.max_number_of_messages.unwrap_or(1);
        if !(1..=MAX_RECEIVE_MESSAGES).contains(&max_messages) {
            return Err(Error::InvalidParameterValue(format!(
                "Value {max_messages} for parameter MaxNumberOfMessages is invalid. Reason: \
                 Must be between 1 and 10, if provided."
            )));
        }
        let visibility = input
            .visibility_timeout
            .unwrap_or(settings.visibility_timeout);
        if !(0..=MAX_VISIBILITY_TIMEOUT).contains(&visibility) {
            return Err(Error::InvalidParameterValue(format!(
                "Value {visibility} for parameter VisibilityTimeout is invalid. Reason: Must be \
                 >= 0 and <= 43200, if provided."
            )));
        }
        let wait = input
            .wait_time_seconds
            .unwrap_or(settings.receive_wait_seconds);
        if !(0..=MAX_WAIT_TIME_SECONDS).contains(&wait) {
            return Err(Error::InvalidParameterValue(format!(
                "Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 \
                 and <= 20, if provided."
            )));
        }
        let attempt_id = match input.receive_request_attempt_id.as_deref() {
            Some(id) if record.fifo => {
                validate::fifo_token(id, "ReceiveRequestAttemptId")?;
                Some(id.to_string())
            }
            _ => None,
        };
        let redrive = self.redrive_for(&record, &settings).await?;
        let selection = Selection::new(&input);

        // Long polling runs on the real timer even when the engine's clock is manual: the
        // wait is a property of this request, not of the data.
        let deadline = Instant::now()
            + wait_override.unwrap_or_else(|| Duration::from_secs(wait.unsigned_abs()));
        let stopped = || stop.is_some_and(tokio_util::sync::CancellationToken::is_cancelled);
        let notify = self.inner.sqs.notifier(record.id);
        loop {
            // Register for wake-ups before looking, so a send that lands between an empty
            // claim and the wait below still wakes this receive.
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let now = self.now();
            let outcome = self
                .store()
                .claim_messages(ClaimRequest {
                    queue: record.id,
                    max_messages: max_messages.unsigned_abs() as usize,
                    now,
                    visible_until: now + visibility * 1000,
                    fifo: record.fifo,
                    retained_since: now - settings.retention_seconds * 1000,
                    redrive: redrive.clone(),
                    attempt: attempt_id.as_ref().map(|id| ReceiveAttempt {
                        id: id.clone(),
                        expires_at: now + DEDUPLICATION_WINDOW_MS,
                    }),
                })
                .await?;
            if outcome.dead_lettered > 0
                && let Some(redrive) = &redrive
            {
                self.inner.sqs.wake(redrive.dead_letter_queue);
            }
            if !outcome.messages.is_empty() {
                if visibility == 0 {
                    self.inner.sqs.wake(record.id);
                }
                return outcome
                    .messages
                    .into_iter()
                    .map(|claimed| received_message(&record, claimed, &selection))
                    .collect();
            }

            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() || self.inner.shutdown.is_cancelled() || stopped() {
                return Ok(Vec::new());
            }
            // Sleep until woken, until the next delayed or in-flight message turns visible,
            // or until the wait is over, whichever is first. Never a busy poll.
            let next_visible = self.store().next_visible_at(record.id, now).await?;
            let mut until_visible = next_visible
                .map(|at| Duration::from_millis((at - now).max(1).unsigned_abs()))
                .unwrap_or(remaining);
            if !self.store().is_sole_writer() {
                // Other nodes wake this one through the store, but a wake-up can be lost
                // (the listening connection dropped): look again now and then anyway.
                until_visible = until_visible.min(SHARED_STORE_POLL);
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(until_visible.min(remaining)) => {}
                _ = self.inner.shutdown.cancelled() => return Ok(Vec::new()),
                _ = async {
                    match stop {
                        Some(stop) => stop.cancelled().await,
                        None => std::future::pending().await,
                    }
                } => return Ok(Vec::new()),
            }
            if self.store().get_queue_by_id(record.id).await?.is_none() {
                return Ok(Vec::new());
            }
        }
    }

    pub async fn delete_message(&self, queue: &QueueRef, receipt_handle: &str) -> Result<()> {
        let record = self.queue_record(queue).await?;
        let receipt = receipt::decode(record.id, receipt_handle)?;
        let outcomes = self
            .store()
            .delete_messages(record.id, vec![receipt])
            .await?;
        let outcome = outcomes
            .first()
            .copied()
            .unwrap_or(DeleteOutcome::AlreadyGone);
        self.after_deletes(&record, &[outcome]);
        delete_result(&record, receipt_handle, outcome)
    }

    /// Entries are receipt handles.
    pub async fn delete_message_batch(
        &self,
        queue: &QueueRef,
        entries: Vec<BatchEntry<String>>,
    ) -> Result<BatchOutput<()>> {
        let record = self.queue_record(queue).await?;
        validate::batch_entries(&entries, "DeleteMessageBatchRequestEntry")?;
        let mut failed = Vec::new();
        let mut decoded = Vec::new();
        for entry in entries {
            match receipt::decode(record.id, &entry.input) {
                Ok(receipt) => decoded.push((entry, receipt)),
                Err(error) => failed.push(batch_failure(entry.id, &error)),
            }
        }
        let receipts = decoded.iter().map(|(_, r)| *r).collect();
        let outcomes = if decoded.is_empty() {
            Vec::new()
        } else {
            self.store().delete_messages(record.id, receipts).await?
        };
        self.after_deletes(&record, &outcomes);
        let mut successful = Vec::new();
        for ((entry, _), outcome) in decoded.into_iter().zip(outcomes) {
            match delete_result(&record, &entry.input, outcome) {
                Ok(()) => successful.push((entry.id, ())),
                Err(error) => failed.push(batch_failure(entry.id, &error)),
            }
        }
        Ok(BatchOutput { successful, failed })
    }

    fn after_deletes(&self, record: &QueueRecord, outcomes: &[DeleteOutcome]) {
        // Deleting the in-flight head of a FIFO group releases the group's next message.
        if record.fifo && outcomes.contains(&DeleteOutcome::Deleted) {
            self.inner.sqs.wake(record.id);
        }
    }

    pub async fn change_message_visibility(
        &self,
        queue: &QueueRef,
        input: ChangeVisibilityInput,
    ) -> Result<()> {
        let record = self.queue_record(queue).await?;
        let change = visibility_change(&record, &input, self.now())?;
        let now = self.now();
        let outcomes = self
            .store()
            .change_visibility(record.id, vec![change], now)
            .await?;
        let outcome = outcomes
            .first()
            .copied()
            .unwrap_or(VisibilityChange::Unknown);
        if outcome == VisibilityChange::Changed {
            self.inner.sqs.wake(record.id);
        }
        visibility_result(&input.receipt_handle, outcome)
    }

    pub async fn change_message_visibility_batch(
        &self,
        queue: &QueueRef,
        entries: Vec<BatchEntry<ChangeVisibilityInput>>,
    ) -> Result<BatchOutput<()>> {
        let record = self.queue_record(queue).await?;
        validate::batch_entries(&entries, "ChangeMessageVisibilityBatchRequestEntry")?;
        let now = self.now();
        let mut failed = Vec::new();
        let mut changes = Vec::new();
        for entry in entries {
            match visibility_change(&record, &entry.input, now) {
                Ok(change) => changes.push((entry, change)),
                Err(error) => failed.push(batch_failure(entry.id, &error)),
            }
        }
        let outcomes = if changes.is_empty() {
            Vec::new()
        } else {
            let request = changes.iter().map(|(_, c)| *c).collect();
            self.store()
                .change_visibility(record.id, request, now)
                .await?
        };
        if outcomes.contains(&VisibilityChange::Changed) {
            self.inner.sqs.wake(record.id);
        }
        let mut successful = Vec::new();
        for ((entry, _), outcome) in changes.into_iter().zip(outcomes) {
            match visibility_result(&entry.input.receipt_handle, outcome) {
                Ok(()) => successful.push((entry.id, ())),
                Err(error) => failed.push(batch_failure(entry.id, &error)),
            }
        }
        Ok(BatchOutput { successful, failed })
    }

    /// The store's redrive instruction for a queue with a redrive policy whose dead-letter
    /// queue still exists.
    pub(crate) async fn redrive_for(
        &self,
        record: &QueueRecord,
        settings: &QueueSettings,
    ) -> Result<Option<Redrive>> {
        let Some(policy) = &settings.redrive else {
            return Ok(None);
        };
        let Some(target) = self.queue_by_arn(&policy.dead_letter_target_arn).await? else {
            tracing::warn!(
                queue = %record.name,
                target = %policy.dead_letter_target_arn,
                "dead-letter queue of redrive policy does not exist; not redriving"
            );
            return Ok(None);
        };
        Ok(Some(Redrive {
            dead_letter_queue: target.id,
            max_receive_count: policy.max_receive_count,
            source_arn: self.queue_arn(&super::queues::queue_ref(record)),
        }))
    }
}

/// Validates one send against the queue and builds what the store needs.
fn prepare_send(
    caller: &Caller,
    record: &QueueRecord,
    settings: &QueueSettings,
    input: SendMessageInput,
    now: Millis,
) -> Result<PreparedSend> {
    validate::message_body(&input.body)?;
    validate::message_attributes(&input.message_attributes)?;
    validate::message_system_attributes(&input.message_system_attributes)?;
    let size = validate::message_size(&input.body, &input.message_attributes);
    if i64::try_from(size).unwrap_or(i64::MAX) > settings.maximum_message_size {
        return Err(validate::message_too_long(settings.maximum_message_size));
    }
    let delay = match input.delay_seconds {
        Some(delay) => {
            if !(0..=MAX_DELAY_SECONDS).contains(&delay) {
                return Err(Error::InvalidParameterValue(format!(
                    "Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds \
                     must be >= 0 and <= 900."
                )));
            }
            if record.fifo && delay != 0 {
                return Err(Error::InvalidParameterValue(format!(
                    "Value {delay} for parameter DelaySeconds is invalid. Reason: The request \
                     include parameter that is not valid for this queue type."
                )));
            }
            delay
        }
        None => settings.delay_seconds,
    };

    let mut deduplication = None;
    let group_id = input.message_group_id;
    if let Some(group) = &group_id {
        validate::fifo_token(group, "MessageGroupId")?;
    }
    if record.fifo {
        let Some(group) = &group_id else {
            return Err(Error::MissingParameter(
                "The request must contain the parameter MessageGroupId.".to_string(),
            ));
        };
        let id = match input.message_deduplication_id {
            Some(id) => {
                validate::fifo_token(&id, "MessageDeduplicationId")?;
                id
            }
            None if settings.content_based_deduplication => {
                hex::encode(Sha256::digest(input.body.as_bytes()))
            }
            None => {
                return Err(Error::InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or \
                     MessageDeduplicationId provided explicitly"
                        .to_string(),
                ));
            }
        };
        deduplication = Some(Deduplication {
            scope: if settings.deduplication_per_group {
                group.clone()
            } else {
                String::new()
            },
            id,
            expires_at: now + DEDUPLICATION_WINDOW_MS,
        });
    } else if let Some(id) = input.message_deduplication_id {
        return Err(Error::InvalidParameterValue(format!(
            "Value {id} for parameter MessageDeduplicationId is invalid. Reason: The request \
             includes a parameter that is not valid for this queue type."
        )));
    }

    let md5_of_message_body = digest::md5_of_body(&input.body);
    let md5_of_message_attributes = digest::md5_of_attributes(&input.message_attributes);
    let md5_of_message_system_attributes =
        digest::md5_of_attributes(&input.message_system_attributes);
    let meta = MessageMeta::new(
        &input.message_attributes,
        &input.message_system_attributes,
        &caller.sender_id,
        md5_of_message_body.clone(),
        md5_of_message_attributes.clone(),
        md5_of_message_system_attributes.clone(),
    );
    Ok(PreparedSend {
        message: NewMessage {
            message_id: uuid::Uuid::new_v4().to_string(),
            body: input.body,
            meta: meta.encode(),
            sent_at: now,
            visible_at: now + delay * 1000,
            group_id,
            deduplication,
        },
        output: SendMessageOutput {
            message_id: String::new(),
            md5_of_message_body,
            md5_of_message_attributes,
            md5_of_message_system_attributes,
            sequence_number: None,
        },
    })
}

/// SQS sequence numbers are 20 decimal digits.
fn sequence_number(sequence: i64) -> String {
    format!("{sequence:020}")
}

fn delete_result(record: &QueueRecord, handle: &str, outcome: DeleteOutcome) -> Result<()> {
    match outcome {
        DeleteOutcome::Deleted | DeleteOutcome::AlreadyGone => Ok(()),
        // A standard queue accepts a stale handle (and keeps the message); a FIFO queue
        // refuses it, since the message now belongs to a later receive.
        DeleteOutcome::Stale if record.fifo => Err(Error::InvalidParameterValue(format!(
            "Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle \
             has expired."
        ))),
        DeleteOutcome::Stale => Ok(()),
    }
}

fn visibility_change(
    record: &QueueRecord,
    input: &ChangeVisibilityInput,
    now: Millis,
) -> Result<(Receipt, Millis)> {
    let timeout = input.visibility_timeout;
    if !(0..=MAX_VISIBILITY_TIMEOUT).contains(&timeout) {
        return Err(Error::InvalidParameterValue(format!(
            "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be between \
             0 and 43200, if provided."
        )));
    }
    let receipt = receipt::decode(record.id, &input.receipt_handle)?;
    Ok((receipt, now + timeout * 1000))
}

fn visibility_result(handle: &str, outcome: VisibilityChange) -> Result<()> {
    match outcome {
        VisibilityChange::Changed => Ok(()),
        VisibilityChange::NotInFlight => Err(Error::MessageNotInflight(
            "The message referred to isn't in flight.".to_string(),
        )),
        VisibilityChange::Unknown => Err(Error::InvalidParameterValue(format!(
            "Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not \
             exist or is not available for visibility timeout change."
        ))),
    }
}

/// One failed batch entry, with the code SQS reports for the error.
pub(crate) fn batch_failure(id: String, error: &Error) -> BatchFailure {
    let (code, sender_fault) = match error {
        Error::InvalidParameterValue(_) => ("InvalidParameterValue", true),
        Error::MissingParameter(_) => ("MissingParameter", true),
        Error::InvalidMessageContents(_) => ("InvalidMessageContents", true),
        Error::ReceiptHandleIsInvalid(_) => ("ReceiptHandleIsInvalid", true),
        Error::MessageNotInflight(_) => ("AWS.SimpleQueueService.MessageNotInflight", true),
        Error::InvalidAttributeValue(_) => ("InvalidAttributeValue", true),
        Error::InvalidAttributeName(_) => ("InvalidAttributeName", true),
        _ => ("InternalError", false),
    };
    let message = match error {
        Error::Store(_) => "We encountered an internal error. Please try again.".to_string(),
        other => other.to_string(),
    };
    BatchFailure {
        id,
        code: code.to_string(),
        message,
        sender_fault,
    }
}

/// Which attributes a receive asked for.
struct Selection {
    all_system: bool,
    system: Vec<String>,
    message_attributes: Vec<String>,
}

impl Selection {
    fn new(input: &ReceiveMessageInput) -> Selection {
        let system: Vec<String> = input
            .attribute_names
            .iter()
            .chain(&input.message_system_attribute_names)
            .cloned()
            .collect();
        Selection {
            all_system: system.iter().any(|n| n == "All"),
            system,
            message_attributes: input.message_attribute_names.clone(),
        }
    }

    fn wants_system(&self, name: &str) -> bool {
        self.all_system || self.system.iter().any(|n| n == name)
    }

    /// `All`, `.*`, an exact name, or a `prefix.*` pattern.
    fn wants_message_attribute(&self, name: &str) -> bool {
        self.message_attributes.iter().any(|pattern| {
            pattern == "All"
                || pattern == ".*"
                || pattern == name
                || pattern
                    .strip_suffix('*')
                    .filter(|prefix| prefix.ends_with('.'))
                    .is_some_and(|prefix| name.starts_with(prefix))
        })
    }
}

fn received_message(
    record: &QueueRecord,
    claimed: ClaimedMessage,
    selection: &Selection,
) -> Result<ReceivedMessage> {
    let meta = MessageMeta::decode(&claimed.meta)?;
    let mut system: BTreeMap<&str, String> = BTreeMap::new();
    system.insert("SenderId", meta.sender_id.clone());
    system.insert("SentTimestamp", claimed.sent_at.to_string());
    system.insert("ApproximateReceiveCount", claimed.receive_count.to_string());
    system.insert(
        "ApproximateFirstReceiveTimestamp",
        claimed.first_received_at.to_string(),
    );
    if record.fifo {
        system.insert("SequenceNumber", sequence_number(claimed.receipt.sequence));
        if let Some(id) = &claimed.deduplication_id {
            system.insert("MessageDeduplicationId", id.clone());
        }
    }
    if let Some(group) = &claimed.group_id {
        system.insert("MessageGroupId", group.clone());
    }
    if let Some(source) = &claimed.dead_letter_source_arn {
        system.insert("DeadLetterQueueSourceArn", source.clone());
    }
    if let Some(trace) = meta
        .system_attributes()
        .get("AWSTraceHeader")
        .and_then(|v| v.string_value.clone())
    {
        system.insert("AWSTraceHeader", trace);
    }
    let attributes = system
        .into_iter()
        .filter(|(name, _)| selection.wants_system(name))
        .map(|(name, value)| (name.to_string(), value))
        .collect();

    let stored_attributes = meta.attributes();
    let stored_count = stored_attributes.len();
    let message_attributes: MessageAttributes = stored_attributes
        .into_iter()
        .filter(|(name, _)| selection.wants_message_attribute(name))
        .collect();
    // The digest covers the attributes returned: the one stored at send time when all of
    // them are returned, a fresh one for a subset.
    let md5_of_message_attributes = match &meta.md5_of_attributes {
        Some(stored) if message_attributes.len() == stored_count => Some(stored.clone()),
        _ => digest::md5_of_attributes(&message_attributes),
    };
    Ok(ReceivedMessage {
        message_id: claimed.message_id,
        receipt_handle: receipt::encode(record.id, claimed.receipt),
        md5_of_body: meta
            .md5_of_body
            .clone()
            .unwrap_or_else(|| digest::md5_of_body(&claimed.body)),
        body: claimed.body,
        attributes,
        md5_of_message_attributes,
        message_attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selection(names: &[&str]) -> Selection {
        Selection::new(&ReceiveMessageInput {
            message_attribute_names: names.iter().map(|n| n.to_string()).collect(),
            ..Default::default()
        })
    }

    #[test]
    fn message_attribute_selection_supports_all_exact_and_prefix_patterns() {
        assert!(selection(&["All"]).wants_message_attribute("x"));
        assert!(selection(&[".*"]).wants_message_attribute("x"));
        assert!(selection(&["Hello"]).wants_message_attribute("Hello"));
        assert!(!selection(&["Hello"]).wants_message_attribute("Help.Me"));
        assert!(selection(&["Help.*"]).wants_message_attribute("Help.Me"));
        assert!(!selection(&["Help.*"]).wants_message_attribute("Hello"));
        assert!(!selection(&[]).wants_message_attribute("Hello"));
    }

    #[test]
    fn sequence_numbers_have_twenty_digits() {
        assert_eq!(sequence_number(42), "00000000000000000042");
    }
}
