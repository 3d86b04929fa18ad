//! Function execution against the official runtime clients: the engine's `FunctionRunner`
//! starts real processes (the Python `awslambdaric` and a function built with the Rust
//! `lambda_runtime` crate) that speak the Runtime API to the api crate's HTTP layer.
//!
//! The Python client comes from `.tmp/venv` (built by scripts/test from
//! tests/python/requirements.txt) or `EDDY_TEST_PYTHON`; the Rust function is built once by
//! `cargo build --release` into `target/lambda-functions` (cargo's lock serialises the test
//! processes that ask at the same time, and later builds are no-ops).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::lambda_runtime::RuntimeApiHttp;
use engine::lambda::{
    DEFAULT_ACCOUNT, FunctionRunner, FunctionSpec, InvocationResult, InvokeRequest, LambdaConfig,
    RuntimeCommand,
};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter that has `awslambdaric` installed.
fn python() -> Fallible<PathBuf> {
    let python = std::env::var_os("EDDY_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tmp/venv/bin/python"));
    let importable = Command::new(&python)
        .args(["-c", "import awslambdaric"])
        .status()
        .is_ok_and(|status| status.success());
    if !importable {
        return Err(format!(
            "{} cannot import awslambdaric: run scripts/test (it builds .tmp/venv from \
             tests/python/requirements.txt) or set EDDY_TEST_PYTHON",
            python.display()
        )
        .into());
    }
    Ok(python)
}

