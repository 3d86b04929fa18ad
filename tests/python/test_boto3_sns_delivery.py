"""SNS delivery end to end through boto3 against a real eddy, checked against the formats AWS
documents (reference §5): the SQS envelope and raw delivery, filter policies on attributes
and on the body, the Lambda event (through tests/functions/python/async_app.py, which writes
every event it gets to a file), MessageStructure=json, an HTTP subscriber served by the test
itself that confirms its subscription and verifies the signature of everything it gets
(SignatureVersion 1 and 2, with the `cryptography` package and the certificate eddy serves),
HTTP retries by the delivery policy into the subscription's dead-letter queue, FIFO topics to
FIFO queues under concurrent publishers, PublishBatch, and a `kill -9` in the middle of heavy
publishing after which every acknowledged message is in every subscribed queue."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import threading
import time
import urllib.request
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import ACCOUNT_ID, REGION, REPO_ROOT, error_code, make_client, queue_arn, receive_all, start_eddy
from sqs_digests import md5_of_attributes, md5_of_body

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role"
RECORDING_APP = REPO_ROOT / "tests" / "functions" / "python" / "async_app.py"

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# The keys of a standard topic's notification, in the order AWS writes them; Subject and
# MessageAttributes appear only when the publish had them.
NOTIFICATION_KEYS = [
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
    "MessageAttributes",
]
# A FIFO topic's: SequenceNumber after MessageId, no signature fields.
FIFO_NOTIFICATION_KEYS = [
    "Type",
    "MessageId",
    "SequenceNumber",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "UnsubscribeURL",
    "MessageAttributes",
]
# The SubscriptionConfirmation an HTTP endpoint gets, in AWS's order.
CONFIRMATION_KEYS = [
    "Type",
    "MessageId",
    "Token",
    "TopicArn",
    "Message",
    "SubscribeURL",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
]
# The `Sns` object of a Lambda event: other spellings of the URLs, MessageAttributes always.
LAMBDA_SNS_KEYS = {
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertUrl",
    "UnsubscribeUrl",
    "MessageAttributes",
}

# What AWS signs, in this order, each as "Name\nValue\n" (Subject only when present).
SIGNED_NOTIFICATION_FIELDS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
SIGNED_CONFIRMATION_FIELDS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


# ---------------------------------------------------------------------------------------------
# Clients and resources


def start_signing_eddy(data_dir, extra_args: list[str] | None = None):
    """An eddy that signs SQS envelopes and Lambda events too (`--sns-sign-envelopes`), as
    AWS does; without it they carry an empty Signature (HTTP deliveries are always signed)."""
    return start_eddy(data_dir, extra_args, env={"EDDY_SNS_SIGN_ENVELOPES": "true"})


@pytest.fixture(scope="module")
def signing_server(tmp_path_factory):
    server = start_signing_eddy(tmp_path_factory.mktemp("eddy-sns") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def endpoint(signing_server) -> str:
    return signing_server.endpoint


@pytest.fixture(scope="module")
def sns(endpoint):
    return make_client("sns", endpoint)


@pytest.fixture(scope="module")
def sns_unvalidated(endpoint):
    """Sends what it is given, so the server's own validation is tested."""
    return make_client("sns", endpoint, parameter_validation=False)


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client("sqs", endpoint)


@pytest.fixture(scope="module")
def awslambda(endpoint):
    return make_client("lambda", endpoint, read_timeout=60)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_topic(sns, prefix: str, fifo: bool = False, **attributes: str) -> str:
    name = unique(prefix) + (".fifo" if fifo else "")
    if fifo:
        attributes["FifoTopic"] = "true"
    return sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]


def create_queue(sqs, prefix: str, fifo: bool = False) -> tuple[str, str]:
    """A new queue: (url, arn)."""
    name = unique(prefix) + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, queue_arn(name)


def subscribe(sns, topic_arn: str, protocol: str, endpoint: str, **attributes: str) -> str:
    return sns.subscribe(
        TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, Attributes=attributes, ReturnSubscriptionArn=True
    )["SubscriptionArn"]


def receive_exactly(sqs, url: str, expected: int, timeout: float = 15.0) -> list[dict]:
    """Receives `expected` messages (bounded wait), then checks one short poll brings no more."""
    messages = receive_all(
        sqs, url, expected, timeout=timeout, MessageAttributeNames=["All"], AttributeNames=["All"]
    )
    assert len(messages) == expected, f"expected {expected} messages, got {[m['Body'] for m in messages]}"
    extra = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert extra == [], f"unexpected extra messages: {[m['Body'] for m in extra]}"
    return messages


def envelopes_by_id(messages: list[dict]) -> dict[str, dict]:
    """The JSON envelopes of SQS messages (key order kept), by SNS MessageId."""
    documents = [json.loads(message["Body"]) for message in messages]
    return {document["MessageId"]: document for document in documents}


