//! Shared bookkeeping of the kill -9 load tests (`durability.rs`, one node; `cluster.rs`,
//! several nodes on one PostgreSQL database): numbered message bodies, the journal of what
//! the server acknowledged, the requests that fill it, and the checks both tests run on it.
//!
//! The journal records only what a server acknowledged: a send counts once a success
//! response arrived; a request that failed (connection refused or reset, timeout, 5xx) has
//! an unknown outcome and is never counted, whether or not its effect was committed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, QueueAttributeName, SendMessageBatchRequestEntry,
};

/// Producers pause while this many acknowledged messages of their queue wait for a delete.
pub const MAX_BACKLOG: i64 = 300;

/// Slack for the checks that compare a client's clock with when the server claimed or
/// deleted a message.
pub const CLOCK_MARGIN: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Standard,
    Fifo,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Standard => "std",
            Kind::Fifo => "fifo",
        }
    }
}

#[derive(Clone, Debug)]
pub struct TestQueue {
    pub kind: Kind,
    pub url: String,
}

pub fn body_of(kind: Kind, producer: usize, seq: u64) -> String {
    format!("{}-p{producer}-{seq:06}", kind.label())
}

/// `(producer, seq)` of a body made by [`body_of`].
pub fn parse_body(body: &str) -> Option<(usize, u64)> {
    let (_, rest) = body.split_once("-p")?;
    let (producer, seq) = rest.split_once('-')?;
    Some((producer.parse().ok()?, seq.parse().ok()?))
}

/// Each producer writes one FIFO message group, so "send order" within a group is the
/// producer's own sequential order.
pub fn group_of(producer: usize) -> String {
    format!("group-{producer}")
}

/// A send the server acknowledged.
#[derive(Clone, Debug)]
pub struct AckedSend {
    pub kind: Kind,
    pub producer: usize,
    pub seq: u64,
    pub body: String,
    pub message_id: String,
    pub acknowledged: Instant,
}

/// One message as a ReceiveMessage response returned it.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub kind: Kind,
    pub message_id: String,
    pub body: String,
    /// When the ReceiveMessage request was sent: the server claimed the message after this.
    pub request_started: Instant,
    /// When its response arrived: the server claimed the message before this.
    pub response_arrived: Instant,
}

/// A delete the server acknowledged.
#[derive(Clone, Debug)]
pub struct AckedDelete {
    pub kind: Kind,
    pub message_id: String,
    pub body: String,
    pub receive_started: Instant,
    pub acknowledged: Instant,
}

/// Everything the clients observed. Receipts are pushed in the order responses arrived, so
/// an index into `receipts` is a global "happened before" order of first deliveries.
#[derive(Default)]
pub struct Journal {
    pub sends: Vec<AckedSend>,
    pub receipts: Vec<Receipt>,
    pub deletes: Vec<AckedDelete>,
    pub errors: BTreeMap<String, u64>,
    pub last_nonempty_receive: HashMap<Kind, Instant>,
    /// Acknowledged sends minus acknowledged deletes, per queue: roughly the backlog.
    pub backlog: HashMap<Kind, i64>,
}

pub type SharedJournal = Arc<Mutex<Journal>>;

pub fn note_error(journal: &SharedJournal, what: &str, description: String) {
    *journal
        .lock()
        .unwrap()
        .errors
        .entry(format!("{what}: {description}"))
        .or_default() += 1;
}

/// Whether producers of `kind` should hold back: the consumers are [`MAX_BACKLOG`] behind.
pub fn backlog_full(journal: &SharedJournal, kind: Kind) -> bool {
    let backlog = journal.lock().unwrap().backlog.get(&kind).copied();
    backlog.unwrap_or(0) > MAX_BACKLOG
}

/// Records what one send request of `producer` got acknowledged, and its failed entries.
pub fn record_sends(
    journal: &SharedJournal,
    queue: &TestQueue,
    producer: usize,
    acked: Vec<(u64, String)>,
    failed: Vec<String>,
) {
    let acknowledged = Instant::now();
    let mut journal = journal.lock().unwrap();
    *journal.backlog.entry(queue.kind).or_default() += acked.len() as i64;
    for (seq, message_id) in acked {
        journal.sends.push(AckedSend {
            kind: queue.kind,
            producer,
            seq,
            body: body_of(queue.kind, producer, seq),
            message_id,
            acknowledged,
        });
    }
    for failure in failed {
        *journal
            .errors
            .entry(format!("send: {failure}"))
            .or_default() += 1;
    }
}