/// Builds tests/functions/rust-echo and copies its `bootstrap` into a fresh code directory.
fn rust_echo_code() -> Fallible<tempfile::TempDir> {
    let root = repo_root();
    let target_dir = root.join("target/lambda-functions");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(root.join("tests/functions/rust-echo/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .status()?;
    if !status.success() {
        return Err(format!("building tests/functions/rust-echo: {status}").into());
    }
    let code = tempfile::tempdir()?;
    std::fs::copy(
        target_dir.join("release/bootstrap"),
        code.path().join("bootstrap"),
    )?;
    Ok(code)
}

/// Every message of function `name`'s log group (account [`DEFAULT_ACCOUNT`]).
fn log_lines(runner: &FunctionRunner, name: &str) -> Vec<String> {
    runner
        .log_groups()
        .find(DEFAULT_ACCOUNT, &format!("/aws/lambda/{name}"))
        .map(|log| log.lines())
        .unwrap_or_default()
}

fn python_code_dir() -> PathBuf {
    repo_root().join("tests/functions/python")
}

fn runner(config: LambdaConfig) -> FunctionRunner {
    FunctionRunner::new(config, Arc::new(RuntimeApiHttp))
}

fn python_runner() -> Fallible<FunctionRunner> {
    let mut config = LambdaConfig {
        endpoint_url: Some("http://127.0.0.1:4566".to_string()),
        ..LambdaConfig::default()
    };
    config.commands.python = RuntimeCommand {
        program: python()?.to_string_lossy().into_owned(),
        ..config.commands.python
    };
    Ok(runner(config))
}

fn python_spec(name: &str, handler: &str) -> FunctionSpec {
    FunctionSpec::new(name, "python3.11", handler, python_code_dir())
}

fn rust_spec(name: &str, code: &tempfile::TempDir) -> FunctionSpec {
    FunctionSpec::new(name, "provided.al2023", "bootstrap", code.path())
}

async fn invoke(runner: &FunctionRunner, spec: &FunctionSpec, payload: Value) -> InvocationResult {
    runner
        .invoke(
            spec,
            InvokeRequest {
                payload: payload.to_string().into_bytes(),
                ..InvokeRequest::default()
            },
        )
        .await
}

fn payload(result: &InvocationResult) -> Fallible<Value> {
    serde_json::from_slice(&result.payload).map_err(|error| {
        format!(
            "payload {:?} is not JSON: {error}",
            String::from_utf8_lossy(&result.payload)
        )
        .into()
    })
}

/// Whether the process is gone (killed and reaped).
async fn process_gone(pid: u32) -> bool {
    for _ in 0..100 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

// ---------------------------------------------------------------------------------------
// Python: awslambdaric

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_echo_sees_event_context_and_launch_environment() -> TestResult {
    let runner = python_runner()?;
    let mut spec = python_spec("py-echo", "app.echo");
    spec.memory_mb = 256;
    spec.environment.insert("GREETING".into(), "hello".into());
    spec.environment
        .insert("AWS_REGION".into(), "mars-1".into());
    let result = invoke(&runner, &spec, json!({"hello": "world"})).await;
    assert_eq!(result.function_error, None, "{:?}", result);
    let output = payload(&result)?;
    assert_eq!(output["echo"], json!({"hello": "world"}));
    assert_eq!(output["request_id"], json!(result.request_id));
    assert_eq!(output["function_name"], "py-echo");
    let remaining = output["remaining_ms"].as_i64().unwrap_or_default();
    assert!(remaining > 0 && remaining <= 3000, "remaining {remaining}");
    let environment = &output["environment"];
    assert_eq!(environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(environment["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(
        environment["AWS_LAMBDA_LOG_GROUP_NAME"],
        "/aws/lambda/py-echo"
    );
    let stream = environment["AWS_LAMBDA_LOG_STREAM_NAME"]
        .as_str()
        .unwrap_or_default();
    assert!(
        stream.contains("/[$LATEST]") && stream.len() == 11 + 9 + 32,
        "{stream}"
    );
    assert_eq!(environment["AWS_REGION"], "us-east-1", "reserved names win");
    assert_eq!(environment["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566");
    assert_eq!(environment["GREETING"], "hello");
    assert_eq!(environment["_HANDLER"], "app.echo");
    assert_eq!(environment["AWS_EXECUTION_ENV"], Value::Null);
    assert_eq!(environment["AWS_LAMBDA_MAX_CONCURRENCY"], Value::Null);
    let trace = environment["_X_AMZN_TRACE_ID"].as_str().unwrap_or_default();
    assert!(trace.starts_with("Root=1-"), "{trace}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sees_client_context_and_invoked_arn() -> TestResult {
    let runner = python_runner()?;
    let spec = python_spec("py-context", "app.echo");
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:py-context:live";
    let result = runner
        .invoke(
            &spec,
            InvokeRequest {
                payload: b"{}".to_vec(),
                invoked_function_arn: Some(arn.to_string()),
                client_context: Some(r#"{"custom":{"tenant":"blue"}}"#.to_string()),
                trace_id: None,
                request_id: None,
            },
        )
        .await;
    let output = payload(&result)?;
    assert_eq!(output["client_context_custom"], json!({"tenant": "blue"}));
    assert_eq!(output["invoked_function_arn"], arn);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_warm_invocations_reuse_the_process() -> TestResult {
    let runner = python_runner()?;
    let spec = python_spec("py-warm", "app.echo");
    let first = invoke(&runner, &spec, json!({})).await;
    let second = invoke(&runner, &spec, json!({})).await;
    let (first_output, second_output) = (payload(&first)?, payload(&second)?);
    assert!(first.cold_start && !second.cold_start);
    assert_eq!(first_output["pid"], second_output["pid"]);
    assert_eq!(first_output["invocations"], 1);
    assert_eq!(second_output["invocations"], 2);
    assert_eq!(runner.idle_environments(DEFAULT_ACCOUNT, "py-warm"), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_exception_returns_the_clients_error_document() -> TestResult {
    let runner = python_runner()?;
    let spec = python_spec("py-fail", "app.fail");
    let result = invoke(&runner, &spec, json!({})).await;
    assert_eq!(result.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(result.error_type.as_deref(), Some("Unhandled"), "no header");
    let error = payload(&result)?;
    assert_eq!(error["errorType"], "ValueError");
    assert_eq!(error["errorMessage"], "boom");
    assert_eq!(error["requestId"], json!(result.request_id));
    assert!(
        error["stackTrace"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(
        runner.idle_environments(DEFAULT_ACCOUNT, "py-fail"),
        1,
        "a handler error keeps it"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_timeout_is_sandbox_timedout_and_replaces_the_process() -> TestResult {
    let runner = python_runner()?;
    let mut spec = python_spec("py-timeout", "app.echo");
    spec.timeout = Duration::from_secs(1);
    let timed_out = invoke(&runner, &spec, json!({"sleep": 30})).await;
    assert_eq!(timed_out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        payload(&timed_out)?,
        json!({
            "errorType": "Sandbox.Timedout",
            "errorMessage": format!(
                "RequestId: {} Error: Task timed out after 1.00 seconds",
                timed_out.request_id
            ),
        })
    );
    let old_pid = timed_out.environment_pid.unwrap_or_default();
    assert!(
        process_gone(old_pid).await,
        "the timed-out process is killed"
    );
    assert!(
        timed_out
            .log_tail
            .contains("Task timed out after 1.00 seconds")
    );
    let report = timed_out.log_tail.lines().last().unwrap_or_default();
    assert!(report.ends_with("\tStatus: timeout\t"), "{report}");
    assert!(
        !report.contains("Max Memory Used: 0 MB"),
        "measured before the kill"
    );
    let next = invoke(&runner, &spec, json!({})).await;
    assert!(next.cold_start);
    assert_eq!(next.function_error, None);
    assert_ne!(payload(&next)?["pid"], json!(old_pid));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_exit_mid_invocation_is_runtime_exit_error() -> TestResult {
    let runner = python_runner()?;
    let spec = python_spec("py-exit", "app.echo");
    let crashed = invoke(&runner, &spec, json!({"exit": 3})).await;
    assert_eq!(crashed.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        payload(&crashed)?,
        json!({
            "errorType": "Runtime.ExitError",
            "errorMessage": format!(
                "RequestId: {} Error: Runtime exited with error: exit status 3",
                crashed.request_id
            ),
        })
    );
    assert!(
        crashed.log_tail.contains("about to exit"),
        "{}",
        crashed.log_tail
    );
    assert_eq!(runner.idle_environments(DEFAULT_ACCOUNT, "py-exit"), 0);
    let next = invoke(&runner, &spec, json!({})).await;
    assert!(next.cold_start);
    assert_eq!(payload(&next)?["invocations"], 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_import_error_is_the_invocations_result() -> TestResult {
    let runner = python_runner()?;
    let spec = python_spec("py-broken", "broken.handler");
    let result = invoke(&runner, &spec, json!({})).await;
    assert_eq!(result.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        result.error_type.as_deref(),
        Some("Runtime.ImportModuleError")
    );
    let error = payload(&result)?;
    assert_eq!(error["errorType"], "Runtime.ImportModuleError");
    assert_eq!(
        error["errorMessage"],
        "Unable to import module 'broken': No module named 'module_that_does_not_exist'"
    );
    assert_eq!(error["requestId"], "");
    assert_eq!(runner.idle_environments(DEFAULT_ACCOUNT, "py-broken"), 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_log_tail_frames_output_with_start_end_report() -> TestResult {
    let runner = python_runner()?;
    let spec = python_spec("py-log", "app.log");
    let result = invoke(&runner, &spec, json!({})).await;
    assert_eq!(result.payload, b"null");
    let id = &result.request_id;
    let lines: Vec<&str> = result.log_tail.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(&*format!("START RequestId: {id} Version: $LATEST"))
    );
    assert!(lines.contains(&"to stdout"), "{lines:?}");
    assert!(lines.contains(&"to stderr"), "{lines:?}");
    let end = lines
        .iter()
        .position(|line| *line == format!("END RequestId: {id}"));
    assert_eq!(end, Some(lines.len() - 2), "{lines:?}");
    let report = lines.last().copied().unwrap_or_default();
    assert!(
        report.starts_with(&format!("REPORT RequestId: {id}\tDuration: ")),
        "{report}"
    );
    assert!(report.contains("\tMemory Size: 128 MB\tMax Memory Used: "));
    assert!(
        report.contains("\tInit Duration: "),
        "a cold start: {report}"
    );
    let warm = invoke(&runner, &spec, json!({})).await;
    assert!(
        !warm.log_tail.contains("Init Duration"),
        "{}",
        warm.log_tail
    );
    assert!(
        !warm.log_tail.contains(id.as_str()),
        "only its own invocation"
    );
    let all = log_lines(&runner, "py-log");
    assert!(all.iter().filter(|line| line.starts_with("REPORT")).count() == 2);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Rust: lambda_runtime

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_echo_and_warm_reuse() -> TestResult {
    let code = rust_echo_code()?;
    let runner = runner(LambdaConfig::default());
    let spec = rust_spec("rust-echo", &code);
    let first = invoke(&runner, &spec, json!({"hello": "world"})).await;
    assert_eq!(
        first.function_error,
        None,
        "{:?}",
        String::from_utf8_lossy(&first.payload)
    );
    let output = payload(&first)?;
    assert_eq!(output["echo"], json!({"hello": "world"}));
    assert_eq!(output["request_id"], json!(first.request_id));
    let second = invoke(&runner, &spec, json!({"again": true})).await;
    assert!(first.cold_start && !second.cold_start);
    assert_eq!(payload(&second)?["pid"], output["pid"]);
    assert_eq!(json!(first.environment_pid), output["pid"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_error_returns_the_clients_error_document() -> TestResult {
    let code = rust_echo_code()?;
    let runner = runner(LambdaConfig::default());
    let spec = rust_spec("rust-fail", &code);
    let result = invoke(&runner, &spec, json!({"fail": true})).await;
    assert_eq!(result.function_error.as_deref(), Some("Unhandled"));
    // The client sends `lambda-runtime-function-error-type: unhandled`.
    assert_eq!(result.error_type.as_deref(), Some("Runtime.Unknown"));
    let error = payload(&result)?;
    assert_eq!(error["errorMessage"], "boom");
    assert!(error["errorType"].is_string());
    assert!(error.get("stackTrace").is_none());
    assert_eq!(runner.idle_environments(DEFAULT_ACCOUNT, "rust-fail"), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_timeout_is_sandbox_timedout_and_replaces_the_process() -> TestResult {
    let code = rust_echo_code()?;
    let runner = runner(LambdaConfig::default());
    let mut spec = rust_spec("rust-timeout", &code);
    spec.timeout = Duration::from_secs(1);
    let timed_out = invoke(&runner, &spec, json!({"sleep_ms": 30_000})).await;
    assert_eq!(
        payload(&timed_out)?,
        json!({
            "errorType": "Sandbox.Timedout",
            "errorMessage": format!(
                "RequestId: {} Error: Task timed out after 1.00 seconds",
                timed_out.request_id
            ),
        })
    );
    let old_pid = timed_out.environment_pid.unwrap_or_default();
    assert!(process_gone(old_pid).await);
    let next = invoke(&runner, &spec, json!({})).await;
    assert!(next.cold_start);
    assert_eq!(next.function_error, None);
    assert_ne!(payload(&next)?["pid"], json!(old_pid));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_exit_mid_invocation_is_runtime_exit_error() -> TestResult {
    let code = rust_echo_code()?;
    let runner = runner(LambdaConfig::default());
    let spec = rust_spec("rust-exit", &code);
    let crashed = invoke(&runner, &spec, json!({"exit": 3})).await;
    assert_eq!(
        payload(&crashed)?,
        json!({
            "errorType": "Runtime.ExitError",
            "errorMessage": format!(
                "RequestId: {} Error: Runtime exited with error: exit status 3",
                crashed.request_id
            ),
        })
    );
    let next = invoke(&runner, &spec, json!({})).await;
    assert!(next.cold_start);
    assert_eq!(next.function_error, None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_get_their_own_environments() -> TestResult {
    let code = rust_echo_code()?;
    let runner = runner(LambdaConfig::default());
    let spec = rust_spec("rust-concurrent", &code);
    let (first, second) = tokio::join!(
        invoke(&runner, &spec, json!({"sleep_ms": 300})),
        invoke(&runner, &spec, json!({"sleep_ms": 300})),
    );
    assert_ne!(payload(&first)?["pid"], payload(&second)?["pid"]);
    assert_eq!(
        runner.idle_environments(DEFAULT_ACCOUNT, "rust-concurrent"),
        2
    );
    Ok(())
}

/// Prints (does not assert) the platform's cost of an invocation of the no-op Rust
/// function: warm round trips (the handler itself takes microseconds) and cold starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_invoke_overhead_is_printed() -> TestResult {
    let code = rust_echo_code()?;
    let runner = runner(LambdaConfig::default());
    let mut cold = Vec::new();
    for attempt in 0..5 {
        let spec = rust_spec(&format!("rust-cold-{attempt}"), &code);
        let started = Instant::now();
        let result = invoke(&runner, &spec, json!({})).await;
        cold.push(started.elapsed());
        assert!(result.cold_start && result.function_error.is_none());
    }
    let spec = rust_spec("rust-warm", &code);
    invoke(&runner, &spec, json!({})).await;
    let mut warm = Vec::new();
    for _ in 0..1000 {
        let started = Instant::now();
        let result = invoke(&runner, &spec, json!({})).await;
        warm.push(started.elapsed());
        assert!(!result.cold_start && result.function_error.is_none());
    }
    warm.sort();
    cold.sort();
    let quantile = |samples: &[Duration], q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1e6
    };
    println!(
        "rust no-op warm invoke round trip over {} invokes: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        warm.len(),
        quantile(&warm, 0.5),
        quantile(&warm, 0.99),
        quantile(&warm, 1.0)
    );
    println!(
        "rust no-op cold start (spawn to reply) over {} starts: p50 {:.1} ms, max {:.1} ms",
        cold.len(),
        quantile(&cold, 0.5) / 1000.0,
        quantile(&cold, 1.0) / 1000.0
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Platform failures that need no client

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bootstrap_is_invalid_entrypoint() -> TestResult {
    let code = tempfile::tempdir()?;
    let runner = runner(LambdaConfig::default());
    let result = invoke(&runner, &rust_spec("no-bootstrap", &code), json!({})).await;
    assert_eq!(
        result.error_type.as_deref(),
        Some("Runtime.InvalidEntrypoint")
    );
    let error = payload(&result)?;
    assert_eq!(error["errorType"], "Runtime.InvalidEntrypoint");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_during_init_is_runtime_exit_error() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let code = tempfile::tempdir()?;
    let bootstrap = code.path().join("bootstrap");
    std::fs::write(&bootstrap, "#!/bin/sh\necho starting up\nexit 7\n")?;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755))?;
    let runner = runner(LambdaConfig::default());
    let result = invoke(&runner, &rust_spec("init-exit", &code), json!({})).await;
    assert_eq!(
        payload(&result)?,
        json!({
            "errorType": "Runtime.ExitError",
            "errorMessage": format!(
                "RequestId: {} Error: Runtime exited with error: exit status 7",
                result.request_id
            ),
        })
    );
    let log = log_lines(&runner, "init-exit");
    assert!(log.contains(&"starting up".to_string()), "{log:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The wire, byte for byte: the test plays the runtime over raw HTTP/1.1

/// Starts a `provided` function whose bootstrap only reports its Runtime API address, and
/// an invocation of it (running in the background); returns the address and the invocation.
async fn raw_runtime(
    name: &str,
    payload: Value,
) -> Fallible<(
    String,
    tokio::task::JoinHandle<InvocationResult>,
    FunctionRunner,
    tempfile::TempDir,
)> {
    use std::os::unix::fs::PermissionsExt;
    let code = tempfile::tempdir()?;
    let bootstrap = code.path().join("bootstrap");
    std::fs::write(
        &bootstrap,
        "#!/bin/sh\necho \"$AWS_LAMBDA_RUNTIME_API\" > address.tmp && mv address.tmp address\nexec sleep 60\n",
    )?;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755))?;
    // This runtime never asks for a next invocation: do not wait long for it.
    let runner = runner(LambdaConfig {
        settle_timeout: Duration::from_millis(50),
        ..LambdaConfig::default()
    });
    let spec = rust_spec(name, &code);
    let invocation = tokio::spawn({
        let runner = runner.clone();
        async move { invoke(&runner, &spec, payload).await }
    });
    let address_file = code.path().join("address");
    for _ in 0..250 {
        if let Ok(address) = std::fs::read_to_string(&address_file) {
            return Ok((address.trim().to_string(), invocation, runner, code));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("the bootstrap never wrote its address".into())
}

struct RawResponse {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn json(&self) -> Fallible<Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }
}

/// Sends `head` (request line and headers, without the blank line), then `body`, on a new
/// connection, and reads the whole response (`Connection: close` is added).
async fn raw_request(address: &str, head: &str, body: &[u8]) -> Fallible<RawResponse> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!("{head}\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // The server may answer (413) and close before taking the whole body.
    let _ = stream.write_all(body).await;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split_whitespace().nth(1).ok_or("no status")?.parse()?;
    Ok(RawResponse {
        status,
        head,
        body: response[split + 4..].to_vec(),
    })
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut encoded = Vec::new();
    for chunk in body.chunks(1000) {
        encoded.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        encoded.extend_from_slice(chunk);
        encoded.extend_from_slice(b"\r\n");
    }
    encoded.extend_from_slice(b"0\r\n\r\n");
    encoded
}

const NEXT: &str = "GET /2018-06-01/runtime/invocation/next HTTP/1.1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_carries_the_invocation_headers_clients_require() -> TestResult {
    let (address, invocation, _runner, _code) = raw_runtime("wire-next", json!({"a": 1})).await?;
    let next = raw_request(&address, NEXT, b"").await?;
    assert_eq!(next.status, 200);
    assert_eq!(next.header("content-type"), Some("application/json"));
    assert_eq!(next.json()?, json!({"a": 1}));
    let request_id = next
        .header("lambda-runtime-aws-request-id")
        .ok_or("no id")?;
    let deadline: u128 = next
        .header("lambda-runtime-deadline-ms")
        .ok_or("no deadline")?
        .parse()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    assert!(deadline > now.as_millis() && deadline <= now.as_millis() + 3000);
    assert_eq!(
        next.header("lambda-runtime-invoked-function-arn"),
        Some("arn:aws:lambda:us-east-1:000000000000:function:wire-next")
    );
    assert!(
        next.header("lambda-runtime-trace-id")
            .is_some_and(|t| t.starts_with("Root=1-"))
    );

    // No Content-Type, a chunked body.
    let reply = raw_request(
        &address,
        &format!(
            "POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nTransfer-Encoding: chunked"
        ),
        &chunked(br#"{"ok":true}"#),
    )
    .await?;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.json()?, json!({"status": "OK"}));
    let result = invocation.await?;
    assert_eq!(result.payload, br#"{"ok":true}"#);
    assert_eq!(result.function_error, None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_for_other_or_answered_ids_are_invalid_request_id() -> TestResult {
    let (address, invocation, _runner, _code) = raw_runtime("wire-ids", json!({})).await?;
    let next = raw_request(&address, NEXT, b"").await?;
    let request_id = next
        .header("lambda-runtime-aws-request-id")
        .ok_or("no id")?;
    let post = |id: String, kind: &'static str| {
        let address = address.clone();
        async move {
            raw_request(
                &address,
                &format!(
                    "POST /2018-06-01/runtime/invocation/{id}/{kind} HTTP/1.1\r\nContent-Length: 2"
                ),
                b"{}",
            )
            .await
        }
    };
    let invalid = json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"});
    let unknown = post("not-the-id".to_string(), "response").await?;
    assert_eq!((unknown.status, unknown.json()?), (400, invalid.clone()));
    let late_init_error = raw_request(
        &address,
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 2",
        b"{}",
    )
    .await?;
    assert_eq!(late_init_error.status, 403);
    assert_eq!(
        late_init_error.json()?["errorType"],
        "InvalidStateTransition"
    );
    assert_eq!(post(request_id.to_string(), "error").await?.status, 202);
    let second = post(request_id.to_string(), "response").await?;
    assert_eq!((second.status, second.json()?), (400, invalid));
    let result = invocation.await?;
    assert_eq!(result.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(result.error_type.as_deref(), Some("Unhandled"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_with_a_megabyte_xray_cause_header_is_accepted() -> TestResult {
    let (address, invocation, _runner, _code) = raw_runtime("wire-xray", json!({})).await?;
    let next = raw_request(&address, NEXT, b"").await?;
    let request_id = next
        .header("lambda-runtime-aws-request-id")
        .ok_or("no id")?;
    let cause = format!(r#"{{"paths":["{}"]}}"#, "x".repeat(1024 * 1024 - 20));
    let body = br#"{"errorMessage":"boom","errorType":"ValueError"}"#;
    let reply = raw_request(
        &address,
        &format!(
            "POST /2018-06-01/runtime/invocation/{request_id}/error HTTP/1.1\r\n\
             Content-Type: application/json\r\n\
             Lambda-Runtime-Function-Error-Type: Function.Boom\r\n\
             Lambda-Runtime-Function-XRay-Error-Cause: {cause}\r\n\
             Content-Length: {}",
            body.len()
        ),
        body,
    )
    .await?;
    assert_eq!(reply.status, 202);
    let result = invocation.await?;
    assert_eq!(result.payload, body);
    assert_eq!(result.error_type.as_deref(), Some("Function.Boom"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_over_six_megabytes_is_413_and_response_size_too_large() -> TestResult {
    let (address, invocation, runner, _code) = raw_runtime("wire-large", json!({})).await?;
    let next = raw_request(&address, NEXT, b"").await?;
    let request_id = next
        .header("lambda-runtime-aws-request-id")
        .ok_or("no id")?;
    let body = vec![b'x'; engine::lambda::MAX_RESPONSE_BYTES + 1];
    let reply = raw_request(
        &address,
        &format!(
            "POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nContent-Length: {}",
            body.len()
        ),
        &body,
    )
    .await?;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()?["errorType"], "RequestEntityTooLarge");
    let result = invocation.await?;
    assert_eq!(
        payload(&result)?,
        json!({
            "errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        })
    );
    drop(runner);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_init_continues_within_the_invocations_timeout() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let code = rust_echo_code()?;
    std::fs::rename(code.path().join("bootstrap"), code.path().join("echo"))?;
    let bootstrap = code.path().join("bootstrap");
    std::fs::write(&bootstrap, "#!/bin/sh\nsleep 0.5\nexec ./echo\n")?;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755))?;
    let runner = runner(LambdaConfig {
        init_timeout: Duration::from_millis(100),
        ..LambdaConfig::default()
    });
    let mut spec = rust_spec("slow-init", &code);
    let result = invoke(&runner, &spec, json!({"n": 1})).await;
    assert_eq!(result.function_error, None);
    assert_eq!(payload(&result)?["echo"], json!({"n": 1}));
    assert!(
        !result.log_tail.contains("Init Duration"),
        "a suppressed init"
    );
    let warm = invoke(&runner, &spec, json!({"n": 2})).await;
    assert!(!warm.cold_start && warm.function_error.is_none());

    spec.name = "slow-init-timeout".to_string();
    spec.timeout = Duration::from_millis(200);
    let timed_out = invoke(&runner, &spec, json!({})).await;
    assert_eq!(payload(&timed_out)?["errorType"], "Sandbox.Timedout");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_environments_kills_their_processes() -> TestResult {
    let code = rust_echo_code()?;
    let runner = runner(LambdaConfig::default());
    let first = invoke(&runner, &rust_spec("stop-a", &code), json!({})).await;
    let second = invoke(&runner, &rust_spec("stop-b", &code), json!({})).await;
    runner.stop_environments(DEFAULT_ACCOUNT, "stop-a");
    assert!(process_gone(first.environment_pid.unwrap_or_default()).await);
    assert_eq!(runner.idle_environments(DEFAULT_ACCOUNT, "stop-b"), 1);
    drop(runner);
    assert!(process_gone(second.environment_pid.unwrap_or_default()).await);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Accounts, idle environments and memory limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_functions_of_one_name_share_no_environment_or_log() -> TestResult {
    let runner = python_runner()?;
    let mut first = python_spec("same-name", "app.echo");
    first.account = "111111111111".to_string();
    let mut second = first.clone();
    second.account = "222222222222".to_string();
    let one = invoke(&runner, &first, json!({})).await;
    let two = invoke(&runner, &second, json!({})).await;
    assert!(
        one.cold_start && two.cold_start,
        "no shared warm environment"
    );
    assert_ne!(payload(&one)?["pid"], payload(&two)?["pid"]);
    assert_eq!(
        payload(&two)?["invoked_function_arn"],
        "arn:aws:lambda:us-east-1:222222222222:function:same-name"
    );
    assert_eq!(runner.idle_environments("111111111111", "same-name"), 1);
    assert_eq!(runner.idle_environments("222222222222", "same-name"), 1);
    let log_of = |account: &str| {
        runner
            .log_groups()
            .find(account, "/aws/lambda/same-name")
            .map(|log| log.lines().join("\n"))
            .unwrap_or_default()
    };
    assert!(log_of("111111111111").contains(&one.request_id));
    assert!(!log_of("111111111111").contains(&two.request_id));
    assert!(log_of("222222222222").contains(&two.request_id));
    runner.stop_environments("111111111111", "same-name");
    assert_eq!(runner.idle_environments("222222222222", "same-name"), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_idle_past_the_timeout_are_stopped_and_the_next_invoke_is_cold() -> TestResult
{
    let clock = engine::ManualClock::new(1_700_000_000_000);
    let mut config = LambdaConfig {
        idle_timeout: Duration::from_secs(60),
        clock: Arc::new(clock.clone()),
        ..LambdaConfig::default()
    };
    config.commands.python.program = python()?.to_string_lossy().into_owned();
    let runner = runner(config);
    let spec = python_spec("py-idle", "app.echo");
    let first = invoke(&runner, &spec, json!({})).await;
    let pid = first.environment_pid.unwrap_or_default();

    clock.advance(59_000);
    assert_eq!(runner.stop_idle_environments(), 0, "not idle long enough");
    assert_eq!(runner.idle_environments(DEFAULT_ACCOUNT, "py-idle"), 1);
    clock.advance(1_000);
    assert_eq!(runner.stop_idle_environments(), 1);
    assert_eq!(runner.idle_environments(DEFAULT_ACCOUNT, "py-idle"), 0);
    assert!(process_gone(pid).await);

    let next = invoke(&runner, &spec, json!({})).await;
    assert!(next.cold_start);
    assert_eq!(payload(&next)?["invocations"], 1);
    assert!(next.log_tail.contains("Init Duration"), "{}", next.log_tail);

    // An invocation makes an environment fresh again.
    clock.advance(59_000);
    invoke(&runner, &spec, json!({})).await;
    clock.advance(59_000);
    assert_eq!(runner.stop_idle_environments(), 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_within_memory_size_runs_and_beyond_it_is_out_of_memory() -> TestResult {
    let runner = python_runner()?;
    let spec = python_spec("py-memory", "app.allocate");
    assert_eq!(spec.memory_mb, 128);
    let within = invoke(&runner, &spec, json!({"mb": 64})).await;
    assert_eq!(within.function_error, None, "{}", within.log_tail);
    assert_eq!(payload(&within)?["allocated_mb"], 64);
    let report = within.log_tail.lines().last().unwrap_or_default();
    let used: u64 = report
        .split("Max Memory Used: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_default();
    assert!(
        used >= 64,
        "Max Memory Used counts the allocation: {report}"
    );

    let beyond = invoke(&runner, &spec, json!({"mb": 256})).await;
    assert_eq!(beyond.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(beyond.error_type.as_deref(), Some("Runtime.OutOfMemory"));
    assert_eq!(
        payload(&beyond)?,
        json!({
            "errorType": "Runtime.OutOfMemory",
            "errorMessage": format!(
                "RequestId: {} Error: Runtime exited with error: signal: killed",
                beyond.request_id
            ),
        })
    );
    assert!(
        beyond
            .log_tail
            .contains("Status: error\tError Type: Runtime.OutOfMemory"),
        "{}",
        beyond.log_tail
    );
    assert!(process_gone(beyond.environment_pid.unwrap_or_default()).await);
    assert_eq!(runner.idle_environments(DEFAULT_ACCOUNT, "py-memory"), 0);

    let replaced = invoke(&runner, &spec, json!({"mb": 1})).await;
    assert!(replaced.cold_start, "a new environment");
    assert_eq!(replaced.function_error, None);
    Ok(())
}
