//! Where asynchronous invocation sends its outcomes: the ARNs of `DestinationConfig`
//! (OnSuccess/OnFailure) and of a function's `DeadLetterConfig`, checked with Lambda's
//! messages and resolved into a [`Target`] eddy can deliver to.
//!
//! eddy delivers to SQS standard queues and to Lambda functions (invoked asynchronously).
//! SNS topics, EventBridge buses and S3 buckets are valid targets in AWS but do not exist in
//! eddy yet, so they are refused with a message that says so rather than accepted and
//! silently dropped.

use serde::{Deserialize, Serialize};

use crate::sqs::QueueRef;
use crate::{Engine, Error, Result};

/// A function's `DeadLetterConfig`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
}

/// Something an outcome can be delivered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A standard SQS queue.
    Queue(QueueRef),
    /// A function, invoked asynchronously with the record as its event.
    Function {
        account: String,
        name: String,
        qualifier: Option<String>,
    },
}

/// The parts of an ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`.
struct ArnParts<'a> {
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn split_arn(arn: &str) -> Option<ArnParts<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    Some(ArnParts {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    })
}

/// The destination pattern of the API model:
/// `^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)`.
fn matches_destination_pattern(arn: &str) -> bool {
    let Some(parts) = split_arn(arn) else {
        return false;
    };
    let partition_ok = parts.partition.starts_with("aws")
        && parts
            .partition
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    let service_ok = !parts.service.is_empty()
        && parts
            .service
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    let region_ok = parts.region.is_empty() || is_region(parts.region);
    let account_ok = parts.account.is_empty() || is_account(parts.account);
    partition_ok && service_ok && region_ok && account_ok
}

/// `[a-z]{2}(-gov|-iso|-isob)?-[a-z]+-\d`.
fn is_region(region: &str) -> bool {
    let pieces: Vec<&str> = region.split('-').collect();
    let lower = |piece: &str| !piece.is_empty() && piece.bytes().all(|b| b.is_ascii_lowercase());
    let (country, middle, number) = match pieces.as_slice() {
        [country, area, number] => (*country, vec![*area], *number),
        [country, qualifier, area, number] if ["gov", "iso", "isob"].contains(qualifier) => {
            (*country, vec![*area], *number)
        }
        _ => return false,
    };
    country.len() == 2
        && lower(country)
        && middle.iter().all(|piece| lower(piece))
        && number.len() == 1
        && number.bytes().all(|b| b.is_ascii_digit())
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

const DESTINATION_PATTERN: &str = "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";
const DEAD_LETTER_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()";

/// Which destination of `DestinationConfig` an ARN came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationKind {
    OnSuccess,
    OnFailure,
}

impl DestinationKind {
    fn member(self) -> &'static str {
        match self {
            DestinationKind::OnSuccess => "destinationConfig.onSuccess.destination",
            DestinationKind::OnFailure => "destinationConfig.onFailure.destination",
        }
    }
}

fn not_in_eddy(what: &str, role: &str) -> Error {
    Error::LambdaInvalidParameterValue(format!(
        "eddy does not support {what} as {role} yet; use an SQS standard queue{}.",
        if role == "destinations" {
            " or a Lambda function"
        } else {
            ""
        }
    ))
}

impl Engine {
    /// Checks one destination ARN of `function` (account, name) and resolves it. `config`
    /// is the whole `DestinationConfig` as Lambda's catch-all message names it.
    pub(crate) async fn destination_target(
        &self,
        function: (&str, &str),
        kind: DestinationKind,
        arn: &str,
        config: &str,
    ) -> Result<Target> {
        if !matches_destination_pattern(arn) {
            return Err(Error::LambdaValidation(format!(
                "1 validation error detected: Value '{arn}' at '{}' failed to satisfy constraint: Member must satisfy regular expression pattern: {DESTINATION_PATTERN}",
                kind.member()
            )));
        }
        let Some(parts) = split_arn(arn) else {
            return Err(invalid_destination(arn));
        };
        match parts.service {
            "sqs" => {
                if parts.region.is_empty()
                    || !is_account(parts.account)
                    || parts.resource.is_empty()
                    || parts.resource.contains([':', '/'])
                    || parts.resource.ends_with(".fifo")
                {
                    // FIFO queues keep order, which asynchronous records cannot promise.
                    return Err(invalid_destination(arn));
                }
                Ok(Target::Queue(QueueRef {
                    account: parts.account.to_string(),
                    name: parts.resource.to_string(),
                }))
            }
            "lambda" => {
                let Some(function_part) = parts.resource.strip_prefix("function:") else {
                    return Err(invalid_destination(arn));
                };
                let (name, qualifier) = match function_part.split_once(':') {
                    Some((name, qualifier)) => (name, Some(qualifier.to_string())),
                    None => (function_part, None),
                };
                if parts.region.is_empty() || !is_account(parts.account) || name.is_empty() {
                    return Err(invalid_destination(arn));
                }
                if parts.account == function.0 && name == function.1 {
                    return Err(Error::LambdaInvalidParameterValue(
                        "You can't specify the function as a destination for itself.".to_string(),
                    ));
                }
                if self
                    .inner
                    .store
                    .get_function(parts.account, name)
                    .await?
                    .is_none()
                {
                    return Err(invalid_destination(arn));
                }
                Ok(Target::Function {
                    account: parts.account.to_string(),
                    name: name.to_string(),
                    qualifier,
                })
            }
            "sns" => Err(not_in_eddy("SNS topics", "destinations")),
            "events" => Err(not_in_eddy("EventBridge event buses", "destinations")),
            "s3" if kind == DestinationKind::OnFailure => {
                Err(not_in_eddy("S3 buckets", "destinations"))
            }
            _ => Err(Error::LambdaInvalidParameterValue(format!(
                "The provided destination config {config} is invalid."
            ))),
        }
    }
}

