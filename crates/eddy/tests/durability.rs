//! Durability across `kill -9` (DESIGN §3): an acknowledged send is never lost, an
//! acknowledged delete never comes back, and a FIFO queue keeps each group's order, while the
//! server is killed with SIGKILL at random moments under concurrent producers and consumers.
//!
//! The chaos test records, in memory, only what the server acknowledged: a send counts once a
//! success response arrived; a request that failed (connection refused or reset, timeout, 5xx)
//! has an unknown outcome and is never counted, whether or not its effect was committed.
//! Set `EDDY_TEST_SEED` to replay a run's operation mix and kill schedule. The journal, the
//! requests that fill it and the checks it shares with `cluster.rs` are in `common/chaos.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use common::Server;
use common::chaos::{
    AckedSend, Journal, Kind, Receipt, SharedJournal, TestQueue, all_quiet, backlog_full,
    batch_index, body_of, certain_deletes, delete_entry, describe, fake_delete, fake_receipt,
    fake_send, fifo_sends, find_fifo_duplicates, find_resurrected, group_of, list_some, note_error,
    print_errors, queue_depth, received_keys, record_delete, record_receipts, record_sends, seed,
    send_once,
};

/// Short, so that messages whose delete was lost come back quickly during the drain.
const VISIBILITY_TIMEOUT_SECONDS: i32 = 2;
/// How many times the chaos test kills the server; `EDDY_TEST_KILLS` overrides it for a
/// longer soak (each kill adds about a second).
const KILLS: usize = 5;
const PRODUCERS_PER_QUEUE: usize = 3;
const CONSUMERS_PER_QUEUE: usize = 3;
/// Attempts of one request whose outcome stayed unknown (the server is down or restarting).
const SEND_ATTEMPTS: usize = 40;
const DELETE_ATTEMPTS: usize = 3;
/// The drain ends once every consumer has seen nothing for this long (longer than the
/// visibility timeout, so an undeleted message would have reappeared) and the queues say 0.
const DRAIN_QUIET_PERIOD: Duration = Duration::from_secs(3);
/// The drain's bound with the default number of kills; a soak adds a second per extra kill.
const DRAIN_LIMIT: Duration = Duration::from_secs(40);
/// The chaos test's bound with the default number of kills; each extra kill adds 4 s.
const WHOLE_TEST_LIMIT: Duration = Duration::from_secs(110);

/// A client that never retries on its own: the test decides what to retry and knows which
/// attempt was acknowledged.
async fn client_without_retries(endpoint: &str) -> Client {
    common::sqs_client_without_retries(endpoint, Duration::from_secs(10)).await
}

