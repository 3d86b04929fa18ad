//! The PostgreSQL schema as an ordered list of migrations, applied at open.
//!
//! Several nodes may start at once against a new database, so the migrations run under a
//! session advisory lock: the first node applies them, the others wait and then find
//! nothing left to do. `eddy_migrations` records which versions a database has seen; a
//! migration is never edited once released.

use tokio_postgres::Client;

use crate::{Error, Result};

/// The advisory lock key that serialises migrations across nodes ("eddy" in ASCII).
const MIGRATION_LOCK: i64 = 0x6564_6479;

/// Every migration in order; entry `i` takes the database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: queues, messages, deduplication, receive attempts, move tasks and leases.
    r#"
    CREATE TABLE queues (
        -- Identity values are never reused, so a deleted queue's leftovers can never
        -- surface in a new queue of the same name.
        id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account          TEXT    COLLATE "C" NOT NULL,
        name             TEXT    COLLATE "C" NOT NULL,
        fifo             BOOLEAN NOT NULL,
        attributes       TEXT    NOT NULL,
        tags             TEXT    NOT NULL,
        created_at       BIGINT  NOT NULL,
        last_modified_at BIGINT  NOT NULL,
        purged_at        BIGINT,
        UNIQUE (account, name)
    );

    CREATE TABLE deleted_queues (
        account    TEXT   COLLATE "C" NOT NULL,
        name       TEXT   COLLATE "C" NOT NULL,
        deleted_at BIGINT NOT NULL,
        PRIMARY KEY (account, name)
    );

    CREATE TABLE messages (
        -- The sequence: never reused, half of every receipt handle.
        seq                    BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        queue_id               BIGINT  NOT NULL,
        message_id             TEXT    NOT NULL,
        body                   TEXT    NOT NULL,
        meta                   TEXT    NOT NULL,
        sent_at                BIGINT  NOT NULL,
        visible_at             BIGINT  NOT NULL,
        receive_count          INTEGER NOT NULL DEFAULT 0,
        first_received_at      BIGINT,
        -- The other half of the receipt; 0 until the first receive, odd afterwards.
        nonce                  BIGINT  NOT NULL DEFAULT 0,
        group_id               TEXT    COLLATE "C",
        dedup_id               TEXT,
        dead_letter_source_arn TEXT
    );
    -- Claims and counts: the visible messages of a queue, earliest visible first.
    CREATE INDEX messages_by_visibility ON messages (queue_id, visible_at, seq);
    -- FIFO claims: each group's messages in order; standard messages stay out.
    CREATE INDEX messages_by_group ON messages (queue_id, group_id, seq)
        WHERE group_id IS NOT NULL;
    -- Retention, purge, move tasks.
    CREATE INDEX messages_by_sent ON messages (queue_id, sent_at, seq);
    -- Every message is inserted, updated on each receive and deleted within seconds to
    -- days: vacuum after a small fixed number of dead rows rather than a fraction of the
    -- table, so a busy queue's table and indexes stay small.
    ALTER TABLE messages SET (
        autovacuum_vacuum_scale_factor = 0.0,
        autovacuum_vacuum_threshold = 5000,
        autovacuum_vacuum_insert_scale_factor = 0.0,
        autovacuum_vacuum_insert_threshold = 10000,
        autovacuum_analyze_scale_factor = 0.0,
        autovacuum_analyze_threshold = 10000,
        autovacuum_vacuum_cost_delay = 0
    );

    CREATE TABLE dedup (
        queue_id   BIGINT NOT NULL,
        scope      TEXT   NOT NULL,
        dedup_id   TEXT   NOT NULL,
        message_id TEXT   NOT NULL,
        seq        BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (queue_id, scope, dedup_id)
    );
    CREATE INDEX dedup_by_expiry ON dedup (expires_at);

    CREATE TABLE receive_attempts (
        queue_id   BIGINT NOT NULL,
        attempt_id TEXT   NOT NULL,
        expires_at BIGINT NOT NULL,
        -- "seq:nonce" pairs separated by commas, in the order they were returned.
        receipts   TEXT   NOT NULL,
        PRIMARY KEY (queue_id, attempt_id)
    );
    CREATE INDEX receive_attempts_by_expiry ON receive_attempts (expires_at);

    CREATE TABLE move_tasks (
        handle          TEXT   PRIMARY KEY,
        -- Insertion order, to list tasks started in the same millisecond newest first.
        created         BIGINT GENERATED ALWAYS AS IDENTITY,
        source_arn      TEXT   NOT NULL,
        destination_arn TEXT,
        max_per_second  BIGINT,
        status          TEXT   NOT NULL,
        moved           BIGINT NOT NULL,
        to_move         BIGINT NOT NULL,
        failure_reason  TEXT,
        started_at      BIGINT NOT NULL
    );
    CREATE INDEX move_tasks_by_source ON move_tasks (source_arn, started_at);

    CREATE TABLE leases (
        name       TEXT   PRIMARY KEY,
        holder     TEXT   NOT NULL,
        expires_at BIGINT NOT NULL
    );
    "#,
    // 2: at most one active move task per source queue, enforced by the database so that
    // two nodes starting one at the same moment cannot both succeed.
    r#"
    CREATE UNIQUE INDEX move_tasks_one_active_per_source ON move_tasks (source_arn)
        WHERE status IN ('RUNNING', 'CANCELLING');
    "#,
    // 3: IAM roles with their attached (managed) and inline policies. `name_key` is the
    // name in lower case: IAM role names are unique regardless of case.
    r#"
    CREATE TABLE iam_roles (
        account              TEXT   COLLATE "C" NOT NULL,
        name_key             TEXT   COLLATE "C" NOT NULL,
        name                 TEXT   NOT NULL,
        path                 TEXT   COLLATE "C" NOT NULL,
        role_id              TEXT   NOT NULL,
        assume_role_policy   TEXT   NOT NULL,
        description          TEXT,
        max_session_duration BIGINT NOT NULL,
        -- JSON array of [key, value] pairs, in the order they were first set.
        tags                 TEXT   NOT NULL,
        created_at           BIGINT NOT NULL,
        PRIMARY KEY (account, name_key)
    );

    CREATE TABLE iam_role_attached_policies (
        account    TEXT COLLATE "C" NOT NULL,
        role_key   TEXT COLLATE "C" NOT NULL,
        policy_arn TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (account, role_key, policy_arn)
    );

    CREATE TABLE iam_role_inline_policies (
        account     TEXT COLLATE "C" NOT NULL,
        role_key    TEXT COLLATE "C" NOT NULL,
        policy_name TEXT COLLATE "C" NOT NULL,
        document    TEXT NOT NULL,
        PRIMARY KEY (account, role_key, policy_name)
    );
    "#,
    // 4: Lambda functions. `configuration` is the engine's JSON document; the code (a zip
    // archive) lives here too, so any node can run any function.
    r#"
    CREATE TABLE lambda_functions (
        account       TEXT COLLATE "C" NOT NULL,
        name          TEXT COLLATE "C" NOT NULL,
        configuration TEXT NOT NULL,
        code          BYTEA NOT NULL,
        created_at    BIGINT NOT NULL,
        modified_at   BIGINT NOT NULL,
        revision_id   TEXT NOT NULL,
        PRIMARY KEY (account, name)
    );
    "#,
    // 5: Lambda resources other than functions (versions, aliases, event source mappings,
    // event invoke configurations, concurrency): engine-owned documents by (account, kind,
    // key), with an optional blob (a published version's code).
    r#"
    CREATE TABLE lambda_resources (
        account     TEXT COLLATE "C" NOT NULL,
        kind        TEXT COLLATE "C" NOT NULL,
        key         TEXT COLLATE "C" NOT NULL,
        document    TEXT   NOT NULL,
        blob        BYTEA,
        revision_id TEXT   NOT NULL,
        modified_at BIGINT NOT NULL,
        PRIMARY KEY (account, kind, key)
    );
    "#,
];

/// Brings the database up to the latest schema. Holds the migration lock for the whole
/// run; each migration commits with its version row.
pub(crate) async fn migrate(client: &mut Client) -> Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = apply_pending(client).await;
    // Unlock even when a migration failed; a lost connection releases the lock anyway.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result?;
    unlocked?;
    Ok(())
}

async fn apply_pending(client: &mut Client) -> Result<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS eddy_migrations (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let current: i32 = client
        .query_one("SELECT coalesce(max(version), 0) FROM eddy_migrations", &[])
        .await?
        .try_get(0)?;
    let known = MIGRATIONS.len() as i32;
    if current > known {
        return Err(Error::Unsupported(format!(
            "the database has schema version {current}, newer than this eddy knows ({known})"
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let version = index as i32 + 1;
        let transaction = client.transaction().await?;
        transaction.batch_execute(migration).await?;
        transaction
            .execute(
                "INSERT INTO eddy_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await?;
        transaction.commit().await?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    Ok(())
}
