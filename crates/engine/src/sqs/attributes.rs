//! Queue attributes: which exist, their ranges and defaults, how values are normalised for
//! storage, and the typed settings the message paths read from a stored queue.

use std::collections::BTreeMap;

use serde_json::Value;
use store::QueueRecord;

use crate::{Error, Result};

pub(crate) const DELAY_SECONDS: &str = "DelaySeconds";
pub(crate) const MAXIMUM_MESSAGE_SIZE: &str = "MaximumMessageSize";
pub(crate) const MESSAGE_RETENTION_PERIOD: &str = "MessageRetentionPeriod";
pub(crate) const RECEIVE_MESSAGE_WAIT_TIME_SECONDS: &str = "ReceiveMessageWaitTimeSeconds";
pub(crate) const VISIBILITY_TIMEOUT: &str = "VisibilityTimeout";
pub(crate) const POLICY: &str = "Policy";
pub(crate) const REDRIVE_POLICY: &str = "RedrivePolicy";
pub(crate) const REDRIVE_ALLOW_POLICY: &str = "RedriveAllowPolicy";
pub(crate) const FIFO_QUEUE: &str = "FifoQueue";
pub(crate) const CONTENT_BASED_DEDUPLICATION: &str = "ContentBasedDeduplication";
pub(crate) const DEDUPLICATION_SCOPE: &str = "DeduplicationScope";
pub(crate) const FIFO_THROUGHPUT_LIMIT: &str = "FifoThroughputLimit";
pub(crate) const SQS_MANAGED_SSE_ENABLED: &str = "SqsManagedSseEnabled";
pub(crate) const KMS_MASTER_KEY_ID: &str = "KmsMasterKeyId";
pub(crate) const KMS_DATA_KEY_REUSE_PERIOD_SECONDS: &str = "KmsDataKeyReusePeriodSeconds";

pub(crate) const QUEUE_ARN: &str = "QueueArn";
pub(crate) const CREATED_TIMESTAMP: &str = "CreatedTimestamp";
pub(crate) const LAST_MODIFIED_TIMESTAMP: &str = "LastModifiedTimestamp";
pub(crate) const APPROXIMATE_NUMBER_OF_MESSAGES: &str = "ApproximateNumberOfMessages";
pub(crate) const APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE: &str =
    "ApproximateNumberOfMessagesNotVisible";
pub(crate) const APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED: &str =
    "ApproximateNumberOfMessagesDelayed";
pub(crate) const ALL: &str = "All";

/// Attributes GetQueueAttributes computes rather than stores; they cannot be set.
pub(crate) const READ_ONLY: [&str; 6] = [
    QUEUE_ARN,
    CREATED_TIMESTAMP,
    LAST_MODIFIED_TIMESTAMP,
    APPROXIMATE_NUMBER_OF_MESSAGES,
    APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE,
    APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED,
];

/// Every settable attribute, in the order GetQueueAttributes `All` reports them.
pub(crate) const SETTABLE: [&str; 15] = [
    DELAY_SECONDS,
    MAXIMUM_MESSAGE_SIZE,
    MESSAGE_RETENTION_PERIOD,
    RECEIVE_MESSAGE_WAIT_TIME_SECONDS,
    VISIBILITY_TIMEOUT,
    POLICY,
    REDRIVE_POLICY,
    REDRIVE_ALLOW_POLICY,
    FIFO_QUEUE,
    CONTENT_BASED_DEDUPLICATION,
    DEDUPLICATION_SCOPE,
    FIFO_THROUGHPUT_LIMIT,
    SQS_MANAGED_SSE_ENABLED,
    KMS_MASTER_KEY_ID,
    KMS_DATA_KEY_REUSE_PERIOD_SECONDS,
];

pub(crate) const DEFAULT_DELAY_SECONDS: i64 = 0;
pub(crate) const DEFAULT_MAXIMUM_MESSAGE_SIZE: i64 = 1_048_576;
pub(crate) const DEFAULT_MESSAGE_RETENTION_PERIOD: i64 = 345_600;
pub(crate) const DEFAULT_RECEIVE_MESSAGE_WAIT_TIME_SECONDS: i64 = 0;
pub(crate) const DEFAULT_VISIBILITY_TIMEOUT: i64 = 30;
const DEFAULT_KMS_DATA_KEY_REUSE_PERIOD_SECONDS: i64 = 300;
const MAX_SOURCE_QUEUE_ARNS: usize = 10;

