//! Asynchronous invocation through the `Engine` API on a manual clock: retry timing and
//! attempt counting, maximum event age, throttle backoff, reserved concurrency 0,
//! destinations and dead-letter formats, event invoke configurations and their checks.
//!
//! Functions here run as real processes (a `provided.al2023` bootstrap that only sleeps),
//! but their Runtime API is a scripted stand-in ([`ScriptedRuntime`]) that answers each
//! event from the test itself: `{"fail": …}` events fail with a `ValueError` document,
//! others succeed with `{"ok": true, "event": …}`. `Engine::run_async_invocations` runs
//! what is due, so the clock alone decides when retries happen.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Harness, TestResult};
use engine::Error;
use engine::lambda::{
    ASYNC_QUEUE_ACCOUNT, AsyncInvocationSettings, ConcurrencyGate, CreateFunctionInput,
    DeadLetterConfig, DestinationConfig, EventInvokeConfigInput, FunctionCode, FunctionPlatform,
    FunctionRunner, InvocationType, InvokeInput, LambdaConfig, OnDestination, RuntimeApi,
    RuntimeApiServer, UpdateFunctionConfigurationInput,
};
use engine::sqs::{ListQueuesInput, QueueRef, ReceivedMessage};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";
const ACCOUNT: &str = "000000000000";

/// One event as the function saw it.
#[derive(Debug, Clone)]
struct Call {
    request_id: String,
    payload: Value,
}

/// A Runtime API that answers from the test instead of from the process.
#[derive(Clone, Default)]
struct ScriptedRuntime {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl RuntimeApiServer for ScriptedRuntime {
    fn serve(&self, listener: TcpListener, runtime_api: RuntimeApi, stop: CancellationToken) {
        drop(listener);
        let calls = self.calls.clone();
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    _ = stop.cancelled() => break,
                    next = runtime_api.next() => next,
                };
                let Ok(invocation) = next else { break };
                let payload: Value =
                    serde_json::from_slice(&invocation.payload).unwrap_or(Value::Null);
                calls.lock().unwrap_or_else(|e| e.into_inner()).push(Call {
                    request_id: invocation.request_id.clone(),
                    payload: payload.clone(),
                });
                let answered = if payload.get("fail").is_some() {
                    let body = json!({
                        "errorMessage": "boom",
                        "errorType": "ValueError",
                        "requestId": invocation.request_id,
                        "stackTrace": [],
                    });
                    runtime_api.error(&invocation.request_id, body.to_string().into_bytes(), None)
                } else {
                    let body = json!({"ok": true, "event": payload});
                    runtime_api.respond(&invocation.request_id, body.to_string().into_bytes())
                };
                if answered.is_err() {
                    break;
                }
            }
        });
    }
}

struct AsyncHarness {
    h: Harness,
    runtime: ScriptedRuntime,
    concurrency: ConcurrencyGate,
    _code: tempfile::TempDir,
}

impl AsyncHarness {
    async fn new() -> TestResult<AsyncHarness> {
        let h = Harness::new().await?;
        let code = tempfile::tempdir()?;
        let runtime = ScriptedRuntime::default();
        let concurrency = ConcurrencyGate::new(10);
        h.engine.set_function_platform(FunctionPlatform {
            runner: FunctionRunner::new(LambdaConfig::default(), Arc::new(runtime.clone())),
            data_dir: code.path().to_path_buf(),
            concurrency: concurrency.clone(),
        });
        h.engine
            .set_async_invocation_settings(AsyncInvocationSettings::default());
        Ok(AsyncHarness {
            h,
            runtime,
            concurrency,
            _code: code,
        })
    }

