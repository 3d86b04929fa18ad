"""The SNS control plane through boto3 (SNS's query protocol) against a real eddy: topics,
subscriptions, their attributes and tags, pagination, idempotency, the unsigned
SubscribeURL/UnsubscribeURL GETs, and every validation error with AWS's code and message.

Messages quoted from LocalStack's snapshots (recorded against AWS) are marked `# AWS`;
the others are eddy's own wording where AWS's could not be confirmed. Publish and delivery
are tested elsewhere."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, REGION, error_code, make_client, queue_arn

TOPIC_PREFIX = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}"


@pytest.fixture(scope="module")
def sns(eddy_endpoint):
    return make_client("sns", eddy_endpoint)


@pytest.fixture(scope="module")
def sns_unvalidated(eddy_endpoint):
    """A client that sends what it is given, so the server's own validation is tested."""
    return make_client("sns", eddy_endpoint, parameter_validation=False)


@pytest.fixture
def topic_name(request) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:60]
    return f"{base}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def topic_arn(sns, topic_name) -> str:
    return sns.create_topic(Name=topic_name)["TopicArn"]


def error_message(excinfo) -> str:
    return excinfo.value.response["Error"]["Message"]


def status(excinfo) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(call, code: str, message: str | None = None, http_status: int = 400, **kwargs):
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    assert error_code(excinfo) == code, excinfo.value.response
    if message is not None:
        assert error_message(excinfo) == message
    assert status(excinfo) == http_status
    assert excinfo.value.response["Error"].get("Type") == "Sender"
    return excinfo


def all_pages(call, key: str, **kwargs) -> tuple[list, int]:
    """Every item of a paginated listing, and how many pages it took (bounded)."""
    items, pages, token = [], 0, None
    for _ in range(1000):
        response = call(**kwargs, **({"NextToken": token} if token else {}))
        pages += 1
        items.extend(response[key])
        assert len(response[key]) <= 100
        token = response.get("NextToken")
        if not token:
            return items, pages
    raise AssertionError("listing did not end")


# ---------------------------------------------------------------------------------------
# Topics


def test_create_topic_answers_arn_and_repeats_idempotently(sns, topic_name):
    arn = sns.create_topic(Name=topic_name, Attributes={"DisplayName": "Orders"})["TopicArn"]
    assert arn == f"{TOPIC_PREFIX}:{topic_name}"
    assert sns.create_topic(Name=topic_name, Attributes={"DisplayName": "Orders"})["TopicArn"] == arn
    assert sns.create_topic(Name=topic_name)["TopicArn"] == arn
    expect_error(
        sns.create_topic,
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
        Name=topic_name,
        Attributes={"DisplayName": "Other"},
    )


def test_create_topic_with_other_tags_is_refused(sns, topic_name):
    sns.create_topic(Name=topic_name, Tags=[{"Key": "k1", "Value": "v1"}])
    sns.create_topic(Name=topic_name, Tags=[{"Key": "k1", "Value": "v1"}])
    expect_error(
        sns.create_topic,
        "InvalidParameter",
        "Invalid parameter: Tags Reason: Topic already exists with different tags",  # AWS
        Name=topic_name,
        Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}],
    )


@pytest.mark.parametrize("name", ["a:b", "a;b", "a!b", "a@b", "a|b", "a^b", "a%b", "a b", "x" * 257, "a.fifo"])
def test_topic_names_follow_aws_rules(sns_unvalidated, name):
    expect_error(sns_unvalidated.create_topic, "InvalidParameter", "Invalid parameter: Topic Name", Name=name)  # AWS


def test_longest_topic_name_is_accepted(sns):
    name = ("n" + uuid.uuid4().hex) * 8
    name = name[:256]
    assert sns.create_topic(Name=name)["TopicArn"].endswith(f":{name}")


