//! The SNS control plane through the `Engine` API: topics (names, attributes, idempotent
//! creates, pagination, deletion), subscriptions (protocols, endpoint checks, attributes,
//! confirmation state, idempotency, listings) and tags, each with the error AWS gives.

mod common;

use std::collections::BTreeMap;

use common::{Harness, TestResult, map};
use engine::Error;
use engine::sns::types::{CreateTopicInput, SnsCaller, SubscribeInput};

const REGION_PREFIX: &str = "arn:aws:sns:us-east-1:000000000000";

fn caller(h: &Harness) -> SnsCaller {
    SnsCaller {
        account: h.caller.account.clone(),
    }
}

fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:000000000000:{name}")
}

async fn create(h: &Harness, name: &str, attributes: &[(&str, &str)]) -> Result<String, Error> {
    h.engine
        .create_topic(
            &caller(h),
            CreateTopicInput {
                name: name.to_string(),
                attributes: map(attributes),
                ..CreateTopicInput::default()
            },
        )
        .await
}

async fn subscribe(
    h: &Harness,
    topic_arn: &str,
    protocol: &str,
    endpoint: &str,
    attributes: &[(&str, &str)],
) -> Result<String, Error> {
    h.engine
        .subscribe(
            &caller(h),
            SubscribeInput {
                topic_arn: topic_arn.to_string(),
                protocol: protocol.to_string(),
                endpoint: Some(endpoint.to_string()),
                attributes: map(attributes),
                return_subscription_arn: false,
            },
        )
        .await
}

/// The (code-bearing variant name, message) of an error, for compact assertions.
fn invalid_parameter(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::SnsInvalidParameter(message)) => message,
        other => format!("not InvalidParameter: {other:?}"),
    }
}

async fn topic_attributes(h: &Harness, arn: &str) -> TestResult<BTreeMap<String, String>> {
    Ok(h.engine.get_topic_attributes(&caller(h), arn).await?)
}

#[tokio::test]
async fn create_topic_answers_its_arn_and_repeats_idempotently() -> TestResult {
    let h = Harness::new().await?;
    let arn = create(&h, "orders", &[("DisplayName", "Orders")]).await?;
    assert_eq!(arn, format!("{REGION_PREFIX}:orders"));
    assert_eq!(
        create(&h, "orders", &[("DisplayName", "Orders")]).await?,
        arn
    );
    assert_eq!(create(&h, "orders", &[]).await?, arn);
    let different = create(&h, "orders", &[("DisplayName", "Other")]).await;
    assert_eq!(
        invalid_parameter(different),
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
    );
    Ok(())
}

#[tokio::test]
async fn create_topic_with_other_tags_is_refused() -> TestResult {
    let h = Harness::new().await?;
    let input = |tags: &[(&str, &str)]| CreateTopicInput {
        name: "tagged".to_string(),
        tags: map(tags),
        ..CreateTopicInput::default()
    };
    h.engine
        .create_topic(&caller(&h), input(&[("team", "a")]))
        .await?;
    h.engine
        .create_topic(&caller(&h), input(&[("team", "a")]))
        .await?;
    let other = h
        .engine
        .create_topic(&caller(&h), input(&[("team", "b")]))
        .await;
    assert_eq!(
        invalid_parameter(other),
        "Invalid parameter: Tags Reason: Topic already exists with different tags"
    );
    Ok(())
}

#[tokio::test]
async fn topic_names_follow_aws_rules() -> TestResult {
    let h = Harness::new().await?;
    for bad in ["", "a:b", "a b", "a.fifo", &"x".repeat(257)] {
        assert_eq!(
            invalid_parameter(create(&h, bad, &[]).await),
            "Invalid parameter: Topic Name",
            "{bad:?}"
        );
    }
    let no_suffix = create(&h, "events", &[("FifoTopic", "true")]).await;
    assert!(invalid_parameter(no_suffix).starts_with("Fifo Topic names must end with .fifo"));
    create(&h, &"x".repeat(256), &[]).await?;
    Ok(())
}

