//! Tests of the bench's bookkeeping against a small in-memory SQS stand-in that can lose,
//! duplicate and refuse messages on purpose, so every count in the report is checked.

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use md5::{Digest, Md5};
use serde_json::{Value, json};

use super::sqs::{SqsBenchArgs, StopReason, measure};

/// Faults the stand-in injects; 0 means never. "every n" counts calls or messages from 1.
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    /// Acknowledge every n-th sent message but never store it.
    lose_every: u64,
    /// Deliver every n-th delivered message a second time.
    duplicate_every: u64,
    /// Refuse every n-th sent message (a 500 for SendMessage, a Failed entry in a batch).
    fail_send_every: u64,
}

#[derive(Default)]
struct FakeQueue {
    visible: VecDeque<(u64, String)>,
    in_flight: HashMap<String, (u64, String)>,
    next_id: u64,
    next_handle: u64,
    sent: u64,
    delivered: u64,
}

/// Calls one stand-in answered, by action.
type CallCounts = Arc<Mutex<HashMap<String, u64>>>;

#[derive(Clone)]
struct FakeSqs {
    queue: Arc<Mutex<FakeQueue>>,
    faults: Faults,
    calls: CallCounts,
}

fn md5_hex(body: &str) -> String {
    hex::encode(Md5::digest(body.as_bytes()))
}

fn every(counter: u64, n: u64) -> bool {
    n > 0 && counter.is_multiple_of(n)
}

impl FakeSqs {
    /// Stores one sent body; `Err` when the fault plan refuses it.
    fn send(&self, body: &str) -> Result<Value, ()> {
        let mut queue = self.queue.lock().unwrap();
        queue.sent += 1;
        let sent = queue.sent;
        if every(sent, self.faults.fail_send_every) {
            return Err(());
        }
        queue.next_id += 1;
        let id = queue.next_id;
        if !every(sent, self.faults.lose_every) {
            queue.visible.push_back((id, body.to_owned()));
        }
        Ok(json!({ "MessageId": format!("id-{id}"), "MD5OfMessageBody": md5_hex(body) }))
    }

    fn receive(&self, max: usize) -> Vec<Value> {
        let mut queue = self.queue.lock().unwrap();
        let mut messages = Vec::new();
        while messages.len() < max {
            let Some((id, body)) = queue.visible.pop_front() else {
                break;
            };
            queue.delivered += 1;
            if every(queue.delivered, self.faults.duplicate_every) {
                queue.visible.push_back((id, body.clone()));
            }
            queue.next_handle += 1;
            let handle = format!("handle-{}", queue.next_handle);
            messages.push(json!({
                "MessageId": format!("id-{id}"),
                "ReceiptHandle": handle,
                "MD5OfBody": md5_hex(&body),
                "Body": body,
            }));
            queue.in_flight.insert(handle, (id, body));
        }
        messages
    }

    fn delete(&self, handle: &str) -> bool {
        self.queue
            .lock()
            .unwrap()
            .in_flight
            .remove(handle)
            .is_some()
    }

