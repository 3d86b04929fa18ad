"""Fixtures of the end-to-end suites: a real `eddy serve` process and clients pointed at it.

The server binary comes from EDDY_BIN (default target/debug/eddy). Each pytest process
(each xdist worker) starts one eddy on a free loopback port with a temporary data
directory; tests share it and stay independent by using unique queue names.

The store is SQLite in that data directory, unless EDDY_TEST_STORE=postgres: then each eddy
gets a fresh database on the PostgreSQL server named by EDDY_TEST_POSTGRES_URL (scripts/test
starts one with scripts/postgres and exports its URL), created with psql.
"""

from __future__ import annotations

import glob
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.session
import pytest
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "000000000000"
REGION = "us-east-1"

# The legacy suite needs a botocore whose SQS model still speaks the query protocol; the
# current one speaks JSON, so under it the legacy directory is skipped (scripts/test runs it
# from its own virtual environment).
SQS_PROTOCOL = botocore.session.get_session().get_service_model("sqs").protocol
collect_ignore = ["legacy"] if SQS_PROTOCOL != "query" else []


def eddy_binary() -> Path:
    configured = os.environ.get("EDDY_BIN")
    path = Path(configured) if configured else REPO_ROOT / "target" / "debug" / "eddy"
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.exists():
        pytest.exit(f"eddy binary not found at {path}; run `cargo build -p eddy` or set EDDY_BIN")
    return path


def store_backend() -> str:
    """`sqlite` or `postgres`, as EDDY_TEST_STORE asks (unset: sqlite)."""
    value = os.environ.get("EDDY_TEST_STORE", "").strip().lower()
    if value in ("", "sqlite"):
        return "sqlite"
    if value in ("postgres", "postgresql"):
        return "postgres"
    pytest.exit(f"EDDY_TEST_STORE={value!r}: expected `sqlite` or `postgres`")


def psql_binary() -> str:
    found = shutil.which("psql")
    if found:
        return found
    installed = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/psql"),
        key=lambda path: int(re.sub(r"\D", "", Path(path).parts[-3]) or 0),
    )
    if not installed:
        pytest.exit("EDDY_TEST_STORE=postgres needs psql (on PATH or under /usr/lib/postgresql/*/bin)")
    return installed[-1]


