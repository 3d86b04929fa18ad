//! Several eddy nodes on one PostgreSQL database (DESIGN §3 with a shared store): killing a
//! node with SIGKILL under load loses no acknowledged send, hands no message to two
//! consumers at once, brings back no acknowledged delete and breaks no FIFO group's order;
//! a long poll on one node is woken by a send on another; and background work held by a
//! dead node moves to a live one.
//!
//! These tests need the test PostgreSQL server: `scripts/test` starts it
//! (`scripts/postgres start`) and exports its admin URL as `EDDY_TEST_POSTGRES_URL`; each
//! test creates a fresh database on it. Without the variable they fail and say so.
//!
//! As in `durability.rs` (both use `common/chaos.rs`), the journal records only what a node
//! acknowledged; a request that failed has an unknown outcome and counts for nothing.
//! Clients talk to one node each and move to the next node when a request fails, as clients
//! behind a load balancer would.
//! Set `EDDY_TEST_SEED` to replay a run's operation mix and choice of node to kill.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use common::Server;
use common::chaos::{
    AckedSend, CLOCK_MARGIN, Journal, Kind, Receipt, SharedJournal, TestQueue, all_quiet,
    backlog_full, batch_index, body_of, certain_deletes, delete_entry, describe, fake_delete,
    fake_receipt, fake_send, fifo_sends, find_fifo_duplicates, find_resurrected, group_of,
    list_some, note_error, parse_body, print_errors, queue_depth, received_keys, record_delete,
    record_receipts, record_sends, seed, send_once,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Short, so that messages in flight on the killed node come back quickly during the drain.
const VISIBILITY_TIMEOUT_SECONDS: i32 = 3;
const NODES: usize = 3;
const PRODUCERS_PER_QUEUE: usize = 3;
const CONSUMERS_PER_QUEUE: usize = 3;
/// Load before the kill, and after it until the producers stop.
const LOAD_BEFORE_KILL: Duration = Duration::from_secs(4);
const LOAD_AFTER_KILL: Duration = Duration::from_secs(3);
/// Attempts of one send whose outcome stayed unknown; each failed attempt moves the
/// producer to the next node, so a live node is reached within a few.
const SEND_ATTEMPTS: usize = 100;
const DELETE_ATTEMPTS: usize = 5;
/// The drain ends once every acknowledged send was received, the queues say 0 and no
/// consumer has received anything for this long (longer than the visibility timeout, so a
/// message whose delete was lost would have come back).
const DRAIN_QUIET_PERIOD: Duration = Duration::from_secs(4);
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
const WHOLE_TEST_LIMIT: Duration = Duration::from_secs(150);
/// Each request attempt of the test's clients gives up after this long.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

// ---- nodes and clients ----

/// The URL of a fresh database on the test PostgreSQL server, or an error that says how to
/// get one.
async fn fresh_store_url() -> TestResult<String> {
    let variable = store::testing::POSTGRES_URL_VARIABLE;
    if std::env::var_os(variable).is_none() {
        return Err(format!(
            "{variable} is not set: these tests need PostgreSQL. Run ./scripts/test, or start \
             a server with `scripts/postgres start` and set {variable} to the URL it prints"
        )
        .into());
    }
    Ok(store::testing::fresh_postgres_url().await?)
}

async fn client_of(node: &Server) -> Client {
    common::sqs_client_without_retries(&node.endpoint, ATTEMPT_TIMEOUT).await
}

/// One SDK client per node and the node this worker talks to now. A failed request moves
/// the worker to the next node.
struct Failover {
    clients: Arc<Vec<Client>>,
    current: usize,
}

impl Failover {
    fn new(clients: &Arc<Vec<Client>>, first: usize) -> Failover {
        Failover {
            clients: Arc::clone(clients),
            current: first % clients.len(),
        }
    }

    fn client(&self) -> &Client {
        &self.clients[self.current]
    }

    fn move_on(&mut self) {
        self.current = (self.current + 1) % self.clients.len();
    }
}

// ---- producers and consumers ----

async fn create_queue(client: &Client, kind: Kind, name: &str) -> TestResult<TestQueue> {
    Ok(common::chaos::create_queue(client, kind, name, VISIBILITY_TIMEOUT_SECONDS).await?)
}

/// Sends uniquely numbered messages until `stop`, one request at a time: a request is
/// resolved (acknowledged, or given up after its attempts) before the next one is built, so
/// acknowledged FIFO messages of this producer were committed in `seq` order. A request in
/// flight on a node that is killed may still commit after the node died, but only before
/// the retry on another node is answered: the FIFO send there waits for the queue's row
/// lock, which the dead node's transaction holds until PostgreSQL ends it.
async fn run_producer(
    mut failover: Failover,
    queue: TestQueue,
    producer: usize,
    mut rng: StdRng,
    journal: SharedJournal,
    stop: Arc<AtomicBool>,
    deadline: Instant,
) {
    let mut next_seq = 0u64;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
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
        let mut resolved = false;
        for _attempt in 0..SEND_ATTEMPTS {
            if Instant::now() >= deadline {
                break;
            }
            match send_once(failover.client(), &queue, producer, &seqs, as_batch).await {
                Ok((acked, failed)) => {
                    record_sends(&journal, &queue, producer, acked, failed);
                    resolved = true;
                    break;
                }
                Err(description) => {
                    note_error(&journal, "send", description);
                    failover.move_on();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        if !resolved {
            note_error(
                &journal,
                "send",
                format!("gave up on {seqs:?} after {SEND_ATTEMPTS} attempts"),
            );
        }
    }
}

const PHASE_LOAD: u8 = 0;
const PHASE_DRAIN: u8 = 1;
const PHASE_STOP: u8 = 2;

/// Receives and deletes until told to stop. Under load it leaves a few messages undeleted
/// on purpose, so that visibility expiry and redelivery are exercised too; like a careful
/// FIFO consumer, it then also leaves the rest of that message's group in the response,
/// and it stops deleting a group's messages at the first delete that failed. So in a FIFO
/// group a message is deleted only after every earlier one was, which is what lets the
/// checker say a group never goes back past a deleted message.
async fn run_consumer(
    mut failover: Failover,
    queue: TestQueue,
    mut rng: StdRng,
    journal: SharedJournal,
    phase: Arc<AtomicU8>,
    deadline: Instant,
) {
    while phase.load(Ordering::Relaxed) != PHASE_STOP && Instant::now() < deadline {
        let request_started = Instant::now();
        let result = failover
            .client()
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(rng.random_range(1..=10))
            .wait_time_seconds(rng.random_range(1..=2))
            .visibility_timeout(VISIBILITY_TIMEOUT_SECONDS)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(error) => {
                note_error(&journal, "receive", describe(&error));
                failover.move_on();
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
        if phase.load(Ordering::Relaxed) == PHASE_LOAD {
            let mut skipped_producers = BTreeSet::new();
            received.retain(|(receipt, _)| {
                let producer = parse_body(&receipt.body).map(|(producer, _)| producer);
                if skipped_producers.contains(&producer) {
                    return false;
                }
                if rng.random_bool(0.03) {
                    if queue.kind == Kind::Fifo {
                        skipped_producers.insert(producer);
                    }
                    return false;
                }
                true
            });
        }
        if received.is_empty() {
            continue;
        }
        if rng.random_bool(0.5) {
            delete_one_by_one(&mut failover, &queue, &received, &journal).await;
        } else {
            delete_in_batch(&mut failover, &queue, &received, &journal).await;
        }
    }
}

async fn delete_one_by_one(
    failover: &mut Failover,
    queue: &TestQueue,
    received: &[(Receipt, String)],
    journal: &SharedJournal,
) {
    let mut failed_producers = BTreeSet::new();
    for (receipt, handle) in received {
        let producer = parse_body(&receipt.body).map(|(producer, _)| producer);
        if failed_producers.contains(&producer) {
            continue;
        }
        let mut deleted = false;
        for _attempt in 0..DELETE_ATTEMPTS {
            let result = failover
                .client()
                .delete_message()
                .queue_url(&queue.url)
                .receipt_handle(handle)
                .send()
                .await;
            match result {
                Ok(_) => {
                    record_delete(journal, receipt);
                    deleted = true;
                    break;
                }
                Err(error) => {
                    note_error(journal, "delete", describe(&error));
                    failover.move_on();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        if !deleted && queue.kind == Kind::Fifo {
            failed_producers.insert(producer);
        }
    }
}

async fn delete_in_batch(
    failover: &mut Failover,
    queue: &TestQueue,
    received: &[(Receipt, String)],
    journal: &SharedJournal,
) {
    for _attempt in 0..DELETE_ATTEMPTS {
        let mut request = failover
            .client()
            .delete_message_batch()
            .queue_url(&queue.url);
        for (index, (_, handle)) in received.iter().enumerate() {
            request = request.entries(delete_entry(index, handle));
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
                }
                // An entry that failed is not retried: the node answered for it.
                for entry in output.failed() {
                    note_error(
                        journal,
                        "delete batch entry",
                        format!("{} {}", entry.code(), entry.message().unwrap_or("")),
                    );
                }
                return;
            }
            Err(error) => {
                note_error(journal, "delete batch", describe(&error));
                failover.move_on();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

// ---- the checker ----

/// Acknowledged sends not received yet: by body, and for the standard queue also by the
/// acknowledged MessageId (each attempt of a standard send is its own message).
fn unreceived(journal: &Journal) -> Vec<&AckedSend> {
    let (received_bodies, received_ids) = received_keys(journal);
    journal
        .sends
        .iter()
        .filter(|send| {
            !received_bodies.contains(&(send.kind, send.body.as_str()))
                || (send.kind == Kind::Standard
                    && !received_ids.contains(&(send.kind, send.message_id.as_str())))
        })
        .collect()
}

/// Checks the journal and returns one line per violated promise.
fn find_violations(journal: &Journal) -> Vec<String> {
    let mut violations = Vec::new();
    let visibility = Duration::from_secs(VISIBILITY_TIMEOUT_SECONDS as u64);

    let lost: Vec<(&str, &str)> = unreceived(journal)
        .iter()
        .map(|send| (send.body.as_str(), send.message_id.as_str()))
        .collect();
    if !lost.is_empty() {
        violations.push(format!(
            "LOST: {} acknowledged sends never delivered (body, id): {}",
            lost.len(),
            list_some(&lost)
        ));
    }

    // Only deletes certain to have used the current receipt handle count.
    let (deleted_at, _) = certain_deletes(journal, visibility);
    violations.extend(find_resurrected(journal, &deleted_at));

    // Handed out twice at once: two receives of one message whose claims were certainly
    // less than a visibility timeout apart (each claim happened between its request and
    // its response), as when two nodes claim the same row. Nothing here changes
    // visibility, so a message comes again only after its timeout ran out.
    let mut receipts_of: HashMap<(Kind, &str), Vec<&Receipt>> = HashMap::new();
    for receipt in &journal.receipts {
        receipts_of
            .entry((receipt.kind, receipt.message_id.as_str()))
            .or_default()
            .push(receipt);
    }
    let mut doubled = Vec::new();
    for receipts in receipts_of.values() {
        for (index, first) in receipts.iter().enumerate() {
            for second in &receipts[index + 1..] {
                let earliest = first.request_started.min(second.request_started);
                let latest = first.response_arrived.max(second.response_arrived);
                if latest + CLOCK_MARGIN < earliest + visibility {
                    doubled.push(format!(
                        "{} ({}) received twice within {:?}",
                        first.body,
                        first.message_id,
                        latest - earliest
                    ));
                }
            }
        }
    }
    if !doubled.is_empty() {
        doubled.sort();
        violations.push(format!(
            "DOUBLE DELIVERY: {} messages handed out again within their visibility timeout: {}",
            doubled.len(),
            list_some(&doubled)
        ));
    }

    violations.extend(find_fifo_duplicates(journal));

    // FIFO order, per group (= producer): the sequence numbers received never go down,
    // except that a message received before may come again; and never back to or past a
    // message whose delete was certainly acknowledged before the receive started.
    let mut highest_delivered: HashMap<usize, u64> = HashMap::new();
    let mut delivered: BTreeSet<(usize, u64)> = BTreeSet::new();
    let mut fifo_deleted: HashMap<usize, Vec<(Instant, u64)>> = HashMap::new();
    for ((kind, _), (deleted, body)) in &deleted_at {
        if *kind == Kind::Fifo
            && let Some((producer, seq)) = parse_body(body)
        {
            fifo_deleted
                .entry(producer)
                .or_default()
                .push((*deleted, seq));
        }
    }
    let mut out_of_order = Vec::new();
    let mut backwards = Vec::new();
    for receipt in journal.receipts.iter().filter(|r| r.kind == Kind::Fifo) {
        let Some((producer, seq)) = parse_body(&receipt.body) else {
            out_of_order.push(format!("unexpected body {:?}", receipt.body));
            continue;
        };
        let highest = highest_delivered.entry(producer).or_insert(seq);
        if seq < *highest && !delivered.contains(&(producer, seq)) {
            out_of_order.push(format!(
                "{}: {} first delivered after {}",
                group_of(producer),
                receipt.body,
                body_of(Kind::Fifo, producer, *highest)
            ));
        }
        *highest = (*highest).max(seq);
        delivered.insert((producer, seq));
        let passed = fifo_deleted.get(&producer).and_then(|deletes| {
            deletes
                .iter()
                .filter(|(deleted, deleted_seq)| {
                    *deleted < receipt.request_started && seq < *deleted_seq
                })
                .map(|(_, deleted_seq)| *deleted_seq)
                .max()
        });
        if let Some(deleted_seq) = passed {
            backwards.push(format!(
                "{}: {} received after {} had been deleted",
                group_of(producer),
                receipt.body,
                body_of(Kind::Fifo, producer, deleted_seq)
            ));
        }
    }
    if !out_of_order.is_empty() {
        violations.push(format!(
            "FIFO ORDER: {} inversions: {}",
            out_of_order.len(),
            list_some(&out_of_order)
        ));
    }
    if !backwards.is_empty() {
        violations.push(format!(
            "FIFO BACKWARDS: {} deliveries behind a deleted message: {}",
            backwards.len(),
            list_some(&backwards)
        ));
    }
    violations
}

// ---- the tests ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_lose_nothing_when_one_is_killed() -> TestResult {
    let seed = seed();
    eprintln!("cluster seed: {seed} (rerun with EDDY_TEST_SEED={seed})");
    let deadline = Instant::now() + WHOLE_TEST_LIMIT;
    tokio::time::timeout(WHOLE_TEST_LIMIT, kill_one_of_three(seed, deadline))
        .await
        .map_err(|_| format!("seed {seed}: the test did not finish in {WHOLE_TEST_LIMIT:?}"))?
}

/// `deadline` bounds every client loop, should a stop signal never come.
async fn kill_one_of_three(seed: u64, deadline: Instant) -> TestResult {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let store_url = fresh_store_url().await?;
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        nodes.push(Server::start_node(&store_url, &[]));
    }
    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(client_of(node).await);
    }
    let clients = Arc::new(clients);
    let queues = [
        create_queue(&clients[0], Kind::Standard, "cluster-standard").await?,
        create_queue(&clients[0], Kind::Fifo, "cluster-fifo.fifo").await?,
    ];

    let journal: SharedJournal = Arc::default();
    let stop_producers = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(AtomicU8::new(PHASE_LOAD));
    let mut producers = Vec::new();
    let mut consumers = Vec::new();
    // Round robin: each queue has a producer and a consumer on every node.
    for queue in &queues {
        for producer in 0..PRODUCERS_PER_QUEUE {
            producers.push(tokio::spawn(run_producer(
                Failover::new(&clients, producer),
                queue.clone(),
                producer,
                StdRng::seed_from_u64(rng.random()),
                Arc::clone(&journal),
                Arc::clone(&stop_producers),
                deadline,
            )));
        }
        for consumer in 0..CONSUMERS_PER_QUEUE {
            consumers.push(tokio::spawn(run_consumer(
                Failover::new(&clients, consumer),
                queue.clone(),
                StdRng::seed_from_u64(rng.random()),
                Arc::clone(&journal),
                Arc::clone(&phase),
                deadline,
            )));
        }
    }

    tokio::time::sleep(LOAD_BEFORE_KILL).await;
    let victim = rng.random_range(0..NODES);
    let killed_at = Instant::now();
    nodes[victim].kill9();
    let (sends_before_kill, deletes_before_kill) = {
        let journal = journal.lock().unwrap();
        (journal.sends.len(), journal.deletes.len())
    };
    eprintln!(
        "cluster: killed node {victim} ({}) after {:?}: {sends_before_kill} sends and \
         {deletes_before_kill} deletes acknowledged so far",
        nodes[victim].endpoint,
        killed_at - started
    );
    tokio::time::sleep(LOAD_AFTER_KILL).await;
    stop_producers.store(true, Ordering::Relaxed);
    for producer in producers {
        producer.await?;
    }

    // Drain through the surviving nodes until everything acknowledged was received and the
    // queues stay empty.
    phase.store(PHASE_DRAIN, Ordering::Relaxed);
    let drain_started = Instant::now();
    let mut admin = Failover::new(&clients, victim + 1);
    let mut drained = false;
    let mut last_depths = Vec::new();
    let mut missing = usize::MAX;
    while drain_started.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(500)).await;
        missing = unreceived(&journal.lock().unwrap()).len();
        let quiet = all_quiet(&journal, &queues, DRAIN_QUIET_PERIOD);
        last_depths.clear();
        for queue in &queues {
            let depth = queue_depth(admin.client(), queue).await;
            if depth.is_err() {
                admin.move_on();
            }
            last_depths.push((queue.kind, depth));
        }
        let empty = last_depths.iter().all(|(_, depth)| matches!(depth, Ok(0)));
        if quiet && empty && missing == 0 {
            drained = true;
            break;
        }
    }
    phase.store(PHASE_STOP, Ordering::Relaxed);
    for consumer in consumers {
        consumer.await?;
    }
    let drain_took = drain_started.elapsed();

    let journal = journal.lock().unwrap();
    let mut problems = find_violations(&journal);
    let unique: BTreeSet<(Kind, &str)> = journal
        .receipts
        .iter()
        .map(|receipt| (receipt.kind, receipt.message_id.as_str()))
        .collect();
    let fifo_sends = fifo_sends(&journal);
    let sends_after_kill = journal
        .sends
        .iter()
        .filter(|send| send.acknowledged > killed_at)
        .count();
    let deletes_after_kill = journal
        .deletes
        .iter()
        .filter(|delete| delete.acknowledged > killed_at)
        .count();
    print_errors("cluster", &journal);
    eprintln!(
        "cluster: seed {seed}: sent {} ({} std, {fifo_sends} fifo; {sends_after_kill} after \
         the kill), received {} deliveries of {} messages ({} duplicates), deleted {} \
         ({deletes_after_kill} after the kill); drain {drain_took:.1?}, elapsed {:.1?}",
        journal.sends.len(),
        journal.sends.len() - fifo_sends,
        journal.receipts.len(),
        unique.len(),
        journal.receipts.len() - unique.len(),
        journal.deletes.len(),
        started.elapsed()
    );
    if !drained {
        problems.push(format!(
            "the queues did not drain within {DRAIN_LIMIT:?}: {missing} acknowledged sends \
             unreceived, last depths {last_depths:?}"
        ));
    }
    if sends_before_kill < 50 || deletes_before_kill < 50 {
        problems.push(format!(
            "too little work before the kill to mean anything ({sends_before_kill} sends, \
             {deletes_before_kill} deletes)"
        ));
    }
    if sends_after_kill == 0 || deletes_after_kill == 0 {
        problems.push(format!(
            "the clients did not carry on through the surviving nodes ({sends_after_kill} \
             sends, {deletes_after_kill} deletes after the kill)"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("seed {seed}: \n{}", problems.join("\n")).into())
    }
}

/// Another node's send must wake a long poll through the database's notifications: the
/// long poll also looks again every 2 s by itself, so an answer well within that shows the
/// wake-up worked. The send starts 300 ms into the wait, so the fallback look alone would
/// answer at least 1.7 s after it; the bound below sits between the two, with a wide margin
/// on the side of a slow machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receive_on_one_node_is_woken_by_a_send_on_another() -> TestResult {
    const ROUNDS: usize = 3;
    const WOKEN_WITHIN: Duration = Duration::from_millis(1500);
    let store_url = fresh_store_url().await?;
    let waiting_node = Server::start_node(&store_url, &[]);
    let sending_node = Server::start_node(&store_url, &[]);
    let waiter = client_of(&waiting_node).await;
    let sender = client_of(&sending_node).await;
    let queue = create_queue(&waiter, Kind::Standard, "woken-across-nodes").await?;
    // Both nodes have seen the queue and hold connections before anything is measured.
    for client in [&waiter, &sender] {
        client
            .receive_message()
            .queue_url(&queue.url)
            .send()
            .await
            .map_err(|error| describe(&error))?;
    }

    let mut latencies = Vec::new();
    for round in 0..ROUNDS {
        let receive = {
            let waiter = waiter.clone();
            let url = queue.url.clone();
            tokio::spawn(async move {
                waiter
                    .receive_message()
                    .queue_url(url)
                    .wait_time_seconds(10)
                    .send()
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let body = format!("wake-up {round}");
        let sent = Instant::now();
        sender
            .send_message()
            .queue_url(&queue.url)
            .message_body(&body)
            .send()
            .await
            .map_err(|error| describe(&error))?;
        let output = receive.await?.map_err(|error| describe(&error))?;
        let latency = sent.elapsed();
        latencies.push(latency);
        let message = output
            .messages()
            .first()
            .ok_or("the long poll ended without the message")?;
        assert_eq!(message.body(), Some(body.as_str()));
        waiter
            .delete_message()
            .queue_url(&queue.url)
            .receipt_handle(message.receipt_handle().unwrap_or_default())
            .send()
            .await
            .map_err(|error| describe(&error))?;
    }
    eprintln!("cluster: a send on node B reached a long poll on node A after {latencies:?}");
    for latency in latencies {
        assert!(
            latency < WOKEN_WITHIN,
            "a long poll answered {latency:?} after another node's send: it was not woken by \
             the send, only by its own periodic look"
        );
    }
    Ok(())
}

/// The node holding the move-task lease dies mid-task: once the lease runs out (10 s),
/// another node takes the job over and finishes the task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_work_moves_to_another_node_when_its_holder_dies() -> TestResult {
    const MESSAGES: usize = 10;
    const RATE: i32 = 2;
    let limit = Duration::from_secs(60);
    let store_url = fresh_store_url().await?;
    // Alone at first, this node certainly takes the lease of the move-task worker.
    let mut holder = Server::start_node(&store_url, &[]);
    let first = client_of(&holder).await;
    let source = create_queue(&first, Kind::Standard, "move-source").await?;
    let dead_letters = create_queue(&first, Kind::Standard, "move-dead-letters").await?;
    let arn_of = |client: Client, url: String| async move {
        let output = client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|error| describe(&error))?;
        output
            .attributes()
            .and_then(|attributes| attributes.get(&QueueAttributeName::QueueArn))
            .cloned()
            .ok_or_else(|| "no QueueArn".to_string())
    };
    let source_arn = arn_of(first.clone(), source.url.clone()).await?;
    let dead_letter_arn = arn_of(first.clone(), dead_letters.url.clone()).await?;
    first
        .set_queue_attributes()
        .queue_url(&source.url)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dead_letter_arn}","maxReceiveCount":"5"}}"#),
        )
        .send()
        .await
        .map_err(|error| describe(&error))?;
    let mut request = first.send_message_batch().queue_url(&dead_letters.url);
    for index in 0..MESSAGES {
        request = request.entries(
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{index}"))
                .message_body(format!("dead letter {index}"))
                .build()?,
        );
    }
    let sent = request.send().await.map_err(|error| describe(&error))?;
    assert_eq!(sent.successful().len(), MESSAGES);
    first
        .start_message_move_task()
        .source_arn(&dead_letter_arn)
        .destination_arn(&source_arn)
        .max_number_of_messages_per_second(RATE)
        .send()
        .await
        .map_err(|error| describe(&error))?;

    let task_state = |client: Client| {
        let dead_letter_arn = dead_letter_arn.clone();
        async move {
            let output = client
                .list_message_move_tasks()
                .source_arn(dead_letter_arn)
                .send()
                .await
                .map_err(|error| describe(&error))?;
            let task = output.results().first().ok_or("no move task listed")?;
            Ok::<_, String>((
                task.status().unwrap_or_default().to_string(),
                task.approximate_number_of_messages_moved(),
            ))
        }
    };
    // Wait for the holder's first pass: then the task has begun and the lease is taken.
    let waiting_since = Instant::now();
    let (status, moved_by_holder) = loop {
        let (status, moved) = task_state(first.clone()).await?;
        if moved > 0 || status != "RUNNING" || waiting_since.elapsed() > limit {
            break (status, moved);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        status, "RUNNING",
        "the task ran too fast to be interrupted ({moved_by_holder} moved)"
    );
    assert!(
        moved_by_holder > 0,
        "the first node never advanced the task"
    );

    let successor = Server::start_node(&store_url, &[]);
    let second = client_of(&successor).await;
    holder.kill9();
    let killed_at = Instant::now();
    let (status, moved) = loop {
        let (status, moved) = task_state(second.clone()).await?;
        if status != "RUNNING" || killed_at.elapsed() > limit {
            break (status, moved);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!(
        "cluster: move task {status} {:.1?} after its first holder died ({moved_by_holder} \
         moved before, {moved} reported in all)",
        killed_at.elapsed()
    );
    assert_eq!(
        status, "COMPLETED",
        "the move task did not complete within {limit:?} after its holder died"
    );

    // Every message is back in the source queue and the dead-letter queue is empty.
    let mut bodies = BTreeSet::new();
    let draining_since = Instant::now();
    while bodies.len() < MESSAGES && draining_since.elapsed() < limit {
        let output = second
            .receive_message()
            .queue_url(&source.url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .send()
            .await
            .map_err(|error| describe(&error))?;
        bodies.extend(
            output
                .messages()
                .iter()
                .map(|message| message.body().unwrap_or_default().to_string()),
        );
    }
    let expected: BTreeSet<String> = (0..MESSAGES).map(|i| format!("dead letter {i}")).collect();
    assert_eq!(
        bodies, expected,
        "every dead letter moved back to its source"
    );
    assert_eq!(queue_depth(&second, &dead_letters).await?, 0);
    Ok(())
}

/// The load test is only as good as its checker: a journal with each kind of fault must be
/// reported, and a clean one must not.
#[test]
fn checker_reports_lost_resurrected_doubled_reordered_and_backward_messages() {
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
            send(Kind::Fifo, 0, "f0"),
            send(Kind::Fifo, 1, "f1"),
            send(Kind::Fifo, 2, "f2"),
        ],
        receipts: vec![
            receipt(Kind::Standard, 0, "s0", 0),
            receipt(Kind::Fifo, 0, "f0", 0),
            receipt(Kind::Fifo, 1, "f1", 0),
            // f0 and f1 came in one response, f0 was left undeleted: both come again.
            receipt(Kind::Fifo, 0, "f0", 4_000),
            receipt(Kind::Fifo, 1, "f1", 4_000),
            receipt(Kind::Fifo, 2, "f2", 4_100),
        ],
        deletes: vec![
            delete(Kind::Fifo, 0, "f0", 4_000, 4_010),
            delete(Kind::Fifo, 1, "f1", 4_000, 4_020),
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
            send(Kind::Fifo, 3, "f3"),
        ],
        receipts: vec![
            receipt(Kind::Standard, 0, "s0", 0),
            receipt(Kind::Standard, 0, "s0", 500),
            receipt(Kind::Fifo, 1, "f1", 0),
            receipt(Kind::Fifo, 0, "f0", 0),
            receipt(Kind::Fifo, 2, "f2", 100),
            receipt(Kind::Fifo, 3, "f3", 200),
            receipt(Kind::Fifo, 2, "f2", 500),
        ],
        deletes: vec![
            delete(Kind::Standard, 0, "s0", 0, 10),
            delete(Kind::Fifo, 3, "f3", 200, 300),
        ],
        ..Journal::default()
    };
    let report = find_violations(&faulty).join("\n");
    for expected in [
        "LOST: 1 acknowledged sends never delivered (body, id): (\"std-p0-000001\", \"s1\")",
        "RESURRECTED: 1 deliveries after an acknowledged delete: \"std-p0-000000 (s0)",
        "FIFO ORDER: 1 inversions: \"group-0: fifo-p0-000000 first delivered after fifo-p0-000001\"",
        "FIFO BACKWARDS: 1 deliveries behind a deleted message: \"group-0: fifo-p0-000002 received after fifo-p0-000003 had been deleted\"",
        "DOUBLE DELIVERY: 2 messages handed out again within their visibility timeout: \"fifo-p0-000002 (f2) received twice within 450ms\", \"std-p0-000000 (s0) received twice within 550ms\"",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
}