def test_topic_attributes_are_aws_defaults(sns, topic_arn):
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert set(attributes) == {
        "DisplayName",
        "EffectiveDeliveryPolicy",
        "Owner",
        "Policy",
        "SubscriptionsConfirmed",
        "SubscriptionsDeleted",
        "SubscriptionsPending",
        "TopicArn",
    }
    assert attributes["TopicArn"] == topic_arn
    assert attributes["Owner"] == ACCOUNT_ID
    assert attributes["DisplayName"] == ""
    assert attributes["SubscriptionsConfirmed"] == "0"
    policy = json.loads(attributes["Policy"])
    assert policy["Version"] == "2008-10-17"
    assert policy["Id"] == "__default_policy_ID"
    [statement] = policy["Statement"]
    assert statement["Sid"] == "__default_statement_ID"
    assert statement["Resource"] == topic_arn
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT_ID}}
    assert "SNS:Publish" in statement["Action"]
    assert json.loads(attributes["EffectiveDeliveryPolicy"]) == {
        "http": {
            "defaultHealthyRetryPolicy": {
                "minDelayTarget": 20,
                "maxDelayTarget": 20,
                "numRetries": 3,
                "numMaxDelayRetries": 0,
                "numNoDelayRetries": 0,
                "numMinDelayRetries": 0,
                "backoffFunction": "linear",
            },
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        }
    }


def test_fifo_topic_has_fifo_attributes_and_rules(sns, sns_unvalidated, topic_name):
    arn = sns.create_topic(Name=f"{topic_name}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["ContentBasedDeduplication"] == "true"
    expect_error(
        sns.set_topic_attributes,
        "InvalidParameter",
        "Invalid parameter: AttributeName",  # AWS
        TopicArn=arn,
        AttributeName="FifoTopic",
        AttributeValue="false",
    )
    with pytest.raises(ClientError) as excinfo:
        sns.create_topic(Name=topic_name, Attributes={"FifoTopic": "true"})
    assert error_code(excinfo) == "InvalidParameter"
    assert error_message(excinfo).startswith("Fifo Topic names must end with .fifo")
    expect_error(
        sns.create_topic,
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Unknown attribute ContentBasedDeduplication",
        Name=topic_name,
        Attributes={"ContentBasedDeduplication": "true"},
    )


def test_standard_topic_with_fifo_false_keeps_no_fifo_attribute(sns, topic_name):
    arn = sns.create_topic(Name=topic_name, Attributes={"FifoTopic": "false"})["TopicArn"]
    assert "FifoTopic" not in sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    expect_error(
        sns.set_topic_attributes,
        "InvalidParameter",
        "Invalid parameter: AttributeName",  # AWS
        TopicArn=arn,
        AttributeName="FifoTopic",
        AttributeValue="false",
    )


@pytest.mark.parametrize(
    "attribute, message",
    [
        (("SignatureVersion", "3"), "SignatureVersion: Invalid value [3]. Must be 1 or 2."),
        (("TracingConfig", "On"), "TracingConfig: Invalid value [On]. Must be PassThrough or Active."),
        (("Policy", "{nope"), "Policy: failed to parse JSON."),
        (("DisplayName", "d" * 101), "DisplayName: must be at most 100 characters long"),
        (
            ("DeliveryPolicy", '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}'),
            "DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100",
        ),
        (("Colour", "blue"), "Unknown attribute Colour"),
    ],
)
def test_topic_attribute_values_are_checked(sns, topic_name, attribute, message):
    name, value = attribute
    expect_error(
        sns.create_topic,
        "InvalidParameter",
        f"Invalid parameter: Attributes Reason: {message}",
        Name=topic_name,
        Attributes={name: value},
    )


def test_set_topic_attributes_applies_and_checks(sns, topic_arn):
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="DisplayName", AttributeValue="Shown")
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="SignatureVersion", AttributeValue="2")
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="TracingConfig", AttributeValue="Active")
    policy = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1}}}
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attributes["DisplayName"] == "Shown"
    assert attributes["SignatureVersion"] == "2"
    assert attributes["TracingConfig"] == "Active"
    assert json.loads(attributes["DeliveryPolicy"]) == policy
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
    assert (effective["minDelayTarget"], effective["maxDelayTarget"], effective["numRetries"]) == (5, 6, 1)

    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="DeliveryPolicy", AttributeValue="")
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert "DeliveryPolicy" not in attributes
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3

    expect_error(
        sns.set_topic_attributes,
        "InvalidParameter",
        "Invalid parameter: SignatureVersion: Invalid value [9]. Must be 1 or 2.",
        TopicArn=topic_arn,
        AttributeName="SignatureVersion",
        AttributeValue="9",
    )
    expect_error(
        sns.set_topic_attributes,
        "InvalidParameter",
        "Invalid parameter: AttributeName",
        TopicArn=topic_arn,
        AttributeName="Colour",
        AttributeValue="blue",
    )
    expect_error(
        sns.set_topic_attributes,
        "InvalidParameter",
        "Invalid parameter: AttributeName",
        TopicArn=topic_arn,
        AttributeName="ContentBasedDeduplication",
        AttributeValue="true",
    )


