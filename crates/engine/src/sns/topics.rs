//! CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes and SetTopicAttributes, and
//! the checks every action naming a topic shares (its ARN, its existence).
//!
//! Topic attributes are stored as the client set them, normalised (`true`/`false` in lower
//! case); what AWS derives (Owner, TopicArn, the subscription counts, the default Policy,
//! EffectiveDeliveryPolicy) is computed when read.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use store::ResourceCondition;

use super::TopicRecord;
use super::delivery_policy::TopicHttpPolicy;
use super::types::{CreateTopicInput, Page, SnsCaller};
use crate::{Engine, Error, Result};

/// ListTopics and the subscription listings answer this many items per page.
pub(crate) const PAGE_SIZE: usize = 100;
/// How often a read-modify-write of a topic or subscription retries after losing a race.
pub(crate) const UPDATE_ATTEMPTS: usize = 8;
const MAX_TOPIC_NAME: usize = 256;
const MAX_DISPLAY_NAME: usize = 100;
const FEEDBACK_PROTOCOLS: [&str; 5] = ["Application", "HTTP", "Firehose", "Lambda", "SQS"];

fn invalid(message: impl Into<String>) -> Error {
    Error::SnsInvalidParameter(message.into())
}

fn topic_not_found() -> Error {
    Error::SnsNotFound("Topic does not exist".to_string())
}

/// Why a topic attribute a client sets is refused.
#[derive(Debug)]
enum AttributeProblem {
    /// Not an attribute a client may set (on this kind of topic).
    UnknownName,
    /// The value is wrong; the reason starts with the attribute's name.
    InvalidValue(String),
}

fn bool_value(name: &str, value: &str) -> std::result::Result<String, AttributeProblem> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok("true".to_string()),
        "false" => Ok("false".to_string()),
        _ => Err(AttributeProblem::InvalidValue(format!(
            "{name}: Invalid value [{value}]. Must be true or false."
        ))),
    }
}

fn one_of(
    name: &str,
    value: &str,
    allowed: &[&str],
) -> std::result::Result<String, AttributeProblem> {
    if allowed.contains(&value) {
        return Ok(value.to_string());
    }
    let choices = match allowed {
        [one, two] => format!("{one} or {two}"),
        _ => allowed.join(", "),
    };
    Err(AttributeProblem::InvalidValue(format!(
        "{name}: Invalid value [{value}]. Must be {choices}."
    )))
}

fn json_object(name: &str, value: &str) -> std::result::Result<String, AttributeProblem> {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(_)) => Ok(value.to_string()),
        _ => Err(AttributeProblem::InvalidValue(format!(
            "{name}: failed to parse JSON."
        ))),
    }
}

fn is_feedback_attribute(name: &str) -> bool {
    FEEDBACK_PROTOCOLS.iter().any(|protocol| {
        name.strip_prefix(protocol).is_some_and(|rest| {
            matches!(
                rest,
                "SuccessFeedbackRoleArn" | "SuccessFeedbackSampleRate" | "FailureFeedbackRoleArn"
            )
        })
    })
}

/// Checks one attribute a client sets on a topic (`fifo`: the topic is FIFO); the value
/// to store.
fn check_topic_attribute(
    name: &str,
    value: &str,
    fifo: bool,
) -> std::result::Result<String, AttributeProblem> {
    match name {
        "DisplayName" => {
            if value.chars().count() > MAX_DISPLAY_NAME {
                return Err(AttributeProblem::InvalidValue(format!(
                    "DisplayName: must be at most {MAX_DISPLAY_NAME} characters long"
                )));
            }
            Ok(value.to_string())
        }
        "Policy" => json_object(name, value),
        "DeliveryPolicy" => TopicHttpPolicy::parse(Some(value))
            .map(|_| value.to_string())
            .map_err(|reason| AttributeProblem::InvalidValue(format!("DeliveryPolicy: {reason}"))),
        "SignatureVersion" => one_of(name, value, &["1", "2"]),
        "TracingConfig" => one_of(name, value, &["PassThrough", "Active"]),
        "KmsMasterKeyId" => Ok(value.to_string()),
        "ContentBasedDeduplication" if fifo => bool_value(name, value),
        "FifoThroughputScope" if fifo => one_of(name, value, &["Topic", "MessageGroup"]),
        "ArchivePolicy" if fifo => json_object(name, value),
        _ if is_feedback_attribute(name) => {
            if name.ends_with("SampleRate") {
                match value.parse::<u8>() {
                    Ok(rate) if rate <= 100 => Ok(rate.to_string()),
                    _ => Err(AttributeProblem::InvalidValue(format!(
                        "{name}: Invalid value [{value}]. Must be an integer from 0 to 100."
                    ))),
                }
            } else {
                Ok(value.to_string())
            }
        }
        _ => Err(AttributeProblem::UnknownName),
    }
}

