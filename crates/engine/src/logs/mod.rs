//! The CloudWatch Logs API over the function logs this node keeps in memory
//! (`lambda/logs.rs`): DescribeLogGroups, DescribeLogStreams, GetLogEvents and
//! FilterLogEvents as methods on [`Engine`], with CloudWatch's paging, tokens, limits and
//! messages. Log groups exist once a function's environment has started on this node and
//! until the function is deleted or the node restarts.
//!
//! Tokens are opaque to clients: GetLogEvents' `f/<n>` and `b/<n>` name a position in the
//! group's event sequence (forward: events from `n` on; backward: events before `n`), and
//! come back unchanged when there is nothing further, which is how clients stop paging;
//! FilterLogEvents' tokens are the same positions with a prefix; the Describe calls' tokens
//! carry the sort key of the last item returned.

mod filter_pattern;

pub use filter_pattern::FilterPattern;

use std::collections::VecDeque;

use base64::Engine as _;
use serde::Serialize;
use store::Millis;

use crate::lambda::{FunctionLog, LogEvent, LogGroupView, LogStreamInfo};
use crate::{Engine, Error, Result};

/// DescribeLogGroups and DescribeLogStreams return at most this many items (and by default).
pub const MAX_DESCRIBE_LIMIT: i64 = 50;
/// GetLogEvents and FilterLogEvents return at most this many events (and by default).
pub const MAX_EVENTS_LIMIT: i64 = 10_000;
/// ... and at most this many bytes of events (message plus 26 bytes each).
pub const MAX_EVENTS_BYTES: usize = 1024 * 1024;

/// How a request names a log group: `logGroupName`, or `logGroupIdentifier` (a name or an
/// ARN); exactly one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogGroupRef {
    pub name: Option<String>,
    pub identifier: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeLogGroupsInput {
    pub log_group_name_prefix: Option<String>,
    pub log_group_name_pattern: Option<String>,
    pub limit: Option<i64>,
    pub next_token: Option<String>,
}

/// One log group as DescribeLogGroups returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupDescription {
    pub log_group_name: String,
    pub creation_time: Millis,
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_filter_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsOutput {
    pub log_groups: Vec<LogGroupDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeLogStreamsInput {
    pub group: LogGroupRef,
    pub log_stream_name_prefix: Option<String>,
    /// `LogStreamName` (default) or `LastEventTime`.
    pub order_by: Option<String>,
    pub descending: Option<bool>,
    pub limit: Option<i64>,
    pub next_token: Option<String>,
}

/// One log stream as DescribeLogStreams returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStreamDescription {
    pub log_stream_name: String,
    pub creation_time: Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event_timestamp: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event_timestamp: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ingestion_time: Option<Millis>,
    pub arn: String,
    pub stored_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsOutput {
    pub log_streams: Vec<LogStreamDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetLogEventsInput {
    pub group: LogGroupRef,
    pub log_stream_name: Option<String>,
    pub start_time: Option<Millis>,
    pub end_time: Option<Millis>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub start_from_head: Option<bool>,
}

/// One event as GetLogEvents returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputLogEvent {
    pub timestamp: Millis,
    pub message: String,
    pub ingestion_time: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsOutput {
    pub events: Vec<OutputLogEvent>,
    pub next_forward_token: String,
    pub next_backward_token: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterLogEventsInput {
    pub group: LogGroupRef,
    pub log_stream_names: Option<Vec<String>>,
    pub log_stream_name_prefix: Option<String>,
    pub start_time: Option<Millis>,
    pub end_time: Option<Millis>,
    pub filter_pattern: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub start_from_head: Option<bool>,
}

/// One event as FilterLogEvents returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilteredLogEvent {
    pub log_stream_name: String,
    pub timestamp: Millis,
    pub message: String,
    pub ingestion_time: Millis,
    pub event_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsOutput {
    pub events: Vec<FilteredLogEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::LogsInvalidParameter(message.into())
}

fn group_not_found() -> Error {
    Error::LogsResourceNotFound("The specified log group does not exist.".to_string())
}

fn stream_not_found() -> Error {
    Error::LogsResourceNotFound("The specified log stream does not exist.".to_string())
}

fn invalid_token() -> Error {
    invalid("The specified nextToken is invalid.")
}

/// `limit` within `1..=max`, `max` when absent; CloudWatch's validation message otherwise.
fn checked_limit(limit: Option<i64>, max: i64) -> Result<usize> {
    match limit {
        None => Ok(usize::try_from(max).unwrap_or(usize::MAX)),
        Some(limit) if limit < 1 => Err(invalid(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(limit) if limit > max => Err(invalid(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {max}"
        ))),
        Some(limit) => Ok(usize::try_from(limit).unwrap_or(usize::MAX)),
    }
}

fn encode_token(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text.as_bytes())
}

fn decode_token(token: &str) -> Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid_token)
}

/// A position in a group's event sequence and the direction to read from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Events with sequence `>= n`, oldest first.
    Forward(u64),
    /// Events with sequence `< n`, newest first.
    Backward(u64),
}