#[tokio::test]
async fn topic_attributes_are_aws_defaults_plus_what_was_set() -> TestResult {
    let h = Harness::new().await?;
    let arn = create(&h, "plain", &[("SignatureVersion", "2")]).await?;
    let attributes = topic_attributes(&h, &arn).await?;
    assert_eq!(attributes["TopicArn"], arn);
    assert_eq!(attributes["Owner"], "000000000000");
    assert_eq!(attributes["DisplayName"], "");
    assert_eq!(attributes["SignatureVersion"], "2");
    assert_eq!(attributes["SubscriptionsConfirmed"], "0");
    assert_eq!(attributes["SubscriptionsPending"], "0");
    assert_eq!(attributes["SubscriptionsDeleted"], "0");
    let policy: serde_json::Value = serde_json::from_str(&attributes["Policy"])?;
    assert_eq!(policy["Id"], "__default_policy_ID");
    assert_eq!(policy["Statement"][0]["Resource"], arn.as_str());
    let effective: serde_json::Value =
        serde_json::from_str(&attributes["EffectiveDeliveryPolicy"])?;
    assert_eq!(
        effective["http"]["defaultHealthyRetryPolicy"]["numRetries"],
        3
    );
    assert!(!attributes.contains_key("FifoTopic"));
    assert!(!attributes.contains_key("ContentBasedDeduplication"));
    Ok(())
}

#[tokio::test]
async fn fifo_topics_report_fifo_attributes() -> TestResult {
    let h = Harness::new().await?;
    let arn = create(&h, "events.fifo", &[("FifoTopic", "true")]).await?;
    let attributes = topic_attributes(&h, &arn).await?;
    assert_eq!(attributes["FifoTopic"], "true");
    assert_eq!(attributes["ContentBasedDeduplication"], "false");
    h.engine
        .set_topic_attributes(
            &caller(&h),
            &arn,
            "ContentBasedDeduplication",
            Some("TRUE".to_string()),
        )
        .await?;
    assert_eq!(
        topic_attributes(&h, &arn).await?["ContentBasedDeduplication"],
        "true"
    );
    let change_fifo = h
        .engine
        .set_topic_attributes(&caller(&h), &arn, "FifoTopic", Some("false".to_string()))
        .await;
    assert_eq!(
        invalid_parameter(change_fifo),
        "Invalid parameter: AttributeName"
    );
    Ok(())
}

#[tokio::test]
async fn fifo_only_attributes_are_refused_on_standard_topics() -> TestResult {
    let h = Harness::new().await?;
    let created = create(&h, "std", &[("ContentBasedDeduplication", "true")]).await;
    assert_eq!(
        invalid_parameter(created),
        "Invalid parameter: Attributes Reason: Unknown attribute ContentBasedDeduplication"
    );
    let arn = create(&h, "std", &[]).await?;
    let set = h
        .engine
        .set_topic_attributes(
            &caller(&h),
            &arn,
            "ContentBasedDeduplication",
            Some("true".to_string()),
        )
        .await;
    assert_eq!(invalid_parameter(set), "Invalid parameter: AttributeName");
    Ok(())
}

#[tokio::test]
async fn topic_attribute_values_are_checked() -> TestResult {
    let h = Harness::new().await?;
    let cases = [
        (
            ("SignatureVersion", "3"),
            "Invalid parameter: Attributes Reason: SignatureVersion: Invalid value [3]. Must be 1 or 2.",
        ),
        (
            ("TracingConfig", "On"),
            "Invalid parameter: Attributes Reason: TracingConfig: Invalid value [On]. Must be PassThrough or Active.",
        ),
        (
            ("Policy", "not json"),
            "Invalid parameter: Attributes Reason: Policy: failed to parse JSON.",
        ),
        (
            ("Colour", "blue"),
            "Invalid parameter: Attributes Reason: Unknown attribute Colour",
        ),
    ];
    for ((name, value), expected) in cases {
        assert_eq!(
            invalid_parameter(create(&h, "checked", &[(name, value)]).await),
            expected
        );
    }
    let arn = create(&h, "checked", &[]).await?;
    let set = h
        .engine
        .set_topic_attributes(&caller(&h), &arn, "SignatureVersion", Some("9".to_string()))
        .await;
    assert_eq!(
        invalid_parameter(set),
        "Invalid parameter: SignatureVersion: Invalid value [9]. Must be 1 or 2."
    );
    let unknown = h
        .engine
        .set_topic_attributes(&caller(&h), &arn, "Colour", Some("blue".to_string()))
        .await;
    assert_eq!(
        invalid_parameter(unknown),
        "Invalid parameter: AttributeName"
    );
    Ok(())
}

