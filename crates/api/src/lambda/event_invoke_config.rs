//! The event invoke configuration actions over REST-JSON, under their own date prefix:
//! `/2019-09-25/functions/{FunctionName}/event-invoke-config` (PUT replaces, POST merges,
//! GET, DELETE) and `…/event-invoke-config/list` (GET).

use axum::response::{IntoResponse, Response};
use engine::Engine;
use engine::lambda::{EventInvokeConfigInput, FunctionEventInvokeConfig};
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{json_body, json_response, path_segments};
use crate::error::{Error, Result};

/// Every event invoke configuration path starts with this.
pub const PREFIX: &str = "/2019-09-25/functions/";

/// Whether a path is an event invoke configuration's.
pub fn is_path(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// One decoded event invoke configuration request.
#[derive(Debug)]
pub enum EventInvokeConfigAction {
    Put {
        function_name: String,
        qualifier: Option<String>,
        input: EventInvokeConfigInput,
    },
    Update {
        function_name: String,
        qualifier: Option<String>,
        input: EventInvokeConfigInput,
    },
    Get {
        function_name: String,
        qualifier: Option<String>,
    },
    Delete {
        function_name: String,
        qualifier: Option<String>,
    },
    List {
        function_name: String,
        marker: Option<String>,
        max_items: Option<i64>,
    },
}

impl EventInvokeConfigAction {
    pub fn name(&self) -> &'static str {
        match self {
            EventInvokeConfigAction::Put { .. } => "PutFunctionEventInvokeConfig",
            EventInvokeConfigAction::Update { .. } => "UpdateFunctionEventInvokeConfig",
            EventInvokeConfigAction::Get { .. } => "GetFunctionEventInvokeConfig",
            EventInvokeConfigAction::Delete { .. } => "DeleteFunctionEventInvokeConfig",
            EventInvokeConfigAction::List { .. } => "ListFunctionEventInvokeConfigs",
        }
    }
}

/// The action a method and path name; `InvalidAction` for anything else under the prefix.
pub fn decode(
    method: &Method,
    path: &str,
    parameter: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<EventInvokeConfigAction> {
    let rest = path.strip_prefix(PREFIX).unwrap_or("");
    let segments = path_segments(rest);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let qualifier = parameter("Qualifier");
    match (method, segments.as_slice()) {
        (&Method::PUT, [name, "event-invoke-config"]) => Ok(EventInvokeConfigAction::Put {
            function_name: name.to_string(),
            qualifier,
            input: json_body(body)?,
        }),
        (&Method::POST, [name, "event-invoke-config"]) => Ok(EventInvokeConfigAction::Update {
            function_name: name.to_string(),
            qualifier,
            input: json_body(body)?,
        }),
        (&Method::GET, [name, "event-invoke-config"]) => Ok(EventInvokeConfigAction::Get {
            function_name: name.to_string(),
            qualifier,
        }),
        (&Method::DELETE, [name, "event-invoke-config"]) => Ok(EventInvokeConfigAction::Delete {
            function_name: name.to_string(),
            qualifier,
        }),
        (&Method::GET, [name, "event-invoke-config", "list"]) => {
            let max_items = match parameter("MaxItems") {
                None => None,
                Some(items) => Some(items.parse().map_err(|_| {
                    Error::Engine(engine::Error::LambdaValidation(format!(
                        "1 validation error detected: Value '{items}' at 'maxItems' failed to satisfy constraint: Member must be an integer"
                    )))
                })?),
            };
            Ok(EventInvokeConfigAction::List {
                function_name: name.to_string(),
                marker: parameter("Marker"),
                max_items,
            })
        }
        _ => Err(Error::InvalidAction),
    }
}

/// Runs one action and encodes its answer.
pub async fn dispatch(
    engine: &Engine,
    account: &str,
    action: EventInvokeConfigAction,
) -> Result<Response> {
    let config_response =
        |config: &FunctionEventInvokeConfig| json_response(StatusCode::OK, config);
    let response = match action {
        EventInvokeConfigAction::Put {
            function_name,
            qualifier,
            input,
        } => config_response(
            &engine
                .put_function_event_invoke_config(
                    account,
                    &function_name,
                    qualifier.as_deref(),
                    input,
                )
                .await?,
        ),
        EventInvokeConfigAction::Update {
            function_name,
            qualifier,
            input,
        } => config_response(
            &engine
                .update_function_event_invoke_config(
                    account,
                    &function_name,
                    qualifier.as_deref(),
                    input,
                )
                .await?,
        ),
        EventInvokeConfigAction::Get {
            function_name,
            qualifier,
        } => config_response(
            &engine
                .get_function_event_invoke_config(account, &function_name, qualifier.as_deref())
                .await?,
        ),
        EventInvokeConfigAction::Delete {
            function_name,
            qualifier,
        } => {
            engine
                .delete_function_event_invoke_config(account, &function_name, qualifier.as_deref())
                .await?;
            StatusCode::NO_CONTENT.into_response()
        }
        EventInvokeConfigAction::List {
            function_name,
            marker,
            max_items,
        } => {
            let page = engine
                .list_function_event_invoke_configs(
                    account,
                    &function_name,
                    marker.as_deref(),
                    max_items,
                )
                .await?;
            let mut body = json!({ "FunctionEventInvokeConfigs": page.configs });
            if let (Some(marker), Some(object)) = (page.next_marker, body.as_object_mut()) {
                object.insert("NextMarker".to_string(), Value::String(marker));
            }
            json_response(StatusCode::OK, &body)
        }
    };
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn methods_and_paths_decode_into_actions() -> Result<()> {
        let put = decode(
            &Method::PUT,
            "/2019-09-25/functions/f/event-invoke-config",
            &none,
            br#"{"MaximumRetryAttempts":1}"#,
        )?;
        assert!(matches!(
            put,
            EventInvokeConfigAction::Put { function_name, input, .. }
                if function_name == "f" && input.maximum_retry_attempts == Some(1)
        ));
        let list = decode(
            &Method::GET,
            "/2019-09-25/functions/f/event-invoke-config/list",
            &|name| (name == "MaxItems").then(|| "5".to_string()),
            b"",
        )?;
        assert!(matches!(
            list,
            EventInvokeConfigAction::List {
                max_items: Some(5),
                ..
            }
        ));
        assert!(matches!(
            decode(
                &Method::PATCH,
                "/2019-09-25/functions/f/event-invoke-config",
                &none,
                b""
            ),
            Err(Error::InvalidAction)
        ));
        Ok(())
    }
}
