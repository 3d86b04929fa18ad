//! Group commit of sends and deletes: concurrent SendMessage calls and fan-outs on this
//! node become one transaction with one multi-row `INSERT`, concurrent DeleteMessage calls
//! one `DELETE`.
//!
//! Callers queue a [`SendRequest`] (or [`DeleteRequest`]) and wait on its oneshot. A few
//! tasks share each queue: each takes everything waiting (up to `max_batch` requests),
//! runs it in one transaction on its own pooled connection and answers every caller after
//! the commit.
//! While one sender waits for its commit, the next collects the following batch, so under
//! load batches grow by themselves and an idle node answers a lone send after one commit.
//!
//! A send request is a list of fan-outs, each an optional guard and sends to any number
//! of queues; a plain SendMessage is one fan-out of one queue without a guard. A request
//! is atomic: it commits with its batch or not at all.
//!
//! Lock order inside a batch: FIFO queue rows exclusively, then standard queue rows in
//! share mode, each set in id order (every queue of every request of the batch, guards
//! included), so two batches (on any nodes) never deadlock on queue rows. A batch that
//! fails for a reason other than the database being unreachable is retried once per
//! request, so one bad request cannot fail its neighbours, and fails alone and whole.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use deadpool_postgres::{GenericClient, Pool};
use tokio::sync::{mpsc, oneshot};

use super::ops;
use super::{is_conflict, pool_error};
use crate::model::*;
use crate::{Error, Result};

/// One SendMessage, SendMessageBatch or [`crate::Store::fan_out`] call waiting for its
/// commit.
pub(crate) struct SendRequest {
    pub(crate) fan_outs: Vec<FanOut>,
    pub(crate) reply: SendReply,
}

/// Where the outcome of a [`SendRequest`] goes.
pub(crate) enum SendReply {
    /// A plain send (one fan-out, one queue, no guard): that queue's outcomes.
    Messages(oneshot::Sender<Result<Vec<SendOutcome>>>),
    FanOuts(oneshot::Sender<Result<Vec<FanOutOutcome>>>),
}

impl SendRequest {
    /// A plain send of `messages` to `queue`.
    pub(crate) fn messages(
        queue: QueueId,
        messages: Vec<NewMessage>,
        reply: oneshot::Sender<Result<Vec<SendOutcome>>>,
    ) -> SendRequest {
        SendRequest {
            fan_outs: vec![FanOut {
                guard: None,
                sends: vec![QueueSend { queue, messages }],
            }],
            reply: SendReply::Messages(reply),
        }
    }

    /// Every queue the request writes to, guards included (with repeats).
    fn queues(&self) -> impl Iterator<Item = QueueId> + '_ {
        self.fan_outs.iter().flat_map(|fan_out| {
            fan_out
                .guard
                .iter()
                .chain(&fan_out.sends)
                .map(|send| send.queue)
        })
    }
}

/// One DeleteMessage or DeleteMessageBatch waiting for its commit.
pub(crate) struct DeleteRequest {
    pub(crate) queue: QueueId,
    pub(crate) receipts: Vec<Receipt>,
    pub(crate) reply: oneshot::Sender<Result<Vec<DeleteOutcome>>>,
}

/// A request that a batch answers.
pub(crate) trait Job: Send + Sized {
    type Outcome: Send;
    const WHAT: &'static str;
    fn reply(self, result: Result<Self::Outcome>);
}

impl Job for SendRequest {
    type Outcome = Vec<FanOutOutcome>;
    const WHAT: &'static str = "send";
    fn reply(self, result: Result<Self::Outcome>) {
        // The caller may have gone away; its messages are committed anyway.
        match self.reply {
            SendReply::Messages(reply) => {
                let result = result.and_then(|fan_outs| {
                    fan_outs
                        .into_iter()
                        .next()
                        .and_then(|fan_out| fan_out.sends.into_iter().next())
                        .ok_or_else(|| Error::Corrupt("a send got no outcome".to_string()))
                });
                let _ = reply.send(result);
            }
            SendReply::FanOuts(reply) => {
                let _ = reply.send(result);
            }
        }
    }
}

impl Job for DeleteRequest {
    type Outcome = Vec<DeleteOutcome>;
    const WHAT: &'static str = "delete";
    fn reply(self, result: Result<Self::Outcome>) {
        let _ = self.reply.send(result);
    }
}

