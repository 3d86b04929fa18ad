"""A relative `--data-dir` (the default is `./.eddy`) must still run custom-runtime
functions. Regression: the code directory was relative, and a process started with the
code directory as its working directory could not find `./.eddy/…/bootstrap` (the
benchmark found it: `Runtime.InvalidEntrypoint`, "fork/exec … No such file or directory").
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT, make_client, start_eddy
from test_boto3_lambda import ROLE

BOOTSTRAP = REPO_ROOT / "target" / "lambda-functions" / "release" / "bootstrap"


def bootstrap_zip() -> bytes:
    if not BOOTSTRAP.exists():
        pytest.fail(f"{BOOTSTRAP} is missing: scripts/test builds tests/functions/rust-echo")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, BOOTSTRAP.read_bytes())
    return buffer.getvalue()


def test_custom_runtime_runs_with_a_relative_data_dir(tmp_path):
    server = start_eddy(Path("relative-data"), cwd=tmp_path)
    try:
        awslambda = make_client("lambda", server.endpoint, read_timeout=60)
        awslambda.create_function(
            FunctionName="rust-echo",
            Runtime="provided.al2023",
            Role=ROLE,
            Handler="bootstrap",
            Code={"ZipFile": bootstrap_zip()},
        )
        response = awslambda.invoke(FunctionName="rust-echo", Payload=b'{"hello": "relative"}')
        result = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, result
        assert result["echo"] == {"hello": "relative"}
        assert (tmp_path / "relative-data" / "functions").is_dir()
    finally:
        server.stop()
