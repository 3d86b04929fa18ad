//! A queue feeding a function built with the official Rust runtime client (`lambda_runtime`,
//! tests/functions/rust-echo, custom runtime `provided.al2023`): the engine's mapping
//! pollers deliver every message in batches through the api crate's Runtime API over HTTP,
//! and delete each batch once the function answers. Prints the throughput it saw (a debug
//! build; not a benchmark).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::lambda_runtime::RuntimeApiHttp;
use engine::lambda::{
    ConcurrencyGate, CreateEventSourceMappingInput, CreateFunctionInput, FunctionCode,
    FunctionPlatform, FunctionRunner, LambdaConfig, ScalingConfig,
};
use engine::sqs::{BatchEntry, Caller, CreateQueueInput, SendMessageInput};
use engine::{CancellationToken, Engine, EngineConfig, SystemClock};

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

const ACCOUNT: &str = "000000000000";
const MESSAGES: usize = 200;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds tests/functions/rust-echo (a no-op after the first build) and zips its
/// `bootstrap` as a deployment package.
fn rust_echo_zip() -> Fallible<Vec<u8>> {
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
    let bootstrap = std::fs::read(target_dir.join("release/bootstrap"))?;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file(
        "bootstrap",
        zip::write::SimpleFileOptions::default().unix_permissions(0o755),
    )?;
    writer.write_all(&bootstrap)?;
    Ok(writer.finish()?.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_messages_reach_a_rust_lambda_runtime_function_and_are_deleted() -> Fallible<()> {
    let zip = rust_echo_zip()?;
    let dir = tempfile::tempdir()?;
    let store = store::testing::open_test_store(dir.path()).await?;
    let shutdown = CancellationToken::new();
    let _stop_on_exit = shutdown.clone().drop_guard();
    let engine = Engine::new(
        store,
        Arc::new(SystemClock),
        EngineConfig::default(),
        shutdown.clone(),
    );
    engine.set_function_platform(FunctionPlatform {
        runner: FunctionRunner::new(LambdaConfig::default(), Arc::new(RuntimeApiHttp)),
        data_dir: dir.path().join("data"),
        concurrency: ConcurrencyGate::new(1000),
    });
    let _workers = engine.start_workers();
    let caller = Caller {
        account: ACCOUNT.to_string(),
        sender_id: ACCOUNT.to_string(),
    };
    let queue = engine
        .create_queue(
            &caller,
            CreateQueueInput {
                name: "to-rust".to_string(),
                attributes: BTreeMap::new(),
                tags: BTreeMap::new(),
            },
        )
        .await?;
    engine
        .create_function(
            ACCOUNT,
            CreateFunctionInput {
                function_name: "rust-echo".to_string(),
                runtime: Some("provided.al2023".to_string()),
                role: Some("arn:aws:iam::000000000000:role/lambda-role".to_string()),
                handler: Some("bootstrap".to_string()),
                code: FunctionCode {
                    zip_file: Some(zip),
                    ..FunctionCode::default()
                },
                ..CreateFunctionInput::default()
            },
        )
        .await?;
    let mapping = engine
        .create_event_source_mapping(
            ACCOUNT,
            CreateEventSourceMappingInput {
                event_source_arn: Some(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:to-rust")),
                function_name: Some("rust-echo".to_string()),
                batch_size: Some(10),
                scaling_config: Some(ScalingConfig {
                    maximum_concurrency: Some(2),
                }),
                ..CreateEventSourceMappingInput::default()
            },
        )
        .await?;

    let started = Instant::now();
    for first in (0..MESSAGES).step_by(10) {
        let entries = (first..first + 10)
            .map(|n| BatchEntry {
                id: n.to_string(),
                input: SendMessageInput {
                    body: format!("{{\"n\":{n}}}"),
                    ..SendMessageInput::default()
                },
            })
            .collect();
        let sent = engine.send_message_batch(&caller, &queue, entries).await?;
        assert!(sent.failed.is_empty(), "{:?}", sent.failed);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = engine
            .get_queue_attributes(
                &queue,
                &[
                    "ApproximateNumberOfMessages".to_string(),
                    "ApproximateNumberOfMessagesNotVisible".to_string(),
                ],
            )
            .await?;
        if counts.values().all(|count| count == "0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue still holds {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();

    let log = engine
        .function_runner()
        .ok_or("no runner")?
        .log_groups()
        .find(ACCOUNT, "/aws/lambda/rust-echo")
        .map(|log| log.lines())
        .unwrap_or_default();
    let reports = log
        .iter()
        .filter(|line| line.starts_with("REPORT RequestId:"))
        .count();
    // At most 10 messages a batch: at least 20 invocations, each one framed in the log.
    assert!(reports >= MESSAGES / 10, "{reports} invocations:\n{log:#?}");
    assert_eq!(
        engine
            .get_event_source_mapping(ACCOUNT, &mapping.uuid)
            .await?
            .state,
        "Enabled"
    );
    println!(
        "rust-echo through a mapping: {MESSAGES} messages in {reports} invocations, {:.0} ms ({:.0} messages/s, debug build)",
        elapsed.as_secs_f64() * 1000.0,
        MESSAGES as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
