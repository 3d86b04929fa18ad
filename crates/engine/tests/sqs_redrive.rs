//! Dead-letter redrive and message move tasks through the Engine API.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, TestResult, bodies};
use engine::Error;
use engine::sqs::{CreateQueueInput, QueueRef, StartMessageMoveTaskInput};

const ACCOUNT: &str = "000000000000";

fn arn(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}")
}

/// A source queue that dead-letters after `max_receive_count` receives into `dlq`.
async fn source_with_dlq(h: &Harness, max_receive_count: u32) -> TestResult<(QueueRef, QueueRef)> {
    let dlq = h.queue("dlq", &[]).await?;
    let policy = format!(
        r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":{max_receive_count}}}"#,
        arn("dlq")
    );
    let source = h
        .queue(
            "source",
            &[
                ("RedrivePolicy", policy.as_str()),
                ("VisibilityTimeout", "10"),
            ],
        )
        .await?;
    Ok((source, dlq))
}

#[tokio::test]
async fn message_moves_to_the_dead_letter_queue_after_max_receive_count() -> TestResult {
    let h = Harness::new().await?;
    let (source, dlq) = source_with_dlq(&h, 2).await?;
    let sent = h.send(&source, "poison").await?;
    for _ in 0..2 {
        assert_eq!(h.receive(&source, 1).await?.len(), 1);
        h.advance_secs(10);
    }
    // The third receive finds the message over its limit and moves it instead.
    assert!(h.receive(&source, 1).await?.is_empty());
    let dead = h.receive(&dlq, 1).await?;
    assert_eq!(bodies(&dead), ["poison"]);
    assert_eq!(dead[0].message_id, sent.message_id);
    assert_eq!(
        dead[0].attributes["DeadLetterQueueSourceArn"],
        arn("source")
    );
    assert_eq!(dead[0].attributes["ApproximateReceiveCount"], "1");
    Ok(())
}

#[tokio::test]
async fn move_task_moves_dead_letters_back_to_their_source() -> TestResult {
    let h = Harness::new().await?;
    let (source, dlq) = source_with_dlq(&h, 1).await?;
    for body in ["one", "two", "three"] {
        h.send(&source, body).await?;
    }
    h.receive(&source, 10).await?;
    h.advance_secs(10);
    assert!(h.receive(&source, 10).await?.is_empty());
    assert_eq!(h.count(&dlq, "ApproximateNumberOfMessages").await?, 3);

    h.advance_secs(1);
    let handle = h
        .engine
        .start_message_move_task(
            &h.caller,
            StartMessageMoveTaskInput {
                source_arn: arn("dlq"),
                destination_arn: None,
                max_number_of_messages_per_second: Some(2),
            },
        )
        .await?;
    // Only one active task per source.
    assert!(matches!(
        h.engine
            .start_message_move_task(
                &h.caller,
                StartMessageMoveTaskInput {
                    source_arn: arn("dlq"),
                    ..Default::default()
                },
            )
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    let tasks = h
        .engine
        .list_message_move_tasks(&h.caller, &arn("dlq"), None)
        .await?;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].status, "RUNNING");
    assert_eq!(tasks[0].task_handle.as_deref(), Some(handle.as_str()));
    assert_eq!(tasks[0].approximate_number_of_messages_to_move, Some(3));

    // At two messages per second, the first pass moves two.
    h.engine.run_maintenance().await?;
    assert_eq!(h.count(&source, "ApproximateNumberOfMessages").await?, 2);
    h.engine.run_maintenance().await?;
    h.engine.run_maintenance().await?;
    let tasks = h
        .engine
        .list_message_move_tasks(&h.caller, &arn("dlq"), Some(10))
        .await?;
    assert_eq!(tasks[0].status, "COMPLETED");
    assert_eq!(tasks[0].approximate_number_of_messages_moved, 3);
    assert_eq!(tasks[0].task_handle, None);
    assert_eq!(h.count(&dlq, "ApproximateNumberOfMessages").await?, 0);
    let mut back = bodies(&h.receive(&source, 10).await?)
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    back.sort();
    assert_eq!(back, ["one", "three", "two"]);

    assert!(matches!(
        h.engine.cancel_message_move_task(&h.caller, &handle).await,
        Err(Error::ResourceNotFound(_))
    ));
    Ok(())
}

