//! Inputs and outputs of the SNS actions. Plain data: the api crate decodes query-protocol
//! requests into them and encodes the outputs as XML; the engine validates and acts on them.

use std::collections::BTreeMap;

/// Who is calling: the account of the request's access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsCaller {
    pub account: String,
}

impl SnsCaller {
    /// A request without credentials: the plain GETs of a SubscribeURL or UnsubscribeURL.
    /// It acts in the account its ARN names.
    pub fn anonymous() -> SnsCaller {
        SnsCaller {
            account: String::new(),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.account.is_empty()
    }
}

/// One message attribute of a Publish (`MessageAttributes.entry.N`). `data_type` is
/// `String`, `String.Array`, `Number` or `Binary`, optionally with a custom `.suffix`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnsAttributeValue {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<Vec<u8>>,
}

pub type SnsMessageAttributes = BTreeMap<String, SnsAttributeValue>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateTopicInput {
    pub name: String,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub data_protection_policy: Option<String>,
}

/// A page of a listing: the items and the token of the next page, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeInput {
    pub topic_arn: String,
    pub protocol: String,
    pub endpoint: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub return_subscription_arn: bool,
}

/// One row of ListSubscriptions / ListSubscriptionsByTopic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionSummary {
    /// The subscription's ARN, or `PendingConfirmation` while an HTTP endpoint has not
    /// confirmed.
    pub subscription_arn: String,
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub topic_arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishInput {
    pub topic_arn: Option<String>,
    pub target_arn: Option<String>,
    pub phone_number: Option<String>,
    pub message: Option<String>,
    pub subject: Option<String>,
    pub message_structure: Option<String>,
    pub message_attributes: SnsMessageAttributes,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOutput {
    pub message_id: String,
    /// FIFO topics only: 20 digits.
    pub sequence_number: Option<String>,
}

/// One entry of PublishBatch (`PublishBatchRequestEntries.member.N`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishBatchEntry {
    pub id: String,
    pub message: Option<String>,
    pub subject: Option<String>,
    pub message_structure: Option<String>,
    pub message_attributes: SnsMessageAttributes,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishBatchSuccess {
    pub id: String,
    pub message_id: String,
    pub sequence_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishBatchFailure {
    pub id: String,
    pub code: String,
    pub message: String,
    pub sender_fault: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishBatchOutput {
    pub successful: Vec<PublishBatchSuccess>,
    pub failed: Vec<PublishBatchFailure>,
}
