//! Asynchronous invocation (Invoke with `Event`, reference §3): events are held durably in
//! a per-function internal queue, run through [`Engine::run_function`] by the pollers of
//! `async_worker.rs`, retried as Lambda retries them, and their outcomes written to the
//! configured destinations and dead-letter queue.
//!
//! # The internal queues
//!
//! Each function with asynchronous events has one SQS standard queue in the reserved
//! account [`ASYNC_QUEUE_ACCOUNT`], which no client can name (it is not 12 digits, and the
//! api refuses it in queue URLs), so ListQueues never shows it. The queue's name comes from
//! the function's account, name and creation time (a function deleted and created again
//! gets a new queue, and never its predecessor's events); tags on the queue name the
//! function, so a poller knows whom it serves. One message is one event: a JSON header
//! line ([`EventHeader`]: request id, function, qualifier, enqueue time, attempts so far,
//! the last failure), a newline, then the payload exactly as Invoke received it.
//!
//! # Invariants
//!
//! - Invoke answers 202 only after the event's message is committed.
//! - An event is never lost once acknowledged: a retry is sent (as a new message, with its
//!   delay) before the message it replaces is deleted, and destinations and the
//!   dead-letter queue are written before the message is deleted. A crash in between
//!   runs an attempt or writes a record twice (at-least-once, as Lambda).
//! - Attempts count function errors only; throttles and platform errors go back to the
//!   queue with exponential backoff and count against the maximum event age alone.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use store::{FunctionRecord, Millis};
use tokio::sync::mpsc;

use super::event_invoke_config::AsyncPolicy;
use super::targets::{DestinationKind, Target, dead_letter_target};
use super::{FunctionConfiguration, InvocationResult, InvokeRequest};
use crate::sqs::{
    Caller, CreateQueueInput, MessageAttributeValue, QueueRef, ReceivedMessage, SendMessageInput,
};
use crate::{Engine, Error, Result};

/// The account that owns every internal queue. Not 12 digits, so no client can use it.
pub const ASYNC_QUEUE_ACCOUNT: &str = "lambda:async";
/// Largest asynchronous Invoke payload (1 MB since 2025; it was 256 KB).
pub const MAX_ASYNC_PAYLOAD_BYTES: usize = 1_048_576;
/// Lambda's base delay before the second attempt after a function error (the third waits
/// twice as long).
pub const DEFAULT_FUNCTION_RETRY_DELAY: Duration = Duration::from_secs(60);
/// Throttles and platform errors back off from 1 s, doubling, up to this.
const MAX_BACKOFF_SECONDS: i64 = 300;
/// The dead-letter message carries at most this much of the error message.
const MAX_ERROR_MESSAGE_BYTES: usize = 1024;
/// A failed attempt's response is kept for the final record up to this size.
const MAX_KEPT_RESPONSE_BYTES: usize = 256 * 1024;
/// Internal queues keep messages as long as SQS can (14 days), far beyond the 6 hours an
/// event may wait.
const INTERNAL_RETENTION_SECONDS: &str = "1209600";
const QUEUE_NAME_LIMIT: usize = 80;

const TAG_ACCOUNT: &str = "eddy:function-account";
const TAG_NAME: &str = "eddy:function-name";
const TAG_CREATED: &str = "eddy:function-created";

/// Settings of asynchronous invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncInvocationSettings {
    /// The wait before the second attempt after a function error; the third waits twice
    /// as long (Lambda: about one and two minutes). Tests shorten it.
    pub function_retry_delay: Duration,
}

impl Default for AsyncInvocationSettings {
    fn default() -> Self {
        AsyncInvocationSettings {
            function_retry_delay: DEFAULT_FUNCTION_RETRY_DELAY,
        }
    }
}

/// What this node keeps in memory for asynchronous invocation; all of it is rebuilt from
/// the store after a restart.
#[derive(Debug, Default)]
pub(crate) struct AsyncInvocations {
    settings: Mutex<AsyncInvocationSettings>,
    /// Internal queues known to exist, so an Invoke does not create its queue every time.
    known_queues: Mutex<HashSet<String>>,
    /// Asks the worker to poll a queue (set once the worker runs).
    pub(crate) poller_requests: OnceLock<mpsc::UnboundedSender<QueueRef>>,
}

