"""Handlers for eddy's asynchronous-invocation tests, run by the official Python runtime
interface client (awslambdaric). Each attempt leaves a trace the test can count: a line in
the file named by the ATTEMPTS_FILE environment variable."""
import json
import os
import time


def _note_attempt(event, context):
    path = os.environ.get("ATTEMPTS_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as attempts:
            attempts.write(json.dumps({"request_id": context.aws_request_id, "event": event}) + "\n")


def record(event, context):
    """Notes the attempt; fails with ValueError("boom") on {"fail": …}, else returns the
    event; sleeps first on {"sleep": seconds}."""
    _note_attempt(event, context)
    if isinstance(event, dict) and "sleep" in event:
        time.sleep(event["sleep"])
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("boom")
    return {"ok": True, "event": event}
