//! `eddy bench lambda`: what eddy adds to running a function, measured against a running
//! server with a no-op custom-runtime function (tests/functions/rust-echo's `bootstrap`):
//!
//! 1. warm synchronous Invoke: round trip at the client, the handler's own time (REPORT
//!    `Duration`), and eddy's overhead per call (round trip minus handler time);
//! 2. cold starts: round trip minus the runtime's own start-up (REPORT `Init Duration`, from
//!    spawn to its first `/next`) minus the handler's time;
//! 3. SendMessage → handler: an idle queue mapped to a warm function, one message at a
//!    time; the handler appends each record's body and the wall-clock time it started to a
//!    file (`EDDY_BENCH_STAMPS`), compared with when SendMessage returned here;
//! 4. event source mapping throughput: a queue filled first, then mapped to the function
//!    with batches; messages/s from the mapping's creation until the queue is empty, with
//!    eddy's CPU per message (from /proc, `--server-pid`) and the function processes' apart.
//!
//! The bench and the server must share a machine and clock (stamps, /proc).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use base64::Engine as _;
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode, Uri, header};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::client::SqsClient;
use super::process;

const AMZ_DATE: &str = "20260101T000000Z";
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Options of `eddy bench lambda`.
#[derive(Debug, Clone, Args)]
pub struct LambdaBenchArgs {
    /// Base URL of a running eddy.
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    /// The function's executable (a Lambda custom runtime `bootstrap`, e.g. the build of
    /// tests/functions/rust-echo); it is zipped and deployed as `provided.al2023`.
    #[arg(long)]
    pub bootstrap: PathBuf,
    /// Warm synchronous invokes, one at a time.
    #[arg(long, default_value_t = 2000)]
    pub invokes: u32,
    /// Cold starts (each forced by a configuration change).
    #[arg(long, default_value_t = 20)]
    pub cold_starts: u32,
    /// Messages sent one at a time to an idle mapped queue.
    #[arg(long, default_value_t = 200)]
    pub latency_messages: u32,
    /// Messages drained through an event source mapping.
    #[arg(long, default_value_t = 20_000)]
    pub mapping_messages: u32,
    /// BatchSize of the throughput mapping.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub batch_size: u32,
    /// PID of the server, to report its CPU per message (read from /proc).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Also print the figures as one line of JSON (the last line of stdout).
    #[arg(long)]
    pub json: bool,
}

/// A minimal Lambda REST-JSON client over a keep-alive pool (unsigned, SigV4-shaped).
#[derive(Clone)]
struct LambdaClient {
    http: Client<HttpConnector, Full<Bytes>>,
    endpoint: String,
}

/// One Lambda response: status, the headers we read, and the body.
struct Answer {
    status: StatusCode,
    log_result: Option<String>,
    function_error: bool,
    body: Bytes,
}

impl LambdaClient {
    fn new(endpoint: &str) -> LambdaClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        LambdaClient {
            http: Client::builder(TokioExecutor::new()).build(connector),
            endpoint: endpoint.trim_end_matches('/').to_string(),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Answer> {
        let uri: Uri = format!("{}{path}", self.endpoint).parse()?;
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-amz-date", AMZ_DATE)
            .header(header::AUTHORIZATION, AUTHORIZATION);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        let exchange = async {
            let response = self.http.request(request).await?;
            let status = response.status();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_string)
            };
            let log_result = header("x-amz-log-result");
            let function_error = header("x-amz-function-error").is_some();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok(Answer {
                status,
                log_result,
                function_error,
                body,
            })
        };
        tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .context("no answer in time")?
    }

    /// A control-plane call that must succeed; returns its JSON.
    async fn json(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let answer = self
            .call(method, path, serde_json::to_vec(&body)?, &[])
            .await?;
        if !answer.status.is_success() {
            bail!(
                "{path}: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
        }
        if answer.body.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&answer.body)?)
    }

    /// Invoke with the log tail; returns the round trip and the REPORT figures.
    async fn invoke(&self, function: &str) -> anyhow::Result<(Duration, Report)> {
        let started = Instant::now();
        let answer = self
            .call(
                Method::POST,
                &format!("/2015-03-31/functions/{function}/invocations"),
                b"{}".to_vec(),
                &[("x-amz-log-type", "Tail")],
            )
            .await?;
        let round_trip = started.elapsed();
        if answer.status != StatusCode::OK || answer.function_error {
            bail!(
                "invoke failed: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
        }
        let tail = answer
            .log_result
            .and_then(|encoded| {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()
            })
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        Ok((round_trip, Report::parse(&tail)))
    }
}

