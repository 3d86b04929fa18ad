//! The Lambda control plane over REST-JSON (`/2015-03-31/functions…`): the method and path
//! decode into one typed [`Action`]; [`dispatch`] runs it against the engine in one
//! `match` and encodes the answer; [`error_response`] writes Lambda's errors
//! (`X-Amzn-ErrorType`, `{"Type":"User","message"|"Message":…}`). `versions.rs` decodes the
//! version and alias paths, `settings.rs` the concurrency, account-settings and tag paths
//! (their own date prefixes), `mappings.rs` the event source mappings
//! (`/2015-03-31/event-source-mappings…`).

pub mod mappings;
mod settings;
mod versions;

use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use engine::Engine;
use engine::lambda::{
    CreateAliasInput, CreateFunctionInput, FunctionConfiguration, InvocationType, InvokeInput,
    PublishVersionInput, UpdateAliasInput, UpdateFunctionCodeInput,
    UpdateFunctionConfigurationInput,
};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::error::{Error, Result};

mod event_invoke_config;
pub use event_invoke_config::EventInvokeConfigAction;

/// Every control-plane path starts with this.
pub const FUNCTIONS_PREFIX: &str = "/2015-03-31/functions";
/// A deployment package may be 50 MB, which base64 in JSON makes about 67 MB.
pub const MAX_BODY_BYTES: usize = 72 * 1024 * 1024;

const JSON: &str = "application/json";
const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
const EXECUTED_VERSION: HeaderName = HeaderName::from_static("x-amz-executed-version");
const FUNCTION_ERROR: HeaderName = HeaderName::from_static("x-amz-function-error");
const LOG_RESULT: HeaderName = HeaderName::from_static("x-amz-log-result");
/// Set here for an asynchronous Invoke (the event's id); the router keeps it.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");

/// Whether a request is for the Lambda control plane (decided by its path alone).
pub fn is_lambda_path(path: &str) -> bool {
    event_invoke_config::is_path(path)
        || mappings::is_event_source_mapping_path(path)
        || path == FUNCTIONS_PREFIX
        || path
            .strip_prefix(FUNCTIONS_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
        || settings::is_settings_path(path)
}

/// One decoded Lambda request, ready for the engine.
#[derive(Debug)]
pub enum Action {
    CreateFunction(Box<CreateFunctionInput>),
    GetFunction {
        function_name: String,
        qualifier: Option<String>,
    },
    GetFunctionConfiguration {
        function_name: String,
        qualifier: Option<String>,
    },
    ListFunctions {
        marker: Option<String>,
        max_items: Option<i64>,
    },
    DeleteFunction {
        function_name: String,
        qualifier: Option<String>,
    },
    UpdateFunctionCode {
        function_name: String,
        input: Box<UpdateFunctionCodeInput>,
    },
    UpdateFunctionConfiguration {
        function_name: String,
        input: Box<UpdateFunctionConfigurationInput>,
    },
    Invoke {
        input: InvokeInput,
        /// `X-Amz-Log-Type: Tail`.
        log_tail: bool,
    },
    PublishVersion {
        function_name: String,
        input: PublishVersionInput,
    },
    ListVersionsByFunction {
        function_name: String,
        marker: Option<String>,
        max_items: Option<i64>,
    },
    CreateAlias {
        function_name: String,
        input: CreateAliasInput,
    },
    GetAlias {
        function_name: String,
        name: String,
    },
    ListAliases {
        function_name: String,
        function_version: Option<String>,
        marker: Option<String>,
        max_items: Option<i64>,
    },
    UpdateAlias {
        function_name: String,
        name: String,
        input: UpdateAliasInput,
    },
    DeleteAlias {
        function_name: String,
        name: String,
    },
    PutFunctionConcurrency {
        function_name: String,
        reserved_concurrent_executions: Option<i64>,
    },
    GetFunctionConcurrency {
        function_name: String,
    },
    DeleteFunctionConcurrency {
        function_name: String,
    },
    GetAccountSettings,
    TagResource {
        resource: String,
        tags: BTreeMap<String, String>,
    },
    UntagResource {
        resource: String,
        tag_keys: Vec<String>,
    },
    ListTags {
        resource: String,
    },
    /// `/2019-09-25/functions/{name}/event-invoke-config…`.
    EventInvokeConfig(EventInvokeConfigAction),
    /// Create/Get/List/Update/DeleteEventSourceMapping.
    EventSourceMapping(mappings::MappingAction),
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::CreateFunction(_) => "CreateFunction",
            Action::GetFunction { .. } => "GetFunction",
            Action::GetFunctionConfiguration { .. } => "GetFunctionConfiguration",
            Action::ListFunctions { .. } => "ListFunctions",
            Action::DeleteFunction { .. } => "DeleteFunction",
            Action::UpdateFunctionCode { .. } => "UpdateFunctionCode",
            Action::UpdateFunctionConfiguration { .. } => "UpdateFunctionConfiguration",
            Action::Invoke { .. } => "Invoke",
            Action::PublishVersion { .. } => "PublishVersion",
            Action::ListVersionsByFunction { .. } => "ListVersionsByFunction",
            Action::CreateAlias { .. } => "CreateAlias",
            Action::GetAlias { .. } => "GetAlias",
            Action::ListAliases { .. } => "ListAliases",
            Action::UpdateAlias { .. } => "UpdateAlias",
            Action::DeleteAlias { .. } => "DeleteAlias",
            Action::PutFunctionConcurrency { .. } => "PutFunctionConcurrency",
            Action::GetFunctionConcurrency { .. } => "GetFunctionConcurrency",
            Action::DeleteFunctionConcurrency { .. } => "DeleteFunctionConcurrency",
            Action::GetAccountSettings => "GetAccountSettings",
            Action::TagResource { .. } => "TagResource",
            Action::UntagResource { .. } => "UntagResource",
            Action::ListTags { .. } => "ListTags",
            Action::EventInvokeConfig(action) => action.name(),
            Action::EventSourceMapping(action) => action.name(),
        }
    }
}

