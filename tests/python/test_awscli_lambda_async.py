"""Asynchronous invocation through the AWS CLI (v1, from PyPI) against the shared eddy: the
README's commands (event invoke configuration, `--invocation-type Event`, a destination
queue, a dead-letter queue) as a user types them."""

from __future__ import annotations

import json
import time
import uuid

from conftest import ACCOUNT_ID, REGION
from test_boto3_lambda_async import app_zip


def test_cli_configures_invokes_asynchronously_and_reads_the_record(aws, tmp_path):
    name = f"cli-async-{uuid.uuid4().hex[:10]}"
    package = tmp_path / "function.zip"
    package.write_bytes(app_zip())
    aws(
        "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
        "--handler", "async_app.record", "--role", f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
        "--zip-file", f"fileb://{package}",
    )
    queue = f"{name}-successes"
    queue_url = aws("sqs", "create-queue", "--queue-name", queue)["QueueUrl"]
    destination = {"OnSuccess": {"Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}"}}
    configured = aws(
        "lambda", "put-function-event-invoke-config", "--function-name", name,
        "--maximum-retry-attempts", "1", "--maximum-event-age-in-seconds", "3600",
        "--destination-config", json.dumps(destination),
    )
    assert configured["MaximumRetryAttempts"] == 1
    assert configured["DestinationConfig"]["OnSuccess"] == destination["OnSuccess"]
    listed = aws("lambda", "list-function-event-invoke-configs", "--function-name", name)
    assert len(listed["FunctionEventInvokeConfigs"]) == 1

    output = tmp_path / "out.json"
    invoked = aws(
        "lambda", "invoke", "--function-name", name, "--invocation-type", "Event",
        "--payload", '{"order": 7}', str(output),
    )
    assert invoked["StatusCode"] == 202
    assert output.read_bytes() == b""

    record = None
    deadline = time.monotonic() + 30
    while record is None and time.monotonic() < deadline:
        received = aws("sqs", "receive-message", "--queue-url", queue_url, "--wait-time-seconds", "2")
        for message in received.get("Messages", []):
            record = json.loads(message["Body"])
    assert record is not None, "no success record within 30 s"
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestPayload"] == {"order": 7}

    updated = aws(
        "lambda", "update-function-configuration", "--function-name", name,
        "--dead-letter-config", f"TargetArn=arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}-dlq",
    )
    assert updated["DeadLetterConfig"]["TargetArn"].endswith(f":{name}-dlq")
    aws("lambda", "delete-function-event-invoke-config", "--function-name", name)
    error = aws("lambda", "get-function-event-invoke-config", "--function-name", name, expect_failure=True)
    assert "ResourceNotFoundException" in error
    aws("lambda", "delete-function", "--function-name", name)