fn integer_range(name: &str) -> Option<(i64, i64)> {
    match name {
        DELAY_SECONDS => Some((0, 900)),
        MAXIMUM_MESSAGE_SIZE => Some((1024, 1_048_576)),
        MESSAGE_RETENTION_PERIOD => Some((60, 1_209_600)),
        RECEIVE_MESSAGE_WAIT_TIME_SECONDS => Some((0, 20)),
        VISIBILITY_TIMEOUT => Some((0, 43_200)),
        KMS_DATA_KEY_REUSE_PERIOD_SECONDS => Some((60, 86_400)),
        _ => None,
    }
}

fn fifo_only(name: &str) -> bool {
    matches!(
        name,
        FIFO_QUEUE | CONTENT_BASED_DEDUPLICATION | DEDUPLICATION_SCOPE | FIFO_THROUGHPUT_LIMIT
    )
}

pub(crate) fn unknown_attribute(name: &str) -> Error {
    Error::InvalidAttributeName(format!("Unknown Attribute {name}."))
}

pub(crate) fn invalid_value(name: &str) -> Error {
    Error::InvalidAttributeValue(format!("Invalid value for the parameter {name}."))
}

/// The attributes a new queue starts with before the request's own are applied.
pub(crate) fn defaults(fifo: bool) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::new();
    let mut put = |name: &str, value: String| {
        attributes.insert(name.to_string(), value);
    };
    put(DELAY_SECONDS, DEFAULT_DELAY_SECONDS.to_string());
    put(
        MAXIMUM_MESSAGE_SIZE,
        DEFAULT_MAXIMUM_MESSAGE_SIZE.to_string(),
    );
    put(
        MESSAGE_RETENTION_PERIOD,
        DEFAULT_MESSAGE_RETENTION_PERIOD.to_string(),
    );
    put(
        RECEIVE_MESSAGE_WAIT_TIME_SECONDS,
        DEFAULT_RECEIVE_MESSAGE_WAIT_TIME_SECONDS.to_string(),
    );
    put(VISIBILITY_TIMEOUT, DEFAULT_VISIBILITY_TIMEOUT.to_string());
    // Current SQS encrypts new queues with SQS-owned keys unless told otherwise.
    put(SQS_MANAGED_SSE_ENABLED, "true".to_string());
    if fifo {
        put(FIFO_QUEUE, "true".to_string());
        put(CONTENT_BASED_DEDUPLICATION, "false".to_string());
        put(DEDUPLICATION_SCOPE, "queue".to_string());
        put(FIFO_THROUGHPUT_LIMIT, "perQueue".to_string());
    }
    attributes
}

/// Validates the attributes of a CreateQueue or SetQueueAttributes request for a queue of
/// the given type and returns them normalised. An empty string for `Policy`,
/// `RedrivePolicy`, `RedriveAllowPolicy` or `KmsMasterKeyId` means "remove" and is kept as
/// an empty string. Cross-attribute rules are checked by [`merge`].
pub(crate) fn normalise(
    fifo: bool,
    input: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let mut normalised = BTreeMap::new();
    for (name, value) in input {
        let name = name.as_str();
        if !SETTABLE.contains(&name) {
            return Err(unknown_attribute(name));
        }
        if !fifo && fifo_only(name) {
            return Err(match name {
                DEDUPLICATION_SCOPE | FIFO_THROUGHPUT_LIMIT => Error::InvalidAttributeName(
                    format!("You can specify the {name} only when FifoQueue is set to true."),
                ),
                _ => unknown_attribute(name),
            });
        }
        normalised.insert(name.to_string(), normalise_value(name, value)?);
    }
    Ok(normalised)
}

fn normalise_value(name: &str, value: &str) -> Result<String> {
    if let Some((low, high)) = integer_range(name) {
        let parsed = parse_integer(value).ok_or_else(|| invalid_value(name))?;
        if parsed < low || parsed > high {
            return Err(invalid_value(name));
        }
        return Ok(parsed.to_string());
    }
    match name {
        FIFO_QUEUE => match parse_bool(value) {
            Some(true) => Ok("true".to_string()),
            _ => Err(Error::InvalidAttributeValue(
                "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not \
                 supported."
                    .to_string(),
            )),
        },
        CONTENT_BASED_DEDUPLICATION | SQS_MANAGED_SSE_ENABLED => parse_bool(value)
            .map(|b| b.to_string())
            .ok_or_else(|| invalid_value(name)),
        DEDUPLICATION_SCOPE => match value {
            "messageGroup" | "queue" => Ok(value.to_string()),
            _ => Err(invalid_value(name)),
        },
        FIFO_THROUGHPUT_LIMIT => match value {
            "perQueue" | "perMessageGroupId" => Ok(value.to_string()),
            _ => Err(invalid_value(name)),
        },
        POLICY => {
            if value.is_empty() {
                return Ok(String::new());
            }
            match serde_json::from_str::<Value>(value) {
                Ok(Value::Object(_)) => Ok(value.to_string()),
                _ => Err(invalid_value(name)),
            }
        }
        REDRIVE_POLICY => {
            if value.is_empty() {
                return Ok(String::new());
            }
            Ok(RedrivePolicy::parse(value)?.to_json())
        }
        REDRIVE_ALLOW_POLICY => {
            if value.is_empty() {
                return Ok(String::new());
            }
            validate_redrive_allow_policy(value)?;
            Ok(value.to_string())
        }
        KMS_MASTER_KEY_ID => Ok(value.to_string()),
        _ => Err(unknown_attribute(name)),
    }
}

