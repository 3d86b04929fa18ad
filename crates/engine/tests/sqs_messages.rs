//! Message behaviour of standard queues through the Engine API: visibility, delay,
//! retention, receipts, batches, validation, digests and long polling.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Harness, TestResult, bodies, body_input, map};
use engine::Error;
use engine::sqs::{
    BatchEntry, ChangeVisibilityInput, MessageAttributeValue, MessageAttributes,
    ReceiveMessageInput, SendMessageInput,
};

fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue {
        data_type: "String".to_string(),
        string_value: Some(value.to_string()),
        ..Default::default()
    }
}

#[tokio::test]
async fn receive_hides_message_until_visibility_timeout_then_redelivers_with_new_receipt()
-> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("work", &[("VisibilityTimeout", "30")]).await?;
    let sent = h.send(&queue, "job").await?;

    let first = h.receive(&queue, 1).await?;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].message_id, sent.message_id);
    assert_eq!(first[0].attributes["ApproximateReceiveCount"], "1");
    assert_eq!(first[0].attributes["SenderId"], "AIDATESTSENDER");
    assert_eq!(
        first[0].attributes["SentTimestamp"],
        common::START.to_string()
    );
    assert_eq!(first[0].md5_of_body, sent.md5_of_message_body);

    h.advance_secs(29);
    assert!(h.receive(&queue, 1).await?.is_empty());
    assert_eq!(
        h.count(&queue, "ApproximateNumberOfMessagesNotVisible")
            .await?,
        1
    );

    h.advance_secs(1);
    let second = h.receive(&queue, 1).await?;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].message_id, sent.message_id);
    assert_ne!(second[0].receipt_handle, first[0].receipt_handle);
    assert_eq!(second[0].attributes["ApproximateReceiveCount"], "2");
    assert_eq!(
        second[0].attributes["ApproximateFirstReceiveTimestamp"],
        common::START.to_string()
    );
    Ok(())
}

