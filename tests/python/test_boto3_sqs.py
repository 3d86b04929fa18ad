"""Every SQS action through current boto3 (AWS JSON 1.0 protocol) against a real eddy.

Expected values follow AWS's documentation and the query-era error codes that botocore reads
from the `x-amzn-query-error` header (SQS is `awsQueryCompatible`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import botocore.exceptions
import pytest
import requests

from conftest import ACCOUNT_ID, error_code, queue_arn, receive_all
from sqs_digests import md5_of_attributes, md5_of_body

ClientError = botocore.exceptions.ClientError
MAX_MESSAGE_BYTES = 1_048_576


def name_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


# ---------------------------------------------------------------- queues


def test_create_queue_returns_url_under_account_on_request_host(sqs, eddy_endpoint, queue_name):
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    assert url == f"{eddy_endpoint}/{ACCOUNT_ID}/{queue_name}"


def test_queue_url_follows_the_host_the_client_used(eddy_endpoint, queue_name):
    from conftest import make_client

    localhost_endpoint = eddy_endpoint.replace("127.0.0.1", "localhost")
    client = make_client("sqs", localhost_endpoint)
    url = client.create_queue(QueueName=queue_name)["QueueUrl"]
    assert url == f"{localhost_endpoint}/{ACCOUNT_ID}/{queue_name}"


def test_queue_url_with_another_host_name_reaches_the_same_queue(sqs, eddy_endpoint, queue_name, queue_url):
    other_host_url = queue_url.replace("127.0.0.1", "localhost")
    sqs.send_message(QueueUrl=other_host_url, MessageBody="by another name")
    assert [m["Body"] for m in receive_all(sqs, queue_url, 1)] == ["by another name"]


def test_create_queue_applies_attributes_and_tags(sqs, queue_name):
    url = sqs.create_queue(
        QueueName=queue_name,
        Attributes={"VisibilityTimeout": "45", "DelaySeconds": "2", "MaximumMessageSize": "2048"},
        tags={"team": "eddy", "env": "test"},
    )["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "45"
    assert attributes["DelaySeconds"] == "2"
    assert attributes["MaximumMessageSize"] == "2048"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "eddy", "env": "test"}


def test_create_queue_again_with_same_attributes_returns_same_url(sqs, queue_name):
    first = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"]
    second = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"]
    assert first == second


def test_create_queue_again_with_different_attributes_fails_queue_already_exists(sqs, queue_name):
    sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "40"})
    with pytest.raises(sqs.exceptions.QueueNameExists) as excinfo:
        sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "50"})
    assert error_code(excinfo) == "QueueAlreadyExists"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("bad_name", ["has space", "x" * 81, "bad!char", "not-fifo-suffix.txt"])
def test_create_queue_with_invalid_name_fails_invalid_parameter_value(sqs, bad_name):
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=bad_name)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_create_fifo_queue_without_fifo_suffix_fails(sqs, queue_name):
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=queue_name, Attributes={"FifoQueue": "true"})
    assert error_code(excinfo) == "InvalidParameterValue"


def test_get_queue_url_returns_url_of_existing_queue(sqs, queue_name, queue_url):
    assert sqs.get_queue_url(QueueName=queue_name)["QueueUrl"] == queue_url


def test_get_queue_url_of_missing_queue_fails_non_existent_queue(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as excinfo:
        sqs.get_queue_url(QueueName=f"missing-{uuid.uuid4().hex}")
    assert error_code(excinfo) == "AWS.SimpleQueueService.NonExistentQueue"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_send_to_missing_queue_fails_non_existent_queue(sqs, eddy_endpoint):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"{eddy_endpoint}/{ACCOUNT_ID}/missing-{uuid.uuid4().hex}", MessageBody="x")


def test_list_queues_filters_by_name_prefix(sqs):
    prefix = f"lq-{uuid.uuid4().hex[:8]}"
    urls = {sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(3)}
    sqs.create_queue(QueueName=f"other-{prefix}")
    listed = sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]
    assert set(listed) == urls


def test_list_queues_with_prefix_matching_nothing_has_no_urls(sqs):
    response = sqs.list_queues(QueueNamePrefix=f"nothing-{uuid.uuid4().hex}")
    assert response.get("QueueUrls", []) == []


def test_list_queues_paginates_with_max_results_and_next_token(sqs):
    prefix = f"pg-{uuid.uuid4().hex[:8]}"
    urls = {sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5)}
    seen: list[str] = []
    token = None
    for _ in range(10):
        kwargs = {"QueueNamePrefix": prefix, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = sqs.list_queues(**kwargs)
        assert len(page.get("QueueUrls", [])) <= 2
        seen.extend(page.get("QueueUrls", []))
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(urls)


def test_delete_queue_makes_it_missing(sqs, queue_name, queue_url):
    sqs.delete_queue(QueueUrl=queue_url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=queue_name)


# ---------------------------------------------------------------- queue attributes


def test_get_queue_attributes_all_reports_documented_defaults(sqs, queue_name, queue_url):
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == queue_arn(queue_name)
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["DelaySeconds"] == "0"
    assert attributes["MessageRetentionPeriod"] == "345600"
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attributes["MaximumMessageSize"] == str(MAX_MESSAGE_BYTES)
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "0"
    assert int(attributes["CreatedTimestamp"]) > 1_600_000_000
    assert int(attributes["LastModifiedTimestamp"]) > 1_600_000_000
    assert "FifoQueue" not in attributes


def test_get_queue_attributes_returns_only_requested_names(sqs, queue_url):
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["VisibilityTimeout", "DelaySeconds"]
    )["Attributes"]
    assert attributes == {"VisibilityTimeout": "30", "DelaySeconds": "0"}


def test_set_queue_attributes_changes_reported_values(sqs, queue_url):
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"VisibilityTimeout": "120", "ReceiveMessageWaitTimeSeconds": "5"}
    )
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "120"
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "5"


def test_approximate_counts_track_visible_and_in_flight_messages(sqs, queue_url):
    for i in range(3):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"m{i}")
    sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "2", "ApproximateNumberOfMessagesNotVisible": "1"}


def test_get_queue_attributes_with_unknown_name_fails_invalid_attribute_name(sqs_unvalidated, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs_unvalidated.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["NoSuchAttribute"])
    assert error_code(excinfo) == "InvalidAttributeName"


def test_set_queue_attributes_with_unknown_name_fails_invalid_attribute_name(sqs, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"NoSuchAttribute": "1"})
    assert error_code(excinfo) == "InvalidAttributeName"


@pytest.mark.parametrize(
    "name,value",
    [("VisibilityTimeout", "43201"), ("DelaySeconds", "901"), ("MessageRetentionPeriod", "59"), ("VisibilityTimeout", "abc")],
)
def test_set_queue_attributes_with_out_of_range_value_fails(sqs, queue_url, name, value):
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={name: value})
    assert error_code(excinfo) in {"InvalidAttributeValue", "InvalidParameterValue"}
    assert sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[name])["Attributes"][name] != value


# ---------------------------------------------------------------- send and receive


def test_send_message_returns_md5_of_body_and_attributes(sqs, queue_url):
    attributes = {
        "text": {"DataType": "String", "StringValue": "héllo"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    body = "digest me ✓"
    response = sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes)
    assert response["MD5OfMessageBody"] == md5_of_body(body)
    assert response["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    uuid.UUID(response["MessageId"])


def test_send_message_without_attributes_omits_attribute_digest(sqs, queue_url):
    response = sqs.send_message(QueueUrl=queue_url, MessageBody="plain")
    assert "MD5OfMessageAttributes" not in response


def test_message_attributes_of_every_type_round_trip(sqs, queue_url):
    attributes = {
        "s": {"DataType": "String", "StringValue": "ünïcode ✓"},
        "n": {"DataType": "Number", "StringValue": "-12.5e3"},
        "b": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
        "custom_string": {"DataType": "String.custom", "StringValue": "x"},
        "custom_number": {"DataType": "Number.int", "StringValue": "7"},
        "custom_binary": {"DataType": "Binary.png", "BinaryValue": b"\x89PNG"},
    }
    sqs.send_message(QueueUrl=queue_url, MessageBody="attrs", MessageAttributes=attributes)
    [message] = receive_all(sqs, queue_url, 1, MessageAttributeNames=["All"])
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert message["MD5OfBody"] == md5_of_body("attrs")


def test_message_attribute_with_empty_value_fails(sqs, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(
            QueueUrl=queue_url, MessageBody="x", MessageAttributes={"a": {"DataType": "String", "StringValue": ""}}
        )
    assert error_code(excinfo) == "InvalidParameterValue"


def test_more_than_ten_message_attributes_fail_invalid_parameter_value(sqs, queue_url):
    attributes = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=queue_url, MessageBody="x", MessageAttributes=attributes)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_aws_trace_header_system_attribute_round_trips(sqs, queue_url):
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    system_attributes = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    response = sqs.send_message(QueueUrl=queue_url, MessageBody="traced", MessageSystemAttributes=system_attributes)
    assert response["MD5OfMessageSystemAttributes"] == md5_of_attributes(system_attributes)
    [message] = receive_all(sqs, queue_url, 1, MessageSystemAttributeNames=["AWSTraceHeader"])
    assert message["Attributes"] == {"AWSTraceHeader": trace}


def test_receive_with_all_system_attributes_reports_counts_and_timestamps(sqs, queue_url):
    before_ms = int(time.time() * 1000) - 2000
    sqs.send_message(QueueUrl=queue_url, MessageBody="sys")
    [message] = receive_all(sqs, queue_url, 1, AttributeNames=["All"])
    attributes = message["Attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"
    assert int(attributes["SentTimestamp"]) >= before_ms
    assert int(attributes["ApproximateFirstReceiveTimestamp"]) >= int(attributes["SentTimestamp"])
    assert attributes["SenderId"]


def test_receive_filters_message_attributes_by_name_and_prefix(sqs, queue_url):
    attributes = {
        "pre.one": {"DataType": "String", "StringValue": "1"},
        "pre.two": {"DataType": "String", "StringValue": "2"},
        "other": {"DataType": "String", "StringValue": "3"},
    }
    sqs.send_message(QueueUrl=queue_url, MessageBody="filtered", MessageAttributes=attributes)

    def received_attributes(names):
        # Visibility 0 keeps the message available to the next receive.
        [message] = receive_all(sqs, queue_url, 1, MessageAttributeNames=names, VisibilityTimeout=0)
        returned = message.get("MessageAttributes", {})
        if returned:
            assert message["MD5OfMessageAttributes"] == md5_of_attributes(returned)
        return returned

    assert set(received_attributes(["All"])) == {"pre.one", "pre.two", "other"}
    assert set(received_attributes([".*"])) == {"pre.one", "pre.two", "other"}
    assert set(received_attributes(["pre.*"])) == {"pre.one", "pre.two"}
    assert set(received_attributes(["other"])) == {"other"}
    assert received_attributes(["missing"]) == {}


def test_receive_without_attribute_names_returns_no_attributes(sqs, queue_url):
    sqs.send_message(
        QueueUrl=queue_url, MessageBody="x", MessageAttributes={"a": {"DataType": "String", "StringValue": "1"}}
    )
    [message] = receive_all(sqs, queue_url, 1)
    assert "MessageAttributes" not in message
    assert "Attributes" not in message


def test_delay_seconds_hides_message_until_delay_passes(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="later", DelaySeconds=2)
    sent_at = time.monotonic()
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
    [message] = receive_all(sqs, queue_url, 1, timeout=10)
    assert message["Body"] == "later"
    assert time.monotonic() - sent_at >= 1.5


def test_queue_delay_seconds_applies_to_messages_without_their_own(sqs, queue_name):
    url = sqs.create_queue(QueueName=queue_name, Attributes={"DelaySeconds": "2"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="delayed")
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert counts["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert len(receive_all(sqs, url, 1, timeout=10)) == 1


def test_send_message_batch_reports_successes_and_per_entry_failure(sqs, queue_url):
    entries = [
        {"Id": "ok1", "MessageBody": "first", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
        {"Id": "bad", "MessageBody": "invalid \u0001 character"},
        {"Id": "ok2", "MessageBody": "second"},
    ]
    response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    successful = {entry["Id"]: entry for entry in response["Successful"]}
    assert set(successful) == {"ok1", "ok2"}
    assert successful["ok1"]["MD5OfMessageBody"] == md5_of_body("first")
    assert successful["ok1"]["MD5OfMessageAttributes"] == md5_of_attributes(entries[0]["MessageAttributes"])
    [failure] = response["Failed"]
    assert failure["Id"] == "bad"
    assert failure["SenderFault"] is True
    assert failure["Code"]
    assert sorted(m["Body"] for m in receive_all(sqs, queue_url, 2)) == ["first", "second"]


def test_long_poll_returns_as_soon_as_a_message_is_sent(sqs, queue_url):
    sender = threading.Timer(1.0, lambda: sqs.send_message(QueueUrl=queue_url, MessageBody="wake up"))
    started = time.monotonic()
    sender.start()
    try:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=15).get("Messages", [])
    finally:
        sender.join()
    elapsed = time.monotonic() - started
    assert [m["Body"] for m in messages] == ["wake up"]
    assert 0.8 <= elapsed < 8


def test_long_poll_on_empty_queue_waits_then_returns_nothing(sqs, queue_url):
    started = time.monotonic()
    response = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2)
    elapsed = time.monotonic() - started
    assert response.get("Messages", []) == []
    assert 1.8 <= elapsed < 6


def test_queue_receive_wait_time_enables_long_polling_by_default(sqs, queue_name):
    url = sqs.create_queue(QueueName=queue_name, Attributes={"ReceiveMessageWaitTimeSeconds": "2"})["QueueUrl"]
    started = time.monotonic()
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    assert time.monotonic() - started >= 1.8


def test_receive_more_than_ten_messages_fails_invalid_parameter_value(sqs, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=11)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_received_message_stays_hidden_until_visibility_timeout_expires(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="hide me")
    [first] = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=2)["Messages"]
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
    [again] = receive_all(sqs, queue_url, 1, timeout=10, AttributeNames=["ApproximateReceiveCount"])
    assert again["MessageId"] == first["MessageId"]
    assert again["ReceiptHandle"] != first["ReceiptHandle"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_change_message_visibility_to_zero_makes_message_visible_again(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="come back")
    [message] = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=60)["Messages"]
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    [again] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert again["MessageId"] == message["MessageId"]


def test_change_message_visibility_above_twelve_hours_fails(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="x")
    [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=43201
        )
    assert error_code(excinfo) == "InvalidParameterValue"


def test_change_message_visibility_batch_reports_invalid_handle_per_entry(sqs, queue_url):
    sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": f"e{i}", "MessageBody": f"m{i}"} for i in range(2)])
    messages = receive_all(sqs, queue_url, 2)
    assert len(messages) == 2
    entries = [
        {"Id": f"h{i}", "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
        for i, message in enumerate(messages)
    ]
    entries.append({"Id": "garbage", "ReceiptHandle": "not-a-receipt-handle", "VisibilityTimeout": 0})
    response = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
    assert sorted(entry["Id"] for entry in response["Successful"]) == ["h0", "h1"]
    [failure] = response["Failed"]
    assert failure["Id"] == "garbage"
    assert failure["Code"] == "ReceiptHandleIsInvalid"
    assert failure["SenderFault"] is True
    assert len(sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]) == 2


def test_delete_message_removes_it_for_good(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="delete me")
    [message] = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=1)["Messages"]
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", []) == []


def test_delete_message_batch_reports_invalid_handle_per_entry(sqs, queue_url):
    sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": f"e{i}", "MessageBody": f"m{i}"} for i in range(3)])
    messages = receive_all(sqs, queue_url, 3)
    entries = [{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    entries.append({"Id": "garbage", "ReceiptHandle": "garbage-handle"})
    response = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    assert sorted(entry["Id"] for entry in response["Successful"]) == ["d0", "d1", "d2"]
    [failure] = response["Failed"]
    assert (failure["Id"], failure["Code"], failure["SenderFault"]) == ("garbage", "ReceiptHandleIsInvalid", True)
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_garbage_receipt_handle_fails_receipt_handle_is_invalid(sqs, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle="this-is-not-a-receipt-handle")
    assert error_code(excinfo) == "ReceiptHandleIsInvalid"
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle="garbage", VisibilityTimeout=5)
    assert error_code(excinfo) == "ReceiptHandleIsInvalid"


def test_purge_queue_removes_messages_and_second_purge_fails_in_progress(sqs, queue_url):
    for i in range(3):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"m{i}")
    sqs.purge_queue(QueueUrl=queue_url)
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []) == []
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as excinfo:
        sqs.purge_queue(QueueUrl=queue_url)
    assert error_code(excinfo) == "AWS.SimpleQueueService.PurgeQueueInProgress"
    # Messages sent after the purge are kept.
    sqs.send_message(QueueUrl=queue_url, MessageBody="after purge")
    assert [m["Body"] for m in receive_all(sqs, queue_url, 1)] == ["after purge"]


# ---------------------------------------------------------------- message content limits


def test_unicode_and_control_whitespace_bodies_round_trip_exactly(sqs, queue_url):
    body = "héllo 🌊 wörld\r\nline two\ttab\r\u00a0\ufffd\U0010fffd"
    response = sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    assert response["MD5OfMessageBody"] == md5_of_body(body)
    [message] = receive_all(sqs, queue_url, 1)
    assert message["Body"] == body
    assert message["MD5OfBody"] == md5_of_body(body)


def test_message_of_exactly_maximum_size_is_accepted(sqs, queue_url):
    body = "a" * MAX_MESSAGE_BYTES
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    [message] = receive_all(sqs, queue_url, 1)
    assert len(message["Body"]) == MAX_MESSAGE_BYTES


def test_message_over_maximum_size_fails_invalid_parameter_value(sqs, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=queue_url, MessageBody="a" * (MAX_MESSAGE_BYTES + 1))
    assert error_code(excinfo) == "InvalidParameterValue"


def test_message_over_queue_maximum_message_size_fails(sqs, queue_name):
    url = sqs.create_queue(QueueName=queue_name, Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="a" * 1025)
    assert error_code(excinfo) == "InvalidParameterValue"


@pytest.mark.parametrize("bad_body", ["nul \u0000 byte", "bell \u0007", "\ufffe not a character"])
def test_message_with_invalid_characters_fails_invalid_message_contents(sqs, queue_url, bad_body):
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=queue_url, MessageBody=bad_body)
    assert error_code(excinfo) == "InvalidMessageContents"


def test_empty_message_body_fails(sqs_unvalidated, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs_unvalidated.send_message(QueueUrl=queue_url, MessageBody="")
    assert error_code(excinfo) in {"InvalidParameterValue", "MissingParameter"}


# ---------------------------------------------------------------- batch request errors


def test_empty_batch_fails_empty_batch_request(sqs_unvalidated, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs_unvalidated.send_message_batch(QueueUrl=queue_url, Entries=[])
    assert error_code(excinfo) == "AWS.SimpleQueueService.EmptyBatchRequest"
    with pytest.raises(ClientError) as excinfo:
        sqs_unvalidated.delete_message_batch(QueueUrl=queue_url, Entries=[])
    assert error_code(excinfo) == "AWS.SimpleQueueService.EmptyBatchRequest"


def test_batch_of_eleven_fails_too_many_entries(sqs, queue_url):
    entries = [{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)]
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest) as excinfo:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    assert error_code(excinfo) == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


def test_batch_with_duplicate_ids_fails_ids_not_distinct(sqs, queue_url):
    entries = [{"Id": "same", "MessageBody": "a"}, {"Id": "same", "MessageBody": "b"}]
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct) as excinfo:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    assert error_code(excinfo) == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []


def test_batch_with_invalid_id_fails_invalid_batch_entry_id(sqs, queue_url):
    with pytest.raises(sqs.exceptions.InvalidBatchEntryId) as excinfo:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": "bad id!", "MessageBody": "a"}])
    assert error_code(excinfo) == "AWS.SimpleQueueService.InvalidBatchEntryId"


def test_batch_over_total_size_limit_fails_batch_request_too_long(sqs, queue_url):
    entries = [{"Id": f"e{i}", "MessageBody": "a" * 600_000} for i in range(2)]
    with pytest.raises(sqs.exceptions.BatchRequestTooLong) as excinfo:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    assert error_code(excinfo) == "AWS.SimpleQueueService.BatchRequestTooLong"


# ---------------------------------------------------------------- tags and permissions


def test_tag_untag_and_list_queue_tags(sqs, queue_url):
    sqs.tag_queue(QueueUrl=queue_url, Tags={"a": "1", "b": "2", "c": "3"})
    sqs.tag_queue(QueueUrl=queue_url, Tags={"a": "changed"})
    sqs.untag_queue(QueueUrl=queue_url, TagKeys=["b"])
    assert sqs.list_queue_tags(QueueUrl=queue_url)["Tags"] == {"a": "changed", "c": "3"}


def test_list_queue_tags_of_untagged_queue_is_empty(sqs, queue_url):
    assert sqs.list_queue_tags(QueueUrl=queue_url).get("Tags", {}) == {}


def test_add_permission_adds_policy_statement_and_remove_permission_drops_it(sqs, queue_name, queue_url):
    sqs.add_permission(
        QueueUrl=queue_url, Label="allow-partner", AWSAccountIds=["111122223333"], Actions=["SendMessage"]
    )
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    [statement] = policy["Statement"]
    assert statement["Sid"] == "allow-partner"
    assert statement["Effect"] == "Allow"
    assert statement["Action"] in ("SQS:SendMessage", ["SQS:SendMessage"])
    assert statement["Resource"] == queue_arn(queue_name)
    sqs.remove_permission(QueueUrl=queue_url, Label="allow-partner")
    remaining = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"]).get("Attributes", {})
    if "Policy" in remaining and remaining["Policy"]:
        assert json.loads(remaining["Policy"]).get("Statement", []) == []


def test_remove_unknown_permission_label_fails(sqs, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.remove_permission(QueueUrl=queue_url, Label="never-added")
    assert error_code(excinfo) == "InvalidParameterValue"


# ---------------------------------------------------------------- dead-letter queues


def make_source_and_dead_letter_queues(sqs, base_name: str, max_receive_count: int = 1):
    dlq_name = f"{base_name[:60]}-dlq"
    dlq_url = sqs.create_queue(QueueName=dlq_name)["QueueUrl"]
    redrive = json.dumps({"deadLetterTargetArn": queue_arn(dlq_name), "maxReceiveCount": str(max_receive_count)})
    source_url = sqs.create_queue(
        QueueName=f"{base_name[:60]}-src", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": redrive}
    )["QueueUrl"]
    return source_url, dlq_url


def test_message_moves_to_dead_letter_queue_after_max_receive_count(sqs, queue_name):
    source_url, dlq_url = make_source_and_dead_letter_queues(sqs, queue_name)
    sqs.send_message(QueueUrl=source_url, MessageBody="poison")
    [first] = sqs.receive_message(QueueUrl=source_url)["Messages"]
    # The next receive would exceed maxReceiveCount 1, so the message goes to the DLQ instead.
    for _ in range(3):
        assert sqs.receive_message(QueueUrl=source_url).get("Messages", []) == []
    [dead] = receive_all(sqs, dlq_url, 1, AttributeNames=["All"])
    assert dead["MessageId"] == first["MessageId"]
    assert dead["Body"] == "poison"


def test_redrive_policy_is_reported_as_json(sqs, queue_name):
    source_url, _ = make_source_and_dead_letter_queues(sqs, queue_name, max_receive_count=5)
    redrive = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    policy = json.loads(redrive["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == queue_arn(f"{queue_name[:60]}-dlq")
    assert int(policy["maxReceiveCount"]) == 5


def test_redrive_policy_to_missing_queue_fails(sqs, queue_name):
    redrive = json.dumps({"deadLetterTargetArn": queue_arn(f"missing-{uuid.uuid4().hex}"), "maxReceiveCount": "1"})
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=queue_name, Attributes={"RedrivePolicy": redrive})
    assert error_code(excinfo) in {"InvalidParameterValue", "AWS.SimpleQueueService.NonExistentQueue"}


def test_list_dead_letter_source_queues_lists_queues_redriving_to_it(sqs, queue_name):
    source_url, dlq_url = make_source_and_dead_letter_queues(sqs, queue_name)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"] == [source_url]


def wait_for_move_task(sqs, source_arn: str, statuses: set[str], timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    task: dict = {}
    while time.monotonic() < deadline:
        results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10)["Results"]
        if results:
            task = results[0]
            if task["Status"] in statuses:
                return task
        time.sleep(0.2)
    raise AssertionError(f"move task never reached {statuses}: {task}")


def test_message_move_task_returns_dead_letters_to_their_source(sqs, queue_name):
    source_url, dlq_url = make_source_and_dead_letter_queues(sqs, queue_name)
    sqs.send_message(QueueUrl=source_url, MessageBody="redrive me")
    sqs.receive_message(QueueUrl=source_url)
    for _ in range(3):
        sqs.receive_message(QueueUrl=source_url)
    dlq_arn = queue_arn(name_of(dlq_url))
    counts = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert counts["Attributes"]["ApproximateNumberOfMessages"] == "1"

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    task = wait_for_move_task(sqs, dlq_arn, {"COMPLETED"})
    assert task["SourceArn"] == dlq_arn
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    [moved] = receive_all(sqs, source_url, 1)
    assert moved["Body"] == "redrive me"


def test_cancel_message_move_task_stops_a_running_task(sqs, queue_name):
    source_url, dlq_url = make_source_and_dead_letter_queues(sqs, queue_name)
    for batch in range(3):
        sqs.send_message_batch(
            QueueUrl=dlq_url, Entries=[{"Id": f"e{i}", "MessageBody": f"m{batch}-{i}"} for i in range(10)]
        )
    dlq_arn = queue_arn(name_of(dlq_url))
    handle = sqs.start_message_move_task(
        SourceArn=dlq_arn, DestinationArn=queue_arn(name_of(source_url)), MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    with pytest.raises(ClientError):
        # Only one task may run per source queue.
        sqs.start_message_move_task(SourceArn=dlq_arn)
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 0 <= moved < 30
    task = wait_for_move_task(sqs, dlq_arn, {"CANCELLED"})
    assert task["ApproximateNumberOfMessagesMoved"] < 30


def test_message_move_task_from_queue_that_is_not_a_dead_letter_queue_fails(sqs, queue_name, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.start_message_move_task(SourceArn=queue_arn(queue_name))
    assert error_code(excinfo) in {"InvalidParameterValue", "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation"}


# ---------------------------------------------------------------- FIFO queues


def test_fifo_queue_reports_fifo_attributes(sqs, fifo_queue_url):
    attributes = sqs.get_queue_attributes(QueueUrl=fifo_queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"


def test_fifo_delivers_messages_of_a_group_in_send_order(sqs, fifo_queue_url):
    for i in range(5):
        sqs.send_message(QueueUrl=fifo_queue_url, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}")
    bodies = []
    for _ in range(10):
        messages = sqs.receive_message(QueueUrl=fifo_queue_url, MaxNumberOfMessages=2).get("Messages", [])
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=fifo_queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) == 5:
            break
    assert bodies == [f"m{i}" for i in range(5)]


def test_fifo_drops_duplicate_deduplication_id(sqs, fifo_queue_url):
    # The duplicate is acknowledged like any send, but never delivered.
    sqs.send_message(QueueUrl=fifo_queue_url, MessageBody="once", MessageGroupId="g", MessageDeduplicationId="same")
    sqs.send_message(QueueUrl=fifo_queue_url, MessageBody="twice", MessageGroupId="g", MessageDeduplicationId="same")
    messages = receive_all(sqs, fifo_queue_url, 2, timeout=2)
    assert [m["Body"] for m in messages] == ["once"]


def test_fifo_content_based_deduplication_drops_identical_bodies(sqs, queue_name):
    url = sqs.create_queue(
        QueueName=f"{queue_name[:70]}.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="g")
    messages = receive_all(sqs, url, 3, timeout=2)
    assert [m["Body"] for m in messages] == ["same body", "other body"]


def test_fifo_without_deduplication_id_or_content_dedup_fails(sqs, fifo_queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=fifo_queue_url, MessageBody="x", MessageGroupId="g")
    assert error_code(excinfo) == "InvalidParameterValue"


def test_fifo_without_message_group_id_fails_missing_parameter(sqs, fifo_queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=fifo_queue_url, MessageBody="x", MessageDeduplicationId="d")
    assert error_code(excinfo) == "MissingParameter"


def test_fifo_sequence_numbers_increase_and_are_reported_on_receive(sqs, fifo_queue_url):
    sequence_numbers = []
    for i in range(3):
        response = sqs.send_message(
            QueueUrl=fifo_queue_url, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}"
        )
        sequence_numbers.append(response["SequenceNumber"])
    assert all(number.isdigit() for number in sequence_numbers)
    assert [int(n) for n in sequence_numbers] == sorted(int(n) for n in sequence_numbers)
    assert len(set(sequence_numbers)) == 3
    messages = sqs.receive_message(QueueUrl=fifo_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    first = messages[0]["Attributes"]
    assert first["SequenceNumber"] == sequence_numbers[0]
    assert first["MessageGroupId"] == "g"
    assert first["MessageDeduplicationId"] == "d0"


def test_fifo_group_is_blocked_while_a_message_of_it_is_in_flight(sqs, fifo_queue_url):
    for body, group in [("a1", "A"), ("a2", "A"), ("b1", "B")]:
        sqs.send_message(QueueUrl=fifo_queue_url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body)
    [a1] = sqs.receive_message(QueueUrl=fifo_queue_url, MaxNumberOfMessages=1)["Messages"]
    assert a1["Body"] == "a1"
    others = sqs.receive_message(QueueUrl=fifo_queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in others] == ["b1"]
    assert sqs.receive_message(QueueUrl=fifo_queue_url, MaxNumberOfMessages=10).get("Messages", []) == []
    sqs.delete_message(QueueUrl=fifo_queue_url, ReceiptHandle=a1["ReceiptHandle"])
    [a2] = sqs.receive_message(QueueUrl=fifo_queue_url, MaxNumberOfMessages=10)["Messages"]
    assert a2["Body"] == "a2"


def test_fifo_batch_send_keeps_entry_order(sqs, fifo_queue_url):
    entries = [
        {"Id": f"e{i}", "MessageBody": f"m{i}", "MessageGroupId": "g", "MessageDeduplicationId": f"d{i}"}
        for i in range(10)
    ]
    response = sqs.send_message_batch(QueueUrl=fifo_queue_url, Entries=entries)
    assert len(response["Successful"]) == 10
    messages = sqs.receive_message(QueueUrl=fifo_queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == [f"m{i}" for i in range(10)]


# ---------------------------------------------------------------- STS and health


def test_sts_get_caller_identity_reports_default_account(sts):
    identity = sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT_ID
    assert identity["Arn"].startswith("arn:aws:")
    assert ACCOUNT_ID in identity["Arn"]
    assert identity["UserId"]


def test_health_endpoint_answers_ok(eddy_endpoint):
    response = requests.get(f"{eddy_endpoint}/_eddy/health", timeout=5)
    assert response.status_code == 200


# ---------------------------------------------------------------- concurrency


def test_concurrent_senders_and_receivers_lose_and_duplicate_nothing(eddy_endpoint, queue_url):
    from concurrent.futures import ThreadPoolExecutor

    from conftest import make_client

    senders, per_sender = 6, 40
    expected = {f"s{s}-m{m}" for s in range(senders) for m in range(per_sender)}

    def send_all(sender: int) -> None:
        client = make_client("sqs", eddy_endpoint)
        for start in range(0, per_sender, 10):
            entries = [{"Id": f"e{m}", "MessageBody": f"s{sender}-m{m}"} for m in range(start, start + 10)]
            assert len(client.send_message_batch(QueueUrl=queue_url, Entries=entries)["Successful"]) == 10

    received: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 40

    def receive_until_done() -> None:
        client = make_client("sqs", eddy_endpoint)
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= len(expected):
                    return
            messages = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
            if messages:
                client.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
                with lock:
                    received.extend(m["Body"] for m in messages)

    with ThreadPoolExecutor(max_workers=senders + 3) as pool:
        receivers = [pool.submit(receive_until_done) for _ in range(3)]
        for future in [pool.submit(send_all, s) for s in range(senders)]:
            future.result()
        for future in receivers:
            future.result()
    assert len(received) == len(expected)
    assert set(received) == expected