/// Strict decimal integers: SQS refuses blanks, signs other than a leading minus, spaces
/// and fractions.
fn parse_integer(value: &str) -> Option<i64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Applies normalised changes to the current attributes and checks the rules that involve
/// several attributes (SSE kinds, high-throughput FIFO).
pub(crate) fn merge(
    current: &BTreeMap<String, String>,
    changes: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let sets_sqs_sse = changes
        .get(SQS_MANAGED_SSE_ENABLED)
        .is_some_and(|v| v == "true");
    let sets_kms = changes
        .get(KMS_MASTER_KEY_ID)
        .is_some_and(|v| !v.is_empty());
    if sets_sqs_sse && sets_kms {
        return Err(Error::InvalidAttributeName(
            "You can use one type of server-side encryption (SSE) at one time. You can either \
             enable KMS SSE or SQS SSE."
                .to_string(),
        ));
    }
    let mut merged = current.clone();
    for (name, value) in changes {
        if value.is_empty() {
            merged.remove(name);
        } else {
            merged.insert(name.clone(), value.clone());
        }
    }
    if sets_kms {
        merged.insert(SQS_MANAGED_SSE_ENABLED.to_string(), "false".to_string());
        merged
            .entry(KMS_DATA_KEY_REUSE_PERIOD_SECONDS.to_string())
            .or_insert_with(|| DEFAULT_KMS_DATA_KEY_REUSE_PERIOD_SECONDS.to_string());
    }
    if sets_sqs_sse {
        merged.remove(KMS_MASTER_KEY_ID);
        merged.remove(KMS_DATA_KEY_REUSE_PERIOD_SECONDS);
    }
    if changes.get(KMS_MASTER_KEY_ID).is_some_and(String::is_empty) {
        merged.remove(KMS_DATA_KEY_REUSE_PERIOD_SECONDS);
    }
    if !merged.contains_key(KMS_MASTER_KEY_ID) {
        merged.remove(KMS_DATA_KEY_REUSE_PERIOD_SECONDS);
    }
    let per_group_limit = merged
        .get(FIFO_THROUGHPUT_LIMIT)
        .is_some_and(|v| v == "perMessageGroupId");
    let group_scope = merged
        .get(DEDUPLICATION_SCOPE)
        .is_some_and(|v| v == "messageGroup");
    if per_group_limit && !group_scope {
        return Err(Error::InvalidAttributeValue(
            "Invalid value for the parameter FifoThroughputLimit. Reason: The perMessageGroupId \
             value is allowed only when the value for DeduplicationScope is messageGroup."
                .to_string(),
        ));
    }
    Ok(merged)
}

/// A parsed `RedrivePolicy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    pub(crate) fn parse(raw: &str) -> Result<RedrivePolicy> {
        let invalid = |reason: &str| {
            Error::InvalidParameterValue(format!(
                "Value {raw} for parameter RedrivePolicy is invalid. Reason: {reason}"
            ))
        };
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) else {
            return Err(Error::InvalidAttributeValue(
                "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a \
                 valid JSON map."
                    .to_string(),
            ));
        };
        if map
            .keys()
            .any(|k| k != "deadLetterTargetArn" && k != "maxReceiveCount")
        {
            return Err(invalid(
                "Only following attributes are supported: [maxReceiveCount, deadLetterTargetArn].",
            ));
        }
        let Some(count) = map.get("maxReceiveCount") else {
            return Err(invalid(
                "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
            ));
        };
        let Some(arn) = map.get("deadLetterTargetArn") else {
            return Err(invalid(
                "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
            ));
        };
        let count_text = match count {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let max_receive_count = match count {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => parse_integer(s),
            _ => None,
        }
        .filter(|n| (1..=1000).contains(n))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            invalid(&format!(
                "Invalid value for maxReceiveCount: {count_text}, valid values are from 1 to \
                 1000 both inclusive."
            ))
        })?;
        let Value::String(arn) = arn else {
            return Err(invalid("Invalid value for deadLetterTargetArn."));
        };
        let Some(parsed) = super::arn::parse(arn) else {
            return Err(invalid("Invalid value for deadLetterTargetArn."));
        };
        if parsed.service != "sqs" {
            return Err(invalid(
                "Only SQS queues are valid resources for deadLetterTargetArn.",
            ));
        }
        Ok(RedrivePolicy {
            dead_letter_target_arn: arn.clone(),
            max_receive_count,
        })
    }

    /// The canonical JSON SQS stores and returns.
    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({
            "deadLetterTargetArn": self.dead_letter_target_arn,
            "maxReceiveCount": self.max_receive_count,
        })
        .to_string()
    }
}

