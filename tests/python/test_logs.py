"""Function logs through the CloudWatch Logs API against a real eddy: boto3 over the four
read calls (paging, filters, errors), `aws logs tail` from the AWS CLI v2, the `eddy logs`
client command (also against a server that requires signatures, with two accounts), and
the environment lifecycle the logs show: idle environments stopped after
--function-idle-timeout, and MemorySize enforced with AWS's out-of-memory error."""

from __future__ import annotations

import base64
import json
import os
import re
import select
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, REGION, REPO_ROOT, eddy_binary, error_code, make_client, start_eddy
from test_boto3_lambda import ROLE, app_zip

STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
AWS_CLI_V2 = REPO_ROOT / ".tmp" / "awscli-v2" / "dist" / "aws"


@pytest.fixture(scope="module")
def awslambda(eddy_endpoint):
    return make_client("lambda", eddy_endpoint, read_timeout=60)


@pytest.fixture(scope="module")
def logs(eddy_endpoint):
    return make_client("logs", eddy_endpoint)


def create(awslambda, name: str, handler: str = "app.log", **extra) -> dict:
    return awslambda.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler=handler, Code={"ZipFile": app_zip()}, **extra
    )


def invoke(awslambda, name: str, payload: dict | None = None) -> dict:
    response = awslambda.invoke(FunctionName=name, Payload=json.dumps(payload or {}), LogType="Tail")
    response["Body"] = json.loads(response["Payload"].read())
    response["Tail"] = base64.b64decode(response["LogResult"]).decode()
    return response


@pytest.fixture
def function_name() -> str:
    return f"logs-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def logged_function(awslambda, function_name) -> tuple[str, list[dict]]:
    """A function whose handler prints two lines, invoked twice."""
    create(awslambda, function_name)
    return function_name, [invoke(awslambda, function_name) for _ in range(2)]



def test_function_output_is_in_its_log_group_as_events(logs, logged_function):
    name, _ = logged_function
    group = f"/aws/lambda/{name}"
    groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    assert groups[0]["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}:*"
    assert groups[0]["creationTime"] > 0

    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1, "one warm environment, one stream"
    stream = streams[0]
    assert STREAM_NAME.match(stream["logStreamName"]), stream["logStreamName"]
    assert stream["firstEventTimestamp"] <= stream["lastEventTimestamp"]

    events = logs.get_log_events(
        logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
    )["events"]
    messages = [event["message"] for event in events]
    assert [m.split(" ")[0] for m in messages if m.startswith(("START", "END", "REPORT"))] == [
        "START", "END", "REPORT", "START", "END", "REPORT",
    ]
    assert messages.count("to stdout") == 2
    assert messages.count("to stderr") == 2
    timestamps = [event["timestamp"] for event in events]
    assert timestamps == sorted(timestamps)
    assert all(event["ingestionTime"] >= event["timestamp"] for event in events)


def test_get_log_events_pages_until_the_same_token_comes_back(logs, logged_function):
    name, _ = logged_function
    group = f"/aws/lambda/{name}"
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
    everything = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    all_messages = [event["message"] for event in everything["events"]]

    paged, token = [], None
    for _ in range(20):
        kwargs = {"nextToken": token} if token else {}
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=3, **kwargs)
        paged.extend(event["message"] for event in page["events"])
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        token = page["nextForwardToken"]
    assert paged == all_messages

    latest = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2)
    assert [event["message"].split(" ")[0] for event in latest["events"]] == ["END", "REPORT"]
    earlier = logs.get_log_events(
        logGroupName=group, logStreamName=stream, limit=2, nextToken=latest["nextBackwardToken"]
    )
    assert [event["message"] for event in earlier["events"]] == all_messages[-4:-2]


