//! Event source mappings through the `Engine` API with the real pollers, the real runner and
//! the real concurrency gate. The function's code is an in-process handler: an injected
//! `RuntimeApiServer` answers each environment's Runtime API itself (its process is a
//! `bootstrap` that only sleeps), so these tests see exactly the events a mapping delivers
//! and decide each reply. The clock is the system clock: pollers long-poll in real time and
//! visibility timeouts of a few seconds really pass.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestResult, body_input, map};
use engine::lambda::{
    ConcurrencyGate, CreateEventSourceMappingInput, CreateFunctionInput, FilterCriteria,
    FunctionCode, FunctionPlatform, FunctionRunner, LambdaConfig, RuntimeApi, RuntimeApiServer,
    ScalingConfig, UpdateEventSourceMappingInput,
};
use engine::sqs::{Caller, CreateQueueInput, QueueRef, SendMessageInput};
use engine::{CancellationToken, Engine, EngineConfig, Error, SystemClock, Workers};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";
const ACCOUNT: &str = "000000000000";

/// A handler: the event in, the function's result (`Ok`) or error document (`Err`) out.
type Handler = Arc<dyn Fn(&Value) -> Result<Value, Value> + Send + Sync>;

/// Serves every environment's Runtime API in-process with the handler registered for the
/// invoked function ARN.
#[derive(Clone, Default)]
struct InProcessRuntime {
    handlers: Arc<Mutex<HashMap<String, Handler>>>,
}

impl RuntimeApiServer for InProcessRuntime {
    fn serve(&self, listener: TcpListener, runtime_api: RuntimeApi, stop: CancellationToken) {
        let handlers = self.handlers.clone();
        tokio::spawn(async move {
            let _listener = listener;
            loop {
                let invocation = tokio::select! {
                    _ = stop.cancelled() => break,
                    next = runtime_api.next() => match next {
                        Ok(invocation) => invocation,
                        Err(_) => break,
                    },
                };
                let event: Value = serde_json::from_slice(&invocation.payload).unwrap_or_default();
                let handler = handlers
                    .lock()
                    .unwrap()
                    .get(&invocation.invoked_function_arn)
                    .cloned();
                let reply = match handler {
                    Some(handler) => handler(&event),
                    None => Err(json!({"errorMessage": "no handler", "errorType": "Missing"})),
                };
                let _ = match reply {
                    Ok(result) => runtime_api.respond(
                        &invocation.request_id,
                        serde_json::to_vec(&result).unwrap_or_default(),
                    ),
                    Err(error) => runtime_api.error(
                        &invocation.request_id,
                        serde_json::to_vec(&error).unwrap_or_default(),
                        None,
                    ),
                };
            }
        });
    }
}

/// Every event a function received, in order.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

impl Received {
    fn push(&self, event: &Value) {
        self.0.lock().unwrap().push(event.clone());
    }

    fn events(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }

