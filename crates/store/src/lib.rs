//! Durable storage for eddy: a [`Store`] handle over a private [`Backend`] trait.
//!
//! # Layout
//!
//! - `model.rs`: the records and the inputs and outcomes of every operation.
//! - `error.rs`: the store's one error enum.
//! - `sqlite/`: the embedded default backend (WAL, `synchronous=FULL`, one writer thread
//!   with group commit, a pool of readers, checkpoints off the commit path).
//! - `postgres/`: the shared backend for several eddy nodes on one PostgreSQL database
//!   (claims with `FOR UPDATE SKIP LOCKED`, sends and deletes in group commits, wake-ups
//!   between nodes with `LISTEN`/`NOTIFY`).
//! - `testing.rs`: test fixtures that pick the backend a test run asks for.
//! - `conformance.rs`: the behaviour every backend must show, run against each of them.
//!
//! # Invariants
//!
//! - An operation that changes data returns only after its effect is committed durably.
//! - Operations are expressed at the level of "claim up to n visible messages of queue q
//!   until t", never as row cursors, so that a backend shared by several eddy nodes
//!   (PostgreSQL, with `FOR UPDATE SKIP LOCKED`) fits the same trait.
//! - The store never interprets SQS attributes or message metadata: the engine hands it
//!   plain timestamps, ids and opaque strings.

#[doc(hidden)]
pub mod conformance;
mod error;
pub mod model;
mod postgres;
mod queue_cache;
mod sqlite;
#[doc(hidden)]
pub mod testing;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

pub use error::Error;
pub use model::*;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The handle every other layer holds. Cheap to clone.
#[derive(Clone)]
pub struct Store(Arc<dyn Backend>);

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Store").field(&self.0.name()).finish()
    }
}

/// Settings of the embedded SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Most operations one commit may carry.
    pub max_batch: usize,
    /// Read connections in the pool.
    pub readers: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            max_batch: 1000,
            readers: 4,
        }
    }
}

/// Settings of the PostgreSQL backend.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections in this node's pool.
    pub pool_size: usize,
    /// Most operations one group commit may carry.
    pub max_batch: usize,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 16,
            max_batch: 500,
        }
    }
}

/// Opens the store named by `url`: `postgres://…` (or `postgresql://…`) for the shared
/// PostgreSQL backend, `sqlite:<path>` or a plain directory path for the embedded backend
/// (the database file is `<dir>/eddy.db`).
pub async fn open(url: &str) -> Result<Store> {
    if is_postgres_url(url) {
        return open_postgres(url, PostgresOptions::default()).await;
    }
    let path = url.strip_prefix("sqlite:").unwrap_or(url);
    open_sqlite(Path::new(path), SqliteOptions::default()).await
}

/// `url` with any password replaced by `***`, for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Whether `url` names the PostgreSQL backend.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Connects to the PostgreSQL database at `url`, brings its schema up to date (safely when
/// several nodes start at once) and starts listening for other nodes' wake-ups.
pub async fn open_postgres(url: &str, options: PostgresOptions) -> Result<Store> {
    Ok(Store(postgres::open(url, options).await?))
}

/// Opens (creating if needed) the embedded SQLite store in directory `dir`.
pub async fn open_sqlite(dir: &Path, options: SqliteOptions) -> Result<Store> {
    Ok(Store(sqlite::open(dir, options).await?))
}