/// Whether a dead-letter queue whose `RedriveAllowPolicy` is `raw` (already validated when
/// it was set) accepts `source_arn` as a source queue.
pub(crate) fn redrive_allowed(raw: &str, source_arn: &str) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) else {
        return true;
    };
    match map.get("redrivePermission").and_then(Value::as_str) {
        Some("denyAll") => false,
        Some("byQueue") => map
            .get("sourceQueueArns")
            .and_then(Value::as_array)
            .is_some_and(|arns| arns.iter().any(|arn| arn.as_str() == Some(source_arn))),
        _ => true,
    }
}

fn validate_redrive_allow_policy(raw: &str) -> Result<()> {
    let unsupported = || {
        Error::InvalidAttributeValue(
            "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create \
             the redrive allow policy, as it’s in an unsupported format."
                .to_string(),
        )
    };
    let invalid = |reason: &str| {
        Error::InvalidParameterValue(format!(
            "Value {raw} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't \
             create the redrive allow policy. {reason}"
        ))
    };
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) else {
        return Err(unsupported());
    };
    if map
        .keys()
        .any(|k| k != "redrivePermission" && k != "sourceQueueArns")
    {
        return Err(unsupported());
    }
    let permission = match map.get("redrivePermission") {
        Some(Value::String(p)) if matches!(p.as_str(), "allowAll" | "denyAll" | "byQueue") => p,
        _ => return Err(unsupported()),
    };
    let arns = match map.get("sourceQueueArns") {
        None => None,
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Some(items.len()),
        Some(_) => return Err(unsupported()),
    };
    match (permission.as_str(), arns) {
        ("byQueue", None | Some(0)) => Err(invalid(
            "When you specify the byQueue permission type, you must also specify one or more \
             sourceQueueArns values.",
        )),
        ("byQueue", Some(n)) if n > MAX_SOURCE_QUEUE_ARNS => Err(invalid(
            "The maximum number of source queue ARNs you can specify is 10.",
        )),
        ("allowAll" | "denyAll", Some(_)) => Err(invalid(
            "To specify one or more source queue ARNs, you must set redrivePermission to byQueue.",
        )),
        _ => Ok(()),
    }
}

/// What the message paths need from a queue's attributes, read once per request.
#[derive(Debug, Clone)]
pub(crate) struct QueueSettings {
    pub delay_seconds: i64,
    pub maximum_message_size: i64,
    pub retention_seconds: i64,
    pub receive_wait_seconds: i64,
    pub visibility_timeout: i64,
    pub redrive: Option<RedrivePolicy>,
    pub content_based_deduplication: bool,
    pub deduplication_per_group: bool,
}

