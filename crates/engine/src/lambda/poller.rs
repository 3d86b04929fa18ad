//! Event source mapping pollers: the `lambda-event-source-mappings` worker and, per enabled
//! mapping, a poller that long-polls the queue through the engine, builds batches, invokes
//! the function through [`Engine::run_function`] and deletes what succeeded (reference
//! §4.3).
//!
//! # The worker
//!
//! Loads every mapping at start, then again whenever a mapping is created, updated or
//! deleted through this node (at once) and every few seconds (so a change made through
//! another node sharing the store arrives too). For each enabled mapping it keeps one
//! poller running with the mapping's current settings (a changed mapping gets a new
//! poller; the old one finishes its batches in flight and stops), and settles transitional
//! states (`Creating`, `Enabling`, `Updating` → `Enabled`; `Disabling` → `Disabled` once the
//! local poller has stopped). Every node polls every mapping: claims are atomic, so nodes
//! never deliver the same message twice, and no lease is needed.
//!
//! # A poller
//!
//! Runs batch workers, each one batch at a time: long poll (up to 10 messages a receive,
//! up to 20 s), gather until `BatchSize`, the batching window or the 6 MB payload limit,
//! filter, invoke synchronously, then delete all (or, with `ReportBatchItemFailures`, all
//! but the reported ones). On a function error, timeout or throttle nothing is deleted: the
//! messages come back after the visibility timeout and the queue's redrive policy
//! dead-letters them. Five workers start (fewer when `MaximumConcurrency` is lower); while
//! batches come back full one more is added at most every 200 ms (AWS's +300 a minute), up
//! to `MaximumConcurrency` (default 1,000); a worker whose long poll finds nothing retires
//! while more than five are left. FIFO order needs nothing more here: a FIFO queue never
//! hands a message group to a second receiver while any of its messages is in flight.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use store::{FunctionRecord, ResourceCondition, ResourceRecord};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::filter::Pattern;
use super::mappings::{EVENT_SOURCE_MAPPING_KIND, StoredMapping, queue_of_arn};
use super::sqs_event::{MAX_EVENT_BYTES, SqsRecord, empty_event_bytes, event_payload};
use super::{FunctionConfiguration, InvokeRequest};
use crate::sqs::{BatchEntry, QueueRef, ReceiveMessageInput};
use crate::{Engine, Error, Result};

/// How often the worker looks for mappings changed through other nodes.
const RESCAN_PERIOD: Duration = Duration::from_secs(3);
/// The longest long poll (SQS's `WaitTimeSeconds` limit).
const LONG_POLL: Duration = Duration::from_secs(20);
/// Messages per receive (SQS's limit).
const RECEIVE_MAX: usize = 10;
/// Batch workers a poller starts with and shrinks back to.
const MINIMUM_WORKERS: usize = 5;
/// Batch workers per mapping without `ScalingConfig.MaximumConcurrency`.
const DEFAULT_MAXIMUM_CONCURRENCY: usize = 1000;
/// One more batch worker at most this often while batches come back full (300 a minute).
const GROWTH_INTERVAL: Duration = Duration::from_millis(200);
/// Backoff after a throttle or an error, doubling up to the maximum.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAXIMUM_BACKOFF: Duration = Duration::from_secs(30);
/// AWS adds this to the visibility when `window + timeout` exceeds the queue's.
const EXTRA_VISIBILITY_SECONDS: i64 = 30;

/// What the API calls share with the mapping worker on this node.
#[derive(Debug, Default)]
pub(crate) struct MappingState {
    /// Notified when a mapping was created, updated or deleted here, or a poller stopped.
    changed: Notify,
}

/// What a poller polls with; a mapping whose settings differ gets a new poller.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PollerSettings {
    account: String,
    uuid: String,
    queue: QueueRef,
    queue_arn: String,
    function_arn: String,
    batch_size: usize,
    window: Duration,
    report_batch_item_failures: bool,
    maximum_concurrency: usize,
    patterns: Vec<String>,
    fifo: bool,
}

