//! The WAL stays bounded under sustained writes.
//!
//! Regression: the writer once ran with automatic checkpoints off, leaving all copying to
//! a checkpointer thread. Under sustained load that thread never caught up with a writer
//! committing every millisecond, and SQLite restarts the WAL only when a write begins with
//! every frame copied back — so the WAL grew without bound (a 4-minute soak of the server
//! left a 36 MiB WAL index, i.e. gigabytes of WAL), and the server slowed and grew with it.
//! The writer now checkpoints itself past a size, between two commits.

use std::collections::BTreeMap;

use store::{CreateQueueOutcome, NewMessage, NewQueue, SqliteOptions};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_stays_bounded_under_sustained_writes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = store::open_sqlite(dir.path(), SqliteOptions::default()).await?;
    let CreateQueueOutcome::Created(queue) = store
        .create_queue(NewQueue {
            account: "000000000000".to_string(),
            name: "busy".to_string(),
            fifo: false,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
            now: 1,
            deleted_since: 0,
        })
        .await?
    else {
        return Err("the queue should be new".into());
    };
    // About 128 MiB of message data from concurrent writers, far more than the WAL may hold.
    let body = "x".repeat(16 * 1024);
    let mut writers = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        let body = body.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..1000 {
                let message = NewMessage {
                    message_id: format!("{writer}-{n}"),
                    body: body.clone(),
                    meta: String::new(),
                    sent_at: 1,
                    visible_at: 1,
                    group_id: None,
                    deduplication: None,
                };
                store.send_messages(queue.id, vec![message]).await?;
            }
            Ok::<_, store::Error>(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    let wal = std::fs::metadata(dir.path().join("eddy.db-wal"))?.len();
    // The writer checkpoints at 4096 pages (16 MiB); allow a batch on top.
    assert!(
        wal < 32 * 1024 * 1024,
        "the WAL grew to {} MiB",
        wal / (1024 * 1024)
    );
    Ok(())
}
