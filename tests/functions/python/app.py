"""Handlers for eddy's real-client tests, run by the official Python runtime interface client
(awslambdaric). One module, several handlers: the tests pick one through the function's Handler."""
import os
import sys
import time

# Counts invocations served by this process: a warm environment keeps counting.
INVOCATIONS = 0


def echo(event, context):
    """Returns the event and what the handler sees; sleeps on {"sleep": s}, exits the
    process on {"exit": n} (mid-invocation, no reply)."""
    global INVOCATIONS
    INVOCATIONS += 1
    if isinstance(event, dict) and "sleep" in event:
        time.sleep(event["sleep"])
    if isinstance(event, dict) and "exit" in event:
        print("about to exit", flush=True)
        os._exit(event["exit"])
    return {
        "echo": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "client_context_custom": (
            context.client_context.custom if context.client_context else None
        ),
        "invoked_function_arn": context.invoked_function_arn,
        "invocations": INVOCATIONS,
        "environment": {
            name: os.environ.get(name)
            for name in [
                "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "AWS_REGION",
                "AWS_ENDPOINT_URL",
                "AWS_EXECUTION_ENV",
                "AWS_LAMBDA_MAX_CONCURRENCY",
                "LAMBDA_TASK_ROOT",
                "_HANDLER",
                "GREETING",
                "_X_AMZN_TRACE_ID",
            ]
        },
    }


def fail(event, context):
    raise ValueError("boom")


def log(event, context):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    return None


def allocate(event, context):
    """Allocates {"mb": n} megabytes and touches every page, so they are resident (a
    memory cgroup counts them) as well as mapped (RLIMIT_AS counts them)."""
    size = int(event["mb"]) * 1024 * 1024
    block = bytearray(size)
    for offset in range(0, size, 4096):
        block[offset] = 1
    print(f"allocated {event['mb']} MB", flush=True)
    return {"allocated_mb": event["mb"], "pid": os.getpid()}