impl PollerSettings {
    fn of(account: &str, stored: &StoredMapping) -> Option<PollerSettings> {
        let configuration = &stored.configuration;
        let queue = queue_of_arn(&configuration.event_source_arn)?;
        Some(PollerSettings {
            account: account.to_string(),
            uuid: configuration.uuid.clone(),
            fifo: queue.name.ends_with(".fifo"),
            queue,
            queue_arn: configuration.event_source_arn.clone(),
            function_arn: configuration.function_arn.clone(),
            batch_size: usize::try_from(configuration.batch_size)
                .unwrap_or(1)
                .max(1),
            window: Duration::from_secs(
                u64::try_from(configuration.maximum_batching_window_in_seconds).unwrap_or(0),
            ),
            report_batch_item_failures: stored.reports_batch_item_failures(),
            maximum_concurrency: configuration
                .scaling_config
                .as_ref()
                .and_then(|config| config.maximum_concurrency)
                .and_then(|maximum| usize::try_from(maximum).ok())
                .unwrap_or(DEFAULT_MAXIMUM_CONCURRENCY)
                .max(1),
            patterns: configuration
                .filter_criteria
                .as_ref()
                .map(|criteria| criteria.patterns())
                .unwrap_or_default(),
        })
    }
}

struct RunningPoller {
    settings: PollerSettings,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Engine {
    /// Tells this node's mapping worker to look at the mappings again now.
    pub(crate) fn event_source_mappings_changed(&self) {
        self.inner.mappings.changed.notify_one();
    }

    /// The `lambda-event-source-mappings` worker: keeps one poller per enabled mapping
    /// running until shutdown, then waits for the pollers to stop.
    pub(crate) async fn run_event_source_mappings(self) {
        let shutdown = self.shutdown_token().clone();
        tracing::debug!(worker = "lambda-event-source-mappings", "worker started");
        let mut running: HashMap<(String, String), RunningPoller> = HashMap::new();
        let mut stopping: Vec<RunningPoller> = Vec::new();
        loop {
            if let Err(error) = self.reconcile_mappings(&mut running, &mut stopping).await {
                tracing::warn!(worker = "lambda-event-source-mappings", %error, "mapping pass failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.inner.mappings.changed.notified() => {}
                _ = tokio::time::sleep(RESCAN_PERIOD) => {}
            }
        }
        for poller in running.values() {
            poller.stop.cancel();
        }
        for poller in running.into_values().chain(stopping) {
            let _ = poller.task.await;
        }
        tracing::debug!(worker = "lambda-event-source-mappings", "worker stopped");
    }

    /// One pass: start, restart and stop pollers to match the stored mappings, and settle
    /// transitional states.
    async fn reconcile_mappings(
        &self,
        running: &mut HashMap<(String, String), RunningPoller>,
        stopping: &mut Vec<RunningPoller>,
    ) -> Result<()> {
        stopping.retain(|poller| !poller.task.is_finished());
        let records = self
            .store()
            .resources_of_kind(EVENT_SOURCE_MAPPING_KIND)
            .await?;
        let mut present = HashSet::new();
        for record in records {
            let stored = match StoredMapping::from_record(&record) {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::warn!(%error, "skipping an unreadable event source mapping");
                    continue;
                }
            };
            let key = (record.account.clone(), record.key.clone());
            present.insert(key.clone());
            let settings = PollerSettings::of(&record.account, &stored);
            let outdated = running.get(&key).is_some_and(|poller| {
                !stored.enabled
                    || settings.as_ref() != Some(&poller.settings)
                    || poller.task.is_finished()
            });
            if outdated && let Some(poller) = running.remove(&key) {
                poller.stop.cancel();
                stopping.push(poller);
            }
            if stored.enabled
                && !running.contains_key(&key)
                && let Some(settings) = settings
            {
                let stop = CancellationToken::new();
                let engine = self.clone();
                let poller_settings = settings.clone();
                let poller_stop = stop.clone();
                let task = tokio::spawn(async move {
                    engine.run_poller(poller_settings, poller_stop).await;
                });
                tracing::debug!(mapping = %settings.uuid, queue = %settings.queue_arn, function = %settings.function_arn, "poller started");
                running.insert(
                    key.clone(),
                    RunningPoller {
                        settings,
                        stop,
                        task,
                    },
                );
            }
            let still_stopping = stopping.iter().any(|poller| {
                poller.settings.account == key.0
                    && poller.settings.uuid == key.1
                    && !poller.task.is_finished()
            });
            let settled = match (stored.enabled, stored.configuration.state.as_str()) {
                (true, "Creating" | "Enabling" | "Updating") if running.contains_key(&key) => {
                    "Enabled"
                }
                (false, "Creating" | "Enabling" | "Disabling" | "Updating") if !still_stopping => {
                    "Disabled"
                }
                _ => continue,
            };
            self.settle_mapping_state(&record, stored, settled).await?;
        }
        let gone: Vec<(String, String)> = running
            .keys()
            .filter(|key| !present.contains(*key))
            .cloned()
            .collect();
        for key in gone {
            if let Some(poller) = running.remove(&key) {
                tracing::debug!(mapping = %key.1, "poller stopping: mapping deleted");
                poller.stop.cancel();
                stopping.push(poller);
            }
        }
        Ok(())
    }

    /// Writes the settled state unless the mapping changed meanwhile (then the change's
    /// own notification brings the worker back).
    async fn settle_mapping_state(
        &self,
        record: &ResourceRecord,
        mut stored: StoredMapping,
        state: &str,
    ) -> Result<()> {
        stored.configuration.state = state.to_string();
        self.put_mapping(
            &record.account,
            &stored,
            ResourceCondition::Revision(record.revision_id.clone()),
        )
        .await?;
        Ok(())
    }

    /// One mapping's poller: batch workers, grown while batches come back full and shrunk
    /// when idle, until `stop` or shutdown.
    async fn run_poller(self, settings: PollerSettings, stop: CancellationToken) {
        let patterns = settings
            .patterns
            .iter()
            .filter_map(|source| match Pattern::parse(source) {
                Ok(pattern) => Some(pattern),
                Err(error) => {
                    tracing::warn!(mapping = %settings.uuid, %error, "ignoring an invalid filter pattern");
                    None
                }
            })
            .collect();
        let minimum = MINIMUM_WORKERS.min(settings.maximum_concurrency);
        let maximum = settings.maximum_concurrency;
        let context = Arc::new(PollerContext {
            engine: self.clone(),
            settings,
            patterns,
            stop: stop.clone(),
            active: AtomicUsize::new(0),
            minimum,
            full_batch: Notify::new(),
        });
        let shutdown = self.shutdown_token().clone();
        let mut workers = JoinSet::new();
        for _ in 0..minimum {
            context.spawn_worker(&mut workers);
        }
        let mut last_growth = Instant::now();
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = shutdown.cancelled() => break,
                _ = context.full_batch.notified() => {
                    if workers.len() < maximum && last_growth.elapsed() >= GROWTH_INTERVAL {
                        context.spawn_worker(&mut workers);
                        last_growth = Instant::now();
                    }
                }
                Some(joined) = workers.join_next() => {
                    if let Err(error) = joined {
                        tracing::error!(mapping = %context.settings.uuid, %error, "batch worker failed");
                        context.active.fetch_sub(1, Ordering::SeqCst);
                    }
                    if workers.len() < minimum {
                        context.spawn_worker(&mut workers);
                    }
                }
            }
        }
        // Workers see the stop (or shutdown) too: they finish the batch in hand and return.
        while workers.join_next().await.is_some() {}
        tracing::debug!(mapping = %context.settings.uuid, "poller stopped");
        self.event_source_mappings_changed();
    }
}