async fn create_queue(client: &Client, kind: Kind, name: &str) -> TestQueue {
    common::chaos::create_queue(client, kind, name, VISIBILITY_TIMEOUT_SECONDS)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Sends uniquely numbered messages until `stop`, one request at a time: a request is
/// resolved (acknowledged, or given up after its attempts) before the next one is built, so
/// acknowledged FIFO messages of this producer were committed in `seq` order. Entries a batch
/// reports as failed are never sent again, so they cannot land after later numbers.
async fn run_producer(
    client: Client,
    queue: TestQueue,
    producer: usize,
    mut rng: StdRng,
    journal: SharedJournal,
    stop: Arc<AtomicBool>,
    deadline: Instant,
) {
    let mut next_seq = 0u64;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        // Producers run flat out, so that kills often land on requests in flight, but hold
        // back while the consumers are far behind: deletes then happen during the kills too.
        if backlog_full(&journal, queue.kind) {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let count = if rng.random_bool(0.5) {
            1
        } else {
            rng.random_range(2..=10)
        };
        let as_batch = count > 1 || rng.random_bool(0.2);
        let seqs: Vec<u64> = (next_seq..next_seq + count).collect();
        next_seq += count;
        for _attempt in 0..SEND_ATTEMPTS {
            match send_once(&client, &queue, producer, &seqs, as_batch).await {
                Ok((acked, failed)) => {
                    record_sends(&journal, &queue, producer, acked, failed);
                    break;
                }
                Err(description) => {
                    note_error(&journal, "send", description);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

const PHASE_CHAOS: u8 = 0;
const PHASE_DRAIN: u8 = 1;
const PHASE_STOP: u8 = 2;

/// Receives and deletes until told to stop. During the chaos phase it leaves a few messages
/// undeleted on purpose so that visibility expiry and redelivery are exercised too.
async fn run_consumer(
    client: Client,
    queue: TestQueue,
    mut rng: StdRng,
    journal: SharedJournal,
    phase: Arc<AtomicU8>,
    deadline: Instant,
) {
    while phase.load(Ordering::Relaxed) != PHASE_STOP && Instant::now() < deadline {
        let request_started = Instant::now();
        let result = client
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(rng.random_range(1..=10))
            .wait_time_seconds(1)
            .visibility_timeout(VISIBILITY_TIMEOUT_SECONDS)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(error) => {
                note_error(&journal, "receive", describe(&error));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let mut received = record_receipts(
            &journal,
            &queue,
            output.messages(),
            request_started,
            Instant::now(),
        );
        if phase.load(Ordering::Relaxed) == PHASE_CHAOS {
            received.retain(|_| !rng.random_bool(0.03));
        }
        if received.is_empty() {
            continue;
        }
        if rng.random_bool(0.5) {
            delete_one_by_one(&client, &queue, &received, &journal).await;
        } else {
            delete_in_batch(&client, &queue, &received, &journal).await;
        }
    }
}

async fn delete_one_by_one(
    client: &Client,
    queue: &TestQueue,
    received: &[(Receipt, String)],
    journal: &SharedJournal,
) {
    for (receipt, handle) in received {
        for _attempt in 0..DELETE_ATTEMPTS {
            let result = client
                .delete_message()
                .queue_url(&queue.url)
                .receipt_handle(handle)
                .send()
                .await;
            match result {
                Ok(_) => {
                    record_delete(journal, receipt);
                    break;
                }
                Err(error) => {
                    note_error(journal, "delete", describe(&error));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

async fn delete_in_batch(
    client: &Client,
    queue: &TestQueue,
    received: &[(Receipt, String)],
    journal: &SharedJournal,
) {
    let mut pending: Vec<usize> = (0..received.len()).collect();
    for _attempt in 0..DELETE_ATTEMPTS {
        if pending.is_empty() {
            return;
        }
        let mut request = client.delete_message_batch().queue_url(&queue.url);
        for &index in &pending {
            request = request.entries(delete_entry(index, &received[index].1));
        }
        match request.send().await {
            Ok(output) => {
                for entry in output.successful() {
                    let Some(index) = batch_index(entry.id()) else {
                        continue;
                    };
                    if index < received.len() {
                        record_delete(journal, &received[index].0);
                    }
                    pending.retain(|&other| other != index);
                }
                for entry in output.failed() {
                    note_error(
                        journal,
                        "delete batch entry",
                        format!("{} {}", entry.code(), entry.message().unwrap_or("")),
                    );
                }
            }
            Err(error) => note_error(journal, "delete batch", describe(&error)),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks the journal against DESIGN §3 and returns one line per violated promise.
fn find_violations(journal: &Journal) -> Vec<String> {
    let mut violations = Vec::new();
    let visibility = Duration::from_secs(VISIBILITY_TIMEOUT_SECONDS as u64);

    // Lost: an acknowledged send whose body was never delivered. For the standard queue the
    // acknowledged MessageId itself must be delivered (each attempt is its own message there).
    let (received_bodies, received_ids) = received_keys(journal);
    let lost: Vec<&str> = journal
        .sends
        .iter()
        .filter(|send| !received_bodies.contains(&(send.kind, send.body.as_str())))
        .map(|send| send.body.as_str())
        .collect();
    if !lost.is_empty() {
        violations.push(format!(
            "LOST: {} acknowledged sends never delivered: {}",
            lost.len(),
            list_some(&lost)
        ));
    }
    let lost_ids: Vec<(&str, &str)> = journal
        .sends
        .iter()
        .filter(|send| send.kind == Kind::Standard)
        .filter(|send| !received_ids.contains(&(send.kind, send.message_id.as_str())))
        .map(|send| (send.body.as_str(), send.message_id.as_str()))
        .collect();
    if !lost_ids.is_empty() {
        violations.push(format!(
            "LOST: {} acknowledged standard MessageIds never delivered (body, id): {}",
            lost_ids.len(),
            list_some(&lost_ids)
        ));
    }

    // Resurrected: delivered after an acknowledged delete; only deletes certain to have
    // used the current receipt handle count.
    let (deleted_at, late_deletes) = certain_deletes(journal, visibility);
    violations.extend(find_resurrected(journal, &deleted_at));
    eprintln!(
        "durability: {} deletes acknowledged within the visibility timeout were checked, {} later ones were not",
        deleted_at.len(),
        late_deletes
    );

    violations.extend(find_fifo_duplicates(journal));

    // FIFO order: within a group (one producer), the first deliveries of acknowledged
    // messages follow the order in which they were sent.
    let mut first_delivery: HashMap<&str, usize> = HashMap::new();
    for (index, receipt) in journal.receipts.iter().enumerate() {
        if receipt.kind == Kind::Fifo {
            first_delivery.entry(receipt.body.as_str()).or_insert(index);
        }
    }
    let mut acked_by_producer: BTreeMap<usize, Vec<&AckedSend>> = BTreeMap::new();
    for send in journal.sends.iter().filter(|s| s.kind == Kind::Fifo) {
        acked_by_producer
            .entry(send.producer)
            .or_default()
            .push(send);
    }
    let mut out_of_order = Vec::new();
    for (producer, mut sends) in acked_by_producer {
        sends.sort_by_key(|send| send.seq);
        let delivered: Vec<(&str, usize)> = sends
            .iter()
            .filter_map(|send| Some((send.body.as_str(), *first_delivery.get(send.body.as_str())?)))
            .collect();
        for pair in delivered.windows(2) {
            if pair[1].1 < pair[0].1 {
                out_of_order.push(format!(
                    "{}: {} first delivered before {}",
                    group_of(producer),
                    pair[1].0,
                    pair[0].0
                ));
            }
        }
    }
    if !out_of_order.is_empty() {
        violations.push(format!(
            "FIFO ORDER: {} inversions: {}",
            out_of_order.len(),
            list_some(&out_of_order)
        ));
    }
    violations
}

/// Runs `f` on the server from a blocking thread (restarting waits for the child's first line).
async fn with_server<T: Send + 'static>(
    server: &Arc<Mutex<Server>>,
    f: impl FnOnce(&mut Server) -> T + Send + 'static,
) -> T {
    let server = Arc::clone(server);
    tokio::task::spawn_blocking(move || f(&mut server.lock().unwrap()))
        .await
        .expect("server task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_work_survives_random_kill9_under_concurrent_load() {
    let seed = seed();
    let kills = std::env::var("EDDY_TEST_KILLS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(KILLS);
    eprintln!("durability seed: {seed} (rerun with EDDY_TEST_SEED={seed}); {kills} kills");
    let limit = WHOLE_TEST_LIMIT + Duration::from_secs(4) * kills.saturating_sub(KILLS) as u32;
    tokio::time::timeout(limit, chaos_run(seed, kills, Instant::now() + limit))
        .await
        .unwrap_or_else(|_| panic!("seed {seed}: the test did not finish in {limit:?}"));
}

/// `deadline` bounds every client loop, should a stop signal never come.
async fn chaos_run(seed: u64, kills: usize, deadline: Instant) {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let server = Server::start();
    let endpoint = server.endpoint.clone();
    let server = Arc::new(Mutex::new(server));
    let admin = client_without_retries(&endpoint).await;
    let queues = [
        create_queue(&admin, Kind::Standard, "chaos-standard").await,
        create_queue(&admin, Kind::Fifo, "chaos-fifo.fifo").await,
    ];

    let journal: SharedJournal = Arc::default();
    let stop_producers = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(AtomicU8::new(PHASE_CHAOS));
    let mut producers = Vec::new();
    let mut consumers = Vec::new();
    for queue in &queues {
        for producer in 0..PRODUCERS_PER_QUEUE {
            producers.push(tokio::spawn(run_producer(
                client_without_retries(&endpoint).await,
                queue.clone(),
                producer,
                StdRng::seed_from_u64(rng.random()),
                Arc::clone(&journal),
                Arc::clone(&stop_producers),
                deadline,
            )));
        }
        for _ in 0..CONSUMERS_PER_QUEUE {
            consumers.push(tokio::spawn(run_consumer(
                client_without_retries(&endpoint).await,
                queue.clone(),
                StdRng::seed_from_u64(rng.random()),
                Arc::clone(&journal),
                Arc::clone(&phase),
                deadline,
            )));
        }
    }

    // Chaos: SIGKILL at random moments, restarting on the same port and data directory.
    for kill in 1..=kills {
        // Mostly 200–1500 ms apart; now and then right after the restart, while the server
        // is recovering and its first commits are in flight.
        let pause = if rng.random_bool(0.2) {
            Duration::from_millis(rng.random_range(0..100))
        } else {
            Duration::from_millis(rng.random_range(200..=1500))
        };
        tokio::time::sleep(pause).await;
        let restart_took = with_server(&server, |server| {
            server.kill9();
            let restarting = Instant::now();
            server.restart();
            restarting.elapsed()
        })
        .await;
        eprintln!("durability: kill -9 #{kill} after {pause:?}; restart took {restart_took:?}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_producers.store(true, Ordering::Relaxed);
    for producer in producers {
        producer.await.expect("producer task");
    }

    // Drain: consumers go on until both queues stay empty.
    phase.store(PHASE_DRAIN, Ordering::Relaxed);
    let drain_started = Instant::now();
    let mut drained = false;
    let mut last_depths = Vec::new();
    let drain_limit = DRAIN_LIMIT + Duration::from_secs(kills.saturating_sub(KILLS) as u64);
    while drain_started.elapsed() < drain_limit {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let quiet = all_quiet(&journal, &queues, DRAIN_QUIET_PERIOD);
        last_depths.clear();
        for queue in &queues {
            last_depths.push((queue.kind, queue_depth(&admin, queue).await));
        }
        // A failing attribute call is reported below but does not block the drain: the
        // quiet period alone already says the consumers find nothing.
        let empty = last_depths
            .iter()
            .all(|(_, depth)| !matches!(depth, Ok(n) if *n > 0));
        eprintln!(
            "durability: drain {:>5.1?}: depths {last_depths:?}, quiet {quiet}",
            drain_started.elapsed()
        );
        if quiet && empty {
            drained = true;
            break;
        }
    }
    phase.store(PHASE_STOP, Ordering::Relaxed);
    for consumer in consumers {
        consumer.await.expect("consumer task");
    }
    let drain_took = drain_started.elapsed();

    let journal = journal.lock().unwrap();
    let violations = find_violations(&journal);
    // A standard body stored under two MessageIds shows that a send whose response was lost
    // had been committed, and its retry added a copy: the kills did hit that window.
    let mut ids_of_standard_body: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for receipt in journal.receipts.iter().filter(|r| r.kind == Kind::Standard) {
        ids_of_standard_body
            .entry(receipt.body.as_str())
            .or_default()
            .insert(receipt.message_id.as_str());
    }
    let committed_but_unacknowledged = ids_of_standard_body
        .values()
        .filter(|ids| ids.len() > 1)
        .count();
    eprintln!(
        "durability: {committed_but_unacknowledged} standard sends were committed although their response was lost"
    );
    eprintln!(
        "durability: seed {seed}: {} sends acknowledged ({} fifo), {} deliveries, {} deletes acknowledged, {} kills; drain {:?}; total {:?}",
        journal.sends.len(),
        fifo_sends(&journal),
        journal.receipts.len(),
        journal.deletes.len(),
        kills,
        drain_took,
        started.elapsed()
    );
    print_errors("durability", &journal);
    let mut problems = violations;
    if !drained {
        problems.push(format!(
            "the queues did not drain within {drain_limit:?}; last depths {last_depths:?}"
        ));
    }
    assert!(
        journal.sends.len() > 100 && journal.deletes.len() > 100,
        "seed {seed}: too little work was acknowledged to mean anything ({} sends, {} deletes); errors: {:?}",
        journal.sends.len(),
        journal.deletes.len(),
        journal.errors
    );
    assert!(
        problems.is_empty(),
        "seed {seed}: durability violated:\n{}",
        problems.join("\n")
    );
}

/// Receives from `queue_url` until `expected` messages were seen or `limit` passes and
/// returns the bodies in delivery order. With `delete`, each batch is deleted once received
/// (a FIFO group hands out nothing more while a message of it is in flight); without, a long
/// visibility timeout keeps received messages out of the way.
async fn receive_bodies(
    client: &Client,
    queue_url: &str,
    expected: usize,
    limit: Duration,
    delete: bool,
) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut bodies = Vec::new();
    while bodies.len() < expected && Instant::now() < deadline {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .send()
            .await;
        let output = match output {
            Ok(output) => output,
            Err(error) => {
                eprintln!("receive failed: {}", describe(&error));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        bodies.extend(
            output
                .messages()
                .iter()
                .map(|message| message.body().unwrap_or_default().to_string()),
        );
        if delete && !output.messages().is_empty() {
            let mut batch = client.delete_message_batch().queue_url(queue_url);
            for (index, message) in output.messages().iter().enumerate() {
                batch = batch.entries(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("d{index}"))
                        .receipt_handle(message.receipt_handle().unwrap_or_default())
                        .build()
                        .expect("entry has id and handle"),
                );
            }
            let output = batch
                .send()
                .await
                .unwrap_or_else(|error| panic!("delete batch: {}", describe(&error)));
            assert!(
                output.failed().is_empty(),
                "delete failures: {:?}",
                output.failed()
            );
        }
    }
    bodies
}

/// Sends `count` numbered messages, alternating SendMessage and SendMessageBatch, and
/// returns the bodies in send order. Every call must succeed (the server is up).
async fn send_numbered(client: &Client, queue: &TestQueue, count: u64) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut next = 0u64;
    let mut round = 0;
    while next < count {
        round += 1;
        let size = if round % 2 == 0 {
            (count - next).min(10)
        } else {
            1
        };
        let seqs: Vec<u64> = (next..next + size).collect();
        let (acked, failed) = send_once(client, queue, 0, &seqs, size > 1)
            .await
            .unwrap_or_else(|error| panic!("send {seqs:?}: {error}"));
        assert!(failed.is_empty(), "batch entries failed: {failed:?}");
        assert_eq!(acked.len(), seqs.len(), "every entry acknowledged");
        bodies.extend(seqs.iter().map(|&seq| body_of(queue.kind, 0, seq)));
        next += size;
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_acknowledged_just_before_kill9_are_all_delivered_after_restart() {
    const COUNT: u64 = 200;
    let mut server = Server::start();
    let client = client_without_retries(&server.endpoint).await;
    let standard = create_queue(&client, Kind::Standard, "kill-after-ack").await;
    let fifo = create_queue(&client, Kind::Fifo, "kill-after-ack.fifo").await;
    let standard_bodies = send_numbered(&client, &standard, COUNT).await;
    let fifo_bodies = send_numbered(&client, &fifo, COUNT).await;
    // No pause: whatever was acknowledged must already be on disk.
    server.kill9();
    tokio::task::block_in_place(|| server.restart());

    let mut received = receive_bodies(
        &client,
        &standard.url,
        COUNT as usize,
        Duration::from_secs(20),
        false,
    )
    .await;
    received.sort();
    received.dedup();
    let mut expected = standard_bodies.clone();
    expected.sort();
    let missing: Vec<&String> = expected
        .iter()
        .filter(|b| received.binary_search(b).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "standard queue lost acknowledged sends: {missing:?}"
    );

    // One producer, one group, each batch deleted as received: the FIFO queue delivers
    // exactly the sent sequence.
    let received = receive_bodies(
        &client,
        &fifo.url,
        COUNT as usize,
        Duration::from_secs(20),
        true,
    )
    .await;
    assert_eq!(
        received, fifo_bodies,
        "FIFO queue after kill -9: wrong messages or order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_messages_never_return_after_kill9_and_visibility_expiry() {
    const COUNT: usize = 20;
    const RECEIVE_VISIBILITY_SECONDS: i32 = 3;
    let mut server = Server::start();
    let client = client_without_retries(&server.endpoint).await;
    let standard = create_queue(&client, Kind::Standard, "deleted-stay-deleted").await;
    let fifo = create_queue(&client, Kind::Fifo, "deleted-stay-deleted.fifo").await;
    for queue in [&standard, &fifo] {
        // One group per FIFO message, so undeleted ones never block the others.
        for producer in 0..COUNT {
            send_once(&client, queue, producer, &[0], false)
                .await
                .unwrap_or_else(|error| panic!("send: {error}"));
        }
    }

    let mut deleted: Vec<(Kind, String)> = Vec::new();
    let mut kept: Vec<(Kind, String)> = Vec::new();
    let mut last_receive = Instant::now();
    for queue in [&standard, &fifo] {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut messages = Vec::new();
        while messages.len() < COUNT && Instant::now() < deadline {
            let output = client
                .receive_message()
                .queue_url(&queue.url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .visibility_timeout(RECEIVE_VISIBILITY_SECONDS)
                .send()
                .await
                .unwrap_or_else(|error| panic!("receive: {}", describe(&error)));
            last_receive = Instant::now();
            messages.extend(output.messages().iter().cloned());
        }
        assert_eq!(
            messages.len(),
            COUNT,
            "{:?}: every message received once",
            queue.kind
        );
        // Half deleted (five one by one, five in a batch), half kept as the control that
        // must come back after the visibility timeout.
        let (to_delete, to_keep) = messages.split_at(COUNT / 2);
        for message in &to_delete[..5] {
            client
                .delete_message()
                .queue_url(&queue.url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap_or_else(|error| panic!("delete: {}", describe(&error)));
        }
        let mut batch = client.delete_message_batch().queue_url(&queue.url);
        for (index, message) in to_delete[5..].iter().enumerate() {
            batch = batch.entries(
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("d{index}"))
                    .receipt_handle(message.receipt_handle().unwrap())
                    .build()
                    .unwrap(),
            );
        }
        let output = batch
            .send()
            .await
            .unwrap_or_else(|error| panic!("delete batch: {}", describe(&error)));
        assert!(
            output.failed().is_empty(),
            "batch delete failures: {:?}",
            output.failed()
        );
        assert_eq!(output.successful().len(), to_delete.len() - 5);
        deleted.extend(
            to_delete
                .iter()
                .map(|m| (queue.kind, m.body().unwrap().to_string())),
        );
        kept.extend(
            to_keep
                .iter()
                .map(|m| (queue.kind, m.body().unwrap().to_string())),
        );
    }

    server.kill9();
    tokio::task::block_in_place(|| server.restart());
    // Once the visibility timeout has passed, receive everything there is for a while.
    let visible_again =
        last_receive + Duration::from_millis(RECEIVE_VISIBILITY_SECONDS as u64 * 1000 + 200);
    tokio::time::sleep_until(visible_again.into()).await;
    let mut returned: Vec<(Kind, String)> = Vec::new();
    for queue in [&standard, &fifo] {
        let bodies =
            receive_bodies(&client, &queue.url, COUNT, Duration::from_secs(4), false).await;
        returned.extend(bodies.into_iter().map(|body| (queue.kind, body)));
    }
    let resurrected: Vec<&(Kind, String)> =
        returned.iter().filter(|m| deleted.contains(m)).collect();
    assert!(
        resurrected.is_empty(),
        "deleted messages came back after kill -9: {resurrected:?}"
    );
    let mut came_back: Vec<&(Kind, String)> = returned.iter().collect();
    came_back.sort();
    came_back.dedup();
    let mut control: Vec<&(Kind, String)> = kept.iter().collect();
    control.sort();
    assert_eq!(
        came_back, control,
        "exactly the undeleted messages come back once their visibility timeout has passed"
    );
}

/// The chaos test is only as good as its checker: a journal with one of each fault must be
/// reported, and a clean one must not.
#[test]
fn checker_reports_lost_resurrected_duplicated_and_reordered_messages() {
    let start = Instant::now();
    let at = |millis: u64| start + Duration::from_millis(millis);
    let send = |kind: Kind, seq: u64, message_id: &str| fake_send(kind, seq, message_id, start);
    let receipt = |kind: Kind, seq: u64, message_id: &str, started: u64| {
        fake_receipt(kind, seq, message_id, at(started))
    };
    let delete = |kind: Kind, seq: u64, message_id: &str, received: u64, acked: u64| {
        fake_delete(kind, seq, message_id, at(received), at(acked))
    };
    let clean = Journal {
        sends: vec![
            send(Kind::Standard, 0, "s0"),
            send(Kind::Standard, 1, "s1"),
            send(Kind::Fifo, 0, "f0"),
            send(Kind::Fifo, 1, "f1"),
        ],
        receipts: vec![
            receipt(Kind::Standard, 1, "s1", 0),
            receipt(Kind::Standard, 0, "s0", 0),
            receipt(Kind::Fifo, 0, "f0", 0),
            // Redelivered before its delete: at-least-once, not a fault.
            receipt(Kind::Fifo, 0, "f0", 2_000),
            receipt(Kind::Fifo, 1, "f1", 2_100),
            // Delivered again after a delete acknowledged too late to be sure of its handle.
            receipt(Kind::Standard, 1, "s1", 5_000),
        ],
        deletes: vec![
            delete(Kind::Fifo, 0, "f0", 2_000, 2_010),
            delete(Kind::Standard, 1, "s1", 0, 3_000),
        ],
        ..Journal::default()
    };
    let violations = find_violations(&clean);
    assert!(violations.is_empty(), "clean journal: {violations:?}");

    let faulty = Journal {
        sends: vec![
            send(Kind::Standard, 0, "s0"),
            send(Kind::Standard, 1, "s1"),
            send(Kind::Fifo, 0, "f0"),
            send(Kind::Fifo, 1, "f1"),
            send(Kind::Fifo, 2, "f2"),
        ],
        receipts: vec![
            receipt(Kind::Standard, 0, "s0", 0),
            receipt(Kind::Standard, 0, "s0", 500),
            receipt(Kind::Fifo, 1, "f1", 0),
            receipt(Kind::Fifo, 0, "f0", 0),
            receipt(Kind::Fifo, 2, "f2", 0),
            receipt(Kind::Fifo, 2, "f2-copy", 0),
        ],
        deletes: vec![delete(Kind::Standard, 0, "s0", 0, 10)],
        ..Journal::default()
    };
    let report = find_violations(&faulty).join("\n");
    for expected in [
        "LOST: 1 acknowledged sends never delivered: \"std-p0-000001\"",
        "RESURRECTED: 1 deliveries after an acknowledged delete: \"std-p0-000000 (s0)",
        "FIFO DUPLICATES: bodies delivered under several MessageIds (body, count): (\"fifo-p0-000002\", 2)",
        "FIFO ORDER: 1 inversions: \"group-0: fifo-p0-000001 first delivered before fifo-p0-000000\"",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
}

/// The deduplication window is part of what was acknowledged: a producer that resends after a
/// crash (the usual reaction to an unknown outcome) must not create a second copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_deduplication_survives_kill9() {
    const COUNT: u64 = 30;
    let mut server = Server::start();
    let client = client_without_retries(&server.endpoint).await;
    let fifo = create_queue(&client, Kind::Fifo, "dedup-after-kill.fifo").await;
    let first = send_numbered(&client, &fifo, COUNT).await;
    server.kill9();
    tokio::task::block_in_place(|| server.restart());
    let second = send_numbered(&client, &fifo, COUNT).await;
    assert_eq!(
        first, second,
        "the same bodies and deduplication ids were resent"
    );

    // Take more than was sent if it is there: a copy would show up as a longer list.
    let received = receive_bodies(
        &client,
        &fifo.url,
        2 * COUNT as usize,
        Duration::from_secs(4),
        true,
    )
    .await;
    assert_eq!(
        received, first,
        "after kill -9, resent messages are deduplicated and the group keeps its order"
    );
}
