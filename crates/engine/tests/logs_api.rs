//! The CloudWatch Logs API through the `Engine`, on log events written straight into the
//! runner's log groups on a manual clock (no processes run here): time ranges, the paging
//! tokens of each call, stream ordering, filter patterns, account isolation and errors.

mod common;

use std::sync::Arc;

use common::{Harness, START, TestResult};
use engine::Error;
use engine::lambda::{
    FunctionLog, FunctionPlatform, FunctionRunner, LambdaConfig, RuntimeApi, RuntimeApiServer,
};
use engine::logs::{
    DescribeLogGroupsInput, DescribeLogStreamsInput, FilterLogEventsInput, GetLogEventsInput,
    LogGroupRef,
};
use engine::{CancellationToken, Engine};

const ACCOUNT: &str = "000000000000";
const GROUP: &str = "/aws/lambda/f";

/// Never started: these tests run no environments.
struct NoRuntimeApi;

impl RuntimeApiServer for NoRuntimeApi {
    fn serve(&self, _: tokio::net::TcpListener, _: RuntimeApi, _: CancellationToken) {}
}

/// A harness whose engine has a runner on the harness's clock.
async fn harness() -> TestResult<(Harness, FunctionRunner)> {
    let h = Harness::new().await?;
    let runner = FunctionRunner::new(
        LambdaConfig {
            clock: Arc::new(h.clock.clone()),
            ..LambdaConfig::default()
        },
        Arc::new(NoRuntimeApi),
    );
    h.engine.set_function_platform(FunctionPlatform {
        runner: runner.clone(),
        data_dir: std::env::temp_dir(),
        concurrency: engine::lambda::ConcurrencyGate::new(
            engine::lambda::DEFAULT_CONCURRENCY_LIMIT,
        ),
    });
    Ok((h, runner))
}

fn group_ref(name: &str) -> LogGroupRef {
    LogGroupRef {
        name: Some(name.to_string()),
        identifier: None,
    }
}

/// Writes `messages` to `stream` of `log`, one millisecond apart.
fn write(h: &Harness, log: &FunctionLog, stream: &str, messages: &[&str]) {
    let stream: Arc<str> = Arc::from(stream);
    for message in messages {
        log.push(&stream, message);
        h.clock.advance(1);
    }
}

async fn get(
    engine: &Engine,
    stream: &str,
    next_token: Option<String>,
    limit: i64,
    start_from_head: bool,
) -> TestResult<(Vec<String>, String, String)> {
    let output = engine
        .get_log_events(
            ACCOUNT,
            GetLogEventsInput {
                group: group_ref(GROUP),
                log_stream_name: Some(stream.to_string()),
                next_token,
                limit: Some(limit),
                start_from_head: Some(start_from_head),
                ..GetLogEventsInput::default()
            },
        )
        .await?;
    let messages = output
        .events
        .into_iter()
        .map(|event| event.message)
        .collect();
    Ok((
        messages,
        output.next_forward_token,
        output.next_backward_token,
    ))
}

#[tokio::test]
async fn get_log_events_pages_forward_until_the_same_token_comes_back() -> TestResult {
    let (h, runner) = harness().await?;
    let log = runner.log_groups().group(ACCOUNT, GROUP);
    write(&h, &log, "s", &["a", "b", "c", "d", "e"]);
    write(&h, &log, "other", &["x"]);

    let mut seen = Vec::new();
    let mut token = None;
    for _ in 0..10 {
        let (messages, forward, _) = get(&h.engine, "s", token.clone(), 2, true).await?;
        seen.extend(messages);
        if token.as_ref() == Some(&forward) {
            break;
        }
        token = Some(forward);
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);

    // New events show up behind the last forward token.
    let end = token.ok_or("a forward token")?;
    write(&h, &log, "s", &["f"]);
    let (messages, forward, _) = get(&h.engine, "s", Some(end.clone()), 10, true).await?;
    assert_eq!(messages, ["f"]);
    assert_ne!(forward, end);
    Ok(())
}

#[tokio::test]
async fn get_log_events_starts_from_the_end_and_pages_backward() -> TestResult {
    let (h, runner) = harness().await?;
    let log = runner.log_groups().group(ACCOUNT, GROUP);
    write(&h, &log, "s", &["a", "b", "c", "d", "e"]);
    let (latest, _, backward) = get(&h.engine, "s", None, 2, false).await?;
    assert_eq!(latest, ["d", "e"]);
    let (earlier, _, backward) = get(&h.engine, "s", Some(backward), 2, false).await?;
    assert_eq!(earlier, ["b", "c"]);
    let (first, _, backward) = get(&h.engine, "s", Some(backward), 2, false).await?;
    assert_eq!(first, ["a"]);
    let (none, _, again) = get(&h.engine, "s", Some(backward.clone()), 2, false).await?;
    assert!(none.is_empty());
    assert_eq!(again, backward);
    Ok(())
}

