"""The README tour with the AWS CLI (v1, from PyPI) against a real eddy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import ACCOUNT_ID
from sqs_digests import md5_of_body

AWS_CLI = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def aws(eddy_endpoint, tmp_path_factory):
    """Runs `aws --endpoint-url <eddy> ARGS… --output json` and returns the parsed output."""
    if not AWS_CLI.exists():
        pytest.skip(f"AWS CLI not installed next to {sys.executable}")
    home = tmp_path_factory.mktemp("aws-home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Keep any configuration of the machine's user out of the test.
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    }

    def run(*args: str, expect_failure: bool = False):
        completed = subprocess.run(
            [str(AWS_CLI), "--endpoint-url", eddy_endpoint, "--output", "json", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if expect_failure:
            assert completed.returncode != 0, completed.stdout
            return completed.stderr
        assert completed.returncode == 0, f"aws {' '.join(args)} failed:\n{completed.stderr}"
        return json.loads(completed.stdout) if completed.stdout.strip() else {}

    return run


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
