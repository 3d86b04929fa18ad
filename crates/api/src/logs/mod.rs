//! CloudWatch Logs over AWS JSON 1.1 (`X-Amz-Target: Logs_20140328.<Action>`, signing name
//! `logs`): the read side that `aws logs tail` and the SDKs use on function logs. The body
//! decodes into one typed [`Action`]; [`dispatch`] runs it against the engine in one
//! `match` and encodes the answer as JSON. Errors are written by the router from
//! [`crate::Error::wire`]: `{"__type": "ResourceNotFoundException", "message": …}`.

use engine::Engine;
use engine::logs::{
    DescribeLogGroupsInput, DescribeLogStreamsInput, FilterLogEventsInput, GetLogEventsInput,
    LogGroupRef,
};
use serde::Deserialize;

use crate::error::{Error, Result};

/// The `X-Amz-Target` prefix of CloudWatch Logs.
pub const TARGET_PREFIX: &str = "Logs_20140328.";
/// The service in a SigV4 credential scope.
pub const SIGNING_NAME: &str = "logs";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

action_names!(
    "The name of a CloudWatch Logs action eddy serves, as in `X-Amz-Target`.";
    DescribeLogGroups,
    DescribeLogStreams,
    FilterLogEvents,
    GetLogEvents,
);

/// One decoded CloudWatch Logs request, ready for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    DescribeLogGroups(DescribeLogGroupsInput),
    DescribeLogStreams(DescribeLogStreamsInput),
    FilterLogEvents(FilterLogEventsInput),
    GetLogEvents(GetLogEventsInput),
}

/// The members of the four requests, as the model names them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Input {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    log_stream_name: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
}

impl Action {
    /// Decodes the JSON body of action `name`; an empty body is an empty object.
    pub fn decode(name: ActionName, body: &[u8]) -> Result<Action> {
        let input: Input = if body.iter().all(u8::is_ascii_whitespace) {
            Input::default()
        } else {
            serde_json::from_slice(body).map_err(|error| {
                Error::Serialization(match error.classify() {
                    serde_json::error::Category::Data => {
                        format!("Unable to parse the request: {error}")
                    }
                    _ => "Unable to parse the request: the body is not valid JSON.".to_string(),
                })
            })?
        };
        let group = LogGroupRef {
            name: input.log_group_name,
            identifier: input.log_group_identifier,
        };
        Ok(match name {
            ActionName::DescribeLogGroups => Action::DescribeLogGroups(DescribeLogGroupsInput {
                log_group_name_prefix: input.log_group_name_prefix,
                log_group_name_pattern: input.log_group_name_pattern,
                limit: input.limit,
                next_token: input.next_token,
            }),
            ActionName::DescribeLogStreams => Action::DescribeLogStreams(DescribeLogStreamsInput {
                group,
                log_stream_name_prefix: input.log_stream_name_prefix,
                order_by: input.order_by,
                descending: input.descending,
                limit: input.limit,
                next_token: input.next_token,
            }),
            ActionName::GetLogEvents => Action::GetLogEvents(GetLogEventsInput {
                group,
                log_stream_name: input.log_stream_name,
                start_time: input.start_time,
                end_time: input.end_time,
                next_token: input.next_token,
                limit: input.limit,
                start_from_head: input.start_from_head,
            }),
            ActionName::FilterLogEvents => Action::FilterLogEvents(FilterLogEventsInput {
                group,
                log_stream_names: input.log_stream_names,
                log_stream_name_prefix: input.log_stream_name_prefix,
                start_time: input.start_time,
                end_time: input.end_time,
                filter_pattern: input.filter_pattern,
                next_token: input.next_token,
                limit: input.limit,
                start_from_head: input.start_from_head,
            }),
        })
    }
}

/// Runs one action in `account` and encodes its answer.
pub async fn dispatch(engine: &Engine, account: &str, action: Action) -> Result<Vec<u8>> {
    let encoded = match action {
        Action::DescribeLogGroups(input) => {
            serde_json::to_vec(&engine.describe_log_groups(account, input).await?)
        }
        Action::DescribeLogStreams(input) => {
            serde_json::to_vec(&engine.describe_log_streams(account, input).await?)
        }
        Action::FilterLogEvents(input) => {
            serde_json::to_vec(&engine.filter_log_events(account, input).await?)
        }
        Action::GetLogEvents(input) => {
            serde_json::to_vec(&engine.get_log_events(account, input).await?)
        }
    };
    // Plain structs of strings and numbers always serialise.
    Ok(encoded.unwrap_or_else(|_| b"{}".to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bodies_decode_into_typed_actions() {
        let action = Action::decode(
            ActionName::FilterLogEvents,
            br#"{"logGroupName":"/aws/lambda/f","startTime":5,"filterPattern":"ERROR","interleaved":true}"#,
        )
        .unwrap();
        let Action::FilterLogEvents(input) = action else {
            panic!("decoded {action:?}");
        };
        assert_eq!(input.group.name.as_deref(), Some("/aws/lambda/f"));
        assert_eq!(input.start_time, Some(5));
        assert_eq!(input.filter_pattern.as_deref(), Some("ERROR"));
        assert!(matches!(
            Action::decode(ActionName::GetLogEvents, b"").unwrap(),
            Action::GetLogEvents(_)
        ));
    }

    #[test]
    fn wrong_member_types_are_serialization_errors() {
        assert!(matches!(
            Action::decode(ActionName::GetLogEvents, br#"{"limit":"ten"}"#),
            Err(Error::Serialization(_))
        ));
        assert!(matches!(
            Action::decode(ActionName::GetLogEvents, b"{"),
            Err(Error::Serialization(_))
        ));
    }

    #[test]
    fn every_action_name_parses() {
        for name in ActionName::ALL {
            assert_eq!(ActionName::parse(name.as_str()), Some(*name));
        }
        assert_eq!(ActionName::parse("PutLogEvents"), None);
    }
}