impl Store {
    /// Which backend this is, for logs.
    pub fn backend_name(&self) -> &'static str {
        self.0.name()
    }

    /// Whether this process is the only writer (true for SQLite). Engines may cache what
    /// they read only when it is.
    pub fn is_sole_writer(&self) -> bool {
        self.0.is_sole_writer()
    }

    pub async fn create_queue(&self, queue: NewQueue) -> Result<CreateQueueOutcome> {
        self.0.create_queue(queue).await
    }
    pub async fn get_queue(&self, account: &str, name: &str) -> Result<Option<QueueRecord>> {
        self.0.get_queue(account, name).await
    }
    pub async fn get_queue_by_id(&self, id: QueueId) -> Result<Option<QueueRecord>> {
        self.0.get_queue_by_id(id).await
    }
    /// Queues of `account` (all accounts when `None`) whose name starts with `prefix`,
    /// ordered by name, names strictly after `after`, at most `limit`.
    pub async fn list_queues(
        &self,
        account: Option<&str>,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<QueueRecord>> {
        self.0.list_queues(account, prefix, after, limit).await
    }
    /// Queues of every account with an id above `after`, by id, at most `limit`: a cursor
    /// that never skips a queue, for work that visits them all.
    pub async fn queues_after(
        &self,
        after: Option<QueueId>,
        limit: usize,
    ) -> Result<Vec<QueueRecord>> {
        self.0.queues_after(after, limit).await
    }
    /// Returns the updated record, or `None` when the queue does not exist.
    pub async fn update_queue(
        &self,
        id: QueueId,
        update: QueueUpdate,
    ) -> Result<Option<QueueRecord>> {
        self.0.update_queue(id, update).await
    }
    /// Deletes the queue and all its messages; returns false when it did not exist.
    pub async fn delete_queue(&self, id: QueueId, now: Millis) -> Result<bool> {
        self.0.delete_queue(id, now).await
    }

    /// Enqueues messages in order, in one commit. FIFO duplicates are reported, not stored.
    pub async fn send_messages(
        &self,
        queue: QueueId,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<SendOutcome>> {
        self.0.send_messages(queue, messages).await
    }
    /// Commits every fan-out in one transaction, in order: all of it or none of it.
    /// Per queue the semantics are exactly those of [`Store::send_messages`] (FIFO
    /// duplicates reported per message, a missing or deleted queue acknowledged and
    /// dropped). A fan-out whose guard reports a duplicate writes none of its sends; its
    /// guard messages are sent like any others (a guard into a missing queue is
    /// acknowledged and dropped, and does not hold back the sends). A later fan-out of the
    /// same call sees the deduplication entries of the earlier ones.
    pub async fn fan_out(&self, fan_outs: Vec<FanOut>) -> Result<Vec<FanOutOutcome>> {
        if fan_outs.is_empty() {
            return Ok(Vec::new());
        }
        self.0.fan_out(fan_outs).await
    }
    pub async fn claim_messages(&self, request: ClaimRequest) -> Result<ClaimOutcome> {
        self.0.claim_messages(request).await
    }
    pub async fn delete_messages(
        &self,
        queue: QueueId,
        receipts: Vec<Receipt>,
    ) -> Result<Vec<DeleteOutcome>> {
        self.0.delete_messages(queue, receipts).await
    }
    /// Sets the visibility of each in-flight message to the paired instant, at `now`.
    pub async fn change_visibility(
        &self,
        queue: QueueId,
        changes: Vec<(Receipt, Millis)>,
        now: Millis,
    ) -> Result<Vec<VisibilityChange>> {
        self.0.change_visibility(queue, changes, now).await
    }
    /// Deletes every message of the queue sent at or before `now`; returns how many.
    pub async fn purge_queue(&self, queue: QueueId, now: Millis) -> Result<u64> {
        self.0.purge_queue(queue, now).await
    }
    pub async fn message_counts(&self, queue: QueueId, now: Millis) -> Result<MessageCounts> {
        self.0.message_counts(queue, now).await
    }
    /// The earliest instant after `now` at which a message of the queue becomes visible.
    pub async fn next_visible_at(&self, queue: QueueId, now: Millis) -> Result<Option<Millis>> {
        self.0.next_visible_at(queue, now).await
    }
    /// Deletes messages sent before `retained_since`; returns how many.
    pub async fn expire_messages(&self, queue: QueueId, retained_since: Millis) -> Result<u64> {
        self.0.expire_messages(queue, retained_since).await
    }
    /// Forgets deduplication ids and receive attempts that expired before `now`.
    pub async fn expire_deduplication(&self, now: Millis) -> Result<u64> {
        self.0.expire_deduplication(now).await
    }
    /// Moves messages between queues in one commit; returns how many moved.
    pub async fn move_messages(&self, request: MoveRequest) -> Result<u64> {
        self.0.move_messages(request).await
    }
    /// Messages of `queue` sent before `sent_before` (what a move task has to move).
    pub async fn count_messages_before(&self, queue: QueueId, sent_before: Millis) -> Result<u64> {
        self.0.count_messages_before(queue, sent_before).await
    }

    /// Inserts a new move task unless its source already has one that is `RUNNING` or
    /// `CANCELLING`; returns whether it did. Atomic across nodes sharing the store.
    pub async fn start_move_task(&self, task: MoveTaskRecord) -> Result<bool> {
        self.0.start_move_task(task).await
    }
    /// Inserts or replaces a move task (keyed by handle).
    pub async fn put_move_task(&self, task: MoveTaskRecord) -> Result<()> {
        self.0.put_move_task(task).await
    }
    /// Move tasks of a source queue ARN, newest first; all tasks when `None`.
    pub async fn list_move_tasks(&self, source_arn: Option<&str>) -> Result<Vec<MoveTaskRecord>> {
        self.0.list_move_tasks(source_arn).await
    }
    /// Replaces a move task only if its stored status is still `expected_status`; returns
    /// whether it did. Nodes sharing a store never overwrite each other's cancel this way.
    pub async fn update_move_task(
        &self,
        task: MoveTaskRecord,
        expected_status: &str,
    ) -> Result<bool> {
        self.0.update_move_task(task, expected_status).await
    }

    /// Takes or renews the lease `name` for `holder` until `now + ttl`: granted when nobody
    /// holds it, when `holder` already does, or when the holder's lease ran out. Background
    /// work that must run once per cluster runs only on the node holding its lease; when
    /// that node dies its lease runs out and another node takes over.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Millis,
        ttl: Millis,
    ) -> Result<bool> {
        self.0.acquire_lease(name, holder, now, ttl).await
    }

    /// Inserts a role unless one of the same name (in any ASCII case) exists.
    pub async fn create_role(&self, role: RoleRecord) -> Result<CreateRoleOutcome> {
        self.0.create_role(role).await
    }
    /// The role of `account` named `name`, ignoring ASCII case.
    pub async fn get_role(&self, account: &str, name: &str) -> Result<Option<RoleRecord>> {
        self.0.get_role(account, name).await
    }
    /// Roles of `account` whose path starts with `path_prefix`, ordered by name regardless
    /// of case, names (ignoring case) strictly after `after`, at most `limit`.
    pub async fn list_roles(
        &self,
        account: &str,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RoleRecord>> {
        self.0.list_roles(account, path_prefix, after, limit).await
    }
    /// Deletes a role that has no attached or inline policies left, atomically: a policy
    /// attached concurrently either lands before (and the delete is refused) or fails.
    pub async fn delete_role(&self, account: &str, name: &str) -> Result<DeleteRoleOutcome> {
        self.0.delete_role(account, name).await
    }
    /// Applies one change to a role's policies or tags, in one commit.
    pub async fn change_role(
        &self,
        account: &str,
        name: &str,
        change: RoleChange,
    ) -> Result<RoleChangeOutcome> {
        self.0.change_role(account, name, change).await
    }
    /// The policies of a role, or `None` when the role does not exist.
    pub async fn role_policies(&self, account: &str, name: &str) -> Result<Option<RolePolicies>> {
        self.0.role_policies(account, name).await
    }

    /// Inserts a function with its code (a zip archive) unless one of the same name exists
    /// in the account.
    pub async fn create_function(
        &self,
        function: FunctionRecord,
        code: Vec<u8>,
    ) -> Result<CreateFunctionOutcome> {
        self.0.create_function(function, code).await
    }
    /// The function of `account` named `name`, without its code.
    pub async fn get_function(&self, account: &str, name: &str) -> Result<Option<FunctionRecord>> {
        self.0.get_function(account, name).await
    }
    /// The code (zip archive) of a function, or `None` when the function does not exist.
    pub async fn function_code(&self, account: &str, name: &str) -> Result<Option<Vec<u8>>> {
        self.0.function_code(account, name).await
    }
    /// Functions of `account` ordered by name, names strictly after `after`, at most `limit`.
    pub async fn list_functions(
        &self,
        account: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FunctionRecord>> {
        self.0.list_functions(account, after, limit).await
    }
    /// Replaces a function's configuration and/or code in one commit.
    pub async fn update_function(
        &self,
        account: &str,
        name: &str,
        update: FunctionUpdate,
    ) -> Result<UpdateFunctionOutcome> {
        self.0.update_function(account, name, update).await
    }
    /// Deletes a function and its code; false when it did not exist.
    pub async fn delete_function(&self, account: &str, name: &str) -> Result<bool> {
        self.0.delete_function(account, name).await
    }

    /// Writes a Lambda resource document (and, when given, its blob; without one a
    /// replaced resource keeps its blob) if `condition` holds, in one commit.
    pub async fn put_resource(
        &self,
        resource: ResourceRecord,
        blob: Option<Vec<u8>>,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        self.0.put_resource(resource, blob, condition).await
    }
    /// The resource under (account, kind, key), without its blob.
    pub async fn get_resource(
        &self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<ResourceRecord>> {
        self.0.get_resource(account, kind, key).await
    }
    /// The blob of a resource; `None` when the resource does not exist or has none.
    pub async fn resource_blob(
        &self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.0.resource_blob(account, kind, key).await
    }
    /// Resources of one kind in `account` whose keys start with `prefix`, ordered by key,
    /// keys strictly after `after`, at most `limit`.
    pub async fn list_resources(
        &self,
        account: &str,
        kind: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ResourceRecord>> {
        self.0
            .list_resources(account, kind, prefix, after, limit)
            .await
    }
    /// Every resource of one kind in every account, ordered by account and key (for
    /// workers that serve all accounts, such as event source mapping pollers).
    pub async fn resources_of_kind(&self, kind: &str) -> Result<Vec<ResourceRecord>> {
        self.0.resources_of_kind(kind).await
    }
    /// Deletes one resource if `condition` holds ([`ResourceCondition::Absent`] never
    /// does).
    pub async fn delete_resource(
        &self,
        account: &str,
        kind: &str,
        key: &str,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome> {
        self.0.delete_resource(account, kind, key, condition).await
    }
    /// Deletes every resource of one kind in `account` whose key starts with `prefix`;
    /// returns how many.
    pub async fn delete_resources(&self, account: &str, kind: &str, prefix: &str) -> Result<u64> {
        self.0.delete_resources(account, kind, prefix).await
    }

    /// Wake-ups caused by other nodes sharing this store (messages sent, made visible or
    /// moved by them), for long polls waiting here. `None` for a backend with one writer:
    /// then every change is made by this process, which wakes its own waiters.
    pub fn subscribe_wakeups(&self) -> Option<tokio::sync::broadcast::Receiver<Wakeup>> {
        self.0.subscribe_wakeups()
    }
}

/// What a storage backend must do. Private to the crate: everyone else goes through
/// [`Store`], which [`open`] builds.
#[async_trait]
trait Backend: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn is_sole_writer(&self) -> bool;

    async fn create_queue(&self, queue: NewQueue) -> Result<CreateQueueOutcome>;
    async fn get_queue(&self, account: &str, name: &str) -> Result<Option<QueueRecord>>;
    async fn get_queue_by_id(&self, id: QueueId) -> Result<Option<QueueRecord>>;
    async fn list_queues(
        &self,
        account: Option<&str>,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<QueueRecord>>;
    async fn queues_after(&self, after: Option<QueueId>, limit: usize) -> Result<Vec<QueueRecord>>;
    async fn update_queue(&self, id: QueueId, update: QueueUpdate) -> Result<Option<QueueRecord>>;
    async fn delete_queue(&self, id: QueueId, now: Millis) -> Result<bool>;

    async fn send_messages(
        &self,
        queue: QueueId,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<SendOutcome>>;
    async fn fan_out(&self, fan_outs: Vec<FanOut>) -> Result<Vec<FanOutOutcome>>;
    async fn claim_messages(&self, request: ClaimRequest) -> Result<ClaimOutcome>;
    async fn delete_messages(
        &self,
        queue: QueueId,
        receipts: Vec<Receipt>,
    ) -> Result<Vec<DeleteOutcome>>;
    async fn change_visibility(
        &self,
        queue: QueueId,
        changes: Vec<(Receipt, Millis)>,
        now: Millis,
    ) -> Result<Vec<VisibilityChange>>;
    async fn purge_queue(&self, queue: QueueId, now: Millis) -> Result<u64>;
    async fn message_counts(&self, queue: QueueId, now: Millis) -> Result<MessageCounts>;
    async fn next_visible_at(&self, queue: QueueId, now: Millis) -> Result<Option<Millis>>;
    async fn expire_messages(&self, queue: QueueId, retained_since: Millis) -> Result<u64>;
    async fn expire_deduplication(&self, now: Millis) -> Result<u64>;
    async fn move_messages(&self, request: MoveRequest) -> Result<u64>;
    async fn count_messages_before(&self, queue: QueueId, sent_before: Millis) -> Result<u64>;

    async fn start_move_task(&self, task: MoveTaskRecord) -> Result<bool>;
    async fn put_move_task(&self, task: MoveTaskRecord) -> Result<()>;
    async fn list_move_tasks(&self, source_arn: Option<&str>) -> Result<Vec<MoveTaskRecord>>;
    async fn update_move_task(&self, task: MoveTaskRecord, expected_status: &str) -> Result<bool>;

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Millis,
        ttl: Millis,
    ) -> Result<bool>;
    fn subscribe_wakeups(&self) -> Option<tokio::sync::broadcast::Receiver<Wakeup>>;

    async fn create_role(&self, role: RoleRecord) -> Result<CreateRoleOutcome>;
    async fn get_role(&self, account: &str, name: &str) -> Result<Option<RoleRecord>>;
    async fn list_roles(
        &self,
        account: &str,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RoleRecord>>;
    async fn delete_role(&self, account: &str, name: &str) -> Result<DeleteRoleOutcome>;
    async fn change_role(
        &self,
        account: &str,
        name: &str,
        change: RoleChange,
    ) -> Result<RoleChangeOutcome>;
    async fn role_policies(&self, account: &str, name: &str) -> Result<Option<RolePolicies>>;

    async fn create_function(
        &self,
        function: FunctionRecord,
        code: Vec<u8>,
    ) -> Result<CreateFunctionOutcome>;
    async fn get_function(&self, account: &str, name: &str) -> Result<Option<FunctionRecord>>;
    async fn function_code(&self, account: &str, name: &str) -> Result<Option<Vec<u8>>>;
    async fn list_functions(
        &self,
        account: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FunctionRecord>>;
    async fn update_function(
        &self,
        account: &str,
        name: &str,
        update: FunctionUpdate,
    ) -> Result<UpdateFunctionOutcome>;
    async fn delete_function(&self, account: &str, name: &str) -> Result<bool>;
    async fn put_resource(
        &self,
        resource: ResourceRecord,
        blob: Option<Vec<u8>>,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome>;
    async fn get_resource(
        &self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<ResourceRecord>>;
    async fn resource_blob(&self, account: &str, kind: &str, key: &str) -> Result<Option<Vec<u8>>>;
    async fn list_resources(
        &self,
        account: &str,
        kind: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ResourceRecord>>;
    async fn resources_of_kind(&self, kind: &str) -> Result<Vec<ResourceRecord>>;
    async fn delete_resource(
        &self,
        account: &str,
        kind: &str,
        key: &str,
        condition: ResourceCondition,
    ) -> Result<ResourceOutcome>;
    async fn delete_resources(&self, account: &str, kind: &str, prefix: &str) -> Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(
            redact_url("postgres://eddy:s3cret@db:5432/eddy?sslmode=disable"),
            "postgres://eddy:***@db:5432/eddy?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://eddy@db/eddy"),
            "postgres://eddy@db/eddy"
        );
        assert_eq!(redact_url("sqlite:.eddy"), "sqlite:.eddy");
    }
}
