"""Versions, aliases, reserved concurrency, tags and function states through boto3 against a
real eddy, with functions run by the official Python runtime interface client (awslambdaric).

Code that must differ between versions is generated here as small zips (a module `v.py`
whose handler returns a fixed word); the rest uses tests/functions/python/app.py."""

from __future__ import annotations

import io
import json
import threading
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, REGION, error_code, make_client
from test_boto3_lambda import ROLE, app_zip

ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function"


def word_zip(word: str) -> bytes:
    """A package whose handler `v.handler` returns {"word": word} and the version it runs."""
    source = (
        "import os\n"
        "def handler(event, context):\n"
        f"    return {{'word': {word!r}, 'version': os.environ['AWS_LAMBDA_FUNCTION_VERSION'],"
        " 'arn': context.invoked_function_arn, 'pid': os.getpid()}\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("v.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def awslambda(eddy_endpoint):
    return make_client("lambda", eddy_endpoint, read_timeout=60)


@pytest.fixture(scope="module")
def awslambda_unvalidated(eddy_endpoint):
    return make_client("lambda", eddy_endpoint, read_timeout=60, parameter_validation=False)


@pytest.fixture
def function_name() -> str:
    return f"ver-{uuid.uuid4().hex[:12]}"


def create_word_function(awslambda, name: str, word: str, **extra) -> dict:
    created = awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="v.handler",
        Code={"ZipFile": word_zip(word)},
        **extra,
    )
    awslambda.get_waiter("function_active_v2").wait(FunctionName=name)
    return created


def create_echo_function(awslambda, name: str, **extra) -> dict:
    created = awslambda.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.echo",
        Code={"ZipFile": app_zip()}, **extra,
    )
    awslambda.get_waiter("function_active_v2").wait(FunctionName=name)
    return created


def set_word(awslambda, name: str, word: str) -> None:
    awslambda.update_function_code(FunctionName=name, ZipFile=word_zip(word))
    awslambda.get_waiter("function_updated_v2").wait(FunctionName=name)


def invoke(awslambda, name: str, payload=None, **extra) -> tuple[dict, dict]:
    response = awslambda.invoke(FunctionName=name, Payload=json.dumps(payload or {}), **extra)
    return response, json.loads(response["Payload"].read())


def test_create_answers_pending_and_the_waiters_pass(awslambda, function_name):
    created = awslambda.create_function(
        FunctionName=function_name, Runtime="python3.12", Role=ROLE, Handler="v.handler",
        Code={"ZipFile": word_zip("one")},
    )
    assert created["State"] == "Pending"
    assert created["StateReason"] == "The function is being created."
    assert "LastUpdateStatus" not in created
    awslambda.get_waiter("function_exists").wait(FunctionName=function_name)
    awslambda.get_waiter("function_active_v2").wait(FunctionName=function_name)
    assert awslambda.get_function(FunctionName=function_name)["Configuration"]["State"] == "Active"

    updated = awslambda.update_function_configuration(FunctionName=function_name, Timeout=5)
    assert updated["LastUpdateStatus"] == "InProgress"
    awslambda.get_waiter("function_updated_v2").wait(FunctionName=function_name)
    configuration = awslambda.get_function_configuration(FunctionName=function_name)
    assert configuration["LastUpdateStatus"] == "Successful"

    published = awslambda.publish_version(FunctionName=function_name)
    assert published["State"] == "Pending"
    awslambda.get_waiter("published_version_active").wait(
        FunctionName=function_name, Qualifier=published["Version"]
    )


