"""Lambda through the AWS CLI (v1, from PyPI) against a real eddy: create-function with
`--zip-file fileb://…`, invoke into an output file, delete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import ACCOUNT_ID
from test_boto3_lambda import app_zip

AWS_CLI = Path(sys.executable).parent / "aws"


def test_cli_creates_invokes_and_deletes_a_function(eddy_endpoint, tmp_path):
    if not AWS_CLI.exists():
        pytest.skip(f"AWS CLI not installed next to {sys.executable}")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    }

    def aws(*args: str) -> dict:
        completed = subprocess.run(
            [str(AWS_CLI), "--endpoint-url", eddy_endpoint, "--output", "json", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert completed.returncode == 0, f"aws {' '.join(args)} failed:\n{completed.stderr}"
        return json.loads(completed.stdout) if completed.stdout.strip() else {}

    name = f"cli-{uuid.uuid4().hex[:12]}"
    package = tmp_path / "function.zip"
    package.write_bytes(app_zip())
    created = aws(
        "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
        "--handler", "app.echo", "--role", f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
        "--zip-file", f"fileb://{package}",
    )
    assert created["State"] == "Active"
    aws("lambda", "wait", "function-active-v2", "--function-name", name)

    output = tmp_path / "out.json"
    invoked = aws(
        "lambda", "invoke", "--function-name", name,
        "--payload", '{"from": "cli"}', str(output),
    )
    assert invoked["StatusCode"] == 200
    assert json.loads(output.read_text())["echo"] == {"from": "cli"}

    assert name in [f["FunctionName"] for f in aws("lambda", "list-functions")["Functions"]]
    aws("lambda", "delete-function", "--function-name", name)