    fn calls(&self) -> Vec<Call> {
        self.runtime
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn function(&self, name: &str) -> TestResult {
        self.function_with(name, None).await
    }

    async fn function_with(&self, name: &str, dead_letter: Option<&str>) -> TestResult {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        writer.start_file("bootstrap", options)?;
        writer.write_all(b"#!/bin/sh\nexec sleep 300\n")?;
        let zip = writer.finish()?.into_inner();
        self.h
            .engine
            .create_function(
                ACCOUNT,
                CreateFunctionInput {
                    function_name: name.to_string(),
                    runtime: Some("provided.al2023".to_string()),
                    role: Some(ROLE.to_string()),
                    handler: Some("bootstrap".to_string()),
                    code: FunctionCode {
                        zip_file: Some(zip),
                        ..FunctionCode::default()
                    },
                    dead_letter_config: dead_letter.map(|arn| DeadLetterConfig {
                        target_arn: Some(arn.to_string()),
                    }),
                    ..CreateFunctionInput::default()
                },
            )
            .await?;
        Ok(())
    }

    async fn invoke_event(&self, name: &str, payload: &str) -> TestResult<String> {
        let accepted = self
            .h
            .engine
            .invoke(
                ACCOUNT,
                InvokeInput {
                    function_name: name.to_string(),
                    qualifier: None,
                    invocation_type: InvocationType::Event,
                    payload: payload.as_bytes().to_vec(),
                    client_context: None,
                },
            )
            .await?
            .ok_or("an accepted event")?;
        assert!(accepted.payload.is_empty());
        Ok(accepted.request_id)
    }

    async fn configure(
        &self,
        name: &str,
        retries: Option<i64>,
        age: Option<i64>,
        on_success: Option<&str>,
        on_failure: Option<&str>,
    ) -> TestResult {
        let destination = |arn: Option<&str>| OnDestination {
            destination: arn.map(str::to_string),
        };
        self.h
            .engine
            .put_function_event_invoke_config(
                ACCOUNT,
                name,
                None,
                EventInvokeConfigInput {
                    maximum_retry_attempts: retries,
                    maximum_event_age_in_seconds: age,
                    destination_config: Some(DestinationConfig {
                        on_success: destination(on_success),
                        on_failure: destination(on_failure),
                    }),
                },
            )
            .await?;
        Ok(())
    }

    async fn run(&self) -> TestResult<usize> {
        Ok(self.h.engine.run_async_invocations().await?)
    }

    async fn queue(&self, name: &str) -> TestResult<(QueueRef, String)> {
        let queue = self.h.queue(name, &[]).await?;
        let arn = self.h.engine.queue_arn(&queue);
        Ok((queue, arn))
    }

    /// Every message of `queue`, parsed from JSON.
    async fn records(&self, queue: &QueueRef) -> TestResult<Vec<Value>> {
        let messages = self.h.receive(queue, 10).await?;
        messages
            .iter()
            .map(|message| Ok(serde_json::from_str(&message.body)?))
            .collect()
    }
}

fn payloads(calls: &[Call]) -> Vec<Value> {
    calls.iter().map(|call| call.payload.clone()).collect()
}

#[tokio::test]
async fn event_invoke_is_accepted_then_run_once_with_its_request_id() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    let request_id = a.invoke_event("f", r#"{"n": 1}"#).await?;
    assert!(
        a.calls().is_empty(),
        "nothing runs before a poller takes it"
    );
    assert_eq!(a.run().await?, 1);
    let calls = a.calls();
    assert_eq!(payloads(&calls), [json!({"n": 1})]);
    assert_eq!(calls[0].request_id, request_id);
    assert_eq!(a.run().await?, 0, "a success is not run again");
    Ok(())
}

#[tokio::test]
async fn failing_event_gets_three_attempts_a_minute_then_two_apart() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    let (failures, failures_arn) = a.queue("failures").await?;
    a.configure("f", None, None, None, Some(&failures_arn))
        .await?;
    let request_id = a.invoke_event("f", r#"{"fail": true, "order": 7}"#).await?;

    a.run().await?;
    assert_eq!(a.calls().len(), 1);
    a.h.advance_secs(59);
    a.run().await?;
    assert_eq!(a.calls().len(), 1, "the second attempt waits a minute");
    a.h.advance_secs(1);
    a.run().await?;
    assert_eq!(a.calls().len(), 2);
    a.h.advance_secs(119);
    a.run().await?;
    assert_eq!(a.calls().len(), 2, "the third attempt waits two minutes");
    assert!(a.records(&failures).await?.is_empty());
    a.h.advance_secs(1);
    a.run().await?;
    let calls = a.calls();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|call| call.request_id == request_id));

    let records = a.records(&failures).await?;
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["version"], "1.0");
    assert_eq!(record["requestContext"]["requestId"], request_id.as_str());
    assert_eq!(
        record["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"
    );
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(record["requestPayload"], json!({"fail": true, "order": 7}));
    assert_eq!(
        record["responseContext"],
        json!({"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"})
    );
    assert_eq!(record["responsePayload"]["errorMessage"], "boom");
    assert_eq!(record["responsePayload"]["errorType"], "ValueError");
    // START + 3 attempts + 3 minutes = 2023-11-14T22:16:20.000Z
    assert_eq!(record["timestamp"], "2023-11-14T22:16:20.000Z");
    a.h.advance_secs(600);
    assert_eq!(a.run().await?, 0, "nothing is left");
    assert_eq!(a.calls().len(), 3);
    Ok(())
}

