//! The embedded SQLite backend.
//!
//! # Concurrency skeleton
//!
//! - One writer thread ([`writer`]) owns the only write connection and commits operations
//!   in groups: one transaction and one fsync for everything queued (`synchronous=FULL`).
//! - Reads that need SQL go to a small pool of read connections on blocking threads; WAL
//!   lets them run beside the writer and see only committed data.
//! - Queue records are served from memory ([`crate::queue_cache`]): this process is the database's only
//!   writer, and the writer publishes each committed queue change before answering.
//! - A checkpointer thread copies the WAL back into the database every second with
//!   `PRAGMA wal_checkpoint(PASSIVE)`, which never waits for (or blocks) the writer, so
//!   most copying happens off the commit path. The writer itself checkpoints once the WAL
//!   passes [`WRITER_CHECKPOINT_PAGES`]: only a checkpoint between two commits lets the
//!   WAL restart, so this is what keeps it bounded under sustained load (its share of the
//!   work is the tail the checkpointer has not copied yet, and one fsync of the database).
//!
//! Dropping the last [`crate::Store`] handle closes the channel; the writer finishes the
//! operations already queued, and the drop waits for it so the database can be reopened
//! at once.

mod ops;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::Connection;
use tokio::sync::oneshot;

use self::writer::{Lease, Reply, WriteOp};
use crate::model::*;
use crate::queue_cache::{QueueCache, QueueChange};
use crate::{Backend, Error, Result, SqliteOptions};

/// How long a connection waits for a lock before giving up (checkpoints, a second opener).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the checkpointer runs.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);
/// The WAL file is truncated back to this size when it is reset after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;
/// WAL size (in pages) at which the writer itself checkpoints after a commit.
///
/// The checkpointer thread alone cannot bound the WAL under sustained load: the WAL only
/// restarts from its beginning when a write transaction starts with every frame already
/// copied back, and with commits every millisecond a checkpoint that runs beside the
/// writer never catches up (a 4-minute soak grew the WAL index to 36 MiB, i.e. gigabytes
/// of WAL). A checkpoint on the writer, between two commits, always completes the copy,
/// so the next transaction restarts the WAL. The checkpointer thread keeps doing most of
/// the copying beforehand, so the writer's share is the tail and one fsync of the
/// database file.
const WRITER_CHECKPOINT_PAGES: i64 = 4096;

pub(crate) struct SqliteBackend {
    writes: Option<mpsc::Sender<WriteOp>>,
    writer: Option<JoinHandle<()>>,
    stop_checkpoints: Option<mpsc::Sender<()>>,
    checkpointer: Option<JoinHandle<()>>,
    cache: Arc<RwLock<QueueCache>>,
    readers: Arc<ReaderPool>,
    /// An exclusive lock on `<dir>/eddy.lock`, held while the backend lives: the queue
    /// cache is only right while this process is the database's only writer. Dropped
    /// after the writer has stopped (fields drop after `Drop::drop`); the OS releases it
    /// if the process dies.
    _exclusive: std::fs::File,
}

/// Opens (creating if needed) `<dir>/eddy.db`, brings its schema up to date and starts the
/// writer and checkpointer threads.
pub(crate) async fn open(dir: &Path, options: SqliteOptions) -> Result<Arc<dyn Backend>> {
    let dir = dir.to_path_buf();
    let backend = tokio::task::spawn_blocking(move || open_blocking(&dir, options))
        .await
        .map_err(|error| Error::Io(std::io::Error::other(error)))??;
    Ok(Arc::new(backend))
}

