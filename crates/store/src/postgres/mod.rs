//! The PostgreSQL backend: several eddy nodes share one database and keep no state of
//! their own that another node would need.
//!
//! # Concurrency skeleton
//!
//! - A pool of connections (deadpool) serves every operation. A connection that broke
//!   (the database restarted) is dropped and replaced on the next checkout; while the
//!   database is down, operations fail with [`Error::Unavailable`] after a bounded wait.
//! - Sends (fan-outs included) and deletes go through group commit ([`batch`]): a few
//!   tasks turn all concurrent sends of this node into one transaction with one multi-row
//!   `INSERT`, and all concurrent deletes into one `DELETE`, so a busy node commits far
//!   less often than it answers.
//! - Claims of standard queues are one statement with `FOR UPDATE SKIP LOCKED`; FIFO
//!   claims and sends lock their queue's row (see [`ops`] for the lock discipline).
//! - Whatever may let a long poll on another node find messages (a send, a visibility
//!   change, a move, a FIFO delete) also runs `pg_notify`, delivered at commit; one
//!   connection per node listens ([`listen`]) and hands the wake-ups to the engine.
//! - Queue records read by this node are kept in memory ([`QueueRecords`]): every request
//!   reads its queue, and a round trip per request for a record that rarely changes cost
//!   a third of the database's statements. A node that changes or deletes a queue drops
//!   its own copy and `pg_notify`s the others, which drop theirs; after the listening
//!   connection was lost every copy is dropped. So a change made through one node reaches
//!   the others within a notification's latency (SQS itself documents up to 60 seconds
//!   for attribute changes to propagate).
//! - Deadlocks and serialisation failures, which PostgreSQL resolves by aborting one
//!   transaction, are retried a few times with a short random backoff.

mod batch;
mod listen;
mod ops;
mod schema;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_postgres::NoTls;

use self::batch::{DeleteRequest, SendReply, SendRequest, Senders};
use crate::model::*;
use crate::queue_cache::{QueueCache, QueueChange};
use crate::{Backend, Error, PostgresOptions, Result};

/// How long an operation waits for a pooled connection, and a new connection for the
/// server, before failing as unavailable.
const POOL_WAIT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Sender tasks of the group commit: one commits while the next collects.
const SENDERS: usize = 2;
/// Most retries of a transaction that PostgreSQL aborted to break a deadlock.
const MAX_CONFLICT_RETRIES: u32 = 5;
/// Wake-ups buffered for the engine; a slow consumer gets [`Wakeup::All`] instead.
const WAKEUP_BUFFER: usize = 4096;

pub(crate) struct PostgresBackend {
    pool: Pool,
    /// This node's name in wake-up payloads, so it ignores its own.
    node: Arc<str>,
    sends: mpsc::Sender<SendRequest>,
    deletes: mpsc::Sender<DeleteRequest>,
    wakeups: broadcast::Sender<Wakeup>,
    queues: Arc<QueueRecords>,
    tasks: Vec<JoinHandle<()>>,
}

/// The queue records this node has read, dropped whenever any node changes them.
///
/// A lookup that misses reads the database and then fills the cache, but only if no
/// invalidation happened in between (the generation is unchanged): otherwise a record read
/// just before another node's change could be stored after that change's notification
/// and stay stale.
#[derive(Default)]
pub(crate) struct QueueRecords {
    state: RwLock<(QueueCache, u64)>,
}

impl QueueRecords {
    fn read<T>(&self, read: impl FnOnce(&QueueCache) -> T) -> T {
        let state = self
            .state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        read(&state.0)
    }

    fn write<T>(&self, write: impl FnOnce(&mut (QueueCache, u64)) -> T) -> T {
        let mut state = self
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        write(&mut state)
    }

    fn generation(&self) -> u64 {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .1
    }

    /// Stores a record read from the database at `generation`, unless something was
    /// invalidated since.
    fn fill(&self, record: &QueueRecord, generation: u64) {
        self.write(|(cache, current)| {
            if *current == generation {
                cache.apply(QueueChange::Upsert(record.clone()));
            }
        });
    }

    /// Drops one queue's record (it changed).
    pub(crate) fn invalidate(&self, queue: QueueId) {
        self.write(|(cache, generation)| {
            *generation += 1;
            cache.apply(QueueChange::Remove(queue));
        });
    }