@pytest.mark.parametrize(
    "arn, message",
    [
        ("", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"),  # AWS
        ("arn:aws:sns:us-east-1:000000000000", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 5"),
        ("arn:aws:sns:eu-west-1:000000000000:t", "Invalid parameter: TopicArn"),  # AWS
    ],
)
def test_malformed_topic_arns_get_aws_messages(sns_unvalidated, arn, message):
    expect_error(sns_unvalidated.get_topic_attributes, "InvalidParameter", message, TopicArn=arn)
    expect_error(sns_unvalidated.delete_topic, "InvalidParameter", message, TopicArn=arn)


def test_missing_topics_are_not_found(sns):
    missing = f"{TOPIC_PREFIX}:missing-{uuid.uuid4().hex}"
    expect_error(sns.get_topic_attributes, "NotFound", "Topic does not exist", 404, TopicArn=missing)  # AWS
    expect_error(
        sns.set_topic_attributes,
        "NotFound",
        "Topic does not exist",
        404,
        TopicArn=missing,
        AttributeName="DisplayName",
        AttributeValue="x",
    )
    expect_error(
        sns.subscribe, "NotFound", "Topic does not exist", 404, TopicArn=missing, Protocol="sqs", Endpoint=queue_arn("q")
    )  # AWS
    expect_error(sns.list_subscriptions_by_topic, "NotFound", "Topic does not exist", 404, TopicArn=missing)


def test_delete_topic_removes_subscriptions_and_repeats_quietly(sns, topic_arn):
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn("gone"))["SubscriptionArn"]
    sns.delete_topic(TopicArn=topic_arn)
    sns.delete_topic(TopicArn=topic_arn)  # AWS: deleting twice succeeds
    expect_error(
        sns.get_subscription_attributes, "NotFound", "Subscription does not exist", 404, SubscriptionArn=subscription
    )
    arns = [topic["TopicArn"] for topic in all_pages(sns.list_topics, "Topics")[0]]
    assert topic_arn not in arns


def test_list_topics_pages_by_one_hundred(sns, topic_name):
    created = {sns.create_topic(Name=f"{topic_name}-{index:03}")["TopicArn"] for index in range(105)}
    topics, pages = all_pages(sns.list_topics, "Topics")
    arns = [topic["TopicArn"] for topic in topics]
    assert created <= set(arns)
    assert len(arns) == len(set(arns))
    assert pages >= 2
    expect_error(sns.list_topics, "InvalidParameter", "Invalid parameter: NextToken", NextToken="!!")


# ---------------------------------------------------------------------------------------
# Subscriptions


def test_sqs_subscription_is_confirmed_with_aws_attributes(sns, topic_arn):
    endpoint = queue_arn(f"q-{uuid.uuid4().hex[:8]}")
    arn = sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=endpoint, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    assert arn.startswith(f"{topic_arn}:")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes == {
        "ConfirmationWasAuthenticated": "true",
        "Endpoint": endpoint,
        "Owner": ACCOUNT_ID,
        "PendingConfirmation": "false",
        "Protocol": "sqs",
        "RawMessageDelivery": "true",
        "SubscriptionArn": arn,
        "SubscriptionPrincipal": f"arn:aws:iam::{ACCOUNT_ID}:root",
        "TopicArn": topic_arn,
    }
    listed = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert listed == [
        {"SubscriptionArn": arn, "Owner": ACCOUNT_ID, "Protocol": "sqs", "Endpoint": endpoint, "TopicArn": topic_arn}
    ]
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["SubscriptionsConfirmed"] == "1"


def test_lambda_subscription_is_confirmed(sns, topic_arn):
    endpoint = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:handler"
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=endpoint)["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["Protocol"] == "lambda"


def test_http_subscription_is_pending_until_confirmed(sns, topic_arn):
    endpoint = "http://127.0.0.1:9/sns-endpoint"
    answer = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint)
    assert answer["SubscriptionArn"] == "pending confirmation"  # AWS
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    assert arn.startswith(f"{topic_arn}:")  # AWS
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"  # AWS
    assert listed["Endpoint"] == endpoint
    everything, _ = all_pages(sns.list_subscriptions, "Subscriptions")
    assert any(item["TopicArn"] == topic_arn and item["SubscriptionArn"] == "PendingConfirmation" for item in everything)
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "true"
    assert attributes["ConfirmationWasAuthenticated"] == "false"
    assert json.loads(attributes["EffectiveDeliveryPolicy"]) == {
        "healthyRetryPolicy": {
            "minDelayTarget": 20,
            "maxDelayTarget": 20,
            "numRetries": 3,
            "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        },
        "sicklyRetryPolicy": None,
        "throttlePolicy": None,
        "requestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        "guaranteed": False,
    }
    topic = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert topic["SubscriptionsPending"] == "1"


def test_http_delivery_policy_is_reported_and_merged_with_the_topic(sns, topic_name):
    topic_policy = {"http": {"defaultRequestPolicy": {"headerContentType": "application/json"}}}
    topic_arn = sns.create_topic(Name=topic_name, Attributes={"DeliveryPolicy": json.dumps(topic_policy)})["TopicArn"]
    policy = {
        "healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 0},
        "throttlePolicy": {"maxReceivesPerSecond": 1000},
    }
    arn = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="http",
        Endpoint="http://127.0.0.1:9/sns-endpoint",
        Attributes={"DeliveryPolicy": json.dumps(policy)},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"]["numRetries"] == 0
    assert effective["throttlePolicy"] == {"maxReceivesPerSecond": 1000}
    assert effective["requestPolicy"] == {"headerContentType": "application/json"}
    assert json.loads(attributes["DeliveryPolicy"])["requestPolicy"] is None


def test_subscribe_is_idempotent_per_endpoint(sns, topic_arn):
    endpoint = queue_arn("idempotent")
    first = sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=endpoint, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    again = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=endpoint, Attributes={"RawMessageDelivery": "true"})
    assert again["SubscriptionArn"] == first
    assert sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=endpoint)["SubscriptionArn"] == first
    assert sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=endpoint, Attributes={})["SubscriptionArn"] == first
    expect_error(
        sns.subscribe,
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",  # AWS
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=endpoint,
        Attributes={"RawMessageDelivery": "false"},
    )
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]) == 1