/// One try at committing a whole batch, answering each request's outcome in order.
type Attempt<J> =
    for<'a> fn(
        &'a Senders,
        &'a [J],
    ) -> Pin<Box<dyn Future<Output = Result<Vec<<J as Job>::Outcome>>> + Send + 'a>>;

/// What the batch tasks share.
pub(crate) struct Senders {
    pub(crate) pool: Pool,
    pub(crate) node: Arc<str>,
    pub(crate) max_batch: usize,
    pub(crate) requests: tokio::sync::Mutex<mpsc::Receiver<SendRequest>>,
    pub(crate) deletes: tokio::sync::Mutex<mpsc::Receiver<DeleteRequest>>,
    /// FIFO flag of every queue seen; a queue's kind never changes and ids are never
    /// reused, so entries never go stale (a deleted queue is found missing when locked).
    pub(crate) kinds: Mutex<HashMap<QueueId, bool>>,
}

/// Commits sends until the request channel closes (the backend was dropped).
pub(crate) async fn run_sends(senders: Arc<Senders>) {
    while let Some(batch) = collect(&senders.requests, senders.max_batch).await {
        commit_batch(&senders, batch, |senders, batch| {
            Box::pin(attempt(senders, batch))
        })
        .await;
    }
}

/// Commits deletes until the request channel closes.
pub(crate) async fn run_deletes(senders: Arc<Senders>) {
    while let Some(batch) = collect(&senders.deletes, senders.max_batch).await {
        commit_batch(&senders, batch, |senders, batch| {
            Box::pin(attempt_deletes(senders, batch))
        })
        .await;
    }
}

