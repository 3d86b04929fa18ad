//! Shared fixtures of the engine tests: a fresh store (SQLite in a temporary directory, or a
//! fresh PostgreSQL database with `EDDY_TEST_STORE=postgres`), an engine on a manual clock,
//! and small helpers for the common SQS calls.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use engine::sqs::{
    Caller, CreateQueueInput, QueueRef, ReceiveMessageInput, ReceivedMessage, SendMessageInput,
    SendMessageOutput,
};
use engine::{CancellationToken, Engine, EngineConfig, ManualClock};

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// An arbitrary fixed start, so timestamps in failures are readable.
pub const START: i64 = 1_700_000_000_000;

pub struct Harness {
    pub engine: Engine,
    pub clock: ManualClock,
    pub caller: Caller,
    pub shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new() -> TestResult<Harness> {
        let dir = tempfile::tempdir()?;
        let store = store::testing::open_test_store(dir.path()).await?;
        let clock = ManualClock::new(START);
        let shutdown = CancellationToken::new();
        let engine = Engine::new(
            store,
            Arc::new(clock.clone()),
            EngineConfig::default(),
            shutdown.clone(),
        );
        let caller = Caller {
            account: engine.config().default_account.clone(),
            sender_id: "AIDATESTSENDER".to_string(),
        };
        Ok(Harness {
            engine,
            clock,
            caller,
            shutdown,
            _dir: dir,
        })
    }

    pub fn advance_secs(&self, seconds: i64) {
        self.clock.advance(seconds * 1000);
    }

    pub async fn queue(&self, name: &str, attributes: &[(&str, &str)]) -> TestResult<QueueRef> {
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

    pub async fn fifo_queue(
        &self,
        name: &str,
        attributes: &[(&str, &str)],
    ) -> TestResult<QueueRef> {
        let mut all = vec![("FifoQueue", "true")];
        all.extend_from_slice(attributes);
        self.queue(name, &all).await
    }

    pub async fn send(&self, queue: &QueueRef, body: &str) -> TestResult<SendMessageOutput> {
        Ok(self
            .engine
            .send_message(&self.caller, queue, body_input(body))
            .await?)
    }

    pub async fn send_to_group(
        &self,
        queue: &QueueRef,
        body: &str,
        group: &str,
        deduplication_id: Option<&str>,
    ) -> TestResult<SendMessageOutput> {
        let input = SendMessageInput {
            message_group_id: Some(group.to_string()),
            message_deduplication_id: deduplication_id.map(str::to_string),
            ..body_input(body)
        };
        Ok(self.engine.send_message(&self.caller, queue, input).await?)
    }

    /// Receives without waiting, asking for every system attribute.
    pub async fn receive(&self, queue: &QueueRef, max: i64) -> TestResult<Vec<ReceivedMessage>> {
        Ok(self
            .engine
            .receive_message(
                queue,
                ReceiveMessageInput {
                    max_number_of_messages: Some(max),
                    wait_time_seconds: Some(0),
                    message_system_attribute_names: vec!["All".to_string()],
                    message_attribute_names: vec!["All".to_string()],
                    ..Default::default()
                },
            )
            .await?)
    }

    pub async fn attribute(&self, queue: &QueueRef, name: &str) -> TestResult<Option<String>> {
        let attributes = self
            .engine
            .get_queue_attributes(queue, &[name.to_string()])
            .await?;
        Ok(attributes.get(name).cloned())
    }

    pub async fn count(&self, queue: &QueueRef, name: &str) -> TestResult<u64> {
        Ok(self
            .attribute(queue, name)
            .await?
            .ok_or("missing count attribute")?
            .parse()?)
    }
}

pub fn body_input(body: &str) -> SendMessageInput {
    SendMessageInput {
        body: body.to_string(),
        ..Default::default()
    }
}

pub fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn bodies(messages: &[ReceivedMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.body.as_str()).collect()
}