#[tokio::test]
async fn topic_delivery_policy_shapes_the_effective_policy_until_removed() -> TestResult {
    let h = Harness::new().await?;
    let arn = create(&h, "delivery", &[]).await?;
    let policy = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":6,"numRetries":1},"disableSubscriptionOverrides":false}}"#;
    h.engine
        .set_topic_attributes(
            &caller(&h),
            &arn,
            "DeliveryPolicy",
            Some(policy.to_string()),
        )
        .await?;
    let attributes = topic_attributes(&h, &arn).await?;
    assert_eq!(attributes["DeliveryPolicy"], policy);
    let effective: serde_json::Value =
        serde_json::from_str(&attributes["EffectiveDeliveryPolicy"])?;
    let retry = &effective["http"]["defaultHealthyRetryPolicy"];
    assert_eq!(
        (
            &retry["minDelayTarget"],
            &retry["maxDelayTarget"],
            &retry["numRetries"]
        ),
        (&5.into(), &6.into(), &1.into())
    );
    h.engine
        .set_topic_attributes(&caller(&h), &arn, "DeliveryPolicy", Some(String::new()))
        .await?;
    let attributes = topic_attributes(&h, &arn).await?;
    assert!(!attributes.contains_key("DeliveryPolicy"));
    let bad = h
        .engine
        .set_topic_attributes(
            &caller(&h),
            &arn,
            "DeliveryPolicy",
            Some(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}"#.to_string()),
        )
        .await;
    assert_eq!(
        invalid_parameter(bad),
        "Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100"
    );
    Ok(())
}

#[tokio::test]
async fn list_topics_pages_by_one_hundred() -> TestResult {
    let h = Harness::new().await?;
    for index in 0..205 {
        create(&h, &format!("topic-{index:03}"), &[]).await?;
    }
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = h.engine.list_topics(&caller(&h), token).await?;
        pages += 1;
        assert!(page.items.len() <= 100);
        seen.extend(page.items);
        token = page.next_token;
        if token.is_none() || pages > 5 {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 205);
    assert_eq!(seen[0], format!("{REGION_PREFIX}:topic-000"));
    let bad_token = h
        .engine
        .list_topics(&caller(&h), Some("!!".to_string()))
        .await;
    assert_eq!(invalid_parameter(bad_token), "Invalid parameter: NextToken");
    Ok(())
}

#[tokio::test]
async fn malformed_topic_arns_get_aws_messages() -> TestResult {
    let h = Harness::new().await?;
    let cases = [
        (
            "",
            "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1",
        ),
        (
            "arn:aws:sns:us-east-1:000000000000",
            "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 5",
        ),
        (
            "arn:aws:sns:eu-west-1:000000000000:t",
            "Invalid parameter: TopicArn",
        ),
    ];
    for (arn, expected) in cases {
        let result = h.engine.get_topic_attributes(&caller(&h), arn).await;
        assert_eq!(invalid_parameter(result), expected, "{arn:?}");
    }
    let missing = h
        .engine
        .get_topic_attributes(&caller(&h), &format!("{REGION_PREFIX}:nope"))
        .await;
    assert!(matches!(missing, Err(Error::SnsNotFound(m)) if m == "Topic does not exist"));
    Ok(())
}

#[tokio::test]
async fn delete_topic_removes_its_subscriptions_and_repeats_quietly() -> TestResult {
    let h = Harness::new().await?;
    let arn = create(&h, "doomed", &[]).await?;
    let subscription = subscribe(&h, &arn, "sqs", &queue_arn("q1"), &[]).await?;
    h.engine.delete_topic(&caller(&h), &arn).await?;
    h.engine.delete_topic(&caller(&h), &arn).await?;
    let page = h.engine.list_subscriptions(&caller(&h), None).await?;
    assert!(page.items.is_empty());
    let gone = h
        .engine
        .get_subscription_attributes(&caller(&h), &subscription)
        .await;
    assert!(matches!(gone, Err(Error::SnsNotFound(m)) if m == "Subscription does not exist"));
    // The name is free again.
    create(&h, "doomed", &[("DisplayName", "again")]).await?;
    Ok(())
}