/// Waits for one request, then takes whatever else is already queued, up to `max`.
async fn collect<J>(
    requests: &tokio::sync::Mutex<mpsc::Receiver<J>>,
    max: usize,
) -> Option<Vec<J>> {
    let mut requests = requests.lock().await;
    let first = requests.recv().await?;
    let mut batch = vec![first];
    while batch.len() < max.max(1) {
        match requests.try_recv() {
            Ok(request) => batch.push(request),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn commit_batch<J: Job>(senders: &Senders, batch: Vec<J>, attempt: Attempt<J>) {
    let mut conflicts = 0;
    let result = loop {
        match attempt(senders, &batch).await {
            Err(error) if is_conflict(&error) && conflicts < 5 => {
                conflicts += 1;
                tokio::time::sleep(super::conflict_backoff(conflicts)).await;
            }
            other => break other,
        }
    };
    match result {
        Ok(outcomes) => {
            for (request, outcome) in batch.into_iter().zip(outcomes) {
                request.reply(Ok(outcome));
            }
        }
        Err(error) if error.is_unavailable() || batch.len() == 1 => {
            tracing::warn!(%error, requests = batch.len(), "{} batch failed", J::WHAT);
            let text = error.to_string();
            let unavailable = error.is_unavailable();
            let mut error = Some(error);
            for request in batch {
                let copy = match error.take() {
                    Some(original) => original,
                    None if unavailable => Error::Unavailable(text.clone()),
                    None => Error::Io(std::io::Error::other(text.clone())),
                };
                request.reply(Err(copy));
            }
        }
        Err(error) => {
            tracing::warn!(%error, requests = batch.len(), "{} batch failed; retrying each request alone", J::WHAT);
            for request in batch {
                Box::pin(commit_batch(senders, vec![request], attempt)).await;
            }
        }
    }
}

/// Deletes every receipt of the batch in one statement (one commit); a receipt counts
/// only for its own queue. Notifies FIFO queues, whose deletes may release a group.
async fn attempt_deletes(
    senders: &Senders,
    batch: &[DeleteRequest],
) -> Result<Vec<Vec<DeleteOutcome>>> {
    let client = senders.pool.get().await.map_err(pool_error)?;
    let receipts: Vec<(QueueId, Receipt)> = batch
        .iter()
        .flat_map(|request| request.receipts.iter().map(|r| (request.queue, *r)))
        .collect();
    let (deleted, still_there) = ops::delete_receipts(&client, &receipts).await?;
    let mut woken: BTreeMap<QueueId, u64> = BTreeMap::new();
    let outcomes = batch
        .iter()
        .map(|request| {
            // A receipt repeated in one call deletes once and then finds the message gone.
            let mut answered = BTreeSet::new();
            request
                .receipts
                .iter()
                .map(|receipt| {
                    let key = (request.queue, receipt.sequence, receipt.nonce);
                    if deleted.contains(&key) && answered.insert(key) {
                        *woken.entry(request.queue).or_default() += 1;
                        DeleteOutcome::Deleted
                    } else if still_there.contains(&(request.queue, receipt.sequence)) {
                        DeleteOutcome::Stale
                    } else {
                        DeleteOutcome::AlreadyGone
                    }
                })
                .collect()
        })
        .collect();
    // Only FIFO deletes can make messages receivable; learn the kind of queues this node
    // has not seen yet (a deleted queue is simply not found, and needs no wake-up).
    learn_kinds(senders, &client, woken.keys().copied()).await?;
    let fifo: Vec<(QueueId, u64)> = {
        let kinds = lock(&senders.kinds);
        woken
            .into_iter()
            .filter(|(queue, _)| kinds.get(queue).copied() == Some(true))
            .collect()
    };
    for (queue, deletes) in fifo {
        ops::notify(&client, &senders.node, queue, deletes).await?;
    }
    Ok(outcomes)
}

/// One try at committing the whole batch; returns each request's outcomes in order.
///
/// Messages with a deduplication id are sent one by one as they come (their outcome may
/// be a duplicate, which decides whether a guarded fan-out goes on); all the others are
/// inserted together at the end with one multi-row `INSERT`.
async fn attempt(senders: &Senders, batch: &[SendRequest]) -> Result<Vec<Vec<FanOutOutcome>>> {
    let mut client = senders.pool.get().await.map_err(pool_error)?;
    let queues: BTreeSet<QueueId> = batch.iter().flat_map(SendRequest::queues).collect();
    learn_kinds(senders, &client, queues.iter().copied()).await?;
    let (fifo, standard): (Vec<QueueId>, Vec<QueueId>) = {
        let kinds = lock(&senders.kinds);
        queues
            .iter()
            .copied()
            .filter(|queue| kinds.contains_key(queue))
            .partition(|queue| kinds.get(queue).copied().unwrap_or(false))
    };

    let transaction = client.transaction().await?;
    let existing = ops::lock_queues_for_send(&transaction, &fifo, &standard).await?;

    let mut sending = BatchSend {
        existing: &existing,
        plain: Vec::new(),
        plain_slots: Vec::new(),
        woken: BTreeMap::new(),
    };
    let mut pending: Vec<Vec<PendingFanOut>> = Vec::with_capacity(batch.len());
    for (request_index, request) in batch.iter().enumerate() {
        let mut request_pending = Vec::with_capacity(request.fan_outs.len());
        for (fan_out_index, fan_out) in request.fan_outs.iter().enumerate() {
            let slot = |part| Slot {
                request: request_index,
                fan_out: fan_out_index,
                part,
                message: 0,
            };
            let guard = match &fan_out.guard {
                Some(guard) => Some(sending.send(&transaction, guard, slot(None)).await?),
                None => None,
            };
            let guard_was_duplicate = guard.iter().flatten().flatten().any(|o| o.duplicate);
            let mut sends = Vec::with_capacity(fan_out.sends.len());
            if !guard_was_duplicate {
                for (part, send) in fan_out.sends.iter().enumerate() {
                    sends.push(sending.send(&transaction, send, slot(Some(part))).await?);
                }
            }
            request_pending.push(PendingFanOut { guard, sends });
        }
        pending.push(request_pending);
    }

    let BatchSend {
        plain,
        plain_slots,
        woken,
        ..
    } = sending;
    let sequences = ops::insert_messages(&transaction, &plain).await?;
    for (slot, ((_, message), sequence)) in plain_slots.into_iter().zip(plain.iter().zip(sequences))
    {
        if let Some(outcome) = slot.find(&mut pending) {
            *outcome = Some(SendOutcome {
                message_id: message.message_id.clone(),
                sequence,
                duplicate: false,
            });
        }
    }
    for (queue, messages) in woken {
        ops::notify(&transaction, &senders.node, queue, messages).await?;
    }
    transaction.commit().await?;
    pending
        .into_iter()
        .map(|request| request.into_iter().map(PendingFanOut::finish).collect())
        .collect()
}

/// The outcomes of one queue's messages; `None` for a message whose sequence is known only
/// once the batch's multi-row insert ran.
type PendingSend = Vec<Option<SendOutcome>>;

struct PendingFanOut {
    guard: Option<PendingSend>,
    sends: Vec<PendingSend>,
}

impl PendingFanOut {
    fn finish(self) -> Result<FanOutOutcome> {
        fn finish_send(send: PendingSend) -> Result<Vec<SendOutcome>> {
            send.into_iter()
                .map(|outcome| {
                    outcome.ok_or_else(|| Error::Corrupt("a send got no outcome".to_string()))
                })
                .collect()
        }
        Ok(FanOutOutcome {
            guard: self.guard.map(finish_send).transpose()?,
            sends: self
                .sends
                .into_iter()
                .map(finish_send)
                .collect::<Result<_>>()?,
        })
    }
}

/// Where one message's outcome goes in a batch's answer.
#[derive(Clone, Copy)]
struct Slot {
    request: usize,
    fan_out: usize,
    /// `None` for the guard, else the index of the send.
    part: Option<usize>,
    message: usize,
}

impl Slot {
    fn find(self, pending: &mut [Vec<PendingFanOut>]) -> Option<&mut Option<SendOutcome>> {
        let fan_out = pending.get_mut(self.request)?.get_mut(self.fan_out)?;
        let send = match self.part {
            None => fan_out.guard.as_mut()?,
            Some(part) => fan_out.sends.get_mut(part)?,
        };
        send.get_mut(self.message)
    }
}

/// The state of one batch's sends while its requests are walked in order.
struct BatchSend<'a> {
    /// The queues of the batch that still exist (their rows are locked).
    existing: &'a HashSet<QueueId>,
    /// Messages without deduplication, inserted together at the end, and where each
    /// one's outcome goes.
    plain: Vec<(QueueId, &'a NewMessage)>,
    plain_slots: Vec<Slot>,
    /// Messages stored per queue, for the wake-ups.
    woken: BTreeMap<QueueId, u64>,
}

impl<'a> BatchSend<'a> {
    /// Sends one queue's messages with the semantics of `send_messages`; messages without
    /// deduplication are only queued for the batch's insert (their outcome stays `None`).
    async fn send<C: GenericClient>(
        &mut self,
        transaction: &C,
        send: &'a QueueSend,
        slot: Slot,
    ) -> Result<PendingSend> {
        let mut outcomes = Vec::with_capacity(send.messages.len());
        for (message_index, message) in send.messages.iter().enumerate() {
            if !self.existing.contains(&send.queue) {
                // The queue is gone: acknowledged and dropped, as if sent just before the
                // queue and its messages were deleted (the SQLite backend does the same).
                outcomes.push(Some(SendOutcome {
                    message_id: message.message_id.clone(),
                    sequence: 0,
                    duplicate: false,
                }));
            } else if let Some(dedup) = &message.deduplication {
                let outcome =
                    ops::send_deduplicated(transaction, send.queue, message, dedup).await?;
                if !outcome.duplicate {
                    *self.woken.entry(send.queue).or_default() += 1;
                }
                outcomes.push(Some(outcome));
            } else {
                self.plain.push((send.queue, message));
                self.plain_slots.push(Slot {
                    message: message_index,
                    ..slot
                });
                *self.woken.entry(send.queue).or_default() += 1;
                outcomes.push(None);
            }
        }
        Ok(outcomes)
    }
}

/// Reads the FIFO flag of those `queues` this node has not seen yet into `senders.kinds`
/// (a queue that no longer exists is simply not found).
async fn learn_kinds(
    senders: &Senders,
    client: &deadpool_postgres::Object,
    queues: impl Iterator<Item = QueueId>,
) -> Result<()> {
    let unknown: Vec<QueueId> = {
        let kinds = lock(&senders.kinds);
        queues.filter(|queue| !kinds.contains_key(queue)).collect()
    };
    if !unknown.is_empty() {
        let found = ops::queue_kinds(client, &unknown).await?;
        lock(&senders.kinds).extend(found);
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked while holding it; the map is
    // still consistent (each insert is one call).
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
