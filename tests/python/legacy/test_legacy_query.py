"""The core SQS flow through an old boto3 that speaks the form-encoded query protocol.

Run from .tmp/venv-legacy (boto3/botocore 1.34.89, the last release whose SQS model is
`query`); the fixtures come from tests/python/conftest.py. Errors here carry the query codes
straight from the XML `<Code>` element.
"""

from __future__ import annotations

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, error_code, queue_arn, receive_all
from sqs_digests import md5_of_attributes, md5_of_body

ClientError = botocore.exceptions.ClientError


def test_client_speaks_the_query_protocol(sqs):
    assert sqs.meta.service_model.protocol == "query"


def test_create_queue_and_get_url_over_query(sqs, eddy_endpoint, queue_name):
    url = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "15"}, tags={"t": "1"})["QueueUrl"]
    assert url == f"{eddy_endpoint}/{ACCOUNT_ID}/{queue_name}"
    assert sqs.get_queue_url(QueueName=queue_name)["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix=queue_name)["QueueUrls"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"t": "1"}


def test_send_and_receive_with_attributes_over_query(sqs, queue_url):
    attributes = {
        "s": {"DataType": "String", "StringValue": "välue"},
        "n": {"DataType": "Number", "StringValue": "3.14"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xffbin"},
        "c": {"DataType": "String.custom", "StringValue": "custom"},
    }
    body = "query body ✓ <&> \r\n"
    sent = sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes)
    assert sent["MD5OfMessageBody"] == md5_of_body(body)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    [message] = receive_all(sqs, queue_url, 1, MessageAttributeNames=["All"], AttributeNames=["All"])
    assert message["Body"] == body
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(message["Attributes"]["SentTimestamp"]) > 0
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []) == []


def test_batch_send_and_delete_over_query(sqs, queue_url):
    sent = sqs.send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": f"e{i}", "MessageBody": f"m{i}"} for i in range(5)]
    )
    assert sorted(entry["Id"] for entry in sent["Successful"]) == [f"e{i}" for i in range(5)]
    assert sent.get("Failed", []) == []
    messages = receive_all(sqs, queue_url, 5)
    assert sorted(m["Body"] for m in messages) == [f"m{i}" for i in range(5)]
    entries = [{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    entries.append({"Id": "bad", "ReceiptHandle": "garbage"})
    deleted = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    assert len(deleted["Successful"]) == 5
    assert [(f["Id"], f["Code"]) for f in deleted["Failed"]] == [("bad", "ReceiptHandleIsInvalid")]


def test_queue_attributes_over_query(sqs, queue_name, queue_url):
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "99", "DelaySeconds": "1"})
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "99"
    assert attributes["DelaySeconds"] == "1"
    assert attributes["QueueArn"] == queue_arn(queue_name)


def test_missing_queue_fails_with_query_code(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as excinfo:
        sqs.get_queue_url(QueueName="no-such-queue-legacy")
    assert error_code(excinfo) == "AWS.SimpleQueueService.NonExistentQueue"


def test_conflicting_create_fails_queue_already_exists(sqs, queue_name):
    sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "10"})
    with pytest.raises(sqs.exceptions.QueueNameExists) as excinfo:
        sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "11"})
    assert error_code(excinfo) == "QueueAlreadyExists"


def test_batch_errors_carry_query_codes(sqs, queue_url):
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest) as excinfo:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)])
    assert error_code(excinfo) == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": "x", "MessageBody": "a"}, {"Id": "x", "MessageBody": "b"}])


def test_invalid_receipt_handle_and_attribute_name_over_query(sqs, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle="garbage")
    assert error_code(excinfo) == "ReceiptHandleIsInvalid"
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"NoSuchAttribute": "1"})
    assert error_code(excinfo) == "InvalidAttributeName"


def test_oversize_message_fails_invalid_parameter_value_over_query(sqs, queue_url):
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=queue_url, MessageBody="a" * (1_048_576 + 1))
    assert error_code(excinfo) == "InvalidParameterValue"


def test_fifo_send_and_receive_over_query(sqs, fifo_queue_url):
    numbers = []
    for i in range(3):
        sent = sqs.send_message(
            QueueUrl=fifo_queue_url, MessageBody=f"f{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}"
        )
        numbers.append(int(sent["SequenceNumber"]))
    assert numbers == sorted(numbers)
    messages = sqs.receive_message(QueueUrl=fifo_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in messages] == ["f0", "f1", "f2"]
    assert messages[0]["Attributes"]["MessageGroupId"] == "g"


def test_change_visibility_and_purge_over_query(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="v")
    [message] = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=60)["Messages"]
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert len(sqs.receive_message(QueueUrl=queue_url)["Messages"]) == 1
    sqs.purge_queue(QueueUrl=queue_url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=queue_url)


def test_delete_queue_over_query(sqs, queue_name, queue_url):
    sqs.delete_queue(QueueUrl=queue_url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=queue_name)
