//! The client side of eddy's client subcommands (`eddy logs`): AWS JSON 1.1 calls and
//! REST-JSON GETs to a running server over a hyper connection pool, each signed with
//! Signature Version 4 by `api::sigv4::sign`, so they work against a server that requires
//! credentials as well as one that does not.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri, header};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the server is and who signs the requests.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The eddy server.
    #[arg(
        long,
        env = "EDDY_ENDPOINT_URL",
        default_value = "http://127.0.0.1:4566"
    )]
    pub endpoint_url: String,
    /// Access key id requests are signed with (any works on a server without keys).
    #[arg(long, env = "AWS_ACCESS_KEY_ID", default_value = "test")]
    pub access_key_id: String,
    /// Secret of --access-key-id.
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        default_value = "test",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub secret_access_key: String,
    /// Region in the signature's scope.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// No answer: the server is not reachable, or took too long.
    Transport(String),
    /// The server answered with an AWS error.
    Service {
        status: StatusCode,
        code: String,
        message: String,
    },
}

impl std::fmt::Display for CallError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transport(detail) => write!(formatter, "{detail}"),
            CallError::Service {
                status,
                code,
                message,
            } => write!(formatter, "{code} ({}): {message}", status.as_u16()),
        }
    }
}

impl std::error::Error for CallError {}

impl CallError {
    /// The AWS error code, if the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Service { code, .. } => Some(code),
            CallError::Transport(_) => None,
        }
    }
}

/// A signed client of one eddy server. Cheap to clone.
#[derive(Clone)]
pub struct AwsClient {
    http: Client<HttpConnector, Full<Bytes>>,
    endpoint: Uri,
    host: String,
    args: ClientArgs,
}

impl AwsClient {
    pub fn new(args: &ClientArgs) -> anyhow::Result<AwsClient> {
        let endpoint: Uri = args
            .endpoint_url
            .trim_end_matches('/')
            .parse()
            .map_err(|error| {
                anyhow::anyhow!("invalid --endpoint-url {:?}: {error}", args.endpoint_url)
            })?;
        if endpoint.scheme_str() != Some("http") {
            anyhow::bail!("--endpoint-url must be an http:// URL");
        }
        let host = endpoint
            .authority()
            .map(|authority| authority.as_str().to_string())
            .ok_or_else(|| anyhow::anyhow!("--endpoint-url {:?} has no host", args.endpoint_url))?;
        let http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        Ok(AwsClient {
            http,
            endpoint,
            host,
            args: args.clone(),
        })
    }

    /// An AWS JSON 1.1 call: `X-Amz-Target: <target>`, signed for `service`.
    pub async fn call_json(
        &self,
        service: &str,
        target: &str,
        body: &Value,
    ) -> Result<Value, CallError> {
        let body = serde_json::to_vec(body).unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        if let Ok(target) = header::HeaderValue::from_str(target) {
            headers.insert("x-amz-target", target);
        }
        self.send(Method::POST, "/", headers, body, service).await
    }

    /// A REST-JSON GET of `path` (already percent-encoded), signed for `service`.
    pub async fn get_rest(&self, service: &str, path: &str) -> Result<Value, CallError> {
        self.send(Method::GET, path, HeaderMap::new(), Vec::new(), service)
            .await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        mut headers: HeaderMap,
        body: Vec<u8>,
        service: &str,
    ) -> Result<Value, CallError> {
        if let Ok(host) = header::HeaderValue::from_str(&self.host) {
            headers.insert(header::HOST, host);
        }
        api::sigv4::sign(
            method.as_str(),
            path,
            None,
            &mut headers,
            &body,
            &api::sigv4::SigningCredentials {
                access_key_id: &self.args.access_key_id,
                secret_access_key: &self.args.secret_access_key,
                region: &self.args.region,
                service,
            },
            &amz_date(SystemTime::now()),
        );
        let uri = format!("{}{path}", self.endpoint.to_string().trim_end_matches('/'));
        let mut request = Request::builder().method(method).uri(&uri);
        if let Some(request_headers) = request.headers_mut() {
            request_headers.extend(headers);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| {
                CallError::Transport(format!("cannot build a request to {uri}: {error}"))
            })?;
        let call = async {
            let response = self.http.request(request).await.map_err(|error| {
                CallError::Transport(format!("cannot reach eddy at {}: {error}", self.endpoint))
            })?;
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|error| CallError::Transport(format!("reading the response: {error}")))?
                .to_bytes();
            Ok::<_, CallError>((parts, bytes))
        };
        let (parts, bytes) = tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| {
                CallError::Transport(format!("no answer from {} in time", self.endpoint))
            })??;
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if parts.status.is_success() {
            return Ok(value);
        }
        let code = value
            .get("__type")
            .and_then(Value::as_str)
            .or_else(|| {
                parts
                    .headers
                    .get("x-amzn-errortype")
                    .and_then(|value| value.to_str().ok())
            })
            .map(|code| code.rsplit('#').next().unwrap_or(code))
            .map(|code| code.split(':').next().unwrap_or(code).to_string())
            .unwrap_or_else(|| parts.status.as_str().to_string());
        let message = value
            .get("message")
            .or_else(|| value.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Err(CallError::Service {
            status: parts.status,
            code,
            message,
        })
    }
}

/// Milliseconds since the epoch.
pub fn epoch_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    })
}

/// `YYYYMMDDTHHMMSSZ`, as SigV4's `x-amz-date`.
fn amz_date(time: SystemTime) -> String {
    // `2026-01-31T12:34:56.789+0000`
    let formatted = engine::lambda::format_last_modified(epoch_millis(time));
    let date = formatted.get(..10).unwrap_or_default().replace('-', "");
    let clock = formatted.get(11..19).unwrap_or_default().replace(':', "");
    format!("{date}T{clock}Z")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn amz_dates_are_basic_iso8601_utc() {
        let time = UNIX_EPOCH + Duration::from_millis(1_769_862_896_789);
        assert_eq!(amz_date(time), "20260131T123456Z");
    }

    #[test]
    fn endpoints_must_be_plain_http() {
        let args = |url: &str| ClientArgs {
            endpoint_url: url.to_string(),
            access_key_id: "a".to_string(),
            secret_access_key: "s".to_string(),
            region: "us-east-1".to_string(),
        };
        assert!(AwsClient::new(&args("http://127.0.0.1:4566")).is_ok());
        assert!(AwsClient::new(&args("https://example.com")).is_err());
    }
}