def test_unknown_protocol_is_refused(sns, topic_arn):
    expect_error(
        sns.subscribe,
        "InvalidParameter",
        "Invalid parameter: Amazon SNS does not support this protocol string: test-protocol",  # AWS
        TopicArn=topic_arn,
        Protocol="test-protocol",
        Endpoint="x",
    )


@pytest.mark.parametrize(
    "protocol, endpoint",
    [
        ("email", "someone@example.com"),
        ("email-json", "someone@example.com"),
        ("sms", "+15555550100"),
        ("application", f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:endpoint/GCM/app/1"),
        ("firehose", f"arn:aws:firehose:{REGION}:{ACCOUNT_ID}:deliverystream/s"),
    ],
)
def test_protocols_eddy_does_not_deliver_are_refused(sns, topic_arn, protocol, endpoint):
    expect_error(
        sns.subscribe,
        "InvalidParameter",
        f"Invalid parameter: Protocol Reason: eddy does not deliver to {protocol} endpoints; "
        "it delivers to sqs, lambda, http and https endpoints",
        TopicArn=topic_arn,
        Protocol=protocol,
        Endpoint=endpoint,
    )


@pytest.mark.parametrize(
    "protocol, endpoint, message",
    [
        ("sqs", "http://localhost:4566/000000000000/q", "Invalid parameter: SQS endpoint ARN"),  # AWS
        ("http", "https://example.com/hook", "Invalid parameter: Endpoint must match the specified protocol"),
        ("https", "http://example.com/hook", "Invalid parameter: Endpoint must match the specified protocol"),
        ("http", "http:///nohost", "Invalid parameter: Endpoint Reason: not a valid URL"),
        ("lambda", queue_arn("q"), "Invalid parameter: Lambda endpoint ARN"),
        (
            "sqs",
            queue_arn("q.fifo"),
            # AWS (the doubled prefix is AWS's)
            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
        ),
    ],
)
def test_endpoints_must_suit_their_protocol(sns, topic_arn, protocol, endpoint, message):
    expect_error(sns.subscribe, "InvalidParameter", message, TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint)


def test_subscribe_without_endpoint_is_refused(sns_unvalidated, topic_arn):
    expect_error(
        sns_unvalidated.subscribe,
        "InvalidParameter",
        "Invalid parameter: Endpoint Reason: no value for required parameter",
        TopicArn=topic_arn,
        Protocol="sqs",
    )


def test_unknown_queues_may_be_subscribed(sns, topic_arn):
    # AWS accepts a queue that does not exist (yet).
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn(f"absent-{uuid.uuid4().hex[:6]}"))