#[tokio::test]
async fn sqs_subscriptions_are_confirmed_at_once_with_aws_attributes() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    let arn = subscribe(
        &h,
        &topic,
        "sqs",
        &queue_arn("q1"),
        &[("RawMessageDelivery", "True")],
    )
    .await?;
    assert!(arn.starts_with(&format!("{topic}:")));
    let attributes = h
        .engine
        .get_subscription_attributes(&caller(&h), &arn)
        .await?;
    let expected = map(&[
        ("ConfirmationWasAuthenticated", "true"),
        ("Endpoint", &queue_arn("q1")),
        ("Owner", "000000000000"),
        ("PendingConfirmation", "false"),
        ("Protocol", "sqs"),
        ("RawMessageDelivery", "true"),
        ("SubscriptionArn", &arn),
        ("SubscriptionPrincipal", "arn:aws:iam::000000000000:root"),
        ("TopicArn", &topic),
    ]);
    assert_eq!(attributes, expected);
    let counts = topic_attributes(&h, &topic).await?;
    assert_eq!(counts["SubscriptionsConfirmed"], "1");
    Ok(())
}

#[tokio::test]
async fn http_subscriptions_wait_for_confirmation() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "web", &[]).await?;
    let answer = subscribe(&h, &topic, "http", "http://127.0.0.1:9/hook", &[]).await?;
    assert_eq!(answer, "pending confirmation");
    let with_arn = h
        .engine
        .subscribe(
            &caller(&h),
            SubscribeInput {
                topic_arn: topic.clone(),
                protocol: "http".to_string(),
                endpoint: Some("http://127.0.0.1:9/hook".to_string()),
                return_subscription_arn: true,
                ..SubscribeInput::default()
            },
        )
        .await?;
    assert!(with_arn.starts_with(&format!("{topic}:")));
    let listed = h
        .engine
        .list_subscriptions_by_topic(&caller(&h), &topic, None)
        .await?;
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].subscription_arn, "PendingConfirmation");
    assert_eq!(listed.items[0].endpoint, "http://127.0.0.1:9/hook");
    let attributes = h
        .engine
        .get_subscription_attributes(&caller(&h), &with_arn)
        .await?;
    assert_eq!(attributes["PendingConfirmation"], "true");
    assert_eq!(attributes["ConfirmationWasAuthenticated"], "false");
    let effective: serde_json::Value =
        serde_json::from_str(&attributes["EffectiveDeliveryPolicy"])?;
    assert_eq!(effective["healthyRetryPolicy"]["numRetries"], 3);
    assert_eq!(
        effective["requestPolicy"]["headerContentType"],
        "text/plain; charset=UTF-8"
    );
    assert_eq!(
        topic_attributes(&h, &topic).await?["SubscriptionsPending"],
        "1"
    );
    Ok(())
}

#[tokio::test]
async fn subscribe_repeats_answer_the_same_subscription() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    let first = subscribe(
        &h,
        &topic,
        "sqs",
        &queue_arn("q"),
        &[("RawMessageDelivery", "true")],
    )
    .await?;
    assert_eq!(
        subscribe(
            &h,
            &topic,
            "sqs",
            &queue_arn("q"),
            &[("RawMessageDelivery", "true")]
        )
        .await?,
        first
    );
    assert_eq!(
        subscribe(&h, &topic, "sqs", &queue_arn("q"), &[]).await?,
        first
    );
    let different = subscribe(
        &h,
        &topic,
        "sqs",
        &queue_arn("q"),
        &[("RawMessageDelivery", "false")],
    )
    .await;
    assert_eq!(
        invalid_parameter(different),
        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
    );
    assert_eq!(
        h.engine
            .list_subscriptions_by_topic(&caller(&h), &topic, None)
            .await?
            .items
            .len(),
        1
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_subscribes_of_one_endpoint_agree() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "race", &[]).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let engine = h.engine.clone();
        let caller = caller(&h);
        let input = SubscribeInput {
            topic_arn: topic.clone(),
            protocol: "sqs".to_string(),
            endpoint: Some(queue_arn("q")),
            ..SubscribeInput::default()
        };
        tasks.spawn(async move { engine.subscribe(&caller, input).await });
    }
    let mut answers = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer??);
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    let listed = h
        .engine
        .list_subscriptions_by_topic(&caller(&h), &topic, None)
        .await?;
    assert_eq!(listed.items.len(), 1);
    Ok(())
}