#[tokio::test]
async fn stale_receipt_delete_succeeds_but_keeps_the_message() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("stale", &[("VisibilityTimeout", "10")]).await?;
    h.send(&queue, "job").await?;
    let old = h.receive(&queue, 1).await?.remove(0);
    h.advance_secs(10);
    let current = h.receive(&queue, 1).await?.remove(0);

    h.engine.delete_message(&queue, &old.receipt_handle).await?;
    assert_eq!(
        h.count(&queue, "ApproximateNumberOfMessagesNotVisible")
            .await?,
        1
    );

    h.engine
        .delete_message(&queue, &current.receipt_handle)
        .await?;
    assert_eq!(
        h.count(&queue, "ApproximateNumberOfMessagesNotVisible")
            .await?,
        0
    );
    // Deleting again is still a success.
    h.engine
        .delete_message(&queue, &current.receipt_handle)
        .await?;
    h.advance_secs(100);
    assert!(h.receive(&queue, 1).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn receipt_handles_of_other_queues_and_garbage_are_invalid() -> TestResult {
    let h = Harness::new().await?;
    let a = h.queue("a", &[]).await?;
    let b = h.queue("b", &[]).await?;
    h.send(&a, "x").await?;
    let message = h.receive(&a, 1).await?.remove(0);
    assert!(matches!(
        h.engine.delete_message(&b, &message.receipt_handle).await,
        Err(Error::ReceiptHandleIsInvalid(_))
    ));
    assert!(matches!(
        h.engine.delete_message(&a, "garbage").await,
        Err(Error::ReceiptHandleIsInvalid(ref m))
            if m == "The input receipt handle \"garbage\" is not a valid receipt handle."
    ));
    Ok(())
}

#[tokio::test]
async fn change_visibility_extends_and_ends_invisibility() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("visibility", &[]).await?;
    h.send(&queue, "x").await?;
    let message = h.receive(&queue, 1).await?.remove(0);
    h.engine
        .change_message_visibility(
            &queue,
            ChangeVisibilityInput {
                receipt_handle: message.receipt_handle.clone(),
                visibility_timeout: 0,
            },
        )
        .await?;
    let again = h.receive(&queue, 1).await?.remove(0);
    assert_eq!(again.attributes["ApproximateReceiveCount"], "2");

    // The first handle is stale now.
    assert!(matches!(
        h.engine
            .change_message_visibility(
                &queue,
                ChangeVisibilityInput {
                    receipt_handle: message.receipt_handle.clone(),
                    visibility_timeout: 10,
                },
            )
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    assert!(matches!(
        h.engine
            .change_message_visibility(
                &queue,
                ChangeVisibilityInput {
                    receipt_handle: again.receipt_handle.clone(),
                    visibility_timeout: 43_201,
                },
            )
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    // Once the visibility timeout has run out, the message is no longer in flight.
    h.advance_secs(31);
    assert!(matches!(
        h.engine
            .change_message_visibility(
                &queue,
                ChangeVisibilityInput {
                    receipt_handle: again.receipt_handle.clone(),
                    visibility_timeout: 10,
                },
            )
            .await,
        Err(Error::MessageNotInflight(_))
    ));
    Ok(())
}

#[tokio::test]
async fn delay_hides_new_messages_until_due() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("delayed", &[("DelaySeconds", "10")]).await?;
    h.send(&queue, "queue-delay").await?;
    h.engine
        .send_message(
            &h.caller,
            &queue,
            SendMessageInput {
                delay_seconds: Some(20),
                ..body_input("message-delay")
            },
        )
        .await?;
    assert_eq!(
        h.count(&queue, "ApproximateNumberOfMessagesDelayed")
            .await?,
        2
    );
    assert!(h.receive(&queue, 10).await?.is_empty());
    h.advance_secs(10);
    assert_eq!(bodies(&h.receive(&queue, 10).await?), ["queue-delay"]);
    h.advance_secs(10);
    assert_eq!(bodies(&h.receive(&queue, 10).await?), ["message-delay"]);

    assert!(matches!(
        h.engine
            .send_message(
                &h.caller,
                &queue,
                SendMessageInput {
                    delay_seconds: Some(901),
                    ..body_input("x")
                },
            )
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    Ok(())
}

#[tokio::test]
async fn messages_past_retention_are_expired_by_maintenance_and_never_delivered() -> TestResult {
    let h = Harness::new().await?;
    let queue = h
        .queue("short", &[("MessageRetentionPeriod", "60")])
        .await?;
    h.send(&queue, "old").await?;
    h.advance_secs(30);
    h.send(&queue, "young").await?;
    h.advance_secs(31);
    h.engine.run_maintenance().await?;
    assert_eq!(h.count(&queue, "ApproximateNumberOfMessages").await?, 1);
    assert_eq!(bodies(&h.receive(&queue, 10).await?), ["young"]);
    Ok(())
}

#[tokio::test]
async fn message_validation_errors_match_sqs() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("strict", &[("MaximumMessageSize", "1024")]).await?;
    let send = |input: SendMessageInput| h.engine.send_message(&h.caller, &queue, input);

    assert!(matches!(
        send(body_input("")).await,
        Err(Error::MissingParameter(ref m)) if m == "The request must contain the parameter MessageBody."
    ));
    assert!(matches!(
        send(body_input("bad \u{1}")).await,
        Err(Error::InvalidMessageContents(_))
    ));
    assert!(matches!(
        send(body_input(&"x".repeat(1025))).await,
        Err(Error::InvalidParameterValue(ref m))
            if m == "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    ));
    send(body_input(&"x".repeat(1024))).await?;

    // Attribute names, types and values count toward the size.
    let mut attributes = MessageAttributes::new();
    attributes.insert("k".to_string(), string_attribute("v"));
    assert!(matches!(
        send(SendMessageInput {
            message_attributes: attributes.clone(),
            ..body_input(&"x".repeat(1020))
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));

    let mut empty_value = MessageAttributes::new();
    empty_value.insert("k".to_string(), string_attribute(""));
    assert!(matches!(
        send(SendMessageInput { message_attributes: empty_value, ..body_input("x") }).await,
        Err(Error::InvalidParameterValue(ref m))
            if m == "Message (user) attribute 'k' must contain a non-empty value of message attribute type 'String'."
    ));
    let mut reserved = MessageAttributes::new();
    reserved.insert("AWS.thing".to_string(), string_attribute("v"));
    assert!(matches!(
        send(SendMessageInput {
            message_attributes: reserved,
            ..body_input("x")
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    let mut bad_number = MessageAttributes::new();
    bad_number.insert(
        "n".to_string(),
        MessageAttributeValue {
            data_type: "Number".to_string(),
            string_value: Some("twelve".to_string()),
            ..Default::default()
        },
    );
    assert!(matches!(
        send(SendMessageInput {
            message_attributes: bad_number,
            ..body_input("x")
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    let too_many: MessageAttributes = (0..11)
        .map(|i| (format!("a{i}"), string_attribute("v")))
        .collect();
    assert!(matches!(
        send(SendMessageInput {
            message_attributes: too_many,
            ..body_input("x")
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    let mut system = MessageAttributes::new();
    system.insert("SenderId".to_string(), string_attribute("me"));
    assert!(matches!(
        send(SendMessageInput {
            message_system_attributes: system,
            ..body_input("x")
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    assert!(matches!(
        send(SendMessageInput {
            message_deduplication_id: Some("d".to_string()),
            ..body_input("x")
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    Ok(())
}

#[tokio::test]
async fn attribute_digests_match_sqs_and_receive_filters_attributes() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("digests", &[]).await?;
    let attributes: MessageAttributes =
        [("General", "Kenobi"), ("Hello", "There"), ("Help.Me", "Me")]
            .iter()
            .map(|(k, v)| (k.to_string(), string_attribute(v)))
            .collect();
    let mut trace = MessageAttributes::new();
    trace.insert("AWSTraceHeader".to_string(), string_attribute("Root=1-abc"));
    let sent = h
        .engine
        .send_message(
            &h.caller,
            &queue,
            SendMessageInput {
                message_attributes: attributes,
                message_system_attributes: trace,
                ..body_input("msg")
            },
        )
        .await?;
    assert_eq!(sent.md5_of_message_body, "6e2baaf3b97dbeef01c0043275f9a0e7");
    assert_eq!(
        sent.md5_of_message_attributes.as_deref(),
        Some("4c360f3fdafd970e05fae2f149d997f5")
    );
    assert!(sent.md5_of_message_system_attributes.is_some());
    assert_eq!(sent.sequence_number, None);

    let received = h
        .engine
        .receive_message(
            &queue,
            ReceiveMessageInput {
                message_attribute_names: vec!["Help.*".to_string(), "Hello".to_string()],
                attribute_names: vec!["AWSTraceHeader".to_string()],
                visibility_timeout: Some(0),
                ..Default::default()
            },
        )
        .await?
        .remove(0);
    let names: Vec<_> = received.message_attributes.keys().cloned().collect();
    assert_eq!(names, ["Hello", "Help.Me"]);
    assert_eq!(
        received.md5_of_message_attributes.as_deref(),
        Some("83fee93c1bcd8b9a5a923ffacdc636c7")
    );
    assert_eq!(
        received.attributes,
        map(&[("AWSTraceHeader", "Root=1-abc")])
    );

    let bare = h.receive(&queue, 1).await?.remove(0);
    assert_eq!(
        bare.md5_of_message_attributes.as_deref(),
        Some("4c360f3fdafd970e05fae2f149d997f5")
    );
    Ok(())
}

#[tokio::test]
async fn batch_requests_are_validated_as_a_whole() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("batches", &[]).await?;
    let entry = |id: &str, body: &str| BatchEntry {
        id: id.to_string(),
        input: body_input(body),
    };
    let send = |entries| h.engine.send_message_batch(&h.caller, &queue, entries);
    assert!(matches!(
        send(vec![]).await,
        Err(Error::EmptyBatchRequest(_))
    ));
    let eleven = (0..11).map(|i| entry(&format!("e{i}"), "x")).collect();
    assert!(matches!(
        send(eleven).await,
        Err(Error::TooManyEntriesInBatchRequest(ref m))
            if m == "Maximum number of entries per request are 10. You have sent 11."
    ));
    assert!(matches!(
        send(vec![entry("same", "a"), entry("same", "b")]).await,
        Err(Error::BatchEntryIdsNotDistinct(_))
    ));
    assert!(matches!(
        send(vec![entry("bad:id", "a")]).await,
        Err(Error::InvalidBatchEntryId(_))
    ));
    let big = "x".repeat(600_000);
    assert!(matches!(
        send(vec![entry("a", &big), entry("b", &big)]).await,
        Err(Error::BatchRequestTooLong(_))
    ));
    assert_eq!(h.count(&queue, "ApproximateNumberOfMessages").await?, 0);
    assert!(matches!(
        h.engine.delete_message_batch(&queue, vec![]).await,
        Err(Error::EmptyBatchRequest(_))
    ));
    Ok(())
}

#[tokio::test]
async fn batch_entries_fail_individually() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("partial", &[]).await?;
    let entries = vec![
        BatchEntry {
            id: "ok1".to_string(),
            input: body_input("first"),
        },
        BatchEntry {
            id: "empty".to_string(),
            input: body_input(""),
        },
        BatchEntry {
            id: "ok2".to_string(),
            input: body_input("second"),
        },
    ];
    let output = h
        .engine
        .send_message_batch(&h.caller, &queue, entries)
        .await?;
    let ok: Vec<_> = output
        .successful
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(ok, ["ok1", "ok2"]);
    assert_eq!(output.failed.len(), 1);
    assert_eq!(output.failed[0].id, "empty");
    assert_eq!(output.failed[0].code, "MissingParameter");
    assert!(output.failed[0].sender_fault);

    let received = h.receive(&queue, 10).await?;
    assert_eq!(received.len(), 2);
    let mut delete_entries: Vec<_> = received
        .iter()
        .enumerate()
        .map(|(i, m)| BatchEntry {
            id: format!("d{i}"),
            input: m.receipt_handle.clone(),
        })
        .collect();
    delete_entries.push(BatchEntry {
        id: "junk".to_string(),
        input: "junk".to_string(),
    });
    let deleted = h
        .engine
        .delete_message_batch(&queue, delete_entries)
        .await?;
    assert_eq!(deleted.successful.len(), 2);
    assert_eq!(deleted.failed.len(), 1);
    assert_eq!(deleted.failed[0].code, "ReceiptHandleIsInvalid");

    let changes = vec![BatchEntry {
        id: "gone".to_string(),
        input: ChangeVisibilityInput {
            receipt_handle: received[0].receipt_handle.clone(),
            visibility_timeout: 5,
        },
    }];
    let changed = h
        .engine
        .change_message_visibility_batch(&queue, changes)
        .await?;
    assert_eq!(changed.failed.len(), 1);
    assert_eq!(changed.failed[0].code, "InvalidParameterValue");
    Ok(())
}

#[tokio::test]
async fn receive_parameters_are_range_checked() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("ranges", &[]).await?;
    let receive = |input: ReceiveMessageInput| h.engine.receive_message(&queue, input);
    assert!(matches!(
        receive(ReceiveMessageInput { max_number_of_messages: Some(11), ..Default::default() }).await,
        Err(Error::InvalidParameterValue(ref m))
            if m == "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
    ));
    assert!(matches!(
        receive(ReceiveMessageInput {
            wait_time_seconds: Some(21),
            ..Default::default()
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    assert!(matches!(
        receive(ReceiveMessageInput {
            visibility_timeout: Some(-1),
            ..Default::default()
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    Ok(())
}

#[tokio::test]
async fn long_poll_wakes_promptly_when_a_message_is_sent() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("waiting", &[]).await?;
    let engine = h.engine.clone();
    let waiting_queue = queue.clone();
    let started = std::time::Instant::now();
    let receiver = tokio::spawn(async move {
        engine
            .receive_message(
                &waiting_queue,
                ReceiveMessageInput {
                    wait_time_seconds: Some(10),
                    ..Default::default()
                },
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.send(&queue, "wake up").await?;
    let received = tokio::time::timeout(Duration::from_secs(5), receiver).await???;
    assert_eq!(bodies(&received), ["wake up"]);
    assert!(started.elapsed() < Duration::from_secs(5));
    Ok(())
}

/// A send wakes one waiting receive per message rather than all of them; this pins down
/// that no message is stranded while receives sleep, also with a receive abandoned
/// while it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sent_message_reaches_one_of_many_waiting_receives() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("crowd", &[]).await?;
    let spawn_receive = |wait: i64| {
        let engine = h.engine.clone();
        let queue = queue.clone();
        tokio::spawn(async move {
            engine
                .receive_message(
                    &queue,
                    ReceiveMessageInput {
                        wait_time_seconds: Some(wait),
                        ..Default::default()
                    },
                )
                .await
        })
    };
    // One receive that is abandoned while it waits, like a client that hangs up.
    let abandoned = spawn_receive(20);
    let receivers: Vec<_> = (0..8).map(|_| spawn_receive(15)).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    abandoned.abort();
    let started = std::time::Instant::now();
    for n in 0..8 {
        h.send(&queue, &format!("m{n}")).await?;
    }
    let mut received = Vec::new();
    for receiver in receivers {
        let messages = tokio::time::timeout(Duration::from_secs(10), receiver).await???;
        received.extend(bodies(&messages).into_iter().map(str::to_string));
    }
    received.sort();
    assert_eq!(
        received,
        (0..8).map(|n| format!("m{n}")).collect::<Vec<_>>()
    );
    // Every receive got its message well before its 15 s wait ran out.
    assert!(started.elapsed() < Duration::from_secs(10));
    Ok(())
}

#[tokio::test]
async fn long_poll_returns_empty_after_its_wait_and_on_shutdown() -> TestResult {
    let h = Harness::new().await?;
    let queue = h
        .queue("quiet", &[("ReceiveMessageWaitTimeSeconds", "1")])
        .await?;
    let started = std::time::Instant::now();
    let received = h
        .engine
        .receive_message(&queue, ReceiveMessageInput::default())
        .await?;
    assert!(received.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900));

    let engine = h.engine.clone();
    let waiting_queue = queue.clone();
    let receiver = tokio::spawn(async move {
        engine
            .receive_message(
                &waiting_queue,
                ReceiveMessageInput {
                    wait_time_seconds: Some(20),
                    ..Default::default()
                },
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.shutdown.cancel();
    let received = tokio::time::timeout(Duration::from_secs(5), receiver).await???;
    assert!(received.is_empty());
    Ok(())
}
