//! SQS over the query protocol: form parameters into [`Input`], outputs and errors into
//! XML. Member names follow the query-era model (botocore before SQS moved to JSON):
//! lists and maps are flattened under their `locationName`, e.g. `Attribute.1.Name`,
//! `MessageAttribute.1.Value.StringValue`, `SendMessageBatchRequestEntry.1.Id`,
//! `AttributeName.1`, `Tag.1.Key`, `TagKey.1`, `AWSAccountId.1`, `ActionName.1`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use engine::sqs::{BatchFailure, MessageAttributes, QueueRef, SendMessageOutput};

use super::queue_url::queue_url;
use super::{ActionName, Input, Output, WireAttributeValue, WireEntry};
use crate::error::{Error, Result, WireError};
use crate::xml::XmlWriter;

pub const NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";
pub const CONTENT_TYPE: &str = "text/xml";

/// The parameters of a form body or query string, sorted by name for lookups.
#[derive(Debug, Default, Clone)]
pub struct Params<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` component strictly: `+` is a space,
/// `%XY` must be two hex digits, and the result must be UTF-8. Borrows when nothing
/// needs decoding, which is the common case for names and most values.
pub fn decode_component(raw: &[u8]) -> Result<Cow<'_, str>> {
    let malformed =
        || Error::MalformedQueryString("The request is not properly URL-encoded.".into());
    if !raw.iter().any(|b| *b == b'%' || *b == b'+') {
        return std::str::from_utf8(raw)
            .map(Cow::Borrowed)
            .map_err(|_| malformed());
    }
    let mut decoded = Vec::with_capacity(raw.len());
    let mut index = 0;
    while index < raw.len() {
        match raw[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let high = raw.get(index + 1).copied().and_then(hex_value);
                let low = raw.get(index + 2).copied().and_then(hex_value);
                match (high, low) {
                    (Some(high), Some(low)) => decoded.push(high << 4 | low),
                    _ => return Err(malformed()),
                }
                index += 2;
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|_| malformed())
}

impl<'a> Params<'a> {
    /// Parses one or more `a=b&c=d` sources (the form body and the URL query string).
    /// Later sources do not override earlier ones; the first value of a name wins.
    pub fn parse(sources: &[&'a [u8]]) -> Result<Params<'a>> {
        let mut pairs = Vec::new();
        for source in sources {
            for piece in source.split(|b| *b == b'&') {
                if piece.is_empty() {
                    continue;
                }
                let (name, value) = match piece.iter().position(|b| *b == b'=') {
                    Some(eq) => (&piece[..eq], &piece[eq + 1..]),
                    None => (piece, &b""[..]),
                };
                pairs.push((decode_component(name)?, decode_component(value)?));
            }
        }
        // Stable sort keeps the first occurrence of a name first.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Params { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        let index = self.pairs.partition_point(|(key, _)| key.as_ref() < name);
        match self.pairs.get(index) {
            Some((key, value)) if key == name => Some(value.as_ref()),
            _ => None,
        }
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    fn integer(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(text) => text.trim().parse().map(Some).map_err(|_| {
                Error::InvalidParameterValue(format!(
                    "Value {text} for parameter {name} is invalid. Reason: must be an integer."
                ))
            }),
        }
    }

    /// The indices `N` present under `prefix.N…`, in numeric order.
    pub(crate) fn indices(&self, prefix: &str) -> BTreeSet<u32> {
        let start = self.pairs.partition_point(|(key, _)| key.as_ref() < prefix);
        let mut indices = BTreeSet::new();
        for (key, _) in &self.pairs[start..] {
            let Some(rest) = key.strip_prefix(prefix) else {
                break;
            };
            let Some(rest) = rest.strip_prefix('.') else {
                continue;
            };
            let number = rest.split('.').next().unwrap_or(rest);
            if let Ok(index) = number.parse::<u32>() {
                indices.insert(index);
            }
        }
        indices
    }

    /// A flattened list of strings: `prefix.1`, `prefix.2`, …
    fn list(&self, prefix: &str) -> Option<Vec<String>> {
        let indices = self.indices(prefix);
        if indices.is_empty() {
            return None;
        }
        Some(
            indices
                .into_iter()
                .filter_map(|index| self.owned(&format!("{prefix}.{index}")))
                .collect(),
        )
    }

    /// A flattened map: `prefix.N.<key_name>` → `prefix.N.<value_name>`.
    fn map(
        &self,
        prefix: &str,
        key_name: &str,
        value_name: &str,
    ) -> Option<BTreeMap<String, String>> {
        let indices = self.indices(prefix);
        if indices.is_empty() {
            return None;
        }
        let mut map = BTreeMap::new();
        for index in indices {
            if let Some(key) = self.owned(&format!("{prefix}.{index}.{key_name}")) {
                let value = self
                    .owned(&format!("{prefix}.{index}.{value_name}"))
                    .unwrap_or_default();
                map.insert(key, value);
            }
        }
        Some(map)
    }

    fn binary(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.get(name) {
            None => Ok(None),
            Some(text) => BASE64.decode(text.as_bytes()).map(Some).map_err(|_| {
                Error::InvalidParameterValue(format!(
                    "Value for parameter {name} is invalid. Reason: not valid base64."
                ))
            }),
        }
    }

    /// `prefix.N.Name` with `prefix.N.Value.{DataType,StringValue,BinaryValue,…}`.
    fn message_attributes(
        &self,
        prefix: &str,
    ) -> Result<Option<BTreeMap<String, WireAttributeValue>>> {
        let indices = self.indices(prefix);
        if indices.is_empty() {
            return Ok(None);
        }
        let mut map = BTreeMap::new();
        for index in indices {
            let base = format!("{prefix}.{index}");
            let Some(name) = self.owned(&format!("{base}.Name")) else {
                return Err(Error::MissingParameter(format!("{base}.Name")));
            };
            let string_list = self.list(&format!("{base}.Value.StringListValue"));
            let binary_list = match self.list(&format!("{base}.Value.BinaryListValue")) {
                None => None,
                Some(texts) => Some(
                    texts
                        .iter()
                        .map(|text| BASE64.decode(text.as_bytes()))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| {
                            Error::InvalidParameterValue(format!(
                                "Value for parameter {base}.Value.BinaryListValue is invalid. Reason: not valid base64."
                            ))
                        })?,
                ),
            };
            let value = WireAttributeValue {
                data_type: self.owned(&format!("{base}.Value.DataType")),
                string_value: self.owned(&format!("{base}.Value.StringValue")),
                binary_value: self.binary(&format!("{base}.Value.BinaryValue"))?,
                string_list_values: string_list,
                binary_list_values: binary_list,
            };
            map.insert(name, value);
        }
        Ok(Some(map))
    }

    fn entries(&self, prefix: &str) -> Result<Option<Vec<WireEntry>>> {
        let indices = self.indices(prefix);
        if indices.is_empty() {
            return Ok(None);
        }
        let mut entries = Vec::with_capacity(indices.len());
        for index in indices {
            let base = format!("{prefix}.{index}");
            let field = |name: &str| format!("{base}.{name}");
            entries.push(WireEntry {
                id: self.owned(&field("Id")),
                message_body: self.owned(&field("MessageBody")),
                delay_seconds: self.integer(&field("DelaySeconds"))?,
                message_attributes: self.message_attributes(&field("MessageAttribute"))?,
                message_system_attributes: self
                    .message_attributes(&field("MessageSystemAttribute"))?,
                message_deduplication_id: self.owned(&field("MessageDeduplicationId")),
                message_group_id: self.owned(&field("MessageGroupId")),
                receipt_handle: self.owned(&field("ReceiptHandle")),
                visibility_timeout: self.integer(&field("VisibilityTimeout"))?,
            });
        }
        Ok(Some(entries))
    }
}

/// Reads the members of `action` from its flattened form parameters.
pub fn decode(action: ActionName, params: &Params<'_>) -> Result<Input> {
    let entry_prefix = match action {
        ActionName::SendMessageBatch => "SendMessageBatchRequestEntry",
        ActionName::DeleteMessageBatch => "DeleteMessageBatchRequestEntry",
        ActionName::ChangeMessageVisibilityBatch => "ChangeMessageVisibilityBatchRequestEntry",
        _ => "",
    };
    Ok(Input {
        queue_url: params.owned("QueueUrl"),
        queue_name: params.owned("QueueName"),
        attributes: params.map("Attribute", "Name", "Value"),
        tags: params.map("Tag", "Key", "Value"),
        tag_keys: params.list("TagKey"),
        attribute_names: params.list("AttributeName"),
        message_system_attribute_names: params.list("MessageSystemAttributeName"),
        message_attribute_names: params.list("MessageAttributeName"),
        message_body: params.owned("MessageBody"),
        delay_seconds: params.integer("DelaySeconds")?,
        message_attributes: params.message_attributes("MessageAttribute")?,
        message_system_attributes: params.message_attributes("MessageSystemAttribute")?,
        message_deduplication_id: params.owned("MessageDeduplicationId"),
        message_group_id: params.owned("MessageGroupId"),
        entries: if entry_prefix.is_empty() {
            None
        } else {
            params.entries(entry_prefix)?
        },
        max_number_of_messages: params.integer("MaxNumberOfMessages")?,
        visibility_timeout: params.integer("VisibilityTimeout")?,
        wait_time_seconds: params.integer("WaitTimeSeconds")?,
        receive_request_attempt_id: params.owned("ReceiveRequestAttemptId"),
        receipt_handle: params.owned("ReceiptHandle"),
        queue_name_prefix: params.owned("QueueNamePrefix"),
        next_token: params.owned("NextToken"),
        max_results: params.integer("MaxResults")?,
        queue_owner_aws_account_id: params.owned("QueueOwnerAWSAccountId"),
        source_arn: params.owned("SourceArn"),
        destination_arn: params.owned("DestinationArn"),
        max_number_of_messages_per_second: params.integer("MaxNumberOfMessagesPerSecond")?,
        task_handle: params.owned("TaskHandle"),
        label: params.owned("Label"),
        aws_account_ids: params.list("AWSAccountId"),
        actions: params.list("ActionName"),
    })
}

fn write_message_attributes(xml: &mut XmlWriter, attributes: &MessageAttributes) {
    for (name, value) in attributes {
        xml.open("MessageAttribute");
        xml.element("Name", name);
        xml.open("Value");
        xml.optional_element("StringValue", value.string_value.as_deref());
        if let Some(binary) = &value.binary_value {
            xml.element("BinaryValue", &BASE64.encode(binary));
        }
        for item in &value.string_list_values {
            xml.element("StringListValue", item);
        }
        for item in &value.binary_list_values {
            xml.element("BinaryListValue", &BASE64.encode(item));
        }
        xml.element("DataType", &value.data_type);
        xml.close("Value");
        xml.close("MessageAttribute");
    }
}

fn write_failures(xml: &mut XmlWriter, failed: &[BatchFailure]) {
    for failure in failed {
        xml.open("BatchResultErrorEntry");
        xml.element("Id", &failure.id);
        xml.element(
            "SenderFault",
            if failure.sender_fault {
                "true"
            } else {
                "false"
            },
        );
        xml.element("Code", &failure.code);
        xml.element("Message", &failure.message);
        xml.close("BatchResultErrorEntry");
    }
}

fn write_send_result(xml: &mut XmlWriter, sent: &SendMessageOutput) {
    xml.element("MessageId", &sent.message_id);
    xml.element("MD5OfMessageBody", &sent.md5_of_message_body);
    xml.optional_element(
        "MD5OfMessageAttributes",
        sent.md5_of_message_attributes.as_deref(),
    );
    xml.optional_element(
        "MD5OfMessageSystemAttributes",
        sent.md5_of_message_system_attributes.as_deref(),
    );
    xml.optional_element("SequenceNumber", sent.sequence_number.as_deref());
}

fn write_urls(xml: &mut XmlWriter, host: &str, queues: &[QueueRef]) {
    for queue in queues {
        xml.element("QueueUrl", &queue_url(host, queue));
    }
}

fn write_map(xml: &mut XmlWriter, element: &str, key: &str, map: &BTreeMap<String, String>) {
    for (name, value) in map {
        xml.open(element);
        xml.element(key, name);
        xml.element("Value", value);
        xml.close(element);
    }
}

/// Encodes an output as `<XResponse><XResult>…</XResult><ResponseMetadata>…`.
pub fn encode(action: ActionName, output: &Output, host: &str, request_id: &str) -> String {
    let name = action.as_str();
    let capacity = match output {
        Output::Messages(messages) => messages.iter().map(|m| m.body.len() + 600).sum(),
        _ => 0,
    } + 400;
    let mut xml = XmlWriter::with_capacity(capacity);
    let response = format!("{name}Response");
    let result = format!("{name}Result");
    xml.open_with_namespace(&response, NAMESPACE);
    if !matches!(output, Output::Empty) {
        xml.open(&result);
    }
    match output {
        Output::Empty => {}
        Output::QueueUrl(queue) => xml.element("QueueUrl", &queue_url(host, queue)),
        Output::Queues(list) => {
            write_urls(&mut xml, host, &list.queues);
            xml.optional_element("NextToken", list.next_token.as_deref());
        }
        Output::Attributes(attributes) => write_map(&mut xml, "Attribute", "Name", attributes),
        Output::Tags(tags) => write_map(&mut xml, "Tag", "Key", tags),
        Output::SendMessage(sent) => write_send_result(&mut xml, sent),
        Output::SendMessageBatch(batch) => {
            for (id, sent) in &batch.successful {
                xml.open("SendMessageBatchResultEntry");
                xml.element("Id", id);
                write_send_result(&mut xml, sent);
                xml.close("SendMessageBatchResultEntry");
            }
            write_failures(&mut xml, &batch.failed);
        }
        Output::IdBatch(batch) => {
            let entry = match action {
                ActionName::DeleteMessageBatch => "DeleteMessageBatchResultEntry",
                _ => "ChangeMessageVisibilityBatchResultEntry",
            };
            for (id, ()) in &batch.successful {
                xml.open(entry);
                xml.element("Id", id);
                xml.close(entry);
            }
            write_failures(&mut xml, &batch.failed);
        }
        Output::Messages(messages) => {
            for message in messages {
                xml.open("Message");
                xml.element("MessageId", &message.message_id);
                xml.element("ReceiptHandle", &message.receipt_handle);
                xml.element("MD5OfBody", &message.md5_of_body);
                xml.element("Body", &message.body);
                write_map(&mut xml, "Attribute", "Name", &message.attributes);
                xml.optional_element(
                    "MD5OfMessageAttributes",
                    message.md5_of_message_attributes.as_deref(),
                );
                write_message_attributes(&mut xml, &message.message_attributes);
                xml.close("Message");
            }
        }
        Output::TaskHandle(handle) => xml.element("TaskHandle", handle),
        Output::MoveTasks(tasks) => {
            for task in tasks {
                xml.open("ListMessageMoveTasksResultEntry");
                xml.optional_element("TaskHandle", task.task_handle.as_deref());
                xml.element("Status", &task.status);
                xml.element("SourceArn", &task.source_arn);
                xml.optional_element("DestinationArn", task.destination_arn.as_deref());
                if let Some(rate) = task.max_number_of_messages_per_second {
                    xml.number_element("MaxNumberOfMessagesPerSecond", rate);
                }
                xml.number_element(
                    "ApproximateNumberOfMessagesMoved",
                    task.approximate_number_of_messages_moved,
                );
                if let Some(to_move) = task.approximate_number_of_messages_to_move {
                    xml.number_element("ApproximateNumberOfMessagesToMove", to_move);
                }
                xml.optional_element("FailureReason", task.failure_reason.as_deref());
                xml.number_element("StartedTimestamp", task.started_timestamp);
                xml.close("ListMessageMoveTasksResultEntry");
            }
        }
        Output::MessagesMoved(moved) => {
            xml.number_element("ApproximateNumberOfMessagesMoved", *moved)
        }
    }
    if !matches!(output, Output::Empty) {
        xml.close(&result);
    }
    xml.open("ResponseMetadata");
    xml.element("RequestId", request_id);
    xml.close("ResponseMetadata");
    xml.close(&response);
    xml.finish()
}

/// `<ErrorResponse xmlns=…><Error><Type/><Code/><Message/><Detail/></Error><RequestId/>`.
pub fn error_body(namespace: &str, error: &WireError, request_id: &str) -> String {
    let mut xml = XmlWriter::with_capacity(300 + error.message.len());
    xml.open_with_namespace("ErrorResponse", namespace);
    xml.open("Error");
    xml.element("Type", error.fault());
    xml.element("Code", error.query_code);
    // The query-era endpoint words this one message differently from the JSON one.
    let message = if error.query_code == "AWS.SimpleQueueService.NonExistentQueue" {
        "The specified queue does not exist for this wsdl version."
    } else {
        &error.message
    };
    xml.element("Message", message);
    xml.empty("Detail");
    xml.close("Error");
    xml.element("RequestId", request_id);
    xml.close("ErrorResponse");
    xml.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sqs::{Action, DecodeContext};
    use engine::sqs::*;

    const ACCOUNT: &str = "000000000000";
    const URL: &str = "http%3A%2F%2Flocalhost%3A4566%2F000000000000%2Fq1";

    fn queue() -> QueueRef {
        QueueRef {
            account: ACCOUNT.into(),
            name: "q1".into(),
        }
    }

    fn action(form: &str) -> Result<Action> {
        let params = Params::parse(&[form.as_bytes()])?;
        let name = ActionName::parse(params.get("Action").unwrap()).unwrap();
        let input = decode(name, &params)?;
        let context = DecodeContext {
            account: ACCOUNT,
            path_queue: None,
        };
        Action::from_input(name, input, &context)
    }

    #[test]
    fn decodes_every_action_from_flattened_members() {
        let q = queue;
        let cases: Vec<(String, Action)> = vec![
            (
                format!("Action=AddPermission&QueueUrl={URL}&Label=l&AWSAccountId.1=111&AWSAccountId.2=222&ActionName.1=SendMessage"),
                Action::AddPermission {
                    queue: q(),
                    input: AddPermissionInput {
                        label: "l".into(),
                        aws_account_ids: vec!["111".into(), "222".into()],
                        actions: vec!["SendMessage".into()],
                    },
                },
            ),
            (
                "Action=CancelMessageMoveTask&TaskHandle=h".into(),
                Action::CancelMessageMoveTask {
                    task_handle: "h".into(),
                },
            ),
            (
                format!("Action=ChangeMessageVisibility&QueueUrl={URL}&ReceiptHandle=r%2B1&VisibilityTimeout=5"),
                Action::ChangeMessageVisibility {
                    queue: q(),
                    input: ChangeVisibilityInput {
                        receipt_handle: "r+1".into(),
                        visibility_timeout: 5,
                    },
                },
            ),
            (
                format!("Action=ChangeMessageVisibilityBatch&QueueUrl={URL}&ChangeMessageVisibilityBatchRequestEntry.1.Id=a&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=r&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=7"),
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
                "Action=CreateQueue&Version=2012-11-05&QueueName=q1&Attribute.1.Name=DelaySeconds&Attribute.1.Value=1&Tag.1.Key=k&Tag.1.Value=v".into(),
                Action::CreateQueue(CreateQueueInput {
                    name: "q1".into(),
                    attributes: [("DelaySeconds".to_string(), "1".to_string())].into(),
                    tags: [("k".to_string(), "v".to_string())].into(),
                }),
            ),
            (
                format!("Action=DeleteMessage&QueueUrl={URL}&ReceiptHandle=r"),
                Action::DeleteMessage {
                    queue: q(),
                    receipt_handle: "r".into(),
                },
            ),
            (
                format!("Action=DeleteMessageBatch&QueueUrl={URL}&DeleteMessageBatchRequestEntry.2.Id=b&DeleteMessageBatchRequestEntry.2.ReceiptHandle=r2&DeleteMessageBatchRequestEntry.10.Id=c&DeleteMessageBatchRequestEntry.10.ReceiptHandle=r10&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=r1"),
                Action::DeleteMessageBatch {
                    queue: q(),
                    entries: vec![
                        BatchEntry { id: "a".into(), input: "r1".into() },
                        BatchEntry { id: "b".into(), input: "r2".into() },
                        BatchEntry { id: "c".into(), input: "r10".into() },
                    ],
                },
            ),
            (
                format!("Action=DeleteQueue&QueueUrl={URL}"),
                Action::DeleteQueue { queue: q() },
            ),
            (
                format!("Action=GetQueueAttributes&QueueUrl={URL}&AttributeName.1=All"),
                Action::GetQueueAttributes {
                    queue: q(),
                    names: vec!["All".into()],
                },
            ),
            (
                "Action=GetQueueUrl&QueueName=q1&QueueOwnerAWSAccountId=111".into(),
                Action::GetQueueUrl {
                    name: "q1".into(),
                    owner_account: Some("111".into()),
                },
            ),
            (
                format!("Action=ListDeadLetterSourceQueues&QueueUrl={URL}&MaxResults=3&NextToken=t"),
                Action::ListDeadLetterSourceQueues {
                    queue: q(),
                    max_results: Some(3),
                    next_token: Some("t".into()),
                },
            ),
            (
                "Action=ListMessageMoveTasks&SourceArn=arn&MaxResults=2".into(),
                Action::ListMessageMoveTasks {
                    source_arn: "arn".into(),
                    max_results: Some(2),
                },
            ),
            (
                format!("Action=ListQueueTags&QueueUrl={URL}"),
                Action::ListQueueTags { queue: q() },
            ),
            (
                "Action=ListQueues&QueueNamePrefix=p&MaxResults=10&NextToken=n".into(),
                Action::ListQueues(ListQueuesInput {
                    prefix: Some("p".into()),
                    max_results: Some(10),
                    next_token: Some("n".into()),
                }),
            ),
            (
                format!("Action=PurgeQueue&QueueUrl={URL}"),
                Action::PurgeQueue { queue: q() },
            ),
            (
                format!("Action=ReceiveMessage&QueueUrl={URL}&AttributeName.1=All&MessageSystemAttributeName.1=SenderId&MessageAttributeName.1=a.*&MaxNumberOfMessages=10&VisibilityTimeout=3&WaitTimeSeconds=20&ReceiveRequestAttemptId=x"),
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
                format!("Action=RemovePermission&QueueUrl={URL}&Label=l"),
                Action::RemovePermission {
                    queue: q(),
                    label: "l".into(),
                },
            ),
            (
                format!("Action=SendMessage&QueueUrl={URL}&MessageBody=hi%0D%0A%E2%9C%93+there&DelaySeconds=2&MessageAttribute.1.Name=s&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v&MessageAttribute.2.Name=b&MessageAttribute.2.Value.DataType=Binary&MessageAttribute.2.Value.BinaryValue=AAEC&MessageSystemAttribute.1.Name=AWSTraceHeader&MessageSystemAttribute.1.Value.DataType=String&MessageSystemAttribute.1.Value.StringValue=t&MessageDeduplicationId=d&MessageGroupId=g"),
                Action::SendMessage {
                    queue: q(),
                    input: SendMessageInput {
                        body: "hi\r\n✓ there".into(),
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
                format!("Action=SendMessageBatch&QueueUrl={URL}&SendMessageBatchRequestEntry.1.Id=1&SendMessageBatchRequestEntry.1.MessageBody=a&SendMessageBatchRequestEntry.1.DelaySeconds=1&SendMessageBatchRequestEntry.1.MessageGroupId=g&SendMessageBatchRequestEntry.1.MessageDeduplicationId=d&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Number&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=5"),
                Action::SendMessageBatch {
                    queue: q(),
                    entries: vec![BatchEntry {
                        id: "1".into(),
                        input: SendMessageInput {
                            body: "a".into(),
                            delay_seconds: Some(1),
                            message_group_id: Some("g".into()),
                            message_deduplication_id: Some("d".into()),
                            message_attributes: [(
                                "n".to_string(),
                                MessageAttributeValue {
                                    data_type: "Number".into(),
                                    string_value: Some("5".into()),
                                    ..Default::default()
                                },
                            )]
                            .into(),
                            ..Default::default()
                        },
                    }],
                },
            ),
            (
                format!("Action=SetQueueAttributes&QueueUrl={URL}&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=9"),
                Action::SetQueueAttributes {
                    queue: q(),
                    attributes: [("VisibilityTimeout".to_string(), "9".to_string())].into(),
                },
            ),
            (
                "Action=StartMessageMoveTask&SourceArn=s&DestinationArn=d&MaxNumberOfMessagesPerSecond=5".into(),
                Action::StartMessageMoveTask(StartMessageMoveTaskInput {
                    source_arn: "s".into(),
                    destination_arn: Some("d".into()),
                    max_number_of_messages_per_second: Some(5),
                }),
            ),
            (
                format!("Action=TagQueue&QueueUrl={URL}&Tag.1.Key=k&Tag.1.Value=v"),
                Action::TagQueue {
                    queue: q(),
                    tags: [("k".to_string(), "v".to_string())].into(),
                },
            ),
            (
                format!("Action=UntagQueue&QueueUrl={URL}&TagKey.1=k&TagKey.2=j"),
                Action::UntagQueue {
                    queue: q(),
                    keys: vec!["k".into(), "j".into()],
                },
            ),
        ];
        assert_eq!(cases.len(), ActionName::ALL.len());
        for (form, expected) in cases {
            assert_eq!(action(&form).unwrap(), expected, "{form}");
        }
    }

    #[test]
    fn bad_percent_encoding_is_malformed() {
        for form in [
            "Action=SendMessage&MessageBody=%ZZ",
            "Action=X&a=%4",
            "a=%FF%FE",
        ] {
            assert!(
                matches!(
                    Params::parse(&[form.as_bytes()]),
                    Err(Error::MalformedQueryString(_))
                ),
                "{form}"
            );
        }
    }

    #[test]
    fn non_integer_is_invalid_parameter_value() {
        let error = action(&format!(
            "Action=ReceiveMessage&QueueUrl={URL}&MaxNumberOfMessages=ten"
        ))
        .unwrap_err();
        assert!(matches!(error, Error::InvalidParameterValue(_)));
    }

    #[test]
    fn missing_required_parameters_are_reported() {
        let error = action("Action=SendMessage&MessageBody=x").unwrap_err();
        assert!(matches!(error, Error::MissingParameter(ref p) if p == "QueueUrl"));
        let error = action(&format!("Action=SendMessage&QueueUrl={URL}")).unwrap_err();
        assert!(matches!(error, Error::MissingParameter(ref p) if p == "MessageBody"));
        let error = action("Action=CreateQueue").unwrap_err();
        assert!(matches!(error, Error::MissingParameter(ref p) if p == "QueueName"));
    }

    #[test]
    fn first_value_of_a_repeated_name_wins() {
        let params = Params::parse(&[b"A=1&A=2", b"A=3"]).unwrap();
        assert_eq!(params.get("A"), Some("1"));
        assert_eq!(params.get("B"), None);
    }

    fn sample_message() -> ReceivedMessage {
        ReceivedMessage {
            message_id: "m".into(),
            receipt_handle: "r".into(),
            md5_of_body: "5".into(),
            body: "<a>\r\n&✓".into(),
            attributes: [("SenderId".to_string(), "x".to_string())].into(),
            md5_of_message_attributes: Some("6".into()),
            message_attributes: [(
                "s".to_string(),
                MessageAttributeValue {
                    data_type: "String".into(),
                    string_value: Some("v".into()),
                    ..Default::default()
                },
            )]
            .into(),
        }
    }

    #[test]
    fn encodes_receive_message_result() {
        let xml = encode(
            ActionName::ReceiveMessage,
            &Output::Messages(vec![sample_message()]),
            "localhost:4566",
            "rid",
        );
        assert_eq!(
            xml,
            concat!(
                "<?xml version=\"1.0\"?>",
                "<ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">",
                "<ReceiveMessageResult><Message><MessageId>m</MessageId><ReceiptHandle>r</ReceiptHandle>",
                "<MD5OfBody>5</MD5OfBody><Body>&lt;a&gt;&#xD;\n&amp;✓</Body>",
                "<Attribute><Name>SenderId</Name><Value>x</Value></Attribute>",
                "<MD5OfMessageAttributes>6</MD5OfMessageAttributes>",
                "<MessageAttribute><Name>s</Name><Value><StringValue>v</StringValue>",
                "<DataType>String</DataType></Value></MessageAttribute>",
                "</Message></ReceiveMessageResult>",
                "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>",
                "</ReceiveMessageResponse>"
            )
        );
    }

    #[test]
    fn encodes_empty_result_without_result_element() {
        let xml = encode(ActionName::DeleteMessage, &Output::Empty, "h", "rid");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\"?><DeleteMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteMessageResponse>"
        );
    }

    #[test]
    fn encodes_batch_entries_and_errors() {
        let batch = BatchOutput {
            successful: vec![(
                "1".to_string(),
                SendMessageOutput {
                    message_id: "m".into(),
                    md5_of_message_body: "x".into(),
                    ..Default::default()
                },
            )],
            failed: vec![BatchFailure {
                id: "2".into(),
                code: "InvalidParameterValue".into(),
                message: "bad".into(),
                sender_fault: true,
            }],
        };
        let xml = encode(
            ActionName::SendMessageBatch,
            &Output::SendMessageBatch(batch),
            "h",
            "rid",
        );
        assert!(xml.contains(
            "<SendMessageBatchResultEntry><Id>1</Id><MessageId>m</MessageId><MD5OfMessageBody>x</MD5OfMessageBody></SendMessageBatchResultEntry>"
        ));
        assert!(xml.contains(
            "<BatchResultErrorEntry><Id>2</Id><SenderFault>true</SenderFault><Code>InvalidParameterValue</Code><Message>bad</Message></BatchResultErrorEntry>"
        ));
        let ids = BatchOutput {
            successful: vec![("a".to_string(), ())],
            failed: vec![],
        };
        let xml = encode(
            ActionName::ChangeMessageVisibilityBatch,
            &Output::IdBatch(ids),
            "h",
            "rid",
        );
        assert!(xml.contains(
            "<ChangeMessageVisibilityBatchResult><ChangeMessageVisibilityBatchResultEntry><Id>a</Id></ChangeMessageVisibilityBatchResultEntry></ChangeMessageVisibilityBatchResult>"
        ));
    }

    #[test]
    fn encodes_queue_urls_and_maps() {
        let list = ListQueuesOutput {
            queues: vec![queue()],
            next_token: None,
        };
        let xml = encode(ActionName::ListQueues, &Output::Queues(list), "h:1", "rid");
        assert!(xml.contains(
            "<ListQueuesResult><QueueUrl>http://h:1/000000000000/q1</QueueUrl></ListQueuesResult>"
        ));
        let tags = [("k".to_string(), "v&".to_string())].into();
        let xml = encode(ActionName::ListQueueTags, &Output::Tags(tags), "h", "rid");
        assert!(xml.contains("<ListQueueTagsResult><Tag><Key>k</Key><Value>v&amp;</Value></Tag></ListQueueTagsResult>"));
        let attributes = [("VisibilityTimeout".to_string(), "30".to_string())].into();
        let xml = encode(
            ActionName::GetQueueAttributes,
            &Output::Attributes(attributes),
            "h",
            "rid",
        );
        assert!(xml.contains("<GetQueueAttributesResult><Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute></GetQueueAttributesResult>"));
    }

    #[test]
    fn encodes_error_response() {
        let wire = Error::Engine(engine::Error::QueueDoesNotExist).wire();
        let xml = error_body(NAMESPACE, &wire, "rid");
        assert_eq!(
            xml,
            concat!(
                "<?xml version=\"1.0\"?>",
                "<ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Error>",
                "<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>",
                "<Message>The specified queue does not exist for this wsdl version.</Message>",
                "<Detail/></Error><RequestId>rid</RequestId></ErrorResponse>"
            )
        );
    }
}