/// The figures of a REPORT line.
#[derive(Debug, Default, Clone, Copy)]
struct Report {
    duration_ms: Option<f64>,
    init_duration_ms: Option<f64>,
}

impl Report {
    fn parse(tail: &str) -> Report {
        let mut report = Report::default();
        let Some(line) = tail.lines().rev().find(|line| line.starts_with("REPORT ")) else {
            return report;
        };
        for field in line.split('\t') {
            let field = field.trim();
            let number = |prefix: &str| {
                field
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.trim_end_matches(" ms").trim().parse::<f64>().ok())
            };
            if let Some(value) = number("Init Duration:") {
                report.init_duration_ms = Some(value);
            } else if let Some(value) = number("Duration:") {
                report.duration_ms = Some(value);
            }
        }
        report
    }
}

/// Percentiles of a sample, in the sample's unit.
fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

fn summary(values: Vec<f64>) -> Value {
    let values = sorted(values);
    json!({
        "count": values.len(),
        "p50": percentile(&values, 0.50),
        "p90": percentile(&values, 0.90),
        "p99": percentile(&values, 0.99),
        "max": percentile(&values, 1.0),
    })
}

fn progress(length: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template("   {msg:<28} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn zip_bootstrap(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let executable =
        std::fs::read(path).with_context(|| format!("reading --bootstrap {}", path.display()))?;
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut archive = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o755);
        archive.start_file("bootstrap", options)?;
        archive.write_all(&executable)?;
        archive.finish()?;
    }
    Ok(buffer.into_inner())
}

/// Reads the stamp file: body → handler start (µs since the epoch).
fn read_stamps(path: &PathBuf) -> HashMap<String, i64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (body, micros) = line.split_once('\t')?;
            Some((body.to_string(), micros.parse().ok()?))
        })
        .collect()
}

fn cpu_of(pid: Option<u32>) -> Option<(Duration, Duration)> {
    let pid = pid?;
    let own = process::sample_process(pid)?.cpu_time;
    let tree = process::process_tree_cpu_time(pid)?;
    Some((own, tree.saturating_sub(own)))
}