def test_fifo_topics_deliver_only_to_queues(sns, topic_name):
    topic_arn = sns.create_topic(Name=f"{topic_name}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn("fifo-q.fifo"))
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn("standard-q"))  # AWS allows it
    for protocol, endpoint in [
        ("lambda", f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:fn"),
        ("http", "http://127.0.0.1:9/"),
    ]:
        expect_error(
            sns.subscribe,
            "InvalidParameter",
            "Invalid parameter: Endpoint Reason: FIFO topics deliver only to SQS queues",
            TopicArn=topic_arn,
            Protocol=protocol,
            Endpoint=endpoint,
        )
    expect_error(
        sns.subscribe,
        "InvalidParameter",
        # AWS
        "Invalid parameter: Attributes Reason: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.",
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn("other.fifo"),
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn("dlq")})},
    )


LAMBDA_ENDPOINT = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:fn"


@pytest.mark.parametrize(
    "protocol, endpoint, attributes, reason",
    [
        (
            "sqs",
            queue_arn("q"),
            {"RawMessageDelivery": "wrongvalue"},
            "RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false.",  # AWS
        ),
        (
            "lambda",
            LAMBDA_ENDPOINT,
            {"RawMessageDelivery": "true"},
            "Delivery protocol [lambda] does not support raw message delivery.",  # AWS (seen by SDK users)
        ),
        (
            "sqs",
            queue_arn("q"),
            {"FilterPolicyScope": "Body"},
            "FilterPolicyScope: Invalid value [Body]. Please use either MessageBody or MessageAttributes",
        ),
        ("sqs", queue_arn("q"), {"FilterPolicy": '{"a": []}'}, "FilterPolicy: Empty arrays are not allowed"),
        ("sqs", queue_arn("q"), {"FilterPolicy": "{invalid"}, "FilterPolicy: failed to parse JSON."),
        (
            "sqs",
            queue_arn("q"),
            {"RedrivePolicy": json.dumps({"deadLetterTargetArn": "nope"})},
            "RedrivePolicy: deadLetterTargetArn is an invalid arn",  # AWS
        ),
        ("sqs", queue_arn("q"), {"RedrivePolicy": "{nope"}, "RedrivePolicy: failed to parse JSON."),
        (
            "sqs",
            queue_arn("q"),
            {"DeliveryPolicy": json.dumps({"healthyRetryPolicy": {"numRetries": 1}})},
            "DeliveryPolicy: Delivery protocol [sqs] does not support delivery policies.",
        ),
        ("sqs", queue_arn("q"), {"Colour": "blue"}, "AttributeName"),
    ],
)
def test_subscribe_attributes_are_checked(sns, topic_arn, protocol, endpoint, attributes, reason):
    expect_error(
        sns.subscribe,
        "InvalidParameter",
        f"Invalid parameter: Attributes Reason: {reason}",
        TopicArn=topic_arn,
        Protocol=protocol,
        Endpoint=endpoint,
        Attributes=attributes,
    )


