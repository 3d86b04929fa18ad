//! A quick throughput probe of the SQLite backend: concurrent single-message sends, then
//! receive-and-delete in batches of ten, fully durable. It prints its figures and asserts
//! only that every message made it; speed is never asserted.
//!
//! `EDDY_STORE_BENCH_SENDS` sets the number of messages (default 2000, small enough for a
//! debug test run); for a meaningful figure run
//! `EDDY_STORE_BENCH_SENDS=20000 cargo test --release -p store --test sqlite_throughput -- --nocapture`.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use store::{ClaimRequest, CreateQueueOutcome, NewMessage, NewQueue, SqliteOptions};

const CALLERS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_and_batched_receives_report_throughput() -> store::Result<()> {
    let total: usize = std::env::var("EDDY_STORE_BENCH_SENDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2000);
    let per_caller = total.div_ceil(CALLERS);
    let dir = tempfile::tempdir()?;
    let store = store::open_sqlite(dir.path(), SqliteOptions::default()).await?;
    let CreateQueueOutcome::Created(queue) = store
        .create_queue(NewQueue {
            account: "000000000000".to_string(),
            name: "bench".to_string(),
            fifo: false,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
            now: 1,
            deleted_since: 0,
        })
        .await?
    else {
        panic!("a fresh store has no queue named bench");
    };

    let started = Instant::now();
    let mut callers = Vec::new();
    for caller in 0..CALLERS {
        let store = store.clone();
        callers.push(tokio::spawn(async move {
            for send in 0..per_caller {
                let message = NewMessage {
                    message_id: format!("{caller}-{send}"),
                    body: "x".repeat(100),
                    meta: "{}".to_string(),
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
    for caller in callers {
        caller.await.map_err(std::io::Error::other)??;
    }
    let sent = per_caller * CALLERS;
    let send_seconds = started.elapsed().as_secs_f64();
    println!(
        "sqlite store: {sent} single sends from {CALLERS} callers in {send_seconds:.3}s = {:.0} sends/s",
        sent as f64 / send_seconds
    );

    let started = Instant::now();
    let mut callers = Vec::new();
    for _ in 0..CALLERS {
        let store = store.clone();
        callers.push(tokio::spawn(async move {
            let mut received = Vec::new();
            loop {
                let claimed = store
                    .claim_messages(ClaimRequest {
                        queue: queue.id,
                        max_messages: 10,
                        now: 2,
                        visible_until: 30_000,
                        fifo: false,
                        retained_since: 0,
                        redrive: None,
                        attempt: None,
                    })
                    .await?;
                if claimed.messages.is_empty() {
                    return Ok::<_, store::Error>(received);
                }
                let receipts = claimed.messages.iter().map(|m| m.receipt).collect();
                store.delete_messages(queue.id, receipts).await?;
                received.extend(claimed.messages.into_iter().map(|m| m.message_id));
            }
        }));
    }
    let mut received = HashSet::new();
    for caller in callers {
        received.extend(caller.await.map_err(std::io::Error::other)??);
    }
    let receive_seconds = started.elapsed().as_secs_f64();
    println!(
        "sqlite store: {} messages received and deleted in batches of 10 in {receive_seconds:.3}s = {:.0} messages/s",
        received.len(),
        received.len() as f64 / receive_seconds
    );
    assert_eq!(received.len(), sent);
    Ok(())
}
