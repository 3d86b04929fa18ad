"""SQS event source mappings (queue → function) through boto3 against a real eddy, with real
Python functions (tests/functions/python/esm_app.py) run by the official runtime interface
client: the record shape a function receives, partial batch failures, redrive to a
dead-letter queue, pausing and resuming, FIFO order per message group, and the control
plane's answers and validation errors."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, REGION, REPO_ROOT, error_code, make_client, queue_arn

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role"
ESM_APP = REPO_ROOT / "tests" / "functions" / "python" / "esm_app.py"


def esm_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(ESM_APP, "esm_app.py")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def awslambda(eddy_endpoint):
    return make_client("lambda", eddy_endpoint, read_timeout=60)


@pytest.fixture(scope="module")
def awslambda_unvalidated(eddy_endpoint):
    """Sends what it is given, so the server's own range checks are tested."""
    return make_client("lambda", eddy_endpoint, parameter_validation=False)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_function(awslambda, handler: str, variables: dict, timeout: int = 3, name: str | None = None) -> str:
    name = name or unique("esm")
    awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler=handler,
        Timeout=timeout,
        Code={"ZipFile": esm_zip()},
        Environment={"Variables": variables},
    )
    return name


def wait_for_state(awslambda, mapping_uuid: str, state: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        mapping = awslambda.get_event_source_mapping(UUID=mapping_uuid)
        if mapping["State"] == state:
            return mapping
        if time.monotonic() > deadline:
            raise AssertionError(f"mapping {mapping_uuid} stayed {mapping['State']}, wanted {state}")
        time.sleep(0.1)


def recorded(path: Path) -> list[dict]:
    """Every invocation the `record`/`partial` handlers wrote, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def recorded_records(path: Path) -> list[dict]:
    return [record for invocation in recorded(path) for record in invocation["event"]["Records"]]


def wait_for_records(path: Path, count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        records = recorded_records(path)
        if len(records) >= count:
            return records
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(records)} records delivered, expected {count}")
        time.sleep(0.1)


def queue_counts(sqs, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def wait_until_empty(sqs, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while queue_counts(sqs, url) != (0, 0):
        if time.monotonic() > deadline:
            raise AssertionError(f"queue {url} still holds {queue_counts(sqs, url)}")
        time.sleep(0.1)


def test_queue_delivers_the_exact_sqs_record_shape(awslambda, sqs, queue_name, tmp_path):
    record_file = tmp_path / "records.jsonl"
    function = create_function(awslambda, "esm_app.record", {"RECORD_FILE": str(record_file)})
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    created = awslambda.create_event_source_mapping(
        EventSourceArn=queue_arn(queue_name), FunctionName=function
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["BatchSize"] == 10
    assert created["MaximumBatchingWindowInSeconds"] == 0
    assert created["FunctionResponseTypes"] == []
    assert created["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function}"
    assert created["EventSourceArn"] == queue_arn(queue_name)
    assert created["EventSourceMappingArn"] == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:event-source-mapping:{created['UUID']}"
    )
    wait_for_state(awslambda, created["UUID"], "Enabled")

    with_attributes = sqs.send_message(
        QueueUrl=url,
        MessageBody='{"order": 1}',
        MessageAttributes={
            "Author": {"DataType": "String", "StringValue": "Ann"},
            "Pages": {"DataType": "Number", "StringValue": "6"},
            "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    plain = sqs.send_message(QueueUrl=url, MessageBody="plain text")
    records = {record["messageId"]: record for record in wait_for_records(record_file, 2)}
    wait_until_empty(sqs, url)

    first = records[with_attributes["MessageId"]]
    assert list(first) == [
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
    ]
    assert first["body"] == '{"order": 1}'
    assert first["md5OfBody"] == hashlib.md5(b'{"order": 1}').hexdigest()
    assert first["md5OfMessageAttributes"] == with_attributes["MD5OfMessageAttributes"]
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"] == queue_arn(queue_name)
    assert first["awsRegion"] == REGION
    assert isinstance(first["receiptHandle"], str) and first["receiptHandle"]
    assert set(first["attributes"]) == {
        "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
    }
    assert all(isinstance(value, str) for value in first["attributes"].values())
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert first["attributes"]["SentTimestamp"].isdigit()
    assert first["messageAttributes"] == {
        "Author": {"stringValue": "Ann", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "Pages": {"stringValue": "6", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
        "Blob": {
            "binaryValue": base64.b64encode(b"\x00\x01").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }

    second = records[plain["MessageId"]]
    assert second["body"] == "plain text"
    assert second["messageAttributes"] == {}
    assert second["md5OfMessageAttributes"] is None


def test_partial_batch_failure_returns_only_the_failed_message_then_dead_letters_it(
    awslambda, sqs, queue_name, tmp_path
):
    record_file = tmp_path / "records.jsonl"
    function = create_function(awslambda, "esm_app.partial", {"RECORD_FILE": str(record_file)})
    dlq_url = sqs.create_queue(QueueName=f"{queue_name[:70]}-dlq")["QueueUrl"]
    dlq_arn = queue_arn(f"{queue_name[:70]}-dlq")
    url = sqs.create_queue(
        QueueName=queue_name,
        Attributes={
            "VisibilityTimeout": "3",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": json.dumps({"n": 1})},
            {"Id": "b", "MessageBody": json.dumps({"n": 2, "fail": True})},
            {"Id": "c", "MessageBody": json.dumps({"n": 3})},
        ],
    )
    mapping = awslambda.create_event_source_mapping(
        EventSourceArn=queue_arn(queue_name),
        FunctionName=function,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    dead = []
    deadline = time.monotonic() + 40
    while not dead and time.monotonic() < deadline:
        dead = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=2).get("Messages", [])
    assert [json.loads(message["Body"]) for message in dead] == [{"n": 2, "fail": True}]
    wait_until_empty(sqs, url)

    deliveries = [
        (json.loads(record["body"])["n"], record["attributes"]["ApproximateReceiveCount"], invocation["time"])
        for invocation in recorded(record_file)
        for record in invocation["event"]["Records"]
    ]
    assert sorted((n, count) for n, count, _ in deliveries) == [(1, "1"), (2, "1"), (2, "2"), (3, "1")]
    # The failed message came back only after the queue's visibility timeout (3 s).
    first, second = sorted(at for n, _, at in deliveries if n == 2)
    assert second - first >= 2.5, deliveries


def test_disabling_pauses_polling_and_enabling_resumes(awslambda, sqs, queue_name, tmp_path):
    record_file = tmp_path / "records.jsonl"
    function = create_function(awslambda, "esm_app.record", {"RECORD_FILE": str(record_file)})
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    mapping = awslambda.create_event_source_mapping(EventSourceArn=queue_arn(queue_name), FunctionName=function)
    wait_for_state(awslambda, mapping["UUID"], "Enabled")

    disabling = awslambda.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    assert disabling["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert disabling["State"] == "Disabling"
    wait_for_state(awslambda, mapping["UUID"], "Disabled")
    sqs.send_message(QueueUrl=url, MessageBody="held")
    time.sleep(2)
    assert queue_counts(sqs, url) == (1, 0)
    assert recorded(record_file) == []

    enabling = awslambda.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    assert enabling["State"] == "Enabling"
    assert [record["body"] for record in wait_for_records(record_file, 1)] == ["held"]
    wait_until_empty(sqs, url)
    wait_for_state(awslambda, mapping["UUID"], "Enabled")


def test_fifo_groups_keep_their_order_across_concurrent_environments(awslambda, sqs, queue_name, tmp_path):
    record_file = tmp_path / "records.jsonl"
    function = create_function(
        awslambda, "esm_app.record", {"RECORD_FILE": str(record_file), "SLEEP_MS": "200"}
    )
    name = f"{queue_name[:70]}.fifo"
    url = sqs.create_queue(
        QueueName=name, Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    groups = ["g1", "g2", "g3"]
    for index in range(5):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": group, "MessageBody": f"{group}:{index}", "MessageGroupId": group} for group in groups
            ],
        )
    awslambda.create_event_source_mapping(
        EventSourceArn=queue_arn(name), FunctionName=function, BatchSize=1,
        ScalingConfig={"MaximumConcurrency": 3},
    )
    wait_for_records(record_file, 15, timeout=60)
    wait_until_empty(sqs, url)

    invocations = recorded(record_file)
    by_group: dict[str, list[int]] = {}
    for invocation in invocations:
        (record,) = invocation["event"]["Records"]
        group, index = record["body"].split(":")
        assert record["attributes"]["MessageGroupId"] == group
        assert record["attributes"]["SequenceNumber"].isdigit()
        assert record["attributes"]["MessageDeduplicationId"]
        by_group.setdefault(group, []).append(int(index))
    assert by_group == {group: [0, 1, 2, 3, 4] for group in groups}
    # Several environments ran at once (one message group each).
    assert len({invocation["pid"] for invocation in invocations}) >= 2


def test_get_list_update_and_delete_answer_as_lambda_does(awslambda, sqs, queue_name, tmp_path):
    function = create_function(awslambda, "esm_app.record", {"RECORD_FILE": str(tmp_path / "r.jsonl")})
    other = create_function(awslambda, "esm_app.record", {"RECORD_FILE": str(tmp_path / "o.jsonl")})
    sqs.create_queue(QueueName=queue_name)
    mapping = awslambda.create_event_source_mapping(
        EventSourceArn=queue_arn(queue_name), FunctionName=function, Enabled=False, BatchSize=5,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["a"]}})}]},
        ScalingConfig={"MaximumConcurrency": 4},
    )
    assert mapping["State"] == "Disabled"
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 4}
    assert mapping["FilterCriteria"] == {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["a"]}})}]}

    got = awslambda.get_event_source_mapping(UUID=mapping["UUID"])
    assert got["BatchSize"] == 5
    assert got["LastModified"] == mapping["LastModified"]

    listed = awslambda.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    assert [item["UUID"] for item in listed] == [mapping["UUID"]]
    listed = awslambda.list_event_source_mappings(EventSourceArn=queue_arn(queue_name))["EventSourceMappings"]
    assert [item["UUID"] for item in listed] == [mapping["UUID"]]
    paged = [
        item["UUID"]
        for page in awslambda.get_paginator("list_event_source_mappings").paginate(
            EventSourceArn=queue_arn(queue_name), PaginationConfig={"PageSize": 1}
        )
        for item in page["EventSourceMappings"]
    ]
    assert paged == [mapping["UUID"]]

    updated = awslambda.update_event_source_mapping(
        UUID=mapping["UUID"], FunctionName=other, BatchSize=7, FilterCriteria={}, ScalingConfig={}
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["State"] == "Updating"
    assert updated["FunctionArn"].endswith(f":function:{other}")
    assert updated["BatchSize"] == 7
    assert "FilterCriteria" not in updated and "ScalingConfig" not in updated
    wait_for_state(awslambda, mapping["UUID"], "Disabled")

    deleted = awslambda.delete_event_source_mapping(UUID=mapping["UUID"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["State"] == "Deleting"
    with pytest.raises(ClientError) as missing:
        awslambda.get_event_source_mapping(UUID=mapping["UUID"])
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error_code(missing) == "ResourceNotFoundException"
    assert missing.value.response["Error"]["Message"] == "The resource you requested does not exist."


def test_validation_errors_match_aws(awslambda, awslambda_unvalidated, sqs, queue_name, tmp_path):
    function = create_function(awslambda, "esm_app.record", {"RECORD_FILE": str(tmp_path / "r.jsonl")})
    slow = create_function(awslambda, "esm_app.record", {"RECORD_FILE": str(tmp_path / "s.jsonl")}, timeout=60)
    sqs.create_queue(QueueName=queue_name)
    fifo = f"{queue_name[:70]}.fifo"
    sqs.create_queue(QueueName=fifo, Attributes={"FifoQueue": "true"})
    arn = queue_arn(queue_name)

    def refused(client=awslambda, **request) -> tuple[int, str, str]:
        with pytest.raises(ClientError) as caught:
            client.create_event_source_mapping(**request)
        error = caught.value.response
        return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"]["Message"]

    invalid = "InvalidParameterValueException"
    assert refused(EventSourceArn=queue_arn("no-such-queue-" + uuid.uuid4().hex[:6]), FunctionName=function) == (
        400, invalid,
        "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
        "SQS Error Message: The specified queue does not exist for this wsdl version.",
    )
    assert refused(EventSourceArn=arn, FunctionName="no-such-function") == (400, invalid, "Function does not exist")
    assert refused(EventSourceArn=arn, FunctionName=function, BatchSize=11) == (
        400, invalid,
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
    )
    assert refused(EventSourceArn=queue_arn(fifo), FunctionName=function, BatchSize=11)[:2] == (400, invalid)
    assert refused(awslambda_unvalidated, EventSourceArn=arn, FunctionName=function, BatchSize=10001,
                   MaximumBatchingWindowInSeconds=1) == (
        400, "ValidationException",
        "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000",
    )
    assert refused(awslambda_unvalidated, EventSourceArn=arn, FunctionName=function,
                   MaximumBatchingWindowInSeconds=301)[:2] == (400, "ValidationException")
    assert refused(awslambda_unvalidated, EventSourceArn=arn, FunctionName=function,
                   ScalingConfig={"MaximumConcurrency": 1}) == (
        400, "ValidationException",
        "1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to satisfy "
        "constraint: Member must have value greater than or equal to 2",
    )
    assert refused(EventSourceArn=arn, FunctionName=function,
                   FilterCriteria={"Filters": [{"Pattern": "simple string"}]}) == (
        400, invalid, "Invalid filter pattern definition.",
    )
    assert refused(EventSourceArn=arn, FunctionName=slow) == (
        400, invalid, "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds",
    )
    assert refused(EventSourceArn=arn, FunctionName=function, StartingPosition="LATEST") == (
        400, invalid, "StartingPosition is not valid for SQS event sources.",
    )

    first = awslambda.create_event_source_mapping(EventSourceArn=arn, FunctionName=function)
    assert refused(EventSourceArn=arn, FunctionName=function) == (
        409, "ResourceConflictException",
        f'An event source mapping with SQS arn (" {arn} ") and function (" {function} ") already exists. '
        f"Please update or delete the existing mapping with UUID {first['UUID']}",
    )