/// The method and path (with its query string and headers) as an [`Action`].
pub fn decode(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Action> {
    let parameter = |name: &str| query_parameter(query, name);
    if mappings::is_event_source_mapping_path(path) {
        return mappings::decode(method, path, query, body).map(Action::EventSourceMapping);
    }
    if event_invoke_config::is_path(path) {
        return event_invoke_config::decode(method, path, &parameter, body)
            .map(Action::EventInvokeConfig);
    }
    if let Some(action) = settings::decode(method, path, query, body)? {
        return Ok(action);
    }
    let qualifier = parameter("Qualifier");
    let rest = path.strip_prefix(FUNCTIONS_PREFIX).unwrap_or("");
    let segments = path_segments(rest);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method, segments.as_slice()) {
        (_, [name, rest @ ..]) if matches!(rest.first(), Some(&"versions" | &"aliases")) => {
            versions::decode(method, name, rest, &parameter, body)
        }
        (&Method::POST, []) => {
            let mut input: CreateFunctionInput = json_body(body)?;
            input.code.zip_file = zip_file(body, Some("Code"))?;
            Ok(Action::CreateFunction(Box::new(input)))
        }
        (&Method::GET, []) => Ok(Action::ListFunctions {
            marker: parameter("Marker"),
            max_items: max_items(parameter("MaxItems"))?,
        }),
        (&Method::GET, [name]) => Ok(Action::GetFunction {
            function_name: name.to_string(),
            qualifier,
        }),
        (&Method::DELETE, [name]) => Ok(Action::DeleteFunction {
            function_name: name.to_string(),
            qualifier,
        }),
        (&Method::GET, [name, "configuration"]) => Ok(Action::GetFunctionConfiguration {
            function_name: name.to_string(),
            qualifier,
        }),
        (&Method::PUT, [name, "configuration"]) => Ok(Action::UpdateFunctionConfiguration {
            function_name: name.to_string(),
            input: Box::new(json_body(body)?),
        }),
        (&Method::PUT, [name, "code"]) => {
            let mut input: UpdateFunctionCodeInput = json_body(body)?;
            input.code.zip_file = zip_file(body, None)?;
            Ok(Action::UpdateFunctionCode {
                function_name: name.to_string(),
                input: Box::new(input),
            })
        }
        (&Method::POST, [name, "invocations"]) => {
            let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
            let invocation_type = match header("x-amz-invocation-type") {
                None | Some("RequestResponse") => InvocationType::RequestResponse,
                Some("Event") => InvocationType::Event,
                Some("DryRun") => InvocationType::DryRun,
                Some(other) => {
                    return Err(Error::Engine(engine::Error::LambdaValidation(format!(
                        "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
                    ))));
                }
            };
            let client_context = match header("x-amz-client-context") {
                None => None,
                Some(encoded) => Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .ok()
                        .and_then(|bytes| String::from_utf8(bytes).ok())
                        .ok_or_else(|| {
                            Error::Engine(engine::Error::LambdaInvalidParameterValue(
                                "Client context must be a valid Base64-encoded JSON object."
                                    .to_string(),
                            ))
                        })?,
                ),
            };
            Ok(Action::Invoke {
                input: InvokeInput {
                    function_name: name.to_string(),
                    qualifier,
                    invocation_type,
                    payload: body.to_vec(),
                    client_context,
                },
                log_tail: header("x-amz-log-type") == Some("Tail"),
            })
        }
        _ => Err(Error::InvalidAction),
    }
}