def recording_function(awslambda, trace_path) -> str:
    """A python3.12 function that appends every event it gets to `trace_path`; its ARN."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(RECORDING_APP, "async_app.py")
    return awslambda.create_function(
        FunctionName=unique("sns-target"),
        Runtime="python3.12",
        Role=ROLE,
        Handler="async_app.record",
        Code={"ZipFile": buffer.getvalue()},
        Environment={"Variables": {"ATTEMPTS_FILE": str(trace_path)}},
    )["FunctionArn"]


def lambda_events(trace_path, count: int, timeout: float = 30.0) -> list[dict]:
    """The events the recording function got, once there are `count` (bounded wait)."""
    deadline = time.monotonic() + timeout
    events: list[dict] = []
    while time.monotonic() < deadline:
        if trace_path.exists():
            lines = trace_path.read_text().splitlines()
            events = [json.loads(line)["event"] for line in lines if line.strip()]
            if len(events) >= count:
                break
        time.sleep(0.1)
    assert len(events) == count, f"expected {count} function events, got {events}"
    return events


def lambda_records_by_message_id(events: list[dict]) -> dict[str, dict]:
    records = {}
    for event in events:
        assert list(event) == ["Records"] and len(event["Records"]) == 1, event
        record = event["Records"][0]
        records[record["Sns"]["MessageId"]] = record
    return records


# ---------------------------------------------------------------------------------------------
# Signatures


_certificates: dict[str, x509.Certificate] = {}


def certificate(url: str) -> x509.Certificate:
    """Downloads the signing certificate (a plain GET, no credentials) and loads it."""
    if url not in _certificates:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            pem = response.read()
        _certificates[url] = x509.load_pem_x509_certificate(pem)
    return _certificates[url]


def string_to_sign(document: dict) -> bytes:
    fields = SIGNED_NOTIFICATION_FIELDS if document["Type"] == "Notification" else SIGNED_CONFIRMATION_FIELDS
    return "".join(f"{name}\n{document[name]}\n" for name in fields if document.get(name) is not None).encode()


def verify_signature(document: dict, certificate_url: str | None = None) -> None:
    """Checks `document`'s Signature as a subscriber does: PKCS#1 v1.5 with SHA1 for
    SignatureVersion 1, SHA256 for 2, by the public key of the certificate at its
    SigningCertURL (or at `certificate_url`)."""
    url = certificate_url or document.get("SigningCertURL") or document["SigningCertUrl"]
    public_key = certificate(url).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}[document["SignatureVersion"]]
    try:
        public_key.verify(
            base64.b64decode(document["Signature"]), string_to_sign(document), padding.PKCS1v15(), algorithm
        )
    except InvalidSignature:
        pytest.fail(f"signature does not verify (SignatureVersion {document['SignatureVersion']}): {document}")


def assert_signing_fields(document: dict, endpoint: str, subscription_arn: str, version: str = "1") -> None:
    assert document["SignatureVersion"] == version
    assert base64.b64decode(document["Signature"], validate=True)
    assert re.fullmatch(re.escape(endpoint) + r"/SimpleNotificationService-[^/?#]+\.pem", document["SigningCertURL"])
    assert document["UnsubscribeURL"] == f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
    verify_signature(document)


# ---------------------------------------------------------------------------------------------
# An HTTP subscriber served by the test


class HttpSubscriber:
    """An HTTP endpoint on 127.0.0.1:0 that records every POST and answers `status`."""

    def __init__(self, status: int = 200):
        self.status = status
        self.posts: list[dict] = []
        self.changed = threading.Condition()
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the name http.server calls)
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        body += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                post = {
                    "path": self.path,
                    "headers": {name.lower(): value for name, value in self.headers.items()},
                    "body": body.decode("utf-8"),
                }
                self.send_response(subscriber.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with subscriber.changed:
                    subscriber.posts.append(post)
                    subscriber.changed.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sns-hook"

    def of_type(self, message_type: str, message_id: str | None = None) -> list[dict]:
        with self.changed:
            return [
                post
                for post in self.posts
                if post["headers"].get("x-amz-sns-message-type") == message_type
                and (message_id is None or post["headers"].get("x-amz-sns-message-id") == message_id)
            ]

    def wait_for(self, message_type: str, count: int = 1, message_id: str | None = None, timeout: float = 20.0):
        """The POSTs of `message_type` (and `message_id`), once there are `count` (bounded)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.of_type(message_type, message_id)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(remaining)
        posts = self.of_type(message_type, message_id)
        assert len(posts) >= count, f"expected {count} {message_type} POSTs, got {self.posts}"
        return posts

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_subscriber():
    """Makes HTTP subscribers (`http_subscriber(status=200)`), closed after the test."""
    subscribers: list[HttpSubscriber] = []

    def make(status: int = 200) -> HttpSubscriber:
        subscribers.append(HttpSubscriber(status))
        return subscribers[-1]

    yield make
    for subscriber in subscribers:
        subscriber.close()