/// What a poller's batch workers share.
struct PollerContext {
    engine: Engine,
    settings: PollerSettings,
    patterns: Vec<Pattern>,
    stop: CancellationToken,
    /// Batch workers running.
    active: AtomicUsize,
    minimum: usize,
    /// A batch came back full: there is more to do than the workers keep up with.
    full_batch: Notify,
}

/// A batch being gathered.
#[derive(Default)]
struct Batch {
    records: Vec<SqsRecord>,
    bytes: usize,
    /// Whether any message was received (even if all were filtered out).
    received: bool,
    /// Stopped at `BatchSize` or the payload limit: more messages may be waiting.
    full: bool,
}

/// How a batch ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The function succeeded; everything not reported as failed was deleted.
    Done,
    /// The function failed (or its partial response was unusable): nothing was deleted.
    FunctionFailed,
    /// No concurrency was left: nothing was deleted.
    Throttled,
    /// eddy could not run the function: nothing was deleted.
    NotRun,
    /// eddy is shutting down: the invocation was abandoned.
    Abandoned,
}

impl PollerContext {
    fn spawn_worker(self: &Arc<Self>, workers: &mut JoinSet<()>) {
        self.active.fetch_add(1, Ordering::SeqCst);
        let context = Arc::clone(self);
        workers.spawn(async move { context.run_worker().await });
    }

    fn stopped(&self) -> bool {
        self.stop.is_cancelled() || self.engine.shutdown_token().is_cancelled()
    }