impl AsyncInvocations {
    fn known(&self) -> MutexGuard<'_, HashSet<String>> {
        // Never held across an await; each use is one insert, remove or lookup.
        self.known_queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn settings(&self) -> AsyncInvocationSettings {
        *self
            .settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The function an internal queue serves, as its tags record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueueOwner {
    pub account: String,
    pub name: String,
    pub created_at: Millis,
}

/// The first line of an internal message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventHeader {
    /// The invocation's request id: the 202's `x-amzn-RequestId`, the function's
    /// `aws_request_id` on every attempt, and the records' `requestId`.
    pub request_id: String,
    pub account: String,
    pub function_name: String,
    /// Which incarnation of the function the event is for.
    pub function_created_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// When Invoke accepted the event; the maximum event age counts from here.
    pub enqueued_at: Millis,
    /// Attempts that ran the function.
    pub attempts: u32,
    /// Throttles and platform errors since the last attempt (the backoff's exponent).
    pub throttles: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<Failure>,
}

/// Why the last attempt (or try) did not succeed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Failure {
    /// The invoke status: 200 for a function error, 429 throttled, 500 platform error.
    pub status_code: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_error: Option<String>,
    pub error_message: String,
    /// The function's error document, when small enough to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_payload: Option<String>,
}

impl Failure {
    fn of_result(result: &InvocationResult) -> Failure {
        Failure {
            status_code: 200,
            executed_version: Some(result.executed_version.clone()),
            function_error: result.function_error.clone(),
            error_message: error_message_of(&result.payload),
            response_payload: (result.payload.len() <= MAX_KEPT_RESPONSE_BYTES)
                .then(|| String::from_utf8_lossy(&result.payload).into_owned()),
        }
    }

    fn throttled() -> Failure {
        Failure {
            status_code: 429,
            executed_version: None,
            function_error: None,
            error_message: "Rate Exceeded.".to_string(),
            response_payload: None,
        }
    }

    fn platform(error: &Error) -> Failure {
        Failure {
            status_code: 500,
            executed_version: None,
            function_error: None,
            error_message: error.to_string(),
            response_payload: None,
        }
    }
}

impl InvocationResult {
    /// Invoke's answer to an `Event`: nothing ran yet; only the request id is known.
    pub(crate) fn accepted(request_id: String, executed_version: String) -> InvocationResult {
        InvocationResult {
            request_id,
            payload: Vec::new(),
            function_error: None,
            error_type: None,
            executed_version,
            log_tail: String::new(),
            environment_pid: None,
            cold_start: false,
        }
    }
}

/// `errorMessage` of an error document, or the document itself.
fn error_message_of(payload: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|value| {
            value
                .get("errorMessage")
                .and_then(|message| message.as_str().map(str::to_string))
        })
        .unwrap_or_else(|| String::from_utf8_lossy(payload).into_owned())
}

/// How an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Condition {
    Success,
    RetriesExhausted,
    EventAgeExceeded,
}