/// The first value of query parameter `name`, decoded.
fn query_parameter(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The percent-decoded segments of a path (empty ones dropped).
fn path_segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// The `MaxItems` query parameter of a list operation.
fn max_items(items: Option<String>) -> Result<Option<i64>> {
    match items {
        None => Ok(None),
        Some(items) => items.parse().map(Some).map_err(|_| {
            Error::Engine(engine::Error::LambdaValidation(format!(
                "1 validation error detected: Value '{items}' at 'maxItems' failed to satisfy constraint: Member must be an integer"
            )))
        }),
    }
}

/// The body as JSON of type `T`; an empty body is `{}`.
fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|error| {
        Error::Engine(engine::Error::InvalidRequestContent(format!(
            "Could not parse request body into json: {error}"
        )))
    })
}

/// `ZipFile` (base64 in JSON) of the body, or of its member `parent`.
fn zip_file(body: &[u8], parent: Option<&str>) -> Result<Option<Vec<u8>>> {
    let value: Value = json_body(body)?;
    let holder = match parent {
        Some(parent) => value.get(parent),
        None => Some(&value),
    };
    let Some(encoded) = holder.and_then(|holder| holder.get("ZipFile")) else {
        return Ok(None);
    };
    let invalid = || {
        Error::Engine(engine::Error::LambdaInvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
                .to_string(),
        ))
    };
    let encoded = encoded.as_str().ok_or_else(invalid)?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map(Some)
        .map_err(|_| invalid())
}