def test_publish_snapshots_and_lists_versions(awslambda, function_name):
    created = create_word_function(awslambda, function_name, "one")
    first = awslambda.publish_version(FunctionName=function_name, Description="first")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["Version"] == "1"
    assert first["FunctionArn"] == f"{ARN}:{function_name}:1"
    assert first["CodeSha256"] == created["CodeSha256"]
    assert first["Description"] == "first"
    # Nothing changed since version 1: publishing again answers version 1.
    assert awslambda.publish_version(FunctionName=function_name)["Version"] == "1"

    set_word(awslambda, function_name, "two")
    second = awslambda.publish_version(FunctionName=function_name)
    assert second["Version"] == "2"
    assert second["CodeSha256"] != first["CodeSha256"]

    with pytest.raises(ClientError) as excinfo:
        awslambda.publish_version(FunctionName=function_name, CodeSha256="not-the-hash")
    assert error_code(excinfo) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as excinfo:
        awslambda.publish_version(FunctionName=function_name, RevisionId=created["RevisionId"])
    assert error_code(excinfo) == "PreconditionFailedException"

    listed = awslambda.list_versions_by_function(FunctionName=function_name)["Versions"]
    assert [version["Version"] for version in listed] == ["$LATEST", "1", "2"]
    assert listed[0]["FunctionArn"] == f"{ARN}:{function_name}:$LATEST"
    assert all("State" not in version for version in listed)
    paged = [
        version["Version"]
        for page in awslambda.get_paginator("list_versions_by_function").paginate(
            FunctionName=function_name, PaginationConfig={"PageSize": 1}
        )
        for version in page["Versions"]
    ]
    assert paged == ["$LATEST", "1", "2"]

    qualified = awslambda.get_function(FunctionName=function_name, Qualifier="1")
    assert qualified["Configuration"]["Version"] == "1"
    assert qualified["Configuration"]["FunctionArn"] == f"{ARN}:{function_name}:1"


def test_a_version_keeps_running_the_code_it_was_published_with(awslambda, function_name):
    create_word_function(awslambda, function_name, "one")
    awslambda.publish_version(FunctionName=function_name)
    set_word(awslambda, function_name, "two")

    response, result = invoke(awslambda, function_name, Qualifier="1")
    assert response["ExecutedVersion"] == "1"
    assert result["word"] == "one"
    assert result["version"] == "1"
    assert result["arn"] == f"{ARN}:{function_name}:1"

    response, result = invoke(awslambda, f"{function_name}:1")
    assert (response["ExecutedVersion"], result["word"]) == ("1", "one")
    response, result = invoke(awslambda, function_name)
    assert (response["ExecutedVersion"], result["word"]) == ("$LATEST", "two")
    assert result["arn"] == f"{ARN}:{function_name}"
    response, result = invoke(awslambda, function_name, Qualifier="$LATEST")
    assert (response["ExecutedVersion"], result["word"]) == ("$LATEST", "two")

    with pytest.raises(ClientError) as excinfo:
        invoke(awslambda, function_name, Qualifier="7")
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert excinfo.value.response["Error"]["Message"] == f"Function not found: {ARN}:{function_name}:7"


def test_invoking_an_alias_runs_its_version_under_the_alias_arn(awslambda, function_name):
    create_word_function(awslambda, function_name, "one")
    awslambda.publish_version(FunctionName=function_name)
    set_word(awslambda, function_name, "two")
    awslambda.create_alias(FunctionName=function_name, Name="live", FunctionVersion="1")

    response, result = invoke(awslambda, function_name, Qualifier="live")
    assert response["ExecutedVersion"] == "1"
    assert result["word"] == "one"
    assert result["arn"] == f"{ARN}:{function_name}:live"
    configuration = awslambda.get_function_configuration(FunctionName=function_name, Qualifier="live")
    assert configuration["Version"] == "1"
    assert configuration["FunctionArn"] == f"{ARN}:{function_name}:live"


def test_weighted_alias_splits_invocations_between_two_versions(awslambda, function_name):
    create_word_function(awslambda, function_name, "one")
    awslambda.publish_version(FunctionName=function_name)
    set_word(awslambda, function_name, "two")
    awslambda.publish_version(FunctionName=function_name)
    alias = awslambda.create_alias(
        FunctionName=function_name, Name="canary", FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}

    executed = {"1": 0, "2": 0}
    pids = {"1": set(), "2": set()}
    for _ in range(40):
        response, result = invoke(awslambda, function_name, Qualifier="canary")
        version = response["ExecutedVersion"]
        assert result["word"] == {"1": "one", "2": "two"}[version]
        executed[version] += 1
        pids[version].add(result["pid"])
    # With even odds, fewer than 6 of 40 on either side happens about once in a million runs.
    assert executed["1"] >= 6 and executed["2"] >= 6, executed
    # Both versions stay warm side by side: one environment each, reused.
    assert len(pids["1"]) == 1 and len(pids["2"]) == 1, pids


