"""Lambda through the AWS CLI (v1, from PyPI) against a real eddy: create-function with
`--zip-file fileb://…`, invoke into an output file, delete."""

from __future__ import annotations

import json
import uuid

from conftest import ACCOUNT_ID
from test_boto3_lambda import app_zip


def test_cli_creates_invokes_and_deletes_a_function(aws, tmp_path):
    name = f"cli-{uuid.uuid4().hex[:12]}"
    package = tmp_path / "function.zip"
    package.write_bytes(app_zip())
    created = aws(
        "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
        "--handler", "app.echo", "--role", f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
        "--zip-file", f"fileb://{package}",
    )
    assert created["State"] == "Pending"
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
