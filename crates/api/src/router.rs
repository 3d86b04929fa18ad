//! The one HTTP entry point for every AWS API eddy serves. A request's service and
//! protocol are read from the request itself: `X-Amz-Target` (`AmazonSQS.*` is SQS over
//! JSON 1.0), else the form's `Action`/`Version` or the SigV4 credential scope (query
//! protocol: SQS, SNS, STS for `GetCallerIdentity`, or IAM's role actions), CloudWatch Logs
//! by its target (`Logs_20140328.*`, AWS JSON 1.1), and Lambda's REST-JSON by its path
//! (`/2015-03-31/functions…`). Handlers stay thin: read the body,
//! authenticate, decode, call the engine, encode.
//!
//! Three SNS requests need no credentials, because SNS puts them in the messages it
//! delivers: the SubscribeURL (`GET /?Action=ConfirmSubscription&…`), the UnsubscribeURL
//! (`GET /?Action=Unsubscribe&…`) and the SigningCertURL
//! (`GET /SimpleNotificationService-<hash>.pem`).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::Engine;
use engine::sns::types::SnsCaller;
use engine::sqs::Caller;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, StatusCode};

use crate::error::{Error, WireError};
use crate::sigv4::{self, Identity, SignedRequest};
use crate::sqs::query::Params;
use crate::sqs::{self, Action, ActionName, DecodeContext, json, query, queue_url};
use crate::{ApiConfig, iam, lambda, logs, sns, sts};

/// SQS caps a request at 1 MiB of message data; encodings (JSON escapes, form
/// percent-encoding) and the other members need room on top.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024 + 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const QUERY_ERROR: HeaderName = HeaderName::from_static("x-amzn-query-error");
const TARGET: &str = "x-amz-target";
const SQS_TARGET_PREFIX: &str = "AmazonSQS.";
const SQS_VERSION: &str = "2012-11-05";

struct Shared {
    engine: Engine,
    config: ApiConfig,
    max_body_bytes: usize,
}

pub fn app(engine: Engine, config: ApiConfig, max_body_bytes: usize) -> Router {
    let shared = Arc::new(Shared {
        engine,
        config,
        max_body_bytes,
    });
    Router::new()
        .route("/_eddy/health", get(health))
        .fallback(handle)
        .with_state(shared)
}

fn request_id_value(request_id: &str) -> HeaderValue {
    HeaderValue::from_str(request_id).unwrap_or(HeaderValue::from_static("0"))
}

async fn health() -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (REQUEST_ID, request_id_value(&request_id)),
        ],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

/// The protocol a response is written in, known before the body is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    SqsJson,
    StsJson,
    /// CloudWatch Logs (AWS JSON 1.1): errors carry only `__type` and `message`.
    LogsJson,
    /// Query protocol; errors are XML in this namespace.
    Query(&'static str),
    /// IAM's query protocol, whose XML errors carry no `Detail` element.
    IamQuery,
    /// SNS's query protocol: XML errors like IAM's, in SNS's namespace.
    SnsQuery,
}

/// What one request turned out to be, for the log line.
struct Outcome {
    response: Response,
    service: &'static str,
    action: &'static str,
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let outcome = process(&shared, &parts, body, &request_id).await;
    let mut response = outcome.response;
    let status = response.status();
    // A handler may name the request itself (an asynchronous Invoke answers with its
    // event's id); every other response gets the router's id.
    if !response.headers().contains_key(REQUEST_ID) {
        response
            .headers_mut()
            .insert(REQUEST_ID, request_id_value(&request_id));
    }
    let latency_us = started.elapsed().as_micros() as u64;
    tracing::debug!(
        service = outcome.service,
        action = outcome.action,
        status = status.as_u16(),
        latency_us,
        request_id = %request_id,
        "request"
    );
    response
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

async fn read_body(parts: &Parts, body: Body, limit: usize) -> Result<bytes::Bytes, Error> {
    let declared = header(parts, CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Error::RequestTooLarge);
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| Error::RequestTooLarge)
}

