"""The Lambda control plane through boto3 (REST-JSON) against a real eddy: functions
created from a zip of tests/functions/python/app.py, run by the official Python runtime
interface client (awslambdaric, from the test venv, which conftest hands to eddy)."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, REGION, REPO_ROOT, error_code, make_client

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role"
APP = REPO_ROOT / "tests" / "functions" / "python" / "app.py"


def app_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(APP, "app.py")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def awslambda(eddy_endpoint):
    return make_client("lambda", eddy_endpoint, read_timeout=60)


@pytest.fixture(scope="module")
def awslambda_unvalidated(eddy_endpoint):
    """Sends what it is given, so the server's own range checks are tested."""
    return make_client("lambda", eddy_endpoint, parameter_validation=False)


@pytest.fixture
def function_name() -> str:
    return f"fn-{uuid.uuid4().hex[:12]}"


def create(awslambda, name: str, handler: str = "app.echo", **extra) -> dict:
    return awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": app_zip()},
        **extra,
    )


def test_create_function_returns_configuration_with_defaults(awslambda, function_name):
    created = create(awslambda, function_name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionName"] == function_name
    assert created["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
    assert created["Timeout"] == 3
    assert created["MemorySize"] == 128
    assert created["Version"] == "$LATEST"
    assert created["PackageType"] == "Zip"
    assert created["Architectures"] == ["x86_64"]
    # Pending in CreateFunction's answer, as AWS says; Active at once (the waiter tests).
    assert created["State"] == "Pending"
    assert created["StateReasonCode"] == "Creating"
    assert created["Description"] == ""
    assert created["TracingConfig"] == {"Mode": "PassThrough"}
    assert created["EphemeralStorage"] == {"Size": 512}
    assert "Environment" not in created
    code = app_zip()
    assert created["CodeSize"] == len(code)
    import hashlib

    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert len(created["LastModified"]) == len("2026-01-31T12:34:56.789+0000")
    assert created["LastModified"].endswith("+0000")
    assert created["RevisionId"]


def test_function_active_waiter_is_satisfied_at_once(awslambda, function_name):
    create(awslambda, function_name)
    awslambda.get_waiter("function_active_v2").wait(FunctionName=function_name)
    awslambda.get_waiter("function_updated_v2").wait(FunctionName=function_name)


def test_invoke_returns_the_handler_result(awslambda, function_name):
    create(awslambda, function_name, Environment={"Variables": {"GREETING": "hello"}})
    response = awslambda.invoke(FunctionName=function_name, Payload=json.dumps({"a": 1}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    result = json.loads(response["Payload"].read())
    assert result["echo"] == {"a": 1}
    assert result["function_name"] == function_name
    assert result["environment"]["GREETING"] == "hello"
    assert result["environment"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"


def test_invoke_by_arn_with_empty_payload_sends_an_empty_object(awslambda, function_name):
    created = create(awslambda, function_name)
    response = awslambda.invoke(FunctionName=created["FunctionArn"])
    assert json.loads(response["Payload"].read())["echo"] == {}


def test_handler_error_is_a_200_with_function_error(awslambda, function_name):
    create(awslambda, function_name, handler="app.fail")
    response = awslambda.invoke(FunctionName=function_name, Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom"


def test_log_type_tail_returns_the_invocation_log(awslambda, function_name):
    create(awslambda, function_name, handler="app.log")
    response = awslambda.invoke(FunctionName=function_name, Payload=b"{}", LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    assert "START RequestId:" in log
    assert "to stdout" in log
    assert "to stderr" in log
    assert "REPORT RequestId:" in log


def test_timeout_answers_sandbox_timedout(awslambda, function_name):
    create(awslambda, function_name, Timeout=1)
    response = awslambda.invoke(FunctionName=function_name, Payload=json.dumps({"sleep": 3}))
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]


def test_dry_run_answers_204(awslambda, function_name):
    create(awslambda, function_name)
    response = awslambda.invoke(FunctionName=function_name, InvocationType="DryRun")
    assert response["StatusCode"] == 204


def test_invoke_payload_must_be_json(awslambda, function_name):
    create(awslambda, function_name)
    with pytest.raises(ClientError) as excinfo:
        awslambda.invoke(FunctionName=function_name, Payload=b"not json")
    assert error_code(excinfo) == "InvalidRequestContentException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_invoke_payload_over_6_mb_is_413(awslambda, function_name):
    create(awslambda, function_name)
    with pytest.raises(ClientError) as excinfo:
        awslambda.invoke(FunctionName=function_name, Payload=json.dumps("x" * 6_291_457))
    assert error_code(excinfo) == "RequestTooLargeException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_get_list_update_and_delete(awslambda, function_name):
    created = create(awslambda, function_name, Description="first")
    got = awslambda.get_function(FunctionName=function_name)
    assert got["Configuration"]["FunctionName"] == function_name
    assert got["Configuration"]["Description"] == "first"
    assert got["Code"]["RepositoryType"] == "S3"
    configuration = awslambda.get_function_configuration(FunctionName=function_name)
    assert configuration["RevisionId"] == created["RevisionId"]

    listed = [
        function
        for page in awslambda.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
        for function in page["Functions"]
    ]
    mine = [function for function in listed if function["FunctionName"] == function_name]
    assert len(mine) == 1
    assert "State" not in mine[0]

    updated = awslambda.update_function_configuration(
        FunctionName=function_name,
        MemorySize=256,
        Timeout=10,
        Environment={"Variables": {"GREETING": "updated"}},
        RevisionId=created["RevisionId"],
    )
    assert updated["MemorySize"] == 256
    assert updated["Timeout"] == 10
    assert updated["Description"] == "first"
    assert updated["RevisionId"] != created["RevisionId"]
    result = json.loads(awslambda.invoke(FunctionName=function_name)["Payload"].read())
    assert result["environment"]["GREETING"] == "updated"
    assert result["environment"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"

    with pytest.raises(ClientError) as excinfo:
        awslambda.update_function_configuration(
            FunctionName=function_name, Description="stale", RevisionId=created["RevisionId"]
        )
    assert error_code(excinfo) == "PreconditionFailedException"

    code = awslambda.update_function_code(FunctionName=function_name, ZipFile=app_zip())
    assert code["CodeSha256"] == created["CodeSha256"]
    assert code["RevisionId"] != updated["RevisionId"]

    assert awslambda.delete_function(FunctionName=function_name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        awslambda.get_function(FunctionName=function_name)
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_update_function_code_runs_the_new_code(awslambda, function_name):
    create(awslambda, function_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def echo(event, context):\n    return 'new code'\n")
    awslambda.update_function_code(FunctionName=function_name, ZipFile=buffer.getvalue())
    assert json.loads(awslambda.invoke(FunctionName=function_name)["Payload"].read()) == "new code"


def test_memory_out_of_range_is_a_validation_error(awslambda_unvalidated, function_name):
    with pytest.raises(ClientError) as excinfo:
        create(awslambda_unvalidated, function_name, MemorySize=64)
    assert error_code(excinfo) == "ValidationException"
    assert "memorySize" in excinfo.value.response["Error"]["Message"]


def test_reserved_environment_key_is_refused(awslambda, function_name):
    with pytest.raises(ClientError) as excinfo:
        create(awslambda, function_name, Environment={"Variables": {"AWS_REGION": "x"}})
    assert error_code(excinfo) == "InvalidParameterValueException"
    assert "AWS_REGION" in excinfo.value.response["Error"]["Message"]


def test_image_package_type_is_not_supported(awslambda, function_name):
    with pytest.raises(ClientError) as excinfo:
        awslambda.create_function(
            FunctionName=function_name,
            Role=ROLE,
            PackageType="Image",
            Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:latest"},
        )
    assert error_code(excinfo) == "InvalidParameterValueException"
    assert "Image" in excinfo.value.response["Error"]["Message"]


def test_duplicate_create_is_a_409_conflict(awslambda, function_name):
    create(awslambda, function_name)
    with pytest.raises(ClientError) as excinfo:
        create(awslambda, function_name)
    assert error_code(excinfo) == "ResourceConflictException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert excinfo.value.response["Error"]["Message"] == f"Function already exist: {function_name}"


def test_missing_function_is_a_404_with_its_arn(awslambda, function_name):
    with pytest.raises(ClientError) as excinfo:
        awslambda.get_function_configuration(FunctionName=function_name)
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert excinfo.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
    )
    headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert headers["x-amzn-requestid"]
    with pytest.raises(ClientError) as excinfo:
        awslambda.invoke(FunctionName=function_name, Payload=b"{}")
    assert error_code(excinfo) == "ResourceNotFoundException"