def test_filter_log_events_matches_terms_and_phrases_and_paginates(logs, logged_function):
    name, invocations = logged_function
    group = f"/aws/lambda/{name}"
    reports = logs.filter_log_events(logGroupName=group, filterPattern="REPORT")["events"]
    assert len(reports) == 2
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
    for event in reports:
        assert event["logStreamName"] == stream
        assert len(event["eventId"]) == 56
        assert event["ingestionTime"] >= event["timestamp"]
    phrase = logs.filter_log_events(logGroupName=group, filterPattern='"to stderr"')["events"]
    assert [event["message"] for event in phrase] == ["to stderr", "to stderr"]
    excluded = logs.filter_log_events(logGroupName=group, filterPattern="to -stderr")["events"]
    assert {event["message"] for event in excluded} == {"to stdout"}
    first_request = invocations[0]["Tail"].split("RequestId: ")[1].split(" ")[0]
    one_invocation = logs.filter_log_events(logGroupName=group, filterPattern=first_request)["events"]
    assert len(one_invocation) == 3, "START, END and REPORT name the request"

    paginator = logs.get_paginator("filter_log_events")
    pages = list(paginator.paginate(logGroupName=group, PaginationConfig={"PageSize": 3}))
    assert len(pages) >= 4
    assert sum(len(page["events"]) for page in pages) == 10

    start = reports[0]["timestamp"] + 1
    later = logs.filter_log_events(logGroupName=group, startTime=start, filterPattern="REPORT")["events"]
    assert later == reports[1:]
    earlier = logs.filter_log_events(logGroupName=group, endTime=start - 1, filterPattern="REPORT")["events"]
    assert earlier == reports[:1]


def test_describe_log_groups_pages_by_prefix_and_matches_a_pattern(awslambda, logs):
    tag = uuid.uuid4().hex[:10]
    names = [f"grp-{tag}-{index}" for index in range(3)]
    for name in names:
        create(awslambda, name)
        invoke(awslambda, name)
    first = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/grp-{tag}", limit=2)
    assert [g["logGroupName"] for g in first["logGroups"]] == [f"/aws/lambda/{n}" for n in names[:2]]
    second = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/grp-{tag}", nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in second["logGroups"]] == [f"/aws/lambda/{names[2]}"]
    assert "nextToken" not in second
    paginated = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"/aws/lambda/grp-{tag}")
    assert len([g for page in paginated for g in page["logGroups"]]) == 3
    pattern = logs.describe_log_groups(logGroupNamePattern=f"{tag}-1")["logGroups"]
    assert [g["logGroupName"] for g in pattern] == [f"/aws/lambda/{names[1]}"]
    assert set(pattern[0]) == {"logGroupName", "creationTime", "arn"}


def test_concurrent_invocations_write_to_one_stream_per_environment(awslambda, logs, function_name):
    create(awslambda, function_name, handler="app.echo")
    with ThreadPoolExecutor(max_workers=2) as pool:
        bodies = list(pool.map(lambda _: invoke(awslambda, function_name, {"sleep": 1})["Body"], range(2)))
    assert bodies[0]["pid"] != bodies[1]["pid"]
    group = f"/aws/lambda/{function_name}"
    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(by_name) == 2
    names = [s["logStreamName"] for s in by_name]
    assert names == sorted(names)
    recent = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True, limit=1)
    assert len(recent["logStreams"]) == 1
    rest = logs.describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True, limit=1, nextToken=recent["nextToken"]
    )
    assert recent["logStreams"][0]["lastEventTimestamp"] >= rest["logStreams"][0]["lastEventTimestamp"]
    assert {recent["logStreams"][0]["logStreamName"], rest["logStreams"][0]["logStreamName"]} == set(names)


def test_missing_groups_and_streams_and_bad_parameters_get_cloudwatch_errors(logs, logged_function):
    name, _ = logged_function
    with pytest.raises(ClientError) as missing_group:
        logs.filter_log_events(logGroupName="/aws/lambda/no-such-function")
    assert error_code(missing_group) == "ResourceNotFoundException"
    assert missing_group.value.response["Error"]["Message"] == "The specified log group does not exist."
    assert missing_group.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(ClientError) as missing_stream:
        logs.get_log_events(logGroupName=f"/aws/lambda/{name}", logStreamName="2026/01/01/[$LATEST]00")
    assert error_code(missing_stream) == "ResourceNotFoundException"
    assert missing_stream.value.response["Error"]["Message"] == "The specified log stream does not exist."

    with pytest.raises(ClientError) as both:
        logs.describe_log_groups(logGroupNamePrefix="/aws", logGroupNamePattern="lambda")
    assert error_code(both) == "InvalidParameterException"
    with pytest.raises(ClientError) as ordered:
        logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}", orderBy="LastEventTime", logStreamNamePrefix="2")
    assert error_code(ordered) == "InvalidParameterException"
    with pytest.raises(ClientError) as pattern:
        logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern='{ $.level = "ERROR" }')
    assert error_code(pattern) == "InvalidParameterException"

    arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/{name}:*"
    by_arn = logs.filter_log_events(logGroupIdentifier=arn, filterPattern="REPORT")["events"]
    assert len(by_arn) == 2