async fn process(shared: &Shared, parts: &Parts, body: Body, request_id: &str) -> Outcome {
    let target = header(parts, TARGET);
    let protocol = match target {
        Some(target) if target.starts_with(sts::TARGET_PREFIX) => Protocol::StsJson,
        Some(target) if target.starts_with(logs::TARGET_PREFIX) => Protocol::LogsJson,
        Some(_) => Protocol::SqsJson,
        None => Protocol::Query(query::NAMESPACE),
    };
    let fail =
        |protocol: Protocol, service: &'static str, action: &'static str, error: Error| Outcome {
            response: error_response(protocol, &error, request_id),
            service,
            action,
        };
    if target.is_none() && lambda::is_lambda_path(parts.uri.path()) {
        return serve_lambda(shared, parts, body).await;
    }
    if target.is_none() && parts.method == Method::GET && is_certificate_path(parts.uri.path()) {
        return serve_signing_certificate(shared, parts.uri.path());
    }
    let body = match read_body(parts, body, shared.max_body_bytes).await {
        Ok(body) => body,
        Err(error) => return fail(protocol, "sqs", "-", error),
    };
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };

    if let Some(target) = target {
        if let Some(operation) = target.strip_prefix(SQS_TARGET_PREFIX) {
            let Some(name) = ActionName::parse(operation) else {
                return fail(protocol, "sqs", "-", Error::InvalidAction);
            };
            return match serve_sqs_json(shared, parts, &signed, name).await {
                Ok(response) => Outcome {
                    response,
                    service: "sqs",
                    action: name.as_str(),
                },
                Err(error) => fail(protocol, "sqs", name.as_str(), error),
            };
        }
        if let Some(operation) = target.strip_prefix(logs::TARGET_PREFIX) {
            let Some(name) = logs::ActionName::parse(operation) else {
                return fail(protocol, "logs", "-", Error::InvalidAction);
            };
            return match serve_logs(shared, &signed, name).await {
                Ok(response) => Outcome {
                    response,
                    service: "logs",
                    action: name.as_str(),
                },
                Err(error) => fail(protocol, "logs", name.as_str(), error),
            };
        }
        if let Some(operation) = target.strip_prefix(sts::TARGET_PREFIX) {
            if operation != sts::GET_CALLER_IDENTITY {
                return fail(protocol, "sts", "-", Error::InvalidAction);
            }
            return match authenticate(shared, &signed) {
                Ok(identity) => Outcome {
                    response: json_response(
                        StatusCode::OK,
                        sts::JSON_CONTENT_TYPE,
                        sts::encode_json(&sts::CallerIdentity::of_account(&identity.account)),
                    ),
                    service: "sts",
                    action: sts::GET_CALLER_IDENTITY,
                },
                Err(error) => fail(protocol, "sts", sts::GET_CALLER_IDENTITY, error),
            };
        }
        return fail(protocol, "-", "-", Error::InvalidAction);
    }

    // Query protocol: parameters come from a form body and/or the URL query string.
    let is_form = parts.method == Method::POST
        && header(parts, CONTENT_TYPE.as_str())
            .is_none_or(|t| t.starts_with("application/x-www-form-urlencoded"));
    let mut sources: Vec<&[u8]> = Vec::with_capacity(2);
    if is_form {
        sources.push(&body);
    }
    if let Some(query_string) = parts.uri.query() {
        sources.push(query_string.as_bytes());
    }
    let params = match Params::parse(&sources) {
        Ok(params) => params,
        Err(error) => return fail(protocol, "sqs", "-", error),
    };
    let action = params.get("Action");
    let version = params.get("Version");
    let scope = sigv4::scope_service(&signed);
    if action == Some(sts::GET_CALLER_IDENTITY)
        || version == Some(sts::VERSION)
        || scope.as_deref() == Some("sts")
    {
        let sts_protocol = Protocol::Query(sts::NAMESPACE);
        if action != Some(sts::GET_CALLER_IDENTITY) {
            return fail(sts_protocol, "sts", "-", Error::InvalidAction);
        }
        return match authenticate(shared, &signed) {
            Ok(identity) => Outcome {
                response: xml_response(
                    StatusCode::OK,
                    sts::encode_xml(
                        &sts::CallerIdentity::of_account(&identity.account),
                        request_id,
                    ),
                ),
                service: "sts",
                action: sts::GET_CALLER_IDENTITY,
            },
            Err(error) => fail(sts_protocol, "sts", sts::GET_CALLER_IDENTITY, error),
        };
    }
    let sns_name = action.and_then(sns::ActionName::parse);
    let sns_unsupported = action.and_then(sns::unsupported_action);
    let other_version = version == Some(SQS_VERSION) || version == Some(iam::VERSION);
    if version == Some(sns::VERSION)
        || scope.as_deref() == Some(sns::SIGNING_NAME)
        || ((sns_name.is_some() || sns_unsupported.is_some()) && !other_version)
    {
        let Some(name) = sns_name else {
            // Authenticate before saying what eddy does not do.
            let error = match (authenticate(shared, &signed), sns_unsupported) {
                (Err(error), _) => error,
                (Ok(_), Some(unsupported)) => Error::Engine(unsupported),
                (Ok(_), None) => Error::InvalidAction,
            };
            return fail(Protocol::SnsQuery, "sns", "-", error);
        };
        return match serve_sns(shared, &signed, name, &params, request_id).await {
            Ok(response) => Outcome {
                response,
                service: "sns",
                action: name.as_str(),
            },
            Err(error) => fail(Protocol::SnsQuery, "sns", name.as_str(), error),
        };
    }
    let iam_name = action.and_then(iam::ActionName::parse);
    if version == Some(iam::VERSION)
        || scope.as_deref() == Some(iam::SIGNING_NAME)
        || (iam_name.is_some() && version != Some(SQS_VERSION))
    {
        let Some(name) = iam_name else {
            return fail(Protocol::IamQuery, "iam", "-", Error::InvalidAction);
        };
        return match serve_iam_query(shared, &signed, name, &params, request_id).await {
            Ok(response) => Outcome {
                response,
                service: "iam",
                action: name.as_str(),
            },
            Err(error) => fail(Protocol::IamQuery, "iam", name.as_str(), error),
        };
    }
    let name = action.and_then(ActionName::parse);
    let is_sqs = version == Some(SQS_VERSION) || scope.as_deref() == Some("sqs") || name.is_some();
    let (true, Some(name)) = (is_sqs, name) else {
        return fail(protocol, "sqs", "-", Error::InvalidAction);
    };
    match serve_sqs_query(shared, parts, &signed, name, &params, request_id).await {
        Ok(response) => Outcome {
            response,
            service: "sqs",
            action: name.as_str(),
        },
        Err(error) => fail(protocol, "sqs", name.as_str(), error),
    }
}