fn open_blocking(dir: &Path, options: SqliteOptions) -> Result<SqliteBackend> {
    std::fs::create_dir_all(dir)?;
    let exclusive = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("eddy.lock"))?;
    if exclusive.try_lock().is_err() {
        return Err(Error::AlreadyOpen(dir.display().to_string()));
    }
    let path = dir.join("eddy.db");
    let mut connection = Connection::open(&path)?;
    configure(&connection)?;
    // WAL mode is persistent in the file; setting it is idempotent.
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Unsupported(format!(
            "the database refused WAL mode (it is in {mode} mode)"
        )));
    }
    connection.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
    connection.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    connection.set_prepared_statement_cache_capacity(128);
    schema::migrate(&mut connection)?;

    let mut cache = QueueCache::default();
    for record in ops::load_all_queues(&connection)? {
        cache.apply(QueueChange::Upsert(record));
    }
    let cache = Arc::new(RwLock::new(cache));

    let (writes, operations) = mpsc::channel();
    let writer_cache = cache.clone();
    let max_batch = options.max_batch;
    let writer = std::thread::Builder::new()
        .name("store-writer".to_string())
        .spawn(move || writer::run(connection, operations, max_batch, writer_cache))?;

    let checkpoint_connection = Connection::open(&path)?;
    configure(&checkpoint_connection)?;
    let (stop_checkpoints, stopped) = mpsc::channel();
    let checkpointer = std::thread::Builder::new()
        .name("store-checkpointer".to_string())
        .spawn(move || checkpoint_until_stopped(checkpoint_connection, stopped))?;

    Ok(SqliteBackend {
        writes: Some(writes),
        writer: Some(writer),
        stop_checkpoints: Some(stop_checkpoints),
        checkpointer: Some(checkpointer),
        cache,
        readers: Arc::new(ReaderPool {
            path,
            idle: Mutex::new(Vec::new()),
            keep: options.readers.max(1),
        }),
        _exclusive: exclusive,
    })
}

/// Settings every connection shares.
fn configure(connection: &Connection) -> Result<()> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

fn checkpoint_until_stopped(connection: Connection, stopped: mpsc::Receiver<()>) {
    loop {
        match stopped.recv_timeout(CHECKPOINT_INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {
                // PASSIVE copies what it can without waiting for readers or the writer.
                if let Err(error) =
                    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                {
                    tracing::warn!(%error, "WAL checkpoint failed");
                }
            }
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        // Closing the channel lets the writer finish what is queued and exit.
        drop(self.writes.take());
        drop(self.stop_checkpoints.take());
        for thread in [self.writer.take(), self.checkpointer.take()]
            .into_iter()
            .flatten()
        {
            if thread.join().is_err() {
                tracing::error!("a store thread panicked");
            }
        }
    }
}

/// Read connections, opened on demand and kept for reuse (at most `keep` idle ones).
struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
}

impl ReaderPool {
    fn take(&self) -> Result<Connection> {
        let idle = self.idle.lock().map_or_else(
            |poisoned| poisoned.into_inner().pop(),
            |mut idle| idle.pop(),
        );
        if let Some(connection) = idle {
            return Ok(connection);
        }
        let connection = Connection::open(&self.path)?;
        configure(&connection)?;
        connection.pragma_update(None, "query_only", true)?;
        Ok(connection)
    }

    fn give_back(&self, connection: Connection) {
        let mut idle = match self.idle.lock() {
            Ok(idle) => idle,
            Err(poisoned) => poisoned.into_inner(),
        };
        if idle.len() < self.keep {
            idle.push(connection);
        }
    }
}