    /// Drops every record (changes may have been missed).
    pub(crate) fn invalidate_all(&self) {
        self.write(|(cache, generation)| {
            *generation += 1;
            cache.clear();
        });
    }
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        // Sender tasks end by themselves once the request channel closes (after
        // answering what is queued); the listener runs until aborted.
        for task in &self.tasks {
            task.abort();
        }
    }
}

pub(crate) async fn open(url: &str, options: PostgresOptions) -> Result<Arc<dyn Backend>> {
    let mut config = tokio_postgres::Config::from_str(url)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("eddy");
    }
    // Notice a vanished server on idle connections too.
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(10));

    // Migrate on a connection of its own before anything else touches the schema.
    let (mut client, connection) = config.connect(NoTls).await?;
    let connection = tokio::spawn(connection);
    schema::migrate(&mut client).await?;
    drop(client);
    let _ = connection.await;

    let manager = Manager::from_config(
        config.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(options.pool_size.max(2))
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|error| Error::Unsupported(format!("building the connection pool: {error}")))?;

    let node: Arc<str> = Arc::from(uuid::Uuid::new_v4().simple().to_string());
    let (sends, requests) = mpsc::channel(options.max_batch.max(1) * 4);
    let (deletes, delete_requests) = mpsc::channel(options.max_batch.max(1) * 4);
    let senders = Arc::new(Senders {
        pool: pool.clone(),
        node: node.clone(),
        max_batch: options.max_batch,
        requests: tokio::sync::Mutex::new(requests),
        deletes: tokio::sync::Mutex::new(delete_requests),
        kinds: Mutex::new(HashMap::new()),
    });
    let mut tasks = Vec::new();
    for _ in 0..SENDERS {
        tasks.push(tokio::spawn(batch::run_sends(senders.clone())));
        tasks.push(tokio::spawn(batch::run_deletes(senders.clone())));
    }
    let (wakeups, _) = broadcast::channel(WAKEUP_BUFFER);
    let queues = Arc::new(QueueRecords::default());
    tasks.push(tokio::spawn(listen::run(
        config,
        node.to_string(),
        wakeups.clone(),
        queues.clone(),
    )));
    tracing::info!(node = %node, "PostgreSQL store open");
    Ok(Arc::new(PostgresBackend {
        pool,
        node,
        sends,
        deletes,
        wakeups,
        queues,
        tasks,
    }))
}

/// A pool checkout that failed: the database is unreachable or saturated.
pub(crate) fn pool_error(error: deadpool_postgres::PoolError) -> Error {
    match error {
        deadpool_postgres::PoolError::Backend(error) => Error::Postgres(error),
        other => Error::Unavailable(other.to_string()),
    }
}

/// Whether PostgreSQL aborted the transaction to break a deadlock or a serialisation
/// conflict; running it again is the documented remedy.
pub(crate) fn is_conflict(error: &Error) -> bool {
    match error {
        Error::Postgres(error) => error.code().is_some_and(|code| {
            *code == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
                || *code == tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
        }),
        _ => false,
    }
}

/// A short random pause before retry `attempt`, so two conflicting nodes do not collide
/// again in lockstep.
pub(crate) fn conflict_backoff(attempt: u32) -> Duration {
    let jitter = u64::from(uuid::Uuid::new_v4().as_u128() as u8);
    Duration::from_millis(u64::from(attempt) * 5 + jitter % 20)
}

/// Runs `$operation` (an expression awaiting a `Result`) again while it fails with a
/// deadlock or serialisation conflict, a few times at most.
macro_rules! retrying {
    ($operation:expr) => {{
        let mut conflicts = 0;
        loop {
            match $operation {
                Err(error) if is_conflict(&error) && conflicts < MAX_CONFLICT_RETRIES => {
                    conflicts += 1;
                    tokio::time::sleep(conflict_backoff(conflicts)).await;
                }
                other => break other,
            }
        }
    }};
}