#[tokio::test]
async fn protocols_eddy_does_not_deliver_are_refused() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    let unknown = subscribe(&h, &topic, "test-protocol", "x", &[]).await;
    assert_eq!(
        invalid_parameter(unknown),
        "Invalid parameter: Amazon SNS does not support this protocol string: test-protocol"
    );
    for protocol in ["email", "email-json", "sms", "application", "firehose"] {
        let refused =
            invalid_parameter(subscribe(&h, &topic, protocol, "x@example.com", &[]).await);
        assert!(
            refused.starts_with(&format!(
                "Invalid parameter: Protocol Reason: eddy does not deliver to {protocol} endpoints"
            )),
            "{refused}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn endpoints_must_suit_their_protocol() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    let cases = [
        (
            "sqs",
            "http://localhost:4566/000000000000/q",
            "Invalid parameter: SQS endpoint ARN",
        ),
        (
            "http",
            "https://example.com/hook",
            "Invalid parameter: Endpoint must match the specified protocol",
        ),
        (
            "https",
            "ftp://example.com",
            "Invalid parameter: Endpoint must match the specified protocol",
        ),
        (
            "lambda",
            "arn:aws:sqs:us-east-1:000000000000:q",
            "Invalid parameter: Lambda endpoint ARN",
        ),
        (
            "sqs",
            &queue_arn("q.fifo"),
            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
        ),
    ];
    for (protocol, endpoint, expected) in cases {
        assert_eq!(
            invalid_parameter(subscribe(&h, &topic, protocol, endpoint, &[]).await),
            expected,
            "{protocol} {endpoint}"
        );
    }
    subscribe(
        &h,
        &topic,
        "lambda",
        "arn:aws:lambda:us-east-1:000000000000:function:fn:live",
        &[],
    )
    .await?;
    // AWS accepts queues that do not exist (yet).
    subscribe(&h, &topic, "sqs", &queue_arn("not-created"), &[]).await?;
    Ok(())
}

#[tokio::test]
async fn fifo_topics_deliver_only_to_queues() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t.fifo", &[("FifoTopic", "true")]).await?;
    subscribe(&h, &topic, "sqs", &queue_arn("q.fifo"), &[]).await?;
    subscribe(&h, &topic, "sqs", &queue_arn("standard"), &[]).await?;
    let lambda = subscribe(
        &h,
        &topic,
        "lambda",
        "arn:aws:lambda:us-east-1:000000000000:function:fn",
        &[],
    )
    .await;
    assert_eq!(
        invalid_parameter(lambda),
        "Invalid parameter: Endpoint Reason: FIFO topics deliver only to SQS queues"
    );
    let dlq = subscribe(
        &h,
        &topic,
        "sqs",
        &queue_arn("other.fifo"),
        &[(
            "RedrivePolicy",
            &format!(r#"{{"deadLetterTargetArn":"{}"}}"#, queue_arn("dlq")),
        )],
    )
    .await;
    assert_eq!(
        invalid_parameter(dlq),
        "Invalid parameter: Attributes Reason: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic."
    );
    Ok(())
}

