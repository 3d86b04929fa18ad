//! The SQLite schema as an ordered list of migrations, applied at open.
//!
//! `PRAGMA user_version` records how many migrations a database has seen. A migration is
//! never edited once released: a change to the schema is a new entry at the end.

use rusqlite::Connection;

use crate::Result;

/// Every migration in order; entry `i` takes the database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: queues, messages, deduplication, receive attempts and move tasks.
    r#"
    CREATE TABLE queues (
        -- AUTOINCREMENT: ids are never reused, so a deleted queue's leftovers can never
        -- surface in a new queue of the same name.
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        account          TEXT    NOT NULL,
        name             TEXT    NOT NULL,
        fifo             INTEGER NOT NULL,
        attributes       TEXT    NOT NULL,
        tags             TEXT    NOT NULL,
        created_at       INTEGER NOT NULL,
        last_modified_at INTEGER NOT NULL,
        purged_at        INTEGER,
        UNIQUE (account, name)
    );

    -- The latest deletion of each (account, name), for "wait 60 seconds before re-creating".
    CREATE TABLE deleted_queues (
        account    TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        deleted_at INTEGER NOT NULL,
        PRIMARY KEY (account, name)
    ) WITHOUT ROWID;

    CREATE TABLE messages (
        -- The sequence: monotonic and never reused, half of every receipt.
        seq                    INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_id               INTEGER NOT NULL,
        message_id             TEXT    NOT NULL,
        body                   TEXT    NOT NULL,
        meta                   TEXT    NOT NULL,
        sent_at                INTEGER NOT NULL,
        visible_at             INTEGER NOT NULL,
        receive_count          INTEGER NOT NULL DEFAULT 0,
        first_received_at      INTEGER,
        -- The other half of the receipt; 0 until the first receive, never 0 afterwards.
        nonce                  INTEGER NOT NULL DEFAULT 0,
        group_id               TEXT,
        dedup_id               TEXT,
        dead_letter_source_arn TEXT
    );
    -- Claims and counts: the visible messages of a queue, earliest visible first (the
    -- rowid, i.e. seq, is the implicit last column).
    CREATE INDEX messages_by_visibility ON messages (queue_id, visible_at);
    -- FIFO claims: each group's messages in seq order. Standard messages have no group
    -- and stay out of this index.
    CREATE INDEX messages_by_group ON messages (queue_id, group_id) WHERE group_id IS NOT NULL;
    -- Retention, purge, move tasks.
    CREATE INDEX messages_by_sent ON messages (queue_id, sent_at);

    CREATE TABLE dedup (
        queue_id   INTEGER NOT NULL,
        scope      TEXT    NOT NULL,
        dedup_id   TEXT    NOT NULL,
        message_id TEXT    NOT NULL,
        seq        INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (queue_id, scope, dedup_id)
    ) WITHOUT ROWID;
    CREATE INDEX dedup_by_expiry ON dedup (expires_at);

    CREATE TABLE receive_attempts (
        queue_id   INTEGER NOT NULL,
        attempt_id TEXT    NOT NULL,
        expires_at INTEGER NOT NULL,
        -- "seq:nonce" pairs separated by commas, in the order they were returned.
        receipts   TEXT    NOT NULL,
        PRIMARY KEY (queue_id, attempt_id)
    ) WITHOUT ROWID;
    CREATE INDEX receive_attempts_by_expiry ON receive_attempts (expires_at);

    CREATE TABLE move_tasks (
        handle          TEXT    PRIMARY KEY,
        source_arn      TEXT    NOT NULL,
        destination_arn TEXT,
        max_per_second  INTEGER,
        status          TEXT    NOT NULL,
        moved           INTEGER NOT NULL,
        to_move         INTEGER NOT NULL,
        failure_reason  TEXT,
        started_at      INTEGER NOT NULL
    );
    CREATE INDEX move_tasks_by_source ON move_tasks (source_arn, started_at);
    "#,
    // 2: leases of background work (one holder per job across the nodes of a cluster).
    r#"
    CREATE TABLE leases (
        name       TEXT    PRIMARY KEY,
        holder     TEXT    NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 3: IAM roles with their attached (managed) and inline policies. `name_key` is the
    // name in lower case: IAM role names are unique regardless of case.
    r#"
    CREATE TABLE iam_roles (
        account              TEXT    NOT NULL,
        name_key             TEXT    NOT NULL,
        name                 TEXT    NOT NULL,
        path                 TEXT    NOT NULL,
        role_id              TEXT    NOT NULL,
        assume_role_policy   TEXT    NOT NULL,
        description          TEXT,
        max_session_duration INTEGER NOT NULL,
        -- JSON array of [key, value] pairs, in the order they were first set.
        tags                 TEXT    NOT NULL,
        created_at           INTEGER NOT NULL,
        PRIMARY KEY (account, name_key)
    ) WITHOUT ROWID;

    CREATE TABLE iam_role_attached_policies (
        account    TEXT NOT NULL,
        role_key   TEXT NOT NULL,
        policy_arn TEXT NOT NULL,
        PRIMARY KEY (account, role_key, policy_arn)
    ) WITHOUT ROWID;

    CREATE TABLE iam_role_inline_policies (
        account     TEXT NOT NULL,
        role_key    TEXT NOT NULL,
        policy_name TEXT NOT NULL,
        document    TEXT NOT NULL,
        PRIMARY KEY (account, role_key, policy_name)
    ) WITHOUT ROWID;
    "#,
    // 4: Lambda functions. `configuration` is the engine's JSON document; the code (a zip
    // archive) lives here too, so any node can run any function.
    r#"
    CREATE TABLE lambda_functions (
        account       TEXT NOT NULL,
        name          TEXT NOT NULL,
        configuration TEXT NOT NULL,
        code          BLOB NOT NULL,
        created_at    INTEGER NOT NULL,
        modified_at   INTEGER NOT NULL,
        revision_id   TEXT NOT NULL,
        PRIMARY KEY (account, name)
    ) WITHOUT ROWID;
    "#,
    // 5: Lambda resources other than functions (versions, aliases, event source mappings,
    // event invoke configurations, concurrency): engine-owned documents by (account, kind,
    // key), with an optional blob (a published version's code).
    r#"
    -- The blob is the last column: SQLite reads a row's columns in order, so a column
    -- after a large blob would cost a walk through the blob's overflow pages.
    CREATE TABLE lambda_resources (
        account     TEXT    NOT NULL,
        kind        TEXT    NOT NULL,
        key         TEXT    NOT NULL,
        document    TEXT    NOT NULL,
        revision_id TEXT    NOT NULL,
        modified_at INTEGER NOT NULL,
        blob        BLOB,
        PRIMARY KEY (account, kind, key)
    ) WITHOUT ROWID;
    "#,
    // 6: function code in a table of its own. In `lambda_functions` the code sat before
    // `created_at`, `modified_at` and `revision_id`, so every read of a function (one per
    // invocation) walked the zip's overflow pages to reach them: measured as most of the
    // server's file reads while a queue trigger ran a 2.5 MB function.
    r#"
    CREATE TABLE lambda_function_code (
        account TEXT NOT NULL,
        name    TEXT NOT NULL,
        code    BLOB NOT NULL,
        PRIMARY KEY (account, name)
    ) WITHOUT ROWID;
    INSERT INTO lambda_function_code (account, name, code)
        SELECT account, name, code FROM lambda_functions;
    ALTER TABLE lambda_functions DROP COLUMN code;
    "#,
];

