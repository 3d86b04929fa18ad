//! A deliberately thin SQS client for the benchmark: AWS JSON 1.0 over a keep-alive hyper pool.
//!
//! It does not sign requests: it sends a SigV4-*shaped* `Authorization` header, which is all
//! eddy, moto and LocalStack need to route a request to SQS. Keeping the client this small keeps
//! its own CPU cost low, so the figures measure the server rather than the SDK.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode, Uri, header};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A fixed date, consistent with the credential scope below; no server checks it against the clock.
const AMZ_DATE: &str = "20260101T000000Z";
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// Why one call failed, classified so the report can count failures by kind.
#[derive(Debug)]
pub enum CallError {
    /// The connection failed or the response never arrived in time.
    Transport(String),
    /// The server answered with an error status; `code` is the AWS error code when it sent one.
    Service {
        status: StatusCode,
        code: String,
        message: String,
    },
    /// The server answered 200 with a body that is not the JSON we expected.
    Decode(String),
}

impl CallError {
    /// A short key under which this error is counted in the report.
    pub fn key(&self) -> String {
        match self {
            CallError::Transport(_) => "transport".to_owned(),
            CallError::Service { status, code, .. } => format!("{} {}", status.as_u16(), code),
            CallError::Decode(_) => "bad response body".to_owned(),
        }
    }

    /// A human-readable description, kept as the first example of each error key.
    pub fn detail(&self) -> String {
        match self {
            CallError::Transport(detail) | CallError::Decode(detail) => detail.clone(),
            CallError::Service { message, .. } => message.clone(),
        }
    }
}

/// A cloneable handle over one shared connection pool.
#[derive(Clone)]
pub struct SqsClient {
    http: Client<HttpConnector, Full<Bytes>>,
    endpoint: Uri,
    call_timeout: Duration,
}

impl SqsClient {
    /// Builds a client for `endpoint` (e.g. `http://127.0.0.1:4566`); `call_timeout` bounds every call.
    pub fn new(
        endpoint: &str,
        max_idle_connections: usize,
        call_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let endpoint: Uri = endpoint
            .parse()
            .map_err(|error| anyhow::anyhow!("invalid --endpoint {endpoint:?}: {error}"))?;
        if endpoint.scheme_str() != Some("http") {
            anyhow::bail!("--endpoint must be an http:// URL (the bench speaks plain HTTP/1.1)");
        }
        let mut connector = HttpConnector::new();
        // Small request/response pairs on a busy connection: Nagle would add delay for nothing.
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(max_idle_connections)
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Ok(Self {
            http,
            endpoint,
            call_timeout,
        })
    }

    /// Calls one SQS action (`SendMessage`, ...) with a JSON request and returns the JSON answer.
    pub async fn call(&self, action: &str, input: &Value) -> Result<Value, CallError> {
        let body =
            serde_json::to_vec(input).map_err(|error| CallError::Decode(error.to_string()))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.endpoint.clone())
            .header("x-amz-target", format!("AmazonSQS.{action}"))
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-date", AMZ_DATE)
            .header(header::AUTHORIZATION, AUTHORIZATION)
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| CallError::Transport(error.to_string()))?;

        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|error| CallError::Transport(describe_chain(&error)))?;
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|error| CallError::Transport(error.to_string()))?
                .to_bytes();
            Ok::<_, CallError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.call_timeout, exchange)
            .await
            .map_err(|_| {
                CallError::Transport(format!("no answer within {:?}", self.call_timeout))
            })??;

        if !status.is_success() {
            return Err(service_error(status, &bytes));
        }
        if bytes.is_empty() {
            // Some servers answer actions without output (DeleteMessage) with an empty body.
            return Ok(Value::Object(serde_json::Map::new()));
        }
        serde_json::from_slice(&bytes).map_err(|error| {
            CallError::Decode(format!(
                "{error}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ))
        })
    }
}

/// Reads the AWS error code out of an error body, tolerating servers that send something else.
fn service_error(status: StatusCode, bytes: &[u8]) -> CallError {
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|value| value.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    // `__type` may carry a namespace prefix (`com.amazonaws.sqs#QueueDoesNotExist`).
    let code = field("__type")
        .map(|code| code.rsplit('#').next().unwrap_or_default().to_owned())
        .unwrap_or_else(|| "(no error code)".to_owned());
    let message = field("message")
        .or_else(|| field("Message"))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned());
    CallError::Service {
        status,
        code,
        message,
    }
}

/// hyper's errors hide the interesting part (e.g. "connection refused") in their source chain.
fn describe_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
