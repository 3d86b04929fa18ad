//! eddy's semantics: what queues (and later topics, functions and mappings) do, with no
//! HTTP and no SQL.
//!
//! # Layout
//!
//! - `clock.rs`: the one source of "now"; tests advance a [`ManualClock`].
//! - `error.rs`: the engine's one error enum, one variant per AWS error.
//! - `iam/`: IAM roles and their policies, stored and returned but not enforced.
//! - `lambda/`: the Lambda control plane (functions stored with their code, Invoke,
//!   versions, aliases, asynchronous invocation, event source mappings and their pollers)
//!   and function execution: environments (processes speaking the Lambda Runtime API) and
//!   `FunctionRunner::invoke`.
//! - `logs/`: the CloudWatch Logs API (describe groups and streams, get and filter events)
//!   over the function logs this node keeps in memory.
//! - `sns/`: SNS topics, subscriptions, Publish with durable fan-out to queues, functions
//!   and HTTP endpoints, filter policies and message signing.
//! - `sqs/`: every SQS action as a method on [`Engine`], plus its input and output types.
//! - `workers.rs`: named background workers (retention, deduplication expiry, message move
//!   tasks, stopping idle function environments) under one shutdown signal.
//!
//! # Invariants
//!
//! - The engine never imports HTTP types (axum, hyper) and never writes SQL.
//! - Every acknowledged change is committed by the store before the method returns.
//! - "Now" is read from the engine's clock only.

pub mod clock;
mod error;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod sns;
pub mod sqs;
mod workers;
pub use workers::Workers;

use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use store::Store;
pub use tokio_util::sync::CancellationToken;

/// Settings of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The account of unsigned requests and of access keys with no account of their own.
    pub default_account: String,
    pub region: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            default_account: "000000000000".to_string(),
            region: "us-east-1".to_string(),
        }
    }
}

/// The handle the api layer calls. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    /// Cancelled when the server shuts down: long polls return early, workers stop.
    shutdown: CancellationToken,
    /// SQS state that lives only in this process (long-poll notifiers).
    sqs: sqs::SqsState,
    /// What Invoke runs functions with; set once by the server (`set_function_platform`).
    functions: std::sync::OnceLock<lambda::FunctionPlatform>,
    /// Asynchronous invocation's in-memory state (known internal queues, the worker).
    async_invocations: lambda::AsyncInvocations,
    /// Wakes this node's event source mapping worker when a mapping changes.
    mappings: lambda::MappingState,
    /// SNS's in-memory state (the platform, the topic cache).
    sns: sns::SnsState,
    /// This engine's name among the nodes sharing its store (holder of worker leases).
    node: String,
}

impl Engine {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
        shutdown: CancellationToken,
    ) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                store,
                clock,
                config,
                shutdown,
                sqs: sqs::SqsState::default(),
                functions: std::sync::OnceLock::new(),
                async_invocations: lambda::AsyncInvocations::default(),
                mappings: lambda::MappingState::default(),
                sns: sns::SnsState::default(),
                node: uuid::Uuid::new_v4().to_string(),
            }),
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn now(&self) -> store::Millis {
        self.inner.clock.now()
    }

    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.inner.shutdown
    }
}
