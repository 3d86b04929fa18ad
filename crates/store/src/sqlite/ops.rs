//! The SQL behind every store operation: write operations run on the writer thread inside
//! the batch's transaction, reads on a pooled read connection.
//!
//! Every statement is prepared through the connection's statement cache
//! (`prepare_cached`), so the hot paths (send, claim, delete) parse no SQL after warm-up.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::model::*;
use crate::queue_cache::QueueChange;
use crate::{Error, Result};

const QUEUE_COLUMNS: &str =
    "id, account, name, fifo, attributes, tags, created_at, last_modified_at, purged_at";

/// A queue row before its JSON columns are parsed.
struct RawQueue {
    id: QueueId,
    account: String,
    name: String,
    fifo: bool,
    attributes: String,
    tags: String,
    created_at: Millis,
    last_modified_at: Millis,
    purged_at: Option<Millis>,
}

fn raw_queue(row: &Row<'_>) -> rusqlite::Result<RawQueue> {
    Ok(RawQueue {
        id: row.get(0)?,
        account: row.get(1)?,
        name: row.get(2)?,
        fifo: row.get(3)?,
        attributes: row.get(4)?,
        tags: row.get(5)?,
        created_at: row.get(6)?,
        last_modified_at: row.get(7)?,
        purged_at: row.get(8)?,
    })
}

fn parse_map(json: &str, what: &str, queue: QueueId) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(json)
        .map_err(|error| Error::Corrupt(format!("{what} of queue {queue}: {error}")))
}

fn to_json(map: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(map).map_err(|error| Error::Corrupt(format!("encoding a map: {error}")))
}

impl RawQueue {
    fn into_record(self) -> Result<QueueRecord> {
        Ok(QueueRecord {
            attributes: parse_map(&self.attributes, "attributes", self.id)?,
            tags: parse_map(&self.tags, "tags", self.id)?,
            id: self.id,
            account: self.account,
            name: self.name,
            fifo: self.fifo,
            created_at: self.created_at,
            last_modified_at: self.last_modified_at,
            purged_at: self.purged_at,
        })
    }
}

/// Every queue, to fill the in-memory cache at open.
pub(crate) fn load_all_queues(connection: &Connection) -> Result<Vec<QueueRecord>> {
    let mut statement = connection.prepare(&format!("SELECT {QUEUE_COLUMNS} FROM queues"))?;
    let raws = statement
        .query_map([], raw_queue)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(RawQueue::into_record).collect()
}

