"""Queue-triggered handlers for eddy's event source mapping tests, run by the official
Python runtime interface client (awslambdaric).

- record: appends each event it gets (with the time and this process's pid) as one JSON
  line to the file named by RECORD_FILE; sleeps SLEEP_MS first if set.
- partial: records too, then reports every record whose body is JSON with "fail": true
  as a batch item failure (for ReportBatchItemFailures).
- save_draft: the drafts scenario. Each message is one save of a draft,
  {"draft": id, "version": "1.2", "text": ...}; the draft is stored only if the stored
  version is older (a conditional write in one SQLite transaction, BEGIN IMMEDIATE), in
  the database file named by DRAFTS_DB.
"""
import fcntl
import json
import os
import sqlite3
import time


def _append(event):
    path = os.environ["RECORD_FILE"]
    line = json.dumps({"time": time.time(), "pid": os.getpid(), "event": event})
    with open(path, "a", encoding="utf-8") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        log.write(line + "\n")
        log.flush()
        fcntl.flock(log, fcntl.LOCK_UN)


def record(event, context):
    sleep_ms = int(os.environ.get("SLEEP_MS", "0"))
    if sleep_ms:
        time.sleep(sleep_ms / 1000)
    _append(event)
    return None


def partial(event, context):
    _append(event)
    failures = []
    for item in event["Records"]:
        try:
            body = json.loads(item["body"])
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("fail"):
            failures.append({"itemIdentifier": item["messageId"]})
    return {"batchItemFailures": failures}


def _version(text):
    """"1.10" -> (1, 10), so versions compare as numbers, not strings."""
    return tuple(int(part) for part in text.split("."))


def save_draft(event, context):
    database = sqlite3.connect(os.environ["DRAFTS_DB"], timeout=30, isolation_level=None)
    try:
        database.execute(
            "CREATE TABLE IF NOT EXISTS drafts (id TEXT PRIMARY KEY, version TEXT NOT NULL, text TEXT)"
        )
        database.execute(
            "CREATE TABLE IF NOT EXISTS saves (id TEXT, version TEXT, applied INTEGER, pid INTEGER)"
        )
        for item in event["Records"]:
            save = json.loads(item["body"])
            # The compare-and-set: read and write in one write transaction, so two
            # environments saving the same draft at once cannot both see the old version.
            database.execute("BEGIN IMMEDIATE")
            try:
                row = database.execute(
                    "SELECT version FROM drafts WHERE id = ?", (save["draft"],)
                ).fetchone()
                applied = row is None or _version(row[0]) < _version(save["version"])
                if applied:
                    database.execute(
                        "INSERT INTO drafts (id, version, text) VALUES (?, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET version = excluded.version, text = excluded.text",
                        (save["draft"], save["version"], save.get("text")),
                    )
                database.execute(
                    "INSERT INTO saves (id, version, applied, pid) VALUES (?, ?, ?, ?)",
                    (save["draft"], save["version"], int(applied), os.getpid()),
                )
                database.execute("COMMIT")
            except BaseException:
                database.execute("ROLLBACK")
                raise
    finally:
        database.close()
    return None
