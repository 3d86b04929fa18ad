//! Publish through the `Engine` API: one commit delivers to every matching SQS
//! subscription in AWS's formats (envelope, raw with mapped attributes), filter policies
//! decide who gets what, MessageStructure=json picks per-protocol messages, and FIFO topics
//! deduplicate topic-wide and keep order per group.

mod common;

use std::collections::BTreeMap;

use common::{Harness, TestResult, map};
use engine::sns::types::{
    CreateTopicInput, PublishBatchEntry, PublishInput, SnsAttributeValue, SnsCaller, SubscribeInput,
};
use engine::sqs::QueueRef;

fn sns_caller(harness: &Harness) -> SnsCaller {
    SnsCaller {
        account: harness.caller.account.clone(),
    }
}

async fn topic(harness: &Harness, name: &str, attributes: &[(&str, &str)]) -> TestResult<String> {
    Ok(harness
        .engine
        .create_topic(
            &sns_caller(harness),
            CreateTopicInput {
                name: name.to_string(),
                attributes: map(attributes),
                ..CreateTopicInput::default()
            },
        )
        .await?)
}

async fn subscribe_queue(
    harness: &Harness,
    topic_arn: &str,
    queue: &QueueRef,
    attributes: &[(&str, &str)],
) -> TestResult<String> {
    Ok(harness
        .engine
        .subscribe(
            &sns_caller(harness),
            SubscribeInput {
                topic_arn: topic_arn.to_string(),
                protocol: "sqs".to_string(),
                endpoint: Some(harness.engine.queue_arn(queue)),
                attributes: map(attributes),
                return_subscription_arn: true,
            },
        )
        .await?)
}

fn string_attribute(value: &str) -> SnsAttributeValue {
    SnsAttributeValue {
        data_type: "String".to_string(),
        string_value: Some(value.to_string()),
        binary_value: None,
    }
}

fn publish_input(topic_arn: &str, message: &str) -> PublishInput {
    PublishInput {
        topic_arn: Some(topic_arn.to_string()),
        message: Some(message.to_string()),
        ..PublishInput::default()
    }
}