def subscribe_http_and_confirm(sns, topic_arn: str, subscriber: HttpSubscriber, **attributes: str):
    """Subscribes `subscriber`, takes its SubscriptionConfirmation and GETs the SubscribeURL
    (plain urllib, no signature); returns (confirmation POST, subscription ARN)."""
    response = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=subscriber.url, Attributes=attributes)
    assert response["SubscriptionArn"] == "pending confirmation"
    confirmation = subscriber.wait_for("SubscriptionConfirmation")[0]
    document = json.loads(confirmation["body"])
    with urllib.request.urlopen(document["SubscribeURL"], timeout=10) as reply:
        assert reply.status == 200
        xml = reply.read().decode()
    match = re.search(r"<SubscriptionArn>([^<]+)</SubscriptionArn>", xml)
    assert match, xml
    return confirmation, match.group(1)


# ---------------------------------------------------------------------------------------------
# 1. Fan-out to raw and filtered queues and a function


def test_standard_topic_fans_out_to_raw_and_filtered_queues_and_a_function(
    sns, sqs, awslambda, endpoint, tmp_path
):
    topic_arn = create_topic(sns, "fanout")
    raw_url, raw_arn = create_queue(sqs, "raw")
    filtered_url, filtered_arn = create_queue(sqs, "filtered")
    body_url, body_arn = create_queue(sqs, "body-filtered")
    trace = tmp_path / "events.jsonl"
    function_arn = recording_function(awslambda, trace)

    subscribe(sns, topic_arn, "sqs", raw_arn, RawMessageDelivery="true")
    filtered_subscription = subscribe(
        sns, topic_arn, "sqs", filtered_arn, FilterPolicy=json.dumps({"color": ["red"], "n": [{"numeric": [">=", 10]}]})
    )
    body_subscription = subscribe(
        sns,
        topic_arn,
        "sqs",
        body_arn,
        FilterPolicyScope="MessageBody",
        FilterPolicy=json.dumps({"order": {"status": ["paid"]}}),
    )
    lambda_subscription = subscribe(sns, topic_arn, "lambda", function_arn)

    attributes = {
        "color": {"DataType": "String", "StringValue": "red"},
        "n": {"DataType": "Number", "StringValue": "12"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe"},
        "tags": {"DataType": "String.Array", "StringValue": '["a","b"]'},
    }
    envelope_attributes = {
        "color": {"Type": "String", "Value": "red"},
        "n": {"Type": "Number", "Value": "12"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01\xfe").decode()},
        "tags": {"Type": "String.Array", "Value": '["a","b"]'},
    }
    # m1 matches the attribute filter only; m2 and m4 the body filter only; m3 neither.
    published = [
        dict(Message="hello-1", Subject="greeting", MessageAttributes=attributes),
        dict(
            Message='{"order": {"status": "paid", "id": 7}}',
            MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}},
        ),
        dict(
            Message='{"order": {"status": "open"}}',
            MessageAttributes={
                "color": {"DataType": "String", "StringValue": "red"},
                "n": {"DataType": "Number", "StringValue": "3"},
            },
        ),
        dict(Message='{"order": {"status": "paid"}}'),
    ]
    ids = []
    for request in published:
        response = sns.publish(TopicArn=topic_arn, **request)
        assert UUID.fullmatch(response["MessageId"]), response
        assert "SequenceNumber" not in response
        ids.append(response["MessageId"])
    m1, m2, m3, m4 = ids

    # Raw delivery: body = the message, SNS attributes as SQS message attributes.
    raw = {message["Body"]: message for message in receive_exactly(sqs, raw_url, 4)}
    assert set(raw) == {request["Message"] for request in published}
    hello = raw["hello-1"]
    assert hello["MessageAttributes"] == attributes
    assert hello["MD5OfBody"] == md5_of_body("hello-1")
    assert hello["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert raw['{"order": {"status": "paid", "id": 7}}']["MessageAttributes"] == {
        "color": {"DataType": "String", "StringValue": "blue"}
    }
    assert "MessageAttributes" not in raw['{"order": {"status": "paid"}}']

    # The attribute-filtered queue gets m1 only, as the envelope, with no SQS attributes.
    [filtered] = receive_exactly(sqs, filtered_url, 1)
    assert "MessageAttributes" not in filtered
    envelope = json.loads(filtered["Body"])
    assert list(envelope) == NOTIFICATION_KEYS
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == m1
    assert envelope["TopicArn"] == topic_arn
    assert envelope["Subject"] == "greeting"
    assert envelope["Message"] == "hello-1"
    assert TIMESTAMP.fullmatch(envelope["Timestamp"]), envelope["Timestamp"]
    assert envelope["MessageAttributes"] == envelope_attributes
    assert_signing_fields(envelope, endpoint, filtered_subscription)

    # The body-filtered queue (nested key) gets m2 and m4; m4 had no attributes and no subject.
    body_envelopes = envelopes_by_id(receive_exactly(sqs, body_url, 2))
    assert set(body_envelopes) == {m2, m4}
    assert list(body_envelopes[m2]) == [key for key in NOTIFICATION_KEYS if key != "Subject"]
    assert body_envelopes[m2]["MessageAttributes"] == {"color": {"Type": "String", "Value": "blue"}}
    assert list(body_envelopes[m4]) == [key for key in NOTIFICATION_KEYS if key not in ("Subject", "MessageAttributes")]
    for document in body_envelopes.values():
        assert_signing_fields(document, endpoint, body_subscription)

    # The function gets every message, one SNS event record per invoke.
    records = lambda_records_by_message_id(lambda_events(trace, 4))
    assert set(records) == {m1, m2, m3, m4}
    for message_id, record in records.items():
        assert record["EventSource"] == "aws:sns"
        assert record["EventVersion"] == "1.0"
        assert record["EventSubscriptionArn"] == lambda_subscription
        sns_record = record["Sns"]
        assert set(sns_record) == LAMBDA_SNS_KEYS, sns_record
        assert sns_record["Type"] == "Notification"
        assert sns_record["TopicArn"] == topic_arn
        assert TIMESTAMP.fullmatch(sns_record["Timestamp"])
        assert sns_record["SignatureVersion"] == "1"
        assert sns_record["SigningCertUrl"].startswith(f"{endpoint}/SimpleNotificationService-")
        assert sns_record["UnsubscribeUrl"] == (
            f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={lambda_subscription}"
        )
        verify_signature(sns_record)
    assert records[m1]["Sns"]["Subject"] == "greeting"
    assert records[m1]["Sns"]["Message"] == "hello-1"
    assert records[m1]["Sns"]["MessageAttributes"] == envelope_attributes
    assert records[m4]["Sns"]["Subject"] is None
    assert records[m4]["Sns"]["MessageAttributes"] == {}
    assert records[m3]["Sns"]["Message"] == '{"order": {"status": "open"}}'


