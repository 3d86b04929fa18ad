//! `FunctionRunner`: runs invocations on execution environments. Per function it keeps the
//! idle (warm) environments and a log; an invocation takes an idle environment or starts a
//! new one, so concurrency is the number of environments and each runs one invocation at a
//! time. An environment that timed out, crashed or failed to initialise is dropped (its
//! process group killed) and the next invocation starts a fresh one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::environment::{Environment, InitOutcome, InvocationOutcome, describe_exit};
use super::logs::FunctionLog;
use super::runtime_api::{Invocation, RuntimeApiServer};
use super::spec::{FunctionSpec, LambdaConfig};

/// The largest response a runtime may post (6 MiB, plus the 100 bytes AWS's agent allows).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// How long a dead environment's output may take to reach the log once its processes are
/// gone (a descendant that escaped the process group could hold the pipes open forever).
const OUTPUT_DRAIN_TIMEOUT: Duration = Duration::from_millis(500);

/// What the caller of Invoke gives besides the function.
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    /// The payload bytes, passed to the runtime unchanged.
    pub payload: Vec<u8>,
    /// The ARN the caller used; the unqualified function ARN when `None`.
    pub invoked_function_arn: Option<String>,
    /// Decoded `X-Amz-Client-Context` JSON.
    pub client_context: Option<String>,
    /// The caller's `X-Amzn-Trace-Id`; a new one is made when `None`.
    pub trace_id: Option<String>,
    /// The invocation's request id; a new one when `None`. Asynchronous invocation gives
    /// every attempt of an event the event's own id, as Lambda does.
    pub request_id: Option<String>,
}

/// The result of a synchronous invocation, as Invoke returns it.
#[derive(Debug, Clone)]
pub struct InvocationResult {
    pub request_id: String,
    /// The function's output, or the error document when `function_error` is set.
    pub payload: Vec<u8>,
    /// `X-Amz-Function-Error`: always `Unhandled` when the function failed.
    pub function_error: Option<String>,
    /// The platform's own label of a failure (§1.5): the runtime's error type when it
    /// looks like `Runtime.X`/`Function.X`, else `Runtime.Unknown`/`Function.Unknown`;
    /// `Unhandled` when the runtime gave none; `Sandbox.Timedout`, `Runtime.ExitError`...
    pub error_type: Option<String>,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
    /// The last 4 KB of the invocation's log, START to REPORT (base64 it for
    /// `X-Amz-Log-Result`).
    pub log_tail: String,
    /// The process that ran it (tests use it to see warm reuse).
    pub environment_pid: Option<u32>,
    /// Whether this invocation started its environment.
    pub cold_start: bool,
}

#[derive(Debug, Default)]
struct FunctionState {
    idle: Vec<Environment>,
    log: FunctionLog,
}

/// Runs functions. Cheap to clone; dropping the last clone kills every idle environment.
#[derive(Clone)]
pub struct FunctionRunner {
    inner: Arc<RunnerInner>,
}

struct RunnerInner {
    config: LambdaConfig,
    server: Arc<dyn RuntimeApiServer>,
    functions: Mutex<HashMap<String, FunctionState>>,
}

