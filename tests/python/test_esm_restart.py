"""Event source mappings survive a crash of eddy: messages sent just before `kill -9` (some
received and in flight, some not yet received) are all delivered to the function after a
restart, by the mapping the restarted server loaded from its store."""

from __future__ import annotations

import time

from conftest import make_client, queue_arn, start_eddy
from test_boto3_lambda_esm import create_function, recorded_records, wait_for_state, wait_until_empty

MESSAGES = 60


def test_messages_sent_before_kill_9_are_processed_after_restart(tmp_path):
    data_dir = tmp_path / "data"
    record_file = tmp_path / "records.jsonl"
    server = start_eddy(data_dir)
    try:
        awslambda = make_client("lambda", server.endpoint, read_timeout=60)
        sqs = make_client("sqs", server.endpoint)
        # A slow function and a short visibility timeout: at the kill some messages are
        # in flight (they come back 5 s later), the rest were never received.
        function = create_function(
            awslambda, "esm_app.record", {"RECORD_FILE": str(record_file), "SLEEP_MS": "100"}
        )
        url = sqs.create_queue(QueueName="restart", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
        mapping = awslambda.create_event_source_mapping(
            EventSourceArn=queue_arn("restart"), FunctionName=function, BatchSize=1,
            ScalingConfig={"MaximumConcurrency": 2},
        )
        wait_for_state(awslambda, mapping["UUID"], "Enabled")
        for first in range(0, MESSAGES, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(n), "MessageBody": f"message-{n}"} for n in range(first, first + 10)],
            )
        server.process.kill()
        server.process.wait(timeout=10)
        delivered_before = {record["body"] for record in recorded_records(record_file)}
        assert len(delivered_before) < MESSAGES, "everything was processed before the kill"

        server = start_eddy(data_dir, ["--store", server.store_url])
        awslambda = make_client("lambda", server.endpoint, read_timeout=60)
        sqs = make_client("sqs", server.endpoint)
        url = sqs.get_queue_url(QueueName="restart")["QueueUrl"]
        assert awslambda.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled"
        wait_until_empty(sqs, url, timeout=60)
        deadline = time.monotonic() + 10
        delivered = set()
        while len(delivered) < MESSAGES and time.monotonic() < deadline:
            delivered = {record["body"] for record in recorded_records(record_file)}
            time.sleep(0.1)
        assert delivered == {f"message-{n}" for n in range(MESSAGES)}
        print(f"\nrestart: {len(delivered_before)} of {MESSAGES} delivered before kill -9, the rest after restart")
    finally:
        server.stop()
