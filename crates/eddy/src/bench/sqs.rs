//! `eddy bench sqs`: concurrent producers and consumers against any SQS endpoint, or against
//! several nodes of one service (the workers are spread round-robin over the endpoints).
//!
//! Every message body carries `<run id>:<sequence>:<send time>`, so the consumers can check
//! that each acknowledged message arrived exactly once (duplicates and losses are counted) and
//! measure end-to-end latency. Each worker keeps its own histograms; they are merged at the end,
//! so the hot path takes no lock except the one that counts errors.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use hdrhistogram::Histogram;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use md5::{Digest, Md5};
use serde_json::{Value, json};

use super::client::{CallError, SqsClient};
use super::process;
use super::report::{self, Report};

const DEFAULT_MESSAGES: u64 = 50_000;
const DURATION_ONLY_MESSAGES: u64 = 10_000_000;
const MAX_MESSAGES: u64 = 100_000_000;

/// Which side of the queue to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Producers only; the messages are left in the queue.
    Send,
    /// First fill the queue (producers alone), then drain it (consumers alone): each side in isolation.
    Receive,
    /// Producers and consumers at the same time; `--clients` of each.
    Both,
}

/// Options of `eddy bench sqs`.
#[derive(Debug, Clone, Args)]
pub struct SqsBenchArgs {
    /// Base URL of the SQS endpoint (eddy, moto, LocalStack...). Repeat it, or give a
    /// comma-separated list, to drive several nodes that share one store: producers and
    /// consumers are spread round-robin over them, and the queue is created through the first.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:4566")]
    pub endpoint: Vec<String>,
    /// Concurrent clients. In `--mode both` this many producers AND this many consumers run.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub clients: u32,
    /// Messages per call: 1 uses SendMessage/DeleteMessage, 2..=10 the *Batch actions;
    /// ReceiveMessage always asks for this many.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub batch: u32,
    /// What to load: send, receive (fill then drain) or both at once.
    #[arg(long, value_enum, default_value_t = Mode::Both)]
    pub mode: Mode,
    /// Total messages to send; the producers stop at this count or at --duration, whichever
    /// comes first. Default: 50,000, or 10,000,000 when only --duration is given.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_MESSAGES))]
    pub messages: Option<u64>,
    /// Stop the producers after this many seconds even if --messages is not reached. Consumers
    /// then get at most as long again to drain what was sent.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Size of each message body in bytes (the id header is never cut, so tiny sizes grow).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=262_144))]
    pub message_size: u32,
    /// Queue to use, created if missing. By default a fresh uniquely named queue is created
    /// and deleted at the end.
    #[arg(long)]
    pub queue: Option<String>,
    /// Keep the fresh queue at the end instead of deleting it.
    #[arg(long)]
    pub keep_queue: bool,
    /// PID of the server, to report its CPU time and resident memory (read from /proc).
    /// Repeat it, or give a comma-separated list, for several servers: their figures are summed.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// PID of a database server the endpoints use (e.g. PostgreSQL's postmaster), to report the
    /// CPU time of it and all its child processes separately from the servers'.
    #[arg(long)]
    pub database_pid: Option<u32>,
    /// Also print the summary as one line of JSON (the last line of stdout).
    #[arg(long)]
    pub json: bool,
    /// Long-poll wait of each ReceiveMessage, in seconds.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub wait_time: u32,
    /// Consumers give up after this many seconds without a new message once the producers are
    /// done (and the queue has answered empty at least once); unreceived messages then count as missing.
    #[arg(long, default_value_t = 5.0)]
    pub idle_timeout: f64,
    /// Use a FIFO queue (one message group per producer, explicit deduplication ids).
    #[arg(long)]
    pub fifo: bool,
}

/// Why the consumers stopped; it decides whether unreceived messages count as "missing".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every acknowledged message was received.
    AllReceived,
    /// Nothing new arrived for --idle-timeout after the producers finished, and the queue
    /// answered empty (or failed) at least once in that time.
    Idle,
    /// The drain deadline derived from --duration passed first.
    Deadline,
    /// There were no consumers (`--mode send`).
    NoConsumers,
}

/// One error kind: how often it happened and the first description seen.
#[derive(Debug, Clone)]
pub struct ErrorTally {
    pub count: u64,
    pub example: String,
}