#[tokio::test]
async fn success_record_goes_to_the_on_success_queue() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    let (successes, successes_arn) = a.queue("successes").await?;
    let (failures, failures_arn) = a.queue("failures").await?;
    a.configure("f", None, None, Some(&successes_arn), Some(&failures_arn))
        .await?;
    let request_id = a.invoke_event("f", r#"{"order": 8}"#).await?;
    a.run().await?;
    let records = a.records(&successes).await?;
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["requestContext"]["condition"], "Success");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(record["requestContext"]["requestId"], request_id.as_str());
    assert_eq!(
        record["responseContext"],
        json!({"statusCode": 200, "executedVersion": "$LATEST"})
    );
    assert_eq!(
        record["responsePayload"],
        json!({"ok": true, "event": {"order": 8}})
    );
    assert!(a.records(&failures).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn zero_retries_means_one_attempt_and_a_dead_letter_message() -> TestResult {
    let a = AsyncHarness::new().await?;
    let (dead_letters, dead_letters_arn) = a.queue("dead-letters").await?;
    a.function_with("f", Some(&dead_letters_arn)).await?;
    a.configure("f", Some(0), None, None, None).await?;
    let request_id = a.invoke_event("f", r#"{"fail": "now"}"#).await?;
    a.run().await?;
    a.h.advance_secs(600);
    a.run().await?;
    assert_eq!(a.calls().len(), 1);
    let messages: Vec<ReceivedMessage> = a.h.receive(&dead_letters, 10).await?;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.body, r#"{"fail": "now"}"#, "the original event");
    let attribute = |name: &str| {
        let value = &message.message_attributes[name];
        (value.data_type.clone(), value.string_value.clone())
    };
    assert_eq!(
        attribute("RequestID"),
        ("String".to_string(), Some(request_id))
    );
    assert_eq!(
        attribute("ErrorCode"),
        ("Number".to_string(), Some("200".to_string()))
    );
    assert_eq!(
        attribute("ErrorMessage"),
        ("String".to_string(), Some("boom".to_string()))
    );
    Ok(())
}

#[tokio::test]
async fn an_event_older_than_its_maximum_age_fails_as_event_age_exceeded() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    let (failures, failures_arn) = a.queue("failures").await?;
    a.configure("f", Some(2), Some(60), None, Some(&failures_arn))
        .await?;
    a.invoke_event("f", r#"{"fail": 1}"#).await?;
    a.run().await?;
    assert_eq!(a.calls().len(), 1);
    // The retry would wait 60 s, which is the whole age: it is taken at expiry.
    a.h.advance_secs(61);
    a.run().await?;
    assert_eq!(a.calls().len(), 1, "an expired event is not run");
    let records = a.records(&failures).await?;
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["requestContext"]["condition"],
        "EventAgeExceeded"
    );
    assert_eq!(records[0]["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(records[0]["responsePayload"]["errorMessage"], "boom");
    Ok(())
}

#[tokio::test]
async fn throttled_events_back_off_exponentially_without_using_attempts() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    let (successes, successes_arn) = a.queue("successes").await?;
    a.configure("f", Some(0), None, Some(&successes_arn), None)
        .await?;
    let function = (ACCOUNT.to_string(), "f".to_string());
    a.concurrency.set_reservation(function.clone(), Some(1));
    let held = a.concurrency.try_acquire(&function);
    assert!(held.is_ok());

    a.invoke_event("f", r#"{"n": 1}"#).await?;
    assert_eq!(a.run().await?, 1, "taken and throttled");
    a.h.advance_secs(1);
    assert_eq!(a.run().await?, 1, "1 s later: throttled again");
    a.h.advance_secs(1);
    assert_eq!(a.run().await?, 0, "now it waits 2 s");
    a.h.advance_secs(1);
    assert_eq!(a.run().await?, 1, "throttled a third time");
    a.h.advance_secs(3);
    assert_eq!(a.run().await?, 0, "now it waits 4 s");
    assert!(a.calls().is_empty());

    drop(held);
    a.h.advance_secs(1);
    assert_eq!(a.run().await?, 1);
    let records = a.records(&successes).await?;
    assert_eq!(records.len(), 1, "throttles did not use the only attempt");
    assert_eq!(records[0]["requestContext"]["approximateInvokeCount"], 1);
    Ok(())
}

#[tokio::test]
async fn reserved_concurrency_zero_sends_events_straight_to_failure() -> TestResult {
    let a = AsyncHarness::new().await?;
    let (dead_letters, dead_letters_arn) = a.queue("dead-letters").await?;
    a.function_with("f", Some(&dead_letters_arn)).await?;
    let (failures, failures_arn) = a.queue("failures").await?;
    a.configure("f", None, None, None, Some(&failures_arn))
        .await?;
    a.concurrency
        .set_reservation((ACCOUNT.to_string(), "f".to_string()), Some(0));
    a.invoke_event("f", r#"{"n": 2}"#).await?;
    a.run().await?;
    assert!(a.calls().is_empty());
    let records = a.records(&failures).await?;
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["requestContext"]["condition"],
        "RetriesExhausted"
    );
    assert_eq!(records[0]["requestContext"]["approximateInvokeCount"], 0);
    assert_eq!(records[0]["responseContext"]["statusCode"], 429);
    let dead = a.h.receive(&dead_letters, 10).await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].message_attributes["ErrorCode"]
            .string_value
            .as_deref(),
        Some("429")
    );
    Ok(())
}

#[tokio::test]
async fn on_success_to_a_function_invokes_it_with_the_record() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("first").await?;
    a.function("second").await?;
    a.configure(
        "first",
        None,
        None,
        Some("arn:aws:lambda:us-east-1:000000000000:function:second"),
        None,
    )
    .await?;
    a.invoke_event("first", r#"{"step": 1}"#).await?;
    a.run().await?;
    a.run().await?;
    let calls = a.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].payload["requestContext"]["condition"], "Success");
    assert_eq!(calls[1].payload["requestPayload"], json!({"step": 1}));
    Ok(())
}

