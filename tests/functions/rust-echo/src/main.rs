//! A Lambda function for eddy's real-client tests: echoes its event, fails on
//! `{"fail":true}`, sleeps on `{"sleep_ms":n}`, and exits with status 3 on `{"exit":3}`.
//! For `eddy bench lambda`: when `EDDY_BENCH_STAMPS` names a file, each SQS record's body
//! is appended to it with the wall-clock time (µs since the epoch) the handler started.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let started = std::time::SystemTime::now();
    let (payload, context) = event.into_parts();
    if let (Ok(path), Some(records)) = (
        std::env::var("EDDY_BENCH_STAMPS"),
        payload.get("Records").and_then(Value::as_array),
    ) {
        stamp(&path, records, started)?;
    }
    if payload.get("fail").and_then(Value::as_bool) == Some(true) {
        return Err("boom".into());
    }
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    if let Some(sleep_ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(std::time::Duration::from_millis(sleep_ms)).await;
    }
    Ok(json!({
        "echo": payload,
        "request_id": context.request_id,
        "pid": std::process::id(),
    }))
}

/// Appends `<body>\t<start µs>` per record in one write.
fn stamp(path: &str, records: &[Value], started: std::time::SystemTime) -> Result<(), Error> {
    use std::io::Write;
    let micros = started
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_micros())
        .unwrap_or(0);
    let mut lines = String::new();
    for record in records {
        let body = record.get("body").and_then(Value::as_str).unwrap_or("");
        lines.push_str(&format!("{body}\t{micros}\n"));
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(lines.as_bytes())?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    println!("rust-echo starting");
    lambda_runtime::run(service_fn(handle)).await
}