/// Failed calls and broken deliveries, by kind, with the first example of each.
#[derive(Default)]
pub(super) struct ErrorLog {
    tallies: Mutex<BTreeMap<String, ErrorTally>>,
}

impl ErrorLog {
    pub(super) fn record(&self, key: String, example: String) {
        // A poisoned lock only means another task panicked mid-insert; the map is still usable.
        let mut tallies = self
            .tallies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tallies
            .entry(key)
            .or_insert(ErrorTally { count: 0, example })
            .count += 1;
    }

    pub(super) fn record_call(&self, action: &str, error: &CallError) {
        self.record(format!("{action}: {}", error.key()), error.detail());
    }

    pub(super) fn snapshot(&self) -> BTreeMap<String, ErrorTally> {
        self.tallies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// State shared by all workers of one run. Counters are atomics; per-message flags are indexed by
/// sequence number, so marking a message costs one atomic operation.
struct Shared {
    start: Instant,
    run_id: String,
    total_messages: u64,
    next_sequence: AtomicU64,
    acknowledged: Vec<AtomicBool>,
    acknowledged_count: AtomicU64,
    receive_counts: Vec<AtomicU32>,
    received_unique: AtomicU64,
    deleted: AtomicU64,
    foreign: AtomicU64,
    corrupt: AtomicU64,
    /// Microseconds since `start` of the last first-time receive; the idle clock.
    last_new_receive_micros: AtomicU64,
    /// Microseconds since `start` of the last receive that came back empty or failed: evidence
    /// that the queue has nothing more to give, as opposed to a server that is merely slow.
    last_quiet_receive_micros: AtomicU64,
    /// Microseconds since `start` of the last successful delete; ends the receive phase.
    last_delete_micros: AtomicU64,
    producers_done_micros: AtomicU64,
    producers_done: AtomicBool,
    stop_consumers: AtomicBool,
    stop_progress: AtomicBool,
    errors: ErrorLog,
}

impl Shared {
    fn micros_since_start(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn record_error(&self, key: String, example: String) {
        self.errors.record(key, example);
    }

    fn record_call_error(&self, action: &str, error: &CallError) {
        self.errors.record_call(action, error);
    }

    fn acknowledge(&self, sequence: u64) {
        if let Some(flag) = usize::try_from(sequence)
            .ok()
            .and_then(|index| self.acknowledged.get(index))
            && !flag.swap(true, Ordering::Relaxed)
        {
            self.acknowledged_count.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Latencies and call counts of one worker, merged into the report at the end.
pub struct WorkerStats {
    pub send_latency: Histogram<u64>,
    pub receive_latency: Histogram<u64>,
    pub delete_latency: Histogram<u64>,
    pub end_to_end_latency: Histogram<u64>,
    pub send_calls: u64,
    pub receive_calls: u64,
    pub empty_receives: u64,
    pub delete_calls: u64,
}

impl WorkerStats {
    fn new() -> Self {
        // Latencies are recorded in microseconds, from 1 µs to one hour, 3 significant digits.
        let histogram = || {
            Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("constant histogram bounds are valid")
        };
        Self {
            send_latency: histogram(),
            receive_latency: histogram(),
            delete_latency: histogram(),
            end_to_end_latency: histogram(),
            send_calls: 0,
            receive_calls: 0,
            empty_receives: 0,
            delete_calls: 0,
        }
    }

    fn merge(&mut self, other: &WorkerStats) {
        // All histograms share the same bounds, so adding cannot fail; saturate instead of erroring.
        let _ = self.send_latency.add(&other.send_latency);
        let _ = self.receive_latency.add(&other.receive_latency);
        let _ = self.delete_latency.add(&other.delete_latency);
        let _ = self.end_to_end_latency.add(&other.end_to_end_latency);
        self.send_calls += other.send_calls;
        self.receive_calls += other.receive_calls;
        self.empty_receives += other.empty_receives;
        self.delete_calls += other.delete_calls;
    }
}

pub(super) fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Settings every worker reads; built once from the arguments.
struct Plan {
    queue_url: String,
    batch: u64,
    message_size: usize,
    wait_time: u32,
    fifo: bool,
    send_deadline: Option<Instant>,
}

/// Runs `eddy bench sqs` and prints its report.
pub async fn run(args: SqsBenchArgs) -> anyhow::Result<()> {
    let json = args.json;
    measure(args).await?.print(json);
    Ok(())
}

/// Runs the load and returns what it measured.
pub async fn measure(args: SqsBenchArgs) -> anyhow::Result<Report> {
    let call_timeout = Duration::from_secs(u64::from(args.wait_time) + 30);
    if args.endpoint.is_empty() {
        anyhow::bail!("--endpoint needs at least one URL");
    }
    // One connection pool per endpoint; worker i talks to endpoint i mod n.
    let per_endpoint = (args.clients as usize).div_ceil(args.endpoint.len());
    let clients = args
        .endpoint
        .iter()
        .map(|endpoint| SqsClient::new(endpoint, per_endpoint * 2, call_timeout))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let client = &clients[0];
    let run_id = format!("{:08x}", rand::random::<u32>());
    let fresh_queue = args.queue.is_none();
    let mut queue_name = args
        .queue
        .clone()
        .unwrap_or_else(|| format!("eddy-bench-{run_id}"));
    if args.fifo && !queue_name.ends_with(".fifo") {
        queue_name.push_str(".fifo");
    }
    let queue_url = open_queue(client, &queue_name, args.fifo).await?;

    let duration = args
        .duration
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map(Duration::from_secs_f64);
    // The bookkeeping holds 5 bytes per possible message, allocated up front.
    let total = args.messages.unwrap_or(if duration.is_some() {
        DURATION_ONLY_MESSAGES
    } else {
        DEFAULT_MESSAGES
    });
    let acknowledged = (0..total).map(|_| AtomicBool::new(false)).collect();
    let receive_counts = (0..total).map(|_| AtomicU32::new(0)).collect();
    let shared = Arc::new(Shared {
        // Taken after the allocations above, which take a moment for large --messages.
        start: Instant::now(),
        run_id,
        total_messages: total,
        next_sequence: AtomicU64::new(0),
        acknowledged,
        acknowledged_count: AtomicU64::new(0),
        receive_counts,
        received_unique: AtomicU64::new(0),
        deleted: AtomicU64::new(0),
        foreign: AtomicU64::new(0),
        corrupt: AtomicU64::new(0),
        last_new_receive_micros: AtomicU64::new(0),
        last_quiet_receive_micros: AtomicU64::new(0),
        last_delete_micros: AtomicU64::new(0),
        producers_done_micros: AtomicU64::new(0),
        producers_done: AtomicBool::new(false),
        stop_consumers: AtomicBool::new(false),
        stop_progress: AtomicBool::new(false),
        errors: ErrorLog::default(),
    });
    let plan = Arc::new(Plan {
        queue_url: queue_url.clone(),
        batch: u64::from(args.batch),
        message_size: args.message_size as usize,
        wait_time: args.wait_time,
        fifo: args.fifo,
        send_deadline: duration.map(|duration| shared.start + duration),
    });

    let server_pids = Arc::new(args.server_pid.clone());
    let sample_servers = || process::sample_processes(&server_pids);
    let sample_database = || args.database_pid.and_then(process::process_tree_cpu_time);
    let peak_server_rss = Arc::new(AtomicU64::new(0));
    let progress = spawn_progress(&shared, args.mode, &server_pids, &peak_server_rss);

    let server_before = sample_servers();
    let database_before = sample_database();
    let client_cpu_before = process::own_cpu_time();

    let mut stats = WorkerStats::new();
    let producers: Vec<_> = (0..args.clients)
        .map(|index| {
            tokio::spawn(produce(
                Arc::clone(&shared),
                round_robin(&clients, index).clone(),
                Arc::clone(&plan),
                index,
            ))
        })
        .collect();
    let mut consumers = Vec::new();
    if args.mode == Mode::Both {
        consumers = spawn_consumers(&shared, &clients, &plan, args.clients);
    }
    for producer in producers {
        match producer.await {
            Ok(worker) => stats.merge(&worker),
            Err(error) => shared.record_error("producer task".to_owned(), error.to_string()),
        }
    }
    let producers_done_micros = shared.micros_since_start();
    shared
        .producers_done_micros
        .store(producers_done_micros, Ordering::Relaxed);
    shared.producers_done.store(true, Ordering::Release);
    let server_after_send = sample_servers();
    let database_after_send = sample_database();
    let client_cpu_after_send = process::own_cpu_time();

    let consumers_start_micros = if args.mode == Mode::Receive {
        let now = shared.micros_since_start();
        consumers = spawn_consumers(&shared, &clients, &plan, args.clients);
        now
    } else {
        0
    };
    let stop_reason = if consumers.is_empty() {
        StopReason::NoConsumers
    } else {
        // Consumers get at most as long again as the producers were allowed, measured from
        // when they started draining.
        let drain_deadline = duration.map(|duration| Instant::now() + duration);
        let reason = watch_consumers(
            &shared,
            Duration::from_secs_f64(args.idle_timeout.max(0.0)),
            drain_deadline,
        )
        .await;
        for consumer in consumers {
            match consumer.await {
                Ok(worker) => stats.merge(&worker),
                Err(error) => shared.record_error("consumer task".to_owned(), error.to_string()),
            }
        }
        reason
    };
    let server_after = sample_servers();
    let database_after = sample_database();
    let client_cpu_after = process::own_cpu_time();
    shared.stop_progress.store(true, Ordering::Relaxed);
    // The progress task only draws; if it failed there is nothing to recover.
    let _ = progress.await;

    if fresh_queue
        && !args.keep_queue
        && let Err(error) = client
            .call("DeleteQueue", &json!({ "QueueUrl": queue_url }))
            .await
    {
        eprintln!(
            "note: could not delete queue {queue_name}: {}",
            error.detail()
        );
    }

    let integrity = count_integrity(&shared);
    let errors = shared.errors.snapshot();
    let report = Report {
        endpoints: args.endpoint.clone(),
        queue: queue_name,
        mode: args.mode,
        clients: args.clients,
        batch: args.batch,
        message_size: args.message_size,
        fifo: args.fifo,
        stats,
        acknowledged: shared.acknowledged_count.load(Ordering::Relaxed),
        attempted: shared.next_sequence.load(Ordering::Relaxed).min(total),
        deleted: shared.deleted.load(Ordering::Relaxed),
        send_seconds: Duration::from_micros(producers_done_micros).as_secs_f64(),
        receive_seconds: Duration::from_micros(
            shared
                .last_delete_micros
                .load(Ordering::Relaxed)
                .saturating_sub(consumers_start_micros),
        )
        .as_secs_f64(),
        end_to_end_seconds: Duration::from_micros(
            shared.last_delete_micros.load(Ordering::Relaxed),
        )
        .as_secs_f64(),
        integrity,
        stop_reason,
        errors,
        client_cpu: report::CpuPhases {
            total: client_cpu_after.saturating_sub(client_cpu_before),
            send_phase: client_cpu_after_send.saturating_sub(client_cpu_before),
            receive_phase: client_cpu_after.saturating_sub(client_cpu_after_send),
        },
        server: (!server_pids.is_empty()).then(|| report::ServerFigures {
            pids: server_pids.to_vec(),
            before: server_before,
            after_send: server_after_send,
            after: server_after,
            peak_rss_kib: peak_server_rss.load(Ordering::Relaxed),
        }),
        database: args.database_pid.map(|pid| report::DatabaseFigures {
            pid,
            before: database_before,
            after_send: database_after_send,
            after: database_after,
        }),
    };
    Ok(report)
}

/// Creates the queue, or finds it if it already exists with other attributes.
async fn open_queue(client: &SqsClient, name: &str, fifo: bool) -> anyhow::Result<String> {
    let mut input = json!({ "QueueName": name });
    if fifo {
        input["Attributes"] = json!({ "FifoQueue": "true" });
    }
    let answer = match client.call("CreateQueue", &input).await {
        Ok(answer) => answer,
        Err(CallError::Service { code, .. })
            if code.contains("QueueAlreadyExists") || code.contains("QueueNameExists") =>
        {
            client
                .call("GetQueueUrl", &json!({ "QueueName": name }))
                .await
                .map_err(|error| {
                    anyhow::anyhow!("GetQueueUrl {name}: {} ({})", error.key(), error.detail())
                })?
        }
        Err(error) => anyhow::bail!(
            "CreateQueue {name} at the endpoint failed: {} ({})",
            error.key(),
            error.detail()
        ),
    };
    answer
        .get("QueueUrl")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateQueue answered without a QueueUrl: {answer}"))
}

/// The body of message `sequence`: `<run id>:<sequence>:<send micros>:` padded with `x`.
pub(super) fn message_body(run_id: &str, sequence: u64, sent_micros: u64, size: usize) -> String {
    let mut body = format!("{run_id}:{sequence}:{sent_micros}:");
    if body.len() < size {
        body.extend(std::iter::repeat_n('x', size - body.len()));
    }
    body
}

/// Parses a body made by [`message_body`] into (run id, sequence, send micros).
pub(super) fn parse_body(body: &str) -> Option<(&str, u64, u64)> {
    let mut parts = body.splitn(4, ':');
    let run_id = parts.next()?;
    let sequence = parts.next()?.parse().ok()?;
    let sent_micros = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((run_id, sequence, sent_micros))
}

fn md5_hex(body: &str) -> String {
    hex::encode(Md5::digest(body.as_bytes()))
}

/// One producer: claims sequence numbers in blocks of `batch` until the total or the deadline.
async fn produce(
    shared: Arc<Shared>,
    client: SqsClient,
    plan: Arc<Plan>,
    index: u32,
) -> WorkerStats {
    let mut stats = WorkerStats::new();
    let group = format!("producer-{index}");
    loop {
        if plan
            .send_deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            break;
        }
        let first = shared
            .next_sequence
            .fetch_add(plan.batch, Ordering::Relaxed);
        if first >= shared.total_messages {
            break;
        }
        let count = plan.batch.min(shared.total_messages - first);
        let sent_micros = shared.micros_since_start();
        let bodies: Vec<(u64, String)> = (first..first + count)
            .map(|sequence| {
                (
                    sequence,
                    message_body(&shared.run_id, sequence, sent_micros, plan.message_size),
                )
            })
            .collect();
        let fifo_fields = |entry: &mut Value, sequence: u64| {
            if plan.fifo {
                entry["MessageGroupId"] = json!(group);
                entry["MessageDeduplicationId"] = json!(format!("{}-{sequence}", shared.run_id));
            }
        };

        let started = Instant::now();
        if plan.batch == 1 {
            let (sequence, body) = &bodies[0];
            let mut input = json!({ "QueueUrl": plan.queue_url, "MessageBody": body });
            fifo_fields(&mut input, *sequence);
            let result = client.call("SendMessage", &input).await;
            stats.send_calls += 1;
            match result {
                Ok(answer) => {
                    stats
                        .send_latency
                        .saturating_record(micros(started.elapsed()));
                    check_send_md5(&shared, &answer, body);
                    shared.acknowledge(*sequence);
                }
                Err(error) => on_call_error(&shared, "SendMessage", &error).await,
            }
        } else {
            let entries: Vec<Value> = bodies
                .iter()
                .enumerate()
                .map(|(position, (sequence, body))| {
                    let mut entry = json!({ "Id": format!("m{position}"), "MessageBody": body });
                    fifo_fields(&mut entry, *sequence);
                    entry
                })
                .collect();
            let input = json!({ "QueueUrl": plan.queue_url, "Entries": entries });
            let result = client.call("SendMessageBatch", &input).await;
            stats.send_calls += 1;
            match result {
                Ok(answer) => {
                    stats
                        .send_latency
                        .saturating_record(micros(started.elapsed()));
                    for entry in array_field(&answer, "Successful") {
                        let position = entry
                            .get("Id")
                            .and_then(Value::as_str)
                            .and_then(|id| id.strip_prefix('m'))
                            .and_then(|position| position.parse::<usize>().ok());
                        match position.and_then(|position| bodies.get(position)) {
                            Some((sequence, body)) => {
                                check_send_md5(&shared, entry, body);
                                shared.acknowledge(*sequence);
                            }
                            None => shared.record_error(
                                "SendMessageBatch: unknown entry id".to_owned(),
                                entry.to_string(),
                            ),
                        }
                    }
                    for entry in array_field(&answer, "Failed") {
                        let code = entry
                            .get("Code")
                            .and_then(Value::as_str)
                            .unwrap_or("(no code)");
                        let message = entry
                            .get("Message")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        shared.record_error(
                            format!("SendMessageBatch entry: {code}"),
                            message.to_owned(),
                        );
                    }
                }
                Err(error) => on_call_error(&shared, "SendMessageBatch", &error).await,
            }
        }
    }
    stats
}

fn array_field<'a>(value: &'a Value, name: &str) -> &'a [Value] {
    value
        .get(name)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn check_send_md5(shared: &Shared, answer: &Value, body: &str) {
    match answer.get("MD5OfMessageBody").and_then(Value::as_str) {
        Some(md5) if md5 == md5_hex(body) => {}
        Some(md5) => {
            shared.record_error("send: MD5OfMessageBody mismatch".to_owned(), md5.to_owned())
        }
        None => shared.record_error("send: no MD5OfMessageBody".to_owned(), answer.to_string()),
    }
}

/// Counts a failed call and backs off briefly, so a dead server is not hammered in a hot loop.
async fn on_call_error(shared: &Shared, action: &str, error: &CallError) {
    shared.record_call_error(action, error);
    let pause = match error {
        CallError::Transport(_) => Duration::from_millis(50),
        _ => Duration::from_millis(5),
    };
    tokio::time::sleep(pause).await;
}

/// The client of worker `index`: workers are dealt to the endpoints in turn.
fn round_robin(clients: &[SqsClient], index: u32) -> &SqsClient {
    &clients[index as usize % clients.len()]
}

fn spawn_consumers(
    shared: &Arc<Shared>,
    clients: &[SqsClient],
    plan: &Arc<Plan>,
    count: u32,
) -> Vec<tokio::task::JoinHandle<WorkerStats>> {
    (0..count)
        .map(|index| {
            tokio::spawn(consume(
                Arc::clone(shared),
                round_robin(clients, index).clone(),
                Arc::clone(plan),
            ))
        })
        .collect()
}

/// One consumer: receive, record each body, delete; until told to stop. A message it received is
/// always deleted before it looks at the stop flag again.
async fn consume(shared: Arc<Shared>, client: SqsClient, plan: Arc<Plan>) -> WorkerStats {
    let mut stats = WorkerStats::new();
    let receive_input = json!({
        "QueueUrl": plan.queue_url,
        "MaxNumberOfMessages": plan.batch,
        "WaitTimeSeconds": plan.wait_time,
    });
    while !shared.stop_consumers.load(Ordering::Acquire) {
        let started = Instant::now();
        let result = client.call("ReceiveMessage", &receive_input).await;
        stats.receive_calls += 1;
        let answer = match result {
            Ok(answer) => answer,
            Err(error) => {
                shared
                    .last_quiet_receive_micros
                    .fetch_max(shared.micros_since_start(), Ordering::Relaxed);
                on_call_error(&shared, "ReceiveMessage", &error).await;
                continue;
            }
        };
        let messages = array_field(&answer, "Messages");
        if messages.is_empty() {
            // Empty long polls take the whole wait time; they would swamp the latency figures.
            stats.empty_receives += 1;
            shared
                .last_quiet_receive_micros
                .fetch_max(shared.micros_since_start(), Ordering::Relaxed);
            continue;
        }
        stats
            .receive_latency
            .saturating_record(micros(started.elapsed()));
        let received_micros = shared.micros_since_start();

        let mut handles = Vec::with_capacity(messages.len());
        for message in messages {
            record_received(&shared, &mut stats, message, received_micros);
            match message.get("ReceiptHandle").and_then(Value::as_str) {
                Some(handle) => handles.push(handle),
                None => shared.record_error(
                    "ReceiveMessage: message without ReceiptHandle".to_owned(),
                    message.to_string(),
                ),
            }
        }
        delete_messages(&shared, &client, &plan, &mut stats, &handles).await;
    }
    stats
}

fn record_received(
    shared: &Shared,
    stats: &mut WorkerStats,
    message: &Value,
    received_micros: u64,
) {
    let Some(body) = message.get("Body").and_then(Value::as_str) else {
        shared.corrupt.fetch_add(1, Ordering::Relaxed);
        shared.record_error(
            "ReceiveMessage: message without Body".to_owned(),
            message.to_string(),
        );
        return;
    };
    if let Some(md5) = message.get("MD5OfBody").and_then(Value::as_str)
        && md5 != md5_hex(body)
    {
        shared.corrupt.fetch_add(1, Ordering::Relaxed);
        shared.record_error("receive: MD5OfBody mismatch".to_owned(), md5.to_owned());
    }
    let Some((run_id, sequence, sent_micros)) = parse_body(body) else {
        shared.corrupt.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let counter = usize::try_from(sequence)
        .ok()
        .and_then(|index| shared.receive_counts.get(index));
    let Some(counter) = counter.filter(|_| run_id == shared.run_id) else {
        // Left over from an earlier run on the same --queue; drained but not counted.
        shared.foreign.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if counter.fetch_add(1, Ordering::Relaxed) == 0 {
        shared.received_unique.fetch_add(1, Ordering::Relaxed);
        shared
            .last_new_receive_micros
            .fetch_max(received_micros, Ordering::Relaxed);
        stats
            .end_to_end_latency
            .saturating_record(received_micros.saturating_sub(sent_micros));
    }
}

async fn delete_messages(
    shared: &Shared,
    client: &SqsClient,
    plan: &Plan,
    stats: &mut WorkerStats,
    handles: &[&str],
) {
    if handles.is_empty() {
        return;
    }
    if plan.batch == 1 {
        for handle in handles {
            let started = Instant::now();
            let result = client
                .call(
                    "DeleteMessage",
                    &json!({ "QueueUrl": plan.queue_url, "ReceiptHandle": handle }),
                )
                .await;
            stats.delete_calls += 1;
            match result {
                Ok(_) => {
                    stats
                        .delete_latency
                        .saturating_record(micros(started.elapsed()));
                    shared.deleted.fetch_add(1, Ordering::Relaxed);
                    shared
                        .last_delete_micros
                        .fetch_max(shared.micros_since_start(), Ordering::Relaxed);
                }
                Err(error) => on_call_error(shared, "DeleteMessage", &error).await,
            }
        }
        return;
    }
    let entries: Vec<Value> = handles
        .iter()
        .enumerate()
        .map(|(position, handle)| json!({ "Id": format!("d{position}"), "ReceiptHandle": handle }))
        .collect();
    let started = Instant::now();
    let result = client
        .call(
            "DeleteMessageBatch",
            &json!({ "QueueUrl": plan.queue_url, "Entries": entries }),
        )
        .await;
    stats.delete_calls += 1;
    match result {
        Ok(answer) => {
            stats
                .delete_latency
                .saturating_record(micros(started.elapsed()));
            let deleted = array_field(&answer, "Successful").len() as u64;
            shared.deleted.fetch_add(deleted, Ordering::Relaxed);
            shared
                .last_delete_micros
                .fetch_max(shared.micros_since_start(), Ordering::Relaxed);
            for entry in array_field(&answer, "Failed") {
                let code = entry
                    .get("Code")
                    .and_then(Value::as_str)
                    .unwrap_or("(no code)");
                let message = entry
                    .get("Message")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                shared.record_error(
                    format!("DeleteMessageBatch entry: {code}"),
                    message.to_owned(),
                );
            }
        }
        Err(error) => on_call_error(shared, "DeleteMessageBatch", &error).await,
    }
}

/// Decides when the consumers are done and tells them to stop.
async fn watch_consumers(
    shared: &Shared,
    idle_timeout: Duration,
    deadline: Option<Instant>,
) -> StopReason {
    let reason = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if shared.producers_done.load(Ordering::Acquire) {
            if shared.received_unique.load(Ordering::Relaxed)
                >= shared.acknowledged_count.load(Ordering::Relaxed)
            {
                break StopReason::AllReceived;
            }
            let last_activity = shared
                .last_new_receive_micros
                .load(Ordering::Relaxed)
                .max(shared.producers_done_micros.load(Ordering::Relaxed));
            // Idle needs a receive that came back empty (or failed) after the last new message:
            // a server whose receives take longer than the idle timeout is slow, not empty.
            let quiet_since_activity =
                shared.last_quiet_receive_micros.load(Ordering::Relaxed) > last_activity;
            if quiet_since_activity
                && shared.micros_since_start().saturating_sub(last_activity) > micros(idle_timeout)
            {
                break StopReason::Idle;
            }
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            break StopReason::Deadline;
        }
    };
    shared.stop_consumers.store(true, Ordering::Release);
    reason
}

/// What the receive side saw, per sequence number.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Integrity {
    /// Acknowledged messages received at least once.
    pub received_unique: u64,
    /// Messages received more than once.
    pub duplicated_messages: u64,
    /// Receives beyond the first, summed over all messages.
    pub extra_receives: u64,
    /// Acknowledged but never received.
    pub unreceived: u64,
    /// Received although their send was never acknowledged (e.g. it timed out on our side).
    pub received_unacknowledged: u64,
    /// Messages from another run found in the queue.
    pub foreign: u64,
    /// Bodies that failed their MD5 check or could not be parsed.
    pub corrupt: u64,
}

fn count_integrity(shared: &Shared) -> Integrity {
    let mut integrity = Integrity {
        foreign: shared.foreign.load(Ordering::Relaxed),
        corrupt: shared.corrupt.load(Ordering::Relaxed),
        ..Integrity::default()
    };
    for (acknowledged, count) in shared.acknowledged.iter().zip(&shared.receive_counts) {
        let acknowledged = acknowledged.load(Ordering::Relaxed);
        let count = u64::from(count.load(Ordering::Relaxed));
        if count > 0 {
            integrity.received_unique += 1;
            if !acknowledged {
                integrity.received_unacknowledged += 1;
            }
        } else if acknowledged {
            integrity.unreceived += 1;
        }
        if count > 1 {
            integrity.duplicated_messages += 1;
            integrity.extra_receives += count - 1;
        }
    }
    integrity
}

/// Draws "sent" and "received" bars on stderr (hidden when stderr is not a terminal) and samples
/// the servers' peak RSS (summed over all of them) while the run lasts.
fn spawn_progress(
    shared: &Arc<Shared>,
    mode: Mode,
    server_pids: &Arc<Vec<u32>>,
    peak_server_rss: &Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template(
        "{prefix:>9} [{bar:40}] {pos:>9}/{len} {per_sec:>12} {elapsed}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let total = shared.total_messages;
    let sent = bars.add(
        ProgressBar::new(total)
            .with_style(style.clone())
            .with_prefix("sent"),
    );
    let received = (mode != Mode::Send).then(|| {
        bars.add(
            ProgressBar::new(total)
                .with_style(style)
                .with_prefix("received"),
        )
    });
    let shared = Arc::clone(shared);
    let server_pids = Arc::clone(server_pids);
    let peak_server_rss = Arc::clone(peak_server_rss);
    tokio::spawn(async move {
        loop {
            sent.set_position(shared.acknowledged_count.load(Ordering::Relaxed));
            if let Some(received) = &received {
                received.set_position(shared.received_unique.load(Ordering::Relaxed));
            }
            if let Some(sample) = process::sample_processes(&server_pids) {
                peak_server_rss.fetch_max(sample.rss_kib, Ordering::Relaxed);
            }
            if shared.stop_progress.load(Ordering::Relaxed) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        sent.finish_and_clear();
        if let Some(received) = received {
            received.finish_and_clear();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_body_is_padded_to_size_and_parses_back() {
        let body = message_body("abcd1234", 42, 1_000, 256);
        assert_eq!(body.len(), 256);
        assert_eq!(parse_body(&body), Some(("abcd1234", 42, 1_000)));
    }

    #[test]
    fn message_body_never_cuts_its_id_header() {
        let body = message_body("abcd1234", 123_456, 7, 4);
        assert_eq!(parse_body(&body), Some(("abcd1234", 123_456, 7)));
    }

    #[test]
    fn bodies_from_other_tools_are_not_parsed() {
        assert_eq!(parse_body("hello world"), None);
        assert_eq!(parse_body("a:b:c:d"), None);
    }

    #[test]
    fn md5_matches_the_sqs_digest_of_the_body() {
        // The MD5 SQS reports for the body "hello".
        assert_eq!(md5_hex("hello"), "5d41402abc4b2a76b9719d911017c592");
    }
}