impl PostgresBackend {
    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_error)
    }

    async fn update_queue_once(
        &self,
        id: QueueId,
        update: &QueueUpdate,
    ) -> Result<Option<QueueRecord>> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let record = ops::update_queue(&transaction, id, update).await?;
        if record.is_some() {
            ops::notify_queue_changed(&transaction, &self.node, id).await?;
        }
        transaction.commit().await?;
        self.queues.invalidate(id);
        Ok(record)
    }

    async fn delete_role_once(&self, account: &str, name: &str) -> Result<DeleteRoleOutcome> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let outcome = ops::delete_role(&transaction, account, name).await?;
        transaction.commit().await?;
        Ok(outcome)
    }

    async fn change_role_once(
        &self,
        account: &str,
        name: &str,
        change: &RoleChange,
    ) -> Result<RoleChangeOutcome> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let outcome = ops::change_role(&transaction, account, name, change).await?;
        transaction.commit().await?;
        Ok(outcome)
    }

    async fn update_function_once(
        &self,
        account: &str,
        name: &str,
        update: &FunctionUpdate,
    ) -> Result<UpdateFunctionOutcome> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let outcome = ops::update_function(&transaction, account, name, update).await?;
        transaction.commit().await?;
        Ok(outcome)
    }

    async fn put_resource_once(
        &self,
        resource: &ResourceRecord,
        blob: Option<&[u8]>,
        condition: &ResourceCondition,
    ) -> Result<ResourceOutcome> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let outcome = ops::put_resource(&transaction, resource, blob, condition).await?;
        transaction.commit().await?;
        Ok(outcome)
    }

    async fn delete_resource_once(
        &self,
        account: &str,
        kind: &str,
        key: &str,
        condition: &ResourceCondition,
    ) -> Result<ResourceOutcome> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let outcome = ops::delete_resource(&transaction, account, kind, key, condition).await?;
        transaction.commit().await?;
        Ok(outcome)
    }

    async fn delete_queue_once(&self, id: QueueId, now: Millis) -> Result<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let deleted = ops::delete_queue(&transaction, id, now).await?;
        if deleted {
            // Other nodes drop their copy of the record, and their waiters look again
            // and find the queue gone.
            ops::notify_queue_changed(&transaction, &self.node, id).await?;
            ops::notify(&transaction, &self.node, id, 0).await?;
        }
        transaction.commit().await?;
        self.queues.invalidate(id);
        Ok(deleted)
    }

    async fn claim_once(&self, request: &ClaimRequest) -> Result<ClaimOutcome> {
        let mut outcome = ClaimOutcome::default();
        if request.max_messages == 0 {
            return Ok(outcome);
        }
        let simple = !request.fifo && request.redrive.is_none() && request.attempt.is_none();
        if simple {
            // One statement per round, no transaction around it.
            let client = self.client().await?;
            let mut seen: Vec<i64> = Vec::new();
            loop {
                let wanted = request.max_messages - outcome.messages.len();
                let (claimed, expired) =
                    ops::claim_standard_fast(&client, request, wanted, &seen).await?;
                seen.extend(claimed.iter().map(|m| m.receipt.sequence));
                outcome.messages.extend(claimed);
                // Expired messages took places in this round: claim again to fill up.
                if expired == 0 || outcome.messages.len() >= request.max_messages {
                    return Ok(outcome);
                }
            }
        }

        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        if request.fifo && !ops::lock_queue_exclusive(&transaction, request.queue).await? {
            return Ok(outcome);
        }
        if let Some(attempt) = &request.attempt
            && let Some(messages) =
                ops::replay_attempt(&transaction, request.queue, attempt, request.now).await?
            && !messages.is_empty()
        {
            transaction.commit().await?;
            outcome.messages = messages;
            return Ok(outcome);
        }
        // A redrive into a queue that no longer exists (or into itself) would lose
        // messages or loop; such messages are delivered as if there were no policy.
        let redrive = match &request.redrive {
            Some(redrive)
                if redrive.dead_letter_queue != request.queue
                    && ops::lock_queue_shared(&transaction, redrive.dead_letter_queue).await? =>
            {
                Some(redrive)
            }
            _ => None,
        };
        if request.fifo {
            self.claim_fifo(&transaction, request, redrive, &mut outcome)
                .await?;
        } else {
            let mut seen: Vec<i64> = Vec::new();
            loop {
                let wanted = request.max_messages - outcome.messages.len();
                let candidates =
                    ops::standard_candidates(&transaction, request, wanted, &seen).await?;
                let fetched = candidates.len();
                seen.extend(candidates.iter().map(|c| c.seq));
                outcome.dead_lettered += ops::dispose(
                    &transaction,
                    request,
                    redrive,
                    &candidates,
                    &mut outcome.messages,
                )
                .await?;
                if fetched < wanted || outcome.messages.len() >= request.max_messages {
                    break;
                }
            }
        }
        if let Some(attempt) = &request.attempt
            && !outcome.messages.is_empty()
        {
            ops::record_attempt(&transaction, request.queue, attempt, &outcome.messages).await?;
        }
        if outcome.dead_lettered > 0
            && let Some(redrive) = redrive
        {
            let moved = outcome.dead_lettered as u64;
            ops::notify(&transaction, &self.node, redrive.dead_letter_queue, moved).await?;
        }
        transaction.commit().await?;
        Ok(outcome)
    }

    /// FIFO: groups by the age of their oldest message; each gives its messages in order
    /// up to the first one that is not visible. The caller holds the queue's lock.
    async fn claim_fifo(
        &self,
        transaction: &deadpool_postgres::Transaction<'_>,
        request: &ClaimRequest,
        redrive: Option<&Redrive>,
        outcome: &mut ClaimOutcome,
    ) -> Result<()> {
        for (head, group) in ops::fifo_heads(transaction, request.queue, request.now).await? {
            let mut after = head - 1;
            loop {
                let wanted = request.max_messages - outcome.messages.len();
                if wanted == 0 {
                    return Ok(());
                }
                let candidates =
                    ops::group_candidates(transaction, request.queue, &group, after, wanted)
                        .await?;
                let fetched = candidates.len();
                // Never skip over a message of the group that is in flight or delayed.
                let visible: Vec<_> = candidates
                    .into_iter()
                    .take_while(|c| c.visible_at <= request.now)
                    .collect();
                let blocked = visible.len() < fetched;
                if let Some(last) = visible.last() {
                    after = last.seq;
                }
                outcome.dead_lettered += ops::dispose(
                    transaction,
                    request,
                    redrive,
                    &visible,
                    &mut outcome.messages,
                )
                .await?;
                if blocked || fetched < wanted {
                    break;
                }
            }
        }
        Ok(())
    }

    async fn move_messages_once(&self, request: &MoveRequest) -> Result<u64> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let (moved, destinations) = ops::move_messages(&transaction, request).await?;
        for queue in destinations {
            ops::notify(&transaction, &self.node, queue, 0).await?;
        }
        transaction.commit().await?;
        Ok(moved)
    }
}