impl Condition {
    fn as_str(self) -> &'static str {
        match self {
            Condition::Success => "Success",
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

pub(crate) fn encode_event(header: &EventHeader, payload: &str) -> Result<String> {
    let line = serde_json::to_string(header)
        .map_err(|error| Error::LambdaService(format!("cannot encode event: {error}")))?;
    Ok(format!("{line}\n{payload}"))
}

pub(crate) fn decode_event(body: &str) -> Option<(EventHeader, &str)> {
    let (line, payload) = body.split_once('\n')?;
    Some((serde_json::from_str(line).ok()?, payload))
}

/// `<account>-<name>-<created>`; characters SQS refuses, or a name too long, are replaced
/// by a readable prefix and a hash of the whole.
pub(crate) fn async_queue_name(account: &str, name: &str, created_at: Millis) -> String {
    use sha2::{Digest, Sha256};
    let full = format!("{account}-{name}-{created_at}");
    let clean = full
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if clean && full.len() <= QUEUE_NAME_LIMIT {
        return full;
    }
    let hash = hex::encode(Sha256::digest(full.as_bytes()));
    let prefix: String = full
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(QUEUE_NAME_LIMIT - 33)
        .collect();
    format!("{prefix}-{}", &hash[..32])
}

/// `2026-01-31T12:00:00.123Z`.
fn iso_timestamp(millis: Millis) -> String {
    let seconds = millis.div_euclid(1000);
    let (year, month, day) = crate::clock::civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        millis.rem_euclid(1000)
    )
}

/// A payload as a JSON value inside a record: verbatim when it is JSON, else a string.
fn embedded_json(payload: &str) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(payload).is_ok() {
        payload.to_string()
    } else {
        serde_json::Value::String(payload.to_string()).to_string()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext<'a> {
    request_id: &'a str,
    function_arn: &'a str,
    condition: &'a str,
    approximate_invoke_count: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseContext<'a> {
    status_code: u16,
    executed_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_error: Option<&'a str>,
}

/// The invocation record of reference §3, with the payloads embedded as JSON values.
pub(crate) struct InvocationRecord<'a> {
    pub timestamp: Millis,
    pub request_id: &'a str,
    pub function_arn: &'a str,
    pub condition: Condition,
    pub approximate_invoke_count: u32,
    pub request_payload: &'a str,
    pub status_code: u16,
    pub executed_version: &'a str,
    pub function_error: Option<&'a str>,
    pub response_payload: Option<&'a str>,
}

impl InvocationRecord<'_> {
    pub(crate) fn to_json(&self) -> Result<String> {
        let request_context = json_of(&RequestContext {
            request_id: self.request_id,
            function_arn: self.function_arn,
            condition: self.condition.as_str(),
            approximate_invoke_count: self.approximate_invoke_count,
        })?;
        let response_context = json_of(&ResponseContext {
            status_code: self.status_code,
            executed_version: self.executed_version,
            function_error: self.function_error,
        })?;
        let mut record = format!(
            "{{\"version\":\"1.0\",\"timestamp\":\"{}\",\"requestContext\":{request_context},\"requestPayload\":{},\"responseContext\":{response_context}",
            iso_timestamp(self.timestamp),
            embedded_json(self.request_payload),
        );
        if let Some(response) = self.response_payload {
            record.push_str(",\"responsePayload\":");
            record.push_str(&embedded_json(response));
        }
        record.push('}');
        Ok(record)
    }
}

fn json_of(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|error| Error::LambdaService(error.to_string()))
}