/// Runs the four measurements and prints them.
pub async fn run(args: LambdaBenchArgs) -> anyhow::Result<()> {
    let lambda = LambdaClient::new(&args.endpoint);
    let sqs = SqsClient::new(&args.endpoint, 64, CALL_TIMEOUT)?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let function = format!("bench-noop-{}", &run_id[..8]);
    let stamps_dir = std::env::temp_dir().join(format!("eddy-bench-lambda-{}", &run_id[..8]));
    std::fs::create_dir_all(&stamps_dir)?;
    let stamps = stamps_dir.join("stamps.tsv");
    let zip = zip_bootstrap(&args.bootstrap)?;
    println!(
        "eddy bench lambda: function {function}, endpoint {}",
        args.endpoint
    );

    lambda
        .json(
            Method::POST,
            "/2015-03-31/functions",
            json!({
                "FunctionName": function,
                "Runtime": "provided.al2023",
                "Handler": "bootstrap",
                "Role": "arn:aws:iam::000000000000:role/bench",
                "Timeout": 30,
                "MemorySize": 128,
                "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(&zip)},
                "Environment": {"Variables": {"EDDY_BENCH_STAMPS": stamps.display().to_string()}},
            }),
        )
        .await?;
    wait_until_updated(&lambda, &function).await?;

    // 1. Warm invokes.
    lambda.invoke(&function).await?;
    let bar = progress(u64::from(args.invokes), "warm invoke");
    let (mut round_trips, mut handler, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.invokes {
        let (round_trip, report) = lambda.invoke(&function).await?;
        let round_trip_ms = round_trip.as_secs_f64() * 1000.0;
        let duration_ms = report.duration_ms.unwrap_or(0.0);
        round_trips.push(round_trip_ms);
        handler.push(duration_ms);
        overhead.push(round_trip_ms - duration_ms);
        bar.inc(1);
    }
    bar.finish();
    let warm = json!({
        "round_trip_ms": summary(round_trips),
        "handler_ms": summary(handler),
        "overhead_ms": summary(overhead),
    });

    // 2. Cold starts: each configuration change retires the warm environment.
    let bar = progress(u64::from(args.cold_starts), "cold start");
    let (mut cold_round_trips, mut inits, mut cold_overhead) = (Vec::new(), Vec::new(), Vec::new());
    for generation in 0..args.cold_starts {
        lambda
            .json(
                Method::PUT,
                &format!("/2015-03-31/functions/{function}/configuration"),
                json!({"Environment": {"Variables": {
                    "EDDY_BENCH_STAMPS": stamps.display().to_string(),
                    "EDDY_BENCH_GENERATION": generation.to_string(),
                }}}),
            )
            .await?;
        wait_until_updated(&lambda, &function).await?;
        let (round_trip, report) = lambda.invoke(&function).await?;
        let round_trip_ms = round_trip.as_secs_f64() * 1000.0;
        let Some(init_ms) = report.init_duration_ms else {
            bail!("a cold start's REPORT line has no Init Duration (was the environment warm?)");
        };
        cold_round_trips.push(round_trip_ms);
        inits.push(init_ms);
        cold_overhead.push(round_trip_ms - init_ms - report.duration_ms.unwrap_or(0.0));
        bar.inc(1);
    }
    bar.finish();
    let cold = json!({
        "round_trip_ms": summary(cold_round_trips),
        "runtime_init_ms": summary(inits),
        "overhead_ms": summary(cold_overhead),
    });

    let mut queues = Vec::new();
    let send_to_handler = if args.latency_messages > 0 {
        let (url, arn) = create_queue(&sqs, &format!("bench-latency-{}", &run_id[..8])).await?;
        queues.push(url.clone());
        send_to_handler(
            &args,
            &lambda,
            &sqs,
            &function,
            &stamps,
            &run_id,
            (&url, &arn),
        )
        .await?
    } else {
        Value::Null
    };
    let throughput = if args.mapping_messages > 0 {
        let (url, arn) = create_queue(&sqs, &format!("bench-drain-{}", &run_id[..8])).await?;
        queues.push(url.clone());
        mapping_throughput(&args, &lambda, &sqs, &function, &run_id, (&url, &arn)).await?
    } else {
        Value::Null
    };

    // Tidy up what the run made.
    let _ = lambda
        .call(
            Method::DELETE,
            &format!("/2015-03-31/functions/{function}"),
            Vec::new(),
            &[],
        )
        .await;
    for url in &queues {
        let _ = sqs.call("DeleteQueue", &json!({"QueueUrl": url})).await;
    }
    let _ = std::fs::remove_dir_all(&stamps_dir);

    let figures = json!({
        "warm_invoke": warm,
        "cold_start": cold,
        "send_to_handler_ms": send_to_handler,
        "mapping_throughput": throughput,
    });
    print_text(&figures);
    if args.json {
        println!("{figures}");
    }
    Ok(())
}

/// Measurement 3: SendMessage → handler start, one message at a time on an idle queue.
async fn send_to_handler(
    args: &LambdaBenchArgs,
    lambda: &LambdaClient,
    sqs: &SqsClient,
    function: &str,
    stamps: &PathBuf,
    run_id: &str,
    latency_queue: (&str, &str),
) -> anyhow::Result<Value> {
    let mapping = create_mapping(lambda, function, latency_queue.1, 1).await?;
    let mut latencies = Vec::new();
    let bar = progress(u64::from(args.latency_messages), "send → handler");
    for index in 0..args.latency_messages + 5 {
        let body = format!("lat-{run_id}-{index}");
        sqs.call(
            "SendMessage",
            &json!({"QueueUrl": latency_queue.0, "MessageBody": body}),
        )
        .await
        .map_err(|error| anyhow::anyhow!("SendMessage: {}", error.detail()))?;
        let sent = now_micros();
        let started = wait_for_stamp(stamps, &body).await?;
        // The first five warm the mapping's poller and the function.
        if index >= 5 {
            latencies.push((started - sent) as f64 / 1000.0);
            bar.inc(1);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bar.finish();
    delete_mapping(lambda, &mapping).await?;
    Ok(summary(latencies))
}

/// Measurement 4: fill a queue, then map it to the function and time the drain.
async fn mapping_throughput(
    args: &LambdaBenchArgs,
    lambda: &LambdaClient,
    sqs: &SqsClient,
    function: &str,
    run_id: &str,
    (queue_url, queue_arn): (&str, &str),
) -> anyhow::Result<Value> {
    fill_queue(sqs, queue_url, args.mapping_messages, run_id).await?;
    let cpu_before = cpu_of(args.server_pid);
    let started = Instant::now();
    let mapping = create_mapping(lambda, function, queue_arn, args.batch_size).await?;
    let bar = progress(u64::from(args.mapping_messages), "mapping drain");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let left = queue_depth(sqs, queue_url).await?;
        bar.set_position(u64::from(args.mapping_messages).saturating_sub(left));
        if left == 0 {
            break;
        }
        if Instant::now() > deadline {
            bail!("the mapping did not drain the queue within 10 minutes ({left} left)");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    bar.finish();
    let cpu_after = cpu_of(args.server_pid);
    delete_mapping(lambda, &mapping).await?;
    let messages = f64::from(args.mapping_messages);
    let per_message = |before: Duration, after: Duration| {
        after.saturating_sub(before).as_secs_f64() * 1e6 / messages
    };
    let (eddy_cpu_us, function_cpu_us) = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => (
            Some(per_message(before.0, after.0)),
            Some(per_message(before.1, after.1)),
        ),
        _ => (None, None),
    };
    Ok(json!({
        "messages": args.mapping_messages,
        "batch_size": args.batch_size,
        "seconds": elapsed.as_secs_f64(),
        "messages_per_second": messages / elapsed.as_secs_f64(),
        "eddy_cpu_us_per_message": eddy_cpu_us,
        "function_cpu_us_per_message": function_cpu_us,
    }))
}

fn print_text(figures: &Value) {
    let ms = |path: &[&str]| {
        let mut value = figures;
        for key in path {
            value = &value[*key];
        }
        value
            .as_f64()
            .map_or("-".to_string(), |v| format!("{v:.3}"))
    };
    println!();
    println!("warm synchronous invoke (no-op Rust function), ms:");
    for (label, key) in [
        ("round trip", "round_trip_ms"),
        ("handler (REPORT Duration)", "handler_ms"),
        ("eddy overhead", "overhead_ms"),
    ] {
        println!(
            "   {label:<28} p50 {}  p99 {}",
            ms(&["warm_invoke", key, "p50"]),
            ms(&["warm_invoke", key, "p99"])
        );
    }
    println!("cold start, ms:");
    for (label, key) in [
        ("round trip", "round_trip_ms"),
        ("runtime init (Init Duration)", "runtime_init_ms"),
        ("eddy overhead", "overhead_ms"),
    ] {
        println!(
            "   {label:<28} p50 {}  p99 {}",
            ms(&["cold_start", key, "p50"]),
            ms(&["cold_start", key, "p99"])
        );
    }
    if figures["send_to_handler_ms"].is_null() {
        println!("SendMessage → handler: not run (--latency-messages 0)");
    } else {
        println!(
            "SendMessage returned → handler started, ms: p50 {}  p90 {}  p99 {}",
            ms(&["send_to_handler_ms", "p50"]),
            ms(&["send_to_handler_ms", "p90"]),
            ms(&["send_to_handler_ms", "p99"])
        );
    }
    let throughput = &figures["mapping_throughput"];
    if throughput.is_null() {
        println!("event source mapping throughput: not run (--mapping-messages 0)");
        return;
    }
    println!(
        "event source mapping, batch {}: {} messages in {:.2} s = {:.0} msgs/s; eddy CPU {} µs/msg, function CPU {} µs/msg",
        throughput["batch_size"],
        throughput["messages"],
        throughput["seconds"].as_f64().unwrap_or(f64::NAN),
        throughput["messages_per_second"]
            .as_f64()
            .unwrap_or(f64::NAN),
        throughput["eddy_cpu_us_per_message"]
            .as_f64()
            .map_or("-".to_string(), |v| format!("{v:.1}")),
        throughput["function_cpu_us_per_message"]
            .as_f64()
            .map_or("-".to_string(), |v| format!("{v:.1}")),
    );
}

/// Waits (at most 30 s) until the function's last update is done.
async fn wait_until_updated(lambda: &LambdaClient, function: &str) -> anyhow::Result<()> {
    for _ in 0..3000 {
        let configuration = lambda
            .json(
                Method::GET,
                &format!("/2015-03-31/functions/{function}/configuration"),
                Value::Null,
            )
            .await?;
        let state = configuration["State"].as_str().unwrap_or("Active");
        let update = configuration["LastUpdateStatus"]
            .as_str()
            .unwrap_or("Successful");
        if state == "Active" && update == "Successful" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("function {function} did not become Active/Successful within 30 s")
}

/// Creates a queue; returns its URL and ARN.
async fn create_queue(sqs: &SqsClient, name: &str) -> anyhow::Result<(String, String)> {
    let created = sqs
        .call(
            "CreateQueue",
            &json!({"QueueName": name, "Attributes": {"VisibilityTimeout": "60"}}),
        )
        .await
        .map_err(|error| anyhow::anyhow!("CreateQueue: {}", error.detail()))?;
    let url = created["QueueUrl"]
        .as_str()
        .context("CreateQueue returned no QueueUrl")?
        .to_string();
    let attributes = sqs
        .call(
            "GetQueueAttributes",
            &json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
        )
        .await
        .map_err(|error| anyhow::anyhow!("GetQueueAttributes: {}", error.detail()))?;
    let arn = attributes["Attributes"]["QueueArn"]
        .as_str()
        .context("no QueueArn")?
        .to_string();
    Ok((url, arn))
}

/// Creates an enabled mapping and waits (at most 30 s) until it is Enabled; returns its UUID.
async fn create_mapping(
    lambda: &LambdaClient,
    function: &str,
    queue_arn: &str,
    batch_size: u32,
) -> anyhow::Result<String> {
    let created = lambda
        .json(
            Method::POST,
            "/2015-03-31/event-source-mappings/",
            json!({"EventSourceArn": queue_arn, "FunctionName": function, "BatchSize": batch_size}),
        )
        .await?;
    let uuid = created["UUID"]
        .as_str()
        .context("CreateEventSourceMapping returned no UUID")?
        .to_string();
    for _ in 0..3000 {
        let mapping = lambda
            .json(
                Method::GET,
                &format!("/2015-03-31/event-source-mappings/{uuid}"),
                Value::Null,
            )
            .await?;
        if mapping["State"] == "Enabled" {
            return Ok(uuid);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("mapping {uuid} did not become Enabled within 30 s")
}

async fn delete_mapping(lambda: &LambdaClient, uuid: &str) -> anyhow::Result<()> {
    lambda
        .json(
            Method::DELETE,
            &format!("/2015-03-31/event-source-mappings/{uuid}"),
            Value::Null,
        )
        .await
        .map(drop)
}

/// Waits (at most 10 s) for the handler to stamp `body`; returns when it started.
async fn wait_for_stamp(stamps: &PathBuf, body: &str) -> anyhow::Result<i64> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(started) = read_stamps(stamps).get(body) {
            return Ok(*started);
        }
        if Instant::now() > deadline {
            bail!("the handler never received {body} (is the mapping polling?)");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

/// Sends `count` messages with 16 concurrent SendMessageBatch callers.
async fn fill_queue(sqs: &SqsClient, url: &str, count: u32, run_id: &str) -> anyhow::Result<()> {
    let bar = progress(u64::from(count), "fill queue");
    let batches: Vec<u32> = (0..count.div_ceil(10)).collect();
    let chunks: Vec<Vec<u32>> = batches
        .chunks(batches.len().div_ceil(16).max(1))
        .map(<[u32]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let (sqs, url, bar, run_id) = (
            sqs.clone(),
            url.to_string(),
            bar.clone(),
            run_id.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            for batch in chunk {
                let first = batch * 10;
                let entries: Vec<Value> = (first..(first + 10).min(count))
                    .map(|index| json!({"Id": index.to_string(), "MessageBody": format!("drain-{run_id}-{index}")}))
                    .collect();
                let sent = entries.len() as u64;
                sqs.call("SendMessageBatch", &json!({"QueueUrl": url, "Entries": entries}))
                    .await
                    .map_err(|error| anyhow::anyhow!("SendMessageBatch: {}", error.detail()))?;
                bar.inc(sent);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    bar.finish();
    Ok(())
}

/// Visible plus in-flight messages.
async fn queue_depth(sqs: &SqsClient, url: &str) -> anyhow::Result<u64> {
    let attributes = sqs
        .call(
            "GetQueueAttributes",
            &json!({"QueueUrl": url, "AttributeNames": [
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]}),
        )
        .await
        .map_err(|error| anyhow::anyhow!("GetQueueAttributes: {}", error.detail()))?;
    let number = |name: &str| {
        attributes["Attributes"][name]
            .as_str()
            .and_then(|text| text.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(number("ApproximateNumberOfMessages") + number("ApproximateNumberOfMessagesNotVisible"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_figures_are_read() {
        let tail = "START RequestId: x Version: $LATEST\nEND RequestId: x\nREPORT RequestId: x\tDuration: 0.41 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\tInit Duration: 2.50 ms\t\n";
        let report = Report::parse(tail);
        assert_eq!(report.duration_ms, Some(0.41));
        assert_eq!(report.init_duration_ms, Some(2.5));
    }

    #[test]
    fn percentiles_pick_ranks_of_the_sorted_sample() {
        let values = sorted(vec![5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(percentile(&values, 0.5), 3.0);
        assert_eq!(percentile(&values, 1.0), 5.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