def test_unknown_logs_actions_are_unknown_operations(eddy_endpoint):
    response = requests.post(
        eddy_endpoint,
        data="{}",
        headers={"X-Amz-Target": "Logs_20140328.PutLogEvents", "Content-Type": "application/x-amz-json-1.1"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert response.json()["__type"].endswith("UnknownOperationException")


def test_deleting_a_function_drops_its_log_group(awslambda, logs, function_name):
    create(awslambda, function_name)
    invoke(awslambda, function_name)
    group = f"/aws/lambda/{function_name}"
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    awslambda.delete_function(FunctionName=function_name)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []


# -------------------------------------------------------------------------------------------
# aws logs tail (AWS CLI v2) and eddy logs


@pytest.fixture(scope="module")
def aws_v2(eddy_endpoint, tmp_path_factory):
    """Runs the AWS CLI v2 (installed by scripts/awscli-v2) against eddy; returns stdout."""
    if not AWS_CLI_V2.exists():
        pytest.skip(f"AWS CLI v2 not installed at {AWS_CLI_V2}: run scripts/awscli-v2")
    home = tmp_path_factory.mktemp("aws-v2-home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_PAGER": "",
    }

    def run(*args: str) -> str:
        completed = subprocess.run(
            [str(AWS_CLI_V2), "--endpoint-url", eddy_endpoint, *args],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert completed.returncode == 0, f"aws {' '.join(args)} failed:\n{completed.stderr}"
        return completed.stdout

    return run


def test_aws_logs_tail_prints_the_functions_events(aws_v2, logged_function):
    name, invocations = logged_function
    output = aws_v2("logs", "tail", f"/aws/lambda/{name}", "--since", "10m")
    lines = output.splitlines()
    assert len(lines) == 10
    first_request = invocations[0]["Tail"].split("RequestId: ")[1].split(" ")[0]
    assert lines[0].endswith(f"START RequestId: {first_request} Version: $LATEST")
    timestamp, stream, _ = lines[1].split(" ", 2)
    assert timestamp.endswith("+00:00")
    assert STREAM_NAME.match(stream)
    # stdout and stderr are separate pipes: their lines may come in either order.
    assert {line.split(" ", 2)[2] for line in lines[1:3]} == {"to stdout", "to stderr"}
    assert aws_v2("logs", "tail", f"/aws/lambda/{name}", "--filter-pattern", "REPORT", "--format", "short").count(
        "REPORT RequestId"
    ) == 2


def eddy_logs(endpoint: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(eddy_binary()), "logs", *args, "--endpoint-url", endpoint],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )


def test_eddy_logs_prints_a_functions_events(eddy_endpoint, logged_function):
    name, _ = logged_function
    completed = eddy_logs(eddy_endpoint, name, "--since", "5m")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 10
    assert {line.split(" ", 2)[2] for line in lines[1:3]} == {"to stdout", "to stderr"}
    assert STREAM_NAME.match(lines[0].split(" ")[1])

    filtered = eddy_logs(eddy_endpoint, name, "--filter-pattern", "REPORT")
    assert filtered.stdout.count("REPORT RequestId") == 2
    missing = eddy_logs(eddy_endpoint, "no-such-function")
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr


def read_until(stream, needle: str, timeout: float) -> str:
    """Reads a pipe until what it gave contains `needle` or `timeout` passes."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([stream], [], [], min(remaining, 0.5))
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


def process_gone(pid: int, timeout: float = 5.0) -> bool:
    """Whether process `pid` is gone (killed and reaped) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


def test_eddy_logs_follow_prints_new_invocations(eddy_endpoint, awslambda, logged_function):
    name, _ = logged_function
    follower = subprocess.Popen(
        [str(eddy_binary()), "logs", name, "--follow", "--endpoint-url", eddy_endpoint],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    try:
        assert "REPORT" in read_until(follower.stdout, "REPORT", 20)
        fresh = invoke(awslambda, name)
        request = fresh["Tail"].split("RequestId: ")[1].split(" ")[0]
        assert f"END RequestId: {request}" in read_until(follower.stdout, f"END RequestId: {request}", 20)
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=10) == 0
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait(timeout=10)


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory):
    """An eddy that requires signatures, with one key in each of two accounts."""
    directory = tmp_path_factory.mktemp("signed-logs")
    credentials = directory / "credentials.toml"
    credentials.write_text(
        '[[access_keys]]\nid = "AKIDONE"\nsecret = "one-secret"\naccount = "111111111111"\n'
        '[[access_keys]]\nid = "AKIDTWO"\nsecret = "two-secret"\naccount = "222222222222"\n'
    )
    server = start_eddy(directory / "data", ["--credentials-file", str(credentials)])
    yield server
    server.stop()


def test_two_accounts_with_one_function_name_have_separate_logs(signed_server):
    name = f"shared-{uuid.uuid4().hex[:8]}"
    tails = {}
    for key, secret in [("AKIDONE", "one-secret"), ("AKIDTWO", "two-secret")]:
        awslambda = make_client("lambda", signed_server.endpoint, access_key=key, secret_key=secret, read_timeout=60)
        create(awslambda, name, handler="app.echo")
        tails[key] = invoke(awslambda, name, {"who": key})
    assert tails["AKIDONE"]["Body"]["pid"] != tails["AKIDTWO"]["Body"]["pid"]

    def request_id(key: str) -> str:
        return tails[key]["Tail"].split("RequestId: ")[1].split(" ")[0]

    one = eddy_logs(
        signed_server.endpoint, name,
        env={"AWS_ACCESS_KEY_ID": "AKIDONE", "AWS_SECRET_ACCESS_KEY": "one-secret"},
    )
    assert one.returncode == 0, one.stderr
    assert request_id("AKIDONE") in one.stdout
    assert request_id("AKIDTWO") not in one.stdout

    logs_two = make_client("logs", signed_server.endpoint, access_key="AKIDTWO", secret_key="two-secret")
    two = logs_two.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert any(request_id("AKIDTWO") in event["message"] for event in two)
    assert not any(request_id("AKIDONE") in event["message"] for event in two)

    wrong = eddy_logs(
        signed_server.endpoint, name,
        env={"AWS_ACCESS_KEY_ID": "AKIDONE", "AWS_SECRET_ACCESS_KEY": "not-the-secret"},
    )
    assert wrong.returncode != 0
    assert "SignatureDoesNotMatch" in wrong.stderr


# -------------------------------------------------------------------------------------------
# Environment lifecycle: idle timeout and MemorySize


@pytest.fixture(scope="module")
def short_idle_server(tmp_path_factory):
    server = start_eddy(tmp_path_factory.mktemp("idle") / "data", ["--function-idle-timeout", "1"])
    yield server
    server.stop()


def test_idle_environments_are_stopped_after_the_idle_timeout(short_idle_server, function_name):
    awslambda = make_client("lambda", short_idle_server.endpoint, read_timeout=60)
    create(awslambda, function_name, handler="app.echo")
    first = invoke(awslambda, function_name)
    warm = invoke(awslambda, function_name)
    assert warm["Body"]["pid"] == first["Body"]["pid"], "reused while not idle for a second"
    assert warm["Body"]["invocations"] == 2
    # The idle worker looks every 250 ms with a 1 s timeout.
    time.sleep(3)
    cold = invoke(awslambda, function_name)
    assert cold["Body"]["pid"] != first["Body"]["pid"]
    assert cold["Body"]["invocations"] == 1
    assert "Init Duration" in cold["Tail"]
    assert process_gone(first["Body"]["pid"])


def test_memory_size_is_enforced_with_the_out_of_memory_error(awslambda, logs, function_name):
    create(awslambda, function_name, handler="app.allocate", MemorySize=128)
    within = invoke(awslambda, function_name, {"mb": 64})
    assert "FunctionError" not in within
    assert within["Body"]["allocated_mb"] == 64

    beyond = invoke(awslambda, function_name, {"mb": 256})
    assert beyond["FunctionError"] == "Unhandled"
    request = beyond["Tail"].split("RequestId: ")[1].split(" ")[0]
    assert beyond["Body"] == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {request} Error: Runtime exited with error: signal: killed",
    }
    assert "Error Type: Runtime.OutOfMemory" in beyond["Tail"]
    assert process_gone(within["Body"]["pid"])

    replaced = invoke(awslambda, function_name, {"mb": 1})
    assert "FunctionError" not in replaced
    assert replaced["Body"]["pid"] != within["Body"]["pid"]
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function_name}", filterPattern="Runtime.OutOfMemory")
    assert len(events["events"]) == 2, "the error line and the REPORT line"
