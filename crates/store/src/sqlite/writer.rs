//! The writer thread: the only connection that writes, with group commit.
//!
//! Callers send a [`WriteOp`] over a channel and wait on its oneshot. The thread blocks for
//! the first operation, then takes whatever else is already queued (up to `max_batch`),
//! runs the whole batch in one `BEGIN IMMEDIATE … COMMIT`, and answers every caller only
//! after that single commit (one fsync) succeeded. Under load the queue fills while the
//! previous commit is syncing, so batches grow by themselves; an idle store answers a lone
//! caller after one commit.
//!
//! Each operation runs inside its own savepoint: an operation whose SQL fails is undone
//! alone and answered with its error, the others still commit. If the commit itself fails,
//! nothing in the batch was acknowledged and every caller gets the error.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, RwLock};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::ops;
use crate::model::*;
use crate::queue_cache::{QueueCache, QueueChange};
use crate::{Error, Result};

pub(crate) type Reply<T> = oneshot::Sender<Result<T>>;

/// One write operation and the caller waiting for its result.
pub(crate) enum WriteOp {
    CreateQueue(NewQueue, Reply<CreateQueueOutcome>),
    UpdateQueue(QueueId, QueueUpdate, Reply<Option<QueueRecord>>),
    DeleteQueue(QueueId, Millis, Reply<bool>),
    SendMessages(QueueId, Vec<NewMessage>, Reply<Vec<SendOutcome>>),
    /// Several queues' sends in one savepoint: all of them or none.
    FanOut(Vec<FanOut>, Reply<Vec<FanOutOutcome>>),
    ClaimMessages(ClaimRequest, Reply<ClaimOutcome>),
    DeleteMessages(QueueId, Vec<Receipt>, Reply<Vec<DeleteOutcome>>),
    ChangeVisibility(
        QueueId,
        Vec<(Receipt, Millis)>,
        Millis,
        Reply<Vec<VisibilityChange>>,
    ),
    PurgeQueue(QueueId, Millis, Reply<u64>),
    ExpireMessages(QueueId, Millis, Reply<u64>),
    ExpireDeduplication(Millis, Reply<u64>),
    MoveMessages(MoveRequest, Reply<u64>),
    PutMoveTask(MoveTaskRecord, Reply<()>),
    StartMoveTask(MoveTaskRecord, Reply<bool>),
    UpdateMoveTask(MoveTaskRecord, String, Reply<bool>),
    AcquireLease(Lease, Reply<bool>),
    CreateRole(RoleRecord, Reply<CreateRoleOutcome>),
    /// Account and role name.
    DeleteRole(String, String, Reply<DeleteRoleOutcome>),
    /// Account, role name and the change.
    ChangeRole(String, String, RoleChange, Reply<RoleChangeOutcome>),
    CreateFunction(FunctionRecord, Vec<u8>, Reply<CreateFunctionOutcome>),
    /// Account, function name and the update.
    UpdateFunction(String, String, FunctionUpdate, Reply<UpdateFunctionOutcome>),
    /// Account and function name.
    DeleteFunction(String, String, Reply<bool>),
    PutResource(
        ResourceRecord,
        Option<Vec<u8>>,
        ResourceCondition,
        Reply<ResourceOutcome>,
    ),
    /// Account, kind, key and the condition.
    DeleteResource(
        String,
        String,
        String,
        ResourceCondition,
        Reply<ResourceOutcome>,
    ),
    /// Account, kind and key prefix.
    DeleteResources(String, String, String, Reply<u64>),
}

/// Input of a lease operation (see [`crate::Store::acquire_lease`]).
pub(crate) struct Lease {
    pub(crate) name: String,
    pub(crate) holder: String,
    pub(crate) now: Millis,
    pub(crate) ttl: Millis,
}

/// Answers one caller once the batch's fate is known: `Some(error)` when the commit failed.
type Answer = Box<dyn FnOnce(Option<&Error>) + Send>;

fn answer<T: Send + 'static>(result: Result<T>, reply: Reply<T>) -> Answer {
    Box::new(move |commit_error| {
        let result = match commit_error {
            Some(error) => Err(duplicate(error)),
            None => result,
        };
        // The caller may have gone away (cancelled request); its effect is committed anyway.
        let _ = reply.send(result);
    })
}

/// A copy of `error` for each caller of a failed batch (the store's errors are not `Clone`).
fn duplicate(error: &Error) -> Error {
    match error {
        Error::Sqlite(rusqlite::Error::SqliteFailure(code, message)) => {
            Error::Sqlite(rusqlite::Error::SqliteFailure(*code, message.clone()))
        }
        Error::Closed => Error::Closed,
        Error::Corrupt(text) => Error::Corrupt(text.clone()),
        Error::Unsupported(text) => Error::Unsupported(text.clone()),
        other => Error::Io(std::io::Error::other(format!("commit failed: {other}"))),
    }
}