impl std::fmt::Debug for FunctionRunner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FunctionRunner")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl FunctionRunner {
    pub fn new(config: LambdaConfig, server: Arc<dyn RuntimeApiServer>) -> FunctionRunner {
        FunctionRunner {
            inner: Arc::new(RunnerInner {
                config,
                server,
                functions: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn config(&self) -> &LambdaConfig {
        &self.inner.config
    }

    fn functions(&self) -> MutexGuard<'_, HashMap<String, FunctionState>> {
        // Never held across an await, and every change is one push or pop.
        self.inner
            .functions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The function's log ring (every line of every environment, with START/END/REPORT).
    pub fn function_log(&self, function_name: &str) -> FunctionLog {
        self.functions()
            .entry(function_name.to_string())
            .or_default()
            .log
            .clone()
    }

    /// How many warm environments `function_name` has.
    pub fn idle_environments(&self, function_name: &str) -> usize {
        self.functions()
            .get(function_name)
            .map_or(0, |function| function.idle.len())
    }

    /// Stops every idle environment of `function_name` (its code or settings changed, or
    /// it was deleted).
    pub fn stop_environments(&self, function_name: &str) {
        let stopped = self
            .functions()
            .get_mut(function_name)
            .map(|function| std::mem::take(&mut function.idle));
        drop(stopped);
    }

    /// Stops every idle environment of every function (eddy is shutting down).
    pub fn stop_all_environments(&self) {
        let stopped: Vec<Environment> = self
            .functions()
            .values_mut()
            .flat_map(|function| std::mem::take(&mut function.idle))
            .collect();
        drop(stopped);
    }

    /// Takes a warm environment of exactly this spec, dropping dead or outdated ones.
    fn take_idle(&self, spec: &FunctionSpec) -> (Option<Environment>, FunctionLog) {
        let mut discarded = Vec::new();
        let taken = {
            let mut functions = self.functions();
            let function = functions.entry(spec.name.clone()).or_default();
            let mut taken = None;
            while let Some(environment) = function.idle.pop() {
                if environment.has_exited() || environment.spec != *spec {
                    discarded.push(environment);
                } else {
                    taken = Some(environment);
                    break;
                }
            }
            (taken, function.log.clone())
        };
        // Dropped (killed) outside the lock.
        drop(discarded);
        taken
    }

    fn put_idle(&self, environment: Environment) {
        self.functions()
            .entry(environment.spec.name.clone())
            .or_default()
            .idle
            .push(environment);
    }

    fn function_arn(&self, spec: &FunctionSpec) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.inner.config.region, self.inner.config.account, spec.name
        )
    }

    /// Runs one synchronous invocation of `spec`. Function failures (errors, timeouts,
    /// crashes, init failures) are results with `function_error` set, as Invoke returns them.
    pub async fn invoke(&self, spec: &FunctionSpec, request: InvokeRequest) -> InvocationResult {
        let request_id = request
            .request_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let config = &self.inner.config;
        let (idle, function_log) = self.take_idle(spec);
        let cold_start = idle.is_none();
        let mut result = InvocationResult {
            request_id: request_id.clone(),
            payload: Vec::new(),
            function_error: None,
            error_type: None,
            executed_version: spec.version.clone(),
            log_tail: String::new(),
            environment_pid: None,
            cold_start,
        };
        let mut environment = match idle {
            Some(environment) => environment,
            None => {
                match Environment::start(spec, config, self.inner.server.as_ref(), function_log)
                    .await
                {
                    Ok(environment) => environment,
                    Err(reason) => {
                        result.payload = error_document(
                            "Runtime.InvalidEntrypoint",
                            &format!("RequestId: {request_id} Error: {reason}"),
                        );
                        result.function_error = Some("Unhandled".to_string());
                        result.error_type = Some("Runtime.InvalidEntrypoint".to_string());
                        return result;
                    }
                }
            }
        };
        result.environment_pid = Some(environment.pid());

        // Initialisation (cold start): up to `init_timeout`, after which it goes on within
        // the invocation's own timeout (AWS's "suppressed init" restarts it instead).
        let init_started = Instant::now();
        let mut init_duration = None;
        if !environment.initialized {
            match environment.wait_initialized(config.init_timeout).await {
                InitOutcome::Ready => init_duration = Some(init_started.elapsed()),
                InitOutcome::TimedOut => {}
                failed => {
                    let (payload, reason, error_type) = match failed {
                        InitOutcome::Failed(body, error_type) => {
                            (body, None, normalise_error_type(error_type))
                        }
                        InitOutcome::Exited(status) => {
                            let payload = exit_error(&request_id, status);
                            let error_type = "Runtime.ExitError".to_string();
                            (payload, Some(describe_exit(status)), error_type)
                        }
                        InitOutcome::Ready | InitOutcome::TimedOut => {
                            (Vec::new(), None, String::new())
                        }
                    };
                    result.error_type = Some(error_type);
                    let max_memory_used_mb = environment.max_memory_used_mb();
                    environment.kill();
                    environment.drain_output(OUTPUT_DRAIN_TIMEOUT).await;
                    environment.log.start_invocation(&format!(
                        "START RequestId: {request_id} Version: {}",
                        spec.version
                    ));
                    let mut closing = Vec::new();
                    if let Some(reason) = reason {
                        closing.push(format!(
                            "RequestId: {request_id} Error: Runtime exited with error: {reason}"
                        ));
                        closing.push("Runtime.ExitError".to_string());
                    }
                    closing.extend(closing_lines(
                        &environment.spec,
                        &request_id,
                        init_started.elapsed(),
                        max_memory_used_mb,
                        Some(init_started.elapsed()),
                        "error",
                    ));
                    result.log_tail = environment.log.finish_invocation(&closing);
                    result.payload = payload;
                    result.function_error = Some("Unhandled".to_string());
                    return result;
                }
            }
        }

        let started = Instant::now();
        let deadline = started + spec.timeout;
        let deadline_ms = SystemTime::now()
            .checked_add(spec.timeout)
            .and_then(|deadline| deadline.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        environment.log.start_invocation(&format!(
            "START RequestId: {request_id} Version: {}",
            spec.version
        ));
        let invocation = Invocation {
            request_id: request_id.clone(),
            payload: Arc::from(request.payload),
            deadline_ms,
            invoked_function_arn: request
                .invoked_function_arn
                .unwrap_or_else(|| self.function_arn(spec)),
            trace_id: request.trace_id.unwrap_or_else(new_trace_id),
            client_context: request.client_context,
            cognito_identity: None,
        };
        // After a suppressed init the invocation's clock runs from here and the runtime's
        // first /next, whenever it comes, fetches the invocation.
        let outcome = environment.invoke(invocation, deadline).await;

        let mut healthy = true;
        let mut closing = Vec::new();
        let mut status = None;
        match outcome {
            InvocationOutcome::Response(body) => result.payload = body,
            InvocationOutcome::Error(body, error_type) => {
                result.payload = body;
                result.error_type = Some(normalise_error_type(error_type));
                result.function_error = Some("Unhandled".to_string());
            }
            InvocationOutcome::ResponseTooLarge => {
                result.payload = error_document(
                    "Function.ResponseSizeTooLarge",
                    &format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                    ),
                );
                result.error_type = Some("Function.ResponseSizeTooLarge".to_string());
                result.function_error = Some("Unhandled".to_string());
            }
            InvocationOutcome::Exited(exit) => {
                healthy = false;
                status = Some("error");
                result.payload = exit_error(&request_id, exit);
                result.function_error = Some("Unhandled".to_string());
                result.error_type = Some("Runtime.ExitError".to_string());
                closing.push(format!(
                    "RequestId: {request_id} Error: Runtime exited with error: {}",
                    describe_exit(exit)
                ));
                closing.push("Runtime.ExitError".to_string());
            }
            InvocationOutcome::TimedOut => {
                healthy = false;
                status = Some("timeout");
                let message = format!(
                    "Task timed out after {:.2} seconds",
                    spec.timeout.as_secs_f64()
                );
                result.payload = error_document(
                    "Sandbox.Timedout",
                    &format!("RequestId: {request_id} Error: {message}"),
                );
                result.function_error = Some("Unhandled".to_string());
                result.error_type = Some("Sandbox.Timedout".to_string());
                closing.push(format!("{} {request_id} {message}", timestamp()));
            }
        }
        let duration = started.elapsed();
        // Read while the process is still there (a timed-out one is about to be killed).
        let max_memory_used_mb = environment.max_memory_used_mb();
        if healthy {
            environment.wait_next(config.settle_timeout).await;
        } else {
            environment.kill();
            environment.drain_output(OUTPUT_DRAIN_TIMEOUT).await;
        }
        closing.extend(closing_lines(
            &environment.spec,
            &request_id,
            duration,
            max_memory_used_mb,
            init_duration,
            status.unwrap_or(""),
        ));
        result.log_tail = environment.log.finish_invocation(&closing);
        if healthy && !environment.has_exited() {
            self.put_idle(environment);
        }
        result
    }
}

/// `END` and `REPORT` lines (§2.3).
fn closing_lines(
    spec: &FunctionSpec,
    request_id: &str,
    duration: Duration,
    max_memory_used_mb: u64,
    init_duration: Option<Duration>,
    status: &str,
) -> Vec<String> {
    let milliseconds = duration.as_secs_f64() * 1000.0;
    let mut report = format!(
        "REPORT RequestId: {request_id}\tDuration: {milliseconds:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {max_memory_used_mb} MB\t",
        milliseconds.ceil(),
        spec.memory_mb,
    );
    if let Some(init) = init_duration {
        report.push_str(&format!(
            "Init Duration: {:.2} ms\t",
            init.as_secs_f64() * 1000.0
        ));
    }
    if !status.is_empty() {
        report.push_str(&format!("Status: {status}\t"));
    }
    vec![format!("END RequestId: {request_id}"), report]
}

/// AWS's agent keeps a runtime's error type only if it matches
/// `(Runtime|Function)\.[A-Z][a-zA-Z]+` (§1.5).
fn normalise_error_type(error_type: Option<String>) -> String {
    let Some(error_type) = error_type else {
        return "Unhandled".to_string();
    };
    let (prefix, name) = error_type.split_once('.').unwrap_or(("", &error_type));
    let well_formed = name.starts_with(|first: char| first.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphabetic())
        && name.len() >= 2;
    match prefix {
        "Runtime" | "Function" if well_formed => error_type,
        "Function" => "Function.Unknown".to_string(),
        _ => "Runtime.Unknown".to_string(),
    }
}

/// `{"errorType": …, "errorMessage": …}` as AWS writes platform errors.
fn error_document(error_type: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "errorType": error_type,
        "errorMessage": message,
    }))
    .unwrap_or_default()
}

