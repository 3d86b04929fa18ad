//! One execution environment: an OS process started with Lambda's launch environment, its
//! own Runtime API listener on a loopback port, the tasks that copy its output into the
//! function's log, and the waits the runner needs (initialised, replied, exited).
//!
//! The process leads its own process group, so a kill (timeout, teardown) takes whatever it
//! started too, and enters its memory limit (`memory.rs`) before it runs. Dropping an
//! `Environment` kills the group and stops its Runtime API server.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::logs::{EnvironmentLog, FunctionLog};
use super::memory::EnvironmentMemory;
use super::runtime_api::{Invocation, RuntimeApi, RuntimeApiServer, RuntimeEvent};
use super::spec::{FunctionSpec, LambdaConfig};
use store::Millis;

/// A line longer than this is cut into pieces (a process printing without newlines must not
/// grow a buffer without bound).
const MAX_LINE_BYTES: usize = 256 * 1024;
/// How long an invocation's end waits for the output readers to catch up.
const OUTPUT_FLUSH_TIMEOUT: Duration = Duration::from_millis(100);

/// How initialisation ended.
#[derive(Debug)]
pub(crate) enum InitOutcome {
    Ready,
    /// `/init/error`: the body is the invocation's result; the runtime's error type.
    Failed(Vec<u8>, Option<String>),
    Exited(ExitStatus),
    TimedOut,
}

/// How an invocation ended.
#[derive(Debug)]
pub(crate) enum InvocationOutcome {
    Response(Vec<u8>),
    /// `/error`: the body and the `Lambda-Runtime-Function-Error-Type` header, if any.
    Error(Vec<u8>, Option<String>),
    ResponseTooLarge,
    Exited(ExitStatus),
    TimedOut,
}

pub(crate) struct Environment {
    pub(crate) spec: FunctionSpec,
    pub(crate) log: EnvironmentLog,
    pub(crate) initialized: bool,
    /// When it last became idle (the runner's clock), for the idle worker.
    pub(crate) idle_since: Millis,
    pid: u32,
    memory: Arc<EnvironmentMemory>,
    runtime_api: RuntimeApi,
    events: mpsc::UnboundedReceiver<RuntimeEvent>,
    exit: watch::Receiver<Option<ExitStatus>>,
    /// Stops the Runtime API server and the output readers.
    stop: CancellationToken,
    /// The tasks copying stdout and stderr; they end when the pipes close.
    output_readers: Vec<OutputReader>,
}

/// A task copying one pipe into the log, and the way to ask it for a flush: it answers once
/// a read has found the pipe empty.
struct OutputReader {
    /// `None` once it has ended and been awaited (a handle may be awaited only once).
    task: Option<tokio::task::JoinHandle<()>>,
    flushes: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

impl OutputReader {
    fn spawn(
        pipe: impl AsyncRead + Unpin + Send + 'static,
        log: EnvironmentLog,
        stop: CancellationToken,
    ) -> OutputReader {
        let (flushes, flush_requests) = mpsc::unbounded_channel();
        let task = tokio::spawn(copy_lines(pipe, log, stop, flush_requests));
        OutputReader {
            task: Some(task),
            flushes,
        }
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Environment")
            .field("function", &self.spec.name)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Environment {
    /// Binds the listener, starts serving it, and starts the process, writing its output to
    /// a new stream of `log_group`. An error is a process that could not be started
    /// (missing `bootstrap`, unknown runtime, a memory limit that cannot be set...).
    pub(crate) async fn start(
        spec: &FunctionSpec,
        config: &LambdaConfig,
        server: &dyn RuntimeApiServer,
        log_group: FunctionLog,
    ) -> Result<Environment, String> {
        let (program, args) = config.commands.command_for(spec)?;
        let stream = log_stream_name(&spec.version, config.clock.now());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|error| format!("cannot bind the Runtime API listener: {error}"))?;
        let port = listener
            .local_addr()
            .map_err(|error| error.to_string())?
            .port();

        let mut command = Command::new(&program);
        command
            .args(&args)
            .current_dir(&spec.code_dir)
            .env_clear()
            .envs(launch_environment(spec, config, port, &stream))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut memory = EnvironmentMemory::prepare(&config.memory_limit, spec)?;
        memory.apply(&mut command);
        let memory = Arc::new(memory);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                memory.remove().await;
                return Err(format!("fork/exec {}: {error}", program.to_string_lossy()));
            }
        };
        let pid = child.id().unwrap_or_default();