    /// Leaves if more than the minimum are running (then the caller must return).
    fn try_retire(&self) -> bool {
        self.active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |active| {
                (active > self.minimum).then(|| active - 1)
            })
            .is_ok()
    }

    /// Sleeps unless stopped first; false when stopped.
    async fn pause(&self, duration: Duration) -> bool {
        tokio::select! {
            _ = self.stop.cancelled() => false,
            _ = self.engine.shutdown_token().cancelled() => false,
            _ = tokio::time::sleep(duration) => true,
        }
    }

    /// One batch worker: gather, invoke, delete, until stopped or retired.
    async fn run_worker(self: Arc<Self>) {
        let mut carried: Vec<SqsRecord> = Vec::new();
        let mut backoff = FIRST_BACKOFF;
        loop {
            if self.engine.shutdown_token().is_cancelled()
                || (self.stop.is_cancelled() && carried.is_empty())
            {
                break;
            }
            let (function, configuration) = match self
                .engine
                .find_function_to_invoke(&self.settings.account, &self.settings.function_arn, None)
                .await
                .map(|(record, configuration, _)| (record, configuration))
            {
                Ok(found) => found,
                Err(error) => {
                    tracing::warn!(mapping = %self.settings.uuid, function = %self.settings.function_arn, %error, "cannot find the mapping's function; backing off");
                    if !self.pause(backoff).await {
                        break;
                    }
                    backoff = (backoff * 2).min(MAXIMUM_BACKOFF);
                    continue;
                }
            };
            let batch = match self.gather(&mut carried, configuration.timeout).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(mapping = %self.settings.uuid, queue = %self.settings.queue_arn, %error, "cannot receive from the mapping's queue; backing off");
                    if !self.pause(backoff).await {
                        break;
                    }
                    backoff = (backoff * 2).min(MAXIMUM_BACKOFF);
                    continue;
                }
            };
            if batch.records.is_empty() {
                if !batch.received && !self.stopped() && self.try_retire() {
                    return;
                }
                continue;
            }
            if batch.full {
                self.full_batch.notify_one();
            }
            match self.invoke(batch.records, &function, &configuration).await {
                Outcome::Done | Outcome::FunctionFailed => backoff = FIRST_BACKOFF,
                Outcome::Abandoned => break,
                Outcome::Throttled | Outcome::NotRun => {
                    if !self.pause(backoff).await {
                        break;
                    }
                    backoff = (backoff * 2).min(MAXIMUM_BACKOFF);
                }
            }
        }
        self.active.fetch_sub(1, Ordering::SeqCst);
    }

    /// The visibility timeout receives ask for: the queue's, unless the batching window
    /// plus the function's timeout exceeds it (then that sum plus 30 s, as AWS does).
    async fn visibility_for(&self, function_timeout: i64) -> Result<Option<i64>> {
        let attributes = self
            .engine
            .get_queue_attributes(&self.settings.queue, &["VisibilityTimeout".to_string()])
            .await?;
        let queue_visibility: i64 = attributes
            .get("VisibilityTimeout")
            .and_then(|value| value.parse().ok())
            .unwrap_or(30);
        let window = i64::try_from(self.settings.window.as_secs()).unwrap_or(0);
        Ok((window + function_timeout > queue_visibility)
            .then_some(window + function_timeout + EXTRA_VISIBILITY_SECONDS))
    }

    /// Gathers one batch: the records carried over from the last one first, then long
    /// polls until `BatchSize`, the window's end or the payload limit. Records that do not
    /// fit are carried into the next batch; filtered-out messages are deleted.
    async fn gather(&self, carried: &mut Vec<SqsRecord>, function_timeout: i64) -> Result<Batch> {
        let settings = &self.settings;
        let mut batch = Batch {
            bytes: empty_event_bytes(),
            ..Batch::default()
        };
        for record in carried.drain(..) {
            batch.bytes += record.event_bytes();
            batch.records.push(record);
        }
        let mut window_end = (!batch.records.is_empty()).then(|| Instant::now() + settings.window);
        let visibility = self.visibility_for(function_timeout).await?;
        loop {
            if batch.records.len() >= settings.batch_size {
                batch.full = true;
                break;
            }
            let wait = match window_end {
                None => LONG_POLL,
                Some(end) => {
                    let left = end.saturating_duration_since(Instant::now());
                    if left.is_zero() || self.stopped() {
                        break;
                    }
                    left.min(LONG_POLL)
                }
            };
            let wanted = (settings.batch_size - batch.records.len()).min(RECEIVE_MAX);
            let received = self
                .engine
                .receive_message_until(
                    &settings.queue,
                    ReceiveMessageInput {
                        max_number_of_messages: Some(i64::try_from(wanted).unwrap_or(10)),
                        visibility_timeout: visibility,
                        message_system_attribute_names: vec!["All".to_string()],
                        message_attribute_names: vec!["All".to_string()],
                        ..ReceiveMessageInput::default()
                    },
                    Some(wait),
                    Some(&self.stop),
                )
                .await?;
            if received.is_empty() {
                if window_end.is_none() {
                    return Ok(batch);
                }
                continue;
            }
            batch.received = true;
            if window_end.is_none() {
                window_end = Some(Instant::now() + settings.window);
            }
            let region = self.engine.config().region.clone();
            let mut filtered_out = Vec::new();
            for message in received {
                let record = SqsRecord::new(
                    message,
                    &settings.queue_arn,
                    &region,
                    !self.patterns.is_empty(),
                );
                if !self.passes_filters(&record) {
                    filtered_out.push(record.receipt_handle);
                    continue;
                }
                let fits = batch.records.is_empty()
                    || batch.bytes + record.event_bytes() <= MAX_EVENT_BYTES;
                if !carried.is_empty() || !fits {
                    carried.push(record);
                    continue;
                }
                batch.bytes += record.event_bytes();
                batch.records.push(record);
            }
            if !filtered_out.is_empty() {
                self.delete(filtered_out).await;
            }
            if !carried.is_empty() {
                batch.full = true;
                break;
            }
        }
        Ok(batch)
    }

    fn passes_filters(&self, record: &SqsRecord) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let Some(document) = &record.document else {
            return true;
        };
        self.patterns
            .iter()
            .any(|pattern| pattern.matches_sqs_record(document, &record.body))
    }

    /// Invokes the function with the batch and deletes what succeeded.
    async fn invoke(
        &self,
        records: Vec<SqsRecord>,
        function: &FunctionRecord,
        configuration: &FunctionConfiguration,
    ) -> Outcome {
        let request = InvokeRequest {
            payload: event_payload(&records),
            invoked_function_arn: Some(self.settings.function_arn.clone()),
            client_context: None,
            trace_id: None,
            request_id: None,
        };
        let result = tokio::select! {
            result = self.engine.run_function(function, configuration, request) => result,
            // The invocation is dropped (its environment killed); the messages come back
            // after their visibility timeout.
            _ = self.engine.shutdown_token().cancelled() => return Outcome::Abandoned,
        };
        let result = match result {
            Ok(result) => result,
            Err(Error::TooManyRequests(reason)) => {
                tracing::debug!(mapping = %self.settings.uuid, reason = reason.reason(), "invocation throttled; backing off");
                return Outcome::Throttled;
            }
            Err(error) => {
                tracing::warn!(mapping = %self.settings.uuid, %error, "cannot invoke the mapping's function; backing off");
                return Outcome::NotRun;
            }
        };
        if let Some(function_error) = &result.function_error {
            tracing::debug!(
                mapping = %self.settings.uuid,
                request_id = %result.request_id,
                error = function_error,
                error_type = result.error_type.as_deref().unwrap_or(""),
                records = records.len(),
                "function failed; the batch returns after the visibility timeout"
            );
            return Outcome::FunctionFailed;
        }
        let kept: HashSet<String> = if self.settings.report_batch_item_failures {
            let ids: HashSet<&str> = records
                .iter()
                .map(|record| record.message_id.as_str())
                .collect();
            match batch_item_failures(&result.payload, &ids) {
                Ok(failed) if self.settings.fifo => keep_group_order(&records, &failed),
                Ok(failed) => failed,
                Err(reason) => {
                    tracing::debug!(mapping = %self.settings.uuid, request_id = %result.request_id, reason, "unusable batchItemFailures; treating the batch as failed");
                    return Outcome::FunctionFailed;
                }
            }
        } else {
            HashSet::new()
        };
        let handles = records
            .into_iter()
            .filter(|record| !kept.contains(&record.message_id))
            .map(|record| record.receipt_handle)
            .collect();
        self.delete(handles).await;
        Outcome::Done
    }

    /// Deletes messages by receipt handle, ten per DeleteMessageBatch, concurrently.
    async fn delete(&self, handles: Vec<String>) {
        let mut deletes = JoinSet::new();
        for chunk in handles.chunks(RECEIVE_MAX) {
            let engine = self.engine.clone();
            let queue = self.settings.queue.clone();
            let entries: Vec<BatchEntry<String>> = chunk
                .iter()
                .enumerate()
                .map(|(index, handle)| BatchEntry {
                    id: index.to_string(),
                    input: handle.clone(),
                })
                .collect();
            deletes.spawn(async move { engine.delete_message_batch(&queue, entries).await });
        }
        while let Some(joined) = deletes.join_next().await {
            match joined {
                Ok(Ok(output)) => {
                    for failure in output.failed {
                        tracing::warn!(mapping = %self.settings.uuid, code = %failure.code, message = %failure.message, "a processed message could not be deleted");
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(mapping = %self.settings.uuid, %error, "processed messages could not be deleted");
                }
                Err(error) => {
                    tracing::error!(mapping = %self.settings.uuid, %error, "delete task failed");
                }
            }
        }
    }
}