#[tokio::test]
async fn subscription_attributes_are_checked_with_aws_messages() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    let lambda = "arn:aws:lambda:us-east-1:000000000000:function:fn";
    let cases: [(&str, &str, (&str, &str), &str); 8] = [
        (
            "sqs",
            "arn:aws:sqs:us-east-1:000000000000:q",
            ("RawMessageDelivery", "wrongvalue"),
            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false.",
        ),
        (
            "lambda",
            lambda,
            ("RawMessageDelivery", "true"),
            "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery.",
        ),
        (
            "sqs",
            "arn:aws:sqs:us-east-1:000000000000:q",
            ("FilterPolicyScope", "Body"),
            "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [Body]. Please use either MessageBody or MessageAttributes",
        ),
        (
            "sqs",
            "arn:aws:sqs:us-east-1:000000000000:q",
            ("FilterPolicy", r#"{"a": []}"#),
            "Invalid parameter: Attributes Reason: FilterPolicy: Empty arrays are not allowed",
        ),
        (
            "sqs",
            "arn:aws:sqs:us-east-1:000000000000:q",
            ("RedrivePolicy", r#"{"deadLetterTargetArn": "nope"}"#),
            "Invalid parameter: Attributes Reason: RedrivePolicy: deadLetterTargetArn is an invalid arn",
        ),
        (
            "sqs",
            "arn:aws:sqs:us-east-1:000000000000:q",
            ("RedrivePolicy", "{nope"),
            "Invalid parameter: Attributes Reason: RedrivePolicy: failed to parse JSON.",
        ),
        (
            "sqs",
            "arn:aws:sqs:us-east-1:000000000000:q",
            (
                "DeliveryPolicy",
                r#"{"healthyRetryPolicy":{"numRetries":1}}"#,
            ),
            "Invalid parameter: Attributes Reason: DeliveryPolicy: Delivery protocol [sqs] does not support delivery policies.",
        ),
        (
            "http",
            "http://127.0.0.1:9/",
            (
                "DeliveryPolicy",
                r#"{"healthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":1,"numRetries":1}}"#,
            ),
            "Invalid parameter: Attributes Reason: DeliveryPolicy: healthyRetryPolicy.minDelayTarget must be greater than or equal to 1",
        ),
    ];
    for (protocol, endpoint, attribute, expected) in cases {
        assert_eq!(
            invalid_parameter(subscribe(&h, &topic, protocol, endpoint, &[attribute]).await),
            expected,
            "{attribute:?}"
        );
    }
    let unknown = subscribe(&h, &topic, "sqs", &queue_arn("q"), &[("Colour", "blue")]).await;
    assert_eq!(
        invalid_parameter(unknown),
        "Invalid parameter: Attributes Reason: AttributeName"
    );
    Ok(())
}

#[tokio::test]
async fn set_subscription_attributes_checks_and_applies() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    let arn = subscribe(&h, &topic, "sqs", &queue_arn("q"), &[]).await?;
    let set = |name: &'static str, value: &'static str| {
        let arn = arn.clone();
        let h = &h;
        async move {
            h.engine
                .set_subscription_attributes(&caller(h), &arn, name, Some(value.to_string()))
                .await
        }
    };
    assert_eq!(
        invalid_parameter(set("Fake", "x").await),
        "Invalid parameter: AttributeName"
    );
    assert_eq!(
        invalid_parameter(set("RawMessageDelivery", "test-ValUe").await),
        "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false."
    );
    assert_eq!(
        invalid_parameter(set("RawMessageDelivery", "").await),
        "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false."
    );
    assert_eq!(
        invalid_parameter(set("RedrivePolicy", r#"{"deadLetterTargetArn": "x"}"#).await),
        "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"
    );
    assert_eq!(
        invalid_parameter(set("FilterPolicy", "{invalidjson}").await),
        "Invalid parameter: FilterPolicy: failed to parse JSON."
    );
    set("FilterPolicy", r#"{"store": ["a"]}"#).await?;
    set("RawMessageDelivery", "TRUE").await?;
    let attributes = h
        .engine
        .get_subscription_attributes(&caller(&h), &arn)
        .await?;
    assert_eq!(attributes["FilterPolicy"], r#"{"store": ["a"]}"#);
    assert_eq!(attributes["FilterPolicyScope"], "MessageAttributes");
    assert_eq!(attributes["RawMessageDelivery"], "true");
    // A policy nested like a body policy cannot move to the attributes scope.
    set("FilterPolicyScope", "MessageBody").await?;
    set("FilterPolicy", r#"{"order": {"kind": ["x"]}}"#).await?;
    assert!(
        invalid_parameter(set("FilterPolicyScope", "MessageAttributes").await)
            .starts_with("Invalid parameter: Filter policy scope MessageAttributes")
    );
    set("FilterPolicy", "").await?;
    let attributes = h
        .engine
        .get_subscription_attributes(&caller(&h), &arn)
        .await?;
    assert!(!attributes.contains_key("FilterPolicy"));
    assert!(!attributes.contains_key("FilterPolicyScope"));
    let missing = h
        .engine
        .set_subscription_attributes(
            &caller(&h),
            &format!("{topic}:4c1f1f5e-0000-4000-8000-000000000000"),
            "RawMessageDelivery",
            Some("true".to_string()),
        )
        .await;
    assert!(matches!(missing, Err(Error::SnsNotFound(m)) if m == "Subscription does not exist"));
    Ok(())
}

#[tokio::test]
async fn http_delivery_policies_are_reported_and_merged() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(
        &h,
        "t",
        &[(
            "DeliveryPolicy",
            r#"{"http":{"defaultRequestPolicy":{"headerContentType":"application/json"}}}"#,
        )],
    )
    .await?;
    let policy = r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0},"throttlePolicy":{"maxReceivesPerSecond":1000}}"#;
    let arn = h
        .engine
        .subscribe(
            &caller(&h),
            SubscribeInput {
                topic_arn: topic.clone(),
                protocol: "http".to_string(),
                endpoint: Some("http://127.0.0.1:9/hook".to_string()),
                attributes: map(&[("DeliveryPolicy", policy)]),
                return_subscription_arn: true,
            },
        )
        .await?;
    let attributes = h
        .engine
        .get_subscription_attributes(&caller(&h), &arn)
        .await?;
    assert_eq!(
        attributes["DeliveryPolicy"],
        r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":1000},"requestPolicy":null,"guaranteed":false}"#
    );
    assert_eq!(
        attributes["EffectiveDeliveryPolicy"],
        r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":1000},"requestPolicy":{"headerContentType":"application/json"},"guaranteed":false}"#
    );
    Ok(())
}

#[tokio::test]
async fn confirm_subscription_refuses_bad_topics_and_tokens() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    subscribe(&h, &topic, "http", "http://127.0.0.1:9/", &[]).await?;
    let confirm = |topic_arn: String, token: &'static str| {
        let h = &h;
        async move {
            h.engine
                .confirm_subscription(&SnsCaller::anonymous(), &topic_arn, token, None)
                .await
        }
    };
    assert_eq!(
        invalid_parameter(confirm("not-an-arn".to_string(), "ab").await),
        "Invalid parameter: Topic"
    );
    assert_eq!(
        invalid_parameter(confirm(topic.replace("us-east-1", "eu-west-1"), "ab").await),
        "Invalid parameter: Topic"
    );
    assert_eq!(
        invalid_parameter(confirm(topic.clone(), "randomtoken").await),
        "Invalid token"
    );
    assert_eq!(
        invalid_parameter(confirm(topic.clone(), "51b2ff3edb475b7d").await),
        "Invalid parameter: Token"
    );
    assert_eq!(
        invalid_parameter(confirm(format!("{topic}x"), "51b2ff3edb475b7d").await),
        "Invalid parameter: Token"
    );
    Ok(())
}