@pytest.mark.parametrize(
    "policy, reason",
    [
        (
            {"healthyRetryPolicy": {"minDelayTarget": 0, "maxDelayTarget": 5, "numRetries": 1}},
            "healthyRetryPolicy.minDelayTarget must be greater than or equal to 1",  # AWS
        ),
        (
            {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 3601, "numRetries": 1}},
            "healthyRetryPolicy.maxDelayTarget must be less than or equal to 3600",
        ),
        (
            {"healthyRetryPolicy": {"minDelayTarget": 10, "maxDelayTarget": 5, "numRetries": 1}},
            "healthyRetryPolicy.minDelayTarget must be less than or equal to maxDelayTarget",
        ),
        (
            {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 5, "numRetries": 101}},
            "healthyRetryPolicy.numRetries must be less than or equal to 100",
        ),
        (
            {"healthyRetryPolicy": {"numRetries": 3, "numNoDelayRetries": -1}},
            "healthyRetryPolicy.numNoDelayRetries must be greater than or equal to 0",
        ),
        (
            {"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 2, "numMinDelayRetries": 1}},
            "healthyRetryPolicy.numRetries must be greater than or equal to the sum of numNoDelayRetries, "
            "numMinDelayRetries and numMaxDelayRetries",
        ),
        (
            {"healthyRetryPolicy": {"backoffFunction": "random"}},
            "healthyRetryPolicy.backoffFunction must be one of linear, arithmetic, geometric, exponential",
        ),
        (
            {"healthyRetryPolicy": {"minDelayTarget": 3600, "maxDelayTarget": 3600, "numRetries": 2}},
            "healthyRetryPolicy: the delays of all retries together must be less than or equal to 3600 seconds",
        ),
        ({"throttlePolicy": {"maxReceivesPerSecond": 0}}, "throttlePolicy.maxReceivesPerSecond must be greater than or equal to 1"),
    ],
)
def test_http_delivery_policies_are_checked(sns, topic_arn, policy, reason):
    expect_error(
        sns.subscribe,
        "InvalidParameter",
        f"Invalid parameter: Attributes Reason: DeliveryPolicy: {reason}",
        TopicArn=topic_arn,
        Protocol="https",
        Endpoint="https://example.com/hook",
        Attributes={"DeliveryPolicy": json.dumps(policy)},
    )


def test_set_subscription_attributes_checks_and_applies(sns, topic_arn):
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn("settable"))["SubscriptionArn"]

    def refused(name, value, message):
        expect_error(
            sns.set_subscription_attributes,
            "InvalidParameter",
            message,
            SubscriptionArn=arn,
            AttributeName=name,
            AttributeValue=value,
        )

    refused("Fake", "x", "Invalid parameter: AttributeName")  # AWS
    refused(
        "RawMessageDelivery", "test-ValUe", "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false."
    )  # AWS
    refused("RawMessageDelivery", "", "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false.")  # AWS
    refused(
        "RedrivePolicy",
        json.dumps({"deadLetterTargetArn": "fake-arn"}),
        "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn",  # AWS
    )
    with pytest.raises(ClientError) as excinfo:
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy", AttributeValue="{invalidjson}")
    assert error_message(excinfo).startswith("Invalid parameter: RedrivePolicy: failed to parse JSON.")  # AWS prefix
    with pytest.raises(ClientError) as excinfo:
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue="{invalidjson}")
    assert error_message(excinfo).startswith("Invalid parameter: FilterPolicy: failed to parse JSON.")  # AWS prefix

    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="TRUE")
    sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=json.dumps({"store": ["example_corp"]})
    )
    dlq = queue_arn("dead-letters")
    sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="RedrivePolicy", AttributeValue=json.dumps({"deadLetterTargetArn": dlq})
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert json.loads(attributes["FilterPolicy"]) == {"store": ["example_corp"]}
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq}

    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope", AttributeValue="MessageBody")
    sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=json.dumps({"order": {"kind": ["x"]}})
    )
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["FilterPolicyScope"] == "MessageBody"
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue="")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert "FilterPolicy" not in attributes
    assert "FilterPolicyScope" not in attributes


def test_missing_subscriptions_are_not_found(sns, topic_arn):
    missing = f"{topic_arn}:{uuid.uuid4()}"
    expect_error(sns.get_subscription_attributes, "NotFound", "Subscription does not exist", 404, SubscriptionArn=missing)  # AWS
    expect_error(
        sns.set_subscription_attributes,
        "NotFound",
        "Subscription does not exist",  # AWS
        404,
        SubscriptionArn=missing,
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    expect_error(
        sns.get_subscription_attributes,
        "InvalidParameter",
        "Invalid parameter: SubscriptionId",  # AWS
        SubscriptionArn=f"{topic_arn}:not-a-subscription-id",
    )


def test_unsubscribe_repeats_quietly_and_checks_arns(sns, sns_unvalidated, topic_arn):
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn("leaving"))["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=arn)
    sns.unsubscribe(SubscriptionArn=arn)  # AWS: idempotent
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []
    cases = [
        ("", "Invalid parameter: SubscriptionArn Reason: no value for required parameter"),  # AWS
        ("PendingConfirmation", "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"),  # AWS
        ("arn:aws:sns:us-east-1:000000000000", "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5"),  # AWS
        (topic_arn, "Invalid parameter: SubscriptionId"),  # AWS
    ]
    for subscription_arn, message in cases:
        expect_error(sns_unvalidated.unsubscribe, "InvalidParameter", message, SubscriptionArn=subscription_arn)


def test_list_subscriptions_pages_by_one_hundred(sns, topic_arn):
    created = {
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn(f"page-{index:03}"))["SubscriptionArn"]
        for index in range(105)
    }
    by_topic, pages = all_pages(sns.list_subscriptions_by_topic, "Subscriptions", TopicArn=topic_arn)
    assert pages == 2
    assert {item["SubscriptionArn"] for item in by_topic} == created
    everything, _ = all_pages(sns.list_subscriptions, "Subscriptions")
    assert created <= {item["SubscriptionArn"] for item in everything}
    paginator = sns.get_paginator("list_subscriptions_by_topic")
    assert sum(len(page["Subscriptions"]) for page in paginator.paginate(TopicArn=topic_arn)) == 105


