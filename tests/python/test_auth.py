"""SigV4 authentication: an eddy started with an access key accepts only requests signed by it."""

from __future__ import annotations

import re

import botocore
import botocore.exceptions
import pytest
import requests

from conftest import ACCOUNT_ID, make_client, start_eddy

ACCESS_KEY_ID = "AKIDTEST"
SECRET_ACCESS_KEY = "s3cr3t"
MISSING_TOKEN_CODES = {"MissingAuthenticationToken", "MissingAuthenticationTokenException"}


@pytest.fixture(scope="module")
def secured_endpoint(tmp_path_factory):
    server = start_eddy(
        tmp_path_factory.mktemp("eddy-auth") / "data",
        ["--access-key-id", ACCESS_KEY_ID, "--secret-access-key", SECRET_ACCESS_KEY],
    )
    yield server.endpoint
    server.stop()


def error_code_of(call) -> tuple[str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_correctly_signed_requests_are_served(secured_endpoint):
    sqs = make_client("sqs", secured_endpoint, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    url = sqs.create_queue(QueueName="signed-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="signed")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"][0]["Body"] == "signed"
    assert url in sqs.list_queues()["QueueUrls"]


def test_correctly_signed_sts_call_reports_the_account(secured_endpoint):
    sts = make_client("sts", secured_endpoint, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    assert sts.get_caller_identity()["Account"] == ACCOUNT_ID


def test_wrong_secret_fails_signature_does_not_match(secured_endpoint):
    sqs = make_client("sqs", secured_endpoint, ACCESS_KEY_ID, "not-the-secret")
    code, status = error_code_of(lambda: sqs.list_queues())
    assert (code, status) == ("SignatureDoesNotMatch", 403)


def test_unknown_access_key_fails_invalid_client_token_id(secured_endpoint):
    sqs = make_client("sqs", secured_endpoint, "AKIDUNKNOWN", SECRET_ACCESS_KEY)
    code, status = error_code_of(lambda: sqs.list_queues())
    assert (code, status) == ("InvalidClientTokenId", 403)


def test_wrong_secret_on_query_protocol_fails_signature_does_not_match(secured_endpoint):
    # A signed form request built by botocore's signer, but with the wrong secret.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url=f"{secured_endpoint}/",
        data="Action=ListQueues&Version=2012-11-05",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ACCESS_KEY_ID, "wrong"), "sqs", "us-east-1").add_auth(request)
    response = requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=10)
    assert response.status_code == 403
    assert re.search(r"<Code>SignatureDoesNotMatch</Code>", response.text)


def test_unsigned_boto3_request_is_rejected(secured_endpoint):
    sqs = make_client("sqs", secured_endpoint, signature_version=botocore.UNSIGNED)
    code, status = error_code_of(lambda: sqs.list_queues())
    assert code in MISSING_TOKEN_CODES
    assert status == 403


def test_unsigned_raw_query_request_is_rejected(secured_endpoint):
    response = requests.post(
        f"{secured_endpoint}/",
        data={"Action": "ListQueues", "Version": "2012-11-05"},
        timeout=10,
    )
    assert response.status_code == 403
    match = re.search(r"<Code>([^<]*)</Code>", response.text)
    assert match and match.group(1) in MISSING_TOKEN_CODES


def test_unsigned_raw_json_request_is_rejected(secured_endpoint):
    response = requests.post(
        f"{secured_endpoint}/",
        data="{}",
        headers={"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"},
        timeout=10,
    )
    assert response.status_code == 403
    code = response.headers.get("x-amzn-query-error", "").split(";")[0] or response.json()["__type"].rsplit("#", 1)[-1]
    assert code in MISSING_TOKEN_CODES