#[tokio::test]
async fn unsubscribe_checks_arns_and_repeats_quietly() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    let arn = subscribe(&h, &topic, "sqs", &queue_arn("q"), &[]).await?;
    h.engine.unsubscribe(&caller(&h), &arn).await?;
    h.engine.unsubscribe(&caller(&h), &arn).await?;
    let cases = [
        (
            "",
            "Invalid parameter: SubscriptionArn Reason: no value for required parameter",
        ),
        (
            "PendingConfirmation",
            "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1",
        ),
        (
            "arn:aws:sns:us-east-1:000000000000",
            "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5",
        ),
        (topic.as_str(), "Invalid parameter: SubscriptionId"),
    ];
    for (arn, expected) in cases {
        assert_eq!(
            invalid_parameter(h.engine.unsubscribe(&caller(&h), arn).await),
            expected,
            "{arn:?}"
        );
    }
    let bad_id = h
        .engine
        .get_subscription_attributes(&caller(&h), &format!("{topic}:not-a-uuid"))
        .await;
    assert_eq!(
        invalid_parameter(bad_id),
        "Invalid parameter: SubscriptionId"
    );
    Ok(())
}

#[tokio::test]
async fn list_subscriptions_pages_by_one_hundred() -> TestResult {
    let h = Harness::new().await?;
    let first = create(&h, "first", &[]).await?;
    let second = create(&h, "second", &[]).await?;
    for index in 0..150 {
        subscribe(&h, &first, "sqs", &queue_arn(&format!("q{index}")), &[]).await?;
    }
    subscribe(&h, &second, "sqs", &queue_arn("other"), &[]).await?;
    let page = h
        .engine
        .list_subscriptions_by_topic(&caller(&h), &first, None)
        .await?;
    assert_eq!(page.items.len(), 100);
    let rest = h
        .engine
        .list_subscriptions_by_topic(&caller(&h), &first, page.next_token)
        .await?;
    assert_eq!(rest.items.len(), 50);
    assert!(rest.next_token.is_none());
    assert!(rest.items.iter().all(|item| item.topic_arn == first));

    let mut all = 0;
    let mut token = None;
    for _ in 0..5 {
        let page = h.engine.list_subscriptions(&caller(&h), token).await?;
        all += page.items.len();
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(all, 151);
    let missing = h
        .engine
        .list_subscriptions_by_topic(&caller(&h), &format!("{REGION_PREFIX}:none"), None)
        .await;
    assert!(matches!(missing, Err(Error::SnsNotFound(_))));
    Ok(())
}

#[tokio::test]
async fn tags_follow_aws_limits() -> TestResult {
    let h = Harness::new().await?;
    let topic = create(&h, "t", &[]).await?;
    h.engine
        .tag_sns_resource(&caller(&h), &topic, map(&[("k1", "v1"), ("k2", "v2")]))
        .await?;
    h.engine
        .untag_sns_resource(
            &caller(&h),
            &topic,
            vec!["k1".to_string(), "absent".to_string()],
        )
        .await?;
    h.engine
        .tag_sns_resource(&caller(&h), &topic, map(&[("k2", "v2b")]))
        .await?;
    assert_eq!(
        h.engine.list_sns_tags(&caller(&h), &topic).await?,
        map(&[("k2", "v2b")])
    );

    let many: BTreeMap<String, String> = (0..50)
        .map(|index| (format!("key{index}"), "v".to_string()))
        .collect();
    let over = h.engine.tag_sns_resource(&caller(&h), &topic, many).await;
    assert!(matches!(
        over,
        Err(Error::SnsTagLimitExceeded(m)) if m == "Could not complete request: tag quota of per resource exceeded"
    ));
    assert_eq!(h.engine.list_sns_tags(&caller(&h), &topic).await?.len(), 1);

    let reserved = h
        .engine
        .tag_sns_resource(&caller(&h), &topic, map(&[("aws:owner", "x")]))
        .await;
    assert!(invalid_parameter(reserved).starts_with("Invalid parameter: Tags Reason:"));
    let long_key = h
        .engine
        .tag_sns_resource(&caller(&h), &topic, map(&[(&"k".repeat(129), "x")]))
        .await;
    assert!(
        matches!(long_key, Err(Error::ValidationError(m)) if m.contains("less than or equal to 128"))
    );
    let long_value = h
        .engine
        .tag_sns_resource(&caller(&h), &topic, map(&[("k", &"v".repeat(257))]))
        .await;
    assert!(
        matches!(long_value, Err(Error::ValidationError(m)) if m.contains("less than or equal to 256"))
    );

    let missing = h
        .engine
        .list_sns_tags(&caller(&h), &format!("{REGION_PREFIX}:none"))
        .await;
    assert!(
        matches!(missing, Err(Error::SnsResourceNotFound(m)) if m == "Resource does not exist")
    );
    let not_topic = h
        .engine
        .tag_sns_resource(&caller(&h), &queue_arn("q"), map(&[("k", "v")]))
        .await;
    assert!(matches!(not_topic, Err(Error::SnsResourceNotFound(_))));
    Ok(())
}
