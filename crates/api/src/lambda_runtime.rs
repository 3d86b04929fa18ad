//! The Lambda Runtime API over HTTP (`/2018-06-01/runtime/...`), served on each execution
//! environment's own loopback listener and mapped onto the engine's `RuntimeApi` state
//! machine. [`RuntimeApiHttp`] is the engine's `RuntimeApiServer`.
//!
//! What the official clients need (reference §1.4, §1.7): any or no `Content-Type` on what
//! they post, chunked bodies, request headers of up to about 1 MiB (the X-Ray error cause),
//! several connections at once, no timeout on a waiting `/next`, and `Content-Type:
//! application/json` on the `/next` reply (the Python client crashes without it).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use engine::lambda::{MAX_RESPONSE_BYTES, RuntimeApi, RuntimeApiError, RuntimeApiServer};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The most header bytes one request may carry. hyper's default (about 400 KB) is below
/// what the Python client sends as `Lambda-Runtime-Function-XRay-Error-Cause` (< 1 MiB),
/// and a 431 there makes the client give up.
pub const MAX_HEADER_BYTES: usize = 2 * 1024 * 1024;

const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

/// Serves environments' Runtime APIs: one task per listener, one per connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuntimeApiHttp;

impl RuntimeApiServer for RuntimeApiHttp {
    fn serve(&self, listener: TcpListener, runtime_api: RuntimeApi, stop: CancellationToken) {
        tokio::spawn(serve(listener, runtime_api, stop));
    }
}

/// Accepts connections until `stop`; each connection is served on its own task, so a
/// client's second connection is never held up by a `/next` waiting on the first.
pub async fn serve(listener: TcpListener, runtime_api: RuntimeApi, stop: CancellationToken) {
    let app = router(runtime_api);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "accept on a Runtime API listener");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let stop = stop.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .max_buf_size(MAX_HEADER_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "Runtime API connection");
                    }
                }
                () = stop.cancelled() => {}
            }
        });
    }
}

/// The routes of one environment.
pub fn router(runtime_api: RuntimeApi) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .fallback(not_found)
        .with_state(runtime_api)
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

fn platform_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    json_response(
        status,
        serde_json::json!({"errorMessage": message, "errorType": error_type}),
    )
}

fn accepted() -> Response {
    json_response(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

fn refused(error: &RuntimeApiError) -> Response {
    match error {
        RuntimeApiError::InvalidRequestId => platform_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            &error.to_string(),
        ),
        RuntimeApiError::InvalidStateTransition(message) => {
            platform_error(StatusCode::FORBIDDEN, "InvalidStateTransition", message)
        }
    }
}

fn too_large() -> Response {
    platform_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
    )
}

/// Reads a whole body (chunked or not) up to [`MAX_RESPONSE_BYTES`]; `None` when over.
async fn read_body(body: Body) -> Option<Vec<u8>> {
    axum::body::to_bytes(body, MAX_RESPONSE_BYTES)
        .await
        .ok()
        .map(Vec::from)
}

fn error_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ERROR_TYPE_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

async fn next(State(runtime_api): State<RuntimeApi>) -> Response {
    let invocation = match runtime_api.next().await {
        Ok(invocation) => invocation,
        Err(error) => return refused(&error),
    };
    let mut response = Response::new(Body::from(invocation.payload.to_vec()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut insert = |name: &'static str, value: &str| {
        // Values come from eddy (ids, ARNs, numbers) or from JSON the caller gave; a value
        // that is not a valid header is left out rather than failing the invocation.
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    insert("lambda-runtime-aws-request-id", &invocation.request_id);
    insert(
        "lambda-runtime-deadline-ms",
        &invocation.deadline_ms.to_string(),
    );
    insert(
        "lambda-runtime-invoked-function-arn",
        &invocation.invoked_function_arn,
    );
    insert("lambda-runtime-trace-id", &invocation.trace_id);
    if let Some(client_context) = &invocation.client_context {
        insert("lambda-runtime-client-context", client_context);
    }
    if let Some(cognito_identity) = &invocation.cognito_identity {
        insert("lambda-runtime-cognito-identity", cognito_identity);
    }
    response
}

async fn response(
    State(runtime_api): State<RuntimeApi>,
    Path(request_id): Path<String>,
    body: Body,
) -> Response {
    let Some(body) = read_body(body).await else {
        return match runtime_api.response_too_large(&request_id) {
            Ok(()) => too_large(),
            Err(error) => refused(&error),
        };
    };
    match runtime_api.respond(&request_id, body) {
        Ok(()) => accepted(),
        Err(error) => refused(&error),
    }
}

async fn error(
    State(runtime_api): State<RuntimeApi>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(body) = read_body(body).await else {
        return too_large();
    };
    match runtime_api.error(&request_id, body, error_type(&headers)) {
        Ok(()) => accepted(),
        Err(error) => refused(&error),
    }
}

async fn init_error(
    State(runtime_api): State<RuntimeApi>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(body) = read_body(body).await else {
        return too_large();
    };
    match runtime_api.init_error(body, error_type(&headers)) {
        Ok(()) => accepted(),
        Err(error) => refused(&error),
    }
}

async fn not_found() -> Response {
    platform_error(StatusCode::NOT_FOUND, "NotFound", "Not found")
}
