//! FIFO behaviour through the Engine API: group ordering and blocking, deduplication
//! windows (explicit, content-based, per group), FIFO-only parameter rules.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, TestResult, bodies, body_input};
use engine::Error;
use engine::sqs::{BatchEntry, SendMessageInput};

#[tokio::test]
async fn fifo_delivers_a_group_in_order_and_holds_it_while_in_flight() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.fifo_queue("orders.fifo", &[]).await?;
    for (body, group) in [("a1", "a"), ("a2", "a"), ("b1", "b"), ("a3", "a")] {
        h.send_to_group(&queue, body, group, Some(body)).await?;
    }
    let first = h.receive(&queue, 1).await?;
    assert_eq!(bodies(&first), ["a1"]);
    assert_eq!(first[0].attributes["MessageGroupId"], "a");
    assert_eq!(first[0].attributes["MessageDeduplicationId"], "a1");
    assert_eq!(first[0].attributes["SequenceNumber"].len(), 20);

    // Group a is held while a1 is in flight; only b is offered.
    let second = h.receive(&queue, 10).await?;
    assert_eq!(bodies(&second), ["b1"]);
    assert!(h.receive(&queue, 10).await?.is_empty());

    h.engine
        .delete_message(&queue, &first[0].receipt_handle)
        .await?;
    let rest = h.receive(&queue, 10).await?;
    assert_eq!(bodies(&rest), ["a2", "a3"]);
    Ok(())
}

#[tokio::test]
async fn fifo_sequence_numbers_increase_and_match_on_receive() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.fifo_queue("seq.fifo", &[]).await?;
    let one = h.send_to_group(&queue, "1", "g", Some("1")).await?;
    let two = h.send_to_group(&queue, "2", "g", Some("2")).await?;
    let (one_seq, two_seq) = (
        one.sequence_number.ok_or("no sequence")?,
        two.sequence_number.ok_or("no sequence")?,
    );
    assert_eq!(one_seq.len(), 20);
    assert!(one_seq < two_seq);
    let received = h.receive(&queue, 10).await?;
    assert_eq!(received[0].attributes["SequenceNumber"], one_seq);
    assert_eq!(received[1].attributes["SequenceNumber"], two_seq);
    Ok(())
}

#[tokio::test]
async fn duplicate_within_five_minutes_returns_the_original_and_is_accepted_after() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.fifo_queue("dedup.fifo", &[]).await?;
    let original = h.send_to_group(&queue, "body", "g", Some("d1")).await?;
    h.advance_secs(299);
    let duplicate = h
        .send_to_group(&queue, "other body", "g", Some("d1"))
        .await?;
    assert_eq!(duplicate.message_id, original.message_id);
    assert_eq!(duplicate.sequence_number, original.sequence_number);
    assert_eq!(h.count(&queue, "ApproximateNumberOfMessages").await?, 1);

    h.advance_secs(2);
    h.engine.run_maintenance().await?;
    let later = h.send_to_group(&queue, "body", "g", Some("d1")).await?;
    assert_ne!(later.message_id, original.message_id);
    assert_eq!(h.count(&queue, "ApproximateNumberOfMessages").await?, 2);
    Ok(())
}

#[tokio::test]
async fn content_based_deduplication_uses_the_body_hash() -> TestResult {
    let h = Harness::new().await?;
    let queue = h
        .fifo_queue("content.fifo", &[("ContentBasedDeduplication", "true")])
        .await?;
    let first = h.send_to_group(&queue, "same", "g", None).await?;
    let second = h.send_to_group(&queue, "same", "g", None).await?;
    let third = h.send_to_group(&queue, "different", "g", None).await?;
    assert_eq!(first.message_id, second.message_id);
    assert_ne!(first.message_id, third.message_id);
    let received = h.receive(&queue, 10).await?;
    assert_eq!(bodies(&received), ["same", "different"]);
    assert_eq!(
        received[0].attributes["MessageDeduplicationId"],
        "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5"
    );
    Ok(())
}

