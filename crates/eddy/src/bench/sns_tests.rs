//! Tests of `eddy bench sns` against a small in-memory SNS+SQS stand-in that can lose,
//! duplicate and mislabel deliveries on purpose, so every count in the report is checked.

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
use serde_json::{Value, json};

use super::sns::{DrainStop, SnsBenchArgs, measure};

/// Faults the stand-in injects, counted over publishes from 1; 0 means never.
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    /// Every n-th publish is acknowledged but never delivered to the second queue.
    lose_in_second_queue_every: u64,
    /// Every n-th publish is delivered twice to the first queue, the second time only once
    /// everything else in the queue has been received.
    duplicate_in_first_queue_every: u64,
    /// Every n-th publish is delivered with another MessageId than Publish answered.
    wrong_message_id_every: u64,
}

#[derive(Default)]
struct FakeQueue {
    visible: VecDeque<String>,
    /// Made visible when `visible` runs empty.
    late: VecDeque<String>,
    in_flight: HashMap<String, String>,
}

#[derive(Default)]
struct FakeState {
    /// Queue names subscribed to each topic ARN, in subscription order.
    subscriptions: HashMap<String, Vec<String>>,
    queues: HashMap<String, FakeQueue>,
    publishes: u64,
    next_handle: u64,
}

#[derive(Clone)]
struct FakeStack {
    state: Arc<Mutex<FakeState>>,
    faults: Faults,
}

fn every(counter: u64, n: u64) -> bool {
    n > 0 && counter.is_multiple_of(n)
}

/// Decodes `application/x-www-form-urlencoded`.
fn form_decode(body: &str) -> HashMap<String, String> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    index += 2;
                }
                byte => out.push(byte),
            }
            index += 1;
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (decode(name), decode(value)))
        .collect()
}