    async fn answer(&self, action: &str, input: Value) -> (StatusCode, Value) {
        let text = |name: &str| {
            input
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let internal =
            json!({ "__type": "com.amazonaws.sqs#InternalError", "message": "injected" });
        match action {
            "CreateQueue" => (
                StatusCode::OK,
                json!({ "QueueUrl": format!("http://fake/000000000000/{}", text("QueueName")) }),
            ),
            "DeleteQueue" => (StatusCode::OK, json!({})),
            "SendMessage" => match self.send(&text("MessageBody")) {
                Ok(answer) => (StatusCode::OK, answer),
                Err(()) => (StatusCode::INTERNAL_SERVER_ERROR, internal),
            },
            "SendMessageBatch" => {
                let (mut successful, mut failed) = (Vec::new(), Vec::new());
                for entry in input["Entries"].as_array().unwrap() {
                    let id = entry["Id"].clone();
                    match self.send(entry["MessageBody"].as_str().unwrap()) {
                        Ok(mut answer) => {
                            answer["Id"] = id;
                            successful.push(answer);
                        }
                        Err(()) => failed.push(json!({ "Id": id, "SenderFault": false, "Code": "InternalError", "Message": "injected" })),
                    }
                }
                (
                    StatusCode::OK,
                    json!({ "Successful": successful, "Failed": failed }),
                )
            }
            "ReceiveMessage" => {
                let max = input["MaxNumberOfMessages"].as_u64().unwrap_or(1) as usize;
                let messages = self.receive(max);
                if messages.is_empty() {
                    // A short stand-in for long polling, so idle consumers do not spin.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    return (StatusCode::OK, json!({}));
                }
                (StatusCode::OK, json!({ "Messages": messages }))
            }
            "DeleteMessage" => {
                if self.delete(&text("ReceiptHandle")) {
                    (StatusCode::OK, json!({}))
                } else {
                    (
                        StatusCode::BAD_REQUEST,
                        json!({ "__type": "ReceiptHandleIsInvalid", "message": "unknown handle" }),
                    )
                }
            }
            "DeleteMessageBatch" => {
                let successful: Vec<Value> = input["Entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|entry| self.delete(entry["ReceiptHandle"].as_str().unwrap()))
                    .map(|entry| json!({ "Id": entry["Id"] }))
                    .collect();
                (
                    StatusCode::OK,
                    json!({ "Successful": successful, "Failed": [] }),
                )
            }
            other => (
                StatusCode::BAD_REQUEST,
                json!({ "__type": "InvalidAction", "message": other }),
            ),
        }
    }

    async fn serve(self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let action = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.to_str().ok())
            .and_then(|target| target.strip_prefix("AmazonSQS."))
            .unwrap_or_default()
            .to_owned();
        *self
            .calls
            .lock()
            .unwrap()
            .entry(action.clone())
            .or_default() += 1;
        let body = request.into_body().collect().await.unwrap().to_bytes();
        let input: Value = serde_json::from_slice(&body).unwrap();
        let (status, output) = self.answer(&action, input).await;
        Ok(Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .body(Full::new(Bytes::from(output.to_string())))
            .unwrap())
    }
}

/// Starts the stand-in on a free loopback port and returns its endpoint URL.
async fn start_fake_sqs(faults: Faults) -> String {
    start_fake_sqs_node(Arc::default(), faults).await.0
}

/// Starts one stand-in node over `queue`, which other nodes may share (as eddy nodes share a
/// PostgreSQL database); returns its endpoint URL and the calls it answers.
async fn start_fake_sqs_node(queue: Arc<Mutex<FakeQueue>>, faults: Faults) -> (String, CallCounts) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let calls = CallCounts::default();
    let fake = FakeSqs {
        queue,
        faults,
        calls: Arc::clone(&calls),
    };
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let fake = fake.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| fake.clone().serve(request));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (endpoint, calls)
}

#[derive(Parser)]
struct TestCli {
    #[command(flatten)]
    args: SqsBenchArgs,
}

/// Arguments as a user would type them, with a short idle timeout so the tests end quickly.
fn bench_args(endpoint: &str, extra: &[&str]) -> SqsBenchArgs {
    let mut argv = vec![
        "bench",
        "--endpoint",
        endpoint,
        "--clients",
        "4",
        "--wait-time",
        "0",
        "--idle-timeout",
        "0.5",
    ];
    argv.extend_from_slice(extra);
    TestCli::try_parse_from(argv).unwrap().args
}

#[tokio::test]
async fn every_acknowledged_message_is_received_once_from_a_correct_server() {
    let endpoint = start_fake_sqs(Faults::default()).await;
    let report = measure(bench_args(
        &endpoint,
        &["--messages", "500", "--mode", "both"],
    ))
    .await
    .unwrap();
    assert_eq!(report.acknowledged, 500);
    assert_eq!(report.deleted, 500);
    assert_eq!(report.integrity.received_unique, 500);
    assert_eq!(report.integrity.duplicated_messages, 0);
    assert_eq!(report.integrity.unreceived, 0);
    assert_eq!(report.stop_reason, StopReason::AllReceived);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.stats.send_calls, 500);
    assert_eq!(report.stats.send_latency.len(), 500);
}