# ---------------------------------------------------------------------------------------------
# 2. MessageStructure=json


def test_message_structure_json_gives_each_protocol_its_own_message(
    sns, sqs, awslambda, http_subscriber, tmp_path
):
    topic_arn = create_topic(sns, "structure")
    envelope_url, envelope_arn = create_queue(sqs, "structure-envelope")
    raw_url, raw_arn = create_queue(sqs, "structure-raw")
    trace = tmp_path / "events.jsonl"
    function_arn = recording_function(awslambda, trace)
    subscriber = http_subscriber()
    subscribe(sns, topic_arn, "sqs", envelope_arn)
    subscribe(sns, topic_arn, "sqs", raw_arn, RawMessageDelivery="true")
    subscribe(sns, topic_arn, "lambda", function_arn)
    subscribe_http_and_confirm(sns, topic_arn, subscriber)

    per_protocol = sns.publish(
        TopicArn=topic_arn,
        MessageStructure="json",
        Message=json.dumps({"default": "D", "sqs": "S", "lambda": "L", "http": "H", "https": "HS", "email": "E"}),
    )["MessageId"]
    default_only = sns.publish(
        TopicArn=topic_arn, MessageStructure="json", Message=json.dumps({"default": "only default"})
    )["MessageId"]

    envelopes = envelopes_by_id(receive_exactly(sqs, envelope_url, 2))
    assert envelopes[per_protocol]["Message"] == "S"
    assert envelopes[default_only]["Message"] == "only default"
    assert sorted(message["Body"] for message in receive_exactly(sqs, raw_url, 2)) == ["S", "only default"]
    records = lambda_records_by_message_id(lambda_events(trace, 2))
    assert records[per_protocol]["Sns"]["Message"] == "L"
    assert records[default_only]["Sns"]["Message"] == "only default"
    [http_post] = subscriber.wait_for("Notification", message_id=per_protocol)
    assert json.loads(http_post["body"])["Message"] == "H"
    [http_post] = subscriber.wait_for("Notification", message_id=default_only)
    assert json.loads(http_post["body"])["Message"] == "only default"


def test_message_structure_json_must_parse_and_have_a_default(sns, sqs):
    topic_arn = create_topic(sns, "structure-errors")
    queue_url, queue_arn_ = create_queue(sqs, "structure-errors")
    subscribe(sns, topic_arn, "sqs", queue_arn_)
    with pytest.raises(ClientError) as not_json:
        sns.publish(TopicArn=topic_arn, MessageStructure="json", Message="{not json")
    assert error_code(not_json) == "InvalidParameter"
    assert not_json.value.response["Error"]["Message"] == (
        "Invalid parameter: Message Structure - JSON message body failed to parse"
    )
    with pytest.raises(ClientError) as no_default:
        sns.publish(TopicArn=topic_arn, MessageStructure="json", Message=json.dumps({"sqs": "S"}))
    assert error_code(no_default) == "InvalidParameter"
    assert no_default.value.response["Error"]["Message"] == (
        "Invalid parameter: Message Structure - No default entry in JSON message body"
    )
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []) == []


# ---------------------------------------------------------------------------------------------
# 3. HTTP subscriber: confirmation, notifications, signatures