# ---------------------------------------------------------------------------------------
# Confirmation URLs (plain GETs without credentials)


def plain_get(eddy_endpoint: str, query: dict) -> tuple[int, str]:
    url = f"{eddy_endpoint}/?{urllib.parse.urlencode(query)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_confirm_subscription_refuses_wrong_tokens(sns, eddy_endpoint, topic_arn):
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint="http://127.0.0.1:9/confirm-me")
    expect_error(sns.confirm_subscription, "InvalidParameter", "Invalid token", TopicArn=topic_arn, Token="randomtoken")  # AWS
    expect_error(
        sns.confirm_subscription,
        "InvalidParameter",
        "Invalid parameter: Token",  # AWS
        TopicArn=topic_arn,
        Token="51b2ff3edb475b7d91550e0ab6edf0c1de2a34e6ebaf6c2262a001bcb7e051c4",
    )
    expect_error(
        sns.confirm_subscription, "InvalidParameter", "Invalid parameter: Topic", TopicArn="not-an-arn", Token="ab"
    )  # AWS
    # The SubscribeURL is a plain GET: no signature, the same answer in XML.
    code, body = plain_get(
        eddy_endpoint, {"Action": "ConfirmSubscription", "TopicArn": topic_arn, "Token": "51b2ff3edb475b7d"}
    )
    assert code == 400
    assert "<Code>InvalidParameter</Code>" in body
    assert "<Message>Invalid parameter: Token</Message>" in body
    assert 'xmlns="http://sns.amazonaws.com/doc/2010-03-31/"' in body
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"


def test_unsubscribe_url_works_without_credentials(sns, eddy_endpoint, topic_arn):
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn("via-url"))["SubscriptionArn"]
    code, body = plain_get(eddy_endpoint, {"Action": "Unsubscribe", "SubscriptionArn": arn})
    assert code == 200, body
    assert "<UnsubscribeResponse" in body
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []


def test_unknown_signing_certificate_is_not_found(eddy_endpoint):
    try:
        urllib.request.urlopen(f"{eddy_endpoint}/SimpleNotificationService-0000.pem", timeout=10)
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as error:
        assert error.code == 404


# ---------------------------------------------------------------------------------------
# Tags


def test_tags_are_added_replaced_removed_and_listed(sns, topic_arn):
    sns.tag_resource(ResourceArn=topic_arn, Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])
    assert sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"] == [
        {"Key": "k1", "Value": "v1"},
        {"Key": "k2", "Value": "v2"},
    ]  # AWS
    sns.untag_resource(ResourceArn=topic_arn, TagKeys=["k1", "absent"])
    assert sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"] == [{"Key": "k2", "Value": "v2"}]  # AWS
    sns.tag_resource(ResourceArn=topic_arn, Tags=[{"Key": "k2", "Value": "v2b"}])
    assert sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"] == [{"Key": "k2", "Value": "v2b"}]  # AWS


def test_create_topic_tags_are_listed(sns, topic_name):
    arn = sns.create_topic(Name=topic_name, Tags=[{"Key": "team", "Value": "payments"}])["TopicArn"]
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "payments"}]


