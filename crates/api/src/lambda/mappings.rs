//! Event source mappings over REST-JSON (`/2015-03-31/event-source-mappings…`): the method
//! and path decode into one typed [`MappingAction`]; [`dispatch`] runs it and encodes the
//! answer with Lambda's status codes (202 for Create, Update and Delete).

use axum::response::Response;
use engine::Engine;
use engine::lambda::{CreateEventSourceMappingInput, UpdateEventSourceMappingInput};
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{json_body, json_response, path_segments, query_parameter};
use crate::error::{Error, Result};

/// Every event source mapping path starts with this.
pub const EVENT_SOURCE_MAPPINGS_PREFIX: &str = "/2015-03-31/event-source-mappings";

/// Whether a path names event source mappings.
pub fn is_event_source_mapping_path(path: &str) -> bool {
    path == EVENT_SOURCE_MAPPINGS_PREFIX
        || path
            .strip_prefix(EVENT_SOURCE_MAPPINGS_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// One decoded event source mapping request.
#[derive(Debug)]
pub enum MappingAction {
    CreateEventSourceMapping(Box<CreateEventSourceMappingInput>),
    GetEventSourceMapping {
        uuid: String,
    },
    ListEventSourceMappings {
        event_source_arn: Option<String>,
        function_name: Option<String>,
        marker: Option<String>,
        max_items: Option<i64>,
    },
    UpdateEventSourceMapping {
        uuid: String,
        input: Box<UpdateEventSourceMappingInput>,
    },
    DeleteEventSourceMapping {
        uuid: String,
    },
}

impl MappingAction {
    pub fn name(&self) -> &'static str {
        match self {
            MappingAction::CreateEventSourceMapping(_) => "CreateEventSourceMapping",
            MappingAction::GetEventSourceMapping { .. } => "GetEventSourceMapping",
            MappingAction::ListEventSourceMappings { .. } => "ListEventSourceMappings",
            MappingAction::UpdateEventSourceMapping { .. } => "UpdateEventSourceMapping",
            MappingAction::DeleteEventSourceMapping { .. } => "DeleteEventSourceMapping",
        }
    }
}

/// The method and path (and query string) as a [`MappingAction`].
pub fn decode(
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Result<MappingAction> {
    let parameter = |name: &str| query_parameter(query, name);
    let rest = path
        .strip_prefix(EVENT_SOURCE_MAPPINGS_PREFIX)
        .unwrap_or("");
    let segments = path_segments(rest);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method, segments.as_slice()) {
        (&Method::POST, []) => Ok(MappingAction::CreateEventSourceMapping(Box::new(
            json_body(body)?,
        ))),
        (&Method::GET, []) => Ok(MappingAction::ListEventSourceMappings {
            event_source_arn: parameter("EventSourceArn"),
            function_name: parameter("FunctionName"),
            marker: parameter("Marker"),
            max_items: match parameter("MaxItems") {
                None => None,
                Some(items) => Some(items.parse().map_err(|_| {
                    Error::Engine(engine::Error::LambdaValidation(format!(
                        "1 validation error detected: Value '{items}' at 'maxItems' failed to satisfy constraint: Member must be an integer"
                    )))
                })?),
            },
        }),
        (&Method::GET, [uuid]) => Ok(MappingAction::GetEventSourceMapping {
            uuid: uuid.to_string(),
        }),
        (&Method::PUT, [uuid]) => Ok(MappingAction::UpdateEventSourceMapping {
            uuid: uuid.to_string(),
            input: Box::new(json_body(body)?),
        }),
        (&Method::DELETE, [uuid]) => Ok(MappingAction::DeleteEventSourceMapping {
            uuid: uuid.to_string(),
        }),
        _ => Err(Error::InvalidAction),
    }
}

/// Runs one action and encodes its answer.
pub async fn dispatch(engine: &Engine, account: &str, action: MappingAction) -> Result<Response> {
    let response = match action {
        MappingAction::CreateEventSourceMapping(input) => json_response(
            StatusCode::ACCEPTED,
            &engine.create_event_source_mapping(account, *input).await?,
        ),
        MappingAction::GetEventSourceMapping { uuid } => json_response(
            StatusCode::OK,
            &engine.get_event_source_mapping(account, &uuid).await?,
        ),
        MappingAction::ListEventSourceMappings {
            event_source_arn,
            function_name,
            marker,
            max_items,
        } => {
            let page = engine
                .list_event_source_mappings(
                    account,
                    event_source_arn.as_deref(),
                    function_name.as_deref(),
                    marker.as_deref(),
                    max_items,
                )
                .await?;
            let mut body = json!({ "EventSourceMappings": page.event_source_mappings });
            if let (Some(marker), Some(object)) = (page.next_marker, body.as_object_mut()) {
                object.insert("NextMarker".to_string(), Value::String(marker));
            }
            json_response(StatusCode::OK, &body)
        }
        MappingAction::UpdateEventSourceMapping { uuid, input } => json_response(
            StatusCode::ACCEPTED,
            &engine
                .update_event_source_mapping(account, &uuid, *input)
                .await?,
        ),
        MappingAction::DeleteEventSourceMapping { uuid } => json_response(
            StatusCode::ACCEPTED,
            &engine.delete_event_source_mapping(account, &uuid).await?,
        ),
    };
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn mapping_paths_decode_into_actions() -> Result<()> {
        assert!(is_event_source_mapping_path(
            "/2015-03-31/event-source-mappings/"
        ));
        assert!(!is_event_source_mapping_path(
            "/2015-03-31/event-source-mappingsx"
        ));
        let create = decode(
            &Method::POST,
            "/2015-03-31/event-source-mappings/",
            None,
            br#"{"EventSourceArn":"arn:aws:sqs:us-east-1:000000000000:q","FunctionName":"f","BatchSize":5}"#,
        )?;
        assert!(matches!(
            create,
            MappingAction::CreateEventSourceMapping(input)
                if input.batch_size == Some(5) && input.function_name.as_deref() == Some("f")
        ));
        let list = decode(
            &Method::GET,
            "/2015-03-31/event-source-mappings/",
            Some("FunctionName=f&MaxItems=2"),
            b"",
        )?;
        assert!(matches!(
            list,
            MappingAction::ListEventSourceMappings { function_name: Some(f), max_items: Some(2), .. } if f == "f"
        ));
        let update = decode(
            &Method::PUT,
            "/2015-03-31/event-source-mappings/abc",
            None,
            br#"{"Enabled":false}"#,
        )?;
        assert!(matches!(
            update,
            MappingAction::UpdateEventSourceMapping { uuid, input } if uuid == "abc" && input.enabled == Some(false)
        ));
        assert!(matches!(
            decode(
                &Method::PATCH,
                "/2015-03-31/event-source-mappings/abc",
                None,
                b""
            ),
            Err(Error::InvalidAction)
        ));
        Ok(())
    }
}