#[tokio::test]
async fn batches_of_ten_fill_then_drain_the_queue() {
    let endpoint = start_fake_sqs(Faults::default()).await;
    let report = measure(bench_args(
        &endpoint,
        &["--messages", "505", "--batch", "10", "--mode", "receive"],
    ))
    .await
    .unwrap();
    assert_eq!(report.acknowledged, 505);
    // 50 full batches and one of 5.
    assert_eq!(report.stats.send_calls, 51);
    assert_eq!(report.deleted, 505);
    assert_eq!(report.integrity.unreceived, 0);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

#[tokio::test]
async fn messages_acknowledged_but_never_delivered_are_reported_missing() {
    let endpoint = start_fake_sqs(Faults {
        lose_every: 50,
        ..Faults::default()
    })
    .await;
    let report = measure(bench_args(&endpoint, &["--messages", "500"]))
        .await
        .unwrap();
    assert_eq!(report.acknowledged, 500);
    assert_eq!(report.integrity.unreceived, 10);
    assert_eq!(report.stop_reason, StopReason::Idle);
}

#[tokio::test]
async fn messages_delivered_twice_are_counted_as_duplicates() {
    let endpoint = start_fake_sqs(Faults {
        duplicate_every: 25,
        ..Faults::default()
    })
    .await;
    let report = measure(bench_args(
        &endpoint,
        &["--messages", "500", "--batch", "10"],
    ))
    .await
    .unwrap();
    assert_eq!(report.integrity.unreceived, 0);
    assert!(
        report.integrity.duplicated_messages >= 20,
        "{:?}",
        report.integrity
    );
    assert_eq!(
        report.integrity.extra_receives,
        report.integrity.duplicated_messages
    );
}

#[tokio::test]
async fn refused_sends_are_errors_and_not_acknowledged() {
    let endpoint = start_fake_sqs(Faults {
        fail_send_every: 10,
        ..Faults::default()
    })
    .await;
    let report = measure(bench_args(&endpoint, &["--messages", "200"]))
        .await
        .unwrap();
    assert_eq!(report.acknowledged, 180);
    assert_eq!(report.integrity.unreceived, 0);
    assert_eq!(report.errors["SendMessage: 500 InternalError"].count, 20);

    let report = measure(bench_args(
        &endpoint,
        &["--messages", "200", "--batch", "10"],
    ))
    .await
    .unwrap();
    assert_eq!(report.acknowledged, 180);
    assert_eq!(
        report.errors["SendMessageBatch entry: InternalError"].count,
        20
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_an_error_not_a_panic() {
    // Bind and drop a listener to get a port that refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let result = measure(bench_args(
        &format!("http://127.0.0.1:{port}"),
        &["--messages", "10"],
    ))
    .await;
    let message = result.err().unwrap().to_string();
    assert!(message.contains("CreateQueue"), "{message}");
}

#[test]
fn endpoints_and_server_pids_may_be_repeated_or_listed() {
    let args = bench_args(
        "http://a:1",
        &[
            "--endpoint",
            "http://b:2,http://c:3",
            "--server-pid",
            "10",
            "--server-pid",
            "11,12",
        ],
    );
    assert_eq!(args.endpoint, ["http://a:1", "http://b:2", "http://c:3"]);
    assert_eq!(args.server_pid, [10, 11, 12]);
    assert_eq!(args.database_pid, None);

    let defaults = TestCli::try_parse_from(["bench"]).unwrap().args;
    assert_eq!(defaults.endpoint, ["http://127.0.0.1:4566"]);
    assert!(defaults.server_pid.is_empty());
}

#[tokio::test]
async fn producers_and_consumers_are_spread_over_every_endpoint() -> anyhow::Result<()> {
    let queue = Arc::<Mutex<FakeQueue>>::default();
    let (first, first_calls) = start_fake_sqs_node(Arc::clone(&queue), Faults::default()).await;
    let (second, second_calls) = start_fake_sqs_node(queue, Faults::default()).await;
    let report = measure(bench_args(
        &first,
        &["--endpoint", &second, "--messages", "400", "--mode", "both"],
    ))
    .await?;
    assert_eq!(report.acknowledged, 400);
    assert_eq!(report.deleted, 400);
    assert_eq!(report.integrity.received_unique, 400);
    assert_eq!(report.integrity.duplicated_messages, 0);
    assert_eq!(report.stop_reason, StopReason::AllReceived);
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    let first_calls = first_calls.lock().unwrap().clone();
    let second_calls = second_calls.lock().unwrap().clone();
    // The queue is created and deleted through the first endpoint only.
    assert_eq!(first_calls.get("CreateQueue"), Some(&1));
    assert_eq!(second_calls.get("CreateQueue"), None);
    // 4 producers and 4 consumers: two of each per endpoint.
    for action in ["SendMessage", "ReceiveMessage", "DeleteMessage"] {
        assert!(
            first_calls.get(action).is_some_and(|count| *count > 0),
            "{action}: {first_calls:?}"
        );
        assert!(
            second_calls.get(action).is_some_and(|count| *count > 0),
            "{action}: {second_calls:?}"
        );
    }
    let sends = |calls: &HashMap<String, u64>| calls.get("SendMessage").copied().unwrap_or(0);
    assert_eq!(sends(&first_calls) + sends(&second_calls), 400);
    Ok(())
}

#[tokio::test]
async fn several_servers_and_a_database_are_reported() -> anyhow::Result<()> {
    let endpoint = start_fake_sqs(Faults::default()).await;
    // This process stands in for two servers and for the database.
    let own = std::process::id().to_string();
    let report = measure(bench_args(
        &endpoint,
        &[
            "--messages",
            "100",
            "--mode",
            "receive",
            "--server-pid",
            &format!("{own},{own}"),
            "--database-pid",
            &own,
        ],
    ))
    .await?;
    let server = report.server.as_ref().unwrap();
    assert_eq!(server.pids.len(), 2);
    let (one, both) = (
        super::process::sample_process(std::process::id()).unwrap(),
        server.after.unwrap(),
    );
    // Summed: twice one reading, give or take what the allocator did in between.
    assert!(
        both.rss_kib > one.rss_kib,
        "{} vs {}",
        both.rss_kib,
        one.rss_kib
    );
    assert!(
        report
            .database
            .as_ref()
            .is_some_and(|database| database.after.is_some())
    );

    let text = report.text();
    assert!(text.contains(&format!("(pids {own}, {own})")), "{text}");
    assert!(text.contains("(sum of 2 servers)"), "{text}");
    assert!(text.contains("database CPU"), "{text}");
    assert!(text.contains("receive+delete phase"), "{text}");
    let json = report.json();
    assert_eq!(json["server"]["pids"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        json["database"]["pid"],
        serde_json::json!(std::process::id())
    );
    assert!(json["database"]["cpu_us_per_message"].is_number(), "{json}");
    assert!(
        json["database"]["receive_phase_cpu_us_per_message"].is_number(),
        "{json}"
    );
    Ok(())
}

#[tokio::test]
async fn one_server_is_reported_as_before() -> anyhow::Result<()> {
    let endpoint = start_fake_sqs(Faults::default()).await;
    let own = std::process::id();
    let report = measure(bench_args(
        &endpoint,
        &["--messages", "50", "--server-pid", &own.to_string()],
    ))
    .await?;
    let text = report.text();
    assert!(
        text.starts_with(&format!("eddy bench sqs  {endpoint}  queue ")),
        "{text}"
    );
    assert!(text.contains(&format!("µs/message (pid {own})")), "{text}");
    assert!(!text.contains("sum of"), "{text}");
    assert!(!text.contains("database"), "{text}");
    let json = report.json();
    assert_eq!(json["endpoint"], serde_json::json!(endpoint));
    assert_eq!(json["server"]["pid"], serde_json::json!(own));
    assert!(json["database"].is_null());
    Ok(())
}