impl QueueSettings {
    pub(crate) fn of(queue: &QueueRecord) -> QueueSettings {
        let integer = |name: &str, default: i64| {
            queue
                .attributes
                .get(name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        QueueSettings {
            delay_seconds: integer(DELAY_SECONDS, DEFAULT_DELAY_SECONDS),
            maximum_message_size: integer(MAXIMUM_MESSAGE_SIZE, DEFAULT_MAXIMUM_MESSAGE_SIZE),
            retention_seconds: integer(MESSAGE_RETENTION_PERIOD, DEFAULT_MESSAGE_RETENTION_PERIOD),
            receive_wait_seconds: integer(
                RECEIVE_MESSAGE_WAIT_TIME_SECONDS,
                DEFAULT_RECEIVE_MESSAGE_WAIT_TIME_SECONDS,
            ),
            visibility_timeout: integer(VISIBILITY_TIMEOUT, DEFAULT_VISIBILITY_TIMEOUT),
            redrive: queue
                .attributes
                .get(REDRIVE_POLICY)
                .and_then(|raw| RedrivePolicy::parse(raw).ok()),
            content_based_deduplication: queue
                .attributes
                .get(CONTENT_BASED_DEDUPLICATION)
                .is_some_and(|v| v == "true"),
            deduplication_per_group: queue
                .attributes
                .get(DEDUPLICATION_SCOPE)
                .is_some_and(|v| v == "messageGroup"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn integers_outside_their_range_are_invalid_values() {
        let error = normalise(false, &map(&[("VisibilityTimeout", "43201")])).err();
        assert_eq!(
            error.map(|e| e.to_string()).as_deref(),
            Some("Invalid value for the parameter VisibilityTimeout.")
        );
        assert!(normalise(false, &map(&[("DelaySeconds", " 6")])).is_err());
        assert!(normalise(false, &map(&[("DelaySeconds", "5.5")])).is_err());
        assert!(normalise(false, &map(&[("MaximumMessageSize", "1023")])).is_err());
        assert_eq!(
            normalise(false, &map(&[("MaximumMessageSize", "1024")])).ok(),
            Some(map(&[("MaximumMessageSize", "1024")]))
        );
    }

    #[test]
    fn unknown_and_fifo_only_attributes_are_invalid_names_on_standard_queues() {
        assert!(matches!(
            normalise(false, &map(&[("Colour", "blue")])),
            Err(Error::InvalidAttributeName(m)) if m == "Unknown Attribute Colour."
        ));
        assert!(matches!(
            normalise(false, &map(&[("FifoQueue", "false")])),
            Err(Error::InvalidAttributeName(m)) if m == "Unknown Attribute FifoQueue."
        ));
        assert!(matches!(
            normalise(false, &map(&[("ContentBasedDeduplication", "true")])),
            Err(Error::InvalidAttributeName(_))
        ));
        assert!(matches!(
            normalise(false, &map(&[("QueueArn", "x")])),
            Err(Error::InvalidAttributeName(_))
        ));
    }

    #[test]
    fn redrive_policy_is_normalised_and_checked() {
        let policy = RedrivePolicy::parse(
            r#"{"maxReceiveCount":"5","deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq"}"#,
        );
        assert_eq!(
            policy.as_ref().map(RedrivePolicy::to_json).ok().as_deref(),
            Some(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":5}"#)
        );
        let too_many = RedrivePolicy::parse(
            r#"{"deadLetterTargetArn":"arn:aws:sqs:r:1:d","maxReceiveCount":1001}"#,
        );
        assert!(
            matches!(too_many, Err(Error::InvalidParameterValue(m)) if m.contains("valid values are from 1 to 1000"))
        );
        assert!(matches!(
            RedrivePolicy::parse("[]"),
            Err(Error::InvalidAttributeValue(_))
        ));
        assert!(matches!(
            RedrivePolicy::parse(r#"{"deadLetterTargetArn":"arn:aws:sns:r:1:t","maxReceiveCount":3}"#),
            Err(Error::InvalidParameterValue(m)) if m.contains("Only SQS queues")
        ));
    }

    #[test]
    fn redrive_allow_policy_rules() {
        assert!(validate_redrive_allow_policy(r#"{"redrivePermission":"allowAll"}"#).is_ok());
        assert!(validate_redrive_allow_policy(r#"{"redrivePermission":"byQueue"}"#).is_err());
        assert!(
            validate_redrive_allow_policy(
                r#"{"redrivePermission":"denyAll","sourceQueueArns":["a"]}"#
            )
            .is_err()
        );
        assert!(validate_redrive_allow_policy("x").is_err());
    }

    #[test]
    fn kms_and_sqs_encryption_are_exclusive() {
        let current = defaults(false);
        let both = map(&[("SqsManagedSseEnabled", "true"), ("KmsMasterKeyId", "k")]);
        assert!(matches!(
            merge(&current, &both),
            Err(Error::InvalidAttributeName(_))
        ));
        let kms = merge(&current, &map(&[("KmsMasterKeyId", "alias/aws/sqs")])).ok();
        let kms = kms.unwrap_or_default();
        assert_eq!(
            kms.get("SqsManagedSseEnabled").map(String::as_str),
            Some("false")
        );
        assert_eq!(
            kms.get("KmsDataKeyReusePeriodSeconds").map(String::as_str),
            Some("300")
        );
    }

    #[test]
    fn per_group_throughput_needs_group_deduplication_scope() {
        let current = defaults(true);
        assert!(
            merge(
                &current,
                &map(&[("FifoThroughputLimit", "perMessageGroupId")])
            )
            .is_err()
        );
        assert!(
            merge(
                &current,
                &map(&[
                    ("FifoThroughputLimit", "perMessageGroupId"),
                    ("DeduplicationScope", "messageGroup")
                ])
            )
            .is_ok()
        );
    }
}
