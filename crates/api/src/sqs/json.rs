//! SQS over AWS JSON 1.0: request bodies into [`Input`], outputs and errors into JSON.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use engine::sqs::{MessageAttributeValue, MessageAttributes, QueueRef};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::queue_url::queue_url;
use super::{ActionName, Input, Output};
use crate::error::{Error, Result};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Decodes a JSON 1.0 request body. An empty body is an empty object (some clients send
/// nothing for actions without members).
pub fn decode(body: &[u8]) -> Result<Input> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Input::default());
    }
    serde_json::from_slice(body).map_err(|error| {
        let message = match error.classify() {
            serde_json::error::Category::Data => {
                format!("Unable to parse the request: {error}")
            }
            _ => "Unable to parse the request: the body is not valid JSON.".to_string(),
        };
        Error::Serialization(message)
    })
}

pub(crate) fn optional_base64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<u8>>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    text.map(|text| BASE64.decode(text.as_bytes()))
        .transpose()
        .map_err(|_| serde::de::Error::custom("BinaryValue is not valid base64"))
}

pub(crate) fn optional_base64_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Vec<u8>>>, D::Error> {
    let texts: Option<Vec<String>> = Option::deserialize(deserializer)?;
    texts
        .map(|texts| {
            texts
                .iter()
                .map(|text| BASE64.decode(text.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(|_| serde::de::Error::custom("BinaryListValues is not valid base64"))
}

struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(self.0))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeValueOut<'a> {
    data_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    string_value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary_value: Option<Base64<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    string_list_values: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    binary_list_values: Vec<Base64<'a>>,
}

fn attribute_value(value: &MessageAttributeValue) -> AttributeValueOut<'_> {
    AttributeValueOut {
        data_type: &value.data_type,
        string_value: value.string_value.as_deref(),
        binary_value: value.binary_value.as_deref().map(Base64),
        string_list_values: &value.string_list_values,
        binary_list_values: value.binary_list_values.iter().map(|b| Base64(b)).collect(),
    }
}

fn attribute_values(values: &MessageAttributes) -> BTreeMap<&str, AttributeValueOut<'_>> {
    values
        .iter()
        .map(|(name, value)| (name.as_str(), attribute_value(value)))
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MessageOut<'a> {
    message_id: &'a str,
    receipt_handle: &'a str,
    #[serde(rename = "MD5OfBody")]
    md5_of_body: &'a str,
    body: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attributes: &'a BTreeMap<String, String>,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_attributes: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    message_attributes: BTreeMap<&'a str, AttributeValueOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SendResultOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    message_id: &'a str,
    #[serde(rename = "MD5OfMessageBody")]
    md5_of_message_body: &'a str,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_attributes: Option<&'a str>,
    #[serde(
        rename = "MD5OfMessageSystemAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    md5_of_message_system_attributes: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FailureOut<'a> {
    id: &'a str,
    sender_fault: bool,
    code: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct IdOut<'a> {
    id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchOut<'a, T> {
    successful: Vec<T>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failed: Vec<FailureOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MoveTaskOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    task_handle: Option<&'a str>,
    status: &'a str,
    source_arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_number_of_messages_per_second: Option<i64>,
    approximate_number_of_messages_moved: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    approximate_number_of_messages_to_move: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<&'a str>,
    started_timestamp: i64,
}

fn urls(host: &str, queues: &[QueueRef]) -> Vec<String> {
    queues.iter().map(|queue| queue_url(host, queue)).collect()
}

fn failures(failed: &[engine::sqs::BatchFailure]) -> Vec<FailureOut<'_>> {
    failed
        .iter()
        .map(|failure| FailureOut {
            id: &failure.id,
            sender_fault: failure.sender_fault,
            code: &failure.code,
            message: &failure.message,
        })
        .collect()
}

