"""Versions and aliases through the AWS CLI (v1, from PyPI) against a real eddy:
publish-version, then new code, then `invoke --qualifier` runs the published code."""

from __future__ import annotations

import json
import uuid

from conftest import ACCOUNT_ID
from test_boto3_lambda_versions import word_zip


def test_cli_publishes_a_version_and_invokes_it_by_qualifier(aws, tmp_path):
    name = f"cliver-{uuid.uuid4().hex[:12]}"
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    one.write_bytes(word_zip("one"))
    two.write_bytes(word_zip("two"))
    aws(
        "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
        "--handler", "v.handler", "--role", f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
        "--zip-file", f"fileb://{one}",
    )
    aws("lambda", "wait", "function-active-v2", "--function-name", name)
    published = aws("lambda", "publish-version", "--function-name", name, "--description", "first")
    assert published["Version"] == "1"
    aws("lambda", "wait", "published-version-active", "--function-name", name, "--qualifier", "1")
    aws("lambda", "update-function-code", "--function-name", name, "--zip-file", f"fileb://{two}")
    aws("lambda", "wait", "function-updated-v2", "--function-name", name)
    aws("lambda", "create-alias", "--function-name", name, "--name", "live", "--function-version", "1")

    for qualifier, word, version in [("1", "one", "1"), ("live", "one", "1"), ("$LATEST", "two", "$LATEST")]:
        output = tmp_path / f"out-{word}-{version}.json"
        invoked = aws(
            "lambda", "invoke", "--function-name", name, "--qualifier", qualifier,
            "--payload", "{}", str(output),
        )
        assert invoked["StatusCode"] == 200
        assert invoked["ExecutedVersion"] == version
        assert json.loads(output.read_text())["word"] == word

    versions = aws("lambda", "list-versions-by-function", "--function-name", name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    aliases = aws("lambda", "list-aliases", "--function-name", name)["Aliases"]
    assert [(a["Name"], a["FunctionVersion"]) for a in aliases] == [("live", "1")]
    aws("lambda", "put-function-concurrency", "--function-name", name, "--reserved-concurrent-executions", "2")
    assert aws("lambda", "get-function-concurrency", "--function-name", name) == {"ReservedConcurrentExecutions": 2}
    assert "AccountLimit" in aws("lambda", "get-account-settings")
    aws("lambda", "delete-function", "--function-name", name)
