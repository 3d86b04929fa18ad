"""The scenario eddy exists for, end to end: a client fires three saves of a draft (v1.0,
v1.1, v1.2) into a queue in the order v1.2, v1.0, v1.1 without waiting; a queue-triggered
Python function with several concurrent environments stores each save only if the stored
version is older (a compare-and-set in one SQLite transaction). Whatever order the saves
are processed in, every draft ends as v1.2. The README's "Queue triggers" example is this
function (tests/functions/python/esm_app.py, `save_draft`)."""

from __future__ import annotations

import json
import sqlite3
import time

from conftest import queue_arn
from test_boto3_lambda_esm import awslambda, create_function, wait_for_state, wait_until_empty  # noqa: F401

DRAFTS = 20
# The client's order: the newest save first, then the two older ones.
SENT_ORDER = ["1.2", "1.0", "1.1"]


def test_every_draft_ends_at_its_newest_version(awslambda, sqs, queue_name, tmp_path):
    database = tmp_path / "drafts.db"
    function = create_function(awslambda, "esm_app.save_draft", {"DRAFTS_DB": str(database)})
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    mapping = awslambda.create_event_source_mapping(
        EventSourceArn=queue_arn(queue_name),
        FunctionName=function,
        BatchSize=1,
        ScalingConfig={"MaximumConcurrency": 5},
    )
    wait_for_state(awslambda, mapping["UUID"], "Enabled")

    started = time.monotonic()
    for draft in range(DRAFTS):
        # One request carries the three saves: nothing waits for anything in between.
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": version.replace(".", "-"),
                    "MessageBody": json.dumps({"draft": f"draft-{draft}", "version": version, "text": f"v{version}"}),
                }
                for version in SENT_ORDER
            ],
        )
    wait_until_empty(sqs, url, timeout=120)
    elapsed = time.monotonic() - started

    with sqlite3.connect(database) as connection:
        stored = dict(connection.execute("SELECT id, version FROM drafts").fetchall())
        saves = connection.execute("SELECT id, version, applied, pid FROM saves").fetchall()
    assert stored == {f"draft-{draft}": "1.2" for draft in range(DRAFTS)}
    assert len(saves) == DRAFTS * len(SENT_ORDER)
    refused = sum(1 for _, _, applied, _ in saves if not applied)
    environments = len({pid for *_, pid in saves})
    assert environments >= 2, "the saves were not processed by concurrent environments"
    print(
        f"\ndrafts scenario: {DRAFTS} drafts x {len(SENT_ORDER)} saves in {elapsed:.2f} s, "
        f"{environments} environments, {refused} stale saves refused by the conditional write"
    )
