//! Queue lifecycle and attribute behaviour through the Engine API: create idempotence and
//! conflicts, deleted-recently, attribute validation and defaults, purge, tags, listing.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, TestResult, map};
use engine::Error;
use engine::sqs::{AddPermissionInput, CreateQueueInput, ListQueuesInput};

#[tokio::test]
async fn create_queue_is_idempotent_with_same_attributes_and_conflicts_otherwise() -> TestResult {
    let h = Harness::new().await?;
    let first = h.queue("orders", &[("DelaySeconds", "5")]).await?;
    let again = h.queue("orders", &[("DelaySeconds", "5")]).await?;
    assert_eq!(first, again);
    // No attributes named: the existing queue is returned.
    assert_eq!(h.queue("orders", &[]).await?, first);

    let conflict = h.queue("orders", &[("DelaySeconds", "6")]).await;
    match conflict {
        Err(e) => match e.downcast_ref::<Error>() {
            Some(Error::QueueNameExists(message)) => assert_eq!(
                message,
                "A queue already exists with the same name and a different value for attribute DelaySeconds"
            ),
            other => panic!("unexpected error {other:?}"),
        },
        Ok(_) => panic!("conflicting create succeeded"),
    }
    Ok(())
}

#[tokio::test]
async fn recreating_a_queue_within_60_seconds_of_deletion_fails() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("short-lived", &[]).await?;
    h.engine.delete_queue(&queue).await?;
    assert!(matches!(
        h.engine.get_queue_url(&h.caller, "short-lived", None).await,
        Err(Error::QueueDoesNotExist)
    ));
    let early = h
        .engine
        .create_queue(
            &h.caller,
            CreateQueueInput {
                name: "short-lived".to_string(),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(
        early,
        Err(Error::QueueDeletedRecently(ref m))
            if m == "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    ));
    h.advance_secs(61);
    h.queue("short-lived", &[]).await?;
    Ok(())
}

#[tokio::test]
async fn queue_names_and_fifo_attribute_are_validated() -> TestResult {
    let h = Harness::new().await?;
    let create = |name: &str, attrs: &[(&str, &str)]| {
        h.engine.create_queue(
            &h.caller,
            CreateQueueInput {
                name: name.to_string(),
                attributes: map(attrs),
                ..Default::default()
            },
        )
    };
    assert!(matches!(
        create("bad name", &[]).await,
        Err(Error::InvalidParameterValue(ref m))
            if m == "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    ));
    assert!(matches!(
        create("jobs.fifo", &[]).await,
        Err(Error::InvalidParameterValue(_))
    ));
    assert!(matches!(
        create("jobs", &[("FifoQueue", "true")]).await,
        Err(Error::InvalidParameterValue(ref m)) if m.starts_with("The name of a FIFO queue")
    ));
    assert!(matches!(
        create("jobs", &[("FifoQueue", "false")]).await,
        Err(Error::InvalidAttributeName(_))
    ));
    assert!(matches!(
        create(
            &format!("{}.fifo", "a".repeat(76)),
            &[("FifoQueue", "true")]
        )
        .await,
        Err(Error::InvalidParameterValue(_))
    ));
    create(
        &format!("{}.fifo", "a".repeat(75)),
        &[("FifoQueue", "true")],
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn attribute_values_outside_their_ranges_are_rejected() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("settings", &[]).await?;
    for (name, value) in [
        ("DelaySeconds", "901"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("MessageRetentionPeriod", "59"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("VisibilityTimeout", "-1"),
        ("VisibilityTimeout", "ten"),
        ("KmsDataKeyReusePeriodSeconds", "59"),
    ] {
        let result = h
            .engine
            .set_queue_attributes(&queue, map(&[(name, value)]))
            .await;
        match result {
            Err(Error::InvalidAttributeValue(message)) => {
                assert_eq!(message, format!("Invalid value for the parameter {name}."))
            }
            other => panic!("{name}={value}: unexpected {other:?}"),
        }
    }
    assert!(matches!(
        h.engine
            .set_queue_attributes(&queue, map(&[("Colour", "blue")]))
            .await,
        Err(Error::InvalidAttributeName(ref m)) if m == "Unknown Attribute Colour."
    ));
    assert!(matches!(
        h.engine
            .set_queue_attributes(&queue, map(&[("ContentBasedDeduplication", "true")]))
            .await,
        Err(Error::InvalidAttributeName(_))
    ));
    assert!(matches!(
        h.engine
            .get_queue_attributes(&queue, &["Colour".to_string()])
            .await,
        Err(Error::InvalidAttributeName(_))
    ));
    Ok(())
}

#[tokio::test]
async fn get_queue_attributes_all_reports_defaults_and_read_only_attributes() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("defaults", &[]).await?;
    let all = h
        .engine
        .get_queue_attributes(&queue, &["All".to_string()])
        .await?;
    let expected = [
        ("DelaySeconds", "0"),
        ("MaximumMessageSize", "1048576"),
        ("MessageRetentionPeriod", "345600"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
        ("SqsManagedSseEnabled", "true"),
        ("ApproximateNumberOfMessages", "0"),
        ("ApproximateNumberOfMessagesNotVisible", "0"),
        ("ApproximateNumberOfMessagesDelayed", "0"),
        ("QueueArn", "arn:aws:sqs:us-east-1:000000000000:defaults"),
    ];
    for (name, value) in expected {
        assert_eq!(all.get(name).map(String::as_str), Some(value), "{name}");
    }
    let created = (common::START / 1000).to_string();
    assert_eq!(all.get("CreatedTimestamp"), Some(&created));
    assert!(!all.contains_key("FifoQueue"));
    assert!(!all.contains_key("RedrivePolicy"));

    let fifo = h.fifo_queue("defaults.fifo", &[]).await?;
    let all = h
        .engine
        .get_queue_attributes(&fifo, &["All".to_string()])
        .await?;
    for (name, value) in [
        ("FifoQueue", "true"),
        ("ContentBasedDeduplication", "false"),
        ("DeduplicationScope", "queue"),
        ("FifoThroughputLimit", "perQueue"),
    ] {
        assert_eq!(all.get(name).map(String::as_str), Some(value), "{name}");
    }
    Ok(())
}

#[tokio::test]
async fn setting_attributes_updates_last_modified_timestamp() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("modified", &[]).await?;
    h.advance_secs(100);
    h.engine
        .set_queue_attributes(&queue, map(&[("VisibilityTimeout", "60")]))
        .await?;
    assert_eq!(
        h.attribute(&queue, "LastModifiedTimestamp").await?,
        Some((common::START / 1000 + 100).to_string())
    );
    assert_eq!(
        h.attribute(&queue, "VisibilityTimeout").await?.as_deref(),
        Some("60")
    );
    Ok(())
}

#[tokio::test]
async fn redrive_policy_needs_an_existing_dead_letter_queue_of_the_same_type() -> TestResult {
    let h = Harness::new().await?;
    let source = h.queue("source", &[]).await?;
    let missing = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nowhere","maxReceiveCount":3}"#;
    assert!(matches!(
        h.engine.set_queue_attributes(&source, map(&[("RedrivePolicy", missing)])).await,
        Err(Error::InvalidParameterValue(ref m)) if m.ends_with("Reason: Dead letter target does not exist.")
    ));
    h.fifo_queue("dlq.fifo", &[]).await?;
    let wrong_type = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq.fifo","maxReceiveCount":3}"#;
    assert!(matches!(
        h.engine
            .set_queue_attributes(&source, map(&[("RedrivePolicy", wrong_type)]))
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    h.queue("dlq", &[]).await?;
    let good =
        r#"{"maxReceiveCount":"3","deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"}"#;
    h.engine
        .set_queue_attributes(&source, map(&[("RedrivePolicy", good)]))
        .await?;
    assert_eq!(
        h.attribute(&source, "RedrivePolicy").await?.as_deref(),
        Some(
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}"#
        )
    );
    let dlq = h.engine.get_queue_url(&h.caller, "dlq", None).await?;
    let sources = h
        .engine
        .list_dead_letter_source_queues(&dlq, None, None)
        .await?;
    assert_eq!(sources.queues, vec![source.clone()]);
    // An empty value removes the policy.
    h.engine
        .set_queue_attributes(&source, map(&[("RedrivePolicy", "")]))
        .await?;
    assert_eq!(h.attribute(&source, "RedrivePolicy").await?, None);
    Ok(())
}

#[tokio::test]
async fn purge_is_allowed_once_per_60_seconds() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("purgeable", &[]).await?;
    h.send(&queue, "one").await?;
    h.engine.purge_queue(&queue).await?;
    assert_eq!(h.count(&queue, "ApproximateNumberOfMessages").await?, 0);
    assert!(matches!(
        h.engine.purge_queue(&queue).await,
        Err(Error::PurgeQueueInProgress(ref m))
            if m == "Only one PurgeQueue operation on purgeable is allowed every 60 seconds."
    ));
    h.advance_secs(60);
    h.engine.purge_queue(&queue).await?;
    Ok(())
}

#[tokio::test]
async fn list_queues_filters_by_prefix_and_pages_only_with_max_results() -> TestResult {
    let h = Harness::new().await?;
    for name in ["a1", "a2", "a3", "b1"] {
        h.queue(name, &[]).await?;
    }
    let all = h
        .engine
        .list_queues(&h.caller, ListQueuesInput::default())
        .await?;
    assert_eq!(all.queues.len(), 4);
    assert_eq!(all.next_token, None);

    let first = h
        .engine
        .list_queues(
            &h.caller,
            ListQueuesInput {
                prefix: Some("a".to_string()),
                max_results: Some(2),
                next_token: None,
            },
        )
        .await?;
    let names: Vec<_> = first.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["a1", "a2"]);
    let second = h
        .engine
        .list_queues(
            &h.caller,
            ListQueuesInput {
                prefix: Some("a".to_string()),
                max_results: Some(2),
                next_token: first.next_token,
            },
        )
        .await?;
    let names: Vec<_> = second.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["a3"]);
    assert_eq!(second.next_token, None);
    assert!(matches!(
        h.engine
            .list_queues(
                &h.caller,
                ListQueuesInput {
                    max_results: Some(0),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    Ok(())
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("tagged", &[]).await?;
    h.engine
        .tag_queue(&queue, map(&[("team", "core"), ("env", "dev")]))
        .await?;
    h.engine
        .untag_queue(&queue, vec!["env".to_string()])
        .await?;
    assert_eq!(
        h.engine.list_queue_tags(&queue).await?,
        map(&[("team", "core")])
    );
    let too_many: Vec<(String, String)> = (0..50)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    assert!(matches!(
        h.engine
            .tag_queue(&queue, too_many.into_iter().collect())
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    Ok(())
}

#[tokio::test]
async fn permissions_edit_the_queue_policy() -> TestResult {
    let h = Harness::new().await?;
    let queue = h.queue("shared", &[]).await?;
    h.engine
        .add_permission(
            &queue,
            AddPermissionInput {
                label: "readers".to_string(),
                aws_account_ids: vec!["111111111111".to_string()],
                actions: vec!["ReceiveMessage".to_string()],
            },
        )
        .await?;
    let policy: serde_json::Value =
        serde_json::from_str(&h.attribute(&queue, "Policy").await?.ok_or("no policy")?)?;
    assert_eq!(policy["Statement"][0]["Sid"], "readers");
    assert_eq!(policy["Statement"][0]["Action"], "SQS:ReceiveMessage");
    assert_eq!(
        policy["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111111111111:root"
    );
    assert!(matches!(
        h.engine
            .add_permission(
                &queue,
                AddPermissionInput {
                    label: "readers".to_string(),
                    aws_account_ids: vec!["1".to_string()],
                    actions: vec!["SendMessage".to_string()],
                },
            )
            .await,
        Err(Error::InvalidParameterValue(_))
    ));
    h.engine.remove_permission(&queue, "readers").await?;
    assert_eq!(h.attribute(&queue, "Policy").await?, None);
    assert!(matches!(
        h.engine.remove_permission(&queue, "readers").await,
        Err(Error::InvalidParameterValue(_))
    ));
    Ok(())
}
