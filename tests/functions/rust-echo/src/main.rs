//! A Lambda function for eddy's real-client tests: echoes its event, fails on
//! `{"fail":true}`, sleeps on `{"sleep_ms":n}`, and exits with status 3 on `{"exit":3}`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
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

#[tokio::main]
async fn main() -> Result<(), Error> {
    println!("rust-echo starting");
    lambda_runtime::run(service_fn(handle)).await
}
