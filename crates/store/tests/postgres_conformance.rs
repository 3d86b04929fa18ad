//! Runs the store conformance suite against the PostgreSQL backend, each test on a fresh
//! database of the server named by `EDDY_TEST_POSTGRES_URL` (`scripts/test` starts one and
//! exports it for the whole run), and checks that several stores ("nodes") work on one
//! database at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use store::conformance::Backing;
use store::model::*;
use store::{PostgresOptions, Store};
use tokio::sync::OnceCell;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Small pools and batches exercise the pool and batching edges too.
fn small_options() -> PostgresOptions {
    PostgresOptions {
        pool_size: 4,
        max_batch: 8,
    }
}

/// A database created on the first `open`; every later `open` connects to the same one.
struct PostgresBacking {
    url: OnceCell<String>,
}

impl PostgresBacking {
    fn fresh() -> PostgresBacking {
        PostgresBacking {
            url: OnceCell::new(),
        }
    }
}

impl Backing for PostgresBacking {
    fn open(&self) -> Pin<Box<dyn Future<Output = store::Result<Store>> + Send + '_>> {
        Box::pin(async move {
            let url = self
                .url
                .get_or_try_init(store::testing::fresh_postgres_url)
                .await?;
            store::open_postgres(url, small_options()).await
        })
    }

    fn reject_message_body<'a>(
        &'a self,
        body: &'a str,
    ) -> Pin<Box<dyn Future<Output = store::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            let url = self
                .url
                .get()
                .ok_or_else(|| store::Error::Unsupported("open the store first".to_string()))?;
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
            let connection = tokio::spawn(connection);
            let body = body.replace('\'', "''");
            client
                .batch_execute(&format!(
                    "CREATE FUNCTION reject_message_body() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN \
                       IF NEW.body = '{body}' THEN RAISE EXCEPTION 'message body refused'; END IF; \
                       RETURN NEW; \
                     END $$; \
                     CREATE TRIGGER reject_message_body BEFORE INSERT ON messages \
                     FOR EACH ROW EXECUTE FUNCTION reject_message_body();"
                ))
                .await?;
            drop(client);
            let _ = connection.await;
            Ok(())
        })
    }
}

store::conformance_tests!(PostgresBacking::fresh());

const ACCOUNT: &str = "000000000000";
const T: Millis = 1_700_000_000_000;

fn message(id: &str) -> NewMessage {
    NewMessage {
        message_id: id.to_string(),
        body: format!("body of {id}"),
        meta: "{}".to_string(),
        sent_at: T,
        visible_at: T,
        group_id: None,
        deduplication: None,
    }
}

