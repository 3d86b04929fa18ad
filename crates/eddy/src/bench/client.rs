//! Deliberately thin SQS and SNS clients for the benchmark, over a keep-alive hyper pool:
//! SQS in AWS JSON 1.0, SNS in the query protocol (a form POST answered with XML).
//!
//! They do not sign requests: they send a SigV4-*shaped* `Authorization` header, which is all
//! eddy (without credentials), moto and LocalStack need to route a request to its service.
//! Keeping the clients this small keeps their own CPU cost low, so the figures measure the
//! server rather than the SDK.

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
/// The same for SNS: servers that route by credential scope (moto) need `sns` in it.
const SNS_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sns/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";
/// The query-protocol version that names SNS.
const SNS_VERSION: &str = "2010-03-31";

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
    /// The server answered 200 with a body that is not the JSON (or XML) we expected.
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

/// A keep-alive connection pool to one endpoint, with the timeout every call gets.
#[derive(Clone)]
struct Pool {
    http: Client<HttpConnector, Full<Bytes>>,
    endpoint: Uri,
    call_timeout: Duration,
}

impl Pool {
    fn new(
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

    /// POSTs `body` to the endpoint's root with `headers`; the status and the whole body.
    async fn post(
        &self,
        headers: &[(header::HeaderName, &str)],
        body: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), CallError> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.endpoint.clone())
            .header("x-amz-date", AMZ_DATE);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let request = request
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
        tokio::time::timeout(self.call_timeout, exchange)
            .await
            .map_err(|_| {
                CallError::Transport(format!("no answer within {:?}", self.call_timeout))
            })?
    }
}

/// A cloneable SQS client over one shared connection pool.
#[derive(Clone)]
pub struct SqsClient {
    pool: Pool,
}

impl SqsClient {
    /// Builds a client for `endpoint` (e.g. `http://127.0.0.1:4566`); `call_timeout` bounds every call.
    pub fn new(
        endpoint: &str,
        max_idle_connections: usize,
        call_timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            pool: Pool::new(endpoint, max_idle_connections, call_timeout)?,
        })
    }

    /// Calls one SQS action (`SendMessage`, ...) with a JSON request and returns the JSON answer.
    pub async fn call(&self, action: &str, input: &Value) -> Result<Value, CallError> {
        let body =
            serde_json::to_vec(input).map_err(|error| CallError::Decode(error.to_string()))?;
        let target = format!("AmazonSQS.{action}");
        let (status, bytes) = self
            .pool
            .post(
                &[
                    (header::HeaderName::from_static("x-amz-target"), &target),
                    (header::CONTENT_TYPE, "application/x-amz-json-1.0"),
                    (header::AUTHORIZATION, AUTHORIZATION),
                ],
                body,
            )
            .await?;
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

/// A cloneable SNS client (query protocol) over one shared connection pool.
#[derive(Clone)]
pub struct SnsClient {
    pool: Pool,
}

impl SnsClient {
    /// Builds a client for `endpoint`; `call_timeout` bounds every call.
    pub fn new(
        endpoint: &str,
        max_idle_connections: usize,
        call_timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            pool: Pool::new(endpoint, max_idle_connections, call_timeout)?,
        })
    }

    /// Calls one SNS action with its form parameters (`Action` and `Version` are added) and
    /// returns the XML answer as text.
    pub async fn call(
        &self,
        action: &str,
        parameters: &[(&str, &str)],
    ) -> Result<String, CallError> {
        let mut form = form_encode(&[("Action", action), ("Version", SNS_VERSION)]);
        if !parameters.is_empty() {
            form.push('&');
            form.push_str(&form_encode(parameters));
        }
        let (status, bytes) = self
            .pool
            .post(
                &[
                    (
                        header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded; charset=utf-8",
                    ),
                    (header::AUTHORIZATION, SNS_AUTHORIZATION),
                ],
                form.into_bytes(),
            )
            .await?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if !status.is_success() {
            return Err(CallError::Service {
                status,
                code: xml_element(&text, "Code").unwrap_or_else(|| "(no error code)".to_owned()),
                message: xml_element(&text, "Message")
                    .unwrap_or_else(|| text.chars().take(200).collect()),
            });
        }
        Ok(text)
    }

    /// Calls `action` and returns the text of element `element` of its answer.
    pub async fn call_for(
        &self,
        action: &str,
        parameters: &[(&str, &str)],
        element: &str,
    ) -> Result<String, CallError> {
        let answer = self.call(action, parameters).await?;
        xml_element(&answer, element).ok_or_else(|| {
            CallError::Decode(format!(
                "{action} answered without <{element}>: {}",
                answer.chars().take(200).collect::<String>()
            ))
        })
    }
}

/// `application/x-www-form-urlencoded` of `pairs`: every byte but the unreserved ones
/// (`A-Z a-z 0-9 - _ . ~`) percent-encoded, which every form decoder accepts.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut form = String::new();
    for (position, (name, value)) in pairs.iter().enumerate() {
        if position > 0 {
            form.push('&');
        }
        percent_encode_into(&mut form, name);
        form.push('=');
        percent_encode_into(&mut form, value);
    }
    form
}

fn percent_encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// The unescaped text of the first `<name>…</name>` in `xml`. The SNS answers the bench reads
/// are flat and small, so a search is enough; no namespace prefixes or attributes on `name`.
pub fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let length = xml[start..].find(&close)?;
    Some(xml_unescape(&xml[start..start + length]))
}

/// Undoes the five predefined XML entities and numeric character references.
fn xml_unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find('&') {
        out.push_str(&rest[..position]);
        rest = &rest[position..];
        let Some(end) = rest.find(';') else {
            break;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| {
                    entity
                        .strip_prefix('#')
                        .and_then(|decimal| decimal.parse().ok())
                })
                .and_then(char::from_u32),
        };
        match decoded {
            Some(character) => {
                out.push(character);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_encoded_except_unreserved_bytes() {
        assert_eq!(
            form_encode(&[
                ("TopicArn", "arn:aws:sns:us-east-1:1:t"),
                ("Message", "a b+é~")
            ]),
            "TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Message=a%20b%2B%C3%A9~"
        );
    }

    #[test]
    fn xml_elements_are_found_and_unescaped() {
        let answer = "<PublishResponse xmlns=\"x\"><PublishResult><MessageId>m&amp;1&#x41;</MessageId></PublishResult></PublishResponse>";
        assert_eq!(xml_element(answer, "MessageId").as_deref(), Some("m&1A"));
        assert_eq!(xml_element(answer, "TopicArn"), None);
    }
}