/// The message ids a `ReportBatchItemFailures` response names (reference §4.3): empty for
/// full success (an empty or `null` response, no `batchItemFailures`, an empty or `null`
/// list); `Err` for full failure (not JSON, an entry without a non-empty string
/// `itemIdentifier`, or one naming a message not in the batch).
fn batch_item_failures(
    payload: &[u8],
    batch: &HashSet<&str>,
) -> Result<HashSet<String>, &'static str> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(HashSet::new());
    }
    let response: Value =
        serde_json::from_slice(payload).map_err(|_| "the response is not JSON")?;
    let Some(failures) = response.get("batchItemFailures") else {
        return Ok(HashSet::new());
    };
    let failures = match failures {
        Value::Null => return Ok(HashSet::new()),
        Value::Array(failures) => failures,
        _ => return Err("batchItemFailures is not a list"),
    };
    let mut failed = HashSet::new();
    for failure in failures {
        let identifier = failure
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .filter(|identifier| !identifier.is_empty())
            .ok_or("an entry has no itemIdentifier")?;
        if !batch.contains(identifier) {
            return Err("an itemIdentifier is not in the batch");
        }
        failed.insert(identifier.to_string());
    }
    Ok(failed)
}

/// FIFO: a reported failure also keeps every later message of its group in the batch, so
/// a group is never deleted past a message that has to be retried (AWS asks handlers to
/// report them; eddy does not rely on it).
fn keep_group_order(records: &[SqsRecord], failed: &HashSet<String>) -> HashSet<String> {
    let mut blocked_groups = HashSet::new();
    let mut kept = HashSet::new();
    for record in records {
        let group = record.message_group_id.as_deref().unwrap_or("");
        if failed.contains(&record.message_id) || blocked_groups.contains(group) {
            blocked_groups.insert(group.to_string());
            kept.insert(record.message_id.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn batch_item_failure_responses_follow_aws_rules() {
        let batch: HashSet<&str> = ["a", "b", "c"].into();
        let failed = |names: &[&str]| -> Result<HashSet<String>, &'static str> {
            Ok(names.iter().map(|name| name.to_string()).collect())
        };
        // Full success.
        for payload in [
            "",
            "null",
            "{}",
            r#"{"batchItemFailures":[]}"#,
            r#"{"batchItemFailures":null}"#,
            r#""done""#,
        ] {
            assert_eq!(
                batch_item_failures(payload.as_bytes(), &batch),
                failed(&[]),
                "{payload}"
            );
        }
        // Partial.
        assert_eq!(
            batch_item_failures(
                br#"{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"c"}]}"#,
                &batch
            ),
            failed(&["b", "c"])
        );
        // Full failure.
        for payload in [
            "not json",
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
            r#"{"batchItemFailures":[{"itemId":"a"}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#,
            r#"{"batchItemFailures":"a"}"#,
        ] {
            assert!(
                batch_item_failures(payload.as_bytes(), &batch).is_err(),
                "{payload}"
            );
        }
    }

    #[test]
    fn fifo_failure_keeps_the_rest_of_its_group() {
        let record = |id: &str, group: &str| SqsRecord {
            message_id: id.to_string(),
            receipt_handle: String::new(),
            message_group_id: Some(group.to_string()),
            json: Vec::new(),
            document: None,
            body: String::new(),
        };
        let records = vec![
            record("a1", "a"),
            record("b1", "b"),
            record("a2", "a"),
            record("b2", "b"),
            record("a3", "a"),
        ];
        let kept = keep_group_order(&records, &HashSet::from(["a2".to_string()]));
        assert_eq!(kept, HashSet::from(["a2".to_string(), "a3".to_string()]));
    }
}