    fn records(&self) -> Vec<Value> {
        self.events()
            .iter()
            .flat_map(|event| event["Records"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    fn bodies(&self) -> Vec<String> {
        self.records()
            .iter()
            .map(|record| record["body"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

struct Mappings {
    engine: Engine,
    runtime: InProcessRuntime,
    caller: Caller,
    shutdown: CancellationToken,
    _workers: Workers,
    _dir: tempfile::TempDir,
}

impl Drop for Mappings {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn bootstrap_zip() -> TestResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    writer.start_file("bootstrap", options)?;
    writer.write_all(b"#!/bin/sh\nexec sleep 300\n")?;
    Ok(writer.finish()?.into_inner())
}

fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}")
}

fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}")
}

fn mapping_input(queue: &str, function: &str) -> CreateEventSourceMappingInput {
    CreateEventSourceMappingInput {
        event_source_arn: Some(queue_arn(queue)),
        function_name: Some(function.to_string()),
        ..CreateEventSourceMappingInput::default()
    }
}

impl Mappings {
    async fn new() -> TestResult<Mappings> {
        let dir = tempfile::tempdir()?;
        let store = store::testing::open_test_store(dir.path()).await?;
        let shutdown = CancellationToken::new();
        let engine = Engine::new(
            store,
            Arc::new(SystemClock),
            EngineConfig::default(),
            shutdown.clone(),
        );
        let runtime = InProcessRuntime::default();
        engine.set_function_platform(FunctionPlatform {
            runner: FunctionRunner::new(LambdaConfig::default(), Arc::new(runtime.clone())),
            data_dir: dir.path().join("data"),
            concurrency: ConcurrencyGate::new(1000),
        });
        let workers = engine.start_workers();
        Ok(Mappings {
            caller: Caller {
                account: ACCOUNT.to_string(),
                sender_id: "AIDATESTSENDER".to_string(),
            },
            engine,
            runtime,
            shutdown,
            _workers: workers,
            _dir: dir,
        })
    }

    /// A function whose invocations run `handler` (timeout in seconds).
    async fn function(
        &self,
        name: &str,
        timeout: i64,
        handler: impl Fn(&Value) -> Result<Value, Value> + Send + Sync + 'static,
    ) -> TestResult {
        self.engine
            .create_function(
                ACCOUNT,
                CreateFunctionInput {
                    function_name: name.to_string(),
                    runtime: Some("provided.al2023".to_string()),
                    role: Some(ROLE.to_string()),
                    handler: Some("bootstrap".to_string()),
                    timeout: Some(timeout),
                    code: FunctionCode {
                        zip_file: Some(bootstrap_zip()?),
                        ..FunctionCode::default()
                    },
                    ..CreateFunctionInput::default()
                },
            )
            .await?;
        self.runtime
            .handlers
            .lock()
            .unwrap()
            .insert(function_arn(name), Arc::new(handler));
        Ok(())
    }

    /// A function that records every event and answers with `reply`.
    async fn recording_function(
        &self,
        name: &str,
        reply: impl Fn(&Value) -> Result<Value, Value> + Send + Sync + 'static,
    ) -> TestResult<Received> {
        let received = Received::default();
        let recorder = received.clone();
        self.function(name, 3, move |event| {
            recorder.push(event);
            reply(event)
        })
        .await?;
        Ok(received)
    }

    async fn queue(&self, name: &str, attributes: &[(&str, &str)]) -> TestResult<QueueRef> {
        Ok(self
            .engine
            .create_queue(
                &self.caller,
                CreateQueueInput {
                    name: name.to_string(),
                    attributes: map(attributes),
                    tags: BTreeMap::new(),
                },
            )
            .await?)
    }

    async fn send(&self, queue: &QueueRef, body: &str) -> TestResult {
        self.engine
            .send_message(&self.caller, queue, body_input(body))
            .await?;
        Ok(())
    }

    async fn send_to_group(&self, queue: &QueueRef, body: &str, group: &str) -> TestResult {
        self.engine
            .send_message(
                &self.caller,
                queue,
                SendMessageInput {
                    message_group_id: Some(group.to_string()),
                    ..body_input(body)
                },
            )
            .await?;
        Ok(())
    }

    /// Creates a mapping and waits until it is `Enabled`.
    async fn map(&self, input: CreateEventSourceMappingInput) -> TestResult<String> {
        let created = self
            .engine
            .create_event_source_mapping(ACCOUNT, input)
            .await?;
        assert_eq!(created.state, "Creating");
        self.wait_for_state(&created.uuid, "Enabled").await?;
        Ok(created.uuid)
    }

    async fn wait_for_state(&self, uuid: &str, state: &str) -> TestResult {
        let engine = self.engine.clone();
        eventually(&format!("mapping {uuid} is {state}"), || {
            let engine = engine.clone();
            async move {
                engine
                    .get_event_source_mapping(ACCOUNT, uuid)
                    .await
                    .is_ok_and(|mapping| mapping.state == state)
            }
        })
        .await
    }

    /// (visible, in flight) messages of a queue.
    async fn counts(&self, queue: &QueueRef) -> TestResult<(u64, u64)> {
        let attributes = self
            .engine
            .get_queue_attributes(
                queue,
                &[
                    "ApproximateNumberOfMessages".to_string(),
                    "ApproximateNumberOfMessagesNotVisible".to_string(),
                ],
            )
            .await?;
        let count = |name: &str| -> TestResult<u64> {
            Ok(attributes.get(name).ok_or("missing count")?.parse()?)
        };
        Ok((
            count("ApproximateNumberOfMessages")?,
            count("ApproximateNumberOfMessagesNotVisible")?,
        ))
    }

    async fn wait_until_empty(&self, queue: &QueueRef) -> TestResult {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.counts(queue).await? == (0, 0) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("queue {} never emptied", queue.name).into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits (at most 30 s) until `condition` holds.
async fn eventually<F, Fut>(what: &str, mut condition: F) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition().await {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting until {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn succeed(_: &Value) -> Result<Value, Value> {
    Ok(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_messages_reach_the_function_in_batches_and_are_deleted() -> TestResult {
    let h = Mappings::new().await?;
    let queue = h.queue("orders", &[]).await?;
    let received = h.recording_function("f", succeed).await?;
    h.map(mapping_input("orders", "f")).await?;
    for index in 0..25 {
        h.send(&queue, &format!("message-{index}")).await?;
    }
    h.wait_until_empty(&queue).await?;

    let mut bodies = received.bodies();
    bodies.sort();
    let mut expected: Vec<String> = (0..25).map(|index| format!("message-{index}")).collect();
    expected.sort();
    assert_eq!(bodies, expected);
    for event in received.events() {
        let records = event["Records"].as_array().ok_or("no Records")?;
        assert!(!records.is_empty() && records.len() <= 10, "{event}");
    }
    let record = &received.records()[0];
    assert_eq!(record["eventSource"], "aws:sqs");
    assert_eq!(record["eventSourceARN"], queue_arn("orders"));
    assert_eq!(record["awsRegion"], "us-east-1");
    assert_eq!(record["messageAttributes"], json!({}));
    assert_eq!(record["md5OfMessageAttributes"], Value::Null);
    assert_eq!(record["attributes"]["ApproximateReceiveCount"], "1");
    assert_eq!(record["attributes"]["SenderId"], "AIDATESTSENDER");
    for name in ["SentTimestamp", "ApproximateFirstReceiveTimestamp"] {
        let value = record["attributes"][name].as_str().ok_or(name)?;
        assert!(value.parse::<u64>().is_ok(), "{name} = {value}");
    }
    assert_eq!(
        record["md5OfBody"].as_str().map(str::len),
        Some(32),
        "{record}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batching_window_gathers_past_one_receive_up_to_batch_size() -> TestResult {
    let h = Mappings::new().await?;
    let queue = h.queue("bulk", &[]).await?;
    for index in 0..30 {
        h.send(&queue, &format!("m{index}")).await?;
    }
    let received = h.recording_function("f", succeed).await?;
    h.map(CreateEventSourceMappingInput {
        batch_size: Some(50),
        maximum_batching_window_in_seconds: Some(1),
        scaling_config: Some(ScalingConfig {
            maximum_concurrency: Some(2),
        }),
        ..mapping_input("bulk", "f")
    })
    .await?;
    h.wait_until_empty(&queue).await?;
    let sizes: Vec<usize> = received
        .events()
        .iter()
        .map(|event| event["Records"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 30, "{sizes:?}");
    // Two workers share 30 messages, each gathering until its window closes: one of them
    // holds at least 15 records, more than one receive can return.
    assert!(sizes.iter().any(|size| *size > 10), "{sizes:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reported_item_failures_return_only_those_messages() -> TestResult {
    let h = Mappings::new().await?;
    let queue = h.queue("partial", &[("VisibilityTimeout", "3")]).await?;
    for body in ["ok-1", "fail-2", "ok-3"] {
        h.send(&queue, body).await?;
    }
    // Fails messages whose body starts with "fail" on their first delivery only.
    let received = h
        .recording_function("f", |event| {
            let failures: Vec<Value> = event["Records"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|record| {
                    record["body"].as_str().unwrap_or("").starts_with("fail")
                        && record["attributes"]["ApproximateReceiveCount"] == "1"
                })
                .map(|record| json!({"itemIdentifier": record["messageId"]}))
                .collect();
            Ok(json!({"batchItemFailures": failures}))
        })
        .await?;
    h.map(CreateEventSourceMappingInput {
        function_response_types: Some(vec!["ReportBatchItemFailures".to_string()]),
        ..mapping_input("partial", "f")
    })
    .await?;
    h.wait_until_empty(&queue).await?;
    let deliveries: Vec<(String, String)> = received
        .records()
        .iter()
        .map(|record| {
            (
                record["body"].as_str().unwrap_or("").to_string(),
                record["attributes"]["ApproximateReceiveCount"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let mut sorted = deliveries.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            ("fail-2".to_string(), "1".to_string()),
            ("fail-2".to_string(), "2".to_string()),
            ("ok-1".to_string(), "1".to_string()),
            ("ok-3".to_string(), "1".to_string()),
        ],
        "{deliveries:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unusable_partial_responses_fail_the_whole_batch() -> TestResult {
    let h = Mappings::new().await?;
    let queue = h.queue("unusable", &[("VisibilityTimeout", "3")]).await?;
    h.send(&queue, "only").await?;
    // First delivery names a message that is not in the batch: a full failure.
    let received = h
        .recording_function("f", |event| {
            let first = event["Records"][0]["attributes"]["ApproximateReceiveCount"] == "1";
            Ok(if first {
                json!({"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]})
            } else {
                json!({"batchItemFailures": []})
            })
        })
        .await?;
    h.map(CreateEventSourceMappingInput {
        function_response_types: Some(vec!["ReportBatchItemFailures".to_string()]),
        ..mapping_input("unusable", "f")
    })
    .await?;
    h.wait_until_empty(&queue).await?;
    assert_eq!(received.bodies(), ["only", "only"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failing_batches_reach_the_dead_letter_queue_through_redrive() -> TestResult {
    let h = Mappings::new().await?;
    let dead_letters = h.queue("dead-letters", &[]).await?;
    let redrive = json!({
        "deadLetterTargetArn": queue_arn("dead-letters"),
        "maxReceiveCount": 2,
    })
    .to_string();
    let queue = h
        .queue(
            "failing",
            &[("VisibilityTimeout", "3"), ("RedrivePolicy", &redrive)],
        )
        .await?;
    let received = h
        .recording_function("f", |_| {
            Err(json!({"errorMessage": "boom", "errorType": "ValueError"}))
        })
        .await?;
    h.map(mapping_input("failing", "f")).await?;
    h.send(&queue, "poison").await?;
    let engine = h.engine.clone();
    let dlq = dead_letters.clone();
    eventually("the message is dead-lettered", || {
        let engine = engine.clone();
        let dlq = dlq.clone();
        async move {
            engine
                .get_queue_attributes(&dlq, &["ApproximateNumberOfMessages".to_string()])
                .await
                .is_ok_and(|attributes| {
                    attributes
                        .get("ApproximateNumberOfMessages")
                        .map(String::as_str)
                        == Some("1")
                })
        }
    })
    .await?;
    // Two deliveries (maxReceiveCount), nothing deleted by the mapping, then the redrive.
    assert_eq!(received.bodies(), ["poison", "poison"]);
    assert_eq!(h.counts(&queue).await?, (0, 0));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn filtered_out_messages_are_deleted_without_an_invocation() -> TestResult {
    let h = Mappings::new().await?;
    let queue = h.queue("filtered", &[]).await?;
    let received = h.recording_function("f", succeed).await?;
    h.map(CreateEventSourceMappingInput {
        filter_criteria: Some(FilterCriteria {
            filters: Some(vec![engine::lambda::Filter {
                pattern: Some(r#"{"body":{"kind":["keep"]}}"#.to_string()),
            }]),
        }),
        ..mapping_input("filtered", "f")
    })
    .await?;
    for body in [
        r#"{"kind":"keep","n":1}"#,
        r#"{"kind":"drop","n":2}"#,
        "kind keep, but not JSON",
        r#"{"kind":"keep","n":4}"#,
    ] {
        h.send(&queue, body).await?;
    }
    h.wait_until_empty(&queue).await?;
    let mut bodies = received.bodies();
    bodies.sort();
    assert_eq!(
        bodies,
        [r#"{"kind":"keep","n":1}"#, r#"{"kind":"keep","n":4}"#]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifo_groups_keep_their_order_one_batch_at_a_time() -> TestResult {
    let h = Mappings::new().await?;
    let queue = h
        .queue(
            "ordered.fifo",
            &[
                ("FifoQueue", "true"),
                ("ContentBasedDeduplication", "true"),
                ("VisibilityTimeout", "3"),
            ],
        )
        .await?;
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let overlaps: Arc<Mutex<Vec<String>>> = Arc::default();
    let processed: Arc<Mutex<HashMap<String, Vec<u32>>>> = Arc::default();
    {
        let (in_flight, overlaps, processed) =
            (in_flight.clone(), overlaps.clone(), processed.clone());
        h.function("f", 3, move |event| {
            let records = event["Records"].as_array().cloned().unwrap_or_default();
            let groups: HashSet<String> = records
                .iter()
                .map(|record| {
                    record["attributes"]["MessageGroupId"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            for group in &groups {
                if !in_flight.lock().unwrap().insert(group.clone()) {
                    overlaps.lock().unwrap().push(group.clone());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
            // The third message of group g1 fails on its first delivery: the whole batch
            // returns, and the group waits for it.
            let fail = records.iter().any(|record| {
                record["body"] == "g1:2" && record["attributes"]["ApproximateReceiveCount"] == "1"
            });
            if !fail {
                for record in &records {
                    let body = record["body"].as_str().unwrap_or("");
                    if let Some((group, index)) = body.split_once(':') {
                        processed
                            .lock()
                            .unwrap()
                            .entry(group.to_string())
                            .or_default()
                            .push(index.parse().unwrap_or(u32::MAX));
                    }
                }
            }
            for group in &groups {
                in_flight.lock().unwrap().remove(group);
            }
            if fail {
                Err(json!({"errorMessage": "try again", "errorType": "Retry"}))
            } else {
                Ok(Value::Null)
            }
        })
        .await?;
    }
    for index in 0..6 {
        for group in ["g1", "g2", "g3"] {
            h.send_to_group(&queue, &format!("{group}:{index}"), group)
                .await?;
        }
    }
    h.map(CreateEventSourceMappingInput {
        batch_size: Some(2),
        ..mapping_input("ordered.fifo", "f")
    })
    .await?;
    h.wait_until_empty(&queue).await?;
    assert!(
        overlaps.lock().unwrap().is_empty(),
        "a group was in two batches at once: {:?}",
        overlaps.lock().unwrap()
    );
    let processed = processed.lock().unwrap().clone();
    for group in ["g1", "g2", "g3"] {
        assert_eq!(
            processed.get(group),
            Some(&vec![0, 1, 2, 3, 4, 5]),
            "{group}: {processed:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disabled_mappings_leave_messages_and_resume_when_enabled() -> TestResult {
    let h = Mappings::new().await?;
    let queue = h.queue("paused", &[]).await?;
    let received = h.recording_function("f", succeed).await?;
    let uuid = h.map(mapping_input("paused", "f")).await?;
    let disabling = h
        .engine
        .update_event_source_mapping(
            ACCOUNT,
            &uuid,
            UpdateEventSourceMappingInput {
                enabled: Some(false),
                ..UpdateEventSourceMappingInput::default()
            },
        )
        .await?;
    assert_eq!(disabling.state, "Disabling");
    h.wait_for_state(&uuid, "Disabled").await?;
    h.send(&queue, "waits").await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(h.counts(&queue).await?, (1, 0));
    assert!(received.events().is_empty());

    let enabling = h
        .engine
        .update_event_source_mapping(
            ACCOUNT,
            &uuid,
            UpdateEventSourceMappingInput {
                enabled: Some(true),
                ..UpdateEventSourceMappingInput::default()
            },
        )
        .await?;
    assert_eq!(enabling.state, "Enabling");
    h.wait_until_empty(&queue).await?;
    assert_eq!(received.bodies(), ["waits"]);
    h.wait_for_state(&uuid, "Enabled").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleted_mappings_stop_polling_and_free_the_queue_function_pair() -> TestResult {
    let h = Mappings::new().await?;
    let queue = h.queue("deleted", &[]).await?;
    let received = h.recording_function("f", succeed).await?;
    let uuid = h.map(mapping_input("deleted", "f")).await?;
    let deleted = h.engine.delete_event_source_mapping(ACCOUNT, &uuid).await?;
    assert_eq!(deleted.state, "Deleting");
    assert!(matches!(
        h.engine.get_event_source_mapping(ACCOUNT, &uuid).await,
        Err(Error::FunctionNotFound(message)) if message == "The resource you requested does not exist."
    ));
    // The poller stops at once: a message sent now stays.
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.send(&queue, "stays").await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(h.counts(&queue).await?, (1, 0));
    assert!(received.events().is_empty());
    // The same queue and function can be mapped again.
    h.map(mapping_input("deleted", "f")).await?;
    h.wait_until_empty(&queue).await?;
    Ok(())
}

/// Expected outcome of one invalid create: the error variant's name and message.
fn describe(error: &Error) -> (&'static str, String) {
    let kind = match error {
        Error::LambdaInvalidParameterValue(_) => "InvalidParameterValue",
        Error::LambdaValidation(_) => "Validation",
        Error::ResourceConflict(_) => "ResourceConflict",
        Error::FunctionNotFound(_) => "ResourceNotFound",
        _ => "other",
    };
    (kind, error.to_string())
}

#[tokio::test]
async fn create_refuses_what_aws_refuses_with_its_messages() -> TestResult {
    let h = Mappings::new().await?;
    h.queue("std", &[]).await?;
    h.queue("fifo.fifo", &[("FifoQueue", "true")]).await?;
    h.queue("short", &[("VisibilityTimeout", "5")]).await?;
    h.function("f", 3, succeed).await?;
    h.function("slow", 60, succeed).await?;
    let pattern = |source: &str| FilterCriteria {
        filters: Some(vec![engine::lambda::Filter {
            pattern: Some(source.to_string()),
        }]),
    };
    let six_filters = FilterCriteria {
        filters: Some(
            (0..6)
                .map(|index| engine::lambda::Filter {
                    pattern: Some(format!(r#"{{"body":{{"n":[{index}]}}}}"#)),
                })
                .collect(),
        ),
    };
    let cases: Vec<(CreateEventSourceMappingInput, &str, &str)> = vec![
        (
            mapping_input("missing", "f"),
            "InvalidParameterValue",
            "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.",
        ),
        (
            mapping_input("std", "nobody"),
            "InvalidParameterValue",
            "Function does not exist",
        ),
        (
            CreateEventSourceMappingInput {
                batch_size: Some(0),
                ..mapping_input("std", "f")
            },
            "Validation",
            "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ),
        (
            CreateEventSourceMappingInput {
                batch_size: Some(10_001),
                maximum_batching_window_in_seconds: Some(1),
                ..mapping_input("std", "f")
            },
            "Validation",
            "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000",
        ),
        (
            CreateEventSourceMappingInput {
                batch_size: Some(11),
                ..mapping_input("std", "f")
            },
            "InvalidParameterValue",
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ),
        (
            CreateEventSourceMappingInput {
                batch_size: Some(11),
                ..mapping_input("fifo.fifo", "f")
            },
            "InvalidParameterValue",
            "Maximum batch size must be between 1 and 10 inclusive for FIFO queues",
        ),
        (
            CreateEventSourceMappingInput {
                maximum_batching_window_in_seconds: Some(1),
                ..mapping_input("fifo.fifo", "f")
            },
            "InvalidParameterValue",
            "Batching window is not supported for FIFO queues",
        ),
        (
            CreateEventSourceMappingInput {
                maximum_batching_window_in_seconds: Some(301),
                ..mapping_input("std", "f")
            },
            "Validation",
            "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300",
        ),
        (
            CreateEventSourceMappingInput {
                scaling_config: Some(ScalingConfig {
                    maximum_concurrency: Some(1),
                }),
                ..mapping_input("std", "f")
            },
            "Validation",
            "1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 2",
        ),
        (
            CreateEventSourceMappingInput {
                scaling_config: Some(ScalingConfig {
                    maximum_concurrency: Some(1001),
                }),
                ..mapping_input("std", "f")
            },
            "Validation",
            "1 validation error detected: Value '1001' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value less than or equal to 1000",
        ),
        (
            CreateEventSourceMappingInput {
                filter_criteria: Some(pattern("{\"body\": \"x\"}")),
                ..mapping_input("std", "f")
            },
            "InvalidParameterValue",
            "Invalid filter pattern definition.",
        ),
        (
            CreateEventSourceMappingInput {
                filter_criteria: Some(six_filters),
                ..mapping_input("std", "f")
            },
            "InvalidParameterValue",
            "The number of filters (6) exceeds the maximum of 5 for an event source mapping.",
        ),
        (
            CreateEventSourceMappingInput {
                function_response_types: Some(vec!["Everything".to_string()]),
                ..mapping_input("std", "f")
            },
            "Validation",
            "1 validation error detected: Value '[Everything]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]",
        ),
        (
            mapping_input("short", "slow"),
            "InvalidParameterValue",
            "Queue visibility timeout: 5 seconds is less than Function timeout: 60 seconds",
        ),
        (
            CreateEventSourceMappingInput {
                stream_only: engine::lambda::StreamOnlyParameters {
                    starting_position: Some(json!("LATEST")),
                    ..Default::default()
                },
                ..mapping_input("std", "f")
            },
            "InvalidParameterValue",
            "StartingPosition is not valid for SQS event sources.",
        ),
        (
            CreateEventSourceMappingInput {
                stream_only: engine::lambda::StreamOnlyParameters {
                    parallelization_factor: Some(json!(2)),
                    ..Default::default()
                },
                ..mapping_input("std", "f")
            },
            "InvalidParameterValue",
            "Unsupported ParallelizationFactor parameter for given event source mapping type.",
        ),
        (
            CreateEventSourceMappingInput {
                event_source_arn: None,
                ..mapping_input("std", "f")
            },
            "InvalidParameterValue",
            "Unrecognized event source.",
        ),
    ];
    for (input, kind, message) in cases {
        let described = format!("{input:?}");
        let error = h
            .engine
            .create_event_source_mapping(ACCOUNT, input)
            .await
            .err()
            .ok_or_else(|| format!("accepted: {described}"))?;
        assert_eq!(describe(&error), (kind, message.to_string()), "{described}");
    }

    let first = h
        .engine
        .create_event_source_mapping(ACCOUNT, mapping_input("std", "f"))
        .await?;
    let duplicate = h
        .engine
        .create_event_source_mapping(ACCOUNT, mapping_input("std", function_arn("f").as_str()))
        .await
        .err()
        .ok_or("the duplicate was accepted")?;
    assert_eq!(
        describe(&duplicate),
        (
            "ResourceConflict",
            format!(
                "An event source mapping with SQS arn (\" {} \") and function (\" f \") already exists. Please update or delete the existing mapping with UUID {}",
                queue_arn("std"),
                first.uuid
            )
        )
    );
    Ok(())
}

#[tokio::test]
async fn create_answers_lambdas_shape_and_list_pages_and_filters() -> TestResult {
    let h = Mappings::new().await?;
    h.queue("a", &[]).await?;
    h.queue("b", &[]).await?;
    h.function("f", 3, succeed).await?;
    h.function("g", 3, succeed).await?;
    let created = h
        .engine
        .create_event_source_mapping(
            ACCOUNT,
            CreateEventSourceMappingInput {
                enabled: Some(false),
                ..mapping_input("a", "f")
            },
        )
        .await?;
    let json = serde_json::to_value(&created)?;
    assert_eq!(json["State"], "Disabled");
    assert_eq!(json["BatchSize"], 10);
    assert_eq!(json["MaximumBatchingWindowInSeconds"], 0);
    assert_eq!(json["FunctionResponseTypes"], json!([]));
    assert_eq!(json["StateTransitionReason"], "USER_INITIATED");
    assert_eq!(json["FunctionArn"], function_arn("f"));
    assert_eq!(json["EventSourceArn"], queue_arn("a"));
    assert_eq!(
        json["EventSourceMappingArn"],
        format!(
            "arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{}",
            created.uuid
        )
    );
    assert!(json["LastModified"].is_f64());
    for (queue, function) in [("a", "g"), ("b", "f"), ("b", "g")] {
        h.engine
            .create_event_source_mapping(
                ACCOUNT,
                CreateEventSourceMappingInput {
                    enabled: Some(false),
                    ..mapping_input(queue, function)
                },
            )
            .await?;
    }
    let mut seen = Vec::new();
    let mut marker = None;
    for _ in 0..10 {
        let page = h
            .engine
            .list_event_source_mappings(ACCOUNT, None, None, marker.as_deref(), Some(3))
            .await?;
        seen.extend(page.event_source_mappings.into_iter().map(|m| m.uuid));
        marker = page.next_marker;
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 4);
    let of_function_f = h
        .engine
        .list_event_source_mappings(ACCOUNT, None, Some("f"), None, None)
        .await?;
    assert_eq!(of_function_f.event_source_mappings.len(), 2);
    let of_queue_b_and_g = h
        .engine
        .list_event_source_mappings(
            ACCOUNT,
            Some(&queue_arn("b")),
            Some(&function_arn("g")),
            None,
            None,
        )
        .await?;
    assert_eq!(of_queue_b_and_g.event_source_mappings.len(), 1);
    assert_eq!(
        of_queue_b_and_g.event_source_mappings[0].function_arn,
        function_arn("g")
    );
    Ok(())
}

#[tokio::test]
async fn update_validates_the_merged_settings_and_moves_the_function() -> TestResult {
    let h = Mappings::new().await?;
    h.queue("q", &[]).await?;
    h.function("f", 3, succeed).await?;
    h.function("g", 3, succeed).await?;
    let uuid = h.map(mapping_input("q", "f")).await?;
    let too_big = h
        .engine
        .update_event_source_mapping(
            ACCOUNT,
            &uuid,
            UpdateEventSourceMappingInput {
                batch_size: Some(100),
                ..UpdateEventSourceMappingInput::default()
            },
        )
        .await;
    assert!(
        matches!(too_big, Err(Error::LambdaInvalidParameterValue(m)) if m.starts_with("Maximum batch window"))
    );
    let updated = h
        .engine
        .update_event_source_mapping(
            ACCOUNT,
            &uuid,
            UpdateEventSourceMappingInput {
                function_name: Some("g".to_string()),
                batch_size: Some(100),
                maximum_batching_window_in_seconds: Some(2),
                ..UpdateEventSourceMappingInput::default()
            },
        )
        .await?;
    assert_eq!(updated.state, "Updating");
    assert_eq!(updated.function_arn, function_arn("g"));
    assert_eq!(updated.batch_size, 100);
    h.wait_for_state(&uuid, "Enabled").await?;
    // The pair (q, f) is free again, (q, g) is taken.
    h.engine
        .create_event_source_mapping(
            ACCOUNT,
            CreateEventSourceMappingInput {
                enabled: Some(false),
                ..mapping_input("q", "f")
            },
        )
        .await?;
    assert!(matches!(
        h.engine
            .create_event_source_mapping(ACCOUNT, mapping_input("q", "g"))
            .await,
        Err(Error::ResourceConflict(_))
    ));
    assert!(matches!(
        h.engine
            .update_event_source_mapping(
                ACCOUNT,
                "no-such-uuid",
                UpdateEventSourceMappingInput::default()
            )
            .await,
        Err(Error::FunctionNotFound(_))
    ));
    Ok(())
}