        let (runtime_api, events) = RuntimeApi::new();
        let stop = CancellationToken::new();
        server.serve(listener, runtime_api.clone(), stop.clone());

        let log = EnvironmentLog::new(log_group, &stream);
        let mut output_readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            output_readers.push(OutputReader::spawn(stdout, log.clone(), stop.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            output_readers.push(OutputReader::spawn(stderr, log.clone(), stop.clone()));
        }
        let (exit_sender, exit) = watch::channel(None);
        let reaped_memory = memory.clone();
        tokio::spawn(async move {
            // Reaps the process. If the runtime shuts down first, dropping `child` kills it.
            let status = child.wait().await.unwrap_or_default();
            let _ = exit_sender.send(Some(status));
            reaped_memory.remove().await;
        });

        Ok(Environment {
            spec: spec.clone(),
            log,
            initialized: false,
            idle_since: config.clock.now(),
            pid,
            memory,
            runtime_api,
            events,
            exit,
            stop,
            output_readers,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    pub(crate) fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Kills the process group (SIGKILL) unless the process is already gone.
    pub(crate) fn kill(&self) {
        if self.has_exited() {
            return;
        }
        let Some(group) = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return;
        };
        if let Err(error) =
            rustix::process::kill_process_group(group, rustix::process::Signal::KILL)
        {
            tracing::debug!(pid = self.pid, %error, "kill of an environment's process group");
        }
    }

    async fn exited(exit: &mut watch::Receiver<Option<ExitStatus>>) -> ExitStatus {
        match exit.wait_for(Option::is_some).await {
            Ok(status) => status.unwrap_or_default(),
            // The reaper is gone only if the runtime is shutting down.
            Err(_) => ExitStatus::default(),
        }
    }

    /// Waits for the first `/next`, an `/init/error`, the process's exit or `limit`.
    pub(crate) async fn wait_initialized(&mut self, limit: Duration) -> InitOutcome {
        let sleep = tokio::time::sleep(limit);
        tokio::pin!(sleep);
        loop {
            // Events first: a runtime posts /init/error and then exits, and the error is
            // what the caller must see.
            tokio::select! {
                biased;
                event = self.events.recv() => match event {
                    Some(RuntimeEvent::Ready) => {
                        self.initialized = true;
                        return InitOutcome::Ready;
                    }
                    Some(RuntimeEvent::InitError { body, error_type }) => {
                        return InitOutcome::Failed(body, error_type);
                    }
                    Some(_) => {}
                    None => return InitOutcome::Exited(ExitStatus::default()),
                },
                status = Self::exited(&mut self.exit) => return InitOutcome::Exited(status),
                () = &mut sleep => return InitOutcome::TimedOut,
            }
        }
    }

    /// Hands `invocation` to the runtime and waits for its reply, the process's exit or the
    /// deadline.
    pub(crate) async fn invoke(
        &mut self,
        invocation: Invocation,
        deadline: Instant,
    ) -> InvocationOutcome {
        let request_id = invocation.request_id.clone();
        self.runtime_api.deliver(invocation);
        loop {
            tokio::select! {
                biased;
                event = self.events.recv() => match event {
                    Some(RuntimeEvent::Response { request_id: id, body }) if id == request_id => {
                        return InvocationOutcome::Response(body);
                    }
                    Some(RuntimeEvent::Error { request_id: id, body, error_type }) if id == request_id => {
                        return InvocationOutcome::Error(body, error_type);
                    }
                    Some(RuntimeEvent::ResponseTooLarge { request_id: id }) if id == request_id => {
                        return InvocationOutcome::ResponseTooLarge;
                    }
                    // A suppressed init finishing during the invocation.
                    Some(RuntimeEvent::Ready) => self.initialized = true,
                    Some(_) => {}
                    None => return InvocationOutcome::Exited(ExitStatus::default()),
                },
                status = Self::exited(&mut self.exit) => return InvocationOutcome::Exited(status),
                () = tokio::time::sleep_until(deadline) => {
                    self.runtime_api.abandon();
                    return InvocationOutcome::TimedOut;
                }
            }
        }
    }

    /// After a reply, waits (at most `limit`) for the runtime to ask for the next invocation
    /// or to exit: AWS ends an invocation there, and by then everything the handler printed
    /// before replying has been written to the pipes.
    pub(crate) async fn wait_next(&mut self, limit: Duration) {
        let sleep = tokio::time::sleep(limit);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                biased;
                event = self.events.recv() => match event {
                    Some(RuntimeEvent::Next) | None => break,
                    Some(_) => {}
                },
                _ = Self::exited(&mut self.exit) => break,
                () = &mut sleep => break,
            }
        }
        self.flush_output(OUTPUT_FLUSH_TIMEOUT).await;
    }