/// Records the messages of one ReceiveMessage response and returns them with their receipt
/// handles.
pub fn record_receipts(
    journal: &SharedJournal,
    queue: &TestQueue,
    messages: &[Message],
    request_started: Instant,
    response_arrived: Instant,
) -> Vec<(Receipt, String)> {
    let mut received = Vec::new();
    let mut journal = journal.lock().unwrap();
    for message in messages {
        let receipt = Receipt {
            kind: queue.kind,
            message_id: message.message_id().unwrap_or_default().to_string(),
            body: message.body().unwrap_or_default().to_string(),
            request_started,
            response_arrived,
        };
        received.push((
            receipt.clone(),
            message.receipt_handle().unwrap_or_default().to_string(),
        ));
        journal.receipts.push(receipt);
    }
    if !received.is_empty() {
        journal
            .last_nonempty_receive
            .insert(queue.kind, Instant::now());
    }
    received
}

pub fn record_delete(journal: &SharedJournal, receipt: &Receipt) {
    let mut journal = journal.lock().unwrap();
    *journal.backlog.entry(receipt.kind).or_default() -= 1;
    journal.deletes.push(AckedDelete {
        kind: receipt.kind,
        message_id: receipt.message_id.clone(),
        body: receipt.body.clone(),
        receive_started: receipt.request_started,
        acknowledged: Instant::now(),
    });
}

/// Whether no consumer of `queues` has received anything for `period`.
pub fn all_quiet(journal: &SharedJournal, queues: &[TestQueue], period: Duration) -> bool {
    let journal = journal.lock().unwrap();
    queues.iter().all(|queue| {
        journal
            .last_nonempty_receive
            .get(&queue.kind)
            .is_none_or(|last| last.elapsed() >= period)
    })
}

/// A short, stable description of a failed call, for the error summary.
pub fn describe<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> String {
    match error {
        SdkError::ConstructionFailure(_) => "construction failure".to_string(),
        SdkError::TimeoutError(_) => "client timeout".to_string(),
        SdkError::DispatchFailure(_) => "dispatch failure (connection)".to_string(),
        SdkError::ResponseError(_) => "response error (connection lost mid-response)".to_string(),
        SdkError::ServiceError(service) => {
            let message: String = service
                .err()
                .message()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect();
            format!(
                "HTTP {} {} {message}",
                service.raw().status().as_u16(),
                service.err().code().unwrap_or("<no code>")
            )
        }
        _ => "unclassified SdkError".to_string(),
    }
}

