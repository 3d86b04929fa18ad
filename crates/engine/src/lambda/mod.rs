//! Lambda function execution: execution environments (one OS process each, speaking the
//! Lambda Runtime API to eddy over its own loopback listener) and the runner that invokes
//! functions on them. No HTTP here: the api crate serves each environment's listener through
//! [`RuntimeApiServer`] and calls the [`RuntimeApi`] state machine.
//!
//! # Layout
//!
//! - `functions.rs`: the control plane: Create/Get/List/Update/DeleteFunction and Invoke
//!   as methods on [`crate::Engine`], validation with Lambda's messages, and unpacking each
//!   code version once under `<data dir>/functions/`.
//! - `spec.rs`: [`FunctionSpec`] (one function), [`LambdaConfig`] and the command of each
//!   runtime ([`RuntimeCommands`]).
//! - `runtime_api.rs`: the per-environment state machine behind `/next`, `/response`,
//!   `/error` and `/init/error`, and the [`RuntimeApiServer`] trait the api implements.
//! - `environment.rs`: starting a process with the launch environment, copying its output
//!   into the log, waiting for init, replies and exit, killing its process group.
//! - `runner.rs`: [`FunctionRunner::invoke`]: warm reuse, cold starts, timeouts, crashes,
//!   AWS's error documents, START/END/REPORT framing and the log tail.
//! - `concurrency.rs`: [`ConcurrencyGate`]: the server-wide limit and reserved
//!   concurrency; every invocation holds a [`ConcurrencyPermit`] while it runs.
//! - `logs.rs`: per-function log rings and per-invocation tails.
//! - `async_invoke.rs`: asynchronous invocation (Invoke with `Event`): events in a
//!   per-function internal SQS queue, retries, maximum event age, invocation records for
//!   destinations and dead-letter messages. `async_worker.rs`: the `lambda-async` worker,
//!   one poller per internal queue.
//! - `event_invoke_config.rs`: Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s).
//! - `targets.rs`: destination and dead-letter ARNs: Lambda's checks and messages.
//!
//! # Invariants
//!
//! - An environment runs one invocation at a time; it is reused only after a reply and a
//!   following `/next` (or the settle timeout), and never after a timeout, crash or init
//!   failure: those kill its process group.
//! - A reply must name the invocation in progress; anything else is `InvalidRequestID`.
//! - The processes never get `AWS_LAMBDA_MAX_CONCURRENCY` or `AWS_EXECUTION_ENV`.

mod async_invoke;
mod async_worker;
mod concurrency;
mod environment;
mod event_invoke_config;
mod functions;
mod logs;
mod runner;
mod runtime_api;
mod spec;
mod targets;

pub(crate) use async_invoke::AsyncInvocations;
pub use async_invoke::{
    ASYNC_QUEUE_ACCOUNT, AsyncInvocationSettings, DEFAULT_FUNCTION_RETRY_DELAY,
    MAX_ASYNC_PAYLOAD_BYTES,
};
pub use concurrency::{
    ConcurrencyGate, ConcurrencyPermit, DEFAULT_CONCURRENCY_LIMIT, FunctionKey, Throttled,
};
pub use event_invoke_config::{
    DEFAULT_MAXIMUM_EVENT_AGE_SECONDS, DEFAULT_MAXIMUM_RETRY_ATTEMPTS, DestinationConfig,
    EVENT_INVOKE_CONFIG_KIND, EventInvokeConfigInput, EventInvokeConfigPage,
    FunctionEventInvokeConfig, OnDestination,
};
pub use functions::*;
pub use logs::{FunctionLog, LOG_TAIL_BYTES};
pub use runner::{FunctionRunner, InvocationResult, InvokeRequest, MAX_RESPONSE_BYTES};
pub use runtime_api::{Invocation, RuntimeApi, RuntimeApiError, RuntimeApiServer};
pub use spec::{FunctionSpec, LambdaConfig, RuntimeCommand, RuntimeCommands};
pub use targets::DeadLetterConfig;