    /// Waits (at most `limit`) until each output reader has found its pipe empty after this
    /// call, so every line written before the runtime's last request is in the log.
    ///
    /// Why that holds: the process wrote the line before it sent its request; tokio learns
    /// of the pipe's data no later than of the request's bytes, so by the time the request
    /// was handled the pipe is known readable, and a reader that polls its read before the
    /// flush request (`biased`) takes the line before it answers.
    async fn flush_output(&mut self, limit: Duration) {
        let mut answers = Vec::new();
        for reader in &self.output_readers {
            let (answer, answered) = oneshot::channel();
            if reader.flushes.send(answer).is_ok() {
                answers.push(answered);
            }
        }
        let _ = tokio::time::timeout(limit, async {
            for answered in answers {
                let _ = answered.await;
            }
        })
        .await;
    }

    /// After the process died or was killed: waits (at most `limit`) until the output
    /// readers have copied everything left in the pipes, which close when the last process
    /// of the group is gone. Without this the last lines a crashing process printed could
    /// miss the invocation's log.
    pub(crate) async fn drain_output(&mut self, limit: Duration) {
        let readers = &mut self.output_readers;
        let _ = tokio::time::timeout(limit, async {
            for reader in readers.iter_mut() {
                if let Some(task) = reader.task.as_mut() {
                    let _ = task.await;
                    reader.task = None;
                }
            }
        })
        .await;
    }

    /// Whether this environment's processes ran out of memory: killed by the kernel in its
    /// cgroup; or, under `RLIMIT_AS`, an allocation failed, which the runtime reported as
    /// Python's `MemoryError` (`error_type`, read from the `/error` body) or the process
    /// printed as it died (Rust's allocator: "memory allocation of N bytes failed"; Node:
    /// "... out of memory").
    pub(crate) fn ran_out_of_memory(&self, error_type: Option<&str>, exited: bool) -> bool {
        if self.memory.oom_killed() {
            return true;
        }
        if !self.memory.by_address_space() {
            return false;
        }
        if error_type == Some("MemoryError") {
            return true;
        }
        exited
            && ["memory allocation of ", "out of memory", "MemoryError"]
                .iter()
                .any(|marker| self.log.invocation_printed(marker))
    }

    /// The peak memory of the environment: its cgroup's `memory.peak` when it has one, else
    /// the process's peak resident memory (`VmHWM`), in MB rounded up.
    pub(crate) fn max_memory_used_mb(&self) -> u64 {
        if let Some(peak) = self.memory.peak_mb() {
            return peak;
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid));
        status
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("VmHWM:"))
                    .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .map(|kilobytes: u64| kilobytes.div_ceil(1024))
            .unwrap_or(0)
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.kill();
        self.stop.cancel();
    }
}

/// Copies a pipe into the log line by line until it closes or the environment stops, and
/// answers flush requests whenever a read finds nothing more to take.
async fn copy_lines(
    pipe: impl AsyncRead + Unpin,
    log: EnvironmentLog,
    stop: CancellationToken,
    mut flush_requests: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
) {
    let mut reader = BufReader::new(pipe);
    // Survives a read cancelled by a flush request (read_until keeps what it took).
    let mut line = Vec::new();
    loop {
        let budget = MAX_LINE_BYTES.saturating_sub(line.len()).max(1);
        let mut limited = (&mut reader).take(budget as u64);
        let read = tokio::select! {
            // Reading first: a flush is answered only when no complete line is waiting.
            biased;
            read = limited.read_until(b'\n', &mut line) => read,
            Some(answer) = flush_requests.recv() => {
                let _ = answer.send(());
                continue;
            }
            () = stop.cancelled() => break,
        };
        match read {
            Ok(0) | Err(_) => {
                if !line.is_empty() {
                    log.line(&String::from_utf8_lossy(&line));
                }
                break;
            }
            Ok(_) => {
                if line.ends_with(b"\n") || line.len() >= MAX_LINE_BYTES {
                    let text = String::from_utf8_lossy(&line);
                    log.line(text.strip_suffix('\n').unwrap_or(&text));
                    line.clear();
                }
            }
        }
    }
}

