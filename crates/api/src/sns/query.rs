//! SNS over the query protocol: form parameters into an [`Action`], outputs and errors into
//! XML in SNS's namespace. Maps are `entry`-wrapped (`Attributes.entry.1.key`,
//! `MessageAttributes.entry.1.Name` / `.Value.DataType`), lists `member`-wrapped
//! (`Tags.member.1.Key`, `TagKeys.member.1`, `PublishBatchRequestEntries.member.1.Id`).
//! Binary message attribute values travel base64-encoded.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use engine::sns::types::{
    CreateTopicInput, Page, PublishBatchEntry, PublishInput, SnsAttributeValue,
    SnsMessageAttributes, SubscribeInput, SubscriptionSummary,
};

use super::{Action, ActionName, NAMESPACE, Output};
use crate::error::{Error, Result, WireError};
use crate::sqs::query::Params;
use crate::xml::XmlWriter;

fn validation_error(message: String) -> Error {
    Error::Engine(engine::Error::ValidationError(message))
}

/// A required member that is absent: AWS's model validation names it in camel case.
fn required(params: &Params<'_>, name: &str) -> Result<String> {
    params.get(name).map(str::to_string).ok_or_else(|| {
        let mut field = name.to_string();
        if let Some(first) = field.get_mut(..1) {
            first.make_ascii_lowercase();
        }
        validation_error(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn optional(params: &Params<'_>, name: &str) -> Option<String> {
    params.get(name).map(str::to_string)
}

fn boolean(params: &Params<'_>, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

/// `prefix.entry.N.key` → `prefix.entry.N.value`.
fn attributes(params: &Params<'_>, prefix: &str) -> BTreeMap<String, String> {
    let entries = format!("{prefix}.entry");
    params
        .indices(&entries)
        .into_iter()
        .filter_map(|index| {
            let key = params.get(&format!("{entries}.{index}.key"))?;
            let value = params
                .get(&format!("{entries}.{index}.value"))
                .unwrap_or("");
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

/// `Tags.member.N.Key` / `.Value`; a key given twice is refused as AWS refuses it.
fn tags(params: &Params<'_>) -> Result<BTreeMap<String, String>> {
    let mut tags = BTreeMap::new();
    for index in params.indices("Tags.member") {
        let Some(key) = params.get(&format!("Tags.member.{index}.Key")) else {
            continue;
        };
        let value = params
            .get(&format!("Tags.member.{index}.Value"))
            .unwrap_or("");
        if tags.insert(key.to_string(), value.to_string()).is_some() {
            return Err(Error::Engine(engine::Error::SnsInvalidParameter(
                "Invalid parameter: Duplicated keys are not allowed.".to_string(),
            )));
        }
    }
    Ok(tags)
}

/// `prefix.member.N`, in order.
fn members(params: &Params<'_>, prefix: &str) -> Vec<String> {
    let members = format!("{prefix}.member");
    params
        .indices(&members)
        .into_iter()
        .filter_map(|index| optional(params, &format!("{members}.{index}")))
        .collect()
}

/// `prefix.entry.N.Name` with `prefix.entry.N.Value.{DataType,StringValue,BinaryValue}`.
/// `path` is where AWS's validation message places the map (`messageAttributes`).
fn message_attributes(
    params: &Params<'_>,
    prefix: &str,
    path: &str,
) -> Result<SnsMessageAttributes> {
    let entries = format!("{prefix}.entry");
    let mut attributes = SnsMessageAttributes::new();
    for index in params.indices(&entries) {
        let base = format!("{entries}.{index}");
        let Some(name) = params.get(&format!("{base}.Name")) else {
            return Err(validation_error(format!(
                "1 validation error detected: Value null at '{path}.{index}.member.name' failed to satisfy constraint: Member must not be null"
            )));
        };
        let Some(data_type) = params.get(&format!("{base}.Value.DataType")) else {
            return Err(validation_error(format!(
                "1 validation error detected: Value null at '{path}.{name}.member.dataType' failed to satisfy constraint: Member must not be null"
            )));
        };
        let binary_value = match params.get(&format!("{base}.Value.BinaryValue")) {
            None => None,
            Some(text) => Some(BASE64.decode(text.as_bytes()).map_err(|_| {
                Error::Engine(engine::Error::SnsInvalidParameterValue(format!(
                    "The message attribute '{name}' has an invalid binary value: it is not valid base64."
                )))
            })?),
        };
        attributes.insert(
            name.to_string(),
            SnsAttributeValue {
                data_type: data_type.to_string(),
                string_value: optional(params, &format!("{base}.Value.StringValue")),
                binary_value,
            },
        );
    }
    Ok(attributes)
}

fn batch_entries(params: &Params<'_>) -> Result<Vec<PublishBatchEntry>> {
    let members = "PublishBatchRequestEntries.member";
    let mut entries = Vec::new();
    for index in params.indices(members) {
        let base = format!("{members}.{index}");
        let Some(id) = params.get(&format!("{base}.Id")) else {
            return Err(validation_error(format!(
                "1 validation error detected: Value null at 'publishBatchRequestEntries.{index}.member.id' failed to satisfy constraint: Member must not be null"
            )));
        };
        entries.push(PublishBatchEntry {
            id: id.to_string(),
            message: optional(params, &format!("{base}.Message")),
            subject: optional(params, &format!("{base}.Subject")),
            message_structure: optional(params, &format!("{base}.MessageStructure")),
            message_attributes: message_attributes(
                params,
                &format!("{base}.MessageAttributes"),
                &format!("publishBatchRequestEntries.{index}.member.messageAttributes"),
            )?,
            message_group_id: optional(params, &format!("{base}.MessageGroupId")),
            message_deduplication_id: optional(params, &format!("{base}.MessageDeduplicationId")),
        });
    }
    Ok(entries)
}

pub fn decode(name: ActionName, params: &Params<'_>) -> Result<Action> {
    let action = match name {
        ActionName::ConfirmSubscription => Action::ConfirmSubscription {
            topic_arn: required(params, "TopicArn")?,
            token: required(params, "Token")?,
            authenticate_on_unsubscribe: optional(params, "AuthenticateOnUnsubscribe"),
        },
        ActionName::CreateTopic => Action::CreateTopic(CreateTopicInput {
            name: required(params, "Name")?,
            attributes: attributes(params, "Attributes"),
            tags: tags(params)?,
            data_protection_policy: optional(params, "DataProtectionPolicy"),
        }),
        ActionName::DeleteTopic => Action::DeleteTopic {
            topic_arn: required(params, "TopicArn")?,
        },
        ActionName::GetSubscriptionAttributes => Action::GetSubscriptionAttributes {
            subscription_arn: required(params, "SubscriptionArn")?,
        },
        ActionName::GetTopicAttributes => Action::GetTopicAttributes {
            topic_arn: required(params, "TopicArn")?,
        },
        ActionName::ListSubscriptions => Action::ListSubscriptions {
            next_token: optional(params, "NextToken"),
        },
        ActionName::ListSubscriptionsByTopic => Action::ListSubscriptionsByTopic {
            topic_arn: required(params, "TopicArn")?,
            next_token: optional(params, "NextToken"),
        },
        ActionName::ListTagsForResource => Action::ListTagsForResource {
            resource_arn: required(params, "ResourceArn")?,
        },
        ActionName::ListTopics => Action::ListTopics {
            next_token: optional(params, "NextToken"),
        },
        ActionName::Publish => Action::Publish(PublishInput {
            topic_arn: optional(params, "TopicArn"),
            target_arn: optional(params, "TargetArn"),
            phone_number: optional(params, "PhoneNumber"),
            message: optional(params, "Message"),
            subject: optional(params, "Subject"),
            message_structure: optional(params, "MessageStructure"),
            message_attributes: message_attributes(
                params,
                "MessageAttributes",
                "messageAttributes",
            )?,
            message_group_id: optional(params, "MessageGroupId"),
            message_deduplication_id: optional(params, "MessageDeduplicationId"),
        }),
        ActionName::PublishBatch => Action::PublishBatch {
            topic_arn: required(params, "TopicArn")?,
            entries: batch_entries(params)?,
        },
        ActionName::SetSubscriptionAttributes => Action::SetSubscriptionAttributes {
            subscription_arn: required(params, "SubscriptionArn")?,
            attribute_name: required(params, "AttributeName")?,
            attribute_value: optional(params, "AttributeValue"),
        },
        ActionName::SetTopicAttributes => Action::SetTopicAttributes {
            topic_arn: required(params, "TopicArn")?,
            attribute_name: required(params, "AttributeName")?,
            attribute_value: optional(params, "AttributeValue"),
        },
        ActionName::Subscribe => Action::Subscribe(SubscribeInput {
            topic_arn: required(params, "TopicArn")?,
            protocol: required(params, "Protocol")?,
            endpoint: optional(params, "Endpoint"),
            attributes: attributes(params, "Attributes"),
            return_subscription_arn: boolean(params, "ReturnSubscriptionArn"),
        }),
        ActionName::TagResource => Action::TagResource {
            resource_arn: required(params, "ResourceArn")?,
            tags: tags(params)?,
        },
        ActionName::Unsubscribe => Action::Unsubscribe {
            subscription_arn: required(params, "SubscriptionArn")?,
        },
        ActionName::UntagResource => Action::UntagResource {
            resource_arn: required(params, "ResourceArn")?,
            tag_keys: members(params, "TagKeys"),
        },
    };
    Ok(action)
}

fn write_attributes(xml: &mut XmlWriter, attributes: &BTreeMap<String, String>) {
    xml.open("Attributes");
    for (key, value) in attributes {
        xml.open("entry");
        xml.element("key", key);
        xml.element("value", value);
        xml.close("entry");
    }
    xml.close("Attributes");
}

fn write_subscriptions(xml: &mut XmlWriter, page: &Page<SubscriptionSummary>) {
    xml.open("Subscriptions");
    for subscription in &page.items {
        xml.open("member");
        xml.element("TopicArn", &subscription.topic_arn);
        xml.element("Protocol", &subscription.protocol);
        xml.element("SubscriptionArn", &subscription.subscription_arn);
        xml.element("Owner", &subscription.owner);
        xml.element("Endpoint", &subscription.endpoint);
        xml.close("member");
    }
    xml.close("Subscriptions");
    xml.optional_element("NextToken", page.next_token.as_deref());
}

pub fn encode(action: ActionName, output: &Output, request_id: &str) -> String {
    let name = action.as_str();
    let mut xml = XmlWriter::with_capacity(600);
    let response = format!("{name}Response");
    let result = format!("{name}Result");
    xml.open_with_namespace(&response, NAMESPACE);
    match output {
        Output::Empty => {}
        Output::EmptyResult => xml.empty(&result),
        output => {
            xml.open(&result);
            write_result(&mut xml, output);
            xml.close(&result);
        }
    }
    xml.open("ResponseMetadata");
    xml.element("RequestId", request_id);
    xml.close("ResponseMetadata");
    xml.close(&response);
    xml.finish()
}

fn write_result(xml: &mut XmlWriter, output: &Output) {
    match output {
        Output::Empty | Output::EmptyResult => {}
        Output::TopicArn(arn) => xml.element("TopicArn", arn),
        Output::Topics(page) => {
            xml.open("Topics");
            for arn in &page.items {
                xml.open("member");
                xml.element("TopicArn", arn);
                xml.close("member");
            }
            xml.close("Topics");
            xml.optional_element("NextToken", page.next_token.as_deref());
        }
        Output::Attributes(attributes) => write_attributes(xml, attributes),
        Output::SubscriptionArn(arn) => xml.element("SubscriptionArn", arn),
        Output::Subscriptions(page) => write_subscriptions(xml, page),
        Output::Published(published) => {
            xml.element("MessageId", &published.message_id);
            xml.optional_element("SequenceNumber", published.sequence_number.as_deref());
        }
        Output::PublishedBatch(batch) => {
            if batch.successful.is_empty() {
                xml.empty("Successful");
            } else {
                xml.open("Successful");
                for entry in &batch.successful {
                    xml.open("member");
                    xml.element("Id", &entry.id);
                    xml.element("MessageId", &entry.message_id);
                    xml.optional_element("SequenceNumber", entry.sequence_number.as_deref());
                    xml.close("member");
                }
                xml.close("Successful");
            }
            if batch.failed.is_empty() {
                xml.empty("Failed");
            } else {
                xml.open("Failed");
                for entry in &batch.failed {
                    xml.open("member");
                    xml.element("Id", &entry.id);
                    xml.element("Code", &entry.code);
                    xml.element("Message", &entry.message);
                    xml.element(
                        "SenderFault",
                        if entry.sender_fault { "true" } else { "false" },
                    );
                    xml.close("member");
                }
                xml.close("Failed");
            }
        }
        Output::Tags(tags) => {
            xml.open("Tags");
            for (key, value) in tags {
                xml.open("member");
                xml.element("Key", key);
                xml.element("Value", value);
                xml.close("member");
            }
            xml.close("Tags");
        }
    }
}

/// SNS's error document: `Type`, `Code` and `Message`, then the request id.
pub fn error_body(error: &WireError, request_id: &str) -> String {
    crate::xml::error_document(NAMESPACE, error, request_id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use engine::sns::types::{PublishBatchFailure, PublishBatchOutput, PublishBatchSuccess};

    use super::*;

    fn decoded(form: &str) -> Result<Action> {
        let params = Params::parse(&[form.as_bytes()])?;
        let name = ActionName::parse(params.get("Action").unwrap()).unwrap();
        decode(name, &params)
    }

    #[test]
    fn create_topic_decodes_attributes_and_tags() {
        let action = decoded(
            "Action=CreateTopic&Version=2010-03-31&Name=t.fifo\
             &Attributes.entry.1.key=FifoTopic&Attributes.entry.1.value=true\
             &Attributes.entry.2.key=DisplayName&Attributes.entry.2.value=My+Topic\
             &Tags.member.1.Key=team&Tags.member.1.Value=a&DataProtectionPolicy=%7B%7D",
        )
        .unwrap();
        assert_eq!(
            action,
            Action::CreateTopic(CreateTopicInput {
                name: "t.fifo".into(),
                attributes: [
                    ("DisplayName".to_string(), "My Topic".to_string()),
                    ("FifoTopic".to_string(), "true".to_string()),
                ]
                .into(),
                tags: [("team".to_string(), "a".to_string())].into(),
                data_protection_policy: Some("{}".into()),
            })
        );
    }

    #[test]
    fn duplicate_tag_keys_are_refused() {
        let error = decoded(
            "Action=TagResource&ResourceArn=a&Tags.member.1.Key=k&Tags.member.1.Value=1\
             &Tags.member.2.Key=k&Tags.member.2.Value=2",
        )
        .unwrap_err();
        let wire = error.wire();
        assert_eq!(wire.query_code, "InvalidParameter");
        assert_eq!(
            wire.message,
            "Invalid parameter: Duplicated keys are not allowed."
        );
    }

    #[test]
    fn publish_decodes_every_field() {
        let action = decoded(
            "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Message=hi&Subject=s\
             &MessageStructure=json&MessageGroupId=g&MessageDeduplicationId=d&TargetArn=x&PhoneNumber=%2B1\
             &MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1.Value.DataType=Number\
             &MessageAttributes.entry.1.Value.StringValue=1\
             &MessageAttributes.entry.2.Name=b&MessageAttributes.entry.2.Value.DataType=Binary\
             &MessageAttributes.entry.2.Value.BinaryValue=AgME",
        )
        .unwrap();
        let Action::Publish(input) = action else {
            panic!("not a Publish: {action:?}");
        };
        assert_eq!(
            input.topic_arn.as_deref(),
            Some("arn:aws:sns:us-east-1:1:t")
        );
        assert_eq!(input.target_arn.as_deref(), Some("x"));
        assert_eq!(input.phone_number.as_deref(), Some("+1"));
        assert_eq!(input.message.as_deref(), Some("hi"));
        assert_eq!(input.subject.as_deref(), Some("s"));
        assert_eq!(input.message_structure.as_deref(), Some("json"));
        assert_eq!(input.message_group_id.as_deref(), Some("g"));
        assert_eq!(input.message_deduplication_id.as_deref(), Some("d"));
        assert_eq!(input.message_attributes["n"].data_type, "Number");
        assert_eq!(
            input.message_attributes["n"].string_value.as_deref(),
            Some("1")
        );
        assert_eq!(
            input.message_attributes["b"].binary_value.as_deref(),
            Some(&[2u8, 3, 4][..])
        );
    }

    #[test]
    fn a_message_attribute_without_data_type_is_a_validation_error() {
        let error = decoded(
            "Action=Publish&TopicArn=t&Message=m&MessageAttributes.entry.1.Name=attr1\
             &MessageAttributes.entry.1.Value.StringValue=v",
        )
        .unwrap_err();
        assert_eq!(
            error.wire().message,
            "1 validation error detected: Value null at 'messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not be null"
        );
        let batch = decoded(
            "Action=PublishBatch&TopicArn=t&PublishBatchRequestEntries.member.1.Id=1\
             &PublishBatchRequestEntries.member.1.Message=m\
             &PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name=attr1\
             &PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue=v",
        )
        .unwrap_err();
        assert_eq!(
            batch.wire().message,
            "1 validation error detected: Value null at 'publishBatchRequestEntries.1.member.messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn publish_batch_decodes_entries_in_order() {
        let action = decoded(
            "Action=PublishBatch&TopicArn=t\
             &PublishBatchRequestEntries.member.2.Id=b&PublishBatchRequestEntries.member.2.Message=m2\
             &PublishBatchRequestEntries.member.2.MessageGroupId=g\
             &PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=m1\
             &PublishBatchRequestEntries.member.1.Subject=s&PublishBatchRequestEntries.member.1.MessageStructure=json\
             &PublishBatchRequestEntries.member.1.MessageDeduplicationId=d\
             &PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name=k\
             &PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType=String\
             &PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue=v",
        )
        .unwrap();
        let Action::PublishBatch { topic_arn, entries } = action else {
            panic!("not a PublishBatch: {action:?}");
        };
        assert_eq!(topic_arn, "t");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].id, "a");
        assert_eq!(entries[0].message.as_deref(), Some("m1"));
        assert_eq!(entries[0].subject.as_deref(), Some("s"));
        assert_eq!(entries[0].message_structure.as_deref(), Some("json"));
        assert_eq!(entries[0].message_deduplication_id.as_deref(), Some("d"));
        assert_eq!(
            entries[0].message_attributes["k"].string_value.as_deref(),
            Some("v")
        );
        assert_eq!(entries[1].id, "b");
        assert_eq!(entries[1].message_group_id.as_deref(), Some("g"));
    }

    #[test]
    fn subscribe_decodes_attributes_and_the_arn_flag() {
        let action = decoded(
            "Action=Subscribe&TopicArn=t&Protocol=sqs&Endpoint=e&ReturnSubscriptionArn=true\
             &Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true",
        )
        .unwrap();
        assert_eq!(
            action,
            Action::Subscribe(SubscribeInput {
                topic_arn: "t".into(),
                protocol: "sqs".into(),
                endpoint: Some("e".into()),
                attributes: [("RawMessageDelivery".to_string(), "true".to_string())].into(),
                return_subscription_arn: true,
            })
        );
    }

    #[test]
    fn untag_decodes_keys_in_order() {
        let action =
            decoded("Action=UntagResource&ResourceArn=r&TagKeys.member.2=b&TagKeys.member.1=a")
                .unwrap();
        assert_eq!(
            action,
            Action::UntagResource {
                resource_arn: "r".into(),
                tag_keys: vec!["a".into(), "b".into()],
            }
        );
    }

    #[test]
    fn missing_required_member_is_a_validation_error() {
        let wire = decoded("Action=GetTopicAttributes").unwrap_err().wire();
        assert_eq!(wire.query_code, "ValidationError");
        assert_eq!(
            wire.message,
            "1 validation error detected: Value null at 'topicArn' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn every_action_name_decodes() {
        for name in ActionName::ALL {
            let form = format!(
                "Action={}&TopicArn=t&Name=n&Protocol=sqs&Token=ab&SubscriptionArn=s\
                 &AttributeName=a&ResourceArn=r",
                name.as_str()
            );
            assert!(decoded(&form).is_ok(), "{form}");
        }
    }

    #[test]
    fn create_topic_xml_is_aws_shape() {
        let xml = encode(
            ActionName::CreateTopic,
            &Output::TopicArn("arn:aws:sns:us-east-1:1:t".into()),
            "rid",
        );
        assert_eq!(
            xml,
            concat!(
                "<?xml version=\"1.0\"?>",
                "<CreateTopicResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">",
                "<CreateTopicResult><TopicArn>arn:aws:sns:us-east-1:1:t</TopicArn></CreateTopicResult>",
                "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>",
                "</CreateTopicResponse>"
            )
        );
    }

    #[test]
    fn actions_without_output_have_no_result_element() {
        assert_eq!(
            encode(ActionName::DeleteTopic, &Output::Empty, "rid"),
            concat!(
                "<?xml version=\"1.0\"?>",
                "<DeleteTopicResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">",
                "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>",
                "</DeleteTopicResponse>"
            )
        );
        assert!(
            encode(ActionName::TagResource, &Output::EmptyResult, "rid")
                .contains("<TagResourceResult/><ResponseMetadata>")
        );
    }

    #[test]
    fn subscriptions_xml_lists_members_and_token() {
        let page = Page {
            items: vec![SubscriptionSummary {
                subscription_arn: "PendingConfirmation".into(),
                owner: "1".into(),
                protocol: "http".into(),
                endpoint: "http://h/?a=1&b=2".into(),
                topic_arn: "arn".into(),
            }],
            next_token: Some("tok".into()),
        };
        let xml = encode(
            ActionName::ListSubscriptions,
            &Output::Subscriptions(page),
            "r",
        );
        assert!(xml.contains(concat!(
            "<ListSubscriptionsResult><Subscriptions><member><TopicArn>arn</TopicArn>",
            "<Protocol>http</Protocol><SubscriptionArn>PendingConfirmation</SubscriptionArn>",
            "<Owner>1</Owner><Endpoint>http://h/?a=1&amp;b=2</Endpoint></member></Subscriptions>",
            "<NextToken>tok</NextToken></ListSubscriptionsResult>"
        )));
    }

    #[test]
    fn attributes_xml_uses_entries() {
        let xml = encode(
            ActionName::GetTopicAttributes,
            &Output::Attributes([("Owner".to_string(), "1".to_string())].into()),
            "r",
        );
        assert!(xml.contains(
            "<GetTopicAttributesResult><Attributes><entry><key>Owner</key><value>1</value></entry></Attributes></GetTopicAttributesResult>"
        ));
    }

    #[test]
    fn publish_batch_xml_lists_both_outcomes() {
        let output = Output::PublishedBatch(PublishBatchOutput {
            successful: vec![PublishBatchSuccess {
                id: "1".into(),
                message_id: "m".into(),
                sequence_number: Some("10000000000000000001".into()),
            }],
            failed: vec![PublishBatchFailure {
                id: "2".into(),
                code: "InternalError".into(),
                message: "boom".into(),
                sender_fault: false,
            }],
        });
        let xml = encode(ActionName::PublishBatch, &output, "r");
        assert!(xml.contains(concat!(
            "<PublishBatchResult><Successful><member><Id>1</Id><MessageId>m</MessageId>",
            "<SequenceNumber>10000000000000000001</SequenceNumber></member></Successful>",
            "<Failed><member><Id>2</Id><Code>InternalError</Code><Message>boom</Message>",
            "<SenderFault>false</SenderFault></member></Failed></PublishBatchResult>"
        )));
        let empty = encode(
            ActionName::PublishBatch,
            &Output::PublishedBatch(PublishBatchOutput::default()),
            "r",
        );
        assert!(empty.contains("<PublishBatchResult><Successful/><Failed/></PublishBatchResult>"));
    }

    #[test]
    fn error_xml_is_aws_shape() {
        let wire = Error::Engine(engine::Error::SnsNotFound("Topic does not exist".into())).wire();
        assert_eq!(wire.status, http::StatusCode::NOT_FOUND);
        assert_eq!(
            error_body(&wire, "rid"),
            concat!(
                "<?xml version=\"1.0\"?>",
                "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error>",
                "<Type>Sender</Type><Code>NotFound</Code>",
                "<Message>Topic does not exist</Message></Error>",
                "<RequestId>rid</RequestId></ErrorResponse>"
            )
        );
    }

    #[test]
    fn unsupported_actions_say_what_eddy_does_not_do() {
        let error = super::super::unsupported_action("CreatePlatformApplication").unwrap();
        assert_eq!(
            error.to_string(),
            "Invalid parameter: CreatePlatformApplication Reason: eddy does not send mobile push notifications"
        );
        assert!(super::super::unsupported_action("Publish").is_none());
    }
}
