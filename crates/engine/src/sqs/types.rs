//! Inputs and outputs of the SQS operations, shared by both wire protocols.
//!
//! These are plain data: the api crate decodes JSON or form requests into them and
//! encodes the outputs as JSON or XML; the engine validates and acts on them.

use std::collections::BTreeMap;

/// Who is calling: the account the request's access key belongs to, and the sender id
/// SQS records as `SenderId` (the access key id, or the account id when unsigned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub sender_id: String,
}

/// A queue as clients name it. The api resolves a queue URL (from any host) or a bare
/// name (the caller's account) into this.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueRef {
    pub account: String,
    pub name: String,
}

/// One message attribute (`MessageAttributeValue`). `data_type` is `String`, `Number`
/// or `Binary`, optionally with a custom `.suffix`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MessageAttributeValue {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub string_list_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_list_values: Vec<Vec<u8>>,
}

pub type MessageAttributes = BTreeMap<String, MessageAttributeValue>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateQueueInput {
    pub name: String,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQueuesInput {
    pub prefix: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQueuesOutput {
    pub queues: Vec<QueueRef>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendMessageInput {
    pub body: String,
    pub delay_seconds: Option<i64>,
    pub message_attributes: MessageAttributes,
    /// Only `AWSTraceHeader` is accepted (SQS's rule).
    pub message_system_attributes: MessageAttributes,
    pub message_deduplication_id: Option<String>,
    pub message_group_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendMessageOutput {
    pub message_id: String,
    pub md5_of_message_body: String,
    pub md5_of_message_attributes: Option<String>,
    pub md5_of_message_system_attributes: Option<String>,
    /// FIFO queues only: 20 decimal digits.
    pub sequence_number: Option<String>,
}

/// One entry of a batch request: the client's entry id and the entry's input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchEntry<T> {
    pub id: String,
    pub input: T,
}

/// One failed entry of a batch (`BatchResultErrorEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFailure {
    pub id: String,
    /// The AWS code, e.g. `InvalidParameterValue` or `ReceiptHandleIsInvalid`.
    pub code: String,
    pub message: String,
    pub sender_fault: bool,
}

/// The result of a batch call: successful entries by id, in request order, and failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutput<T> {
    pub successful: Vec<(String, T)>,
    pub failed: Vec<BatchFailure>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveMessageInput {
    pub max_number_of_messages: Option<i64>,
    pub visibility_timeout: Option<i64>,
    pub wait_time_seconds: Option<i64>,
    /// The older `AttributeNames` list; merged with `message_system_attribute_names`.
    pub attribute_names: Vec<String>,
    pub message_system_attribute_names: Vec<String>,
    /// Names, `All`, `.*`, or prefixes such as `bar.*`.
    pub message_attribute_names: Vec<String>,
    pub receive_request_attempt_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub md5_of_body: String,
    pub body: String,
    /// The requested system attributes (`SentTimestamp`, `ApproximateReceiveCount`, …).
    pub attributes: BTreeMap<String, String>,
    /// Digest of the message attributes returned (absent when none are returned).
    pub md5_of_message_attributes: Option<String>,
    pub message_attributes: MessageAttributes,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeVisibilityInput {
    pub receipt_handle: String,
    pub visibility_timeout: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartMessageMoveTaskInput {
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub max_number_of_messages_per_second: Option<i64>,
}

/// One entry of ListMessageMoveTasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageMoveTask {
    /// Only present while the task is `RUNNING`.
    pub task_handle: Option<String>,
    pub status: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub max_number_of_messages_per_second: Option<i64>,
    pub approximate_number_of_messages_moved: i64,
    pub approximate_number_of_messages_to_move: Option<i64>,
    pub failure_reason: Option<String>,
    pub started_timestamp: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPermissionInput {
    pub label: String,
    pub aws_account_ids: Vec<String>,
    pub actions: Vec<String>,
}
