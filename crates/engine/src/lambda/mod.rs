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
//!   running out of memory, AWS's error documents, START/END/REPORT framing and the log
//!   tail; stopping environments idle past the idle timeout.
//! - `memory.rs`: enforcing `MemorySize`: a cgroup v2 per environment when one is
//!   available, else `RLIMIT_AS` with a measured allowance per runtime.
//! - `concurrency.rs`: [`ConcurrencyGate`]: the server-wide limit and reserved
//!   concurrency; every invocation holds a [`ConcurrencyPermit`] while it runs.
//! - `versions.rs`: PublishVersion, ListVersionsByFunction, deleting a version; each
//!   version a stored snapshot of `$LATEST`'s configuration and code.
//! - `aliases.rs`: alias CRUD and weighted routing between two versions.
//! - `concurrency_settings.rs`: Put/Get/DeleteFunctionConcurrency, GetAccountSettings, and
//!   the `lambda-reservations` worker that loads stored reservations into the gate.
//! - `tags.rs`: TagResource, UntagResource, ListTags.
//! - `logs.rs`: log groups of timestamped events in per-environment streams (bounded, in
//!   memory), which the CloudWatch Logs API reads, and per-invocation tails.
//! - `async_invoke.rs`: asynchronous invocation (Invoke with `Event`): events in a
//!   per-function internal SQS queue, retries, maximum event age, invocation records for
//!   destinations and dead-letter messages. `async_worker.rs`: the `lambda-async` worker,
//!   one poller per internal queue.
//! - `event_invoke_config.rs`: Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s).
//! - `targets.rs`: destination and dead-letter ARNs: Lambda's checks and messages.
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
//!   following `/next` (or the settle timeout), and never after a timeout, crash, running
//!   out of memory or init failure: those kill its process group.
//! - Environments and logs belong to an account: two accounts' functions of the same name
//!   share nothing.
//! - A reply must name the invocation in progress; anything else is `InvalidRequestID`.
//! - The processes never get `AWS_LAMBDA_MAX_CONCURRENCY` or `AWS_EXECUTION_ENV`.

mod aliases;
mod async_invoke;
mod async_worker;
mod concurrency;
mod concurrency_settings;
mod environment;
mod event_invoke_config;
mod filter;
mod functions;
mod logs;
mod mappings;
mod memory;
mod poller;
mod runner;
mod runtime_api;
mod spec;
mod sqs_event;
mod tags;
mod targets;
mod versions;

pub use aliases::{
    AliasConfiguration, AliasPage, AliasRoutingConfiguration, CreateAliasInput, UpdateAliasInput,
};
pub(crate) use async_invoke::AsyncInvocations;
pub use async_invoke::{
    ASYNC_QUEUE_ACCOUNT, AsyncInvocationSettings, DEFAULT_FUNCTION_RETRY_DELAY,
    MAX_ASYNC_PAYLOAD_BYTES,
};
pub use concurrency::{
    ConcurrencyGate, ConcurrencyPermit, DEFAULT_CONCURRENCY_LIMIT, FunctionKey, Throttled,
};
pub(crate) use concurrency_settings::spawn_reservation_sync;
pub use concurrency_settings::{
    AccountLimit, AccountSettings, AccountUsage, minimum_unreserved_concurrency,
};
pub use event_invoke_config::{
    DEFAULT_MAXIMUM_EVENT_AGE_SECONDS, DEFAULT_MAXIMUM_RETRY_ATTEMPTS, DestinationConfig,
    EVENT_INVOKE_CONFIG_KIND, EventInvokeConfigInput, EventInvokeConfigPage,
    FunctionEventInvokeConfig, OnDestination,
};
pub use functions::*;
pub use logs::{
    EVENT_OVERHEAD_BYTES, FunctionLog, LOG_GROUP_BYTES, LOG_TAIL_BYTES, LogEvent, LogGroupView,
    LogGroups, LogStreamInfo,
};
pub use mappings::{
    CreateEventSourceMappingInput, EventSourceMappingConfiguration, EventSourceMappingPage, Filter,
    FilterCriteria, ScalingConfig, StreamOnlyParameters, UpdateEventSourceMappingInput,
};
pub use memory::{MemoryLimit, address_space_allowance_mb, check_cgroup_parent};
pub(crate) use poller::MappingState;
pub use runner::{
    FunctionRunner, InvocationResult, InvokeRequest, MAX_RESPONSE_BYTES, OUT_OF_MEMORY,
};
pub use runtime_api::{Invocation, RuntimeApi, RuntimeApiError, RuntimeApiServer};
pub use spec::{DEFAULT_ACCOUNT, FunctionSpec, LambdaConfig, RuntimeCommand, RuntimeCommands};
pub use targets::DeadLetterConfig;
pub use versions::{PublishVersionInput, VersionPage};