impl SqliteBackend {
    async fn write<T>(&self, operation: impl FnOnce(Reply<T>) -> WriteOp) -> Result<T> {
        let (reply, result) = oneshot::channel();
        self.writes
            .as_ref()
            .ok_or(Error::Closed)?
            .send(operation(reply))
            .map_err(|_| Error::Closed)?;
        result.await.map_err(|_| Error::Closed)?
    }

    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let connection = readers.take()?;
            let result = query(&connection);
            readers.give_back(connection);
            result
        })
        .await
        .map_err(|error| Error::Io(std::io::Error::other(error)))?
    }

    fn cached<T>(&self, read: impl FnOnce(&QueueCache) -> T) -> T {
        match self.cache.read() {
            Ok(cache) => read(&cache),
            Err(poisoned) => read(&poisoned.into_inner()),
        }
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn is_sole_writer(&self) -> bool {
        true
    }

    async fn create_queue(&self, queue: NewQueue) -> Result<CreateQueueOutcome> {
        self.write(|reply| WriteOp::CreateQueue(queue, reply)).await
    }

    async fn get_queue(&self, account: &str, name: &str) -> Result<Option<QueueRecord>> {
        Ok(self.cached(|cache| cache.get(account, name)))
    }

    async fn get_queue_by_id(&self, id: QueueId) -> Result<Option<QueueRecord>> {
        Ok(self.cached(|cache| cache.get_by_id(id)))
    }

    async fn list_queues(
        &self,
        account: Option<&str>,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<QueueRecord>> {
        Ok(self.cached(|cache| cache.list(account, prefix, after, limit)))
    }

    async fn queues_after(&self, after: Option<QueueId>, limit: usize) -> Result<Vec<QueueRecord>> {
        Ok(self.cached(|cache| cache.after_id(after, limit)))
    }

    async fn update_queue(&self, id: QueueId, update: QueueUpdate) -> Result<Option<QueueRecord>> {
        self.write(|reply| WriteOp::UpdateQueue(id, update, reply))
            .await
    }

    async fn delete_queue(&self, id: QueueId, now: Millis) -> Result<bool> {
        self.write(|reply| WriteOp::DeleteQueue(id, now, reply))
            .await
    }

    async fn send_messages(
        &self,
        queue: QueueId,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<SendOutcome>> {
        self.write(|reply| WriteOp::SendMessages(queue, messages, reply))
            .await
    }

    async fn fan_out(&self, fan_outs: Vec<FanOut>) -> Result<Vec<FanOutOutcome>> {
        self.write(|reply| WriteOp::FanOut(fan_outs, reply)).await
    }

    async fn claim_messages(&self, request: ClaimRequest) -> Result<ClaimOutcome> {
        self.write(|reply| WriteOp::ClaimMessages(request, reply))
            .await
    }

    async fn delete_messages(
        &self,
        queue: QueueId,
        receipts: Vec<Receipt>,
    ) -> Result<Vec<DeleteOutcome>> {
        self.write(|reply| WriteOp::DeleteMessages(queue, receipts, reply))
            .await
    }

    async fn change_visibility(
        &self,
        queue: QueueId,
        changes: Vec<(Receipt, Millis)>,
        now: Millis,
    ) -> Result<Vec<VisibilityChange>> {
        self.write(|reply| WriteOp::ChangeVisibility(queue, changes, now, reply))
            .await
    }

    async fn purge_queue(&self, queue: QueueId, now: Millis) -> Result<u64> {
        self.write(|reply| WriteOp::PurgeQueue(queue, now, reply))
            .await
    }

    async fn message_counts(&self, queue: QueueId, now: Millis) -> Result<MessageCounts> {
        self.read(move |connection| ops::message_counts(connection, queue, now))
            .await
    }

    async fn next_visible_at(&self, queue: QueueId, now: Millis) -> Result<Option<Millis>> {
        self.read(move |connection| ops::next_visible_at(connection, queue, now))
            .await
    }

    async fn expire_messages(&self, queue: QueueId, retained_since: Millis) -> Result<u64> {
        self.write(|reply| WriteOp::ExpireMessages(queue, retained_since, reply))
            .await
    }

    async fn expire_deduplication(&self, now: Millis) -> Result<u64> {
        self.write(|reply| WriteOp::ExpireDeduplication(now, reply))
            .await
    }

    async fn move_messages(&self, request: MoveRequest) -> Result<u64> {
        self.write(|reply| WriteOp::MoveMessages(request, reply))
            .await
    }

    async fn count_messages_before(&self, queue: QueueId, sent_before: Millis) -> Result<u64> {
        self.read(move |connection| ops::count_messages_before(connection, queue, sent_before))
            .await
    }

    async fn start_move_task(&self, task: MoveTaskRecord) -> Result<bool> {
        self.write(|reply| WriteOp::StartMoveTask(task, reply))
            .await
    }

    async fn put_move_task(&self, task: MoveTaskRecord) -> Result<()> {
        self.write(|reply| WriteOp::PutMoveTask(task, reply)).await
    }

    async fn list_move_tasks(&self, source_arn: Option<&str>) -> Result<Vec<MoveTaskRecord>> {
        let source_arn = source_arn.map(str::to_string);
        self.read(move |connection| ops::list_move_tasks(connection, source_arn.as_deref()))
            .await
    }

    async fn update_move_task(&self, task: MoveTaskRecord, expected_status: &str) -> Result<bool> {
        let expected_status = expected_status.to_string();
        self.write(|reply| WriteOp::UpdateMoveTask(task, expected_status, reply))
            .await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Millis,
        ttl: Millis,
    ) -> Result<bool> {
        let lease = Lease {
            name: name.to_string(),
            holder: holder.to_string(),
            now,
            ttl,
        };
        self.write(|reply| WriteOp::AcquireLease(lease, reply))
            .await
    }

    fn subscribe_wakeups(&self) -> Option<tokio::sync::broadcast::Receiver<Wakeup>> {
        // This process is the only writer: it wakes its own waiters.
        None
    }

    async fn create_role(&self, role: RoleRecord) -> Result<CreateRoleOutcome> {
        self.write(|reply| WriteOp::CreateRole(role, reply)).await
    }

    async fn get_role(&self, account: &str, name: &str) -> Result<Option<RoleRecord>> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |connection| ops::get_role(connection, &account, &name))
            .await
    }

    async fn list_roles(
        &self,
        account: &str,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RoleRecord>> {
        let (account, path_prefix) = (account.to_string(), path_prefix.to_string());
        let after = after.map(str::to_string);
        self.read(move |connection| {
            ops::list_roles(connection, &account, &path_prefix, after.as_deref(), limit)
        })
        .await
    }

    async fn delete_role(&self, account: &str, name: &str) -> Result<DeleteRoleOutcome> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(|reply| WriteOp::DeleteRole(account, name, reply))
            .await
    }

    async fn change_role(
        &self,
        account: &str,
        name: &str,
        change: RoleChange,
    ) -> Result<RoleChangeOutcome> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(|reply| WriteOp::ChangeRole(account, name, change, reply))
            .await
    }

    async fn role_policies(&self, account: &str, name: &str) -> Result<Option<RolePolicies>> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |connection| ops::role_policies(connection, &account, &name))
            .await
    }

    async fn create_function(
        &self,
        function: FunctionRecord,
        code: Vec<u8>,
    ) -> Result<CreateFunctionOutcome> {
        self.write(|reply| WriteOp::CreateFunction(function, code, reply))
            .await
    }

    async fn get_function(&self, account: &str, name: &str) -> Result<Option<FunctionRecord>> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |connection| ops::get_function(connection, &account, &name))
            .await
    }

    async fn function_code(&self, account: &str, name: &str) -> Result<Option<Vec<u8>>> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |connection| ops::function_code(connection, &account, &name))
            .await
    }

    async fn list_functions(
        &self,
        account: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FunctionRecord>> {
        let account = account.to_string();
        let after = after.map(str::to_string);
        self.read(move |connection| {
            ops::list_functions(connection, &account, after.as_deref(), limit)
        })
        .await
    }

    async fn update_function(
        &self,
        account: &str,
        name: &str,
        update: FunctionUpdate,
    ) -> Result<UpdateFunctionOutcome> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(|reply| WriteOp::UpdateFunction(account, name, update, reply))
            .await
    }

    async fn delete_function(&self, account: &str, name: &str) -> Result<bool> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(|reply| WriteOp::DeleteFunction(account, name, reply))
            .await
    }

    async fn put_resource(
        &self,
        resource: ResourceRecord,
        blob: Option<Vec<u8>>,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        self.write(|reply| WriteOp::PutResource(resource, blob, condition, reply))
            .await
    }

    async fn get_resource(
        &self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<ResourceRecord>> {
        let (account, kind, key) = (account.to_string(), kind.to_string(), key.to_string());
        self.read(move |connection| ops::get_resource(connection, &account, &kind, &key))
            .await
    }

    async fn resource_blob(&self, account: &str, kind: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let (account, kind, key) = (account.to_string(), kind.to_string(), key.to_string());
        self.read(move |connection| ops::resource_blob(connection, &account, &kind, &key))
            .await
    }

    async fn list_resources(
        &self,
        account: &str,
        kind: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ResourceRecord>> {
        let (account, kind, prefix) = (account.to_string(), kind.to_string(), prefix.to_string());
        let after = after.map(str::to_string);
        self.read(move |connection| {
            ops::list_resources(
                connection,
                &account,
                &kind,
                &prefix,
                after.as_deref(),
                limit,
            )
        })
        .await
    }

    async fn resources_of_kind(&self, kind: &str) -> Result<Vec<ResourceRecord>> {
        let kind = kind.to_string();
        self.read(move |connection| ops::resources_of_kind(connection, &kind))
            .await
    }

    async fn delete_resource(
        &self,
        account: &str,
        kind: &str,
        key: &str,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        let (account, kind, key) = (account.to_string(), kind.to_string(), key.to_string());
        self.write(|reply| WriteOp::DeleteResource(account, kind, key, condition, reply))
            .await
    }

    async fn delete_resources(&self, account: &str, kind: &str, prefix: &str) -> Result<u64> {
        let (account, kind, prefix) = (account.to_string(), kind.to_string(), prefix.to_string());
        self.write(|reply| WriteOp::DeleteResources(account, kind, prefix, reply))
            .await
    }
}