/// PostgreSQL text cannot hold a NUL character, and no stored name or ARN contains one
/// (the engine validates them before they are stored), so a lookup by such a string
/// finds nothing, without asking the database (which would reject the parameter).
fn has_nul(texts: &[&str]) -> bool {
    texts.iter().any(|text| text.contains('\0'))
}

#[async_trait]
impl Backend for PostgresBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn is_sole_writer(&self) -> bool {
        false
    }

    async fn create_queue(&self, queue: NewQueue) -> Result<CreateQueueOutcome> {
        let client = self.client().await?;
        retrying!(ops::create_queue(&client, &queue).await)
    }

    async fn get_queue(&self, account: &str, name: &str) -> Result<Option<QueueRecord>> {
        if has_nul(&[account, name]) {
            return Ok(None);
        }
        if let Some(record) = self.queues.read(|cache| cache.get(account, name)) {
            return Ok(Some(record));
        }
        let generation = self.queues.generation();
        let client = self.client().await?;
        let record = ops::get_queue(&client, account, name).await?;
        if let Some(record) = &record {
            self.queues.fill(record, generation);
        }
        Ok(record)
    }

    async fn get_queue_by_id(&self, id: QueueId) -> Result<Option<QueueRecord>> {
        if let Some(record) = self.queues.read(|cache| cache.get_by_id(id)) {
            return Ok(Some(record));
        }
        let generation = self.queues.generation();
        let client = self.client().await?;
        let record = ops::get_queue_by_id(&client, id).await?;
        if let Some(record) = &record {
            self.queues.fill(record, generation);
        }
        Ok(record)
    }

    async fn list_queues(
        &self,
        account: Option<&str>,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<QueueRecord>> {
        if has_nul(&[account.unwrap_or(""), prefix, after.unwrap_or("")]) {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        ops::list_queues(&client, account, prefix, after, limit).await
    }

    async fn queues_after(&self, after: Option<QueueId>, limit: usize) -> Result<Vec<QueueRecord>> {
        let client = self.client().await?;
        ops::queues_after(&client, after, limit).await
    }

    async fn update_queue(&self, id: QueueId, update: QueueUpdate) -> Result<Option<QueueRecord>> {
        retrying!(self.update_queue_once(id, &update).await)
    }

    async fn delete_queue(&self, id: QueueId, now: Millis) -> Result<bool> {
        retrying!(self.delete_queue_once(id, now).await)
    }

    async fn send_messages(
        &self,
        queue: QueueId,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<SendOutcome>> {
        let (reply, answer) = oneshot::channel();
        self.sends
            .send(SendRequest::messages(queue, messages, reply))
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    async fn fan_out(&self, fan_outs: Vec<FanOut>) -> Result<Vec<FanOutOutcome>> {
        let (reply, answer) = oneshot::channel();
        self.sends
            .send(SendRequest {
                fan_outs,
                reply: SendReply::FanOuts(reply),
            })
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    async fn claim_messages(&self, request: ClaimRequest) -> Result<ClaimOutcome> {
        retrying!(self.claim_once(&request).await)
    }

    async fn delete_messages(
        &self,
        queue: QueueId,
        receipts: Vec<Receipt>,
    ) -> Result<Vec<DeleteOutcome>> {
        let (reply, answer) = oneshot::channel();
        self.deletes
            .send(DeleteRequest {
                queue,
                receipts,
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    async fn change_visibility(
        &self,
        queue: QueueId,
        changes: Vec<(Receipt, Millis)>,
        now: Millis,
    ) -> Result<Vec<VisibilityChange>> {
        let client = self.client().await?;
        let outcomes = ops::change_visibility(&client, queue, &changes, now).await?;
        if outcomes.contains(&VisibilityChange::Changed) {
            ops::notify(&client, &self.node, queue, 0).await?;
        }
        Ok(outcomes)
    }

    async fn purge_queue(&self, queue: QueueId, now: Millis) -> Result<u64> {
        let client = self.client().await?;
        ops::purge_queue(&client, queue, now).await
    }

    async fn message_counts(&self, queue: QueueId, now: Millis) -> Result<MessageCounts> {
        let client = self.client().await?;
        ops::message_counts(&client, queue, now).await
    }

    async fn next_visible_at(&self, queue: QueueId, now: Millis) -> Result<Option<Millis>> {
        let client = self.client().await?;
        ops::next_visible_at(&client, queue, now).await
    }

    async fn expire_messages(&self, queue: QueueId, retained_since: Millis) -> Result<u64> {
        let client = self.client().await?;
        ops::expire_messages(&client, queue, retained_since).await
    }

    async fn expire_deduplication(&self, now: Millis) -> Result<u64> {
        let client = self.client().await?;
        ops::expire_deduplication(&client, now).await
    }

    async fn move_messages(&self, request: MoveRequest) -> Result<u64> {
        retrying!(self.move_messages_once(&request).await)
    }

    async fn count_messages_before(&self, queue: QueueId, sent_before: Millis) -> Result<u64> {
        let client = self.client().await?;
        ops::count_messages_before(&client, queue, sent_before).await
    }

    async fn start_move_task(&self, task: MoveTaskRecord) -> Result<bool> {
        let client = self.client().await?;
        ops::start_move_task(&client, &task).await
    }

    async fn put_move_task(&self, task: MoveTaskRecord) -> Result<()> {
        let client = self.client().await?;
        ops::put_move_task(&client, &task).await
    }

    async fn list_move_tasks(&self, source_arn: Option<&str>) -> Result<Vec<MoveTaskRecord>> {
        if has_nul(&[source_arn.unwrap_or("")]) {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        ops::list_move_tasks(&client, source_arn).await
    }

    async fn update_move_task(&self, task: MoveTaskRecord, expected_status: &str) -> Result<bool> {
        let client = self.client().await?;
        ops::update_move_task(&client, &task, expected_status).await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Millis,
        ttl: Millis,
    ) -> Result<bool> {
        let client = self.client().await?;
        retrying!(ops::acquire_lease(&client, name, holder, now, ttl).await)
    }

    fn subscribe_wakeups(&self) -> Option<broadcast::Receiver<Wakeup>> {
        Some(self.wakeups.subscribe())
    }

    async fn create_role(&self, role: RoleRecord) -> Result<CreateRoleOutcome> {
        let client = self.client().await?;
        retrying!(ops::create_role(&client, &role).await)
    }

    async fn get_role(&self, account: &str, name: &str) -> Result<Option<RoleRecord>> {
        if has_nul(&[account, name]) {
            return Ok(None);
        }
        let client = self.client().await?;
        ops::get_role(&client, account, name).await
    }

    async fn list_roles(
        &self,
        account: &str,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RoleRecord>> {
        if has_nul(&[account, path_prefix, after.unwrap_or("")]) {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        ops::list_roles(&client, account, path_prefix, after, limit).await
    }

    async fn delete_role(&self, account: &str, name: &str) -> Result<DeleteRoleOutcome> {
        if has_nul(&[account, name]) {
            return Ok(DeleteRoleOutcome::NoSuchRole);
        }
        retrying!(self.delete_role_once(account, name).await)
    }

    async fn change_role(
        &self,
        account: &str,
        name: &str,
        change: RoleChange,
    ) -> Result<RoleChangeOutcome> {
        if has_nul(&[account, name]) {
            return Ok(RoleChangeOutcome::NoSuchRole);
        }
        retrying!(self.change_role_once(account, name, &change).await)
    }

    async fn role_policies(&self, account: &str, name: &str) -> Result<Option<RolePolicies>> {
        if has_nul(&[account, name]) {
            return Ok(None);
        }
        let client = self.client().await?;
        ops::role_policies(&client, account, name).await
    }

    async fn create_function(
        &self,
        function: FunctionRecord,
        code: Vec<u8>,
    ) -> Result<CreateFunctionOutcome> {
        let client = self.client().await?;
        retrying!(ops::create_function(&client, &function, &code).await)
    }

    async fn get_function(&self, account: &str, name: &str) -> Result<Option<FunctionRecord>> {
        if has_nul(&[account, name]) {
            return Ok(None);
        }
        let client = self.client().await?;
        ops::get_function(&client, account, name).await
    }

    async fn function_code(&self, account: &str, name: &str) -> Result<Option<Vec<u8>>> {
        if has_nul(&[account, name]) {
            return Ok(None);
        }
        let client = self.client().await?;
        ops::function_code(&client, account, name).await
    }

    async fn list_functions(
        &self,
        account: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FunctionRecord>> {
        if has_nul(&[account, after.unwrap_or("")]) {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        ops::list_functions(&client, account, after, limit).await
    }

    async fn update_function(
        &self,
        account: &str,
        name: &str,
        update: FunctionUpdate,
    ) -> Result<UpdateFunctionOutcome> {
        if has_nul(&[account, name]) {
            return Ok(UpdateFunctionOutcome::NoSuchFunction);
        }
        retrying!(self.update_function_once(account, name, &update).await)
    }

    async fn delete_function(&self, account: &str, name: &str) -> Result<bool> {
        if has_nul(&[account, name]) {
            return Ok(false);
        }
        let client = self.client().await?;
        retrying!(ops::delete_function(&client, account, name).await)
    }

    async fn put_resource(
        &self,
        resource: ResourceRecord,
        blob: Option<Vec<u8>>,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        if has_nul(&[&resource.account, &resource.kind, &resource.key]) {
            return Err(Error::Unsupported(
                "a resource key may not contain NUL".to_string(),
            ));
        }
        retrying!(
            self.put_resource_once(&resource, blob.as_deref(), &condition)
                .await
        )
    }

    async fn get_resource(
        &self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<ResourceRecord>> {
        if has_nul(&[account, kind, key]) {
            return Ok(None);
        }
        let client = self.client().await?;
        ops::get_resource(&client, account, kind, key).await
    }

    async fn resource_blob(&self, account: &str, kind: &str, key: &str) -> Result<Option<Vec<u8>>> {
        if has_nul(&[account, kind, key]) {
            return Ok(None);
        }
        let client = self.client().await?;
        ops::resource_blob(&client, account, kind, key).await
    }

    async fn list_resources(
        &self,
        account: &str,
        kind: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ResourceRecord>> {
        if has_nul(&[account, kind, prefix, after.unwrap_or("")]) {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        ops::list_resources(&client, account, kind, prefix, after, limit).await
    }

    async fn resources_of_kind(&self, kind: &str) -> Result<Vec<ResourceRecord>> {
        if has_nul(&[kind]) {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        ops::resources_of_kind(&client, kind).await
    }

    async fn delete_resource(
        &self,
        account: &str,
        kind: &str,
        key: &str,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        if has_nul(&[account, kind, key]) {
            return Ok(ResourceOutcome::ConditionFailed);
        }
        retrying!(
            self.delete_resource_once(account, kind, key, &condition)
                .await
        )
    }

    async fn delete_resources(&self, account: &str, kind: &str, prefix: &str) -> Result<u64> {
        if has_nul(&[account, kind, prefix]) {
            return Ok(0);
        }
        let client = self.client().await?;
        retrying!(ops::delete_resources(&client, account, kind, prefix).await)
    }
}