fn claim(queue: QueueId, max_messages: usize) -> ClaimRequest {
    ClaimRequest {
        queue,
        max_messages,
        now: T + 1,
        visible_until: T + 60_000,
        fifo: false,
        retained_since: 0,
        redrive: None,
        attempt: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_database_share_queues_and_messages() -> TestResult {
    let url = store::testing::fresh_postgres_url().await?;
    // Both open at once: unlike SQLite's directory lock, nothing is exclusive.
    let a = store::open_postgres(&url, small_options()).await?;
    let b = store::open_postgres(&url, small_options()).await?;
    assert!(!a.is_sole_writer() && !b.is_sole_writer());

    let created = a
        .create_queue(NewQueue {
            account: ACCOUNT.to_string(),
            name: "shared".to_string(),
            fifo: false,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
            now: T,
            deleted_since: T - 60_000,
        })
        .await?;
    let CreateQueueOutcome::Created(queue) = created else {
        panic!("creating the queue gave {created:?}");
    };
    assert_eq!(b.get_queue(ACCOUNT, "shared").await?, Some(queue.clone()));

    let ids: Vec<String> = (0..20).map(|i| format!("m{i:02}")).collect();
    let (first, second) = ids.split_at(10);
    a.send_messages(queue.id, first.iter().map(|id| message(id)).collect())
        .await?;
    b.send_messages(queue.id, second.iter().map(|id| message(id)).collect())
        .await?;

    // Both claim at once; together they get every message exactly once.
    let (from_a, from_b) = tokio::join!(a.claim_messages(claim(queue.id, 10)), async {
        b.claim_messages(claim(queue.id, 10)).await
    });
    let (from_a, from_b) = (from_a?, from_b?);
    let mut claimed: Vec<&str> = from_a
        .messages
        .iter()
        .chain(&from_b.messages)
        .map(|m| m.message_id.as_str())
        .collect();
    claimed.sort_unstable();
    assert_eq!(claimed, ids);

    // A receipt handed out by one node is good on the other.
    let receipts: Vec<Receipt> = from_a.messages.iter().map(|m| m.receipt).collect();
    let outcomes = b.delete_messages(queue.id, receipts.clone()).await?;
    assert!(outcomes.iter().all(|o| *o == DeleteOutcome::Deleted));
    let counts = a.message_counts(queue.id, T + 2).await?;
    assert_eq!(
        counts,
        MessageCounts {
            visible: 0,
            in_flight: 20 - receipts.len() as u64,
            delayed: 0
        }
    );
    assert_eq!(b.message_counts(queue.id, T + 2).await?, counts);

    // A lease is held by one node at a time.
    assert!(a.acquire_lease("retention", "node-a", T, 10_000).await?);
    assert!(
        !b.acquire_lease("retention", "node-b", T + 1, 10_000)
            .await?
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_on_one_store_wakes_the_other() -> TestResult {
    let url = store::testing::fresh_postgres_url().await?;
    let sender = store::open_postgres(&url, small_options()).await?;
    let waiter = store::open_postgres(&url, small_options()).await?;
    let mut wakeups = waiter
        .subscribe_wakeups()
        .expect("a shared backend reports other nodes' changes");
    let CreateQueueOutcome::Created(queue) = sender
        .create_queue(NewQueue {
            account: ACCOUNT.to_string(),
            name: "wake".to_string(),
            fifo: false,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
            now: T,
            deleted_since: T - 60_000,
        })
        .await?
    else {
        panic!("the queue already existed");
    };
    // The waiter starts listening in the background after open, so a notification sent
    // before that is not seen: send until one arrives (bounded, not timed).
    let mut sent = BTreeSet::new();
    for attempt in 0..60 {
        let id = format!("m{attempt}");
        sender.send_messages(queue.id, vec![message(&id)]).await?;
        sent.insert(id);
        match tokio::time::timeout(Duration::from_millis(500), wakeups.recv()).await {
            Ok(Ok(Wakeup::Queue { queue: woken, .. })) if woken == queue.id => return Ok(()),
            Ok(Ok(_)) | Err(_) => continue,
            Ok(Err(error)) => return Err(error.into()),
        }
    }
    Err(format!(
        "no wake-up for queue {:?} after {} sends",
        queue.id,
        sent.len()
    )
    .into())
}

/// Each node keeps the queue records it read; a change through another node must reach it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_changed_through_one_store_is_seen_changed_by_the_other() -> TestResult {
    let url = store::testing::fresh_postgres_url().await?;
    let changer = store::open_postgres(&url, small_options()).await?;
    let reader = store::open_postgres(&url, small_options()).await?;
    let CreateQueueOutcome::Created(queue) = changer
        .create_queue(NewQueue {
            account: ACCOUNT.to_string(),
            name: "changing".to_string(),
            fifo: false,
            attributes: BTreeMap::from([("VisibilityTimeout".to_string(), "30".to_string())]),
            tags: BTreeMap::new(),
            now: T,
            deleted_since: T - 60_000,
        })
        .await?
    else {
        panic!("the queue already existed");
    };
    // The reader caches what it reads.
    assert!(reader.get_queue(ACCOUNT, "changing").await?.is_some());
    assert!(reader.get_queue_by_id(queue.id).await?.is_some());

    let attributes = BTreeMap::from([("VisibilityTimeout".to_string(), "45".to_string())]);
    changer
        .update_queue(
            queue.id,
            QueueUpdate {
                attributes: Some(attributes.clone()),
                now: T + 1,
                ..QueueUpdate::default()
            },
        )
        .await?;
    let mut seen = false;
    for _ in 0..100 {
        let by_name = reader.get_queue(ACCOUNT, "changing").await?;
        let by_id = reader.get_queue_by_id(queue.id).await?;
        if by_name.map(|q| q.attributes) == Some(attributes.clone())
            && by_id.map(|q| q.attributes) == Some(attributes.clone())
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "the other store never saw the new attributes");

    assert!(changer.delete_queue(queue.id, T + 2).await?);
    let mut gone = false;
    for _ in 0..100 {
        if reader.get_queue(ACCOUNT, "changing").await?.is_none()
            && reader.get_queue_by_id(queue.id).await?.is_none()
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the other store still serves the deleted queue");
    Ok(())
}
