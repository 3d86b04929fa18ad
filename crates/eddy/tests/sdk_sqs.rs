//! End-to-end SQS with the official Rust SDK (aws-sdk-sqs, AWS JSON 1.0) against a real
//! `eddy serve` process: queues, messages with attributes, batches, FIFO order and errors.
//! The digests eddy returns are checked against MD5s computed here as AWS documents them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use md5::{Digest, Md5};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// MD5OfMessageAttributes: attributes sorted by name; name, data type and value each as a
/// 4-byte big-endian length and the bytes, with a transport byte (1 string, 2 binary).
fn md5_of_attributes(attributes: &HashMap<String, MessageAttributeValue>) -> String {
    fn push_length_prefixed(buffer: &mut Vec<u8>, bytes: &[u8]) {
        buffer.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        buffer.extend_from_slice(bytes);
    }
    let mut names: Vec<&String> = attributes.keys().collect();
    names.sort();
    let mut buffer = Vec::new();
    for name in names {
        let value = &attributes[name];
        push_length_prefixed(&mut buffer, name.as_bytes());
        push_length_prefixed(&mut buffer, value.data_type().as_bytes());
        if let Some(binary) = value.binary_value() {
            buffer.push(2);
            push_length_prefixed(&mut buffer, binary.as_ref());
        } else {
            buffer.push(1);
            push_length_prefixed(&mut buffer, value.string_value().unwrap_or("").as_bytes());
        }
    }
    md5_hex(&buffer)
}

fn string_attribute(data_type: &str, value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type(data_type)
        .string_value(value)
        .build()
        .unwrap()
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let output = client.create_queue().queue_name(name).send().await?;
    Ok(output.queue_url().expect("queue url").to_string())
}

#[tokio::test]
async fn create_queue_returns_url_that_get_queue_url_and_list_queues_agree_on() -> TestResult {
    let server = common::Server::start();
    let client = common::sqs_client(&server.endpoint).await;
    let url = create_queue(&client, "rust-sdk-orders").await?;
    assert_eq!(
        url,
        format!("{}/000000000000/rust-sdk-orders", server.endpoint)
    );

    let fetched = client
        .get_queue_url()
        .queue_name("rust-sdk-orders")
        .send()
        .await?;
    assert_eq!(fetched.queue_url(), Some(url.as_str()));

    create_queue(&client, "other-queue").await?;
    let listed = client
        .list_queues()
        .queue_name_prefix("rust-sdk")
        .send()
        .await?;
    assert_eq!(listed.queue_urls(), [url]);
    Ok(())
}

#[tokio::test]
async fn send_receive_delete_round_trips_body_and_attributes_with_matching_digests() -> TestResult {
    let server = common::Server::start();
    let client = common::sqs_client(&server.endpoint).await;
    let url = create_queue(&client, "rust-sdk-attributes").await?;

    let mut attributes = HashMap::new();
    attributes.insert("text".to_string(), string_attribute("String", "héllo ✓"));
    attributes.insert("count".to_string(), string_attribute("Number", "42"));
    attributes.insert("custom".to_string(), string_attribute("String.custom", "x"));
    attributes.insert(
        "blob".to_string(),
        MessageAttributeValue::builder()
            .data_type("Binary")
            .binary_value(Blob::new(vec![0u8, 1, 2, 255]))
            .build()?,
    );
    let body = "body with unicode 🌊 and \r\n";

    let sent = client
        .send_message()
        .queue_url(&url)
        .message_body(body)
        .set_message_attributes(Some(attributes.clone()))
        .send()
        .await?;
    assert_eq!(
        sent.md5_of_message_body(),
        Some(md5_hex(body.as_bytes()).as_str())
    );
    assert_eq!(
        sent.md5_of_message_attributes(),
        Some(md5_of_attributes(&attributes).as_str())
    );
    let message_id = sent.message_id().expect("message id").to_string();

    let received = client
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .wait_time_seconds(5)
        .send()
        .await?;
    let [message] = received.messages() else {
        panic!("expected one message, got {:?}", received.messages());
    };
    assert_eq!(message.message_id(), Some(message_id.as_str()));
    assert_eq!(message.body(), Some(body));
    assert_eq!(
        message.md5_of_body(),
        Some(md5_hex(body.as_bytes()).as_str())
    );
    assert_eq!(message.message_attributes(), Some(&attributes));
    assert_eq!(
        message.md5_of_message_attributes(),
        Some(md5_of_attributes(&attributes).as_str())
    );
    let system = message.attributes().expect("system attributes");
    assert_eq!(
        system
            .get(&MessageSystemAttributeName::ApproximateReceiveCount)
            .map(String::as_str),
        Some("1")
    );

    client
        .delete_message()
        .queue_url(&url)
        .receipt_handle(message.receipt_handle().expect("receipt handle"))
        .send()
        .await?;
    let after = client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(0)
        .send()
        .await?;
    assert!(after.messages().is_empty());
    Ok(())
}