/// Brings the database up to the latest schema, all pending migrations in one transaction.
pub(crate) fn migrate(connection: &mut Connection) -> Result<()> {
    let transaction =
        connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(crate::Error::Unsupported(format!(
            "the database has schema version {current}, newer than this eddy knows ({known})"
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    transaction.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A database made before migration 6 keeps its functions' code, now in a table of its
    /// own, and `lambda_functions` no longer has the column.
    #[test]
    fn function_code_moves_to_its_own_table() -> Result<()> {
        let mut connection = Connection::open_in_memory()?;
        {
            let transaction = connection.transaction()?;
            for migration in &MIGRATIONS[..5] {
                transaction.execute_batch(migration)?;
            }
            transaction.pragma_update(None, "user_version", 5)?;
            transaction.execute(
                "INSERT INTO lambda_functions VALUES ('000000000000', 'f', '{}', x'504b0304', 1, 2, 'r')",
                [],
            )?;
            transaction.commit()?;
        }
        migrate(&mut connection)?;
        let code: Vec<u8> = connection.query_row(
            "SELECT code FROM lambda_function_code WHERE account = '000000000000' AND name = 'f'",
            [],
            |row| row.get(0),
        )?;
        assert_eq!(code, vec![0x50, 0x4b, 0x03, 0x04]);
        let columns: Vec<String> = connection
            .prepare("SELECT name FROM pragma_table_info('lambda_functions')")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        assert!(
            !columns.iter().any(|column| column == "code"),
            "{columns:?}"
        );
        Ok(())
    }
}