fn queue_by_id(connection: &Connection, id: QueueId) -> Result<Option<QueueRecord>> {
    let raw = connection
        .prepare_cached(&format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE id = ?1"))?
        .query_row([id], raw_queue)
        .optional()?;
    raw.map(RawQueue::into_record).transpose()
}

fn queue_exists(connection: &Connection, id: QueueId) -> Result<bool> {
    Ok(connection
        .prepare_cached("SELECT 1 FROM queues WHERE id = ?1")?
        .exists([id])?)
}

pub(crate) fn create_queue(
    connection: &Connection,
    queue: NewQueue,
) -> Result<(CreateQueueOutcome, Option<QueueChange>)> {
    let existing = connection
        .prepare_cached(&format!(
            "SELECT {QUEUE_COLUMNS} FROM queues WHERE account = ?1 AND name = ?2"
        ))?
        .query_row(params![queue.account, queue.name], raw_queue)
        .optional()?;
    if let Some(raw) = existing {
        return Ok((CreateQueueOutcome::Exists(raw.into_record()?), None));
    }
    let deleted_at: Option<Millis> = connection
        .prepare_cached(
            "SELECT deleted_at FROM deleted_queues \
             WHERE account = ?1 AND name = ?2 AND deleted_at >= ?3",
        )?
        .query_row(
            params![queue.account, queue.name, queue.deleted_since],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(at) = deleted_at {
        return Ok((CreateQueueOutcome::DeletedRecently(at), None));
    }
    connection
        .prepare_cached(
            "INSERT INTO queues (account, name, fifo, attributes, tags, created_at, \
             last_modified_at, purged_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, NULL)",
        )?
        .execute(params![
            queue.account,
            queue.name,
            queue.fifo,
            to_json(&queue.attributes)?,
            to_json(&queue.tags)?,
            queue.now,
        ])?;
    let record = QueueRecord {
        id: connection.last_insert_rowid(),
        account: queue.account,
        name: queue.name,
        fifo: queue.fifo,
        attributes: queue.attributes,
        tags: queue.tags,
        created_at: queue.now,
        last_modified_at: queue.now,
        purged_at: None,
    };
    Ok((
        CreateQueueOutcome::Created(record.clone()),
        Some(QueueChange::Upsert(record)),
    ))
}

/// Replaces the given fields. `last_modified_at` follows SQS's `LastModifiedTimestamp`: it
/// moves only when the attributes change, not on tagging or purging.
pub(crate) fn update_queue(
    connection: &Connection,
    id: QueueId,
    update: QueueUpdate,
) -> Result<(Option<QueueRecord>, Option<QueueChange>)> {
    let Some(mut record) = queue_by_id(connection, id)? else {
        return Ok((None, None));
    };
    if let Some(attributes) = update.attributes {
        record.attributes = attributes;
        record.last_modified_at = update.now;
    }
    if let Some(tags) = update.tags {
        record.tags = tags;
    }
    if let Some(purged_at) = update.purged_at {
        record.purged_at = Some(purged_at);
    }
    connection
        .prepare_cached(
            "UPDATE queues SET attributes = ?2, tags = ?3, last_modified_at = ?4, \
             purged_at = ?5 WHERE id = ?1",
        )?
        .execute(params![
            id,
            to_json(&record.attributes)?,
            to_json(&record.tags)?,
            record.last_modified_at,
            record.purged_at,
        ])?;
    Ok((Some(record.clone()), Some(QueueChange::Upsert(record))))
}

pub(crate) fn delete_queue(
    connection: &Connection,
    id: QueueId,
    now: Millis,
) -> Result<(bool, Option<QueueChange>)> {
    let names: Option<(String, String)> = connection
        .prepare_cached("SELECT account, name FROM queues WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((account, name)) = names else {
        return Ok((false, None));
    };
    for sql in [
        "DELETE FROM messages WHERE queue_id = ?1",
        "DELETE FROM dedup WHERE queue_id = ?1",
        "DELETE FROM receive_attempts WHERE queue_id = ?1",
        "DELETE FROM queues WHERE id = ?1",
    ] {
        connection.prepare_cached(sql)?.execute([id])?;
    }
    connection
        .prepare_cached(
            "INSERT OR REPLACE INTO deleted_queues (account, name, deleted_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![account, name, now])?;
    Ok((true, Some(QueueChange::Remove(id))))
}

pub(crate) fn send_messages(
    connection: &Connection,
    queue: QueueId,
    messages: Vec<NewMessage>,
) -> Result<Vec<SendOutcome>> {
    // A send that lost a race with DeleteQueue is acknowledged and dropped, exactly as if
    // it had been stored just before the queue and its messages were deleted; storing it
    // would leave rows that nothing ever reads or removes.
    if !queue_exists(connection, queue)? {
        return Ok(messages
            .into_iter()
            .map(|message| SendOutcome {
                message_id: message.message_id,
                sequence: 0,
                duplicate: false,
            })
            .collect());
    }
    let mut outcomes = Vec::with_capacity(messages.len());
    for message in messages {
        if let Some(dedup) = &message.deduplication {
            let original: Option<(String, i64)> = connection
                .prepare_cached(
                    "SELECT message_id, seq FROM dedup \
                     WHERE queue_id = ?1 AND scope = ?2 AND dedup_id = ?3 AND expires_at > ?4",
                )?
                .query_row(
                    params![queue, dedup.scope, dedup.id, message.sent_at],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            if let Some((message_id, sequence)) = original {
                outcomes.push(SendOutcome {
                    message_id,
                    sequence,
                    duplicate: true,
                });
                continue;
            }
        }
        connection
            .prepare_cached(
                "INSERT INTO messages (queue_id, message_id, body, meta, sent_at, visible_at, \
                 group_id, dedup_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                queue,
                message.message_id,
                message.body,
                message.meta,
                message.sent_at,
                message.visible_at,
                message.group_id,
                message.deduplication.as_ref().map(|d| d.id.as_str()),
            ])?;
        let sequence = connection.last_insert_rowid();
        if let Some(dedup) = &message.deduplication {
            connection
                .prepare_cached(
                    "INSERT OR REPLACE INTO dedup (queue_id, scope, dedup_id, message_id, seq, \
                     expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    queue,
                    dedup.scope,
                    dedup.id,
                    message.message_id,
                    sequence,
                    dedup.expires_at,
                ])?;
        }
        outcomes.push(SendOutcome {
            message_id: message.message_id,
            sequence,
            duplicate: false,
        });
    }
    Ok(outcomes)
}

/// Sends every fan-out in order, each queue through [`send_messages`]; the caller runs
/// this inside one savepoint, so an error leaves none of it written.
pub(crate) fn fan_out(
    connection: &Connection,
    fan_outs: Vec<FanOut>,
) -> Result<Vec<FanOutOutcome>> {
    let mut outcomes = Vec::with_capacity(fan_outs.len());
    for fan_out in fan_outs {
        let guard = match fan_out.guard {
            Some(guard) => Some(send_messages(connection, guard.queue, guard.messages)?),
            None => None,
        };
        let mut outcome = FanOutOutcome {
            guard,
            sends: Vec::new(),
        };
        if !outcome.guard_was_duplicate() {
            outcome.sends = fan_out
                .sends
                .into_iter()
                .map(|send| send_messages(connection, send.queue, send.messages))
                .collect::<Result<_>>()?;
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The columns of a [`ClaimedMessage`], in the order [`claimed_message`] reads them.
const CLAIMED_COLUMNS: &str = "seq, nonce, message_id, body, meta, sent_at, receive_count, \
     first_received_at, group_id, dedup_id, dead_letter_source_arn";

fn claimed_message(row: &Row<'_>) -> rusqlite::Result<ClaimedMessage> {
    let receive_count: i64 = row.get(6)?;
    let first_received_at: Option<Millis> = row.get(7)?;
    Ok(ClaimedMessage {
        receipt: Receipt {
            sequence: row.get(0)?,
            nonce: row.get(1)?,
        },
        message_id: row.get(2)?,
        body: row.get(3)?,
        meta: row.get(4)?,
        sent_at: row.get(5)?,
        receive_count: u32::try_from(receive_count).unwrap_or(u32::MAX),
        first_received_at: first_received_at.unwrap_or_default(),
        group_id: row.get(8)?,
        deduplication_id: row.get(9)?,
        dead_letter_source_arn: row.get(10)?,
    })
}

/// A message that a claim may hand out, dead-letter or expire.
struct Candidate {
    seq: i64,
    visible_at: Millis,
    sent_at: Millis,
    receive_count: i64,
}

fn candidate(row: &Row<'_>) -> rusqlite::Result<Candidate> {
    Ok(Candidate {
        seq: row.get(0)?,
        visible_at: row.get(1)?,
        sent_at: row.get(2)?,
        receive_count: row.get(3)?,
    })
}

enum Disposition {
    Claimed(ClaimedMessage),
    DeadLettered,
    Expired,
}

/// Copies message `seq` into queue `to` as a fresh, never-received message, then removes
/// the original. `source_arn` replaces its dead-letter source (`None` clears it) unless
/// `keep_source` is set.
fn move_message(
    connection: &Connection,
    seq: i64,
    to: QueueId,
    now: Millis,
    source_arn: Option<&str>,
    keep_source: bool,
) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO messages (queue_id, message_id, body, meta, sent_at, visible_at, \
             receive_count, first_received_at, nonce, group_id, dedup_id, dead_letter_source_arn) \
             SELECT ?1, message_id, body, meta, sent_at, ?2, 0, NULL, 0, group_id, dedup_id, \
             CASE WHEN ?5 THEN dead_letter_source_arn ELSE ?3 END \
             FROM messages WHERE seq = ?4",
        )?
        .execute(params![to, now, source_arn, seq, keep_source])?;
    connection
        .prepare_cached("DELETE FROM messages WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

fn dispose(
    connection: &Connection,
    request: &ClaimRequest,
    redrive: Option<&Redrive>,
    candidate: &Candidate,
) -> Result<Disposition> {
    if candidate.sent_at < request.retained_since {
        connection
            .prepare_cached("DELETE FROM messages WHERE seq = ?1")?
            .execute([candidate.seq])?;
        return Ok(Disposition::Expired);
    }
    if let Some(redrive) = redrive
        && candidate.receive_count >= i64::from(redrive.max_receive_count)
    {
        move_message(
            connection,
            candidate.seq,
            redrive.dead_letter_queue,
            request.now,
            Some(&redrive.source_arn),
            false,
        )?;
        return Ok(Disposition::DeadLettered);
    }
    // `random() | 1` is never 0, the nonce of a message that was never received, so no
    // handle can name a receive that did not happen.
    let message = connection
        .prepare_cached(&format!(
            "UPDATE messages SET visible_at = ?1, receive_count = receive_count + 1, \
             first_received_at = coalesce(first_received_at, ?2), nonce = (random() | 1) \
             WHERE seq = ?3 RETURNING {CLAIMED_COLUMNS}"
        ))?
        .query_row(
            params![request.visible_until, request.now, candidate.seq],
            claimed_message,
        )?;
    Ok(Disposition::Claimed(message))
}

/// The messages of an earlier receive with the same attempt id, if it is unexpired and
/// every one of its messages is still in flight under the handle it returned.
fn replay_attempt(
    connection: &Connection,
    queue: QueueId,
    attempt: &ReceiveAttempt,
    now: Millis,
) -> Result<Option<Vec<ClaimedMessage>>> {
    let receipts: Option<String> = connection
        .prepare_cached(
            "SELECT receipts FROM receive_attempts \
             WHERE queue_id = ?1 AND attempt_id = ?2 AND expires_at > ?3",
        )?
        .query_row(params![queue, attempt.id, now], |row| row.get(0))
        .optional()?;
    let Some(receipts) = receipts.as_deref().and_then(Receipt::decode_list) else {
        return Ok(None);
    };
    let mut messages = Vec::with_capacity(receipts.len());
    for receipt in receipts {
        let found = connection
            .prepare_cached(&format!(
                "SELECT {CLAIMED_COLUMNS} FROM messages \
                 WHERE seq = ?1 AND queue_id = ?2 AND nonce = ?3 AND visible_at > ?4"
            ))?
            .query_row(
                params![receipt.sequence, queue, receipt.nonce, now],
                claimed_message,
            )
            .optional()?;
        match found {
            Some(message) => messages.push(message),
            None => return Ok(None),
        }
    }
    Ok(Some(messages))
}

pub(crate) fn claim_messages(
    connection: &Connection,
    request: ClaimRequest,
) -> Result<ClaimOutcome> {
    let mut outcome = ClaimOutcome::default();
    if request.max_messages == 0 {
        return Ok(outcome);
    }
    if let Some(attempt) = &request.attempt
        && let Some(messages) = replay_attempt(connection, request.queue, attempt, request.now)?
        && !messages.is_empty()
    {
        outcome.messages = messages;
        return Ok(outcome);
    }
    // A redrive into a queue that no longer exists (or into itself) would lose messages
    // or loop; such messages are delivered as if there were no redrive policy.
    let redrive = match &request.redrive {
        Some(redrive)
            if redrive.dead_letter_queue != request.queue
                && queue_exists(connection, redrive.dead_letter_queue)? =>
        {
            Some(redrive)
        }
        _ => None,
    };
    if request.fifo {
        claim_fifo(connection, &request, redrive, &mut outcome)?;
    } else {
        claim_standard(connection, &request, redrive, &mut outcome)?;
    }
    if let Some(attempt) = &request.attempt
        && !outcome.messages.is_empty()
    {
        let receipts = Receipt::encode_list(&outcome.messages);
        connection
            .prepare_cached(
                "INSERT OR REPLACE INTO receive_attempts (queue_id, attempt_id, expires_at, \
                 receipts) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                request.queue,
                attempt.id,
                attempt.expires_at,
                receipts
            ])?;
    }
    Ok(outcome)
}

/// Standard queues: the visible messages, earliest visible first (ties by sequence), read
/// straight off the `(queue_id, visible_at)` index so a claim costs the same however many
/// messages are in flight or waiting.
fn claim_standard(
    connection: &Connection,
    request: &ClaimRequest,
    redrive: Option<&Redrive>,
    outcome: &mut ClaimOutcome,
) -> Result<()> {
    // Candidates already handled by this claim. A claim with `visible_until <= now` leaves
    // its messages visible, and they must not be handed out twice.
    let mut seen = HashSet::new();
    loop {
        let remaining = request.max_messages - outcome.messages.len();
        if remaining == 0 {
            return Ok(());
        }
        let limit = remaining + seen.len();
        // No `LIMIT ?`: SQLite re-prepares a statement whose LIMIT is a bound parameter
        // every time the value changes (the planner uses it), which measured several
        // percent of the server's CPU on this path. Rows stream, so `take` stops the scan
        // just as early.
        let candidates = connection
            .prepare_cached(
                "SELECT seq, visible_at, sent_at, receive_count FROM messages \
                 WHERE queue_id = ?1 AND visible_at <= ?2 ORDER BY visible_at, seq",
            )?
            .query_map(params![request.queue, request.now], candidate)?
            .take(limit)
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let fetched = candidates.len();
        for candidate in candidates {
            if outcome.messages.len() == request.max_messages {
                return Ok(());
            }
            if !seen.insert(candidate.seq) {
                continue;
            }
            match dispose(connection, request, redrive, &candidate)? {
                Disposition::Claimed(message) => outcome.messages.push(message),
                Disposition::DeadLettered => outcome.dead_lettered += 1,
                Disposition::Expired => {}
            }
        }
        if fetched < limit {
            return Ok(());
        }
    }
}

/// FIFO queues: a group is available when its oldest message is visible. Groups are
/// served by the age of their oldest message, and each group gives as many of its messages
/// as it can, in order, up to the first one that is not visible.
fn claim_fifo(
    connection: &Connection,
    request: &ClaimRequest,
    redrive: Option<&Redrive>,
    outcome: &mut ClaimOutcome,
) -> Result<()> {
    // Find each group's head by skipping from group to group along the
    // `(queue_id, group_id, seq)` index: one seek per group, however long the groups are.
    let mut heads: Vec<(i64, String)> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let head: Option<(String, i64, Millis)> = match &after {
            None => connection
                .prepare_cached(
                    "SELECT group_id, seq, visible_at FROM messages \
                     WHERE queue_id = ?1 AND group_id >= '' ORDER BY group_id, seq LIMIT 1",
                )?
                .query_row([request.queue], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()?,
            Some(previous) => connection
                .prepare_cached(
                    "SELECT group_id, seq, visible_at FROM messages \
                     WHERE queue_id = ?1 AND group_id > ?2 ORDER BY group_id, seq LIMIT 1",
                )?
                .query_row(params![request.queue, previous], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()?,
        };
        let Some((group, seq, visible_at)) = head else {
            break;
        };
        if visible_at <= request.now {
            heads.push((seq, group.clone()));
        }
        after = Some(group);
    }
    heads.sort_unstable();

    for (head, group) in heads {
        let mut last = head - 1;
        'group: loop {
            let remaining = request.max_messages - outcome.messages.len();
            if remaining == 0 {
                return Ok(());
            }
            // No `LIMIT ?`, for the reason given in the standard claim above.
            let candidates = connection
                .prepare_cached(
                    "SELECT seq, visible_at, sent_at, receive_count FROM messages \
                     WHERE queue_id = ?1 AND group_id = ?2 AND seq > ?3 ORDER BY seq",
                )?
                .query_map(params![request.queue, group, last], candidate)?
                .take(remaining)
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let fetched = candidates.len();
            for candidate in candidates {
                last = candidate.seq;
                // Never skip over a message of the group that is in flight or delayed.
                if candidate.visible_at > request.now {
                    break 'group;
                }
                match dispose(connection, request, redrive, &candidate)? {
                    Disposition::Claimed(message) => outcome.messages.push(message),
                    Disposition::DeadLettered => outcome.dead_lettered += 1,
                    Disposition::Expired => {}
                }
            }
            if fetched < remaining {
                break;
            }
        }
    }
    Ok(())
}

pub(crate) fn delete_messages(
    connection: &Connection,
    queue: QueueId,
    receipts: Vec<Receipt>,
) -> Result<Vec<DeleteOutcome>> {
    let mut outcomes = Vec::with_capacity(receipts.len());
    for receipt in receipts {
        let deleted = connection
            .prepare_cached(
                "DELETE FROM messages WHERE seq = ?1 AND queue_id = ?2 AND nonce = ?3 AND nonce != 0",
            )?
            .execute(params![receipt.sequence, queue, receipt.nonce])?;
        let outcome = if deleted > 0 {
            DeleteOutcome::Deleted
        } else if connection
            .prepare_cached("SELECT 1 FROM messages WHERE seq = ?1 AND queue_id = ?2")?
            .exists(params![receipt.sequence, queue])?
        {
            DeleteOutcome::Stale
        } else {
            DeleteOutcome::AlreadyGone
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

pub(crate) fn change_visibility(
    connection: &Connection,
    queue: QueueId,
    changes: Vec<(Receipt, Millis)>,
    now: Millis,
) -> Result<Vec<VisibilityChange>> {
    let mut outcomes = Vec::with_capacity(changes.len());
    for (receipt, visible_at) in changes {
        let current: Option<Millis> = connection
            .prepare_cached(
                "SELECT visible_at FROM messages \
                 WHERE seq = ?1 AND queue_id = ?2 AND nonce = ?3 AND nonce != 0",
            )?
            .query_row(params![receipt.sequence, queue, receipt.nonce], |row| {
                row.get(0)
            })
            .optional()?;
        let outcome = match current {
            None => VisibilityChange::Unknown,
            Some(current) if current <= now => VisibilityChange::NotInFlight,
            Some(_) => {
                connection
                    .prepare_cached("UPDATE messages SET visible_at = ?2 WHERE seq = ?1")?
                    .execute(params![receipt.sequence, visible_at])?;
                VisibilityChange::Changed
            }
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

pub(crate) fn purge_queue(connection: &Connection, queue: QueueId, now: Millis) -> Result<u64> {
    let deleted = connection
        .prepare_cached("DELETE FROM messages WHERE queue_id = ?1 AND sent_at <= ?2")?
        .execute(params![queue, now])?;
    Ok(deleted as u64)
}

pub(crate) fn expire_messages(
    connection: &Connection,
    queue: QueueId,
    retained_since: Millis,
) -> Result<u64> {
    let deleted = connection
        .prepare_cached("DELETE FROM messages WHERE queue_id = ?1 AND sent_at < ?2")?
        .execute(params![queue, retained_since])?;
    Ok(deleted as u64)
}

pub(crate) fn expire_deduplication(connection: &Connection, now: Millis) -> Result<u64> {
    let dedup = connection
        .prepare_cached("DELETE FROM dedup WHERE expires_at <= ?1")?
        .execute([now])?;
    let attempts = connection
        .prepare_cached("DELETE FROM receive_attempts WHERE expires_at <= ?1")?
        .execute([now])?;
    Ok((dedup + attempts) as u64)
}

pub(crate) fn move_messages(connection: &Connection, request: MoveRequest) -> Result<u64> {
    // Existence of each destination, checked once per move.
    let mut destinations: HashMap<QueueId, bool> = HashMap::new();
    let mut moved = 0usize;
    let mut last: (Millis, i64) = (Millis::MIN, i64::MIN);
    while moved < request.max_messages {
        let page = (request.max_messages - moved).max(64);
        let candidates: Vec<(i64, Millis, Option<String>)> = connection
            .prepare_cached(
                "SELECT seq, sent_at, dead_letter_source_arn FROM messages \
                 WHERE queue_id = ?1 AND sent_at < ?2 AND (visible_at <= ?3 OR receive_count = 0) \
                 AND (sent_at, seq) > (?4, ?5) ORDER BY sent_at, seq",
            )?
            .query_map(
                params![
                    request.from,
                    request.sent_before,
                    request.now,
                    last.0,
                    last.1
                ],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?
            .take(page)
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let fetched = candidates.len();
        for (seq, sent_at, source) in candidates {
            if moved == request.max_messages {
                break;
            }
            last = (sent_at, seq);
            let (to, keep_source) = match &request.to {
                MoveDestination::Queue(to) => (Some(*to), true),
                MoveDestination::OriginalSources(sources) => (
                    source.as_deref().and_then(|arn| sources.get(arn)).copied(),
                    false,
                ),
            };
            let Some(to) = to.filter(|to| *to != request.from) else {
                continue;
            };
            let exists = match destinations.get(&to) {
                Some(exists) => *exists,
                None => {
                    let exists = queue_exists(connection, to)?;
                    destinations.insert(to, exists);
                    exists
                }
            };
            if !exists {
                continue;
            }
            move_message(connection, seq, to, request.now, None, keep_source)?;
            moved += 1;
        }
        if fetched < page {
            break;
        }
    }
    Ok(moved as u64)
}

/// Runs `sql` with the task's columns as `?1`–`?9` (handle first) and, when given,
/// `expected_status` as `?10`; returns the rows it wrote.
fn write_move_task(
    connection: &Connection,
    sql: &str,
    task: &MoveTaskRecord,
    expected_status: Option<&str>,
) -> Result<usize> {
    let (moved, to_move) = (
        i64::try_from(task.moved).unwrap_or(i64::MAX),
        i64::try_from(task.to_move).unwrap_or(i64::MAX),
    );
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![
        &task.handle,
        &task.source_arn,
        &task.destination_arn,
        &task.max_per_second,
        &task.status,
        &moved,
        &to_move,
        &task.failure_reason,
        &task.started_at,
    ];
    if let Some(expected_status) = &expected_status {
        values.push(expected_status);
    }
    Ok(connection.prepare_cached(sql)?.execute(values.as_slice())?)
}

pub(crate) fn put_move_task(connection: &Connection, task: MoveTaskRecord) -> Result<()> {
    write_move_task(
        connection,
        "INSERT OR REPLACE INTO move_tasks (handle, source_arn, destination_arn, \
         max_per_second, status, moved, to_move, failure_reason, started_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &task,
        None,
    )?;
    Ok(())
}

/// Inserts a task unless its source has an active one (the writer makes this atomic).
pub(crate) fn start_move_task(connection: &Connection, task: MoveTaskRecord) -> Result<bool> {
    let active = connection
        .prepare_cached(
            "SELECT 1 FROM move_tasks WHERE source_arn = ?1 \
             AND status IN ('RUNNING', 'CANCELLING')",
        )?
        .exists([&task.source_arn])?;
    if active {
        return Ok(false);
    }
    put_move_task(connection, task)?;
    Ok(true)
}

/// Replaces the task only if its status is still `expected_status`.
pub(crate) fn update_move_task(
    connection: &Connection,
    task: MoveTaskRecord,
    expected_status: &str,
) -> Result<bool> {
    let updated = write_move_task(
        connection,
        "UPDATE move_tasks SET source_arn = ?2, destination_arn = ?3, max_per_second = ?4, \
         status = ?5, moved = ?6, to_move = ?7, failure_reason = ?8, started_at = ?9 \
         WHERE handle = ?1 AND status = ?10",
        &task,
        Some(expected_status),
    )?;
    Ok(updated > 0)
}

/// Takes or renews a lease (see [`crate::Store::acquire_lease`]).
pub(crate) fn acquire_lease(connection: &Connection, lease: &super::writer::Lease) -> Result<bool> {
    let taken = connection
        .prepare_cached(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3 + ?4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3",
        )?
        .execute(params![lease.name, lease.holder, lease.now, lease.ttl])?;
    Ok(taken > 0)
}

// ---- IAM roles ----

const ROLE_COLUMNS: &str = "account, name, path, role_id, assume_role_policy, description, \
     max_session_duration, tags, created_at";

fn role_row(row: &Row<'_>) -> rusqlite::Result<(RoleRecord, String)> {
    Ok((
        RoleRecord {
            account: row.get(0)?,
            name: row.get(1)?,
            path: row.get(2)?,
            role_id: row.get(3)?,
            assume_role_policy: row.get(4)?,
            description: row.get(5)?,
            max_session_duration: row.get(6)?,
            tags: Vec::new(),
            created_at: row.get(8)?,
        },
        row.get(7)?,
    ))
}

fn role_with_tags((mut role, tags): (RoleRecord, String)) -> Result<RoleRecord> {
    role.tags = parse_tags(&tags, &role.name)?;
    Ok(role)
}

fn parse_tags(json: &str, role: &str) -> Result<Vec<(String, String)>> {
    serde_json::from_str(json)
        .map_err(|error| Error::Corrupt(format!("tags of role {role}: {error}")))
}

fn tags_json(tags: &[(String, String)]) -> Result<String> {
    serde_json::to_string(tags).map_err(|error| Error::Corrupt(format!("encoding tags: {error}")))
}

pub(crate) fn get_role(
    connection: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<RoleRecord>> {
    let row = connection
        .prepare_cached(&format!(
            "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE account = ?1 AND name_key = ?2"
        ))?
        .query_row(params![account, role_name_key(name)], role_row)
        .optional()?;
    row.map(role_with_tags).transpose()
}

pub(crate) fn create_role(connection: &Connection, role: RoleRecord) -> Result<CreateRoleOutcome> {
    if let Some(existing) = get_role(connection, &role.account, &role.name)? {
        return Ok(CreateRoleOutcome::Exists(existing));
    }
    connection
        .prepare_cached(
            "INSERT INTO iam_roles (account, name_key, name, path, role_id, assume_role_policy, \
             description, max_session_duration, tags, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            role.account,
            role_name_key(&role.name),
            role.name,
            role.path,
            role.role_id,
            role.assume_role_policy,
            role.description,
            role.max_session_duration,
            tags_json(&role.tags)?,
            role.created_at,
        ])?;
    Ok(CreateRoleOutcome::Created(role))
}

pub(crate) fn delete_role(
    connection: &Connection,
    account: &str,
    name: &str,
) -> Result<DeleteRoleOutcome> {
    let key = role_name_key(name);
    let exists = connection
        .prepare_cached("SELECT 1 FROM iam_roles WHERE account = ?1 AND name_key = ?2")?
        .exists(params![account, key])?;
    if !exists {
        return Ok(DeleteRoleOutcome::NoSuchRole);
    }
    let attached = connection
        .prepare_cached(
            "SELECT 1 FROM iam_role_attached_policies WHERE account = ?1 AND role_key = ?2",
        )?
        .exists(params![account, key])?;
    if attached {
        return Ok(DeleteRoleOutcome::HasAttachedPolicies);
    }
    let inline = connection
        .prepare_cached(
            "SELECT 1 FROM iam_role_inline_policies WHERE account = ?1 AND role_key = ?2",
        )?
        .exists(params![account, key])?;
    if inline {
        return Ok(DeleteRoleOutcome::HasInlinePolicies);
    }
    connection
        .prepare_cached("DELETE FROM iam_roles WHERE account = ?1 AND name_key = ?2")?
        .execute(params![account, key])?;
    Ok(DeleteRoleOutcome::Deleted)
}

pub(crate) fn change_role(
    connection: &Connection,
    account: &str,
    name: &str,
    change: RoleChange,
) -> Result<RoleChangeOutcome> {
    let key = role_name_key(name);
    let tags: Option<String> = connection
        .prepare_cached("SELECT tags FROM iam_roles WHERE account = ?1 AND name_key = ?2")?
        .query_row(params![account, key], |row| row.get(0))
        .optional()?;
    let Some(tags) = tags else {
        return Ok(RoleChangeOutcome::NoSuchRole);
    };
    let changed = match change {
        RoleChange::AttachPolicy(arn) => {
            connection
                .prepare_cached(
                    "INSERT OR IGNORE INTO iam_role_attached_policies \
                     (account, role_key, policy_arn) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![account, key, arn])?;
            true
        }
        RoleChange::DetachPolicy(arn) => {
            connection
                .prepare_cached(
                    "DELETE FROM iam_role_attached_policies \
                     WHERE account = ?1 AND role_key = ?2 AND policy_arn = ?3",
                )?
                .execute(params![account, key, arn])?
                > 0
        }
        RoleChange::PutInlinePolicy { name, document } => {
            connection
                .prepare_cached(
                    "INSERT INTO iam_role_inline_policies (account, role_key, policy_name, \
                     document) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (account, role_key, policy_name) \
                     DO UPDATE SET document = excluded.document",
                )?
                .execute(params![account, key, name, document])?;
            true
        }
        RoleChange::DeleteInlinePolicy(name) => {
            connection
                .prepare_cached(
                    "DELETE FROM iam_role_inline_policies \
                     WHERE account = ?1 AND role_key = ?2 AND policy_name = ?3",
                )?
                .execute(params![account, key, name])?
                > 0
        }
        RoleChange::Tag(new) => {
            let mut tags = parse_tags(&tags, name)?;
            merge_role_tags(&mut tags, new);
            set_role_tags(connection, account, &key, &tags)?;
            true
        }
        RoleChange::Untag(keys) => {
            let mut tags = parse_tags(&tags, name)?;
            tags.retain(|(tag, _)| !keys.contains(tag));
            set_role_tags(connection, account, &key, &tags)?;
            true
        }
    };
    Ok(if changed {
        RoleChangeOutcome::Changed
    } else {
        RoleChangeOutcome::NoSuchPolicy
    })
}

fn set_role_tags(
    connection: &Connection,
    account: &str,
    key: &str,
    tags: &[(String, String)],
) -> Result<()> {
    connection
        .prepare_cached("UPDATE iam_roles SET tags = ?3 WHERE account = ?1 AND name_key = ?2")?
        .execute(params![account, key, tags_json(tags)?])?;
    Ok(())
}

// ---- reads, on a pooled read connection ----

pub(crate) fn message_counts(
    connection: &Connection,
    queue: QueueId,
    now: Millis,
) -> Result<MessageCounts> {
    let visible: i64 = connection
        .prepare_cached("SELECT count(*) FROM messages WHERE queue_id = ?1 AND visible_at <= ?2")?
        .query_row(params![queue, now], |row| row.get(0))?;
    let (in_flight, delayed): (i64, i64) = connection
        .prepare_cached(
            "SELECT coalesce(sum(receive_count > 0), 0), coalesce(sum(receive_count = 0), 0) \
             FROM messages WHERE queue_id = ?1 AND visible_at > ?2",
        )?
        .query_row(params![queue, now], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(MessageCounts {
        visible: visible.max(0) as u64,
        in_flight: in_flight.max(0) as u64,
        delayed: delayed.max(0) as u64,
    })
}

pub(crate) fn next_visible_at(
    connection: &Connection,
    queue: QueueId,
    now: Millis,
) -> Result<Option<Millis>> {
    Ok(connection
        .prepare_cached(
            "SELECT min(visible_at) FROM messages WHERE queue_id = ?1 AND visible_at > ?2",
        )?
        .query_row(params![queue, now], |row| row.get(0))?)
}

pub(crate) fn count_messages_before(
    connection: &Connection,
    queue: QueueId,
    sent_before: Millis,
) -> Result<u64> {
    let count: i64 = connection
        .prepare_cached("SELECT count(*) FROM messages WHERE queue_id = ?1 AND sent_at < ?2")?
        .query_row(params![queue, sent_before], |row| row.get(0))?;
    Ok(count.max(0) as u64)
}

pub(crate) fn list_move_tasks(
    connection: &Connection,
    source_arn: Option<&str>,
) -> Result<Vec<MoveTaskRecord>> {
    let mut statement = connection.prepare_cached(
        "SELECT handle, source_arn, destination_arn, max_per_second, status, moved, to_move, \
         failure_reason, started_at FROM move_tasks \
         WHERE ?1 IS NULL OR source_arn = ?1 ORDER BY started_at DESC, rowid DESC",
    )?;
    let tasks = statement
        .query_map([source_arn], |row| {
            let moved: i64 = row.get(5)?;
            let to_move: i64 = row.get(6)?;
            Ok(MoveTaskRecord {
                handle: row.get(0)?,
                source_arn: row.get(1)?,
                destination_arn: row.get(2)?,
                max_per_second: row.get(3)?,
                status: row.get(4)?,
                moved: moved.max(0) as u64,
                to_move: to_move.max(0) as u64,
                failure_reason: row.get(7)?,
                started_at: row.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(tasks)
}

pub(crate) fn list_roles(
    connection: &Connection,
    account: &str,
    path_prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<RoleRecord>> {
    let after = after.map(role_name_key);
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE account = ?1 \
         AND substr(path, 1, length(?2)) = ?2 AND (?3 IS NULL OR name_key > ?3) \
         ORDER BY name_key LIMIT ?4"
    ))?;
    let rows = statement
        .query_map(
            params![
                account,
                path_prefix,
                after,
                limit.min(i64::MAX as usize) as i64
            ],
            role_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(role_with_tags).collect()
}

pub(crate) fn role_policies(
    connection: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<RolePolicies>> {
    let key = role_name_key(name);
    let exists = connection
        .prepare_cached("SELECT 1 FROM iam_roles WHERE account = ?1 AND name_key = ?2")?
        .exists(params![account, key])?;
    if !exists {
        return Ok(None);
    }
    let attached = connection
        .prepare_cached(
            "SELECT policy_arn FROM iam_role_attached_policies \
             WHERE account = ?1 AND role_key = ?2 ORDER BY policy_arn",
        )?
        .query_map(params![account, key], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let inline = connection
        .prepare_cached(
            "SELECT policy_name, document FROM iam_role_inline_policies \
             WHERE account = ?1 AND role_key = ?2 ORDER BY policy_name",
        )?
        .query_map(params![account, key], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
    Ok(Some(RolePolicies { attached, inline }))
}

const FUNCTION_COLUMNS: &str = "account, name, configuration, created_at, modified_at, revision_id";

fn function_row(row: &Row<'_>) -> rusqlite::Result<FunctionRecord> {
    Ok(FunctionRecord {
        account: row.get(0)?,
        name: row.get(1)?,
        configuration: row.get(2)?,
        created_at: row.get(3)?,
        modified_at: row.get(4)?,
        revision_id: row.get(5)?,
    })
}

pub(crate) fn get_function(
    connection: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<FunctionRecord>> {
    Ok(connection
        .prepare_cached(&format!(
            "SELECT {FUNCTION_COLUMNS} FROM lambda_functions WHERE account = ?1 AND name = ?2"
        ))?
        .query_row(params![account, name], function_row)
        .optional()?)
}

pub(crate) fn function_code(
    connection: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(connection
        .prepare_cached("SELECT code FROM lambda_function_code WHERE account = ?1 AND name = ?2")?
        .query_row(params![account, name], |row| row.get(0))
        .optional()?)
}

pub(crate) fn list_functions(
    connection: &Connection,
    account: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<FunctionRecord>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {FUNCTION_COLUMNS} FROM lambda_functions WHERE account = ?1 \
         AND (?2 IS NULL OR name > ?2) ORDER BY name LIMIT ?3"
    ))?;
    let rows = statement
        .query_map(
            params![account, after, limit.min(i64::MAX as usize) as i64],
            function_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn create_function(
    connection: &Connection,
    function: &FunctionRecord,
    code: &[u8],
) -> Result<CreateFunctionOutcome> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO lambda_functions (account, name, configuration, created_at, \
             modified_at, revision_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (account, name) DO NOTHING",
        )?
        .execute(params![
            function.account,
            function.name,
            function.configuration,
            function.created_at,
            function.modified_at,
            function.revision_id,
        ])?;
    if inserted > 0 {
        // Runs in the operation's savepoint with the insert above: both or neither.
        connection
            .prepare_cached(
                "INSERT OR REPLACE INTO lambda_function_code (account, name, code) \
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![function.account, function.name, code])?;
    }
    Ok(if inserted > 0 {
        CreateFunctionOutcome::Created
    } else {
        CreateFunctionOutcome::Exists
    })
}

pub(crate) fn update_function(
    connection: &Connection,
    account: &str,
    name: &str,
    update: &FunctionUpdate,
) -> Result<UpdateFunctionOutcome> {
    let Some(current) = get_function(connection, account, name)? else {
        return Ok(UpdateFunctionOutcome::NoSuchFunction);
    };
    if let Some(expected) = &update.expected_revision_id
        && *expected != current.revision_id
    {
        return Ok(UpdateFunctionOutcome::RevisionMismatch);
    }
    connection
        .prepare_cached(
            "UPDATE lambda_functions SET configuration = coalesce(?3, configuration), \
             modified_at = ?4, revision_id = ?5 WHERE account = ?1 AND name = ?2",
        )?
        .execute(params![
            account,
            name,
            update.configuration,
            update.modified_at,
            update.revision_id,
        ])?;
    if let Some(code) = &update.code {
        connection
            .prepare_cached(
                "INSERT OR REPLACE INTO lambda_function_code (account, name, code) \
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![account, name, code])?;
    }
    Ok(UpdateFunctionOutcome::Updated(FunctionRecord {
        configuration: update
            .configuration
            .clone()
            .unwrap_or(current.configuration),
        modified_at: update.modified_at,
        revision_id: update.revision_id.clone(),
        ..current
    }))
}

pub(crate) fn delete_function(connection: &Connection, account: &str, name: &str) -> Result<bool> {
    let deleted = connection
        .prepare_cached("DELETE FROM lambda_functions WHERE account = ?1 AND name = ?2")?
        .execute(params![account, name])?;
    connection
        .prepare_cached("DELETE FROM lambda_function_code WHERE account = ?1 AND name = ?2")?
        .execute(params![account, name])?;
    Ok(deleted > 0)
}

const RESOURCE_COLUMNS: &str = "account, kind, key, document, revision_id, modified_at";

fn resource_row(row: &Row<'_>) -> rusqlite::Result<ResourceRecord> {
    Ok(ResourceRecord {
        account: row.get(0)?,
        kind: row.get(1)?,
        key: row.get(2)?,
        document: row.get(3)?,
        revision_id: row.get(4)?,
        modified_at: row.get(5)?,
    })
}

pub(crate) fn get_resource(
    connection: &Connection,
    account: &str,
    kind: &str,
    key: &str,
) -> Result<Option<ResourceRecord>> {
    Ok(connection
        .prepare_cached(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM lambda_resources \
             WHERE account = ?1 AND kind = ?2 AND key = ?3"
        ))?
        .query_row(params![account, kind, key], resource_row)
        .optional()?)
}

pub(crate) fn resource_blob(
    connection: &Connection,
    account: &str,
    kind: &str,
    key: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(connection
        .prepare_cached(
            "SELECT blob FROM lambda_resources WHERE account = ?1 AND kind = ?2 AND key = ?3",
        )?
        .query_row(params![account, kind, key], |row| {
            row.get::<_, Option<Vec<u8>>>(0)
        })
        .optional()?
        .flatten())
}

pub(crate) fn list_resources(
    connection: &Connection,
    account: &str,
    kind: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<ResourceRecord>> {
    // `substr` counts characters and `length` of text counts characters too, so the
    // prefix test is exact for any UTF-8 key.
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM lambda_resources WHERE account = ?1 AND kind = ?2 \
         AND substr(key, 1, length(?3)) = ?3 AND (?4 IS NULL OR key > ?4) \
         ORDER BY key LIMIT ?5"
    ))?;
    let rows = statement
        .query_map(
            params![
                account,
                kind,
                prefix,
                after,
                limit.min(i64::MAX as usize) as i64
            ],
            resource_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn resources_of_kind(
    connection: &Connection,
    kind: &str,
) -> Result<Vec<ResourceRecord>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM lambda_resources WHERE kind = ?1 ORDER BY account, key"
    ))?;
    let rows = statement
        .query_map(params![kind], resource_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn stored_resource_revision(
    connection: &Connection,
    account: &str,
    kind: &str,
    key: &str,
) -> Result<Option<String>> {
    Ok(connection
        .prepare_cached(
            "SELECT revision_id FROM lambda_resources \
             WHERE account = ?1 AND kind = ?2 AND key = ?3",
        )?
        .query_row(params![account, kind, key], |row| row.get(0))
        .optional()?)
}

pub(crate) fn put_resource(
    connection: &Connection,
    resource: &ResourceRecord,
    blob: Option<&[u8]>,
    condition: &ResourceCondition,
) -> Result<ResourceOutcome> {
    let stored =
        stored_resource_revision(connection, &resource.account, &resource.kind, &resource.key)?;
    if !condition.holds(stored.as_deref()) {
        return Ok(ResourceOutcome::ConditionFailed);
    }
    connection
        .prepare_cached(
            "INSERT INTO lambda_resources (account, kind, key, document, blob, revision_id, \
             modified_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (account, kind, key) DO UPDATE SET document = excluded.document, \
             blob = coalesce(excluded.blob, blob), revision_id = excluded.revision_id, \
             modified_at = excluded.modified_at",
        )?
        .execute(params![
            resource.account,
            resource.kind,
            resource.key,
            resource.document,
            blob,
            resource.revision_id,
            resource.modified_at,
        ])?;
    Ok(ResourceOutcome::Done)
}

pub(crate) fn delete_resource(
    connection: &Connection,
    account: &str,
    kind: &str,
    key: &str,
    condition: &ResourceCondition,
) -> Result<ResourceOutcome> {
    let stored = stored_resource_revision(connection, account, kind, key)?;
    if stored.is_none() || !condition.holds(stored.as_deref()) {
        return Ok(ResourceOutcome::ConditionFailed);
    }
    connection
        .prepare_cached(
            "DELETE FROM lambda_resources WHERE account = ?1 AND kind = ?2 AND key = ?3",
        )?
        .execute(params![account, kind, key])?;
    Ok(ResourceOutcome::Done)
}

pub(crate) fn delete_resources(
    connection: &Connection,
    account: &str,
    kind: &str,
    prefix: &str,
) -> Result<u64> {
    let deleted = connection
        .prepare_cached(
            "DELETE FROM lambda_resources WHERE account = ?1 AND kind = ?2 \
             AND substr(key, 1, length(?3)) = ?3",
        )?
        .execute(params![account, kind, prefix])?;
    Ok(deleted as u64)
}
