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
//! - `mappings.rs`: event source mappings' control plane (Create/Get/List/Update/Delete
//!   EventSourceMapping) with Lambda's validation for SQS sources.
//! - `poller.rs`: the mapping worker and per-mapping pollers: long polls through the
//!   engine, batches, invocations through `run_function`, deletes, scaling.
//! - `sqs_event.rs`: the SQS event a mapping delivers. `filter.rs`: `FilterCriteria`
//!   patterns (the EventBridge subset Lambda documents).
//!
//! # Invariants
//!
//! - An environment runs one invocation at a time; it is reused only after a reply and a
//!   following `/next` (or the settle timeout), and never after a timeout, crash or init
//!   failure: those kill its process group.
//! - A reply must name the invocation in progress; anything else is `InvalidRequestID`.
//! - The processes never get `AWS_LAMBDA_MAX_CONCURRENCY` or `AWS_EXECUTION_ENV`.

mod concurrency;
mod environment;
mod filter;
mod functions;
mod logs;
mod mappings;
mod poller;
mod runner;
mod runtime_api;
mod spec;
mod sqs_event;

pub use concurrency::{
    ConcurrencyGate, ConcurrencyPermit, DEFAULT_CONCURRENCY_LIMIT, FunctionKey, Throttled,
};
pub use functions::*;
pub use logs::{FunctionLog, LOG_TAIL_BYTES};
pub use mappings::{
    CreateEventSourceMappingInput, EventSourceMappingConfiguration, EventSourceMappingPage, Filter,
    FilterCriteria, ScalingConfig, StreamOnlyParameters, UpdateEventSourceMappingInput,
};
pub(crate) use poller::MappingState;
pub use runner::{FunctionRunner, InvocationResult, InvokeRequest, MAX_RESPONSE_BYTES};
pub use runtime_api::{Invocation, RuntimeApi, RuntimeApiError, RuntimeApiServer};
pub use spec::{FunctionSpec, LambdaConfig, RuntimeCommand, RuntimeCommands};
