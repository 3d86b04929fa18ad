"""Asynchronous invocation through boto3 against a real eddy, with functions run by the
official Python runtime interface client (tests/functions/python/async_app.py): Event
invokes, retries counted by the handler itself, OnSuccess/OnFailure records in SQS
queues, dead-letter messages, and the event invoke configuration API.

This module starts its own eddy with `EDDY_FUNCTION_RETRY_DELAY=1`, so the retries Lambda
spaces one and two minutes apart come one and two seconds apart."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, REGION, REPO_ROOT, error_code, make_client, receive_all, start_eddy

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role"
APP = REPO_ROOT / "tests" / "functions" / "python" / "async_app.py"


def app_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(APP, "async_app.py")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def async_server(tmp_path_factory):
    server = start_eddy(
        tmp_path_factory.mktemp("eddy-async") / "data",
        env={"EDDY_FUNCTION_RETRY_DELAY": "1"},
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def awslambda(async_server):
    return make_client("lambda", async_server.endpoint, read_timeout=60)


@pytest.fixture(scope="module")
def awslambda_unvalidated(async_server):
    """Sends what it is given, so the server's own range checks are tested."""
    return make_client("lambda", async_server.endpoint, parameter_validation=False)


@pytest.fixture(scope="module")
def sqs(async_server):
    return make_client("sqs", async_server.endpoint)


@pytest.fixture
def function_name() -> str:
    return f"async-{uuid.uuid4().hex[:12]}"


def create(awslambda, name: str, attempts_file=None, **extra) -> dict:
    environment = {"Variables": {"ATTEMPTS_FILE": str(attempts_file)}} if attempts_file else None
    if environment:
        extra["Environment"] = environment
    return awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="async_app.record",
        Code={"ZipFile": app_zip()},
        **extra,
    )


def make_queue(sqs, prefix: str) -> tuple[str, str]:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"


