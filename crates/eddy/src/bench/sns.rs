//! `eddy bench sns`: a topic fanned out to SQS queues, against any SNS+SQS endpoint (eddy,
//! moto, LocalStack).
//!
//! The run creates a topic and `--queues` standard queues subscribed to it (raw delivery off,
//! so each queue gets the JSON envelope), then measures in two phases:
//!
//! 1. throughput: `--publishers` concurrent publishers make single Publish calls until
//!    `--messages` or `--duration`; the bench then waits until every queue holds every
//!    acknowledged message (GetQueueAttributes), so the server's CPU per publish covers the
//!    publish and its deliveries. Finally the queues are drained, and each delivery is checked
//!    against what Publish answered: every acknowledged MessageId must be in every queue
//!    (lost and duplicated deliveries are counted per queue).
//! 2. latency: one publisher, one message at a time, while one consumer per queue long-polls;
//!    publish-to-visible is the time from just before the Publish request is sent until a
//!    consumer has the message in a ReceiveMessage answer.
//!
//! Every message carries `<run id>:<sequence>:<micros>:` padded to `--message-size` (as in
//! `eddy bench sqs`), so a delivery names the publish it came from even without its MessageId.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::client::{CallError, SnsClient, SqsClient};
use super::process::{self, ProcessSample};
use super::report::{micros_per, rate, truncate};
use super::sqs::{ErrorLog, ErrorTally, message_body, micros, parse_body};

const DEFAULT_MESSAGES: u64 = 50_000;
/// With only `--duration`, the publishers stop at this many messages at the latest.
const DURATION_ONLY_MESSAGES: u64 = 10_000_000;
const MAX_MESSAGES: u64 = 100_000_000;
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Latency-phase messages published before the measured ones, to warm connections and caches.
const LATENCY_WARMUP: u32 = 10;
/// How long the latency phase waits for one message to reach every queue.
const LATENCY_RECEIPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Long-poll wait of the latency consumers, in seconds.
const LATENCY_WAIT_SECONDS: u32 = 5;
/// The drain gives up after this long whatever happens, so a run is always bounded.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

/// Options of `eddy bench sns`.
#[derive(Debug, Clone, Args)]
pub struct SnsBenchArgs {
    /// Base URL of the endpoint serving both SNS (query protocol) and SQS (JSON 1.0).
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    /// Concurrent publishers in the throughput phase, each making single Publish calls.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub publishers: u32,
    /// Standard SQS queues subscribed to the topic (raw message delivery off).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub queues: u32,
    /// Publishes in the throughput phase; the publishers stop at this count or at --duration,
    /// whichever comes first. Default: 50,000, or 10,000,000 when only --duration is given.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_MESSAGES))]
    pub messages: Option<u64>,
    /// Stop the publishers after this many seconds even if --messages is not reached.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Size of each message in bytes (the id header is never cut, so tiny sizes grow).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=262_144))]
    pub message_size: u32,
    /// Messages published one at a time in the latency phase (after 10 unmeasured ones);
    /// 0 skips the phase.
    #[arg(long, default_value_t = 1000)]
    pub latency_messages: u32,
    /// Consumers per queue that drain it after the throughput phase (ReceiveMessage of 10,
    /// DeleteMessageBatch).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub drain_consumers: u32,
    /// Waiting for deliveries, and draining, give up after this many seconds without progress.
    #[arg(long, default_value_t = 10.0)]
    pub idle_timeout: f64,
    /// PID of the server, to report its CPU time and resident memory (read from /proc).
    /// Repeat it, or give a comma-separated list, for several processes: their figures are summed.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Keep the topic and the queues at the end instead of deleting them.
    #[arg(long)]
    pub keep: bool,
    /// Also print the figures as one line of JSON (the last line of stdout).
    #[arg(long)]
    pub json: bool,
}

/// Backing off after failed calls, for the SNS bench's loops.
trait BackOff {
    async fn on_call_error(&self, action: &str, error: &CallError);
}

impl BackOff for ErrorLog {
    /// Counts a failed call and backs off briefly, so a dead server is not hammered in a loop.
    async fn on_call_error(&self, action: &str, error: &CallError) {
        self.record_call(action, error);
        let pause = match error {
            CallError::Transport(_) => Duration::from_millis(50),
            _ => Duration::from_millis(5),
        };
        tokio::time::sleep(pause).await;
    }
}

fn histogram() -> Histogram<u64> {
    // Latencies are recorded in microseconds, from 1 µs to one hour, 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds are valid")
}

/// What the run created, so it can be used and deleted.
struct Fixture {
    topic_name: String,
    topic_arn: String,
    /// (name, URL) of each subscribed queue.
    queues: Vec<(String, String)>,
}