fn invalid_destination(arn: &str) -> Error {
    Error::LambdaInvalidParameterValue(format!("The destination ARN {arn} is invalid."))
}

/// Checks a `DeadLetterConfig.TargetArn` as CreateFunction and UpdateFunctionConfiguration
/// do; `None` for an empty ARN (no dead-letter queue).
pub fn dead_letter_target(target_arn: &str, region: &str) -> Result<Option<QueueRef>> {
    if target_arn.is_empty() {
        return Ok(None);
    }
    let invalid_pattern = || {
        Error::LambdaValidation(format!(
            "1 validation error detected: Value '{target_arn}' at 'deadLetterConfig.targetArn' failed to satisfy constraint: Member must satisfy regular expression pattern: {DEAD_LETTER_PATTERN}"
        ))
    };
    let Some(parts) = split_arn(target_arn) else {
        return Err(invalid_pattern());
    };
    let service_ok = !parts.service.is_empty()
        && parts
            .service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !(parts.partition.is_empty() || parts.partition.starts_with("aws")) || !service_ok {
        return Err(invalid_pattern());
    }
    let invalid = |reason: &str| {
        Error::LambdaInvalidParameterValue(format!("Invalid dead letter queue ARN: {reason}"))
    };
    match parts.service {
        "sqs" | "sns" => {}
        _ => {
            return Err(invalid(
                "The service specified by the TargetArn is not supported for dead letter configuration.",
            ));
        }
    }
    if parts.region != region {
        return Err(invalid(
            "The resource specified by the TargetArn must be in the same region as the Lambda function it's associated with.",
        ));
    }
    if !is_account(parts.account) || parts.resource.is_empty() || parts.resource.contains(':') {
        return Err(invalid("The TargetArn is not a valid ARN."));
    }
    if parts.service == "sns" {
        return Err(not_in_eddy("SNS topics", "dead-letter targets"));
    }
    if parts.resource.ends_with(".fifo") {
        return Err(invalid(
            "FIFO SQS queue is not supported for dead letter configuration",
        ));
    }
    Ok(Some(QueueRef {
        account: parts.account.to_string(),
        name: parts.resource.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_pattern_follows_the_api_model() {
        assert!(matches_destination_pattern(
            "arn:aws:sqs:us-east-1:000000000000:q"
        ));
        assert!(matches_destination_pattern("arn:aws:s3:::bucket"));
        assert!(matches_destination_pattern(
            "arn:aws-us-gov:sqs:us-gov-west-1:000000000000:q"
        ));
        assert!(!matches_destination_pattern(
            "arn:aws:_-/!lambda:us-east-1:000000000000:function:f"
        ));
        assert!(!matches_destination_pattern("arn:aws:sqs:us-east-1:123:q"));
        assert!(!matches_destination_pattern("queue"));
    }

    #[test]
    fn dead_letter_targets_are_standard_queues_in_the_region() {
        assert_eq!(dead_letter_target("", "us-east-1").ok(), Some(None));
        assert_eq!(
            dead_letter_target("arn:aws:sqs:us-east-1:000000000000:dlq", "us-east-1").ok(),
            Some(Some(QueueRef {
                account: "000000000000".to_string(),
                name: "dlq".to_string()
            }))
        );
        let message = |arn: &str| match dead_letter_target(arn, "us-east-1") {
            Err(Error::LambdaInvalidParameterValue(message)) => message,
            other => format!("{other:?}"),
        };
        assert!(message("arn:aws:sqs:us-east-1:000000000000:dlq.fifo").contains("FIFO SQS queue"));
        assert!(message("arn:aws:sqs:eu-west-1:000000000000:dlq").contains("same region"));
        assert!(message("arn:aws:s3:::bucket").contains("not supported"));
        assert!(matches!(
            dead_letter_target("dlq", "us-east-1"),
            Err(Error::LambdaValidation(_))
        ));
    }
}