#[tokio::test]
async fn batch_send_and_batch_delete_handle_every_entry() -> TestResult {
    let server = common::Server::start();
    let client = common::sqs_client(&server.endpoint).await;
    let url = create_queue(&client, "rust-sdk-batch").await?;

    let mut entries = Vec::new();
    for index in 0..10 {
        entries.push(
            SendMessageBatchRequestEntry::builder()
                .id(format!("entry-{index}"))
                .message_body(format!("message {index}"))
                .build()?,
        );
    }
    let sent = client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(entries))
        .send()
        .await?;
    assert_eq!(sent.successful().len(), 10);
    assert!(sent.failed().is_empty());
    for entry in sent.successful() {
        let index: usize = entry.id().trim_start_matches("entry-").parse()?;
        assert_eq!(
            entry.md5_of_message_body(),
            md5_hex(format!("message {index}").as_bytes())
        );
    }

    let mut received = Vec::new();
    for _ in 0..10 {
        let output = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await?;
        received.extend(output.messages().iter().cloned());
        if received.len() >= 10 {
            break;
        }
    }
    assert_eq!(received.len(), 10);

    let deletes = received
        .iter()
        .enumerate()
        .map(|(index, message)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("delete-{index}"))
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = client
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(deletes))
        .send()
        .await?;
    assert_eq!(deleted.successful().len(), 10);
    assert!(deleted.failed().is_empty());

    let attributes = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await?;
    let attributes = attributes.attributes().expect("attributes");
    assert_eq!(
        attributes[&QueueAttributeName::ApproximateNumberOfMessages],
        "0"
    );
    assert_eq!(
        attributes[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );
    Ok(())
}

#[tokio::test]
async fn fifo_queue_delivers_a_group_in_send_order_with_sequence_numbers() -> TestResult {
    let server = common::Server::start();
    let client = common::sqs_client(&server.endpoint).await;
    let url = client
        .create_queue()
        .queue_name("rust-sdk-order.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .send()
        .await?
        .queue_url()
        .expect("queue url")
        .to_string();

    let mut sequence_numbers = Vec::new();
    for index in 0..5 {
        let sent = client
            .send_message()
            .queue_url(&url)
            .message_body(format!("step {index}"))
            .message_group_id("workflow-1")
            .send()
            .await?;
        sequence_numbers.push(
            sent.sequence_number()
                .expect("sequence number")
                .parse::<u128>()?,
        );
    }
    assert!(sequence_numbers.windows(2).all(|pair| pair[0] < pair[1]));

    // A duplicate body inside the deduplication window is accepted but not delivered.
    client
        .send_message()
        .queue_url(&url)
        .message_body("step 0")
        .message_group_id("workflow-1")
        .send()
        .await?;

    let received = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await?;
    let bodies: Vec<&str> = received
        .messages()
        .iter()
        .filter_map(|m| m.body())
        .collect();
    assert_eq!(bodies, ["step 0", "step 1", "step 2", "step 3", "step 4"]);
    Ok(())
}

#[tokio::test]
async fn queue_attributes_can_be_set_and_read_back() -> TestResult {
    let server = common::Server::start();
    let client = common::sqs_client(&server.endpoint).await;
    let url = create_queue(&client, "rust-sdk-settings").await?;

    client
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "90")
        .attributes(QueueAttributeName::DelaySeconds, "3")
        .send()
        .await?;
    let output = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await?;
    let attributes = output.attributes().expect("attributes");
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "90");
    assert_eq!(attributes[&QueueAttributeName::DelaySeconds], "3");
    assert_eq!(
        attributes[&QueueAttributeName::QueueArn],
        "arn:aws:sqs:us-east-1:000000000000:rust-sdk-settings"
    );
    Ok(())
}

#[tokio::test]
async fn missing_queue_is_reported_as_queue_does_not_exist() -> TestResult {
    let server = common::Server::start();
    let client = common::sqs_client(&server.endpoint).await;
    let error = client
        .get_queue_url()
        .queue_name("no-such-queue")
        .send()
        .await
        .expect_err("a missing queue must fail");
    let service_error = error.into_service_error();
    assert!(
        service_error.is_queue_does_not_exist(),
        "expected QueueDoesNotExist, got {service_error:?}"
    );

    let missing_url = format!("{}/000000000000/no-such-queue", server.endpoint);
    let error = client
        .send_message()
        .queue_url(missing_url)
        .message_body("lost")
        .send()
        .await
        .expect_err("sending to a missing queue must fail");
    assert!(error.into_service_error().is_queue_does_not_exist());
    Ok(())
}

#[tokio::test]
async fn invalid_receipt_handle_is_reported_as_receipt_handle_is_invalid() -> TestResult {
    let server = common::Server::start();
    let client = common::sqs_client(&server.endpoint).await;
    let url = create_queue(&client, "rust-sdk-handles").await?;
    let error = client
        .delete_message()
        .queue_url(&url)
        .receipt_handle("garbage")
        .send()
        .await
        .expect_err("a garbage receipt handle must fail");
    let service_error = error.into_service_error();
    assert!(
        service_error.is_receipt_handle_is_invalid(),
        "expected ReceiptHandleIsInvalid, got {service_error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn binary_attribute_digest_matches_on_batch_send() -> TestResult {
    let server = common::Server::start();
    let client = common::sqs_client(&server.endpoint).await;
    let url = create_queue(&client, "rust-sdk-binary").await?;
    let mut attributes = HashMap::new();
    attributes.insert(
        "payload".to_string(),
        MessageAttributeValue::builder()
            .data_type("Binary.gzip")
            .binary_value(Blob::new((0u8..=255).collect::<Vec<_>>()))
            .build()?,
    );
    let sent = client
        .send_message_batch()
        .queue_url(&url)
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("only")
                .message_body("binary")
                .set_message_attributes(Some(attributes.clone()))
                .build()?,
        )
        .send()
        .await?;
    let [entry] = sent.successful() else {
        panic!("expected one successful entry, got {sent:?}");
    };
    assert_eq!(
        entry.md5_of_message_attributes(),
        Some(md5_of_attributes(&attributes).as_str())
    );
    Ok(())
}