/// Creates the topic and the queues and subscribes the queues (raw delivery off).
async fn create_fixture(
    sns: &SnsClient,
    sqs: &SqsClient,
    run_id: &str,
    queue_count: u32,
) -> anyhow::Result<Fixture> {
    let topic_name = format!("eddy-bench-{run_id}");
    let topic_arn = sns
        .call_for("CreateTopic", &[("Name", &topic_name)], "TopicArn")
        .await
        .map_err(|error| failed("CreateTopic", &error))?;
    let mut queues = Vec::new();
    for index in 1..=queue_count {
        let name = format!("eddy-bench-{run_id}-q{index}");
        let created = sqs
            .call("CreateQueue", &json!({ "QueueName": name }))
            .await
            .map_err(|error| failed("CreateQueue", &error))?;
        let url = created
            .get("QueueUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("CreateQueue answered without a QueueUrl: {created}"))?
            .to_owned();
        let attributes = sqs
            .call(
                "GetQueueAttributes",
                &json!({ "QueueUrl": url, "AttributeNames": ["QueueArn"] }),
            )
            .await
            .map_err(|error| failed("GetQueueAttributes", &error))?;
        let queue_arn = attributes["Attributes"]["QueueArn"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("GetQueueAttributes gave no QueueArn: {attributes}"))?
            .to_owned();
        sns.call_for(
            "Subscribe",
            &[
                ("TopicArn", &topic_arn),
                ("Protocol", "sqs"),
                ("Endpoint", &queue_arn),
                ("ReturnSubscriptionArn", "true"),
            ],
            "SubscriptionArn",
        )
        .await
        .map_err(|error| failed("Subscribe", &error))?;
        queues.push((name, url));
    }
    Ok(Fixture {
        topic_name,
        topic_arn,
        queues,
    })
}

fn failed(action: &str, error: &CallError) -> anyhow::Error {
    anyhow::anyhow!("{action} failed: {} ({})", error.key(), error.detail())
}

/// Deletes the topic (and with it its subscriptions) and the queues; failures are only noted.
async fn delete_fixture(sns: &SnsClient, sqs: &SqsClient, fixture: &Fixture) {
    if let Err(error) = sns
        .call("DeleteTopic", &[("TopicArn", &fixture.topic_arn)])
        .await
    {
        eprintln!(
            "note: could not delete topic {}: {}",
            fixture.topic_name,
            error.detail()
        );
    }
    for (name, url) in &fixture.queues {
        if let Err(error) = sqs.call("DeleteQueue", &json!({ "QueueUrl": url })).await {
            eprintln!("note: could not delete queue {name}: {}", error.detail());
        }
    }
}

// ---- throughput phase: publish -------------------------------------------------------------

/// State the publishers share; the hot path touches only atomics.
struct PublishShared {
    start: Instant,
    run_id: String,
    total: u64,
    next_sequence: AtomicU64,
    acknowledged: AtomicU64,
    deadline: Option<Instant>,
    errors: Arc<ErrorLog>,
}

/// What one publisher saw: its Publish latencies and the MessageId of each acknowledged publish.
struct PublisherResult {
    latency: Histogram<u64>,
    calls: u64,
    message_ids: Vec<(u64, String)>,
}

async fn publish_loop(
    shared: Arc<PublishShared>,
    sns: SnsClient,
    topic_arn: Arc<str>,
    message_size: usize,
) -> PublisherResult {
    let mut result = PublisherResult {
        latency: histogram(),
        calls: 0,
        message_ids: Vec::new(),
    };
    loop {
        if shared
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            break;
        }
        let sequence = shared.next_sequence.fetch_add(1, Ordering::Relaxed);
        if sequence >= shared.total {
            break;
        }
        let sent_micros = micros(shared.start.elapsed());
        let message = message_body(&shared.run_id, sequence, sent_micros, message_size);
        let started = Instant::now();
        let answer = sns
            .call_for(
                "Publish",
                &[("TopicArn", &topic_arn), ("Message", &message)],
                "MessageId",
            )
            .await;
        result.calls += 1;
        match answer {
            Ok(message_id) => {
                result.latency.saturating_record(micros(started.elapsed()));
                result.message_ids.push((sequence, message_id));
                shared.acknowledged.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => shared.errors.on_call_error("Publish", &error).await,
        }
    }
    result
}

// ---- throughput phase: waiting for the deliveries ------------------------------------------

/// How the wait for deliveries ended.
struct DeliveryWait {
    /// Every queue held at least as many messages as publishes were acknowledged.
    complete: bool,
    /// From the end of publishing until complete (or until the wait gave up).
    seconds: f64,
    /// Messages each queue held at the end of the wait.
    depths: Vec<u64>,
}

/// Visible + in flight + delayed messages of a queue.
async fn queue_depth(sqs: &SqsClient, url: &str) -> Result<u64, CallError> {
    let answer = sqs
        .call(
            "GetQueueAttributes",
            &json!({ "QueueUrl": url, "AttributeNames": [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"
            ] }),
        )
        .await?;
    let number = |name: &str| {
        answer["Attributes"][name]
            .as_str()
            .and_then(|text| text.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(number("ApproximateNumberOfMessages")
        + number("ApproximateNumberOfMessagesNotVisible")
        + number("ApproximateNumberOfMessagesDelayed"))
}

/// Polls the queues' depths until each holds `expected` messages, or until none of them has
/// grown for `idle_timeout`.
async fn wait_for_deliveries(
    sqs: &SqsClient,
    fixture: &Fixture,
    expected: u64,
    idle_timeout: Duration,
    errors: &ErrorLog,
) -> DeliveryWait {
    let started = Instant::now();
    let bar = phase_bar(expected * fixture.queues.len() as u64, "delivered");
    let mut depths = vec![0_u64; fixture.queues.len()];
    let mut last_progress = Instant::now();
    let complete = loop {
        let mut grew = false;
        for ((_, url), depth) in fixture.queues.iter().zip(depths.iter_mut()) {
            match queue_depth(sqs, url).await {
                Ok(now) => {
                    grew |= now > *depth;
                    *depth = now;
                }
                Err(error) => errors.record_call("GetQueueAttributes", &error),
            }
        }
        bar.set_position(depths.iter().map(|depth| (*depth).min(expected)).sum());
        if depths.iter().all(|depth| *depth >= expected) {
            break true;
        }
        if grew {
            last_progress = Instant::now();
        } else if last_progress.elapsed() > idle_timeout {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    bar.finish_and_clear();
    DeliveryWait {
        complete,
        seconds: started.elapsed().as_secs_f64(),
        depths,
    }
}

// ---- throughput phase: draining and checking -----------------------------------------------

/// State of the drain: a receive counter per (queue, sequence) and the MessageId each
/// acknowledged publish got.
struct DrainShared {
    start: Instant,
    run_id: String,
    /// Sequences handed out to publishers; a delivery's sequence must be below it.
    attempted: u64,
    /// The MessageId Publish answered, by sequence; `None` if that publish was not acknowledged.
    message_ids: Vec<Option<String>>,
    /// Index `queue * attempted + sequence`.
    receive_counts: Vec<AtomicU32>,
    received_unique: Vec<AtomicU64>,
    acknowledged: u64,
    deleted: AtomicU64,
    foreign: AtomicU64,
    corrupt: AtomicU64,
    /// Deliveries whose envelope MessageId differs from the one Publish answered.
    message_id_mismatches: AtomicU64,
    last_new_micros: AtomicU64,
    /// Per queue: when a receive of it last came back empty (or failed).
    last_quiet_micros: Vec<AtomicU64>,
    stop: AtomicBool,
    errors: Arc<ErrorLog>,
}

impl DrainShared {
    fn micros_since_start(&self) -> u64 {
        micros(self.start.elapsed())
    }

    /// Checks one delivered SQS message and counts it for `queue`.
    fn record_delivery(&self, queue: usize, message: &Value) {
        let Some(body) = message.get("Body").and_then(Value::as_str) else {
            self.corrupt.fetch_add(1, Ordering::Relaxed);
            self.errors.record(
                "ReceiveMessage: message without Body".to_owned(),
                message.to_string(),
            );
            return;
        };
        let Some((envelope_id, inner)) = parse_envelope(body) else {
            self.corrupt.fetch_add(1, Ordering::Relaxed);
            self.errors.record(
                "delivery: body is not an SNS notification envelope".to_owned(),
                truncate(body, 200),
            );
            return;
        };
        let Some((run_id, sequence, _)) = parse_body(&inner) else {
            self.corrupt.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let index = usize::try_from(sequence)
            .ok()
            .filter(|_| run_id == self.run_id && sequence < self.attempted);
        let Some(index) = index else {
            // Left over from another run (or from the latency phase); drained, not counted.
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if let Some(Some(published_id)) = self.message_ids.get(index)
            && *published_id != envelope_id
        {
            self.message_id_mismatches.fetch_add(1, Ordering::Relaxed);
            self.errors.record(
                "delivery: envelope MessageId differs from Publish's".to_owned(),
                format!("published {published_id}, delivered {envelope_id}"),
            );
        }
        let slot = queue * self.attempted as usize + index;
        if let Some(counter) = self.receive_counts.get(slot)
            && counter.fetch_add(1, Ordering::Relaxed) == 0
        {
            self.received_unique[queue].fetch_add(1, Ordering::Relaxed);
            self.last_new_micros
                .fetch_max(self.micros_since_start(), Ordering::Relaxed);
        }
    }
}

/// (MessageId, Message) of an SNS notification envelope.
fn parse_envelope(body: &str) -> Option<(String, String)> {
    let envelope: Value = serde_json::from_str(body).ok()?;
    if envelope.get("Type").and_then(Value::as_str) != Some("Notification") {
        return None;
    }
    Some((
        envelope.get("MessageId")?.as_str()?.to_owned(),
        envelope.get("Message")?.as_str()?.to_owned(),
    ))
}

/// One drain consumer of queue `queue`: receive 10, check each, delete them; until told to stop.
async fn drain_loop(shared: Arc<DrainShared>, sqs: SqsClient, queue: usize, url: String) -> u64 {
    let receive_input = json!({
        "QueueUrl": url,
        "MaxNumberOfMessages": 10,
        "WaitTimeSeconds": 1,
    });
    let mut receive_calls = 0;
    while !shared.stop.load(Ordering::Acquire) {
        receive_calls += 1;
        let answer = match sqs.call("ReceiveMessage", &receive_input).await {
            Ok(answer) => answer,
            Err(error) => {
                shared.last_quiet_micros[queue]
                    .fetch_max(shared.micros_since_start(), Ordering::Relaxed);
                shared.errors.on_call_error("ReceiveMessage", &error).await;
                continue;
            }
        };
        let messages = answer
            .get("Messages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if messages.is_empty() {
            shared.last_quiet_micros[queue]
                .fetch_max(shared.micros_since_start(), Ordering::Relaxed);
            continue;
        }
        let mut entries = Vec::with_capacity(messages.len());
        for (position, message) in messages.iter().enumerate() {
            shared.record_delivery(queue, message);
            if let Some(handle) = message.get("ReceiptHandle").and_then(Value::as_str) {
                entries.push(json!({ "Id": format!("d{position}"), "ReceiptHandle": handle }));
            }
        }
        match sqs
            .call(
                "DeleteMessageBatch",
                &json!({ "QueueUrl": url, "Entries": entries }),
            )
            .await
        {
            Ok(answer) => {
                let deleted = answer
                    .get("Successful")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                shared.deleted.fetch_add(deleted as u64, Ordering::Relaxed);
            }
            Err(error) => {
                shared
                    .errors
                    .on_call_error("DeleteMessageBatch", &error)
                    .await
            }
        }
    }
    receive_calls
}

/// Why the drain stopped; it decides whether unreceived deliveries count as lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DrainStop {
    /// Every queue gave every acknowledged message, and then answered empty (so late
    /// duplicates were counted too), or stayed busy for --idle-timeout.
    AllReceived,
    /// Nothing new arrived for --idle-timeout, and every queue answered empty in that time.
    Idle,
    /// The drain's hard limit passed first.
    Deadline,
}

async fn watch_drain(shared: &DrainShared, idle_timeout: Duration, bar: &ProgressBar) -> DrainStop {
    let deadline = Instant::now() + DRAIN_LIMIT;
    let mut all_received_micros = None;
    let reason = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = shared.micros_since_start();
        let received: Vec<u64> = shared
            .received_unique
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .collect();
        bar.set_position(received.iter().sum());
        // Since then every queue has answered empty at least once.
        let all_quiet_since = shared
            .last_quiet_micros
            .iter()
            .map(|quiet| quiet.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0);
        if received.iter().all(|count| *count >= shared.acknowledged) {
            let since = *all_received_micros.get_or_insert(now);
            if all_quiet_since > since || now.saturating_sub(since) > micros(idle_timeout) {
                break DrainStop::AllReceived;
            }
        }
        let last_new = shared.last_new_micros.load(Ordering::Relaxed);
        if all_quiet_since > last_new && now.saturating_sub(last_new) > micros(idle_timeout) {
            break DrainStop::Idle;
        }
        if Instant::now() >= deadline {
            break DrainStop::Deadline;
        }
    };
    shared.stop.store(true, Ordering::Release);
    reason
}

/// What one queue delivered, by sequence.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct QueueIntegrity {
    pub queue: String,
    /// Acknowledged publishes received at least once.
    pub received_unique: u64,
    /// Acknowledged publishes never received.
    pub lost: u64,
    /// Publishes received more than once.
    pub duplicated: u64,
    /// Receives beyond the first, summed.
    pub extra_receives: u64,
    /// Received although Publish was not acknowledged (e.g. it timed out on our side).
    pub received_unacknowledged: u64,
}

fn count_integrity(shared: &DrainShared, fixture: &Fixture) -> Vec<QueueIntegrity> {
    let attempted = shared.attempted as usize;
    fixture
        .queues
        .iter()
        .enumerate()
        .map(|(queue, (name, _))| {
            let mut integrity = QueueIntegrity {
                queue: name.clone(),
                ..QueueIntegrity::default()
            };
            let counts = &shared.receive_counts[queue * attempted..(queue + 1) * attempted];
            for (count, message_id) in counts.iter().zip(&shared.message_ids) {
                let count = u64::from(count.load(Ordering::Relaxed));
                let acknowledged = message_id.is_some();
                if count > 0 {
                    integrity.received_unique += 1;
                    if !acknowledged {
                        integrity.received_unacknowledged += 1;
                    }
                } else if acknowledged {
                    integrity.lost += 1;
                }
                if count > 1 {
                    integrity.duplicated += 1;
                    integrity.extra_receives += count - 1;
                }
            }
            integrity
        })
        .collect()
}

// ---- latency phase ---------------------------------------------------------------------------

/// One message in one queue's ReceiveMessage answer, seen by a latency consumer.
struct Receipt {
    queue: usize,
    sequence: u64,
    at: Instant,
    /// The consumer's poll that returned it (see `polls_started`).
    poll: u64,
}

/// What the latency phase measured, in microseconds.
pub struct LatencyFigures {
    pub measured: u32,
    pub publish: Histogram<u64>,
    /// Every (message, queue) pair: publish-to-visible of each delivery.
    pub per_delivery: Histogram<u64>,
    pub first_queue: Histogram<u64>,
    /// Until the last of the queues had the message.
    pub all_queues: Histogram<u64>,
    /// Messages some queue did not give within the receipt timeout.
    pub timeouts: u64,
}

/// One latency consumer: long-polls its queue, reports each message the moment its answer is
/// in, then deletes it. `polls_started` counts its ReceiveMessage calls, so the publisher can
/// tell when it is back in a long poll.
async fn latency_consumer(
    sqs: SqsClient,
    queue: usize,
    url: String,
    latency_run_id: Arc<str>,
    polls_started: Arc<AtomicU64>,
    receipts: tokio::sync::mpsc::UnboundedSender<Receipt>,
    errors: Arc<ErrorLog>,
) {
    // One message at a time: some servers (moto) hold a long poll until it can fill the
    // whole MaxNumberOfMessages, which would time the wait instead of the delivery.
    let receive_input = json!({
        "QueueUrl": url,
        "MaxNumberOfMessages": 1,
        "WaitTimeSeconds": LATENCY_WAIT_SECONDS,
    });
    loop {
        let poll = polls_started.fetch_add(1, Ordering::AcqRel) + 1;
        let answer = match sqs.call("ReceiveMessage", &receive_input).await {
            Ok(answer) => answer,
            Err(error) => {
                errors.on_call_error("latency ReceiveMessage", &error).await;
                continue;
            }
        };
        let at = Instant::now();
        let messages = answer
            .get("Messages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut entries = Vec::new();
        for (position, message) in messages.iter().enumerate() {
            let sequence = message
                .get("Body")
                .and_then(Value::as_str)
                .and_then(parse_envelope)
                .and_then(|(_, inner)| {
                    parse_body(&inner)
                        .filter(|(run_id, _, _)| *run_id == &*latency_run_id)
                        .map(|(_, sequence, _)| sequence)
                });
            if let Some(sequence) = sequence
                && receipts
                    .send(Receipt {
                        queue,
                        sequence,
                        at,
                        poll,
                    })
                    .is_err()
            {
                // The publisher is gone: the phase is over.
                return;
            }
            if let Some(handle) = message.get("ReceiptHandle").and_then(Value::as_str) {
                entries.push(json!({ "Id": format!("d{position}"), "ReceiptHandle": handle }));
            }
        }
        if !entries.is_empty()
            && let Err(error) = sqs
                .call(
                    "DeleteMessageBatch",
                    &json!({ "QueueUrl": url, "Entries": entries }),
                )
                .await
        {
            errors
                .on_call_error("latency DeleteMessageBatch", &error)
                .await;
        }
    }
}

/// Publishes `measured` messages (after a warm-up) one at a time and times each until every
/// queue's consumer has it.
async fn measure_latency(
    sns: &SnsClient,
    sqs: &SqsClient,
    fixture: &Fixture,
    run_id: &str,
    measured: u32,
    message_size: usize,
    errors: &Arc<ErrorLog>,
) -> LatencyFigures {
    let latency_run_id: Arc<str> = Arc::from(format!("{run_id}L"));
    let (sender, mut receipts) = tokio::sync::mpsc::unbounded_channel();
    let polls: Vec<Arc<AtomicU64>> = fixture
        .queues
        .iter()
        .map(|_| Arc::new(AtomicU64::new(0)))
        .collect();
    let consumers: Vec<_> = fixture
        .queues
        .iter()
        .enumerate()
        .map(|(queue, (_, url))| {
            tokio::spawn(latency_consumer(
                sqs.clone(),
                queue,
                url.clone(),
                Arc::clone(&latency_run_id),
                Arc::clone(&polls[queue]),
                sender.clone(),
                Arc::clone(errors),
            ))
        })
        .collect();
    drop(sender);
    let mut figures = LatencyFigures {
        measured: 0,
        publish: histogram(),
        per_delivery: histogram(),
        first_queue: histogram(),
        all_queues: histogram(),
        timeouts: 0,
    };
    // Let every consumer enter its first long poll.
    wait_for_polls(&polls, &vec![0; polls.len()]).await;
    tokio::time::sleep(Duration::from_millis(20)).await;

    let bar = phase_bar(u64::from(measured), "latency");
    let queue_count = fixture.queues.len();
    for index in 0..u64::from(LATENCY_WARMUP + measured) {
        let message = message_body(&latency_run_id, index, 0, message_size);
        let started = Instant::now();
        let published = sns
            .call_for(
                "Publish",
                &[("TopicArn", &fixture.topic_arn), ("Message", &message)],
                "MessageId",
            )
            .await;
        let publish_micros = micros(started.elapsed());
        if let Err(error) = published {
            errors.on_call_error("latency Publish", &error).await;
            continue;
        }
        let mut seen: Vec<Option<Receipt>> = (0..queue_count).map(|_| None).collect();
        let deadline = tokio::time::Instant::from_std(started + LATENCY_RECEIPT_TIMEOUT);
        while seen.iter().any(Option::is_none) {
            match tokio::time::timeout_at(deadline, receipts.recv()).await {
                Ok(Some(receipt)) => {
                    // Earlier messages delivered again are ignored.
                    if receipt.sequence == index
                        && let Some(slot) = seen.get_mut(receipt.queue)
                        && slot.is_none()
                    {
                        *slot = Some(receipt);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        let measuring = index >= u64::from(LATENCY_WARMUP);
        if seen.iter().any(Option::is_none) {
            if measuring {
                figures.timeouts += 1;
            }
            errors.record(
                "latency: a queue did not deliver within 10 s".to_owned(),
                format!("message {index}"),
            );
        }
        if measuring {
            figures.measured += 1;
            figures.publish.saturating_record(publish_micros);
            let mut slowest = 0;
            for (queue, receipt) in seen.iter().enumerate() {
                let Some(receipt) = receipt else { continue };
                let visible = micros(receipt.at.saturating_duration_since(started));
                figures.per_delivery.saturating_record(visible);
                if queue == 0 {
                    figures.first_queue.saturating_record(visible);
                }
                slowest = slowest.max(visible);
            }
            if seen.iter().all(Option::is_some) {
                figures.all_queues.saturating_record(slowest);
            }
            bar.inc(1);
        }
        // Before the next message, every consumer must be back in a long poll: a poll that
        // has only just been sent would add its own round trip to the next figure.
        let returned_polls: Vec<u64> = seen
            .iter()
            .map(|receipt| receipt.as_ref().map_or(0, |receipt| receipt.poll))
            .collect();
        wait_for_polls(&polls, &returned_polls).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bar.finish_and_clear();
    for consumer in consumers {
        consumer.abort();
    }
    figures
}

/// Waits (at most 5 s) until each consumer has started a poll after poll `after[queue]`.
async fn wait_for_polls(polls: &[Arc<AtomicU64>], after: &[u64]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while polls
        .iter()
        .zip(after)
        .any(|(started, after)| started.load(Ordering::Acquire) <= *after)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

// ---- the run ---------------------------------------------------------------------------------

/// Readings of the server processes at the phase boundaries of the throughput phase.
pub struct ServerSamples {
    pub pids: Vec<u32>,
    pub before: Option<ProcessSample>,
    pub after_publish: Option<ProcessSample>,
    pub after_delivery: Option<ProcessSample>,
    pub after_drain: Option<ProcessSample>,
    pub peak_rss_kib: u64,
}

/// Everything one run measured.
pub struct SnsReport {
    pub endpoint: String,
    pub topic: String,
    pub queues: Vec<String>,
    pub publishers: u32,
    pub message_size: u32,
    pub acknowledged: u64,
    pub attempted: u64,
    pub publish_calls: u64,
    pub publish_seconds: f64,
    pub publish_latency: Histogram<u64>,
    pub delivery: DeliveryWaitFigures,
    pub drain_seconds: f64,
    pub drain_deleted: u64,
    pub drain_receive_calls: u64,
    pub drain_stop: DrainStop,
    pub integrity: Vec<QueueIntegrity>,
    pub foreign: u64,
    pub corrupt: u64,
    pub message_id_mismatches: u64,
    pub latency: Option<LatencyFigures>,
    pub client_cpu_publish: Duration,
    pub server: Option<ServerSamples>,
    pub errors: BTreeMap<String, ErrorTally>,
}

/// The delivery wait, as reported.
pub struct DeliveryWaitFigures {
    pub complete: bool,
    pub seconds: f64,
    pub depths: Vec<u64>,
}

/// Runs `eddy bench sns` and prints its report.
pub async fn run(args: SnsBenchArgs) -> anyhow::Result<()> {
    let json = args.json;
    let report = measure(args).await?;
    println!("{}", report.text());
    if json {
        println!("{}", report.json());
    }
    Ok(())
}

/// Runs both phases and returns what they measured.
pub async fn measure(args: SnsBenchArgs) -> anyhow::Result<SnsReport> {
    let pool_size = args.publishers.max(args.queues * args.drain_consumers) as usize * 2;
    let sns = SnsClient::new(&args.endpoint, pool_size, CALL_TIMEOUT)?;
    let sqs = SqsClient::new(&args.endpoint, pool_size, CALL_TIMEOUT)?;
    let run_id = format!("{:08x}", rand::random::<u32>());
    let fixture = create_fixture(&sns, &sqs, &run_id, args.queues).await?;
    let result = measure_with(&args, &sns, &sqs, &fixture, &run_id).await;
    if !args.keep {
        delete_fixture(&sns, &sqs, &fixture).await;
    }
    result
}

async fn measure_with(
    args: &SnsBenchArgs,
    sns: &SnsClient,
    sqs: &SqsClient,
    fixture: &Fixture,
    run_id: &str,
) -> anyhow::Result<SnsReport> {
    let duration = args
        .duration
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map(Duration::from_secs_f64);
    let total = args.messages.unwrap_or(if duration.is_some() {
        DURATION_ONLY_MESSAGES
    } else {
        DEFAULT_MESSAGES
    });
    let idle_timeout = Duration::from_secs_f64(args.idle_timeout.max(0.1));
    let errors = Arc::new(ErrorLog::default());
    let server_pids = Arc::new(args.server_pid.clone());
    let sample_servers = || process::sample_processes(&server_pids);
    let peak_rss = Arc::new(AtomicU64::new(0));
    let stop_rss_sampler = Arc::new(AtomicBool::new(false));
    let rss_sampler = spawn_rss_sampler(&server_pids, &peak_rss, &stop_rss_sampler);

    // 1. Publish.
    let start = Instant::now();
    let shared = Arc::new(PublishShared {
        start,
        run_id: run_id.to_owned(),
        total,
        next_sequence: AtomicU64::new(0),
        acknowledged: AtomicU64::new(0),
        deadline: duration.map(|duration| start + duration),
        errors: Arc::clone(&errors),
    });
    let topic_arn: Arc<str> = Arc::from(fixture.topic_arn.as_str());
    let server_before = sample_servers();
    let client_cpu_before = process::own_cpu_time();
    let bar = phase_bar(total, "published");
    let ticker = {
        let (bar, shared) = (bar.clone(), Arc::clone(&shared));
        tokio::spawn(async move {
            loop {
                bar.set_position(shared.acknowledged.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let publishers: Vec<_> = (0..args.publishers)
        .map(|_| {
            tokio::spawn(publish_loop(
                Arc::clone(&shared),
                sns.clone(),
                Arc::clone(&topic_arn),
                args.message_size as usize,
            ))
        })
        .collect();
    let mut publish_latency = histogram();
    let mut publish_calls = 0;
    let mut acknowledged_ids: Vec<(u64, String)> = Vec::new();
    for publisher in publishers {
        match publisher.await {
            Ok(result) => {
                let _ = publish_latency.add(&result.latency);
                publish_calls += result.calls;
                acknowledged_ids.extend(result.message_ids);
            }
            Err(error) => errors.record("publisher task".to_owned(), error.to_string()),
        }
    }
    let publish_seconds = start.elapsed().as_secs_f64();
    ticker.abort();
    bar.finish_and_clear();
    let server_after_publish = sample_servers();
    let client_cpu_publish = process::own_cpu_time().saturating_sub(client_cpu_before);
    // Each publisher takes one sequence past the end before it stops.
    let attempted = shared.next_sequence.load(Ordering::Relaxed).min(total);
    let acknowledged = acknowledged_ids.len() as u64;

    // 2. Wait until every queue holds every acknowledged message.
    let wait = wait_for_deliveries(sqs, fixture, acknowledged, idle_timeout, &errors).await;
    let server_after_delivery = sample_servers();

    // 3. Drain and check.
    let mut message_ids: Vec<Option<String>> = (0..attempted).map(|_| None).collect();
    for (sequence, message_id) in acknowledged_ids {
        if let Some(slot) = usize::try_from(sequence)
            .ok()
            .and_then(|index| message_ids.get_mut(index))
        {
            *slot = Some(message_id);
        }
    }
    let queue_count = fixture.queues.len();
    let drain = Arc::new(DrainShared {
        start: Instant::now(),
        run_id: run_id.to_owned(),
        attempted,
        message_ids,
        receive_counts: (0..attempted * queue_count as u64)
            .map(|_| AtomicU32::new(0))
            .collect(),
        received_unique: (0..queue_count).map(|_| AtomicU64::new(0)).collect(),
        acknowledged,
        deleted: AtomicU64::new(0),
        foreign: AtomicU64::new(0),
        corrupt: AtomicU64::new(0),
        message_id_mismatches: AtomicU64::new(0),
        last_new_micros: AtomicU64::new(0),
        last_quiet_micros: (0..queue_count).map(|_| AtomicU64::new(0)).collect(),
        stop: AtomicBool::new(false),
        errors: Arc::clone(&errors),
    });
    let drain_bar = phase_bar(acknowledged * queue_count as u64, "drained");
    let consumers: Vec<_> = fixture
        .queues
        .iter()
        .enumerate()
        .flat_map(|(queue, (_, url))| (0..args.drain_consumers).map(move |_| (queue, url.clone())))
        .map(|(queue, url)| tokio::spawn(drain_loop(Arc::clone(&drain), sqs.clone(), queue, url)))
        .collect();
    let drain_stop = watch_drain(&drain, idle_timeout, &drain_bar).await;
    let mut drain_receive_calls = 0;
    for consumer in consumers {
        match consumer.await {
            Ok(calls) => drain_receive_calls += calls,
            Err(error) => errors.record("drain task".to_owned(), error.to_string()),
        }
    }
    let drain_seconds = drain.start.elapsed().as_secs_f64();
    drain_bar.finish_and_clear();
    let server_after_drain = sample_servers();
    let integrity = count_integrity(&drain, fixture);

    // 4. Latency, on the drained queues.
    let latency = if args.latency_messages > 0 {
        Some(
            measure_latency(
                sns,
                sqs,
                fixture,
                run_id,
                args.latency_messages,
                args.message_size as usize,
                &errors,
            )
            .await,
        )
    } else {
        None
    };
    stop_rss_sampler.store(true, Ordering::Relaxed);
    let _ = rss_sampler.await;

    Ok(SnsReport {
        endpoint: args.endpoint.clone(),
        topic: fixture.topic_name.clone(),
        queues: fixture
            .queues
            .iter()
            .map(|(name, _)| name.clone())
            .collect(),
        publishers: args.publishers,
        message_size: args.message_size,
        acknowledged,
        attempted,
        publish_calls,
        publish_seconds,
        publish_latency,
        delivery: DeliveryWaitFigures {
            complete: wait.complete,
            seconds: wait.seconds,
            depths: wait.depths,
        },
        drain_seconds,
        drain_deleted: drain.deleted.load(Ordering::Relaxed),
        drain_receive_calls,
        drain_stop,
        integrity,
        foreign: drain.foreign.load(Ordering::Relaxed),
        corrupt: drain.corrupt.load(Ordering::Relaxed),
        message_id_mismatches: drain.message_id_mismatches.load(Ordering::Relaxed),
        latency,
        client_cpu_publish,
        server: (!server_pids.is_empty()).then(|| ServerSamples {
            pids: server_pids.to_vec(),
            before: server_before,
            after_publish: server_after_publish,
            after_delivery: server_after_delivery,
            after_drain: server_after_drain,
            peak_rss_kib: peak_rss.load(Ordering::Relaxed),
        }),
        errors: errors.snapshot(),
    })
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn phase_bar(length: u64, prefix: &'static str) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{prefix:>9} [{bar:40}] {pos:>9}/{len} {per_sec:>12} {elapsed}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    ProgressBar::new(length)
        .with_style(style)
        .with_prefix(prefix)
}

/// Samples the servers' summed RSS every 100 ms and keeps the peak, until told to stop.
fn spawn_rss_sampler(
    server_pids: &Arc<Vec<u32>>,
    peak_rss: &Arc<AtomicU64>,
    stop: &Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let (server_pids, peak_rss, stop) = (
        Arc::clone(server_pids),
        Arc::clone(peak_rss),
        Arc::clone(stop),
    );
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            if let Some(sample) = process::sample_processes(&server_pids) {
                peak_rss.fetch_max(sample.rss_kib, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

// ---- the report ------------------------------------------------------------------------------

fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn quantiles_json(histogram: &Histogram<u64>) -> Value {
    if histogram.is_empty() {
        return Value::Null;
    }
    json!({
        "count": histogram.len(),
        "p50_ms": millis(histogram.value_at_quantile(0.5)),
        "p90_ms": millis(histogram.value_at_quantile(0.9)),
        "p99_ms": millis(histogram.value_at_quantile(0.99)),
        "max_ms": millis(histogram.max()),
    })
}

fn quantiles_text(histogram: &Histogram<u64>) -> String {
    if histogram.is_empty() {
        return "no samples".to_owned();
    }
    format!(
        "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        millis(histogram.value_at_quantile(0.5)),
        millis(histogram.value_at_quantile(0.9)),
        millis(histogram.value_at_quantile(0.99)),
        millis(histogram.max())
    )
}

fn cpu_between(before: Option<ProcessSample>, after: Option<ProcessSample>) -> Option<Duration> {
    Some(after?.cpu_time.saturating_sub(before?.cpu_time))
}

fn format_micros(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |micros| format!("{micros:.1}"))
}

impl SnsReport {
    fn deliveries_expected(&self) -> u64 {
        self.acknowledged * self.queues.len() as u64
    }

    fn lost(&self) -> u64 {
        self.integrity.iter().map(|queue| queue.lost).sum()
    }

    fn duplicated(&self) -> u64 {
        self.integrity.iter().map(|queue| queue.duplicated).sum()
    }

    /// Server CPU per acknowledged publish, from the first publish until every delivery was in
    /// its queue; and of the publish phase alone.
    fn server_cpu_per_publish(&self) -> (Option<f64>, Option<f64>) {
        let Some(server) = &self.server else {
            return (None, None);
        };
        (
            cpu_between(server.before, server.after_delivery)
                .and_then(|cpu| micros_per(cpu, self.acknowledged)),
            cpu_between(server.before, server.after_publish)
                .and_then(|cpu| micros_per(cpu, self.acknowledged)),
        )
    }

    fn server_cpu_per_drained_delivery(&self) -> Option<f64> {
        let server = self.server.as_ref()?;
        micros_per(
            cpu_between(server.after_delivery, server.after_drain)?,
            self.drain_deleted,
        )
    }

    pub(super) fn text(&self) -> String {
        let mut lines = Vec::new();
        lines.push(format!(
            "eddy bench sns  {}  topic {} → {} SQS queues (envelope)  {} publishers  {}-byte messages",
            self.endpoint,
            self.topic,
            self.queues.len(),
            self.publishers,
            self.message_size
        ));
        lines.push(format!(
            "publish       {:>9} publishes in {:>7.2} s = {:>7.0} publishes/s   {} calls   latency p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            self.acknowledged,
            self.publish_seconds,
            rate(self.acknowledged, self.publish_seconds),
            self.publish_calls,
            millis(self.publish_latency.value_at_quantile(0.5)),
            millis(self.publish_latency.value_at_quantile(0.99)),
            millis(self.publish_latency.max()),
        ));
        let depths: Vec<String> = self.delivery.depths.iter().map(u64::to_string).collect();
        lines.push(format!(
            "delivery      {} in the queues {:.2} s after the last publish ({}; queue depths {})",
            if self.delivery.complete {
                "every delivery"
            } else {
                "NOT every delivery"
            },
            self.delivery.seconds,
            if self.delivery.complete {
                "complete"
            } else {
                "gave up after --idle-timeout without progress"
            },
            depths.join(", ")
        ));
        let (with_deliveries, publish_phase) = self.server_cpu_per_publish();
        if let Some(server) = &self.server {
            let pids: Vec<String> = server.pids.iter().map(u32::to_string).collect();
            lines.push(format!(
                "server CPU    {} µs/publish including its {} deliveries (publish phase alone {} µs) (pid {})",
                format_micros(with_deliveries),
                self.queues.len(),
                format_micros(publish_phase),
                pids.join(", ")
            ));
        }
        lines.push(format!(
            "drain         {:>9} deliveries received+deleted in {:>7.2} s = {:>7.0}/s   {} receives; server CPU {} µs/delivery",
            self.drain_deleted,
            self.drain_seconds,
            rate(self.drain_deleted, self.drain_seconds),
            self.drain_receive_calls,
            format_micros(self.server_cpu_per_drained_delivery()),
        ));
        let per_queue: Vec<String> = self
            .integrity
            .iter()
            .map(|queue| {
                format!(
                    "{} {}/{}/{}",
                    queue.queue.rsplit('-').next().unwrap_or_default(),
                    queue.received_unique,
                    queue.lost,
                    queue.duplicated
                )
            })
            .collect();
        let lost_label = match self.drain_stop {
            DrainStop::Deadline => "left undrained at the drain limit",
            _ => "LOST (acknowledged, never delivered)",
        };
        lines.push(format!(
            "integrity     {} acknowledged publishes, {} deliveries expected: {} {}, {} duplicated  (per queue received/lost/dup: {})",
            self.acknowledged,
            self.deliveries_expected(),
            self.lost(),
            lost_label,
            self.duplicated(),
            per_queue.join(", ")
        ));
        let unacknowledged: u64 = self
            .integrity
            .iter()
            .map(|queue| queue.received_unacknowledged)
            .sum();
        if unacknowledged + self.foreign + self.corrupt + self.message_id_mismatches > 0 {
            lines.push(format!(
                "  also: {unacknowledged} delivered whose Publish was not acknowledged, {} from other runs, {} corrupt, {} with another MessageId than Publish answered",
                self.foreign, self.corrupt, self.message_id_mismatches
            ));
        }
        if self.attempted > self.acknowledged {
            lines.push(format!(
                "unacknowledged publishes: {} of {} attempted",
                self.attempted - self.acknowledged,
                self.attempted
            ));
        }
        match &self.latency {
            None => lines.push("latency       not measured (--latency-messages 0)".to_owned()),
            Some(latency) => {
                lines.push(format!(
                    "latency       {} messages published one at a time, one long-polling consumer per queue; publish-to-visible:",
                    latency.measured
                ));
                lines.push(format!(
                    "  any queue     {}",
                    quantiles_text(&latency.per_delivery)
                ));
                lines.push(format!(
                    "  first queue   {}",
                    quantiles_text(&latency.first_queue)
                ));
                lines.push(format!(
                    "  all {} queues  {}",
                    self.queues.len(),
                    quantiles_text(&latency.all_queues)
                ));
                lines.push(format!(
                    "  Publish call  {}",
                    quantiles_text(&latency.publish)
                ));
                if latency.timeouts > 0 {
                    lines.push(format!(
                        "  {} messages did not reach every queue within 10 s",
                        latency.timeouts
                    ));
                }
            }
        }
        if self.errors.is_empty() {
            lines.push("errors        none".to_owned());
        } else {
            lines.push("errors".to_owned());
            for (key, tally) in &self.errors {
                lines.push(format!(
                    "  {:>7} x {}  (e.g. {})",
                    tally.count,
                    key,
                    truncate(&tally.example, 160)
                ));
            }
        }
        lines.push(format!(
            "client CPU    {} µs/publish (publish phase)",
            format_micros(micros_per(self.client_cpu_publish, self.acknowledged))
        ));
        if let Some(server) = &self.server {
            match (server.before, server.after_drain) {
                (Some(before), Some(after)) => lines.push(format!(
                    "server RSS    {:.1} MiB before, {:.1} MiB after, {:.1} MiB peak",
                    before.rss_kib as f64 / 1024.0,
                    after.rss_kib as f64 / 1024.0,
                    server.peak_rss_kib.max(after.rss_kib) as f64 / 1024.0
                )),
                _ => lines.push("server        could not be read from /proc".to_owned()),
            }
        }
        lines.join("\n")
    }

    pub(super) fn json(&self) -> Value {
        let (with_deliveries, publish_phase) = self.server_cpu_per_publish();
        let server = self.server.as_ref().map(|server| {
            json!({
                "pids": server.pids,
                "cpu_us_per_publish": with_deliveries,
                "publish_phase_cpu_us_per_publish": publish_phase,
                "drain_cpu_us_per_delivery": self.server_cpu_per_drained_delivery(),
                "rss_before_kib": server.before.map(|sample| sample.rss_kib),
                "rss_after_kib": server.after_drain.map(|sample| sample.rss_kib),
                "rss_peak_kib": server.after_drain.map(|sample| server.peak_rss_kib.max(sample.rss_kib)),
            })
        });
        let latency = self.latency.as_ref().map(|latency| {
            json!({
                "messages": latency.measured,
                "visible_ms": quantiles_json(&latency.per_delivery),
                "first_queue_ms": quantiles_json(&latency.first_queue),
                "all_queues_ms": quantiles_json(&latency.all_queues),
                "publish_ms": quantiles_json(&latency.publish),
                "timeouts": latency.timeouts,
            })
        });
        let errors: BTreeMap<&str, u64> = self
            .errors
            .iter()
            .map(|(key, tally)| (key.as_str(), tally.count))
            .collect();
        json!({
            "endpoint": self.endpoint,
            "topic": self.topic,
            "queues": self.queues.len(),
            "publishers": self.publishers,
            "message_size": self.message_size,
            "publish": {
                "messages": self.acknowledged,
                "attempted": self.attempted,
                "calls": self.publish_calls,
                "seconds": self.publish_seconds,
                "publishes_per_second": rate(self.acknowledged, self.publish_seconds),
                "latency": quantiles_json(&self.publish_latency),
            },
            "delivery": {
                "complete": self.delivery.complete,
                "seconds_after_last_publish": self.delivery.seconds,
                "queue_depths": self.delivery.depths,
            },
            "drain": {
                "deliveries": self.drain_deleted,
                "seconds": self.drain_seconds,
                "deliveries_per_second": rate(self.drain_deleted, self.drain_seconds),
                "receive_calls": self.drain_receive_calls,
                "stop_reason": self.drain_stop,
            },
            "integrity": {
                "acknowledged": self.acknowledged,
                "deliveries_expected": self.deliveries_expected(),
                "lost": if self.drain_stop == DrainStop::Deadline { Value::Null } else { json!(self.lost()) },
                "undelivered": self.lost(),
                "duplicated": self.duplicated(),
                "per_queue": self.integrity,
                "foreign": self.foreign,
                "corrupt": self.corrupt,
                "message_id_mismatches": self.message_id_mismatches,
            },
            "latency": latency,
            "errors": errors,
            "error_count": self.errors.values().map(|tally| tally.count).sum::<u64>(),
            "client": {
                "cpu_us_per_publish": micros_per(self.client_cpu_publish, self.acknowledged),
            },
            "server": server,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_gives_its_message_id_and_message() {
        let body =
            r#"{"Type":"Notification","MessageId":"m-1","TopicArn":"arn","Message":"abc:1:2:xx"}"#;
        assert_eq!(
            parse_envelope(body),
            Some(("m-1".to_owned(), "abc:1:2:xx".to_owned()))
        );
    }

    #[test]
    fn a_raw_body_is_not_an_envelope() {
        assert_eq!(parse_envelope("abc:1:2:xx"), None);
        assert_eq!(
            parse_envelope(r#"{"Type":"SubscriptionConfirmation","MessageId":"m","Message":"x"}"#),
            None
        );
    }
}
