"""Malformed requests over raw HTTP: each gets AWS's status and error code, and the server lives on."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def post_json(endpoint: str, operation: str, body: bytes | str | dict) -> requests.Response:
    data = json.dumps(body) if isinstance(body, dict) else body
    return requests.post(
        f"{endpoint}/",
        data=data,
        headers={"X-Amz-Target": f"AmazonSQS.{operation}", "Content-Type": JSON_CONTENT_TYPE},
        timeout=30,
    )


def post_form(endpoint: str, fields: dict) -> requests.Response:
    return requests.post(f"{endpoint}/", data=fields, headers={"Content-Type": FORM_CONTENT_TYPE}, timeout=30)


def json_error_code(response: requests.Response) -> str:
    """The code a query-compatible SDK reports: x-amzn-query-error's code, else `__type`."""
    query_error = response.headers.get("x-amzn-query-error")
    if query_error and ";" in query_error:
        return query_error.split(";", 1)[0]
    body = response.json()
    return body["__type"].rsplit("#", 1)[-1]


def json_error_type(response: requests.Response) -> str:
    return response.json()["__type"].rsplit("#", 1)[-1]


def xml_error_code(response: requests.Response) -> str:
    match = re.search(r"<Code>([^<]*)</Code>", response.text)
    assert match, f"no <Code> in {response.text!r}"
    return match.group(1)


@pytest.fixture
def still_answers(eddy_server, sqs):
    """After the test: the process is alive and still serves a well-formed request."""
    yield
    assert eddy_server.process.poll() is None, "eddy exited"
    assert requests.get(f"{eddy_server.endpoint}/_eddy/health", timeout=5).status_code == 200
    sqs.list_queues(MaxResults=1)


pytestmark = pytest.mark.usefixtures("still_answers")


def test_invalid_json_body_fails_serialization_exception(eddy_endpoint):
    response = post_json(eddy_endpoint, "ListQueues", b"{this is not json")
    assert response.status_code == 400
    assert json_error_type(response) == "SerializationException"


def test_json_body_that_is_not_an_object_fails(eddy_endpoint):
    response = post_json(eddy_endpoint, "ListQueues", b"[1, 2, 3]")
    assert response.status_code == 400
    assert json_error_type(response) == "SerializationException"


def test_unknown_json_target_fails_unknown_operation(eddy_endpoint):
    response = post_json(eddy_endpoint, "Frobnicate", {})
    assert response.status_code == 400
    assert json_error_type(response) == "UnknownOperationException"


def test_unknown_query_action_fails_invalid_action(eddy_endpoint):
    response = post_form(eddy_endpoint, {"Action": "Frobnicate", "Version": "2012-11-05"})
    assert response.status_code == 400
    assert xml_error_code(response) == "InvalidAction"
    assert "<ErrorResponse" in response.text


def test_query_form_without_action_fails_missing_action(eddy_endpoint):
    response = post_form(eddy_endpoint, {"Version": "2012-11-05", "QueueName": "x"})
    assert response.status_code == 400
    assert xml_error_code(response) in {"MissingAction", "InvalidAction"}


def test_json_send_message_without_queue_url_fails_missing_parameter(eddy_endpoint):
    response = post_json(eddy_endpoint, "SendMessage", {"MessageBody": "x"})
    assert response.status_code == 400
    assert json_error_code(response) == "MissingParameter"


def test_json_send_message_without_body_fails_missing_parameter(eddy_endpoint, queue_url):
    response = post_json(eddy_endpoint, "SendMessage", {"QueueUrl": queue_url})
    assert response.status_code == 400
    assert json_error_code(response) == "MissingParameter"


def test_query_send_message_without_body_fails_missing_parameter(eddy_endpoint, queue_url):
    response = post_form(eddy_endpoint, {"Action": "SendMessage", "Version": "2012-11-05", "QueueUrl": queue_url})
    assert response.status_code == 400
    assert xml_error_code(response) == "MissingParameter"


def test_query_create_queue_without_name_fails_missing_parameter(eddy_endpoint):
    response = post_form(eddy_endpoint, {"Action": "CreateQueue", "Version": "2012-11-05"})
    assert response.status_code == 400
    assert xml_error_code(response) == "MissingParameter"


def test_json_wrong_type_for_integer_member_fails(eddy_endpoint, queue_url):
    response = post_json(eddy_endpoint, "ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": "five"})
    assert response.status_code == 400
    assert json_error_code(response) in {"SerializationException", "InvalidParameterValue"}


def test_json_wrong_type_for_string_member_fails(eddy_endpoint):
    response = post_json(eddy_endpoint, "CreateQueue", {"QueueName": 12345})
    assert response.status_code == 400
    assert json_error_code(response) in {"SerializationException", "InvalidParameterValue"}


def test_query_non_numeric_integer_parameter_fails_invalid_parameter_value(eddy_endpoint, queue_url):
    response = post_form(
        eddy_endpoint,
        {"Action": "ReceiveMessage", "Version": "2012-11-05", "QueueUrl": queue_url, "MaxNumberOfMessages": "five"},
    )
    assert response.status_code == 400
    assert xml_error_code(response) in {"InvalidParameterValue", "MalformedQueryString"}


def test_body_over_two_mebibytes_is_refused_with_an_error_response(eddy_endpoint, queue_url):
    huge = {"QueueUrl": queue_url, "MessageBody": "a" * (3 * 1024 * 1024)}
    response = post_json(eddy_endpoint, "SendMessage", huge)
    assert response.status_code in {400, 413}
    if response.status_code == 400:
        assert json_error_code(response) in {"InvalidParameterValue", "RequestEntityTooLarge"}


def test_json_error_carries_request_id_and_json_content_type(eddy_endpoint):
    response = post_json(eddy_endpoint, "GetQueueUrl", {"QueueName": f"missing-{uuid.uuid4().hex}"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith(JSON_CONTENT_TYPE)
    assert response.headers.get("x-amzn-RequestId")
    assert response.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert response.json()["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"


def test_query_error_is_xml_with_sender_type(eddy_endpoint):
    response = post_form(
        eddy_endpoint, {"Action": "GetQueueUrl", "Version": "2012-11-05", "QueueName": f"missing-{uuid.uuid4().hex}"}
    )
    assert response.status_code == 400
    assert xml_error_code(response) == "AWS.SimpleQueueService.NonExistentQueue"
    assert "<Type>Sender</Type>" in response.text
    assert "<RequestId>" in response.text


def test_many_bad_requests_in_a_row_leave_the_server_healthy(eddy_endpoint):
    for index in range(50):
        post_json(eddy_endpoint, "SendMessage", b"\xff\xfe garbage %d" % index)
        post_form(eddy_endpoint, {"Action": "SendMessage", "Version": "2012-11-05", "QueueUrl": "::bad::"})