#[tokio::test]
async fn internal_queues_are_invisible_and_go_with_their_function() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    a.configure("f", Some(1), None, None, None).await?;
    a.invoke_event("f", "{}").await?;
    let listed =
        a.h.engine
            .list_queues(&a.h.caller, ListQueuesInput::default())
            .await?;
    assert!(
        listed.queues.is_empty(),
        "clients never see internal queues"
    );
    let internal =
        a.h.engine
            .store()
            .list_queues(Some(ASYNC_QUEUE_ACCOUNT), "", None, 10)
            .await?;
    assert_eq!(internal.len(), 1);

    a.h.engine.delete_function(ACCOUNT, "f", None).await?;
    let internal =
        a.h.engine
            .store()
            .list_queues(Some(ASYNC_QUEUE_ACCOUNT), "", None, 10)
            .await?;
    assert!(internal.is_empty(), "pending events go with the function");
    a.function("f").await?;
    assert!(matches!(
        a.h.engine.get_function_event_invoke_config(ACCOUNT, "f", None).await,
        Err(Error::FunctionNotFound(m)) if m.ends_with("doesn't have an EventInvokeConfig")
    ));
    assert_eq!(a.run().await?, 0);
    assert!(
        a.calls().is_empty(),
        "a new function never sees the old one's events"
    );
    Ok(())
}