/// Encodes an action's output as the JSON 1.0 response body. Empty lists and maps are
/// left out, as SQS does (clients read them with a default).
pub fn encode(action: ActionName, output: &Output, host: &str) -> Vec<u8> {
    let value = match output {
        Output::Empty => return b"{}".to_vec(),
        Output::QueueUrl(queue) => {
            serde_json::json!({ "QueueUrl": queue_url(host, queue) })
        }
        Output::Queues(list) => {
            let mut object = serde_json::Map::new();
            let key = if action == ActionName::ListDeadLetterSourceQueues {
                // Required member, spelled in lower camel case by the model.
                object.insert("queueUrls".into(), urls(host, &list.queues).into());
                None
            } else {
                Some("QueueUrls")
            };
            if let Some(key) = key
                && !list.queues.is_empty()
            {
                object.insert(key.into(), urls(host, &list.queues).into());
            }
            if let Some(token) = &list.next_token {
                object.insert("NextToken".into(), token.clone().into());
            }
            serde_json::Value::Object(object)
        }
        Output::Attributes(attributes) => {
            if attributes.is_empty() {
                return b"{}".to_vec();
            }
            serde_json::json!({ "Attributes": attributes })
        }
        Output::Tags(tags) => {
            if tags.is_empty() {
                return b"{}".to_vec();
            }
            serde_json::json!({ "Tags": tags })
        }
        Output::SendMessage(sent) => {
            return to_vec(&SendResultOut {
                id: None,
                message_id: &sent.message_id,
                md5_of_message_body: &sent.md5_of_message_body,
                md5_of_message_attributes: sent.md5_of_message_attributes.as_deref(),
                md5_of_message_system_attributes: sent.md5_of_message_system_attributes.as_deref(),
                sequence_number: sent.sequence_number.as_deref(),
            });
        }
        Output::SendMessageBatch(batch) => {
            let successful = batch
                .successful
                .iter()
                .map(|(id, sent)| SendResultOut {
                    id: Some(id),
                    message_id: &sent.message_id,
                    md5_of_message_body: &sent.md5_of_message_body,
                    md5_of_message_attributes: sent.md5_of_message_attributes.as_deref(),
                    md5_of_message_system_attributes: sent
                        .md5_of_message_system_attributes
                        .as_deref(),
                    sequence_number: sent.sequence_number.as_deref(),
                })
                .collect();
            return to_vec(&BatchOut {
                successful,
                failed: failures(&batch.failed),
            });
        }
        Output::IdBatch(batch) => {
            let successful = batch
                .successful
                .iter()
                .map(|(id, ())| IdOut { id })
                .collect();
            return to_vec(&BatchOut {
                successful,
                failed: failures(&batch.failed),
            });
        }
        Output::Messages(messages) => {
            if messages.is_empty() {
                return b"{}".to_vec();
            }
            let messages: Vec<MessageOut<'_>> = messages
                .iter()
                .map(|message| MessageOut {
                    message_id: &message.message_id,
                    receipt_handle: &message.receipt_handle,
                    md5_of_body: &message.md5_of_body,
                    body: &message.body,
                    attributes: &message.attributes,
                    md5_of_message_attributes: message.md5_of_message_attributes.as_deref(),
                    message_attributes: attribute_values(&message.message_attributes),
                })
                .collect();
            #[derive(Serialize)]
            struct Messages<'a> {
                #[serde(rename = "Messages")]
                messages: Vec<MessageOut<'a>>,
            }
            return to_vec(&Messages { messages });
        }
        Output::TaskHandle(handle) => serde_json::json!({ "TaskHandle": handle }),
        Output::MoveTasks(tasks) => {
            let results: Vec<MoveTaskOut<'_>> = tasks
                .iter()
                .map(|task| MoveTaskOut {
                    task_handle: task.task_handle.as_deref(),
                    status: &task.status,
                    source_arn: &task.source_arn,
                    destination_arn: task.destination_arn.as_deref(),
                    max_number_of_messages_per_second: task.max_number_of_messages_per_second,
                    approximate_number_of_messages_moved: task.approximate_number_of_messages_moved,
                    approximate_number_of_messages_to_move: task
                        .approximate_number_of_messages_to_move,
                    failure_reason: task.failure_reason.as_deref(),
                    started_timestamp: task.started_timestamp,
                })
                .collect();
            #[derive(Serialize)]
            struct Results<'a> {
                #[serde(rename = "Results")]
                results: Vec<MoveTaskOut<'a>>,
            }
            return to_vec(&Results { results });
        }
        Output::MessagesMoved(moved) => {
            serde_json::json!({ "ApproximateNumberOfMessagesMoved": moved })
        }
    };
    to_vec(&value)
}

