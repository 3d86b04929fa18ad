"""LoggingConfig through boto3 against a real eddy: the log format, the levels Lambda
defaults for JSON, a custom log group the logs land in, and Lambda's validation. The
function runs under the official Python runtime interface client, which formats its
`logging` records as JSON when the platform says `AWS_LAMBDA_LOG_FORMAT=JSON`."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, make_client
from test_boto3_lambda import ROLE

SOURCE = (
    "import logging, os\n"
    "logger = logging.getLogger()\n"
    "def handler(event, context):\n"
    "    logger.debug('debug line')\n"
    "    logger.warning('warning line')\n"
    "    return {'format': os.environ.get('AWS_LAMBDA_LOG_FORMAT'),\n"
    "            'level': os.environ.get('AWS_LAMBDA_LOG_LEVEL'),\n"
    "            'group': os.environ.get('AWS_LAMBDA_LOG_GROUP_NAME')}\n"
)


def logging_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("logs_app.py", SOURCE)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def awslambda(eddy_endpoint):
    return make_client("lambda", eddy_endpoint, read_timeout=60)


@pytest.fixture(scope="module")
def logs(eddy_endpoint):
    return make_client("logs", eddy_endpoint)


@pytest.fixture
def function_name() -> str:
    return f"logcfg-{uuid.uuid4().hex[:12]}"


def create(awslambda, name: str, **extra) -> dict:
    return awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="logs_app.handler",
        Code={"ZipFile": logging_zip()},
        **extra,
    )


def test_default_logging_config_is_text_to_the_function_group(awslambda, function_name):
    created = create(awslambda, function_name)
    assert created["LoggingConfig"] == {
        "LogFormat": "Text",
        "LogGroup": f"/aws/lambda/{function_name}",
    }
    result = json.loads(awslambda.invoke(FunctionName=function_name)["Payload"].read())
    assert result == {"format": None, "level": None, "group": f"/aws/lambda/{function_name}"}


def test_json_format_defaults_levels_and_reaches_the_runtime(awslambda, logs, function_name):
    group = f"/custom/{function_name}"
    created = create(
        awslambda,
        function_name,
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "LogGroup": group},
    )
    assert created["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "WARN",
        "SystemLogLevel": "INFO",
        "LogGroup": group,
    }
    result = json.loads(awslambda.invoke(FunctionName=function_name)["Payload"].read())
    assert result == {"format": "JSON", "level": "WARN", "group": group}
    # The runtime wrote its record as JSON, filtered at WARN, into the custom group.
    deadline = time.monotonic() + 10
    messages: list[str] = []
    while time.monotonic() < deadline:
        events = logs.filter_log_events(logGroupName=group)["events"]
        messages = [event["message"] for event in events]
        if any("warning line" in message for message in messages):
            break
        time.sleep(0.1)
    records = [json.loads(m) for m in messages if m.startswith("{") and "line" in m]
    assert [record["message"] for record in records] == ["warning line"], messages
    assert records[0]["level"] == "WARNING"  # Python's level name, as the runtime client writes it


def test_update_switches_format_and_drops_levels_back_to_text(awslambda, function_name):
    create(awslambda, function_name, LoggingConfig={"LogFormat": "JSON"})
    updated = awslambda.update_function_configuration(
        FunctionName=function_name, LoggingConfig={"LogFormat": "Text"}
    )
    assert updated["LoggingConfig"] == {
        "LogFormat": "Text",
        "LogGroup": f"/aws/lambda/{function_name}",
    }


def test_levels_with_text_format_are_refused(awslambda, function_name):
    with pytest.raises(ClientError) as error:
        create(
            awslambda,
            function_name,
            LoggingConfig={"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"},
        )
    assert error_code(error) == "InvalidParameterValueException"
    assert "LogLevel is not supported when LogFormat is set to" in str(error.value)
    with pytest.raises(ClientError) as missing:
        awslambda.get_function(FunctionName=function_name)
    assert error_code(missing) == "ResourceNotFoundException"


def test_bad_log_format_and_group_are_validation_errors(awslambda, function_name):
    for config in ({"LogFormat": "XML"}, {"LogGroup": "bad group!"}, {"LogFormat": "JSON", "SystemLogLevel": "TRACE"}):
        with pytest.raises(ClientError) as error:
            create(awslambda, function_name, LoggingConfig=config)
        assert error_code(error) == "ValidationException", config