#[tokio::test]
async fn event_payloads_are_limited_to_one_mebibyte() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    let largest = format!("\"{}\"", "x".repeat(1_048_576 - 2));
    a.invoke_event("f", &largest).await?;
    let too_large = format!("\"{}\"", "x".repeat(1_048_576 - 1));
    assert!(matches!(
        a.invoke_event("f", &too_large).await,
        Err(error) if error.to_string() == "Request must be smaller than 1048576 bytes for the InvokeFunction operation"
    ));
    assert_eq!(a.run().await?, 1);
    assert_eq!(a.calls()[0].payload.as_str().map(str::len), Some(1_048_574));
    Ok(())
}

#[tokio::test]
async fn put_replaces_update_merges_and_list_pages() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    let (_, queue_arn) = a.queue("q").await?;
    let engine = &a.h.engine;
    let put = engine
        .put_function_event_invoke_config(
            ACCOUNT,
            "f",
            None,
            EventInvokeConfigInput {
                maximum_retry_attempts: Some(1),
                destination_config: Some(DestinationConfig {
                    on_failure: OnDestination {
                        destination: Some(queue_arn.clone()),
                    },
                    ..DestinationConfig::default()
                }),
                ..EventInvokeConfigInput::default()
            },
        )
        .await?;
    assert_eq!(
        put.function_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"
    );
    assert_eq!(put.last_modified, 1_700_000_000.0);
    let updated = engine
        .update_function_event_invoke_config(
            ACCOUNT,
            "f",
            None,
            EventInvokeConfigInput {
                maximum_event_age_in_seconds: Some(120),
                ..EventInvokeConfigInput::default()
            },
        )
        .await?;
    assert_eq!(updated.maximum_retry_attempts, Some(1));
    assert_eq!(updated.maximum_event_age_in_seconds, Some(120));
    assert_eq!(
        updated.destination_config.on_failure.destination.as_deref(),
        Some(queue_arn.as_str())
    );
    let replaced = engine
        .put_function_event_invoke_config(
            ACCOUNT,
            "f",
            Some("$LATEST"),
            EventInvokeConfigInput {
                maximum_event_age_in_seconds: Some(300),
                ..EventInvokeConfigInput::default()
            },
        )
        .await?;
    assert_eq!(replaced.maximum_retry_attempts, None);
    assert_eq!(replaced.destination_config, DestinationConfig::default());
    let got = engine
        .get_function_event_invoke_config(ACCOUNT, "f", None)
        .await?;
    assert_eq!(got, replaced);
    let page = engine
        .list_function_event_invoke_configs(ACCOUNT, "f", None, None)
        .await?;
    assert_eq!(page.configs, [replaced]);
    assert_eq!(page.next_marker, None);
    engine
        .delete_function_event_invoke_config(ACCOUNT, "f", None)
        .await?;
    assert!(matches!(
        engine.delete_function_event_invoke_config(ACCOUNT, "f", None).await,
        Err(Error::FunctionNotFound(m)) if m == "The function arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST doesn't have an EventInvokeConfig"
    ));
    assert!(matches!(
        engine.update_function_event_invoke_config(ACCOUNT, "f", None, EventInvokeConfigInput { maximum_retry_attempts: Some(0), ..EventInvokeConfigInput::default() }).await,
        Err(Error::FunctionNotFound(m)) if m.ends_with("doesn't have an EventInvokeConfig")
    ));
    Ok(())
}

