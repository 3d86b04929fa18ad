//! The event an SQS event source mapping delivers (reference §4.2): `{"Records": [...]}`,
//! one record per message, with camelCase keys in AWS's order, every `attributes` value a
//! string, message attributes as `stringValue`/`binaryValue` (base64)/`stringListValues`/
//! `binaryListValues`/`dataType`, `md5OfMessageAttributes` `null` when there are none, and
//! the body as the string it was sent as.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use crate::sqs::{MessageAttributeValue, ReceivedMessage};

/// Lambda's synchronous payload limit; a batch never grows past it.
pub const MAX_EVENT_BYTES: usize = 6_291_456;
/// `{"Records":[` and `]}`.
const ENVELOPE_BYTES: usize = 14;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    message_id: &'a str,
    receipt_handle: &'a str,
    body: &'a str,
    attributes: &'a BTreeMap<String, String>,
    message_attributes: BTreeMap<&'a str, RecordAttribute>,
    md5_of_message_attributes: Option<&'a str>,
    md5_of_body: &'a str,
    event_source: &'static str,
    #[serde(rename = "eventSourceARN")]
    event_source_arn: &'a str,
    aws_region: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecordAttribute {
    #[serde(skip_serializing_if = "Option::is_none")]
    string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary_value: Option<String>,
    string_list_values: Vec<String>,
    binary_list_values: Vec<String>,
    data_type: String,
}

impl RecordAttribute {
    fn of(value: &MessageAttributeValue) -> RecordAttribute {
        let base64 = |bytes: &Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
        RecordAttribute {
            string_value: value.string_value.clone(),
            binary_value: value.binary_value.as_ref().map(base64),
            string_list_values: value.string_list_values.clone(),
            binary_list_values: value.binary_list_values.iter().map(base64).collect(),
            data_type: value.data_type.clone(),
        }
    }
}

/// One received message as a record of the event, ready to be sent and to be deleted.
#[derive(Debug, Clone)]
pub struct SqsRecord {
    pub message_id: String,
    pub receipt_handle: String,
    /// FIFO queues: the message group (order is kept per group).
    pub message_group_id: Option<String>,
    /// The record's JSON.
    pub json: Vec<u8>,
    /// The record as a document for filter patterns (`None` when not asked for).
    pub document: Option<Value>,
    pub body: String,
}

impl SqsRecord {
    /// Builds the record of `message` received from `queue_arn`; `with_document` keeps a
    /// JSON value of it for filtering.
    pub fn new(
        message: ReceivedMessage,
        queue_arn: &str,
        region: &str,
        with_document: bool,
    ) -> SqsRecord {
        let record = Record {
            message_id: &message.message_id,
            receipt_handle: &message.receipt_handle,
            body: &message.body,
            attributes: &message.attributes,
            message_attributes: message
                .message_attributes
                .iter()
                .map(|(name, value)| (name.as_str(), RecordAttribute::of(value)))
                .collect(),
            md5_of_message_attributes: message.md5_of_message_attributes.as_deref(),
            md5_of_body: &message.md5_of_body,
            event_source: "aws:sqs",
            event_source_arn: queue_arn,
            aws_region: region,
        };
        // Serialising plain strings and maps cannot fail.
        let json = serde_json::to_vec(&record).unwrap_or_default();
        let document = with_document
            .then(|| serde_json::to_value(&record).ok())
            .flatten();
        SqsRecord {
            message_group_id: message.attributes.get("MessageGroupId").cloned(),
            message_id: message.message_id,
            receipt_handle: message.receipt_handle,
            json,
            document,
            body: message.body,
        }
    }

    /// Bytes this record adds to an event (its JSON and a separating comma).
    pub fn event_bytes(&self) -> usize {
        self.json.len() + 1
    }
}

/// The bytes of an event with no records yet.
pub fn empty_event_bytes() -> usize {
    ENVELOPE_BYTES
}

/// `{"Records":[record,record,…]}`.
pub fn event_payload(records: &[SqsRecord]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(
        ENVELOPE_BYTES + records.iter().map(SqsRecord::event_bytes).sum::<usize>(),
    );
    payload.extend_from_slice(b"{\"Records\":[");
    for (index, record) in records.iter().enumerate() {
        if index > 0 {
            payload.push(b',');
        }
        payload.extend_from_slice(&record.json);
    }
    payload.extend_from_slice(b"]}");
    payload
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn message(attributes: &[(&str, MessageAttributeValue)]) -> ReceivedMessage {
        ReceivedMessage {
            message_id: "m-1".to_string(),
            receipt_handle: "rh".to_string(),
            md5_of_body: "5d41402abc4b2a76b9719d911017c592".to_string(),
            body: "{\"a\":1}".to_string(),
            attributes: BTreeMap::from([
                ("ApproximateReceiveCount".to_string(), "1".to_string()),
                ("SentTimestamp".to_string(), "1769860800000".to_string()),
            ]),
            md5_of_message_attributes: (!attributes.is_empty()).then(|| "abc".to_string()),
            message_attributes: attributes
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone()))
                .collect(),
        }
    }

    #[test]
    fn record_has_aws_keys_order_and_null_digest_without_attributes() {
        let record = SqsRecord::new(
            message(&[]),
            "arn:aws:sqs:us-east-1:000000000000:q",
            "us-east-1",
            false,
        );
        let text = String::from_utf8(record.json).unwrap();
        assert_eq!(
            text,
            "{\"messageId\":\"m-1\",\"receiptHandle\":\"rh\",\"body\":\"{\\\"a\\\":1}\",\
             \"attributes\":{\"ApproximateReceiveCount\":\"1\",\"SentTimestamp\":\"1769860800000\"},\
             \"messageAttributes\":{},\"md5OfMessageAttributes\":null,\
             \"md5OfBody\":\"5d41402abc4b2a76b9719d911017c592\",\"eventSource\":\"aws:sqs\",\
             \"eventSourceARN\":\"arn:aws:sqs:us-east-1:000000000000:q\",\"awsRegion\":\"us-east-1\"}"
        );
    }

    #[test]
    fn message_attributes_use_lower_case_members_and_base64() {
        let record = SqsRecord::new(
            message(&[
                (
                    "Author",
                    MessageAttributeValue {
                        data_type: "String".to_string(),
                        string_value: Some("Ann".to_string()),
                        ..Default::default()
                    },
                ),
                (
                    "Blob",
                    MessageAttributeValue {
                        data_type: "Binary".to_string(),
                        binary_value: Some(b"hi".to_vec()),
                        ..Default::default()
                    },
                ),
            ]),
            "arn",
            "us-east-1",
            true,
        );
        let document = record.document.unwrap();
        assert_eq!(
            document["messageAttributes"]["Author"],
            serde_json::json!({"stringValue": "Ann", "stringListValues": [], "binaryListValues": [], "dataType": "String"})
        );
        assert_eq!(
            document["messageAttributes"]["Blob"],
            serde_json::json!({"binaryValue": "aGk=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"})
        );
        assert_eq!(document["md5OfMessageAttributes"], "abc");
    }

    #[test]
    fn payload_wraps_records_and_counts_its_bytes() {
        let records = vec![
            SqsRecord::new(message(&[]), "arn", "r", false),
            SqsRecord::new(message(&[]), "arn", "r", false),
        ];
        let payload = event_payload(&records);
        let parsed: Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(parsed["Records"].as_array().unwrap().len(), 2);
        let counted =
            empty_event_bytes() + records.iter().map(SqsRecord::event_bytes).sum::<usize>() - 1;
        assert_eq!(payload.len(), counted);
    }
}
