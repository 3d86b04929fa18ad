//! `FunctionRunner`: runs invocations on execution environments. Per function (account and
//! name) it keeps the idle (warm) environments; per log group, the log. An invocation takes
//! an idle environment or starts a new one, so concurrency is the number of environments
//! and each runs one invocation at a time. An environment that timed out, crashed, ran out
//! of memory or failed to initialise is dropped (its process group killed) and the next
//! invocation starts a fresh one; one idle longer than the idle timeout is stopped by
//! [`FunctionRunner::stop_idle_environments`], which the engine's idle worker calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::environment::{Environment, InitOutcome, InvocationOutcome, describe_exit};
use super::logs::LogGroups;
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

/// The error type of an invocation whose environment ran out of memory.
pub const OUT_OF_MEMORY: &str = "Runtime.OutOfMemory";

#[derive(Debug, Default)]
struct FunctionState {
    idle: Vec<Environment>,
}

/// Functions are told apart by account and name.
type FunctionKey = (String, String);

fn key(account: &str, function_name: &str) -> FunctionKey {
    (account.to_string(), function_name.to_string())
}

/// Runs functions. Cheap to clone; dropping the last clone kills every idle environment.
#[derive(Clone)]
pub struct FunctionRunner {
    inner: Arc<RunnerInner>,
}

struct RunnerInner {
    config: LambdaConfig,
    server: Arc<dyn RuntimeApiServer>,
    functions: Mutex<HashMap<FunctionKey, FunctionState>>,
    logs: LogGroups,
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
        let logs = LogGroups::new(config.clock.clone());
        FunctionRunner {
            inner: Arc::new(RunnerInner {
                config,
                server,
                functions: Mutex::new(HashMap::new()),
                logs,
            }),
        }
    }

    pub fn config(&self) -> &LambdaConfig {
        &self.inner.config
    }

    fn functions(&self) -> MutexGuard<'_, HashMap<FunctionKey, FunctionState>> {
        // Never held across an await, and every change is one push or pop.
        self.inner
            .functions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every log group this node's environments wrote to (what the CloudWatch Logs API
    /// reads).
    pub fn log_groups(&self) -> &LogGroups {
        &self.inner.logs
    }

    /// How many warm environments function `function_name` of `account` has.
    pub fn idle_environments(&self, account: &str, function_name: &str) -> usize {
        self.functions()
            .get(&key(account, function_name))
            .map_or(0, |function| function.idle.len())
    }

    /// Stops every idle environment of function `function_name` of `account` (its code or
    /// settings changed, or it was deleted).
    pub fn stop_environments(&self, account: &str, function_name: &str) {
        let stopped = self
            .functions()
            .get_mut(&key(account, function_name))
            .map(|function| std::mem::take(&mut function.idle));
        drop(stopped);
    }

    /// Stops every environment that has been idle for the idle timeout or longer, and says
    /// how many it stopped.
    pub fn stop_idle_environments(&self) -> usize {
        let timeout = i64::try_from(self.inner.config.idle_timeout.as_millis()).unwrap_or(i64::MAX);
        let cutoff = self.inner.config.clock.now().saturating_sub(timeout);
        let stopped: Vec<Environment> = {
            let mut functions = self.functions();
            let mut stopped = Vec::new();
            for function in functions.values_mut() {
                let (expired, kept) = std::mem::take(&mut function.idle)
                    .into_iter()
                    .partition(|environment| environment.idle_since <= cutoff);
                function.idle = kept;
                stopped.extend::<Vec<Environment>>(expired);
            }
            functions.retain(|_, function| !function.idle.is_empty());
            stopped
        };
        // Dropped (killed) outside the lock.
        let count = stopped.len();
        drop(stopped);
        count
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
    /// Environments of the function's other versions stay warm (an alias may route
    /// between two versions).
    fn take_idle(&self, spec: &FunctionSpec) -> Option<Environment> {
        let mut discarded = Vec::new();
        let taken = {
            let mut functions = self.functions();
            let function = functions.entry(key(&spec.account, &spec.name)).or_default();
            let mut taken = None;
            let mut other_versions = Vec::new();
            while let Some(environment) = function.idle.pop() {
                if environment.has_exited() {
                    discarded.push(environment);
                } else if environment.spec == *spec {
                    taken = Some(environment);
                    break;
                } else if environment.spec.version == spec.version {
                    discarded.push(environment);
                } else {
                    other_versions.push(environment);
                }
            }
            // Back in their order, most recently used last.
            function.idle.extend(other_versions.into_iter().rev());
            taken
        };
        // Dropped (killed) outside the lock.
        drop(discarded);
        taken
    }

    fn put_idle(&self, mut environment: Environment) {
        environment.idle_since = self.inner.config.clock.now();
        self.functions()
            .entry(key(&environment.spec.account, &environment.spec.name))
            .or_default()
            .idle
            .push(environment);
    }

    fn function_arn(&self, spec: &FunctionSpec) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.inner.config.region, spec.account, spec.name
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
        let idle = self.take_idle(spec);
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
                let log_group = self.inner.logs.group(&spec.account, &spec.log_group);
                match Environment::start(spec, config, self.inner.server.as_ref(), log_group).await
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
                        InitOutcome::Exited(status)
                            if environment.ran_out_of_memory(None, true) =>
                        {
                            let payload = out_of_memory_error(&request_id);
                            (
                                payload,
                                Some(describe_exit(status)),
                                OUT_OF_MEMORY.to_string(),
                            )
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
                    let max_memory_used_mb = environment.max_memory_used_mb();
                    environment.kill();
                    environment.drain_output(OUTPUT_DRAIN_TIMEOUT).await;
                    environment.log.start_invocation(&format!(
                        "START RequestId: {request_id} Version: {}",
                        spec.version
                    ));
                    let mut closing = Vec::new();
                    let out_of_memory = error_type == OUT_OF_MEMORY;
                    if let Some(reason) = reason {
                        let reason = if out_of_memory {
                            "signal: killed".to_string()
                        } else {
                            reason
                        };
                        closing.push(format!(
                            "RequestId: {request_id} Error: Runtime exited with error: {reason}"
                        ));
                        closing.push(error_type.clone());
                    }
                    closing.extend(closing_lines(
                        &environment.spec,
                        &request_id,
                        init_started.elapsed(),
                        report_memory_mb(&environment.spec, max_memory_used_mb, out_of_memory),
                        Some(init_started.elapsed()),
                        "error",
                        out_of_memory.then_some(OUT_OF_MEMORY),
                    ));
                    result.error_type = Some(error_type);
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
        let out_of_memory = match &outcome {
            InvocationOutcome::Error(..) => {
                environment.ran_out_of_memory(reported_error_type(&outcome).as_deref(), false)
            }
            InvocationOutcome::Exited(_) => {
                // What it printed as it died tells an allocation failure apart.
                environment.drain_output(OUTPUT_DRAIN_TIMEOUT).await;
                environment.ran_out_of_memory(None, true)
            }
            _ => false,
        };
        match outcome {
            // Killed by the kernel in its cgroup, or (under RLIMIT_AS) an allocation failed
            // inside the process, which AWS's kernel would have killed: it is killed here
            // and reported as AWS reports it, below.
            _ if out_of_memory => healthy = false,
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
        if out_of_memory {
            status = Some("error");
            result.payload = out_of_memory_error(&request_id);
            result.function_error = Some("Unhandled".to_string());
            result.error_type = Some(OUT_OF_MEMORY.to_string());
            closing.push(format!(
                "RequestId: {request_id} Error: Runtime exited with error: signal: killed"
            ));
            closing.push(OUT_OF_MEMORY.to_string());
        }
        let duration = started.elapsed();
        // Read while the process is still there (a timed-out one is about to be killed).
        let max_memory_used_mb =
            report_memory_mb(spec, environment.max_memory_used_mb(), out_of_memory);
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
            out_of_memory.then_some(OUT_OF_MEMORY),
        ));
        result.log_tail = environment.log.finish_invocation(&closing);
        if healthy && !environment.has_exited() {
            self.put_idle(environment);
        }
        result
    }
}

