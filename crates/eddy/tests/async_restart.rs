//! Asynchronous invocation survives `kill -9` (DESIGN §3): events acknowledged with 202
//! are in the store, so a restarted server runs every one of them, including the one a
//! poller had taken when the server died (it comes back after its visibility timeout).
//!
//! The function is a `provided.al2023` bootstrap written in Python with the standard
//! library only (it speaks the Runtime API itself), which sleeps briefly per event; the
//! server runs one invocation at a time (`--concurrency-limit 1`), so most events are still
//! waiting when the server is killed. Each run writes a Success record to an SQS queue
//! (the function's OnSuccess destination): the test reads the records back after the
//! restart and expects every event's id at least once (delivery is at-least-once).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::Server;
use serde_json::{Value, json};

const EVENTS: usize = 6;
/// Bounds the wait for the records after the restart: the event in flight at the kill
/// comes back after its visibility timeout (function timeout 3 s + 15 s).
const RECORDS_LIMIT: Duration = Duration::from_secs(90);

const BOOTSTRAP: &str = r#"#!/usr/bin/env python3
import json, os, time, urllib.request
base = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation"
while True:
    with urllib.request.urlopen(base + "/next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(response.read())
    time.sleep(event.get("sleep", 0))
    body = json.dumps({"done": event}).encode()
    request = urllib.request.Request(base + "/" + request_id + "/response", data=body, method="POST")
    urllib.request.urlopen(request).read()
"#;

fn function_zip() -> Vec<u8> {
    // A stored (uncompressed) zip with one executable entry, written by hand: the test
    // needs no zip library for that.
    let name = b"bootstrap";
    let data = BOOTSTRAP.as_bytes();
    let crc = crc32(data);
    let mut zip = Vec::new();
    let local = |zip: &mut Vec<u8>| {
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        zip.extend_from_slice(&20u16.to_le_bytes()); // version needed
        zip.extend_from_slice(&0u16.to_le_bytes()); // flags
        zip.extend_from_slice(&0u16.to_le_bytes()); // stored
        zip.extend_from_slice(&0u32.to_le_bytes()); // time, date
        zip.extend_from_slice(&crc.to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(name);
        zip.extend_from_slice(data);
    };
    local(&mut zip);
    let central_offset = zip.len();
    zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    zip.extend_from_slice(&(0x0300u16 | 20).to_le_bytes()); // made by Unix
    zip.extend_from_slice(&20u16.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(&0u32.to_le_bytes());
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes()); // extra
    zip.extend_from_slice(&0u16.to_le_bytes()); // comment
    zip.extend_from_slice(&0u16.to_le_bytes()); // disk
    zip.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    zip.extend_from_slice(&((0o100_755u32) << 16).to_le_bytes()); // external: rwxr-xr-x
    zip.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    zip.extend_from_slice(name);
    let central_size = zip.len() - central_offset;
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(&1u16.to_le_bytes());
    zip.extend_from_slice(&1u16.to_le_bytes());
    zip.extend_from_slice(&(central_size as u32).to_le_bytes());
    zip.extend_from_slice(&(central_offset as u32).to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One HTTP/1.1 request to the server's REST-JSON Lambda API (unsigned: loopback).
fn lambda_request(server: &Server, method: &str, path: &str, body: &Value) -> (u16, String) {
    http(server, method, path, &[], body)
}

/// Invoke with `X-Amz-Invocation-Type: Event`.
fn invoke_event(server: &Server, payload: &Value) -> (u16, String) {
    http(
        server,
        "POST",
        "/2015-03-31/functions/slow/invocations",
        &[("X-Amz-Invocation-Type", "Event")],
        payload,
    )
}

fn http(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, String) {
    let body = body.to_string();
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect to eddy");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.port,
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_all_run_after_a_kill_and_restart() {
    let mut server = Server::start_with(&["--concurrency-limit", "1"]);
    let sqs = common::sqs_client(&server.endpoint).await;
    let done = sqs
        .create_queue()
        .queue_name("async-done")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let done_arn = "arn:aws:sqs:us-east-1:000000000000:async-done";

    let zip = base64::engine::general_purpose::STANDARD.encode(function_zip());
    let (status, body) = lambda_request(
        &server,
        "POST",
        "/2015-03-31/functions",
        &json!({
            "FunctionName": "slow",
            "Runtime": "provided.al2023",
            "Role": "arn:aws:iam::000000000000:role/lambda-role",
            "Handler": "bootstrap",
            "Timeout": 3,
            "Code": {"ZipFile": zip},
        }),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = lambda_request(
        &server,
        "PUT",
        "/2019-09-25/functions/slow/event-invoke-config",
        &json!({"DestinationConfig": {"OnSuccess": {"Destination": done_arn}}}),
    );
    assert_eq!(status, 200, "{body}");

    for id in 0..EVENTS {
        let (status, body) = invoke_event(&server, &json!({"id": id, "sleep": 1.5}));
        assert_eq!(status, 202, "{body}");
    }
    // Let a poller take the first event, so one is in flight when the server dies.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Every event is acknowledged; one is running, the others wait in the store.
    server.kill9();
    let restarted = Instant::now();
    server.restart();

    let sqs = common::sqs_client(&server.endpoint).await;
    let mut seen = BTreeSet::new();
    let mut records = 0;
    let deadline = Instant::now() + RECORDS_LIMIT;
    while seen.len() < EVENTS && Instant::now() < deadline {
        let received = sqs
            .receive_message()
            .queue_url(&done)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            let record: Value = serde_json::from_str(message.body().unwrap()).unwrap();
            assert_eq!(record["requestContext"]["condition"], "Success");
            seen.insert(record["requestPayload"]["id"].as_u64().unwrap());
            records += 1;
            sqs.delete_message()
                .queue_url(&done)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    println!(
        "async restart: {records} records for {EVENTS} events, all within {:.1} s of the restart",
        restarted.elapsed().as_secs_f64()
    );
    let expected: BTreeSet<u64> = (0..EVENTS as u64).collect();
    assert_eq!(
        seen, expected,
        "every acknowledged event ran ({records} records)"
    );
}