/// Runs until every sender is dropped, then returns (closing the write connection).
pub(crate) fn run(
    mut connection: Connection,
    operations: Receiver<WriteOp>,
    max_batch: usize,
    cache: Arc<RwLock<QueueCache>>,
) {
    let max_batch = max_batch.max(1);
    let mut batch = Vec::with_capacity(max_batch);
    while let Ok(first) = operations.recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match operations.try_recv() {
                Ok(operation) => batch.push(operation),
                Err(_) => break,
            }
        }
        run_batch(&mut connection, &mut batch, &cache);
    }
}

fn run_batch(connection: &mut Connection, batch: &mut Vec<WriteOp>, cache: &RwLock<QueueCache>) {
    let mut answers: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut changes: Vec<QueueChange> = Vec::new();
    let mut failure: Option<Error> = None;

    if let Err(error) = savepoint(connection, "BEGIN IMMEDIATE") {
        failure = Some(error);
    } else if connection.is_autocommit() {
        failure = Some(Error::Io(std::io::Error::other(
            "BEGIN did not open a transaction",
        )));
    }
    for operation in batch.drain(..) {
        if failure.is_some() {
            answers.push(fail(operation));
            continue;
        }
        let (operation_answer, operation_failed) = run_one(connection, operation, &mut changes);
        answers.push(operation_answer);
        // Some failures (disk full, I/O errors) make SQLite roll back the whole
        // transaction; the rest of the batch must then not run in autocommit mode.
        if operation_failed && connection.is_autocommit() {
            failure = Some(Error::Io(std::io::Error::other(
                "the transaction was rolled back by an error",
            )));
        }
    }
    if failure.is_none() {
        if let Err(error) = savepoint(connection, "COMMIT") {
            failure = Some(error);
        } else if !connection.is_autocommit() {
            failure = Some(Error::Io(std::io::Error::other(
                "COMMIT left the transaction open",
            )));
        }
    }
    if let Some(error) = &failure {
        tracing::error!(%error, "store batch failed; rolling it back");
        if !connection.is_autocommit() {
            let _ = connection.execute_batch("ROLLBACK");
        }
    } else if !changes.is_empty() {
        // Publish committed queue changes before answering, so that a caller reads back
        // at least what it wrote.
        match cache.write() {
            Ok(mut cache) => changes.into_iter().for_each(|change| cache.apply(change)),
            Err(poisoned) => {
                let mut cache = poisoned.into_inner();
                changes.into_iter().for_each(|change| cache.apply(change));
            }
        }
    }
    for operation_answer in answers {
        operation_answer(failure.as_ref());
    }
}

/// The answer for an operation that never ran because its batch had already failed.
fn fail(operation: WriteOp) -> Answer {
    fn closed<T>() -> Result<T> {
        Err(Error::Io(std::io::Error::other(
            "the batch's transaction failed",
        )))
    }
    match operation {
        WriteOp::CreateQueue(_, reply) => answer(closed(), reply),
        WriteOp::UpdateQueue(_, _, reply) => answer(closed(), reply),
        WriteOp::DeleteQueue(_, _, reply) => answer(closed(), reply),
        WriteOp::SendMessages(_, _, reply) => answer(closed(), reply),
        WriteOp::FanOut(_, reply) => answer(closed(), reply),
        WriteOp::ClaimMessages(_, reply) => answer(closed(), reply),
        WriteOp::DeleteMessages(_, _, reply) => answer(closed(), reply),
        WriteOp::ChangeVisibility(_, _, _, reply) => answer(closed(), reply),
        WriteOp::PurgeQueue(_, _, reply) => answer(closed(), reply),
        WriteOp::ExpireMessages(_, _, reply) => answer(closed(), reply),
        WriteOp::ExpireDeduplication(_, reply) => answer(closed(), reply),
        WriteOp::MoveMessages(_, reply) => answer(closed(), reply),
        WriteOp::PutMoveTask(_, reply) => answer(closed(), reply),
        WriteOp::StartMoveTask(_, reply) => answer(closed(), reply),
        WriteOp::UpdateMoveTask(_, _, reply) => answer(closed(), reply),
        WriteOp::AcquireLease(_, reply) => answer(closed(), reply),
        WriteOp::CreateRole(_, reply) => answer(closed(), reply),
        WriteOp::DeleteRole(_, _, reply) => answer(closed(), reply),
        WriteOp::ChangeRole(_, _, _, reply) => answer(closed(), reply),
        WriteOp::CreateFunction(_, _, reply) => answer(closed(), reply),
        WriteOp::UpdateFunction(_, _, _, reply) => answer(closed(), reply),
        WriteOp::DeleteFunction(_, _, reply) => answer(closed(), reply),
        WriteOp::PutResource(_, _, _, reply) => answer(closed(), reply),
        WriteOp::DeleteResource(_, _, _, _, reply) => answer(closed(), reply),
        WriteOp::DeleteResources(_, _, _, reply) => answer(closed(), reply),
    }
}