fn queue_name_of_url(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

impl FakeStack {
    fn sns(&self, form: &HashMap<String, String>) -> (StatusCode, String) {
        let field = |name: &str| form.get(name).cloned().unwrap_or_default();
        let mut state = self.state.lock().unwrap();
        match field("Action").as_str() {
            "CreateTopic" => {
                let arn = format!("arn:aws:sns:us-east-1:000000000000:{}", field("Name"));
                state.subscriptions.entry(arn.clone()).or_default();
                (
                    StatusCode::OK,
                    format!(
                        "<CreateTopicResponse><CreateTopicResult><TopicArn>{arn}</TopicArn></CreateTopicResult></CreateTopicResponse>"
                    ),
                )
            }
            "Subscribe" => {
                let queue = field("Endpoint").rsplit(':').next().unwrap().to_owned();
                let topic = field("TopicArn");
                state.subscriptions.get_mut(&topic).unwrap().push(queue);
                (
                    StatusCode::OK,
                    format!(
                        "<SubscribeResponse><SubscribeResult><SubscriptionArn>{topic}:sub</SubscriptionArn></SubscribeResult></SubscribeResponse>"
                    ),
                )
            }
            "Publish" => {
                state.publishes += 1;
                let publish = state.publishes;
                let topic = field("TopicArn");
                let message_id = format!("msg-{publish}");
                let delivered_id = if every(publish, self.faults.wrong_message_id_every) {
                    format!("other-{publish}")
                } else {
                    message_id.clone()
                };
                let envelope = json!({
                    "Type": "Notification",
                    "MessageId": delivered_id,
                    "TopicArn": topic,
                    "Message": field("Message"),
                })
                .to_string();
                let queues = state.subscriptions.get(&topic).cloned().unwrap_or_default();
                for (position, queue) in queues.iter().enumerate() {
                    let queue = state.queues.get_mut(queue).unwrap();
                    match position {
                        0 if every(publish, self.faults.duplicate_in_first_queue_every) => {
                            queue.visible.push_back(envelope.clone());
                            queue.late.push_back(envelope.clone());
                        }
                        1 if every(publish, self.faults.lose_in_second_queue_every) => {}
                        _ => queue.visible.push_back(envelope.clone()),
                    }
                }
                (
                    StatusCode::OK,
                    format!(
                        "<PublishResponse><PublishResult><MessageId>{message_id}</MessageId></PublishResult></PublishResponse>"
                    ),
                )
            }
            "DeleteTopic" => (StatusCode::OK, "<DeleteTopicResponse/>".to_owned()),
            other => (
                StatusCode::BAD_REQUEST,
                format!(
                    "<ErrorResponse><Error><Code>InvalidAction</Code><Message>{other}</Message></Error></ErrorResponse>"
                ),
            ),
        }
    }

    async fn sqs(&self, action: &str, input: Value) -> (StatusCode, Value) {
        let url = input["QueueUrl"].as_str().map(queue_name_of_url);
        if action == "ReceiveMessage" {
            let max = input["MaxNumberOfMessages"].as_u64().unwrap_or(1) as usize;
            let messages = self.receive(&url.unwrap(), max);
            if messages.is_empty() {
                // A short stand-in for long polling, so idle consumers do not spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
                return (StatusCode::OK, json!({}));
            }
            return (StatusCode::OK, json!({ "Messages": messages }));
        }
        let mut state = self.state.lock().unwrap();
        match action {
            "CreateQueue" => {
                let name = input["QueueName"].as_str().unwrap().to_owned();
                state.queues.entry(name.clone()).or_default();
                (
                    StatusCode::OK,
                    json!({ "QueueUrl": format!("http://fake/000000000000/{name}") }),
                )
            }
            "GetQueueAttributes" => {
                let name = url.unwrap();
                let queue = &state.queues[&name];
                (
                    StatusCode::OK,
                    json!({ "Attributes": {
                        "QueueArn": format!("arn:aws:sqs:us-east-1:000000000000:{name}"),
                        "ApproximateNumberOfMessages": (queue.visible.len() + queue.late.len()).to_string(),
                        "ApproximateNumberOfMessagesNotVisible": queue.in_flight.len().to_string(),
                    } }),
                )
            }
            "DeleteMessageBatch" => {
                let queue = state.queues.get_mut(&url.unwrap()).unwrap();
                let successful: Vec<Value> = input["Entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|entry| {
                        queue
                            .in_flight
                            .remove(entry["ReceiptHandle"].as_str().unwrap())
                            .is_some()
                    })
                    .map(|entry| json!({ "Id": entry["Id"] }))
                    .collect();
                (
                    StatusCode::OK,
                    json!({ "Successful": successful, "Failed": [] }),
                )
            }
            "DeleteQueue" => {
                state.queues.remove(&url.unwrap());
                (StatusCode::OK, json!({}))
            }
            other => (
                StatusCode::BAD_REQUEST,
                json!({ "__type": "InvalidAction", "message": other }),
            ),
        }
    }

    fn receive(&self, queue_name: &str, max: usize) -> Vec<Value> {
        let mut state = self.state.lock().unwrap();
        let mut messages = Vec::new();
        while messages.len() < max {
            let Some(queue) = state.queues.get_mut(queue_name) else {
                break;
            };
            if queue.visible.is_empty() {
                queue.visible = std::mem::take(&mut queue.late);
            }
            let Some(body) = queue.visible.pop_front() else {
                break;
            };
            state.next_handle += 1;
            let handle = format!("handle-{}", state.next_handle);
            messages.push(json!({ "ReceiptHandle": handle, "Body": body }));
            let queue = state.queues.get_mut(queue_name).unwrap();
            queue.in_flight.insert(handle, body);
        }
        messages
    }

    async fn serve(self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let target = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.to_str().ok())
            .and_then(|target| target.strip_prefix("AmazonSQS."))
            .map(str::to_owned);
        let body = request.into_body().collect().await.unwrap().to_bytes();
        let (status, content_type, output) = match target {
            Some(action) => {
                let input: Value = serde_json::from_slice(&body).unwrap();
                let (status, output) = self.sqs(&action, input).await;
                (status, "application/x-amz-json-1.0", output.to_string())
            }
            None => {
                let form = form_decode(std::str::from_utf8(&body).unwrap());
                assert_eq!(form.get("Version").map(String::as_str), Some("2010-03-31"));
                let (status, output) = self.sns(&form);
                (status, "text/xml", output)
            }
        };
        Ok(Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(output)))
            .unwrap())
    }
}

/// Starts the stand-in on a free loopback port and returns its endpoint URL.
async fn start_fake_stack(faults: Faults) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeStack {
        state: Arc::default(),
        faults,
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
    endpoint
}