/// A Lambda control-plane request (REST-JSON, routed by path).
async fn serve_lambda(shared: &Shared, parts: &Parts, body: Body) -> Outcome {
    let mut action_name = "-";
    let result = async {
        let body = read_body(parts, body, lambda::MAX_BODY_BYTES).await?;
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
        };
        let identity = authenticate(shared, &signed)?;
        let action = lambda::decode(
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            &body,
        )?;
        action_name = action.name();
        lambda::dispatch(&shared.engine, &identity.account, action).await
    }
    .await;
    Outcome {
        response: result.unwrap_or_else(|error| lambda::error_response(&error)),
        service: "lambda",
        action: action_name,
    }
}

fn authenticate(shared: &Shared, signed: &SignedRequest<'_>) -> Result<Identity, Error> {
    sigv4::authenticate(
        signed,
        &shared.config.access_keys,
        &shared.engine.config().default_account,
    )
}

fn caller_of(identity: Identity) -> Caller {
    let sender_id = identity
        .access_key_id
        .unwrap_or_else(|| identity.account.clone());
    Caller {
        account: identity.account,
        sender_id,
    }
}

/// The host clients reached us through, for the queue URLs we hand out.
fn host_of(parts: &Parts) -> &str {
    header(parts, HOST.as_str())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost:4566")
}

async fn serve_sqs_json(
    shared: &Shared,
    parts: &Parts,
    signed: &SignedRequest<'_>,
    name: ActionName,
) -> Result<Response, Error> {
    let caller = caller_of(authenticate(shared, signed)?);
    let input = json::decode(signed.body)?;
    let context = DecodeContext {
        account: &caller.account,
        path_queue: None,
    };
    let action = Action::from_input(name, input, &context)?;
    let output = sqs::dispatch(&shared.engine, &caller, action).await?;
    let body = json::encode(name, &output, host_of(parts));
    Ok(json_response(StatusCode::OK, json::CONTENT_TYPE, body))
}

async fn serve_sqs_query(
    shared: &Shared,
    parts: &Parts,
    signed: &SignedRequest<'_>,
    name: ActionName,
    params: &Params<'_>,
    request_id: &str,
) -> Result<Response, Error> {
    let caller = caller_of(authenticate(shared, signed)?);
    let input = query::decode(name, params)?;
    let path_queue = queue_url::from_path(parts.uri.path());
    let context = DecodeContext {
        account: &caller.account,
        path_queue: path_queue.as_ref(),
    };
    let action = Action::from_input(name, input, &context)?;
    let output = sqs::dispatch(&shared.engine, &caller, action).await?;
    let body = query::encode(name, &output, host_of(parts), request_id);
    Ok(xml_response(StatusCode::OK, body))
}