def attempts(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_attempts(path, count: int, timeout: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = attempts(path)
        if len(seen) >= count:
            return seen
        time.sleep(0.1)
    return attempts(path)


def test_event_invoke_answers_202_and_runs_the_function_once(awslambda, function_name, tmp_path):
    trace = tmp_path / "attempts.jsonl"
    create(awslambda, function_name, trace)
    response = awslambda.invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps({"n": 1}))
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    request_id = response["ResponseMetadata"]["RequestId"]
    seen = wait_for_attempts(trace, 1)
    assert [attempt["event"] for attempt in seen] == [{"n": 1}]
    assert seen[0]["request_id"] == request_id, "the function sees the event's request id"
    time.sleep(1.5)
    assert len(attempts(trace)) == 1, "a success is not run again"


def test_failing_function_gets_exactly_three_attempts_then_an_on_failure_record(
    awslambda, sqs, function_name, tmp_path
):
    trace = tmp_path / "attempts.jsonl"
    create(awslambda, function_name, trace)
    failures_url, failures_arn = make_queue(sqs, "on-failure")
    awslambda.put_function_event_invoke_config(
        FunctionName=function_name,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )
    response = awslambda.invoke(FunctionName=function_name, InvocationType="Event", Payload=b'{"fail": true}')
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["RequestId"]

    messages = receive_all(sqs, failures_url, 1, timeout=40)
    assert len(messages) == 1
    record = json.loads(messages[0]["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"fail": True}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "boom"
    assert record["responsePayload"]["requestId"] == request_id
    assert record["timestamp"].endswith("Z")

    seen = attempts(trace)
    assert len(seen) == 3, seen
    assert {attempt["request_id"] for attempt in seen} == {request_id}
    time.sleep(3)
    assert len(attempts(trace)) == 3, "no attempt after the record"
    assert receive_all(sqs, failures_url, 1, timeout=1) == []


def test_success_record_goes_to_the_on_success_queue(awslambda, sqs, function_name):
    create(awslambda, function_name)
    successes_url, successes_arn = make_queue(sqs, "on-success")
    awslambda.put_function_event_invoke_config(
        FunctionName=function_name,
        DestinationConfig={"OnSuccess": {"Destination": successes_arn}},
    )
    response = awslambda.invoke(FunctionName=function_name, InvocationType="Event", Payload=b'{"order": 8}')
    messages = receive_all(sqs, successes_url, 1, timeout=30)
    assert len(messages) == 1
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert record["requestPayload"] == {"order": 8}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"ok": True, "event": {"order": 8}}


def test_dead_letter_queue_gets_the_original_event_with_error_attributes(awslambda, sqs, function_name, tmp_path):
    dead_letters_url, dead_letters_arn = make_queue(sqs, "dlq")
    trace = tmp_path / "attempts.jsonl"
    created = create(awslambda, function_name, trace, DeadLetterConfig={"TargetArn": dead_letters_arn})
    assert created["DeadLetterConfig"] == {"TargetArn": dead_letters_arn}
    awslambda.put_function_event_invoke_config(FunctionName=function_name, MaximumRetryAttempts=0)
    payload = b'{"fail": "please", "id": 42}'
    response = awslambda.invoke(FunctionName=function_name, InvocationType="Event", Payload=payload)
    messages = receive_all(sqs, dead_letters_url, 1, timeout=30, MessageAttributeNames=["All"])
    assert len(messages) == 1
    message = messages[0]
    assert message["Body"] == payload.decode()
    assert message["MessageAttributes"] == {
        "RequestID": {"DataType": "String", "StringValue": response["ResponseMetadata"]["RequestId"]},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": "boom"},
    }
    assert len(attempts(trace)) == 1, "MaximumRetryAttempts=0: one attempt"


def test_dead_letter_config_is_validated(awslambda, function_name):
    with pytest.raises(ClientError) as fifo:
        create(
            awslambda,
            function_name,
            DeadLetterConfig={"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:dlq.fifo"},
        )
    assert error_code(fifo) == "InvalidParameterValueException"
    assert "FIFO SQS queue is not supported" in fifo.value.response["Error"]["Message"]
    create(awslambda, function_name)
    with pytest.raises(ClientError) as wrong_service:
        awslambda.update_function_configuration(
            FunctionName=function_name,
            DeadLetterConfig={"TargetArn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/t"},
        )
    assert error_code(wrong_service) == "InvalidParameterValueException"
    updated = awslambda.update_function_configuration(
        FunctionName=function_name,
        DeadLetterConfig={"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:dlq"},
    )
    assert updated["DeadLetterConfig"] == {"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:dlq"}
    cleared = awslambda.update_function_configuration(FunctionName=function_name, DeadLetterConfig={"TargetArn": ""})
    assert "DeadLetterConfig" not in cleared


def test_event_invoke_config_put_get_update_list_delete(awslambda, sqs, function_name):
    create(awslambda, function_name)
    _, queue_arn = make_queue(sqs, "destination")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}:$LATEST"
    put = awslambda.put_function_event_invoke_config(
        FunctionName=function_name,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert put["FunctionArn"] == arn
    assert put["MaximumRetryAttempts"] == 1
    assert "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": queue_arn}}
    assert isinstance(put["LastModified"], datetime)

    updated = awslambda.update_function_event_invoke_config(FunctionName=function_name, MaximumEventAgeInSeconds=120)
    assert updated["MaximumRetryAttempts"] == 1, "update merges"
    assert updated["MaximumEventAgeInSeconds"] == 120
    assert updated["DestinationConfig"]["OnFailure"] == {"Destination": queue_arn}

    replaced = awslambda.put_function_event_invoke_config(
        FunctionName=function_name, Qualifier="$LATEST", MaximumEventAgeInSeconds=300
    )
    assert "MaximumRetryAttempts" not in replaced, "put replaces"
    assert replaced["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}

    got = awslambda.get_function_event_invoke_config(FunctionName=function_name)
    assert got["MaximumEventAgeInSeconds"] == 300
    assert got["FunctionArn"] == arn
    listed = awslambda.list_function_event_invoke_configs(FunctionName=function_name)
    assert [config["FunctionArn"] for config in listed["FunctionEventInvokeConfigs"]] == [arn]
    assert "NextMarker" not in listed

    deleted = awslambda.delete_function_event_invoke_config(FunctionName=function_name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as missing:
        awslambda.get_function_event_invoke_config(FunctionName=function_name)
    assert error_code(missing) == "ResourceNotFoundException"
    assert missing.value.response["Error"]["Message"] == f"The function {arn} doesn't have an EventInvokeConfig"
    assert awslambda.list_function_event_invoke_configs(FunctionName=function_name)["FunctionEventInvokeConfigs"] == []


def test_event_invoke_config_errors(awslambda, awslambda_unvalidated, function_name):
    create(awslambda, function_name)
    with pytest.raises(ClientError) as retries:
        awslambda_unvalidated.put_function_event_invoke_config(FunctionName=function_name, MaximumRetryAttempts=3)
    assert error_code(retries) == "ValidationException"
    assert retries.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as age:
        awslambda_unvalidated.put_function_event_invoke_config(
            FunctionName=function_name, MaximumEventAgeInSeconds=21601
        )
    assert error_code(age) == "ValidationException"
    with pytest.raises(ClientError) as nothing:
        awslambda.put_function_event_invoke_config(FunctionName=function_name)
    assert error_code(nothing) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as fifo:
        awslambda.put_function_event_invoke_config(
            FunctionName=function_name,
            DestinationConfig={"OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:q.fifo"}},
        )
    assert error_code(fifo) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as itself:
        awslambda.put_function_event_invoke_config(
            FunctionName=function_name,
            DestinationConfig={
                "OnSuccess": {"Destination": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"}
            },
        )
    assert itself.value.response["Error"]["Message"] == "You can't specify the function as a destination for itself."
    with pytest.raises(ClientError) as no_function:
        awslambda.put_function_event_invoke_config(FunctionName=f"{function_name}-missing", MaximumRetryAttempts=1)
    assert error_code(no_function) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as no_update:
        awslambda.update_function_event_invoke_config(FunctionName=function_name, MaximumRetryAttempts=1)
    assert error_code(no_update) == "ResourceNotFoundException"


def test_event_payload_over_one_mebibyte_is_refused(awslambda, function_name):
    create(awslambda, function_name)
    payload = json.dumps("x" * 1_048_576).encode()
    with pytest.raises(ClientError) as too_large:
        awslambda.invoke(FunctionName=function_name, InvocationType="Event", Payload=payload)
    assert too_large.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error_code(too_large) == "RequestTooLargeException"
    with pytest.raises(ClientError) as not_json:
        awslambda.invoke(FunctionName=function_name, InvocationType="Event", Payload=b"{")
    assert error_code(not_json) == "InvalidRequestContentException"


def test_internal_queues_are_not_visible_to_clients(awslambda, sqs, function_name, async_server):
    create(awslambda, function_name)
    awslambda.invoke(FunctionName=function_name, InvocationType="Event", Payload=b"{}")
    urls = sqs.list_queues().get("QueueUrls", [])
    assert not any(function_name in url for url in urls)
    internal = f"{ACCOUNT_ID}-{function_name}"
    with pytest.raises(ClientError) as by_owner:
        sqs.get_queue_url(QueueName=internal, QueueOwnerAWSAccountId="lambda:async")
    assert error_code(by_owner) == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(ClientError) as by_url:
        sqs.receive_message(QueueUrl=f"{async_server.endpoint}/lambda:async/{internal}")
    assert error_code(by_url) == "AWS.SimpleQueueService.NonExistentQueue"