fn to_vec<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs and maps cannot fail (string keys only).
    serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec())
}

/// The JSON error body: `{"__type": "...", "message": "..."}`.
pub fn error_body(json_type: &str, message: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct ErrorOut<'a> {
        #[serde(rename = "__type")]
        error_type: &'a str,
        message: &'a str,
    }
    to_vec(&ErrorOut {
        error_type: json_type,
        message,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sqs::{Action, DecodeContext, WireAttributeValue};
    use engine::sqs::*;
    use serde_json::{Value, json};

    const ACCOUNT: &str = "000000000000";
    const URL: &str = "http://localhost:4566/000000000000/q1";

    fn queue() -> QueueRef {
        QueueRef {
            account: ACCOUNT.into(),
            name: "q1".into(),
        }
    }

    fn action(name: &str, body: Value) -> Result<Action> {
        let input = decode(body.to_string().as_bytes())?;
        let context = DecodeContext {
            account: ACCOUNT,
            path_queue: None,
        };
        Action::from_input(ActionName::parse(name).unwrap(), input, &context)
    }

    #[test]
    fn decodes_every_action() {
        let q = queue;
        let cases: Vec<(&str, Value, Action)> = vec![
            (
                "AddPermission",
                json!({"QueueUrl": URL, "Label": "l", "AWSAccountIds": ["111"], "Actions": ["SendMessage"]}),
                Action::AddPermission {
                    queue: q(),
                    input: AddPermissionInput {
                        label: "l".into(),
                        aws_account_ids: vec!["111".into()],
                        actions: vec!["SendMessage".into()],
                    },
                },
            ),
            (
                "CancelMessageMoveTask",
                json!({"TaskHandle": "h"}),
                Action::CancelMessageMoveTask {
                    task_handle: "h".into(),
                },
            ),
            (
                "ChangeMessageVisibility",
                json!({"QueueUrl": URL, "ReceiptHandle": "r", "VisibilityTimeout": 5}),
                Action::ChangeMessageVisibility {
                    queue: q(),
                    input: ChangeVisibilityInput {
                        receipt_handle: "r".into(),
                        visibility_timeout: 5,
                    },
                },
            ),
            (
                "ChangeMessageVisibilityBatch",
                json!({"QueueUrl": URL, "Entries": [{"Id": "a", "ReceiptHandle": "r", "VisibilityTimeout": 7}]}),
                Action::ChangeMessageVisibilityBatch {
                    queue: q(),
                    entries: vec![BatchEntry {
                        id: "a".into(),
                        input: ChangeVisibilityInput {
                            receipt_handle: "r".into(),
                            visibility_timeout: 7,
                        },
                    }],
                },
            ),
            (
                "CreateQueue",
                json!({"QueueName": "q1", "Attributes": {"DelaySeconds": "1"}, "tags": {"k": "v"}}),
                Action::CreateQueue(CreateQueueInput {
                    name: "q1".into(),
                    attributes: [("DelaySeconds".to_string(), "1".to_string())].into(),
                    tags: [("k".to_string(), "v".to_string())].into(),
                }),
            ),
            (
                "DeleteMessage",
                json!({"QueueUrl": URL, "ReceiptHandle": "r"}),
                Action::DeleteMessage {
                    queue: q(),
                    receipt_handle: "r".into(),
                },
            ),
            (
                "DeleteMessageBatch",
                json!({"QueueUrl": URL, "Entries": [{"Id": "a", "ReceiptHandle": "r"}]}),
                Action::DeleteMessageBatch {
                    queue: q(),
                    entries: vec![BatchEntry {
                        id: "a".into(),
                        input: "r".into(),
                    }],
                },
            ),
            (
                "DeleteQueue",
                json!({"QueueUrl": URL}),
                Action::DeleteQueue { queue: q() },
            ),
            (
                "GetQueueAttributes",
                json!({"QueueUrl": URL, "AttributeNames": ["All"]}),
                Action::GetQueueAttributes {
                    queue: q(),
                    names: vec!["All".into()],
                },
            ),
            (
                "GetQueueUrl",
                json!({"QueueName": "q1", "QueueOwnerAWSAccountId": "111"}),
                Action::GetQueueUrl {
                    name: "q1".into(),
                    owner_account: Some("111".into()),
                },
            ),
            (
                "ListDeadLetterSourceQueues",
                json!({"QueueUrl": URL, "MaxResults": 3, "NextToken": "t"}),
                Action::ListDeadLetterSourceQueues {
                    queue: q(),
                    max_results: Some(3),
                    next_token: Some("t".into()),
                },
            ),
            (
                "ListMessageMoveTasks",
                json!({"SourceArn": "arn", "MaxResults": 2}),
                Action::ListMessageMoveTasks {
                    source_arn: "arn".into(),
                    max_results: Some(2),
                },
            ),
            (
                "ListQueueTags",
                json!({"QueueUrl": URL}),
                Action::ListQueueTags { queue: q() },
            ),
            (
                "ListQueues",
                json!({"QueueNamePrefix": "p", "MaxResults": 10, "NextToken": "n"}),
                Action::ListQueues(ListQueuesInput {
                    prefix: Some("p".into()),
                    max_results: Some(10),
                    next_token: Some("n".into()),
                }),
            ),
            (
                "PurgeQueue",
                json!({"QueueUrl": URL}),
                Action::PurgeQueue { queue: q() },
            ),
            (
                "ReceiveMessage",
                json!({"QueueUrl": URL, "AttributeNames": ["All"], "MessageSystemAttributeNames": ["SenderId"],
                       "MessageAttributeNames": ["a.*"], "MaxNumberOfMessages": 10, "VisibilityTimeout": 3,
                       "WaitTimeSeconds": 20, "ReceiveRequestAttemptId": "x"}),
                Action::ReceiveMessage {
                    queue: q(),
                    input: ReceiveMessageInput {
                        max_number_of_messages: Some(10),
                        visibility_timeout: Some(3),
                        wait_time_seconds: Some(20),
                        attribute_names: vec!["All".into()],
                        message_system_attribute_names: vec!["SenderId".into()],
                        message_attribute_names: vec!["a.*".into()],
                        receive_request_attempt_id: Some("x".into()),
                    },
                },
            ),
            (
                "RemovePermission",
                json!({"QueueUrl": URL, "Label": "l"}),
                Action::RemovePermission {
                    queue: q(),
                    label: "l".into(),
                },
            ),
            (
                "SendMessage",
                json!({"QueueUrl": URL, "MessageBody": "hi\r\n✓", "DelaySeconds": 2,
                       "MessageAttributes": {"s": {"DataType": "String", "StringValue": "v"},
                                             "b": {"DataType": "Binary", "BinaryValue": "AAEC"}},
                       "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "t"}},
                       "MessageDeduplicationId": "d", "MessageGroupId": "g"}),
                Action::SendMessage {
                    queue: q(),
                    input: SendMessageInput {
                        body: "hi\r\n✓".into(),
                        delay_seconds: Some(2),
                        message_attributes: [
                            (
                                "s".to_string(),
                                MessageAttributeValue {
                                    data_type: "String".into(),
                                    string_value: Some("v".into()),
                                    ..Default::default()
                                },
                            ),
                            (
                                "b".to_string(),
                                MessageAttributeValue {
                                    data_type: "Binary".into(),
                                    binary_value: Some(vec![0, 1, 2]),
                                    ..Default::default()
                                },
                            ),
                        ]
                        .into(),
                        message_system_attributes: [(
                            "AWSTraceHeader".to_string(),
                            MessageAttributeValue {
                                data_type: "String".into(),
                                string_value: Some("t".into()),
                                ..Default::default()
                            },
                        )]
                        .into(),
                        message_deduplication_id: Some("d".into()),
                        message_group_id: Some("g".into()),
                    },
                },
            ),
            (
                "SendMessageBatch",
                json!({"QueueUrl": URL, "Entries": [{"Id": "1", "MessageBody": "a", "DelaySeconds": 1,
                       "MessageGroupId": "g", "MessageDeduplicationId": "d"}]}),
                Action::SendMessageBatch {
                    queue: q(),
                    entries: vec![BatchEntry {
                        id: "1".into(),
                        input: SendMessageInput {
                            body: "a".into(),
                            delay_seconds: Some(1),
                            message_group_id: Some("g".into()),
                            message_deduplication_id: Some("d".into()),
                            ..Default::default()
                        },
                    }],
                },
            ),
            (
                "SetQueueAttributes",
                json!({"QueueUrl": URL, "Attributes": {"VisibilityTimeout": "9"}}),
                Action::SetQueueAttributes {
                    queue: q(),
                    attributes: [("VisibilityTimeout".to_string(), "9".to_string())].into(),
                },
            ),
            (
                "StartMessageMoveTask",
                json!({"SourceArn": "s", "DestinationArn": "d", "MaxNumberOfMessagesPerSecond": 5}),
                Action::StartMessageMoveTask(StartMessageMoveTaskInput {
                    source_arn: "s".into(),
                    destination_arn: Some("d".into()),
                    max_number_of_messages_per_second: Some(5),
                }),
            ),
            (
                "TagQueue",
                json!({"QueueUrl": URL, "Tags": {"k": "v"}}),
                Action::TagQueue {
                    queue: q(),
                    tags: [("k".to_string(), "v".to_string())].into(),
                },
            ),
            (
                "UntagQueue",
                json!({"QueueUrl": URL, "TagKeys": ["k"]}),
                Action::UntagQueue {
                    queue: q(),
                    keys: vec!["k".into()],
                },
            ),
        ];
        assert_eq!(cases.len(), ActionName::ALL.len());
        for (name, body, expected) in cases {
            let decoded = action(name, body).unwrap();
            assert_eq!(decoded, expected, "{name}");
            assert_eq!(decoded.name().as_str(), name);
        }
    }

    #[test]
    fn malformed_json_is_a_serialization_error() {
        let error = decode(b"{\"QueueUrl\": ").unwrap_err();
        assert!(matches!(error, Error::Serialization(_)));
        let error = decode(b"not json").unwrap_err();
        assert!(matches!(error, Error::Serialization(_)));
    }

    #[test]
    fn wrong_json_type_is_a_serialization_error() {
        let error = decode(br#"{"MaxNumberOfMessages": "ten"}"#).unwrap_err();
        assert!(matches!(error, Error::Serialization(_)));
        let error = decode(br#"{"AttributeNames": "All"}"#).unwrap_err();
        assert!(matches!(error, Error::Serialization(_)));
    }

    #[test]
    fn bad_base64_binary_value_is_a_serialization_error() {
        let error =
            decode(br#"{"MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "!!"}}}"#)
                .unwrap_err();
        assert!(matches!(error, Error::Serialization(_)));
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        assert_eq!(decode(b"").unwrap(), Input::default());
    }

    #[test]
    fn missing_required_members_are_missing_parameter() {
        for (name, body, member) in [
            ("SendMessage", json!({"QueueUrl": URL}), "MessageBody"),
            ("SendMessage", json!({"MessageBody": "x"}), "QueueUrl"),
            ("CreateQueue", json!({}), "QueueName"),
            ("GetQueueUrl", json!({}), "QueueName"),
            ("DeleteMessage", json!({"QueueUrl": URL}), "ReceiptHandle"),
            (
                "ChangeMessageVisibility",
                json!({"QueueUrl": URL, "ReceiptHandle": "r"}),
                "VisibilityTimeout",
            ),
            ("SetQueueAttributes", json!({"QueueUrl": URL}), "Attributes"),
            ("TagQueue", json!({"QueueUrl": URL}), "Tags"),
            ("UntagQueue", json!({"QueueUrl": URL}), "TagKeys"),
            ("StartMessageMoveTask", json!({}), "SourceArn"),
            ("CancelMessageMoveTask", json!({}), "TaskHandle"),
        ] {
            match action(name, body) {
                Err(Error::MissingParameter(p)) => assert_eq!(p, member, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn unparseable_queue_url_is_invalid_address() {
        let error =
            action("DeleteQueue", json!({"QueueUrl": "http://localhost:4566"})).unwrap_err();
        assert!(matches!(error, Error::InvalidAddress(_)));
    }

    #[test]
    fn wire_attribute_value_accepts_lists() {
        let value: WireAttributeValue = serde_json::from_value(
            json!({"DataType": "String", "StringListValues": ["a"], "BinaryListValues": ["AA=="]}),
        )
        .unwrap();
        assert_eq!(value.string_list_values, Some(vec!["a".to_string()]));
        assert_eq!(value.binary_list_values, Some(vec![vec![0]]));
    }

    fn encoded(action: ActionName, output: &Output) -> Value {
        serde_json::from_slice(&encode(action, output, "localhost:4566")).unwrap()
    }

    #[test]
    fn encodes_queue_url_on_request_host() {
        let value = encoded(ActionName::CreateQueue, &Output::QueueUrl(queue()));
        assert_eq!(value, json!({"QueueUrl": URL}));
    }

    #[test]
    fn encodes_received_messages_with_attributes() {
        let message = ReceivedMessage {
            message_id: "m".into(),
            receipt_handle: "r".into(),
            md5_of_body: "5".into(),
            body: "a\r\nb".into(),
            attributes: [("SenderId".to_string(), "x".to_string())].into(),
            md5_of_message_attributes: Some("6".into()),
            message_attributes: [(
                "b".to_string(),
                MessageAttributeValue {
                    data_type: "Binary".into(),
                    binary_value: Some(vec![0, 1, 2]),
                    ..Default::default()
                },
            )]
            .into(),
        };
        let value = encoded(ActionName::ReceiveMessage, &Output::Messages(vec![message]));
        assert_eq!(
            value,
            json!({"Messages": [{
                "MessageId": "m", "ReceiptHandle": "r", "MD5OfBody": "5", "Body": "a\r\nb",
                "Attributes": {"SenderId": "x"}, "MD5OfMessageAttributes": "6",
                "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "AAEC"}}
            }]})
        );
        assert_eq!(
            encoded(ActionName::ReceiveMessage, &Output::Messages(vec![])),
            json!({})
        );
    }

    #[test]
    fn encodes_batch_results_and_failures() {
        let batch = BatchOutput {
            successful: vec![("a".to_string(), ())],
            failed: vec![BatchFailure {
                id: "b".into(),
                code: "ReceiptHandleIsInvalid".into(),
                message: "bad".into(),
                sender_fault: true,
            }],
        };
        assert_eq!(
            encoded(ActionName::DeleteMessageBatch, &Output::IdBatch(batch)),
            json!({"Successful": [{"Id": "a"}], "Failed": [{"Id": "b", "SenderFault": true,
                   "Code": "ReceiptHandleIsInvalid", "Message": "bad"}]})
        );
    }

    #[test]
    fn encodes_send_results() {
        let sent = SendMessageOutput {
            message_id: "m".into(),
            md5_of_message_body: "x".into(),
            md5_of_message_attributes: None,
            md5_of_message_system_attributes: None,
            sequence_number: Some("00000000000000000001".into()),
        };
        assert_eq!(
            encoded(ActionName::SendMessage, &Output::SendMessage(sent.clone())),
            json!({"MessageId": "m", "MD5OfMessageBody": "x", "SequenceNumber": "00000000000000000001"})
        );
        let batch = BatchOutput {
            successful: vec![("1".to_string(), sent)],
            failed: vec![],
        };
        assert_eq!(
            encoded(
                ActionName::SendMessageBatch,
                &Output::SendMessageBatch(batch)
            ),
            json!({"Successful": [{"Id": "1", "MessageId": "m", "MD5OfMessageBody": "x",
                   "SequenceNumber": "00000000000000000001"}]})
        );
    }

    #[test]
    fn encodes_queue_lists() {
        let list = ListQueuesOutput {
            queues: vec![queue()],
            next_token: Some("t".into()),
        };
        assert_eq!(
            encoded(ActionName::ListQueues, &Output::Queues(list.clone())),
            json!({"QueueUrls": [URL], "NextToken": "t"})
        );
        assert_eq!(
            encoded(
                ActionName::ListDeadLetterSourceQueues,
                &Output::Queues(list)
            ),
            json!({"queueUrls": [URL], "NextToken": "t"})
        );
        assert_eq!(
            encoded(
                ActionName::ListQueues,
                &Output::Queues(ListQueuesOutput::default())
            ),
            json!({})
        );
    }

    #[test]
    fn error_body_has_type_and_message() {
        let body: Value = serde_json::from_slice(&error_body(
            "com.amazonaws.sqs#QueueDoesNotExist",
            "The specified queue does not exist.",
        ))
        .unwrap();
        assert_eq!(
            body,
            json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist",
                   "message": "The specified queue does not exist."})
        );
    }
}