/// Runs one operation in its own savepoint; returns its answer and whether it failed.
fn run_one(
    connection: &Connection,
    operation: WriteOp,
    changes: &mut Vec<QueueChange>,
) -> (Answer, bool) {
    if let Err(error) = savepoint(connection, "SAVEPOINT op") {
        return (fail_with(operation, error), true);
    }
    let mut change = None;
    let (operation_answer, failed) = match operation {
        WriteOp::CreateQueue(queue, reply) => {
            finish_changing(ops::create_queue(connection, queue), reply, &mut change)
        }
        WriteOp::UpdateQueue(id, update, reply) => finish_changing(
            ops::update_queue(connection, id, update),
            reply,
            &mut change,
        ),
        WriteOp::DeleteQueue(id, now, reply) => {
            finish_changing(ops::delete_queue(connection, id, now), reply, &mut change)
        }
        WriteOp::SendMessages(queue, messages, reply) => {
            finish(ops::send_messages(connection, queue, messages), reply)
        }
        WriteOp::FanOut(fan_outs, reply) => finish(ops::fan_out(connection, fan_outs), reply),
        WriteOp::ClaimMessages(request, reply) => {
            finish(ops::claim_messages(connection, request), reply)
        }
        WriteOp::DeleteMessages(queue, receipts, reply) => {
            finish(ops::delete_messages(connection, queue, receipts), reply)
        }
        WriteOp::ChangeVisibility(queue, changes, now, reply) => finish(
            ops::change_visibility(connection, queue, changes, now),
            reply,
        ),
        WriteOp::PurgeQueue(queue, now, reply) => {
            finish(ops::purge_queue(connection, queue, now), reply)
        }
        WriteOp::ExpireMessages(queue, retained_since, reply) => finish(
            ops::expire_messages(connection, queue, retained_since),
            reply,
        ),
        WriteOp::ExpireDeduplication(now, reply) => {
            finish(ops::expire_deduplication(connection, now), reply)
        }
        WriteOp::MoveMessages(request, reply) => {
            finish(ops::move_messages(connection, request), reply)
        }
        WriteOp::PutMoveTask(task, reply) => finish(ops::put_move_task(connection, task), reply),
        WriteOp::StartMoveTask(task, reply) => {
            finish(ops::start_move_task(connection, task), reply)
        }
        WriteOp::UpdateMoveTask(task, expected, reply) => {
            finish(ops::update_move_task(connection, task, &expected), reply)
        }
        WriteOp::AcquireLease(lease, reply) => {
            finish(ops::acquire_lease(connection, &lease), reply)
        }
        WriteOp::CreateRole(role, reply) => finish(ops::create_role(connection, role), reply),
        WriteOp::DeleteRole(account, name, reply) => {
            finish(ops::delete_role(connection, &account, &name), reply)
        }
        WriteOp::ChangeRole(account, name, change, reply) => {
            finish(ops::change_role(connection, &account, &name, change), reply)
        }
        WriteOp::CreateFunction(function, code, reply) => {
            finish(ops::create_function(connection, &function, &code), reply)
        }
        WriteOp::UpdateFunction(account, name, update, reply) => finish(
            ops::update_function(connection, &account, &name, &update),
            reply,
        ),
        WriteOp::DeleteFunction(account, name, reply) => {
            finish(ops::delete_function(connection, &account, &name), reply)
        }
        WriteOp::PutResource(resource, blob, condition, reply) => finish(
            ops::put_resource(connection, &resource, blob.as_deref(), &condition),
            reply,
        ),
        WriteOp::DeleteResource(account, kind, key, condition, reply) => finish(
            ops::delete_resource(connection, &account, &kind, &key, &condition),
            reply,
        ),
        WriteOp::DeleteResources(account, kind, prefix, reply) => finish(
            ops::delete_resources(connection, &account, &kind, &prefix),
            reply,
        ),
    };
    if failed {
        if !connection.is_autocommit() {
            let _ = savepoint(connection, "ROLLBACK TO op");
            let _ = savepoint(connection, "RELEASE op");
        }
    } else if let Err(error) = savepoint(connection, "RELEASE op") {
        tracing::error!(%error, "releasing a savepoint failed");
    } else if let Some(change) = change {
        changes.push(change);
    }
    (operation_answer, failed)
}

fn finish<T: Send + 'static>(result: Result<T>, reply: Reply<T>) -> (Answer, bool) {
    let failed = result.is_err();
    (answer(result, reply), failed)
}

/// [`finish`] for queue operations, which also yield the change to publish to the
/// queue cache once the batch commits.
fn finish_changing<T: Send + 'static>(
    result: Result<(T, Option<QueueChange>)>,
    reply: Reply<T>,
    change: &mut Option<QueueChange>,
) -> (Answer, bool) {
    let result = result.map(|(outcome, queue_change)| {
        *change = queue_change;
        outcome
    });
    finish(result, reply)
}

fn fail_with(operation: WriteOp, error: Error) -> Answer {
    let error_answer = fail(operation);
    Box::new(move |commit_error| error_answer(Some(commit_error.unwrap_or(&error))))
}

/// Runs one of the writer's fixed transaction statements through the statement cache.
fn savepoint(connection: &Connection, sql: &str) -> Result<()> {
    connection.prepare_cached(sql)?.execute([])?;
    Ok(())
}