#[tokio::test]
async fn event_invoke_configs_are_checked_as_lambda_checks_them() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function("f").await?;
    let engine = &a.h.engine;
    let put = |retries: Option<i64>, age: Option<i64>, failure: Option<&str>| {
        let input = EventInvokeConfigInput {
            maximum_retry_attempts: retries,
            maximum_event_age_in_seconds: age,
            destination_config: failure.map(|arn| DestinationConfig {
                on_failure: OnDestination {
                    destination: Some(arn.to_string()),
                },
                ..DestinationConfig::default()
            }),
        };
        engine.put_function_event_invoke_config(ACCOUNT, "f", None, input)
    };
    assert!(matches!(
        put(Some(3), None, None).await,
        Err(Error::LambdaValidation(m)) if m == "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2"
    ));
    assert!(matches!(
        put(Some(-1), Some(59), None).await,
        Err(Error::LambdaValidation(m)) if m.starts_with("2 validation errors detected: ")
    ));
    assert!(matches!(
        put(None, Some(21_601), None).await,
        Err(Error::LambdaValidation(m)) if m.contains("'maximumEventAgeInSeconds'")
    ));
    assert!(matches!(
        put(None, None, None).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "You must specify at least one of error handling or destination setting."
    ));
    assert!(matches!(
        put(None, None, Some("arn:aws:sqs:us-east-1:000000000000:q.fifo")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "The destination ARN arn:aws:sqs:us-east-1:000000000000:q.fifo is invalid."
    ));
    assert!(matches!(
        put(None, None, Some("arn:aws:lambda:us-east-1:000000000000:function:f")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "You can't specify the function as a destination for itself."
    ));
    assert!(matches!(
        put(None, None, Some("arn:aws:lambda:us-east-1:000000000000:function:missing")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m.ends_with("function:missing is invalid.")
    ));
    assert!(matches!(
        put(None, None, Some("arn:aws:sns:us-east-1:000000000000:topic")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m.contains("SNS")
    ));
    assert!(matches!(
        put(None, None, Some("arn:aws:dynamodb:us-east-1:000000000000:table/t")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=arn:aws:dynamodb:us-east-1:000000000000:table/t)) is invalid."
    ));
    assert!(matches!(
        put(None, None, Some("not-an-arn")).await,
        Err(Error::LambdaValidation(m)) if m.contains("'destinationConfig.onFailure.destination'")
    ));
    assert!(matches!(
        engine.put_function_event_invoke_config(ACCOUNT, "missing", None, EventInvokeConfigInput { maximum_retry_attempts: Some(1), ..EventInvokeConfigInput::default() }).await,
        Err(Error::FunctionNotFound(m)) if m == "The function doesn't exist."
    ));
    assert!(matches!(
        engine.get_function_event_invoke_config(ACCOUNT, "missing", None).await,
        Err(Error::FunctionNotFound(m)) if m == "The function arn:aws:lambda:us-east-1:000000000000:function:missing:$LATEST doesn't have an EventInvokeConfig"
    ));
    Ok(())
}

#[tokio::test]
async fn dead_letter_config_is_checked_and_kept() -> TestResult {
    let a = AsyncHarness::new().await?;
    a.function_with("f", Some("arn:aws:sqs:us-east-1:000000000000:dlq"))
        .await?;
    let engine = &a.h.engine;
    let configuration = engine
        .get_function_configuration(ACCOUNT, "f", None)
        .await?;
    assert_eq!(
        configuration.dead_letter_config,
        Some(DeadLetterConfig {
            target_arn: Some("arn:aws:sqs:us-east-1:000000000000:dlq".to_string())
        })
    );
    let update = |arn: &str| UpdateFunctionConfigurationInput {
        dead_letter_config: Some(DeadLetterConfig {
            target_arn: Some(arn.to_string()),
        }),
        ..UpdateFunctionConfigurationInput::default()
    };
    assert!(matches!(
        engine.update_function_configuration(ACCOUNT, "f", update("arn:aws:sqs:us-east-1:000000000000:dlq.fifo")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m == "Invalid dead letter queue ARN: FIFO SQS queue is not supported for dead letter configuration"
    ));
    assert!(matches!(
        engine.update_function_configuration(ACCOUNT, "f", update("arn:aws:lambda:us-east-1:000000000000:function:g")).await,
        Err(Error::LambdaInvalidParameterValue(m)) if m.starts_with("Invalid dead letter queue ARN: ")
    ));
    let cleared = engine
        .update_function_configuration(ACCOUNT, "f", update(""))
        .await?;
    assert_eq!(cleared.dead_letter_config, None);
    let mut bad = CreateFunctionInput {
        function_name: "g".to_string(),
        ..CreateFunctionInput::default()
    };
    bad.dead_letter_config = Some(DeadLetterConfig {
        target_arn: Some("dlq".to_string()),
    });
    assert!(engine.create_function(ACCOUNT, bad).await.is_err());
    Ok(())
}