#[tokio::test]
async fn get_log_events_end_time_is_exclusive_and_filter_end_time_inclusive() -> TestResult {
    let (h, runner) = harness().await?;
    let log = runner.log_groups().group(ACCOUNT, GROUP);
    // Timestamps START, START+1, START+2.
    write(&h, &log, "s", &["a", "b", "c"]);
    let got = h
        .engine
        .get_log_events(
            ACCOUNT,
            GetLogEventsInput {
                group: group_ref(GROUP),
                log_stream_name: Some("s".to_string()),
                start_time: Some(START + 1),
                end_time: Some(START + 2),
                start_from_head: Some(true),
                ..GetLogEventsInput::default()
            },
        )
        .await?;
    let messages: Vec<_> = got.events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["b"]);
    let filtered = h
        .engine
        .filter_log_events(
            ACCOUNT,
            FilterLogEventsInput {
                group: group_ref(GROUP),
                start_time: Some(START + 1),
                end_time: Some(START + 2),
                ..FilterLogEventsInput::default()
            },
        )
        .await?;
    let messages: Vec<_> = filtered.events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["b", "c"]);
    Ok(())
}

#[tokio::test]
async fn filter_log_events_matches_patterns_across_streams_and_pages() -> TestResult {
    let (h, runner) = harness().await?;
    let log = runner.log_groups().group(ACCOUNT, GROUP);
    write(&h, &log, "one", &["ERROR disk full", "INFO ok"]);
    write(
        &h,
        &log,
        "two",
        &["ERROR timed out", "Task timed out after 3.00 seconds"],
    );

    let filter =
        |pattern: &str, next_token: Option<String>, limit: Option<i64>| FilterLogEventsInput {
            group: group_ref(GROUP),
            filter_pattern: Some(pattern.to_string()),
            next_token,
            limit,
            ..FilterLogEventsInput::default()
        };
    let errors = h
        .engine
        .filter_log_events(ACCOUNT, filter("ERROR", None, None))
        .await?;
    let streams: Vec<_> = errors
        .events
        .iter()
        .map(|e| e.log_stream_name.as_str())
        .collect();
    assert_eq!(streams, ["one", "two"]);
    assert_eq!(errors.next_token, None);
    assert!(errors.events.iter().all(|e| e.event_id.len() == 56));

    let phrase = h
        .engine
        .filter_log_events(ACCOUNT, filter("\"timed out\"", None, None))
        .await?;
    assert_eq!(phrase.events.len(), 2);

    // One event a page: a token while more match, none after the last.
    let mut messages = Vec::new();
    let mut token = None;
    for _ in 0..10 {
        let page = h
            .engine
            .filter_log_events(ACCOUNT, filter("", token, Some(1)))
            .await?;
        messages.extend(page.events.into_iter().map(|e| e.message));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[3], "Task timed out after 3.00 seconds");

    let only_two = h
        .engine
        .filter_log_events(
            ACCOUNT,
            FilterLogEventsInput {
                group: group_ref(GROUP),
                log_stream_names: Some(vec!["two".to_string()]),
                ..FilterLogEventsInput::default()
            },
        )
        .await?;
    assert!(only_two.events.iter().all(|e| e.log_stream_name == "two"));
    assert_eq!(only_two.events.len(), 2);

    assert!(matches!(
        h.engine
            .filter_log_events(ACCOUNT, filter("{ $.level = \"x\" }", None, None))
            .await,
        Err(Error::LogsInvalidParameter(_))
    ));
    Ok(())
}

#[tokio::test]
async fn log_streams_order_by_name_or_last_event_time() -> TestResult {
    let (h, runner) = harness().await?;
    let log = runner.log_groups().group(ACCOUNT, GROUP);
    write(&h, &log, "b", &["1"]);
    write(&h, &log, "a", &["2"]);
    write(&h, &log, "c", &["3"]);
    write(&h, &log, "b", &["4"]);
    let describe =
        |order_by: Option<&str>, descending, next_token, limit| DescribeLogStreamsInput {
            group: group_ref(GROUP),
            order_by: order_by.map(str::to_string),
            descending: Some(descending),
            next_token,
            limit,
            ..DescribeLogStreamsInput::default()
        };
    let names = |output: &engine::logs::DescribeLogStreamsOutput| -> Vec<String> {
        output
            .log_streams
            .iter()
            .map(|s| s.log_stream_name.clone())
            .collect()
    };
    let by_name = h
        .engine
        .describe_log_streams(ACCOUNT, describe(None, false, None, None))
        .await?;
    assert_eq!(names(&by_name), ["a", "b", "c"]);
    let recent = h
        .engine
        .describe_log_streams(
            ACCOUNT,
            describe(Some("LastEventTime"), true, None, Some(2)),
        )
        .await?;
    assert_eq!(names(&recent), ["b", "c"]);
    let rest = h
        .engine
        .describe_log_streams(
            ACCOUNT,
            describe(
                Some("LastEventTime"),
                true,
                recent.next_token.clone(),
                Some(2),
            ),
        )
        .await?;
    assert_eq!(names(&rest), ["a"]);
    assert_eq!(rest.next_token, None);
    let b = &by_name.log_streams[1];
    assert_eq!(b.first_event_timestamp, Some(START));
    assert_eq!(b.last_event_timestamp, Some(START + 3));
    assert_eq!(
        b.arn,
        "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:log-stream:b"
    );

    let prefix_with_time = DescribeLogStreamsInput {
        log_stream_name_prefix: Some("a".to_string()),
        ..describe(Some("LastEventTime"), false, None, None)
    };
    assert!(matches!(
        h.engine.describe_log_streams(ACCOUNT, prefix_with_time).await,
        Err(Error::LogsInvalidParameter(m)) if m.contains("LastEventTime")
    ));
    Ok(())
}

