"""Queue triggers through the AWS CLI (v1), with the commands of the README's drafts example:
create-function, create-event-source-mapping, send-message-batch, then the mapping's
get/list/update/delete."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

from conftest import ACCOUNT_ID, REGION
from test_boto3_lambda_esm import esm_zip


def test_cli_wires_a_queue_to_the_drafts_function(aws, tmp_path):
    suffix = uuid.uuid4().hex[:10]
    queue, function = f"drafts-{suffix}", f"save-draft-{suffix}"
    database = tmp_path / "drafts.db"
    package = tmp_path / "drafts.zip"
    package.write_bytes(esm_zip())
    queue_url = aws("sqs", "create-queue", "--queue-name", queue)["QueueUrl"]
    aws(
        "lambda", "create-function", "--function-name", function, "--runtime", "python3.12",
        "--handler", "esm_app.save_draft", "--zip-file", f"fileb://{package}",
        "--role", f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
        "--environment", f"Variables={{DRAFTS_DB={database}}}",
    )
    mapping = aws(
        "lambda", "create-event-source-mapping", "--function-name", function,
        "--event-source-arn", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}",
        "--batch-size", "1", "--scaling-config", "MaximumConcurrency=5",
    )
    assert mapping["State"] == "Creating"
    deadline = time.monotonic() + 20
    while aws("lambda", "get-event-source-mapping", "--uuid", mapping["UUID"])["State"] != "Enabled":
        assert time.monotonic() < deadline, "the mapping never became Enabled"
        time.sleep(0.2)

    saves = [
        {"Id": version.replace(".", "-"), "MessageBody": json.dumps({"draft": "d1", "version": version})}
        for version in ["1.2", "1.0", "1.1"]
    ]
    sent = aws("sqs", "send-message-batch", "--queue-url", queue_url, "--entries", json.dumps(saves))
    assert len(sent["Successful"]) == 3
    deadline = time.monotonic() + 30
    while True:
        attributes = aws(
            "sqs", "get-queue-attributes", "--queue-url", queue_url, "--attribute-names", "All"
        )["Attributes"]
        if attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0":
            break
        assert time.monotonic() < deadline, attributes
        time.sleep(0.2)
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT id, version FROM drafts").fetchall() == [("d1", "1.2")]

    listed = aws("lambda", "list-event-source-mappings", "--function-name", function)["EventSourceMappings"]
    assert [item["UUID"] for item in listed] == [mapping["UUID"]]
    assert aws("lambda", "update-event-source-mapping", "--uuid", mapping["UUID"], "--no-enabled")["State"] == "Disabling"
    assert aws("lambda", "delete-event-source-mapping", "--uuid", mapping["UUID"])["State"] == "Deleting"