#[derive(Parser)]
struct TestCli {
    #[command(flatten)]
    args: SnsBenchArgs,
}

/// Arguments as a user would type them, with a short idle timeout so the tests end quickly.
fn bench_args(endpoint: &str, extra: &[&str]) -> SnsBenchArgs {
    let mut argv = vec![
        "bench",
        "--endpoint",
        endpoint,
        "--publishers",
        "4",
        "--drain-consumers",
        "2",
        "--idle-timeout",
        "0.5",
    ];
    argv.extend_from_slice(extra);
    TestCli::try_parse_from(argv).unwrap().args
}

#[tokio::test]
async fn every_publish_reaches_every_queue_of_a_correct_server() -> anyhow::Result<()> {
    let endpoint = start_fake_stack(Faults::default()).await;
    let report = measure(bench_args(
        &endpoint,
        &["--messages", "300", "--latency-messages", "20"],
    ))
    .await?;
    assert_eq!(report.acknowledged, 300);
    assert_eq!(report.publish_calls, 300);
    assert!(report.delivery.complete);
    assert_eq!(report.delivery.depths, vec![300, 300, 300]);
    assert_eq!(report.drain_stop, DrainStop::AllReceived);
    assert_eq!(report.drain_deleted, 900);
    for queue in &report.integrity {
        assert_eq!(
            (queue.received_unique, queue.lost, queue.duplicated),
            (300, 0, 0)
        );
    }
    assert_eq!(report.message_id_mismatches, 0);
    let latency = report.latency.as_ref().unwrap();
    assert_eq!(latency.measured, 20);
    assert_eq!(latency.per_delivery.len(), 60);
    assert_eq!(latency.all_queues.len(), 20);
    assert_eq!(latency.timeouts, 0);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    Ok(())
}

#[tokio::test]
async fn a_delivery_missing_from_one_queue_is_counted_lost_for_that_queue() -> anyhow::Result<()> {
    let endpoint = start_fake_stack(Faults {
        lose_in_second_queue_every: 50,
        ..Faults::default()
    })
    .await;
    let report = measure(bench_args(
        &endpoint,
        &["--messages", "300", "--latency-messages", "0"],
    ))
    .await?;
    assert_eq!(report.acknowledged, 300);
    assert!(!report.delivery.complete);
    assert_eq!(report.drain_stop, DrainStop::Idle);
    let lost: Vec<u64> = report.integrity.iter().map(|queue| queue.lost).collect();
    assert_eq!(lost, vec![0, 6, 0]);
    assert_eq!(report.json()["integrity"]["lost"], json!(6));
    assert!(report.latency.is_none());
    Ok(())
}

#[tokio::test]
async fn a_delivery_made_again_after_all_others_is_counted_duplicated() -> anyhow::Result<()> {
    let endpoint = start_fake_stack(Faults {
        duplicate_in_first_queue_every: 100,
        ..Faults::default()
    })
    .await;
    let report = measure(bench_args(
        &endpoint,
        &["--messages", "300", "--latency-messages", "0"],
    ))
    .await?;
    let first = &report.integrity[0];
    assert_eq!(
        (first.received_unique, first.lost, first.duplicated),
        (300, 0, 3)
    );
    assert_eq!(report.json()["integrity"]["duplicated"], json!(3));
    Ok(())
}

#[tokio::test]
async fn a_delivery_with_another_message_id_is_reported() -> anyhow::Result<()> {
    let endpoint = start_fake_stack(Faults {
        wrong_message_id_every: 100,
        ..Faults::default()
    })
    .await;
    let report = measure(bench_args(
        &endpoint,
        &["--messages", "300", "--latency-messages", "0"],
    ))
    .await?;
    // Three publishes, each delivered to three queues with the wrong id.
    assert_eq!(report.message_id_mismatches, 9);
    assert!(
        report
            .errors
            .keys()
            .any(|key| key.contains("envelope MessageId differs"))
    );
    Ok(())
}

#[tokio::test]
async fn an_unreachable_endpoint_is_an_error_not_a_panic() {
    // Bind and drop a listener: its port is then (almost certainly) closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let result = measure(bench_args(&endpoint, &["--messages", "10"])).await;
    assert!(result.is_err());
}