async fn serve_logs(
    shared: &Shared,
    signed: &SignedRequest<'_>,
    name: logs::ActionName,
) -> Result<Response, Error> {
    let identity = authenticate(shared, signed)?;
    let action = logs::Action::decode(name, signed.body)?;
    let body = logs::dispatch(&shared.engine, &identity.account, action).await?;
    Ok(json_response(StatusCode::OK, logs::CONTENT_TYPE, body))
}

/// `/SimpleNotificationService-<hash>.pem`: where SNS messages say their signing
/// certificate is.
fn is_certificate_path(path: &str) -> bool {
    path.starts_with(sns::CERTIFICATE_PREFIX) && path.ends_with(".pem") && !path[1..].contains('/')
}

/// The SigningCertURL: served to anyone, since subscribers fetch it to verify messages.
fn serve_signing_certificate(shared: &Shared, path: &str) -> Outcome {
    let file_name = path.trim_start_matches('/');
    let response = match shared.engine.sns_signing_certificate(file_name) {
        Some(pem) => (
            StatusCode::OK,
            [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
            pem,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
            "Not Found",
        )
            .into_response(),
    };
    Outcome {
        response,
        service: "sns",
        action: "SigningCertificate",
    }
}

async fn serve_sns(
    shared: &Shared,
    signed: &SignedRequest<'_>,
    name: sns::ActionName,
    params: &Params<'_>,
    request_id: &str,
) -> Result<Response, Error> {
    // A SubscribeURL or UnsubscribeURL is a plain GET without a signature; a signed one is
    // checked like any other request.
    let unsigned = matches!(sigv4::parse_authorization(signed), Ok(None));
    let caller = if name.allows_anonymous() && unsigned {
        SnsCaller::anonymous()
    } else {
        SnsCaller {
            account: authenticate(shared, signed)?.account,
        }
    };
    let action = sns::query::decode(name, params)?;
    let output = sns::dispatch(&shared.engine, &caller, action).await?;
    Ok(xml_response(
        StatusCode::OK,
        sns::query::encode(name, &output, request_id),
    ))
}

async fn serve_iam_query(
    shared: &Shared,
    signed: &SignedRequest<'_>,
    name: iam::ActionName,
    params: &Params<'_>,
    request_id: &str,
) -> Result<Response, Error> {
    let identity = authenticate(shared, signed)?;
    let action = iam::query::decode(name, params)?;
    let output = iam::dispatch(&shared.engine, &identity.account, action).await?;
    Ok(xml_response(
        StatusCode::OK,
        iam::query::encode(name, &output, request_id),
    ))
}

fn json_response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(query::CONTENT_TYPE))],
        body,
    )
        .into_response()
}

fn log_error(wire: &WireError) {
    if wire.status == StatusCode::SERVICE_UNAVAILABLE {
        // Expected while the database restarts; clients retry, and the cause is already
        // logged once as a warning where the error was mapped.
        tracing::debug!(
            code = wire.query_code,
            "request failed: service unavailable"
        );
    } else if wire.status.is_server_error() {
        tracing::error!(
            code = wire.query_code,
            status = wire.status.as_u16(),
            "request failed"
        );
    } else {
        tracing::warn!(code = wire.query_code, status = wire.status.as_u16(), message = %wire.message, "request rejected");
    }
}

fn error_response(protocol: Protocol, error: &Error, request_id: &str) -> Response {
    let wire = error.wire();
    log_error(&wire);
    match protocol {
        Protocol::SqsJson | Protocol::StsJson => {
            let mut response = json_response(
                wire.status,
                if protocol == Protocol::SqsJson {
                    json::CONTENT_TYPE
                } else {
                    sts::JSON_CONTENT_TYPE
                },
                json::error_body(wire.json_type, &wire.message),
            );
            // boto3 and the other SDKs read the query-era code from this header.
            if let Ok(value) =
                HeaderValue::from_str(&format!("{};{}", wire.query_code, wire.fault()))
            {
                response.headers_mut().insert(QUERY_ERROR, value);
            }
            response
        }
        Protocol::LogsJson => json_response(
            wire.status,
            logs::CONTENT_TYPE,
            json::error_body(wire.json_type, &wire.message),
        ),
        Protocol::Query(namespace) => {
            xml_response(wire.status, query::error_body(namespace, &wire, request_id))
        }
        Protocol::IamQuery => xml_response(wire.status, iam::query::error_body(&wire, request_id)),
        Protocol::SnsQuery => xml_response(wire.status, sns::query::error_body(&wire, request_id)),
    }
}