/// Runs one action and encodes its answer.
pub async fn dispatch(engine: &Engine, account: &str, action: Action) -> Result<Response> {
    let response = match action {
        Action::CreateFunction(input) => configuration_response(
            StatusCode::CREATED,
            &engine.create_function(account, *input).await?,
        ),
        Action::GetFunction {
            function_name,
            qualifier,
        } => {
            let details = engine
                .get_function(account, &function_name, qualifier.as_deref())
                .await?;
            let mut body = json!({
                "Configuration": details.configuration,
                "Code": {"RepositoryType": "S3", "Location": details.code_location},
            });
            if !details.tags.is_empty() {
                body["Tags"] = json!(details.tags);
            }
            if let Some(reserved) = details.reserved_concurrency {
                body["Concurrency"] = json!({ "ReservedConcurrentExecutions": reserved });
            }
            json_response(StatusCode::OK, &body)
        }
        Action::GetFunctionConfiguration {
            function_name,
            qualifier,
        } => configuration_response(
            StatusCode::OK,
            &engine
                .get_function_configuration(account, &function_name, qualifier.as_deref())
                .await?,
        ),
        Action::ListFunctions { marker, max_items } => {
            let page = engine
                .list_functions(account, marker.as_deref(), max_items)
                .await?;
            let mut body = json!({ "Functions": page.functions });
            if let (Some(marker), Some(object)) = (page.next_marker, body.as_object_mut()) {
                object.insert("NextMarker".to_string(), Value::String(marker));
            }
            json_response(StatusCode::OK, &body)
        }
        Action::DeleteFunction {
            function_name,
            qualifier,
        } => {
            engine
                .delete_function(account, &function_name, qualifier.as_deref())
                .await?;
            StatusCode::NO_CONTENT.into_response()
        }
        Action::UpdateFunctionCode {
            function_name,
            input,
        } => configuration_response(
            StatusCode::OK,
            &engine
                .update_function_code(account, &function_name, *input)
                .await?,
        ),
        Action::UpdateFunctionConfiguration {
            function_name,
            input,
        } => configuration_response(
            StatusCode::OK,
            &engine
                .update_function_configuration(account, &function_name, *input)
                .await?,
        ),
        Action::EventSourceMapping(action) => {
            return mappings::dispatch(engine, account, action).await;
        }
        Action::EventInvokeConfig(action) => {
            event_invoke_config::dispatch(engine, account, action).await?
        }
        Action::Invoke { input, log_tail } => {
            let asynchronous = input.invocation_type == InvocationType::Event;
            let Some(result) = engine.invoke(account, input).await? else {
                return Ok(StatusCode::NO_CONTENT.into_response());
            };
            if asynchronous {
                // Accepted: the event is stored; its request id names it in records.
                let mut response = StatusCode::ACCEPTED.into_response();
                if let Ok(request_id) = HeaderValue::from_str(&result.request_id) {
                    response.headers_mut().insert(REQUEST_ID, request_id);
                }
                return Ok(response);
            }
            let mut response = (StatusCode::OK, result.payload).into_response();
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
            if let Ok(version) = HeaderValue::from_str(&result.executed_version) {
                headers.insert(EXECUTED_VERSION, version);
            }
            if let Some(error) = result
                .function_error
                .and_then(|error| HeaderValue::from_str(&error).ok())
            {
                headers.insert(FUNCTION_ERROR, error);
            }
            if log_tail
                && let Ok(tail) = HeaderValue::from_str(
                    &base64::engine::general_purpose::STANDARD.encode(result.log_tail),
                )
            {
                headers.insert(LOG_RESULT, tail);
            }
            response
        }
        Action::PublishVersion {
            function_name,
            input,
        } => configuration_response(
            StatusCode::CREATED,
            &engine
                .publish_version(account, &function_name, input)
                .await?,
        ),
        Action::ListVersionsByFunction {
            function_name,
            marker,
            max_items,
        } => {
            let page = engine
                .list_versions_by_function(account, &function_name, marker.as_deref(), max_items)
                .await?;
            let mut body = json!({ "Versions": page.versions });
            if let Some(marker) = page.next_marker {
                body["NextMarker"] = Value::String(marker);
            }
            json_response(StatusCode::OK, &body)
        }
        Action::CreateAlias {
            function_name,
            input,
        } => json_response(
            StatusCode::CREATED,
            &engine.create_alias(account, &function_name, input).await?,
        ),
        Action::GetAlias {
            function_name,
            name,
        } => json_response(
            StatusCode::OK,
            &engine.get_alias(account, &function_name, &name).await?,
        ),
        Action::ListAliases {
            function_name,
            function_version,
            marker,
            max_items,
        } => {
            let page = engine
                .list_aliases(
                    account,
                    &function_name,
                    function_version.as_deref(),
                    marker.as_deref(),
                    max_items,
                )
                .await?;
            let mut body = json!({ "Aliases": page.aliases });
            if let Some(marker) = page.next_marker {
                body["NextMarker"] = Value::String(marker);
            }
            json_response(StatusCode::OK, &body)
        }
        Action::UpdateAlias {
            function_name,
            name,
            input,
        } => json_response(
            StatusCode::OK,
            &engine
                .update_alias(account, &function_name, &name, input)
                .await?,
        ),
        Action::DeleteAlias {
            function_name,
            name,
        } => {
            engine.delete_alias(account, &function_name, &name).await?;
            StatusCode::NO_CONTENT.into_response()
        }
        Action::PutFunctionConcurrency {
            function_name,
            reserved_concurrent_executions,
        } => {
            let reserved = engine
                .put_function_concurrency(account, &function_name, reserved_concurrent_executions)
                .await?;
            json_response(
                StatusCode::OK,
                &json!({ "ReservedConcurrentExecutions": reserved }),
            )
        }
        Action::GetFunctionConcurrency { function_name } => {
            let body = match engine
                .get_function_concurrency(account, &function_name)
                .await?
            {
                Some(reserved) => json!({ "ReservedConcurrentExecutions": reserved }),
                None => json!({}),
            };
            json_response(StatusCode::OK, &body)
        }
        Action::DeleteFunctionConcurrency { function_name } => {
            engine
                .delete_function_concurrency(account, &function_name)
                .await?;
            StatusCode::NO_CONTENT.into_response()
        }
        Action::GetAccountSettings => {
            json_response(StatusCode::OK, &engine.account_settings(account).await?)
        }
        Action::TagResource { resource, tags } => {
            engine.tag_resource(account, &resource, tags).await?;
            StatusCode::NO_CONTENT.into_response()
        }
        Action::UntagResource { resource, tag_keys } => {
            engine.untag_resource(account, &resource, tag_keys).await?;
            StatusCode::NO_CONTENT.into_response()
        }
        Action::ListTags { resource } => json_response(
            StatusCode::OK,
            &json!({ "Tags": engine.list_tags(account, &resource).await? }),
        ),
    };
    Ok(response)
}