def test_alias_lifecycle_and_errors(awslambda, awslambda_unvalidated, function_name):
    create_word_function(awslambda, function_name, "one")
    awslambda.publish_version(FunctionName=function_name)
    set_word(awslambda, function_name, "two")
    awslambda.publish_version(FunctionName=function_name)

    created = awslambda.create_alias(
        FunctionName=function_name, Name="live", FunctionVersion="1", Description="prod"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["AliasArn"] == f"{ARN}:{function_name}:live"
    assert created["Description"] == "prod"
    assert created["RevisionId"]
    awslambda.create_alias(FunctionName=function_name, Name="beta", FunctionVersion="2")
    assert awslambda.get_alias(FunctionName=function_name, Name="live")["FunctionVersion"] == "1"
    names = [a["Name"] for a in awslambda.list_aliases(FunctionName=function_name)["Aliases"]]
    assert names == ["beta", "live"]
    on_two = awslambda.list_aliases(FunctionName=function_name, FunctionVersion="2")["Aliases"]
    assert [a["Name"] for a in on_two] == ["beta"]

    with pytest.raises(ClientError) as excinfo:
        awslambda.create_alias(FunctionName=function_name, Name="live", FunctionVersion="2")
    assert error_code(excinfo) == "ResourceConflictException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as excinfo:
        awslambda_unvalidated.create_alias(FunctionName=function_name, Name="42", FunctionVersion="1")
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        awslambda.create_alias(FunctionName=function_name, Name="gone", FunctionVersion="9")
    assert error_code(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        awslambda.create_alias(
            FunctionName=function_name, Name="both", FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
        )
    assert error_code(excinfo) == "InvalidParameterValueException"

    updated = awslambda.update_alias(
        FunctionName=function_name, Name="live", FunctionVersion="2", RevisionId=created["RevisionId"]
    )
    assert updated["FunctionVersion"] == "2"
    assert updated["Description"] == "prod"
    with pytest.raises(ClientError) as excinfo:
        awslambda.update_alias(
            FunctionName=function_name, Name="live", FunctionVersion="1", RevisionId=created["RevisionId"]
        )
    assert error_code(excinfo) == "PreconditionFailedException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412

    with pytest.raises(ClientError) as excinfo:
        awslambda.delete_function(FunctionName=function_name, Qualifier="2")
    assert error_code(excinfo) == "ResourceConflictException"
    assert "aliases reference it: [beta, live]" in excinfo.value.response["Error"]["Message"]

    deleted = awslambda.delete_alias(FunctionName=function_name, Name="live")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        awslambda.get_alias(FunctionName=function_name, Name="live")
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert excinfo.value.response["Error"]["Message"] == f"Cannot find alias arn: {ARN}:{function_name}:live"


def test_delete_function_with_and_without_a_version(awslambda, function_name):
    create_word_function(awslambda, function_name, "one")
    awslambda.publish_version(FunctionName=function_name)
    with pytest.raises(ClientError) as excinfo:
        awslambda.delete_function(FunctionName=function_name, Qualifier="$LATEST")
    assert error_code(excinfo) == "InvalidParameterValueException"
    assert awslambda.delete_function(FunctionName=function_name, Qualifier="1")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        awslambda.get_function(FunctionName=function_name, Qualifier="1")
    assert error_code(excinfo) == "ResourceNotFoundException"
    # $LATEST is untouched.
    assert invoke(awslambda, function_name)[1]["word"] == "one"

    set_word(awslambda, function_name, "two")
    assert awslambda.publish_version(FunctionName=function_name)["Version"] == "2"
    awslambda.delete_function(FunctionName=function_name)
    for qualifier in ("2", "$LATEST"):
        with pytest.raises(ClientError) as excinfo:
            awslambda.get_function(FunctionName=function_name, Qualifier=qualifier)
        assert error_code(excinfo) == "ResourceNotFoundException"


def test_reserved_concurrency_put_get_delete(awslambda, function_name):
    create_word_function(awslambda, function_name, "one")
    assert "ReservedConcurrentExecutions" not in awslambda.get_function_concurrency(FunctionName=function_name)
    assert "Concurrency" not in awslambda.get_function(FunctionName=function_name)
    put = awslambda.put_function_concurrency(FunctionName=function_name, ReservedConcurrentExecutions=3)
    assert put["ReservedConcurrentExecutions"] == 3
    assert awslambda.get_function_concurrency(FunctionName=function_name)["ReservedConcurrentExecutions"] == 3
    assert awslambda.get_function(FunctionName=function_name)["Concurrency"] == {"ReservedConcurrentExecutions": 3}

    settings = awslambda.get_account_settings()
    limit = settings["AccountLimit"]
    assert limit["ConcurrentExecutions"] == 1000
    assert limit["UnreservedConcurrentExecutions"] <= 997
    assert limit["CodeSizeZipped"] == 52428800
    assert settings["AccountUsage"]["FunctionCount"] >= 1

    with pytest.raises(ClientError) as excinfo:
        awslambda.put_function_concurrency(FunctionName=function_name, ReservedConcurrentExecutions=1000)
    assert error_code(excinfo) == "InvalidParameterValueException"
    assert excinfo.value.response["Error"]["Message"] == (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]."
    )
    with pytest.raises(ClientError) as excinfo:
        awslambda.put_function_concurrency(FunctionName=f"{ARN}:missing-{function_name}", ReservedConcurrentExecutions=1)
    assert error_code(excinfo) == "ResourceNotFoundException"

    assert awslambda.delete_function_concurrency(FunctionName=function_name)[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "ReservedConcurrentExecutions" not in awslambda.get_function_concurrency(FunctionName=function_name)


def test_reserved_concurrency_of_one_throttles_the_second_concurrent_invoke(awslambda, function_name):
    create_echo_function(awslambda, function_name)
    awslambda.put_function_concurrency(FunctionName=function_name, ReservedConcurrentExecutions=1)
    start = threading.Barrier(2)
    outcomes: list = []

    def call() -> None:
        start.wait(timeout=10)
        try:
            response = awslambda.invoke(FunctionName=function_name, Payload=json.dumps({"sleep": 3}))
            outcomes.append(("ok", response["StatusCode"]))
        except ClientError as error:
            outcomes.append(("error", error.response))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(response for kind, response in outcomes if kind == "error")
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"

    # One at a time still works, on the same warm environment.
    first = invoke(awslambda, function_name)[1]
    second = invoke(awslambda, function_name)[1]
    assert first["pid"] == second["pid"]
    assert second["invocations"] == first["invocations"] + 1


def test_reserved_concurrency_of_zero_throttles_every_invoke(awslambda, function_name):
    create_word_function(awslambda, function_name, "one")
    awslambda.put_function_concurrency(FunctionName=function_name, ReservedConcurrentExecutions=0)
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            invoke(awslambda, function_name)
        assert error_code(excinfo) == "TooManyRequestsException"
        assert excinfo.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert excinfo.value.response["Error"]["Message"] == "Rate Exceeded."
    awslambda.delete_function_concurrency(FunctionName=function_name)
    assert invoke(awslambda, function_name)[1]["word"] == "one"


def test_tags_on_create_and_through_the_tag_api(awslambda, function_name):
    create_word_function(awslambda, function_name, "one", Tags={"team": "core"})
    arn = f"{ARN}:{function_name}"
    assert awslambda.get_function(FunctionName=function_name)["Tags"] == {"team": "core"}
    tagged = awslambda.tag_resource(Resource=arn, Tags={"stage": "dev", "team": "edge"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert awslambda.list_tags(Resource=arn)["Tags"] == {"stage": "dev", "team": "edge"}
    awslambda.untag_resource(Resource=arn, TagKeys=["stage", "absent"])
    assert awslambda.list_tags(Resource=arn)["Tags"] == {"team": "edge"}
    awslambda.untag_resource(Resource=arn, TagKeys=["team"])
    assert awslambda.list_tags(Resource=arn)["Tags"] == {}
    assert "Tags" not in awslambda.get_function(FunctionName=function_name)

    with pytest.raises(ClientError) as excinfo:
        awslambda.list_tags(Resource=f"{ARN}:missing-{function_name}")
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as excinfo:
        awslambda.tag_resource(Resource=f"{arn}:1", Tags={"a": "b"})
    assert error_code(excinfo) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as excinfo:
        awslambda.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(51)})
    assert error_code(excinfo) == "InvalidParameterValueException"
