"""The README tour with the AWS CLI (v1, from PyPI) against a real eddy."""

from __future__ import annotations

import json
import uuid

from conftest import ACCOUNT_ID
from sqs_digests import md5_of_body


def test_cli_tour_create_send_receive_delete(aws, eddy_endpoint, queue_name):
    created = aws("sqs", "create-queue", "--queue-name", queue_name, "--attributes", "VisibilityTimeout=20")
    url = created["QueueUrl"]
    assert url == f"{eddy_endpoint}/{ACCOUNT_ID}/{queue_name}"

    listed = aws("sqs", "list-queues", "--queue-name-prefix", queue_name)
    assert listed["QueueUrls"] == [url]

    body = "hello from the CLI"
    sent = aws(
        "sqs",
        "send-message",
        "--queue-url",
        url,
        "--message-body",
        body,
        "--message-attributes",
        '{"kind": {"DataType": "String", "StringValue": "greeting"}}',
    )
    assert sent["MD5OfMessageBody"] == md5_of_body(body)

    received = aws(
        "sqs",
        "receive-message",
        "--queue-url",
        url,
        "--wait-time-seconds",
        "5",
        "--attribute-names",
        "All",
        "--message-attribute-names",
        "All",
    )
    [message] = received["Messages"]
    assert message["Body"] == body
    assert message["MessageAttributes"]["kind"]["StringValue"] == "greeting"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"

    aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", message["ReceiptHandle"])

    attributes = aws("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
    assert attributes["VisibilityTimeout"] == "20"
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"

    aws("sqs", "delete-queue", "--queue-url", url)
    stderr = aws("sqs", "get-queue-url", "--queue-name", queue_name, expect_failure=True)
    assert "AWS.SimpleQueueService.NonExistentQueue" in stderr


def test_cli_receive_on_empty_queue_prints_nothing(aws, queue_url):
    assert aws("sqs", "receive-message", "--queue-url", queue_url).get("Messages", []) == []


def test_cli_sts_get_caller_identity_reports_default_account(aws):
    identity = aws("sts", "get-caller-identity")
    assert identity["Account"] == ACCOUNT_ID


def test_cli_iam_create_role_attach_and_delete(aws, tmp_path):
    role = f"cli-role-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(json.dumps(trust))
    created = aws("iam", "create-role", "--role-name", role, "--assume-role-policy-document", f"file://{trust_file}")
    assert created["Role"]["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
    assert created["Role"]["AssumeRolePolicyDocument"] == trust

    policy = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    aws("iam", "attach-role-policy", "--role-name", role, "--policy-arn", policy)
    fetched = aws("iam", "get-role", "--role-name", role)
    assert fetched["Role"]["RoleId"] == created["Role"]["RoleId"]
    stderr = aws("iam", "delete-role", "--role-name", role, expect_failure=True)
    assert "DeleteConflict" in stderr
    aws("iam", "detach-role-policy", "--role-name", role, "--policy-arn", policy)
    aws("iam", "delete-role", "--role-name", role)
    stderr = aws("iam", "get-role", "--role-name", role, expect_failure=True)
    assert "NoSuchEntity" in stderr
