//! Graceful shutdown: on SIGTERM or SIGINT `eddy serve` ends long polls early, lets the
//! requests in flight finish, and exits 0 promptly; every send it acknowledged is still there
//! after a restart on the same data directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;

use common::Server;

const LONG_POLL_SECONDS: i32 = 10;
/// Far below the long poll: a server that waited for the poll to run out fails.
const EXIT_LIMIT: Duration = Duration::from_secs(5);
const SENDERS: usize = 4;

async fn client_without_retries(endpoint: &str) -> Client {
    common::sqs_client_without_retries(endpoint, Duration::from_secs(20)).await
}

async fn queue_url(client: &Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap_or_else(|error| panic!("CreateQueue {name}: {error:?}"))
        .queue_url()
        .expect("QueueUrl")
        .to_string()
}

/// Sends numbered messages back to back until a send fails (the server is going away) or
/// `limit` messages; returns the bodies the server acknowledged.
async fn send_until_failure(
    client: Client,
    url: String,
    sender: usize,
    limit: usize,
) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for seq in 0..limit {
        let body = format!("sender-{sender}-{seq:05}");
        match client
            .send_message()
            .queue_url(&url)
            .message_body(&body)
            .send()
            .await
        {
            Ok(_) => acknowledged.push(body),
            Err(_) => break,
        }
    }
    acknowledged
}

/// Starts a long poll on an empty queue and senders on another, delivers `signal` while both
/// are in flight, and checks the exit and what survived it.
async fn shutdown_on_signal_keeps_acknowledged_sends(signal: &'static str) {
    let server = Server::start();
    let client = client_without_retries(&server.endpoint).await;
    let idle_url = queue_url(&client, "shutdown-idle").await;
    let busy_url = queue_url(&client, "shutdown-busy").await;

    let poll_client = client.clone();
    let long_poll = tokio::spawn(async move {
        let started = Instant::now();
        let result = poll_client
            .receive_message()
            .queue_url(&idle_url)
            .wait_time_seconds(LONG_POLL_SECONDS)
            .send()
            .await;
        (
            started.elapsed(),
            result.map(|output| output.messages().len()),
        )
    });
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        senders.push(tokio::spawn(send_until_failure(
            client_without_retries(&server.endpoint).await,
            busy_url.clone(),
            sender,
            100_000,
        )));
    }
    // Let the long poll park and the senders get going.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !long_poll.is_finished(),
        "the long poll on an empty queue is still waiting"
    );

    let server = Arc::new(Mutex::new(server));
    let signalled = Instant::now();
    let exit = {
        let server = Arc::clone(&server);
        tokio::task::spawn_blocking(move || {
            server.lock().unwrap().signal_and_wait(signal, EXIT_LIMIT)
        })
        .await
        .expect("signal task")
    };
    let exited_after = signalled.elapsed();
    let status = exit.unwrap_or_else(|problem| panic!("SIG{signal}: {problem}"));
    eprintln!("shutdown: SIG{signal} → exit {status} after {exited_after:?}");
    assert_eq!(
        status.code(),
        Some(0),
        "SIG{signal} ends eddy with exit code 0, got {status}"
    );

    let (polled_for, poll_result) = tokio::time::timeout(Duration::from_secs(5), long_poll)
        .await
        .expect("the long poll returns once the server is gone")
        .expect("long poll task");
    eprintln!("shutdown: the long poll returned after {polled_for:?}: {poll_result:?}");
    assert!(
        polled_for < Duration::from_secs(LONG_POLL_SECONDS as u64),
        "the long poll was cut short by the shutdown"
    );
    if let Ok(count) = poll_result {
        assert_eq!(count, 0, "nothing was ever sent to the idle queue");
    }

    let mut acknowledged = Vec::new();
    for sender in senders {
        acknowledged.extend(
            tokio::time::timeout(Duration::from_secs(10), sender)
                .await
                .expect("senders stop once the server is gone")
                .expect("sender task"),
        );
    }
    assert!(
        !acknowledged.is_empty(),
        "some sends were acknowledged before the signal"
    );

    tokio::task::spawn_blocking({
        let server = Arc::clone(&server);
        move || server.lock().unwrap().restart()
    })
    .await
    .expect("restart");
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.len() < acknowledged.len() && Instant::now() < deadline {
        let output = client
            .receive_message()
            .queue_url(&busy_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(120)
            .send()
            .await
            .unwrap_or_else(|error| panic!("receive after restart: {error:?}"));
        received.extend(
            output
                .messages()
                .iter()
                .map(|message| message.body().unwrap_or_default().to_string()),
        );
    }
    received.sort();
    received.dedup();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|body| received.binary_search(body).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged sends were lost across SIG{signal}: {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(40)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_long_poll_exits_zero_and_keeps_acknowledged_sends() {
    shutdown_on_signal_keeps_acknowledged_sends("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_ends_long_poll_exits_zero_and_keeps_acknowledged_sends() {
    shutdown_on_signal_keeps_acknowledged_sends("INT").await;
}