def test_tag_errors_follow_aws(sns, topic_arn):
    expect_error(
        sns.tag_resource,
        "InvalidParameter",
        "Invalid parameter: Duplicated keys are not allowed.",  # AWS
        ResourceArn=topic_arn,
        Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k1", "Value": "v2"}],
    )
    sns.tag_resource(ResourceArn=topic_arn, Tags=[{"Key": "kept", "Value": "x"}])
    expect_error(
        sns.tag_resource,
        "TagLimitExceeded",
        "Could not complete request: tag quota of per resource exceeded",
        ResourceArn=topic_arn,
        Tags=[{"Key": f"key{index}", "Value": "v"} for index in range(50)],
    )
    assert sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"] == [{"Key": "kept", "Value": "x"}]
    with pytest.raises(ClientError) as excinfo:
        sns.tag_resource(ResourceArn=topic_arn, Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert error_code(excinfo) == "InvalidParameter"
    assert error_message(excinfo).startswith("Invalid parameter: Tags Reason:")
    missing = f"{TOPIC_PREFIX}:missing-{uuid.uuid4().hex}"
    for call, kwargs in [
        (sns.list_tags_for_resource, {}),
        (sns.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (sns.untag_resource, {"TagKeys": ["k"]}),
    ]:
        expect_error(call, "ResourceNotFound", "Resource does not exist", 404, ResourceArn=missing, **kwargs)


def test_tag_lengths_are_validated(sns_unvalidated, topic_arn):
    with pytest.raises(ClientError) as excinfo:
        sns_unvalidated.tag_resource(ResourceArn=topic_arn, Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert error_code(excinfo) == "ValidationError"
    assert "Member must have length less than or equal to 128" in error_message(excinfo)
    with pytest.raises(ClientError) as excinfo:
        sns_unvalidated.tag_resource(ResourceArn=topic_arn, Tags=[{"Key": "k", "Value": "v" * 257}])
    assert error_code(excinfo) == "ValidationError"
    assert "Member must have length less than or equal to 256" in error_message(excinfo)


# ---------------------------------------------------------------------------------------
# Wire details


def test_message_attribute_without_data_type_is_a_validation_error(sns_unvalidated, topic_arn):
    expect_error(
        sns_unvalidated.publish,
        "ValidationError",
        # AWS
        "1 validation error detected: Value null at 'messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not be null",
        TopicArn=topic_arn,
        Message="m",
        MessageAttributes={"attr1": {"StringValue": "v"}},
    )
    expect_error(
        sns_unvalidated.publish_batch,
        "ValidationError",
        # AWS
        "1 validation error detected: Value null at 'publishBatchRequestEntries.1.member.messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not be null",
        TopicArn=topic_arn,
        PublishBatchRequestEntries=[{"Id": "1", "Message": "m", "MessageAttributes": {"attr1": {"StringValue": "v"}}}],
    )


@pytest.mark.parametrize(
    "call, kwargs, reason",
    [
        ("create_platform_application", {"Name": "app", "Platform": "GCM", "Attributes": {}}, "mobile push notifications"),
        ("opt_in_phone_number", {"phoneNumber": "+15555550100"}, "SMS messages"),
        ("get_sms_attributes", {}, "SMS messages"),
    ],
)
def test_sms_and_mobile_push_actions_are_refused(sns, call, kwargs, reason):
    with pytest.raises(ClientError) as excinfo:
        getattr(sns, call)(**kwargs)
    assert error_code(excinfo) == "InvalidParameter"
    assert error_message(excinfo).endswith(f"Reason: eddy does not send {reason}")


def test_cli_create_list_and_subscribe(aws, topic_name):
    created = aws("sns", "create-topic", "--name", topic_name)
    arn = created["TopicArn"]
    assert arn == f"{TOPIC_PREFIX}:{topic_name}"
    listed = aws("sns", "list-topics")
    assert {"TopicArn": arn} in listed["Topics"]
    subscribed = aws(
        "sns",
        "subscribe",
        "--topic-arn",
        arn,
        "--protocol",
        "sqs",
        "--notification-endpoint",
        queue_arn("cli-queue"),
        "--attributes",
        "RawMessageDelivery=true",
    )
    assert subscribed["SubscriptionArn"].startswith(f"{arn}:")
    subscriptions = aws("sns", "list-subscriptions-by-topic", "--topic-arn", arn)["Subscriptions"]
    assert [item["Endpoint"] for item in subscriptions] == [queue_arn("cli-queue")]
    stderr = aws("sns", "get-topic-attributes", "--topic-arn", f"{arn}-missing", expect_failure=True)
    assert "NotFound" in stderr