/// A topic name AWS accepts: 1–256 of `[A-Za-z0-9_-]`, ending in `.fifo` for a FIFO topic.
fn valid_topic_name(name: &str, fifo: bool) -> bool {
    let base = if fifo {
        match name.strip_suffix(".fifo") {
            Some(base) => base,
            None => return false,
        }
    } else {
        name
    };
    !base.is_empty()
        && name.len() <= MAX_TOPIC_NAME
        && base
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// The policy AWS gives a topic nobody set one on.
fn default_topic_policy(topic_arn: &str, account: &str) -> String {
    let arn = serde_json::Value::String(topic_arn.to_string());
    let owner = serde_json::Value::String(account.to_string());
    format!(
        concat!(
            r#"{{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{{"#,
            r#""Sid":"__default_statement_ID","Effect":"Allow","Principal":{{"AWS":"*"}},"#,
            r#""Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","#,
            r#""SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","#,
            r#""SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":{arn},"#,
            r#""Condition":{{"StringEquals":{{"AWS:SourceOwner":{owner}}}}}}}]}}"#
        ),
        arn = arn,
        owner = owner,
    )
}

/// An opaque NextToken naming the key a listing continues after.
pub(crate) fn encode_next_token(key: &str) -> String {
    BASE64.encode(key)
}

/// The key a NextToken continues after; AWS's error for a token it did not hand out.
pub(crate) fn decode_next_token(token: Option<String>) -> Result<Option<String>> {
    let Some(token) = token.filter(|token| !token.is_empty()) else {
        return Ok(None);
    };
    BASE64
        .decode(token.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| invalid("Invalid parameter: NextToken"))
}

/// Tags AWS accepts on a topic; TagResource also checks the total after merging.
pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    for (index, (key, value)) in tags.iter().enumerate() {
        let member = index + 1;
        if key.is_empty() {
            return Err(Error::ValidationError(format!(
                "1 validation error detected: Value '{key}' at 'tags.{member}.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )));
        }
        if key.chars().count() > 128 {
            return Err(Error::ValidationError(format!(
                "1 validation error detected: Value '{key}' at 'tags.{member}.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"
            )));
        }
        if value.chars().count() > 256 {
            return Err(Error::ValidationError(format!(
                "1 validation error detected: Value '{value}' at 'tags.{member}.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid(
                "Invalid parameter: Tags Reason: Tag keys starting with 'aws:' are reserved for AWS use",
            ));
        }
    }
    check_tag_count(tags.len())
}

pub(crate) fn check_tag_count(count: usize) -> Result<()> {
    if count > 50 {
        return Err(Error::SnsTagLimitExceeded(
            "Could not complete request: tag quota of per resource exceeded".to_string(),
        ));
    }
    Ok(())
}

impl Engine {
    /// The (account, name) of the topic `arn` names, with AWS's errors for an ARN that is
    /// malformed or of another region; `parameter` names the request member (`TopicArn`).
    pub(crate) fn topic_of_arn(&self, arn: &str, parameter: &str) -> Result<(String, String)> {
        let elements = arn.split(':').count();
        if elements < 6 {
            return Err(invalid(format!(
                "Invalid parameter: {parameter} Reason: An ARN must have at least 6 elements, not {elements}"
            )));
        }
        let region_matches =
            crate::sqs::arn::parse(arn).is_some_and(|parsed| parsed.region == self.config().region);
        match super::parse_topic_arn(arn) {
            Some(topic) if region_matches => Ok(topic),
            _ => Err(invalid(format!("Invalid parameter: {parameter}"))),
        }
    }

    /// The topic `arn` names; `NotFound` when there is none.
    pub(crate) async fn existing_topic(&self, arn: &str, parameter: &str) -> Result<TopicRecord> {
        let (account, name) = self.topic_of_arn(arn, parameter)?;
        self.load_topic(&account, &name)
            .await?
            .ok_or_else(topic_not_found)
    }

    /// Creates the topic (or returns the existing one with the same attributes); answers
    /// its ARN.
    pub async fn create_topic(
        &self,
        caller: &SnsCaller,
        input: CreateTopicInput,
    ) -> Result<String> {
        let fifo = match input.attributes.get("FifoTopic") {
            None => false,
            Some(value) => match bool_value("FifoTopic", value) {
                Ok(flag) => flag == "true",
                Err(AttributeProblem::InvalidValue(reason)) => {
                    return Err(invalid(format!(
                        "Invalid parameter: Attributes Reason: {reason}"
                    )));
                }
                Err(AttributeProblem::UnknownName) => false,
            },
        };
        if !valid_topic_name(&input.name, fifo) {
            return Err(invalid(if fifo {
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
            } else {
                "Invalid parameter: Topic Name"
            }));
        }
        let mut attributes = BTreeMap::new();
        for (name, value) in &input.attributes {
            if name == "FifoTopic" {
                // AWS keeps no trace of an explicit `false`.
                if fifo {
                    attributes.insert(name.clone(), "true".to_string());
                }
                continue;
            }
            match check_topic_attribute(name, value, fifo) {
                Ok(value) => {
                    attributes.insert(name.clone(), value);
                }
                Err(AttributeProblem::UnknownName) => {
                    return Err(invalid(format!(
                        "Invalid parameter: Attributes Reason: Unknown attribute {name}"
                    )));
                }
                Err(AttributeProblem::InvalidValue(reason)) => {
                    return Err(invalid(format!(
                        "Invalid parameter: Attributes Reason: {reason}"
                    )));
                }
            }
        }
        check_tags(&input.tags)?;
        let arn = self.topic_arn(&caller.account, &input.name);
        let topic = TopicRecord {
            account: caller.account.clone(),
            name: input.name.clone(),
            fifo,
            attributes,
            tags: input.tags,
            data_protection_policy: input.data_protection_policy,
            created_at: self.now(),
        };
        // Two concurrent creates of one name: one writes, the other finds its topic and
        // answers as a repeated create would.
        for _ in 0..UPDATE_ATTEMPTS {
            if let Some(existing) = self.load_topic(&caller.account, &input.name).await? {
                self.check_same_topic(&existing, &topic, &arn).await?;
                return Ok(arn);
            }
            if self.save_topic(&topic, ResourceCondition::Absent).await? {
                return Ok(arn);
            }
        }
        Err(Error::Store(store::Error::Corrupt(format!(
            "topic {arn} kept changing during CreateTopic"
        ))))
    }

    /// A repeated CreateTopic succeeds only if what it asks for is already so.
    async fn check_same_topic(
        &self,
        existing: &TopicRecord,
        requested: &TopicRecord,
        arn: &str,
    ) -> Result<()> {
        let current = self.topic_attributes(existing, arn).await?;
        let differs = existing.fifo != requested.fifo
            || requested
                .attributes
                .iter()
                .any(|(name, value)| current.get(name) != Some(value));
        if differs {
            return Err(invalid(
                "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
            ));
        }
        let tags_differ = requested
            .tags
            .iter()
            .any(|(key, value)| existing.tags.get(key) != Some(value));
        if tags_differ {
            return Err(invalid(
                "Invalid parameter: Tags Reason: Topic already exists with different tags",
            ));
        }
        Ok(())
    }

    /// Deletes the topic and its subscriptions; deleting a missing topic succeeds.
    pub async fn delete_topic(&self, caller: &SnsCaller, topic_arn: &str) -> Result<()> {
        let _ = caller;
        let (account, name) = self.topic_of_arn(topic_arn, "TopicArn")?;
        let subscriptions = self.topic_subscriptions(&account, &name).await?;
        self.remove_topic(&account, &name).await?;
        for subscription in subscriptions
            .iter()
            .filter(|subscription| matches!(subscription.protocol.as_str(), "http" | "https"))
        {
            self.drop_http_delivery_queue(subscription).await?;
        }
        Ok(())
    }

    /// The caller's topic ARNs, 100 per page.
    pub async fn list_topics(
        &self,
        caller: &SnsCaller,
        next_token: Option<String>,
    ) -> Result<Page<String>> {
        let after = decode_next_token(next_token)?;
        let mut topics = self
            .list_topic_records(&caller.account, after.as_deref(), PAGE_SIZE + 1)
            .await?;
        let next_token = if topics.len() > PAGE_SIZE {
            topics.truncate(PAGE_SIZE);
            topics.last().map(|topic| encode_next_token(&topic.name))
        } else {
            None
        };
        Ok(Page {
            items: topics
                .iter()
                .map(|topic| self.topic_arn(&topic.account, &topic.name))
                .collect(),
            next_token,
        })
    }

    pub async fn get_topic_attributes(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        let _ = caller;
        let topic = self.existing_topic(topic_arn, "TopicArn").await?;
        let arn = self.topic_arn(&topic.account, &topic.name);
        self.topic_attributes(&topic, &arn).await
    }

    /// Every attribute GetTopicAttributes reports for `topic`.
    async fn topic_attributes(
        &self,
        topic: &TopicRecord,
        arn: &str,
    ) -> Result<BTreeMap<String, String>> {
        let subscriptions = self
            .topic_subscriptions(&topic.account, &topic.name)
            .await?;
        let pending = subscriptions
            .iter()
            .filter(|subscription| subscription.pending_confirmation)
            .count();
        let mut attributes = topic.attributes.clone();
        attributes.insert("TopicArn".to_string(), arn.to_string());
        attributes.insert("Owner".to_string(), topic.account.clone());
        attributes
            .entry("Policy".to_string())
            .or_insert_with(|| default_topic_policy(arn, &topic.account));
        attributes.entry("DisplayName".to_string()).or_default();
        attributes.insert(
            "SubscriptionsConfirmed".to_string(),
            (subscriptions.len() - pending).to_string(),
        );
        attributes.insert("SubscriptionsPending".to_string(), pending.to_string());
        attributes.insert("SubscriptionsDeleted".to_string(), "0".to_string());
        let delivery_policy =
            TopicHttpPolicy::parse(topic.attributes.get("DeliveryPolicy").map(String::as_str))
                .unwrap_or_default();
        attributes.insert(
            "EffectiveDeliveryPolicy".to_string(),
            delivery_policy.to_json_string(),
        );
        if topic.fifo {
            attributes.insert("FifoTopic".to_string(), "true".to_string());
            attributes
                .entry("ContentBasedDeduplication".to_string())
                .or_insert_with(|| "false".to_string());
        }
        Ok(attributes)
    }

    pub async fn set_topic_attributes(
        &self,
        caller: &SnsCaller,
        topic_arn: &str,
        attribute_name: &str,
        attribute_value: Option<String>,
    ) -> Result<()> {
        let _ = caller;
        let (account, name) = self.topic_of_arn(topic_arn, "TopicArn")?;
        for _ in 0..UPDATE_ATTEMPTS {
            let Some((mut topic, revision)) = self.load_topic_revision(&account, &name).await?
            else {
                return Err(topic_not_found());
            };
            let value = attribute_value.as_deref().unwrap_or("");
            let checked = if attribute_name == "FifoTopic" {
                Err(AttributeProblem::UnknownName)
            } else {
                check_topic_attribute(attribute_name, value, topic.fifo)
            };
            match checked {
                Err(AttributeProblem::UnknownName) => {
                    return Err(invalid("Invalid parameter: AttributeName"));
                }
                Err(AttributeProblem::InvalidValue(_)) if value.is_empty() => {
                    // An empty value removes the attribute (Policy goes back to AWS's
                    // default, DeliveryPolicy to none).
                    topic.attributes.remove(attribute_name);
                }
                Err(AttributeProblem::InvalidValue(reason)) => {
                    return Err(invalid(format!("Invalid parameter: {reason}")));
                }
                Ok(stored) if stored.is_empty() && attribute_name != "DisplayName" => {
                    topic.attributes.remove(attribute_name);
                }
                Ok(stored) => {
                    topic.attributes.insert(attribute_name.to_string(), stored);
                }
            }
            if self
                .save_topic(&topic, ResourceCondition::Revision(revision))
                .await?
            {
                return Ok(());
            }
        }
        Err(Error::Store(store::Error::Corrupt(format!(
            "topic {topic_arn} kept changing during SetTopicAttributes"
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_aws_rules() {
        assert!(valid_topic_name("orders_2-b", false));
        assert!(!valid_topic_name("", false));
        assert!(!valid_topic_name("a.fifo", false));
        assert!(valid_topic_name("a.fifo", true));
        assert!(!valid_topic_name(".fifo", true));
        assert!(!valid_topic_name("a", true));
        assert!(valid_topic_name(&"a".repeat(256), false));
        assert!(!valid_topic_name(&"a".repeat(257), false));
        assert!(!valid_topic_name("a b", false));
    }

    #[test]
    fn default_policy_is_aws_document() {
        let policy = default_topic_policy("arn:aws:sns:us-east-1:1:t", "1");
        let parsed: serde_json::Value = serde_json::from_str(&policy).unwrap_or_default();
        assert_eq!(
            parsed["Statement"][0]["Resource"],
            "arn:aws:sns:us-east-1:1:t"
        );
        assert_eq!(
            parsed["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceOwner"],
            "1"
        );
        assert!(policy.starts_with(r#"{"Version":"2008-10-17","Id":"__default_policy_ID""#));
    }

    #[test]
    fn next_tokens_round_trip() {
        let token = encode_next_token("topic-1");
        assert_eq!(
            decode_next_token(Some(token)).ok().flatten().as_deref(),
            Some("topic-1")
        );
        assert!(decode_next_token(Some("%%%".to_string())).is_err());
        assert!(matches!(decode_next_token(Some(String::new())), Ok(None)));
    }
}