fn exit_error(request_id: &str, status: std::process::ExitStatus) -> Vec<u8> {
    let message = if status.success() {
        format!("RequestId: {request_id} Error: Runtime exited without providing a reason")
    } else {
        format!(
            "RequestId: {request_id} Error: Runtime exited with error: {}",
            describe_exit(status)
        )
    };
    error_document("Runtime.ExitError", &message)
}

/// An X-Ray trace header: `Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=0`.
fn new_trace_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let random = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{seconds:08x}-{};Parent={};Sampled=0",
        &random[..24],
        &parent[..16]
    )
}

/// `2026-01-31T12:34:56.789Z`, as CloudWatch log lines start.
fn timestamp() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since.as_secs();
    let (hours, minutes, secs) = (seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let (year, month, day) = crate::clock::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{secs:02}.{:03}Z",
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_normalised_as_aws_does() {
        let normalise = |value: &str| normalise_error_type(Some(value.to_string()));
        assert_eq!(
            normalise("Runtime.ImportModuleError"),
            "Runtime.ImportModuleError"
        );
        assert_eq!(normalise("Function.Bad_Thing"), "Function.Unknown");
        assert_eq!(normalise("unhandled"), "Runtime.Unknown");
        assert_eq!(normalise_error_type(None), "Unhandled");
    }
}