/// The first `limit` bytes of `text`, cut at a character boundary.
fn truncated(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Whether a delivery error is permanent (the target cannot take this record: drop it) or
/// may pass (try again later).
fn is_permanent(error: &Error) -> bool {
    !matches!(
        error,
        Error::Store(_) | Error::LambdaService(_) | Error::TooManyRequests(_)
    )
}

impl Engine {
    /// Sets the retry delay of asynchronous invocation (before workers start).
    pub fn set_async_invocation_settings(&self, settings: AsyncInvocationSettings) {
        *self
            .inner
            .async_invocations
            .settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = settings;
    }

    /// Invoke with `Event`: stores the event durably and returns its request id. The
    /// payload was checked (size, JSON) by Invoke.
    pub(crate) async fn invoke_async(
        &self,
        record: &FunctionRecord,
        qualifier: Option<String>,
        payload: Vec<u8>,
        client_context: Option<String>,
    ) -> Result<String> {
        let payload = String::from_utf8(payload).map_err(|error| {
            Error::InvalidRequestContent(format!(
                "Could not parse request body into json: Could not parse payload into json: {error}"
            ))
        })?;
        let header = EventHeader {
            request_id: uuid::Uuid::new_v4().to_string(),
            account: record.account.clone(),
            function_name: record.name.clone(),
            function_created_at: record.created_at,
            qualifier,
            enqueued_at: self.now(),
            attempts: 0,
            throttles: 0,
            client_context,
            last_failure: None,
        };
        let body = encode_event(&header, &payload)?;
        self.enqueue_async_event(record, body).await?;
        Ok(header.request_id)
    }

    /// Stores one event in its function's internal queue (creating the queue on first use)
    /// and makes sure a poller serves it.
    async fn enqueue_async_event(&self, record: &FunctionRecord, body: String) -> Result<()> {
        let queue = self.async_queue(record).await?;
        let sent = self.send_internal_message(&queue, body.clone(), 0).await;
        let queue = match sent {
            Ok(_) => queue,
            Err(Error::QueueDoesNotExist) => {
                // Deleted since this node learned of it (the function was deleted through
                // another node, or a poller collected it): look once more.
                self.inner.async_invocations.known().remove(&queue.name);
                let queue = self.async_queue(record).await?;
                self.send_internal_message(&queue, body, 0).await?;
                queue
            }
            Err(error) => return Err(error),
        };
        self.request_async_poller(&queue);
        Ok(())
    }

    pub(crate) fn request_async_poller(&self, queue: &QueueRef) {
        if let Some(requests) = self.inner.async_invocations.poller_requests.get() {
            // The worker is gone only at shutdown; the event waits in the store then.
            let _ = requests.send(queue.clone());
        }
    }

    /// The internal queue of `record`'s function, created if it does not exist.
    async fn async_queue(&self, record: &FunctionRecord) -> Result<QueueRef> {
        let queue = QueueRef {
            account: ASYNC_QUEUE_ACCOUNT.to_string(),
            name: async_queue_name(&record.account, &record.name, record.created_at),
        };
        if self.inner.async_invocations.known().contains(&queue.name) {
            return Ok(queue);
        }
        let caller = Caller {
            account: ASYNC_QUEUE_ACCOUNT.to_string(),
            sender_id: ASYNC_QUEUE_ACCOUNT.to_string(),
        };
        let input = CreateQueueInput {
            name: queue.name.clone(),
            attributes: BTreeMap::from([(
                "MessageRetentionPeriod".to_string(),
                INTERNAL_RETENTION_SECONDS.to_string(),
            )]),
            tags: BTreeMap::from([
                (TAG_ACCOUNT.to_string(), record.account.clone()),
                (TAG_NAME.to_string(), record.name.clone()),
                (TAG_CREATED.to_string(), record.created_at.to_string()),
            ]),
        };
        match self.create_queue(&caller, input).await {
            Ok(_) => {}
            // Deleted within the last minute: only DeleteFunction deletes it, so the
            // function this event was for is gone.
            Err(Error::QueueDeletedRecently(_)) => {
                return Err(Error::FunctionNotFound(format!(
                    "Function not found: {}",
                    self.function_arn(&record.account, &record.name)
                )));
            }
            Err(error) => return Err(error),
        }
        self.inner
            .async_invocations
            .known()
            .insert(queue.name.clone());
        Ok(queue)
    }

    /// The function an internal queue serves, from its tags (`None` for a queue that is
    /// not an internal queue of a function).
    pub(crate) async fn async_queue_owner(&self, queue: &QueueRef) -> Result<Option<QueueOwner>> {
        let tags = self.list_queue_tags(queue).await?;
        let owner = (|| {
            Some(QueueOwner {
                account: tags.get(TAG_ACCOUNT)?.clone(),
                name: tags.get(TAG_NAME)?.clone(),
                created_at: tags.get(TAG_CREATED)?.parse().ok()?,
            })
        })();
        Ok(owner)
    }

    /// Deletes an internal queue (its function is gone), with every event still in it.
    pub(crate) async fn delete_async_queue(&self, queue: &QueueRef) -> Result<()> {
        self.inner.async_invocations.known().remove(&queue.name);
        match self.delete_queue(queue).await {
            Ok(()) | Err(Error::QueueDoesNotExist) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// DeleteFunction's part: the function's pending events and its event invoke
    /// configurations go with it. Failures are logged: the function is already gone, and
    /// a poller deletes an orphaned queue when it finds no function for it.
    pub(crate) async fn delete_async_invocations(&self, record: &FunctionRecord) {
        let queue = QueueRef {
            account: ASYNC_QUEUE_ACCOUNT.to_string(),
            name: async_queue_name(&record.account, &record.name, record.created_at),
        };
        if let Err(error) = self.delete_async_queue(&queue).await {
            tracing::warn!(function = %record.name, %error, "cannot delete the internal queue of a deleted function");
        }
        if let Err(error) = self
            .delete_event_invoke_configs(&record.account, &record.name)
            .await
        {
            tracing::warn!(function = %record.name, %error, "cannot delete the event invoke configurations of a deleted function");
        }
    }

    /// Runs one event taken from `queue` to its next step: an attempt, then success, a
    /// retry, or a final failure; or straight to a final failure when the event is too old
    /// or the function may not run at all. `Err` leaves the message as it is: it comes
    /// back after its visibility timeout. `visibility` is the visibility timeout (seconds)
    /// the message was received with.
    pub(crate) async fn process_async_event(
        &self,
        queue: &QueueRef,
        message: &ReceivedMessage,
        visibility: i64,
    ) -> Result<()> {
        let Some((mut header, payload)) = decode_event(&message.body) else {
            tracing::warn!(queue = %queue.name, message = %message.message_id, "unreadable asynchronous event dropped");
            return self.finish_async_message(queue, message).await;
        };
        // An alias with routing weights picks its version for each attempt, as Lambda does.
        let found = self
            .find_function_to_invoke(
                &header.account,
                &header.function_name,
                header.qualifier.as_deref(),
            )
            .await
            .map(|(record, configuration, _)| (record, configuration));
        let (record, configuration) = match found {
            Ok((record, configuration)) if record.created_at == header.function_created_at => {
                (record, configuration)
            }
            Ok(_) | Err(Error::FunctionNotFound(_)) => {
                tracing::debug!(function = %header.function_name, request_id = %header.request_id, "event for a deleted function dropped");
                return self.finish_async_message(queue, message).await;
            }
            Err(error) => return Err(error),
        };
        let qualifier = header
            .qualifier
            .clone()
            .unwrap_or_else(|| "$LATEST".to_string());
        let policy = self
            .async_policy(&record.account, &record.name, &qualifier)
            .await?;
        let now = self.now();
        let expires_at = header
            .enqueued_at
            .saturating_add(policy.maximum_event_age_seconds.saturating_mul(1000));
        if now >= expires_at {
            let failure = header.last_failure.clone();
            return self
                .finish_async_event(
                    queue,
                    message,
                    &header,
                    payload,
                    &configuration,
                    &policy,
                    Condition::EventAgeExceeded,
                    None,
                    failure,
                )
                .await;
        }
        let function_key = (record.account.clone(), record.name.clone());
        let platform = self.inner.functions.get();
        let reserved_zero = platform
            .is_some_and(|platform| platform.concurrency.reservation(&function_key) == Some(0));
        if reserved_zero {
            // Lambda sends such events straight to the dead-letter queue and on-failure
            // destination, without retries.
            return self
                .finish_async_event(
                    queue,
                    message,
                    &header,
                    payload,
                    &configuration,
                    &policy,
                    Condition::RetriesExhausted,
                    None,
                    Some(Failure::throttled()),
                )
                .await;
        }
        // A version may have a longer timeout than the one the poller received with.
        let needed = configuration.timeout + super::async_worker::VISIBILITY_MARGIN_SECONDS;
        if needed > visibility {
            let _ = self
                .change_message_visibility(
                    queue,
                    crate::sqs::ChangeVisibilityInput {
                        receipt_handle: message.receipt_handle.clone(),
                        visibility_timeout: needed,
                    },
                )
                .await;
        }

        let request = InvokeRequest {
            payload: payload.as_bytes().to_vec(),
            invoked_function_arn: Some(configuration.function_arn.clone()),
            client_context: header.client_context.clone(),
            trace_id: None,
            request_id: Some(header.request_id.clone()),
        };
        let outcome = self.run_function(&record, &configuration, request).await;
        let remaining_seconds = (expires_at - self.now()).div_euclid(1000) + 1;
        match outcome {
            Ok(result) if result.function_error.is_none() => {
                header.attempts += 1;
                self.finish_async_event(
                    queue,
                    message,
                    &header,
                    payload,
                    &configuration,
                    &policy,
                    Condition::Success,
                    Some(&result),
                    None,
                )
                .await
            }
            Ok(result) => {
                header.attempts += 1;
                header.throttles = 0;
                let failure = Failure::of_result(&result);
                if i64::from(header.attempts) > policy.maximum_retry_attempts {
                    return self
                        .finish_async_event(
                            queue,
                            message,
                            &header,
                            payload,
                            &configuration,
                            &policy,
                            Condition::RetriesExhausted,
                            Some(&result),
                            Some(failure),
                        )
                        .await;
                }
                header.last_failure = Some(failure);
                let base = self
                    .inner
                    .async_invocations
                    .settings()
                    .function_retry_delay
                    .as_secs();
                let delay = i64::try_from(base)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(i64::from(header.attempts))
                    .min(remaining_seconds);
                tracing::debug!(function = %record.name, request_id = %header.request_id, attempts = header.attempts, delay, "asynchronous event failed; retrying");
                self.retry_async_event(queue, message, &header, payload, delay)
                    .await
            }
            Err(Error::FunctionNotFound(_)) => self.finish_async_message(queue, message).await,
            Err(error) => {
                // Throttled, or eddy could not run the function: back to the queue with
                // exponential backoff; no attempt is counted.
                header.throttles += 1;
                let failure = match &error {
                    Error::TooManyRequests(_) => Failure::throttled(),
                    other => Failure::platform(other),
                };
                if header
                    .last_failure
                    .as_ref()
                    .is_none_or(|last| last.function_error.is_none())
                {
                    header.last_failure = Some(failure);
                }
                let exponent = header.throttles.saturating_sub(1).min(16);
                let delay = (1_i64 << exponent)
                    .min(MAX_BACKOFF_SECONDS)
                    .min(remaining_seconds)
                    .max(1);
                tracing::debug!(function = %record.name, request_id = %header.request_id, %error, delay, "asynchronous event not run; backing off");
                self.retry_async_event(queue, message, &header, payload, delay)
                    .await
            }
        }
    }

    /// Sends the event's next try (after `delay` seconds), then deletes the message it
    /// replaces: in this order, so a crash between the two repeats a try but loses none.
    async fn retry_async_event(
        &self,
        queue: &QueueRef,
        message: &ReceivedMessage,
        header: &EventHeader,
        payload: &str,
        delay: i64,
    ) -> Result<()> {
        let body = encode_event(header, payload)?;
        self.send_internal_message(queue, body, delay).await?;
        self.finish_async_message(queue, message).await
    }

    async fn finish_async_message(
        &self,
        queue: &QueueRef,
        message: &ReceivedMessage,
    ) -> Result<()> {
        match self.delete_message(queue, &message.receipt_handle).await {
            Ok(()) | Err(Error::QueueDoesNotExist) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The event's final outcome: the invocation record to the OnSuccess or OnFailure
    /// destination, the event to the dead-letter queue on failure, then the message is
    /// deleted.
    #[allow(clippy::too_many_arguments)]
    async fn finish_async_event(
        &self,
        queue: &QueueRef,
        message: &ReceivedMessage,
        header: &EventHeader,
        payload: &str,
        configuration: &FunctionConfiguration,
        policy: &AsyncPolicy,
        condition: Condition,
        result: Option<&InvocationResult>,
        failure: Option<Failure>,
    ) -> Result<()> {
        let function = (header.account.as_str(), header.function_name.as_str());
        let qualifier = header.qualifier.as_deref().unwrap_or("$LATEST");
        let function_arn = format!(
            "{}:{qualifier}",
            self.function_arn(&header.account, &header.function_name)
        );
        let (destination, kind) = match condition {
            Condition::Success => (&policy.on_success, DestinationKind::OnSuccess),
            _ => (&policy.on_failure, DestinationKind::OnFailure),
        };
        tracing::debug!(function = %header.function_name, request_id = %header.request_id, condition = condition.as_str(), attempts = header.attempts, "asynchronous event finished");
        if let Some(arn) = destination {
            let response_text = result.map(|result| String::from_utf8_lossy(&result.payload));
            let (status_code, executed_version, function_error, response_payload) =
                match (&response_text, result, &failure) {
                    (Some(text), Some(result), _) => (
                        200,
                        result.executed_version.clone(),
                        result.function_error.clone(),
                        Some(text.as_ref()),
                    ),
                    (_, _, Some(failure)) => (
                        failure.status_code,
                        failure
                            .executed_version
                            .clone()
                            .unwrap_or_else(|| configuration.version.clone()),
                        failure.function_error.clone(),
                        failure.response_payload.as_deref(),
                    ),
                    _ => (200, configuration.version.clone(), None, None),
                };
            let record = InvocationRecord {
                timestamp: self.now(),
                request_id: &header.request_id,
                function_arn: &function_arn,
                condition,
                approximate_invoke_count: header.attempts,
                request_payload: payload,
                status_code,
                executed_version: &executed_version,
                function_error: function_error.as_deref(),
                response_payload,
            }
            .to_json()?;
            if let Some(target) = self.resolved_destination(function, kind, arn).await? {
                self.deliver_record(&header.account, &target, record)
                    .await?;
            }
        }
        if condition != Condition::Success
            && let Some(dead_letter) = configuration
                .dead_letter_config
                .as_ref()
                .and_then(|config| config.target_arn.as_deref())
        {
            let failure = failure.unwrap_or_else(Failure::throttled);
            match dead_letter_target(dead_letter, &self.inner.config.region) {
                Ok(Some(dead_letter_queue)) => {
                    self.send_dead_letter(header, payload, &failure, &dead_letter_queue)
                        .await?;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(target = dead_letter, %error, "dead-letter target is not usable; event dropped");
                }
            }
        }
        self.finish_async_message(queue, message).await
    }

    /// Sends an invocation record to a destination. A target that cannot take it (a
    /// deleted queue, a record too large) drops it, as Lambda does; a store failure is an
    /// error, to try again.
    async fn deliver_record(&self, account: &str, target: &Target, record: String) -> Result<()> {
        let delivered = match target {
            Target::Queue(queue) => {
                let caller = Caller {
                    account: account.to_string(),
                    sender_id: account.to_string(),
                };
                self.send_message(
                    &caller,
                    queue,
                    SendMessageInput {
                        body: record,
                        ..SendMessageInput::default()
                    },
                )
                .await
                .map(|_| ())
            }
            Target::Function {
                account,
                name,
                qualifier,
            } => match self.inner.store.get_function(account, name).await? {
                None => Err(Error::FunctionNotFound(format!(
                    "Function not found: {}",
                    self.function_arn(account, name)
                ))),
                Some(function) => {
                    let header = EventHeader {
                        request_id: uuid::Uuid::new_v4().to_string(),
                        account: function.account.clone(),
                        function_name: function.name.clone(),
                        function_created_at: function.created_at,
                        qualifier: qualifier.clone(),
                        enqueued_at: self.now(),
                        attempts: 0,
                        throttles: 0,
                        client_context: None,
                        last_failure: None,
                    };
                    let body = encode_event(&header, &record)?;
                    self.enqueue_async_event(&function, body).await
                }
            },
        };
        match delivered {
            Ok(()) => Ok(()),
            Err(error) if is_permanent(&error) => {
                tracing::warn!(target = ?target, %error, "cannot deliver an asynchronous invocation record; dropped");
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// The dead-letter message: the original event as the body, and `RequestID`,
    /// `ErrorCode` and `ErrorMessage` attributes.
    async fn send_dead_letter(
        &self,
        header: &EventHeader,
        payload: &str,
        failure: &Failure,
        queue: &QueueRef,
    ) -> Result<()> {
        let string = |value: &str| MessageAttributeValue {
            data_type: "String".to_string(),
            string_value: Some(value.to_string()),
            ..MessageAttributeValue::default()
        };
        let mut message = truncated(&failure.error_message, MAX_ERROR_MESSAGE_BYTES).to_string();
        if message.trim().is_empty() {
            message = failure
                .function_error
                .clone()
                .unwrap_or_else(|| "Unhandled".to_string());
        }
        let attributes = BTreeMap::from([
            ("RequestID".to_string(), string(&header.request_id)),
            (
                "ErrorCode".to_string(),
                MessageAttributeValue {
                    data_type: "Number".to_string(),
                    string_value: Some(failure.status_code.to_string()),
                    ..MessageAttributeValue::default()
                },
            ),
            ("ErrorMessage".to_string(), string(&message)),
        ]);
        let caller = Caller {
            account: header.account.clone(),
            sender_id: header.account.clone(),
        };
        let sent = self
            .send_message(
                &caller,
                queue,
                SendMessageInput {
                    body: payload.to_string(),
                    message_attributes: attributes,
                    ..SendMessageInput::default()
                },
            )
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(error) if is_permanent(&error) => {
                // Lambda counts these as DeadLetterErrors and drops the event.
                tracing::warn!(queue = %queue.name, %error, "cannot write to the dead-letter queue; event dropped");
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

impl Engine {
    /// An SNS delivery to a function: its internal queue (created if needed) and the event
    /// body to store there. The caller commits it, together with the publish's other
    /// deliveries, and then asks for the queue's poller (`request_async_poller`).
    pub(crate) async fn async_event_for(
        &self,
        function_arn: &str,
        payload: String,
    ) -> Result<(QueueRef, store::QueueRecord, String)> {
        let (account, name, qualifier) = super::functions::parse_function_identifier(
            function_arn,
            &self.config().default_account,
            None,
        )?;
        let (record, _) = self
            .find_function(&account, &name, qualifier.as_deref())
            .await?;
        let header = EventHeader {
            request_id: uuid::Uuid::new_v4().to_string(),
            account: record.account.clone(),
            function_name: record.name.clone(),
            function_created_at: record.created_at,
            qualifier,
            enqueued_at: self.now(),
            attempts: 0,
            throttles: 0,
            client_context: None,
            last_failure: None,
        };
        let body = encode_event(&header, &payload)?;
        let queue = self.async_queue(&record).await?;
        let queue_record = self.queue_record(&queue).await?;
        Ok((queue, queue_record, body))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn events_round_trip_with_the_payload_verbatim() {
        let header = EventHeader {
            request_id: "r".to_string(),
            account: "000000000000".to_string(),
            function_name: "f".to_string(),
            function_created_at: 1,
            qualifier: None,
            enqueued_at: 2,
            attempts: 1,
            throttles: 0,
            client_context: None,
            last_failure: None,
        };
        let payload = "{ \"a\" :\n [1, 2.50] }";
        let body = encode_event(&header, payload).unwrap();
        let (decoded, decoded_payload) = decode_event(&body).unwrap();
        assert_eq!(decoded, header);
        assert_eq!(decoded_payload, payload);
    }

    #[test]
    fn queue_names_fit_sqs_rules() {
        assert_eq!(
            async_queue_name("000000000000", "orders", 1_700_000_000_000),
            "000000000000-orders-1700000000000"
        );
        let long = async_queue_name("000000000000", &"x".repeat(64), 1_700_000_000_000);
        assert_eq!(long.len(), 80);
        assert!(
            long.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(
            long,
            async_queue_name("000000000000", &"x".repeat(64), 1_700_000_000_001)
        );
    }

    #[test]
    fn records_embed_payloads_as_json() {
        let record = InvocationRecord {
            timestamp: 1_769_860_800_123,
            request_id: "id",
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
            condition: Condition::RetriesExhausted,
            approximate_invoke_count: 3,
            request_payload: "{\"orderId\": 7}",
            status_code: 200,
            executed_version: "$LATEST",
            function_error: Some("Unhandled"),
            response_payload: Some("not json"),
        }
        .to_json()
        .unwrap();
        let value: serde_json::Value = serde_json::from_str(&record).unwrap();
        assert_eq!(value["timestamp"], "2026-01-31T12:00:00.123Z");
        assert_eq!(value["requestPayload"]["orderId"], 7);
        assert_eq!(value["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(value["responseContext"]["functionError"], "Unhandled");
        assert_eq!(value["responsePayload"], "not json");
    }

    #[test]
    fn error_messages_are_cut_at_a_character_boundary() {
        let text = "é".repeat(600);
        assert_eq!(truncated(&text, 1023).len(), 1022);
        assert_eq!(error_message_of(br#"{"errorMessage":"boom"}"#), "boom");
    }
}