def test_http_subscriber_confirms_and_verifies_signatures_of_versions_1_and_2(
    sns, sqs, endpoint, http_subscriber
):
    topic_arn = create_topic(sns, "http")
    subscriber = http_subscriber()
    queue_url, queue_arn_ = create_queue(sqs, "http-neighbour")
    queue_subscription = subscribe(sns, topic_arn, "sqs", queue_arn_)

    response = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=subscriber.url)
    assert response["SubscriptionArn"] == "pending confirmation"
    pending = [
        subscription
        for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
        if subscription["Protocol"] == "http"
    ]
    assert [(s["SubscriptionArn"], s["Endpoint"]) for s in pending] == [("PendingConfirmation", subscriber.url)]

    # The SubscriptionConfirmation POST.
    [confirmation] = subscriber.wait_for("SubscriptionConfirmation")
    headers = confirmation["headers"]
    document = json.loads(confirmation["body"])
    assert confirmation["path"] == "/sns-hook"
    assert headers["content-type"].startswith("text/plain")
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert headers["x-amz-sns-message-id"] == document["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic_arn
    assert "x-amz-sns-subscription-arn" not in headers
    assert list(document) == CONFIRMATION_KEYS
    assert document["Type"] == "SubscriptionConfirmation"
    assert UUID.fullmatch(document["MessageId"])
    assert document["TopicArn"] == topic_arn
    assert document["Message"].startswith(f"You have chosen to subscribe to the topic {topic_arn}.")
    token = document["Token"]
    assert token and re.fullmatch(r"[0-9A-Za-z]+", token), token
    assert document["SubscribeURL"] == (
        f"{endpoint}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"
    )
    assert TIMESTAMP.fullmatch(document["Timestamp"])
    assert document["SignatureVersion"] == "1"
    verify_signature(document)

    # Confirming with a plain GET of the SubscribeURL.
    with urllib.request.urlopen(document["SubscribeURL"], timeout=10) as reply:
        assert reply.status == 200
        xml = reply.read().decode()
    match = re.search(r"<ConfirmSubscriptionResult>\s*<SubscriptionArn>([^<]+)</SubscriptionArn>", xml)
    assert match, xml
    subscription_arn = match.group(1)
    assert subscription_arn.startswith(f"{topic_arn}:")
    listed = {
        subscription["SubscriptionArn"]: subscription
        for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    }
    assert set(listed) == {subscription_arn, queue_subscription}
    assert listed[subscription_arn]["Protocol"] == "http"
    assert listed[subscription_arn]["Endpoint"] == subscriber.url
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription_arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"

    # A notification, SignatureVersion 1 (SHA1withRSA).
    first = sns.publish(
        TopicArn=topic_arn,
        Message="to the endpoint",
        Subject="hi",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )["MessageId"]
    [post] = subscriber.wait_for("Notification", message_id=first)
    assert post["headers"]["x-amz-sns-message-id"] == first
    assert post["headers"]["x-amz-sns-topic-arn"] == topic_arn
    assert post["headers"]["x-amz-sns-subscription-arn"] == subscription_arn
    assert post["headers"]["content-type"].startswith("text/plain")
    notification = json.loads(post["body"])
    assert list(notification) == NOTIFICATION_KEYS
    assert notification["Message"] == "to the endpoint"
    assert notification["Subject"] == "hi"
    assert notification["MessageAttributes"] == {"kind": {"Type": "String", "Value": "test"}}
    assert_signing_fields(notification, endpoint, subscription_arn, version="1")
    [queued] = receive_exactly(sqs, queue_url, 1)
    assert_signing_fields(json.loads(queued["Body"]), endpoint, queue_subscription, version="1")

    # SignatureVersion 2 (SHA256withRSA) once the topic asks for it.
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="SignatureVersion", AttributeValue="2")
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["SignatureVersion"] == "2"
    second = sns.publish(TopicArn=topic_arn, Message="signed with sha256")["MessageId"]
    [post] = subscriber.wait_for("Notification", message_id=second)
    notification = json.loads(post["body"])
    assert list(notification) == [key for key in NOTIFICATION_KEYS if key not in ("Subject", "MessageAttributes")]
    assert_signing_fields(notification, endpoint, subscription_arn, version="2")
    [queued] = receive_exactly(sqs, queue_url, 1)
    queued_envelope = json.loads(queued["Body"])
    assert queued_envelope["MessageId"] == second
    assert_signing_fields(queued_envelope, endpoint, queue_subscription, version="2")


def test_http_endpoint_unsubscribed_by_its_unsubscribe_url_gets_an_unsubscribe_confirmation(
    sns, endpoint, http_subscriber
):
    topic_arn = create_topic(sns, "http-leave")
    subscriber = http_subscriber()
    _, subscription_arn = subscribe_http_and_confirm(sns, topic_arn, subscriber)
    first = sns.publish(TopicArn=topic_arn, Message="before")["MessageId"]
    [post] = subscriber.wait_for("Notification", message_id=first)

    with urllib.request.urlopen(json.loads(post["body"])["UnsubscribeURL"], timeout=10) as reply:
        assert reply.status == 200
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []
    after = sns.publish(TopicArn=topic_arn, Message="after")["MessageId"]
    time.sleep(1.5)
    assert subscriber.of_type("Notification", after) == []

    # AWS then tells the endpoint, with a token to undo it (sns/latest/dg/http-unsubscribe-confirmation-json).
    [goodbye] = subscriber.wait_for("UnsubscribeConfirmation", timeout=10)
    document = json.loads(goodbye["body"])
    assert goodbye["headers"]["x-amz-sns-message-id"] == document["MessageId"]
    assert goodbye["headers"]["x-amz-sns-topic-arn"] == topic_arn
    assert goodbye["headers"]["x-amz-sns-subscription-arn"] == subscription_arn
    assert list(document) == CONFIRMATION_KEYS
    assert document["Type"] == "UnsubscribeConfirmation"
    assert document["Message"] == (
        f"You have chosen to deactivate subscription {subscription_arn}.\n"
        "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
    )
    assert document["SubscribeURL"] == (
        f"{endpoint}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={document['Token']}"
    )
    verify_signature(document)