#[tokio::test]
async fn log_groups_belong_to_their_account_and_page_by_name() -> TestResult {
    let (h, runner) = harness().await?;
    for name in [
        "/aws/lambda/c",
        "/aws/lambda/a",
        "/aws/lambda/b",
        "/custom/a",
    ] {
        runner.log_groups().group(ACCOUNT, name);
    }
    runner.log_groups().group("111111111111", "/aws/lambda/z");
    let first = h
        .engine
        .describe_log_groups(
            ACCOUNT,
            DescribeLogGroupsInput {
                log_group_name_prefix: Some("/aws/lambda/".to_string()),
                limit: Some(2),
                ..DescribeLogGroupsInput::default()
            },
        )
        .await?;
    let names: Vec<_> = first
        .log_groups
        .iter()
        .map(|g| g.log_group_name.as_str())
        .collect();
    assert_eq!(names, ["/aws/lambda/a", "/aws/lambda/b"]);
    assert_eq!(
        first.log_groups[0].arn,
        "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/a:*"
    );
    let second = h
        .engine
        .describe_log_groups(
            ACCOUNT,
            DescribeLogGroupsInput {
                log_group_name_prefix: Some("/aws/lambda/".to_string()),
                next_token: first.next_token,
                ..DescribeLogGroupsInput::default()
            },
        )
        .await?;
    let names: Vec<_> = second
        .log_groups
        .iter()
        .map(|g| g.log_group_name.as_str())
        .collect();
    assert_eq!(names, ["/aws/lambda/c"]);
    assert_eq!(second.next_token, None);

    let pattern = h
        .engine
        .describe_log_groups(
            ACCOUNT,
            DescribeLogGroupsInput {
                log_group_name_pattern: Some("a".to_string()),
                ..DescribeLogGroupsInput::default()
            },
        )
        .await?;
    // Every name has an `a` (in `lambda` or at the end); the pattern leaves out
    // storedBytes and the other fields.
    assert_eq!(pattern.log_groups.len(), 4);
    assert!(pattern.log_groups.iter().all(|g| g.stored_bytes.is_none()));

    // The other account's group is not found here, by name or ARN.
    let other = GetLogEventsInput {
        group: LogGroupRef {
            name: None,
            identifier: Some(
                "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/z:*".to_string(),
            ),
        },
        log_stream_name: Some("s".to_string()),
        ..GetLogEventsInput::default()
    };
    assert!(matches!(
        h.engine.get_log_events(ACCOUNT, other.clone()).await,
        Err(Error::LogsResourceNotFound(m)) if m == "The specified log group does not exist."
    ));
    assert!(matches!(
        h.engine.get_log_events("111111111111", other).await,
        Err(Error::LogsResourceNotFound(m)) if m == "The specified log stream does not exist."
    ));
    Ok(())
}

#[tokio::test]
async fn parameters_that_exclude_each_other_are_invalid() -> TestResult {
    let (h, _runner) = harness().await?;
    let both = DescribeLogGroupsInput {
        log_group_name_prefix: Some("/a".to_string()),
        log_group_name_pattern: Some("a".to_string()),
        ..DescribeLogGroupsInput::default()
    };
    assert!(matches!(
        h.engine.describe_log_groups(ACCOUNT, both).await,
        Err(Error::LogsInvalidParameter(_))
    ));
    let name_and_arn = FilterLogEventsInput {
        group: LogGroupRef {
            name: Some(GROUP.to_string()),
            identifier: Some(GROUP.to_string()),
        },
        ..FilterLogEventsInput::default()
    };
    assert!(matches!(
        h.engine.filter_log_events(ACCOUNT, name_and_arn).await,
        Err(Error::LogsInvalidParameter(_))
    ));
    let too_many = DescribeLogGroupsInput {
        limit: Some(51),
        ..DescribeLogGroupsInput::default()
    };
    assert!(matches!(
        h.engine.describe_log_groups(ACCOUNT, too_many).await,
        Err(Error::LogsInvalidParameter(m)) if m.contains("less than or equal to 50")
    ));
    let bad_token = GetLogEventsInput {
        group: group_ref(GROUP),
        log_stream_name: Some("s".to_string()),
        next_token: Some("nonsense".to_string()),
        ..GetLogEventsInput::default()
    };
    assert!(matches!(
        h.engine.get_log_events(ACCOUNT, bad_token).await,
        Err(Error::LogsInvalidParameter(_))
    ));
    Ok(())
}