#[tokio::test]
async fn message_group_deduplication_scope_keeps_groups_apart() -> TestResult {
    let h = Harness::new().await?;
    let queue = h
        .fifo_queue(
            "scoped.fifo",
            &[
                ("DeduplicationScope", "messageGroup"),
                ("FifoThroughputLimit", "perMessageGroupId"),
            ],
        )
        .await?;
    let a = h.send_to_group(&queue, "x", "a", Some("same")).await?;
    let b = h.send_to_group(&queue, "x", "b", Some("same")).await?;
    assert_ne!(a.message_id, b.message_id);
    Ok(())
}

#[tokio::test]
async fn fifo_send_requires_group_and_deduplication_and_refuses_per_message_delay() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.fifo_queue("rules.fifo", &[]).await?;
    let send = |input: SendMessageInput| h.engine.send_message(&h.caller, &queue, input);
    assert!(matches!(
        send(SendMessageInput {
            message_deduplication_id: Some("d".to_string()),
            ..body_input("x")
        })
        .await,
        Err(Error::MissingParameter(ref m)) if m == "The request must contain the parameter MessageGroupId."
    ));
    assert!(matches!(
        send(SendMessageInput {
            message_group_id: Some("g".to_string()),
            ..body_input("x")
        })
        .await,
        Err(Error::InvalidParameterValue(ref m))
            if m == "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    ));
    assert!(matches!(
        send(SendMessageInput {
            message_group_id: Some("g".to_string()),
            message_deduplication_id: Some("d".to_string()),
            delay_seconds: Some(2),
            ..body_input("x")
        })
        .await,
        Err(Error::InvalidParameterValue(ref m))
            if m == "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
    ));
    assert!(matches!(
        send(SendMessageInput {
            message_group_id: Some("g".repeat(129)),
            message_deduplication_id: Some("d".to_string()),
            ..body_input("x")
        })
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    // Delay 0 is allowed on FIFO queues.
    send(SendMessageInput {
        message_group_id: Some("g".to_string()),
        message_deduplication_id: Some("d".to_string()),
        delay_seconds: Some(0),
        ..body_input("x")
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn fifo_batch_reports_missing_group_per_entry() -> TestResult {
    let h = Harness::new().await?;
    let queue = h
        .fifo_queue("batch.fifo", &[("ContentBasedDeduplication", "true")])
        .await?;
    let output = h
        .engine
        .send_message_batch(
            &h.caller,
            &queue,
            vec![
                BatchEntry {
                    id: "good".to_string(),
                    input: SendMessageInput {
                        message_group_id: Some("g".to_string()),
                        ..body_input("one")
                    },
                },
                BatchEntry {
                    id: "nogroup".to_string(),
                    input: body_input("two"),
                },
            ],
        )
        .await?;
    assert_eq!(output.successful.len(), 1);
    assert!(output.successful[0].1.sequence_number.is_some());
    assert_eq!(output.failed[0].id, "nogroup");
    assert_eq!(output.failed[0].code, "MissingParameter");
    Ok(())
}

#[tokio::test]
async fn fifo_delete_with_an_expired_receipt_is_refused() -> TestResult {
    let h = Harness::new().await?;
    let queue = h
        .fifo_queue("expired.fifo", &[("VisibilityTimeout", "5")])
        .await?;
    h.send_to_group(&queue, "x", "g", Some("x")).await?;
    let old = h.receive(&queue, 1).await?.remove(0);
    h.advance_secs(5);
    let current = h.receive(&queue, 1).await?.remove(0);
    assert!(matches!(
        h.engine.delete_message(&queue, &old.receipt_handle).await,
        Err(Error::InvalidParameterValue(_))
    ));
    h.engine
        .delete_message(&queue, &current.receipt_handle)
        .await?;
    Ok(())
}