# ---------------------------------------------------------------------------------------------
# 4. Failing HTTP endpoint: retries by the delivery policy, then the dead-letter queue


def test_failing_http_endpoint_gets_policy_retries_then_message_goes_to_dead_letter_queue(
    sns, sqs, http_subscriber
):
    topic_arn = create_topic(sns, "failing")
    dlq_url, dlq_arn = create_queue(sqs, "http-dlq")
    subscriber = http_subscriber(status=500)
    delivery_policy = {
        "healthyRetryPolicy": {
            "numRetries": 2,
            "minDelayTarget": 1,
            "maxDelayTarget": 1,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "numMaxDelayRetries": 0,
            "backoffFunction": "linear",
        }
    }
    _, subscription_arn = subscribe_http_and_confirm(
        sns,
        topic_arn,
        subscriber,
        DeliveryPolicy=json.dumps(delivery_policy),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}),
    )
    message_id = sns.publish(TopicArn=topic_arn, Message="nobody takes this")["MessageId"]

    dead = receive_all(sqs, dlq_url, 1, timeout=30)
    assert len(dead) == 1, "the message did not reach the dead-letter queue within 30 s"
    envelope = json.loads(dead[0]["Body"])
    assert list(envelope) == [key for key in NOTIFICATION_KEYS if key not in ("Subject", "MessageAttributes")]
    assert envelope["MessageId"] == message_id
    assert envelope["TopicArn"] == topic_arn
    assert envelope["Message"] == "nobody takes this"
    assert envelope["UnsubscribeURL"].endswith(f"SubscriptionArn={subscription_arn}")

    attempts = subscriber.wait_for("Notification", count=3, message_id=message_id, timeout=5)
    time.sleep(1.5)
    attempts = subscriber.of_type("Notification", message_id)
    assert len(attempts) == 3, f"1 attempt + numRetries 2 expected, the endpoint saw {len(attempts)}"
    assert {json.loads(attempt["body"])["MessageId"] for attempt in attempts} == {message_id}
    assert sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", []) == []


# ---------------------------------------------------------------------------------------------
# 5. FIFO topic to FIFO queue