#[tokio::test]
async fn publish_delivers_envelope_raw_and_filtered_copies_in_one_call() -> TestResult {
    let harness = Harness::new().await?;
    harness.engine.set_sns_envelope_signing(true);
    let topic_arn = topic(&harness, "orders", &[]).await?;
    let plain = harness.queue("plain", &[]).await?;
    let raw = harness.queue("raw", &[]).await?;
    let red_only = harness.queue("red-only", &[]).await?;
    subscribe_queue(&harness, &topic_arn, &plain, &[]).await?;
    subscribe_queue(
        &harness,
        &topic_arn,
        &raw,
        &[("RawMessageDelivery", "true")],
    )
    .await?;
    subscribe_queue(
        &harness,
        &topic_arn,
        &red_only,
        &[("FilterPolicy", r#"{"color":["red"]}"#)],
    )
    .await?;

    let mut input = publish_input(&topic_arn, "hello");
    input.subject = Some("greeting".to_string());
    input.message_attributes = BTreeMap::from([("color".to_string(), string_attribute("blue"))]);
    let published = harness.engine.publish(&sns_caller(&harness), input).await?;
    assert!(published.sequence_number.is_none());

    let envelopes = harness.receive(&plain, 10).await?;
    assert_eq!(envelopes.len(), 1);
    let envelope: serde_json::Value = serde_json::from_str(&envelopes[0].body)?;
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["MessageId"], published.message_id.as_str());
    assert_eq!(envelope["TopicArn"], topic_arn.as_str());
    assert_eq!(envelope["Subject"], "greeting");
    assert_eq!(envelope["Message"], "hello");
    assert_eq!(envelope["MessageAttributes"]["color"]["Type"], "String");
    assert_eq!(envelope["MessageAttributes"]["color"]["Value"], "blue");
    assert_eq!(envelope["SignatureVersion"], "1");
    assert!(
        envelope["Signature"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let keys: Vec<&str> = envelopes[0]
        .body
        .split("\":")
        .filter_map(|part| part.rsplit('"').next())
        .collect();
    assert_eq!(keys[0], "Type");

    let raws = harness.receive(&raw, 10).await?;
    assert_eq!(raws.len(), 1);
    assert_eq!(raws[0].body, "hello");

    assert!(harness.receive(&red_only, 10).await?.is_empty());
    let mut red = publish_input(&topic_arn, "red one");
    red.message_attributes = BTreeMap::from([("color".to_string(), string_attribute("red"))]);
    harness.engine.publish(&sns_caller(&harness), red).await?;
    let filtered = harness.receive(&red_only, 10).await?;
    assert_eq!(filtered.len(), 1);
    Ok(())
}

#[tokio::test]
async fn structured_messages_go_to_their_protocol_and_default_elsewhere() -> TestResult {
    let harness = Harness::new().await?;
    let topic_arn = topic(&harness, "structured", &[]).await?;
    let queue = harness.queue("q", &[]).await?;
    subscribe_queue(
        &harness,
        &topic_arn,
        &queue,
        &[("RawMessageDelivery", "true")],
    )
    .await?;
    let mut input = publish_input(&topic_arn, r#"{"default":"fallback","sqs":"for queues"}"#);
    input.message_structure = Some("json".to_string());
    harness.engine.publish(&sns_caller(&harness), input).await?;
    let received = harness.receive(&queue, 10).await?;
    assert_eq!(received[0].body, "for queues");

    let mut missing_default = publish_input(&topic_arn, r#"{"sqs":"x"}"#);
    missing_default.message_structure = Some("json".to_string());
    let error = harness
        .engine
        .publish(&sns_caller(&harness), missing_default)
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("Invalid parameter: Message Structure - No default entry in JSON message body")
    );
    Ok(())
}

#[tokio::test]
async fn fifo_topic_deduplicates_topic_wide_and_numbers_messages_in_order() -> TestResult {
    let harness = Harness::new().await?;
    let topic_arn = topic(
        &harness,
        "events.fifo",
        &[("FifoTopic", "true"), ("ContentBasedDeduplication", "true")],
    )
    .await?;
    let queue = harness.fifo_queue("events.fifo", &[]).await?;
    subscribe_queue(
        &harness,
        &topic_arn,
        &queue,
        &[("RawMessageDelivery", "true")],
    )
    .await?;
    let mut sequences = Vec::new();
    for n in 0..3 {
        let mut input = publish_input(&topic_arn, &format!("m{n}"));
        input.message_group_id = Some("g".to_string());
        let output = harness.engine.publish(&sns_caller(&harness), input).await?;
        sequences.push(output.sequence_number.unwrap_or_default());
    }
    assert!(sequences.windows(2).all(|pair| pair[0] < pair[1]));
    assert!(sequences.iter().all(|s| s.len() == 20));

    let mut again = publish_input(&topic_arn, "m0");
    again.message_group_id = Some("g".to_string());
    let duplicate = harness.engine.publish(&sns_caller(&harness), again).await?;
    assert_eq!(
        duplicate.sequence_number.as_deref(),
        sequences.first().map(String::as_str)
    );

    let mut bodies = Vec::new();
    loop {
        let received = harness.receive(&queue, 10).await?;
        if received.is_empty() {
            break;
        }
        for message in received {
            bodies.push(message.body.clone());
            harness
                .engine
                .delete_message(&queue, &message.receipt_handle)
                .await?;
        }
    }
    assert_eq!(bodies, ["m0", "m1", "m2"]);

    let missing_group = harness
        .engine
        .publish(&sns_caller(&harness), publish_input(&topic_arn, "x"))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        missing_group.as_deref(),
        Some("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    );
    Ok(())
}

#[tokio::test]
async fn publish_batch_reports_bad_entries_and_delivers_the_rest() -> TestResult {
    let harness = Harness::new().await?;
    let topic_arn = topic(&harness, "batch", &[]).await?;
    let queue = harness.queue("q", &[]).await?;
    subscribe_queue(
        &harness,
        &topic_arn,
        &queue,
        &[("RawMessageDelivery", "true")],
    )
    .await?;
    let entries = vec![
        PublishBatchEntry {
            id: "a".to_string(),
            message: Some("one".to_string()),
            ..PublishBatchEntry::default()
        },
        PublishBatchEntry {
            id: "b".to_string(),
            message: Some(String::new()),
            ..PublishBatchEntry::default()
        },
        PublishBatchEntry {
            id: "c".to_string(),
            message: Some("three".to_string()),
            ..PublishBatchEntry::default()
        },
    ];
    let output = harness
        .engine
        .publish_batch(&sns_caller(&harness), &topic_arn, entries)
        .await?;
    assert_eq!(output.successful.len(), 2);
    assert_eq!(output.failed.len(), 1);
    assert_eq!(output.failed[0].id, "b");
    let mut bodies: Vec<String> = harness
        .receive(&queue, 10)
        .await?
        .into_iter()
        .map(|m| m.body)
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["one", "three"]);
    Ok(())
}

#[tokio::test]
async fn publish_to_missing_topic_is_not_found() -> TestResult {
    let harness = Harness::new().await?;
    let arn = harness.engine.topic_arn(&harness.caller.account, "absent");
    let error = harness
        .engine
        .publish(&sns_caller(&harness), publish_input(&arn, "x"))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some("Topic does not exist"));
    Ok(())
}