/// The process's whole environment (§1.1): eddy's `PATH`, `LANG` and `TZ` underneath, the
/// user's variables over them, the platform's reserved variables over everything.
fn launch_environment(
    spec: &FunctionSpec,
    config: &LambdaConfig,
    port: u16,
    log_stream: &str,
) -> BTreeMap<String, String> {
    let mut environment = BTreeMap::new();
    environment.insert("PATH".to_string(), config.path.clone());
    environment.insert("LANG".to_string(), "en_US.UTF-8".to_string());
    environment.extend(spec.environment.clone());
    let reserved = [
        ("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}")),
        ("_HANDLER", spec.handler.clone()),
        (
            "LAMBDA_TASK_ROOT",
            spec.code_dir.to_string_lossy().into_owned(),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", spec.version.clone()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.to_string()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        ("AWS_REGION", config.region.clone()),
        ("AWS_DEFAULT_REGION", config.region.clone()),
        ("AWS_ACCESS_KEY_ID", config.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", config.secret_access_key.clone()),
        ("AWS_SESSION_TOKEN", config.session_token.clone()),
        ("TZ", ":UTC".to_string()),
    ];
    for (name, value) in reserved {
        environment.insert(name.to_string(), value);
    }
    if let Some(level) = &spec.json_log_level {
        environment.insert("AWS_LAMBDA_LOG_FORMAT".to_string(), "JSON".to_string());
        environment.insert("AWS_LAMBDA_LOG_LEVEL".to_string(), level.clone());
    }
    if let Some(endpoint_url) = &config.endpoint_url {
        environment.insert("AWS_ENDPOINT_URL".to_string(), endpoint_url.clone());
    }
    // Never set: AWS_LAMBDA_MAX_CONCURRENCY (clients would fork concurrent workers) and
    // AWS_EXECUTION_ENV (unset, as for custom runtimes). The user may not set them either.
    for forbidden in [
        "AWS_LAMBDA_MAX_CONCURRENCY",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY",
    ] {
        environment.remove(forbidden);
    }
    environment
}

/// `2026/01/31/[$LATEST]<32 hex>`, dated `now` (UTC), as Lambda names an environment's
/// log stream.
fn log_stream_name(version: &str, now: Millis) -> String {
    let days = now.div_euclid(86_400_000);
    let (year, month, day) = crate::clock::civil_from_days(days);
    format!(
        "{year:04}/{month:02}/{day:02}/[{version}]{}",
        uuid::Uuid::new_v4().simple()
    )
}

/// A process's end as Go's `exec.ExitError` prints it, which is what AWS's messages quote:
/// `exit status 3`, `signal: killed`.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(signal) => {
            let name = match signal {
                1 => "hangup".to_string(),
                2 => "interrupt".to_string(),
                6 => "aborted".to_string(),
                9 => "killed".to_string(),
                11 => "segmentation fault".to_string(),
                15 => "terminated".to_string(),
                other => format!("signal {other}"),
            };
            format!("signal: {name}")
        }
        None => "exit status unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(crate::clock::civil_from_days(0), (1970, 1, 1));
        assert_eq!(crate::clock::civil_from_days(20_484), (2026, 1, 31));
        assert_eq!(crate::clock::civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn reserved_variables_win_over_the_users() {
        let mut spec = FunctionSpec::new("f", "provided.al2023", "h", "/code");
        spec.environment
            .insert("AWS_REGION".into(), "mars-1".into());
        spec.environment.insert("PATH".into(), "/mine".into());
        spec.environment
            .insert("AWS_LAMBDA_MAX_CONCURRENCY".into(), "4".into());
        spec.environment.insert("GREETING".into(), "hi".into());
        let environment = launch_environment(&spec, &LambdaConfig::default(), 9001, "s");
        assert_eq!(environment["AWS_REGION"], "us-east-1");
        assert_eq!(environment["PATH"], "/mine");
        assert_eq!(environment["GREETING"], "hi");
        assert_eq!(environment["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
        assert!(!environment.contains_key("AWS_LAMBDA_MAX_CONCURRENCY"));
        assert!(!environment.contains_key("AWS_EXECUTION_ENV"));
        assert_eq!(environment["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/f");
        assert_eq!(environment["AWS_LAMBDA_LOG_STREAM_NAME"], "s");
    }

    #[test]
    fn log_streams_are_named_like_lambdas() {
        let name = log_stream_name("$LATEST", 1_769_862_896_789);
        assert!(name.starts_with("2026/01/31/[$LATEST]"), "{name}");
        assert_eq!(name.len(), "2026/01/31/[$LATEST]".len() + 32);
    }

    #[test]
    fn exit_descriptions_follow_go() {
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(describe_exit(ExitStatus::from_raw(9)), "signal: killed");
    }
}