def test_fifo_topic_keeps_group_order_under_concurrent_publishers_and_deduplicates(sns, sqs, endpoint):
    topic_arn = create_topic(sns, "t", fifo=True, ContentBasedDeduplication="true")
    queue_url, fifo_queue_arn = create_queue(sqs, "fifo-target", fifo=True)
    subscription_arn = subscribe(sns, topic_arn, "sqs", fifo_queue_arn)

    groups, per_group = 4, 50
    published: dict[str, dict] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def publisher(group: str) -> None:
        client = make_client("sns", endpoint)
        try:
            for sequence in range(per_group):
                body = f"{group}:{sequence}"
                response = client.publish(TopicArn=topic_arn, Message=body, MessageGroupId=group)
                with lock:
                    published[response["MessageId"]] = {"body": body, "sequence": response["SequenceNumber"]}
        except BaseException as error:  # noqa: BLE001 (reported by the main thread)
            failures.append(error)

    threads = [threading.Thread(target=publisher, args=(f"g{index}",)) for index in range(groups)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(published) == groups * per_group

    received: list[dict] = []
    deadline = time.monotonic() + 30
    while len(received) < groups * per_group and time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", [])
        received.extend(messages)
        if messages:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
    bodies_by_group: dict[str, list[str]] = {}
    sequence_by_group: dict[str, list[int]] = {}
    for message in received:
        envelope = json.loads(message["Body"])
        assert list(envelope) == [key for key in FIFO_NOTIFICATION_KEYS if key not in ("Subject", "MessageAttributes")]
        assert envelope["Type"] == "Notification"
        assert envelope["TopicArn"] == topic_arn
        assert re.fullmatch(r"\d{20}", envelope["SequenceNumber"]), envelope["SequenceNumber"]
        assert envelope["SequenceNumber"] == published[envelope["MessageId"]]["sequence"]
        assert envelope["Message"] == published[envelope["MessageId"]]["body"]
        assert envelope["UnsubscribeURL"] == f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
        group = envelope["Message"].split(":")[0]
        assert message["Attributes"]["MessageGroupId"] == group
        assert message["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(envelope["Message"].encode()).hexdigest()
        bodies_by_group.setdefault(group, []).append(envelope["Message"])
        sequence_by_group.setdefault(group, []).append(int(envelope["SequenceNumber"]))
    for index in range(groups):
        group = f"g{index}"
        assert bodies_by_group.get(group) == [f"{group}:{n}" for n in range(per_group)], f"group {group} out of order"
        assert sequence_by_group[group] == sorted(sequence_by_group[group])
    assert len(received) == groups * per_group

    # Deduplication within the 5-minute window: by explicit id, and by content.
    sns.publish(TopicArn=topic_arn, Message="first", MessageGroupId="d", MessageDeduplicationId="dup-1")
    sns.publish(TopicArn=topic_arn, Message="second", MessageGroupId="d", MessageDeduplicationId="dup-1")
    sns.publish(TopicArn=topic_arn, Message="same", MessageGroupId="d")
    sns.publish(TopicArn=topic_arn, Message="same", MessageGroupId="d")
    sns.publish(TopicArn=topic_arn, Message="marker", MessageGroupId="d")
    bodies: list[str] = []
    deadline = time.monotonic() + 15
    while "marker" not in bodies and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        bodies.extend(json.loads(message["Body"])["Message"] for message in messages)
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert bodies == ["first", "same", "marker"]

    with pytest.raises(ClientError) as no_group:
        sns.publish(TopicArn=topic_arn, Message="no group")
    assert error_code(no_group) == "InvalidParameter"
    assert no_group.value.response["Error"]["Message"] == (
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    )
    explicit_topic = create_topic(sns, "t-explicit", fifo=True)
    with pytest.raises(ClientError) as no_dedup:
        sns.publish(TopicArn=explicit_topic, Message="no dedup id", MessageGroupId="g")
    assert error_code(no_dedup) == "InvalidParameter"
    assert no_dedup.value.response["Error"]["Message"] == (
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    )


# ---------------------------------------------------------------------------------------------
# 6. kill -9 in the middle of heavy publishing


def test_every_acknowledged_publish_reaches_every_queue_after_kill_9(tmp_path):
    data_dir = tmp_path / "data"
    server = start_signing_eddy(data_dir)
    try:
        sns_client = make_client("sns", server.endpoint)
        sqs_client = make_client("sqs", server.endpoint)
        topic_arn = sns_client.create_topic(Name="durable")["TopicArn"]
        queue_names = ["durable-a", "durable-b", "durable-c"]
        for name in queue_names:
            sqs_client.create_queue(QueueName=name)
            subscribe(sns_client, topic_arn, "sqs", queue_arn(name))

        stop = threading.Event()
        acknowledged: list[list[str]] = [[] for _ in range(8)]
        server_errors: list[ClientError] = []
        cut_off: list[int] = []

        def publisher(index: int) -> None:
            client = make_client("sns", server.endpoint, connect_timeout=2, read_timeout=10)
            sequence = 0
            while not stop.is_set():
                try:
                    response = client.publish(TopicArn=topic_arn, Message=f"p{index}-{sequence}")
                except ClientError as error:
                    server_errors.append(error)
                    return
                except Exception:  # noqa: BLE001 (the connection died with the server)
                    cut_off.append(index)
                    return
                acknowledged[index].append(response["MessageId"])
                sequence += 1

        threads = [threading.Thread(target=publisher, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        server.process.kill()
        server.process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        assert server_errors == []
        acked = {message_id for ids in acknowledged for message_id in ids}
        assert all(acknowledged), "every publisher had acknowledged publishes before the kill"
        assert cut_off, "no publish was under way when eddy was killed"

        server = start_signing_eddy(data_dir, ["--store", server.store_url])
        sqs_client = make_client("sqs", server.endpoint)
        some_envelope = None
        for name in queue_names:
            url = sqs_client.get_queue_url(QueueName=name)["QueueUrl"]
            seen: set[str] = set()
            deadline = time.monotonic() + 30
            while not acked <= seen and time.monotonic() < deadline:
                messages = sqs_client.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=1
                ).get("Messages", [])
                for message in messages:
                    envelope = json.loads(message["Body"])
                    seen.add(envelope["MessageId"])
                    some_envelope = envelope
            missing = acked - seen
            assert not missing, f"{len(missing)} of {len(acked)} acknowledged messages missing from {name}"
        print(f"\nkill -9: {len(acked)} acknowledged publishes, each in all 3 queues after restart")

        # The key pair survived the restart: the certificate the new server serves (at the
        # path the old message names) verifies a message signed before the kill.
        assert some_envelope is not None
        cert_path = urlsplit(some_envelope["SigningCertURL"]).path
        verify_signature(some_envelope, certificate_url=f"{server.endpoint}{cert_path}")
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# 7. PublishBatch


def test_publish_batch_delivers_ten_entries_and_reports_each(sns, sqs):
    topic_arn = create_topic(sns, "batch")
    queue_url, queue_arn_ = create_queue(sqs, "batch")
    subscribe(sns, topic_arn, "sqs", queue_arn_)
    entries = [{"Id": f"entry-{n}", "Message": f"batch-{n}"} for n in range(10)]
    entries[3]["Subject"] = "third"
    entries[5]["MessageAttributes"] = {"n": {"DataType": "Number", "StringValue": "5"}}
    response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
    assert response.get("Failed", []) == []
    successful = {entry["Id"]: entry["MessageId"] for entry in response["Successful"]}
    assert set(successful) == {entry["Id"] for entry in entries}
    assert len(set(successful.values())) == 10
    envelopes = envelopes_by_id(receive_exactly(sqs, queue_url, 10))
    for n in range(10):
        envelope = envelopes[successful[f"entry-{n}"]]
        assert envelope["Message"] == f"batch-{n}"
        assert ("Subject" in envelope) == (n == 3)
        assert ("MessageAttributes" in envelope) == (n == 5)
    assert envelopes[successful["entry-3"]]["Subject"] == "third"
    assert envelopes[successful["entry-5"]]["MessageAttributes"] == {"n": {"Type": "Number", "Value": "5"}}


def test_publish_batch_reports_failed_entries_and_delivers_the_others(sns, sqs):
    topic_arn = create_topic(sns, "batch-partial")
    queue_url, queue_arn_ = create_queue(sqs, "batch-partial")
    subscribe(sns, topic_arn, "sqs", queue_arn_)
    entries = [{"Id": f"ok-{n}", "Message": f"fine-{n}"} for n in range(8)]
    entries.append({"Id": "bad-structure", "Message": "{not json", "MessageStructure": "json"})
    entries.append({"Id": "no-default", "Message": json.dumps({"sqs": "S"}), "MessageStructure": "json"})
    response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
    assert sorted(entry["Id"] for entry in response["Successful"]) == [f"ok-{n}" for n in range(8)]
    failed = {entry["Id"]: entry for entry in response["Failed"]}
    assert set(failed) == {"bad-structure", "no-default"}
    for entry in failed.values():
        assert entry["Code"] == "InvalidParameter"
        assert entry["SenderFault"] is True
    assert failed["bad-structure"]["Message"] == (
        "Invalid parameter: Message Structure - JSON message body failed to parse"
    )
    assert failed["no-default"]["Message"] == (
        "Invalid parameter: Message Structure - No default entry in JSON message body"
    )
    bodies = sorted(json.loads(message["Body"])["Message"] for message in receive_exactly(sqs, queue_url, 8))
    assert bodies == [f"fine-{n}" for n in range(8)]


def test_publish_batch_rejects_bad_batches_whole(sns, sns_unvalidated, sqs):
    topic_arn = create_topic(sns, "batch-errors")
    queue_url, queue_arn_ = create_queue(sqs, "batch-errors")
    subscribe(sns, topic_arn, "sqs", queue_arn_)

    with pytest.raises(ClientError) as same_ids:
        sns.publish_batch(
            TopicArn=topic_arn,
            PublishBatchRequestEntries=[{"Id": "same", "Message": "a"}, {"Id": "same", "Message": "b"}],
        )
    assert error_code(same_ids) == "BatchEntryIdsNotDistinct"
    assert same_ids.value.response["Error"]["Message"] == "Two or more batch entries in the request have the same Id."

    with pytest.raises(ClientError) as too_many:
        sns_unvalidated.publish_batch(
            TopicArn=topic_arn, PublishBatchRequestEntries=[{"Id": f"e{n}", "Message": "m"} for n in range(11)]
        )
    assert error_code(too_many) == "TooManyEntriesInBatchRequest"
    assert too_many.value.response["Error"]["Message"] == "The batch request contains more entries than permissible."

    with pytest.raises(ClientError) as empty:
        sns_unvalidated.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=[])
    assert error_code(empty) == "EmptyBatchRequest"

    with pytest.raises(ClientError) as bad_id:
        sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=[{"Id": "not valid!", "Message": "m"}])
    assert error_code(bad_id) == "InvalidBatchEntryId"

    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []) == []


# ---------------------------------------------------------------------------------------------
# eddy's default: envelopes to queues unsigned (the fields kept, Signature empty)


def test_without_envelope_signing_queue_envelopes_keep_their_fields_with_an_empty_signature(eddy_endpoint):
    sns_client = make_client("sns", eddy_endpoint)
    sqs_client = make_client("sqs", eddy_endpoint)
    topic_arn = create_topic(sns_client, "unsigned")
    queue_url, queue_arn_ = create_queue(sqs_client, "unsigned")
    subscription_arn = subscribe(sns_client, topic_arn, "sqs", queue_arn_)
    message_id = sns_client.publish(TopicArn=topic_arn, Message="unsigned")["MessageId"]
    [message] = receive_exactly(sqs_client, queue_url, 1)
    envelope = json.loads(message["Body"])
    assert list(envelope) == [key for key in NOTIFICATION_KEYS if key not in ("Subject", "MessageAttributes")]
    assert envelope["MessageId"] == message_id
    assert envelope["SignatureVersion"] == "1"
    assert envelope["Signature"] == ""
    assert envelope["UnsubscribeURL"] == f"{eddy_endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
    assert isinstance(certificate(envelope["SigningCertURL"]).public_key(), rsa.RSAPublicKey)