/// Creates a queue of `kind` with a visibility timeout of `visibility_seconds`.
pub async fn create_queue(
    client: &Client,
    kind: Kind,
    name: &str,
    visibility_seconds: i32,
) -> Result<TestQueue, String> {
    let mut request = client.create_queue().queue_name(name).attributes(
        QueueAttributeName::VisibilityTimeout,
        visibility_seconds.to_string(),
    );
    if kind == Kind::Fifo {
        request = request.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let output = request
        .send()
        .await
        .map_err(|error| format!("CreateQueue {name}: {}", describe(&error)))?;
    Ok(TestQueue {
        kind,
        url: output.queue_url().ok_or("no QueueUrl")?.to_string(),
    })
}

/// Sends `seqs` in one request (SendMessage for a single message unless `as_batch`).
/// `Ok` lists the acknowledged `(seq, message id)` pairs and the per-entry failures.
pub async fn send_once(
    client: &Client,
    queue: &TestQueue,
    producer: usize,
    seqs: &[u64],
    as_batch: bool,
) -> Result<(Vec<(u64, String)>, Vec<String>), String> {
    let fifo = queue.kind == Kind::Fifo;
    if !as_batch && seqs.len() == 1 {
        let seq = seqs[0];
        let body = body_of(queue.kind, producer, seq);
        let mut request = client
            .send_message()
            .queue_url(&queue.url)
            .message_body(&body);
        if fifo {
            // A retry of an unknown outcome, on whichever node, reuses the deduplication
            // id, so it never adds a second copy to the FIFO queue.
            request = request
                .message_group_id(group_of(producer))
                .message_deduplication_id(&body);
        }
        let output = request.send().await.map_err(|error| describe(&error))?;
        let message_id = output.message_id().unwrap_or_default().to_string();
        return Ok((vec![(seq, message_id)], Vec::new()));
    }
    let mut request = client.send_message_batch().queue_url(&queue.url);
    for &seq in seqs {
        let body = body_of(queue.kind, producer, seq);
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(format!("e{seq}"))
            .message_body(&body);
        if fifo {
            entry = entry
                .message_group_id(group_of(producer))
                .message_deduplication_id(&body);
        }
        request = request.entries(entry.build().map_err(|error| error.to_string())?);
    }
    let output = request.send().await.map_err(|error| describe(&error))?;
    let acked = output
        .successful()
        .iter()
        .filter_map(|entry| {
            let seq = entry.id().strip_prefix('e')?.parse().ok()?;
            Some((seq, entry.message_id().to_string()))
        })
        .collect();
    let failed = output
        .failed()
        .iter()
        .map(|entry| {
            format!(
                "batch entry failed: {} sender_fault={} {}",
                entry.code(),
                entry.sender_fault(),
                entry.message().unwrap_or("")
            )
        })
        .collect();
    Ok((acked, failed))
}

/// The entry of a DeleteMessageBatch for `received[index]`; [`batch_index`] reads the
/// index back from the answer.
pub fn delete_entry(index: usize, handle: &str) -> DeleteMessageBatchRequestEntry {
    DeleteMessageBatchRequestEntry::builder()
        .id(format!("d{index}"))
        .receipt_handle(handle)
        .build()
        .expect("entry has id and handle")
}

/// The index a [`delete_entry`] id stands for.
pub fn batch_index(id: &str) -> Option<usize> {
    id.strip_prefix('d')?.parse().ok()
}

/// Visible + in flight + delayed, or an error description.
pub async fn queue_depth(client: &Client, queue: &TestQueue) -> Result<u64, String> {
    let output = client
        .get_queue_attributes()
        .queue_url(&queue.url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .map_err(|error| describe(&error))?;
    let attributes = output.attributes().cloned().unwrap_or_default();
    let mut depth = 0;
    for name in [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
    ] {
        let value = attributes
            .get(&name)
            .ok_or_else(|| format!("attribute {name} missing"))?;
        depth += value
            .parse::<u64>()
            .map_err(|_| format!("attribute {name} = {value:?}"))?;
    }
    Ok(depth)
}

/// `EDDY_TEST_SEED`, or a random seed.
pub fn seed() -> u64 {
    std::env::var("EDDY_TEST_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(rand::random)
}

// ---- checks ----

/// Lists up to 40 items and how many there are in all.
pub fn list_some<T: std::fmt::Debug>(items: &[T]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(40)
        .map(|item| format!("{item:?}"))
        .collect();
    if items.len() > shown.len() {
        format!(
            "{} (and {} more)",
            shown.join(", "),
            items.len() - shown.len()
        )
    } else {
        shown.join(", ")
    }
}

/// How many acknowledged sends went to the FIFO queue.
pub fn fifo_sends(journal: &Journal) -> usize {
    journal
        .sends
        .iter()
        .filter(|s| s.kind == Kind::Fifo)
        .count()
}

/// The `(kind, body)` and the `(kind, message id)` of every message received at least once.
pub type ReceivedKeys<'a> = (BTreeSet<(Kind, &'a str)>, BTreeSet<(Kind, &'a str)>);

/// What was received at least once, by body and by message id.
pub fn received_keys(journal: &Journal) -> ReceivedKeys<'_> {
    let bodies = journal
        .receipts
        .iter()
        .map(|receipt| (receipt.kind, receipt.body.as_str()))
        .collect();
    let ids = journal
        .receipts
        .iter()
        .map(|receipt| (receipt.kind, receipt.message_id.as_str()))
        .collect();
    (bodies, ids)
}

/// When a message was certainly deleted, and its body, by `(kind, message id)`.
pub type DeletedAt<'a> = HashMap<(Kind, &'a str), (Instant, &'a str)>;

/// Deletes certainly acknowledged, by `(kind, message id)`: when and the body. Only deletes
/// acknowledged before the receive's visibility timeout could have run out count: their
/// receipt handle was certainly the current one (the server claimed the message after
/// `receive_started`, so it stayed invisible until at least `receive_started + visibility`).
/// A later delete may carry a stale handle, which the server may rightly refuse or ignore;
/// the second value counts those.
pub fn certain_deletes(journal: &Journal, visibility: Duration) -> (DeletedAt<'_>, usize) {
    let mut deleted_at: DeletedAt = HashMap::new();
    let mut late_deletes = 0usize;
    for delete in &journal.deletes {
        if delete.acknowledged + CLOCK_MARGIN < delete.receive_started + visibility {
            let entry = deleted_at
                .entry((delete.kind, delete.message_id.as_str()))
                .or_insert((delete.acknowledged, delete.body.as_str()));
            entry.0 = entry.0.min(delete.acknowledged);
        } else {
            late_deletes += 1;
        }
    }
    (deleted_at, late_deletes)
}

/// Resurrected: delivered by a ReceiveMessage request that started after the delete of the
/// same message was certainly acknowledged ([`certain_deletes`]).
pub fn find_resurrected(journal: &Journal, deleted_at: &DeletedAt) -> Option<String> {
    let mut resurrected = Vec::new();
    for receipt in &journal.receipts {
        if let Some(&(deleted, body)) = deleted_at.get(&(receipt.kind, receipt.message_id.as_str()))
            && receipt.request_started > deleted
        {
            resurrected.push(format!(
                "{body} ({}) received by a request started {:?} after its delete was acknowledged",
                receipt.message_id,
                receipt.request_started - deleted
            ));
        }
    }
    (!resurrected.is_empty()).then(|| {
        format!(
            "RESURRECTED: {} deliveries after an acknowledged delete: {}",
            resurrected.len(),
            list_some(&resurrected)
        )
    })
}

/// FIFO deduplication: one body (= deduplication id) is one message, however often and on
/// whichever node its send was retried.
pub fn find_fifo_duplicates(journal: &Journal) -> Option<String> {
    let mut ids_of_body: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for receipt in journal.receipts.iter().filter(|r| r.kind == Kind::Fifo) {
        ids_of_body
            .entry(receipt.body.as_str())
            .or_default()
            .insert(receipt.message_id.as_str());
    }
    let duplicated: Vec<(&str, usize)> = ids_of_body
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(body, ids)| (*body, ids.len()))
        .collect();
    (!duplicated.is_empty()).then(|| {
        format!(
            "FIFO DUPLICATES: bodies delivered under several MessageIds (body, count): {}",
            list_some(&duplicated)
        )
    })
}

/// Prints the error summary, one line per kind of error, under `label`.
pub fn print_errors(label: &str, journal: &Journal) {
    for (error, count) in &journal.errors {
        eprintln!("{label}: {count:>6} × {error}");
    }
}

// ---- journals for the checkers' own tests ----

/// Producer 0's send number `seq`, acknowledged at `acknowledged`.
pub fn fake_send(kind: Kind, seq: u64, message_id: &str, acknowledged: Instant) -> AckedSend {
    AckedSend {
        kind,
        producer: 0,
        seq,
        body: body_of(kind, 0, seq),
        message_id: message_id.to_string(),
        acknowledged,
    }
}

/// A receipt of producer 0's message `seq` by a request started at `started` and answered
/// 50 ms later.
pub fn fake_receipt(kind: Kind, seq: u64, message_id: &str, started: Instant) -> Receipt {
    Receipt {
        kind,
        message_id: message_id.to_string(),
        body: body_of(kind, 0, seq),
        request_started: started,
        response_arrived: started + Duration::from_millis(50),
    }
}

/// The delete of producer 0's message `seq`, received at `received`, acknowledged at `acked`.
pub fn fake_delete(
    kind: Kind,
    seq: u64,
    message_id: &str,
    received: Instant,
    acked: Instant,
) -> AckedDelete {
    AckedDelete {
        kind,
        message_id: message_id.to_string(),
        body: body_of(kind, 0, seq),
        receive_started: received,
        acknowledged: acked,
    }
}