impl Position {
    /// GetLogEvents' `f/<n>` / `b/<n>` (an AWS-style `/s` suffix is accepted).
    fn parse(token: &str) -> Result<Position> {
        let (forward, rest) = if let Some(rest) = token.strip_prefix("f/") {
            (true, rest)
        } else if let Some(rest) = token.strip_prefix("b/") {
            (false, rest)
        } else {
            return Err(invalid_token());
        };
        let digits = rest.split('/').next().unwrap_or("");
        let sequence: u64 = digits.parse().map_err(|_| invalid_token())?;
        Ok(if forward {
            Position::Forward(sequence)
        } else {
            Position::Backward(sequence)
        })
    }

    fn token(self) -> String {
        match self {
            Position::Forward(sequence) => format!("f/{sequence:020}/s"),
            Position::Backward(sequence) => format!("b/{sequence:020}/s"),
        }
    }
}

/// The events of `events` from `position` in its direction that `keep` accepts, at most
/// `limit` of them and [`MAX_EVENTS_BYTES`], in the order read, and whether another event
/// `keep` accepts follows.
fn read_events(
    events: &VecDeque<LogEvent>,
    position: Position,
    limit: usize,
    keep: impl Fn(&LogEvent) -> bool,
) -> (Vec<&LogEvent>, bool) {
    // Sequences increase by one from the front, so a position is an index.
    let front = events.front().map_or(0, |event| event.sequence);
    let index_of = |sequence: u64| {
        usize::try_from(sequence.saturating_sub(front))
            .unwrap_or(usize::MAX)
            .min(events.len())
    };
    let candidates: Box<dyn Iterator<Item = &LogEvent>> = match position {
        Position::Forward(sequence) => Box::new(events.range(index_of(sequence)..)),
        Position::Backward(sequence) => Box::new(events.range(..index_of(sequence)).rev()),
    };
    let mut taken = Vec::new();
    let mut bytes = 0;
    for event in candidates.filter(|event| keep(event)) {
        let cost = event.message.len() + crate::lambda::EVENT_OVERHEAD_BYTES;
        if taken.len() == limit || (bytes + cost > MAX_EVENTS_BYTES && !taken.is_empty()) {
            return (taken, true);
        }
        bytes += cost;
        taken.push(event);
    }
    (taken, false)
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>` or a bare name, to the group's name
/// if it is in `account`.
fn group_name_of_identifier(identifier: &str, account: &str) -> Option<String> {
    let Some(rest) = identifier.strip_prefix("arn:") else {
        return Some(identifier.to_string());
    };
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, _region, owner, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "logs" || owner != account {
        return None;
    }
    let name = resource.strip_prefix("log-group:")?;
    Some(name.strip_suffix(":*").unwrap_or(name).to_string())
}

impl Engine {
    fn log_group_arn(&self, account: &str, name: &str) -> String {
        format!(
            "arn:aws:logs:{}:{account}:log-group:{name}",
            self.config().region
        )
    }

    /// The group a request names, or CloudWatch's errors.
    fn find_log_group(&self, account: &str, group: &LogGroupRef) -> Result<FunctionLog> {
        let name = match (&group.name, &group.identifier) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
                ));
            }
            (None, None) => {
                return Err(invalid(
                    "Either logGroupName or logGroupIdentifier must be specified.",
                ));
            }
            (Some(name), None) => Some(name.clone()),
            (None, Some(identifier)) => group_name_of_identifier(identifier, account),
        };
        name.and_then(|name| self.function_runner()?.log_groups().find(account, &name))
            .ok_or_else(group_not_found)
    }

    /// DescribeLogGroups: the account's groups in name order, by prefix or by a
    /// case-sensitive substring (`logGroupNamePattern`, which returns fewer fields).
    pub async fn describe_log_groups(
        &self,
        account: &str,
        input: DescribeLogGroupsInput,
    ) -> Result<DescribeLogGroupsOutput> {
        if input.log_group_name_prefix.is_some() && input.log_group_name_pattern.is_some() {
            return Err(invalid(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
            ));
        }
        let limit = checked_limit(input.limit, MAX_DESCRIBE_LIMIT)?;
        let after = input.next_token.as_deref().map(decode_token).transpose()?;
        let Some(runner) = self.function_runner() else {
            return Ok(DescribeLogGroupsOutput {
                log_groups: Vec::new(),
                next_token: None,
            });
        };
        let prefix = input.log_group_name_prefix.clone().unwrap_or_default();
        let pattern = input.log_group_name_pattern.clone();
        let (page, more) = runner
            .log_groups()
            .list(account, after.as_deref(), limit, |name| {
                name.starts_with(prefix.as_str())
                    && pattern
                        .as_deref()
                        .is_none_or(|pattern| name.contains(pattern))
            });
        let next_token = if more {
            page.last().map(|(name, _)| encode_token(name))
        } else {
            None
        };
        let full = input.log_group_name_pattern.is_none();
        let log_groups = page
            .into_iter()
            .map(|(name, log)| {
                let (creation_time, stored_bytes) =
                    log.read(|group| (group.creation_time, group.stored_bytes));
                let arn = self.log_group_arn(account, &name);
                LogGroupDescription {
                    arn: format!("{arn}:*"),
                    creation_time,
                    metric_filter_count: full.then_some(0),
                    stored_bytes: full.then_some(stored_bytes),
                    log_group_class: full.then(|| "STANDARD".to_string()),
                    log_group_arn: full.then_some(arn),
                    log_group_name: name,
                }
            })
            .collect();
        Ok(DescribeLogGroupsOutput {
            log_groups,
            next_token,
        })
    }

    /// DescribeLogStreams: by name (optionally by prefix) or by last event time, either way.
    pub async fn describe_log_streams(
        &self,
        account: &str,
        input: DescribeLogStreamsInput,
    ) -> Result<DescribeLogStreamsOutput> {
        let by_time = match input.order_by.as_deref() {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
                )));
            }
        };
        if by_time && input.log_stream_name_prefix.is_some() {
            return Err(invalid(
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ));
        }
        let limit = checked_limit(input.limit, MAX_DESCRIBE_LIMIT)?;
        let descending = input.descending.unwrap_or(false);
        // The cursor is the sort key of the last stream returned.
        let after = input
            .next_token
            .as_deref()
            .map(|token| -> Result<(Millis, String)> {
                let cursor = decode_token(token)?;
                let (time, name) = cursor.split_once(' ').ok_or_else(invalid_token)?;
                Ok((time.parse().map_err(|_| invalid_token())?, name.to_string()))
            })
            .transpose()?;
        let log = self.find_log_group(account, &input.group)?;
        let group_name = input
            .group
            .name
            .clone()
            .or_else(|| {
                input
                    .group
                    .identifier
                    .as_deref()
                    .and_then(|identifier| group_name_of_identifier(identifier, account))
            })
            .unwrap_or_default();
        let sort_key = |info: &LogStreamInfo| -> (Millis, String) {
            let time = if by_time {
                info.last_event_timestamp.unwrap_or(info.creation_time)
            } else {
                0
            };
            (time, info.name.to_string())
        };
        let prefix = input.log_stream_name_prefix.clone().unwrap_or_default();
        let mut streams: Vec<((Millis, String), LogStreamInfo)> = log.read(|group| {
            group
                .streams
                .values()
                .filter(|info| info.name.starts_with(prefix.as_str()))
                .map(|info| (sort_key(info), info.clone()))
                .collect()
        });
        streams.sort_by(|a, b| a.0.cmp(&b.0));
        if descending {
            streams.reverse();
        }
        if let Some(after) = &after {
            streams.retain(|(key, _)| if descending { key < after } else { key > after });
        }
        let more = streams.len() > limit;
        streams.truncate(limit);
        let next_token = if more {
            streams
                .last()
                .map(|((time, name), _)| encode_token(&format!("{time} {name}")))
        } else {
            None
        };
        let group_arn = self.log_group_arn(account, &group_name);
        let log_streams = streams
            .into_iter()
            .map(|(_, info)| LogStreamDescription {
                arn: format!("{group_arn}:log-stream:{}", info.name),
                log_stream_name: info.name.to_string(),
                creation_time: info.creation_time,
                first_event_timestamp: info.first_event_timestamp,
                last_event_timestamp: info.last_event_timestamp,
                last_ingestion_time: info.last_ingestion_time,
                stored_bytes: info.stored_bytes,
            })
            .collect();
        Ok(DescribeLogStreamsOutput {
            log_streams,
            next_token,
        })
    }

    /// GetLogEvents: one stream's events in a time range (`startTime` inclusive, `endTime`
    /// exclusive), the latest page first unless `startFromHead`, paged by `f/` and `b/`
    /// tokens that come back unchanged at either end.
    pub async fn get_log_events(
        &self,
        account: &str,
        input: GetLogEventsInput,
    ) -> Result<GetLogEventsOutput> {
        let Some(stream) = input.log_stream_name.clone() else {
            return Err(invalid(
                "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null",
            ));
        };
        let limit = checked_limit(input.limit, MAX_EVENTS_LIMIT)?;
        let given = input
            .next_token
            .as_deref()
            .map(Position::parse)
            .transpose()?;
        let log = self.find_log_group(account, &input.group)?;
        log.read(|group| {
            if !group.streams.keys().any(|name| **name == *stream) {
                return Err(stream_not_found());
            }
            let position = given.unwrap_or(if input.start_from_head.unwrap_or(false) {
                Position::Forward(0)
            } else {
                Position::Backward(group.next_sequence)
            });
            let keep = |event: &LogEvent| {
                *event.stream == *stream
                    && input
                        .start_time
                        .is_none_or(|start| event.timestamp >= start)
                    && input.end_time.is_none_or(|end| event.timestamp < end)
            };
            let (mut taken, _) = read_events(group.events, position, limit, keep);
            if matches!(position, Position::Backward(_)) {
                taken.reverse();
            }
            let (forward, backward) = match (taken.first(), taken.last()) {
                (Some(first), Some(last)) => (
                    Position::Forward(last.sequence + 1),
                    Position::Backward(first.sequence),
                ),
                // Nothing (more) in that direction: the same token back, and its mirror.
                _ => match position {
                    Position::Forward(sequence) => (position, Position::Backward(sequence)),
                    Position::Backward(sequence) => (Position::Forward(sequence), position),
                },
            };
            Ok(GetLogEventsOutput {
                events: taken
                    .into_iter()
                    .map(|event| OutputLogEvent {
                        timestamp: event.timestamp,
                        message: event.message.clone(),
                        ingestion_time: event.ingestion_time,
                    })
                    .collect(),
                next_forward_token: forward.token(),
                next_backward_token: backward.token(),
            })
        })
    }

    /// FilterLogEvents: events of the group's streams (all, named, or by prefix) in a time
    /// range (both ends inclusive) that match a filter pattern, oldest first unless
    /// `startFromHead` is false, with a `nextToken` while more match.
    pub async fn filter_log_events(
        &self,
        account: &str,
        input: FilterLogEventsInput,
    ) -> Result<FilterLogEventsOutput> {
        if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
            return Err(invalid(
                "You cannot specify both LogStreamNames and LogStreamNamePrefix.",
            ));
        }
        let limit = checked_limit(input.limit, MAX_EVENTS_LIMIT)?;
        let pattern = FilterPattern::parse(input.filter_pattern.as_deref().unwrap_or(""))?;
        let given = input
            .next_token
            .as_deref()
            .map(|token| decode_token(token).and_then(|position| Position::parse(&position)))
            .transpose()?;
        let log = self.find_log_group(account, &input.group)?;
        log.read(|group: &LogGroupView<'_>| {
            let position = given.unwrap_or(if input.start_from_head.unwrap_or(true) {
                Position::Forward(0)
            } else {
                Position::Backward(group.next_sequence)
            });
            let keep = |event: &LogEvent| {
                input
                    .start_time
                    .is_none_or(|start| event.timestamp >= start)
                    && input.end_time.is_none_or(|end| event.timestamp <= end)
                    && match (&input.log_stream_names, &input.log_stream_name_prefix) {
                        (Some(names), _) => names.iter().any(|name| **name == *event.stream),
                        (None, Some(prefix)) => event.stream.starts_with(prefix.as_str()),
                        (None, None) => true,
                    }
                    && pattern.matches(&event.message)
            };
            let (taken, more) = read_events(group.events, position, limit, keep);
            let next_token = match (more, taken.last()) {
                (true, Some(last)) => Some(encode_token(
                    &match position {
                        Position::Forward(_) => Position::Forward(last.sequence + 1),
                        Position::Backward(_) => Position::Backward(last.sequence),
                    }
                    .token(),
                )),
                _ => None,
            };
            Ok(FilterLogEventsOutput {
                events: taken
                    .into_iter()
                    .map(|event| FilteredLogEvent {
                        log_stream_name: event.stream.to_string(),
                        timestamp: event.timestamp,
                        message: event.message.clone(),
                        ingestion_time: event.ingestion_time,
                        event_id: event.event_id(),
                    })
                    .collect(),
                next_token,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        for position in [Position::Forward(7), Position::Backward(0)] {
            assert_eq!(Position::parse(&position.token()).unwrap(), position);
        }
        assert_eq!(Position::parse("f/12").unwrap(), Position::Forward(12));
        assert!(Position::parse("x/1").is_err());
        assert!(Position::parse("f/abc").is_err());
    }

    #[test]
    fn identifiers_are_names_or_arns_of_the_account() {
        let account = "000000000000";
        assert_eq!(
            group_name_of_identifier("/aws/lambda/f", account).as_deref(),
            Some("/aws/lambda/f")
        );
        assert_eq!(
            group_name_of_identifier(
                "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*",
                account
            )
            .as_deref(),
            Some("/aws/lambda/f")
        );
        assert_eq!(
            group_name_of_identifier(
                "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/f",
                account
            ),
            None
        );
    }

    #[test]
    fn limits_are_checked_with_cloudwatch_messages() {
        assert_eq!(checked_limit(None, 50).unwrap(), 50);
        assert!(matches!(
            checked_limit(Some(0), 50),
            Err(Error::LogsInvalidParameter(m)) if m.contains("greater than or equal to 1")
        ));
        assert!(checked_limit(Some(51), 50).is_err());
    }
}