fn configuration_response(status: StatusCode, configuration: &FunctionConfiguration) -> Response {
    json_response(status, configuration)
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(JSON))],
        body,
    )
        .into_response()
}

/// Lambda's error: status, `X-Amzn-ErrorType` and `{"Type":…,"message"|"Message":…}`.
pub fn error_response(error: &Error) -> Response {
    let wire = error.wire();
    let (status, error_type, message) = match error {
        Error::RequestTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            format!(
                "Request must be smaller than {} bytes for the operation",
                MAX_BODY_BYTES
            ),
        ),
        Error::InvalidAction => (
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            "Unknown operation".to_string(),
        ),
        // A server fault of another service's naming (the store failing) is Lambda's
        // ServiceException; everything else keeps the name after the namespace.
        _ if wire.status.is_server_error()
            && !wire.json_type.starts_with("com.amazonaws.lambda#") =>
        {
            (wire.status, "ServiceException", wire.message.clone())
        }
        _ => {
            let error_type = wire
                .json_type
                .rsplit_once('#')
                .map_or(wire.json_type, |(_, name)| name);
            (wire.status, error_type, wire.message.clone())
        }
    };
    if status.is_server_error() {
        tracing::error!(
            code = error_type,
            status = status.as_u16(),
            "lambda request failed"
        );
    } else {
        tracing::warn!(code = error_type, status = status.as_u16(), %message, "lambda request rejected");
    }
    // Lambda's model spells the member `message` for some exceptions, `Message` for others.
    let lowercase = matches!(
        error_type,
        "InvalidParameterValueException"
            | "ResourceConflictException"
            | "TooManyRequestsException"
            | "RequestTooLargeException"
            | "UnsupportedMediaTypeException"
            | "InvalidRequestContentException"
            | "ValidationException"
            | "PreconditionFailedException"
    );
    let fault = if status.is_server_error() {
        "Service"
    } else {
        "User"
    };
    let mut body = if lowercase {
        json!({"Type": fault, "message": message})
    } else {
        json!({"Type": fault, "Message": message})
    };
    if let Error::Engine(engine::Error::TooManyRequests(throttled)) = error {
        body["Reason"] = json!(throttled.reason());
    }
    let mut response = json_response(status, &body);
    if let Ok(value) = HeaderValue::from_str(error_type) {
        response.headers_mut().insert(ERROR_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn lambda_paths_are_recognised_and_nothing_else() {
        assert!(is_lambda_path("/2015-03-31/functions"));
        assert!(is_lambda_path("/2015-03-31/functions/f/invocations"));
        assert!(is_lambda_path(
            "/2019-09-25/functions/f/event-invoke-config"
        ));
        assert!(!is_lambda_path("/2015-03-31/functionsx"));
        assert!(!is_lambda_path("/000000000000/queue"));
        assert!(!is_lambda_path("/"));
    }

    #[test]
    fn paths_decode_into_actions() -> Result<()> {
        let headers = HeaderMap::new();
        let action = decode(
            &Method::GET,
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/configuration",
            Some("Qualifier=%24LATEST"),
            &headers,
            b"",
        )?;
        assert!(matches!(
            action,
            Action::GetFunctionConfiguration { function_name, qualifier: Some(q) }
                if function_name == "arn:aws:lambda:us-east-1:000000000000:function:f" && q == "$LATEST"
        ));
        assert!(matches!(
            decode(
                &Method::PATCH,
                "/2015-03-31/functions/f",
                None,
                &headers,
                b""
            ),
            Err(Error::InvalidAction)
        ));
        Ok(())
    }

    #[test]
    fn store_failures_are_service_exceptions() {
        let response = error_response(&Error::Engine(engine::Error::LambdaService(
            "detail".to_string(),
        )));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers().get("x-amzn-errortype").unwrap(),
            "ServiceException"
        );
    }

    #[test]
    fn not_found_uses_capitalised_message_and_error_type_header() {
        let response = error_response(&Error::Engine(engine::Error::FunctionNotFound(
            "Function not found: x".to_string(),
        )));
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers().get("x-amzn-errortype").unwrap(),
            "ResourceNotFoundException"
        );
    }
}