def fresh_postgres_url() -> str:
    """Creates a database with a fresh name on the test PostgreSQL server; returns its URL."""
    admin_url = os.environ.get("EDDY_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.exit(
            "EDDY_TEST_STORE=postgres needs EDDY_TEST_POSTGRES_URL: run ./scripts/test, or start a "
            "server with `scripts/postgres start` and set EDDY_TEST_POSTGRES_URL to the URL it prints"
        )
    name = f"eddy_test_{uuid.uuid4().hex}"
    result = subprocess.run(
        [psql_binary(), admin_url, "-v", "ON_ERROR_STOP=1", "-Atqc", f"CREATE DATABASE {name}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"CREATE DATABASE {name} on {admin_url} failed: {result.stderr.strip()}")
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


@dataclass
class EddyProcess:
    """One running `eddy serve`; stop() sends SIGTERM, then SIGKILL if it lingers."""

    process: subprocess.Popen
    endpoint: str
    log_path: Path
    store_url: str = ""
    _drain: threading.Thread | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_eddy(
    data_dir: Path, extra_args: list[str] | None = None, env: dict | None = None, cwd: Path | None = None
) -> EddyProcess:
    """Starts eddy on 127.0.0.1:0 and waits (bounded) for its `listening on` line.

    Its store is SQLite in `data_dir`, or a fresh PostgreSQL database with
    EDDY_TEST_STORE=postgres, unless `extra_args` name one with `--store`. With `cwd`, eddy
    runs there and a relative `data_dir` is passed to it as it is."""
    (cwd / data_dir if cwd is not None else data_dir).mkdir(parents=True, exist_ok=True)
    extra_args = list(extra_args or [])
    if "--store" not in extra_args:
        store_url = fresh_postgres_url() if store_backend() == "postgres" else f"sqlite:{data_dir}"
        extra_args = ["--store", store_url, *extra_args]
    else:
        store_url = extra_args[extra_args.index("--store") + 1]
    log_path = (cwd / data_dir if cwd is not None else data_dir).parent / f"{data_dir.name}.stderr.log"
    process_env = dict(os.environ)
    process_env.setdefault("EDDY_LOG", "warn")
    # Python functions run under this interpreter: the test venv's, which has awslambdaric.
    process_env.setdefault("EDDY_LAMBDA_PYTHON", sys.executable)
    process_env.update(env or {})
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [str(eddy_binary()), "serve", "--bind", "127.0.0.1:0", "--data-dir", str(data_dir), *extra_args],
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=process_env,
            cwd=cwd,
        )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    first_line = b""
    while not first_line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            break
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if not ready:
            break
        chunk = os.read(process.stdout.fileno(), 1)
        if not chunk:
            break
        first_line += chunk
    line = first_line.decode(errors="replace").strip()
    match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if not match:
        process.kill()
        process.wait(timeout=5)
        raise RuntimeError(
            f"eddy did not announce its address (first line {line!r}); stderr:\n"
            + log_path.read_text(errors="replace")[-4000:]
        )

    # Keep reading stdout so the server never blocks on a full pipe.
    def drain() -> None:
        stdout = process.stdout
        while stdout is not None and stdout.read(65536):
            pass

    drain_thread = threading.Thread(target=drain, daemon=True)
    drain_thread.start()
    return EddyProcess(
        process=process, endpoint=match.group(1), log_path=log_path, store_url=store_url, _drain=drain_thread
    )


@pytest.fixture(scope="session")
def eddy_server(tmp_path_factory):
    server = start_eddy(tmp_path_factory.mktemp("eddy") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def eddy_endpoint(eddy_server) -> str:
    """`http://127.0.0.1:<port>` of the shared server."""
    return eddy_server.endpoint


def client_config(**overrides) -> Config:
    # One attempt only: a test of an error must see the error, not a retry of it.
    settings = dict(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=40)
    settings.update(overrides)
    return Config(**settings)


def make_client(service: str, endpoint: str, access_key: str = "AKIDEXAMPLE", secret_key: str = "secret", **config):
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=client_config(**config),
    )


@pytest.fixture(scope="session")
def sqs(eddy_endpoint):
    return make_client("sqs", eddy_endpoint)


@pytest.fixture(scope="session")
def sqs_unvalidated(eddy_endpoint):
    """A client that sends what it is given, so the server's own validation is tested."""
    return make_client("sqs", eddy_endpoint, parameter_validation=False)


@pytest.fixture(scope="session")
def sts(eddy_endpoint):
    return make_client("sts", eddy_endpoint)


@pytest.fixture
def queue_name(request) -> str:
    """A queue name unique to this test (valid SQS name, ≤ 80 characters)."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:50]
    return f"{base}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def queue_url(sqs, queue_name) -> str:
    return sqs.create_queue(QueueName=queue_name)["QueueUrl"]


@pytest.fixture
def fifo_queue_url(sqs, queue_name) -> str:
    return sqs.create_queue(QueueName=f"{queue_name[:70]}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def receive_all(sqs, url: str, expected: int, timeout: float = 10.0, **kwargs) -> list[dict]:
    """Receives until `expected` messages arrived or `timeout` passed (bounded long polls)."""
    received: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(received) < expected and time.monotonic() < deadline:
        wait = max(0, min(2, int(deadline - time.monotonic())))
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, expected - len(received)), WaitTimeSeconds=wait, **kwargs
        )
        received.extend(response.get("Messages", []))
    return received


AWS_CLI = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def aws(eddy_endpoint, tmp_path_factory):
    """Runs `aws --endpoint-url <eddy> ARGS… --output json` and returns the parsed output."""
    if not AWS_CLI.exists():
        pytest.skip(f"AWS CLI not installed next to {sys.executable}")
    home = tmp_path_factory.mktemp("aws-home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Keep any configuration of the machine's user out of the test.
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    }

    def run(*args: str, expect_failure: bool = False):
        completed = subprocess.run(
            [str(AWS_CLI), "--endpoint-url", eddy_endpoint, "--output", "json", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if expect_failure:
            assert completed.returncode != 0, completed.stdout
            return completed.stderr
        assert completed.returncode == 0, f"aws {' '.join(args)} failed:\n{completed.stderr}"
        return json.loads(completed.stdout) if completed.stdout.strip() else {}

    return run