/// `END` and `REPORT` lines (§2.3); AWS adds `Error Type` to a REPORT of an environment
/// that ran out of memory.
fn closing_lines(
    spec: &FunctionSpec,
    request_id: &str,
    duration: Duration,
    max_memory_used_mb: u64,
    init_duration: Option<Duration>,
    status: &str,
    error_type: Option<&str>,
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
    if let Some(error_type) = error_type {
        report.push_str(&format!("Error Type: {error_type}\t"));
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

/// The `errorType` of a runtime's `/error` body (the header is optional; Python sends none).
fn reported_error_type(outcome: &InvocationOutcome) -> Option<String> {
    let InvocationOutcome::Error(body, header) = outcome else {
        return None;
    };
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|body| body.get("errorType")?.as_str().map(str::to_string))
        .or_else(|| header.clone())
}

/// What AWS returns when an environment runs out of memory: its processes were killed.
fn out_of_memory_error(request_id: &str) -> Vec<u8> {
    error_document(
        OUT_OF_MEMORY,
        &format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"),
    )
}

/// `Max Memory Used` of a REPORT line: what was measured, or, for an environment that ran
/// out of memory and left nothing to measure, its `MemorySize` (what AWS shows then).
fn report_memory_mb(spec: &FunctionSpec, measured_mb: u64, out_of_memory: bool) -> u64 {
    if out_of_memory && measured_mb == 0 {
        u64::from(spec.memory_mb)
    } else {
        measured_mb
    }
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