#[tokio::test]
async fn move_task_can_be_cancelled_and_needs_a_dead_letter_queue_source() -> TestResult {
    let h = Harness::new().await?;
    let (_source, _dlq) = source_with_dlq(&h, 1).await?;
    let other = h.queue("other", &[]).await?;
    assert!(matches!(
        h.engine
            .start_message_move_task(
                &h.caller,
                StartMessageMoveTaskInput {
                    source_arn: arn("other"),
                    ..Default::default()
                },
            )
            .await,
        Err(Error::InvalidParameterValue(ref m)) if m == "Source queue must be configured as a Dead Letter Queue."
    ));
    assert!(matches!(
        h.engine
            .start_message_move_task(
                &h.caller,
                StartMessageMoveTaskInput {
                    source_arn: arn("missing"),
                    ..Default::default()
                },
            )
            .await,
        Err(Error::ResourceNotFound(_))
    ));
    assert!(matches!(
        h.engine
            .start_message_move_task(
                &h.caller,
                StartMessageMoveTaskInput {
                    source_arn: arn("dlq"),
                    max_number_of_messages_per_second: Some(501),
                    ..Default::default()
                },
            )
            .await,
        Err(Error::InvalidParameterValue(_))
    ));

    let handle = h
        .engine
        .start_message_move_task(
            &h.caller,
            StartMessageMoveTaskInput {
                source_arn: arn("dlq"),
                destination_arn: Some(arn("other")),
                max_number_of_messages_per_second: None,
            },
        )
        .await?;
    assert_eq!(
        h.engine
            .cancel_message_move_task(&h.caller, &handle)
            .await?,
        0
    );
    h.engine.run_maintenance().await?;
    let tasks = h
        .engine
        .list_message_move_tasks(&h.caller, &arn("dlq"), None)
        .await?;
    assert_eq!(tasks[0].status, "CANCELLED");
    assert_eq!(
        tasks[0].destination_arn.as_deref(),
        Some(arn("other").as_str())
    );
    assert_eq!(h.count(&other, "ApproximateNumberOfMessages").await?, 0);
    assert!(matches!(
        h.engine
            .cancel_message_move_task(&h.caller, "garbage")
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    Ok(())
}

#[tokio::test]
async fn redrive_allow_policy_decides_which_sources_may_use_a_dead_letter_queue() -> TestResult {
    let h = Harness::new().await?;
    let policy = |dlq: &str| {
        format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":3}}"#,
            arn(dlq)
        )
    };
    h.queue(
        "closed-dlq",
        &[("RedriveAllowPolicy", r#"{"redrivePermission":"denyAll"}"#)],
    )
    .await?;
    let listed = format!(
        r#"{{"redrivePermission":"byQueue","sourceQueueArns":["{}"]}}"#,
        arn("allowed")
    );
    h.queue("listed-dlq", &[("RedriveAllowPolicy", listed.as_str())])
        .await?;

    let create = |name: &str, dlq: &str| {
        h.engine.create_queue(
            &h.caller,
            CreateQueueInput {
                name: name.to_string(),
                attributes: [("RedrivePolicy".to_string(), policy(dlq))].into(),
                tags: Default::default(),
            },
        )
    };
    let denied = create("any", "closed-dlq").await;
    assert!(
        matches!(denied, Err(Error::InvalidParameterValue(ref m)) if m.contains("RedriveAllowPolicy")),
        "{denied:?}"
    );
    let not_listed = create("other", "listed-dlq").await;
    assert!(
        matches!(not_listed, Err(Error::InvalidParameterValue(_))),
        "{not_listed:?}"
    );
    h.queue(
        "allowed",
        &[("RedrivePolicy", policy("listed-dlq").as_str())],
    )
    .await?;
    Ok(())
}
